# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 18 · Wide networks as kernels: Gaussian processes and the neural tangent kernel
#
# A Gaussian process (GP) is a prior over functions: any finite set of function values is jointly Gaussian,
# with a covariance given by a kernel $k(x, x')$. Regression with a GP prior is exact linear algebra: the
# posterior is Gaussian again, and the marginal likelihood of the data tells you which kernel to use. This
# chapter builds that machinery, then shows why it matters for deep learning: a randomly initialized network
# becomes a GP as its width grows (the **NNGP**), and a wide network trained by gradient descent behaves like
# its own linearization, whose dynamics are governed by a fixed kernel, the **neural tangent kernel** (NTK).
#
# **Learning goals**
# - Write the RBF and Ornstein-Uhlenbeck kernels and draw GP prior samples from noise you pass in.
# - Derive and write GP regression (posterior mean and variance, matching scikit-learn) and the log marginal
#   likelihood, with a Cholesky factorization rather than an inverse.
# - Derive the Gaussian expectations behind the ReLU NNGP (the arc-cosine kernels) and the recursions for the
#   NNGP and the NTK of a deep ReLU network.
# - Compute the empirical NTK of a network with `torch.func`, watch it approach the analytic one as the width
#   grows, and predict the training of a wide network from its linearization.
# - Choose kernel hyperparameters by maximizing the marginal likelihood and reach a stated held-out error.
#
# **Notes followed.** *A deep-learning textbook with PyTorch examples*, chapter 15: §15.1 (Gaussian processes,
# GP regression), §15.2-15.3 (the NNGP of a fully connected network and its recursion), §15.4 (the neural
# tangent kernel: motivation, the linearized dynamics and the derivation of the recursion); Kaplan, *Notes on
# Contemporary Machine Learning for Physicists*, §6 (wide networks, the kernel regime and linear dynamics of
# gradient descent).
#
# **Conventions used throughout** (each exercise repeats the one it needs).
# - Inputs are rows: `x` has shape `(N, D)`; a kernel returns an `(N, M)` matrix in the dtype of its inputs.
#   Everything is float64 here. Functions never change their arguments in place.
# - **RBF kernel**: the length scale enters as $2\ell^2$: $k(x,x') = \sigma^2 \exp\!\big(-\lVert x-x'\rVert^2 / (2\ell^2)\big)$
#   (scikit-learn's `ConstantKernel(sigma2) * RBF(ell)`). Some texts write $\ell^2$ alone, or $\ell$: not here.
# - **Noise** of variance $s$ is added on the diagonal of the **training** covariance only; the predictive
#   variance is that of the noise-free function $f$ at the test points.
# - **Networks** are in the **NTK parametrization** without biases: weights are standard normal and every
#   layer divides by the square root of its fan-in, $h^1 = W^0 x/\sqrt{D}$, $h^{l+1} = W^l\,\phi(h^l)/\sqrt{n}$,
#   $f(x) = v\cdot\phi(h^L)/\sqrt{n}$, with $\phi = \mathrm{relu}$ and $L$ (`depth`) hidden layers.
# - **Linear algebra**: use a Cholesky factorization (`torch.linalg.cholesky`, `torch.cholesky_solve`,
#   `torch.linalg.solve_triangular`), never an explicit inverse.


# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import math
import numpy as np
import torch
import matplotlib.pyplot as plt
import ipywidgets as widgets
from course.demos import interact
from course.checks import expect_close, expect_true, expect_shape
from course.kernels import NTKMLP, circle_points, gp_regression_data, gp_toy_function, train_gd
f64 = torch.float64

# %%
# Small matrices: one thread is fastest and leaves the machine responsive.
torch.set_num_threads(1)

# %% [markdown]
# ## Part I: Gaussian processes
#
# ## 1. Kernels
#
# A kernel must make every matrix $K_{ij} = k(x_i, x_j)$ symmetric positive semi-definite, so that it can be a
# covariance. Two stationary kernels (they depend on $x - x'$ only) span the range of smoothness:
#
# - the **RBF** (squared exponential) kernel $\sigma^2\exp\!\big(-\lVert x-x'\rVert^2/(2\ell^2)\big)$: its
#   samples are infinitely differentiable;
# - the **Ornstein-Uhlenbeck** (OU, or Matérn-1/2) kernel $\sigma^2\exp\!\big(-\lVert x-x'\rVert/\ell\big)$,
#   with the plain Euclidean distance (not squared): its samples are continuous but nowhere differentiable,
#   like Brownian motion pulled back towards zero.
#
# $\sigma^2$ is the prior variance of $f(x)$ at every point; $\ell$ is the distance over which values stay correlated.
#
# ### Exercise 1: `rbf_kernel`
# `x1` `(N, D)`, `x2` `(M, D)`, positive numbers `lengthscale` and `variance`; return the `(N, M)` RBF matrix.
# Compute squared distances so that they cannot come out negative (the expansion
# $\lVert a\rVert^2 + \lVert b\rVert^2 - 2a\cdot b$ can, by rounding).

# %% nbgrader={"grade": false, "grade_id": "rbf_kernel", "locked": false, "schema_version": 3, "solution": true}
def rbf_kernel(x1, x2, lengthscale, variance):
    """RBF kernel matrix variance * exp(-|x - x'|^2 / (2 lengthscale^2)).

    Args:
        x1: (N, D); x2: (M, D); lengthscale, variance: positive numbers.

    Returns:
        (N, M) tensor, dtype of x1.
    """
    ### BEGIN SOLUTION
    sq = (x1[:, None, :] - x2[None, :, :]).pow(2).sum(-1)
    return variance * torch.exp(-sq / (2 * lengthscale ** 2))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_rbf_kernel", "locked": true, "points": 1, "schema_version": 3, "solution": false}
