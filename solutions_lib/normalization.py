"""Training deep networks: initialization, activation statistics, BatchNorm, LayerNorm, dropout,
residual blocks and ensembles.

Reference implementations for chapter 06 (Activations, initialization, normalization, regularization).
Every function is vectorized torch code that runs unchanged on the CPU and on CUDA, in float32 and float64.

Conventions (the same as the notebook states them):

- A weight matrix has the layout of ``torch.nn.Linear.weight``: shape ``(fan_out, fan_in)``, and a layer
  computes ``h @ W.T``.
- BatchNorm normalizes every feature over the batch (dim 0) with the *biased* batch variance, and updates
  its running statistics like ``torch.nn.BatchNorm1d``:
  ``running = (1 - momentum) * running + momentum * batch_statistic``, the running variance taking the
  *unbiased* (n - 1) batch variance.
- Dropout's ``p`` is the probability of *dropping* a unit (torch's convention); kept units are scaled by
  ``1 / (1 - p)`` at training time, and evaluation is the identity.
"""
from __future__ import annotations

import math
import torch

__all__ = [
    "init_std",
    "init_weight",
    "activation_stats",
    "batchnorm_forward",
    "batchnorm_jacobian",
    "batchnorm_backward",
    "layernorm_forward",
    "layernorm_backward",
    "dropout_forward",
    "dropout_backward",
    "residual_block",
    "ensemble_average",
    "train_bn_mlp",
    "concept_eval_mode",
    "concept_bn_learning_rate",
    "concept_dropout_scaling",
]

_SCHEMES = ("xavier", "he", "lecun")


def _tracks_grad(*tensors):
    """Whether autograd records operations on any of ``tensors`` (then temporaries must not be reused)."""
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def init_std(fan_in, fan_out, scheme):
    r"""Standard deviation of an initialization scheme for a ``(fan_out, fan_in)`` weight matrix.

    Introduced in chapter 06 (Activations, initialization, normalization, regularization).

    ``"xavier"`` (Glorot): :math:`\sqrt{2 / (\text{fan\_in} + \text{fan\_out})}`;
    ``"he"`` (Kaiming, ReLU, fan-in mode): :math:`\sqrt{2 / \text{fan\_in}}`;
    ``"lecun"``: :math:`\sqrt{1 / \text{fan\_in}}` (what some notes call "Xavier").

    Args:
        fan_in: number of inputs of the layer (columns of the weight).
        fan_out: number of outputs of the layer (rows of the weight).
        scheme: ``"xavier"``, ``"he"`` or ``"lecun"``.

    Returns:
        The standard deviation, a Python float.

    Example:
        >>> init_std(100, 300, "xavier")
        0.07071067811865475
        >>> init_std(50, 10, "he")
        0.2
    """
    if scheme == "xavier":
        return math.sqrt(2.0 / (fan_in + fan_out))
    if scheme == "he":
        return math.sqrt(2.0 / fan_in)
    if scheme == "lecun":
        return math.sqrt(1.0 / fan_in)
    raise ValueError(f"unknown scheme {scheme!r}; expected one of {_SCHEMES}")


