# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 19 · Fine-tuning and domain shift
#
# A network trained on one data set is rarely used on exactly that data. Sometimes the **task** changes: new
# classes arrive with a handful of labels, and we reuse what the network learned by keeping its features and
# training a new output layer (**fine-tuning**). Sometimes the task stays and the **inputs** change: a digit
# recognizer trained on upright digits meets rotated ones, for which we have no labels at all (**domain
# adaptation**). This chapter measures how far apart two domains are (maximum mean discrepancy, total variation,
# the H-divergence), sees why that distance bounds the error on the new domain, and trains networks whose
# features make the two domains look alike, with an MMD penalty or with a gradient-reversal layer (DANN).
#
# **Learning goals**
# - Pretrain a small CNN on the digits 0-4, freeze it, replace its head and fine-tune on the digits 5-9 from a
#   few labels; compare with training from scratch.
# - Write the squared MMD with an RBF kernel, biased and unbiased, and derive where the bias comes from.
# - Derive the total variation distance of two distributions on a finite set from its definition as a
#   supremum over events, and compute the H-divergence of threshold classifiers (twice the
#   Kolmogorov-Smirnov statistic).
# - Write the gradient-reversal layer as a custom autograd function and the DANN loss.
# - Raise the accuracy on rotated digits, without a single target label, from about 0.5 to above 0.62.
#
# **Notes followed.** *Deep learning lecture notes* (the textbook), chapter 16 (transfer learning: model-based
# transfer by freezing and replacing layers, the transferability of features, feature-based transfer and the
# maximum mean discrepancy, the analysis of domain adaptation with the H-divergence, the domain-adversarial
# neural network and its gradient-reversal layer, problem 16.2 on the total variation distance); Hegde, *NYU
# deep learning notes*, lecture 13 (transfer learning and fine-tuning as initialization; linear probes on
# frozen features).
#
# **Conventions used throughout.**
# - Samples are rows: a source sample `(n, D)`, a target sample `(m, D)`; 1-D scores are `(n,)`.
# - The **RBF kernel** with bandwidth $\sigma$ is $k(x, y) = \exp\!\big(-\lVert x - y\rVert^2 / (2\sigma^2)\big)$.
# - Distances between distributions follow the notes' **factor-2 convention**: the H-divergence is
#   $d_{\mathcal H}(P, Q) = 2\sup_{h\in\mathcal H} |P(h = 1) - Q(h = 1)|$ and the total variation distance is
#   $\mathrm{TV}(P, Q) = 2 \sup_E |P(E) - Q(E)|$ (many papers drop the 2; then everything below halves).
# - Domain labels are **0 for the source, 1 for the target**. Losses are means.
# - Every function keeps the dtype and device of its input and never modifies its inputs.


# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import copy
import math
import numpy as np
import torch
import torch.nn.functional as F
import matplotlib.pyplot as plt
from course.checks import expect_close, expect_true, expect_shape
from course.demos import interact, needs_exercises
from course.meta import digits_by_class_split
from course.transfer import (accuracy, domain_split, median_bandwidth, rotate_digits, small_cnn, source_only,
                             train_classifier)
f64 = torch.float64

# %%
# Keeps the notebook fast on a busy machine: the networks here are small.
torch.set_num_threads(1)
X_base, y_base, X_novel, y_novel = digits_by_class_split()
print(f"digits 0-4: {len(y_base)} images; digits 5-9: {len(y_novel)} images")

# %% [markdown]
# ## 1. Fine-tuning: keep the features, replace the head
#
# Model-based transfer (notes, §16.2) reuses a network trained on a **source task**. The early layers of a
# CNN compute generic features (edges, strokes); the last layers specialize in the source classes. Yosinski
# et al.'s experiments, described in the notes, show exactly this: copying the first layers of a network
# trained on one half of ImageNet helps on the other half, and the deeper the copied layer, the more specific
# (and less transferable) it is. The cheapest reuse is therefore to **freeze** everything but the output layer
# and train a **new head** for the new classes: a linear classifier on frozen features (a *linear probe*, in
# the language of lecture 13). With more target labels one can also unfreeze the body and fine-tune it with a
# small learning rate.
#
# Here the "large source data set" is the digits 0-4, and the new task is the digits 5-9. First we pretrain a
# small CNN (`small_cnn`: two convolutional blocks, a 64-unit hidden layer, a linear head) on 0-4.

# %%
pretrained = small_cnn(n_classes=5, seed=0)
losses = train_classifier(pretrained, X_base, y_base, torch.Generator().manual_seed(0), steps=300)
with torch.no_grad():
    print(f"pretrained on digits 0-4: final loss {losses[-1]:.3f}, accuracy on them "
          f"{accuracy(pretrained(X_base), y_base):.3f}")
print(pretrained)

# %% [markdown]
# ### Exercise 1: `freeze_and_replace_head`
# Given `model`, a `torch.nn.Sequential` whose last module is a `torch.nn.Linear`, and `n_classes`, return a
# **new** `torch.nn.Sequential`: a **copy** of every module but the last, with all their parameters frozen
# (`requires_grad=False`), followed by a fresh `torch.nn.Linear(in_features, n_classes)` (trainable, with a
# bias if the old head had one, in the old head's dtype). The `model` you are given must come out unchanged:
# still trainable, same head (the pretrained network may be needed again).

# %% nbgrader={"grade": false, "grade_id": "freeze_and_replace_head", "locked": false, "schema_version": 3, "solution": true}
def freeze_and_replace_head(model, n_classes):
    """A frozen copy of model's feature extractor followed by a new trainable head.

    Args:
        model: torch.nn.Sequential ending with a torch.nn.Linear; left unchanged.
        n_classes: outputs of the new head.

    Returns:
        torch.nn.Sequential: frozen copied body, then Linear(in_features, n_classes).
    """
    ### BEGIN SOLUTION
    body = copy.deepcopy(model[:-1])
    for p in body.parameters():
        p.requires_grad_(False)
    old = model[-1]
    head = torch.nn.Linear(old.in_features, n_classes, bias=old.bias is not None,
                           device=old.weight.device, dtype=old.weight.dtype)
    return torch.nn.Sequential(*body, head)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_freeze_and_replace_head", "locked": true, "points": 1, "schema_version": 3, "solution": false}
