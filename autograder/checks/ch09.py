"""Hidden checks of chapter 09 (attention and the Transformer).

Oracles: ``torch.softmax`` with ``-inf`` fill, ``F.scaled_dot_product_attention``, autograd through it in float64
with random upstream gradients, ``nn.MultiheadAttention`` and ``nn.TransformerEncoderLayer`` (norm_first) with
copied weights, and the closed form of the sinusoidal encoding evaluated in float64. Masks are boolean with
True = take part (torch's modules take the complement). Fully masked rows, where torch gives NaN, are judged
against ``solutions_lib`` (all-zero weights, as the notebook states).
"""
from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F

from autograder.checks import Case, check
from course.checks import diagnose_close
from solutions_lib import attention as ref

F64 = torch.float64
F32 = torch.float32


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(g, *shape, dtype=F64):
    return torch.randn(*shape, generator=g, dtype=dtype)


def _padding_mask(lengths, lk):
    """(B, 1, 1, Lk) boolean: True on the real tokens of each sequence."""
    return (torch.arange(lk) < torch.tensor(lengths)[:, None])[:, None, None, :]


def _tril(lq, lk):
    return torch.ones(lq, lk, dtype=torch.bool).tril()


def _pair_compare(names):
    def compare(got, expected, case):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"the function should return a tuple ({', '.join(names)})."
        for name, g, e in zip(names, got, expected):
            problem = diagnose_close(g, e, what=name)
            if problem:
                return problem
        return None
    return compare


# -- masked_softmax ---------------------------------------------------------------------------------------------

def _masked_softmax_oracle(scores, mask):
    if mask is None:
        return torch.softmax(scores.to(F64), dim=-1).to(scores.dtype)
    keep = mask.expand_as(scores)
    p = torch.softmax(scores.to(F64).masked_fill(~keep, float("-inf")), dim=-1)
    return torch.nan_to_num(p, nan=0.0).to(scores.dtype)  # fully masked rows: all zero


@check("masked_softmax",
       hint="Fill the masked-out scores (mask == False) with -inf BEFORE the softmax over the last dimension, "
            "subtract the row maximum of the kept scores, and give a fully masked row zeros (not NaN).")
def _masked_softmax_cases():
    g = _gen(900)
    s = _randn(g, 4, 7)
    m = _randn(g, 4, 7) > 0
    m[:, 2] = True
    yield Case("float64 (4, 7), random mask", (s, m), expected=_masked_softmax_oracle(s, m))
    s = _randn(g, 2, 3, 5, 6, dtype=F32)
    m = _padding_mask([2, 6], 6)
    yield Case("float32 (2, 3, 5, 6), padding mask (2, 1, 1, 6) broadcast", (s, m),
               expected=_masked_softmax_oracle(s, m))
    s = _randn(g, 5, 5)
    yield Case("float64 (5, 5), causal (lower-triangular) mask", (s, _tril(5, 5)),
               expected=_masked_softmax_oracle(s, _tril(5, 5)))
    s = _randn(g, 3, 6)
    yield Case("mask=None: a plain softmax over the last dimension", (s, None),
               expected=_masked_softmax_oracle(s, None))
    s = 1000.0 + 30 * _randn(g, 3, 8)
    m = _randn(g, 3, 8) > -0.3
    m[:, 0] = True
    yield Case("scores near 1000 (overflow without the max shift)", (s, m), expected=_masked_softmax_oracle(s, m))
    s = _randn(g, 3, 4)
    s[0, 3] = 500.0  # a huge masked-out score must not take the maximum
    m = torch.tensor([[True, True, True, False], [True, False, True, True], [False] * 4])
    yield Case("a huge score under the mask, and a fully masked row (all zeros)", (s, m),
               expected=_masked_softmax_oracle(s, m))
    s = _randn(g, 4, 1)
    yield Case("rows of length 1", (s, torch.ones(4, 1, dtype=torch.bool)),
               expected=torch.ones(4, 1, dtype=F64))


# -- scaled_dot_product_attention -------------------------------------------------------------------------------

