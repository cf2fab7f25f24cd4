"""course.information: the Markov source and the code-length arithmetic the compression task is graded with."""
from __future__ import annotations

import pytest
import torch

from course.information import SOURCE, block_code_bits, kraft_sums, markov_sequence


def test_source_is_row_stochastic():
    torch.testing.assert_close(SOURCE.sum(dim=1), torch.ones(3, dtype=torch.float64))
    assert torch.all(SOURCE > 0)


def test_markov_sequence_is_seeded_and_has_the_right_transitions():
    a = markov_sequence(SOURCE, 100_000, torch.Generator().manual_seed(0), start=2)
    b = markov_sequence(SOURCE, 100_000, torch.Generator().manual_seed(0), start=2)
    assert torch.equal(a, b) and a.dtype == torch.int64 and a[0].item() == 2 and a.shape == (100_000,)
    counts = torch.bincount(a[:-1] * 3 + a[1:], minlength=9).reshape(3, 3).double()
    torch.testing.assert_close(counts / counts.sum(dim=1, keepdim=True), SOURCE, rtol=0, atol=0.01)
    assert not torch.equal(a, markov_sequence(SOURCE, 100_000, torch.Generator().manual_seed(1), start=2))


def test_block_code_bits_by_hand():
    # blocks of 2 over {0, 1}: after the first symbol, (1, 0) follows 0 and (1, 1) follows 0; tail dropped
    lengths = torch.tensor([[1, 2, 3, 3], [3, 3, 2, 1]])
    seq = torch.tensor([0, 1, 0, 1, 1, 0])
    # block (1, 0) = index 2 after context 0 -> 3 bits; block (1, 1) = index 3 after context 0 -> 3 bits
    assert block_code_bits(seq, 2, lengths) == pytest.approx(6 / 4)
    assert block_code_bits(seq, 1, torch.tensor([[1, 2], [2, 1]])) == pytest.approx((2 + 2 + 2 + 1 + 2) / 5)
    with pytest.raises(ValueError):
        block_code_bits(torch.tensor([0, 1]), 2, lengths)


def test_kraft_sums():
    torch.testing.assert_close(kraft_sums(torch.tensor([[1, 2, 3, 3], [1, 1, 2, 2]])),
                               torch.tensor([1.0, 1.5], dtype=torch.float64))
