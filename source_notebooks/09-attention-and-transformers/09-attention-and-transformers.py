# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 09 · Attention and the Transformer
#
# A recurrent network squeezes everything it has read into one hidden state and passes it along, one step at
# a time. Attention takes the opposite route: every position of a sequence looks *directly* at every other
# position, decides how relevant each one is, and takes a weighted average of what it finds. Stack this
# operation with a small per-position network, residual connections and layer normalization, and you have
# the Transformer, the architecture behind today's language models. In this chapter you build it piece by
# piece, check each piece against PyTorch, and derive the backward pass of attention by hand.
#
# **Learning goals**
# - Compute a softmax that leaves out masked positions, and know the two masks of a Transformer:
#   padding masks and causal masks.
# - Implement scaled dot-product attention, and explain the $1/\sqrt{d}$.
# - Derive its gradients with respect to queries, keys and values through the softmax Jacobian, and check
#   them against autograd.
# - Implement multi-head attention with the parameter layout of `torch.nn.MultiheadAttention`.
# - Build the sinusoidal positional encoding and see why it encodes *relative* positions.
# - Assemble a pre-norm Transformer block and match `torch.nn.TransformerEncoderLayer`.
# - Look at attention maps, and read attention as kernel regression.
#
# **Notes followed.** *CS 182/282A discussion worksheets*, discussion 7 (§1.2 self-attention in transformer
# networks, the problems "Generalized attention in matrix form" and "Justifying scaled self-attention", §2.2
# transformer encoders, §2.3 masked decoder self-attention); the *NYU Deep Learning notes*, lecture 7
# ("Transformers": self-attention, transformers); the textbook's chapter 10 (§10.1 transformers and positional
# embedding, §10.1.1 encoders and decoders, §10.1.3 the kernel view of transformers); Kaplan, *Notes on
# Contemporary ML for Physicists*, §5.4 (attention and the Transformer, eqs. 5.4.5-5.4.15).
#
# **Conventions used throughout (those of PyTorch).**
# - Sequences are *batch first*: queries `q` of shape `(..., Lq, d)`, keys `k` of shape `(..., Lk, d)`, values
#   `v` of shape `(..., Lk, dv)`; the leading dimensions `...` (batch, heads) are handled by broadcasting
#   matrix products (a Python loop over them gives the same numbers and the same marks, but runs much slower).
# - A **mask is boolean, and `True` means "takes part in the attention"**; `False` means "masked out". This is
#   the convention of the boolean `attn_mask` of `F.scaled_dot_product_attention`. Beware: the boolean masks
#   of `nn.MultiheadAttention` and `nn.TransformerEncoderLayer` (`attn_mask`, `key_padding_mask`,
#   `src_mask`) mean the opposite (`True` = *not allowed*), so to feed them one of our masks you pass `~mask`.
# - Every function returns tensors of the dtype and device of its inputs and must not modify its inputs.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import math
import numpy as np
import torch
import torch.nn.functional as F
import matplotlib.pyplot as plt
import ipywidgets as widgets
from course.checks import expect_close, expect_true, expect_shape
from course.demos import interact, needs_exercises
from course.reversal import REVERSER, init_reverser_params, reversal_data

# %%
torch.set_num_threads(1)  # tiny tensors: one thread is fastest and steady on a busy machine

# %% [markdown]
# ## 1. Attention as a soft lookup
#
# Think of a dictionary of $L_k$ entries, each with a **key** $k_j \in \mathbb R^d$ and a **value**
# $v_j \in \mathbb R^{d_v}$. A hard lookup returns the value whose key equals the query. Attention makes the
# lookup soft: a **query** $q \in \mathbb R^d$ scores every key by a dot product, the scores go through a
# softmax, and the answer is the resulting average of the values,
#
# $$\text{score}_j = \frac{q^\top k_j}{\sqrt d}, \qquad p_j = \frac{e^{\text{score}_j}}{\sum_{j'} e^{\text{score}_{j'}}},
#   \qquad \text{out} = \sum_j p_j\, v_j .$$
#
# With $L_q$ queries stacked as the rows of $Q$ (and keys and values as the rows of $K$ and $V$) the whole
# thing is three matrix operations (discussion 7, "Generalized attention in matrix form"; Kaplan eq. 5.4.5):
#
# $$\operatorname{Attention}(Q, K, V) = \underbrace{\operatorname{softmax}\!\Big(\frac{Q K^\top}{\sqrt d}\Big)}_{P,\ L_q \times L_k} V ,$$
#
# where the softmax acts on **each row** of the $L_q \times L_k$ score matrix, i.e. over the *keys*: row $i$ of
# $P$ is a probability distribution that says where query $i$ looks. In *self*-attention the queries, keys
# and values are all computed from the same sequence $X$: $Q = X W_Q$, $K = X W_K$, $V = X W_V$.
#
# ### Why divide by $\sqrt d$?
#
# Take $q, k$ with independent entries of mean 0 and variance $\sigma^2$. Then $q^\top k = \sum_{i=1}^d q_i k_i$ is
# a sum of $d$ independent terms of variance $\sigma^4$, so $\operatorname{Var}(q^\top k) = d\,\sigma^4$: the scores
# spread out like $\sqrt d$. (Discussion 7 allows a mean vector $\mu$ too; the trace trick then gives
# $\operatorname{Var}(q^\top k) = 2\sigma^2 \mu^\top\mu + d\sigma^4$. The worksheet's last lines carry an extra factor
# $d$ in the first term, $2d\sigma^2\mu^\top\mu$: since $\operatorname{Tr}(\mu\mu^\top) = \mu^\top\mu$, there is none.
# Either way the spread grows with $d$.) Wide scores saturate the softmax:
# almost all the weight goes to one key and the gradients through the other keys vanish. Dividing by
# $\sqrt d$ brings the standard deviation of the scores back to $\sigma^2$, whatever the width $d$.
#
# ### Masks
#
# Two situations require some scores to be ignored:
#
# - **Padding.** Sequences of different lengths are padded to a common length $L$ to form a batch; no query
#   should look at a padding token. A padding mask of shape `(B, 1, 1, Lk)` (broadcast over heads and
#   queries) is `True` on the real tokens.
# - **Causality.** A decoder that predicts token $i+1$ from tokens $0..i$ must not peek at the future:
#   **query position $i$ may attend to key position $j$ only if $j \le i$**. The causal mask is the lower
#   triangle, `torch.ones(Lq, Lk, dtype=torch.bool).tril()`. (Discussion 7, §2.3, states the condition the
#   other way round, "$i \le j$"; that would let every position see only the *future*. The rule is
#   $j \le i$: look back, never ahead.)
#
# Masking happens **before** the softmax: a masked score is set to $-\infty$, so $e^{-\infty} = 0$ removes it
# from both the numerator and the denominator, and the remaining weights still sum to one. Zeroing
# probabilities *after* the softmax would leave rows that no longer sum to one.
#
# ### Exercise 1: `masked_softmax`
#
# Implement `masked_softmax(scores, mask=None)`: the softmax over the **last** dimension of `scores`
# (shape `(..., L)`) in which the entries where `mask` is `False` get weight exactly 0 and the others are
# normalized among themselves. `mask` is `None` (a plain softmax) or a boolean tensor broadcastable to
# `scores.shape`. Subtract the maximum of the *kept* scores of each row before exponentiating (scores near
# 1000 must not overflow), and return **all zeros** for a row in which every entry is masked out (a plain
# `masked_fill(-inf)` followed by `torch.softmax` gives NaN there). Return the dtype of `scores`.

