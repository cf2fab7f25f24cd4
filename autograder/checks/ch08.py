"""Hidden checks of chapter 08 (RNNs, LSTMs, GRUs).

Oracles: ``torch.nn.RNN``, ``torch.nn.LSTM``, ``torch.nn.LSTMCell`` and ``torch.nn.GRUCell`` with the
exercise's weights copied in (``weight_ih = Wx.T``, ``weight_hh = Wh.T``, LSTM gate order i, f, g, o, GRU
gate order r, z, n), autograd through them with random upstream gradients, and
``torch.nn.utils.clip_grad_norm_`` for gradient clipping. Caches are compared with those of solutions_lib,
in the layouts the notebook states.
"""
from __future__ import annotations

import torch

from autograder.checks import Case, check
from course.checks import diagnose_close
from solutions_lib import rnn as ref

F64 = torch.float64
F32 = torch.float32

RNN_CACHE = ("x", "h_prev", "Wx", "Wh", "h")
LSTM_CACHE = ("x", "h_prev", "c_prev", "Wx", "Wh", "i", "f", "g", "o", "c")


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(g, *shape, dtype=F64, scale=1.0):
    return scale * torch.randn(*shape, generator=g, dtype=dtype)


def _diagnose_cache(got, expected, names, what):
    if not isinstance(got, (tuple, list)) or len(got) != len(names):
        return f"{what} should be the {len(names)}-tuple ({', '.join(names)}), got {type(got).__name__}" + (
            f" of length {len(got)}." if isinstance(got, (tuple, list)) else ".")
    for name, g, e in zip(names, got, expected):
        problem = diagnose_close(g, e, what=f"{what} entry {name!r}")
        if problem:
            return problem
    return None


def _outputs_compare(out_names, cache_names, sequence):
    """A compare for forward functions returning (*outputs, cache)."""

    def compare(got, expected, case):
        n = len(out_names) + 1
        if not isinstance(got, (tuple, list)) or len(got) != n:
            return f"the function should return the {n}-tuple ({', '.join(out_names)}, cache)."
        for name, g, e in zip(out_names, got, expected):
            problem = diagnose_close(g, e, what=name)
            if problem:
                return problem
        cache, ref_cache = got[-1], expected[-1]
        if not sequence:
            return _diagnose_cache(cache, ref_cache, cache_names, "cache")
        if not isinstance(cache, (list, tuple)) or len(cache) != len(ref_cache):
            return f"cache should be a list of the {len(ref_cache)} step caches (one per time step)."
        for t, (c, e) in enumerate(zip(cache, ref_cache)):
            problem = _diagnose_cache(c, e, cache_names, f"cache[{t}]")
            if problem:
                return problem
        return None

    return compare


def _grads_compare(names):
    def compare(got, expected, case):
        if not isinstance(got, (tuple, list)) or len(got) != len(names):
            return f"the function should return the {len(names)}-tuple ({', '.join(names)})."
        for name, g, e in zip(names, got, expected):
            problem = diagnose_close(g, e, what=name)
            if problem:
                return problem
        return None

    return compare


# -- torch modules with the exercise's weights ------------------------------------------------------------------

def _module(kind, D, H, Wx, Wh, bx, bh):
    """A torch module of ``kind`` whose forward uses the given tensors as its weights (autograd flows to them)."""
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "lstmcell": torch.nn.LSTMCell, "grucell": torch.nn.GRUCell}
    kwargs = {"batch_first": True} if kind in ("rnn", "lstm") else {}
    m = cls[kind](D, H, dtype=Wx.dtype, **kwargs)
    suffix = "_l0" if kind in ("rnn", "lstm") else ""
    params = {"weight_ih" + suffix: Wx.T, "weight_hh" + suffix: Wh.T, "bias_ih" + suffix: bx, "bias_hh" + suffix: bh}
    return lambda *inputs: torch.func.functional_call(m, params, inputs)


def _weights(g, D, H, k, dtype, scale=1.0):
    s = scale / H ** 0.5
    return _randn(g, D, k * H, dtype=dtype, scale=s), _randn(g, H, k * H, dtype=dtype, scale=s), \
        _randn(g, k * H, dtype=dtype, scale=0.5)


def _label(N, T, D, H, dtype, extra=""):
    t = f", T={T}" if T is not None else ""
    return f"{str(dtype).replace('torch.', '')}, N={N}{t}, D={D}, H={H}" + (f", {extra}" if extra else "")


# -- vanilla RNN ------------------------------------------------------------------------------------------------