def init_weight(fan_in, fan_out, scheme, generator, distribution="normal", dtype=torch.float32):
    r"""A random weight matrix of shape ``(fan_out, fan_in)`` with zero mean and the scheme's variance.

    Introduced in chapter 06 (Activations, initialization, normalization, regularization).

    ``distribution="normal"`` draws :math:`\mathcal N(0, s^2)`; ``"uniform"`` draws
    :math:`U(-\sqrt3\, s, \sqrt3\, s)`, which has the same variance :math:`s^2`, where
    :math:`s` = :func:`init_std`. The samples come from ``generator`` only (on its device).

    Args:
        fan_in: number of inputs (columns).
        fan_out: number of outputs (rows).
        scheme: ``"xavier"``, ``"he"`` or ``"lecun"``.
        generator: the source of randomness.
        distribution: ``"normal"`` or ``"uniform"``.
        dtype: floating dtype of the result.

    Returns:
        Tensor of shape ``(fan_out, fan_in)``.

    Example:
        >>> w = init_weight(400, 500, "he", torch.Generator().manual_seed(0))
        >>> w.shape, round(w.var().item() * 400, 1)
        (torch.Size([500, 400]), 2.0)
    """
    std = init_std(fan_in, fan_out, scheme)
    device = generator.device
    if distribution == "normal":
        return std * torch.randn(fan_out, fan_in, generator=generator, dtype=dtype, device=device)
    if distribution == "uniform":
        bound = math.sqrt(3.0) * std
        u = torch.rand(fan_out, fan_in, generator=generator, dtype=dtype, device=device)
        return (2.0 * u - 1.0) * bound
    raise ValueError(f"unknown distribution {distribution!r}; expected 'normal' or 'uniform'")


_ACTIVATIONS = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "linear": lambda h: h,
}


def activation_stats(x, weights, activation):
    r"""Mean and standard deviation of the activations of every layer of a bias-free deep network.

    Introduced in chapter 06 (Activations, initialization, normalization, regularization).

    With :math:`h_0 = x` and :math:`h_\ell = \phi(h_{\ell-1} W_\ell^\top)` for :math:`\ell = 1..L`,
    returns the mean and the plug-in standard deviation (dividing by the number of entries) of all the
    entries of every :math:`h_\ell` (batch and units together).

    Args:
        x: input batch, shape ``(N, D_0)``.
        weights: ``L`` matrices, the ``l``-th of shape ``(D_l, D_{l-1})``.
        activation: ``"tanh"``, ``"relu"`` or ``"linear"``.

    Returns:
        ``(means, stds)``, two tensors of shape ``(L,)``, dtype and device of ``x``.

    Example:
        >>> x = torch.tensor([[1.0, -1.0], [2.0, 0.0]], dtype=torch.float64)
        >>> means, stds = activation_stats(x, [torch.eye(2, dtype=torch.float64), 2 * torch.eye(2, dtype=torch.float64)], "relu")
        >>> means.tolist(), [round(s, 6) for s in stds.tolist()]
        ([0.75, 1.5], [0.829156, 1.658312])
    """
    phi = _ACTIVATIONS[activation]
    h = x
    means, stds = [], []
    for w in weights:  # a loop over layers, not over data
        h = phi(h @ w.T)
        means.append(h.mean())
        stds.append(h.std(correction=0))
    if not means:
        empty = x.new_zeros(0)
        return empty, empty.clone()
    return torch.stack(means), torch.stack(stds)


