"""Hidden checks of chapter 10 (Embeddings and pretraining).

Oracles: ``torch.nn.functional.logsigmoid`` and ``cross_entropy`` in float64, autograd for the skip-gram
gradients, a brute-force cosine search for the analogies, and the reference for the exactly specified
random masking (the generator is handed in, so the draws are fixed).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from autograder.checks import Case, check
from course.checks import diagnose_close
from solutions_lib import language as ref

F64 = torch.float64
F32 = torch.float32


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- log-sigmoid

@check("log_sigmoid", reference=lambda x: F.logsigmoid(x.double()).to(x.dtype),
       hint="log(sigmoid(x)) underflows to -inf for very negative x and exp(-x) overflows: pull the large part "
            "out of the logarithm so that the exponential only sees non-positive numbers.")
def _log_sigmoid_cases():
    g = _gen(0)
    yield Case("float64 (5, 7), moderate values", (3 * torch.randn(5, 7, generator=g, dtype=F64),))
    yield Case("float32 vector", (torch.randn(20, generator=g, dtype=F32),))
    yield Case("float64, very negative values (-800 .. -50)", (torch.linspace(-800, -50, 9, dtype=F64),))
    yield Case("float64, very positive values (50 .. 800)", (torch.linspace(50, 800, 9, dtype=F64),))
    yield Case("float32, values of both signs up to 200", (torch.tensor([-200.0, -90.0, -20.0, 0.0, 20.0, 90.0, 200.0]),))
    yield Case("0-d tensor", (torch.tensor(-1.5, dtype=F64),))


# ----------------------------------------------------------------------------- skip-gram with negative sampling

def _sgns_inputs(seed, B, K, D, dtype=F64, scale=1.0):
    g = _gen(seed)
    return (scale * torch.randn(B, D, generator=g, dtype=dtype), scale * torch.randn(B, D, generator=g, dtype=dtype),
            scale * torch.randn(B, K, D, generator=g, dtype=dtype))


def _sgns_loss_oracle(center, context, negatives):
    c, o, n = center.double(), context.double(), negatives.double()
    pos = (c * o).sum(-1)
    neg = (n * c[:, None, :]).sum(-1)
    return (-F.logsigmoid(pos) - F.logsigmoid(-neg).sum(-1)).to(center.dtype)


@check("sgns_loss", reference=_sgns_loss_oracle,
       hint="Per example: -logsigmoid(u_o . v) - sum_k logsigmoid(-u_k . v), written without log(sigmoid(.)).")
def _sgns_loss_cases():
    yield Case("float64, B=6, K=4, D=5", _sgns_inputs(1, 6, 4, 5))
    yield Case("float32, B=3, K=1, D=8", _sgns_inputs(2, 3, 1, 8, F32))
    yield Case("float64, B=1, K=10, D=3", _sgns_inputs(3, 1, 10, 3))
    yield Case("float64, large scores (vectors scaled by 20)", _sgns_inputs(4, 5, 3, 6, scale=20.0))
    yield Case("float32, large scores (vectors scaled by 15)", _sgns_inputs(5, 4, 2, 4, F32, scale=15.0))


def _sgns_grads_autograd(center, context, negatives):
    leaves = [t.detach().double().requires_grad_(True) for t in (center, context, negatives)]
    c, o, n = leaves
    loss = (-F.logsigmoid((c * o).sum(-1)) - F.logsigmoid(-(n * c[:, None, :]).sum(-1)).sum(-1)).sum()
    grads = torch.autograd.grad(loss, leaves)
    return tuple(gr.to(center.dtype) for gr in grads)


@check("sgns_grads", by_hand=True, reference=_sgns_grads_autograd,
       hint="Each gradient is a score derivative times the other vector of its dot product; the center vector "
            "takes part in every score of its example (the positive one and all the negatives).")
def _sgns_grads_cases():
    yield Case("float64, B=6, K=4, D=5", _sgns_inputs(11, 6, 4, 5))
    yield Case("float64, B=1, K=1, D=2", _sgns_inputs(12, 1, 1, 2))
    yield Case("float32, B=4, K=3, D=7", _sgns_inputs(13, 4, 3, 7, F32))
    yield Case("float64, large scores (vectors scaled by 10)", _sgns_inputs(14, 5, 5, 4, scale=10.0))


def _score_grads_autograd(center, context, negatives):
    c, o, n = (t.detach().double() for t in (center, context, negatives))
    s_o = (c * o).sum(-1).requires_grad_(True)
    s_k = (n * c[:, None, :]).sum(-1).requires_grad_(True)
    loss = (-F.logsigmoid(s_o) - F.logsigmoid(-s_k).sum(-1)).sum()
    d_o, d_k = torch.autograd.grad(loss, (s_o, s_k))
    return d_o.to(center.dtype), d_k.to(center.dtype)


@check("sgns_score_grads", by_hand=True, reference=_score_grads_autograd,
       hint="Differentiate the log-sigmoid and write the result with sigma alone; a negative score enters "
            "through log sigmoid(-s_k), with a minus sign inside. Return one value per example and per negative.")
def _sgns_score_grads_cases():
    yield Case("float64, B=6, K=4, D=5", _sgns_inputs(15, 6, 4, 5))
    yield Case("float64, B=1, K=1, D=2", _sgns_inputs(16, 1, 1, 2))
    yield Case("float32, B=4, K=3, D=7", _sgns_inputs(17, 4, 3, 7, F32))
    yield Case("float64, large scores (vectors scaled by 10)", _sgns_inputs(18, 5, 5, 4, scale=10.0))
    yield Case("float64, B=3, K=6, D=3 (K != D)", _sgns_inputs(19, 3, 6, 3))


# ----------------------------------------------------------------------------- skip-gram pairs

def _pairs_oracle(ids, window):
    ids_list = ids.tolist()
    rows = [(ids_list[i], ids_list[j]) for i in range(len(ids_list)) for j in range(len(ids_list))
            if 1 <= abs(i - j) <= window]
    return torch.tensor(rows, dtype=torch.int64).reshape(-1, 2)


def _as_multiset(pairs: torch.Tensor) -> torch.Tensor:
    key = pairs[:, 0] * (1 << 31) + pairs[:, 1]
    return pairs[torch.argsort(key, stable=True)]


def _same_pairs(got, expected, case):
    if not isinstance(got, torch.Tensor):
        return f"the output should be a tensor, got {type(got).__name__}."
    if got.dtype != torch.int64:
        return f"the output should have dtype torch.int64, got {got.dtype}."
    if got.dim() != 2 or got.shape[1] != 2:
        return f"the output should have shape (P, 2), got {tuple(got.shape)}."
    if got.shape[0] != expected.shape[0]:
        return (f"expected {expected.shape[0]} pairs, got {got.shape[0]} "
                "(each position pairs with every other position at distance 1 .. window, inside the sequence).")
    return diagnose_close(_as_multiset(got), _as_multiset(expected), what="the pairs (sorted)")


@check("skipgram_pairs", reference=_pairs_oracle, compare=_same_pairs,
       hint="Pair positions i != j with |i - j| <= window, on both sides, without wrapping around the ends.")
def _skipgram_pairs_cases():
    g = _gen(20)
    yield Case("20 random ids, window 2", (torch.randint(50, (20,), generator=g), 2))
    yield Case("12 distinct ids, window 1", (torch.arange(100, 112), 1))
    yield Case("9 distinct ids, window 3", (torch.randperm(9, generator=g) + 5, 3))
    yield Case("window larger than the sequence (T=3, window 5)", (torch.tensor([4, 8, 15]), 5))
    yield Case("a single token (no pairs)", (torch.tensor([7]), 2))


# ----------------------------------------------------------------------------- analogies

def _analogy_oracle(embeddings, a, b, c, exclude=True):
    E = embeddings.double()
    out = []
    for qa, qb, qc in zip(a.tolist(), b.tolist(), c.tolist()):
        query = E[qb] - E[qa] + E[qc]
        sims = F.cosine_similarity(E, query[None, :], dim=1)
        if exclude:
            sims[[qa, qb, qc]] = -torch.inf
        out.append(int(sims.argmax()))
    return torch.tensor(out, dtype=torch.int64)


def _planted_embeddings(seed, dtype=F64, hubs=True, gender_scale=0.8, noise=0.02):
    """6 roles x 2 genders (ids 0..11: role r, gender s -> 2r + s) with a small gender offset, plus filler and
    hub words. Returns (E, a, b, c) for the questions 'role0-male : role0-female :: role r-male : ?'."""
    g = _gen(seed)
    D = 8
    roles = 3.0 * torch.randn(6, D, generator=g, dtype=F64)
    gender = gender_scale * torch.randn(2, D, generator=g, dtype=F64)
    people = (roles[:, None, :] + gender[None, :, :]).reshape(12, D)
    people = people + noise * torch.randn(12, D, generator=g, dtype=F64)
    filler = 3.0 * torch.randn(6, D, generator=g, dtype=F64)
    a = torch.tensor([0, 0, 0, 0, 0, 2], dtype=torch.int64)
    b = torch.tensor([1, 1, 1, 1, 1, 3], dtype=torch.int64)
    c = torch.tensor([2, 4, 6, 8, 10, 4], dtype=torch.int64)
    rows = [people, filler]
    if hubs:  # long vectors at a moderate angle to some queries: they win a dot product, not a cosine
        q = people[b] - people[a] + people[c]
        noise = torch.randn(q.shape, generator=g, dtype=F64)
        noise = noise - (noise * q).sum(1, keepdim=True) / (q * q).sum(1, keepdim=True) * q
        hub = q / q.norm(dim=1, keepdim=True) + noise / noise.norm(dim=1, keepdim=True)
        rows.append(25.0 * hub[:3])
    return torch.cat(rows).to(dtype), a, b, c


@check("analogy", reference=_analogy_oracle,
       hint="Normalize the embedding rows (cosine, not dot product) and rule out a, b and c as answers.")
def _analogy_cases():
    yield Case("planted gender offset, float64", _planted_embeddings(30, hubs=False))
    yield Case("small offset, noisy: the query is nearest to c", _planted_embeddings(35, hubs=False, gender_scale=0.05, noise=0.1))
    yield Case("planted offset plus long 'hub' vectors, float64", _planted_embeddings(31))
    yield Case("planted offset plus hubs, float32", _planted_embeddings(32, F32))
    E, a, b, c = _planted_embeddings(33, hubs=False, gender_scale=0.05, noise=0.1)
    yield Case("exclude=False (the query words may answer)", (E, a, b, c), {"exclude": False})
    g = _gen(34)
    yield Case("random embeddings (50, 6), 10 questions",
               (torch.randn(50, 6, generator=g, dtype=F64), torch.randint(50, (10,), generator=g),
                torch.randint(50, (10,), generator=g), torch.randint(50, (10,), generator=g)))


# ----------------------------------------------------------------------------- BERT masking

@check("bert_mask", reference=ref.bert_mask,
       hint="Draw rand (selection), rand (80/10/10 split), randint (random tokens), all with ids.shape, in "
            "this order; only selected positions change, and labels are -100 at every unselected position.")
def _bert_mask_cases():
    g = _gen(40)
    yield Case("(4, 16) ids, mask_prob 0.15, seed 0",
               (torch.randint(5, 60, (4, 16), generator=g), 1, 60, _gen(0)))
    yield Case("(3, 40) ids, mask_prob 0.5, seed 1",
               (torch.randint(5, 30, (3, 40), generator=g), 2, 30, _gen(1)), {"mask_prob": 0.5})
    yield Case("1-D ids (200,), seed 2", (torch.randint(3, 100, (200,), generator=g), 0, 100, _gen(2)))
    yield Case("mask_prob 1.0 (every position selected)",
               (torch.randint(3, 20, (2, 25), generator=g), 1, 20, _gen(3)), {"mask_prob": 1.0})
    yield Case("mask_prob 0.0 (nothing selected)",
               (torch.randint(3, 20, (2, 10), generator=g), 1, 20, _gen(4)), {"mask_prob": 0.0})


# ----------------------------------------------------------------------------- next-token loss and perplexity

def _next_token_oracle(logits, ids, pad_id=None):
    target = ids[:, 1:].clone()
    if pad_id is not None:
        target[target == pad_id] = -100
    return F.cross_entropy(logits[:, :-1].double().reshape(-1, logits.shape[-1]), target.reshape(-1),
                           ignore_index=-100).to(logits.dtype)


def _lm_batch(seed, B, T, V, lengths=None, pad_id=0, dtype=F64, scale=1.0):
    g = _gen(seed)
    logits = scale * torch.randn(B, T, V, generator=g, dtype=dtype)
    ids = torch.randint(1, V, (B, T), generator=g)
    if lengths is not None:
        for i, n in enumerate(lengths):
            ids[i, n:] = pad_id
    return logits, ids


@check("next_token_loss", reference=_next_token_oracle,
       hint="The logits at a position are scored against the NEXT token (the last position has no target); "
            "padding targets are skipped and the mean runs over the tokens that count, pooled over the batch.")
def _next_token_cases():
    yield Case("float64 (2, 6, 7), no padding", _lm_batch(50, 2, 6, 7), {"pad_id": None})
    yield Case("float64 (4, 9, 11), right-padded to different lengths",
               _lm_batch(51, 4, 9, 11, lengths=[9, 5, 3, 7]), {"pad_id": 0})
    yield Case("float32 (3, 5, 13), padded, pad id 0", _lm_batch(52, 3, 5, 13, lengths=[2, 5, 4]), {"pad_id": 0})
    yield Case("float64 large logits (scale 300), padded",
               _lm_batch(53, 2, 7, 5, lengths=[7, 4], scale=300.0), {"pad_id": 0})
    yield Case("float64, length-2 sequences", _lm_batch(54, 5, 2, 4), {"pad_id": 0})


def _perplexity_inputs(seed, B, T, lengths, dtype=F64):
    g = _gen(seed)
    nll = 3.0 * torch.rand(B, T, generator=g, dtype=dtype)
    mask = torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]
    nll = torch.where(mask, nll, torch.full_like(nll, 9.0))  # junk values at padding
    return nll, mask


@check("perplexity", reference=ref.perplexity,
       hint="The exponential of the mean NLL over every valid token of the batch pooled together (not a mean "
            "of per-sequence perplexities); masked-out values must not enter at all.")
def _perplexity_cases():
    yield Case("float64 (3, 8), uneven lengths", _perplexity_inputs(60, 3, 8, [8, 3, 5]))
    yield Case("float32 (2, 5), uneven lengths", _perplexity_inputs(61, 2, 5, [5, 1], F32))
    yield Case("float64 (4, 6), no padding", _perplexity_inputs(62, 4, 6, [6, 6, 6, 6]))
    V = 17
    yield Case("uniform model over 17 words: perplexity 17",
               (torch.full((2, 4), torch.log(torch.tensor(float(V), dtype=F64)).item(), dtype=F64),
                torch.tensor([[True, True, True, False], [True, True, False, False]])),
               expected=torch.tensor(float(V), dtype=F64))


# ----------------------------------------------------------------------------- make it work: train_embeddings

ANALOGY_MIN_SHARE = 0.85
"""Share of the planted analogies the trained embeddings must solve (stated in the notebook)."""


def _shuffled_corpus(n_sentences, seed):
    """A toy corpus whose word ids are permuted (the special tokens keep 0, 1, 2): the kernel sees ids only."""
    from course.toy_corpus import SPECIALS, make_toy_corpus

    corpus = make_toy_corpus(n_sentences=n_sentences, seed=seed)
    v, n_special = len(corpus.vocab), len(SPECIALS)
    relabel = torch.cat([torch.arange(n_special), n_special + torch.randperm(v - n_special, generator=_gen(seed))])
    return [relabel[s] for s in corpus.ids()], v, relabel[corpus.analogy_ids()]


def _embeddings_compare(got, expected, case: Case) -> str | None:
    v = case.args[1]
    if not isinstance(got, torch.Tensor) or got.dim() != 2 or got.shape[0] != v or not got.is_floating_point():
        return f"train_embeddings should return a floating tensor of shape (vocab_size, dim) = ({v}, dim)."
    emb = got.detach().to("cpu", F64)
    if not torch.isfinite(emb).all():
        return "the embeddings contain NaN or inf."
    quads = expected["quads"]
    if (emb[quads.unique()].norm(dim=1) == 0).any():
        return "a word of the analogies has an all-zero embedding."
    answers = ref.analogy(emb, quads[:, 0], quads[:, 1], quads[:, 2])
    share = (answers == quads[:, 3]).double().mean().item()
    if share < expected["min_share"]:
        return (f"the embeddings solve {share:.1%} of the planted analogies, below the target "
                f"{expected['min_share']:.0%}.")
    return None


@check("train_embeddings", compare=_embeddings_compare,
       hint="Train on all the skip-gram pairs with your sgns_grads: descend (subtract the gradient), send the "
            "negatives' gradients to the context vectors of the negative ids, and accumulate repeated ids.")
def _train_embeddings_cases():
    sentences, v, quads = _shuffled_corpus(2000, seed=1071)
    yield Case(f"2000 sentences with shuffled word ids, seed 5: at least {ANALOGY_MIN_SHARE:.0%} of the "
               f"{len(quads)} planted analogies", (sentences, v, 5),
               expected={"quads": quads, "min_share": ANALOGY_MIN_SHARE})


# ----------------------------------------------------------------------------- concept questions

def _answer_compare(got, expected, case: Case) -> str | None:
    if not isinstance(got, str) or got.strip().lower() not in {"a", "b", "c", "d"}:
        return "answer with one of the letters 'a', 'b', 'c', 'd' (a string)."
    return None if got.strip().lower() == expected else "that is not the right answer; reread the section."


def _answer_cases(expected):
    def cases():
        yield Case("your answer", (), expected=expected)
    return cases


check("negatives_answer", compare=_answer_compare)(_answer_cases(ref.negatives_answer()))
check("subsampling_answer", compare=_answer_compare)(_answer_cases(ref.subsampling_answer()))
check("perplexity_meaning_answer", compare=_answer_compare)(_answer_cases(ref.perplexity_meaning_answer()))
