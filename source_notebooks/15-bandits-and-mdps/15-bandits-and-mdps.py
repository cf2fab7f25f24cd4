# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 15 · Bandits, MDPs and tabular RL
#
# Reinforcement learning is learning from rewards instead of labels: a learner acts, the world answers with
# a number, and the learner must find out which actions pay. This chapter starts with the simplest such world,
# the multi-armed bandit, where the only difficulty is the trade-off between *exploring* arms you know little
# about and *exploiting* the one that looks best. It then adds states: a Markov decision process (MDP), solved
# exactly by dynamic programming when the transition table is known, and learned from experience by
# temporal-difference methods when it is not.
#
# **Learning goals**
# - Keep running action-value estimates with the incremental sample-average update, vectorized over thousands
#   of independent bandit problems at once.
# - Write epsilon-greedy, UCB1 and Thompson sampling (Beta-Bernoulli and Gaussian) with the randomness handed
#   in, and reproduce the classic 10-armed testbed curves and the regret of each rule.
# - Write the Bellman expectation and optimality backups, exact policy evaluation and value iteration, and
#   check that value iteration and policy iteration agree, also on gymnasium's FrozenLake.
# - Write TD(0), Sarsa and Q-learning updates with the right sign, and see on CliffWalking why the on-policy
#   learner walks the safe path and the off-policy one the optimal path; then discretize CartPole and learn
#   it with a Q-table.
#
# **Notes followed.** The slides *Part II: Deep Learning*, reinforcement-learning part ("The multi-armed bandit
# problem", "Definitions", "Upper confidence bound", "Thompson sampling", "From bandits to Markov decision
# process"); the NYU deep-learning notes, *Lecture 9: Reinforcement Learning (I)*; Kaplan, *Notes on
# Contemporary Machine Learning for Physicists*, the introduction to §8 (states, actions, explore versus exploit) and
# §8.3 (Q-learning, Bellman equations, value and policy iteration, the contraction argument).
#
# **Conventions used throughout.** A batch of independent bandit problems ("runs") is processed at once:
# estimates `Q` and counts `N` have shape `(n_runs, n_arms)`, actions and rewards shape `(n_runs,)`. Actions
# are `torch.long`. Every arg-max breaks ties towards the **lowest index**, which is what `torch.argmax` does.
# Random draws are arguments, so a correct rule gives exactly the same actions as the reference. Results keep
# the dtypes of their inputs (values in the dtype of `Q`, `V` or the rewards, counts in that of `N`), and no
# function changes its inputs in place; the dtypes and shapes a statement names are graded.
# An MDP is given as two tensors: `T[s, a, s2]` (shape `(S, A, S)`) and `R[s, a]` (shape `(S, A)`), explained
# in §4.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import math
import numpy as np
import torch
import matplotlib.pyplot as plt
import ipywidgets as widgets
from course.checks import expect_close, expect_true, expect_shape
from course.demos import interact, needs_exercises

# %%
# The simulations below are long loops of small tensor operations: one thread is fastest for those.
torch.set_num_threads(1)

# %% [markdown]
# ## 1. The multi-armed bandit and sample averages
#
# A $K$-armed bandit has $K$ slot machines. Pulling arm $k$ pays a random reward with unknown mean
# $q_*(k) = \mathbb E[r \mid a = k]$: Gaussian $\mathcal N(q_*(k), 1)$ in the *10-armed testbed*, or Bernoulli with
# success probability $\mu_k$. There is a single state, so the only thing to learn is $q_*$, and the only thing
# to decide is which arm to pull next. The goal is the largest total reward, or equivalently the smallest
# **regret**
#
# $$L(T) = \sum_{t=1}^T \Big(\max_k q_*(k) - q_*(a_t)\Big),$$
#
# the reward lost against an oracle that always plays the best arm. Always exploiting the arm that looks best
# ("greedy") can lock onto a bad arm forever; always exploring pays the average arm forever. Both have regret
# that grows linearly in $T$; the rules below do better.
#
# **Sample averages, incrementally.** The natural estimate of $q_*(k)$ is the mean of the $n$ rewards seen from
# arm $k$. It need not be recomputed from scratch: with $Q_n$ the mean of the first $n$ rewards,
#
# $$Q_{n+1} = \frac{1}{n+1}\sum_{i=1}^{n+1} r_i = \frac{n Q_n + r_{n+1}}{n+1} = Q_n + \frac{1}{n+1}\big(r_{n+1} - Q_n\big).$$
#
# This is the template of everything in this chapter: *estimate += step size × (target − estimate)*. The step
# size is $1/(\text{count after this pull})$, so the first pull sets the estimate to the reward itself.
# (A constant step size $\alpha$ instead gives an exponentially weighted average, useful when the arms drift.)
#
# ### Exercise 1: `sample_average_update`
#
# Implement `sample_average_update(Q, N, actions, rewards)`. In run `i` arm `a = actions[i]` was pulled and paid
# `rewards[i]`: increase `N[i, a]` by one and move `Q[i, a]` by `(rewards[i] - Q[i, a]) / N_new[i, a]`; leave
# every other entry alone. Return `(Q_new, N_new)`, **new** tensors with the shapes and dtypes of `Q` and `N`
# (the inputs must not change). Vectorize over runs: index with `torch.arange(n_runs)` and `actions`.

# %% nbgrader={"grade": false, "grade_id": "sample_average_update", "locked": false, "schema_version": 3, "solution": true}
def sample_average_update(Q, N, actions, rewards):
    """Incremental sample-average update of the pulled arms.

    Args:
        Q: (n_runs, n_arms) floating tensor of value estimates.
        N: (n_runs, n_arms) tensor of pull counts.
        actions: (n_runs,) long tensor, the arm pulled in each run.
        rewards: (n_runs,) tensor, the reward received in each run.
    Returns:
        (Q_new, N_new): new tensors, same shapes and dtypes as Q and N.
    """
    ### BEGIN SOLUTION
    rows = torch.arange(Q.shape[0], device=Q.device)
    N_new = N.clone()
    N_new[rows, actions] += 1
    Q_new = Q.clone()
    n = N_new[rows, actions].to(Q.dtype)
    Q_new[rows, actions] = Q[rows, actions] + (rewards.to(Q.dtype) - Q[rows, actions]) / n
    return Q_new, N_new
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sample_average_update", "locked": true, "points": 1, "schema_version": 3, "solution": false}
Q0 = torch.zeros(2, 3, dtype=torch.float64)
N0 = torch.zeros(2, 3, dtype=torch.long)
Q1, N1 = sample_average_update(Q0, N0, torch.tensor([0, 2]), torch.tensor([1.0, 4.0], dtype=torch.float64))
expect_close(Q1, torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 4.0]], dtype=torch.float64),
             what="Q after the first pulls", hint="The first pull of an arm sets its estimate to the reward (step 1/1).")
Q2, N2 = sample_average_update(Q1, N1, torch.tensor([0, 0]), torch.tensor([3.0, 2.0], dtype=torch.float64))
expect_close(Q2, torch.tensor([[2.0, 0.0, 0.0], [2.0, 0.0, 4.0]], dtype=torch.float64),
             what="Q after the second pulls (means of the rewards seen)",
             hint="Step size 1 / (new count): Q += (r - Q) / (N + 1).")
expect_close(N2, torch.tensor([[2, 0, 0], [1, 0, 1]]), what="N after two pulls per run")
expect_close(Q0, torch.zeros(2, 3, dtype=torch.float64), what="Q0 after the calls",
             hint="Work on clones; do not modify the inputs in place.")

