"""Finite MDPs: Bellman backups, dynamic programming, and tabular temporal-difference learning (chapter 15).

An MDP with ``S`` states and ``A`` actions is given by two dense tensors (see
``course.envs.gridworld.transition_tensors``, which builds them from gymnasium's ``P[s][a]`` tables):
``T[s, a, s2]``, the probability of moving to ``s2`` **and continuing** (transitions that end the episode
are left out), and ``R[s, a]``, the expected immediate reward. The Bellman backup of a value vector ``V``
is then ``R + gamma * T @ V``: an episode-ending transition contributes its reward and nothing after.

The temporal-difference updates take one observed transition and return a **new** table: they all move
an entry towards a target, ``X += alpha * (target - X)``, where the target's bootstrap term is dropped
when the transition ended the episode.
"""
from __future__ import annotations

import torch

__all__ = [
    "bellman_expectation_backup",
    "bellman_optimality_backup",
    "policy_evaluation",
    "value_iteration",
    "td0_update",
    "sarsa_update",
    "q_learning_update",
    "td_control",
    "concept_off_policy",
]


def _q_values(V, T, R, gamma):
    return R + gamma * torch.einsum("sat,t->sa", T, V)


def bellman_expectation_backup(V, T, R, policy, gamma):
    """One Bellman expectation backup: V'(s)=sum_a pi(a|s) [R(s,a) + gamma sum_s2 T(s,a,s2) V(s2)].

    Introduced in chapter 15 (Bandits, MDPs and tabular RL).

    Args:
        V: (S,) value estimates.
        T: (S, A, S) continuation probabilities.
        R: (S, A) expected immediate rewards.
        policy: (S, A) action probabilities, rows summing to one.
        gamma: discount factor in [0, 1].

    Returns:
        (S,) tensor, the backed-up values.

    Example:
        >>> T=torch.tensor([[[0.0, 1.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
        >>> R=torch.tensor([[0.0, 1.0], [5.0, 5.0]])
        >>> pi=torch.tensor([[0.5, 0.5], [1.0, 0.0]])
        >>> bellman_expectation_backup(torch.tensor([2.0, 4.0]), T, R, pi, 0.5).tolist()
        [2.0, 5.0]
    """
    return (policy * _q_values(V, T, R, gamma)).sum(dim=1)


def bellman_optimality_backup(V, T, R, gamma):
    """One Bellman optimality backup: V'(s)=max_a [R(s,a) + gamma sum_s2 T(s,a,s2) V(s2)].

    Introduced in chapter 15 (Bandits, MDPs and tabular RL).

    Args:
        V: (S,) value estimates.
        T: (S, A, S) continuation probabilities.
        R: (S, A) expected immediate rewards.
        gamma: discount factor in [0, 1].

    Returns:
        (S,) tensor, the backed-up values.

    Example:
        >>> T=torch.tensor([[[0.0, 1.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
        >>> R=torch.tensor([[0.0, 1.0], [5.0, 5.0]])
        >>> bellman_optimality_backup(torch.tensor([2.0, 4.0]), T, R, 0.5).tolist()
        [2.0, 5.0]
    """
    return _q_values(V, T, R, gamma).max(dim=1).values


def policy_evaluation(T, R, policy, gamma):
    """Exact value of a policy: the solution of (I - gamma P_pi) V=r_pi.

    Introduced in chapter 15 (Bandits, MDPs and tabular RL).

    ``P_pi[s, s2]=sum_a pi(a|s) T(s, a, s2)`` and ``r_pi[s]=sum_a pi(a|s) R(s, a)``. The system is
    solvable when ``gamma < 1``, or for ``gamma=1`` when the policy ends every episode with
    probability one.

    Args:
        T: (S, A, S) continuation probabilities.
        R: (S, A) expected immediate rewards.
        policy: (S, A) action probabilities.
        gamma: discount factor.

    Returns:
        (S,) tensor, V^pi.

    Example:
        >>> T=torch.tensor([[[1.0]]], dtype=torch.float64)
        >>> R=torch.tensor([[1.0]], dtype=torch.float64)
        >>> round(policy_evaluation(T, R, torch.ones(1, 1, dtype=torch.float64), 0.9).item(), 9)
        10.0
    """
    P_pi=torch.einsum("sa,sat->st", policy, T)
    r_pi=(policy * R).sum(dim=1)
    eye=torch.eye(T.shape[0], dtype=T.dtype, device=T.device)
    return torch.linalg.solve(eye - gamma * P_pi, r_pi)


