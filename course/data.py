"""Small data sets that work offline: nothing here downloads anything.

* :func:`load_digits` — scikit-learn's bundled 8x8 handwritten digits (1797 images, 10 classes),
  scaled to ``[0, 1]`` and split into train and test sets by a seeded permutation.
* :func:`make_blobs_2d` — Gaussian clusters in the plane, for pictures of decision regions.

Both return plain torch tensors; randomness is always passed in (a seed or a ``torch.Generator``).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch

__all__ = ["DigitsSplit", "load_digits", "make_blobs_2d"]

DIGITS_SIZE = 1797
"""The number of images in scikit-learn's digits data set."""


class DigitsSplit(NamedTuple):
    """A train/test split of the digits; unpacks as ``X_train, y_train, X_test, y_test``."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor


def load_digits(test_fraction: float = 0.25, seed: int = 0, dtype: torch.dtype = torch.float32) -> DigitsSplit:
    """The 8x8 handwritten digits bundled with scikit-learn, flattened, scaled to [0, 1] and split.

    Each image is a row of 64 pixel intensities (row-major, so ``X[i].reshape(8, 8)`` is the picture),
    divided by 16, the largest raw value. The split is a random permutation drawn from
    ``torch.Generator().manual_seed(seed)``: the same seed always gives the same split, on every machine.
    The test set holds the first ``round(test_fraction * 1797)`` examples of the permutation.

    Args:
        test_fraction: the share of the 1797 images held out for testing, in ``[0, 1)``.
        seed: the seed of the split.
        dtype: the floating dtype of the inputs (labels are always ``torch.int64``).

    Returns:
        ``DigitsSplit(X_train, y_train, X_test, y_test)`` with shapes ``(N_train, 64)``, ``(N_train,)``,
        ``(N_test, 64)``, ``(N_test,)``. With the default ``test_fraction=0.25``: ``N_train = 1348``,
        ``N_test = 449``. Labels are the digits 0..9.

    Example:
        >>> X_train, y_train, X_test, y_test = load_digits()
        >>> tuple(X_train.shape), tuple(X_test.shape), float(X_train.max())
        ((1348, 64), (449, 64), 1.0)
    """
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    from sklearn.datasets import load_digits as _sklearn_digits  # imported here: sklearn is slow to import

    bunch = _sklearn_digits()
    X = torch.as_tensor(bunch.data, dtype=torch.float64) / 16.0
    y = torch.as_tensor(bunch.target, dtype=torch.int64)
    order = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(seed))
    n_test = int(round(test_fraction * X.shape[0]))
    test, train = order[:n_test], order[n_test:]
    X = X.to(dtype)
    return DigitsSplit(X[train], y[train], X[test], y[test])


def make_blobs_2d(n: int, k: int, generator: torch.Generator, *, radius: float = 3.0, spread: float = 1.0,
                  dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points in the plane drawn from ``k`` round Gaussian clusters, with their cluster labels.

    Cluster ``j`` is centred at ``radius * (cos(2 pi j / k), sin(2 pi j / k))`` with standard deviation
    ``spread`` in each direction. Labels cycle through ``0..k-1`` (so the classes are as balanced as
    ``n`` allows) and the points come in random order.

    Args:
        n: the number of points.
        k: the number of clusters (classes), at least 1.
        generator: the source of randomness (a CPU ``torch.Generator``).
        radius: the distance of the centres from the origin.
        spread: the standard deviation of each cluster.
        dtype: the floating dtype of the points.

    Returns:
        ``(X, y)``: points of shape ``(n, 2)`` and ``dtype``, labels of shape ``(n,)`` and ``torch.int64``.

    Example:
        >>> X, y = make_blobs_2d(100, 3, torch.Generator().manual_seed(0))
        >>> tuple(X.shape), tuple(y.shape), torch.bincount(y).tolist()
        ((100, 2), (100,), [34, 33, 33])
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    angles = 2.0 * math.pi * torch.arange(k, dtype=torch.float64) / k
    centres = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    labels = torch.arange(n) % k
    labels = labels[torch.randperm(n, generator=generator)]
    noise = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    X = centres[labels] + spread * noise
    return X.to(dtype), labels