def batchnorm_forward(x, gamma, beta, state, mode):
    r"""Batch normalization of a ``(N, D)`` batch, in ``"train"`` or ``"eval"`` mode, like ``nn.BatchNorm1d``.

    Introduced in chapter 06 (Activations, initialization, normalization, regularization).

    Train mode: :math:`\mu = \frac1N\sum_i x_i`, :math:`\sigma^2 = \frac1N\sum_i (x_i-\mu)^2` (biased),
    :math:`\hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}`, ``out = gamma * xhat + beta``; the running
    statistics in ``state`` are replaced by
    ``(1 - momentum) * running_mean + momentum * mu`` and
    ``(1 - momentum) * running_var + momentum * sigma2 * N / (N - 1)`` (unbiased). Needs ``N >= 2``.
    Eval mode: normalizes with ``state["running_mean"]`` and ``state["running_var"]`` and leaves ``state`` alone.

    Args:
        x: input, shape ``(N, D)``.
        gamma: scale, shape ``(D,)``.
        beta: shift, shape ``(D,)``.
        state: dict with ``"running_mean"`` and ``"running_var"`` (shape ``(D,)``), ``"momentum"`` and
            ``"eps"`` (floats); updated in train mode.
        mode: ``"train"`` or ``"eval"``.

    Returns:
        ``(out, cache)``: ``out`` of shape ``(N, D)``, and ``cache = (xhat, gamma, inv_std)`` with ``xhat`` of
        shape ``(N, D)`` and ``inv_std = 1 / sqrt(var + eps)`` of shape ``(D,)``.

    Example:
        >>> state = {"running_mean": torch.zeros(1), "running_var": torch.ones(1), "momentum": 0.1, "eps": 0.0}
        >>> out, _ = batchnorm_forward(torch.tensor([[1.0], [3.0]]), torch.ones(1), torch.zeros(1), state, "train")
        >>> out.flatten().tolist(), round(state["running_mean"].item(), 6), round(state["running_var"].item(), 6)
        ([-1.0, 1.0], 0.2, 1.1)
    """
    eps, momentum = state["eps"], state["momentum"]
    if mode == "train":
        n = x.shape[0]
        if n < 2:
            raise ValueError("batchnorm_forward in train mode needs at least 2 samples per feature")
        mu = x.mean(dim=0)
        xc = x - mu
        # Two-pass variance from the centred batch (numerically safe for data far from zero), its sum of
        # squares as one fused reduction, with no (N, D) temporary: torch.var / var_mean along dim 0 is a
        # slow strided Welford pass on the CPU, and (xc * xc).mean(0) writes a whole extra batch.
        var = torch.linalg.vecdot(xc, xc, dim=0).div_(n)
        state["running_mean"] = torch.add((1 - momentum) * state["running_mean"], mu, alpha=momentum)
        state["running_var"] = torch.add((1 - momentum) * state["running_var"], var, alpha=momentum * n / (n - 1))
    elif mode == "eval":
        mu, var = state["running_mean"], state["running_var"]
        xc = x - mu
    else:
        raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
    inv_std = torch.rsqrt(var + eps)
    if _tracks_grad(x, gamma, beta, mu, var) or not (xc.dtype == inv_std.dtype == gamma.dtype == beta.dtype):
        xhat = xc * inv_std
    else:  # no autograd graph to protect: normalize the fresh centred batch in place
        xhat = xc.mul_(inv_std)
    out = torch.addcmul(beta, xhat, gamma)
    return out, (xhat, gamma, inv_std)


def batchnorm_jacobian(xhat, inv_std):
    r"""The Jacobian of BatchNorm's normalization of one feature over a batch.

    Introduced in chapter 06 (Activations, initialization, normalization, regularization), as the
    stepping stone of the BatchNorm backward pass.

    With :math:`\hat x_j = (x_j - \mu)\,s`, :math:`s = (\sigma^2 + \epsilon)^{-1/2}` and the biased batch
    variance, :math:`\partial\mu/\partial x_i = 1/N` and :math:`\partial s/\partial x_i = -s^2\,\hat x_i/N`, so

    .. math::
        J_{ji} = \frac{\partial\hat x_j}{\partial x_i} = \frac{s}{N}\big(N\delta_{ij} - 1 - \hat x_i\hat x_j\big).

    ``J`` is symmetric, ``J @ 1 = 0`` (a shift of the column does not move ``xhat``) and
    ``J @ xhat = s * xhat * eps / (var + eps)``, zero for ``eps = 0`` (nor, then, does a stretch).

    Args:
        xhat: the normalized column, shape ``(N,)``.
        inv_std: :math:`s`, a 0-dimensional tensor (or a float).

    Returns:
        ``J`` of shape ``(N, N)``, ``J[j, i] = d xhat_j / d x_i``, in ``xhat``'s dtype.

    Example:
        >>> batchnorm_jacobian(torch.tensor([-1.0, 1.0]), torch.tensor(0.5)).tolist()
        [[0.0, 0.0], [0.0, 0.0]]
    """
    n = xhat.shape[0]
    eye = torch.eye(n, dtype=xhat.dtype, device=xhat.device)
    return (inv_std / n) * (n * eye - 1.0 - torch.outer(xhat, xhat))


