# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · RNNs, LSTMs, GRUs
#
# A sentence, a sound wave or a stock price arrives one element at a time, and the length varies from one
# example to the next. A recurrent network reads such a sequence with one small cell that it applies at
# every step, carrying a *hidden state* from each step to the next: the same weights at every time step,
# the way a convolution uses the same filter at every pixel. In this chapter you write the forward and
# backward passes of the vanilla RNN and of the LSTM from scratch, check them against `torch.nn`, see
# why gradients vanish or explode over long time lags, and train a small character-level language model.
#
# **Learning goals**
# - Write one step of a vanilla RNN and its gradients, and chain them into backpropagation through time
#   (BPTT) with a loss gradient arriving at every hidden state.
# - Write the LSTM cell (input, forget, candidate and output gates, the cell state) forward and backward,
#   and BPTT with two gradients travelling back in time: one on the hidden state, one on the cell state.
# - Map your weights onto `torch.nn.RNN`, `torch.nn.LSTM` and `torch.nn.GRUCell` (which store transposed
#   weights and stack the gates in a fixed order).
# - Explain vanishing and exploding gradients as products of Jacobians, and see how the LSTM's additive
#   cell update and gradient clipping by the global norm deal with them.
# - Train a character-level LSTM on a small corpus and sample text from it.
#
# **Notes followed.** *CS 182/282A discussion worksheets*, discussion 6 (§1 recurrent neural networks,
# unrolling and the vanishing/exploding gradient question; §2 the LSTM cell and backpropagation through
# it); *NYU deep learning notes*, lecture 6 "Recurrent Neural Nets" (the recurrence, BPTT, gradient
# clipping, GRU gates); the textbook's chapter 9 (§9.1 sequence modelling with RNNs, §9.2 input
# representation, §9.3 GRU and LSTM, with its remarks on gradient clipping); Kaplan, *Notes on
# Contemporary ML for Physicists*, §5.2 "Recurrent Structures".
#
# **Conventions used throughout.**
# - Sequences are **batch first**: an input sequence `x` has shape `(N, T, D)` (batch, time, features);
#   a hidden state has shape `(N, H)`, and the hidden states of a whole sequence `(N, T, H)`.
# - Weights multiply from the right: $x W_x$ with $W_x$ of shape `(D, kH)` and $h W_h$ with $W_h$ of shape
#   `(H, kH)` ($k = 1$ for the RNN, 4 for the LSTM, 3 for the GRU). `torch.nn` stores the transposes:
#   `Wx = weight_ih.T`, `Wh = weight_hh.T`.
# - LSTM gates are stacked in the order **i, f, g, o** (input, forget, candidate, output), the order of
#   `torch.nn.LSTM`, so `a.chunk(4, dim=1)` gives them in that order. (Some courses use i, f, o, g: the
#   equations are the same, only the blocks of the weight matrix are permuted.)
# - Backward functions receive the gradient of a scalar loss with respect to the outputs (same shapes as
#   the outputs) and return gradients with the shapes of the inputs, **summed** over the batch for the
#   weights and biases. Nothing is averaged.
# - Every function works on whatever device and dtype its inputs have, is vectorized over the batch (the
#   loop over time is fine: step $t$ needs step $t-1$), and must not modify its inputs.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import math
import numpy as np
import torch
import matplotlib.pyplot as plt
import ipywidgets as widgets
from course.checks import expect_close, expect_true, expect_shape
from course.demos import interact, needs_exercises

# %%
# The machine may be shared; one thread keeps the small matrix products of this chapter fast and predictable.
torch.set_num_threads(1)

# %% [markdown]
# ## 1. The vanilla RNN, one step at a time
#
# A vanilla (Elman) RNN keeps a hidden state $h_t \in \mathbb{R}^H$ and updates it from the input
# $x_t \in \mathbb{R}^D$ with
#
# $$ h_t = \tanh(a_t), \qquad a_t = x_t W_x + h_{t-1} W_h + b , $$
#
# where $W_x$ is $D \times H$, $W_h$ is $H \times H$ and $b \in \mathbb{R}^H$. The same three parameters
# are used at every step; a prediction at step $t$ (a next character, say) is read off $h_t$ by another
# layer. With a batch, $x_t$ is an `(N, D)` matrix and every row is updated independently. (Kaplan's
# §5.2.1 writes one matrix acting on the concatenation $(h_k, x_k)$ and a ReLU; cutting that matrix into
# the block that meets $h$ and the block that meets $x$ gives $W_h$ and $W_x$. We use tanh, the default of
# `torch.nn.RNN`.)
#
# For the backward pass we keep whatever the gradients need in a *cache*. In this chapter the caches have
# fixed layouts, so that your backward pass also works with the cache of another correct forward pass.
#
# ### Exercise 1: `rnn_step_forward`
#
# Implement `rnn_step_forward(x, h_prev, Wx, Wh, b)` with `x` of shape `(N, D)`, `h_prev` `(N, H)`, `Wx`
# `(D, H)`, `Wh` `(H, H)`, `b` `(H,)`. Return `(h, cache)` where `h` has shape `(N, H)` and
# `cache = (x, h_prev, Wx, Wh, h)` (in this order; `b` is not needed by the backward pass).

