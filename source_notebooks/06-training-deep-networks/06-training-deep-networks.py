# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 · Activations, initialization, normalization, regularization
#
# A deep network is a long product of random matrices and nonlinearities. Whether it trains at all
# depends, before any clever optimizer enters, on whether a signal survives the trip from the input to
# the output and a gradient survives the trip back. This chapter builds the tools that keep both alive
# (a sensible initial scale, normalization layers, skip connections) and two that fight over-fitting
# once training works (dropout and ensembles).
#
# **Learning goals**
# - Derive how the variance of the activations changes from layer to layer, and from it the
#   Xavier (Glorot) and He (Kaiming) initializations; draw such weights from a generator you are given.
# - Measure the mean and spread of the activations layer by layer, and watch them vanish, saturate
#   or stay healthy depending on the initial scale and the activation function.
# - Implement **BatchNorm** exactly as `torch.nn.BatchNorm1d` does it, training and evaluation modes,
#   running statistics and all, and **derive its backward pass** yourself, through its Jacobian.
# - Implement LayerNorm forward and backward, inverted dropout, a residual block, and the average of
#   an ensemble's predictions.
# - Train a BatchNorm network with your own pieces to a stated accuracy on held-out digits.
#
# **Notes followed.** Kaplan, *Notes on Contemporary Machine Learning for Physicists*, §5.1
# (information propagation: §5.1.1 activation functions, §5.1.2 whitening with weight, layer and batch
# norm, §5.1.3 initialization, §5.1.4 residual connections) and the dropout paragraph of §3.4.5 (comments on regularization);
# *CS 182/282A discussion worksheets*, discussion 4 (§2 batch normalization and its gradients,
# §3 ensembles, §4 dropout, §5 deriving an initialization); the deep-learning textbook, §2.2
# (regularization: batch normalization, dropout, early stopping) and §3.4 (initialization).
#
# **Conventions used throughout.** A batch is a tensor of shape `(N, D)`: `N` samples in the rows,
# `D` features in the columns. A weight matrix has the layout of `torch.nn.Linear.weight`, shape
# `(fan_out, fan_in)`, and a layer computes `h @ W.T`. Functions keep the dtype and the device of their
# input. Randomness enters only through a `torch.Generator` that you are handed.
#
# **Watch out for the notes' conventions.** They differ from torch's, and in a few places they slip:
# - *Dropout's* `p`: torch (and this notebook) use the probability of **dropping** a unit; the CS 182
#   worksheet uses the probability of **keeping** it, and divides by it. Kaplan's remark that one may
#   instead multiply by $p$ after training should read $1-p$ when $p$ is the dropped fraction.
# - *"Xavier"*: the CS 182 worksheet derives $\text{Var}(W) = 1/\text{fan\_in}$ and calls it Xavier;
#   torch (and Glorot and Bengio) use $2/(\text{fan\_in} + \text{fan\_out})$. We call the first one
#   **LeCun** initialization. The textbook's $\sigma^2 = \text{gain}\times 2/(\#\text{in} + \#\text{out})$
#   should carry $\text{gain}^2$: torch's `xavier_normal_` scales the *standard deviation* by the gain.
# - *Momentum* of the running statistics: torch's `running = (1 - momentum) * running + momentum * batch`,
#   so a *small* momentum means a *slow* average (Keras uses the opposite convention).
# - Kaplan's eq. (5.1.1) is the softmax, although the text calls it the sigmoid.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import math
import numpy as np
import torch
import torch.nn.functional as F
import matplotlib.pyplot as plt
import ipywidgets as widgets
from course.checks import expect_close, expect_true, expect_shape, expect_raises
from course.demos import interact, needs_exercises

# %%
# Every tensor in this notebook is small. For such sizes one CPU thread is faster than several (no
# hand-off between threads at every operation), and it keeps the demos quick on a busy machine.
torch.set_num_threads(1)

# %% [markdown]
# ## 1. How a signal propagates through random layers
#
# Take one layer without bias, $z_i = \sum_{j=1}^{n_\text{in}} W_{ij}\, h_j$, followed by an activation
# $h'_i = \phi(z_i)$. At initialization the weights are independent of each other and of the input,
# with mean 0 and variance $\text{Var}(W)$. For independent $A$, $B$,
# $\text{Var}(AB) = \text{Var}(A)\,\mathbb E[B]^2 + \mathbb E[A]^2\,\text{Var}(B) + \text{Var}(A)\,\text{Var}(B)$,
# and with $\mathbb E[W] = 0$ only $\text{Var}(W)\,\mathbb E[h^2]$ survives. The $n_\text{in}$ terms are
# uncorrelated, so their variances add:
#
# $$\text{Var}(z_i) = n_\text{in}\,\text{Var}(W)\,\mathbb E[h_j^2].$$
#
# What comes next depends on $\phi$:
#
# - **tanh** is close to the identity near 0, so for small signals $\mathbb E[h'^2] \approx \text{Var}(z)$:
#   the signal keeps its size when $n_\text{in}\,\text{Var}(W) = 1$, that is $\text{Var}(W) = 1/n_\text{in}$
#   (**LeCun**; the CS 182 worksheet's "Xavier").
# - **ReLU** zeroes the negative half of a symmetric $z$, so $\mathbb E[\text{ReLU}(z)^2] = \tfrac12 \text{Var}(z)$
#   (Kaplan eq. 5.1.8). To keep $\mathbb E[h^2]$ fixed we need $n_\text{in}\,\text{Var}(W)/2 = 1$:
#   $\text{Var}(W) = 2/n_\text{in}$, the **He** (Kaiming) initialization (Kaplan eq. 5.1.10).
# - The same computation for the *backward* pass, where the gradient is multiplied by $W^\top$,
#   asks for $n_\text{out}$ in place of $n_\text{in}$. **Xavier** (Glorot) initialization splits the
#   difference: $\text{Var}(W) = 2/(n_\text{in} + n_\text{out})$ (Kaplan eq. 5.1.12).
#
# Any other scale multiplies the variance by a constant factor at *every* layer: after $L$ layers the
# signal is that factor to the power $L$, which vanishes or explodes for a deep network.
#
# ### Exercise 1: `init_std`
#
# Return the **standard deviation** (a Python float) of the weights of a layer with `fan_in` inputs and
# `fan_out` outputs under `scheme`:
#
# | scheme | standard deviation |
# |---|---|
# | `"xavier"` | $\sqrt{2/(\text{fan\_in} + \text{fan\_out})}$ |
# | `"he"` | $\sqrt{2/\text{fan\_in}}$ (ReLU, fan-in mode: torch's `kaiming_normal_(mode="fan_in", nonlinearity="relu")`) |
# | `"lecun"` | $\sqrt{1/\text{fan\_in}}$ |
#
# Raise a `ValueError` for any other scheme.

# %% nbgrader={"grade": false, "grade_id": "init_std", "locked": false, "schema_version": 3, "solution": true}
def init_std(fan_in, fan_out, scheme):
    """Standard deviation of the weights of a (fan_out, fan_in) layer under an initialization scheme.

    Args:
        fan_in: number of inputs of the layer (int).
        fan_out: number of outputs of the layer (int).
        scheme: "xavier", "he" or "lecun".
    Returns:
        the standard deviation, a Python float.
    """
    ### BEGIN SOLUTION
    if scheme == "xavier":
        return math.sqrt(2.0 / (fan_in + fan_out))
    if scheme == "he":
        return math.sqrt(2.0 / fan_in)
    if scheme == "lecun":
        return math.sqrt(1.0 / fan_in)
    raise ValueError(f"unknown scheme {scheme!r}")
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_init_std", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_close(init_std(100, 300, "xavier"), math.sqrt(2 / 400), what='init_std(100, 300, "xavier")',
             hint="Xavier averages the two fans: sqrt(2 / (fan_in + fan_out)).")
expect_close(init_std(50, 200, "he"), 0.2, what='init_std(50, 200, "he")',
             hint="He uses fan_in only (the forward pass): sqrt(2 / fan_in) = sqrt(2 / 50) = 0.2.")
expect_close(init_std(25, 100, "lecun"), 0.2, what='init_std(25, 100, "lecun")',
             hint="LeCun: sqrt(1 / fan_in).")
expect_raises(ValueError, init_std, 10, 10, "orthogonal", what='init_std(10, 10, "orthogonal")')

# %% nbgrader={"grade": true, "grade_id": "test_init_std_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("init_std", init_std)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2: `init_weight`
#
# Draw a weight matrix of shape `(fan_out, fan_in)`, zero mean, standard deviation
# $s$ = `init_std(fan_in, fan_out, scheme)`, from the generator you are given:
#
# - `distribution="normal"`: $W_{ij} \sim \mathcal N(0, s^2)$;
# - `distribution="uniform"`: $W_{ij} \sim U(-a, a)$. A uniform law on $[-a, a]$ has variance $a^2/3$,
#   so $a = \sqrt3\, s$ gives the same variance.
#
# Use `torch.randn` / `torch.rand` with `generator=generator` and `dtype=dtype` (default float32), on the
# generator's device (`generator.device`). Your samples will not be bit-for-bit those of `torch.nn.init`
# (nor need they be): the tests compare their statistics with the formula and with `torch.nn.init`'s
# samples, within a few standard errors. For $n$ Gaussian draws the sample variance has standard error
# $s^2\sqrt{2/n}$, which is what the test below uses.