# %% nbgrader={"grade": false, "grade_id": "masked_softmax", "locked": false, "schema_version": 3, "solution": true}
def masked_softmax(scores, mask=None):
    """Softmax over the last dimension, leaving out the entries where mask is False.

    Args:
        scores: floating tensor, shape (..., L).
        mask: None, or a boolean tensor broadcastable to scores.shape; True = take part.
    Returns:
        tensor of the shape and dtype of scores; rows sum to 1 (all zero if fully masked).
    """
    ### BEGIN SOLUTION
    if mask is None:
        mask = torch.ones_like(scores, dtype=torch.bool)
    z = scores.masked_fill(~mask, float("-inf"))
    top = z.amax(dim=-1, keepdim=True)
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))
    e = torch.exp(z - top)
    total = e.sum(dim=-1, keepdim=True)
    return e / torch.where(total > 0, total, torch.ones_like(total))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_masked_softmax", "locked": true, "points": 1, "schema_version": 3, "solution": false}
s = torch.tensor([[1.0, 2.0, 3.0, 4.0]], dtype=torch.float64)
keep = torch.tensor([[True, True, False, True]])
e = torch.exp(torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64))
expected = torch.stack([e[0], e[1], torch.tensor(0.0, dtype=torch.float64), e[2]]) / e.sum()
expect_close(masked_softmax(s, keep), expected[None], what="masked_softmax([1, 2, 3, 4], keep=[T, T, F, T])",
             hint="Set the masked score to -inf BEFORE the softmax; zeroing a probability after the softmax "
                  "leaves a row that no longer sums to 1.")
expect_close(masked_softmax(s), torch.softmax(s, dim=-1), what="masked_softmax(s) with mask=None",
             hint="With no mask, this is the ordinary softmax over the last dimension.")
