# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · The learning recipe, probability, estimators
#
# Training a network means computing something from a random sample of data. Before any network
# appears, this chapter looks at the simplest such computations, the mean and the variance of a
# sample, and asks how good they are as guesses of the quantities they stand for.
#
# **Learning goals**
# - Treat anything computed from data (an average, a fitted parameter, a trained model) as a *random
#   variable*, with an expectation and a spread of its own.
# - Compute sample means and variances in torch along a chosen dimension, and show why dividing by
#   $n$ underestimates the variance (Bessel's correction).
# - Measure the bias, variance and mean squared error of an estimator by simulation, and see
#   $\text{MSE} = \text{bias}^2 + \text{variance}$ hold on the simulated numbers.
# - Fit a Gaussian by maximum likelihood and write down its negative log-likelihood, the first loss
#   function of the course.
# - Watch the central limit theorem turn skewed draws into a bell curve.
# - Link losses to the statistics they estimate: squared loss leads to the mean, absolute loss to the median.
# - Derive the Huber loss, which joins the two smoothly, and its bounded derivative, and see why it resists
#   outliers.
# - Tell apart unbiased, asymptotically unbiased and consistent, and see why the Cramér–Rao bound does not
#   stop a biased estimator from winning on mean squared error.
# - Derive the MAP estimate of a mean under a Gaussian prior, a precision-weighted average.
# - Beat the plain average: shrink many noisy group means towards each other (a prior, MAP estimation, and
#   the James–Stein estimator) and measure the gain on true means you never see.
#
# **Notes followed.** *CS 182/282A discussion worksheets*, discussion 1 (§2 the three choices of a
# learning problem, §3.2 estimators, §4 loss and risk functions) and discussion 2 (§1 the bias–variance
# decomposition); Kaplan, *Notes on Contemporary Machine Learning for Physicists*, §1.10 (probability
# and random variables), §3.2 (central limit theorem), §3.3 (estimators, bias and variance) and §3.4
# (why optimize a particular loss: §3.4.1 the Bayesian view and MAP estimation, §3.4.2 the Cramér–Rao bound); the introduction of the slides *Part II: Deep Learning* (the
# common recipe of supervised learning).
#
# **Conventions used throughout.** A data set of $n$ samples lies along one dimension `dim` of a
# tensor, **the last one by default**. A tensor of shape `(T, n)` therefore holds $T$ independent data
# sets, and every estimator returns $T$ estimates at once, of shape `(T,)`. Functions return the dtype
# and device of their input. Randomness enters only through a `torch.Generator` that you are handed,
# or through the samples themselves, so every result can be reproduced and graded exactly.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import math
import numpy as np
import torch
import matplotlib.pyplot as plt
import ipywidgets as widgets
from course.checks import expect_close, expect_true, expect_shape, expect_raises
from course.demos import interact, needs_exercises

# %% [markdown]
# ## 0. The recipe, and where the randomness is
#
# Every supervised method in this course follows the same three steps:
#
# 1. choose a family of functions $\mathcal F = \{f_\theta : \theta \in \Theta\}$ (a linear model, a
#    convolutional network, a transformer, ...);
# 2. choose a loss $L(f_\theta(x), y)$ that says how bad a prediction is;
# 3. pick the parameters that minimize the **empirical risk**, the average loss on the data set
#    $\{(x_1, y_1), \dots, (x_n, y_n)\}$:
#
# $$\theta^\star = \arg\min_\theta \hat R(\theta), \qquad \hat R(\theta) = \frac1n \sum_{i=1}^n L(f_\theta(x_i), y_i).$$
#
# The data set is one draw from some distribution we never see directly. Draw another data set and
# you get another $\theta^\star$. The training procedure is a rule that turns a sample into parameters;
# statisticians call such a rule an **estimator**, and it is a random variable. Whether it lands near
# the value we want, and how much it scatters, are questions about its *bias* and its *variance*. This
# chapter answers them where everything can be computed by hand: estimating the mean and the variance
# of a distribution.
#
# ## 1. Random variables and estimators
#
# We write a random variable with a capital letter, $X$, and a number drawn from its distribution
# with a lower-case one, $x \sim p$. Expectations are written $\mathbb E[\cdot]$ (Kaplan writes
# $\langle \cdot \rangle$). Two facts carry most of this chapter:
#
# - the expectation is **linear**, $\mathbb E[aX + bY] = a\,\mathbb E[X] + b\,\mathbb E[Y]$, whether or
#   not $X$ and $Y$ are independent;
# - for **independent** variables the variances add, $\text{Var}(X + Y) = \text{Var}(X) + \text{Var}(Y)$,
#   because the cross term $\mathbb E[(X - \mathbb E X)(Y - \mathbb E Y)]$ vanishes.
#
# A data set of $n$ i.i.d. (independent, identically distributed) samples is modelled by
# $X_1, \dots, X_n$, each with mean $\mu$ and variance $\sigma^2$. An estimator of a quantity $\theta$
# is any function of the sample, $\hat\theta = f(X_1, \dots, X_n)$. Its
#
# $$\text{bias} = \mathbb E[\hat\theta] - \theta, \qquad
#   \text{variance} = \mathbb E\big[(\hat\theta - \mathbb E[\hat\theta])^2\big], \qquad
#   \text{MSE} = \mathbb E\big[(\hat\theta - \theta)^2\big].$$
#
# The sign convention matters: the bias is *estimate minus truth*, so an estimator that comes out too
# small on average has a negative bias.

# %% [markdown]
# ### Exercise 1: `sample_mean`
#
# The sample mean $\bar x = \frac1n \sum_{i=1}^n x_i$ estimates $\mu$. By linearity
# $\mathbb E[\bar X] = \frac1n \sum_i \mathbb E[X_i] = \mu$: it is **unbiased**. Its variance shrinks
# with the sample size: the $n$ terms are independent, so
# $\text{Var}(\bar X) = \frac{1}{n^2} \sum_i \text{Var}(X_i) = \sigma^2 / n$.
#
# Implement `sample_mean(x, dim=-1)`: the mean of `x` over dimension `dim` (the last one by default),
# returning a tensor with that dimension removed (shape `(T, n)` → `(T,)`), same dtype as `x`.

# %% nbgrader={"grade": false, "grade_id": "sample_mean", "locked": false, "schema_version": 3, "solution": true}
def sample_mean(x, dim=-1):
    """Sample mean of x over dimension dim.

    Args:
        x: tensor of samples, the n samples along dim.
        dim: the dimension holding the samples (default: the last one).
    Returns:
        tensor of x's shape without dim, same dtype as x.
    """
    ### BEGIN SOLUTION
    return x.sum(dim=dim) / x.shape[dim]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sample_mean", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]], dtype=torch.float64)
expect_close(sample_mean(x), torch.tensor([2.0, 6.0], dtype=torch.float64), what="sample_mean(x) (rows are data sets)",
             hint="Average over the samples of each data set only: the dimension `dim`, the last one by default.")
expect_close(sample_mean(x, dim=0), torch.tensor([2.5, 4.0, 5.5], dtype=torch.float64), what="sample_mean(x, dim=0)",
             hint="Use the `dim` argument you are given.")
expect_true("float32" in str(sample_mean(x.float()).dtype), "sample_mean of a float32 tensor should be float32.")

# %% nbgrader={"grade": true, "grade_id": "test_sample_mean_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("sample_mean", sample_mean)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2: `sample_variance` (the plug-in estimator)
#
# The obvious guess for $\sigma^2$ replaces the expectation in $\sigma^2 = \mathbb E[(X-\mu)^2]$ by an
# average over the sample, and the unknown $\mu$ by $\bar x$:
#
# $$\hat\sigma^2_{\text{plug-in}} = \frac1n \sum_{i=1}^n (x_i - \bar x)^2 .$$
#
# It is called *plug-in* because it plugs the sample into the definition, and it is what
# `torch.var(x, dim, correction=0)` and `numpy.var(x)` compute. Compute it in **two passes**: first
# $\bar x$, then the average squared deviation. The one-pass shortcut
# $\overline{x^2} - \bar x^2$ is algebraically equal but subtracts two large, nearly equal numbers
# when the data sit far from zero, and loses digits.
#
# Implement `sample_variance(x, dim=-1)`: divide by $n$, reduce over `dim` (last by default), keep the
# dtype. For $n = 1$ the answer is 0.

# %% nbgrader={"grade": false, "grade_id": "sample_variance", "locked": false, "schema_version": 3, "solution": true}
def sample_variance(x, dim=-1):
    """Plug-in variance (divide by n) of x over dimension dim.

    Args:
        x: tensor of samples, the n samples along dim.
        dim: the dimension holding the samples (default: the last one).
    Returns:
        tensor of x's shape without dim, same dtype as x.
    """
    ### BEGIN SOLUTION
    deviations = x - x.mean(dim=dim, keepdim=True)
    return (deviations * deviations).sum(dim=dim) / x.shape[dim]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sample_variance", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
expect_close(sample_variance(x), 1.25, what="sample_variance([1, 2, 3, 4])",
             hint="The plug-in variance divides the sum of squared deviations by n, not n - 1, "
                  "and it is a variance (no square root).")
batch = torch.tensor([[1.0, 3.0], [10.0, 10.0], [-2.0, 4.0]], dtype=torch.float64)
expect_close(sample_variance(batch), torch.tensor([1.0, 0.0, 9.0], dtype=torch.float64),
             what="sample_variance of three data sets (rows)",
             hint="Subtract each row's own mean and reduce over `dim` only.")
expect_close(sample_variance(batch, dim=0), torch.tensor([26.0, 86.0 / 9.0], dtype=torch.float64),
             what="sample_variance(batch, dim=0)")