# %% nbgrader={"grade": false, "grade_id": "init_weight", "locked": false, "schema_version": 3, "solution": true}
def init_weight(fan_in, fan_out, scheme, generator, distribution="normal", dtype=torch.float32):
    """Random weight matrix with zero mean and the variance of an initialization scheme.

    Args:
        fan_in, fan_out: the layer's numbers of inputs and outputs.
        scheme: "xavier", "he" or "lecun" (see init_std).
        generator: torch.Generator, the only source of randomness.
        distribution: "normal" or "uniform".
        dtype: floating dtype of the result.
    Returns:
        tensor of shape (fan_out, fan_in).
    """
    ### BEGIN SOLUTION
    std = init_std(fan_in, fan_out, scheme)
    if distribution == "normal":
        return std * torch.randn(fan_out, fan_in, generator=generator, dtype=dtype, device=generator.device)
    if distribution == "uniform":
        u = torch.rand(fan_out, fan_in, generator=generator, dtype=dtype, device=generator.device)
        return (2.0 * u - 1.0) * (math.sqrt(3.0) * std)
    raise ValueError(f"unknown distribution {distribution!r}")
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_init_weight", "locked": true, "points": 1, "schema_version": 3, "solution": false}
w = init_weight(400, 100, "he", torch.Generator().manual_seed(0))
expect_shape(w, (100, 400), what='init_weight(400, 100, "he", g)')
expect_true(w.dtype == torch.float32, f"the default dtype should be float32, got {w.dtype}.")
target = 2 / 400
tol = 6 * target * math.sqrt(2 / w.numel())
expect_true(abs(w.var().item() - target) < tol,
            f"the sample variance of the He weights is {w.var().item():.5f}, expected 2 / fan_in = {target} "
            f"(within {tol:.5f}).", hint="He uses fan_in, the number of COLUMNS of the (fan_out, fan_in) weight.")
w = init_weight(300, 200, "xavier", torch.Generator().manual_seed(1), distribution="uniform", dtype=torch.float64)
bound = math.sqrt(3) * math.sqrt(2 / 500)
expect_true(w.dtype == torch.float64 and w.abs().max().item() <= bound,
            f"uniform Xavier draws should be float64 and lie in [-{bound:.4f}, {bound:.4f}]; "
            f"got dtype {w.dtype} and max |w| = {w.abs().max().item():.4f}.",
            hint="a = sqrt(3) * std, so that the variance a^2 / 3 equals std^2.")
expect_true(abs(w.var().item() - 2 / 500) < 6 * (2 / 500) * math.sqrt(0.8 / w.numel()),
            f"the variance of the uniform Xavier weights is {w.var().item():.5f}, expected {2 / 500}.")
w1 = init_weight(30, 20, "lecun", torch.Generator().manual_seed(5))
w2 = init_weight(30, 20, "lecun", torch.Generator().manual_seed(5))
expect_true(torch.equal(w1, w2), "two calls with equally seeded generators should give the same weights.",
            hint="Draw with generator=generator, never from torch's global random state.")

# %% nbgrader={"grade": true, "grade_id": "test_init_weight_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("init_weight", init_weight)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Activation statistics, layer by layer
#
# To see the derivation at work, push a batch through a deep stack of bias-free layers,
# $h_0 = x$, $h_\ell = \phi(h_{\ell-1} W_\ell^\top)$, and record at each layer the mean and the spread
# of all the entries of $h_\ell$.
#
# ### Exercise 3: `activation_stats`
#
# `x` has shape `(N, D_0)`, `weights` is a list of `L` matrices, the $\ell$-th of shape
# `(D_l, D_{l-1})`, and `activation` is `"tanh"`, `"relu"` or `"linear"` (the identity). Return
# `(means, stds)`, two tensors of shape `(L,)`: entry $\ell - 1$ holds the mean and the standard deviation of
# **all** entries of $h_\ell$ (batch and units together), the standard deviation **dividing by the number
# of entries** (`correction=0`). The input $h_0$ is not included; the activation is applied after every
# layer, the last one included.

# %% nbgrader={"grade": false, "grade_id": "activation_stats", "locked": false, "schema_version": 3, "solution": true}
def activation_stats(x, weights, activation):
    """Mean and plug-in standard deviation of the activations of every layer of a bias-free network.

    Args:
        x: input batch, shape (N, D_0).
        weights: list of L tensors, the l-th of shape (D_l, D_{l-1}).
        activation: "tanh", "relu" or "linear".
    Returns:
        (means, stds): two tensors of shape (L,), dtype of x.
    """
    ### BEGIN SOLUTION
    phi = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda t: t}[activation]
    h = x
    means, stds = [], []
    for w in weights:
        h = phi(h @ w.T)
        means.append(h.mean())
        stds.append(h.std(correction=0))
    return torch.stack(means), torch.stack(stds)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_activation_stats", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.tensor([[1.0, -1.0], [2.0, 0.0]], dtype=torch.float64)
eye = torch.eye(2, dtype=torch.float64)
means, stds = activation_stats(x, [eye, 2 * eye], "relu")
# layer 1: relu(x) = [[1, 0], [2, 0]]: mean 0.75, variance (0.0625 + 0.5625 + 1.5625 + 0.5625) / 4 = 0.6875
expect_close(means, torch.tensor([0.75, 1.5], dtype=torch.float64), what="means of relu layers [I, 2I]",
             hint="Record the activations AFTER phi, one entry per layer (the input is not a layer).")
expect_close(stds, torch.tensor([math.sqrt(0.6875), 2 * math.sqrt(0.6875)], dtype=torch.float64),
             what="stds of relu layers [I, 2I]",
             hint="Divide by the number of entries (correction=0), over the whole tensor h.")
means, stds = activation_stats(x, [torch.tensor([[1.0, 1.0]], dtype=torch.float64)], "linear")
expect_close(torch.stack([means[0], stds[0]]), torch.tensor([1.0, 1.0], dtype=torch.float64),
             what="(mean, std) of x @ [[1, 1]].T = [[0], [2]]", hint="h_1 = h_0 @ W.T with W of shape (1, 2).")

# %% nbgrader={"grade": true, "grade_id": "test_activation_stats_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("activation_stats", activation_stats)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: activation histograms by layer
#
# A 10-layer network of width 256 on a batch of 512 Gaussian inputs. Pick the activation and the
# initialization: a fixed standard deviation that is too small (0.01) or too large (1.0), or one of the
# schemes above, times an extra factor `scale` (1 reproduces the scheme). With tanh, a tiny scale makes
# the activations collapse to 0 and a large one pins them at $\pm 1$ (saturation: zero gradient);
# with ReLU, only He keeps the spread constant, and LeCun/Xavier lose a factor $\sqrt2$ per layer.

# %%
def deep_activations(activation, init, scale=1.0, depth=10, width=256, batch=512, seed=0):
    """The activations h_1..h_depth of a bias-free network (a list of tensors)."""
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(batch, width, generator=g)
    phi = {"tanh": torch.tanh, "relu": torch.relu}[activation]
    layers = []
    for _ in range(depth):
        if init.startswith("std="):
            w = float(init[4:]) * scale * torch.randn(width, width, generator=g)
        else:
            w = scale * init_weight(width, width, init, g)
        h = phi(h @ w.T)
        layers.append(h)
    return layers


def show_histograms(activation="tanh", init="xavier", scale=1.0):
    layers = deep_activations(activation, init, scale)
    fig, axes = plt.subplots(1, len(layers), figsize=(15, 2.3), sharey=True)
    for i, (ax, h) in enumerate(zip(axes, layers)):
        values = h.flatten().numpy()
        ax.hist(values, bins=40, color="C0" if activation == "tanh" else "C1")
        ax.set_title(f"layer {i + 1}\nstd {values.std():.2g}", fontsize=8)
        ax.tick_params(labelsize=6)
        ax.set_yticks([])
    fig.suptitle(f"{activation}, init {init}, scale {scale}", fontsize=10)
    plt.tight_layout()
    plt.show()


interact(show_histograms, activation=["tanh", "relu"],
         init=["std=0.01", "std=1.0", "lecun", "xavier", "he"], scale=(0.25, 3.0, 0.25));

# %% [markdown]
# The same information in one picture: the standard deviation of the activations against depth,
# computed with your `activation_stats`, for every combination. A flat line is what we want.

# %%
with needs_exercises():
    def depth_profile(activation, init, depth=30, width=128, batch=64, seed=1):
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(batch, width, generator=g)
        if init.startswith("std="):
            ws = [float(init[4:]) * torch.randn(width, width, generator=g) for _ in range(depth)]
        else:
            ws = [init_weight(width, width, init, g) for _ in range(depth)]
        return activation_stats(x, ws, activation)[1]


    fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
    for ax, act in zip(axes, ["tanh", "relu"]):
        for init in ["std=0.01", "std=1.0", "lecun", "xavier", "he"]:
            ax.semilogy(range(1, 31), depth_profile(act, init).numpy() + 1e-30, label=init)
        ax.set_title(f"{act}: std of the activations")
        ax.set_xlabel("layer")
        ax.legend(fontsize=8)
    plt.tight_layout()
    plt.show()

