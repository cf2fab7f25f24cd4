"""Hidden checks of chapter 11 (a solvable model of over-fitting; model selection in practice).

Oracles: ``solutions_lib.generalization`` (closed forms derived in the chapter, each checked in
``tests/test_solutions_generalization.py`` against simulation, finite steps and Monte Carlo), and, for
the splitting exercises, properties any correct split has (sizes, disjointness, coverage, a shuffle
that follows the generator). The tuning task is judged here, in the grader: the returned
hyperparameters are used to train ``course.generalization.train_mlp`` on the data the student's
function received, and the accuracy is measured on digits that never enter the kernel.
"""
from __future__ import annotations

import math

import torch

from autograder.checks import Case, check
from course.checks import diagnose_close
from solutions_lib import generalization as ref

F64 = torch.float64
F32 = torch.float32


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _data(N: int, P: int, seed: int, sigma_eps: float = 0.3, dtype=F64):
    return ref.teacher_student_data(N, P, 1.0, sigma_eps, _gen(seed), dtype=dtype)


# ----------------------------------------------------------------------------------------------------
# the teacher-student model


@check("teacher_student_data", reference=ref.teacher_student_data,
       hint="w_bar = sigma_w * randn(P), then X = randn(N, P) / sqrt(P) (inputs with covariance I/P), then "
            "eps = sigma_eps * randn(N), all from the generator in that order; y = X @ w_bar + eps.")
def _teacher_student_cases():
    for label, (N, P, sw, se, seed, dtype) in {
        "N = 6, P = 4, sigma_w 1.5, noise 0.2": (6, 4, 1.5, 0.2, 1101, F64),
        "N = 30 < P = 80 (more parameters than examples)": (30, 80, 0.7, 0.5, 1102, F64),
        "N = 1, P = 9": (1, 9, 2.0, 1.0, 1103, F64),
        "float32, N = 50, P = 25, no noise": (50, 25, 1.0, 0.0, 1104, F32),
    }.items():
        yield Case(label, (N, P, sw, se, _gen(seed)), {"dtype": dtype})


@check("generalization_error", reference=ref.generalization_error,
       hint="E_gen = |w - w_bar|^2 / P + sigma_eps^2: inputs have covariance I/P, and the noise variance "
            "(not its standard deviation) is the floor; reduce over the last dimension only.")
def _generalization_error_cases():
    g = _gen(1110)
    w_bar = torch.randn(7, generator=g, dtype=F64)
    yield Case("one student, P = 7, noise 0.4", (torch.randn(7, generator=g, dtype=F64), w_bar, 0.4))
    yield Case("a batch of 5 students, P = 7, noise 1.5", (torch.randn(5, 7, generator=g, dtype=F64), w_bar, 1.5))
    yield Case("a (2, 3) batch of students, P = 20, no noise",
               (torch.randn(2, 3, 20, generator=g, dtype=F64), torch.randn(20, generator=g, dtype=F64), 0.0))
    yield Case("float32, P = 100, noise 0.25",
               (torch.randn(100, generator=g), torch.randn(100, generator=g), 0.25))


@check("gradient_flow_weights", reference=ref.gradient_flow_weights,
       hint="In the eigenbasis of X^T X each mode obeys dz/dt = s - lambda z: z(t) = z(0) e^{-lambda t} + "
            "s (1 - e^{-lambda t}) / lambda, and a mode with lambda = 0 keeps z(0); then w = V z.")
def _gradient_flow_cases():
    g = _gen(1120)
    for label, (N, P, t) in {
        "N = 4 < P = 7, t = 1.5 (frozen directions keep w0)": (4, 7, 1.5),
        "N = 25 > P = 10, t = 0.3": (25, 10, 0.3),
        "N = 25 > P = 10, t = 500 (converged)": (25, 10, 500.0),
        "N = P = 12, t = 40": (12, 12, 40.0),
        "N = 3 < P = 20, t = 1e4": (3, 20, 1e4),
        "N = 8, P = 5, t = 0": (8, 5, 0.0),
    }.items():
        X, y, _ = _data(N, P, int(1000 * t) % 997 + N)
        w0 = 0.8 * torch.randn(P, generator=g, dtype=F64)
        yield Case(label, (X, y, w0, t))