def _sdpa_case(label, g, shape, dtype=F64, mask=None, causal=False, lk=None, dv=None):
    *batch, lq, d = shape
    lk = lq if lk is None else lk
    dv = d if dv is None else dv
    q = _randn(g, *batch, lq, d, dtype=dtype)
    k = _randn(g, *batch, lk, d, dtype=dtype)
    v = _randn(g, *batch, lk, dv, dtype=dtype)
    keep = mask
    if causal:
        keep = _tril(lq, lk) if keep is None else keep & _tril(lq, lk)
    out = F.scaled_dot_product_attention(q.to(F64), k.to(F64), v.to(F64), attn_mask=keep)
    scores = q.to(F64) @ k.to(F64).transpose(-2, -1) / math.sqrt(d)
    p = _masked_softmax_oracle(scores, keep)
    return Case(label, (q, k, v), {"mask": mask, "causal": causal}, expected=(out.to(dtype), p.to(dtype)))


@check("scaled_dot_product_attention", compare=_pair_compare(("out", "p (the attention weights)")),
       hint="scores = q @ k.transpose(-2, -1) / sqrt(d) with d = q.shape[-1]; masked-out scores (mask False, and "
            "j > i when causal) become -inf BEFORE the softmax over the keys (last dimension); out = p @ v.")
def _sdpa_cases():
    g = _gen(910)
    yield _sdpa_case("float64 (6, 4), no mask", g, (6, 4))
    yield _sdpa_case("float64 (2, 3, 5, 8), causal", g, (2, 3, 5, 8), causal=True)
    yield _sdpa_case("float64 B=2, Lq=4, Lk=6, d=5, padding mask (2, 1, 6)", g, (2, 4, 5), lk=6,
                     mask=_padding_mask([3, 6], 6)[:, 0])
    yield _sdpa_case("float64 (2, 2, 6, 4), causal and padding (2, 1, 1, 6)", g, (2, 2, 6, 4),
                     mask=_padding_mask([6, 4], 6), causal=True)
    yield _sdpa_case("cross attention Lq=3, Lk=7, dv=5, causal (top-left aligned)", g, (2, 3, 4), lk=7, dv=5,
                     causal=True)
    yield _sdpa_case("float32 (3, 7, 16), random (7, 7) mask", g, (3, 7, 16),
                     mask=torch.cat([torch.ones(7, 1, dtype=torch.bool),
                                     _randn(g, 7, 6) > 0], dim=1))
    yield _sdpa_case("large d = 64 (the 1/sqrt(d) matters)", g, (2, 5, 64))
    yield _sdpa_case("a single position (L = 1), causal", g, (2, 1, 3), causal=True)


# -- attention_backward -----------------------------------------------------------------------------------------

def _backward_case(label, g, batch, lq, lk, d, dv, dtype=F64, mask=None, causal=False, scale=1.0):
    q = scale * _randn(g, *batch, lq, d)
    k = scale * _randn(g, *batch, lk, d)
    v = _randn(g, *batch, lk, dv)
    dout = _randn(g, *batch, lq, dv)  # a random, non-uniform upstream gradient
    keep = mask
    if causal:
        keep = _tril(lq, lk) if keep is None else keep & _tril(lq, lk)
    qr, kr, vr = (t.clone().requires_grad_() for t in (q, k, v))
    out = F.scaled_dot_product_attention(qr, kr, vr, attn_mask=keep)
    expected = torch.autograd.grad(out, (qr, kr, vr), dout)
    _, p = ref.scaled_dot_product_attention(q, k, v, mask, causal)
    cache = tuple(t.to(dtype) for t in (q, k, v, p))
    return Case(label, (dout.to(dtype), cache), expected=expected)


@check("attention_backward", by_hand=True, compare=_pair_compare(("dq", "dk", "dv")),
       hint="Go back through the three steps of the forward pass: the product with v (which matrix is "
            "transposed?), the softmax of each row (every weight depends on every score of its row), and the "
            "scaled product q k^T (the scale multiplies both gradients, and the keys are the columns).")
def _attention_backward_cases():
    g = _gen(920)
    yield _backward_case("float64 (5, 5, d=3, dv=4), no mask", g, (), 5, 5, 3, 4)
    yield _backward_case("float64 (2, 3, 6, 6, d=4), causal", g, (2, 3), 6, 6, 4, 4, causal=True)
    yield _backward_case("float64 (2, 4, 4), padding mask", g, (2,), 4, 4, 4, 2,
                         mask=_padding_mask([2, 4], 4)[:, 0])
    yield _backward_case("cross attention Lq=3, Lk=6, float64", g, (2,), 3, 6, 5, 3)
    yield _backward_case("peaked attention (large scores), float64", g, (1,), 5, 5, 4, 4, scale=3.0)
    yield _backward_case("float32 (2, 4, 4, d=8)", g, (2,), 4, 4, 8, 4, dtype=F32)


