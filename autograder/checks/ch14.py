"""Hidden checks of chapter 14 (normalizing flows and diffusion models).

Oracles: closed-form densities of affine and triangular maps; the autograd Jacobian (float64) for the
coupling layers' log-determinants; the linear-Gaussian (precision-form) posterior for q(x_{t-1} | x_t, x_0);
autograd of the mixture's log-sum-exp density for its score; an explicitly built raster-order mask for the
PixelCNN convolution. The samplers are replayed step by step with the noise passed in, so the textbook's
Algorithm 2 coefficients, alpha for alpha-bar, a shifted time index or a missing square root all move the
result far beyond the tolerance. The make-it-work task is judged here: its samples against a held-out set
the kernel never sees, by a squared MMD.

Conventions (the notebook states them): schedules are (T + 1,) tensors indexed by t, betas[0] = 0; the
models are called as eps_model(x, t) with t a long tensor (N,); guidance is eps_u + w (eps_c - eps_u).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from autograder.checks import Case, check
from course.checks import diagnose_close
from course.generative import linear_betas, mmd2, ring_mixture
from solutions_lib import generative as ref

F64 = torch.float64
F32 = torch.float32
LOG_2PI = math.log(2 * math.pi)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(g, *shape, dtype=F64):
    return torch.randn(*shape, generator=g, dtype=F64).to(dtype)


def _tuple_compare(names):
    def compare(got, expected, case):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"the function should return a tuple ({', '.join(names)})."
        for name, g, e in zip(names, got, expected):
            problem = diagnose_close(g, e, what=name)
            if problem:
                return problem
        return None
    return compare


def _std_normal_logpdf(z):
    return -0.5 * (z.to(F64) ** 2).sum(-1) - 0.5 * z.shape[-1] * LOG_2PI


# ----------------------------------------------------------------------------- change of variables

def _mlp(seed, d, scale=1.0, dtype=F64):
    """A fixed random function (N, d) -> (N, d): scale * tanh(u W1 + b1) W2 (travels to the kernel by value)."""
    g = _gen(seed)
    w1, b1, w2 = _randn(g, d, 8, dtype=dtype), _randn(g, 8, dtype=dtype), _randn(g, 8, d, dtype=dtype) / 3

    def net(u):
        return scale * torch.tanh(u @ w1.to(u.dtype) + b1.to(u.dtype)) @ w2.to(u.dtype)
    return net


def _autograd_logdet(fn, x):
    """log |det d fn(x) / dx| per row, by autograd in float64."""
    xs = x.detach().to(F64)
    out = []
    for row in xs:
        jac = torch.autograd.functional.jacobian(lambda r: fn(r.unsqueeze(0)).squeeze(0), row)
        out.append(torch.linalg.slogdet(jac)[1])
    return torch.stack(out)


@check("flow_log_prob", reference=ref.flow_log_prob,
       hint="log p(x) = log N(z; 0, I) + log |det dz/dx| with z = inverse(x): the Jacobian term of the INVERSE "
            "map is ADDED, the absolute value taken (slogdet), the constant -D/2 log(2 pi) included, one value "
            "per row.")
def _flow_log_prob_cases():
    g = _gen(1401)
    x = _randn(g, 6, 1) * 2 + 1
    expected = -0.5 * ((x - 1) / 2) ** 2 - 0.5 * LOG_2PI - math.log(2)
    yield Case("1-D affine x = 2 z + 1: the density of N(1, 4)", (x, lambda x: (x - 1) / 2),
               expected=expected.reshape(-1))
    x = _randn(g, 5, 1)
    z = -(x - 0.5) / 3
    yield Case("1-D reflection z = -(x - 0.5) / 3 (negative Jacobian)", (x, lambda x: -(x - 0.5) / 3),
               expected=(_std_normal_logpdf(z) - math.log(3)))
    A = torch.tensor([[0.5, 2.0], [1.5, -1.0]], dtype=F64)
    b = torch.tensor([0.3, -0.7], dtype=F64)
    x = _randn(g, 7, 2)
    yield Case("2-D linear map z = x A^T + b with det A = -3.5", (x, lambda x: x @ A.T.to(x.dtype) + b.to(x.dtype)),
               expected=_std_normal_logpdf(x @ A.T + b) + math.log(3.5))

    def tri(x):
        return torch.stack([x[:, 0], x[:, 1] * torch.exp(-torch.tanh(x[:, 0])) - torch.sin(x[:, 0])], dim=1)
    x = _randn(g, 9, 2) * 1.5
    yield Case("2-D triangular map, log |det| = -tanh(x_1)", (x, tri),
               expected=_std_normal_logpdf(tri(x)) - torch.tanh(x[:, 0]))
    net = _mlp(1402, 3, scale=0.3)
    x = _randn(g, 6, 3)
    yield Case("3-D residual map z = x + 0.3 tanh(...) (oracle: autograd Jacobian)", (x, lambda x: x + net(x)),
               expected=_std_normal_logpdf(x + net(x)) + _autograd_logdet(lambda u: u + net(u), x))
    x32 = _randn(g, 4, 2, dtype=F32)
    yield Case("float32 input, 2-D triangular map", (x32, tri),
               expected=(_std_normal_logpdf(tri(x32.double())) - torch.tanh(x32.double()[:, 0])).float())


def _coupling_setup(seed, d, mask, dtype=F64, n=5, spread=1.0):
    g = _gen(seed)
    z = _randn(g, n, d, dtype=dtype) * spread
    return z, torch.tensor(mask, dtype=dtype), _mlp(seed + 1, d, 0.8, dtype), _mlp(seed + 2, d, 1.5, dtype)


def _coupling_forward_expected(z, mask, s, b):
    x, _ = ref.affine_coupling_forward(z.to(F64), mask.to(F64), s, b)
    logdet = _autograd_logdet(lambda u: ref.affine_coupling_forward(u, mask.to(F64), s, b)[0], z)
    return x.to(z.dtype), logdet.to(z.dtype)


_COUPLINGS = [
    ("2-D, mask [1, 0]", 1410, 2, [1.0, 0.0], F64),
    ("2-D, mask [0, 1]", 1411, 2, [0.0, 1.0], F64),
    ("4-D, alternating mask [1, 0, 1, 0]", 1412, 4, [1.0, 0.0, 1.0, 0.0], F64),
    ("5-D, mask [1, 1, 0, 0, 0]", 1413, 5, [1.0, 1.0, 0.0, 0.0, 0.0], F64),
    ("float32, 3-D, mask [0, 1, 0]", 1414, 3, [0.0, 1.0, 0.0], F32),
]


@check("affine_coupling_forward", compare=_tuple_compare(["x", "log_det"]),
       hint="The masked entries pass unchanged AND are the only input of the two networks (feed mask * z); the "
            "others become z * exp(s) + b; log |det dx/dz| is the sum of s over the entries that change only.")
def _affine_coupling_forward_cases():
    for label, seed, d, mask, dtype in _COUPLINGS:
        z, m, s, b = _coupling_setup(seed, d, mask, dtype)
        yield Case(label + " (log-det oracle: autograd Jacobian)", (z, m, s, b),
                   expected=_coupling_forward_expected(z, m, s, b))
    z = torch.tensor([[1.0, 2.0]], dtype=F64)
    yield Case("closed form: s = the kept entry, b = 0", (z, torch.tensor([1.0, 0.0], dtype=F64),
                                                          lambda u: u.flip(-1), lambda u: 0 * u),
               expected=(torch.tensor([[1.0, 2.0 * math.e]], dtype=F64), torch.tensor([1.0], dtype=F64)))


@check("affine_coupling_inverse", compare=_tuple_compare(["z", "log_det"]),
       hint="Undo the shift first, then the scale: z = (x - b) * exp(-s) on the changed entries, with s and b "
            "computed from mask * x; log |det dz/dx| is MINUS the forward one.")
def _affine_coupling_inverse_cases():
    for label, seed, d, mask, dtype in _COUPLINGS:
        z, m, s, b = _coupling_setup(seed + 20, d, mask, dtype)
        x = ref.affine_coupling_forward(z.to(F64), m.to(F64), s, b)[0]
        logdet = _autograd_logdet(lambda u: ref.affine_coupling_inverse(u, m.to(F64), s, b)[0], x)
        yield Case(label + " (recovers z; log-det oracle: autograd Jacobian)", (x.to(dtype), m, s, b),
                   expected=(z, logdet.to(dtype)))


# ----------------------------------------------------------------------------- DDPM

def _betas(seed, T, lo=0.02, hi=0.3, dtype=F64):
    g = _gen(seed)
    inner = torch.sort(torch.rand(T, generator=g, dtype=F64) * (hi - lo) + lo).values
    return torch.cat([torch.zeros(1, dtype=F64), inner]).to(dtype)


def _schedule_oracle(betas):
    b = betas.to(F64).tolist()
    alphas, bars, prod = [], [], 1.0
    for beta in b:
        alphas.append(1 - beta)
        prod *= 1 - beta
        bars.append(prod)
    return torch.tensor(alphas, dtype=F64).to(betas.dtype), torch.tensor(bars, dtype=F64).to(betas.dtype)


@check("ddpm_schedule", compare=_tuple_compare(["alphas", "alpha_bars"]),
       hint="alpha_t = 1 - beta_t and alpha_bar_t = alpha_1 * ... * alpha_t (a cumulative PRODUCT that includes "
            "step t); both have length T + 1 and equal 1 at t = 0.")
def _ddpm_schedule_cases():
    b = torch.tensor([0.0, 0.1, 0.5], dtype=F64)
    yield Case("closed form: betas (0, 0.1, 0.5)", (b,), expected=_schedule_oracle(b))
    for label, seed, T, dtype in [("T = 10, float64", 1420, 10, F64), ("T = 50, float32", 1421, 50, F32),
                                  ("T = 1", 1422, 1, F64)]:
        b = _betas(seed, T, dtype=dtype)
        yield Case(label, (b,), expected=_schedule_oracle(b))
    b = linear_betas(100, 1e-3, 0.1)
    yield Case("the chapter's linear schedule, T = 100", (b,), expected=_schedule_oracle(b))


def _abar(betas):
    return torch.cumprod(1 - betas.to(F64), 0)


@check("q_sample",
       hint="x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise with alpha_bar_t the cumulative product up "
            "to and including t, read at index t of the (T + 1,) schedule.")
def _q_sample_cases():
    g = _gen(1430)
    betas = _betas(1431, 12)
    x0, noise = _randn(g, 6, 2), _randn(g, 6, 2)
    t = torch.tensor([1, 2, 5, 7, 11, 12])
    ab = _abar(betas)[t].unsqueeze(1)
    yield Case("float64, T = 12, t from 1 to 12 (oracle: closed form)", (x0, t, noise, betas),
               expected=ab.sqrt() * x0 + (1 - ab).sqrt() * noise)
    x0, noise = _randn(g, 4, 3), _randn(g, 4, 3)
    t = torch.tensor([1, 1, 1, 1])
    ab = _abar(betas)[t].unsqueeze(1)
    yield Case("t = 1 everywhere (one step of noise)", (x0, t, noise, betas),
               expected=ab.sqrt() * x0 + (1 - ab).sqrt() * noise)
    betas32 = _betas(1432, 30, dtype=F32)
    x0, noise = _randn(g, 8, 2, dtype=F32), _randn(g, 8, 2, dtype=F32)
    t = torch.randint(1, 31, (8,), generator=g)
    ab = _abar(betas32)[t].unsqueeze(1)
    yield Case("float32, T = 30, random t", (x0, t, noise, betas32),
               expected=(ab.sqrt() * x0.double() + (1 - ab).sqrt() * noise.double()).float())


def _posterior_oracle(x0, xt, t, betas):
    """Bayes for linear Gaussians in precision form: prior N(sqrt(ab_{t-1}) x0, 1 - ab_{t-1}), likelihood
    N(x_t; sqrt(alpha_t) x_{t-1}, beta_t). At t = 1 the prior is a point mass at x0."""
    b = betas.to(F64)
    ab = _abar(b)
    means, variances = [], []
    for i in range(x0.shape[0]):
        k = int(t[i])
        beta, alpha = b[k], 1 - b[k]
        if k == 1:
            means.append(x0[i].to(F64))
            variances.append(torch.tensor(0.0, dtype=F64))
            continue
        prior_prec, like_prec = 1 / (1 - ab[k - 1]), alpha / beta
        var = 1 / (prior_prec + like_prec)
        mean = var * (ab[k - 1].sqrt() * x0[i].to(F64) * prior_prec + alpha.sqrt() / beta * xt[i].to(F64))
        means.append(mean)
        variances.append(var)
    return torch.stack(means).to(x0.dtype), torch.stack(variances).to(x0.dtype)


@check("ddpm_posterior", compare=_tuple_compare(["mean", "variance"]),
       hint="Multiply q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1}, beta_t) by q(x_{t-1} | x_0) = N(sqrt(alpha_bar_{t-1}) "
            "x_0, 1 - alpha_bar_{t-1}) and complete the square: the precisions add. Mind which factors are "
            "alpha (one step) and which alpha_bar (cumulative), and t versus t - 1.")
def _ddpm_posterior_cases():
    g = _gen(1440)
    betas = _betas(1441, 20)
    x0, xt = _randn(g, 7, 2), _randn(g, 7, 2)
    t = torch.tensor([2, 3, 5, 8, 13, 19, 20])
    yield Case("float64, T = 20, t from 2 to 20 (oracle: precision-form Bayes)", (x0, xt, t, betas),
               expected=_posterior_oracle(x0, xt, t, betas))
    x0, xt = _randn(g, 3, 2), _randn(g, 3, 2)
    t = torch.tensor([1, 1, 1])
    yield Case("t = 1: the posterior is a point mass at x_0", (x0, xt, t, betas),
               expected=(x0.clone(), torch.zeros(3, dtype=F64)))
    betas = linear_betas(100, 1e-3, 0.1)
    x0, xt = _randn(g, 6, 3), _randn(g, 6, 3)
    t = torch.tensor([2, 10, 40, 70, 99, 100])
    yield Case("the chapter's schedule, T = 100, 3-D", (x0, xt, t, betas), expected=_posterior_oracle(x0, xt, t, betas))
    betas32 = _betas(1442, 15, dtype=F32)
    x0, xt = _randn(g, 5, 2, dtype=F32), _randn(g, 5, 2, dtype=F32)
    t = torch.randint(2, 16, (5,), generator=g)
    yield Case("float32, random t", (x0, xt, t, betas32), expected=_posterior_oracle(x0, xt, t, betas32))


def _eps_table(seed, d, T, dtype=F64):
    """An eps-model that depends strongly on t (a random offset per step), so that a shifted t shows."""
    g = _gen(seed)
    w = _randn(g, d, d, dtype=dtype)
    offsets = _randn(g, T + 1, d, dtype=dtype)

    def eps_model(x, t):
        idx = torch.as_tensor(t).long().reshape(-1)
        return torch.tanh(x @ w.to(x.dtype)) + offsets.to(x.dtype)[idx]
    return eps_model


def _loss_probe(fn, case):
    """The loss, and its gradient w.r.t. the model's weight when the model is a torch module."""
    got = fn(*case.args, **case.kwargs)
    model = case.args[0]
    if not isinstance(model, torch.nn.Module):
        return got
    if not isinstance(got, torch.Tensor) or got.grad_fn is None:
        return {"value": got, "gradient": None}
    return {"value": got.detach(), "gradient": torch.autograd.grad(got, model.weight)[0]}


