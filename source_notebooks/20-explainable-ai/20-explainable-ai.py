# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 20 · Attributing predictions: Shapley values, SHAP and integrated gradients
#
# A network says "this is a 3". Which pixels made it say so? An **attribution** splits a prediction among the
# input features. This chapter builds the two families used in practice. The first comes from cooperative game
# theory: the features are players, the prediction is the payoff, and the **Shapley value** is the only way to
# share the payoff that satisfies a short list of fairness axioms; SHAP and Kernel SHAP compute it for models.
# The second uses gradients: **gradient x input** and **integrated gradients**, which make a network's own
# derivatives add up to its prediction. At the end you judge an attribution the way practitioners do: delete
# the pixels it calls most important and watch the model's confidence fall.
#
# **Learning goals**
# - Compute exact Shapley values by subsets and by permutations, derive the subset weights from the
#   permutation definition, and estimate them by Monte Carlo from a generator you pass in.
# - Test an allocation against the axioms (efficiency, symmetry, dummy) and see additivity hold.
# - Write the Shapley kernel and the constrained weighted least-squares fit of Kernel SHAP, and see it
#   reproduce the exact values.
# - Turn a model into a game with the interventional value function and a background set; derive the closed
#   form for a linear model; attribute a small network.
# - Write gradient x input and integrated gradients with their completeness check, and build an attribution
#   whose deletion curve falls far faster than random deletion.
#
# **Notes followed.** *A deep-learning textbook with PyTorch examples*, chapter 17 (Explainable AI): §17.1 (the
# Shapley value, the contested garment and "run to the bank"), §17.2 (the subsets and permutation formulas and
# a three-player example), §17.3 (additive feature attribution, SHAP's conditional expectations), §17.4
# (Kernel SHAP: the Shapley kernel and the weighted least-squares solution). Integrated gradients follow
# Sundararajan, Taly and Yan (2017), the reference the notes' gradient methods rest on.
#
# **Conventions used throughout** (each exercise repeats the one it needs).
# - A **game** on $M$ players is a table `values` of shape `(2**M,)`: `values[mask]` is the payoff $v(S)$ of the
#   coalition $S$ whose members are the set bits of `mask`; player `i` is bit `1 << i`. For three players:
#   index 1 is $\{0\}$, 2 is $\{1\}$, 3 is $\{0,1\}$, 4 is $\{2\}$, ..., 7 is everyone. `values[0]` (the empty
#   coalition) need not be 0; everything below works with differences $v(S\cup\{i\}) - v(S)$.
# - Attributions are `(M,)` tensors in the dtype of `values` (float64 here). Players are numbered from 0 (the
#   notes number them from 1).
# - A classifier maps `(B, D)` inputs to `(B, C)` logits; gradient attributions explain the **logit** of each
#   row's `target` class and come back as `(B, D)` in the dtype of `x`.
# - Randomness comes from a `torch.Generator` you are given. No function changes its inputs in place.


# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import math
import itertools
import numpy as np
import torch
import matplotlib.pyplot as plt
import ipywidgets as widgets
from course.checks import expect_close, expect_true, expect_shape
from course.demos import interact, needs_exercises
from course.xai import (attribution_digits, train_digit_classifier, deletion_curve, deletion_auc,
                        random_deletion_curve, patch_model, patches_to_pixels)
f64 = torch.float64

# %%
# Small computations: one thread is fastest and leaves the machine responsive.
torch.set_num_threads(1)


def game(*payoffs):
    """A game table from payoffs listed by mask: game(v0, v1, ..., v_{2^M - 1})."""
    return torch.tensor(payoffs, dtype=f64)


# The notes' three-player example (players 1, 2, 3 there are 0, 1, 2 here):
# v({1}) = 100, v({2}) = 125, v({3}) = 50, v({1,2}) = 270, v({1,3}) = 375, v({2,3}) = 350, v({1,2,3}) = 500.
TEXTBOOK = game(0, 100, 125, 270, 50, 375, 350, 500)
GARMENT = game(0, 1, 0.5, 1)      # the contested garment: claimant 0 claims all, claimant 1 half

# %% [markdown]
# ## 1. The Shapley value
#
# Players arrive one by one in a random order, every order equally likely ("run to the bank"). When player $i$
# arrives and joins the players already there, $P$, they bring the **marginal contribution**
# $v(P\cup\{i\}) - v(P)$. The Shapley value $\phi_i$ is the average of that contribution over all $M!$ orders.
# That is one definition; the other sums over coalitions instead of orders.
#
# ### Exercise 1: `shapley_permutations`
# `values` `(2**M,)`; return the `(M,)` Shapley values as the average marginal contribution over all $M!$
# orders (`itertools.permutations(range(M))`). $M$ is at most 8 here.

# %% nbgrader={"grade": false, "grade_id": "shapley_permutations", "locked": false, "schema_version": 3, "solution": true}
def shapley_permutations(values):
    """Shapley values as the average marginal contribution over every order of arrival.

    Args:
        values: (2**M,) game table, bit i of the index = player i.

    Returns:
        (M,) tensor, dtype of values.
    """
    ### BEGIN SOLUTION
    m = int(values.shape[0]).bit_length() - 1
    total = torch.zeros(m, dtype=values.dtype)
    for order in itertools.permutations(range(m)):
        mask = 0
        for player in order:
            total[player] += values[mask | (1 << player)] - values[mask]
            mask |= 1 << player
    return total / math.factorial(m)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_shapley_permutations", "locked": true, "points": 1, "schema_version": 3, "solution": false}
garment = torch.tensor([0.0, 1.0, 0.5, 1.0], dtype=f64)   # v(empty), v({0}), v({1}), v({0, 1})
expect_close(shapley_permutations(garment), torch.tensor([0.75, 0.25], dtype=f64), what="shapley_permutations(contested garment)",
             hint="Two orders: (0, 1) gives contributions (1, 0) and (1, 0) gives (0.5, 0.5); average them.")

