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
# - Derive the gradients yourself: one RNN step, BPTT, one LSTM step (hints are there when you need them).
# - Make it work: train a character-level LSTM language model with nothing but your own forward pass, BPTT
#   and optimizer, to a stated perplexity on text it has never seen; sample and decode from it.
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
from course.text import load_corpus, char_vocab, random_windows
from course.char_lm import split_village_tales, char_lm_perplexity

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
             hint="The states are row vectors: h_prev multiplies Wh from the left, as x multiplies Wx (the comment "
                  "above works the case out by hand); the tanh comes last.")
expect_true(isinstance(cache, tuple) and len(cache) == 5, "cache should be the 5-tuple (x, h_prev, Wx, Wh, h).")
expect_close(cache[4], h, what="cache[4]", hint="The last entry of the cache is the new hidden state.")
expect_close(cache[1], h_prev, what="cache[1]", hint="cache = (x, h_prev, Wx, Wh, h), in this order.")

# %% nbgrader={"grade": true, "grade_id": "test_rnn_step_forward_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("rnn_step_forward", rnn_step_forward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### The gradient of one step
#
# The backward pass receives $dh = \partial L / \partial h$, of shape `(N, H)`, and must return the gradients
# on everything the step used: $x$, $h_{prev}$, $W_x$, $W_h$ and $b$. Derive them yourself, in two stages:
# first the gradient $\delta = \partial L / \partial a$ on the pre-activation (through the tanh), then the
# gradients of the affine map $a = x W_x + h_{prev} W_h + b$. Two things to settle on the way: the cache
# holds the **output** $h$, not $a$, so write the tanh's derivative in terms of what you have; and every
# weight is shared by the $N$ rows of the batch, so its gradient collects a contribution from each row.
# Check every result's shape against the shape of the tensor it belongs to.
#
# <details><summary>Hint 1: through the tanh</summary>
#
# $\tanh'(a) = 1 - \tanh^2(a)$, and $\tanh(a)$ is exactly the cached $h$. The chain rule works entry by
# entry here (the tanh acts on each entry alone), so $\delta$ is $dh$ multiplied entrywise by the local
# derivative. Applying $\tanh$ to $h$ once more would be a different (wrong) number.
# </details>
#
# <details><summary>Hint 2: one entry of the affine map</summary>
#
# Write one entry: $a_{nk} = \sum_d x_{nd} W_{x,dk} + \sum_j h_{prev,nj} W_{h,jk} + b_k$. Then
# $\partial a_{nk} / \partial W_{h,jk} = h_{prev,nj}$, so $\partial L / \partial W_{h,jk}$ sums
# $h_{prev,nj}\,\delta_{nk}$ over the batch rows $n$: weight $(j, k)$ connects unit $j$ of the old state to
# unit $k$ of the new one. Likewise $\partial L / \partial h_{prev,nj}$ sums $\delta_{nk} W_{h,jk}$ over $k$.
# Now write each sum as a matrix product with the right shapes; $x$ and $W_x$ work the same way.
# </details>
#
# <details><summary>Hint 3: the results</summary>
#
# $\delta = dh \odot (1 - h \odot h)$, and
# $dx = \delta W_x^{\top}$, $dh_{prev} = \delta W_h^{\top}$, $dW_x = x^{\top} \delta$,
# $dW_h = h_{prev}^{\top} \delta$ (shape $(H, N)(N, H)$; the transpose $\delta^{\top} h_{prev}$ has the same
# shape and is wrong), $db = \sum_n \delta_{n,:}$.
# </details>
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
hints = {"db": "db adds up the pre-activation gradient over the batch; the tanh's derivative must be written "
               "with the cached OUTPUT h (h already is tanh(a)). See Hint 1.",
         "dx": "x reaches a only through Wx: send the pre-activation gradient back through Wx (shape (N, D)).",
         "dh_prev": "h_prev reaches a only through Wh: send the pre-activation gradient back through Wh.",
         "dWx": "A weight's gradient pairs the input it multiplies with the pre-activation gradient, summed over "
                "the batch; it has the shape (D, H) of Wx.",
         "dWh": "Entry (j, k) of Wh links unit j of h_prev to unit k of the new state (Hint 2); the transposed "
                "product has the same shape but is wrong."}
