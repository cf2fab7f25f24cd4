"""Helpers for chapter 17 (few-shot, meta- and self-supervised learning): data, a tiny network, evaluation.

* :func:`digits_by_class_split` — the 8x8 digits split by class: digits 0-4 to train an embedding,
  digits 5-9 (never seen in training) to evaluate it on new classes.
* :func:`sine_task` / :func:`sine_mlp` / :func:`init_sine_mlp` — the sine-regression tasks of the MAML paper
  and a small functional network ``model(params, x)`` to meta-learn on them.
* :func:`fewshot_accuracy` — the accuracy of nearest-class-mean classification in N-way K-shot episodes,
  for any embedding (raw pixels included).

Randomness is always passed in as a ``torch.Generator``.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch

__all__ = ["ClassSplit", "FewShotSplit", "digits_by_class_split", "fewshot_split", "sine_task", "init_sine_mlp", "sine_mlp", "fewshot_accuracy"]


class ClassSplit(NamedTuple):
    """Digits split by class: ``X_base, y_base`` (digits 0-4) and ``X_novel, y_novel`` (digits 5-9)."""

    X_base: torch.Tensor
    y_base: torch.Tensor
    X_novel: torch.Tensor
    y_novel: torch.Tensor


def digits_by_class_split(dtype: torch.dtype = torch.float32) -> ClassSplit:
    """All 1797 digits, pixels in [0, 1], split into base classes 0-4 and novel classes 5-9.

    Example:
        >>> X_base, y_base, X_novel, y_novel = digits_by_class_split()
        >>> sorted(set(y_base.tolist())), sorted(set(y_novel.tolist()))
        ([0, 1, 2, 3, 4], [5, 6, 7, 8, 9])
    """
    from sklearn.datasets import load_digits as _sklearn_digits  # imported here: sklearn is slow to import

    bunch = _sklearn_digits()
    X = torch.as_tensor(bunch.data, dtype=torch.float64).to(dtype) / 16.0
    y = torch.as_tensor(bunch.target, dtype=torch.int64)
    base = y < 5
    return ClassSplit(X[base], y[base], X[~base], y[~base])


def sine_task(generator: torch.Generator, n_support: int = 10, n_query: int = 10,
              dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, ...]:
    """One sine-regression task ``y = A sin(x - phase)``, A in [0.1, 5], phase in [0, pi], x in [-5, 5].

    Returns ``(x_s, y_s, x_q, y_q)`` with shapes (n_support, 1), (n_support, 1), (n_query, 1), (n_query, 1).

    Example:
        >>> x_s, y_s, x_q, y_q = sine_task(torch.Generator().manual_seed(0))
        >>> tuple(x_s.shape), tuple(y_q.shape)
        ((10, 1), (10, 1))
    """
    amplitude = 0.1 + 4.9 * torch.rand((), generator=generator, dtype=dtype)
    phase = math.pi * torch.rand((), generator=generator, dtype=dtype)
    x = 10 * torch.rand(n_support + n_query, 1, generator=generator, dtype=dtype) - 5
    y = amplitude * torch.sin(x - phase)
    return x[:n_support], y[:n_support], x[n_support:], y[n_support:]


def init_sine_mlp(generator: torch.Generator, hidden: int = 40, dtype: torch.dtype = torch.float64) -> list:
    """Parameters ``[W1, b1, W2, b2, W3, b3]`` of a 1-hidden-hidden-1 tanh network, requiring grad.

    Example:
        >>> [tuple(p.shape) for p in init_sine_mlp(torch.Generator().manual_seed(0), hidden=8)]
        [(1, 8), (8,), (8, 8), (8,), (8, 1), (1,)]
    """
    sizes = [(1, hidden), (hidden, hidden), (hidden, 1)]
    params = []
    for fan_in, fan_out in sizes:
        W = torch.randn(fan_in, fan_out, generator=generator, dtype=dtype) / math.sqrt(fan_in)
        params += [W.requires_grad_(), torch.zeros(fan_out, dtype=dtype, requires_grad=True)]
    return params


def sine_mlp(params, x: torch.Tensor) -> torch.Tensor:
    """The network ``model(params, x)``: (n, 1) inputs to (n, 1) outputs, tanh hidden layers.

    Example:
        >>> p = init_sine_mlp(torch.Generator().manual_seed(0), hidden=8)
        >>> tuple(sine_mlp(p, torch.zeros(3, 1, dtype=torch.float64)).shape)
        (3, 1)
    """
    W1, b1, W2, b2, W3, b3 = params
    h = torch.tanh(x @ W1 + b1)
    h = torch.tanh(h @ W2 + b2)
    return h @ W3 + b3


def fewshot_accuracy(embeddings: torch.Tensor, labels: torch.Tensor, n_way: int, k_shot: int,
                     generator: torch.Generator, n_episodes: int = 300, n_query: int = 5) -> float:
    """Mean accuracy of nearest-class-mean classification over random N-way K-shot episodes.

    Each episode draws ``n_way`` classes, then ``k_shot + n_query`` examples of each; a query is assigned to
    the class whose support mean is closest (Euclidean distance).

    Args:
        embeddings: (M, D), one row per example (raw pixels work too); labels: int64 (M,).
        n_way, k_shot: the task; generator: the source of randomness; n_episodes, n_query: its size.

    Returns:
        the accuracy as a Python float in [0, 1].

    Example:
        >>> Z = torch.cat([torch.zeros(10, 2), torch.ones(10, 2)]); y = torch.arange(20) // 10
        >>> fewshot_accuracy(Z, y, 2, 1, torch.Generator().manual_seed(0), n_episodes=5)
        1.0
    """
    Z = torch.as_tensor(embeddings).detach().to(torch.float64)
    labels = torch.as_tensor(labels)
    classes = torch.unique(labels)
    members = [torch.nonzero(labels == c).flatten() for c in classes]
    correct = total = 0
    for _ in range(n_episodes):
        picked = torch.randperm(len(classes), generator=generator)[:n_way]
        centres, queries, targets = [], [], []
        for j, c in enumerate(picked.tolist()):
            idx = members[c][torch.randperm(len(members[c]), generator=generator)[:k_shot + n_query]]
            centres.append(Z[idx[:k_shot]].mean(0))
            queries.append(Z[idx[k_shot:]])
            targets += [j] * (len(idx) - k_shot)
        dist = torch.cdist(torch.cat(queries), torch.stack(centres))
        correct += int((dist.argmin(1) == torch.tensor(targets)).sum())
        total += len(targets)
    return correct / total


class FewShotSplit(NamedTuple):
    """The make-it-work data: base digits 0-4 to train on, held-out base digits, and the novel digits 5-9."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_heldout: torch.Tensor
    y_heldout: torch.Tensor
    X_novel: torch.Tensor
    y_novel: torch.Tensor


def fewshot_split(n_train: int = 600, seed: int = 5, dtype: torch.dtype = torch.float32) -> FewShotSplit:
    """Base digits 0-4 split by a seeded permutation into ``n_train`` training images and held-out ones,
    plus the novel digits 5-9.

    Example:
        >>> split = fewshot_split()
        >>> len(split.y_train), len(split.y_heldout) + len(split.y_train), sorted(set(split.y_novel.tolist()))
        (600, 901, [5, 6, 7, 8, 9])
    """
    X_base, y_base, X_novel, y_novel = digits_by_class_split(dtype)
    perm = torch.randperm(len(y_base), generator=torch.Generator().manual_seed(seed))
    train, held = perm[:n_train], perm[n_train:]
    return FewShotSplit(X_base[train], y_base[train], X_base[held], y_base[held], X_novel, y_novel)