# %% nbgrader={"grade": true, "grade_id": "test_shapley_permutations_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("shapley_permutations", shapley_permutations)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2: `shapley_subsets` (a derivation)
# An order of arrival only matters to player $i$ through the set $S$ of players before them. Count the orders
# in which exactly the players of $S$ (with $|S| = s$) come before $i$, divide by $M!$, and you have the weight
# of the term $v(S\cup\{i\}) - v(S)$ in a sum over coalitions $S\subseteq\{0..M-1\}\setminus\{i\}$. Derive that
# weight, then write `shapley_subsets(values)` returning the same `(M,)` values with $2^{M-1}$ terms per player
# instead of $M!$ orders (it must stay fast for $M = 16$: 65 536 coalitions).
#
# <details><summary>Hint 1</summary>
# In such an order, the players of S come first in any order, then i, then the others in any order.
# </details>
# <details><summary>Hint 2</summary>
# There are s! ways to order S and (M - s - 1)! ways to order the rest.
# </details>
# <details><summary>Hint 3</summary>
# The weight is s! (M - s - 1)! / M!, which equals 1 / (M * C(M-1, s)): the notes' formula (17.3).
# Loop over players; for each, the masks without bit i are those with mask & (1 << i) == 0.
# </details>
#
# **The notes' example has a slip.** For the three-player game above, the notes compute $\phi_1$ by subsets as
# $970/6$ (17.5) but by permutations as $\frac16(100+100+145+325+150)$ (17.6): five contributions for six
# orders. Work out the table of marginal contributions yourself (your two functions must agree), then check the
# efficiency of your answer: the three values must add up to $v(\{1,2,3\}) = 500$.

# %% nbgrader={"grade": false, "grade_id": "shapley_subsets", "locked": false, "schema_version": 3, "solution": true}
def shapley_subsets(values):
    """Exact Shapley values by the sum over coalitions not containing each player.

    Args:
        values: (2**M,) game table, bit i of the index = player i.

    Returns:
        (M,) tensor, dtype of values.
    """
    ### BEGIN SOLUTION
    m = int(values.shape[0]).bit_length() - 1
    masks = torch.arange(1 << m)
    sizes = torch.tensor([bin(k).count("1") for k in range(1 << m)])
    weights = torch.tensor([math.factorial(s) * math.factorial(m - s - 1) / math.factorial(m) if s < m else 0.0
                            for s in range(m + 1)], dtype=values.dtype)[sizes]
    phi = torch.zeros(m, dtype=values.dtype)
    for i in range(m):
        without = masks[(masks & (1 << i)) == 0]
        phi[i] = (weights[without] * (values[without | (1 << i)] - values[without])).sum()
    return phi
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_shapley_subsets", "locked": true, "points": 1, "schema_version": 3, "solution": false}
notes_game = torch.tensor([0.0, 100, 125, 270, 50, 375, 350, 500], dtype=f64)
phi = shapley_subsets(notes_game)
expect_close(phi.sum(), torch.tensor(500.0, dtype=f64), what="sum of shapley_subsets(notes' game)",
             hint="Efficiency: the values must share out v(everyone) - v(empty) exactly.")
expect_close(phi, torch.tensor([970.0, 970.0, 1060.0], dtype=f64) / 6, what="shapley_subsets(notes' game)",
             hint="Each player's weights over the 2^(M-1) coalitions without them must add up to 1.")
expect_close(shapley_subsets(torch.tensor([0.0, 1.0, 0.5, 1.0], dtype=f64)), torch.tensor([0.75, 0.25], dtype=f64),
             what="shapley_subsets(contested garment)")

# %% nbgrader={"grade": true, "grade_id": "test_shapley_subsets_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("shapley_subsets", shapley_subsets)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %%
with needs_exercises():
    print("notes' game, by subsets:     ", [f"{float(p):.4f}" for p in shapley_subsets(TEXTBOOK)])
    print("notes' game, by permutations:", [f"{float(p):.4f}" for p in shapley_permutations(TEXTBOOK)])
    print(f"(17.6) as printed: {(100 + 100 + 145 + 325 + 150) / 6:.4f}; with the missing order: {970 / 6:.4f}")

# %% [markdown]
# ## 2. Monte Carlo Shapley values
#
# $M!$ orders (or $2^M$ coalitions) are out of reach beyond a few dozen players, but the permutation form is an
# expectation, so a sample of random orders estimates it without bias. Each sampled order gives marginal
# contributions that add up to $v(\text{all}) - v(\emptyset)$ exactly, so the estimate is efficient for every
# sample size; only its split among the players is noisy.
#
# ### Exercise 3: `shapley_monte_carlo`
# `values` `(2**M,)`, `n_permutations` a positive int, `generator` a `torch.Generator`. Draw the orders with
# `torch.randperm(M, generator=generator)`, one call per order and nothing else from the generator, and return
# the `(M,)` average of the marginal contributions.

# %% nbgrader={"grade": false, "grade_id": "shapley_monte_carlo", "locked": false, "schema_version": 3, "solution": true}
def shapley_monte_carlo(values, n_permutations, generator):
    """Monte Carlo estimate of the Shapley values from random orders of arrival.

    Args:
        values: (2**M,) game table; n_permutations: int >= 1; generator: torch.Generator.

    Returns:
        (M,) tensor, dtype of values.
    """
    ### BEGIN SOLUTION
    m = int(values.shape[0]).bit_length() - 1
    total = torch.zeros(m, dtype=values.dtype)
    for _ in range(n_permutations):
        mask = 0
        for player in torch.randperm(m, generator=generator).tolist():
            total[player] += values[mask | (1 << player)] - values[mask]
            mask |= 1 << player
    return total / n_permutations
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_shapley_monte_carlo", "locked": true, "points": 1, "schema_version": 3, "solution": false}
notes_game = torch.tensor([0.0, 100, 125, 270, 50, 375, 350, 500], dtype=f64)
estimate = shapley_monte_carlo(notes_game, 1, torch.Generator().manual_seed(0))
order = torch.randperm(3, generator=torch.Generator().manual_seed(0)).tolist()
expect_close(estimate.sum(), torch.tensor(500.0, dtype=f64), what="sum of a one-order estimate",
             hint="Each order's contributions add up to v(everyone) - v(empty).")
