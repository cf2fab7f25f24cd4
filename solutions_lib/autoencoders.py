r"""PCA, linear and denoising autoencoders, probabilistic PCA and variational autoencoders.

Reference answers for chapter 12 (PCA, autoencoders, VAEs). Conventions used throughout:

* a data set is a matrix ``X`` of shape ``(N, D)``, one sample per row;
* PCA components are the **rows** of a ``(K, D)`` matrix, orthonormal, sorted by decreasing variance;
  the variance along a component is the unbiased sample variance (divided by ``N - 1``, as scikit-learn);
* a linear autoencoder has an encoder ``V`` of shape ``(K, D)`` and a decoder ``W`` of shape ``(D, K)``:
  :math:`\hat x = W V x`; its loss is the mean over samples of :math:`\|\hat x - x\|^2`;
* probabilistic PCA is :math:`z \sim \mathcal N(0, I_K)`, :math:`x = W z + \mu + \sigma\varepsilon`, so that
  :math:`x \sim \mathcal N(\mu, C)` with :math:`C = W W^\top + \sigma^2 I_D`; its maximum-likelihood fit uses
  the covariance divided by ``N`` (the ML estimate);
* a diagonal Gaussian q(z|x) is given by its mean and its **log-variance**, both ``(..., K)``; Gaussian KL
  terms and log-likelihoods are summed over the last dimension and kept per sample;
* the VAE decoder outputs Bernoulli **logits**; pixel intensities in ``[0, 1]`` are the targets.
"""
from __future__ import annotations

import math

import torch

from course.vae import DigitsVAE
from solutions_lib.language import log_sigmoid
from solutions_lib.optim import adam_step, sgd_step

__all__ = [
    "pca_fit",
    "linear_ae_loss_and_grads",
    "train_linear_autoencoder",
    "concept_linear_ae",
    "dae_loss",
    "linear_denoiser",
    "ppca_log_likelihood",
    "ppca_fit",
    "ppca_posterior",
    "gaussian_kl_standard",
    "reparameterize",
    "bernoulli_log_likelihood",
    "vae_loss",
    "linear_gaussian_elbo",
    "concept_elbo_gap",
    "train_vae",
    "concept_beta",
]


# ----------------------------------------------------------------------------- PCA

def pca_fit(X, k):
    r"""Principal components of ``X`` by the SVD of the centred data, largest variance first.

    Introduced in chapter 12 (PCA, autoencoders, VAEs). With :math:`X_c = X - \bar x = U S V^\top`, the
    components are the first ``k`` rows of :math:`V^\top` and the variances :math:`S_i^2/(N-1)`.

    Args:
        X: ``(N, D)`` data, ``N >= 2``.
        k: the number of components, ``1 <= k <= min(N, D)``.

    Returns:
        ``(mean, components, variances)``: ``(D,)``, ``(k, D)`` with orthonormal rows, ``(k,)`` decreasing;
        all in the dtype of ``X``.

    Example:
        >>> X = torch.tensor([[0.0, 0.0], [2.0, 0.1], [4.0, -0.1]], dtype=torch.float64)
        >>> mean, comps, var = pca_fit(X, 1)
        >>> mean.tolist(), round(abs(comps[0, 0].item()), 3), round(var[0].item(), 3)
        ([2.0, 0.0], 0.999, 4.01)
    """
    mean = X.mean(dim=0)
    _, S, Vh = torch.linalg.svd(X - mean, full_matrices=False)
    return mean, Vh[:k].clone(), S[:k] ** 2 / (X.shape[0] - 1)


# ----------------------------------------------------------------------------- linear autoencoder

def linear_ae_loss_and_grads(X, V, W):
    r"""Loss and gradients of a linear autoencoder :math:`\hat x = W V x`, derived by hand.

    Introduced in chapter 12 (PCA, autoencoders, VAEs). The loss is
    :math:`L = \frac1N\sum_n \|W V x_n - x_n\|^2`; with :math:`R = X V^\top W^\top - X` (the residuals,
    ``(N, D)``): :math:`\partial L/\partial W = \frac2N R^\top X V^\top` and
    :math:`\partial L/\partial V = \frac2N W^\top R^\top X`.

    Args:
        X: ``(N, D)`` data (already centred by the caller if wanted).
        V: ``(K, D)`` encoder.
        W: ``(D, K)`` decoder.

    Returns:
        ``(loss, dV, dW)``: a 0-d tensor, ``(K, D)``, ``(D, K)``.

    Example:
        >>> X = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
        >>> loss, dV, dW = linear_ae_loss_and_grads(X, torch.zeros(1, 2, dtype=torch.float64),
        ...                                         torch.zeros(2, 1, dtype=torch.float64))
        >>> loss.item()
        1.0
    """
    N = X.shape[0]
    Z = X @ V.T                      # (N, K) codes
    R = Z @ W.T - X                  # (N, D) residuals
    loss = (R * R).sum() / N
    dW = (2.0 / N) * R.T @ Z
    dV = (2.0 / N) * W.T @ R.T @ X
    return loss, dV, dW


