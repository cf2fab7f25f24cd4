# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · Convolution, pooling, CNNs and their uses in vision
#
# A fully connected layer on a $28 \times 28$ image learns a separate weight for every pair of pixel and
# hidden unit, and has no idea that neighbouring pixels belong together. A convolutional layer slides one
# small filter over the whole image instead: it looks at local patches only, uses the same weights
# everywhere, and so detects a pattern wherever it appears. In this chapter you build the layers of a
# convolutional network from scratch, check each against `torch.nn.functional`, and then look inside a
# small CNN trained on handwritten digits.
#
# **Learning goals**
# - Compute the output size of a convolution with padding, stride and dilation.
# - Implement a 2-D convolution three ways: with loops, as a matrix product over unrolled patches
#   (im2col), and, for the backward pass, as sums of products that are themselves convolutions.
# - Derive the gradients of a convolution with respect to its input, weights and bias (staged hints
#   lead the way), and implement them.
# - Implement max and average pooling, forward and backward, with an explicit rule for ties.
# - Reason about receptive fields, parameter counts, and translation equivariance versus invariance.
# - Implement the transposed convolution used to upsample in segmentation networks.
# - Compute the intersection over union of boxes and run non-maximum suppression, two steps of every
#   object detector.
# - Train a tiny CNN on the 8x8 digits and look at its filters and feature maps; then train your own CNN,
#   from your own layers, to read digits wherever they sit on a larger canvas.
# - Compute the Gram matrix of a feature map and derive the gradient of the style loss of style transfer.
#
# **Notes followed.** *CS 182/282A discussion worksheets*, discussion 3 (§2.1 the convolution
# (cross-correlation) operator, problem 4 on dimensions, §2.2 convolutions as matrix multiplication, §2.3
# the backward pass), discussion 4 (§1 CNN architectures: LeNet, VGG, ResNet) and discussion 5 (§1 vision
# tasks and IoU, §2 R-CNN, §3 transposed convolution and U-Net, §5 style transfer); the textbook's chapter 7 (§7.1
# convolution, §7.2 sparse interactions, parameter sharing and equivariance, §7.3 multichannel
# convolution, §7.4 stride, padding and pooling, §7.5 example CNNs) and chapter 8 (§8.1 classification,
# §8.2 object detection, §8.3 segmentation and dilated convolution); the slides *Part II: Deep Learning*,
# "Convolutional neural networks I" (the convolutional layer) and "Tricks of the trade: pooling".
#
# **Conventions used throughout (those of `torch.nn.functional`).**
# - Images are tensors of shape `(N, C, H, W)`: batch, channels, height, width.
# - Convolution weights have shape `(F, C, kh, kw)`: `F` output channels (filters) first. (The slides
#   use TensorFlow's order, width × height × input depth × output depth; the numbers are the same, the
#   axes are permuted.)
# - "Convolution" means **cross-correlation**: the filter is *not* flipped, exactly as in `F.conv2d`.
# - Padding adds zeros, the same number on all four sides; stride and padding are integers used for both
#   spatial directions.
# - Every function returns tensors of the dtype and device of its input and must not modify its inputs.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import math
import numpy as np
import torch
import torch.nn.functional as F
import matplotlib.pyplot as plt
import ipywidgets as widgets
from course.checks import expect_close, expect_true, expect_shape, expect_raises
from course.demos import interact, needs_exercises

# %% [markdown]
# ## 1. Convolution, or rather cross-correlation
#
# In mathematics the convolution of an image $I$ with a kernel $K$ is
# $(I * K)(i, j) = \sum_{m,n} I(i - m, j - n)\, K(m, n)$: the kernel is flipped before it slides. Deep
# learning libraries compute the **cross-correlation** instead,
#
# $$S(i, j) = \sum_{p, q} I(i + p, j + q)\, K(p, q),$$
#
# with the kernel laid on the image as it is. Since the kernel is learned, the difference does not matter
# for what a network can express (a network trained with one would learn the flipped kernel of the other),
# but it matters a lot when you compare numbers with `F.conv2d`, so we always mean cross-correlation.
#
# For a batch of multichannel images, filter $f$ of a layer has one $k_h \times k_w$ slice per input
# channel, and the layer sums over channels too:
#
# $$y_{n f i j} = b_f + \sum_{c=0}^{C-1} \sum_{p=0}^{k_h-1} \sum_{q=0}^{k_w-1}
#   w_{f c p q}\; \bar x_{n,\, c,\, S i + p,\, S j + q},$$
#
# where $\bar x$ is the input padded with $P$ zeros on every side and $S$ is the stride. Three ideas make
# this layer so effective on images (textbook §7.2): *sparse interactions* (each output sees a small patch),
# *parameter sharing* (the same $F \cdot C \cdot k_h k_w$ weights everywhere) and *translation
# equivariance* (shift the image and the feature map shifts with it).
#
# ### The output size
#
# Along one spatial dimension the padded input has $H + 2P$ positions. A kernel of size $K$ with
# dilation $D$ (a gap of $D - 1$ pixels between taps, the "atrous" convolution of textbook §8.3) spans
# $D(K - 1) + 1$ positions, so its first tap can sit at offsets $0, S, 2S, \dots$ as long as
# $\text{offset} + D(K-1) \le H + 2P - 1$. Counting those offsets:
#
# $$H_\text{out} = \left\lfloor \frac{H + 2P - D(K - 1) - 1}{S} \right\rfloor + 1 .$$
#
# Check it on discussion 3, problem 4: a $32 \times 32$ image and a $5 \times 5$ filter give $28$ without
# padding and $32$ with $P = 2$ ("same" padding, $P = (K-1)/2$ for odd $K$ and $S = 1$). Beware of the
# textbook's stride figure in §7.4: its caption says `padding = 1`, but its count $(7 - 3)/2 + 1 = 3$ is the
# unpadded one; with $P = 1$ the formula gives $\lfloor (7 + 2 - 3)/2 \rfloor + 1 = 4$.
#
# ### Exercise 1: `conv_output_size`
#
# Implement `conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1)` returning the formula
# above as a Python `int` (use integer floor division `//`). Inputs are positive integers ($P \ge 0$).

# %% nbgrader={"grade": false, "grade_id": "conv_output_size", "locked": false, "schema_version": 3, "solution": true}
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """Output length of a convolution along one spatial dimension.

    Args:
        size: input length H (int).
        kernel_size: K (int).
        stride: S (int).
        padding: P zeros on each side (int).
        dilation: D, spacing between kernel taps (int).
    Returns:
        int, floor((H + 2P - D(K-1) - 1) / S) + 1.
    """
    ### BEGIN SOLUTION
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv_output_size", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_true(conv_output_size(32, 5) == 28, f"conv_output_size(32, 5) should be 28, got {conv_output_size(32, 5)}.",
            hint="A 5-wide window fits at offsets 0..27 of 32 positions: H - K + 1 (don't forget the +1).")
expect_true(conv_output_size(32, 5, padding=2) == 32,
            f"conv_output_size(32, 5, padding=2) should be 32, got {conv_output_size(32, 5, padding=2)}.",
            hint="Padding adds P zeros on EACH side: H + 2P.")
expect_true(conv_output_size(7, 3, stride=2, padding=1) == 4,
            f"conv_output_size(7, 3, stride=2, padding=1) should be 4, got {conv_output_size(7, 3, stride=2, padding=1)}.",
            hint="Divide the span (H + 2P - K) by the stride, round down, then add 1.")
expect_true(conv_output_size(10, 3, stride=3) == 3,
            f"conv_output_size(10, 3, stride=3) should be 3, got {conv_output_size(10, 3, stride=3)}.",
            hint="Round down (floor division //): a window that would run past the edge is dropped.")
expect_true(conv_output_size(9, 3, dilation=2) == 5,
            f"conv_output_size(9, 3, dilation=2) should be 5, got {conv_output_size(9, 3, dilation=2)}.",
            hint="A dilated kernel spans D(K - 1) + 1 positions.")
expect_true(isinstance(conv_output_size(8, 3, 1, 1), int), "conv_output_size should return a Python int.",
            hint="Use // rather than / (which gives a float).")

# %% nbgrader={"grade": true, "grade_id": "test_conv_output_size_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("conv_output_size", conv_output_size)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2: `conv2d_naive` — the definition, with loops
#
# Implement `conv2d_naive(x, w, b, stride=1, padding=0)` straight from the formula: `x` of shape
# `(N, C, H, W)`, weights `w` of shape `(F, C, kh, kw)`, bias `b` of shape `(F,)`; return `y` of shape
# `(N, F, H_out, W_out)`. Pad with `F.pad(x, (padding, padding, padding, padding))` (the four numbers are
# left, right, top, bottom), then loop over the output positions `(i, j)`: the window
# `xp[:, :, S*i : S*i + kh, S*j : S*j + kw]` of shape `(N, C, kh, kw)` contracted with `w` over
# `(C, kh, kw)` gives `y[:, :, i, j]` for every image and filter at once (`torch.einsum("nchw,fchw->nf", ...)`
# or a reshape and `@`). Do **not** flip the kernel, and do not call `F.conv2d`: the point is to write it.

# %% nbgrader={"grade": false, "grade_id": "conv2d_naive", "locked": false, "schema_version": 3, "solution": true}
def conv2d_naive(x, w, b, stride=1, padding=0):
    """2-D cross-correlation with loops over the output positions.

    Args:
        x: input, shape (N, C, H, W).
        w: weights, shape (F, C, kh, kw).
        b: bias, shape (F,).
        stride: int, step of the window.
        padding: int, zeros on each side.
    Returns:
        tensor of shape (N, F, H_out, W_out).
    """
    ### BEGIN SOLUTION
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = F.pad(x, (padding, padding, padding, padding))
    ho = (h + 2 * padding - kh) // stride + 1
    wo = (wd + 2 * padding - kw) // stride + 1
    y = x.new_zeros(n, f, ho, wo)
    for i in range(ho):
        for j in range(wo):
            window = xp[:, :, stride * i:stride * i + kh, stride * j:stride * j + kw]
            y[:, :, i, j] = torch.einsum("nchw,fchw->nf", window, w) + b
    return y
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv2d_naive", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.arange(16.0, dtype=torch.float64).reshape(1, 1, 4, 4)
w = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=torch.float64)
b = torch.tensor([0.5], dtype=torch.float64)
# the top-left window is [[0, 1], [4, 5]]: 0*1 + 1*2 + 4*3 + 5*4 + 0.5 = 34.5
expect_close(conv2d_naive(x, w, b),
             torch.tensor([[[[34.5, 44.5, 54.5], [74.5, 84.5, 94.5], [114.5, 124.5, 134.5]]]], dtype=torch.float64),
             what="conv2d_naive(x, w, b) on a 4x4 ramp",
             hint="Cross-correlation: multiply the window by w as it is. Flipping w gives a true convolution "
                  "(16.5 at the top left), which is not what F.conv2d computes.")
g = torch.Generator().manual_seed(0)
x = torch.randn(2, 3, 7, 6, generator=g, dtype=torch.float64)
w = torch.randn(4, 3, 3, 2, generator=g, dtype=torch.float64)
b = torch.randn(4, generator=g, dtype=torch.float64)
expect_close(conv2d_naive(x, w, b, stride=2, padding=1), F.conv2d(x, w, b, stride=2, padding=1),
             what="conv2d_naive(x, w, b, stride=2, padding=1) vs F.conv2d",
             hint="Pad on all four sides, step the window by `stride`, and use the output size of exercise 1.")

