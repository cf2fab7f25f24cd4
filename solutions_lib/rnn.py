"""Recurrent layers: vanilla RNN and LSTM forward and backward through time, a GRU cell, gradient clipping (chapter 08).

Conventions of chapter 08 (RNNs, LSTMs, GRUs):

* Sequences are batch-first: ``x`` has shape ``(N, T, D)`` (batch, time, features); hidden states are
  ``(N, H)`` per step and ``(N, T, H)`` for a whole sequence.
* Weights multiply from the right, ``x @ Wx`` with ``Wx`` of shape ``(D, k H)`` and ``h @ Wh`` with ``Wh``
  of shape ``(H, k H)``. ``torch.nn`` stores the transposes: ``Wx = weight_ih.T``, ``Wh = weight_hh.T``.
* LSTM gates are stacked in the order **i, f, g, o** (input, forget, candidate, output), the order of
  ``torch.nn.LSTM``; one bias ``b`` of shape ``(4H,)`` plays the role of ``bias_ih + bias_hh``.
* GRU gates are stacked in the order **r, z, n** (reset, update, candidate), the order of
  ``torch.nn.GRUCell``, with two biases because the reset gate multiplies ``h @ Wh_n + bh_n``.
* Caches are plain tuples (one step) and lists of step caches (a sequence), in the layouts documented
  below, so that a backward pass can be fed the cache of another correct forward pass.

Everything is vectorized over the batch (the loop over time is inherent to the recurrence) and runs
unchanged on CUDA tensors, in float32 and float64. The LSTM over a sequence keeps only what is truly
sequential inside the time loop (``h @ Wh`` forward, ``da @ Wh.T`` and the gate gradients backward); the
input projections and all weight gradients are single matrix products over every step at once.
"""
from __future__ import annotations

import math

import torch

from solutions_lib.linear import sigmoid

__all__ = [
    "rnn_step_forward",
    "rnn_step_backward",
    "rnn_forward",
    "rnn_backward",
    "lstm_step_forward",
    "lstm_step_backward",
    "lstm_forward",
    "lstm_backward",
    "gru_step_forward",
    "clip_grad_global_norm",
    "train_char_lstm",
    "char_lstm_perplexity",
    "beam_search",
    "cell_state_answer",
    "truncated_bptt_answer",
    "teacher_forcing_answer",
]


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    r"""One step of a vanilla (Elman) RNN, :math:`h = \tanh(x W_x + h_{prev} W_h + b)`.

    Introduced in chapter 08 (RNNs, LSTMs, GRUs).

    Args:
        x: inputs at this step, shape ``(N, D)``.
        h_prev: previous hidden state, shape ``(N, H)``.
        Wx: input-to-hidden weights, shape ``(D, H)``.
        Wh: hidden-to-hidden weights, shape ``(H, H)``.
        b: bias, shape ``(H,)``.

    Returns:
        ``(h, cache)``: the new hidden state of shape ``(N, H)`` and ``cache = (x, h_prev, Wx, Wh, h)``.

    Example:
        >>> h, cache = rnn_step_forward(torch.ones(1, 1), torch.zeros(1, 1), torch.ones(1, 1),
        ...                             torch.ones(1, 1), torch.zeros(1))
        >>> h
        tensor([[0.7616]])
    """
    h = torch.tanh(x @ Wx + h_prev @ Wh + b)
    return h, (x, h_prev, Wx, Wh, h)


def rnn_step_backward(dh, cache):
    r"""Gradients of one RNN step, given the upstream gradient on its output ``h``.

    Introduced in chapter 08 (RNNs, LSTMs, GRUs).

    With :math:`a = x W_x + h_{prev} W_h + b` and :math:`\delta = dh \odot (1 - h^2)` (as
    :math:`\tanh' = 1 - \tanh^2`): :math:`dx = \delta W_x^T`, :math:`dh_{prev} = \delta W_h^T`,
    :math:`dW_x = x^T \delta`, :math:`dW_h = h_{prev}^T \delta`, :math:`db = \sum_n \delta_n`.

    Args:
        dh: gradient of the loss with respect to ``h``, shape ``(N, H)``.
        cache: ``(x, h_prev, Wx, Wh, h)`` from :func:`rnn_step_forward`.

    Returns:
        ``(dx, dh_prev, dWx, dWh, db)`` with the shapes of ``x, h_prev, Wx, Wh, b``.

    Example:
        >>> h, cache = rnn_step_forward(torch.zeros(1, 1), torch.zeros(1, 1), torch.ones(1, 1),
        ...                             torch.ones(1, 1), torch.zeros(1))
        >>> rnn_step_backward(torch.ones(1, 1), cache)[-1]
        tensor([1.])
    """
    x, h_prev, Wx, Wh, h = cache
    da = dh * (1 - h * h)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(0)


