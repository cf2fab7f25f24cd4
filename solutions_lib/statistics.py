"""Estimators, their bias and variance, maximum likelihood and risk (chapter 01).

Every function here follows the convention of chapter 01 (The learning recipe, probability,
estimators): a data set of ``n`` samples lies along one dimension of a tensor (``dim``, the last one
by default), so a batch of independent data sets of shape ``(trials, n)`` is handled in one call and
gives one estimate per data set. Randomness is always passed in (a ``torch.Generator`` or the
samples themselves). Signatures carry no annotations, so that they are identical to the ones the
notebook asks students to fill in; the docstrings give the types and shapes.
"""
from __future__ import annotations

import math
import torch

__all__ = [
    "sample_mean",
    "sample_variance",
    "unbiased_variance",
    "plugin_variance_bias",
    "bias_variance_mse",
    "gaussian_mle",
    "gaussian_nll",
    "standardized_means",
    "empirical_risk",
    "huber_loss",
    "huber_grad",
    "gaussian_map_mean",
    "shrink_group_means",
    "consistency_answer",
    "cramer_rao_answer",
    "robust_loss_answer",
]


def sample_mean(x, dim=-1):
    r"""The sample mean :math:`\bar x = \frac1n \sum_i x_i` along one dimension.

    Introduced in chapter 01 (The learning recipe, probability, estimators).

    Args:
        x: samples, shape ``(..., n, ...)`` with the ``n`` samples along ``dim``.
        dim: the dimension that holds the samples (default: the last one).

    Returns:
        The mean over ``dim``, shape of ``x`` without ``dim``; same dtype and device as ``x``.

    Example::

        >>> sample_mean(torch.tensor([[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]]))
        tensor([2., 6.])
    """
    return x.sum(dim=dim) / x.shape[dim]


def sample_variance(x, dim=-1):
    r"""The plug-in (maximum-likelihood) variance :math:`\frac1n \sum_i (x_i - \bar x)^2`.

    Introduced in chapter 01 (The learning recipe, probability, estimators). It divides by ``n``
    (``torch.var(x, dim, correction=0)``) and is biased low by :math:`\sigma^2/n`; see
    :func:`unbiased_variance` for the Bessel-corrected version. Two passes (mean first, then the
    squared deviations) keep it accurate when the data sit far from zero.

    Args:
        x: samples, shape ``(..., n, ...)`` with the ``n >= 1`` samples along ``dim``.
        dim: the dimension that holds the samples (default: the last one).

    Returns:
        The plug-in variance over ``dim``, shape of ``x`` without ``dim``; same dtype as ``x``.

    Example::

        >>> sample_variance(torch.tensor([1.0, 2.0, 3.0, 4.0]))
        tensor(1.2500)
    """
    deviations = x - x.mean(dim=dim, keepdim=True)
    return (deviations * deviations).sum(dim=dim) / x.shape[dim]


def unbiased_variance(x, dim=-1):
    r"""The Bessel-corrected variance :math:`\frac{1}{n-1} \sum_i (x_i - \bar x)^2`.

    Introduced in chapter 01 (The learning recipe, probability, estimators). Its expectation is the
    true variance for every ``n >= 2`` (``torch.var(x, dim)`` with its default ``correction=1``).

    Args:
        x: samples, shape ``(..., n, ...)`` with ``n >= 2`` samples along ``dim``.
        dim: the dimension that holds the samples (default: the last one).

    Returns:
        The unbiased variance over ``dim``, shape of ``x`` without ``dim``; same dtype as ``x``
        (NaN, from 0/0, where ``dim`` holds a single sample).

    Example::

        >>> unbiased_variance(torch.tensor([1.0, 2.0, 3.0, 4.0]))
        tensor(1.6667)
    """
    n = x.shape[dim]
    deviations = x - x.mean(dim=dim, keepdim=True)
    return (deviations * deviations).sum(dim=dim) / (n - 1)


