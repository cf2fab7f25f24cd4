"""Convolution, pooling, transposed convolution, and box overlap for detection (chapter 07).

Conventions of chapter 07 (Convolution, pooling, CNNs and their uses in vision), the same as
``torch.nn.functional``: images are ``(N, C, H, W)`` tensors (batch, channels, height, width);
convolution weights are ``(F, C, kh, kw)`` (out channels first); a "convolution" is a
**cross-correlation** (the kernel is not flipped); padding is zeros, the same on all four sides;
pooling has no padding and its stride defaults to the window size. Boxes are rows
``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2`` in continuous coordinates, so a box's area is
``(x2 - x1) * (y2 - y1)`` (no "+1" pixel convention).

Everything is vectorized: im2col is one copy of a strided view of the padded input, col2im adds
back one kernel tap at a time (``kh * kw`` strided slice additions, clipped to the unpadded image), and
the rest is matrix products; on the CPU a convolution layer runs them a few images at a time, so that
each step's columns are still in cache when the next stage reads them.
Both are several times faster than ``F.unfold``/``F.fold`` on the CPU; all of it runs unchanged on
CUDA tensors, in float32 and float64.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "conv_output_size",
    "conv2d_naive",
    "im2col",
    "conv2d_forward",
    "conv2d_weight_grad",
    "conv2d_backward",
    "pool2d_forward",
    "max_pool2d_routing",
    "max_pool2d_backward",
    "avg_pool2d_backward",
    "conv_transpose2d",
    "box_iou",
    "nms",
    "concept_receptive_field",
    "concept_parameter_count",
    "concept_equivariance",
    "cnn_gradients",
    "train_digits_cnn",
    "gram_matrix",
    "gram_backward",
    "style_loss",
]


def _pair(v) -> tuple[int, int]:
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    r"""Length of a convolution's (or pooling's) output along one spatial dimension.

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision).

    A kernel of size :math:`K` dilated by :math:`D` spans :math:`D(K-1)+1` input positions; it fits
    into the padded input of length :math:`H + 2P` at the offsets :math:`0, S, 2S, \dots`, hence

    .. math:: H_\text{out} = \left\lfloor \frac{H + 2P - D(K-1) - 1}{S} \right\rfloor + 1 .

    Args:
        size: input length ``H`` (an int).
        kernel_size: ``K``.
        stride: ``S`` (default 1).
        padding: ``P`` zeros added at each end (default 0).
        dilation: ``D``, the spacing between kernel taps (default 1).

    Returns:
        The output length, a Python int (0 or less when the kernel does not fit).

    Example::

        >>> conv_output_size(32, 5, stride=1, padding=2)
        32
        >>> conv_output_size(7, 3, stride=2, padding=1)
        4
    """
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def conv2d_naive(x, w, b, stride=1, padding=0):
    r"""2-D cross-correlation by summing over the kernel taps (what ``F.conv2d`` computes).

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision).

    .. math:: y_{n f i j} = b_f + \sum_{c, p, q} w_{f c p q}\, \bar x_{n, c, S i + p, S j + q},

    with :math:`\bar x` the zero-padded input. This version loops over the ``kh * kw`` kernel taps
    (a few), each a strided slice of the padded input contracted with one column of the weights.

    Args:
        x: input, shape ``(N, C, H, W)``.
        w: weights, shape ``(F, C, kh, kw)``.
        b: bias, shape ``(F,)`` (None is accepted and means no bias).
        stride: step of the window in both directions.
        padding: zeros added on each side of both spatial dimensions.

    Returns:
        Output of shape ``(N, F, H_out, W_out)`` (see :func:`conv_output_size`).

    Example::

        >>> x = torch.arange(9.0).reshape(1, 1, 3, 3)
        >>> conv2d_naive(x, torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]]), None)
        tensor([[[[-4., -4.],
                  [-4., -4.]]]])
    """
    kh, kw = w.shape[-2:]
    xp = F.pad(x, (padding, padding, padding, padding))
    ho = conv_output_size(x.shape[2], kh, stride, padding)
    wo = conv_output_size(x.shape[3], kw, stride, padding)
    out = x.new_zeros(x.shape[0], w.shape[0], ho, wo)
    for p in range(kh):
        for q in range(kw):
            patch = xp[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride]
            out = out + torch.einsum("nchw,fc->nfhw", patch, w[:, :, p, q])
    if b is not None:
        out = out + b.view(1, -1, 1, 1)
    return out


def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    r"""Unroll every receptive field of ``x`` into a column (im2col), like ``F.unfold``.

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision).

    Column ``l = i * W_out + j`` holds the window whose top-left corner is at ``(S i, S j)`` in the
    padded input; its rows run over ``(c, p, q)`` in that order (channel slowest, kernel column
    fastest): row ``c * kh * kw + p * kw + q`` is :math:`\bar x_{c, S i + D p, S j + D q}`.

    Args:
        x: input, shape ``(N, C, H, W)``.
        kernel_size: ``kh`` (square) or a pair ``(kh, kw)``.
        stride, padding, dilation: as in ``F.conv2d`` (ints, same in both directions).

    Returns:
        Columns of shape ``(N, C * kh * kw, H_out * W_out)``.

    Example::

        >>> im2col(torch.arange(9.0).reshape(1, 1, 3, 3), 2)
        tensor([[[0., 1., 3., 4.],
                 [1., 2., 4., 5.],
                 [3., 4., 6., 7.],
                 [4., 5., 7., 8.]]])
    """
    fields = _receptive_fields(x, _pair(kernel_size), stride, padding, dilation)
    n, c, kh, kw, ho, wo = fields.shape
    return fields.reshape(n, c * kh * kw, ho * wo)


def _receptive_fields(x, kernel_size, stride=1, padding=0, dilation=1):
    """The windows of :func:`im2col` as a strided view ``(N, C, kh, kw, H_out, W_out)`` of the padded input
    (no copy of the windows; only the padding, when there is some, copies ``x``)."""
    kh, kw = kernel_size
    if padding:
        x = F.pad(x, (padding, padding, padding, padding))
    n, c, h, w = x.shape
    ho = (h - dilation * (kh - 1) - 1) // stride + 1
    wo = (w - dilation * (kw - 1) - 1) // stride + 1
    sn, sc, sh, sw = x.stride()
    return x.as_strided((n, c, kh, kw, ho, wo),
                        (sn, sc, sh * dilation, sw * dilation, sh * stride, sw * stride), x.storage_offset())


def _tap_range(offset, stride, padding, n_out, size):
    """The output indices ``i`` whose tap at kernel offset ``offset`` lands inside the unpadded input,
    ``0 <= offset + stride * i - padding < size``, as the closed range ``(lo, hi)`` (empty when ``lo > hi``)."""
    return max(0, -((offset - padding) // stride)), min(n_out - 1, (size - 1 + padding - offset) // stride)


def _col2im_add_(image, cols, kernel_size, stride=1, padding=0):
    """Add the adjoint of :func:`im2col` of ``cols`` onto ``image`` in place and return ``image``.

    ``cols`` of shape ``(N, C * kh * kw, H_out * W_out)``, ``image`` of shape ``(N, C, H, W)`` (any strides).
    One strided slice addition per kernel tap; every tap is clipped to the unpadded image, so the
    entries that would land in the zero padding are simply not added (no padded buffer, no crop).
    """
    kh, kw = _pair(kernel_size)
    n, c, h, w = image.shape
    ho, wo = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    taps = cols.reshape(n, c, kh, kw, ho, wo)
    for p in range(kh):
        i0, i1 = _tap_range(p, stride, padding, ho, h)
        if i0 > i1:
            continue
        y0 = p + stride * i0 - padding
        for q in range(kw):
            j0, j1 = _tap_range(q, stride, padding, wo, w)
            if j0 > j1:
                continue
            x0 = q + stride * j0 - padding
            image[:, :, y0:y0 + stride * (i1 - i0) + 1:stride, x0:x0 + stride * (j1 - j0) + 1:stride] += \
                taps[:, :, p, q, i0:i1 + 1, j0:j1 + 1]
    return image


def _col2im(cols, size, kernel_size, stride=1, padding=0):
    """The adjoint of :func:`im2col` (like ``F.fold``): add every column's entries back onto the image.

    ``cols`` of shape ``(N, C * kh * kw, H_out * W_out)`` -> image of shape ``(N, C, H, W)`` with ``size = (H, W)``.
    One strided slice addition per kernel tap, so overlapping windows accumulate; the taps falling into
    the padding are dropped.
    """
    kh, kw = _pair(kernel_size)
    n, c = cols.shape[0], cols.shape[1] // (kh * kw)
    return _col2im_add_(cols.new_zeros(n, c, *size), cols, (kh, kw), stride, padding)


# Elements of the (N, C * kh * kw, L) columns that conv2d_forward and conv2d_backward handle in one step
# on the CPU (16 MB in float32): each step's columns are made, multiplied and scattered back while much
# of them is still in the last-level cache, instead of streaming the whole batch's columns through memory
# once per stage. Smaller steps lose more to per-call overhead than they gain (measured with
# benchmarks/run.py on a 2-core machine with 32 MB of cache). On other devices the whole batch is one step.
_CHUNK_ELEMENTS = 1 << 22


def _batch_slices(n, elements_per_image, device):
    """Split ``range(n)`` into near-equal slices of at most ``_CHUNK_ELEMENTS`` column elements each
    (at least one image per slice); a single slice off the CPU."""
    if device.type != "cpu":
        return [slice(0, n)]
    steps = max(1, min(n, -(-n * elements_per_image // _CHUNK_ELEMENTS)))
    size = max(1, -(-n // steps))
    return [slice(start, min(n, start + size)) for start in range(0, n, size)]


def conv2d_forward(x, w, b, stride=1, padding=0):
    r"""Convolution layer forward pass as one matrix product, keeping what the backward pass needs.

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision).

    With the columns :math:`X_\text{col} = \text{im2col}(x)` of shape ``(N, C kh kw, L)`` and the weights
    flattened to :math:`W_\text{row}` of shape ``(F, C kh kw)``, the output is
    :math:`W_\text{row} X_\text{col} + b`, reshaped to ``(N, F, H_out, W_out)``. On the CPU the batch goes
    through a few images at a time (each step's columns made, then multiplied while still in cache); on
    other devices in one step.

    Args:
        x: input, shape ``(N, C, H, W)``.
        w: weights, shape ``(F, C, kh, kw)``.
        b: bias, shape ``(F,)``.
        stride, padding: ints, the same in both directions.

    Returns:
        ``(out, cache)``: ``out`` of shape ``(N, F, H_out, W_out)`` and the tuple
        ``cache = (x, w, b, stride, padding, cols)`` with ``cols = im2col(x, (kh, kw), stride, padding)``
        of shape ``(N, C * kh * kw, H_out * W_out)``.

    Example::

        >>> x = torch.arange(9.0).reshape(1, 1, 3, 3)
        >>> out, cache = conv2d_forward(x, torch.ones(1, 1, 2, 2), torch.tensor([0.5]))
        >>> out
        tensor([[[[ 8.5000, 12.5000],
                  [20.5000, 24.5000]]]])
    """
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    ho = conv_output_size(h, kh, stride, padding)
    wo = conv_output_size(wd, kw, stride, padding)
    cols = x.new_empty(n, c * kh * kw, ho * wo)
    out = x.new_empty(n, f, ho * wo)
    w_row, bias = w.reshape(f, -1), b.view(1, f, 1)
    fields = _receptive_fields(x, (kh, kw), stride, padding)
    for part in _batch_slices(n, cols.shape[1] * cols.shape[2], x.device):  # a few images at a time
        cols[part].view(fields[part].shape).copy_(fields[part])  # im2col of these images
        torch.baddbmm(bias, w_row.expand(len(cols[part]), -1, -1), cols[part], out=out[part])  # b + W_row @ cols
    return out.view(n, f, ho, wo), (x, w, b, stride, padding, cols)


def conv2d_backward(dout, cache):
    r"""Gradients of a convolution layer with respect to its input, weights and bias.

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision).

    With :math:`\delta` = ``dout`` flattened to ``(N, F, L)``:
    :math:`\partial L/\partial b_f = \sum_{n,l} \delta_{nfl}`,
    :math:`\partial L/\partial W_\text{row} = \sum_n \delta_n X_{\text{col},n}^\top` and
    :math:`\partial L/\partial X_\text{col} = W_\text{row}^\top \delta`, which col2im (``F.fold``, here a per-tap strided addition) scatters
    back onto the input, adding the overlapping windows and dropping what falls into the padding. On the
    CPU all of it runs a few images at a time (as in :func:`conv2d_forward`), the input-gradient columns
    of each step written into one reused buffer, so the ``(N, C kh kw, L)`` input-gradient columns never
    exist all at once.

    Args:
        dout: upstream gradient, shape ``(N, F, H_out, W_out)``.
        cache: the tuple ``(x, w, b, stride, padding, cols)`` made by :func:`conv2d_forward`.

    Returns:
        ``(dx, dw, db)`` with the shapes of ``x``, ``w`` and ``b``.

    Example::

        >>> x = torch.arange(9.0).reshape(1, 1, 3, 3)
        >>> out, cache = conv2d_forward(x, torch.ones(1, 1, 2, 2), torch.zeros(1))
        >>> dx, dw, db = conv2d_backward(torch.ones_like(out), cache)
        >>> dx
        tensor([[[[1., 2., 1.],
                  [2., 4., 2.],
                  [1., 2., 1.]]]])
        >>> dw, db
        (tensor([[[[ 8., 12.],
                  [20., 24.]]]]), tensor([4.]))
    """
    x, w, b, stride, padding, cols = cache
    n, f = dout.shape[:2]
    kh, kw = w.shape[-2:]
    d = dout.reshape(n, f, -1)
    db = d.sum(dim=(0, 2))
    w_t = w.reshape(f, -1).t()
    dw = w.new_zeros(w_t.shape[::-1])
    dx = x.new_zeros(x.shape)
    buffer = None  # the input-gradient columns of one step, reused by the next
    for part in _batch_slices(n, cols.shape[1] * cols.shape[2], x.device):
        dw += torch.matmul(d[part], cols[part].transpose(1, 2)).sum(dim=0)
        if buffer is None:
            buffer = dcols = torch.matmul(w_t, d[part])
        else:
            dcols = torch.matmul(w_t, d[part], out=buffer[:len(d[part])])
        _col2im_add_(dx[part], dcols, (kh, kw), stride, padding)
    return dx, dw.view_as(w), db


def _windows(x: Tensor, kernel_size: int, stride: int) -> Tensor:
    """(N, C, H, W) -> (N * C, k * k, L): the pooling windows of every channel, one per column."""
    n, c, h, w = x.shape
    return im2col(x.reshape(n * c, 1, h, w), kernel_size, stride)


def pool2d_forward(x, kernel_size, stride=None, mode="max"):
    r"""Max or average pooling over ``kernel_size x kernel_size`` windows, without padding.

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision).

    Args:
        x: input, shape ``(N, C, H, W)``.
        kernel_size: ``k``, the side of the square window.
        stride: step of the window (default: ``kernel_size``, non-overlapping windows).
        mode: ``"max"`` (like ``F.max_pool2d``) or ``"avg"`` (like ``F.avg_pool2d``).

    Returns:
        Output of shape ``(N, C, H_out, W_out)`` with ``H_out = (H - k) // stride + 1``.

    Example::

        >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
        >>> pool2d_forward(x, 2)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
        >>> pool2d_forward(x, 2, mode="avg")
        tensor([[[[ 2.5000,  4.5000],
                  [10.5000, 12.5000]]]])
    """
    stride = kernel_size if stride is None else stride
    n, c, h, w = x.shape
    ho, wo = conv_output_size(h, kernel_size, stride), conv_output_size(w, kernel_size, stride)
    cols = _windows(x, kernel_size, stride)
    if mode == "max":
        out = cols.amax(dim=1)
    elif mode == "avg":
        out = cols.mean(dim=1)
    else:
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    return out.view(n, c, ho, wo)


def max_pool2d_backward(dout, x, kernel_size, stride=None):
    r"""Gradient of max pooling with respect to its input.

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision).

    Each window passes its upstream gradient to the one input that was its maximum; where several
    entries tie for the maximum, the **first in row-major order** inside the window gets it all (the
    rule of ``torch.argmax`` and of ``F.max_pool2d``). Overlapping windows add their contributions.

    Args:
        dout: upstream gradient, shape ``(N, C, H_out, W_out)``.
        x: the input of the forward pass, shape ``(N, C, H, W)``.
        kernel_size, stride: as in :func:`pool2d_forward`.

    Returns:
        ``dx``, shape ``(N, C, H, W)``.

    Example::

        >>> x = torch.tensor([[[[1.0, 3.0], [3.0, 0.0]]]])
        >>> max_pool2d_backward(torch.tensor([[[[5.0]]]]), x, 2)
        tensor([[[[0., 5.],
                  [0., 0.]]]])
    """
    stride = kernel_size if stride is None else stride
    n, c, h, w = x.shape
    cols = _windows(x, kernel_size, stride)
    idx = cols.argmax(dim=1, keepdim=True)
    dcols = torch.zeros_like(cols).scatter_(1, idx, dout.reshape(n * c, 1, -1))
    return _col2im(dcols, (h, w), kernel_size, stride).view(n, c, h, w)


def avg_pool2d_backward(dout, x, kernel_size, stride=None):
    r"""Gradient of average pooling with respect to its input.

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision).

    Every input in a window receives ``1 / k**2`` of that window's upstream gradient; overlapping
    windows add their contributions, and inputs outside every window get 0.

    Args:
        dout: upstream gradient, shape ``(N, C, H_out, W_out)``.
        x: the input of the forward pass (only its shape, dtype and device are used), ``(N, C, H, W)``.
        kernel_size, stride: as in :func:`pool2d_forward`.

    Returns:
        ``dx``, shape ``(N, C, H, W)``.

    Example::

        >>> avg_pool2d_backward(torch.tensor([[[[4.0]]]]), torch.zeros(1, 1, 3, 3), 2)
        tensor([[[[1., 1., 0.],
                  [1., 1., 0.],
                  [0., 0., 0.]]]])
    """
    stride = kernel_size if stride is None else stride
    n, c, h, w = x.shape
    k2 = kernel_size * kernel_size
    dcols = (dout.reshape(n * c, 1, -1) / k2).expand(n * c, k2, dout.shape[2] * dout.shape[3])
    return _col2im(dcols, (h, w), kernel_size, stride).view(n, c, h, w)


def conv_transpose2d(x, w, b=None, stride=1, padding=0):
    r"""Transposed convolution (like ``F.conv_transpose2d``): the adjoint of a convolution's input map.

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision).

    Every input pixel ``x[n, c, i, j]`` stamps a copy of the kernel ``w[c]``, scaled by itself, onto
    the output at offset ``(S i - P, S j - P)``; overlapping stamps add, and stamps falling into the
    ``P`` cropped border rows and columns are dropped. The output size is
    ``H_out = (H - 1) * S - 2 P + kh``.

    Args:
        x: input, shape ``(N, C_in, H, W)``.
        w: weights, shape ``(C_in, C_out, kh, kw)`` (**in** channels first, torch's layout for this op).
        b: bias, shape ``(C_out,)``, or None.
        stride, padding: ints, the same in both directions.

    Returns:
        Output of shape ``(N, C_out, H_out, W_out)``.

    Example::

        >>> t = torch.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
        >>> conv_transpose2d(t, t)
        tensor([[[[ 0.,  0.,  1.],
                  [ 0.,  4.,  6.],
                  [ 4., 12.,  9.]]]])
    """
    n, cin, h, wd = x.shape
    _, cout, kh, kw = w.shape
    ho = (h - 1) * stride - 2 * padding + kh
    wo = (wd - 1) * stride - 2 * padding + kw
    cols = torch.matmul(w.reshape(cin, -1).t(), x.reshape(n, cin, h * wd))
    out = _col2im(cols, (ho, wo), (kh, kw), stride, padding)
    if b is not None:
        out = out + b.view(1, -1, 1, 1)
    return out


def box_iou(boxes1, boxes2):
    r"""Intersection over union of every pair of boxes.

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision).

    Boxes are ``(x1, y1, x2, y2)`` in continuous coordinates, area ``(x2 - x1) * (y2 - y1)``. The
    intersection of two boxes is the box ``(max x1, max y1, min x2, min y2)`` with its sides clamped at
    0; the union is ``area1 + area2 - intersection``. A pair whose union is 0 (two empty boxes) gets
    IoU 0.

    Args:
        boxes1: shape ``(M, 4)``.
        boxes2: shape ``(K, 4)``.

    Returns:
        IoU matrix of shape ``(M, K)``, entries in ``[0, 1]``.

    Example::

        >>> box_iou(torch.tensor([[0.0, 0.0, 2.0, 2.0]]), torch.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0]]))
        tensor([[0.1429, 1.0000]])
    """
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    lo = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    hi = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = (hi - lo).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = area1[:, None] + area2[None, :] - inter
    safe = torch.where(union > 0, union, torch.ones_like(union))
    return torch.where(union > 0, inter / safe, torch.zeros_like(union))


def nms(boxes, scores, iou_threshold):
    r"""Greedy non-maximum suppression.

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision).

    Visit the boxes by decreasing score (equal scores: lower index first); keep a box unless its IoU
    with an already **kept** box is strictly greater than ``iou_threshold``. The IoU matrix is computed
    once, vectorized; the greedy pass itself is sequential by nature.

    Args:
        boxes: shape ``(B, 4)``, rows ``(x1, y1, x2, y2)``.
        scores: shape ``(B,)``.
        iou_threshold: a float in ``[0, 1]``.

    Returns:
        The indices of the kept boxes (int64, shape ``(k,)``), by decreasing score.

    Example::

        >>> boxes = torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.1, 0.0, 2.1, 2.0], [3.0, 3.0, 4.0, 4.0]])
        >>> nms(boxes, torch.tensor([0.6, 0.9, 0.5]), 0.5)
        tensor([1, 2])
    """
    order = torch.sort(scores, descending=True, stable=True).indices
    iou = box_iou(boxes, boxes).cpu()
    order_cpu = order.cpu()
    removed = torch.zeros(boxes.shape[0], dtype=torch.bool)
    keep = []
    for i in order_cpu.tolist():
        if removed[i]:
            continue
        keep.append(i)
        removed |= iou[i] > iou_threshold
    return torch.tensor(keep, dtype=torch.long, device=boxes.device)


def conv2d_weight_grad(x, dout_f, kernel_size, stride=1, padding=0):
    r"""Gradient of a loss with respect to the weights of one filter of a convolution.

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision), as the stepping stone of
    the convolution's backward pass:
    :math:`\partial L/\partial w_{f c p q} = \sum_{n, i, j} \delta_{n f i j}\, \bar x_{n, c, S i + p, S j + q}`,
    a cross-correlation of the padded input with the filter's upstream gradient (no flip).

    Args:
        x: input, shape ``(N, C, H, W)``.
        dout_f: upstream gradient of the filter's output channel, shape ``(N, H_out, W_out)``.
        kernel_size: pair ``(kh, kw)``.
        stride: the convolution's stride.
        padding: the convolution's zero padding.

    Returns:
        Tensor of shape ``(C, kh, kw)``.

    Example:
        >>> x = torch.arange(9.0).reshape(1, 1, 3, 3)
        >>> conv2d_weight_grad(x, torch.tensor([[[1.0, 0.0], [0.0, 0.0]]]), (2, 2)).tolist()
        [[[0.0, 1.0], [3.0, 4.0]]]
    """
    kh, kw = _pair(kernel_size)
    n, ho, wo = dout_f.shape
    cols = im2col(x, (kh, kw), stride, padding)  # (N, C*kh*kw, L)
    return torch.einsum("nkl,nl->k", cols, dout_f.reshape(n, ho * wo)).reshape(x.shape[1], kh, kw)


def max_pool2d_routing(x, kernel_size, stride=None):
    r"""How many max-pooling windows route their gradient to each input.

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision), as the stepping stone of
    max pooling's backward pass. Each ``k x k`` window (no padding, stride defaulting to ``k``) routes its
    gradient to its first maximal entry in row-major order (torch's rule for ties); the result counts, for
    every input, the windows that chose it. It equals :func:`max_pool2d_backward` with ``dout`` all ones.

    Args:
        x: forward input, shape ``(N, C, H, W)``.
        kernel_size: int ``k``.
        stride: int, default ``kernel_size``.

    Returns:
        Tensor of the shape and dtype of ``x`` with entries ``0, 1, 2, ...``.

    Example:
        >>> max_pool2d_routing(torch.tensor([[[[1.0, 2.0], [2.0, 0.0]]]]), 2).tolist()
        [[[[0.0, 1.0], [0.0, 0.0]]]]
    """
    k = int(kernel_size)
    stride = k if stride is None else int(stride)
    n, c, h, wd = x.shape
    ho, wo = (h - k) // stride + 1, (wd - k) // stride + 1
    return max_pool2d_backward(x.new_ones(n, c, ho, wo), x, k, stride)


def concept_receptive_field():
    """Concept question of chapter 07: the receptive field of conv 3x3, conv 3x3, max pool 2x2 (stride 2), conv 3x3.

    Example::

        >>> concept_receptive_field()
        'c'
    """
    return "c"


def concept_parameter_count():
    """Concept question of chapter 07: the parameters of a 3x3 convolution from 64 to 128 channels.

    Example::

        >>> concept_parameter_count()
        'a'
    """
    return "a"


def concept_equivariance():
    """Concept question of chapter 07: a shifted input, a convolution's feature map and a max pool after it.

    Example::

        >>> concept_equivariance()
        'b'
    """
    return "b"


def cnn_gradients(params, x, y):
    r"""Loss and gradients of chapter 07's small CNN, built from the chapter's layers.

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision), as the stepping stone of the
    make-it-work task. The network: :func:`conv2d_forward` (3x3, stride 1, padding 1) → ReLU →
    :func:`pool2d_forward` (2x2 max) → :func:`conv2d_forward` (3x3, padding 1) → ReLU → the average over all
    positions of each channel → the logits ``feat @ W + b``; the loss is the mean softmax cross-entropy
    (computed with a log-sum-exp). The backward pass chains :func:`conv2d_backward` and
    :func:`max_pool2d_backward`; ReLU passes the gradient where its input was strictly positive.

    Args:
        params: dict of tensors ``"w1"`` ``(C1, C, 3, 3)``, ``"b1"`` ``(C1,)``, ``"w2"`` ``(C2, C1, 3, 3)``,
            ``"b2"`` ``(C2,)``, ``"W"`` ``(C2, K)``, ``"b"`` ``(K,)``.
        x: images, shape ``(N, C, H, W)``.
        y: labels in ``0..K-1``, shape ``(N,)``, int64.

    Returns:
        ``(loss, grads)``: the loss as a 0-dim tensor of ``x``'s dtype and a dict with the keys and shapes of
        ``params``.

    Example::

        >>> g = torch.Generator().manual_seed(0)
        >>> params = {"w1": torch.randn(2, 1, 3, 3, generator=g), "b1": torch.zeros(2),
        ...           "w2": torch.randn(3, 2, 3, 3, generator=g), "b2": torch.zeros(3),
        ...           "W": torch.randn(3, 10, generator=g), "b": torch.zeros(10)}
        >>> loss, grads = cnn_gradients(params, torch.rand(4, 1, 8, 8, generator=g), torch.tensor([0, 1, 2, 3]))
        >>> tuple(grads["w2"].shape)
        (3, 2, 3, 3)
    """
    n = x.shape[0]
    a1, cache1 = conv2d_forward(x, params["w1"], params["b1"], 1, 1)
    r1 = a1.clamp(min=0)
    p1 = pool2d_forward(r1, 2)
    a2, cache2 = conv2d_forward(p1, params["w2"], params["b2"], 1, 1)
    r2 = a2.clamp(min=0)
    feat = r2.mean(dim=(2, 3))
    z = feat @ params["W"] + params["b"]
    log_probs = z - z.logsumexp(dim=1, keepdim=True)
    rows = torch.arange(n, device=x.device)
    loss = -log_probs[rows, y].mean()
    dz = log_probs.exp()
    dz[rows, y] -= 1.0
    dz = dz / n
    grads = {"W": feat.t() @ dz, "b": dz.sum(dim=0)}
    dr2 = (dz @ params["W"].t())[:, :, None, None].expand_as(r2) / (r2.shape[2] * r2.shape[3])
    dp1, grads["w2"], grads["b2"] = conv2d_backward(dr2 * (a2 > 0), cache2)
    dr1 = max_pool2d_backward(dp1, r1, 2)
    _, grads["w1"], grads["b1"] = conv2d_backward(dr1 * (a1 > 0), cache1)
    return loss, {k: grads[k] for k in params}


def train_digits_cnn(images, labels, seed=0, channels=(8, 16), steps=300, batch_size=64, lr=0.02):
    r"""Train chapter 07's small CNN (see :func:`cnn_gradients`) with Adam on random mini-batches.

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision): the make-it-work task, on
    digits pasted at random positions of a blank canvas (:func:`course.shifted_digits.load_shifted_digits`),
    where a linear classifier on the pixels fails and only the convolutions, averaged over positions, can
    carry the accuracy. He-scaled initial filters, zero biases, head weights of standard deviation
    :math:`1/\sqrt{C_2}`, all drawn from ``torch.Generator().manual_seed(seed)``, which also draws the batches;
    Adam with betas (0.9, 0.999) and its bias correction.

    Args:
        images: training images, shape ``(N, 1, H, W)``, float.
        labels: digits ``0..9``, shape ``(N,)``.
        seed: seeds every random draw.
        channels: ``(C1, C2)``, the filters of the two convolutions.
        steps, batch_size, lr: the schedule.

    Returns:
        dict of tensors ``"w1"`` ``(C1, 1, 3, 3)``, ``"b1"``, ``"w2"`` ``(C2, C1, 3, 3)``, ``"b2"``,
        ``"W"`` ``(C2, 10)``, ``"b"`` ``(10,)``, in ``images``' dtype.

    Example::

        >>> from course.shifted_digits import cnn_accuracy, load_shifted_digits
        >>> X_train, y_train, X_test, y_test = load_shifted_digits(seed=0)
        >>> cnn_accuracy(train_digits_cnn(X_train, y_train, seed=0), X_test, y_test) > 0.8
        True
    """
    import math

    g = torch.Generator().manual_seed(seed)
    c1, c2 = channels
    dtype = images.dtype
    params = {"w1": torch.randn(c1, images.shape[1], 3, 3, generator=g, dtype=dtype) * math.sqrt(2 / (9 * images.shape[1])),
              "b1": torch.zeros(c1, dtype=dtype),
              "w2": torch.randn(c2, c1, 3, 3, generator=g, dtype=dtype) * math.sqrt(2 / (9 * c1)),
              "b2": torch.zeros(c2, dtype=dtype),
              "W": torch.randn(c2, 10, generator=g, dtype=dtype) / math.sqrt(c2),
              "b": torch.zeros(10, dtype=dtype)}
    m = {k: torch.zeros_like(v) for k, v in params.items()}
    v = {k: torch.zeros_like(p) for k, p in params.items()}
    for step in range(1, steps + 1):
        idx = torch.randint(0, images.shape[0], (batch_size,), generator=g)
        _, grads = cnn_gradients(params, images[idx], labels[idx])
        for k in params:
            m[k] = 0.9 * m[k] + 0.1 * grads[k]
            v[k] = 0.999 * v[k] + 0.001 * grads[k] * grads[k]
            params[k] = params[k] - lr * (m[k] / (1 - 0.9 ** step)) / ((v[k] / (1 - 0.999 ** step)).sqrt() + 1e-8)
    return params


def gram_matrix(features):
    r"""Gram matrices of feature maps, normalised by the number of positions (the style of a feature map).

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision), after the notes' style
    transfer (Gatys et al.). With the map of image ``n`` flattened to :math:`F_n` of shape ``(C, M)``,
    :math:`M = H W`, the Gram matrix is :math:`G_n = F_n F_n^\top / M`: entry :math:`(c, c')` is the average over
    positions of the product of channels :math:`c` and :math:`c'`. Dividing by the positions (not by the
    channels, nor by :math:`C M`) makes maps of different sizes comparable.

    Args:
        features: shape ``(N, C, H, W)``.

    Returns:
        Tensor of shape ``(N, C, C)``, symmetric.

    Example::

        >>> gram_matrix(torch.ones(1, 2, 3, 3))
        tensor([[[1., 1.],
                 [1., 1.]]])
    """
    n, c = features.shape[:2]
    flat = features.reshape(n, c, -1)
    return flat @ flat.transpose(1, 2) / flat.shape[2]



def gram_backward(dgram, features):
    r"""Gradient with respect to the feature maps, given the gradient on their Gram matrices.

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision), as the stepping stone of the
    style loss's gradient. With :math:`G_n = F_n F_n^\top / M` and an upstream gradient :math:`\Gamma_n =
    \partial L/\partial G_n` (any ``C x C`` matrix, not necessarily symmetric), :math:`F_n` enters the product
    twice, so :math:`\partial L/\partial F_n = (\Gamma_n + \Gamma_n^\top) F_n / M`.

    Args:
        dgram: upstream gradient, shape ``(N, C, C)``.
        features: the maps, shape ``(N, C, H, W)``.

    Returns:
        Tensor of the shape of ``features``.

    Example::

        >>> gram_backward(torch.ones(1, 1, 1), torch.ones(1, 1, 2, 2))
        tensor([[[[0.5000, 0.5000],
                  [0.5000, 0.5000]]]])
    """
    n, c, h, w = features.shape
    both = dgram + dgram.transpose(1, 2)
    return (both @ features.reshape(n, c, h * w) / (h * w)).reshape(features.shape)

def style_loss(features, style_features):
    r"""Style loss between two feature maps, and its gradient with respect to the first.

    Introduced in chapter 07 (Convolution, pooling, CNNs and their uses in vision).
    :math:`L = \sum_{n, c, c'} (G(x)_{n c c'} - G(s)_{n c c'})^2` with :func:`gram_matrix` (normalised by
    positions). With :math:`D_n = G(x)_n - G(s)_n` (symmetric) and :math:`X_n` the flattened map,
    :math:`\partial L / \partial X_n = 4 D_n X_n / M`.

    Args:
        features: the generated image's map ``x``, shape ``(N, C, H, W)``.
        style_features: the style image's map ``s``, shape ``(N, C, H', W')`` (any size).

    Returns:
        ``(loss, dfeatures)``: a 0-dim tensor and the gradient, shape of ``features``.

    Example::

        >>> loss, grad = style_loss(torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 3, 3))
        >>> loss, grad[0, 0]
        (tensor(1.), tensor([[1., 1.],
                [1., 1.]]))
    """
    n, c, h, w = features.shape
    diff = gram_matrix(features) - gram_matrix(style_features)
    grad = 4.0 * diff @ features.reshape(n, c, h * w) / (h * w)
    return (diff * diff).sum(), grad.reshape(features.shape)
