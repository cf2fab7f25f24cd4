"""Hidden checks of chapter 01 (statistics and estimators)."""
from __future__ import annotations

import functools
import math

import torch

from autograder.checks import Case, check
from solutions_lib import statistics as ref
from course.checks import as_array

F64 = torch.float64


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@check("sample_mean", reference=ref.sample_mean,
       hint="An average runs over the samples of one data set only: the dimension `dim` (the last one by default).")
def _sample_mean_cases():
    g = _gen(101)
    yield Case("float64 vector of 50", (torch.randn(50, generator=g, dtype=F64),))
    yield Case("float32 batch (6, 9), default dim", (torch.randn(6, 9, generator=g),))
    yield Case("float64 (4, 5, 3) along dim=1", (torch.randn(4, 5, 3, generator=g, dtype=F64),), {"dim": 1})
    yield Case("float64 (7, 3) along dim=0", (torch.randn(7, 3, generator=g, dtype=F64),), {"dim": 0})
    yield Case("float32 (3, 8) along dim=-2", (torch.randn(3, 8, generator=g),), {"dim": -2})
    yield Case("one sample per row (n = 1)", (torch.randn(5, 1, generator=g, dtype=F64),))
    yield Case("data far from zero (mean 1000)", (1000.0 + torch.randn(4, 30, generator=g, dtype=F64),))
    yield Case("closed form: 1..10", (torch.arange(1.0, 11.0, dtype=F64),), expected=5.5)


@check("sample_variance", reference=ref.sample_variance,
       hint="The plug-in variance is the definition of the variance with the sample standing in for the "
            "distribution: the plain average of the squared deviations from the sample's own mean.")
def _sample_variance_cases():
    g = _gen(102)
    yield Case("float64 vector of 50", (torch.randn(50, generator=g, dtype=F64),))
    yield Case("float32 batch (6, 9), default dim", (torch.randn(6, 9, generator=g),))
    yield Case("float64 (4, 5, 3) along dim=1", (2.0 * torch.randn(4, 5, 3, generator=g, dtype=F64),), {"dim": 1})
    yield Case("float64 (7, 3) along dim=0", (torch.randn(7, 3, generator=g, dtype=F64),), {"dim": 0})
    yield Case("constant data (zero variance)", (torch.full((3, 5), 3.0, dtype=F64),),
               expected=torch.zeros(3, dtype=F64))
    yield Case("one sample per row (n = 1) gives 0", (torch.randn(4, 1, generator=g, dtype=F64),),
               expected=torch.zeros(4, dtype=F64))
    yield Case("data far from zero (mean 100), float64", (100.0 + torch.randn(3, 40, generator=g, dtype=F64),))
    yield Case("closed form: [2, 4, 4, 4, 5, 5, 7, 9]",
               (torch.tensor([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], dtype=F64),), expected=4.0)
    yield Case("float32 data far from zero (mean 1000): two passes, as the statement asks",
               (1000.0 + torch.randn(4, 64, generator=g),))
    x = torch.randn(5, 20, generator=g, dtype=F64) * 3 - 1
    yield Case("oracle torch.var(correction=0), float64 (5, 20)", (x,), expected=torch.var(x, dim=-1, correction=0))


@check("unbiased_variance", reference=ref.unbiased_variance,
       hint="Rescale the plug-in estimate so that its expectation is exactly sigma^2: your plugin_variance_bias "
            "says by how much it falls short.")
def _unbiased_variance_cases():
    g = _gen(103)
    yield Case("float64 vector of 50", (torch.randn(50, generator=g, dtype=F64),))
    yield Case("float32 batch (6, 9), default dim", (torch.randn(6, 9, generator=g),))
    yield Case("float64 (4, 5, 3) along dim=1", (2.0 * torch.randn(4, 5, 3, generator=g, dtype=F64),), {"dim": 1})
    yield Case("float64 (7, 3) along dim=0", (torch.randn(7, 3, generator=g, dtype=F64),), {"dim": 0})
    yield Case("two samples per row (n = 2)", (torch.randn(5, 2, generator=g, dtype=F64),))
    yield Case("constant data (zero variance)", (torch.full((2, 6), -1.5, dtype=F64),),
               expected=torch.zeros(2, dtype=F64))
    yield Case("data far from zero (mean 100), float64", (100.0 + torch.randn(3, 40, generator=g, dtype=F64),))
    yield Case("closed form: [2, 4, 4, 4, 5, 5, 7, 9]",
               (torch.tensor([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], dtype=F64),), expected=32.0 / 7.0)
    yield Case("float32 data far from zero (mean 1000): two passes, as the statement asks",
               (1000.0 + torch.randn(4, 64, generator=g),))
    x = torch.randn(5, 12, generator=g, dtype=F64) * 0.5 + 2
    yield Case("oracle torch.var (correction=1), float64 (5, 12)", (x,), expected=torch.var(x, dim=-1))


