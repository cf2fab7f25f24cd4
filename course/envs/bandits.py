"""Multi-armed bandit testbeds, vectorized over independent runs.

A bandit has a single state, so one "environment" here holds ``n_runs`` independent bandit problems
side by side: ``reset(seed)`` draws the arm means of every run, and ``step(actions)`` takes one arm per
run (a long tensor of shape ``(n_runs,)``) and returns one reward per run. The interface mirrors
gymnasium's: ``reset`` returns ``(observation, info)`` and ``step`` returns
``(observation, reward, terminated, truncated, info)``; the observation is always 0 (the single state)
and episodes never end.

Example:
    >>> env = GaussianBandit(n_runs=3, n_arms=10)
    >>> obs, info = env.reset(seed=0)
    >>> info["optimal_action"].shape
    torch.Size([3])
    >>> obs, reward, terminated, truncated, info = env.step(torch.zeros(3, dtype=torch.long))
    >>> reward.shape, bool(terminated.any())
    (torch.Size([3]), False)
"""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["GaussianBandit", "BernoulliBandit"]


class _VectorBandit:
    """Shared bookkeeping: arm means ``q_star`` of shape (n_runs, n_arms) and a private generator."""

    def __init__(self, n_runs: int, n_arms: int, dtype: torch.dtype = torch.float64):
        self.n_runs, self.n_arms, self.dtype = int(n_runs), int(n_arms), dtype
        self.q_star: Tensor | None = None
        self._gen = torch.Generator()

    def _draw_means(self) -> Tensor:  # pragma: no cover - overridden
        raise NotImplementedError

    def _draw_rewards(self, means: Tensor) -> Tensor:  # pragma: no cover - overridden
        raise NotImplementedError

    def _info(self) -> dict:
        best = self.q_star.max(dim=1)
        return {"q_star": self.q_star, "optimal_action": best.indices, "optimal_value": best.values}

    def reset(self, seed: int | None = None):
        """Draw new arm means for every run; returns ``(observation, info)``."""
        if seed is not None:
            self._gen.manual_seed(int(seed))
        self.q_star = self._draw_means()
        return torch.zeros(self.n_runs, dtype=torch.long), self._info()

    def step(self, actions):
        """Pull arm ``actions[i]`` in run ``i``; returns ``(obs, reward, terminated, truncated, info)``.

        ``info`` holds ``"optimal"`` (bool, whether the pulled arm has the largest mean) and ``"regret"``
        (the gap between the best mean and the pulled arm's mean), both of shape ``(n_runs,)``.
        """
        if self.q_star is None:
            raise RuntimeError("call reset() before step()")
        actions = torch.as_tensor(actions, dtype=torch.long).reshape(self.n_runs)
        if (actions < 0).any() or (actions >= self.n_arms).any():
            raise ValueError(f"actions must lie in [0, {self.n_arms}), got {actions.tolist()[:10]}")
        means = self.q_star.gather(1, actions[:, None])[:, 0]
        reward = self._draw_rewards(means)
        info = self._info()
        info["optimal"] = means == info["optimal_value"]
        info["regret"] = info["optimal_value"] - means
        done = torch.zeros(self.n_runs, dtype=torch.bool)
        return torch.zeros(self.n_runs, dtype=torch.long), reward, done, done.clone(), info


class GaussianBandit(_VectorBandit):
    """The k-armed Gaussian testbed: means q*(a) ~ N(0, mean_std^2), rewards ~ N(q*(a), reward_std^2).

    With the defaults (10 arms, unit variances) this is the classic 10-armed testbed; the best arm's
    mean is about 1.54 on average.
    """

    def __init__(self, n_runs: int = 2000, n_arms: int = 10, mean_std: float = 1.0, reward_std: float = 1.0,
                 dtype: torch.dtype = torch.float64):
        super().__init__(n_runs, n_arms, dtype)
        self.mean_std, self.reward_std = float(mean_std), float(reward_std)

    def _draw_means(self) -> Tensor:
        return self.mean_std * torch.randn(self.n_runs, self.n_arms, generator=self._gen, dtype=self.dtype)

    def _draw_rewards(self, means: Tensor) -> Tensor:
        return means + self.reward_std * torch.randn(self.n_runs, generator=self._gen, dtype=self.dtype)


class BernoulliBandit(_VectorBandit):
    """Bernoulli arms: reward 1 with probability p(a), else 0.

    ``probs`` (shape ``(n_arms,)``) fixes the same arms in every run; without it each run draws its
    arm probabilities uniformly from [0, 1] at ``reset``.
    """

    def __init__(self, n_runs: int = 1000, n_arms: int | None = None, probs=None,
                 dtype: torch.dtype = torch.float64):
        if probs is None and n_arms is None:
            raise ValueError("give n_arms or probs")
        self.probs = None if probs is None else torch.as_tensor(probs, dtype=dtype)
        super().__init__(n_runs, len(self.probs) if self.probs is not None else n_arms, dtype)

    def _draw_means(self) -> Tensor:
        if self.probs is not None:
            return self.probs.expand(self.n_runs, self.n_arms).clone()
        return torch.rand(self.n_runs, self.n_arms, generator=self._gen, dtype=self.dtype)

    def _draw_rewards(self, means: Tensor) -> Tensor:
        u = torch.rand(self.n_runs, generator=self._gen, dtype=self.dtype)
        return (u < means).to(self.dtype)