def plugin_variance_bias(sigma2, n):
    r"""The bias :math:`\mathbb E[\hat\sigma^2_{\text{plug-in}}] - \sigma^2 = -\sigma^2/n` of the plug-in variance.

    Introduced in chapter 01 (The learning recipe, probability, estimators). From
    :math:`\mathbb E[\frac1n\sum_i (X_i-\bar X)^2] = \frac{n-1}{n}\sigma^2` for ``n`` i.i.d. samples
    of any distribution with variance :math:`\sigma^2`.

    Args:
        sigma2: the true variance :math:`\sigma^2`, a number or a tensor of any shape.
        n: the sample size(s), an int or a tensor broadcastable against ``sigma2``.

    Returns:
        :math:`-\sigma^2/n`, broadcast shape of the inputs (a float for float inputs).

    Example::

        >>> plugin_variance_bias(4.0, 8)
        -0.5
        >>> plugin_variance_bias(torch.tensor([1.0, 2.0]), torch.tensor([2, 4]))
        tensor([-0.5000, -0.5000])
    """
    return -sigma2 / n


def bias_variance_mse(estimator, sampler, true_value, n_trials, generator):
    r"""Monte Carlo bias, variance and mean squared error of an estimator.

    Introduced in chapter 01 (The learning recipe, probability, estimators). Draws all ``n_trials``
    data sets in one call ``samples = sampler(n_trials, generator)`` (shape ``(n_trials, n)``),
    computes ``estimates = estimator(samples)`` (shape ``(n_trials,)``), and returns

    * bias :math:`= \bar\theta - \theta` with :math:`\bar\theta` the mean of the estimates,
    * variance :math:`= \frac1T \sum_t (\hat\theta_t - \bar\theta)^2` (plug-in, divide by ``T``),
    * MSE :math:`= \frac1T \sum_t (\hat\theta_t - \theta)^2`.

    With the plug-in variance over trials, MSE = bias² + variance holds exactly on the simulated
    numbers (up to rounding), not only in expectation.

    Args:
        estimator: maps data sets of shape ``(T, n)`` to estimates of shape ``(T,)``.
        sampler: ``sampler(T, generator)`` returns ``T`` independent data sets, shape ``(T, n)``.
        true_value: the true value :math:`\theta` of the estimated quantity (a number or 0-d tensor).
        n_trials: the number ``T`` of simulated data sets.
        generator: the random number generator handed to ``sampler``.

    Returns:
        ``(bias, variance, mse)``, three 0-d tensors of the estimates' dtype.

    Example::

        >>> g = torch.Generator().manual_seed(0)
        >>> draw = lambda t, gen: torch.randn(t, 5, generator=gen, dtype=torch.float64)
        >>> bias, var, mse = bias_variance_mse(sample_variance, draw, 1.0, 20000, g)
        >>> round(bias.item(), 1), bool(torch.isclose(mse, bias**2 + var))
        (-0.2, True)
    """
    samples = sampler(n_trials, generator)
    estimates = estimator(samples)
    true = torch.as_tensor(true_value, dtype=estimates.dtype, device=estimates.device)
    center = estimates.mean()
    bias = center - true
    variance = ((estimates - center) ** 2).mean()
    mse = ((estimates - true) ** 2).mean()
    return bias, variance, mse


def gaussian_mle(x, dim=-1):
    r"""Maximum-likelihood mean and variance of a Gaussian fitted to samples.

    Introduced in chapter 01 (The learning recipe, probability, estimators). Setting the gradient of
    the log-likelihood to zero gives :math:`\hat\mu = \frac1n\sum_i x_i` and
    :math:`\hat\sigma^2 = \frac1n\sum_i (x_i-\hat\mu)^2` (divide by ``n``: the MLE is the plug-in
    variance, biased for finite ``n``).

    Args:
        x: samples, shape ``(..., n, ...)`` with the ``n`` samples along ``dim``.
        dim: the dimension that holds the samples (default: the last one).

    Returns:
        ``(mu_hat, var_hat)``, each of the shape of ``x`` without ``dim``.

    The variance estimate is biased (by :math:`-\sigma^2/n`) but consistent: it converges to
    :math:`\sigma^2` as ``n`` grows, because both its bias and its variance vanish.

    Example::

        >>> gaussian_mle(torch.tensor([1.0, 2.0, 3.0, 6.0]))
        (tensor(3.), tensor(3.5000))
    """
    mu = x.mean(dim=dim, keepdim=True)
    deviations = x - mu
    var = (deviations * deviations).sum(dim=dim) / x.shape[dim]
    return mu.squeeze(dim), var


