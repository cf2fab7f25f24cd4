"""Word embeddings and language-model pretraining: skip-gram with negative sampling, analogies,
BERT-style masking, the next-token loss and perplexity.

Reference answers for chapter 10 (Embeddings and pretraining). Conventions used throughout:

* token ids are int64 tensors; a batch of sequences is ``(B, T)``;
* every word has a *center* vector :math:`v_w` and a *context* vector :math:`u_w`; a skip-gram example is a
  center vector ``(B, D)``, the context vector of a true neighbour ``(B, D)`` and ``K`` negative context
  vectors ``(B, K, D)``;
* the skip-gram loss is returned per example (shape ``(B,)``) and its gradients are those of the *sum* of
  the per-example losses (so each row's gradient is that example's own gradient);
* language-model logits are ``(B, T, V)`` and the label ``-100`` means "no prediction here", as in
  ``torch.nn.functional.cross_entropy(ignore_index=-100)``.
"""
from __future__ import annotations

import torch

from solutions_lib.linear import log_softmax, sigmoid

__all__ = [
    "log_sigmoid",
    "sgns_loss",
    "sgns_grads",
    "skipgram_pairs",
    "analogy",
    "bert_mask",
    "next_token_loss",
    "perplexity",
    "sgns_score_grads",
    "train_embeddings",
    "negatives_answer",
    "subsampling_answer",
    "perplexity_meaning_answer",
]

IGNORE_INDEX = -100


def log_sigmoid(x):
    r"""The log of the logistic function, :math:`\log\sigma(x) = -\log(1 + e^{-x})`, without overflow.

    Introduced in chapter 10 (Embeddings and pretraining).

    Written as :math:`\min(x, 0) - \log(1 + e^{-|x|})`: the exponential only sees non-positive numbers, and
    ``log1p`` keeps the digits of :math:`\log(1 + \epsilon)` for tiny :math:`\epsilon`.

    Args:
        x: a floating tensor of any shape.

    Returns:
        A tensor of the same shape and dtype, with entries :math:`\le 0`.

    Example:
        >>> log_sigmoid(torch.tensor([0.0, -200.0, 200.0], dtype=torch.float64))
        tensor([-6.9315e-01, -2.0000e+02, -1.3839e-87], dtype=torch.float64)
    """
    return torch.clamp(x, max=0.0) - torch.log1p(torch.exp(-x.abs()))


def sgns_loss(center, context, negatives):
    r"""Skip-gram negative-sampling loss of each example.

    Introduced in chapter 10 (Embeddings and pretraining).

    For a center vector :math:`v`, the context vector :math:`u_o` of a true neighbour and negative context
    vectors :math:`u_1, \dots, u_K`:

    .. math:: \ell = -\log\sigma(u_o^\top v) - \sum_{k=1}^K \log\sigma(-u_k^\top v).

    Args:
        center: tensor ``(B, D)``, the center vectors :math:`v`.
        context: tensor ``(B, D)``, the true context vectors :math:`u_o`.
        negatives: tensor ``(B, K, D)``, the negative context vectors :math:`u_k`.

    Returns:
        tensor ``(B,)``: the loss of each example (not averaged).

    Example:
        >>> v = torch.zeros(1, 2, dtype=torch.float64)
        >>> sgns_loss(v, torch.ones(1, 2, dtype=torch.float64), torch.ones(1, 3, 2, dtype=torch.float64))
        tensor([2.7726], dtype=torch.float64)
    """
    pos = (center * context).sum(-1)  # (B,)
    neg = torch.einsum("bkd,bd->bk", negatives, center)  # (B, K)
    return -log_sigmoid(pos) - log_sigmoid(-neg).sum(-1)


def sgns_score_grads(center, context, negatives):
    r"""Derivatives of each example's skip-gram loss with respect to its scores.

    Introduced in chapter 10 (Embeddings and pretraining).

    With :math:`s_o = u_o^\top v` and :math:`s_k = u_k^\top v`, and
    :math:`\ell = -\log\sigma(s_o) - \sum_k \log\sigma(-s_k)`: since
    :math:`\frac{d}{ds}\log\sigma(s) = 1 - \sigma(s)`, :math:`\partial\ell/\partial s_o = \sigma(s_o) - 1` and
    :math:`\partial\ell/\partial s_k = \sigma(s_k)`.

    Args:
        center: tensor ``(B, D)``.
        context: tensor ``(B, D)``.
        negatives: tensor ``(B, K, D)``.

    Returns:
        ``(d_pos, d_neg)`` of shapes ``(B,)`` and ``(B, K)``.

    Example:
        >>> v = torch.zeros(1, 2, dtype=torch.float64)
        >>> sgns_score_grads(v, torch.ones(1, 2, dtype=torch.float64), torch.ones(1, 3, 2, dtype=torch.float64))
        (tensor([-0.5000], dtype=torch.float64), tensor([[0.5000, 0.5000, 0.5000]], dtype=torch.float64))
    """
    pos = (center * context).sum(-1)
    neg = torch.einsum("bkd,bd->bk", negatives, center)
    return sigmoid(pos) - 1.0, sigmoid(neg)


