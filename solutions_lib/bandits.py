"""Multi-armed bandits: value estimates and the classic exploration rules (chapter 15).

Every function works on a batch of independent bandit problems at once: action-value estimates ``Q``
and pull counts ``N`` have shape ``(n_runs, n_arms)``, actions and rewards have shape ``(n_runs,)``.
Randomness is handed in (uniform draws, normal draws, or a numpy ``Generator`` with a stated call
order), so every action is reproducible and can be graded exactly. Ties in an arg-max go to the
lowest index, as ``torch.argmax`` does.
"""
from __future__ import annotations

import math

import numpy as np
import torch

__all__ = [
    "concept_exploration",
    "concept_optimism",
    "sample_average_update",
    "epsilon_greedy_action",
    "ucb_action",
    "thompson_bernoulli_action",
    "thompson_gaussian_action",
    "cumulative_regret",
]


def sample_average_update(Q, N, actions, rewards):
    """Incremental sample-average update of the pulled arms' value estimates.

    Introduced in chapter 15 (Bandits, MDPs and tabular RL).

    In run ``i`` arm ``a = actions[i]`` was pulled and paid ``rewards[i]``: its count becomes
    ``n = N[i, a] + 1`` and its estimate ``Q[i, a] + (rewards[i] - Q[i, a]) / n``, so that ``Q[i, a]``
    stays the mean of the rewards seen from that arm. Other entries are unchanged.

    Args:
        Q: (n_runs, n_arms) floating tensor, current estimates.
        N: (n_runs, n_arms) tensor of pull counts (any numeric dtype).
        actions: (n_runs,) long tensor, the pulled arms.
        rewards: (n_runs,) tensor, the rewards received.

    Returns:
        ``(Q_new, N_new)``: new tensors of the shapes and dtypes of ``Q`` and ``N``.

    Example:
        >>> Q, N = torch.zeros(1, 2, dtype=torch.float64), torch.zeros(1, 2, dtype=torch.long)
        >>> Q, N = sample_average_update(Q, N, torch.tensor([1]), torch.tensor([3.0], dtype=torch.float64))
        >>> Q, N = sample_average_update(Q, N, torch.tensor([1]), torch.tensor([1.0], dtype=torch.float64))
        >>> Q.tolist(), N.tolist()
        ([[0.0, 2.0]], [[0, 2]])
    """
    rows = torch.arange(Q.shape[0], device=Q.device)
    N_new = N.clone()
    N_new[rows, actions] += 1
    n = N_new[rows, actions].to(Q.dtype)
    Q_new = Q.clone()
    Q_new[rows, actions] = Q[rows, actions] + (rewards.to(Q.dtype) - Q[rows, actions]) / n
    return Q_new, N_new


def epsilon_greedy_action(Q, epsilon, uniform, random_arm):
    """Epsilon-greedy arm choice from given random draws.

    Introduced in chapter 15 (Bandits, MDPs and tabular RL).

    Run ``i`` explores when ``uniform[i] < epsilon`` and then plays ``random_arm[i]``; otherwise it
    plays the greedy arm ``argmax Q[i]`` (the lowest index among ties).

    Args:
        Q: (n_runs, n_arms) value estimates.
        epsilon: exploration probability in [0, 1].
        uniform: (n_runs,) draws from U[0, 1).
        random_arm: (n_runs,) long tensor of arms drawn uniformly from {0, ..., n_arms - 1}.

    Returns:
        (n_runs,) long tensor of chosen arms.

    Example:
        >>> Q = torch.tensor([[0.0, 1.0, 0.5], [2.0, 0.0, 0.0]])
        >>> epsilon_greedy_action(Q, 0.1, torch.tensor([0.5, 0.05]), torch.tensor([0, 2])).tolist()
        [1, 2]
    """
    greedy = Q.argmax(dim=1)
    return torch.where(uniform < epsilon, random_arm.to(greedy.dtype), greedy)


def ucb_action(Q, N, t, c):
    """UCB1 arm choice: untried arms first, else argmax of Q + c * sqrt(ln t / N).

    Introduced in chapter 15 (Bandits, MDPs and tabular RL).

    ``t`` is the number of the step being chosen, counting from 1 (so ``t - 1`` pulls were made before
    it). A run with an untried arm (``N == 0``) plays its lowest-index untried arm; otherwise it plays
    the arm maximizing the upper confidence bound (lowest index among ties).

    Args:
        Q: (n_runs, n_arms) value estimates.
        N: (n_runs, n_arms) pull counts.
        t: the current step, an int >= 1.
        c: the exploration constant (>= 0).

    Returns:
        (n_runs,) long tensor of chosen arms.

    Example:
        >>> Q = torch.tensor([[1.0, 0.5], [1.0, 0.9]], dtype=torch.float64)
        >>> N = torch.tensor([[3, 0], [10, 1]])
        >>> ucb_action(Q, N, 12, 1.0).tolist()
        [1, 1]
    """
    Nf = N.to(Q.dtype)
    bonus = c * torch.sqrt(math.log(t) / Nf.clamp(min=1))
    score = torch.where(N == 0, torch.full_like(Q, float("inf")), Q + bonus)
    return score.argmax(dim=1)


