"""Toy distributions with exact densities, small networks and a mode-coverage report for chapter 13.

* :func:`sample_ring` / :func:`ring_density` / :func:`ring_modes` — a mixture of ``k`` round Gaussians
  evenly spaced on a circle: the classic test of whether a GAN covers every mode.
* :func:`sample_mixture_1d` / :func:`mixture_1d_density` — a two-component Gaussian mixture on the line,
  for pictures of a generator's density against the data's.
* :func:`mode_report` — which share of samples lands near a mode of the ring, and how the modes share them.
* :func:`make_generator`, :func:`make_discriminator`, :func:`make_digits_classifier` — small MLPs whose
  initial weights come from a passed-in ``torch.Generator`` (so a seed fixes everything).

Nothing here downloads anything; randomness is always passed in.
"""
from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["RING", "ring_modes", "sample_ring", "ring_density", "mode_report", "MIXTURE_1D",
           "sample_mixture_1d", "mixture_1d_density", "make_mlp", "make_generator", "make_discriminator",
           "make_digits_classifier"]

RING = {"k": 8, "radius": 2.0, "std": 0.1}
"""The ring used throughout chapter 13: 8 modes on a circle of radius 2, each with standard deviation 0.1."""

MIXTURE_1D = {"means": (-2.0, 1.5), "stds": (0.4, 0.6), "weights": (0.35, 0.65)}
"""The 1-D data distribution of chapter 13's GAN demo."""