net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
new = freeze_and_replace_head(net, 5)
x = torch.randn(6, 4)
expect_shape(new(x), (6, 5), what="the new model's output")
_trainable = [p.requires_grad for p in new.parameters()]
expect_true(_trainable == [False, False, True, True],
            f"only the new head's weight and bias may require grad: expected requires_grad "
            f"[False, False, True, True] (body weight, body bias, head weight, head bias), got {_trainable}.",
            hint="Freeze the copied body's parameters; the new head stays trainable.")
expect_close(new[:-1](x), net[:-1](x).detach(), what="the features of the copied body",
             hint="Keep the pretrained layers: only the last module is replaced.")
expect_true(all(p.requires_grad for p in net.parameters()) and net[-1].out_features == 2,
            "the model passed in was changed.", hint="Work on a copy (copy.deepcopy) of the body.")

# %% nbgrader={"grade": true, "grade_id": "test_freeze_and_replace_head_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("freeze_and_replace_head", freeze_and_replace_head)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: a new head on frozen features, or a network from scratch?
# With $k$ labelled images of each of the digits 5-9, train (a) a new head on the frozen pretrained features
# and (b) the same CNN from scratch, and measure both on all the other images of 5-9. With few labels the
# frozen features win by far: the head has 325 parameters to fit instead of about 13,000, and the features,
# learned on the digits 0-4, already separate strokes that the digits 5-9 share.

# %%
def few_labels(k, seed=0):
    g = torch.Generator().manual_seed(seed)
    picked = torch.cat([torch.nonzero(y_novel == d).flatten()[torch.randperm(int((y_novel == d).sum()), generator=g)[:k]]
                        for d in range(5, 10)])
    rest = torch.ones(len(y_novel), dtype=torch.bool)
    rest[picked] = False
    return X_novel[picked], y_novel[picked] - 5, X_novel[rest], y_novel[rest] - 5


