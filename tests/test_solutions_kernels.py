"""solutions_lib.kernels (chapter 18) against scikit-learn, Monte Carlo, autograd and a trained wide network."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course.kernels import NTKMLP, circle_points, gp_regression_data, train_gd
from solutions_lib import kernels as K

F64 = torch.float64


def _data(seed, n=9, m=6, d=2):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=F64)
    return x, torch.sin(x.sum(1)) + 0.2 * torch.randn(n, generator=g, dtype=F64), torch.randn(m, d, generator=g,
                                                                                                dtype=F64)


@pytest.mark.parametrize("ell, var", [(0.7, 2.3), (2.0, 0.5)])
def test_kernels_match_scikit_learn(ell, var):
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Matern

    x1, _, x2 = _data(0)
    np.testing.assert_allclose(K.rbf_kernel(x1, x2, ell, var).numpy(),
                               (ConstantKernel(var) * RBF(ell))(x1.numpy(), x2.numpy()), rtol=1e-12)
    np.testing.assert_allclose(K.ou_kernel(x1, x2, ell, var).numpy(),
                               (ConstantKernel(var) * Matern(ell, nu=0.5))(x1.numpy(), x2.numpy()), rtol=1e-12)
    assert K.rbf_kernel(x1.float(), x2.float(), ell, var).dtype == torch.float32


@pytest.mark.parametrize("seed, ell, var, noise", [(1, 0.9, 1.7, 0.3), (2, 0.4, 2.5, 0.05)])
def test_gp_regression_matches_scikit_learn(seed, ell, var, noise):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel

    x, y, xs = _data(seed)
    gp = GaussianProcessRegressor(ConstantKernel(var) * RBF(ell), alpha=noise, optimizer=None).fit(x.numpy(), y.numpy())
    mean, std = gp.predict(xs.numpy(), return_std=True)
    got_mean, got_var = K.gp_posterior(x, y, xs, ell, var, noise)
    np.testing.assert_allclose(got_mean.numpy(), mean, atol=1e-10)
    np.testing.assert_allclose(got_var.sqrt().numpy(), std, atol=1e-8)
    np.testing.assert_allclose(float(K.gp_log_marginal_likelihood(x, y, ell, var, noise)),
                               gp.log_marginal_likelihood_value_, rtol=1e-10)


def test_log_marginal_likelihood_is_a_normal_log_density_and_differentiable():
    x, y, _ = _data(3)
    C = K.rbf_kernel(x, x, 0.8, 1.5) + 0.2 * torch.eye(x.shape[0], dtype=F64)
    expected = torch.distributions.MultivariateNormal(torch.zeros(x.shape[0], dtype=F64), C).log_prob(y)
    params = [torch.tensor(v, dtype=F64, requires_grad=True) for v in (0.8, 1.5, 0.2)]
    value = K.gp_log_marginal_likelihood(x, y, *params)
    torch.testing.assert_close(value.detach(), expected)
    assert all(torch.isfinite(g) for g in torch.autograd.grad(value, params))


def test_prior_samples_have_the_kernel_covariance():
    x = torch.linspace(-2, 2, 5, dtype=F64).reshape(-1, 1)
    cov = K.ou_kernel(x, x, 1.0, 1.3)
    z = torch.randn(200_000, 5, generator=torch.Generator().manual_seed(0), dtype=F64)
    samples = K.gp_prior_samples(cov, z)
    torch.testing.assert_close(samples.T @ samples / z.shape[0], cov, atol=0.02, rtol=0)


def test_relu_expectations_match_monte_carlo():
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(2, 2_000_000, generator=g, dtype=F64)
    for k11, k12, k22 in [(2.0, 0.9, 1.5), (1.0, -0.7, 3.0), (0.5, 0.5, 0.5)]:
        rho = k12 / math.sqrt(k11 * k22)
        u = math.sqrt(k11) * a
        v = math.sqrt(k22) * (rho * a + math.sqrt(max(1 - rho ** 2, 0)) * b)
        relu, step = K.relu_expectations(*(torch.tensor(t, dtype=F64) for t in (k11, k12, k22)))
        assert abs(float(relu) - float((u.clamp_min(0) * v.clamp_min(0)).mean())) < 4e-3
        assert abs(float(step) - float(((u > 0) & (v > 0)).double().mean())) < 2e-3


def test_empirical_ntk_matches_autograd_loop_and_approaches_the_analytic_ntk():
    x = circle_points(torch.linspace(0, math.pi, 7, dtype=F64))
    net = NTKMLP(2, 16, 2, seed=0)
    rows = []
    for i in range(x.shape[0]):
        grads = torch.autograd.grad(net(x[i:i + 1]).sum(), list(net.parameters()))
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    jac = torch.stack(rows)
    torch.testing.assert_close(K.empirical_ntk(net, x, x), jac @ jac.T)
    _, ntk = K.relu_nngp_ntk(x, x, 2)
    errors = [float((K.empirical_ntk(NTKMLP(2, w, 2, seed=1), x, x) - ntk).abs().max()) for w in (16, 1024)]
    assert errors[1] < 0.15 < errors[0] or errors[1] < errors[0] / 3


def test_nngp_matches_the_output_covariance_of_random_networks():
    x = circle_points(torch.tensor([0.0, 1.0, 2.5], dtype=F64))
    nngp, _ = K.relu_nngp_ntk(x, x, 2)
    outs = torch.stack([NTKMLP(2, 128, 2, seed=s)(x).detach() for s in range(3000)])
    torch.testing.assert_close(outs.T @ outs / outs.shape[0], nngp, atol=0.015, rtol=0)


def test_wide_network_follows_the_linearized_dynamics():
    x_fit = circle_points(torch.tensor([0.3, 1.0, 1.9, 2.6], dtype=F64))
    y_fit = torch.tensor([0.5, -0.3, 0.8, 0.1], dtype=F64)
    x_te = circle_points(torch.linspace(0, math.pi, 9, dtype=F64))
    gaps = []
    for width in (16, 512):
        net = NTKMLP(2, width, 2, seed=3)
        with torch.no_grad():
            f0_fit, f0_te = net(x_fit), net(x_te)
        lin = K.linearized_dynamics(K.empirical_ntk(net, x_fit, x_fit), K.empirical_ntk(net, x_te, x_fit),
                                    f0_fit, f0_te, y_fit, 0.5, 100)
        gd = train_gd(net, x_fit, y_fit, x_te, 0.5, 100)
        gaps.append(float((gd[1] - lin[1]).abs().max()))
    assert gaps[1] < 0.1 and gaps[1] < gaps[0]


def test_linearized_dynamics_closed_form():
    g = torch.Generator().manual_seed(4)
    a = torch.randn(5, 5, generator=g, dtype=F64)
    theta = a @ a.T / 10 + 0.1 * torch.eye(5, dtype=F64)
    f0, y = torch.randn(5, generator=g, dtype=F64), torch.randn(5, generator=g, dtype=F64)
    lr, steps = 0.3, 25
    f, _ = K.linearized_dynamics(theta, theta[:2], f0, f0[:2], y, lr, steps)
    A = torch.eye(5, dtype=F64) - lr * theta
    torch.testing.assert_close(f, y + torch.linalg.matrix_power(A, steps) @ (f0 - y))


def test_fit_reaches_the_target_and_is_deterministic():
    x, y, xs, fs = gp_regression_data(seed=0)
    hp = K.fit_gp_hyperparameters(x, y, 0)
    assert hp == K.fit_gp_hyperparameters(x, y, 0)
    mean, _ = K.gp_posterior(x, y, xs, hp["lengthscale"], hp["variance"], hp["noise_var"])
    assert float(((mean - fs) ** 2).mean().sqrt()) < 0.12
