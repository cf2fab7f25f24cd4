# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 16 · Policy gradients, Q-learning with networks, self-play
#
# Chapter 15 solved small MDPs whose transition probabilities were known. Here nothing is known in advance:
# the learner only sees the trajectories it produces, and the policy or the value function is a network. This
# chapter writes the small formulas on which every deep RL algorithm rests, and checks each of them where
# it can be checked exactly.
#
# **Learning goals**
# - Compute discounted returns and rewards-to-go; derive the policy-gradient theorem with the log-derivative
#   trick and the score of a softmax policy, and write the REINFORCE estimator with rewards-to-go and a baseline;
#   verify that all three are **unbiased** by enumerating every trajectory of a small MDP.
# - Derive generalized advantage estimation (GAE) from TD errors, with episode boundaries, and see how $\lambda$
#   moves it from TD errors ($\lambda=0$) to Monte-Carlo advantages ($\lambda=1$).
# - Derive the two losses of one-step actor-critic, and which quantities each must hold constant.
# - Write the regression targets of DQN and double DQN, say why double DQN is less optimistic, and build the
#   replay buffer DQN samples its minibatches from.
# - Write PPO's clipped objective and predict where its gradient vanishes.
# - Write the PUCT rule that AlphaZero's tree search uses to pick a move, and run a small tree search on
#   tic-tac-toe with it.
# - Fit a behaviour-cloning policy, watch it drift off the expert's states, and repair it with DAgger.
# - Train a policy network on CartPole with policy gradients until its greedy policy reaches a stated return.
#
# **Notes followed.** Kaplan, *Notes on Contemporary Machine Learning for Physicists*, §8.1 (notation,
# returns and value functions), §8.2 (policy gradients, rewards-to-go, baselines, generalized advantage
# estimation), §8.3 (Q-learning), §8.4 (comparison with supervised learning), §8.5 (TRPO and PPO) and §8.6
# (AlphaZero and self-play); *CS 182/282A discussion worksheets*, discussion 9 (imitation learning: behavior
# cloning and DAgger), discussion 10 (policy gradients, state-dependent baselines, actor-critic, Q-learning)
# and discussion 11; Hegde, *NYU deep learning notes*, lecture 10 (reinforcement learning II) and lecture 11
# (applications of deep RL: AlphaGo).
#
# **A slip in the notes.** Kaplan's eq. (8.5.2) writes the natural-gradient update of TRPO as
# $\theta^{(n+1)} = \theta^{(n)} - \epsilon F^{-1}\nabla_\theta J$. Since $J$ is the expected return, which we
# *maximize*, the step must go **up** the gradient: $\theta^{(n+1)} = \theta^{(n)} + \epsilon F^{-1}\nabla_\theta J$
# (equivalently, minus $F^{-1}$ times the gradient of the loss $-J$).
#
# **Conventions used throughout.** Time runs along the **last** dimension; leading dimensions are independent
# episodes. `rewards[..., t]` is the reward received after the action of step $t$. `dones[..., t]` is 1 (or
# `True`) when the episode ended right after step $t$. Policy-gradient estimates use **undiscounted** returns.
# Every function returns the dtype and device of its (first) floating input and never modifies its inputs.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import math
import numpy as np
import torch
import matplotlib.pyplot as plt
import ipywidgets as widgets
from course.checks import expect_close, expect_true, expect_shape
from course.demos import interact, needs_exercises
from course.envs.imitation import WindyLine
from course.envs.tictactoe import TicTacToe, legal_moves, play, winner

# %%
# Keeps the notebook fast on a busy machine: the computations here are small.
torch.set_num_threads(1)

# %% [markdown]
# ## 1. Returns
#
# An episode produces rewards $r_0, r_1, \dots, r_{T-1}$. Its **discounted return** is
#
# $$R(\tau) = \sum_{t=0}^{T-1} \gamma^t r_t, \qquad 0 \le \gamma \le 1 .$$
#
# Kaplan (§8.1) treats $\gamma$ less as a preference for early rewards than as a knob that trades bias for
# variance: distant rewards are noisy, and discounting them makes the estimates below steadier.
#
# The **reward-to-go** from step $t$ counts only what comes from $t$ on,
#
# $$G_t = \sum_{k=t}^{T-1} \gamma^{k-t} r_k,$$
#
# so $G_0 = R(\tau)$. Summing each $G_t$ from scratch costs $O(T^2)$. **Your derivation:** relate $G_t$ to
# $G_{t+1}$, so that one pass over the $T$ steps computes all of them. (The same idea returns in §3.)
#
# <details><summary>Hint 1: split off the first term</summary>
#
# $G_t = r_t + \sum_{k=t+1}^{T-1}\gamma^{k-t} r_k$. Factor one $\gamma$ out of the remaining sum and compare
# it with the definition of $G_{t+1}$.
# </details>
#
# <details><summary>Hint 2: the recursion and its direction</summary>
#
# $G_t = r_t + \gamma\,G_{t+1}$ with $G_{T-1} = r_{T-1}$: it needs $G_{t+1}$ first, so it runs **backwards** in time.
# </details>
#
# ### Exercise 1: `discounted_returns`
# Given `rewards` of shape `(..., T)` and a float `gamma`, return $\sum_t \gamma^t r_t$ of shape `(...)` (the
# last dimension summed out). The first reward is not discounted ($\gamma^0 = 1$).

# %% nbgrader={"grade": false, "grade_id": "discounted_returns", "locked": false, "schema_version": 3, "solution": true}
def discounted_returns(rewards, gamma):
    """Total discounted return of each episode.

    Args:
        rewards: tensor (..., T), time along the last dimension.
        gamma: discount factor in [0, 1].

    Returns:
        tensor (...), sum_t gamma**t * rewards[..., t].
    """
    ### BEGIN SOLUTION
    T = rewards.shape[-1]
    powers = gamma ** torch.arange(T, device=rewards.device, dtype=rewards.dtype)
    return (rewards * powers).sum(-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_discounted_returns", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_close(discounted_returns(torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64), 0.5), 1.75,
             what="discounted_returns([1, 1, 1], gamma=0.5)",
             hint="Here the answer is 1 + 0.5 + 0.25: the first reward is not discounted, each later one once "
                  "more than the previous.")
r = torch.tensor([[1.0, 0.0, 2.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
expect_close(discounted_returns(r, 0.5), torch.tensor([1.5, 0.25], dtype=torch.float64),
             what="discounted_returns of two episodes (2, 3)", hint="Sum over the LAST dimension (time).")

# %% nbgrader={"grade": true, "grade_id": "test_discounted_returns_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("discounted_returns", discounted_returns)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2: `rewards_to_go`
# Given `rewards` of shape `(..., T)` and `gamma`, return $G_t$ of the same shape. A loop over the time steps
# (vectorized over the leading dimensions) is fine.

# %% nbgrader={"grade": false, "grade_id": "rewards_to_go", "locked": false, "schema_version": 3, "solution": true}
def rewards_to_go(rewards, gamma):
    """Discounted rewards-to-go G_t = sum_{k >= t} gamma**(k - t) * r_k, for every t.

    Args:
        rewards: tensor (..., T).
        gamma: discount factor.

    Returns:
        tensor (..., T).
    """
    ### BEGIN SOLUTION
    out = torch.empty_like(rewards)
    running = torch.zeros_like(rewards[..., 0])
    for t in range(rewards.shape[-1] - 1, -1, -1):
        running = rewards[..., t] + gamma * running
        out[..., t] = running
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_rewards_to_go", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_close(rewards_to_go(torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64), 0.5),
             torch.tensor([1.75, 1.5, 1.0], dtype=torch.float64), what="rewards_to_go([1, 1, 1], gamma=0.5)",
             hint="The last step's reward-to-go is its own reward; every earlier one needs the one AFTER it, so "
                  "go backwards in time.")
g = rewards_to_go(torch.tensor([[0.0, 0.0, 4.0], [1.0, 2.0, 3.0]], dtype=torch.float64), 0.5)
expect_close(g, torch.tensor([[1.0, 2.0, 4.0], [2.75, 3.5, 3.0]], dtype=torch.float64),
             what="rewards_to_go of a batch (2, 3)")

# %% nbgrader={"grade": true, "grade_id": "test_rewards_to_go_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("rewards_to_go", rewards_to_go)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Policy gradients, checked exactly
#
# A policy $\pi_\theta(a|s)$ produces trajectories $\tau = (s_0, a_0, r_0, s_1, \dots)$ with probability
# $P[\tau;\theta] = \rho_0(s_0)\prod_t \pi_\theta(a_t|s_t)\,P(s_{t+1}|s_t,a_t)$. We want the gradient of the
# expected return $J(\theta) = \sum_\tau P[\tau;\theta]\,R(\tau)$, but we know neither $\rho_0$ nor the transition
# probabilities: all we can do is play the policy and watch. **Your derivation:** write $\nabla_\theta J$ as an
# expectation over trajectories drawn from $\pi_\theta$ of a quantity that one trajectory and the policy alone
# let you compute (Kaplan, eq. 8.2.1).
#
# <details><summary>Hint 1: the log-derivative trick</summary>
#
# For any positive function, $\nabla P = P\,\nabla\log P$. Use it inside $\nabla_\theta J = \sum_\tau \nabla_\theta P[\tau;\theta]\,R(\tau)$:
# the sum becomes an expectation under $P[\tau;\theta]$ again.
# </details>
#
# <details><summary>Hint 2: what depends on θ</summary>
#
# $\log P[\tau;\theta] = \log\rho_0(s_0) + \sum_t \log\pi_\theta(a_t|s_t) + \sum_t \log P(s_{t+1}|s_t,a_t)$. Only the
# middle sum depends on $\theta$: the unknown dynamics drop out of the gradient.
# </details>
#
# <details><summary>Hint 3: the result</summary>
#
# $\nabla_\theta J = \mathbb E_{\tau\sim\pi_\theta}\big[R(\tau)\sum_t \nabla_\theta\log\pi_\theta(a_t|s_t)\big]$.
# </details>
#
# Averaging over $B$ sampled trajectories gives the **REINFORCE** estimator, which needs no model of the
# environment. The vector $\nabla_\theta\log\pi_\theta(a|s)$ is called the **score**.
#
# **The score of a tabular softmax policy.** Here $\pi(a|s) = \mathrm{softmax}(\theta_{s,\cdot})_a$ with logits
# $\theta$ of shape `(S, A)`. The score is zero outside row $s$ (no other logit enters $\pi(a|s)$). **Derive** its
# row $s$, the derivatives $\partial \log\pi(a|s) / \partial\theta_{s,j}$ for $j = 0, \dots, A-1$ (chapter 03 did the
# same computation for the cross-entropy).
#
# <details><summary>Hint 1: write the log-probability out</summary>
#
# $\log\pi(a|s) = \theta_{s,a} - \log\sum_k e^{\theta_{s,k}}$. Differentiate each term with respect to $\theta_{s,j}$.
# </details>
#
# <details><summary>Hint 2: the result</summary>
#
# $\partial\log\pi(a|s)/\partial\theta_{s,j} = [j = a] - \pi(j|s)$: the one-hot vector of $a$ minus the action
# probabilities in state $s$.
# </details>
#
# ### Exercise 3: `policy_score`
# Arguments: `logits` $(S, A)$; `states` and `actions`, long tensors of the same (any) shape `(...)`. Return the
# row $s$ of the score for every pair, shape `(..., A)`, dtype of `logits`: entry `[..., j]` is
# $\partial\log\pi(a|s)/\partial\theta_{s,j}$ for the pair at that position.

# %% nbgrader={"grade": false, "grade_id": "policy_score", "locked": false, "schema_version": 3, "solution": true}
def policy_score(logits, states, actions):
    """Row s of grad_logits log pi(a|s) for each (state, action) pair of a tabular softmax policy.

    Args:
        logits: (S, A) policy parameters.
        states, actions: long tensors of the same shape (...).

    Returns:
        (..., A) tensor, dtype of logits.
    """
    ### BEGIN SOLUTION
    pi = torch.softmax(logits, dim=-1)
    return torch.nn.functional.one_hot(actions, logits.shape[-1]).to(logits.dtype) - pi[states]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_policy_score", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
logits = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]], dtype=f64)   # pi(.|0) = (1/2, 1/2), pi(.|1) = (3/4, 1/4)
expect_close(policy_score(logits, torch.tensor([0, 1]), torch.tensor([1, 0])),
             torch.tensor([[-0.5, 0.5], [0.25, -0.25]], dtype=f64), what="policy_score for (s, a) = (0, 1) and (1, 0)",
             hint="Raising the logit of the action taken raises its log-probability: that entry must be positive, "
                  "the others negative, and the row must sum to zero.")