# %% nbgrader={"grade": true, "grade_id": "test_sample_average_update_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("sample_average_update", sample_average_update)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Epsilon-greedy and UCB
#
# **Epsilon-greedy** mixes the two extremes: with probability $1-\epsilon$ play the greedy arm
# $\arg\max_k Q(k)$, with probability $\epsilon$ play an arm chosen uniformly at random. Every arm keeps being
# sampled, so every estimate converges; but the exploration never stops, even when it is no longer needed,
# so the regret still grows linearly, at a rate proportional to $\epsilon$.
#
# To make the rule exactly reproducible, the two random choices are handed to you: `uniform[i]` is a draw
# from $U[0, 1)$ and run `i` explores **exactly when `uniform[i] < epsilon`**, in which case it plays
# `random_arm[i]` (already drawn uniformly from the arms). Otherwise it plays the greedy arm, ties to the
# lowest index.
#
# ### Exercise 2: `epsilon_greedy_action`

# %% nbgrader={"grade": false, "grade_id": "epsilon_greedy_action", "locked": false, "schema_version": 3, "solution": true}
def epsilon_greedy_action(Q, epsilon, uniform, random_arm):
    """Epsilon-greedy choice from the given random draws.

    Args:
        Q: (n_runs, n_arms) value estimates.
        epsilon: exploration probability (float in [0, 1]).
        uniform: (n_runs,) draws from U[0, 1); run i explores when uniform[i] < epsilon.
        random_arm: (n_runs,) long tensor, the arm played when exploring.
    Returns:
        (n_runs,) long tensor of arms.
    """
    ### BEGIN SOLUTION
    greedy = Q.argmax(dim=1)
    return torch.where(uniform < epsilon, random_arm.to(greedy.dtype), greedy)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_epsilon_greedy_action", "locked": true, "points": 1, "schema_version": 3, "solution": false}