def batchnorm_backward(dout, cache):
    r"""Gradients of a train-mode BatchNorm, in the compact closed form.

    Introduced in chapter 06 (Activations, initialization, normalization, regularization).

    With ``cache = (xhat, gamma, inv_std)`` from :func:`batchnorm_forward` in train mode:

    .. math::
        dx = \frac{1}{N}\,\gamma\,\text{inv\_std}\,\Big(N\,dout - \sum_i dout_i
             - \hat x \sum_i dout_i\,\hat x_i\Big),\quad
        d\gamma = \sum_i dout_i\,\hat x_i,\quad d\beta = \sum_i dout_i.

    Args:
        dout: upstream gradient, shape ``(N, D)``.
        cache: ``(xhat (N, D), gamma (D,), inv_std (D,))``.

    Returns:
        ``(dx, dgamma, dbeta)`` of shapes ``(N, D)``, ``(D,)``, ``(D,)``.

    Example:
        >>> xhat = torch.tensor([[-1.0], [1.0]])
        >>> dx, dgamma, dbeta = batchnorm_backward(torch.tensor([[1.0], [1.0]]), (xhat, torch.ones(1), torch.ones(1)))
        >>> dx.flatten().tolist(), dgamma.item(), dbeta.item()
        ([0.0, 0.0], 0.0, 2.0)
    """
    xhat, gamma, inv_std = cache
    n = dout.shape[0]
    # dx = gamma * inv_std * dout - (gamma * inv_std / N) * (dbeta + xhat * dgamma): two column sums, then
    # dx written over the product dout * xhat that dgamma sums, so only one (N, D) tensor is allocated.
    dbeta = dout.sum(dim=0)
    dx = dout * xhat
    dgamma = dx.sum(dim=0)
    scale = gamma * inv_std
    scale_n = scale / -n
    if dx.requires_grad or scale.requires_grad or dx.dtype != scale.dtype:
        # differentiated itself (autograd refuses out=) or mixed dtypes: the same formula, out of place
        return dout * scale + torch.addcmul(scale_n * dbeta, xhat, scale_n * dgamma), dgamma, dbeta
    torch.addcmul(scale_n * dbeta, xhat, scale_n * dgamma, out=dx)
    return dx.addcmul_(dout, scale), dgamma, dbeta


def layernorm_forward(x, gamma, beta, eps=1e-5):
    r"""Layer normalization over the last dimension, like ``torch.nn.functional.layer_norm``.

    Introduced in chapter 06 (Activations, initialization, normalization, regularization).

    Every row (every index of the leading dimensions) is normalized with its own mean and biased variance
    over the last dimension: ``xhat = (x - mu) / sqrt(var + eps)``, ``out = gamma * xhat + beta``.
    The same in training and evaluation: there are no running statistics.

    Args:
        x: input, shape ``(..., D)``.
        gamma: scale, shape ``(D,)``.
        beta: shift, shape ``(D,)``.
        eps: added to the variance.

    Returns:
        ``(out, cache)``: ``out`` of shape ``(..., D)`` and ``cache = (xhat, gamma, inv_std)`` with ``xhat`` of
        shape ``(..., D)`` and ``inv_std`` of shape ``(..., 1)``.

    Example:
        >>> out, (xhat, gamma, inv_std) = layernorm_forward(torch.tensor([[1.0, 3.0]]), torch.ones(2), torch.zeros(2), eps=0.0)
        >>> out.tolist(), inv_std.shape
        ([[-1.0, 1.0]], torch.Size([1, 1]))
    """
    mu = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, keepdim=True, correction=0)
    inv_std = torch.rsqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)


