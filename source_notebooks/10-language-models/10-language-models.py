# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 10 · Embeddings and pretraining
#
# Before a network can read text it needs numbers: each word becomes a vector, an *embedding*. This chapter
# trains word embeddings with the skip-gram objective and negative sampling on a small corpus whose structure we
# planted ourselves, checks that the famous analogy arithmetic (king − man + woman ≈ queen) comes out of it, and
# then writes the two self-supervised objectives behind today's pretrained language models: BERT's masked
# language model and the next-token loss of a causal (GPT-style) model, with perplexity as its score.
#
# **Learning goals**
# - Extract (center, context) training pairs from a sentence with a window.
# - Write the skip-gram negative-sampling loss with a numerically stable log-sigmoid, and derive its gradients
#   with respect to the center, context and negative vectors by hand (checked against autograd in float64).
# - Train embeddings on a toy corpus and solve analogies by cosine similarity, excluding the query words.
# - Corrupt a batch of token ids exactly as BERT does (15% selected; of those 80% `[MASK]`, 10% random,
#   10% unchanged), with the random draws specified so that the result is reproducible.
# - Compute the shifted next-token cross-entropy of a causal language model, ignoring padding, and its perplexity.
#
# **Notes followed.** *CS 182/282A discussion worksheets*, discussion 8, §1.1 (word embeddings, naive Word2Vec,
# making Word2Vec tractable with negative samples) and §1.2 (pretrained language models: ELMo and BERT); the NYU
# deep-learning notes, lecture 8 "Applications in NLP" (word2vec, skip-grams and CBOW, ELMo, BERT and GPT-2),
# and lecture 6 "Recurrent Neural Nets" for the definition of perplexity.
#
# **Conventions used throughout.** Token ids are `torch.int64`. Every word $w$ has two vectors, a *center* vector
# $v_w$ (used when $w$ is the middle word) and a *context* vector $u_w$ (used when $w$ is a neighbour). A label of
# `-100` means "nothing to predict here", as in `torch.nn.functional.cross_entropy(ignore_index=-100)`.
# Functions return tensors in the dtype and device of their floating inputs (ids stay `torch.int64`) and never
# change their inputs in place; the dtype and shape a statement names are graded.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import math
import numpy as np
import torch
import torch.nn.functional as F
import matplotlib.pyplot as plt
import ipywidgets as widgets
from course.checks import expect_close, expect_true, expect_shape
from course.demos import interact, needs_exercises

# %%
# The examples here are tiny; one thread avoids stalls on a busy machine.
torch.set_num_threads(1)

# %% [markdown]
# ## 1. A corpus with a planted structure
#
# To know whether embeddings have learned something, we use a corpus where we know the answer. The course
# package writes sentences from a seed (`course.toy_corpus`). Each *entity* word is the combination of two
# attributes, and each attribute shows up through its own context words:
#
# - people: gender (male/female) × role (person, royal, child, parent, sibling, heir): `man woman king queen ...`;
#   gender shows in pronouns (`he his him` / `she her hers`), the role in words such as `crown throne palace`;
# - places: nation × kind (country/capital): `france paris italy rome ...`; the nation shows in `french wine`,
#   the kind in `borders nation` / `streets mayor`.
#
# A sentence names one entity and draws one context word per attribute, *independently*, plus filler words.
# So how often `queen` appears next to `crown` depends only on the role, and next to `she` only on the gender.
# This independence is what makes the analogies work (see §3).

# %%
from course.toy_corpus import make_toy_corpus

corpus = make_toy_corpus(n_sentences=3000, seed=0)
V = len(corpus.vocab)
print(f"{len(corpus)} sentences, vocabulary of {V} words (ids 0, 1, 2 = {corpus.vocab[:3]})")
for s in corpus.sentences[:6]:
    print("  ", " ".join(s))
print("encoded:", corpus.encode(corpus.sentences[0]).tolist())

# %% [markdown]
# ## 2. Skip-gram: predicting the neighbours of a word
#
# The skip-gram model (lecture 8) reads a sentence $x_1, \dots, x_T$ and, for each *center* position $i$, tries
# to predict the words at the positions $j$ with $1 \le |i - j| \le m$, where $m$ is the window radius. The
# training data is therefore a list of (center word, context word) pairs. Nothing wraps around: the first word
# of a sentence has no left neighbours, and a word is never its own context.
#
# For the sentence `the king wore his crown` and $m = 1$ the pairs are (the, king), (king, the), (king, wore),
# (wore, king), (wore, his), (his, wore), (his, crown), (crown, his): $2(T-1)$ of them. In general a sentence
# of length $T$ gives $\sum_{k=1}^{\min(m, T-1)} 2(T - k)$ pairs.
#
# ### Exercise 1: `skipgram_pairs`
#
# Implement `skipgram_pairs(ids, window)`: `ids` is an int64 tensor of shape `(T,)`, `window` an int $\ge 1$.
# Return an int64 tensor of shape `(P, 2)` whose rows are `(ids[i], ids[j])` for all positions with
# $1 \le |i - j| \le$ `window`. The order of the rows does not matter (the tests sort them); the reference orders
# them by `i`, then by `j`. A sequence with no pairs gives shape `(0, 2)`.

