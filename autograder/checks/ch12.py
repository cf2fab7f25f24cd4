"""Hidden checks of chapter 12 (PCA, autoencoders, VAEs).

PCA and the linear autoencoder are judged on **projectors**, never on raw vectors: a principal direction
has no sign, and an autoencoder's weights are any basis of the principal subspace. Probabilistic PCA is
judged on the model covariance ``W W^T + sigma2 I`` (``W`` is only defined up to a rotation). The
Gaussian pieces are checked against ``torch.distributions`` in float64; the linear-Gaussian ELBO against
two independent oracles: ``log p(x)`` at the true posterior, and ``log p(x) - KL(q || posterior)`` with
the full posterior covariance everywhere else. The VAE is trained in the kernel, and its **weights** come
back: the grader rebuilds the model and computes the ELBO itself, on held-out digits the kernel never
receives, with its own KL and likelihood, so a loss with a wrong-signed KL cannot report its way past
the target.
"""
from __future__ import annotations

import math

import torch

from autograder.checks import Case, check
from course.checks import as_array, diagnose_close
from solutions_lib import autoencoders as ref

F64 = torch.float64
F32 = torch.float32


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _data(seed, n, spectrum, shift=0.0, dtype=F64):
    """n points whose covariance has the given eigenvalues along a random orthonormal basis, mean ``shift``."""
    g = _gen(seed)
    d = len(spectrum)
    basis, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=F64))
    X = torch.randn(n, d, generator=g, dtype=F64) * torch.tensor(spectrum, dtype=F64).sqrt() @ basis.T
    X = X + shift * torch.randn(d, generator=g, dtype=F64)
    return X.to(dtype)


def _tol(dtype):
    return 1e-9 if dtype == F64 else 2e-4


def _letter(got, expected, case):
    if not isinstance(got, str):
        return f"the answer should be a letter (a string such as 'a'), got {type(got).__name__}."
    if got.strip().lower() not in ("a", "b", "c", "d"):
        return f"the answer should be one of 'a', 'b', 'c', 'd', got {got!r}."
    return None if got.strip().lower() == expected else "that is not the right answer."


# ----------------------------------------------------------------------------- PCA

def _pca_compare(got, expected, case):
    X, k = case.args
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return "pca_fit should return a tuple (mean, components, variances)."
    mean, comps, var = got
    e_mean, e_comps, e_var = expected
    problem = diagnose_close(mean, e_mean, what="the mean")
    if problem:
        return problem
    C, E = as_array(comps).astype("float64"), as_array(e_comps).astype("float64")
    if C.shape != E.shape:
        return f"components have shape {C.shape}, expected {E.shape} (k orthonormal ROWS of length D)."
    tol = 1e-9 if X.dtype == F64 else 1e-4
    sub_tol = 1e-6 if X.dtype == F64 else 1e-2
    import numpy as np

    if not np.isfinite(C).all():
        return "the components hold NaN or infinite entries."
    gram = C @ C.T
    if not np.abs(gram - np.eye(k)).max() <= 100 * tol:
        return "the components are not orthonormal rows (components @ components.T should be the identity)."
    ev = as_array(e_var).astype("float64")
    for j in range(1, k + 1):  # nested subspaces, wherever the ordering is defined by a gap in the spectrum
        if j < k and ev[j - 1] - ev[j] <= 1e-3 * ev[0]:
            continue
        err = np.abs(C[:j].T @ C[:j] - E[:j].T @ E[:j]).max()
        if not err <= sub_tol:
            which = "the top-k subspace" if j == k else f"the span of the first {j} components"
            return (f"{which} is wrong (projectors differ by {err:.3g}): keep the directions of LARGEST variance, "
                    "largest first, of the CENTRED data.")
    return diagnose_close(var, e_var, what="the variances")


@check("pca_fit", reference=ref.pca_fit, compare=_pca_compare,
       hint="Centre X, take the SVD, keep the first k right singular vectors (largest singular values) as rows; "
            "variances are S**2 / (N - 1).")