with needs_exercises():
    shots, results = [1, 5, 20], {"new head on frozen features": [], "whole CNN from scratch": []}
    for k in shots:
        X_k, y_k, X_rest, y_rest = few_labels(k)
        fine_tuned = freeze_and_replace_head(pretrained, 5)
        train_classifier(fine_tuned, X_k, y_k, torch.Generator().manual_seed(1), steps=150, lr=1e-2)
        scratch = small_cnn(n_classes=5, seed=1)
        train_classifier(scratch, X_k, y_k, torch.Generator().manual_seed(1), steps=150, lr=3e-3)
        with torch.no_grad():
            results["new head on frozen features"].append(accuracy(fine_tuned(X_rest), y_rest))
            results["whole CNN from scratch"].append(accuracy(scratch(X_rest), y_rest))
    fig, ax = plt.subplots(figsize=(5.5, 3))
    for name, values in results.items():
        ax.plot(shots, values, "o-", label=name)
        for k, v in zip(shots, values):
            ax.annotate(f"{v:.2f}", (k, v), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_xticks(shots, [str(k) for k in shots])
    ax.set_xlabel("labelled images per digit (5-9)")
    ax.set_ylabel("accuracy on the other images")
    ax.set_ylim(0, 1.1)
    ax.legend(fontsize=8)
    plt.show()

# %% [markdown]
# ## 2. How far apart are two domains? The maximum mean discrepancy
#
# In **domain adaptation** (notes, §16.4) the task is the same (digits 0-9) but the inputs come from another
# distribution: we have labelled **source** images drawn from $P$ and unlabelled **target** images drawn from
# $Q$. Here the target digits are the same digits **rotated by 30°**.

# %%
data = domain_split(30.0)
fig, axes = plt.subplots(2, 8, figsize=(8, 2.2))
for i in range(8):
    axes[0, i].imshow(data.X_source[i].reshape(8, 8), cmap="gray_r")
    axes[1, i].imshow(data.X_target[i].reshape(8, 8), cmap="gray_r")
    axes[0, i].axis("off")
    axes[1, i].axis("off")
axes[0, 0].set_title("source (upright)", fontsize=8, loc="left")
axes[1, 0].set_title("target (rotated by 30°, no labels)", fontsize=8, loc="left")
plt.show()
baseline_encoder, baseline_classifier = source_only(data.X_source, data.y_source, torch.Generator().manual_seed(0))
with torch.no_grad():
    print(f"an MLP trained on the source: accuracy {accuracy(baseline_classifier(baseline_encoder(data.X_source)), data.y_source):.3f}"
          f" on the source, {accuracy(baseline_classifier(baseline_encoder(data.X_target_test)), data.y_target_test):.3f}"
          " on rotated target test images")

# %% [markdown]
# To adapt, we first need a number that says how different $P$ and $Q$ are, computable from samples and
# differentiable, so that a network can be trained to make it small. The **maximum mean discrepancy** (notes,
# §16.3) maps each point into a feature space $\mathcal H$ by $\phi$ and compares the **means** there:
#
# $$\mathrm{MMD}(P, Q) = \big\lVert \mathbb E_{x\sim P}\,\phi(x) - \mathbb E_{y\sim Q}\,\phi(y)\big\rVert_{\mathcal H}.$$
#
# With a kernel $k(x, y) = \langle\phi(x), \phi(y)\rangle_{\mathcal H}$ we never need $\phi$: expanding the
# squared norm gives inner products only,
#
# $$\mathrm{MMD}^2(P, Q) = \mathbb E\,k(x, x') + \mathbb E\,k(y, y') - 2\,\mathbb E\,k(x, y),$$
#
# with $x, x'$ independent draws from $P$ and $y, y'$ from $Q$. For a rich kernel such as the RBF kernel,
# $\mathrm{MMD}(P, Q) = 0$ only if $P = Q$; and by problem 16.1 of the notes it is also
# $\sup_{\lVert f\rVert_{\mathcal H}\le 1} \mathbb E_P f - \mathbb E_Q f$, the largest difference in mean a smooth
# test function can see.
#
# ### Exercise 2: `mmd2_biased`
# Replace each expectation by the mean over the sample, **all pairs** included (the notes' $\mathrm{tr}(KL)$ form,
# eq. 16.4): given `X` `(n, D)`, `Y` `(m, D)` and the RBF `bandwidth` $\sigma$, return the 0-dim tensor
#
# $$\widehat{\mathrm{MMD}}{}^2_b = \frac1{n^2}\sum_{i,j} k(x_i, x_j) + \frac1{m^2}\sum_{i,j} k(y_i, y_j)
#   - \frac2{nm}\sum_{i,j} k(x_i, y_j).$$
#
# This is the squared distance between the two *empirical* mean embeddings, so it is never negative.
# Vectorize (no Python loops over points).

# %% nbgrader={"grade": false, "grade_id": "mmd2_biased", "locked": false, "schema_version": 3, "solution": true}
def mmd2_biased(X, Y, bandwidth):
    """Biased squared MMD with the RBF kernel exp(-|x - y|^2 / (2 bandwidth^2)).

    Args:
        X: (n, D); Y: (m, D); bandwidth: sigma > 0.

    Returns:
        0-dim tensor, dtype of X.
    """
    ### BEGIN SOLUTION
    def k(A, B):
        return torch.exp(-torch.cdist(A, B) ** 2 / (2 * bandwidth ** 2))
    return k(X, X).mean() + k(Y, Y).mean() - 2 * k(X, Y).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_mmd2_biased", "locked": true, "points": 1, "schema_version": 3, "solution": false}
X = torch.tensor([[0.0], [0.0]], dtype=f64)
Y = torch.tensor([[1.0], [3.0]], dtype=f64)
e = math.exp
expected = 1 + (1 + e(-2)) / 2 - 2 * (e(-0.5) + e(-4.5)) / 2
expect_close(mmd2_biased(X, Y, 1.0), torch.tensor(expected, dtype=f64), what="mmd2_biased of two 2-point samples",
             hint="Three means over ALL pairs: k(X, X), k(Y, Y), k(X, Y); the cross term counts twice; "
                  "k = exp(-squared distance / (2 sigma^2)).")
expect_close(mmd2_biased(Y, Y, 2.0), torch.tensor(0.0, dtype=f64), what="the MMD of a sample with itself")

# %% nbgrader={"grade": true, "grade_id": "test_mmd2_biased_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("mmd2_biased", mmd2_biased)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3: `mmd2_unbiased`
# The biased estimate is too large on average: even for two samples of the **same** distribution its
# expectation is positive. Work out $\mathbb E\big[\frac1{n^2}\sum_{i,j} k(x_i, x_j)\big]$ when the $x_i$ are
# independent draws from $P$, compare it with the quantity it is meant to estimate, $\mathbb E\,k(x, x')$, and
# fix the estimator so that its expectation is exactly $\mathrm{MMD}^2(P, Q)$. Given `X` `(n, D)` with
# $n\ge 2$, `Y` `(m, D)` with $m \ge 2$ and `bandwidth`, return that **unbiased** estimate (0-dim tensor),
# changing only what is biased: the cross term stays $\frac2{nm}\sum_{i,j}k(x_i, y_j)$ over all $nm$ pairs. It
# can come out slightly negative; leave it so.
#
# <details><summary>Hint 1</summary>
#
# Split the double sum into its $n$ diagonal terms $i = j$ and its $n(n-1)$ off-diagonal terms. What is
# $k(x_i, x_i)$ for the RBF kernel, and what is the expectation of an off-diagonal term?
# </details>
#
# <details><summary>Hint 2</summary>
#
# $\mathbb E\big[\frac1{n^2}\sum_{i,j} k(x_i, x_j)\big] = \frac1n\cdot 1 + \frac{n-1}{n}\,\mathbb E\,k(x, x')$:
# the diagonal adds a bias of order $1/n$. The cross term $\frac1{nm}\sum_{i,j}k(x_i, y_j)$ has no such problem
# (an $x$ and a $y$ are always independent).
# </details>
#
# <details><summary>Hint 3</summary>
#
# $\widehat{\mathrm{MMD}}{}^2_u = \frac1{n(n-1)}\sum_{i\ne j} k(x_i, x_j) + \frac1{m(m-1)}\sum_{i\ne j} k(y_i, y_j)
#  - \frac2{nm}\sum_{i,j} k(x_i, y_j)$.
# </details>

# %% nbgrader={"grade": false, "grade_id": "mmd2_unbiased", "locked": false, "schema_version": 3, "solution": true}
def mmd2_unbiased(X, Y, bandwidth):
    """Unbiased squared MMD with the RBF kernel exp(-|x - y|^2 / (2 bandwidth^2)).

    Args:
        X: (n, D), n >= 2; Y: (m, D), m >= 2; bandwidth: sigma > 0.

    Returns:
        0-dim tensor, dtype of X (may be negative).
    """
    ### BEGIN SOLUTION
    n, m = X.shape[0], Y.shape[0]
    Kxx = torch.exp(-torch.cdist(X, X) ** 2 / (2 * bandwidth ** 2))
    Kyy = torch.exp(-torch.cdist(Y, Y) ** 2 / (2 * bandwidth ** 2))
    Kxy = torch.exp(-torch.cdist(X, Y) ** 2 / (2 * bandwidth ** 2))
    within_x = (Kxx.sum() - Kxx.diagonal().sum()) / (n * (n - 1))
    within_y = (Kyy.sum() - Kyy.diagonal().sum()) / (m * (m - 1))
    return within_x + within_y - 2 * Kxy.mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_mmd2_unbiased", "locked": true, "points": 1, "schema_version": 3, "solution": false}
X = torch.tensor([[0.0], [1.0]], dtype=f64)
Y = torch.tensor([[0.0], [2.0], [2.0]], dtype=f64)
e = math.exp
expected = e(-0.5) + (e(-2) + e(-2) + 1) / 3 - 2 * (1 + 2 * e(-2) + e(-0.5) + 2 * e(-0.5)) / 6
expect_close(mmd2_unbiased(X, Y, 1.0), torch.tensor(expected, dtype=f64),
             what="mmd2_unbiased of samples of sizes 2 and 3",
             hint="Leave the diagonal k(x_i, x_i) out of the within-sample means and divide by n(n-1) pairs; the "
                  "cross term keeps all n m pairs.")

# %% nbgrader={"grade": true, "grade_id": "test_mmd2_unbiased_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("mmd2_unbiased", mmd2_unbiased)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: the MMD of rotated digits
# Pixels of 50 source images against 50 target images rotated by each angle, and (angle 0) two disjoint halves
# of the upright images: the biased estimate sits clearly above zero even when nothing has changed, the unbiased
# one scatters around zero. The bandwidth is the median distance between the images (a common default).

# %%
with needs_exercises():
    angles = [0, 10, 20, 30, 45]
    sigma = median_bandwidth(data.X_source[:50], data.X_source[50:100])
    biased, unbiased = [], []
    for a in angles:
        target = rotate_digits(data.X_source[50:100], a) if a else data.X_source[50:100]
        biased.append(float(mmd2_biased(data.X_source[:50], target, sigma)))
        unbiased.append(float(mmd2_unbiased(data.X_source[:50], target, sigma)))
    fig, ax = plt.subplots(figsize=(5.5, 3))
    ax.plot(angles, biased, "o-", label="biased")
    ax.plot(angles, unbiased, "s-", label="unbiased")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xticks(angles)
    ax.set_xlabel("rotation of the second sample (degrees)")
    ax.set_ylabel("squared MMD")
    ax.set_title(f"50 vs 50 images, bandwidth {sigma:.2f}", fontsize=9)
    ax.legend()
    plt.show()

# %% [markdown]
# ## 3. Total variation and the H-divergence
#
# The strictest way to compare two distributions is to look at every event: problem 16.2 of the notes defines
# the **total variation distance** as
#
# $$\mathrm{TV}(P, Q) = 2\sup_{E} \,\lvert P(E) - Q(E)\rvert .$$
#
# On a finite set $\Omega$ (here: $K$ outcomes, with probability vectors `p` and `q`), every subset is an event.
#
# ### Exercise 4: `best_event`
# Which event attains the supremum? Think about which outcomes you would put into $E$ to make $P(E) - Q(E)$ as
# large as possible. Given `p`, `q` `(..., K)`, return the boolean mask `(..., K)` of that event, taking an
# outcome **only if** it strictly increases $P(E) - Q(E)$. (One of $E$ and its complement always attains the
# supremum of $\lvert P(E) - Q(E)\rvert$, since $P(E^c) - Q(E^c) = -(P(E) - Q(E))$.)

# %% nbgrader={"grade": false, "grade_id": "best_event", "locked": false, "schema_version": 3, "solution": true}
def best_event(p, q):
    """The event maximizing P(E) - Q(E): the outcomes where p is strictly larger.

    Args:
        p, q: (..., K) probability vectors over the last axis.

    Returns:
        bool tensor (..., K).
    """
    ### BEGIN SOLUTION
    return p > q
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_best_event", "locked": true, "points": 1, "schema_version": 3, "solution": false}
p = torch.tensor([0.5, 0.2, 0.2, 0.1], dtype=f64)
q = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=f64)
got = best_event(p, q)
expect_true(isinstance(got, torch.Tensor) and got.dtype == torch.bool and got.shape == p.shape,
            "return a boolean tensor of the shape of p.")