# %% nbgrader={"grade": true, "grade_id": "test_sample_variance_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("sample_variance", sample_variance)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3: `plugin_variance_bias` (a derivation)
#
# How far off is the plug-in estimator on average? Take $n$ i.i.d. samples $X_1, \dots, X_n$ of **any**
# distribution with mean $\mu$ and variance $\sigma^2$ (not only the Gaussian). Derive
#
# $$\mathbb E\Big[\frac1n\sum_{i=1}^n (X_i - \bar X)^2\Big] \quad\text{as a multiple of } \sigma^2,$$
#
# and from it the **bias** $\mathbb E[\hat\sigma^2_{\text{plug-in}}] - \sigma^2$. All you need is Section 1's
# two facts and Exercise 1's $\text{Var}(\bar X) = \sigma^2/n$. The hints below open one step at a time; try
# each step on paper before opening the next.
#
# <details><summary>Hint 1: where to split</summary>
#
# The deviations are measured from $\bar X$, whose behaviour you know only relative to $\mu$. Write each
# deviation as $X_i - \bar X = (X_i - \mu) - (\bar X - \mu)$ and expand the square inside the sum.
# </details>
#
# <details><summary>Hint 2: the cross term</summary>
#
# The cross term is $-2(\bar X - \mu)\sum_i (X_i - \mu)$, and $\sum_i (X_i - \mu) = n(\bar X - \mu)$. Collect
# the terms: the sum of squared deviations from $\bar X$ is the sum of squared deviations from $\mu$ minus
# $n(\bar X - \mu)^2$.
# </details>
#
# <details><summary>Hint 3: take expectations</summary>
#
# Each $(X_i - \mu)^2$ has expectation $\sigma^2$, and $\mathbb E[(\bar X - \mu)^2] = \text{Var}(\bar X)$. So
# $\mathbb E\big[\sum_i (X_i - \bar X)^2\big] = n\sigma^2 - \sigma^2 = (n-1)\sigma^2$: divide by $n$ and subtract
# $\sigma^2$. (Kaplan §3.3.2 reaches the same factor in eq. (3.3.7) by expanding into $X_i^2$ and $X_iX_j$
# terms; the split at $\mu$ is shorter.)
# </details>
#
# Implement `plugin_variance_bias(sigma2, n)`, the bias you derived, for samples of size $n$ from a
# distribution with variance $\sigma^2$. The arguments may be Python numbers or tensors that broadcast
# against each other; return the same kind (a number for numbers, a tensor of the broadcast shape for
# tensors). For $n = 1$ the plug-in estimate is always 0, which your formula should reproduce.

# %% nbgrader={"grade": false, "grade_id": "plugin_variance_bias", "locked": false, "schema_version": 3, "solution": true}
def plugin_variance_bias(sigma2, n):
    """Bias E[plug-in variance] - sigma2 of the divide-by-n variance for sample size n.

    Args:
        sigma2: true variance, a number or a tensor.
        n: sample size, an int or a tensor broadcastable against sigma2.
    Returns:
        the bias, a number or a tensor of the broadcast shape.
    """
    ### BEGIN SOLUTION
    return -sigma2 / n
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_plugin_variance_bias", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_close(plugin_variance_bias(1.0, 1), -1.0, what="plugin_variance_bias(sigma2=1, n=1)",
             hint="With one sample the plug-in estimate is always 0, so its bias is 0 minus the truth.")
expect_close(plugin_variance_bias(4.0, 8), -0.5, what="plugin_variance_bias(sigma2=4, n=8)",
             hint="The bias is estimate minus truth: negative, since deviations from the fitted mean come out too "
                  "small. Its size is the expected squared distance between the sample mean and the true mean.")
expect_close(plugin_variance_bias(torch.tensor([1.0, 3.0], dtype=torch.float64), torch.tensor([2, 3])),
             torch.tensor([-0.5, -1.0], dtype=torch.float64), what="plugin_variance_bias(tensor([1, 3]), tensor([2, 3]))",
             hint="Retrace Hint 3: the term you subtract is the variance of the sample mean.")

# %% nbgrader={"grade": true, "grade_id": "test_plugin_variance_bias_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("plugin_variance_bias", plugin_variance_bias)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4: `unbiased_variance` (Bessel's correction)
#
# Your derivation says the plug-in estimate falls short by a constant factor, whatever the distribution.
# Rescale it so that its expectation is exactly $\sigma^2$: this is **Bessel's correction**, and the result
# is the estimator torch computes by default (`torch.var(x, dim)`, `correction=1`). Why is the plug-in
# estimate too small? Its deviations are measured from $\bar x$, which was fitted to the very same points:
# $\bar x$ is the number $c$ that makes $\sum_i (x_i - c)^2$ smallest, so the squared deviations from it are
# never larger than those from $\mu$. Put differently, the $n$ deviations from $\bar x$ sum to zero, so
# only $n - 1$ of them are free.
#
# Implement `unbiased_variance(x, dim=-1)`: the corrected estimate, reduced over `dim` (last by default),
# same dtype, computed in two passes like `sample_variance` (the hidden tests include float32 data far
# from zero). It needs $n \ge 2$ (for $n = 1$ it is $0/0$; you need not handle that case).

# %% nbgrader={"grade": false, "grade_id": "unbiased_variance", "locked": false, "schema_version": 3, "solution": true}
def unbiased_variance(x, dim=-1):
    """Bessel-corrected variance (divide by n - 1) of x over dimension dim.

    Args:
        x: tensor of samples, n >= 2 samples along dim.
        dim: the dimension holding the samples (default: the last one).
    Returns:
        tensor of x's shape without dim, same dtype as x.
    """
    ### BEGIN SOLUTION
    n = x.shape[dim]
    deviations = x - x.mean(dim=dim, keepdim=True)
    return (deviations * deviations).sum(dim=dim) / (n - 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_unbiased_variance", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
expect_close(unbiased_variance(x), 5.0 / 3.0, what="unbiased_variance([1, 2, 3, 4])",
             hint="Start from the plug-in estimate (5/4 here) and undo the factor by which Exercise 3 says its "
                  "expectation falls short of sigma^2.")
batch = torch.tensor([[1.0, 3.0], [10.0, 10.0], [-2.0, 4.0]], dtype=torch.float64)
expect_close(unbiased_variance(batch), torch.tensor([2.0, 0.0, 18.0], dtype=torch.float64),
             what="unbiased_variance of three data sets (rows)",
             hint="Reduce over `dim` only; n counts the samples along it.")

# %% nbgrader={"grade": true, "grade_id": "test_unbiased_variance_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("unbiased_variance", unbiased_variance)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5: `bias_variance_mse` by simulation
#
# Bias, variance and MSE are expectations over *data sets*. With a simulator we can draw many data
# sets, apply the estimator to each, and average. Discussion 2 of the worksheets splits the expected
# squared error of a prediction into pieces; for an estimator $\hat\theta$ of a fixed number $\theta$, show
# on paper that
#
# $$\mathbb E[(\hat\theta - \theta)^2] = \text{variance} + \text{bias}^2 ,$$
#
# and then that the **same identity holds exactly** for $T$ simulated estimates
# $\hat\theta_1, \dots, \hat\theta_T$ with their average $\bar\theta$ in place of $\mathbb E\hat\theta$, for
# one of the two ways of averaging the squared deviations over trials (dividing by $T$ or by $T - 1$).
# Which one? The statement below fixes it; the hints tell you why.
#
# <details><summary>Hint 1: add and subtract</summary>
#
# Insert the average estimate: $\hat\theta - \theta = (\hat\theta - \mathbb E\hat\theta) + (\mathbb E\hat\theta - \theta)$.
# The second bracket is a number, not a random variable. Square and take expectations term by term.
# </details>
#
# <details><summary>Hint 2: the cross term</summary>
#
# The cross term is $2(\mathbb E\hat\theta - \theta)\,\mathbb E[\hat\theta - \mathbb E\hat\theta]$, and the expectation of
# a deviation from the expectation is zero. On simulated numbers the analogue is
# $2(\bar\theta - \theta)\cdot\frac1T\sum_t(\hat\theta_t - \bar\theta)$: what is that average?
# </details>
#
# <details><summary>Hint 3: which normalization</summary>
#
# Expanding $\frac1T\sum_t (\hat\theta_t - \theta)^2$ the same way leaves
# $\frac1T\sum_t (\hat\theta_t - \bar\theta)^2 + (\bar\theta - \theta)^2$ and nothing else, to rounding error.
# The first term averages over $T$; with $T - 1$ the identity would be off by a factor $T/(T-1)$.
# </details>
#
# Implement `bias_variance_mse(estimator, sampler, true_value, n_trials, generator)`:
#
# 1. draw all data sets with **one** call `samples = sampler(n_trials, generator)`, shape `(n_trials, n)`
#    (pass the generator on, positionally; do not draw anything else);
# 2. `estimates = estimator(samples)`, shape `(n_trials,)`;
# 3. return the tuple `(bias, variance, mse)` of 0-d tensors: bias $= \bar\theta - \theta$, variance
#    $= \frac1T\sum_t(\hat\theta_t - \bar\theta)^2$ (divide by $T$), MSE $= \frac1T\sum_t(\hat\theta_t - \theta)^2$.
#
# `true_value` is a Python number or a 0-d tensor.

# %% nbgrader={"grade": false, "grade_id": "bias_variance_mse", "locked": false, "schema_version": 3, "solution": true}
def bias_variance_mse(estimator, sampler, true_value, n_trials, generator):
    """Monte Carlo bias, variance (divide by n_trials) and MSE of an estimator.

    Args:
        estimator: maps data sets of shape (T, n) to estimates of shape (T,).
        sampler: sampler(T, generator) returns T data sets, shape (T, n).
        true_value: the true value of the estimated quantity (number or 0-d tensor).
        n_trials: the number T of simulated data sets.
        generator: torch.Generator to hand to the sampler.
    Returns:
        (bias, variance, mse), three 0-d tensors.
    """
    ### BEGIN SOLUTION
    samples = sampler(n_trials, generator)
    estimates = estimator(samples)
    true = torch.as_tensor(true_value, dtype=estimates.dtype, device=estimates.device)
    center = estimates.mean()
    bias = center - true
    variance = ((estimates - center) ** 2).mean()
    mse = ((estimates - true) ** 2).mean()
    return bias, variance, mse
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_bias_variance_mse", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Four fixed "data sets" whose first entries are the estimates 1, 2, 3, 6; the truth is 2.
_fixed = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [6.0, 0.0]], dtype=torch.float64)
_bvm = bias_variance_mse(lambda s: s[..., 0], lambda t, gen: _fixed[:t], 2.0, 4, torch.Generator().manual_seed(0))
expect_true(isinstance(_bvm, (tuple, list)) and len(_bvm) == 3, "bias_variance_mse should return a tuple (bias, variance, mse).")
expect_close(_bvm[0], 1.0, what="bias (estimates 1, 2, 3, 6; truth 2)",
             hint="The bias is estimate minus truth, with the estimates averaged over the trials: positive here, "
                  "since the estimates come out too large on average.")