expect_close(estimate[order[0]], notes_game[1 << order[0]] - notes_game[0], what=f"the first arrival's share (player {order[0]})",
             hint="Draw the order with torch.randperm(M, generator=generator); the first player joins the empty coalition.")

# %% nbgrader={"grade": true, "grade_id": "test_shapley_monte_carlo_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("shapley_monte_carlo", shapley_monte_carlo)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The axioms
#
# Shapley proved that exactly one allocation rule satisfies four axioms:
#
# - **efficiency**: $\sum_i\phi_i = v(\text{all}) - v(\emptyset)$ (the notes' *local accuracy*);
# - **symmetry**: two players who are interchangeable, $v(S\cup\{i\}) = v(S\cup\{j\})$ for every $S$ that
#   contains neither, get the same value;
# - **dummy**: a player whose contribution is the same to every coalition, $v(S\cup\{i\}) - v(S) =
#   v(\{i\}) - v(\emptyset)$ for all $S\not\ni i$, gets exactly that contribution (a player who adds nothing
#   gets 0: the notes' *missingness*);
# - **additivity**: the values of the game $v + w$ are the values of $v$ plus those of $w$.
#
# The first three are properties of one allocation of one game, so they can be tested on it; additivity is a
# property of the rule, tested on pairs of games (the cell after the exercise does it).
#
# ### Exercise 4: `axiom_violations`
# `values` `(2**M,)`, `phi` `(M,)`, `tol` a number. Return the list of the axioms `phi` breaks, in the order
# `["efficiency", "symmetry", "dummy"]` (an empty list when it breaks none). Treat two numbers as equal when they
# differ by at most `tol * (1 + max |values|)`, both when you decide that players are symmetric or dummies and
# when you compare their `phi`. Check **every** pair of players and every coalition, with $v(\emptyset)$ as the
# game gives it.

# %% nbgrader={"grade": false, "grade_id": "axiom_violations", "locked": false, "schema_version": 3, "solution": true}
def axiom_violations(values, phi, tol=1e-9):
    """The Shapley axioms (efficiency, symmetry, dummy) that the allocation phi breaks in the game values.

    Args:
        values: (2**M,) game table; phi: (M,) allocation; tol: relative tolerance.

    Returns:
        list of str, a sub-list of ["efficiency", "symmetry", "dummy"] in that order.
    """
    ### BEGIN SOLUTION
    m = int(values.shape[0]).bit_length() - 1
    eps = tol * (1 + float(values.abs().max()))
    broken = []
    if abs(float(phi.sum() - (values[-1] - values[0]))) > eps:
        broken.append("efficiency")
    rest = lambda *players: [s for s in range(1 << m) if all(not s & (1 << p) for p in players)]
    if any(all(abs(float(values[s | 1 << i] - values[s | 1 << j])) <= eps for s in rest(i, j))
           and abs(float(phi[i] - phi[j])) > eps for i in range(m) for j in range(i + 1, m)):
        broken.append("symmetry")
    if any(all(abs(float(values[s | 1 << i] - values[s] - values[1 << i] + values[0])) <= eps for s in rest(i))
           and abs(float(phi[i] - values[1 << i] + values[0])) > eps for i in range(m)):
        broken.append("dummy")
    return broken
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_axiom_violations", "locked": true, "points": 1, "schema_version": 3, "solution": false}
garment = torch.tensor([0.0, 1.0, 0.5, 1.0], dtype=f64)
notes_game = torch.tensor([0.0, 100, 125, 270, 50, 375, 350, 500], dtype=f64)
expect_true(axiom_violations(garment, torch.tensor([0.75, 0.25], dtype=f64)) == [],
            "the contested garment's Shapley values break no axiom.")
expect_true(axiom_violations(notes_game, torch.tensor([820.0, 970.0, 1060.0], dtype=f64) / 6) == ["efficiency"],
            "the notes' printed (17.6) value for player 1 should break efficiency, and only efficiency.",
            hint="Efficiency compares sum(phi) with v(everyone) - v(empty).")
sym = torch.tensor([0.0, 1.0, 1.0, 3.0], dtype=f64)          # two interchangeable players
expect_true(axiom_violations(sym, torch.tensor([2.0, 1.0], dtype=f64)) == ["symmetry"],
            "players 0 and 1 are interchangeable in game(0, 1, 1, 3): phi = (2, 1) breaks symmetry only.")

# %% nbgrader={"grade": true, "grade_id": "test_axiom_violations_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("axiom_violations", axiom_violations)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %%
with needs_exercises():
    g = torch.Generator().manual_seed(1)
    v, w = torch.randn(16, generator=g, dtype=f64), torch.randn(16, generator=g, dtype=f64)
    gap = (shapley_subsets(v + w) - shapley_subsets(v) - shapley_subsets(w)).abs().max()
    print(f"additivity on two random 4-player games: largest gap {float(gap):.1e}")
    mc = shapley_monte_carlo(v, 5, torch.Generator().manual_seed(0))
    print("axioms broken by the exact values:", axiom_violations(v, shapley_subsets(v)),
          "| by a 5-order Monte Carlo estimate:", axiom_violations(v, mc) or "none")
    banzhaf = torch.stack([sum(v[s | 1 << i] - v[s] for s in range(16) if not s & 1 << i) / 8 for i in range(4)])
    print("axioms broken by the Banzhaf index (plain average over coalitions):", axiom_violations(v, banzhaf))

