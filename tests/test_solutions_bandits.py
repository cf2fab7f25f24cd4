"""solutions_lib.bandits and solutions_lib.tabular_rl against closed forms, brute force and gymnasium (chapter 15)."""
from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from course.envs.bandits import BernoulliBandit, GaussianBandit
from course.envs.gridworld import GridWorld, make_cliff_walking, transition_tensors
from solutions_lib import bandits as ref
from solutions_lib import tabular_rl as rl

F64 = torch.float64


def _gen(seed):
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- bandits

@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_sample_average_update_is_the_running_mean(dtype):
    g = _gen(0)
    runs, arms, steps = 7, 4, 60
    Q = torch.zeros(runs, arms, dtype=dtype)
    N = torch.zeros(runs, arms, dtype=torch.long)
    actions = torch.randint(0, arms, (steps, runs), generator=g)
    rewards = torch.randn(steps, runs, generator=g, dtype=dtype)
    for a, r in zip(actions, rewards):
        Q, N = ref.sample_average_update(Q, N, a, r)
    for i in range(runs):
        for k in range(arms):
            seen = rewards[actions[:, i] == k, i]
            assert N[i, k] == len(seen)
            expected = seen.double().mean().item() if len(seen) else 0.0
            assert Q[i, k].item() == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert Q.dtype == dtype and N.dtype == torch.long


def test_sample_average_update_does_not_modify_inputs():
    Q, N = torch.zeros(2, 2, dtype=F64), torch.zeros(2, 2, dtype=torch.long)
    ref.sample_average_update(Q, N, torch.tensor([0, 1]), torch.tensor([1.0, 2.0], dtype=F64))
    assert Q.abs().sum() == 0 and N.sum() == 0


def test_epsilon_greedy_action_explores_exactly_when_uniform_below_epsilon():
    g = _gen(1)
    Q = torch.randn(200, 5, generator=g, dtype=F64)
    u = torch.rand(200, generator=g, dtype=F64)
    k = torch.randint(0, 5, (200,), generator=g)
    a = ref.epsilon_greedy_action(Q, 0.3, u, k)
    assert a.dtype == torch.long
    assert torch.equal(a[u < 0.3], k[u < 0.3])
    assert torch.equal(a[u >= 0.3], Q.argmax(dim=1)[u >= 0.3])
    assert torch.equal(ref.epsilon_greedy_action(Q, 0.0, u, k), Q.argmax(dim=1))


def test_ucb_action_matches_a_loop():
    g = _gen(2)
    Q = torch.randn(50, 6, generator=g, dtype=F64)
    N = torch.randint(0, 4, (50, 6), generator=g)
    t, c = 30, 1.5
    got = ref.ucb_action(Q, N, t, c)
    for i in range(50):
        untried = [k for k in range(6) if N[i, k] == 0]
        if untried:
            assert got[i] == untried[0]
        else:
            scores = [Q[i, k].item() + c * math.sqrt(math.log(t) / N[i, k].item()) for k in range(6)]
            assert got[i] == int(np.argmax(scores))


def test_thompson_bernoulli_action_is_reproducible_and_follows_the_posterior():
    s = torch.tensor([[3.0, 7.0, 0.0]] * 5)
    f = torch.tensor([[1.0, 2.0, 4.0]] * 5)
    got = ref.thompson_bernoulli_action(s, f, np.random.default_rng(4), prior_a=2.0, prior_b=1.0)
    expected = np.random.default_rng(4).beta(2.0 + s.numpy().astype(np.float64), 1.0 + f.numpy().astype(np.float64)).argmax(1)
    assert got.tolist() == expected.tolist()
    # Each arm is played with the posterior probability that it is the best: compare frequencies.
    s = torch.tensor([[30.0, 25.0]] * 20000)
    f = torch.tensor([[20.0, 25.0]] * 20000)
    freq = ref.thompson_bernoulli_action(s, f, np.random.default_rng(0)).double().mean().item()
    draws = np.random.default_rng(1).beta([[31.0, 26.0]] * 200000, [[21.0, 26.0]] * 200000)
    assert freq == pytest.approx((draws[:, 1] > draws[:, 0]).mean(), abs=0.01)


