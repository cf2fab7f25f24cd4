"""solutions_lib.linear against torch built-ins, autograd and finite differences (chapter 03)."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from solutions_lib import linear as lin

F64 = torch.float64


def _randn(*shape, dtype, device, seed=0, scale=1.0, offset=0.0):
    g = torch.Generator().manual_seed(seed)
    x = scale * torch.randn(*shape, generator=g, dtype=F64) + offset
    return x.to(device=device, dtype=dtype)


def _labels(n, c, device, seed=0):
    return torch.randint(0, c, (n,), generator=torch.Generator().manual_seed(seed)).to(device)


def _close(got, expected, dtype):
    tol = {torch.float32: (1e-5, 1e-6), torch.float64: (1e-12, 1e-12)}[dtype]
    torch.testing.assert_close(got, expected, rtol=tol[0], atol=tol[1])


# --- sigmoid and the binary logistic loss --------------------------------------------------------

def test_sigmoid_matches_torch_everywhere(device, dtype):
    z = torch.cat([_randn(50, dtype=dtype, device=device, scale=10.0),
                   torch.tensor([0.0, 1000.0, -1000.0, 88.0, -88.0, 750.0, -750.0], dtype=dtype, device=device)])
    out = lin.sigmoid(z)
    assert out.dtype == dtype and out.device.type == device.type
    assert torch.isfinite(out).all()
    _close(out, torch.sigmoid(z), dtype)


def test_sigmoid_keeps_shape_and_infinite_limits():
    z = torch.tensor([[-math.inf, 0.0], [math.inf, 2.0]], dtype=F64)
    torch.testing.assert_close(lin.sigmoid(z), torch.sigmoid(z))


@pytest.mark.parametrize("scale", [1.0, 30.0, 500.0])
def test_logistic_loss_and_grad_match_autograd(device, scale):
    z = _randn(25, dtype=F64, device=device, scale=scale)
    t = _labels(25, 2, device).to(F64)
    loss, grad = lin.logistic_loss_and_grad(z, t)
    leaf = z.clone().requires_grad_(True)
    expected = F.binary_cross_entropy_with_logits(leaf, t)
    expected.backward()
    assert loss.shape == () and grad.shape == (25,)
    _close(loss, expected.detach(), F64)
    _close(grad, leaf.grad, F64)


def test_logistic_loss_confident_mistakes_are_finite(dtype):
    loss, grad = lin.logistic_loss_and_grad(torch.tensor([1000.0, -1000.0], dtype=dtype),
                                            torch.tensor([0.0, 1.0], dtype=dtype))
    assert loss.item() == pytest.approx(1000.0)
    _close(grad, torch.tensor([0.5, -0.5], dtype=dtype), dtype)


def test_logistic_is_two_class_softmax():
    z = _randn(10, dtype=F64, device="cpu", scale=3.0)
    t = _labels(10, 2, "cpu", seed=1)
    loss, grad = lin.logistic_loss_and_grad(z, t.to(F64))
    logits = torch.stack([torch.zeros_like(z), z], dim=1)
    _close(loss, lin.cross_entropy(logits, t), F64)
    _close(grad, lin.softmax_cross_entropy_grad(logits, t)[:, 1], F64)


# --- softmax and log-softmax -------------------------------------------------------------------

@pytest.mark.parametrize("dim", [-1, 0, 1])
@pytest.mark.parametrize("offset", [0.0, 1000.0])
def test_softmax_and_log_softmax_match_torch(device, dtype, dim, offset):
    if dtype == torch.float32 and offset:
        offset = 80.0  # exp(80) is still finite in float32, exp(100) is not: the shift is what matters
    z = _randn(3, 5, 4, dtype=dtype, device=device, scale=3.0, offset=offset)
    p = lin.softmax(z, dim=dim)
    lp = lin.log_softmax(z, dim=dim)
    assert p.dtype == dtype and p.device.type == device.type and p.shape == z.shape
    _close(p, torch.softmax(z, dim=dim), dtype)
    _close(lp, torch.log_softmax(z, dim=dim), dtype)
    _close(p.sum(dim=dim), torch.ones_like(p.sum(dim=dim)), dtype)


def test_softmax_rows_at_very_different_levels():
    z = torch.randn(3, 6, dtype=F64) + torch.tensor([[0.0], [1000.0], [-1000.0]], dtype=F64)
    _close(lin.softmax(z), torch.softmax(z, dim=-1), F64)
    _close(lin.log_softmax(z), torch.log_softmax(z, dim=-1), F64)


def test_log_softmax_is_finite_where_softmax_underflows():
    lp = lin.log_softmax(torch.tensor([0.0, -1000.0, -5000.0], dtype=F64))
    torch.testing.assert_close(lp, torch.tensor([0.0, -1000.0, -5000.0], dtype=F64))


def test_softmax_does_not_modify_its_input():
    z = torch.randn(4, 3)
    saved = z.clone()
    lin.softmax(z)
    lin.log_softmax(z)
    assert torch.equal(z, saved)


# --- cross-entropy, its gradient, accuracy ------------------------------------------------------

@pytest.mark.parametrize("offset", [0.0, 1000.0])
def test_cross_entropy_and_grad_match_autograd(device, offset):
    z = _randn(12, 7, dtype=F64, device=device, scale=4.0, offset=offset)
    y = _labels(12, 7, device)
    leaf = z.clone().requires_grad_(True)
    expected = F.cross_entropy(leaf, y)
    expected.backward()
    _close(lin.cross_entropy(z, y), expected.detach(), F64)
    grad = lin.softmax_cross_entropy_grad(z, y)
    _close(grad, leaf.grad, F64)
    _close(grad.sum(dim=1), torch.zeros(12, dtype=F64, device=device), F64)
    assert torch.equal(z, _randn(12, 7, dtype=F64, device=device, scale=4.0, offset=offset))


def test_cross_entropy_float32(device):
    z = _randn(40, 10, dtype=torch.float32, device=device, scale=3.0)
    y = _labels(40, 10, device)
    _close(lin.cross_entropy(z, y), F.cross_entropy(z, y), torch.float32)


def test_cross_entropy_closed_forms():
    assert lin.cross_entropy(torch.zeros(3, 5, dtype=F64), torch.tensor([0, 1, 4])).item() == pytest.approx(math.log(5))
    confident = torch.tensor([[1000.0, 0.0], [0.0, 1000.0]], dtype=F64)
    assert lin.cross_entropy(confident, torch.tensor([1, 1])).item() == pytest.approx(500.0)


def test_accuracy():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 4.0]])
    acc = lin.accuracy(logits, torch.tensor([0, 1, 1]))
    assert isinstance(acc, float) and acc == pytest.approx(2 / 3)
    assert lin.accuracy(torch.zeros(4, 3), torch.tensor([0, 0, 1, 2])) == 0.5  # ties -> class 0


# --- the linear classifier -------------------------------------------------------------------------

@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_linear_softmax_grads_match_autograd(device, reg):
    X = _randn(9, 5, dtype=F64, device=device, seed=1)
    W = _randn(5, 4, dtype=F64, device=device, seed=2)
    b = _randn(4, dtype=F64, device=device, seed=3)
    y = _labels(9, 4, device)
    W_, b_ = W.clone().requires_grad_(True), b.clone().requires_grad_(True)
    expected = F.cross_entropy(X @ W_ + b_, y) + 0.5 * reg * (W_ ** 2).sum()
    expected.backward()
    loss, dW, db = lin.linear_softmax_loss_and_grads(X, W, b, y, reg)
    assert dW.shape == W.shape and db.shape == b.shape
    _close(loss, expected.detach(), F64)
    _close(dW, W_.grad, F64)
    _close(db, b_.grad, F64)


def test_linear_softmax_grads_match_central_differences():
    X = _randn(6, 3, dtype=F64, device="cpu", seed=4, scale=2.0)
    W = _randn(3, 3, dtype=F64, device="cpu", seed=5)
    b = _randn(3, dtype=F64, device="cpu", seed=6)
    y = _labels(6, 3, "cpu", seed=7)
    _, dW, db = lin.linear_softmax_loss_and_grads(X, W, b, y, 0.2)
    h = 1e-6
    for i in range(3):
        for j in range(3):
            E = torch.zeros_like(W)
            E[i, j] = h
            numeric = (lin.linear_softmax_loss_and_grads(X, W + E, b, y, 0.2)[0]
                       - lin.linear_softmax_loss_and_grads(X, W - E, b, y, 0.2)[0]) / (2 * h)
            assert numeric.item() == pytest.approx(dW[i, j].item(), abs=1e-8)
        e = torch.zeros_like(b)
        e[i] = h
        numeric = (lin.linear_softmax_loss_and_grads(X, W, b + e, y, 0.2)[0]
                   - lin.linear_softmax_loss_and_grads(X, W, b - e, y, 0.2)[0]) / (2 * h)
        assert numeric.item() == pytest.approx(db[i].item(), abs=1e-8)


def test_linear_softmax_float32(device):
    X = _randn(64, 8, dtype=torch.float32, device=device)
    W = _randn(8, 5, dtype=torch.float32, device=device, seed=1)
    b = _randn(5, dtype=torch.float32, device=device, seed=2)
    y = _labels(64, 5, device)
    loss, dW, db = lin.linear_softmax_loss_and_grads(X, W, b, y, 0.01)
    assert loss.dtype == dW.dtype == db.dtype == torch.float32
    ref = lin.linear_softmax_loss_and_grads(X.double(), W.double(), b.double(), y, 0.01)
    for got, expected in zip((loss, dW, db), ref):
        torch.testing.assert_close(got.double(), expected, rtol=1e-4, atol=1e-6)


# --- training -------------------------------------------------------------------------------------

def test_train_first_step_matches_autograd():
    X = _randn(6, 3, dtype=F64, device="cpu", seed=1)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    W, b, losses = lin.train_softmax_classifier(X, y, 3, lr=0.7, epochs=1, reg=0.1,
                                                generator=torch.Generator().manual_seed(0))
    W0 = (0.01 * torch.randn(3, 3, generator=torch.Generator().manual_seed(0), dtype=F64)).requires_grad_(True)
    b0 = torch.zeros(3, dtype=F64, requires_grad=True)
    loss0 = F.cross_entropy(X @ W0 + b0, y) + 0.05 * (W0 ** 2).sum()
    loss0.backward()
    assert losses.shape == (1,)
    _close(losses[0], loss0.detach(), F64)
    _close(W, W0.detach() - 0.7 * W0.grad, F64)
    _close(b, -0.7 * b0.grad, F64)


def test_train_decreases_loss_on_blobs(device):
    from course.data import make_blobs_2d

    X, y = make_blobs_2d(120, 3, torch.Generator().manual_seed(0), dtype=F64)
    X, y = X.to(device), y.to(device)
    W, b, losses = lin.train_softmax_classifier(X, y, 3, lr=0.5, epochs=60, reg=1e-3,
                                                generator=torch.Generator(device=device).manual_seed(0))
    assert W.shape == (2, 3) and b.shape == (3,) and losses.shape == (60,)
    assert (losses[1:] < losses[:-1]).all()
    assert lin.accuracy(X @ W + b, y) > 0.8


def test_train_reaches_the_stated_digits_accuracy():
    from autograder.checks import ch03
    from course.data import load_digits

    X_train, y_train, X_test, y_test = load_digits()
    W, b, losses = lin.train_softmax_classifier(X_train, y_train, 10, generator=torch.Generator().manual_seed(0),
                                                **ch03.DIGITS_SETTINGS)
    acc = lin.accuracy(X_test @ W + b, y_test)
    assert acc >= ch03.DIGITS_MIN_ACCURACY + 0.02  # the threshold sits a few points below the reference
    assert acc == pytest.approx(0.962, abs=0.01)
    assert losses.dtype == torch.float32 and losses[-1] < losses[0]


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_backward_matches_autograd(dim):
    g = torch.Generator().manual_seed(7)
    z = (3.0 * torch.randn(4, 5, generator=g, dtype=torch.float64)).requires_grad_(True)
    up = torch.randn(4, 5, generator=g, dtype=torch.float64)
    (torch.softmax(z, dim=dim) * up).sum().backward()
    got = lin.softmax_backward(torch.softmax(z.detach(), dim=dim), up, dim=dim)
    torch.testing.assert_close(got, z.grad)
    torch.testing.assert_close(got.sum(dim=dim), torch.zeros(got.shape[1 - dim % 2], dtype=torch.float64))


def test_cross_entropy_gradient_is_the_softmax_backward_of_minus_one_over_p_y():
    g = torch.Generator().manual_seed(8)
    z = torch.randn(6, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 4, (6,), generator=g)
    p = torch.softmax(z, dim=1)
    up = torch.zeros_like(p)
    up[torch.arange(6), y] = -1.0 / (6 * p[torch.arange(6), y])
    torch.testing.assert_close(lin.softmax_backward(p, up), lin.softmax_cross_entropy_grad(z, y))


def test_concept_answers():
    assert (lin.gradient_rows_answer(), lin.separable_answer()) == ("c", "b")


def test_expected_calibration_error_against_a_loop_over_the_bins():
    g = torch.Generator().manual_seed(9)
    probs = torch.softmax(3.0 * torch.randn(300, 6, generator=g, dtype=torch.float64), dim=1)
    y = torch.randint(0, 6, (300,), generator=g)
    conf, pred = probs.max(dim=1)
    for n_bins in (1, 5, 10, 40):
        expected = 0.0
        for k in range(n_bins):
            in_bin = (conf > k / n_bins) & (conf <= (k + 1) / n_bins)
            if in_bin.any():
                gap = (pred[in_bin] == y[in_bin]).double().mean() - conf[in_bin].mean()
                expected += in_bin.double().mean().item() * abs(gap.item())
        assert math.isclose(lin.expected_calibration_error(probs, y, n_bins), expected, rel_tol=1e-12, abs_tol=1e-15)
    # temperature scaling changes the calibration, never the predictions
    z = torch.randn(50, 4, generator=g, dtype=torch.float64)
    assert torch.equal(lin.softmax(z / 0.3).argmax(1), lin.softmax(z * 2.0).argmax(1))
    assert lin.temperature_answer() == "a"
