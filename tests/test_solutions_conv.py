"""solutions_lib.conv against torch.nn.functional (float64, random upstream gradients) and brute force."""
from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from solutions_lib import conv

F64 = torch.float64


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(*shape, seed=0, dtype=F64, device="cpu"):
    return torch.randn(*shape, generator=_gen(seed), dtype=dtype).to(device)


def _tol(dtype):
    return dict(rtol=1e-4, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("h,k,s,p,d", [(32, 5, 1, 0, 1), (32, 5, 1, 2, 1), (7, 3, 2, 1, 1), (10, 3, 3, 0, 1),
                                       (9, 3, 1, 2, 2), (11, 4, 3, 1, 3), (5, 5, 1, 0, 1), (1, 1, 1, 0, 1)])
def test_conv_output_size_matches_conv2d(h, k, s, p, d):
    out = F.conv2d(torch.zeros(1, 1, h, h), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d)
    got = conv.conv_output_size(h, k, stride=s, padding=p, dilation=d)
    assert isinstance(got, int) and got == out.shape[-1]


@pytest.mark.parametrize("stride,padding", [(1, 0), (1, 1), (2, 1), (3, 2)])
def test_conv2d_naive_and_forward_match_conv2d(device, dtype, stride, padding):
    x = _randn(2, 3, 9, 8, seed=1, dtype=dtype, device=device)
    w = _randn(4, 3, 3, 2, seed=2, dtype=dtype, device=device)
    b = _randn(4, seed=3, dtype=dtype, device=device)
    expected = F.conv2d(x, w, b, stride=stride, padding=padding)
    torch.testing.assert_close(conv.conv2d_naive(x, w, b, stride, padding), expected, **_tol(dtype))
    out, cache = conv.conv2d_forward(x, w, b, stride, padding)
    assert out.device == x.device and out.dtype == dtype
    torch.testing.assert_close(out, expected, **_tol(dtype))
    assert len(cache) == 6 and cache[3] == stride and cache[4] == padding
    torch.testing.assert_close(cache[5], F.unfold(x, (3, 2), padding=padding, stride=stride))


def test_conv2d_naive_without_bias_is_cross_correlation():
    x = torch.arange(9.0, dtype=F64).reshape(1, 1, 3, 3)
    w = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=F64)
    # top-left window [[0, 1], [3, 4]]: 0*1 + 1*2 + 3*3 + 4*4 = 27 (a true convolution would give 13)
    assert conv.conv2d_naive(x, w, None)[0, 0, 0, 0].item() == 27.0


@pytest.mark.parametrize("k,s,p,d", [(3, 1, 0, 1), (2, 2, 1, 1), (3, 2, 1, 2), ((2, 3), 1, 0, 1)])
def test_im2col_matches_unfold(device, dtype, k, s, p, d):
    x = _randn(2, 3, 7, 6, seed=4, dtype=dtype, device=device)
    torch.testing.assert_close(conv.im2col(x, k, s, p, d), F.unfold(x, k, dilation=d, padding=p, stride=s))


@pytest.mark.parametrize("shape,stride,padding", [((2, 3, 8, 7, 4, 3), 1, 1), ((3, 2, 9, 9, 2, 3), 2, 1),
                                                  ((2, 4, 10, 8, 4, 3), 3, 2), ((1, 1, 5, 5, 1, 5), 1, 0)])
def test_conv2d_backward_matches_autograd(device, dtype, shape, stride, padding):
    n, c, h, wd, f, k = shape
    x = _randn(n, c, h, wd, seed=5, dtype=dtype, device=device)
    w = _randn(f, c, k, k, seed=6, dtype=dtype, device=device)
    b = _randn(f, seed=7, dtype=dtype, device=device)
    out, cache = conv.conv2d_forward(x, w, b, stride, padding)
    dout = _randn(*out.shape, seed=8, dtype=dtype, device=device)
    dx, dw, db = conv.conv2d_backward(dout, cache)
    xr, wr, br = (t.clone().requires_grad_() for t in (x, w, b))
    F.conv2d(xr, wr, br, stride=stride, padding=padding).backward(dout)
    for got, ref in ((dx, xr.grad), (dw, wr.grad), (db, br.grad)):
        assert got.shape == ref.shape and got.device == x.device
        torch.testing.assert_close(got, ref, **_tol(dtype))


