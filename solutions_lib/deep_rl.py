"""Policy gradients, value targets, PPO, tree search and imitation learning (chapter 16).

Conventions shared by every function:

* time runs along the **last** dimension: ``rewards[..., t]`` is the reward received after the action
  taken at step ``t``; leading dimensions are independent episodes;
* ``dones[..., t]`` is 1 (or ``True``) when the episode ended right after step ``t``: nothing that comes
  later in the same row belongs to that episode;
* policy-gradient estimates use **undiscounted** returns and are averaged over trajectories with weights
  ``weights`` (default ``1 / B``), so passing every trajectory of a small MDP with its probability as weight
  gives the exact expectation of the estimator;
* PPO's objective is the quantity to **maximize** (its negative is the loss handed to an optimizer).
"""
from __future__ import annotations

import torch
from torch import Tensor

from solutions_lib.linear import softmax

__all__ = [
    "discounted_returns",
    "rewards_to_go",
    "policy_score",
    "reinforce_gradient",
    "reward_to_go_gradient",
    "td_errors",
    "gae_advantages",
    "dqn_target",
    "double_dqn_target",
    "ReplayBuffer",
    "actor_critic_losses",
    "ppo_clip_objective",
    "puct_select",
    "fit_tabular_policy",
    "dagger",
    "train_cartpole_policy",
    "concept_baseline",
    "concept_gae_lambda",
    "concept_reuse",
]


def discounted_returns(rewards, gamma):
    r"""Total discounted return :math:`R = \sum_{t=0}^{T-1} \gamma^t r_t` of each episode.

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play).

    Args:
        rewards: floating tensor of shape ``(..., T)``, time along the last dimension.
        gamma: discount factor in ``[0, 1]``.

    Returns:
        Tensor of shape ``(...)`` (the last dimension summed out), same dtype as ``rewards``.

    Example:
        >>> discounted_returns(torch.tensor([1.0, 1.0, 1.0]), 0.5)
        tensor(1.7500)
    """
    T = rewards.shape[-1]
    powers = gamma ** torch.arange(T, device=rewards.device, dtype=rewards.dtype)
    return (rewards * powers).sum(-1)


def rewards_to_go(rewards, gamma):
    r"""Discounted rewards-to-go :math:`G_t = \sum_{k \ge t} \gamma^{k-t} r_k`, by the backward recursion.

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play).

    :math:`G_{T-1} = r_{T-1}` and :math:`G_t = r_t + \gamma G_{t+1}`; ``G[..., 0]`` is the discounted return.

    Args:
        rewards: floating tensor of shape ``(..., T)``, time along the last dimension.
        gamma: discount factor in ``[0, 1]``.

    Returns:
        Tensor of shape ``(..., T)``, same dtype as ``rewards``.

    Example:
        >>> rewards_to_go(torch.tensor([1.0, 1.0, 1.0]), 0.5)
        tensor([1.7500, 1.5000, 1.0000])
    """
    out = torch.empty_like(rewards)
    running = torch.zeros_like(rewards[..., 0])
    for t in range(rewards.shape[-1] - 1, -1, -1):  # a loop over time, vectorized over episodes
        running = rewards[..., t] + gamma * running
        out[..., t] = running
    return out


def policy_score(logits, states, actions):
    r"""The nonzero row of :math:`\nabla_\theta \log \pi(a|s)` for a tabular softmax policy: :math:`e_a - \pi(\cdot|s)`.

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play).

    With :math:`\pi(a|s) = \mathrm{softmax}(\theta_{s,\cdot})_a`, the gradient of :math:`\log\pi(a|s)` in the
    logits is zero outside row ``s``; row ``s`` is the one-hot vector of ``a`` minus the action probabilities.

    Args:
        logits: policy parameters, shape ``(S, A)``.
        states: long tensor of any shape ``(...)``; actions: long tensor of the same shape.

    Returns:
        Tensor of shape ``(..., A)``, dtype of ``logits``.

    Example:
        >>> policy_score(torch.zeros(1, 2), torch.tensor([0]), torch.tensor([1]))
        tensor([[-0.5000,  0.5000]])
    """
    pi = softmax(logits, dim=-1)
    return torch.nn.functional.one_hot(actions, logits.shape[-1]).to(logits.dtype) - pi[states]


