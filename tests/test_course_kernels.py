"""course.kernels: the chapter 18 data set, network and helpers."""
from __future__ import annotations

import math

import torch

from course.kernels import NTKMLP, circle_points, gp_regression_data, gp_toy_function, train_gd


def test_regression_data_is_deterministic_and_noise_free_on_the_test_side():
    a, b = gp_regression_data(n_train=30, n_test=50, seed=3), gp_regression_data(n_train=30, n_test=50, seed=3)
    for u, v in zip(a, b):
        assert torch.equal(u, v) and u.dtype == torch.float64
    x_train, y_train, x_test, f_test = a
    assert x_train.shape == (30, 1) and y_train.shape == (30,) and x_test.shape == (50, 1) and f_test.shape == (50,)
    assert torch.all(x_train[1:, 0] >= x_train[:-1, 0]) and float(x_train.abs().max()) <= 3
    torch.testing.assert_close(f_test, gp_toy_function(x_test))
    noise = y_train - gp_toy_function(x_train)
    assert 0.1 < float(noise.std()) < 0.3
    assert not torch.equal(gp_regression_data(seed=4)[1], gp_regression_data(seed=3)[1])


def test_ntk_mlp_parametrization():
    net = NTKMLP(3, 50, 2, seed=0)
    assert [tuple(w.shape) for w in net.weights] == [(50, 3), (50, 50)] and net.readout.shape == (50,)
    x = torch.randn(4, 3, dtype=torch.float64)
    assert net(x).shape == (4,) and net(x).dtype == torch.float64
    # relu is positively homogeneous and there are no biases: f(c x) = c f(x) for c > 0
    torch.testing.assert_close(net(2.5 * x), 2.5 * net(x))
    assert torch.equal(NTKMLP(3, 50, 2, seed=0)(x), net(x))


def test_circle_points_and_gradient_descent():
    x = circle_points(torch.tensor([0.0, math.pi / 2], dtype=torch.float64))
    torch.testing.assert_close(x, torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64), atol=1e-12, rtol=0)
    net = NTKMLP(2, 64, 1, seed=1)
    y = torch.tensor([0.5, -0.5], dtype=torch.float64)
    with torch.no_grad():
        before = float(((net(x) - y) ** 2).sum())
    f_train, f_test = train_gd(net, x, y, x[:1], 0.5, 50)
    assert float(((f_train - y) ** 2).sum()) < 0.01 * before
    torch.testing.assert_close(f_test, f_train[:1])