def layernorm_backward(dout, cache):
    r"""Gradients of layer normalization, in closed form.

    Introduced in chapter 06 (Activations, initialization, normalization, regularization).

    With :math:`g = \gamma \odot dout` and the sums over the last dimension (size ``D``):

    .. math::
        dx = \frac{\text{inv\_std}}{D}\Big(D\,g - \sum_j g_j - \hat x \sum_j g_j \hat x_j\Big),\quad
        d\gamma = \sum_{\text{rows}} dout\odot\hat x,\quad d\beta = \sum_{\text{rows}} dout.

    Args:
        dout: upstream gradient, shape ``(..., D)``.
        cache: ``(xhat (..., D), gamma (D,), inv_std (..., 1))`` from :func:`layernorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` of shapes ``(..., D)``, ``(D,)``, ``(D,)``.

    Example:
        >>> xhat = torch.tensor([[-1.0, 1.0]])
        >>> dx, dgamma, dbeta = layernorm_backward(torch.tensor([[2.0, 2.0]]), (xhat, torch.ones(2), torch.ones(1, 1)))
        >>> dx.tolist(), dgamma.tolist(), dbeta.tolist()
        ([[0.0, 0.0]], [-2.0, 2.0], [2.0, 2.0])
    """
    xhat, gamma, inv_std = cache
    d = dout.shape[-1]
    g = dout * gamma
    dx = (inv_std / d) * (d * g - g.sum(dim=-1, keepdim=True) - xhat * (g * xhat).sum(dim=-1, keepdim=True))
    dgamma = (dout * xhat).reshape(-1, d).sum(dim=0)
    dbeta = dout.reshape(-1, d).sum(dim=0)
    return dx, dgamma, dbeta


def dropout_forward(x, p, training, generator):
    r"""Inverted dropout with drop probability ``p`` (torch's convention).

    Introduced in chapter 06 (Activations, initialization, normalization, regularization).

    Training: ``u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)``; a unit is
    kept where ``u >= p``; ``mask = keep / (1 - p)`` and ``out = x * mask``, so ``E[out] = x``.
    Evaluation (``training=False``): ``out = x``, ``mask`` is all ones, and the generator is not used.

    Args:
        x: input, any shape.
        p: drop probability, ``0 <= p < 1``.
        training: train or evaluation mode.
        generator: the source of randomness (on ``x``'s device).

    Returns:
        ``(out, mask)``, both of the shape, dtype and device of ``x``.

    Example:
        >>> out, mask = dropout_forward(torch.ones(2, 3), 0.5, True, torch.Generator().manual_seed(0))
        >>> sorted(set(mask.flatten().tolist())) in ([0.0, 2.0], [2.0], [0.0])
        True
    """
    if not training:
        return x.clone(), torch.ones_like(x)
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    mask = (u >= p).to(x.dtype) / (1.0 - p)
    return x * mask, mask


def dropout_backward(dout, mask):
    r"""Gradient of inverted dropout with respect to its input: ``dout * mask``.

    Introduced in chapter 06 (Activations, initialization, normalization, regularization).

    Args:
        dout: upstream gradient, any shape.
        mask: the scaled mask returned by :func:`dropout_forward`, same shape.

    Returns:
        ``dx`` of the shape of ``dout``.

    Example:
        >>> dropout_backward(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])).tolist()
        [0.0, 6.0]
    """
    return dout * mask


def residual_block(x, w1, b1, w2, b2):
    r"""A residual (identity-skip) MLP block: ``x + relu(x @ w1.T + b1) @ w2.T + b2``.

    Introduced in chapter 06 (Activations, initialization, normalization, regularization).

    The form :math:`x_{n+1} = x_n + F(x_n)` with no activation after the sum, so the identity path
    is untouched.

    Args:
        x: input, shape ``(N, D)``.
        w1: first weight, shape ``(H, D)``; b1: its bias, shape ``(H,)``.
        w2: second weight, shape ``(D, H)``; b2: its bias, shape ``(D,)``.

    Returns:
        Tensor of shape ``(N, D)``.

    Example:
        >>> x = torch.tensor([[1.0, -2.0]])
        >>> residual_block(x, torch.zeros(3, 2), torch.zeros(3), torch.zeros(2, 3), torch.zeros(2)).tolist()
        [[1.0, -2.0]]
    """
    return x + torch.relu(x @ w1.T + b1) @ w2.T + b2