# -- row_softmax_backward -------------------------------------------------------------------------------------------

def _softmax_backward_case(label, g, shape, dtype=F64, mask=None, scale=1.0):
    s = (scale * _randn(g, *shape)).requires_grad_()
    dp = _randn(g, *shape)  # a random, non-uniform upstream gradient
    keep = torch.ones(shape, dtype=torch.bool) if mask is None else mask.expand(shape)
    p = torch.nan_to_num(torch.softmax(s.masked_fill(~keep, float("-inf")), dim=-1), nan=0.0)
    (ds,) = torch.autograd.grad(p, s, dp)
    return Case(label, (p.detach().to(dtype), dp.to(dtype)), expected=ds.to(dtype))


@check("row_softmax_backward", by_hand=True,
       hint="Every weight of a row depends on every score of that row through the normalization, so the "
            "gradient of one score collects a contribution from every entry of dp, not only its own; the sum "
            "runs along the last axis, the one the softmax normalized.")
def _softmax_backward_cases():
    g = _gen(915)
    yield _softmax_backward_case("float64 (4, 6)", g, (4, 6))
    yield _softmax_backward_case("float64 (2, 3, 5, 7), leading dimensions", g, (2, 3, 5, 7))
    yield _softmax_backward_case("a square (5, 5) block: the sum must run over the last axis", g, (5, 5))
    yield _softmax_backward_case("peaked rows (large scores)", g, (3, 8), scale=4.0)
    yield _softmax_backward_case("masked entries (p = 0) and a fully masked row", g, (3, 5),
                                 mask=torch.tensor([[True, True, False, True, False], [True] * 5, [False] * 5]))
    yield _softmax_backward_case("float32 (6, 4)", g, (6, 4), dtype=F32)
    yield _softmax_backward_case("rows of length 1 (the gradient is zero)", g, (4, 1))


# -- multi_head_attention ---------------------------------------------------------------------------------------

def _mha_params(g, e, dtype, bias=True):
    s = 1 / math.sqrt(e)
    w_in = s * _randn(g, 3 * e, e, dtype=dtype)
    b_in = 0.1 * _randn(g, 3 * e, dtype=dtype) if bias else None
    w_out = s * _randn(g, e, e, dtype=dtype)
    b_out = 0.1 * _randn(g, e, dtype=dtype) if bias else None
    return w_in, b_in, w_out, b_out


def _mha_oracle(query, key, value, w_in, b_in, w_out, b_out, h, mask=None, causal=False):
    """nn.MultiheadAttention(batch_first=True) in float64 with the weights copied in."""
    b, lq, e = query.shape
    lk = key.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mha = torch.nn.MultiheadAttention(e, h, bias=b_in is not None, batch_first=True, dtype=F64).eval()
        with torch.no_grad():
            mha.in_proj_weight.copy_(w_in)
            mha.out_proj.weight.copy_(w_out)
            if b_in is not None:
                mha.in_proj_bias.copy_(b_in)
                mha.out_proj.bias.copy_(b_out)
        kwargs = {}
        if mask is not None:  # the checks only use (B, 1, 1, Lk) padding masks and (Lq, Lk) masks
            if mask.dim() == 4:
                kwargs["key_padding_mask"] = ~mask[:, 0, 0, :]
            else:
                kwargs["attn_mask"] = ~mask
        if causal:
            blocked = ~_tril(lq, lk)
            kwargs["attn_mask"] = blocked | kwargs["attn_mask"] if "attn_mask" in kwargs else blocked
        with torch.no_grad():
            out, w = mha(query.to(F64), key.to(F64), value.to(F64), need_weights=True,
                         average_attn_weights=False, **kwargs)
    return out.to(query.dtype), w.to(query.dtype)


def _mha_case(label, g, b, lq, e, h, dtype=F64, lk=None, mask=None, causal=False, bias=True):
    x = _randn(g, b, lq, e, dtype=dtype)
    mem = x if lk is None else _randn(g, b, lk, e, dtype=dtype)
    params = _mha_params(g, e, dtype, bias)
    args = (x, mem, mem, *params, h)
    return Case(label, args, {"mask": mask, "causal": causal},
                expected=_mha_oracle(*args, mask=mask, causal=causal))