def _loss_compare(got, expected, case):
    if not isinstance(case.args[0], torch.nn.Module):
        return diagnose_close(got, expected, what="the loss")
    value, gradient = expected
    if not isinstance(got, dict) or set(got) != {"value", "gradient"}:
        return "the probe of your loss returned something unexpected."
    problem = diagnose_close(got["value"], value, what="the loss")
    if problem:
        return problem
    if got["gradient"] is None:
        return ("the loss carries no gradient to the model's parameters: build it with torch operations from "
                "the model's output (no .item(), .detach() or numpy)")
    return diagnose_close(got["gradient"], gradient, what="d loss / d weight")


def _loss_oracle(model, x0, t, noise, betas):
    ab = _abar(betas)[t].unsqueeze(1).to(x0.dtype)
    xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    return ((noise - model(xt, t)) ** 2).mean()


class _TimeLinear(torch.nn.Linear):
    """eps(x, t) = Linear(x) * (1 + t / 10): a module, so the probe can take the loss's gradient."""

    def forward(self, x, t):  # noqa: D401
        return super().forward(x) * (1 + torch.as_tensor(t).to(x.dtype).reshape(-1, 1) / 10)


@check("ddpm_loss", probe=_loss_probe, compare=_loss_compare,
       hint="Noise x_0 to x_t with YOUR q_sample (alpha_bar_t, the square roots), call the model at the same t, and "
            "take the mean over all entries of (noise - prediction)^2: the target is the noise, not x_0.")
