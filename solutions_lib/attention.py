"""Attention and the Transformer: masked softmax, scaled dot-product attention and its backward pass,
multi-head attention, sinusoidal positional encodings and a pre-norm transformer block.

Reference implementations for chapter 09 (Attention and the Transformer). Every function is vectorized
torch code (batch and heads are leading dimensions, no Python loops over data) that runs unchanged on the
CPU and on CUDA, in float32 and float64.

Conventions (the same as the notebook states them):

- Sequences are batch first: queries ``(..., Lq, d)``, keys ``(..., Lk, d)``, values ``(..., Lk, dv)``; a
  multi-head layer takes ``(B, L, E)`` like ``torch.nn.MultiheadAttention(batch_first=True)``.
- A boolean ``mask`` says which scores **take part** in the softmax: ``True`` = keep, ``False`` = mask out,
  the convention of the boolean ``attn_mask`` of ``torch.nn.functional.scaled_dot_product_attention``.
  (``torch.nn.MultiheadAttention`` and ``nn.TransformerEncoderLayer`` use the opposite one: pass ``~mask``.)
- ``causal=True`` lets query position ``i`` attend to key positions ``j <= i`` only (the mask is the lower
  triangle ``torch.ones(Lq, Lk).tril()``, aligned at the top left as ``is_causal=True`` in torch).
- A query row whose every score is masked out gets all-zero attention weights (and so a zero output),
  where torch returns NaN.
- ``gaussian_kernel_attention`` is the kernel view of attention (Nadaraya-Watson regression): weights
  proportional to ``exp(-|q - k|^2 / (2 sigma^2))``, normalized over the keys.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from solutions_lib.linear import softmax
from solutions_lib.normalization import layernorm_forward

__all__ = [
    "masked_softmax",
    "scaled_dot_product_attention",
    "attention_backward",
    "multi_head_attention",
    "sinusoidal_positions",
    "transformer_block",
    "gaussian_kernel_attention",
    "row_softmax_backward",
    "reverser_logits",
    "train_reverser",
    "scale_answer",
    "permutation_answer",
    "causal_answer",
]


def masked_softmax(scores, mask=None):
    r"""Softmax over the last dimension that gives masked-out entries exactly zero weight.

    Introduced in chapter 09 (Attention and the Transformer).

    Entries where ``mask`` is ``False`` are left out of the normalization:
    :math:`p_j = [m_j]\, e^{s_j - c} / \sum_{j'} [m_{j'}]\, e^{s_{j'} - c}` with :math:`c` the largest kept
    score of the row (so large scores do not overflow). A row with no kept entry returns all zeros.

    Args:
        scores: floating tensor, shape ``(..., L)``.
        mask: ``None`` (keep everything) or a boolean tensor broadcastable to ``scores.shape``;
            ``True`` = take part, ``False`` = mask out.

    Returns:
        Tensor of the shape and dtype of ``scores``; every row sums to 1 (or is all zero if fully masked).

    Example:
        >>> masked_softmax(torch.tensor([[1.0, 1.0, 5.0]]), torch.tensor([True, True, False]))
        tensor([[0.5000, 0.5000, 0.0000]])
    """
    if mask is None:  # out of place (autograd runs through it when a model is trained on these pieces)
        e = (scores - scores.amax(dim=-1, keepdim=True)).exp()
        return e / e.sum(dim=-1, keepdim=True)
    z = scores.masked_fill(~mask.to(torch.bool), float("-inf"))
    top = z.amax(dim=-1, keepdim=True)
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))  # a fully masked row: exp(-inf) = 0
    e = (z - top).exp()
    total = e.sum(dim=-1, keepdim=True)
    return e / torch.where(total > 0, total, torch.ones_like(total))


def _causal_mask(lq, lk, device):
    """Boolean (Lq, Lk) lower triangle: query i may attend to key j iff j <= i."""
    return torch.ones(lq, lk, dtype=torch.bool, device=device).tril()


def scaled_dot_product_attention(q, k, v, mask=None, causal=False):
    r"""Scaled dot-product attention, returning the output and the attention weights.

    Introduced in chapter 09 (Attention and the Transformer).

    :math:`P = \mathrm{softmax}(Q K^\top / \sqrt{d} \text{ with masked scores left out})`, output :math:`P V`,
    the softmax taken over the keys (the last dimension). Agrees with
    ``F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)`` wherever no query row is
    fully masked.

    Args:
        q: queries, shape ``(..., Lq, d)``.
        k: keys, shape ``(..., Lk, d)``.
        v: values, shape ``(..., Lk, dv)``.
        mask: ``None`` or a boolean tensor broadcastable to ``(..., Lq, Lk)``; ``True`` = take part.
        causal: if True, query ``i`` sees keys ``j <= i`` only (combined with ``mask`` by logical and).

    Returns:
        ``(out, p)``: ``out`` of shape ``(..., Lq, dv)`` and the weights ``p`` of shape ``(..., Lq, Lk)``.

    Example:
        >>> q = k = torch.eye(2)
        >>> out, p = scaled_dot_product_attention(q, k, torch.tensor([[1.0], [3.0]]), causal=True)
        >>> out.flatten()
        tensor([1.0000, 2.3395])
        >>> p
        tensor([[1.0000, 0.0000],
                [0.3302, 0.6698]])
    """
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    keep = mask
    if causal:
        tri = _causal_mask(q.shape[-2], k.shape[-2], q.device)
        keep = tri if keep is None else keep.to(torch.bool) & tri
    p = masked_softmax(scores, keep)
    return p @ v, p


def row_softmax_backward(p, dp):
    r"""The softmax's Jacobian-vector product along the last axis: the gradient with respect to the scores.

    Introduced in chapter 09 (Attention and the Transformer).

    For :math:`p = \mathrm{softmax}(s)` over the last axis and the upstream gradient :math:`dp`, the Jacobian
    :math:`\partial p_j / \partial s_m = p_j(\delta_{jm} - p_m)` gives
    :math:`ds_m = p_m\,(dp_m - \sum_j p_j\, dp_j)`, row by row. Entries with :math:`p = 0` (masked out)
    get :math:`ds = 0`.

    Args:
        p: softmax output, shape ``(..., L)`` (each row sums to 1, or is all zero if fully masked).
        dp: upstream gradient with respect to ``p``, same shape.

    Returns:
        ``ds``, the gradient with respect to the scores, shape ``(..., L)``.

    Example:
        >>> row_softmax_backward(torch.tensor([[0.5, 0.5]]), torch.tensor([[1.0, 0.0]]))
        tensor([[ 0.2500, -0.2500]])
    """
    return p * (dp - (p * dp).sum(dim=-1, keepdim=True))


def attention_backward(dout, cache):
    r"""Gradients of scaled dot-product attention with respect to the queries, keys and values.

    Introduced in chapter 09 (Attention and the Transformer).

    With :math:`S = QK^\top/\sqrt d`, :math:`P = \mathrm{softmax}(S)` row by row and :math:`O = PV`:
    :math:`dV = P^\top dO`, :math:`dP = dO\, V^\top`, through the softmax Jacobian
    :math:`dS = P \odot (dP - \mathrm{rowsum}(P \odot dP))`, then :math:`dQ = dS\, K / \sqrt d` and
    :math:`dK = dS^\top Q / \sqrt d`. Masked entries have :math:`P = 0`, so they receive no gradient.

    Args:
        dout: upstream gradient, shape ``(..., Lq, dv)``.
        cache: ``(q, k, v, p)`` with ``q`` ``(..., Lq, d)``, ``k`` ``(..., Lk, d)``, ``v`` ``(..., Lk, dv)``
            and the attention weights ``p`` ``(..., Lq, Lk)`` of the forward pass (same leading dims).

    Returns:
        ``(dq, dk, dv)`` with the shapes of ``q``, ``k`` and ``v``.

    Example:
        >>> q, k, v = torch.zeros(1, 2), torch.zeros(2, 2), torch.tensor([[1.0], [3.0]])
        >>> dq, dk, dv = attention_backward(torch.ones(1, 1), (q, k, v, torch.tensor([[0.5, 0.5]])))
        >>> dv.flatten().tolist(), dk.abs().sum().item()
        ([0.5, 0.5], 0.0)
    """
    q, k, v, p = cache
    scale = 1.0 / math.sqrt(q.shape[-1])
    dv = p.transpose(-2, -1) @ dout
    dp = dout @ v.transpose(-2, -1)
    ds = row_softmax_backward(p, dp)
    dq = (ds @ k) * scale
    dk = (ds.transpose(-2, -1) @ q) * scale
    return dq, dk, dv


def multi_head_attention(query, key, value, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias,
                         num_heads, mask=None, causal=False):
    r"""Multi-head attention with the parameters of ``torch.nn.MultiheadAttention(batch_first=True)``.

    Introduced in chapter 09 (Attention and the Transformer).

    ``in_proj_weight`` stacks :math:`W_Q, W_K, W_V` (each ``(E, E)``) along dim 0; the projections are split
    into ``num_heads`` heads of size ``E // num_heads`` (head ``h`` takes features
    ``h * dh : (h + 1) * dh``), each head runs scaled dot-product attention with scale
    :math:`1/\sqrt{d_h}`, the heads are concatenated back and projected by ``out_proj``.

    Args:
        query: ``(B, Lq, E)``.
        key: ``(B, Lk, E)``.
        value: ``(B, Lk, E)``.
        in_proj_weight: ``(3E, E)``; in_proj_bias: ``(3E,)`` or None.
        out_proj_weight: ``(E, E)``; out_proj_bias: ``(E,)`` or None.
        num_heads: number of heads H, a divisor of E.
        mask: ``None`` or a boolean tensor broadcastable to ``(B, H, Lq, Lk)``, ``True`` = take part
            (e.g. ``(Lq, Lk)``, or a key padding mask of shape ``(B, 1, 1, Lk)``).
        causal: if True, query ``i`` sees keys ``j <= i`` only.

    Returns:
        ``(out, weights)``: ``out`` of shape ``(B, Lq, E)`` and per-head weights of shape ``(B, H, Lq, Lk)``.

    Example:
        >>> E = 4; x = torch.randn(2, 3, E)
        >>> out, w = multi_head_attention(x, x, x, torch.randn(3 * E, E), None, torch.eye(E), None, 2)
        >>> tuple(out.shape), tuple(w.shape)
        ((2, 3, 4), (2, 2, 3, 3))
    """
    b, lq, e = query.shape
    lk = key.shape[1]
    dh = e // num_heads
    wq, wk, wv = in_proj_weight.chunk(3, dim=0)
    bq, bk, bv = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)

    def heads(x, w, bias, length):  # (B, L, E) -> (B, H, L, dh)
        return F.linear(x, w, bias).view(b, length, num_heads, dh).transpose(1, 2)

    q, k, v = heads(query, wq, bq, lq), heads(key, wk, bk, lk), heads(value, wv, bv, lk)
    out, p = scaled_dot_product_attention(q, k, v, mask, causal)
    out = out.transpose(1, 2).reshape(b, lq, e)
    return F.linear(out, out_proj_weight, out_proj_bias), p


def sinusoidal_positions(length, d_model, dtype=torch.float32, device=None):
    r"""The sinusoidal positional encoding of Vaswani et al. (2017).

    Introduced in chapter 09 (Attention and the Transformer).

    :math:`PE[t, 2i] = \sin(t / 10000^{2i/d})` and :math:`PE[t, 2i+1] = \cos(t / 10000^{2i/d})` for
    positions :math:`t = 0, \dots, L-1`: sines on the even columns, cosines on the odd ones, the pair
    :math:`(2i, 2i+1)` sharing one frequency. Computed in float64, returned in ``dtype``.

    Args:
        length: number of positions L.
        d_model: model width d (an odd d keeps the last sine column).
        dtype: floating dtype of the result.
        device: device of the result.

    Returns:
        Tensor of shape ``(L, d_model)``.

    Example:
        >>> sinusoidal_positions(2, 4, dtype=torch.float64)[1]
        tensor([0.8415, 0.5403, 0.0100, 1.0000], dtype=torch.float64)
    """
    pos = torch.arange(length, dtype=torch.float64, device=device).unsqueeze(1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64, device=device)
    angle = pos * torch.pow(10000.0, -two_i / d_model)  # (L, ceil(d/2))
    pe = torch.empty(length, d_model, dtype=torch.float64, device=device)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return pe.to(dtype)


def transformer_block(x, params, num_heads, mask=None, causal=False, eps=1e-5):
    r"""A pre-norm transformer (encoder) block: ``x + MHA(LN1(x))``, then ``h + FFN(LN2(h))``.

    Introduced in chapter 09 (Attention and the Transformer).

    :math:`h = x + \mathrm{MHA}(\mathrm{LN}_1(x))` (self-attention: query = key = value), then
    :math:`y = h + W_2\, \mathrm{ReLU}(W_1 \mathrm{LN}_2(h) + b_1) + b_2`. Equal to
    ``nn.TransformerEncoderLayer(E, H, F, dropout=0.0, batch_first=True, norm_first=True)`` in eval mode
    with ``params`` as its state dict (and ``src_mask=~mask``).

    Args:
        x: input, shape ``(B, L, E)``.
        params: dict with the keys of that layer's ``state_dict()``: ``"self_attn.in_proj_weight"`` ``(3E, E)``,
            ``"self_attn.in_proj_bias"`` ``(3E,)``, ``"self_attn.out_proj.weight"`` ``(E, E)``,
            ``"self_attn.out_proj.bias"`` ``(E,)``, ``"linear1.weight"`` ``(F, E)``, ``"linear1.bias"`` ``(F,)``,
            ``"linear2.weight"`` ``(E, F)``, ``"linear2.bias"`` ``(E,)``, ``"norm1.weight"``, ``"norm1.bias"``,
            ``"norm2.weight"``, ``"norm2.bias"`` (each ``(E,)``).
        num_heads: number of heads H.
        mask: ``None`` or boolean, broadcastable to ``(B, H, L, L)``, ``True`` = take part.
        causal: if True, position ``i`` attends to ``j <= i`` only.
        eps: the LayerNorm epsilon.

    Returns:
        Tensor of shape ``(B, L, E)``.

    Example:
        >>> layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=True)
        >>> x = torch.randn(2, 5, 8)
        >>> torch.allclose(transformer_block(x, layer.state_dict(), 2), layer.eval()(x), atol=1e-5)
        True
    """
    h = layernorm_forward(x, params["norm1.weight"], params["norm1.bias"], eps)[0]
    a, _ = multi_head_attention(h, h, h, params["self_attn.in_proj_weight"], params["self_attn.in_proj_bias"],
                                params["self_attn.out_proj.weight"], params["self_attn.out_proj.bias"],
                                num_heads, mask, causal)
    x = x + a
    h = layernorm_forward(x, params["norm2.weight"], params["norm2.bias"], eps)[0]
    ff = F.linear(torch.relu(F.linear(h, params["linear1.weight"], params["linear1.bias"])),
                  params["linear2.weight"], params["linear2.bias"])
    return x + ff


def gaussian_kernel_attention(q, k, v, sigma):
    r"""Attention with a Gaussian kernel: the Nadaraya-Watson kernel regression estimate at each query.

    Introduced in chapter 09 (Attention and the Transformer).

    :math:`\mathrm{out}_i = \sum_j \alpha_{ij} v_j` with
    :math:`\alpha_{ij} = e^{-\lVert q_i - k_j\rVert^2 / 2\sigma^2} / \sum_{j'} e^{-\lVert q_i - k_{j'}\rVert^2 / 2\sigma^2}`,
    i.e. dot-product attention with scores :math:`(q_i \cdot k_j - \lVert k_j\rVert^2/2)/\sigma^2` (the
    :math:`\lVert q_i\rVert^2` term cancels): :math:`\sigma^2` plays the part of the temperature
    :math:`\sqrt d`. Computed as a softmax of the negative scaled squared
    distances, so a query far from every key (where every kernel value underflows to 0) still gets the
    weights of its nearest keys, not 0/0.

    Args:
        q: queries, shape ``(..., Lq, d)``.
        k: keys, shape ``(..., Lk, d)``.
        v: values, shape ``(..., Lk, dv)``.
        sigma: the bandwidth, a positive float.

    Returns:
        Tensor of shape ``(..., Lq, dv)``.

    Example:
        >>> keys, vals = torch.tensor([[0.0], [1.0]]), torch.tensor([[0.0], [1.0]])
        >>> gaussian_kernel_attention(torch.tensor([[0.5], [100.0]]), keys, vals, 0.5)
        tensor([[0.5000],
                [1.0000]])
    """
    d2 = (q.unsqueeze(-2) - k.unsqueeze(-3)).square().sum(dim=-1)  # (..., Lq, Lk)
    return softmax(-d2 / (2.0 * sigma**2), dim=-1) @ v


# -- the make-it-work task: a tiny Transformer that reverses sequences -----------------------------------------

def reverser_logits(tokens, params, num_heads=2):
    r"""Logits of the chapter's one-block reverser: embed, add positions, one pre-norm block, read out.

    Introduced in chapter 09 (Attention and the Transformer).

    :math:`x = \mathrm{embed}[\text{tokens}] + PE`, :math:`h = \mathrm{block}(x)` (bidirectional: no causal
    mask), logits :math:`= h\, W_{\text{head}}^\top + b_{\text{head}}`; position ``i`` predicts the token at
    position ``L - 1 - i``.

    Args:
        tokens: int64 tensor ``(B, L)``.
        params: the dict of ``course.reversal.init_reverser_params`` (trained or not).
        num_heads: heads of the attention.

    Returns:
        Tensor ``(B, L, vocab)``.

    Example:
        >>> from course.reversal import init_reverser_params
        >>> params = init_reverser_params(torch.Generator().manual_seed(0))
        >>> reverser_logits(torch.zeros(2, 6, dtype=torch.long), params).shape
        torch.Size([2, 6, 8])
    """
    embed = params["embed"]
    x = embed[tokens] + sinusoidal_positions(tokens.shape[1], embed.shape[1], dtype=embed.dtype,
                                             device=embed.device)
    block = {name[len("block."):]: t for name, t in params.items() if name.startswith("block.")}
    h = transformer_block(x, block, num_heads)
    return F.linear(h, params["head.weight"], params["head.bias"])


def train_reverser(train_tokens, seed, steps=150, lr=3e-3, batch_size=64):
    r"""Train the reverser with Adam on the cross-entropy of every position; return the trained parameters.

    Introduced in chapter 09 (Attention and the Transformer).

    Parameters start from ``course.reversal.init_reverser_params(torch.Generator().manual_seed(seed))``;
    each of ``steps`` steps draws ``batch_size`` training sequences with ``torch.randint`` from the same
    generator, and takes one ``torch.optim.Adam`` step on the mean cross-entropy between
    ``reverser_logits`` and the reversed sequences.

    Args:
        train_tokens: int64 tensor ``(N, L)`` of training sequences.
        seed: the seed of the initial weights and the batches.
        steps, lr, batch_size: the optimization's settings.

    Returns:
        dict of detached tensors with the keys of ``init_reverser_params``.

    Example:
        >>> from course.reversal import reversal_data
        >>> params = train_reverser(reversal_data(2000, torch.Generator().manual_seed(0)), seed=0)
        >>> held_out = reversal_data(500, torch.Generator().manual_seed(1))
        >>> bool((reverser_logits(held_out, params).argmax(-1) == held_out.flip(1)).float().mean() > 0.98)
        True
    """
    from course.reversal import init_reverser_params

    g = torch.Generator().manual_seed(seed)
    params = init_reverser_params(g)
    opt = torch.optim.Adam(params.values(), lr=lr)
    targets = train_tokens.flip(1)
    vocab = params["embed"].shape[0]
    for _ in range(steps):
        idx = torch.randint(0, train_tokens.shape[0], (batch_size,), generator=g)
        logits = reverser_logits(train_tokens[idx], params)
        loss = F.cross_entropy(logits.reshape(-1, vocab), targets[idx].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {name: t.detach() for name, t in params.items()}


# -- concept questions -------------------------------------------------------------------------------------------

def scale_answer():
    """Concept question of chapter 09: what the 1/sqrt(d) in the scores is for.

    Example::

        >>> scale_answer()
        'c'
    """
    return "c"


def permutation_answer():
    """Concept question of chapter 09: self-attention without positions, on a permuted sequence.

    Example::

        >>> permutation_answer()
        'b'
    """
    return "b"


def causal_answer():
    """Concept question of chapter 09: a next-token model trained without the causal mask.

    Example::

        >>> causal_answer()
        'd'
    """
    return "d"
