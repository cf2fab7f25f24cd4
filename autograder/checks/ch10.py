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
       hint="log(sigmoid(x)) underflows to -inf for very negative x; use min(x, 0) - log1p(exp(-|x|)).")
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
       hint="dL/ds_o = sigmoid(s_o) - 1 and dL/ds_k = +sigmoid(s_k); v collects both terms.")
def _sgns_grads_cases():
    yield Case("float64, B=6, K=4, D=5", _sgns_inputs(11, 6, 4, 5))
    yield Case("float64, B=1, K=1, D=2", _sgns_inputs(12, 1, 1, 2))
    yield Case("float32, B=4, K=3, D=7", _sgns_inputs(13, 4, 3, 7, F32))
    yield Case("float64, large scores (vectors scaled by 10)", _sgns_inputs(14, 5, 5, 4, scale=10.0))


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
       hint="Logits at t predict ids[t + 1]: use logits[:, :-1] against ids[:, 1:], skip pad targets, "
            "and average over the tokens that count.")
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
       hint="Pool the NLL of every valid token of the batch: exp(sum(mask * nll) / sum(mask)).")
def _perplexity_cases():
    yield Case("float64 (3, 8), uneven lengths", _perplexity_inputs(60, 3, 8, [8, 3, 5]))
    yield Case("float32 (2, 5), uneven lengths", _perplexity_inputs(61, 2, 5, [5, 1], F32))
    yield Case("float64 (4, 6), no padding", _perplexity_inputs(62, 4, 6, [6, 6, 6, 6]))
    V = 17
    yield Case("uniform model over 17 words: perplexity 17",
               (torch.full((2, 4), torch.log(torch.tensor(float(V), dtype=F64)).item(), dtype=F64),
                torch.tensor([[True, True, True, False], [True, True, False, False]])),
               expected=torch.tensor(float(V), dtype=F64))