# %% [markdown]
# ## 3. Batch normalization
#
# Initialization fixes the scale once, at the start. **Batch normalization** (Kaplan §5.1.2, CS 182
# discussion 4 §2, textbook §2.2) re-centres and re-scales every feature during training, using the
# statistics of the current mini-batch. For a batch $x \in \mathbb R^{N\times D}$ and each feature
# (column) separately:
#
# $$\mu = \frac1N\sum_{i=1}^N x_i,\qquad \sigma^2 = \frac1N\sum_{i=1}^N (x_i-\mu)^2,\qquad
#   \hat x_i = \frac{x_i - \mu}{\sqrt{\sigma^2+\epsilon}},\qquad y_i = \gamma\,\hat x_i + \beta,$$
#
# with learnable $\gamma, \beta \in \mathbb R^D$ that let the network undo the normalization where it
# wants to. Note the **biased** variance (divide by $N$) in the normalization.
#
# At test time there may be a single input, so there is no batch to average over. During training the
# layer therefore keeps exponential moving averages of the statistics, and evaluation uses those.
# `torch.nn.BatchNorm1d` updates them as
#
# $$\text{running\_mean} \leftarrow (1-m)\,\text{running\_mean} + m\,\mu,\qquad
#   \text{running\_var} \leftarrow (1-m)\,\text{running\_var} + m\,\frac{N}{N-1}\,\sigma^2,$$
#
# with momentum $m$ (default 0.1), and the running variance takes the **unbiased** batch variance
# (divide by $N-1$) while the normalization itself used the biased one. Both details are easy to get
# wrong, and the tests check both against torch.
#
# ### Exercise 4: `batchnorm_forward`
#
# `batchnorm_forward(x, gamma, beta, state, mode)` with `x` of shape `(N, D)`, `gamma` and `beta` of
# shape `(D,)`, `state` a dict with keys `"running_mean"`, `"running_var"` (tensors of shape `(D,)`),
# `"momentum"` and `"eps"` (floats), and `mode` either `"train"` or `"eval"`.
#
# - `"train"` (needs $N\ge2$): normalize with the batch statistics as above, and **replace**
#   `state["running_mean"]` and `state["running_var"]` by their updated values (the caller sees the change in
#   its dict, as `BatchNorm1d`'s buffers change).
# - `"eval"`: normalize with `state["running_mean"]` and `state["running_var"]` in place of $\mu$ and
#   $\sigma^2$, and do not touch `state`.
# - Return `(out, cache)` with `out` of shape `(N, D)` and `cache = (xhat, gamma, inv_std)`: `xhat` of
#   shape `(N, D)` and `inv_std` $= 1/\sqrt{\sigma^2+\epsilon}$ of shape `(D,)` (in eval mode, the same with the
#   running variance). The backward pass of Exercise 6 uses exactly this cache.
#
# Do not modify `x`, `gamma` or `beta`.

# %% nbgrader={"grade": false, "grade_id": "batchnorm_forward", "locked": false, "schema_version": 3, "solution": true}
def batchnorm_forward(x, gamma, beta, state, mode):
    """Batch normalization of a (N, D) batch, like torch.nn.BatchNorm1d.

    Args:
        x: input, shape (N, D).
        gamma, beta: scale and shift, shape (D,).
        state: dict with "running_mean", "running_var" (shape (D,)), "momentum", "eps"; updated in train mode.
        mode: "train" or "eval".
    Returns:
        (out, cache): out of shape (N, D); cache = (xhat (N, D), gamma (D,), inv_std (D,)).
    """
    ### BEGIN SOLUTION
    eps, momentum = state["eps"], state["momentum"]
    if mode == "train":
        n = x.shape[0]
        mu = x.mean(dim=0)
        var = ((x - mu) ** 2).mean(dim=0)
        state["running_mean"] = (1 - momentum) * state["running_mean"] + momentum * mu
        state["running_var"] = (1 - momentum) * state["running_var"] + momentum * var * n / (n - 1)
    elif mode == "eval":
        mu, var = state["running_mean"], state["running_var"]
    else:
        raise ValueError(f"unknown mode {mode!r}")
    inv_std = 1.0 / torch.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_batchnorm_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.tensor([[1.0, 2.0], [3.0, 6.0], [5.0, 4.0], [7.0, 0.0]], dtype=torch.float64)
gamma = torch.tensor([1.0, 2.0], dtype=torch.float64)
beta = torch.tensor([0.0, 1.0], dtype=torch.float64)
state = {"running_mean": torch.zeros(2, dtype=torch.float64), "running_var": torch.ones(2, dtype=torch.float64),
         "momentum": 0.1, "eps": 1e-5}
out, cache = batchnorm_forward(x, gamma, beta, state, "train")
bn = torch.nn.BatchNorm1d(2, eps=1e-5, momentum=0.1, dtype=torch.float64)
with torch.no_grad():
    bn.weight.copy_(gamma)
    bn.bias.copy_(beta)
    expected = bn(x)
expect_close(out, expected, what="train-mode output (compared with nn.BatchNorm1d)",
             hint="Normalize each column with its batch mean and its BIASED variance (divide by N), eps inside the sqrt.")
# By hand, column 0: mean 4, biased variance 5, unbiased variance 20/3.
expect_close(state["running_mean"], torch.tensor([0.4, 0.3], dtype=torch.float64),
             what='state["running_mean"] after one train step',
             hint="torch's convention: running = (1 - momentum) * running + momentum * batch_mean.")
expect_close(state["running_var"], torch.tensor([0.9 + 0.1 * 20 / 3, 0.9 + 0.1 * 20 / 3], dtype=torch.float64),
             what='state["running_var"] after one train step',
             hint="The running variance takes the UNBIASED batch variance (divide by N - 1), "
                  "although the normalization uses the biased one.")
expect_shape(cache[0], (4, 2), what="cache[0] (xhat)")
expect_close(cache[2], 1 / torch.sqrt(torch.tensor([5.0, 5.0], dtype=torch.float64) + 1e-5),
             what="cache[2] (inv_std)")
x_test = torch.tensor([[2.0, -1.0]], dtype=torch.float64)
out, _ = batchnorm_forward(x_test, gamma, beta, state, "eval")
bn.eval()
with torch.no_grad():
    expected = bn(x_test)
expect_close(out, expected, what="eval-mode output for a single sample (compared with nn.BatchNorm1d.eval())",
             hint="In eval mode normalize with the RUNNING statistics, not with the statistics of the batch.")
expect_close(state["running_mean"], bn.running_mean, what='state["running_mean"] after an eval call',
             hint="Evaluation must not change the running statistics.")

# %% nbgrader={"grade": true, "grade_id": "test_batchnorm_forward_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("batchnorm_forward", batchnorm_forward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### The backward pass: your derivation
#
# Given the upstream gradient $g_i = \partial L/\partial y_i$ for one feature (everything below is per
# column, so the sums run over the batch index), you need three things: $\partial L/\partial\gamma$,
# $\partial L/\partial\beta$ and the input gradient $\partial L/\partial x_i$. The first two come straight
# from $y_i = \gamma\hat x_i + \beta$. The input gradient is where the work is (and where the CS 182
# worksheet spends a whole staged derivation), because **every** $\hat x_j$ depends on **every** $x_i$,
# directly and through $\mu$ and $\sigma^2$. Write $s = (\sigma^2+\epsilon)^{-1/2}$, so that
# $\hat x_j = (x_j - \mu)\,s$.
#
# Derive it in two steps, and each step is graded:
#
# 1. **The Jacobian of the normalization** (Exercise 5): the $N\times N$ matrix $J_{ji} = \partial\hat x_j/\partial x_i$
#    of one feature. It turns out to depend on the input only through $\hat x$ and $s$.
# 2. **The contraction** (Exercise 6): $\partial L/\partial x_i = \sum_j \frac{\partial L}{\partial\hat x_j}\,J_{ji}$
#    with $\partial L/\partial\hat x_j = \gamma g_j$, simplified so that no $N\times N$ matrix is ever formed.
#
# <details><summary>Hint 1: the derivatives of the statistics</summary>
#
# $\partial\mu/\partial x_i = 1/N$. For the variance, differentiate $\sigma^2 = \frac1N\sum_j (x_j-\mu)^2$
# and notice that the term coming from $\mu$ is multiplied by $\sum_j (x_j - \mu)$, which is zero. Then
# $s = (\sigma^2+\epsilon)^{-1/2}$ gives $\partial s/\partial x_i$ by the chain rule; write the result with
# $\hat x_i$ in place of $(x_i-\mu)\,s$.
# </details>
#
# <details><summary>Hint 2: the Jacobian</summary>
#
# Apply the product rule to $\hat x_j = (x_j-\mu)\,s$: one term differentiates $x_j - \mu$ (it gives
# $\delta_{ij} - 1/N$), the other differentiates $s$. You should find $\partial s/\partial x_i = -s^2\,\hat x_i/N$,
# and then everything has a common factor $s/N$. Check your matrix: a constant shift of the whole column
# and a rescaling of the centred column change nothing a normalized output can show, so $J$ must send
# the vector $(1,\dots,1)$ to zero, and $\hat x$ to zero too (exactly for $\epsilon = 0$, nearly otherwise).
# </details>
#
# <details><summary>Hint 3: contracting without the matrix</summary>
#
# Write $J = \frac sN\,(N I - \mathbf 1\mathbf 1^\top - \hat x\hat x^\top)$ and multiply by the vector
# $\gamma g$: each of the three terms becomes an elementwise product or a sum over the batch. The two
# sums you meet are exactly $\partial L/\partial\beta$ and $\partial L/\partial\gamma$.
# </details>
#
# <details><summary>Hint 4: the result</summary>
#
# $$\frac{\partial L}{\partial x_i} = \frac{\gamma\, s}{N}\Big(N g_i - \sum_j g_j - \hat x_i \sum_j g_j\hat x_j\Big),
#   \qquad \frac{\partial L}{\partial\gamma} = \sum_i g_i\hat x_i,\qquad \frac{\partial L}{\partial\beta} = \sum_i g_i .$$
# </details>
#
# The two subtracted terms are the contributions through the mean and through the variance. Dropping them
# is the classic bug: it gives the gradient of an *eval-mode* BatchNorm, where $\mu$ and $\sigma^2$ are
# constants. A sanity check that needs no formula: a constant upstream gradient, or one proportional to
# $\hat x$, asks for a change that a normalized output cannot make, and must give $dx = 0$.
#
# ### Exercise 5: `batchnorm_jacobian`
#
# `batchnorm_jacobian(xhat, inv_std)` with `xhat` of shape `(N,)` (one feature's normalized column) and
# `inv_std` $= s$ a 0-dimensional tensor. Return the matrix `J` of shape `(N, N)` with
# `J[j, i]` $= \partial\hat x_j/\partial x_i$, in the dtype of `xhat`. (This stepping stone is for checking your
# derivation; Exercise 6 should not build it.)