# %% nbgrader={"grade": true, "grade_id": "test_conv2d_naive_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("conv2d_naive", conv2d_naive)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Convolution as one matrix product (im2col)
#
# A convolution is linear in its input, so it is a matrix, but a sparse one with the same few weights
# repeated along its diagonals (discussion 3, §2.2; the Toeplitz matrix of textbook §7.1). In 1-D, with
# $x \in \mathbb R^4$ padded by one zero on each side and $w \in \mathbb R^3$,
#
# $$\begin{bmatrix} w_1 & w_2 & w_3 & 0 & 0 & 0 \\ 0 & w_1 & w_2 & w_3 & 0 & 0 \\
#   0 & 0 & w_1 & w_2 & w_3 & 0 \\ 0 & 0 & 0 & w_1 & w_2 & w_3 \end{bmatrix}
#   \begin{bmatrix} 0 \\ x_1 \\ x_2 \\ x_3 \\ x_4 \\ 0 \end{bmatrix} = \bar x \star w .$$
#
# Fast implementations turn it around: instead of a big sparse weight matrix they build a dense matrix
# of *input patches*. **im2col** copies every receptive field into one column; then one dense matrix product
# with the flattened filters computes every output at once, using the highly tuned matrix-multiply
# routines of the machine:
#
# $$\underbrace{Y_n}_{F \times L} = \underbrace{W_\text{row}}_{F \times C k_h k_w}\;
#   \underbrace{X_{\text{col}, n}}_{C k_h k_w \times L} + b, \qquad L = H_\text{out} W_\text{out}.$$
#
# The price is memory: each input pixel is copied into up to $k_h k_w$ columns.
#
# ### Exercise 3: `im2col`
#
# Implement `im2col(x, kernel_size, stride=1, padding=0, dilation=1)` for `x` of shape `(N, C, H, W)` and
# `kernel_size = (kh, kw)`, returning a tensor of shape `(N, C * kh * kw, H_out * W_out)` laid out exactly like
# `F.unfold`:
# - column `l = i * W_out + j` (output rows first) holds the window whose top-left corner is at `(S i, S j)` in
#   the padded input;
# - its rows run over `(c, p, q)` with the channel slowest and the kernel column fastest: row
#   `c * kh * kw + p * kw + q` holds $\bar x_{c,\, S i + D p,\, S j + D q}$.
#
# A loop over the `kh * kw` kernel taps is enough: for tap `(p, q)` the strided slice
# `xp[:, :, D*p : D*p + S*(H_out-1) + 1 : S, D*q : D*q + S*(W_out-1) + 1 : S]` holds that tap for every window.
# Do not call `F.unfold` (you may use it to check yourself).