def _score_weighted_sum(logits: Tensor, states: Tensor, actions: Tensor, coef: Tensor) -> Tensor:
    """sum over (b, t) of coef[b, t] * grad_logits log softmax(logits[s_bt])[a_bt]."""
    pi = softmax(logits, dim=-1)
    n_actions = logits.shape[-1]
    score = torch.nn.functional.one_hot(actions, n_actions).to(logits.dtype) - pi[states]  # (B, T, A)
    contrib = (coef.unsqueeze(-1) * score).reshape(-1, n_actions)
    return torch.zeros_like(logits).index_add_(0, states.reshape(-1), contrib)


def _weights(weights, batch: int, like: Tensor) -> Tensor:
    if weights is None:
        return torch.full((batch,), 1.0 / batch, device=like.device, dtype=like.dtype)
    return weights.to(like.dtype)


def reinforce_gradient(logits, states, actions, rewards, weights=None):
    r"""REINFORCE estimate of :math:`\nabla_\theta J` for a tabular softmax policy, using the total return.

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play).

    The policy is :math:`\pi(a|s) = \mathrm{softmax}(\theta_{s,\cdot})_a`. The estimate is
    :math:`\sum_b w_b \sum_t R(\tau_b)\, \nabla_\theta \log \pi(a_{b,t}|s_{b,t})` with the undiscounted
    return :math:`R(\tau_b) = \sum_t r_{b,t}`; row ``s`` of
    :math:`\nabla_\theta \log \pi(a|s)` is :math:`e_a - \pi(\cdot|s)`, all other rows are zero.

    Args:
        logits: policy parameters :math:`\theta`, shape ``(S, A)``.
        states: visited states, long tensor of shape ``(B, T)``.
        actions: actions taken, long tensor of shape ``(B, T)``.
        rewards: rewards, shape ``(B, T)``.
        weights: optional per-trajectory weights, shape ``(B,)``; default ``1 / B`` (the sample mean).

    Returns:
        The gradient estimate, shape ``(S, A)``, dtype of ``logits``.

    Example:
        >>> reinforce_gradient(torch.zeros(1, 2), torch.tensor([[0]]), torch.tensor([[0]]), torch.tensor([[1.0]]))
        tensor([[ 0.5000, -0.5000]])
    """
    w = _weights(weights, states.shape[0], logits)
    total = rewards.to(logits.dtype).sum(-1, keepdim=True)  # (B, 1)
    coef = w.unsqueeze(-1) * total.expand(states.shape)
    return _score_weighted_sum(logits, states, actions, coef)


def reward_to_go_gradient(logits, states, actions, rewards, baseline=None, weights=None):
    r"""Policy-gradient estimate with undiscounted rewards-to-go minus a state baseline.

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play).

    The estimate is :math:`\sum_b w_b \sum_t \big(G_{b,t} - b(s_{b,t})\big)\,
    \nabla_\theta \log \pi(a_{b,t}|s_{b,t})` with :math:`G_{b,t} = \sum_{k \ge t} r_{b,k}`. It has the same
    expectation as :func:`reinforce_gradient` for any baseline that depends on the state only.

    Args:
        logits: policy parameters, shape ``(S, A)``.
        states: long tensor ``(B, T)``; actions: long tensor ``(B, T)``; rewards: ``(B, T)``.
        baseline: optional baseline value per state, shape ``(S,)`` (default: zero).
        weights: optional per-trajectory weights, shape ``(B,)``; default ``1 / B``.

    Returns:
        The gradient estimate, shape ``(S, A)``, dtype of ``logits``.

    Example:
        >>> reward_to_go_gradient(torch.zeros(1, 2), torch.tensor([[0]]), torch.tensor([[0]]),
        ...                       torch.tensor([[1.0]]), baseline=torch.tensor([0.5]))
        tensor([[ 0.2500, -0.2500]])
    """
    w = _weights(weights, states.shape[0], logits)
    psi = rewards_to_go(rewards.to(logits.dtype), 1.0)
    if baseline is not None:
        psi = psi - baseline.to(logits.dtype)[states]
    return _score_weighted_sum(logits, states, actions, w.unsqueeze(-1) * psi)


def td_errors(rewards, values, dones, gamma):
    r"""One-step TD errors :math:`\delta_t = r_t + \gamma (1 - \mathrm{done}_t) V(s_{t+1}) - V(s_t)`.

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play).

    Args:
        rewards: shape ``(..., T)``.
        values: :math:`V(s_0), \dots, V(s_T)`, shape ``(..., T + 1)``.
        dones: shape ``(..., T)``, 1/``True`` where the episode ended after step ``t``.
        gamma: discount factor.

    Returns:
        Shape ``(..., T)``, dtype of ``rewards``.

    Example:
        >>> td_errors(torch.tensor([1.0, 1.0]), torch.tensor([0.0, 2.0, 10.0]), torch.tensor([0.0, 1.0]), 0.5)
        tensor([ 2., -1.])
    """
    mask = 1.0 - dones.to(rewards.dtype)
    values = values.to(rewards.dtype)
    return rewards + gamma * mask * values[..., 1:] - values[..., :-1]


