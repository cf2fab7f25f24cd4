# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 12 · PCA, autoencoders, VAEs
#
# An autoencoder learns to copy its input through a narrow middle: an **encoder** squeezes $x$ into a short
# code $z$ and a **decoder** rebuilds $x$ from it. Whatever survives the squeeze is what the network judged
# worth keeping. This chapter starts with the one case we can solve on paper, the *linear* autoencoder, whose
# answer is principal component analysis; it then adds noise (denoising autoencoders), turns the linear model
# into a probability model (probabilistic PCA), and ends with its non-linear heir, the **variational
# autoencoder**, trained on handwritten digits.
#
# **Learning goals**
# - Compute PCA by the SVD, and see why the reconstruction error left over is the sum of the discarded
#   eigenvalues.
# - Derive the gradients of a linear autoencoder and train it by gradient descent; check that it finds the
#   principal **subspace** (not the principal vectors themselves).
# - Write the denoising loss, and derive the best *linear* denoiser in closed form.
# - Fit probabilistic PCA by maximum likelihood, evaluate its log-likelihood and its exact posterior.
# - Derive the KL divergence of a diagonal Gaussian to the standard normal, write the reparameterization
#   trick and the ELBO; show that for a linear-Gaussian model the ELBO *equals* $\log p(x)$ at the true
#   posterior.
# - Train a VAE on the digits to a stated ELBO on held-out images, and see what $\beta$ does to it.
#
# **Notes followed.** The deep-learning textbook with PyTorch examples, chapter 4 (autoencoders and PCA,
# §4.1-4.4: the linear autoencoder, the proof that it recovers PCA, denoising autoencoders), chapter 5
# (probabilistic PCA, §5.1, and the VAE, §5.2) and chapter 6 (KL divergence and the ELBO, §6.1-6.4); Kaplan,
# *Notes on Contemporary Machine Learning for Physicists*, §7.1 (latent spaces), §7.2 (maximum likelihood)
# and §7.3 (VAEs, the variational bound, the reparameterization trick, the $\beta$-VAE); the *CS 182/282A
# discussion worksheets*, discussion 10 (autoencoders and their four ways of forcing structure, latent-variable
# models, the ELBO by Jensen's inequality, reparameterization).
#
# **Slips in the notes.** The textbook has several; each is corrected where it comes up:
# 1. Its PCA snippet sorts the eigenvalues in *increasing* order (`np.argsort`) and keeps the first $K$: it
#    keeps the $K$ **smallest** components, the opposite of PCA (§1).
# 2. Its PPCA log-likelihood (eq. 5.2) starts with $+\frac{NK}{2}\ln 2\pi$; the constant is
#    $-\frac{ND}{2}\ln 2\pi$ ($N$ samples in $D$ dimensions). Its posterior (eq. 5.3) inverts the $D\times D$
#    matrix $WW^\top + \sigma^2 I$ where the $K\times K$ matrix $W^\top W + \sigma^2 I$ belongs (§4).
# 3. Its reparameterization (§6.3) writes $x = \sigma^2\varepsilon + \mu$ with $\varepsilon\sim\mathcal N(0,\sigma^2)$;
#    it is $z = \mu + \sigma\varepsilon$ with $\varepsilon\sim\mathcal N(0, 1)$ (§5).
# 4. Its KL term (eq. 6.14) has the wrong coefficients (you will derive the right ones in §5), and its
#    training code adds the KL to the loss with the **wrong sign**: that loss rewards the encoder for moving
#    *away* from the prior (§5).
# 5. Eq. 6.8 gives $\mathrm{KL}(q, p(x,z)) = \mathbb E_q[\log p(x,z)] - H(q)$; the sign of the first term is
#    wrong, it is $-\mathbb E_q[\log p(x,z)] - H(q)$. And eq. 6.12 is a *lower* bound, not an upper one.
#
# **Conventions used throughout.** A data set is a matrix `X` of shape `(N, D)`, one sample per row. Every
# function keeps the dtype and device of its inputs and never modifies them. A diagonal Gaussian is given by
# its mean and its **log-variance** `logvar` $= \log\sigma^2$, both of shape `(..., K)`. Log-likelihoods and KL
# terms are **summed over the last dimension** (pixels or latent coordinates) and kept per sample.


# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import math
import numpy as np
import torch
import matplotlib.pyplot as plt
import ipywidgets as widgets
from course.demos import interact
from course.checks import expect_close, expect_true, expect_shape
from course.data import load_digits
from course.vae import DigitsVAE, show_digits

# %%
# Keeps the notebook fast on a busy machine: every computation here is small.
torch.set_num_threads(1)
X_train, y_train, X_test, y_test = load_digits()  # 1348 + 449 images of 8x8 = 64 pixels in [0, 1]
print("train", tuple(X_train.shape), "test", tuple(X_test.shape))

# %% [markdown]
# ## 1. PCA by the singular value decomposition
#
# Centre the data, $X_c = X - \mathbf 1\bar x^\top$, and take its thin SVD $X_c = U S V^\top$ (singular values
# $S_1 \ge S_2 \ge \dots$). The sample covariance is
#
# $$\Sigma = \frac{X_c^\top X_c}{N-1} = V\,\frac{S^2}{N-1}\,V^\top,$$
#
# so the columns of $V$ (the rows of $V^\top$) are the eigenvectors of $\Sigma$ and $S_i^2/(N-1)$ its eigenvalues:
# the variance of the data along each direction. PCA keeps the $K$ directions of **largest** variance. The SVD
# is preferred to `eig(cov)`: it never forms $X_c^\top X_c$ (which squares the condition number), it returns the
# singular values already sorted, and its vectors are orthonormal.
#
# The textbook's snippet (§4.3) does `iL = np.argsort(L); V = V[:, iL[:K]]`: `argsort` sorts in *increasing*
# order, so this keeps the $K$ **smallest** components, the directions the data hardly uses.
#
# A principal direction has no sign of its own ($v$ and $-v$ span the same line), so tests here compare
# **projectors** $P = C^\top C$ (for components $C$ stacked as rows), which do not see the signs.
#
# ### Exercise 1: `pca_fit`
# Given `X` `(N, D)` and an integer `k`, return `(mean, components, variances)`: the column means `(D,)`, the
# top-`k` principal directions as **orthonormal rows** `(k, D)` sorted by decreasing variance, and the variances
# along them `(k,)`, divided by $N-1$. Same dtype as `X`.

