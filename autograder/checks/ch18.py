"""Hidden checks of chapter 18 (Gaussian processes and the neural tangent kernel).

Oracles: solutions_lib.kernels, itself tested against scikit-learn's GaussianProcessRegressor, Monte Carlo
Gaussian expectations, autograd Jacobians and a wide network's training (tests/test_solutions_kernels.py).
The cases are chosen so that each plausible alternative lands far outside the tolerance: length scales away
from 1 and 1/2 (l against l^2, 2 l^2 against l^2), noise variances of order one (a missing noise term),
prior variances other than 1 (a variance that forgets the explained part or the prior), several training
points (log-det sign, the 2 pi term), inputs with non-unit norms and angles away from 0 and pi/2 (the 1/pi and
sin terms of the arc-cosine kernel), depth above 1 (the derivative kernel in the NTK recursion, the halving
of the diagonal), and step sizes where discrete and continuous-time dynamics part. The make-it-work task is
judged here: the posterior mean at the student's hyperparameters, against noise-free targets the kernel never sees.

Conventions (the notebook states them): RBF = variance * exp(-|x - x'|^2 / (2 l^2)); OU uses |x - x'|; noise on
the training diagonal only; latent-f predictive variance; bias-free ReLU network in the NTK parametrization
(h1 = W0 x / sqrt(D), h_{l+1} = W_l relu(h_l) / sqrt(n)); loss 1/2 sum (f - y)^2 with discrete GD steps.
"""
from __future__ import annotations

import math

import torch

from autograder.checks import Case, check
from course.checks import diagnose_close
from course.kernels import NTKMLP, gp_regression_data
from solutions_lib import kernels as ref

F64 = torch.float64
F32 = torch.float32
MIW_THRESHOLD = 0.15


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(g, *shape, dtype=F64):
    return torch.randn(*shape, generator=g, dtype=F64).to(dtype)


def _pair_compare(names):
    def compare(got, expected, case):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"the function should return a pair ({', '.join(names)})."
        for name, g, e in zip(names, got, expected):
            problem = diagnose_close(g, e, what=name)
            if problem:
                return problem
        return None
    return compare


# ----------------------------------------------------------------------------- kernels

def _kernel_cases(seed):
    g = _gen(seed)
    yield Case("(5, 3) against (4, 3), l = 0.7, variance 2.3", (_randn(g, 5, 3), _randn(g, 4, 3), 0.7, 2.3))
    yield Case("(6, 1) against (2, 1), l = 2.5, variance 0.5", (_randn(g, 6, 1), _randn(g, 2, 1), 2.5, 0.5))
    x = 2 * _randn(g, 4, 2)
    yield Case("a set against itself, l = 1.6, variance 1.8", (x, x.clone(), 1.6, 1.8))
    yield Case("float32, (3, 4) against (3, 4), l = 3.0, variance 0.9",
               (_randn(g, 3, 4, dtype=F32), _randn(g, 3, 4, dtype=F32), 3.0, 0.9))


@check("rbf_kernel", reference=ref.rbf_kernel,
       hint="variance * exp(-squared distance / (2 lengthscale^2)): the length scale is squared and doubled.")
def _rbf_cases():
    yield from _kernel_cases(18_001)


@check("ou_kernel", reference=ref.ou_kernel,
       hint="variance * exp(-distance / lengthscale), with the Euclidean distance itself, not its square.")
def _ou_cases():
    yield from _kernel_cases(18_002)


# ----------------------------------------------------------------------------- prior samples

@check("gp_prior_samples", reference=ref.gp_prior_samples,
       hint="Factor K + jitter I = L L^T (lower L) and return L z for each noise row z.")
def _prior_cases():
    g = _gen(18_003)
    x = 3 * _randn(g, 6, 2)
    yield Case("OU kernel on 6 points, 3 samples", (ref.ou_kernel(x, x, 1.2, 1.7), _randn(g, 3, 6)))
    x = 2 * _randn(g, 5, 1)
    yield Case("RBF kernel on 5 points, jitter 0.5 given", (ref.rbf_kernel(x, x, 0.8, 2.0), _randn(g, 4, 5)),
               {"jitter": 0.5})
    a = _randn(g, 4, 4)
    yield Case("a random covariance, one sample", (a @ a.T + 0.3 * torch.eye(4, dtype=F64), _randn(g, 1, 4)))


# ----------------------------------------------------------------------------- regression

def _regression_data(g, n, m, d):
    x = 2 * _randn(g, n, d)
    y = torch.sin(x.sum(1)) + 0.3 * _randn(g, n)
    return x, y, 2 * _randn(g, m, d)


@check("gp_posterior", reference=ref.gp_posterior, compare=_pair_compare(("mean", "var")),
       hint="Condition the joint Gaussian of (y, f*): the noise goes on the training diagonal only, and the "
            "variance is the prior variance minus what the data explain.")
