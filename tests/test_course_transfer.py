"""course.transfer: the chapter 19 shift, split, networks and helpers."""
from __future__ import annotations

import torch

from course.transfer import accuracy, domain_split, median_bandwidth, rotate_digits, small_cnn, source_only


def test_rotation_is_exact_at_quarter_turns_and_identity_at_zero():
    X = torch.rand(5, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    torch.testing.assert_close(rotate_digits(X, 0.0), X)
    quarter = rotate_digits(X, 90.0).reshape(5, 8, 8)
    images = X.reshape(5, 8, 8)
    assert any(torch.allclose(quarter, torch.rot90(images, k, dims=(1, 2)), atol=1e-9) for k in (1, 3))
    torch.testing.assert_close(rotate_digits(rotate_digits(X, 90.0), -90.0), X)
    moved = rotate_digits(X, 0.0, shift=1.0).reshape(5, 8, 8)
    torch.testing.assert_close(moved[:, :, 1:], images[:, :, :-1])
    assert float(moved[:, :, 0].abs().max()) == 0.0


def test_domain_split_is_disjoint_deterministic_and_rotated():
    a, b = domain_split(30.0, seed=3), domain_split(30.0, seed=3)
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert len(a.y_source) + len(a.X_target) + len(a.y_target_test) == 1797
    assert not torch.equal(domain_split(30.0, seed=4).y_source, a.y_source)
    upright = domain_split(0.0, seed=3)
    torch.testing.assert_close(rotate_digits(upright.X_target, 30.0), a.X_target)
    assert torch.equal(upright.y_source, a.y_source) and upright.X_source.dtype == torch.float32


def test_networks_and_helpers():
    assert small_cnn(7)(torch.zeros(3, 64)).shape == (3, 7)
    assert isinstance(small_cnn(5)[-1], torch.nn.Linear)
    d = domain_split(0.0)
    encoder, classifier = source_only(d.X_source, d.y_source, torch.Generator().manual_seed(0), steps=200)
    with torch.no_grad():
        assert accuracy(classifier(encoder(d.X_target_test)), d.y_target_test) > 0.85
    assert median_bandwidth(torch.zeros(1, 2), torch.tensor([[3.0, 4.0]])) == 5.0