def _ddpm_loss_cases():
    g = _gen(1450)
    betas = _betas(1451, 25)
    model = _eps_table(1452, 2, 25)
    x0, noise = _randn(g, 16, 2), _randn(g, 16, 2)
    t = torch.randint(1, 26, (16,), generator=g)
    yield Case("float64, T = 25, a model that depends on t", (model, x0, t, noise, betas),
               expected=_loss_oracle(model, x0, t, noise, betas))
    betas = _betas(1453, 8)
    x0, noise = _randn(g, 10, 3), _randn(g, 10, 3)
    t = torch.randint(1, 9, (10,), generator=g)
    model = _eps_table(1454, 3, 8)
    yield Case("3-D data, T = 8", (model, x0, t, noise, betas), expected=_loss_oracle(model, x0, t, noise, betas))
    lin = _TimeLinear(2, 2).double()
    with torch.no_grad():
        lin.weight.copy_(_randn(g, 2, 2))
        lin.bias.copy_(_randn(g, 2))
    x0, noise = _randn(g, 12, 2), _randn(g, 12, 2)
    t = torch.randint(1, 26, (12,), generator=g)
    betas = _betas(1456, 25)
    loss = _loss_oracle(lin, x0, t, noise, betas)
    yield Case("a torch module: the value and its gradient w.r.t. the weight", (lin, x0, t, noise, betas),
               expected=(loss.detach(), torch.autograd.grad(loss, lin.weight)[0]))