def test_conv2d_backward_central_differences():
    x, w, b = _randn(1, 2, 5, 4, seed=9), _randn(3, 2, 3, 3, seed=10), _randn(3, seed=11)
    out, cache = conv.conv2d_forward(x, w, b, 2, 1)
    dout = _randn(*out.shape, seed=12)
    dx, dw, db = conv.conv2d_backward(dout, cache)
    eps = 1e-6
    for tensor, grad in ((x, dx), (w, dw), (b, db)):
        for i in range(0, tensor.numel(), 3):
            flat = tensor.view(-1)
            old = flat[i].item()
            flat[i] = old + eps
            plus = (conv.conv2d_forward(x, w, b, 2, 1)[0] * dout).sum()
            flat[i] = old - eps
            minus = (conv.conv2d_forward(x, w, b, 2, 1)[0] * dout).sum()
            flat[i] = old
            assert abs((plus - minus).item() / (2 * eps) - grad.view(-1)[i].item()) < 1e-6


@pytest.mark.parametrize("k,s", [(2, None), (3, 1), (3, 2), (2, 3)])
def test_pooling_matches_torch(device, dtype, k, s):
    x = _randn(2, 3, 9, 8, seed=13, dtype=dtype, device=device)
    stride = k if s is None else s
    torch.testing.assert_close(conv.pool2d_forward(x, k, s, "max"), F.max_pool2d(x, k, stride))
    torch.testing.assert_close(conv.pool2d_forward(x, k, s, "avg"), F.avg_pool2d(x, k, stride), **_tol(dtype))
    for mode, fn, back in (("max", F.max_pool2d, conv.max_pool2d_backward),
                           ("avg", F.avg_pool2d, conv.avg_pool2d_backward)):
        xr = x.clone().requires_grad_()
        out = fn(xr, k, stride)
        dout = _randn(*out.shape, seed=14, dtype=dtype, device=device)
        out.backward(dout)
        torch.testing.assert_close(back(dout, x, k, s), xr.grad, **_tol(dtype))


def test_max_pool_backward_ties_go_to_the_first_max():
    x = torch.tensor([[[[1.0, 3.0, 3.0, 0.0], [3.0, 0.0, 2.0, 2.0], [0.0, 0.0, 5.0, 5.0], [0.0, 0.0, 5.0, 5.0]]]],
                     dtype=F64)
    dout = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=F64)
    dx = conv.max_pool2d_backward(dout, x, 2)
    expected = torch.zeros_like(x)
    expected[0, 0, 0, 1], expected[0, 0, 0, 2], expected[0, 0, 2, 0], expected[0, 0, 2, 2] = 1.0, 2.0, 3.0, 4.0
    torch.testing.assert_close(dx, expected)
    xr = x.clone().requires_grad_()
    F.max_pool2d(xr, 2).backward(dout)
    torch.testing.assert_close(dx, xr.grad)


def test_pool_rejects_unknown_mode():
    with pytest.raises(ValueError):
        conv.pool2d_forward(torch.zeros(1, 1, 2, 2), 2, mode="min")


@pytest.mark.parametrize("stride,padding,bias", [(1, 0, True), (2, 0, False), (2, 1, True), (3, 1, True)])
def test_conv_transpose2d_matches_torch(device, dtype, stride, padding, bias):
    x = _randn(2, 3, 4, 5, seed=15, dtype=dtype, device=device)
    w = _randn(3, 2, 3, 4, seed=16, dtype=dtype, device=device)
    b = _randn(2, seed=17, dtype=dtype, device=device) if bias else None
    torch.testing.assert_close(conv.conv_transpose2d(x, w, b, stride, padding),
                               F.conv_transpose2d(x, w, b, stride=stride, padding=padding), **_tol(dtype))


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    x, w = _randn(2, 3, 9, 9, seed=18), _randn(4, 3, 3, 3, seed=19)
    y = F.conv2d(x, w, stride=2, padding=1)
    v = _randn(*y.shape, seed=20)
    lhs = (y * v).sum()
    rhs = (x * conv.conv_transpose2d(v, w, None, 2, 1)).sum()
    torch.testing.assert_close(lhs, rhs)