s = torch.tensor([[1000.0, 1001.0, 5000.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
keep = torch.tensor([[True, True, False], [False, False, False]])
expect_close(masked_softmax(s, keep), [[1 / (1 + math.e), math.e / (1 + math.e), 0.0], [0.0, 0.0, 0.0]],
             what="masked_softmax on scores near 1000 with a huge masked score and a fully masked row",
             hint="Subtract the maximum of the KEPT scores (a masked 5000 must not be the maximum), and give a "
                  "row with nothing to attend to all-zero weights instead of 0/0 = NaN.")
s = torch.randn(2, 3, 4, 5, generator=torch.Generator().manual_seed(0))
pad = torch.tensor([True, True, True, False, False])
expect_close(masked_softmax(s, pad), torch.softmax(s.masked_fill(~pad, float("-inf")), dim=-1),
             what="masked_softmax(s (2, 3, 4, 5), padding mask (5,))",
             hint="Normalize over the LAST dimension, the keys; the mask broadcasts against the scores.")

# %% nbgrader={"grade": true, "grade_id": "test_masked_softmax_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("masked_softmax", masked_softmax)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2: `scaled_dot_product_attention`
#
# Implement `scaled_dot_product_attention(q, k, v, mask=None, causal=False)` returning the pair `(out, p)`:
#
# - `scores = q @ k.transpose(-2, -1) / sqrt(d)` with `d = q.shape[-1]`, shape `(..., Lq, Lk)`;
# - the scores that take part are those where `mask` is `True` (if a mask is given) **and**, if `causal`,
#   those with key index $j \le$ query index $i$ (`torch.ones(Lq, Lk, dtype=torch.bool, device=q.device).tril()`,
#   aligned at the top left like `is_causal=True` in torch, also when $L_q \ne L_k$);
# - `p = masked_softmax(scores, keep)` (over the keys), shape `(..., Lq, Lk)`, and `out = p @ v`, shape `(..., Lq, dv)`.
#
# `mask` is `None` or boolean and broadcastable to `(..., Lq, Lk)`. Wherever no query row is fully masked, `out`
# equals `F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)` (torch accepts only one of
# the two at a time; you must handle both together). Do not call that function in your answer.

# %% nbgrader={"grade": false, "grade_id": "scaled_dot_product_attention", "locked": false, "schema_version": 3, "solution": true}
def scaled_dot_product_attention(q, k, v, mask=None, causal=False):
    """softmax(q k^T / sqrt(d)) v with boolean masks (True = take part).

    Args:
        q: (..., Lq, d); k: (..., Lk, d); v: (..., Lk, dv).
        mask: None or boolean, broadcastable to (..., Lq, Lk).
        causal: if True, query i attends to keys j <= i only.
    Returns:
        (out, p): out of shape (..., Lq, dv), attention weights p of shape (..., Lq, Lk).
    """
    ### BEGIN SOLUTION
    d = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)
    keep = mask
    if causal:
        tri = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool, device=q.device).tril()
        keep = tri if keep is None else keep & tri
    p = masked_softmax(scores, keep)
    return p @ v, p
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_scaled_dot_product_attention", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# A hand case: d = 4, so sqrt(d) = 2. Query 1 matches key 1 with q.k = 4 (score 2) and key 0 with q.k = 0.
q = torch.tensor([[2.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0]], dtype=torch.float64)
k = torch.tensor([[0.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0]], dtype=torch.float64)
v = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
out, p = scaled_dot_product_attention(q, k, v)
w = math.e ** 2 / (1 + math.e ** 2)  # softmax of the scores [0, 2]
expect_close(p, [[0.5, 0.5], [1 - w, w]], what="p for q.k scores [[0, 0], [0, 4]] with d = 4",
             hint="Divide the scores by sqrt(d) = sqrt(q.shape[-1]) = 2 before the softmax; the softmax runs over "
                  "the keys (each ROW of p sums to 1).")
expect_close(out, [[0.5, 0.5], [1 - w, w]], what="out = p @ v with v = identity")
_, p = scaled_dot_product_attention(q, k, v, causal=True)
expect_close(p, [[1.0, 0.0], [1 - w, w]], what="p with causal=True",
             hint="Causal: query i may look at keys j <= i only, so query 0 sees only key 0 (the lower triangle, "
                  "tril, is kept).")
g = torch.Generator().manual_seed(1)
q, k, v = (torch.randn(2, 3, 5, 8, generator=g, dtype=torch.float64) for _ in range(3))
expect_close(scaled_dot_product_attention(q, k, v, causal=True)[0],
             F.scaled_dot_product_attention(q, k, v, is_causal=True),
             what="out (2, 3, 5, 8), causal, vs F.scaled_dot_product_attention",
             hint="Causal: query i keeps the keys j <= i (the lower triangle); the others are left out BEFORE "
                  "the softmax over the keys.")
pad = torch.tensor([[True, True, True, False, False], [True, True, True, True, True]])[:, None, None, :]
expect_close(scaled_dot_product_attention(q, k, v, mask=pad)[0], F.scaled_dot_product_attention(q, k, v, attn_mask=pad),
             what="out (2, 3, 5, 8) with a padding mask (2, 1, 1, 5), vs F.scaled_dot_product_attention",
             hint="True = take part. Mask BEFORE the softmax so that the kept weights still sum to 1.")

# %% nbgrader={"grade": true, "grade_id": "test_scaled_dot_product_attention_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("scaled_dot_product_attention", scaled_dot_product_attention)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The backward pass, by hand
#
# Write the forward pass as three steps, for one batch-and-head slice (the leading dimensions just come
# along):
#
# $$S = \frac{Q K^\top}{\sqrt d}, \qquad P = \operatorname{softmax}_\text{rows}(S), \qquad O = P V .$$
#
# Given the upstream gradient $dO = \partial \mathcal L / \partial O$ (shape $L_q \times d_v$), you go backwards
# through the three steps, producing $dV$ and $dP$, then $dS$, then $dQ$ and $dK$. Two of the steps are matrix
# products, whose backward you know from the linear layers of chapters 03 and 04 (mind the shapes: every
# gradient has the shape of the tensor it belongs to). The middle step is new: the softmax couples all the
# entries of a row, because every $p_j$ depends on every score of its row through the normalization.
#
# ### Exercise 3: `row_softmax_backward` (a stepping stone)
#
# Derive the gradient of the softmax. For one row, $p = \operatorname{softmax}(s)$ with $s, p \in \mathbb R^L$, and
# $dp = \partial\mathcal L/\partial p$ is given. Find $ds = \partial\mathcal L/\partial s$, the product of the
# (transposed) softmax Jacobian with $dp$, **without building the $L \times L$ Jacobian**.
#
# Implement `row_softmax_backward(p, dp)` for `p` and `dp` of shape `(..., L)` (the softmax was taken over the last
# axis; leading dimensions are independent rows), returning `ds` of shape `(..., L)` and the dtype of `p`.
# Rows of `p` may contain zeros (masked-out entries); they must receive a zero gradient.
#
# <details><summary>Hint 1: the Jacobian</summary>
#
# Differentiate $p_j = e^{s_j} / \sum_{j'} e^{s_{j'}}$ with respect to $s_m$, treating $j = m$ and $j \ne m$
# separately. Both cases fit in one formula written with $p_j$, $p_m$ and the Kronecker delta $\delta_{jm}$.
# </details>
#
# <details><summary>Hint 2: the chain rule</summary>
#
# $ds_m = \sum_j dp_j\, \partial p_j/\partial s_m$. Split the sum into the part with $\delta_{jm}$ (one term
# survives) and the rest (a sum over $j$ that is **the same number for every $m$** of the row: compute it once
# per row, with `keepdim=True` so that it broadcasts).
# </details>
#
# <details><summary>Hint 3: the result</summary>
#
# $\partial p_j/\partial s_m = p_j(\delta_{jm} - p_m)$, so $ds_m = p_m\big(dp_m - \sum_j p_j\, dp_j\big)$. The subtracted
# term comes from the normalization; dropping it ($ds = p \odot dp$) treats the softmax as an elementwise
# function, the classic mistake. Where $p_m = 0$, $ds_m = 0$: masks need no special care.
# </details>

# %% nbgrader={"grade": false, "grade_id": "row_softmax_backward", "locked": false, "schema_version": 3, "solution": true}
def row_softmax_backward(p, dp):
    """Gradient with respect to the scores s of p = softmax(s) over the last axis.

    Args:
        p: softmax output, (..., L).
        dp: upstream gradient with respect to p, (..., L).
    Returns:
        ds, tensor of shape (..., L).
    """
    ### BEGIN SOLUTION
    return p * (dp - (p * dp).sum(dim=-1, keepdim=True))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_row_softmax_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# The oracle: autograd through torch.softmax in float64, with a random upstream gradient.
g = torch.Generator().manual_seed(6)
s = torch.randn(3, 5, generator=g, dtype=torch.float64, requires_grad=True)
dp = torch.randn(3, 5, generator=g, dtype=torch.float64)
p = torch.softmax(s, dim=-1)
(ds_ref,) = torch.autograd.grad(p, s, dp)
expect_close(row_softmax_backward(p.detach(), dp), ds_ref, what="row_softmax_backward on (3, 5) rows",
             hint="Every p_j depends on every score of its row (through the normalization), so ds_m collects a "
                  "term from every dp_j, not only from dp_m. Hint 2 above splits the sum.")
expect_close(row_softmax_backward(torch.full((1, 4), 0.25, dtype=torch.float64), torch.ones(1, 4, dtype=torch.float64)),
             [[0.0, 0.0, 0.0, 0.0]], what="row_softmax_backward with the same dp for every entry",
             hint="Adding a constant to every dp_j changes no gradient: the softmax's outputs always sum to 1.")

# %% nbgrader={"grade": true, "grade_id": "test_row_softmax_backward_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("row_softmax_backward", row_softmax_backward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4: `attention_backward`
#
# Now chain the three steps. Implement `attention_backward(dout, cache)` with `cache = (q, k, v, p)`, where `p`
# holds the attention weights returned by the forward pass (masks, if any, are already in `p`). Return
# `(dq, dk, dv)` with the shapes of `q`, `k` and `v`. All tensors share the same leading dimensions `...`; use
# `transpose(-2, -1)`, not `.T`. You may call your `row_softmax_backward`.
#
# <details><summary>Hint 1: through O = PV</summary>
#
# It is a linear layer without bias, applied to $V$ with the matrix $P$ (and to $P$ with the matrix $V$). Check
# your answer by shapes: $dV$ is $L_k \times d_v$ and $dP$ is $L_q \times L_k$, and each is a product of the two
# other matrices in play, one of them transposed.
# </details>
#
# <details><summary>Hint 2: through the softmax</summary>
#
# The softmax acts on each row of $S$ separately, which is exactly what your `row_softmax_backward` handles.
# </details>
#
# <details><summary>Hint 3: through S = QK^T / sqrt(d)</summary>
#
# The same product rule as in Hint 1, plus the constant factor $1/\sqrt d$ (which multiplies both gradients).
# $dQ$ has the shape of $Q$, $L_q \times d$; $dK$ the shape of $K$, $L_k \times d$.
# </details>
#
# <details><summary>Hint 4: the result</summary>
#
# $dV = P^\top dO$, $dP = dO\, V^\top$, $dS = $ `row_softmax_backward`$(P, dP)$, $dQ = dS\, K/\sqrt d$,
# $dK = dS^\top Q/\sqrt d$. The cost is a few matrix products of the size of the forward pass, which is why the
# backward of attention costs about twice its forward.
# </details>

# %% nbgrader={"grade": false, "grade_id": "attention_backward", "locked": false, "schema_version": 3, "solution": true}
def attention_backward(dout, cache):
    """Gradients of out = softmax(q k^T / sqrt(d)) v with respect to q, k and v.

    Args:
        dout: upstream gradient, (..., Lq, dv).
        cache: (q, k, v, p) with q (..., Lq, d), k (..., Lk, d), v (..., Lk, dv), p (..., Lq, Lk).
    Returns:
        (dq, dk, dv) with the shapes of q, k, v.
    """
    ### BEGIN SOLUTION
    q, k, v, p = cache
    scale = 1.0 / math.sqrt(q.shape[-1])
    dv = p.transpose(-2, -1) @ dout
    dp = dout @ v.transpose(-2, -1)
    ds = row_softmax_backward(p, dp)
    dq = ds @ k * scale
    dk = ds.transpose(-2, -1) @ q * scale
    return dq, dk, dv
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_attention_backward", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# The oracle: autograd through F.scaled_dot_product_attention in float64, with a random upstream gradient.
g = torch.Generator().manual_seed(2)
q, k, v = (torch.randn(2, 4, 3, generator=g, dtype=torch.float64) for _ in range(3))
dout = torch.randn(2, 4, 3, generator=g, dtype=torch.float64)
for causal in (False, True):
    qr, kr, vr = (t.clone().requires_grad_() for t in (q, k, v))
    dq_ref, dk_ref, dv_ref = torch.autograd.grad(F.scaled_dot_product_attention(qr, kr, vr, is_causal=causal),
                                                 (qr, kr, vr), dout)
    blocked = ~torch.ones(4, 4, dtype=torch.bool).tril() if causal else torch.zeros(4, 4, dtype=torch.bool)
    p = torch.softmax((q @ k.transpose(-2, -1) / math.sqrt(3)).masked_fill(blocked, float("-inf")), dim=-1)
    dq, dk, dv = attention_backward(dout, (q, k, v, p))
    expect_close(dv, dv_ref, what=f"dv (causal={causal})",
                 hint="v enters the output only through the product with p: which of p and dout is transposed "
                      "so that dv gets the shape (Lk, dv)?")
    expect_close(dq, dq_ref, what=f"dq (causal={causal})",
                 hint="dq passes through the softmax (every weight of a row depends on every score of that row) "
                      "and through the scaled product q k^T: is the 1/sqrt(d) there?")
    expect_close(dk, dk_ref, what=f"dk (causal={causal})",
                 hint="The keys play the part of the columns of the score matrix: dk needs the TRANSPOSE of the "
                      "score gradient, and the same 1/sqrt(d).")

# %% nbgrader={"grade": true, "grade_id": "test_attention_backward_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("attention_backward", attention_backward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Multi-head attention
#
# One softmax picks one kind of relation per query. **Multi-head attention** runs $H$ attentions side by side
# on smaller projections, so that one head may track the previous word while another tracks the subject of
# the sentence (Kaplan eqs. 5.4.8-5.4.9). With model width $E$ and head width $d_h = E/H$:
#
# $$\text{head}_h = \operatorname{Attention}\big(X_q W_Q^{(h)},\, X_k W_K^{(h)},\, X_v W_V^{(h)}\big),\qquad
#   \operatorname{MHA} = \operatorname{Concat}(\text{head}_1, \dots, \text{head}_H)\, W_O^\top + b_O .$$
#
# Each head uses the scale $1/\sqrt{d_h}$ of its own width. Counting parameters gives $4E^2$ weights (plus
# biases) whatever $H$ is (Kaplan eq. 5.4.10): more heads means narrower heads, not more parameters.
#
# **PyTorch's layout** (`nn.MultiheadAttention`, which we match exactly):
# - `in_proj_weight` of shape `(3E, E)` stacks $W_Q$, $W_K$, $W_V$ (rows `0:E`, `E:2E`, `2E:3E`), and
#   `in_proj_bias` of shape `(3E,)` their biases; a projection is `x @ W.T + b` (`F.linear(x, W, b)`);
# - head `h` owns the features `h*dh : (h+1)*dh` of each projection: reshape `(B, L, E)` to `(B, L, H, dh)`
#   and transpose to `(B, H, L, dh)`, so heads become one more leading "batch" dimension;
# - after attention, transpose back and reshape to `(B, L, E)` (this is the concatenation), then apply
#   `out_proj`: `y = z @ out_proj_weight.T + out_proj_bias`.
#
# ### Exercise 5: `multi_head_attention`
#
# Implement `multi_head_attention(query, key, value, in_proj_weight, in_proj_bias, out_proj_weight,
# out_proj_bias, num_heads, mask=None, causal=False)` for `query` of shape `(B, Lq, E)` and `key`, `value` of
# shape `(B, Lk, E)`; the biases may be `None` (no bias). `mask` is `None` or boolean broadcastable to
# `(B, H, Lq, Lk)` with `True` = take part (e.g. a padding mask `(B, 1, 1, Lk)`). Return `(out, weights)`, `out` of
# shape `(B, Lq, E)` and the per-head attention weights of shape `(B, H, Lq, Lk)`. Use your
# `scaled_dot_product_attention`, with the heads as one more batch dimension: a Python loop over the heads also
# earns full marks, but it is slow (it runs $H$ small products one after another instead of one batched one).
# It must agree with `nn.MultiheadAttention(E, H, batch_first=True)` called with
# `need_weights=True, average_attn_weights=False` and `attn_mask=~mask` (or `key_padding_mask`).

# %% nbgrader={"grade": false, "grade_id": "multi_head_attention", "locked": false, "schema_version": 3, "solution": true}
def multi_head_attention(query, key, value, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias,
                         num_heads, mask=None, causal=False):
    """Multi-head attention with the parameters of nn.MultiheadAttention (batch_first=True).

    Args:
        query: (B, Lq, E); key, value: (B, Lk, E).
        in_proj_weight: (3E, E); in_proj_bias: (3E,) or None.
        out_proj_weight: (E, E); out_proj_bias: (E,) or None.
        num_heads: H, a divisor of E.
        mask: None or boolean broadcastable to (B, H, Lq, Lk), True = take part.
        causal: if True, query i attends to keys j <= i only.
    Returns:
        (out, weights): out of shape (B, Lq, E), weights of shape (B, H, Lq, Lk).
    """
    ### BEGIN SOLUTION
    b, lq, e = query.shape
    lk = key.shape[1]
    dh = e // num_heads
    wq, wk, wv = in_proj_weight.chunk(3, dim=0)
    bq, bk, bv = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
    q = F.linear(query, wq, bq).reshape(b, lq, num_heads, dh).transpose(1, 2)
    k = F.linear(key, wk, bk).reshape(b, lk, num_heads, dh).transpose(1, 2)
    v = F.linear(value, wv, bv).reshape(b, lk, num_heads, dh).transpose(1, 2)
    out, p = scaled_dot_product_attention(q, k, v, mask, causal)
    out = out.transpose(1, 2).reshape(b, lq, e)
    return F.linear(out, out_proj_weight, out_proj_bias), p
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_multi_head_attention", "locked": true, "points": 1, "schema_version": 3, "solution": false}
g = torch.Generator().manual_seed(3)
E, H = 8, 2
mha = torch.nn.MultiheadAttention(E, H, batch_first=True, dtype=torch.float64)
with torch.no_grad():  # copy in fixed random weights (non-symmetric, non-zero biases)
    for param in mha.parameters():
        param.copy_(torch.randn(param.shape, generator=g, dtype=torch.float64) / math.sqrt(E))
x = torch.randn(2, 5, E, generator=g, dtype=torch.float64)
args = (mha.in_proj_weight.detach(), mha.in_proj_bias.detach(), mha.out_proj.weight.detach(),
        mha.out_proj.bias.detach(), H)
with torch.no_grad():
    ref_out, ref_w = mha(x, x, x, need_weights=True, average_attn_weights=False)
out, w = multi_head_attention(x, x, x, *args)
expect_shape(w, (2, H, 5, 5), what="weights")
expect_close(w, ref_w, what="per-head weights vs nn.MultiheadAttention",
             hint="Head h owns the features h*dh:(h+1)*dh of each projection: split the feature axis into "
                  "(H, dh) first and only then move the heads in front of the positions; the scale is the HEAD "
                  "width's, not E's. Which third of in_proj_weight is W_q?")
expect_close(out, ref_out, what="out vs nn.MultiheadAttention",
             hint="Undo the head split in the reverse order (positions back in front of the heads, then merge "
                  "(H, dh) into E), then the output projection, applied like a PyTorch Linear layer.")
with torch.no_grad():
    ref_out, _ = mha(x, x, x, attn_mask=~torch.ones(5, 5, dtype=torch.bool).tril())
expect_close(multi_head_attention(x, x, x, *args, causal=True)[0], ref_out,
             what="out with causal=True vs nn.MultiheadAttention(attn_mask=~tril)",
             hint="Pass causal on to your scaled_dot_product_attention.")

# %% nbgrader={"grade": true, "grade_id": "test_multi_head_attention_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("multi_head_attention", multi_head_attention)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Where am I? Positional encodings
#
# Attention treats its inputs as a *set*: permute the rows of $X$ and the outputs are permuted the same way,
# nothing else changes (none of the matrices above knows which row is which; Kaplan §5.4.2). Word order
# matters in language, so the Transformer adds a **positional encoding** $PE_t \in \mathbb R^d$ to the embedding
# of the token at position $t$ (textbook §10.1). The original Transformer uses sinusoids of geometrically
# spaced frequencies: for $i = 0, 1, \dots$
#
# $$PE[t, 2i] = \sin\!\Big(\frac{t}{10000^{2i/d}}\Big), \qquad PE[t, 2i+1] = \cos\!\Big(\frac{t}{10000^{2i/d}}\Big).$$
#
# **Even** columns hold sines, **odd** columns cosines, and columns $2i$ and $2i+1$ share the frequency
# $\omega_i = 10000^{-2i/d}$, from $1$ (a period of $2\pi$ positions) down to almost $10^{-4}$ (a period of about
# $63\,000$ positions). Within each pair, moving from $t$ to $t + s$ is a rotation by the angle $\omega_i s$:
#
# $$\begin{pmatrix} \sin \omega (t+s) \\ \cos \omega (t+s) \end{pmatrix} =
#   \begin{pmatrix} \cos \omega s & \sin \omega s \\ -\sin \omega s & \cos \omega s \end{pmatrix}
#   \begin{pmatrix} \sin \omega t \\ \cos \omega t \end{pmatrix},$$
#
# a linear map that depends on the offset $s$ only. So a query can learn to look "three tokens back". For an
# **even** width $d$ every column has its partner, and $PE_t \cdot PE_{t+s} = \sum_i \cos(\omega_i s)$ depends on
# $|s|$ alone. For an odd width the last sine column has no cosine partner: it adds
# $\sin(\omega t)\sin(\omega (t+s))$, which depends on $t$ too (the rotation argument still holds for every
# complete pair).
#
# ### Exercise 6: `sinusoidal_positions`
#
# Implement `sinusoidal_positions(length, d_model, dtype=torch.float32, device=None)` returning the tensor of
# shape `(length, d_model)` defined above, for positions $t = 0, \dots, \text{length} - 1$, in the requested
# `dtype` and `device`. If `d_model` is odd, the last column is a sine (column $d-1 = 2i$). Compute the angles in
# float64 and convert at the end (in float32 the angle $t\,\omega_i$ itself carries a rounding error).

# %% nbgrader={"grade": false, "grade_id": "sinusoidal_positions", "locked": false, "schema_version": 3, "solution": true}
def sinusoidal_positions(length, d_model, dtype=torch.float32, device=None):
    """Sinusoidal positional encoding: sin on even columns, cos on odd ones, frequency 10000^(-2i/d).

    Args:
        length: number of positions L.
        d_model: width d.
        dtype, device: of the result.
    Returns:
        tensor of shape (L, d_model).
    """
    ### BEGIN SOLUTION
    t = torch.arange(length, dtype=torch.float64, device=device)[:, None]
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64, device=device)
    angle = t / 10000.0 ** (two_i / d_model)
    pe = torch.zeros(length, d_model, dtype=torch.float64, device=device)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return pe.to(dtype)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sinusoidal_positions", "locked": true, "points": 1, "schema_version": 3, "solution": false}