# %% nbgrader={"grade": false, "grade_id": "im2col", "locked": false, "schema_version": 3, "solution": true}
def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    """Unroll the receptive fields of x into columns, in F.unfold's layout.

    Args:
        x: input, shape (N, C, H, W).
        kernel_size: pair (kh, kw).
        stride, padding, dilation: ints, the same in both directions.
    Returns:
        tensor of shape (N, C * kh * kw, H_out * W_out).
    """
    ### BEGIN SOLUTION
    kh, kw = kernel_size
    n, c, h, wd = x.shape
    xp = F.pad(x, (padding, padding, padding, padding))
    ho = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    wo = (wd + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    taps = []
    for p in range(kh):
        for q in range(kw):
            r, s = dilation * p, dilation * q
            taps.append(xp[:, :, r:r + stride * (ho - 1) + 1:stride, s:s + stride * (wo - 1) + 1:stride])
    cols = torch.stack(taps, dim=2)  # (N, C, kh*kw, H_out, W_out)
    return cols.reshape(n, c * kh * kw, ho * wo)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_im2col", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.arange(9.0, dtype=torch.float64).reshape(1, 1, 3, 3)
expect_close(im2col(x, (2, 2)),
             torch.tensor([[[0.0, 1.0, 3.0, 4.0], [1.0, 2.0, 4.0, 5.0], [3.0, 4.0, 6.0, 7.0], [4.0, 5.0, 7.0, 8.0]]],
                          dtype=torch.float64),
             what="im2col(arange(9).reshape(1, 1, 3, 3), (2, 2))",
             hint="Column l holds window l (row-major over output positions); row p * kw + q holds kernel tap (p, q).")
g = torch.Generator().manual_seed(1)
x = torch.randn(2, 3, 6, 5, generator=g, dtype=torch.float64)
expect_close(im2col(x, (3, 2), stride=2, padding=1), F.unfold(x, (3, 2), stride=2, padding=1),
             what="im2col(x, (3, 2), stride=2, padding=1) vs F.unfold",
             hint="Rows are ordered (channel, kernel row, kernel column), channel slowest.")
expect_close(im2col(x, (2, 2), padding=1, dilation=2), F.unfold(x, (2, 2), padding=1, dilation=2),
             what="im2col(x, (2, 2), padding=1, dilation=2) vs F.unfold",
             hint="With dilation D, tap (p, q) reads the padded input at (S i + D p, S j + D q).")

# %% nbgrader={"grade": true, "grade_id": "test_im2col_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("im2col", im2col)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4: `conv2d_forward` — a convolution layer as a matrix product
#
# Implement `conv2d_forward(x, w, b, stride=1, padding=0)` (shapes as in exercise 2) with your `im2col`
# and one (batched) matrix product, no Python loop over the data. Return a pair `(out, cache)`:
# - `out`, shape `(N, F, H_out, W_out)`, equal to `F.conv2d(x, w, b, stride=stride, padding=padding)`;
# - `cache = (x, w, b, stride, padding, cols)`, exactly this 6-tuple, with `cols = im2col(x, (kh, kw), stride,
#   padding)` of shape `(N, C * kh * kw, L)`. The backward pass of the next exercise receives this cache.
#
# Mind the reshape at the end: `W_row @ cols` has shape `(N, F, L)`, which reshapes to `(N, F, H_out, W_out)`
# directly; had you computed `cols^T @ W_row^T` of shape `(N, L, F)` you would need a permute first.

# %% nbgrader={"grade": false, "grade_id": "conv2d_forward", "locked": false, "schema_version": 3, "solution": true}
def conv2d_forward(x, w, b, stride=1, padding=0):
    """Convolution layer forward pass by im2col and a matrix product.

    Args:
        x: input, shape (N, C, H, W).
        w: weights, shape (F, C, kh, kw).
        b: bias, shape (F,).
        stride, padding: ints.
    Returns:
        (out, cache): out of shape (N, F, H_out, W_out);
        cache = (x, w, b, stride, padding, cols) with cols of shape (N, C*kh*kw, H_out*W_out).
    """
    ### BEGIN SOLUTION
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    cols = im2col(x, (kh, kw), stride, padding)
    ho = (h + 2 * padding - kh) // stride + 1
    wo = (wd + 2 * padding - kw) // stride + 1
    out = (w.reshape(f, -1) @ cols + b.reshape(1, f, 1)).reshape(n, f, ho, wo)
    return out, (x, w, b, stride, padding, cols)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv2d_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.arange(9.0, dtype=torch.float64).reshape(1, 1, 3, 3)
out, cache = conv2d_forward(x, torch.ones(1, 1, 2, 2, dtype=torch.float64), torch.tensor([0.5], dtype=torch.float64))
expect_close(out, torch.tensor([[[[8.5, 12.5], [20.5, 24.5]]]], dtype=torch.float64),
             what="conv2d_forward(arange(9), ones(2, 2), 0.5)[0]", hint="Each output is the window's sum plus the bias.")
g = torch.Generator().manual_seed(2)
x = torch.randn(3, 2, 7, 8, generator=g, dtype=torch.float64)
w = torch.randn(5, 2, 3, 3, generator=g, dtype=torch.float64)
b = torch.randn(5, generator=g, dtype=torch.float64)
out, cache = conv2d_forward(x, w, b, stride=2, padding=1)
expect_close(out, F.conv2d(x, w, b, stride=2, padding=1), what="conv2d_forward(x, w, b, 2, 1)[0] vs F.conv2d",
             hint="W_row @ cols has shape (N, F, L): reshape to (N, F, H_out, W_out) without mixing L and F.")
expect_true(isinstance(cache, tuple) and len(cache) == 6, "cache should be the 6-tuple (x, w, b, stride, padding, cols).")
expect_close(cache[5], F.unfold(x, (3, 3), stride=2, padding=1), what="cache[5] (the columns)")

# %% nbgrader={"grade": true, "grade_id": "test_conv2d_forward_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("conv2d_forward", conv2d_forward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The backward pass
#
# Let $\delta = \partial L / \partial y$ be the upstream gradient (`dout`, the shape of the output). You need
# $\partial L/\partial b$, $\partial L/\partial w$ and $\partial L/\partial x$. Derive them yourself, starting
# in 1-D without padding, as discussion 3 (§2.3) does: with $y_1 = w_1 x_1 + w_2 x_2 + w_3 x_3$ and
# $y_2 = w_1 x_2 + w_2 x_3 + w_3 x_4$, write $\partial L/\partial w_k$ and $\partial L/\partial x_j$ as sums over
# the outputs $i$. (The worksheet's problem asks for the gradients "with respect to $x$ and $y$"; it means
# $x$ and $w$.) Then do the same for the matrix form of Exercise 4, $Y_n = W_\text{row} X_{\text{col}, n} + b$.
#
# <details><summary>Hint 1: the 1-D case</summary>
#
# Each weight $w_k$ multiplies one input in every output: $\partial y_i/\partial w_k = x_{i+k-1}$. Each input
# $x_j$ appears in every output whose window covers it, multiplied by the tap that lands on it,
# $\partial y_i/\partial x_j = w_{j-i+1}$ (zero when $j - i + 1$ is not a valid tap). Sum over $i$ with the
# weights $\delta_i$. Which of the two sums is a cross-correlation of $x$ with $\delta$, and which slides the
# filter the other way round (a *flipped* filter over a zero-padded $\delta$)?
# </details>
#
# <details><summary>Hint 2: the weight gradient, one output channel at a time</summary>
#
# Filter $f$ only touches output channel $f$. So $\partial L/\partial w_{f c p q}$ sums, over the batch and
# over the output positions $(i, j)$, the gradient $\delta_{n f i j}$ times the input pixel that tap $(p, q)$
# of channel $c$ saw there. Exercise 5 asks for exactly this, for one output channel. In the matrix form
# it is a product of $\delta_n$ (an $F \times L$ matrix) with the columns $X_{\text{col}, n}$, summed over $n$.
# </details>
#
# <details><summary>Hint 3: the input gradient goes through the columns</summary>
#
# The matrix form gives first the gradient with respect to the *columns*, an $C k_h k_w \times L$ matrix
# per image (transpose what multiplied them). Each column entry is a copy of one padded input pixel, and a
# pixel copied into several windows receives the **sum** of their gradients: this "col2im" step adds every
# column entry back onto the pixel it came from, then crops the $P$ padded rows and columns on each side
# (they were constants, not inputs). `F.fold` does col2im in one call (with `padding=` it also crops); you may
# also loop over the `kh * kw` taps and add strided slices. With a stride $S > 1$ the taps land on a strided
# grid; pixels that no window covers (at the bottom or right edge, when the division was rounded down) get 0.
# </details>
#
# <details><summary>Hint 4: the results</summary>
#
# In 1-D: $\partial L/\partial w_k = \sum_i \delta_i\, x_{i + k - 1}$ and $\partial L/\partial x_j = \sum_i \delta_i\, w_{j - i + 1}$.
# In the matrix form, with $\delta_n$ reshaped to $F \times L$:
#
# $$\frac{\partial L}{\partial b_f} = \sum_{n, l} \delta_{n f l}, \qquad
#   \frac{\partial L}{\partial W_\text{row}} = \sum_n \delta_n\, X_{\text{col}, n}^{\top}, \qquad
#   \frac{\partial L}{\partial X_{\text{col}, n}} = W_\text{row}^{\top}\, \delta_n,$$
#
# and $\partial L/\partial x$ is col2im of the last one.
# </details>
#
# ### Exercise 5: `conv2d_weight_grad`
#
# The stepping stone: implement `conv2d_weight_grad(x, dout_f, kernel_size, stride=1, padding=0)`, the
# gradient with respect to the weights of **one** filter. `x` has shape `(N, C, H, W)`, `dout_f` of shape
# `(N, H_out, W_out)` is the upstream gradient of that filter's output channel, `kernel_size = (kh, kw)`.
# Return $\partial L/\partial w_{f}$ of shape `(C, kh, kw)`. Write it from the sums (a loop over the `kh * kw`
# taps is natural); do not call `F.conv2d`, autograd, or your `conv2d_backward`.

# %% nbgrader={"grade": false, "grade_id": "conv2d_weight_grad", "locked": false, "schema_version": 3, "solution": true}
def conv2d_weight_grad(x, dout_f, kernel_size, stride=1, padding=0):
    """Gradient of the loss with respect to the weights of one filter of a convolution.

    Args:
        x: input, shape (N, C, H, W).
        dout_f: upstream gradient of the filter's output channel, shape (N, H_out, W_out).
        kernel_size: pair (kh, kw).
        stride, padding: ints.
    Returns:
        tensor of shape (C, kh, kw).
    """
    ### BEGIN SOLUTION
    kh, kw = kernel_size
    ho, wo = dout_f.shape[1], dout_f.shape[2]
    xp = F.pad(x, (padding, padding, padding, padding))
    dw = x.new_zeros(x.shape[1], kh, kw)
    for p in range(kh):
        for q in range(kw):
            tap = xp[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride]
            dw[:, p, q] = (tap * dout_f[:, None]).sum(dim=(0, 2, 3))
    return dw
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv2d_weight_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.arange(9.0, dtype=torch.float64).reshape(1, 1, 3, 3)
dw = conv2d_weight_grad(x, torch.tensor([[[1.0, 0.0], [0.0, 0.0]]], dtype=torch.float64), (2, 2))
# only the top-left output has a gradient: each tap receives the pixel it saw there, the window [[0, 1], [3, 4]]
expect_close(dw, torch.tensor([[[0.0, 1.0], [3.0, 4.0]]], dtype=torch.float64),
             what="conv2d_weight_grad for a gradient on the top-left output only",
             hint="Tap (p, q) of the filter saw the pixel at offset (p, q) of each window: the filter is not flipped.")
g = torch.Generator().manual_seed(3)
x = torch.randn(2, 3, 7, 6, generator=g, dtype=torch.float64)
w = torch.randn(4, 3, 3, 2, generator=g, dtype=torch.float64)
wr = w.clone().requires_grad_()
y = F.conv2d(x, wr, stride=2, padding=1)
dout = torch.randn(y.shape, generator=g, dtype=torch.float64)
y.backward(dout)
expect_close(conv2d_weight_grad(x, dout[:, 1], (3, 2), stride=2, padding=1), wr.grad[1],
             what="conv2d_weight_grad for filter 1 (stride 2, padding 1) vs autograd",
             hint="Sum over the batch and every output position, reading the padded input on the stride's grid.")

# %% nbgrader={"grade": true, "grade_id": "test_conv2d_weight_grad_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("conv2d_weight_grad", conv2d_weight_grad)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 6: `conv2d_backward`
#
# Implement `conv2d_backward(dout, cache)` where `dout` has shape `(N, F, H_out, W_out)` and `cache` is the
# 6-tuple `(x, w, b, stride, padding, cols)` of exercise 4. Return `(dx, dw, db)` with the shapes of
# `x`, `w` and `b`, from the sums you derived (Hints 2-4). A Python loop over the batch earns the same marks
# but is slow; the layer is fastest as a few batched matrix products and a loop over the `kh * kw` taps.

# %% nbgrader={"grade": false, "grade_id": "conv2d_backward", "locked": false, "schema_version": 3, "solution": true}
def conv2d_backward(dout, cache):
    """Gradients of a convolution layer.

    Args:
        dout: upstream gradient, shape (N, F, H_out, W_out).
        cache: (x, w, b, stride, padding, cols) from conv2d_forward.
    Returns:
        (dx, dw, db) with the shapes of x, w, b.
    """
    ### BEGIN SOLUTION
    x, w, b, stride, padding, cols = cache
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    ho, wo = dout.shape[2], dout.shape[3]
    d = dout.reshape(n, f, ho * wo)
    db = d.sum(dim=(0, 2))
    dw = (d @ cols.transpose(1, 2)).sum(dim=0).reshape(w.shape)
    dcols = (w.reshape(f, -1).t() @ d).reshape(n, c, kh, kw, ho, wo)
    dxp = x.new_zeros(n, c, h + 2 * padding, wd + 2 * padding)
    for p in range(kh):
        for q in range(kw):
            dxp[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride] += dcols[:, :, p, q]
    dx = dxp[:, :, padding:padding + h, padding:padding + wd]
    return dx, dw, db
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv2d_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.arange(9.0, dtype=torch.float64).reshape(1, 1, 3, 3)
w = torch.ones(1, 1, 2, 2, dtype=torch.float64)
cache = (x, w, torch.zeros(1, dtype=torch.float64), 1, 0, F.unfold(x, (2, 2)))
dx, dw, db = conv2d_backward(torch.ones(1, 1, 2, 2, dtype=torch.float64), cache)
expect_close(dx, torch.tensor([[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]], dtype=torch.float64),
             what="dx for a 2x2 box filter and dout = 1",
             hint="Each pixel collects one gradient per window that contains it: add, do not overwrite.")
expect_close(dw, torch.tensor([[[[8.0, 12.0], [20.0, 24.0]]]], dtype=torch.float64), what="dw for dout = 1",
             hint="Each weight is used at every position: its gradient collects one term per window (Hint 2).")
expect_close(db, torch.tensor([4.0], dtype=torch.float64), what="db for dout = 1",
             hint="The bias is added to every output position: how many outputs does it move?")
# random shapes, stride 2, padding 1, random upstream gradient, against autograd
g = torch.Generator().manual_seed(3)
x = torch.randn(2, 3, 7, 6, generator=g, dtype=torch.float64)
w = torch.randn(4, 3, 3, 2, generator=g, dtype=torch.float64)
b = torch.randn(4, generator=g, dtype=torch.float64)
cache = (x, w, b, 2, 1, F.unfold(x, (3, 2), stride=2, padding=1))
xr, wr, br = x.clone().requires_grad_(), w.clone().requires_grad_(), b.clone().requires_grad_()
y = F.conv2d(xr, wr, br, stride=2, padding=1)
dout = torch.randn(y.shape, generator=g, dtype=torch.float64)
y.backward(dout)
dx, dw, db = conv2d_backward(dout, cache)
expect_close(dx, xr.grad, what="dx (stride 2, padding 1) vs autograd",
             hint="Each column entry goes back onto the padded pixel it was copied from, on the stride's grid; "
                  "padded pixels are constants, not inputs (Hint 3).")
expect_close(dw, wr.grad, what="dw (stride 2, padding 1) vs autograd",
             hint="Compare with your conv2d_weight_grad, filter by filter: the gradient's rows must follow "
                  "the layout (filter, channel, kernel row, kernel column) of w.")
expect_close(db, br.grad, what="db vs autograd",
             hint="The bias is added at every position of every image: each one contributes its full gradient.")

# %% nbgrader={"grade": true, "grade_id": "test_conv2d_backward_2", "locked": true, "points": 5, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("conv2d_backward", conv2d_backward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# How fast is the matrix form? The cell below times a forward and backward pass of your layer against
# `F.conv2d` with autograd (which calls a tuned library) and against the naive loops. On a laptop CPU the
# im2col version is usually within a small factor of torch, and both are far ahead of the loops.

# %%
with needs_exercises():
    import time

    def best_time(fn, repeat=5):
        if repeat > 1:
            fn()  # warm-up
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    g = torch.Generator().manual_seed(0)
    xb, wb, bb = torch.randn(16, 8, 16, 16, generator=g), torch.randn(16, 8, 3, 3, generator=g), torch.zeros(16)
    doutb = torch.randn(16, 16, 16, 16, generator=g)
    xr, wr, br = xb.clone().requires_grad_(), wb.clone().requires_grad_(), bb.clone().requires_grad_()
    t_torch = best_time(lambda: F.conv2d(xr, wr, br, padding=1).backward(doutb), repeat=3)
    t_ours = best_time(lambda: conv2d_backward(doutb, conv2d_forward(xb, wb, bb, 1, 1)[1]), repeat=3)
    t_naive = best_time(lambda: conv2d_naive(xb, wb, bb, 1, 1), repeat=1)
    print(f"F.conv2d forward+backward:         {1e3 * t_torch:7.2f} ms")
    print(f"im2col forward+backward (yours):   {1e3 * t_ours:7.2f} ms  ({t_ours / t_torch:.1f}x torch)")
    print(f"naive loops, forward only (yours): {1e3 * t_naive:7.2f} ms")

# %% [markdown]
# ### Questions on convolution layers
#
# ### Concept question 1: `concept_receptive_field`
#
# The **receptive field** of a unit is the patch of the input image that can influence it. A network
# applies, in this order: a $3\times3$ convolution (stride 1), another $3\times3$ convolution (stride 1), a
# $2\times2$ max pooling (stride 2), and a $3\times3$ convolution (stride 1). How large is the receptive
# field of one unit of the last layer (padding changes nothing here)?
#
# - **a.** $3\times3$: a unit only sees the window of its own kernel.
# - **b.** $8\times8$: each layer adds its kernel size minus one, $1 + 2 + 2 + 1 + 2$.
# - **c.** $10\times10$: after the pooling, neighbouring units are 2 input pixels apart, so the last
#   convolution's extra two taps widen the field by 4 pixels, not 2.
# - **d.** $11\times11$: the kernel sizes add up, $3 + 3 + 2 + 3$.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "concept_receptive_field", "locked": false, "schema_version": 3, "solution": true}
def concept_receptive_field():
    """Your answer to concept question 1: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_receptive_field", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(concept_receptive_field() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_concept_receptive_field_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_receptive_field", concept_receptive_field)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Concept question 2: `concept_parameter_count`
#
# A convolution layer maps 64 input channels to 128 output channels with $3\times3$ filters and a bias per
# filter, on $32\times32$ feature maps. How many parameters does it have?
#
# - **a.** $128\cdot64\cdot9 + 128 = 73\,856$, whatever the size of the feature maps.
# - **b.** $128\cdot9 + 128 = 1\,280$: each filter is one $3\times3$ kernel.
# - **c.** $73\,856\cdot32\cdot32 \approx 75.6$ million: every position needs its own copy of the filters.
# - **d.** $64\cdot128 + 128 = 8\,320$: the kernel size only sets which pixels are read, not the weights.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "concept_parameter_count", "locked": false, "schema_version": 3, "solution": true}
def concept_parameter_count():
    """Your answer to concept question 2: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "a"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_parameter_count", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(concept_parameter_count() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_concept_parameter_count_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_parameter_count", concept_parameter_count)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Pooling
#
# A pooling layer summarizes each $k \times k$ window of each channel by one number: its maximum
# (**max pooling**) or its mean (**average pooling**; LeNet's "subsampling" in the slides). It has no
# parameters, shrinks the feature maps (by $k$ in each direction with the usual stride $S = k$) and makes the
# network less sensitive to small shifts of the input: a maximum does not move when the pattern moves by
# a pixel within its window (textbook §7.4). Channels are pooled separately; the output size follows
# exercise 1 with $P = 0$, $D = 1$.
#
# **Backward.** Pooling has no parameters, so its backward pass only sends $\delta$ back to the inputs of
# each window; how it splits it among them is for you to work out (Exercises 8 to 10). One convention must
# be fixed first: when several inputs tie for the maximum of a window (common after a ReLU, which makes many
# zeros), the derivative of the maximum is not defined, and we follow torch's rule: **the first maximal entry
# of the window in row-major order counts as the maximum** (`torch.argmax` returns the first index of a
# maximum).
#
# <details><summary>Hint 1: average pooling</summary>
#
# The mean of a window is linear in its $k^2$ inputs: what is the derivative of the mean with respect to
# one of them?
# </details>
#
# <details><summary>Hint 2: max pooling</summary>
#
# Move one input of a window a tiny bit. If it is not the maximum, the output does not change; if it is
# (and the maximum is strict), the output moves by exactly as much. So which inputs receive the window's
# $\delta$, and how much of it?
# </details>
#
# <details><summary>Hint 3: overlapping windows</summary>
#
# With $S < k$ an input belongs to several windows. By the chain rule, its gradient is the sum, over the
# windows that contain it, of what each window sends it.
# </details>
#
# ### Exercise 7: `pool2d_forward`
#
# Implement `pool2d_forward(x, kernel_size, stride=None, mode="max")` for `x` of shape `(N, C, H, W)`:
# `kernel_size` is an int $k$ (square windows), `stride=None` means `stride = kernel_size`, no padding,
# and `mode` is `"max"` or `"avg"`. Return `(N, C, H_out, W_out)`, like `F.max_pool2d(x, k, stride)` and
# `F.avg_pool2d(x, k, stride)`. Hint: treat the channels as a batch of one-channel images,
# `x.reshape(N * C, 1, H, W)`, and reuse `im2col`.