def test_thompson_gaussian_action_matches_conjugate_posterior():
    g = _gen(3)
    sums = torch.randn(40, 5, generator=g, dtype=F64) * 3
    n = torch.randint(0, 10, (40, 5), generator=g).to(F64)
    z = torch.randn(40, 5, generator=g, dtype=F64)
    m0, v0, s2 = 0.5, 2.0, 0.7
    var = 1.0 / (1.0 / v0 + n / s2)
    mean = var * (m0 / v0 + sums / s2)
    expected = (mean + var.sqrt() * z).argmax(dim=1)
    got = ref.thompson_gaussian_action(sums, n, z, prior_mean=m0, prior_var=v0, noise_var=s2)
    assert torch.equal(got, expected)


def test_cumulative_regret_closed_form():
    q = torch.tensor([[0.1, 0.9, 0.5]], dtype=F64)
    a = torch.tensor([[0, 2, 1, 1]])
    assert torch.allclose(ref.cumulative_regret(q, a), torch.tensor([[0.8, 1.2, 1.2, 1.2]], dtype=F64))


def test_testbed_classic_shape():
    """Greedy near 1.0, epsilon 0.1 near 1.35-1.4, UCB c=2 above it with its step-11 spike."""
    runs, steps = 1000, 1000
    results = {}
    for name in ["greedy", "eps", "ucb"]:
        env = GaussianBandit(n_runs=runs)
        _, info = env.reset(seed=0)
        gen = _gen(1)
        Q = torch.zeros(runs, 10, dtype=F64)
        N = torch.zeros(runs, 10, dtype=torch.long)
        avg = torch.zeros(steps, dtype=F64)
        for t in range(1, steps + 1):
            if name == "ucb":
                a = ref.ucb_action(Q, N, t, 2.0)
            else:
                u = torch.rand(runs, generator=gen, dtype=F64)
                k = torch.randint(0, 10, (runs,), generator=gen)
                a = ref.epsilon_greedy_action(Q, 0.0 if name == "greedy" else 0.1, u, k)
            _, r, _, _, _ = env.step(a)
            Q, N = ref.sample_average_update(Q, N, a, r)
            avg[t - 1] = r.mean()
        results[name] = avg
    late = {k: v[-200:].mean().item() for k, v in results.items()}
    assert 0.85 < late["greedy"] < 1.2
    assert 1.25 < late["eps"] < 1.45
    assert late["ucb"] > late["eps"]
    assert 1.4 < info["optimal_value"].mean().item() < 1.65
    spike = results["ucb"]
    assert spike[10] > spike[9] + 0.5 and spike[10] > spike[11]


def test_thompson_has_lower_regret_than_epsilon_greedy_on_bernoulli():
    runs, steps, arms = 300, 500, 5
    regrets = {}
    for name in ["eps", "thompson"]:
        env = BernoulliBandit(n_runs=runs, n_arms=arms)
        _, info = env.reset(seed=3)
        gen, rng = _gen(0), np.random.default_rng(0)
        S = torch.zeros(runs, arms, dtype=F64)
        Q = torch.zeros(runs, arms, dtype=F64)
        N = torch.zeros(runs, arms, dtype=torch.long)
        hist = torch.zeros(runs, steps, dtype=torch.long)
        for t in range(steps):
            if name == "eps":
                a = ref.epsilon_greedy_action(Q, 0.1, torch.rand(runs, generator=gen, dtype=F64),
                                              torch.randint(0, arms, (runs,), generator=gen))
            else:
                a = ref.thompson_bernoulli_action(S, N.double() - S, rng)
            _, r, _, _, _ = env.step(a)
            S[torch.arange(runs), a] += r
            Q, N = ref.sample_average_update(Q, N, a, r)
            hist[:, t] = a
        regrets[name] = ref.cumulative_regret(info["q_star"], hist).mean(dim=0)[-1].item()
    assert regrets["thompson"] < 0.6 * regrets["eps"]


