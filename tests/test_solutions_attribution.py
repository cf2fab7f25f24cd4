"""solutions_lib.attribution (chapter 20) against brute force, the axioms, closed forms and autograd, in float64."""
from __future__ import annotations

import math

import pytest
import torch

from course.xai import (attribution_digits, deletion_auc, deletion_curve, random_deletion_curve,
                        train_digit_classifier)
from solutions_lib import attribution as A

F64 = torch.float64
NOTES_GAME = torch.tensor([0, 100, 125, 270, 50, 375, 350, 500], dtype=F64)


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _game(seed, m):
    return torch.randn(1 << m, generator=_gen(seed), dtype=F64)


def test_the_notes_example_by_hand_and_its_slip():
    # marginal contributions of player 1 (index 0) in the six orders 123, 132, 213, 231, 312, 321
    contributions = [100, 100, 270 - 125, 500 - 350, 375 - 50, 500 - 350]
    assert sum(contributions) == 970
    expected = torch.tensor([970, 970, 1060], dtype=F64) / 6
    for fn in (A.shapley_subsets, A.shapley_permutations, A.kernel_shap):
        torch.testing.assert_close(fn(NOTES_GAME), expected)
    # (17.6) as printed sums five of the six orders: 820 / 6 is not player 1's value and breaks efficiency
    printed = (100 + 100 + 145 + 325 + 150) / 6
    assert abs(printed - 970 / 6) > 20
    assert A.axiom_violations(NOTES_GAME, torch.tensor([printed, 970 / 6, 1060 / 6], dtype=F64)) == ["efficiency"]


def test_contested_garment():
    garment = torch.tensor([0.0, 1.0, 0.5, 1.0], dtype=F64)
    torch.testing.assert_close(A.shapley_subsets(garment), torch.tensor([0.75, 0.25], dtype=F64))


@pytest.mark.parametrize("m", [1, 2, 3, 4, 5, 6])
def test_subsets_permutations_and_kernel_shap_agree(m):
    values = _game(m, m)
    exact = A.shapley_subsets(values)
    torch.testing.assert_close(A.shapley_permutations(values), exact)
    if m >= 2:
        torch.testing.assert_close(A.kernel_shap(values), exact)


def test_subset_weights_are_the_textbook_binomial_form():
    m = 6
    values = _game(7, m)
    phi = torch.zeros(m, dtype=F64)
    for i in range(m):
        for s in range(1 << m):
            if not s & (1 << i):
                k = bin(s).count("1")
                phi[i] += (values[s | 1 << i] - values[s]) / (m * math.comb(m - 1, k))
    torch.testing.assert_close(A.shapley_subsets(values), phi)


def test_axioms_hold_for_the_exact_values_and_additivity():
    v, w = _game(1, 5), _game(2, 5)
    phi = A.shapley_subsets(v)
    assert A.axiom_violations(v, phi) == []
    torch.testing.assert_close(A.shapley_subsets(v + w), phi + A.shapley_subsets(w))
    torch.testing.assert_close(A.shapley_subsets(2.5 * v), 2.5 * phi)


def test_axiom_violations_detects_each_axiom():
    # players 0 and 1 symmetric, player 2 a dummy worth 1.5, v(empty) = 2
    values = torch.tensor([2.0 + [0, 1, 1, 4][m & 3] + (1.5 if m & 4 else 0) for m in range(8)], dtype=F64)
    phi = A.shapley_subsets(values)
    torch.testing.assert_close(phi, torch.tensor([2.0, 2.0, 1.5], dtype=F64))
    assert A.axiom_violations(values, phi) == []
    assert A.axiom_violations(values, phi + torch.tensor([0.1, 0.1, 0.0], dtype=F64)) == ["efficiency"]
    assert A.axiom_violations(values, phi + torch.tensor([0.5, -0.5, 0.0], dtype=F64)) == ["symmetry"]
    assert A.axiom_violations(values, phi + torch.tensor([0.75, 0.75, -1.5], dtype=F64)) == ["dummy"]