def rnn_forward(x, h0, Wx, Wh, b):
    r"""Run a vanilla RNN over a whole sequence, :math:`h_t = \tanh(x_t W_x + h_{t-1} W_h + b)`.

    Introduced in chapter 08 (RNNs, LSTMs, GRUs).

    Args:
        x: input sequence, shape ``(N, T, D)``.
        h0: initial hidden state, shape ``(N, H)``.
        Wx: shape ``(D, H)``.  Wh: shape ``(H, H)``.  b: shape ``(H,)``.

    Returns:
        ``(h, cache)``: all hidden states :math:`h_1, \dots, h_T` stacked as ``(N, T, H)`` (``h0`` not
        included), and ``cache``, the list of the ``T`` step caches of :func:`rnn_step_forward`.

    Example:
        >>> h, cache = rnn_forward(torch.zeros(2, 5, 3), torch.zeros(2, 4), torch.ones(3, 4),
        ...                        torch.eye(4), torch.zeros(4))
        >>> h.shape, len(cache)
        (torch.Size([2, 5, 4]), 5)
    """
    h, cache, hs = h0, [], []
    for t in range(x.shape[1]):
        h, step = rnn_step_forward(x[:, t], h, Wx, Wh, b)
        hs.append(h)
        cache.append(step)
    return torch.stack(hs, dim=1), cache


def rnn_backward(dh_all, cache):
    r"""Backpropagation through time for :func:`rnn_forward`, with a gradient on every hidden state.

    Introduced in chapter 08 (RNNs, LSTMs, GRUs).

    The gradient reaching :math:`h_t` is the loss's own ``dh_all[:, t]`` plus what flows back from step
    :math:`t + 1`; the weight gradients are summed over all steps.

    Args:
        dh_all: gradient of the loss with respect to every hidden state, shape ``(N, T, H)``.
        cache: the list of step caches from :func:`rnn_forward`.

    Returns:
        ``(dx, dh0, dWx, dWh, db)`` with shapes ``(N, T, D)``, ``(N, H)``, ``(D, H)``, ``(H, H)``, ``(H,)``.

    Example:
        >>> h, cache = rnn_forward(torch.zeros(1, 3, 1), torch.zeros(1, 1), torch.ones(1, 1),
        ...                        torch.zeros(1, 1), torch.zeros(1))
        >>> rnn_backward(torch.ones(1, 3, 1), cache)[-1]
        tensor([3.])
    """
    T = dh_all.shape[1]
    dxs = [None] * T
    dh_next = torch.zeros_like(dh_all[:, 0])
    dWx = dWh = db = 0
    for t in reversed(range(T)):
        dx, dh_next, dWx_t, dWh_t, db_t = rnn_step_backward(dh_all[:, t] + dh_next, cache[t])
        dxs[t] = dx
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return torch.stack(dxs, dim=1), dh_next, dWx, dWh, db


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    r"""One step of an LSTM, gates stacked in torch's order i, f, g, o.

    Introduced in chapter 08 (RNNs, LSTMs, GRUs).

    With :math:`a = x W_x + h_{prev} W_h + b` split into four blocks of width ``H``:
    :math:`i = \sigma(a_i)`, :math:`f = \sigma(a_f)`, :math:`g = \tanh(a_g)`, :math:`o = \sigma(a_o)`,
    :math:`c = f \odot c_{prev} + i \odot g` and :math:`h = o \odot \tanh(c)`.

    Args:
        x: shape ``(N, D)``.  h_prev, c_prev: shape ``(N, H)``.
        Wx: shape ``(D, 4H)``.  Wh: shape ``(H, 4H)``.  b: shape ``(4H,)``.

    Returns:
        ``(h, c, cache)`` with ``h`` and ``c`` of shape ``(N, H)`` and
        ``cache = (x, h_prev, c_prev, Wx, Wh, i, f, g, o, c)``.

    Example:
        >>> h, c, cache = lstm_step_forward(torch.zeros(1, 1), torch.zeros(1, 1), torch.ones(1, 1),
        ...                                 torch.zeros(1, 4), torch.zeros(1, 4), torch.zeros(4))
        >>> c   # f * c_prev + i * g = 0.5 * 1 + 0.5 * 0
        tensor([[0.5000]])
    """
    a = x @ Wx + h_prev @ Wh + b
    ai, af, ag, ao = a.chunk(4, dim=1)
    i, f, g, o = sigmoid(ai), sigmoid(af), torch.tanh(ag), sigmoid(ao)
    c = f * c_prev + i * g
    h = o * torch.tanh(c)
    return h, c, (x, h_prev, c_prev, Wx, Wh, i, f, g, o, c)