# %% nbgrader={"grade": false, "grade_id": "pool2d_forward", "locked": false, "schema_version": 3, "solution": true}
def pool2d_forward(x, kernel_size, stride=None, mode="max"):
    """Max or average pooling over k x k windows, no padding.

    Args:
        x: input, shape (N, C, H, W).
        kernel_size: int k.
        stride: int, default kernel_size.
        mode: "max" or "avg".
    Returns:
        tensor of shape (N, C, H_out, W_out).
    """
    ### BEGIN SOLUTION
    stride = kernel_size if stride is None else stride
    n, c, h, wd = x.shape
    ho = (h - kernel_size) // stride + 1
    wo = (wd - kernel_size) // stride + 1
    cols = im2col(x.reshape(n * c, 1, h, wd), (kernel_size, kernel_size), stride)  # (N*C, k*k, L)
    out = cols.amax(dim=1) if mode == "max" else cols.mean(dim=1)
    return out.reshape(n, c, ho, wo)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_pool2d_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.arange(16.0, dtype=torch.float64).reshape(1, 1, 4, 4)
expect_close(pool2d_forward(x, 2), torch.tensor([[[[5.0, 7.0], [13.0, 15.0]]]], dtype=torch.float64),
             what="pool2d_forward(arange(16).reshape(4, 4), 2) (max)",
             hint="With stride=None the stride is the window size: non-overlapping windows.")
expect_close(pool2d_forward(x, 2, mode="avg"), torch.tensor([[[[2.5, 4.5], [10.5, 12.5]]]], dtype=torch.float64),
             what="pool2d_forward(arange(16).reshape(4, 4), 2, mode='avg')")
g = torch.Generator().manual_seed(4)
x = torch.randn(2, 3, 7, 6, generator=g, dtype=torch.float64)
expect_close(pool2d_forward(x, 3, stride=2), F.max_pool2d(x, 3, 2), what="max pooling k=3, stride=2 vs F.max_pool2d")
expect_close(pool2d_forward(x, 3, stride=2, mode="avg"), F.avg_pool2d(x, 3, 2),
             what="average pooling k=3, stride=2 vs F.avg_pool2d")

# %% nbgrader={"grade": true, "grade_id": "test_pool2d_forward_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("pool2d_forward", pool2d_forward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 8: `max_pool2d_routing`
#
# The stepping stone of max pooling's backward pass: where does each window's gradient go? Implement
# `max_pool2d_routing(x, kernel_size, stride=None)` for `x` of shape `(N, C, H, W)`, returning a tensor of the
# shape and dtype of `x` whose entry counts **the windows that route their gradient to that input** (ties:
# the first maximum in row-major order within the window, as stated above). With non-overlapping windows it
# is a 0/1 mask with exactly one 1 per window; with overlapping windows an entry can be 2 or more. (It is
# also what `max_pool2d_backward` returns when every entry of `dout` is 1.)
#
# One vectorized way: `argmax` over the rows of the im2col columns of `x.reshape(N * C, 1, H, W)`, then add the
# one-hot result back onto the pixels (col2im, as in exercise 6). A loop over the output positions is fine too.

# %% nbgrader={"grade": false, "grade_id": "max_pool2d_routing", "locked": false, "schema_version": 3, "solution": true}
def max_pool2d_routing(x, kernel_size, stride=None):
    """How many pooling windows route their gradient to each input (first maximum in row-major order).

    Args:
        x: forward input, shape (N, C, H, W).
        kernel_size: int k.
        stride: int, default kernel_size.
    Returns:
        tensor of the shape and dtype of x (counts: 0, 1, 2, ...).
    """
    ### BEGIN SOLUTION
    stride = kernel_size if stride is None else stride
    k = kernel_size
    n, c, h, wd = x.shape
    ho, wo = (h - k) // stride + 1, (wd - k) // stride + 1
    cols = im2col(x.reshape(n * c, 1, h, wd), (k, k), stride)  # (N*C, k*k, L)
    picked = torch.zeros_like(cols).scatter_(1, cols.argmax(dim=1, keepdim=True), 1.0).reshape(n, c, k, k, ho, wo)
    counts = torch.zeros_like(x)
    for p in range(k):
        for q in range(k):
            counts[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride] += picked[:, :, p, q]
    return counts
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_max_pool2d_routing", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.tensor([[[[1.0, 3.0, 3.0, 0.0],
                    [3.0, 0.0, 2.0, 2.0],
                    [0.0, 0.0, 5.0, 5.0],
                    [0.0, 0.0, 5.0, 5.0]]]], dtype=torch.float64)