# %% [markdown]
# A Monte Carlo estimate is efficient but generally not symmetric (two interchangeable players get different
# noisy shares); the Banzhaf index, which weighs every coalition alike, is symmetric and treats dummies right
# but is not efficient.
#
# ## 4. Kernel SHAP
#
# SHAP explains a prediction with an additive model of coalitions, $g(z) = \phi_0 + \sum_i\phi_i z_i$, with
# $z\in\{0,1\}^M$ the indicator of a coalition. Kernel SHAP fits $g$ to $v$ by **weighted least squares** over
# coalitions, with the **Shapley kernel**
#
# $$\pi(z) = \frac{M-1}{\binom{M}{|z|}\,|z|\,(M-|z|)}$$
#
# (notes (17.10)). The empty and full coalitions get infinite weight: the fit must pass exactly through them, so
# $\phi_0 = v(\emptyset)$ and $\sum_i\phi_i = v(\text{all}) - v(\emptyset)$. With those two constraints and every
# other coalition weighted by $\pi$, the least-squares solution is exactly the Shapley values: a regression
# replaces the combinatorial sum, and subsampling coalitions then gives an estimator.
#
# ### Exercise 5: `shapley_kernel_weights`
# `m` an int $\ge 2$; return the `(m - 1,)` float64 tensor of $\pi$ for one coalition of size $s = 1, \dots, m-1$
# (entry `s - 1`).

# %% nbgrader={"grade": false, "grade_id": "shapley_kernel_weights", "locked": false, "schema_version": 3, "solution": true}
def shapley_kernel_weights(m):
    """The Shapley kernel for coalition sizes 1 .. m-1.

    Args:
        m: number of players, >= 2.

    Returns:
        (m - 1,) float64 tensor.
    """
    ### BEGIN SOLUTION
    return torch.tensor([(m - 1) / (math.comb(m, s) * s * (m - s)) for s in range(1, m)], dtype=f64)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_shapley_kernel_weights", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_close(shapley_kernel_weights(3), torch.tensor([1 / 3, 1 / 3], dtype=f64), what="shapley_kernel_weights(3)",
             hint="For M = 3 and s = 1: (M - 1) / (C(3, 1) * 1 * 2) = 2 / 6.")

# %% nbgrader={"grade": true, "grade_id": "test_shapley_kernel_weights_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("shapley_kernel_weights", shapley_kernel_weights)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 6: `kernel_shap` (a derivation)
# `values` `(2**M,)` with $M\ge 2$. Fit $\phi$ by least squares over every coalition of size $1..M-1$, row $z$ the
# 0/1 membership vector, target $v(z) - v(\emptyset)$, weight $\pi(z)$, **subject to** $\sum_i\phi_i =
# v(\text{all}) - v(\emptyset)$; return the `(M,)` solution. Turn the constrained problem into an unconstrained
# one yourself (do not approximate the infinite weights with a large number: that is ill-conditioned) and solve
# the normal equations with `torch.linalg.solve`.
#
# <details><summary>Hint 1</summary>
# Use the constraint to write the last coefficient in terms of the others.
# </details>
# <details><summary>Hint 2</summary>
# With phi_{M-1} = T - (phi_0 + ... + phi_{M-2}) and T = v(all) - v(empty), the model z . phi becomes
# z_{M-1} T + sum_{j < M-1} (z_j - z_{M-1}) phi_j: a plain linear regression in M - 1 unknowns.
# </details>
# <details><summary>Hint 3</summary>
# A = Z[:, :-1] - Z[:, -1:], r = y - Z[:, -1] * T; solve (A^T W A) head = A^T W r and append T - head.sum().
# </details>

# %% nbgrader={"grade": false, "grade_id": "kernel_shap", "locked": false, "schema_version": 3, "solution": true}
def kernel_shap(values):
    """Kernel SHAP over every coalition: the Shapley-kernel weighted least squares with sum(phi) fixed.

    Args:
        values: (2**M,) game table, M >= 2.

    Returns:
        (M,) tensor, dtype of values.
    """
    ### BEGIN SOLUTION
    m = int(values.shape[0]).bit_length() - 1
    masks = torch.arange(1, (1 << m) - 1)
    z = ((masks[:, None] >> torch.arange(m)) & 1).to(values.dtype)
    y = values[masks] - values[0]
    w = shapley_kernel_weights(m).to(values.dtype)[z.sum(1).long() - 1]
    total = values[-1] - values[0]
    a = z[:, :-1] - z[:, -1:]
    r = y - z[:, -1] * total
    head = torch.linalg.solve(a.T @ (w[:, None] * a), a.T @ (w * r))
    return torch.cat([head, (total - head.sum()).reshape(1)])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_kernel_shap", "locked": true, "points": 2, "schema_version": 3, "solution": false}
notes_game = torch.tensor([0.0, 100, 125, 270, 50, 375, 350, 500], dtype=f64)
expect_close(kernel_shap(notes_game), torch.tensor([970.0, 970.0, 1060.0], dtype=f64) / 6, what="kernel_shap(notes' game)",
             hint="The weights must be the Shapley kernel of each row's size, and the constraint exact.")
expect_close(kernel_shap(torch.tensor([0.0, 1.0, 0.5, 1.0], dtype=f64)), torch.tensor([0.75, 0.25], dtype=f64),
             what="kernel_shap(contested garment)",
             hint="With two players only the constraint and one-player coalitions remain.")

