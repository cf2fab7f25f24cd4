"""Helpers for chapter 19 (fine-tuning and domain shift): shifted digits, a domain split, a baseline.

* :func:`rotate_digits` — the 8x8 digits rotated (and optionally moved sideways), the chapter's domain shift.
* :func:`domain_split` — the digits split into a labelled **source** domain (upright), an unlabelled **target**
  training set and a target test set (both rotated), disjoint images.
* :func:`small_cnn` — the small CNN pretrained on the digits 0-4 in section 1.
* :func:`train_classifier` — plain supervised training (cross-entropy, Adam, minibatches from a generator).
* :func:`source_only` — the baseline of section 5: an encoder and a classifier trained on the source alone.
* :func:`median_bandwidth` — the median pairwise distance of two samples, a common RBF bandwidth.

Randomness is always passed in (a ``torch.Generator`` or a seed).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

__all__ = ["DomainSplit", "rotate_digits", "domain_split", "small_cnn", "train_classifier", "source_only",
           "median_bandwidth", "accuracy"]


def rotate_digits(X: torch.Tensor, degrees: float = 0.0, shift: float = 0.0) -> torch.Tensor:
    """8x8 digits rotated by ``degrees`` about the centre, then moved ``shift`` pixels right.

    Bilinear interpolation; pixels coming in from outside the image are 0.

    Args:
        X: (B, 64) images, pixels in [0, 1].
        degrees, shift: the transformation.

    Returns:
        (B, 64), dtype of X.

    Example:
        >>> X = torch.rand(3, 64)
        >>> torch.allclose(rotate_digits(X, 0.0), X, atol=1e-6)
        True
    """
    B = X.shape[0]
    t = math.radians(float(degrees))
    theta = torch.tensor([[math.cos(t), -math.sin(t), -2 * float(shift) / 8],
                          [math.sin(t), math.cos(t), 0.0]], dtype=X.dtype).expand(B, 2, 3)
    grid = F.affine_grid(theta, [B, 1, 8, 8], align_corners=False)
    out = F.grid_sample(X.reshape(B, 1, 8, 8), grid, align_corners=False, padding_mode="zeros")
    return out.reshape(B, 64)


class DomainSplit(NamedTuple):
    """Source images with labels, unlabelled target images, and target test images with their labels."""

    X_source: torch.Tensor
    y_source: torch.Tensor
    X_target: torch.Tensor
    X_target_test: torch.Tensor
    y_target_test: torch.Tensor


def _all_digits(dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits as _sklearn_digits  # imported here: sklearn is slow to import

    bunch = _sklearn_digits()
    return (torch.as_tensor(bunch.data, dtype=torch.float64).to(dtype) / 16.0,
            torch.as_tensor(bunch.target, dtype=torch.int64))


def domain_split(degrees: float = 30.0, seed: int = 0, dtype: torch.dtype = torch.float32) -> DomainSplit:
    """All 1797 digits, shuffled with ``seed``: 900 upright source images (labelled), 450 target training
    images rotated by ``degrees`` (their labels are not returned), 447 rotated target test images.

    Example:
        >>> d = domain_split(30.0)
        >>> len(d.y_source), d.X_target.shape, len(d.y_target_test)
        (900, torch.Size([450, 64]), 447)
    """
    X, y = _all_digits(dtype)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    source, target, test = order[:900], order[900:1350], order[1350:]
    return DomainSplit(X[source], y[source], rotate_digits(X[target], degrees),
                       rotate_digits(X[test], degrees), y[test])


def small_cnn(n_classes: int = 5, seed: int = 0) -> torch.nn.Sequential:
    """A small CNN for 8x8 digits given as (B, 64) rows: two conv blocks, a 64-unit hidden layer, a linear head.

    The last module is the head ``Linear(64, n_classes)``; everything before it is the feature extractor.

    Example:
        >>> small_cnn(5)(torch.zeros(2, 64)).shape
        torch.Size([2, 5])
    """
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, 8, 8)),
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),   # (16, 4, 4)
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),  # (32, 2, 2)
        torch.nn.Flatten(), torch.nn.Linear(128, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, n_classes))


def train_classifier(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor, generator: torch.Generator,
                     steps: int = 300, lr: float = 3e-3, batch_size: int = 64) -> list[float]:
    """Minimize the cross-entropy of ``model(X)`` against ``y`` with Adam on the parameters that require grad.

    Minibatches are drawn with replacement from ``generator``. Returns the loss of every step.

    Example:
        >>> net = torch.nn.Linear(64, 3)
        >>> losses = train_classifier(net, torch.rand(30, 64), torch.arange(30) % 3, torch.Generator().manual_seed(0), steps=5)
        >>> len(losses)
        5
    """
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    losses = []
    for _ in range(steps):
        idx = torch.randint(len(y), (min(batch_size, len(y)),), generator=generator)
        loss = F.cross_entropy(model(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


def _mlp_parts(seed: int, dtype: torch.dtype) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(seed)
    encoder = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64),
                                  torch.nn.ReLU()).to(dtype)
    classifier = torch.nn.Linear(64, 10).to(dtype)
    return encoder, classifier


def source_only(X_source: torch.Tensor, y_source: torch.Tensor, generator: torch.Generator,
                steps: int = 400) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The unadapted baseline: an MLP encoder (64-128-64, ReLU) and a linear classifier on its 64 features,
    trained on the labelled source images only (cross-entropy, Adam, batches of 128).

    Returns ``(encoder, classifier)``: ``classifier(encoder(images))`` are the (B, 10) logits.

    Example:
        >>> d = domain_split(0.0)
        >>> enc, clf = source_only(d.X_source, d.y_source, torch.Generator().manual_seed(0), steps=5)
        >>> clf(enc(d.X_target)).shape
        torch.Size([450, 10])
    """
    seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
    encoder, classifier = _mlp_parts(seed, X_source.dtype)
    train_classifier(torch.nn.Sequential(encoder, classifier), X_source, y_source, generator,
                     steps=steps, lr=1e-3, batch_size=128)
    return encoder, classifier


@torch.no_grad()
def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of rows whose largest logit is at the label (a Python float).

    Example:
        >>> accuracy(torch.tensor([[2.0, 1.0], [0.0, 3.0]]), torch.tensor([0, 0]))
        0.5
    """
    return float((torch.as_tensor(logits).argmax(1) == torch.as_tensor(labels)).double().mean())


@torch.no_grad()
def median_bandwidth(A: torch.Tensor, B: torch.Tensor) -> float:
    """The median Euclidean distance between distinct rows of the pooled sample ``[A; B]`` (a Python float).

    Example:
        >>> median_bandwidth(torch.zeros(2, 1), torch.ones(2, 1))
        1.0
    """
    Z = torch.cat([A, B]).detach().to(torch.float64)
    d = torch.cdist(Z, Z)
    off = ~torch.eye(len(Z), dtype=torch.bool)
    return float(d[off].median())