@check("plugin_variance_bias", reference=ref.plugin_variance_bias,
       hint="Split each deviation at the true mean and take expectations term by term; the bias is estimate "
            "minus truth, so it is negative when the estimate falls short.")
def _plugin_variance_bias_cases():
    g = _gen(104)
    yield Case("numbers: sigma^2 = 2.5, n = 10", (2.5, 10), expected=-0.25)
    yield Case("numbers: sigma^2 = 1, n = 1 (the estimate is always 0)", (1.0, 1), expected=-1.0)
    yield Case("large n = 10**6, float64", (torch.tensor(3.0, dtype=F64), 10**6), expected=-3e-6)
    yield Case("float64 tensor sigma^2 (5,), n = 7", (torch.rand(5, generator=g, dtype=F64) * 4 + 0.1, 7))
    yield Case("float32 tensor sigma^2 (4,), n = 3", (torch.rand(4, generator=g) * 2 + 0.5, 3))
    yield Case("broadcast sigma^2 (3, 1) against n (1, 4)",
               (torch.rand(3, 1, generator=g, dtype=F64) + 0.5, torch.tensor([[2.0, 5.0, 20.0, 50.0]], dtype=F64)))


def _gauss(n: int, sigma: float = 1.0, mu: float = 0.0, dtype=F64):
    return lambda t, gen: mu + sigma * torch.randn(t, n, generator=gen, dtype=dtype)


def _expo(n: int):
    return lambda t, gen: -torch.log(torch.rand(t, n, generator=gen, dtype=F64))


def _uniform(n: int, upper: float):
    return lambda t, gen: upper * torch.rand(t, n, generator=gen, dtype=F64)


def _row_max(x):
    return x.max(dim=-1).values


def _first(x):
    return x[..., 0]


@check("bias_variance_mse", reference=ref.bias_variance_mse,
       hint="One draw of all data sets through the sampler with the generator you are given; the bias is the "
            "average estimate minus the truth, the variance the spread around the average estimate (over T, "
            "not T - 1), the MSE the average squared distance to the truth.")
def _bias_variance_mse_cases():
    # estimators from torch itself: the cases travel to the student's kernel, so they carry no reference code
    yield Case("plug-in variance, Gaussian n = 5, float64",
               (functools.partial(torch.var, dim=-1, correction=0), _gauss(5), 1.0, 3000, _gen(11)))
    yield Case("Bessel variance, Gaussian n = 3, sigma 2, float32",
               (functools.partial(torch.var, dim=-1, correction=1), _gauss(3, 2.0, dtype=torch.float32), 4.0, 2000,
                _gen(12)))
    yield Case("sample mean of exponential draws, n = 8",
               (functools.partial(torch.mean, dim=-1), _expo(8), 1.0, 2500, _gen(13)))
    yield Case("max of uniform(0, 3) draws (biased low), n = 4",
               (_row_max, _uniform(4, 3.0), 3.0, 1500, _gen(14)))
    yield Case("true value as a 0-d tensor, first draw as the estimate",
               (_first, _gauss(2, 1.0, 0.5), torch.tensor(0.25, dtype=F64), 1000, _gen(15)))
    yield Case("a constant estimator: zero variance, mse = bias^2",
               (lambda x: torch.full(x.shape[:-1], 2.0, dtype=F64), _gauss(3), 1.5, 50, _gen(16)),
               expected=(torch.tensor(0.5, dtype=F64), torch.tensor(0.0, dtype=F64), torch.tensor(0.25, dtype=F64)))
    fixed = torch.tensor([[1.0], [2.0], [3.0], [6.0], [8.0]], dtype=F64)
    yield Case("fixed estimates 1, 2, 3, 6, 8, truth 5",
               (_first, lambda t, gen: fixed[:t], 5.0, 5, _gen(17)),
               expected=(torch.tensor(-1.0, dtype=F64), torch.tensor(6.8, dtype=F64), torch.tensor(7.8, dtype=F64)))


@check("gaussian_mle", reference=ref.gaussian_mle,
       hint="Set both partial derivatives of the mean negative log-likelihood to zero and solve; return the "
            "variance sigma^2 (not sigma) as the second element.")