def lstm_step_backward(dh, dc, cache):
    r"""Gradients of one LSTM step, given upstream gradients on both outputs ``h`` and ``c``.

    Introduced in chapter 08 (RNNs, LSTMs, GRUs).

    The cell state receives ``dc`` directly and :math:`dh \odot o \odot (1 - \tanh^2 c)` through ``h``;
    from the total :math:`\bar{dc}`: :math:`dc_{prev} = \bar{dc} \odot f`, and the gate pre-activations get
    :math:`\bar{dc} g\, i(1-i)`, :math:`\bar{dc} c_{prev} f(1-f)`, :math:`\bar{dc} i (1-g^2)`,
    :math:`dh \tanh(c)\, o(1-o)`, stacked as ``da`` of shape ``(N, 4H)``.

    Args:
        dh, dc: gradients of the loss with respect to ``h`` and ``c``, shape ``(N, H)``.
        cache: ``(x, h_prev, c_prev, Wx, Wh, i, f, g, o, c)`` from :func:`lstm_step_forward`.

    Returns:
        ``(dx, dh_prev, dc_prev, dWx, dWh, db)`` with the shapes of ``x, h_prev, c_prev, Wx, Wh, b``.

    Example:
        >>> h, c, cache = lstm_step_forward(torch.zeros(1, 1), torch.zeros(1, 1), torch.ones(1, 1),
        ...                                 torch.zeros(1, 4), torch.zeros(1, 4), torch.zeros(4))
        >>> lstm_step_backward(torch.zeros(1, 1), torch.ones(1, 1), cache)[2]   # dc_prev = f
        tensor([[0.5000]])
    """
    x, h_prev, c_prev, Wx, Wh = cache[:5]
    da, dc_prev = _lstm_gate_grads(dh, dc, cache)
    return da @ Wx.T, da @ Wh.T, dc_prev, x.T @ da, h_prev.T @ da, da.sum(0)


def _lstm_gate_grads(dh, dc, cache):
    """The gradient on the stacked pre-activation ``a`` (N, 4H) of one LSTM step, and ``dc_prev``."""
    _, _, c_prev, _, _, i, f, g, o, c = cache
    tc = torch.tanh(c)
    dc_total = dc + dh * o * (1 - tc * tc)
    da = torch.cat([dc_total * g * i * (1 - i),
                    dc_total * c_prev * f * (1 - f),
                    dc_total * i * (1 - g * g),
                    dh * tc * o * (1 - o)], dim=1)
    return da, dc_total * f