def _pca_fit_cases():
    yield Case("float64, 200 x 6, k = 2, mean far from 0", (_data(1201, 200, [9, 4, 1, 0.5, 0.2, 0.1], shift=5.0), 2))
    yield Case("float64, 50 x 10, k = 4", (_data(1202, 50, [10, 8, 6, 4, 2, 1, 0.5, 0.3, 0.2, 0.1]), 4))
    yield Case("float32, 300 x 5, k = 3", (_data(1203, 300, [5, 3, 2, 0.5, 0.1], shift=2.0, dtype=F32), 3))
    yield Case("k = 1", (_data(1204, 80, [4, 1, 0.5]), 1))
    yield Case("k = D (all components)", (_data(1205, 40, [3, 2, 1, 0.5]), 4))
    yield Case("fewer samples than dimensions: 5 x 8, k = 3", (_data(1206, 5, [8, 6, 4, 3, 2, 1, 0.5, 0.1]), 3))
    # Exactly equal top variances: only the 3-dimensional subspace is defined, any basis of it is right.
    pts = torch.cat([torch.eye(5, dtype=F64) * torch.tensor([2.0, 2.0, 2.0, 0.1, 0.1], dtype=F64)] * 2)
    pts[5:] *= -1
    rot, _ = torch.linalg.qr(torch.randn(5, 5, generator=_gen(1207), dtype=F64))
    yield Case("three equal top variances, k = 3 (any basis of that subspace is right)", (pts @ rot.T + 3.0, 3))


# ----------------------------------------------------------------------------- linear autoencoder

def _lae_args(seed, n, d, k, dtype=F64):
    g = _gen(seed)
    return (torch.randn(n, d, generator=g, dtype=dtype), torch.randn(k, d, generator=g, dtype=dtype),
            torch.randn(d, k, generator=g, dtype=dtype))


@check("linear_ae_loss_and_grads", reference=ref.linear_ae_loss_and_grads, by_hand=True,
       hint="Perturb W, then V, in L = tr(R^T R) / N with R = X V^T W^T - X, and read each gradient off the trace; "
            "each has the shape of its matrix, with a factor 2/N.")
def _linear_ae_cases():
    yield Case("float64, N 20, D 6, K 2", _lae_args(1210, 20, 6, 2))
    yield Case("float64, N 7, D 3, K 3 (no bottleneck)", _lae_args(1211, 7, 3, 3))
    yield Case("float32, N 50, D 10, K 4", _lae_args(1212, 50, 10, 4, F32))
    yield Case("one sample", _lae_args(1213, 1, 5, 2))
    yield Case("K = 1", _lae_args(1214, 30, 8, 1))
    X, V, _ = _lae_args(1215, 12, 4, 2)
    yield Case("decoder = pseudo-inverse of the encoder", (X, V, torch.linalg.pinv(V)))


def _lae_compare(got, expected, case):
    X, k, lr, steps, _ = case.args
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return "train_linear_autoencoder should return (V, W)."
    V, W = (torch.as_tensor(as_array(t)).to(F64) for t in got)
    D = X.shape[1]
    if tuple(V.shape) != (k, D) or tuple(W.shape) != (D, k):
        return f"V should be ({k}, {D}) and W ({D}, {k}); got {tuple(V.shape)} and {tuple(W.shape)}."
    if case.spec == "exact":
        return diagnose_close(got, expected, what=f"(V, W) after {steps} steps")
    if not (torch.isfinite(V).all() and torch.isfinite(W).all()):
        return "the weights are not finite: gradient descent diverged (a wrong sign, or a wrong gradient)."
    Xc = X.to(F64) - X.to(F64).mean(0)
    _, _, Vh = torch.linalg.svd(Xc, full_matrices=False)
    P_pca = Vh[:k].T @ Vh[:k]
    P_w = W @ torch.linalg.pinv(W)
    gap = torch.linalg.matrix_norm(P_w - P_pca, ord=2).item()
    if not gap <= 0.02:
        return (f"the span of W's columns is not the top-{k} principal subspace of the centred data "
                f"(sine of the largest principal angle {gap:.3f}).")
    err = torch.linalg.matrix_norm(W @ V - P_pca, ord=2).item()
    if not err <= 0.02:
        return f"W @ V is not the projector on the principal subspace (off by {err:.3f} in spectral norm)."
    return None


@check("train_linear_autoencoder", reference=ref.train_linear_autoencoder, compare=_lae_compare,
       hint="Draw V (k, D) then W (D, k) as 0.1 * randn from the generator, centre X, then steps of plain gradient "
            "descent with your hand-derived gradients.")
