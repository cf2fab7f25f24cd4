"""The text corpora and the character vocabulary of course.text."""
from __future__ import annotations

import pytest
import torch

from course.text import CharVocab, available_corpora, char_vocab, load_corpus, random_windows


def test_corpus_is_shipped_and_small():
    assert "village_tales" in available_corpora()
    text = load_corpus("village_tales")
    assert 20_000 <= len(text) <= 40_000
    assert text.isascii()
    assert text.startswith("Story 1.")


def test_unknown_corpus_raises():
    with pytest.raises(ValueError, match="unknown corpus"):
        load_corpus("no_such_corpus")


def test_vocab_round_trip():
    text = load_corpus()
    vocab = char_vocab(text)
    assert isinstance(vocab, CharVocab)
    assert list(vocab.chars) == sorted(set(text))
    assert len(vocab) == len(set(text))
    ids = vocab.encode(text)
    assert ids.dtype == torch.long and ids.shape == (len(text),)
    assert int(ids.min()) >= 0 and int(ids.max()) < len(vocab)
    assert vocab.decode(ids) == text
    assert vocab.decode(ids[:5].tolist()) == text[:5]


def test_vocab_unknown_character():
    with pytest.raises(KeyError):
        char_vocab("abc").encode("abd")


def test_random_windows_shift_and_determinism():
    ids = torch.arange(50) * 3
    x1, y1 = random_windows(ids, 6, 7, torch.Generator().manual_seed(1))
    x2, y2 = random_windows(ids, 6, 7, torch.Generator().manual_seed(1))
    assert x1.shape == y1.shape == (6, 7)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert torch.equal(y1[:, :-1], x1[:, 1:])
    assert torch.equal(y1 - x1, torch.full_like(x1, 3))
    assert int(y1.max()) <= int(ids.max())


def test_random_windows_rejects_short_sequences():
    with pytest.raises(ValueError):
        random_windows(torch.arange(5), 2, 5, torch.Generator().manual_seed(0))


def test_random_windows_on_device(device):
    ids = torch.arange(40, device=device)
    x, y = random_windows(ids, 3, 4, torch.Generator().manual_seed(0))
    assert x.device.type == device.type and torch.equal(y, x + 1)
