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
# - Derive the UCB bonus from Hoeffding's inequality, the Bellman equations from the first step of the return,
#   and the TD targets as one-sample estimates of them.
# - Write TD(0), Sarsa and Q-learning updates with the right sign and make a Q-learning agent walk CliffWalking's
#   optimal path (graded on the grader's own rollout); see why the on-policy learner walks the safe path; then
#   discretize CartPole and learn it with a Q-table.
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
from course.envs.gridworld import make_cliff_walking

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
             hint="Each estimate must be the mean of the rewards seen so far: the step size is one over the "
                  "count that INCLUDES this pull.")
expect_close(N2, torch.tensor([[2, 0, 0], [1, 0, 1]]), what="N after two pulls per run")
expect_close(Q0, torch.zeros(2, 3, dtype=torch.float64), what="Q0 after the calls",
             hint="Work on clones; do not modify the inputs in place.")

# %% nbgrader={"grade": true, "grade_id": "test_sample_average_update_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
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

# %% nbgrader={"grade": true, "grade_id": "test_epsilon_greedy_action_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("epsilon_greedy_action", epsilon_greedy_action)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **Upper confidence bounds.** Instead of exploring blindly, explore where the arm *could* still be good. Keep
# an optimistic bound for each arm, its estimate plus a bonus that shrinks as the arm is pulled, and play the
# arm with the largest bound (the slides' $Q + c\,\sigma$): $a_t = \arg\max_k \big(Q(k) + c\,u_t(k)\big)$.
#
# **Where the bonus comes from.** The width $u$ is how far above the sample mean the true mean may still
# plausibly lie. Hoeffding's inequality answers it: the mean of $n$ independent rewards in $[0, 1]$ exceeds the
# true mean by more than $u$ with probability at most $e^{-2nu^2}$. We pick the width $u_t(k)$ for which this
# failure probability, with $n = N(k)$ pulls, equals $t^{-2}$: a bound that fails ever more rarely as time goes
# on, but never with probability zero. **Your derivation:** solve for $u_t(k)$ (the factor 2 in the exponent
# ends up absorbed in the constant $c$ of UCB1's $\sqrt{2\ln t / n}$; keep exactly the width you derive and
# multiply it by `c`). Then check the two properties that make UCB work: the width shrinks with $N(k)$, and for
# an arm that is not played it slowly *grows* with $t$.
#
# <details><summary>Hint 1: the equation to solve</summary>
#
# Set Hoeffding's bound equal to the failure probability you want: $e^{-2 N(k) u^2} = t^{-2}$. Take logarithms
# of both sides.
# </details>
#
# <details><summary>Hint 2: solving it</summary>
#
# $-2N(k)u^2 = -2\ln t$, so $u^2 = \ln t / N(k)$. The natural logarithm, since the exponential is base $e$.
# </details>
#
# <details><summary>Hint 3: the rule</summary>
#
# $a_t = \arg\max_k \Big(Q(k) + c\sqrt{\ln t \,/\, N(k)}\Big)$: the width is the square root of the whole ratio.
# </details>
#
# An arm with $N(k) = 0$ has an infinite width: **untried arms are played first**, the lowest index first.
# Here `t` is the number of the step being decided, starting at 1 (so $t-1$ pulls happened before it). A bad
# arm is then pulled only $O(\ln T)$ times, and the regret grows logarithmically.
#
# ### Exercise 3: `ucb_action`
#
# Implement `ucb_action(Q, N, t, c)` for a batch of runs: a run with an untried arm plays its lowest-index
# untried arm; otherwise it plays the arm with the largest bound $Q(k) + c\,u_t(k)$, with the width you derived
# (ties to the lowest index). Avoid dividing by zero (for instance give untried arms the score `inf` with
# `torch.where`).

