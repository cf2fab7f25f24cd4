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
       hint="Never exponentiate a large positive number: write the sigmoid separately for z >= 0 and z < 0 so "
            "that only exp(-|z|) appears.")
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
       hint="Rewrite the loss with the softplus and evaluate that without overflow; the gradient of a mean "
            "loss carries a 1/N, and its sign says prediction minus target.")
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


@check("softmax", hint="Use the shift invariance with the maximum of each slice along `dim` (not one global "
                       "maximum), and normalize along that same `dim`.")
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


@check("log_softmax", hint="Take the logarithm analytically first (log-sum-exp with the slice maximum along `dim`); "
                           "never take the log of the softmax itself.")
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


@check("cross_entropy", hint="The mean over the batch (not the sum) of minus the target class's log-probability, "
                             "computed through the log-softmax.")
def _cross_entropy_cases():
    for label, z, y in _ce_inputs():
        yield Case(label, (z, y), expected=F.cross_entropy(z, y))


def _ce_grad_oracle(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    leaf = z.detach().clone().requires_grad_(True)
    F.cross_entropy(leaf, y).backward()
    return leaf.grad


@check("softmax_cross_entropy_grad", by_hand=True,
       hint="Differentiate -log p_y through the softmax (Exercise 6a, or the log-sum-exp); the batch loss is a "
            "mean, and the probabilities need the max shift.")
def _ce_grad_cases():
    for label, z, y in _ce_inputs():
        yield Case(label, (z, y), expected=_ce_grad_oracle(z, y))


def _softmax_backward_oracle(p, g, dim=-1):
    """Oracle: autograd through torch.softmax in float64, at logits log(p)."""
    z = torch.log(p.detach().to(F64)).requires_grad_(True)
    (torch.softmax(z, dim=dim) * g.detach().to(F64)).sum().backward()
    return z.grad


@check("softmax_backward", reference=ref.softmax_backward, by_hand=True,
       hint="Multiply the upstream gradient by the softmax Jacobian p_i (delta_ik - p_k) without forming it: one "
            "weighted sum per slice along `dim`, then a product with the probabilities.")
def _softmax_backward_cases():
    g = _gen(310)
    z = 3.0 * torch.randn(5, 7, generator=g, dtype=F64)
    p, up = torch.softmax(z, dim=-1), torch.randn(5, 7, generator=g, dtype=F64)
    yield Case("float64 (5, 7), autograd oracle", (p, up), expected=_softmax_backward_oracle(p, up))
    z = torch.randn(4, 3, 6, generator=g, dtype=F64)
    p, up = torch.softmax(z, dim=1), torch.randn(4, 3, 6, generator=g, dtype=F64)
    yield Case("float64 (4, 3, 6) along dim=1, autograd oracle", (p, up), {"dim": 1},
               expected=_softmax_backward_oracle(p, up, dim=1))
    z = torch.randn(6, 5, generator=g, dtype=F64)
    p, up = torch.softmax(z, dim=0), torch.randn(6, 5, generator=g, dtype=F64)
    yield Case("float64 (6, 5) along dim=0", (p, up), {"dim": 0}, expected=_softmax_backward_oracle(p, up, dim=0))
    p = torch.softmax(torch.randn(8, 10, generator=g), dim=-1)
    yield Case("float32 (8, 10)", (p, torch.randn(8, 10, generator=g)))
    p = torch.softmax(torch.randn(9, generator=g, dtype=F64), dim=0)
    yield Case("a single vector of 9 classes", (p, torch.randn(9, generator=g, dtype=F64)))
    p = torch.tensor([[0.5, 0.25, 0.25], [0.1, 0.2, 0.7]], dtype=F64)
    yield Case("upstream gradient constant per row: the logits' gradient is 0",
               (p, torch.tensor([[2.0, 2.0, 2.0], [-1.0, -1.0, -1.0]], dtype=F64)), expected=torch.zeros(2, 3, dtype=F64))
    p = torch.tensor([[1.0, 0.0, 0.0]], dtype=F64)
    yield Case("a saturated softmax: no gradient flows", (p, torch.tensor([[1.0, -3.0, 2.0]], dtype=F64)),
               expected=torch.zeros(1, 3, dtype=F64))
    p = torch.tensor([0.5, 0.25, 0.25], dtype=F64)
    yield Case("closed form: the first column of the Jacobian", (p, torch.tensor([0.0, 1.0, 0.0], dtype=F64)),
               expected=torch.tensor([-0.125, 0.1875, -0.0625], dtype=F64))


@check("accuracy", reference=ref.accuracy,
       hint="The predicted class is each row's largest logit (ties to the lowest index); report the fraction of "
            "rows that are right, as a Python float.")
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
       hint="Chain rule from the logit gradient of Exercise 6b: dW pairs features with logit gradients over the "
            "batch (1/N counted once), db collects the logit gradient, the penalty adds to dW only.")
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
       hint="Initialize exactly as the statement says, record the loss before each update, and step both W and b "
            "against your hand-derived gradients.")
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