# %% nbgrader={"grade": false, "grade_id": "batchnorm_jacobian", "locked": false, "schema_version": 3, "solution": true}
def batchnorm_jacobian(xhat, inv_std):
    """Jacobian of the normalization xhat = (x - mean) / sqrt(var + eps) of one feature over a batch.

    Args:
        xhat: the normalized column, shape (N,).
        inv_std: s = 1 / sqrt(var + eps), a 0-dimensional tensor.
    Returns:
        J of shape (N, N), J[j, i] = d xhat_j / d x_i, dtype of xhat.
    """
    ### BEGIN SOLUTION
    n = xhat.shape[0]
    eye = torch.eye(n, dtype=xhat.dtype, device=xhat.device)
    return inv_std / n * (n * eye - 1.0 - torch.outer(xhat, xhat))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_batchnorm_jacobian", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.tensor([1.0, 2.0, 4.0, 9.0], dtype=torch.float64)
inv_std = 1 / torch.sqrt(x.var(correction=0) + 1e-5)
xhat = (x - x.mean()) * inv_std
J = batchnorm_jacobian(xhat, inv_std)
expect_shape(J, (4, 4), what="batchnorm_jacobian(xhat, inv_std) for N = 4")
# The oracle: autograd's Jacobian of the normalization itself.
J_auto = torch.autograd.functional.jacobian(lambda t: (t - t.mean()) / torch.sqrt(t.var(correction=0) + 1e-5), x)
expect_close(J, J_auto, what="the Jacobian d xhat_j / d x_i (compared with autograd)",
             hint="Every xhat_j depends on x_i directly (the diagonal) AND through the mean and the variance "
                  "(every entry): see Hint 1 and Hint 2.")
expect_close(J @ torch.ones(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64),
             what="J applied to a constant shift (1, 1, 1, 1)",
             hint="Shifting the whole column does not move xhat: the term through the mean is missing or off.")
stretch = (J @ xhat).abs().max().item()   # exactly 0 for eps = 0; eps leaves about 1e-6 here
expect_true(stretch < 1e-4, f"J applied to xhat has an entry of size {stretch:.3g}; it should be about 0.",
            hint="Stretching the centred column (almost) does not move xhat: the term through the variance is "
                 "missing or off.")

# %% nbgrader={"grade": true, "grade_id": "test_batchnorm_jacobian_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("batchnorm_jacobian", batchnorm_jacobian)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 6: `batchnorm_backward`
#
# `batchnorm_backward(dout, cache)` with `dout` of shape `(N, D)` and `cache = (xhat, gamma, inv_std)` from a
# train-mode `batchnorm_forward`. Return `(dx, dgamma, dbeta)` of shapes `(N, D)`, `(D,)`, `(D,)`, from the
# formula you derived. Work on all features at once: a Python loop over the features earns the same
# marks, but it is slow, and the training task at the end of the chapter calls this function hundreds of
# times. Do not form the $N\times N$ Jacobian (its cost grows as $N^2 D$).