@check("multi_head_attention", compare=_pair_compare(("out", "weights (B, H, Lq, Lk)")),
       hint="Split in_proj_weight into W_q, W_k, W_v (rows 0:E, E:2E, 2E:3E); project, then view (B, L, H, dh) and "
            "transpose to (B, H, L, dh); scale by 1/sqrt(dh) with dh = E // H (not E); concatenate the heads back "
            "with transpose(1, 2).reshape(B, L, E) and apply out_proj: y = z @ W_out.T + b_out.")
def _mha_cases():
    g = _gen(930)
    yield _mha_case("self-attention B=2, L=5, E=8, H=2, float64", g, 2, 5, 8, 2)
    yield _mha_case("H=4, E=12 (dh=3), causal", g, 2, 6, 12, 4, causal=True)
    yield _mha_case("cross attention Lq=4, Lk=7, padding mask (B, 1, 1, Lk)", g, 2, 4, 8, 2, lk=7,
                    mask=_padding_mask([5, 7], 7))
    yield _mha_case("one head (H=1), no biases", g, 1, 4, 6, 1, bias=False)
    yield _mha_case("H=E (dh=1), float64", g, 2, 3, 4, 4)
    yield _mha_case("float32, B=3, L=6, E=16, H=4, causal", g, 3, 6, 16, 4, dtype=F32, causal=True)
    yield _mha_case("a (Lq, Lk) mask shared by the batch and heads", g, 2, 5, 8, 2,
                    mask=torch.tensor([[1, 1, 0, 0, 1], [0, 1, 1, 0, 0], [1, 1, 1, 1, 1],
                                       [0, 0, 0, 1, 0], [1, 0, 1, 0, 1]], dtype=torch.bool))


# -- sinusoidal_positions ---------------------------------------------------------------------------------------

def _pe_closed_form(length, d):
    pe = torch.zeros(length, d, dtype=F64)
    for col in range(d):
        two_i = col - col % 2
        angle = torch.arange(length, dtype=F64) / 10000.0 ** (two_i / d)
        pe[:, col] = torch.sin(angle) if col % 2 == 0 else torch.cos(angle)
    return pe


def _pe_compare(got, expected, case):
    dtype = case.kwargs.get("dtype", torch.float32)
    if not isinstance(got, torch.Tensor):
        return f"the output should be a torch tensor, got {type(got).__name__}."
    if got.dtype != dtype:
        return f"the output should have dtype {dtype} (the `dtype` argument), got {got.dtype}."
    # float32: the angle t * 10000^(-2i/d) itself is rounded to ~1e-7 relative, up to ~1e-5 absolute at t ~ 100.
    atol = 2e-5 if dtype == torch.float32 else None
    return diagnose_close(got, expected, what="the encoding", atol=atol)


@check("sinusoidal_positions", compare=_pe_compare,
       hint="PE[t, 2i] = sin(t / 10000^(2i/d)) on EVEN columns, PE[t, 2i+1] = cos(t / 10000^(2i/d)) on ODD columns; "
            "the pair (2i, 2i+1) shares one frequency; positions t start at 0.")
def _pe_cases():
    for length, d, dtype in [(10, 8, F64), (50, 16, F64), (7, 6, F32), (100, 32, F32), (1, 4, F64), (12, 2, F64),
                             (9, 5, F64), (64, 128, F64)]:
        yield Case(f"length {length}, d_model {d}, {str(dtype)[6:]}", (length, d), {"dtype": dtype},
                   expected=_pe_closed_form(length, d).to(dtype))


# -- transformer_block ------------------------------------------------------------------------------------------

def _block_params(g, e, ff, dtype):
    s = 1 / math.sqrt(e)
    return {
        "self_attn.in_proj_weight": s * _randn(g, 3 * e, e, dtype=dtype),
        "self_attn.in_proj_bias": 0.1 * _randn(g, 3 * e, dtype=dtype),
        "self_attn.out_proj.weight": s * _randn(g, e, e, dtype=dtype),
        "self_attn.out_proj.bias": 0.1 * _randn(g, e, dtype=dtype),
        "linear1.weight": s * _randn(g, ff, e, dtype=dtype),
        "linear1.bias": 0.1 * _randn(g, ff, dtype=dtype),
        "linear2.weight": _randn(g, e, ff, dtype=dtype) / math.sqrt(ff),
        "linear2.bias": 0.1 * _randn(g, e, dtype=dtype),
        "norm1.weight": 1 + 0.2 * _randn(g, e, dtype=dtype),
        "norm1.bias": 0.1 * _randn(g, e, dtype=dtype),
        "norm2.weight": 1 + 0.2 * _randn(g, e, dtype=dtype),
        "norm2.bias": 0.1 * _randn(g, e, dtype=dtype),
    }