def ensemble_average(logits):
    r"""Average the predicted class probabilities of ``M`` models.

    Introduced in chapter 06 (Activations, initialization, normalization, regularization).

    ``probs = mean_m softmax(logits[m], dim=-1)``: the softmax is taken per model (stably), then averaged.
    Averaging the logits first and taking one softmax is a different combination (a normalized geometric
    mean of the probabilities). The two agree when the models' margins are equal (logits ``[10, 0]`` and
    ``[0, 10]`` give 50/50 either way) and differ when they are not: ``[4, 0]`` and ``[0, 1]`` give
    ``[0.63, 0.37]`` here but ``[0.82, 0.18]`` through the logits, where the larger margin counts for more.

    Args:
        logits: shape ``(M, N, C)``, model ``m``'s logits for ``N`` inputs and ``C`` classes.

    Returns:
        Tensor of shape ``(N, C)``; every row sums to 1.

    Example:
        >>> ensemble_average(torch.tensor([[[0.0, 100.0]], [[100.0, 0.0]]])).tolist()
        [[0.5, 0.5]]
    """
    return torch.softmax(logits, dim=-1).mean(dim=0)


def bn_mlp_logits(params, x, eps=1e-5):
    r"""Evaluation-mode logits of the two-hidden-layer BatchNorm network of chapter 06's training task.

    Introduced in chapter 06 (Activations, initialization, normalization, regularization).

    ``h = x``; for ``k = 1, 2``: ``h = relu(BN_eval(h @ W_k.T + b_k))`` with ``gamma_k``, ``beta_k`` and the
    running statistics ``running_mean_k``, ``running_var_k``; then ``logits = h @ W3.T + b3``. Dropout is the
    identity in evaluation.

    Args:
        params: the dict returned by :func:`train_bn_mlp`.
        x: inputs of shape ``(N, 64)``.
        eps: BatchNorm's epsilon.

    Returns:
        Logits of shape ``(N, 10)``, in ``x``'s dtype.
    """
    h = x
    for k in (1, 2):
        z = h @ params[f"W{k}"].to(x.dtype).T + params[f"b{k}"].to(x.dtype)
        inv_std = torch.rsqrt(params[f"running_var{k}"].to(x.dtype) + eps)
        z = (z - params[f"running_mean{k}"].to(x.dtype)) * inv_std
        h = torch.relu(params[f"gamma{k}"].to(x.dtype) * z + params[f"beta{k}"].to(x.dtype))
    return h @ params["W3"].to(x.dtype).T + params["b3"].to(x.dtype)


