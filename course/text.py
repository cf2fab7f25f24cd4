"""Small text corpora that ship with the course, and a character-level vocabulary.

* :func:`available_corpora` and :func:`load_corpus` — plain-text corpora stored in ``course/corpora/``
  (nothing is downloaded). ``"village_tales"`` is about 30 KB of short, simple stories written for this
  course, generated from templates.
* :class:`CharVocab` and :func:`char_vocab` — map characters to integer ids and back, for
  character-level language models.
* :func:`random_windows` — a batch of random ``(input, target)`` windows from a sequence of ids, with the
  target shifted by one position, drawn from a passed-in ``torch.Generator``.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import torch

__all__ = ["available_corpora", "load_corpus", "CharVocab", "char_vocab", "random_windows"]


def available_corpora() -> list[str]:
    """The names accepted by :func:`load_corpus`, sorted.

    Example:
        >>> "village_tales" in available_corpora()
        True
    """
    folder = resources.files("course") / "corpora"
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".txt"))


def load_corpus(name: str = "village_tales") -> str:
    """The full text of a corpus shipped with the course (UTF-8, newlines as ``"\\n"``).

    Args:
        name: one of :func:`available_corpora`.

    Returns:
        The text as one string.

    Raises:
        ValueError: for an unknown name.

    Example:
        >>> load_corpus("village_tales")[:8]
        'Story 1.'
    """
    if name not in available_corpora():
        raise ValueError(f"unknown corpus {name!r}; available: {available_corpora()}")
    return (resources.files("course") / "corpora" / f"{name}.txt").read_text(encoding="utf-8")


@dataclass(frozen=True)
class CharVocab:
    """A character vocabulary: ``chars[i]`` is the character with id ``i`` (ids are sorted by character)."""

    chars: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.chars)

    @property
    def index(self) -> dict[str, int]:
        """The map from character to id."""
        return {c: i for i, c in enumerate(self.chars)}

    def encode(self, text: str) -> torch.Tensor:
        """The ids of ``text`` as a 1-D ``torch.long`` tensor; raises ``KeyError`` for an unknown character."""
        index = self.index
        return torch.tensor([index[c] for c in text], dtype=torch.long)

    def decode(self, ids) -> str:
        """The text of a sequence of ids (a 1-D tensor or any iterable of ints)."""
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        return "".join(self.chars[int(i)] for i in ids)


def char_vocab(text: str) -> CharVocab:
    """The vocabulary of the distinct characters of ``text``, sorted by code point.

    Example:
        >>> v = char_vocab("hello")
        >>> v.chars, v.encode("hole").tolist(), v.decode([3, 0])
        (('e', 'h', 'l', 'o'), [1, 3, 2, 0], 'oe')
    """
    return CharVocab(tuple(sorted(set(text))))


def random_windows(ids: torch.Tensor, batch_size: int, seq_len: int, generator: torch.Generator):
    """A batch of random windows of a 1-D id sequence, with next-character targets.

    Window ``k`` starts at a uniformly drawn position ``s_k``; the inputs are ``ids[s_k : s_k + seq_len]`` and
    the targets ``ids[s_k + 1 : s_k + seq_len + 1]``.

    Args:
        ids: 1-D tensor of ids, longer than ``seq_len``.
        batch_size: number of windows.
        seq_len: length of each window.
        generator: the source of randomness (CPU generator).

    Returns:
        ``(inputs, targets)``, two ``torch.long`` tensors of shape ``(batch_size, seq_len)`` on ``ids.device``.

    Example:
        >>> x, y = random_windows(torch.arange(100), 4, 10, torch.Generator().manual_seed(0))
        >>> x.shape, bool((y == x + 1).all())
        (torch.Size([4, 10]), True)
    """
    if ids.dim() != 1 or ids.numel() <= seq_len:
        raise ValueError("ids must be a 1-D tensor longer than seq_len")
    starts = torch.randint(0, ids.numel() - seq_len, (batch_size,), generator=generator)
    offsets = starts[:, None] + torch.arange(seq_len + 1)
    windows = ids[offsets.to(ids.device)]
    return windows[:, :-1], windows[:, 1:]