def _gaussian_mle_cases():
    g = _gen(105)
    yield Case("float64 vector of 40", (3.0 + 2.0 * torch.randn(40, generator=g, dtype=F64),))
    yield Case("float32 batch (5, 12), default dim", (torch.randn(5, 12, generator=g) - 1.0,))
    yield Case("float64 (6, 4) along dim=0", (torch.randn(6, 4, generator=g, dtype=F64),), {"dim": 0})
    yield Case("float64 (3, 7, 2) along dim=1", (torch.randn(3, 7, 2, generator=g, dtype=F64),), {"dim": 1})
    yield Case("constant data", (torch.full((2, 5), 4.0, dtype=F64),),
               expected=(torch.full((2,), 4.0, dtype=F64), torch.zeros(2, dtype=F64)))
    yield Case("closed form: [2, 4, 4, 4, 5, 5, 7, 9]",
               (torch.tensor([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], dtype=F64),),
               expected=(torch.tensor(5.0, dtype=F64), torch.tensor(4.0, dtype=F64)))


def _normal_nll(x, mu, var):
    """Oracle: torch.distributions in float64."""
    x64 = torch.as_tensor(x, dtype=F64)
    mu64 = torch.as_tensor(mu, dtype=F64)
    var64 = torch.as_tensor(var, dtype=F64)
    return -torch.distributions.Normal(mu64, var64.sqrt()).log_prob(x64).mean()


@check("gaussian_nll", reference=ref.gaussian_nll,
       hint="The negative log of the Gaussian density, its constant included, averaged over every element of the "
            "broadcast shape; `var` is the variance, not the standard deviation.")
def _gaussian_nll_cases():
    g = _gen(106)
    x = torch.randn(3, 4, generator=g, dtype=F64)
    mu = torch.randn(4, generator=g, dtype=F64)
    var = torch.rand(4, generator=g, dtype=F64) * 2 + 0.2
    yield Case("float64 (3, 4), per-column mu and var (oracle torch.distributions)", (x, mu, var),
               expected=_normal_nll(x, mu, var))
    yield Case("float32 (10,), scalar mu and var", (torch.randn(10, generator=g) * 3, 0.5, 2.0))
    x = torch.randn(20, generator=g, dtype=F64)
    yield Case("float64 (20,), numbers mu = -1, var = 0.3", (x, -1.0, 0.3), expected=_normal_nll(x, -1.0, 0.3))
    x = torch.randn(5, generator=g, dtype=F64)
    mu = torch.randn(2, 1, generator=g, dtype=F64)
    yield Case("mu of shape (2, 1) broadcasts x (5,) to (2, 5)", (x, mu, torch.tensor(1.5, dtype=F64)),
               expected=_normal_nll(x, mu, 1.5))
    x = 1e-3 * torch.randn(6, generator=g, dtype=F64)
    yield Case("tiny variance 1e-4 (negative NLL)", (x, 0.0, 1e-4), expected=_normal_nll(x, 0.0, 1e-4))
    x = 50.0 + torch.randn(8, generator=g, dtype=F64)
    yield Case("far from the mean, var = 0.5", (x, 0.0, 0.5), expected=_normal_nll(x, 0.0, 0.5))
    yield Case("closed form: x = mu, var = 1", (torch.tensor([2.0, 2.0], dtype=F64), 2.0, 1.0),
               expected=0.5 * math.log(2 * math.pi))


@check("standardized_means", reference=ref.standardized_means,
       hint="Standardize with the spread of the mean of n draws, which is smaller than the spread of one draw.")
def _standardized_means_cases():
    g = _gen(107)
    yield Case("float64 (200, 10) exponential draws, mu = sigma = 1",
               (-torch.log(torch.rand(200, 10, generator=g, dtype=F64)), 1.0, 1.0))
    yield Case("float32 (50, 30) Gaussian draws, mu = 2, sigma = 3",
               (2.0 + 3.0 * torch.randn(50, 30, generator=g), 2.0, 3.0))
    yield Case("float64 (25, 6) along dim=0", (torch.randn(25, 6, generator=g, dtype=F64) + 0.3, 0.3, 1.0), {"dim": 0})
    yield Case("float64 (3, 2, 9), dim left at its default (the last)",
               (torch.randn(3, 2, 9, generator=g, dtype=F64) * 2 - 1, -1.0, 2.0))
    yield Case("one draw per data set (n = 1)", (torch.randn(8, 1, generator=g, dtype=F64) * 2 + 1, 1.0, 2.0))
    yield Case("per-row mu and sigma as tensors",
               (torch.randn(4, 16, generator=g, dtype=F64) * 5, torch.tensor([0.0, 1.0, -1.0, 2.0], dtype=F64),
                torch.tensor([5.0, 4.0, 2.0, 1.0], dtype=F64)))
    yield Case("closed form: means 3, 1 of n = 4, mu = 1, sigma = 0.5",
               (torch.tensor([[3.0, 3.0, 3.0, 3.0], [0.0, 2.0, 0.0, 2.0]], dtype=F64), 1.0, 0.5),
               expected=torch.tensor([8.0, 0.0], dtype=F64))


