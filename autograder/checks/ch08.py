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
       hint="The states are row vectors multiplying the weights from the left, the tanh comes last, and the "
            "cache holds the five tensors in the stated order, the new state last.")
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
       hint="First the gradient on the pre-activation, with the tanh's derivative written through the cached "
            "output; then the affine map: each input's gradient goes back through the weight it meets, each "
            "weight's gradient pairs its input with that gradient, summed over the batch.")
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
       hint="Each step reads the state the previous step produced (h0 for the first); the output holds the T "
            "new states along the time dimension, without h0; the cache lists the T step caches in time order.")
def _rnn_forward_cases():
    for k, (N, T, D, H, dtype, scale, extra) in enumerate(_SEQ_SHAPES):
        args = _seq_inputs(830 + k, N, T, D, H, 1, dtype, scale)
        with torch.no_grad():
            expected = (_torch_rnn(*args), ref.rnn_forward(*args)[1])
        yield Case(_label(N, T, D, H, dtype, extra) + ", vs torch.nn.RNN", args, expected=expected)


@check("rnn_backward", by_hand=True, compare=_grads_compare(("dx", "dh0", "dWx", "dWh", "db")),
       hint="A hidden state reaches the loss directly and through the next state, so the steps are visited "
            "backwards in time, each handing its state gradient to the step before; the shared weights "
            "collect a contribution from every step.")
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
       hint="The four blocks of the pre-activation are the gates in torch's order i, f, g, o; only the "
            "candidate g is a tanh; the new cell state keeps part of the old one and writes part of the "
            "candidate, and h shows a squashed view of the NEW cell state; the cache holds the gate values.")
def _lstm_step_forward_cases():
    for k, (N, D, H, dtype, scale, extra) in enumerate(_STEP_SHAPES):
        args = _lstm_step_inputs(860 + k, N, D, H, dtype, scale)
        with torch.no_grad():
            h, c = _torch_lstm_cell(*args)
            expected = (h, c, ref.lstm_step_forward(*args)[2])
        yield Case(_label(N, None, D, H, dtype, extra) + ", vs torch.nn.LSTMCell", args, expected=expected)


@check("lstm_step_backward", by_hand=True, compare=_grads_compare(("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db")),
       hint="The loss sees the cell state twice (directly and through h): add both first; write each gate's "
            "local derivative with the gate's value from the cache; stack the four pre-activation gradients in "
            "the order i, f, g, o, then treat the affine map as in the RNN.")
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
       hint="The cell state starts at zero and both states are carried from step to step; the output holds "
            "the T new hidden states along the time dimension, the second output is the LAST cell state.")
def _lstm_forward_cases():
    for k, (N, T, D, H, dtype, scale, extra) in enumerate(_SEQ_SHAPES):
        args = _seq_inputs(890 + k, N, T, D, H, 4, dtype, scale)
        with torch.no_grad():
            h, c = _torch_lstm(*args)
            expected = (h, c, ref.lstm_forward(*args)[2])
        yield Case(_label(N, T, D, H, dtype, extra) + ", vs torch.nn.LSTM", args, expected=expected)


@check("lstm_backward", by_hand=True, compare=_grads_compare(("dx", "dh0", "dWx", "dWh", "db")),
       hint="Two gradients travel back in time, one on the hidden state and one on the cell state; each "
            "earlier cell state reaches the loss only through the next one; the shared weights collect a "
            "contribution from every step.")
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
       hint="torch.nn.GRUCell's form: gates in the order r, z, n; the reset gate scales the whole hidden part of "
            "the candidate, its bias included; z near 1 keeps the old state.")
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
       hint="One norm over all the tensors together, one common factor for all of them that never scales up; "
            "new tensors out, and the norm measured before clipping.")
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


# -- make it work: a character-level LSTM trained by the student's own BPTT ---------------------------------------

CHAR_TARGET = 3.0
"""Held-out perplexity that a trained character model must reach (the reference: 2.2 to 2.5 over seeds)."""
CHAR_MAX_HIDDEN = 64
CHAR_KEYS = ("Wx", "Wh", "b", "Wy", "by")


def _char_split():
    """(train ids, test ids, vocabulary size): the first 90% of village_tales, and the grader's last 10%."""
    from course.text import char_vocab, load_corpus

    text = load_corpus("village_tales")
    vocab = char_vocab(text)
    ids = vocab.encode(text)
    cut = int(0.9 * len(ids))
    return ids[:cut], ids[cut:], len(vocab)