expect_shape(policy_score(logits, torch.zeros(3, 4, dtype=torch.long), torch.ones(3, 4, dtype=torch.long)), (3, 4, 2),
             what="policy_score for (3, 4) states and actions")

# %% nbgrader={"grade": true, "grade_id": "test_policy_score_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("policy_score", policy_score)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **Checking unbiasedness exactly.** A small MDP has few trajectories: with $S$ states, $A$ actions and horizon
# $T$ there are at most $(SA)^T$. Passing *every* trajectory with its probability as a **weight**,
# $\hat g = \sum_\tau w_\tau\, g(\tau)$ with $w_\tau = P[\tau;\theta]$, turns the estimator into its exact
# expectation, which must equal $\nabla_\theta J$ computed by autograd through $J = \sum_\tau P[\tau]R(\tau)$. The
# hidden tests do exactly this (and also compare sample averages with the reference). With the default weights
# $w_b = 1/B$ the same function is the ordinary sample mean.
#
# ### Exercise 4: `reinforce_gradient`
# Arguments: `logits` $(S, A)$; `states`, `actions` long tensors $(B, T)$; `rewards` $(B, T)$; optional
# `weights` $(B,)$ (default $1/B$). Return the REINFORCE estimate of $\nabla_\theta J$ you derived: the
# $w_b$-weighted sum over trajectories of the quantity inside the expectation, with the **undiscounted** return
# $R(\tau_b) = \sum_t r_{b,t}$; shape $(S, A)$, dtype of `logits`. Use your `policy_score` (no autograd needed):
# the score of step $t$ lands in row $s_{b,t}$, and a state visited several times collects all its contributions.

# %% nbgrader={"grade": false, "grade_id": "reinforce_gradient", "locked": false, "schema_version": 3, "solution": true}
def reinforce_gradient(logits, states, actions, rewards, weights=None):
    """REINFORCE estimate of grad J for a tabular softmax policy, with the total (undiscounted) return.

    Args:
        logits: (S, A) policy parameters.
        states, actions: long tensors (B, T).
        rewards: (B, T).
        weights: optional (B,) per-trajectory weights; default 1 / B.

    Returns:
        (S, A) tensor.
    """
    ### BEGIN SOLUTION
    B = states.shape[0]
    if weights is None:
        weights = torch.full((B,), 1.0 / B, device=logits.device, dtype=logits.dtype)
    pi = torch.softmax(logits, dim=-1)
    score = torch.nn.functional.one_hot(actions, logits.shape[-1]).to(logits.dtype) - pi[states]  # (B, T, A)
    total = rewards.to(logits.dtype).sum(-1, keepdim=True)                                        # (B, 1)
    coef = weights.to(logits.dtype)[:, None] * total.expand(states.shape)
    out = torch.zeros_like(logits)
    out.index_add_(0, states.reshape(-1), (coef[..., None] * score).reshape(-1, logits.shape[-1]))
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_reinforce_gradient", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
# A one-step bandit: pi = (1/2, 1/2), reward 1 for action 0 only. Both trajectories, each with weight 1/2:
# the exact gradient of J = pi_0 is pi_0 * (1 - pi_0) = 1/4 for logit 0 and -1/4 for logit 1.
g = reinforce_gradient(torch.zeros(1, 2, dtype=f64), torch.tensor([[0], [0]]), torch.tensor([[0], [1]]),
                       torch.tensor([[1.0], [0.0]], dtype=f64), weights=torch.tensor([0.5, 0.5], dtype=f64))
expect_close(g, torch.tensor([[0.25, -0.25]], dtype=f64), what="exact bandit gradient by enumeration",
             hint="The exact gradient raises the logit of the rewarded action: check the sign of the score.")
# Two steps through two states with total return 3: both rows get 3 * (onehot - 1/2).
g = reinforce_gradient(torch.zeros(2, 2, dtype=f64), torch.tensor([[0, 1]]), torch.tensor([[0, 1]]),
                       torch.tensor([[1.0, 2.0]], dtype=f64))
expect_close(g, torch.tensor([[1.5, -1.5], [-1.5, 1.5]], dtype=f64), what="one trajectory of two steps",
             hint="In REINFORCE every step of a trajectory is weighted by the return of the WHOLE trajectory, "
                  "not by its own reward.")

# %% nbgrader={"grade": true, "grade_id": "test_reinforce_gradient_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("reinforce_gradient", reinforce_gradient)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Two unbiased variance reductions
# (Kaplan §8.2; CS 182 discussion 10, problem 1.) REINFORCE is unbiased but noisy. Two changes keep its
# expectation and shrink its variance:
# 1. *Rewards-to-go.* At step $t$, replace $R(\tau)$ by $G_t = \sum_{k\ge t} r_k$: rewards received *before* the
#    action cannot be caused by it.
# 2. *Baseline.* Subtract any function of the state, $b(s_t)$, from the weight of step $t$. A good baseline is
#    close to $V^\pi(s_t)$, and then $G_t - b(s_t)$ estimates the **advantage** of the action taken.
#
# **Your derivation:** show that neither change moves the expectation, i.e. that the terms removed have mean zero.
#
# <details><summary>Hint 1: the score has mean zero</summary>
#
# For a fixed state, $\mathbb E_{a\sim\pi(\cdot|s)}\big[\nabla_\theta\log\pi(a|s)\big] = \sum_a \pi(a|s)\frac{\nabla\pi(a|s)}{\pi(a|s)}
# = \nabla\sum_a\pi(a|s)$. What is $\sum_a \pi(a|s)$?
# </details>
#
# <details><summary>Hint 2: the baseline</summary>
#
# $b(s_t)$ is fixed once $s_t$ is, so $\mathbb E\big[b(s_t)\nabla\log\pi(a_t|s_t)\big] = \mathbb E_{s_t}\big[b(s_t)\,\mathbb E_{a_t}[\nabla\log\pi(a_t|s_t)\mid s_t]\big] = 0$.
# The argument breaks if $b$ depends on $a_t$.
# </details>
#
# <details><summary>Hint 3: past rewards</summary>
#
# A reward $r_k$ with $k < t$ is fixed once $s_t$ is reached (it belongs to the past), so the same conditioning
# on the history up to $s_t$ makes $\mathbb E\big[r_k\nabla\log\pi(a_t|s_t)\big] = 0$.
# </details>
#
# ### Exercise 5: `reward_to_go_gradient`
# Same arguments as `reinforce_gradient`, plus an optional `baseline` of shape $(S,)$ (one value per state;
# default zero). Return the estimate with both reductions: step $t$ of trajectory $b$ is weighted by its
# **undiscounted** reward-to-go minus the baseline of the state it visits, $G_{b,t} - b(s_{b,t})$ (you may call your
# `rewards_to_go` with `gamma=1.0`). Its expectation equals that of `reinforce_gradient` for every baseline.