_STEP_SHAPES = [(3, 4, 5, F64, 1.0, ""), (1, 1, 1, F64, 1.0, "all sizes 1"), (6, 3, 2, F32, 1.0, ""),
                (4, 5, 3, F64, 8.0, "large weights (saturated tanh)")]


def _rnn_step_inputs(seed, N, D, H, dtype, scale):
    g = _gen(seed)
    Wx, Wh, b = _weights(g, D, H, 1, dtype, scale)
    return _randn(g, N, D, dtype=dtype), _randn(g, N, H, dtype=dtype), Wx, Wh, b


@check("rnn_step_forward", compare=_outputs_compare(("h",), RNN_CACHE, False),
       hint="h = tanh(x @ Wx + h_prev @ Wh + b); cache = (x, h_prev, Wx, Wh, h).")
def _rnn_step_forward_cases():
    for k, (N, D, H, dtype, scale, extra) in enumerate(_STEP_SHAPES):
        x, h, Wx, Wh, b = _rnn_step_inputs(800 + k, N, D, H, dtype, scale)
        cell = torch.nn.RNNCell(D, H, dtype=dtype)
        with torch.no_grad():
            cell.weight_ih.copy_(Wx.T), cell.weight_hh.copy_(Wh.T), cell.bias_ih.copy_(b), cell.bias_hh.zero_()
            expected = (cell(x, h), ref.rnn_step_forward(x, h, Wx, Wh, b)[1])
        yield Case(_label(N, None, D, H, dtype, extra) + ", vs torch.nn.RNNCell", (x, h, Wx, Wh, b),
                   expected=expected)


def _autograd(fn, inputs, upstream):
    leaves = [t.clone().requires_grad_() for t in inputs]
    outs = fn(*leaves)
    outs = outs if isinstance(outs, tuple) else (outs,)
    loss = sum((o * u).sum() for o, u in zip(outs, upstream))
    return torch.autograd.grad(loss, leaves)


@check("rnn_step_backward", by_hand=True, compare=_grads_compare(("dx", "dh_prev", "dWx", "dWh", "db")),
       hint="delta = dh * (1 - h**2); dx = delta @ Wx.T, dh_prev = delta @ Wh.T, dWx = x.T @ delta, "
            "dWh = h_prev.T @ delta, db = delta summed over the batch.")
def _rnn_step_backward_cases():
    for k, (N, D, H, dtype, scale, extra) in enumerate(_STEP_SHAPES):
        x, h, Wx, Wh, b = _rnn_step_inputs(810 + k, N, D, H, dtype, scale)
        _, cache = ref.rnn_step_forward(x, h, Wx, Wh, b)
        dh = _randn(_gen(820 + k), N, H, dtype=dtype)
        expected = _autograd(lambda *a: torch.tanh(a[0] @ a[2] + a[1] @ a[3] + a[4]), (x, h, Wx, Wh, b), (dh,))
        yield Case(_label(N, None, D, H, dtype, extra) + ", random dh vs autograd", (dh, cache), expected=expected)


_SEQ_SHAPES = [(3, 6, 4, 5, F64, 1.0, ""), (2, 1, 3, 2, F64, 1.0, "a single time step"),
               (1, 9, 2, 3, F64, 2.0, "long sequence, N=1, strong recurrence"), (4, 5, 3, 4, F32, 1.0, "")]


def _seq_inputs(seed, N, T, D, H, k, dtype, scale):
    g = _gen(seed)
    Wx, Wh, b = _weights(g, D, H, k, dtype, scale)
    return _randn(g, N, T, D, dtype=dtype), _randn(g, N, H, dtype=dtype), Wx, Wh, b


def _torch_rnn(x, h0, Wx, Wh, b):
    m = _module("rnn", x.shape[2], h0.shape[1], Wx, Wh, b, torch.zeros_like(b))
    return m(x, h0[None])[0]


@check("rnn_forward", compare=_outputs_compare(("h",), RNN_CACHE, True),
       hint="Loop over t, feeding the previous hidden state (h0 at t=0); h stacks h_1..h_T on dim 1 "
            "(h0 left out); cache is the list of the T step caches.")
def _rnn_forward_cases():
    for k, (N, T, D, H, dtype, scale, extra) in enumerate(_SEQ_SHAPES):
        args = _seq_inputs(830 + k, N, T, D, H, 1, dtype, scale)
        with torch.no_grad():
            expected = (_torch_rnn(*args), ref.rnn_forward(*args)[1])
        yield Case(_label(N, T, D, H, dtype, extra) + ", vs torch.nn.RNN", args, expected=expected)