expect_true(got.tolist() == [True, False, False, False], f"got the event {got.tolist()} for p = {p.tolist()}, "
            f"q = {q.tolist()}.", hint="Take every outcome where p exceeds q, and only those.")

# %% nbgrader={"grade": true, "grade_id": "test_best_event_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("best_event", best_event)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5: `total_variation`
# Derive a closed form of $\mathrm{TV}(P, Q)$ on a finite set in terms of `p` and `q` (problem 16.2 (1)), and
# write it: given `p`, `q` `(..., K)`, return `(...)`, the total variation distance **with the factor 2**,
# reduced over the last axis. It must lie between 0 and 2.
#
# <details><summary>Hint 1</summary>
#
# Evaluate $P(E^\ast) - Q(E^\ast)$ for the event of exercise 4. Since both vectors sum to 1, what is
# $\sum_x (p(x) - q(x))$, and what does that say about the outcomes outside $E^\ast$?
# </details>
#
# <details><summary>Hint 2</summary>
#
# $\sum_{x\in E^\ast}(p - q) = -\sum_{x\notin E^\ast}(p - q)$, and the first sum has only positive terms, the
# second only non-positive ones. So each of them is half of $\sum_x \lvert p(x) - q(x)\rvert$.
# </details>
#
# <details><summary>Hint 3</summary>
#
# $\mathrm{TV}(P, Q) = 2\cdot\frac12\sum_x \lvert p(x) - q(x)\rvert = \sum_x \lvert p(x) - q(x)\rvert$.
# </details>

