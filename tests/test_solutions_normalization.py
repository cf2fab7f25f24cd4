"""solutions_lib.normalization against torch built-ins, autograd and closed forms (chapter 06)."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from autograder.checks import run_check
from solutions_lib import normalization as nz

F64 = torch.float64


def _gen(seed: int, device="cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


# ---------------------------------------------------------------------------------------------- init

@pytest.mark.parametrize("fan_in,fan_out", [(100, 300), (784, 10), (1, 1), (64, 64)])
def test_init_std_formulas(fan_in, fan_out):
    assert nz.init_std(fan_in, fan_out, "xavier") == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=1e-15)
    assert nz.init_std(fan_in, fan_out, "he") == pytest.approx(
        torch.nn.init.calculate_gain("relu") / math.sqrt(fan_in), rel=1e-15)
    assert nz.init_std(fan_in, fan_out, "lecun") == pytest.approx(1 / math.sqrt(fan_in), rel=1e-15)
    with pytest.raises(ValueError):
        nz.init_std(fan_in, fan_out, "orthogonal")


def _torch_init(w, scheme, distribution, g):
    if scheme == "xavier":
        fn = torch.nn.init.xavier_normal_ if distribution == "normal" else torch.nn.init.xavier_uniform_
        return fn(w, generator=g)
    fn = torch.nn.init.kaiming_normal_ if distribution == "normal" else torch.nn.init.kaiming_uniform_
    return fn(w, mode="fan_in", nonlinearity="relu" if scheme == "he" else "linear", generator=g)


@pytest.mark.parametrize("scheme", ["xavier", "he", "lecun"])
@pytest.mark.parametrize("distribution", ["normal", "uniform"])
def test_init_weight_matches_torch_nn_init_statistically(scheme, distribution, dtype):
    fan_in, fan_out = 300, 500
    w = nz.init_weight(fan_in, fan_out, scheme, _gen(1), distribution=distribution, dtype=dtype)
    assert w.shape == (fan_out, fan_in) and w.dtype == dtype
    ref = _torch_init(torch.empty(fan_out, fan_in, dtype=F64), scheme, distribution, _gen(2))
    n = w.numel()
    var = nz.init_std(fan_in, fan_out, scheme) ** 2
    kappa = 2.0 if distribution == "normal" else 0.8  # Var(w^2) / var^2
    se = var * math.sqrt(kappa / n)                   # standard error of one sample variance
    ours, theirs = w.double().var(correction=0).item(), ref.var(correction=0).item()
    assert abs(ours - var) < 5 * se
    assert abs(theirs - var) < 5 * se                 # torch agrees with the formula too
    assert abs(ours - theirs) < 5 * math.sqrt(2) * se
    assert abs(w.double().mean().item()) < 5 * math.sqrt(var / n)
    if distribution == "uniform":
        assert w.abs().max().item() <= math.sqrt(3 * var) * (1 + 1e-6)
        assert ref.abs().max().item() <= math.sqrt(3 * var) * (1 + 1e-6)


def test_init_weight_uses_only_the_generator(device):
    a = nz.init_weight(20, 30, "he", _gen(5, device))
    torch.manual_seed(0)
    b = nz.init_weight(20, 30, "he", _gen(5, device))
    assert a.device.type == device.type
    assert torch.equal(a, b)
    assert not torch.equal(a, nz.init_weight(20, 30, "he", _gen(6, device)))


# ---------------------------------------------------------------------------------------------- activation stats

def test_activation_stats_matches_a_plain_loop(dtype):
    g = _gen(3)
    x = torch.randn(10, 8, generator=g, dtype=dtype)
    ws = [torch.randn(8, 8, generator=g, dtype=dtype) / math.sqrt(8) for _ in range(4)]
    for act, phi in [("tanh", torch.tanh), ("relu", F.relu), ("linear", lambda t: t)]:
        means, stds = nz.activation_stats(x, ws, act)
        h, m_ref, s_ref = x, [], []
        for w in ws:
            h = phi(F.linear(h, w))
            m_ref.append(h.mean().item())
            s_ref.append(h.var(correction=0).sqrt().item())
        tol = 1e-5 if dtype == torch.float32 else 1e-12
        assert means.shape == stds.shape == (4,) and means.dtype == dtype
        assert torch.allclose(means.double(), torch.tensor(m_ref, dtype=F64), rtol=tol, atol=tol)
        assert torch.allclose(stds.double(), torch.tensor(s_ref, dtype=F64), rtol=tol, atol=tol)


def test_he_init_keeps_relu_activations_stable():
    g = _gen(4)
    x = torch.randn(256, 256, generator=g)
    ws = [nz.init_weight(256, 256, "he", g) for _ in range(20)]
    _, stds = nz.activation_stats(x, ws, "relu")
    assert 0.3 < stds[-1].item() / stds[0].item() < 3.0
    ws = [nz.init_weight(256, 256, "xavier", g) for _ in range(20)]
    _, stds = nz.activation_stats(x, ws, "relu")
    assert stds[-1].item() / stds[0].item() < 0.01      # loses about sqrt(2) per layer


# ---------------------------------------------------------------------------------------------- BatchNorm

def _state(d, dtype, device, momentum=0.1, eps=1e-5):
    return {"running_mean": torch.zeros(d, dtype=dtype, device=device),
            "running_var": torch.ones(d, dtype=dtype, device=device), "momentum": momentum, "eps": eps}


@pytest.mark.parametrize("momentum,eps", [(0.1, 1e-5), (0.3, 1e-3), (1.0, 1e-5)])
def test_batchnorm_forward_matches_nn_batchnorm1d(device, dtype, momentum, eps):
    d = 6
    bn = torch.nn.BatchNorm1d(d, eps=eps, momentum=momentum, dtype=dtype, device=device)
    g = _gen(7)
    gamma = (torch.rand(d, generator=g, dtype=dtype) + 0.5).to(device)
    beta = torch.randn(d, generator=g, dtype=dtype).to(device)
    with torch.no_grad():
        bn.weight.copy_(gamma)
        bn.bias.copy_(beta)
    state = _state(d, dtype, device, momentum, eps)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-12)
    for step, n in enumerate([8, 3, 16, 2]):   # several train steps, batch of 2 included
        x = (3 * torch.randn(n, d, generator=g, dtype=dtype) + step).to(device)
        out, (xhat, gamma_c, inv_std) = nz.batchnorm_forward(x, gamma, beta, state, "train")
        with torch.no_grad():
            expected = bn(x)
        torch.testing.assert_close(out, expected, **tol)
        torch.testing.assert_close(state["running_mean"], bn.running_mean, **tol)
        torch.testing.assert_close(state["running_var"], bn.running_var, **tol)
        torch.testing.assert_close(inv_std, torch.rsqrt(x.var(0, correction=0) + eps), **tol)
        assert gamma_c is gamma and xhat.shape == x.shape and out.device.type == device.type
    bn.eval()
    x = torch.randn(1, d, generator=g, dtype=dtype).to(device)
    before = {k: v.clone() for k, v in state.items() if torch.is_tensor(v)}
    out, _ = nz.batchnorm_forward(x, gamma, beta, state, "eval")
    with torch.no_grad():
        torch.testing.assert_close(out, bn(x), **tol)
    for k, v in before.items():
        assert torch.equal(state[k], v)


def test_batchnorm_forward_rejects_a_batch_of_one_in_training():
    with pytest.raises(ValueError):
        nz.batchnorm_forward(torch.ones(1, 3), torch.ones(3), torch.zeros(3), _state(3, torch.float32, "cpu"), "train")


def _bn_autograd(x, gamma, beta, dout, eps):
    xr, gr, br = (t.detach().clone().requires_grad_() for t in (x, gamma, beta))
    out = F.batch_norm(xr, None, None, gr, br, training=True, eps=eps)
    return torch.autograd.grad(out, (xr, gr, br), dout)


@pytest.mark.parametrize("n,d", [(2, 3), (10, 4), (64, 17), (5, 1)])
def test_batchnorm_backward_matches_autograd_float64(device, n, d):
    g = _gen(8)
    x = (2 * torch.randn(n, d, generator=g, dtype=F64) + 1).to(device)
    gamma = (torch.rand(d, generator=g, dtype=F64) + 0.5).to(device)
    beta = torch.randn(d, generator=g, dtype=F64).to(device)
    dout = torch.randn(n, d, generator=g, dtype=F64).to(device)   # random, non-uniform upstream gradient
    _, cache = nz.batchnorm_forward(x, gamma, beta, _state(d, F64, device), "train")
    got = nz.batchnorm_backward(dout, cache)
    for a, b in zip(got, _bn_autograd(x, gamma, beta, dout, 1e-5)):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
        assert a.device.type == device.type


def test_batchnorm_backward_against_central_differences():
    g = _gen(9)
    n, d, eps, h = 6, 3, 1e-5, 1e-6
    x = torch.randn(n, d, generator=g, dtype=F64)
    gamma, beta = torch.rand(d, generator=g, dtype=F64) + 0.5, torch.randn(d, generator=g, dtype=F64)
    dout = torch.randn(n, d, generator=g, dtype=F64)

    def loss(xv):
        out, _ = nz.batchnorm_forward(xv, gamma, beta, _state(d, F64, "cpu", eps=eps), "train")
        return (out * dout).sum().item()

    numeric = torch.zeros_like(x)
    for idx in torch.cartesian_prod(torch.arange(n), torch.arange(d)).tolist():
        e = torch.zeros_like(x)
        e[tuple(idx)] = h
        numeric[tuple(idx)] = (loss(x + e) - loss(x - e)) / (2 * h)
    _, cache = nz.batchnorm_forward(x, gamma, beta, _state(d, F64, "cpu", eps=eps), "train")
    dx, _, _ = nz.batchnorm_backward(dout, cache)
    torch.testing.assert_close(dx, numeric, rtol=1e-6, atol=1e-8)


def test_batchnorm_backward_can_itself_be_differentiated_and_mixes_dtypes():
    # The closed form writes dx over a temporary in place; when its own inputs require grad (a double
    # backward) or the dtypes differ, it takes the out-of-place branch, which must give the same numbers.
    g = _gen(11)
    n, d = 7, 4
    x = torch.randn(n, d, generator=g, dtype=F64)
    gamma, beta = torch.rand(d, generator=g, dtype=F64) + 0.5, torch.randn(d, generator=g, dtype=F64)
    dout = torch.randn(n, d, generator=g, dtype=F64)
    _, cache = nz.batchnorm_forward(x, gamma, beta, _state(d, F64, "cpu"), "train")
    in_place = nz.batchnorm_backward(dout, cache)
    traced = nz.batchnorm_backward(dout.clone().requires_grad_(), cache)
    for a, b in zip(in_place, traced):
        torch.testing.assert_close(a, b.detach(), rtol=1e-12, atol=1e-14)
    assert torch.autograd.gradcheck(lambda v: nz.batchnorm_backward(v, cache)[0], (dout.clone().requires_grad_(),))
    mixed = nz.batchnorm_backward(dout.float(), cache)
    assert [t.dtype for t in mixed] == [F64, F64, torch.float32]
    for a, b in zip(in_place, mixed):
        torch.testing.assert_close(a, b.to(F64), rtol=1e-6, atol=1e-6)


def test_batchnorm_forward_backward_on_device(device):
    """The closed form runs on the device unchanged and agrees with BatchNorm1d + autograd there.
    (Its speed is measured by benchmarks/run.py, not asserted here.)"""
    n, d = 64, 128
    g = _gen(10)
    x = torch.randn(n, d, generator=g).to(device)
    dout = torch.randn(n, d, generator=g).to(device)
    gamma, beta = torch.ones(d, device=device), torch.zeros(d, device=device)
    state = _state(d, torch.float32, device)
    bn = torch.nn.BatchNorm1d(d, device=device)
    xr = x.clone().requires_grad_()

    def theirs():
        xr.grad = None
        bn.zero_grad(set_to_none=True)
        bn(xr).backward(dout)

    _, cache = nz.batchnorm_forward(x, gamma, beta, state, "train")
    dx, _, _ = nz.batchnorm_backward(dout, cache)
    theirs()
    torch.testing.assert_close(dx, xr.grad, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------------------------- LayerNorm

@pytest.mark.parametrize("shape", [(5, 8), (2, 3, 7), (1, 4)])
def test_layernorm_matches_torch_and_autograd(device, shape):
    g = _gen(11)
    d = shape[-1]
    x = (2 * torch.randn(*shape, generator=g, dtype=F64) + 1).to(device)
    gamma = (torch.rand(d, generator=g, dtype=F64) + 0.5).to(device)
    beta = torch.randn(d, generator=g, dtype=F64).to(device)
    dout = torch.randn(*shape, generator=g, dtype=F64).to(device)
    out, cache = nz.layernorm_forward(x, gamma, beta, eps=1e-4)
    torch.testing.assert_close(out, F.layer_norm(x, (d,), gamma, beta, 1e-4), rtol=1e-12, atol=1e-12)
    assert cache[2].shape == (*shape[:-1], 1)
    xr, gr, br = (t.clone().requires_grad_() for t in (x, gamma, beta))
    expected = torch.autograd.grad(F.layer_norm(xr, (d,), gr, br, 1e-4), (xr, gr, br), dout)
    for a, b in zip(nz.layernorm_backward(dout, cache), expected):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_layernorm_float32():
    g = _gen(12)
    x = torch.randn(4, 16, generator=g)
    out, _ = nz.layernorm_forward(x, torch.ones(16), torch.zeros(16))
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, F.layer_norm(x, (16,)), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------------------------- dropout

def test_dropout_forward_exact_mask_and_eval(device, dtype):
    x = torch.randn(6, 7, generator=_gen(13), dtype=dtype).to(device)
    out, mask = nz.dropout_forward(x, 0.3, True, _gen(14, device))
    u = torch.rand(x.shape, generator=_gen(14, device), dtype=dtype, device=device)
    expected_mask = (u >= 0.3).to(dtype) / 0.7
    torch.testing.assert_close(mask, expected_mask)
    torch.testing.assert_close(out, x * expected_mask)
    out, mask = nz.dropout_forward(x, 0.3, False, _gen(14, device))
    assert torch.equal(out, x) and torch.equal(mask, torch.ones_like(x))
    dx = nz.dropout_backward(torch.ones_like(x), expected_mask)
    torch.testing.assert_close(dx, expected_mask)


@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.8])
def test_dropout_statistics_match_torch_convention(p):
    """Same law as F.dropout: a fraction p dropped, survivors scaled by 1/(1-p), the mean preserved."""
    x = torch.ones(200_000, dtype=F64)
    out, _ = nz.dropout_forward(x, p, True, _gen(15))
    ref = F.dropout(x, p, training=True)  # torch's own dropout, for its scale
    n = x.numel()
    dropped = (out == 0).double().mean().item()
    assert abs(dropped - p) < 5 * math.sqrt(max(p * (1 - p), 1e-12) / n) + 1e-12
    assert set(out.unique().tolist()) <= {0.0, 1.0 / (1.0 - p)}
    assert set(ref.unique().tolist()) <= {0.0, 1.0 / (1.0 - p)}
    assert abs(out.mean().item() - 1.0) < 5 * math.sqrt(p / ((1 - p) * n)) + 1e-12


def test_dropout_gradient_matches_autograd():
    x = torch.randn(5, 4, generator=_gen(16), dtype=F64, requires_grad=True)
    dout = torch.randn(5, 4, generator=_gen(17), dtype=F64)
    out, mask = nz.dropout_forward(x, 0.4, True, _gen(18))
    (grad,) = torch.autograd.grad(out, x, dout)
    torch.testing.assert_close(nz.dropout_backward(dout, mask), grad)


# ---------------------------------------------------------------------------------------------- residual, ensembles

def test_residual_block_matches_nn_linear(device, dtype):
    g = _gen(19)
    lin1, lin2 = torch.nn.Linear(5, 9, dtype=dtype), torch.nn.Linear(9, 5, dtype=dtype)
    lin1, lin2 = lin1.to(device), lin2.to(device)
    x = torch.randn(7, 5, generator=g, dtype=dtype).to(device)
    with torch.no_grad():
        expected = x + lin2(F.relu(lin1(x)))
        got = nz.residual_block(x, lin1.weight, lin1.bias, lin2.weight, lin2.bias)
    torch.testing.assert_close(got, expected)


def test_ensemble_average(device, dtype):
    g = _gen(20)
    logits = (20 * torch.randn(4, 6, 5, generator=g, dtype=dtype) + 1000).to(device)
    probs = nz.ensemble_average(logits)
    assert probs.shape == (6, 5) and torch.isfinite(probs).all()
    torch.testing.assert_close(probs, torch.softmax(logits.double(), -1).mean(0).to(dtype))
    torch.testing.assert_close(probs.sum(-1), torch.ones(6, dtype=dtype, device=device))


# ---------------------------------------------------------------------------------------------- hidden checks

@pytest.mark.parametrize("name", nz.__all__)
def test_reference_passes_its_hidden_check(name):
    result = run_check(name, getattr(nz, name))
    assert result.passed, result.message


def test_batchnorm_forward_is_differentiable_by_autograd():
    """With autograd on, the forward pass builds a correct graph (no in-place reuse of its temporaries)."""
    g = _gen(21)
    x = torch.randn(7, 4, generator=g, dtype=F64, requires_grad=True)
    gamma = (torch.rand(4, generator=g, dtype=F64) + 0.5).requires_grad_()
    beta = torch.randn(4, generator=g, dtype=F64, requires_grad=True)
    dout = torch.randn(7, 4, generator=g, dtype=F64)
    out, _ = nz.batchnorm_forward(x, gamma, beta, _state(4, F64, "cpu"), "train")
    got = torch.autograd.grad(out, (x, gamma, beta), dout)
    for a, b in zip(got, _bn_autograd(x, gamma, beta, dout, 1e-5)):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------------- the Jacobian

@pytest.mark.parametrize("n,eps", [(2, 1e-5), (5, 1e-5), (9, 0.1)])
def test_batchnorm_jacobian_matches_autograd_and_the_backward_pass(n, eps):
    g = _gen(30)
    x = 3 * torch.randn(n, generator=g, dtype=F64) + 1
    inv_std = 1 / torch.sqrt(x.var(correction=0) + eps)
    xhat = (x - x.mean()) * inv_std
    J = nz.batchnorm_jacobian(xhat, inv_std)
    oracle = torch.autograd.functional.jacobian(lambda t: (t - t.mean()) / torch.sqrt(t.var(correction=0) + eps), x)
    torch.testing.assert_close(J, oracle, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(J, J.T)
    # the backward pass is this Jacobian contracted with gamma * dout
    dout, gamma = torch.randn(n, 1, generator=g, dtype=F64), torch.tensor([1.7], dtype=F64)
    dx, _, _ = nz.batchnorm_backward(dout, (xhat[:, None], gamma, inv_std[None]))
    torch.testing.assert_close(dx[:, 0], J.T @ (gamma * dout[:, 0]))


# ---------------------------------------------------------------------------------------------- make it work

def test_train_bn_mlp_reaches_the_chapter_target_on_held_out_digits():
    from autograder.checks.ch06 import BN_MLP_SETTINGS, BN_MLP_SPLIT_SEED, BN_MLP_TARGET, bn_mlp_heldout_accuracy
    from course.data import load_digits

    split = load_digits(0.25, seed=BN_MLP_SPLIT_SEED)
    scores = [bn_mlp_heldout_accuracy(nz.train_bn_mlp(split.X_train, split.y_train, **BN_MLP_SETTINGS, seed=s),
                                      split.X_test, split.y_test) for s in range(6)]
    assert sorted(scores)[1] > BN_MLP_TARGET + 0.01, scores  # one run in twenty lands low: the grader averages three


def test_train_bn_mlp_is_deterministic_and_keeps_the_dtype():
    g = _gen(31)
    X, y = torch.rand(40, 6, generator=g, dtype=F64), torch.randint(0, 10, (40,), generator=g)
    a = nz.train_bn_mlp(X, y, hidden=8, steps=5, batch_size=16, seed=3)
    b = nz.train_bn_mlp(X, y, hidden=8, steps=5, batch_size=16, seed=3)
    assert set(a) == {f"{k}{i}" for i in (1, 2) for k in ("W", "b", "gamma", "beta", "running_mean", "running_var")} | {"W3", "b3"}
    assert all(torch.equal(a[k], b[k]) and a[k].dtype == F64 for k in a)
    assert a["W1"].shape == (8, 6) and a["W3"].shape == (10, 8)