@check("empirical_risk", reference=ref.empirical_risk,
       hint="The squared loss has no factor 1/2; the absolute loss keeps the sign out; the average runs over `dim` "
            "of the broadcast shape.")
def _empirical_risk_cases():
    g = _gen(108)
    y = torch.randn(30, generator=g, dtype=F64)
    c = torch.linspace(-2, 2, 9, dtype=F64)
    yield Case("squared risk of 9 constants on 30 targets", (c[:, None], y[None, :], "squared"))
    yield Case("absolute risk of 9 constants on 30 targets", (c[:, None], y[None, :], "absolute"))
    yield Case("float32 predictions and targets (4, 25), squared",
               (torch.randn(4, 25, generator=g), torch.randn(4, 25, generator=g), "squared"))
    yield Case("float32 predictions and targets (4, 25), absolute",
               (torch.randn(4, 25, generator=g), torch.randn(4, 25, generator=g), "absolute"))
    yield Case("default loss is squared", (torch.zeros(3, dtype=F64), torch.tensor([1.0, -2.0, 3.0], dtype=F64)),
               expected=14.0 / 3.0)
    yield Case("dim=0, predictions (12, 1) against targets (12, 3), absolute",
               (torch.randn(12, 1, generator=g, dtype=F64), torch.randn(12, 3, generator=g, dtype=F64), "absolute"),
               {"dim": 0})
    yield Case("keyword loss='absolute', closed form",
               (torch.tensor([1.0, 1.0, 1.0], dtype=F64), torch.tensor([0.0, 4.0, 1.0], dtype=F64)),
               {"loss": "absolute"}, expected=4.0 / 3.0)
    yield Case("perfect predictions give zero risk", (y, y.clone(), "absolute"), expected=0.0)


# -- a robust loss: Huber ------------------------------------------------------------------------------------

def _huber_loop(r, delta):
    """Oracle: the two branches written out, one residual at a time, in float64."""
    out = [0.5 * v * v if abs(v) <= delta else delta * (abs(v) - 0.5 * delta) for v in r.reshape(-1).tolist()]
    return torch.tensor(out, dtype=F64).reshape(r.shape).to(r.dtype)


def _huber_grad_loop(r, delta):
    out = [v if abs(v) <= delta else math.copysign(delta, v) for v in r.reshape(-1).tolist()]
    return torch.tensor(out, dtype=F64).reshape(r.shape).to(r.dtype)


def _huber_residuals(delta):
    """Both regimes on both sides, the kink itself, and zero."""
    return torch.tensor([-4.0 * delta, -1.5 * delta, -delta, -0.6 * delta, -0.1 * delta, 0.0,
                         0.3 * delta, 0.9 * delta, delta, 1.2 * delta, 2.0 * delta, 7.5 * delta], dtype=F64)


@check("huber_loss", reference=ref.huber_loss,
       hint="Near zero the loss is half the squared residual; beyond the threshold it grows linearly with the size of "
            "the residual, with the slope and the VALUE it has at the threshold (the two pieces meet there).")
def _huber_loss_cases():
    g = _gen(110)
    for delta in (1.0, 0.5, 2.5):
        r = _huber_residuals(delta)
        yield Case(f"both regimes, both signs and the kink, delta = {delta}", (r, delta), expected=_huber_loop(r, delta))
    r = 3.0 * torch.randn(6, 20, generator=g, dtype=F64)
    yield Case("float64 (6, 20), default delta = 1", (r,), expected=_huber_loop(r, 1.0))
    r = 2.0 * torch.randn(40, generator=g)
    yield Case("float32 vector, delta = 0.75", (r,), {"delta": 0.75}, expected=_huber_loop(r, 0.75))
    r = torch.tensor([-2.0, 0.5, 3.0], dtype=F64)
    yield Case("closed form, delta = 1", (r, 1.0), expected=torch.tensor([1.5, 0.125, 2.5], dtype=F64))
    r = torch.tensor([-1e6, 1e6], dtype=F64)
    yield Case("huge residuals stay linear (delta = 2)", (r, 2.0), expected=torch.tensor([2e6 - 2.0] * 2, dtype=F64))