pe = sinusoidal_positions(3, 4, dtype=torch.float64)
expect_shape(pe, (3, 4), what="sinusoidal_positions(3, 4)")
expect_true(pe.dtype == torch.float64, f"sinusoidal_positions(..., dtype=torch.float64) returned {pe.dtype}.")
expect_close(pe[0], [0.0, 1.0, 0.0, 1.0], what="row t = 0 of sinusoidal_positions(3, 4)",
             hint="Sines on the EVEN columns (sin 0 = 0), cosines on the ODD columns (cos 0 = 1).")
expect_close(pe[2], [math.sin(2), math.cos(2), math.sin(0.02), math.cos(0.02)],
             what="row t = 2 of sinusoidal_positions(3, 4)",
             hint="Columns 2i and 2i+1 share the frequency 10000^(-2i/d): with d = 4, column 2 and column 3 both "
                  "use 10000^(-2/4) = 0.01. Interleave sin and cos, do not put all sines first.")
expect_true(sinusoidal_positions(5, 6).dtype == torch.float32, "The default dtype should be torch.float32.")

# %% nbgrader={"grade": true, "grade_id": "test_sinusoidal_positions_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("sinusoidal_positions", sinusoidal_positions)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 5. The Transformer block
#
# A Transformer layer alternates two sub-layers, each wrapped in a residual connection and a LayerNorm:
# multi-head self-attention, which mixes information **across positions**, and a two-layer feed-forward
# network applied to **each position separately** (Kaplan eq. 5.4.11; width $d_{ff}$, usually $4E$):
#
# $$\operatorname{FFN}(z) = W_2\, \operatorname{ReLU}(W_1 z + b_1) + b_2 .$$
#
# The original Transformer (and Kaplan eqs. 5.4.14-5.4.15) puts the LayerNorm *after* the residual sum
# ("post-norm"): $X = \operatorname{LN}(V + \operatorname{MHA}(V))$. Most models today use **pre-norm**, which
# normalizes only the input of each sub-layer and leaves the residual path untouched, so that gradients flow
# through the identity from the top of a deep stack to the bottom (the reason residual blocks work, chapter 06):
#
# $$h = x + \operatorname{MHA}(\operatorname{LN}_1(x)), \qquad y = h + \operatorname{FFN}(\operatorname{LN}_2(h)) .$$
#
# (Query, key and value of the attention are all $\operatorname{LN}_1(x)$: self-attention.) The two LayerNorms
# have their own parameters; each normalizes over the feature dimension with the biased variance and
# $\varepsilon$ inside the square root, like `F.layer_norm`.
#
# ### Exercise 7: `transformer_block`
#
# Implement `transformer_block(x, params, num_heads, mask=None, causal=False, eps=1e-5)` for `x` of shape
# `(B, L, E)`, returning `y` of shape `(B, L, E)` by the pre-norm formulas above. `params` is a dict with exactly
# the keys of the `state_dict()` of `nn.TransformerEncoderLayer`:
# `"self_attn.in_proj_weight"` `(3E, E)`, `"self_attn.in_proj_bias"` `(3E,)`, `"self_attn.out_proj.weight"` `(E, E)`,
# `"self_attn.out_proj.bias"` `(E,)`, `"linear1.weight"` `(F, E)`, `"linear1.bias"` `(F,)`, `"linear2.weight"` `(E, F)`,
# `"linear2.bias"` `(E,)`, and `"norm1.weight"`, `"norm1.bias"`, `"norm2.weight"`, `"norm2.bias"` (each `(E,)`).
# `mask` and `causal` go to the attention. You may use `F.layer_norm` (you built LayerNorm in chapter 06) and
# your `multi_head_attention`. The result must equal
# `nn.TransformerEncoderLayer(E, H, F, dropout=0.0, batch_first=True, norm_first=True)` with that state dict.