def train_linear_autoencoder(X, k, lr, steps, generator):
    r"""Fit a linear autoencoder to the centred data by plain gradient descent.

    Introduced in chapter 12 (PCA, autoencoders, VAEs). Starts from ``V = 0.1 * randn(k, D)`` and
    ``W = 0.1 * randn(D, k)`` drawn from ``generator`` (V first), centres ``X`` by its column means, then
    takes ``steps`` steps ``V -= lr * dV``, ``W -= lr * dW`` with the gradients of
    :func:`linear_ae_loss_and_grads` (chapter 05's :func:`~solutions_lib.optim.sgd_step`).

    Args:
        X: ``(N, D)`` data.
        k: latent dimension.
        lr: learning rate.
        steps: number of gradient steps.
        generator: ``torch.Generator`` for the initial weights.

    Returns:
        ``(V, W)``: ``(k, D)`` and ``(D, k)``, dtype of ``X``. At convergence the columns of ``W`` span the
        top-``k`` principal subspace (they need not be orthonormal nor equal to the components).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> X = torch.randn(100, 3, generator=g, dtype=torch.float64) * torch.tensor([3.0, 1.0, 0.1], dtype=torch.float64)
        >>> V, W = train_linear_autoencoder(X, 1, 0.05, 500, torch.Generator().manual_seed(1))
        >>> round(abs(W[0, 0].item()) / W.norm().item(), 2)
        1.0
    """
    D = X.shape[1]
    # the generator lives on the CPU: draw there, then move to the data's device
    V = (0.1 * torch.randn(k, D, generator=generator, dtype=X.dtype)).to(X.device)
    W = (0.1 * torch.randn(D, k, generator=generator, dtype=X.dtype)).to(X.device)
    Xc = X - X.mean(dim=0)
    for _ in range(steps):
        _, dV, dW = linear_ae_loss_and_grads(Xc, V, W)
        V, W = sgd_step(V, dV, lr), sgd_step(W, dW, lr)
    return V, W


def concept_linear_ae():
    """Answer to the chapter's question on linear autoencoders and PCA (a letter).

    Introduced in chapter 12 (PCA, autoencoders, VAEs): at the global minimum the decoder's columns
    span the top-k principal subspace, in some basis of it.

    Example:
        >>> concept_linear_ae()
        'c'
    """
    return "c"


# ----------------------------------------------------------------------------- denoising

def dae_loss(autoencoder, x, noise):
    r"""Denoising-autoencoder loss: reconstruct the **clean** input from the corrupted one.

    Introduced in chapter 12 (PCA, autoencoders, VAEs):
    :math:`\frac1N\sum_n \|A(x_n + \text{noise}_n) - x_n\|^2`.

    Args:
        autoencoder: a callable ``(N, D) -> (N, D)``.
        x: ``(N, D)`` clean data.
        noise: ``(N, D)`` the corruption, added to ``x``.

    Returns:
        0-d tensor, differentiable through ``autoencoder``.

    Example:
        >>> x = torch.ones(2, 3)
        >>> dae_loss(lambda v: v, x, torch.full((2, 3), 0.5)).item()
        0.75
    """
    recon = autoencoder(x + noise)
    return ((recon - x) ** 2).sum(dim=-1).mean()


def linear_denoiser(X, noise_std):
    r"""The affine map that best removes Gaussian noise of standard deviation ``noise_std`` from ``X``.

    Introduced in chapter 12 (PCA, autoencoders, VAEs). Minimizing
    :math:`\mathbb E_\varepsilon \frac1N\sum_n\|A(x_n + s\varepsilon_n) + b - x_n\|^2` over ``A, b`` gives
    :math:`A = \Sigma(\Sigma + s^2 I)^{-1}` and :math:`b = \bar x - A\bar x`, with :math:`\Sigma` the covariance
    of ``X`` divided by ``N``.

    Args:
        X: ``(N, D)`` clean data.
        noise_std: ``s >= 0``.

    Returns:
        ``(A, b)``: ``(D, D)`` and ``(D,)``; the denoised version of ``x_noisy`` (rows) is ``x_noisy @ A.T + b``.

    Example:
        >>> X = torch.tensor([[1.0], [-1.0]], dtype=torch.float64)
        >>> A, b = linear_denoiser(X, 1.0)
        >>> A.item(), b.item()
        (0.5, 0.0)
    """
    mean = X.mean(dim=0)
    Xc = X - mean
    cov = Xc.T @ Xc / X.shape[0]
    eye = torch.eye(X.shape[1], dtype=X.dtype, device=X.device)
    A = torch.linalg.solve(cov + noise_std ** 2 * eye, cov).T  # cov symmetric: (cov + s^2 I)^{-1} cov = A^T
    return A, mean - A @ mean