def _ddpm_oracle(eps_model, x_T, noises, betas):
    """Ancestral sampling written as mean and standard deviation of the posterior with x0 predicted."""
    b = betas.to(F64)
    ab = _abar(b)
    x = x_T.to(F64)
    T = b.shape[0] - 1
    for t in range(T, 0, -1):
        eps = eps_model(x, torch.full((x.shape[0],), t, dtype=torch.long)).to(F64)
        x0_hat = (x - (1 - ab[t]).sqrt() * eps) / ab[t].sqrt()
        if t == 1:
            x = x0_hat
            continue
        var = 1 / (1 / (1 - ab[t - 1]) + (1 - b[t]) / b[t])
        mean = var * (ab[t - 1].sqrt() * x0_hat / (1 - ab[t - 1]) + (1 - b[t]).sqrt() / b[t] * x)
        x = mean + var.sqrt() * noises[t - 1].to(F64)
    return x.to(x_T.dtype)


def _sampler_setup(seed, n, d, T, dtype=F64, schedule=None):
    g = _gen(seed)
    betas = _betas(seed + 1, T).to(dtype) if schedule is None else schedule.to(dtype)
    return _eps_table(seed + 2, d, T, dtype), _randn(g, n, d, dtype=dtype), _randn(g, T, n, d, dtype=dtype), betas