# %% nbgrader={"grade": false, "grade_id": "reward_to_go_gradient", "locked": false, "schema_version": 3, "solution": true}
def reward_to_go_gradient(logits, states, actions, rewards, baseline=None, weights=None):
    """Policy-gradient estimate with undiscounted rewards-to-go minus a state baseline.

    Args:
        logits: (S, A); states, actions: long (B, T); rewards: (B, T).
        baseline: optional (S,) value per state (default 0).
        weights: optional (B,); default 1 / B.

    Returns:
        (S, A) tensor.
    """
    ### BEGIN SOLUTION
    B = states.shape[0]
    if weights is None:
        weights = torch.full((B,), 1.0 / B, device=logits.device, dtype=logits.dtype)
    psi = rewards_to_go(rewards.to(logits.dtype), 1.0)
    if baseline is not None:
        psi = psi - baseline.to(logits.dtype)[states]
    pi = torch.softmax(logits, dim=-1)
    score = torch.nn.functional.one_hot(actions, logits.shape[-1]).to(logits.dtype) - pi[states]
    coef = weights.to(logits.dtype)[:, None] * psi
    out = torch.zeros_like(logits)
    out.index_add_(0, states.reshape(-1), (coef[..., None] * score).reshape(-1, logits.shape[-1]))
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_reward_to_go_gradient", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
args = (torch.zeros(2, 2, dtype=f64), torch.tensor([[0, 1]]), torch.tensor([[0, 1]]), torch.tensor([[1.0, 2.0]], dtype=f64))
# rewards-to-go (3, 2); baseline (1, 0.5) at states (0, 1) leaves (2, 1.5)
expect_close(reward_to_go_gradient(*args), torch.tensor([[1.5, -1.5], [-1.0, 1.0]], dtype=f64),
             what="reward_to_go_gradient without baseline",
             hint="Step t is weighted only by the rewards from step t to the END of the episode, not by those "
                  "received before it.")
expect_close(reward_to_go_gradient(*args, baseline=torch.tensor([1.0, 0.5], dtype=f64)),
             torch.tensor([[1.0, -1.0], [-0.75, 0.75]], dtype=f64), what="reward_to_go_gradient with baseline",
             hint="The baseline is SUBTRACTED, and it is the baseline of the state visited at that step.")

# %% nbgrader={"grade": true, "grade_id": "test_reward_to_go_gradient_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("reward_to_go_gradient", reward_to_go_gradient)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: same mean, different variance
# A two-step MDP with three states and two actions: we enumerate its 36 trajectories to get the exact
# gradient, then draw many batches of 8 sampled trajectories and look at the spread of one component of each
# estimator. All three histograms are centred on the exact value (the dashed line); rewards-to-go and a
# baseline close to the value function narrow them.

# %%
def make_mdp(seed=0, n_states=3, n_actions=2):
    g = torch.Generator().manual_seed(seed)
    rho = torch.softmax(torch.randn(n_states, generator=g, dtype=torch.float64), 0)
    trans = torch.softmax(2 * torch.randn(n_states, n_actions, n_states, generator=g, dtype=torch.float64), -1)
    reward = torch.randn(n_states, n_actions, generator=g, dtype=torch.float64) + 2.0
    logits = torch.randn(n_states, n_actions, generator=g, dtype=torch.float64)
    return rho, trans, reward, logits


def exact_gradient(rho, trans, reward, logits, horizon=2):
    """grad J by autograd through the sum over all trajectories, and the state values V(s_0)."""
    th = logits.clone().requires_grad_(True)
    logp = torch.log_softmax(th, -1)
    S, A = reward.shape
    J = 0.0
    for s0 in range(S):
        for a0 in range(A):
            for s1 in range(S):
                for a1 in range(A):
                    p = rho[s0] * logp[s0, a0].exp() * trans[s0, a0, s1] * logp[s1, a1].exp()
                    J = J + p * (reward[s0, a0] + reward[s1, a1])
    return torch.autograd.grad(J, th)[0]


def sample_batch(rho, trans, reward, logits, batch, gen):
    pi = torch.softmax(logits, -1)
    s0 = torch.multinomial(rho, batch, replacement=True, generator=gen)
    a0 = torch.multinomial(pi[s0], 1, generator=gen).squeeze(1)
    s1 = torch.multinomial(trans[s0, a0], 1, generator=gen).squeeze(1)
    a1 = torch.multinomial(pi[s1], 1, generator=gen).squeeze(1)
    states, actions = torch.stack([s0, s1], 1), torch.stack([a0, a1], 1)
    return states, actions, reward[states, actions]


rho, trans, reward, logits = make_mdp()
exact = exact_gradient(rho, trans, reward, logits)
pi = torch.softmax(logits, -1)
v1 = (pi * reward).sum(-1)                           # value with one step left
v0 = v1 + torch.einsum("sa,sat,t->s", pi, trans, v1)  # a rough baseline: the value with two steps left
gen = torch.Generator().manual_seed(0)
est = {"REINFORCE": [], "rewards-to-go": [], "rewards-to-go - baseline": []}
try:
    for _ in range(2000):
        s, a, r = sample_batch(rho, trans, reward, logits, 8, gen)
        est["REINFORCE"].append(reinforce_gradient(logits, s, a, r)[0, 0].item())
        est["rewards-to-go"].append(reward_to_go_gradient(logits, s, a, r)[0, 0].item())
        est["rewards-to-go - baseline"].append(reward_to_go_gradient(logits, s, a, r, baseline=v0)[0, 0].item())
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for name, vals in est.items():
        ax.hist(vals, bins=60, histtype="step", density=True, label=f"{name}: std {np.std(vals):.2f}")
    ax.axvline(exact[0, 0].item(), color="k", ls="--", label="exact gradient")
    ax.set_xlabel(r"estimate of $\partial J / \partial \theta_{0,0}$ (batches of 8)")
    ax.legend(fontsize=8)
    plt.show()
except NotImplementedError:
    print("Write reinforce_gradient and reward_to_go_gradient to see this demo.")

# %% [markdown]
# ### Concept question 1: `concept_baseline`
# A classmate proposes a better baseline: subtract $b(s_t, a_t) = Q^\pi(s_t, a_t)$, the value of the state **and the
# action taken**, since it is even closer to $G_t$ than $V^\pi(s_t)$. What goes wrong? Return the letter.
#
# - **a.** Nothing: any baseline keeps the estimator unbiased, and this one removes more variance.
# - **b.** The estimator becomes biased: the baseline term has mean zero only because $b$ does not depend on the
#   action, so that $\mathbb E_a[b\,\nabla\log\pi(a|s)] = b\,\nabla\sum_a\pi(a|s) = 0$.
# - **c.** Only the variance grows, since $G_t - Q^\pi(s_t, a_t)$ is noisier than $G_t - V^\pi(s_t)$.
# - **d.** The baseline must be a constant; even $V^\pi(s_t)$ biases the estimator, just less.

