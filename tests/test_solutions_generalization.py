"""solutions_lib.generalization (chapter 11) against simulation, Monte Carlo, closed forms and scikit-learn."""
from __future__ import annotations

import math

import pytest
import torch

from solutions_lib import generalization as G

F64 = torch.float64


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def test_teacher_student_data_follows_its_conventions():
    X, y, w_bar = G.teacher_student_data(4000, 50, 2.0, 0.3, _gen(0))
    assert X.shape == (4000, 50) and y.shape == (4000,) and w_bar.shape == (50,) and X.dtype == F64
    cov = X.T @ X / 4000
    assert torch.allclose(cov, torch.eye(50, dtype=F64) / 50, atol=0.1 / 50)
    assert abs(float((y - X @ w_bar).std()) - 0.3) < 0.02
    X32, _, _ = G.teacher_student_data(3, 2, 1.0, 0.1, _gen(0), dtype=torch.float32)
    assert X32.dtype == torch.float32
    # the draw order: teacher, inputs, noise
    g = _gen(5)
    w = 1.5 * torch.randn(3, generator=g, dtype=F64)
    Xr = torch.randn(2, 3, generator=g, dtype=F64) / math.sqrt(3)
    e = 0.5 * torch.randn(2, generator=g, dtype=F64)
    X, y, w_bar = G.teacher_student_data(2, 3, 1.5, 0.5, _gen(5))
    assert torch.equal(w_bar, w) and torch.equal(X, Xr) and torch.allclose(y, Xr @ w + e)


def test_generalization_error_against_monte_carlo():
    g = _gen(1)
    w, w_bar = torch.randn(6, generator=g, dtype=F64), torch.randn(6, generator=g, dtype=F64)
    x = torch.randn(500_000, 6, generator=g, dtype=F64) / math.sqrt(6)
    eps = 0.4 * torch.randn(500_000, generator=g, dtype=F64)
    mc = ((x @ w_bar + eps - x @ w) ** 2).mean()
    assert abs(float(G.generalization_error(w, w_bar, 0.4)) - float(mc)) < 0.01 * float(mc)
    assert G.generalization_error(torch.zeros(3, 4, 6, dtype=F64), w_bar, 0.1).shape == (3, 4)


@pytest.mark.parametrize("N, P", [(4, 9), (20, 6), (10, 10)])
def test_gradient_flow_matches_small_steps(N, P):
    X, y, _ = G.teacher_student_data(N, P, 1.0, 0.3, _gen(N + P))
    w0 = torch.randn(P, generator=_gen(3), dtype=F64)
    w, dt = w0.clone(), 1e-4
    for _ in range(10_000):  # t = 1 with Heun's method (error of order dt^2)
        k1 = X.T @ (y - X @ w)
        k2 = X.T @ (y - X @ (w + dt * k1))
        w = w + 0.5 * dt * (k1 + k2)
    assert torch.allclose(G.gradient_flow_weights(X, y, w0, 1.0), w, rtol=1e-6, atol=1e-7)
    assert torch.allclose(G.gradient_flow_weights(X, y, w0, 0.0), w0)


def test_gradient_flow_limits_and_matrix_exponential():
    X, y, _ = G.teacher_student_data(5, 12, 1.0, 0.3, _gen(7))
    w0 = torch.randn(12, generator=_gen(8), dtype=F64)
    w_ls = torch.linalg.pinv(X) @ y
    for t in (0.5, 3.0, 20.0):
        expected = w_ls + torch.matrix_exp(-(X.T @ X) * t) @ (w0 - w_ls)
        assert torch.allclose(G.gradient_flow_weights(X, y, w0, t), expected, rtol=1e-9, atol=1e-10)
    late = G.gradient_flow_weights(X, y, w0, 1e6)  # minimum-norm fit plus the frozen part of w0
    null = torch.linalg.svd(X).Vh[5:]
    assert torch.allclose(X @ late, y, atol=1e-9)
    assert torch.allclose(null @ late, null @ w0, atol=1e-9)
    assert torch.allclose(G.gradient_flow_weights(X, y, torch.zeros(12, dtype=F64), 1e6), w_ls, atol=1e-9)