# %% nbgrader={"grade": false, "grade_id": "pca_fit", "locked": false, "schema_version": 3, "solution": true}
def pca_fit(X, k):
    """Top-k principal components of X by the SVD of the centred data.

    Args:
        X: (N, D) data, N >= 2.
        k: number of components.

    Returns:
        (mean (D,), components (k, D) with orthonormal rows, variances (k,) decreasing, divided by N - 1).
    """
    ### BEGIN SOLUTION
    mean = X.mean(dim=0)
    _, S, Vh = torch.linalg.svd(X - mean, full_matrices=False)
    return mean, Vh[:k].clone(), S[:k] ** 2 / (X.shape[0] - 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_pca_fit", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
# Six points on the three axes (+-3, +-1, +-0.5), shifted by (1, 2, 3): variances 18/5, 2/5, 0.5/5 along e1, e2, e3.
_pts = torch.tensor([[3, 0, 0], [-3, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 0.5], [0, 0, -0.5]], dtype=f64)
mean, comps, var = pca_fit(_pts + torch.tensor([1.0, 2.0, 3.0], dtype=f64), 2)
expect_close(mean, torch.tensor([1.0, 2.0, 3.0], dtype=f64), what="the mean")
expect_shape(comps, (2, 3), what="components")
expect_close(comps @ comps.T, torch.eye(2, dtype=f64), what="components @ components.T",
             hint="The components are orthonormal ROWS, one direction per row.")
expect_close(comps.T @ comps, torch.diag(torch.tensor([1.0, 1.0, 0.0], dtype=f64)),
             what="the projector components.T @ components",
             hint="Keep the directions of LARGEST variance (e1 and e2 here) and centre the data first.")
expect_close(var, torch.tensor([3.6, 0.4], dtype=f64), what="variances",
             hint="Largest first, and divide the squared singular values by N - 1.")

# %% nbgrader={"grade": true, "grade_id": "test_pca_fit_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("pca_fit", pca_fit)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **How much is lost.** Project each centred point on the kept subspace and map it back:
# $\hat x = \bar x + C^\top C(x - \bar x)$. The textbook's argument (eqs. 4.6-4.7) shows that the mean squared
# error of this reconstruction is $\operatorname{tr}\Sigma - \operatorname{tr}(P\Sigma)$, which for the top-$K$
# projector is the **sum of the eigenvalues left out**. Below: the spectrum of the digits (left), the error of
# the reconstruction against that sum (right; they lie on top of each other), then digits rebuilt from $K$
# components (move the slider).

# %%
def reconstruct(X, mean, comps):
    return mean + (X - mean) @ comps.T @ comps


try:
    _mean, _comps, _var = pca_fit(X_train.double(), 64)
    _ks = list(range(0, 41, 2))
    _errors = [((reconstruct(X_train.double(), _mean, _comps[:k]) - X_train.double()) ** 2).sum(1).mean().item()
               * len(X_train) / (len(X_train) - 1) for k in _ks]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    axes[0].semilogy(_var[_var > 1e-8].numpy(), ".-")  # a few border pixels are always 0: no variance at all
    axes[0].set_xlabel("component")
    axes[0].set_ylabel("variance")
    axes[0].set_title("spectrum of the digits", fontsize=9)
    axes[1].plot(_ks, _errors, "o", label="reconstruction error (x N/(N-1))")
    axes[1].plot(_ks, [_var[k:].sum().item() for k in _ks], "-", label="sum of discarded variances")
    axes[1].set_xlabel("K kept")
    axes[1].legend(fontsize=8)
    plt.show()
except NotImplementedError:
    print("Write pca_fit to see the spectrum of the digits.")


def show_pca_reconstructions(k=8):
    try:
        mean, comps, _ = pca_fit(X_train, k)
    except NotImplementedError:
        print("Write pca_fit to see PCA reconstructions.")
        return
    fig, axes = plt.subplots(2, 1, figsize=(8, 2.2))
    show_digits(axes[0], X_test[:12], title="held-out digits")
    show_digits(axes[1], reconstruct(X_test[:12], mean, comps).clamp(0, 1), title=f"rebuilt from K = {k} components")
    plt.show()


interact(show_pca_reconstructions, k=widgets.IntSlider(value=8, min=1, max=40, step=1));

# %% [markdown]
# ## 2. The linear autoencoder finds the principal subspace
#
# A linear autoencoder encodes with a matrix $V$ `(K, D)` and decodes with $W$ `(D, K)`:
# $z = Vx$, $\hat x = Wz = WVx$ (biases dropped: the data is centred). Its loss is the mean squared error
#
# $$L(V, W) = \frac1N\sum_{n=1}^N \|W V x_n - x_n\|^2 .$$
#
# The textbook (§4.3) shows that at the optimum $WV$ is the orthogonal projector on the top-$K$ principal
# subspace. The optimum is not unique: for any invertible $K\times K$ matrix $A$, the pair $(A V, W A^{-1})$ gives
# the same $WV$. So gradient descent finds the right **subspace** (the span of $W$'s columns) in some basis of
# its own, not the principal vectors, and a check must compare projectors, not weights.
#
# ### Exercise 2: `linear_ae_loss_and_grads` (derive the gradients)
# Given `X` `(N, D)`, `V` `(K, D)`, `W` `(D, K)`, return `(loss, dV, dW)`: the loss above (a 0-d tensor) and
# its gradients with respect to `V` and `W`, computed with matrix products (no autograd: this is graded as a
# derivation). Write the residual matrix $R = XV^\top W^\top - X$ `(N, D)` and work from
# $L = \frac1N\operatorname{tr}(R^\top R)$.
#
# <details><summary>Hint 1</summary>
#
# Perturb $W$ by $dW$: $dR = X V^\top dW^\top$ and $dL = \frac2N\operatorname{tr}(R^\top dR)$. Use the cyclic
# property of the trace to bring $dW$ to the form $\operatorname{tr}(G^\top dW)$; then $G = \partial L/\partial W$.
# </details>
#
# <details><summary>Hint 2</summary>
#
# The code matrix $Z = XV^\top$ `(N, K)` appears in the gradient for $W$: check the shapes,
# $(D, N)\cdot(N, K)$. For $V$, $dR = X\,dV^\top W^\top$; the shapes must combine into `(K, D)`.
# </details>
#
# <details><summary>Hint 3</summary>
#
# $\partial L/\partial W = \frac2N R^\top Z$ and $\partial L/\partial V = \frac2N W^\top R^\top X$.
# </details>

# %% nbgrader={"grade": false, "grade_id": "linear_ae_loss_and_grads", "locked": false, "schema_version": 3, "solution": true}
def linear_ae_loss_and_grads(X, V, W):
    """Mean squared reconstruction error of x -> W V x and its gradients, by hand.

    Args:
        X: (N, D) data; V: (K, D) encoder; W: (D, K) decoder.

    Returns:
        (loss 0-d, dV (K, D), dW (D, K)).
    """
    ### BEGIN SOLUTION
    N = X.shape[0]
    Z = X @ V.T
    R = Z @ W.T - X
    loss = (R * R).sum() / N
    return loss, (2.0 / N) * W.T @ R.T @ X, (2.0 / N) * R.T @ Z
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_linear_ae_loss_and_grads", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
X = torch.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=f64)
V = torch.tensor([[1.0, 0.0]], dtype=f64)
W = torch.tensor([[1.0], [1.0]], dtype=f64)
# Codes z = (1, 3); reconstructions (1, 1) and (3, 3); residuals (0, -1) and (0, 4); loss (1 + 16) / 2.
loss, dV, dW = linear_ae_loss_and_grads(X, V, W)
expect_close(loss, 8.5, what="the loss", hint="Mean over samples of the squared norm of the residual.")
expect_close(dW, torch.tensor([[0.0], [11.0]], dtype=f64), what="dL/dW",
             hint="dL/dW has the decoder's shape (D, K): residuals against codes, with 2/N in front.")
expect_close(dV, torch.tensor([[11.0, -6.0]], dtype=f64), what="dL/dV",
             hint="dL/dV has the encoder's shape (K, D): the residuals pass back through W first.")

# %% nbgrader={"grade": true, "grade_id": "test_linear_ae_loss_and_grads_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("linear_ae_loss_and_grads", linear_ae_loss_and_grads)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3: `train_linear_autoencoder`
# Given `X` `(N, D)`, `k`, a learning rate `lr`, a number of `steps` and a `torch.Generator`, in this order:
# draw `V = 0.1 * torch.randn(k, D, generator=generator, dtype=X.dtype)`, then `W` likewise with shape `(D, k)`;
# centre `X` by its column means; take `steps` plain gradient-descent steps `V -= lr * dV`, `W -= lr * dW` with
# your `linear_ae_loss_and_grads` on the centred data. Return `(V, W)`. (With `steps=0` you return the initial
# weights; the hidden tests check that too.)

# %% nbgrader={"grade": false, "grade_id": "train_linear_autoencoder", "locked": false, "schema_version": 3, "solution": true}
def train_linear_autoencoder(X, k, lr, steps, generator):
    """Gradient descent on the linear autoencoder's loss, from a seeded small initialization.

    Args:
        X: (N, D) data; k: latent size; lr: step size; steps: int; generator: torch.Generator.

    Returns:
        (V (k, D), W (D, k)).
    """
    ### BEGIN SOLUTION
    D = X.shape[1]
    V = 0.1 * torch.randn(k, D, generator=generator, dtype=X.dtype)
    W = 0.1 * torch.randn(D, k, generator=generator, dtype=X.dtype)
    Xc = X - X.mean(dim=0)
    for _ in range(steps):
        _, dV, dW = linear_ae_loss_and_grads(Xc, V, W)
        V, W = V - lr * dV, W - lr * dW
    return V, W
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_train_linear_autoencoder", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
_g = torch.Generator().manual_seed(0)
# Variances 9, 4, 0.04 along the axes, and a mean far from the origin: the top-2 subspace is the (e1, e2) plane.
_X = torch.randn(300, 3, generator=_g, dtype=f64) * torch.tensor([3.0, 2.0, 0.2], dtype=f64) + 5.0
V, W = train_linear_autoencoder(_X, 2, 0.02, 400, torch.Generator().manual_seed(1))
expect_shape(V, (2, 3), what="V")
expect_shape(W, (3, 2), what="W")
_P = W @ torch.linalg.pinv(W)  # the projector on the span of W's columns
expect_close(_P, torch.diag(torch.tensor([1.0, 1.0, 0.0], dtype=f64)), atol=0.02,
             what="the projector on the span of W (close to the (e1, e2) plane, up to sampling noise)",
             hint="Centre the data (the mean of 5 is not a direction of variance) and step DOWN the gradient.")
V0, W0 = train_linear_autoencoder(_X, 2, 0.02, 0, torch.Generator().manual_seed(1))
_g = torch.Generator().manual_seed(1)
expect_close(V0, 0.1 * torch.randn(2, 3, generator=_g, dtype=f64), what="V after 0 steps",
             hint="Draw V first, then W, from the generator, scaled by 0.1.")