# ----------------------------------------------------------------------------- probabilistic PCA

def ppca_log_likelihood(X, mu, W, sigma2):
    r"""Log-density of each row of ``X`` under probabilistic PCA, :math:`\mathcal N(\mu, WW^\top + \sigma^2 I)`.

    Introduced in chapter 12 (PCA, autoencoders, VAEs):
    :math:`\log p(x) = -\frac D2\log 2\pi - \frac12\log\det C - \frac12 (x-\mu)^\top C^{-1}(x-\mu)`.

    Args:
        X: ``(N, D)``; mu: ``(D,)``; W: ``(D, K)``; sigma2: a positive float or 0-d tensor.

    Returns:
        ``(N,)`` log-densities in the dtype of ``X``.

    Example:
        >>> X = torch.zeros(1, 2, dtype=torch.float64)
        >>> round(ppca_log_likelihood(X, torch.zeros(2, dtype=torch.float64),
        ...                           torch.zeros(2, 1, dtype=torch.float64), 1.0).item(), 4)
        -1.8379
    """
    D = X.shape[1]
    C = W @ W.T + sigma2 * torch.eye(D, dtype=X.dtype, device=X.device)
    L = torch.linalg.cholesky(C)
    diff = (X - mu).T                                           # (D, N)
    sol = torch.linalg.solve_triangular(L, diff, upper=False)   # L^{-1} (x - mu)
    maha = (sol * sol).sum(dim=0)
    logdet = 2.0 * torch.log(torch.diagonal(L)).sum()
    return -0.5 * (D * math.log(2 * math.pi) + logdet + maha)


def ppca_fit(X, k):
    r"""Maximum-likelihood probabilistic PCA (Tipping and Bishop's closed form).

    Introduced in chapter 12 (PCA, autoencoders, VAEs). With :math:`\lambda_1\ge\dots\ge\lambda_D` the
    eigenvalues of the ML covariance :math:`S = \frac1N\sum_n(x_n-\bar x)(x_n-\bar x)^\top` and :math:`U_k` the
    top-``k`` eigenvectors: :math:`\mu = \bar x`, :math:`\sigma^2 = \frac1{D-k}\sum_{i>k}\lambda_i`,
    :math:`W = U_k(\Lambda_k - \sigma^2 I)^{1/2}` (unique up to a rotation :math:`W \to WR`).

    Args:
        X: ``(N, D)``; k: latent dimension, ``1 <= k < D``.

    Returns:
        ``(mu, W, sigma2)``: ``(D,)``, ``(D, k)``, 0-d tensor, dtype of ``X``.

    Example:
        >>> X = torch.tensor([[2.0, 1.0], [-2.0, -1.0], [2.0, -1.0], [-2.0, 1.0]], dtype=torch.float64)
        >>> mu, W, s2 = ppca_fit(X, 1)
        >>> round(s2.item(), 6), round(W.abs().max().item(), 6)
        (1.0, 1.732051)
    """
    N, D = X.shape
    mu = X.mean(dim=0)
    _, S, Vh = torch.linalg.svd(X - mu, full_matrices=False)
    lam = torch.zeros(D, dtype=X.dtype, device=X.device)
    lam[:S.shape[0]] = S ** 2 / N
    sigma2 = lam[k:].mean()
    W = Vh[:k].T * torch.sqrt(torch.clamp(lam[:k] - sigma2, min=0.0))
    return mu, W, sigma2


def ppca_posterior(X, mu, W, sigma2):
    r"""The exact posterior p(z|x) of probabilistic PCA: a Gaussian with a shared covariance.

    Introduced in chapter 12 (PCA, autoencoders, VAEs). With :math:`M = W^\top W + \sigma^2 I_K`:
    mean :math:`M^{-1}W^\top(x-\mu)` and covariance :math:`\sigma^2 M^{-1}` (``K x K``, the same for every x).

    Args:
        X: ``(N, D)``; mu: ``(D,)``; W: ``(D, K)``; sigma2: positive float or 0-d tensor.

    Returns:
        ``(means, cov)``: ``(N, K)`` and ``(K, K)``.

    Example:
        >>> W = torch.tensor([[1.0], [0.0]], dtype=torch.float64)
        >>> m, c = ppca_posterior(torch.tensor([[2.0, 5.0]], dtype=torch.float64), torch.zeros(2, dtype=torch.float64), W, 1.0)
        >>> m.item(), c.item()
        (1.0, 0.5)
    """
    K = W.shape[1]
    M = W.T @ W + sigma2 * torch.eye(K, dtype=W.dtype, device=W.device)
    means = torch.linalg.solve(M, W.T @ (X - mu).T).T
    return means, sigma2 * torch.linalg.inv(M)