def lstm_forward(x, h0, Wx, Wh, b):
    r"""Run an LSTM over a whole sequence, starting from ``h0`` and a zero cell state.

    Introduced in chapter 08 (RNNs, LSTMs, GRUs).

    Args:
        x: input sequence, shape ``(N, T, D)``.
        h0: initial hidden state, shape ``(N, H)``; the initial cell state is zero.
        Wx: shape ``(D, 4H)``.  Wh: shape ``(H, 4H)``.  b: shape ``(4H,)`` (gates i, f, g, o).

    Returns:
        ``(h, c, cache)``: the hidden states :math:`h_1 \dots h_T` stacked as ``(N, T, H)``, the final cell
        state :math:`c_T` of shape ``(N, H)``, and the list of the ``T`` step caches of
        :func:`lstm_step_forward`.

    Example:
        >>> lstm = torch.nn.LSTM(3, 2, batch_first=True)
        >>> x, h0 = torch.randn(4, 5, 3), torch.randn(4, 2)
        >>> out, (hT, cT) = lstm(x, (h0[None], torch.zeros(1, 4, 2)))
        >>> h, c, _ = lstm_forward(x, h0, lstm.weight_ih_l0.T, lstm.weight_hh_l0.T,
        ...                        lstm.bias_ih_l0 + lstm.bias_hh_l0)
        >>> torch.allclose(h, out, atol=1e-6), torch.allclose(c, cT[0], atol=1e-6)
        (True, True)
    """
    N, T, _ = x.shape
    # The input part of every step's pre-activation in one matrix product; only h @ Wh is sequential.
    xw = (x.reshape(N * T, -1) @ Wx + b).reshape(N, T, -1)
    h, c = h0, torch.zeros_like(h0)
    hs, cache = [], []
    for t in range(T):
        ai, af, ag, ao = (xw[:, t] + h @ Wh).chunk(4, dim=1)
        i, f, g, o = sigmoid(ai), sigmoid(af), torch.tanh(ag), sigmoid(ao)
        c_prev, h_prev = c, h
        c = f * c_prev + i * g
        h = o * torch.tanh(c)
        hs.append(h)
        cache.append((x[:, t], h_prev, c_prev, Wx, Wh, i, f, g, o, c))
    return torch.stack(hs, dim=1), c, cache


def lstm_backward(dh_all, dc_last, cache):
    r"""Backpropagation through time for :func:`lstm_forward`.

    Introduced in chapter 08 (RNNs, LSTMs, GRUs).

    Two gradients travel back from step to step: the one on the hidden state (``dh_all[:, t]`` plus what
    step :math:`t+1` sends back) and the one on the cell state, which starts at ``dc_last`` and is carried
    through :math:`c_{t} = f_{t} \odot c_{t-1} + \dots` to every earlier step.

    Args:
        dh_all: gradient of the loss with respect to every hidden state, shape ``(N, T, H)``.
        dc_last: gradient of the loss with respect to the final cell state :math:`c_T`, shape ``(N, H)``.
        cache: the list of step caches from :func:`lstm_forward`.

    Returns:
        ``(dx, dh0, dWx, dWh, db)`` with shapes ``(N, T, D)``, ``(N, H)``, ``(D, 4H)``, ``(H, 4H)``, ``(4H,)``.

    Example:
        >>> h, c, cache = lstm_forward(torch.zeros(1, 2, 1), torch.zeros(1, 1), torch.zeros(1, 4),
        ...                            torch.zeros(1, 4), torch.zeros(4))
        >>> db = lstm_backward(torch.zeros(1, 2, 1), torch.ones(1, 1), cache)[-1]
        >>> db.shape
        torch.Size([4])
    """
    N, T, H = dh_all.shape
    Wx, Wh = cache[0][3], cache[0][4]
    das = [None] * T
    dh_next, dc_next = torch.zeros_like(dh_all[:, 0]), dc_last
    for t in reversed(range(T)):   # only the two recurrent gradients are sequential
        das[t], dc_next = _lstm_gate_grads(dh_all[:, t] + dh_next, dc_next, cache[t])
        dh_next = das[t] @ Wh.T
    # Everything else is one matrix product over all steps and the whole batch at once.
    da = torch.stack(das, dim=1).reshape(N * T, 4 * H)
    xs = torch.stack([step[0] for step in cache], dim=1).reshape(N * T, -1)
    h_prevs = torch.stack([step[1] for step in cache], dim=1).reshape(N * T, H)
    dx = (da @ Wx.T).reshape(N, T, -1)
    return dx, dh_next, xs.T @ da, h_prevs.T @ da, da.sum(0)


