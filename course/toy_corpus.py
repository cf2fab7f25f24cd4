"""A toy text corpus with planted structure, for word embeddings and language models (chapter 10).

Real corpora are large and their regularities are hard to check. This module writes short sentences
from a seed, in which every *entity* word is the combination of two attributes, and each attribute
shows up in the sentence through its own context words:

* people: a **gender** (male, female) times a **role** (person, royal, child, parent, sibling, heir):
  ``man woman king queen boy girl father mother brother sister prince princess``. Gender shows in
  pronouns (``he his him`` / ``she her hers``), the role in words such as ``crown throne palace``.
* places: a **nation** (france, italy, spain, germany, japan, egypt) times a **kind** (country, capital):
  ``france paris italy rome ...``. The nation shows in words such as ``french wine``, the kind in
  words such as ``borders nation`` / ``streets mayor``.

A sentence names one entity and draws one context word for each of its two attributes, plus filler
words, e.g. ``the king wore his crown``. The two context words are drawn independently given the
entity, so the log co-occurrence statistics are a *sum* of one term per attribute, and embeddings
trained on them (skip-gram, or an SVD of the PMI matrix) turn the attributes into directions:
``king - man + woman`` lands near ``queen``, ``paris - france + italy`` near ``rome``. The planted
analogies are listed in :attr:`ToyCorpus.analogies` so that a trained model can be scored on them.

Tokenization is lower-case whitespace splitting (:func:`tokenize`); ids come from a vocabulary whose
first entries are the special tokens ``[PAD]`` (id 0), ``[MASK]`` (id 1) and ``[UNK]`` (id 2).

Example:
    >>> corpus = make_toy_corpus(n_sentences=5, seed=0)
    >>> len(corpus.sentences), corpus.vocab[:3]
    (5, ['[PAD]', '[MASK]', '[UNK]'])
    >>> corpus.decode(corpus.encode("the king wore his crown"))
    ['the', 'king', 'wore', 'his', 'crown']
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import torch

__all__ = ["SPECIALS", "PAD", "MASK", "UNK", "PEOPLE", "PLACES", "ToyCorpus", "tokenize", "make_toy_corpus"]

PAD, MASK, UNK = "[PAD]", "[MASK]", "[UNK]"
SPECIALS = (PAD, MASK, UNK)
"""The special tokens, with ids 0, 1 and 2 in every vocabulary built here."""

# people: (male, female) word for each role
PEOPLE = {
    "person": ("man", "woman"),
    "royal": ("king", "queen"),
    "child": ("boy", "girl"),
    "parent": ("father", "mother"),
    "sibling": ("brother", "sister"),
    "heir": ("prince", "princess"),
}
_GENDER_WORDS = {0: ("he", "his", "him"), 1: ("she", "her", "hers")}
_ROLE_WORDS = {
    "person": ("works", "office", "town"),
    "royal": ("crown", "throne", "palace"),
    "child": ("plays", "school", "toys"),
    "parent": ("family", "raises", "home"),
    "sibling": ("shares", "twin", "games"),
    "heir": ("inherits", "castle", "title"),
}
# places: (country, capital) for each nation
PLACES = {
    "france": ("france", "paris"),
    "italy": ("italy", "rome"),
    "spain": ("spain", "madrid"),
    "germany": ("germany", "berlin"),
    "japan": ("japan", "tokyo"),
    "egypt": ("egypt", "cairo"),
}
_NATION_WORDS = {
    "france": ("french", "wine", "cheese"),
    "italy": ("italian", "pasta", "opera"),
    "spain": ("spanish", "paella", "flamenco"),
    "germany": ("german", "beer", "pretzels"),
    "japan": ("japanese", "sushi", "temples"),
    "egypt": ("egyptian", "nile", "pyramids"),
}
_KIND_WORDS = {0: ("borders", "nation", "land"), 1: ("streets", "mayor", "downtown")}
_FILLERS = ("the", "a", "wore", "saw", "near", "with", "and", "has", "is", "of")


def tokenize(text: str) -> list[str]:
    """Split a sentence into lower-case word tokens at whitespace (special tokens keep their case).

    Example:
        >>> tokenize("The King  wore [MASK] crown")
        ['the', 'king', 'wore', '[MASK]', 'crown']
    """
    return [tok if tok in SPECIALS else tok.lower() for tok in text.split()]


@dataclass
class ToyCorpus:
    """Sentences (lists of tokens), their vocabulary, and the planted analogies.

    Attributes:
        sentences: list of sentences, each a list of word strings.
        vocab: list of words; ``vocab[i]`` is the word with id ``i`` (specials first).
        word_to_id: the inverse of ``vocab``.
        analogies: tuples ``(a, b, c, d)`` meaning "a is to b as c is to d" (``b - a + c ~ d``).
    """

    sentences: list[list[str]]
    vocab: list[str]
    word_to_id: dict[str, int] = field(repr=False)
    analogies: list[tuple[str, str, str, str]] = field(repr=False)

    @property
    def pad_id(self) -> int:
        return self.word_to_id[PAD]

    @property
    def mask_id(self) -> int:
        return self.word_to_id[MASK]

    def __len__(self) -> int:
        return len(self.sentences)

    def encode(self, sentence: str | list[str]) -> torch.Tensor:
        """Token ids (int64 tensor of shape ``(len,)``) of a sentence given as text or tokens; unknown -> ``[UNK]``."""
        tokens = tokenize(sentence) if isinstance(sentence, str) else list(sentence)
        unk = self.word_to_id[UNK]
        return torch.tensor([self.word_to_id.get(t, unk) for t in tokens], dtype=torch.int64)

    def decode(self, ids) -> list[str]:
        """The words of a sequence of ids (a tensor or a list of ints)."""
        return [self.vocab[int(i)] for i in ids]

    def ids(self) -> list[torch.Tensor]:
        """Every sentence as an int64 tensor of token ids."""
        return [self.encode(s) for s in self.sentences]

    def flat_ids(self) -> torch.Tensor:
        """All sentences concatenated into one int64 tensor of shape ``(total_tokens,)``."""
        return torch.cat(self.ids())

    def padded_ids(self, length: int | None = None) -> torch.Tensor:
        """The sentences as an int64 tensor ``(n_sentences, length)``, right-padded with ``[PAD]``.

        ``length`` defaults to the longest sentence; longer sentences are cut to ``length``.
        """
        seqs = self.ids()
        length = max(len(s) for s in seqs) if length is None else length
        out = torch.full((len(seqs), length), self.pad_id, dtype=torch.int64)
        for i, s in enumerate(seqs):
            s = s[:length]
            out[i, : len(s)] = s
        return out

    def word_ids(self, words) -> torch.Tensor:
        """The ids of a list of words, as an int64 tensor."""
        return torch.tensor([self.word_to_id[w] for w in words], dtype=torch.int64)

    def analogy_ids(self) -> torch.Tensor:
        """The planted analogies as an int64 tensor ``(n_analogies, 4)`` of ids ``(a, b, c, d)``."""
        return torch.tensor([[self.word_to_id[w] for w in quad] for quad in self.analogies], dtype=torch.int64)


def _planted_analogies() -> list[tuple[str, str, str, str]]:
    quads = []
    roles = list(PEOPLE)
    for r1 in roles:  # gender offset: man : woman :: king : queen, and role offsets: man : king :: woman : queen
        for r2 in roles:
            if r1 != r2:
                quads.append((PEOPLE[r1][0], PEOPLE[r1][1], PEOPLE[r2][0], PEOPLE[r2][1]))
    nations = list(PLACES)
    for n1 in nations:  # france : paris :: italy : rome
        for n2 in nations:
            if n1 != n2:
                quads.append((PLACES[n1][0], PLACES[n1][1], PLACES[n2][0], PLACES[n2][1]))
    return quads


def _vocabulary() -> list[str]:
    words: list[str] = []
    groups = [w for pair in PEOPLE.values() for w in pair], [w for pair in PLACES.values() for w in pair]
    for group in (*groups, *(_GENDER_WORDS.values()), *(_ROLE_WORDS.values()),
                  *(_NATION_WORDS.values()), *(_KIND_WORDS.values()), _FILLERS):
        for w in group:
            if w not in words:
                words.append(w)
    return [*SPECIALS, *words]


def make_toy_corpus(n_sentences: int = 3000, seed: int = 0) -> ToyCorpus:
    """Write ``n_sentences`` sentences with planted attribute structure, from a seed.

    Each sentence picks, uniformly, people or places, then an entity uniformly within that domain;
    it is ``[det, entity, w1, w2, w3]`` or a shuffle of its last four words, where ``w*`` are one
    context word for each of the entity's two attributes and one filler word. The same seed always
    gives the same corpus (the generator is Python's ``random.Random(seed)``).

    Args:
        n_sentences: number of sentences.
        seed: the seed.

    Returns:
        a :class:`ToyCorpus` whose vocabulary does not depend on the seed.

    Example:
        >>> corpus = make_toy_corpus(3, seed=1)
        >>> [len(s) for s in corpus.sentences]
        [5, 5, 5]
    """
    rng = random.Random(seed)
    sentences = []
    people = [(role, g) for role in PEOPLE for g in (0, 1)]
    places = [(nation, k) for nation in PLACES for k in (0, 1)]
    for _ in range(n_sentences):
        if rng.random() < 0.5:
            role, g = rng.choice(people)
            entity = PEOPLE[role][g]
            ctx = [rng.choice(_GENDER_WORDS[g]), rng.choice(_ROLE_WORDS[role])]
        else:
            nation, k = rng.choice(places)
            entity = PLACES[nation][k]
            ctx = [rng.choice(_NATION_WORDS[nation]), rng.choice(_KIND_WORDS[k])]
        tail = [entity, *ctx, rng.choice(_FILLERS[2:])]
        rng.shuffle(tail)
        sentences.append([rng.choice(_FILLERS[:2]), *tail])
    vocab = _vocabulary()
    return ToyCorpus(sentences, vocab, {w: i for i, w in enumerate(vocab)}, _planted_analogies())