@check("rnn_backward", by_hand=True, compare=_grads_compare(("dx", "dh0", "dWx", "dWh", "db")),
       hint="Walk t from T-1 down to 0; the gradient into step t is dh_all[:, t] PLUS the dh_prev returned by "
            "step t+1; sum dWx, dWh, db over all steps; dh0 is the last dh_prev.")
def _rnn_backward_cases():
    for k, (N, T, D, H, dtype, scale, extra) in enumerate(_SEQ_SHAPES):
        args = _seq_inputs(840 + k, N, T, D, H, 1, dtype, scale)
        _, cache = ref.rnn_forward(*args)
        dh_all = _randn(_gen(850 + k), N, T, H, dtype=dtype)
        expected = _autograd(_torch_rnn, args, (dh_all,))
        yield Case(_label(N, T, D, H, dtype, extra) + ", random gradient on every h_t, vs autograd",
                   (dh_all, cache), expected=expected)


# -- LSTM -------------------------------------------------------------------------------------------------------

def _lstm_step_inputs(seed, N, D, H, dtype, scale):
    g = _gen(seed)
    Wx, Wh, b = _weights(g, D, H, 4, dtype, scale)
    return (_randn(g, N, D, dtype=dtype), _randn(g, N, H, dtype=dtype), _randn(g, N, H, dtype=dtype), Wx, Wh, b)


def _torch_lstm_cell(x, h, c, Wx, Wh, b):
    m = _module("lstmcell", x.shape[1], h.shape[1], Wx, Wh, b, torch.zeros_like(b))
    return m(x, (h, c))


@check("lstm_step_forward", compare=_outputs_compare(("h", "c"), LSTM_CACHE, False),
       hint="Gates in torch's order i, f, g, o: a.chunk(4, dim=1); sigmoid for i, f, o and tanh for g; "
            "c = f*c_prev + i*g, h = o*tanh(c); cache = (x, h_prev, c_prev, Wx, Wh, i, f, g, o, c).")
def _lstm_step_forward_cases():
    for k, (N, D, H, dtype, scale, extra) in enumerate(_STEP_SHAPES):
        args = _lstm_step_inputs(860 + k, N, D, H, dtype, scale)
        with torch.no_grad():
            h, c = _torch_lstm_cell(*args)
            expected = (h, c, ref.lstm_step_forward(*args)[2])
        yield Case(_label(N, None, D, H, dtype, extra) + ", vs torch.nn.LSTMCell", args, expected=expected)


@check("lstm_step_backward", by_hand=True, compare=_grads_compare(("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db")),
       hint="The cell state gets dc PLUS dh * o * (1 - tanh(c)**2); sigmoid' = s(1-s) and tanh' = 1 - t**2 use "
            "the gate VALUES; stack the four pre-activation gradients in the order i, f, g, o.")
def _lstm_step_backward_cases():
    for k, (N, D, H, dtype, scale, extra) in enumerate(_STEP_SHAPES):
        args = _lstm_step_inputs(870 + k, N, D, H, dtype, scale)
        _, _, cache = ref.lstm_step_forward(*args)
        g = _gen(880 + k)
        dh, dc = _randn(g, N, H, dtype=dtype), _randn(g, N, H, dtype=dtype)
        expected = _autograd(_torch_lstm_cell, args, (dh, dc))
        yield Case(_label(N, None, D, H, dtype, extra) + ", random dh and dc vs autograd", (dh, dc, cache),
                   expected=expected)


def _torch_lstm(x, h0, Wx, Wh, b):
    m = _module("lstm", x.shape[2], h0.shape[1], Wx, Wh, b, torch.zeros_like(b))
    out, (_, cT) = m(x, (h0[None], torch.zeros_like(h0)[None]))
    return out, cT[0]


@check("lstm_forward", compare=_outputs_compare(("h", "c"), LSTM_CACHE, True),
       hint="Start from h0 and a ZERO cell state; h stacks h_1..h_T on dim 1, c is the final cell state c_T; "
            "cache is the list of the T step caches.")
def _lstm_forward_cases():
    for k, (N, T, D, H, dtype, scale, extra) in enumerate(_SEQ_SHAPES):
        args = _seq_inputs(890 + k, N, T, D, H, 4, dtype, scale)
        with torch.no_grad():
            h, c = _torch_lstm(*args)
            expected = (h, c, ref.lstm_forward(*args)[2])
        yield Case(_label(N, T, D, H, dtype, extra) + ", vs torch.nn.LSTM", args, expected=expected)