# %% nbgrader={"grade": true, "grade_id": "test_train_linear_autoencoder_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("train_linear_autoencoder", train_linear_autoencoder)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **Watching it converge.** On the digits with $K = 4$: the largest principal angle between the span of $W$
# and the PCA subspace falls to zero, while $W$'s columns stay far from the principal vectors themselves
# (they are neither orthonormal nor aligned with them).

# %%
try:
    _Xd = X_train.double()
    _, _comps, _ = pca_fit(_Xd, 4)
    _g = torch.Generator().manual_seed(0)
    V, W = train_linear_autoencoder(_Xd, 4, 0.2, 0, _g)
    _Xc = _Xd - _Xd.mean(0)
    angles, cosines = [], []
    for step in range(300):
        _, dV, dW = linear_ae_loss_and_grads(_Xc, V, W)
        V, W = V - 0.2 * dV, W - 0.2 * dW
        Q = torch.linalg.qr(W).Q
        angles.append(torch.linalg.svdvals(_comps @ Q).clamp(max=1).min().arccos().item() * 180 / math.pi)
        cosines.append((W[:, 0] / W[:, 0].norm() @ _comps[0]).abs().item())
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(angles, label="largest angle between span(W) and the PCA subspace")
    ax.plot([math.degrees(math.acos(min(c, 1.0))) for c in cosines], label="angle between W[:, 0] and component 1")
    ax.set_xlabel("gradient step")
    ax.set_ylabel("degrees")
    ax.legend(fontsize=8)
    plt.show()
    print(f"after 300 steps: subspace angle {angles[-1]:.2f} degrees, "
          f"angle between W[:, 0] and component 1 {math.degrees(math.acos(min(cosines[-1], 1.0))):.1f} degrees")
except NotImplementedError:
    print("Write pca_fit, linear_ae_loss_and_grads and train_linear_autoencoder to see this demo.")

# %% [markdown]
# ### Concept question 1: `concept_linear_ae`
# A linear autoencoder with $K$ hidden units is trained to the global minimum of the mean squared error on
# centred data whose covariance has distinct eigenvalues. Which statement is true? Return the letter.
#
# - **a.** The rows of $V$ are exactly the top-$K$ eigenvectors of the covariance, up to sign.
# - **b.** Gradient descent settles on the $K$ directions of *smallest* variance, since those are the easiest
#   to reconstruct.
# - **c.** The columns of $W$ span the top-$K$ principal subspace, but they can be any basis of it: $WV$ is
#   unique, $W$ and $V$ are not.
# - **d.** Adding more linear layers between encoder and decoder lets it reach a lower error than PCA with
#   the same $K$.