def _iou_brute(a, b):
    out = torch.zeros(len(a), len(b), dtype=F64)
    for i, j in itertools.product(range(len(a)), range(len(b))):
        ax1, ay1, ax2, ay2 = a[i].tolist()
        bx1, by1, bx2, by2 = b[j].tolist()
        iw = max(0.0, min(ax2, bx2) - max(ax1, bx1))
        ih = max(0.0, min(ay2, by2) - max(ay1, by1))
        inter = iw * ih
        union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
        out[i, j] = inter / union if union > 0 else 0.0
    return out


def _random_boxes(n, seed, device="cpu", dtype=F64):
    g = _gen(seed)
    xy = torch.rand(n, 2, generator=g, dtype=F64) * 10
    wh = torch.rand(n, 2, generator=g, dtype=F64) * 4
    return torch.cat([xy, xy + wh], dim=1).to(device=device, dtype=dtype)


def test_box_iou_against_brute_force(device):
    a, b = _random_boxes(7, 21, device), _random_boxes(5, 22, device)
    got = conv.box_iou(a, b)
    assert got.device == a.device
    torch.testing.assert_close(got.cpu(), _iou_brute(a.cpu(), b.cpu()))
    empty = torch.tensor([[1.0, 1.0, 1.0, 1.0]], dtype=F64)
    assert conv.box_iou(empty, empty).item() == 0.0
    assert conv.box_iou(a, a).diagonal().cpu().allclose(torch.ones(7, dtype=F64))


def _nms_brute(boxes, scores, thr):
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    keep = []
    for i in order:
        if all(_iou_brute(boxes[i:i + 1], boxes[j:j + 1]).item() <= thr for j in keep):
            keep.append(i)
    return keep


@pytest.mark.parametrize("seed,thr", [(23, 0.5), (24, 0.3), (25, 0.0), (26, 1.0)])
def test_nms_against_brute_force(device, seed, thr):
    boxes = _random_boxes(30, seed, device)
    scores = torch.rand(30, generator=_gen(seed + 100), dtype=F64).to(device)
    got = conv.nms(boxes, scores, thr)
    assert got.dtype == torch.long and got.device == boxes.device
    assert got.tolist() == _nms_brute(boxes.cpu(), scores.cpu(), thr)


def test_nms_equal_scores_keep_the_lower_index():
    boxes = torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 2.0], [5.0, 5.0, 6.0, 6.0]])
    assert conv.nms(boxes, torch.tensor([0.5, 0.5, 0.5]), 0.5).tolist() == [0, 2]


@pytest.mark.parametrize("chunk_elements", [1, 200, 10 ** 9])
@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 1), (3, 2)])
def test_conv2d_batch_chunking_does_not_change_the_result(monkeypatch, chunk_elements, stride, padding):
    # conv2d_forward and conv2d_backward run a few images at a time on the CPU; any chunk size (one image
    # per chunk, an uneven last chunk, the whole batch at once) must give the same output, cache and gradients.
    monkeypatch.setattr(conv, "_CHUNK_ELEMENTS", chunk_elements)
    x, w, b = _randn(5, 3, 9, 8, seed=12), _randn(4, 3, 3, 2, seed=13), _randn(4, seed=14)
    out, cache = conv.conv2d_forward(x, w, b, stride, padding)
    torch.testing.assert_close(out, F.conv2d(x, w, b, stride=stride, padding=padding), **_tol(F64))
    torch.testing.assert_close(cache[5], F.unfold(x, (3, 2), stride=stride, padding=padding))
    dout = _randn(*out.shape, seed=15)
    dx, dw, db = conv.conv2d_backward(dout, cache)
    xr, wr, br = (t.clone().requires_grad_() for t in (x, w, b))
    F.conv2d(xr, wr, br, stride=stride, padding=padding).backward(dout)
    for got, ref in ((dx, xr.grad), (dw, wr.grad), (db, br.grad)):
        torch.testing.assert_close(got, ref, **_tol(F64))