# %% nbgrader={"grade": false, "grade_id": "concept_baseline", "locked": false, "schema_version": 3, "solution": true}
def concept_baseline():
    """Return your answer as one letter: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_baseline", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(concept_baseline() in ("a", "b", "c", "d"), "concept_baseline() must return one of 'a', 'b', 'c', 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_concept_baseline_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# The answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_baseline", concept_baseline)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Generalized advantage estimation
#
# Replacing $G_t - b(s_t)$ by an estimate of the **advantage** $A(s_t,a_t) = Q(s_t,a_t) - V(s_t)$ with a learned
# value function $V$ lowers the variance further, at the price of some bias. The one-step estimate is the **TD
# error** $\delta_t = r_t + \gamma V(s_{t+1}) - V(s_t)$ (chapter 15's TD target minus the estimate).
#
# **Episode ends.** A rollout of $T$ steps may contain several episodes. If the episode ended after step $t$
# ($\mathrm{done}_t = 1$), then $s_{t+1}$ belongs to a *new* episode: its value must not be bootstrapped into
# $\delta_t$ (the target is $r_t$ alone, as in chapter 15).
#
# ### Exercise 6: `td_errors`
# Arguments: `rewards` $(\dots, T)$, `values` $(\dots, T+1)$ holding $V(s_0),\dots,V(s_T)$ (the last is the
# bootstrap value of the state after the rollout), `dones` $(\dots, T)$ (float or bool), `gamma`. Return the
# TD errors $\delta_t$, shape $(\dots, T)$, with no bootstrap after a step that ended its episode.

# %% nbgrader={"grade": false, "grade_id": "td_errors", "locked": false, "schema_version": 3, "solution": true}
def td_errors(rewards, values, dones, gamma):
    """One-step TD errors of a rollout, cut at episode ends.

    Args:
        rewards: (..., T); values: (..., T + 1); dones: (..., T), 1/True where the episode ended after step t.
        gamma: discount.

    Returns:
        (..., T) tensor, dtype of rewards.
    """
    ### BEGIN SOLUTION
    mask = 1.0 - dones.to(rewards.dtype)
    values = values.to(rewards.dtype)
    return rewards + gamma * mask * values[..., 1:] - values[..., :-1]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_td_errors", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
d = td_errors(torch.tensor([1.0, 1.0], dtype=f64), torch.tensor([0.0, 2.0, 10.0], dtype=f64),
              torch.tensor([0.0, 1.0], dtype=f64), 0.5)
expect_close(d, torch.tensor([2.0, -1.0], dtype=f64), what="td_errors when the episode ends after the last step",
             hint="Each error is the one-step target minus the current value; after the step that ended the "
                  "episode the target is the reward alone (the V = 10 that follows belongs to no future of it).")
expect_close(td_errors(torch.tensor([[1.0, 1.0]], dtype=f64), torch.tensor([[0.0, 2.0, 10.0]], dtype=f64),
                       torch.tensor([[False, False]]), 0.5),
             torch.tensor([[2.0, 4.0]], dtype=f64), what="td_errors with boolean dones and no episode end")

# %% nbgrader={"grade": true, "grade_id": "test_td_errors_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("td_errors", td_errors)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **From one step to many.** The $k$-step estimate (Kaplan eq. 8.2.11) bootstraps after $k$ rewards,
# $A^{(k)}_t = \sum_{l<k}\gamma^l r_{t+l} + \gamma^k V(s_{t+k}) - V(s_t)$. GAE averages all of them with weights
# $(1-\lambda)\lambda^{k-1}$, $k = 1, 2, \dots$ (eq. 8.2.12): $\lambda = 0$ keeps only $A^{(1)}_t = \delta_t$ (low
# variance, biased by $V$), $\lambda \to 1$ weighs long returns (less bias, more noise). **Your derivation:**
# write $\hat A_t$ as a sum of TD errors, then as a **backward recursion** like the rewards-to-go of §1; then
# say where an episode end cuts it.
#
# <details><summary>Hint 1: k-step estimates telescope</summary>
#
# Add and subtract the intermediate values: $A^{(k)}_t = \sum_{l<k}\gamma^l\delta_{t+l}$. (Check it for $k = 2$.)
# </details>
#
# <details><summary>Hint 2: swap the sums</summary>
#
# In $\sum_{k\ge1}(1-\lambda)\lambda^{k-1}\sum_{l<k}\gamma^l\delta_{t+l}$, the error $\delta_{t+l}$ appears in every
# $k > l$; its total weight is $\gamma^l(1-\lambda)\sum_{k>l}\lambda^{k-1} = (\gamma\lambda)^l$. So
# $\hat A_t = \sum_{l\ge0}(\gamma\lambda)^l\,\delta_{t+l}$.
# </details>
#
# <details><summary>Hint 3: the recursion</summary>
#
# As for $G_t$: $\hat A_t = \delta_t + \gamma\lambda\,\hat A_{t+1}$, computed backwards from $\hat A_T = 0$.
# </details>
#
# <details><summary>Hint 4: episode ends</summary>
#
# If the episode ended after step $t$, the advantages of the *next* episode must not flow back into $\hat A_t$:
# with $m_t = 1 - \mathrm{done}_t$, $\hat A_t = \delta_t + \gamma\lambda\,m_t\,\hat A_{t+1}$ (and $\delta_t$ from your
# `td_errors`, already cut).
# </details>
#
# ### Exercise 7: `gae_advantages`
# Arguments: as `td_errors`, plus `lam`. Return $\hat A$ of shape $(\dots, T)$: within each episode the GAE
# advantage you derived, with no information flowing across an episode end. A loop over time is fine.

# %% nbgrader={"grade": false, "grade_id": "gae_advantages", "locked": false, "schema_version": 3, "solution": true}
def gae_advantages(rewards, values, dones, gamma, lam):
    """Generalized advantage estimates with episode boundaries.

    Args:
        rewards: (..., T); values: (..., T + 1); dones: (..., T), 1/True where the episode ended after step t.
        gamma: discount; lam: GAE lambda.

    Returns:
        (..., T) advantages.
    """
    ### BEGIN SOLUTION
    mask = 1.0 - dones.to(rewards.dtype)
    values = values.to(rewards.dtype)
    deltas = rewards + gamma * mask * values[..., 1:] - values[..., :-1]
    out = torch.empty_like(deltas)
    running = torch.zeros_like(deltas[..., 0])
    for t in range(deltas.shape[-1] - 1, -1, -1):
        running = deltas[..., t] + gamma * lam * mask[..., t] * running
        out[..., t] = running
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gae_advantages", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
a = gae_advantages(torch.tensor([1.0, 1.0], dtype=f64), torch.tensor([0.0, 0.0, 10.0], dtype=f64),
                   torch.tensor([0.0, 1.0], dtype=f64), 0.5, 1.0)
expect_close(a, torch.tensor([1.5, 1.0], dtype=f64), what="GAE when the episode ends at the last step",
             hint="The episode ended after step 1: nothing of the state that follows belongs to it.")
# An episode ends after step 0; a new one runs steps 1 and 2 (gamma = lam = 0.5):
# deltas (1 - 1, 2 + 0.5 * 3 - 2, 3 + 0.5 * 4 - 3) = (0, 1.5, 2), A_2 = 2, A_1 = 1.5 + 0.25 * 2, A_0 = 0.
a = gae_advantages(torch.tensor([1.0, 2.0, 3.0], dtype=f64), torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=f64),
                   torch.tensor([True, False, False]), 0.5, 0.5)
expect_close(a, torch.tensor([0.0, 2.0, 2.0], dtype=f64), what="GAE across an episode boundary",
             hint="An episode end cuts two things: the bootstrap in the TD error AND the recursion that carries "
                  "later advantages back.")

# %% nbgrader={"grade": true, "grade_id": "test_gae_advantages_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("gae_advantages", gae_advantages)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# Move $\lambda$: at 0 the advantages are the TD errors, at 1 the Monte-Carlo returns minus $V$. The value
# function here is deliberately wrong by a constant offset, so you can see the bias shrink as $\lambda$ grows.
# The grey lines are episode ends.

# %%
_g = torch.Generator().manual_seed(3)
_r = torch.randn(30, generator=_g, dtype=torch.float64) + 0.5
_d = torch.zeros(30, dtype=torch.float64)
_d[[9, 21]] = 1.0
_v = torch.full((31,), 1.0, dtype=torch.float64)


def show_gae(lam=0.9, gamma=0.95):
    try:
        adv = gae_advantages(_r, _v, _d, gamma, lam)
        td = gae_advantages(_r, _v, _d, gamma, 0.0)
        mc = gae_advantages(_r, _v, _d, gamma, 1.0)
    except NotImplementedError:
        print("Write gae_advantages to see this demo.")
        return
    plt.figure(figsize=(8, 3))
    plt.plot(td, "o-", ms=3, alpha=0.5, label=r"$\lambda=0$ (TD errors)")
    plt.plot(mc, "s-", ms=3, alpha=0.5, label=r"$\lambda=1$ (Monte Carlo)")
    plt.plot(adv, "k.-", label=f"lambda = {lam:.2f}")
    for t in (9, 21):
        plt.axvline(t + 0.5, color="grey", lw=1)
    plt.xlabel("step t")
    plt.ylabel("advantage")
    plt.legend(fontsize=8)
    plt.show()


interact(show_gae, lam=(0.0, 1.0, 0.05), gamma=(0.5, 1.0, 0.01));

# %% [markdown]
# ### Concept question 2: `concept_gae_lambda`
# Early in training the value network is still poor. What does raising GAE's $\lambda$ towards 1 do to the
# advantage estimates? Return the letter.
#
# - **a.** It lowers their variance, because more TD errors are averaged.
# - **b.** It changes the objective being maximized, like a smaller discount $\gamma$ would.
# - **c.** Nothing, as long as $\gamma < 1$: the TD errors are unbiased for any value function.
# - **d.** It lowers the bias that the poor value function causes, since $\hat A_t$ then leans on the observed
#   rewards rather than on $V$, at the price of a higher variance.

# %% nbgrader={"grade": false, "grade_id": "concept_gae_lambda", "locked": false, "schema_version": 3, "solution": true}
def concept_gae_lambda():
    """Return your answer as one letter: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "d"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_gae_lambda", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(concept_gae_lambda() in ("a", "b", "c", "d"), "concept_gae_lambda() must return one of 'a', 'b', 'c', 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_concept_gae_lambda_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# The answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_gae_lambda", concept_gae_lambda)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### One-step actor-critic
#
# GAE needs a whole rollout. The simplest **actor-critic** (CS 182 discussion 10, §3; Kaplan §8.2) learns from
# one transition $(s, a, r, s', \mathrm{done})$ at a time, with two learners side by side:
#
# - the **critic** $V_\phi$ regresses onto a one-step target built from the transition (chapter 15's TD target);
# - the **actor** $\pi_\theta$ follows the policy gradient $\mathbb E[\nabla_\theta\log\pi_\theta(a|s)\,A(s,a)]$ of
#   §2, with the advantage replaced by an estimate read off the same transition, and, optionally, a bonus
#   $\beta H(\pi_\theta(\cdot|s))$ for keeping the policy random (exploration).
#
# Both are written as **losses** handed to an optimizer (which minimizes). **Your derivation:** from one
# transition, (1) the critic's target and the advantage estimate, (2) which quantities each loss must treat as
# constants, so that its gradient moves only what it should, and (3) the sign of each term.
#
# <details><summary>Hint 1: an advantage from one transition</summary>
#
# $A(s,a) = Q(s,a) - V(s)$, and $Q(s,a) = \mathbb E[r + \gamma V(s')]$ over the next state (with no future after a
# terminal $s'$). Replace the expectation by the one sample you have. Which of the functions of §3 is that?
# </details>
#
# <details><summary>Hint 2: the critic chases a target, it does not move it</summary>
#
# The target is the critic's own estimate of what $V(s)$ *should* be. If the gradient also flowed into $V(s')$,
# the update would pull $V(s')$ towards $(V(s) - r)/\gamma$, rewriting the future to fit the past (the *residual*
# gradient, slower and biased with stochastic transitions). Using only $\partial/\partial V(s)$ is the
# **semi-gradient** of chapter 15's TD learning: the target is a constant.
# </details>
#
# <details><summary>Hint 3: the actor's weight is a number</summary>
#
# In $\nabla_\theta\log\pi_\theta(a|s)\,\hat A$ the advantage only *weights* the score, as $G_t - b(s_t)$ did in §2.
# If the actor loss let gradient into $\hat A$, minimizing it would also push $V(s)$ to make advantages large:
# the actor would be training the critic. The entropy is a *bonus*: a loss to minimize subtracts it.
# </details>
#
# <details><summary>Hint 4: the losses</summary>
#
# With $y = r + \gamma(1-\mathrm{done})V(s')$ held constant and $\delta = y - V(s)$: the critic loss is the batch
# mean of $\delta^2$; the actor loss is the batch mean of $-\log\pi(a|s)\,\delta$ ($\delta$ constant) minus $\beta$
# times the batch mean of $H$.
# </details>
#
# ### Exercise 8: `actor_critic_losses`
# Arguments, one entry per transition of a batch of $N$: `log_probs` $\log\pi(a_i|s_i)$, `values` $V(s_i)$,
# `next_values` $V(s'_i)$ (these three may require grad), `rewards`, `dones` (float or bool, 1 when $s'_i$ is
# terminal), all of shape $(N,)$; `gamma`; optionally `entropies` $H_i$ $(N,)$ (may require grad) and
# `entropy_coef` $\beta$ (the bonus is added only when `entropies` is given). Return the pair
# `(actor_loss, critic_loss)`: two 0-d tensors in the dtype of `values`, each the **mean over the batch** (the
# critic's is the plain squared error, no factor $\tfrac12$), built with torch operations so that an optimizer can
# backpropagate through them, and with gradients that reach only what you derived they should.