def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    r"""One step of a GRU, in the form of ``torch.nn.GRUCell`` (gates r, z, n).

    Introduced in chapter 08 (RNNs, LSTMs, GRUs).

    With :math:`u = x W_x + b_x` and :math:`v = h_{prev} W_h + b_h`, each split into blocks r, z, n:
    :math:`r = \sigma(u_r + v_r)`, :math:`z = \sigma(u_z + v_z)`, :math:`n = \tanh(u_n + r \odot v_n)`
    and :math:`h = (1 - z) \odot n + z \odot h_{prev}`. The reset gate multiplies :math:`h_{prev} W_{h,n} +
    b_{h,n}`, bias included, which is why the two biases cannot be merged.

    Args:
        x: shape ``(N, D)``.  h_prev: shape ``(N, H)``.
        Wx: shape ``(D, 3H)`` (``weight_ih.T``).  Wh: shape ``(H, 3H)`` (``weight_hh.T``).
        bx, bh: shape ``(3H,)`` (``bias_ih`` and ``bias_hh``).

    Returns:
        The new hidden state, shape ``(N, H)``.

    Example:
        >>> cell = torch.nn.GRUCell(3, 2)
        >>> x, h = torch.randn(4, 3), torch.randn(4, 2)
        >>> out = gru_step_forward(x, h, cell.weight_ih.T, cell.weight_hh.T, cell.bias_ih, cell.bias_hh)
        >>> torch.allclose(out, cell(x, h), atol=1e-6)
        True
    """
    ur, uz, un = (x @ Wx + bx).chunk(3, dim=1)
    vr, vz, vn = (h_prev @ Wh + bh).chunk(3, dim=1)
    r, z = sigmoid(ur + vr), sigmoid(uz + vz)
    n = torch.tanh(un + r * vn)
    return (1 - z) * n + z * h_prev


def clip_grad_global_norm(grads, max_norm):
    r"""Rescale a list of gradients so that their global 2-norm is at most ``max_norm``.

    Introduced in chapter 08 (RNNs, LSTMs, GRUs).

    The global norm is :math:`\|g\| = \sqrt{\sum_k \|g_k\|_2^2}` over all entries of all tensors. As in
    ``torch.nn.utils.clip_grad_norm_``, every gradient is multiplied by
    :math:`\min(1, \text{max\_norm} / (\|g\| + 10^{-6}))`, so the direction never changes and gradients
    already small enough are left alone. The inputs are not modified.

    Args:
        grads: a list of tensors of any shapes (same device and dtype).
        max_norm: the largest allowed global norm, a positive number.

    Returns:
        ``(clipped, total_norm)``: a list of new tensors with the shapes of ``grads``, and the global norm
        before clipping as a 0-dim tensor.

    Example:
        >>> clipped, norm = clip_grad_global_norm([torch.tensor([3.0]), torch.tensor([4.0])], 1.0)
        >>> norm, clipped[1]
        (tensor(5.), tensor([0.8000]))
    """
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
    return [g * coef for g in grads], total


CHAR_LSTM_KEYS = ("Wx", "Wh", "b", "Wy", "by")
"""The parameters of the character model of :func:`train_char_lstm`, in this order."""