# %% nbgrader={"grade": false, "grade_id": "rnn_step_forward", "locked": false, "schema_version": 3, "solution": true}
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One RNN step, h = tanh(x @ Wx + h_prev @ Wh + b).

    Args:
        x: (N, D) inputs; h_prev: (N, H) previous hidden state;
        Wx: (D, H); Wh: (H, H); b: (H,).
    Returns:
        (h, cache): h of shape (N, H) and cache = (x, h_prev, Wx, Wh, h).
    """
    ### BEGIN SOLUTION
    h = torch.tanh(x @ Wx + h_prev @ Wh + b)
    return h, (x, h_prev, Wx, Wh, h)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_rnn_step_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# By hand: x @ Wx = [1, 2], h_prev @ Wh = [0, 1] (Wh is not symmetric!), b = [0.1, -0.2], so a = [1.1, 2.8].
x = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
h_prev = torch.tensor([[1.0, -1.0]], dtype=torch.float64)
Wx = torch.eye(2, dtype=torch.float64)
Wh = torch.tensor([[0.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
b = torch.tensor([0.1, -0.2], dtype=torch.float64)
h, cache = rnn_step_forward(x, h_prev, Wx, Wh, b)
expect_close(h, torch.tanh(torch.tensor([[1.1, 2.8]], dtype=torch.float64)), what="rnn_step_forward(...)[0]",
             hint="h = tanh(x @ Wx + h_prev @ Wh + b): h_prev multiplies Wh from the LEFT (not Wh.T), then tanh.")
expect_true(isinstance(cache, tuple) and len(cache) == 5, "cache should be the 5-tuple (x, h_prev, Wx, Wh, h).")
expect_close(cache[4], h, what="cache[4]", hint="The last entry of the cache is the new hidden state h.")
expect_close(cache[1], h_prev, what="cache[1]", hint="cache = (x, h_prev, Wx, Wh, h), in this order.")

# %% nbgrader={"grade": true, "grade_id": "test_rnn_step_forward_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("rnn_step_forward", rnn_step_forward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### The gradient of one step
#
# Let $\delta = \partial L / \partial a$ be the gradient on the pre-activation. Since
# $\tanh'(a) = 1 - \tanh^2(a)$ and $h = \tanh(a)$ is in the cache, $\delta = dh \odot (1 - h \odot h)$:
# the derivative is written with the **output** $h$, not with $\tanh$ applied once more. The rest is the
# backward pass of an affine map, row by row of the batch:
#
# $$ dx = \delta W_x^{\top}, \quad dh_{prev} = \delta W_h^{\top}, \quad dW_x = x^{\top} \delta, \quad
#    dW_h = h_{prev}^{\top} \delta, \quad db = \textstyle\sum_{n} \delta_{n,:} . $$
#
# Check the shapes: $h_{prev}^{\top}\delta$ is $(H, N)(N, H) = (H, H)$, and entry $(j, k)$ is
# $\sum_n h_{prev, nj}\, \delta_{nk}$, because $W_{h, jk}$ connects unit $j$ of the old state to unit $k$
# of the new one. The transpose $\delta^{\top} h_{prev}$ has the same shape, and is wrong.
#
# ### Exercise 2: `rnn_step_backward`
#
# Implement `rnn_step_backward(dh, cache)` with `dh` of shape `(N, H)` and the cache of exercise 1. Return
# `(dx, dh_prev, dWx, dWh, db)` with the shapes of `x, h_prev, Wx, Wh, b`.

# %% nbgrader={"grade": false, "grade_id": "rnn_step_backward", "locked": false, "schema_version": 3, "solution": true}
def rnn_step_backward(dh, cache):
    """Gradients of one RNN step.

    Args:
        dh: (N, H) gradient of the loss with respect to h.
        cache: (x, h_prev, Wx, Wh, h) from rnn_step_forward.
    Returns:
        (dx, dh_prev, dWx, dWh, db) with the shapes of x, h_prev, Wx, Wh, b.
    """
    ### BEGIN SOLUTION
    x, h_prev, Wx, Wh, h = cache
    da = dh * (1 - h * h)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(0)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_rnn_step_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Compare with autograd on random float64 inputs and a random upstream gradient.
g = torch.Generator().manual_seed(0)
x, h_prev = torch.randn(3, 4, generator=g, dtype=torch.float64), torch.randn(3, 5, generator=g, dtype=torch.float64)
Wx, Wh = torch.randn(4, 5, generator=g, dtype=torch.float64), torch.randn(5, 5, generator=g, dtype=torch.float64) / 2
b, dh = torch.randn(5, generator=g, dtype=torch.float64), torch.randn(3, 5, generator=g, dtype=torch.float64)
leaves = [t.clone().requires_grad_() for t in (x, h_prev, Wx, Wh, b)]
(torch.tanh(leaves[0] @ leaves[2] + leaves[1] @ leaves[3] + leaves[4]) * dh).sum().backward()
got = rnn_step_backward(dh, (x, h_prev, Wx, Wh, torch.tanh(x @ Wx + h_prev @ Wh + b)))
expect_true(isinstance(got, tuple) and len(got) == 5, "rnn_step_backward should return (dx, dh_prev, dWx, dWh, db).")
hints = {"db": "db is the sum over the batch of delta = dh * (1 - h**2): tanh' is written with the output h.",
         "dx": "dx = delta @ Wx.T.", "dh_prev": "dh_prev = delta @ Wh.T.", "dWx": "dWx = x.T @ delta.",
         "dWh": "dWh = h_prev.T @ delta (not delta.T @ h_prev, which is its transpose)."}
for name, value, leaf in sorted(zip(("dx", "dh_prev", "dWx", "dWh", "db"), got, leaves), key=lambda t: t[0] != "db"):
    expect_close(value, leaf.grad, what=name, hint=hints[name])

# %% nbgrader={"grade": true, "grade_id": "test_rnn_step_backward_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("rnn_step_backward", rnn_step_backward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 2. A whole sequence, and backpropagation through time
#
# Unrolled over $T$ steps, the RNN is a deep network of depth $T$ whose layers share their weights:
# $h_1 = \tanh(x_1 W_x + h_0 W_h + b)$, then $h_2$ from $h_1$, and so on. The forward pass is a loop over
# time that keeps every step's cache.
#
# ### Exercise 3: `rnn_forward`
#
# Implement `rnn_forward(x, h0, Wx, Wh, b)` with `x` of shape `(N, T, D)` and `h0` of shape `(N, H)`. Return
# `(h, cache)` where `h` of shape `(N, T, H)` holds $h_1, \dots, h_T$ (`h[:, t]` is the state after reading
# `x[:, t]`; $h_0$ is **not** included) and `cache` is the **list** of the $T$ step caches of
# `rnn_step_forward`, in time order. Use your `rnn_step_forward`.

# %% nbgrader={"grade": false, "grade_id": "rnn_forward", "locked": false, "schema_version": 3, "solution": true}
def rnn_forward(x, h0, Wx, Wh, b):
    """Run the RNN over a sequence.

    Args:
        x: (N, T, D) inputs; h0: (N, H) initial state; Wx: (D, H); Wh: (H, H); b: (H,).
    Returns:
        (h, cache): h of shape (N, T, H) with h_1..h_T, and the list of the T step caches.
    """
    ### BEGIN SOLUTION
    h, cache, hs = h0, [], []
    for t in range(x.shape[1]):
        h, step = rnn_step_forward(x[:, t], h, Wx, Wh, b)
        hs.append(h)
        cache.append(step)
    return torch.stack(hs, dim=1), cache
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_rnn_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# torch.nn.RNN with our weights copied in: weight_ih = Wx.T, weight_hh = Wh.T, and bias_ih + bias_hh = b.
g = torch.Generator().manual_seed(1)
x, h0 = torch.randn(2, 4, 3, generator=g, dtype=torch.float64), torch.randn(2, 5, generator=g, dtype=torch.float64)
Wx, Wh = torch.randn(3, 5, generator=g, dtype=torch.float64), torch.randn(5, 5, generator=g, dtype=torch.float64) / 2
b = torch.randn(5, generator=g, dtype=torch.float64)
rnn = torch.nn.RNN(3, 5, batch_first=True, dtype=torch.float64)
with torch.no_grad():
    rnn.weight_ih_l0.copy_(Wx.T), rnn.weight_hh_l0.copy_(Wh.T), rnn.bias_ih_l0.copy_(b), rnn.bias_hh_l0.zero_()
    expected = rnn(x, h0[None])[0]
h, cache = rnn_forward(x, h0, Wx, Wh, b)
expect_shape(h, (2, 4, 5), what="h (h0 is not part of the output)")
expect_close(h, expected, what="rnn_forward(...)[0] vs torch.nn.RNN",
             hint="Feed each step the state returned by the previous step, starting from h0.")
expect_true(isinstance(cache, list) and len(cache) == 4, "cache should be the list of the T = 4 step caches.")
expect_close(cache[2][1], expected[:, 1], what="cache[2][1] (h_prev of step 2)")

# %% nbgrader={"grade": true, "grade_id": "test_rnn_forward_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("rnn_forward", rnn_forward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Backpropagation through time (BPTT)
#
# A sequence model usually has a loss at every step, $L = \sum_t \ell_t(h_t)$, so the gradient
# `dh_all[:, t]` $= \partial L / \partial h_t$ *as a direct input* of the loss arrives at every hidden state.
# But $h_t$ also influences the loss through $h_{t+1}, h_{t+2}, \dots$. The total gradient on $h_t$ is
#
# $$ \frac{dL}{dh_t} = \underbrace{\texttt{dh\_all}[:, t]}_{\text{direct}} \;+\;
#    \underbrace{\frac{dL}{dh_{t+1}} \frac{\partial h_{t+1}}{\partial h_t}}_{\text{the } dh_{prev}
#    \text{ returned by step } t+1} , $$
#
# which is what we compute by walking backwards in time, $t = T-1, \dots, 0$: call
# `rnn_step_backward(dh_all[:, t] + dh_next, cache[t])`, keep its `dx` for step $t$, pass its `dh_prev` on
# as `dh_next`, and add up the weight gradients (the same $W_x, W_h, b$ are used at every step, so their
# gradients are sums over steps). At $t = T - 1$ nothing comes from the future: `dh_next` starts at zero.
# The last `dh_prev` is the gradient on $h_0$.
#
# Stopping the sum after one step (using only `dh_all[:, t]` at each step) is *truncated* BPTT with a
# window of one: cheaper, but it throws away every long-range dependence.
#
# ### Exercise 4: `rnn_backward`
#
# Implement `rnn_backward(dh_all, cache)` with `dh_all` of shape `(N, T, H)` and the list cache of
# exercise 3. Return `(dx, dh0, dWx, dWh, db)` with shapes `(N, T, D)`, `(N, H)`, `(D, H)`, `(H, H)`,
# `(H,)`. Use your `rnn_step_backward`.

# %% nbgrader={"grade": false, "grade_id": "rnn_backward", "locked": false, "schema_version": 3, "solution": true}
def rnn_backward(dh_all, cache):
    """Backpropagation through time for rnn_forward.

    Args:
        dh_all: (N, T, H) gradient of the loss with respect to every hidden state h_1..h_T.
        cache: the list of step caches from rnn_forward.
    Returns:
        (dx, dh0, dWx, dWh, db) of shapes (N, T, D), (N, H), (D, H), (H, H), (H,).
    """
    ### BEGIN SOLUTION
    T = dh_all.shape[1]
    dxs = [None] * T
    dh_next = torch.zeros_like(dh_all[:, 0])
    dWx = dWh = db = 0
    for t in reversed(range(T)):
        dx, dh_next, dWx_t, dWh_t, db_t = rnn_step_backward(dh_all[:, t] + dh_next, cache[t])
        dxs[t] = dx
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return torch.stack(dxs, dim=1), dh_next, dWx, dWh, db
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_rnn_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Autograd through torch.nn.RNN (weights copied in) with a random gradient on every hidden state.
g = torch.Generator().manual_seed(2)
x, h0 = torch.randn(2, 5, 3, generator=g, dtype=torch.float64), torch.randn(2, 4, generator=g, dtype=torch.float64)
Wx, Wh = torch.randn(3, 4, generator=g, dtype=torch.float64), torch.randn(4, 4, generator=g, dtype=torch.float64) / 2
b, dh_all = torch.randn(4, generator=g, dtype=torch.float64), torch.randn(2, 5, 4, generator=g, dtype=torch.float64)
rnn = torch.nn.RNN(3, 4, batch_first=True, dtype=torch.float64)
with torch.no_grad():
    rnn.weight_ih_l0.copy_(Wx.T), rnn.weight_hh_l0.copy_(Wh.T), rnn.bias_ih_l0.copy_(b), rnn.bias_hh_l0.zero_()
xr, h0r = x.clone().requires_grad_(), h0.clone().requires_grad_()
(rnn(xr, h0r[None])[0] * dh_all).sum().backward()
with torch.no_grad():
    _, cache = rnn_forward(x, h0, Wx, Wh, b)
dx, dh0, dWx, dWh, db = rnn_backward(dh_all, cache)
expect_close(dx[:, -1], xr.grad[:, -1], what="dx at the last step", hint="Walk backwards from t = T - 1.")
expect_close(dx, xr.grad, what="dx", hint="The gradient into step t is dh_all[:, t] PLUS the dh_prev of step t+1.")
expect_close(dh0, h0r.grad, what="dh0", hint="dh0 is the dh_prev returned by the step at t = 0.")
expect_close(dWx, rnn.weight_ih_l0.grad.T, what="dWx", hint="Sum the weight gradients over all time steps.")
expect_close(dWh, rnn.weight_hh_l0.grad.T, what="dWh", hint="dWh = sum_t h_{t-1}.T @ delta_t.")
expect_close(db, rnn.bias_ih_l0.grad, what="db")

# %% nbgrader={"grade": true, "grade_id": "test_rnn_backward_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("rnn_backward", rnn_backward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Why gradients vanish or explode
#
# Unroll the recursion for the gradient that a loss at step $T$ sends to an early state $h_t$. Each step
# back multiplies by the Jacobian $\partial h_{s} / \partial h_{s-1} = \operatorname{diag}(1 - h_s^2)\,
# W_h^{\top}$ (written for column vectors), so
#
# $$ \frac{\partial h_T}{\partial h_t} = \prod_{s = t+1}^{T} \operatorname{diag}(1 - h_s^2)\, W_h^{\top} . $$
#
# A product of $T - t$ matrices behaves like the $(T-t)$-th power of a typical factor: when the singular
# values of $W_h$ are below one (or the tanh saturates, making $1 - h_s^2$ small) the product decays
# exponentially in the lag and the early inputs get essentially no gradient — the network cannot learn
# long-range dependences. When they are well above one the product can grow exponentially and a single
# update can blow the weights up. The worksheet makes the same point: the same $W_h$ is applied again and
# again, so its singular values are raised to the power of the lag. Exploding gradients have a cheap
# remedy (clipping, section 6); vanishing ones call for a different cell.
#
# The demo below measures $\lVert \partial (u \cdot h_T) / \partial h_t \rVert$ for a random unit vector
# $u$, using your step functions and autograd, for an RNN with $W_h$ equal to `scale` times a random
# orthogonal matrix (all singular values equal `scale`) and for an LSTM (section 4) whose recurrent
# weights are scaled the same way. Move the slider.

# %%
def gradient_vs_lag(step, n_states, scale, T=60, H=32, D=8, seed=0):
    """Norm of d(u . h_T)/d h_t for t = 0..T, for a recurrent step function with recurrent weights scaled by `scale`."""
    g = torch.Generator().manual_seed(seed)
    k = 4 if n_states == 2 else 1
    Q, _ = torch.linalg.qr(torch.randn(H, H, generator=g, dtype=torch.float64))
    Wh = scale * torch.cat([Q] + [torch.linalg.qr(torch.randn(H, H, generator=g, dtype=torch.float64))[0]
                                  for _ in range(k - 1)], dim=1)
    Wx = torch.randn(D, k * H, generator=g, dtype=torch.float64) / math.sqrt(D)
    b = torch.zeros(k * H, dtype=torch.float64)
    if n_states == 2:
        b[H:2 * H] = 1.0   # a forget-gate bias of +1, the usual initialisation
    x = 0.5 * torch.randn(1, T, D, generator=g, dtype=torch.float64)
    h = torch.zeros(1, H, dtype=torch.float64, requires_grad=True)
    c = torch.zeros(1, H, dtype=torch.float64)
    states = [h]
    for t in range(T):
        if n_states == 2:
            h, c, _ = step(x[:, t], h, c, Wx, Wh, b)
        else:
            h, _ = step(x[:, t], h, Wx, Wh, b)
        h.retain_grad()
        states.append(h)
    u = torch.randn(H, generator=g, dtype=torch.float64)
    (h[0] @ (u / u.norm())).backward()
    return np.array([s.grad.norm().item() for s in states])[::-1]   # index = lag T - t


def show_lags(scale=1.0):
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.semilogy(gradient_vs_lag(rnn_step_forward, 1, scale), label="vanilla RNN")
    ax.semilogy(gradient_vs_lag(lstm_step_forward, 2, scale), label="LSTM (forget bias +1)")
    ax.set_xlabel("time lag T - t")
    ax.set_ylabel("||d(u . h_T) / d h_t||")
    ax.set_title(f"recurrent weights = {scale} x orthogonal")
    ax.legend()
    plt.show()


# %% [markdown]
# (The plot needs `lstm_step_forward` of exercise 5; run the next cell again once you have written it.)
#
# ## 4. The LSTM
#
# The LSTM keeps a second state, the *cell* $c_t$, and updates it additively. From the pre-activation
# $a = x_t W_x + h_{t-1} W_h + b$ of width $4H$, cut into four blocks of width $H$ in the order i, f, g, o:
#
# $$ i = \sigma(a_i), \quad f = \sigma(a_f), \quad g = \tanh(a_g), \quad o = \sigma(a_o), $$
# $$ c_t = f \odot c_{t-1} + i \odot g, \qquad h_t = o \odot \tanh(c_t) . $$
#
# The input gate $i$ decides how much of the candidate $g$ is written, the forget gate $f$ how much of the
# old memory is kept, and the output gate $o$ how much of the memory is shown in $h_t$. (The worksheet
# writes the same cell with a pair of matrices per gate, e.g. $f_t = \sigma(x_t U^f + h_{t-1} W^f)$, and no
# bias; placing $U^i, U^f, U^g, U^o$ side by side gives our $W_x$, and the $W$'s give our $W_h$.)
# `torch.nn.LSTM` adds two biases, `bias_ih` and `bias_hh`; only their sum matters, and it is our $b$.
#
# ### Exercise 5: `lstm_step_forward`
#
# Implement `lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b)` with `x` `(N, D)`, `h_prev` and `c_prev`
# `(N, H)`, `Wx` `(D, 4H)`, `Wh` `(H, 4H)`, `b` `(4H,)`. Return `(h, c, cache)` with
# `cache = (x, h_prev, c_prev, Wx, Wh, i, f, g, o, c)` (the four gates are the activations, each `(N, H)`).

# %% nbgrader={"grade": false, "grade_id": "lstm_step_forward", "locked": false, "schema_version": 3, "solution": true}
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """One LSTM step, gates in the order i, f, g, o.

    Args:
        x: (N, D); h_prev, c_prev: (N, H); Wx: (D, 4H); Wh: (H, 4H); b: (4H,).
    Returns:
        (h, c, cache) with h, c of shape (N, H) and cache = (x, h_prev, c_prev, Wx, Wh, i, f, g, o, c).
    """
    ### BEGIN SOLUTION
    a = x @ Wx + h_prev @ Wh + b
    ai, af, ag, ao = a.chunk(4, dim=1)
    i, f, g, o = torch.sigmoid(ai), torch.sigmoid(af), torch.tanh(ag), torch.sigmoid(ao)
    c = f * c_prev + i * g
    h = o * torch.tanh(c)
    return h, c, (x, h_prev, c_prev, Wx, Wh, i, f, g, o, c)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_lstm_step_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# A hand case: all weights zero, so every gate sees only its bias. b = [i: 0, f: ln 3, g: 10, o: -ln 3] gives
# i = 1/2, f = 3/4, g = tanh(10), o = 1/4; with c_prev = 2: c = 3/4 * 2 + tanh(10) / 2 and h = tanh(c) / 4.
z = torch.zeros(1, 4, dtype=torch.float64)
b = torch.tensor([0.0, math.log(3.0), 10.0, -math.log(3.0)], dtype=torch.float64)
h, c, cache = lstm_step_forward(torch.ones(1, 1, dtype=torch.float64), torch.ones(1, 1, dtype=torch.float64),
                                torch.full((1, 1), 2.0, dtype=torch.float64), z, z, b)
c_true = 1.5 + math.tanh(10.0) / 2
expect_close(c, torch.tensor([[c_true]], dtype=torch.float64), what="c",
             hint="Gates in the order i, f, g, o; c = f * c_prev + i * g with g = tanh(a_g).")
expect_close(h, torch.tensor([[math.tanh(c_true) / 4]], dtype=torch.float64), what="h",
             hint="h = o * tanh(c), with the NEW cell state c.")
expect_true(isinstance(cache, tuple) and len(cache) == 10,
            "cache should be the 10-tuple (x, h_prev, c_prev, Wx, Wh, i, f, g, o, c).")
expect_close(torch.cat(cache[5:9], dim=1), torch.tensor([[0.5, 0.75, math.tanh(10.0), 0.25]], dtype=torch.float64),
             what="the gates (i, f, g, o) in the cache")
# And a random case against torch.nn.LSTMCell (weight_ih = Wx.T, weight_hh = Wh.T, bias_ih + bias_hh = b).
g = torch.Generator().manual_seed(3)
cell = torch.nn.LSTMCell(3, 2, dtype=torch.float64)
x, h_prev, c_prev = (torch.randn(4, n, generator=g, dtype=torch.float64) for n in (3, 2, 2))
with torch.no_grad():
    h_t, c_t = cell(x, (h_prev, c_prev))
    h, c, _ = lstm_step_forward(x, h_prev, c_prev, cell.weight_ih.T, cell.weight_hh.T, cell.bias_ih + cell.bias_hh)
expect_close(h, h_t, what="h vs torch.nn.LSTMCell")
expect_close(c, c_t, what="c vs torch.nn.LSTMCell")

# %% nbgrader={"grade": true, "grade_id": "test_lstm_step_forward_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("lstm_step_forward", lstm_step_forward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %%
interact(show_lags, scale=(0.25, 2.5, 0.25));

# %% [markdown]
# With `scale` below one the RNN's gradient falls by orders of magnitude within a few dozen steps (at
# `scale = 0.5`, by more than twenty orders over 60 steps); around 1.5 the growth of $W_h$ and the damping
# of the tanh roughly balance, and above that the gradient grows exponentially with the lag. The LSTM's curve is much flatter: along the cell
# state the Jacobian is $\partial c_t / \partial c_{t-1} = \operatorname{diag}(f_t)$ (plus indirect terms
# through $h$), a gate the network can hold near one, not a product with a weight matrix. That is the
# worksheet's answer to why LSTMs mitigate vanishing gradients: the additive cell update gives the
# gradient a path on which it is only multiplied by forget gates.
#
# ### The LSTM backward pass
#
# Write $\bar{dc}$ for the total gradient on $c_t$: what arrives directly (`dc`, from the next step or the
# loss) plus what arrives through $h_t = o \odot \tanh(c_t)$:
#
# $$ \bar{dc} = dc + dh \odot o \odot (1 - \tanh^2 c_t) . $$
#
# Then, from $c_t = f \odot c_{t-1} + i \odot g$ and the derivatives $\sigma' = \sigma (1 - \sigma)$ and
# $\tanh' = 1 - \tanh^2$ written with the gate *values*:
#
# $$ da_i = \bar{dc} \odot g \odot i (1 - i), \quad da_f = \bar{dc} \odot c_{t-1} \odot f (1 - f), \quad
#    da_g = \bar{dc} \odot i \odot (1 - g^2), \quad da_o = dh \odot \tanh(c_t) \odot o (1 - o), $$
#
# and $dc_{prev} = \bar{dc} \odot f$. Stack $da = [da_i, da_f, da_g, da_o]$ into an `(N, 4H)` matrix; the
# affine part is exactly as in the RNN: $dx = da\, W_x^{\top}$, $dh_{prev} = da\, W_h^{\top}$,
# $dW_x = x^{\top} da$, $dW_h = h_{prev}^{\top} da$, $db = \sum_n da_{n,:}$.
#
# ### Exercise 6: `lstm_step_backward`
#
# Implement `lstm_step_backward(dh, dc, cache)` with `dh` and `dc` of shape `(N, H)` (gradients on the
# step's outputs $h$ and $c$) and the cache of exercise 5. Return `(dx, dh_prev, dc_prev, dWx, dWh, db)`.

# %% nbgrader={"grade": false, "grade_id": "lstm_step_backward", "locked": false, "schema_version": 3, "solution": true}
def lstm_step_backward(dh, dc, cache):
    """Gradients of one LSTM step.

    Args:
        dh, dc: (N, H) gradients of the loss with respect to h and c.
        cache: (x, h_prev, c_prev, Wx, Wh, i, f, g, o, c) from lstm_step_forward.
    Returns:
        (dx, dh_prev, dc_prev, dWx, dWh, db) with the shapes of x, h_prev, c_prev, Wx, Wh, b.
    """
    ### BEGIN SOLUTION
    x, h_prev, c_prev, Wx, Wh, i, f, g, o, c = cache
    tc = torch.tanh(c)
    dc_total = dc + dh * o * (1 - tc * tc)
    da = torch.cat([dc_total * g * i * (1 - i),
                    dc_total * c_prev * f * (1 - f),
                    dc_total * i * (1 - g * g),
                    dh * tc * o * (1 - o)], dim=1)
    return da @ Wx.T, da @ Wh.T, dc_total * f, x.T @ da, h_prev.T @ da, da.sum(0)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_lstm_step_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Autograd through torch.nn.LSTMCell with random upstream gradients on h and on c.
g = torch.Generator().manual_seed(4)
cell = torch.nn.LSTMCell(3, 4, dtype=torch.float64)
x, h_prev, c_prev = (torch.randn(5, n, generator=g, dtype=torch.float64).requires_grad_() for n in (3, 4, 4))
dh, dc = torch.randn(5, 4, generator=g, dtype=torch.float64), torch.randn(5, 4, generator=g, dtype=torch.float64)
h_t, c_t = cell(x, (h_prev, c_prev))
((h_t * dh).sum() + (c_t * dc).sum()).backward()
with torch.no_grad():
    _, _, cache = lstm_step_forward(x, h_prev, c_prev, cell.weight_ih.T, cell.weight_hh.T, cell.bias_ih + cell.bias_hh)
    got = lstm_step_backward(dh, dc, cache)
expect_true(isinstance(got, tuple) and len(got) == 6,
            "lstm_step_backward should return (dx, dh_prev, dc_prev, dWx, dWh, db).")
dx, dh_prev, dc_prev, dWx, dWh, db = got
expect_close(dc_prev, c_prev.grad, what="dc_prev",
             hint="The cell state gets dc PLUS dh * o * (1 - tanh(c)**2); dc_prev = that total times f.")
expect_close(db, cell.bias_ih.grad, what="db",
             hint="sigmoid' = s * (1 - s) and tanh' = 1 - t**2 with the gate VALUES from the cache; order i, f, g, o.")
expect_close(dx, x.grad, what="dx")
expect_close(dh_prev, h_prev.grad, what="dh_prev")
expect_close(dWx, cell.weight_ih.grad.T, what="dWx")
expect_close(dWh, cell.weight_hh.grad.T, what="dWh", hint="dWh = h_prev.T @ da, shape (H, 4H).")

# %% nbgrader={"grade": true, "grade_id": "test_lstm_step_backward_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("lstm_step_backward", lstm_step_backward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### The LSTM over a sequence
#
# The forward pass is the loop of exercise 3 with two states. We start from a given $h_0$ and a **zero**
# cell state $c_0 = 0$ (the default of `torch.nn.LSTM`), and return the final cell state $c_T$ as well,
# since a loss (or a next layer, or the next chunk of a long sequence) may depend on it.
#
# ### Exercise 7: `lstm_forward`
#
# Implement `lstm_forward(x, h0, Wx, Wh, b)` with `x` `(N, T, D)` and `h0` `(N, H)`. Return
# `(h, c, cache)`: `h` of shape `(N, T, H)` with $h_1, \dots, h_T$, `c` the final cell state $c_T$ of shape
# `(N, H)`, and `cache` the list of the $T$ step caches of `lstm_step_forward`.

# %% nbgrader={"grade": false, "grade_id": "lstm_forward", "locked": false, "schema_version": 3, "solution": true}
def lstm_forward(x, h0, Wx, Wh, b):
    """Run the LSTM over a sequence from h0 and a zero cell state.

    Args:
        x: (N, T, D); h0: (N, H); Wx: (D, 4H); Wh: (H, 4H); b: (4H,).
    Returns:
        (h, c, cache): h (N, T, H) with h_1..h_T, c (N, H) the final cell state, and the list of step caches.
    """
    ### BEGIN SOLUTION
    h, c = h0, torch.zeros_like(h0)
    hs, cache = [], []
    for t in range(x.shape[1]):
        h, c, step = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
        cache.append(step)
    return torch.stack(hs, dim=1), c, cache
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_lstm_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
g = torch.Generator().manual_seed(5)
lstm = torch.nn.LSTM(3, 4, batch_first=True, dtype=torch.float64)
x, h0 = torch.randn(2, 6, 3, generator=g, dtype=torch.float64), torch.randn(2, 4, generator=g, dtype=torch.float64)
with torch.no_grad():
    out, (h_T, c_T) = lstm(x, (h0[None], torch.zeros(1, 2, 4, dtype=torch.float64)))
    h, c, cache = lstm_forward(x, h0, lstm.weight_ih_l0.T, lstm.weight_hh_l0.T, lstm.bias_ih_l0 + lstm.bias_hh_l0)
expect_shape(h, (2, 6, 4), what="h")
expect_close(h, out, what="h vs torch.nn.LSTM", hint="Start from h0 and a ZERO cell state; carry both states.")
expect_close(c, c_T[0], what="c (the final cell state c_T)")
expect_true(isinstance(cache, list) and len(cache) == 6, "cache should be the list of the T = 6 step caches.")

# %% nbgrader={"grade": true, "grade_id": "test_lstm_forward_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("lstm_forward", lstm_forward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### BPTT for the LSTM
#
# Now two gradients travel backwards. The one on the hidden state works as in exercise 4: step $t$ gets
# `dh_all[:, t] + dh_next`. The one on the cell state starts at `dc_last` $= \partial L/\partial c_T$ for the
# last step and is then the `dc_prev` returned by step $t+1$ for every earlier step — the loss never sees
# $c_t$ directly for $t < T$, but $c_t$ feeds $c_{t+1}$, and this is the very path that keeps the
# gradient alive over long lags. Forgetting to carry it (passing zero, or `dc_last` again, at every step)
# is a classic bug that the hidden tests look for.
#
# ### Exercise 8: `lstm_backward`
#
# Implement `lstm_backward(dh_all, dc_last, cache)` with `dh_all` of shape `(N, T, H)`, `dc_last` of shape
# `(N, H)` and the list cache of exercise 7. Return `(dx, dh0, dWx, dWh, db)` with shapes `(N, T, D)`,
# `(N, H)`, `(D, 4H)`, `(H, 4H)`, `(4H,)` ($c_0$ is a constant zero: no gradient for it).

# %% nbgrader={"grade": false, "grade_id": "lstm_backward", "locked": false, "schema_version": 3, "solution": true}
def lstm_backward(dh_all, dc_last, cache):
    """Backpropagation through time for lstm_forward.

    Args:
        dh_all: (N, T, H) gradient on every hidden state; dc_last: (N, H) gradient on the final cell state.
        cache: the list of step caches from lstm_forward.
    Returns:
        (dx, dh0, dWx, dWh, db) of shapes (N, T, D), (N, H), (D, 4H), (H, 4H), (4H,).
    """
    ### BEGIN SOLUTION
    T = dh_all.shape[1]
    dxs = [None] * T
    dh_next, dc_next = torch.zeros_like(dh_all[:, 0]), dc_last
    dWx = dWh = db = 0
    for t in reversed(range(T)):
        dx, dh_next, dc_next, dWx_t, dWh_t, db_t = lstm_step_backward(dh_all[:, t] + dh_next, dc_next, cache[t])
        dxs[t] = dx
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return torch.stack(dxs, dim=1), dh_next, dWx, dWh, db
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_lstm_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Autograd through torch.nn.LSTM, with random gradients on every h_t and on c_T.
g = torch.Generator().manual_seed(6)
lstm = torch.nn.LSTM(3, 4, batch_first=True, dtype=torch.float64)
x, h0 = torch.randn(2, 6, 3, generator=g, dtype=torch.float64), torch.randn(2, 4, generator=g, dtype=torch.float64)
dh_all, dc_last = torch.randn(2, 6, 4, generator=g, dtype=torch.float64), torch.randn(2, 4, generator=g, dtype=torch.float64)
xr, h0r = x.clone().requires_grad_(), h0.clone().requires_grad_()
out, (_, c_T) = lstm(xr, (h0r[None], torch.zeros(1, 2, 4, dtype=torch.float64)))
((out * dh_all).sum() + (c_T[0] * dc_last).sum()).backward()
with torch.no_grad():
    _, _, cache = lstm_forward(x, h0, lstm.weight_ih_l0.T, lstm.weight_hh_l0.T, lstm.bias_ih_l0 + lstm.bias_hh_l0)
    dx, dh0, dWx, dWh, db = lstm_backward(dh_all, dc_last, cache)
expect_close(dx[:, -1], xr.grad[:, -1], what="dx at the last step",
             hint="The last step gets dh_all[:, -1] and dc_last.")
expect_close(dx, xr.grad, what="dx",
             hint="Carry BOTH dh_prev and dc_prev back to the previous step; add dh_all[:, t] to dh at every step.")
expect_close(dh0, h0r.grad, what="dh0")
expect_close(dWx, lstm.weight_ih_l0.grad.T, what="dWx")
expect_close(dWh, lstm.weight_hh_l0.grad.T, what="dWh", hint="Sum h_prev.T @ da over all steps.")
expect_close(db, lstm.bias_ih_l0.grad, what="db")

# %% nbgrader={"grade": true, "grade_id": "test_lstm_backward_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("lstm_backward", lstm_backward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 5. The GRU
#
# The gated recurrent unit (textbook §9.3, NYU lecture 6) has no separate cell: a *reset* gate $r$ decides
# how much of the old state enters the candidate, and an *update* gate $z$ interpolates between the old
# state and the candidate. In the form used by `torch.nn.GRUCell`, with $u = x W_x + b_x$ and
# $v = h_{prev} W_h + b_h$ cut into blocks in the order **r, z, n**:
#
# $$ r = \sigma(u_r + v_r), \quad z = \sigma(u_z + v_z), \quad n = \tanh\big(u_n + r \odot v_n\big), \quad
#    h = (1 - z) \odot n + z \odot h_{prev} . $$
#
# Two details differ between sources, and you must follow torch's choices here. First, the reset gate
# multiplies $v_n = h_{prev} W_{h,n} + b_{h,n}$, **bias included**; that is why torch keeps two biases, and
# why they cannot be merged into one as for the LSTM. The NYU lecture and the textbook apply the reset gate
# *before* the product, $(r \odot h_{prev}) W_{h,n}$, as in the original GRU paper: a slightly different
# function, with the same purpose. Second, which way $z$ points: here (and in the NYU lecture) $z = 1$ keeps
# the old state. The textbook's §9.3 writes $h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde{h}_t$, the
# same cell with $z$ replaced by $1 - z$ (its prose, saying that $z$ near 1 carries the past forward,
# matches our convention rather than its own formula).
#
# ### Exercise 9: `gru_step_forward`
#
# Implement `gru_step_forward(x, h_prev, Wx, Wh, bx, bh)` with `x` `(N, D)`, `h_prev` `(N, H)`, `Wx`
# `(D, 3H)`, `Wh` `(H, 3H)`, `bx` and `bh` `(3H,)`. Return the new hidden state `(N, H)` (no cache).

# %% nbgrader={"grade": false, "grade_id": "gru_step_forward", "locked": false, "schema_version": 3, "solution": true}
def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    """One GRU step in torch.nn.GRUCell's form (gates r, z, n).

    Args:
        x: (N, D); h_prev: (N, H); Wx: (D, 3H); Wh: (H, 3H); bx, bh: (3H,).
    Returns:
        h of shape (N, H).
    """
    ### BEGIN SOLUTION
    ur, uz, un = (x @ Wx + bx).chunk(3, dim=1)
    vr, vz, vn = (h_prev @ Wh + bh).chunk(3, dim=1)
    r, z = torch.sigmoid(ur + vr), torch.sigmoid(uz + vz)
    n = torch.tanh(un + r * vn)
    return (1 - z) * n + z * h_prev
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_gru_step_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# A hand case: zero weights, biases only. bx = [r: 0, z: 0, n: 0.5], bh = [r: 0, z: 0, n: 2]: r = z = 1/2,
# n = tanh(0.5 + 2 / 2) = tanh(1.5), h = (tanh(1.5) + h_prev) / 2.
zx, zh = torch.zeros(1, 3, dtype=torch.float64), torch.zeros(1, 3, dtype=torch.float64)
h = gru_step_forward(torch.ones(1, 1, dtype=torch.float64), torch.full((1, 1), 0.4, dtype=torch.float64), zx, zh,
                     torch.tensor([0.0, 0.0, 0.5], dtype=torch.float64), torch.tensor([0.0, 0.0, 2.0], dtype=torch.float64))
expect_close(h, torch.tensor([[(math.tanh(1.5) + 0.4) / 2]], dtype=torch.float64), what="h (hand case)",
             hint="n = tanh(u_n + r * (h_prev @ Wh_n + bh_n)): the reset gate multiplies the hidden bias too.")
g = torch.Generator().manual_seed(7)
cell = torch.nn.GRUCell(3, 2, dtype=torch.float64)
x, h_prev = torch.randn(4, 3, generator=g, dtype=torch.float64), torch.randn(4, 2, generator=g, dtype=torch.float64)
with torch.no_grad():
    expect_close(gru_step_forward(x, h_prev, cell.weight_ih.T, cell.weight_hh.T, cell.bias_ih, cell.bias_hh),
                 cell(x, h_prev), what="h vs torch.nn.GRUCell",
                 hint="Gate order r, z, n; h = (1 - z) * n + z * h_prev.")

# %% nbgrader={"grade": true, "grade_id": "test_gru_step_forward_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("gru_step_forward", gru_step_forward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Gradient clipping by the global norm
#
# Exploding gradients show up as rare, huge steps that throw the weights far away. Clipping caps the step
# length without changing its direction: stack all parameter gradients $g_1, \dots, g_K$ into one long
# vector, compute its norm $\lVert g \rVert = \sqrt{\sum_k \lVert g_k \rVert_2^2}$, and if it exceeds a
# threshold, scale *every* gradient by the same factor. In the form of `torch.nn.utils.clip_grad_norm_`:
#
# $$ g_k \leftarrow g_k \cdot \min\!\Big(1, \frac{\texttt{max\_norm}}{\lVert g \rVert + 10^{-6}}\Big) . $$
#
# Clipping each tensor on its own would change the direction of the update (the relative sizes of the
# parts), which is why the norm is global.
#
# ### Exercise 10: `clip_grad_global_norm`
#
# Implement `clip_grad_global_norm(grads, max_norm)` for a list of tensors `grads` (any shapes, one device
# and dtype). Return `(clipped, total_norm)`: a list of **new** tensors (do not modify the inputs, unlike
# torch's in-place `clip_grad_norm_`) and the global norm *before* clipping as a 0-dim tensor.

# %% nbgrader={"grade": false, "grade_id": "clip_grad_global_norm", "locked": false, "schema_version": 3, "solution": true}
def clip_grad_global_norm(grads, max_norm):
    """Scale a list of gradients so that their global 2-norm is at most max_norm.

    Args:
        grads: list of tensors; max_norm: positive float.
    Returns:
        (clipped, total_norm): list of new tensors with the shapes of grads, and the norm before clipping (0-dim).
    """
    ### BEGIN SOLUTION
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
    return [g * coef for g in grads], total
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_clip_grad_global_norm", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# By hand: the gradients [3] and [[4, 0]] have global norm 5; with max_norm 1 both are scaled by 1 / 5.
grads = [torch.tensor([3.0], dtype=torch.float64), torch.tensor([[4.0, 0.0]], dtype=torch.float64)]
clipped, norm = clip_grad_global_norm(grads, 1.0)
expect_close(norm, 5.0, what="total_norm", hint="ONE norm over all entries of all tensors: sqrt(9 + 16).")
expect_close(clipped[0], torch.tensor([0.6], dtype=torch.float64) / (1 + 2e-7), what="clipped[0]",
             hint="Every tensor is scaled by the SAME factor max_norm / (total_norm + 1e-6).")
expect_close(clipped[1], torch.tensor([[0.8, 0.0]], dtype=torch.float64) / (1 + 2e-7), what="clipped[1]")
expect_close(grads[0], torch.tensor([3.0], dtype=torch.float64), what="grads[0] after the call",
             hint="Return new tensors; do not scale the inputs in place.")
clipped, norm = clip_grad_global_norm(grads, 10.0)
expect_close(clipped[1], grads[1], what="clipped[1] when the norm is below max_norm",
             hint="The factor is min(1, ...): small gradients are left alone, never scaled up.")

# %% nbgrader={"grade": true, "grade_id": "test_clip_grad_global_norm_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("clip_grad_global_norm", clip_grad_global_norm)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 7. A character-level language model
#
# Put it together: read the course's small corpus (`village_tales`, about 30 KB of simple stories),
# turn characters into integer ids, and train a model that predicts the next character from the ones
# before. The model embeds each character, runs an LSTM over the sequence and maps every hidden state to
# logits over the vocabulary; the loss is the cross-entropy summed over every position — so a gradient
# arrives at every hidden state, exactly the `dh_all` of exercises 4 and 8. We use `torch.nn.LSTM` for
# speed and your `clip_grad_global_norm` to keep the steps bounded; afterwards we check that your
# `lstm_forward` reproduces the trained layer.

# %%
with needs_exercises():
    from tqdm.auto import tqdm
    from course.text import load_corpus, char_vocab, random_windows

    text = load_corpus("village_tales")
    vocab = char_vocab(text)
    ids = vocab.encode(text)
    print(f"{len(text)} characters, vocabulary of {len(vocab)}: {''.join(vocab.chars)!r}")


    class CharLSTM(torch.nn.Module):
        def __init__(self, vocab_size, emb=32, hidden=96):
            super().__init__()
            self.embed = torch.nn.Embedding(vocab_size, emb)
            self.lstm = torch.nn.LSTM(emb, hidden, batch_first=True)
            self.head = torch.nn.Linear(hidden, vocab_size)

        def forward(self, x, state=None):
            out, state = self.lstm(self.embed(x), state)
            return self.head(out), state


    torch.manual_seed(0)   # the initial weights of the demo model
    model = CharLSTM(len(vocab))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(0)
    losses, norms = [], []
    for step in tqdm(range(200), desc="training"):
        xb, yb = random_windows(ids, 32, 48, gen)
        logits, _ = model(xb)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), yb.reshape(-1))
        opt.zero_grad()
        loss.backward()
        params = [p for p in model.parameters()]
        clipped, norm = clip_grad_global_norm([p.grad for p in params], 0.3)
        for p, c in zip(params, clipped):
            p.grad = c
        opt.step()
        losses.append(loss.item())
        norms.append(norm.item())

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
    ax1.plot(losses)
    ax1.axhline(math.log(len(vocab)), ls="--", c="gray", label="uniform guess")
    ax1.set_xlabel("step"), ax1.set_ylabel("cross-entropy (nats / char)"), ax1.legend()
    ax2.semilogy(norms)
    ax2.axhline(0.3, ls="--", c="gray", label="max_norm")
    ax2.set_xlabel("step"), ax2.set_ylabel("global gradient norm before clipping"), ax2.legend()
    plt.tight_layout()
    plt.show()

# %%
def sample(model, prompt, n_chars, temperature=0.8, seed=0):
    """Continue `prompt` by drawing n_chars characters from the model, with a seeded generator."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        logits, state = model(vocab.encode(prompt)[None])
        out = []
        for _ in range(n_chars):
            probs = torch.softmax(logits[0, -1] / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=gen)
            out.append(int(nxt))
            logits, state = model(nxt[None], state)
    return prompt + vocab.decode(out)