def thompson_bernoulli_action(successes, failures, rng,
                              prior_a=1.0, prior_b=1.0):
    """Thompson sampling for Bernoulli arms with Beta(prior_a, prior_b) priors.

    Introduced in chapter 15 (Bandits, MDPs and tabular RL).

    The posterior of arm ``k`` is ``Beta(prior_a + successes[k], prior_b + failures[k])``. Draw one
    sample per arm and run with **one** call ``rng.beta(alpha, beta)`` on float64 numpy arrays of shape
    ``(n_runs, n_arms)``, and play the arm with the largest sample.

    Args:
        successes: (n_runs, n_arms) counts of reward 1.
        failures: (n_runs, n_arms) counts of reward 0.
        rng: a ``numpy.random.Generator``.
        prior_a, prior_b: the Beta prior's parameters.

    Returns:
        (n_runs,) long tensor of chosen arms, on the device of ``successes``.

    Example:
        >>> s, f = torch.tensor([[90.0, 1.0]]), torch.tensor([[10.0, 99.0]])
        >>> thompson_bernoulli_action(s, f, np.random.default_rng(0)).tolist()
        [0]
    """
    alpha = prior_a + successes.detach().cpu().numpy().astype(np.float64)
    beta = prior_b + failures.detach().cpu().numpy().astype(np.float64)
    theta = rng.beta(alpha, beta)
    return torch.as_tensor(theta.argmax(axis=1), dtype=torch.long, device=successes.device)


def thompson_gaussian_action(reward_sums, counts, z, prior_mean=0.0,
                             prior_var=1.0, noise_var=1.0):
    """Thompson sampling for Gaussian arms with known noise variance and a Gaussian prior.

    Introduced in chapter 15 (Bandits, MDPs and tabular RL).

    With prior ``N(prior_mean, prior_var)`` on an arm's mean and rewards ``N(mean, noise_var)``, after
    ``n`` pulls summing to ``S`` the posterior has precision ``1/prior_var + n/noise_var`` and mean
    ``(prior_mean/prior_var + S/noise_var) / precision``. The posterior sample is
    ``mean + z / sqrt(precision)`` with the given standard-normal draws ``z``; play its arg-max.

    Args:
        reward_sums: (n_runs, n_arms) sums of the rewards of each arm.
        counts: (n_runs, n_arms) pull counts.
        z: (n_runs, n_arms) standard-normal draws.
        prior_mean, prior_var, noise_var: floats.

    Returns:
        (n_runs,) long tensor of chosen arms.

    Example:
        >>> sums, n = torch.tensor([[3.0, 0.0]]), torch.tensor([[3.0, 0.0]])
        >>> thompson_gaussian_action(sums, n, torch.tensor([[0.0, 0.5]])).tolist()
        [0]
    """
    precision = 1.0 / prior_var + counts.to(z.dtype) / noise_var
    mean = (prior_mean / prior_var + reward_sums.to(z.dtype) / noise_var) / precision
    return (mean + z / precision.sqrt()).argmax(dim=1)


def cumulative_regret(q_star, actions):
    """Cumulative (pseudo-)regret of a sequence of pulls.

    Introduced in chapter 15 (Bandits, MDPs and tabular RL).

    The regret of step ``t`` in run ``i`` is ``max_k q_star[i, k] - q_star[i, actions[i, t]]``; return
    its running sum over steps.

    Args:
        q_star: (n_runs, n_arms) true arm means.
        actions: (n_runs, n_steps) long tensor of pulled arms.

    Returns:
        (n_runs, n_steps) tensor, dtype of ``q_star``.

    Example:
        >>> cumulative_regret(torch.tensor([[0.2, 0.7]]), torch.tensor([[0, 1, 0]])).tolist()
        [[0.5, 0.5, 1.0]]
    """
    gaps = q_star.max(dim=1, keepdim=True).values - q_star.gather(1, actions)
    return gaps.cumsum(dim=1)


def concept_exploration():
    """Answer to the chapter's question on why greedy play loses to epsilon-greedy (a letter).

    Introduced in chapter 15 (Bandits, MDPs and tabular RL): an arm that looked bad after unlucky first
    rewards is never played again, so its estimate is never corrected.

    Example:
        >>> concept_exploration()
        'a'
    """
    return "a"


def concept_optimism():
    """Answer to the chapter's question on why UCB's optimism does not pull bad arms forever (a letter).

    Introduced in chapter 15 (Bandits, MDPs and tabular RL): a bad arm is played only while its bound is
    wide; each pull narrows the bound, so each mistake either teaches something or costs little.

    Example:
        >>> concept_optimism()
        'c'
    """
    return "c"