for name, value, leaf in sorted(zip(("dx", "dh_prev", "dWx", "dWh", "db"), got, leaves), key=lambda t: t[0] != "db"):
    expect_close(value, leaf.grad, what=name, hint=hints[name])

# %% nbgrader={"grade": true, "grade_id": "test_rnn_step_backward_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
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
# A sequence model usually has a loss at every step, $L = \sum_t \ell_t(h_t)$, so a gradient
# `dh_all[:, t]` $= \partial \ell_t / \partial h_t$ arrives at every hidden state from the loss *directly*.
# That is not the whole gradient of $L$ with respect to $h_t$: $h_t$ is also an input of step $t+1$, which
# feeds $h_{t+2}$, and so on. Your task is to work out how the gradient on each state, and the gradients on
# the shared weights, are assembled from the step backward of exercise 2, and in which order the steps must
# be visited. Think about what each step needs to know before its backward can run, and what it hands on.
#
# <details><summary>Hint 1: the total gradient on one state</summary>
#
# By the chain rule, $dL/dh_t$ is the sum over every path from $h_t$ to the loss: the direct one
# (`dh_all[:, t]`) and the one through $h_{t+1}$. The second is $dL/dh_{t+1}$ carried back through one step,
# which is exactly what the step backward of step $t+1$ returns as its `dh_prev`. So step $t$ cannot be
# handled before step $t+1$.
# </details>
#
# <details><summary>Hint 2: the order, the start and the end</summary>
#
# Walk backwards, $t = T-1, \dots, 0$. At the last step nothing comes from the future, so what is carried
# starts at zero. What the step at $t = 0$ hands back is the gradient on $h_0$.
# </details>
#
# <details><summary>Hint 3: the weights</summary>
#
# The same $W_x, W_h, b$ are used at every step, so $L$ depends on them through every step: their gradients
# are the sums of the $T$ per-step gradients. (Each input $x_t$, on the other hand, is used once: its
# gradient is the `dx` of its own step.)
# </details>
#
# Dropping the part that comes from the future (using only `dh_all[:, t]` at each step) is *truncated* BPTT
# with a window of one: cheaper, but it throws away every long-range dependence.
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
expect_close(dx[:, -1], xr.grad[:, -1], what="dx at the last step",
             hint="The last step gets only its own direct gradient: nothing comes from the future.")
expect_close(dx, xr.grad, what="dx",
             hint="h_t reaches the loss directly AND through h_{t+1}: the gradient into step t needs both (Hint 1).")
expect_close(dh0, h0r.grad, what="dh0", hint="h0 is the state that the first step reads (Hint 2).")
expect_close(dWx, rnn.weight_ih_l0.grad.T, what="dWx",
             hint="The weights are shared by all the steps: every step contributes to their gradient (Hint 3).")
expect_close(dWh, rnn.weight_hh_l0.grad.T, what="dWh",
             hint="The weights are shared by all the steps: every step contributes to their gradient (Hint 3).")
expect_close(db, rnn.bias_ih_l0.grad, what="db")