def _spectrum(N: int, P: int, seed: int) -> torch.Tensor:
    X, _, _ = _data(N, P, seed)
    eig = torch.linalg.eigvalsh(X.T @ X).clamp(min=0.0)
    return torch.where(eig < 1e-10, torch.zeros_like(eig), eig)


@check("expected_generalization_error", reference=ref.expected_generalization_error,
       hint="Per mode: (sigma_w^2 + sigma_w0^2) e^{-2 lambda t} + sigma_eps^2 (1 - e^{-lambda t})^2 / lambda "
            "(0 for lambda = 0), averaged over all P modes, plus sigma_eps^2.")
def _expected_gen_cases():
    times = torch.tensor([0.0, 0.1, 1.0, 10.0, 1e3], dtype=F64)
    yield Case("r = N/P = 2 (no zero eigenvalue)", (_spectrum(40, 20, 1131), times, 1.0, 0.3, 0.5))
    yield Case("r = 0.5 with exact zero eigenvalues", (_spectrum(15, 30, 1132), times, 1.3, 0.0, 0.4))
    yield Case("r = 1, long times, noise 1", (_spectrum(25, 25, 1133), torch.logspace(-1, 5, 9, dtype=F64), 0.5, 0.5, 1.0))
    yield Case("hand-made spectrum [0, 0, 0.2, 3], no noise",
               (torch.tensor([0.0, 0.0, 0.2, 3.0], dtype=F64), torch.tensor([0.0, 2.0, 7.0], dtype=F64), 2.0, 1.0, 0.0))
    yield Case("float32 spectrum, one time", (_spectrum(30, 20, 1134).float(), torch.tensor([3.0]), 1.0, 0.2, 0.6))


@check("marchenko_pastur_density", reference=ref.marchenko_pastur_density,
       hint="For X^T X with entries of X of variance 1/P: sqrt((l+ - l)(l - l-)) / (2 pi l) on [l-, l+], "
            "l+- = (1 +- sqrt(r))^2, and exactly 0 elsewhere (including l <= 0).")
def _mp_cases():
    grid = torch.linspace(-0.5, 10.0, 211, dtype=F64)
    for r in (0.3, 1.0, 2.5, 6.0):
        yield Case(f"r = {r:g} on a grid from -0.5 to 10", (grid, r))
    yield Case("r = 0.8 at points of shape (2, 3)",
               (torch.tensor([[0.01, 0.2, 1.0], [2.5, 3.2, 3.3]], dtype=F64), 0.8))
    yield Case("float32, r = 4", (torch.linspace(0.0, 10.0, 41), 4.0))


@check("ridge_bias_variance", reference=ref.ridge_bias_variance,
       hint="With A = (X^T X + lambda I)^-1: bias2 = lambda^2 |A w_bar|^2 / P and "
            "variance = sigma_eps^2 tr(A X^T X A) / P.")
def _ridge_cases():
    for label, (N, P, se, lam, seed) in {
        "N = 30, P = 10, lambda 0.5": (30, 10, 0.7, 0.5, 1141),
        "N = 10 < P = 25, lambda 0.05": (10, 25, 0.3, 0.05, 1142),
        "N = P = 20, lambda 3": (20, 20, 1.2, 3.0, 1143),
        "N = 40, P = 15, tiny lambda 1e-4": (40, 15, 0.5, 1e-4, 1144),
        "N = 5, P = 5, huge lambda 100": (5, 5, 2.0, 100.0, 1145),
    }.items():
        X, _, w_bar = ref.teacher_student_data(N, P, 1.3, 0.0, _gen(seed))
        yield Case(label, (X, w_bar, se, lam))


