"""Helpers for chapter 20 (attributing predictions): digits, a small classifier, deletion curves, patches.

* :func:`attribution_digits` — the 8x8 digits as float32 rows in [0, 1], split into train and test.
* :func:`train_digit_classifier` — a small MLP (64-32-10) trained full-batch in about a second.
* :func:`deletion_curve` / :func:`random_deletion_curve` — the target class's probability as pixels are set
  to 0, most important first (or in random orders), and the area under that curve.
* :func:`patch_model` — a classifier seen as a function of 16 patch switches (2x2 pixels each), for Shapley
  values over patches.

Randomness is always passed in (a seed or a ``torch.Generator``).
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import torch

__all__ = ["DigitSplit", "attribution_digits", "train_digit_classifier", "deletion_curve", "deletion_auc",
           "random_deletion_curve", "patch_model", "patches_to_pixels"]


class DigitSplit(NamedTuple):
    """``X_train, y_train, X_test, y_test``: float32 (N, 64) images in [0, 1] and int64 labels."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor


def attribution_digits(n_test: int = 400, seed: int = 20) -> DigitSplit:
    """All 1797 8x8 digits, pixels scaled to [0, 1], a random test split of ``n_test`` images.

    Example:
        >>> split = attribution_digits()
        >>> split.X_train.shape, split.X_test.shape
        (torch.Size([1397, 64]), torch.Size([400, 64]))
    """
    from sklearn.datasets import load_digits as _sklearn_digits  # imported here: sklearn is slow to import

    data = _sklearn_digits()
    X = torch.tensor(data.data, dtype=torch.float32) / 16.0
    y = torch.tensor(data.target, dtype=torch.int64)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    test, train = order[:n_test], order[n_test:]
    return DigitSplit(X[train], y[train], X[test], y[test])


def train_digit_classifier(X: torch.Tensor, y: torch.Tensor, seed: int = 0, steps: int = 150,
                           hidden: int = 32) -> torch.nn.Module:
    """A 64-hidden-10 ReLU MLP trained full batch with Adam (deterministic under ``seed``), in eval mode.

    Args:
        X: (N, 64) float32 images; y: int64 (N,) labels; seed: initialization seed; steps: Adam steps.

    Returns:
        the trained ``torch.nn.Sequential`` mapping (B, 64) images to (B, 10) logits.
    """
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()


def _curve_for_orders(model: Callable, x: torch.Tensor, target: torch.Tensor, orders: torch.Tensor) -> torch.Tensor:
    """(B, D + 1) target probabilities as the pixels of each row are zeroed in ``orders`` (B, D)."""
    b, d = x.shape
    steps = torch.arange(d + 1)
    # rank[b, j] = position of pixel j in row b's order; after k deletions pixel j is gone iff rank < k.
    rank = torch.empty_like(orders)
    rank.scatter_(1, orders, torch.arange(d).expand(b, d).contiguous())
    kept = rank[:, None, :] >= steps[None, :, None]                      # (B, D + 1, D)
    images = (x[:, None, :] * kept).reshape(-1, d)
    with torch.no_grad():
        probs = torch.softmax(model(images), dim=-1)
    return probs.reshape(b, d + 1, -1).gather(2, target.reshape(b, 1, 1).expand(b, d + 1, 1))[..., 0]


def deletion_curve(model: Callable, x: torch.Tensor, target: torch.Tensor, attributions: torch.Tensor) -> torch.Tensor:
    """The deletion curve: target probability after deleting (zeroing) the k highest-attributed pixels.

    Ties are broken by pixel index (a stable sort), so the curve is a function of the attributions alone.

    Args:
        model: (B, D) -> (B, C) logits; x: (B, D); target: int64 (B,); attributions: (B, D).

    Returns:
        (B, D + 1) tensor, column k the probability with k pixels deleted (column 0: the original image).
    """
    scores = torch.as_tensor(attributions, dtype=torch.float64).reshape(x.shape)
    scores = torch.nan_to_num(scores, nan=-torch.inf)
    orders = torch.sort(-scores, dim=1, stable=True).indices
    return _curve_for_orders(model, x, target, orders)


def random_deletion_curve(model: Callable, x: torch.Tensor, target: torch.Tensor, generator: torch.Generator,
                          n_orders: int = 20) -> torch.Tensor:
    """The deletion curve of random orders, averaged over ``n_orders`` draws: the baseline to beat.

    Returns:
        (B, D + 1) tensor.
    """
    b, d = x.shape
    curves = [_curve_for_orders(model, x, target,
                                torch.stack([torch.randperm(d, generator=generator) for _ in range(b)]))
              for _ in range(n_orders)]
    return torch.stack(curves).mean(0)


def deletion_auc(curve: torch.Tensor) -> float:
    """The area under deletion curves (mean over rows), with the x axis the fraction of pixels deleted."""
    c = curve.double()
    return float(((c[:, 1:] + c[:, :-1]) / 2).mean())


def patches_to_pixels(patch_values: torch.Tensor, patch: int = 2, side: int = 8) -> torch.Tensor:
    """Expand (..., (side/patch)**2) patch values to (..., side**2) pixel values (each patch a square)."""
    n = side // patch
    grid = patch_values.reshape(*patch_values.shape[:-1], n, n)
    return grid.repeat_interleave(patch, -2).repeat_interleave(patch, -1).reshape(*patch_values.shape[:-1], side * side)


def patch_model(model: Callable, image: torch.Tensor, target: int, patch: int = 2) -> Callable:
    """The target probability as a function of patch switches: z (N, P) in {0, 1} keeps patch p where z = 1.

    With ``x = ones(P)`` and a background of one row of zeros, the interventional game of this function is
    the game whose players are the patches of ``image`` (a deleted patch is black).

    Returns:
        function mapping (N, P) to (N,) probabilities of class ``target``.
    """
    def f(z: torch.Tensor) -> torch.Tensor:
        mask = patches_to_pixels(z.to(image.dtype), patch)
        with torch.no_grad():
            return torch.softmax(model(image * mask), dim=-1)[:, target].to(z.dtype)

    return f