# %% nbgrader={"grade": false, "grade_id": "total_variation", "locked": false, "schema_version": 3, "solution": true}
def total_variation(p, q):
    """Total variation distance 2 sup_E |P(E) - Q(E)| on a finite set.

    Args:
        p, q: (..., K) probability vectors over the last axis.

    Returns:
        (...), dtype of p.
    """
    ### BEGIN SOLUTION
    return (p - q).abs().sum(-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_total_variation", "locked": true, "points": 1, "schema_version": 3, "solution": false}
p = torch.tensor([0.5, 0.2, 0.2, 0.1], dtype=f64)
q = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=f64)
expect_close(total_variation(p, q), torch.tensor(0.8, dtype=f64), what="TV of the example above",
             hint="TV = 2 (P(E*) - Q(E*)) for the event E* of exercise 4; here P(E*) - Q(E*) = 0.4.")
expect_close(total_variation(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])), torch.tensor(2.0),
             what="TV of two distributions on disjoint outcomes", hint="With the factor 2 the maximum is 2.")

# %% nbgrader={"grade": true, "grade_id": "test_total_variation_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("total_variation", total_variation)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### The H-divergence and the target error
# Total variation looks at **every** event, and for continuous data two samples always differ on some event
# (the set of the observed source points). Domain adaptation theory (notes, §16.4) therefore restricts the
# events to those a hypothesis class $\mathcal H$ can carve out: the **H-divergence**
#
# $$d_{\mathcal H}(P, Q) = 2\sup_{h \in\mathcal H}\, \lvert P(h = 1) - Q(h = 1)\rvert .$$
#
# It is TV restricted to the events $\{h = 1\}$ (problem 16.2 (2)): the better a classifier from $\mathcal H$
# can tell source from target, the larger it is. Theorem 16.1 of the notes bounds the target error of any
# $h\in\mathcal H$ by its source error, this divergence, and $\lambda$, the error of the best single hypothesis
# on both domains together:
#
# $$\epsilon_t(h) \le \epsilon_s(h) + d(P, Q) + \lambda, \qquad \lambda = \min_{h'\in\mathcal H}\, \epsilon_s(h') + \epsilon_t(h').$$
#
# **A slip in the notes' proof.** Step (16.19)-(16.20) bounds $\lvert P_Q(h^\ast\ne h) - P_P(h^\ast\ne h)\rvert$
# by $d_{\mathcal H}(P, Q)$. But the event $\{h^\ast \ne h\}$ is where the classifier $h \oplus h^\ast$ (exclusive or)
# is 1, and that classifier is usually **not** in $\mathcal H$ (two thresholds make an interval). The bound holds
# with the divergence of the larger class $\mathcal H\Delta\mathcal H = \{h \oplus h' : h, h'\in\mathcal H\}$, as
# in Ben-David et al. (2010), where it reads $\epsilon_t(h) \le \epsilon_s(h) + \tfrac12 d_{\mathcal H\Delta\mathcal H} + \lambda$.
# The message is the same: keep the source error low **and** make the domains indistinguishable to the
# hypothesis class, which is what the adaptation methods below do to the learned features.
#
# ### Exercise 6: `h_divergence_1d`
# Take $\mathcal H$ to be all **threshold classifiers** of a 1-D score: $h(x) = 1[x > t]$ and $h(x) = 1[x \le t]$
# for every real $t$. Given two samples of scores `scores_s` `(n,)` and `scores_t` `(m,)` (their empirical
# distributions play $P$ and $Q$), return the empirical $d_{\mathcal H}$ as a 0-dim tensor in the dtype of
# `scores_s`. Show first that it equals **twice the two-sample Kolmogorov-Smirnov statistic**
# $2\sup_t \lvert F_s(t) - F_t(t)\rvert$, where $F(t)$ is the fraction of the sample $\le t$; then decide at which
# finitely many $t$ you need to look. Samples may contain ties. Vectorize over thresholds.
#
# <details><summary>Hint 1</summary>
#
# For $h = 1[x \le t]$, $P(h = 1) = F_s(t)$; for $h = 1[x > t]$, $P(h = 1) = 1 - F_s(t)$. Both orientations give
# the same absolute difference.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Both empirical CDFs are step functions that only jump at observed scores, so $\lvert F_s - F_t\rvert$ takes
# its largest value at one of the $n + m$ observed scores (of **either** sample).
# </details>

# %% nbgrader={"grade": false, "grade_id": "h_divergence_1d", "locked": false, "schema_version": 3, "solution": true}
def h_divergence_1d(scores_s, scores_t):
    """Empirical H-divergence of threshold classifiers: 2 sup_t |F_s(t) - F_t(t)|.

    Args:
        scores_s: (n,); scores_t: (m,).

    Returns:
        0-dim tensor in [0, 2], dtype of scores_s.
    """
    ### BEGIN SOLUTION
    points = torch.cat([scores_s, scores_t.to(scores_s.dtype)])
    cdf_s = (scores_s[None, :] <= points[:, None]).to(scores_s.dtype).mean(1)
    cdf_t = (scores_t[None, :] <= points[:, None]).to(scores_s.dtype).mean(1)
    return 2 * (cdf_s - cdf_t).abs().max()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_h_divergence_1d", "locked": true, "points": 2, "schema_version": 3, "solution": false}
s = torch.tensor([0.0, 1.0, 2.0, 3.0], dtype=f64)
t = torch.tensor([2.5, 3.5], dtype=f64)
expect_close(h_divergence_1d(s, t), torch.tensor(1.5, dtype=f64), what="h_divergence_1d, the source mostly below",
             hint="The threshold t = 2 puts 3/4 of the source and none of the target at or below it: 2 x 3/4.")
expect_close(h_divergence_1d(t, s), torch.tensor(1.5, dtype=f64), what="h_divergence_1d with the samples swapped",
             hint="Take the absolute difference: both orientations of the threshold are in the class.")