# %% nbgrader={"grade": false, "grade_id": "batchnorm_backward", "locked": false, "schema_version": 3, "solution": true}
def batchnorm_backward(dout, cache):
    """Gradients of a train-mode batch normalization.

    Args:
        dout: upstream gradient, shape (N, D).
        cache: (xhat (N, D), gamma (D,), inv_std (D,)) from batchnorm_forward in train mode.
    Returns:
        (dx, dgamma, dbeta) of shapes (N, D), (D,), (D,).
    """
    ### BEGIN SOLUTION
    xhat, gamma, inv_std = cache
    n = dout.shape[0]
    dbeta = dout.sum(dim=0)
    dgamma = (dout * xhat).sum(dim=0)
    dx = gamma * inv_std / n * (n * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_batchnorm_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
g = torch.Generator().manual_seed(6)
x = torch.randn(5, 3, generator=g, dtype=torch.float64) * 2 + 1
gamma = torch.rand(3, generator=g, dtype=torch.float64) + 0.5
beta = torch.randn(3, generator=g, dtype=torch.float64)
dout = torch.randn(5, 3, generator=g, dtype=torch.float64)   # a random upstream gradient
mu, var = x.mean(0), x.var(0, correction=0)
inv_std = 1 / torch.sqrt(var + 1e-5)
cache = ((x - mu) * inv_std, gamma, inv_std)
dx, dgamma, dbeta = batchnorm_backward(dout, cache)
# The oracle: autograd through torch's own batch norm, in float64.
xr, gr, br = x.clone().requires_grad_(), gamma.clone().requires_grad_(), beta.clone().requires_grad_()
F.batch_norm(xr, None, None, gr, br, training=True, eps=1e-5).backward(dout)
expect_close(dbeta, br.grad, what="dbeta",
             hint="beta is added to every sample of the batch, so its gradient collects every sample's share.")
expect_close(dgamma, gr.grad, what="dgamma",
             hint="gamma multiplies xhat in every sample: each sample contributes its upstream gradient times its xhat.")
expect_close(dx, xr.grad, what="dx (compared with autograd)",
             hint="Both the mean and the variance depend on every x_i: contract the upstream gradient (times gamma) "
                  "with the Jacobian of Exercise 5, column by column (Hint 3).")
dx, _, _ = batchnorm_backward(torch.ones(5, 3, dtype=torch.float64), cache)
expect_close(dx, torch.zeros(5, 3, dtype=torch.float64), what="dx for a constant upstream gradient",
             hint="Shifting every x_i by the same amount does not change the output, so dx must be 0: "
                  "you are missing the term through the mean.")

# %% nbgrader={"grade": true, "grade_id": "test_batchnorm_backward_2", "locked": true, "points": 5, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("batchnorm_backward", batchnorm_backward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: BatchNorm rescues a badly initialized network
#
# The scikit-learn 8×8 digits, a 6-layer tanh network whose weights are initialized far too small
# (std 0.05, so the signal all but vanishes by the output), trained with plain SGD. The same network with a
# BatchNorm layer before every tanh learns at once: every layer's input is re-scaled to unit variance
# whatever the weights. (The demo uses `torch.nn.BatchNorm1d`, which computes what you just wrote.)

# %%
from sklearn.datasets import load_digits

digits = load_digits()
X_all = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y_all = torch.tensor(digits.target)
perm = torch.randperm(len(X_all), generator=torch.Generator().manual_seed(0))
X_train, y_train = X_all[perm[:1400]], y_all[perm[:1400]]
X_test, y_test = X_all[perm[1400:]], y_all[perm[1400:]]


def make_mlp(batchnorm, depth=6, width=64, std=0.05, seed=0):
    g = torch.Generator().manual_seed(seed)
    layers, d_in = [], 64
    for _ in range(depth):
        lin = torch.nn.Linear(d_in, width)
        with torch.no_grad():
            lin.weight.copy_(std * torch.randn(width, d_in, generator=g))
            lin.bias.zero_()
        layers += [lin] + ([torch.nn.BatchNorm1d(width)] if batchnorm else []) + [torch.nn.Tanh()]
        d_in = width
    head = torch.nn.Linear(d_in, 10)
    with torch.no_grad():
        head.weight.copy_(torch.randn(10, d_in, generator=g) / math.sqrt(d_in))
        head.bias.zero_()
    return torch.nn.Sequential(*layers, head)


def train(model, steps=200, lr=0.1, batch=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        idx = torch.randint(0, len(X_train), (batch,), generator=g)
        loss = F.cross_entropy(model(X_train[idx]), y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


curves = {}
for bn_on in (False, True):
    model = make_mlp(bn_on)
    curves[bn_on] = train(model)
    model.eval()
    with torch.no_grad():
        acc = (model(X_test).argmax(1) == y_test).float().mean().item()
    print(f"{'with' if bn_on else 'without'} BatchNorm: test accuracy {acc:.3f}")
plt.figure(figsize=(6, 3.5))
for bn_on, losses in curves.items():
    plt.plot(np.convolve(losses, np.ones(10) / 10, mode="valid"), label="with BatchNorm" if bn_on else "plain")
plt.xlabel("SGD step")
plt.ylabel("training loss (moving average)")
plt.legend()
plt.show()

# %% [markdown]
# ### Questions on BatchNorm
#
# ### Concept question 1: `concept_eval_mode`
#
# You have trained a network with BatchNorm layers. To report its test accuracy you push the test set
# through it in batches of 32 images, but forget to switch the layers to evaluation mode: they still
# normalize with each batch's own statistics and update their running averages. What happens?
#
# - **a.** Nothing changes: the running statistics are averages of batch statistics, so normalizing with
#   the statistics of 32 test images gives the same predictions.
# - **b.** Only the speed changes: training mode computes the statistics that evaluation mode reads from memory.
# - **c.** Each image's prediction depends on which other images share its batch, and the running
#   statistics drift towards those of the test set, although no gradient step is taken.
# - **d.** The running statistics are safe, since only the optimizer's step changes a layer's state;
#   this one evaluation is the only thing affected.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "concept_eval_mode", "locked": false, "schema_version": 3, "solution": true}
def concept_eval_mode():
    """Your answer to concept question 1: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_eval_mode", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(concept_eval_mode() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_concept_eval_mode_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_eval_mode", concept_eval_mode)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Concept question 2: `concept_bn_learning_rate`
#
# The training task at the end of this chapter uses a learning rate of 2.0, far more than the same network
# without BatchNorm survives. Which property of BatchNorm explains this best?
#
# - **a.** BatchNorm makes the loss a convex function of the weights, so any step size converges.
# - **b.** The output of a BatchNorm layer does not change when the weights before it are multiplied by a
#   constant $c > 0$, and the gradient with respect to those weights shrinks by $1/c$: a step that inflates
#   the weights damps the steps that follow.
# - **c.** BatchNorm divides the gradients by the batch size, so the effective learning rate is $2.0/64$.
# - **d.** The running statistics average the gradients over many steps, as momentum does.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "concept_bn_learning_rate", "locked": false, "schema_version": 3, "solution": true}
def concept_bn_learning_rate():
    """Your answer to concept question 2: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_bn_learning_rate", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(concept_bn_learning_rate() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_concept_bn_learning_rate_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_bn_learning_rate", concept_bn_learning_rate)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Layer normalization
#
# BatchNorm couples the samples of a batch and needs running statistics for evaluation. **Layer
# normalization** (Kaplan eqs. 5.1.4–5.1.5) swaps the roles: each sample is normalized on its own,
# over its $D$ features. For a row $x \in \mathbb R^D$:
#
# $$\mu = \frac1D\sum_j x_j,\quad \sigma^2 = \frac1D\sum_j (x_j-\mu)^2,\quad
#   \hat x_j = \frac{x_j-\mu}{\sqrt{\sigma^2+\epsilon}},\quad y_j = \gamma_j\hat x_j + \beta_j .$$
#
# It behaves the same in training and evaluation (there are no running statistics), works with a batch
# of one, and is the normalization of transformers.
#
# Its backward pass is yours to derive (Exercise 8). It is the BatchNorm derivation with the roles of the
# axes swapped: the statistics of a row depend on the $D$ features of that row only, so the sums now run
# over the features $j$ of one row, and different rows do not interact. One thing changes for real:
# $\gamma_j$ and $\beta_j$ now vary *along* the normalized dimension.
#
# <details><summary>Hint 1: what carries over from BatchNorm</summary>
#
# Inside one row, $\hat x = (x - \mu)\,s$ is the same function of $x \in \mathbb R^D$ as BatchNorm's
# normalization is of one column $x \in \mathbb R^N$. So the Jacobian $\partial\hat x_k/\partial x_j$ of a row
# is your `batchnorm_jacobian` with $N$ replaced by $D$.
# </details>
#
# <details><summary>Hint 2: where gamma goes</summary>
#
# The vector to contract with the Jacobian is $\partial L/\partial\hat x_k = \gamma_k\,\partial L/\partial y_k$. In
# BatchNorm $\gamma$ was one number per column and could be pulled out of the sums over the batch; here it
# changes with $k$, the index that is summed over, so it has to stay inside the sums.
# </details>
#
# <details><summary>Hint 3: the parameter gradients</summary>
#
# $\gamma_j$ and $\beta_j$ are shared by every row (and every position of a sequence): their gradients
# add up the contributions of all the leading indices.
# </details>
#
# <details><summary>Hint 4: the result</summary>
#
# With $g_j = \gamma_j\,\partial L/\partial y_j$ and $s = (\sigma^2+\epsilon)^{-1/2}$ of the row,
#
# $$\frac{\partial L}{\partial x_j} = \frac{s}{D}\Big(D g_j - \sum_k g_k - \hat x_j\sum_k g_k\hat x_k\Big),$$
#
# while $\partial L/\partial\gamma$ and $\partial L/\partial\beta$ sum $\text{dout}\odot\hat x$ and
# $\text{dout}$ over all the rows.
# </details>
#
# ### Exercise 7: `layernorm_forward`
#
# `layernorm_forward(x, gamma, beta, eps=1e-5)`: `x` of shape `(..., D)` (any number of leading
# dimensions), `gamma` and `beta` of shape `(D,)`. Normalize over the **last** dimension with the biased
# variance. Return `(out, cache)`, `cache = (xhat, gamma, inv_std)` with `inv_std` of shape `(..., 1)`
# (keep the reduced dimension). The result must match `torch.nn.functional.layer_norm`.

# %% nbgrader={"grade": false, "grade_id": "layernorm_forward", "locked": false, "schema_version": 3, "solution": true}
def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer normalization over the last dimension.

    Args:
        x: input, shape (..., D).
        gamma, beta: scale and shift, shape (D,).
        eps: added to the variance.
    Returns:
        (out, cache): out of shape (..., D); cache = (xhat (..., D), gamma (D,), inv_std (..., 1)).
    """
    ### BEGIN SOLUTION
    mu = x.mean(dim=-1, keepdim=True)
    var = ((x - mu) ** 2).mean(dim=-1, keepdim=True)
    inv_std = 1.0 / torch.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_layernorm_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]], dtype=torch.float64)
gamma = torch.tensor([1.0, 0.5, 2.0], dtype=torch.float64)
beta = torch.tensor([0.0, 1.0, -1.0], dtype=torch.float64)
out, (xhat, _, inv_std) = layernorm_forward(x, gamma, beta)
expect_close(out, F.layer_norm(x, (3,), gamma, beta, 1e-5), what="layernorm_forward(x) (compared with F.layer_norm)",
             hint="Normalize each ROW over its features (the last dimension), not each column over the batch.")
expect_shape(inv_std, (2, 1), what="cache[2] (inv_std)")
# Row 0: mean 2, biased variance 2/3.
expect_close(inv_std[0, 0], 1 / math.sqrt(2 / 3 + 1e-5), what="inv_std of row [1, 2, 3]",
             hint="The biased variance (divide by D), with eps inside the square root.")
out, _ = layernorm_forward(x, gamma, beta, eps=0.5)
expect_close(out, F.layer_norm(x, (3,), gamma, beta, 0.5), what="layernorm_forward(x, eps=0.5)",
             hint="Use the eps you are given.")

# %% nbgrader={"grade": true, "grade_id": "test_layernorm_forward_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("layernorm_forward", layernorm_forward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 8: `layernorm_backward`
#
# `layernorm_backward(dout, cache)` with `dout` of shape `(..., D)` and the cache of `layernorm_forward`.
# Return `(dx, dgamma, dbeta)` of shapes `(..., D)`, `(D,)`, `(D,)`; `dgamma` and `dbeta` sum over every
# leading index.

# %% nbgrader={"grade": false, "grade_id": "layernorm_backward", "locked": false, "schema_version": 3, "solution": true}
def layernorm_backward(dout, cache):
    """Gradients of layer normalization.

    Args:
        dout: upstream gradient, shape (..., D).
        cache: (xhat (..., D), gamma (D,), inv_std (..., 1)) from layernorm_forward.
    Returns:
        (dx, dgamma, dbeta) of shapes (..., D), (D,), (D,).
    """
    ### BEGIN SOLUTION
    xhat, gamma, inv_std = cache
    d = dout.shape[-1]
    g = dout * gamma
    dx = inv_std / d * (d * g - g.sum(dim=-1, keepdim=True) - xhat * (g * xhat).sum(dim=-1, keepdim=True))
    dgamma = (dout * xhat).reshape(-1, d).sum(dim=0)
    dbeta = dout.reshape(-1, d).sum(dim=0)
    return dx, dgamma, dbeta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_layernorm_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
g = torch.Generator().manual_seed(7)
x = torch.randn(2, 3, 4, generator=g, dtype=torch.float64) * 2 + 1
gamma = torch.rand(4, generator=g, dtype=torch.float64) + 0.5
beta = torch.randn(4, generator=g, dtype=torch.float64)
dout = torch.randn(2, 3, 4, generator=g, dtype=torch.float64)
mu = x.mean(-1, keepdim=True)
inv_std = 1 / torch.sqrt(x.var(-1, keepdim=True, correction=0) + 1e-5)
dx, dgamma, dbeta = layernorm_backward(dout, ((x - mu) * inv_std, gamma, inv_std))
xr, gr, br = x.clone().requires_grad_(), gamma.clone().requires_grad_(), beta.clone().requires_grad_()
F.layer_norm(xr, (4,), gr, br, 1e-5).backward(dout)
expect_close(dbeta, br.grad, what="dbeta",
             hint="beta is shared by every row and every position: collect the contributions of all leading indices.")
expect_close(dgamma, gr.grad, what="dgamma",
             hint="gamma is shared by every row and every position, and it multiplies xhat there.")
expect_close(dx, xr.grad, what="dx (compared with autograd)",
             hint="gamma varies along the normalized dimension, the one the sums run over: it cannot be "
                  "pulled out of them as in BatchNorm (Hint 2).")

# %% nbgrader={"grade": true, "grade_id": "test_layernorm_backward_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("layernorm_backward", layernorm_backward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Dropout
#
# Dropout (Kaplan §3.4.5, CS 182 discussion 4 §4, textbook §2.2) zeroes each activation independently
# with probability $p$ during training. A unit that survives is scaled by $1/(1-p)$, so that
# $\mathbb E[\text{out}] = (1-p)\cdot\frac{x}{1-p} + p\cdot 0 = x$: the expected activation is unchanged,
# and evaluation can use the network as it is (the identity). This is **inverted dropout**, what
# `torch.nn.Dropout(p)` does. The older alternative multiplies by the keep probability $1-p$ at test time
# instead. Each mask is a different thinned sub-network, so training with dropout trains a huge family of
# networks that share their weights, an ensemble in disguise.
#
# The backward pass is short, once you see what the forward pass did to $x$ given the mask: the mask
# was drawn *before* $x$ was touched, so to the gradient it is a constant.
#
# ### Exercise 9: `dropout_forward`
#
# `dropout_forward(x, p, training, generator)` with `p` the **drop** probability, $0 \le p < 1$.
# - Training: draw `u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)` (exactly
#   this call, so the grader can reproduce your mask), keep the units where `u >= p`, let
#   `mask = keep / (1 - p)` (in `x`'s dtype) and return `(x * mask, mask)`.
# - Evaluation (`training=False`): return `(x, ones)` (a copy of `x` is fine), without using the generator.

# %% nbgrader={"grade": false, "grade_id": "dropout_forward", "locked": false, "schema_version": 3, "solution": true}
def dropout_forward(x, p, training, generator):
    """Inverted dropout with drop probability p.

    Args:
        x: input, any shape.
        p: probability of dropping a unit, 0 <= p < 1.
        training: bool, train (True) or evaluation (False) mode.
        generator: torch.Generator for the mask.
    Returns:
        (out, mask), both of the shape and dtype of x; out = x * mask.
    """
    ### BEGIN SOLUTION
    if not training:
        return x.clone(), torch.ones_like(x)
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    mask = (u >= p).to(x.dtype) / (1.0 - p)
    return x * mask, mask
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_dropout_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.arange(1.0, 13.0, dtype=torch.float64).reshape(3, 4)
out, mask = dropout_forward(x, 0.25, True, torch.Generator().manual_seed(0))
u = torch.rand(x.shape, generator=torch.Generator().manual_seed(0), dtype=x.dtype)
expected_mask = (u >= 0.25).to(x.dtype) / 0.75
expect_close(mask, expected_mask, what="the mask for p = 0.25 (seed 0)",
             hint="p is the DROP probability: keep where u >= p, and scale the kept units by 1 / (1 - p) = 4/3.")
expect_close(out, x * expected_mask, what="dropout_forward(x, 0.25, True, g)[0]")
out, mask = dropout_forward(x, 0.25, False, torch.Generator().manual_seed(0))
expect_close(out, x, what="evaluation-mode output", hint="Inverted dropout is the identity at evaluation time.")
expect_close(mask, torch.ones_like(x), what="evaluation-mode mask")
big = torch.ones(200, 200, dtype=torch.float64)
out, _ = dropout_forward(big, 0.6, True, torch.Generator().manual_seed(1))
expect_true(abs(out.mean().item() - 1.0) < 0.05,
            f"the mean of dropout(ones, p=0.6) is {out.mean().item():.3f}; inverted dropout keeps it near 1.",
            hint="Divide the kept units by 1 - p, the KEEP probability.")

# %% nbgrader={"grade": true, "grade_id": "test_dropout_forward_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("dropout_forward", dropout_forward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 10: `dropout_backward`
#
# `dropout_backward(dout, mask)`: the gradient with respect to the input of `dropout_forward`, given the
# upstream gradient and the **scaled** mask it returned. Same shape as `dout`.

# %% nbgrader={"grade": false, "grade_id": "dropout_backward", "locked": false, "schema_version": 3, "solution": true}
def dropout_backward(dout, mask):
    """Gradient of inverted dropout with respect to its input.

    Args:
        dout: upstream gradient, any shape.
        mask: the scaled mask returned by dropout_forward, same shape.
    Returns:
        dx, same shape as dout.
    """
    ### BEGIN SOLUTION
    return dout * mask
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_dropout_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
dout = torch.tensor([[1.0, -2.0], [3.0, 0.5]], dtype=torch.float64)
mask = torch.tensor([[2.0, 0.0], [2.0, 2.0]], dtype=torch.float64)   # p = 0.5
expect_close(dropout_backward(dout, mask), torch.tensor([[2.0, 0.0], [6.0, 1.0]], dtype=torch.float64),
             what="dropout_backward(dout, mask)",
             hint="To x, the forward pass was an elementwise product with a constant, and that constant already "
                  "includes the 1 / (1 - p) scale.")

# %% nbgrader={"grade": true, "grade_id": "test_dropout_backward_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("dropout_backward", dropout_backward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: the drop probability
#
# For one fixed input, average the dropout output over many masks. Inverted dropout keeps the average
# equal to the input for every $p$; what grows with $p$ is the noise around it (its variance is
# $x^2\,p/(1-p)$). Move the slider.

# %%
def show_dropout(p=0.5):
    x = torch.linspace(-2, 2, 9)
    g = torch.Generator().manual_seed(0)
    outs = torch.stack([dropout_forward(x, p, True, g)[0] for _ in range(2000)])
    plt.figure(figsize=(6, 3))
    plt.plot(x, x, "k--", label="input x")
    plt.errorbar(x, outs.mean(0), yerr=outs.std(0), fmt="o", capsize=3, label="mean ± std over 2000 masks")
    plt.title(f"inverted dropout, p = {p}")
    plt.legend(fontsize=8)
    plt.show()


interact(show_dropout, p=(0.0, 0.9, 0.1));

# %% [markdown]
# ### Concept question 3: `concept_dropout_scaling`
#
# A network was trained with your inverted `dropout_forward` at $p = 0.5$. Following the original dropout
# paper, a colleague multiplies every activation by the keep probability $1 - p = 0.5$ at test time. How
# does a unit's activation at test time compare with its average value during training?
#
# - **a.** It matches: a unit's expected value during training was $(1-p)\,x$, and the scaling reproduces it.
# - **b.** It matches: inverted dropout and test-time scaling are two ways of doing the same thing, and
#   doing both is harmless.
# - **c.** It is twice as large: the test-time factor should have been $1/(1-p)$.
# - **d.** It is half as large: inverted dropout already divided by $1-p$ during training, so evaluation
#   must use the network unchanged.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "concept_dropout_scaling", "locked": false, "schema_version": 3, "solution": true}
def concept_dropout_scaling():
    """Your answer to concept question 3: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "d"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_dropout_scaling", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(concept_dropout_scaling() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_concept_dropout_scaling_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_dropout_scaling", concept_dropout_scaling)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Residual connections
#
# A residual block computes $x_{n+1} = x_n + F_n(x_n)$ (Kaplan eq. 5.1.13): the identity plus a
# correction. The Jacobian of the block is $I + \partial F/\partial x$, so even when $F$'s contribution is
# small the gradient flows back unchanged along the identity, and a deep stack stays trainable. Kaplan
# calls this the "V2" form; the original ResNet applied an activation after the sum,
# $x_{n+1} = \phi(x_n + F_n(x_n))$, which a ReLU spoils by cutting the identity path.
#
# ### Exercise 11: `residual_block`
#
# `residual_block(x, w1, b1, w2, b2)` with `x` of shape `(N, D)`, `w1` of shape `(H, D)`, `b1` of shape
# `(H,)`, `w2` of shape `(D, H)`, `b2` of shape `(D,)`. Return
#
# $$\text{out} = x + \text{ReLU}(x W_1^\top + b_1)\, W_2^\top + b_2,$$
#
# of shape `(N, D)`, with **no** activation after the sum.

# %% nbgrader={"grade": false, "grade_id": "residual_block", "locked": false, "schema_version": 3, "solution": true}
def residual_block(x, w1, b1, w2, b2):
    """Residual MLP block x + relu(x @ w1.T + b1) @ w2.T + b2.

    Args:
        x: input, shape (N, D).
        w1: shape (H, D); b1: shape (H,).
        w2: shape (D, H); b2: shape (D,).
    Returns:
        tensor of shape (N, D).
    """
    ### BEGIN SOLUTION
    return x + torch.relu(x @ w1.T + b1) @ w2.T + b2
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_residual_block", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.tensor([[1.0, -1.0]], dtype=torch.float64)
w1 = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)   # H = 3, D = 2
b1 = torch.zeros(3, dtype=torch.float64)
w2 = torch.tensor([[1.0, 1.0, 1.0], [2.0, 0.0, 0.0]], dtype=torch.float64)     # D = 2, H = 3
b2 = torch.tensor([0.5, -3.0], dtype=torch.float64)
# x @ w1.T = [1, -1, 0] -> relu -> [1, 0, 0] -> @ w2.T = [1, 2] -> + b2 = [1.5, -1] -> + x = [2.5, -2]
expect_close(residual_block(x, w1, b1, w2, b2), torch.tensor([[2.5, -2.0]], dtype=torch.float64),
             what="residual_block on a hand-checkable case",
             hint="Add the input back (the skip connection), and do not apply a ReLU after the sum.")