def sgns_grads(center, context, negatives):
    r"""Gradients of the summed skip-gram negative-sampling loss, by hand.

    Introduced in chapter 10 (Embeddings and pretraining).

    With :math:`s_o = u_o^\top v` and :math:`s_k = u_k^\top v`, :math:`\partial\ell/\partial s_o = \sigma(s_o) - 1`
    and :math:`\partial\ell/\partial s_k = \sigma(s_k)`, so

    .. math:: \nabla_v \ell = (\sigma(s_o) - 1)\,u_o + \sum_k \sigma(s_k)\,u_k,\quad
              \nabla_{u_o}\ell = (\sigma(s_o) - 1)\,v,\quad \nabla_{u_k}\ell = \sigma(s_k)\,v.

    Args:
        center: tensor ``(B, D)``.
        context: tensor ``(B, D)``.
        negatives: tensor ``(B, K, D)``.

    Returns:
        ``(grad_center, grad_context, grad_negatives)`` of shapes ``(B, D)``, ``(B, D)``, ``(B, K, D)``:
        the gradients of ``sgns_loss(center, context, negatives).sum()``.

    Example:
        >>> v = torch.zeros(1, 2, dtype=torch.float64)
        >>> gv, gu, gn = sgns_grads(v, torch.ones(1, 2, dtype=torch.float64), torch.ones(1, 1, 2, dtype=torch.float64))
        >>> gv
        tensor([[0., 0.]], dtype=torch.float64)
    """
    d_pos, d_neg = sgns_score_grads(center, context, negatives)  # (B,), (B, K)
    grad_center = d_pos[:, None] * context + torch.einsum("bk,bkd->bd", d_neg, negatives)
    grad_context = d_pos[:, None] * center
    grad_negatives = d_neg[:, :, None] * center[:, None, :]
    return grad_center, grad_context, grad_negatives


def skipgram_pairs(ids, window):
    r"""All (center, context) pairs of a sequence within a window.

    Introduced in chapter 10 (Embeddings and pretraining).

    Position :math:`j` is a context of position :math:`i` when :math:`1 \le |i - j| \le` ``window`` and both lie
    inside the sequence (no wrap-around, a token is never its own context). Pairs are ordered by the center's
    position, then by the context's position.

    Args:
        ids: int64 tensor ``(T,)`` of token ids.
        window: the window radius, an int >= 1.

    Returns:
        int64 tensor ``(P, 2)``: rows ``(ids[i], ids[j])``.

    Example:
        >>> skipgram_pairs(torch.tensor([7, 8, 9]), 1)
        tensor([[7, 8],
                [8, 7],
                [8, 9],
                [9, 8]])
    """
    T = ids.shape[0]
    pos = torch.arange(T, device=ids.device)
    dist = (pos[:, None] - pos[None, :]).abs()
    i, j = torch.nonzero((dist >= 1) & (dist <= window), as_tuple=True)  # row-major: by i, then j
    return torch.stack([ids[i], ids[j]], dim=1)