expect_close(h_divergence_1d(torch.tensor([1.0, 1.0, 2.0]), torch.tensor([1.0, 2.0, 2.0])), torch.tensor(2 / 3),
             what="h_divergence_1d with ties", hint="F(t) counts the scores <= t, ties included.")

# %% nbgrader={"grade": true, "grade_id": "test_h_divergence_1d_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("h_divergence_1d", h_divergence_1d)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Domain-adversarial training: the gradient-reversal layer
#
# DANN (notes, §16.5) turns the bound into a training objective. A feature extractor $G$ feeds a label classifier
# $C$ (trained on the labelled source) and a **domain discriminator** $D$ that tries to tell source features
# (domain label 0) from target features (label 1). $D$ minimizes its classification loss $\ell_D$; $G$ must do the
# opposite, **maximize** $\ell_D$, so that no discriminator can separate the domains in feature space (a small
# $d_{\mathcal H}$), while it minimizes the label loss $\ell_C$. The notes write the saddle point problem
# $\min_{G, C}\max_D\; \ell_C - \lambda\,\ell_D$.
#
# The trick that makes this one ordinary backward pass is the **gradient-reversal layer** $R_\lambda$, placed
# between $G$ and $D$: forward it is the identity, backward it multiplies the gradient by $-\lambda$. Then
# everything minimizes the single loss $\ell_C + \ell_D(D(R_\lambda(G(x))))$: $D$ gets the plain gradient of
# $\ell_D$, and $G$ gets $-\lambda$ times it.
#
# ### Exercise 7: `grad_reverse`
# Write the class `GradientReversal`, a `torch.autograd.Function` with static `forward(ctx, x, lambd)` and
# `backward(ctx, grad_output)`, and `grad_reverse(x, lambd=1.0)`, which applies it. `forward` returns a tensor
# equal to `x` (a new tensor object, e.g. `x.view_as(x)`, not `x` itself); `backward` returns one gradient per
# input of `forward`: `-lambd * grad_output` for `x`, and `None` for the Python number `lambd`.

# %% nbgrader={"grade": false, "grade_id": "grad_reverse", "locked": false, "schema_version": 3, "solution": true}
class GradientReversal(torch.autograd.Function):
    """Identity forward; gradient times -lambd backward."""

    @staticmethod
    def forward(ctx, x, lambd):
        ### BEGIN SOLUTION
        ctx.lambd = lambd
        return x.view_as(x)
        ### END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        ### BEGIN SOLUTION
        return -ctx.lambd * grad_output, None
        ### END SOLUTION


def grad_reverse(x, lambd=1.0):
    """The gradient-reversal layer R_lambd.

    Args:
        x: tensor of any shape; lambd: Python float >= 0.

    Returns:
        tensor equal to x; its gradient flows back multiplied by -lambd.
    """
    ### BEGIN SOLUTION
    return GradientReversal.apply(x, lambd)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_grad_reverse", "locked": true, "points": 2, "schema_version": 3, "solution": false}
x = torch.tensor([1.0, -2.0, 3.0], dtype=f64, requires_grad=True)
out = grad_reverse(x, 0.5)
expect_close(out.detach(), x.detach(), what="the forward value", hint="Forward, the layer is the identity.")
(grad_x,) = torch.autograd.grad((out * torch.tensor([1.0, 2.0, 3.0], dtype=f64)).sum(), x)
expect_close(grad_x, torch.tensor([-0.5, -1.0, -1.5], dtype=f64), what="the gradient through grad_reverse(x, 0.5)",
             hint="Backward, multiply the incoming gradient by -lambd: reversed AND scaled.")
W = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=f64, requires_grad=True)
(grad_W,) = torch.autograd.grad(grad_reverse(torch.tanh(torch.ones(1, 2, dtype=f64) @ W), 2.0).sum(), W)
(plain_W,) = torch.autograd.grad(torch.tanh(torch.ones(1, 2, dtype=f64) @ W).sum(), W)
expect_close(grad_W, -2.0 * plain_W, what="the gradient reaching the layers before it",
             hint="Everything upstream of the layer receives the reversed, scaled gradient.")

# %% nbgrader={"grade": true, "grade_id": "test_grad_reverse_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("grad_reverse", grad_reverse)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 8: `dann_loss`
# Given the source class logits `class_logits_s` `(n, K)`, the source labels `labels_s` `(n,)` and the
# discriminator's logits (one per example, **after** the reversal layer) `domain_logits_s` `(n,)` and
# `domain_logits_t` `(m,)`, return the 0-dim loss that every part of DANN minimizes:
#
# $$\ell_C + \ell_D, \qquad \ell_C = \frac1n\sum_i \mathrm{CE}(c_i, y_i), \qquad
#   \ell_D = \frac1n\sum_i \mathrm{BCE}(d^s_i, 0) + \frac1m\sum_j \mathrm{BCE}(d^t_j, 1),$$
#
# with the binary cross-entropy of a logit $z$ against a domain label, $\mathrm{BCE}(z, 1) = -\log\sigma(z)$ and
# $\mathrm{BCE}(z, 0) = -\log(1 - \sigma(z))$; each domain's mean is taken separately, as in the notes' eq. 16.24.
# Compute it from the logits stably: logits of size 100 must give finite values.
#
# Two details of the notes' eq. 16.24 to read with care: its $\ell_D$ terms are written with the class labels
# $y^s_i$, $y^t_i$ (and without the sums over $i$), but the discriminator is trained on **domain** labels, the
# only labels the target has; and its minus sign belongs to the saddle point form. With the reversal layer in
# the graph, the loss is a plain **sum**: a minus sign here would reverse the gradient a second time.