def test_monte_carlo_is_efficient_reproducible_and_converges():
    values = _game(3, 5)
    exact = A.shapley_subsets(values)
    one = A.shapley_monte_carlo(values, 3, _gen(4))
    torch.testing.assert_close(one.sum(), values[-1] - values[0])
    torch.testing.assert_close(A.shapley_monte_carlo(values, 3, _gen(4)), one)
    many = A.shapley_monte_carlo(values, 4000, _gen(5))
    assert (many - exact).abs().max() < 0.1 * exact.abs().max() + 0.05


def test_shapley_kernel_weights():
    for m in (2, 3, 5, 9):
        w = A.shapley_kernel_weights(m)
        expected = [(m - 1) * math.factorial(s) * math.factorial(m - s) / (math.factorial(m) * s * (m - s))
                    for s in range(1, m)]
        torch.testing.assert_close(w, torch.tensor(expected, dtype=F64))
        torch.testing.assert_close(w, w.flip(0))


def test_interventional_values_ends_and_linear_closed_form():
    g = _gen(6)
    x, bg = torch.randn(4, generator=g, dtype=F64), torch.randn(9, 4, generator=g, dtype=F64)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1)).double()
    f = lambda z: net(z).detach()[:, 0]
    v = A.interventional_values(f, x, bg)
    torch.testing.assert_close(v[-1], f(x[None])[0])
    torch.testing.assert_close(v[0], f(bg).mean())
    # brute force one coalition: {0, 2} is mask 5
    z = bg.clone()
    z[:, [0, 2]] = x[[0, 2]]
    torch.testing.assert_close(v[5], f(z).mean())
    w, b = torch.randn(4, generator=g, dtype=F64), 0.3
    linear_game = A.interventional_values(lambda z: z @ w + b, x, bg)
    torch.testing.assert_close(A.shapley_subsets(linear_game), A.linear_shap(w, b, x, bg))


def test_gradient_attributions_against_jacobians_and_completeness():
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(3, 7), torch.nn.Tanh(), torch.nn.Linear(7, 4)).double()
    x = torch.randn(5, 3, generator=_gen(7), dtype=F64)
    target = torch.tensor([0, 3, 1, 1, 2])
    jac = torch.stack([torch.func.jacrev(net)(row)[t] for row, t in zip(x, target)])
    torch.testing.assert_close(A.gradient_x_input(net, x, target), x * jac)
    base = torch.randn(3, generator=_gen(8), dtype=F64)
    ig = A.integrated_gradients(net, x, base, target, steps=2000)
    gap = (net(x) - net(base.expand_as(x))).gather(1, target[:, None])[:, 0]
    torch.testing.assert_close(ig.sum(1), gap, rtol=1e-6, atol=1e-6)
    # a linear model: IG is exact with one step and equals w (x - baseline)
    lin = torch.nn.Linear(3, 2).double()
    ig1 = A.integrated_gradients(lin, x, base, torch.zeros(5, dtype=torch.long), steps=1)
    torch.testing.assert_close(ig1, lin.weight[0].detach() * (x - base))


def test_midpoint_rule_by_hand():
    f = lambda z: torch.stack([(z ** 3).sum(1), z.sum(1)], dim=1)
    x, base = torch.tensor([[1.0, 2.0]], dtype=F64), torch.zeros(2, dtype=F64)
    # alpha = 1/4, 3/4: mean of 3 (alpha x)^2 = 3 x^2 (1/16 + 9/16) / 2, times x
    expected = x * 3 * x ** 2 * (10 / 16) / 2
    torch.testing.assert_close(A.integrated_gradients(f, x, base, torch.tensor([0]), steps=2), expected)


def test_deletion_attribution_beats_random_deletion():
    split = attribution_digits()
    model = train_digit_classifier(split.X_train, split.y_train, seed=3)
    x, t = split.X_test[:120], split.y_test[:120]
    score = deletion_auc(deletion_curve(model, x, t, A.deletion_attribution(model, x, t))[:, :17])
    random_score = deletion_auc(random_deletion_curve(model, x, t, _gen(0))[:, :17])
    assert score < 0.25 * random_score
    flipped = deletion_auc(deletion_curve(model, x, t, -A.deletion_attribution(model, x, t))[:, :17])
    assert flipped > random_score