# %% nbgrader={"grade": false, "grade_id": "transformer_block", "locked": false, "schema_version": 3, "solution": true}
def transformer_block(x, params, num_heads, mask=None, causal=False, eps=1e-5):
    """Pre-norm transformer block: h = x + MHA(LN1(x)); y = h + FFN(LN2(h)).

    Args:
        x: (B, L, E).
        params: dict with the state_dict keys of nn.TransformerEncoderLayer.
        num_heads: H.
        mask: None or boolean broadcastable to (B, H, L, L), True = take part.
        causal: if True, position i attends to j <= i only.
        eps: LayerNorm epsilon.
    Returns:
        tensor of shape (B, L, E).
    """
    ### BEGIN SOLUTION
    e = x.shape[-1]
    z = F.layer_norm(x, (e,), params["norm1.weight"], params["norm1.bias"], eps)
    a, _ = multi_head_attention(z, z, z, params["self_attn.in_proj_weight"], params["self_attn.in_proj_bias"],
                                params["self_attn.out_proj.weight"], params["self_attn.out_proj.bias"],
                                num_heads, mask, causal)
    h = x + a
    z = F.layer_norm(h, (e,), params["norm2.weight"], params["norm2.bias"], eps)
    ff = F.linear(torch.relu(F.linear(z, params["linear1.weight"], params["linear1.bias"])),
                  params["linear2.weight"], params["linear2.bias"])
    return h + ff
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_transformer_block", "locked": true, "points": 1, "schema_version": 3, "solution": false}
g = torch.Generator().manual_seed(4)
E, H, FF = 8, 2, 16
layer = torch.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, batch_first=True, norm_first=True,
                                         dtype=torch.float64)
