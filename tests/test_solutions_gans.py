"""solutions_lib.gans against torch's built-ins, scipy, closed forms and autograd in float64 (chapter 13)."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from course.gan_toys import make_mlp, mode_report, sample_ring
from solutions_lib import gans as ref

F64 = torch.float64


def _gen(seed):
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- losses

def test_losses_match_binary_cross_entropy_with_logits(device, dtype):
    real = (5 * torch.randn(7, generator=_gen(0), dtype=F64)).to(device, dtype)
    fake = (5 * torch.randn(4, 1, generator=_gen(1), dtype=F64)).to(device, dtype)
    expected = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    got = ref.discriminator_loss(real, fake)
    assert got.dtype == dtype and got.device == real.device and got.dim() == 0
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(ref.generator_loss(fake), F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake)))
    torch.testing.assert_close(ref.generator_loss(fake, saturating=True),
                               -F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))


def test_losses_are_finite_for_huge_logits():
    big = torch.tensor([1e4, -1e4, 800.0, -800.0], dtype=F64)
    assert torch.isfinite(ref.discriminator_loss(big, big))
    assert ref.generator_loss(torch.tensor([-1e4], dtype=F64)).item() == 1e4
    assert ref.generator_loss(torch.tensor([1e4], dtype=F64), saturating=True).item() == -1e4


def test_saturating_loss_has_no_gradient_where_the_discriminator_wins():
    s = torch.tensor([-10.0], dtype=F64, requires_grad=True)
    (g_sat,) = torch.autograd.grad(ref.generator_loss(s, saturating=True), s)
    (g_non,) = torch.autograd.grad(ref.generator_loss(s), s)
    assert abs(g_sat.item()) < 1e-4 and abs(g_non.item() + 1) < 1e-4


# ----------------------------------------------------------------------------- optimal discriminator, value

def test_optimal_discriminator_maximizes_the_integrand():
    a = torch.rand(50, generator=_gen(2), dtype=F64)
    b = torch.rand(50, generator=_gen(3), dtype=F64)
    d_star = ref.optimal_discriminator(a, b)
    grid = torch.linspace(1e-4, 1 - 1e-4, 2001, dtype=F64)[:, None]
    values = a * torch.log(grid) + b * torch.log(1 - grid)
    best = a * torch.log(d_star) + b * torch.log(1 - d_star)
    assert (best >= values.max(0).values - 1e-9).all()
    assert ref.optimal_discriminator(torch.zeros(1), torch.zeros(1)).item() == 0.5


def test_gan_value_at_the_optimum_is_two_jsd_minus_log_four():
    from scipy.spatial.distance import jensenshannon

    x = torch.linspace(-8, 8, 1601, dtype=F64)
    dx = float(x[1] - x[0])
    p = torch.exp(-0.5 * x ** 2)
    q = torch.exp(-0.5 * ((x - 1.5) / 0.7) ** 2)
    p, q = torch.where(p > 1e-10, p, 0.0), torch.where(q > 1e-10, q, 0.0)
    p, q = p / (p.sum() * dx), q / (q.sum() * dx)
    value = ref.gan_value(ref.optimal_discriminator(p, q), p, q, dx)
    js = jensenshannon((p * dx).numpy(), (q * dx).numpy()) ** 2
    assert abs(value.item() - (2 * js - math.log(4))) < 1e-10
    assert abs(ref.gan_value(torch.full_like(p, 0.5), p, p, dx).item() + math.log(4)) < 1e-12


# ----------------------------------------------------------------------------- f-GAN

F_FUNCTIONS = {"kl": lambda u: u * math.log(u), "reverse_kl": lambda u: -math.log(u),
               "pearson": lambda u: (u - 1) ** 2, "hellinger": lambda u: (math.sqrt(u) - 1) ** 2}
F_PRIME = {"kl": lambda u: 1 + torch.log(u), "reverse_kl": lambda u: -1 / u,
           "pearson": lambda u: 2 * (u - 1), "hellinger": lambda u: 1 - 1 / torch.sqrt(u)}


@pytest.mark.parametrize("divergence", list(F_FUNCTIONS))
def test_conjugates_are_the_supremum(divergence):
    """f*(t) = sup_u (u t - f(u)), by a dense search over u, at points t inside the domain."""
    us = torch.logspace(-4, 3, 200001, dtype=F64)
    f = F_FUNCTIONS[divergence]
    f_vals = torch.tensor([0.0])
    f_vals = us * torch.log(us) if divergence == "kl" else (-torch.log(us) if divergence == "reverse_kl" else (
        (us - 1) ** 2 if divergence == "pearson" else (torch.sqrt(us) - 1) ** 2))
    ts = {"kl": [-1.0, 0.0, 1.5], "reverse_kl": [-3.0, -1.0, -0.2], "pearson": [-1.0, 0.0, 2.0],
          "hellinger": [-2.0, 0.0, 0.6]}[divergence]
    for t in ts:
        sup = float((us * t - f_vals).max())
        got = ref.fgan_lower_bound(torch.zeros(1, dtype=F64), torch.tensor([t], dtype=F64), divergence)
        assert abs(-got.item() - sup) < 1e-4 * max(1.0, abs(sup)), (divergence, t)
    assert f(1.0) == 0.0


@pytest.mark.parametrize("divergence", list(F_FUNCTIONS))
def test_fgan_bound_is_tight_at_the_optimal_critic_and_below_elsewhere(divergence):
    p = torch.tensor([0.2, 0.5, 0.3], dtype=F64)
    q = torch.tensor([0.4, 0.4, 0.2], dtype=F64)
    exact = sum(qi * F_FUNCTIONS[divergence](pi / qi) for pi, qi in zip(p.tolist(), q.tolist()))
    # "samples" in exact proportion: 10 draws per unit mass
    reps_p, reps_q = (p * 10).round().long(), (q * 10).round().long()
    t_star = F_PRIME[divergence](p / q)
    bound = ref.fgan_lower_bound(t_star.repeat_interleave(reps_p), t_star.repeat_interleave(reps_q), divergence)
    assert abs(bound.item() - exact) < 1e-12
    other = t_star - 0.1 * torch.tensor([1.0, -1.0, 0.5], dtype=F64)
    assert ref.fgan_lower_bound(other.repeat_interleave(reps_p), other.repeat_interleave(reps_q), divergence) < exact


def test_fgan_rejects_unknown_divergences():
    with pytest.raises(ValueError):
        ref.fgan_lower_bound(torch.zeros(2), torch.zeros(2), "tv")


# ----------------------------------------------------------------------------- Wasserstein

@pytest.mark.parametrize("sizes", [(40, 40), (13, 50), (1, 7)])
def test_wasserstein_matches_scipy(sizes, device, dtype):
    from scipy.stats import wasserstein_distance

    x = torch.randn(sizes[0], generator=_gen(4), dtype=F64) * 2
    y = torch.rand(sizes[1], generator=_gen(5), dtype=F64) * 3 - 1
    got = ref.wasserstein_1d(x.to(device, dtype), y.to(device, dtype))
    assert got.dtype == dtype and got.device.type == device.type
    assert abs(got.item() - wasserstein_distance(x.numpy(), y.numpy())) < (1e-5 if dtype == torch.float32 else 1e-12)


def test_wasserstein_of_a_shift_is_the_shift():
    x = torch.randn(30, generator=_gen(6), dtype=F64)
    assert abs(ref.wasserstein_1d(x, x.flip(0) + 1.25).item() - 1.25) < 1e-12


# ----------------------------------------------------------------------------- gradient penalty

def _loop_penalty(critic, real, fake, alpha):
    terms = []
    for i in range(real.shape[0]):
        xi = (alpha[i] * real[i:i + 1] + (1 - alpha[i]) * fake[i:i + 1]).detach().requires_grad_(True)
        (g,) = torch.autograd.grad(critic(xi).sum(), xi, create_graph=True)
        terms.append((g.flatten().norm() - 1) ** 2)
    return torch.stack(terms).mean()


def test_gradient_penalty_against_a_loop_over_examples_on_images():
    g = _gen(7)
    critic = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.Tanh(), torch.nn.Flatten(),
                                 torch.nn.Linear(4 * 25, 1)).double()
    real, fake = torch.rand(5, 3, 5, 5, generator=g, dtype=F64), torch.rand(5, 3, 5, 5, generator=g, dtype=F64)
    alpha = torch.rand(5, generator=g, dtype=F64)
    got = ref.gradient_penalty(critic, real, fake, alpha)
    expected = _loop_penalty(critic, real, fake, alpha)
    torch.testing.assert_close(got, expected)
    params = list(critic.parameters())
    grads = torch.autograd.grad(got, params, allow_unused=True)
    for p, a, b in zip(params, grads, torch.autograd.grad(expected, params, allow_unused=True)):
        torch.testing.assert_close(torch.zeros_like(p) if a is None else a, torch.zeros_like(p) if b is None else b)
    assert grads[0] is not None and grads[0].abs().sum() > 0
    # the textbook's norm over the channels alone is a different number
    mixed = (alpha.view(-1, 1, 1, 1) * real + (1 - alpha.view(-1, 1, 1, 1)) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed)
    assert abs(((grad.norm(2, dim=1) - 1) ** 2).mean().item() - got.item()) > 1e-3


def test_gradient_penalty_is_twice_differentiable_by_finite_differences():
    critic = make_mlp([3, 8, 1], _gen(8), activation=torch.nn.Tanh, dtype=F64)
    real, fake = torch.randn(6, 3, generator=_gen(9), dtype=F64), torch.randn(6, 3, generator=_gen(10), dtype=F64)
    alpha = torch.rand(6, generator=_gen(11), dtype=F64)
    w = critic[0].weight
    (grad,) = torch.autograd.grad(ref.gradient_penalty(critic, real, fake, alpha), w)
    h = 1e-6
    with torch.no_grad():
        w[1, 2] += h
        up = ref.gradient_penalty(critic, real, fake, alpha).item()
        w[1, 2] -= 2 * h
        down = ref.gradient_penalty(critic, real, fake, alpha).item()
        w[1, 2] += h
    assert abs(grad[1, 2].item() - (up - down) / (2 * h)) < 1e-6


# ----------------------------------------------------------------------------- spectral normalization

def test_spectral_normalize_matches_torch_spectral_norm():
    lin = torch.nn.Linear(6, 4).double()
    torch.nn.init.normal_(lin.weight, generator=_gen(12))
    weight = lin.weight.detach().clone()
    u0 = F.normalize(torch.randn(4, generator=_gen(13), dtype=F64), dim=0)
    sn = torch.nn.utils.spectral_norm(lin, n_power_iterations=3, eps=1e-300)
    with torch.no_grad():
        sn.weight_u.copy_(u0)
    sn.train()
    sn(torch.zeros(1, 6, dtype=F64))
    w_sn, sigma, u = ref.spectral_normalize(weight, u0, 3)
    torch.testing.assert_close(w_sn, sn.weight.detach())
    torch.testing.assert_close(u, sn.weight_u)
    torch.testing.assert_close(sigma, (weight / sn.weight.detach())[0, 0])


def test_spectral_normalize_converges_to_the_largest_singular_value_of_a_conv_weight(dtype):
    w = torch.randn(5, 2, 3, 3, generator=_gen(14), dtype=F64).to(dtype)
    _, sigma, _ = ref.spectral_normalize(w, torch.randn(5, generator=_gen(15), dtype=F64).to(dtype), 200)
    expected = torch.linalg.matrix_norm(w.reshape(5, -1).double(), ord=2)
    assert abs(sigma.double() - expected) < (1e-4 if dtype == torch.float32 else 1e-10) * expected


def test_conditional_input():
    out = ref.conditional_input(torch.ones(3, 2, dtype=F64), torch.tensor([0, 2, 1]), 4)
    assert out.dtype == F64 and out.shape == (3, 6)
    torch.testing.assert_close(out[:, 2:], F.one_hot(torch.tensor([0, 2, 1]), 4).double())


# ----------------------------------------------------------------------------- the make-it-work task

def test_train_gan_2d_reaches_the_stated_target():
    from autograder.checks.ch13 import GAN_MIN_NEAR

    torch.set_num_threads(1)
    G = ref.train_gan_2d(sample_ring(2000, _gen(1310)), _gen(1))
    with torch.no_grad():
        report = mode_report(G(torch.randn(4000, 2, generator=_gen(31337))))
    assert report["covered"] == 8 and report["near_fraction"] >= GAN_MIN_NEAR + 0.15, report