# %% nbgrader={"grade": false, "grade_id": "actor_critic_losses", "locked": false, "schema_version": 3, "solution": true}
def actor_critic_losses(log_probs, values, next_values, rewards, dones, gamma, entropies=None, entropy_coef=0.0):
    """The actor's and the critic's losses of one-step advantage actor-critic, batch means.

    Args:
        log_probs, values, next_values, rewards, dones: (N,); gamma: float;
        entropies: optional (N,); entropy_coef: the bonus weight beta.

    Returns:
        (actor_loss, critic_loss): two 0-d tensors.
    """
    ### BEGIN SOLUTION
    mask = 1.0 - dones.to(values.dtype)
    target = (rewards.to(values.dtype) + gamma * mask * next_values).detach()
    delta = target - values
    critic_loss = (delta ** 2).mean()
    actor_loss = -(log_probs * delta.detach()).mean()
    if entropies is not None:
        actor_loss = actor_loss - entropy_coef * entropies.mean()
    return actor_loss, critic_loss
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_actor_critic_losses", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
_lp = torch.tensor([-1.0], dtype=f64, requires_grad=True)
_v = torch.tensor([1.0], dtype=f64, requires_grad=True)
_nv = torch.tensor([4.0], dtype=f64, requires_grad=True)
# One transition: r = 1, not terminal, gamma = 0.5: the target is 1 + 0.5 * 4 = 3 and the advantage 3 - 1 = 2.
_actor, _critic = actor_critic_losses(_lp, _v, _nv, torch.tensor([1.0], dtype=f64), torch.tensor([0.0], dtype=f64), 0.5)
expect_close(_critic, torch.tensor(4.0, dtype=f64), what="the critic loss of one transition",
             hint="The squared difference between the one-step target and V(s) (no factor 1/2).")
expect_close(_actor, torch.tensor(2.0, dtype=f64), what="the actor loss of one transition",
             hint="Minus the log-probability of the action taken, weighted by the advantage estimate.")
_critic.backward()
expect_true(_nv.grad is None or float(_nv.grad.abs().max()) == 0.0,
            "the critic loss sends a gradient into next_values",
            hint="The target is what the critic regresses ONTO: it must be a constant for the critic's gradient.")
expect_close(_v.grad, torch.tensor([-4.0], dtype=f64), what="d critic_loss / d values")
_v.grad = None
_actor.backward()
expect_true(_v.grad is None or float(_v.grad.abs().max()) == 0.0, "the actor loss sends a gradient into values",
            hint="In the actor loss the advantage only weights the score: the actor must not train the critic.")
_, _critic = actor_critic_losses(_lp, _v, _nv, torch.tensor([1.0], dtype=f64), torch.tensor([True]), 0.5)
expect_close(_critic, torch.tensor(0.0, dtype=f64), what="the critic loss when s' is terminal (target r = 1 = V(s))",
             hint="After a terminal next state there is no future to bootstrap.")

# %% nbgrader={"grade": true, "grade_id": "test_actor_critic_losses_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (batches, float32, entropy bonus, boolean dones, gradients) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("actor_critic_losses", actor_critic_losses)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Q-learning with networks: the DQN and double-DQN targets
#
# Q-learning (Kaplan §8.3; CS 182 discussion 10, §2) fits the Bellman optimality equation
# $Q^*(s,a) = \mathbb E[r + \gamma\max_{a'}Q^*(s',a')]$. Deep Q-networks regress $Q_\theta(s,a)$ onto a
# **target** built from a stored transition $(s,a,r,s',\mathrm{done})$:
#
# $$y = r + \gamma\,(1-\mathrm{done})\,\max_{a'} Q_{\bar\theta}(s',a'),$$
#
# where $Q_{\bar\theta}$ is a **target network**, a frozen copy of $Q_\theta$ refreshed every few thousand steps
# so that the regression target does not move with every update. At a terminal $s'$ there is no future:
# $y = r$.
#
# **Double DQN.** The max of noisy estimates is biased upwards: $\mathbb E[\max_a \hat Q_a] \ge \max_a \mathbb E[\hat Q_a]$.
# Double DQN decouples choosing from evaluating: the **online** network picks
# $a^* = \arg\max_{a'}Q_\theta(s',a')$, the **target** network values it:
#
# $$y = r + \gamma\,(1-\mathrm{done})\,Q_{\bar\theta}(s', a^*).$$
#
# ### Exercise 9: `dqn_target`
# `rewards` $(B,)$, `next_q_target` $(B, A)$, `dones` $(B,)$ (float or bool), `gamma` → $y$ of shape $(B,)$.