def _train_lae_cases():
    X = _data(1220, 300, [6, 3, 0.4, 0.2, 0.1, 0.05], shift=4.0)
    yield Case("0 steps: exactly the initial weights", (X, 2, 0.05, 0, _gen(5)), spec="exact")
    yield Case("3 steps, exactly", (X, 2, 0.05, 3, _gen(6)), spec="exact")
    yield Case("1000 steps: the principal subspace (mean far from 0)", (X, 2, 0.05, 1000, _gen(7)))
    X = _data(1221, 200, [5, 4, 3, 0.3, 0.2, 0.1, 0.1, 0.05])
    yield Case("K = 3 of D = 8, 1200 steps", (X, 3, 0.04, 1200, _gen(8)))
    X = _data(1222, 250, [4, 0.5, 0.25, 0.1], shift=-3.0, dtype=F32)
    yield Case("float32, K = 1, 800 steps", (X, 1, 0.05, 800, _gen(9)))


@check("concept_linear_ae", compare=_letter, hint="")
def _concept_linear_ae_cases():
    yield Case("the answer", (), expected="c")


# ----------------------------------------------------------------------------- denoising

class _Affine:
    """A fixed affine autoencoder x -> x @ M^T + c (plain tensors, so it pickles into the kernel)."""

    def __init__(self, M, c):
        self.M, self.c = M, c

    def __call__(self, x):
        return x @ self.M.T + self.c


def _dae_probe(fn, case):
    if case.spec == "grad":
        net = torch.nn.Linear(case.args[1].shape[1], case.args[1].shape[1], dtype=F64)
        with torch.no_grad():
            net.weight.copy_(case.args[0].M)
            net.bias.copy_(case.args[0].c)
        loss = fn(net, case.args[1], case.args[2])
        if not isinstance(loss, torch.Tensor) or loss.grad_fn is None:
            return {"value": loss, "grad": None}
        (grad,) = torch.autograd.grad(loss, net.weight)
        return {"value": loss.detach(), "grad": grad}
    return fn(*case.args)


def _dae_compare(got, expected, case):
    if case.spec != "grad":
        return diagnose_close(got, expected, what="the loss")
    if not isinstance(got, dict) or got.get("grad") is None:
        return "the loss does not stay differentiable through the autoencoder's parameters (no .item(), no numpy)."
    aff, x, noise = case.args
    W = aff.M.clone().requires_grad_()
    loss = (((x + noise) @ W.T + aff.c - x) ** 2).sum(-1).mean()
    (grad,) = torch.autograd.grad(loss, W)
    return diagnose_close(got["value"], loss.detach(), what="the loss") or \
        diagnose_close(got["grad"], grad, what="its gradient in the weights")


@check("dae_loss", reference=ref.dae_loss, compare=_dae_compare, probe=_dae_probe,
       hint="Feed x + noise to the autoencoder and compare with the CLEAN x: mean over samples of the squared norm.")
def _dae_loss_cases():
    g = _gen(1230)
    for label, n, d, dtype in [("float64, 16 x 5", 16, 5, F64), ("float32, 40 x 8", 40, 8, F32), ("one sample", 1, 3, F64)]:
        aff = _Affine(torch.randn(d, d, generator=g, dtype=dtype) * 0.5, torch.randn(d, generator=g, dtype=dtype))
        x = torch.randn(n, d, generator=g, dtype=dtype)
        yield Case(label + ", a random affine autoencoder", (aff, x, 0.3 * torch.randn(n, d, generator=g, dtype=dtype)))
    x = torch.randn(10, 4, generator=g, dtype=F64)
    yield Case("the identity map: the loss is the noise energy", (_Affine(torch.eye(4, dtype=F64), torch.zeros(4, dtype=F64)),
                                                                  x, torch.randn(10, 4, generator=g, dtype=F64)))
    aff = _Affine(torch.randn(4, 4, generator=g, dtype=F64), torch.randn(4, generator=g, dtype=F64))
    yield Case("differentiable through an nn.Linear", (aff, x, torch.randn(10, 4, generator=g, dtype=F64)), spec="grad")