def _posterior_cases():
    g = _gen(18_004)
    x, y, xs = _regression_data(g, 8, 5, 2)
    yield Case("8 points in 2-D, l = 0.9, variance 1.7, noise 0.3", (x, y, xs, 0.9, 1.7, 0.3))
    x, y, xs = _regression_data(g, 12, 7, 1)
    yield Case("12 points in 1-D, l = 0.4, variance 2.5, noise 0.05", (x, y, xs, 0.4, 2.5, 0.05))
    x, y, _ = _regression_data(g, 6, 1, 3)
    yield Case("test points = training points, noise 0.6", (x, y, x.clone(), 1.3, 0.8, 0.6))


def _lml_probe(fn, case):
    if case.spec != "grad":
        return fn(*case.args)
    x, y, ell, var, noise = case.args
    params = [torch.tensor(v, dtype=F64, requires_grad=True) for v in (ell, var, noise)]
    value = fn(x, y, *params)
    grads = torch.autograd.grad(value, params, allow_unused=True)
    return value.detach(), tuple(torch.zeros((), dtype=F64) if gr is None else gr.detach() for gr in grads)


def _lml_expected(x, y, ell, var, noise, grad=False):
    if not grad:
        return ref.gp_log_marginal_likelihood(x, y, ell, var, noise)
    params = [torch.tensor(v, dtype=F64, requires_grad=True) for v in (ell, var, noise)]
    value = ref.gp_log_marginal_likelihood(x, y, *params)
    return value.detach(), tuple(gr.detach() for gr in torch.autograd.grad(value, params))


def _lml_compare(got, expected, case):
    if case.spec == "grad":
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return "the log marginal likelihood did not come back as a differentiable tensor."
        return (diagnose_close(got[0], expected[0], what="the log marginal likelihood")
                or diagnose_close(got[1], expected[1], what="its gradient in (lengthscale, variance, noise_var) "
                                  "(keep the computation in torch so that gradients flow)"))
    return diagnose_close(got, expected, what="the log marginal likelihood")


@check("gp_log_marginal_likelihood", probe=_lml_probe, compare=_lml_compare,
       hint="-1/2 y^T C^-1 y - 1/2 log det C - N/2 log(2 pi) with C = K + noise I; log det C is twice the sum of the "
            "logs of the Cholesky factor's diagonal.")
def _lml_cases():
    g = _gen(18_005)
    for label, (n, d, ell, var, noise), spec in [("10 points in 2-D, l = 0.8, variance 1.5, noise 0.2", (10, 2, 0.8, 1.5, 0.2), None),
                                                 ("15 points in 1-D, l = 0.3, variance 3.0, noise 0.05", (15, 1, 0.3, 3.0, 0.05), None),
                                                 ("7 points in 3-D, gradients in the hyperparameters", (7, 3, 1.4, 0.7, 0.4), "grad")]:
        x, y, _ = _regression_data(g, n, 1, d)
        yield Case(label, (x, y, ell, var, noise), expected=_lml_expected(x, y, ell, var, noise, spec == "grad"),
                   spec=spec)


# ----------------------------------------------------------------------------- NNGP and NTK

@check("relu_expectations", reference=ref.relu_expectations, compare=_pair_compare(("E[relu relu]", "E[step step]")),
       hint="With cos(theta) = k12 / sqrt(k11 k22): sqrt(k11 k22) (sin theta + (pi - theta) cos theta) / (2 pi) "
            "and (pi - theta) / (2 pi).")
def _relu_cases():
    g = _gen(18_006)
    k11 = 0.5 + torch.rand(3, 1, generator=g, dtype=F64) * 3
    k22 = 0.5 + torch.rand(1, 4, generator=g, dtype=F64) * 3
    rho = 2 * torch.rand(3, 4, generator=g, dtype=F64) - 1
    yield Case("broadcast (3, 1), (3, 4), (1, 4); random correlations", (k11, rho * torch.sqrt(k11 * k22), k22))
    k = torch.tensor([2.0, 0.7, 3.0], dtype=F64)
    yield Case("equal points (theta = 0) and opposite points (theta = pi)",
               (torch.cat([k, k]), torch.cat([k, -k]), torch.cat([k, k])))
    yield Case("float64 vectors, variances 4 and 0.25, correlations 0.3 and -0.6",
               (torch.tensor([4.0, 4.0], dtype=F64), torch.tensor([0.3, -0.6], dtype=F64),
                torch.tensor([0.25, 0.25], dtype=F64)))


@check("relu_nngp_ntk", reference=ref.relu_nngp_ntk, compare=_pair_compare(("nngp", "ntk")),
       hint="Sigma^1 = x x'^T / D and Theta^1 = Sigma^1; per hidden layer the new Sigma is the relu expectation and "
            "the new Theta is the new Sigma plus the old Theta times the step expectation; the diagonal halves.")
def _nngp_cases():
    g = _gen(18_007)
    for label, (n, m, d, depth) in [("(4, 3) against (5, 3), depth 1", (4, 5, 3, 1)),
                                     ("(3, 2) against (6, 2), depth 2", (3, 6, 2, 2)),
                                     ("(5, 4) against (2, 4), depth 4", (5, 2, 4, 4))]:
        yield Case(label, (2 * _randn(g, n, d), 2 * _randn(g, m, d), depth))
    x = 1.5 * _randn(g, 3, 3)
    yield Case("a set against itself, depth 3", (x, x.clone(), 3))


