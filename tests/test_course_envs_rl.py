"""course.envs.bandits and course.envs.gridworld: interfaces, statistics and transition tables."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from course.envs.bandits import BernoulliBandit, GaussianBandit
from course.envs.gridworld import GridWorld, transition_tensors


def test_gaussian_bandit_interface_and_statistics():
    env = GaussianBandit(n_runs=4000, n_arms=10)
    obs, info = env.reset(seed=0)
    assert obs.shape == (4000,) and info["q_star"].shape == (4000, 10)
    # E[max of 10 standard normals] = 1.5388
    assert info["optimal_value"].mean().item() == pytest.approx(1.5388, abs=0.04)
    actions = info["optimal_action"]
    _, reward, terminated, truncated, step_info = env.step(actions)
    assert reward.shape == (4000,) and not terminated.any() and not truncated.any()
    assert step_info["optimal"].all() and (step_info["regret"] == 0).all()
    # rewards are q* + N(0, 1) noise
    noise = reward - info["optimal_value"]
    assert noise.mean().item() == pytest.approx(0.0, abs=0.06)
    assert noise.std().item() == pytest.approx(1.0, abs=0.05)


def test_gaussian_bandit_is_reproducible_with_seed():
    a, b = GaussianBandit(n_runs=5), GaussianBandit(n_runs=5)
    _, ia = a.reset(seed=3)
    _, ib = b.reset(seed=3)
    assert torch.equal(ia["q_star"], ib["q_star"])
    act = torch.tensor([0, 1, 2, 3, 4])
    assert torch.equal(a.step(act)[1], b.step(act)[1])


def test_bandit_rejects_bad_actions_and_step_before_reset():
    env = GaussianBandit(n_runs=2, n_arms=3)
    with pytest.raises(RuntimeError):
        env.step(torch.tensor([0, 0]))
    env.reset(seed=0)
    with pytest.raises(ValueError):
        env.step(torch.tensor([0, 3]))


def test_bernoulli_bandit_fixed_probs():
    env = BernoulliBandit(n_runs=20000, probs=[0.2, 0.7])
    _, info = env.reset(seed=1)
    assert torch.equal(info["optimal_action"], torch.ones(20000, dtype=torch.long))
    _, reward, *_ , step_info = env.step(torch.zeros(20000, dtype=torch.long))
    assert set(reward.unique().tolist()) <= {0.0, 1.0}
    assert reward.mean().item() == pytest.approx(0.2, abs=0.015)
    assert torch.allclose(step_info["regret"], torch.full((20000,), 0.5, dtype=torch.float64))


def test_bernoulli_bandit_random_probs():
    env = BernoulliBandit(n_runs=10, n_arms=4)
    _, info = env.reset(seed=0)
    q = info["q_star"]
    assert q.shape == (10, 4) and (q >= 0).all() and (q <= 1).all()


def test_gridworld_table_is_a_distribution_and_matches_sampling():
    env = GridWorld()
    for s in range(env.n_states):
        for a in range(env.n_actions):
            assert sum(p for p, *_ in env.P[s][a]) == pytest.approx(1.0)
    env.reset(seed=0)
    counts = {}
    for _ in range(4000):
        env.reset()
        s2, *_ = env.step(2)  # right from the start cell
        counts[s2] = counts.get(s2, 0) + 1
    for p, s2, _, _ in env.P[env.start][2]:
        assert counts.get(s2, 0) / 4000 == pytest.approx(p, abs=0.03)


def test_gridworld_goal_and_pit_end_the_episode():
    env = GridWorld(slip=0.0)
    goal = env.to_state(0, 3)
    assert env.P[env.to_state(0, 2)][2] == [(1.0, goal, pytest.approx(0.96), True)]
    assert env.P[goal][0] == [(1.0, goal, 0.0, True)]


def test_transition_tensors_on_frozenlake():
    P = gym.make("FrozenLake-v1").unwrapped.P
    T, R = transition_tensors(P)
    assert T.shape == (16, 4, 16) and R.shape == (16, 4)
    assert (T.sum(dim=2) <= 1 + 1e-12).all()
    # state 14, moving right: one third each to 15 (goal, reward 1, ends), 10 and 14
    assert R[14, 2].item() == pytest.approx(1 / 3)
    assert T[14, 2].sum().item() == pytest.approx(2 / 3)
    # holes and the goal are absorbing: nothing continues from them
    for s in [5, 7, 11, 12, 15]:
        assert T[s].sum() == 0 and R[s].abs().sum() == 0
