"""course.char_lm: the split of chapter 08's language-model task and its perplexity measure."""
from __future__ import annotations

import math

import pytest
import torch

from course.char_lm import char_lm_perplexity, split_village_tales
from course.text import load_corpus
from solutions_lib.rnn import char_lstm_perplexity


def test_split_is_the_first_ninety_percent_in_order():
    vocab, train_ids, valid_ids = split_village_tales()
    text = load_corpus("village_tales")
    assert vocab.decode(torch.cat([train_ids, valid_ids])) == text[: int(0.9 * len(text))]
    assert len(train_ids) == int(0.8 * len(text))


def test_perplexity_agrees_with_the_reference_measure():
    g = torch.Generator().manual_seed(0)
    V, H = 6, 3
    params = {"Wx": torch.randn(V, 4 * H, generator=g), "Wh": torch.randn(H, 4 * H, generator=g),
              "b": torch.randn(4 * H, generator=g), "Wy": torch.randn(H, V, generator=g),
              "by": torch.randn(V, generator=g)}
    ids = torch.randint(0, V, (100,), generator=g)
    assert char_lm_perplexity(params, ids, chunk=9) == pytest.approx(char_lstm_perplexity(params, ids, chunk=9),
                                                                     rel=1e-10)


def test_uniform_model_scores_the_vocabulary_size_and_bad_input_is_named():
    V, H = 5, 2
    zero = {k: torch.zeros(*s) for k, s in
            {"Wx": (V, 4 * H), "Wh": (H, 4 * H), "b": (4 * H,), "Wy": (H, V), "by": (V,)}.items()}
    assert char_lm_perplexity(zero, torch.arange(50) % V, chunk=7) == pytest.approx(V)
    with pytest.raises(KeyError, match="Wy"):
        char_lm_perplexity({k: v for k, v in zero.items() if k != "Wy"}, torch.arange(70) % V)
    with pytest.raises(ValueError):
        char_lm_perplexity(zero, torch.arange(10) % V)
    assert math.isfinite(char_lm_perplexity(zero, torch.arange(65) % V))