@check("optimal_ridge_lambda", reference=ref.optimal_ridge_lambda,
       hint="Averaged over teachers, each mode's derivative in lambda is proportional to sigma_w^2 lambda - sigma_eps^2.")
def _optimal_lambda_cases():
    for sw, se in ((1.0, 0.5), (2.0, 3.0), (0.3, 0.3), (5.0, 0.1), (0.7, 0.0)):
        yield Case(f"sigma_w = {sw:g}, sigma_eps = {se:g}", (sw, se))


@check("random_features_predict", reference=ref.random_features_predict,
       hint="F = randn(D, width) from the generator; features relu(X @ F); the least-norm least-squares fit "
            "(pseudo-inverse), which interpolates when width > N.")
def _random_features_cases():
    for label, (N, D, M, width, seed) in {
        "N = 30, D = 10, width 15 (under-parameterized)": (30, 10, 12, 15, 1151),
        "N = 30, D = 10, width 60 (over-parameterized)": (30, 10, 12, 60, 1152),
        "N = 20, D = 5, width 200": (20, 5, 8, 200, 1153),
        "N = 50, D = 8, width 4": (50, 8, 6, 4, 1154),
    }.items():
        X, y, w_bar = _data(N + M, D, seed)
        yield Case(label, (X[:N], y[:N], X[N:], width, _gen(seed + 1)))


# ----------------------------------------------------------------------------------------------------
# splits: properties of any correct answer


def _as_index_list(value) -> list[int] | None:
    try:
        t = torch.as_tensor(value)
    except Exception:  # noqa: BLE001
        return None
    if t.dim() != 1 or t.dtype.is_floating_point or t.dtype == torch.bool:
        return None
    return [int(v) for v in t.tolist()]


def _split_probe(fn, case: Case):
    n, a, b, seed = case.spec
    runs = [fn(n, a, b, torch.Generator().manual_seed(s)) for s in (seed, seed, seed + 1)]
    return [[torch.as_tensor(part).clone() for part in run] for run in runs]


def _split_compare(got, expected, case: Case) -> str | None:
    n = case.spec[0]
    if not isinstance(got, list) or len(got) != 3 or any(not isinstance(r, list) or len(r) != 3 for r in got):
        return "should return a tuple (train_idx, val_idx, test_idx)."
    runs = []
    for run in got:
        parts = [_as_index_list(p) for p in run]
        if any(p is None for p in parts):
            return "each part should be a 1-D integer tensor of indices."
        runs.append(parts)
    train, val, test = runs[0]
    sizes = (len(train), len(val), len(test))
    if sizes != expected:
        return f"sizes (train, val, test) for n = {n} should be {expected}, got {sizes}."
    if sorted(train + val + test) != list(range(n)):
        return "the three parts should hold every index 0..n-1 exactly once (no overlap, nothing left out)."
    if runs[0] != runs[1]:
        return "two calls with generators seeded alike gave different splits: draw from the generator you are given."
    if runs[0] == runs[2]:
        return "generators with different seeds gave the same split: the shuffle should come from the generator."
    if train == sorted(train) and val == sorted(val):
        return "the parts look unshuffled: shuffle with torch.randperm before cutting."
    return None


@check("train_val_test_split", probe=_split_probe, compare=_split_compare,
       hint="One torch.randperm(n, generator=generator), cut into int(val_fraction * n) validation indices, "
            "int(test_fraction * n) test indices and the rest for training.")
def _split_cases():
    for n, a, b, seed in ((37, 0.2, 0.15, 1161), (100, 0.1, 0.3, 1162), (9, 0.5, 0.25, 1163), (250, 0.0, 0.2, 1164)):
        yield Case(f"n = {n}, val {a:g}, test {b:g}", spec=(n, a, b, seed),
                   expected=(n - int(a * n) - int(b * n), int(a * n), int(b * n)))