def _denoiser_direct(X, s):
    """Minimize the exact expected loss by solving the normal equations of the augmented least squares."""
    X = X.to(F64)
    N, D = X.shape
    Xa = torch.cat([X, torch.ones(N, 1, dtype=F64)], 1)
    G = Xa.T @ Xa / N
    G[:D, :D] += s ** 2 * torch.eye(D, dtype=F64)  # E[(x + s eps)(x + s eps)^T] adds s^2 I to the x-block only
    Theta = torch.linalg.solve(G, Xa.T @ X / N)    # (D + 1, D): rows of A^T, then b
    return Theta[:D].T.contiguous(), Theta[D].contiguous()


@check("linear_denoiser", reference=ref.linear_denoiser,
       hint="Average the loss over the noise first (it adds a penalty s^2 tr(A A^T)), eliminate b, then set the "
            "gradient in A to zero; the covariance is divided by N.")
def _linear_denoiser_cases():
    X = _data(1240, 12, [4, 2, 1, 0.5], shift=3.0)
    yield Case("float64, 12 x 4, s = 1 (oracle: augmented normal equations)", (X, 1.0), expected=_denoiser_direct(X, 1.0))
    X = _data(1241, 100, [3, 1, 0.5, 0.2, 0.1, 0.05], shift=-2.0)
    yield Case("float64, 100 x 6, s = 0.3", (X, 0.3), expected=_denoiser_direct(X, 0.3))
    X = _data(1242, 60, [2, 1, 0.1], shift=1.0, dtype=F32)
    yield Case("float32, s = 0.5", (X, 0.5))
    X = _data(1243, 8, [1, 1, 1])
    yield Case("s = 0 is the identity", (X, 0.0), expected=(torch.eye(3, dtype=F64), torch.zeros(3, dtype=F64)))
    X = _data(1244, 30, [5, 0.1], shift=2.0)
    yield Case("huge noise: almost the constant mean", (X, 30.0), expected=_denoiser_direct(X, 30.0))


# ----------------------------------------------------------------------------- probabilistic PCA

def _ppca_args(seed, n, d, k, dtype=F64, sigma2=0.3):
    g = _gen(seed)
    X = torch.randn(n, d, generator=g, dtype=F64) * 2 + 1
    mu = torch.randn(d, generator=g, dtype=F64)
    W = torch.randn(d, k, generator=g, dtype=F64)
    return X.to(dtype), mu.to(dtype), W.to(dtype), sigma2


def _mvn_loglik(X, mu, W, sigma2):
    X, mu, W = X.to(F64), mu.to(F64), W.to(F64)
    C = W @ W.T + float(sigma2) * torch.eye(X.shape[1], dtype=F64)
    return torch.distributions.MultivariateNormal(mu, covariance_matrix=C).log_prob(X)


@check("ppca_log_likelihood", reference=ref.ppca_log_likelihood,
       hint="-(D/2) log(2 pi) - (1/2) log det C - (1/2) (x - mu)^T C^{-1} (x - mu) with C = W W^T + sigma2 I and D "
            "the DATA dimension.")
def _ppca_ll_cases():
    for label, args in [("float64, 10 x 5, K 2", _ppca_args(1250, 10, 5, 2)),
                        ("float64, 30 x 12, K 3, small sigma2", _ppca_args(1251, 30, 12, 3, sigma2=0.01)),
                        ("float64, K 1, large sigma2", _ppca_args(1252, 6, 4, 1, sigma2=5.0))]:
        yield Case(label + " (oracle: torch MultivariateNormal)", args, expected=_mvn_loglik(*args))
    args = _ppca_args(1253, 20, 6, 2, F32, sigma2=0.5)
    yield Case("float32", args, expected=_mvn_loglik(*args).to(F32))
    X, mu, W, _ = _ppca_args(1254, 5, 3, 2)
    yield Case("sigma2 as a 0-d tensor", (X, mu, W, torch.tensor(0.7, dtype=F64)), expected=_mvn_loglik(X, mu, W, 0.7))


def _ppca_compare(got, expected, case):
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return "ppca_fit should return (mu, W, sigma2)."
    mu, W, s2 = got
    e_mu, e_W, e_s2 = expected
    k = case.args[1]
    problem = diagnose_close(mu, e_mu, what="mu") or diagnose_close(
        torch.as_tensor(as_array(s2)).reshape(()), torch.as_tensor(as_array(e_s2)).reshape(()), what="sigma2")
    if problem:
        return problem
    Wg = torch.as_tensor(as_array(W))
    if tuple(Wg.shape) != tuple(e_W.shape):
        return f"W has shape {tuple(Wg.shape)}, expected {tuple(e_W.shape)} (D, k={k})."
    return diagnose_close(Wg @ Wg.T, e_W @ e_W.T, what="W @ W.T (the model covariance minus sigma2 I)")