print(sample(model, "Story 7. ", 300))

# %%
with needs_exercises():
    # Your lstm_forward, fed the trained layer's weights, reproduces torch.nn.LSTM on a batch of windows.
    with torch.no_grad():
        xb, _ = random_windows(ids, 4, 20, gen)
        emb = model.embed(xb)
        ref_out, _ = model.lstm(emb)
        lstm_layer = model.lstm
        mine, _, _ = lstm_forward(emb, torch.zeros(4, lstm_layer.hidden_size), lstm_layer.weight_ih_l0.T, lstm_layer.weight_hh_l0.T,
                                  lstm_layer.bias_ih_l0 + lstm_layer.bias_hh_l0)
    print("max |difference| between your lstm_forward and torch.nn.LSTM:", (mine - ref_out).abs().max().item())

# %% [markdown]
# Try a few temperatures: low values make the samples repetitive and safe, high values inventive and
# misspelled. After two hundred steps (a few seconds) the model has learned the words and the shape of the stories,
# not much more — a larger model trained longer does better, but the recipe is the same.

# %%
interact(lambda temperature=0.8, seed=0: print(sample(model, "Story 7. ", 200, temperature, seed)),
         temperature=(0.2, 1.6, 0.2), seed=(0, 5, 1));

# %% [markdown]
# ## What you built
#
# - `rnn_step_forward`, `rnn_step_backward`: one step of a vanilla RNN and its gradients, with
#   $\tanh' = 1 - h^2$ written with the cached output.
# - `rnn_forward`, `rnn_backward`: the unrolled network and backpropagation through time, where the
#   gradient on each hidden state is the loss's own plus the one coming back from the future.
# - `lstm_step_forward`, `lstm_step_backward`, `lstm_forward`, `lstm_backward`: the LSTM in torch's gate
#   order, checked against `torch.nn.LSTM`, with BPTT that carries the cell-state gradient back in time.
# - `gru_step_forward`: the GRU cell in the exact form of `torch.nn.GRUCell`.
# - `clip_grad_global_norm`: one norm over all gradients and one common scale factor.
# - A character-level LSTM trained on a small corpus, and the gradient-vs-lag picture that explains why
#   gated cells train where vanilla RNNs fail.
#
# Recurrent networks read a sequence one step at a time, so the path between two distant positions is
# $T$ steps long and cannot be parallelised over time. The next chapter replaces the recurrence by
# *attention*, which connects every position to every other in one step — the building block of the
# Transformer.