def analogy(embeddings, a, b, c, exclude=True):
    r"""Solve "a is to b as c is to ?" by cosine similarity to :math:`e_b - e_a + e_c`.

    Introduced in chapter 10 (Embeddings and pretraining).

    The answer is :math:`\arg\max_w \cos(e_w, e_b - e_a + e_c)` with
    :math:`\cos(x, y) = x^\top y / (\lVert x\rVert \lVert y\rVert)`; when ``exclude`` is true the three query
    words a, b, c of each question are not allowed as answers.

    Args:
        embeddings: floating tensor ``(V, D)``, one row per word (rows must be non-zero).
        a, b, c: int64 tensors ``(Q,)``, the word ids of Q questions.
        exclude: whether to exclude the query words from the answers.

    Returns:
        int64 tensor ``(Q,)``: the answer's word id for each question.

    Example:
        >>> E = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [-1.0, 1.0]])
        >>> analogy(E, torch.tensor([0]), torch.tensor([1]), torch.tensor([2]))
        tensor([3])
    """
    unit = embeddings / embeddings.norm(dim=1, keepdim=True)
    query = embeddings[b] - embeddings[a] + embeddings[c]  # (Q, D)
    query = query / query.norm(dim=1, keepdim=True).clamp_min(torch.finfo(query.dtype).tiny)
    sims = query @ unit.T  # (Q, V)
    if exclude:
        rows = torch.arange(sims.shape[0], device=sims.device)
        sims = sims.clone()
        for w in (a, b, c):
            sims[rows, w] = -torch.inf
    return sims.argmax(dim=1)


def bert_mask(ids, mask_id, vocab_size, generator, mask_prob=0.15):
    r"""BERT's masked-language-model corruption of a batch of token ids.

    Introduced in chapter 10 (Embeddings and pretraining).

    The random numbers are drawn in exactly this order, each with the full shape of ``ids``:

    1. ``u = torch.rand(ids.shape, generator=generator)``: position is *selected* when ``u < mask_prob``;
    2. ``r = torch.rand(ids.shape, generator=generator)``: a selected position becomes ``mask_id`` when
       ``r < 0.8``, a random token when ``0.8 <= r < 0.9``, and stays unchanged when ``r >= 0.9``;
    3. ``rand_tok = torch.randint(vocab_size, ids.shape, generator=generator)``: the random tokens.

    Labels hold the original id at selected positions and ``-100`` elsewhere.

    Args:
        ids: int64 tensor of any shape, e.g. ``(B, T)``.
        mask_id: the id of ``[MASK]``.
        vocab_size: random tokens are drawn from ``0 .. vocab_size - 1``.
        generator: a ``torch.Generator`` on the device of ``ids``.
        mask_prob: the probability of selecting a position (0.15 in BERT).

    Returns:
        ``(corrupted, labels)``: two int64 tensors of the shape of ``ids`` (``ids`` is not modified).

    Example:
        >>> ids = torch.arange(10, 20)
        >>> x, y = bert_mask(ids, 1, 20, torch.Generator().manual_seed(0), mask_prob=0.5)
        >>> x.tolist(), y.tolist()
        ([1, 11, 1, 1, 1, 15, 1, 17, 1, 19], [10, -100, 12, 13, 14, -100, 16, -100, 18, -100])
    """
    u = torch.rand(ids.shape, generator=generator, device=ids.device)
    r = torch.rand(ids.shape, generator=generator, device=ids.device)
    rand_tok = torch.randint(vocab_size, ids.shape, generator=generator, device=ids.device, dtype=ids.dtype)
    selected = u < mask_prob
    to_mask = selected & (r < 0.8)
    to_random = selected & (r >= 0.8) & (r < 0.9)
    corrupted = torch.where(to_mask, torch.full_like(ids, mask_id), ids)
    corrupted = torch.where(to_random, rand_tok, corrupted)
    labels = torch.where(selected, ids, torch.full_like(ids, IGNORE_INDEX))
    return corrupted, labels


def next_token_loss(logits, ids, pad_id=None):
    r"""Mean cross-entropy of a causal language model predicting each next token.

    Introduced in chapter 10 (Embeddings and pretraining).

    The logits at position :math:`t` predict token :math:`t + 1`: the loss averages
    :math:`-\log \operatorname{softmax}(\text{logits}_{b,t})[\text{ids}_{b,t+1}]` over every :math:`b` and
    :math:`t = 0, \dots, T-2` whose *target* ``ids[b, t + 1]`` is not ``pad_id`` (the last position has no
    target). With ``pad_id=None`` every target counts.

    Args:
        logits: floating tensor ``(B, T, V)``.
        ids: int64 tensor ``(B, T)``, the input tokens (their shift is the target).
        pad_id: the padding id, or None.

    Returns:
        a 0-d tensor, the mean negative log-likelihood per predicted token (logits' dtype).

    Example:
        >>> next_token_loss(torch.zeros(1, 3, 4), torch.tensor([[0, 1, 2]]))
        tensor(1.3863)
    """
    logp = log_softmax(logits[:, :-1], dim=-1)  # (B, T-1, V)
    target = ids[:, 1:]
    nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)  # (B, T-1)
    if pad_id is None:
        return nll.mean()
    keep = (target != pad_id).to(nll.dtype)
    return (nll * keep).sum() / keep.sum()