def test_expected_generalization_error_against_simulation():
    N, P, trials = 30, 40, 4000
    g = _gen(11)
    X = torch.randn(N, P, generator=g, dtype=F64) / math.sqrt(P)
    lam, V = torch.linalg.eigh(X.T @ X)
    lam = torch.where(lam < 1e-10, torch.zeros_like(lam), lam)
    times = torch.tensor([0.0, 0.5, 3.0, 50.0], dtype=F64)
    W_bar = 1.2 * torch.randn(trials, P, generator=g, dtype=F64)
    W0 = 0.5 * torch.randn(trials, P, generator=g, dtype=F64)
    Y = W_bar @ X.T + 0.4 * torch.randn(trials, N, generator=g, dtype=F64)
    simulated = []
    for t in times.tolist():  # the closed form for all trials at once, in the eigenbasis
        factor = torch.where(lam == 0, torch.full_like(lam, t), -torch.expm1(-lam * t) / torch.where(lam == 0, 1.0, lam))
        Z = (W0 @ V) * torch.exp(-lam * t) + (Y @ X @ V) * factor
        simulated.append(G.generalization_error(Z @ V.T, W_bar, 0.4).mean())
    theory = G.expected_generalization_error(lam, times, 1.2, 0.5, 0.4)
    assert torch.allclose(torch.stack(simulated), theory, rtol=0.03)
    assert math.isclose(float(theory[0]), 1.2 ** 2 + 0.5 ** 2 + 0.4 ** 2, rel_tol=1e-12)
    # one student through gradient_flow_weights agrees with the batched closed form
    w = G.gradient_flow_weights(X, Y[0], W0[0], 3.0)
    factor = -torch.expm1(-lam * 3.0) / torch.where(lam == 0, 1.0, lam)
    factor = torch.where(lam == 0, torch.full_like(lam, 3.0), factor)
    assert torch.allclose(w, V @ ((V.T @ W0[0]) * torch.exp(-lam * 3.0) + (V.T @ X.T @ Y[0]) * factor), atol=1e-10)


@pytest.mark.parametrize("r", [0.3, 1.0, 2.5])
def test_marchenko_pastur_against_sampled_spectrum(r):
    u = torch.linspace(0.0, math.sqrt(15.0), 600_001, dtype=F64)  # lambda = u^2: no singularity at 0 for r = 1
    assert abs(float(torch.trapezoid(G.marchenko_pastur_density(u ** 2, r) * 2 * u, u)) - min(1.0, r)) < 1e-3
    grid = torch.linspace(1e-7, 15.0, 600_001, dtype=F64)
    density = G.marchenko_pastur_density(grid, r)
    P = 1000
    X = torch.randn(int(r * P), P, generator=_gen(12), dtype=F64) / math.sqrt(P)
    eig = torch.linalg.eigvalsh(X.T @ X)
    cdf = torch.cumulative_trapezoid(density, grid) + max(0.0, 1.0 - r)
    for q in (0.5, 1.0, 2.0, 3.5):
        if q < grid[-1]:
            empirical = float((eig <= q).double().mean())
            assert abs(empirical - float(cdf[int((q - 1e-7) / (grid[1] - grid[0]))])) < 0.02
    assert eig.max() < (1 + math.sqrt(r)) ** 2 + 0.1
    assert torch.equal(G.marchenko_pastur_density(torch.tensor([-1.0, 0.0, 100.0], dtype=F64), r),
                       torch.zeros(3, dtype=F64))


def test_ridge_bias_variance_against_monte_carlo_and_optimum():
    X, _, w_bar = G.teacher_student_data(25, 20, 1.0, 0.0, _gen(13))
    noise = 0.6 * torch.randn(40_000, 25, generator=_gen(14), dtype=F64)
    lam = 0.4
    W = torch.linalg.solve(X.T @ X + lam * torch.eye(20, dtype=F64), X.T @ (X @ w_bar + noise).T).T
    bias2, variance = G.ridge_bias_variance(X, w_bar, 0.6, lam)
    assert abs(float(bias2) - float(((W.mean(0) - w_bar) ** 2).mean())) < 0.02 * float(bias2)
    assert abs(float(variance) - float(((W - W.mean(0)) ** 2).mean())) < 0.02 * float(variance)
    # averaged over teachers, the risk is smallest at sigma_eps^2 / sigma_w^2 for any X
    s = torch.linalg.eigvalsh(X.T @ X)
    lams = torch.logspace(-3, 2, 20001, dtype=F64)
    for sw, se in ((1.0, 0.6), (0.4, 1.5)):
        risk = ((sw ** 2 * lams[:, None] ** 2 + se ** 2 * s) / (s + lams[:, None]) ** 2).mean(1)
        assert math.isclose(float(lams[risk.argmin()]), G.optimal_ridge_lambda(sw, se), rel_tol=1e-3)
    assert isinstance(G.optimal_ridge_lambda(2, 1), float)


def test_random_features_is_the_minimum_norm_interpolant():
    X, y, _ = G.teacher_student_data(15, 4, 1.0, 0.2, _gen(15))
    pred = G.random_features_predict(X, y, X, 60, _gen(16))
    assert torch.allclose(pred, y, atol=1e-8)
    F = torch.randn(4, 60, generator=_gen(16), dtype=F64)
    phi = torch.relu(X @ F)
    a_min = phi.T @ torch.linalg.solve(phi @ phi.T, y)
    X_test = torch.randn(5, 4, generator=_gen(17), dtype=F64)
    assert torch.allclose(G.random_features_predict(X, y, X_test, 60, _gen(16)), torch.relu(X_test @ F) @ a_min, atol=1e-8)