a = torch.tensor([[0.0], [1.0]], dtype=f64)
b = torch.tensor([[0.0], [2.0]], dtype=f64)
# distances [[0, 2], [1, 1]]; l = 2 so 2 l^2 = 8
expect_close(rbf_kernel(a, b, 2.0, 1.5), 1.5 * torch.exp(-torch.tensor([[0.0, 4.0], [1.0, 1.0]], dtype=f64) / 8),
             what="rbf_kernel([[0], [1]], [[0], [2]], lengthscale=2, variance=1.5)",
             hint="The squared distance is divided by 2 * lengthscale**2, and the variance multiplies the exponential.")

# %% nbgrader={"grade": true, "grade_id": "test_rbf_kernel_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("rbf_kernel", rbf_kernel)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2: `ou_kernel`
# Same arguments and shape; return $\sigma^2\exp(-\lVert x-x'\rVert/\ell)$ with the Euclidean distance.

# %% nbgrader={"grade": false, "grade_id": "ou_kernel", "locked": false, "schema_version": 3, "solution": true}
def ou_kernel(x1, x2, lengthscale, variance):
    """Ornstein-Uhlenbeck kernel matrix variance * exp(-|x - x'| / lengthscale).

    Args:
        x1: (N, D); x2: (M, D); lengthscale, variance: positive numbers.

    Returns:
        (N, M) tensor, dtype of x1.
    """
    ### BEGIN SOLUTION
    dist = (x1[:, None, :] - x2[None, :, :]).pow(2).sum(-1).sqrt()
    return variance * torch.exp(-dist / lengthscale)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_ou_kernel", "locked": true, "points": 1, "schema_version": 3, "solution": false}
k = ou_kernel(torch.zeros(1, 2, dtype=f64), torch.tensor([[3.0, 4.0], [0.0, 0.0]], dtype=f64), 5.0, 2.0)
expect_close(k, torch.tensor([[2 * math.exp(-1.0), 2.0]], dtype=f64),
             what="ou_kernel(origin, [[3, 4], [0, 0]], lengthscale=5, variance=2)",
             hint="The OU kernel uses the distance |x - x'| itself (5 here), not its square.")

# %% nbgrader={"grade": true, "grade_id": "test_ou_kernel_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("ou_kernel", ou_kernel)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Sampling from the prior
#
# To draw $f \sim \mathcal N(0, K)$, factor $K = LL^\top$ (Cholesky, $L$ lower triangular) and set $f = Lz$ with
# $z\sim\mathcal N(0, I)$: then $\operatorname{Cov}(f) = L\,\operatorname{Cov}(z)\,L^\top = K$. Kernel matrices
# are often numerically singular (nearby points, smooth kernels), so a tiny **jitter** is added to the diagonal
# first.
#
# ### Exercise 3: `gp_prior_samples`
# `K` `(N, N)`, `noise` `(S, N)` with one standard-normal row per sample, `jitter` a number. Return the `(S, N)`
# samples, row $s$ equal to $L\,z_s$ where $L$ is the **lower** Cholesky factor of $K + \text{jitter}\cdot I$.
# (Any matrix square root gives the right distribution, but only this one gives the reference's samples from
# the same noise.)

# %% nbgrader={"grade": false, "grade_id": "gp_prior_samples", "locked": false, "schema_version": 3, "solution": true}
def gp_prior_samples(K, noise, jitter=1e-9):
    """Samples of N(0, K): row s is L @ noise[s], L L^T = K + jitter I, L lower triangular.

    Args:
        K: (N, N) covariance; noise: (S, N) standard normal draws; jitter: number.

    Returns:
        (S, N) samples.
    """
    ### BEGIN SOLUTION
    L = torch.linalg.cholesky(K + jitter * torch.eye(K.shape[0], dtype=K.dtype))
    return noise @ L.T
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gp_prior_samples", "locked": true, "points": 1, "schema_version": 3, "solution": false}
K = torch.tensor([[4.0, 2.0], [2.0, 2.0]], dtype=f64)   # L = [[2, 0], [1, 1]]
got = gp_prior_samples(K, torch.tensor([[1.0, 1.0], [0.0, 1.0]], dtype=f64))
expect_close(got, torch.tensor([[2.0, 2.0], [0.0, 1.0]], dtype=f64), what="gp_prior_samples(K, noise)",
             hint="Each sample is L z with L the lower Cholesky factor; multiplying by L^T instead gives the wrong covariance.")

# %% nbgrader={"grade": true, "grade_id": "test_gp_prior_samples_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("gp_prior_samples", gp_prior_samples)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %%
try:
    grid = torch.linspace(-3, 3, 300, dtype=f64).reshape(-1, 1)
    z = torch.randn(4, 300, generator=torch.Generator().manual_seed(0), dtype=f64)
    fig, axes = plt.subplots(1, 3, figsize=(12, 3), sharey=True)
    for ax, (name, K) in zip(axes, [("RBF, l = 1", rbf_kernel(grid, grid, 1.0, 1.0)),
                                    ("RBF, l = 0.3", rbf_kernel(grid, grid, 0.3, 1.0)),
                                    ("OU, l = 1", ou_kernel(grid, grid, 1.0, 1.0))]):
        ax.plot(grid[:, 0], gp_prior_samples(K, z, jitter=1e-8).T, lw=1)
        ax.set_title(f"prior samples, {name}, variance 1")
    plt.show()
except NotImplementedError:
    print("Write rbf_kernel, ou_kernel and gp_prior_samples to see prior samples.")