@check("lstm_backward", by_hand=True, compare=_grads_compare(("dx", "dh0", "dWx", "dWh", "db")),
       hint="Carry TWO gradients back through time: dh (plus dh_all[:, t] at every step) and dc (starting at "
            "dc_last, passed to every earlier step as dc_prev); sum the weight gradients over all steps.")
def _lstm_backward_cases():
    for k, (N, T, D, H, dtype, scale, extra) in enumerate(_SEQ_SHAPES):
        args = _seq_inputs(900 + k, N, T, D, H, 4, dtype, scale)
        _, _, cache = ref.lstm_forward(*args)
        g = _gen(910 + k)
        dh_all, dc = _randn(g, N, T, H, dtype=dtype), _randn(g, N, H, dtype=dtype)
        expected = _autograd(_torch_lstm, args, (dh_all, dc))
        yield Case(_label(N, T, D, H, dtype, extra) + ", random gradients on every h_t and on c_T, vs autograd "
                   "through torch.nn.LSTM", (dh_all, dc, cache), expected=expected)
    args = _seq_inputs(920, 2, 7, 3, 4, 4, F64, 1.0)
    _, _, cache = ref.lstm_forward(*args)
    dc = _randn(_gen(921), 2, 4)
    zero = torch.zeros(2, 7, 4, dtype=F64)
    yield Case("float64, gradient on the final cell state only (dh_all = 0), vs autograd", (zero, dc, cache),
               expected=_autograd(_torch_lstm, args, (zero, dc)))


# -- GRU --------------------------------------------------------------------------------------------------------

@check("gru_step_forward",
       hint="torch.nn.GRUCell: gates r, z, n; n = tanh(x Wx_n + bx_n + r * (h Wh_n + bh_n)) (r multiplies the "
            "hidden bias too); h = (1 - z) * n + z * h_prev.")
def _gru_step_forward_cases():
    for k, (N, D, H, dtype, scale, extra) in enumerate(_STEP_SHAPES):
        g = _gen(930 + k)
        Wx, Wh, bx = _weights(g, D, H, 3, dtype, scale)
        bh = _randn(g, 3 * H, dtype=dtype, scale=0.5)
        x, h = _randn(g, N, D, dtype=dtype), _randn(g, N, H, dtype=dtype)
        with torch.no_grad():
            expected = _module("grucell", D, H, Wx, Wh, bx, bh)(x, h)
        yield Case(_label(N, None, D, H, dtype, extra) + ", vs torch.nn.GRUCell", (x, h, Wx, Wh, bx, bh),
                   expected=expected)


# -- gradient clipping ------------------------------------------------------------------------------------------

def _torch_clip(grads, max_norm):
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad for p in params], total


@check("clip_grad_global_norm", compare=_grads_compare(("clipped", "total_norm")),
       hint="ONE norm over all tensors together, sqrt(sum of squares of every entry); scale every tensor by "
            "min(1, max_norm / (norm + 1e-6)); return new tensors and the norm before clipping.")
def _clip_grad_global_norm_cases():
    g = _gen(940)
    shapes = [(3, 4), (4,), (2, 2, 3)]
    big = [_randn(g, *s) * 3 for s in shapes]
    yield Case("float64, three tensors, global norm above max_norm", (big, 1.0), expected=_torch_clip(big, 1.0))
    small = [_randn(g, *s) * 0.1 for s in shapes]
    yield Case("float64, global norm below max_norm (left unchanged)", (small, 5.0),
               expected=_torch_clip(small, 5.0))
    uneven = [_randn(g, 5) * 10, _randn(g, 6) * 0.01]
    yield Case("float64, one large and one tiny tensor", (uneven, 2.0), expected=_torch_clip(uneven, 2.0))
    f32 = [_randn(g, 7, 3, dtype=F32) * 4, _randn(g, 3, dtype=F32)]
    yield Case("float32, two tensors", (f32, 0.5), expected=_torch_clip(f32, 0.5))
    zeros = [torch.zeros(3, dtype=F64), torch.zeros(2, 2, dtype=F64)]
    yield Case("float64, all-zero gradients", (zeros, 1.0), expected=_torch_clip(zeros, 1.0))
    one = [_randn(g, 10) * 2]
    yield Case("float64, a single tensor", (one, 1.5), expected=_torch_clip(one, 1.5))
