"""solutions_lib.optim against torch.optim, autograd and closed forms (chapter 05)."""
from __future__ import annotations

import math

import pytest
import torch

from solutions_lib import optim as ref

F64 = torch.float64


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _run_side_by_side(step_fn, init_state, torch_cls, torch_kwargs, step_kwargs, n_steps=12, shape=(3, 4),
                      dtype=F64, seed=0, grad_scale=1.0):
    """Apply step_fn and torch_cls to the same parameter and gradient sequence; return max abs difference."""
    g = _gen(seed)
    p0 = torch.randn(shape, generator=g, dtype=dtype)
    grads = [grad_scale * torch.randn(shape, generator=g, dtype=dtype) for _ in range(n_steps)]
    tp = p0.clone().requires_grad_(True)
    opt = torch_cls([tp], foreach=False, **torch_kwargs)
    p, state = p0.clone(), init_state(p0)
    worst = 0.0
    for grad in grads:
        p, state = step_fn(p, grad, state, **step_kwargs)
        tp.grad = grad.clone()
        opt.step()
        worst = max(worst, (p - tp.detach()).abs().max().item())
    return worst


def _zeros(*keys, step=False):
    def init(p):
        state = {k: torch.zeros_like(p) for k in keys}
        if step:
            state["step"] = 0
        return state
    return init


@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_sgd_step_matches_torch(wd):
    g = _gen(1)
    p0 = torch.randn(5, generator=g, dtype=F64)
    tp = p0.clone().requires_grad_(True)
    opt = torch.optim.SGD([tp], lr=0.3, weight_decay=wd)
    p = p0.clone()
    for _ in range(6):
        grad = torch.randn(5, generator=g, dtype=F64)
        p = ref.sgd_step(p, grad, 0.3, weight_decay=wd)
        tp.grad = grad.clone()
        opt.step()
    torch.testing.assert_close(p, tp.detach())


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("wd", [0.0, 0.05])
def test_momentum_and_nesterov_match_torch(nesterov, wd):
    fn = ref.nesterov_step if nesterov else ref.momentum_step
    err = _run_side_by_side(fn, _zeros("momentum_buffer"), torch.optim.SGD,
                            dict(lr=0.1, momentum=0.9, nesterov=nesterov, weight_decay=wd),
                            dict(lr=0.1, momentum=0.9, weight_decay=wd), seed=2)
    assert err < 1e-12


@pytest.mark.parametrize("eps, wd, scale", [(1e-10, 0.0, 1.0), (0.1, 0.02, 1.0), (1e-10, 0.0, 1e-6)])
def test_adagrad_matches_torch(eps, wd, scale):
    err = _run_side_by_side(ref.adagrad_step, _zeros("sum"), torch.optim.Adagrad,
                            dict(lr=0.2, eps=eps, weight_decay=wd), dict(lr=0.2, eps=eps, weight_decay=wd),
                            seed=3, grad_scale=scale)
    assert err < 1e-12


@pytest.mark.parametrize("alpha, eps, wd", [(0.99, 1e-8, 0.0), (0.5, 1e-2, 0.1)])
def test_rmsprop_matches_torch(alpha, eps, wd):
    err = _run_side_by_side(ref.rmsprop_step, _zeros("square_avg"), torch.optim.RMSprop,
                            dict(lr=0.01, alpha=alpha, eps=eps, weight_decay=wd),
                            dict(lr=0.01, alpha=alpha, eps=eps, weight_decay=wd), seed=4)
    assert err < 1e-12


@pytest.mark.parametrize("betas, eps, wd", [((0.9, 0.999), 1e-8, 0.0), ((0.5, 0.9), 1e-3, 0.1)])
def test_adam_matches_torch(betas, eps, wd):
    err = _run_side_by_side(ref.adam_step, _zeros("exp_avg", "exp_avg_sq", step=True), torch.optim.Adam,
                            dict(lr=0.05, betas=betas, eps=eps, weight_decay=wd),
                            dict(lr=0.05, betas=betas, eps=eps, weight_decay=wd), n_steps=15, seed=5)
    assert err < 1e-12


def test_adam_float32_matches_torch():
    err = _run_side_by_side(ref.adam_step, _zeros("exp_avg", "exp_avg_sq", step=True), torch.optim.Adam,
                            dict(lr=0.05), dict(lr=0.05), dtype=torch.float32, seed=6)
    assert err < 1e-5


