"""Hidden checks of chapter 07 (convolution, pooling, CNNs and their uses in vision).

Oracles: ``torch.nn.functional`` (conv2d, unfold, max_pool2d, avg_pool2d, conv_transpose2d) and autograd in
float64 with random upstream gradients; brute-force loops for IoU and non-maximum suppression.
"""
from __future__ import annotations

import itertools
import numbers

import torch
import torch.nn.functional as F

from autograder.checks import Case, check
from course.checks import diagnose_close, plain
from solutions_lib import conv as ref

F64 = torch.float64
F32 = torch.float32


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(g, *shape, dtype=F64):
    return torch.randn(*shape, generator=g, dtype=dtype)


# -- conv_output_size -------------------------------------------------------------------------------------------

def _int_equal(got, expected, case):
    if isinstance(got, bool) or not isinstance(got, numbers.Integral):
        return f"the output should be a Python int, got {type(got).__name__} ({plain(got)}); use // (floor division)."
    if int(got) != int(expected):
        return f"the output is {plain(got)}, expected {plain(expected)}."
    return None


def _size_case(h, k, s=1, p=0, d=1):
    actual = F.conv2d(torch.zeros(1, 1, h, 1), torch.zeros(1, 1, k, 1), stride=(s, 1), padding=(p, 0),
                      dilation=(d, 1)).shape[2]
    return Case(f"H={h}, K={k}, stride={s}, padding={p}, dilation={d} (F.conv2d gives {actual})",
                (h, k), {"stride": s, "padding": p, "dilation": d}, expected=actual)


@check("conv_output_size", compare=_int_equal,
       hint="floor((H + 2P - D(K - 1) - 1) / S) + 1, with integer floor division //.")
def _conv_output_size_cases():
    for args in [(28, 5), (32, 3, 1, 1), (224, 7, 2, 3), (13, 3, 2, 0), (14, 3, 2, 0), (10, 4, 3, 1),
                 (5, 5), (6, 1, 1, 0), (9, 3, 1, 0, 3), (16, 3, 2, 2, 2), (1, 3, 1, 1), (100, 11, 4, 2),
                 (8, 2, 5, 0), (17, 4, 3, 0, 2)]:
        yield _size_case(*args)


# -- conv2d_naive, conv2d_forward -------------------------------------------------------------------------------

_CONV_SHAPES = [
    # (N, C, H, W, F, kh, kw, stride, padding, dtype)
    (2, 3, 7, 6, 4, 3, 3, 1, 0, F64),
    (1, 2, 8, 8, 3, 3, 3, 1, 1, F64),
    (3, 1, 9, 7, 2, 2, 3, 2, 1, F64),
    (2, 4, 10, 9, 3, 3, 2, 3, 2, F64),
    (2, 3, 5, 5, 2, 5, 5, 1, 0, F64),
    (1, 5, 4, 6, 3, 1, 1, 1, 0, F64),
    (2, 2, 6, 6, 2, 4, 4, 2, 0, F32),
    (4, 3, 8, 5, 5, 3, 3, 2, 1, F32),
]


def _conv_inputs(seed, shape):
    n, c, h, w, f, kh, kw, s, p, dtype = shape
    g = _gen(seed)
    x, wt, b = _randn(g, n, c, h, w, dtype=dtype), _randn(g, f, c, kh, kw, dtype=dtype), _randn(g, f, dtype=dtype)
    label = f"x {tuple(x.shape)}, w {tuple(wt.shape)}, stride={s}, padding={p}, {str(dtype)[6:]}"
    return x, wt, b, s, p, label


@check("conv2d_naive", reference=ref.conv2d_naive,
       hint="Cross-correlation as in F.conv2d: no kernel flip; pad all four sides; step windows by `stride`.")
def _conv2d_naive_cases():
    for i, shape in enumerate(_CONV_SHAPES):
        x, w, b, s, p, label = _conv_inputs(700 + i, shape)
        yield Case(label + " vs F.conv2d", (x, w, b), {"stride": s, "padding": p},
                   expected=F.conv2d(x, w, b, stride=s, padding=p))
    x = torch.arange(25.0, dtype=F64).reshape(1, 1, 5, 5)
    w = torch.tensor([[[[1.0, 2.0, 0.0], [0.0, -1.0, 3.0], [2.0, 0.0, -2.0]]]], dtype=F64)
    yield Case("ramp image, asymmetric kernel, zero bias", (x, w, torch.zeros(1, dtype=F64)),
               expected=F.conv2d(x, w))


