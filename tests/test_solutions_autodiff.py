"""solutions_lib.autodiff against closed forms, torch autograd and the hidden checks of chapter 04."""
from __future__ import annotations

import math

import pytest
import torch

from autograder.checks import run_check
from solutions_lib import autodiff as ad

F64 = torch.float64


def _tol(dtype):
    return dict(rtol=1e-4, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Finite differences
# ---------------------------------------------------------------------------------------------

def test_finite_differences_closed_forms(device, dtype):
    x = torch.tensor([-1.0, 0.5, 2.0], device=device, dtype=dtype)
    fwd = ad.forward_difference(lambda t: t ** 2, x, 0.5)
    cen = ad.central_difference(lambda t: t ** 3, x, 0.5)
    assert fwd.dtype == dtype and fwd.device == x.device
    torch.testing.assert_close(fwd, 2 * x + 0.5, **_tol(dtype))
    torch.testing.assert_close(cen, 3 * x ** 2 + 0.25, **_tol(dtype))


def test_truncation_orders():
    """Halving h halves the forward error (order 1) and quarters the central error (order 2)."""
    x = torch.tensor([0.3, 1.1], dtype=F64)
    exact = torch.cos(x)
    for h in (1e-2, 1e-3):
        e_f = [(ad.forward_difference(torch.sin, x, s) - exact).abs() for s in (h, h / 2)]
        e_c = [(ad.central_difference(torch.sin, x, s) - exact).abs() for s in (h, h / 2)]
        torch.testing.assert_close(e_f[0] / e_f[1], torch.full_like(x, 2.0), rtol=2e-2, atol=0)
        torch.testing.assert_close(e_c[0] / e_c[1], torch.full_like(x, 4.0), rtol=2e-2, atol=0)


def test_round_off_makes_tiny_steps_worse():
    x = torch.tensor(1.0, dtype=F64)
    exact = math.cos(1.0)
    best = abs(ad.central_difference(torch.sin, x, 1e-5).item() - exact)
    tiny = abs(ad.central_difference(torch.sin, x, 1e-13).item() - exact)
    assert best < 1e-9 < tiny


def test_tensor_steps_broadcast():
    x = torch.tensor([[0.1], [0.2]], dtype=F64)
    h = torch.tensor([1e-3, 1e-4, 1e-5], dtype=F64)
    out = ad.central_difference(torch.exp, x, h)
    assert out.shape == (2, 3)
    torch.testing.assert_close(out, torch.exp(x).expand(2, 3), rtol=1e-6, atol=0)


def test_numerical_gradient_matches_autograd_and_keeps_x(device):
    g = torch.Generator().manual_seed(0)
    A = torch.randn(6, 6, generator=g, dtype=F64).to(device)
    x = torch.randn(2, 3, generator=g, dtype=F64).to(device)
    x_before = x.clone()

    def f(t):
        v = t.reshape(-1)
        return torch.tanh(v @ A @ v) + torch.sin(v).sum()

    got = ad.numerical_gradient(f, x, h=1e-5)
    xr = x.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(f(xr), xr)
    assert got.shape == x.shape and got.dtype == x.dtype and got.device == x.device
    torch.testing.assert_close(got, expected, rtol=1e-7, atol=1e-8)
    assert torch.equal(x, x_before)


def test_numerical_gradient_python_float_output():
    got = ad.numerical_gradient(lambda t: float(t[0] * t[1]), torch.tensor([2.0, -3.0], dtype=F64), 0.5)
    torch.testing.assert_close(got, torch.tensor([-3.0, 2.0], dtype=F64))


# ---------------------------------------------------------------------------------------------
# Forward mode
# ---------------------------------------------------------------------------------------------

def _expr(a, b):
    """Uses every Dual operation, with numbers on both sides."""
    return ((a * b).sin() + (a / b).exp() - (2.0 - a) ** 3 + 1.0 / (b.tanh() + 3.0)
            + (a * a).log() - (-b).cos() * 0.5 + 3.0 * a - b / 4.0 + 1.0)


def test_dual_matches_autograd():
    for x, y in ((0.8, -1.3), (1.7, 0.6), (-0.4, 2.2)):
        ta = torch.tensor(x, dtype=F64, requires_grad=True)
        tb = torch.tensor(y, dtype=F64, requires_grad=True)
        out = _expr(ta, tb)
        ga, gb = torch.autograd.grad(out, (ta, tb))
        for va, vb in ((1.0, 0.0), (0.0, 1.0), (0.3, -2.0)):
            d = _expr(ad.Dual(x, va), ad.Dual(y, vb))
            assert math.isclose(d.value, out.item(), rel_tol=1e-12)
            assert math.isclose(d.tangent, ga.item() * va + gb.item() * vb, rel_tol=1e-10, abs_tol=1e-12)


def test_dual_slides_trace():
    y = ad.Dual(2.0, 1.0).log() + ad.Dual(2.0, 1.0) * ad.Dual(5.0, 0.0) - ad.Dual(5.0, 0.0).sin()
    assert math.isclose(y.value, 11.652, abs_tol=1e-3) and math.isclose(y.tangent, 5.5)


def test_dual_on_tensors_gives_elementwise_derivatives(dtype):
    x = torch.linspace(0.2, 2.0, 7, dtype=dtype)
    d = (ad.Dual(x, torch.ones_like(x)) ** 3).tanh() * ad.Dual(x, torch.ones_like(x)).exp()
    xr = x.clone().requires_grad_(True)
    ref = torch.tanh(xr ** 3) * torch.exp(xr)
    (grad,) = torch.autograd.grad(ref.sum(), xr)
    torch.testing.assert_close(d.value, ref.detach(), **_tol(dtype))
    torch.testing.assert_close(d.tangent, grad, **_tol(dtype))


def test_dual_jvp_matches_torch_func_jvp():
    x, v = [0.7, -1.1], [0.4, 1.5]
    value, tangent = ad.dual_jvp(_expr, x, v)
    primals = tuple(torch.tensor(t, dtype=F64) for t in x)
    tangents = tuple(torch.tensor(t, dtype=F64) for t in v)
    ref_value, ref_tangent = torch.func.jvp(_expr, primals, tangents)
    assert math.isclose(value, ref_value.item(), rel_tol=1e-12)
    assert math.isclose(tangent, ref_tangent.item(), rel_tol=1e-10)
    assert ad.dual_jvp(lambda a, b: 4.0, x, v) == (4.0, 0.0)


# ---------------------------------------------------------------------------------------------
# Reverse mode
# ---------------------------------------------------------------------------------------------

def _vexpr(p, q):
    return ((p * q).relu() + (p / q).exp() - (2.0 - p) ** 3 + 1.0 / (q.tanh() + 3.0) + (p * p).log()
            - (-q).relu() + 3.0 * p - q / 4.0)


def test_value_matches_autograd():
    for x, y in ((0.8, -1.3), (1.7, 0.6), (-0.4, 2.2)):
        leaves = [ad.Value(x), ad.Value(y)]
        out = _vexpr(*leaves)
        out.backward()
        tl = [torch.tensor(t, dtype=F64, requires_grad=True) for t in (x, y)]
        tout = _vexpr(*tl)
        tout.backward()
        assert math.isclose(out.data, tout.item(), rel_tol=1e-12)
        for leaf, t in zip(leaves, tl):
            assert math.isclose(leaf.grad, t.grad.item(), rel_tol=1e-10, abs_tol=1e-12)


def test_value_accumulates_over_uses():
    a = ad.Value(3.0)
    y = a * a + a
    y.backward()
    assert (y.data, a.grad) == (12.0, 7.0)
    x = ad.Value(0.5)
    s = x * 2.0
    L = (s * 3.0).tanh() + s
    L.backward()
    assert math.isclose(x.grad, 2 * (1 + 3 * (1 - math.tanh(3.0) ** 2)), rel_tol=1e-12)


def test_value_relu_gradient_zero_at_zero():
    a = ad.Value(0.0)
    a.relu().backward()
    assert a.grad == 0.0


def test_value_deep_chain_has_no_recursion_limit():
    x = ad.Value(0.3)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


# ---------------------------------------------------------------------------------------------
# Two-layer MLP
# ---------------------------------------------------------------------------------------------

def _params(device, dtype, N=7, D=4, H=6, C=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    shapes = [(N, D), (D, H), (H,), (H, C), (C,)]
    return [torch.randn(s, generator=g, dtype=F64).to(device=device, dtype=dtype) for s in shapes]


def test_mlp_forward_matches_torch(device, dtype):
    X, W1, b1, W2, b2 = _params(device, dtype)
    out, cache = ad.mlp_forward(X, W1, b1, W2, b2)
    expected = torch.nn.functional.linear(torch.relu(torch.nn.functional.linear(X, W1.T, b1)), W2.T, b2)
    torch.testing.assert_close(out, expected, **_tol(dtype))
    assert len(cache) == 7 and out.dtype == dtype and out.device == X.device
    torch.testing.assert_close(cache[6], torch.relu(cache[5]))


def test_mlp_backward_matches_autograd(device, dtype):
    params = _params(device, dtype)
    dout = torch.randn(7, 3, generator=torch.Generator().manual_seed(1), dtype=F64).to(device=device, dtype=dtype)
    grads = ad.mlp_backward(dout, ad.mlp_forward(*params)[1])
    leaves = [p.detach().to(F64).requires_grad_(True) for p in params]
    out = ad.mlp_forward(*leaves)[0]
    expected = torch.autograd.grad((out * dout.to(F64)).sum(), leaves)
    for got, exp, p in zip(grads, expected, params):
        assert got.shape == p.shape and got.dtype == dtype and got.device == p.device
        torch.testing.assert_close(got, exp.to(dtype), **_tol(dtype))


def test_mlp_backward_against_numerical_gradient():
    params = _params("cpu", F64, N=3, D=2, H=4, C=2, seed=3)
    G = torch.randn(3, 2, generator=torch.Generator().manual_seed(4), dtype=F64)
    grads = ad.mlp_backward(G, ad.mlp_forward(*params)[1])
    for k in range(5):
        def loss(p, k=k):
            args = list(params)
            args[k] = p
            return (ad.mlp_forward(*args)[0] * G).sum()
        torch.testing.assert_close(grads[k], ad.numerical_gradient(loss, params[k], h=1e-6), rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------------------------
# The hidden checks accept the reference
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["forward_difference", "central_difference", "numerical_gradient", "Dual",
                                  "dual_jvp", "Value", "mlp_forward", "mlp_backward"])
def test_hidden_checks_accept_the_reference(name):
    result = run_check(name, getattr(ad, name))
    assert result.passed, result.message
