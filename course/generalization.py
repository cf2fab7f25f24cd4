"""Student-side helpers of chapter 11 (generalization and model selection).

* :func:`train_mlp` — a small one-hidden-layer ReLU network trained by minibatch SGD with momentum,
  deterministic under a seed; the network whose hyperparameters the chapter's tuning task chooses.
* :func:`noisy_labels` — flip a share of the labels to a random other class (label noise).

Nothing here downloads anything; randomness is always passed in.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

__all__ = ["MLP", "train_mlp", "noisy_labels", "HYPERPARAMETER_BOUNDS"]

HYPERPARAMETER_BOUNDS = {
    "hidden": (4, 512),
    "lr": (1e-5, 10.0),
    "weight_decay": (0.0, 1.0),
    "epochs": (1, 200),
}
"""The range :func:`train_mlp` accepts for each hyperparameter (inclusive)."""


@dataclass
class MLP:
    """A trained network ``x -> relu(x @ W1 + b1) @ W2 + b2`` and its training history.

    ``val_accuracy[e]`` is the validation accuracy after epoch ``e`` (empty without validation data);
    ``train_loss[e]`` the mean training loss over epoch ``e``.
    """

    W1: torch.Tensor
    b1: torch.Tensor
    W2: torch.Tensor
    b2: torch.Tensor
    train_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)

    def logits(self, X: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(N, C)`` for inputs ``X`` of shape ``(N, D)``."""
        X = X.to(self.W1.dtype)
        return torch.relu(X @ self.W1 + self.b1) @ self.W2 + self.b2

    def predict(self, X: torch.Tensor) -> torch.Tensor:
        """Predicted classes, int64 of shape ``(N,)``."""
        with torch.no_grad():
            return self.logits(X).argmax(dim=1)

    def accuracy(self, X: torch.Tensor, y: torch.Tensor) -> float:
        """The share of rows of ``X`` whose predicted class is ``y``."""
        return float((self.predict(X) == y).double().mean())


def _check_hyperparameters(hidden, lr, weight_decay, epochs) -> None:
    values = {"hidden": hidden, "lr": lr, "weight_decay": weight_decay, "epochs": epochs}
    for name, value in values.items():
        low, high = HYPERPARAMETER_BOUNDS[name]
        if name in ("hidden", "epochs") and (isinstance(value, bool) or int(value) != value):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        if not low <= float(value) <= high:
            raise ValueError(f"{name} must lie in [{low}, {high}], got {value!r}")


def train_mlp(X: torch.Tensor, y: torch.Tensor, *, hidden: int, lr: float, weight_decay: float, epochs: int,
              seed: int, X_val: torch.Tensor | None = None, y_val: torch.Tensor | None = None,
              num_classes: int = 10, batch_size: int = 100, momentum: float = 0.9) -> MLP:
    """Train a one-hidden-layer ReLU network on ``(X, y)`` with minibatch SGD, momentum and weight decay.

    The weights start as He-normal draws (``W1`` with standard deviation ``sqrt(2 / D)``, ``W2`` with
    ``sqrt(1 / hidden)``, biases zero); each epoch visits the training rows in a fresh random order,
    in minibatches of ``batch_size``. The loss is the mean cross-entropy; ``weight_decay`` adds
    ``weight_decay * W`` to the gradient of each weight matrix (not the biases). Everything random comes
    from ``torch.Generator().manual_seed(seed)``, so the same call always returns the same network.

    Args:
        X: inputs, float tensor of shape ``(N, D)``.
        y: int64 labels of shape ``(N,)``, values ``0..num_classes-1``.
        hidden: width of the hidden layer.
        lr: learning rate.
        weight_decay: L2 strength.
        epochs: passes over the training set.
        seed: the seed of the initialization and of the minibatch order.
        X_val, y_val: optional validation data; the accuracy on it is recorded after every epoch.
        num_classes: number of classes ``C``.
        batch_size: rows per minibatch.
        momentum: SGD momentum.

    Returns:
        An :class:`MLP` (float32) with its ``train_loss`` and ``val_accuracy`` histories. A run whose loss
        becomes NaN or infinite stops early, and its network predicts class 0 everywhere.

    Example:
        >>> from course.data import load_digits
        >>> X, y, X_test, y_test = load_digits()
        >>> net = train_mlp(X, y, hidden=32, lr=0.1, weight_decay=1e-4, epochs=5, seed=0)
        >>> net.accuracy(X_test, y_test) > 0.9
        True
    """
    _check_hyperparameters(hidden, lr, weight_decay, epochs)
    hidden, epochs, lr, weight_decay = int(hidden), int(epochs), float(lr), float(weight_decay)
    X = X.detach().to(torch.float32)
    n, d = X.shape
    gen = torch.Generator().manual_seed(int(seed))
    params = [torch.randn(d, hidden, generator=gen) * (2.0 / d) ** 0.5, torch.zeros(hidden),
              torch.randn(hidden, num_classes, generator=gen) * (1.0 / hidden) ** 0.5, torch.zeros(num_classes)]
    velocity = [torch.zeros_like(p) for p in params]
    net = MLP(*params)
    with torch.no_grad():  # the gradients are written out: a forward and backward pass of two layers
        for _ in range(epochs):
            order = torch.randperm(n, generator=gen)
            total = 0.0
            for start in range(0, n, batch_size):
                rows = order[start:start + batch_size]
                W1, b1, W2, b2 = params
                xb, m = X[rows], rows.numel()
                h = torch.relu(xb @ W1 + b1)
                logits = h @ W2 + b2
                log_p = torch.log_softmax(logits, dim=1)
                total -= float(log_p[torch.arange(m), y[rows]].sum())
                delta = log_p.exp()
                delta[torch.arange(m), y[rows]] -= 1.0
                delta /= m
                dh = (delta @ W2.T) * (h > 0)
                grads = [xb.T @ dh + weight_decay * W1, dh.sum(0), h.T @ delta + weight_decay * W2, delta.sum(0)]
                for p, v, g in zip(params, velocity, grads):
                    v.mul_(momentum).add_(g)
                    p.sub_(lr * v)
            net.train_loss.append(total / n)
            if not math.isfinite(total) or not all(bool(torch.isfinite(p).all()) for p in params):
                net.W1, net.b1, net.W2, net.b2 = (torch.zeros_like(p) for p in params)
                break
            if X_val is not None and y_val is not None:
                net.val_accuracy.append(net.accuracy(X_val, y_val))
    return net


def noisy_labels(y: torch.Tensor, fraction: float, generator: torch.Generator, num_classes: int = 10) -> torch.Tensor:
    """A copy of ``y`` in which a random ``fraction`` of the entries is changed to a different class.

    Exactly ``round(fraction * N)`` labels change; each changed label is drawn uniformly from the other
    ``num_classes - 1`` classes.

    Example:
        >>> y = torch.arange(10)
        >>> int((noisy_labels(y, 0.3, torch.Generator().manual_seed(0)) != y).sum())
        3
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    y = y.clone()
    k = int(round(fraction * y.numel()))
    rows = torch.randperm(y.numel(), generator=generator)[:k]
    shift = torch.randint(1, num_classes, (k,), generator=generator)
    y[rows] = (y[rows] + shift) % num_classes
    return y