def gae_advantages(rewards, values, dones, gamma, lam):
    r"""Generalized advantage estimates :math:`\hat A_t = \sum_{l \ge 0} (\gamma\lambda)^l \delta_{t+l}` within each episode.

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play).

    With :math:`m_t = 1 - \mathrm{done}_t`, the TD errors are
    :math:`\delta_t = r_t + \gamma m_t V(s_{t+1}) - V(s_t)` and the advantages follow the backward recursion
    :math:`\hat A_t = \delta_t + \gamma\lambda m_t \hat A_{t+1}` with :math:`\hat A_T = 0`.
    ``lam = 0`` gives the TD errors; ``lam = 1`` gives the Monte-Carlo return (bootstrapped with
    ``values[..., T]`` when the rollout was cut before the episode ended) minus :math:`V(s_t)`.

    Args:
        rewards: shape ``(..., T)``.
        values: :math:`V(s_0), \dots, V(s_T)`, shape ``(..., T + 1)`` (the last one is the bootstrap value).
        dones: shape ``(..., T)``, 1/``True`` where the episode ended after step ``t``.
        gamma: discount factor; lam: the GAE parameter :math:`\lambda \in [0, 1]`.

    Returns:
        Advantages, shape ``(..., T)``, dtype of ``rewards``.

    Example:
        >>> gae_advantages(torch.tensor([1.0, 1.0]), torch.tensor([0.0, 0.0, 10.0]),
        ...                torch.tensor([0.0, 1.0]), 0.5, 1.0)
        tensor([1.5000, 1.0000])
    """
    mask = 1.0 - dones.to(rewards.dtype)
    values = values.to(rewards.dtype)
    deltas = rewards + gamma * mask * values[..., 1:] - values[..., :-1]
    out = torch.empty_like(deltas)
    running = torch.zeros_like(deltas[..., 0])
    for t in range(deltas.shape[-1] - 1, -1, -1):
        running = deltas[..., t] + gamma * lam * mask[..., t] * running
        out[..., t] = running
    return out


def dqn_target(rewards, next_q_target, dones, gamma):
    r"""DQN regression target :math:`y = r + \gamma (1 - \mathrm{done}) \max_{a'} Q_{\text{target}}(s', a')`.

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play).

    Args:
        rewards: shape ``(B,)``.
        next_q_target: the target network's values at the next states, shape ``(B, A)``.
        dones: shape ``(B,)``, 1/``True`` where ``s'`` is terminal (no bootstrap).
        gamma: discount factor.

    Returns:
        Targets, shape ``(B,)``, dtype of ``rewards``.

    Example:
        >>> dqn_target(torch.tensor([1.0, 1.0]), torch.tensor([[2.0, 4.0], [2.0, 4.0]]),
        ...            torch.tensor([0.0, 1.0]), 0.5)
        tensor([3., 1.])
    """
    mask = 1.0 - dones.to(rewards.dtype)
    return rewards + gamma * mask * next_q_target.to(rewards.dtype).amax(-1)


def double_dqn_target(rewards, next_q_online, next_q_target, dones, gamma):
    r"""Double-DQN target: the online network picks :math:`a^*`, the target network evaluates it.

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play).

    :math:`a^* = \arg\max_{a'} Q_{\text{online}}(s', a')` (ties: lowest index) and
    :math:`y = r + \gamma (1 - \mathrm{done})\, Q_{\text{target}}(s', a^*)`.

    Args:
        rewards: shape ``(B,)``.
        next_q_online: online network at the next states, shape ``(B, A)``.
        next_q_target: target network at the next states, shape ``(B, A)``.
        dones: shape ``(B,)``.
        gamma: discount factor.

    Returns:
        Targets, shape ``(B,)``, dtype of ``rewards``.

    Example:
        >>> double_dqn_target(torch.tensor([0.0]), torch.tensor([[1.0, 0.0]]), torch.tensor([[3.0, 9.0]]),
        ...                   torch.tensor([0.0]), 1.0)
        tensor([3.])
    """
    best = next_q_online.argmax(-1, keepdim=True)
    value = next_q_target.to(rewards.dtype).gather(-1, best).squeeze(-1)
    return rewards + gamma * (1.0 - dones.to(rewards.dtype)) * value