@check("huber_grad", reference=ref.huber_grad,
       hint="The derivative of the loss in the RESIDUAL: the residual itself near zero; beyond the threshold a "
            "force of constant size that still points the way the residual does.")
def _huber_grad_cases():
    g = _gen(111)
    for delta in (1.0, 0.5, 2.5):
        r = _huber_residuals(delta)
        yield Case(f"both regimes, both signs and the kink, delta = {delta}", (r, delta),
                   expected=_huber_grad_loop(r, delta))
    r = 3.0 * torch.randn(5, 16, generator=g, dtype=F64)
    yield Case("float64 (5, 16), default delta = 1", (r,), expected=_huber_grad_loop(r, 1.0))
    r = 2.0 * torch.randn(30, generator=g)
    yield Case("float32 vector, delta = 1.5", (r,), {"delta": 1.5}, expected=_huber_grad_loop(r, 1.5))
    r = torch.tensor([-2.0, 0.5, 3.0], dtype=F64)
    yield Case("closed form, delta = 1", (r, 1.0), expected=torch.tensor([-1.0, 0.5, 1.0], dtype=F64))


# -- MAP of a Gaussian mean ----------------------------------------------------------------------------------

def _map_oracle(x, noise_var, prior_mean, prior_var, dim=-1):
    """Shrinkage form m + tau^2 / (tau^2 + sigma^2 / n) * (mean - m), in float64."""
    xs = x.to(F64)
    n = xs.shape[dim]
    as64 = lambda v: v.to(F64) if isinstance(v, torch.Tensor) else torch.tensor(float(v), dtype=F64)  # noqa: E731
    s2, m, t2 = as64(noise_var) / n, as64(prior_mean), as64(prior_var)
    return (m + t2 / (t2 + s2) * (xs.mean(dim=dim) - m)).to(x.dtype)


@check("gaussian_map_mean", reference=ref.gaussian_map_mean,
       hint="The posterior weighs each source of information by its precision: the prior's is one over its "
            "variance, the data's grows with the number of samples; the estimate sits between the prior mean and "
            "the sample mean.")
def _gaussian_map_mean_cases():
    g = _gen(112)
    x = torch.tensor([2.0, 4.0], dtype=F64)
    yield Case("closed form: mean 3, sigma^2 = 2, prior N(0, 1): (1 * 3 + 1 * 0) / 2", (x, 2.0, 0.0, 1.0),
               expected=torch.tensor(1.5, dtype=F64))
    x = 1.0 + 2.0 * torch.randn(8, generator=g, dtype=F64)
    args = (x, 4.0, -2.0, 0.5)
    yield Case("n = 8, sigma^2 = 4, prior N(-2, 0.5)", args, expected=_map_oracle(*args))
    x = 3.0 + torch.randn(5, 12, generator=g, dtype=F64)
    args = (x, 1.0, 1.0, 3.0)
    yield Case("float64 batch (5, 12), sigma^2 = 1, prior N(1, 3)", args, expected=_map_oracle(*args))
    x = -1.0 + 3.0 * torch.randn(4, 6, generator=g)
    args = (x, 9.0, 2.0, 0.25)
    yield Case("float32 batch (4, 6), sigma^2 = 9, prior N(2, 0.25)", args, expected=_map_oracle(*args))
    x = torch.randn(3, 7, 2, generator=g, dtype=F64) + 4.0
    args = (x, 2.0, -1.0, 1.5)
    yield Case("samples along dim=1 of (3, 7, 2)", args, {"dim": 1}, expected=_map_oracle(*args, dim=1))
    x = 2.0 * torch.randn(6, 10, generator=g, dtype=F64)
    noise = torch.linspace(0.5, 8.0, 6, dtype=F64)
    pmean = torch.linspace(-3.0, 3.0, 6, dtype=F64)
    pvar = torch.linspace(2.0, 0.2, 6, dtype=F64)
    yield Case("a prior and a noise level per row (tensors of shape (6,))", (x, noise, pmean, pvar),
               expected=_map_oracle(x, noise, pmean, pvar))
    x = 5.0 + torch.randn(20, generator=g, dtype=F64)
    yield Case("a very wide prior (tau^2 = 1e8) gives back the sample mean", (x, 1.0, -7.0, 1e8),
               expected=_map_oracle(x, 1.0, -7.0, 1e8))
    yield Case("a very narrow prior (tau^2 = 1e-8) gives back the prior mean", (x, 1.0, -7.0, 1e-8),
               expected=_map_oracle(x, 1.0, -7.0, 1e-8))
    x = torch.tensor([[10.0]], dtype=F64)
    yield Case("one sample: equal precisions average the sample and the prior mean", (x, 2.0, 4.0, 2.0),
               expected=torch.tensor([7.0], dtype=F64))