# %% nbgrader={"grade": false, "grade_id": "concept_linear_ae", "locked": false, "schema_version": 3, "solution": true}
def concept_linear_ae():
    """Return your answer as one letter: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_linear_ae", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(concept_linear_ae() in ("a", "b", "c", "d"), "concept_linear_ae() must return one of 'a', 'b', 'c', 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_concept_linear_ae_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# The answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_linear_ae", concept_linear_ae)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Denoising autoencoders
#
# A bottleneck is one way to stop an autoencoder from learning the identity map; the CS 182 worksheet lists
# four (a small code, a sparse code, noise, a prior on the code). A **denoising** autoencoder corrupts its
# input and is asked for the **clean** one: it minimizes $\frac1N\sum_n\|A(\tilde x_n) - x_n\|^2$ with
# $\tilde x_n = x_n + \text{noise}_n$. Minimizing a squared error over functions gives the conditional mean,
# so the trained network estimates $\mathbb E[x\,|\,\tilde x]$, the centre of mass of the clean points that
# could have produced $\tilde x$ (textbook §4.4): it learns to pull points back onto the data.
#
# ### Exercise 4: `dae_loss`
# Given a callable `autoencoder` (`(N, D) -> (N, D)`), clean `x` `(N, D)` and `noise` `(N, D)`, return the
# denoising loss above: the mean over samples of the squared Euclidean error, a 0-d tensor that stays
# differentiable through the autoencoder's parameters.

# %% nbgrader={"grade": false, "grade_id": "dae_loss", "locked": false, "schema_version": 3, "solution": true}
def dae_loss(autoencoder, x, noise):
    """Mean over samples of ||autoencoder(x + noise) - x||^2.

    Args:
        autoencoder: callable (N, D) -> (N, D); x: (N, D) clean data; noise: (N, D).

    Returns:
        0-d tensor.
    """
    ### BEGIN SOLUTION
    return ((autoencoder(x + noise) - x) ** 2).sum(dim=-1).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_dae_loss", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
x = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=f64)
noise = torch.tensor([[0.5, 0.5], [-1.0, 0.0]], dtype=f64)
# The identity "autoencoder" returns the noisy input: its error is the noise itself, (0.5 + 1) / 2.
expect_close(dae_loss(lambda v: v, x, noise), 0.75, what="dae_loss of the identity map",
             hint="Feed the NOISY input, compare with the CLEAN x; mean over samples of the summed squares.")
expect_close(dae_loss(lambda v: 0.5 * v, x, noise), 0.6875, what="dae_loss of v -> v / 2")

# %% nbgrader={"grade": true, "grade_id": "test_dae_loss_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("dae_loss", dae_loss)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5: `linear_denoiser` (derive it)
# The best **affine** denoiser can be found on paper. The noise is Gaussian, $\tilde x = x + s\varepsilon$ with
# $\varepsilon\sim\mathcal N(0, I)$, and we average the loss over it exactly:
#
# $$\min_{A, b}\ \frac1N\sum_{n=1}^N \mathbb E_\varepsilon\,\big\|A(x_n + s\varepsilon) + b - x_n\big\|^2 .$$
#
# Given `X` `(N, D)` and `noise_std` $= s \ge 0$, return `(A, b)` of shapes `(D, D)` and `(D,)` solving this
# problem, so that a noisy batch is cleaned by `x_noisy @ A.T + b`. Write $\bar x$ for the mean of the rows and
# $\Sigma = \frac1N\sum_n (x_n-\bar x)(x_n-\bar x)^\top$ (divided by $N$: the average runs over the data set exactly).
#
# <details><summary>Hint 1</summary>
#
# Expand the square and take the expectation over $\varepsilon$: the cross term vanishes ($\mathbb E\varepsilon = 0$)
# and $\mathbb E\|A\varepsilon\|^2 = \operatorname{tr}(AA^\top)$. The noise turns into a penalty
# $s^2\operatorname{tr}(AA^\top)$, like ridge regression.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Setting the derivative in $b$ to zero gives $b = \bar x - A\bar x$. Substitute it: what remains is a least-squares
# problem in $A$ on the centred data plus the penalty; set its gradient to zero.
# </details>
#
# <details><summary>Hint 3</summary>
#
# $A(\Sigma + s^2 I) = \Sigma$, so $A = \Sigma(\Sigma + s^2 I)^{-1}$: each principal direction is shrunk by
# $\lambda_i/(\lambda_i + s^2)$, the directions the data hardly uses most of all.
# </details>

# %% nbgrader={"grade": false, "grade_id": "linear_denoiser", "locked": false, "schema_version": 3, "solution": true}
def linear_denoiser(X, noise_std):
    """The affine map x_noisy -> x_noisy @ A.T + b that best removes Gaussian noise of std noise_std.

    Args:
        X: (N, D) clean data; noise_std: float >= 0.

    Returns:
        (A (D, D), b (D,)).
    """
    ### BEGIN SOLUTION
    mean = X.mean(dim=0)
    Xc = X - mean
    cov = Xc.T @ Xc / X.shape[0]
    A = torch.linalg.solve(cov + noise_std ** 2 * torch.eye(X.shape[1], dtype=X.dtype), cov).T
    return A, mean - A @ mean
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_linear_denoiser", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
# Centred rows (+-2, 0) and (0, +-1): variances 2 and 1/2 (divided by N = 4), mean (1, 1); noise variance 1:
# shrink factors 2 / 3 and 1 / 3.
_X = torch.tensor([[3.0, 1.0], [-1.0, 1.0], [1.0, 2.0], [1.0, 0.0]], dtype=f64)
A, b = linear_denoiser(_X, 1.0)
expect_close(A, torch.diag(torch.tensor([2 / 3, 1 / 3], dtype=f64)), what="A",
             hint="Each principal direction is shrunk by variance / (variance + noise variance); "
                  "the covariance is divided by N.")
expect_close(b, torch.tensor([1 / 3, 2 / 3], dtype=f64), what="b", hint="The bias puts the mean back: b = mean - A mean.")
A0, b0 = linear_denoiser(_X, 0.0)
expect_close(A0, torch.eye(2, dtype=f64), what="A without noise", hint="No noise: nothing to remove.")

# %% nbgrader={"grade": true, "grade_id": "test_linear_denoiser_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("linear_denoiser", linear_denoiser)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **A denoiser on the digits.** The best affine denoiser (your closed form, fitted on the training digits)
# against a small non-linear denoising autoencoder trained with your `dae_loss` for a few seconds. Move the
# noise level: the errors printed are mean squared errors per image on held-out digits.

# %%
_dae_cache = {}


def train_dae(noise_std, steps=300, seed=0):
    if noise_std not in _dae_cache:
        g = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        net = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.Tanh(), torch.nn.Linear(128, 64))
        opt = torch.optim.Adam(net.parameters(), lr=3e-3)
        for _ in range(steps):
            idx = torch.randint(0, len(X_train), (128,), generator=g)
            loss = dae_loss(net, X_train[idx], noise_std * torch.randn(128, 64, generator=g))
            opt.zero_grad()
            loss.backward()
            opt.step()
        _dae_cache[noise_std] = net
    return _dae_cache[noise_std]


def show_denoising(noise_std=0.3):
    noisy = X_test[:10] + noise_std * torch.randn(10, 64, generator=torch.Generator().manual_seed(1))
    try:
        A, b = linear_denoiser(X_train, noise_std)
        net = train_dae(noise_std)
    except NotImplementedError:
        print("Write dae_loss and linear_denoiser to see this demo.")
        return
    with torch.no_grad():
        noisy_all = X_test + noise_std * torch.randn(X_test.shape, generator=torch.Generator().manual_seed(2))
        err = {"noisy": noisy_all - X_test, "linear": noisy_all @ A.T + b - X_test, "DAE": net(noisy_all) - X_test}
        rows = [("clean", X_test[:10]), (f"noisy, std {noise_std:.2f}", noisy),
                ("best affine denoiser", noisy @ A.T + b), ("denoising autoencoder", net(noisy))]
    fig, axes = plt.subplots(4, 1, figsize=(7, 4))
    for ax, (title, imgs) in zip(axes, rows):
        show_digits(ax, imgs.clamp(0, 1), title=title)
    plt.show()
    print("held-out MSE per image: " + ", ".join(f"{k} {(v ** 2).sum(1).mean().item():.2f}" for k, v in err.items()))


interact(show_denoising, noise_std=widgets.SelectionSlider(options=[0.1, 0.2, 0.3, 0.5, 0.8], value=0.3));

# %% [markdown]
# ## 4. Probabilistic PCA
#
# PCA gives a subspace but no probabilities. **Probabilistic PCA** (textbook §5.1) is a generative model: draw a
# code $z\sim\mathcal N(0, I_K)$, map it up with $W$ `(D, K)`, add isotropic noise:
#
# $$x = Wz + \mu + \sigma\varepsilon,\qquad \varepsilon\sim\mathcal N(0, I_D)\quad\Longrightarrow\quad
# x\sim\mathcal N(\mu,\ C),\qquad C = WW^\top + \sigma^2 I_D .$$
#
# Its log-likelihood for one point is that of a Gaussian in $D$ dimensions,
#
# $$\log p(x) = -\frac D2\log 2\pi - \frac12\log\det C - \frac12(x-\mu)^\top C^{-1}(x-\mu).$$
#
# The textbook's eq. 5.2 writes the constant of $N$ points as $+\frac{NK}{2}\ln 2\pi$: the sign is wrong and the
# dimension is $D$, not $K$ (the density lives in data space).
#
# ### Exercise 6: `ppca_log_likelihood`
# Given `X` `(N, D)`, `mu` `(D,)`, `W` `(D, K)` and `sigma2` $>0$ (a float or a 0-d tensor), return the `(N,)`
# log-densities. Avoid an explicit inverse: a Cholesky factor of $C$ gives both the solve and the log-determinant.

# %% nbgrader={"grade": false, "grade_id": "ppca_log_likelihood", "locked": false, "schema_version": 3, "solution": true}
def ppca_log_likelihood(X, mu, W, sigma2):
    """log N(x; mu, W W^T + sigma2 I) for every row x of X.

    Args:
        X: (N, D); mu: (D,); W: (D, K); sigma2: positive float or 0-d tensor.

    Returns:
        (N,) log-densities.
    """
    ### BEGIN SOLUTION
    D = X.shape[1]
    C = W @ W.T + sigma2 * torch.eye(D, dtype=X.dtype)
    L = torch.linalg.cholesky(C)
    sol = torch.linalg.solve_triangular(L, (X - mu).T, upper=False)
    return -0.5 * (D * math.log(2 * math.pi) + 2 * torch.log(torch.diagonal(L)).sum() + (sol * sol).sum(0))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_ppca_log_likelihood", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
# W = (1, 0)^T, sigma2 = 1: C = diag(2, 1). The point (2, 1) has Mahalanobis term 4/2 + 1 = 3.
ll = ppca_log_likelihood(torch.tensor([[2.0, 1.0], [0.0, 0.0]], dtype=f64), torch.zeros(2, dtype=f64),
                         torch.tensor([[1.0], [0.0]], dtype=f64), 1.0)
expect_close(ll, torch.tensor([-math.log(2 * math.pi) - 0.5 * math.log(2) - 1.5,
                               -math.log(2 * math.pi) - 0.5 * math.log(2)], dtype=f64),
             what="ppca_log_likelihood", hint="The constant is -(D/2) log(2 pi) with D the DATA dimension, "
                                              "and half the log-determinant of C.")

# %% nbgrader={"grade": true, "grade_id": "test_ppca_log_likelihood_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("ppca_log_likelihood", ppca_log_likelihood)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **The maximum-likelihood fit** has a closed form (Tipping and Bishop; quoted in the textbook §5.1). Let
# $\lambda_1\ge\dots\ge\lambda_D$ be the eigenvalues of the **maximum-likelihood** covariance
# $S = \frac1N\sum_n (x_n-\bar x)(x_n-\bar x)^\top$ (divided by $N$, not $N-1$: this is the ML estimate) and $U_K$
# the top-$K$ eigenvectors. Then
#
# $$\mu = \bar x,\qquad \sigma^2 = \frac1{D-K}\sum_{i>K}\lambda_i,\qquad W = U_K(\Lambda_K - \sigma^2 I)^{1/2} R$$
#
# for any rotation $R$. The noise explains, on average, the variance of the directions the model leaves out;
# each kept direction gets the variance in excess of the noise. The model covariance $C = WW^\top + \sigma^2 I$
# does not depend on $R$, which is what the tests compare.
#
# ### Exercise 7: `ppca_fit`
# Given `X` `(N, D)` and `1 <= k < D`, return `(mu, W, sigma2)` with shapes `(D,)`, `(D, k)` and a 0-d tensor
# (take $R = I$). You may reuse your `pca_fit` (mind its $N-1$) or take the SVD again.

# %% nbgrader={"grade": false, "grade_id": "ppca_fit", "locked": false, "schema_version": 3, "solution": true}
def ppca_fit(X, k):
    """Maximum-likelihood probabilistic PCA.

    Args:
        X: (N, D); k: latent dimension, 1 <= k < D.

    Returns:
        (mu (D,), W (D, k), sigma2 0-d tensor).
    """
    ### BEGIN SOLUTION
    N, D = X.shape
    mu = X.mean(dim=0)
    _, S, Vh = torch.linalg.svd(X - mu, full_matrices=False)
    lam = torch.zeros(D, dtype=X.dtype)
    lam[:S.shape[0]] = S ** 2 / N
    sigma2 = lam[k:].mean()
    return mu, Vh[:k].T * torch.sqrt(torch.clamp(lam[:k] - sigma2, min=0.0)), sigma2
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_ppca_fit", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
# Four points: variances (divided by N = 4) 4 along e1 and 1 along e2. With K = 1: sigma2 = 1 and W W^T = diag(3, 0).
mu, W, s2 = ppca_fit(torch.tensor([[2.0, 1.0], [-2.0, -1.0], [2.0, -1.0], [-2.0, 1.0]], dtype=f64) + 1.0, 1)
expect_close(mu, torch.tensor([1.0, 1.0], dtype=f64), what="mu")
expect_close(s2, 1.0, what="sigma2", hint="The mean of the DISCARDED eigenvalues of the covariance divided by N.")
expect_shape(W, (2, 1), what="W")
expect_close(W @ W.T, torch.diag(torch.tensor([3.0, 0.0], dtype=f64)), what="W @ W.T",
             hint="Each kept direction carries its variance MINUS sigma2.")

# %% nbgrader={"grade": true, "grade_id": "test_ppca_fit_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("ppca_fit", ppca_fit)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **The posterior.** In PPCA everything is Gaussian, so $p(z|x)$ is Gaussian too and can be written down. With
# the $K\times K$ matrix $M = W^\top W + \sigma^2 I_K$,
#
# $$p(z\,|\,x) = \mathcal N\big(M^{-1}W^\top(x-\mu),\ \sigma^2 M^{-1}\big).$$
#
# (Complete the square in $\log p(x|z) + \log p(z) = -\frac{1}{2\sigma^2}\|x - Wz - \mu\|^2 - \frac12\|z\|^2 + \text{const}$:
# the quadratic term in $z$ is $-\frac1{2\sigma^2}z^\top M z$.) The textbook's eq. 5.3 puts the $D\times D$ matrix
# $(WW^\top + \sigma^2 I)^{-1}$ there, whose product with $W^\top$ does not even have matching shapes. As
# $\sigma^2\to 0$ the mean becomes the pseudo-inverse $(W^\top W)^{-1}W^\top(x-\mu)$, the linear autoencoder's
# encoder. Note also that the covariance is the same for every $x$.
#
# ### Exercise 8: `ppca_posterior`
# Given `X` `(N, D)`, `mu`, `W`, `sigma2`, return `(means, cov)`: the posterior means `(N, K)` (one row per data
# point) and the shared posterior covariance `(K, K)`.

# %% nbgrader={"grade": false, "grade_id": "ppca_posterior", "locked": false, "schema_version": 3, "solution": true}
def ppca_posterior(X, mu, W, sigma2):
    """Exact posterior of probabilistic PCA.

    Args:
        X: (N, D); mu: (D,); W: (D, K); sigma2: positive float or 0-d tensor.

    Returns:
        (means (N, K), cov (K, K)).
    """
    ### BEGIN SOLUTION
    M = W.T @ W + sigma2 * torch.eye(W.shape[1], dtype=W.dtype)
    return torch.linalg.solve(M, W.T @ (X - mu).T).T, sigma2 * torch.linalg.inv(M)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_ppca_posterior", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
# W = (1, 0)^T, sigma2 = 1: M = 2, posterior mean (x_1 - mu_1) / 2, variance 1/2.
m, c = ppca_posterior(torch.tensor([[3.0, 5.0], [1.0, -1.0]], dtype=f64), torch.tensor([1.0, 0.0], dtype=f64),
                      torch.tensor([[1.0], [0.0]], dtype=f64), 1.0)
expect_close(m, torch.tensor([[1.0], [0.0]], dtype=f64), what="posterior means",
             hint="M = W^T W + sigma2 I is K x K; the mean is M^{-1} W^T (x - mu).")
expect_close(c, torch.tensor([[0.5]], dtype=f64), what="posterior covariance", hint="sigma2 times M^{-1}.")

# %% nbgrader={"grade": true, "grade_id": "test_ppca_posterior_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("ppca_posterior", ppca_posterior)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **PPCA on the digits.** Held-out log-likelihood per digit as the latent dimension grows. (Pixel values are
# continuous here, so these are densities: they can be positive.) Few components already explain most of the
# variance; the noise $\sigma^2$ absorbs the rest.

# %%
try:
    _ks = [1, 2, 4, 8, 16, 32, 48]
    _ll = []
    for k in _ks:
        mu, W, s2 = ppca_fit(X_train.double(), k)
        _ll.append(ppca_log_likelihood(X_test.double(), mu, W, s2).mean().item())
    plt.figure(figsize=(5, 3))
    plt.plot(_ks, _ll, "o-")
    plt.xlabel("K")
    plt.ylabel("held-out log p(x) per digit")
    plt.show()
except NotImplementedError:
    print("Write ppca_fit and ppca_log_likelihood to see this demo.")

# %% [markdown]
# ## 5. The variational autoencoder
#
# PPCA's posterior was exact because everything was linear and Gaussian. Make the decoder a neural network,
# $p_\theta(x|z)$, and $\log p_\theta(x) = \log\int p_\theta(x|z)\,p(z)\,dz$ can no longer be computed. Kaplan (§7.3.2)
# writes, for **any** distribution $q(z|x)$ and any $z$,
#
# $$\log p(x) = \log p(x, z) - \log p(z|x) = \big[\log p(x,z) - \log q(z|x)\big] + \big[\log q(z|x) - \log p(z|x)\big],$$
#
# and averages over $z\sim q(z|x)$:
#
# $$\log p(x) = \underbrace{\mathbb E_{q}\big[\log p(x|z)\big] - \mathrm{KL}\big(q(z|x)\,\|\,p(z)\big)}_{\text{ELBO}}
# \;+\; \mathrm{KL}\big(q(z|x)\,\|\,p(z|x)\big).$$
#
# The last term is $\ge 0$, so the ELBO is a **lower** bound on $\log p(x)$ (the CS 182 worksheet reaches the same
# bound through Jensen's inequality), and the bound is tight exactly when $q(z|x)$ is the true posterior. A VAE
# makes $q_\phi(z|x) = \mathcal N(\mu_\phi(x), \mathrm{diag}\,\sigma_\phi^2(x))$ with an encoder network, $p(z) = \mathcal N(0, I)$,
# and maximizes the ELBO over encoder and decoder together.
#
# ### Exercise 9: `gaussian_kl_standard` (derive it)
# Given `mu` and `logvar` of shape `(..., K)`, return $\mathrm{KL}\big(\mathcal N(\mu,\mathrm{diag}\,\sigma^2)\,\|\,\mathcal N(0, I)\big)$
# summed over the last dimension, shape `(...)`, with $\sigma^2 = e^{\text{logvar}}$. Derive it: the KL of two
# product distributions is the sum over coordinates, so work with one coordinate,
# $\mathrm{KL} = \mathbb E_{z\sim\mathcal N(\mu,\sigma^2)}\big[\log\mathcal N(z;\mu,\sigma^2) - \log\mathcal N(z; 0, 1)\big]$.
# Both the textbook's eq. 6.14 and the sign in its training code are wrong (see the top of the notebook);
# a check you can do yourself: the KL must be $\ge 0$, and $0$ only at $\mu=0,\ \sigma=1$.
#
# <details><summary>Hint 1</summary>
#
# $\log\mathcal N(z;m,s^2) = -\frac12\log(2\pi s^2) - \frac{(z-m)^2}{2s^2}$. The $\log 2\pi$ terms cancel.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Under $z\sim\mathcal N(\mu,\sigma^2)$: $\mathbb E[(z-\mu)^2] = \sigma^2$ and $\mathbb E[z^2] = \sigma^2 + \mu^2$.
# </details>
#
# <details><summary>Hint 3</summary>
#
# $\mathrm{KL} = \frac12\big(\sigma^2 + \mu^2 - 1 - \log\sigma^2\big)$ per coordinate.
# </details>

# %% nbgrader={"grade": false, "grade_id": "gaussian_kl_standard", "locked": false, "schema_version": 3, "solution": true}
def gaussian_kl_standard(mu, logvar):
    """KL( N(mu, diag exp(logvar)) || N(0, I) ), summed over the last dimension.

    Args:
        mu, logvar: (..., K).

    Returns:
        (...).
    """
    ### BEGIN SOLUTION
    return 0.5 * (torch.exp(logvar) + mu * mu - 1.0 - logvar).sum(dim=-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gaussian_kl_standard", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
expect_close(gaussian_kl_standard(torch.zeros(3, dtype=f64), torch.zeros(3, dtype=f64)), 0.0,
             what="KL of the prior to itself")
# mu = 1, sigma = 1: (1 + 1 - 1 - 0) / 2; mu = 0, sigma^2 = e: (e - 1 - 1) / 2.
kl = gaussian_kl_standard(torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=f64), torch.tensor([[0.0, 1.0], [0.0, 0.0]], dtype=f64))
expect_close(kl, torch.tensor([0.5 + (math.e - 2) / 2, 0.0], dtype=f64), what="KL per row (summed over K)",
             hint="A KL divergence is never negative. Check the factor 1/2 and the sign of every term, and sum "
                  "over the LAST dimension only.")

# %% nbgrader={"grade": true, "grade_id": "test_gaussian_kl_standard_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("gaussian_kl_standard", gaussian_kl_standard)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### The reparameterization trick
#
# The ELBO's first term is an expectation over $z\sim q_\phi(z|x)$, and we need its gradient in $\phi$. Sampling
# $z$ inside the network would cut the graph. Instead write the sample as a deterministic, differentiable function
# of $\phi$ and of noise that does not depend on $\phi$ (Kaplan §7.3.2; CS 182 discussion 10, problem 6):
#
# $$z = \mu + \sigma\odot\varepsilon,\qquad \varepsilon\sim\mathcal N(0, I),\qquad \sigma = e^{\text{logvar}/2}.$$
#
# Then $\nabla_\phi\mathbb E_q[f(z)] = \mathbb E_\varepsilon[\nabla_\phi f(\mu + \sigma\varepsilon)]$, estimated with a few
# draws. The textbook (§6.3) writes $\sigma^2\varepsilon$, which has the wrong spread. Here the noise is **passed in**,
# so the function is deterministic and gradable exactly.
#
# ### Exercise 10: `reparameterize`
# Given `mu`, `logvar` and `eps` of the same shape, return $\mu + \sigma\varepsilon$, differentiable in `mu` and
# `logvar`.

# %% nbgrader={"grade": false, "grade_id": "reparameterize", "locked": false, "schema_version": 3, "solution": true}
def reparameterize(mu, logvar, eps):
    """z = mu + exp(logvar / 2) * eps.

    Args:
        mu, logvar, eps: (..., K).

    Returns:
        (..., K).
    """
    ### BEGIN SOLUTION
    return mu + torch.exp(0.5 * logvar) * eps
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_reparameterize", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
z = reparameterize(torch.tensor([1.0, -2.0], dtype=f64), torch.tensor([math.log(4.0), 0.0], dtype=f64),
                   torch.tensor([0.5, 3.0], dtype=f64))
expect_close(z, torch.tensor([2.0, 1.0], dtype=f64), what="reparameterize",
             hint="logvar is log sigma^2: the standard deviation is exp(logvar / 2), and it multiplies eps.")

# %% nbgrader={"grade": true, "grade_id": "test_reparameterize_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("reparameterize", reparameterize)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **Why bother: two estimators of one gradient.** For $f(z) = z^2$ and $z\sim\mathcal N(\theta, 1)$ (the CS 182
# example), $\frac{d}{d\theta}\mathbb E[z^2] = 2\theta$. The score-function estimator (the one policy gradients use)
# averages $f(z)\,\partial_\theta\log q(z) = z^2(z-\theta)$; the reparameterized one averages
# $\partial_\theta f(\theta + \varepsilon) = 2(\theta+\varepsilon)$. Both are unbiased; compare their spread.

# %%
try:
    theta = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    eps = torch.randn(20000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    z = reparameterize(theta, torch.zeros((), dtype=torch.float64), eps)
    (rep_grads,) = torch.autograd.grad((z ** 2).sum(), theta)
    per_sample_rep = 2 * z.detach()
    per_sample_score = z.detach() ** 2 * (z.detach() - 1.5)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(per_sample_score.numpy(), bins=200, range=(-10, 25), histtype="step", density=True,
            label=f"score function: mean {per_sample_score.mean():.2f}, std {per_sample_score.std():.1f}")
    ax.hist(per_sample_rep.numpy(), bins=200, range=(-10, 25), histtype="step", density=True,
            label=f"reparameterized: mean {per_sample_rep.mean():.2f}, std {per_sample_rep.std():.1f}")
    ax.axvline(3.0, color="k", ls="--", label="exact gradient 2 theta = 3")
    ax.set_xlabel("one-sample gradient estimate")
    ax.legend(fontsize=8)
    plt.show()
    print(f"autograd through reparameterize, averaged: {rep_grads.item() / len(eps):.3f}")
except NotImplementedError:
    print("Write reparameterize to see this demo.")

# %% [markdown]
# ### The decoder's likelihood
# Our digits have pixels in $[0, 1]$ and the decoder outputs one **logit** $l_j$ per pixel; $p(x|z)$ treats the
# pixels as independent Bernoulli variables with means $\sigma(l_j)$ (CS 182's choice for MNIST; the grey levels
# act as soft targets):
#
# $$\log p(x|z) = \sum_j x_j\log\sigma(l_j) + (1 - x_j)\log\sigma(-l_j),\qquad \log\sigma(l) = -\log(1 + e^{-l}).$$
#
# Computing $\log(\sigma(l))$ literally fails for large $|l|$: $\sigma(40) = 1$ in floating point, so
# $\log(1-\sigma(40)) = -\infty$. Chapter 10's stable $\log\sigma$ (or `torch.nn.functional.logsigmoid`) fixes it.
#
# ### Exercise 11: `bernoulli_log_likelihood`
# Given targets `x` `(..., D)` in $[0, 1]$ and `logits` `(..., D)`, return the sum above over the last dimension,
# shape `(...)`, finite for logits of any size.

# %% nbgrader={"grade": false, "grade_id": "bernoulli_log_likelihood", "locked": false, "schema_version": 3, "solution": true}
def bernoulli_log_likelihood(x, logits):
    """sum_j x_j log sigmoid(l_j) + (1 - x_j) log sigmoid(-l_j), over the last dimension.

    Args:
        x: (..., D) targets in [0, 1]; logits: (..., D).

    Returns:
        (...).
    """
    ### BEGIN SOLUTION
    logsig = torch.nn.functional.logsigmoid
    return (x * logsig(logits) + (1.0 - x) * logsig(-logits)).sum(dim=-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_bernoulli_log_likelihood", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
expect_close(bernoulli_log_likelihood(torch.tensor([1.0, 0.0, 0.5], dtype=f64), torch.zeros(3, dtype=f64)),
             3 * math.log(0.5), what="three pixels at logit 0", hint="Sum over the pixels, do not average.")
expect_close(bernoulli_log_likelihood(torch.tensor([[1.0], [0.0]], dtype=f64), torch.tensor([[60.0], [60.0]], dtype=f64)),
             torch.tensor([-math.exp(-60.0), -60.0], dtype=f64), what="a pixel at logit 60",
             hint="log(1 - sigmoid(60)) is -60 up to rounding, not -inf: use a stable log-sigmoid.")

# %% nbgrader={"grade": true, "grade_id": "test_bernoulli_log_likelihood_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("bernoulli_log_likelihood", bernoulli_log_likelihood)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 12: `vae_loss`
# The quantity to **minimize** for a batch, with one reparameterized sample of $z$ per image:
#
# $$\text{loss} = \frac1N\sum_{n=1}^N\Big[-\log p(x_n|z_n) + \beta\,\mathrm{KL}\big(q(z|x_n)\,\|\,p(z)\big)\Big].$$
#
# With $\beta = 1$ it is minus the average ELBO estimate; $\beta\neq 1$ gives Kaplan's $\beta$-VAE (eq. 7.3.2).
# Given `x` `(N, D)`, the decoder's `logits` `(N, D)` at the sampled $z$, the encoder's `mu`, `logvar` `(N, K)` and
# `beta`, return this 0-d tensor, built from your two previous functions. Mind the sign of the KL term: the
# textbook's code adds $-\mathrm{KL}$, which *rewards* moving away from the prior.

# %% nbgrader={"grade": false, "grade_id": "vae_loss", "locked": false, "schema_version": 3, "solution": true}
def vae_loss(x, logits, mu, logvar, beta=1.0):
    """Batch mean of -log p(x|z) + beta * KL(q(z|x) || N(0, I)).

    Args:
        x: (N, D); logits: (N, D); mu, logvar: (N, K); beta: float.

    Returns:
        0-d tensor.
    """
    ### BEGIN SOLUTION
    return (beta * gaussian_kl_standard(mu, logvar) - bernoulli_log_likelihood(x, logits)).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_vae_loss", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
x = torch.tensor([[1.0, 0.0], [1.0, 1.0]], dtype=f64)
mu = torch.tensor([[1.0], [0.0]], dtype=f64)
logvar = torch.zeros(2, 1, dtype=f64)
# -log p = 2 log 2 for each image at logits 0; KL = 1/2 and 0: mean of (2 log 2 + 1/2, 2 log 2).
expect_close(vae_loss(x, torch.zeros(2, 2, dtype=f64), mu, logvar), 2 * math.log(2) + 0.25, what="vae_loss",
             hint="MINUS the log-likelihood PLUS the KL, averaged over the batch.")
expect_close(vae_loss(x, torch.zeros(2, 2, dtype=f64), mu, logvar, beta=4.0), 2 * math.log(2) + 1.0,
             what="vae_loss with beta = 4", hint="beta multiplies the KL term only.")

# %% nbgrader={"grade": true, "grade_id": "test_vae_loss_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("vae_loss", vae_loss)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### When the ELBO is exact: a linear-Gaussian model
#
# The decomposition above says $\log p(x) - \text{ELBO} = \mathrm{KL}(q\,\|\,p(z|x))$. We can watch it happen in the
# one model where every term is known: PPCA, seen as a VAE with a *linear* decoder,
# $z\sim\mathcal N(0, I_K)$, $x|z\sim\mathcal N(Wz+\mu,\ \sigma^2 I_D)$, and a diagonal Gaussian
# $q = \mathcal N(m, \mathrm{diag}\,s^2)$. Here the expectation in the ELBO can be done exactly, with no sampling.
#
# ### Exercise 13: `linear_gaussian_elbo` (derive it)
# Given `X` `(N, D)`, the parameters of $q$ for each row, `q_mean` and `q_logvar` `(N, K)`, and the model's `mu`
# `(D,)`, `W` `(D, K)`, `sigma2`, return the exact ELBO of each row, shape `(N,)`:
# $\mathbb E_{z\sim q}[\log\mathcal N(x; Wz+\mu, \sigma^2 I)] - \mathrm{KL}(q\,\|\,\mathcal N(0, I))$.
#
# <details><summary>Hint 1</summary>
#
# $\log\mathcal N(x; Wz+\mu,\sigma^2 I) = -\frac D2\log(2\pi\sigma^2) - \frac1{2\sigma^2}\|x - \mu - Wz\|^2$. Only the
# squared norm depends on $z$; the KL is your `gaussian_kl_standard`.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Write $z = m + (z - m)$ with $\mathbb E[z - m] = 0$ and $\mathrm{Cov}(z) = \mathrm{diag}\,s^2$. For any vector $r$:
# $\mathbb E\|r - W(z-m)\|^2 = \|r\|^2 + \mathbb E\|W(z-m)\|^2 = \|r\|^2 + \operatorname{tr}(W\,\mathrm{diag}(s^2)W^\top)$.
# </details>
#
# <details><summary>Hint 3</summary>
#
# $\operatorname{tr}(W\,\mathrm{diag}(s^2)\,W^\top) = \sum_j s_j^2\,\|W_{:,j}\|^2$, so
# $\text{ELBO} = -\frac D2\log(2\pi\sigma^2) - \frac{\|x-\mu-Wm\|^2 + \sum_j s_j^2\|W_{:,j}\|^2}{2\sigma^2} - \mathrm{KL}(q\,\|\,\mathcal N(0,I))$.
# </details>

# %% nbgrader={"grade": false, "grade_id": "linear_gaussian_elbo", "locked": false, "schema_version": 3, "solution": true}
def linear_gaussian_elbo(X, q_mean, q_logvar, mu, W, sigma2):
    """Exact ELBO of x under z ~ N(0, I), x | z ~ N(W z + mu, sigma2 I), with q = N(q_mean, diag exp(q_logvar)).

    Args:
        X: (N, D); q_mean, q_logvar: (N, K); mu: (D,); W: (D, K); sigma2: positive float or 0-d tensor.

    Returns:
        (N,).
    """
    ### BEGIN SOLUTION
    D = X.shape[1]
    resid = X - q_mean @ W.T - mu
    spread = torch.exp(q_logvar) @ (W * W).sum(dim=0)
    const = D * (math.log(2 * math.pi) + torch.log(torch.as_tensor(sigma2, dtype=X.dtype)))
    return -0.5 * const - ((resid * resid).sum(-1) + spread) / (2 * sigma2) - gaussian_kl_standard(q_mean, q_logvar)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_linear_gaussian_elbo", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
# D = K = 1, W = 1, mu = 0, sigma2 = 1: p(x) = N(0, 2) and the posterior is N(x / 2, 1 / 2).
x = torch.tensor([[2.0]], dtype=f64)
W1, mu1 = torch.ones(1, 1, dtype=f64), torch.zeros(1, dtype=f64)
exact = -0.5 * math.log(2 * math.pi * 2) - 4.0 / 4
expect_close(linear_gaussian_elbo(x, torch.tensor([[1.0]], dtype=f64), torch.tensor([[math.log(0.5)]], dtype=f64), mu1, W1, 1.0),
             torch.tensor([exact], dtype=f64), what="the ELBO at the true posterior",
             hint="At the true posterior the ELBO must equal log p(x) = log N(2; 0, 2). Did you keep the spread "
                  "term sum_j s_j^2 |W_j|^2 of the expected squared error?")
# q = N(0, 1) (the prior): E_q[log N(2; z, 1)] = -log(2 pi)/2 - (4 + 1)/2, KL = 0.
expect_close(linear_gaussian_elbo(x, torch.zeros(1, 1, dtype=f64), torch.zeros(1, 1, dtype=f64), mu1, W1, 1.0),
             torch.tensor([-0.5 * math.log(2 * math.pi) - 2.5], dtype=f64), what="the ELBO with q = prior")

# %% nbgrader={"grade": true, "grade_id": "test_linear_gaussian_elbo_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("linear_gaussian_elbo", linear_gaussian_elbo)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **The gap is the KL to the posterior.** PPCA fitted to the digits with $K = 2$; $W$'s columns are orthogonal at
# the maximum-likelihood solution, so the true posterior is diagonal and a VAE-style $q$ can match it. Slide $q$'s
# mean away from the posterior mean and its standard deviation away from the posterior's: the ELBO (bars) never
# exceeds $\log p(x)$ (dashed line), and touches it only at the posterior.

# %%
def show_elbo_gap(shift=0.0, log_std_ratio=0.0):
    try:
        mu, W, s2 = ppca_fit(X_train.double(), 2)
        x = X_test[:6].double()
        m, cov = ppca_posterior(x, mu, W, s2)
        logvar = torch.log(torch.diagonal(cov)).expand_as(m) + 2 * log_std_ratio
        elbo = linear_gaussian_elbo(x, m + shift, logvar, mu, W, s2)
        logp = ppca_log_likelihood(x, mu, W, s2)
    except NotImplementedError:
        print("Write ppca_fit, ppca_posterior, ppca_log_likelihood and linear_gaussian_elbo to see this demo.")
        return
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    axes[0].plot(range(6), logp.numpy(), "k_", ms=25, mew=2, label="log p(x)")
    axes[0].plot(range(6), elbo.numpy(), "o", color="C0", label="ELBO")
    axes[0].set_xlabel("held-out digit")
    axes[0].set_ylabel("nats")
    axes[0].legend(fontsize=8)
    axes[1].bar(range(6), (logp - elbo).numpy(), color="C1")
    axes[1].set_ylim(0, max(1.0, (logp - elbo).max().item() * 1.1))
    axes[1].set_xlabel("held-out digit")
    axes[1].set_title("gap log p(x) - ELBO = KL(q || posterior)", fontsize=9)
    fig.suptitle(f"q: mean shifted by {shift:+.1f}, standard deviations times e^({log_std_ratio:+.1f}); "
                 f"mean gap {(logp - elbo).mean().item():.3f} nats", fontsize=9)
    plt.show()


interact(show_elbo_gap, shift=widgets.FloatSlider(value=0.0, min=-2.0, max=2.0, step=0.5),
         log_std_ratio=widgets.FloatSlider(value=0.0, min=-2.0, max=2.0, step=0.5));

# %% [markdown]
# ### Concept question 2: `concept_elbo_gap`
# For a fixed decoder $p_\theta$ and one image $x$, the difference $\log p_\theta(x) - \text{ELBO}(q)$ equals:
#
# - **a.** $\mathrm{KL}(q(z|x)\,\|\,p(z))$, so the best encoder puts $q(z|x)$ on the prior for every image.
# - **b.** $\mathrm{KL}(q(z|x)\,\|\,p_\theta(z|x))$, so maximizing the ELBO over the encoder drives $q$ toward the
#   true posterior.
# - **c.** The reconstruction error $-\mathbb E_q[\log p_\theta(x|z)]$, so a perfect reconstruction makes the bound tight.
# - **d.** The entropy of $q(z|x)$, so a deterministic encoder (zero variance) makes the bound tight.

# %% nbgrader={"grade": false, "grade_id": "concept_elbo_gap", "locked": false, "schema_version": 3, "solution": true}
def concept_elbo_gap():
    """Return your answer as one letter: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_elbo_gap", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(concept_elbo_gap() in ("a", "b", "c", "d"), "concept_elbo_gap() must return one of 'a', 'b', 'c', 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_concept_elbo_gap_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# The answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_elbo_gap", concept_elbo_gap)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Make it work: a VAE on the digits
