"""Sources and code-length arithmetic for chapter 02 (information theory).

* :func:`markov_sequence` draws a sequence from a Markov chain with a given transition matrix;
* :func:`block_code_bits` measures the bits per symbol a block code spends on a sequence, the way the
  chapter's compression task is graded (each block coded with the table row of the symbol just before it);
* :func:`kraft_sums` says whether a table of codeword lengths can belong to prefix codes.

Randomness is always passed in as a ``torch.Generator``.
"""
from __future__ import annotations

import bisect

import torch

__all__ = ["SOURCE", "markov_sequence", "block_code_bits", "kraft_sums"]

SOURCE = torch.tensor([[0.80, 0.15, 0.05],
                       [0.10, 0.70, 0.20],
                       [0.25, 0.05, 0.70]], dtype=torch.float64)
"""The chapter's three-symbol Markov source: ``SOURCE[i, j] = P(next = j | now = i)``."""


def markov_sequence(A: torch.Tensor, length: int, generator: torch.Generator, start: int = 0) -> torch.Tensor:
    """``length`` states of the Markov chain with row-stochastic transition matrix ``A``, from ``start``.

    Args:
        A: tensor ``(S, S)``, ``A[i, j] = P(next = j | now = i)``, rows summing to 1.
        length: number of states to return (the first is ``start``).
        generator: the source of randomness.
        start: the first state.

    Returns:
        int64 tensor ``(length,)`` of states in ``[0, S)``.

    Example::

        >>> seq = markov_sequence(SOURCE, 1000, torch.Generator().manual_seed(0))
        >>> seq.shape, int(seq.max()) < 3
        (torch.Size([1000]), True)
    """
    cumulative = torch.cumsum(A.to(torch.float64), dim=1)
    cumulative[:, -1] = 1.0
    rows = cumulative.tolist()
    uniforms = torch.rand(length, generator=generator, dtype=torch.float64).tolist()
    states = [int(start)]
    for u in uniforms[1:]:
        states.append(bisect.bisect_right(rows[states[-1]], u))
    return torch.tensor(states, dtype=torch.int64)


def block_code_bits(sequence: torch.Tensor, block_size: int, lengths: torch.Tensor) -> float:
    """Bits per symbol that a context-dependent block code spends on ``sequence``.

    The first symbol is sent for free; the rest is cut into blocks of ``block_size`` symbols (a
    shorter tail is dropped), and each block ``b`` that follows the symbol ``c`` costs
    ``lengths[c, b]`` bits, where ``b`` reads the block's symbols as base-``S`` digits, first symbol most
    significant. The result is the total over the symbols coded.

    Args:
        sequence: int64 tensor ``(N,)`` of symbols in ``[0, S)``.
        block_size: symbols per block, ``>= 1``.
        lengths: tensor ``(S, S**block_size)`` of codeword lengths.

    Returns:
        bits per coded symbol, a float.

    Example::

        >>> lengths = torch.full((2, 2), 1)
        >>> block_code_bits(torch.tensor([0, 1, 1, 0, 1]), 1, lengths)
        1.0
    """
    lengths = torch.as_tensor(lengths)
    S = lengths.shape[0]
    n_blocks = (sequence.numel() - 1) // block_size
    if n_blocks < 1:
        raise ValueError("the sequence is shorter than one block")
    body = sequence[1:1 + n_blocks * block_size].reshape(n_blocks, block_size)
    weights = S ** torch.arange(block_size - 1, -1, -1, dtype=torch.int64)
    blocks = (body * weights).sum(dim=1)
    context = sequence[block_size * torch.arange(n_blocks)]  # the symbol just before each block
    return float(lengths[context, blocks].to(torch.float64).sum()) / (n_blocks * block_size)


def kraft_sums(lengths: torch.Tensor) -> torch.Tensor:
    """``sum_b 2**(-lengths[c, b])`` for each row ``c``: a row can be a prefix code iff its sum is <= 1.

    Example::

        >>> kraft_sums(torch.tensor([[1, 2, 2], [1, 1, 1]]))
        tensor([1.0000, 1.5000], dtype=torch.float64)
    """
    return torch.exp2(-torch.as_tensor(lengths).to(torch.float64)).sum(dim=-1)