@check("ddpm_sample",
       hint="x_{t-1} = (x_t - beta_t / sqrt(1 - alpha_bar_t) * eps) / sqrt(alpha_t) + sigma_t z with sigma_t^2 = "
            "beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t): a standard DEVIATION multiplies the noise, "
            "alpha_bar (not alpha) under the eps term, the model called at t, noise noises[t - 1].")
def _ddpm_sample_cases():
    for label, seed, n, d, T, dtype, schedule in [
            ("T = 5, 2-D, float64 (oracle: posterior mean with x0 predicted)", 1460, 6, 2, 5, F64, None),
            ("T = 20, 3-D", 1461, 4, 3, 20, F64, None),
            ("T = 1: one deterministic step", 1462, 5, 2, 1, F64, None),
            ("the chapter's schedule, T = 100", 1463, 8, 2, 100, F64, linear_betas(100, 1e-3, 0.1)),
            ("float32, T = 10", 1464, 6, 2, 10, F32, None)]:
        eps_model, x_T, noises, betas = _sampler_setup(seed, n, d, T, dtype, schedule)
        yield Case(label, (eps_model, x_T, noises, betas), expected=_ddpm_oracle(eps_model, x_T, noises, betas))


def _ddim_oracle(eps_model, x_T, betas, timesteps):
    ab = _abar(betas)
    x = x_T.to(F64)
    steps = [0] + [int(s) for s in timesteps]
    for i in range(len(steps) - 1, 0, -1):
        t, prev = steps[i], steps[i - 1]
        eps = eps_model(x, torch.full((x.shape[0],), t, dtype=torch.long)).to(F64)
        x0_hat = (x - (1 - ab[t]).sqrt() * eps) / ab[t].sqrt()
        x = ab[prev].sqrt() * x0_hat + (1 - ab[prev]).sqrt() * eps
    return x.to(x_T.dtype)


@check("ddim_sample",
       hint="Each step predicts x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t), then moves to the "
            "PREVIOUS entry of timesteps (0 after the first): sqrt(alpha_bar_prev) x0_hat + sqrt(1 - alpha_bar_prev) eps. "
            "In the DDIM paper's notation alpha means our alpha_bar.")