@pytest.mark.parametrize("n,per_image,budget,sizes", [(32, 144 * 1024, 1 << 21, [11, 11, 10]), (5, 10, 1, [1] * 5),
                                                       (7, 10, 35, [4, 3]), (3, 10, 10 ** 9, [3]), (0, 10, 1, [])])
def test_batch_slices_split_evenly_within_the_budget(monkeypatch, n, per_image, budget, sizes):
    monkeypatch.setattr(conv, "_CHUNK_ELEMENTS", budget)
    slices = conv._batch_slices(n, per_image, torch.device("cpu"))
    assert [s.stop - s.start for s in slices] == sizes
    assert [i for s in slices for i in range(s.start, s.stop)] == list(range(n))
    assert conv._batch_slices(n, per_image, torch.device("meta")) == [slice(0, n)]


# ---------------------------------------------------------------------------------------------- stepping stones

@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), (3, 2)])
def test_conv2d_weight_grad_is_one_filter_of_the_backward_pass(stride, padding):
    g = torch.Generator().manual_seed(40)
    x = torch.randn(2, 3, 9, 8, generator=g, dtype=torch.float64)
    w = torch.randn(4, 3, 3, 2, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.conv2d(x, w, stride=stride, padding=padding)
    dout = torch.randn(y.shape, generator=g, dtype=torch.float64)
    y.backward(dout)
    for f in range(4):
        torch.testing.assert_close(conv.conv2d_weight_grad(x, dout[:, f], (3, 2), stride, padding), w.grad[f])


@pytest.mark.parametrize("k,stride", [(2, None), (3, 1), (3, 2)])
def test_max_pool2d_routing_counts_the_windows(k, stride):
    g = torch.Generator().manual_seed(41)
    x = torch.randint(0, 3, (2, 3, 8, 7), generator=g).double().requires_grad_()
    y = torch.nn.functional.max_pool2d(x, k, k if stride is None else stride)
    y.backward(torch.ones_like(y))
    counts = conv.max_pool2d_routing(x.detach(), k, stride)
    torch.testing.assert_close(counts, x.grad)
    assert counts.sum().item() == y.numel()


def _cnn_params(seed, c_in=1, c1=3, c2=4, k=10, dtype=F64):
    g = _gen(seed)
    return {"w1": torch.randn(c1, c_in, 3, 3, generator=g, dtype=dtype), "b1": 0.1 * torch.randn(c1, generator=g, dtype=dtype),
            "w2": torch.randn(c2, c1, 3, 3, generator=g, dtype=dtype), "b2": 0.1 * torch.randn(c2, generator=g, dtype=dtype),
            "W": torch.randn(c2, k, generator=g, dtype=dtype), "b": torch.randn(k, generator=g, dtype=dtype)}


@pytest.mark.parametrize("shape", [(4, 1, 8, 8), (3, 2, 12, 10), (2, 1, 7, 9)])
def test_cnn_gradients_match_autograd_through_torch_layers(shape):
    params = _cnn_params(sum(shape), c_in=shape[1])
    x = _randn(*shape, seed=shape[2])
    y = torch.randint(0, 10, (shape[0],), generator=_gen(1))
    leaves = {k: v.clone().requires_grad_() for k, v in params.items()}
    h = F.max_pool2d(F.relu(F.conv2d(x, leaves["w1"], leaves["b1"], padding=1)), 2)
    h = F.relu(F.conv2d(h, leaves["w2"], leaves["b2"], padding=1))
    expected = F.cross_entropy(h.mean(dim=(2, 3)) @ leaves["W"] + leaves["b"], y)
    expected.backward()
    loss, grads = conv.cnn_gradients(params, x, y)
    torch.testing.assert_close(loss, expected.detach(), **_tol(F64))
    assert set(grads) == set(params)
    for k in params:
        torch.testing.assert_close(grads[k], leaves[k].grad, **_tol(F64))


def test_cnn_gradients_central_differences():
    params = _cnn_params(5, c1=2, c2=3, k=4)
    x, y = _randn(2, 1, 6, 6, seed=6), torch.tensor([1, 3])
    _, grads = conv.cnn_gradients(params, x, y)
    for name, index in [("w1", (1, 0, 2, 0)), ("b2", (2,)), ("W", (0, 3))]:
        bumped = {k: v.clone() for k, v in params.items()}
        bumped[name][index] += 1e-6
        up = conv.cnn_gradients(bumped, x, y)[0]
        bumped[name][index] -= 2e-6
        down = conv.cnn_gradients(bumped, x, y)[0]
        assert abs(float((up - down) / 2e-6) - float(grads[name][index])) < 1e-6


def test_train_digits_cnn_is_deterministic_and_shaped():
    from course.shifted_digits import CNN_KEYS, load_shifted_digits

    X, y, _, _ = load_shifted_digits(seed=0)
    first = conv.train_digits_cnn(X[:200], y[:200], seed=1, channels=(3, 5), steps=5, batch_size=16)
    again = conv.train_digits_cnn(X[:200], y[:200], seed=1, channels=(3, 5), steps=5, batch_size=16)
    shapes = {"w1": (3, 1, 3, 3), "b1": (3,), "w2": (5, 3, 3, 3), "b2": (5,), "W": (5, 10), "b": (10,)}
    for k in CNN_KEYS:
        assert first[k].shape == shapes[k] and first[k].dtype == X.dtype
        torch.testing.assert_close(first[k], again[k], rtol=0, atol=0)


def test_shifted_digits_move_the_digit_and_keep_its_ink():
    from course.data import load_digits
    from course.shifted_digits import load_shifted_digits

    X_train, y_train, X_test, y_test = load_shifted_digits(seed=3)
    plain = load_digits(seed=3)
    assert X_train.shape == (1348, 1, 12, 12) and X_test.shape == (449, 1, 12, 12)
    torch.testing.assert_close(X_train.sum(dim=(1, 2, 3)), plain.X_train.sum(dim=1))
    assert torch.equal(y_train, plain.y_train) and torch.equal(y_test, plain.y_test)
    # the digits sit at many places: the ink's centre of mass varies across images
    rows = (X_train[:, 0].sum(dim=2) * torch.arange(12.0)).sum(dim=1) / X_train[:, 0].sum(dim=(1, 2))
    assert rows.max() - rows.min() > 3.0


@pytest.mark.parametrize("shape,style_hw", [((2, 3, 4, 5), (6, 3)), ((1, 6, 3, 1), (5, 5)), ((3, 2, 2, 2), (2, 2))])
def test_gram_and_style_loss_against_autograd(shape, style_hw):
    x = _randn(*shape, seed=11).requires_grad_()
    s = _randn(shape[0], shape[1], *style_hw, seed=12)
    flat = x.reshape(shape[0], shape[1], -1)
    gram = flat @ flat.transpose(1, 2) / (shape[2] * shape[3])
    torch.testing.assert_close(conv.gram_matrix(x.detach()), gram.detach(), **_tol(F64))
    sflat = s.reshape(shape[0], shape[1], -1)
    expected = ((gram - sflat @ sflat.transpose(1, 2) / sflat.shape[2]) ** 2).sum()
    expected.backward()
    loss, grad = conv.style_loss(x.detach(), s)
    torch.testing.assert_close(loss, expected.detach(), **_tol(F64))
    torch.testing.assert_close(grad, x.grad, **_tol(F64))


def test_gram_matrix_of_a_map_does_not_depend_on_its_size():
    """Normalised by the positions, a map tiled twice has the same Gram matrix."""
    x = _randn(1, 3, 4, 4, seed=13)
    torch.testing.assert_close(conv.gram_matrix(torch.cat([x, x], dim=3)), conv.gram_matrix(x), **_tol(F64))


def test_gram_backward_against_autograd_with_a_non_symmetric_upstream_gradient():
    x = _randn(2, 3, 4, 5, seed=14).requires_grad_()
    dgram = _randn(2, 3, 3, seed=15)
    (conv.gram_matrix(x) * dgram).sum().backward()
    torch.testing.assert_close(conv.gram_backward(dgram, x.detach()), x.grad, **_tol(F64))
    # the style loss's gradient is gram_backward of twice the Gram difference
    s = _randn(2, 3, 3, 3, seed=16)
    diff = conv.gram_matrix(x.detach()) - conv.gram_matrix(s)
    torch.testing.assert_close(conv.style_loss(x.detach(), s)[1], conv.gram_backward(2 * diff, x.detach()), **_tol(F64))