# -- the make-it-work task: shrinkage of group means --------------------------------------------------------

SHRINKAGE_GROUPS, SHRINKAGE_SIZE, SHRINKAGE_BATCH = 100, 10, 40
"""K groups of n measurements, and how many independent problems one case holds (stated in the notebook)."""

# (typical grand mean m, spread of the true means tau, noise sigma): tau^2 / (sigma^2 / n) = 0.1, 1 and 9, so
# that no fixed shrinkage factor can close half the gap on all three.
_SHRINKAGE_SETTINGS = [(5.0, 0.3, 3.0), (-3.0, 1.0, 10 ** 0.5), (1.0, 3.0, 10 ** 0.5)]


def _shrinkage_compare(got, expected, case: Case) -> str | None:
    theta = expected["theta"]
    try:
        estimates = torch.as_tensor(as_array(got), dtype=F64)
    except Exception as err:  # noqa: BLE001
        return f"should return a tensor of estimates ({type(err).__name__}: {err})."
    if tuple(estimates.shape) != tuple(theta.shape):
        return f"returned shape {tuple(estimates.shape)}, expected {tuple(theta.shape)} (one estimate per group)."
    if not torch.isfinite(estimates).all():
        return "the estimates contain NaN or inf."
    mse = float(((estimates - theta) ** 2).mean())
    plain, ideal = expected["plain"], expected["ideal"]
    target = 0.5 * (plain + ideal)
    if mse > target:
        return (f"mean squared error {mse:.4f} against the true means (which stay with the grader): the plain group "
                f"means reach {plain:.4f}, the ideal shrinkage {ideal:.4f}; the target is their midpoint {target:.4f}.")
    return None


@check("shrink_group_means", compare=_shrinkage_compare,
       hint="Shrink every group mean towards the mean of all groups, by a factor estimated from the data: compare "
            "the noise of one group mean with the spread of the group means around each other.")
def _shrink_group_means_cases():
    K, n, B = SHRINKAGE_GROUPS, SHRINKAGE_SIZE, SHRINKAGE_BATCH
    for i, (m, tau, sigma) in enumerate(_SHRINKAGE_SETTINGS):
        g = _gen(500 + i)
        m = m + 2.0 * torch.randn(B, 1, generator=g, dtype=F64)  # each problem its own grand mean
        theta = m + tau * torch.randn(B, K, generator=g, dtype=F64)
        x = theta[..., None] + sigma * torch.randn(B, K, n, generator=g, dtype=F64)
        plain_means = x.mean(dim=-1)
        s2 = sigma ** 2 / n
        ideal = m + tau ** 2 / (tau ** 2 + s2) * (plain_means - m)
        r = tau ** 2 / s2
        yield Case(f"{B} problems of {K} groups x {n} measurements, tau^2 / (sigma^2 / n) = {r:.3g}",
                   (x,), expected={"theta": theta,
                                   "plain": float(((plain_means - theta) ** 2).mean()),
                                   "ideal": float(((ideal - theta) ** 2).mean())})


# -- concept questions -----------------------------------------------------------------------------------------

def _answer_compare(got, expected, case: Case) -> str | None:
    if not isinstance(got, str) or got.strip().lower() not in {"a", "b", "c", "d"}:
        return "answer with one of the letters 'a', 'b', 'c', 'd' (a string)."
    return None if got.strip().lower() == expected else "that is not the right answer; reread the section."


def _answer_cases(expected):
    def cases():
        yield Case("your answer", (), expected=expected)
    return cases


check("consistency_answer", compare=_answer_compare)(_answer_cases(ref.consistency_answer()))
check("cramer_rao_answer", compare=_answer_compare)(_answer_cases(ref.cramer_rao_answer()))
check("robust_loss_answer", compare=_answer_compare)(_answer_cases(ref.robust_loss_answer()))