def _ddim_sample_cases():
    for label, seed, n, d, T, steps, dtype in [
            ("every step, T = 10", 1470, 6, 2, 10, list(range(1, 11)), F64),
            ("strided: 5, 10, ..., 50", 1471, 5, 2, 50, list(range(5, 51, 5)), F64),
            ("one jump from T = 30 to 0", 1472, 4, 3, 30, [30], F64),
            ("irregular steps 1, 4, 9, 16, 25", 1473, 5, 2, 25, [1, 4, 9, 16, 25], F64),
            ("float32, steps 2, 4, ..., 20", 1474, 6, 2, 20, list(range(2, 21, 2)), F32)]:
        eps_model, x_T, _, betas = _sampler_setup(seed, n, d, T, dtype)
        ts = torch.tensor(steps)
        yield Case(label, (eps_model, x_T, betas, ts), expected=_ddim_oracle(eps_model, x_T, betas, ts))


@check("guided_eps",
       hint="The course's convention: eps_uncond + w * (eps_cond - eps_uncond), so w = 0 is the unconditional "
            "prediction and w = 1 the conditional one (the textbook's (1 + w) form shifts w by one).")
def _guided_eps_cases():
    g = _gen(1480)
    c, u = _randn(g, 5, 2), _randn(g, 5, 2)
    yield Case("w = 0 gives the unconditional prediction", (c, u, 0.0), expected=u.clone())
    yield Case("w = 1 gives the conditional prediction", (c, u, 1.0), expected=c.clone())
    for w in (3.0, 0.5, 7.5):
        yield Case(f"w = {w}", (c, u, w), expected=u + w * (c - u))
    c32, u32 = _randn(g, 4, 3, dtype=F32), _randn(g, 4, 3, dtype=F32)
    yield Case("float32, w = 2", (c32, u32, 2.0), expected=u32 + 2.0 * (c32 - u32))


# ----------------------------------------------------------------------------- scores and Langevin

def _gmm_score_oracle(x, weights, means, covs):
    """Autograd of the log-sum-exp mixture density, in float64."""
    xr = x.detach().to(F64).requires_grad_(True)
    dist = torch.distributions.MultivariateNormal(means.to(F64), covariance_matrix=covs.to(F64))
    logp = torch.logsumexp(torch.log(weights.to(F64)) + dist.log_prob(xr.unsqueeze(1)), dim=1)
    return torch.autograd.grad(logp.sum(), xr)[0].to(x.dtype)


def _random_spd(g, k, d, scale=0.5):
    a = _randn(g, k, d, d) * scale
    return a @ a.transpose(1, 2) + 0.2 * torch.eye(d, dtype=F64)


@check("gmm_score", by_hand=True,
       hint="grad log p = sum_k r_k(x) Sigma_k^{-1} (mu_k - x), with responsibilities r_k proportional to "
            "w_k N(x; mu_k, Sigma_k) INCLUDING the weights and each component's determinant; compute them with a "
            "softmax of log-weights + log-densities, so that points far from every mode do not give 0 / 0.")
def _gmm_score_cases():
    g = _gen(1490)
    x = _randn(g, 5, 1)
    yield Case("one 1-D Gaussian N(0.5, 2): score = -(x - 0.5) / 2",
               (x, torch.tensor([1.0], dtype=F64), torch.tensor([[0.5]], dtype=F64), torch.tensor([[[2.0]]], dtype=F64)),
               expected=-(x - 0.5) / 2)
    weights = torch.tensor([0.7, 0.2, 0.1], dtype=F64)
    means, covs = _randn(g, 3, 2) * 2, _random_spd(g, 3, 2)
    x = _randn(g, 10, 2) * 2
    yield Case("3 components in 2-D, unequal weights and full covariances", (x, weights, means, covs),
               expected=_gmm_score_oracle(x, weights, means, covs))
    mix = ring_mixture()
    x = _randn(g, 12, 2) * 2
    yield Case("the chapter's ring mixture", (x, mix.weights, mix.means, mix.covs),
               expected=_gmm_score_oracle(x, mix.weights, mix.means, mix.covs))
    w2 = torch.tensor([0.9, 0.1], dtype=F64)
    m2 = torch.tensor([[-1.0, 0.0], [1.0, 0.0]], dtype=F64)
    c2 = torch.stack([torch.eye(2, dtype=F64) * 0.3, torch.eye(2, dtype=F64) * 0.3])
    x = torch.tensor([[0.0, 0.0], [0.1, 0.5], [-0.2, -0.3]], dtype=F64)
    yield Case("between two equal-shaped modes, weights 0.9 / 0.1", (x, w2, m2, c2),
               expected=_gmm_score_oracle(x, w2, m2, c2))
    x = torch.tensor([[40.0, -35.0], [60.0, 60.0]], dtype=F64)
    yield Case("points far from every mode (densities underflow)", (x, weights, means, covs),
               expected=_gmm_score_oracle(x, weights, means, covs))
    w3 = torch.softmax(_randn(g, 4), 0)
    m3, c3 = _randn(g, 4, 3), _random_spd(g, 4, 3)
    x = _randn(g, 6, 3)
    yield Case("4 components in 3-D", (x, w3, m3, c3), expected=_gmm_score_oracle(x, w3, m3, c3))
    x32 = _randn(g, 5, 2, dtype=F32)
    yield Case("float32 points", (x32, weights.float(), means.float(), covs.float()),
               expected=_gmm_score_oracle(x32, weights, means, covs))