# %% nbgrader={"grade": true, "grade_id": "test_residual_block_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("residual_block", residual_block)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: gradients through deep plain and residual stacks
#
# The norm of the gradient of a simple loss with respect to the *input* of a stack of `depth` blocks,
# each block with He-initialized weights. In the plain stack every block is $x \mapsto \text{ReLU}(x W_1^\top) W_2^\top$;
# in the residual stack the same weights are used with the skip, and $W_2$ is scaled by $1/\sqrt{\text{depth}}$
# so that the sum of the branches (Kaplan eq. 5.1.15) does not blow up. The plain stack's gradient changes by orders of
# magnitude with depth; the residual one stays of order one.

# %%
with needs_exercises():
    def input_grad_norm(depth, residual, width=64, seed=0):
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(32, width, generator=g, requires_grad=True)
        h = x
        for _ in range(depth):
            w1 = math.sqrt(2 / width) * torch.randn(width, width, generator=g)
            w2 = math.sqrt(1 / width) * torch.randn(width, width, generator=g)
            if residual:
                zero = torch.zeros(width)
                h = residual_block(h, w1, zero, w2 / math.sqrt(depth), zero)
            else:
                h = torch.relu(h @ w1.T) @ w2.T
        h.pow(2).mean().backward()
        return x.grad.norm().item()


    depths = [1, 2, 4, 8, 16, 32, 64]
    plt.figure(figsize=(6, 3.5))
    plt.semilogy(depths, [input_grad_norm(d, False) for d in depths], "o-", label="plain")
    plt.semilogy(depths, [input_grad_norm(d, True) for d in depths], "s-", label="residual")
    plt.xscale("log", base=2)
    plt.xlabel("depth (blocks)")
    plt.ylabel("|dL/dx|")
    plt.legend()
    plt.show()

