# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Entropy, KL, Fisher, mutual information
#
# Chapter 01 ended with a loss, the negative log-likelihood. This chapter gives that loss its meaning:
# it is a **cross-entropy**, which splits into the entropy of the data (which no model can remove) and a
# **KL divergence** between the data and the model (which training drives down). Around that core we build
# the other quantities of information theory that keep coming back in deep learning: mutual information,
# Fisher information, maximum-entropy distributions, the perplexity that sets t-SNE's bandwidths, the
# entropy rate of a source with memory, and codes whose length approaches the entropy.
#
# **Learning goals**
# - Compute entropies, cross-entropies and KL divergences of discrete distributions, in nats and in bits,
#   with the edge cases right ($0\log 0 = 0$, an infinite KL when the supports do not match).
# - See where the formula $-\sum p\log p$ comes from: counting the strings with a given number of ones.
# - Derive the KL divergence between two Gaussians and the Fisher information of a Gaussian, and check the
#   second against the autograd Hessian of the first.
# - Derive the maximum-entropy distribution under moment constraints and compute it by Newton's method on
#   its convex dual.
# - Tune SNE's bandwidths to a target perplexity by bisection.
# - Find a Markov chain's stationary distribution (on the correct side!) and its entropy rate.
# - Build a Huffman code and compress a Markov source to within a few hundredths of a bit of its entropy rate.
#
# **Notes followed.** Kaplan, *Notes on Contemporary Machine Learning for Physicists*, §2.1 (entropy and
# counting), §2.2 (Shannon's characterization), §2.3 (KL divergence, the Fisher metric, the Gaussian example),
# §2.4 (maximum entropy: Boltzmann and Gaussian), §2.5 (conditional entropy and mutual information) and §2.6
# (SNE and t-SNE); the deep-learning textbook with PyTorch examples, chapter 14, §14.1 (the asymptotic
# equipartition property, entropy rate and information rate of Markov chains). Two slips in them are
# corrected below: Kaplan's SNE kernel (2.6.1) misses a factor 2 in its exponent, and the textbook writes the
# stationary condition as $\pi = A\pi$, which for its row-stochastic $A$ is the wrong side.
#
# **Conventions used throughout.**
# - Logarithms are **natural** (the unit is the *nat*) unless a function takes `base`; `base=2` gives
#   **bits**. One bit is $\ln 2 \approx 0.693$ nats: divide a result in nats by $\ln(\text{base})$.
# - $0 \log 0 = 0$, and more generally a term $p_i \log(\cdot)$ with $p_i = 0$ is 0: an outcome that never
#   happens costs nothing.
# - $D(p\,\|\,q) = \sum_i p_i \log(p_i/q_i)$ averages over the **first** argument.
# - Distributions lie along one dimension `dim` of a tensor, the last one by default, so a batch of
#   distributions of shape `(B, n)` gives `B` results at once. Functions return the dtype of their input.
# - A Markov chain's transition matrix is **row-stochastic**: `A[i, j]` $= P(X_{t+1} = j \mid X_t = i)$.


# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import math
import numpy as np
import torch
import matplotlib.pyplot as plt
import ipywidgets as widgets
from course.demos import interact
from course.checks import expect_close, expect_true, expect_shape, expect_raises
from course.information import SOURCE, markov_sequence, block_code_bits, kraft_sums

# %% [markdown]
# ## 1. Entropy
#
# The entropy of a distribution $p$ over outcomes $i = 1, \dots, n$ is
#
# $$H(p) = -\sum_{i=1}^n p_i \log p_i = \mathbb E_{i\sim p}\big[-\log p_i\big].$$
#
# The quantity $-\log p_i$ is the *surprise* of outcome $i$: a certain outcome surprises nobody, a rare one a
# lot. The entropy is the average surprise. It is 0 for a certain outcome and largest, $\log n$, for the
# uniform distribution. Shannon showed (Kaplan §2.2) that up to the choice of the constant in front, which
# is the choice of the base of the logarithm, it is the only measure of "how much choice" a distribution
# holds that is continuous, grows with the number of equally likely outcomes, and adds up correctly when a
# choice is split into stages:
# $H(\tfrac12, \tfrac13, \tfrac16) = H(\tfrac12, \tfrac12) + \tfrac12 H(\tfrac23, \tfrac13)$.
#
# The base only sets the unit: in base 2 a fair coin carries exactly 1 bit; in base $e$, $\ln 2$ nats. The
# limit $p\log p \to 0$ as $p \to 0$ is why we set $0\log 0 = 0$; in code, `0 * log(0)` is `0 * -inf = nan`,
# so the convention has to be built in (`torch.xlogy(p, p)` computes $p\log p$ with exactly this rule).
#
# ### Exercise 1: `entropy`
#
# Implement `entropy(p, base=math.e, dim=-1)`: $H(p)$ along dimension `dim` (last by default), in nats by
# default and in units of $\log(\text{base})$ otherwise (`base=2`: bits). Zeros in `p` contribute 0, never
# `nan`. Return a tensor of `p`'s shape without `dim`, dtype of `p`.

# %% nbgrader={"grade": false, "grade_id": "entropy", "locked": false, "schema_version": 3, "solution": true}
def entropy(p, base=math.e, dim=-1):
    """Shannon entropy of the distributions in p along dim.

    Args:
        p: probabilities, summing to 1 along dim.
        base: base of the logarithm (math.e: nats, 2: bits).
        dim: the dimension holding the outcomes (default: the last one).
    Returns:
        tensor of p's shape without dim, dtype of p.
    """
    ### BEGIN SOLUTION
    return -torch.xlogy(p, p).sum(dim=dim) / math.log(base)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_entropy", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_p = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)
expect_close(entropy(_p, base=2), 1.5, what="entropy([1/2, 1/4, 1/4], base=2)",
             hint="In bits: -sum p log2 p. Divide the natural log by log(base).")
expect_close(entropy(_p), 1.5 * math.log(2), what="entropy([1/2, 1/4, 1/4]) in nats (the default)",
             hint="The default base is e: natural logarithms.")
expect_close(entropy(torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64), base=2), 1.0,
             what="entropy([1/2, 1/2, 0], base=2)", hint="0 log 0 = 0: a zero probability must not give nan.")
_batch = torch.tensor([[1.0, 0.0], [0.5, 0.5]], dtype=torch.float64)
expect_close(entropy(_batch, base=2), torch.tensor([0.0, 1.0], dtype=torch.float64), what="entropy of two rows",
             hint="Reduce over `dim` only.")
expect_close(entropy(_batch.T, base=2, dim=0), torch.tensor([0.0, 1.0], dtype=torch.float64),
             what="entropy(..., dim=0)", hint="Use the `dim` you are given.")

# %% nbgrader={"grade": true, "grade_id": "test_entropy_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("entropy", entropy)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Where the formula comes from: counting strings
#
# Kaplan §2.1 derives the entropy by counting. A binary string of length $n$ in which a fraction $p$ of the
# symbols are ones has $k = pn$ ones, and there are $\binom{n}{k}$ such strings. If all of them are equally
# likely, naming one of them takes $\log\binom{n}{k}$ nats, so **per symbol**
#
# $$h_n(k) = \frac1n \log\binom{n}{k} = \frac1n\big[\log n! - \log k! - \log (n-k)!\big].$$
#
# As $n\to\infty$ with $k/n = p$ fixed, $h_n$ tends to the binary entropy
# $H_2(p) = -p\log p - (1-p)\log(1-p)$. Deriving this limit is yours; the hints lead there.
#
# <details><summary>Hint 1</summary>
#
# Stirling's formula in its crudest form, $\log m! = m\log m - m + O(\log m)$, is enough: the
# $O(\log m)$ terms vanish after dividing by $n$.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Substitute $k = pn$ and $n - k = (1-p)n$. The $-m$ terms cancel ($-n + pn + (1-p)n = 0$), and
# $\log(pn) = \log p + \log n$.
# </details>
#
# <details><summary>Hint 3</summary>
#
# What remains is $n\log n - pn(\log p + \log n) - (1-p)n(\log(1-p) + \log n) = n\,H_2(p)$. The correction
# is of order $\frac{\log n}{n}$: slow. The plot below shows how slow.
# </details>
#
# ### Exercise 2: `log_count_per_symbol`
#
# Implement `log_count_per_symbol(n, k)`: the **exact** $h_n(k) = \frac1n\log\binom nk$ in nats, for integer
# (or integer-valued floating) tensors `n >= 1` and `0 <= k <= n` that broadcast against each other.
# $n!$ overflows long before $n = 10^6$; $\log m! = \log\Gamma(m+1)$ does not (`torch.lgamma`). Return a
# `torch.float64` tensor of the broadcast shape.

# %% nbgrader={"grade": false, "grade_id": "log_count_per_symbol", "locked": false, "schema_version": 3, "solution": true}
def log_count_per_symbol(n, k):
    """log(n choose k) / n in nats, exactly.

    Args:
        n: tensor of string lengths (>= 1), integer or integer-valued.
        k: tensor of numbers of ones, 0 <= k <= n, broadcastable against n.
    Returns:
        float64 tensor of the broadcast shape.
    """
    ### BEGIN SOLUTION
    n = torch.as_tensor(n).to(torch.float64)
    k = torch.as_tensor(k).to(torch.float64)
    return (torch.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)) / n
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_log_count_per_symbol", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_close(log_count_per_symbol(torch.tensor(4), torch.tensor(2)), math.log(6) / 4,
             what="log_count_per_symbol(4, 2) = log(6) / 4",
             hint="The exact count, not Stirling's approximation: log n! = lgamma(n + 1).")
expect_close(log_count_per_symbol(torch.tensor([10, 10]), torch.tensor([3, 0])),
             torch.tensor([math.log(120) / 10, 0.0], dtype=torch.float64),
             what="log_count_per_symbol([10, 10], [3, 0])", hint="(10 choose 3) = 120 and (10 choose 0) = 1; divide by n.")
expect_true(log_count_per_symbol(torch.tensor(4), torch.tensor(2)).dtype == torch.float64,
            "log_count_per_symbol should return a float64 tensor.")

# %% nbgrader={"grade": true, "grade_id": "test_log_count_per_symbol_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("log_count_per_symbol", log_count_per_symbol)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# The curves below are $h_n(k)$ against $p = k/n$ for three lengths, and your `entropy` of the coin
# $(p, 1-p)$. The count approaches the entropy from below, with the gap shrinking like $\frac{\log n}{n}$.