# %% nbgrader={"grade": true, "grade_id": "test_kernel_shap_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("kernel_shap", kernel_shap)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 5. From a model to a game
#
# To explain a prediction $f(x)$ we need $v(S)$: "the prediction when only the features in $S$ are known". A
# model cannot leave inputs out, so SHAP fills the unknown ones in. The notes' definition conditions on the known
# features, $\mathbb E[f(X)\mid X_S = x_S]$, which needs a model of the data. The **interventional** value
# function instead fills them from a **background set** of real inputs $b^{(1)},\dots,b^{(K)}$, ignoring how
# features depend on each other:
#
# $$v(S) = \frac1K\sum_{k=1}^K f\big(x_S,\ b^{(k)}_{\bar S}\big),$$
#
# the input that takes $x$'s values on $S$ and the background row's elsewhere. Then $v(\emptyset)$ is the average
# prediction on the background, $v(\text{all}) = f(x)$, and by efficiency the attributions explain the gap
# $f(x) - \mathbb E_b f(b)$.
#
# ### Exercise 7: `interventional_values`
# `model` maps `(N, M)` inputs to `(N,)` outputs, `x` `(M,)`, `background` `(K, M)`. Return the `(2**M,)` table
# (dtype of the model's output). Evaluate the model in **one** batched call of $2^M K$ rows.

# %% nbgrader={"grade": false, "grade_id": "interventional_values", "locked": false, "schema_version": 3, "solution": true}
def interventional_values(model, x, background):
    """The interventional value function v(S) = mean_k model(x on S, background[k] elsewhere).

    Args:
        model: maps (N, M) to (N,); x: (M,); background: (K, M).

    Returns:
        (2**M,) tensor.
    """
    ### BEGIN SOLUTION
    m, k = x.shape[0], background.shape[0]
    members = ((torch.arange(1 << m)[:, None] >> torch.arange(m)) & 1).bool()
    z = torch.where(members[:, None, :], x, background[None, :, :])
    return model(z.reshape(-1, m)).reshape(1 << m, k).mean(1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_interventional_values", "locked": true, "points": 1, "schema_version": 3, "solution": false}
product = lambda z: z[:, 0] * z[:, 1]
bg = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=f64)
# v(empty) = (2 + 12)/2, v({0}) = 5 (2 + 4)/2, v({1}) = 7 (1 + 3)/2, v(all) = 35
expect_close(interventional_values(product, torch.tensor([5.0, 7.0], dtype=f64), bg),
             torch.tensor([7.0, 15.0, 14.0, 35.0], dtype=f64),
             what="interventional_values(z0 * z1, x = (5, 7), two background rows)",
             hint="Bit i of the index says that feature i takes x's value; the others come from each background row, "
                  "and the outputs are averaged over the rows.")

# %% nbgrader={"grade": true, "grade_id": "test_interventional_values_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("interventional_values", interventional_values)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 8: `linear_shap` (a derivation)
# For a linear model $f(z) = w\cdot z + b$ the interventional game has a closed form. Work out $v(S)$, then the
# marginal contribution of feature $i$ to a coalition, and conclude what its Shapley value must be (no sum over
# coalitions is needed). `weight` `(M,)`, `bias` a number, `x` `(M,)`, `background` `(K, M)`; return the `(M,)`
# attributions in the dtype of `x`.
#
# <details><summary>Hint 1</summary>
# v(S) = sum over i in S of w_i x_i + sum over i not in S of w_i mean_k(b_ki) + b: averaging a linear function
# averages each input.
# </details>
# <details><summary>Hint 2</summary>
# Adding feature i to any coalition changes v by the same amount: feature i is a dummy player.
# </details>
# <details><summary>Hint 3</summary>
# phi_i = w_i (x_i - mean of background[:, i]); the bias cancels.
# </details>

# %% nbgrader={"grade": false, "grade_id": "linear_shap", "locked": false, "schema_version": 3, "solution": true}
def linear_shap(weight, bias, x, background):
    """Shapley values of f(z) = weight . z + bias at x under the interventional game with this background.

    Args:
        weight: (M,); bias: number; x: (M,); background: (K, M).

    Returns:
        (M,) tensor, dtype of x.
    """
    ### BEGIN SOLUTION
    return weight * (x - background.mean(0))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_linear_shap", "locked": true, "points": 1, "schema_version": 3, "solution": false}
bg = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=f64)
expect_close(linear_shap(torch.tensor([2.0, -1.0], dtype=f64), 3.0, torch.tensor([1.0, 1.0], dtype=f64), bg),
             torch.tensor([-2.0, 2.0], dtype=f64), what="linear_shap(w = (2, -1), b = 3, x = (1, 1), background [[1, 2], [3, 4]])",
             hint="Each feature's attribution compares x with the background's average of that feature.")

# %% nbgrader={"grade": true, "grade_id": "test_linear_shap_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("linear_shap", linear_shap)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# Now a small network: four inputs, a tanh hidden layer, one output. Its game has 16 coalitions, so exact
# values, Kernel SHAP and Monte Carlo can be compared directly, and efficiency checked against
# $f(x) - \mathbb E_b f(b)$. For the linear model, the exact values from the game equal your closed form.

# %%
with needs_exercises():
    torch.manual_seed(0)
    small_net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    net = lambda z: small_net(z).detach()[:, 0]
    g = torch.Generator().manual_seed(2)
    background4, x4 = torch.randn(64, 4, generator=g, dtype=f64), torch.tensor([1.5, -1.0, 0.5, 2.0], dtype=f64)
    v_net = interventional_values(net, x4, background4)
    exact = shapley_subsets(v_net)
    table = {"exact (subsets)": exact, "Kernel SHAP": kernel_shap(v_net),
             "Monte Carlo, 20 orders": shapley_monte_carlo(v_net, 20, torch.Generator().manual_seed(3))}
    for name, phi in table.items():
        print(f"{name:>24}: {[round(float(p), 4) for p in phi]}  sum {float(phi.sum()):.4f}")
    print(f"{'f(x) - mean f(background)':>24}: {float(net(x4[None])[0] - net(background4).mean()):.4f}")
    w, b = torch.tensor([0.5, -2.0, 1.0, 0.0], dtype=f64), 0.7
    linear_game = interventional_values(lambda z: z @ w + b, x4, background4)
    gap = (shapley_subsets(linear_game) - linear_shap(w, b, x4, background4)).abs().max()
    print(f"linear model: largest gap between the game's Shapley values and linear_shap: {float(gap):.1e}")
    fig, ax = plt.subplots(figsize=(6, 2.5))
    for k, (name, phi) in enumerate(table.items()):
        ax.bar(torch.arange(4) + 0.27 * (k - 1), phi, width=0.27, label=name)
    ax.set_xticks(range(4), [f"feature {i}" for i in range(4)])
    ax.axhline(0, color="k", lw=0.5)
    ax.set_title("attributions of a small tanh network at x = (1.5, -1, 0.5, 2)", fontsize=9)
    ax.legend(fontsize=7)
    plt.show()