# %% nbgrader={"grade": true, "grade_id": "test_rnn_backward_2", "locked": true, "points": 5, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("rnn_backward", rnn_backward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Concept question 1: `truncated_bptt_answer`
#
# A long text is usually trained on in chunks: cut it into pieces of 32 characters, carry the hidden state
# from the end of one chunk into the next (so the forward pass sees everything that came before), but run
# BPTT only inside each chunk, treating the carried state as a constant. Compared with BPTT over the whole
# text, what does this *truncated* BPTT give up?
#
# - **a.** Nothing: since the state is carried across chunks, the gradients are exactly those of full BPTT.
# - **b.** The model still *uses* information older than the chunk, but no gradient ever tells it to *store*
#   information for more than 32 steps, so dependences longer than that are learned only by luck.
# - **c.** The model can no longer use anything from before the current chunk, not even when it generates
#   text, because the state it reads is treated as a constant.
# - **d.** The gradients inside each chunk become inexact, so a smaller learning rate is needed to make up
#   for the error.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "truncated_bptt_answer", "locked": false, "schema_version": 3, "solution": true}
def truncated_bptt_answer():
    """Your answer to concept question 1: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_truncated_bptt_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(truncated_bptt_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_truncated_bptt_answer_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("truncated_bptt_answer", truncated_bptt_answer)
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

# %% [markdown]
# ### Concept question 2: `cell_state_answer`
#
# A colleague initialises the forget-gate bias of an LSTM at $-3$ instead of the usual $+1$. Before any
# training, what happens to the gradient that a loss at step $T$ sends back along the cell state to an early
# step $t$?
#
# - **a.** Nothing changes: the cell update is additive, so the gradient along the cell state does not depend
#   on the gates.
# - **b.** It is multiplied, entry by entry, by forget gates near $\sigma(-3) \approx 0.05$ at every step back,
#   so it vanishes within a few steps, much as the vanilla RNN's does, until training opens the gates.
# - **c.** It explodes, because a negative bias puts the forget gate where the sigmoid's derivative is largest.
# - **d.** It vanishes only if the recurrent weights $W_h$ have singular values below one, exactly as in the
#   vanilla RNN; the biases play no role.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "cell_state_answer", "locked": false, "schema_version": 3, "solution": true}
def cell_state_answer():
    """Your answer to concept question 2: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_cell_state_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(cell_state_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_cell_state_answer_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("cell_state_answer", cell_state_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### The LSTM backward pass
#
# One LSTM step has two outputs, $h_t$ and $c_t$, and so two upstream gradients: `dh` $= \partial L/\partial h_t$
# and `dc` $= \partial L/\partial c_t$ as seen from outside the step (from the next step, or from a loss on the
# final cell state). From them, derive the gradient on the stacked pre-activation
# $da = [da_i, da_f, da_g, da_o]$ (shape `(N, 4H)`, the blocks in the order i, f, g, o) and the gradient
# `dc_prev` on $c_{t-1}$. Once you have $da$, the rest is the affine map $a = x W_x + h_{prev} W_h + b$ again,
# exactly as in exercise 2. Everything you need is in the cache: the gate *values* $i, f, g, o$ (not their
# pre-activations), $c_{t-1}$ and $c_t$.
#
# <details><summary>Hint 1: how many ways does the loss see c_t?</summary>
#
# Two: directly (that is `dc`), and through $h_t = o \odot \tanh(c_t)$. Add the two contributions into one
# total gradient $\bar{dc}$ on $c_t$ before going further back; every gate that touches $c_t$ then uses
# $\bar{dc}$. Which gate does *not* touch $c_t$?
# </details>
#
# <details><summary>Hint 2: derivatives written with values</summary>
#
# $\sigma'(a) = \sigma(a)\,(1 - \sigma(a))$ and $\tanh'(a) = 1 - \tanh^2(a)$, so each gate's local derivative
# is a function of the gate's value in the cache. In a product such as $f \odot c_{t-1}$ the gradient on one
# factor is the upstream gradient times the *other* factor.
# </details>
#
# <details><summary>Hint 3: the pieces, one at a time</summary>
#
# $\bar{dc} = dc + dh \odot o \odot (1 - \tanh^2 c_t)$. Through $c_t = f \odot c_{t-1} + i \odot g$:
# $\partial L/\partial i = \bar{dc} \odot g$, $\partial L/\partial f = \bar{dc} \odot c_{t-1}$,
# $\partial L/\partial g = \bar{dc} \odot i$, and $dc_{prev} = \bar{dc} \odot f$. Through $h_t$ alone:
# $\partial L/\partial o = dh \odot \tanh(c_t)$. Multiply each by its gate's local derivative.
# </details>
#
# <details><summary>Hint 4: the formulas</summary>
#
# $da_i = \bar{dc} \odot g \odot i (1 - i)$, $da_f = \bar{dc} \odot c_{t-1} \odot f (1 - f)$,
# $da_g = \bar{dc} \odot i \odot (1 - g^2)$, $da_o = dh \odot \tanh(c_t) \odot o (1 - o)$; then
# $dx = da\, W_x^{\top}$, $dh_{prev} = da\, W_h^{\top}$, $dW_x = x^{\top} da$, $dW_h = h_{prev}^{\top} da$,
# $db = \sum_n da_{n,:}$.
# </details>
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
             hint="The loss sees c_t twice, directly and through h_t: add both before passing the total back "
                  "through the product with the forget gate (Hint 1).")
expect_close(db, cell.bias_ih.grad, what="db",
             hint="Write each gate's local derivative with the gate's VALUE from the cache, and stack the four "
                  "blocks in the order i, f, g, o (Hints 2 and 3).")
expect_close(dx, x.grad, what="dx")
expect_close(dh_prev, h_prev.grad, what="dh_prev")
expect_close(dWx, cell.weight_ih.grad.T, what="dWx")
expect_close(dWh, cell.weight_hh.grad.T, what="dWh",
             hint="Once you have the stacked pre-activation gradient, the weights work as in exercise 2; shape (H, 4H).")

# %% nbgrader={"grade": true, "grade_id": "test_lstm_step_backward_2", "locked": true, "points": 6, "schema_version": 3, "solution": false}
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

# %% nbgrader={"grade": true, "grade_id": "test_lstm_forward_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("lstm_forward", lstm_forward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### BPTT for the LSTM
#
# Now two gradients travel backwards, and the reasoning of exercise 4 applies to each. The one on the hidden
# state is assembled as before. For the one on the cell state, ask the same question as there: by which
# paths does $c_t$ reach the loss? The last cell state $c_T$ gets `dc_last` $= \partial L/\partial c_T$
# from outside; for $t < T$ the loss never sees $c_t$ directly, yet its gradient is not zero.
#
# <details><summary>Hint: the cell-state path</summary>
#
# $c_t$ feeds $c_{t+1} = f_{t+1} \odot c_t + \dots$, so its gradient is the `dc_prev` that the step backward of
# step $t+1$ returns. This additive path is the very one that keeps the gradient alive over long lags.
# Forgetting to carry it (passing zero, or `dc_last` again, at every step) is a classic bug.
# </details>
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
             hint="The last step receives its own direct gradient on h and the gradient on the final cell state.")