# %%
def show_counting_limit():
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for n in (10, 100, 2000):
        k = torch.arange(0, n + 1)
        ax.plot((k / n).numpy(), log_count_per_symbol(torch.tensor(n), k).numpy(), lw=1.2, label=f"n = {n}")
    p = torch.linspace(0, 1, 201, dtype=torch.float64)
    ax.plot(p.numpy(), entropy(torch.stack([p, 1 - p], dim=1)).numpy(), "k--", label="H(p, 1 - p)")
    ax.set_xlabel("fraction of ones p = k / n")
    ax.set_ylabel("nats per symbol")
    ax.legend()
    plt.show()


try:
    show_counting_limit()
except NotImplementedError:
    print("Implement entropy and log_count_per_symbol to see this plot.")

# %% [markdown]
# ## 2. Cross-entropy and KL divergence
#
# Suppose the data come from $p$ but we describe them with a model $q$. The average surprise under the model
# is the **cross-entropy**
#
# $$H(p, q) = -\sum_i p_i \log q_i = \mathbb E_{i\sim p}[-\log q_i].$$
#
# Chapter 01's mean negative log-likelihood is exactly this, with $p$ the empirical distribution of the data.
# Adding and subtracting $\sum_i p_i\log p_i$ splits it:
#
# $$H(p, q) = H(p) + D(p\,\|\,q), \qquad D(p\,\|\,q) = \sum_i p_i \log\frac{p_i}{q_i}.$$
#
# The **KL divergence** $D(p\|q)$ is the extra surprise paid for using the wrong model; Kaplan §2.3 shows it is
# the rate at which data drawn from $p$ expose $q$ as wrong: the probability that $q$ produces $N$ draws whose
# frequencies look like $p$'s falls like $e^{-N D(p\|q)}$ (the same counting as in §1). It is $\ge 0$, zero only for $q = p$ (Gibbs' inequality), so minimizing the
# cross-entropy over $q$ is minimizing $D(p\|q)$: maximum likelihood. It is **not symmetric** and not a
# distance. Two cases need care:
#
# - $p_i = 0$: the term is 0 whatever $q_i$ is, even $q_i = 0$ (an outcome that never happens is never coded).
# - $p_i > 0 = q_i$: the term is $+\infty$. A model that calls a possible outcome impossible is infinitely
#   wrong. Kaplan's example: for coins with $P(\text{heads}) = 1, \tfrac12, 0$, the divergence between the first
#   and the last is infinite while both are finitely far from the fair coin: no triangle inequality.
#
# ### Exercise 3: `distribution_cross_entropy`
#
# Implement `distribution_cross_entropy(p, q, base=math.e, dim=-1)`: $H(p, q)$ along `dim`, with terms where
# $p_i = 0$ equal to 0 and $+\infty$ where $p_i > 0 = q_i$. `q` broadcasts against `p`.
# (Chapter 03's `cross_entropy` takes logits and labels; this one takes two distributions.)

# %% nbgrader={"grade": false, "grade_id": "distribution_cross_entropy", "locked": false, "schema_version": 3, "solution": true}
def distribution_cross_entropy(p, q, base=math.e, dim=-1):
    """Cross-entropy H(p, q) = -sum p log q along dim.

    Args:
        p: distributions the expectation is over, outcomes along dim.
        q: model distributions, broadcastable against p.
        base: base of the logarithm (math.e: nats, 2: bits).
        dim: the dimension holding the outcomes.
    Returns:
        tensor of the broadcast shape without dim.
    """
    ### BEGIN SOLUTION
    return -torch.xlogy(p, q).sum(dim=dim) / math.log(base)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_distribution_cross_entropy", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_p = torch.tensor([0.5, 0.5], dtype=torch.float64)
_q = torch.tensor([0.25, 0.75], dtype=torch.float64)
expect_close(distribution_cross_entropy(_p, _q, base=2), 1 - 0.5 * math.log2(0.75),
             what="H([1/2, 1/2], [1/4, 3/4]) in bits", hint="-sum p log q: the weights are p, the logs are of q.")
expect_close(distribution_cross_entropy(torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64),
                                        torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64), base=2), 1.0,
             what="H(p, q) with p = q = [1/2, 1/2, 0]", hint="A term with p_i = 0 is 0, even where q_i = 0.")
_h = distribution_cross_entropy(_p, torch.tensor([1.0, 0.0], dtype=torch.float64))
expect_true(bool(torch.isposinf(torch.as_tensor(_h))), f"H([1/2, 1/2], [1, 0]) should be +inf, got {_h}.",
            hint="p_i > 0 = q_i makes the cross-entropy infinite; no epsilon.")

# %% nbgrader={"grade": true, "grade_id": "test_distribution_cross_entropy_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("distribution_cross_entropy", distribution_cross_entropy)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4: `kl_divergence`
#
# Implement `kl_divergence(p, q, base=math.e, dim=-1)`: $D(p\,\|\,q) = \sum_i p_i\log(p_i/q_i)$ along `dim`,
# the expectation over the **first** argument. Terms with $p_i = 0$ are 0 (also where $q_i = 0$); a term with
# $p_i > 0 = q_i$ makes the result $+\infty$. Do not add an epsilon to `q`: it would turn a true $\infty$ into
# a large finite number. `q` broadcasts against `p`.

# %% nbgrader={"grade": false, "grade_id": "kl_divergence", "locked": false, "schema_version": 3, "solution": true}
def kl_divergence(p, q, base=math.e, dim=-1):
    """KL divergence D(p || q) along dim (expectation over p).

    Args:
        p: first argument, outcomes along dim.
        q: second argument, broadcastable against p.
        base: base of the logarithm (math.e: nats, 2: bits).
        dim: the dimension holding the outcomes.
    Returns:
        tensor of the broadcast shape without dim; +inf where q = 0 < p somewhere.
    """
    ### BEGIN SOLUTION
    return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum(dim=dim) / math.log(base)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_kl_divergence", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_p = torch.tensor([0.5, 0.5], dtype=torch.float64)
_q = torch.tensor([0.25, 0.75], dtype=torch.float64)
expect_close(kl_divergence(_p, _q, base=2), 0.5 + 0.5 * math.log2(0.5 / 0.75), what="D([1/2, 1/2] || [1/4, 3/4]) in bits",
             hint="sum p log(p / q), weighted by the FIRST argument.")
expect_close(kl_divergence(_q, _p, base=2), 0.25 * math.log2(0.5) + 0.75 * math.log2(1.5),
             what="D([1/4, 3/4] || [1/2, 1/2]) in bits", hint="The KL is not symmetric: keep the arguments in order.")
expect_close(kl_divergence(torch.tensor([0.0, 1.0], dtype=torch.float64), torch.tensor([0.0, 1.0], dtype=torch.float64)),
             0.0, what="D([0, 1] || [0, 1])", hint="0 log(0/0) counts as 0.")
_d = kl_divergence(_p, torch.tensor([1.0, 0.0], dtype=torch.float64))
expect_true(bool(torch.isposinf(torch.as_tensor(_d))), f"D([1/2, 1/2] || [1, 0]) should be +inf, got {_d}.",
            hint="Supports that do not match give +inf; no epsilon.")

# %% nbgrader={"grade": true, "grade_id": "test_kl_divergence_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("kl_divergence", kl_divergence)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The KL divergence between two Gaussians
#
# For densities the sums become integrals: $D(p\|q) = \int p(x)\log\frac{p(x)}{q(x)}\,dx$. Take
# $p = \mathcal N(\mu_p, \sigma_p^2)$ and $q = \mathcal N(\mu_q, \sigma_q^2)$, with
#
# $$-\log q(x) = \tfrac12\log(2\pi\sigma_q^2) + \frac{(x-\mu_q)^2}{2\sigma_q^2}.$$
#
# The divergence has a closed form, which VAEs (chapter 12) use in every training step. Kaplan (2.3.13) gives
# the special case $p = \mathcal N(0, 1)$; you derive the general one in two steps. Everything you need is
# the first two moments of $p$: $\mathbb E_p[x] = \mu_p$ and $\mathbb E_p[(x-\mu_p)^2] = \sigma_p^2$.
#
# ### Exercise 5: `normal_cross_entropy` (step 1)
#
# Derive $H(p, q) = \mathbb E_{x\sim p}[-\log q(x)]$ for the two Gaussians above, in nats, and implement
# `normal_cross_entropy(mu_p, var_p, mu_q, var_q)`. The arguments are **means and variances** (not standard
# deviations), tensors that broadcast against each other; return a tensor of the broadcast shape.
#
# <details><summary>Hint 1</summary>
#
# The first term of $-\log q(x)$ does not depend on $x$, so its expectation is itself. Only
# $\mathbb E_p[(x-\mu_q)^2]$ is left to find.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Write $x - \mu_q = (x - \mu_p) + (\mu_p - \mu_q)$ and expand the square. The cross term has expectation
# zero, because $\mathbb E_p[x - \mu_p] = 0$.
# </details>
#
# <details><summary>Hint 3</summary>
#
# $\mathbb E_p[(x-\mu_q)^2] = \sigma_p^2 + (\mu_p-\mu_q)^2$: spread plus offset, the same split as
# chapter 01's $\text{MSE} = \text{variance} + \text{bias}^2$. Divide it by $2\sigma_q^2$ and add the constant term.
# </details>

# %% nbgrader={"grade": false, "grade_id": "normal_cross_entropy", "locked": false, "schema_version": 3, "solution": true}
def normal_cross_entropy(mu_p, var_p, mu_q, var_q):
    """Cross-entropy E_{x ~ N(mu_p, var_p)}[-log N(x; mu_q, var_q)] in nats.

    Args:
        mu_p, var_p: mean and variance of p (tensors).
        mu_q, var_q: mean and variance of q; all four broadcast against each other.
    Returns:
        tensor of the broadcast shape.
    """
    ### BEGIN SOLUTION
    return 0.5 * torch.log(2 * math.pi * var_q) + (var_p + (mu_p - mu_q) ** 2) / (2 * var_q)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_normal_cross_entropy", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_t = lambda v: torch.tensor(v, dtype=torch.float64)
expect_close(normal_cross_entropy(_t(0.0), _t(1.0), _t(0.0), _t(1.0)), 0.5 * math.log(2 * math.pi * math.e),
             what="H(N(0, 1), N(0, 1)), the entropy of the standard normal",
             hint="With p = q the cross-entropy is the entropy, log(2 pi e) / 2 = 1.4189 nats.")