def value_iteration(T, R, gamma, tol=1e-10, max_iter=100_000):
    """Optimal state values by repeated Bellman optimality backups, from V=0.

    Introduced in chapter 15 (Bandits, MDPs and tabular RL).

    Iterate ``V <- max_a [R + gamma T V]`` until the largest change of one sweep is below ``tol``
    (or ``max_iter`` sweeps) and return the last ``V``.

    Args:
        T: (S, A, S) continuation probabilities.
        R: (S, A) expected immediate rewards.
        gamma: discount factor.
        tol: stopping threshold on max |V_new - V|.
        max_iter: the most sweeps.

    Returns:
        (S,) tensor, an approximation of V*.

    Example:
        >>> T=torch.tensor([[[1.0], [0.0]]], dtype=torch.float64)
        >>> R=torch.tensor([[1.0, 2.0]], dtype=torch.float64)
        >>> round(value_iteration(T, R, 0.5).item(), 6)
        2.0
    """
    V=torch.zeros(T.shape[0], dtype=T.dtype, device=T.device)
    for _ in range(max_iter):
        V_new = bellman_optimality_backup(V, T, R, gamma)
        done = (V_new - V).abs().max().item() < tol
        V = V_new
        if done:
            break
    return V


def td0_update(V, s, r, s_next, terminated, alpha, gamma):
    """TD(0): V(s) += alpha * (r + gamma * V(s_next) - V(s)), without the bootstrap when terminated.

    Introduced in chapter 15 (Bandits, MDPs and tabular RL).

    Args:
        V: (S,) value table.
        s, s_next: ints, the state left and the state reached.
        r: the reward of the transition.
        terminated: whether the transition ended the episode (then the target is just ``r``).
        alpha: step size; gamma: discount factor.

    Returns:
        a new (S,) tensor (``V`` itself is not modified).

    Example:
        >>> td0_update(torch.tensor([1.0, 2.0]), 0, 1.0, 1, False, 0.5, 0.5).tolist()
        [1.5, 2.0]
    """
    target = r + (0.0 if terminated else gamma * V[s_next])
    V_new = V.clone()
    V_new[s] = V[s] + alpha * (target - V[s])
    return V_new


def sarsa_update(Q, s, a, r, s_next, a_next, terminated,
                 alpha, gamma):
    """Sarsa: Q(s,a) += alpha * (r + gamma * Q(s_next, a_next) - Q(s,a)), no bootstrap when terminated.

    Introduced in chapter 15 (Bandits, MDPs and tabular RL).

    Args:
        Q: (S, A) action-value table.
        s, a: the state and the action taken; r: the reward.
        s_next, a_next: the next state and the action the behaviour policy picked there.
        terminated: whether the transition ended the episode.
        alpha: step size; gamma: discount factor.

    Returns:
        a new (S, A) tensor.

    Example:
        >>> Q = torch.tensor([[0.0, 1.0], [4.0, 2.0]])
        >>> sarsa_update(Q, 0, 0, 1.0, 1, 1, False, 0.5, 1.0).tolist()
        [[1.5, 1.0], [4.0, 2.0]]
    """
    target = r + (0.0 if terminated else gamma * Q[s_next, a_next])
    Q_new = Q.clone()
    Q_new[s, a] = Q[s, a] + alpha * (target - Q[s, a])
    return Q_new