# %% [markdown]
# The same four noise vectors give all three panels: the kernel alone decides smoothness and wiggle scale.
#
# ## 3. GP regression
#
# Observe $y_i = f(x_i) + \varepsilon_i$ with $\varepsilon_i\sim\mathcal N(0, s)$ independent, and a GP prior on
# $f$. Then $y$ (training targets) and $f_* = f(X_*)$ (test values) are jointly Gaussian:
#
# $$\begin{pmatrix} y \\ f_*\end{pmatrix}\sim\mathcal N\!\left(0,\ \begin{pmatrix} K + sI & K_*\\ K_*^\top & K_{**}\end{pmatrix}\right),
# \qquad K = k(X, X),\ K_* = k(X, X_*),\ K_{**} = k(X_*, X_*).$$
#
# The posterior $p(f_*\mid y)$ is what conditioning a Gaussian gives. Derive its mean and covariance; you need
# only the diagonal of the covariance (one variance per test point).
#
# <details><summary>Hint 1</summary>
#
# For a joint Gaussian $(a, b)$ with zero mean, $b \mid a$ is Gaussian with mean $\Sigma_{ba}\Sigma_{aa}^{-1}a$:
# the best linear predictor of $b$ from $a$. What is left over has covariance $\Sigma_{bb}$ minus the part that
# $a$ explains.
# </details>
#
# <details><summary>Hint 2</summary>
#
# With $L L^\top = K + sI$: $\alpha = (K+sI)^{-1}y$ is two triangular solves (`torch.cholesky_solve`), and the
# explained variance at test point $j$ is $\lVert v_j\rVert^2$ where $v = L^{-1}K_*$ (one triangular solve).
# </details>
#
# <details><summary>Hint 3</summary>
#
# $\mu_* = K_*^\top (K+sI)^{-1} y$ and $\operatorname{var}_* = \operatorname{diag}(K_{**}) - \operatorname{diag}\big(K_*^\top(K+sI)^{-1}K_*\big)$.
# </details>
#
# ### Exercise 4: `gp_posterior`
# `x_train` `(N, D)`, `y_train` `(N,)`, `x_test` `(M, D)`, the RBF `lengthscale` and `variance`, and `noise_var`
# $= s$. Return `(mean, var)`, two `(M,)` tensors: the posterior mean and variance of the noise-free $f$ at
# each test point. Use your `rbf_kernel` and a Cholesky factorization. The result matches scikit-learn's
# `GaussianProcessRegressor(kernel=ConstantKernel(variance) * RBF(lengthscale), alpha=noise_var,
# optimizer=None)` (`predict(x_test, return_std=True)` returns the square root of `var`).