class ReplayBuffer:
    r"""Experience replay: a ring of ``capacity`` transitions, sampled uniformly without replacement.

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play).

    Each transition is one row of ``dim`` numbers (e.g. ``s, a, r, s', done`` packed side by side). Storage
    is a ``(capacity, dim)`` tensor used as a ring: the ``k``-th push (counting from 0) writes slot
    ``k % capacity``, so once the ring is full every push replaces the **oldest** transition. Only the filled
    slots are ever sampled.

    Args:
        capacity: the number of slots; dim: numbers per transition; dtype: the storage dtype.

    Methods:
        ``push(transition)``: stores a copy of the ``(dim,)`` tensor ``transition``.
        ``sample(batch_size, generator)``: ``storage[torch.randperm(len(self), generator=generator)[:batch_size]]``,
        a ``(batch_size, dim)`` tensor (``ValueError`` if ``batch_size > len(self)``).
        ``len(buffer)``: the number of filled slots, ``min(pushes, capacity)``.

    Example:
        >>> buf = ReplayBuffer(2, 1)
        >>> for x in (1.0, 2.0, 3.0):
        ...     buf.push(torch.tensor([x]))
        >>> len(buf), buf.storage.flatten()
        (2, tensor([3., 2.]))
    """

    def __init__(self, capacity, dim, dtype=torch.float32):
        self.capacity = capacity
        self.storage = torch.zeros(capacity, dim, dtype=dtype)
        self.position = 0  # the slot the next push writes
        self.size = 0

    def push(self, transition):
        self.storage[self.position] = torch.as_tensor(transition, dtype=self.storage.dtype)
        self.position = (self.position + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size, generator):
        if batch_size > self.size:
            raise ValueError(f"cannot draw {batch_size} distinct transitions from {self.size} stored")
        return self.storage[torch.randperm(self.size, generator=generator)[:batch_size]]

    def __len__(self):
        return self.size


def actor_critic_losses(log_probs, values, next_values, rewards, dones, gamma, entropies=None, entropy_coef=0.0):
    r"""The two losses of one-step advantage actor-critic, averaged over a batch of transitions.

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play).

    With the TD target :math:`y = r + \gamma (1 - \mathrm{done}) V(s')` treated as a **constant** and the
    advantage estimate :math:`\delta = y - V(s)`:

    * critic: :math:`\frac1N \sum_i \delta_i^2`, whose gradient reaches :math:`V(s_i)` only (a semi-gradient);
    * actor: :math:`-\frac1N \sum_i \log\pi(a_i|s_i)\, \delta_i - \beta \frac1N \sum_i H_i`, with
      :math:`\delta` a constant (its gradient reaches the log-probabilities and the entropies only).

    Args:
        log_probs: :math:`\log\pi(a_i|s_i)`, shape ``(N,)``; values: :math:`V(s_i)`, shape ``(N,)``;
        next_values: :math:`V(s'_i)`, shape ``(N,)``; rewards: ``(N,)``; dones: ``(N,)``, 1/``True`` when
        :math:`s'_i` is terminal; gamma: discount factor.
        entropies: optional :math:`H_i`, the policy's entropy at :math:`s_i`, shape ``(N,)``;
        entropy_coef: :math:`\beta` (the bonus is only added when ``entropies`` is given).

    Returns:
        ``(actor_loss, critic_loss)``, two 0-d tensors in the dtype of ``values``.

    Example:
        >>> actor_critic_losses(torch.tensor([-1.0]), torch.tensor([1.0]), torch.tensor([4.0]),
        ...                     torch.tensor([1.0]), torch.tensor([0.0]), 0.5)
        (tensor(2.), tensor(4.))
    """
    mask = 1.0 - dones.to(values.dtype)
    target = (rewards.to(values.dtype) + gamma * mask * next_values).detach()
    delta = target - values
    critic_loss = (delta ** 2).mean()
    actor_loss = -(log_probs * delta.detach()).mean()
    if entropies is not None:
        actor_loss = actor_loss - entropy_coef * entropies.mean()
    return actor_loss, critic_loss