with torch.no_grad():  # fixed random weights; LayerNorm gains away from 1 so that they matter
    for name, param in layer.named_parameters():
        param.copy_(torch.randn(param.shape, generator=g, dtype=torch.float64) / math.sqrt(param.shape[-1])
                    + (1.0 if name.startswith("norm") and name.endswith("weight") else 0.0))
params = {name: t.detach() for name, t in layer.state_dict().items()}
x = 3.0 + torch.randn(2, 6, E, generator=g, dtype=torch.float64)
with torch.no_grad():
    expected = layer(x)
    expected_causal = layer(x, src_mask=~torch.ones(6, 6, dtype=torch.bool).tril())
expect_close(transformer_block(x, params, H), expected, what="transformer_block vs nn.TransformerEncoderLayer(norm_first=True)",
             hint="Pre-norm: a LayerNorm normalizes only the INPUT of each sub-layer; the residual path carries "
                  "x itself, untouched. The feed-forward network has its nonlinearity, and each LayerNorm has its "
                  "own parameters.")
expect_close(transformer_block(x, params, H, causal=True), expected_causal, what="transformer_block(..., causal=True)",
             hint="Pass causal on to the attention.")

# %% nbgrader={"grade": true, "grade_id": "test_transformer_block_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("transformer_block", transformer_block)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Looking at attention
#
# ### The $\sqrt d$ at work
#
# Draw random queries and keys with standard normal entries and look at the attention weights of one query
# over 16 keys as the width $d$ grows. Without the scale the largest weight heads to 1 (a saturated, almost
# one-hot softmax, whose gradient with respect to the other scores vanishes); with it, the distribution keeps
# the same spread at every width.

# %%
gen = torch.Generator().manual_seed(0)
widths = [4, 16, 64, 256, 1024]
max_w = {"scaled by 1/sqrt(d)": [], "unscaled": []}
for d in widths:
    q = torch.randn(500, 1, d, generator=gen)
    k = torch.randn(500, 16, d, generator=gen)
    s = q @ k.transpose(-2, -1)
    max_w["unscaled"].append(torch.softmax(s, -1).amax(-1).mean().item())
    max_w["scaled by 1/sqrt(d)"].append(torch.softmax(s / math.sqrt(d), -1).amax(-1).mean().item())
fig, ax = plt.subplots(figsize=(5, 3))
for label, vals in max_w.items():
    ax.semilogx(widths, vals, "o-", label=label, base=2)
ax.set_xlabel("width d"); ax.set_ylabel("mean largest weight (16 keys)"); ax.set_ylim(0, 1.05); ax.legend()
ax.set_title("Unscaled dot products saturate the softmax")
plt.show()

# %% [markdown]
# ### Attention maps of a multi-head layer
#
# Below, a random 4-head layer reads a sequence of 12 tokens (random embeddings plus sinusoidal positions).
# Pick the head, switch the causal mask on and off, and shorten the "real" part of the sequence to see the
# padding mask at work: row $i$ is query $i$, column $j$ key $j$, and every row sums to one. With the causal
# mask the upper triangle goes dark; with padding, the columns of padded keys do.

# %%
with needs_exercises():
    gen = torch.Generator().manual_seed(7)
    E_demo, H_demo, L_demo = 16, 4, 12
    tokens = torch.randn(1, L_demo, E_demo, generator=gen) + sinusoidal_positions(L_demo, E_demo)
    demo_w_in = 2.0 * torch.randn(3 * E_demo, E_demo, generator=gen) / math.sqrt(E_demo)
    demo_w_out = torch.randn(E_demo, E_demo, generator=gen) / math.sqrt(E_demo)


    def show_attention(head=0, causal=False, real_length=12):
        pad = (torch.arange(L_demo) < real_length)[None, None, None, :]
        _, weights = multi_head_attention(tokens, tokens, tokens, demo_w_in, None, demo_w_out, None, H_demo,
                                          mask=pad, causal=causal)
        fig, ax = plt.subplots(figsize=(4.5, 4))
        im = ax.imshow(weights[0, head].numpy(), cmap="viridis", vmin=0, vmax=1)
        ax.set_xlabel("key position j"); ax.set_ylabel("query position i")
        ax.set_title(f"head {head}" + (", causal" if causal else "") + f", {real_length} real tokens")
        fig.colorbar(im, ax=ax, fraction=0.046)
        plt.show()


    interact(show_attention, head=(0, H_demo - 1, 1), causal=False, real_length=(1, L_demo, 1));

# %% [markdown]
# ### The positional encoding
#
# Left: the encoding of 64 positions in 32 dimensions; the fast sinusoids sit in the first columns, the slow
# ones in the last. Right: the dot products $PE_t \cdot PE_{t'}$, which depend on $|t - t'|$ only (the bands
# are parallel to the diagonal) and are largest for nearby positions.

# %%
with needs_exercises():
    pe = sinusoidal_positions(64, 32)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    axes[0].imshow(pe.numpy(), aspect="auto", cmap="RdBu"); axes[0].set_xlabel("dimension"); axes[0].set_ylabel("position t")
    axes[0].set_title("PE[t, :]")
    axes[1].imshow((pe @ pe.T).numpy(), cmap="viridis"); axes[1].set_xlabel("position t'"); axes[1].set_ylabel("position t")
    axes[1].set_title("PE_t . PE_t'")
    plt.show()

# %% [markdown]
# ## 7. Attention is kernel regression
#
# Textbook §10.1.3 reads the attention output $\sum_j p_j v_j$, with $p_j \propto \alpha(q, k_j)$, as a **kernel
# regression**: the prediction at a query is an average of the stored values, weighted by how similar each
# key is to the query. With the Gaussian kernel
#
# $$\alpha(q, k) = \exp\!\Big(-\frac{\lVert q - k\rVert^2}{2\sigma^2}\Big), \qquad
#   \text{out}(q) = \sum_j \frac{\alpha(q, k_j)}{\sum_{j'} \alpha(q, k_{j'})}\, v_j ,$$
#
# this is the Nadaraya-Watson estimator of statistics. It *is* dot-product attention: expand
# $-\lVert q - k_j\rVert^2 = 2 q\cdot k_j - \lVert k_j\rVert^2 - \lVert q\rVert^2$; the last term is the same for
# every key and cancels in the normalization, so the weights are $\operatorname{softmax}_j\big((q\cdot k_j -
# \lVert k_j\rVert^2/2)/\sigma^2\big)$. The scores are divided by $\sigma^2$ where dot-product attention divides
# them by $\sqrt d$: it is $\sigma^2$, not $\sigma$, that plays the role of the temperature $\sqrt d$. A small
# $\sigma$ copies the value of the nearest key, a large one averages everything. (For unit-norm keys the
# $\lVert k_j\rVert^2$ term is constant too, and the Gaussian kernel is exactly an exponentiated dot product.)
#
# ### Exercise 8: `gaussian_kernel_attention`
#
# Implement `gaussian_kernel_attention(q, k, v, sigma)` for queries `q` of shape `(..., Lq, d)`, keys `k` of shape
# `(..., Lk, d)`, values `v` of shape `(..., Lk, dv)` and a bandwidth `sigma > 0`, returning the estimate of shape
# `(..., Lq, dv)` above (weights normalized over the keys). Compute the weights as a **softmax of
# $-\lVert q_i - k_j\rVert^2 / 2\sigma^2$** (with the maximum shift), not as `exp(...) / exp(...).sum()`: for a query
# far from every key all the kernel values underflow to 0 and the naive ratio is 0/0, while the right answer is
# the value of the nearest key. Broadcast `q.unsqueeze(-2) - k.unsqueeze(-3)` to get all the differences at once.