expect_close(normal_cross_entropy(_t(1.0), _t(4.0), _t(0.0), _t(1.0)), 0.5 * math.log(2 * math.pi) + 2.5,
             what="H(N(1, 4), N(0, 1))",
             hint="The expected squared distance to mu_q has a spread part and an offset part. "
                  "The second argument is a variance.")

# %% nbgrader={"grade": true, "grade_id": "test_normal_cross_entropy_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("normal_cross_entropy", normal_cross_entropy)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 6: `normal_kl` (step 2)
#
# Implement `normal_kl(mu_p, var_p, mu_q, var_q)`: $D(\mathcal N(\mu_p,\sigma_p^2)\,\|\,\mathcal N(\mu_q,\sigma_q^2))$
# in nats, in closed form (no sampling, no numerical integration), same arguments and broadcasting as above.
#
# <details><summary>Hint 1</summary>
#
# $D(p\|q) = H(p, q) - H(p)$, and the entropy of $p$ is a cross-entropy you already have: $H(p) = H(p, p)$.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Simplify before you code: the two $\log 2\pi$ terms cancel, and $\frac{\sigma_p^2}{2\sigma_p^2} = \frac12$.
# Check your result against Kaplan's (2.3.13) with $\mu_p = 0$, $\sigma_p = 1$, and against $D = 0$ when the
# two Gaussians coincide.
# </details>
#
# <details><summary>Hint 3</summary>
#
# $D = \frac12\Big[\log\frac{\sigma_q^2}{\sigma_p^2} + \frac{\sigma_p^2 + (\mu_p - \mu_q)^2}{\sigma_q^2} - 1\Big]$.
# </details>

