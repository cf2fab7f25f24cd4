"""The performance-critical reference code runs on whatever device its inputs are on.

The `device` fixture adds CUDA to every numerical test when a GPU is present. Without one, PyTorch's
``meta`` device stands in: a meta tensor has a shape, dtype and device but no data, and mixing it with a
CPU tensor raises. A function that quietly makes a CPU tensor (``torch.zeros(n)`` without ``device=``) or
hard-codes a device therefore fails here, on a CPU-only machine, as it would on CUDA.
"""
from __future__ import annotations

import pytest
import torch

from solutions_lib import attention, conv, linear, normalization, rnn

META = torch.device("meta")


def _empty(*shape, dtype=torch.float32):
    return torch.empty(*shape, device=META, dtype=dtype)


def _assert_on_meta(tensors, shapes):
    assert [tuple(t.shape) for t in tensors] == [tuple(s) for s in shapes]
    assert all(t.device == META for t in tensors)


@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 1), (1, 0)])
def test_conv2d_forward_and_backward_stay_on_the_inputs_device(stride, padding):
    x, w, b = _empty(4, 3, 9, 8), _empty(5, 3, 3, 2), _empty(5)
    out, cache = conv.conv2d_forward(x, w, b, stride, padding)
    ho = conv.conv_output_size(9, 3, stride, padding)
    wo = conv.conv_output_size(8, 2, stride, padding)
    _assert_on_meta([out, cache[5]], [(4, 5, ho, wo), (4, 3 * 3 * 2, ho * wo)])
    _assert_on_meta(conv.conv2d_backward(torch.empty_like(out), cache), [x.shape, w.shape, b.shape])


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pooling_stays_on_the_inputs_device(mode):
    x = _empty(2, 3, 8, 8)
    out = conv.pool2d_forward(x, 2, mode=mode)
    _assert_on_meta([out], [(2, 3, 4, 4)])
    backward = conv.max_pool2d_backward if mode == "max" else conv.avg_pool2d_backward
    _assert_on_meta([backward(torch.empty_like(out), x, 2)], [x.shape])


def test_batchnorm_forward_and_backward_stay_on_the_inputs_device():
    x, gamma = _empty(16, 6), _empty(6)
    state = {"running_mean": torch.zeros(6, device=META), "running_var": torch.ones(6, device=META),
             "momentum": 0.1, "eps": 1e-5}
    out, cache = normalization.batchnorm_forward(x, gamma, gamma, state, "train")
    _assert_on_meta([out, state["running_mean"], state["running_var"]], [(16, 6), (6,), (6,)])
    _assert_on_meta(normalization.batchnorm_backward(torch.empty_like(out), cache), [(16, 6), (6,), (6,)])


def test_softmax_cross_entropy_stays_on_the_inputs_device():
    logits, targets = _empty(8, 10), torch.zeros(8, dtype=torch.long, device=META)
    _assert_on_meta([linear.cross_entropy(logits, targets), linear.softmax_cross_entropy_grad(logits, targets)],
                    [(), (8, 10)])


def test_lstm_forward_and_bptt_stay_on_the_inputs_device():
    x, h0, wx, wh, b = _empty(2, 5, 4), _empty(2, 3), _empty(4, 12), _empty(3, 12), _empty(12)
    hs, c, cache = rnn.lstm_forward(x, h0, wx, wh, b)
    _assert_on_meta([hs, c], [(2, 5, 3), (2, 3)])
    _assert_on_meta(rnn.lstm_backward(torch.empty_like(hs), torch.empty_like(c), cache),
                    [x.shape, h0.shape, wx.shape, wh.shape, b.shape])


def test_attention_forward_and_backward_stay_on_the_inputs_device():
    q = _empty(2, 2, 6, 4)
    out, p = attention.scaled_dot_product_attention(q, q, q, causal=True)
    _assert_on_meta([out, p], [(2, 2, 6, 4), (2, 2, 6, 6)])
    _assert_on_meta(attention.attention_backward(torch.empty_like(out), (q, q, q, p)), [q.shape] * 3)


def test_a_cpu_tensor_made_behind_the_callers_back_is_caught(monkeypatch):
    # The check itself can fail: a conv2d_backward whose dx starts as a CPU tensor (new_zeros replaced by a
    # device-less torch.zeros) either raises on the mixed devices or hands back a CPU gradient.
    x, w, b = _empty(2, 3, 6, 6), _empty(4, 3, 3, 3), _empty(4)
    out, cache = conv.conv2d_forward(x, w, b, 1, 1)
    monkeypatch.setattr(torch.Tensor, "new_zeros", lambda self, shape, *args, **kwargs: torch.zeros(shape))
    with pytest.raises((AssertionError, RuntimeError)):
        _assert_on_meta(conv.conv2d_backward(torch.empty_like(out), cache), [x.shape, w.shape, b.shape])