# %% nbgrader={"grade": false, "grade_id": "ucb_action", "locked": false, "schema_version": 3, "solution": true}
def ucb_action(Q, N, t, c):
    """UCB: untried arms first, else the arm with the largest upper confidence bound.

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
# Run 0 has an untried arm; in run 1 the arm pulled once has the wider bound and wins although its estimate
# is lower; in run 2 both arms were pulled equally often, so the better estimate wins.
Q = torch.tensor([[1.0, 0.5], [1.0, 0.9], [0.3, 0.2]], dtype=torch.float64)
N = torch.tensor([[3, 0], [10, 1], [4, 4]])
expect_close(ucb_action(Q, N, 12, 1.0), torch.tensor([1, 1, 0]), what="ucb_action(Q, N, t=12, c=1)",
             hint="Untried arms first; then the bound: estimate plus c times the Hoeffding width, which "
                  "grows like the square root of ln t and shrinks like one over the square root of N.")
expect_close(ucb_action(torch.zeros(1, 3, dtype=torch.float64), torch.tensor([[1, 0, 0]]), 2, 2.0), torch.tensor([1]),
             what="ucb_action with arms 1 and 2 untried", hint="Play the lowest-index untried arm.")

# %% nbgrader={"grade": true, "grade_id": "test_ucb_action_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
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
# ### Concept question 1: `concept_exploration`
# In the testbed the greedy rule levels off near 1.0 while $\epsilon = 0.1$ reaches about 1.35, although greedy
# always plays the arm it currently believes is best. Why does greedy do worse? Return the letter.
#
# - **a.** An arm whose first rewards were unlucky looks bad and is never played again, so its estimate is never
#   corrected: in many runs greedy locks onto a suboptimal arm for good.
# - **b.** The sample average is a biased estimate of an arm's mean, and greedy play amplifies the bias.
# - **c.** Random arms pay more on average than the arm that looks best, so exploring earns more per step.
# - **d.** Greedy finds the best arm too in the end; 1000 steps are simply too few for it to catch up.
#

# %% nbgrader={"grade": false, "grade_id": "concept_exploration", "locked": false, "schema_version": 3, "solution": true}
def concept_exploration():
    """Return your answer as one letter: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "a"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_exploration", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(concept_exploration() in ("a", "b", "c", "d"), "concept_exploration() must return one of 'a', 'b', 'c', 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_concept_exploration_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# The answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_exploration", concept_exploration)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
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
# $\mu_k \sim \mathcal N(m_0, s_0^2)$, the posterior after $n$ rewards $r_1, \dots, r_n$ summing to $S$ is again
# Gaussian. **Your derivation:** find its precision (one over the variance) and its mean in terms of
# $m_0, s_0^2, \sigma^2, n, S$; a posterior draw is then $\tilde\mu_k = \text{mean} + z_k/\sqrt{\text{precision}}$
# with $z_k \sim \mathcal N(0, 1)$.
#
# <details><summary>Hint 1: work with the log-density</summary>
#
# $\log p(\mu \mid r) = -\frac{(\mu - m_0)^2}{2 s_0^2} - \sum_i \frac{(r_i - \mu)^2}{2\sigma^2} + \text{const}$.
# A Gaussian $\mathcal N(m, 1/\lambda)$ has log-density $-\frac{\lambda}{2}\mu^2 + \lambda m\,\mu + \text{const}$:
# read off the coefficients of $\mu^2$ and $\mu$.
# </details>
#
# <details><summary>Hint 2: the coefficient of $\mu^2$</summary>
#
# Collect the $\mu^2$ terms: $-\frac12\big(\frac{1}{s_0^2} + \frac{n}{\sigma^2}\big)\mu^2$. Precisions add: the
# prior contributes $1/s_0^2$, each reward $1/\sigma^2$.
# </details>
#
# <details><summary>Hint 3: the result</summary>
#
# $\lambda = \frac{1}{s_0^2} + \frac{n}{\sigma^2}$ and $m = \big(\frac{m_0}{s_0^2} + \frac{S}{\sigma^2}\big)/\lambda$:
# a precision-weighted average of the prior mean and the rewards.
# </details>
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
# compute each arm's posterior precision and mean as you derived them, form the posterior samples
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
# Run 0: arm 0 (three rewards summing to 3) has posterior N(0.75, 1/4); arm 1 is still the prior N(0, 1).
# Run 1: nothing seen from arm 0; arm 1 saw three rewards summing to 0, so its draw is squeezed towards 0.
sums = torch.tensor([[3.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
n = torch.tensor([[3.0, 0.0], [0.0, 3.0]], dtype=torch.float64)
z = torch.tensor([[0.0, 0.5], [0.4, 1.0]], dtype=torch.float64)
expect_close(thompson_gaussian_action(sums, n, z), torch.tensor([0, 1]), what="thompson_gaussian_action (standard prior)",
             hint="Precisions add (the prior's and one per reward), the posterior mean is a precision-weighted "
                  "average, and the draw is scaled by the posterior STANDARD DEVIATION.")
expect_close(thompson_gaussian_action(torch.tensor([[2.0, 2.5]], dtype=torch.float64), torch.tensor([[1.0, 1.0]], dtype=torch.float64),
                                      torch.zeros(1, 2, dtype=torch.float64), prior_mean=4.0, prior_var=1.0, noise_var=0.25),
             torch.tensor([1]), what="thompson_gaussian_action with prior_mean 4, noise_var 0.25")

# %% nbgrader={"grade": true, "grade_id": "test_thompson_gaussian_action_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
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

# %% nbgrader={"grade": true, "grade_id": "test_cumulative_regret_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
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
# ### Concept question 2: `concept_optimism`
# UCB always plays the arm with the largest *optimistic* bound. Why does this optimism not make it keep pulling
# bad arms at a fixed rate? Return the letter.
#
# - **a.** The bonus is the same for every arm, so the choice is the same as greedy's and no bad arm is pulled.
# - **b.** The bonus shrinks as $t$ grows, so after a while UCB stops exploring altogether.
# - **c.** A bad arm is only chosen while its bound is high because of few pulls; each pull shrinks its width
#   and pulls its estimate towards its low true mean, so either the pull teaches something or the bound was
#   right and the pull was cheap.
# - **d.** It does pull bad arms at a fixed rate, like epsilon-greedy; it is only better in the first steps.
#

# %% nbgrader={"grade": false, "grade_id": "concept_optimism", "locked": false, "schema_version": 3, "solution": true}
def concept_optimism():
    """Return your answer as one letter: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_optimism", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(concept_optimism() in ("a", "b", "c", "d"), "concept_optimism() must return one of 'a', 'b', 'c', 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_concept_optimism_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# The answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_optimism", concept_optimism)
assert _result.passed, _result.message
### END HIDDEN TESTS

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
# first step gives the **Bellman expectation equation**, a relation between $V^\pi(s)$ and the values of the
# states one step later; for the best policy it becomes the **Bellman optimality equation** (Kaplan §8.3).
# **Your derivation** (the two exercises below are its right-hand sides): write $V^\pi(s)$ as the expected first
# reward plus the discounted value of where you land, in terms of $\pi(a|s)$, $R(s,a)$ and $T(s,a,s')$ (defined
# in the next paragraph); then say what changes when the policy is the best one.
#
# <details><summary>Hint 1: split the return</summary>
#
# The return from step 0 is $G_0 = r_0 + \gamma G_1$, where $G_1$ is the return from step 1 on. Condition on
# the first action $a \sim \pi(\cdot|s)$ and on the next state $s'$.
# </details>
#
# <details><summary>Hint 2: the Markov property</summary>
#
# Given $s_1 = s'$, the future does not depend on how you got there: $\mathbb E[G_1 \mid s_1 = s'] = V^\pi(s')$.
# An episode that ended has no future, which is why $T$ below leaves ending transitions out.
# </details>
#
# <details><summary>Hint 3: both equations</summary>
#
# $V^\pi(s) = \sum_a \pi(a|s)\big[R(s,a) + \gamma \sum_{s'} T(s,a,s')\,V^\pi(s')\big]$. The best policy puts all
# its weight on the action with the largest bracket: $V^*(s) = \max_a \big[R(s,a) + \gamma \sum_{s'} T(s,a,s')\,V^*(s')\big]$.
# </details>
#
# **Our tensors.** gymnasium's toy-text environments expose their model as `env.unwrapped.P[s][a]`, a list of
# `(prob, next_state, reward, terminated)`. `course.envs.gridworld.transition_tensors(P)` turns it into
# - `R[s, a]` $= \sum \text{prob}\cdot\text{reward}$, the expected immediate reward, shape `(S, A)`;
# - `T[s, a, s2]`, the probability of moving to `s2` **and continuing**: transitions with `terminated=True` are
#   left out, so nothing is bootstrapped after the end of an episode. Rows of `T` sum to at most one.
#
# With these, the expected first reward plus the discounted value of the landing state, for a given first
# action, is the **action-value** $Q(s, a)$ of that action: one `einsum` or one matrix product over $s'$.
#
# ### Exercise 7: `bellman_expectation_backup`
#
# Implement `bellman_expectation_backup(V, T, R, policy, gamma)`: `V` `(S,)`, `policy` `(S, A)` with rows summing to
# one; return the right-hand side of the expectation equation you derived, shape `(S,)`.

# %% nbgrader={"grade": false, "grade_id": "bellman_expectation_backup", "locked": false, "schema_version": 3, "solution": true}
def bellman_expectation_backup(V, T, R, policy, gamma):
    """One Bellman expectation backup: the right-hand side of the equation for V^pi, evaluated at V.

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
             hint="First the value of each first action (reward now, discounted value of where it leads), "
                  "then its average under the policy.")

# %% nbgrader={"grade": true, "grade_id": "test_bellman_expectation_backup_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
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
    """One Bellman optimality backup: the right-hand side of the equation for V*, evaluated at V.

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
             hint="The best policy takes the best action: a maximum over ACTIONS of the action values.")
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
# **Exact policy evaluation.** For a fixed policy the expectation equation is *linear* in $V$: $S$ equations in
# $S$ unknowns. **Your derivation:** write it as one matrix equation $A\,V^\pi = b$ and name $A$ and $b$.
#
# <details><summary>Hint 1: average over the policy first</summary>
#
# Pull the policy's average inside: define the state-to-state matrix $P_\pi(s, s') = \sum_a \pi(a|s) T(s,a,s')$ (where
# the policy takes you, averaged over its actions) and the vector $r_\pi(s) = \sum_a \pi(a|s) R(s,a)$.
# </details>
#
# <details><summary>Hint 2: the system</summary>
#
# The equation reads $V = r_\pi + \gamma P_\pi V$, that is $(I - \gamma P_\pi)\,V^\pi = r_\pi$.
# </details>
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
# Implement `policy_evaluation(T, R, policy, gamma)` by solving the linear system you derived with
# `torch.linalg.solve` (no iteration). Return $V^\pi$, shape `(S,)`.

# %% nbgrader={"grade": false, "grade_id": "policy_evaluation", "locked": false, "schema_version": 3, "solution": true}
def policy_evaluation(T, R, policy, gamma):
    """Exact V^pi, the solution of the linear Bellman expectation equation.

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
             what="policy_evaluation of a self-loop with reward 1, gamma 0.9",
             hint="V must satisfy the expectation equation exactly: it is a LINEAR system in V.")
# The two-state example: pi(0) = [0.25, 0.75] gives V(1) = 5 and V(0) = 0.25 * (0 + 0.5 * 5) + 0.75 * (3 + 0.5 * V(0)).
T_small = torch.tensor([[[0.0, 1.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]], dtype=torch.float64)
R_small = torch.tensor([[0.0, 3.0], [5.0, 3.0]], dtype=torch.float64)
pi = torch.tensor([[0.25, 0.75], [1.0, 0.0]], dtype=torch.float64)
expect_close(policy_evaluation(T_small, R_small, pi, 0.5), torch.tensor([2.875 / 0.625, 5.0], dtype=torch.float64),
             what="policy_evaluation on the two-state example",
             hint="Average both the transitions and the rewards over the policy's action probabilities before "
                  "solving.")

# %% nbgrader={"grade": true, "grade_id": "test_policy_evaluation_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
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
# $(s, a, r, s')$ is one noisy draw of a Bellman right-hand side. Replace the expectation by this one sample, the
# **TD target**, and move the estimate a step $\alpha$ towards it, exactly like the sample average of §1:
# *estimate ← estimate + α (target − estimate)*. The difference *target − estimate* is the **TD error** $\delta$.
# Three learners come from three Bellman equations:
# - **TD(0)** estimates $V^\pi$ of the policy being followed, from the expectation equation for $V$;
# - **Sarsa** (named after the quintuple $s, a, r, s', a'$ it uses) estimates $Q^\pi$, from the expectation
#   equation written for action values;
# - **Q-learning** estimates $Q^*$, from the optimality equation written for action values.
#
# **Your derivation:** write each learner's TD target.
#
# <details><summary>Hint 1: the equations for action values</summary>
#
# Condition on the first action too: $Q^\pi(s,a) = R(s,a) + \gamma\,\mathbb E_{s'}\big[\sum_{a'} \pi(a'|s')\,Q^\pi(s',a')\big]$,
# and $Q^*(s,a) = R(s,a) + \gamma\,\mathbb E_{s'}\big[\max_{a'} Q^*(s',a')\big]$.
# </details>
#
# <details><summary>Hint 2: one sample of each expectation</summary>
#
# The observed reward $r$ stands in for $R(s,a)$ and the observed $s'$ for the average over next states. The
# average over $\pi(\cdot|s')$ is sampled by the action the agent *actually takes* next, $a'$. A maximum needs
# no sample: it can be computed from the table.
# </details>
#
# <details><summary>Hint 3: the three targets</summary>
#
# TD(0): $r + \gamma V(s')$. Sarsa: $r + \gamma Q(s', a')$. Q-learning: $r + \gamma \max_b Q(s', b)$.
# After a transition that ended the episode, all three are $r$ alone.
# </details>
#
# **Mind the sign.** You will find these rules written in other places with the difference the other way round,
# *estimate − target*, next to a plus sign. Such an update pushes the estimate *away* from its target: a value that
# is too small gets smaller, and the table diverges. The derivation settles it: the rule is one SGD step on
# $\frac12(\text{target} - \text{estimate})^2$ with the target held fixed (Kaplan §8.3 "stops the gradients" on it),
# whose gradient in the estimate is $-(\text{target} - \text{estimate})$, so the step is $+\alpha(\text{target} - \text{estimate})$.
#
# **Ends of episodes.** When the transition ended the episode (`terminated=True`) there is no future: the target is
# $r$ alone. (A time-limit *truncation* is different: the state still had a future, so learners keep bootstrapping.)
#
# All three functions take one transition and return a **new** table (clone, then change one entry), with `s`,
# `a`, `s_next`, `a_next` Python ints, `r` a float and `terminated` a bool.
#
# ### Exercise 11: `td0_update`

# %% nbgrader={"grade": false, "grade_id": "td0_update", "locked": false, "schema_version": 3, "solution": true}
def td0_update(V, s, r, s_next, terminated, alpha, gamma):
    """One TD(0) update of V[s] from the transition (s, r, s_next); no bootstrap when terminated.

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
             hint="The target is this reward plus the discounted value of the state reached (here 3); with "
                  "alpha = 0.5 the estimate moves halfway TOWARDS it.")
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
    """One Sarsa update of Q[s, a] from the transition (s, a, r, s_next, a_next); no bootstrap when terminated.

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
             hint="Sarsa's target samples the next action: it uses the value of the action actually taken "
                  "next (here 3), not the best one.")
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
    """One Q-learning update of Q[s, a] from the transition (s, a, r, s_next); no bootstrap when terminated.

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
             hint="Q-learning's target uses the BEST value of the next state (here 5), whatever action is "
                  "taken there; then the estimate moves a step alpha towards it.")
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
# ## 7. Make it work: Sarsa and Q-learning on the cliff
#
# gymnasium's CliffWalking (`make_cliff_walking()` picks the id your gymnasium version registers): a 4 × 12 grid,
# start bottom left (state 36), goal bottom right (state 47), the cells between them are a cliff (reward −100 and
# back to the start), every step costs −1, and reaching the goal ends the episode. The shortest path runs right
# along the cliff edge: 13 steps, return −13.
#
# ### Exercise 14: `td_control` (the graded make-it-work task)
#
# Write `td_control(update, n_episodes=200, alpha=0.5, epsilon=0.1, gamma=1.0, seed=0, max_steps=500)`, the
# learning loop around your updates. `update` is `"sarsa"` or `"q_learning"`. Build the environment with
# `make_cliff_walking()`, start from a zero `float64` table of shape `(48, 4)`, and draw every random choice from
# `rng = np.random.default_rng(seed)`. The **behaviour policy** is epsilon-greedy: with probability `epsilon` a
# uniformly random action, otherwise `argmax_a Q[s, a]`. Each episode starts with `env.reset(seed=seed + episode)`
# and runs until the environment terminates or truncates it, or for `max_steps` steps. After every step, update
# the table with your `sarsa_update` or `q_learning_update`; for Sarsa, the next action must be chosen *before*
# the update (it is part of the target) and then actually played. Return `(Q, returns)`: the table and a numpy
# array of the undiscounted return of each training episode, shape `(n_episodes,)`.
#
# **The target.** The grader calls `td_control("q_learning", seed=...)` with your defaults for everything else,
# takes the returned table, and rolls out its **greedy** policy itself, from the start, for at most 100 steps.
# The greedy policy must walk the shortest path: **return −13**, on every seed it tries. The reference needs about
# a second (a few thousand steps); keep yours under about 3 seconds. Replacing Q-learning's target by Sarsa's
# misses the target (see the demo below for why), and so does an update with the wrong sign.
#
# The test cell below defines `greedy_return(Q)`, the grader's rollout, so you can check yourself.

# %% nbgrader={"grade": false, "grade_id": "td_control", "locked": false, "schema_version": 3, "solution": true}
def td_control(update, n_episodes=200, alpha=0.5, epsilon=0.1, gamma=1.0, seed=0, max_steps=500):
    """Sarsa or Q-learning with epsilon-greedy behaviour on CliffWalking.

    Args:
        update: "sarsa" or "q_learning".
        n_episodes: training episodes; alpha, epsilon, gamma: step size, exploration, discount.
        seed: seeds every random draw (numpy.random.default_rng(seed)); max_steps: the longest episode.
    Returns:
        (Q, returns): the (48, 4) float64 table and the (n_episodes,) numpy array of episode returns.
    """
    ### BEGIN SOLUTION
    env = make_cliff_walking()
    n_states, n_actions = env.observation_space.n, env.action_space.n
    rng = np.random.default_rng(seed)
    Q = torch.zeros(n_states, n_actions, dtype=torch.float64)

    def act(s):
        return int(rng.integers(n_actions)) if rng.random() < epsilon else int(Q[s].argmax())

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
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_td_control", "locked": true, "points": 1, "schema_version": 3, "solution": false}
CLIFF_P = make_cliff_walking().unwrapped.P


def greedy_return(Q, start=36, max_steps=100):
    """Return of the greedy policy of Q from `start` on CliffWalking (deterministic), at most max_steps steps."""
    s, total = start, 0.0
    for _ in range(max_steps):
        _, s, r, terminated = CLIFF_P[s][int(Q[s].argmax())][0]
        total += r
        if terminated:
            break
    return total


import time
_start = time.perf_counter()
_Q, _returns = td_control("q_learning", seed=0)
_seconds = time.perf_counter() - _start
expect_true(isinstance(_Q, torch.Tensor) and _Q.shape == (48, 4) and _Q.dtype == torch.float64,
            "td_control must return a (48, 4) float64 tensor first.")
expect_true(len(_returns) == 200, f"td_control must return one return per episode (200), got {len(_returns)}.")
print(f"Q-learning: greedy return {greedy_return(_Q):.0f} (target -13), trained in {_seconds:.1f} s")
expect_true(greedy_return(_Q) >= -13, f"the greedy policy's return is {greedy_return(_Q):.0f}, not the shortest path's -13",
            hint="Q-learning's target values the next state by its BEST action, whatever the behaviour policy "
                 "plays; check also that each episode restarts and that the update moves TOWARDS its target.")

# %% nbgrader={"grade": true, "grade_id": "test_td_control_2", "locked": true, "points": 5, "schema_version": 3, "solution": false}
# Hidden tests (other seeds; the greedy rollout is done by the grader).
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("td_control", td_control)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: walking along the cliff
#
# Both learners behave epsilon-greedily with $\epsilon = 0.1$, $\alpha = 0.5$, $\gamma = 1$ (your `td_control`). Watch
# where their greedy paths go and what they earn *while learning*.

# %%
def greedy_path(Q, start=36, goal=47):
    path, s = [start], start
    for _ in range(60):
        _, s, _, _ = CLIFF_P[s][int(Q[s].argmax())][0]
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
        Q, returns = td_control(name, n_episodes=300)
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


with needs_exercises():
    show_cliff()

# %% [markdown]
# **On- and off-policy.** Q-learning learns the optimal path right along the cliff edge, but while exploring it
# falls off now and then, so its *online* return is worse. Sarsa's target uses the action the epsilon-greedy
# behaviour actually takes next, so it learns the value of the policy it follows, exploration included: for that
# policy the edge is dangerous, and its greedy path keeps a safe distance along the top. Sarsa is **on-policy**
# (it evaluates the policy that generates the data); Q-learning is **off-policy** (its $\max$ evaluates the greedy
# policy, whatever generated the data).
#
# ### Concept question 3: `concept_off_policy`
# You run Q-learning on a small MDP with a behaviour policy that plays **uniformly at random** ($\epsilon = 1$),
# long enough that every state-action pair is visited many times, with step sizes that decay suitably. What does
# the greedy policy of the learned table become? Return the letter.
#
# - **a.** The greedy policy of the random policy's action values $Q^{\text{random}}$, since a TD learner
#   always learns the values of the policy that collects the data.
# - **b.** An optimal policy: Q-learning's target does not depend on the actions the behaviour plays next, so
#   the table still converges to $Q^*$.
# - **c.** Nothing useful: a learner that never exploits cannot discover which actions are good.
# - **d.** It diverges, because the random behaviour keeps visiting states an optimal policy never would.

# %% nbgrader={"grade": false, "grade_id": "concept_off_policy", "locked": false, "schema_version": 3, "solution": true}
def concept_off_policy():
    """Return your answer as one letter: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_off_policy", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(concept_off_policy() in ("a", "b", "c", "d"), "concept_off_policy() must return one of 'a', 'b', 'c', 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_concept_off_policy_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# The answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_off_policy", concept_off_policy)
assert _result.passed, _result.message
### END HIDDEN TESTS

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
#   that moves towards the target and no bootstrap past the end of an episode, each target derived as a one-sample
#   estimate of a Bellman equation.
# - `td_control`: the learning loop around them; Q-learning's greedy policy walks the cliff's shortest path, while
#   on-policy Sarsa keeps its distance. A Q-table also balances CartPole.
#
# **Next:** chapter 16 replaces the tables with neural networks: policy gradients, deep Q-learning with its
# target networks, and self-play.