# %% nbgrader={"grade": false, "grade_id": "dann_loss", "locked": false, "schema_version": 3, "solution": true}
def dann_loss(class_logits_s, labels_s, domain_logits_s, domain_logits_t):
    """Label loss on the source plus the domain discriminator's loss (source 0, target 1).

    Args:
        class_logits_s: (n, K); labels_s: int64 (n,); domain_logits_s: (n,); domain_logits_t: (m,).

    Returns:
        0-dim tensor.
    """
    ### BEGIN SOLUTION
    classification = F.cross_entropy(class_logits_s, labels_s)
    domain_s = F.binary_cross_entropy_with_logits(domain_logits_s, torch.zeros_like(domain_logits_s))
    domain_t = F.binary_cross_entropy_with_logits(domain_logits_t, torch.ones_like(domain_logits_t))
    return classification + domain_s + domain_t
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_dann_loss", "locked": true, "points": 1, "schema_version": 3, "solution": false}
z = torch.zeros(2, 3, dtype=f64)
expect_close(dann_loss(z, torch.tensor([0, 2]), torch.zeros(2, dtype=f64), torch.zeros(4, dtype=f64)),
             torch.tensor(math.log(3) + 2 * math.log(2), dtype=f64), what="dann_loss at all-zero logits",
             hint="Cross-entropy log 3, plus log 2 for each domain's mean binary cross-entropy.")
expected = math.log(1 + math.exp(2.0)) + math.log(1 + math.exp(1.0))
expect_close(dann_loss(z, torch.tensor([0, 2]), torch.tensor([2.0, 2.0], dtype=f64), torch.tensor([-1.0], dtype=f64)),
             torch.tensor(math.log(3) + expected, dtype=f64), what="dann_loss, discriminator wrong on both domains",
             hint="Source examples have domain label 0, target examples label 1.")

# %% nbgrader={"grade": true, "grade_id": "test_dann_loss_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("dann_loss", dann_loss)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Make it work: classify rotated digits without their labels
#
# The MLP of section 2, trained on upright source digits, gets about half of the rotated target digits right.
# Train a classifier that does better on the target using the labelled source images and the **unlabelled**
# target images. Feature alignment is the idea: an encoder whose features of source and target batches are close
# in MMD (your `mmd2_biased` or `mmd2_unbiased` on the features, added to the source cross-entropy with a
# weight), or adversarially indistinguishable (your `grad_reverse` and `dann_loss` with a small discriminator).
# On this small problem, in a few hundred steps, the adversarial game is unstable: the discriminator and the
# encoder chase each other, and DANN can end below the source-only network even with its reversal weight ramped
# up slowly. The MMD penalty, a fixed and differentiable distance, is the dependable choice here.
#
# ### Exercise 9: `adapt_to_target`
# Given source images `X_s` `(n, 64)` (float32), their digits `y_s` `(n,)`, unlabelled target images `X_t`
# `(m, 64)` (the same kind of digits rotated by 30°) and a `generator`, return a pair `(encoder, classifier)` of
# callables such that `classifier(encoder(images))` are the `(B, 10)` logits of `(B, 64)` images. Everything
# random must come from `generator` (seed your networks' initialization from it, e.g. with
# `torch.manual_seed(int(torch.randint(2**31 - 1, (1,), generator=generator)))`). **Target:** accuracy at least
# **0.62** on rotated test images that training never sees, in at most 5 seconds on one CPU core. The grader
# re-runs your function with its own seed on another split of the digits, and scores your predictions against
# labels that never enter your kernel.

# %% nbgrader={"grade": false, "grade_id": "adapt_to_target", "locked": false, "schema_version": 3, "solution": true}
def adapt_to_target(X_s, y_s, X_t, generator):
    """Train an encoder and a classifier on labelled source and unlabelled target images.

    Args:
        X_s: (n, 64) float32; y_s: int64 (n,) digits 0-9; X_t: (m, 64) float32 (no labels).
        generator: torch.Generator, the source of all randomness.

    Returns:
        (encoder, classifier): classifier(encoder(images)) are (B, 10) logits.
    """
    ### BEGIN SOLUTION
    torch.manual_seed(int(torch.randint(2**31 - 1, (1,), generator=generator)))
    encoder = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64),
                                  torch.nn.ReLU()).to(X_s.dtype)
    classifier = torch.nn.Linear(64, 10).to(X_s.dtype)
    opt = torch.optim.Adam([*encoder.parameters(), *classifier.parameters()], lr=2e-3)
    for _ in range(250):
        i = torch.randint(len(X_s), (64,), generator=generator)
        j = torch.randint(len(X_t), (64,), generator=generator)
        h_s, h_t = encoder(X_s[i]), encoder(X_t[j])
        loss = F.cross_entropy(classifier(h_s), y_s[i]) + 5.0 * mmd2_unbiased(h_s, h_t, 4.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return encoder, classifier
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_adapt_to_target", "locked": true, "points": 2, "schema_version": 3, "solution": false}
import time

data = domain_split(30.0)
start = time.perf_counter()
encoder, classifier = adapt_to_target(data.X_source, data.y_source, data.X_target, torch.Generator().manual_seed(0))
seconds = time.perf_counter() - start
with torch.no_grad():
    logits = classifier(encoder(data.X_target_test))
expect_true(isinstance(logits, torch.Tensor) and tuple(logits.shape) == (len(data.y_target_test), 10),
            "classifier(encoder(images)) must be a (B, 10) tensor of logits.")
target_accuracy = accuracy(logits, data.y_target_test)
print(f"trained in {seconds:.1f} s; accuracy on the rotated test images: {target_accuracy:.3f}")
expect_true(target_accuracy >= 0.62, f"target accuracy {target_accuracy:.3f} is below the target 0.62.",
            hint="Is the alignment term computed between source features and TARGET features, and does it "
                 "pull them together (not apart)?")

# %% nbgrader={"grade": true, "grade_id": "test_adapt_to_target_2", "locked": true, "points": 6, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("adapt_to_target", adapt_to_target)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: turn the target digits
# Move the slider to rotate (or shift sideways) the target digits. For each setting, the source-only MLP and
# your `adapt_to_target` are trained, and the bars show their accuracy on the transformed test digits and the
# unbiased squared MMD between the source and target **features** of each (bandwidth: the median distance
# between those features). Adaptation pays off when the shift is large enough to hurt, and it works by
# shrinking the distance between the feature distributions.

# %%
_demo_cache = {}


def show_shift(degrees=30, shift=0.0):
    key = (degrees, shift)
    if key not in _demo_cache:
        d = domain_split(0.0)
        X_t, X_test = rotate_digits(d.X_target, degrees, shift), rotate_digits(d.X_target_test, degrees, shift)
        models = {"source only": source_only(d.X_source, d.y_source, torch.Generator().manual_seed(0)),
                  "adapted": adapt_to_target(d.X_source, d.y_source, X_t, torch.Generator().manual_seed(0))}
        row = {}
        with torch.no_grad():
            for name, (enc, clf) in models.items():
                h_s, h_t = enc(d.X_source[:200]), enc(X_test[:200])
                row[name] = (accuracy(clf(enc(X_test)), d.y_target_test),
                             float(mmd2_unbiased(h_s, h_t, median_bandwidth(h_s, h_t))))
        _demo_cache[key] = row
    row = _demo_cache[key]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 2.8))
    names = list(row)
    for ax, k, label in [(ax1, 0, "target test accuracy"), (ax2, 1, "squared MMD of features")]:
        values = [row[n][k] for n in names]
        bars = ax.bar(names, values, color=["C7", "C2"])
        for bar, v in zip(bars, values):
            ax.text(bar.get_x() + bar.get_width() / 2, v, f"{v:.3f}", ha="center", va="bottom", fontsize=8)
        ax.set_title(label, fontsize=9)
    ax1.set_ylim(0, 1.1)
    fig.suptitle(f"target digits rotated by {degrees}°, shifted by {shift} pixels", fontsize=10)
    plt.show()