def q_learning_update(Q, s, a, r, s_next, terminated,
                      alpha, gamma):
    """Q-learning: Q(s,a) += alpha * (r + gamma * max_b Q(s_next, b) - Q(s,a)), no bootstrap when terminated.

    Introduced in chapter 15 (Bandits, MDPs and tabular RL).

    Args:
        Q: (S, A) action-value table.
        s, a: the state and the action taken; r: the reward.
        s_next: the next state.
        terminated: whether the transition ended the episode.
        alpha: step size; gamma: discount factor.

    Returns:
        a new (S, A) tensor.

    Example:
        >>> Q = torch.tensor([[0.0, 1.0], [4.0, 2.0]])
        >>> q_learning_update(Q, 0, 0, 1.0, 1, False, 0.5, 1.0).tolist()
        [[2.5, 1.0], [4.0, 2.0]]
    """
    target = r + (0.0 if terminated else gamma * Q[s_next].max())
    Q_new = Q.clone()
    Q_new[s, a] = Q[s, a] + alpha * (target - Q[s, a])
    return Q_new


def td_control(update, n_episodes=200, alpha=0.5, epsilon=0.1, gamma=1.0, seed=0, max_steps=500):
    """Sarsa or Q-learning with epsilon-greedy behaviour on gymnasium's CliffWalking.

    Introduced in chapter 15 (Bandits, MDPs and tabular RL).

    Starts from a zero float64 table. In each step the behaviour policy explores with probability
    ``epsilon`` (a uniformly random action) and otherwise plays ``argmax_a Q[s, a]``; every draw
    comes from ``numpy.random.default_rng(seed)``. Sarsa picks the next action before its update and
    then plays it; Q-learning updates with the greedy value of the next state whatever it plays next.
    An episode ends when the environment terminates or truncates it, or after ``max_steps`` steps.

    Args:
        update: ``"sarsa"`` or ``"q_learning"``.
        n_episodes: number of training episodes.
        alpha, epsilon, gamma: step size, exploration probability, discount factor.
        seed: seeds every random draw.
        max_steps: the most steps of one episode.

    Returns:
        (Q, returns): the (48, 4) float64 table and the (n_episodes,) float64 numpy array of the
        undiscounted return of each training episode.

    Example:
        >>> Q, returns = td_control("q_learning", n_episodes=5, seed=0)
        >>> Q.shape, returns.shape
        (torch.Size([48, 4]), (5,))
    """
    import numpy as np

    from course.envs.gridworld import make_cliff_walking

    if update not in ("sarsa", "q_learning"):
        raise ValueError(f"update must be 'sarsa' or 'q_learning', got {update!r}")
    env = make_cliff_walking()
    n_states, n_actions = env.observation_space.n, env.action_space.n
    rng = np.random.default_rng(seed)
    Q = torch.zeros(n_states, n_actions, dtype=torch.float64)

    def act(s):
        if rng.random() < epsilon:
            return int(rng.integers(n_actions))
        return int(Q[s].argmax())

    returns = np.zeros(n_episodes)
    for episode in range(n_episodes):
        s, _ = env.reset(seed=seed + episode)
        a = act(s)
        for _ in range(max_steps):
            s_next, r, terminated, truncated, _ = env.step(a)
            returns[episode] += r
            if update == "sarsa":
                a_next = act(s_next)
                Q = sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma)
            else:
                Q = q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma)
                a_next = act(s_next)
            s, a = s_next, a_next
            if terminated or truncated:
                break
    return Q, returns


def concept_off_policy():
    """Answer to the chapter's question on Q-learning from uniformly random behaviour (a letter).

    Introduced in chapter 15 (Bandits, MDPs and tabular RL): Q-learning's target does not depend on the
    action played next, so with every pair visited often enough it still converges to Q*.

    Example:
        >>> concept_off_policy()
        'b'
    """
    return "b"