# %% nbgrader={"grade": false, "grade_id": "gp_posterior", "locked": false, "schema_version": 3, "solution": true}
def gp_posterior(x_train, y_train, x_test, lengthscale, variance, noise_var):
    """Posterior mean and variance of f at x_test (zero-mean GP, RBF kernel, Gaussian noise).

    Args:
        x_train: (N, D); y_train: (N,); x_test: (M, D); lengthscale, variance, noise_var: positive numbers.

    Returns:
        mean (M,), var (M,).
    """
    ### BEGIN SOLUTION
    K = rbf_kernel(x_train, x_train, lengthscale, variance) + noise_var * torch.eye(x_train.shape[0], dtype=x_train.dtype)
    L = torch.linalg.cholesky(K)
    k_star = rbf_kernel(x_train, x_test, lengthscale, variance)
    mean = k_star.T @ torch.cholesky_solve(y_train.reshape(-1, 1), L).reshape(-1)
    v = torch.linalg.solve_triangular(L, k_star, upper=False)
    return mean, variance - (v ** 2).sum(0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gp_posterior", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# One observation y = 1 at x = 0, variance 1, noise 0.25: at x = 0 the mean is 1 / 1.25 and the variance
# 1 - 1 / 1.25; far away the prior is back (mean 0, variance 1).
mean, var = gp_posterior(torch.zeros(1, 1, dtype=f64), torch.ones(1, dtype=f64),
                         torch.tensor([[0.0], [100.0]], dtype=f64), 1.0, 1.0, 0.25)
expect_close(mean, torch.tensor([0.8, 0.0], dtype=f64), what="posterior mean",
             hint="The noise variance belongs on the diagonal of the training covariance.")
expect_close(var, torch.tensor([0.2, 1.0], dtype=f64), what="posterior variance",
             hint="The variance is the prior variance minus the part the observations explain.")

# %% nbgrader={"grade": true, "grade_id": "test_gp_posterior_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("gp_posterior", gp_posterior)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 4. The marginal likelihood
#
# Integrating $f$ out, the targets alone are $y\sim\mathcal N(0, K + sI)$. Their log density, the **log marginal
# likelihood** (or evidence), scores hyperparameters $(\ell, \sigma^2, s)$ without a validation set. Write it
# down from the multivariate normal density and express both its terms through $L$.
#
# <details><summary>Hint 1</summary>
#
# $\log\mathcal N(y; 0, C) = -\tfrac12 y^\top C^{-1} y - \tfrac12\log\det C - \tfrac N2\log 2\pi$. The first
# term rewards fitting the data, the second penalizes kernels that could have explained many other data sets.
# </details>
#
# <details><summary>Hint 2</summary>
#
# With $C = LL^\top$: $y^\top C^{-1} y = \lVert L^{-1}y\rVert^2$ and $\log\det C = 2\sum_i \log L_{ii}$.
# </details>
#
# ### Exercise 5: `gp_log_marginal_likelihood`
# Same data and hyperparameters as `gp_posterior`; return $\log p(y\mid X)$ as a 0-dim tensor. The
# hyperparameters may be 0-dim tensors that require gradients (the make-it-work task uses this): keep the
# computation in torch so that gradients flow.

# %% nbgrader={"grade": false, "grade_id": "gp_log_marginal_likelihood", "locked": false, "schema_version": 3, "solution": true}
def gp_log_marginal_likelihood(x_train, y_train, lengthscale, variance, noise_var):
    """log p(y | X) for the RBF kernel with Gaussian noise.

    Args:
        x_train: (N, D); y_train: (N,); lengthscale, variance, noise_var: positive numbers or 0-dim tensors.

    Returns:
        0-dim tensor.
    """
    ### BEGIN SOLUTION
    n = x_train.shape[0]
    C = rbf_kernel(x_train, x_train, lengthscale, variance) + noise_var * torch.eye(n, dtype=x_train.dtype)
    L = torch.linalg.cholesky(C)
    a = torch.linalg.solve_triangular(L, y_train.reshape(-1, 1), upper=False)
    return -0.5 * (a ** 2).sum() - torch.log(torch.diagonal(L)).sum() - 0.5 * n * math.log(2 * math.pi)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gp_log_marginal_likelihood", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# One observation y = 1, variance 1, noise 0.25: y ~ N(0, 1.25).
lml = gp_log_marginal_likelihood(torch.zeros(1, 1, dtype=f64), torch.ones(1, dtype=f64), 1.0, 1.0, 0.25)
expect_close(lml, -0.5 / 1.25 - 0.5 * math.log(1.25) - 0.5 * math.log(2 * math.pi),
             what="log marginal likelihood of one point",
             hint="A normal log density has three terms: the quadratic form, half the log-determinant (with a minus) "
                  "and the normalizing constant.")

# %% nbgrader={"grade": true, "grade_id": "test_gp_log_marginal_likelihood_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("gp_log_marginal_likelihood", gp_log_marginal_likelihood)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %%
x_tr, y_tr, x_te, f_te = gp_regression_data(n_train=100, seed=0)
grid = torch.linspace(-3.2, 3.2, 300, dtype=f64).reshape(-1, 1)


def show_gp(lengthscale=1.0, noise_var=0.04):
    try:
        mean, var = gp_posterior(x_tr, y_tr, grid, lengthscale, 1.0, noise_var)
        lml = float(gp_log_marginal_likelihood(x_tr, y_tr, lengthscale, 1.0, noise_var))
    except NotImplementedError:
        print("Write gp_posterior and gp_log_marginal_likelihood to run this demo.")
        return
    sd = var.clamp_min(0).sqrt()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.fill_between(grid[:, 0], mean - 2 * sd, mean + 2 * sd, alpha=0.25, label="mean ± 2 sd")
    ax.plot(grid[:, 0], mean, label="posterior mean")
    ax.plot(grid[:, 0], gp_toy_function(grid), "k--", lw=1, label="true f")
    ax.plot(x_tr[:, 0], y_tr, "k.", label="data")
    ax.set_title(f"l = {lengthscale:g}, variance 1, noise {noise_var:g}: log marginal likelihood {lml:.1f}")
    ax.legend(loc="lower right", fontsize=8)
    plt.show()


interact(show_gp,
         lengthscale=widgets.SelectionSlider(options=[0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0], value=1.0),
         noise_var=widgets.SelectionSlider(options=[0.001, 0.01, 0.04, 0.1, 0.5], value=0.04));

# %% [markdown]
# Move the length scale: too long and the mean cannot follow the fast component; too short and it chases the
# noise between the data and the band balloons. The title's log marginal likelihood peaks in between, without
# ever looking at held-out data. You will exploit that in Part III.
#
# ## Part II: wide networks as kernels
#
# ## 5. The NNGP of a ReLU network
#
# In the network of the conventions, fix two inputs $x, x'$. Each unit of $h^1$ is a sum of $D$ independent terms,
# so $(h^1_i(x), h^1_i(x'))$ is Gaussian with covariance $\Sigma^1(x,x') = x\cdot x'/D$. Conditioned on layer
# $l$, each unit of $h^{l+1}$ sums $n$ independent terms; as $n\to\infty$ the central limit theorem makes it
# Gaussian again, with covariance
#
# $$\Sigma^{l+1}(x,x') = \mathbb E\big[\phi(u)\phi(v)\big],\qquad (u,v)\sim\mathcal N\!\left(0,\begin{pmatrix}\Sigma^l(x,x) & \Sigma^l(x,x')\\ \Sigma^l(x,x') & \Sigma^l(x',x')\end{pmatrix}\right).$$
#
# The output $f$ is then a GP with kernel $\Sigma^{L+1}$: the **NNGP kernel**. For ReLU the expectation has a
# closed form, and so does the one with derivatives, $\dot\Sigma^{l+1}(x,x') = \mathbb E[\phi'(u)\phi'(v)]$ with
# $\phi'(u) = \mathbb 1[u>0]$, which the NTK needs. Derive both.
#
# <details><summary>Hint 1</summary>
#
# Write $k_{11}, k_{12}, k_{22}$ for the entries and $\cos\theta = k_{12}/\sqrt{k_{11}k_{22}}$. Scale out the
# standard deviations: $u = \sqrt{k_{11}}\,a$, $v = \sqrt{k_{22}}\,b$ with unit-variance $a, b$ of correlation
# $\cos\theta$; relu is positively homogeneous, so $\mathbb E[\phi(u)\phi(v)] = \sqrt{k_{11}k_{22}}\,\mathbb E[\phi(a)\phi(b)]$.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Represent $a = w\cdot e_1$, $b = w\cdot e_2$ with $w\sim\mathcal N(0, I_2)$ and unit vectors $e_1, e_2$ at
# angle $\theta$. In polar coordinates $w = r(\cos\psi, \sin\psi)$, the indicator $\mathbb 1[a>0]\mathbb 1[b>0]$
# selects an arc of angle $\pi-\theta$; the radius and the angle are independent.
# </details>
#
# <details><summary>Hint 3</summary>
#
# $\mathbb E[\phi'(u)\phi'(v)] = \frac{\pi-\theta}{2\pi}$ and
# $\mathbb E[\phi(u)\phi(v)] = \frac{\sqrt{k_{11}k_{22}}}{2\pi}\big(\sin\theta + (\pi-\theta)\cos\theta\big)$
# (the arc-cosine kernels of degree 0 and 1). Check: $\theta = 0$ gives $k/2$, half the variance of a Gaussian
# survives a relu.
# </details>
#
# ### Exercise 6: `relu_expectations`
# Tensors `k11`, `k12`, `k22` of broadcastable shapes (`k11`, `k22` > 0); return the pair
# `(E[relu(u) relu(v)], E[step(u) step(v)])`, each of the broadcast shape. Clamp the cosine into $[-1, 1]$ before
# taking the arc-cosine (rounding can push $k_{12}/\sqrt{k_{11}k_{22}}$ just past 1 when $x = x'$).

# %% nbgrader={"grade": false, "grade_id": "relu_expectations", "locked": false, "schema_version": 3, "solution": true}
def relu_expectations(k11, k12, k22):
    """E[relu(u) relu(v)] and E[1(u>0) 1(v>0)] for (u, v) ~ N(0, [[k11, k12], [k12, k22]]).

    Args:
        k11, k22: variances (> 0); k12: covariance; tensors of broadcastable shapes.

    Returns:
        (relu kernel, step kernel), each of the broadcast shape.
    """
    ### BEGIN SOLUTION
    norm = torch.sqrt(k11 * k22)
    cos = torch.clamp(k12 / norm, -1.0, 1.0)
    theta = torch.arccos(cos)
    return norm * (torch.sin(theta) + (math.pi - theta) * cos) / (2 * math.pi), (math.pi - theta) / (2 * math.pi)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_relu_expectations", "locked": true, "points": 2, "schema_version": 3, "solution": false}
k11 = torch.tensor([1.0, 1.0, 1.0, 4.0], dtype=f64)
k12 = torch.tensor([1.0, 0.0, -1.0, 1.0], dtype=f64)
k22 = torch.tensor([1.0, 1.0, 1.0, 1.0], dtype=f64)
relu_k, step_k = relu_expectations(k11, k12, k22)
# By Monte Carlo with a million draws (agrees to about 3 decimals): compare your closed form.
g = torch.Generator().manual_seed(0)
a, b = torch.randn(2, 1_000_000, generator=g, dtype=f64)
mc_relu, mc_step = [], []
for v11, v12, v22 in zip(k11.tolist(), k12.tolist(), k22.tolist()):
    rho = v12 / math.sqrt(v11 * v22)
    u = math.sqrt(v11) * a
    v = math.sqrt(v22) * (rho * a + math.sqrt(max(1 - rho ** 2, 0.0)) * b)
    mc_relu.append(float((u.clamp_min(0) * v.clamp_min(0)).mean()))
    mc_step.append(float(((u > 0) & (v > 0)).double().mean()))
expect_close(relu_k, torch.tensor(mc_relu, dtype=f64), what="E[relu(u) relu(v)]", atol=5e-3, rtol=0,
             hint="At theta = 0 half the variance survives; at theta = pi/2 (independent) it is (E relu)^2 = 1/(2 pi) "
                  "per unit variance: the sin theta term carries it.")
expect_close(step_k, torch.tensor(mc_step, dtype=f64), what="E[step(u) step(v)]", atol=3e-3, rtol=0,
             hint="Both signs positive: an arc of angle pi - theta out of 2 pi.")

# %% nbgrader={"grade": true, "grade_id": "test_relu_expectations_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("relu_expectations", relu_expectations)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 6. The neural tangent kernel
#
# Train $f(\cdot;\theta)$ by gradient descent on $\mathcal L = \tfrac12\sum_i (f(x_i)-y_i)^2$. To first order
# in the step size $\eta$, one step changes the output at any $x$ by
# $-\eta\sum_i \Theta(x, x_i)\,(f(x_i)-y_i)$ with the **neural tangent kernel**
#
# $$\Theta(x,x') = \sum_p \frac{\partial f(x)}{\partial\theta_p}\frac{\partial f(x')}{\partial\theta_p} = J(x)\,J(x')^\top .$$
#
# In the NTK parametrization, as the width grows, $\Theta$ at initialization converges to a deterministic kernel and
# stays (almost) constant during training. Its infinite-width value follows a recursion over the layers
# like the NNGP's, with $\Theta^1 = \Sigma^1$. Derive the step from $\Theta^l$ to $\Theta^{l+1}$.
#
# <details><summary>Hint 1</summary>
#
# Split the parameters into the last weight matrix $W^l$ and all the earlier ones. The gradient with respect to
# $W^l$ contributes the covariance of the features that $W^l$ multiplies.
# </details>
#
# <details><summary>Hint 2</summary>
#
# For an earlier parameter, the chain rule goes through $\phi(h^l)$: each unit contributes
# $\phi'(h^l_i(x))\,\phi'(h^l_i(x'))$ times the NTK of $h^l_i$, averaged over the $n$ units by the $1/n$ of the
# parametrization; at infinite width the average becomes an expectation and factorizes.
# </details>
#
# <details><summary>Hint 3</summary>
#
# $\Theta^{l+1}(x,x') = \Sigma^{l+1}(x,x') + \Theta^l(x,x')\,\dot\Sigma^{l+1}(x,x')$. Also keep the diagonal
# $\Sigma^l(x,x)$ up to date: for ReLU, $\Sigma^{l+1}(x,x) = \Sigma^l(x,x)/2$.
# </details>
#
# ### Exercise 7: `relu_nngp_ntk`
# `x1` `(N, D)`, `x2` `(M, D)` (non-zero rows), `depth` $= L\ge 1$ hidden layers. Return `(nngp, ntk)`, each
# `(N, M)`: $\Sigma^{L+1}$ and $\Theta^{L+1}$ of the network in the conventions. Use your `relu_expectations`.

# %% nbgrader={"grade": false, "grade_id": "relu_nngp_ntk", "locked": false, "schema_version": 3, "solution": true}
def relu_nngp_ntk(x1, x2, depth):
    """Infinite-width NNGP and NTK of the bias-free ReLU network (NTK parametrization).

    Args:
        x1: (N, D); x2: (M, D); depth: number of hidden layers (>= 1).

    Returns:
        nngp (N, M), ntk (N, M).
    """
    ### BEGIN SOLUTION
    d = x1.shape[1]
    sigma = x1 @ x2.T / d
    s1 = (x1 ** 2).sum(1, keepdim=True) / d
    s2 = (x2 ** 2).sum(1).reshape(1, -1) / d
    theta = sigma
    for _ in range(depth):
        relu_k, step_k = relu_expectations(s1, sigma, s2)
        theta = relu_k + theta * step_k
        sigma = relu_k
        s1, s2 = s1 / 2, s2 / 2
    return sigma, theta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_relu_nngp_ntk", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# One hidden layer, D = 2: Sigma^1 = [1/2, 0] for x = e1 against (e1, e2); angles 0 and pi/2.
nngp, ntk = relu_nngp_ntk(torch.tensor([[1.0, 0.0]], dtype=f64), torch.eye(2, dtype=f64), 1)
expect_close(nngp, torch.tensor([[0.25, 0.5 / (2 * math.pi)]], dtype=f64), what="NNGP, depth 1",
             hint="Start from Sigma^1 = x . x' / D and apply the relu expectation once per hidden layer.")
expect_close(ntk, torch.tensor([[0.5, 0.5 / (2 * math.pi)]], dtype=f64), what="NTK, depth 1",
             hint="The NTK adds, to the new NNGP term, the previous NTK times the derivative kernel.")

# %% nbgrader={"grade": true, "grade_id": "test_relu_nngp_ntk_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("relu_nngp_ntk", relu_nngp_ntk)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 8: `empirical_ntk`
# Now the finite-width kernel. `model` is a `torch.nn.Module` mapping `(B, D)` to `(B,)` (a scalar output per
# input); `x1` `(N, D)`, `x2` `(M, D)`. Return the `(N, M)` matrix $J(x_1)J(x_2)^\top$ where $J$ holds the
# derivatives of the output with respect to **every** parameter of the model, flattened and concatenated;
# detach the result and do not change the model. `torch.func` does this in a few lines: `functional_call`
# runs the model with a dictionary of parameters, `jacrev` differentiates with respect to them, and `vmap`
# maps over the inputs (a loop of `torch.autograd.grad` calls is fine too).

# %% nbgrader={"grade": false, "grade_id": "empirical_ntk", "locked": false, "schema_version": 3, "solution": true}
def empirical_ntk(model, x1, x2):
    """Empirical NTK J(x1) J(x2)^T of a scalar-output model.

    Args:
        model: module, (B, D) -> (B,); x1: (N, D); x2: (M, D).

    Returns:
        (N, M) tensor (detached).
    """
    ### BEGIN SOLUTION
    from torch.func import functional_call, jacrev, vmap
    params = {name: p.detach() for name, p in model.named_parameters()}

    def f(p, x):
        return functional_call(model, p, (x.unsqueeze(0),)).reshape(())

    def jacobian(x):
        jac = vmap(jacrev(f), in_dims=(None, 0))(params, x)
        return torch.cat([j.reshape(x.shape[0], -1) for j in jac.values()], dim=1)

    return (jacobian(x1) @ jacobian(x2).T).detach()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_empirical_ntk", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# A linear model w . x + b has gradient (x, 1): its NTK is x . x' + 1 whatever w and b are.
lin = torch.nn.Sequential(torch.nn.Linear(3, 1).double(), torch.nn.Flatten(0))
xa = torch.tensor([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0]], dtype=f64)
xb = torch.tensor([[2.0, 0.0, 1.0]], dtype=f64)
expect_close(empirical_ntk(lin, xa, xb), xa @ xb.T + 1, what="empirical NTK of a linear model",
             hint="Sum over all parameters, the bias included: the NTK of w . x + b is x . x' + 1.")

