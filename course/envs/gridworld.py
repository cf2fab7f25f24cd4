"""A small gridworld MDP with an exact transition table, in gymnasium's format.

``GridWorld.P[s][a]`` is a list of ``(prob, next_state, reward, terminated)`` tuples, exactly like
``env.unwrapped.P`` of gymnasium's FrozenLake and CliffWalking, so dynamic programming code written for
one runs on the others. :func:`transition_tensors` turns any such table into dense tensors.

The map is a list of strings: ``S`` start, ``.`` free, ``#`` wall, ``G`` goal (reward +1, episode
ends), ``X`` pit (reward -1, episode ends). Every move costs ``step_reward``; with probability ``slip``
the move goes in one of the two perpendicular directions instead (half each). Walls and edges keep
it in place. Actions are 0 = left, 1 = down, 2 = right, 3 = up (FrozenLake's order).

Example:
    >>> env = GridWorld()
    >>> obs, info = env.reset(seed=0)
    >>> env.n_states, env.n_actions, obs
    (12, 4, 8)
    >>> sum(p for p, *_ in env.P[obs][2])
    1.0
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["GridWorld", "transition_tensors", "make_cliff_walking", "DEFAULT_MAP"]

DEFAULT_MAP = ("...G",
               ".#.X",
               "S...")

_MOVES = {0: (0, -1), 1: (1, 0), 2: (0, 1), 3: (-1, 0)}


class GridWorld:
    """A gridworld with slippery moves, gymnasium-style ``reset``/``step`` and a table ``P``."""

    def __init__(self, grid=DEFAULT_MAP, slip: float = 0.2, step_reward: float = -0.04,
                 max_steps: int = 100):
        self.grid = [list(row) for row in grid]
        self.n_rows, self.n_cols = len(self.grid), len(self.grid[0])
        self.n_states, self.n_actions = self.n_rows * self.n_cols, 4
        self.slip, self.step_reward, self.max_steps = float(slip), float(step_reward), int(max_steps)
        starts = [self.to_state(r, c) for r in range(self.n_rows) for c in range(self.n_cols)
                  if self.grid[r][c] == "S"]
        if len(starts) != 1:
            raise ValueError("the map needs exactly one start cell 'S'")
        self.start = starts[0]
        self.P = self._build_table()
        self._rng = np.random.default_rng()
        self.state, self._t = self.start, 0

    def to_state(self, row: int, col: int) -> int:
        return row * self.n_cols + col

    def cell(self, state: int) -> str:
        return self.grid[state // self.n_cols][state % self.n_cols]

    def is_terminal(self, state: int) -> bool:
        return self.cell(state) in "GX"

    def _move(self, state: int, action: int) -> int:
        r, c = divmod(state, self.n_cols)
        dr, dc = _MOVES[action]
        nr, nc = r + dr, c + dc
        if 0 <= nr < self.n_rows and 0 <= nc < self.n_cols and self.grid[nr][nc] != "#":
            return self.to_state(nr, nc)
        return state

    def _build_table(self) -> dict:
        table = {}
        for s in range(self.n_states):
            table[s] = {}
            for a in range(self.n_actions):
                if self.is_terminal(s) or self.cell(s) == "#":
                    table[s][a] = [(1.0, s, 0.0, True)]
                    continue
                outcomes: dict[int, float] = {}
                for move, p in ((a, 1.0 - self.slip), ((a + 1) % 4, self.slip / 2), ((a + 3) % 4, self.slip / 2)):
                    if p > 0:
                        nxt = self._move(s, move)
                        outcomes[nxt] = outcomes.get(nxt, 0.0) + p
                rows = []
                for nxt, p in outcomes.items():
                    reward = self.step_reward + {"G": 1.0, "X": -1.0}.get(self.cell(nxt), 0.0)
                    rows.append((p, nxt, reward, self.is_terminal(nxt)))
                table[s][a] = rows
        return table

    def reset(self, seed: int | None = None):
        """Back to the start cell; returns ``(state, info)``."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.state, self._t = self.start, 0
        return self.state, {"prob": 1.0}

    def step(self, action: int):
        """Sample a transition from ``P``; returns ``(state, reward, terminated, truncated, info)``."""
        rows = self.P[self.state][int(action)]
        i = self._rng.choice(len(rows), p=[p for p, *_ in rows]) if len(rows) > 1 else 0
        p, nxt, reward, terminated = rows[i]
        self.state, self._t = nxt, self._t + 1
        return nxt, reward, terminated, self._t >= self.max_steps and not terminated, {"prob": p}


def transition_tensors(P: dict, n_states: int | None = None, n_actions: int | None = None,
                       dtype: torch.dtype = torch.float64):
    """Dense tensors from a gymnasium-style table ``P[s][a] = [(prob, next_state, reward, terminated), ...]``.

    Returns ``(T, R)``: ``T[s, a, s2]`` is the probability of moving from ``s`` to ``s2`` under ``a``
    **and continuing** (transitions that end the episode are left out, so rows of ``T`` sum to less than
    one where the episode may end), shape ``(S, A, S)``; ``R[s, a]`` is the expected immediate reward,
    shape ``(S, A)``. With these, a Bellman backup reads ``R + gamma * T @ V``: a terminated transition
    contributes its reward and nothing after.

    Example:
        >>> P = {0: {0: [(1.0, 1, 0.0, False)]}, 1: {0: [(0.5, 1, 1.0, True), (0.5, 0, 0.0, False)]}}
        >>> T, R = transition_tensors(P)
        >>> T[1, 0].tolist(), R[:, 0].tolist()
        ([0.5, 0.0], [0.0, 0.5])
    """
    n_states = len(P) if n_states is None else n_states
    n_actions = len(P[0]) if n_actions is None else n_actions
    T = torch.zeros(n_states, n_actions, n_states, dtype=dtype)
    R = torch.zeros(n_states, n_actions, dtype=dtype)
    for s in range(n_states):
        for a in range(n_actions):
            for prob, nxt, reward, terminated in P[s][a]:
                R[s, a] += prob * reward
                if not terminated:
                    T[s, a, nxt] += prob
    return T, R


def make_cliff_walking(**kwargs):
    """gymnasium's CliffWalking under the id this gymnasium version registers (``-v1``, else ``-v0``)."""
    import gymnasium as gym

    env_id = "CliffWalking-v1" if "CliffWalking-v1" in gym.registry else "CliffWalking-v0"
    return gym.make(env_id, **kwargs)