def ring_modes(k: int = RING["k"], radius: float = RING["radius"], dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The ``k`` mode centres ``radius * (cos(2 pi j / k), sin(2 pi j / k))``, shape ``(k, 2)``.

    Example:
        >>> ring_modes(4, 1.0).round(decimals=3).abs().tolist()
        [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
    """
    angles = 2.0 * math.pi * torch.arange(k, dtype=torch.float64) / k
    return (radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)).to(dtype)


def sample_ring(n: int, generator: torch.Generator, k: int = RING["k"], radius: float = RING["radius"],
                std: float = RING["std"], dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``n`` points from the ring mixture (each mode equally likely), shape ``(n, 2)``.

    Example:
        >>> tuple(sample_ring(5, torch.Generator().manual_seed(0)).shape)
        (5, 2)
    """
    which = torch.randint(k, (n,), generator=generator)
    noise = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    return (ring_modes(k, radius, torch.float64)[which] + std * noise).to(dtype)


def ring_density(x: torch.Tensor, k: int = RING["k"], radius: float = RING["radius"],
                 std: float = RING["std"]) -> torch.Tensor:
    """The exact density of the ring mixture at points ``x`` of shape ``(..., 2)``; returns shape ``(...)``.

    Example:
        >>> float(ring_density(torch.zeros(2))) < 1e-80
        True
    """
    modes = ring_modes(k, radius, x.dtype).to(x.device)
    d2 = ((x.unsqueeze(-2) - modes) ** 2).sum(-1)
    log_comp = -d2 / (2 * std ** 2) - math.log(2 * math.pi * std ** 2) - math.log(k)
    return torch.logsumexp(log_comp, dim=-1).exp()


def mode_report(samples: torch.Tensor, k: int = RING["k"], radius: float = RING["radius"],
                std: float = RING["std"], near: float = 3.0) -> dict:
    """Where generated points land on the ring.

    A point is *near* a mode when it lies within ``near * std`` of that mode's centre (98.9% of the true
    distribution's points do, for ``near = 3``).

    Returns:
        ``{"near_fraction": share of points near some mode, "per_mode": share of all points near each
        mode (list of k floats), "covered": number of modes holding at least 1/(4k) of the points}``.

    Example:
        >>> report = mode_report(sample_ring(4000, torch.Generator().manual_seed(0)))
        >>> report["near_fraction"] > 0.97, report["covered"]
        (True, 8)
    """
    x = torch.as_tensor(samples).detach().to("cpu", torch.float64).reshape(-1, 2)
    modes = ring_modes(k, radius, torch.float64)
    dist = torch.cdist(x, modes)
    nearest = dist.argmin(dim=1)
    is_near = dist.gather(1, nearest[:, None]).squeeze(1) <= near * std
    n = max(x.shape[0], 1)
    per_mode = torch.bincount(nearest[is_near], minlength=k).double() / n
    finite = bool(torch.isfinite(x).all())
    return {"near_fraction": float(is_near.double().sum() / n) if finite else 0.0,
            "per_mode": per_mode.tolist(),
            "covered": int((per_mode >= 1.0 / (4 * k)).sum()) if finite else 0}


def sample_mixture_1d(n: int, generator: torch.Generator, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``n`` draws from the 1-D mixture :data:`MIXTURE_1D`, shape ``(n, 1)``.

    Example:
        >>> tuple(sample_mixture_1d(3, torch.Generator().manual_seed(0)).shape)
        (3, 1)
    """
    means = torch.tensor(MIXTURE_1D["means"], dtype=torch.float64)
    stds = torch.tensor(MIXTURE_1D["stds"], dtype=torch.float64)
    which = torch.multinomial(torch.tensor(MIXTURE_1D["weights"]), n, replacement=True, generator=generator)
    z = torch.randn(n, generator=generator, dtype=torch.float64)
    return (means[which] + stds[which] * z).to(dtype).reshape(n, 1)


def mixture_1d_density(x: torch.Tensor) -> torch.Tensor:
    """The exact density of :data:`MIXTURE_1D` at the points ``x`` (any shape).

    Example:
        >>> round(float(mixture_1d_density(torch.tensor(1.5))), 3)
        0.432
    """
    out = torch.zeros_like(x, dtype=torch.float64)
    for m, s, w in zip(MIXTURE_1D["means"], MIXTURE_1D["stds"], MIXTURE_1D["weights"]):
        out = out + w * torch.exp(-0.5 * ((x.double() - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
    return out.to(x.dtype) if x.is_floating_point() else out


def make_mlp(sizes: list[int], generator: torch.Generator, activation: type = nn.ReLU,
             dtype: torch.dtype = torch.float32) -> nn.Sequential:
    """Linear layers of the given ``sizes`` with ``activation`` between them, initialized from ``generator``.

    Weights and biases are uniform in ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]`` (PyTorch's default range), drawn
    from ``generator`` in layer order, so the same generator state always builds the same network.

    Example:
        >>> net = make_mlp([2, 8, 1], torch.Generator().manual_seed(0))
        >>> tuple(net(torch.zeros(5, 2)).shape)
        (5, 1)
    """
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(fan_in, fan_out, dtype=dtype)
        bound = 1.0 / math.sqrt(fan_in)
        with torch.no_grad():
            linear.weight.copy_((torch.rand(fan_out, fan_in, generator=generator, dtype=torch.float64) * 2 - 1) * bound)
            linear.bias.copy_((torch.rand(fan_out, generator=generator, dtype=torch.float64) * 2 - 1) * bound)
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def make_generator(generator: torch.Generator, latent_dim: int = 2, hidden: int = 128, out_dim: int = 2) -> nn.Sequential:
    """The generator of chapter 13's 2-D GAN: ``latent_dim -> hidden -> hidden -> out_dim``, ReLU.

    Example:
        >>> tuple(make_generator(torch.Generator().manual_seed(0))(torch.zeros(3, 2)).shape)
        (3, 2)
    """
    return make_mlp([latent_dim, hidden, hidden, out_dim], generator)


def make_discriminator(generator: torch.Generator, in_dim: int = 2, hidden: int = 128) -> nn.Sequential:
    """The discriminator of chapter 13's 2-D GAN: ``in_dim -> hidden -> hidden -> 1`` (one logit), LeakyReLU.

    Example:
        >>> tuple(make_discriminator(torch.Generator().manual_seed(0))(torch.zeros(3, 2)).shape)
        (3, 1)
    """
    return make_mlp([in_dim, hidden, hidden, 1], generator, activation=lambda: nn.LeakyReLU(0.2))


def make_digits_classifier(generator: torch.Generator, hidden: int = 64, dtype: torch.dtype = torch.float32) -> nn.Sequential:
    """The digits classifier of chapter 13: ``64 -> hidden -> 10`` logits, ReLU.

    Example:
        >>> tuple(make_digits_classifier(torch.Generator().manual_seed(0))(torch.zeros(3, 64)).shape)
        (3, 10)
    """
    return make_mlp([64, hidden, 10], generator, dtype=dtype)
