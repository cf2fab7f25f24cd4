"""Digits that wander: the 8x8 digits placed at random positions on a larger blank canvas (chapter 07).

A linear classifier on the pixels of these images fails (the same stroke lands on other pixels in every
image), while a small CNN whose head sees only a *globally averaged* feature map recognizes the digit
wherever it is: the convolutions are translation equivariant, and the average over positions turns that
into invariance. Chapter 07's make-it-work task trains such a network from the student's own layers.

* :func:`load_shifted_digits` — the images, split into train and test parts;
* :func:`cnn_forward` — the small CNN of the task (conv → ReLU → 2x2 max pool → conv → ReLU → global
  average → linear), computed with ``torch.nn.functional`` in float64;
* :func:`cnn_accuracy` — its accuracy on labelled images, as the grader measures it.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .data import load_digits

__all__ = ["CNN_KEYS", "load_shifted_digits", "place_digits", "cnn_forward", "cnn_accuracy"]

CNN_KEYS = ("w1", "b1", "w2", "b2", "W", "b")
"""The parameters of the task's CNN, in the order of the forward pass."""


def place_digits(X: torch.Tensor, canvas: int, generator: torch.Generator) -> torch.Tensor:
    """Paste each flattened 8x8 digit at a random position of a blank ``canvas x canvas`` image.

    Args:
        X: digits, shape ``(N, 64)`` (rows of ``load_digits``).
        canvas: the side of the blank image, at least 8.
        generator: draws the top-left corner of every digit, uniformly in ``0..canvas-8`` on each axis.

    Returns:
        Images of shape ``(N, 1, canvas, canvas)`` and the dtype of ``X``.

    Example:
        >>> images = place_digits(torch.ones(3, 64), 12, torch.Generator().manual_seed(0))
        >>> tuple(images.shape), images.sum().item()
        ((3, 1, 12, 12), 192.0)
    """
    if canvas < 8:
        raise ValueError(f"canvas must be at least 8, got {canvas}")
    n = X.shape[0]
    corners = torch.randint(0, canvas - 7, (n, 2), generator=generator)
    images = X.new_zeros(n, 1, canvas, canvas)
    digits = X.reshape(n, 8, 8)
    for i in range(canvas - 7):
        for j in range(canvas - 7):
            here = (corners[:, 0] == i) & (corners[:, 1] == j)
            images[here, 0, i:i + 8, j:j + 8] = digits[here]
    return images


def load_shifted_digits(test_fraction: float = 0.25, seed: int = 0, canvas: int = 12,
                        dtype: torch.dtype = torch.float32):
    """The digits split as :func:`course.data.load_digits` splits them, each pasted at a random position.

    The split and the positions both come from ``seed``: the same seed gives the same images everywhere.

    Args:
        test_fraction: the share of the 1797 digits held out.
        seed: the seed of the split and of the positions.
        canvas: the side of the images.
        dtype: the floating dtype of the images.

    Returns:
        ``(X_train, y_train, X_test, y_test)``: images of shape ``(N, 1, canvas, canvas)`` in ``[0, 1]`` and
        labels of shape ``(N,)`` (``torch.int64``).

    Example:
        >>> X_train, y_train, X_test, y_test = load_shifted_digits()
        >>> tuple(X_train.shape), tuple(X_test.shape)
        ((1348, 1, 12, 12), (449, 1, 12, 12))
    """
    X_train, y_train, X_test, y_test = load_digits(test_fraction, seed=seed, dtype=dtype)
    g = torch.Generator().manual_seed(10_000 + seed)
    return place_digits(X_train, canvas, g), y_train, place_digits(X_test, canvas, g), y_test


def cnn_forward(params: dict, images: torch.Tensor) -> torch.Tensor:
    """Logits of the task's CNN, in float64: conv 3x3 (padding 1) → ReLU → 2x2 max pool → conv 3x3
    (padding 1) → ReLU → average over all positions → linear.

    Args:
        params: ``"w1"`` ``(C1, 1, 3, 3)``, ``"b1"`` ``(C1,)``, ``"w2"`` ``(C2, C1, 3, 3)``, ``"b2"`` ``(C2,)``,
            ``"W"`` ``(C2, 10)``, ``"b"`` ``(10,)``.
        images: shape ``(N, 1, H, W)``.

    Returns:
        Logits of shape ``(N, 10)``, float64.
    """
    p = {k: torch.as_tensor(params[k]).detach().to(torch.float64).cpu() for k in CNN_KEYS}
    with torch.no_grad():
        h = F.max_pool2d(F.relu(F.conv2d(images.to(torch.float64).cpu(), p["w1"], p["b1"], padding=1)), 2)
        h = F.relu(F.conv2d(h, p["w2"], p["b2"], padding=1))
        return h.mean(dim=(2, 3)) @ p["W"] + p["b"]


def cnn_accuracy(params: dict, images: torch.Tensor, labels: torch.Tensor) -> float:
    """The share of ``images`` whose label is the argmax of :func:`cnn_forward`'s logits."""
    return float((cnn_forward(params, images).argmax(dim=1) == labels.cpu()).double().mean())