# %% nbgrader={"grade": false, "grade_id": "normal_kl", "locked": false, "schema_version": 3, "solution": true}
def normal_kl(mu_p, var_p, mu_q, var_q):
    """KL divergence D(N(mu_p, var_p) || N(mu_q, var_q)) in nats, in closed form.

    Args:
        mu_p, var_p: mean and variance of the first argument (tensors).
        mu_q, var_q: mean and variance of the second; all four broadcast against each other.
    Returns:
        tensor of the broadcast shape.
    """
    ### BEGIN SOLUTION
    return 0.5 * (torch.log(var_q / var_p) + (var_p + (mu_p - mu_q) ** 2) / var_q - 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_normal_kl", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_t = lambda v: torch.tensor(v, dtype=torch.float64)
expect_close(normal_kl(_t(0.0), _t(1.0), _t(1.0), _t(4.0)), math.log(2) + 0.25 - 0.5,
             what="D(N(0, 1) || N(1, 4)) (Kaplan's 2.3.13 with mu = 1, sigma = 2)",
             hint="Cross-entropy minus the entropy of the FIRST Gaussian; arguments are variances.")
expect_close(normal_kl(_t(1.0), _t(4.0), _t(0.0), _t(1.0)), 0.5 * (math.log(0.25) + 5.0 - 1.0),
             what="D(N(1, 4) || N(0, 1))", hint="The KL is not symmetric: the expectation is under the first argument.")
expect_close(normal_kl(_t(2.0), _t(3.0), _t(2.0), _t(3.0)), 0.0, what="D(p || p)", hint="Identical Gaussians: 0.")

# %% nbgrader={"grade": true, "grade_id": "test_normal_kl_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("normal_kl", normal_kl)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Forward and reverse KL: fitting one Gaussian to two bumps
#
# Kaplan §2.3 asks which single Gaussian $q$ is closest to a two-mode mixture $p$, and the answer depends on
# the direction. $D(p\|q)$ (the **forward** KL, what maximum likelihood minimizes) pays a huge price wherever
# $p$ has mass and $q$ has none, so $q$ spreads out to cover both modes. $D(q\|p)$ (the **reverse** KL, what
# variational inference minimizes) pays wherever $q$ has mass and $p$ has none, so $q$ avoids the valley
# between the modes and settles on one of them.
#
# The demo discretizes both densities on a grid of 1201 points in $[-12, 12]$ and evaluates your
# `kl_divergence` for 81 × 40 candidate Gaussians at once (81 means in $[-8, 8]$, 40 standard deviations from
# 0.3 to 8, evenly spaced in log), then marks the best one in each direction. The mixture is
# $\frac12\mathcal N(-s/2, 1) + \frac12\mathcal N(s/2, 1)$; move the separation $s$.

# %%
_grid = torch.linspace(-12.0, 12.0, 1201, dtype=torch.float64)
_mus = torch.linspace(-8.0, 8.0, 81, dtype=torch.float64)
_sigmas = torch.exp(torch.linspace(math.log(0.3), math.log(8.0), 40, dtype=torch.float64))


def _masses(mu, sigma):
    """Normal densities on the grid, normalized to probability masses along the last dimension."""
    density = torch.exp(-0.5 * ((_grid - mu) / sigma) ** 2) / sigma
    return density / density.sum(dim=-1, keepdim=True)


def show_kl_fits(separation=4.0):
    p = 0.5 * _masses(torch.tensor(-separation / 2), torch.tensor(1.0)) + \
        0.5 * _masses(torch.tensor(separation / 2), torch.tensor(1.0))
    candidates = _masses(_mus[:, None, None], _sigmas[None, :, None])          # (81, 40, 1201)
    try:
        forward = kl_divergence(p, candidates)                                  # D(p || q) for every q
        reverse = kl_divergence(candidates, p)                                  # D(q || p)
    except NotImplementedError:
        print("Implement kl_divergence to see this demo.")
        return
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(_grid.numpy(), p.numpy(), "k-", lw=2, label="p: the mixture")
    for name, table, style in (("forward D(p||q)", forward, "C0--"), ("reverse D(q||p)", reverse, "C3-")):
        i, j = divmod(int(torch.argmin(table)), table.shape[1])
        mu, sigma = _mus[i].item(), _sigmas[j].item()
        ax.plot(_grid.numpy(), _masses(_mus[i], _sigmas[j]).numpy(), style,
                label=f"{name}: mu = {mu:.1f}, sigma = {sigma:.2f}, D = {table[i, j].item():.3f} nats")
    ax.set_title(f"separation s = {separation:g}")
    ax.set_xlim(-10, 10)
    ax.legend(fontsize=8)
    plt.show()


interact(show_kl_fits, separation=widgets.FloatSlider(value=4.0, min=0.0, max=8.0, step=0.5));

# %% [markdown]
# For small separations the mixture has one bump and both fits agree. From about $s = 2$ on the forward fit
# keeps growing: its best mean and variance are exactly the mixture's, $0$ and $1 + s^2/4$ (set the derivatives
# of $H(p,q)$ from Exercise 5 to zero to see why), while the reverse fit jumps onto one mode.
#
# ### Concept question 1: `reverse_kl_answer`
#
# A variational autoencoder (chapter 12) fits a Gaussian $q(z)$ to a posterior $p(z \mid x)$ by minimizing
# $D(q\,\|\,p)$. Suppose the true posterior has two well-separated modes. What does the fitted $q$ tend to do?
#
# - **a.** Cover both modes with one broad Gaussian, so that no region where the posterior has mass is missed.
# - **b.** Settle on one mode, and so underestimate how uncertain the posterior really is.
# - **c.** Match the posterior's mean and variance exactly, since the KL is minimized by matching moments.
# - **d.** Grow its variance without bound, since the KL between a Gaussian and a mixture is infinite.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "reverse_kl_answer", "locked": false, "schema_version": 3, "solution": true}
def reverse_kl_answer():
    """Your answer to concept question 1: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_reverse_kl_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(reverse_kl_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_reverse_kl_answer_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("reverse_kl_answer", reverse_kl_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Mutual information
#
# For two variables with joint distribution $p(x, y)$, Kaplan §2.5 defines the conditional entropy
# $H(X\mid Y) = -\sum_{x,y} p(x,y)\log p(x\mid y)$, the uncertainty left in $X$ once $Y$ is known, and the
# **mutual information**
#
# $$I(X;Y) = H(X) - H(X\mid Y) = H(X) + H(Y) - H(X,Y) = \sum_{x,y} p(x,y)\log\frac{p(x,y)}{p(x)\,p(y)}.$$
#
# The last form is a KL divergence, $I(X;Y) = D\big(p(x,y)\,\|\,p(x)p(y)\big)$: how far the joint is from
# the product of its marginals. So $I \ge 0$, with equality exactly for independent variables, and it is
# symmetric in $X$ and $Y$. The textbook's information bottleneck (§14.2) is built from it.
#
# Since $p(x\mid y) = p(x,y)/p(y)$, the conditional entropy obeys the **chain rule**
# $H(X, Y) = H(Y) + H(X\mid Y)$ (Kaplan (2.5.2)): naming the pair costs naming $Y$, then $X$ given $Y$. This
# is Shannon's grouping rule of §1 in general form. Unlike $I$, $H(X\mid Y)$ is not symmetric:
# $H(X\mid Y) - H(Y\mid X) = H(X) - H(Y)$.
#
# ### Exercise 7: `conditional_entropy`
#
# Implement `conditional_entropy(joint, base=math.e)`: $H(X\mid Y)$ for a table `joint` of shape `(nx, ny)`
# whose **rows index $x$ and columns index $y$** (the variable conditioned on is the column). The table may
# hold counts (normalize it first) or probabilities; empty cells contribute 0. Return a 0-d tensor, dtype of
# `joint`.

# %% nbgrader={"grade": false, "grade_id": "conditional_entropy", "locked": false, "schema_version": 3, "solution": true}
def conditional_entropy(joint, base=math.e):
    """Conditional entropy H(X | Y) of a joint table (rows: x, columns: y).

    Args:
        joint: non-negative floating tensor (nx, ny) of counts or probabilities.
        base: base of the logarithm (math.e: nats, 2: bits).
    Returns:
        0-d tensor, dtype of joint.
    """
    ### BEGIN SOLUTION
    p = joint / joint.sum()
    py = p.sum(dim=0, keepdim=True)
    return -(torch.xlogy(p, p) - torch.xlogy(p, py)).sum() / math.log(base)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conditional_entropy", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_close(conditional_entropy(torch.full((2, 2), 0.25, dtype=torch.float64), base=2), 1.0,
             what="H(X | Y) of two independent fair bits", hint="Knowing Y leaves X's whole bit uncertain.")
expect_close(conditional_entropy(torch.tensor([[0.5, 0.0], [0.0, 0.5]], dtype=torch.float64), base=2), 0.0,
             what="H(X | Y) for X = Y", hint="Empty cells contribute 0 (no nan).")
_joint = torch.tensor([[0.1, 0.2, 0.1], [0.3, 0.1, 0.2]], dtype=torch.float64)
expect_close(conditional_entropy(_joint), 0.6068425588244111, what="H(X | Y) of a (2, 3) table, rows x, columns y",
             hint="Condition on the COLUMN variable y: p(x | y) = p(x, y) / p(y), p(y) summing each column.")
expect_close(conditional_entropy(_joint.T), 1.0227308671603783, what="H(X | Y) of the transposed table",
             hint="Transposing swaps the roles: this is H(Y | X) of the original table.")

# %% nbgrader={"grade": true, "grade_id": "test_conditional_entropy_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("conditional_entropy", conditional_entropy)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 8: `mutual_information`
#
# Implement `mutual_information(joint, base=math.e)` for a table `joint` of shape `(nx, ny)` whose rows index
# $x$ and columns index $y$. The table may hold **counts** (normalize it first) or probabilities. Empty
# cells contribute 0. Return a 0-d tensor, dtype of `joint`.

# %% nbgrader={"grade": false, "grade_id": "mutual_information", "locked": false, "schema_version": 3, "solution": true}
def mutual_information(joint, base=math.e):
    """Mutual information I(X; Y) of a joint table (rows: x, columns: y).

    Args:
        joint: non-negative floating tensor (nx, ny) of counts or probabilities.
        base: base of the logarithm (math.e: nats, 2: bits).
    Returns:
        0-d tensor, dtype of joint.
    """
    ### BEGIN SOLUTION
    p = joint / joint.sum()
    px = p.sum(dim=1, keepdim=True)
    py = p.sum(dim=0, keepdim=True)
    return (torch.xlogy(p, p) - torch.xlogy(p, px * py)).sum() / math.log(base)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_mutual_information", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_close(mutual_information(torch.tensor([[0.5, 0.0], [0.0, 0.5]], dtype=torch.float64), base=2), 1.0,
             what="I(X; Y) for Y = X, a fair bit", hint="Knowing Y tells you X's one bit; empty cells contribute 0.")
expect_close(mutual_information(torch.full((2, 3), 1 / 6, dtype=torch.float64)), 0.0,
             what="I of independent variables", hint="The joint equals the product of the marginals: I = 0.")
expect_close(mutual_information(torch.tensor([[3.0, 1.0], [1.0, 3.0]], dtype=torch.float64), base=2),
             1 - (-0.25 * math.log2(0.25) - 0.75 * math.log2(0.75)), what="I of the count table [[3, 1], [1, 3]] in bits",
             hint="Counts: divide by the total first.")
expect_close(mutual_information(torch.tensor([[0.1, 0.2, 0.1], [0.3, 0.1, 0.2]], dtype=torch.float64)),
             0.06616910818484528, what="I of a (2, 3) table in nats",
             hint="p(x) sums each row (over y), p(y) each column (over x).")

# %% nbgrader={"grade": true, "grade_id": "test_mutual_information_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("mutual_information", mutual_information)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### The information bottleneck's identity
#
# The textbook (§14.2) compresses $X$ into a representation $Z$ that should still predict $Y$, with the
# variables forming a Markov chain $Z - X - Y$: $p(x, y, z) = p(x)\,p(y\mid x)\,p(z\mid x)$. Its equation
# (14.10) says that the information about $Y$ lost by keeping only $Z$ is an average KL divergence,
#
# $$\mathbb E_{p(x,z)}\Big[D\big(p(y\mid x)\,\|\,p(y\mid z)\big)\Big] = I(X;Y) - I(Z;Y) \;\ge 0,$$
#
# so $I(Z;Y) \le I(X;Y)$: processing $X$ can only lose information about $Y$ (the data-processing
# inequality). Both sides, with your `kl_divergence` and `mutual_information`, on a random chain with 6 values
# of $X$, 4 of $Y$ and 3 of $Z$. (The textbook's Blahut-Arimoto update (14.21) has a slip: the exponent in its
# numerator should be $-\beta\, D\big(p(y\mid x)\,\|\,p(y\mid z)\big)$, as in its denominator, not $I(X, Z)$.)

# %%
try:
    _g = torch.Generator().manual_seed(14)
    _rand = lambda *shape: torch.softmax(2 * torch.randn(*shape, generator=_g, dtype=torch.float64), dim=-1)
    _px, _py_x, _pz_x = _rand(6), _rand(6, 4), _rand(6, 3)                  # p(x), p(y|x), p(z|x)
    _pxyz = _px[:, None, None] * _py_x[:, :, None] * _pz_x[:, None, :]     # (x, y, z)
    _pyz = _pxyz.sum(dim=0)                                                 # (y, z)
    _py_z = (_pyz / _pyz.sum(dim=0, keepdim=True)).T                        # p(y|z), rows z
    _pxz = _px[:, None] * _pz_x                                             # p(x, z)
    _lhs = (_pxz * kl_divergence(_py_x[:, None, :], _py_z[None, :, :])).sum().item()
    _i_xy = mutual_information(_px[:, None] * _py_x).item()
    _i_zy = mutual_information(_pyz.T).item()
    print(f"E[D(p(y|x) || p(y|z))] = {_lhs:.6f} nats;  I(X;Y) - I(Z;Y) = {_i_xy:.6f} - {_i_zy:.6f} = {_i_xy - _i_zy:.6f} nats")
except NotImplementedError:
    print("Implement kl_divergence and mutual_information to check the identity.")

# %% [markdown]
# A bit sent through a channel that flips it with probability $\varepsilon$: the joint table of input and
# output is $\frac12\begin{pmatrix}1-\varepsilon & \varepsilon\\ \varepsilon & 1-\varepsilon\end{pmatrix}$. Your
# function traces how much the output tells about the input, which is $1 - H_2(\varepsilon)$ bits: a channel
# that flips every bit ($\varepsilon = 1$) is as informative as a perfect one.

# %%
try:
    _eps = torch.linspace(0, 1, 101, dtype=torch.float64)
    _mi = [mutual_information(0.5 * torch.tensor([[1 - e, e], [e, 1 - e]], dtype=torch.float64), base=2).item()
           for e in _eps.tolist()]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(_eps.numpy(), _mi)
    ax.set_xlabel("flip probability epsilon")
    ax.set_ylabel("I(input; output), bits")
    plt.show()
except NotImplementedError:
    print("Implement mutual_information to see this plot.")

# %% [markdown]
# ## 5. Fisher information
#
# Let $q_\theta$ be a family of distributions. Near $\theta_0$, how fast does $q_\theta$ move away from
# $q_{\theta_0}$? Kaplan §2.3 expands $D(q_{\theta_0}\|q_\theta)$ in $\theta - \theta_0$. The value at
# $\theta_0$ is 0, and so is the gradient, because $\int q\,\nabla_\theta\log q = \nabla_\theta\int q = 0$. The
# first term that survives is quadratic, and its matrix is the **Fisher information**:
#
# $$D(q_{\theta_0}\|q_{\theta_0 + \delta}) \approx \tfrac12\,\delta^\top F(\theta_0)\,\delta, \qquad
#   F_{ab} = \frac{\partial^2}{\partial\theta_a\partial\theta_b} D(q_{\theta_0}\|q_\theta)\Big|_{\theta=\theta_0}
#   = \mathbb E_{x\sim q_{\theta_0}}\big[\partial_a \log q_\theta(x)\;\partial_b\log q_\theta(x)\big].$$
#
# The last form says that $F$ is the covariance of the **score** $\nabla_\theta\log q_\theta(x)$ (whose mean
# is zero), so it is positive semi-definite. $F$ measures how well data can resolve the parameters: the
# Cramér–Rao bound says that no unbiased estimator from $N$ draws has a covariance below $F^{-1}/N$. Natural
# gradient descent (chapter 05) preconditions with $F^{-1}$, and the Jeffreys prior is
# $\propto\sqrt{\det F}$.
#
# $F$ depends on the coordinates: if $\theta = \theta(\phi)$ with Jacobian $J = \partial\theta/\partial\phi$,
# the scores transform by the chain rule and $F_\phi = J^\top F_\theta J$. Kaplan states that for a
# Gaussian in $(\mu, \sigma)$ at $\sigma = 1$ the Fisher matrix is diagonal with entries 1 and 2; derive the
# general case.
#
# ### Exercise 9: `normal_fisher`
#
# Derive the Fisher matrix of $\mathcal N(\mu, \sigma^2)$ with parameters ordered $(\mu, \cdot)$, where the
# second parameter is, according to `param`: the standard deviation $\sigma$ (`"sigma"`), the variance
# $\sigma^2$ (`"var"`), or $\log\sigma$ (`"log_sigma"`); any other value raises `ValueError`. Implement
# `normal_fisher(sigma, param="sigma")` for a tensor `sigma` of any shape `S` (the matrix does not depend on
# $\mu$); return a tensor of shape `S + (2, 2)`, dtype of `sigma`. This one is by hand: code that uses autograd
# here loses the exercise's points (the next exercise is the autograd one), and the grader reads autograd's
# words (`hessian`, `jacobian`, `requires_grad`, `torch.autograd`, ...) anywhere in this function as autograd,
# so name your variables otherwise.
#
# <details><summary>Hint 1</summary>
#
# Write $\ell = \log q = -\tfrac12\log(2\pi) - \log\sigma - \frac{(x-\mu)^2}{2\sigma^2}$ and differentiate it
# with respect to $\mu$ and to $\sigma$: two score components.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Average the products of the score components over $x\sim\mathcal N(\mu,\sigma^2)$. With $u = x - \mu$:
# $\mathbb E[u] = \mathbb E[u^3] = 0$, $\mathbb E[u^2] = \sigma^2$, $\mathbb E[u^4] = 3\sigma^4$. The off-diagonal
# entry only involves odd moments.
# </details>
#
# <details><summary>Hint 3</summary>
#
# For the other parameters use $F_\phi = J^\top F_\sigma J$: with $v = \sigma^2$, $d\sigma/dv = 1/(2\sigma)$;
# with $s = \log\sigma$, $d\sigma/ds = \sigma$. The $\mu$ entry does not change.
# </details>
#
# <details><summary>Hint 4</summary>
#
# In $(\mu, \sigma)$: $\operatorname{diag}(1/\sigma^2,\ 2/\sigma^2)$. In $(\mu, \sigma^2)$:
# $\operatorname{diag}(1/\sigma^2,\ 1/(2\sigma^4))$. In $(\mu, \log\sigma)$: $\operatorname{diag}(1/\sigma^2,\ 2)$.
# </details>

# %% nbgrader={"grade": false, "grade_id": "normal_fisher", "locked": false, "schema_version": 3, "solution": true}
def normal_fisher(sigma, param="sigma"):
    """Fisher information matrix of N(mu, sigma^2) in the parameters (mu, second).

    Args:
        sigma: tensor of standard deviations, any shape S.
        param: the second parameter: "sigma", "var" (sigma^2) or "log_sigma"; else ValueError.
    Returns:
        tensor of shape S + (2, 2), dtype of sigma.
    """
    ### BEGIN SOLUTION
    second = {"sigma": lambda s: 2 / s**2, "var": lambda s: 1 / (2 * s**4), "log_sigma": lambda s: 2 + 0 * s}
    if param not in second:
        raise ValueError(f"param must be 'sigma', 'var' or 'log_sigma', got {param!r}")
    out = sigma.new_zeros(sigma.shape + (2, 2))
    out[..., 0, 0] = 1 / sigma**2
    out[..., 1, 1] = second[param](sigma)
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_normal_fisher", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_t = lambda v: torch.tensor(v, dtype=torch.float64)
expect_close(normal_fisher(_t(1.0)), torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64),
             what="normal_fisher(sigma = 1)", hint="Kaplan: at sigma = 1 the Fisher in (mu, sigma) is diag(1, 2).")
expect_close(normal_fisher(_t(2.0)), torch.tensor([[0.25, 0.0], [0.0, 0.5]], dtype=torch.float64),
             what="normal_fisher(sigma = 2)", hint="Both entries scale with the parameters: how?")
expect_shape(normal_fisher(torch.ones(3, 4, dtype=torch.float64), "var"), (3, 4, 2, 2),
             what="normal_fisher of a (3, 4) sigma")
expect_raises(ValueError, normal_fisher, _t(1.0), "precision", what="normal_fisher(..., param='precision')")

# %% nbgrader={"grade": true, "grade_id": "test_normal_fisher_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("normal_fisher", normal_fisher)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 10: `fisher_from_kl`
#
# Now check the derivation with autograd, for any family. Implement `fisher_from_kl(kl, theta0)`: given a
# function `kl(theta_a, theta_b)` that returns the 0-d tensor $D(q_{\theta_a}\|q_{\theta_b})$ and a point
# `theta0` of shape `(D,)`, return the Hessian of $\theta \mapsto D(q_{\theta_0}\|q_\theta)$ at
# $\theta = \theta_0$, a tensor of shape `(D, D)`. Only the **second** argument varies; the first stays fixed
# at $\theta_0$. Use autograd (`torch.autograd.functional.hessian`, or two rounds of `torch.autograd.grad`
# with `create_graph=True`).

# %% nbgrader={"grade": false, "grade_id": "fisher_from_kl", "locked": false, "schema_version": 3, "solution": true}
def fisher_from_kl(kl, theta0):
    """Hessian of theta -> kl(theta0, theta) at theta = theta0 (the Fisher information).

    Args:
        kl: function kl(theta_a, theta_b) -> 0-d tensor D(q_theta_a || q_theta_b).
        theta0: float tensor of shape (D,).
    Returns:
        tensor of shape (D, D), dtype of theta0.
    """
    ### BEGIN SOLUTION
    fixed = theta0.detach()
    return torch.autograd.functional.hessian(lambda theta: kl(fixed, theta), fixed.clone())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_fisher_from_kl", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_w = torch.tensor([1.0, 3.0], dtype=torch.float64)
_toy_kl = lambda a, b: 0.5 * (_w * (a - b) ** 2).sum() + ((b - a) ** 3).sum()
expect_close(fisher_from_kl(_toy_kl, torch.tensor([0.5, -1.0], dtype=torch.float64)), torch.diag(_w),
             what="fisher_from_kl of 0.5 sum w (a - b)^2 + sum (b - a)^3",
             hint="Second derivatives in the second argument, taken at theta0.")
_bernoulli_kl = lambda a, b: torch.distributions.kl_divergence(torch.distributions.Bernoulli(logits=a[0]),
                                                              torch.distributions.Bernoulli(logits=b[0]))
_s = torch.sigmoid(torch.tensor(0.8, dtype=torch.float64))
expect_close(fisher_from_kl(_bernoulli_kl, torch.tensor([0.8], dtype=torch.float64)), (_s * (1 - _s)).reshape(1, 1),
             what="Fisher of a Bernoulli in its logit", hint="The Hessian is positive here: check its sign.")

# %% nbgrader={"grade": true, "grade_id": "test_fisher_from_kl_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("fisher_from_kl", fisher_from_kl)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# Your two answers meet: the Hessian of your `normal_kl`, taken by autograd in each parametrization, against
# your closed-form `normal_fisher`.

# %%
def _kl_in(param):
    to_var = {"sigma": lambda t: t**2, "var": lambda t: t, "log_sigma": lambda t: torch.exp(2 * t)}[param]
    return lambda a, b: normal_kl(a[0], to_var(a[1]), b[0], to_var(b[1]))


try:
    _sigma = 1.7
    for _param, _second in (("sigma", _sigma), ("var", _sigma**2), ("log_sigma", math.log(_sigma))):
        _H = fisher_from_kl(_kl_in(_param), torch.tensor([0.3, _second], dtype=torch.float64))
        _F = normal_fisher(torch.tensor(_sigma, dtype=torch.float64), _param)
        print(f"{_param:>9}: autograd Hessian diag {_H.diagonal().numpy().round(6)}, "
              f"closed form diag {_F.diagonal().numpy().round(6)}, max difference {(_H - _F).abs().max().item():.1e}")
except NotImplementedError:
    print("Implement normal_kl, normal_fisher and fisher_from_kl to compare them.")

# %% [markdown]
# ## 6. Maximum entropy
#
# Which distribution should we assume when all we know are a few averages? The one that assumes nothing
# else: the distribution of **maximum entropy** among those with the given averages (Kaplan §2.4). On $n$
# points $x_i$ with features $f_k(x_i)$ (energies, $x$, $x^2$, ...) and prescribed means $m_k$:
#
# $$\max_p\; -\sum_i p_i\log p_i \quad\text{subject to}\quad \sum_i p_i f_k(x_i) = m_k\ (k = 1..K),\quad \sum_i p_i = 1.$$
#
# Add a Lagrange multiplier $\lambda_k$ for each moment and $\nu$ for the normalization, and set the
# derivative with respect to each $p_i$ to zero. (Kaplan's (2.4.7) has a sign slip: the derivative of
# $-p\log p$ is $-\log p - 1$; it does not change the conclusion.)
#
# ### Exercise 11: `max_entropy_distribution`
#
# Implement `max_entropy_distribution(features, moments, tol=1e-10, max_iter=100)`: `features` of shape
# `(n, K)` holds $f_k(x_i)$ (linearly independent columns), `moments` of shape `(K,)` the targets $m_k$, which
# lie strictly inside the range the features allow. Return the maximum-entropy $p$, shape `(n,)`, dtype of
# `features`, with every feature mean within `tol` of its target (stop there, or after `max_iter` steps).
# Features can be large (an energy of 1000): nothing may overflow.
#
# <details><summary>Hint 1: the form of the answer</summary>
#
# Stationarity gives $-\log p_i - 1 + \sum_k\lambda_k f_k(x_i) + \nu = 0$, so $p_i$ is an exponential of a
# linear combination of the features, normalized: a softmax of $F\lambda$, with $F$ the feature matrix. With
# one feature, an energy, this is the Boltzmann distribution; with $x$ and $x^2$ on a grid, a Gaussian.
# What is left is to find $\lambda$.
# </details>
#
# <details><summary>Hint 2: a convex problem for lambda</summary>
#
# Substitute the form back: $\lambda$ minimizes the convex function
# $g(\lambda) = \log\sum_i e^{(F\lambda)_i} - \lambda\cdot m$. Its gradient is $\mathbb E_p[f] - m$ (zero
# exactly when the constraints hold) and its Hessian is the covariance matrix of the features under $p$.
# </details>
#
# <details><summary>Hint 3: the algorithm</summary>
#
# Newton's method: $\lambda \leftarrow \lambda - t\,H^{-1}\nabla g$, with $t = 1$ halved until $g$ decreases
# (a backtracking line search keeps the first steps from overshooting). Start at $\lambda = 0$ (the uniform
# distribution). Compute the softmax with a max shift (or `torch.softmax`) and $\log\sum e$ with
# `torch.logsumexp`. It converges in a handful of steps.
# </details>

# %% nbgrader={"grade": false, "grade_id": "max_entropy_distribution", "locked": false, "schema_version": 3, "solution": true}
def max_entropy_distribution(features, moments, tol=1e-10, max_iter=100):
    """Maximum-entropy distribution on n points whose feature means equal the given moments.

    Args:
        features: tensor (n, K), features[i, k] = f_k(x_i).
        moments: tensor (K,) of target means.
        tol: stop when every feature mean is within tol of its target.
        max_iter: most iterations.
    Returns:
        p: tensor (n,), dtype of features.
    """
    ### BEGIN SOLUTION
    f = features.to(torch.float64)
    m = moments.to(torch.float64)
    lam = torch.zeros(f.shape[1], dtype=torch.float64)

    def dual(lam):
        return torch.logsumexp(f @ lam, dim=0) - lam @ m

    for _ in range(max_iter):
        p = torch.softmax(f @ lam, dim=0)
        mean = p @ f
        grad = mean - m
        if grad.abs().max() <= tol:
            break
        centred = f - mean
        hess = centred.T @ (p[:, None] * centred)
        step = torch.linalg.lstsq(hess, grad[:, None]).solution[:, 0]
        t, current = 1.0, dual(lam)
        while dual(lam - t * step) > current - 0.25 * t * (grad @ step) and t > 1e-12:
            t *= 0.5
        lam = lam - t * step
    return torch.softmax(f @ lam, dim=0).to(features.dtype)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_max_entropy_distribution", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_faces = torch.arange(1.0, 7.0, dtype=torch.float64)[:, None]
expect_close(max_entropy_distribution(_faces, torch.tensor([3.5], dtype=torch.float64)),
             torch.full((6,), 1 / 6, dtype=torch.float64), what="a die with mean 3.5",
             hint="The uniform distribution already has mean 3.5, and nothing has more entropy.")
expect_close(max_entropy_distribution(_faces, torch.tensor([4.5], dtype=torch.float64)),
             torch.tensor([0.05435316782649324, 0.07877154563305531, 0.11415997722944213, 0.16544680311005408,
                           0.23977444042689888, 0.34749406577405634], dtype=torch.float64),
             what="Jaynes' die: faces 1..6 with mean 4.5",
             hint="p_i proportional to exp(lambda * i), with lambda tuned until the mean is 4.5.")
expect_close(max_entropy_distribution(1e4 + _faces, torch.tensor([1e4 + 4.5], dtype=torch.float64)),
             max_entropy_distribution(_faces, torch.tensor([4.5], dtype=torch.float64)),
             what="the same die with every face shifted by 10**4", hint="Shift before exponentiating: no overflow.")

# %% nbgrader={"grade": true, "grade_id": "test_max_entropy_distribution_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("max_entropy_distribution", max_entropy_distribution)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# Fix only the mean and the second moment of a distribution on a fine grid, and the maximum-entropy answer
# is a Gaussian: Kaplan's way to make the central limit theorem plausible. Your solution on 241 points of
# $[-6, 6]$, with the normal density of the same mean and variance for comparison:

# %%
try:
    _x = torch.linspace(-6, 6, 241, dtype=torch.float64)
    _mean, _var = 0.8, 1.5
    _p = max_entropy_distribution(torch.stack([_x, _x**2], dim=1), torch.tensor([_mean, _var + _mean**2], dtype=torch.float64))
    _dx = (_x[1] - _x[0]).item()
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.plot(_x.numpy(), (_p / _dx).numpy(), "C0-", lw=3, alpha=0.6, label="maximum entropy, mean 0.8 and variance 1.5")
    ax.plot(_x.numpy(), np.exp(-(_x.numpy() - _mean) ** 2 / (2 * _var)) / math.sqrt(2 * math.pi * _var), "k--",
            label="N(0.8, 1.5)")
    ax.legend(fontsize=8)
    plt.show()
except NotImplementedError:
    print("Implement max_entropy_distribution to see this plot.")

# %% [markdown]
# ## 7. SNE affinities at a target perplexity
#
# Stochastic Neighbor Embedding (Kaplan §2.6) turns distances between data points into probabilities: point
# $i$ picks point $j$ as its neighbour with probability
#
# $$p_{j\mid i} = \frac{\exp\!\big(-\|x_i - x_j\|^2 / 2\sigma_i^2\big)}{\sum_{k\ne i}\exp\!\big(-\|x_i - x_k\|^2 / 2\sigma_i^2\big)},
#   \qquad p_{i\mid i} = 0,$$
#
# a Gaussian of standard deviation $\sigma_i$ centred on $x_i$. (Kaplan's (2.6.1) drops the 2 in $2\sigma_i^2$; we
# keep it, so that $\sigma_i$ is the Gaussian's standard deviation.) An embedding then places points $y_i$ so
# that the same construction in the low-dimensional space matches these rows in KL divergence.
#
# Each point gets its own bandwidth, chosen so that its row has a prescribed **perplexity**
# $\text{Perp}(P_i) = 2^{H_2(P_i)}$, with $H_2$ in bits; note that $2^{H_2} = e^{H}$ with $H$ in nats, so the
# perplexity does not depend on the base, as long as base and exponential match. The perplexity is a smooth
# count of neighbours: a row spread evenly over $k$ points has perplexity $k$. Dense regions get small
# $\sigma_i$, sparse ones large.
#
# These conditional affinities are **SNE's**. t-SNE starts from them but then symmetrizes them,
# $p_{ij} = (p_{j\mid i} + p_{i\mid j})/2n$, and uses a Student-t kernel instead of a Gaussian in the
# embedding; neither change is part of this exercise.
#
# ### Exercise 12: `sne_affinities`
#
# Implement `sne_affinities(x, perplexity, tol=1e-5, max_iter=200)` for points `x` of shape `(n, D)` (no two
# equal, $1 <$ `perplexity` $< n-1$). Return `(P, sigma)`: `P` of shape `(n, n)`, row $i$ holding
# $p_{j\mid i}$ (rows sum to 1, zero diagonal), and `sigma` of shape `(n,)`, the bandwidths, found by
# **bisection** so that each row's perplexity is within a relative `tol` of the target; both in the dtype of
# `x`. The row entropy grows with $\sigma_i$, which is what makes bisection work. Points may be very far apart
# or very close: the exponentials must neither underflow to $0/0$ nor overflow.
#
# <details><summary>Hint 1</summary>
#
# Squared distances: `torch.cdist(x, x) ** 2`. Exclude the diagonal by setting it to $+\infty$ before
# exponentiating, so that its weight is exactly 0.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Bisect on $\log\sigma_i$ (or on the precision $\beta_i = 1/2\sigma_i^2$, doubling or halving until the
# target is bracketed): a bracket from far below the nearest-neighbour distance to far above the largest
# distance contains the answer. All rows can be bisected at once, each with its own bracket.
# </details>
#
# <details><summary>Hint 3</summary>
#
# Subtract each row's smallest squared distance before dividing by $2\sigma_i^2$: the nearest neighbour then
# gets weight $e^0 = 1$ and the normalization is never $0/0$. It cancels in the normalization.
# </details>

# %% nbgrader={"grade": false, "grade_id": "sne_affinities", "locked": false, "schema_version": 3, "solution": true}
def sne_affinities(x, perplexity, tol=1e-5, max_iter=200):
    """SNE's conditional affinities p_{j|i} with each sigma_i tuned to a target perplexity.

    Args:
        x: points, tensor (n, D).
        perplexity: target perplexity of every row, 1 < perplexity < n - 1.
        tol: relative tolerance on each row's perplexity.
        max_iter: most bisection steps.
    Returns:
        (P, sigma): P of shape (n, n) (row i: p_{.|i}, zero diagonal), sigma of shape (n,); dtype of x.
    """
    ### BEGIN SOLUTION
    x64 = x.to(torch.float64)
    n = x.shape[0]
    eye = torch.eye(n, dtype=torch.bool)
    d2 = (torch.cdist(x64, x64) ** 2).masked_fill(eye, float("inf"))
    shifted = d2 - d2.min(dim=1, keepdim=True).values
    lo = torch.log(d2.min(dim=1).values.sqrt()) - 20.0
    hi = torch.log(d2.masked_fill(eye, 0.0).max(dim=1).values.sqrt()) + 20.0

    def rows(log_sigma):
        P = torch.softmax(-shifted / (2 * torch.exp(2 * log_sigma))[:, None], dim=1)
        return P, -torch.xlogy(P, P).sum(dim=1)

    for _ in range(max_iter):
        mid = (lo + hi) / 2
        P, H = rows(mid)
        if torch.all((torch.exp(H) - perplexity).abs() <= tol * perplexity):
            break
        too_wide = H > math.log(perplexity)
        hi = torch.where(too_wide, mid, hi)
        lo = torch.where(too_wide, lo, mid)
    P, _ = rows(mid)
    return P.to(x.dtype), torch.exp(mid).to(x.dtype)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sne_affinities", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_pts = torch.tensor([[0.0], [1.0], [3.0]], dtype=torch.float64)
_P, _sig = sne_affinities(_pts, 1.5)
expect_shape(_P, (3, 3), what="P")
expect_shape(_sig, (3,), what="sigma")
expect_close(_P.diagonal(), torch.zeros(3, dtype=torch.float64), what="the diagonal p_{i|i}",
             hint="A point is not its own neighbour.")
expect_close(_P.sum(dim=1), torch.ones(3, dtype=torch.float64), what="the row sums",
             hint="Row i is the distribution p_{.|i}: normalize over j.")
expect_close(torch.exp(-torch.xlogy(_P, _P).sum(dim=1)), torch.full((3,), 1.5, dtype=torch.float64),
             what="each row's perplexity 2^H2 = e^H", rtol=1e-4,
             hint="Bisect until exp(entropy in nats) (= 2^(entropy in bits)) matches the target.")
expect_close(_sig, torch.tensor([1.485359770767572, 0.9095933807081041, 1.174280005101745], dtype=torch.float64),
             what="sigma", rtol=1e-4, hint="The kernel is exp(-d^2 / (2 sigma^2)): keep the 2.")

# %% nbgrader={"grade": true, "grade_id": "test_sne_affinities_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("sne_affinities", sne_affinities)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# Three clusters of very different spread. With a fixed perplexity, the tight cluster's points get small
# bandwidths and the loose cluster's points large ones (the colour of each point is its $\sigma_i$); the right
# panel shows the affinity matrix, nearly block-diagonal. Move the perplexity.

# %%
_gen = torch.Generator().manual_seed(2)
_cloud = torch.cat([torch.tensor(c, dtype=torch.float64) + s * torch.randn(40, 2, generator=_gen, dtype=torch.float64)
                    for c, s in (((0.0, 0.0), 0.3), ((6.0, 0.0), 1.0), ((2.0, 6.0), 2.0))])


def show_affinities(perplexity=10):
    try:
        P, sigma = sne_affinities(_cloud, float(perplexity))
    except NotImplementedError:
        print("Implement sne_affinities to see this demo.")
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    points = axes[0].scatter(_cloud[:, 0].numpy(), _cloud[:, 1].numpy(), c=sigma.numpy(), cmap="viridis", s=18)
    fig.colorbar(points, ax=axes[0], label="sigma_i")
    axes[0].set_title(f"perplexity {perplexity}: sigma from {sigma.min().item():.2f} to {sigma.max().item():.2f}")
    axes[1].imshow(P.numpy(), cmap="magma")
    axes[1].set_title("p_{j|i} (row i)")
    plt.show()


interact(show_affinities, perplexity=widgets.IntSlider(value=10, min=2, max=60, step=1));

# %% [markdown]
# ### Concept question 2: `perplexity_answer`
#
# A row of SNE affinities has entropy $H = 3$ nats. What is its perplexity?
#
# - **a.** $2^3 = 8$.
# - **b.** $e^3 \approx 20.1$.
# - **c.** $3$: the perplexity is the entropy.
# - **d.** $e^{3/\ln 2} \approx 76.1$: convert to bits first, then exponentiate.

# %% nbgrader={"grade": false, "grade_id": "perplexity_answer", "locked": false, "schema_version": 3, "solution": true}
def perplexity_answer():
    """Your answer to concept question 2: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_perplexity_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(perplexity_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_perplexity_answer_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("perplexity_answer", perplexity_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 8. Sources with memory: Markov chains
#
# The textbook (§14.1) moves from single draws to sequences. For i.i.d. symbols the **asymptotic
# equipartition property** says that $-\frac1n\log_2 P(x_1, \dots, x_n) \to H$: almost every long sequence has
# probability about $2^{-nH}$, so about $2^{nH}$ sequences carry nearly all the probability, and $H$ bits per
# symbol are needed to name one of them. For a source with memory the right quantity is the **entropy rate**,
# the entropy of the next symbol given the past, $H_r = \lim_n H(X_n \mid X_1, \dots, X_{n-1})$.
#
# For a stationary Markov chain with transition matrix $A_{ij} = P(X_{t+1} = j\mid X_t = i)$ the past
# matters only through the last state, so $H_r = H(X_2\mid X_1)$: the entropy of row $i$, averaged with the
# probability $\pi_i$ of being in state $i$. The **stationary distribution** $\pi$ is the one that one step of
# the chain leaves unchanged:
#
# $$\pi_j = \sum_i \pi_i A_{ij}, \qquad\text{that is}\qquad \pi A = \pi,\quad \textstyle\sum_i\pi_i = 1.$$
#
# $\pi$ is a **left** eigenvector of $A$ for the eigenvalue 1 (an ordinary eigenvector of $A^\top$). The
# textbook writes $\pi = A\pi$ with the same row-stochastic $A$: that is the right eigenvector, and since every
# row of $A$ sums to 1, $A\mathbf 1 = \mathbf 1$: it is always the constant vector, whatever the chain.
#
# ### Exercise 13: `stationary_distribution`
#
# Implement `stationary_distribution(A)` for a row-stochastic, irreducible `A` of shape `(S, S)`: return
# $\pi$ of shape `(S,)`, non-negative and summing to 1, accurate to $10^{-8}$, dtype of `A`. Any correct method
# is fine (an eigenvector of $A^\top$, or a linear solve of $\pi(A - I) = 0$ with one equation replaced by
# $\sum_i\pi_i = 1$); power iteration converges slowly for chains that mix slowly.

# %% nbgrader={"grade": false, "grade_id": "stationary_distribution", "locked": false, "schema_version": 3, "solution": true}
def stationary_distribution(A):
    """Stationary distribution pi of a row-stochastic transition matrix: pi A = pi, sum(pi) = 1.

    Args:
        A: tensor (S, S), A[i, j] = P(next = j | now = i), rows summing to 1.
    Returns:
        tensor (S,), dtype of A.
    """
    ### BEGIN SOLUTION
    S = A.shape[0]
    system = (A.to(torch.float64) - torch.eye(S, dtype=torch.float64)).T.clone()
    system[-1] = 1.0
    rhs = torch.zeros(S, dtype=torch.float64)
    rhs[-1] = 1.0
    return torch.linalg.solve(system, rhs).clamp(min=0).to(A.dtype)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_stationary_distribution", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_close(stationary_distribution(torch.tensor([[0.9, 0.1], [0.5, 0.5]], dtype=torch.float64)),
             torch.tensor([5 / 6, 1 / 6], dtype=torch.float64), what="pi of [[0.9, 0.1], [0.5, 0.5]]",
             hint="pi A = pi: a LEFT eigenvector (of A.T). The right eigenvector of a row-stochastic matrix is constant.")
expect_close(stationary_distribution(SOURCE), torch.tensor([32 / 69, 19 / 69, 18 / 69], dtype=torch.float64),
             what="pi of the chapter's source", hint="Normalize so that the entries sum to 1.")

# %% nbgrader={"grade": true, "grade_id": "test_stationary_distribution_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("stationary_distribution", stationary_distribution)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 14: `entropy_rate`
#
# Implement `entropy_rate(A, base=math.e)`: $H_r = -\sum_i \pi_i\sum_j A_{ij}\log A_{ij}$ for a row-stochastic,
# irreducible `A`, with $0\log 0 = 0$, in nats by default (`base=2`: bits per symbol). Return a 0-d tensor,
# dtype of `A`. Your `stationary_distribution` and `entropy` are the pieces.

# %% nbgrader={"grade": false, "grade_id": "entropy_rate", "locked": false, "schema_version": 3, "solution": true}
def entropy_rate(A, base=math.e):
    """Entropy rate of the stationary Markov chain with transition matrix A.

    Args:
        A: tensor (S, S), A[i, j] = P(next = j | now = i).
        base: base of the logarithm (math.e: nats, 2: bits per symbol).
    Returns:
        0-d tensor, dtype of A.
    """
    ### BEGIN SOLUTION
    return (stationary_distribution(A) * entropy(A, base=base, dim=1)).sum()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_entropy_rate", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_A2 = torch.tensor([[0.9, 0.1], [0.5, 0.5]], dtype=torch.float64)
_h = -0.9 * math.log2(0.9) - 0.1 * math.log2(0.1)
expect_close(entropy_rate(_A2, base=2), 5 / 6 * _h + 1 / 6 * 1.0, what="entropy rate of [[0.9, 0.1], [0.5, 0.5]] in bits",
             hint="Weight each row's entropy by the stationary probability of its state (5/6 and 1/6 here).")
expect_close(entropy_rate(_A2), (5 / 6 * _h + 1 / 6) * math.log(2), what="the same in nats (the default)")

# %% nbgrader={"grade": true, "grade_id": "test_entropy_rate_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("entropy_rate", entropy_rate)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# The textbook goes one step further: the **information rate** $IR = H(\pi) - H_r = I(X_t; X_{t+1})$ is what
# the present tells about the next symbol, and the **predictive information rate**
# $PIR = H_r(A^2) - H_r(A) = I(X_{t+1}; X_t \mid X_{t-1})$ is what the present adds to the past. Its example, a
# chain that stays put with probability $1 - \varepsilon$ and jumps uniformly otherwise: for small
# $\varepsilon$ the next symbol is predictable ($H_r \approx 0$, $IR \approx \log_2 N$), for
# $\varepsilon \to 1 - 1/N$ nothing is ($IR \approx 0$). Your functions, for $N = 4$:

# %%
try:
    _eps = np.linspace(0.01, 0.75, 60)
    _rows = []
    for _e in _eps:
        _A = (1 - _e) * torch.eye(4, dtype=torch.float64) + _e / 4
        _h_pi = entropy(stationary_distribution(_A), base=2).item()
        _hr, _hr2 = entropy_rate(_A, base=2).item(), entropy_rate(_A @ _A, base=2).item()
        _rows.append((_h_pi, _hr, _h_pi - _hr, _hr2 - _hr))
    _rows = np.array(_rows)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for k, label in enumerate(["H(pi)", "entropy rate H_r", "information rate IR", "predictive information rate PIR"]):
        ax.plot(_eps, _rows[:, k], label=label)
    ax.set_xlabel("jump probability epsilon (N = 4 states)")
    ax.set_ylabel("bits")
    ax.legend(fontsize=8)
    plt.show()
except NotImplementedError:
    print("Implement entropy, stationary_distribution and entropy_rate to see this plot.")

# %% [markdown]
# ## 9. Codes that reach the entropy
#
# A binary **prefix code** gives symbol $i$ a codeword of $\ell_i$ bits, no codeword the start of another,
# so a stream of codewords can be cut without separators. Such lengths exist exactly when **Kraft's
# inequality** $\sum_i 2^{-\ell_i} \le 1$ holds. Minimizing the expected length $\sum_i p_i\ell_i$ under it
# gives the source coding theorem: every prefix code has $\sum_i p_i\ell_i \ge H_2(p)$, and the lengths
# $\lceil -\log_2 p_i\rceil$ come within one bit. **Huffman's algorithm** finds the optimal lengths: repeatedly
# merge the two least probable symbols (or groups) into one; each merge puts one more bit in front of every
# symbol of both groups.
#
# The "within one bit" is per coded unit. Coding blocks of $k$ symbols at once spreads it over $k$ symbols;
# and for a source with memory, coding each block with a code chosen for the symbol just before it brings
# the target down from $H(\pi)$ to the entropy rate.
#
# ### Exercise 15: `huffman_code_lengths`
#
# Implement `huffman_code_lengths(p)` for weights `p` of shape `(n,)`, $n \ge 2$, non-negative (they need not
# sum to 1; zero weights still get a codeword). Return the codeword lengths of a Huffman code as an integer
# tensor of shape `(n,)`. Ties may be broken any way: the grader checks Kraft's inequality and that the expected
# length is optimal, not the lengths one by one. (`heapq` keeps the lightest groups at hand.)

# %% nbgrader={"grade": false, "grade_id": "huffman_code_lengths", "locked": false, "schema_version": 3, "solution": true}
def huffman_code_lengths(p):
    """Codeword lengths of a binary Huffman code for the weights p.

    Args:
        p: non-negative weights, tensor (n,), n >= 2.
    Returns:
        int64 tensor (n,) of lengths.
    """
    ### BEGIN SOLUTION
    import heapq
    import itertools
    lengths = [0] * p.shape[0]
    tie = itertools.count()
    heap = [(float(w), next(tie), [i]) for i, w in enumerate(p.tolist())]
    heapq.heapify(heap)
    while len(heap) > 1:
        w1, _, s1 = heapq.heappop(heap)
        w2, _, s2 = heapq.heappop(heap)
        for i in s1 + s2:
            lengths[i] += 1
        heapq.heappush(heap, (w1 + w2, next(tie), s1 + s2))
    return torch.tensor(lengths, dtype=torch.int64)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_huffman_code_lengths", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_close(huffman_code_lengths(torch.tensor([0.5, 0.25, 0.125, 0.125], dtype=torch.float64)),
             torch.tensor([1, 2, 3, 3]), what="Huffman lengths of (1/2, 1/4, 1/8, 1/8)",
             hint="For dyadic probabilities the lengths are exactly -log2 p.")
_p4 = torch.tensor([0.4, 0.35, 0.2, 0.05], dtype=torch.float64)
_l4 = torch.as_tensor(huffman_code_lengths(_p4)).to(torch.float64)
expect_true(float(kraft_sums(_l4)) <= 1.0, "The lengths must satisfy Kraft's inequality sum 2^-l <= 1.")
expect_close((_p4 * _l4).sum(), 1.85, what="expected length for (0.4, 0.35, 0.2, 0.05), bits",
             hint="Merge the two LIGHTEST groups each time; each merge adds a bit to every symbol of both.")

# %% nbgrader={"grade": true, "grade_id": "test_huffman_code_lengths_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("huffman_code_lengths", huffman_code_lengths)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 16 (make it work): `fit_block_code`
#
# Compress a Markov source to **within 0.04 bits per symbol of its entropy rate**, measured on held-out data.
# The chapter's source `SOURCE` (from `course.information`) has three symbols, $H(\pi) \approx 1.532$ bits and
# an entropy rate $H_r \approx 1.009$ bits per symbol, so a symbol-by-symbol Huffman code that ignores the
# past cannot get anywhere near the target.
#
# Implement `fit_block_code(train, n_symbols)`. You get a training sequence `train` (an int64 tensor of
# symbols in `[0, n_symbols)`) from an unknown Markov source, and return `(block_size, lengths)`:
#
# - `block_size`, an `int` from 1 to 8 with `n_symbols ** block_size <= 4096`;
# - `lengths`, an integer tensor of shape `(n_symbols, n_symbols ** block_size)`: `lengths[c, b]` is the number
#   of bits of block `b` when the symbol just before the block is `c`. A block's index reads its symbols as
#   base-`n_symbols` digits, the first symbol most significant (block `(x1, x2, x3)` is
#   `x1 * n**2 + x2 * n + x3`). Every row must satisfy Kraft's inequality.
#
# `block_code_bits(sequence, block_size, lengths)` from `course.information` measures the bits per symbol of
# your code on a sequence, exactly as the grader does: the first symbol is free, the rest is cut into blocks
# (a short tail is dropped) and each block is charged `lengths[previous symbol, block]`. The grader trains your
# function on sources you have not seen (other alphabets, other transition matrices) and measures it on fresh
# held-out sequences; the target is always entropy rate + 0.04. It must run in a few seconds.
#
# <details><summary>Hint 1</summary>
#
# Estimate the source from the training data: count the transitions $i \to j$, add a little to every count
# (so that no transition gets probability 0 and no block an infinite codeword), normalize the rows.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Given the previous symbol $c$, the probability of the block $(x_1, \dots, x_k)$ is
# $A_{c x_1} A_{x_1 x_2}\cdots A_{x_{k-1}x_k}$. One Huffman code per context $c$, over all $n^k$ blocks.
# </details>
#
# <details><summary>Hint 3</summary>
#
# Pick the block size by the expected bits per symbol under your estimated model,
# $\frac1k\sum_c \pi_c\sum_b P(b\mid c)\,\ell_{c b}$, over the allowed sizes. Measure the result with
# `block_code_bits` on a held-out sequence you draw yourself with `markov_sequence`.
# </details>

# %% nbgrader={"grade": false, "grade_id": "fit_block_code", "locked": false, "schema_version": 3, "solution": true}
def fit_block_code(train, n_symbols):
    """A block code for a Markov source, fitted on a training sequence.

    Args:
        train: int64 tensor (N,) of symbols in [0, n_symbols).
        n_symbols: the alphabet size.
    Returns:
        (block_size, lengths): an int in 1..8 (n_symbols ** block_size <= 4096) and an integer tensor
        (n_symbols, n_symbols ** block_size); lengths[c, b] = bits of block b after the symbol c.
    """
    ### BEGIN SOLUTION
    S = n_symbols
    counts = torch.full((S, S), 0.5, dtype=torch.float64)
    counts += torch.bincount(train[:-1] * S + train[1:], minlength=S * S).reshape(S, S).to(torch.float64)
    A = counts / counts.sum(dim=1, keepdim=True)
    pi = stationary_distribution(A)
    best = None
    for k in range(1, 9):
        if S**k > 4096:
            break
        probs = A.clone()                                         # P(block | previous symbol), (S, S**k)
        for _ in range(k - 1):
            last = torch.arange(probs.shape[1]) % S
            probs = (probs[:, :, None] * A[last][None, :, :]).reshape(S, -1)
        lengths = torch.stack([huffman_code_lengths(row) for row in probs])
        bits = float((pi[:, None] * probs * lengths).sum()) / k
        if best is None or bits < best[0]:
            best = (bits, k, lengths)
    return best[1], best[2]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_fit_block_code", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_train = markov_sequence(SOURCE, 60_000, torch.Generator().manual_seed(0))
_held_out = markov_sequence(SOURCE, 60_000, torch.Generator().manual_seed(1))
_k, _lengths = fit_block_code(_train, 3)
expect_true(isinstance(_k, int) and 1 <= _k <= 8 and 3**_k <= 4096, f"block_size must be an int in 1..8, got {_k!r}.")
expect_shape(_lengths, (3, 3**_k), what="lengths")
expect_true(float(kraft_sums(_lengths).max()) <= 1.0, "Every row of lengths must satisfy Kraft's inequality.")
_bits = block_code_bits(_held_out, _k, _lengths)
print(f"block size {_k}: {_bits:.4f} bits/symbol on held-out data; entropy rate 1.0094, target {1.0094 + 0.04:.4f}")
expect_true(_bits <= 1.0094 + 0.04, f"{_bits:.4f} bits/symbol is above the target 1.0494: use the context "
                                    "(the previous symbol) and longer blocks.")

# %% nbgrader={"grade": true, "grade_id": "test_fit_block_code_2", "locked": true, "points": 6, "schema_version": 3, "solution": false}
# Hidden tests (other sources, fresh held-out data) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("fit_block_code", fit_block_code)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# How the pieces add up, on the chapter's source: bits per symbol on held-out data for each block size, coded
# without context (a Huffman code for the blocks' overall frequencies) and with the previous symbol as
# context, against $H(\pi)$ and the entropy rate. Coding without context can approach the entropy rate
# only slowly, as the blocks get long.

# %%
_demo_train = markov_sequence(SOURCE, 60_000, torch.Generator().manual_seed(3))
_demo_held_out = markov_sequence(SOURCE, 60_000, torch.Generator().manual_seed(4))


def show_block_sizes():
    S = 3
    counts = torch.bincount(_demo_train[:-1] * S + _demo_train[1:], minlength=S * S).reshape(S, S).to(torch.float64) + 0.5
    A = counts / counts.sum(dim=1, keepdim=True)
    pi = stationary_distribution(A)
    sizes, plain, context = range(1, 8), [], []
    for k in sizes:
        probs = A.clone()
        for _ in range(k - 1):
            probs = (probs[:, :, None] * A[torch.arange(probs.shape[1]) % S][None, :, :]).reshape(S, -1)
        with_context = torch.stack([huffman_code_lengths(row) for row in probs])
        without = huffman_code_lengths(pi @ probs).expand(S, -1)
        plain.append(block_code_bits(_demo_held_out, k, without))
        context.append(block_code_bits(_demo_held_out, k, with_context))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(list(sizes), plain, "o-", label="Huffman on blocks, no context")
    ax.plot(list(sizes), context, "s-", label="Huffman on blocks given the previous symbol")
    ax.axhline(entropy(stationary_distribution(SOURCE), base=2).item(), color="gray", ls=":", label="H(pi)")
    ax.axhline(entropy_rate(SOURCE, base=2).item(), color="k", ls="--", label="entropy rate")
    ax.set_xlabel("block size k")
    ax.set_ylabel("bits per symbol (held out)")
    ax.legend(fontsize=8)
    plt.show()


try:
    show_block_sizes()
except NotImplementedError:
    print("Implement entropy, stationary_distribution, entropy_rate and huffman_code_lengths to see this plot.")

# %% [markdown]
# ### Concept question 3: `block_code_answer`
#
# The chapter's source has $H(\pi) \approx 1.53$ bits and entropy rate $H_r \approx 1.01$ bits per symbol. You code
# each symbol on its own with the best prefix code for $\pi$, ignoring the previous symbol. With as much
# training data as you like, what is the best you can reach?
#
# - **a.** $H_r \approx 1.01$ bits per symbol: Huffman codes are optimal, so they reach the entropy rate.
# - **b.** Below 1.01 bits per symbol, given enough training data to learn the probabilities exactly.
# - **c.** No less than $H(\pi) \approx 1.53$ bits per symbol: a code that ignores the past pays for the
#   uncertainty of each symbol taken alone.
# - **d.** Exactly 2 bits per symbol: whole-bit codewords for three symbols need two bits each.

# %% nbgrader={"grade": false, "grade_id": "block_code_answer", "locked": false, "schema_version": 3, "solution": true}
def block_code_answer():
    """Your answer to concept question 3: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_block_code_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(block_code_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_block_code_answer_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("block_code_answer", block_code_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## What you built
#
# - `entropy`, `distribution_cross_entropy`, `kl_divergence`: the three quantities behind every
#   likelihood-based loss, with $0\log 0 = 0$, infinite divergences and both units; and `log_count_per_symbol`,
#   which shows the entropy as the count of typical strings.
# - `normal_cross_entropy`, `normal_kl`: the Gaussian KL in closed form, derived by you; the demo showed
#   forward KL covering both modes and reverse KL picking one.
# - `conditional_entropy`, `mutual_information`: what one variable leaves uncertain about, and tells about,
#   another; the second is the KL between a joint and the product of its marginals.
# - `normal_fisher`, `fisher_from_kl`: the Fisher matrix, by hand in three parametrizations and by autograd
#   as the curvature of the KL.
# - `max_entropy_distribution`: Boltzmann and Gaussian distributions as maximum-entropy answers, computed by
#   Newton's method on the convex dual.
# - `sne_affinities`: SNE's per-point bandwidths by bisection to a target perplexity.
# - `stationary_distribution`, `entropy_rate`: a Markov source's left eigenvector and its bits per symbol.
# - `huffman_code_lengths`, `fit_block_code`: a code that compresses a source with memory to within a few
#   hundredths of a bit of its entropy rate.
#
# **Next:** chapter 03 (linear models and softmax) trains classifiers by minimizing exactly the cross-entropy
# of this chapter, between the labels and the model's softmax.