def _block_oracle(x, params, h, mask=None, causal=False, eps=1e-5):
    """nn.TransformerEncoderLayer(norm_first=True, dropout=0) in float64, with the state dict loaded."""
    b, l, e = x.shape
    ff = params["linear1.weight"].shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer = torch.nn.TransformerEncoderLayer(e, h, ff, dropout=0.0, batch_first=True, norm_first=True,
                                                 layer_norm_eps=eps, dtype=F64)
        layer.load_state_dict({k: v.to(F64) for k, v in params.items()})
        layer.train()  # train mode with dropout 0: the plain (not fast-path) computation
        kwargs = {}
        if mask is not None:
            kwargs["src_key_padding_mask"] = ~mask[:, 0, 0, :]
        if causal:
            kwargs["src_mask"] = ~_tril(l, l)
        with torch.no_grad():
            return layer(x.to(F64), **kwargs).to(x.dtype)


def _block_case(label, g, b, l, e, h, ff, dtype=F64, mask=None, causal=False, eps=1e-5, shift=0.0):
    x = _randn(g, b, l, e, dtype=dtype) + shift
    params = _block_params(g, e, ff, dtype)
    kwargs = {"mask": mask, "causal": causal}
    if eps != 1e-5:
        kwargs["eps"] = eps
    return Case(label, (x, params, h), kwargs, expected=_block_oracle(x, params, h, mask, causal, eps))


@check("transformer_block",
       hint="Pre-norm: h = x + MHA(LN1(x)) with query = key = value = LN1(x); then y = h + FFN(LN2(h)) with "
            "FFN(z) = relu(z @ W1.T + b1) @ W2.T + b2. The residual adds the UN-normalized input; LayerNorm "
            "uses the biased variance over the last dimension and eps inside the square root.")
def _block_cases():
    g = _gen(940)
    yield _block_case("B=2, L=5, E=8, H=2, F=16, float64", g, 2, 5, 8, 2, 16)
    yield _block_case("causal, B=1, L=6, E=12, H=3, F=24", g, 1, 6, 12, 3, 24, causal=True)
    yield _block_case("padding mask (B, 1, 1, L), B=2, L=6", g, 2, 6, 8, 4, 32, mask=_padding_mask([4, 6], 6))
    yield _block_case("input with a large offset (LayerNorm must centre it)", g, 2, 4, 8, 2, 8, shift=5.0)
    yield _block_case("eps = 1e-3", g, 1, 3, 4, 1, 8, eps=1e-3)
    yield _block_case("float32, B=2, L=7, E=16, H=4, F=32, causal", g, 2, 7, 16, 4, 32, dtype=F32, causal=True)


# -- gaussian_kernel_attention ----------------------------------------------------------------------------------

def _kernel_oracle(q, k, v, sigma):
    """Query by query in float64: log-weights -|q - k_j|^2 / (2 sigma^2), normalized with logsumexp."""
    q64, k64, v64 = q.to(F64), k.to(F64), v.to(F64)
    out = torch.empty(*q.shape[:-1], v.shape[-1], dtype=F64)
    for i in range(q.shape[-2]):
        logw = -((q64[..., i:i + 1, :] - k64) ** 2).sum(-1) / (2 * sigma ** 2)  # (..., Lk)
        w = torch.exp(logw - torch.logsumexp(logw, dim=-1, keepdim=True))
        out[..., i, :] = (w.unsqueeze(-1) * v64).sum(-2)
    return out.to(q.dtype)


def _kernel_case(label, q, k, v, sigma):
    return Case(label, (q, k, v, sigma), expected=_kernel_oracle(q, k, v, sigma))


@check("gaussian_kernel_attention",
       hint="Weights exp(-|q_i - k_j|^2 / (2 sigma^2)) normalized over the KEYS j (sigma squared, and the squared "
            "distance, not the dot product alone); compute them as a softmax of -|q_i - k_j|^2 / (2 sigma^2) so that "
            "a query far from every key does not give 0/0.")
