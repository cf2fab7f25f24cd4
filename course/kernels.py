"""Data and models for chapter 18 (Gaussian processes and the neural tangent kernel).

* :func:`gp_toy_function` and :func:`gp_regression_data`: a 1-D regression problem with a known noise-free
  target, so held-out error can be measured against the truth;
* :class:`NTKMLP`: a bias-free ReLU network in the NTK parametrization (standard normal weights, each layer
  divided by the square root of its fan-in), the network whose infinite-width kernels the chapter computes;
* :func:`circle_points`: unit-norm 2-D inputs at given angles, the usual way to plot a kernel;
* :func:`train_gd`: full-batch gradient descent on ``1/2 sum (f - y)^2``, recording the outputs.
"""
from __future__ import annotations

import math

import torch

__all__ = ["gp_toy_function", "gp_regression_data", "NTKMLP", "circle_points", "train_gd"]


def gp_toy_function(x: torch.Tensor) -> torch.Tensor:
    """The noise-free target of the regression data: (N, 1) -> (N,)."""
    t = x[:, 0]
    return torch.sin(2 * t) + 0.5 * torch.sin(5 * t) + 0.1 * t


def gp_regression_data(n_train: int = 100, n_test: int = 200, noise_std: float = 0.2, seed: int = 0):
    """A 1-D regression set: inputs uniform on [-3, 3], targets = ``gp_toy_function`` + Gaussian noise.

    Returns:
        x_train (n_train, 1), y_train (n_train,) noisy, x_test (n_test, 1), f_test (n_test,) noise-free;
        all float64, the training inputs sorted.
    """
    g = torch.Generator().manual_seed(seed)
    x_train = torch.sort(6 * torch.rand(n_train, generator=g, dtype=torch.float64) - 3).values.reshape(-1, 1)
    y_train = gp_toy_function(x_train) + noise_std * torch.randn(n_train, generator=g, dtype=torch.float64)
    x_test = (6 * torch.rand(n_test, generator=g, dtype=torch.float64) - 3).reshape(-1, 1)
    return x_train, y_train, x_test, gp_toy_function(x_test)


class NTKMLP(torch.nn.Module):
    """``f(x) = v . relu(h_L) / sqrt(n)``, ``h_1 = W_0 x / sqrt(D)``, ``h_{l+1} = W_l relu(h_l) / sqrt(n)``.

    All weights standard normal (seeded), no biases, float64. Input (B, D), output (B,).
    """

    def __init__(self, d_in: int, width: int, depth: int, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        sizes = [d_in] + [width] * depth
        self.weights = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.randn(n_out, n_in, generator=g, dtype=torch.float64))
             for n_in, n_out in zip(sizes[:-1], sizes[1:])])
        self.readout = torch.nn.Parameter(torch.randn(width, generator=g, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for i, w in enumerate(self.weights):
            a = h if i == 0 else torch.relu(h)
            h = a @ w.T / math.sqrt(w.shape[1])
        return torch.relu(h) @ self.readout / math.sqrt(self.readout.shape[0])


def circle_points(angles: torch.Tensor) -> torch.Tensor:
    """(K,) angles -> (K, 2) points (cos a, sin a) on the unit circle, float64."""
    a = angles.to(torch.float64)
    return torch.stack([torch.cos(a), torch.sin(a)], dim=1)


def train_gd(model: torch.nn.Module, x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor,
             lr: float, steps: int):
    """Full-batch gradient descent on ``1/2 sum (f(x_train) - y_train)^2`` (the model is changed in place).

    Returns:
        (f_train (N,), f_test (M,)) after the steps, detached.
    """
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * ((model(x_train) - y_train) ** 2).sum()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return model(x_train), model(x_test)
