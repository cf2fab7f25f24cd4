"""solutions_lib.rnn against torch.nn (RNN, LSTM, LSTMCell, GRUCell), autograd and clip_grad_norm_."""
from __future__ import annotations

import pytest
import torch

from solutions_lib import rnn

TOL = {torch.float32: dict(rtol=1e-4, atol=1e-5), torch.float64: dict(rtol=1e-9, atol=1e-11)}


def _randn(g, *shape, dtype, device, scale=1.0):
    return (scale * torch.randn(*shape, generator=g, dtype=torch.float64)).to(device=device, dtype=dtype)


def _weights(g, D, H, k, dtype, device):
    return (_randn(g, D, k * H, dtype=dtype, device=device, scale=H ** -0.5),
            _randn(g, H, k * H, dtype=dtype, device=device, scale=H ** -0.5),
            _randn(g, k * H, dtype=dtype, device=device, scale=0.5))


def _functional(module, params):
    return lambda *inputs: torch.func.functional_call(module, params, inputs)


def _torch_rnn(kind, D, H, Wx, Wh, b, bh=None):
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM}[kind]
    m = cls(D, H, batch_first=True, dtype=Wx.dtype, device=Wx.device)
    return _functional(m, {"weight_ih_l0": Wx.T, "weight_hh_l0": Wh.T, "bias_ih_l0": b,
                           "bias_hh_l0": torch.zeros_like(b) if bh is None else bh})


def _grads(fn, inputs, upstream):
    leaves = [t.detach().clone().requires_grad_() for t in inputs]
    outs = fn(*leaves)
    loss = sum((o * u).sum() for o, u in zip(outs, upstream))
    return torch.autograd.grad(loss, leaves)


def _assert_all_close(got, expected, dtype):
    assert len(got) == len(expected)
    for k, (a, e) in enumerate(zip(got, expected)):
        assert a.shape == e.shape, k
        assert a.dtype == dtype and a.device == e.device, k
        torch.testing.assert_close(a, e, **TOL[dtype], msg=f"output {k}")


def test_rnn_step_forward_matches_rnncell(device, dtype):
    g = torch.Generator().manual_seed(0)
    Wx, Wh, b = _weights(g, 3, 5, 1, dtype, device)
    x, h = _randn(g, 4, 3, dtype=dtype, device=device), _randn(g, 4, 5, dtype=dtype, device=device)
    cell = torch.nn.RNNCell(3, 5, dtype=dtype, device=device)
    expected = _functional(cell, {"weight_ih": Wx.T, "weight_hh": Wh.T, "bias_ih": b,
                                  "bias_hh": torch.zeros_like(b)})(x, h)
    out, cache = rnn.rnn_step_forward(x, h, Wx, Wh, b)
    _assert_all_close((out,), (expected,), dtype)
    assert len(cache) == 5 and cache[4] is out


def test_rnn_step_backward_matches_autograd(device, dtype):
    g = torch.Generator().manual_seed(1)
    Wx, Wh, b = _weights(g, 3, 5, 1, dtype, device)
    x, h = _randn(g, 4, 3, dtype=dtype, device=device), _randn(g, 4, 5, dtype=dtype, device=device)
    dh = _randn(g, 4, 5, dtype=dtype, device=device)
    _, cache = rnn.rnn_step_forward(x, h, Wx, Wh, b)
    expected = _grads(lambda *a: (rnn.rnn_step_forward(*a)[0],), (x, h, Wx, Wh, b), (dh,))
    _assert_all_close(rnn.rnn_step_backward(dh, cache), expected, dtype)


@pytest.mark.parametrize("T", [1, 7])
def test_rnn_forward_and_bptt_match_torch(device, dtype, T):
    g = torch.Generator().manual_seed(2 + T)
    N, D, H = 3, 4, 5
    Wx, Wh, b = _weights(g, D, H, 1, dtype, device)
    x, h0 = _randn(g, N, T, D, dtype=dtype, device=device), _randn(g, N, H, dtype=dtype, device=device)
    torch_rnn = _torch_rnn("rnn", D, H, Wx, Wh, b)
    h, cache = rnn.rnn_forward(x, h0, Wx, Wh, b)
    _assert_all_close((h,), (torch_rnn(x, h0[None])[0],), dtype)
    assert isinstance(cache, list) and len(cache) == T
    dh_all = _randn(g, N, T, H, dtype=dtype, device=device)
    expected = _grads(lambda x, h0, Wx, Wh, b: (_torch_rnn("rnn", D, H, Wx, Wh, b)(x, h0[None])[0],),
                      (x, h0, Wx, Wh, b), (dh_all,))
    _assert_all_close(rnn.rnn_backward(dh_all, cache), expected, dtype)