# %% nbgrader={"grade": false, "grade_id": "dqn_target", "locked": false, "schema_version": 3, "solution": true}
def dqn_target(rewards, next_q_target, dones, gamma):
    """y = r + gamma * (1 - done) * max_a' Q_target(s', a').

    Args:
        rewards: (B,); next_q_target: (B, A); dones: (B,); gamma: float.

    Returns:
        (B,) targets.
    """
    ### BEGIN SOLUTION
    mask = 1.0 - dones.to(rewards.dtype)
    return rewards + gamma * mask * next_q_target.to(rewards.dtype).amax(-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_dqn_target", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
y = dqn_target(torch.tensor([1.0, 1.0], dtype=f64), torch.tensor([[2.0, 4.0], [2.0, 4.0]], dtype=f64),
               torch.tensor([0.0, 1.0], dtype=f64), 0.5)
expect_close(y, torch.tensor([3.0, 1.0], dtype=f64), what="dqn_target",
             hint="1 + 0.5 * max(2, 4) = 3, and a terminal next state (done = 1) gives just r = 1.")

# %% nbgrader={"grade": true, "grade_id": "test_dqn_target_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("dqn_target", dqn_target)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 10: `double_dqn_target`
# `rewards` $(B,)$, `next_q_online` $(B, A)$, `next_q_target` $(B, A)$, `dones` $(B,)$, `gamma` → $(B,)$.
# Ties in the online argmax go to the lowest index (what `torch.argmax` does).

# %% nbgrader={"grade": false, "grade_id": "double_dqn_target", "locked": false, "schema_version": 3, "solution": true}
def double_dqn_target(rewards, next_q_online, next_q_target, dones, gamma):
    """y = r + gamma * (1 - done) * Q_target(s', argmax_a' Q_online(s', a')).

    Args:
        rewards: (B,); next_q_online, next_q_target: (B, A); dones: (B,); gamma: float.

    Returns:
        (B,) targets.
    """
    ### BEGIN SOLUTION
    best = next_q_online.argmax(-1, keepdim=True)
    value = next_q_target.to(rewards.dtype).gather(-1, best).squeeze(-1)
    return rewards + gamma * (1.0 - dones.to(rewards.dtype)) * value
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_double_dqn_target", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
y = double_dqn_target(torch.tensor([0.0, 1.0], dtype=f64), torch.tensor([[1.0, 0.0], [0.0, 5.0]], dtype=f64),
                      torch.tensor([[3.0, 9.0], [2.0, 7.0]], dtype=f64), torch.tensor([0.0, 1.0], dtype=f64), 1.0)
expect_close(y, torch.tensor([3.0, 1.0], dtype=f64), what="double_dqn_target",
             hint="The ONLINE net picks action 0 (1 > 0); the TARGET net values it: 3, not max(3, 9) = 9.")

# %% nbgrader={"grade": true, "grade_id": "test_double_dqn_target_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("double_dqn_target", double_dqn_target)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **The overestimation, measured.** All ten actions below are worth exactly 0, and both networks see them
# through independent noise. The DQN target's bootstrap term averages about $+1.5$ (the expected max of ten
# standard normals); the double-DQN term averages about 0.

# %%
_g = torch.Generator().manual_seed(0)
_online = torch.randn(5000, 10, generator=_g, dtype=torch.float64)
_target = torch.randn(5000, 10, generator=_g, dtype=torch.float64)
_zeros = torch.zeros(5000, dtype=torch.float64)
try:
    print("mean DQN bootstrap       :", dqn_target(_zeros, _target, _zeros, 1.0).mean().item())
    print("mean double-DQN bootstrap:", double_dqn_target(_zeros, _online, _target, _zeros, 1.0).mean().item())
except NotImplementedError:
    print("Write dqn_target and double_dqn_target to see this demo.")

# %% [markdown]
# ### Experience replay
#
# Consecutive transitions of one episode are strongly correlated, and a network trained on them in order
# forgets what it learned a few hundred steps ago. DQN (Kaplan §8.3) stores the last `capacity` transitions in
# a **replay buffer** and trains on minibatches drawn uniformly from it; being off-policy, Q-learning can use
# transitions collected by older policies (which §2's policy gradients cannot; see concept question 3).
#
# The buffer is a **ring**: a `(capacity, dim)` tensor whose write position advances one slot per push and comes
# back to the first slot after the last, so once full each push replaces the **oldest** transition. Before it is
# full, only the slots written so far hold data.
#
# ### Exercise 11: `ReplayBuffer`
# A class with:
# - `ReplayBuffer(capacity, dim, dtype=torch.float32)`: an empty ring of `capacity` slots of `dim` numbers each
#   (a transition packed as one row, e.g. $s, a, r, s', \mathrm{done}$ side by side);
# - `push(transition)`: store a copy of the `(dim,)` tensor `transition`; the $k$-th push (from 0) goes to slot
#   $k \bmod$ `capacity`;
# - `len(buffer)`: the number of filled slots;
# - `sample(batch_size, generator)`: `batch_size` **distinct** filled slots, drawn exactly as
#   `torch.randperm(len(self), generator=generator)[:batch_size]` (indices of slots, in ring order), returned
#   as a `(batch_size, dim)` tensor of the storage dtype; raise `ValueError` if `batch_size > len(self)`.

# %% nbgrader={"grade": false, "grade_id": "ReplayBuffer", "locked": false, "schema_version": 3, "solution": true}
class ReplayBuffer:
    """A ring of `capacity` transitions (rows of `dim` numbers), sampled uniformly without replacement."""

    def __init__(self, capacity, dim, dtype=torch.float32):
        ### BEGIN SOLUTION
        self.capacity = capacity
        self.storage = torch.zeros(capacity, dim, dtype=dtype)
        self.position = 0
        self.size = 0
        ### END SOLUTION

    def push(self, transition):
        ### BEGIN SOLUTION
        self.storage[self.position] = torch.as_tensor(transition, dtype=self.storage.dtype)
        self.position = (self.position + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)
        ### END SOLUTION

    def sample(self, batch_size, generator):
        ### BEGIN SOLUTION
        if batch_size > self.size:
            raise ValueError(f"cannot draw {batch_size} distinct transitions from {self.size} stored")
        return self.storage[torch.randperm(self.size, generator=generator)[:batch_size]]
        ### END SOLUTION

    def __len__(self):
        ### BEGIN SOLUTION
        return self.size
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_ReplayBuffer", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_buf = ReplayBuffer(3, 1, dtype=torch.float64)
_buf.push(torch.tensor([1.0], dtype=torch.float64))
_buf.push(torch.tensor([2.0], dtype=torch.float64))
expect_true(len(_buf) == 2, f"after 2 pushes into 3 slots, len(buffer) should be 2, got {len(_buf)}")
_got = _buf.sample(2, torch.Generator().manual_seed(0))
_perm = torch.randperm(2, generator=torch.Generator().manual_seed(0))
expect_close(_got, torch.tensor([[1.0], [2.0]], dtype=torch.float64)[_perm], what="sample(2) from the 2 filled slots",
             hint="Draw a permutation of the FILLED slots only, with the generator given, and keep its first entries.")
_buf.push(torch.tensor([3.0], dtype=torch.float64))
_buf.push(torch.tensor([4.0], dtype=torch.float64))  # the ring is full: this replaces the oldest, 1
expect_true(len(_buf) == 3, f"after 4 pushes into 3 slots, len(buffer) should be 3, got {len(_buf)}")
_got = _buf.sample(3, torch.Generator().manual_seed(1))
_perm = torch.randperm(3, generator=torch.Generator().manual_seed(1))
expect_close(_got, torch.tensor([[4.0], [2.0], [3.0]], dtype=torch.float64)[_perm],
             what="sample(3) after 4 pushes into 3 slots (slots hold 4, 2, 3)",
             hint="Once full, a push overwrites the OLDEST transition, in its slot: the write position wraps around.")

# %% nbgrader={"grade": true, "grade_id": "test_ReplayBuffer_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (many pushes past capacity, several draws, float32) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("ReplayBuffer", ReplayBuffer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **How old is a replayed transition?** Below, 1000 transitions stream through a buffer of 200; the histogram
# shows the age (pushes since it was stored) of a batch of 64 drawn at the end: uniform over the last 200.

# %%
with needs_exercises():
    _buf = ReplayBuffer(200, 1, dtype=torch.float64)
    for _k in range(1000):
        _buf.push(torch.tensor([float(_k)], dtype=torch.float64))
    _ages = 999 - _buf.sample(64, torch.Generator().manual_seed(0)).flatten()
    plt.figure(figsize=(5, 2.5))
    plt.hist(_ages.numpy(), bins=20, range=(0, 200))
    plt.xlabel("age of a replayed transition (pushes)")
    plt.ylabel("count")
    plt.title("64 draws from a buffer of 200 after 1000 pushes")
    plt.show()

# %% [markdown]
# ## 5. PPO's clipped objective
#
# A policy-gradient step is only a direction; too large a step can ruin the policy, and the data to repair it
# must then come from the ruined policy. TRPO (Kaplan §8.5) bounds the KL divergence between successive
# policies with a natural-gradient step (recall the sign slip noted at the top). PPO gets a similar effect with
# first-order steps: with the probability ratio $\rho_i = \pi_\theta(a_i|s_i)/\pi_{\text{old}}(a_i|s_i)$ on
# samples collected by $\pi_{\text{old}}$, it **maximizes**
#
# $$L^{\text{CLIP}}(\theta) = \frac1N\sum_i \min\big(\rho_i A_i,\ \mathrm{clip}(\rho_i, 1-\epsilon, 1+\epsilon)\,A_i\big).$$
#
# (Kaplan's eq. 8.5.3 writes the loss, its negative.) At $\theta = \theta_{\text{old}}$ every $\rho_i = 1$ and
# the gradient is the ordinary policy gradient, since $\nabla\rho = \rho\,\nabla\log\pi$. Case by case:
# - $A_i > 0$: the objective grows with $\rho_i$ up to $1+\epsilon$, then is flat: **no gradient** pushes the
#   probability of a good action further once it has risen by a factor $1+\epsilon$;
# - $A_i < 0$: flat below $1-\epsilon$, so a bad action is not pushed down further;
# - in the other direction (a good action that became *less* likely, a bad one that became *more* likely) the
#   min picks the unclipped term and the gradient is kept, so mistakes are always corrected.
#
# The min makes $L^{\text{CLIP}}$ a pessimistic lower bound of the unclipped surrogate.
#
# ### Exercise 12: `ppo_clip_objective`
# `log_probs` $(N,)$ of the current policy (may require grad), `old_log_probs` $(N,)$, `advantages` $(N,)$,
# `eps` (default 0.2) → a 0-d tensor, the **mean** over samples of the objective to **maximize**, differentiable
# with respect to `log_probs`. Compute $\rho$ as `exp(log_probs - old_log_probs)`.

# %% nbgrader={"grade": false, "grade_id": "ppo_clip_objective", "locked": false, "schema_version": 3, "solution": true}
def ppo_clip_objective(log_probs, old_log_probs, advantages, eps=0.2):
    """Mean over samples of min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A), to maximize.

    Args:
        log_probs: (N,) log pi_theta(a|s); old_log_probs: (N,); advantages: (N,); eps: clip radius.

    Returns:
        0-d tensor.
    """
    ### BEGIN SOLUTION
    ratio = (log_probs - old_log_probs.detach()).exp()
    clipped = ratio.clamp(1.0 - eps, 1.0 + eps)
    return torch.minimum(ratio * advantages, clipped * advantages).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_ppo_clip_objective", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
# ratios 1.5, 0.5, 1.1, 0.5 with advantages 1, -1, 2, 1 and eps = 0.2:
# terms min(1.5, 1.2) = 1.2, min(-0.5, -0.8) = -0.8, 2.2 (inside the clip), min(0.5, 0.8) = 0.5
lp = torch.log(torch.tensor([1.5, 0.5, 1.1, 0.5], dtype=f64)).requires_grad_(True)
obj = ppo_clip_objective(lp, torch.zeros(4, dtype=f64), torch.tensor([1.0, -1.0, 2.0, 1.0], dtype=f64))
expect_close(obj, 0.775, what="ppo_clip_objective on four samples",
             hint="Clip the RATIO (not the advantage) and take the MIN of the two terms, then the mean.")
expect_true(torch.is_tensor(obj) and obj.requires_grad,
            "ppo_clip_objective must return a tensor that stays differentiable in log_probs",
            hint="Build it from torch operations on log_probs: no .item(), .detach() or torch.tensor(...) around it.")
obj.backward()
# d/d log_probs of rho * A / N is rho * A / N; the clipped terms have zero gradient
expect_close(lp.grad, torch.tensor([0.0, 0.0, 0.55, 0.125], dtype=f64), what="gradient of the objective",
             hint="Clipped samples (a good action already up by 1 + eps, a bad one down by 1 - eps) give no gradient.")

# %% nbgrader={"grade": true, "grade_id": "test_ppo_clip_objective_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("ppo_clip_objective", ppo_clip_objective)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# The objective of a single sample as a function of the ratio, for a positive and a negative advantage. Move
# $\epsilon$ and look for the flat pieces: that is where the gradient is zero.

# %%
def show_ppo(eps=0.2):
    ratios = torch.linspace(0.2, 2.0, 181, dtype=torch.float64)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3), sharex=True)
    for ax, adv in zip(axes, (1.0, -1.0)):
        try:
            vals = [ppo_clip_objective(torch.log(r).reshape(1), torch.zeros(1, dtype=torch.float64),
                                       torch.tensor([adv], dtype=torch.float64), eps).item() for r in ratios]
        except NotImplementedError:
            print("Write ppo_clip_objective to see this demo.")
            plt.close(fig)
            return
        ax.plot(ratios, vals, "k")
        ax.plot(ratios, ratios * adv, ":", color="grey", label=r"unclipped $\rho A$")
        ax.axvspan(1 - eps, 1 + eps, color="C0", alpha=0.1)
        ax.set_title(f"A = {adv:+.0f}")
        ax.set_xlabel(r"ratio $\rho$")
        ax.legend(fontsize=8)
    plt.show()


interact(show_ppo, eps=(0.05, 0.5, 0.05));

# %% [markdown]
# ## 6. Self-play and tree search: PUCT
#
# AlphaZero (Kaplan §8.6; Hegde, lecture 11) plays against itself. At each move it runs a **Monte-Carlo tree
# search** guided by a network that outputs a prior over moves $P(s,\cdot)$ and a value $v(s)$. Every
# simulation walks down the tree from the root, at each node choosing the child that maximizes
#
# $$\mathrm{PUCT}(a) = Q(a) + c\,P(a)\,\frac{\sqrt{N_{\text{parent}}}}{1 + N(a)},$$
#
# where $N(a)$ is how often child $a$ was visited, $N_{\text{parent}} = \sum_b N(b)$, and $Q(a)$ the mean value
# of the simulations through $a$. The first term **exploits**; the second **explores** moves the prior likes but
# the search has rarely tried, and decays as $1/N(a)$ while growing only like $\sqrt{N_{\text{parent}}}$, so
# visits concentrate on the best moves. After the search, the visit counts at the root become the training
# target of the policy head, and the game outcome that of the value head.
#
# ### Exercise 13: `puct_select`
# `q`, `prior`, `visits` of shape $(\dots, A)$ (visits may be integer or float), a float `c` (default 1) and an
# optional boolean mask `legal` $(\dots, A)$. Return a long tensor of shape $(\dots)$: the index of the legal
# child with the largest PUCT score, with $N_{\text{parent}} = $ the sum of `visits` over the last dimension.
# **Ties go to the lowest index** (`torch.argmax` does this). Illegal children are never chosen (assume at
# least one child is legal).