def _char_probe(fn, case):
    """In the kernel: train on the training part, send back only the weights (plain tensors)."""
    params = fn(case.args[0], case.args[1], seed=case.spec["seed"])
    if not isinstance(params, dict):
        return {"params": None, "type": type(params).__name__}
    return {"params": {str(k): torch.as_tensor(v).detach().cpu().clone() for k, v in params.items()}, "type": "ok"}


def _char_compare(got, expected, case):
    if not isinstance(got, dict) or got.get("params") is None:
        kind = got.get("type") if isinstance(got, dict) else type(got).__name__
        return f"train_char_lstm should return a dict of tensors, got {kind}."
    params = got["params"]
    missing = [k for k in CHAR_KEYS if k not in params]
    if missing:
        return f"the returned dict lacks {', '.join(map(repr, missing))}."
    V = case.args[1]
    H = params["Wh"].shape[0] if params["Wh"].dim() == 2 else -1
    shapes = {"Wx": (V, 4 * H), "Wh": (H, 4 * H), "b": (4 * H,), "Wy": (H, V), "by": (V,)}
    for k in CHAR_KEYS:
        if tuple(params[k].shape) != shapes[k]:
            return f"params[{k!r}] has shape {tuple(params[k].shape)}, expected {shapes[k]} (V = {V}, H = {H})."
        if not params[k].is_floating_point() or not torch.isfinite(params[k]).all():
            return f"params[{k!r}] is not a tensor of finite floats (did the training diverge?)."
    if not 1 <= H <= CHAR_MAX_HIDDEN:
        return f"the hidden size is {H}; at most {CHAR_MAX_HIDDEN} is allowed."
    _, test_ids, _ = _char_split()  # never sent to the kernel
    score = ref.char_lstm_perplexity(params, test_ids)
    if not score <= expected:
        return (f"held-out perplexity {score:.3f}, above the target {expected} (computed by the grader on the "
                "last 10% of the corpus, chunks of 64 predictions read from zero states).")
    return None


@check("train_char_lstm", compare=_char_compare, probe=_char_probe, by_hand=True,
       hint="Every piece it uses must be right (both gradients carried back through time); then the schedule: "
            "the notebook's Hint 2 gives one that works.")
def _train_char_lstm_cases():
    train_ids, _, V = _char_split()
    for seed in (3, 4):
        yield Case(f"village_tales (the first 90%), seed {seed}: held-out perplexity <= {CHAR_TARGET}",
                   (train_ids, V), expected=CHAR_TARGET, spec={"seed": seed})


# -- concept questions -----------------------------------------------------------------------------------------

def _answer_compare(got, expected, case: Case):
    if not isinstance(got, str) or got.strip().lower() not in {"a", "b", "c", "d"}:
        return "answer with one of the letters 'a', 'b', 'c', 'd' (a string)."
    return None if got.strip().lower() == expected else "that is not the right answer; reread the section."


def _answer_cases(expected):
    def cases():
        yield Case("your answer", (), expected=expected)
    return cases


check("truncated_bptt_answer", compare=_answer_compare)(_answer_cases(ref.truncated_bptt_answer()))
check("cell_state_answer", compare=_answer_compare)(_answer_cases(ref.cell_state_answer()))
check("teacher_forcing_answer", compare=_answer_compare)(_answer_cases(ref.teacher_forcing_answer()))


# -- decoding ----------------------------------------------------------------------------------------------------

def _decoding_step(spec):
    """The model of a beam-search case, rebuilt from plain data: ``step(state, token) -> (log_probs, new_state)``.

    ``markov``: the next token depends on the last one (state "start" before the first generated token);
    ``markov2``: on the last two (the state is the token before, -1 at the start); ``lstm``: a small
    one-hot-input LSTM whose state is ``(h, c)``.
    """
    kind = spec["kind"]
    if kind == "markov":
        first, table = spec["first"], spec["table"]
        return lambda state, token: ((first if state == "start" else table[token]).clone(), "running")
    if kind == "markov2":
        first, table = spec["first"], spec["table"]
        return lambda state, token: ((first[token] if state < 0 else table[state, token]).clone(), int(token))
    Wx, Wh, b, Wy, by = (spec[k] for k in CHAR_KEYS)

    def step(state, token):
        h, c = state
        i, f, g, o = (Wx[token] + h @ Wh + b).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return torch.log_softmax(h @ Wy + by, dim=-1), (h, c)

    return step


