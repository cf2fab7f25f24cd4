"""Attributing predictions: Shapley values, Kernel SHAP and gradient attributions (chapter 20).

Conventions shared by every function:

* a **game** on M players is a table ``values`` of shape ``(2**M,)``: ``values[mask]`` is the payoff of the
  coalition whose members are the set bits of ``mask`` (player ``i`` is bit ``1 << i``). ``values[0]``, the
  empty coalition, need not be 0 (an interventional value function makes it the average prediction);
* attributions come back as an ``(M,)`` tensor in the dtype of ``values``;
* a classifier maps ``(B, D)`` inputs to ``(B, C)`` logits; gradient attributions explain the **logit** of
  the ``target`` class of each row and come back as ``(B, D)`` in the dtype of ``x``;
* randomness is always passed in as a ``torch.Generator``; no function changes its inputs in place.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

__all__ = [
    "shapley_subsets",
    "shapley_permutations",
    "shapley_monte_carlo",
    "axiom_violations",
    "shapley_kernel_weights",
    "kernel_shap",
    "interventional_values",
    "linear_shap",
    "gradient_x_input",
    "integrated_gradients",
    "deletion_attribution",
    "concept_attributions",
]


def _num_players(values: Tensor) -> int:
    m = int(values.shape[0]).bit_length() - 1
    if values.ndim != 1 or 1 << m != values.shape[0]:
        raise ValueError(f"values must have shape (2**M,), got {tuple(values.shape)}")
    return m


def _masks(m: int, device=None) -> Tensor:
    return torch.arange(1 << m, device=device)


def _members(m: int, device=None) -> Tensor:
    """(2**M, M) bool: row ``mask``, column ``i`` says whether player i is in coalition ``mask``."""
    bits = 1 << torch.arange(m, device=device)
    return (_masks(m, device)[:, None] & bits) != 0


def shapley_subsets(values):
    """Exact Shapley values by the subsets formula (chapter 20).

    phi_i = sum over S not containing i of |S|! (M - |S| - 1)! / M! * (v(S + i) - v(S)).

    Args:
        values: (2**M,) game table, bit i of the index = player i.

    Returns:
        (M,) Shapley values, dtype of ``values``.

    Example:
        >>> shapley_subsets(torch.tensor([0.0, 1.0, 0.5, 1.0]))   # the contested garment
        tensor([0.7500, 0.2500])
    """
    m = _num_players(values)
    members = _members(m, values.device)
    size = members.sum(1)
    weight = torch.tensor([math.factorial(s) * math.factorial(m - s - 1) / math.factorial(m) if s < m else 0.0
                           for s in range(m + 1)], dtype=values.dtype, device=values.device)[size]
    phi = []
    for i in range(m):
        without = ~members[:, i]
        masks = _masks(m, values.device)[without]
        phi.append((weight[without] * (values[masks | (1 << i)] - values[masks])).sum())
    return torch.stack(phi)


def _permutation_contributions(values: Tensor, order: Tensor) -> Tensor:
    """(M,) marginal contribution of each player when they arrive in ``order``."""
    contrib = torch.empty(len(order), dtype=values.dtype, device=values.device)
    mask = 0
    for player in order.tolist():
        contrib[player] = values[mask | (1 << player)] - values[mask]
        mask |= 1 << player
    return contrib


def shapley_permutations(values):
    """Exact Shapley values as the average marginal contribution over all M! orders of arrival (chapter 20).

    Args:
        values: (2**M,) game table.

    Returns:
        (M,) Shapley values, dtype of ``values``.

    Example:
        >>> shapley_permutations(torch.tensor([0.0, 1.0, 0.5, 1.0]))
        tensor([0.7500, 0.2500])
    """
    import itertools

    m = _num_players(values)
    total = torch.zeros(m, dtype=values.dtype, device=values.device)
    for order in itertools.permutations(range(m)):
        total += _permutation_contributions(values, torch.tensor(order))
    return total / math.factorial(m)


def shapley_monte_carlo(values, n_permutations, generator):
    """Monte Carlo Shapley values: the average marginal contribution over random orders (chapter 20).

    Draws, in this order, ``torch.randperm(M, generator=generator)`` once per permutation.

    Args:
        values: (2**M,) game table; n_permutations: number of orders (>= 1); generator: torch.Generator.

    Returns:
        (M,) estimate, dtype of ``values``; efficiency holds exactly for every draw.

    Example:
        >>> shapley_monte_carlo(torch.tensor([0.0, 1.0, 0.5, 1.0]), 10, torch.Generator().manual_seed(0)).sum()
        tensor(1.)
    """
    m = _num_players(values)
    total = torch.zeros(m, dtype=values.dtype, device=values.device)
    for _ in range(n_permutations):
        total += _permutation_contributions(values, torch.randperm(m, generator=generator))
    return total / n_permutations


def axiom_violations(values, phi, tol=1e-9):
    """Which of Shapley's axioms an allocation ``phi`` of the game ``values`` breaks (chapter 20).

    * efficiency: sum(phi) = v(all players) - v(empty);
    * symmetry: players i and j with v(S + i) = v(S + j) for every S containing neither get equal phi;
    * dummy: a player with v(S + i) - v(S) = v({i}) - v(empty) for every S gets exactly that amount.

    Two numbers count as equal when they differ by at most ``tol * (1 + max |values|)``.

    Args:
        values: (2**M,) game table; phi: (M,) allocation; tol: relative tolerance.

    Returns:
        the names violated, in the order ["efficiency", "symmetry", "dummy"] (empty list if none).

    Example:
        >>> axiom_violations(torch.tensor([0.0, 1.0, 0.5, 1.0]), torch.tensor([0.5, 0.25]))
        ['efficiency']
    """
    m = _num_players(values)
    eps = tol * (1 + float(values.abs().max()))
    masks = _masks(m, values.device)
    members = _members(m, values.device)
    broken = []
    if abs(float(phi.sum()) - float(values[-1] - values[0])) > eps:
        broken.append("efficiency")
    symmetric_ok = True
    for i in range(m):
        for j in range(i + 1, m):
            rest = masks[~members[:, i] & ~members[:, j]]
            if (values[rest | (1 << i)] - values[rest | (1 << j)]).abs().max() <= eps:
                symmetric_ok &= abs(float(phi[i] - phi[j])) <= eps
    if not symmetric_ok:
        broken.append("symmetry")
    dummy_ok = True
    for i in range(m):
        rest = masks[~members[:, i]]
        alone = values[1 << i] - values[0]
        if (values[rest | (1 << i)] - values[rest] - alone).abs().max() <= eps:
            dummy_ok &= abs(float(phi[i] - alone)) <= eps
    if not dummy_ok:
        broken.append("dummy")
    return broken


def shapley_kernel_weights(m):
    """The Shapley kernel of Kernel SHAP for coalition sizes s = 1 .. M-1 (chapter 20).

    pi(s) = (M - 1) / (C(M, s) s (M - s)); sizes 0 and M have infinite weight and are left out.

    Args:
        m: number of players (>= 2).

    Returns:
        (M - 1,) float64 tensor, entry s - 1 the weight of one coalition of size s.

    Example:
        >>> shapley_kernel_weights(3)
        tensor([0.3333, 0.3333], dtype=torch.float64)
    """
    return torch.tensor([(m - 1) / (math.comb(m, s) * s * (m - s)) for s in range(1, m)], dtype=torch.float64)


def kernel_shap(values):
    """Kernel SHAP with every coalition: the Shapley-kernel weighted least-squares fit (chapter 20).

    Fits g(z) = v(empty) + phi . z to v over every coalition z of size 1 .. M-1 with the Shapley kernel's
    weights, subject to the constraint sum(phi) = v(all) - v(empty) (the infinite weights of the full
    coalition; the empty one fixes the intercept). The solution equals the exact Shapley values.

    Args:
        values: (2**M,) game table, M >= 2.

    Returns:
        (M,) attributions, dtype of ``values``.

    Example:
        >>> kernel_shap(torch.tensor([0.0, 1.0, 0.5, 1.0]))
        tensor([0.7500, 0.2500])
    """
    m = _num_players(values)
    members = _members(m, values.device).to(values.dtype)
    size = members.sum(1).long()
    keep = (size > 0) & (size < m)
    z, y = members[keep], (values - values[0])[keep]
    w = shapley_kernel_weights(m).to(values.device, values.dtype)[size[keep] - 1]
    total = values[-1] - values[0]
    # Eliminate the last coefficient with the constraint: phi_M = total - sum(phi_1..M-1).
    a = z[:, :-1] - z[:, -1:]
    r = y - z[:, -1] * total
    head = torch.linalg.solve(a.T @ (w[:, None] * a), a.T @ (w * r))
    return torch.cat([head, (total - head.sum()).reshape(1)])


def interventional_values(model, x, background):
    """The interventional value function of ``model`` at ``x`` (chapter 20).

    v(S) = mean over background rows b of model(z), with z_i = x_i for i in S and z_i = b_i otherwise.

    Args:
        model: maps (N, M) inputs to (N,) outputs; x: (M,) the point explained; background: (K, M).

    Returns:
        (2**M,) game table, dtype of ``model``'s output.

    Example:
        >>> interventional_values(lambda z: z.sum(1), torch.ones(2), torch.zeros(1, 2))
        tensor([0., 1., 1., 2.])
    """
    m = x.shape[0]
    members = _members(m, x.device)                       # (2**M, M)
    z = torch.where(members[:, None, :], x, background[None, :, :])   # (2**M, K, M)
    out = model(z.reshape(-1, m))
    return out.reshape(1 << m, background.shape[0]).mean(1)


def linear_shap(weight, bias, x, background):
    """Shapley values of the linear model f(x) = weight . x + bias under the interventional game (chapter 20).

    phi_i = weight_i (x_i - mean of background[:, i]); the bias never matters.

    Args:
        weight: (M,); bias: number; x: (M,); background: (K, M).

    Returns:
        (M,) attributions, dtype of ``x``.

    Example:
        >>> linear_shap(torch.tensor([2.0, -1.0]), 3.0, torch.ones(2), torch.zeros(4, 2))
        tensor([ 2., -1.])
    """
    return weight * (x - background.mean(0))


def _target_logit_grad(model: Callable[[Tensor], Tensor], inputs: Tensor, target: Tensor) -> Tensor:
    inputs = inputs.detach().requires_grad_(True)
    logits = model(inputs)
    picked = logits.gather(1, target.reshape(-1, 1)).sum()
    (grad,) = torch.autograd.grad(picked, inputs)
    return grad


def gradient_x_input(model, x, target):
    """Gradient times input: x * d logit_target / dx, row by row (chapter 20).

    Args:
        model: maps (B, D) to (B, C) logits; x: (B, D); target: int64 (B,) classes explained.

    Returns:
        (B, D) attributions, dtype of x.

    Example:
        >>> gradient_x_input(lambda z: z ** 2, torch.tensor([[3.0]]), torch.tensor([0]))
        tensor([[18.]])
    """
    return (x * _target_logit_grad(model, x, target)).detach()


def integrated_gradients(model, x, baseline, target, steps=32):
    """Integrated gradients of the target logits with the midpoint rule (chapter 20).

    IG = (x - baseline) * (1/steps) sum_k grad f_target(baseline + a_k (x - baseline)), a_k = (k + 1/2)/steps.
    Completeness: the attributions of a row sum to about f_target(x) - f_target(baseline).

    Args:
        model: maps (B, D) to (B, C) logits; x: (B, D); baseline: (B, D) or (D,); target: int64 (B,);
        steps: number of points on the path.

    Returns:
        (B, D) attributions, dtype of x.

    Example:
        >>> integrated_gradients(lambda z: z ** 2, torch.tensor([[3.0]]), torch.zeros(1), torch.tensor([0]))
        tensor([[9.]])
    """
    baseline = baseline.expand_as(x)
    diff = x - baseline
    total = torch.zeros_like(x)
    for k in range(steps):
        alpha = (k + 0.5) / steps
        total = total + _target_logit_grad(model, baseline + alpha * diff, target)
    return (diff * total / steps).detach()


def deletion_attribution(model, x, target):
    """Pixel attributions whose deletion curve falls fast: integrated gradients from a black image (chapter 20).

    Args:
        model: maps (B, 64) to (B, 10) logits; x: (B, 64) images in [0, 1]; target: int64 (B,).

    Returns:
        (B, 64) attributions (larger = more important for the target class).

    Example:
        >>> deletion_attribution(torch.nn.Linear(64, 10), torch.rand(2, 64), torch.tensor([0, 1])).shape
        torch.Size([2, 64])
    """
    return integrated_gradients(model, x, torch.zeros_like(x), target, steps=32)


def concept_attributions():
    """The answers to chapter 20's concept questions (chapter 20).

    Example:
        >>> sorted(concept_attributions())
        ['q1', 'q2', 'q3']
    """
    return {"q1": "c", "q2": "b", "q3": "d"}
