"""solutions_lib.attention against torch: F.scaled_dot_product_attention, autograd in float64 with random
upstream gradients, nn.MultiheadAttention and nn.TransformerEncoderLayer with copied weights."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from solutions_lib import attention as att

F64 = torch.float64


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(*shape, seed=0, dtype=F64, device="cpu"):
    return torch.randn(*shape, generator=_gen(seed), dtype=dtype).to(device)


def _tol(dtype):
    return dict(rtol=1e-4, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-9, atol=1e-11)


def _padding_mask(lengths, lk, device):
    """(B, 1, 1, Lk) boolean: True for the real tokens of each sequence."""
    return (torch.arange(lk, device=device) < torch.tensor(lengths, device=device)[:, None])[:, None, None, :]


def test_masked_softmax_rows_and_zeros(device, dtype):
    s = _randn(3, 4, 6, seed=1, dtype=dtype, device=device) * 5
    mask = _randn(3, 4, 6, seed=2, device=device) > 0
    mask[..., 0] = True
    p = att.masked_softmax(s, mask)
    assert p.dtype == dtype and p.device == s.device
    assert torch.all(p[~mask] == 0)
    torch.testing.assert_close(p.sum(-1), torch.ones(3, 4, dtype=dtype, device=device), **_tol(dtype))
    expected = torch.softmax(s.masked_fill(~mask, float("-inf")), dim=-1)
    torch.testing.assert_close(p, expected, **_tol(dtype))
    torch.testing.assert_close(att.masked_softmax(s), torch.softmax(s, -1), **_tol(dtype))


def test_masked_softmax_large_scores_and_fully_masked_row():
    s = torch.tensor([[1000.0, 999.0, 5000.0], [1.0, 2.0, 3.0]], dtype=F64)
    mask = torch.tensor([[True, True, False], [False, False, False]])
    p = att.masked_softmax(s, mask)
    assert torch.isfinite(p).all()
    torch.testing.assert_close(p[0, :2], torch.softmax(torch.tensor([1.0, 0.0], dtype=F64), 0))
    assert torch.all(p[1] == 0) and p[0, 2] == 0


@pytest.mark.parametrize("kind", ["none", "causal", "padding", "both", "square-broadcast"])
def test_sdpa_matches_torch(device, dtype, kind):
    b, h, lq, lk, d, dv = 2, 3, 5, 5, 4, 6
    q = _randn(b, h, lq, d, seed=3, dtype=dtype, device=device)
    k = _randn(b, h, lk, d, seed=4, dtype=dtype, device=device)
    v = _randn(b, h, lk, dv, seed=5, dtype=dtype, device=device)
    mask = None
    if kind in ("padding", "both"):
        mask = _padding_mask([3, 5], lk, device)
    if kind == "square-broadcast":
        mask = _randn(lq, lk, seed=6, device=device) > -0.5
        mask[:, 0] = True
    causal = kind in ("causal", "both")
    out, p = att.scaled_dot_product_attention(q, k, v, mask, causal)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=None if causal else mask, is_causal=causal) \
        if not (causal and mask is not None) else \
        F.scaled_dot_product_attention(q, k, v, attn_mask=mask & torch.ones(lq, lk, dtype=torch.bool,
                                                                            device=device).tril())
    assert out.shape == (b, h, lq, dv) and p.shape == (b, h, lq, lk)
    torch.testing.assert_close(out, expected, **_tol(dtype))
    torch.testing.assert_close(p @ v, out, **_tol(dtype))


def test_causal_means_j_at_most_i():
    q, k, v = _randn(1, 4, 3, seed=7), _randn(1, 4, 3, seed=8), _randn(1, 4, 2, seed=9)
    _, p = att.scaled_dot_product_attention(q, k, v, causal=True)
    assert torch.all(p[0].triu(1) == 0)            # no weight on a future key j > i
    assert torch.all(p[0][torch.ones(4, 4, dtype=torch.bool).tril()] > 0)            # every past or present key has some weight
    assert p[0, 0, 0] == 1.0                        # the first query sees only itself


def test_sdpa_cross_attention_lengths(device):
    q, k, v = _randn(2, 3, 4, seed=10, device=device), _randn(2, 7, 4, seed=11, device=device), \
        _randn(2, 7, 5, seed=12, device=device)
    out, _ = att.scaled_dot_product_attention(q, k, v, causal=True)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True))


@pytest.mark.parametrize("kind", ["none", "causal", "padding"])
def test_attention_backward_matches_autograd(device, kind):
    b, h, lq, lk, d, dv = 2, 2, 5, 5, 3, 4
    q, k, v = (_randn(b, h, n, m, seed=s, device=device).requires_grad_()
               for s, (n, m) in zip((13, 14, 15), ((lq, d), (lk, d), (lk, dv))))
    mask = _padding_mask([2, 5], lk, device) if kind == "padding" else None
    causal = kind == "causal"
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
    dout = _randn(b, h, lq, dv, seed=16, device=device)  # a random, non-uniform upstream gradient
    expected = torch.autograd.grad(out, (q, k, v), dout)
    with torch.no_grad():
        _, p = att.scaled_dot_product_attention(q, k, v, mask, causal)
        got = att.attention_backward(dout, (q, k, v, p))
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e, rtol=1e-9, atol=1e-11)


def test_attention_backward_float32(device):
    q, k, v = (_randn(3, 4, 6, seed=s, dtype=torch.float32, device=device) for s in (17, 18, 19))
    dout = _randn(3, 4, 6, seed=20, dtype=torch.float32, device=device)
    _, p = att.scaled_dot_product_attention(q, k, v)
    got = att.attention_backward(dout, (q, k, v, p))
    qd, kd, vd = (t.double().requires_grad_() for t in (q, k, v))
    expected = torch.autograd.grad(F.scaled_dot_product_attention(qd, kd, vd), (qd, kd, vd), dout.double())
    for g, e in zip(got, expected):
        assert g.dtype == torch.float32
        torch.testing.assert_close(g.double(), e, rtol=1e-4, atol=1e-5)


def _mha_module(e, h, seed, dtype, device):
    torch.manual_seed(seed)  # only nn.Module's own initializer draws here; values are then overwritten
    mha = torch.nn.MultiheadAttention(e, h, batch_first=True, dtype=dtype, device=device).eval()
    with torch.no_grad():
        for i, p in enumerate(mha.parameters()):
            p.copy_(_randn(*p.shape, seed=100 + seed + i, dtype=dtype, device=device) / math.sqrt(e))
    return mha


@pytest.mark.parametrize("kind", ["none", "causal", "padding", "cross"])
def test_multi_head_attention_matches_nn(device, dtype, kind):
    b, e, h, lq = 2, 8, 2, 5
    lk = 7 if kind == "cross" else lq
    mha = _mha_module(e, h, 21, dtype, device)
    x = _randn(b, lq, e, seed=22, dtype=dtype, device=device)
    mem = _randn(b, lk, e, seed=23, dtype=dtype, device=device) if kind == "cross" else x
    mask, causal, torch_kwargs = None, False, {}
    if kind == "causal":
        causal = True
        torch_kwargs["attn_mask"] = ~torch.ones(lq, lk, dtype=torch.bool, device=device).tril()
    if kind == "padding":
        mask = _padding_mask([3, 5], lk, device)
        torch_kwargs["key_padding_mask"] = ~mask[:, 0, 0, :]
    with torch.no_grad():
        expected, expected_w = mha(x, mem, mem, need_weights=True, average_attn_weights=False, **torch_kwargs)
        out, w = att.multi_head_attention(x, mem, mem, mha.in_proj_weight, mha.in_proj_bias,
                                          mha.out_proj.weight, mha.out_proj.bias, h, mask, causal)
    torch.testing.assert_close(out, expected, **_tol(dtype))
    torch.testing.assert_close(w, expected_w, **_tol(dtype))


def test_multi_head_attention_one_head_is_sdpa():
    e = 4
    x = _randn(1, 3, e, seed=24)
    w_in = _randn(3 * e, e, seed=25)
    out, _ = att.multi_head_attention(x, x, x, w_in, None, torch.eye(e, dtype=F64), None, 1)
    q, k, v = x @ w_in[:e].T, x @ w_in[e:2 * e].T, x @ w_in[2 * e:].T
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))


def test_sinusoidal_positions_formula(device, dtype):
    pe = att.sinusoidal_positions(50, 16, dtype=dtype, device=device)
    assert pe.shape == (50, 16) and pe.dtype == dtype and pe.device.type == device.type
    t = torch.arange(50, dtype=F64)[:, None]
    for i in range(8):
        freq = 10000.0 ** (-2 * i / 16)
        torch.testing.assert_close(pe[:, 2 * i].cpu().double(), torch.sin(t * freq)[:, 0], **_tol(dtype))
        torch.testing.assert_close(pe[:, 2 * i + 1].cpu().double(), torch.cos(t * freq)[:, 0], **_tol(dtype))
    assert torch.all(pe[0, 0::2] == 0) and torch.all(pe[0, 1::2] == 1)


def test_sinusoidal_positions_odd_width_and_relative_shift():
    pe = att.sinusoidal_positions(20, 7, dtype=F64)
    assert pe.shape == (20, 7)
    t = torch.arange(20, dtype=F64)
    torch.testing.assert_close(pe[:, 6], torch.sin(t * 10000.0 ** (-6 / 7)))
    torch.testing.assert_close(pe[:, 5], torch.cos(t * 10000.0 ** (-4 / 7)))
    # PE[t + s] is a fixed rotation of PE[t] in each (sin, cos) pair: the dot product depends on s only
    pe = att.sinusoidal_positions(30, 8, dtype=F64)
    dots = (pe[:-5] * pe[5:]).sum(-1)
    torch.testing.assert_close(dots, torch.full_like(dots, dots[0].item()))


def _encoder_layer(e, h, ff, seed, dtype, device):
    torch.manual_seed(seed)
    layer = torch.nn.TransformerEncoderLayer(e, h, ff, dropout=0.0, batch_first=True, norm_first=True,
                                             dtype=dtype, device=device).eval()
    with torch.no_grad():
        for i, p in enumerate(layer.parameters()):
            p.copy_(_randn(*p.shape, seed=200 + seed + i, dtype=dtype, device=device) / math.sqrt(p.shape[-1]))
    return layer


@pytest.mark.parametrize("kind", ["none", "causal", "padding"])
def test_transformer_block_matches_encoder_layer(device, dtype, kind):
    b, l, e, h, ff = 2, 6, 8, 2, 16
    layer = _encoder_layer(e, h, ff, 31, dtype, device)
    x = _randn(b, l, e, seed=32, dtype=dtype, device=device)
    mask, causal, kwargs = None, False, {}
    if kind == "causal":
        causal = True
        kwargs = {"src_mask": ~torch.ones(l, l, dtype=torch.bool, device=device).tril()}
    if kind == "padding":
        mask = _padding_mask([4, 6], l, device)
        kwargs = {"src_key_padding_mask": ~mask[:, 0, 0, :]}
    with torch.no_grad():
        expected = layer(x, **kwargs)
        got = att.transformer_block(x, dict(layer.state_dict()), h, mask, causal)
    if kind == "padding":  # torch's fast path may zero the padded rows: compare the real tokens
        keep = mask[:, 0, 0, :]
        got, expected = got[keep], expected[keep]
    torch.testing.assert_close(got, expected, **_tol(dtype))


def test_transformer_block_is_differentiable():
    layer = _encoder_layer(4, 2, 8, 33, F64, "cpu")
    params = {k: v.clone().requires_grad_() for k, v in layer.state_dict().items()}
    x = _randn(1, 3, 4, seed=34).requires_grad_()
    att.transformer_block(x, params, 2, causal=True).square().sum().backward()
    assert x.grad is not None and all(p.grad is not None for p in params.values())


def test_gaussian_kernel_attention_is_dot_product_attention(device, dtype):
    q = _randn(2, 5, 3, seed=40, dtype=dtype, device=device)
    k = _randn(2, 7, 3, seed=41, dtype=dtype, device=device)
    v = _randn(2, 7, 4, seed=42, dtype=dtype, device=device)
    sigma = 0.8
    # exp(-|q - k|^2 / 2s^2) is proportional, for a fixed query, to exp((q.k - |k|^2 / 2) / s^2)
    scores = (q @ k.transpose(-2, -1) - 0.5 * k.square().sum(-1)[:, None, :]) / sigma**2
    expected = torch.softmax(scores, dim=-1) @ v
    torch.testing.assert_close(att.gaussian_kernel_attention(q, k, v, sigma), expected, **_tol(dtype))


def test_gaussian_kernel_attention_limits():
    keys = torch.linspace(0, 5, 6, dtype=F64)[:, None]
    vals = torch.arange(6, dtype=F64)[:, None] ** 2
    far = att.gaussian_kernel_attention(torch.tensor([[1000.0], [-1000.0]], dtype=F64), keys, vals, 0.05)
    torch.testing.assert_close(far, torch.tensor([[25.0], [0.0]], dtype=F64))  # the nearest key, no NaN
    wide = att.gaussian_kernel_attention(torch.tensor([[2.0]], dtype=F64), keys, vals, 1e4)
    torch.testing.assert_close(wide, vals.mean(0, keepdim=True), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape", [(4, 7), (2, 3, 5, 6), (3, 1)])
def test_softmax_backward_matches_autograd(shape):
    s = _randn(*shape, seed=40).requires_grad_()
    dp = _randn(*shape, seed=41)
    p = torch.softmax(s, dim=-1)
    (expected,) = torch.autograd.grad(p, s, dp)
    torch.testing.assert_close(att.row_softmax_backward(p.detach(), dp), expected)


def test_softmax_backward_masked_entries_get_no_gradient():
    p = att.masked_softmax(_randn(2, 5, seed=42), torch.tensor([True, False, True, True, False]))
    ds = att.row_softmax_backward(p, _randn(2, 5, seed=43))
    assert (ds[:, [1, 4]] == 0).all()
    torch.testing.assert_close(ds.sum(-1), torch.zeros(2, dtype=F64))  # a shift of all scores changes nothing


def test_train_reverser_reaches_the_stated_target_and_is_deterministic():
    from autograder.checks.ch09 import REVERSER_MIN_ACCURACY
    from course.reversal import reversal_data

    train = reversal_data(2000, _gen(3))
    held_out = reversal_data(2000, _gen(4))
    params = att.train_reverser(train, seed=3)
    again = att.train_reverser(train, seed=3)
    assert all(torch.equal(params[name], again[name]) for name in params)
    accuracy = (att.reverser_logits(held_out, params).argmax(-1) == held_out.flip(1)).double().mean().item()
    assert accuracy >= REVERSER_MIN_ACCURACY + 0.015


def test_reverser_with_untrained_parameters_is_near_chance():
    from course.reversal import init_reverser_params, reversal_data

    held_out = reversal_data(2000, _gen(5))
    with torch.no_grad():
        logits = att.reverser_logits(held_out, init_reverser_params(_gen(6)))
    assert (logits.argmax(-1) == held_out.flip(1)).double().mean().item() < 0.3


def test_concept_answers_are_letters():
    for answer in (att.scale_answer, att.permutation_answer, att.causal_answer):
        assert answer() in ("a", "b", "c", "d")