# %% nbgrader={"grade": false, "grade_id": "gaussian_kernel_attention", "locked": false, "schema_version": 3, "solution": true}
def gaussian_kernel_attention(q, k, v, sigma):
    """Nadaraya-Watson regression: Gaussian-kernel weights over the keys, averaged values.

    Args:
        q: (..., Lq, d); k: (..., Lk, d); v: (..., Lk, dv).
        sigma: bandwidth, a positive float.
    Returns:
        tensor of shape (..., Lq, dv).
    """
    ### BEGIN SOLUTION
    d2 = ((q.unsqueeze(-2) - k.unsqueeze(-3)) ** 2).sum(dim=-1)
    return torch.softmax(-d2 / (2 * sigma ** 2), dim=-1) @ v
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gaussian_kernel_attention", "locked": true, "points": 1, "schema_version": 3, "solution": false}
keys = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
vals = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
# sigma = 0.5: from q = 0 the kernel values are exp(0) = 1 and exp(-1 / (2 * 0.25)) = exp(-2)
got = gaussian_kernel_attention(torch.tensor([[0.0], [0.5]], dtype=torch.float64), keys, vals, 0.5)
expect_close(got, [[math.exp(-2) / (1 + math.exp(-2))], [0.5]],
             what="gaussian_kernel_attention at q = 0 and q = 0.5 (keys 0, 1; values 0, 1; sigma 0.5)",
             hint="Weights exp(-|q - k|^2 / (2 sigma^2)), with sigma SQUARED and the squared DISTANCE (a plain dot "
                  "product q.k would weigh both keys equally at q = 0); normalize over the keys.")
got = gaussian_kernel_attention(torch.tensor([[30.0]], dtype=torch.float64), keys, vals, 0.5)
expect_close(got, [[1.0]], what="gaussian_kernel_attention at q = 30, far from both keys",
             hint="exp(-29^2 / 0.5) underflows to 0 for both keys: use a softmax of -|q - k|^2 / (2 sigma^2) "
                  "(it subtracts the maximum) so that the nearest key gets the weight, instead of 0/0 = NaN.")
g = torch.Generator().manual_seed(5)
q, k, v = (torch.randn(2, n, 3, generator=g, dtype=torch.float64) for n in (4, 6, 6))
d2 = torch.cdist(q, k) ** 2
expect_close(gaussian_kernel_attention(q, k, v, 1.5), torch.softmax(-d2 / (2 * 1.5 ** 2), dim=-1) @ v,
             what="gaussian_kernel_attention on q (2, 4, 3), k and v (2, 6, 3), sigma 1.5",
             hint="Sum the squared differences over the feature dimension d; normalize over the keys (last axis).")

# %% nbgrader={"grade": true, "grade_id": "test_gaussian_kernel_attention_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("gaussian_kernel_attention", gaussian_kernel_attention)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# Below, noisy samples $y_j = \sin x_j + \varepsilon_j$ are the keys $x_j$ and values $y_j$ of a one-dimensional
# "database", and every point of a grid queries it. Move the bandwidth: too small and the curve jumps from
# sample to sample (it copies the nearest value, noise included); too large and it flattens to the mean.

# %%
gen = torch.Generator().manual_seed(3)
xs = torch.sort(torch.rand(40, generator=gen, dtype=torch.float64) * 6).values
ys = torch.sin(xs) + 0.3 * torch.randn(40, generator=gen, dtype=torch.float64)
grid = torch.linspace(0, 6, 200, dtype=torch.float64)


def kernel_regression(sigma=0.5):
    fit = gaussian_kernel_attention(grid[:, None], xs[:, None], ys[:, None], sigma)[:, 0]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(xs, ys, "k.", label="keys and values (x_j, y_j)")
    ax.plot(grid, torch.sin(grid), "g--", lw=1, label="sin(x)")
    ax.plot(grid, fit, "C1", label="attention output")
    ax.set_title(f"Gaussian-kernel attention, sigma = {sigma:.2f}"); ax.legend(loc="lower left", fontsize=8)
    plt.show()


interact(kernel_regression, sigma=(0.05, 2.0, 0.05));

# %% [markdown]
# ## 8. Make it work: a Transformer that reverses sequences
#
# Time to put the pieces to work. The task: read a sequence of 6 tokens (values 0 to 7) and output it
# backwards, so that position $i$ must produce the token at position $5 - i$. No token value helps here: the
# answer is a lookup **by position**, exactly what attention over positionally encoded inputs can do. An RNN
# would have to carry the whole sequence in its state; one attention layer can look straight at the right
# place.
#
# The model is given at the top of the next cell (leave it as it is), built from *your* `sinusoidal_positions` and `transformer_block`: embed each token
# ($8 \times 32$ table), add the positional encoding, run one pre-norm block (2 heads, feed-forward width 64,
# no causal mask: every position may look at every other one), and read out 8 logits per position with a
# linear layer. `init_reverser_params(generator)` (from `course.reversal`) returns its initial parameters as a
# dict of tensors that require gradients: `"embed"`, `"head.weight"`, `"head.bias"`, and the block's under
# `"block."` + the keys of exercise 7. `reversal_data(n, generator)` draws `n` random sequences.
#
# ### Exercise 9 (make it work): `train_reverser`
#
# Implement `train_reverser(train_tokens, seed, steps=150, lr=3e-3, batch_size=64)`: start from
# `init_reverser_params(torch.Generator().manual_seed(seed))`, and train on `train_tokens` (an int64 tensor
# `(N, 6)`; the targets are the same sequences reversed) by minimizing the mean cross-entropy of
# `reverser_logits` over all positions, with `torch.optim.Adam` on mini-batches drawn with that same generator.
# Return the trained parameters as a dict with the same keys and shapes, detached. Autograd runs through your
# own attention here, so the forward pieces must be differentiable (no in-place changes of tensors that
# autograd needs).
#
# **Target:** at least **98% of the tokens right** on held-out sequences that the grader draws itself (the
# grader evaluates your parameters with its own copy of the model). The reference reaches 99.9% or more in
# about two seconds. The grader calls `train_reverser(train_tokens, seed)` with the default settings, so put
# the settings that work for you in the defaults.
#
# <details><summary>Hint 1: the loop</summary>
#
# The training loop of chapter 05: draw the indices of a batch, compute the logits and the loss, zero the
# gradients, backpropagate, step. `F.cross_entropy` wants the logits as `(batch * positions, classes)`.
# </details>
#
# <details><summary>Hint 2: if it does not learn</summary>
#
# Look at the loss: it starts near $\ln 8 \approx 2.08$. If it stalls around 1.4 or above, the model cannot tell
# positions apart (is the positional encoding added?). If training looks fine but the grader's score is
# low, the model you trained differs from the one the grader runs: a piece of your attention (the scale, the
# axis of the softmax, a mask) is not what the statement asks.
# </details>