# %% nbgrader={"grade": true, "grade_id": "test_empirical_ntk_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("empirical_ntk", empirical_ntk)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Linearized training dynamics
#
# Replace the network by its first-order Taylor expansion around the initial parameters,
# $f^{\text{lin}}(x;\theta) = f(x;\theta_0) + J_0(x)(\theta-\theta_0)$. Gradient descent with step $\eta$ on
# $\tfrac12\sum_i(f(x_i)-y_i)^2$ moves the parameters by $-\eta J_0(X)^\top(f(X)-y)$, so the outputs, on the
# training inputs and anywhere else, move by $-\eta\,\Theta_0(x, X)(f(X)-y)$ **exactly**: a linear recursion in
# function space that never touches the parameters.
#
# ### Exercise 9: `linearized_dynamics`
# Arguments: `ntk_train` $\Theta(X,X)$ `(N, N)`, `ntk_test_train` $\Theta(X_*,X)$ `(M, N)`, the outputs at
# initialization `f0_train` `(N,)` and `f0_test` `(M,)`, targets `y_train` `(N,)`, the step `lr` and the number of
# `steps` ($\ge 0$). Return `(f_train, f_test)` after `steps` steps of gradient descent of the linearized model on
# the **sum** $\tfrac12\sum_i(f(x_i)-y_i)^2$ (not the continuous-time limit: discrete steps).