def ppo_clip_objective(log_probs, old_log_probs, advantages, eps=0.2):
    r"""PPO's clipped surrogate objective (to maximize), averaged over samples.

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play).

    With :math:`\rho = \exp(\log\pi_\theta - \log\pi_{\text{old}})`, the objective is
    :math:`\frac1N \sum_i \min\big(\rho_i A_i,\ \mathrm{clip}(\rho_i, 1-\epsilon, 1+\epsilon) A_i\big)`.
    It stays differentiable in ``log_probs`` (``old_log_probs`` is treated as a constant).

    Args:
        log_probs: :math:`\log\pi_\theta(a_i|s_i)`, shape ``(N,)`` (may require grad).
        old_log_probs: :math:`\log\pi_{\text{old}}(a_i|s_i)`, shape ``(N,)``.
        advantages: :math:`A_i`, shape ``(N,)``.
        eps: clipping radius :math:`\epsilon`.

    Returns:
        A 0-d tensor.

    Example:
        >>> ppo_clip_objective(torch.log(torch.tensor([1.5, 0.5])), torch.zeros(2), torch.tensor([1.0, -1.0]))
        tensor(0.2000)
    """
    ratio = (log_probs - old_log_probs.detach()).exp()
    clipped = ratio.clamp(1.0 - eps, 1.0 + eps)
    return torch.minimum(ratio * advantages, clipped * advantages).mean()


def puct_select(q, prior, visits, c=1.0, legal=None):
    r"""The child that maximizes PUCT, :math:`Q + c\, P \sqrt{N_{\text{parent}}} / (1 + N_{\text{child}})`.

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play).

    :math:`N_{\text{parent}} = \sum_a N(a)` is the total visit count of the children. Illegal moves
    (``legal`` False) are never chosen; ties are broken by the **lowest index**.

    Args:
        q: mean values of the children, shape ``(..., A)``.
        prior: prior probabilities :math:`P(a)`, shape ``(..., A)``.
        visits: visit counts :math:`N(a)` (integer or float), shape ``(..., A)``.
        c: exploration constant.
        legal: optional boolean mask, shape ``(..., A)`` (default: all legal).

    Returns:
        Long tensor of shape ``(...)``: the index of the selected child.

    Example:
        >>> puct_select(torch.tensor([0.0, 0.5]), torch.tensor([0.9, 0.1]), torch.tensor([1, 3]), c=2.0)
        tensor(0)
    """
    q = q.to(torch.promote_types(q.dtype, torch.float32))
    n = visits.to(q.dtype)
    parent = n.sum(-1, keepdim=True)
    score = q + c * prior.to(q.dtype) * parent.sqrt() / (1.0 + n)
    if legal is not None:
        score = score.masked_fill(~legal.bool(), float("-inf"))
    return score.argmax(-1)  # torch.argmax returns the first maximal index


def fit_tabular_policy(cells, actions, n_cells):
    r"""Behaviour cloning with a table: the mean expert action in each cell, 0 in cells without data.

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play).

    This is the least-squares fit of a piecewise-constant policy to the pairs ``(cell, action)``.

    Args:
        cells: long tensor ``(N,)`` with entries in ``[0, n_cells)``.
        actions: floating tensor ``(N,)``, the expert's actions.
        n_cells: number of cells.

    Returns:
        Tensor ``(n_cells,)``, dtype of ``actions``.

    Example:
        >>> fit_tabular_policy(torch.tensor([0, 0, 2]), torch.tensor([1.0, 3.0, -1.0]), 4)
        tensor([ 2.,  0., -1.,  0.])
    """
    sums = torch.zeros(n_cells, device=actions.device, dtype=actions.dtype).index_add_(0, cells, actions)
    counts = torch.zeros(n_cells, device=actions.device, dtype=actions.dtype).index_add_(
        0, cells, torch.ones_like(actions))
    return sums / counts.clamp(min=1.0)


