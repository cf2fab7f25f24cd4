# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · From logistic regression to softmax classifiers
#
# A linear model followed by a squashing function is the smallest classifier there is. It is also
# the last layer of nearly every classification network, so everything in this chapter comes back in
# every later chapter. You will build it from the logits up, derive its gradients by hand, and train it
# on handwritten digits with nothing but your own formulas: no autograd.
#
# **Learning goals**
# - Write the logistic function and the binary cross-entropy so that no exponential overflows, and
#   derive its gradient.
# - Extend two classes to $C$ with the softmax; compute it, and its logarithm, stably with the
#   max shift and the log-sum-exp trick.
# - Derive the backward pass of the softmax (a Jacobian-vector product), the gradient of the softmax
#   cross-entropy w.r.t. the logits, and w.r.t. the weights and bias of a linear layer, including an L2
#   penalty.
# - Train a softmax classifier by gradient descent on the 8x8 digits, then look at what it learned:
#   its loss curve, its weights as images, its confusion matrix, its decision regions in the plane.
# - Ask whether its probabilities can be trusted: measure the expected calibration error, draw a
#   reliability diagram, and fix the confidence with temperature scaling.
#
# **Notes followed.** The slides *Part II: Deep Learning*, "Example: logistic regression → neural
# networks" and "Caution: numerical instability"; *CS 182/282A discussion worksheets*, discussion 1
# (problem 4, the derivative of the softmax), discussion 2 (§2, vector and matrix calculus) and
# discussion 3 (§1, mechanical backpropagation through a linear layer and softmax); Kaplan, *Notes on
# Contemporary Machine Learning for Physicists*, §1.3 (optimization), §1.8 (setting up an MNIST
# classifier), §3.4.4 (calibrated probabilities) and §3.4.5 (comments on regularization); the
# textbook's chapter 1 (§1.2 from linear models to neural networks, §1.3 training, §1.4 the softmax and cross-entropy of its PyTorch example)
# and chapter 2 (§2.1 differentiation, problem 2.1).
#
# **Conventions used throughout.** A batch of inputs is a matrix `X` of shape `(N, D)`, one example
# per row. A linear classifier has weights `W` of shape `(D, C)` and a bias `b` of shape `(C,)`, so its
# logits are `Z = X @ W + b`, of shape `(N, C)` (note: `torch.nn.Linear` stores the transpose, a
# `(C, D)` matrix). Class labels are integer tensors (`torch.int64`) of shape `(N,)` with values
# `0, ..., C-1`. **Every loss is a mean over the batch**, and every gradient has the shape of the
# thing it differentiates. Functions return the dtype and device of their inputs and never change
# their inputs in place.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import math
import numpy as np
import torch
import torch.nn.functional as F
import matplotlib.pyplot as plt
import ipywidgets as widgets
from course.checks import expect_close, expect_true, expect_shape
from course.demos import interact, needs_exercises
from course.data import load_digits, make_blobs_2d

# %% [markdown]
# ## 1. Logistic regression: one logit, two classes
#
# The slides start from the simplest network there is: take an input $x \in \mathbb R^D$, compute
# one number $z = w^\top x + b$ (the **logit**), and squash it into a probability with the logistic
# function
#
# $$\sigma(z) = \frac{1}{1 + e^{-z}}, \qquad p(y = 1 \mid x) = \sigma(w^\top x + b).$$
#
# Stacking such layers, with the output of one feeding the next, is how the slides go from logistic
# regression to a neural network. Here we stay with a single layer and ask two practical questions:
# how do we evaluate $\sigma$ and its loss on a computer, and what is the gradient?
#
# **Overflow.** A float64 exponential overflows to `inf` once its argument passes about 709.8 (float32:
# about 88.7). The two textbook forms of $\sigma$ misbehave on opposite sides:
#
# * $e^{z} / (1 + e^{z})$ turns into `inf / inf = nan` for large positive $z$;
# * $1 / (1 + e^{-z})$ computes $e^{800} = $ `inf` for $z = -800$ and returns $1/\infty = 0$. That is
#   harmless here, because the true value $\approx e^{-800}$ is smaller than the smallest float64
#   anyway. But it only works by luck: take its logarithm and you get $\log 0 = -\infty$.
#
# The cure is to exponentiate only non-positive numbers. With $e = e^{-|z|} \in (0, 1]$,
#
# $$\sigma(z) = \begin{cases} \dfrac{1}{1 + e} & z \ge 0, \\[2mm] \dfrac{e}{1 + e} & z < 0. \end{cases}$$
#
# (Careful with `torch.where`: it evaluates *both* branches everywhere and then picks. That is fine
# here because neither branch can overflow. A `where` that merely hides an overflowing branch still
# computes the `inf`, and once autograd differentiates through it the gradient can come out NaN.)
#
# ### Exercise 1: `sigmoid`
#
# Implement `sigmoid(z)` for a floating tensor `z` of any shape: return $\sigma(z)$ elementwise, same
# shape and dtype as `z`. It must be exact to floating-point precision for every finite `z`, including
# $|z| = 1000$ (no NaN, no overflow). Do not call `torch.sigmoid`.

# %% nbgrader={"grade": false, "grade_id": "sigmoid", "locked": false, "schema_version": 3, "solution": true}
def sigmoid(z):
    """The logistic function 1 / (1 + exp(-z)), elementwise, without overflow.

    Args:
        z: floating tensor of any shape.

    Returns:
        Tensor of the same shape and dtype, entries in [0, 1].
    """
    ### BEGIN SOLUTION
    e = torch.exp(-z.abs())
    return torch.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sigmoid", "locked": true, "points": 1, "schema_version": 3, "solution": false}
z = torch.tensor([0.0, 2.0, -2.0, 800.0, -800.0], dtype=torch.float64)
expected = torch.tensor([0.5, 1 / (1 + math.exp(-2)), 1 / (1 + math.exp(2)), 1.0, 0.0], dtype=torch.float64)
expect_close(sigmoid(z), expected, what="sigmoid([0, 2, -2, 800, -800])",
             hint="Exponentiate only -|z|; exp(z) / (1 + exp(z)) is inf / inf = nan at z = 800.")
expect_true(sigmoid(z.float()).dtype == torch.float32, "sigmoid should keep the dtype of its input (float32 here).")
expect_close(sigmoid(torch.tensor([[3.0], [-1.0]])), torch.tensor([[1 / (1 + math.exp(-3))], [1 / (1 + math.e)]]),
             what="sigmoid of a (2, 1) tensor")

# %% nbgrader={"grade": true, "grade_id": "test_sigmoid_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("sigmoid", sigmoid)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### The binary cross-entropy and its gradient
#
# With labels $t_i \in \{0, 1\}$ and predicted probabilities $p_i = \sigma(z_i)$, the likelihood of the
# data is $\prod_i p_i^{t_i} (1 - p_i)^{1 - t_i}$. Its negative logarithm, averaged over the batch, is
# the **binary cross-entropy**
#
# $$L = -\frac1N \sum_{i=1}^N \big[ t_i \log p_i + (1 - t_i) \log(1 - p_i) \big].$$
#
# Do not evaluate it as written: for $z = -1000$ the probability rounds to 0 and $\log 0 = -\infty$.
# Rewrite it first. Since $1 - \sigma(z) = \sigma(-z)$, and with the **softplus**
# $s(z) = \log(1 + e^{z})$,
#
# $$-\log \sigma(z) = \log(1 + e^{-z}) = s(-z), \qquad -\log(1 - \sigma(z)) = s(z).$$
#
# Using $s(-z) = s(z) - z$ (divide $1 + e^{z}$ by $e^{z}$), each example contributes
#
# $$\ell(z, t) = t\, s(-z) + (1 - t)\, s(z) = s(z) - t z .$$
#
# The softplus itself is evaluated without overflow as $s(z) = \max(z, 0) + \log(1 + e^{-|z|})$ (use
# `torch.log1p`, which stays accurate when $e^{-|z|}$ is tiny).
#
# ### Exercise 2: `logistic_loss_and_grad`
#
# Given `logits` of shape `(N,)` and `targets` of shape `(N,)` holding 0.0 or 1.0 (a floating tensor),
# return the pair `(loss, grad)`:
# - `loss`: the mean binary cross-entropy $L$ above, a 0-dimensional tensor;
# - `grad`: $\partial L / \partial z$, shape `(N,)`, which you derive.
#
# Both in the dtype of `logits`, finite for logits as large as $\pm 1000$.
#
# <details><summary>Hint 1: differentiate the softplus</summary>
#
# $s(z) = \log(1 + e^z)$, so $s'(z) = \frac{e^z}{1 + e^z}$. Which function of this chapter is that?
# </details>
#
# <details><summary>Hint 2: one example, then the mean</summary>
#
# With $\ell(z, t) = s(z) - tz$, the derivative $\partial\ell/\partial z$ is a difference of two familiar
# quantities. The batch loss $L$ is the *mean* of the $\ell(z_i, t_i)$, and $z_i$ appears in term $i$ only.
# </details>
#
# <details><summary>Hint 3: the result</summary>
#
# $\partial L/\partial z_i = (\sigma(z_i) - t_i)/N$: the predicted probability minus the target, and the $1/N$
# of the mean. (The textbook's problem 2.1 derives $y_i - t_i$ for a *summed* loss.) For $z = \pm 1000$,
# evaluate $\sigma$ the way Exercise 1 does.
# </details>