def test_optimizers_do_not_modify_inputs():
    p, grad = torch.ones(3, dtype=F64), torch.full((3,), 2.0, dtype=F64)
    state = {"step": 0, "exp_avg": torch.zeros(3, dtype=F64), "exp_avg_sq": torch.zeros(3, dtype=F64)}
    ref.adam_step(p, grad, state, lr=0.1)
    assert state["step"] == 0 and torch.all(state["exp_avg"] == 0) and torch.all(p == 1)


def test_robbins_monro_schedule():
    lrs = ref.robbins_monro_schedule(0.5, 1.0, 5)
    torch.testing.assert_close(lrs, torch.tensor([0.5 / (1 + k) for k in range(5)], dtype=F64))
    lrs = ref.robbins_monro_schedule(2.0, 0.1, 3, power=0.75, dtype=torch.float32)
    assert lrs.dtype == torch.float32
    torch.testing.assert_close(lrs, torch.tensor([2.0 / (1 + 0.1 * k) ** 0.75 for k in range(3)]))


def test_sgd_trajectory_is_running_mean_with_inverse_time_steps():
    samples = torch.randn(50, 3, generator=_gen(7), dtype=F64)
    path = ref.sgd_trajectory(-20.0, samples, ref.robbins_monro_schedule(0.5, 1.0, 50))
    assert path.shape == (51, 3)
    running = samples.cumsum(0) / torch.arange(1, 51, dtype=F64)[:, None]
    torch.testing.assert_close(path[1:], running)
    torch.testing.assert_close(path[0], torch.full((3,), -20.0, dtype=F64))
    constant = ref.sgd_trajectory(-20.0, samples, torch.full((50,), 0.5, dtype=F64))
    torch.testing.assert_close(constant[1:], samples)


def test_momentum_rate_matches_eigenvalues():
    g = _gen(8)
    lr, m, lam = torch.rand(20, generator=g, dtype=F64), torch.rand(20, generator=g, dtype=F64), \
        3 * torch.rand(20, generator=g, dtype=F64)
    got = ref.momentum_rate(lr, m, lam)
    for i in range(20):
        M = torch.tensor([[1 - lr[i] * lam[i], -lr[i] * m[i]], [lam[i], m[i]]], dtype=F64)
        assert abs(torch.linalg.eigvals(M).abs().max().item() - got[i].item()) < 1e-10
    assert abs(ref.momentum_rate(0.1, 0.0, 30.0).item() - 2.0) < 1e-12


def test_optimal_momentum_rate_is_sqrt_kappa_formula():
    lo, hi = 0.5, 200.0
    lr, m = ref.optimal_momentum(lo, hi)
    kappa = hi / lo
    expected = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    lams = torch.linspace(lo, hi, 101, dtype=F64)
    rates = ref.momentum_rate(lr, m, lams)
    assert torch.allclose(rates, torch.full_like(rates, expected), rtol=1e-6)
    # nearby settings are no better at the slowest curvature
    worse = ref.momentum_rate(lr * 1.05, m, lams).max()
    assert worse >= expected - 1e-12


def test_gradient_noise_scale():
    g = _gen(9)
    grads = torch.randn(40, 2, 3, generator=g, dtype=F64) + 0.7
    flat = grads.reshape(40, -1)
    cov = torch.cov(flat.T)
    expected = torch.trace(cov) / flat.mean(0).pow(2).sum()
    torch.testing.assert_close(ref.gradient_noise_scale(grads), expected)


@pytest.mark.parametrize("damping", [0.0, 0.3])
def test_logistic_newton_step_against_autograd(damping):
    g = _gen(10)
    X = torch.randn(30, 4, generator=g, dtype=F64)
    y = (torch.rand(30, generator=g, dtype=F64) < 0.5).to(F64)
    w = 0.3 * torch.randn(4, generator=g, dtype=F64)

    def loss(v):
        z = X @ v
        return (torch.nn.functional.softplus(z) - y * z).mean()

    grad = torch.autograd.functional.jacobian(loss, w)
    hess = torch.autograd.functional.hessian(loss, w) + damping * torch.eye(4, dtype=F64)
    expected = w - 0.7 * torch.linalg.solve(hess, grad)
    torch.testing.assert_close(ref.logistic_newton_step(w, X, y, lr=0.7, damping=damping), expected)
