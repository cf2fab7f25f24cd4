"""course.toy_corpus: the seeded toy corpus with planted analogies (chapter 10)."""
from __future__ import annotations

import torch

from course.toy_corpus import MASK, PAD, PEOPLE, PLACES, SPECIALS, UNK, make_toy_corpus, tokenize


def test_same_seed_same_corpus_and_different_seed_differs():
    a, b, c = make_toy_corpus(200, seed=3), make_toy_corpus(200, seed=3), make_toy_corpus(200, seed=4)
    assert a.sentences == b.sentences and a.sentences != c.sentences
    assert a.vocab == c.vocab  # the vocabulary does not depend on the seed


def test_vocabulary_specials_and_round_trip():
    corpus = make_toy_corpus(50, seed=0)
    assert corpus.vocab[:3] == list(SPECIALS) == [PAD, MASK, UNK]
    assert corpus.pad_id == 0 and corpus.mask_id == 1
    assert len(set(corpus.vocab)) == len(corpus.vocab)
    for s in corpus.sentences:
        ids = corpus.encode(s)
        assert ids.dtype == torch.int64 and corpus.decode(ids) == s
        assert (ids > 2).all()  # no special or unknown tokens in the generated text
    assert corpus.encode("the KING wore a zebra").tolist()[-1] == corpus.word_to_id[UNK]
    assert tokenize("The  King [MASK]") == ["the", "king", "[MASK]"]


def test_padded_and_flat_ids():
    corpus = make_toy_corpus(20, seed=1)
    padded = corpus.padded_ids()
    assert padded.shape == (20, 5)
    assert torch.equal(padded.reshape(-1), corpus.flat_ids())  # all sentences have length 5
    short = corpus.padded_ids(length=7)
    assert short.shape == (20, 7) and (short[:, 5:] == corpus.pad_id).all()


def test_every_sentence_names_one_entity_with_its_attribute_words():
    corpus = make_toy_corpus(500, seed=2)
    entities = {w for pair in PEOPLE.values() for w in pair} | {w for pair in PLACES.values() for w in pair}
    for s in corpus.sentences:
        assert s[0] in ("the", "a") and len(s) == 5
        assert len([w for w in s if w in entities]) == 1


def test_planted_analogies_are_well_formed():
    corpus = make_toy_corpus(10, seed=0)
    quads = corpus.analogy_ids()
    assert quads.shape == (len(corpus.analogies), 4) and len(corpus.analogies) == 6 * 5 + 6 * 5
    assert ("man", "woman", "king", "queen") in corpus.analogies
    assert ("france", "paris", "italy", "rome") in corpus.analogies


def test_pmi_embeddings_recover_the_planted_analogies():
    """The structure is in the counts: an SVD of the positive PMI matrix already solves the analogies."""
    corpus = make_toy_corpus(3000, seed=0)
    V = len(corpus.vocab)
    counts = torch.zeros(V, V, dtype=torch.float64)
    for s in corpus.ids():
        for i in range(len(s)):
            for j in range(len(s)):
                if i != j:
                    counts[s[i], s[j]] += 1
    total = counts.sum()
    row, col = counts.sum(1, keepdim=True), counts.sum(0, keepdim=True)
    with torch.no_grad():
        pmi = torch.log(counts * total / (row * col).clamp_min(1e-12)).clamp_min(0.0)
    pmi = torch.nan_to_num(pmi, nan=0.0, posinf=0.0)
    Uu, S, _ = torch.linalg.svd(pmi)
    E = (Uu[:, :16] * S[:16].sqrt())[3:]  # drop the (unused) special tokens
    q = corpus.analogy_ids() - 3
    unit = E / E.norm(dim=1, keepdim=True)
    sims = (E[q[:, 1]] - E[q[:, 0]] + E[q[:, 2]]) @ unit.T
    rows = torch.arange(len(q))
    for k in range(3):
        sims[rows, q[:, k]] = -torch.inf
    assert (sims.argmax(1) == q[:, 3]).float().mean().item() >= 0.9
