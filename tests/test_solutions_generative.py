"""solutions_lib.generative against closed forms, autograd in float64 and independent derivations (chapter 14)."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from course.generative import cosine_betas, linear_betas, mmd2, ring_mixture
from solutions_lib import generative as ref

F64 = torch.float64


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _mlp(seed, d, scale=1.0):
    g = _gen(seed)
    w1, b1, w2 = torch.randn(d, 8, generator=g, dtype=F64), torch.randn(8, generator=g, dtype=F64), \
        torch.randn(8, d, generator=g, dtype=F64) / 3
    return lambda u: scale * torch.tanh(u @ w1.to(u.dtype) + b1.to(u.dtype)) @ w2.to(u.dtype)


# ----------------------------------------------------------------------------- flows

def test_flow_log_prob_matches_torch_distributions_for_an_affine_map():
    g = _gen(0)
    A = torch.randn(3, 3, generator=g, dtype=F64) + 2 * torch.eye(3, dtype=F64)
    b = torch.randn(3, generator=g, dtype=F64)
    x = torch.randn(10, 3, generator=g, dtype=F64)
    # x = A z + b  =>  x ~ N(b, A A^T); the inverse is z = A^{-1} (x - b)
    inv = torch.linalg.inv(A)
    got = ref.flow_log_prob(x, lambda x: (x - b) @ inv.T)
    want = torch.distributions.MultivariateNormal(b, covariance_matrix=A @ A.T).log_prob(x)
    torch.testing.assert_close(got, want)


@pytest.mark.parametrize("mask", [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0, 0.0]])
def test_coupling_log_det_matches_the_autograd_jacobian_and_inverts(mask):
    d = len(mask)
    m = torch.tensor(mask, dtype=F64)
    s, b = _mlp(1, d, 0.8), _mlp(2, d, 1.5)
    z = torch.randn(6, d, generator=_gen(3), dtype=F64)
    x, log_det = ref.affine_coupling_forward(z, m, s, b)
    for i in range(z.shape[0]):
        jac = torch.autograd.functional.jacobian(lambda r: ref.affine_coupling_forward(r[None], m, s, b)[0][0], z[i])
        torch.testing.assert_close(log_det[i], torch.linalg.slogdet(jac)[1])
    z_back, inv_log_det = ref.affine_coupling_inverse(x, m, s, b)
    torch.testing.assert_close(z_back, z)
    torch.testing.assert_close(inv_log_det, -log_det)
    torch.testing.assert_close(x[:, m.bool()], z[:, m.bool()])  # the kept entries pass unchanged


def test_flow_log_prob_of_a_coupling_layer_agrees_with_its_analytic_log_det():
    m = torch.tensor([0.0, 1.0], dtype=F64)
    s, b = _mlp(4, 2), _mlp(5, 2)
    x = torch.randn(5, 2, generator=_gen(6), dtype=F64)
    z, log_det = ref.affine_coupling_inverse(x, m, s, b)
    want = -0.5 * (z ** 2).sum(-1) - math.log(2 * math.pi) + log_det
    torch.testing.assert_close(ref.flow_log_prob(x, lambda u: ref.affine_coupling_inverse(u, m, s, b)[0]), want)


# ----------------------------------------------------------------------------- forward process and posterior

def test_schedule_and_q_sample_match_iterating_the_one_step_kernel():
    betas = linear_betas(20, 0.01, 0.3)
    alphas, alpha_bars = ref.ddpm_schedule(betas)
    assert alphas[0] == 1 and alpha_bars[0] == 1 and alpha_bars.shape == (21,)
    # the closed form has the same mean and variance as T one-step kernels applied in turn
    x0 = torch.randn(4, 2, generator=_gen(7), dtype=F64)
    for t in (1, 7, 20):
        mean, var = x0.clone(), torch.zeros((), dtype=F64)
        for s in range(1, t + 1):
            mean, var = alphas[s].sqrt() * mean, alphas[s] * var + betas[s]
        noise = torch.randn(4, 2, generator=_gen(t), dtype=F64)
        torch.testing.assert_close(ref.q_sample(x0, torch.full((4,), t), noise, betas), mean + var.sqrt() * noise)


def test_q_sample_statistics_by_monte_carlo():
    betas = linear_betas(50, 1e-3, 0.1)
    ab = ref.ddpm_schedule(betas)[1][30]
    x0 = torch.full((200_000, 1), 2.0, dtype=F64)
    xt = ref.q_sample(x0, torch.full((200_000,), 30), torch.randn(200_000, 1, generator=_gen(8), dtype=F64), betas)
    assert abs(xt.mean() - 2 * ab.sqrt()) < 0.01 and abs(xt.var() - (1 - ab)) < 0.01


def test_posterior_matches_bayes_by_numerical_integration():
    betas = torch.tensor([0.0, 0.2, 0.3, 0.4], dtype=F64)
    x0, xt = torch.tensor([[0.7]], dtype=F64), torch.tensor([[-0.4]], dtype=F64)
    _, ab = ref.ddpm_schedule(betas)
    t = 3
    y = torch.linspace(-8, 8, 200_001, dtype=F64)
    log_w = (-(xt[0, 0] - (1 - betas[t]).sqrt() * y) ** 2 / (2 * betas[t])
             - (y - ab[t - 1].sqrt() * x0[0, 0]) ** 2 / (2 * (1 - ab[t - 1])))
    w = torch.exp(log_w - log_w.max())
    w = w / w.sum()
    mean_num = (w * y).sum()
    var_num = (w * (y - mean_num) ** 2).sum()
    mean, var = ref.ddpm_posterior(x0, xt, torch.tensor([t]), betas)
    torch.testing.assert_close(mean[0, 0], mean_num, rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(var[0], var_num, rtol=1e-6, atol=1e-8)


def test_loss_is_zero_for_the_oracle_noise_and_matches_mse_loss():
    betas = linear_betas(10, 0.01, 0.2)
    g = _gen(9)
    x0, noise = torch.randn(8, 2, generator=g, dtype=F64), torch.randn(8, 2, generator=g, dtype=F64)
    t = torch.randint(1, 11, (8,), generator=g)
    assert ref.ddpm_loss(lambda x, tt: noise, x0, t, noise, betas) == 0
    model = torch.nn.Linear(2, 2).double()
    got = ref.ddpm_loss(lambda x, tt: model(x), x0, t, noise, betas)
    torch.testing.assert_close(got, F.mse_loss(model(ref.q_sample(x0, t, noise, betas)), noise))
    got.backward()
    assert model.weight.grad is not None


# ----------------------------------------------------------------------------- samplers

def _exact_eps(mix, betas):
    alpha_bars = ref.ddpm_schedule(betas)[1]

    def eps(x, t):
        ab = float(alpha_bars[int(t[0])])
        noisy = mix.noised(ab)
        return -math.sqrt(1 - ab) * ref.gmm_score(x, noisy.weights, noisy.means, noisy.covs)
    return eps


def test_ddpm_sample_equals_posterior_sampling_with_predicted_x0():
    betas = linear_betas(15, 0.01, 0.3)
    model = _mlp(10, 2)
    eps = lambda x, t: model(x) + t.to(x.dtype)[:, None] / 10
    g = _gen(11)
    x_T, noises = torch.randn(5, 2, generator=g, dtype=F64), torch.randn(15, 5, 2, generator=g, dtype=F64)
    x = x_T
    ab = ref.ddpm_schedule(betas)[1]
    for t in range(15, 0, -1):
        tt = torch.full((5,), t)
        x0_hat = (x - (1 - ab[t]).sqrt() * eps(x, tt)) / ab[t].sqrt()
        mean, var = ref.ddpm_posterior(x0_hat, x, tt, betas)
        x = mean + var.sqrt()[:, None] * noises[t - 1]
    torch.testing.assert_close(ref.ddpm_sample(eps, x_T, noises, betas), x)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_samplers_with_the_exact_score_reproduce_the_mixture(sampler):
    mix = ring_mixture()
    T = 100
    betas = cosine_betas(T)
    g = _gen(12)
    x_T = torch.randn(1500, 2, generator=g, dtype=F64)
    eps = _exact_eps(mix, betas)
    if sampler == "ddpm":
        out = ref.ddpm_sample(eps, x_T, torch.randn(T, 1500, 2, generator=g, dtype=F64), betas)
    else:
        out = ref.ddim_sample(eps, x_T, betas, torch.arange(1, T + 1))
    held = mix.sample(1500, _gen(13), dtype=F64)
    assert mmd2(out, held) < 0.003
    assert mmd2(torch.randn(1500, 2, generator=g, dtype=F64), held) > 0.1


def test_ddim_single_jump_with_exact_eps_of_a_point_mass_is_exact():
    # data = a point mass at c: eps*(x_t) = (x_t - sqrt(ab) c) / sqrt(1 - ab), so one jump recovers c exactly
    c = torch.tensor([1.5, -0.5], dtype=F64)
    betas = linear_betas(40, 1e-3, 0.2)
    ab = ref.ddpm_schedule(betas)[1]
    eps = lambda x, t: (x - ab[int(t[0])].sqrt() * c) / (1 - ab[int(t[0])]).sqrt()
    out = ref.ddim_sample(eps, torch.randn(4, 2, generator=_gen(14), dtype=F64), betas, torch.tensor([40]))
    torch.testing.assert_close(out, c.expand(4, 2))


def test_guidance_endpoints():
    c, u = torch.randn(3, 2, generator=_gen(15)), torch.randn(3, 2, generator=_gen(16))
    torch.testing.assert_close(ref.guided_eps(c, u, 0.0), u)
    torch.testing.assert_close(ref.guided_eps(c, u, 1.0), c)


# ----------------------------------------------------------------------------- scores and Langevin

def test_gmm_score_matches_autograd_and_is_stable_far_away():
    mix = ring_mixture()
    x = torch.cat([torch.randn(20, 2, generator=_gen(17), dtype=F64) * 3,
                   torch.tensor([[80.0, -60.0]], dtype=F64)])
    xr = x.clone().requires_grad_(True)
    logp = mix.log_prob(xr)
    (want,) = torch.autograd.grad(logp.sum(), xr)
    got = ref.gmm_score(x, mix.weights, mix.means, mix.covs)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, want)


def test_langevin_on_a_gaussian_reaches_its_mean_and_variance():
    mu, var = 1.0, 0.5
    g = _gen(18)
    x = ref.langevin_sample(lambda x: -(x - mu) / var, torch.zeros(20_000, 1, dtype=F64), 0.01,
                            torch.randn(600, 20_000, 1, generator=g, dtype=F64))
    assert abs(x.mean() - mu) < 0.02
    # the unadjusted chain's stationary variance for a Gaussian is var / (1 - step / (2 var))
    assert abs(x.var() - var / (1 - 0.01 / (2 * var))) < 0.02


# ----------------------------------------------------------------------------- masked convolution

@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_masked_conv_is_causal_in_raster_order(mask_type):
    g = _gen(19)
    x = torch.randn(1, 2, 6, 6, generator=g, dtype=F64, requires_grad=True)
    w = torch.randn(3, 2, 5, 5, generator=g, dtype=F64)
    out = ref.masked_conv2d(x, w, torch.zeros(3, dtype=F64), mask_type)
    for i, j in [(0, 0), (2, 3), (5, 5)]:
        (grad,) = torch.autograd.grad(out[0, :, i, j].sum(), x, retain_graph=True)
        seen = grad[0].abs().sum(0) != 0
        for a in range(6):
            for b in range(6):
                if seen[a, b]:
                    assert (a, b) < (i, j) or (mask_type == "B" and (a, b) == (i, j))
        if mask_type == "B":
            assert seen[i, j]


def test_masked_conv_type_b_of_a_1x1_kernel_is_a_plain_conv():
    x = torch.randn(2, 3, 4, 4, generator=_gen(20), dtype=F64)
    w = torch.randn(5, 3, 1, 1, generator=_gen(21), dtype=F64)
    torch.testing.assert_close(ref.masked_conv2d(x, w, None, "B"), F.conv2d(x, w))
    assert ref.masked_conv2d(x, w, None, "A").abs().max() == 0


# ----------------------------------------------------------------------------- make it work

def test_train_diffusion_reaches_the_target_and_is_deterministic():
    torch.set_num_threads(1)
    mix = ring_mixture()
    x_train = mix.sample(2000, _gen(22))
    betas = linear_betas(100, 1e-3, 0.1).float()
    model = ref.train_diffusion(x_train, betas, seed=1)
    again = ref.train_diffusion(x_train, betas, seed=1)
    g = _gen(23)
    x_T, noises = torch.randn(2000, 2, generator=g), torch.randn(100, 2000, 2, generator=g)
    with torch.no_grad():
        samples = ref.ddpm_sample(model, x_T, noises, betas)
        torch.testing.assert_close(ref.ddpm_sample(again, x_T, noises, betas), samples)
    assert mmd2(samples, mix.sample(2000, _gen(24))) < 0.006


# ----------------------------------------------------------------------------- devices

def test_samplers_and_masked_conv_stay_on_the_inputs_device():
    """On PyTorch's data-less meta device, a tensor made on the CPU behind the caller's back raises (as on CUDA)."""
    meta = torch.device("meta")
    betas = torch.empty(11, device=meta)
    eps = lambda x, t: x * 0.5
    x_T = torch.empty(4, 2, device=meta)
    assert ref.ddpm_sample(eps, x_T, torch.empty(10, 4, 2, device=meta), betas).device == meta
    assert ref.ddim_sample(eps, x_T, betas, torch.tensor([2, 5, 10])).device == meta
    t = torch.ones(4, dtype=torch.long, device=meta)
    assert ref.q_sample(x_T, t, x_T, betas).device == meta
    assert ref.ddpm_loss(eps, x_T, t, x_T, betas).device == meta
    out = ref.masked_conv2d(torch.empty(1, 2, 5, 5, device=meta), torch.empty(3, 2, 3, 3, device=meta), None, "A")
    assert out.device == meta and out.shape == (1, 3, 5, 5)
    z, log_det = ref.affine_coupling_forward(x_T, torch.empty(2, device=meta), lambda u: u, lambda u: u)
    assert z.device == log_det.device == meta


def test_the_make_it_work_judge_refuses_copies_and_poor_samples_and_accepts_fresh_ones():
    from autograder.checks import registry

    chk = registry()["train_diffusion"]
    (case,) = list(chk.cases())
    x_train, held_out = case.args[0], case.expected
    fresh = ring_mixture().sample(2000, _gen(25))
    assert chk.compare(fresh, held_out, case) is None
    assert "coincide" in chk.compare(x_train.clone(), held_out, case)
    assert "MMD" in chk.compare(torch.randn(2000, 2, generator=_gen(26)), held_out, case)
    assert "shape" in chk.compare(fresh[:100], held_out, case)
    assert "NaN" in chk.compare(torch.full((2000, 2), float("nan")), held_out, case)