def train_char_lstm(ids, vocab_size, hidden=48, seq_len=32, batch_size=32, steps=150, lr=0.03, max_norm=1.0,
                    seed=0):
    r"""Train a character-level LSTM language model with the hand-written forward and backward passes.

    Introduced in chapter 08 (RNNs, LSTMs, GRUs), as its make-it-work task.

    The model reads one-hot characters :math:`x_t` (so :math:`x_t W_x` picks a row of ``Wx``), runs
    :func:`lstm_forward` from zero states and predicts the next character from every hidden state with
    logits :math:`h_t W_y + b_y`. Each step draws ``batch_size`` random windows of ``seq_len`` characters
    (:func:`course.text.random_windows`), takes the mean cross-entropy over every position, whose gradient on
    the logits is :math:`(\mathrm{softmax} - \mathrm{onehot}) / (N T)`, sends it back through the output layer
    and :func:`lstm_backward`, clips the global norm (:func:`clip_grad_global_norm`) and updates with Adam
    (chapter 05's rule, written out). The forget-gate bias starts at +1. No autograd anywhere.

    Args:
        ids: 1-D ``torch.long`` tensor, the training text as character ids.
        vocab_size: the number of distinct ids ``V``.
        hidden, seq_len, batch_size, steps, lr, max_norm: the model size and the schedule.
        seed: seeds every random draw (initial weights and windows).

    Returns:
        dict of float32 tensors ``Wx (V, 4H)``, ``Wh (H, 4H)``, ``b (4H,)``, ``Wy (H, V)``, ``by (V,)``.

    Example:
        >>> params = train_char_lstm(torch.arange(40) % 5, 5, hidden=4, seq_len=8, batch_size=2, steps=3)
        >>> {k: tuple(v.shape) for k, v in params.items()}["Wh"]
        (4, 16)
    """
    from course.text import random_windows

    g = torch.Generator().manual_seed(seed)
    H, V = hidden, vocab_size
    params = {"Wx": 0.1 * torch.randn(V, 4 * H, generator=g),
              "Wh": torch.randn(H, 4 * H, generator=g) / math.sqrt(H),
              "b": torch.zeros(4 * H),
              "Wy": torch.randn(H, V, generator=g) / math.sqrt(H),
              "by": torch.zeros(V)}
    params["b"][H:2 * H] = 1.0
    m = {k: torch.zeros_like(v) for k, v in params.items()}
    v2 = {k: torch.zeros_like(v) for k, v in params.items()}
    for step in range(1, steps + 1):
        xb, yb = random_windows(ids, batch_size, seq_len, g)
        x = torch.nn.functional.one_hot(xb, V).float()
        h, _, cache = lstm_forward(x, torch.zeros(batch_size, H), params["Wx"], params["Wh"], params["b"])
        dlogits = torch.softmax(h @ params["Wy"] + params["by"], dim=-1)
        dlogits -= torch.nn.functional.one_hot(yb, V).float()
        dlogits /= batch_size * seq_len
        grads = {"Wy": h.reshape(-1, H).T @ dlogits.reshape(-1, V), "by": dlogits.sum((0, 1))}
        _, _, grads["Wx"], grads["Wh"], grads["b"] = lstm_backward(dlogits @ params["Wy"].T,
                                                                    torch.zeros(batch_size, H), cache)
        clipped, _ = clip_grad_global_norm([grads[k] for k in CHAR_LSTM_KEYS], max_norm)
        for k, grad in zip(CHAR_LSTM_KEYS, clipped):
            m[k] = 0.9 * m[k] + 0.1 * grad
            v2[k] = 0.999 * v2[k] + 0.001 * grad * grad
            params[k] = params[k] - lr * (m[k] / (1 - 0.9 ** step)) / ((v2[k] / (1 - 0.999 ** step)).sqrt() + 1e-8)
    return params