# %% nbgrader={"grade": false, "grade_id": "linearized_dynamics", "locked": false, "schema_version": 3, "solution": true}
def linearized_dynamics(ntk_train, ntk_test_train, f0_train, f0_test, y_train, lr, steps):
    """Outputs of the linearized model after `steps` gradient-descent steps on 1/2 sum (f - y)^2.

    Args:
        ntk_train: (N, N); ntk_test_train: (M, N); f0_train: (N,); f0_test: (M,); y_train: (N,);
        lr: step size; steps: int >= 0.

    Returns:
        f_train (N,), f_test (M,).
    """
    ### BEGIN SOLUTION
    f_train, f_test = f0_train.clone(), f0_test.clone()
    for _ in range(steps):
        residual = f_train - y_train
        f_test = f_test - lr * ntk_test_train @ residual
        f_train = f_train - lr * ntk_train @ residual
    return f_train, f_test
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_linearized_dynamics", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Two training points, Theta = 2 I, lr = 1/4: each residual halves per step (f: 0 -> 0.5 -> 0.75 and
# 0 -> -0.5 -> -0.75); the test output moves by lr * Theta(x*, X) = (1/4, 1/8) times each residual:
# 0.3 - [(-1 + 1/2) + (-1/2 + 1/4)] / 4 = 0.4875.
f_tr, f_te = linearized_dynamics(2 * torch.eye(2, dtype=f64), torch.tensor([[1.0, 0.5]], dtype=f64),
                                 torch.zeros(2, dtype=f64), torch.tensor([0.3], dtype=f64),
                                 torch.tensor([1.0, -1.0], dtype=f64), 0.25, 2)