def _beam_probe(fn, case):
    """In the kernel: decode with the student's beam_search on the case's model; record tokens and score."""
    spec = case.spec
    state = spec["state"] if spec["kind"] != "lstm" else (spec["h0"].clone(), spec["c0"].clone())
    out = fn(_decoding_step(spec), state, spec["token"], spec["length"], spec["beam_width"])
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return {"error": f"beam_search should return the pair (tokens, log_prob), got {type(out).__name__}."}
    tokens, log_prob = out
    try:
        tokens = [int(t) for t in tokens]
        log_prob = float(log_prob)
    except (TypeError, ValueError):
        return {"error": "tokens should be a list of ints and log_prob a number."}
    return {"tokens": tokens, "log_prob": log_prob}


def _beam_compare(got, expected, case):
    if not isinstance(got, dict):
        return "beam_search returned something that could not be read."
    if "error" in got:
        return got["error"]
    if len(got["tokens"]) != len(expected["tokens"]):
        return f"{len(got['tokens'])} tokens generated, expected length = {len(expected['tokens'])}."
    if got["tokens"] != expected["tokens"]:
        return (f"decoded {got['tokens']} (log-probability {got['log_prob']:.6g}), but the beam search of the "
                f"statement finds {expected['tokens']} (log-probability {expected['log_prob']:.6g}).")
    return diagnose_close(torch.tensor(got["log_prob"], dtype=F64), torch.tensor(expected["log_prob"], dtype=F64),
                          what="log_prob (the total log-probability of the tokens returned)")


def _beam_expected(spec):
    state = spec["state"] if spec["kind"] != "lstm" else (spec["h0"], spec["c0"])
    tokens, log_prob = ref.beam_search(_decoding_step(spec), state, spec["token"], spec["length"], spec["beam_width"])
    return {"tokens": tokens, "log_prob": log_prob}


def _log_softmax_rows(g, *shape, sharpness):
    return torch.log_softmax(sharpness * torch.randn(*shape, generator=g, dtype=F64), dim=-1)


@check("beam_search", compare=_beam_compare, probe=_beam_probe,
       hint="Score every one-token extension of every beam by its total log-probability, keep the beam_width best "
            "over all beams together (each with its own state), and return the best sequence after the last step.")
def _beam_search_cases():
    g = _gen(950)
    V = 4
    for k, (length, width) in enumerate([(1, 1), (4, 1), (4, 2), (5, 3), (3, 16)]):
        spec = {"kind": "markov", "first": _log_softmax_rows(g, V, sharpness=1.5),
                "table": _log_softmax_rows(g, V, V, sharpness=1.5), "state": "start", "token": k % V,
                "length": length, "beam_width": width}
        extra = " (exhaustive)" if width >= V ** (length - 1) else (" (greedy)" if width == 1 else "")
        yield Case(f"a first-order Markov model, V={V}, length={length}, beam_width={width}{extra}", spec=spec,
                   expected=_beam_expected(spec))
    V = 5
    for length, width in [(5, 1), (5, 2), (6, 4)]:
        spec = {"kind": "markov2", "first": _log_softmax_rows(g, V, V, sharpness=2.0),
                "table": _log_softmax_rows(g, V, V, V, sharpness=2.0), "state": -1, "token": 2,
                "length": length, "beam_width": width}
        yield Case(f"a second-order Markov model (the state matters), V={V}, length={length}, beam_width={width}",
                   spec=spec, expected=_beam_expected(spec))
    V, H = 6, 4
    for length, width in [(6, 1), (6, 3), (4, 5)]:
        spec = {"kind": "lstm", "Wx": _randn(g, V, 4 * H, scale=1.5), "Wh": _randn(g, H, 4 * H, scale=1.5),
                "b": _randn(g, 4 * H, scale=0.5), "Wy": _randn(g, H, V, scale=3.0), "by": _randn(g, V, scale=0.5),
                "h0": _randn(g, H, scale=0.5), "c0": _randn(g, H, scale=0.5), "token": 1, "length": length,
                "beam_width": width}
        yield Case(f"a small LSTM language model, V={V}, H={H}, length={length}, beam_width={width}", spec=spec,
                   expected=_beam_expected(spec))