Q = torch.tensor([[0.0, 1.0, 0.5], [2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
a = epsilon_greedy_action(Q, 0.1, torch.tensor([0.5, 0.05, 0.95]), torch.tensor([0, 2, 1]))
expect_true(a.dtype == torch.long, f"epsilon_greedy_action should return a long tensor, got {a.dtype}.")
expect_close(a, torch.tensor([1, 2, 0]), what="epsilon_greedy_action(Q, 0.1, uniform=[0.5, 0.05, 0.95], random_arm=[0, 2, 1])",
             hint="Run 1 explores (0.05 < 0.1) and plays random_arm; runs 0 and 2 play argmax Q (ties: lowest index).")
expect_close(epsilon_greedy_action(Q, 1.0, torch.tensor([0.5, 0.05, 0.95]), torch.tensor([0, 2, 1])),
             torch.tensor([0, 2, 1]), what="epsilon_greedy_action with epsilon = 1 (always explore)")

# %% nbgrader={"grade": true, "grade_id": "test_epsilon_greedy_action_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("epsilon_greedy_action", epsilon_greedy_action)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **Upper confidence bounds.** Instead of exploring blindly, explore where the arm *could* still be good. Keep
# an optimistic bound for each arm, its estimate plus a bonus that shrinks as the arm is pulled, and play the
# arm with the largest bound (the slides' $Q + c\,\sigma$):
#
# $$a_t = \arg\max_k \left( Q(k) + c \sqrt{\frac{\ln t}{N(k)}} \right).$$
#
# Why this bonus: by Hoeffding's inequality, the mean of $n$ rewards in $[0, 1]$ exceeds the true mean by more
# than $u$ with probability at most $e^{-2nu^2}$. Setting this probability to $t^{-4}$ gives
# $u = \sqrt{2\ln t / n}$ (UCB1's $c = \sqrt 2$): the bound fails with a probability that shrinks fast
# enough, while $\ln t$ keeps growing, so an arm pulled rarely sees its bonus rise until it is tried again.
# A bad arm is then pulled only $O(\ln T)$ times, and the regret grows logarithmically. An arm with
# $N(k) = 0$ has an infinite bonus: **untried arms are played first**, the lowest index first.
# Here `t` is the number of the step being decided, starting at 1 (so $t-1$ pulls happened before it).
#
# ### Exercise 3: `ucb_action`
#
# Implement `ucb_action(Q, N, t, c)` for a batch of runs: a run with an untried arm plays its lowest-index
# untried arm; otherwise it plays $\arg\max_k Q(k) + c\sqrt{\ln t / N(k)}$ (ties to the lowest index).
# Avoid dividing by zero (for instance give untried arms the score `inf` with `torch.where`).

# %% nbgrader={"grade": false, "grade_id": "ucb_action", "locked": false, "schema_version": 3, "solution": true}
def ucb_action(Q, N, t, c):
    """UCB1: untried arms first, else argmax of Q + c * sqrt(ln t / N).

    Args:
        Q: (n_runs, n_arms) value estimates.
        N: (n_runs, n_arms) pull counts.
        t: the current step (int >= 1).
        c: exploration constant (float >= 0).
    Returns:
        (n_runs,) long tensor of arms.
    """
    ### BEGIN SOLUTION
    bonus = c * torch.sqrt(math.log(t) / N.to(Q.dtype).clamp(min=1))
    score = torch.where(N == 0, torch.full_like(Q, float("inf")), Q + bonus)
    return score.argmax(dim=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_ucb_action", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Run 0 has an untried arm; in run 1 the bonus of the arm pulled once, sqrt(ln 12 / 1) = 1.58, beats
# arm 0's 1 + sqrt(ln 12 / 10) = 1.50; in run 2 both bonuses are equal and the better estimate wins.
Q = torch.tensor([[1.0, 0.5], [1.0, 0.9], [0.3, 0.2]], dtype=torch.float64)
N = torch.tensor([[3, 0], [10, 1], [4, 4]])
expect_close(ucb_action(Q, N, 12, 1.0), torch.tensor([1, 1, 0]), what="ucb_action(Q, N, t=12, c=1)",
             hint="Untried arms first; then Q + c * sqrt(log(t) / N), with the natural log.")
expect_close(ucb_action(torch.zeros(1, 3, dtype=torch.float64), torch.tensor([[1, 0, 0]]), 2, 2.0), torch.tensor([1]),
             what="ucb_action with arms 1 and 2 untried", hint="Play the lowest-index untried arm.")

# %% nbgrader={"grade": true, "grade_id": "test_ucb_action_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("ucb_action", ucb_action)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: the 10-armed testbed
#
# `course.envs.bandits.GaussianBandit` holds 2000 independent 10-armed problems (means $q_*(k) \sim \mathcal N(0,1)$,
# rewards $\mathcal N(q_*(k), 1)$) behind a gymnasium-like interface: `reset(seed)` draws the means, `step(actions)`
# takes one arm per run and returns one reward per run, and `info["optimal"]` says whether each run played its
# best arm. Since your functions act on all runs at once, 1000 steps of 2000 runs take about a second per rule.
# The dotted line is the ceiling $\mathbb E[\max_k q_*(k)] \approx 1.54$.

# %%
from course.envs.bandits import GaussianBandit, BernoulliBandit


def run_testbed(choose, n_runs=2000, n_steps=1000, seed=0):
    """Average reward and fraction of optimal actions per step; choose(Q, N, t, gen) -> actions."""
    env = GaussianBandit(n_runs=n_runs, n_arms=10)
    _, info = env.reset(seed=seed)
    gen = torch.Generator().manual_seed(seed + 1)
    Q = torch.zeros(n_runs, 10, dtype=torch.float64)
    N = torch.zeros(n_runs, 10, dtype=torch.long)
    avg_reward, optimal = torch.zeros(n_steps), torch.zeros(n_steps)
    for t in range(1, n_steps + 1):
        actions = choose(Q, N, t, gen)
        _, rewards, _, _, step_info = env.step(actions)
        Q, N = sample_average_update(Q, N, actions, rewards)
        avg_reward[t - 1] = rewards.mean()
        optimal[t - 1] = step_info["optimal"].double().mean()
    return avg_reward, optimal, info["optimal_value"].mean().item()


def eps_greedy_rule(epsilon):
    def choose(Q, N, t, gen):
        u = torch.rand(Q.shape[0], generator=gen, dtype=Q.dtype)
        k = torch.randint(0, Q.shape[1], (Q.shape[0],), generator=gen)
        return epsilon_greedy_action(Q, epsilon, u, k)
    return choose


def ucb_rule(c):
    return lambda Q, N, t, gen: ucb_action(Q, N, t, c)


def show_testbed():
    rules = {"greedy": eps_greedy_rule(0.0), "epsilon = 0.01": eps_greedy_rule(0.01),
             "epsilon = 0.1": eps_greedy_rule(0.1), "UCB, c = 2": ucb_rule(2.0)}
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for name, rule in rules.items():
        reward, optimal, ceiling = run_testbed(rule)
        axes[0].plot(reward.numpy(), lw=0.8, label=name)
        axes[1].plot(100 * optimal.numpy(), lw=0.8, label=name)
        print(f"{name:15s} average reward over steps 901-1000: {reward[-100:].mean().item():.3f}   "
              f"optimal action: {100 * optimal[-100:].mean().item():.1f}%")
        if name.startswith("UCB"):
            print(f"UCB average reward at steps 10, 11, 12: {[round(v, 3) for v in reward[9:12].tolist()]} (the spike)")
    axes[0].axhline(ceiling, ls=":", color="k", label=f"E[max q*] = {ceiling:.2f}")
    axes[0].set(xlabel="step", ylabel="average reward", title="10-armed testbed, 2000 runs")
    axes[1].set(xlabel="step", ylabel="% optimal action", ylim=(0, 100))
    axes[0].legend(fontsize=8)
    plt.tight_layout()
    plt.show()


try:
    show_testbed()
except NotImplementedError:
    print("Implement sample_average_update, epsilon_greedy_action and ucb_action to see this demo.")

# %% [markdown]
# The classic picture: greedy levels off near 1.0 (it locks onto whatever arm first looked good, the optimal
# one in only about a third of the runs); $\epsilon = 0.1$ learns fast and reaches about 1.35 to 1.4 but can never
# exceed roughly $0.9 \cdot 1.54$ of the optimum because it explores 10% of the time; $\epsilon = 0.01$ learns
# slowly but will eventually pass it. UCB with $c = 2$ is above all of them after a few hundred steps. Its
# **spike at step 11** is a nice puzzle: steps 1 to 10 try each arm once; at step 11 all bonuses are equal, so
# every run plays the arm with the best single reward, often the truly best arm. At step 12 that arm's bonus has
# shrunk and the runs go back to exploring, so the average drops again.
#
# ## 3. Thompson sampling and regret
#
# **Beta-Bernoulli.** With Bernoulli rewards and a uniform prior $\mu_k \sim \text{Beta}(1,1)$, the posterior after
# $n^1_k$ successes and $n^0_k$ failures is again a Beta distribution (conjugacy):
#
# $$p(\mu_k \mid \text{data}) \propto \mu_k^{n^1_k}(1-\mu_k)^{n^0_k}\cdot \mu_k^{\alpha_0 - 1}(1-\mu_k)^{\beta_0-1}
# \quad\Longrightarrow\quad \mu_k \mid \text{data} \sim \text{Beta}(\alpha_0 + n^1_k,\ \beta_0 + n^0_k).$$
#
# Thompson sampling draws **one plausible value** $\tilde\mu_k$ from each arm's posterior and plays the arm whose
# draw is largest. Each arm is thus played with exactly the posterior probability that it is the best one:
# uncertain arms get explored because their draws are spread out, and well-known bad arms are almost never
# drawn high. Like UCB it has logarithmic regret, and it is often better in practice.
#
# **Gaussian.** For rewards $\mathcal N(\mu_k, \sigma^2)$ with known noise variance $\sigma^2$ and prior
# $\mu_k \sim \mathcal N(m_0, s_0^2)$, the posterior after $n$ rewards summing to $S$ is Gaussian; precisions add:
#
# $$\text{precision} = \frac{1}{s_0^2} + \frac{n}{\sigma^2}, \qquad
#   \text{mean} = \frac{m_0/s_0^2 + S/\sigma^2}{\text{precision}}, \qquad
#   \tilde\mu_k = \text{mean} + \frac{z_k}{\sqrt{\text{precision}}},\ z_k \sim \mathcal N(0,1).$$
#
# ### Exercise 4: `thompson_bernoulli_action`
#
# Implement `thompson_bernoulli_action(successes, failures, rng, prior_a=1.0, prior_b=1.0)`. `successes` and
# `failures` are tensors `(n_runs, n_arms)` of counts; `rng` is a `numpy.random.Generator`. Make **exactly one**
# call `rng.beta(alpha, beta)` where `alpha = prior_a + successes` and `beta = prior_b + failures` are float64
# numpy arrays of shape `(n_runs, n_arms)` (convert with `.numpy()`), and return the arg-max over arms of the
# draws as a `torch.long` tensor of shape `(n_runs,)`. (Torch's Beta sampler accepts no generator; numpy's does,
# which is what makes the result reproducible.)

# %% nbgrader={"grade": false, "grade_id": "thompson_bernoulli_action", "locked": false, "schema_version": 3, "solution": true}
def thompson_bernoulli_action(successes, failures, rng, prior_a=1.0, prior_b=1.0):
    """Thompson sampling for Bernoulli arms with a Beta(prior_a, prior_b) prior.

    Args:
        successes: (n_runs, n_arms) counts of reward 1.
        failures: (n_runs, n_arms) counts of reward 0.
        rng: numpy.random.Generator; call rng.beta(alpha, beta) exactly once on (n_runs, n_arms) arrays.
        prior_a, prior_b: the prior's parameters.
    Returns:
        (n_runs,) long tensor of arms.
    """
    ### BEGIN SOLUTION
    alpha = prior_a + successes.detach().cpu().numpy().astype(np.float64)
    beta = prior_b + failures.detach().cpu().numpy().astype(np.float64)
    theta = rng.beta(alpha, beta)
    return torch.as_tensor(theta.argmax(axis=1), dtype=torch.long, device=successes.device)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_thompson_bernoulli_action", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Posteriors this sharp (Beta(91, 11) against Beta(2, 100)) leave no doubt about the answer:
s = torch.tensor([[90.0, 1.0], [1.0, 90.0]])
f = torch.tensor([[10.0, 99.0], [99.0, 10.0]])
expect_close(thompson_bernoulli_action(s, f, np.random.default_rng(0)), torch.tensor([0, 1]),
             what="thompson_bernoulli_action on well-known arms",
             hint="Sample from the posterior Beta(prior_a + successes, prior_b + failures), not from the prior.")
# The exact draws: one call rng.beta(alpha, beta) on (n_runs, n_arms) arrays.
counts = np.random.default_rng(1).integers(0, 30, size=(2, 20, 4))
expected = np.random.default_rng(5).beta(2.0 + counts[0], 1.0 + counts[1]).argmax(axis=1)
got = thompson_bernoulli_action(torch.tensor(counts[0]), torch.tensor(counts[1]), np.random.default_rng(5),
                                prior_a=2.0, prior_b=1.0)
expect_close(got, torch.tensor(expected), what="thompson_bernoulli_action with rng = default_rng(5), prior Beta(2, 1)",
             hint="Make exactly one call rng.beta(prior_a + successes, prior_b + failures) on float64 arrays.")

# %% nbgrader={"grade": true, "grade_id": "test_thompson_bernoulli_action_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("thompson_bernoulli_action", thompson_bernoulli_action)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5: `thompson_gaussian_action`
#
# Implement `thompson_gaussian_action(reward_sums, counts, z, prior_mean=0.0, prior_var=1.0, noise_var=1.0)`:
# compute each arm's posterior precision and mean from the formulas above, form the posterior samples
# `mean + z / sqrt(precision)` with the given standard-normal draws `z` (shape `(n_runs, n_arms)`), and return
# their arg-max over arms, shape `(n_runs,)`. Work in the dtype of `z`.

# %% nbgrader={"grade": false, "grade_id": "thompson_gaussian_action", "locked": false, "schema_version": 3, "solution": true}
def thompson_gaussian_action(reward_sums, counts, z, prior_mean=0.0, prior_var=1.0, noise_var=1.0):
    """Thompson sampling for Gaussian arms (known noise variance, Gaussian prior).

    Args:
        reward_sums: (n_runs, n_arms) sum of each arm's rewards.
        counts: (n_runs, n_arms) pull counts.
        z: (n_runs, n_arms) standard-normal draws.
        prior_mean, prior_var, noise_var: floats.
    Returns:
        (n_runs,) long tensor of arms.
    """
    ### BEGIN SOLUTION
    precision = 1.0 / prior_var + counts.to(z.dtype) / noise_var
    mean = (prior_mean / prior_var + reward_sums.to(z.dtype) / noise_var) / precision
    return (mean + z / precision.sqrt()).argmax(dim=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_thompson_gaussian_action", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Run 0: arm 0 has posterior N(0.75, 1/4), arm 1 is still the prior: samples 0.75 + 0.5 * 0 and 0 + 0.5 = 0.5.
# Run 1: arm 1 has precision 4, so its sample is 0 + 1.0 / 2 = 0.5 > 0.4, the prior draw of arm 0.
sums = torch.tensor([[3.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
n = torch.tensor([[3.0, 0.0], [0.0, 3.0]], dtype=torch.float64)
z = torch.tensor([[0.0, 0.5], [0.4, 1.0]], dtype=torch.float64)
expect_close(thompson_gaussian_action(sums, n, z), torch.tensor([0, 1]), what="thompson_gaussian_action (standard prior)",
             hint="Posterior precision 1/prior_var + n/noise_var; the sample is mean + z / sqrt(precision).")
expect_close(thompson_gaussian_action(torch.tensor([[2.0, 2.5]], dtype=torch.float64), torch.tensor([[1.0, 1.0]], dtype=torch.float64),
                                      torch.zeros(1, 2, dtype=torch.float64), prior_mean=4.0, prior_var=1.0, noise_var=0.25),
             torch.tensor([1]), what="thompson_gaussian_action with prior_mean 4, noise_var 0.25")

# %% nbgrader={"grade": true, "grade_id": "test_thompson_gaussian_action_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("thompson_gaussian_action", thompson_gaussian_action)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 6: `cumulative_regret`
#
# Implement `cumulative_regret(q_star, actions)`: `q_star` `(n_runs, n_arms)` holds the true means, `actions`
# `(n_runs, n_steps)` the arms pulled. Return the running sum over steps of
# $\max_k q_*(k) - q_*(a_t)$, shape `(n_runs, n_steps)`, dtype of `q_star` (use `gather` and `cumsum`).

# %% nbgrader={"grade": false, "grade_id": "cumulative_regret", "locked": false, "schema_version": 3, "solution": true}
def cumulative_regret(q_star, actions):
    """Cumulative pseudo-regret of the pulls.

    Args:
        q_star: (n_runs, n_arms) true arm means.
        actions: (n_runs, n_steps) long tensor of pulled arms.
    Returns:
        (n_runs, n_steps) tensor, dtype of q_star.
    """
    ### BEGIN SOLUTION
    gaps = q_star.max(dim=1, keepdim=True).values - q_star.gather(1, actions)
    return gaps.cumsum(dim=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_cumulative_regret", "locked": true, "points": 1, "schema_version": 3, "solution": false}
q = torch.tensor([[0.25, 0.75], [0.5, 0.0]], dtype=torch.float64)
expect_close(cumulative_regret(q, torch.tensor([[0, 1, 0], [1, 1, 0]])),
             torch.tensor([[0.5, 0.5, 1.0], [0.5, 1.0, 1.0]], dtype=torch.float64),
             what="cumulative_regret", hint="Gap to the best arm of the same run, summed over the steps so far (dim 1).")

# %% nbgrader={"grade": true, "grade_id": "test_cumulative_regret_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("cumulative_regret", cumulative_regret)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: regret on a Bernoulli bandit
#
# 500 runs of a 5-armed Bernoulli bandit (arm probabilities drawn uniformly per run), 1000 steps. The greedy and
# epsilon-greedy rules have regret growing linearly; UCB1 ($c = \sqrt 2$) and Thompson sampling bend over like
# $\ln T$, Thompson far lowest. UCB1's bonus is conservative, so after 1000 steps it may still trail
# $\epsilon = 0.1$; its regret grows only logarithmically, so it passes every fixed-$\epsilon$ rule eventually.
# On the right, the same curves against $\ln t$: logarithmic regret is a straight line there.

# %%
def run_bernoulli(rule, n_runs=500, n_arms=5, n_steps=1000, seed=0):
    env = BernoulliBandit(n_runs=n_runs, n_arms=n_arms)
    _, info = env.reset(seed=seed)
    gen, rng = torch.Generator().manual_seed(seed + 1), np.random.default_rng(seed + 2)
    S = torch.zeros(n_runs, n_arms, dtype=torch.float64)
    Q = torch.zeros(n_runs, n_arms, dtype=torch.float64)
    N = torch.zeros(n_runs, n_arms, dtype=torch.long)
    history = torch.zeros(n_runs, n_steps, dtype=torch.long)
    for t in range(1, n_steps + 1):
        if rule == "thompson":
            actions = thompson_bernoulli_action(S, N.double() - S, rng)
        elif rule == "ucb":
            actions = ucb_action(Q, N, t, math.sqrt(2))
        else:
            u = torch.rand(n_runs, generator=gen, dtype=torch.float64)
            actions = epsilon_greedy_action(Q, rule, u, torch.randint(0, n_arms, (n_runs,), generator=gen))
        _, rewards, _, _, _ = env.step(actions)
        S[torch.arange(n_runs), actions] += rewards
        Q, N = sample_average_update(Q, N, actions, rewards)
        history[:, t - 1] = actions
    return cumulative_regret(info["q_star"], history).mean(dim=0)


def show_regret():
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for rule, name in [(0.0, "greedy"), (0.1, "epsilon = 0.1"), ("ucb", "UCB1"), ("thompson", "Thompson")]:
        regret = run_bernoulli(rule)
        steps = np.arange(1, len(regret) + 1)
        axes[0].plot(steps, regret.numpy(), label=name)
        axes[1].semilogx(steps, regret.numpy(), label=name)
        print(f"{name:14s} regret after 1000 steps: {regret[-1].item():6.1f}")
    axes[0].set(xlabel="step t", ylabel="average cumulative regret", title="5-armed Bernoulli bandit, 500 runs")
    axes[1].set(xlabel="step t (log scale)", ylabel="average cumulative regret")
    axes[0].legend()
    plt.tight_layout()
    plt.show()


try:
    show_regret()
except NotImplementedError:
    print("Implement the bandit exercises to see this demo.")

# %% [markdown]
# ### Interactive: exploration knobs
#
# Move $\epsilon$ and $c$ and watch the testbed (500 runs, 500 steps). Too little exploration and the rule locks
# onto a bad arm; too much and it keeps paying for information it already has.

# %%
def show_knobs(epsilon=0.1, c=2.0):
    try:
        r_eps, o_eps, ceiling = run_testbed(eps_greedy_rule(epsilon), n_runs=500, n_steps=500)
        r_ucb, o_ucb, _ = run_testbed(ucb_rule(c), n_runs=500, n_steps=500)
    except NotImplementedError:
        print("Implement the bandit exercises to use this demo.")
        return
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(r_eps.numpy(), lw=0.8, label=f"epsilon-greedy, epsilon = {epsilon:.2f}")
    ax.plot(r_ucb.numpy(), lw=0.8, label=f"UCB, c = {c:.1f}")
    ax.axhline(ceiling, ls=":", color="k")
    ax.set(xlabel="step", ylabel="average reward", ylim=(-0.5, 1.8))
    ax.legend(fontsize=8)
    plt.show()


interact(show_knobs, epsilon=(0.0, 0.5, 0.01), c=(0.0, 4.0, 0.1));

# %% [markdown]
# ## 4. Markov decision processes and the Bellman equations
#
# Now the action changes the state. An MDP has states $s$, actions $a$, transition probabilities
# $P(s' \mid s, a)$ and rewards; an episode may end (a goal, a hole, a cliff). The value of a policy $\pi$ is the
# expected discounted return $V^\pi(s) = \mathbb E_\pi[\sum_t \gamma^t r_t \mid s_0 = s]$ (Kaplan §8.1). Splitting off the
# first step gives the **Bellman expectation equation**, and for the best policy the **Bellman optimality
# equation** (Kaplan §8.3):
#
# $$V^\pi(s) = \sum_a \pi(a|s)\Big[R(s,a) + \gamma \sum_{s'} T(s,a,s')\,V^\pi(s')\Big], \qquad
#   V^*(s) = \max_a \Big[R(s,a) + \gamma \sum_{s'} T(s,a,s')\,V^*(s')\Big].$$
#
# **Our tensors.** gymnasium's toy-text environments expose their model as `env.unwrapped.P[s][a]`, a list of
# `(prob, next_state, reward, terminated)`. `course.envs.gridworld.transition_tensors(P)` turns it into
# - `R[s, a]` $= \sum \text{prob}\cdot\text{reward}$, the expected immediate reward, shape `(S, A)`;
# - `T[s, a, s2]`, the probability of moving to `s2` **and continuing**: transitions with `terminated=True` are
#   left out, so nothing is bootstrapped after the end of an episode. Rows of `T` sum to at most one.
#
# With these, the bracket above is the **action-value** $Q(s, a) = R(s,a) + \gamma\,(T V)(s, a)$, one `einsum`
# (`torch.einsum("sat,t->sa", T, V)`) or a matrix product `T @ V`.
#
# ### Exercise 7: `bellman_expectation_backup`
#
# Implement `bellman_expectation_backup(V, T, R, policy, gamma)`: `V` `(S,)`, `policy` `(S, A)` with rows summing to
# one; return the right-hand side of the expectation equation, shape `(S,)`.

# %% nbgrader={"grade": false, "grade_id": "bellman_expectation_backup", "locked": false, "schema_version": 3, "solution": true}
def bellman_expectation_backup(V, T, R, policy, gamma):
    """V'(s) = sum_a pi(a|s) (R[s, a] + gamma * sum_s2 T[s, a, s2] V[s2]).

    Args:
        V: (S,) values; T: (S, A, S) continuation probabilities; R: (S, A) expected rewards.
        policy: (S, A) action probabilities; gamma: discount factor.
    Returns:
        (S,) tensor.
    """
    ### BEGIN SOLUTION
    Q = R + gamma * torch.einsum("sat,t->sa", T, V)
    return (policy * Q).sum(dim=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_bellman_expectation_backup", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Two states, two actions. From state 0, action 0 moves to state 1 and action 1 stays; state 1 always ends.
T_small = torch.tensor([[[0.0, 1.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]], dtype=torch.float64)
R_small = torch.tensor([[0.0, 3.0], [5.0, 3.0]], dtype=torch.float64)
V_small = torch.tensor([2.0, 4.0], dtype=torch.float64)
# Q(0, .) = [0 + 0.5 * 4, 3 + 0.5 * 2] = [2, 4], Q(1, .) = [5, 3].
pi = torch.tensor([[0.25, 0.75], [1.0, 0.0]], dtype=torch.float64)
expect_close(bellman_expectation_backup(V_small, T_small, R_small, pi, 0.5), torch.tensor([3.5, 5.0], dtype=torch.float64),
             what="bellman_expectation_backup on the two-state example",
             hint="Average Q(s, a) = R + gamma * T @ V over the policy's action probabilities.")

# %% nbgrader={"grade": true, "grade_id": "test_bellman_expectation_backup_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("bellman_expectation_backup", bellman_expectation_backup)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 8: `bellman_optimality_backup`
#
# Implement `bellman_optimality_backup(V, T, R, gamma)`: the right-hand side of the optimality equation, the
# maximum over actions of $Q(s, a)$, shape `(S,)`.

# %% nbgrader={"grade": false, "grade_id": "bellman_optimality_backup", "locked": false, "schema_version": 3, "solution": true}
def bellman_optimality_backup(V, T, R, gamma):
    """V'(s) = max_a (R[s, a] + gamma * sum_s2 T[s, a, s2] V[s2]).

    Args:
        V: (S,) values; T: (S, A, S); R: (S, A); gamma: discount factor.
    Returns:
        (S,) tensor.
    """
    ### BEGIN SOLUTION
    return (R + gamma * torch.einsum("sat,t->sa", T, V)).max(dim=1).values
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_bellman_optimality_backup", "locked": true, "points": 1, "schema_version": 3, "solution": false}
T_small = torch.tensor([[[0.0, 1.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]], dtype=torch.float64)
R_small = torch.tensor([[0.0, 3.0], [5.0, 3.0]], dtype=torch.float64)
expect_close(bellman_optimality_backup(torch.tensor([2.0, 4.0], dtype=torch.float64), T_small, R_small, 0.5),
             torch.tensor([4.0, 5.0], dtype=torch.float64), what="bellman_optimality_backup on the two-state example",
             hint="Maximize over actions (dim 1) of R + gamma * T @ V.")
expect_close(bellman_optimality_backup(torch.tensor([2.0, 40.0], dtype=torch.float64), T_small, R_small, 0.5),
             torch.tensor([20.0, 5.0], dtype=torch.float64), what="bellman_optimality_backup with V = [2, 40]")

# %% nbgrader={"grade": true, "grade_id": "test_bellman_optimality_backup_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("bellman_optimality_backup", bellman_optimality_backup)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Dynamic programming: policy evaluation, value and policy iteration
#
# **Exact policy evaluation.** For a fixed policy the expectation equation is *linear* in $V$. With
# $P_\pi(s, s') = \sum_a \pi(a|s) T(s,a,s')$ and $r_\pi(s) = \sum_a \pi(a|s) R(s,a)$ it reads
# $V = r_\pi + \gamma P_\pi V$, that is
#
# $$(I - \gamma P_\pi)\,V^\pi = r_\pi .$$
#
# For $\gamma < 1$ the matrix is invertible: $\gamma P_\pi$ has row sums at most $\gamma$, so its spectral radius is
# below one. (For $\gamma = 1$ it is invertible exactly when the policy ends every episode with probability one.)
#
# **Value iteration.** Kaplan (§8.3) shows that the optimality backup $\mathcal T$ is a contraction in the max
# norm, $\|\mathcal T X - \mathcal T Y\|_\infty \le \gamma \|X - Y\|_\infty$, because the difference of two maxima is at
# most the largest difference. So iterating $V \leftarrow \mathcal T V$ from any start converges geometrically to the
# unique fixed point $V^*$; once the change of a sweep is below $\delta$, the distance to $V^*$ is at most
# $\gamma\delta/(1-\gamma)$.
#
# **Policy iteration** alternates exact evaluation with greedy improvement, $\pi(s) \leftarrow \arg\max_a Q^\pi(s,a)$.
# Each improvement cannot lower any value, and there are finitely many deterministic policies, so it stops
# after a few rounds, at the same $V^*$.
#
# ### Exercise 9: `policy_evaluation`
#
# Implement `policy_evaluation(T, R, policy, gamma)` by solving the linear system with `torch.linalg.solve`
# (build $P_\pi$ and $r_\pi$ first). Return $V^\pi$, shape `(S,)`.

# %% nbgrader={"grade": false, "grade_id": "policy_evaluation", "locked": false, "schema_version": 3, "solution": true}
def policy_evaluation(T, R, policy, gamma):
    """Exact V^pi from (I - gamma P_pi) V = r_pi.

    Args:
        T: (S, A, S); R: (S, A); policy: (S, A) action probabilities; gamma: discount factor.
    Returns:
        (S,) tensor.
    """
    ### BEGIN SOLUTION
    P_pi = torch.einsum("sa,sat->st", policy, T)
    r_pi = (policy * R).sum(dim=1)
    eye = torch.eye(T.shape[0], dtype=T.dtype, device=T.device)
    return torch.linalg.solve(eye - gamma * P_pi, r_pi)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_policy_evaluation", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# A state that loops on itself with reward 1 is worth 1 + 0.9 + 0.81 + ... = 10.
expect_close(policy_evaluation(torch.ones(1, 1, 1, dtype=torch.float64), torch.ones(1, 1, dtype=torch.float64),
                               torch.ones(1, 1, dtype=torch.float64), 0.9), torch.tensor([10.0], dtype=torch.float64),
             what="policy_evaluation of a self-loop with reward 1, gamma 0.9", hint="Solve (I - gamma P_pi) V = r_pi.")
# The two-state example: pi(0) = [0.25, 0.75] gives V(1) = 5 and V(0) = 0.25 * (0 + 0.5 * 5) + 0.75 * (3 + 0.5 * V(0)).
T_small = torch.tensor([[[0.0, 1.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]], dtype=torch.float64)
R_small = torch.tensor([[0.0, 3.0], [5.0, 3.0]], dtype=torch.float64)
pi = torch.tensor([[0.25, 0.75], [1.0, 0.0]], dtype=torch.float64)
expect_close(policy_evaluation(T_small, R_small, pi, 0.5), torch.tensor([2.875 / 0.625, 5.0], dtype=torch.float64),
             what="policy_evaluation on the two-state example",
             hint="P_pi[s, s2] = sum_a pi(a|s) T[s, a, s2]; r_pi[s] = sum_a pi(a|s) R[s, a].")

# %% nbgrader={"grade": true, "grade_id": "test_policy_evaluation_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("policy_evaluation", policy_evaluation)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 10: `value_iteration`
#
# Implement `value_iteration(T, R, gamma, tol=1e-10, max_iter=100000)`: start from $V = 0$ (dtype and device of `T`),
# apply `bellman_optimality_backup` until the largest absolute change of one sweep is below `tol` (or `max_iter`
# sweeps), and return the last $V$, shape `(S,)`.

# %% nbgrader={"grade": false, "grade_id": "value_iteration", "locked": false, "schema_version": 3, "solution": true}
def value_iteration(T, R, gamma, tol=1e-10, max_iter=100000):
    """V* by repeated optimality backups from V = 0.

    Args:
        T: (S, A, S); R: (S, A); gamma: discount factor.
        tol: stop when max |V_new - V| < tol; max_iter: the most sweeps.
    Returns:
        (S,) tensor.
    """
    ### BEGIN SOLUTION
    V = torch.zeros(T.shape[0], dtype=T.dtype, device=T.device)
    for _ in range(max_iter):
        V_new = bellman_optimality_backup(V, T, R, gamma)
        done = (V_new - V).abs().max().item() < tol
        V = V_new
        if done:
            break
    return V
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_value_iteration", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# State 0: action 0 moves to state 1 (reward 0), action 1 ends with reward 1. State 1: ends with reward 3 or 0.
# V*(1) = 3 and V*(0) = max(0 + 0.9 * 3, 1) = 2.7.
T_vi = torch.zeros(2, 2, 2, dtype=torch.float64)
T_vi[0, 0, 1] = 1.0
R_vi = torch.tensor([[0.0, 1.0], [3.0, 0.0]], dtype=torch.float64)
expect_close(value_iteration(T_vi, R_vi, 0.9), torch.tensor([2.7, 3.0], dtype=torch.float64),
             what="value_iteration on the two-state example", hint="Iterate the optimality backup from V = 0.")
# On a looping random MDP, the answer must be a fixed point of the backup.
gen = torch.Generator().manual_seed(0)
T_rand = torch.rand(6, 3, 6, generator=gen, dtype=torch.float64)
T_rand = 0.95 * T_rand / T_rand.sum(dim=2, keepdim=True)
R_rand = torch.randn(6, 3, generator=gen, dtype=torch.float64)
V_star = value_iteration(T_rand, R_rand, 0.9, tol=1e-12)
expect_close(bellman_optimality_backup(V_star, T_rand, R_rand, 0.9), V_star, what="backup(V*) versus V* on a random MDP",
             hint="Keep iterating until the largest change is below tol.")

# %% nbgrader={"grade": true, "grade_id": "test_value_iteration_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("value_iteration", value_iteration)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: value iteration and policy iteration agree
#
# Policy iteration, built from your `policy_evaluation` and a greedy step, against your `value_iteration`, on the
# course's small gridworld (`course.envs.gridworld.GridWorld`: slippery moves, a goal worth +1, a pit worth −1, a
# small cost per step) and on gymnasium's slippery FrozenLake, read straight from `env.unwrapped.P`.

# %%
import gymnasium as gym
from course.envs.gridworld import GridWorld, make_cliff_walking, transition_tensors


def greedy_policy(V, T, R, gamma):
    Q = R + gamma * torch.einsum("sat,t->sa", T, V)
    return torch.nn.functional.one_hot(Q.argmax(dim=1), R.shape[1]).to(T.dtype)


def policy_iteration(T, R, gamma, max_rounds=100):
    policy = torch.full(R.shape, 1.0 / R.shape[1], dtype=T.dtype)
    for rounds in range(1, max_rounds + 1):
        V = policy_evaluation(T, R, policy, gamma)
        new_policy = greedy_policy(V, T, R, gamma)
        if torch.equal(new_policy, policy):
            break
        policy = new_policy
    return V, policy, rounds


def show_dp():
    grid = GridWorld()
    lake = gym.make("FrozenLake-v1", is_slippery=True)
    arrows = np.array(["<", "v", ">", "^"])
    for name, P, gamma, shape in [("gridworld", grid.P, 0.95, (grid.n_rows, grid.n_cols)),
                                  ("FrozenLake 4x4", lake.unwrapped.P, 0.99, (4, 4))]:
        T, R = transition_tensors(P)
        V_vi = value_iteration(T, R, gamma)
        V_pi, policy, rounds = policy_iteration(T, R, gamma)
        print(f"{name}: policy iteration stopped after {rounds} rounds; "
              f"max |V_value_iteration - V_policy_iteration| = {(V_vi - V_pi).abs().max().item():.2e}")
        print(np.round(V_vi.numpy().reshape(shape), 3))
        print("\n".join(" ".join(row) for row in arrows[policy.argmax(dim=1).numpy()].reshape(shape)), "\n")


try:
    show_dp()
except NotImplementedError:
    print("Implement the dynamic-programming exercises to see this demo.")

# %% [markdown]
# On FrozenLake the optimal policy looks odd at first: in several cells it walks *away* from the goal, because on
# slippery ice an action moves you sideways two times out of three, and pointing at a wall is the only way never to
# slide into the hole next to you.
#
# ## 6. Learning from experience: TD(0), Sarsa and Q-learning
#
# Without the model $T, R$ we cannot take expectations, but we can **sample** them: every transition
# $(s, a, r, s')$ is one noisy draw of the Bellman right-hand side. Replace the expectation by this sample and
# move the estimate a step $\alpha$ towards it, exactly like the sample average of §1:
#
# $$\begin{aligned}
# \text{TD(0):}\quad & V(s) \leftarrow V(s) + \alpha\,\big[r + \gamma V(s') - V(s)\big],\\
# \text{Sarsa:}\quad & Q(s,a) \leftarrow Q(s,a) + \alpha\,\big[r + \gamma Q(s', a') - Q(s,a)\big],\\
# \text{Q-learning:}\quad & Q(s,a) \leftarrow Q(s,a) + \alpha\,\big[r + \gamma \max_{b} Q(s', b) - Q(s,a)\big].
# \end{aligned}$$
#
# The bracket is the **TD error** $\delta$: *target minus estimate*. **Mind the sign.** You will find these rules
# written in other places with the difference the other way round, $Q - \text{target}$, next to a plus sign. Such an
# update pushes the estimate *away* from its target: a value that is too small gets smaller, and the table diverges.
# The derivation settles it: the rule is one SGD step on $\frac12(\text{target} - Q)^2$ with the target held fixed
# (Kaplan §8.3 "stops the gradients" on it), whose gradient in $Q$ is $-(\text{target} - Q)$, so the step is
# $+\alpha(\text{target} - Q)$.
#
# **Ends of episodes.** When the transition ended the episode (`terminated=True`) there is no future: the target is
# $r$ alone. (A time-limit *truncation* is different: the state still had a future, so learners keep bootstrapping.)
#
# **On- and off-policy.** Sarsa uses the action $a'$ that the behaviour policy (say epsilon-greedy) actually takes
# next, so it learns the value of the policy it follows, exploration included. Q-learning uses $\max_b$, the
# greedy action, whatever is done next: it learns $Q^*$ while behaving differently.
#
# All three functions take one transition and return a **new** table (clone, then change one entry), with `s`,
# `a`, `s_next`, `a_next` Python ints, `r` a float and `terminated` a bool.
#
# ### Exercise 11: `td0_update`

# %% nbgrader={"grade": false, "grade_id": "td0_update", "locked": false, "schema_version": 3, "solution": true}
def td0_update(V, s, r, s_next, terminated, alpha, gamma):
    """V[s] += alpha * (r + gamma * V[s_next] - V[s]); the target is r when terminated.

    Args:
        V: (S,) value table; s, s_next: ints; r: float; terminated: bool; alpha, gamma: floats.
    Returns:
        a new (S,) tensor.
    """
    ### BEGIN SOLUTION
    target = r + (0.0 if terminated else gamma * V[s_next])
    V_new = V.clone()
    V_new[s] = V[s] + alpha * (target - V[s])
    return V_new
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_td0_update", "locked": true, "points": 1, "schema_version": 3, "solution": false}
V = torch.tensor([1.0, 2.0], dtype=torch.float64)
expect_close(td0_update(V, 0, 2.0, 1, False, 0.5, 0.5), torch.tensor([2.0, 2.0], dtype=torch.float64),
             what="td0_update(V=[1, 2], s=0, r=2, s_next=1, alpha=0.5, gamma=0.5)",
             hint="Target r + gamma * V[s_next] = 3; V[s] moves halfway towards it: V += alpha * (target - V).")
expect_close(td0_update(V, 0, 2.0, 1, True, 0.5, 0.5), torch.tensor([1.5, 2.0], dtype=torch.float64),
             what="td0_update with terminated=True", hint="No bootstrap after the end of an episode: the target is r.")
expect_close(V, torch.tensor([1.0, 2.0], dtype=torch.float64), what="V after the calls", hint="Return a new tensor.")

# %% nbgrader={"grade": true, "grade_id": "test_td0_update_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("td0_update", td0_update)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **Demo: TD(0) finds $V^\pi$.** The uniformly random policy on the gridworld, evaluated from sampled episodes with
# your `td0_update`, against the exact `policy_evaluation`.

# %%
def show_td0(n_episodes=300, alpha=0.05, gamma=0.9, seed=0):
    grid = GridWorld()
    T, R = transition_tensors(grid.P)
    uniform = torch.full((grid.n_states, 4), 0.25, dtype=torch.float64)
    V_exact = policy_evaluation(T, R, uniform, gamma)
    rng = np.random.default_rng(seed)
    V = torch.zeros(grid.n_states, dtype=torch.float64)
    errors = []
    for episode in range(n_episodes):
        s, _ = grid.reset(seed=seed + episode)
        while True:
            s2, r, terminated, truncated, _ = grid.step(int(rng.integers(4)))
            V = td0_update(V, s, r, s2, terminated, alpha, gamma)
            s = s2
            if terminated or truncated:
                break
        errors.append((V - V_exact).abs().max().item())
    plt.figure(figsize=(6, 3))
    plt.plot(errors)
    plt.gca().set(xlabel="episode", ylabel="max |V_TD - V_pi|", title=f"TD(0), alpha = {alpha}")
    plt.show()
    print("exact V_pi:\n", np.round(V_exact.numpy().reshape(3, 4), 2), "\nTD(0):\n", np.round(V.numpy().reshape(3, 4), 2))


try:
    show_td0()
except NotImplementedError:
    print("Implement td0_update and policy_evaluation to see this demo.")

# %% [markdown]
# ### Exercise 12: `sarsa_update`

# %% nbgrader={"grade": false, "grade_id": "sarsa_update", "locked": false, "schema_version": 3, "solution": true}
def sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):
    """Q[s, a] += alpha * (r + gamma * Q[s_next, a_next] - Q[s, a]); the target is r when terminated.

    Args:
        Q: (S, A) table; s, a, s_next, a_next: ints; r: float; terminated: bool; alpha, gamma: floats.
    Returns:
        a new (S, A) tensor.
    """
    ### BEGIN SOLUTION
    target = r + (0.0 if terminated else gamma * Q[s_next, a_next])
    Q_new = Q.clone()
    Q_new[s, a] = Q[s, a] + alpha * (target - Q[s, a])
    return Q_new
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sarsa_update", "locked": true, "points": 1, "schema_version": 3, "solution": false}
Q = torch.tensor([[0.0, 1.0], [4.0, 2.0]], dtype=torch.float64)
expect_close(sarsa_update(Q, 0, 0, 1.0, 1, 1, False, 0.5, 1.0), torch.tensor([[1.5, 1.0], [4.0, 2.0]], dtype=torch.float64),
             what="sarsa_update(Q, s=0, a=0, r=1, s_next=1, a_next=1, alpha=0.5, gamma=1)",
             hint="Sarsa's target uses the next action actually taken: r + gamma * Q[s_next, a_next] = 3.")
expect_close(sarsa_update(Q, 0, 0, 1.0, 1, 1, True, 0.5, 1.0), torch.tensor([[0.5, 1.0], [4.0, 2.0]], dtype=torch.float64),
             what="sarsa_update with terminated=True", hint="The target is r alone at the end of an episode.")

# %% nbgrader={"grade": true, "grade_id": "test_sarsa_update_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("sarsa_update", sarsa_update)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 13: `q_learning_update`

# %% nbgrader={"grade": false, "grade_id": "q_learning_update", "locked": false, "schema_version": 3, "solution": true}
def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):
    """Q[s, a] += alpha * (r + gamma * max_b Q[s_next, b] - Q[s, a]); the target is r when terminated.

    Args:
        Q: (S, A) table; s, a, s_next: ints; r: float; terminated: bool; alpha, gamma: floats.
    Returns:
        a new (S, A) tensor.
    """
    ### BEGIN SOLUTION
    target = r + (0.0 if terminated else gamma * Q[s_next].max())
    Q_new = Q.clone()
    Q_new[s, a] = Q[s, a] + alpha * (target - Q[s, a])
    return Q_new
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_q_learning_update", "locked": true, "points": 1, "schema_version": 3, "solution": false}
Q = torch.tensor([[0.0, 1.0], [4.0, 2.0]], dtype=torch.float64)
expect_close(q_learning_update(Q, 0, 1, 1.0, 1, False, 0.5, 1.0), torch.tensor([[0.0, 3.0], [4.0, 2.0]], dtype=torch.float64),
             what="q_learning_update(Q, s=0, a=1, r=1, s_next=1, alpha=0.5, gamma=1)",
             hint="Target r + gamma * max_b Q[s_next, b] = 5 (the best next action, not a = 1); then Q += alpha * (target - Q).")
expect_close(q_learning_update(Q, 0, 0, 1.0, 1, True, 0.5, 1.0), torch.tensor([[0.5, 1.0], [4.0, 2.0]], dtype=torch.float64),
             what="q_learning_update with terminated=True", hint="The target is r alone at the end of an episode.")
expect_close(Q, torch.tensor([[0.0, 1.0], [4.0, 2.0]], dtype=torch.float64), what="Q after the calls", hint="Return a new tensor.")

# %% nbgrader={"grade": true, "grade_id": "test_q_learning_update_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("q_learning_update", q_learning_update)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: walking along the cliff
#
# gymnasium's CliffWalking (`make_cliff_walking()` picks the id your gymnasium version registers): a 4 × 12 grid,
# start bottom left, goal bottom right, the cells between them are a cliff (reward −100 and back to the start),
# every step costs −1. Both learners behave epsilon-greedily with $\epsilon = 0.1$, $\alpha = 0.5$, $\gamma = 1$.
# Q-learning learns the optimal path right along the cliff edge, but while exploring it falls off now and then, so
# its *online* return is worse. Sarsa learns the value of the exploring policy, for which the edge is dangerous,
# and takes the safe path along the top.

# %%
def train_cliff(update, n_episodes=400, alpha=0.5, epsilon=0.1, seed=0):
    env = make_cliff_walking()
    rng = np.random.default_rng(seed)
    Q = torch.zeros(48, 4, dtype=torch.float64)
    returns = []

    def act(s):
        return int(rng.integers(4)) if rng.random() < epsilon else int(Q[s].argmax())

    for episode in range(n_episodes):
        s, _ = env.reset(seed=seed + episode)
        a, total = act(s), 0.0
        for _ in range(500):
            s2, r, terminated, truncated, _ = env.step(a)
            a2 = act(s2)
            if update == "sarsa":
                Q = sarsa_update(Q, s, a, r, s2, a2, terminated, alpha, 1.0)
            else:
                Q = q_learning_update(Q, s, a, r, s2, terminated, alpha, 1.0)
            total += r
            s, a = s2, a2
            if terminated or truncated:
                break
        returns.append(total)
    return Q, np.array(returns)


def greedy_path(Q, start=36, goal=47):
    P = make_cliff_walking().unwrapped.P
    path, s = [start], start
    for _ in range(60):
        _, s, _, _ = P[s][int(Q[s].argmax())][0]
        path.append(s)
        if s == goal:
            break
    return path


def show_cliff():
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.6))
    grid = np.zeros((4, 12))
    grid[3, 1:11] = 1
    axes[1].imshow(grid, cmap="Reds", alpha=0.5)
    for name, color, offset in [("sarsa", "tab:blue", -0.1), ("q_learning", "tab:orange", 0.1)]:
        Q, returns = train_cliff(name)
        smooth = np.convolve(returns, np.ones(20) / 20, mode="valid")
        axes[0].plot(smooth, color=color, label=name)
        path = np.array(greedy_path(Q))
        axes[1].plot(path % 12, path // 12 + offset, "o-", color=color, label=f"{name} greedy path")
        print(f"{name:10s} mean online return over the last 100 episodes: {returns[-100:].mean():7.1f}; "
              f"greedy path length {len(path) - 1}")
    axes[0].set(xlabel="episode", ylabel="return (20-episode average)", ylim=(-120, 0), title="online return")
    axes[0].legend()
    axes[1].set(title="greedy paths (cliff in red)", xticks=range(12), yticks=range(4))
    axes[1].legend(fontsize=8, loc="upper center")
    plt.tight_layout()
    plt.show()


try:
    show_cliff()
except NotImplementedError:
    print("Implement sarsa_update and q_learning_update to see this demo.")

# %% [markdown]
# ### Demo: a Q-table for CartPole
#
# CartPole's state is four real numbers; a table needs finitely many states, so we cut each coordinate into bins
# (none for the cart position, 3 for its velocity, 6 for the pole angle, 6 for its angular velocity: 108 states) and
# run your `q_learning_update` with a decaying epsilon. A few hundred episodes take a few seconds and already
# balance the pole several times longer than random play, which lasts about 22 steps. Coarse bins lose
# information: the learned policy is good, not perfect, which is the motivation for the neural Q-functions of the
# next chapter.

# %%
CART_BINS = [np.array([]), np.array([-0.5, 0.5]), np.linspace(-0.2, 0.2, 7)[1:-1], np.linspace(-1.5, 1.5, 7)[1:-1]]
N_CART_STATES = int(np.prod([len(b) + 1 for b in CART_BINS]))


def cart_state(obs):
    index = 0
    for value, bins in zip(obs, CART_BINS):
        index = index * (len(bins) + 1) + int(np.searchsorted(bins, value))
    return index


def episode_lengths(policy, n_episodes, seed):
    env = gym.make("CartPole-v1")
    lengths = []
    for episode in range(n_episodes):
        obs, _ = env.reset(seed=seed + episode)
        for steps in range(1, 501):
            obs, _, terminated, truncated, _ = env.step(policy(obs))
            if terminated or truncated:
                break
        lengths.append(steps)
    return np.array(lengths)


def train_cartpole(n_episodes=300, alpha=0.2, gamma=0.99, seed=0):
    env = gym.make("CartPole-v1")
    rng = np.random.default_rng(seed)
    Q = torch.zeros(N_CART_STATES, 2, dtype=torch.float64)
    lengths = []
    for episode in range(n_episodes):
        epsilon = max(0.02, 1.0 - episode / 150)
        obs, _ = env.reset(seed=10_000 * (seed + 1) + episode)
        s = cart_state(obs)
        for steps in range(1, 501):
            a = int(rng.integers(2)) if rng.random() < epsilon else int(Q[s].argmax())
            obs, r, terminated, truncated, _ = env.step(a)
            s2 = cart_state(obs)
            Q = q_learning_update(Q, s, a, r, s2, terminated, alpha, gamma)
            s = s2
            if terminated or truncated:
                break
        lengths.append(steps)
    return Q, np.array(lengths)


def show_cartpole():
    Q, lengths = train_cartpole()
    rng = np.random.default_rng(1)
    random_lengths = episode_lengths(lambda obs: int(rng.integers(2)), 50, seed=500)
    greedy_lengths = episode_lengths(lambda obs: int(Q[cart_state(obs)].argmax()), 20, seed=900)
    plt.figure(figsize=(6.5, 3.2))
    plt.plot(lengths, lw=0.6, label="training episodes (epsilon-greedy)")
    plt.axhline(random_lengths.mean(), color="k", ls=":", label="random policy")
    plt.gca().set(xlabel="episode", ylabel="episode length", title="tabular Q-learning on CartPole")
    plt.legend(fontsize=8)
    plt.show()
    print(f"random policy: {random_lengths.mean():.1f} steps on average; "
          f"greedy Q-table policy: {greedy_lengths.mean():.1f} steps on average")


try:
    show_cartpole()
except NotImplementedError:
    print("Implement q_learning_update to see this demo.")

# %% [markdown]
# ## What you built
#
# - `sample_average_update`: estimate += (target − estimate) / n, the pattern behind every update in this chapter.
# - `epsilon_greedy_action`, `ucb_action`: exploration at random, or where optimism says it may pay; the testbed's
#   classic curves (greedy ≈ 1.0, $\epsilon = 0.1$ ≈ 1.35-1.4, UCB above with its spike at step 11).
# - `thompson_bernoulli_action`, `thompson_gaussian_action`: play each arm with the posterior probability that it is
#   best; `cumulative_regret`: linear regret for fixed exploration, logarithmic for UCB and Thompson.
# - `bellman_expectation_backup`, `bellman_optimality_backup`, `policy_evaluation`, `value_iteration`: dynamic
#   programming on a known model; value and policy iteration agree, on FrozenLake too.
# - `td0_update`, `sarsa_update`, `q_learning_update`: the same backups from sampled transitions, with the sign
#   that moves towards the target and no bootstrap past the end of an episode; on- versus off-policy on the cliff,
#   and a Q-table that balances CartPole.
#
# **Next:** chapter 16 replaces the tables with neural networks: policy gradients, deep Q-learning with its
# target networks, and self-play.
