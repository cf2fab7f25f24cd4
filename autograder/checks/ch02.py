"""Hidden checks of chapter 02 (entropy, KL, Fisher, mutual information).

Every case is built so that the classic slips land far outside the tolerance: bits against nats (the
cases pass ``base`` both ways), ``D(p||q)`` against ``D(q||p)`` (asymmetric pairs), ``0 log 0`` (zeros in
``p``), supports that do not match (``inf``), variance against standard deviation (variances far from
1), the factor 2 in SNE's kernel (the bandwidths are compared), the side of the stationary eigenvector
(chains that are not doubly stochastic), and the compression task is judged on held-out sequences drawn
here, with the code's validity (Kraft) checked here too.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from autograder.checks import Case, check, close
from course.checks import as_array, diagnose_close
from course.information import SOURCE, block_code_bits, kraft_sums, markov_sequence
from solutions_lib import information as ref

F64 = torch.float64
LN2 = math.log(2.0)


def _close_with_inf(rtol: float | None = None, atol: float | None = None):
    """``close`` that also insists on infinities where the expected value has them (and only there)."""
    def compare(got, expected, case: Case) -> str | None:
        try:
            g, e = as_array(got).astype(np.float64), as_array(expected).astype(np.float64)
        except (TypeError, ValueError):
            g = e = None
        if g is not None and g.size == e.size:
            g, e = g.reshape(e.shape), e
            wrong = (np.isinf(e) != np.isinf(g)) | (np.isinf(e) & (np.sign(g) != np.sign(e)))
            if wrong.any():
                idx = tuple(int(i) for i in np.argwhere(wrong)[0]) if wrong.ndim else ()
                return (f"the output should be {e[idx]} at index {idx}, got {g[idx]} "
                        "(an infinite divergence is not a large number).")
        return diagnose_close(got, expected, what="the output", rtol=rtol, atol=atol)
    return compare


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _simplex(*shape, generator, dtype=F64, zeros=0.0):
    """Random distributions along the last dimension (a share ``zeros`` of entries set to 0)."""
    w = -torch.log(torch.rand(*shape, generator=generator, dtype=F64))
    if zeros:
        w = w * (torch.rand(*shape, generator=generator, dtype=F64) > zeros)
        w[..., 0] += 0.1  # never an all-zero row
    return (w / w.sum(dim=-1, keepdim=True)).to(dtype)


# -- entropy, cross-entropy, KL -----------------------------------------------------------------------------

@check("entropy", reference=ref.entropy,
       hint="-sum p log p along `dim`, 0 log 0 = 0 (no nan), and divide by log(base) for another base.")
def _entropy_cases():
    g = _gen(201)
    yield Case("float64 distribution over 9 outcomes, nats", (_simplex(9, generator=g),))
    yield Case("same in bits (base=2)", (_simplex(9, generator=g),), {"base": 2})
    yield Case("float32 batch (5, 7), default dim", (_simplex(5, 7, generator=g, dtype=torch.float32),))
    yield Case("batch (4, 6) with zeros (0 log 0 = 0), base 2", (_simplex(4, 6, generator=g, zeros=0.5),), {"base": 2})
    yield Case("distributions along dim=0 (6, 3)", (_simplex(3, 6, generator=g).T.contiguous(),), {"dim": 0})
    yield Case("base 10, (2, 5, 4) along dim=1",
               (_simplex(2, 4, 5, generator=g).transpose(1, 2).contiguous(),), {"dim": 1, "base": 10})
    yield Case("a certain outcome has zero entropy", (torch.tensor([0.0, 1.0, 0.0], dtype=F64),),
               expected=torch.tensor(0.0, dtype=F64))
    yield Case("uniform over 8 is 3 bits", (torch.full((8,), 0.125, dtype=F64),), {"base": 2},
               expected=torch.tensor(3.0, dtype=F64))


@check("log_count_per_symbol", reference=ref.log_count_per_symbol,
       hint="log(n choose k) / n in nats, exactly: use log-gamma, log(m!) = lgamma(m + 1); no Stirling.")
def _log_count_cases():
    yield Case("n = 10, k = 3", (torch.tensor(10), torch.tensor(3)))
    yield Case("n = 4, k = 2: log(6) / 4", (torch.tensor(4), torch.tensor(2)), expected=math.log(6) / 4)
    yield Case("n = 1, 2, 5, 20 with k = 1", (torch.tensor([1, 2, 5, 20]), torch.tensor(1)))
    n = torch.tensor([10, 100, 1000, 10**5, 10**6])
    yield Case("n up to 10**6, k = 0.3 n (factorials overflow)", (n, (3 * n) // 10))
    yield Case("k = 0 and k = n give 0", (torch.tensor([7, 7]), torch.tensor([0, 7])),
               expected=torch.zeros(2, dtype=F64))
    yield Case("float64 arguments, broadcast (3, 1) against (1, 4)",
               (torch.tensor([[12.0], [40.0], [64.0]], dtype=F64), torch.tensor([[1.0, 2.0, 6.0, 12.0]], dtype=F64)))


@check("distribution_cross_entropy", reference=ref.distribution_cross_entropy, compare=_close_with_inf(),
       hint="-sum p log q along `dim`: the expectation is over p, terms with p = 0 are 0, "
            "p > 0 where q = 0 gives inf; divide by log(base).")
def _cross_entropy_cases():
    g = _gen(202)
    yield Case("float64 (8,), nats", (_simplex(8, generator=g), _simplex(8, generator=g)))
    yield Case("float64 (8,), bits", (_simplex(8, generator=g), _simplex(8, generator=g)), {"base": 2})
    yield Case("float32 batch (4, 5)", (_simplex(4, 5, generator=g, dtype=torch.float32),
                                         _simplex(4, 5, generator=g, dtype=torch.float32)))
    yield Case("p has zeros where q has zeros (finite)",
               (torch.tensor([0.5, 0.5, 0.0], dtype=F64), torch.tensor([0.25, 0.75, 0.0], dtype=F64)), {"base": 2})
    yield Case("q is 0 where p is not: inf",
               (torch.tensor([0.5, 0.5], dtype=F64), torch.tensor([1.0, 0.0], dtype=F64)),
               expected=torch.tensor(math.inf, dtype=F64))
    yield Case("q (5,) broadcast against p (3, 5)", (_simplex(3, 5, generator=g), _simplex(5, generator=g)))
    yield Case("along dim=0", (_simplex(3, 4, generator=g).T.contiguous(), _simplex(3, 4, generator=g).T.contiguous()),
               {"dim": 0})


@check("kl_divergence", reference=ref.kl_divergence, compare=_close_with_inf(),
       hint="sum p log(p / q): the expectation is over the first argument p; terms with p = 0 are 0 even "
            "where q = 0; p > 0 = q gives inf (no epsilon); divide by log(base).")
def _kl_cases():
    g = _gen(203)
    yield Case("float64 (6,), nats, p and q far apart", (_simplex(6, generator=g), _simplex(6, generator=g) ** 3 /
                                                        (_simplex(6, generator=g) ** 3).sum()))
    p = torch.tensor([0.7, 0.2, 0.1], dtype=F64)
    q = torch.tensor([0.1, 0.3, 0.6], dtype=F64)
    yield Case("asymmetric pair, bits", (p, q), {"base": 2})
    yield Case("the same pair swapped, bits", (q, p), {"base": 2})
    yield Case("float32 batch (5, 4)", (_simplex(5, 4, generator=g, dtype=torch.float32),
                                         _simplex(5, 4, generator=g, dtype=torch.float32)))
    yield Case("p has zeros (also where q is 0): finite",
               (torch.tensor([0.0, 0.5, 0.5, 0.0], dtype=F64), torch.tensor([0.0, 0.25, 0.25, 0.5], dtype=F64)),
               expected=torch.tensor(math.log(2), dtype=F64))
    yield Case("supports do not match: inf",
               (torch.tensor([0.5, 0.25, 0.25], dtype=F64), torch.tensor([0.5, 0.5, 0.0], dtype=F64)),
               expected=torch.tensor(math.inf, dtype=F64))
    yield Case("a batch mixing finite and infinite rows",
               (torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]], dtype=F64),
                torch.tensor([[0.9, 0.1, 0.0], [0.5, 0.5, 0.0]], dtype=F64)), {"base": 2})
    yield Case("p = q gives 0", (p, p.clone()), expected=torch.tensor(0.0, dtype=F64))
    yield Case("along dim=0, base 10", (_simplex(2, 5, generator=g).T.contiguous(),
                                         _simplex(2, 5, generator=g).T.contiguous()), {"dim": 0, "base": 10})


# -- Gaussians -------------------------------------------------------------------------------------------------

def _normal_params(g, *shape, dtype=F64):
    mu = (3 * torch.randn(*shape, generator=g, dtype=F64)).to(dtype)
    var = (0.05 + 4 * torch.rand(*shape, generator=g, dtype=F64)).to(dtype)
    return mu, var


def _torch_normal_kl(mu_p, var_p, mu_q, var_q):
    d = torch.distributions
    return d.kl_divergence(d.Normal(mu_p.to(F64), var_p.to(F64).sqrt()), d.Normal(mu_q.to(F64), var_q.to(F64).sqrt()))


@check("normal_cross_entropy", reference=ref.normal_cross_entropy,
       hint="Split x - mu_q into (x - mu_p) + (mu_p - mu_q): the expected square has a spread part and an "
            "offset part. The arguments are variances, not standard deviations.")
def _normal_ce_cases():
    g = _gen(204)
    mp, vp = _normal_params(g, 6)
    mq, vq = _normal_params(g, 6)
    yield Case("float64 (6,) pairs", (mp, vp, mq, vq))
    yield Case("the same pairs swapped", (mq, vq, mp, vp))
    mp, vp = _normal_params(g, 3, 1)
    mq, vq = _normal_params(g, 1, 4)
    yield Case("broadcast (3, 1) against (1, 4)", (mp, vp, mq, vq))
    mp, vp = _normal_params(g, 5, dtype=torch.float32)
    mq, vq = _normal_params(g, 5, dtype=torch.float32)
    yield Case("float32 (5,)", (mp, vp, mq, vq))
    one = torch.tensor(1.0, dtype=F64)
    yield Case("p = q = N(0, 1): the entropy log(2 pi e)/2",
               (0 * one, one, 0 * one, one), expected=0.5 * math.log(2 * math.pi * math.e))
    yield Case("p = N(0, 9), q = N(2, 0.25)", (0 * one, 9 * one, 2 * one, 0.25 * one),
               expected=0.5 * math.log(2 * math.pi * 0.25) + (9 + 4) / 0.5)


@check("normal_kl", reference=ref.normal_kl,
       hint="D(p||q) = cross-entropy H(p, q) minus the entropy H(p) of p; expectation under the first Gaussian. "
            "Arguments are variances.")
def _normal_kl_cases():
    g = _gen(205)
    mp, vp = _normal_params(g, 7)
    mq, vq = _normal_params(g, 7)
    yield Case("float64 (7,) (oracle torch.distributions)", (mp, vp, mq, vq), expected=_torch_normal_kl(mp, vp, mq, vq))
    yield Case("the same pairs swapped", (mq, vq, mp, vp), expected=_torch_normal_kl(mq, vq, mp, vp))
    mp, vp = _normal_params(g, 2, 1, 3)
    mq, vq = _normal_params(g, 4, 1)
    yield Case("broadcast (2, 1, 3) against (4, 1)", (mp, vp, mq, vq))
    mp, vp = _normal_params(g, 5, dtype=torch.float32)
    mq, vq = _normal_params(g, 5, dtype=torch.float32)
    yield Case("float32 (5,)", (mp, vp, mq, vq))
    one = torch.tensor(1.0, dtype=F64)
    yield Case("identical Gaussians give 0", (one, 2.5 * one, one, 2.5 * one), expected=0.0)
    yield Case("Kaplan's (2.3.13): D(N(0,1) || N(1, 4))", (0 * one, one, one, 4 * one),
               expected=1 / 8 + 1 / 8 - 0.5 + math.log(2))
    yield Case("same means, variances 0.01 and 1", (one, 0.01 * one, one, one))


@check("conditional_entropy", reference=ref.conditional_entropy,
       hint="-sum p(x,y) log p(x|y) with p(x|y) = p(x,y) / p(y): y is the COLUMN index (sum each column for p(y)); "
            "normalize counts first; empty cells contribute 0.")
def _conditional_entropy_cases():
    g = _gen(213)
    yield Case("float64 probabilities (3, 5), nats", (_simplex(15, generator=g).reshape(3, 5),))
    yield Case("float64 probabilities (4, 2), bits", (_simplex(8, generator=g).reshape(4, 2),), {"base": 2})
    yield Case("a table of counts (3, 4)", (torch.randint(1, 25, (3, 4), generator=g).to(F64),))
    yield Case("float32 probabilities (5, 3)", (_simplex(15, generator=g, dtype=torch.float32).reshape(5, 3),))
    yield Case("X a function of Y (one non-empty cell per column): 0",
               (torch.tensor([[0.2, 0.0, 0.3], [0.0, 0.5, 0.0]], dtype=F64),), expected=0.0)
    px, py = _simplex(4, generator=g), _simplex(3, generator=g)
    yield Case("independent: H(X | Y) = H(X)", (px[:, None] * py[None, :],), {"base": 2},
               expected=ref.entropy(px, base=2))
    skew = torch.tensor([[0.5, 0.1, 0.0], [0.0, 0.1, 0.05], [0.05, 0.0, 0.2]], dtype=F64)
    yield Case("sparse (3, 3) table", (skew,))
    yield Case("the same table transposed (H(Y | X) of the original)", (skew.T.contiguous(),))


@check("mutual_information", reference=ref.mutual_information,
       hint="sum p(x,y) log(p(x,y) / (p(x) p(y))) after normalizing the table; p(x) sums over y (the columns), "
            "p(y) over x; empty cells contribute 0.")
def _mi_cases():
    g = _gen(206)
    yield Case("float64 probabilities (4, 4)", (_simplex(16, generator=g).reshape(4, 4),))
    yield Case("float64 probabilities (3, 5), bits", (_simplex(15, generator=g).reshape(3, 5),), {"base": 2})
    counts = torch.randint(0, 30, (5, 3), generator=g).to(F64)
    yield Case("a table of counts (5, 3) (normalize first)", (counts,))
    yield Case("float32 probabilities (6, 2)", (_simplex(12, generator=g, dtype=torch.float32).reshape(6, 2),))
    px, py = _simplex(4, generator=g), _simplex(3, generator=g)
    yield Case("independent variables give 0", (px[:, None] * py[None, :],), expected=0.0)
    yield Case("Y = X on 4 equally likely values: 2 bits", (torch.eye(4, dtype=F64) / 4,), {"base": 2}, expected=2.0)
    skew = torch.tensor([[0.5, 0.1, 0.0], [0.0, 0.1, 0.05], [0.05, 0.0, 0.2]], dtype=F64)
    yield Case("sparse, asymmetric (3, 3) table with empty cells", (skew,))
    yield Case("the same table transposed (I is symmetric)", (skew.T.contiguous(),), expected=ref.mutual_information(skew))


# -- Fisher information ----------------------------------------------------------------------------------------

@check("normal_fisher", reference=ref.normal_fisher, by_hand=True,
       hint="F = E[score score^T] with score = gradient of log N(x; mu, sigma^2) in (mu, second parameter); "
            "the second parameter is sigma, sigma^2 or log sigma as `param` says.")
def _normal_fisher_cases():
    g = _gen(207)
    yield Case("sigma = 0.5, param sigma", (torch.tensor(0.5, dtype=F64),))
    yield Case("sigma = 0.5, param var", (torch.tensor(0.5, dtype=F64),), {"param": "var"})
    yield Case("sigma = 0.5, param log_sigma", (torch.tensor(0.5, dtype=F64), "log_sigma"))
    sig = 0.2 + 3 * torch.rand(5, generator=g, dtype=F64)
    for param in ("sigma", "var", "log_sigma"):
        yield Case(f"sigma of shape (5,), param {param}", (sig, param))
    yield Case("float32 sigma of shape (2, 3), default param", ((0.3 + torch.rand(2, 3, generator=g)),))
    yield Case("sigma = 3, var: 1/(2 sigma^4)", (torch.tensor(3.0, dtype=F64), "var"),
               expected=torch.tensor([[1 / 9, 0.0], [0.0, 1 / 162]], dtype=F64))


def _kl_normal_mu_sigma(a, b):
    d = torch.distributions
    return d.kl_divergence(d.Normal(a[0], a[1]), d.Normal(b[0], b[1]))


def _kl_normal_mu_logsigma(a, b):
    d = torch.distributions
    return d.kl_divergence(d.Normal(a[0], a[1].exp()), d.Normal(b[0], b[1].exp()))


def _kl_bernoulli_logit(a, b):
    d = torch.distributions
    return d.kl_divergence(d.Bernoulli(logits=a[0]), d.Bernoulli(logits=b[0]))


def _kl_poisson_lograte(a, b):
    d = torch.distributions
    return d.kl_divergence(d.Poisson(a[0].exp()), d.Poisson(b[0].exp()))


def _kl_categorical_logits(a, b):
    d = torch.distributions
    return d.kl_divergence(d.Categorical(logits=a), d.Categorical(logits=b))


def _kl_mvn_mean(a, b):
    cov = torch.tensor([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 0.5]], dtype=a.dtype)
    d = torch.distributions
    return d.kl_divergence(d.MultivariateNormal(a, cov), d.MultivariateNormal(b, cov))


@check("fisher_from_kl", reference=ref.fisher_from_kl,
       hint="Differentiate twice with respect to the second argument only, theta -> kl(theta0, theta), and "
            "evaluate at theta = theta0 (the first argument stays fixed at theta0).")
def _fisher_from_kl_cases():
    yield Case("N(mu, sigma) at (0.5, 2)", (_kl_normal_mu_sigma, torch.tensor([0.5, 2.0], dtype=F64)),
               expected=torch.tensor([[0.25, 0.0], [0.0, 0.5]], dtype=F64))
    yield Case("N(mu, log sigma) at (-1, log 0.3)",
               (_kl_normal_mu_logsigma, torch.tensor([-1.0, math.log(0.3)], dtype=F64)))
    yield Case("Bernoulli in the logit at 1.3", (_kl_bernoulli_logit, torch.tensor([1.3], dtype=F64)))
    yield Case("Poisson in the log-rate at 0.7", (_kl_poisson_lograte, torch.tensor([0.7], dtype=F64)))
    yield Case("categorical logits (3,)", (_kl_categorical_logits, torch.tensor([0.2, -1.0, 0.9], dtype=F64)))
    yield Case("multivariate normal mean (3,): the inverse covariance",
               (_kl_mvn_mean, torch.tensor([1.0, -2.0, 0.5], dtype=F64)))


# -- maximum entropy -----------------------------------------------------------------------------------------

@check("max_entropy_distribution", reference=ref.max_entropy_distribution, compare=close(rtol=1e-5, atol=1e-7),
       hint="p_i proportional to exp(lambda . f_i); choose lambda so that the feature means hit the targets "
            "(the dual is convex: Newton steps with the feature covariance as Hessian); normalize with a "
            "max shift so large features do not overflow.")
def _max_ent_cases():
    faces = torch.arange(1.0, 7.0, dtype=F64)[:, None]
    yield Case("Jaynes' die: faces 1..6 with mean 4.5", (faces, torch.tensor([4.5], dtype=F64)))
    yield Case("a die with mean 2", (faces, torch.tensor([2.0], dtype=F64)))
    yield Case("mean 3.5 is the uniform die", (faces, torch.tensor([3.5], dtype=F64)),
               expected=torch.full((6,), 1 / 6, dtype=F64))
    x = torch.linspace(-4, 4, 161, dtype=F64)
    yield Case("grid on [-4, 4], mean 0.5 and second moment 1.25 (a Gaussian)",
               (torch.stack([x, x**2], dim=1), torch.tensor([0.5, 1.25], dtype=F64)))
    energies = torch.tensor([0.0, 1.0, 1.0, 2.5, 4.0, 7.0], dtype=F64)[:, None]
    yield Case("Boltzmann: energies with mean 1.2", (energies, torch.tensor([1.2], dtype=F64)))
    yield Case("features shifted by 10**4 (a naive exp underflows to 0 / 0)",
               (1e4 + energies, torch.tensor([1e4 + 1.2], dtype=F64)))
    yield Case("a die shifted by 10**4 with mean 10**4 + 5 (a naive exp overflows)",
               (1e4 + faces, torch.tensor([1e4 + 5.0], dtype=F64)))
    g = _gen(208)
    feats = torch.randn(12, 3, generator=g, dtype=F64)
    w = torch.softmax(torch.randn(12, generator=g, dtype=F64), dim=0)
    yield Case("12 points, 3 random features, attainable moments", (feats, w @ feats))
    yield Case("float32 features (die, mean 5)", (faces.float(), torch.tensor([5.0])))


# -- SNE -------------------------------------------------------------------------------------------------------

def _sne_compare(got, expected, case: Case) -> str | None:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return "return a pair (P, sigma)."
    P, sigma = (as_array(v).astype(np.float64) for v in got)
    P_ref, sigma_ref = (as_array(v).astype(np.float64) for v in expected)
    if P.shape != P_ref.shape or sigma.shape != sigma_ref.shape:
        return f"shapes {P.shape} and {sigma.shape}, expected {P_ref.shape} and {sigma_ref.shape}."
    if not np.all(np.isfinite(P)):
        return "P holds nan or inf (shift the squared distances before exponentiating)."
    if np.abs(np.diag(P)).max() > 0:
        return "p_{i|i} must be 0: a point is not its own neighbour."
    if np.abs(P.sum(axis=1) - 1).max() > 1e-6:
        return "each row i (the distribution p_{.|i}) must sum to 1."
    perp = np.exp(-np.sum(np.where(P > 0, P * np.log(np.where(P > 0, P, 1.0)), 0.0), axis=1))
    target = float(case.args[1])
    worst = np.abs(perp - target).max() / target
    if worst > 1e-3:
        return f"a row's perplexity is off by {worst:.2g} (relative) from the target {target}."
    return (diagnose_close(sigma, sigma_ref, what="sigma", rtol=1e-3, atol=0.0)
            or diagnose_close(P, P_ref, what="P", rtol=1e-2, atol=1e-5))


@check("sne_affinities", reference=ref.sne_affinities, compare=_sne_compare,
       hint="Row i: exp(-|x_i - x_j|^2 / (2 sigma_i^2)) over j != i, normalized; bisect on sigma_i until "
            "exp(entropy in nats) = 2^(entropy in bits) equals the perplexity.")
def _sne_cases():
    g = _gen(209)
    centres = torch.tensor([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]], dtype=F64)
    blobs = torch.cat([c + s * torch.randn(20, 2, generator=g, dtype=F64)
                       for c, s in zip(centres, (0.3, 1.0, 2.0))])
    yield Case("three blobs of different spread (60, 2), perplexity 8", (blobs, 8.0))
    yield Case("random (80, 10), perplexity 20", (torch.randn(80, 10, generator=g, dtype=F64), 20.0))
    yield Case("random (30, 3), perplexity 2.5", (torch.randn(30, 3, generator=g, dtype=F64), 2.5))
    yield Case("float32 (40, 4), perplexity 10", (torch.randn(40, 4, generator=g), 10.0))
    yield Case("points spread over 1000s of units (exp underflows without a shift), perplexity 5",
               (300.0 * torch.randn(25, 2, generator=g, dtype=F64), 5.0))
    cluster = torch.randn(20, 2, generator=g, dtype=F64)
    outlier = torch.tensor([[1e4, 0.0]], dtype=F64)
    yield Case("an outlier 10**4 away from a cluster, perplexity 3 (exp underflows without a shift)",
               (torch.cat([cluster, outlier]), 3.0))
    yield Case("points within 1e-3 of each other, perplexity 6", (1e-3 * torch.randn(35, 5, generator=g, dtype=F64), 6.0))


# -- Markov chains ---------------------------------------------------------------------------------------------

def _chain(g, S, power=1.0, dtype=F64):
    """A random transition matrix; a larger ``power`` makes the rows more uneven."""
    w = torch.rand(S, S, generator=g, dtype=F64) ** power + 1e-3
    return (w / w.sum(dim=1, keepdim=True)).to(dtype)


@check("stationary_distribution", reference=ref.stationary_distribution, compare=close(rtol=1e-6, atol=1e-8),
       hint="pi A = pi: pi is a LEFT eigenvector of A (an eigenvector of A.T) for eigenvalue 1, scaled to sum to 1. "
            "A's right eigenvector for eigenvalue 1 is the constant vector, whatever the chain.")
def _stationary_cases():
    g = _gen(210)
    yield Case("2 states, [[0.9, 0.1], [0.5, 0.5]]", (torch.tensor([[0.9, 0.1], [0.5, 0.5]], dtype=F64),),
               expected=torch.tensor([5 / 6, 1 / 6], dtype=F64))
    yield Case("the chapter's source", (SOURCE.clone(),))
    yield Case("random 6-state chain", (_chain(g, 6),))
    yield Case("random 10-state chain, sparse rows", (_chain(g, 10, 4.0),))
    yield Case("float32 random 4-state chain", (_chain(g, 4, dtype=torch.float32),))
    yield Case("a chain with zeros: 0 -> 1 -> 2 -> 0 or stay",
               (torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.2, 0.8], [0.9, 0.0, 0.1]], dtype=F64),))


@check("entropy_rate", reference=ref.entropy_rate,
       hint="Average the entropy of each row (the next state given the current one) with the stationary "
            "weights pi (a left eigenvector), 0 log 0 = 0, divided by log(base).")
def _entropy_rate_cases():
    g = _gen(211)
    yield Case("the chapter's source, bits", (SOURCE.clone(), 2))
    yield Case("the chapter's source, nats (default)", (SOURCE.clone(),))
    yield Case("random 5-state chain, bits", (_chain(g, 5),), {"base": 2})
    yield Case("float32 random 4-state chain", (_chain(g, 4, dtype=torch.float32),))
    yield Case("a chain with zeros, bits",
               (torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.2, 0.8], [0.9, 0.0, 0.1]], dtype=F64),), {"base": 2})
    yield Case("i.i.d. rows: the entropy of the row", (torch.tensor([[0.5, 0.25, 0.25]] * 3, dtype=F64), 2),
               expected=1.5)


# -- codes -----------------------------------------------------------------------------------------------------

def _huffman_compare(got, expected, case: Case) -> str | None:
    lengths = as_array(got)
    ref_lengths = as_array(expected)
    if lengths.shape != ref_lengths.shape:
        return f"shape {lengths.shape}, expected {ref_lengths.shape}."
    lengths = lengths.astype(np.float64)
    if not np.all(np.isfinite(lengths)) or np.any(lengths != np.round(lengths)) or np.any(lengths < 1):
        return f"lengths must be whole numbers of bits, at least 1; got {lengths.tolist()[:8]}."
    kraft = float(np.sum(2.0 ** -lengths))
    if kraft > 1 + 1e-12:
        return f"no prefix code has these lengths: sum 2^-l = {kraft:.4g} > 1 (Kraft)."
    p = as_array(case.args[0]).astype(np.float64)
    p = p / p.sum()
    mean, best = float(p @ lengths), float(p @ ref_lengths.astype(np.float64))
    if mean > best + 1e-9:
        return f"expected length {mean:.6g} bits, but a Huffman code reaches {best:.6g}."
    return None


@check("huffman_code_lengths", reference=ref.huffman_code_lengths, compare=_huffman_compare,
       hint="Merge the two LIGHTEST subtrees each time; every merge adds one bit to every symbol in both.")
def _huffman_cases():
    g = _gen(212)
    yield Case("dyadic (1/2, 1/4, 1/8, 1/8)", (torch.tensor([0.5, 0.25, 0.125, 0.125], dtype=F64),))
    yield Case("two symbols (0.9, 0.1)", (torch.tensor([0.9, 0.1], dtype=F64),))
    yield Case("random 10 symbols", (_simplex(10, generator=g),))
    yield Case("Zipf over 60 symbols", ((1.0 / torch.arange(1, 61, dtype=F64)) / (1.0 / torch.arange(1, 61, dtype=F64)).sum(),))
    yield Case("unnormalized counts (7,)", (torch.tensor([40.0, 3.0, 3.0, 10.0, 1.0, 22.0, 5.0], dtype=F64),))
    yield Case("zero-probability symbols still get codewords", (torch.tensor([0.6, 0.0, 0.3, 0.1, 0.0], dtype=F64),))
    yield Case("skewed (0.4, 0.35, 0.2, 0.05) (-log2 p rounded breaks Kraft)",
               (torch.tensor([0.4, 0.35, 0.2, 0.05], dtype=F64),))
    yield Case("float32 random 25 symbols", (_simplex(25, generator=g, dtype=torch.float32),))


COMPRESSION_MARGIN = 0.04
"""Bits per symbol above the entropy rate that the compression task allows (stated in the notebook)."""

_SOURCES = {
    "the chapter's 3-symbol source": SOURCE,
    "a binary source that mostly repeats": torch.tensor([[0.95, 0.05], [0.3, 0.7]], dtype=F64),
    "a 4-symbol source": torch.tensor([[0.6, 0.2, 0.1, 0.1], [0.1, 0.6, 0.2, 0.1],
                                       [0.1, 0.1, 0.6, 0.2], [0.3, 0.1, 0.1, 0.5]], dtype=F64),
}


def _compression_compare(got, expected, case: Case) -> str | None:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return "return a pair (block_size, lengths)."
    block_size, lengths = got
    S = int(case.args[1])
    try:
        block_size = int(block_size)
    except (TypeError, ValueError):
        return "block_size must be an int."
    if not 1 <= block_size <= 8 or S**block_size > 4096:
        return f"block_size {block_size} is outside 1..8 (or gives more than 4096 blocks)."
    lengths = as_array(lengths).astype(np.float64)
    if lengths.shape != (S, S**block_size):
        return f"lengths has shape {lengths.shape}, expected {(S, S**block_size)}."
    if not np.all(np.isfinite(lengths)) or np.any(lengths != np.round(lengths)) or np.any(lengths < 0):
        return "lengths must be non-negative whole numbers of bits."
    kraft = kraft_sums(torch.from_numpy(lengths))
    if float(kraft.max()) > 1 + 1e-12:
        return f"a row of lengths is no prefix code: sum 2^-l = {float(kraft.max()):.4g} > 1 (Kraft)."
    bits = block_code_bits(expected["held_out"], block_size, torch.from_numpy(lengths).long())
    if bits > expected["target"]:
        return (f"{bits:.4f} bits/symbol on held-out data, above the target {expected['target']:.4f} "
                f"(entropy rate + {COMPRESSION_MARGIN}).")
    return None


@check("fit_block_code", compare=_compression_compare,
       hint="Estimate the source from the training sequence, code blocks of several symbols given the symbol "
            "before them, and give each context its own Huffman code.")
def _fit_block_code_cases():
    for i, (name, A) in enumerate(_SOURCES.items()):
        S = A.shape[0]
        train = markov_sequence(A, 60_000, _gen(300 + i))
        held_out = markov_sequence(A, 100_000, _gen(400 + i))
        target = float(ref.entropy_rate(A, base=2)) + COMPRESSION_MARGIN
        yield Case(f"{name}: held-out bits/symbol <= entropy rate + {COMPRESSION_MARGIN}", (train, S),
                   expected={"held_out": held_out, "target": target})


# -- concept questions -----------------------------------------------------------------------------------------

def _answer_compare(got, expected, case: Case) -> str | None:
    if not isinstance(got, str) or got.strip().lower() not in {"a", "b", "c", "d"}:
        return "answer with one of the letters 'a', 'b', 'c', 'd' (a string)."
    return None if got.strip().lower() == expected else "that is not the right answer; reread the section."


def _answer_cases(expected):
    def cases():
        yield Case("your answer", (), expected=expected)
    return cases


check("reverse_kl_answer", compare=_answer_compare)(_answer_cases(ref.reverse_kl_answer()))
check("perplexity_answer", compare=_answer_compare)(_answer_cases(ref.perplexity_answer()))
check("block_code_answer", compare=_answer_compare)(_answer_cases(ref.block_code_answer()))
