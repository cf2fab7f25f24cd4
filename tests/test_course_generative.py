"""course.generative: the chapter 14 mixture, schedules and MMD."""
from __future__ import annotations

import math

import pytest
import torch

from course.generative import cosine_betas, linear_betas, mmd2, ring_mixture


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def test_ring_mixture_samples_match_its_moments_and_density_integrates_to_one():
    mix = ring_mixture()
    assert torch.isclose(mix.weights.sum(), torch.tensor(1.0, dtype=torch.float64))
    x = mix.sample(200_000, _gen(0), dtype=torch.float64)
    mean = (mix.weights[:, None] * mix.means).sum(0)
    assert torch.allclose(x.mean(0), mean, atol=0.02)
    grid = torch.linspace(-6, 6, 601, dtype=torch.float64)
    gx, gy = torch.meshgrid(grid, grid, indexing="xy")
    dens = mix.log_prob(torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)).exp()
    assert abs(float(dens.sum()) * (12 / 600) ** 2 - 1) < 1e-3


def test_sampling_is_seeded_and_labels_follow_components():
    mix = ring_mixture()
    a, la = mix.sample(50, _gen(1), with_labels=True)
    b, lb = mix.sample(50, _gen(1), with_labels=True)
    assert torch.equal(a, b) and torch.equal(la, lb) and a.dtype == torch.float32
    assert set(la.tolist()) <= {0, 1, 2} and mix.n_classes == 3


def test_noised_mixture_is_the_law_of_the_noised_samples():
    mix = ring_mixture()
    ab = 0.3
    x = mix.sample(200_000, _gen(2), dtype=torch.float64)
    y = math.sqrt(ab) * x + math.sqrt(1 - ab) * torch.randn(x.shape, generator=_gen(3), dtype=torch.float64)
    noisy = mix.noised(ab)
    assert abs(float(mix.noised(1.0).log_prob(x[:100]).sum() - mix.log_prob(x[:100]).sum())) < 1e-9
    # the average log density of the noised samples under the noised law beats the clean law's by far
    assert float(noisy.log_prob(y).mean()) > float(mix.log_prob(y).mean()) + 1
    cls = mix.only_class(1)
    assert torch.isclose(cls.weights.sum(), torch.tensor(1.0, dtype=torch.float64)) and len(cls.weights) == 2


@pytest.mark.parametrize("make", [cosine_betas, linear_betas])
def test_schedules_follow_the_course_convention(make):
    betas = make(50)
    assert betas.shape == (51,) and betas[0] == 0 and (betas[1:] > 0).all() and (betas < 1).all()
    assert torch.cumprod(1 - betas, 0)[-1] < 0.01
    with pytest.raises(ValueError):
        make(0)


def test_mmd2_is_near_zero_for_one_law_and_large_for_two():
    mix = ring_mixture()
    a, b = mix.sample(1000, _gen(4)), mix.sample(1000, _gen(5))
    assert abs(mmd2(a, b)) < 0.002
    assert mmd2(a, torch.randn(1000, 2, generator=_gen(6))) > 0.1