def _langevin_oracle(score_fn, x, step, noises):
    x = x.to(F64)
    for z in noises:
        x = x + step * score_fn(x) + math.sqrt(2 * step) * z.to(F64)
    return x


@check("langevin_sample",
       hint="x <- x + step_size * score(x) + sqrt(2 * step_size) * z, with z = noises[k] at step k: the score is "
            "added (uphill in log p), and the noise has standard deviation sqrt(2 step_size).")
def _langevin_sample_cases():
    g = _gen(1495)
    mu, var = torch.tensor([1.0, -2.0], dtype=F64), 0.5

    def gauss_score(x):
        return -(x - mu.to(x.dtype)) / var
    x, noises = _randn(g, 6, 2), _randn(g, 25, 6, 2)
    yield Case("Gaussian score, 25 steps of 0.05", (gauss_score, x, 0.05, noises),
               expected=_langevin_oracle(gauss_score, x, 0.05, noises))
    net = _mlp(1496, 3, 1.0)
    x, noises = _randn(g, 4, 3), _randn(g, 10, 4, 3)
    yield Case("a nonlinear score field, 10 steps of 0.2", (net, x, 0.2, noises),
               expected=_langevin_oracle(net, x, 0.2, noises))
    x = _randn(g, 3, 2)
    yield Case("no steps returns the start", (gauss_score, x, 0.1, torch.zeros(0, 3, 2, dtype=F64)), expected=x.clone())
    x32, noises32 = _randn(g, 5, 2, dtype=F32), _randn(g, 8, 5, 2, dtype=F32)
    yield Case("float32, 8 steps of 0.01", (gauss_score, x32, 0.01, noises32),
               expected=_langevin_oracle(gauss_score, x32, 0.01, noises32).float())


# ----------------------------------------------------------------------------- masked convolution

def _raster_mask(k, mask_type):
    """mask[i, j] = 1 iff tap (i, j) comes before the centre in raster order (or is the centre, type B)."""
    c = k // 2
    mask = torch.zeros(k, k, dtype=F64)
    for i in range(k):
        for j in range(k):
            before = i < c or (i == c and j < c)
            mask[i, j] = 1.0 if before or (mask_type == "B" and i == c and j == c) else 0.0
    return mask