# ----------------------------------------------------------------------------- VAE pieces

def gaussian_kl_standard(mu, logvar):
    r""":math:`\mathrm{KL}(\mathcal N(\mu, \mathrm{diag}\,e^{\text{logvar}})\,\|\,\mathcal N(0, I))`, summed over the last dimension.

    Introduced in chapter 12 (PCA, autoencoders, VAEs):
    :math:`\frac12\sum_j\big(e^{\ell_j} + \mu_j^2 - 1 - \ell_j\big)` with :math:`\ell = ` logvar. It is
    :math:`\ge 0`, and 0 only at :math:`\mu = 0, \ell = 0`.

    Args:
        mu, logvar: ``(..., K)``.

    Returns:
        ``(...)``.

    Example:
        >>> gaussian_kl_standard(torch.tensor([1.0]), torch.tensor([0.0])).item()
        0.5
    """
    return 0.5 * (torch.exp(logvar) + mu * mu - 1.0 - logvar).sum(dim=-1)


def reparameterize(mu, logvar, eps):
    r"""A sample of :math:`\mathcal N(\mu, \mathrm{diag}\,e^{\text{logvar}})` written as :math:`\mu + \sigma\varepsilon`.

    Introduced in chapter 12 (PCA, autoencoders, VAEs). The noise ``eps`` is passed in (drawn from
    :math:`\mathcal N(0, I)` by the caller), so the result is a differentiable function of ``mu`` and
    ``logvar``: :math:`\sigma = e^{\text{logvar}/2}`.

    Args:
        mu, logvar, eps: the same shape ``(..., K)``.

    Returns:
        ``(..., K)``.

    Example:
        >>> reparameterize(torch.tensor([1.0]), torch.tensor([math.log(4.0)]), torch.tensor([0.5])).item()
        2.0
    """
    return mu + torch.exp(0.5 * logvar) * eps


def bernoulli_log_likelihood(x, logits):
    r""":math:`\sum_j x_j\log\sigma(l_j) + (1-x_j)\log\sigma(-l_j)`, summed over the last dimension.

    Introduced in chapter 12 (PCA, autoencoders, VAEs); stable for large logits (chapter 10's
    :func:`~solutions_lib.language.log_sigmoid`). Targets ``x`` may be any values in ``[0, 1]``.

    Args:
        x: ``(..., D)`` targets in ``[0, 1]``.
        logits: ``(..., D)``.

    Returns:
        ``(...)``.

    Example:
        >>> round(bernoulli_log_likelihood(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 0.0])).item(), 4)
        -1.3863
    """
    x = x.to(logits.dtype)
    return (x * log_sigmoid(logits) + (1.0 - x) * log_sigmoid(-logits)).sum(dim=-1)


def vae_loss(x, logits, mu, logvar, beta=1.0):
    r"""The (beta-)VAE loss: the batch mean of :math:`-\log p(x|z) + \beta\,\mathrm{KL}(q(z|x)\,\|\,p(z))`.

    Introduced in chapter 12 (PCA, autoencoders, VAEs). With ``beta = 1`` it is minus the mean ELBO of a
    single-sample estimate; ``logits`` are the decoder's output at a reparameterized ``z``.

    Args:
        x: ``(N, D)`` targets in ``[0, 1]``; logits: ``(N, D)``; mu, logvar: ``(N, K)``; beta: float.

    Returns:
        0-d tensor.

    Example:
        >>> x = torch.tensor([[1.0, 0.0]])
        >>> round(vae_loss(x, torch.zeros(1, 2), torch.ones(1, 1), torch.zeros(1, 1)).item(), 4)
        1.8863
    """
    rec = bernoulli_log_likelihood(x, logits)
    kl = gaussian_kl_standard(mu, logvar)
    return (beta * kl - rec).mean()