def gaussian_nll(x, mu, var):
    r"""Mean Gaussian negative log-likelihood :math:`\frac1N\sum_i -\log \mathcal N(x_i; \mu, \sigma^2)`.

    Introduced in chapter 01 (The learning recipe, probability, estimators). Each element contributes

    .. math:: \tfrac12 \log(2\pi\sigma^2) + \frac{(x_i-\mu)^2}{2\sigma^2},

    the full negative log-density including the constant :math:`\frac12\log 2\pi`
    (``torch.nn.functional.gaussian_nll_loss(mu, x, var, full=True)`` without its clamping of ``var``).

    Args:
        x: observations, any shape.
        mu: the mean, broadcastable against ``x``.
        var: the variance :math:`\sigma^2 > 0`, broadcastable against ``x``.

    Returns:
        A 0-d tensor: the mean over all elements of the broadcast shape.

    Example::

        >>> gaussian_nll(torch.tensor([0.0]), 0.0, 1.0)
        tensor(0.9189)
    """
    x = torch.as_tensor(x)
    mu = torch.as_tensor(mu, dtype=x.dtype, device=x.device)
    var = torch.as_tensor(var, dtype=x.dtype, device=x.device)
    per_point = 0.5 * (math.log(2 * math.pi) + torch.log(var) + (x - mu) ** 2 / var)
    return per_point.mean()


def standardized_means(samples, mu, sigma, dim=-1):
    r"""Standardized sample means :math:`z = (\bar x - \mu) / (\sigma/\sqrt n)` (central limit theorem).

    Introduced in chapter 01 (The learning recipe, probability, estimators). The mean of ``n`` i.i.d.
    draws has expectation :math:`\mu` and standard deviation :math:`\sigma/\sqrt n`, so ``z`` has
    mean 0 and variance 1 for every ``n``, and tends to a standard normal as ``n`` grows.

    Args:
        samples: draws of one distribution, shape ``(..., n, ...)`` with the ``n`` draws along ``dim``.
        mu: the distribution's true mean (a number or a tensor broadcastable against the output).
        sigma: the distribution's true standard deviation (same rules as ``mu``).
        dim: the dimension that holds the draws (default: the last one).

    Returns:
        ``z``, shape of ``samples`` without ``dim``.

    Example::

        >>> standardized_means(torch.tensor([[2.0, 4.0, 2.0, 4.0], [0.0, 2.0, 1.0, 1.0]]), 1.0, 2.0)
        tensor([2., 0.])
    """
    n = samples.shape[dim]
    return (samples.mean(dim=dim) - mu) * math.sqrt(n) / sigma