expect_close(f_tr, torch.tensor([0.75, -0.75], dtype=f64), what="f_train after 2 steps",
             hint="Discrete steps on the SUM of squared errors: each multiplies the residual by (I - lr Theta); a mean "
                  "loss or the continuous-time exponential gives another answer.")
expect_close(f_te, torch.tensor([0.4875], dtype=f64), what="f_test after 2 steps",
             hint="The test outputs start from their own initial values and move by the test-train NTK times the residual.")

# %% nbgrader={"grade": true, "grade_id": "test_linearized_dynamics_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("linearized_dynamics", linearized_dynamics)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 8. Watching the width
#
# The slider sets the width $n$ of a two-hidden-layer network. Left: the empirical NTK $\Theta(x_0, x_\gamma)$
# between a point and points at angle $\gamma$ on the unit circle, for three random initializations, against
# your analytic kernel. Right: the network trained by gradient descent (4 training points, 200 steps of
# $\eta = 0.5$) against the prediction of `linearized_dynamics` from its NTK at initialization. As $n$ grows the
# initializations agree and the trained network follows its linearization.

# %%
angles = torch.linspace(0, math.pi, 25, dtype=f64)
x_circle = circle_points(angles)
x_fit = circle_points(torch.tensor([0.3, 1.0, 1.9, 2.6], dtype=f64))
y_fit = torch.tensor([0.5, -0.3, 0.8, 0.1], dtype=f64)


def show_width(width=64):
    try:
        _, ntk_inf = relu_nngp_ntk(x_circle[:1], x_circle, 2)
        kernels = [empirical_ntk(NTKMLP(2, width, 2, seed=s), x_circle[:1], x_circle)[0] for s in range(3)]
        net = NTKMLP(2, width, 2, seed=10)
        with torch.no_grad():
            f0_fit, f0_circle = net(x_fit), net(x_circle)
        lin_fit, lin_circle = linearized_dynamics(empirical_ntk(net, x_fit, x_fit), empirical_ntk(net, x_circle, x_fit),
                                                  f0_fit, f0_circle, y_fit, 0.5, 200)
    except NotImplementedError:
        print("Write relu_expectations, relu_nngp_ntk, empirical_ntk and linearized_dynamics to run this demo.")
        return
    _, gd_circle = train_gd(net, x_fit, y_fit, x_circle, 0.5, 200)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    for s, k in enumerate(kernels):
        axes[0].plot(angles, k, ".", alpha=0.7, label=f"empirical, seed {s}")
    axes[0].plot(angles, ntk_inf[0], "k-", label="analytic (infinite width)")
    err = max(float((k - ntk_inf[0]).abs().max()) for k in kernels)
    axes[0].set_title(f"NTK at width {width}: max deviation {err:.3f}")
    axes[0].set_xlabel("angle gamma")
    axes[0].legend(fontsize=8)
    axes[1].plot(angles, gd_circle, label="trained network")
    axes[1].plot(angles, lin_circle, "--", label="linearized prediction")
    axes[1].plot(torch.tensor([0.3, 1.0, 1.9, 2.6]), y_fit, "ko", label="training points")
    gap = float((gd_circle - lin_circle).abs().max())
    axes[1].set_title(f"after 200 steps: max |network - linear| = {gap:.3f}")
    axes[1].set_xlabel("angle gamma")
    axes[1].legend(fontsize=8)
    plt.show()


interact(show_width, width=widgets.SelectionSlider(options=[8, 32, 128, 512], value=32));

# %% [markdown]
# ## Part III: make it work
#
# ## 9. Choose the hyperparameters by the evidence
#
# Write `fit_gp_hyperparameters(x_train, y_train, seed)`: return a dictionary `{"lengthscale": ...,
# "variance": ..., "noise_var": ...}` of positive Python floats chosen by **maximizing your
# `gp_log_marginal_likelihood`** on the training data. Search in log space (the hyperparameters are positive and
# span decades): for instance a random search from a `torch.Generator` seeded with `seed`, then gradient ascent
# (Adam on the logs, autograd through your function) from the best few candidates. The same seed must give the
# same answer.
#
# **Target.** On `gp_regression_data` (100 noisy points of a function with a slow and a fast component), the
# posterior mean with your hyperparameters must reach a root-mean-square error **below 0.15** against the
# noise-free function on 200 held-out inputs. The grader draws a fresh data set of the same kind, runs your
# search with its own seed, and computes the error in its own process, against targets your code never sees.
# For scale: $\ell = 1, \sigma^2 = 1, s = 0.1$ scores about 0.35, $\ell = 0.3, \sigma^2 = 1, s = 0.01$ about 0.11;
# the maximum of the evidence about 0.085.
# Budget: under 30 s on two CPU cores (the suggested search takes a few seconds).

# %% nbgrader={"grade": false, "grade_id": "fit_gp_hyperparameters", "locked": false, "schema_version": 3, "solution": true}
def fit_gp_hyperparameters(x_train, y_train, seed):
    """RBF hyperparameters that maximize the log marginal likelihood.

    Args:
        x_train: (N, D) float64; y_train: (N,) float64; seed: int.

    Returns:
        {"lengthscale": float, "variance": float, "noise_var": float}.
    """
    ### BEGIN SOLUTION
    gen = torch.Generator().manual_seed(seed)
    lows = torch.tensor([math.log(0.05), math.log(0.05), math.log(1e-4)], dtype=f64)
    highs = torch.tensor([math.log(5.0), math.log(20.0), math.log(1.0)], dtype=f64)
    candidates = lows + (highs - lows) * torch.rand(200, 3, generator=gen, dtype=f64)

    def lml(logp):
        e = torch.exp(logp)
        return gp_log_marginal_likelihood(x_train, y_train, e[0], e[1], e[2])

    with torch.no_grad():
        scores = torch.stack([lml(c) for c in candidates])
    best, best_score = None, -math.inf
    for start in candidates[torch.argsort(scores, descending=True)[:3]]:
        logp = start.clone().requires_grad_(True)
        opt = torch.optim.Adam([logp], lr=0.05)
        for _ in range(150):
            opt.zero_grad()
            (-lml(logp)).backward()
            opt.step()
        with torch.no_grad():
            score = float(lml(logp))
        if score > best_score:
            best, best_score = logp.detach(), score
    ell, var, noise = torch.exp(best).tolist()
    return {"lengthscale": ell, "variance": var, "noise_var": noise}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_fit_gp_hyperparameters", "locked": true, "points": 2, "schema_version": 3, "solution": false}
