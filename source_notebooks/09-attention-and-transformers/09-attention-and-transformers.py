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
#   matrix products, never by Python loops.
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
             hint="Keep the scores with j <= i (tril), set the others to -inf, then softmax over the last dimension.")
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
# Given the upstream gradient $dO = \partial \mathcal L / \partial O$ (shape $L_q \times d_v$), go backwards.
#
# **Through $O = PV$.** Exactly as for a linear layer, $dV = P^\top dO$ and $dP = dO\, V^\top$.
#
# **Through the softmax.** Each row $p = \operatorname{softmax}(s)$ has the Jacobian
# $\partial p_j / \partial s_m = p_j(\delta_{jm} - p_m)$, so, row by row,
#
# $$dS_{im} = \sum_j dP_{ij}\, P_{ij} (\delta_{jm} - P_{im}) = P_{im} \Big( dP_{im} - \sum_j P_{ij}\, dP_{ij} \Big),
#   \qquad dS = P \odot \big(dP - \operatorname{rowsum}(P \odot dP)\big).$$
#
# The subtracted term comes from the normalization (every $p_j$ depends on every score). Forgetting it,
# $dS = P \odot dP$, is the classic mistake: it treats the softmax as an elementwise function.
# Masked entries need no special care: there $P_{im} = 0$, hence $dS_{im} = 0$.
#
# **Through $S = QK^\top/\sqrt d$.** $dQ = dS\, K / \sqrt d$ and $dK = dS^\top Q / \sqrt d$.
#
# The cost is a few matrix products of the size of the forward pass, which is why the backward of
# attention is about twice as expensive as its forward.
#
# ### Exercise 3: `attention_backward`
#
# Implement `attention_backward(dout, cache)` with `cache = (q, k, v, p)`, where `p` holds the attention weights
# returned by the forward pass (masks, if any, are already in `p`). Return `(dq, dk, dv)` with the shapes of
# `q`, `k` and `v`. All tensors share the same leading dimensions `...`; use `transpose(-2, -1)`, not `.T`.

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
    ds = p * (dp - (p * dp).sum(dim=-1, keepdim=True))
    dq = ds @ k * scale
    dk = ds.transpose(-2, -1) @ q * scale
    return dq, dk, dv
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_attention_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
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
    expect_close(dv, dv_ref, what=f"dv (causal={causal})", hint="dv = p^T @ dout (transpose p, not dout).")
    expect_close(dq, dq_ref, what=f"dq (causal={causal})",
                 hint="ds = p * (dp - (p * dp).sum(-1, keepdim=True)): did you forget the second term of the "
                      "softmax Jacobian? And dq = ds @ k / sqrt(d).")
    expect_close(dk, dk_ref, what=f"dk (causal={causal})", hint="dk = ds^T @ q / sqrt(d).")

# %% nbgrader={"grade": true, "grade_id": "test_attention_backward_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
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
# ### Exercise 4: `multi_head_attention`
#
# Implement `multi_head_attention(query, key, value, in_proj_weight, in_proj_bias, out_proj_weight,
# out_proj_bias, num_heads, mask=None, causal=False)` for `query` of shape `(B, Lq, E)` and `key`, `value` of
# shape `(B, Lk, E)`; the biases may be `None` (no bias). `mask` is `None` or boolean broadcastable to
# `(B, H, Lq, Lk)` with `True` = take part (e.g. a padding mask `(B, 1, 1, Lk)`). Return `(out, weights)`, `out` of
# shape `(B, Lq, E)` and the per-head attention weights of shape `(B, H, Lq, Lk)`. Use your
# `scaled_dot_product_attention`, vectorized over batch and heads (no loop over heads).
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
             hint="Split in_proj_weight into W_q, W_k, W_v (rows 0:E, E:2E, 2E:3E); reshape to (B, L, H, dh) and "
                  "THEN transpose to (B, H, L, dh); scale by 1/sqrt(dh), the head width, not 1/sqrt(E).")
expect_close(out, ref_out, what="out vs nn.MultiheadAttention",
             hint="Concatenate the heads with transpose(1, 2).reshape(B, L, E), then out_proj: z @ W_out.T + b_out.")
with torch.no_grad():
    ref_out, _ = mha(x, x, x, attn_mask=~torch.ones(5, 5, dtype=torch.bool).tril())
expect_close(multi_head_attention(x, x, x, *args, causal=True)[0], ref_out,
             what="out with causal=True vs nn.MultiheadAttention(attn_mask=~tril)",
             hint="Pass causal on to your scaled_dot_product_attention.")

# %% nbgrader={"grade": true, "grade_id": "test_multi_head_attention_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
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
# a linear map that depends on the offset $s$ only. So a query can learn to look "three tokens back", and
# $PE_t \cdot PE_{t+s} = \sum_i \cos(\omega_i s)$ depends on $|s|$ alone.
#
# ### Exercise 5: `sinusoidal_positions`
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
# ### Exercise 6: `transformer_block`
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
             hint="Pre-norm: h = x + MHA(LN1(x)) (the residual adds x itself, not LN1(x)), then y = h + FFN(LN2(h)) "
                  "with FFN(z) = relu(z W1^T + b1) W2^T + b2 and the second LayerNorm's own parameters.")
expect_close(transformer_block(x, params, H, causal=True), expected_causal, what="transformer_block(..., causal=True)",
             hint="Pass causal on to the attention.")

# %% nbgrader={"grade": true, "grade_id": "test_transformer_block_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
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
# \lVert k_j\rVert^2/2)/\sigma^2\big)$. The bandwidth $\sigma$ plays the role of the temperature $\sqrt d$: a small
# $\sigma$ copies the value of the nearest key, a large one averages everything. (For unit-norm keys the
# $\lVert k_j\rVert^2$ term is constant too, and the Gaussian kernel is exactly an exponentiated dot product.)
#
# ### Exercise 7: `gaussian_kernel_attention`
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
# ## What you built
#
# - `masked_softmax`: the softmax that leaves out masked entries (set to $-\infty$ before normalizing), safe
#   for large scores and for rows with nothing to attend to.
# - `scaled_dot_product_attention`: $\operatorname{softmax}(QK^\top/\sqrt d)V$ with padding masks (`True` =
#   take part) and the causal rule "query $i$ sees keys $j \le i$".
# - `attention_backward`: $dV = P^\top dO$, $dS = P \odot (dP - \operatorname{rowsum}(P \odot dP))$,
#   $dQ = dS\,K/\sqrt d$, $dK = dS^\top Q/\sqrt d$, checked against autograd.
# - `multi_head_attention`: $H$ heads as one more batch dimension, with the parameters of
#   `nn.MultiheadAttention`.
# - `sinusoidal_positions`: sines and cosines at geometric frequencies, whose shifts are rotations.
# - `transformer_block`: the pre-norm block $x + \operatorname{MHA}(\operatorname{LN}(x))$,
#   $h + \operatorname{FFN}(\operatorname{LN}(h))$, equal to `nn.TransformerEncoderLayer(norm_first=True)`.
#
# Next, chapter 10 puts these blocks to work on text: token embeddings, pretraining objectives (masked and
# next-token prediction) and how to measure a language model.