def empirical_risk(predictions, targets, loss="squared", dim=-1):
    r"""Empirical risk :math:`\frac1n\sum_i L(\hat y_i, y_i)` of the squared or the absolute loss.

    Introduced in chapter 01 (The learning recipe, probability, estimators). ``predictions`` and
    ``targets`` broadcast against each other; the losses :math:`(y-\hat y)^2` (``"squared"``, no
    factor 1/2) or :math:`|y-\hat y|` (``"absolute"``) are averaged over ``dim`` of the broadcast shape.
    With constant predictions ``theta[:, None]`` against data ``y[None, :]`` this gives the risk of every
    candidate constant at once: the mean minimizes the squared risk, a median the absolute one.

    Args:
        predictions: the predictions :math:`\hat y`, broadcastable against ``targets``.
        targets: the targets :math:`y`.
        loss: ``"squared"`` or ``"absolute"``.
        dim: the dimension of the broadcast shape that holds the ``n`` examples (default: the last).

    Returns:
        The risk, broadcast shape without ``dim``.

    Raises:
        ValueError: for an unknown ``loss``.

    Example::

        >>> y = torch.tensor([0.0, 1.0, 5.0])
        >>> empirical_risk(torch.tensor([[1.0], [2.0]]), y, "squared")
        tensor([5.6667, 4.6667])
        >>> empirical_risk(torch.tensor([[1.0], [2.0]]), y, "absolute")
        tensor([1.6667, 2.0000])
    """
    errors = targets - predictions
    if loss == "squared":
        return (errors * errors).mean(dim=dim)
    if loss == "absolute":
        return errors.abs().mean(dim=dim)
    raise ValueError(f"loss must be 'squared' or 'absolute', got {loss!r}")


def huber_loss(residuals, delta=1.0):
    r"""The Huber loss of each residual: quadratic near zero, linear in the tails, continuous at ``delta``.

    Introduced in chapter 01 (The learning recipe, probability, estimators).

    .. math::
        \rho_\delta(r) = \begin{cases} \tfrac12 r^2 & |r| \le \delta \\
                                     \delta\,(|r| - \tfrac12\delta) & |r| > \delta \end{cases}

    Both the value and the slope match at :math:`|r| = \delta`. ``delta -> inf`` gives half the squared
    loss, ``delta -> 0`` (divided by ``delta``) the absolute loss.

    Args:
        residuals: tensor of any shape (``y - prediction``).
        delta: the threshold :math:`\delta > 0` between the two regimes (a number).

    Returns:
        Elementwise losses, shape and dtype of ``residuals``.

    Example::

        >>> huber_loss(torch.tensor([0.5, -2.0, 3.0]), delta=1.0)
        tensor([0.1250, 1.5000, 2.5000])
    """
    size = residuals.abs()
    return torch.where(size <= delta, 0.5 * residuals * residuals, delta * (size - 0.5 * delta))


def huber_grad(residuals, delta=1.0):
    r"""The derivative :math:`\psi_\delta(r) = \rho_\delta'(r)` of the Huber loss in the residual.

    Introduced in chapter 01 (The learning recipe, probability, estimators).

    :math:`\psi_\delta(r) = r` for :math:`|r| \le \delta` and :math:`\delta\,\mathrm{sign}(r)` beyond: the
    residual clipped to :math:`[-\delta, \delta]`. A large residual pulls with a bounded force, which is why
    the Huber M-estimator of a location (the :math:`c` with :math:`\sum_i \psi_\delta(y_i - c) = 0`) resists
    outliers.

    Args:
        residuals: tensor of any shape; delta: the threshold (a number, ``> 0``).

    Returns:
        Elementwise derivatives, shape and dtype of ``residuals``.

    Example::

        >>> huber_grad(torch.tensor([0.5, -2.0, 3.0]), delta=1.0)
        tensor([ 0.5000, -1.0000,  1.0000])
    """
    return residuals.clamp(-delta, delta)