def char_lstm_perplexity(params, ids, chunk=64):
    r"""Perplexity of the character model ``params`` (see :func:`train_char_lstm`) on a text, in float64.

    Introduced in chapter 08 (RNNs, LSTMs, GRUs).

    The text is cut into consecutive chunks of ``chunk + 1`` ids overlapping by one; each chunk is read from
    zero states and its ``chunk`` next characters are predicted. The result is
    :math:`\exp` of the mean cross-entropy (nats) over all predicted characters.

    Args:
        params: dict with ``Wx (V, 4H)``, ``Wh (H, 4H)``, ``b (4H,)``, ``Wy (H, V)``, ``by (V,)``.
        ids: 1-D ``torch.long`` tensor of at least ``chunk + 1`` ids.
        chunk: the number of predictions per chunk.

    Returns:
        the perplexity, a Python float (1 is perfect; ``V`` is a uniform guess).

    Example:
        >>> V, H = 3, 2
        >>> zero = {"Wx": torch.zeros(V, 4 * H), "Wh": torch.zeros(H, 4 * H), "b": torch.zeros(4 * H),
        ...         "Wy": torch.zeros(H, V), "by": torch.zeros(V)}
        >>> round(char_lstm_perplexity(zero, torch.arange(30) % V, chunk=8), 6)
        3.0
    """
    p = {k: torch.as_tensor(params[k]).detach().to(torch.float64) for k in CHAR_LSTM_KEYS}
    V = p["Wx"].shape[0]
    n = (ids.numel() - 1) // chunk
    if n < 1:
        raise ValueError(f"need at least {chunk + 1} ids, got {ids.numel()}")
    x = ids[: n * chunk].reshape(n, chunk)
    y = ids[1: n * chunk + 1].reshape(n, chunk)
    with torch.no_grad():
        h, _, _ = lstm_forward(torch.nn.functional.one_hot(x, V).to(torch.float64),
                               torch.zeros(n, p["Wh"].shape[0], dtype=torch.float64), p["Wx"], p["Wh"], p["b"])
        logits = h @ p["Wy"] + p["by"]
        nll = torch.logsumexp(logits, -1) - logits.gather(-1, y[..., None])[..., 0]
    return math.exp(float(nll.mean()))


def beam_search(step, state, token, length, beam_width):
    r"""Beam-search decoding: the most likely continuation of ``length`` tokens that keeps ``beam_width`` beams.

    Introduced in chapter 08 (RNNs, LSTMs, GRUs); the textbook's §9.3 "Inference" (greedy decoding and beam
    search).

    A beam is a prefix with its total log-probability. At every step each beam is extended by every token,
    an extension scoring the beam's log-probability plus the token's; the ``beam_width`` best extensions
    over all beams become the new beams. With ``beam_width = 1`` this is greedy decoding; with
    ``beam_width >= V ** (length - 1)`` it is an exhaustive search.

    Args:
        step: a function ``step(state, token) -> (log_probs, new_state)`` giving the log-probabilities (a 1-D
            tensor of length ``V``) of the token that follows ``token`` read in ``state``.
        state: the model's state before ``token`` is read (anything ``step`` accepts).
        token: the last token of the prompt, an int.
        length: the number of tokens to generate, at least 1.
        beam_width: the number of beams kept, at least 1.

    Returns:
        ``(tokens, log_prob)``: the best continuation found as a list of ``length`` ints, and its total
        log-probability as a Python float.

    Example:
        >>> table = torch.log(torch.tensor([[0.6, 0.4], [0.1, 0.9]]))   # row: the previous token
        >>> first = torch.log(torch.tensor([0.55, 0.45]))
        >>> def step(state, token):
        ...     return (first if state == "start" else table[token]), "running"
        >>> beam_search(step, "start", 0, 2, 1)[0], beam_search(step, "start", 0, 2, 2)[0]
        ([0, 0], [1, 1])
    """
    beams = [(0.0, [], state, int(token))]
    for _ in range(length):
        candidates = []
        for score, tokens, beam_state, last in beams:
            log_probs, new_state = step(beam_state, last)
            log_probs = torch.as_tensor(log_probs, dtype=torch.float64).reshape(-1)
            top = torch.topk(log_probs, min(beam_width, log_probs.numel()))
            for lp, nxt in zip(top.values.tolist(), top.indices.tolist()):
                candidates.append((score + lp, tokens + [nxt], new_state, nxt))
        candidates.sort(key=lambda c: c[0], reverse=True)
        beams = candidates[:beam_width]
    best_score, best_tokens = beams[0][0], beams[0][1]
    return best_tokens, float(best_score)


def cell_state_answer():
    """Concept question of chapter 08: why the LSTM's gradient survives long lags.

    Example::

        >>> cell_state_answer()
        'b'
    """
    return "b"


def truncated_bptt_answer():
    """Concept question of chapter 08: what truncated BPTT gives up.

    Example::

        >>> truncated_bptt_answer()
        'b'
    """
    return "b"


def teacher_forcing_answer():
    """Concept question of chapter 08: training on the true previous characters.

    Example::

        >>> teacher_forcing_answer()
        'c'
    """
    return "c"