def _masked_conv_oracle(x, weight, bias, mask_type):
    k = weight.shape[-1]
    out = F.conv2d(x.to(F64), weight.to(F64) * _raster_mask(k, mask_type),
                   None if bias is None else bias.to(F64), padding=k // 2)
    return out.to(x.dtype)


@check("masked_conv2d",
       hint="Raster order: a pixel may see the rows above it and, in its own row, the pixels to its LEFT; type A "
            "also hides the centre tap (the pixel itself), type B keeps it. Same padding k // 2, stride 1.")
def _masked_conv2d_cases():
    g = _gen(1500)
    for label, n, cin, cout, h, w, k, mask_type, with_bias, dtype in [
            ("type A, 3x3, 1 -> 4 channels on 8x8", 2, 1, 4, 8, 8, 3, "A", True, F64),
            ("type B, 3x3, 4 -> 4 channels", 2, 4, 4, 8, 8, 3, "B", True, F64),
            ("type A, 5x5, no bias, 6x7 image", 1, 2, 3, 6, 7, 5, "A", False, F64),
            ("type B, 7x7, 3 -> 2 channels", 2, 3, 2, 9, 9, 7, "B", True, F64),
            ("type A, 1x1 kernel: everything masked but the bias", 1, 2, 2, 4, 4, 1, "A", True, F64),
            ("float32, type B, 3x3", 3, 2, 5, 8, 8, 3, "B", True, F32)]:
        x = _randn(g, n, cin, h, w, dtype=dtype)
        weight = _randn(g, cout, cin, k, k, dtype=dtype)
        bias = _randn(g, cout, dtype=dtype) if with_bias else None
        yield Case(label, (x, weight, bias, mask_type), expected=_masked_conv_oracle(x, weight, bias, mask_type))


# ----------------------------------------------------------------------------- make it work

MIW_T = 100
MIW_N_TRAIN = 2000
MIW_N_SAMPLES = 2000
MIW_THRESHOLD = 0.006
"""The squared MMD (course.generative.mmd2) the samples must stay below; the reference reaches 0.0006-0.002,
a single Gaussian fitted to the data 0.19, a model trained with alpha for alpha-bar about 0.015."""


def _miw_probe(fns, case):
    """In the kernel: train with the student's train_diffusion, sample with the student's ddpm_sample."""
    train, sampler = fns
    x_train, betas, seed = case.args
    model = train(x_train, betas, seed)
    g = torch.Generator().manual_seed(case.spec)
    x_T = torch.randn(MIW_N_SAMPLES, 2, generator=g)
    noises = torch.randn(MIW_T, MIW_N_SAMPLES, 2, generator=g)
    with torch.no_grad():
        samples = sampler(model, x_T, noises, betas)
    return samples.detach() if isinstance(samples, torch.Tensor) else samples


def _miw_compare(got, expected, case):
    held_out = expected
    if not isinstance(got, torch.Tensor):
        return f"the samples should be a tensor of shape ({MIW_N_SAMPLES}, 2), got {type(got).__name__}."
    if tuple(got.shape) != (MIW_N_SAMPLES, 2):
        return f"the samples have shape {tuple(got.shape)}, expected ({MIW_N_SAMPLES}, 2)."
    samples = got.to(F64)
    if not torch.isfinite(samples).all():
        return "some samples are NaN or infinite."
    x_train = case.args[0].to(F64)
    nearest = torch.cdist(samples, x_train).min(dim=1).values
    copied = float((nearest < 1e-4).double().mean())
    if copied > 0.05:
        return (f"{copied:.0%} of the samples coincide with training points: the model must generate new "
                "points, not return the training data.")
    score = mmd2(samples, held_out)
    if score > MIW_THRESHOLD:
        return (f"squared MMD to held-out data = {score:.4f}, above the target {MIW_THRESHOLD} (a single Gaussian "
                f"fitted to the data scores about 0.19).")
    return None


@check("train_diffusion", probe=_miw_probe, compare=_miw_compare,
       hint="Train on ddpm_loss with t uniform in 1..T and fresh noise each step (a few thousand Adam steps, a "
            "small MLP that sees t); a model trained with alpha_t where alpha_bar_t belongs cannot denoise.")
def _train_diffusion_cases():
    mix = ring_mixture()
    x_train = mix.sample(MIW_N_TRAIN, _gen(14_101))
    held_out = mix.sample(4000, _gen(14_977))
    yield Case("the ring mixture, 2000 training points, seed 3, T = 100",
               (x_train, linear_betas(MIW_T, 1e-3, 0.1).float(), 3), expected=held_out, spec=14_555)


# ----------------------------------------------------------------------------- concept questions

def _answer_probe(fn, case):
    return fn()


def _answer_compare(got, expected, case):
    if not isinstance(got, str) or got.strip().lower() not in case.spec:
        return f"the answer should be one of the letters {', '.join(repr(s) for s in case.spec)}."
    if got.strip().lower() != expected:
        return "that is not the right answer; reread the section and the hints."
    return None


for _name, _answer, _options in [("concept_exact_likelihood", "b", ("a", "b", "c", "d")),
                                 ("concept_mixture_weights", "c", ("a", "b", "c", "d")),
                                 ("concept_ddim_steps", "a", ("a", "b", "c", "d"))]:
    check(_name, probe=_answer_probe, compare=_answer_compare)(
        (lambda answer, options: lambda: iter([Case("the answer", expected=answer, spec=options)]))(_answer, _options))