def gaussian_map_mean(x, noise_var, prior_mean, prior_var, dim=-1):
    r"""MAP estimate of a Gaussian mean under a Gaussian prior: a precision-weighted average.

    Introduced in chapter 01 (The learning recipe, probability, estimators).

    With :math:`x_1, \dots, x_n \sim \mathcal N(\mu, \sigma^2)` i.i.d. and the prior
    :math:`\mu \sim \mathcal N(m, \tau^2)`, the posterior of :math:`\mu` is Gaussian and its mode (also its
    mean) is

    .. math:: \hat\mu_{\text{MAP}} = \frac{(n/\sigma^2)\,\bar x + (1/\tau^2)\, m}{n/\sigma^2 + 1/\tau^2},

    the data's precision :math:`n/\sigma^2` against the prior's :math:`1/\tau^2`.

    Args:
        x: samples, shape ``(..., n, ...)`` with the ``n`` samples along ``dim``.
        noise_var: :math:`\sigma^2`, a number or a tensor broadcastable to the output shape.
        prior_mean: :math:`m`, likewise; prior_var: :math:`\tau^2 > 0`, likewise.
        dim: the dimension that holds the samples (default: the last one).

    Returns:
        The estimates, shape of ``x`` without ``dim``, dtype of ``x``.

    Example::

        >>> gaussian_map_mean(torch.tensor([2.0, 4.0]), 2.0, 0.0, 1.0)
        tensor(1.5000)
    """
    n = x.shape[dim]
    data_precision = n / noise_var
    prior_precision = 1.0 / prior_var
    estimate = (data_precision * sample_mean(x, dim=dim) + prior_precision * prior_mean) / (
        data_precision + prior_precision)
    return estimate.to(x.dtype)


def shrink_group_means(x):
    r"""Empirical-Bayes (James–Stein) estimates of the true means of ``K`` groups of noisy measurements.

    Introduced in chapter 01 (The learning recipe, probability, estimators), as its make-it-work task.
    Group ``k`` holds ``n`` measurements :math:`x_{kj} = \theta_k + \varepsilon_{kj}` with noise of one
    common variance :math:`\sigma^2`. The plain estimate of :math:`\theta_k` is the group mean
    :math:`\bar x_k`, whose error has variance :math:`s^2 = \sigma^2/n`. Under a Gaussian prior
    :math:`\theta_k \sim \mathcal N(m, \tau^2)` the MAP (here also the posterior mean) estimate is
    :math:`m + c\,(\bar x_k - m)` with :math:`c = \tau^2/(\tau^2 + s^2)`. Every unknown is estimated
    from the data themselves:

    * :math:`m` by the mean of the group means;
    * :math:`s^2` by the pooled Bessel-corrected within-group variance, divided by ``n``;
    * :math:`\tau^2 + s^2` by the Bessel-corrected variance of the ``K`` group means,

    and the factor is clamped at 0 (a negative estimate of :math:`\tau^2` means "no spread at all").
    The estimates are biased towards ``m`` and have a smaller mean squared error than the group means
    whenever ``K >= 4``.

    Args:
        x: measurements, shape ``(..., K, n)``: ``K >= 4`` groups of ``n >= 2`` measurements, in a batch
            of any leading shape (each batch entry is its own problem).

    Returns:
        The estimates of the ``K`` true means, shape ``(..., K)``, dtype of ``x``.

    Example::

        >>> g = torch.Generator().manual_seed(0)
        >>> theta = 2.0 + torch.randn(50, generator=g, dtype=torch.float64)
        >>> x = theta[:, None] + 3.0 * torch.randn(50, 4, generator=g, dtype=torch.float64)
        >>> plain, shrunk = x.mean(-1), shrink_group_means(x)
        >>> bool(((shrunk - theta) ** 2).mean() < ((plain - theta) ** 2).mean())
        True
    """
    n = x.shape[-1]
    means = sample_mean(x, dim=-1)
    noise = unbiased_variance(x, dim=-1).mean(dim=-1, keepdim=True) / n
    spread = unbiased_variance(means, dim=-1).unsqueeze(-1)
    factor = (1 - noise / spread).clamp(min=0)
    grand = means.mean(dim=-1, keepdim=True)
    return grand + factor * (means - grand)


def consistency_answer():
    """Concept question of chapter 01: what the plug-in (maximum-likelihood) variance is.

    Example::

        >>> consistency_answer()
        'c'
    """
    return "c"


def cramer_rao_answer():
    """Concept question of chapter 01: a biased estimator below the Cramér–Rao bound.

    Example::

        >>> cramer_rao_answer()
        'b'
    """
    return "b"


def robust_loss_answer():
    """Concept question of chapter 01: which loss survives a corrupted label.

    Example::

        >>> robust_loss_answer()
        'a'
    """
    return "a"