# %% [markdown]
# ## 7. Ensembles
#
# Train several networks independently (different initializations and mini-batch orders are enough
# randomness; CS 182 discussion 4 §3) and average what they predict. Their errors are partly
# independent, so the average has lower variance than any one of them. For classifiers, average the
# **probabilities**: $p(y\mid x) = \frac1M\sum_m \text{softmax}(z^{(m)})_y$. Averaging the logits and then
# taking one softmax is a different combination, a normalized *geometric* mean of the probabilities. The two
# agree when the models disagree with equal margins: logits $[10, 0]$ and $[0, 10]$ give 50/50 either way.
# They differ when the margins differ. Logits $[4, 0]$ (probabilities $\approx[0.98, 0.02]$) and $[0, 1]$
# ($\approx[0.27, 0.73]$) average to probabilities $\approx[0.63, 0.37]$, but their mean logits $[2, 0.5]$ give
# $\approx[0.82, 0.18]$: through the logits, the model with the larger margin counts for more.
#
# ### Exercise 12: `ensemble_average`
#
# `ensemble_average(logits)` with `logits` of shape `(M, N, C)`: model `m`'s logits for `N` inputs and
# `C` classes. Return the average over the `M` models of the softmax over the classes, shape `(N, C)`.
# The softmax must be stable for logits in the thousands.