# %% [markdown]
# ## 6. Gradient attributions
#
# Games need $2^M$ model calls, or many samples; a network also offers its gradient. **Gradient x input**
# attributes $x_i\,\partial f/\partial x_i$ to pixel $i$: exact for a linear model through the origin, but a
# saturated unit (zero gradient) gets nothing even if it decided the output. **Integrated gradients** (IG)
# average the gradient along the straight path from a **baseline** $x'$ (a black image here) to $x$:
#
# $$\mathrm{IG}_i = (x_i - x'_i)\int_0^1 \frac{\partial f}{\partial x_i}\big(x' + \alpha(x - x')\big)\,d\alpha .$$
#
# By the fundamental theorem of calculus along the path, $\sum_i \mathrm{IG}_i = f(x) - f(x')$: **completeness**,
# the gradient counterpart of efficiency. We approximate the integral with the midpoint rule,
# $\alpha_k = (k + \tfrac12)/n$ for $k = 0..n-1$.
#
# ### Exercise 9: `gradient_x_input`
# `model` maps `(B, D)` to `(B, C)` logits, `x` `(B, D)`, `target` int64 `(B,)`. Return `(B, D)`: each row's input
# times the gradient of **its own** target logit with respect to that row (use autograd; sum the picked logits to
# get all rows' gradients in one backward pass; rows do not interact). Return a tensor without a graph.

# %% nbgrader={"grade": false, "grade_id": "gradient_x_input", "locked": false, "schema_version": 3, "solution": true}
def gradient_x_input(model, x, target):
    """x * d logit_target / dx, row by row.

    Args:
        model: maps (B, D) to (B, C) logits; x: (B, D); target: int64 (B,).

    Returns:
        (B, D) tensor, dtype of x.
    """
    ### BEGIN SOLUTION
    inputs = x.detach().requires_grad_(True)
    picked = model(inputs).gather(1, target.reshape(-1, 1)).sum()
    (grad,) = torch.autograd.grad(picked, inputs)
    return (x * grad).detach()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gradient_x_input", "locked": true, "points": 1, "schema_version": 3, "solution": false}
quad = lambda z: torch.stack([z[:, 0] ** 2, 3 * z[:, 1]], dim=1)      # two logits
got = gradient_x_input(quad, torch.tensor([[2.0, 5.0], [2.0, 5.0]], dtype=f64), torch.tensor([0, 1]))
expect_close(got, torch.tensor([[8.0, 0.0], [0.0, 15.0]], dtype=f64), what="gradient_x_input(quadratic, target (0, 1))",
             hint="Row b uses the gradient of logit target[b]; d(z0^2)/dz0 = 2 z0, times z0.")

# %% nbgrader={"grade": true, "grade_id": "test_gradient_x_input_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("gradient_x_input", gradient_x_input)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 10: `integrated_gradients`
# Same `model`, `x`, `target`; `baseline` `(B, D)` or `(D,)`, `steps` an int. Return the `(B, D)` midpoint-rule IG
# of the target logits (no graph). The visible test checks completeness.

# %% nbgrader={"grade": false, "grade_id": "integrated_gradients", "locked": false, "schema_version": 3, "solution": true}
def integrated_gradients(model, x, baseline, target, steps=32):
    """Integrated gradients of the target logits, midpoint rule with `steps` points.

    Args:
        model: maps (B, D) to (B, C) logits; x: (B, D); baseline: (B, D) or (D,); target: int64 (B,); steps: int.

    Returns:
        (B, D) tensor, dtype of x.
    """
    ### BEGIN SOLUTION
    diff = x - baseline
    total = torch.zeros_like(x)
    for k in range(steps):
        point = (baseline + (k + 0.5) / steps * diff).detach().requires_grad_(True)
        picked = model(point).gather(1, target.reshape(-1, 1)).sum()
        total += torch.autograd.grad(picked, point)[0]
    return (diff * total / steps).detach()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_integrated_gradients", "locked": true, "points": 2, "schema_version": 3, "solution": false}
cubic = lambda z: torch.stack([(z ** 3).sum(1), z.sum(1)], dim=1)
x_c, base_c = torch.tensor([[1.0, 2.0]], dtype=f64), torch.tensor([0.5, -1.0], dtype=f64)
ig = integrated_gradients(cubic, x_c, base_c, torch.tensor([0]), steps=400)
expect_close(ig.sum(), torch.tensor(1.0 - 0.125 + 8.0 + 1.0, dtype=f64), rtol=1e-4,
             what="completeness: sum of IG of z0^3 + z1^3 from (0.5, -1) to (1, 2)",
             hint="Multiply the averaged gradient by (x - baseline), and evaluate it along baseline + alpha (x - baseline).")
expect_close(ig, torch.tensor([[1.0 - 0.125, 8.0 + 1.0]], dtype=f64), rtol=1e-4, what="IG per feature (separable f)")

# %% nbgrader={"grade": true, "grade_id": "test_integrated_gradients_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("integrated_gradients", integrated_gradients)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Explaining a digit classifier
#
# A small network (64 pixels, 32 ReLU units, 10 logits) trained on the 8x8 digits in a second. First, pixel
# attributions of its predicted class by gradient x input and IG (baseline: a black image), with IG's
# completeness gap.