interact(show_shift, degrees=(0, 45, 15), shift=(0.0, 1.5, 0.5));

# %% [markdown]
# ## 6. Concept questions
#
# Answer each with one letter in the dictionary returned by `transfer_concepts`.
#
# **q1.** After DANN training, no discriminator can tell the source features from the target features any more,
# and the source accuracy is 99%. Yet the target accuracy is poor. Which term of the bound explains it?
# - (a) the source error: 99% on the training images says nothing about source test images;
# - (b) none: the bound guarantees a good target error once the divergence is zero;
# - (c) $\lambda$, the error of the best single classifier on both domains: the alignment can map target 3s
#   onto source 8s, and then no classifier on these features is right on both domains;
# - (d) the divergence: a zero H-divergence still allows a large MMD.
#
# **q2.** With two labelled images of each new digit, a new head on frozen pretrained features beats the same
# CNN trained from scratch because
# - (a) a frozen network runs faster, so it gets more training steps in the same time;
# - (b) only the few head parameters are fitted to the two images, and features learned on related digits
#   already separate the new classes, so there is little to overfit;
# - (c) freezing acts as a learning-rate warm-up for the body;
# - (d) the pretrained head already knows the new classes.
#
# **q3.** On two samples of the **same** distribution, your `mmd2_unbiased` sometimes returns a small negative
# number. This means
# - (a) a bug: a squared distance cannot be negative;
# - (b) the bandwidth is too small for the data;
# - (c) the two samples come from different distributions after all;
# - (d) nothing is wrong: an unbiased estimate of $\mathrm{MMD}^2 = 0$ scatters around 0 on both sides, while
#   the biased one is pushed up by the diagonal terms $k(x, x) = 1$.
#
# ### Exercise 10: `transfer_concepts`
# Return `{"q1": ..., "q2": ..., "q3": ...}`, each value one of `"a"`, `"b"`, `"c"`, `"d"`.

# %% nbgrader={"grade": false, "grade_id": "transfer_concepts", "locked": false, "schema_version": 3, "solution": true}
def transfer_concepts():
    """Your answers to the concept questions.

    Returns:
        dict {"q1": letter, "q2": letter, "q3": letter}.
    """
    ### BEGIN SOLUTION
    return {"q1": "c", "q2": "b", "q3": "d"}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_transfer_concepts", "locked": true, "points": 1, "schema_version": 3, "solution": false}
answers = transfer_concepts()
expect_true(isinstance(answers, dict) and set(answers) == {"q1", "q2", "q3"},
            "transfer_concepts() must return a dict with the keys q1, q2, q3.")
for key, value in answers.items():
    expect_true(isinstance(value, str) and value.strip().lower() in {"a", "b", "c", "d"},
                f"{key}: answer with one of the letters a, b, c, d (got {value!r}).")

# %% nbgrader={"grade": true, "grade_id": "test_transfer_concepts_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("transfer_concepts", transfer_concepts)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## What you built
#
# - `freeze_and_replace_head`: model-based transfer, a frozen copy of a pretrained feature extractor with a new
#   head, which beats training from scratch when labels are few.
# - `mmd2_biased`, `mmd2_unbiased`: the squared maximum mean discrepancy from kernel evaluations only, and where
#   the biased estimate's $1/n$ excess comes from.
# - `best_event`, `total_variation`: TV on a finite set, $\sum_x\lvert p(x) - q(x)\rvert$ in the factor-2
#   convention, from its definition as a supremum over events.
# - `h_divergence_1d`: the H-divergence of threshold classifiers, twice the Kolmogorov-Smirnov statistic, the
#   distance in the bound on the target error.
# - `GradientReversal`, `grad_reverse`, `dann_loss`: domain-adversarial training as one backward pass.
# - `adapt_to_target`: a classifier for rotated digits trained without their labels, by aligning features.
#
# The last chapter asks which inputs a trained network's prediction depends on: explainable AI.