#
# Put the pieces together. `course.vae.DigitsVAE` is a fixed network: `encode(x)` returns `(mu, logvar)` of
# $q(z|x)$ (a tanh hidden layer), `decode(z)` returns 64 Bernoulli logits. Its architecture is fixed so that a
# trained model is described by its weights alone; the training is yours.
#
# ### Exercise 14: `train_vae` (the graded training task)
# Write `train_vae(X, latent_dim=4, beta=1.0, epochs=40, batch_size=64, lr=1e-2, hidden=128, seed=0)`: build
# `DigitsVAE(X.shape[1], hidden, latent_dim, generator=g, dtype=X.dtype)` with `g = torch.Generator().manual_seed(seed)`,
# then minimize your `vae_loss` over minibatches with Adam (`torch.optim.Adam` is fine; you wrote it in chapter 05),
# drawing each minibatch's noise for `reparameterize` from `g`. Return the trained model.
#
# **The target.** The grader calls `train_vae(X_train, latent_dim=4, seed=...)` with your defaults for everything
# else, on a training split of its own, takes the trained weights, and computes the ELBO itself on the **held-out**
digits of that split, which your function never receives:
# $\mathbb E_q[\log p(x|z)]$ with 16 samples of $z$ per image, minus the exact KL, averaged over the images. Your model
# must reach **at least −25.5 nats per digit**, within **30 seconds** of training on the grading machine. (For scale:
# a model that ignores $z$ and predicts each pixel's average gets about −27.0; the reference reaches about −24.6 in
# 3 seconds.) A loss with the wrong sign on the KL, or one that skips the sampling, misses the target by a wide margin.

