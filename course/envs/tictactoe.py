"""Tic-tac-toe behind gymnasium's ``reset``/``step`` interface, plus pure helpers for tree search.

The board is a length-9 integer array read row by row (cell ``3 * row + col``): ``+1`` is a cross (the first
player), ``-1`` a nought, ``0`` empty. A move is a cell index. The player to move receives reward ``+1`` when
its move wins, ``0`` otherwise (draws and ordinary moves); an illegal move raises ``ValueError``.

>>> env = TicTacToe()
>>> board, info = env.reset()
>>> info["legal_moves"]
[0, 1, 2, 3, 4, 5, 6, 7, 8]
>>> for move in (0, 3, 1, 4):
...     board, reward, terminated, truncated, info = env.step(move)
>>> board, reward, terminated, truncated, info = env.step(2)
>>> reward, terminated, winner(board)
(1.0, True, 1)
"""
from __future__ import annotations

import numpy as np

__all__ = ["LINES", "TicTacToe", "legal_moves", "winner", "play"]

LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))


def legal_moves(board) -> list[int]:
    """Indices of the empty cells, in increasing order (none once the game is over)."""
    if winner(board) is not None:
        return []
    return [i for i in range(9) if board[i] == 0]


def winner(board) -> int | None:
    """``+1`` or ``-1`` for the player with three in a row, ``0`` for a draw, ``None`` while the game goes on."""
    for a, b, c in LINES:
        if board[a] != 0 and board[a] == board[b] == board[c]:
            return int(board[a])
    return 0 if all(board[i] != 0 for i in range(9)) else None


def play(board, move: int, player: int) -> np.ndarray:
    """A new board with ``player`` (+1 or -1) in cell ``move``; the input is left unchanged."""
    if move not in legal_moves(board):
        raise ValueError(f"move {move} is not legal on this board")
    out = np.array(board, dtype=np.int8, copy=True)
    out[move] = player
    return out


class TicTacToe:
    """Two-player tic-tac-toe; ``player`` is the side to move (+1 starts)."""

    def __init__(self):
        self.board = np.zeros(9, dtype=np.int8)
        self.player = 1

    def _info(self) -> dict:
        return {"legal_moves": legal_moves(self.board), "player": self.player}

    def reset(self, *, seed=None, options=None):
        """Empty board, crosses to move. Returns ``(board copy, info)``; ``seed`` is accepted and unused."""
        self.board = np.zeros(9, dtype=np.int8)
        self.player = 1
        return self.board.copy(), self._info()

    def step(self, action: int):
        """Play ``action`` for the side to move; returns ``(board, reward, terminated, truncated, info)``."""
        self.board = play(self.board, int(action), self.player)
        result = winner(self.board)
        reward = 1.0 if result == self.player else 0.0
        self.player = -self.player
        return self.board.copy(), reward, result is not None, False, self._info()

    def legal_moves(self) -> list[int]:
        """Empty cells of the current board (empty list once the game is over)."""
        return legal_moves(self.board)

    def clone(self) -> "TicTacToe":
        """An independent copy (for tree search)."""
        other = TicTacToe()
        other.board = self.board.copy()
        other.player = self.player
        return other