# %% nbgrader={"grade": false, "grade_id": "puct_select", "locked": false, "schema_version": 3, "solution": true}
def puct_select(q, prior, visits, c=1.0, legal=None):
    """Index of the child maximizing Q + c * P * sqrt(N_parent) / (1 + N_child).

    Args:
        q, prior, visits: (..., A); c: float; legal: optional bool (..., A).

    Returns:
        long tensor (...).
    """
    ### BEGIN SOLUTION
    q = q.to(torch.promote_types(q.dtype, torch.float32))
    n = visits.to(q.dtype)
    parent = n.sum(-1, keepdim=True)
    score = q + c * prior.to(q.dtype) * parent.sqrt() / (1.0 + n)
    if legal is not None:
        score = score.masked_fill(~legal.bool(), float("-inf"))
    return score.argmax(-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_puct_select", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
# N_parent = 4: scores 0 + 2 * 0.9 * 2 / 2 = 1.8 and 0.5 + 2 * 0.1 * 2 / 4 = 0.6
a = puct_select(torch.tensor([0.0, 0.5], dtype=f64), torch.tensor([0.9, 0.1], dtype=f64), torch.tensor([1, 3]), c=2.0)
expect_close(a, 0, what="puct_select: a strong prior beats a higher Q",
             hint="The exploration term shrinks with the visits of the CHILD (plus one) and grows with the parent's.")
# N_parent = 5: scores 0.6 + 0.5 * sqrt(5) / 5 = 0.82 and 0.5 * sqrt(5) / 2 = 0.56
a = puct_select(torch.tensor([0.6, 0.0], dtype=f64), torch.tensor([0.5, 0.5], dtype=f64), torch.tensor([4, 1]))
expect_close(a, 0, what="puct_select with N = (4, 1)", hint="Take the square root of N_parent.")
a = puct_select(torch.zeros(3, dtype=f64), torch.full((3,), 1 / 3, dtype=f64), torch.tensor([1, 0, 0]))
expect_close(a, 1, what="puct_select with a tie between children 1 and 2", hint="Ties go to the LOWEST index.")
a = puct_select(torch.tensor([1.0, 0.0, 0.0], dtype=f64), torch.full((3,), 1 / 3, dtype=f64), torch.tensor([1, 1, 1]),
                legal=torch.tensor([False, True, True]))
expect_close(a, 1, what="puct_select with child 0 illegal", hint="Mask illegal children with -inf before the argmax.")

# %% nbgrader={"grade": true, "grade_id": "test_puct_select_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("puct_select", puct_select)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: a small tree search on tic-tac-toe
# Without a trained network, we use a uniform prior and estimate leaf values by random play-outs (the original
# MCTS). `course.envs.tictactoe` holds the rules: boards are length-9 arrays with $+1$ for crosses, $-1$ for
# noughts. Values are stored from the point of view of the player who moved into a node, so each node's parent
# picks the child best for itself. In the position below crosses (to move) win at once in cell 2; any other
# move lets noughts win in cell 5. The visit counts show the search finding the win.

# %%
class Node:
    def __init__(self, board, player):
        self.board, self.player = board, player  # player = the side to move at this node
        self.moves = legal_moves(board)
        self.children = {}
        self.n = np.zeros(9)
        self.w = np.zeros(9)


def random_playout(board, player, rng):
    while winner(board) is None:
        board = play(board, int(rng.choice(legal_moves(board))), player)
        player = -player
    return winner(board)


def mcts(board, player, n_sims=300, c=1.4, seed=0):
    rng = np.random.default_rng(seed)
    root = Node(board, player)
    for _ in range(n_sims):
        node, path = root, []
        while True:  # selection with PUCT, expansion of one new child
            legal = torch.zeros(9, dtype=torch.bool)
            legal[node.moves] = True
            q = torch.as_tensor(np.where(node.n > 0, node.w / np.maximum(node.n, 1), 0.0))
            prior = legal.double() / legal.sum()
            move = int(puct_select(q, prior, torch.as_tensor(node.n), c=c, legal=legal))
            path.append((node, move))
            if move not in node.children:
                child_board = play(node.board, move, node.player)
                node.children[move] = Node(child_board, -node.player)
                result = random_playout(child_board, -node.player, rng)
                break
            node = node.children[move]
            if not node.moves:
                result = winner(node.board)
                break
        for parent, move in path:  # back-up: +1 for a win of the player who made the move
            parent.n[move] += 1
            parent.w[move] += 1.0 if result == parent.player else (0.0 if result == 0 else -1.0)
    return root


board = np.array([1, 1, 0, -1, -1, 0, 0, 0, 0], dtype=np.int8)
try:
    root = mcts(board, player=1)
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.2))
    axes[0].imshow(board.reshape(3, 3), cmap="coolwarm", vmin=-1.5, vmax=1.5)
    axes[1].imshow(root.n.reshape(3, 3), cmap="Greens")
    for i in range(3):
        for j in range(3):
            axes[0].text(j, i, {1: "X", -1: "O", 0: ""}[int(board[3 * i + j])], ha="center", va="center", fontsize=16)
            axes[1].text(j, i, str(int(root.n[3 * i + j])), ha="center", va="center", fontsize=12)
    axes[0].set_title("position (X to move)", fontsize=10)
    axes[1].set_title(f"root visit counts ({int(root.n.sum())} simulations)", fontsize=10)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    plt.show()
    print("most visited move:", int(root.n.argmax()))
except NotImplementedError:
    print("Write puct_select to see this demo.")

# %% [markdown]
# ## 7. Imitation learning: behaviour cloning and DAgger
#
# When an expert can show what to do, the simplest approach is supervised learning on its state-action pairs:
# **behaviour cloning** (CS 182 discussion 9, §2.2). It maximizes the likelihood of the expert's trajectories,
# yet it fails in a characteristic way: the learner is trained on the states the **expert** visits but is
# tested on the states **it** visits. A small error takes it slightly off the expert's path, to states where
# its training data is thin, where it errs more, and so on: the errors compound (in the worst case the cost
# grows like $T^2$ in the horizon instead of $T$).
#
# **DAgger** (dataset aggregation, §2.3) changes the data instead of the learner: run the *learner*, ask the
# expert what it *would* have done in the states the learner reached, add those pairs to the data set and refit.
# The training distribution then moves towards the learner's own state distribution.
#
# **The windy line** (`course.envs.imitation.WindyLine`). A point on $[-5, 5]$ moves by
# $x' = x + \mathrm{clip}(a, -1, 1) + w + \sigma\varepsilon$ with wind $w = 0.3$ and noise $\sigma = 0.3$. The
# expert's action $\mathrm{clip}(-x - w, -1, 1)$ cancels the wind and returns to 0 in one step. The learner is a
# **table** over 100 cells of width 0.1 (`env.cell_index(x)`): one action per cell. Where it has no data it
# does nothing, and the wind carries it off.
#
# ### Exercise 14: `fit_tabular_policy`
# `cells` (long $(N,)$, entries in $[0, n_{\text{cells}})$), `actions` (float $(N,)$), `n_cells` → a tensor
# $(n_{\text{cells}},)$ with the **mean** expert action of each cell (the least-squares fit of a
# piecewise-constant policy), and **exactly 0** in cells without data. Dtype of `actions`.

