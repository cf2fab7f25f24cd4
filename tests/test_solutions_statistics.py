"""solutions_lib.statistics against torch built-ins, closed forms and simulation (chapter 01)."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from solutions_lib import statistics as st


def _randn(*shape, dtype, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64).to(device=device, dtype=dtype)


def _close(got, expected, dtype):
    tol = {torch.float32: (1e-5, 1e-6), torch.float64: (1e-12, 1e-12)}[dtype]
    torch.testing.assert_close(got, expected, rtol=tol[0], atol=tol[1])


# --- sample mean and variances -------------------------------------------------------------------

@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_mean_and_variances_match_torch(device, dtype, dim):
    x = 2.0 * _randn(4, 6, 5, dtype=dtype, device=device) + 0.5
    _close(st.sample_mean(x, dim=dim), x.mean(dim=dim), dtype)
    _close(st.sample_variance(x, dim=dim), torch.var(x, dim=dim, correction=0), dtype)
    _close(st.unbiased_variance(x, dim=dim), torch.var(x, dim=dim), dtype)
    for out in (st.sample_mean(x, dim=dim), st.sample_variance(x, dim=dim), st.unbiased_variance(x, dim=dim)):
        assert out.dtype == dtype and out.device.type == device.type


def test_default_dim_is_last(device, dtype):
    x = _randn(3, 7, dtype=dtype, device=device)
    assert st.sample_mean(x).shape == (3,)
    _close(st.sample_variance(x), st.sample_variance(x, dim=1), dtype)


def test_closed_forms():
    x = torch.tensor([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], dtype=torch.float64)
    assert st.sample_mean(x).item() == 5.0
    assert st.sample_variance(x).item() == 4.0
    assert st.unbiased_variance(x).item() == pytest.approx(32.0 / 7.0, rel=1e-15)


def test_zero_variance_and_single_sample():
    assert torch.equal(st.sample_variance(torch.full((3, 4), 2.5)), torch.zeros(3))
    assert torch.equal(st.unbiased_variance(torch.full((3, 4), 2.5)), torch.zeros(3))
    assert torch.equal(st.sample_variance(torch.randn(5, 1)), torch.zeros(5))


def test_two_pass_variance_is_stable_far_from_zero():
    g = torch.Generator().manual_seed(1)
    noise = torch.randn(1000, generator=g, dtype=torch.float64)
    exact = torch.var(noise, correction=0)
    shifted = st.sample_variance(1e8 + noise)
    assert shifted.item() == pytest.approx(exact.item(), rel=1e-6)


def test_inputs_unchanged():
    x = torch.randn(4, 5)
    saved = x.clone()
    st.sample_variance(x), st.unbiased_variance(x), st.gaussian_mle(x)
    assert torch.equal(x, saved)


# --- bias of the plug-in estimator ---------------------------------------------------------------

def test_plugin_variance_bias_closed_form():
    assert st.plugin_variance_bias(4.0, 8) == -0.5
    assert st.plugin_variance_bias(1.0, 1) == -1.0
    got = st.plugin_variance_bias(torch.tensor([[1.0], [2.0]], dtype=torch.float64), torch.tensor([[2, 4]]))
    torch.testing.assert_close(got, torch.tensor([[-0.5, -0.25], [-1.0, -0.5]], dtype=torch.float64))


@pytest.mark.parametrize("n", [2, 3, 10])
def test_plugin_bias_and_bessel_by_simulation(n):
    """E[plug-in] - sigma^2 = -sigma^2/n and E[Bessel] = sigma^2, within 5 standard errors, for a
    skewed (exponential, sigma^2 = 4) distribution: the result does not need Gaussian data."""
    g = torch.Generator().manual_seed(n)
    trials = 200_000
    x = -2.0 * torch.log(torch.rand(trials, n, generator=g, dtype=torch.float64))
    plug, bessel = st.sample_variance(x), st.unbiased_variance(x)
    se = plug.std().item() / math.sqrt(trials)
    assert abs(plug.mean().item() - 4.0 - st.plugin_variance_bias(4.0, n)) < 5 * se
    assert abs(bessel.mean().item() - 4.0) < 5 * bessel.std().item() / math.sqrt(trials)


# --- bias, variance, MSE by simulation -----------------------------------------------------------

def _gauss(n, sigma=1.0):
    return lambda t, gen: sigma * torch.randn(t, n, generator=gen, dtype=torch.float64)


def test_bias_variance_mse_identity_is_exact():
    for est in (st.sample_variance, st.unbiased_variance, lambda s: s.max(dim=-1).values):
        bias, var, mse = st.bias_variance_mse(est, _gauss(4, 1.5), 2.25, 3000, torch.Generator().manual_seed(0))
        assert bias.shape == var.shape == mse.shape == ()
        assert mse.item() == pytest.approx(bias.item() ** 2 + var.item(), rel=1e-12)


def test_bias_variance_mse_is_reproducible_and_uses_the_generator():
    run = lambda seed: st.bias_variance_mse(st.sample_mean, _gauss(5), 0.0, 500, torch.Generator().manual_seed(seed))
    assert all(torch.equal(a, b) for a, b in zip(run(3), run(3)))
    assert run(3)[0].item() != run(4)[0].item()


def test_bias_variance_mse_matches_a_direct_computation():
    samples = _gauss(6)(4000, torch.Generator().manual_seed(9))
    est = st.unbiased_variance(samples)
    bias, var, mse = st.bias_variance_mse(st.unbiased_variance, _gauss(6), 1.0, 4000, torch.Generator().manual_seed(9))
    torch.testing.assert_close(bias, est.mean() - 1.0)
    torch.testing.assert_close(var, est.var(correction=0))
    torch.testing.assert_close(mse, ((est - 1.0) ** 2).mean())


def test_variance_of_estimators_matches_theory():
    """Var(sample mean) = sigma^2/n; Var(Bessel) = 2 sigma^4/(n-1) for Gaussian data (Kaplan eq. 3.3.14);
    MSE(plug-in) = (2n-1) sigma^4 / n^2 < MSE(Bessel)."""
    n, trials = 5, 200_000
    _, var_mean, _ = st.bias_variance_mse(st.sample_mean, _gauss(n, 2.0), 0.0, trials, torch.Generator().manual_seed(1))
    assert var_mean.item() == pytest.approx(4.0 / n, rel=0.02)
    _, var_b, mse_b = st.bias_variance_mse(st.unbiased_variance, _gauss(n), 1.0, trials, torch.Generator().manual_seed(2))
    assert var_b.item() == pytest.approx(2.0 / (n - 1), rel=0.03)
    _, _, mse_p = st.bias_variance_mse(st.sample_variance, _gauss(n), 1.0, trials, torch.Generator().manual_seed(2))
    assert mse_p.item() == pytest.approx((2 * n - 1) / n**2, rel=0.03)
    assert mse_p < mse_b


def test_bias_variance_mse_on_device(device, dtype):
    sampler = lambda t, gen: torch.randn(t, 4, generator=gen, dtype=dtype).to(device)
    bias, var, mse = st.bias_variance_mse(st.sample_variance, sampler, 1.0, 100, torch.Generator().manual_seed(0))
    assert bias.device.type == device.type and bias.dtype == dtype
    _close(mse, bias**2 + var, dtype)


# --- maximum likelihood ----------------------------------------------------------------------------

def test_gaussian_mle_matches_var_mean(device, dtype):
    x = _randn(3, 9, dtype=dtype, device=device) * 3 + 1
    mu, var = st.gaussian_mle(x)
    ref_var, ref_mu = torch.var_mean(x, dim=-1, correction=0)
    _close(mu, ref_mu, dtype)
    _close(var, ref_var, dtype)
    mu0, var0 = st.gaussian_mle(x, dim=0)
    assert mu0.shape == var0.shape == (9,)


def test_gaussian_nll_matches_torch(device, dtype):
    x = _randn(4, 6, dtype=dtype, device=device)
    mu = _randn(6, dtype=dtype, device=device, seed=1)
    var = torch.rand(6, generator=torch.Generator().manual_seed(2), dtype=torch.float64).to(device, dtype) + 0.3
    got = st.gaussian_nll(x, mu, var)
    assert got.shape == () and got.dtype == dtype
    expected = -torch.distributions.Normal(mu, var.sqrt()).log_prob(x).mean()
    _close(got, expected, dtype)
    builtin = F.gaussian_nll_loss(mu.expand_as(x), x, var.expand_as(x), full=True, eps=0.0)
    _close(got, builtin, dtype)


def test_gaussian_nll_closed_form_and_broadcasting():
    assert st.gaussian_nll(torch.tensor([0.0], dtype=torch.float64), 0.0, 1.0).item() == pytest.approx(
        0.5 * math.log(2 * math.pi), rel=1e-15)
    x = torch.randn(5, dtype=torch.float64)
    mu = torch.randn(2, 1, dtype=torch.float64)
    expected = -torch.distributions.Normal(mu, torch.tensor(1.5, dtype=torch.float64).sqrt()).log_prob(x).mean()
    torch.testing.assert_close(st.gaussian_nll(x, mu, 1.5), expected)


def test_mle_is_a_stationary_point_of_the_nll():
    x = 2.0 + 1.5 * torch.randn(200, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    mu, var = st.gaussian_mle(x)
    params = torch.stack([mu, var]).requires_grad_(True)
    st.gaussian_nll(x, params[0], params[1]).backward()
    assert params.grad.abs().max().item() < 1e-12
    for dmu, dvar in [(0.05, 0.0), (0.0, 0.1), (-0.05, -0.1)]:
        assert st.gaussian_nll(x, mu + dmu, var + dvar) > st.gaussian_nll(x, mu, var)


# --- central limit theorem -------------------------------------------------------------------------

def test_standardized_means_closed_form():
    s = torch.tensor([[2.0, 4.0, 2.0, 4.0], [0.0, 2.0, 1.0, 1.0]], dtype=torch.float64)
    torch.testing.assert_close(st.standardized_means(s, 1.0, 2.0), torch.tensor([2.0, 0.0], dtype=torch.float64))
    torch.testing.assert_close(st.standardized_means(s.T, 1.0, 2.0, dim=0), torch.tensor([2.0, 0.0], dtype=torch.float64))


def test_standardized_means_device(device, dtype):
    s = _randn(10, 8, dtype=dtype, device=device)
    z = st.standardized_means(s, 0.0, 1.0)
    assert z.dtype == dtype and z.device.type == device.type
    _close(z, s.sum(dim=-1) / math.sqrt(8), dtype)


@pytest.mark.parametrize("n", [1, 16, 64])
def test_clt_moments_of_exponential_means(n):
    """z has mean 0 and variance 1 for every n, and skewness 2/sqrt(n) for exponential draws."""
    trials = 100_000
    draws = -torch.log(torch.rand(trials, n, generator=torch.Generator().manual_seed(n), dtype=torch.float64))
    z = st.standardized_means(draws, 1.0, 1.0)
    assert abs(z.mean().item()) < 0.02
    assert z.var().item() == pytest.approx(1.0, abs=0.03)
    skew = (((z - z.mean()) / z.std()) ** 3).mean().item()
    assert skew == pytest.approx(2.0 / math.sqrt(n), abs=0.1 + 0.1 * 2.0 / math.sqrt(n))


# --- risk of a loss --------------------------------------------------------------------------------

def test_empirical_risk_matches_torch_losses(device, dtype):
    p = _randn(4, 7, dtype=dtype, device=device)
    t = _randn(4, 7, dtype=dtype, device=device, seed=1)
    _close(st.empirical_risk(p, t, "squared"), F.mse_loss(p, t, reduction="none").mean(dim=-1), dtype)
    _close(st.empirical_risk(p, t, "absolute"), F.l1_loss(p, t, reduction="none").mean(dim=-1), dtype)
    _close(st.empirical_risk(p, t), st.empirical_risk(p, t, "squared"), dtype)
    _close(st.empirical_risk(p, t, "absolute", dim=0), (p - t).abs().mean(dim=0), dtype)


def test_empirical_risk_rejects_unknown_loss():
    with pytest.raises(ValueError):
        st.empirical_risk(torch.zeros(3), torch.ones(3), "cubic")


def test_mean_minimizes_squared_risk_and_median_absolute_risk():
    y = -torch.log(torch.rand(101, generator=torch.Generator().manual_seed(5), dtype=torch.float64))
    c = torch.linspace(0.0, 3.0, 30001, dtype=torch.float64)
    squared = st.empirical_risk(c[:, None], y[None, :], "squared")
    absolute = st.empirical_risk(c[:, None], y[None, :], "absolute")
    step = (c[1] - c[0]).item()
    assert abs(c[squared.argmin()].item() - y.mean().item()) <= step
    assert abs(c[absolute.argmin()].item() - y.median().item()) <= step
    # the squared risk is the variance plus the squared distance to the mean
    torch.testing.assert_close(squared, torch.var(y, correction=0) + (y.mean() - c) ** 2)


def _group_problems(seed, m, tau, sigma, B=30, K=100, n=10):
    g = torch.Generator().manual_seed(seed)
    theta = m + tau * torch.randn(B, K, generator=g, dtype=torch.float64)
    x = theta[..., None] + sigma * torch.randn(B, K, n, generator=g, dtype=torch.float64)
    return theta, x


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("m, tau, sigma", [(5.0, 0.3, 3.0), (-3.0, 1.0, 10 ** 0.5), (1.0, 3.0, 10 ** 0.5)])
def test_shrinkage_closes_most_of_the_gap_to_the_ideal_map_estimate(seed, m, tau, sigma):
    theta, x = _group_problems(seed, m, tau, sigma)
    plain = x.mean(dim=-1)
    s2 = sigma ** 2 / x.shape[-1]
    ideal = m + tau ** 2 / (tau ** 2 + s2) * (plain - m)  # the MAP estimate under the true prior
    mse = lambda est: ((est - theta) ** 2).mean().item()
    closed = (mse(plain) - mse(st.shrink_group_means(x))) / (mse(plain) - mse(ideal))
    assert closed > 0.85


def test_shrinkage_is_per_problem_shift_equivariant_and_keeps_dtype():
    _, x = _group_problems(0, 2.0, 1.0, 2.0, B=3)
    est = st.shrink_group_means(x)
    torch.testing.assert_close(st.shrink_group_means(x[1]), est[1])
    torch.testing.assert_close(st.shrink_group_means(x + 50.0), est + 50.0)
    assert st.shrink_group_means(x.float()).dtype == torch.float32
    # no spread in the group means beyond their noise: everything goes to the grand mean
    flat = torch.zeros(6, 4, dtype=torch.float64) + torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    torch.testing.assert_close(st.shrink_group_means(flat), torch.zeros(6, dtype=torch.float64))


def test_concept_answers_are_letters():
    assert [st.consistency_answer(), st.cramer_rao_answer(), st.robust_loss_answer()] == ["c", "b", "a"]


@pytest.mark.parametrize("delta", [0.3, 1.0, 2.5])
def test_huber_loss_matches_torch_and_its_gradient_matches_autograd(delta):
    g = torch.Generator().manual_seed(21)
    r = 3.0 * torch.randn(4, 50, generator=g, dtype=torch.float64)
    r[0, :4] = torch.tensor([delta, -delta, 0.0, 1e6], dtype=torch.float64)
    expected = torch.nn.functional.huber_loss(r, torch.zeros_like(r), reduction="none", delta=delta)
    torch.testing.assert_close(st.huber_loss(r, delta), expected)
    leaf = r.clone().requires_grad_(True)
    torch.nn.functional.huber_loss(leaf, torch.zeros_like(leaf), reduction="sum", delta=delta).backward()
    torch.testing.assert_close(st.huber_grad(r, delta), leaf.grad)
    assert st.huber_loss(r.float(), delta).dtype == torch.float32
    assert st.huber_grad(r.float(), delta).dtype == torch.float32


def test_huber_location_resists_outliers_where_the_mean_does_not():
    g = torch.Generator().manual_seed(22)
    y = torch.randn(101, generator=g, dtype=torch.float64)
    y[:10] += 100.0
    c = y.median()
    for _ in range(300):
        c = c + st.huber_grad(y - c, 1.0).mean()
    assert abs(float(st.huber_grad(y - c, 1.0).sum())) < 1e-9  # the forces balance
    assert abs(float(c)) < 0.3 < 5.0 < float(y.mean())


def test_gaussian_map_mean_maximizes_the_log_posterior():
    g = torch.Generator().manual_seed(23)
    x = 2.0 + 1.5 * torch.randn(5, 12, generator=g, dtype=torch.float64)
    noise, m, tau2 = 2.25, torch.linspace(-2, 2, 5, dtype=torch.float64), 0.7
    mu = st.gaussian_map_mean(x, noise, m, tau2).clone().requires_grad_(True)
    log_post = -((mu - m) ** 2) / (2 * tau2) - ((x - mu[:, None]) ** 2).sum(-1) / (2 * noise)
    (grad,) = torch.autograd.grad(log_post.sum(), mu)
    torch.testing.assert_close(grad, torch.zeros(5, dtype=torch.float64), atol=1e-10, rtol=0)
    # limits: flat prior -> sample mean, certain prior -> prior mean; float32 kept
    torch.testing.assert_close(st.gaussian_map_mean(x, noise, m, 1e14), x.mean(-1))
    torch.testing.assert_close(st.gaussian_map_mean(x, noise, m, 1e-14), m)
    assert st.gaussian_map_mean(x.float(), noise, 0.0, tau2).dtype == torch.float32
    torch.testing.assert_close(st.gaussian_map_mean(x.T, noise, m, tau2, dim=0),
                               st.gaussian_map_mean(x, noise, m, tau2))