def test_lstm_step_matches_lstmcell_and_autograd(device, dtype):
    g = torch.Generator().manual_seed(3)
    N, D, H = 4, 3, 6
    Wx, Wh, b = _weights(g, D, H, 4, dtype, device)
    x, h, c = (_randn(g, N, n, dtype=dtype, device=device) for n in (D, H, H))
    cell = torch.nn.LSTMCell(D, H, dtype=dtype, device=device)

    def torch_cell(x, h, c, Wx, Wh, b):
        params = {"weight_ih": Wx.T, "weight_hh": Wh.T, "bias_ih": b, "bias_hh": torch.zeros_like(b)}
        return _functional(cell, params)(x, (h, c))

    h_new, c_new, cache = rnn.lstm_step_forward(x, h, c, Wx, Wh, b)
    _assert_all_close((h_new, c_new), torch_cell(x, h, c, Wx, Wh, b), dtype)
    assert len(cache) == 10
    dh, dc = _randn(g, N, H, dtype=dtype, device=device), _randn(g, N, H, dtype=dtype, device=device)
    expected = _grads(torch_cell, (x, h, c, Wx, Wh, b), (dh, dc))
    _assert_all_close(rnn.lstm_step_backward(dh, dc, cache), expected, dtype)


def test_gate_order_is_torchs():
    # A bias that opens only the forget gate block (i, f, g, o order) keeps c_prev and writes nothing.
    H = 2
    b = torch.tensor([-50.0] * H + [50.0] * H + [0.0] * H + [50.0] * H, dtype=torch.float64)
    z = torch.zeros(1, 4 * H, dtype=torch.float64)
    c_prev = torch.tensor([[0.3, -0.7]], dtype=torch.float64)
    h, c, _ = rnn.lstm_step_forward(torch.zeros(1, 1, dtype=torch.float64), torch.zeros(1, H, dtype=torch.float64),
                                    c_prev, z[:1, :].expand(1, 4 * H), z.expand(H, 4 * H), b)
    torch.testing.assert_close(c, c_prev)
    torch.testing.assert_close(h, torch.tanh(c_prev))


@pytest.mark.parametrize("T", [1, 6])
def test_lstm_forward_and_bptt_match_torch(device, dtype, T):
    g = torch.Generator().manual_seed(4 + T)
    N, D, H = 3, 4, 5
    Wx, Wh, b = _weights(g, D, H, 4, dtype, device)
    bh = _randn(g, 4 * H, dtype=dtype, device=device, scale=0.3)
    x, h0 = _randn(g, N, T, D, dtype=dtype, device=device), _randn(g, N, H, dtype=dtype, device=device)
    torch_lstm = _torch_rnn("lstm", D, H, Wx, Wh, b, bh)

    def run(x, h0, Wx_, Wh_, b_):
        f = _torch_rnn("lstm", D, H, Wx_, Wh_, b_ - bh.detach(), bh.detach())
        out, (_, cT) = f(x, (h0[None], torch.zeros_like(h0)[None]))
        return out, cT[0]

    h, c, cache = rnn.lstm_forward(x, h0, Wx, Wh, b + bh)
    out, (_, cT) = torch_lstm(x, (h0[None], torch.zeros_like(h0)[None]))
    _assert_all_close((h, c), (out, cT[0]), dtype)
    assert isinstance(cache, list) and len(cache) == T
    dh_all, dc = _randn(g, N, T, H, dtype=dtype, device=device), _randn(g, N, H, dtype=dtype, device=device)
    expected = _grads(run, (x, h0, Wx, Wh, b + bh), (dh_all, dc))
    _assert_all_close(rnn.lstm_backward(dh_all, dc, cache), expected, dtype)


def test_lstm_cell_state_gradient_reaches_the_first_step():
    # Only dc_T is nonzero: without the cell-state path through time, dx[:, 0] would be exactly zero.
    g = torch.Generator().manual_seed(5)
    Wx, Wh, b = _weights(g, 2, 3, 4, torch.float64, "cpu")
    x, h0 = _randn(g, 2, 5, 2, dtype=torch.float64, device="cpu"), torch.zeros(2, 3, dtype=torch.float64)
    _, _, cache = rnn.lstm_forward(x, h0, Wx, Wh, b)
    dx = rnn.lstm_backward(torch.zeros(2, 5, 3, dtype=torch.float64), torch.ones(2, 3, dtype=torch.float64), cache)[0]
    expected = _grads(lambda x: (rnn.lstm_forward(x, h0, Wx, Wh, b)[1],), (x,), (torch.ones(2, 3, dtype=torch.float64),))[0]
    torch.testing.assert_close(dx, expected)
    assert dx[:, 0].abs().sum() > 0


