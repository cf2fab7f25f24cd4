"""The two-spirals data set of chapter 04: balanced, seeded, and not linearly separable."""
import torch

from course.spirals import make_spirals


def test_shapes_balance_and_determinism():
    X, y = make_spirals(101, torch.Generator().manual_seed(3), dtype=torch.float32)
    assert X.shape == (101, 2) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.bincount(y).tolist() == [51, 50]
    X2, y2 = make_spirals(101, torch.Generator().manual_seed(3), dtype=torch.float32)
    assert torch.equal(X, X2) and torch.equal(y, y2)


def test_arms_are_half_a_turn_apart_and_not_linearly_separable():
    X, y = make_spirals(2000, torch.Generator().manual_seed(0), noise=0.0)
    radius = X.norm(dim=1)
    assert radius.min() >= 0.15 - 1e-12 and radius.max() <= 1.15 + 1e-12
    # the best linear classifier through least squares stays far from separating the arms
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)
    w = torch.linalg.lstsq(A, (2 * y - 1).to(X.dtype).unsqueeze(1)).solution
    accuracy = ((A @ w).squeeze(1) > 0).eq(y.bool()).double().mean()
    assert accuracy < 0.75