@check("ppca_fit", reference=ref.ppca_fit, compare=_ppca_compare,
       hint="Eigenvalues of the covariance divided by N (the ML estimate), largest first: sigma2 = mean of the "
            "discarded ones, W = U_k (Lambda_k - sigma2 I)^{1/2}.")
def _ppca_fit_cases():
    yield Case("float64, 20 x 6, k 2 (small N: N vs N-1 matters)", (_data(1260, 20, [8, 4, 1, 0.5, 0.4, 0.3], shift=2.0), 2))
    yield Case("float64, 200 x 8, k 3", (_data(1261, 200, [6, 5, 4, 1, 0.8, 0.6, 0.4, 0.2]), 3))
    yield Case("float32, 100 x 5, k 1", (_data(1262, 100, [5, 1, 0.5, 0.3, 0.2], shift=1.0, dtype=F32), 1))
    yield Case("k = D - 1", (_data(1263, 50, [3, 2, 1, 0.25]), 3))


def _posterior_direct(X, mu, W, sigma2):
    """Bayes' rule on the joint Gaussian of (z, x): cov(z, x) = W^T, cov(x) = C."""
    X, mu, W = X.to(F64), mu.to(F64), W.to(F64)
    C = W @ W.T + float(sigma2) * torch.eye(X.shape[1], dtype=F64)
    gain = torch.linalg.solve(C, W).T                     # W^T C^{-1}, (K, D)
    means = (gain @ (X - mu).T).T
    cov = torch.eye(W.shape[1], dtype=F64) - gain @ W
    return means, cov


@check("ppca_posterior", reference=ref.ppca_posterior,
       hint="M = W^T W + sigma2 I (K x K): mean M^{-1} W^T (x - mu), covariance sigma2 M^{-1}.")
def _ppca_posterior_cases():
    for label, args in [("float64, 8 x 5, K 2", _ppca_args(1270, 8, 5, 2)),
                        ("float64, 15 x 10, K 4, small sigma2", _ppca_args(1271, 15, 10, 4, sigma2=0.05)),
                        ("K 1, large sigma2", _ppca_args(1272, 3, 4, 1, sigma2=4.0))]:
        yield Case(label + " (oracle: conditioning the joint Gaussian)", args, expected=_posterior_direct(*args))
    X, mu, W, _ = _ppca_args(1273, 6, 5, 3, F32)
    e_m, e_c = _posterior_direct(X, mu, W, 0.4)
    yield Case("float32", (X, mu, W, 0.4), expected=(e_m.to(F32), e_c.to(F32)))


# ----------------------------------------------------------------------------- VAE pieces

def _kl_oracle(mu, logvar):
    q = torch.distributions.Normal(mu.to(F64), torch.exp(0.5 * logvar.to(F64)))
    p = torch.distributions.Normal(torch.zeros_like(mu, dtype=F64), torch.ones_like(mu, dtype=F64))
    return torch.distributions.kl_divergence(q, p).sum(-1).to(mu.dtype)


@check("gaussian_kl_standard", reference=ref.gaussian_kl_standard,
       hint="Per coordinate take E_q[log q(z) - log p(z)] with E[z^2] = sigma^2 + mu^2 and sigma^2 = exp(logvar); "
            "sum over the LAST dimension. A KL divergence is never negative.")
def _kl_cases():
    g = _gen(1280)
    for label, shape, dtype in [("float64 (16, 4)", (16, 4), F64), ("float32 (3, 5, 8)", (3, 5, 8), F32),
                                ("a single vector (6,)", (6,), F64), ("K = 1", (10, 1), F64)]:
        mu = torch.randn(shape, generator=g, dtype=dtype) * 2
        logvar = torch.randn(shape, generator=g, dtype=dtype) * 1.5
        yield Case(label + " (oracle: torch.distributions)", (mu, logvar), expected=_kl_oracle(mu, logvar))
    mu = torch.zeros(4, 3, dtype=F64)
    logvar = torch.tensor([-6.0, 0.0, 4.0], dtype=F64).expand(4, 3).clone()
    yield Case("very narrow and very wide posteriors at mu = 0", (mu, logvar), expected=_kl_oracle(mu, logvar))