def test_splits_and_folds_have_their_properties():
    tr, va, te = G.train_val_test_split(37, 0.2, 0.15, _gen(0))
    assert (len(tr), len(va), len(te)) == (25, 7, 5)
    assert sorted(torch.cat([tr, va, te]).tolist()) == list(range(37))
    folds = G.k_fold_indices(23, 4, _gen(1))
    assert sorted(len(v) for _, v in folds) == [5, 6, 6, 6]
    assert sorted(torch.cat([v for _, v in folds]).tolist()) == list(range(23))
    for t, v in folds:
        assert sorted(t.tolist() + v.tolist()) == list(range(23))


def test_cross_validation_matches_scikit_learn():
    sklearn = pytest.importorskip("sklearn.linear_model")
    from sklearn.metrics import mean_squared_error

    X, y, _ = G.teacher_student_data(29, 6, 1.0, 0.5, _gen(2))
    folds = G.k_fold_indices(29, 4, _gen(3))
    for lam in (0.0, 0.3, 5.0):
        errors = []
        for tr, va in folds:
            model = sklearn.Ridge(alpha=lam, fit_intercept=False, solver="cholesky" if lam else "svd")
            model.fit(X[tr].numpy(), y[tr].numpy())
            errors.append(mean_squared_error(y[va].numpy(), model.predict(X[va].numpy())))
        assert math.isclose(G.cross_validation_mse(X, y, folds, lam), sum(errors) / len(errors), rel_tol=1e-8)


def test_early_stopping_examples():
    assert G.early_stopping([3.0, 2.0, 2.5, 2.2, 2.1, 1.0], 3) == (1, 4)
    assert G.early_stopping([3.0, 2.0, 2.5, 2.2, 2.1, 1.0], 4) == (5, 5)
    assert G.early_stopping([1.0, 1.0, 1.0], 2) == (0, 2)
    assert G.early_stopping(torch.tensor([0.5]), 1) == (0, 0)


def test_random_search_distribution():
    configs = G.random_search({"lr": ("log", 1e-6, 1.0), "k": ("int", 2, 4), "c": ("choice", ["x", "y"])},
                              6000, _gen(4))
    logs = torch.tensor([math.log10(c["lr"]) for c in configs])
    assert abs(float(logs.mean()) + 3.0) < 0.1 and float(logs.min()) >= -6 and float(logs.max()) <= 0
    assert {c["k"] for c in configs} == {2, 3, 4} and all(type(c["k"]) is int for c in configs)
    assert abs(sum(c["c"] == "x" for c in configs) / 6000 - 0.5) < 0.03


def test_lr_range_test_on_a_quadratic():
    lrs, losses = G.lr_range_test(lambda w: (0.5 * (w ** 2).sum(), w.clone()), torch.ones(1, dtype=F64), 1.5, 40.5, 4)
    assert torch.allclose(lrs, torch.tensor([1.5, 4.5, 13.5], dtype=F64))
    assert torch.allclose(losses, torch.tensor([0.5, 0.125, 1.53125], dtype=F64))
    lrs, _ = G.lr_range_test(lambda w: (0.5 * (w ** 2).sum(), w.clone()), torch.ones(1, dtype=F64), 1e-4, 1e-2, 5)
    assert torch.allclose(lrs, torch.logspace(-4, -2, 5, dtype=F64))


def test_concept_answers_are_letters():
    assert G.concept_overfitting_peak() in "abcd" and G.concept_reported_accuracy() in "abcd"
    # question 3: the filters 1 - exp(-lambda t) and lambda / (lambda + 1/t) agree at both ends
    t = 7.0
    for lam in (1e-5, 1e-4, 1e3, 1e4):
        assert math.isclose(-math.expm1(-lam * t), lam / (lam + 1 / t), rel_tol=1e-3)
    assert G.concept_early_stopping_as_ridge() == "b"


def test_tune_mlp_on_raw_digits():
    from course.data import load_digits
    from course.generalization import train_mlp

    X, y, X_test, y_test = load_digits()
    config = G.tune_mlp(16.0 * X[:800], y[:800], 0)
    assert set(config) == {"hidden", "lr", "weight_decay", "epochs"}
    assert train_mlp(16.0 * X[:800], y[:800], **config, seed=0).accuracy(16.0 * X_test, y_test) > 0.88


def test_closed_forms_stay_on_the_inputs_device():
    """On PyTorch's data-less meta device a tensor made on the CPU behind the caller's back would raise."""
    meta = torch.device("meta")
    w, w_bar = torch.empty(3, 5, device=meta, dtype=F64), torch.empty(5, device=meta, dtype=F64)
    assert G.generalization_error(w, w_bar, 0.1).device == meta
    eig, t = torch.empty(5, device=meta, dtype=F64), torch.empty(4, device=meta, dtype=F64)
    assert G.expected_generalization_error(eig, t, 1.0, 0.5, 0.1).shape == (4,)
    assert G.marchenko_pastur_density(torch.empty(2, 3, device=meta), 0.5).device == meta
    bias2, variance = G.ridge_bias_variance(torch.empty(6, 5, device=meta, dtype=F64), w_bar, 0.3, 0.1)
    assert bias2.device == meta and variance.device == meta