# %% nbgrader={"grade": false, "grade_id": "ensemble_average", "locked": false, "schema_version": 3, "solution": true}
def ensemble_average(logits):
    """Average of the class probabilities predicted by M models.

    Args:
        logits: shape (M, N, C).
    Returns:
        tensor of shape (N, C); each row sums to 1.
    """
    ### BEGIN SOLUTION
    shifted = logits - logits.max(dim=-1, keepdim=True).values
    probs = torch.exp(shifted)
    probs = probs / probs.sum(dim=-1, keepdim=True)
    return probs.mean(dim=0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_ensemble_average", "locked": true, "points": 1, "schema_version": 3, "solution": false}
ln3 = math.log(3.0)
logits = torch.tensor([[[0.0, ln3]], [[0.0, 0.0]]], dtype=torch.float64)   # M = 2 models, N = 1, C = 2
# model 1 says [1/4, 3/4], model 2 says [1/2, 1/2]: the ensemble says [3/8, 5/8]
expect_close(ensemble_average(logits), torch.tensor([[0.375, 0.625]], dtype=torch.float64),
             what="ensemble_average of two models",
             hint="Softmax each model's logits over the classes first, then average the probabilities over the models.")
expect_close(ensemble_average(logits + 1000.0), torch.tensor([[0.375, 0.625]], dtype=torch.float64),
             what="ensemble_average of logits near 1000",
             hint="Subtract each row's maximum before exponentiating (the softmax does not change).")

# %% nbgrader={"grade": true, "grade_id": "test_ensemble_average_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("ensemble_average", ensemble_average)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: an ensemble of five small networks on the digits
#
# Five one-hidden-layer networks, each trained briefly from its own seed on a 300-image subset of the
# training digits (small data makes each model noisy, which is where ensembles help). We compare each
# model's test accuracy and negative log-likelihood with those of the averaged probabilities.

# %%
with needs_exercises():
    def small_net(seed, steps=200):
        g = torch.Generator().manual_seed(100 + seed)
        net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
        with torch.no_grad():
            for layer in (net[0], net[2]):
                torch.nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=g)  # torch's default init
                layer.bias.zero_()
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)
        for _ in range(steps):
            idx = torch.randint(0, 300, (32,), generator=g)
            loss = F.cross_entropy(net(X_train[idx]), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return net


    nets = [small_net(s) for s in range(5)]
    with torch.no_grad():
        all_logits = torch.stack([net(X_test) for net in nets])
    for m in range(5):
        nll = F.cross_entropy(all_logits[m], y_test).item()
        acc = (all_logits[m].argmax(1) == y_test).float().mean().item()
        print(f"model {m}: accuracy {acc:.3f}, NLL {nll:.3f}")
    probs = ensemble_average(all_logits)
    print(f"ensemble: accuracy {(probs.argmax(1) == y_test).float().mean().item():.3f}, "
          f"NLL {-torch.log(probs[torch.arange(len(y_test)), y_test]).mean().item():.3f}")

# %% [markdown]
# ## 8. Make it work: a BatchNorm network trained with your own pieces
#
# Everything so far was checked piece by piece. Now put the pieces together and train a network on the
# 8×8 digits with **your** `init_weight`, `batchnorm_forward` / `batchnorm_backward` and `dropout_forward` /
# `dropout_backward`, backpropagating by hand (no autograd) and stepping with plain SGD. The network is
#
# $$x \to \text{Linear}(D, H) \to \text{BN} \to \text{ReLU} \to \text{Dropout}(p) \to \text{Linear}(H, H)
#   \to \text{BN} \to \text{ReLU} \to \text{Dropout}(p) \to \text{Linear}(H, 10),$$
#
# trained on the mean cross-entropy of mini-batches, with a learning rate of 2.0: a step size at which
# the same network without BatchNorm does not train (concept question 2 says why it can). A backward
# pass that forgets how the batch statistics depend on the inputs still trains, but on this budget it
# falls well short of the target: the task is graded on what the network achieves.
#
# ### Exercise 13: `train_bn_mlp`
#
# `train_bn_mlp(X, y, hidden=64, steps=200, lr=2.0, batch_size=64, p=0.1, seed=0)` with `X` of shape `(N, D)`
# and labels `y` in `0..9`. Make every random draw from one `g = torch.Generator().manual_seed(seed)`.
#
# - **Initialization**: `W1` of shape `(H, D)` and `W2` `(H, H)` with He weights, `W3` `(10, H)` with LeCun
#   weights (your `init_weight`, in `X`'s dtype); biases `b1`, `b2`, `b3` and shifts `beta1`, `beta2` at 0,
#   scales `gamma1`, `gamma2` at 1; each BatchNorm layer with its own state (running mean 0, running
#   variance 1, momentum 0.1, eps `1e-5`).
# - **Each step**: draw `batch_size` indices with `torch.randint(0, N, (batch_size,), generator=g)`, run the
#   forward pass in training mode (keep every cache), backpropagate the mean cross-entropy, and update every
#   parameter with `param -= lr * grad`.
# - **Return** a dict of tensors with the keys `W1, b1, gamma1, beta1, running_mean1, running_var1`, the same
#   six with `2`, and `W3, b3`. The function `bn_mlp_logits` below evaluates such a dict (in evaluation mode,
#   where dropout is the identity).
#
# **Target**: a mean accuracy of at least **95 %** on held-out digits over three trainings with the
# default settings and three seeds (at a learning rate this large, about one run in twenty lands a few
# points low; the mean of three absorbs it, a wrong backward pass does not). The grader trains your
# function on its own split of the digits with its own seeds, and measures the accuracy itself, on images
# your code never sees. The reference takes about 0.2 s per training; yours must stay within 5 s (Python
# loops over the layers are fine, loops over the samples are not).
#
# <details><summary>Hint 1: the pieces of the backward pass you already know</summary>
#
# The gradient of the mean cross-entropy with respect to the logits is (softmax − one-hot) divided by the
# batch size (chapter 03). A linear layer $z = hW^\top + b$ sends back $dW = dz^\top h$, $db = \sum dz$ over
# the batch, and $dh = dz\,W$ (chapter 04). ReLU lets the gradient through where its input was positive.
# </details>
#
# <details><summary>Hint 2: the order</summary>
#
# Going backwards through one hidden block: dropout first, then ReLU, then BatchNorm, then the linear layer.
# Compute all the gradients of a step before changing any parameter (the input gradient of a linear layer
# needs its weights as they were in the forward pass).
# </details>

# %% nbgrader={"grade": false, "grade_id": "train_bn_mlp", "locked": false, "schema_version": 3, "solution": true}
def train_bn_mlp(X, y, hidden=64, steps=200, lr=2.0, batch_size=64, p=0.1, seed=0):
    """Train a two-hidden-layer BatchNorm + dropout network with hand-written backpropagation and SGD.

    Args:
        X: training inputs, shape (N, D); y: labels 0..9, shape (N,).
        hidden: width H of both hidden layers; steps: number of SGD steps; lr: learning rate;
        batch_size: mini-batch size; p: dropout's drop probability; seed: seed of every random draw.
    Returns:
        dict of tensors: W1 (H, D), b1, gamma1, beta1, running_mean1, running_var1 (H,), the same with 2
        (W2 of shape (H, H)), W3 (10, H), b3 (10,).
    """
    ### BEGIN SOLUTION
    g = torch.Generator().manual_seed(seed)
    n, d = X.shape
    params = {"W1": init_weight(d, hidden, "he", g, dtype=X.dtype),
              "W2": init_weight(hidden, hidden, "he", g, dtype=X.dtype),
              "W3": init_weight(hidden, 10, "lecun", g, dtype=X.dtype), "b3": torch.zeros(10, dtype=X.dtype)}
    states = {}
    for k in (1, 2):
        params[f"b{k}"] = torch.zeros(hidden, dtype=X.dtype)
        params[f"gamma{k}"] = torch.ones(hidden, dtype=X.dtype)
        params[f"beta{k}"] = torch.zeros(hidden, dtype=X.dtype)
        states[k] = {"running_mean": torch.zeros(hidden, dtype=X.dtype),
                     "running_var": torch.ones(hidden, dtype=X.dtype), "momentum": 0.1, "eps": 1e-5}
    for _ in range(steps):
        idx = torch.randint(0, n, (batch_size,), generator=g)
        h, target = X[idx], y[idx]
        saved = []
        for k in (1, 2):
            z = h @ params[f"W{k}"].T + params[f"b{k}"]
            a, bn_cache = batchnorm_forward(z, params[f"gamma{k}"], params[f"beta{k}"], states[k], "train")
            out, mask = dropout_forward(torch.relu(a), p, True, g)
            saved.append((h, bn_cache, a, mask))
            h = out
        dlogits = torch.softmax(h @ params["W3"].T + params["b3"], dim=1)
        dlogits[torch.arange(batch_size), target] -= 1.0
        dlogits = dlogits / batch_size
        grads = {"W3": dlogits.T @ h, "b3": dlogits.sum(0)}
        dh = dlogits @ params["W3"]
        for k in (2, 1):
            h_in, bn_cache, a, mask = saved[k - 1]
            da = dropout_backward(dh, mask) * (a > 0)
            dz, grads[f"gamma{k}"], grads[f"beta{k}"] = batchnorm_backward(da, bn_cache)
            grads[f"W{k}"], grads[f"b{k}"] = dz.T @ h_in, dz.sum(0)
            dh = dz @ params[f"W{k}"]
        for name, grad in grads.items():
            params[name] = params[name] - lr * grad
    for k in (1, 2):
        params[f"running_mean{k}"] = states[k]["running_mean"]
        params[f"running_var{k}"] = states[k]["running_var"]
    return params
    ### END SOLUTION


# %% [markdown]
# The test below trains your network three times on a fixed split of the digits (1348 training images,
# 449 held out) and evaluates it with `bn_mlp_logits`, the network in evaluation mode (BatchNorm with the
# running statistics, dropout the identity). Both stay defined after the cell has run.

# %% nbgrader={"grade": true, "grade_id": "test_train_bn_mlp", "locked": true, "points": 1, "schema_version": 3, "solution": false}
import time
from course.data import load_digits as load_digit_split


def bn_mlp_logits(params, x, eps=1e-5):
    """Evaluation-mode logits (N, 10) of the network trained by train_bn_mlp, for inputs x of shape (N, D)."""
    h = x.to(params["W1"].dtype)
    for k in (1, 2):
        z = h @ params[f"W{k}"].T + params[f"b{k}"]
        z = (z - params[f"running_mean{k}"]) / torch.sqrt(params[f"running_var{k}"] + eps)
        h = torch.relu(params[f"gamma{k}"] * z + params[f"beta{k}"])
    return h @ params["W3"].T + params["b3"]


digit_split = load_digit_split()
_shapes = {"W1": (64, 64), "W2": (64, 64), "W3": (10, 64), "b3": (10,)}
_shapes.update({f"{name}{k}": (64,) for k in (1, 2) for name in ("b", "gamma", "beta", "running_mean", "running_var")})
_accuracies = []
for _seed in (0, 1, 2):
    _start = time.perf_counter()
    params = train_bn_mlp(digit_split.X_train, digit_split.y_train, seed=_seed)
    _seconds = time.perf_counter() - _start
    expect_true(isinstance(params, dict), f"train_bn_mlp should return a dict of tensors, got {type(params).__name__}.")
    for _key, _shape in _shapes.items():
        expect_true(_key in params, f"the returned dict has no key {_key!r}.")
        expect_shape(params[_key], _shape, what=f"params[{_key!r}]")
    with torch.no_grad():
        _accuracies.append((bn_mlp_logits(params, digit_split.X_test).argmax(1) == digit_split.y_test).float().mean().item())
    print(f"seed {_seed}: held-out accuracy {_accuracies[-1]:.3f}, trained in {_seconds:.2f} s")
_mean = sum(_accuracies) / 3
expect_true(_mean >= 0.95, f"the mean held-out accuracy is {_mean:.3f}, below the target 0.95.",
            hint="Check each backward piece against its exercise (do they all pass their tests?), the order of the "
                 "backward pass (Hint 2), and that the running statistics you return are the ones training updated.")

# %% nbgrader={"grade": true, "grade_id": "test_train_bn_mlp_2", "locked": true, "points": 5, "schema_version": 3, "solution": false}
# Hidden tests: the grader trains on its own split with its own seeds and measures the held-out accuracy.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("train_bn_mlp", train_bn_mlp)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## What you built
#
# - `init_std` and `init_weight`: the LeCun, Xavier and He scales, derived from the variance of a sum
#   of independent products, and weights drawn from a generator with exactly those variances.
# - `activation_stats`: a diagnostic of a deep network at initialization; the histograms showed
#   vanishing, saturating and healthy signals.
# - `batchnorm_forward`: `BatchNorm1d` to the last detail (biased normalization, unbiased running
#   variance, torch's momentum); `batchnorm_jacobian` and `batchnorm_backward`: the gradient through the
#   batch statistics, derived by you.
# - `layernorm_forward` / `layernorm_backward`, `dropout_forward` / `dropout_backward` (inverted, with
#   torch's drop probability), `residual_block`, and `ensemble_average`.
# - `train_bn_mlp`: all of it put together, a network trained by your own backward passes to a stated
#   accuracy on digits it never saw.
#
# Next, chapter 07 applies these pieces to **convolutional networks**, where BatchNorm normalizes
# each channel over the batch *and* the spatial positions, and residual connections made very deep
# image models trainable.