# %% nbgrader={"grade": false, "grade_id": "train_reverser", "locked": false, "schema_version": 3, "solution": true}
def reverser_logits(tokens, params, num_heads=REVERSER["heads"]):
    """The given model (leave it as it is): logits (B, L, vocab) for int64 tokens (B, L)."""
    embed = params["embed"]
    x = embed[tokens] + sinusoidal_positions(tokens.shape[1], embed.shape[1], dtype=embed.dtype)
    block = {name[len("block."):]: t for name, t in params.items() if name.startswith("block.")}
    h = transformer_block(x, block, num_heads)
    return F.linear(h, params["head.weight"], params["head.bias"])


def train_reverser(train_tokens, seed, steps=150, lr=3e-3, batch_size=64):
    """Train the reverser with Adam; return the trained parameters (detached).

    Args:
        train_tokens: int64 tensor (N, L); the targets are train_tokens.flip(1).
        seed: seed of the initial parameters and of the batches.
        steps, lr, batch_size: the optimization's settings.
    Returns:
        dict with the keys and shapes of init_reverser_params, detached tensors.
    """
    ### BEGIN SOLUTION
    g = torch.Generator().manual_seed(seed)
    params = init_reverser_params(g)
    opt = torch.optim.Adam(params.values(), lr=lr)
    targets = train_tokens.flip(1)
    vocab = params["embed"].shape[0]
    for _ in range(steps):
        idx = torch.randint(0, train_tokens.shape[0], (batch_size,), generator=g)
        loss = F.cross_entropy(reverser_logits(train_tokens[idx], params).reshape(-1, vocab),
                               targets[idx].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {name: t.detach() for name, t in params.items()}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_train_reverser", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_train = reversal_data(2000, torch.Generator().manual_seed(0))
_held_out = reversal_data(1000, torch.Generator().manual_seed(1))
_params = train_reverser(_train, seed=0)
expect_true(isinstance(_params, dict) and set(_params) == set(init_reverser_params(torch.Generator())),
            "train_reverser should return a dict with the keys of init_reverser_params.")
with torch.no_grad():
    _accuracy = (reverser_logits(_held_out, _params).argmax(-1) == _held_out.flip(1)).double().mean().item()
print(f"held-out accuracy: {_accuracy:.4f} of the tokens (target 0.98)")
expect_true(_accuracy >= 0.98, f"{_accuracy:.4f} of the held-out tokens are right, below the target 0.98: "
                               "see the hints above.")

# %% nbgrader={"grade": true, "grade_id": "test_train_reverser_2", "locked": true, "points": 5, "schema_version": 3, "solution": false}
# Hidden tests (another seed, other training data, fresh held-out sequences) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("train_reverser", train_reverser)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# Where does each position look? The attention maps of the trained model, for one held-out sequence (row $i$ is
# the output position, column $j$ the input position). Each head has learned part of the anti-diagonal.

# %%
with needs_exercises():
    _tokens = reversal_data(1, torch.Generator().manual_seed(5))
    _p = _params if "_params" in globals() else train_reverser(_train, seed=0)
    _x = _p["embed"][_tokens] + sinusoidal_positions(6, REVERSER["width"])
    _z = F.layer_norm(_x, (REVERSER["width"],), _p["block.norm1.weight"], _p["block.norm1.bias"])
    _, _maps = multi_head_attention(_z, _z, _z, _p["block.self_attn.in_proj_weight"], _p["block.self_attn.in_proj_bias"],
                                    _p["block.self_attn.out_proj.weight"], _p["block.self_attn.out_proj.bias"],
                                    REVERSER["heads"])
    with torch.no_grad():
        _pred = reverser_logits(_tokens, _p).argmax(-1)
    fig, axes = plt.subplots(1, REVERSER["heads"], figsize=(8, 3.5))
    for _h, _ax in enumerate(axes):
        _ax.imshow(_maps[0, _h].detach().numpy(), cmap="viridis", vmin=0, vmax=1)
        _ax.set_xlabel("input position j"); _ax.set_ylabel("output position i"); _ax.set_title(f"head {_h}")
    fig.suptitle(f"input {_tokens[0].tolist()} -> output {_pred[0].tolist()}")
    plt.show()

# %% [markdown]
# ## 9. Concept questions
#
# ### Concept question 1: `scale_answer`
#
# Why are the scores divided by $\sqrt d$ before the softmax?
#
# - **a.** So that each row of attention weights sums to one.
# - **b.** To turn the dot product into a cosine similarity, independent of the lengths of $q$ and $k$.
# - **c.** To keep the spread of the scores of order one whatever the width $d$, so that the softmax does not
#   saturate and the gradients through the other keys do not vanish.
# - **d.** To reduce the cost of computing $QK^\top$ for wide heads.

# %% nbgrader={"grade": false, "grade_id": "scale_answer", "locked": false, "schema_version": 3, "solution": true}
def scale_answer():
    """Your answer to concept question 1: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_scale_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(scale_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_scale_answer_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("scale_answer", scale_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Concept question 2: `permutation_answer`
#
# A self-attention layer **without** positional encodings reads a sequence $x_1, \dots, x_L$. You shuffle the
# tokens (the same permutation for queries, keys and values). Its outputs are:
#
# - **a.** unchanged, position by position: attention averages over all the tokens, and an average does not
#   depend on their order.
# - **b.** the same vectors as before, shuffled by the same permutation.
# - **c.** entirely different vectors: the weights of every query change when the keys move.
# - **d.** the same vectors shuffled by the same permutation, and this stays true with a causal mask.

# %% nbgrader={"grade": false, "grade_id": "permutation_answer", "locked": false, "schema_version": 3, "solution": true}
def permutation_answer():
    """Your answer to concept question 2: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_permutation_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(permutation_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_permutation_answer_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("permutation_answer", permutation_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Concept question 3: `causal_answer`
#
# A next-token language model is trained with teacher forcing (all positions at once), but the causal mask
# was forgotten. What do you observe?
#
# - **a.** The training loss stays near $\ln V$: without the mask, the model cannot learn anything.
# - **b.** The loss turns into NaN: unmasked scores overflow the softmax.
# - **c.** Nothing: the mask only saves computation.
# - **d.** The training loss falls far lower than any honest model could reach, and text generated one token
#   at a time is poor: during training each position could read its own target one position ahead.

# %% nbgrader={"grade": false, "grade_id": "causal_answer", "locked": false, "schema_version": 3, "solution": true}
def causal_answer():
    """Your answer to concept question 3: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "d"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_causal_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(causal_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_causal_answer_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("causal_answer", causal_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## What you built
#
# - `masked_softmax`: the softmax that leaves out masked entries (set to $-\infty$ before normalizing), safe
#   for large scores and for rows with nothing to attend to.
# - `scaled_dot_product_attention`: $\operatorname{softmax}(QK^\top/\sqrt d)V$ with padding masks (`True` =
#   take part) and the causal rule "query $i$ sees keys $j \le i$".
# - `row_softmax_backward` and `attention_backward`: the softmax's Jacobian-vector product, derived by hand, and
#   the gradients of attention with respect to queries, keys and values, checked against autograd.
# - `multi_head_attention`: $H$ heads as one more batch dimension, with the parameters of
#   `nn.MultiheadAttention`.
# - `sinusoidal_positions`: sines and cosines at geometric frequencies, whose shifts are rotations.
# - `transformer_block`: the pre-norm block $x + \operatorname{MHA}(\operatorname{LN}(x))$,
#   $h + \operatorname{FFN}(\operatorname{LN}(h))$, equal to `nn.TransformerEncoderLayer(norm_first=True)`.
# - `train_reverser`: a one-block Transformer built from your pieces that learns to reverse sequences, a
#   task solved by looking up positions.
#
# Next, chapter 10 puts these blocks to work on text: token embeddings, pretraining objectives (masked and
# next-token prediction) and how to measure a language model.