def _reparam_probe(fn, case):
    mu, logvar, eps = (t.clone().requires_grad_() if i < 2 else t for i, t in enumerate(case.args))
    z = fn(mu, logvar, eps)
    if not isinstance(z, torch.Tensor) or z.grad_fn is None:
        return {"z": z, "grads": None}
    upstream = case.spec
    grads = torch.autograd.grad((z * upstream).sum(), (mu, logvar), allow_unused=True)
    return {"z": z.detach(), "grads": tuple(torch.zeros_like(mu) if gr is None else gr for gr in grads)}


def _reparam_compare(got, expected, case):
    if not isinstance(got, dict) or "z" not in got:
        return "reparameterize should return a tensor."
    problem = diagnose_close(got["z"], expected["z"], what="z")
    if problem:
        return problem
    if got.get("grads") is None:
        return "z is not differentiable in mu and logvar: build it from them with torch operations."
    return diagnose_close(got["grads"], expected["grads"], what="(dz/dmu, dz/dlogvar) against a random upstream gradient")


def _reparam_case(label, seed, shape, dtype=F64, scale=1.0):
    g = _gen(seed)
    mu = torch.randn(shape, generator=g, dtype=dtype)
    logvar = torch.randn(shape, generator=g, dtype=dtype) * scale
    eps = torch.randn(shape, generator=g, dtype=dtype)
    up = torch.randn(shape, generator=g, dtype=dtype)
    std = torch.exp(0.5 * logvar.to(F64))
    expected = {"z": (mu.to(F64) + std * eps.to(F64)).to(dtype),
                "grads": (up, (up.to(F64) * 0.5 * std * eps.to(F64)).to(dtype))}
    return Case(label, (mu, logvar, eps), expected=expected, spec=up)


@check("reparameterize", compare=_reparam_compare, probe=_reparam_probe,
       hint="z = mu + exp(logvar / 2) * eps: logvar is log sigma^2, so the standard deviation is exp(logvar / 2).")
def _reparam_cases():
    yield _reparam_case("float64 (8, 3), with gradients", 1290, (8, 3))
    yield _reparam_case("float32 (2, 4, 5)", 1291, (2, 4, 5), F32)
    yield _reparam_case("wide spread of log-variances", 1292, (20, 2), scale=4.0)
    yield _reparam_case("one latent coordinate", 1293, (5, 1))


def _bern_oracle(x, logits):
    return (-torch.nn.functional.binary_cross_entropy_with_logits(logits.to(F64), x.to(F64), reduction="none")
            ).sum(-1).to(logits.dtype)


@check("bernoulli_log_likelihood", reference=ref.bernoulli_log_likelihood,
       hint="x log sigmoid(l) + (1 - x) log sigmoid(-l), summed over the last dimension, with a stable log-sigmoid "
            "(large |logits| must not give -inf).")
def _bernoulli_cases():
    g = _gen(1300)
    for label, shape, dtype in [("float64 (10, 64), grey-level targets", (10, 64), F64),
                                ("float32 (4, 3, 16)", (4, 3, 16), F32), ("one image (64,)", (64,), F64)]:
        x = torch.rand(shape, generator=g, dtype=dtype)
        logits = torch.randn(shape, generator=g, dtype=dtype) * 3
        yield Case(label + " (oracle: torch BCE with logits)", (x, logits), expected=_bern_oracle(x, logits))
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0, 0.5]], dtype=F64)
    logits = torch.tensor([[80.0, 80.0, -80.0, -80.0, 50.0]], dtype=F64)
    yield Case("float64 logits of +-80", (x, logits), expected=_bern_oracle(x, logits))
    x = torch.tensor([[0.0, 1.0, 0.25]], dtype=F32)
    logits = torch.tensor([[40.0, -40.0, 30.0]], dtype=F32)
    yield Case("float32 logits of +-40", (x, logits), expected=_bern_oracle(x, logits))


def _vae_loss_oracle(x, logits, mu, logvar, beta=1.0):
    return (beta * _kl_oracle(mu.to(F64), logvar.to(F64)) - _bern_oracle(x, logits.to(F64))).mean().to(logits.dtype)