# %% nbgrader={"grade": false, "grade_id": "logistic_loss_and_grad", "locked": false, "schema_version": 3, "solution": true}
def logistic_loss_and_grad(logits, targets):
    """Mean binary cross-entropy of logits against 0/1 targets, and its gradient w.r.t. the logits.

    Args:
        logits: floating tensor of shape (N,).
        targets: floating tensor of shape (N,), entries 0.0 or 1.0.

    Returns:
        (loss, grad): a 0-dim tensor and a tensor of shape (N,).
    """
    ### BEGIN SOLUTION
    t = targets.to(logits.dtype)
    n = logits.shape[0]
    e = torch.exp(-logits.abs())
    loss = (logits.clamp(min=0) - t * logits + torch.log1p(e)).mean()
    probs = torch.where(logits >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    grad = (probs - t) / n
    return loss, grad
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_logistic_loss_and_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false}
z = torch.tensor([0.0, 2.0, -3.0], dtype=torch.float64)
t = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
loss, grad = logistic_loss_and_grad(z, t)
expect_close(loss, (math.log(2) + math.log(1 + math.exp(2)) + math.log(1 + math.exp(3))) / 3,
             what="loss for logits [0, 2, -3], targets [1, 0, 1]",
             hint="Per example the loss is the softplus rewrite above; the batch loss is their mean, not their sum.")
expect_close(grad, torch.tensor([0.5 - 1, 1 / (1 + math.exp(-2)), 1 / (1 + math.exp(3)) - 1], dtype=torch.float64) / 3,
             what="grad for logits [0, 2, -3], targets [1, 0, 1]",
             hint="Differentiate one example's loss (Hint 1), then remember that the batch loss is a mean over N.")
loss, grad = logistic_loss_and_grad(torch.tensor([1000.0, -1000.0], dtype=torch.float64),
                                    torch.tensor([0.0, 1.0], dtype=torch.float64))
expect_close(loss, 1000.0, what="loss for confidently wrong logits [1000, -1000], targets [0, 1]",
             hint="log(sigmoid(-1000)) is log(0) = -inf in floating point: rewrite the loss with the softplus, "
                  "and evaluate the softplus so that only exponentials of non-positive numbers appear.")
expect_close(grad, torch.tensor([0.5, -0.5], dtype=torch.float64),
             what="grad for logits [1000, -1000], targets [0, 1]")

# %% nbgrader={"grade": true, "grade_id": "test_logistic_loss_and_grad_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("logistic_loss_and_grad", logistic_loss_and_grad)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Many classes: the softmax
#
# For $C$ classes the model outputs $C$ logits $z = (z_1, \dots, z_C)$, one per class, and turns them
# into probabilities with the **softmax** (textbook eq. 1.19, Kaplan eq. 1.8.1):
#
# $$p_i = \mathrm{softmax}(z)_i = \frac{e^{z_i}}{\sum_{j=1}^C e^{z_j}} .$$
#
# The $p_i$ are positive and sum to one, and the largest logit gets the largest probability, so the
# predicted class is simply $\arg\max_i z_i$. Two facts matter:
#
# * **Shift invariance.** Adding the same constant $m$ to every logit multiplies numerator and
#   denominator by $e^{m}$: $\mathrm{softmax}(z - m) = \mathrm{softmax}(z)$. Choosing
#   $m = \max_j z_j$ makes every exponent $\le 0$, so nothing overflows, and the largest term of the
#   denominator is exactly $e^0 = 1$, so the denominator cannot underflow to 0 either.
# * **Two classes are logistic regression.** With logits $(z_0, z_1)$ the probability of class 1 is
#   $p_1 = e^{z_1}/(e^{z_0} + e^{z_1}) = \sigma(z_1 - z_0)$: only the difference of the logits matters,
#   and the sigmoid is the two-class softmax with the logit of class 0 pinned to 0.
#
# A word on names: Kaplan's §5.1.1 lists this function under "Sigmoid" and writes
# $\sigma_i(x) = e^{x_i}/\sum_j e^{x_j}$; that formula is the softmax. (It is still the stable form with
# the maximum subtracted, which is the point of that equation.) The slides' numerical-instability
# warning is the same issue seen from the loss side: a softmax that underflows to exactly 0 makes
# $\log 0$ blow up the training.
#
# ### Exercise 3: `softmax`
#
# Implement `softmax(logits, dim=-1)` for a floating tensor of any shape: the softmax along dimension
# `dim` (the classes), same shape and dtype as `logits`. Subtract the maximum **of each slice along
# `dim`** (not a single global maximum: rows whose logits differ by 1000 would then underflow to
# 0/0). It must work for logits near 1000 and for any `dim`, including `dim=0`. Do not call
# `torch.softmax` or `F.softmax`.

# %% nbgrader={"grade": false, "grade_id": "softmax", "locked": false, "schema_version": 3, "solution": true}
def softmax(logits, dim=-1):
    """Numerically stable softmax along `dim`.

    Args:
        logits: floating tensor of any shape.
        dim: the dimension holding the classes (default: last).

    Returns:
        Tensor of the same shape and dtype; non-negative and summing to 1 along `dim`.
    """
    ### BEGIN SOLUTION
    shifted = logits - logits.amax(dim=dim, keepdim=True)
    e = torch.exp(shifted)
    return e / e.sum(dim=dim, keepdim=True)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_softmax", "locked": true, "points": 1, "schema_version": 3, "solution": false}
z = torch.tensor([[1.0, 2.0, 3.0], [1000.0, 1000.0, 1001.0]], dtype=torch.float64)
e = math.e
expected = torch.tensor([[1, e, e * e], [1, 1, e]], dtype=torch.float64)
expected = expected / expected.sum(dim=1, keepdim=True)
expect_close(softmax(z), expected, what="softmax([[1, 2, 3], [1000, 1000, 1001]])",
             hint="exp(1000) overflows to inf, and inf/inf = nan: use the shift invariance so that no exponent is positive.")
expect_close(softmax(z.T, dim=0), expected.T, what="softmax(z.T, dim=0)",
             hint="Normalize along the dimension `dim` you are given, and keep that dimension so the shapes broadcast.")
expect_close(softmax(torch.tensor([0.0, math.log(3.0)])), torch.tensor([0.25, 0.75]), what="softmax of a 1-D tensor")