def _ntk_model(spec):
    kind, seed = spec
    if kind == "ntk-mlp":
        return NTKMLP(3, 24, 2, seed=seed)
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 10), torch.nn.Tanh(), torch.nn.Linear(10, 1),
                               torch.nn.Flatten(0)).double()


def _ntk_probe(fn, case):
    return fn(_ntk_model(case.spec), *case.args)


@check("empirical_ntk", probe=_ntk_probe,
       hint="Differentiate the scalar output with respect to every parameter tensor, flatten and concatenate, then "
            "take inner products between inputs: J(x1) J(x2)^T.")
def _ntk_cases():
    g = _gen(18_008)
    for label, spec, (n, m) in [("a ReLU network of width 24, depth 2, (4, 3) against (3, 3)", ("ntk-mlp", 5), (4, 3)),
                                ("a tanh network with biases, (5, 3) against (2, 3)", ("tanh", 7), (5, 2))]:
        x1, x2 = _randn(g, n, 3), _randn(g, m, 3)
        yield Case(label, (x1, x2), expected=ref.empirical_ntk(_ntk_model(spec), x1, x2), spec=spec)


def _lin_case(g, n, m, lr, steps):
    a = _randn(g, n, n)
    theta = a @ a.T / n + 0.5 * torch.eye(n, dtype=F64)
    theta = theta / torch.linalg.eigvalsh(theta).max()      # largest eigenvalue 1: stable for lr < 2
    b = _randn(g, m, n)
    return (theta, 0.3 * b @ theta, 0.5 * _randn(g, n), 0.5 * _randn(g, m), _randn(g, n), lr, steps)


@check("linearized_dynamics", reference=ref.linearized_dynamics, compare=_pair_compare(("f_train", "f_test")),
       hint="Each discrete step moves every output (train and test) by -lr * Theta(x, X) (f(X) - y), with the sum "
            "loss (no 1/N) and the residual of the current step.")
def _lin_cases():
    g = _gen(18_009)
    yield Case("5 training points, 3 test points, lr 1.2, 7 steps", _lin_case(g, 5, 3, 1.2, 7))
    yield Case("8 training points, 4 test points, lr 0.6, 40 steps", _lin_case(g, 8, 4, 0.6, 40))
    yield Case("zero steps", _lin_case(g, 3, 2, 0.5, 0))


# ----------------------------------------------------------------------------- make it work

def _miw_probe(fn, case):
    hp = fn(*case.args)
    if not isinstance(hp, dict):
        return hp
    return {k: float(hp[k]) for k in ("lengthscale", "variance", "noise_var") if k in hp}


def _miw_compare(got, expected, case):
    x_test, f_test = expected
    keys = ("lengthscale", "variance", "noise_var")
    if not isinstance(got, dict) or any(k not in got for k in keys):
        return f"the function should return a dict with the keys {keys}."
    values = [got[k] for k in keys]
    if not all(isinstance(v, float) and math.isfinite(v) and v > 0 for v in values):
        return f"the hyperparameters must be positive finite numbers, got {got}."
    x_train, y_train, _ = case.args
    try:
        mean, _ = ref.gp_posterior(x_train, y_train, x_test, *values)
    except Exception:  # noqa: BLE001  (a singular kernel matrix)
        return f"the kernel matrix with {got} cannot be factorized (noise_var too small?)."
    rmse = float(((mean - f_test) ** 2).mean().sqrt())
    if not rmse < MIW_THRESHOLD:
        return (f"held-out RMSE of the posterior mean with {{{', '.join(f'{k}: {v:.4g}' for k, v in got.items())}}} "
                f"is {rmse:.4f}, above the target {MIW_THRESHOLD}.")
    return None


@check("fit_gp_hyperparameters", probe=_miw_probe, compare=_miw_compare,
       hint="Maximize your log marginal likelihood over the logs of the three hyperparameters (a random or grid "
            "search, then gradient ascent); both data terms of the likelihood matter.")
def _miw_cases():
    x_train, y_train, x_test, f_test = gp_regression_data(n_train=100, n_test=400, seed=18_777)
    yield Case("a fresh 100-point data set, seed 5", (x_train, y_train, 5), expected=(x_test, f_test))


# ----------------------------------------------------------------------------- concept questions

def _answer_probe(fn, case):
    return fn()


def _answer_compare(got, expected, case):
    if not isinstance(got, str) or got.strip().lower() not in case.spec:
        return f"the answer should be one of the letters {', '.join(repr(s) for s in case.spec)}."
    if got.strip().lower() != expected:
        return "that is not the right answer; reread the section and the hints."
    return None


for _name, _answer in [("concept_posterior_variance", "b"), ("concept_occam", "c"), ("concept_lazy_training", "a")]:
    check(_name, probe=_answer_probe, compare=_answer_compare)(
        (lambda answer: lambda: iter([Case("the answer", expected=answer, spec=("a", "b", "c", "d"))]))(_answer))