x_tr, y_tr, x_te, f_te = gp_regression_data(n_train=100, seed=0)
hp = fit_gp_hyperparameters(x_tr, y_tr, seed=0)
print("hyperparameters:", {k: round(float(v), 4) for k, v in hp.items()})
mean_te, _ = gp_posterior(x_tr, y_tr, x_te, hp["lengthscale"], hp["variance"], hp["noise_var"])
rmse = float(((mean_te - f_te) ** 2).mean().sqrt())
print(f"held-out RMSE: {rmse:.4f} (target: below 0.15)")
expect_true(rmse < 0.15, f"held-out RMSE {rmse:.4f} is above the target 0.15",
            hint="Check the log marginal likelihood (both of its data-dependent terms) and search the length scale "
                 "over decades, in log space.")

# %% nbgrader={"grade": true, "grade_id": "test_fit_gp_hyperparameters_2", "locked": true, "points": 6, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("fit_gp_hyperparameters", fit_gp_hyperparameters)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 10. Concept questions
#
# Answer each by returning one letter.
#
# **Question 1.** In GP regression with fixed hyperparameters, what does the posterior variance at a test point
# depend on?
# - (a) On the training targets $y$: points whose targets are far from the mean make the band wider.
# - (b) Only on the inputs (training and test) and the hyperparameters, not on the targets $y$.
# - (c) Only on the noise variance $s$: it is $s$ at every test point.
# - (d) On nothing: it is the prior variance $\sigma^2$ everywhere, the data only move the mean.

# %% nbgrader={"grade": false, "grade_id": "concept_posterior_variance", "locked": false, "schema_version": 3, "solution": true}
def concept_posterior_variance():
    """Return the letter of your answer to question 1 ("a", "b", "c" or "d")."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_posterior_variance", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_true(str(concept_posterior_variance()).strip().lower() in {"a", "b", "c", "d"},
            "answer with one of the letters a, b, c, d")

# %% nbgrader={"grade": true, "grade_id": "test_concept_posterior_variance_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_posterior_variance", concept_posterior_variance)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **Question 2.** Why does maximizing the marginal likelihood not drive the length scale to zero, where the
# posterior mean can pass through every training point?
# - (a) The $-\tfrac N2\log 2\pi$ term grows as the length scale shrinks.
# - (b) It does drive it to zero; a prior on the length scale is needed to stop it.
# - (c) The $-\tfrac12\log\det(K+sI)$ term penalizes a kernel flexible enough to explain many other data
#   sets: it spreads its probability thin, so the data it fits get little of it.
# - (d) The Cholesky factorization fails for short length scales, so the optimizer never gets there.

# %% nbgrader={"grade": false, "grade_id": "concept_occam", "locked": false, "schema_version": 3, "solution": true}
def concept_occam():
    """Return the letter of your answer to question 2 ("a", "b", "c" or "d")."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_occam", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_true(str(concept_occam()).strip().lower() in {"a", "b", "c", "d"},
            "answer with one of the letters a, b, c, d")

# %% nbgrader={"grade": true, "grade_id": "test_concept_occam_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_occam", concept_occam)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **Question 3.** A very wide network in the NTK parametrization is trained by gradient descent with a small
# step. What does the theory of this chapter say happens?
# - (a) The hidden features barely move: training is kernel regression with the (fixed) NTK, so the network
#   learns no new features.
# - (b) Wider networks learn richer features, so the NTK changes more during training as the width grows.
# - (c) The trained network equals the GP posterior mean with the NNGP kernel, whatever the initialization.
# - (d) The gradients vanish as $1/\sqrt n$, so a very wide network does not train at all.

# %% nbgrader={"grade": false, "grade_id": "concept_lazy_training", "locked": false, "schema_version": 3, "solution": true}
def concept_lazy_training():
    """Return the letter of your answer to question 3 ("a", "b", "c" or "d")."""
    ### BEGIN SOLUTION
    return "a"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_lazy_training", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_true(str(concept_lazy_training()).strip().lower() in {"a", "b", "c", "d"},
            "answer with one of the letters a, b, c, d")

# %% nbgrader={"grade": true, "grade_id": "test_concept_lazy_training_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_lazy_training", concept_lazy_training)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## What you built
#
# - `rbf_kernel`, `ou_kernel`: two stationary kernels at the two ends of smoothness, with the $2\ell^2$ convention.
# - `gp_prior_samples`: samples of a GP prior as $Lz$ from a Cholesky factor and noise you pass in.
# - `gp_posterior`, `gp_log_marginal_likelihood`: exact GP regression and the evidence, by Cholesky, matching
#   scikit-learn.
# - `relu_expectations`, `relu_nngp_ntk`: the arc-cosine kernels and the infinite-width NNGP and NTK recursions
#   of a deep ReLU network.
# - `empirical_ntk`, `linearized_dynamics`: the finite-width NTK from `torch.func`, and the function-space
#   dynamics that a wide network follows when trained by gradient descent.
# - `fit_gp_hyperparameters`: hyperparameters chosen by the evidence alone, checked on held-out data.
#
# The next chapter turns to transfer learning: reusing what a network learned on one task for another.