def _forward_compare(got, expected, case):
    x, w, b = case.args[:3]
    stride, padding = case.kwargs["stride"], case.kwargs["padding"]
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return "conv2d_forward should return the pair (out, cache)."
    out, cache = got
    problem = diagnose_close(out, expected, what="out", strict=True)
    if problem:
        return problem
    if not isinstance(cache, (tuple, list)) or len(cache) != 6:
        return "cache should be the 6-tuple (x, w, b, stride, padding, cols)."
    for i, (name, value) in enumerate((("x", x), ("w", w), ("b", b))):
        problem = diagnose_close(cache[i], value, what=f"cache[{i}] ({name})")
        if problem:
            return problem
    if cache[3] != stride or cache[4] != padding:
        return f"cache[3:5] should be (stride, padding) = ({stride}, {padding}), got ({plain(cache[3])}, {plain(cache[4])})."
    return diagnose_close(cache[5], F.unfold(x, tuple(w.shape[-2:]), stride=stride, padding=padding),
                          what="cache[5] (cols, in F.unfold's layout)")


@check("conv2d_forward", compare=_forward_compare,
       hint="out = (W_row @ cols + b) reshaped to (N, F, H_out, W_out); cache = (x, w, b, stride, padding, cols).")
def _conv2d_forward_cases():
    for i, shape in enumerate(_CONV_SHAPES):
        x, w, b, s, p, label = _conv_inputs(720 + i, shape)
        yield Case(label + " vs F.conv2d", (x, w, b), {"stride": s, "padding": p},
                   expected=F.conv2d(x, w, b, stride=s, padding=p))


# -- conv2d_backward --------------------------------------------------------------------------------------------

_BACKWARD_SHAPES = [
    (2, 3, 7, 6, 4, 3, 3, 1, 1, F64),
    (2, 3, 8, 8, 3, 3, 3, 1, 0, F64),   # C == F: a transposed dw has the right shape
    (3, 2, 9, 7, 2, 2, 3, 2, 1, F64),   # stride 2, non-square kernel
    (2, 4, 10, 9, 3, 3, 2, 3, 2, F64),  # stride 3, rounding down leaves pixels uncovered
    (1, 2, 6, 5, 2, 1, 1, 2, 0, F64),   # 1x1 kernel with stride: every other pixel unused
    (2, 2, 5, 5, 3, 5, 5, 1, 2, F64),   # kernel as large as the image, "same" padding
    (4, 3, 8, 6, 5, 3, 3, 2, 1, F32),
]


def _backward_expected(x, w, b, s, p, dout):
    xr, wr, br = (t.clone().requires_grad_() for t in (x, w, b))
    F.conv2d(xr, wr, br, stride=s, padding=p).backward(dout)
    return xr.grad, wr.grad, br.grad


@check("conv2d_backward", by_hand=True,
       hint="db: the bias moves every output position of its channel. dw: each weight meets one input pixel per "
            "window (your conv2d_weight_grad, for every filter). dx: each column entry is a copy of one padded "
            "pixel, so its gradient goes back onto that pixel, copies adding up, and the padding is cropped.")
def _conv2d_backward_cases():
    for i, shape in enumerate(_BACKWARD_SHAPES):
        x, w, b, s, p, label = _conv_inputs(740 + i, shape)
        out, cache = ref.conv2d_forward(x, w, b, s, p)
        dout = _randn(_gen(760 + i), *out.shape, dtype=x.dtype)
        yield Case(label + ", random dout vs autograd", (dout, cache),
                   expected=_backward_expected(x, w, b, s, p, dout))


# -- conv2d_weight_grad (the stepping stone of the backward pass) ------------------------------------------------

@check("conv2d_weight_grad", by_hand=True,
       hint="Tap (p, q) of channel c met the padded input at (S i + p, S j + q) in window (i, j): sum those pixels "
            "times the filter's upstream gradient over the batch and every window. The filter is not flipped.")