def _kernel_cases():
    g = _gen(950)
    xs = 6 * torch.rand(30, 1, generator=g, dtype=F64)
    ys = torch.sin(xs) + 0.3 * _randn(g, 30, 1)
    grid = torch.linspace(-1, 7, 25, dtype=F64)[:, None]
    yield _kernel_case("1-D kernel regression, 30 points, sigma 0.5", grid, xs, ys, 0.5)
    yield _kernel_case("d = 3, dv = 2, sigma 1.3", _randn(g, 6, 3), _randn(g, 9, 3), _randn(g, 9, 2), 1.3)
    yield _kernel_case("batched (2, 4, 5, d=2), sigma 0.8", _randn(g, 2, 4, 5, 2), _randn(g, 2, 4, 7, 2),
                       _randn(g, 2, 4, 7, 3), 0.8)
    yield _kernel_case("queries far from every key, sigma 0.1 (the kernel values underflow)",
                       torch.tensor([[100.0], [-50.0], [3.05]], dtype=F64), xs, ys, 0.1)
    yield _kernel_case("large sigma (close to the mean of the values)", grid[:5], xs, ys, 50.0)
    yield _kernel_case("float32, d = 4, sigma 2", _randn(g, 5, 4, dtype=F32), _randn(g, 8, 4, dtype=F32),
                       _randn(g, 8, 3, dtype=F32), 2.0)
    yield _kernel_case("a single key", _randn(g, 3, 2), _randn(g, 1, 2), _randn(g, 1, 4), 0.7)


# -- train_reverser (make it work) ------------------------------------------------------------------------------

REVERSER_MIN_ACCURACY = 0.98
"""Share of held-out tokens the trained reverser must get right (stated in the notebook)."""


def _reverser_compare(got, expected, case: Case) -> str | None:
    from course.reversal import init_reverser_params

    shapes = {name: t.shape for name, t in init_reverser_params(_gen(0)).items()}
    if not isinstance(got, dict) or set(got) != set(shapes):
        return "train_reverser should return a dict with the keys of init_reverser_params."
    params = {}
    for name, shape in shapes.items():
        t = got[name]
        if not isinstance(t, torch.Tensor) or tuple(t.shape) != tuple(shape) or not t.is_floating_point():
            return f"params[{name!r}] should be a floating tensor of shape {tuple(shape)}."
        t = t.detach().to("cpu", torch.float32)
        if not torch.isfinite(t).all():
            return f"params[{name!r}] contains NaN or inf."
        params[name] = t
    held_out = expected["held_out"]
    with torch.no_grad():
        accuracy = (ref.reverser_logits(held_out, params).argmax(-1) == held_out.flip(1)).double().mean().item()
    if accuracy < expected["min_accuracy"]:
        return (f"the trained model gets {accuracy:.4f} of the held-out tokens right, below the target "
                f"{expected['min_accuracy']}.")
    return None


@check("train_reverser", compare=_reverser_compare,
       hint="Train all the parameters with Adam on the cross-entropy of every position against the reversed "
            "sequence; the grader runs the model of the statement, so your attention, positional encoding and "
            "block must be exactly the statement's (scale, softmax axis, no causal mask here).")
def _train_reverser_cases():
    from course.reversal import reversal_data

    train = reversal_data(2000, _gen(961))
    held_out = reversal_data(4000, _gen(962))
    yield Case(f"seed 7, 2000 training sequences: held-out token accuracy >= {REVERSER_MIN_ACCURACY}",
               (train, 7), expected={"held_out": held_out, "min_accuracy": REVERSER_MIN_ACCURACY})


# -- concept questions -----------------------------------------------------------------------------------------

def _answer_compare(got, expected, case: Case) -> str | None:
    if not isinstance(got, str) or got.strip().lower() not in {"a", "b", "c", "d"}:
        return "answer with one of the letters 'a', 'b', 'c', 'd' (a string)."
    return None if got.strip().lower() == expected else "that is not the right answer; reread the section."


def _answer_cases(expected):
    def cases():
        yield Case("your answer", (), expected=expected)
    return cases


check("scale_answer", compare=_answer_compare)(_answer_cases(ref.scale_answer()))
check("permutation_answer", compare=_answer_compare)(_answer_cases(ref.permutation_answer()))
check("causal_answer", compare=_answer_compare)(_answer_cases(ref.causal_answer()))