# %%
split = attribution_digits()
classifier = train_digit_classifier(split.X_train, split.y_train, seed=0)
test_acc = (classifier(split.X_test).argmax(1) == split.y_test).float().mean()
print(f"test accuracy of the digit classifier: {float(test_acc):.3f}")

with needs_exercises():
    xs, ts = split.X_test[:4], split.y_test[:4]
    maps = {"gradient x input": gradient_x_input(classifier, xs, ts),
            "integrated gradients": integrated_gradients(classifier, xs, torch.zeros(64), ts, steps=64)}
    logit_gap = (classifier(xs) - classifier(torch.zeros(1, 64))).gather(1, ts[:, None])[:, 0]
    print("IG completeness gap per image:", [f"{float(g):.3f}" for g in maps["integrated gradients"].sum(1) - logit_gap])
    fig, axes = plt.subplots(3, 4, figsize=(8, 6))
    for col in range(4):
        axes[0, col].imshow(xs[col].reshape(8, 8), cmap="gray_r")
        axes[0, col].set_title(f"digit {int(ts[col])}", fontsize=9)
        for row, (name, a) in enumerate(maps.items(), start=1):
            lim = float(a[col].abs().max())
            axes[row, col].imshow(a[col].reshape(8, 8), cmap="RdBu_r", vmin=-lim, vmax=lim)
            axes[row, col].set_title(name, fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([]); ax.set_yticks([])
    plt.tight_layout()
    plt.show()

# %% [markdown]
# Then Shapley values over **patches**: the 16 squares of 2x2 pixels are the players, a missing patch is black,
# and the payoff is the probability of the image's class. That game has $2^{16} = 65\,536$ coalitions, one batched
# model call; the exact values (your `shapley_subsets`) sit next to a Monte Carlo estimate whose number of orders
# the slider sets. Watch the estimate's error shrink like $1/\sqrt{n}$.

# %%
_patch_games = {}


def patch_game(index):
    """The 65 536-entry game of test image `index` (cached), and its exact Shapley values."""
    if index not in _patch_games:
        image, target = split.X_test[index], int(split.y_test[index])
        values = interventional_values(patch_model(classifier, image, target), torch.ones(16), torch.zeros(1, 16))
        values = values.double()
        _patch_games[index] = (values, shapley_subsets(values))
    return _patch_games[index]


def show_patches(image=0, orders=30):
    values, exact = patch_game(image)
    estimate = shapley_monte_carlo(values, orders, torch.Generator().manual_seed(image))
    x = split.X_test[image]
    lim = float(exact.abs().max())
    fig, axes = plt.subplots(1, 3, figsize=(9, 3))
    axes[0].imshow(x.reshape(8, 8), cmap="gray_r")
    axes[0].set_title(f"test image {image}: a {int(split.y_test[image])}, p = {float(values[-1]):.3f}", fontsize=9)
    for ax, (name, phi) in zip(axes[1:], [("exact Shapley, 16 patches", exact), (f"Monte Carlo, {orders} orders", estimate)]):
        im = ax.imshow(patches_to_pixels(phi).reshape(8, 8), cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(name, fontsize=9)
    for ax in axes:
        ax.set_xticks([]); ax.set_yticks([])
    fig.colorbar(im, ax=axes[1:], shrink=0.8)
    plt.show()
    print(f"largest error of the estimate: {float((estimate - exact).abs().max()):.4f}; both sum to "
          f"{float(exact.sum()):.4f} = p(all patches) - p(black image)")


interact(show_patches, image=widgets.IntSlider(value=0, min=0, max=9),
         orders=widgets.SelectionSlider(options=[3, 10, 30, 100, 300, 1000], value=30));

# %% [markdown]
# ## 8. Make it work: an attribution that survives deletion
#
# An attribution is only as good as what it predicts: if it says which pixels matter, deleting those pixels
# should destroy the prediction. The **deletion curve** of an image sets its pixels to 0 one at a time, most
# important first (ties broken by pixel index), and records the probability of the target class after each
# step; `course.xai.deletion_curve` computes it. We score the first quarter: the mean of the probability over
# 0, 1, ..., 16 deleted pixels (`deletion_auc(curve[:, :17])`). Deleting pixels in random orders gives the
# baseline (`random_deletion_curve`, 20 random orders per image).
#
# ### Exercise 11: `deletion_attribution`
# Given a classifier `model` (`(B, 64)` images in $[0, 1]$ to `(B, 10)` logits, parameters frozen), images `x`
# `(B, 64)` float32 and `target` int64 `(B,)`, return `(B, 64)` attributions, larger meaning more important for
# the target class. Use the methods you wrote; no training needed. **Target:** on 200 test images of a classifier
# the grader trains itself (another seed), your first-quarter deletion score must be at most **0.27 times** that
# of random deletion; it must run in under 5 seconds. The grader computes the curves in its own process from the
# attributions you return.

# %% nbgrader={"grade": false, "grade_id": "deletion_attribution", "locked": false, "schema_version": 3, "solution": true}
def deletion_attribution(model, x, target):
    """Pixel attributions (larger = more important for the target class) with a steep deletion curve.

    Args:
        model: maps (B, 64) to (B, 10) logits; x: (B, 64) float32 in [0, 1]; target: int64 (B,).

    Returns:
        (B, 64) tensor.
    """
    ### BEGIN SOLUTION
    return integrated_gradients(model, x, torch.zeros_like(x), target, steps=32)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_deletion_attribution", "locked": true, "points": 2, "schema_version": 3, "solution": false}
import time

split = attribution_digits()
classifier = train_digit_classifier(split.X_train, split.y_train, seed=0)
xs, ts = split.X_test[:200], split.y_test[:200]
start = time.perf_counter()
attr = deletion_attribution(classifier, xs, ts)
seconds = time.perf_counter() - start
expect_shape(attr, (200, 64), what="deletion_attribution(classifier, 200 images, targets)")
score = deletion_auc(deletion_curve(classifier, xs, ts, attr)[:, :17])
random_score = deletion_auc(random_deletion_curve(classifier, xs, ts, torch.Generator().manual_seed(0))[:, :17])
print(f"{seconds:.2f} s; first-quarter deletion score {score:.3f}, random deletion {random_score:.3f}, "
      f"ratio {score / random_score:.3f} (target <= 0.27)")
expect_true(score <= 0.27 * random_score, f"the deletion score {score:.3f} is above 0.27 x random ({0.27 * random_score:.3f}).",
            hint="Which pixels can change the prediction when set to 0? A black pixel cannot; and check the sign.")

# %% nbgrader={"grade": true, "grade_id": "test_deletion_attribution_2", "locked": true, "points": 6, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("deletion_attribution", deletion_attribution)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %%
with needs_exercises():
    g = torch.Generator().manual_seed(0)
    x_req = xs.clone().requires_grad_(True)
    plain_gradient = torch.autograd.grad(classifier(x_req).gather(1, ts[:, None]).sum(), x_req)[0]
    curves = {"your attribution": deletion_curve(classifier, xs, ts, deletion_attribution(classifier, xs, ts)),
              "plain gradient (no x - baseline factor)": deletion_curve(classifier, xs, ts, plain_gradient),
              "pixel intensity": deletion_curve(classifier, xs, ts, xs),
              "random orders": random_deletion_curve(classifier, xs, ts, g)}
    fig, ax = plt.subplots(figsize=(6, 3))
    for name, c in curves.items():
        ax.plot(range(65), c.mean(0), label=f"{name} (score {deletion_auc(c[:, :17]):.3f})")
    ax.axvline(16, color="k", lw=0.5, ls=":")
    ax.set_xlabel("pixels deleted"); ax.set_ylabel("probability of the target class")
    ax.legend(fontsize=7)
    plt.show()

# %% [markdown]
# ## 9. Concept questions
#
# Answer each with one letter in the dictionary returned by `concept_attributions`.
#
# **q1.** A model reads only feature 0: $f(x) = 3x_0$. In the data, feature 1 is an exact copy of feature 0.
# With the interventional value function and a background drawn from the data, feature 1's Shapley value is
# - (a) half of $3(x_0 - \mathbb E x_0)$, because the two features carry the same information;
# - (b) equal to feature 0's, by the symmetry axiom;
# - (c) zero: the model never reads it, so it is a dummy that adds nothing to any coalition;
# - (d) negative, to compensate feature 0 through efficiency.
#
# **q2.** One input, $f(x) = \min(x, 1)$, explained at $x = 3$ with baseline $x' = 0$:
# - (a) gradient x input and integrated gradients both give 0, since the gradient at 3 is 0;
# - (b) gradient x input gives 0, integrated gradients give 1 $= f(3) - f(0)$;
# - (c) both give 3;
# - (d) integrated gradients give 3, the distance from the baseline.
#
# **q3.** In Kernel SHAP, the coalitions of size 1 and $M-1$ get the largest weight per coalition because
# - (a) there are more of them than of any other size;
# - (b) they are cheaper to evaluate;
# - (c) every coalition gets the same weight; only the infinite weights of sizes 0 and $M$ are special;
# - (d) the kernel's total weight of a size, $(M-1)/(s(M-s))$, is largest there, and such coalitions isolate one
#   player's effect (alone, or added last).
#
# ### Exercise 12: `concept_attributions`
# Return `{"q1": ..., "q2": ..., "q3": ...}`, each value one of `"a"`, `"b"`, `"c"`, `"d"`.

# %% nbgrader={"grade": false, "grade_id": "concept_attributions", "locked": false, "schema_version": 3, "solution": true}
def concept_attributions():
    """Your answers to the concept questions.

    Returns:
        dict {"q1": letter, "q2": letter, "q3": letter}.
    """
    ### BEGIN SOLUTION
    return {"q1": "c", "q2": "b", "q3": "d"}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_attributions", "locked": true, "points": 1, "schema_version": 3, "solution": false}
answers = concept_attributions()
expect_true(isinstance(answers, dict) and set(answers) == {"q1", "q2", "q3"},
            "concept_attributions() must return a dict with the keys q1, q2, q3.")
for key, value in answers.items():
    expect_true(isinstance(value, str) and value.strip().lower() in {"a", "b", "c", "d"},
                f"{key}: answer with one of the letters a, b, c, d (got {value!r}).")

# %% nbgrader={"grade": true, "grade_id": "test_concept_attributions_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_attributions", concept_attributions)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## What you built
#
# - `shapley_permutations`, `shapley_subsets`: exact Shapley values two ways, with the subset weights
#   $s!(M-s-1)!/M!$ derived from orders of arrival, and the notes' example corrected ($\phi = (970, 970, 1060)/6$).
# - `shapley_monte_carlo`: an unbiased, always-efficient estimate from random orders.
# - `axiom_violations`: efficiency, symmetry and dummy as checks on an allocation (additivity on pairs of games).
# - `shapley_kernel_weights`, `kernel_shap`: the Shapley kernel and the constrained weighted least squares that
#   reproduces the exact values.
# - `interventional_values`, `linear_shap`: a model turned into a game with a background set, and the closed form
#   $w_i(x_i - \mathbb E b_i)$ for a linear model.
# - `gradient_x_input`, `integrated_gradients`: gradient attributions, with IG's completeness.
# - `deletion_attribution`: an attribution whose deletion curve falls far faster than random deletion.
#
# This closes the course: from estimators and losses to networks that learn, generate, act, transfer, and now
# explain their predictions.
