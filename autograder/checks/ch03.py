"""Hidden checks of chapter 03 (from logistic regression to softmax classifiers).

Oracles: torch's own sigmoid, softmax, log-softmax and cross-entropy, and autograd in float64 for
every gradient; the training exercise is compared step for step with ``solutions_lib`` (its
initialization is specified exactly) and must reach a test accuracy on the digits.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from autograder.checks import Case, check
from course.checks import as_array, diagnose_close, tolerance
from solutions_lib import linear as ref

F64 = torch.float64
F32 = torch.float32

# Digits run of the training check: the reference reaches 0.962 test accuracy with these settings.
DIGITS_SETTINGS = {"lr": 2.0, "epochs": 200, "reg": 1e-3}
DIGITS_MIN_ACCURACY = 0.93


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _labels(n: int, c: int, g: torch.Generator) -> torch.Tensor:
    return torch.randint(0, c, (n,), generator=g)


# ----------------------------------------------------------------------------------------------
# sigmoid and the binary logistic loss


@check("sigmoid", reference=torch.sigmoid,
       hint="Only exponentiate -|z|: sigmoid(z) = 1/(1+e) for z >= 0 and e/(1+e) for z < 0, with e = exp(-|z|).")
def _sigmoid_cases():
    g = _gen(301)
    yield Case("float64 (3, 4), scale 10", (10.0 * torch.randn(3, 4, generator=g, dtype=F64),))
    yield Case("float32 vector of 50", (torch.randn(50, generator=g),))
    yield Case("float64 extremes +-1000, +-750, +-40, 0",
               (torch.tensor([1000.0, -1000.0, 750.0, -750.0, 40.0, -40.0, 0.0], dtype=F64),))
    yield Case("float32 extremes +-1000, +-100, +-20",
               (torch.tensor([1000.0, -1000.0, 100.0, -100.0, 20.0, -20.0], dtype=F32),))
    yield Case("0-dimensional tensor 1.5", (torch.tensor(1.5, dtype=F64),))
    yield Case("float64 (2, 3, 5), scale 300", (300.0 * torch.randn(2, 3, 5, generator=g, dtype=F64),))


def _logistic_oracle(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    z = logits.detach().clone().requires_grad_(True)
    loss = F.binary_cross_entropy_with_logits(z, targets.to(z.dtype))
    loss.backward()
    return loss.detach(), z.grad


@check("logistic_loss_and_grad", by_hand=True,
       hint="loss = mean(softplus(z) - t*z) with softplus(z) = max(z, 0) + log1p(exp(-|z|)); "
            "grad = (sigmoid(z) - t) / N.")
def _logistic_cases():
    g = _gen(302)
    for label, n, scale, dtype in [("float64, 7 logits", 7, 3.0, F64), ("float32, 40 logits", 40, 2.0, F32),
                                   ("float64, one logit", 1, 1.0, F64),
                                   ("float64, logits up to +-1000", 12, 400.0, F64),
                                   ("float32, logits up to +-200", 10, 80.0, F32)]:
        z = scale * torch.randn(n, generator=g, dtype=dtype)
        t = torch.randint(0, 2, (n,), generator=g).to(dtype)
        yield Case(label, (z, t), expected=_logistic_oracle(z, t))
    z = torch.tensor([1000.0, -1000.0, 1000.0, -1000.0], dtype=F64)
    t = torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=F64)
    yield Case("float64, logits +-1000, right and wrong", (z, t), expected=_logistic_oracle(z, t))


# ----------------------------------------------------------------------------------------------
# softmax and log-softmax


def _offset_rows(g: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    """Rows of logits whose levels differ by about 1000: a single global shift underflows some row."""
    return torch.randn(3, 6, generator=g, dtype=dtype) + torch.tensor([[0.0], [1000.0], [-1000.0]], dtype=dtype)


@check("softmax", hint="Subtract the maximum of each slice along `dim` (keepdim=True) before exp, "
                       "then divide by the sum along the same `dim`.")
def _softmax_cases():
    g = _gen(303)
    cases = [
        ("float64 (4, 5)", torch.randn(4, 5, generator=g, dtype=F64), -1),
        ("float32 (3, 7), scale 5", 5.0 * torch.randn(3, 7, generator=g), -1),
        ("float64 (4, 5), logits near 1000", 1000.0 + torch.randn(4, 5, generator=g, dtype=F64), -1),
        ("float32 (5, 4), logits near 100 (exp overflows in float32)", 100.0 + torch.randn(5, 4, generator=g), -1),
        ("float64 rows at levels 0, +1000, -1000", _offset_rows(g, F64), -1),
        ("float64 (6, 3) along dim=0", torch.randn(6, 3, generator=g, dtype=F64), 0),
        ("float64 (2, 5, 3) along dim=1, near 1000", 1000.0 + torch.randn(2, 5, 3, generator=g, dtype=F64), 1),
        ("float64 1-D vector of 8", torch.randn(8, generator=g, dtype=F64), -1),
        ("float64 a single class (4, 1)", torch.randn(4, 1, generator=g, dtype=F64), -1),
    ]
    for label, z, dim in cases:
        yield Case(label, (z,), {"dim": dim}, expected=torch.softmax(z, dim=dim))
    z = torch.randn(2, 3, 4, generator=g, dtype=F64)
    yield Case("float64 (2, 3, 4), dim left at its default (the last)", (z,), expected=torch.softmax(z, dim=-1))


@check("log_softmax", hint="log softmax(z) = z - max - log(sum(exp(z - max))), reduced along `dim` with keepdim=True; "
                           "never take log of the softmax itself.")
def _log_softmax_cases():
    g = _gen(304)
    cases = [
        ("float64 (4, 5)", torch.randn(4, 5, generator=g, dtype=F64), -1),
        ("float32 (3, 7), scale 5", 5.0 * torch.randn(3, 7, generator=g), -1),
        ("float64 (4, 5), logits near 1000", 1000.0 + torch.randn(4, 5, generator=g, dtype=F64), -1),
        ("float64 logits spread over +-1000", 500.0 * torch.randn(4, 6, generator=g, dtype=F64), -1),
        ("float64 rows at levels 0, +1000, -1000", _offset_rows(g, F64), -1),
        ("float64 (6, 3) along dim=0", torch.randn(6, 3, generator=g, dtype=F64), 0),
        ("float64 (2, 5, 3) along dim=1", torch.randn(2, 5, 3, generator=g, dtype=F64), 1),
        ("float64 1-D vector of 8", torch.randn(8, generator=g, dtype=F64), -1),
    ]
    for label, z, dim in cases:
        yield Case(label, (z,), {"dim": dim}, expected=torch.log_softmax(z, dim=dim))
    z = torch.randn(2, 3, 4, generator=g, dtype=F64)
    yield Case("float64 (2, 3, 4), dim left at its default (the last)", (z,), expected=torch.log_softmax(z, dim=-1))


# ----------------------------------------------------------------------------------------------
# cross-entropy, its gradient, accuracy


def _ce_inputs():
    g = _gen(305)
    yield "float64 (6, 4)", torch.randn(6, 4, generator=g, dtype=F64), _labels(6, 4, g)
    yield "float32 (32, 10), scale 3", 3.0 * torch.randn(32, 10, generator=g), _labels(32, 10, g)
    yield "float64 one example (1, 5)", torch.randn(1, 5, generator=g, dtype=F64), _labels(1, 5, g)
    yield "float64 square (5, 5)", torch.randn(5, 5, generator=g, dtype=F64), _labels(5, 5, g)
    yield "float64 logits near 1000", 1000.0 + torch.randn(8, 3, generator=g, dtype=F64), _labels(8, 3, g)
    yield "float64 logits spread over +-1000", 500.0 * torch.randn(7, 4, generator=g, dtype=F64), _labels(7, 4, g)
    yield "float64 two classes (9, 2)", torch.randn(9, 2, generator=g, dtype=F64), _labels(9, 2, g)


@check("cross_entropy", hint="Mean over the batch (not the sum) of logsumexp(z_i) - z_i[y_i], computed via log-softmax.")
def _cross_entropy_cases():
    for label, z, y in _ce_inputs():
        yield Case(label, (z, y), expected=F.cross_entropy(z, y))


def _ce_grad_oracle(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    leaf = z.detach().clone().requires_grad_(True)
    F.cross_entropy(leaf, y).backward()
    return leaf.grad


@check("softmax_cross_entropy_grad", by_hand=True,
       hint="(softmax(logits) - one_hot(targets)) / N, shape (N, C); compute the softmax with the max shift.")
def _ce_grad_cases():
    for label, z, y in _ce_inputs():
        yield Case(label, (z, y), expected=_ce_grad_oracle(z, y))


@check("accuracy", reference=ref.accuracy,
       hint="Mean over the rows of (argmax over dim=1 == target), returned as a fraction in [0, 1].")
def _accuracy_cases():
    g = _gen(306)
    z = torch.randn(50, 10, generator=g)
    yield Case("float32 (50, 10) random", (z, _labels(50, 10, g)))
    z = torch.randn(40, 3, generator=g, dtype=F64)
    y = z.argmax(dim=1)
    yield Case("all correct", (z, y), expected=1.0)
    yield Case("none correct", (z, (y + 1) % 3), expected=0.0)
    z = torch.randn(7, 7, generator=g, dtype=F64)
    yield Case("square (7, 7)", (z, _labels(7, 7, g)))
    z = torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 2.0, 2.0], [3.0, 0.0, 3.0]])
    yield Case("ties go to the lowest index", (z, torch.tensor([0, 0, 1, 2])), expected=0.75)
    yield Case("one example", (torch.tensor([[0.1, 0.9]]), torch.tensor([1])), expected=1.0)


# ----------------------------------------------------------------------------------------------
# the linear classifier


def _linear_oracle(X, W, b, y, reg):
    W_ = W.detach().clone().requires_grad_(True)
    b_ = b.detach().clone().requires_grad_(True)
    loss = F.cross_entropy(X @ W_ + b_, y) + 0.5 * reg * (W_ ** 2).sum()
    loss.backward()
    return loss.detach(), W_.grad, b_.grad


@check("linear_softmax_loss_and_grads", by_hand=True,
       hint="loss = mean CE of X @ W + b + (reg/2)*sum(W**2); dW = X.T @ delta + reg*W (shape (D, C)); "
            "db = delta.sum(0), with delta = (softmax - one_hot) / N; the bias is not regularized.")
def _linear_cases():
    g = _gen(307)
    for label, (n, d, c), reg, dtype, scale in [
        ("float64 (N, D, C) = (8, 5, 3), reg 0.1", (8, 5, 3), 0.1, F64, 1.0),
        ("float64 square D = C = 4, reg 0.7", (6, 4, 4), 0.7, F64, 1.0),
        ("float64 no regularization", (10, 3, 5), 0.0, F64, 1.0),
        ("float64 one example", (1, 4, 3), 0.2, F64, 1.0),
        ("float32 (64, 8, 5), reg 0.01", (64, 8, 5), 0.01, F32, 1.0),
        ("float64 large logits (inputs scaled by 300)", (6, 3, 4), 0.05, F64, 300.0),
    ]:
        X = scale * torch.randn(n, d, generator=g, dtype=dtype)
        W = torch.randn(d, c, generator=g, dtype=dtype)
        b = torch.randn(c, generator=g, dtype=dtype)
        y = _labels(n, c, g)
        yield Case(label, (X, W, b, y, reg), expected=_linear_oracle(X, W, b, y, reg))


# ----------------------------------------------------------------------------------------------
# training


def _history(losses) -> torch.Tensor:
    """The loss history as a float64 tensor (a tensor, or a list of floats or 0-dim tensors)."""
    if isinstance(losses, torch.Tensor):
        return losses.detach().to("cpu", F64).reshape(-1)
    return torch.tensor([float(v) for v in losses], dtype=F64)


def _train_compare(got, expected, case: Case) -> str | None:
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return f"should return (W, b, losses), got {type(got).__name__}."
    W, b, losses = got
    X, y, num_classes = case.args[0], case.args[1], case.args[2]
    epochs = case.kwargs["epochs"]
    for name, value, shape in (("W", W, (X.shape[1], num_classes)), ("b", b, (num_classes,))):
        if not isinstance(value, torch.Tensor):
            return f"{name} should be a tensor, got {type(value).__name__}."
        if tuple(value.shape) != shape:
            return f"{name} has shape {tuple(value.shape)}, expected {shape}."
    try:
        history = _history(losses)
    except Exception as err:  # noqa: BLE001
        return f"losses should be a 1-D tensor or a list of floats ({type(err).__name__}: {err})."
    if history.numel() != epochs:
        return f"losses should hold one value per step ({epochs}), got {history.numel()}."
    if isinstance(expected, dict):  # the digits run: a property, not a value
        W64, b64 = W.detach().to("cpu", F64), b.detach().to("cpu", F64)
        acc = ref.accuracy(expected["X_test"].to(F64) @ W64 + b64, expected["y_test"])
        if not torch.isfinite(history).all():
            return "the loss history contains NaN or inf."
        if not history[-1] < history[0]:
            return f"the loss did not go down: first {history[0]:.4f}, last {history[-1]:.4f}."
        if acc < expected["min_accuracy"]:
            return (f"test accuracy {acc:.3f} on the digits is below {expected['min_accuracy']}: "
                    "training is not converging (check the update's sign, the 1/N and the learning rate).")
        return None
    W_ref, b_ref, losses_ref = expected
    rtol, atol = tolerance(as_array(X))
    # After many steps tiny rounding differences are amplified a little: allow 100x the dtype's tolerance.
    for what, g_val, e_val in (("losses", history, _history(losses_ref)), ("W", W, W_ref), ("b", b, b_ref)):
        problem = diagnose_close(g_val, e_val, what=what, rtol=100 * rtol, atol=100 * atol)
        if problem:
            return problem
    return None


_DIGITS_CACHE: dict = {}


def _digits():
    if not _DIGITS_CACHE:
        from course.data import load_digits
        _DIGITS_CACHE["split"] = load_digits()
    return _DIGITS_CACHE["split"]


@check("train_softmax_classifier", reference=ref.train_softmax_classifier, compare=_train_compare,
       hint="W = 0.01 * torch.randn(D, C, generator=generator, dtype=X.dtype), b = 0; each step records the loss "
            "before updating, then W -= lr * dW and b -= lr * db with your hand-derived gradients.")
def _train_cases():
    from course.data import make_blobs_2d

    X, y = make_blobs_2d(90, 3, _gen(308), dtype=F64)
    yield Case("float64 blobs, 3 classes, 40 steps", (X, y, 3),
               {"lr": 0.5, "epochs": 40, "reg": 0.01, "generator": _gen(11)})
    g = _gen(309)
    X = torch.randn(30, 5, generator=g, dtype=F64)
    y = _labels(30, 4, g)
    yield Case("float64 random (30, 5), 4 classes, 25 steps, reg 0.2", (X, y, 4),
               {"lr": 0.8, "epochs": 25, "reg": 0.2, "generator": _gen(12)})
    yield Case("float64 random, 1 step", (X, y, 4), {"lr": 0.3, "epochs": 1, "reg": 0.05, "generator": _gen(13)})
    X_train, y_train, X_test, y_test = _digits()
    yield Case(f"digits, float32, lr 2.0, 200 steps, reg 1e-3: test accuracy >= {DIGITS_MIN_ACCURACY}",
               (X_train, y_train, 10), {**DIGITS_SETTINGS, "generator": _gen(0)},
               expected={"X_test": X_test, "y_test": y_test, "min_accuracy": DIGITS_MIN_ACCURACY})