def _folds_probe(fn, case: Case):
    n, k, seed = case.spec
    runs = [fn(n, k, torch.Generator().manual_seed(s)) for s in (seed, seed, seed + 1)]
    return [[[torch.as_tensor(tr).clone(), torch.as_tensor(va).clone()] for tr, va in run] for run in runs]


def _folds_compare(got, expected, case: Case) -> str | None:
    n, k, _ = case.spec
    if not isinstance(got, list) or len(got) != 3:
        return "should return a list of (train_idx, val_idx) pairs."
    runs = []
    for run in got:
        if not isinstance(run, list) or len(run) != k:
            return f"should return {k} (train_idx, val_idx) pairs, got {len(run) if isinstance(run, list) else run!r}."
        pairs = []
        for pair in run:
            if not isinstance(pair, list) or len(pair) != 2:
                return "each fold should be a pair (train_idx, val_idx)."
            tr, va = _as_index_list(pair[0]), _as_index_list(pair[1])
            if tr is None or va is None:
                return "indices should be 1-D integer tensors."
            pairs.append((tr, va))
        runs.append(pairs)
    pairs = runs[0]
    sizes = sorted(len(va) for _, va in pairs)
    if sizes != expected:
        return f"validation fold sizes for n = {n}, k = {k} should be {expected} (in any order), got {sizes}."
    if sorted(i for _, va in pairs for i in va) != list(range(n)):
        return "the validation folds should hold every index 0..n-1 exactly once."
    for tr, va in pairs:
        if sorted(tr + va) != list(range(n)):
            return "each training set should be exactly the indices outside its validation fold."
    if runs[0] != runs[1]:
        return "two calls with generators seeded alike gave different folds: draw from the generator you are given."
    if runs[0] == runs[2]:
        return "generators with different seeds gave the same folds: the shuffle should come from the generator."
    if [i for _, va in pairs for i in va] == list(range(n)):
        return "the folds look unshuffled: shuffle with torch.randperm before cutting."
    return None


@check("k_fold_indices", probe=_folds_probe, compare=_folds_compare,
       hint="One torch.randperm(n, generator=generator) cut into k folds whose sizes differ by at most one; "
            "fold i validates, the other k - 1 folds train.")