expect_close(max_pool2d_routing(x, 2),
             torch.tensor([[[[0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0],
                             [1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]], dtype=torch.float64),
             what="max_pool2d_routing with ties (2x2 windows)",
             hint="Each window routes to ONE entry, its first maximum in row-major order (the bottom-left window "
                  "is all zeros, so its top-left entry is the one).")
x = torch.tensor([[[[0.0, 1.0, 9.0, 1.0, 0.0]]]], dtype=torch.float64)
expect_close(max_pool2d_routing(x.reshape(1, 1, 1, 5).expand(1, 1, 3, 5).clone(), 3, stride=1),
             torch.tensor([[[[0.0, 0.0, 3.0, 0.0, 0.0], [0.0] * 5, [0.0] * 5]]], dtype=torch.float64),
             what="max_pool2d_routing with overlapping windows (k=3, stride=1) on three equal rows [0, 1, 9, 1, 0]",
             hint="The three overlapping windows all pick the 9 in their first row: count every window, do not "
                  "just mark the entry.")

# %% nbgrader={"grade": true, "grade_id": "test_max_pool2d_routing_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("max_pool2d_routing", max_pool2d_routing)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 9: `max_pool2d_backward`
#
# Implement `max_pool2d_backward(dout, x, kernel_size, stride=None)`: `x` is the forward input
# `(N, C, H, W)`, `dout` the upstream gradient `(N, C, H_out, W_out)`; return `dx` of the shape of `x`, with the
# tie rule stated above. Your routing of Exercise 8 tells you where each window's gradient goes; Hints 2 and 3
# tell you how much, and what happens where windows overlap.

# %% nbgrader={"grade": false, "grade_id": "max_pool2d_backward", "locked": false, "schema_version": 3, "solution": true}
def max_pool2d_backward(dout, x, kernel_size, stride=None):
    """Gradient of max pooling; ties go to the first maximum in row-major window order.

    Args:
        dout: upstream gradient, shape (N, C, H_out, W_out).
        x: forward input, shape (N, C, H, W).
        kernel_size: int k.
        stride: int, default kernel_size.
    Returns:
        dx, shape (N, C, H, W).
    """
    ### BEGIN SOLUTION
    stride = kernel_size if stride is None else stride
    k = kernel_size
    n, c, h, wd = x.shape
    ho, wo = dout.shape[2], dout.shape[3]
    cols = im2col(x.reshape(n * c, 1, h, wd), (k, k), stride)  # (N*C, k*k, L)
    first_max = cols.argmax(dim=1, keepdim=True)
    dcols = torch.zeros_like(cols).scatter_(1, first_max, dout.reshape(n * c, 1, ho * wo))
    dcols = dcols.reshape(n, c, k, k, ho, wo)
    dx = torch.zeros_like(x)
    for p in range(k):
        for q in range(k):
            dx[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride] += dcols[:, :, p, q]
    return dx
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_max_pool2d_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.tensor([[[[1.0, 3.0, 3.0, 0.0],
                    [3.0, 0.0, 2.0, 2.0],
                    [0.0, 0.0, 5.0, 5.0],
                    [0.0, 0.0, 5.0, 5.0]]]], dtype=torch.float64)
dout = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=torch.float64)
expect_close(max_pool2d_backward(dout, x, 2),
             torch.tensor([[[[0.0, 1.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0],
                             [3.0, 0.0, 4.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]], dtype=torch.float64),
             what="max_pool2d_backward with ties (2x2 windows)",
             hint="A window's output moves only with the entry it routes to (Exercise 8): the other entries of "
                  "the window get nothing.")
g = torch.Generator().manual_seed(5)
x = torch.randn(2, 3, 7, 6, generator=g, dtype=torch.float64)
xr = x.clone().requires_grad_()
y = F.max_pool2d(xr, 3, 2)
dout = torch.randn(y.shape, generator=g, dtype=torch.float64)
y.backward(dout)
expect_close(max_pool2d_backward(dout, x, 3, stride=2), xr.grad, what="overlapping windows (k=3, stride=2) vs autograd",
             hint="An input that is the maximum of two overlapping windows is on two paths to the loss (Hint 3).")

# %% nbgrader={"grade": true, "grade_id": "test_max_pool2d_backward_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("max_pool2d_backward", max_pool2d_backward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 10: `avg_pool2d_backward`
#
# Implement `avg_pool2d_backward(dout, x, kernel_size, stride=None)` with the same arguments (only the shape,
# dtype and device of `x` matter): every entry of a window receives `dout / k**2` of that window, overlapping
# windows add, and entries outside every window get 0.

# %% nbgrader={"grade": false, "grade_id": "avg_pool2d_backward", "locked": false, "schema_version": 3, "solution": true}
def avg_pool2d_backward(dout, x, kernel_size, stride=None):
    """Gradient of average pooling.

    Args:
        dout: upstream gradient, shape (N, C, H_out, W_out).
        x: forward input, shape (N, C, H, W) (only its shape is used).
        kernel_size: int k.
        stride: int, default kernel_size.
    Returns:
        dx, shape (N, C, H, W).
    """
    ### BEGIN SOLUTION
    stride = kernel_size if stride is None else stride
    k = kernel_size
    ho, wo = dout.shape[2], dout.shape[3]
    dx = torch.zeros_like(x)
    share = dout / (k * k)
    for p in range(k):
        for q in range(k):
            dx[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride] += share
    return dx
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_avg_pool2d_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_close(avg_pool2d_backward(torch.tensor([[[[4.0]]]], dtype=torch.float64), torch.zeros(1, 1, 3, 3, dtype=torch.float64), 2),
             torch.tensor([[[[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]], dtype=torch.float64),
             what="avg_pool2d_backward(4, 3x3 input, k=2)",
             hint="The window's output is the mean of its k*k = 4 entries (Hint 1); the last row and column are in "
                  "no window.")
g = torch.Generator().manual_seed(6)
x = torch.randn(2, 3, 8, 7, generator=g, dtype=torch.float64)
xr = x.clone().requires_grad_()
y = F.avg_pool2d(xr, 3, 2)
dout = torch.randn(y.shape, generator=g, dtype=torch.float64)
y.backward(dout)
expect_close(avg_pool2d_backward(dout, x, 3, stride=2), xr.grad, what="overlapping windows (k=3, stride=2) vs autograd",
             hint="Each window's output is a mean over k*k entries, and an entry in two windows is on two paths to "
                  "the loss.")

# %% nbgrader={"grade": true, "grade_id": "test_avg_pool2d_backward_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("avg_pool2d_backward", avg_pool2d_backward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Concept question 3: `concept_equivariance`
#
# Shift an image 2 pixels to the right (far from the borders, so that nothing falls off). What happens to
# the feature map of a convolution layer (stride 1), and to a $2\times2$ max pooling (stride 2) of that map?
#
# - **a.** Neither changes: a convolution is translation invariant, since it uses the same filter everywhere.
# - **b.** The feature map shifts 2 pixels to the right (the convolution is translation *equivariant*), and the
#   pooled map shifts by 1 position; pooling is only approximately invariant, to shifts within its window.
# - **c.** The feature map shifts 2 pixels to the right, and the pooled map does not change: max pooling makes
#   the network translation invariant.
# - **d.** The feature map shifts 2 pixels and its values change too, because the filter now sees other pixels.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "concept_equivariance", "locked": false, "schema_version": 3, "solution": true}
def concept_equivariance():
    """Your answer to concept question 3: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_equivariance", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(concept_equivariance() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_concept_equivariance_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_equivariance", concept_equivariance)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Transposed convolution: upsampling
#
# Segmentation networks (the U-Net of textbook §8.3 and discussion 5, §3) must turn small feature maps back
# into full-size images. The **transposed convolution** does it. Write a convolution as $y = A x$ with the
# sparse matrix $A$ of §2; the transposed convolution is $x' = A^\top y'$: it maps an input of the
# convolution's *output* size to an output of its *input* size, and it is exactly the operation that
# computed $\partial L / \partial x$ in the backward pass (exercise 6). Concretely, every input pixel
# $x_{c i j}$ stamps the kernel $w_c$, scaled by $x_{c i j}$, onto the output at offset $(S i, S j)$; stamps
# overlap and add; finally $P$ rows and columns are cropped on every side. The output size inverts the
# convolution's:
#
# $$H_\text{out} = (H - 1) S - 2P + k_h .$$
#
# A stride $S > 1$ spreads the stamps apart, which is how the operation upsamples. Torch stores its
# weights as `(C_in, C_out, kh, kw)`, *input* channels first, since it is the transpose of a convolution from
# `C_out` to `C_in` channels. (Some call it "deconvolution"; it does not invert a convolution.)
#
# Discussion 5, problem 2 works one example by hand: input $\begin{bmatrix}0&1\\2&3\end{bmatrix}$ and
# kernel $\begin{bmatrix}0&1\\2&3\end{bmatrix}$ give $\begin{bmatrix}0&0&1\\0&4&6\\4&12&9\end{bmatrix}$.
#
# ### Exercise 11: `conv_transpose2d`
#
# Implement `conv_transpose2d(x, w, b=None, stride=1, padding=0)` with `x` of shape `(N, C_in, H, W)`,
# `w` of shape `(C_in, C_out, kh, kw)`, `b` of shape `(C_out,)` or None, returning
# `(N, C_out, H_out, W_out)` equal to `F.conv_transpose2d(x, w, b, stride=stride, padding=padding)`. A loop
# over the input positions (or over the kernel taps) is fine: build the uncropped output of size
# `(H - 1) S + kh`, add the stamps, crop `padding` on each side, add the bias.

# %% nbgrader={"grade": false, "grade_id": "conv_transpose2d", "locked": false, "schema_version": 3, "solution": true}
def conv_transpose2d(x, w, b=None, stride=1, padding=0):
    """Transposed convolution, like F.conv_transpose2d.

    Args:
        x: input, shape (N, C_in, H, W).
        w: weights, shape (C_in, C_out, kh, kw).
        b: bias, shape (C_out,), or None.
        stride, padding: ints.
    Returns:
        tensor of shape (N, C_out, (H-1)*stride - 2*padding + kh, (W-1)*stride - 2*padding + kw).
    """
    ### BEGIN SOLUTION
    n, cin, h, wd = x.shape
    _, cout, kh, kw = w.shape
    full = x.new_zeros(n, cout, (h - 1) * stride + kh, (wd - 1) * stride + kw)
    for p in range(kh):
        for q in range(kw):
            # tap (p, q) of every stamp lands on the strided grid starting at (p, q)
            full[:, :, p:p + stride * (h - 1) + 1:stride, q:q + stride * (wd - 1) + 1:stride] += \
                torch.einsum("nchw,cd->ndhw", x, w[:, :, p, q])
    out = full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv_transpose2d", "locked": true, "points": 1, "schema_version": 3, "solution": false}
t = torch.tensor([[[[0.0, 1.0], [2.0, 3.0]]]], dtype=torch.float64)
expect_close(conv_transpose2d(t, t), torch.tensor([[[[0.0, 0.0, 1.0], [0.0, 4.0, 6.0], [4.0, 12.0, 9.0]]]], dtype=torch.float64),
             what="conv_transpose2d of discussion 5, problem 2",
             hint="Stamp the kernel, scaled by each input pixel, at offset (i, j), and add overlapping stamps; "
                  "do not flip the kernel.")
g = torch.Generator().manual_seed(7)
x = torch.randn(2, 3, 4, 5, generator=g, dtype=torch.float64)
w = torch.randn(3, 2, 3, 4, generator=g, dtype=torch.float64)
b = torch.randn(2, generator=g, dtype=torch.float64)
expect_close(conv_transpose2d(x, w, b, stride=2, padding=1), F.conv_transpose2d(x, w, b, stride=2, padding=1),
             what="conv_transpose2d(x, w, b, stride=2, padding=1) vs F.conv_transpose2d",
             hint="Stamps sit `stride` apart; padding CROPS the output (it does not add zeros).")

# %% nbgrader={"grade": true, "grade_id": "test_conv_transpose2d_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("conv_transpose2d", conv_transpose2d)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Detection: IoU and non-maximum suppression
#
# A classifier says *what* is in an image; a detector also says *where*, with a bounding box per object
# (discussion 5, §1; textbook §8.2). Detectors such as R-CNN, Faster R-CNN or YOLO propose many boxes with
# confidence scores, and two small computations turn those proposals into an answer.
#
# **Intersection over union.** Write a box as $(x_1, y_1, x_2, y_2)$, its top-left and bottom-right corners,
# with $x_1 \le x_2$, $y_1 \le y_2$. We use continuous coordinates, so the area is
# $(x_2 - x_1)(y_2 - y_1)$. (Some older code treats corners as inclusive pixel indices and adds 1 to each
# side; we do **not**.) The intersection of two boxes is the box
# $(\max x_1, \max y_1, \min x_2, \min y_2)$, whose width and height must be **clamped at 0** when the boxes
# do not overlap (otherwise two negative sides would multiply to a positive area). Then
#
# $$\text{IoU}(A, B) = \frac{|A \cap B|}{|A \cup B|} = \frac{|A \cap B|}{|A| + |B| - |A \cap B|} \in [0, 1].$$
#
# A detection usually counts as correct when its IoU with a true box exceeds 0.5 (discussion 5, problem 1,
# computes the average precision from such a threshold). If the union is 0 (two empty boxes) we define the
# IoU as 0.
#
# **Non-maximum suppression (NMS).** A detector typically fires several overlapping boxes on the same
# object. Greedy NMS keeps the best one and drops its near duplicates: visit the boxes by **decreasing
# score** (equal scores: lower index first); keep a box unless its IoU with a box **already kept** is
# strictly greater than the threshold. A box removed earlier does not remove others: in a chain A, B, C
# where A overlaps B, B overlaps C, but A does not overlap C, NMS keeps A and C.
#
# ### Exercise 12: `box_iou`
#
# Implement `box_iou(boxes1, boxes2)` for tensors of shapes `(M, 4)` and `(K, 4)`, returning the `(M, K)`
# matrix of IoUs, vectorized by broadcasting (`boxes1[:, None, :]` against `boxes2[None, :, :]`).

# %% nbgrader={"grade": false, "grade_id": "box_iou", "locked": false, "schema_version": 3, "solution": true}
def box_iou(boxes1, boxes2):
    """Pairwise intersection over union of boxes (x1, y1, x2, y2).

    Args:
        boxes1: shape (M, 4).
        boxes2: shape (K, 4).
    Returns:
        tensor of shape (M, K); 0 where the union is empty.
    """
    ### BEGIN SOLUTION
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    top_left = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    bottom_right = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    sides = (bottom_right - top_left).clamp(min=0)
    inter = sides[..., 0] * sides[..., 1]
    union = area1[:, None] + area2[None, :] - inter
    return torch.where(union > 0, inter / torch.where(union > 0, union, torch.ones_like(union)),
                       torch.zeros_like(union))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_box_iou", "locked": true, "points": 1, "schema_version": 3, "solution": false}
a = torch.tensor([[0.0, 0.0, 2.0, 2.0]], dtype=torch.float64)
b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 2.0], [2.0, 0.0, 4.0, 2.0],
                  [3.0, 3.0, 4.0, 4.0]], dtype=torch.float64)
expect_close(box_iou(a, b), torch.tensor([[1 / 7, 1.0, 0.5, 0.0, 0.0]], dtype=torch.float64),
             what="box_iou([0, 0, 2, 2], five boxes)",
             hint="Area is (x2 - x1) * (y2 - y1) with no +1; union = area1 + area2 - intersection; clamp the "
                  "intersection's sides at 0 (the last box is apart in both x and y).")
expect_shape(box_iou(b, a), (5, 1), what="box_iou(five boxes, one box)")

# %% nbgrader={"grade": true, "grade_id": "test_box_iou_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("box_iou", box_iou)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 13: `nms`
#
# Implement `nms(boxes, scores, iou_threshold)`: `boxes` of shape `(B, 4)`, `scores` of shape `(B,)`.
# Return the indices of the kept boxes as an int64 tensor, **in the order they were kept** (decreasing
# score). Sort with `torch.sort(scores, descending=True, stable=True)` so equal scores keep their index order;
# compute `box_iou(boxes, boxes)` once, then a loop over the sorted boxes is fine.

# %% nbgrader={"grade": false, "grade_id": "nms", "locked": false, "schema_version": 3, "solution": true}
def nms(boxes, scores, iou_threshold):
    """Greedy non-maximum suppression.

    Args:
        boxes: shape (B, 4), rows (x1, y1, x2, y2).
        scores: shape (B,).
        iou_threshold: float; a box is dropped if its IoU with a kept box is > iou_threshold.
    Returns:
        int64 tensor of kept indices, by decreasing score.
    """
    ### BEGIN SOLUTION
    order = torch.sort(scores, descending=True, stable=True).indices.tolist()
    iou = box_iou(boxes, boxes)
    keep = []
    for i in order:
        if all(iou[i, j] <= iou_threshold for j in keep):
            keep.append(i)
    return torch.tensor(keep, dtype=torch.long, device=boxes.device)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_nms", "locked": true, "points": 1, "schema_version": 3, "solution": false}
boxes = torch.tensor([[0.0, 0.0, 2.0, 2.0],    # 0: overlaps 1 (IoU 0.6)
                      [0.5, 0.0, 2.5, 2.0],    # 1: the best box
                      [5.0, 5.0, 6.0, 6.0],    # 2: far away
                      [1.0, 0.0, 3.0, 2.0]],   # 3: overlaps 1 (IoU 0.6) and 0 (IoU 0.33)
                     dtype=torch.float64)
scores = torch.tensor([0.8, 0.9, 0.3, 0.7], dtype=torch.float64)
keep = nms(boxes, scores, 0.5)
expect_true(torch.is_tensor(keep) and keep.dtype == torch.int64, "nms should return an int64 tensor of indices.")
expect_true(keep.tolist() == [1, 2], f"nms(...) should keep [1, 2] (box 1 removes boxes 0 and 3), got {keep.tolist()}.",
            hint="Visit boxes by decreasing score; a box is removed by a KEPT box whose IoU with it is > threshold.")
chain = torch.tensor([[0.0, 0.0, 2.0, 2.0], [1.0, 0.0, 3.0, 2.0], [2.0, 0.0, 4.0, 2.0]], dtype=torch.float64)
keep = nms(chain, torch.tensor([0.9, 0.8, 0.7], dtype=torch.float64), 0.3)
expect_true(keep.tolist() == [0, 2], f"on the chain A-B-C, nms should keep [0, 2], got {keep.tolist()}.",
            hint="Box 1 is removed by box 0; a removed box must not remove box 2.")
keep = nms(chain, torch.tensor([0.7, 0.8, 0.9], dtype=torch.float64), 0.3)
expect_true(keep.tolist() == [2, 0], f"with reversed scores nms should keep [2, 0] (by decreasing score), got {keep.tolist()}.",
            hint="Sort by score first, and return the indices in the order they were kept.")
pair = torch.tensor([[0.0, 0.0, 3.0, 1.0], [1.0, 0.0, 4.0, 1.0]], dtype=torch.float64)  # IoU exactly 0.5
keep = nms(pair, torch.tensor([0.9, 0.8], dtype=torch.float64), 0.5)
expect_true(keep.tolist() == [0, 1], f"two boxes with IoU exactly 0.5 and threshold 0.5: keep both, got {keep.tolist()}.",
            hint="Suppress only when the IoU is strictly greater than the threshold.")

# %% nbgrader={"grade": true, "grade_id": "test_nms_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("nms", nms)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# Here is NMS at work on made-up detections: three clusters of noisy boxes around three "objects", each box
# with a score that falls with its distance from the object. Move the threshold: at 0 any overlap suppresses
# (neighbouring objects can be lost), near 1 almost nothing is suppressed (duplicates survive).

# %%
from matplotlib.patches import Rectangle

g = torch.Generator().manual_seed(3)
centers = torch.tensor([[3.0, 3.0], [6.5, 4.0], [4.5, 7.0]])
noise = torch.randn(3, 8, 4, generator=g) * 0.35
demo_boxes = (torch.cat([centers - 1.2, centers + 1.2], dim=1)[:, None, :] + noise).reshape(-1, 4)
demo_scores = torch.exp(-noise.pow(2).sum(-1)).reshape(-1)


def show_nms(iou_threshold=0.5):
    keep = set(nms(demo_boxes, demo_scores, iou_threshold).tolist())
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for i, (x1, y1, x2, y2) in enumerate(demo_boxes.tolist()):
        kept = i in keep
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, lw=2.5 if kept else 0.8,
                               color="C3" if kept else "0.6", alpha=1.0 if kept else 0.6))
    ax.set_xlim(0, 10); ax.set_ylim(0, 10); ax.set_aspect("equal")
    ax.set_title(f"threshold {iou_threshold:.2f}: {len(keep)} of {len(demo_boxes)} boxes kept")
    plt.show()


interact(show_nms, iou_threshold=(0.0, 1.0, 0.05));

# %% [markdown]
# ## 7. Filters on a digit
#
# Before any learning, a convolution with a hand-made filter already finds structure. The Sobel filters
# respond to horizontal and vertical intensity changes (edges), the Laplacian to blobs and corners, a box
# filter blurs. Pick a filter and a digit: the response map is your `conv2d_naive` with padding 1, so it has
# the size of the image.

# %%
from course.data import load_digits

X_train, y_train, X_test, y_test = load_digits(seed=0)
img_train, img_test = X_train.reshape(-1, 1, 8, 8), X_test.reshape(-1, 1, 8, 8)

FILTERS = {
    "vertical edges (Sobel x)": [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]],
    "horizontal edges (Sobel y)": [[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]],
    "diagonal edges": [[0.0, 1.0, 2.0], [-1.0, 0.0, 1.0], [-2.0, -1.0, 0.0]],
    "Laplacian (blobs)": [[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]],
    "box blur": [[1 / 9] * 3] * 3,
}


def show_filter(filter_name="vertical edges (Sobel x)", index=0):
    kernel = torch.tensor(FILTERS[filter_name]).reshape(1, 1, 3, 3)
    image = img_train[index:index + 1]
    response = conv2d_naive(image, kernel, torch.zeros(1), stride=1, padding=1)
    fig, axes = plt.subplots(1, 3, figsize=(9, 3))
    axes[0].imshow(image[0, 0], cmap="gray_r"); axes[0].set_title(f"digit {y_train[index].item()}")
    axes[1].imshow(kernel[0, 0], cmap="RdBu_r", vmin=-2, vmax=2); axes[1].set_title("filter")
    lim = response.abs().max().item() + 1e-12
    axes[2].imshow(response[0, 0], cmap="RdBu_r", vmin=-lim, vmax=lim); axes[2].set_title("response")
    for ax in axes:
        ax.set_xticks([]); ax.set_yticks([])
    plt.show()


interact(show_filter, filter_name=list(FILTERS), index=(0, 30, 1));

# %% [markdown]
# ## 8. A tiny CNN on the digits
#
# Now let the network learn its own filters. The architecture is a miniature LeNet (discussion 4, §1;
# textbook §7.5): convolution (8 filters of $3 \times 3$, padding 1) → ReLU → $2 \times 2$ max pooling →
# a linear layer from the $8 \times 4 \times 4 = 128$ pooled features to the 10 classes. It has
# $8 \cdot 9 + 8 + 128 \cdot 10 + 10 = 1370$ parameters (a linear classifier on the 64 pixels has 650). We
# use torch's own layers and Adam to train it for 15 epochs with a fixed seed, and the cross-entropy
# loss of chapter 03 (`F.cross_entropy`, mean over the batch).
#
# With seed 0 the test accuracy after 15 epochs is about **98%** (97.8% on our machine; the last digit
# can vary slightly across machines and torch versions). A linear softmax classifier on the same split
# already reaches about 96-97%: on images as small as 8x8 the convolution's advantage is modest, and it
# grows with the size of the images.

# %%
from tqdm.auto import tqdm

torch.manual_seed(0)
cnn = torch.nn.Sequential(
    torch.nn.Conv2d(1, 8, kernel_size=3, padding=1),
    torch.nn.ReLU(),
    torch.nn.MaxPool2d(2),
    torch.nn.Flatten(),
    torch.nn.Linear(8 * 4 * 4, 10),
)
optimizer = torch.optim.Adam(cnn.parameters(), lr=0.01)
batch_gen = torch.Generator().manual_seed(0)
history = []
for epoch in tqdm(range(15), desc="epochs"):
    perm = torch.randperm(len(img_train), generator=batch_gen)
    for start in range(0, len(perm), 64):
        idx = perm[start:start + 64]
        loss = F.cross_entropy(cnn(img_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        history.append((cnn(img_test).argmax(1) == y_test).float().mean().item())
print(f"test accuracy after {len(history)} epochs: {history[-1]:.3f}")
plt.figure(figsize=(5, 3))
plt.plot(range(1, len(history) + 1), history, marker="o")
plt.xlabel("epoch"); plt.ylabel("test accuracy"); plt.title("tiny CNN on the 8x8 digits")
plt.show()

# %% [markdown]
# The layers you wrote compute the same thing as torch's. The next cell runs the trained network's
# first two layers with your `conv2d_forward` and `pool2d_forward` and compares the result with torch's
# modules (no output on success).

# %%
with needs_exercises():
    with torch.no_grad():
        conv_layer = cnn[0]
        ours, _ = conv2d_forward(img_test[:16], conv_layer.weight, conv_layer.bias, 1, 1)
        ours = pool2d_forward(torch.relu(ours), 2)
        theirs = cnn[2](cnn[1](conv_layer(img_test[:16])))
        expect_close(ours, theirs, what="your conv + ReLU + max pool vs torch's modules")

# %% [markdown]
# What did it learn? Below, the eight $3 \times 3$ filters of the first layer, and their responses (after the
# ReLU) on a test digit of your choice. Several filters usually look like the edge detectors of §7, tuned
# to the strokes of handwritten digits.

# %%
def show_feature_maps(index=0):
    with torch.no_grad():
        image = img_test[index:index + 1]
        maps = torch.relu(cnn[0](image))[0]
        pred = cnn(image).argmax(1).item()
        filters = cnn[0].weight[:, 0].detach()
    fig, axes = plt.subplots(2, 9, figsize=(13, 3.2))
    axes[0, 0].imshow(image[0, 0], cmap="gray_r")
    axes[0, 0].set_title(f"label {y_test[index].item()}, pred {pred}", fontsize=8)
    axes[1, 0].axis("off")
    lim = filters.abs().max().item()
    for f in range(8):
        axes[0, f + 1].imshow(filters[f], cmap="RdBu_r", vmin=-lim, vmax=lim)
        axes[0, f + 1].set_title(f"filter {f}", fontsize=8)
        axes[1, f + 1].imshow(maps[f], cmap="viridis")
    for ax in axes.ravel():
        ax.set_xticks([]); ax.set_yticks([])
    plt.show()


interact(show_feature_maps, index=(0, 40, 1));

# %% [markdown]
# ## 9. Make it work: your CNN on wandering digits
#
# On the 8x8 digits above, the CNN barely beats a linear classifier, because every digit sits at the same
# place. Now paste each digit at a **random position** of a blank $12 \times 12$ canvas (`load_shifted_digits`):
# the same stroke lands on different pixels in every image, and a linear classifier on the pixels has to learn
# every digit at every one of the 25 positions. The cell below trains one: it gets about a third of the
# held-out digits right.
#
# A CNN can do much better, *if its head sees no positions at all*. Our network: a $3\times3$ convolution
# (`C1` filters, padding 1) → ReLU → $2\times2$ max pooling → a $3\times3$ convolution (`C2` filters,
# padding 1) → ReLU → the **average over all positions** of each channel (a vector of `C2` numbers per image)
# → a linear layer to the 10 classes, `feat @ W + b`. The convolutions are translation equivariant and the
# average turns that into invariance (concept question 3), so the whole job of recognizing a digit falls on
# the filters. With random filters the head gets about 20% of the digits right: the accuracy must come from
# filters trained by *your* backward passes.

# %%
from course.shifted_digits import cnn_accuracy, load_shifted_digits

digits_train, labels_train, digits_test, labels_test = load_shifted_digits(seed=0)
fig, axes = plt.subplots(1, 8, figsize=(10, 1.6))
for ax, image, label in zip(axes, digits_train, labels_train):
    ax.imshow(image[0], cmap="gray_r"); ax.set_title(f"{label.item()}", fontsize=9)
    ax.set_xticks([]); ax.set_yticks([])
plt.show()

torch.manual_seed(0)
linear = torch.nn.Linear(144, 10)
linear_optimizer = torch.optim.Adam(linear.parameters(), lr=0.05)
for _ in range(300):
    linear_loss = F.cross_entropy(linear(digits_train.reshape(-1, 144)), labels_train)
    linear_optimizer.zero_grad()
    linear_loss.backward()
    linear_optimizer.step()
with torch.no_grad():
    linear_accuracy = (linear(digits_test.reshape(-1, 144)).argmax(1) == labels_test).float().mean().item()
print(f"a linear classifier on the 144 pixels: held-out accuracy {linear_accuracy:.3f}")

# %% [markdown]
# ### Exercise 14: `cnn_gradients`
#
# The stepping stone: implement `cnn_gradients(params, x, y)` for the network above, with your own layers.
# `params` is a dict of tensors `"w1"` `(C1, C, 3, 3)`, `"b1"` `(C1,)`, `"w2"` `(C2, C1, 3, 3)`, `"b2"` `(C2,)`,
# `"W"` `(C2, K)`, `"b"` `(K,)`; `x` has shape `(N, C, H, W)` and `y` holds `N` labels in `0..K-1`. Return
# `(loss, grads)`: the mean softmax cross-entropy of the logits as a 0-dim tensor of `x`'s dtype (use a
# log-sum-exp, chapter 03), and a dict of its gradients with the keys and shapes of `params`.
#
# Run the forward pass with your `conv2d_forward` (stride 1, padding 1) and `pool2d_forward`, keeping what the
# backward pass needs, then go back through it with your `conv2d_backward` and `max_pool2d_backward`. No
# autograd: the point is to chain your own backward passes.
#
# <details><summary>Hint 1: the head</summary>
#
# The gradient of the mean cross-entropy on the logits is the softmax minus the one-hot labels, divided by
# $N$ (chapter 03). From there the linear layer is the affine layer of chapter 04: which matrix multiplies
# the gradient for `W`, and what flows back into the features?
# </details>
#
# <details><summary>Hint 2: the average over positions</summary>
#
# Each feature is the mean of the $H_2 W_2$ entries of one channel of the last feature map. Its gradient is
# shared out among them: each entry receives the same share. (It is the average pooling of Exercise 10 with
# one window as large as the map.)
# </details>
#
# <details><summary>Hint 3: ReLUs and the order of the calls</summary>
#
# A ReLU passes the gradient where its input was strictly positive and blocks it elsewhere (torch's rule at
# 0). The second convolution's backward gives its weight and bias gradients *and* the gradient on its
# input, the pooled map: the max pooling's backward takes that to the first ReLU's output, the mask to the
# first convolution's output, and the first convolution's backward gives `w1` and `b1` (its input gradient is
# not needed).
# </details>

# %% nbgrader={"grade": false, "grade_id": "cnn_gradients", "locked": false, "schema_version": 3, "solution": true}
def cnn_gradients(params, x, y):
    """Loss and gradients of conv-ReLU-maxpool-conv-ReLU-average-linear, from your own layers.

    Args:
        params: dict "w1" (C1, C, 3, 3), "b1" (C1,), "w2" (C2, C1, 3, 3), "b2" (C2,), "W" (C2, K), "b" (K,).
        x: images, shape (N, C, H, W).
        y: labels, shape (N,), int64.
    Returns:
        (loss, grads): loss a 0-dim tensor (mean cross-entropy), grads a dict with the keys and shapes of params.
    """
    ### BEGIN SOLUTION
    n = x.shape[0]
    a1, cache1 = conv2d_forward(x, params["w1"], params["b1"], 1, 1)
    r1 = a1.clamp(min=0)
    p1 = pool2d_forward(r1, 2)
    a2, cache2 = conv2d_forward(p1, params["w2"], params["b2"], 1, 1)
    r2 = a2.clamp(min=0)
    feat = r2.mean(dim=(2, 3))
    z = feat @ params["W"] + params["b"]
    log_probs = z - z.logsumexp(dim=1, keepdim=True)
    rows = torch.arange(n)
    loss = -log_probs[rows, y].mean()
    dz = log_probs.exp()
    dz[rows, y] -= 1.0
    dz = dz / n
    grads = {"W": feat.t() @ dz, "b": dz.sum(dim=0)}
    dr2 = (dz @ params["W"].t())[:, :, None, None].expand_as(r2) / (r2.shape[2] * r2.shape[3])
    dp1, grads["w2"], grads["b2"] = conv2d_backward(dr2 * (a2 > 0), cache2)
    dr1 = max_pool2d_backward(dp1, r1, 2)
    _, grads["w1"], grads["b1"] = conv2d_backward(dr1 * (a1 > 0), cache1)
    return loss, grads
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_cnn_gradients", "locked": true, "points": 1, "schema_version": 3, "solution": false}
g = torch.Generator().manual_seed(14)
x = torch.randn(3, 1, 8, 8, generator=g, dtype=torch.float64)
y = torch.tensor([1, 0, 2])
params = {"w1": torch.randn(2, 1, 3, 3, generator=g, dtype=torch.float64), "b1": torch.full((2,), 0.1, dtype=torch.float64),
          "w2": torch.randn(3, 2, 3, 3, generator=g, dtype=torch.float64), "b2": torch.full((3,), 0.1, dtype=torch.float64),
          "W": torch.randn(3, 3, generator=g, dtype=torch.float64), "b": torch.zeros(3, dtype=torch.float64)}
loss, grads = cnn_gradients(params, x, y)
leaves = {k: v.clone().requires_grad_() for k, v in params.items()}
hidden = F.max_pool2d(F.relu(F.conv2d(x, leaves["w1"], leaves["b1"], padding=1)), 2)
hidden = F.relu(F.conv2d(hidden, leaves["w2"], leaves["b2"], padding=1))
torch_loss = F.cross_entropy(hidden.mean(dim=(2, 3)) @ leaves["W"] + leaves["b"], y)
torch_loss.backward()
expect_close(loss, torch_loss.detach(), what="the loss",
             hint="The mean over the batch of the cross-entropy of the logits feat @ W + b.")
expect_true(isinstance(grads, dict) and set(grads) == set(params), "grads should be a dict with the keys of params.")
for name in ("W", "b", "w2", "b2", "w1", "b1"):  # in the order the backward pass computes them
    expect_close(grads[name], leaves[name].grad, what=f"grads[{name!r}] vs autograd",
                 hint="Compare the layers from the top: the first wrong gradient points at the step that went "
                      "wrong (Hints 1-3).")

# %% nbgrader={"grade": true, "grade_id": "test_cnn_gradients_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("cnn_gradients", cnn_gradients)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 15: `train_digits_cnn`
#
# Implement `train_digits_cnn(images, labels, seed=0)` (add keyword arguments with defaults if you like): train
# the network of Exercise 14 with your `cnn_gradients` and an optimizer you write yourself (no autograd, no
# `torch.optim`), and return its parameters as a dict of float tensors `"w1"` `(C1, 1, 3, 3)`, `"b1"` `(C1,)`,
# `"w2"` `(C2, C1, 3, 3)`, `"b2"` `(C2,)`, `"W"` `(C2, 10)`, `"b"` `(10,)` with `C1 <= 16` and `C2 <= 32`.
# `images` has shape `(N, 1, 12, 12)`; use `seed` for every random draw (initial weights, mini-batches), so
# that a run can be repeated exactly.
#
# **The target.** The grader calls your function on the training parts of two splits of its own, with two
# seeds, and measures each trained network on the held-out part of its split, which never reaches your
# notebook: the accuracy must be at least **0.6** (a linear classifier on the pixels: about 0.35; the
# reference: 0.71 to 0.90 over seeds). Training must stay short: a few seconds on one core (the reference,
# 300 Adam steps of 64 images, takes about 1.5 s). Below, your function is trained on this notebook's training
# part and measured on its test part.
#
# <details><summary>Hint 1: the initial weights</summary>
#
# Small random filters, scaled so that the variance of a layer's outputs is about that of its inputs after
# a ReLU (He: standard deviation $\sqrt{2 / (C k_h k_w)}$ for a convolution reading $C$ channels), zero
# biases, and head weights of standard deviation $1/\sqrt{C_2}$. Zero filters would never learn: every filter
# would get the same gradient.
# </details>
#
# <details><summary>Hint 2: a schedule that works</summary>
#
# `C1 = 8`, `C2 = 16`; 300 steps, each on 64 images drawn at random with your generator; Adam (chapter 05)
# with learning rate 0.02 and its bias correction.
# </details>
#
# <details><summary>Hint 3: if the accuracy stays low</summary>
#
# Check the sign (gradient *descent*), and that `cnn_gradients` and every layer it calls pass their tests:
# a weight gradient whose taps are flipped or transposed still moves the filters, but the wrong way, and
# the network ends near the 20% of random filters.
# </details>

# %% nbgrader={"grade": false, "grade_id": "train_digits_cnn", "locked": false, "schema_version": 3, "solution": true}
def train_digits_cnn(images, labels, seed=0, channels=(8, 16), steps=300, batch_size=64, lr=0.02):
    """Train the CNN of cnn_gradients with your own optimizer on random mini-batches.

    Args:
        images: (N, 1, H, W) float tensor; labels: (N,) digits 0..9; seed: seeds every random draw.
    Returns:
        dict of tensors "w1" (C1, 1, 3, 3), "b1" (C1,), "w2" (C2, C1, 3, 3), "b2" (C2,), "W" (C2, 10), "b" (10,),
        with C1 <= 16 and C2 <= 32.
    """
    ### BEGIN SOLUTION
    g = torch.Generator().manual_seed(seed)
    c1, c2 = channels
    params = {"w1": torch.randn(c1, 1, 3, 3, generator=g) * math.sqrt(2 / 9), "b1": torch.zeros(c1),
              "w2": torch.randn(c2, c1, 3, 3, generator=g) * math.sqrt(2 / (9 * c1)), "b2": torch.zeros(c2),
              "W": torch.randn(c2, 10, generator=g) / math.sqrt(c2), "b": torch.zeros(10)}
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
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_train_digits_cnn", "locked": true, "points": 1, "schema_version": 3, "solution": false}
import time
from course.shifted_digits import cnn_accuracy, load_shifted_digits

digits_train, labels_train, digits_test, labels_test = load_shifted_digits(seed=0)
_threads = torch.get_num_threads()
torch.set_num_threads(1)  # small matrices: one thread is as fast, as when the grader trains it
try:
    _start = time.perf_counter()
    _params = train_digits_cnn(digits_train, labels_train, seed=0)
    _seconds = time.perf_counter() - _start
finally:
    torch.set_num_threads(_threads)
_keys = ("w1", "b1", "w2", "b2", "W", "b")
expect_true(isinstance(_params, dict) and set(_keys) <= set(_params),
            'train_digits_cnn must return a dict with the keys "w1", "b1", "w2", "b2", "W" and "b".')
_c1, _c2 = _params["w1"].shape[0], _params["w2"].shape[0]
expect_true(_c1 <= 16 and _c2 <= 32, f"the network has C1 = {_c1} and C2 = {_c2} filters; at most 16 and 32.")
for _name, _shape in (("w1", (_c1, 1, 3, 3)), ("b1", (_c1,)), ("w2", (_c2, _c1, 3, 3)), ("b2", (_c2,)),
                      ("W", (_c2, 10)), ("b", (10,))):
    expect_shape(_params[_name], _shape, what=f"params[{_name!r}]")
_accuracy = cnn_accuracy(_params, digits_test, labels_test)
print(f"held-out accuracy {_accuracy:.3f} (target 0.6; a linear classifier on the pixels: about 0.35), "
      f"trained in {_seconds:.1f} s")
expect_true(_accuracy >= 0.6, f"the held-out accuracy {_accuracy:.3f} is below the target 0.6",
            hint="Every piece must be right first (Exercise 14 and the layers it calls); then look at the "
                 "initial weights (Hint 1) and the schedule (Hint 2).")

# %% nbgrader={"grade": true, "grade_id": "test_train_digits_cnn_2", "locked": true, "points": 6, "schema_version": 3, "solution": false}
# Hidden tests: two more seeds, on splits of the grader's, measured on held-out digits it keeps.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("train_digits_cnn", train_digits_cnn)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# Is your network invariant? Pick a held-out digit: the grid shows the network's prediction for the same
# digit pasted at every position of the canvas where it fits (green where it is right). A linear classifier
# on the pixels would need to have seen the digit at each of those places; your network reads it anywhere.

# %%
from course.shifted_digits import cnn_forward


def show_wandering_digit(index=0):
    if "_params" not in globals():
        print("This demo needs train_digits_cnn (exercise 15): implement it and run its test cell first.")
        return
    image = digits_test[index, 0]
    rows, cols = (image.sum(1) > 0).nonzero()[:, 0], (image.sum(0) > 0).nonzero()[:, 0]
    ink = image[rows.min():rows.max() + 1, cols.min():cols.max() + 1]  # the digit's bounding box
    n_rows, n_cols = 13 - ink.shape[0], 13 - ink.shape[1]
    moved = torch.zeros(n_rows * n_cols, 1, 12, 12)
    for k in range(n_rows * n_cols):
        i, j = divmod(k, n_cols)
        moved[k, 0, i:i + ink.shape[0], j:j + ink.shape[1]] = ink
    predictions = cnn_forward(_params, moved).argmax(1).reshape(n_rows, n_cols)
    label = labels_test[index].item()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.5))
    axes[0].imshow(image, cmap="gray_r")
    axes[0].set_title(f"label {label}, predicted {predictions[rows.min(), cols.min()].item()}")
    axes[1].imshow((predictions == label).float(), cmap="RdYlGn", vmin=0, vmax=1)
    for i in range(n_rows):
        for j in range(n_cols):
            axes[1].text(j, i, str(predictions[i, j].item()), ha="center", va="center", fontsize=8)
    axes[1].set_title(f"right at {(predictions == label).sum().item()} of {n_rows * n_cols} positions")
    for ax in axes:
        ax.set_xticks([]); ax.set_yticks([])
    plt.show()


interact(show_wandering_digit, index=(0, 40, 1));

# %% [markdown]
# ## 10. Style: the Gram matrix
#
# Style transfer (discussion 5, §5) repaints an image $x$ in the style of another image $a$ by running both
# through a CNN and matching *statistics* of their feature maps that forget where things are: the
# **Gram matrix** of a feature map records how strongly each pair of channels fires together, averaged over
# all positions. Flatten the map of one image to $F$ of shape $C \times M$, with $M = HW$ positions; then
#
# $$G = \tfrac{1}{M}\, F F^\top \in \mathbb R^{C \times C}, \qquad G_{c c'} = \frac1M \sum_{m} F_{c m} F_{c' m}.$$
#
# We normalise by the number of **positions** $M$ (some write $F F^\top$ without a factor, or divide by $C M$):
# then $G$ is an average, and the Gram matrices of maps of different sizes (a small generated image, a
# large painting) can be compared directly. The **style loss** between a generated map $x$ and a style map
# $s$ (of any size) is the squared Frobenius distance of their Gram matrices, summed over the batch,
#
# $$L = \sum_{n} \sum_{c, c'} \big(G(x)_{n c c'} - G(s)_{n c c'}\big)^2 .$$
#
# (The worksheet writes the unsquared norm $\|S(x) - S(a)\|_2$; style transfer as Gatys et al. define it, and
# as here, uses its square, whose gradient is simpler.) Style transfer then runs gradient descent on the
# *image*, so it needs $\partial L/\partial x$: derive it, in two steps (Exercises 17 and 18).
#
# ### Exercise 16: `gram_matrix`
#
# Implement `gram_matrix(features)` for `features` of shape `(N, C, H, W)`, returning the `(N, C, C)` Gram
# matrices normalised by `H * W`, one per image, with one batched matrix product.

# %% nbgrader={"grade": false, "grade_id": "gram_matrix", "locked": false, "schema_version": 3, "solution": true}
def gram_matrix(features):
    """Gram matrices of feature maps, normalised by the number of positions.

    Args:
        features: shape (N, C, H, W).
    Returns:
        tensor of shape (N, C, C): G[n] = F_n F_n^T / (H W) with F_n the (C, H*W) flattened map.
    """
    ### BEGIN SOLUTION
    n, c = features.shape[:2]
    flat = features.reshape(n, c, -1)
    return flat @ flat.transpose(1, 2) / flat.shape[2]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gram_matrix", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f = torch.tensor([[[[1.0, 2.0, 0.0]], [[0.0, 1.0, 1.0]]]], dtype=torch.float64)  # C = 2 channels, M = 3 positions
expect_close(gram_matrix(f), torch.tensor([[[5 / 3, 2 / 3], [2 / 3, 2 / 3]]], dtype=torch.float64),
             what="gram_matrix of a 2-channel map with 3 positions",
             hint="Entry (c, c') is the average over the positions of channel c times channel c'; the result is "
                  "C x C, whatever the number of positions.")
g = torch.Generator().manual_seed(16)
f = torch.randn(2, 3, 4, 5, generator=g, dtype=torch.float64)
expect_shape(gram_matrix(f), (2, 3, 3), what="gram_matrix of a (2, 3, 4, 5) map")

# %% nbgrader={"grade": true, "grade_id": "test_gram_matrix_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("gram_matrix", gram_matrix)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 17: `gram_backward`
#
# The stepping stone: the gradient through the Gram matrix alone. Given an upstream gradient
# `dgram` $= \Gamma = \partial L/\partial G$ of shape `(N, C, C)` (for any loss $L$ of the Gram matrices; $\Gamma$ need
# **not** be symmetric) and the maps `features` of shape `(N, C, H, W)`, return $\partial L/\partial F$, of the
# shape of `features`. No autograd: derive it.
#
# <details><summary>Hint 1: where one entry of F goes</summary>
#
# $G_{a b} = \frac1M \sum_m F_{a m} F_{b m}$. The entry $F_{c m}$ appears in the terms with $a = c$ (row $c$ of
# $G$) and in those with $b = c$ (column $c$). What is $\partial G_{c b}/\partial F_{c m}$, and
# $\partial G_{a c}/\partial F_{c m}$?
# </details>
#
# <details><summary>Hint 2: summing the two paths</summary>
#
# $\partial L/\partial F_{c m} = \sum_b \Gamma_{c b}\, \partial G_{c b}/\partial F_{c m} + \sum_a \Gamma_{a c}\,
# \partial G_{a c}/\partial F_{c m}$: two matrix products of $\Gamma$ (once as it is, once transposed) with $F$,
# each divided by $M$.
# </details>

# %% nbgrader={"grade": false, "grade_id": "gram_backward", "locked": false, "schema_version": 3, "solution": true}
def gram_backward(dgram, features):
    """Gradient with respect to the feature maps, given the gradient on their Gram matrices.

    Args:
        dgram: upstream gradient dL/dG, shape (N, C, C), not necessarily symmetric.
        features: shape (N, C, H, W).
    Returns:
        dL/dfeatures, shape (N, C, H, W).
    """
    ### BEGIN SOLUTION
    n, c, h, w = features.shape
    both = dgram + dgram.transpose(1, 2)
    return (both @ features.reshape(n, c, h * w) / (h * w)).reshape(features.shape)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gram_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f = torch.tensor([[[[1.0, 2.0, 0.0]], [[0.0, 1.0, 1.0]]]], dtype=torch.float64)  # C = 2, M = 3
dgram = torch.tensor([[[0.0, 3.0], [0.0, 0.0]]], dtype=torch.float64)  # only G[0, 1] = (1/3) sum_m F[0, m] F[1, m]
expect_close(gram_backward(dgram, f), torch.tensor([[[[0.0, 1.0, 1.0]], [[1.0, 2.0, 0.0]]]], dtype=torch.float64),
             what="gram_backward with a gradient on G[0, 1] only",
             hint="G[0, 1] moves with channel 0 (scaled by channel 1) AND with channel 1 (scaled by channel 0).")
g = torch.Generator().manual_seed(17)
x = torch.randn(2, 3, 4, 5, generator=g, dtype=torch.float64)
dgram = torch.randn(2, 3, 3, generator=g, dtype=torch.float64)
xr = x.clone().requires_grad_()
flat = xr.reshape(2, 3, 20)
((flat @ flat.transpose(1, 2) / 20) * dgram).sum().backward()
expect_close(gram_backward(dgram, x), xr.grad, what="gram_backward with a random (non-symmetric) dgram vs autograd",
             hint="Each entry of F reaches G through a row and through a column (Hint 2).")

# %% nbgrader={"grade": true, "grade_id": "test_gram_backward_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("gram_backward", gram_backward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 18: `style_loss`
#
# Implement `style_loss(features, style_features)` for `features` of shape `(N, C, H, W)` and `style_features`
# of shape `(N, C, H', W')` (its own size): return `(loss, dfeatures)`, the loss $L$ above as a 0-dim tensor
# and its gradient with respect to `features`, of the shape of `features`. Derive the gradient (no autograd);
# write $D_n = G(x)_n - G(s)_n$.
#
# <details><summary>Hint 1: the gradient on the Gram matrix</summary>
#
# $L$ is a sum of squares of the entries of $D$, and $G(s)$ does not depend on $x$: what is
# $\partial L / \partial G(x)_{n c c'}$?
# </details>
#
# <details><summary>Hint 2: through the product</summary>
#
# Your `gram_backward` (Exercise 17) takes that gradient the rest of the way. Is $D$ symmetric, and what
# does that make of its two terms?
# </details>
#
# <details><summary>Hint 3: the result</summary>
#
# $\dfrac{\partial L}{\partial F_n} = \dfrac{4}{M}\, D_n F_n$, reshaped to `(C, H, W)`; the factor 4 is
# 2 from the square times 2 from $F$ appearing twice in $F F^\top$.
# </details>

# %% nbgrader={"grade": false, "grade_id": "style_loss", "locked": false, "schema_version": 3, "solution": true}
def style_loss(features, style_features):
    """Squared Frobenius distance of Gram matrices, summed over the batch, and its gradient.

    Args:
        features: (N, C, H, W), the generated image's map.
        style_features: (N, C, H', W'), the style image's map.
    Returns:
        (loss, dfeatures): loss a 0-dim tensor; dfeatures of the shape of features.
    """
    ### BEGIN SOLUTION
    n, c, h, w = features.shape
    diff = gram_matrix(features) - gram_matrix(style_features)
    grad = 4.0 * diff @ features.reshape(n, c, h * w) / (h * w)
    return (diff * diff).sum(), grad.reshape(features.shape)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_style_loss", "locked": true, "points": 1, "schema_version": 3, "solution": false}
loss, grad = style_loss(torch.ones(1, 1, 2, 2, dtype=torch.float64), torch.zeros(1, 1, 3, 3, dtype=torch.float64))
expect_close(loss, torch.tensor(1.0, dtype=torch.float64), what="style_loss(ones (1, 1, 2, 2), zeros (1, 1, 3, 3))[0]",
             hint="G of a map of ones is 1 (an average); the style map's is 0.")
g = torch.Generator().manual_seed(17)
x = torch.randn(2, 3, 4, 5, generator=g, dtype=torch.float64)
s = torch.randn(2, 3, 6, 3, generator=g, dtype=torch.float64)
xr = x.clone().requires_grad_()
gx, gs = xr.reshape(2, 3, 20), s.reshape(2, 3, 18)
torch_loss = ((gx @ gx.transpose(1, 2) / 20 - gs @ gs.transpose(1, 2) / 18) ** 2).sum()
torch_loss.backward()
loss, grad = style_loss(x, s)
expect_close(loss, torch_loss.detach(), what="style_loss for maps of different sizes",
             hint="Each Gram matrix is normalised by the positions of its own map.")
expect_close(grad, xr.grad, what="the gradient vs autograd",
             hint="The square contributes its own factor before the Gram matrix's backward (Hints 1-2).")

# %% nbgrader={"grade": true, "grade_id": "test_style_loss_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("style_loss", style_loss)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## What you built
#
# - `conv_output_size`: $\lfloor (H + 2P - D(K-1) - 1)/S \rfloor + 1$, the bookkeeping behind every CNN.
# - `conv2d_naive`: the cross-correlation that deep-learning libraries call convolution, straight from its
#   definition.
# - `im2col` and `conv2d_forward`: the same layer as one dense matrix product over unrolled patches, the
#   way fast libraries compute it.
# - `conv2d_weight_grad` and `conv2d_backward`, derived by you: $\partial L/\partial b$ sums $\delta$,
#   $\partial L/\partial w$ correlates the input with $\delta$, and $\partial L/\partial x$ scatters
#   $W^\top \delta$ back onto the pixels (col2im), a full convolution with the flipped filter.
# - `pool2d_forward`, `max_pool2d_routing`, `max_pool2d_backward`, `avg_pool2d_backward`: pooling routes
#   gradients to the first maximum or spreads them evenly, adding where windows overlap.
# - `conv_transpose2d`: the adjoint of a convolution, the upsampling layer of segmentation networks.
# - `box_iou` and `nms`: the post-processing of every object detector.
# - A 1370-parameter CNN that reads digits, with filters that look like edge detectors.
# - `cnn_gradients` and `train_digits_cnn`: a network's backward pass chained from your own layers, and a CNN
#   trained by it that reads digits wherever they are on the canvas, where a linear classifier on the
#   pixels fails.
# - `gram_matrix`, `gram_backward` and `style_loss`: the statistics of a feature map that forget where
#   things are, and the gradient style transfer descends, derived by you.
#
# **Next:** chapter 08 (recurrent networks) shares weights across *time* instead of space: a recurrent
# network applies the same cell at every step of a sequence, and its backward pass (backpropagation through
# time) adds up the gradients of all the steps, just as the convolution's backward pass added up the
# gradients of all the positions of a filter.