# ----------------------------------------------------------------------------- dynamic programming

def _mdps():
    yield transition_tensors(GridWorld().P), 0.9
    yield transition_tensors(gym.make("FrozenLake-v1").unwrapped.P), 0.95
    yield transition_tensors(make_cliff_walking().unwrapped.P), 0.9


def _brute_backup(V, P, gamma, policy=None):
    out = []
    for s in range(len(P)):
        qs = []
        for a in range(len(P[s])):
            qs.append(sum(p * (r + (0.0 if done else gamma * V[s2])) for p, s2, r, done in P[s][a]))
        out.append(max(qs) if policy is None else sum(pi * q for pi, q in zip(policy[s], qs)))
    return np.array(out)


@pytest.mark.parametrize("env_id", ["FrozenLake-v1", "cliff"])
def test_backups_match_the_gymnasium_table(env_id):
    P = (make_cliff_walking() if env_id == "cliff" else gym.make(env_id)).unwrapped.P
    T, R = transition_tensors(P)
    S, A = R.shape
    V = torch.randn(S, generator=_gen(5), dtype=F64)
    policy = torch.rand(S, A, generator=_gen(6), dtype=F64)
    policy = policy / policy.sum(dim=1, keepdim=True)
    Vn = V.numpy()
    assert np.allclose(rl.bellman_optimality_backup(V, T, R, 0.9).numpy(), _brute_backup(Vn, P, 0.9))
    assert np.allclose(rl.bellman_expectation_backup(V, T, R, policy, 0.9).numpy(),
                       _brute_backup(Vn, P, 0.9, policy.numpy()))


def test_policy_evaluation_is_the_fixed_point_of_the_expectation_backup():
    for (T, R), gamma in _mdps():
        policy = torch.full(R.shape, 1.0 / R.shape[1], dtype=F64)
        V = rl.policy_evaluation(T, R, policy, gamma)
        assert torch.allclose(rl.bellman_expectation_backup(V, T, R, policy, gamma), V, atol=1e-9)


def test_value_iteration_and_policy_iteration_agree():
    for (T, R), gamma in _mdps():
        V_vi = rl.value_iteration(T, R, gamma, tol=1e-12)
        policy = torch.full(R.shape, 1.0 / R.shape[1], dtype=F64)
        for _ in range(100):
            V = rl.policy_evaluation(T, R, policy, gamma)
            new = torch.nn.functional.one_hot((R + gamma * T @ V).argmax(dim=1), R.shape[1]).to(F64)
            if torch.equal(new, policy):
                break
            policy = new
        assert torch.allclose(V, V_vi, atol=1e-8)


def test_frozenlake_optimal_start_value():
    T, R = transition_tensors(gym.make("FrozenLake-v1").unwrapped.P)
    V = rl.value_iteration(T, R, 0.99, tol=1e-12)
    assert V[0].item() == pytest.approx(0.542, abs=2e-3)  # classic value of the start state at gamma 0.99


# ----------------------------------------------------------------------------- temporal differences

def test_td_updates_closed_form():
    V = torch.tensor([1.0, 2.0], dtype=F64)
    assert rl.td0_update(V, 0, 2.0, 1, False, 0.5, 0.5).tolist() == [2.0, 2.0]
    assert rl.td0_update(V, 0, 2.0, 1, True, 0.5, 0.5).tolist() == [1.5, 2.0]
    Q = torch.tensor([[0.0, 1.0], [4.0, 2.0]], dtype=F64)
    assert rl.sarsa_update(Q, 0, 0, 1.0, 1, 1, False, 0.5, 1.0).tolist() == [[1.5, 1.0], [4.0, 2.0]]
    assert rl.q_learning_update(Q, 0, 1, 1.0, 1, False, 0.5, 1.0).tolist() == [[0.0, 3.0], [4.0, 2.0]]
    assert rl.q_learning_update(Q, 0, 0, 1.0, 1, True, 0.5, 1.0).tolist() == [[0.5, 1.0], [4.0, 2.0]]
    assert Q.tolist() == [[0.0, 1.0], [4.0, 2.0]] and V.tolist() == [1.0, 2.0]


