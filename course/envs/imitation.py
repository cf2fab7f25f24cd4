"""A windy line with a known expert, for behaviour cloning and DAgger.

A point moves on the segment ``[-half_width, half_width]``. Each step the controller pushes it by an action
``a`` clipped to ``[-max_action, max_action]``, a constant wind adds ``wind`` and Gaussian noise adds
``noise * eps``::

    x' = clip(x + clip(a) + wind + noise * eps, -half_width, half_width)

The expert's action is known in closed form: ``clip(-x - wind)`` cancels the wind and returns the point to
the centre, so under the expert ``x`` stays within a few ``noise`` of 0. A learner that only saw the
expert's states knows nothing about the rest of the line: once noise pushes it into a cell it has not seen,
the wind carries it away, which is the compounding error that DAgger repairs.

The segment is cut into ``n_cells`` equal cells (:meth:`WindyLine.cell_index`), the states of a tabular
policy. Episodes start at ``x = 0`` and last ``horizon`` steps; the reward is ``-|x'|``.

>>> env = WindyLine()
>>> x, info = env.reset(seed=0)
>>> float(x[0])
0.0
>>> x, reward, terminated, truncated, info = env.step(env.expert_action(x))
>>> abs(float(x[0])) < 2.0, terminated
(True, False)
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["WindyLine"]


class WindyLine:
    """1-D navigation against a constant wind (see the module docstring)."""

    def __init__(self, wind: float = 0.3, noise: float = 0.3, max_action: float = 1.0,
                 half_width: float = 5.0, n_cells: int = 100, horizon: int = 40):
        self.wind, self.noise, self.max_action = wind, noise, max_action
        self.half_width, self.n_cells, self.horizon = half_width, n_cells, horizon
        self._rng = np.random.default_rng()
        self.x, self.t = 0.0, 0

    # ------------------------------------------------------------------ the gymnasium-style interface
    def reset(self, *, seed=None, options=None):
        """Start at ``x = 0``; returns ``(observation of shape (1,), info)``."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.x, self.t = 0.0, 0
        return np.array([self.x]), {}

    def step(self, action):
        """One move; returns ``(observation, reward, terminated, truncated, info)``."""
        a = float(np.clip(np.asarray(action, dtype=np.float64).reshape(-1)[0], -self.max_action, self.max_action))
        x = self.x + a + self.wind + self.noise * self._rng.standard_normal()
        self.x = float(np.clip(x, -self.half_width, self.half_width))
        self.t += 1
        return np.array([self.x]), -abs(self.x), False, self.t >= self.horizon, {}

    # ------------------------------------------------------------------ vectorized helpers (torch)
    def expert_action(self, x):
        """The expert ``clip(-x - wind, -max_action, max_action)`` (numpy arrays or torch tensors)."""
        if isinstance(x, torch.Tensor):
            return (-x - self.wind).clamp(-self.max_action, self.max_action)
        return np.clip(-np.asarray(x, dtype=np.float64) - self.wind, -self.max_action, self.max_action)

    def cell_index(self, x: torch.Tensor) -> torch.Tensor:
        """Cell of each position: ``floor((x + half_width) / width)`` clamped to ``[0, n_cells - 1]``."""
        width = 2 * self.half_width / self.n_cells
        return torch.floor((x + self.half_width) / width).long().clamp(0, self.n_cells - 1)

    def tabular_policy(self, table: torch.Tensor):
        """The policy ``x -> table[cell_index(x)]`` of a table of actions per cell."""
        return lambda x: table[self.cell_index(x)]

    def rollout(self, policy, generator: torch.Generator, n_episodes: int = 8) -> torch.Tensor:
        """Run ``n_episodes`` episodes of ``policy`` (a callable on positions, shape ``(n,)``) in parallel.

        Returns the states at which actions were taken, shape ``(n_episodes, horizon)`` (float64),
        the start state ``0`` included. All the noise comes from ``generator``.
        """
        x = torch.zeros(n_episodes, dtype=torch.float64)
        visited = []
        for _ in range(self.horizon):
            visited.append(x)
            a = torch.as_tensor(policy(x), dtype=torch.float64).clamp(-self.max_action, self.max_action)
            eps = torch.randn(n_episodes, generator=generator, dtype=torch.float64)
            x = (x + a + self.wind + self.noise * eps).clamp(-self.half_width, self.half_width)
        return torch.stack(visited, dim=1)