def _vae_args(seed, n, d, k, dtype=F64):
    g = _gen(seed)
    return (torch.rand(n, d, generator=g, dtype=dtype), torch.randn(n, d, generator=g, dtype=dtype) * 2,
            torch.randn(n, k, generator=g, dtype=dtype), torch.randn(n, k, generator=g, dtype=dtype))


@check("vae_loss", reference=ref.vae_loss,
       hint="mean over the batch of (-log p(x|z) + beta * KL): minus the likelihood, PLUS the (non-negative) KL.")
def _vae_loss_cases():
    args = _vae_args(1310, 16, 64, 4)
    yield Case("float64, beta 1 (oracle: torch BCE and torch.distributions KL)", args, expected=_vae_loss_oracle(*args))
    args = _vae_args(1311, 5, 10, 2)
    yield Case("beta 0.25", args, {"beta": 0.25}, expected=_vae_loss_oracle(*args, beta=0.25))
    yield Case("beta 4", args, {"beta": 4.0}, expected=_vae_loss_oracle(*args, beta=4.0))
    args = _vae_args(1312, 32, 64, 2, F32)
    yield Case("float32, beta 1", args, expected=_vae_loss_oracle(*args))
    args = _vae_args(1313, 1, 8, 3)
    yield Case("a batch of one", args, expected=_vae_loss_oracle(*args))


def _elbo_oracle(X, q_mean, q_logvar, mu, W, sigma2):
    """log p(x) - KL(q || p(z|x)), with the exact posterior of full covariance (an independent route)."""
    X, q_mean, q_logvar, mu, W = (t.to(F64) for t in (X, q_mean, q_logvar, mu, W))
    logp = _mvn_loglik(X, mu, W, sigma2)
    post_mean, post_cov = _posterior_direct(X, mu, W, sigma2)
    post = torch.distributions.MultivariateNormal(post_mean, covariance_matrix=post_cov)
    q = torch.distributions.MultivariateNormal(q_mean, covariance_matrix=torch.diag_embed(torch.exp(q_logvar)))
    return logp - torch.distributions.kl_divergence(q, post)


def _orthogonal_W(seed, d, k, scales):
    g = _gen(seed)
    Q, _ = torch.linalg.qr(torch.randn(d, k, generator=g, dtype=F64))
    return Q * torch.tensor(scales, dtype=F64)


@check("linear_gaussian_elbo", reference=ref.linear_gaussian_elbo,
       hint="Under q the expected squared error is the error at q's mean PLUS a spread term from q's variances; "
            "the constant holds sigma2 too; then subtract the KL of q to N(0, I).")
def _elbo_cases():
    g = _gen(1320)
    # The true posterior is diagonal when W has orthogonal columns: there the ELBO must equal log p(x).
    W = _orthogonal_W(1321, 6, 2, [2.0, 1.0])
    mu = torch.randn(6, generator=g, dtype=F64)
    X = torch.randn(8, 6, generator=g, dtype=F64) * 2
    m, cov = ref.ppca_posterior(X, mu, W, 0.5)
    logvar = torch.log(torch.diagonal(cov)).expand_as(m).clone()
    yield Case("at the true posterior the ELBO is log p(x) (oracle: MultivariateNormal)", (X, m, logvar, mu, W, 0.5),
               expected=_mvn_loglik(X, mu, W, 0.5))
    for label, seed, (n, d, k), s2 in [("random q, general W, float64", 1322, (7, 5, 3), 0.3),
                                       ("random q, K = 1", 1323, (4, 3, 1), 2.0),
                                       ("random q, small noise", 1324, (5, 8, 2), 0.05)]:
        h = _gen(seed)
        X, W = torch.randn(n, d, generator=h, dtype=F64), torch.randn(d, k, generator=h, dtype=F64)
        mu = torch.randn(d, generator=h, dtype=F64)
        qm, ql = torch.randn(n, k, generator=h, dtype=F64), torch.randn(n, k, generator=h, dtype=F64)
        yield Case(label + " (oracle: log p(x) - KL(q || exact posterior))", (X, qm, ql, mu, W, s2),
                   expected=_elbo_oracle(X, qm, ql, mu, W, s2))
    h = _gen(1325)
    X, W = torch.randn(6, 4, generator=h), torch.randn(4, 2, generator=h)
    mu, qm, ql = torch.randn(4, generator=h), torch.randn(6, 2, generator=h), torch.randn(6, 2, generator=h) * 0.5
    yield Case("float32, sigma2 as a 0-d tensor", (X, qm, ql, mu, W, torch.tensor(0.8)),
               expected=_elbo_oracle(X, qm, ql, mu, W, 0.8).to(F32))