def perplexity(token_nll, mask):
    r"""Perplexity :math:`\exp(\text{mean NLL})` over the tokens that count.

    Introduced in chapter 10 (Embeddings and pretraining).

    All valid tokens of the batch are pooled: :math:`\exp\big(\sum_{b,t} m_{bt}\,\text{nll}_{bt} / \sum_{b,t} m_{bt}\big)`
    (not a mean of per-sequence perplexities).

    Args:
        token_nll: floating tensor ``(B, T)``, the negative log-likelihood of each token.
        mask: bool tensor ``(B, T)``, True where the token counts (False at padding).

    Returns:
        a 0-d tensor of the dtype of ``token_nll``.

    Example:
        >>> perplexity(torch.tensor([[1.0, 3.0, 9.0]]), torch.tensor([[True, True, False]]))
        tensor(7.3891)
    """
    m = mask.to(token_nll.dtype)
    return torch.exp((token_nll * m).sum() / m.sum())


def train_embeddings(sentences, vocab_size, seed, dim=10, window=4, num_negatives=5, lr=10.0, batch_size=512,
                     epochs=4):
    r"""Skip-gram with negative sampling, trained by SGD with the hand-derived gradients.

    Introduced in chapter 10 (Embeddings and pretraining).

    The pairs of every sentence (``skipgram_pairs``) are shuffled each epoch with ``torch.randperm`` and cut
    into batches; each pair draws ``num_negatives`` negatives from the unigram counts raised to the power 3/4
    (``torch.multinomial``, with replacement); center and context vectors start at ``0.1 * randn`` and take
    the step ``-lr / batch * gradient`` (``sgns_grads``), accumulated with ``index_add_`` since a word can occur
    several times in a batch. All draws come from one ``torch.Generator().manual_seed(seed)``.

    Args:
        sentences: list of int64 tensors ``(T_i,)`` of word ids in ``0 .. vocab_size - 1``.
        vocab_size: V.
        seed: the seed of the initial vectors, the shuffles and the negatives.
        dim, window, num_negatives, lr, batch_size, epochs: the training's settings.

    Returns:
        The center vectors, a float32 tensor ``(V, dim)`` (the embeddings).

    Example:
        >>> from course.toy_corpus import make_toy_corpus
        >>> corpus = make_toy_corpus(n_sentences=2000, seed=1)
        >>> E = train_embeddings(corpus.ids(), len(corpus.vocab), seed=0)
        >>> q = corpus.analogy_ids()
        >>> bool((analogy(E, q[:, 0], q[:, 1], q[:, 2]) == q[:, 3]).float().mean() > 0.85)
        True
    """
    g = torch.Generator().manual_seed(seed)
    pairs = torch.cat([skipgram_pairs(s, window) for s in sentences])
    counts = torch.bincount(torch.cat(list(sentences)), minlength=vocab_size).double()
    noise = counts**0.75 / (counts**0.75).sum()
    center = 0.1 * torch.randn(vocab_size, dim, generator=g)
    context = 0.1 * torch.randn(vocab_size, dim, generator=g)
    for _ in range(epochs):
        order = torch.randperm(len(pairs), generator=g)
        for start in range(0, len(pairs), batch_size):
            batch = pairs[order[start:start + batch_size]]
            c, o = batch[:, 0], batch[:, 1]
            n = torch.multinomial(noise, len(batch) * num_negatives, replacement=True, generator=g)
            n = n.view(len(batch), num_negatives)
            gc, go, gn = sgns_grads(center[c], context[o], context[n])
            step = lr / len(batch)
            center.index_add_(0, c, -step * gc)
            context.index_add_(0, o, -step * go)
            context.index_add_(0, n.reshape(-1), -step * gn.reshape(-1, dim))
    return center


# -- concept questions -------------------------------------------------------------------------------------------

def negatives_answer():
    """Concept question of chapter 10: what the negative samples are for.

    Example::

        >>> negatives_answer()
        'b'
    """
    return "b"


def subsampling_answer():
    """Concept question of chapter 10: why word2vec drops frequent words from its training text.

    Example::

        >>> subsampling_answer()
        'c'
    """
    return "c"


def perplexity_meaning_answer():
    """Concept question of chapter 10: what a perplexity of 4 means.

    Example::

        >>> perplexity_meaning_answer()
        'a'
    """
    return "a"