expect_close(_bvm[1], 3.5, what="variance (estimates 1, 2, 3, 6)",
             hint="Average the squared deviations from the mean of the estimates over n_trials (divide by T, not T - 1).")
expect_close(_bvm[2], 4.5, what="mse (estimates 1, 2, 3, 6; truth 2)",
             hint="The MSE measures the distance to the truth, not to the average estimate, so it contains the "
                  "bias as well as the variance.")
# A random sampler: the same seed must give the same numbers, and the identity must hold.
_draw = lambda t, gen: 1.5 * torch.randn(t, 4, generator=gen, dtype=torch.float64)
_run1 = bias_variance_mse(lambda s: s.mean(dim=-1), _draw, 0.0, 2000, torch.Generator().manual_seed(7))
_run2 = bias_variance_mse(lambda s: s.mean(dim=-1), _draw, 0.0, 2000, torch.Generator().manual_seed(7))
expect_close(_run1, _run2, what="two runs with the same seed",
             hint="Draw the data only through sampler(n_trials, generator), with the generator you are given.")
_run3 = bias_variance_mse(lambda s: s.mean(dim=-1), _draw, 0.0, 2000, torch.Generator().manual_seed(8))
expect_true(float(_run3[0]) != float(_run1[0]),
            "two different seeds gave the same bias: hand the generator you are given to the sampler.")
expect_close(_run1[2], _run1[0] ** 2 + _run1[1], what="mse compared with bias**2 + variance")
expect_true(abs(float(_run1[1]) - 1.5 ** 2 / 4) < 0.1,
            f"the variance of the mean of 4 draws with sigma 1.5 should be near {1.5 ** 2 / 4}, got {float(_run1[1]):.4f}.")

# %% nbgrader={"grade": true, "grade_id": "test_bias_variance_mse_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("bias_variance_mse", bias_variance_mse)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Seeing the bias
#
# Draw 20 000 data sets of $n = 5$ standard normal numbers and estimate the variance (truly 1) from each,
# with both estimators. The two histograms have the same shape, one stretched by $n/(n-1) = 1.25$; the
# vertical lines mark their averages. The plug-in average sits near $1 - 1/5 = 0.8$, the Bessel one near 1.

# %%
with needs_exercises():
    _gen = torch.Generator().manual_seed(0)
    _data = torch.randn(20_000, 5, generator=_gen, dtype=torch.float64)
    _plug, _bessel = sample_variance(_data), unbiased_variance(_data)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    _bins = np.linspace(0, 4, 81)
    ax.hist(_plug.numpy(), bins=_bins, alpha=0.5, density=True, label="plug-in (divide by n)")
    ax.hist(_bessel.numpy(), bins=_bins, alpha=0.5, density=True, label="Bessel (divide by n - 1)")
    ax.axvline(1.0, color="k", lw=2, label="true variance")
    ax.axvline(_plug.mean().item(), color="C0", ls="--", label=f"plug-in average {_plug.mean().item():.3f}")
    ax.axvline(_bessel.mean().item(), color="C1", ls="--", label=f"Bessel average {_bessel.mean().item():.3f}")
    ax.set_xlabel("variance estimate from one data set of n = 5")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    plt.show()
    print(f"predicted plug-in bias {plugin_variance_bias(1.0, 5):+.3f}, simulated {(_plug.mean() - 1).item():+.3f}")

# %% [markdown]
# **Move the slider.** The bias $-\sigma^2/n$ shrinks like $1/n$: both estimators agree for large
# samples, so Bessel's correction matters for small data sets (and for per-batch statistics in small
# batches, which returns in the BatchNorm chapter). The left panel shows both histograms for the chosen
# $n$, the right panel the average estimate against $n$ with the prediction $(n-1)/n$.

# %%
with needs_exercises():
    _ns = np.arange(2, 41)
    _gen = torch.Generator().manual_seed(1)
    _avg_plug = np.array([sample_variance(torch.randn(4000, int(k), generator=_gen, dtype=torch.float64)).mean().item()
                          for k in _ns])


    def show_bias(n=3):
        gen = torch.Generator().manual_seed(2)
        data = torch.randn(10_000, n, generator=gen, dtype=torch.float64)
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
        bins = np.linspace(0, 4, 61)
        left.hist(sample_variance(data).numpy(), bins=bins, alpha=0.5, density=True, label="plug-in")
        left.hist(unbiased_variance(data).numpy(), bins=bins, alpha=0.5, density=True, label="Bessel")
        left.axvline(1.0, color="k", lw=2)
        left.set_title(f"n = {n}: plug-in bias {plugin_variance_bias(1.0, n):+.3f}")
        left.legend()
        right.plot(_ns, _avg_plug, "o", ms=3, label="average plug-in estimate (simulated)")
        right.plot(_ns, (_ns - 1) / _ns, "-", label="(n - 1) / n")
        right.axhline(1.0, color="k", lw=1, label="truth (= average Bessel estimate)")
        right.axvline(n, color="gray", ls=":")
        right.set_xlabel("n")
        right.legend(fontsize=8)
        plt.show()


    interact(show_bias, n=(2, 40, 1));

# %% [markdown]
# ### Unbiased is not the same as best
#
# For Gaussian data Kaplan computes the variance of the Bessel estimator, $2\sigma^4/(n-1)$ (eq. 3.3.14).
# The plug-in estimator is the Bessel one times $(n-1)/n$, so its variance is smaller by the square
# of that factor, $2(n-1)\sigma^4/n^2$, and its MSE is
# $2(n-1)\sigma^4/n^2 + \sigma^4/n^2 = (2n-1)\sigma^4/n^2$, which is *less* than $2\sigma^4/(n-1)$.
# Dividing by $n + 1$ does better still, with MSE $2\sigma^4/(n+1)$. Trading a little bias for less
# variance is the bias–variance trade-off of discussion 2, and regularization (weight decay, early
# stopping) does exactly that for networks. The bars below come from your `bias_variance_mse`; the
# black ticks are the formulas.

# %%
with needs_exercises():
    _n, _T = 5, 20_000
    _sampler = lambda t, gen: torch.randn(t, _n, generator=gen, dtype=torch.float64)
    _estimators = {
        "divide by n - 1\n(Bessel)": lambda s: unbiased_variance(s),
        "divide by n\n(plug-in, MLE)": lambda s: sample_variance(s),
        "divide by n + 1": lambda s: sample_variance(s) * _n / (_n + 1),
    }
    _theory = {  # (bias, variance, mse) for sigma^2 = 1
        "divide by n - 1\n(Bessel)": (0.0, 2 / (_n - 1), 2 / (_n - 1)),
        "divide by n\n(plug-in, MLE)": (-1 / _n, 2 * (_n - 1) / _n**2, (2 * _n - 1) / _n**2),
        "divide by n + 1": (-2 / (_n + 1), 2 * (_n - 1) / (_n + 1) ** 2, 2 / (_n + 1)),
    }
    _rows = {name: [v.item() for v in bias_variance_mse(est, _sampler, 1.0, _T, torch.Generator().manual_seed(3))]
             for name, est in _estimators.items()}
    fig, ax = plt.subplots(figsize=(8, 3.5))
    _width = 0.25
    for j, (label, color) in enumerate([("bias²", "C0"), ("variance", "C1"), ("MSE", "C2")]):
        for i, name in enumerate(_rows):
            bias, var, mse = _rows[name]
            value = [bias**2, var, mse][j]
            tb, tv, tm = _theory[name]
            ax.bar(i + (j - 1) * _width, value, _width, color=color, label=label if i == 0 else None)
            ax.plot([i + (j - 1) * _width - _width / 2, i + (j - 1) * _width + _width / 2], [[tb**2, tv, tm][j]] * 2, "k-")
    ax.set_xticks(range(len(_rows)), list(_rows))
    ax.set_title(f"variance estimators, n = {_n}, {_T} simulated data sets")
    ax.legend()
    plt.show()
    for name, (bias, var, mse) in _rows.items():
        print(f"{name.splitlines()[0]:>16}: bias² + variance - MSE = {bias**2 + var - mse:.1e}")