def test_td0_converges_to_policy_value_on_gridworld():
    grid = GridWorld()
    T, R = transition_tensors(grid.P)
    uniform = torch.full((grid.n_states, 4), 0.25, dtype=F64)
    V_exact = rl.policy_evaluation(T, R, uniform, 0.9)
    rng = np.random.default_rng(0)
    V = torch.zeros(grid.n_states, dtype=F64)
    for episode in range(1500):
        s, _ = grid.reset(seed=episode)
        alpha = 0.1 if episode < 1000 else 0.02
        while True:
            s2, r, term, trunc, _ = grid.step(int(rng.integers(4)))
            V = rl.td0_update(V, s, r, s2, term, alpha, 0.9)
            s = s2
            if term or trunc:
                break
    assert (V - V_exact).abs().max().item() < 0.1


def test_q_learning_finds_the_optimal_cliff_path_and_sarsa_a_safer_one():
    P = make_cliff_walking().unwrapped.P

    def train(kind, episodes=300, seed=0):
        env = make_cliff_walking()
        rng = np.random.default_rng(seed)
        Q = torch.zeros(48, 4, dtype=F64)
        act = lambda s: int(rng.integers(4)) if rng.random() < 0.1 else int(Q[s].argmax())
        for ep in range(episodes):
            s, _ = env.reset(seed=ep)
            a = act(s)
            for _ in range(500):
                s2, r, term, trunc, _ = env.step(a)
                a2 = act(s2)
                Q = (rl.sarsa_update(Q, s, a, r, s2, a2, term, 0.5, 1.0) if kind == "sarsa"
                     else rl.q_learning_update(Q, s, a, r, s2, term, 0.5, 1.0))
                s, a = s2, a2
                if term or trunc:
                    break
        return Q

    def path_length(Q):
        s, n = 36, 0
        while s != 47 and n < 100:
            s, n = P[s][int(Q[s].argmax())][0][1], n + 1
        return n

    assert path_length(train("q")) == 13
    assert 13 < path_length(train("sarsa")) < 100


# ----------------------------------------------------------------------------- the make-it-work task

def test_td_control_q_learning_walks_the_shortest_path_on_every_seed():
    from autograder.checks.ch15 import CLIFF_SEEDS, CLIFF_TARGET, cliff_greedy_return

    for seed in (*CLIFF_SEEDS, 0, 1, 2, 3, 4, 5):
        Q, returns = rl.td_control("q_learning", seed=seed)
        assert Q.shape == (48, 4) and Q.dtype == F64 and returns.shape == (200,)
        assert cliff_greedy_return(Q) >= CLIFF_TARGET


def test_td_control_sarsa_keeps_away_from_the_edge_and_earns_more_online():
    from autograder.checks.ch15 import cliff_greedy_return

    for seed in (0, 1, 2):
        Q_sarsa, online_sarsa = rl.td_control("sarsa", n_episodes=300, seed=seed)
        Q_q, online_q = rl.td_control("q_learning", n_episodes=300, seed=seed)
        assert cliff_greedy_return(Q_sarsa) < cliff_greedy_return(Q_q) == -13.0
        assert online_sarsa[-100:].mean() > online_q[-100:].mean()


def test_td_control_rejects_an_unknown_rule():
    with pytest.raises(ValueError, match="sarsa"):
        rl.td_control("expected_sarsa", n_episodes=1)