expect_close(dx, xr.grad, what="dx",
             hint="Two gradients travel back in time, one on the hidden state and one on the cell state; "
                  "each step also receives its own direct gradient on h.")
expect_close(dh0, h0r.grad, what="dh0")
expect_close(dWx, lstm.weight_ih_l0.grad.T, what="dWx")
expect_close(dWh, lstm.weight_hh_l0.grad.T, what="dWh",
             hint="The weights are shared by all the steps: every step contributes to their gradient.")
expect_close(db, lstm.bias_ih_l0.grad, what="db")

# %% nbgrader={"grade": true, "grade_id": "test_lstm_backward_2", "locked": true, "points": 5, "schema_version": 3, "solution": false}
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

# %% nbgrader={"grade": true, "grade_id": "test_clip_grad_global_norm_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
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
# ### Concept question 3: `teacher_forcing_answer`
#
# The training loop above feeds the model the *true* previous character at every position (this is called
# *teacher forcing*), while `sample` feeds it the character it drew itself. Which statement is right?
#
# - **a.** With teacher forcing no gradient flows from one time step to an earlier one, since each input is a
#   given character rather than a prediction; BPTT is not needed.
# - **b.** Teacher forcing makes the loss at each position depend on the model's own earlier mistakes, which is
#   why training is slow at first.
# - **c.** All positions are trained in one pass over the true text, but the model never sees its own
#   mistakes during training; when it samples, one unlikely character becomes the next input and the text
#   can drift into contexts it was never trained on.
# - **d.** Teacher forcing only works for LSTMs; a vanilla RNN must be trained on its own samples.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "teacher_forcing_answer", "locked": false, "schema_version": 3, "solution": true}
def teacher_forcing_answer():
    """Your answer to concept question 3: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_teacher_forcing_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(teacher_forcing_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_teacher_forcing_answer_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("teacher_forcing_answer", teacher_forcing_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 8. Make it work: a language model trained by your own BPTT
#
# The model of section 7 was trained by autograd. Now train one with **your** pieces only: your
# `lstm_forward` for the forward pass, your `lstm_backward` for the gradients, your `clip_grad_global_norm`,
# and an optimizer you write out (chapter 05's Adam is a good choice). No autograd: the grader checks.
#
# The model reads one character at a time as a one-hot vector $x_t \in \{0, 1\}^V$ (so $x_t W_x$ simply picks a
# row of $W_x$: the input weights double as a character embedding), runs the LSTM from zero states, and
# predicts the next character from every hidden state with the logits $h_t W_y + b_y$. Train it to predict the
# next character of random windows of the training text (`random_windows` draws them, with the targets
# shifted by one) with the cross-entropy averaged over every position.
#
# ### Exercise 11: `train_char_lstm`
#
# Implement `train_char_lstm(ids, vocab_size, seed=0)` (add keyword arguments with defaults if you like) for
# a 1-D `torch.long` tensor `ids` of training text. Return a dict of float tensors `"Wx"` `(V, 4H)`, `"Wh"`
# `(H, 4H)`, `"b"` `(4H,)`, `"Wy"` `(H, V)` and `"by"` `(V,)` with a hidden size `H <= 64`. Use `seed` for
# every random draw, so that a run can be repeated exactly.
#
# **The target.** The grader calls your function on the first 90% of the corpus with two seeds of its own,
# and measures the perplexity of each trained model on the last 10% of the corpus, which this notebook
# never uses: the text is cut into chunks of 65 characters, each read from zero states, and the perplexity is
# $\exp$ of the mean cross-entropy (nats) of the 64 next-character predictions of every chunk. It must be at
# most **3.0** (a uniform guess scores $V = 61$, and the characters' frequencies alone about 20). Training
# must stay short: a few seconds on one core (the reference takes about 2 s; a few hundred steps are
# plenty). Below, your function is trained on the first 80% and measured on the next 10%.
#
# <details><summary>Hint 1: the gradient on the logits</summary>
#
# For the mean over $M = N T$ positions of the cross-entropy of $\mathrm{softmax}(z)$, the gradient on the
# logits $z$ of one position is $(\mathrm{softmax}(z) - \mathrm{onehot}(y)) / M$ (chapter 03). From there,
# $W_y$ and $b_y$ are an affine layer, and what flows back into the hidden states is the `dh_all` of your
# `lstm_backward` (there is no loss on the final cell state).
# </details>
#
# <details><summary>Hint 2: a schedule that works</summary>
#
# Hidden size 48; 150 steps of 32 windows of 32 characters; Adam with learning rate 0.03; gradients clipped
# to a global norm of 1; small random initial weights ($W_x$ with standard deviation 0.1, $W_h$ and $W_y$
# with $1/\sqrt{H}$), zero biases except the forget gate's, which starts at $+1$.
# </details>
#
# <details><summary>Hint 3: if the perplexity stays high</summary>
#
# Check the signs (gradient *descent*), that the Adam moments are corrected for their zero start, and that
# your `lstm_backward` passes all its tests: a gradient that does not travel back in time still trains a model,
# but a much worse one.
# </details>

# %%
# The data: the corpus as character ids, the first 80% to train on and the next 10% to validate on (the last
# 10% is the grader's). `char_lm_perplexity(params, ids)` measures a model exactly as the grader does.
vocab, train_ids, valid_ids = split_village_tales()
print(f"{len(train_ids)} training and {len(valid_ids)} validation characters, vocabulary of {len(vocab)}")

# %% nbgrader={"grade": false, "grade_id": "train_char_lstm", "locked": false, "schema_version": 3, "solution": true}
def train_char_lstm(ids, vocab_size, hidden=48, seq_len=32, batch_size=32, steps=150, lr=0.03, max_norm=1.0,
                    seed=0):
    """Train a one-hot-input LSTM language model with lstm_forward, lstm_backward and your own optimizer.

    Args:
        ids: (L,) long tensor, the training text; vocab_size: V; seed: seeds every random draw.
    Returns:
        dict of tensors "Wx" (V, 4H), "Wh" (H, 4H), "b" (4H,), "Wy" (H, V), "by" (V,), with H <= 64.
    """
    ### BEGIN SOLUTION
    g = torch.Generator().manual_seed(seed)
    H, V = hidden, vocab_size
    params = {"Wx": 0.1 * torch.randn(V, 4 * H, generator=g), "Wh": torch.randn(H, 4 * H, generator=g) / math.sqrt(H),
              "b": torch.zeros(4 * H), "Wy": torch.randn(H, V, generator=g) / math.sqrt(H), "by": torch.zeros(V)}
    params["b"][H:2 * H] = 1.0   # forget gates start open
    names = list(params)
    m = {k: torch.zeros_like(v) for k, v in params.items()}
    v = {k: torch.zeros_like(p) for k, p in params.items()}
    for step in range(1, steps + 1):
        xb, yb = random_windows(ids, batch_size, seq_len, g)
        h, _, cache = lstm_forward(torch.nn.functional.one_hot(xb, V).float(), torch.zeros(batch_size, H),
                                   params["Wx"], params["Wh"], params["b"])
        dz = torch.softmax(h @ params["Wy"] + params["by"], dim=-1)
        dz = (dz - torch.nn.functional.one_hot(yb, V).float()) / (batch_size * seq_len)
        grads = {"Wy": h.reshape(-1, H).T @ dz.reshape(-1, V), "by": dz.sum((0, 1))}
        _, _, grads["Wx"], grads["Wh"], grads["b"] = lstm_backward(dz @ params["Wy"].T, torch.zeros(batch_size, H), cache)
        clipped, _ = clip_grad_global_norm([grads[k] for k in names], max_norm)
        for k, gk in zip(names, clipped):
            m[k] = 0.9 * m[k] + 0.1 * gk
            v[k] = 0.999 * v[k] + 0.001 * gk * gk
            params[k] = params[k] - lr * (m[k] / (1 - 0.9 ** step)) / ((v[k] / (1 - 0.999 ** step)).sqrt() + 1e-8)
    return params
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_train_char_lstm", "locked": true, "points": 1, "schema_version": 3, "solution": false}
import time

vocab, train_ids, valid_ids = split_village_tales()
_start = time.perf_counter()
_params = train_char_lstm(train_ids, len(vocab), seed=0)
_seconds = time.perf_counter() - _start
expect_true(isinstance(_params, dict) and {"Wx", "Wh", "b", "Wy", "by"} <= set(_params),
            'train_char_lstm must return a dict with the keys "Wx", "Wh", "b", "Wy" and "by".')
_H = _params["Wh"].shape[0]
expect_true(_H <= 64, f"the hidden size is {_H}; at most 64 is allowed.")
for _name, _shape in (("Wx", (len(vocab), 4 * _H)), ("Wh", (_H, 4 * _H)), ("b", (4 * _H,)), ("Wy", (_H, len(vocab))),
                      ("by", (len(vocab),))):
    expect_shape(_params[_name], _shape, what=f"params[{_name!r}]")
_ppl = char_lm_perplexity(_params, valid_ids)
print(f"validation perplexity {_ppl:.3f} (target 3.0; uniform guess {len(vocab)}), trained in {_seconds:.1f} s")
expect_true(_ppl <= 3.0, f"the validation perplexity {_ppl:.3f} is above the target 3.0",
            hint="Every piece must be right: the gradient must travel back through time on BOTH states; "
                 "then look at the schedule (Hint 2) and the optimizer (Hint 3).")

# %% nbgrader={"grade": true, "grade_id": "test_train_char_lstm_2", "locked": true, "points": 7, "schema_version": 3, "solution": false}
# Hidden tests: two more seeds, trained on the first 90% and measured on the grader's last 10%.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("train_char_lstm", train_char_lstm)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 9. Decoding: greedy and beam search
#
# A trained language model gives the probability of the next character; often we want a whole likely
# continuation of a prompt, the $k$ tokens $w_n, \dots, w_{n+k-1}$ that maximize
# $P(w_n, \dots, w_{n+k-1} \mid w_1, \dots, w_{n-1}) = \prod_j P(w_j \mid w_1, \dots, w_{j-1})$. Searching all
# $V^k$ continuations is out of the question (the textbook's §9.3, *Inference*). **Greedy decoding** takes
# the most likely token at every step and feeds it back in; it can miss the best sequence when the best first
# token leads nowhere good (the textbook's example: the most frequent first word of organization names is
# not the first word of the most frequent name). **Beam search** keeps the $B$ best prefixes (the *beams*)
# instead of one: at every step it scores every one-token extension of every beam by its total
# log-probability, and keeps the $B$ best extensions over all beams. With $B = 1$ it is greedy decoding.
#
# ### Exercise 12: `beam_search`
#
# Implement `beam_search(step, state, token, length, beam_width)`. The model is a function
# `step(state, token) -> (log_probs, new_state)`: it reads `token` (an int) in `state` and returns the
# log-probabilities of the next token (a 1-D tensor of length $V$) and the state after reading it. Start from
# the given `state` and `token` (the last token of the prompt), generate `length >= 1` tokens, and return
# `(tokens, log_prob)`: the best continuation found, a list of `length` ints, and its total log-probability
# (the sum of its tokens' log-probabilities) as a Python float. Keep the states of the beams apart: two beams
# that share a prefix may diverge later.

# %% nbgrader={"grade": false, "grade_id": "beam_search", "locked": false, "schema_version": 3, "solution": true}
def beam_search(step, state, token, length, beam_width):
    """Beam-search decoding of `length` tokens with `beam_width` beams (beam_width = 1: greedy).

    Args:
        step: step(state, token) -> (log_probs (V,), new_state); state: the state before token is read;
        token: the prompt's last token (int); length: tokens to generate; beam_width: beams kept.
    Returns:
        (tokens, log_prob): a list of `length` ints and its total log-probability (float).
    """
    ### BEGIN SOLUTION
    beams = [(0.0, [], state, int(token))]
    for _ in range(length):
        candidates = []
        for score, tokens, beam_state, last in beams:
            log_probs, new_state = step(beam_state, last)
            top = torch.topk(log_probs, min(beam_width, log_probs.numel()))
            for lp, nxt in zip(top.values.tolist(), top.indices.tolist()):
                candidates.append((score + lp, tokens + [nxt], new_state, nxt))
        candidates.sort(key=lambda c: c[0], reverse=True)
        beams = candidates[:beam_width]
    return beams[0][1], float(beams[0][0])
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_beam_search", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# A hand case where greedy decoding goes wrong. The first token is 0, 1 or 2 with probabilities 0.5, 0.3, 0.2;
# after 0 the next is spread out (0.4, 0.3, 0.3), after 1 it is almost surely 0 (0.9, 0.05, 0.05). Greedy takes
# 0 then 0 (0.5 * 0.4 = 0.2); the best pair is 1 then 0 (0.3 * 0.9 = 0.27), which two beams find.
_first = torch.log(torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64))
_after = torch.log(torch.tensor([[0.4, 0.3, 0.3], [0.9, 0.05, 0.05], [0.34, 0.33, 0.33]], dtype=torch.float64))


def _toy_step(state, token):
    return (_first if state == "prompt" else _after[token]), "generating"


_got = beam_search(_toy_step, "prompt", 0, 2, 1)
expect_true(isinstance(_got, tuple) and len(_got) == 2, "beam_search should return the pair (tokens, log_prob).")
expect_true(list(_got[0]) == [0, 0], f"greedy decoding (beam_width=1) should give [0, 0], got {list(_got[0])}.",
            hint="With one beam, take the most likely token at every step and feed it back in.")
expect_close(_got[1], math.log(0.2), what="the log-probability of the greedy pair",
             hint="The score of a sequence is the SUM of the log-probabilities of all its tokens.")
_got = beam_search(_toy_step, "prompt", 0, 2, 2)
expect_true(list(_got[0]) == [1, 0], f"two beams should find [1, 0], got {list(_got[0])}.",
            hint="Rank the extensions of all beams together by their TOTAL log-probability, not by the last token's.")
expect_close(_got[1], math.log(0.27), what="the log-probability found with two beams")

# %% nbgrader={"grade": true, "grade_id": "test_beam_search_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (Markov models of order one and two, a small LSTM, beam widths from 1 to exhaustive).
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("beam_search", beam_search)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# Now decode from the model you trained in section 8. The state of the character model is the pair $(h, c)$;
# one step reads a character with your `lstm_step_forward` and returns the log-softmax of its logits.
# Beam search usually finds a more likely continuation than greedy decoding (not always: the greedy prefix can
# drop out of the beams and the survivors end worse), and both tend to repeat the most common phrases of the
# corpus: the most likely text is not the most natural one, which is why sampling (section 7) is used for
# open-ended generation.

# %%
def char_model_step(params):
    """The step function of a one-hot-input character LSTM: state (h, c), one character in, log-probs out."""
    def step(state, token):
        x = torch.nn.functional.one_hot(torch.tensor([token]), params["Wx"].shape[0]).to(params["Wx"].dtype)
        h, c, _ = lstm_step_forward(x, state[0], state[1], params["Wx"], params["Wh"], params["b"])
        return torch.log_softmax(h[0] @ params["Wy"] + params["by"], dim=-1), (h, c)
    return step


def decode(params, prompt, length, beam_width):
    """Continue prompt with beam_search on the character model; print the text and its log-probability."""
    with torch.no_grad():
        x = torch.nn.functional.one_hot(vocab.encode(prompt[:-1]), len(vocab)).to(params["Wx"].dtype)[None]
        h, c, _ = lstm_forward(x, torch.zeros(1, params["Wh"].shape[0], dtype=x.dtype), params["Wx"], params["Wh"],
                               params["b"])
        tokens, log_prob = beam_search(char_model_step(params), (h[:, -1], c), vocab.index[prompt[-1]], length,
                                       beam_width)
    print(f"beam width {beam_width}: {prompt + vocab.decode(tokens)!r}  (log-probability {log_prob:.2f})")


if "_params" in globals():
    with needs_exercises():
        for width in (1, 4):
            decode(_params, "Story 12. The ", 60, width)
else:
    print("This demo needs train_char_lstm (exercise 11): implement it and run its test cell first.")

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
# - `train_char_lstm`: a character-level language model trained end to end by your own forward pass, your
#   own BPTT and your own optimizer, to a held-out perplexity below 3 — and the gradient-vs-lag picture that
#   explains why gated cells train where vanilla RNNs fail.
# - Three ideas to keep: truncated BPTT uses old context but cannot learn to store it; the forget gate is
#   the factor on the cell state's gradient path; teacher forcing trains on true prefixes, generation runs on
#   the model's own.
# - `beam_search`: decoding that keeps the best few prefixes instead of one, greedy decoding as its special
#   case.
#
# Recurrent networks read a sequence one step at a time, so the path between two distant positions is
# $T$ steps long and cannot be parallelised over time. The next chapter replaces the recurrence by
# *attention*, which connects every position to every other in one step — the building block of the
# Transformer.