def _conv2d_weight_grad_cases():
    for i, shape in enumerate(_BACKWARD_SHAPES):
        x, w, b, s, p, label = _conv_inputs(1740 + i, shape)
        out, _ = ref.conv2d_forward(x, w, b, s, p)
        dout = _randn(_gen(1760 + i), *out.shape, dtype=x.dtype)
        f = i % w.shape[0]
        dw = _backward_expected(x, w, b, s, p, dout)[1][f]
        yield Case(label + f", filter {f}, random dout vs autograd", (x, dout[:, f], tuple(w.shape[2:])),
                   {"stride": s, "padding": p}, expected=dw)


# -- im2col -----------------------------------------------------------------------------------------------------

@check("im2col", hint="Rows ordered (channel, kernel row, kernel column), columns ordered (output row, output "
                      "column), exactly like F.unfold; the window at output (i, j) starts at (S i, S j).")
def _im2col_cases():
    configs = [((1, 1, 4, 4), (2, 2), 1, 0, 1, F64), ((2, 3, 6, 5), (3, 3), 1, 1, 1, F64),
               ((2, 2, 7, 6), (3, 2), 2, 1, 1, F64), ((1, 3, 9, 9), (3, 3), 1, 0, 2, F64),
               ((2, 2, 10, 8), (2, 3), 3, 2, 2, F64), ((3, 4, 5, 5), (1, 1), 2, 0, 1, F64),
               ((2, 3, 8, 7), (3, 3), 2, 1, 1, F32)]
    for i, (shape, k, s, p, d, dtype) in enumerate(configs):
        x = _randn(_gen(780 + i), *shape, dtype=dtype)
        yield Case(f"x {shape}, kernel {k}, stride={s}, padding={p}, dilation={d}, {str(dtype)[6:]} vs F.unfold",
                   (x, k), {"stride": s, "padding": p, "dilation": d},
                   expected=F.unfold(x, k, dilation=d, padding=p, stride=s))


# -- pooling ----------------------------------------------------------------------------------------------------

_POOL_CONFIGS = [
    # (shape, kernel, stride (None = kernel), dtype)
    ((2, 3, 8, 8), 2, None, F64),
    ((2, 2, 7, 9), 2, None, F64),      # odd sizes: the last row / column is in no window
    ((1, 3, 9, 8), 3, 2, F64),         # overlapping windows
    ((2, 2, 9, 9), 3, 1, F64),         # heavily overlapping
    ((2, 2, 10, 9), 2, 3, F64),        # gaps between windows
    ((3, 4, 6, 6), 3, None, F32),
]


def _pool_label(shape, k, s, dtype, extra=""):
    return f"x {shape}, kernel {k}, stride {s if s is not None else 'None (= kernel)'}, {str(dtype)[6:]}{extra}"


@check("pool2d_forward", hint="stride=None means stride = kernel_size; windows never pad; mode 'avg' is the "
                              "mean of the k*k entries, mode 'max' their maximum.")
def _pool2d_forward_cases():
    for i, (shape, k, s, dtype) in enumerate(_POOL_CONFIGS):
        x = _randn(_gen(800 + i), *shape, dtype=dtype)
        stride = k if s is None else s
        yield Case(_pool_label(shape, k, s, dtype, ", max"), (x, k, s, "max"), expected=F.max_pool2d(x, k, stride))
        yield Case(_pool_label(shape, k, s, dtype, ", avg"), (x, k, s, "avg"), expected=F.avg_pool2d(x, k, stride))
    x = _randn(_gen(810), 2, 3, 6, 6)
    yield Case("default arguments: kernel 3, max", (x, 3), expected=F.max_pool2d(x, 3))


def _pool_grad(fn, x, k, stride, dout):
    xr = x.clone().requires_grad_()
    fn(xr, k, stride).backward(dout)
    return xr.grad


def _pool_backward_cases(seed, fn, with_ties):
    for i, (shape, k, s, dtype) in enumerate(_POOL_CONFIGS):
        g = _gen(seed + i)
        x = _randn(g, *shape, dtype=dtype)
        stride = k if s is None else s
        out_shape = fn(x, k, stride).shape
        dout = _randn(g, *out_shape, dtype=dtype)
        yield Case(_pool_label(shape, k, s, dtype, ", random dout vs autograd"), (dout, x, k, s),
                   expected=_pool_grad(fn, x, k, stride, dout))
    if with_ties:
        for i, (shape, k, s, dtype) in enumerate(_POOL_CONFIGS[:4]):
            g = _gen(seed + 20 + i)
            x = torch.randint(0, 3, shape, generator=g).to(dtype)  # many ties for the maximum
            stride = k if s is None else s
            dout = _randn(g, *fn(x, k, stride).shape, dtype=dtype)
            yield Case(_pool_label(shape, k, s, dtype, ", integer input with many ties (first max wins) vs autograd"),
                       (dout, x, k, s), expected=_pool_grad(fn, x, k, stride, dout))
        x = torch.zeros(1, 2, 4, 4, dtype=F64)
        dout = _randn(_gen(seed + 30), 1, 2, 2, 2)
        yield Case("all-zero input (after a ReLU): each window's gradient goes to its top-left entry",
                   (dout, x, 2, None), expected=_pool_grad(fn, x, 2, 2, dout))