# ----------------------------------------------------------------------------------------------
# calibration


def _ece_oracle(probs, targets, n_bins):
    """Oracle: a plain loop over the bins in float64, bin k = (k/B, (k+1)/B]."""
    p = probs.detach().to("cpu", F64)
    conf, pred = p.max(dim=1)
    total = 0.0
    for k in range(n_bins):
        lo, hi = k / n_bins, (k + 1) / n_bins
        in_bin = (conf > lo) & (conf <= hi) if k else (conf <= hi)
        if in_bin.any():
            acc = (pred[in_bin] == targets[in_bin]).double().mean().item()
            total += in_bin.double().mean().item() * abs(acc - conf[in_bin].mean().item())
    return total


@check("expected_calibration_error", reference=ref.expected_calibration_error,
       hint="Bin the rows by their largest probability into equal-width bins (right end included), compare each "
            "bin's accuracy with its mean confidence, and weight the gaps by the bins' shares of the rows.")
def _ece_cases():
    g = _gen(320)
    for label, scale, n, c, bins, dtype in (("float64, 200 rows of 10 classes, 10 bins", 3.0, 200, 10, 10, F64),
                                            ("float32, 150 rows of 4 classes, 15 bins", 2.0, 150, 4, 15, F32),
                                            ("float64, sharp logits (most confidences near 1), 10 bins", 8.0, 120, 5, 10, F64),
                                            ("float64, one bin: |accuracy - mean confidence|", 1.5, 80, 3, 1, F64),
                                            ("float64, 60 bins, many of them empty", 2.5, 40, 6, 60, F64)):
        probs = torch.softmax(scale * torch.randn(n, c, generator=g, dtype=dtype), dim=1)
        y = torch.where(torch.rand(n, generator=g) < 0.7, probs.argmax(dim=1), _labels(n, c, g))
        yield Case(label, (probs, y), {"n_bins": bins}, expected=_ece_oracle(probs, y, bins))
    probs = torch.tensor([[0.5, 0.5, 0.0], [0.25, 0.75, 0.0], [0.0, 0.0, 1.0], [0.5, 0.25, 0.25],
                          [0.75, 0.25, 0.0], [0.2, 0.3, 0.5]], dtype=F64)
    y = torch.tensor([1, 1, 0, 0, 0, 2])
    yield Case("confidences on the bin edges 0.5, 0.75, 1 (4 bins), a tie", (probs, y), {"n_bins": 4},
               expected=1.0 / 3.0)
    probs = torch.eye(4, dtype=F64)[torch.tensor([0, 1, 2, 3, 0])]
    yield Case("one-hot predictions, one of five wrong", (probs, torch.tensor([0, 1, 2, 3, 1]))
               , expected=0.2)
    probs = torch.tensor([[0.6, 0.4]] * 10, dtype=F64)
    yield Case("calibrated: 60% confident, right 6 times in 10, default bins",
               (probs, torch.tensor([0] * 6 + [1] * 4)), expected=0.0)


# ----------------------------------------------------------------------------------------------
# concept questions

def _answer_compare(got, expected, case: Case) -> str | None:
    if not isinstance(got, str) or got.strip().lower() not in {"a", "b", "c", "d"}:
        return "answer with one of the letters 'a', 'b', 'c', 'd' (a string)."
    return None if got.strip().lower() == expected else "that is not the right answer; reread the section."


def _answer_cases(expected):
    def cases():
        yield Case("your answer", (), expected=expected)
    return cases


check("gradient_rows_answer", compare=_answer_compare)(_answer_cases(ref.gradient_rows_answer()))
check("separable_answer", compare=_answer_compare)(_answer_cases(ref.separable_answer()))
check("temperature_answer", compare=_answer_compare)(_answer_cases(ref.temperature_answer()))