# %% nbgrader={"grade": false, "grade_id": "skipgram_pairs", "locked": false, "schema_version": 3, "solution": true}
def skipgram_pairs(ids, window):
    """All (center, context) pairs of a sequence within a window.

    Args:
        ids: int64 tensor (T,) of token ids.
        window: the window radius m >= 1.
    Returns:
        int64 tensor (P, 2): rows (ids[i], ids[j]) for 1 <= |i - j| <= window, in any order.
    """
    ### BEGIN SOLUTION
    T = ids.shape[0]
    pos = torch.arange(T, device=ids.device)
    dist = (pos[:, None] - pos[None, :]).abs()
    i, j = torch.nonzero((dist >= 1) & (dist <= window), as_tuple=True)
    return torch.stack([ids[i], ids[j]], dim=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_skipgram_pairs", "locked": true, "points": 1, "schema_version": 3, "solution": false}
pairs = skipgram_pairs(torch.tensor([10, 11, 12, 13]), 2)
expect_true(isinstance(pairs, torch.Tensor) and pairs.dtype == torch.int64,
            "skipgram_pairs should return an int64 tensor.")
expect_true(pairs.dim() == 2 and pairs.shape[1] == 2, f"skipgram_pairs should return shape (P, 2), got {tuple(pairs.shape)}.")
expected_pairs = [(10, 11), (10, 12), (11, 10), (11, 12), (11, 13), (12, 10), (12, 11), (12, 13), (13, 11), (13, 12)]
got_pairs = sorted(map(tuple, pairs.tolist()))
expect_true(got_pairs == expected_pairs,
            f"skipgram_pairs([10, 11, 12, 13], window=2): expected (sorted) {expected_pairs}, got {got_pairs}.",
            hint="Take both sides of the center, at distances 1 .. window, never the center itself, never wrapping around.")
expect_true(tuple(skipgram_pairs(torch.tensor([5]), 3).shape) == (0, 2),
            "a single token has no context: expected shape (0, 2).")

# %% nbgrader={"grade": true, "grade_id": "test_skipgram_pairs_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("skipgram_pairs", skipgram_pairs)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### From a softmax over the vocabulary to negative sampling
#
# Naive Word2Vec (discussion 8, §1.1.1) models the probability of a context word $o$ given a center word $c$ by a
# softmax over the whole vocabulary $\mathcal V$:
#
# $$p(o \mid c) = \frac{\exp(u_o^\top v_c)}{\sum_{w \in \mathcal V} \exp(u_w^\top v_c)} .$$
#
# Lecture 8 writes the same model as a two-layer linear network followed by a softmax; its log-likelihood for a
# pair is $u_o^\top v_c - \log\sum_{w} \exp(u_w^\top v_c)$ (the notes reuse the letter $j$ for the summation
# index; it is a dummy variable). The normalizing sum touches every word of the vocabulary for every pair: far
# too slow for $10^5$ words. Negative sampling (§1.1.2) replaces the softmax by binary classification. For a true
# pair $(c, o)$, the "is a real neighbour" probability is $\sigma(u_o^\top v_c)$ with $\sigma(s) = 1/(1+e^{-s})$,
# and for $K$ *negative* words $w_1, \dots, w_K$ drawn at random from the vocabulary the "is not a neighbour"
# probability is $1 - \sigma(u_{w_k}^\top v_c) = \sigma(-u_{w_k}^\top v_c)$. The loss of one example is the negative
# log-likelihood
#
# $$\ell = -\log\sigma(s_o) - \sum_{k=1}^{K} \log\sigma(-s_k), \qquad s_o = u_o^\top v_c, \quad s_k = u_{w_k}^\top v_c .$$
#
# Without the negatives the loss would be minimized by making all vectors equal and huge (every pair then
# looks real); the negatives push $v_c$ away from random words.
#
# **A stable log-sigmoid.** $\log\sigma(s) = -\log(1 + e^{-s})$. Written as `log(sigmoid(s))`, it fails for very
# negative $s$: $\sigma(-800) = e^{-800}$ underflows to 0 in float64 and the log returns $-\infty$ although the true
# value is $\approx -800$. Written as `-log(1 + exp(-s))`, $e^{800}$ overflows. The cure is to pull the large part
# out: for $s < 0$, $\log\sigma(s) = s - \log(1 + e^{s})$, and for $s \ge 0$, $\log\sigma(s) = -\log(1 + e^{-s})$.
# Both cases together:
#
# $$\log\sigma(s) = \min(s, 0) - \log\!\left(1 + e^{-|s|}\right),$$
#
# where the exponential only sees non-positive numbers, and `torch.log1p` keeps the digits of $\log(1 + \epsilon)$
# when $\epsilon = e^{-|s|}$ is tiny.
#
# ### Exercise 2: `log_sigmoid`
#
# Implement `log_sigmoid(x)` elementwise for a floating tensor of any shape, returning the same shape and dtype,
# finite for every finite input (including $\pm 1000$). Do not call `torch.nn.functional.logsigmoid` (it is the
# oracle of the tests).

# %% nbgrader={"grade": false, "grade_id": "log_sigmoid", "locked": false, "schema_version": 3, "solution": true}
def log_sigmoid(x):
    """log(sigmoid(x)) = -log(1 + exp(-x)), elementwise, without overflow or underflow.

    Args:
        x: floating tensor of any shape.
    Returns:
        tensor of the same shape and dtype, entries <= 0.
    """
    ### BEGIN SOLUTION
    return torch.clamp(x, max=0.0) - torch.log1p(torch.exp(-x.abs()))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_log_sigmoid", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.tensor([-1000.0, -20.0, 0.0, 20.0, 1000.0], dtype=torch.float64)
expected = torch.tensor([-1000.0, -20.0 - math.log1p(math.exp(-20.0)), -math.log(2.0),
                         -math.log1p(math.exp(-20.0)), 0.0], dtype=torch.float64)
expect_close(log_sigmoid(x), expected, what="log_sigmoid([-1000, -20, 0, 20, 1000])",
             hint="Both naive forms fail at one end (log of an underflowed 0, or exp of a huge number): pull the "
                  "large part out of the logarithm so that the exponential only ever sees non-positive numbers.")
expect_true(log_sigmoid(torch.zeros(2, 3)).dtype == torch.float32, "log_sigmoid should keep the dtype (float32 here).")

# %% nbgrader={"grade": true, "grade_id": "test_log_sigmoid_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("log_sigmoid", log_sigmoid)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3: `sgns_loss`
#
# Implement `sgns_loss(center, context, negatives)` for a batch of $B$ examples: `center` holds the center vectors
# $v_c$, shape `(B, D)`; `context` the context vectors $u_o$ of the true neighbours, shape `(B, D)`; `negatives` the
# context vectors of $K$ negative words per example, shape `(B, K, D)`. Return the loss $\ell$ of **each example**,
# shape `(B,)` (no averaging over the batch), using your `log_sigmoid`.

# %% nbgrader={"grade": false, "grade_id": "sgns_loss", "locked": false, "schema_version": 3, "solution": true}
def sgns_loss(center, context, negatives):
    """Skip-gram negative-sampling loss of each example.

    Args:
        center: tensor (B, D), center vectors v_c.
        context: tensor (B, D), true context vectors u_o.
        negatives: tensor (B, K, D), negative context vectors u_k.
    Returns:
        tensor (B,): -log sigmoid(u_o . v_c) - sum_k log sigmoid(-u_k . v_c).
    """
    ### BEGIN SOLUTION
    pos = (center * context).sum(-1)
    neg = torch.einsum("bkd,bd->bk", negatives, center)
    return -log_sigmoid(pos) - log_sigmoid(-neg).sum(-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sgns_loss", "locked": true, "points": 1, "schema_version": 3, "solution": false}
center = torch.tensor([[1.0, 0.0], [30.0, 0.0]], dtype=torch.float64)
context = torch.tensor([[2.0, 0.0], [-30.0, 0.0]], dtype=torch.float64)
negatives = torch.tensor([[[0.0, 1.0], [1.0, 0.0]], [[30.0, 0.0], [0.0, 5.0]]], dtype=torch.float64)
# example 0: s_o = 2, s_k = (0, 1); example 1: s_o = -900, s_k = (900, 0)
expected = torch.tensor([math.log1p(math.exp(-2.0)) + math.log(2.0) + math.log1p(math.e),
                         900.0 + 900.0 + math.log(2.0)], dtype=torch.float64)
loss = sgns_loss(center, context, negatives)
expect_shape(loss, (2,), what="sgns_loss for a batch of 2 (one loss per example)")
expect_close(loss, expected, what="sgns_loss on the hand-made batch",
             hint="Positive term -log sigmoid(s_o), negatives -log sigmoid(-s_k) summed over k; "
                  "the second example needs a stable log-sigmoid.")

# %% nbgrader={"grade": true, "grade_id": "test_sgns_loss_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("sgns_loss", sgns_loss)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### The gradients by hand
#
# Training needs $\nabla_{v_c}\ell$, $\nabla_{u_o}\ell$ and $\nabla_{u_{w_k}}\ell$. The loss reaches the vectors only
# through the $K + 1$ scores, so the derivation splits in two steps: first the derivative of $\ell$ with respect
# to each score, then the chain rule through the dot products $s_o = u_o^\top v_c$, $s_k = u_{w_k}^\top v_c$.
#
# ### Exercise 4: `sgns_score_grads` (a stepping stone)
#
# Derive $\partial\ell/\partial s_o$ and $\partial\ell/\partial s_k$ and implement `sgns_score_grads(center, context,
# negatives)` (shapes as in Exercise 3) returning the pair `(d_pos, d_neg)` of shapes `(B,)` and `(B, K)`: the
# derivative of example $b$'s loss with respect to its positive score and to each of its negative scores, in the
# dtype of the inputs. `torch.sigmoid` is fine.
#
# <details><summary>Hint 1: the derivative of the log-sigmoid</summary>
#
# Write $\log\sigma(s) = -\log(1 + e^{-s})$ and differentiate. Express the result with $\sigma$ only (it helps to
# notice that $e^{-s}/(1 + e^{-s}) = 1 - \sigma(s)$, and that $1 - \sigma(s) = \sigma(-s)$).
# </details>
#
# <details><summary>Hint 2: the negative terms</summary>
#
# A negative score enters as $-\log\sigma(-s_k)$: one more chain rule through the minus sign inside. Check the
# sign with intuition: raising a negative word's score makes it look like a real neighbour, so it must
# *increase* the loss; the derivative is positive.
# </details>
#
# <details><summary>Hint 3: the result</summary>
#
# $\frac{d}{ds}\log\sigma(s) = 1 - \sigma(s)$, so $\partial\ell/\partial s_o = \sigma(s_o) - 1$ (negative: raising
# the true pair's score lowers the loss) and $\partial\ell/\partial s_k = \sigma(s_k)$.
# </details>

# %% nbgrader={"grade": false, "grade_id": "sgns_score_grads", "locked": false, "schema_version": 3, "solution": true}
def sgns_score_grads(center, context, negatives):
    """Derivatives of each example's skip-gram loss with respect to its scores.

    Args:
        center: tensor (B, D).
        context: tensor (B, D).
        negatives: tensor (B, K, D).
    Returns:
        (d_pos (B,), d_neg (B, K)): dl/ds_o and dl/ds_k for each example.
    """
    ### BEGIN SOLUTION
    pos = (center * context).sum(-1)
    neg = torch.einsum("bkd,bd->bk", negatives, center)
    return torch.sigmoid(pos) - 1.0, torch.sigmoid(neg)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sgns_score_grads", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# The oracle: autograd on the scores themselves, in float64.
_s_o = torch.tensor([2.0, -1.0], dtype=torch.float64, requires_grad=True)
_s_k = torch.tensor([[0.5, -3.0], [1.0, 0.0]], dtype=torch.float64, requires_grad=True)
_l = (-F.logsigmoid(_s_o) - F.logsigmoid(-_s_k).sum(-1)).sum()
_d_o, _d_k = torch.autograd.grad(_l, (_s_o, _s_k))
# vectors whose dot products are exactly those scores: v = e_1, u_o = s_o e_1, u_k = s_k e_1
_v = torch.tensor([[1.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
_u = torch.stack([_s_o.detach(), torch.zeros(2, dtype=torch.float64)], dim=1)
_n = torch.stack([_s_k.detach(), torch.zeros(2, 2, dtype=torch.float64)], dim=2)
got = sgns_score_grads(_v, _u, _n)
expect_true(isinstance(got, tuple) and len(got) == 2, "sgns_score_grads should return a pair (d_pos, d_neg).")
expect_close(got[0], _d_o, what="d_pos for the scores s_o = (2, -1)",
             hint="Differentiate -log sigmoid(s) (Hint 1): the result is negative, and small once s_o is large.")
expect_close(got[1], _d_k, what="d_neg for the scores s_k = ((0.5, -3), (1, 0))",
             hint="A negative score enters through log sigmoid(-s_k): mind the inner minus sign (Hint 2).")

# %% nbgrader={"grade": true, "grade_id": "test_sgns_score_grads_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("sgns_score_grads", sgns_score_grads)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5: `sgns_grads`
#
# Now the chain rule through the dot products. Implement `sgns_grads(center, context, negatives)` (shapes as in
# Exercise 3) returning the tuple `(grad_center, grad_context, grad_negatives)` of shapes `(B, D)`, `(B, D)`,
# `(B, K, D)`: the gradients of `sgns_loss(center, context, negatives).sum()`. Since every row is a separate
# example, row $b$ of each gradient is example $b$'s own gradient. No autograd: use your `sgns_score_grads`.
#
# <details><summary>Hint 1: one dot product</summary>
#
# For $s = u^\top v$: $\partial s/\partial v = u$ and $\partial s/\partial u = v$. Each gradient is a derivative
# from Exercise 4 times the *other* vector of its dot product.
# </details>
#
# <details><summary>Hint 2: who appears where</summary>
#
# $u_o$ appears in one score, each $u_{w_k}$ in one score, but $v_c$ appears in all $K + 1$ of them: its gradient
# is a sum of $K + 1$ terms. Broadcasting `d_neg[:, :, None]` against `(B, K, D)` tensors does the bookkeeping.
# </details>
#
# <details><summary>Hint 3: the result</summary>
#
# $\nabla_{v_c}\ell = (\sigma(s_o) - 1)\,u_o + \sum_{k} \sigma(s_k)\,u_{w_k}$, $\nabla_{u_o}\ell = (\sigma(s_o) - 1)\,v_c$,
# $\nabla_{u_{w_k}}\ell = \sigma(s_k)\,v_c$.
# </details>
#
# Once you have them, read them as forces: gradient *descent* pulls $u_o$ towards $v_c$ by an amount that
# vanishes once the pair is confidently recognized, and pushes each negative away from it. A sign slip on either
# term turns attraction into repulsion.

# %% nbgrader={"grade": false, "grade_id": "sgns_grads", "locked": false, "schema_version": 3, "solution": true}
def sgns_grads(center, context, negatives):
    """Gradients of the summed skip-gram negative-sampling loss.

    Args:
        center: tensor (B, D).
        context: tensor (B, D).
        negatives: tensor (B, K, D).
    Returns:
        (grad_center (B, D), grad_context (B, D), grad_negatives (B, K, D)).
    """
    ### BEGIN SOLUTION
    d_pos, d_neg = sgns_score_grads(center, context, negatives)
    grad_center = d_pos[:, None] * context + torch.einsum("bk,bkd->bd", d_neg, negatives)
    grad_context = d_pos[:, None] * center
    grad_negatives = d_neg[:, :, None] * center[:, None, :]
    return grad_center, grad_context, grad_negatives
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sgns_grads", "locked": true, "points": 2, "schema_version": 3, "solution": false}
_g = torch.Generator().manual_seed(0)
c0, o0, n0 = (torch.randn(*shape, generator=_g, dtype=torch.float64) for shape in [(3, 4), (3, 4), (3, 2, 4)])
leaves = [t.clone().requires_grad_(True) for t in (c0, o0, n0)]
_loss = (-F.logsigmoid((leaves[0] * leaves[1]).sum(-1))
         - F.logsigmoid(-(leaves[2] * leaves[0][:, None, :]).sum(-1)).sum(-1)).sum()
auto = torch.autograd.grad(_loss, leaves)
got = sgns_grads(c0, o0, n0)
expect_true(isinstance(got, tuple) and len(got) == 3, "sgns_grads should return a tuple of three tensors.")
for name, g_got, g_auto in zip(["grad_center", "grad_context", "grad_negatives"], got, auto):
    expect_close(g_got, g_auto, what=f"{name} (float64, against autograd)",
                 hint="Each gradient is a score derivative (Exercise 4) times the OTHER vector of its dot "
                      "product; the center vector takes part in every score of its example.")

# %% nbgrader={"grade": true, "grade_id": "test_sgns_grads_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("sgns_grads", sgns_grads)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Training the embeddings
#
# With the pairs and the gradients we can train. Each step takes a mini-batch of pairs, draws $K = 5$ negatives per
# pair from the unigram distribution raised to the power $3/4$ (the choice of the original word2vec, which
# samples rare words a little more often than their frequency), computes the gradients and applies SGD. Because a
# word can occur several times in a batch, the updates are accumulated with `index_add_`. The context vectors are
# only a training device: we keep the center vectors $v_w$ as the embeddings. You write this loop in Exercise 8,
# once §3 has shown how to score embeddings.
#
# (A negative may by chance be the true context word itself. With 85 words this happens now and then; it only
# weakens that one pair's pull a little, because the two terms push $u_o$ in opposite directions.)
#
# **Subsampling.** On real text, word2vec also *drops* each occurrence of a word $w$ from the training text with
# probability $1 - \sqrt{t / f(w)}$ (for a word frequency $f(w)$ above a threshold $t \approx 10^{-5}$). Words like
# "the" or "of" occur next to nearly every word; their pairs say little about the meaning of their neighbours,
# yet they make up a large share of all pairs. Our toy corpus has only one determiner per sentence, so we skip
# this step.

# %% [markdown]
# ## 3. Analogies by cosine similarity
#
# Why should $v_{\text{king}} - v_{\text{man}} + v_{\text{woman}}$ land near $v_{\text{queen}}$? At its optimum the
# skip-gram score $u_o^\top v_c$ tracks the pointwise mutual information $\log\frac{p(c, o)}{p(c)p(o)}$ shifted by
# $\log K$ (Levy and Goldberg's observation). In our corpus the context word of an entity depends on its gender *or*
# on its role, and the two are drawn independently, so the log co-occurrence statistics split into a gender part
# plus a role part. Embeddings that reproduce such a sum place every entity at
# "gender vector + role vector": the four words man, woman, king, queen form a parallelogram, and
# $v_b - v_a + v_c$ is the fourth corner. Real text only approximately has this structure.
#
# To answer "a is to b as c is to ?", compute the query $q = e_b - e_a + e_c$ and return the word whose embedding has
# the largest **cosine similarity** $\cos(e_w, q) = e_w^\top q / (\lVert e_w\rVert\,\lVert q\rVert)$. Two details matter:
#
# - *Normalize.* A raw dot product favours long vectors (in real embeddings, frequent words), whatever their
#   direction.
# - *Exclude the query words.* The query is usually closest to $e_c$ itself (and sometimes to $e_b$), since the
#   offset $e_b - e_a$ is small compared with $e_c$; the standard evaluation rules out a, b and c as answers.
#
# ### Exercise 7: `analogy`
#
# Implement `analogy(embeddings, a, b, c, exclude=True)`: `embeddings` is a floating tensor `(V, D)` with non-zero
# rows; `a`, `b`, `c` are int64 tensors `(Q,)` holding $Q$ questions "a[q] is to b[q] as c[q] is to ?". Return an
# int64 tensor `(Q,)` with, for each question, the id $w$ maximizing $\cos(e_w, e_b - e_a + e_c)$; when `exclude` is
# true the three query words of *that* question are not allowed as answers. (Ties are not tested.)

# %% nbgrader={"grade": false, "grade_id": "analogy", "locked": false, "schema_version": 3, "solution": true}
def analogy(embeddings, a, b, c, exclude=True):
    """Nearest word (cosine) to e_b - e_a + e_c for each question.

    Args:
        embeddings: floating tensor (V, D).
        a, b, c: int64 tensors (Q,), word ids.
        exclude: if True, a, b and c are never returned for their question.
    Returns:
        int64 tensor (Q,), the answers.
    """
    ### BEGIN SOLUTION
    unit = embeddings / embeddings.norm(dim=1, keepdim=True)
    query = embeddings[b] - embeddings[a] + embeddings[c]
    sims = query @ unit.T  # the query's own norm does not change the argmax
    if exclude:
        rows = torch.arange(sims.shape[0], device=sims.device)
        for w in (a, b, c):
            sims[rows, w] = -torch.inf
    return sims.argmax(dim=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_analogy", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# words: 0 man, 1 woman, 2 king, 3 queen, 4 a long "hub" vector, 5 a distractor
E_small = torch.tensor([[3.0, 0.0, 0.0], [3.0, 0.0, 0.2], [0.0, 3.0, 0.0],
                        [0.5, 3.0, 0.2], [2.0, 30.0, 10.0], [0.2, 3.0, -0.5]], dtype=torch.float64)
man, woman, king = torch.tensor([0]), torch.tensor([1]), torch.tensor([2])
ans = analogy(E_small, man, woman, king)
expect_true(isinstance(ans, torch.Tensor) and ans.dtype == torch.int64 and tuple(ans.shape) == (1,),
            "analogy should return an int64 tensor of shape (Q,) = (1,) here.")
expect_true(int(ans[0]) == 3,
            f"man : woman :: king : ? should be 3 (queen), got {int(ans[0])}.",
            hint="2 = king is the query word c (exclude it), 4 = the long hub wins only a dot product (normalize), "
                 "5 is the answer to man - woman + king (mind the direction b - a + c).")
expect_true(int(analogy(E_small, man, woman, king, exclude=False)[0]) == 2,
            "with exclude=False the query word king (2) is the nearest and should be returned.")

# %% nbgrader={"grade": true, "grade_id": "test_analogy_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("analogy", analogy)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 8 (make it work): `train_embeddings`
#
# Train skip-gram embeddings with **your own** `skipgram_pairs` and `sgns_grads`, well enough to solve the planted
# analogies. Implement `train_embeddings(sentences, vocab_size, seed, dim=10, window=4, num_negatives=5, lr=10.0,
# batch_size=512, epochs=4)`: `sentences` is a list of int64 tensors of word ids in `0 .. vocab_size - 1`; return
# the center vectors, a floating tensor `(vocab_size, dim)` with non-zero rows. Follow the recipe of "Training the
# embeddings" above: all the pairs of all the sentences, shuffled every epoch; negatives from the unigram counts to
# the power 3/4; vectors initialized at `0.1 * torch.randn`; plain SGD with the step `-lr / len(batch) * gradient`,
# accumulated with `index_add_`. Draw every random number from `torch.Generator().manual_seed(seed)`.
#
# **Target:** at least **85% of the planted analogies** solved by `analogy` (with the query words excluded). The
# grader trains your function on a corpus it writes itself (2000 sentences from a seed you do not know) in which
# the word ids are **shuffled** (only the ids of `[PAD]`, `[MASK]`, `[UNK]` stay 0, 1, 2), and scores the analogies
# in its own process: your function sees ids, never words. The reference solves 98-100% of them in about three
# seconds. The grader calls `train_embeddings(sentences, vocab_size, seed)`, so the defaults must be the settings
# that work for you.
#
# <details><summary>Hint 1: the pieces</summary>
#
# The pairs: concatenate `skipgram_pairs` over the sentences. The noise distribution: `torch.bincount` of all
# the ids (with `minlength=vocab_size`), to the power 3/4, normalized. The negatives of a batch:
# `torch.multinomial(noise, len(batch) * num_negatives, replacement=True, generator=...)`, reshaped.
# </details>
#
# <details><summary>Hint 2: if the analogies fail</summary>
#
# Check the direction of each update (you descend the loss: a gradient step *subtracts*), that the negatives'
# gradients go to the *context* table at the negatives' ids, and that a word occurring twice in a batch gets
# both updates (plain indexed assignment `table[ids] -= ...` keeps only one of them).
# </details>

# %% nbgrader={"grade": false, "grade_id": "train_embeddings", "locked": false, "schema_version": 3, "solution": true}
def train_embeddings(sentences, vocab_size, seed, dim=10, window=4, num_negatives=5, lr=10.0, batch_size=512,
                     epochs=4):
    """Skip-gram with negative sampling, trained by SGD with your own gradients.

    Args:
        sentences: list of int64 tensors (T_i,) of word ids.
        vocab_size: V.
        seed: seed of the initial vectors, the shuffles and the negatives.
        dim, window, num_negatives, lr, batch_size, epochs: the training's settings.
    Returns:
        the center vectors, a tensor (V, dim).
    """
    ### BEGIN SOLUTION
    g = torch.Generator().manual_seed(seed)
    pairs = torch.cat([skipgram_pairs(s, window) for s in sentences])
    counts = torch.bincount(torch.cat(list(sentences)), minlength=vocab_size).double()
    noise = counts ** 0.75 / (counts ** 0.75).sum()
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
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_train_embeddings", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.toy_corpus import make_toy_corpus
_corpus = make_toy_corpus(n_sentences=2000, seed=0)
_emb = train_embeddings(_corpus.ids(), len(_corpus.vocab), seed=0)
expect_shape(_emb, (len(_corpus.vocab), _emb.shape[1]), what="train_embeddings(...) (one row per word)")
_quads = _corpus.analogy_ids()
_solved = (analogy(_emb.double(), _quads[:, 0], _quads[:, 1], _quads[:, 2]) == _quads[:, 3]).double().mean().item()
print(f"planted analogies solved (scored with your analogy): {_solved:.1%} of {len(_quads)} (target 85%)")
expect_true(_solved >= 0.85, f"{_solved:.1%} of the planted analogies solved, below the target 85%: see the hints "
                             "(and make sure your analogy passes its own tests).")

# %% nbgrader={"grade": true, "grade_id": "test_train_embeddings_2", "locked": true, "points": 5, "schema_version": 3, "solution": false}
# Hidden tests (another corpus with shuffled word ids, another seed) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("train_embeddings", train_embeddings)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# The answers of your trained embeddings on the planted analogies of the corpus (man : woman :: king : queen,
# france : paris :: italy : rome, and their permutations), and look at a 2-D projection. The PCA of the
# people's embeddings shows the parallelograms: the arrows from each male word to its female counterpart are
# nearly parallel and of equal length.

# %%
with needs_exercises():
    emb_center = _emb if "_emb" in globals() else train_embeddings(make_toy_corpus(2000, seed=0).ids(), V, seed=0)
    quads = corpus.analogy_ids()
    try:
        answers = analogy(emb_center, quads[:, 0], quads[:, 1], quads[:, 2])
        print(f"planted analogies solved: {(answers == quads[:, 3]).float().mean().item():.0%} of {len(quads)}")
        for q, w in list(zip(quads, answers))[:4] + list(zip(quads, answers))[-2:]:
            a_, b_, c_, d_ = corpus.decode(q)
            print(f"  {a_} : {b_} :: {c_} : {corpus.vocab[int(w)]}   (planted: {d_})")
    except NotImplementedError:
        print("analogy is not implemented yet.")

# %%
with needs_exercises():
    from course.toy_corpus import PEOPLE, PLACES


    def pca_2d(X):
        Xc = X - X.mean(0)
        _, _, Vt = torch.linalg.svd(Xc, full_matrices=False)
        return Xc @ Vt[:2].T


    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, groups, title in [(axes[0], PEOPLE, "people: male -> female"), (axes[1], PLACES, "places: country -> capital")]:
        words = [w for pair in groups.values() for w in pair]
        Z = pca_2d(emb_center[corpus.word_ids(words)]).numpy()
        for k, word in enumerate(words):
            ax.scatter(*Z[k], color="C0" if k % 2 == 0 else "C3")
            ax.annotate(word, Z[k], textcoords="offset points", xytext=(4, 4))
        for k in range(0, len(words), 2):
            ax.annotate("", Z[k + 1], Z[k], arrowprops=dict(arrowstyle="->", color="gray"))
        ax.set_title(f"PCA of the learned embeddings, {title}")
    plt.tight_layout()
    plt.show()

# %% [markdown]
# ## 4. Pretraining contextual models: BERT's masked language model
#
# Word2vec gives one vector per word, whatever its context. ELMo and BERT instead take the hidden states of a
# model that has read the whole sentence (discussion 8, §1.2; lecture 8). BERT's encoder attends in both
# directions, so "predict the next word" would be trivial: the answer is in the input. BERT instead hides some
# tokens and predicts them. Its recipe: select each position with probability 15%; of the selected positions,
# replace 80% by `[MASK]`, 10% by a random token, and leave 10% unchanged. The loss is computed **only** at the
# selected positions; the unchanged 10% force the model to keep a good representation of every input word (it
# cannot tell which unmasked words will be scored), and the random 10% keep it from trusting the input blindly.
# Labels carry the original token at selected positions and `-100` elsewhere, which
# `F.cross_entropy(..., ignore_index=-100)` skips.
#
# ### Exercise 9: `bert_mask`
#
# Implement `bert_mask(ids, mask_id, vocab_size, generator, mask_prob=0.15)` for int64 `ids` of any shape. So that
# the result can be graded exactly, draw the random numbers in **exactly this order**, each with the full shape of
# `ids` and `generator=generator`:
#
# 1. `u = torch.rand(ids.shape, generator=generator)`: a position is *selected* when `u < mask_prob`;
# 2. `r = torch.rand(ids.shape, generator=generator)`: a selected position becomes `mask_id` when `r < 0.8`,
#    the random token when `0.8 <= r < 0.9`, and keeps its id when `r >= 0.9`;
# 3. `rand_tok = torch.randint(vocab_size, ids.shape, generator=generator)`: the random tokens.
#
# Return `(corrupted, labels)`, two int64 tensors of the shape of `ids`: `labels` is `ids` at selected positions and
# `-100` elsewhere. Unselected positions of `corrupted` equal `ids`. Do not modify `ids` in place.

# %% nbgrader={"grade": false, "grade_id": "bert_mask", "locked": false, "schema_version": 3, "solution": true}
def bert_mask(ids, mask_id, vocab_size, generator, mask_prob=0.15):
    """BERT's masked-language-model corruption.

    Args:
        ids: int64 tensor of any shape.
        mask_id: the id of [MASK].
        vocab_size: random tokens come from 0 .. vocab_size - 1.
        generator: torch.Generator used for the three draws (rand, rand, randint, in that order).
        mask_prob: selection probability.
    Returns:
        (corrupted, labels): int64 tensors of the shape of ids; labels are -100 at unselected positions.
    """
    ### BEGIN SOLUTION
    u = torch.rand(ids.shape, generator=generator, device=ids.device)
    r = torch.rand(ids.shape, generator=generator, device=ids.device)
    rand_tok = torch.randint(vocab_size, ids.shape, generator=generator, device=ids.device, dtype=ids.dtype)
    selected = u < mask_prob
    corrupted = torch.where(selected & (r < 0.8), torch.full_like(ids, mask_id), ids)
    corrupted = torch.where(selected & (r >= 0.8) & (r < 0.9), rand_tok, corrupted)
    labels = torch.where(selected, ids, torch.full_like(ids, -100))
    return corrupted, labels
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_bert_mask", "locked": true, "points": 1, "schema_version": 3, "solution": false}
ids = torch.arange(3, 23).reshape(2, 10)
corrupted, labels = bert_mask(ids, 1, 30, torch.Generator().manual_seed(0), mask_prob=0.5)
expect_close(ids, torch.arange(3, 23).reshape(2, 10), what="ids after the call",
             hint="Work on a copy (torch.where or clone); do not write into ids.")
expect_close(labels, torch.tensor([[3, -100, 5, 6, 7, -100, 9, -100, 11, -100],
                                   [13, 14, 15, 16, 17, -100, -100, -100, 21, 22]]),
             what="labels (seed 0, mask_prob 0.5)",
             hint="labels = ids at the selected positions (u < mask_prob), -100 at all others.")
expect_close(corrupted, torch.tensor([[1, 4, 1, 19, 1, 8, 9, 10, 1, 12],
                                      [1, 14, 1, 1, 1, 18, 19, 20, 1, 1]]),
             what="corrupted ids (seed 0, mask_prob 0.5)",
             hint="Draw rand, rand, randint in this order with ids.shape; apply the 80/10/10 split only to the "
                  "selected positions. Position (0, 3) gets the random token, (0, 6) and (1, 1) stay unchanged.")

# %% nbgrader={"grade": true, "grade_id": "test_bert_mask_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("bert_mask", bert_mask)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# Move the slider to change the selection probability and see a sentence of the corpus as BERT would receive it
# (underlined words are the ones to predict; the counts are over the whole corpus with the same draws).

# %%
padded = corpus.padded_ids()


def show_masking(mask_prob=0.15, seed=0):
    try:
        x, y = bert_mask(padded, corpus.mask_id, V, torch.Generator().manual_seed(seed), mask_prob=mask_prob)
    except NotImplementedError:
        print("bert_mask is not implemented yet.")
        return
    for row in range(3):
        shown = []
        for tok, orig, lab in zip(x[row].tolist(), padded[row].tolist(), y[row].tolist()):
            word = corpus.vocab[tok]
            shown.append(f"_{word}_" if lab != -100 else word)
        print("original :", " ".join(corpus.decode(padded[row])))
        print("corrupted:", " ".join(shown))
    sel = y != -100
    n_sel = int(sel.sum())
    n_mask = int((x[sel] == corpus.mask_id).sum())
    n_same = int((x[sel] == padded[sel]).sum())
    print(f"selected {n_sel / y.numel():.1%} of positions; of those [MASK] {n_mask / max(n_sel, 1):.1%}, "
          f"unchanged {n_same / max(n_sel, 1):.1%}, random {(n_sel - n_mask - n_same) / max(n_sel, 1):.1%}")


interact(show_masking, mask_prob=(0.0, 1.0, 0.05), seed=(0, 20, 1));

# %% [markdown]
# ## 5. Causal language models: the next-token loss and perplexity
#
# GPT-style models read left to right (a causal mask in the attention, chapter 09) and are trained to predict
# each next token. The model maps the tokens $x_1, \dots, x_T$ to logits $z_1, \dots, z_T \in \mathbb R^{V}$ where $z_t$
# may only depend on $x_{\le t}$; the prediction at position $t$ is scored against the token at $t + 1$:
#
# $$\mathcal L = \frac{1}{N}\sum_{b}\sum_{t=1}^{T-1} \mathbb 1[x_{b,t+1} \ne \text{pad}]\,
#   \big(-\log\operatorname{softmax}(z_{b,t})[x_{b,t+1}]\big),$$
#
# where $N$ counts the (position, sequence) pairs that are not padding. The last position has no target, and
# padding targets are skipped; the loss averages over **tokens**, pooled over the whole batch. Forgetting the shift
# asks the model to copy its input, which a causal model does perfectly and uselessly.
#
# **Perplexity** (lecture 6) is the exponential of the mean negative log-likelihood per token,
# $\mathrm{PPL} = \exp(\mathcal L)$. A model that spreads its probability uniformly over $V$ words has
# $\mathcal L = \log V$ and perplexity $V$; a perfect model has perplexity 1. Read it as the number of words the
# model is still choosing between, on average (geometrically).
#
# ### Exercise 10: `next_token_loss`
#
# Implement `next_token_loss(logits, ids, pad_id=None)`: `logits` is floating `(B, T, V)`, `ids` is int64 `(B, T)`.
# Return the 0-d mean negative log-likelihood $\mathcal L$ above in the dtype of `logits`, computed stably (large
# logits must not overflow). With `pad_id=None` every target counts. The tests' oracle is
# `F.cross_entropy(..., ignore_index=-100)`; you may use it too, or write the log-softmax yourself.

# %% nbgrader={"grade": false, "grade_id": "next_token_loss", "locked": false, "schema_version": 3, "solution": true}
def next_token_loss(logits, ids, pad_id=None):
    """Mean cross-entropy of predicting ids[:, t + 1] from logits[:, t], ignoring pad targets.

    Args:
        logits: floating tensor (B, T, V).
        ids: int64 tensor (B, T).
        pad_id: id of the padding token, or None.
    Returns:
        0-d tensor, mean NLL over the predicted (non-pad) tokens.
    """
    ### BEGIN SOLUTION
    lg = logits[:, :-1]
    target = ids[:, 1:]
    nll = torch.logsumexp(lg, dim=-1) - lg.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    if pad_id is None:
        return nll.mean()
    keep = (target != pad_id).to(nll.dtype)
    return (nll * keep).sum() / keep.sum()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_next_token_loss", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_g = torch.Generator().manual_seed(1)
lm_logits = torch.randn(2, 5, 6, generator=_g, dtype=torch.float64)
lm_ids = torch.tensor([[3, 1, 4, 1, 5], [2, 5, 0, 0, 0]])  # pad id 0: the second sequence has 2 real tokens
target = torch.tensor([[1, 4, 1, 5], [5, -100, -100, -100]])
expect_close(next_token_loss(lm_logits, lm_ids, pad_id=0),
             F.cross_entropy(lm_logits[:, :-1].reshape(-1, 6), target.reshape(-1), ignore_index=-100),
             what="next_token_loss on a padded batch (pad_id=0)",
             hint="Score logits[:, t] against ids[:, t + 1], skip padding targets, average over the real tokens.")
expect_close(next_token_loss(lm_logits[:1], lm_ids[:1]),
             F.cross_entropy(lm_logits[0, :-1], lm_ids[0, 1:]), what="next_token_loss without padding")
big = next_token_loss(1000.0 * lm_logits, lm_ids, pad_id=0)
expect_true(bool(torch.isfinite(big)), f"next_token_loss with logits of size ~1000 should be finite, got {big}.",
            hint="Use log-softmax / logsumexp, not log(softmax).")

# %% nbgrader={"grade": true, "grade_id": "test_next_token_loss_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("next_token_loss", next_token_loss)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 11: `perplexity`
#
# Implement `perplexity(token_nll, mask)`: `token_nll` is a floating tensor `(B, T)` of per-token negative
# log-likelihoods, `mask` a bool tensor `(B, T)`, True where the token counts. Return the 0-d tensor
# $\exp\big(\sum_{b,t} m_{bt}\,\mathrm{nll}_{bt} / \sum_{b,t} m_{bt}\big)$ in the dtype of `token_nll`: every valid token of
# the batch is pooled (this is *not* the mean of per-sequence perplexities), and the values at masked-out positions
# must not matter.

# %% nbgrader={"grade": false, "grade_id": "perplexity", "locked": false, "schema_version": 3, "solution": true}
def perplexity(token_nll, mask):
    """exp(mean NLL) over the tokens where mask is True.

    Args:
        token_nll: floating tensor (B, T).
        mask: bool tensor (B, T).
    Returns:
        0-d tensor.
    """
    ### BEGIN SOLUTION
    m = mask.to(token_nll.dtype)
    return torch.exp((token_nll * m).sum() / m.sum())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_perplexity", "locked": true, "points": 1, "schema_version": 3, "solution": false}
nll = torch.tensor([[1.0, 3.0, 9.0], [5.0, 9.0, 9.0]], dtype=torch.float64)
mask = torch.tensor([[True, True, False], [True, False, False]])
expect_close(perplexity(nll, mask), math.exp(3.0), what="perplexity (valid NLLs 1, 3, 5: mean 3)",
             hint="exp of the MEAN NLL over the valid tokens of the whole batch: not the sum, not including the "
                  "padding (the 9s), not a mean of per-sentence perplexities.")
uniform = torch.full((2, 4), math.log(17.0), dtype=torch.float64)
expect_close(perplexity(uniform, torch.ones(2, 4, dtype=torch.bool)), 17.0,
             what="perplexity of a uniform model over 17 words")

# %% nbgrader={"grade": true, "grade_id": "test_perplexity_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("perplexity", perplexity)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **A first language model.** The simplest causal model predicts the next word from the current one only: a
# *bigram* model, whose logits at position $t$ are the log of smoothed counts $\#(x_t, x_{t+1})$. Fit it on 2500
# sentences and measure the perplexity on the other 500. The uniform model scores $V = 85$; the bigram model does
# much better but cannot reach 1: after `the` the entity is genuinely random.

# %%
train_ids, test_ids = padded[:2500], padded[2500:]
pad = corpus.pad_id
bigram = torch.full((V, V), 0.1, dtype=torch.float64)  # add-0.1 smoothing
prev, nxt = train_ids[:, :-1].reshape(-1), train_ids[:, 1:].reshape(-1)
keep = nxt != pad
bigram.index_put_((prev[keep], nxt[keep]), torch.ones(int(keep.sum()), dtype=torch.float64), accumulate=True)
log_probs = torch.log(bigram / bigram.sum(1, keepdim=True))
test_logits = log_probs[test_ids]  # (B, T, V): the row of the current word
try:
    L = next_token_loss(test_logits, test_ids, pad_id=pad)
    tgt = test_ids[:, 1:]
    tok_nll = -torch.log_softmax(test_logits[:, :-1], -1).gather(-1, tgt.unsqueeze(-1)).squeeze(-1)
    print(f"bigram model: test loss {L.item():.3f} nats/token, perplexity {perplexity(tok_nll, tgt != pad).item():.2f}"
          f" (uniform model: {V})")
    per_pos = [math.exp(tok_nll[:, t].mean().item()) for t in range(tok_nll.shape[1])]
    plt.figure(figsize=(5, 3))
    plt.bar(range(1, len(per_pos) + 1), per_pos)
    plt.xlabel("position of the predicted token"); plt.ylabel("perplexity")
    plt.title("Bigram model: which positions are hard?")
    plt.show()
except NotImplementedError:
    print("next_token_loss or perplexity is not implemented yet.")

# %% [markdown]
# ## 6. Concept questions
#
# ### Concept question 1: `negatives_answer`
#
# What do the $K$ negative samples of the skip-gram loss do?
#
# - **a.** They compute the softmax likelihood $p(o \mid c)$ exactly, only faster.
# - **b.** They give the loss something to push away from: with the positive term alone, making every vector long
#   and all of them aligned would drive the loss to 0, so the model would learn nothing. $K$ random words cost
#   $K$ dot products instead of $|\mathcal V|$.
# - **c.** They act as weight decay, keeping the embeddings short.
# - **d.** Without them the gradient with respect to the center vector would be zero.

# %% nbgrader={"grade": false, "grade_id": "negatives_answer", "locked": false, "schema_version": 3, "solution": true}
def negatives_answer():
    """Your answer to concept question 1: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_negatives_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(negatives_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_negatives_answer_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("negatives_answer", negatives_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Concept question 2: `subsampling_answer`
#
# Why does word2vec drop occurrences of very frequent words from its training text (§2, "Subsampling")?
#
# - **a.** Frequent words would otherwise need longer vectors than the others.
# - **b.** Their gradients overflow: they appear in so many pairs that the sum of their updates becomes infinite.
# - **c.** They co-occur with almost every word, so their pairs tell little about meaning while taking up a large
#   share of the updates; dropping them saves time and lets the window reach further for the other words.
# - **d.** It makes the noise distribution of the negatives uniform.

# %% nbgrader={"grade": false, "grade_id": "subsampling_answer", "locked": false, "schema_version": 3, "solution": true}
def subsampling_answer():
    """Your answer to concept question 2: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_subsampling_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(subsampling_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_subsampling_answer_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("subsampling_answer", subsampling_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Concept question 3: `perplexity_meaning_answer`
#
# A language model over a vocabulary of 10 000 words has a perplexity of 4 on a test set. This means:
#
# - **a.** Its mean negative log-likelihood per token is $\ln 4$: on average (geometrically) it is as uncertain
#   as a uniform choice among 4 words.
# - **b.** It predicts the right next word one time in four.
# - **c.** Its test loss is 4 nats per token.
# - **d.** It is 4 times better than a uniform model over the vocabulary.

# %% nbgrader={"grade": false, "grade_id": "perplexity_meaning_answer", "locked": false, "schema_version": 3, "solution": true}
def perplexity_meaning_answer():
    """Your answer to concept question 3: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "a"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_perplexity_meaning_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(perplexity_meaning_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_perplexity_meaning_answer_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("perplexity_meaning_answer", perplexity_meaning_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## What you built
#
# - `skipgram_pairs` turns text into (center, context) pairs; `log_sigmoid`, `sgns_loss`, `sgns_score_grads` and
#   `sgns_grads` are the whole of word2vec's skip-gram with negative sampling, gradients derived by hand, and
#   `train_embeddings` put them together to recover the planted gender, role, nation and capital directions of
#   the toy corpus from ids alone.
# - `analogy` answers "a : b :: c : ?" by cosine similarity with the query words excluded, and exposed the
#   parallelograms in the embeddings.
# - `bert_mask` is BERT's 15% / 80-10-10 corruption with its `-100` labels; `next_token_loss` and `perplexity`
#   are the training loss and the score of every causal language model.
#
# Next, chapter 11 steps back from architectures to ask *why* trained networks generalize, in a linear model of
# over-fitting that can be solved exactly.