def _folds_cases():
    for n, k, seed in ((10, 5, 1171), (23, 4, 1172), (7, 7, 1173), (100, 3, 1174), (12, 2, 1175)):
        sizes = sorted([n // k + 1] * (n % k) + [n // k] * (k - n % k))
        yield Case(f"n = {n}, k = {k}", spec=(n, k, seed), expected=sizes)


def _cv_compare(got, expected, case: Case) -> str | None:
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()
    if not isinstance(got, (int, float)):
        return f"should return a Python float, got {type(got).__name__}."
    return diagnose_close(float(got), expected, what="the cross-validation MSE")


@check("cross_validation_mse", reference=ref.cross_validation_mse, compare=_cv_compare,
       hint="For each fold: ridge fitted on the training rows only, (X_t^T X_t + lambda I)^-1 X_t^T y_t; the mean "
            "squared error on its validation rows; then the plain mean of the k fold errors.")
def _cv_cases():
    for label, (N, P, k, lam, seed) in {
        "N = 23, P = 5, 4 uneven folds, lambda 0.1": (23, 5, 4, 0.1, 1181),
        "N = 40, P = 30, 5 folds, lambda 1": (40, 30, 5, 1.0, 1182),
        "N = 17, P = 3, 3 uneven folds, least squares (lambda 0)": (17, 3, 3, 0.0, 1183),
        "N = 30, P = 50 (more features than rows), 3 folds, lambda 0.3": (30, 50, 3, 0.3, 1184),
    }.items():
        X, y, _ = _data(N, P, seed, sigma_eps=0.5)
        folds = ref.k_fold_indices(N, k, _gen(seed + 1))
        yield Case(label, (X, y, folds, lam))


def _stop_compare(got, expected, case: Case) -> str | None:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"should return (best_epoch, stop_epoch), got {got!r}."
    try:
        pair = tuple(int(v) for v in got)
    except Exception:  # noqa: BLE001
        return f"should return two integers, got {got!r}."
    if any(float(v) != int(v) for v in got):
        return f"should return two integers, got {got!r}."
    if pair != tuple(expected):
        return f"(best_epoch, stop_epoch) should be {tuple(expected)}, got {pair}."
    return None


@check("early_stopping", reference=ref.early_stopping, compare=_stop_compare,
       hint="An epoch improves only if strictly below every earlier loss; stop at the first epoch that is "
            "`patience` epochs after the last improvement; keep the best epoch seen until then.")
def _early_stopping_cases():
    yield Case("stops before a later, lower minimum", ([5.0, 4.0, 4.5, 4.2, 4.1, 3.0, 2.0], 3))
    yield Case("patience 1", ([3.0, 2.0, 1.0, 1.5, 0.5], 1))
    yield Case("ties are not improvements", ([2.0, 1.0, 1.0, 1.0, 1.0, 0.9], 3))
    yield Case("never stops: always improving", ([5.0, 4.0, 3.0, 2.0, 1.0], 2))
    yield Case("never stops: patience larger than the run", ([1.0, 2.0, 3.0], 5))
    yield Case("one epoch", ([0.7], 2))
    g = _gen(1190)
    noisy = (torch.linspace(2.0, 1.0, 60, dtype=F64) ** 2 + 0.03 * torch.randn(60, generator=g, dtype=F64)
             + torch.linspace(0.0, 0.8, 60, dtype=F64) ** 3)
    yield Case("a noisy 60-epoch curve as a tensor, patience 5", (noisy, 5))
    yield Case("the same curve as a list, patience 12", ([float(v) for v in noisy], 12))


def _search_compare(got, expected, case: Case) -> str | None:
    if not isinstance(got, list) or len(got) != len(expected):
        return f"should return a list of {len(expected)} dicts."
    for i, (g, e) in enumerate(zip(got, expected)):
        if not isinstance(g, dict) or set(g) != set(e):
            return f"configuration {i} should be a dict with the keys {sorted(e)}."
        for name, spec in case.args[0].items():
            value, want = g[name], e[name]
            if spec[0] == "int":
                if not isinstance(value, int) or isinstance(value, bool):
                    return f"configuration {i}: {name!r} should be a Python int, got {type(value).__name__}."
                if value != want:
                    return f"configuration {i}: {name!r} should be {want}, got {value}."
            elif spec[0] == "choice":
                if value != want or type(value) is not type(want):
                    return f"configuration {i}: {name!r} should be {want!r}, got {value!r}."
            else:
                if not isinstance(value, float):
                    return f"configuration {i}: {name!r} should be a Python float, got {type(value).__name__}."
                if not math.isclose(value, want, rel_tol=1e-9, abs_tol=1e-12):
                    return f"configuration {i}: {name!r} should be {want!r}, got {value!r}."
    return None


@check("random_search", reference=ref.random_search, compare=_search_compare,
       hint="One u = torch.rand((), generator=generator, dtype=torch.float64).item() per hyperparameter, trial by trial "
            "in the order of the space; log: low * (high / low) ** u; int: low + floor(u * (high - low + 1)).")
def _search_cases():
    space = {"lr": ("log", 1e-5, 1.0), "dropout": ("uniform", 0.0, 0.5), "layers": ("int", 1, 4),
             "act": ("choice", ["relu", "gelu", "tanh"])}
    yield Case("four kinds, 30 trials", (space, 30, _gen(1200)))
    yield Case("one log-uniform hyperparameter over 8 decades, 50 trials", ({"wd": ("log", 1e-8, 1.0)}, 50, _gen(1201)))
    yield Case("int and choice first, 20 trials",
               ({"width": ("int", 8, 9), "opt": ("choice", ["sgd", "adam"]), "lr": ("log", 0.001, 0.1)}, 20, _gen(1202)))
    yield Case("a single trial", (space, 1, _gen(1203)))


def _lr_probe(fn, case: Case):
    X, y, w0, lr_min, lr_max, num_steps = case.args
    return fn(_least_squares(X, y), w0, lr_min, lr_max, num_steps)


def _least_squares(X, y):
    def loss_and_grad(w):
        residual = X @ w - y
        return 0.5 * (residual ** 2).mean(), X.T @ residual / X.shape[0]
    return loss_and_grad


def _lr_expected(X, y, w0, lr_min, lr_max, num_steps):
    return ref.lr_range_test(_least_squares(X, y), w0, lr_min, lr_max, num_steps)


def _lr_compare(got, expected, case: Case) -> str | None:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return "should return (lrs, losses)."
    try:
        lrs, losses = (torch.as_tensor(v, dtype=F64).reshape(-1) for v in got)
    except Exception as err:  # noqa: BLE001
        return f"lrs and losses should be 1-D tensors ({type(err).__name__})."
    want_lrs, want_losses = expected
    if lrs.numel() != want_lrs.numel() or losses.numel() != want_losses.numel():
        return (f"the run should record {want_losses.numel()} steps, got {lrs.numel()} learning rates and "
                f"{losses.numel()} losses (stop right after the first loss above 4x the smallest).")
    return diagnose_close(lrs, want_lrs, what="lrs") or diagnose_close(losses, want_losses, what="losses")


def _lr_problem(N, P, scale, seed):
    g = _gen(seed)
    X = scale * torch.randn(N, P, generator=g, dtype=F64)
    y = X @ torch.randn(P, generator=g, dtype=F64) + 0.1 * torch.randn(N, generator=g, dtype=F64)
    return X, y, torch.zeros(P, dtype=F64)


@check("lr_range_test", probe=_lr_probe, compare=_lr_compare,
       hint="lr_i = lr_min * (lr_max / lr_min) ** (i / (n - 1)); record the loss at the current weights, then "
            "step; keep the weights between steps; stop right after a loss that is not finite or above 4x the best.")
def _lr_cases():
    for label, (N, P, scale, lr_min, lr_max, steps, seed) in {
        "least squares, rates 1e-4 .. 10 in 40 steps (blows up)": (50, 6, 1.0, 1e-4, 10.0, 40, 1211),
        "least squares, rates 1e-3 .. 0.5 in 12 steps (no blow-up)": (30, 4, 1.0, 1e-3, 0.5, 12, 1212),
        "inputs scaled by 10, rates 1e-5 .. 1 in 25 steps": (40, 5, 10.0, 1e-5, 1.0, 25, 1213),
        "two steps": (20, 3, 1.0, 0.01, 0.1, 2, 1214),
    }.items():
        X, y, w0 = _lr_problem(N, P, scale, seed)
        args = (X, y, w0, lr_min, lr_max, steps)
        yield Case(label, args, expected=_lr_expected(*args))


# ----------------------------------------------------------------------------------------------------
# tuning a network on digits: judged on held-out digits that never enter the kernel

TUNING_SPLIT_SEED = 1123
TUNING_DEV_SIZE = 1000
TUNING_CASES = {
    # label: (pixel scale, share of wrong training labels, minimum held-out accuracy, seed)
    "raw intensities 0..16": (16.0, 0.0, 0.85, 3),
    "pixels in [0, 1], half of the labels wrong": (1.0, 0.5, 0.82, 4),
    "faint pixels in [0, 0.05]": (0.05, 0.0, 0.70, 5),
}
_DIGITS: dict = {}


def _all_digits():
    if not _DIGITS:
        from course.data import load_digits
        X_a, y_a, X_b, y_b = load_digits(test_fraction=0.0)
        X, y = torch.cat([X_a, X_b]), torch.cat([y_a, y_b])
        order = torch.randperm(X.shape[0], generator=_gen(TUNING_SPLIT_SEED))
        _DIGITS["dev"], _DIGITS["held"] = (X[order[:TUNING_DEV_SIZE]], y[order[:TUNING_DEV_SIZE]]), \
            (X[order[TUNING_DEV_SIZE:]], y[order[TUNING_DEV_SIZE:]])
    return _DIGITS["dev"], _DIGITS["held"]


def _tune_compare(got, expected, case: Case) -> str | None:
    from course.generalization import train_mlp

    keys = {"hidden", "lr", "weight_decay", "epochs"}
    if not isinstance(got, dict) or set(got) != keys:
        return f"should return a dict with exactly the keys {sorted(keys)}, got {got!r:.200}."
    config = {}
    got = {k: (v.item() if hasattr(v, "item") and getattr(v, "size", 1) in (1, ()) and not isinstance(v, (int, float))
               else v) for k, v in got.items()}
    for name in ("hidden", "epochs"):
        value = got[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value):
            return f"{name!r} should be a whole number, got {value!r:.50}."
        config[name] = int(value)
    for name in ("lr", "weight_decay"):
        value = got[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
            return f"{name!r} should be a finite number, got {value!r:.50}."
        config[name] = float(value)
    X, y, seed = case.args
    try:
        net = train_mlp(X, y, **config, seed=seed)
    except ValueError as err:
        return f"train_mlp refused the configuration {config}: {err}"
    acc = net.accuracy(expected["X"], expected["y"])
    if acc < expected["min_accuracy"]:
        return (f"with {config}, the network reaches {acc:.3f} on held-out digits, below "
                f"{expected['min_accuracy']:.2f}.")
    return None


@check("tune_mlp", compare=_tune_compare,
       hint="Judge every configuration on a validation set split from the data you receive; search the learning "
            "rate log-uniformly over several decades; let early stopping choose the number of epochs.")
def _tune_cases():
    from course.generalization import noisy_labels

    (X_dev, y_dev), (X_held, y_held) = _all_digits()
    for label, (scale, noise, minimum, seed) in TUNING_CASES.items():
        y_train = noisy_labels(y_dev, noise, _gen(1230 + seed)) if noise else y_dev.clone()
        yield Case(f"{label}: held-out accuracy >= {minimum:.2f}", (scale * X_dev, y_train, seed),
                   expected={"X": scale * X_held, "y": y_held, "min_accuracy": minimum})


# ----------------------------------------------------------------------------------------------------
# concept questions


def _letter_compare(got, expected, case: Case) -> str | None:
    if not isinstance(got, str) or got.strip().lower() not in ("a", "b", "c", "d"):
        return f'should return one of "a", "b", "c", "d", got {got!r:.40}.'
    if got.strip().lower() != expected:
        return "that is not the right answer."
    return None


@check("concept_overfitting_peak", compare=_letter_compare,
       hint="Look at the noise term sigma_eps^2 / lambda of a converged mode, and where the spectrum reaches 0.")
def _concept_peak_cases():
    yield Case("the answer", (), expected=ref.concept_overfitting_peak())


@check("concept_reported_accuracy", compare=_letter_compare,
       hint="A number that took part in a choice is biased in favour of that choice.")
def _concept_report_cases():
    yield Case("the answer", (), expected=ref.concept_reported_accuracy())


@check("concept_early_stopping_as_ridge", compare=_letter_compare,
       hint="Compare 1 - exp(-lambda t) with lambda / (lambda + lambda_r) for small and for large lambda.")
def _concept_ridge_cases():
    yield Case("the answer", (), expected=ref.concept_early_stopping_as_ridge())
