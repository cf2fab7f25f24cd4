"""course.envs.tictactoe and course.envs.imitation: rules, interfaces and the expert (chapter 16)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course.envs.imitation import WindyLine
from course.envs.tictactoe import LINES, TicTacToe, legal_moves, play, winner


# ----------------------------------------------------------------------------- tic-tac-toe

def test_reset_gives_an_empty_board_and_all_moves():
    env = TicTacToe()
    board, info = env.reset(seed=0)
    assert board.shape == (9,) and (board == 0).all()
    assert info == {"legal_moves": list(range(9)), "player": 1}


@pytest.mark.parametrize("line", LINES)
def test_every_line_wins(line):
    board = np.zeros(9, dtype=np.int8)
    board[list(line)] = -1
    assert winner(board) == -1
    assert legal_moves(board) == []


def test_a_game_alternates_players_and_rewards_the_winner():
    env = TicTacToe()
    env.reset()
    rewards, players = [], []
    for move in (4, 0, 2, 6, 3, 5, 1, 7):
        players.append(env.player)
        _, reward, terminated, truncated, info = env.step(move)
        rewards.append(reward)
        assert not terminated and not truncated
    players.append(env.player)
    board, reward, terminated, truncated, info = env.step(8)
    assert players == [1, -1] * 4 + [1]
    assert rewards == [0.0] * 8 and reward == 0.0       # the board fills up: a draw
    assert terminated and winner(board) == 0 and info["legal_moves"] == []


def test_winning_move_and_illegal_moves():
    env = TicTacToe()
    env.reset()
    for move in (0, 3, 1, 4):
        env.step(move)
    with pytest.raises(ValueError):
        env.step(0)                                     # occupied
    board, reward, terminated, _, info = env.step(2)
    assert reward == 1.0 and terminated and winner(board) == 1
    with pytest.raises(ValueError):
        env.step(5)                                     # the game is over


def test_play_is_pure_and_clone_is_independent():
    board = np.zeros(9, dtype=np.int8)
    after = play(board, 4, 1)
    assert board[4] == 0 and after[4] == 1
    env = TicTacToe()
    env.reset()
    env.step(4)
    copy = env.clone()
    copy.step(0)
    assert env.board[0] == 0 and env.player == -1 and copy.player == 1


# ----------------------------------------------------------------------------- windy line

def test_windy_line_step_interface_and_expert():
    env = WindyLine(noise=0.0)
    x, info = env.reset(seed=0)
    assert x.shape == (1,) and x[0] == 0.0 and info == {}
    x, reward, terminated, truncated, _ = env.step(np.array([0.0]))
    assert x[0] == pytest.approx(0.3) and reward == pytest.approx(-0.3) and not terminated and not truncated
    x, *_ = env.step(env.expert_action(x))           # the expert cancels the wind and returns to 0
    assert x[0] == pytest.approx(0.0)
    for _ in range(env.horizon - 3):
        _, _, _, truncated, _ = env.step(0.0)
    assert not truncated
    _, _, _, truncated, _ = env.step(0.0)
    assert truncated


def test_windy_line_cells_and_rollout():
    env = WindyLine()
    x = torch.tensor([-10.0, -5.0, -4.95, 0.0, 0.04, 4.99, 5.0, 12.0], dtype=torch.float64)
    assert env.cell_index(x).tolist() == [0, 0, 0, 50, 50, 99, 99, 99]
    paths = env.rollout(env.expert_action, torch.Generator().manual_seed(0), n_episodes=3)
    assert paths.shape == (3, env.horizon) and (paths[:, 0] == 0).all()
    again = env.rollout(env.expert_action, torch.Generator().manual_seed(0), n_episodes=3)
    assert torch.equal(paths, again)
    assert paths.abs().max() < 2.0                   # the expert stays near the centre
    idle = env.rollout(lambda s: torch.zeros_like(s), torch.Generator().manual_seed(0), n_episodes=3)
    assert (idle[:, -1] > 4.0).all()                 # doing nothing, the wind pushes it to the wall
    table = torch.arange(env.n_cells, dtype=torch.float64)
    assert env.tabular_policy(table)(x).tolist() == [0, 0, 0, 50, 50, 99, 99, 99]