@check("concept_elbo_gap", compare=_letter, hint="")
def _concept_elbo_gap_cases():
    yield Case("the answer", (), expected="b")


@check("concept_beta", compare=_letter, hint="")
def _concept_beta_cases():
    yield Case("the answer", (), expected="a")


# ----------------------------------------------------------------------------- the VAE on digits

VAE_TARGET = -25.5
"""Mean held-out ELBO (nats per digit) that a trained VAE must reach (the reference: about -24.6)."""
VAE_SPLIT_SEED = 1212
VAE_MAX_HIDDEN = 1024


def _vae_probe(fn, case):
    """In the kernel: train on the training split, send back only the weights (plain tensors)."""
    model = fn(case.args[0], latent_dim=case.spec["latent_dim"], seed=case.spec["seed"])
    state = model.state_dict() if hasattr(model, "state_dict") else None
    if not isinstance(state, dict):
        return {"state": None, "type": type(model).__name__}
    return {"state": {str(k): torch.as_tensor(v).detach().cpu().clone() for k, v in state.items()}, "type": "ok"}


def heldout_elbo(state, X, latent_dim, n_samples=16, seed=0):
    """The grader's ELBO (nats per image) of a DigitsVAE given by its weights, on images X, in float64."""
    from course.vae import DigitsVAE

    model = DigitsVAE.from_state_dict(state, dtype=F64)
    if model.latent_dim != latent_dim or model.n_pixels != X.shape[1] or model.hidden > VAE_MAX_HIDDEN:
        raise ValueError(f"the model has {model.n_pixels} pixels, {model.hidden} hidden units and latent dimension "
                         f"{model.latent_dim}; expected {X.shape[1]} pixels, at most {VAE_MAX_HIDDEN} hidden units "
                         f"and latent dimension {latent_dim}")
    g = _gen(seed)
    X = X.to(F64)
    with torch.no_grad():
        mu, logvar = model.encode(X)
        std = torch.exp(0.5 * logvar)
        rec = torch.zeros(X.shape[0], dtype=F64)
        for _ in range(n_samples):
            z = mu + std * torch.randn(mu.shape, generator=g, dtype=F64)
            rec += _bern_oracle(X, model.decode(z))
        elbo = rec / n_samples - _kl_oracle(mu, logvar)
    return float(elbo.mean())


def _vae_compare(got, expected, case):
    if not isinstance(got, dict) or got.get("state") is None:
        kind = got.get("type") if isinstance(got, dict) else type(got).__name__
        return f"train_vae should return the trained DigitsVAE, got {kind}."
    from course.data import load_digits

    X_test = load_digits(0.25, seed=VAE_SPLIT_SEED, dtype=F64).X_test  # never sent to the kernel
    state = got["state"]
    if not all(isinstance(v, torch.Tensor) and torch.isfinite(v).all() for v in state.values()):
        return "the trained weights are not all finite tensors (training diverged?)."
    try:
        score = heldout_elbo(state, X_test, case.spec["latent_dim"])
    except Exception as err:  # noqa: BLE001  (weights of the wrong shapes or names)
        return f"the returned model could not be evaluated ({type(err).__name__}: {str(err)[:200]})"
    if not math.isfinite(score) or score < expected:
        return (f"held-out ELBO {score:.2f} nats per digit, below the target {expected} "
                "(computed by the grader: 16 samples of z per digit and the exact KL).")
    return None


@check("train_vae", compare=_vae_compare, probe=_vae_probe,
       hint="Minimize vae_loss = mean(-log p(x|z) + KL) with z = reparameterize(mu, logvar, eps) at every step.")
def _train_vae_cases():
    from course.data import load_digits

    X_train = load_digits(0.25, seed=VAE_SPLIT_SEED, dtype=F32).X_train
    for seed in (3, 4):
        yield Case(f"digits (a split of the grader's), latent_dim 4, seed {seed}: held-out ELBO >= {VAE_TARGET}",
                   (X_train,), expected=VAE_TARGET, spec={"latent_dim": 4, "seed": seed})