@check("max_pool2d_backward", by_hand=True,
       hint="A window's maximum moves only with the entry it routes to (max_pool2d_routing), and by as much; an "
            "input in several overlapping windows is on several paths to the loss.")
def _max_pool2d_backward_cases():
    yield from _pool_backward_cases(820, F.max_pool2d, with_ties=True)


@check("avg_pool2d_backward", by_hand=True,
       hint="The mean of a window depends on each of its k * k entries with the same weight; an input in several "
            "overlapping windows is on several paths to the loss.")
def _avg_pool2d_backward_cases():
    yield from _pool_backward_cases(860, F.avg_pool2d, with_ties=False)


def _routing_expected(x, k, s):
    xr = x.clone().requires_grad_()
    y = F.max_pool2d(xr, k, k if s is None else s)
    y.backward(torch.ones_like(y))
    return xr.grad


@check("max_pool2d_routing", by_hand=True,
       hint="Each window picks ONE entry, its first maximum in row-major order; an entry picked by several "
            "overlapping windows counts each of them.")
def _max_pool2d_routing_cases():
    for i, (shape, k, s, dtype) in enumerate(_POOL_CONFIGS):
        x = _randn(_gen(1820 + i), *shape, dtype=dtype)
        yield Case(_pool_label(shape, k, s, dtype), (x, k, s), expected=_routing_expected(x, k, s))
    for i, (shape, k, s, dtype) in enumerate(_POOL_CONFIGS[:4]):
        x = torch.randint(0, 3, shape, generator=_gen(1840 + i)).to(dtype)
        yield Case(_pool_label(shape, k, s, dtype, ", integer input with many ties (first max wins)"), (x, k, s),
                   expected=_routing_expected(x, k, s))
    x = torch.zeros(1, 2, 4, 4, dtype=F64)
    yield Case("all-zero input (after a ReLU): each window picks its top-left entry", (x, 2),
               expected=_routing_expected(x, 2, None))


# -- concept questions ------------------------------------------------------------------------------------------

# The letter answers are judged as chapter 02's concept questions are.
from autograder.checks.ch02 import _answer_cases, _answer_compare  # noqa: E402

check("concept_receptive_field", compare=_answer_compare)(_answer_cases(ref.concept_receptive_field()))
check("concept_parameter_count", compare=_answer_compare)(_answer_cases(ref.concept_parameter_count()))
check("concept_equivariance", compare=_answer_compare)(_answer_cases(ref.concept_equivariance()))


# -- conv_transpose2d -------------------------------------------------------------------------------------------

@check("conv_transpose2d",
       hint="Stamp w[c] scaled by x[n, c, i, j] at offset (S i, S j) of an output of size (H - 1) S + kh, add "
            "overlapping stamps, crop `padding` on each side; w is (C_in, C_out, kh, kw) and is not flipped.")
def _conv_transpose2d_cases():
    configs = [((1, 1, 2, 2), (1, 1, 2, 2), 1, 0, False, F64), ((2, 3, 4, 5), (3, 2, 3, 3), 1, 0, True, F64),
               ((2, 3, 4, 4), (3, 3, 3, 3), 2, 1, True, F64),   # C_in == C_out
               ((2, 2, 3, 5), (2, 4, 3, 2), 3, 1, True, F64), ((1, 2, 5, 5), (2, 2, 4, 4), 2, 1, False, F64),
               ((2, 3, 3, 3), (3, 2, 1, 1), 2, 0, True, F64), ((2, 2, 4, 3), (2, 3, 5, 5), 1, 2, True, F64),
               ((3, 4, 4, 4), (4, 2, 3, 3), 2, 1, True, F32)]
    for i, (xs, ws, s, p, bias, dtype) in enumerate(configs):
        g = _gen(900 + i)
        x, w = _randn(g, *xs, dtype=dtype), _randn(g, *ws, dtype=dtype)
        b = _randn(g, ws[1], dtype=dtype) if bias else None
        yield Case(f"x {xs}, w {ws}, stride={s}, padding={p}, bias={bias}, {str(dtype)[6:]} vs F.conv_transpose2d",
                   (x, w, b), {"stride": s, "padding": p},
                   expected=F.conv_transpose2d(x, w, b, stride=s, padding=p))