# %% nbgrader={"grade": true, "grade_id": "test_softmax_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("softmax", softmax)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### The log-softmax and the log-sum-exp trick
#
# The loss needs $\log p_i$, not $p_i$. Taking `torch.log(softmax(z))` throws away what the max shift
# saved: with logits $(0, -1000)$ the second probability is $e^{-1000}$, which rounds to 0, and its
# logarithm becomes $-\infty$ instead of the perfectly representable $-1000$. Take the logarithm
# analytically first:
#
# $$\log p_i = z_i - \log \sum_j e^{z_j} = z_i - \mathrm{LSE}(z), \qquad
#   \mathrm{LSE}(z) = m + \log \sum_j e^{z_j - m}, \quad m = \max_j z_j .$$
#
# The sum inside the logarithm lies between 1 and $C$, so the logarithm is always finite, and the
# only subtraction left, $z_i - \mathrm{LSE}(z)$, is of two finite numbers.
#
# ### Exercise 4: `log_softmax`
#
# Implement `log_softmax(logits, dim=-1)`: $\log \mathrm{softmax}$ along `dim`, same shape and dtype as
# `logits`, finite wherever the logits are finite (logits near $\pm 1000$ included). Do not call
# `torch.log_softmax` or `F.log_softmax` (calling `torch.logsumexp` is fine).

# %% nbgrader={"grade": false, "grade_id": "log_softmax", "locked": false, "schema_version": 3, "solution": true}
def log_softmax(logits, dim=-1):
    """Log of the softmax along `dim`, via log-sum-exp.

    Args:
        logits: floating tensor of any shape.
        dim: the dimension holding the classes (default: last).

    Returns:
        Tensor of the same shape and dtype, entries <= 0.
    """
    ### BEGIN SOLUTION
    shifted = logits - logits.amax(dim=dim, keepdim=True)
    return shifted - torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_log_softmax", "locked": true, "points": 1, "schema_version": 3, "solution": false}
z = torch.tensor([[0.0, 0.0, 0.0, 0.0], [1000.0, 0.0, -1000.0, 0.0]], dtype=torch.float64)
expected = torch.tensor([[-math.log(4)] * 4, [0.0, -1000.0, -2000.0, -1000.0]], dtype=torch.float64)
expect_close(log_softmax(z), expected, what="log_softmax([[0, 0, 0, 0], [1000, 0, -1000, 0]])",
             hint="log(softmax(z)) gives log(0) = -inf for the tiny probabilities: take the logarithm analytically first (log-sum-exp).")
expect_close(log_softmax(z.T, dim=0), expected.T, what="log_softmax(z.T, dim=0)",
             hint="Reduce along `dim` only, and keep that dimension so the shapes broadcast.")

# %% nbgrader={"grade": true, "grade_id": "test_log_softmax_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("log_softmax", log_softmax)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The cross-entropy loss and its gradient
#
# Write the label $y \in \{0, \dots, C-1\}$ as a one-hot vector $Y$ (a 1 at position $y$, zeros
# elsewhere). The negative log-likelihood of the label under the model's probabilities is the
# **cross-entropy** between $Y$ and $p$ (Kaplan eq. 1.8.2, textbook eq. 1.20):
#
# $$\ell(z, y) = -\sum_{k} Y_k \log p_k = -\log p_y = \mathrm{LSE}(z) - z_y .$$
#
# Only the term of the true class survives. Over a batch we take the mean,
# $L = \frac1N \sum_i \ell(z_i, y_i)$, which is what `torch.nn.functional.cross_entropy` computes by
# default (`reduction="mean"`). The slides tell you to leave this loss to the library's fused
# function rather than coding the formula yourself; what they warn against is
# `-sum(Y * log(softmax(z)))`, which takes the log of a probability that may have rounded to 0.
# Going through the log-softmax is the safe way to code it.
#
# ### Exercise 5: `cross_entropy`
#
# Given `logits` of shape `(N, C)` and integer `targets` of shape `(N,)`, return the **mean over the
# batch** of $-\log \mathrm{softmax}(z_i)_{y_i}$ as a 0-dimensional tensor of the logits' dtype. It must
# be finite for logits near $\pm 1000$. Do not call `F.cross_entropy` (you may call your
# `log_softmax`). Indexing tip: `lp[torch.arange(N), targets]` picks one entry per row, and so does
# `lp.gather(1, targets[:, None])`.

# %% nbgrader={"grade": false, "grade_id": "cross_entropy", "locked": false, "schema_version": 3, "solution": true}
def cross_entropy(logits, targets):
    """Mean softmax cross-entropy.

    Args:
        logits: floating tensor of shape (N, C).
        targets: int64 tensor of shape (N,), values in 0..C-1.

    Returns:
        0-dim tensor: -mean_i log softmax(logits[i])[targets[i]].
    """
    ### BEGIN SOLUTION
    shifted = logits - logits.amax(dim=1, keepdim=True)
    logp = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    return -logp[torch.arange(logits.shape[0], device=logits.device), targets].mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_cross_entropy", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_close(cross_entropy(torch.zeros(2, 4, dtype=torch.float64), torch.tensor([0, 3])), math.log(4),
             what="cross_entropy(zeros(2, 4), [0, 3])",
             hint="Uniform logits give -log(1/4) per example; the loss is the mean over the batch, not the sum.")
expect_close(cross_entropy(torch.tensor([[2.0, 1.0, 0.0]], dtype=torch.float64), torch.tensor([0])),
             math.log(1 + math.exp(-1) + math.exp(-2)), what="cross_entropy([[2, 1, 0]], [0])",
             hint="Only the log-probability of the row's target class enters the loss.")
expect_close(cross_entropy(torch.tensor([[1000.0, 0.0], [0.0, 1000.0], [0.0, 0.0]], dtype=torch.float64),
                           torch.tensor([1, 0, 1])),
             (2000 + math.log(2)) / 3, what="cross_entropy([[1000, 0], [0, 1000], [0, 0]], [1, 0, 1])",
             hint="Rows 0 and 1 are confidently wrong: each loses 1000, not inf. Go through the log-softmax, "
                  "never through the log of a probability, and pick one entry per row.")

# %% nbgrader={"grade": true, "grade_id": "test_cross_entropy_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("cross_entropy", cross_entropy)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Differentiating the softmax
#
# **Gradients and Jacobians: mind the layout.** The gradient of a scalar w.r.t. a vector or a matrix
# has the shape of that vector or matrix, in every convention, and that is what we compute. For a
# vector-valued map $f : \mathbb R^n \to \mathbb R^m$ the conventions differ. The discussion-2 worksheet
# stores its Jacobian as an $n \times m$ array, $(\partial f / \partial x)_{ij} = \partial f_j / \partial x_i$,
# and writes the chain rule with the last factor on the right. That is the *transpose* of what
# `torch.autograd.functional.jacobian` returns, $J_{ij} = \partial f_i / \partial x_j$ (an $m \times n$
# array, the textbook's convention in eq. 2.2, which is why $J^\top$ appears there). Neither is wrong,
# but mixing them transposes your gradients.
#
# **Backward through the softmax.** In a network the softmax sits in the middle of a chain: some loss $L$
# depends on the probabilities $p = \mathrm{softmax}(z)$, and backpropagation hands you the upstream gradient
# $g = \partial L/\partial p$. What it needs from the softmax is $\partial L/\partial z$, the product of $g$ with
# the softmax Jacobian. Nobody builds the $C \times C$ Jacobian for that: the product has a short closed form,
# which you derive.
#
# ### Exercise 6a: `softmax_backward` (step 1)
#
# Implement `softmax_backward(probs, grad_probs, dim=-1)`: given `probs` $= \mathrm{softmax}(z)$ along `dim`
# and `grad_probs` $= \partial L/\partial p$ of the same shape, return $\partial L/\partial z$, of the shape and
# dtype of `probs`, with $\partial L/\partial z_k = \sum_i \frac{\partial L}{\partial p_i}\frac{\partial p_i}{\partial z_k}$
# along `dim`. Use the probabilities you are given (no logits, no autograd), without a Python loop over
# classes and without forming the Jacobian.
#
# <details><summary>Hint 1: the quotient rule</summary>
#
# Write $S = \sum_j e^{z_j}$, so $p_i = e^{z_i}/S$ and $\partial S/\partial z_k = e^{z_k}$. Differentiate
# $p_i$ with respect to $z_k$, separately for $k = i$ and $k \ne i$, and express both cases through $p$ alone.
# </details>
#
# <details><summary>Hint 2: the Jacobian</summary>
#
# $\partial p_i/\partial z_k = p_i(\delta_{ik} - p_k)$: $p_i(1 - p_i)$ on the diagonal, $-p_ip_k$ off it. The
# matrix is symmetric, so here the layout question does not bite. (A warning on the source: the discussion-1
# worksheet, problem 4, writes the cases as $p_i(1 - p_j)$ and $-p_ip_j$ with $j$ the summation index of the
# denominator; the index that belongs there is the differentiation index $k$. Discussion 3 states the
# corrected form $p_i(\delta_{ij} - p_j)$.)
# </details>
#
# <details><summary>Hint 3: the product</summary>
#
# Insert the Jacobian into the sum over $i$: the $\delta_{ik}$ term picks out $g_k p_k$, and the other term
# factors as $p_k$ times one number per slice, the same for every $k$. The result is $p_k$ times ($g_k$ minus
# the $p$-weighted average of $g$).
# </details>