def train_bn_mlp(X, y, hidden=64, steps=200, lr=2.0, batch_size=64, p=0.1, seed=0):
    r"""Train a two-hidden-layer BatchNorm + dropout network by hand-written backpropagation and SGD.

    Introduced in chapter 06 (Activations, initialization, normalization, regularization): the chapter's
    make-it-work task, built only from the chapter's own pieces (:func:`init_weight`,
    :func:`batchnorm_forward` / :func:`batchnorm_backward`, :func:`dropout_forward` / :func:`dropout_backward`).

    The network: ``x -> Linear(D, H) -> BatchNorm -> ReLU -> Dropout(p) -> Linear(H, H) -> BatchNorm -> ReLU
    -> Dropout(p) -> Linear(H, 10)``, trained on the mean cross-entropy of mini-batches drawn with
    replacement. ``W1``, ``W2`` start He-initialized, ``W3`` LeCun-initialized, biases and ``beta`` at 0,
    ``gamma`` at 1, running statistics at (0, 1) with momentum 0.1 and ``eps = 1e-5``. Every random draw
    comes from ``torch.Generator().manual_seed(seed)``.

    Args:
        X: training inputs of shape ``(N, D)`` (float32 or float64).
        y: labels ``0..9`` of shape ``(N,)``.
        hidden: the width ``H`` of both hidden layers.
        steps: the number of SGD steps.
        lr: the learning rate (BatchNorm makes a large one safe).
        batch_size: the mini-batch size.
        p: dropout's drop probability.
        seed: the seed of every random draw.

    Returns:
        A dict of tensors: ``W1 (H, D)``, ``b1``, ``gamma1``, ``beta1``, ``running_mean1``, ``running_var1``
        (each ``(H,)``), the same with ``2`` for the second layer (``W2`` of shape ``(H, H)``), ``W3 (10, H)``
        and ``b3 (10,)``. :func:`bn_mlp_logits` evaluates it.

    Example:
        >>> from course.data import load_digits
        >>> X_train, y_train, X_test, y_test = load_digits()
        >>> params = train_bn_mlp(X_train, y_train, seed=0)
        >>> float((bn_mlp_logits(params, X_test).argmax(1) == y_test).float().mean()) > 0.95
        True
    """
    g = torch.Generator(device=X.device).manual_seed(seed)
    dtype, device = X.dtype, X.device
    n, d = X.shape
    params = {"W1": init_weight(d, hidden, "he", g, dtype=dtype), "W2": init_weight(hidden, hidden, "he", g, dtype=dtype),
              "W3": init_weight(hidden, 10, "lecun", g, dtype=dtype), "b3": torch.zeros(10, dtype=dtype, device=device)}
    states = {}
    for k in (1, 2):
        params[f"b{k}"] = torch.zeros(hidden, dtype=dtype, device=device)
        params[f"gamma{k}"] = torch.ones(hidden, dtype=dtype, device=device)
        params[f"beta{k}"] = torch.zeros(hidden, dtype=dtype, device=device)
        states[k] = {"running_mean": torch.zeros(hidden, dtype=dtype, device=device),
                     "running_var": torch.ones(hidden, dtype=dtype, device=device), "momentum": 0.1, "eps": 1e-5}
    rows = torch.arange(batch_size, device=device)
    for _ in range(steps):
        idx = torch.randint(0, n, (batch_size,), generator=g, device=device)
        h, target = X[idx], y[idx]
        saved = []
        for k in (1, 2):
            z = h @ params[f"W{k}"].T + params[f"b{k}"]
            a, bn_cache = batchnorm_forward(z, params[f"gamma{k}"], params[f"beta{k}"], states[k], "train")
            r = torch.relu(a)
            out, mask = dropout_forward(r, p, True, g)
            saved.append((h, bn_cache, a, mask))
            h = out
        logits = h @ params["W3"].T + params["b3"]
        dlogits = torch.softmax(logits, dim=1)
        dlogits[rows, target] -= 1.0
        dlogits /= batch_size
        grads = {"W3": dlogits.T @ h, "b3": dlogits.sum(0)}
        dh = dlogits @ params["W3"]
        for k in (2, 1):
            h_in, bn_cache, a, mask = saved[k - 1]
            da = dropout_backward(dh, mask) * (a > 0)
            dz, grads[f"gamma{k}"], grads[f"beta{k}"] = batchnorm_backward(da, bn_cache)
            grads[f"W{k}"], grads[f"b{k}"] = dz.T @ h_in, dz.sum(0)
            dh = dz @ params[f"W{k}"]
        for name, grad in grads.items():
            params[name] = params[name] - lr * grad
    for k in (1, 2):
        params[f"running_mean{k}"] = states[k]["running_mean"]
        params[f"running_var{k}"] = states[k]["running_var"]
    return params


def concept_eval_mode():
    """Concept question of chapter 06: a BatchNorm network evaluated in training mode.

    Example::

        >>> concept_eval_mode()
        'c'
    """
    return "c"


def concept_bn_learning_rate():
    """Concept question of chapter 06: why BatchNorm tolerates larger learning rates.

    Example::

        >>> concept_bn_learning_rate()
        'b'
    """
    return "b"


def concept_dropout_scaling():
    """Concept question of chapter 06: multiplying by the keep probability after inverted dropout.

    Example::

        >>> concept_dropout_scaling()
        'd'
    """
    return "d"