# -- box_iou, nms -----------------------------------------------------------------------------------------------

def _iou_brute(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = torch.zeros(len(a), len(b), dtype=F64)
    for i, j in itertools.product(range(len(a)), range(len(b))):
        ax1, ay1, ax2, ay2 = a[i].tolist()
        bx1, by1, bx2, by2 = b[j].tolist()
        inter = max(0.0, min(ax2, bx2) - max(ax1, bx1)) * max(0.0, min(ay2, by2) - max(ay1, by1))
        union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
        out[i, j] = inter / union if union > 0 else 0.0
    return out.to(a.dtype)


def _random_boxes(g, n, dtype=F64, scale=10.0, size=4.0):
    xy = torch.rand(n, 2, generator=g, dtype=F64) * scale
    wh = torch.rand(n, 2, generator=g, dtype=F64) * size
    return torch.cat([xy, xy + wh], dim=1).to(dtype)


@check("box_iou", hint="Area = (x2 - x1) * (y2 - y1) (no +1); clamp the intersection's width and height at 0; "
                       "union = area1 + area2 - intersection; IoU 0 where the union is 0.")
def _box_iou_cases():
    g = _gen(950)
    for n, k, dtype in [(6, 5, F64), (8, 8, F64), (5, 7, F32)]:
        a, b = _random_boxes(g, n, dtype), _random_boxes(g, k, dtype)
        yield Case(f"{n} x {k} random boxes, {str(dtype)[6:]}", (a, b), expected=_iou_brute(a, b))
    a = torch.tensor([[0.0, 0.0, 4.0, 4.0], [1.0, 1.0, 2.0, 2.0], [0.0, 0.0, 4.0, 4.0]], dtype=F64)
    b = torch.tensor([[1.0, 1.0, 2.0, 2.0], [4.0, 0.0, 6.0, 4.0], [5.0, 5.0, 7.0, 8.0], [-2.0, -3.0, -1.0, -1.0],
                      [0.0, 0.0, 4.0, 4.0], [2.0, -1.0, 3.0, 5.0]], dtype=F64)
    yield Case("nested, touching, identical, far apart (also at negative coordinates), crossing boxes", (a, b),
               expected=_iou_brute(a, b))
    empty = torch.tensor([[1.0, 1.0, 1.0, 3.0], [2.0, 2.0, 2.0, 2.0]], dtype=F64)
    yield Case("zero-area boxes: IoU 0, also when both are empty", (empty, torch.cat([empty, a[:1]])),
               expected=torch.zeros(2, 3, dtype=F64))
    yield Case("no boxes on one side: shape (0, 3)", (torch.zeros(0, 4, dtype=F64), a),
               expected=torch.zeros(0, 3, dtype=F64))


def _nms_brute(boxes, scores, thr):
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    iou = _iou_brute(boxes.double(), boxes.double())
    keep = []
    for i in order:
        if all(iou[i, j] <= thr for j in keep):
            keep.append(i)
    return torch.tensor(keep, dtype=torch.long)


def _nms_compare(got, expected, case):
    if not torch.is_tensor(got):
        return f"nms should return a torch tensor of indices, got {type(got).__name__}."
    if got.dtype != torch.long:
        return f"nms should return int64 indices, got dtype {got.dtype}."
    if got.reshape(-1).tolist() != expected.tolist() or got.dim() != 1:
        return f"kept {got.tolist()}, expected {expected.tolist()} (kept indices by decreasing score)."
    return None


@check("nms", compare=_nms_compare,
       hint="Sort by decreasing score (stable); keep a box unless its IoU with an already KEPT box is strictly "
            "greater than the threshold; return the kept indices in the order kept.")
def _nms_cases():
    for i, (n, thr, dtype) in enumerate([(25, 0.5, F64), (40, 0.3, F64), (30, 0.7, F32), (20, 0.0, F64)]):
        g = _gen(970 + i)
        centers = torch.rand(4, 2, generator=g, dtype=F64) * 8
        idx = torch.randint(0, 4, (n,), generator=g)
        xy = centers[idx] + torch.randn(n, 2, generator=g, dtype=F64) * 0.5
        wh = 1.5 + torch.rand(n, 2, generator=g, dtype=F64)
        boxes = torch.cat([xy, xy + wh], 1).to(dtype)
        scores = torch.rand(n, generator=g, dtype=F64).to(dtype)
        yield Case(f"{n} clustered boxes, threshold {thr}, {str(dtype)[6:]}", (boxes, scores, thr),
                   expected=_nms_brute(boxes, scores, thr))
    chain = torch.tensor([[0.0, 0.0, 2.0, 2.0], [1.0, 0.0, 3.0, 2.0], [2.0, 0.0, 4.0, 2.0], [3.0, 0.0, 5.0, 2.0]],
                         dtype=F64)
    yield Case("a chain of four overlapping boxes, scores rising", (chain, torch.tensor([0.1, 0.2, 0.3, 0.4],
                                                                                           dtype=F64), 0.3),
               expected=torch.tensor([3, 1], dtype=torch.long))
    pair = torch.tensor([[0.0, 0.0, 3.0, 1.0], [1.0, 0.0, 4.0, 1.0]], dtype=F64)  # IoU exactly 0.5
    yield Case("IoU exactly equal to the threshold keeps both", (pair, torch.tensor([0.9, 0.8], dtype=F64), 0.5),
               expected=torch.tensor([0, 1], dtype=torch.long))
    same = torch.tensor([[0.0, 0.0, 1.0, 1.0]] * 3 + [[5.0, 5.0, 6.0, 6.0]], dtype=F64)
    yield Case("equal scores: the lower index wins", (same, torch.tensor([0.5, 0.5, 0.5, 0.5], dtype=F64), 0.5),
               expected=torch.tensor([0, 3], dtype=torch.long))
    yield Case("a single box", (same[:1], torch.tensor([0.3], dtype=F64), 0.5),
               expected=torch.tensor([0], dtype=torch.long))


# -- cnn_gradients (the stepping stone of the make-it-work task) ------------------------------------------------

def _cnn_expected(params, x, y):
    """Loss and gradients of the task's CNN by autograd, through torch's own layers (float64 oracle)."""
    leaves = {k: v.detach().clone().requires_grad_() for k, v in params.items()}
    h = F.max_pool2d(F.relu(F.conv2d(x, leaves["w1"], leaves["b1"], padding=1)), 2)
    h = F.relu(F.conv2d(h, leaves["w2"], leaves["b2"], padding=1))
    loss = F.cross_entropy(h.mean(dim=(2, 3)) @ leaves["W"] + leaves["b"], y)
    loss.backward()
    return loss.detach(), {k: v.grad for k, v in leaves.items()}


def _cnn_params(g, c_in, c1, c2, k, dtype=F64, scale=1.0):
    return {"w1": scale * _randn(g, c1, c_in, 3, 3, dtype=dtype), "b1": 0.1 * _randn(g, c1, dtype=dtype),
            "w2": scale * _randn(g, c2, c1, 3, 3, dtype=dtype) / c1 ** 0.5, "b2": 0.1 * _randn(g, c2, dtype=dtype),
            "W": _randn(g, c2, k, dtype=dtype), "b": 0.1 * _randn(g, k, dtype=dtype)}


@check("cnn_gradients", by_hand=True,
       hint="Go backward through the forward pass one layer at a time, each with its own backward: the average "
            "over positions shares its gradient equally among them, a ReLU passes it only where its input was "
            "positive, and the gradient a convolution sends to its input is the one the layer below needs.")
def _cnn_gradients_cases():
    from course.shifted_digits import load_shifted_digits

    g = _gen(7100)
    for i, (n, c_in, h, w, c1, c2, k) in enumerate([(4, 1, 8, 8, 3, 4, 10), (3, 1, 12, 12, 5, 6, 10),
                                                    (2, 2, 10, 6, 2, 3, 4), (5, 1, 7, 9, 4, 2, 3)]):
        x = _randn(g, n, c_in, h, w)
        y = torch.randint(0, k, (n,), generator=g)
        params = _cnn_params(g, c_in, c1, c2, k)
        yield Case(f"x {tuple(x.shape)}, C1={c1}, C2={c2}, {k} classes, float64, vs autograd", (params, x, y),
                   expected=_cnn_expected(params, x, y))
    X, labels, _, _ = load_shifted_digits(seed=71, dtype=F64)
    x, y = X[:6], labels[:6]
    params = _cnn_params(g, 1, 8, 16, 10, scale=0.5)
    yield Case("six wandering digits (12x12), C1=8, C2=16, float64, vs autograd", (params, x, y),
               expected=_cnn_expected(params, x, y))
    x = _randn(g, 3, 1, 8, 8, dtype=F32)
    y = torch.tensor([2, 0, 1])
    params = _cnn_params(g, 1, 3, 4, 3, dtype=F32)
    expected = _cnn_expected({k: v.double() for k, v in params.items()}, x.double(), y)
    yield Case("float32, x (3, 1, 8, 8), 3 classes", (params, x, y),
               expected=(expected[0].float(), {k: v.float() for k, v in expected[1].items()}))


# -- make it work: the student's CNN on wandering digits --------------------------------------------------------

CNN_TARGET = 0.6
"""Held-out accuracy the trained CNN must reach (the reference: 0.71 to 0.90 over 18 seeds and splits; a linear
classifier on the pixels: about 0.35; a backward pass with a flipped or transposed weight gradient: about 0.3)."""
CNN_MAX_CHANNELS = (16, 32)
_CNN_SPLITS = {3: 31, 4: 32}  # training seed -> the seed of the grader's split (its test part never leaves here)


def _cnn_probe(fn, case: Case):
    """In the kernel: train on the training part with one thread, send back only the weights."""
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        params = fn(*case.args, seed=case.spec["seed"])
    finally:
        torch.set_num_threads(n_threads)
    if not isinstance(params, dict):
        return {"params": None, "type": type(params).__name__}
    return {"params": {str(k): torch.as_tensor(v).detach().cpu().clone() for k, v in params.items()}, "type": "ok"}


def _cnn_compare(got, expected, case: Case):
    from course.shifted_digits import CNN_KEYS, cnn_accuracy, load_shifted_digits

    if not isinstance(got, dict) or got.get("params") is None:
        kind = got.get("type") if isinstance(got, dict) else type(got).__name__
        return f"train_digits_cnn should return a dict of tensors, got {kind}."
    params = got["params"]
    missing = [k for k in CNN_KEYS if k not in params]
    if missing:
        return f"the returned dict lacks {', '.join(map(repr, missing))}."
    c1 = params["w1"].shape[0] if params["w1"].dim() == 4 else -1
    c2 = params["w2"].shape[0] if params["w2"].dim() == 4 else -1
    shapes = {"w1": (c1, 1, 3, 3), "b1": (c1,), "w2": (c2, c1, 3, 3), "b2": (c2,), "W": (c2, 10), "b": (10,)}
    for k in CNN_KEYS:
        if tuple(params[k].shape) != shapes[k]:
            return f"params[{k!r}] has shape {tuple(params[k].shape)}, expected {shapes[k]} (C1 = {c1}, C2 = {c2})."
        if not params[k].is_floating_point() or not torch.isfinite(params[k]).all():
            return f"params[{k!r}] is not a tensor of finite floats (did the training diverge?)."
    if not (1 <= c1 <= CNN_MAX_CHANNELS[0] and 1 <= c2 <= CNN_MAX_CHANNELS[1]):
        return f"the network has C1 = {c1} and C2 = {c2} filters; at most {CNN_MAX_CHANNELS} are allowed."
    _, _, X_test, y_test = load_shifted_digits(seed=expected["split_seed"])
    accuracy = cnn_accuracy(params, X_test, y_test)
    if accuracy < expected["target"]:
        return (f"accuracy {accuracy:.3f} on {len(y_test)} held-out wandering digits, below the target "
                f"{expected['target']} (measured by the grader).")
    return None


@check("train_digits_cnn", compare=_cnn_compare, probe=_cnn_probe, by_hand=True,
       hint="Every piece it uses must be right (cnn_gradients passes its tests first); then the schedule: the "
            "notebook's Hint 2 gives one that works.")
def _train_digits_cnn_cases():
    from course.shifted_digits import load_shifted_digits

    for seed, split_seed in _CNN_SPLITS.items():
        X_train, y_train, _, _ = load_shifted_digits(seed=split_seed)
        yield Case(f"wandering digits (a train/test split of the grader's), seed {seed}: held-out accuracy >= "
                   f"{CNN_TARGET}", (X_train, y_train), expected={"split_seed": split_seed, "target": CNN_TARGET},
                   spec={"seed": seed})


# -- gram_matrix, style_loss ------------------------------------------------------------------------------------

# (N, C, H, W): channels and positions differ everywhere, so dividing by C, by C*H*W or by nothing is far off
_GRAM_SHAPES = [(1, 2, 3, 3), (2, 3, 4, 5), (3, 5, 2, 2), (2, 4, 1, 7), (1, 6, 3, 1)]


def _gram_oracle(f):
    n, c, h, w = f.shape
    return torch.einsum("nchw,ndhw->ncd", f, f) / (h * w)


@check("gram_matrix", reference=ref.gram_matrix,
       hint="G[n] is C x C: the products of every pair of channels, averaged over the H*W positions (not summed, "
            "not divided by the channels).")
def _gram_matrix_cases():
    g = _gen(7160)
    for shape in _GRAM_SHAPES:
        f = _randn(g, *shape)
        yield Case(f"features {shape}, float64", (f,), expected=_gram_oracle(f))
    f = _randn(g, 2, 3, 4, 4, dtype=F32)
    yield Case("features (2, 3, 4, 4), float32", (f,), expected=_gram_oracle(f.double()).float())
    f = torch.relu(_randn(g, 1, 4, 6, 6)) + 2.0
    yield Case("positive features (after a ReLU, shifted): large entries", (f,), expected=_gram_oracle(f))


def _style_expected(x, s):
    xr = x.detach().double().clone().requires_grad_()
    loss = ((_gram_oracle(xr) - _gram_oracle(s.double())) ** 2).sum()
    loss.backward()
    return loss.detach().to(x.dtype), xr.grad.to(x.dtype)


@check("style_loss", by_hand=True,
       hint="The loss sums the squared differences of the two Gram matrices (each normalised by its own map's "
            "positions); its gradient needs the square's factor and both places where F enters F F^T.")
def _style_loss_cases():
    g = _gen(7170)
    for shape, style_hw in [((1, 2, 3, 3), (3, 3)), ((2, 3, 4, 5), (6, 3)), ((3, 5, 2, 2), (4, 4)),
                            ((2, 4, 1, 7), (2, 3)), ((1, 6, 3, 1), (5, 5))]:
        x = _randn(g, *shape)
        s = _randn(g, shape[0], shape[1], *style_hw)
        yield Case(f"x {shape}, style map {tuple(s.shape)}, float64 vs autograd", (x, s), expected=_style_expected(x, s))
    x = _randn(g, 2, 3, 4, 4)
    yield Case("the style map is x itself: loss 0, gradient 0", (x, x.clone()), expected=_style_expected(x, x))
    x, s = _randn(g, 2, 3, 4, 4, dtype=F32), _randn(g, 2, 3, 5, 5, dtype=F32)
    yield Case("float32", (x, s), expected=_style_expected(x, s))


def _gram_backward_expected(dgram, f):
    fr = f.detach().double().clone().requires_grad_()
    (_gram_oracle(fr) * dgram.double()).sum().backward()
    return fr.grad.to(f.dtype)


@check("gram_backward", by_hand=True,
       hint="Each entry of F reaches the Gram matrix twice, through its row and through its column: both paths "
            "add, each divided by the number of positions. The upstream gradient need not be symmetric.")
def _gram_backward_cases():
    g = _gen(7165)
    for shape in _GRAM_SHAPES:
        f = _randn(g, *shape)
        dgram = _randn(g, shape[0], shape[1], shape[1])  # not symmetric: G's two paths differ
        yield Case(f"features {shape}, random dgram, float64 vs autograd", (dgram, f),
                   expected=_gram_backward_expected(dgram, f))
    f = _randn(g, 2, 3, 2, 4)
    upper = torch.triu(_randn(g, 2, 3, 3))
    yield Case("an upper-triangular dgram (the transposed path carries the rest)", (upper, f),
               expected=_gram_backward_expected(upper, f))
    f, dgram = _randn(g, 2, 4, 3, 3, dtype=F32), _randn(g, 2, 4, 4, dtype=F32)
    yield Case("float32", (dgram, f), expected=_gram_backward_expected(dgram, f))