# %% nbgrader={"grade": false, "grade_id": "softmax_backward", "locked": false, "schema_version": 3, "solution": true}
def softmax_backward(probs, grad_probs, dim=-1):
    """Gradient w.r.t. the logits of a softmax, from the gradient w.r.t. its output.

    Args:
        probs: softmax outputs, any shape, classes along dim.
        grad_probs: dL/dprobs, same shape as probs.
        dim: the dimension of the classes (default: last).

    Returns:
        dL/dlogits, shape and dtype of probs.
    """
    ### BEGIN SOLUTION
    return probs * (grad_probs - (grad_probs * probs).sum(dim=dim, keepdim=True))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_softmax_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_p = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)
expect_close(softmax_backward(_p, torch.ones(3, dtype=torch.float64)), torch.zeros(3, dtype=torch.float64),
             what="softmax_backward(p, g = [1, 1, 1])",
             hint="A loss that sees only the sum of the probabilities (always 1) cannot depend on the logits.")
expect_close(softmax_backward(_p, torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)),
             torch.tensor([0.25, -0.125, -0.125], dtype=torch.float64),
             what="softmax_backward(p = [1/2, 1/4, 1/4], g = [1, 0, 0]) (the first column of the Jacobian)",
             hint="Raising z_0 raises p_0 by p_0 (1 - p_0) and lowers each other p_k by p_0 p_k (Hint 2).")
_z = torch.tensor([[0.3, -1.2, 2.0, 0.5], [1.0, 1.0, -2.0, 0.0]], dtype=torch.float64, requires_grad=True)
_g = torch.tensor([[1.0, -2.0, 0.5, 3.0], [0.0, 1.0, 2.0, -1.0]], dtype=torch.float64)
(torch.softmax(_z, dim=1) * _g).sum().backward()
expect_close(softmax_backward(torch.softmax(_z.detach(), dim=1), _g), _z.grad,
             what="softmax_backward on two rows of four classes, against autograd",
             hint="The subtracted term is one number per row: reduce over the classes (`dim`) only.")
expect_close(softmax_backward(torch.softmax(_z.detach(), dim=1).T, _g.T, dim=0), _z.grad.T,
             what="softmax_backward(..., dim=0) on the transposed case")

# %% nbgrader={"grade": true, "grade_id": "test_softmax_backward_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("softmax_backward", softmax_backward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 6b: `softmax_cross_entropy_grad` (step 2)
#
# Given `logits` `(N, C)` and integer `targets` `(N,)`, return $\partial L / \partial Z$ for the mean
# cross-entropy $L$ of Exercise 5, a tensor of shape `(N, C)` in the logits' dtype. Derive it first; then
# compute it from your formula (no autograd). It must be finite for logits near $\pm 1000$. Do not change
# `logits` in place.
#
# <details><summary>Hint 1: through your step 1</summary>
#
# For one example, $\ell = -\log p_y$ depends on the probabilities through $p_y$ alone: $\partial\ell/\partial p$
# is zero except at $y$, where it is $-1/p_y$. Feed that to the product of Exercise 6a.
# </details>
#
# <details><summary>Hint 2: or through the log-sum-exp</summary>
#
# $\ell = \mathrm{LSE}(z) - z_y$, and $\partial\,\mathrm{LSE}/\partial z_k = e^{z_k}/\sum_j e^{z_j}$. Both roads must
# meet.
# </details>
#
# <details><summary>Hint 3: the batch</summary>
#
# Per example $\partial\ell/\partial z_k = p_k - [k = y]$: probabilities minus the one-hot target, as for the
# sigmoid. The batch loss is a mean, so with $P$ the row-wise softmax and $Y$ the one-hot matrix,
# $\nabla_Z L = (P - Y)/N$. Compute $P$ with the max shift.
# </details>

# %% nbgrader={"grade": false, "grade_id": "softmax_cross_entropy_grad", "locked": false, "schema_version": 3, "solution": true}
def softmax_cross_entropy_grad(logits, targets):
    """Gradient of the mean softmax cross-entropy w.r.t. the logits.

    Args:
        logits: floating tensor of shape (N, C).
        targets: int64 tensor of shape (N,).

    Returns:
        Tensor of shape (N, C): (softmax(logits) - one_hot(targets)) / N.
    """
    ### BEGIN SOLUTION
    n, c = logits.shape
    shifted = logits - logits.amax(dim=1, keepdim=True)
    e = torch.exp(shifted)
    probs = e / e.sum(dim=1, keepdim=True)
    one_hot = torch.zeros_like(probs)
    one_hot[torch.arange(n, device=logits.device), targets] = 1.0
    return (probs - one_hot) / n
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_softmax_cross_entropy_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false}
g = softmax_cross_entropy_grad(torch.zeros(2, 3, dtype=torch.float64), torch.tensor([0, 2]))
expect_shape(g, (2, 3), what="softmax_cross_entropy_grad(zeros(2, 3), [0, 2])")
expect_close(g, torch.tensor([[1 / 3 - 1, 1 / 3, 1 / 3], [1 / 3, 1 / 3, 1 / 3 - 1]], dtype=torch.float64) / 2,
             what="softmax_cross_entropy_grad(zeros(2, 3), [0, 2])",
             hint="Retrace Hint 3: which sign does the target class get, and what does the mean over N = 2 rows do?")
g = softmax_cross_entropy_grad(torch.tensor([[1000.0, 0.0]], dtype=torch.float64), torch.tensor([1]))
expect_close(g, torch.tensor([[1.0, -1.0]], dtype=torch.float64), what="softmax_cross_entropy_grad([[1000, 0]], [1])",
             hint="The probabilities inside the gradient need the same care as in Exercise 3: exp(1000) is inf.")