# %% nbgrader={"grade": false, "grade_id": "fit_tabular_policy", "locked": false, "schema_version": 3, "solution": true}
def fit_tabular_policy(cells, actions, n_cells):
    """Mean expert action per cell, 0 where a cell has no data.

    Args:
        cells: long (N,); actions: (N,); n_cells: int.

    Returns:
        (n_cells,) tensor.
    """
    ### BEGIN SOLUTION
    sums = torch.zeros(n_cells, device=actions.device, dtype=actions.dtype).index_add_(0, cells, actions)
    counts = torch.zeros(n_cells, device=actions.device, dtype=actions.dtype).index_add_(
        0, cells, torch.ones_like(actions))
    return sums / counts.clamp(min=1.0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_fit_tabular_policy", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
table = fit_tabular_policy(torch.tensor([0, 0, 2]), torch.tensor([1.0, 3.0, -1.0], dtype=f64), 4)
expect_close(table, torch.tensor([2.0, 0.0, -1.0, 0.0], dtype=f64), what="fit_tabular_policy",
             hint="Cell 0 holds the MEAN of 1 and 3; cells 1 and 3 have no data and must be 0 (not NaN).")

# %% nbgrader={"grade": true, "grade_id": "test_fit_tabular_policy_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("fit_tabular_policy", fit_tabular_policy)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 15: `dagger`
# Arguments: the initial expert data `states`, `actions` (tensors whose first dimension indexes samples),
# three callables and a generator:
# - `expert(states) -> actions` labels any states;
# - `rollout(policy, generator) -> states` runs a policy and returns the states it visited;
# - `fit(states, actions) -> policy` trains a learner (for the windy line: a table, wrapped as a function);
# - `n_rounds` (int) and `generator` (a `torch.Generator`, handed unchanged to `rollout`).
#
# Each round, in this order: fit a policy on **all** data so far; call `rollout(policy, generator)` **once**;
# label the new states with the **expert**; append them after the existing data. Return the aggregated
# `(states, actions)`, the original expert data first. (The learner's own actions are never stored.)

# %% nbgrader={"grade": false, "grade_id": "dagger", "locked": false, "schema_version": 3, "solution": true}
def dagger(states, actions, expert, rollout, fit, n_rounds, generator):
    """Dataset aggregation: roll out the learner, label with the expert, aggregate, refit.

    Args:
        states, actions: initial expert data, first dimension = samples.
        expert: states -> actions; rollout: (policy, generator) -> states; fit: (states, actions) -> policy.
        n_rounds: int; generator: torch.Generator passed to rollout.

    Returns:
        (states, actions): the aggregated data set.
    """
    ### BEGIN SOLUTION
    all_states, all_actions = [states], [actions]
    for _ in range(n_rounds):
        policy = fit(torch.cat(all_states), torch.cat(all_actions))
        new = rollout(policy, generator)
        all_states.append(new)
        all_actions.append(expert(new))
    return torch.cat(all_states), torch.cat(all_actions)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_dagger", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
# A toy whose every step is visible: the learner fitted on n samples is x -> x + n, each rollout evaluates
# the learner at x = 1 and 2, and the expert's label is -x.
s, a = dagger(torch.tensor([0.0], dtype=f64), torch.tensor([0.0], dtype=f64), lambda x: -x,
              lambda policy, gen: policy(torch.tensor([1.0, 2.0], dtype=f64)),
              lambda s, a: (lambda x: x + len(s)), 2, torch.Generator().manual_seed(0))
expect_close(s, torch.tensor([0.0, 2.0, 3.0, 4.0, 5.0], dtype=f64), what="aggregated states after 2 rounds",
             hint="Round 1 fits on the 1 expert sample (x + 1 -> states 2, 3); round 2 refits on ALL 3 samples.")
expect_close(a, torch.tensor([0.0, -2.0, -3.0, -4.0, -5.0], dtype=f64), what="aggregated actions",
             hint="Label the new states with the EXPERT, not with the learner.")

# %% nbgrader={"grade": true, "grade_id": "test_dagger_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("dagger", dagger)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: behaviour cloning drifts, DAgger recovers
# One expert episode of 40 steps is the whole demonstration. Behaviour cloning fits a table on it; DAgger adds
# rounds of 4 learner episodes labelled by the expert. Each panel shows 30 test episodes.

# %%
env = WindyLine()
demo = env.rollout(env.expert_action, torch.Generator().manual_seed(0), n_episodes=1).reshape(-1)


def show_imitation(dagger_rounds=5):
    try:
        def fit(s, a):
            return env.tabular_policy(fit_tabular_policy(env.cell_index(s), a, env.n_cells))

        def collect(policy, gen):
            return env.rollout(policy, gen, n_episodes=4).reshape(-1)

        bc = fit(demo, env.expert_action(demo))
        s, a = dagger(demo, env.expert_action(demo), env.expert_action, collect, fit, dagger_rounds,
                      torch.Generator().manual_seed(1))
        dg = fit(s, a)
    except NotImplementedError:
        print("Write fit_tabular_policy and dagger to see this demo.")
        return
    fig, axes = plt.subplots(1, 3, figsize=(10, 3), sharey=True)
    for ax, pol, title in [(axes[0], env.expert_action, "expert"), (axes[1], bc, "behaviour cloning"),
                           (axes[2], dg, f"DAgger, {dagger_rounds} rounds ({len(s)} samples)")]:
        paths = env.rollout(pol, torch.Generator().manual_seed(7), n_episodes=30)
        ax.plot(paths.T, color="C0", alpha=0.3)
        ax.set_title(f"{title}\nmean |x| = {paths.abs().mean():.2f}", fontsize=9)
        ax.set_xlabel("step")
    axes[0].set_ylabel("x")
    plt.show()


interact(show_imitation, dagger_rounds=(0, 10, 1));

# %% [markdown]
# ## 8. Make it work: policy gradients on CartPole
#
# Everything together on a real control problem: gymnasium's `CartPole-v1` (balance a pole on a cart; reward
# 1 per step; episodes capped at 200 steps here). The policy is a small network on the 4-dimensional state, and
# the training is yours.
#
# ### Exercise 16: `train_cartpole_policy` (the graded make-it-work task)
# Write `train_cartpole_policy(n_iters=40, episodes_per_iter=4, lr=0.02, gamma=0.99, hidden=32, seed=0, max_steps=200)`:
# - call `torch.manual_seed(seed)`, then build the policy
#   `net = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 2))` (float32;
#   its two outputs are the logits of "push left" and "push right") and an Adam optimizer with step size `lr`;
# - the environment is `gym.make("CartPole-v1", max_episode_steps=max_steps)`; draw the actions from
#   `rng = np.random.default_rng(seed)` by sampling from the policy's softmax;
# - each of the `n_iters` iterations plays `episodes_per_iter` episodes, computes the discounted rewards-to-go
#   of each episode with your `rewards_to_go`, and takes **one** Adam step on a surrogate loss whose gradient is
#   minus the policy-gradient estimate of §2 with these weights. Normalizing the weights over the batch (subtract
#   their mean, divide by their standard deviation) is a crude baseline that helps, as in PPO implementations
#   (Kaplan §8.5);
# - return `(net, returns)`: the trained network and the list of the training episodes' returns.
#
# **The target.** The grader calls `train_cartpole_policy(seed=...)` with your defaults for everything else, takes
# the network's weights, and measures in its own process the average return of the **greedy** policy (the action
# with the larger logit) over 20 episodes whose starting states your function never sees, capped at 200 steps.
# It must reach **at least 60**. (For scale: random actions last about 22 steps, a policy that always pushes the same
# way about 9; the reference reaches 85 to 200 depending on the seed, in about 2 to 5 seconds.) Weighting each step
# by the rewards *before* it instead of after it, or a loss with the wrong sign, stays near 9.

# %%
import gymnasium as gym

# %% nbgrader={"grade": false, "grade_id": "train_cartpole_policy", "locked": false, "schema_version": 3, "solution": true}
def train_cartpole_policy(n_iters=40, episodes_per_iter=4, lr=0.02, gamma=0.99, hidden=32, seed=0, max_steps=200):
    """Policy-gradient training of a small softmax policy network on CartPole.

    Args:
        n_iters, episodes_per_iter: the schedule; lr: Adam's step size; gamma: discount of the rewards-to-go;
        hidden: hidden units; seed: seeds every random draw; max_steps: the longest training episode.

    Returns:
        (net, returns): the trained torch.nn.Sequential and the list of training-episode returns.
    """
    ### BEGIN SOLUTION
    import gymnasium as gym
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
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_train_cartpole_policy", "locked": true, "points": 1, "schema_version": 3, "solution": false}
import gymnasium as gym


def greedy_cartpole_return(net, seeds=range(900, 920), max_steps=200):
    """Average return of the greedy policy of `net` over episodes started from `seeds` (at most max_steps steps)."""
    env = gym.make("CartPole-v1", max_episode_steps=max_steps)
    totals = []
    for s in seeds:
        obs, _ = env.reset(seed=s)
        total, done = 0.0, False
        while not done:
            with torch.no_grad():
                action = int(net(torch.as_tensor(obs, dtype=torch.float32)).argmax())
            obs, r, terminated, truncated, _ = env.step(action)
            total, done = total + r, terminated or truncated
        totals.append(total)
    return float(np.mean(totals))


import time
_start = time.perf_counter()
_net, _returns = train_cartpole_policy(seed=0)
_seconds = time.perf_counter() - _start
expect_true(isinstance(_net, torch.nn.Sequential) and len(_returns) == 160,
            "train_cartpole_policy must return (the Sequential network, one return per training episode: 40 * 4).")
_score = greedy_cartpole_return(_net)
print(f"greedy return {_score:.1f} over 20 episodes (target 60), trained in {_seconds:.1f} s")
expect_true(_score >= 60, f"the greedy policy's average return {_score:.1f} is below the target 60",
            hint="Weight each step by the rewards that come AFTER it, and make the loss's gradient point DOWN "
                 "the policy gradient (you minimize the loss, you maximize the return).")

# %% nbgrader={"grade": true, "grade_id": "test_train_cartpole_policy_2", "locked": true, "points": 6, "schema_version": 3, "solution": false}
# Hidden tests (another seed; the greedy return is measured by the grader on episodes your code never sees).
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("train_cartpole_policy", train_cartpole_policy)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: the training curve
# The returns of your training episodes (from the test above): noisy, because the policy keeps sampling its
# actions while it learns.

# %%
with needs_exercises():
    lengths = _returns if "_returns" in globals() else train_cartpole_policy(seed=0)[1]
    plt.figure(figsize=(6, 3))
    plt.plot(lengths, ".", alpha=0.4, label="episode")
    plt.plot(np.convolve(lengths, np.ones(12) / 12, mode="valid"), "k", label="running mean (12 episodes)")
    plt.xlabel("training episode")
    plt.ylabel("length (= return)")
    plt.legend()
    plt.show()

# %% [markdown]
# ### Concept question 3: `concept_reuse`
# A DQN agent keeps a **replay buffer** and learns from transitions collected many updates ago. Why can the
# training above not simply keep its old episodes and reuse them at every iteration? Return the letter.
#
# - **a.** It could: old episodes are valid samples of the environment, so reusing them only makes the estimate
#   less noisy.
# - **b.** Old episodes have lower returns, which would pull the policy back towards the bad behaviour.
# - **c.** The policy-gradient estimator is an expectation over trajectories of the *current* policy; old episodes
#   come from another distribution and would need importance ratios (which is what PPO's ratio does), whereas
#   Q-learning's max target does not depend on which policy collected the transition.
# - **d.** A network cannot be trained on the same data twice without over-fitting, which is why DQN samples only
#   a small part of its buffer.

# %% nbgrader={"grade": false, "grade_id": "concept_reuse", "locked": false, "schema_version": 3, "solution": true}
def concept_reuse():
    """Return your answer as one letter: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_reuse", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(concept_reuse() in ("a", "b", "c", "d"), "concept_reuse() must return one of 'a', 'b', 'c', 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_concept_reuse_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# The answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_reuse", concept_reuse)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## What you built
#
# - `discounted_returns`, `rewards_to_go`: returns and the backward recursion you derived for them.
# - `policy_score`, `reinforce_gradient`, `reward_to_go_gradient`: the log-derivative trick turned into an
#   estimator of $\nabla J$ for a softmax policy; rewards-to-go and a state baseline keep its expectation (checked
#   exactly by enumerating every trajectory) and shrink its variance.
# - `td_errors`, `gae_advantages`: one-step advantages, and their $\gamma\lambda$-weighted sum computed backwards,
#   cut at episode ends, interpolating from TD errors to Monte-Carlo advantages.
# - `actor_critic_losses`: the one-step actor-critic, with the TD target and the advantage held constant where
#   each loss must not send its gradient.
# - `dqn_target`, `double_dqn_target`: Bellman targets with a target network, and the decoupled argmax that
#   removes the max's optimism; `ReplayBuffer`: the ring of past transitions DQN trains on.
# - `ppo_clip_objective`: the pessimistic clipped surrogate whose gradient stops once the ratio leaves
#   $[1-\epsilon, 1+\epsilon]$ in the favourable direction.
# - `puct_select`: the selection rule of AlphaZero's tree search, here driving a small MCTS on tic-tac-toe.
# - `fit_tabular_policy`, `dagger`: behaviour cloning and the data aggregation that repairs its compounding errors.
# - `train_cartpole_policy`: all of §2 on a real control problem, graded on a greedy return the grader measures
#   on episodes your code never saw.
#
# The next chapter turns to learning without labels and learning to learn: meta-learning and self-supervision.