def linear_gaussian_elbo(X, q_mean, q_logvar, mu, W, sigma2):
    r"""The exact ELBO of the linear-Gaussian model with a diagonal Gaussian q, per sample.

    Introduced in chapter 12 (PCA, autoencoders, VAEs). Model: :math:`z\sim\mathcal N(0, I_K)`,
    :math:`x|z \sim \mathcal N(Wz + \mu, \sigma^2 I_D)`; :math:`q = \mathcal N(m, \mathrm{diag}\,s^2)`:

    .. math::
        \mathcal L = -\frac D2\log(2\pi\sigma^2)
        - \frac{\|x - Wm - \mu\|^2 + \sum_j s_j^2\|W_{:,j}\|^2}{2\sigma^2} - \mathrm{KL}(q\,\|\,\mathcal N(0, I)).

    It equals :math:`\log p(x)` exactly when q is the true posterior.

    Args:
        X: ``(N, D)``; q_mean, q_logvar: ``(N, K)``; mu: ``(D,)``; W: ``(D, K)``; sigma2: positive float or 0-d tensor.

    Returns:
        ``(N,)``.

    Example:
        >>> z = torch.zeros(1, 1, dtype=torch.float64)
        >>> round(linear_gaussian_elbo(torch.zeros(1, 1, dtype=torch.float64), z, z,
        ...       torch.zeros(1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64), 1.0).item(), 4)
        -0.9189
    """
    D = X.shape[1]
    var = torch.exp(q_logvar)
    resid = X - q_mean @ W.T - mu
    spread = var @ (W * W).sum(dim=0)                            # sum_j s_j^2 |W_j|^2, (N,)
    log2pis = math.log(2 * math.pi) + torch.log(torch.as_tensor(sigma2, dtype=X.dtype, device=X.device))
    expected_loglik = -0.5 * D * log2pis - ((resid * resid).sum(dim=-1) + spread) / (2.0 * sigma2)
    return expected_loglik - gaussian_kl_standard(q_mean, q_logvar)


def concept_elbo_gap():
    """Answer to the chapter's question on the gap between log p(x) and the ELBO (a letter).

    Introduced in chapter 12 (PCA, autoencoders, VAEs): the gap is KL(q(z|x) || p(z|x)).

    Example:
        >>> concept_elbo_gap()
        'b'
    """
    return "b"


# ----------------------------------------------------------------------------- training a VAE

def train_vae(X, latent_dim=4, beta=1.0, epochs=40, batch_size=64, lr=1e-2, hidden=128, seed=0):
    r"""Train a :class:`course.vae.DigitsVAE` on ``X`` by minimizing :func:`vae_loss` with Adam.

    Introduced in chapter 12 (PCA, autoencoders, VAEs). One ``torch.Generator`` seeded with ``seed`` draws,
    in this order: the initial weights, then for every epoch a permutation of the rows, and for every
    minibatch the noise of :func:`reparameterize`. Adam is chapter 05's
    :func:`~solutions_lib.optim.adam_step` (default betas); the gradients come from autograd.

    Args:
        X: ``(N, D)`` images in ``[0, 1]`` (float32 or float64).
        latent_dim, hidden: sizes of the model.
        beta: weight of the KL term.
        epochs, batch_size, lr: the optimization schedule.
        seed: the seed of everything random.

    Returns:
        the trained ``DigitsVAE`` (in the dtype of ``X``).

    Example:
        >>> X = torch.rand(32, 64)
        >>> vae = train_vae(X, latent_dim=2, epochs=1, batch_size=16)
        >>> vae.latent_dim
        2
    """
    g = torch.Generator().manual_seed(seed)
    model = DigitsVAE(X.shape[1], hidden, latent_dim, generator=g, dtype=X.dtype).to(X.device)
    params = list(model.parameters())
    states = [{"step": 0, "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)} for p in params]
    N = X.shape[0]
    for _ in range(epochs):
        order = torch.randperm(N, generator=g).to(X.device)
        for start in range(0, N, batch_size):
            x = X[order[start:start + batch_size]]
            mu, logvar = model.encode(x)
            eps = torch.randn(mu.shape, generator=g, dtype=mu.dtype).to(X.device)
            logits = model.decode(reparameterize(mu, logvar, eps))
            loss = vae_loss(x, logits, mu, logvar, beta)
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for i, (p, grad) in enumerate(zip(params, grads)):
                    new, states[i] = adam_step(p, grad, states[i], lr)
                    p.copy_(new)
    return model


def concept_beta():
    """Answer to the chapter's question on large beta in a beta-VAE (a letter).

    Introduced in chapter 12 (PCA, autoencoders, VAEs): q(z|x) is pulled onto the prior for every x, so z
    carries little information and reconstructions drift toward an average digit.

    Example:
        >>> concept_beta()
        'a'
    """
    return "a"
