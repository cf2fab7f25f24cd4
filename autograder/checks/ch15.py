"""Hidden checks of chapter 15 (Bandits, MDPs and tabular RL).

The bandit rules are graded exactly: every random draw is part of the case (uniform and normal draws as
tensors, the Beta draws through a seeded numpy generator that the student calls once), so a correct rule
picks the very same arms as the reference. The dynamic-programming exercises run on the course's
gridworld, on gymnasium's FrozenLake and CliffWalking tables and on random MDPs; the temporal-difference
updates are single transitions, with and without the end of an episode.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from autograder.checks import Case, check
from course.envs.gridworld import GridWorld, make_cliff_walking, transition_tensors
from solutions_lib import bandits as ref
from solutions_lib import tabular_rl as rl

F64 = torch.float64
F32 = torch.float32


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- bandits

@check("sample_average_update", reference=ref.sample_average_update,
       hint="Count the pull first: the step size is one over the count that includes this pull, so each "
            "estimate stays the mean of its arm's rewards.")
def _sample_average_update_cases():
    g = _gen(1501)
    for label, runs, arms, dtype, count_dtype in [("float64, 6 runs x 4 arms", 6, 4, F64, torch.long),
                                                  ("float32, 9 runs x 10 arms", 9, 10, F32, torch.long),
                                                  ("float64 with float counts", 5, 3, F64, F64)]:
        Q = torch.randn(runs, arms, generator=g, dtype=dtype)
        N = torch.randint(1, 6, (runs, arms), generator=g).to(count_dtype)
        a = torch.randint(0, arms, (runs,), generator=g)
        r = torch.randn(runs, generator=g, dtype=dtype)
        yield Case(label, (Q, N, a, r))
    Q = torch.zeros(4, 3, dtype=F64)
    N = torch.zeros(4, 3, dtype=torch.long)
    yield Case("first pulls (N = 0): the estimate becomes the reward",
               (Q, N, torch.tensor([0, 1, 2, 1]), torch.tensor([1.5, -2.0, 0.25, 3.0], dtype=F64)))


@check("epsilon_greedy_action", reference=ref.epsilon_greedy_action,
       hint="A run explores (plays its random arm) exactly when its uniform draw is below epsilon; otherwise it "
            "plays the arm with the largest estimate, the lowest index on ties.")
def _epsilon_greedy_action_cases():
    g = _gen(1502)
    for label, runs, arms, eps, dtype in [("epsilon 0.3, 50 runs x 6 arms", 50, 6, 0.3, F64),
                                          ("epsilon 0.1, float32, 40 runs x 10 arms", 40, 10, 0.1, F32),
                                          ("epsilon 0 (pure greedy)", 20, 5, 0.0, F64),
                                          ("epsilon 1 (pure exploration)", 20, 5, 1.0, F64)]:
        Q = torch.randn(runs, arms, generator=g, dtype=dtype)
        u = torch.rand(runs, generator=g, dtype=dtype)
        k = torch.randint(0, arms, (runs,), generator=g)
        yield Case(label, (Q, eps, u, k))
    Q = torch.tensor([[0.0, 0.0, 0.0], [1.0, 3.0, 3.0], [-1.0, -1.0, -2.0]], dtype=F64)
    yield Case("ties go to the lowest index", (Q, 0.5, torch.tensor([0.9, 0.8, 0.7], dtype=F64),
                                                 torch.tensor([2, 0, 2])))
    Q = torch.tensor([[1.0, 0.0, 0.0]] * 4, dtype=F64)
    yield Case("uniform exactly at epsilon does not explore (uniform < epsilon does)",
               (Q, 0.25, torch.tensor([0.25, 0.0, 0.5, 0.2499], dtype=F64), torch.tensor([2, 1, 2, 1])))
    yield Case("epsilon 0 never explores, even for a draw of exactly 0",
               (Q[:2], 0.0, torch.tensor([0.0, 0.0], dtype=F64), torch.tensor([2, 1])))


@check("ucb_action", reference=ref.ucb_action,
       hint="Untried arms first (lowest index); otherwise the largest estimate plus c times the Hoeffding width "
            "you derived for failure probability t^-2 (natural log of the current step t).")
def _ucb_action_cases():
    g = _gen(1503)
    for label, runs, arms, t, c, dtype in [("all arms tried, t = 50, c = 2", 30, 5, 50, 2.0, F64),
                                           ("all arms tried, float32, t = 500, c = 1", 30, 10, 500, 1.0, F32),
                                           ("c = 0 is greedy", 10, 4, 20, 0.0, F64)]:
        Q = torch.randn(runs, arms, generator=g, dtype=dtype)
        N = torch.randint(1, 12, (runs, arms), generator=g)
        yield Case(label, (Q, N, t, c))
    Q = torch.tensor([[0.0, 0.0, 0.0, 0.0], [5.0, 0.0, 0.0, 1.0], [0.2, 0.1, 0.0, 0.0]], dtype=F64)
    N = torch.tensor([[0, 0, 0, 0], [3, 0, 2, 0], [5, 4, 1, 6]])
    yield Case("untried arms first (lowest index), else the bound", (Q, N, 16, 2.0))
    yield Case("step t = 1 with nothing tried", (torch.zeros(2, 3, dtype=F64), torch.zeros(2, 3, dtype=torch.long), 1, 2.0))
    Q = torch.tensor([[1.0, 0.6], [1.0, 0.6]], dtype=F64)
    N = torch.tensor([[40, 2], [2, 40]])
    yield Case("a rarely pulled arm wins through its bonus", (Q, N, 42, 1.0))
    for t, c in ((3, 1.0), (7, 0.5), (12, 2.0)):
        Q, N = _ucb_separating_runs(t, c)
        yield Case(f"bounds within a hair of each other: ln t exactly, t = {t}, c = {c}", (Q, N, t, c))


# Bonus terms a UCB answer may get wrong, each as a function of (t, N, c); the statement fixes
# c * sqrt(ln(t) / N) with the natural log of the current step t.
_UCB_ALTERNATIVES = (
    lambda t, n, c: c * math.sqrt(math.log(t + 1) / n),        # ln(t + 1)
    lambda t, n, c: c * math.sqrt(math.log(t - 1) / n),        # ln(t - 1)
    lambda t, n, c: c * math.sqrt(2 * math.log(t) / n),        # UCB1's sqrt(2 ln t / N)
    lambda t, n, c: c * math.sqrt(math.log2(t) / n),           # log base 2
    lambda t, n, c: c * math.sqrt(math.log10(t) / n),          # log base 10
    lambda t, n, c: c * math.log(t) / n,                       # no square root
    lambda t, n, c: c * math.sqrt(math.log(t)) / n,            # square root of ln t only
    lambda t, n, c: c * math.sqrt(math.log(t) / (n + 1)),      # N + 1 in the denominator
    lambda t, n, c: c * c * math.sqrt(math.log(t) / n),        # c squared
    lambda t, n, c: math.sqrt(c * math.log(t) / n),            # c under the root
)


def _ucb_separating_runs(t, c):
    """Two-arm runs in which the correct bound and each alternative bound pick different arms.

    For counts (n1, n2) the true bonus gap is D = b(t, n2) - b(t, n1) and an alternative's is D'. With
    Q = (0, -D + delta) and delta = (D - D') / 2, arm 1 leads by delta under the true bound and trails by
    delta under the alternative (delta is far above rounding: the gaps differ by 1e-3 or more).
    """
    true = lambda t_, n, c_: c_ * math.sqrt(math.log(t_) / n)  # noqa: E731
    rows, counts = [], []
    for k, alt in enumerate(_UCB_ALTERNATIVES):
        for n1, n2 in ((1, 2), (2, 5), (4, 1), (3, 8)):
            d = true(t, n2, c) - true(t, n1, c)
            d_alt = alt(t, n2, c) - alt(t, n1, c)
            if abs(d - d_alt) < 1e-3:
                continue
            delta = (d - d_alt) / 2
            q = [0.0, -d + delta]
            rows.append(q if k % 2 == 0 else q[::-1])
            counts.append([n1, n2] if k % 2 == 0 else [n2, n1])
            break
    return torch.tensor(rows, dtype=F64), torch.tensor(counts)


@check("thompson_bernoulli_action", reference=ref.thompson_bernoulli_action,
       hint="One posterior draw per arm, all in a single call of the numpy generator on (n_runs, n_arms) float64 "
            "arrays: the Beta posterior adds the successes to the first prior parameter, the failures to the second.")
def _thompson_bernoulli_action_cases():
    g = _gen(1504)
    for label, runs, arms, seed, prior in [("uniform prior, 100 runs x 4 arms", 100, 4, 0, (1.0, 1.0)),
                                           ("prior Beta(2, 5), 60 runs x 3 arms", 60, 3, 1, (2.0, 5.0))]:
        n = torch.randint(0, 60, (runs, arms), generator=g)
        s = torch.binomial(n.double(), torch.rand(runs, arms, generator=g, dtype=F64), generator=g)
        yield Case(label, (s, n.double() - s, np.random.default_rng(seed)),
                   {"prior_a": prior[0], "prior_b": prior[1]})
    s = torch.tensor([[0.0, 0.0, 0.0]] * 8)
    yield Case("nothing observed yet (samples from the prior)", (s, s.clone(), np.random.default_rng(7)))
    s = torch.tensor([[80.0, 5.0, 40.0]] * 30)
    f = torch.tensor([[20.0, 95.0, 40.0]] * 30)
    yield Case("well-known arms, float32 counts", (s, f, np.random.default_rng(3)))


@check("thompson_gaussian_action", reference=ref.thompson_gaussian_action,
       hint="Precisions add (the prior's plus one per reward, in units of the noise variance); the posterior mean "
            "is the precision-weighted average of the prior mean and the rewards; scale z by the posterior "
            "standard deviation.")
def _thompson_gaussian_action_cases():
    g = _gen(1505)
    for label, runs, arms, dtype, kw in [("standard prior, 80 runs x 5 arms", 80, 5, F64, {}),
                                         ("prior N(1, 4), noise variance 0.5", 80, 4, F64,
                                          {"prior_mean": 1.0, "prior_var": 4.0, "noise_var": 0.5}),
                                         ("float32, 50 runs x 10 arms", 50, 10, F32, {"noise_var": 2.0})]:
        n = torch.randint(0, 20, (runs, arms), generator=g).to(dtype)
        sums = n * torch.randn(runs, arms, generator=g, dtype=dtype) + n.sqrt() * torch.randn(runs, arms, generator=g, dtype=dtype)
        z = torch.randn(runs, arms, generator=g, dtype=dtype)
        yield Case(label, (sums, n, z), kw)


@check("cumulative_regret", reference=ref.cumulative_regret,
       hint="Each step loses the gap between the best arm's mean and the pulled arm's mean, in the same run; "
            "accumulate the gaps over the steps.")
def _cumulative_regret_cases():
    g = _gen(1506)
    for label, runs, arms, steps, dtype in [("float64, 5 runs, 3 arms, 20 steps", 5, 3, 20, F64),
                                            ("float32, 8 runs, 10 arms, 50 steps", 8, 10, 50, F32)]:
        q = torch.randn(runs, arms, generator=g, dtype=dtype)
        a = torch.randint(0, arms, (runs, steps), generator=g)
        yield Case(label, (q, a))
    q = torch.tensor([[0.1, 0.9]], dtype=F64)
    yield Case("always the best arm: zero regret", (q, torch.ones(1, 6, dtype=torch.long)),
               expected=torch.zeros(1, 6, dtype=F64))


# ----------------------------------------------------------------------------- dynamic programming

def _frozenlake(dtype=F64, slippery=True):
    import gymnasium as gym
    env = gym.make("FrozenLake-v1", is_slippery=slippery)
    return transition_tensors(env.unwrapped.P, dtype=dtype)


def _cliff(dtype=F64):
    env = make_cliff_walking()
    return transition_tensors(env.unwrapped.P, dtype=dtype)


def _random_mdp(S, A, seed, dtype=F64, end_prob=0.1):
    g = _gen(seed)
    T = torch.rand(S, A, S, generator=g, dtype=dtype) ** 3
    T = (1 - end_prob) * T / T.sum(dim=2, keepdim=True)
    R = torch.randn(S, A, generator=g, dtype=dtype)
    return T, R


def _random_policy(S, A, seed, dtype=F64):
    p = torch.rand(S, A, generator=_gen(seed), dtype=dtype)
    return p / p.sum(dim=1, keepdim=True)


def _mdps():
    grid = GridWorld()
    yield "the course gridworld, gamma 0.9", transition_tensors(grid.P), 0.9
    yield "FrozenLake 4x4 (slippery), gamma 0.95", _frozenlake(), 0.95
    yield "CliffWalking, gamma 0.9", _cliff(), 0.9
    yield "random 7-state 3-action MDP, float32, gamma 0.8", _random_mdp(7, 3, 15, F32), 0.8


@check("bellman_expectation_backup", reference=rl.bellman_expectation_backup,
       hint="Value each first action (expected reward now plus the discounted expected value of the landing "
            "state), then average over the policy's action probabilities.")
def _bellman_expectation_backup_cases():
    for i, (label, (T, R), gamma) in enumerate(_mdps()):
        S, A = R.shape
        V = torch.randn(S, generator=_gen(1507 + i), dtype=T.dtype)
        yield Case(label + ", random policy", (V, T, R, _random_policy(S, A, 40 + i, T.dtype), gamma))
    T, R = _random_mdp(5, 2, 16)
    yield Case("gamma 0: the expected immediate reward", (torch.ones(5, dtype=F64), T, R, _random_policy(5, 2, 3), 0.0))


@check("bellman_optimality_backup", reference=rl.bellman_optimality_backup,
       hint="The same action values as the expectation backup, but the best policy takes the best action: "
            "a maximum over actions, not an average.")
def _bellman_optimality_backup_cases():
    for i, (label, (T, R), gamma) in enumerate(_mdps()):
        V = torch.randn(R.shape[0], generator=_gen(1508 + i), dtype=T.dtype)
        yield Case(label, (V, T, R, gamma))


@check("policy_evaluation", reference=rl.policy_evaluation,
       hint="The expectation equation is linear in V: average the transitions and the rewards over the policy, "
            "then solve the linear system exactly (the discount multiplies the transition matrix).")
def _policy_evaluation_cases():
    for i, (label, (T, R), gamma) in enumerate(_mdps()):
        if T.dtype == F32:
            continue
        yield Case(label + ", random policy", (T, R, _random_policy(*R.shape, 50 + i), gamma))
    T, R = _random_mdp(6, 3, 17)
    det = torch.nn.functional.one_hot(torch.tensor([0, 2, 1, 1, 0, 2]), 3).to(F64)
    yield Case("random MDP, deterministic policy, gamma 0.99", (T, R, det, 0.99))


@check("value_iteration", reference=rl.value_iteration,
       hint="Start from zero and apply the optimality backup until one sweep changes no value by tol or more.")
def _value_iteration_cases():
    for label, (T, R), gamma in _mdps():
        if T.dtype == F32:
            continue
        yield Case(label, (T, R, gamma), {"tol": 1e-12})
    T, R = _random_mdp(8, 4, 18)
    yield Case("random 8-state MDP, gamma 0.97", (T, R, 0.97), {"tol": 1e-12})


# ----------------------------------------------------------------------------- temporal differences

def _td_transitions(seed, n_states, n_actions):
    g = _gen(seed)
    for k, terminated in enumerate([False, True, False, False, True]):
        s, s2 = (int(x) for x in torch.randint(0, n_states, (2,), generator=g))
        a, a2 = (int(x) for x in torch.randint(0, n_actions, (2,), generator=g))
        r = float(torch.randn((), generator=g, dtype=F64))
        yield k, s, a, r, s2, a2, terminated
    yield 5, 2, 1, -1.0, 2, 0, False  # a self-loop: s_next == s


@check("td0_update", reference=rl.td0_update,
       hint="The target samples the expectation equation: this reward plus the discounted value of the state "
            "reached, the reward alone when the episode ended; move V[s] a step alpha TOWARDS it.")
def _td0_update_cases():
    g = _gen(1510)
    for k, s, a, r, s2, a2, terminated in _td_transitions(1511, 6, 3):
        dtype = F32 if k % 2 else F64
        V = torch.randn(6, generator=g, dtype=dtype)
        yield Case(f"transition {k}: {s} -> {s2}, terminated={terminated}, {str(dtype)[6:]}",
                   (V, s, r, s2, terminated, 0.3, 0.9))


@check("sarsa_update", reference=rl.sarsa_update,
       hint="Sarsa samples the next action too: the target values the action actually taken next (the reward "
            "alone when the episode ended); move Q[s, a] a step alpha TOWARDS it.")
def _sarsa_update_cases():
    g = _gen(1512)
    for k, s, a, r, s2, a2, terminated in _td_transitions(1513, 5, 4):
        dtype = F32 if k % 2 else F64
        Q = torch.randn(5, 4, generator=g, dtype=dtype)
        yield Case(f"transition {k}: ({s}, {a}) -> ({s2}, {a2}), terminated={terminated}",
                   (Q, s, a, r, s2, a2, terminated, 0.5, 0.95))


@check("q_learning_update", reference=rl.q_learning_update,
       hint="Q-learning's target values the next state by its BEST action, whatever is played next (the reward "
            "alone when the episode ended); move Q[s, a] a step alpha TOWARDS it.")
def _q_learning_update_cases():
    g = _gen(1514)
    for k, s, a, r, s2, a2, terminated in _td_transitions(1515, 5, 4):
        dtype = F32 if k % 2 else F64
        Q = torch.randn(5, 4, generator=g, dtype=dtype)
        yield Case(f"transition {k}: ({s}, {a}) -> {s2}, terminated={terminated}",
                   (Q, s, a, r, s2, terminated, 0.5, 0.95))


# ----------------------------------------------------------------------------- make it work: the cliff

CLIFF_TARGET = -13.0
"""Greedy return from the start that the Q-learning table must reach: the shortest path (13 steps)."""
CLIFF_SEEDS = (11, 12)


def cliff_greedy_return(Q, start=36, max_steps=100):
    """The grader's rollout of the greedy policy of a (48, 4) table on CliffWalking's own model."""
    P = make_cliff_walking().unwrapped.P
    s, total = start, 0.0
    for _ in range(max_steps):
        _, s, r, terminated = P[s][int(Q[s].argmax())][0]
        total += r
        if terminated:
            break
    return total


def _td_control_probe(fn, case):
    """In the kernel: train with the student's defaults and send back the table only."""
    out = fn(*case.args, **case.kwargs)
    Q = out[0] if isinstance(out, (tuple, list)) and len(out) == 2 else None
    if not isinstance(Q, torch.Tensor):
        return {"Q": None, "type": type(out).__name__}
    return {"Q": Q.detach().cpu().to(F64).clone(), "type": "ok"}


def _td_control_compare(got, expected, case):
    if not isinstance(got, dict) or not isinstance(got.get("Q"), torch.Tensor):
        kind = got.get("type") if isinstance(got, dict) else type(got).__name__
        return f"td_control should return (Q, returns) with Q a (48, 4) tensor, got {kind}."
    Q = got["Q"]
    if tuple(Q.shape) != (48, 4):
        return f"the table should have shape (48, 4), got {tuple(Q.shape)}."
    if not torch.isfinite(Q).all():
        return "the table holds non-finite values (do the updates move towards their targets?)."
    score = cliff_greedy_return(Q)
    if score < expected:
        return (f"the greedy policy of the learned table earns {score:.0f} from the start, below the target "
                f"{expected:.0f} (the grader's rollout, at most 100 steps).")
    return None


@check("td_control", compare=_td_control_compare, probe=_td_control_probe,
       hint="Q-learning's target values the next state by its best action, whatever the epsilon-greedy behaviour "
            "plays; restart every episode, stop at the end of the episode, and move each estimate TOWARDS its target.")
def _td_control_cases():
    for seed in CLIFF_SEEDS:
        yield Case(f"Q-learning on CliffWalking, seed {seed}: greedy return >= {CLIFF_TARGET:.0f}",
                   ("q_learning",), {"seed": seed}, expected=CLIFF_TARGET)


# ----------------------------------------------------------------------------- concept questions

def _letter(got, expected, case):
    if not isinstance(got, str):
        return f"the answer should be a letter (a string such as 'a'), got {type(got).__name__}."
    if got.strip().lower() not in ("a", "b", "c", "d"):
        return f"the answer should be one of 'a', 'b', 'c', 'd', got {got!r}."
    return None if got.strip().lower() == expected else "that is not the right answer."


@check("concept_exploration", compare=_letter, hint="")
def _concept_exploration_cases():
    yield Case("the answer", (), expected="a")


@check("concept_optimism", compare=_letter, hint="")
def _concept_optimism_cases():
    yield Case("the answer", (), expected="c")


@check("concept_off_policy", compare=_letter, hint="")
def _concept_off_policy_cases():
    yield Case("the answer", (), expected="b")
