"""Two interleaved spirals in the plane: a small classification problem no linear model can solve.

Used by chapter 04 (Finite differences, forward and reverse mode), whose two-layer network is trained on
it with a hand-written backward pass. Nothing is downloaded; randomness is passed in.
"""
from __future__ import annotations

import math

import torch

__all__ = ["make_spirals"]


def make_spirals(n: int, generator: torch.Generator, *, turns: float = 1.25, noise: float = 0.08,
                 dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points on two interleaved spiral arms (classes 0 and 1), with Gaussian noise.

    A point of class ``c`` at position ``t`` in ``[0, 1)`` along its arm lies at radius ``0.15 + t`` and
    angle ``2 pi turns t + pi c``: the two arms are the same curve rotated by half a turn. Labels
    alternate (so the classes are as balanced as ``n`` allows) and come in random order.

    Args:
        n: the number of points.
        generator: the source of randomness (a CPU ``torch.Generator``).
        turns: how many full turns each arm makes.
        noise: the standard deviation of the Gaussian noise added to each coordinate.
        dtype: the floating dtype of the points.

    Returns:
        ``(X, y)``: points of shape ``(n, 2)`` and ``dtype``, labels of shape ``(n,)`` and ``torch.int64``.

    Example:
        >>> X, y = make_spirals(100, torch.Generator().manual_seed(0))
        >>> tuple(X.shape), torch.bincount(y).tolist()
        ((100, 2), [50, 50])
    """
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    labels = torch.arange(n) % 2
    labels = labels[torch.randperm(n, generator=generator)]
    t = torch.rand(n, generator=generator, dtype=torch.float64)
    radius = 0.15 + t
    angle = 2.0 * math.pi * turns * t + math.pi * labels.to(torch.float64)
    X = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    X = X + noise * torch.randn(n, 2, generator=generator, dtype=torch.float64)
    return X.to(dtype), labels
