"""solutions_lib.information against torch.distributions, scikit-learn, closed forms, autograd and brute force (chapter 02)."""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from course.information import SOURCE, block_code_bits, kraft_sums, markov_sequence
from solutions_lib import information as inf

F64 = torch.float64


def _simplex(*shape, dtype=F64, device="cpu", seed=0):
    g = torch.Generator().manual_seed(seed)
    w = -torch.log(torch.rand(*shape, generator=g, dtype=F64))
    return (w / w.sum(dim=-1, keepdim=True)).to(device=device, dtype=dtype)


def _close(got, expected, dtype=F64):
    tol = {torch.float32: (1e-5, 1e-6), torch.float64: (1e-10, 1e-12)}[dtype]
    torch.testing.assert_close(got, expected.to(got.dtype) if torch.is_tensor(expected) else expected,
                               rtol=tol[0], atol=tol[1], check_dtype=False)


# --- entropy, cross-entropy, KL -----------------------------------------------------------------------------

def test_entropy_matches_torch_distributions(device, dtype):
    p = _simplex(5, 7, dtype=dtype, device=device)
    expected = torch.distributions.Categorical(probs=p.double()).entropy()
    out = inf.entropy(p)
    assert out.dtype == dtype and out.device.type == device.type and out.shape == (5,)
    _close(out.double().cpu(), expected.cpu(), dtype)
    _close(inf.entropy(p, base=2).double().cpu(), expected.cpu() / math.log(2), dtype)
    _close(inf.entropy(p.T, dim=0).double().cpu(), expected.cpu(), dtype)


def test_entropy_edge_cases():
    assert inf.entropy(torch.tensor([0.0, 1.0, 0.0])).item() == 0.0
    assert inf.entropy(torch.full((8,), 0.125, dtype=F64), base=2).item() == pytest.approx(3.0, rel=1e-15)
    assert not torch.isnan(inf.entropy(torch.tensor([0.5, 0.5, 0.0]))).any()
    # Shannon's grouping rule (Kaplan 2.2.3)
    lhs = inf.entropy(torch.tensor([1 / 2, 1 / 3, 1 / 6], dtype=F64))
    rhs = inf.entropy(torch.tensor([0.5, 0.5], dtype=F64)) + 0.5 * inf.entropy(torch.tensor([2 / 3, 1 / 3], dtype=F64))
    assert lhs.item() == pytest.approx(rhs.item(), rel=1e-14)


def test_log_count_matches_exact_binomials_and_tends_to_the_entropy():
    for n in (1, 2, 7, 30):
        for k in range(n + 1):
            got = inf.log_count_per_symbol(torch.tensor(n), torch.tensor(k)).item()
            assert got == pytest.approx(math.log(math.comb(n, k)) / n, rel=1e-12, abs=1e-13)
    # H(p) - log(n + 1) / n <= log C(n, k) / n <= H(p), with p = k / n (the method of types)
    n = torch.tensor([10, 100, 1000, 10**5])
    k = 3 * n // 10
    h = inf.log_count_per_symbol(n, k)
    p = torch.tensor(0.3, dtype=F64)
    H = inf.entropy(torch.stack([p, 1 - p]))
    assert torch.all(h <= H + 1e-12) and torch.all(h >= H - torch.log(n.double() + 1) / n)
    assert inf.log_count_per_symbol(n, k).dtype == F64


def test_cross_entropy_and_kl_match_torch(device, dtype):
    p = _simplex(4, 6, dtype=dtype, device=device, seed=1)
    q = _simplex(4, 6, dtype=dtype, device=device, seed=2)
    P, Q = torch.distributions.Categorical(probs=p.double()), torch.distributions.Categorical(probs=q.double())
    kl = torch.distributions.kl_divergence(P, Q)
    _close(inf.kl_divergence(p, q).double().cpu(), kl.cpu(), dtype)
    _close(inf.kl_divergence(p, q, base=2).double().cpu(), kl.cpu() / math.log(2), dtype)
    _close(inf.distribution_cross_entropy(p, q).double().cpu(), (P.entropy() + kl).cpu(), dtype)
    # F.kl_div(input=log q, target=p) is D(p || q) with torch's argument order
    fkl = torch.nn.functional.kl_div(q.double().log(), p.double(), reduction="none").sum(dim=-1)
    _close(inf.kl_divergence(p, q).double().cpu(), fkl.cpu(), dtype)