# %% [markdown]
# ### Concept question 1: `cramer_rao_answer`
#
# Kaplan §3.4.2 proves the **Cramér–Rao bound**: if $\hat\phi$ is an *unbiased* estimator of $\phi(\theta)$,
# then $\text{Var}(\hat\phi) \ge (\partial_\theta\phi)^2 / F$, where $F$ is the Fisher information of the data
# (chapter 02 computes it). For $n$ Gaussian draws with unknown mean, the bound on any unbiased estimator of
# $\sigma^2$ works out to $2\sigma^4/n$. The bars above show the divide-by-$(n+1)$ estimator with MSE
# $2\sigma^4/(n+1)$, *below* $2\sigma^4/n$. What does that show?
#
# - **a.** The simulation is wrong: no estimator can have an MSE below the Cramér–Rao bound.
# - **b.** The bound limits the variance of unbiased estimators only; a biased estimator may trade a little
#   bias for less variance and reach a smaller MSE.
# - **c.** The bound holds only as $n \to \infty$; for $n = 5$ any estimator may fall below it.
# - **d.** The divide-by-$(n+1)$ estimator uses more information than the data contain, which the
#   Fisher information does not count.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "cramer_rao_answer", "locked": false, "schema_version": 3, "solution": true}
def cramer_rao_answer():
    """Your answer to concept question 1: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_cramer_rao_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(cramer_rao_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_cramer_rao_answer_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("cramer_rao_answer", cramer_rao_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Maximum likelihood
#
# Where do estimators come from? Kaplan §3.4 gives the principle used for almost every loss in this
# course: pick the parameters under which the observed data are most probable. For i.i.d. data the
# likelihood is a product, $p_\theta(x_1, \dots, x_n) = \prod_i p_\theta(x_i)$; its logarithm is a sum,
# and flipping the sign and dividing by $n$ turns "maximize the likelihood" into "minimize the mean
# **negative log-likelihood**"
#
# $$L(\theta) = -\frac1n \sum_{i=1}^n \log p_\theta(x_i),$$
#
# an empirical risk with the loss $-\log p_\theta(x)$, i.e. step 3 of the recipe (Kaplan eq. 3.4.3; the
# next chapter shows it is a cross-entropy). For a Gaussian,
# $p_{\mu,\sigma^2}(x) = (2\pi\sigma^2)^{-1/2} \exp\!\big(-(x-\mu)^2/(2\sigma^2)\big)$, so
#
# $$L(\mu, \sigma^2) = \frac1n\sum_{i=1}^n \left[\tfrac12\log(2\pi\sigma^2) + \frac{(x_i-\mu)^2}{2\sigma^2}\right].$$
#
# Note that with $\sigma^2$ held fixed, minimizing $L$ over $\mu$ is minimizing the squared error: the
# squared loss is the Gaussian negative log-likelihood in disguise.

# %% [markdown]
# ### Exercise 6: `gaussian_mle` (a derivation)
#
# Find the parameters $(\hat\mu, \hat\sigma^2)$ that minimize $L(\mu, \sigma^2)$ above, by setting both partial
# derivatives to zero, and implement `gaussian_mle(x, dim=-1)` returning the tuple `(mu_hat, var_hat)` over
# `dim` (last by default): the variance $\sigma^2$, not the standard deviation. Both outputs have the shape
# of `x` without `dim`.
#
# <details><summary>Hint 1: the mean</summary>
#
# Only the second term of $L$ depends on $\mu$. Its derivative is $-\frac{1}{n\sigma^2}\sum_i (x_i - \mu)$; for
# which $\mu$ is it zero, whatever $\sigma^2$ is?
# </details>
#
# <details><summary>Hint 2: the variance as the variable</summary>
#
# Differentiate with respect to $v = \sigma^2$ (not $\sigma$): $\frac{d}{dv}\frac12\log(2\pi v) = \frac{1}{2v}$ and
# $\frac{d}{dv}\frac{a}{2v} = -\frac{a}{2v^2}$. Multiply the equation by $2v^2$ and insert $\hat\mu$ from Hint 1.
# </details>
#
# <details><summary>Hint 3: the result</summary>
#
# $\hat\mu = \bar x$ and $\hat\sigma^2 = \frac1n\sum_i (x_i - \bar x)^2$: one of the estimators you wrote above.
# Which one, and what does that say about the bias of maximum likelihood?
# </details>

# %% nbgrader={"grade": false, "grade_id": "gaussian_mle", "locked": false, "schema_version": 3, "solution": true}
def gaussian_mle(x, dim=-1):
    """Maximum-likelihood mean and variance of a Gaussian fitted along dim.

    Args:
        x: tensor of samples, the n samples along dim.
        dim: the dimension holding the samples (default: the last one).
    Returns:
        (mu_hat, var_hat), each of x's shape without dim.
    """
    ### BEGIN SOLUTION
    mu = x.mean(dim=dim, keepdim=True)
    deviations = x - mu
    var = (deviations * deviations).sum(dim=dim) / x.shape[dim]
    return mu.squeeze(dim), var
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gaussian_mle", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_fit = gaussian_mle(torch.tensor([1.0, 2.0, 3.0, 6.0], dtype=torch.float64))
expect_true(isinstance(_fit, (tuple, list)) and len(_fit) == 2, "gaussian_mle should return a tuple (mu_hat, var_hat).")
expect_close(_fit[0], 3.0, what="mu_hat for [1, 2, 3, 6]")
expect_close(_fit[1], 3.5, what="var_hat for [1, 2, 3, 6]",
             hint="Solve the second equation of Hint 2 with the mean already fitted; the answer is sigma^2, not sigma.")
_fit = gaussian_mle(torch.tensor([[0.0, 4.0], [2.0, 2.0], [1.0, 0.0]], dtype=torch.float64), dim=0)
expect_close(_fit[0], torch.tensor([1.0, 2.0], dtype=torch.float64), what="mu_hat over dim=0")
expect_close(_fit[1], torch.tensor([2.0 / 3.0, 8.0 / 3.0], dtype=torch.float64), what="var_hat over dim=0")

# %% nbgrader={"grade": true, "grade_id": "test_gaussian_mle_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("gaussian_mle", gaussian_mle)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Biased, yet consistent
#
# The maximum-likelihood variance is the **plug-in** estimator, biased by $-\sigma^2/n$ (Exercise 3). Kaplan's
# footnote 6 in §3.4.2 calls maximum likelihood unbiased; this example shows that needs qualifying. Two
# weaker properties do hold here, and they are not the same thing:
#
# - **asymptotically unbiased**: the bias $-\sigma^2/n$ tends to 0 as $n \to \infty$;
# - **consistent**: the estimate itself converges (in probability) to $\sigma^2$: for every $\varepsilon > 0$,
#   $P(|\hat\sigma^2 - \sigma^2| > \varepsilon) \to 0$. Here it holds because the MSE, bias² plus variance,
#   $(2n-1)\sigma^4/n^2$, tends to 0.
#
# A vanishing bias alone does not make an estimator consistent: "the first sample $x_1$" is an unbiased
# estimator of $\mu$ for every $n$, yet it never settles down, since its variance stays $\sigma^2$.

# %% [markdown]
# ### Concept question 2: `consistency_answer`
#
# Which statement about the maximum-likelihood variance $\hat\sigma^2 = \frac1n\sum_i (x_i - \bar x)^2$ is right?
#
# - **a.** It is unbiased for every $n$, because maximum-likelihood estimators are unbiased.
# - **b.** It is not consistent: an estimator that is biased at every $n$ cannot converge to the truth.
# - **c.** It is biased at every finite $n$, yet consistent: its bias and its variance both vanish as
#   $n \to \infty$, so the estimate converges to $\sigma^2$.
# - **d.** It is consistent *because* its bias vanishes as $n \to \infty$; a vanishing bias is what
#   consistency means.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "consistency_answer", "locked": false, "schema_version": 3, "solution": true}
def consistency_answer():
    """Your answer to concept question 2: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_consistency_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(consistency_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_consistency_answer_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("consistency_answer", consistency_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 7: `gaussian_nll`
#
# Implement `gaussian_nll(x, mu, var)`, the **mean** over all elements of
#
# $$\tfrac12\log(2\pi\,\sigma^2) + \frac{(x - \mu)^2}{2\sigma^2},$$
#
# the full negative log-density, *including* the constant $\frac12\log 2\pi$ (torch's
# `F.gaussian_nll_loss` leaves it out unless `full=True`). `mu` and `var` (the variance $\sigma^2 > 0$)
# are numbers or tensors that broadcast against `x`; average over every element of the broadcast shape
# and return a 0-d tensor in `x`'s dtype.

# %% nbgrader={"grade": false, "grade_id": "gaussian_nll", "locked": false, "schema_version": 3, "solution": true}
def gaussian_nll(x, mu, var):
    """Mean negative log-likelihood of x under N(mu, var), constant included.

    Args:
        x: tensor of observations, any shape.
        mu: mean, number or tensor broadcastable against x.
        var: variance (> 0), number or tensor broadcastable against x.
    Returns:
        0-d tensor, the mean over all elements of the broadcast shape.
    """
    ### BEGIN SOLUTION
    mu = torch.as_tensor(mu, dtype=x.dtype, device=x.device)
    var = torch.as_tensor(var, dtype=x.dtype, device=x.device)
    per_point = 0.5 * (math.log(2 * math.pi) + torch.log(var) + (x - mu) ** 2 / var)
    return per_point.mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gaussian_nll", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_close(gaussian_nll(torch.tensor([0.0], dtype=torch.float64), 0.0, 1.0), 0.5 * math.log(2 * math.pi),
             what="gaussian_nll(x=0; mu=0, var=1)",
             hint="Keep the constant: -log N(0; 0, 1) = log(2 pi) / 2, about 0.9189.")
expect_close(gaussian_nll(torch.tensor([1.0, 3.0], dtype=torch.float64), 1.0, 4.0),
             0.5 * math.log(2 * math.pi * 4.0) + 0.25, what="gaussian_nll(x=[1, 3]; mu=1, var=4)",
             hint="Average the per-point cost of the statement over the points; `var` is the variance sigma^2, "
                  "not sigma, and sits inside the logarithm as well as under the square.")
_x = torch.tensor([[0.0, 1.0], [2.0, -1.0]], dtype=torch.float64)
expect_close(gaussian_nll(_x, torch.tensor([0.0, 1.0], dtype=torch.float64), torch.tensor([1.0, 2.0], dtype=torch.float64)),
             0.25 * (2 * 0.5 * math.log(2 * math.pi) + 2 * 0.5 * math.log(4 * math.pi) + 2.0 + 1.0),
             what="gaussian_nll with per-column mu and var", hint="mu and var broadcast against x; average over all 4 entries.")

# %% nbgrader={"grade": true, "grade_id": "test_gaussian_nll_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("gaussian_nll", gaussian_nll)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### The likelihood landscape
#
# The contours show your `gaussian_nll` of 50 draws from $\mathcal N(2, 1.5^2)$ as a function of $\mu$ and
# $\sigma^2$. The cross marks your `gaussian_mle`, which sits at the bottom; autograd confirms that the
# gradient of the loss vanishes there. The dot is the true parameter: with 50 points the two differ,
# and they differ less the more data there are.

# %%
with needs_exercises():
    _gen = torch.Generator().manual_seed(4)
    _obs = 2.0 + 1.5 * torch.randn(50, generator=_gen, dtype=torch.float64)
    _mu_hat, _var_hat = gaussian_mle(_obs)
    _mus = np.linspace(0.8, 3.2, 60)
    _vars = np.linspace(0.8, 5.0, 60)
    _grid = np.array([[gaussian_nll(_obs, float(m), float(v)).item() for m in _mus] for v in _vars])
    fig, ax = plt.subplots(figsize=(6, 4))
    _cs = ax.contour(_mus, _vars, _grid, levels=25, cmap="viridis")
    ax.clabel(_cs, fontsize=6)
    ax.plot(_mu_hat.item(), _var_hat.item(), "rx", ms=10, mew=2, label="maximum likelihood")
    ax.plot(2.0, 1.5**2, "ko", label="true parameters")
    ax.set_xlabel(r"$\mu$")
    ax.set_ylabel(r"$\sigma^2$")
    ax.legend()
    plt.show()
    _params = torch.stack([_mu_hat, _var_hat]).clone().requires_grad_(True)
    gaussian_nll(_obs, _params[0], _params[1]).backward()
    print("gradient of the NLL at the MLE:", _params.grad.numpy())

# %% [markdown]
# ## 3. The central limit theorem
#
# Kaplan §3.2 proves the theorem with *cumulants* $\kappa_m$, the coefficients of the logarithm of the
# characteristic function: $\kappa_1$ is the mean, $\kappa_2$ the variance, $\kappa_3/\kappa_2^{3/2}$ the
# skewness, and a Gaussian is the distribution whose cumulants beyond the second are all zero.
# Cumulants of *independent* variables add, so the sum $S = X_1 + \dots + X_n$ has $\kappa_m(S) = n\,\kappa_m$.
# Standardize the sample mean:
#
# $$z = \frac{\bar X - \mu}{\sigma/\sqrt n} = \frac{S - n\mu}{\sigma\sqrt n}, \qquad
#   \kappa_1(z) = 0,\quad \kappa_2(z) = 1,\quad \kappa_m(z) = \frac{n\,\kappa_m}{\sigma^m n^{m/2}} = n^{1-m/2}\,\frac{\kappa_m}{\sigma^m}\ \ (m \ge 3).$$
#
# Every cumulant beyond the second dies as $n$ grows (the skewness like $1/\sqrt n$, the excess kurtosis
# like $1/n$), so $z$ approaches a standard normal whatever the distribution of the $X_i$, as long as
# its variance is finite. The scale matters: $\bar X$ spreads by $\sigma/\sqrt n$, not $\sigma$.
#
# ### Exercise 8: `standardized_means`
#
# Implement `standardized_means(samples, mu, sigma, dim=-1)`: given draws of a distribution with true
# mean `mu` and true standard deviation `sigma`, with $n$ draws per data set along `dim` (last by default),
# return $z = (\bar x - \mu)\sqrt n / \sigma$ for each data set (shape of `samples` without `dim`).
# `mu` and `sigma` are numbers or tensors that broadcast against that output shape.

# %% nbgrader={"grade": false, "grade_id": "standardized_means", "locked": false, "schema_version": 3, "solution": true}
def standardized_means(samples, mu, sigma, dim=-1):
    """Standardized sample means z = (mean - mu) / (sigma / sqrt(n)) over dim.

    Args:
        samples: tensor of draws, n draws per data set along dim.
        mu: true mean of the distribution (number or broadcastable tensor).
        sigma: true standard deviation (number or broadcastable tensor).
        dim: the dimension holding the draws (default: the last one).
    Returns:
        tensor of samples' shape without dim.
    """
    ### BEGIN SOLUTION
    n = samples.shape[dim]
    return (samples.mean(dim=dim) - mu) * math.sqrt(n) / sigma
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_standardized_means", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_draws = torch.tensor([[2.0, 4.0, 2.0, 4.0], [0.0, 2.0, 1.0, 1.0]], dtype=torch.float64)
expect_close(standardized_means(_draws, 1.0, 2.0), torch.tensor([2.0, 0.0], dtype=torch.float64),
             what="standardized_means (means 3 and 1, mu = 1, sigma = 2, n = 4)",
             hint="Standardize with the spread of the mean of n draws (Exercise 1), not the spread of one draw.")
expect_close(standardized_means(_draws, 1.0, 2.0, dim=0), torch.tensor([0.0, 2.0, 0.5, 1.5], dtype=torch.float64) / math.sqrt(2),
             what="standardized_means(..., dim=0) (n = 2)", hint="n counts the draws along `dim`.")

# %% nbgrader={"grade": true, "grade_id": "test_standardized_means_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("standardized_means", standardized_means)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Watching the bell appear
#
# The draws come from a **log-normal** distribution, $X = e^{sZ}$ with $Z$ standard normal: always
# positive, with a long right tail. Its mean is $e^{s^2/2}$, its variance $(e^{s^2}-1)e^{s^2}$ and its
# skewness $(e^{s^2}+2)\sqrt{e^{s^2}-1}$, so the slider $s$ sets how lopsided it is. Each histogram holds
# 20 000 standardized means; the curve is the standard normal density. With strong skew, watch how large
# $n$ must be before the left edge fills in, and compare the measured skewness of $z$ with the
# prediction $\text{skew}(X)/\sqrt n$. (For large $s$ the measured value falls short: the skewness is
# dominated by rare huge draws, which 20 000 data sets seldom contain, so its estimate is itself
# biased low and noisy.)

# %%
def show_clt(n=1, s=0.5):
    gen = torch.Generator().manual_seed(5)
    draws = torch.exp(s * torch.randn(20_000, n, generator=gen, dtype=torch.float64))
    mean, std = math.exp(s**2 / 2), math.sqrt((math.exp(s**2) - 1) * math.exp(s**2))
    skew = (math.exp(s**2) + 2) * math.sqrt(math.exp(s**2) - 1)
    z = standardized_means(draws, mean, std)
    measured = ((z - z.mean()) ** 3).mean() / z.std() ** 3
    grid = np.linspace(-4, 6, 400)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist(z.numpy(), bins=np.linspace(-4, 6, 101), density=True, alpha=0.6, label="standardized means")
    ax.plot(grid, np.exp(-grid**2 / 2) / math.sqrt(2 * math.pi), "k-", label="standard normal")
    ax.set_title(f"n = {n}, skew of X = {skew:.2f}: skew of z measured {measured.item():.2f}, "
                 f"predicted {skew / math.sqrt(n):.2f}", fontsize=9)
    ax.set_xlabel("z")
    ax.legend()
    plt.show()


interact(show_clt, n=(1, 100, 1), s=(0.1, 1.2, 0.1));

# %% [markdown]
# ## 4. The risk of a loss
#
# Discussion 1 defines the **risk** as the expected loss, $R = \mathbb E[L]$, and the **empirical risk**
# as its average over the data, $\hat R = \frac1n\sum_i L(\hat y_i, y_i)$, the quantity training
# minimizes. Which number a model learns to predict depends on the loss. Take the simplest model, a
# constant prediction $c$ for a random target $Y$:
#
# - **Squared loss.** $\mathbb E[(Y - c)^2] = \text{Var}(Y) + (\mathbb E Y - c)^2$ (the same split as in
#   Exercise 5), which is smallest at $c = \mathbb E[Y]$: the **mean**.
# - **Absolute loss.** $\frac{d}{dc}\mathbb E|Y - c| = P(Y < c) - P(Y > c)$, which is zero where half the
#   mass lies on each side: the **median**. On a sample, $\hat R(c) = \frac1n\sum_i |y_i - c|$ is
#   piecewise linear with slope (number of points below $c$ minus number above)$/n$; for odd $n$ its
#   minimum is the middle point, for even $n$ every $c$ between the two middle points.
#
# A network trained with squared error learns conditional means; one trained with absolute error
# learns conditional medians, which outliers move much less. (Kaplan §3.3.4 makes a related point:
# because the squared loss targets the mean, a denoiser can be trained on noisy targets alone.)
#
# ### Exercise 9: `empirical_risk`
#
# Implement `empirical_risk(predictions, targets, loss="squared", dim=-1)`: the losses
# $(y - \hat y)^2$ for `loss="squared"` (no factor $\frac12$) or $|y - \hat y|$ for `loss="absolute"`,
# averaged over dimension `dim` (last by default) of the broadcast shape of `predictions` and `targets`.
# Any other `loss` raises `ValueError`. Broadcasting makes the risk curve of many constants a single
# call: `empirical_risk(c[:, None], y[None, :])` returns one risk per candidate in `c`.

# %% nbgrader={"grade": false, "grade_id": "empirical_risk", "locked": false, "schema_version": 3, "solution": true}
def empirical_risk(predictions, targets, loss="squared", dim=-1):
    """Mean squared or absolute error over dim of the broadcast shape.

    Args:
        predictions: tensor of predictions, broadcastable against targets.
        targets: tensor of targets.
        loss: "squared" or "absolute"; anything else raises ValueError.
        dim: the dimension of the broadcast shape holding the examples (default: the last one).
    Returns:
        tensor of the broadcast shape without dim.
    """
    ### BEGIN SOLUTION
    errors = targets - predictions
    if loss == "squared":
        return (errors * errors).mean(dim=dim)
    if loss == "absolute":
        return errors.abs().mean(dim=dim)
    raise ValueError(f"loss must be 'squared' or 'absolute', got {loss!r}")
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_empirical_risk", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_y = torch.tensor([0.0, 1.0, 5.0], dtype=torch.float64)
_c = torch.tensor([[1.0], [2.0]], dtype=torch.float64)
expect_close(empirical_risk(_c, _y, "squared"), torch.tensor([17.0 / 3.0, 14.0 / 3.0], dtype=torch.float64),
             what="squared risk of the constants 1 and 2 on y = [0, 1, 5]",
             hint="Average (y - prediction)^2 over the examples (divide by n, no factor 1/2).")
expect_close(empirical_risk(_c, _y, "absolute"), torch.tensor([5.0 / 3.0, 2.0], dtype=torch.float64),
             what="absolute risk of the constants 1 and 2 on y = [0, 1, 5]",
             hint="Average |y - prediction| over the examples; the absolute value is essential.")
expect_close(empirical_risk(_y[:, None], torch.stack([_y, _y + 2.0], dim=1), "absolute", dim=0),
             torch.tensor([0.0, 2.0], dtype=torch.float64), what="absolute risk with dim=0")
expect_raises(ValueError, empirical_risk, _c, _y, "cubic", what="empirical_risk(..., loss='cubic')")

# %% nbgrader={"grade": true, "grade_id": "test_empirical_risk_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("empirical_risk", empirical_risk)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Mean versus median
#
# Both risk curves of 41 exponential draws, with their minimizers. The slider moves one data point far to
# the right: the minimizer of the squared risk (the mean) follows it, the minimizer of the absolute risk
# (the median) does not move at all.

# %%
_gen = torch.Generator().manual_seed(6)
_base = -torch.log(torch.rand(41, generator=_gen, dtype=torch.float64))


def show_risks(outlier=0.0):
    y = _base.clone()
    y[0] = y[0] + outlier
    c = torch.linspace(-0.5, 4.0, 451, dtype=torch.float64)
    sq = empirical_risk(c[:, None], y[None, :], "squared")
    ab = empirical_risk(c[:, None], y[None, :], "absolute")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, risk, name, stat, value in [(axes[0], sq, "squared", "mean", y.mean()),
                                        (axes[1], ab, "absolute", "median", y.median())]:
        ax.plot(c.numpy(), risk.numpy())
        ax.axvline(c[risk.argmin()].item(), color="C1", lw=3, alpha=0.5, label="minimizer on the grid")
        ax.axvline(value.item(), color="k", ls="--", label=f"{stat} = {value.item():.3f}")
        ax.set_title(f"{name} loss")
        ax.set_xlabel("constant prediction c")
        ax.legend(fontsize=8)
    plt.show()


interact(show_risks, outlier=(0.0, 40.0, 2.0));

# %% [markdown]
# ### Concept question 3: `robust_loss_answer`
#
# A table of 200 house prices contains one price typed with three extra zeros. You fit a single constant
# prediction to the prices by minimizing the empirical risk. Which statement is right?
#
# - **a.** The absolute loss's minimizer, a median, moves at most to a neighbouring data point; the squared
#   loss's minimizer, the mean, moves by the size of the typing error divided by 200, which can be huge.
# - **b.** Both minimizers move about equally, since the corrupted point carries the same weight $1/200$ in
#   either empirical risk.
# - **c.** The squared loss is the safer choice: it is the Gaussian negative log-likelihood, and maximum
#   likelihood gives the best estimator whatever the data look like.
# - **d.** Neither minimizer moves for large data sets, because the mean and the median of any distribution
#   agree as $n \to \infty$.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "robust_loss_answer", "locked": false, "schema_version": 3, "solution": true}
def robust_loss_answer():
    """Your answer to concept question 3: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "a"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_robust_loss_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(robust_loss_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_robust_loss_answer_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("robust_loss_answer", robust_loss_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# Kaplan §3.4.3 reads the same story from the other side: each loss is the negative log-likelihood of a
# noise model. The squared loss assumes Gaussian errors, whose thin tails make a large error nearly
# impossible, so one outlier drags the fit a long way; the absolute loss assumes Laplace errors
# ($p \propto e^{-|y - \hat y|}$), whose heavier tails take an outlier in stride.
#
# ### The Huber loss: the best of both
#
# The absolute loss is robust but has a kink at zero, where its minimizer jumps between data points; the
# squared loss is smooth but not robust. The **Huber loss** $\rho_\delta(r)$ of a residual $r = y - \hat y$ takes
# the squared loss's $\frac12 r^2$ for $|r| \le \delta$ and a **linear** function of $|r|$ for $|r| > \delta$, the
# line chosen so that the two pieces meet at $|r| = \delta$ with the **same value and the same slope** (so that the
# loss is smooth, and gradient descent sees no jump). **Your derivation:** the linear piece, then the
# derivative $\psi_\delta(r) = \rho_\delta'(r)$ on both sides of zero.
#
# <details><summary>Hint 1: two conditions for a line</summary>
#
# Write the tail as $a|r| + b$. Matching the slope of $\frac12 r^2$ at $r = \delta$ fixes $a$; matching the value
# $\frac12\delta^2$ there then fixes $b$.
# </details>
#
# <details><summary>Hint 2: the linear piece</summary>
#
# $a = \delta$ and $\delta\cdot\delta + b = \frac12\delta^2$, so $b = -\frac12\delta^2$: the tail is
# $\delta\,(|r| - \frac12\delta)$, and the loss is even in $r$.
# </details>
#
# <details><summary>Hint 3: the derivative</summary>
#
# Inside, $\frac{d}{dr}\frac12 r^2 = r$. Outside, $\frac{d}{dr}|r| = \mathrm{sign}(r)$, so the derivative is a
# constant of size $\delta$ that points the way $r$ does (negative residuals pull the other way). At
# $|r| = \delta$ both formulas agree, which was the point.
# </details>
#
# ### Exercise 10: `huber_loss`
# `huber_loss(residuals, delta=1.0)`: the Huber loss of each entry of `residuals` (any shape), for a number
# `delta` $> 0$; same shape and dtype as `residuals`.

# %% nbgrader={"grade": false, "grade_id": "huber_loss", "locked": false, "schema_version": 3, "solution": true}
def huber_loss(residuals, delta=1.0):
    """Elementwise Huber loss: 1/2 r^2 near zero, linear beyond delta, continuous with a continuous slope.

    Args:
        residuals: tensor of any shape; delta: the threshold (a number > 0).
    Returns:
        tensor of the shape and dtype of residuals.
    """
    ### BEGIN SOLUTION
    size = residuals.abs()
    return torch.where(size <= delta, 0.5 * residuals * residuals, delta * (size - 0.5 * delta))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_huber_loss", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_r = torch.tensor([0.5, -0.5, 2.0, -2.0], dtype=torch.float64)
expect_close(huber_loss(_r, 1.0)[:2], torch.tensor([0.125, 0.125], dtype=torch.float64),
             what="huber_loss inside the threshold (r = 0.5 and -0.5, delta = 1)",
             hint="Near zero the Huber loss is the squared loss with its factor 1/2.")
_below = huber_loss(torch.tensor([1.0 - 1e-9], dtype=torch.float64), 1.0)
_above = huber_loss(torch.tensor([1.0 + 1e-9], dtype=torch.float64), 1.0)
expect_close(_above, _below, what="huber_loss just above and just below r = delta", atol=1e-8,
             hint="The linear piece must start where the quadratic piece ends: the loss has no jump at delta.")
expect_close(huber_loss(_r, 1.0)[2:], huber_loss(-_r, 1.0)[2:], what="huber_loss of r = 2 and r = -2",
             hint="The loss depends on the size of the residual only.")

# %% nbgrader={"grade": true, "grade_id": "test_huber_loss_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other thresholds, shapes and dtypes, huge residuals) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("huber_loss", huber_loss)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 11: `huber_grad`
# `huber_grad(residuals, delta=1.0)`: the derivative $\psi_\delta(r) = \rho_\delta'(r)$ **in the residual** $r$,
# entry by entry; same shape and dtype as `residuals`. (The derivative in the prediction $\hat y$ is its
# negative.)

# %% nbgrader={"grade": false, "grade_id": "huber_grad", "locked": false, "schema_version": 3, "solution": true}
def huber_grad(residuals, delta=1.0):
    """Elementwise derivative of the Huber loss in the residual.

    Args:
        residuals: tensor of any shape; delta: the threshold (a number > 0).
    Returns:
        tensor of the shape and dtype of residuals.
    """
    ### BEGIN SOLUTION
    return residuals.clamp(-delta, delta)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_huber_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_r = torch.tensor([0.25, -3.0, 3.0], dtype=torch.float64)
expect_close(huber_grad(_r, 1.0)[0], torch.tensor(0.25, dtype=torch.float64), what="huber_grad at r = 0.25, delta = 1",
             hint="Inside the threshold the loss is the squared loss with its 1/2: what is its derivative?")
expect_close(huber_grad(_r, 1.0)[1:], torch.tensor([-1.0, 1.0], dtype=torch.float64),
             what="huber_grad at r = -3 and r = 3, delta = 1",
             hint="In the tails the slope has the size of the threshold and the sign of the residual.")

# %% nbgrader={"grade": true, "grade_id": "test_huber_grad_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other thresholds, shapes and dtypes) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("huber_grad", huber_grad)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Mean, median and Huber on data with outliers
#
# The Huber estimate of a location is the constant $c$ that minimizes $\sum_i \rho_\delta(y_i - c)$: the $c$ where
# the forces $\psi_\delta(y_i - c)$ balance. Since no force exceeds $\delta$ in size, each outlier pulls with at most
# $\delta$, however far away it sits. The demo finds $c$ with the steps $c \leftarrow c + \frac1n\sum_i
# \psi_\delta(y_i - c)$ (gradient descent with step 1, which never overshoots because $\psi_\delta$'s slope is at
# most 1), starting from the median, on 41 draws of which `n_outliers` are moved far to the right.

# %%
_gen = torch.Generator().manual_seed(7)
_clean = torch.randn(41, generator=_gen, dtype=torch.float64)


def huber_location(y, delta, steps=200):
    c = y.median()
    for _ in range(steps):
        c = c + huber_grad(y - c, delta).mean()
    return c


def show_locations(n_outliers=4, delta=1.0):
    y = _clean.clone()
    y[:n_outliers] = y[:n_outliers] + 25.0
    estimates = {"mean": y.mean().item(), "median": y.median().item(),
                 f"Huber (delta = {delta:.1f})": huber_location(y, delta).item()}
    plt.figure(figsize=(9, 2.8))
    plt.plot(y.numpy(), torch.zeros(41).numpy(), "|", ms=25, color="grey")
    for (name, value), color in zip(estimates.items(), ("C0", "C1", "C2")):
        plt.axvline(value, color=color, lw=2, label=f"{name}: {value:.3f}")
    plt.yticks([])
    plt.xlabel("data (grey ticks); the true location is 0")
    plt.title(f"{n_outliers} of 41 points moved by +25")
    plt.legend(fontsize=8, loc="upper center")
    plt.show()


interact(show_locations, n_outliers=(0, 12, 1), delta=(0.2, 3.0, 0.2));

# %% [markdown]
# ## 5. Many means at once: a prior, MAP, and shrinkage
#
# Suppose you estimate not one mean but many: the average test score of $K$ schools from $n$ pupils each,
# the true click rate of $K$ ads, the mean of each of $K$ features. Group $k$ holds $n$ measurements
#
# $$x_{kj} = \theta_k + \varepsilon_{kj}, \qquad \varepsilon_{kj} \sim \mathcal N(0, \sigma^2)\ \text{i.i.d.},\quad j = 1, \dots, n,$$
#
# with the same noise level $\sigma$ in every group. The plain estimate of $\theta_k$ is the group mean
# $\bar x_k$: unbiased, the maximum-likelihood estimate, with error variance $s^2 = \sigma^2/n$ (Exercise 1).
# Can you do better for all $K$ groups at once? Stein showed in 1956 that you can, as soon as $K \ge 3$,
# by doing something that looks wrong: **pull every group mean towards the others**.
#
# Kaplan §3.4.1 gives the reason a Bayesian would expect this. With a prior $p(\theta)$ over the parameters,
# the most probable parameters after seeing the data maximize the log-posterior, log-prior plus
# log-likelihood (his eq. 3.4.7): the **maximum a posteriori** (MAP) estimate. A uniform prior gives back
# maximum likelihood. But if the true means themselves scatter around a common value,
# $\theta_k \sim \mathcal N(m, \tau^2)$, the prior pulls each estimate towards $m$, and more strongly the
# noisier the group mean is compared with the spread of the $\theta_k$: bias traded for variance, as in
# Section 1. The catch is that nobody tells you $m$, $\tau$ or $\sigma$. With many groups, the data do:
# estimating the prior from the data is called *empirical Bayes*, and it gives the James–Stein estimator.
#
# ### One mean, one prior
#
# Start with a single mean. You observe $x_1, \dots, x_n \sim \mathcal N(\mu, \sigma^2)$ i.i.d. with $\sigma^2$
# known, and before seeing them you believed $\mu \sim \mathcal N(m, \tau^2)$. The MAP estimate maximizes
# $\log p(\mu) + \sum_i \log p(x_i \mid \mu)$ over $\mu$. **Your derivation:** find it in closed form, and read it
# as a weighted average of two estimates of $\mu$.
#
# <details><summary>Hint 1: the log-posterior</summary>
#
# Up to terms without $\mu$, it is $-\frac{(\mu - m)^2}{2\tau^2} - \sum_i \frac{(x_i - \mu)^2}{2\sigma^2}$. Both
# parts are quadratics in $\mu$: so is their sum, and its maximum is where the derivative vanishes.
# </details>
#
# <details><summary>Hint 2: set the derivative to zero</summary>
#
# $\frac{m - \mu}{\tau^2} + \sum_i \frac{x_i - \mu}{\sigma^2} = 0$. The sum is $\frac{n(\bar x - \mu)}{\sigma^2}$: all
# the data say about $\mu$ passes through the sample mean. Collect the terms in $\mu$.
# </details>
#
# <details><summary>Hint 3: precisions</summary>
#
# Call $1/\tau^2$ the prior's **precision** and $n/\sigma^2$ the data's (the precision of $\bar x$). The
# estimate is the average of $m$ and $\bar x$ weighted by their precisions:
# $\hat\mu_{\text{MAP}} = \dfrac{(n/\sigma^2)\,\bar x + (1/\tau^2)\,m}{n/\sigma^2 + 1/\tau^2}$. Check the limits: a
# flat prior ($\tau^2 \to \infty$) gives maximum likelihood, $\bar x$; much data ($n \to \infty$) too; a certain
# prior ($\tau^2 \to 0$) gives $m$.
# </details>
#
# ### Exercise 12: `gaussian_map_mean` (a derivation)
# `gaussian_map_mean(x, noise_var, prior_mean, prior_var, dim=-1)`: `x` holds the $n$ samples along `dim`;
# `noise_var` $= \sigma^2$, `prior_mean` $= m$ and `prior_var` $= \tau^2 > 0$ are numbers or tensors that
# broadcast against the output (one prior per data set of a batch). Return the MAP estimate of $\mu$ for each
# data set: the shape of `x` without `dim`, dtype of `x`.

# %% nbgrader={"grade": false, "grade_id": "gaussian_map_mean", "locked": false, "schema_version": 3, "solution": true}
def gaussian_map_mean(x, noise_var, prior_mean, prior_var, dim=-1):
    """MAP estimate of the mean of Gaussian samples under the Gaussian prior N(prior_mean, prior_var).

    Args:
        x: samples, n of them along dim; noise_var, prior_mean, prior_var: numbers or broadcastable tensors.
        dim: the dimension holding the samples (default: the last one).
    Returns:
        tensor of the shape of x without dim, dtype of x.
    """
    ### BEGIN SOLUTION
    n = x.shape[dim]
    data_precision = n / noise_var
    prior_precision = 1.0 / prior_var
    estimate = (data_precision * x.mean(dim=dim) + prior_precision * prior_mean) / (data_precision + prior_precision)
    return estimate.to(x.dtype)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gaussian_map_mean", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_x = torch.tensor([2.0, 4.0, 6.0, 8.0], dtype=torch.float64)
expect_close(gaussian_map_mean(_x, 4.0, 1.0, 1.0), torch.tensor(3.0, dtype=torch.float64),
             what="MAP with 4 samples (mean 5), sigma^2 = 4, prior N(1, 1)",
             hint="Here the data's precision and the prior's are equal: the estimate is halfway between the sample "
                  "mean and the prior mean. Which precision does a mean of n samples have?")
expect_close(gaussian_map_mean(_x, 4.0, 1.0, 1e12), torch.tensor(5.0, dtype=torch.float64),
             what="MAP under an almost flat prior", hint="A flat prior adds no information: maximum likelihood.")
expect_shape(gaussian_map_mean(torch.zeros(3, 5, dtype=torch.float64), 1.0, 0.0, 1.0), (3,),
             what="MAP of a batch of 3 data sets of 5 samples")

# %% nbgrader={"grade": true, "grade_id": "test_gaussian_map_mean_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other priors and noise levels, per-row priors, float32, dim) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("gaussian_map_mean", gaussian_map_mean)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# Move the prior's width and the number of samples: the MAP estimate slides from the prior mean to the sample
# mean as the data's precision overtakes the prior's.

# %%
_gen = torch.Generator().manual_seed(8)
_draws = 3.0 + 2.0 * torch.randn(200, generator=_gen, dtype=torch.float64)


def show_map(n=5, prior_sd=0.5):
    x = _draws[:n]
    estimate = gaussian_map_mean(x, 4.0, 0.0, prior_sd ** 2).item()
    plt.figure(figsize=(8, 2.8))
    plt.plot(x.numpy(), torch.zeros(n).numpy(), "|", ms=20, color="grey")
    plt.axvline(0.0, color="C0", lw=2, label="prior mean m = 0")
    plt.axvline(x.mean().item(), color="C1", lw=2, label=f"sample mean = {x.mean().item():.3f}")
    plt.axvline(estimate, color="k", ls="--", label=f"MAP = {estimate:.3f}")
    plt.yticks([])
    plt.title(f"n = {n}, sigma = 2, prior sd tau = {prior_sd:.2f}: data precision {n / 4.0:.2f}, "
              f"prior precision {1 / prior_sd ** 2:.2f}")
    plt.legend(fontsize=8)
    plt.show()


interact(show_map, n=(1, 200, 1), prior_sd=(0.05, 3.0, 0.05));

# %% [markdown]
# ### Many groups
#
# Back to $K$ groups. Each group mean $\bar x_k$ is one draw around $\theta_k$ with noise variance $s^2$, and the
# prior $\theta_k \sim \mathcal N(m, \tau^2)$ makes each group's MAP estimate your `gaussian_map_mean` with a single
# "sample" $\bar x_k$. What is left is to estimate $m$, $\tau^2$ and $s^2$ from the data.
#
# ### Exercise 13 (make it work): `shrink_group_means`
#
# Implement `shrink_group_means(x)`: given measurements `x` of shape `(..., K, n)` ($K \ge 4$ groups of
# $n \ge 2$ measurements; every index of the leading dimensions is a separate problem with its own $m$,
# $\tau$, $\sigma$), return estimates of the $K$ true means, shape `(..., K)`, dtype of `x`. Use your
# estimators from this chapter; no randomness is needed.
#
# **Target.** The grader draws three kinds of problems, with $\tau^2/s^2 = 0.1$, $1$ and $9$ (little,
# some and much spread between the true means), 40 problems of each kind, every problem with its own grand
# mean away from 0 and $K = 100$ groups $\times$ $n = 10$ measurements. It keeps the true means and measures your mean squared error
# against them. For each kind, your error must close at least **half the gap** between the plain group
# means and the *ideal* shrinkage (the MAP estimate with the true $m$, $\tau$ and $\sigma$ plugged in, which
# no one can compute from data alone). The reference closes more than 90 % of the gap on each kind. A
# single fixed shrinkage factor cannot pass all three kinds: the amount of shrinkage must come from the data.
#
# <details><summary>Hint 1: the MAP estimate for one group</summary>
#
# The group mean is all the data say about $\theta_k$: $\bar x_k \mid \theta_k \sim \mathcal N(\theta_k, s^2)$. That
# is Exercise 12 with one sample of noise variance $s^2$: a precision-weighted average of $\bar x_k$ and $m$.
# </details>
#
# <details><summary>Hint 2: shrinkage</summary>
#
# Rewrite that average as $m + c\,(\bar x_k - m)$ with a factor $0 \le c \le 1$. Find $c$ in terms of $\tau^2$ and
# $s^2$. Check the limits: no noise ($s^2 \to 0$) keeps $\bar x_k$; no spread ($\tau^2 \to 0$) gives $m$ to every
# group.
# </details>
#
# <details><summary>Hint 3: estimating the prior from the data</summary>
#
# Three unknowns, three estimates. $m$: the average of the group means. $\sigma^2$: every group gives an
# unbiased estimate from its own $n$ points; average them over the groups, and remember that the noise of a
# *group mean* is $\sigma^2/n$. $\tau^2 + s^2$: the group means scatter around $m$ by the spread of the true
# means plus their own noise (variances of independent parts add), so the variance of the $K$ group means
# estimates it.
# </details>
#
# <details><summary>Hint 4: the factor</summary>
#
# $c = \tau^2/(\tau^2 + s^2) = 1 - s^2/(\tau^2 + s^2)$: one minus the ratio of your two variance estimates,
# per problem. With little spread that ratio can exceed 1 by chance; then no shrinkage factor below 0 makes
# sense, so clamp $c$ at 0.
# </details>

# %% nbgrader={"grade": false, "grade_id": "shrink_group_means", "locked": false, "schema_version": 3, "solution": true}
def shrink_group_means(x):
    """Estimates of K true group means from n noisy measurements each, shrunk towards their common mean.

    Args:
        x: measurements, shape (..., K, n), K >= 4 groups, n >= 2; each leading index is its own problem.
    Returns:
        tensor of shape (..., K), dtype of x.
    """
    ### BEGIN SOLUTION
    n = x.shape[-1]
    means = sample_mean(x, dim=-1)
    noise = unbiased_variance(x, dim=-1).mean(dim=-1, keepdim=True) / n
    spread = unbiased_variance(means, dim=-1).unsqueeze(-1)
    factor = (1 - noise / spread).clamp(min=0)
    grand = means.mean(dim=-1, keepdim=True)
    return grand + factor * (means - grand)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_shrink_group_means", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_g = torch.Generator().manual_seed(10)
_theta = 4.0 + torch.randn(3, 60, generator=_g, dtype=torch.float64)
_x = _theta[..., None] + 3.0 * torch.randn(3, 60, 9, generator=_g, dtype=torch.float64)
_est = shrink_group_means(_x)
expect_shape(_est, (3, 60), what="shrink_group_means of 3 problems of 60 groups x 9 measurements")
expect_true(_est.dtype == torch.float64 and shrink_group_means(_x.float()).dtype == torch.float32,
            "shrink_group_means should return the dtype of its input.")
expect_close(shrink_group_means(_x[1]), _est[1], what="problem 1 on its own against problem 1 in the batch",
             hint="Each leading index is a separate problem: estimate the grand mean and both variances per "
                  "problem, over the groups of that problem only.")
expect_close(shrink_group_means(_x + 100.0), _est + 100.0, what="estimates after adding 100 to every measurement",
             hint="Shifting all the data shifts the truth: shrink towards the data's own grand mean, not towards 0.")
_mse, _plain = ((_est - _theta) ** 2).mean().item(), ((_x.mean(-1) - _theta) ** 2).mean().item()
expect_true(_mse < 0.8 * _plain,
            f"mean squared error {_mse:.4f} against the true means, not clearly below the plain group means' "
            f"{_plain:.4f} (here the ideal shrinkage gets about half of it).",
            hint="Estimate how noisy one group mean is and how far the group means spread; shrink by their ratio.")

# %% nbgrader={"grade": true, "grade_id": "test_shrink_group_means_2", "locked": true, "points": 6, "schema_version": 3, "solution": false}
# Hidden tests (three kinds of problems, true means kept by the grader) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("shrink_group_means", shrink_group_means)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### How much to shrink
#
# One problem of 100 groups, its true means known to this demo. The curve is the mean squared error of
# $m + c\,(\bar x_k - m)$ for every fixed factor $c$ (with $m$ the grand mean of the data); $c = 1$ is the plain
# group means. The dashed line is the ideal factor $\tau^2/(\tau^2 + s^2)$, the dotted line your estimator's
# error. Move the spread $\tau$ of the true means: the best factor moves, and your estimator follows it
# without being told $\tau$.

# %%
with needs_exercises():
    def show_shrinkage(tau=1.0):
        gen = torch.Generator().manual_seed(11)
        sigma, n, K = 3.0, 9, 100
        theta = 2.0 + tau * torch.randn(K, generator=gen, dtype=torch.float64)
        x = theta[:, None] + sigma * torch.randn(K, n, generator=gen, dtype=torch.float64)
        means, grand = x.mean(-1), x.mean()
        factors = torch.linspace(0, 1, 101, dtype=torch.float64)
        curve = ((grand + factors[:, None] * (means - grand) - theta) ** 2).mean(-1)
        mine = ((shrink_group_means(x) - theta) ** 2).mean().item()
        ideal = tau**2 / (tau**2 + sigma**2 / n)
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
        left.plot(factors.numpy(), curve.numpy(), label="fixed factor c")
        left.axvline(ideal, color="k", ls="--", label=f"ideal c = {ideal:.2f}")
        left.axhline(mine, color="C1", ls=":", lw=2, label=f"your estimator: {mine:.3f}")
        left.set_xlabel("shrinkage factor c (1 = plain group means)")
        left.set_ylabel("mean squared error")
        left.set_title(f"tau = {tau:.1f}, sigma / sqrt(n) = {sigma / math.sqrt(n):.1f}")
        left.legend(fontsize=8)
        order = torch.argsort(theta)
        right.plot(theta[order].numpy(), means[order].numpy(), ".", color="C0", alpha=0.6, label="plain group mean")
        right.plot(theta[order].numpy(), shrink_group_means(x)[order].numpy(), ".", color="C1", label="shrunk")
        right.plot(theta[order].numpy(), theta[order].numpy(), "k-", lw=1, label="truth")
        right.set_xlabel("true mean")
        right.set_ylabel("estimate")
        right.legend(fontsize=8)
        plt.show()


    interact(show_shrinkage, tau=(0.2, 4.0, 0.2));

# %% [markdown]
# ## What you built
#
# - `sample_mean`, `sample_variance`, `unbiased_variance`: the basic estimators, batched along a dimension,
#   and the reason for Bessel's $n - 1$: deviations from a fitted mean are too small on average, by exactly
#   `plugin_variance_bias`, which you derived.
# - `bias_variance_mse`: a simulator for any estimator, on which $\text{MSE} = \text{bias}^2 + \text{variance}$
#   holds to rounding error, and which showed that the unbiased estimator is not the one with the smallest MSE.
# - Three distinctions: unbiased versus consistent, the Cramér–Rao bound versus the MSE of a biased
#   estimator, and how much one corrupted point moves each loss's minimizer.
# - `gaussian_mle`, `gaussian_nll`: maximum likelihood as empirical risk minimization with the loss
#   $-\log p_\theta(x)$; its variance estimate is the biased plug-in one.
# - `standardized_means`: the central limit theorem at work, with its $\sigma/\sqrt n$ scale.
# - `empirical_risk`: the squared loss targets the mean, the absolute loss the median.
# - `huber_loss`, `huber_grad`: a loss whose pieces you joined so that value and slope match, and whose bounded
#   derivative lets an outlier pull with a force of at most delta.
# - `gaussian_map_mean`: the MAP estimate of a mean, a precision-weighted average of the prior mean and the
#   sample mean.
# - `shrink_group_means`: a Gaussian prior turns maximum likelihood into MAP estimation; estimating the prior
#   from the data themselves gives the James–Stein estimator, which beats the plain group means on every
#   problem with four or more groups.
#
# **Next:** chapter 02 (information theory) rewrites the mean negative log-likelihood as a cross-entropy,
# an entropy plus a KL divergence between the data distribution and the model, and adds Fisher information,
# the quantity that bounds how small the variance of an *unbiased* estimator can be (Cramér–Rao). A biased
# estimator is not bound by it, as the divide-by-$(n+1)$ variance and your shrinkage estimator showed.