def test_batch_rows_are_independent():
    g = torch.Generator().manual_seed(6)
    Wx, Wh, b = _weights(g, 3, 4, 4, torch.float64, "cpu")
    x, h0 = _randn(g, 5, 6, 3, dtype=torch.float64, device="cpu"), _randn(g, 5, 4, dtype=torch.float64, device="cpu")
    h, c, _ = rnn.lstm_forward(x, h0, Wx, Wh, b)
    h2, c2, _ = rnn.lstm_forward(x[2:3], h0[2:3], Wx, Wh, b)
    torch.testing.assert_close(h[2:3], h2)
    torch.testing.assert_close(c[2:3], c2)


def test_gru_step_matches_grucell(device, dtype):
    g = torch.Generator().manual_seed(7)
    N, D, H = 5, 3, 4
    Wx, Wh, bx = _weights(g, D, H, 3, dtype, device)
    bh = _randn(g, 3 * H, dtype=dtype, device=device, scale=0.5)
    x, h = _randn(g, N, D, dtype=dtype, device=device), _randn(g, N, H, dtype=dtype, device=device)
    cell = torch.nn.GRUCell(D, H, dtype=dtype, device=device)
    expected = _functional(cell, {"weight_ih": Wx.T, "weight_hh": Wh.T, "bias_ih": bx, "bias_hh": bh})(x, h)
    _assert_all_close((rnn.gru_step_forward(x, h, Wx, Wh, bx, bh),), (expected,), dtype)


@pytest.mark.parametrize("scale, max_norm", [(3.0, 1.0), (0.01, 5.0), (0.0, 1.0)])
def test_clip_grad_global_norm_matches_torch(device, dtype, scale, max_norm):
    g = torch.Generator().manual_seed(8)
    grads = [_randn(g, *s, dtype=dtype, device=device, scale=scale) for s in [(3, 4), (5,), (2, 2, 2)]]
    saved = [t.clone() for t in grads]
    params = [torch.nn.Parameter(torch.zeros_like(t)) for t in grads]
    for p, t in zip(params, grads):
        p.grad = t.clone()
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    clipped, norm = rnn.clip_grad_global_norm(grads, max_norm)
    _assert_all_close(clipped + [norm], [p.grad for p in params] + [total], dtype)
    for t, s in zip(grads, saved):
        assert torch.equal(t, s), "the inputs must not be modified"


def test_char_lstm_perplexity_matches_torch_lstm():
    g = torch.Generator().manual_seed(9)
    V, H, chunk = 7, 5, 6
    params = {"Wx": torch.randn(V, 4 * H, generator=g), "Wh": torch.randn(H, 4 * H, generator=g) / 2,
              "b": torch.randn(4 * H, generator=g), "Wy": torch.randn(H, V, generator=g), "by": torch.randn(V, generator=g)}
    ids = torch.randint(0, V, (40,), generator=g)
    lstm = torch.nn.LSTM(V, H, batch_first=True, dtype=torch.float64)
    p = {k: v.double() for k, v in params.items()}
    n = 39 // chunk
    x, y = ids[:n * chunk].reshape(n, chunk), ids[1:n * chunk + 1].reshape(n, chunk)
    out, _ = _functional(lstm, {"weight_ih_l0": p["Wx"].T, "weight_hh_l0": p["Wh"].T, "bias_ih_l0": p["b"],
                                "bias_hh_l0": torch.zeros(4 * H, dtype=torch.float64)})(
        torch.nn.functional.one_hot(x, V).double())
    ce = torch.nn.functional.cross_entropy((out @ p["Wy"] + p["by"]).reshape(-1, V), y.reshape(-1))
    assert rnn.char_lstm_perplexity(params, ids, chunk=chunk) == pytest.approx(float(ce.exp()), rel=1e-12)


def test_train_char_lstm_reaches_the_target_without_autograd():
    from course.text import char_vocab, load_corpus

    text = load_corpus("village_tales")
    vocab = char_vocab(text)
    ids = vocab.encode(text)
    cut = int(0.9 * len(ids))
    with torch.no_grad():   # no autograd anywhere: the gradients are the hand-written BPTT's
        params = rnn.train_char_lstm(ids[:cut], len(vocab), seed=3)
    again = rnn.train_char_lstm(ids[:cut], len(vocab), seed=3, steps=150)
    assert all(torch.equal(params[k], again[k]) for k in params), "the seed must fix the run"
    assert rnn.char_lstm_perplexity(params, ids[cut:]) < 2.7   # the task's target is 3.0


def test_concept_answers_are_letters():
    assert [rnn.truncated_bptt_answer(), rnn.cell_state_answer(), rnn.teacher_forcing_answer()] == ["b", "b", "c"]
