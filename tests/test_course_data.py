"""course.data: the offline data sets (digits split, 2-D blobs)."""
from __future__ import annotations

import pytest
import torch

from course.data import DIGITS_SIZE, load_digits, make_blobs_2d


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_digits_shapes_dtypes_and_range(digits):
    X_train, y_train, X_test, y_test = digits
    assert X_train.shape == (1348, 64) and X_test.shape == (449, 64)
    assert y_train.shape == (1348,) and y_test.shape == (449,)
    assert X_train.dtype == X_test.dtype == torch.float32
    assert y_train.dtype == y_test.dtype == torch.int64
    assert float(X_train.min()) == 0.0 and float(X_train.max()) == 1.0
    assert set(torch.cat([y_train, y_test]).tolist()) == set(range(10))


def test_digits_split_is_a_partition_of_the_whole_set(digits):
    from sklearn.datasets import load_digits as sk_digits

    X_train, y_train, X_test, y_test = digits
    raw = torch.as_tensor(sk_digits().data, dtype=torch.float64) / 16
    assert X_train.shape[0] + X_test.shape[0] == DIGITS_SIZE == raw.shape[0]
    # Every image of the full set appears exactly once across the two parts.
    both = torch.cat([X_train, X_test]).double()
    key = lambda rows: sorted(map(tuple, rows.tolist()))  # noqa: E731
    assert key(both) == key(raw)


def test_digits_split_is_fixed_by_the_seed(digits):
    again = load_digits()
    for a, b in zip(digits, again):
        assert torch.equal(a, b)
    other = load_digits(seed=1)
    assert not torch.equal(digits.y_test, other.y_test)
    assert digits.X_test is digits[2] and digits.y_train is digits[1]  # named fields and tuple order agree


def test_digits_options():
    split = load_digits(test_fraction=0.1, seed=3, dtype=torch.float64)
    assert split.X_test.shape == (180, 64) and split.X_train.shape == (1617, 64)
    assert split.X_train.dtype == torch.float64
    assert load_digits(test_fraction=0.0).X_test.shape == (0, 64)
    with pytest.raises(ValueError):
        load_digits(test_fraction=1.0)


def test_blobs_shapes_balance_and_determinism():
    X, y = make_blobs_2d(100, 3, torch.Generator().manual_seed(0))
    assert X.shape == (100, 2) and X.dtype == torch.float32
    assert y.shape == (100,) and y.dtype == torch.int64
    assert torch.bincount(y).tolist() == [34, 33, 33]
    X2, y2 = make_blobs_2d(100, 3, torch.Generator().manual_seed(0))
    assert torch.equal(X, X2) and torch.equal(y, y2)
    X3, _ = make_blobs_2d(100, 3, torch.Generator().manual_seed(1))
    assert not torch.equal(X, X3)


def test_blobs_clusters_sit_at_their_centres():
    X, y = make_blobs_2d(4000, 4, torch.Generator().manual_seed(0), radius=5.0, spread=0.5, dtype=torch.float64)
    centres = torch.tensor([[5.0, 0.0], [0.0, 5.0], [-5.0, 0.0], [0.0, -5.0]], dtype=torch.float64)
    for j in range(4):
        points = X[y == j]
        assert torch.allclose(points.mean(dim=0), centres[j], atol=0.08)  # 5 standard errors
        assert points.std(dim=0).sub(0.5).abs().max() < 0.05


def test_blobs_reject_bad_k():
    with pytest.raises(ValueError):
        make_blobs_2d(10, 0, torch.Generator().manual_seed(0))