# %% nbgrader={"grade": true, "grade_id": "test_softmax_cross_entropy_grad_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("softmax_cross_entropy_grad", softmax_cross_entropy_grad)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Concept question 1: `gradient_rows_answer`
#
# Every row of $\nabla_Z L$ sums to zero, for any logits and any targets. Why?
#
# - **a.** Because the probabilities in a row sum to 1, so $P - Y$ cancels to the zero matrix at the optimum.
# - **b.** Because the mean over the batch divides every row by $N$, which centres it.
# - **c.** Because the loss does not change when the same number is added to every logit of a row (shift
#   invariance), so moving all logits of a row together has zero directional derivative.
# - **d.** It is a coincidence of the one-hot targets; with soft targets (label smoothing) the rows would
#   no longer sum to zero.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "gradient_rows_answer", "locked": false, "schema_version": 3, "solution": true}
def gradient_rows_answer():
    """Your answer to concept question 1: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gradient_rows_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(gradient_rows_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_gradient_rows_answer_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("gradient_rows_answer", gradient_rows_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 7: `accuracy`
#
# The loss is what we optimize; the **accuracy**, the fraction of examples whose predicted class
# $\arg\max_k z_{ik}$ equals the label, is what we report. Given `logits` `(N, C)` and integer
# `targets` `(N,)`, return the accuracy as a Python `float` in $[0, 1]$ (a fraction, not a percentage).
# Ties go to the lowest class index, which is what `torch.argmax` does.

# %% nbgrader={"grade": false, "grade_id": "accuracy", "locked": false, "schema_version": 3, "solution": true}
def accuracy(logits, targets):
    """Fraction of rows whose largest logit is at the target class.

    Args:
        logits: tensor of shape (N, C).
        targets: int64 tensor of shape (N,).

    Returns:
        Python float in [0, 1].
    """
    ### BEGIN SOLUTION
    return (logits.argmax(dim=1) == targets).double().mean().item()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_accuracy", "locked": true, "points": 1, "schema_version": 3, "solution": false}
logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 4.0]])
acc = accuracy(logits, torch.tensor([0, 1, 1]))
expect_true(isinstance(acc, float), f"accuracy should return a Python float, got {type(acc).__name__}.",
            hint="A 0-dim tensor is not a Python float; convert it.")
expect_close(acc, 2 / 3, what="accuracy of predictions [0, 1, 0] against labels [0, 1, 1]",
             hint="The predicted class is the largest logit over the classes of each row; report a fraction, not a count.")
expect_close(accuracy(torch.zeros(4, 3), torch.tensor([0, 0, 1, 2])), 0.5, what="accuracy with all-tied logits",
             hint="With ties, argmax picks the lowest class index (class 0 here).")

# %% nbgrader={"grade": true, "grade_id": "test_accuracy_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("accuracy", accuracy)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 4. The linear softmax classifier
#
# Now put a linear layer in front: $Z = XW + \mathbf 1 b^\top$ with $X \in \mathbb R^{N \times D}$,
# $W \in \mathbb R^{D \times C}$, $b \in \mathbb R^C$ (in code: `Z = X @ W + b`, broadcasting the bias
# over the rows). This is the textbook's linear model (eq. 1.2) with $C$ outputs instead of one, and the
# same single layer followed by a softmax that the slides' TensorFlow example trains on MNIST.
#
# **Gradients w.r.t. the weights and the bias.** Let $\Delta = \nabla_Z L$ from Exercise 6b, shape `(N, C)`.
# Each logit is $Z_{ic} = \sum_d X_{id} W_{dc} + b_c$; the chain rule turns $\Delta$ into $\nabla_W L$ and
# $\nabla_b L$, which you derive below. The discussion-3 worksheet does the same computation for one example
# with $z = Wx + b$ and $W$ of shape $C \times D$; mind that its $W$ is stored transposed.
#
# **L2 regularization.** Kaplan's §3.4.5 adds a norm of the weights to the loss, a Gaussian prior on
# them, and notes that the biases are usually left alone. Our convention:
#
# $$L_{\text{total}} = \frac1N \sum_i \ell(z_i, y_i) + \frac{\lambda}{2} \|W\|_F^2 .$$
#
# The $\tfrac12$ is there to cancel the 2 that differentiating the square brings down. (Some libraries
# write $\lambda \|W\|^2$ instead; same idea, a different $\lambda$.)
#
# ### Exercise 8: `linear_softmax_loss_and_grads`
#
# Given `X` `(N, D)`, `W` `(D, C)`, `b` `(C,)`, integer `y` `(N,)` and a float `reg` $= \lambda \ge 0$,
# return `(loss, dW, db)`:
# - `loss`: the mean cross-entropy of the logits `X @ W + b` plus `(reg / 2) * (W ** 2).sum()`,
#   a 0-dimensional tensor (the bias is **not** regularized);
# - `dW`: $\nabla_W$ of that loss, shape `(D, C)`; `db`: $\nabla_b$, shape `(C,)`.
#
# Derive the gradients, then compute them without autograd, finite for large logits. (You may call your
# earlier functions.)
#
# <details><summary>Hint 1: one entry of W</summary>
#
# $\partial Z_{ic}/\partial W_{dc'} = X_{id}$ if $c = c'$ and 0 otherwise. So $\partial L/\partial W_{dc}$ is a
# sum over the batch of $\Delta_{ic}$ times one entry of $X$. Which one?
# </details>
#
# <details><summary>Hint 2: as a matrix product</summary>
#
# $\nabla_W L$ must have the shape `(D, C)` of `W`. The only product of `X` `(N, D)` and $\Delta$ `(N, C)` with
# that shape sums over the batch index, which is exactly the sum of Hint 1. The $1/N$ of the mean already sits
# inside $\Delta$: do not divide again.
# </details>
#
# <details><summary>Hint 3: the bias and the penalty</summary>
#
# $\partial Z_{ic}/\partial b_c = 1$ for every row $i$, so the bias collects $\Delta$ over the batch. The
# penalty $\frac{\lambda}{2}\sum_{d,c} W_{dc}^2$ adds $\lambda W_{dc}$ to $\partial L/\partial W_{dc}$ and
# nothing to the bias.
# </details>

# %% nbgrader={"grade": false, "grade_id": "linear_softmax_loss_and_grads", "locked": false, "schema_version": 3, "solution": true}
def linear_softmax_loss_and_grads(X, W, b, y, reg):
    """Regularized loss of a linear softmax classifier and its gradients.

    Args:
        X: inputs, shape (N, D).
        W: weights, shape (D, C).
        b: bias, shape (C,).
        y: int64 labels, shape (N,).
        reg: L2 strength; the loss includes (reg / 2) * sum(W ** 2).

    Returns:
        (loss, dW, db): 0-dim tensor, shape (D, C), shape (C,).
    """
    ### BEGIN SOLUTION
    n = X.shape[0]
    logits = X @ W + b
    shifted = logits - logits.amax(dim=1, keepdim=True)
    e = torch.exp(shifted)
    sums = e.sum(dim=1, keepdim=True)
    rows = torch.arange(n, device=X.device)
    logp = shifted - torch.log(sums)
    loss = -logp[rows, y].mean() + 0.5 * reg * (W * W).sum()
    delta = e / sums
    delta[rows, y] -= 1.0
    delta = delta / n
    dW = X.T @ delta + reg * W
    db = delta.sum(dim=0)
    return loss, dW, db
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_linear_softmax_loss_and_grads", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# A case you can do by hand: W = 0 and b = 0 give uniform probabilities (and no penalty gradient).
loss, dW, db = linear_softmax_loss_and_grads(torch.tensor([[1.0, 2.0]], dtype=torch.float64),
                                             torch.zeros(2, 2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64),
                                             torch.tensor([0]), 0.1)
expect_close(loss, math.log(2), what="loss with W = 0")
expect_shape(dW, (2, 2), what="dW")
expect_close(dW, torch.tensor([[-0.5, 0.5], [-1.0, 1.0]], dtype=torch.float64), what="dW with W = 0",
             hint="Row d of dW pairs feature d of each example with that example's logit gradient (Hint 1).")
expect_close(db, torch.tensor([-0.5, 0.5], dtype=torch.float64), what="db with W = 0")
# A random case, checked against torch's autograd (the loss is the one stated in the exercise).
gen = torch.Generator().manual_seed(3)
X = torch.randn(5, 4, generator=gen, dtype=torch.float64)
W = torch.randn(4, 3, generator=gen, dtype=torch.float64)
b = torch.randn(3, generator=gen, dtype=torch.float64)
y = torch.tensor([0, 2, 1, 2, 0])
W_, b_ = W.clone().requires_grad_(True), b.clone().requires_grad_(True)
auto_loss = F.cross_entropy(X @ W_ + b_, y) + 0.5 * 0.3 * (W_ ** 2).sum()
auto_loss.backward()
loss, dW, db = linear_softmax_loss_and_grads(X, W, b, y, 0.3)
expect_close(loss, auto_loss.detach(), what="loss on a random (N, D, C) = (5, 4, 3) case",
             hint="Mean cross-entropy plus (reg / 2) * sum(W ** 2); the bias is not penalized.")
expect_shape(dW, (4, 3), what="dW on the (5, 4, 3) case")
expect_close(dW, W_.grad, what="dW on a random (N, D, C) = (5, 4, 3) case",
             hint="Two terms: the data term from the logit gradient (Hint 2, with its 1/N counted once) and the "
                  "derivative of the penalty (Hint 3): the factor 1/2 cancels the 2 of the square.")
expect_close(db, b_.grad, what="db on a random (N, D, C) = (5, 4, 3) case",
             hint="The bias enters every row's logits with slope 1, so it collects the logit gradient over the "
                  "batch; the penalty does not involve b.")

# %% nbgrader={"grade": true, "grade_id": "test_linear_softmax_loss_and_grads_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("linear_softmax_loss_and_grads", linear_softmax_loss_and_grads)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# Before training on it, check a hand-derived gradient against an independent one. Central finite
# differences in float64, $\frac{L(W + hE) - L(W - hE)}{2h}$ for a single entry $E$, agree with the
# exact gradient to about $h^2$, far more accurately than one-sided ones (the slides and Kaplan's §1.4
# explain why finite differences are no way to *train*, but they are a fine way to *test*).

# %%
with needs_exercises():
    gen = torch.Generator().manual_seed(0)
    X_chk = torch.randn(20, 6, generator=gen, dtype=torch.float64)
    W_chk = torch.randn(6, 4, generator=gen, dtype=torch.float64)
    b_chk = torch.randn(4, generator=gen, dtype=torch.float64)
    y_chk = torch.randint(0, 4, (20,), generator=gen)
    _, dW_chk, _ = linear_softmax_loss_and_grads(X_chk, W_chk, b_chk, y_chk, 0.1)
    h = 1e-5
    for d, c in [(0, 0), (2, 3), (5, 1)]:
        E = torch.zeros_like(W_chk)
        E[d, c] = h
        plus = linear_softmax_loss_and_grads(X_chk, W_chk + E, b_chk, y_chk, 0.1)[0]
        minus = linear_softmax_loss_and_grads(X_chk, W_chk - E, b_chk, y_chk, 0.1)[0]
        numeric = ((plus - minus) / (2 * h)).item()
        print(f"dW[{d},{c}]: formula {dW_chk[d, c].item():+.10f}   finite difference {numeric:+.10f}")

# %% [markdown]
# ## 5. Training by gradient descent
#
# Gradient descent (Kaplan eq. 1.3.1, textbook eq. 1.13) repeats $\theta \leftarrow \theta - \eta\,
# \nabla_\theta L(\theta)$. Our loss is convex in $(W, b)$, so with a small enough learning rate $\eta$
# every step lowers it, and where we start matters little. We use the whole training set for every
# step (full-batch gradient descent); chapter 05 makes the steps stochastic.
#
# ### Exercise 9 (make it work): `train_softmax_classifier`
#
# Implement `train_softmax_classifier(X, y, num_classes, lr, epochs, reg, generator)`:
#
# 1. Initialize `W = 0.01 * torch.randn(D, num_classes, generator=generator, dtype=X.dtype)` (exactly
#    this call, drawn once, so that results can be compared) and `b` = zeros of shape `(num_classes,)`,
#    both in `X`'s dtype.
# 2. Repeat `epochs` times: compute `loss, dW, db` with your `linear_softmax_loss_and_grads` (hand
#    gradients, **not** autograd), record `loss`, then update `W = W - lr * dW` and `b = b - lr * db`.
# 3. Return `(W, b, losses)`, where `losses` has length `epochs` and `losses[t]` is the regularized
#    loss at the parameters **before** update `t` (so `losses[0]` is the loss at the initialization).
#    Return `losses` as a 1-D tensor in `X`'s dtype (a list of floats is accepted too).
#
# **Target.** With the digits data (`load_digits()`, float32), `lr=2.0`, `epochs=200`, `reg=1e-3` and
# `generator=torch.Generator().manual_seed(0)`, the reference reaches about **96% test accuracy**. The grader
# hands your function the 1348 training images only, keeps the 449 test images, scores the weights you
# return on them in its own process, and asks for at least **93%**. A sign slip anywhere in your gradients
# leaves you near chance (10%). Training takes a second or two. The grader also replays short runs on small
# problems and compares every recorded loss and the final weights with its own.

# %% nbgrader={"grade": false, "grade_id": "train_softmax_classifier", "locked": false, "schema_version": 3, "solution": true}
def train_softmax_classifier(X, y, num_classes, lr, epochs, reg, generator):
    """Full-batch gradient descent on a linear softmax classifier with L2 penalty.

    Args:
        X: inputs, shape (N, D).
        y: int64 labels, shape (N,).
        num_classes: number of classes C.
        lr: learning rate.
        epochs: number of gradient steps.
        reg: L2 strength (as in linear_softmax_loss_and_grads).
        generator: torch.Generator for the initial weights.

    Returns:
        (W, b, losses): shapes (D, C), (C,), (epochs,); losses[t] is the loss before step t.
    """
    ### BEGIN SOLUTION
    W = 0.01 * torch.randn(X.shape[1], num_classes, generator=generator, dtype=X.dtype, device=X.device)
    b = torch.zeros(num_classes, dtype=X.dtype, device=X.device)
    losses = torch.empty(epochs, dtype=X.dtype, device=X.device)
    for t in range(epochs):
        loss, dW, db = linear_softmax_loss_and_grads(X, W, b, y, reg)
        losses[t] = loss
        W = W - lr * dW
        b = b - lr * db
    return W, b, losses
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_train_softmax_classifier", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# One step, compared with a step computed here with autograd.
gen = torch.Generator().manual_seed(1)
X = torch.randn(6, 3, generator=gen, dtype=torch.float64)
y = torch.tensor([0, 1, 2, 0, 1, 2])
W, b, losses = train_softmax_classifier(X, y, 3, lr=0.7, epochs=1, reg=0.1, generator=torch.Generator().manual_seed(0))
W0 = (0.01 * torch.randn(3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)).requires_grad_(True)
b0 = torch.zeros(3, dtype=torch.float64, requires_grad=True)
loss0 = F.cross_entropy(X @ W0 + b0, y) + 0.5 * 0.1 * (W0 ** 2).sum()
loss0.backward()
expect_true(len(losses) == 1, f"with epochs=1 there should be 1 recorded loss, got {len(losses)}.")
expect_close(losses[0], loss0.detach(), what="losses[0] (the loss at the initialization)",
             hint="Initialize exactly as step 1 says (one draw from the generator you are given, bias zero), "
                  "and record the loss *before* updating.")
expect_close(W, W0.detach() - 0.7 * W0.grad, what="W after one step",
             hint="Gradient descent steps *against* the gradient, penalty term included, scaled by the learning rate.")
expect_close(b, -0.7 * b0.grad, what="b after one step", hint="The bias is a parameter too: it takes a step as well.")
# Many steps on three well-separated clusters: the loss falls at every step and the fit is perfect.
X, y = make_blobs_2d(60, 3, torch.Generator().manual_seed(0), radius=4.0, spread=0.5, dtype=torch.float64)
W, b, losses = train_softmax_classifier(X, y, 3, lr=0.5, epochs=100, reg=1e-3, generator=torch.Generator().manual_seed(0))
losses = torch.as_tensor(losses, dtype=torch.float64)
expect_shape(W, (2, 3), what="W")
expect_shape(b, (3,), what="b")
expect_true(bool((losses[1:] < losses[:-1]).all()), "the loss should decrease at every step on this easy problem.",
            hint="Check the direction of the update, and that the gradient is that of the mean loss.")
expect_close(accuracy(X @ W + b, y), 1.0, what="training accuracy on three separated clusters")

# %% nbgrader={"grade": true, "grade_id": "test_train_softmax_classifier_2", "locked": true, "points": 5, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("train_softmax_classifier", train_softmax_classifier)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 6. What the classifier learned
#
# ### The digits, and a training curve
#
# scikit-learn ships 1797 handwritten digits as 8x8 images with intensities 0..16; `load_digits()`
# scales them to $[0, 1]$, flattens each into a row of 64 numbers and splits them with a fixed seed into
# 1348 training and 449 test images. The loop below is Exercise 9 written out, so that it can also
# record the test loss and accuracy after every step.

# %%
with needs_exercises():
    from tqdm.auto import tqdm

    X_train, y_train, X_test, y_test = load_digits()
    print("train", tuple(X_train.shape), "test", tuple(X_test.shape))
    fig, axes = plt.subplots(1, 10, figsize=(10, 1.3))
    for digit, ax in enumerate(axes):
        ax.imshow(X_train[y_train == digit][0].reshape(8, 8), cmap="gray_r")
        ax.set_title(str(digit))
        ax.axis("off")
    plt.show()

    lr, epochs, reg = 2.0, 200, 1e-3
    W = 0.01 * torch.randn(64, 10, generator=torch.Generator().manual_seed(0))
    b = torch.zeros(10)
    history = {"train loss": [], "test loss": [], "train acc": [], "test acc": []}
    for step in tqdm(range(epochs), desc="gradient descent"):
        loss, dW, db = linear_softmax_loss_and_grads(X_train, W, b, y_train, reg)
        history["train loss"].append(loss.item())
        history["test loss"].append(linear_softmax_loss_and_grads(X_test, W, b, y_test, reg)[0].item())
        history["train acc"].append(accuracy(X_train @ W + b, y_train))
        history["test acc"].append(accuracy(X_test @ W + b, y_test))
        W, b = W - lr * dW, b - lr * db

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.5))
    for name in ("train loss", "test loss"):
        ax_loss.plot(history[name], label=name)
    ax_loss.set(xlabel="step", ylabel="regularized cross-entropy", yscale="log", title="loss")
    ax_loss.legend()
    for name in ("train acc", "test acc"):
        ax_acc.plot(history[name], label=name)
    ax_acc.set(xlabel="step", ylabel="accuracy", ylim=(0.5, 1.0), title="accuracy")
    ax_acc.legend()
    plt.show()
    print(f"final test accuracy: {accuracy(X_test @ W + b, y_test):.3f}")

# %% [markdown]
# ### The weights as images
#
# Column $c$ of $W$ holds one weight per pixel, and the logit of class $c$ is the dot product of the
# image with that column. Reshaped to 8x8, each column is a template: red pixels raise the score of
# the class when they are inked, blue pixels lower it.

# %%
fig, axes = plt.subplots(1, 10, figsize=(12, 1.6))
vmax = W.abs().max().item()
for digit, ax in enumerate(axes):
    ax.imshow(W[:, digit].reshape(8, 8), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    ax.set_title(str(digit))
    ax.axis("off")
plt.show()

# %% [markdown]
# ### Which digits get confused
#
# Entry $(i, j)$ of the confusion matrix counts the test images of digit $i$ that the classifier
# calls $j$; a perfect classifier has everything on the diagonal.

# %%
predictions = (X_test @ W + b).argmax(dim=1)
confusion = torch.bincount(y_test * 10 + predictions, minlength=100).reshape(10, 10)
fig, ax = plt.subplots(figsize=(5, 4.5))
ax.imshow(confusion, cmap="Blues")
for i in range(10):
    for j in range(10):
        if confusion[i, j] > 0:
            ax.text(j, i, int(confusion[i, j]), ha="center", va="center",
                    color="white" if confusion[i, j] > confusion.max() / 2 else "black", fontsize=8)
ax.set(xlabel="predicted", ylabel="true", xticks=range(10), yticks=range(10), title="test confusion matrix")
plt.show()

# %% [markdown]
# ### Decision regions in the plane
#
# A linear softmax classifier cuts the plane into convex regions, one per class, separated by straight
# lines (where two logits tie). Move the sliders. The regularization strength $\lambda$ shrinks $W$,
# which flattens the logits and makes the classifier less confident: the shading shows the largest
# probability, pale where the classifier hesitates. The learning rate sets how far gradient descent gets
# in 150 steps: at 0.01 it has barely started, around 1 it converges in a few steps, and from about 5 on
# the loss curve starts to jump up and down instead of falling, a first sight of the step-size limits
# that chapter 05 studies.

# %%
X_blobs, y_blobs = make_blobs_2d(300, 4, torch.Generator().manual_seed(1), radius=3.0, spread=1.2)
grid_x, grid_y = torch.meshgrid(torch.linspace(-7, 7, 150), torch.linspace(-7, 7, 150), indexing="xy")
grid = torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)
colors = np.array(plt.get_cmap("tab10").colors[:4])


def show_decision_regions(reg=1e-3, lr=0.5):
    W, b, losses = train_softmax_classifier(X_blobs, y_blobs, 4, lr=lr, epochs=150, reg=reg,
                                            generator=torch.Generator().manual_seed(0))
    probs = softmax(grid @ W + b, dim=1)
    confidence, label = probs.max(dim=1)
    shade = confidence.numpy()[:, None]
    image = np.clip(colors[label.numpy()] * shade + (1 - shade), 0.0, 1.0)
    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(10, 4.2))
    ax.imshow(image.reshape(150, 150, 3), extent=(-7, 7, -7, 7), origin="lower")
    ax.scatter(X_blobs[:, 0], X_blobs[:, 1], c=colors[y_blobs.numpy()], edgecolors="white", linewidths=0.6, s=16)
    ax.set_title(f"reg = {reg:g}, lr = {lr:g}: train accuracy "
                 f"{accuracy(X_blobs @ W + b, y_blobs):.2f}, |W| = {W.norm():.2f}", fontsize=10)
    ax_loss.plot(torch.as_tensor(losses))
    ax_loss.set(xlabel="step", ylabel="loss", yscale="log", title="training loss")
    plt.show()


interact(show_decision_regions,
         reg=widgets.SelectionSlider(options=[0.0, 1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.3, 1.0, 3.0], value=1e-3,
                                     description="reg"),
         lr=widgets.SelectionSlider(options=[0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0],
                                    value=0.5, description="lr"));

# %% [markdown]
# ### Concept question 2: `separable_answer`
#
# Training data that a linear classifier can split perfectly are called *linearly separable*. You train on
# such data with `reg = 0` and let gradient descent run longer and longer. What happens?
#
# - **a.** $W$ converges to the unique minimizer of the cross-entropy, as it does for any convex loss.
# - **b.** The loss keeps falling towards 0 and $\|W\|$ grows without bound: scaling up a $W$ that separates
#   the data always lowers the cross-entropy, so no minimizer exists; the L2 penalty restores one.
# - **c.** $\|W\|$ settles once every training point is classified correctly, because the gradient
#   $(P - Y)/N$ is zero from then on.
# - **d.** Training ends in NaN at every learning rate, because the logits eventually overflow.
#
# Return your letter from the function below. (The slider above lets you watch $|W|$ at `reg = 0`.)

# %% nbgrader={"grade": false, "grade_id": "separable_answer", "locked": false, "schema_version": 3, "solution": true}
def separable_answer():
    """Your answer to concept question 2: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_separable_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(separable_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_separable_answer_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("separable_answer", separable_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Are the probabilities right? Calibration
#
# A classifier that says "90%" should be right about 9 times in 10 when it says so. Kaplan §3.4.4 gives the
# hopeful argument: if the model is right on a fraction $f$ of some kind of input, the cross-entropy
# $-f\log p - (1-f)\log(1-p)$ is smallest at $p = f$, so minimizing it should teach honest probabilities. He
# adds at once that this holds a lot fixed that is not. Early stopping, a penalty on $W$ and a model too
# simple or too flexible for the data all bend the probabilities away from the frequencies. Deep networks
# tend to be *over*-confident; you are about to see which way your linear classifier leans.
#
# **Measuring it.** Sort the test predictions into $B$ equal-width bins by their **confidence**, the largest
# probability of the row: bin $k$ holds the confidences in $\big(\frac kB, \frac{k+1}B\big]$. In a bin with
# $n_k$ predictions, compare their accuracy $a_k$ with their average confidence $c_k$. The *reliability
# diagram* plots $a_k$ against $c_k$ (a calibrated model lies on the diagonal), and the **expected
# calibration error** averages the gaps, weighted by how many predictions each bin holds:
#
# $$\mathrm{ECE} = \sum_{k=0}^{B-1} \frac{n_k}{N}\,\big|a_k - c_k\big| \qquad (\text{empty bins count } 0).$$
#
# ### Exercise 10: `expected_calibration_error`
#
# Implement `expected_calibration_error(probs, targets, n_bins=10)`: `probs` of shape `(N, C)` (rows summing
# to 1), integer `targets` `(N,)`. The prediction of a row is its most probable class (ties to the lowest
# index, as in `accuracy`), its confidence that probability; a confidence of exactly $\frac kB$ belongs to bin
# $k - 1$, and a confidence of 1 to the last bin. Return a Python `float`.

# %% nbgrader={"grade": false, "grade_id": "expected_calibration_error", "locked": false, "schema_version": 3, "solution": true}
def expected_calibration_error(probs, targets, n_bins=10):
    """Expected calibration error with n_bins equal-width confidence bins.

    Args:
        probs: probabilities, shape (N, C).
        targets: int64 labels, shape (N,).
        n_bins: number of bins on [0, 1].

    Returns:
        Python float in [0, 1].
    """
    ### BEGIN SOLUTION
    confidence, predicted = probs.max(dim=1)
    correct = (predicted == targets).double()
    confidence = confidence.double()
    bins = torch.ceil(confidence * n_bins).long() - 1  # confidence > 0: bins 0 .. n_bins - 1
    total = 0.0
    for k in range(n_bins):
        in_bin = bins == k
        if in_bin.any():
            total += in_bin.double().mean().item() * abs(correct[in_bin].mean().item() - confidence[in_bin].mean().item())
    return total
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_expected_calibration_error", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_probs = torch.tensor([[0.9, 0.1], [0.9, 0.1], [0.25, 0.75], [0.5, 0.5]], dtype=torch.float64)
_ece = expected_calibration_error(_probs, torch.tensor([0, 1, 1, 1]), n_bins=4)
expect_true(isinstance(_ece, float), f"expected_calibration_error should return a Python float, got {type(_ece).__name__}.")
expect_close(_ece, (2 * abs(0.5 - 0.9) + abs(1 - 0.75) + abs(0 - 0.5)) / 4,
             what="ECE of four predictions with 4 bins (confidences 0.9, 0.9, 0.75, 0.5)",
             hint="Group the rows by their largest probability; 0.75 closes bin (0.5, 0.75] and 0.5 closes bin "
                  "(0.25, 0.5]; weight each bin's gap by its share of the rows.")
expect_close(expected_calibration_error(torch.tensor([[0.6, 0.4]] * 5, dtype=torch.float64),
                                        torch.tensor([0, 0, 0, 1, 1])), 0.0,
             what="ECE of five 60%-confident predictions, three of them right",
             hint="Right 3 times in 5 at 60% confidence is perfect calibration.")

# %% nbgrader={"grade": true, "grade_id": "test_expected_calibration_error_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("expected_calibration_error", expected_calibration_error)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Reliability diagram and temperature scaling
#
# The simplest repair is **temperature scaling** (Guo et al., 2017): divide all logits by one number $T > 0$
# before the softmax. $T > 1$ flattens the probabilities, $T < 1$ sharpens them. $T$ is chosen to minimize the
# cross-entropy on held-out data that training never saw; here the first half of the digits' test images
# serves for that, and the plots show the second half. Move the slider and watch the bars approach the
# diagonal; the dashed line marks the fitted $T$.

# %%
with needs_exercises():
    _Xtr, _ytr, _Xte, _yte = load_digits()
    _W, _b, _ = train_softmax_classifier(_Xtr, _ytr, 10, lr=2.0, epochs=200, reg=1e-3,
                                         generator=torch.Generator().manual_seed(0))
    _Z = (_Xte @ _W + _b).double()
    _half = _Z.shape[0] // 2
    _temps = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 2.0]
    _fit_T = min(_temps, key=lambda T: cross_entropy(_Z[:_half] / T, _yte[:_half]).item())

    def show_calibration(T=1.0):
        probs = softmax(_Z[_half:] / T, dim=1)
        y = _yte[_half:]
        confidence, predicted = probs.max(dim=1)
        edges = np.linspace(0, 1, 11)
        bins = np.clip(np.ceil(confidence.numpy() * 10) - 1, 0, 9).astype(int)
        fig, (ax, ax_T) = plt.subplots(1, 2, figsize=(10, 3.8))
        for k in range(10):
            in_bin = bins == k
            if in_bin.any():
                acc = (predicted.numpy()[in_bin] == y.numpy()[in_bin]).mean()
                ax.bar(edges[k], acc, width=0.1, align="edge", color="C0", edgecolor="white")
                ax.plot(confidence.numpy()[in_bin].mean(), acc, "o", color="C1", ms=4)
        ax.plot([0, 1], [0, 1], "k--", lw=1)
        ax.set(xlabel="confidence", ylabel="accuracy in the bin", xlim=(0, 1), ylim=(0, 1),
               title=f"T = {T:g}: ECE {expected_calibration_error(probs, y):.3f}, "
                     f"cross-entropy {cross_entropy(_Z[_half:] / T, y).item():.3f}")
        ax_T.plot(_temps, [cross_entropy(_Z[:_half] / t, _yte[:_half]).item() for t in _temps], "o-")
        ax_T.axvline(_fit_T, color="k", ls="--", label=f"fitted T = {_fit_T:g}")
        ax_T.axvline(T, color="C1", lw=3, alpha=0.5, label=f"shown T = {T:g}")
        ax_T.set(xlabel="temperature T", ylabel="cross-entropy (first half)", xscale="log")
        ax_T.legend(fontsize=8)
        plt.show()

    interact(show_calibration, T=widgets.SelectionSlider(options=_temps, value=1.0, description="T"));

# %% [markdown]
# The classifier you trained is *under*-confident: early stopping and the penalty on $W$ keep its logits small,
# so its "70%" is right far more often than 70% of the time, and the fitted temperature is below 1.
#
# ### Concept question 3: `temperature_answer`
#
# What does temperature scaling with a fitted $T > 0$ do to the classifier's test **accuracy**?
#
# - **a.** Nothing: dividing every logit of a row by the same $T > 0$ keeps their order, so every
#   prediction stays the same.
# - **b.** It raises it, because better-calibrated probabilities lead to better decisions.
# - **c.** It lowers it whenever $T > 1$, because flatter probabilities make the classifier less sure of
#   the right class.
# - **d.** It depends on the data; temperature scaling trades accuracy for calibration.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "temperature_answer", "locked": false, "schema_version": 3, "solution": true}
def temperature_answer():
    """Your answer to concept question 3: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "a"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_temperature_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(temperature_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_temperature_answer_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("temperature_answer", temperature_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## What you built
#
# - A sigmoid and a binary cross-entropy that never overflow, and the gradient you derived for it.
# - A softmax with the max shift and a log-softmax with log-sum-exp, the two tricks behind every
#   stable classification loss.
# - The backward pass of the softmax as a Jacobian-vector product, the gradient of the mean cross-entropy
#   built on it, and the gradients of a linear layer with an L2 penalty, checked against autograd and finite
#   differences.
# - A classifier trained by gradient descent with those formulas, reaching about 96% on held-out digits.
# - Why every row of the logit gradient sums to zero, and why separable data need a penalty (or early
#   stopping) to keep the weights finite.
# - The expected calibration error and a reliability diagram, and temperature scaling, which repairs the
#   confidence of a classifier without changing a single prediction.
#
# Deriving gradients by hand does not scale to networks with many layers. Chapter 04 (automatic
# differentiation) automates exactly what you did here: it records the computation and applies the
# chain rule backwards, one elementary operation at a time, so that `loss.backward()` produces the
# `dW` and `db` you just derived.
