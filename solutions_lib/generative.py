"""Normalizing flows, diffusion models and autoregressive masks (chapter 14).

Conventions used throughout (the notebook states them with each exercise):

* Data are rows: ``x`` has shape ``(N, D)``; every function keeps the dtype and device of its input.
* **Diffusion time** runs ``t = 1, ..., T``. Schedule tensors have length ``T + 1`` and are indexed by ``t``
  itself: ``betas[0] = 0`` belongs to ``t = 0``, so ``alphas[0] = alpha_bars[0] = 1``.
* A noise-prediction model is called as ``eps_model(x_t, t)`` with ``t`` a long tensor of shape ``(N,)``.
* **Guidance** uses ``eps_uncond + w * (eps_cond - eps_uncond)``: ``w = 0`` is the unconditional model,
  ``w = 1`` the conditional one, ``w > 1`` guides beyond it.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

__all__ = ["flow_log_prob", "affine_coupling_forward", "affine_coupling_inverse", "ddpm_schedule", "q_sample",
           "ddpm_posterior", "ddpm_loss", "ddpm_sample", "ddim_sample", "gmm_score", "langevin_sample",
           "guided_eps", "masked_conv2d", "train_diffusion", "concept_exact_likelihood",
           "concept_mixture_weights", "concept_ddim_steps"]


# ----------------------------------------------------------------------------- flows

def flow_log_prob(x, inverse):
    """log p(x) of a flow x = f(z), z ~ N(0, I), by the change of variables (chapter 14).

    ``log p(x) = log N(f^{-1}(x); 0, I) + log |det d f^{-1}(x) / dx|``, the Jacobian taken per sample by
    autograd (``inverse`` must act on each row separately).

    Args:
        x: (N, D) points.
        inverse: a function (N, D) -> (N, D), the inverse map f^{-1}.

    Returns:
        (N,) log densities, dtype of ``x`` (detached).

    Example:
        >>> x = torch.tensor([[1.0]], dtype=torch.float64)
        >>> flow_log_prob(x, lambda x: (x - 1) / 2)   # x = 2 z + 1 ~ N(1, 4)
        tensor([-1.6121], dtype=torch.float64)
    """
    with torch.enable_grad():
        xr = x.detach().clone().requires_grad_(True)
        z = inverse(xr)
        rows = [torch.autograd.grad(z[:, i].sum(), xr, retain_graph=True)[0] for i in range(z.shape[1])]
    jac = torch.stack(rows, dim=1)  # (N, D, D): jac[n, i, j] = d z_i / d x_j
    log_abs_det = torch.linalg.slogdet(jac)[1]
    z = z.detach()
    log_base = -0.5 * (z ** 2).sum(-1) - 0.5 * z.shape[1] * math.log(2 * math.pi)
    return (log_base + log_abs_det).to(x.dtype)


def affine_coupling_forward(z, mask, scale_net, shift_net):
    """One real-NVP affine coupling layer, z -> x, and log |det dx/dz| (chapter 14).

    ``x = mask * z + (1 - mask) * (z * exp(s) + b)`` with ``s = scale_net(mask * z)`` and
    ``b = shift_net(mask * z)``: the entries where ``mask == 1`` pass unchanged and condition the others.

    Args:
        z: (N, D) inputs.
        mask: (D,) of zeros and ones.
        scale_net, shift_net: functions (N, D) -> (N, D).

    Returns:
        x: (N, D); log_det: (N,), the sum of s over the entries that change.

    Example:
        >>> z = torch.tensor([[1.0, 2.0]])
        >>> affine_coupling_forward(z, torch.tensor([1.0, 0.0]), lambda u: u.flip(-1), lambda u: 0 * u)
        (tensor([[1.0000, 5.4366]]), tensor([1.]))
    """
    mask = mask.to(z.dtype)
    keep = z * mask
    s, b = scale_net(keep), shift_net(keep)
    x = keep + (1 - mask) * (z * torch.exp(s) + b)
    return x, ((1 - mask) * s).sum(-1)


def affine_coupling_inverse(x, mask, scale_net, shift_net):
    """The inverse of :func:`affine_coupling_forward`, x -> z, and log |det dz/dx| (chapter 14).

    Args:
        x: (N, D) outputs of the forward layer.
        mask, scale_net, shift_net: as in the forward layer.

    Returns:
        z: (N, D); log_det: (N,), minus the forward log-determinant.

    Example:
        >>> x = torch.tensor([[1.0, 5.4366]])
        >>> affine_coupling_inverse(x, torch.tensor([1.0, 0.0]), lambda u: u.flip(-1), lambda u: 0 * u)
        (tensor([[1.0000, 2.0000]]), tensor([-1.]))
    """
    mask = mask.to(x.dtype)
    keep = x * mask
    s, b = scale_net(keep), shift_net(keep)
    z = keep + (1 - mask) * (x - b) * torch.exp(-s)
    return z, -((1 - mask) * s).sum(-1)


# ----------------------------------------------------------------------------- DDPM

def ddpm_schedule(betas):
    """alpha_t = 1 - beta_t and alpha_bar_t = prod_{s <= t} alpha_s (chapter 14).

    Args:
        betas: (T + 1,) with betas[0] = 0; betas[t] is beta_t for t = 1..T.

    Returns:
        alphas, alpha_bars: (T + 1,) each, indexed by t (both equal 1 at t = 0).

    Example:
        >>> ddpm_schedule(torch.tensor([0.0, 0.1, 0.5]))
        (tensor([1.0000, 0.9000, 0.5000]), tensor([1.0000, 0.9000, 0.4500]))
    """
    alphas = 1 - betas
    return alphas, torch.cumprod(alphas, dim=0)


def _at(values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """values[t] shaped to broadcast against ``like`` (N, ...)."""
    picked = values.to(like.dtype)[torch.as_tensor(t, device=values.device).long()]
    return picked.reshape(picked.shape + (1,) * (like.dim() - picked.dim()))


def q_sample(x0, t, noise, betas):
    """A draw of x_t ~ q(x_t | x_0) in closed form, with the noise passed in (chapter 14).

    ``x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise``.

    Args:
        x0: (N, D) clean data; t: long (N,) steps in 1..T; noise: (N, D) standard normal; betas: (T + 1,).

    Returns:
        (N, D).

    Example:
        >>> q_sample(torch.ones(1, 2), torch.tensor([1]), torch.zeros(1, 2), torch.tensor([0.0, 0.19]))
        tensor([[0.9000, 0.9000]])
    """
    _, alpha_bars = ddpm_schedule(betas)
    ab = _at(alpha_bars, t, x0)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def ddpm_posterior(x0, xt, t, betas):
    """Mean and variance of the forward-process posterior q(x_{t-1} | x_t, x_0) (chapter 14).

    Args:
        x0, xt: (N, D); t: long (N,) in 1..T; betas: (T + 1,).

    Returns:
        mean: (N, D); variance: (N,) (the covariance is variance * I).

    Example:
        >>> mean, var = ddpm_posterior(torch.zeros(1, 1), torch.ones(1, 1), torch.tensor([2]),
        ...                            torch.tensor([0.0, 0.5, 0.5]))
        >>> mean, var
        (tensor([[0.4714]]), tensor([0.3333]))
    """
    alphas, alpha_bars = ddpm_schedule(betas)
    a, ab, ab_prev = _at(alphas, t, x0), _at(alpha_bars, t, x0), _at(alpha_bars, t - 1, x0)
    beta = 1 - a
    mean = (ab_prev.sqrt() * beta / (1 - ab)) * x0 + (a.sqrt() * (1 - ab_prev) / (1 - ab)) * xt
    var = beta * (1 - ab_prev) / (1 - ab)
    return mean, var.reshape(var.shape[0])


def ddpm_loss(eps_model, x0, t, noise, betas):
    """The simple noise-prediction loss: mean over all entries of (noise - eps_model(x_t, t))^2 (chapter 14).

    Args:
        eps_model: (x_t (N, D), t long (N,)) -> (N, D).
        x0: (N, D); t: long (N,) in 1..T; noise: (N, D); betas: (T + 1,).

    Returns:
        scalar tensor (differentiable w.r.t. the model's parameters).

    Example:
        >>> ddpm_loss(lambda x, t: 0 * x, torch.ones(2, 1), torch.tensor([1, 1]), torch.ones(2, 1),
        ...           torch.tensor([0.0, 0.5]))
        tensor(1.)
    """
    xt = q_sample(x0, t, noise, betas)
    return ((noise - eps_model(xt, t)) ** 2).mean()


def ddpm_sample(eps_model, x_T, noises, betas):
    """Ancestral DDPM sampling from x_T down to x_0 (chapter 14).

    For t = T, ..., 1:
    ``x_{t-1} = (x_t - beta_t / sqrt(1 - alpha_bar_t) * eps_model(x_t, t)) / sqrt(alpha_t) + sigma_t * noises[t - 1]``
    with sigma_t^2 the posterior variance beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) (zero at t = 1).

    Args:
        eps_model: (x (N, D), t long (N,)) -> (N, D).
        x_T: (N, D) start; noises: (T, N, D), step t uses noises[t - 1]; betas: (T + 1,).

    Returns:
        (N, D) samples x_0.

    Example:
        >>> betas = torch.tensor([0.0, 0.5])
        >>> ddpm_sample(lambda x, t: 0 * x, torch.ones(1, 1), torch.zeros(1, 1, 1), betas)
        tensor([[1.4142]])
    """
    alphas, alpha_bars = ddpm_schedule(betas.to(x_T.dtype))
    T = betas.shape[0] - 1
    x = x_T
    for t in range(T, 0, -1):
        tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
        eps = eps_model(x, tt)
        beta = 1 - alphas[t]
        mean = (x - beta / (1 - alpha_bars[t]).sqrt() * eps) / alphas[t].sqrt()
        var = beta * (1 - alpha_bars[t - 1]) / (1 - alpha_bars[t])
        x = mean + var.sqrt() * noises[t - 1]
    return x


def ddim_sample(eps_model, x_T, betas, timesteps):
    """Deterministic DDIM sampling (eta = 0) along a subsequence of steps (chapter 14).

    Going through ``timesteps`` (increasing, in 1..T) from the last to the first, then to t = 0:
    ``x0_hat = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t)`` and ``x_prev = sqrt(ab_prev) x0_hat + sqrt(1 - ab_prev) eps``
    with ab = alpha_bar (cumulative) and prev the previous entry of ``timesteps`` (0 after the first).

    Args:
        eps_model: (x, t long (N,)) -> (N, D); x_T: (N, D); betas: (T + 1,); timesteps: long (S,), increasing.

    Returns:
        (N, D) samples.

    Example:
        >>> ddim_sample(lambda x, t: 0 * x, torch.ones(1, 1), torch.tensor([0.0, 0.75]), torch.tensor([1]))
        tensor([[2.]])
    """
    _, alpha_bars = ddpm_schedule(betas.to(x_T.dtype))
    steps = [int(s) for s in timesteps]
    x = x_T
    for i in range(len(steps) - 1, -1, -1):
        t, prev = steps[i], (steps[i - 1] if i > 0 else 0)
        tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
        eps = eps_model(x, tt)
        x0_hat = (x - (1 - alpha_bars[t]).sqrt() * eps) / alpha_bars[t].sqrt()
        x = alpha_bars[prev].sqrt() * x0_hat + (1 - alpha_bars[prev]).sqrt() * eps
    return x


def guided_eps(eps_cond, eps_uncond, w):
    """Classifier-free guidance: eps_uncond + w * (eps_cond - eps_uncond) (chapter 14).

    w = 0 gives the unconditional prediction, w = 1 the conditional one, w > 1 extrapolates past it.

    Args:
        eps_cond, eps_uncond: (N, D); w: guidance scale (float).

    Returns:
        (N, D).

    Example:
        >>> guided_eps(torch.tensor([[1.0]]), torch.tensor([[0.0]]), 3.0)
        tensor([[3.]])
    """
    return eps_uncond + w * (eps_cond - eps_uncond)


# ----------------------------------------------------------------------------- scores and Langevin

def gmm_score(x, weights, means, covs):
    """The exact score grad_x log p(x) of a Gaussian mixture, by hand and stable (chapter 14).

    ``p(x) = sum_k w_k N(x; mu_k, Sigma_k)``; the score is ``sum_k r_k(x) Sigma_k^{-1} (mu_k - x)`` with the
    responsibilities r_k computed by a log-sum-exp (softmax over k of log w_k + log N(x; mu_k, Sigma_k)).

    Args:
        x: (N, D); weights: (K,) summing to 1; means: (K, D); covs: (K, D, D) positive definite.

    Returns:
        (N, D).

    Example:
        >>> gmm_score(torch.tensor([[1.0]]), torch.tensor([1.0]), torch.tensor([[0.0]]), torch.tensor([[[2.0]]]))
        tensor([[-0.5000]])
    """
    dtype = x.dtype
    weights, means, covs = weights.to(dtype), means.to(dtype), covs.to(dtype)
    prec = torch.linalg.inv(covs)                               # (K, D, D)
    diff = means.unsqueeze(0) - x.unsqueeze(1)                  # (N, K, D): mu_k - x
    pulled = torch.einsum("kij,nkj->nki", prec, diff)           # Sigma_k^{-1} (mu_k - x)
    maha = (diff * pulled).sum(-1)                              # (N, K)
    logdet = torch.linalg.slogdet(covs)[1]                      # (K,)
    log_joint = torch.log(weights) - 0.5 * maha - 0.5 * logdet  # the 2 pi constant cancels in the softmax
    resp = torch.softmax(log_joint, dim=1)
    return (resp.unsqueeze(-1) * pulled).sum(1)


def langevin_sample(score_fn, x_init, step_size, noises):
    """Unadjusted Langevin dynamics: x <- x + step_size * score(x) + sqrt(2 step_size) * z (chapter 14).

    Args:
        score_fn: (N, D) -> (N, D); x_init: (N, D); step_size: float; noises: (K, N, D), step k uses noises[k].

    Returns:
        (N, D), the state after K steps.

    Example:
        >>> langevin_sample(lambda x: -x, torch.ones(1, 1), 0.5, torch.zeros(2, 1, 1))
        tensor([[0.2500]])
    """
    x = x_init
    for z in noises:
        x = x + step_size * score_fn(x) + math.sqrt(2 * step_size) * z
    return x


# ----------------------------------------------------------------------------- autoregressive masks

def masked_conv2d(x, weight, bias, mask_type):
    """A PixelCNN masked convolution, stride 1, 'same' padding (chapter 14).

    Pixels are generated in raster order (row by row, left to right). The spatial mask of the (k, k) kernel
    keeps the rows above the centre and, in the centre row, the taps left of the centre; type ``"A"``
    (first layer) drops the centre tap, type ``"B"`` (later layers) keeps it. The same mask applies to every
    (output, input) channel pair.

    Args:
        x: (N, C_in, H, W); weight: (C_out, C_in, k, k), k odd; bias: (C_out,) or None; mask_type: "A" or "B".

    Returns:
        (N, C_out, H, W).

    Example:
        >>> y = masked_conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), None, "A")
        >>> y[0, 0]
        tensor([[0., 1., 1.],
                [2., 4., 3.],
                [2., 4., 3.]])
    """
    k = weight.shape[-1]
    mask = torch.ones(k, k, dtype=weight.dtype, device=weight.device)
    c = k // 2
    mask[c, c + (1 if mask_type == "B" else 0):] = 0
    mask[c + 1:] = 0
    return F.conv2d(x, weight * mask, bias, padding=c)


# ----------------------------------------------------------------------------- make it work

class _EpsNet(torch.nn.Module):
    """A small MLP eps(x_t, t) for 2-D data, t fed as sinusoidal features of t / T."""

    def __init__(self, T: int, dim: int = 2, width: int = 128, n_freq: int = 8):
        super().__init__()
        self.T = T
        self.register_buffer("freqs", torch.pi * 2.0 ** torch.arange(n_freq) / 2)
        self.net = torch.nn.Sequential(torch.nn.Linear(dim + 2 * n_freq, width), torch.nn.SiLU(),
                                       torch.nn.Linear(width, width), torch.nn.SiLU(),
                                       torch.nn.Linear(width, width), torch.nn.SiLU(),
                                       torch.nn.Linear(width, dim))

    def forward(self, x, t):
        s = (torch.as_tensor(t, device=x.device).to(x.dtype) / self.T).reshape(-1, 1) * self.freqs.to(x.dtype)
        return self.net(torch.cat([x, torch.sin(s).expand(x.shape[0], -1), torch.cos(s).expand(x.shape[0], -1)], -1))


def train_diffusion(x_train, betas, seed):
    """Train a noise-prediction network on 2-D data with :func:`ddpm_loss` (chapter 14, make it work).

    Deterministic under ``seed``; about ten seconds on two CPU cores.

    Args:
        x_train: (N, 2) float32 training data; betas: (T + 1,) schedule; seed: int.

    Returns:
        eps_model: a callable (x (M, 2), t long (M,)) -> (M, 2), in evaluation mode.

    Example:
        >>> model = train_diffusion(torch.randn(256, 2), torch.linspace(0, 0.2, 41), seed=0)  # doctest: +SKIP
    """
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    T = betas.shape[0] - 1
    model = _EpsNet(T, dim=x_train.shape[1]).to(x_train.dtype)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    steps, batch = 3000, 256
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        idx = torch.randint(0, x_train.shape[0], (batch,), generator=gen)
        t = torch.randint(1, T + 1, (batch,), generator=gen)
        noise = torch.randn(batch, x_train.shape[1], generator=gen, dtype=x_train.dtype)
        loss = ddpm_loss(model, x_train[idx], t, noise, betas.to(x_train.dtype))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


# ----------------------------------------------------------------------------- concept questions

def concept_exact_likelihood():
    """Concept question 1 of chapter 14: which model gives an exact log-likelihood of a test point?

    Example:
        >>> concept_exact_likelihood()
        'b'
    """
    return "b"


def concept_mixture_weights():
    """Concept question 2 of chapter 14: do a mixture's weights enter its score?

    Example:
        >>> concept_mixture_weights()
        'c'
    """
    return "c"


def concept_ddim_steps():
    """Concept question 3 of chapter 14: why can DDIM skip steps with a DDPM-trained model?

    Example:
        >>> concept_ddim_steps()
        'a'
    """
    return "a"