# %% nbgrader={"grade": false, "grade_id": "train_vae", "locked": false, "schema_version": 3, "solution": true}
def train_vae(X, latent_dim=4, beta=1.0, epochs=40, batch_size=64, lr=1e-2, hidden=128, seed=0):
    """Train a DigitsVAE on X (rows in [0, 1]) by minimizing vae_loss with Adam.

    Args:
        X: (N, D) images; latent_dim, hidden: model sizes; beta: KL weight;
        epochs, batch_size, lr: the schedule; seed: seeds every random draw.

    Returns:
        the trained DigitsVAE.
    """
    ### BEGIN SOLUTION
    g = torch.Generator().manual_seed(seed)
    model = DigitsVAE(X.shape[1], hidden, latent_dim, generator=g, dtype=X.dtype)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        order = torch.randperm(X.shape[0], generator=g)
        for start in range(0, X.shape[0], batch_size):
            x = X[order[start:start + batch_size]]
            mu, logvar = model.encode(x)
            eps = torch.randn(mu.shape, generator=g, dtype=mu.dtype)
            loss = vae_loss(x, model.decode(reparameterize(mu, logvar, eps)), mu, logvar, beta)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_train_vae", "locked": true, "points": 1, "schema_version": 3, "solution": false}
def heldout_elbo(model, X, n_samples=16, seed=123):
    """Mean ELBO per image on X: 16 reparameterized samples for the reconstruction term, the exact KL."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        mu, logvar = model.encode(X)
        rec = sum(bernoulli_log_likelihood(X, model.decode(reparameterize(mu, logvar, torch.randn(mu.shape, generator=g))))
                  for _ in range(n_samples)) / n_samples
        return (rec - gaussian_kl_standard(mu, logvar)).mean().item()


_Xtr, _, _Xte, _ = load_digits()
_small = train_vae(_Xtr[:256], latent_dim=2, epochs=1, seed=0)
expect_true(isinstance(_small, DigitsVAE) and _small.latent_dim == 2,
            "train_vae must return the DigitsVAE it trained (with the latent_dim asked for).")
_vae = train_vae(_Xtr, latent_dim=4, seed=0)
_score = heldout_elbo(_vae, _Xte)
print(f"held-out ELBO: {_score:.2f} nats per digit (target -25.5)")
expect_true(_score >= -25.5, f"the held-out ELBO {_score:.2f} is below the target -25.5",
            hint="Minimize vae_loss (MINUS the ELBO); sample z with reparameterize at every step; "
                 "try a few more epochs or another learning rate.")

# %% nbgrader={"grade": true, "grade_id": "test_train_vae_2", "locked": true, "points": 6, "schema_version": 3, "solution": false}
# Hidden tests (other seeds; the ELBO is computed by the grader on digits your code never sees).
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("train_vae", train_vae)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### What $\beta$ does
# Kaplan's $\beta$-VAE weighs the KL by $\beta$. With a 2-dimensional latent space we can look at all of it: the
# encoder's means for the held-out digits, coloured by their label (left), reconstructions (middle), and images
# decoded from a grid over the latent plane, i.e. what the prior's samples look like (right). Small $\beta$: sharp
# reconstructions but a latent space with holes between the clusters; large $\beta$: $q(z|x)$ is pulled onto the
# prior for every digit and everything blurs toward an average digit. Each value trains once (a few seconds)
# and is cached.
#
# The textbook (§6.4) reads the same trade-off in information terms: averaged over the data, minus the ELBO is
# a **distortion** $D = -\mathbb E[\log p(x|z)]$ plus a **rate** $R = \mathbb E_x[\mathrm{KL}(q(z|x)\,\|\,p(z))]$,
# and the rate bounds the mutual information between $x$ and $z$ from above, $R \ge I(X; Z)$. The $\beta$-VAE
# minimizes $D + \beta R$: the title of the left panel shows both (held-out digits, one sample of $z$ each).
# As $\beta$ grows the rate falls toward 0 (the code carries almost no information) and the distortion rises
# toward that of a model that ignores $z$.

# %%
_vae_cache = {}


def show_vae(beta=1.0):
    try:
        if beta not in _vae_cache:
            _vae_cache[beta] = train_vae(X_train, latent_dim=2, beta=beta, epochs=30, seed=0)
        model = _vae_cache[beta]
    except NotImplementedError:
        print("Write train_vae (and the VAE pieces it uses) to see this demo.")
        return
    with torch.no_grad():
        mu, logvar = model.encode(X_test)
        recon = torch.sigmoid(model.decode(mu[:10]))
        grid = torch.linspace(-2.0, 2.0, 8)
        zs = torch.stack(torch.meshgrid(grid, -grid, indexing="xy"), -1).reshape(-1, 2)
        samples = torch.sigmoid(model.decode(zs))
        rate = gaussian_kl_standard(mu, logvar).mean().item()
        eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(0))
        distortion = -bernoulli_log_likelihood(X_test, model.decode(reparameterize(mu, logvar, eps))).mean().item()
    fig = plt.figure(figsize=(11, 3.6))
    ax = fig.add_subplot(1, 3, 1)
    sc = ax.scatter(mu[:, 0], mu[:, 1], c=y_test, cmap="tab10", s=6)
    fig.colorbar(sc, ax=ax, ticks=range(10))
    ax.set_title(f"beta = {beta:g}: rate R = {rate:.2f}, distortion D = {distortion:.2f} nats", fontsize=9)
    ax = fig.add_subplot(2, 3, 2)
    show_digits(ax, X_test[:10], n_cols=5, title="held-out digits")
    ax = fig.add_subplot(2, 3, 5)
    show_digits(ax, recon, n_cols=5, title="reconstructions (decoded means)")
    ax = fig.add_subplot(1, 3, 3)
    show_digits(ax, samples, n_cols=8, title="decoded grid over z in [-2, 2]^2")
    plt.show()


interact(show_vae, beta=widgets.SelectionSlider(options=[0.1, 0.3, 1.0, 3.0, 10.0], value=1.0));

# %% [markdown]
# ### Concept question 3: `concept_beta`
# You train a $\beta$-VAE with a very large $\beta$ (say 50) on the digits. What do you expect?
#
# - **a.** $q(z|x)$ becomes nearly the prior $\mathcal N(0, I)$ for every image, so $z$ carries almost no
#   information about $x$ and the reconstructions look like the same average digit.
# - **b.** The reconstructions become sharper, because the KL term is a regularizer and regularizing always
#   improves the fit.
# - **c.** The ELBO (with $\beta = 1$) measured on held-out digits goes up, because a larger $\beta$ prevents
#   over-fitting.
# - **d.** Samples from the prior become exact copies of training digits, because the latent space is now
#   perfectly Gaussian.

# %% nbgrader={"grade": false, "grade_id": "concept_beta", "locked": false, "schema_version": 3, "solution": true}
def concept_beta():
    """Return your answer as one letter: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "a"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_beta", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(concept_beta() in ("a", "b", "c", "d"), "concept_beta() must return one of 'a', 'b', 'c', 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_concept_beta_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# The answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_beta", concept_beta)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## What you built
#
# - `pca_fit`: PCA by the SVD, largest components first; the error left over is the sum of the discarded
#   eigenvalues.
# - `linear_ae_loss_and_grads`, `train_linear_autoencoder`: a linear autoencoder's gradients by hand and gradient
#   descent, which finds the principal *subspace* in a basis of its own.
# - `dae_loss`, `linear_denoiser`: the denoising objective, and its best affine solution
#   $\Sigma(\Sigma + s^2 I)^{-1}$, a shrinkage along the principal directions.
# - `ppca_log_likelihood`, `ppca_fit`, `ppca_posterior`: probabilistic PCA, its maximum-likelihood fit and its exact
#   posterior (with the textbook's dimensions put right).
# - `gaussian_kl_standard`, `reparameterize`, `bernoulli_log_likelihood`, `vae_loss`: the VAE's pieces, with the
#   KL's sign and factor derived rather than copied.
# - `linear_gaussian_elbo`: an ELBO computed exactly, equal to $\log p(x)$ at the true posterior and below it
#   everywhere else by the KL to the posterior.
# - `train_vae`: a VAE on the digits, graded on an ELBO computed by the grader on images your code never saw.
#
# The next chapter meets the other family of generative models, which never writes down $p(x)$ at all: GANs.