def dagger(states, actions, expert, rollout, fit, n_rounds, generator):
    r"""DAgger: roll out the learner, label the visited states with the expert, aggregate, refit.

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play).

    Starting from the expert data ``(states, actions)``, each of the ``n_rounds`` rounds does, in order:
    ``policy = fit(all_states, all_actions)``; ``new = rollout(policy, generator)``;
    append ``new`` and ``expert(new)`` to the data set. The learner's own actions are never stored.

    Args:
        states: initial expert states, shape ``(N, ...)``; actions: the expert's actions, ``(N, ...)``.
        expert: callable ``states -> actions`` (the expert labels any state).
        rollout: callable ``(policy, generator) -> visited states`` (shape ``(M, ...)``), called once a round.
        fit: callable ``(states, actions) -> policy``.
        n_rounds: number of aggregation rounds.
        generator: the random generator handed to ``rollout``.

    Returns:
        The aggregated data set ``(states, actions)``, shapes ``(N + sum of M, ...)``, original data first.

    Example:
        >>> s, a = dagger(torch.tensor([0.0]), torch.tensor([0.0]), lambda x: -x,
        ...               lambda pol, g: pol(torch.tensor([1.0, 2.0])), lambda s, a: (lambda x: x + 1),
        ...               1, torch.Generator())
        >>> s, a
        (tensor([0., 2., 3.]), tensor([ 0., -2., -3.]))
    """
    all_states, all_actions = [states], [actions]
    for _ in range(n_rounds):
        policy = fit(torch.cat(all_states), torch.cat(all_actions))
        new = rollout(policy, generator)
        all_states.append(new)
        all_actions.append(expert(new))
    return torch.cat(all_states), torch.cat(all_actions)


def train_cartpole_policy(n_iters=40, episodes_per_iter=4, lr=0.02, gamma=0.99, hidden=32, seed=0, max_steps=200):
    """Policy gradient with normalized discounted rewards-to-go on gymnasium's CartPole.

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play).

    The policy is ``Sequential(Linear(4, hidden), Tanh(), Linear(hidden, 2))`` (float32) built after
    ``torch.manual_seed(seed)``; actions are sampled from its softmax with ``numpy.random.default_rng(seed)``.
    Each iteration plays ``episodes_per_iter`` episodes (at most ``max_steps`` steps each, reset with seed
    ``seed * 100_000 + iteration * episodes_per_iter + episode``), computes each episode's discounted
    rewards-to-go, normalizes them over the batch, and takes one Adam step on
    ``-sum(psi * log pi(a|s)) / episodes_per_iter``.

    Args:
        n_iters, episodes_per_iter: the schedule; lr: Adam's step size; gamma: discount of the rewards-to-go;
        hidden: hidden units; seed: seeds every random draw; max_steps: the longest episode.

    Returns:
        (net, returns): the trained network and the list of training-episode returns.

    Example:
        >>> net, returns = train_cartpole_policy(n_iters=1, episodes_per_iter=1)
        >>> net(torch.zeros(4)).shape, len(returns)
        (torch.Size([2]), 1)
    """
    import gymnasium as gym
    import numpy as np

    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 2))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    env = gym.make("CartPole-v1", max_episode_steps=max_steps)
    rng = np.random.default_rng(seed)
    returns = []
    for it in range(n_iters):
        observations, actions, psis = [], [], []
        for ep in range(episodes_per_iter):
            obs, _ = env.reset(seed=seed * 100_000 + it * episodes_per_iter + ep)
            rewards, done = [], False
            while not done:
                with torch.no_grad():
                    p_right = torch.softmax(net(torch.as_tensor(obs, dtype=torch.float32)), -1)[1].item()
                action = int(rng.random() < p_right)
                observations.append(obs)
                actions.append(action)
                obs, r, terminated, truncated, _ = env.step(action)
                rewards.append(r)
                done = terminated or truncated
            psis.append(rewards_to_go(torch.tensor(rewards, dtype=torch.float32), gamma))
            returns.append(float(sum(rewards)))
        psi = torch.cat(psis)
        psi = (psi - psi.mean()) / (psi.std() + 1e-8)
        logp = torch.log_softmax(net(torch.as_tensor(np.array(observations), dtype=torch.float32)), -1)
        logp = logp.gather(1, torch.tensor(actions)[:, None]).squeeze(1)
        loss = -(psi * logp).sum() / episodes_per_iter
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net, returns


def concept_baseline():
    """Answer to the chapter's question on why a state baseline adds no bias (a letter).

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play): the expected score
    under the policy is the gradient of a sum of probabilities, which is one, so it is zero.

    Example:
        >>> concept_baseline()
        'b'
    """
    return "b"


def concept_gae_lambda():
    """Answer to the chapter's question on what GAE's lambda trades (a letter).

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play).

    Example:
        >>> concept_gae_lambda()
        'd'
    """
    return "d"


def concept_reuse():
    """Answer to the chapter's question on reusing old trajectories (a letter).

    Introduced in chapter 16 (Policy gradients, Q-learning with networks, self-play): the policy-gradient
    estimator is an expectation under the current policy; Q-learning's target is not.

    Example:
        >>> concept_reuse()
        'c'
    """
    return "c"