def test_kl_support_and_asymmetry():
    p = torch.tensor([0.5, 0.5, 0.0], dtype=F64)
    q = torch.tensor([0.5, 0.25, 0.25], dtype=F64)
    assert math.isfinite(inf.kl_divergence(p, q).item())
    assert inf.kl_divergence(q, p).item() == math.inf
    assert inf.distribution_cross_entropy(q, p).item() == math.inf
    coins = [torch.tensor([a, 1 - a], dtype=F64) for a in (1.0, 0.5, 0.0)]
    assert inf.kl_divergence(coins[0], coins[2]).item() == math.inf          # Kaplan's triangle example
    assert inf.kl_divergence(coins[0], coins[1]).item() == pytest.approx(math.log(2))   # both finitely far
    assert inf.kl_divergence(coins[2], coins[1]).item() == pytest.approx(math.log(2))   # from the fair coin
    assert inf.kl_divergence(p, p).item() == 0.0


# --- Gaussians -----------------------------------------------------------------------------------------------

def test_normal_kl_and_cross_entropy_match_torch_and_quadrature():
    g = torch.Generator().manual_seed(3)
    mp, mq = 2 * torch.randn(5, generator=g, dtype=F64), 2 * torch.randn(5, generator=g, dtype=F64)
    vp, vq = 0.2 + torch.rand(5, generator=g, dtype=F64), 0.2 + torch.rand(5, generator=g, dtype=F64)
    d = torch.distributions
    P, Q = d.Normal(mp, vp.sqrt()), d.Normal(mq, vq.sqrt())
    torch.testing.assert_close(inf.normal_kl(mp, vp, mq, vq), d.kl_divergence(P, Q), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(inf.normal_cross_entropy(mp, vp, mq, vq), P.entropy() + d.kl_divergence(P, Q),
                               rtol=1e-12, atol=1e-12)
    # direct quadrature of E_p[-log q] on a fine grid
    x = torch.linspace(-20, 20, 200_001, dtype=F64)[:, None]
    integrand = P.log_prob(x).exp() * -Q.log_prob(x)
    torch.testing.assert_close(torch.trapezoid(integrand, x[:, 0], dim=0), inf.normal_cross_entropy(mp, vp, mq, vq),
                               rtol=1e-7, atol=1e-9)
    # Kaplan's (2.3.13): D(N(0, 1) || N(mu, sigma^2)) = mu^2/(2 sigma^2) + 1/(2 sigma^2) - 1/2 + log sigma
    mu, sigma = 0.7, 1.9
    one = torch.tensor(1.0, dtype=F64)
    assert inf.normal_kl(0 * one, one, mu * one, sigma**2 * one).item() == pytest.approx(
        mu**2 / (2 * sigma**2) + 1 / (2 * sigma**2) - 0.5 + math.log(sigma), rel=1e-13)


def test_mutual_information_matches_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    g = torch.Generator().manual_seed(4)
    counts = torch.randint(0, 20, (4, 6), generator=g).to(F64)
    expected = metrics.mutual_info_score(None, None, contingency=counts.numpy())
    assert inf.mutual_information(counts).item() == pytest.approx(expected, rel=1e-12)
    p = counts / counts.sum()
    h = lambda t: inf.entropy(t.reshape(-1))
    assert inf.mutual_information(p).item() == pytest.approx((h(p.sum(1)) + h(p.sum(0)) - h(p)).item(), rel=1e-12)
    assert inf.mutual_information(p.T.contiguous()).item() == pytest.approx(inf.mutual_information(p).item(), rel=1e-12)
    indep = p.sum(1, keepdim=True) * p.sum(0, keepdim=True)
    assert abs(inf.mutual_information(indep).item()) < 1e-15


def test_conditional_entropy_chain_rule_and_direction():
    metrics = pytest.importorskip("sklearn.metrics")
    g = torch.Generator().manual_seed(13)
    counts = torch.randint(0, 20, (3, 5), generator=g).to(F64)
    p = counts / counts.sum()
    h = lambda t: inf.entropy(t.reshape(-1))
    torch.testing.assert_close(inf.conditional_entropy(counts), h(p) - h(p.sum(dim=0)), rtol=1e-12, atol=1e-14)
    mi = metrics.mutual_info_score(None, None, contingency=counts.numpy())
    assert inf.conditional_entropy(counts).item() == pytest.approx(h(p.sum(dim=1)).item() - mi, rel=1e-12)
    # H(X|Y) - H(Y|X) = H(X) - H(Y)
    diff = inf.conditional_entropy(p) - inf.conditional_entropy(p.T)
    assert diff.item() == pytest.approx((h(p.sum(dim=1)) - h(p.sum(dim=0))).item(), rel=1e-12)


@pytest.mark.parametrize("param, to_sigma", [("sigma", lambda t: t), ("var", lambda t: t.sqrt()),
                                             ("log_sigma", lambda t: t.exp())])
def test_normal_fisher_is_the_hessian_of_the_kl_and_the_score_covariance(param, to_sigma):
    sigma = 1.7
    second = {"sigma": sigma, "var": sigma**2, "log_sigma": math.log(sigma)}[param]
    theta0 = torch.tensor([0.4, second], dtype=F64)
    d = torch.distributions
    kl = lambda a, b: d.kl_divergence(d.Normal(a[0], to_sigma(a[1])), d.Normal(b[0], to_sigma(b[1])))
    F = inf.normal_fisher(torch.tensor(sigma, dtype=F64), param)
    torch.testing.assert_close(inf.fisher_from_kl(kl, theta0), F, rtol=1e-10, atol=1e-12)
    # E[score score^T] by quadrature
    x = torch.linspace(0.4 - 12 * sigma, 0.4 + 12 * sigma, 100_001, dtype=F64)
    theta = theta0.clone().requires_grad_(True)
    logq = d.Normal(theta[0], to_sigma(theta[1])).log_prob(x)
    scores = torch.stack([torch.autograd.grad(logq[i], theta, retain_graph=True)[0] for i in range(0, x.numel(), 500)])
    weights = logq.detach().exp()[::500]
    step = (x[500] - x[0]).item()
    cov = (weights[:, None, None] * scores[:, :, None] * scores[:, None, :]).sum(0) * step
    torch.testing.assert_close(cov, F, rtol=1e-6, atol=1e-9)


def test_normal_fisher_shapes_dtypes_and_errors(device, dtype):
    sigma = (0.5 + torch.rand(3, 4, generator=torch.Generator().manual_seed(5))).to(device=device, dtype=dtype)
    out = inf.normal_fisher(sigma, "var")
    assert out.shape == (3, 4, 2, 2) and out.dtype == dtype and out.device.type == device.type
    assert torch.all(out[..., 0, 1] == 0) and torch.all(out[..., 1, 0] == 0)
    with pytest.raises(ValueError):
        inf.normal_fisher(sigma, "precision")


def test_fisher_from_kl_on_categorical_logits():
    logits = torch.tensor([0.2, -1.0, 0.9], dtype=F64)
    d = torch.distributions
    kl = lambda a, b: d.kl_divergence(d.Categorical(logits=a), d.Categorical(logits=b))
    p = torch.softmax(logits, 0)
    torch.testing.assert_close(inf.fisher_from_kl(kl, logits), torch.diag(p) - torch.outer(p, p), rtol=1e-10, atol=1e-12)


# --- maximum entropy ---------------------------------------------------------------------------------------

def test_max_entropy_two_levels_and_kkt(device):
    p = inf.max_entropy_distribution(torch.tensor([[0.0], [1.0]], dtype=F64, device=device),
                                     torch.tensor([0.3], dtype=F64, device=device))
    torch.testing.assert_close(p.cpu(), torch.tensor([0.7, 0.3], dtype=F64), rtol=1e-10, atol=1e-12)
    x = torch.linspace(-4, 4, 81, dtype=F64)
    F = torch.stack([x, x**2, x**3], dim=1)
    m = torch.tensor([0.3, 1.5, 0.6], dtype=F64)
    p = inf.max_entropy_distribution(F, m)
    torch.testing.assert_close(p @ F, m, rtol=0, atol=1e-9)
    # log p is affine in the features (stationarity)
    design = torch.cat([F, torch.ones(81, 1, dtype=F64)], dim=1)
    residual = torch.log(p) - design @ torch.linalg.lstsq(design, torch.log(p)[:, None]).solution[:, 0]
    assert residual.abs().max() < 1e-8
    # every feasible perturbation lowers the entropy
    null = torch.linalg.svd(design.T).Vh[4:]
    g = torch.Generator().manual_seed(6)
    for _ in range(20):
        v = torch.randn(null.shape[0], generator=g, dtype=F64) @ null
        q = p + 1e-3 * v / v.abs().max() * p.min()
        assert inf.entropy(q) < inf.entropy(p)


def test_max_entropy_is_shift_invariant_and_keeps_dtype():
    faces = torch.arange(1.0, 7.0, dtype=F64)[:, None]
    p = inf.max_entropy_distribution(faces, torch.tensor([4.5], dtype=F64))
    torch.testing.assert_close(inf.max_entropy_distribution(1e4 + faces, torch.tensor([1e4 + 4.5], dtype=F64)), p,
                               rtol=1e-7, atol=1e-9)
    assert inf.max_entropy_distribution(faces.float(), torch.tensor([4.5])).dtype == torch.float32


# --- SNE ------------------------------------------------------------------------------------------------------

def test_sne_affinities_hit_the_perplexity_with_the_stated_kernel(device, dtype):
    g = torch.Generator().manual_seed(7)
    x = torch.cat([0.2 * torch.randn(30, 3, generator=g, dtype=F64), 5 + 2 * torch.randn(30, 3, generator=g, dtype=F64)])
    P, sigma = inf.sne_affinities(x.to(device=device, dtype=dtype), 12.0)
    assert P.dtype == dtype and P.device.type == device.type and sigma.shape == (60,)
    P, sigma = P.double().cpu(), sigma.double().cpu()
    assert torch.all(P.diagonal() == 0)
    torch.testing.assert_close(P.sum(1), torch.ones(60, dtype=F64), rtol=0, atol=1e-6)
    perp = torch.exp(-torch.xlogy(P, P).sum(1))
    assert ((perp - 12.0).abs() / 12.0).max() < 1e-4
    # the rows are the stated Gaussian kernel with the returned bandwidths
    d2 = torch.cdist(x, x) ** 2
    w = torch.exp(-d2 / (2 * sigma[:, None] ** 2)).fill_diagonal_(0)
    torch.testing.assert_close(P, w / w.sum(1, keepdim=True), rtol=1e-3, atol=1e-5)
    # the tight cluster gets the smaller bandwidths
    assert sigma[:30].max() < sigma[30:].min()


def test_sne_affinities_survive_extreme_scales():
    g = torch.Generator().manual_seed(8)
    x = torch.cat([torch.randn(20, 2, generator=g, dtype=F64), torch.tensor([[1e4, 0.0]], dtype=F64)])
    P, _ = inf.sne_affinities(x, 3.0)
    assert torch.isfinite(P).all()
    P, _ = inf.sne_affinities(1e-4 * x[:20], 5.0)
    assert torch.isfinite(P).all()


# --- Markov chains ----------------------------------------------------------------------------------------------

def test_stationary_distribution_is_the_left_eigenvector(device):
    g = torch.Generator().manual_seed(9)
    w = torch.rand(6, 6, generator=g, dtype=F64) ** 3 + 1e-3
    A = w / w.sum(1, keepdim=True)
    pi = inf.stationary_distribution(A.to(device)).cpu()
    torch.testing.assert_close(pi @ A, pi, rtol=0, atol=1e-12)
    assert pi.sum().item() == pytest.approx(1.0, abs=1e-12) and torch.all(pi >= 0)
    values, vectors = torch.linalg.eig(A.T)
    v = vectors[:, torch.argmin((values - 1).abs())].real
    torch.testing.assert_close(pi, v / v.sum(), rtol=1e-10, atol=1e-12)
    # the textbook's pi = A pi gives the constant vector, not pi
    assert not torch.allclose(pi, torch.full((6,), 1 / 6, dtype=F64), atol=1e-3)


def test_birth_death_chain_detailed_balance():
    up, down = 0.3, 0.5
    S = 5
    A = torch.zeros(S, S, dtype=F64)
    for i in range(S):
        if i + 1 < S:
            A[i, i + 1] = up
        if i > 0:
            A[i, i - 1] = down
        A[i, i] = 1 - A[i].sum()
    ratio = torch.tensor([(up / down) ** i for i in range(S)], dtype=F64)
    torch.testing.assert_close(inf.stationary_distribution(A), ratio / ratio.sum(), rtol=1e-12, atol=1e-14)


def test_entropy_rate_matches_the_empirical_code_length():
    """Shannon-McMillan-Breiman: -(1/n) log2 P(x_1..x_n) -> the entropy rate in bits."""
    seq = markov_sequence(SOURCE, 200_000, torch.Generator().manual_seed(10))
    logp = torch.log2(SOURCE[seq[:-1], seq[1:]]).sum() / (seq.numel() - 1)
    assert -logp.item() == pytest.approx(inf.entropy_rate(SOURCE, base=2).item(), abs=0.01)
    rows = torch.tensor([[0.5, 0.25, 0.25]] * 3, dtype=F64)
    assert inf.entropy_rate(rows, base=2).item() == pytest.approx(1.5, rel=1e-14)
    assert inf.entropy_rate(SOURCE).item() == pytest.approx(inf.entropy_rate(SOURCE, base=2).item() * math.log(2), rel=1e-14)


# --- codes ------------------------------------------------------------------------------------------------------

def _brute_force_optimum(p):
    n = len(p)
    best = math.inf
    for lengths in itertools.product(range(1, n), repeat=n):
        if sum(2.0 ** -l for l in lengths) <= 1 + 1e-12:
            best = min(best, sum(a * l for a, l in zip(p, lengths)))
    return best


@pytest.mark.parametrize("seed", range(4))
def test_huffman_is_optimal_against_brute_force(seed):
    p = _simplex(5, seed=20 + seed)
    lengths = inf.huffman_code_lengths(p)
    assert lengths.dtype == torch.int64
    assert float(kraft_sums(lengths)) == pytest.approx(1.0, abs=1e-12)
    assert float(p @ lengths.double()) == pytest.approx(_brute_force_optimum(p.tolist()), abs=1e-12)
    H = inf.entropy(p, base=2).item()
    assert H <= float(p @ lengths.double()) < H + 1


def test_block_code_reaches_the_entropy_rate_on_held_out_data():
    train = markov_sequence(SOURCE, 60_000, torch.Generator().manual_seed(11))
    held_out = markov_sequence(SOURCE, 100_000, torch.Generator().manual_seed(12))
    k, lengths = inf.fit_block_code(train, 3)
    assert 1 <= k <= 8 and lengths.shape == (3, 3**k)
    assert float(kraft_sums(lengths).max()) <= 1 + 1e-12
    assert block_code_bits(held_out, k, lengths) <= inf.entropy_rate(SOURCE, base=2).item() + 0.02


def test_concept_answers_are_letters():
    for fn in (inf.reverse_kl_answer, inf.perplexity_answer, inf.block_code_answer):
        assert fn() in ("a", "b", "c", "d")
