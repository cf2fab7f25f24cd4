# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 14 · Normalizing flows and diffusion models
#
# A generative model should do two things: produce new samples that look like the data, and (ideally) say how
# probable a given point is. GANs (chapter 13) only sample; VAEs (chapter 12) only bound the likelihood. This
# chapter builds three families that do better on one count or both. A **normalizing flow** pushes a Gaussian
# through an invertible network and gets the *exact* density by the change-of-variables formula. A **diffusion
# model** learns to undo a gradual noising process, one small denoising step at a time; its samples are the best
# that generative models produce today. An **autoregressive** model factorizes the density pixel by pixel and
# needs only a masked convolution to do so.
#
# Everything here runs on distributions whose density and score we know exactly (a 2-D Gaussian mixture), so
# each piece you write can be checked against the truth, and every picture shows samples over the true density.
#
# **Learning goals**
# - Write the change-of-variables log density with its Jacobian term, and a real-NVP affine coupling layer
#   (forward, inverse, log-determinant) whose log-determinant you derive and check against autograd.
# - Write the DDPM forward process in closed form, **derive** the posterior $q(x_{t-1}\mid x_t, x_0)$ and the
#   coefficients of ancestral sampling (the textbook's Algorithm 2 gets them wrong), the noise-prediction loss,
#   and deterministic DDIM sampling.
# - Write the exact score of a Gaussian mixture, use it as an oracle noise predictor, sample with Langevin
#   dynamics, and steer samples with classifier-free guidance.
# - Write the masked convolution of PixelCNN and see which pixels each prediction may use.
# - Train a small noise-prediction network on a 2-D mixture until its samples are close to held-out data.
#
# **Notes followed.** *A deep-learning textbook with PyTorch examples*, chapter 13: §13.1 (normalizing flows,
# eqs. 13.1-13.21, real NVP and Problem 13.1), §13.2.1-13.2.4 (forward process, posterior, ELBO, the noise
# loss and Algorithms 1-2), §13.2.5 (DDIM), §13.2.6-13.2.7 (score matching, Langevin sampling) and §13.3
# (guidance); Hegde, *NYU deep learning notes*, lecture 12 (reversible blocks, NICE, normalizing flows, the
# diffusion idea); *CS 182/282A discussion worksheets*, discussion 10 (autoregressive models and PixelCNN's
# masks; Problems 7-8, the flow objective and the real-NVP determinant).
#
# **Slips in the notes, corrected here** (you will meet each again where it matters).
# - The textbook's Algorithm 2 (ancestral sampling) writes the noise coefficient as
#   $\frac{1-\alpha_t}{\sqrt{1-\alpha_t}}$ and adds $\Sigma_q(t)\,z$. Both are wrong: the square root under the
#   fraction belongs to a *cumulative* quantity, and a variance cannot multiply a standard normal. You derive
#   the right ones in §6.
# - Its §13.2.5 (DDIM) switches notation: there $\alpha_t$ means the cumulative product that §13.2.1 calls
#   $\bar\alpha_t$, and the variance it quotes for recovering DDPM is garbled. We use $\bar\alpha_t$ throughout.
# - Its eq. (13.86) writes the Gaussian corruption density $p_\sigma(\tilde x\mid x)$ as $\frac{1}{\sigma^2}(x-\tilde x)^2$;
#   what it means is the *score* $\nabla_{\tilde x}\log p_\sigma(\tilde x\mid x) = (x-\tilde x)/\sigma^2$.
# - Its §13.2.7 claims the gradient of the log "zeros" the mixing coefficients of a mixture. It does not: the
#   weights enter the score through the responsibilities (§8); the real trouble is elsewhere (concept question 2).
# - It gives classifier-free guidance twice with different conventions, $\gamma\,\epsilon_c + (1-\gamma)\epsilon_u$
#   (13.97) and $(1+\gamma)\epsilon_c - \gamma\,\epsilon_u$ (13.99); they differ by a shift of $\gamma$ by one. We fix one in §10.
# - The CS 182 worksheet's NICE inverse subtracts a different network ($h_\theta$) from the one its forward map
#   adds ($g_\theta$); the inverse must use the same network.
#
# **Conventions used throughout.** Data are rows: `x` has shape `(N, D)`. Functions keep the dtype of their
# input and never change their arguments in place. **Diffusion time** runs $t = 1, \dots, T$, and every schedule
# tensor has length $T+1$ and is **indexed by $t$ itself**: `betas[t]` is $\beta_t$, with `betas[0] = 0` so that
# $\alpha_0 = \bar\alpha_0 = 1$ belong to $t = 0$ (clean data). A noise-prediction model is called as
# `eps_model(x, t)` with `t` a long tensor of shape `(N,)`. Randomness is always passed in (noise tensors), so a
# correct sampler reproduces the reference exactly.


# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import math
import numpy as np
import torch
import torch.nn.functional as F
import matplotlib.pyplot as plt
import ipywidgets as widgets
from course.demos import interact
from course.checks import expect_close, expect_true, expect_shape
from course.data import load_digits
from course.generative import (Mixture2D, ring_mixture, cosine_betas, linear_betas, mmd2,
                               plot_samples_over_density)

# %%
# The models here are small: one thread is fastest for them and leaves the machine responsive.
torch.set_num_threads(1)
mixture = ring_mixture()
x_demo = mixture.sample(1500, torch.Generator().manual_seed(0))
fig, ax = plt.subplots(figsize=(3.6, 3.6))
plot_samples_over_density(ax, mixture, x_demo, title="the ring mixture: 6 components, 3 classes")
plt.show()
print("weights:", [round(w, 2) for w in mixture.weights.tolist()], " classes:", mixture.labels.tolist())

# %% [markdown]
# The running example: six elongated Gaussians on a ring, with unequal weights; neighbouring pairs share a class
# label (used for guidance in §10). `mixture.log_prob(x)` gives its exact log density and `mixture.sample(n,
# generator)` draws from it.
#
# ## Part I: normalizing flows
#
# ## 1. Change of variables
#
# Let $z \sim p_z = \mathcal N(0, I_D)$ and $x = f(z)$ with $f$ invertible and differentiable both ways. In one
# dimension, probability mass is conserved on small intervals: $p_x(x)\,|dx| = p_z(z)\,|dz|$, so
# $p_x(x) = p_z(f^{-1}(x))\,\big|\tfrac{d f^{-1}}{dx}\big|$. In $D$ dimensions the length ratio becomes a volume
# ratio, the absolute determinant of the Jacobian (textbook eq. 13.2; CS 182 discussion 10, Problem 7):
#
# $$\log p_x(x) = \log p_z\big(f^{-1}(x)\big) + \log\Big|\det \frac{\partial f^{-1}(x)}{\partial x}\Big|
#   = \log p_z(z) - \log\Big|\det \frac{\partial f(z)}{\partial z}\Big| .$$
#
# Both forms are used below: the first when you have the inverse (density evaluation, training), the second
# when you go forward (sampling). Stretching space ($|\det| > 1$ going forward) thins the density, hence the minus sign.
#
# ### Exercise 1: `flow_log_prob`
# Given `x` of shape `(N, D)` and a function `inverse` mapping `(N, D) -> (N, D)` row by row (each output row
# depends only on the same input row), return the `(N,)` tensor of $\log p_x(x)$ for $p_z = \mathcal N(0, I_D)$,
# dtype of `x` (it may be detached). Compute the per-sample Jacobian $\partial z_i/\partial x_j$ **with
# autograd**: since the rows do not interact, the gradient of $\sum_n z_{n,i}$ with respect to `x` holds row $i$
# of every sample's Jacobian at once ($D$ backward passes in all). Use `torch.linalg.slogdet` for the log of the
# absolute determinant, and do not forget the normal's constant $-\tfrac D2\log 2\pi$.

# %% nbgrader={"grade": false, "grade_id": "flow_log_prob", "locked": false, "schema_version": 3, "solution": true}
def flow_log_prob(x, inverse):
    """log p(x) for x = f(z), z ~ N(0, I), given the inverse map.

    Args:
        x: (N, D) points.
        inverse: function (N, D) -> (N, D), row by row.

    Returns:
        (N,) log densities.
    """
    ### BEGIN SOLUTION
    with torch.enable_grad():
        xr = x.detach().clone().requires_grad_(True)
        z = inverse(xr)
        rows = [torch.autograd.grad(z[:, i].sum(), xr, retain_graph=True)[0] for i in range(z.shape[1])]
    jac = torch.stack(rows, dim=1)
    z = z.detach()
    log_base = -0.5 * (z ** 2).sum(-1) - 0.5 * z.shape[1] * math.log(2 * math.pi)
    return (log_base + torch.linalg.slogdet(jac)[1]).to(x.dtype)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_flow_log_prob", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
x = torch.tensor([[1.0], [3.0]], dtype=f64)
# x = 2 z + 1 with z ~ N(0, 1) is N(1, 4): log density -1/2 ((x - 1) / 2)^2 - 1/2 log(2 pi) - log 2.
expect_close(flow_log_prob(x, lambda x: (x - 1) / 2),
             torch.tensor([-0.5 * math.log(2 * math.pi) - math.log(2), -0.5 - 0.5 * math.log(2 * math.pi) - math.log(2)],
                          dtype=f64),
             what="flow_log_prob for x = 2 z + 1", hint="Stretching by 2 halves the density: the log-det of the INVERSE "
             "(log 1/2) is added. Include the -1/2 log(2 pi) of the standard normal.")
A = torch.tensor([[0.0, 1.0], [2.0, 0.0]], dtype=f64)  # det = -2: a swap and a stretch
lp = flow_log_prob(torch.zeros(1, 2, dtype=f64), lambda x: x @ A.T)
expect_close(lp, torch.tensor([-math.log(2 * math.pi) + math.log(2)], dtype=f64),
             what="flow_log_prob for z = A x with det A = -2",
             hint="Take the log of the ABSOLUTE determinant (slogdet); a negative determinant is a reflection.")

# %% nbgrader={"grade": true, "grade_id": "test_flow_log_prob_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("flow_log_prob", flow_log_prob)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Affine coupling layers (real NVP)
#
# A general network has a Jacobian whose determinant costs $O(D^3)$ and an inverse nobody can compute. A
# **coupling layer** (textbook eqs. 13.18-13.19; NYU lecture 12; CS 182 discussion 10) splits the coordinates
# with a binary `mask` of shape `(D,)`: the entries with `mask == 1` pass unchanged, and they alone feed two
# networks that scale and shift the others:
#
# $$x = m \odot z + (1-m)\odot\big(z \odot e^{s(m\odot z)} + b(m\odot z)\big).$$
#
# Here $s$ = `scale_net` and $b$ = `shift_net` are any functions `(N, D) -> (N, D)` (their outputs on the
# masked entries are ignored). Stacking layers with alternating masks lets every coordinate be transformed.
#
# **Derive the log-determinant** $\log|\det \partial x/\partial z|$ of one layer (CS 182 Problem 8, textbook
# Problem 13.1). Order the coordinates so that the kept ones come first and write the Jacobian in blocks.
#
# <details><summary>Hint 1</summary>
#
# The kept block maps to itself by the identity. Does a kept output depend on a changed input? Then one
# off-diagonal block is zero: the Jacobian is block-triangular, and its determinant is the product of the
# determinants of the two diagonal blocks.
# </details>
#
# <details><summary>Hint 2</summary>
#
# In the changed block, output $i$ depends on changed input $j$ only when $i = j$ ($s$ and $b$ see only the kept
# entries), with derivative $e^{s_i}$. The awkward block $\partial x_{\text{changed}}/\partial z_{\text{kept}}$,
# full of network derivatives, never enters the determinant.
# </details>
#
# <details><summary>Hint 3</summary>
#
# $\log|\det| = \sum_{i:\, m_i = 0} s_i(m\odot z)$: one number per sample, no determinant, no autograd.
# </details>
#
# ### Exercise 2: `affine_coupling_forward`
# Arguments `z` `(N, D)`, `mask` `(D,)` of zeros and ones (dtype of `z`), `scale_net`, `shift_net`. Return
# `(x, log_det)` with `x` of shape `(N, D)` and `log_det` of shape `(N,)`, the log-determinant of the **forward**
# map you derived. The networks must see `mask * z` only.

# %% nbgrader={"grade": false, "grade_id": "affine_coupling_forward", "locked": false, "schema_version": 3, "solution": true}
def affine_coupling_forward(z, mask, scale_net, shift_net):
    """Real-NVP affine coupling layer z -> x and log |det dx/dz|.

    Args:
        z: (N, D); mask: (D,) zeros and ones; scale_net, shift_net: (N, D) -> (N, D).

    Returns:
        x: (N, D); log_det: (N,).
    """
    ### BEGIN SOLUTION
    mask = mask.to(z.dtype)
    keep = z * mask
    s, b = scale_net(keep), shift_net(keep)
    x = keep + (1 - mask) * (z * torch.exp(s) + b)
    return x, ((1 - mask) * s).sum(-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_affine_coupling_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
z = torch.tensor([[1.0, 2.0], [0.0, -1.0]], dtype=f64)
x, log_det = affine_coupling_forward(z, torch.tensor([1.0, 0.0], dtype=f64), lambda u: u.flip(-1), lambda u: 3 * u.flip(-1))
# s = (0, z_1), b = (0, 3 z_1): x_2 = z_2 exp(z_1) + 3 z_1, x_1 = z_1.
expect_close(x, torch.tensor([[1.0, 2 * math.e + 3.0], [0.0, -1.0]], dtype=f64), what="x",
             hint="The kept entry passes unchanged; the other becomes z * exp(s) + b, s and b computed from mask * z.")
expect_close(log_det, torch.tensor([1.0, 0.0], dtype=f64), what="log_det",
             hint="Sum s over the CHANGED entries only; it is log |det|, so no exp.")

# %% nbgrader={"grade": true, "grade_id": "test_affine_coupling_forward_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("affine_coupling_forward", affine_coupling_forward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3: `affine_coupling_inverse`
# Invert the layer: given `x`, return `(z, log_det)` with `log_det` $= \log|\det \partial z/\partial x|$ of the
# **inverse** map, shape `(N,)`. (Why can you compute $s$ and $b$ from `x` at all?)

# %% nbgrader={"grade": false, "grade_id": "affine_coupling_inverse", "locked": false, "schema_version": 3, "solution": true}
def affine_coupling_inverse(x, mask, scale_net, shift_net):
    """Inverse of the affine coupling layer, x -> z, and log |det dz/dx|.

    Args:
        x: (N, D); mask: (D,); scale_net, shift_net: (N, D) -> (N, D).

    Returns:
        z: (N, D); log_det: (N,).
    """
    ### BEGIN SOLUTION
    mask = mask.to(x.dtype)
    keep = x * mask
    s, b = scale_net(keep), shift_net(keep)
    z = keep + (1 - mask) * (x - b) * torch.exp(-s)
    return z, -((1 - mask) * s).sum(-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_affine_coupling_inverse", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
x = torch.tensor([[1.0, 2 * math.e + 3.0], [0.0, -1.0]], dtype=f64)
z, log_det = affine_coupling_inverse(x, torch.tensor([1.0, 0.0], dtype=f64), lambda u: u.flip(-1), lambda u: 3 * u.flip(-1))
expect_close(z, torch.tensor([[1.0, 2.0], [0.0, -1.0]], dtype=f64), what="z (the inverse of the forward example)",
             hint="Undo in reverse order: subtract the shift first, then divide by exp(s).")
expect_close(log_det, torch.tensor([-1.0, 0.0], dtype=f64), what="log_det of the inverse",
             hint="The inverse map's Jacobian is the inverse matrix: its log-determinant changes sign.")

# %% nbgrader={"grade": true, "grade_id": "test_affine_coupling_inverse_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("affine_coupling_inverse", affine_coupling_inverse)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: the log-determinant against autograd, then a flow trained on the ring
# First your analytic log-determinant against `flow_log_prob`'s autograd Jacobian on random networks. Then a
# real-NVP flow of eight coupling layers (masks alternating between the two coordinates, each layer with its own
# small networks) is trained by maximum likelihood, $\min -\frac1N\sum_n \log p_x(x_n)$ (textbook eq. 13.9), with
# $\log p_x$ from your inverse layers. A few seconds on a CPU.

# %%
class CouplingNets(torch.nn.Module):
    """One layer's scale and shift networks (a shared trunk; tanh keeps the scales tame)."""

    def __init__(self, dim=2, width=64):
        super().__init__()
        self.trunk = torch.nn.Sequential(torch.nn.Linear(dim, width), torch.nn.SiLU(), torch.nn.Linear(width, width),
                                         torch.nn.SiLU(), torch.nn.Linear(width, 2 * dim))

    def scale(self, u):
        return torch.tanh(self.trunk(u)[:, :2])

    def shift(self, u):
        return self.trunk(u)[:, 2:]


def flow_inverse(x, layers, masks):
    """x -> z through the layers in reverse order; returns z and the summed log |det dz/dx|."""
    total = torch.zeros(x.shape[0], dtype=x.dtype)
    for nets, mask in zip(reversed(layers), reversed(masks)):
        x, log_det = affine_coupling_inverse(x, mask, nets.scale, nets.shift)
        total = total + log_det
    return x, total


def flow_forward(z, layers, masks):
    for nets, mask in zip(layers, masks):
        z, _ = affine_coupling_forward(z, mask, nets.scale, nets.shift)
    return z


try:
    torch.manual_seed(0)
    nets = CouplingNets()
    m = torch.tensor([1.0, 0.0])
    z_probe = torch.randn(4, 2)
    _, ld = affine_coupling_forward(z_probe, m, nets.scale, nets.shift)
    # the forward map's log-det equals minus log p's Jacobian term of its inverse, computed by autograd
    inv = lambda x: affine_coupling_inverse(x, m, nets.scale, nets.shift)[0]
    x_probe = affine_coupling_forward(z_probe, m, nets.scale, nets.shift)[0].detach()
    autograd_ld = -(flow_log_prob(x_probe, inv) + 0.5 * (z_probe ** 2).sum(-1) + math.log(2 * math.pi))
    print("analytic log-det :", [round(v, 4) for v in ld.tolist()])
    print("autograd log-det :", [round(v, 4) for v in autograd_ld.tolist()])

    masks = [torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])] * 4
    layers = torch.nn.ModuleList(CouplingNets() for _ in masks)
    opt = torch.optim.Adam(layers.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(1)
    x_train_flow = mixture.sample(4000, gen)
    for step in range(600):
        batch = x_train_flow[torch.randint(0, 4000, (256,), generator=gen)]
        z, log_det = flow_inverse(batch, layers, masks)
        nll = -(-0.5 * (z ** 2).sum(-1) - math.log(2 * math.pi) + log_det).mean()
        opt.zero_grad()
        nll.backward()
        opt.step()
    with torch.no_grad():
        held = mixture.sample(2000, torch.Generator().manual_seed(2))
        z, log_det = flow_inverse(held, layers, masks)
        flow_ll = (-0.5 * (z ** 2).sum(-1) - math.log(2 * math.pi) + log_det).mean().item()
        true_ll = mixture.log_prob(held).mean().item()
        grid = torch.linspace(-4, 4, 120)
        gx, gy = torch.meshgrid(grid, grid, indexing="xy")
        zg, ldg = flow_inverse(torch.stack([gx.reshape(-1), gy.reshape(-1)], 1), layers, masks)
        log_dens = (-0.5 * (zg ** 2).sum(-1) - math.log(2 * math.pi) + ldg).reshape(gx.shape)
        samples = flow_forward(torch.randn(1500, 2, generator=torch.Generator().manual_seed(3)), layers, masks)
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.6))
    axes[0].contourf(gx.numpy(), gy.numpy(), log_dens.clamp(min=-12).numpy(), levels=20, cmap="Blues")
    axes[0].set_aspect("equal")
    axes[0].set_xticks([])
    axes[0].set_yticks([])
    axes[0].set_title(f"flow log density (held-out log-lik {flow_ll:.2f}; true {true_ll:.2f})", fontsize=9)
    plot_samples_over_density(axes[1], mixture, samples, title="flow samples over the true density")
    plt.show()
except NotImplementedError:
    print("Write flow_log_prob, affine_coupling_forward and affine_coupling_inverse to see this demo.")

# %% [markdown]
# The flow puts mass on all six components but smears it between them: a continuous invertible map cannot tear
# one Gaussian blob into separate islands, it can only stretch the space between them thin. This is the price of
# the exact likelihood, and one reason diffusion models took over.
#
# ## Part II: diffusion models
#
# ## 3. The forward process
#
# A diffusion model fixes a **forward process** that destroys the data in $T$ small steps (textbook §13.2.1):
#
# $$q(x_t\mid x_{t-1}) = \mathcal N\big(x_t;\ \sqrt{\alpha_t}\,x_{t-1},\ \beta_t I\big), \qquad \alpha_t = 1-\beta_t,\quad t = 1, \dots, T,$$
#
# with a **variance schedule** $0 < \beta_1 < \dots < \beta_T < 1$. The factor $\sqrt{\alpha_t}$ keeps the
# variance from growing: if $x_{t-1}$ has unit variance, so has $x_t$. Because each step is linear-Gaussian,
# the steps compose in closed form (eqs. 13.26-13.31): two independent Gaussian noises add their variances, and
# by induction
#
# $$q(x_t \mid x_0) = \mathcal N\big(x_t;\ \sqrt{\bar\alpha_t}\,x_0,\ (1-\bar\alpha_t)I\big), \qquad \bar\alpha_t = \prod_{s=1}^t \alpha_s,$$
#
# so any $x_t$ can be drawn in one shot. Keep the two alphas apart: $\alpha_t$ belongs to one step,
# $\bar\alpha_t$ to all steps up to and including $t$. With the schedule indexed by $t$ (`betas[0] = 0`),
# $\bar\alpha_0 = 1$ is the clean data.
#
# ### Exercise 4: `ddpm_schedule`
# `betas` of shape `(T + 1,)` with `betas[0] = 0` → `(alphas, alpha_bars)`, both of shape `(T + 1,)`, indexed
# by $t$ (both equal to 1 at $t = 0$).
#
# ### Exercise 5: `q_sample`
# `x0` `(N, D)`, `t` long `(N,)` with entries in $1..T$, `noise` `(N, D)` (standard normal, passed in), `betas`
# `(T + 1,)` → $x_t$ of shape `(N, D)`. Call your `ddpm_schedule`.

# %% nbgrader={"grade": false, "grade_id": "ddpm_schedule", "locked": false, "schema_version": 3, "solution": true}
def ddpm_schedule(betas):
    """alphas and alpha_bars of a schedule.

    Args:
        betas: (T + 1,), betas[0] = 0.

    Returns:
        alphas, alpha_bars: (T + 1,) each.
    """
    ### BEGIN SOLUTION
    alphas = 1 - betas
    return alphas, torch.cumprod(alphas, dim=0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_ddpm_schedule", "locked": true, "points": 1, "schema_version": 3, "solution": false}
alphas, alpha_bars = ddpm_schedule(torch.tensor([0.0, 0.1, 0.5], dtype=torch.float64))
expect_close(alphas, torch.tensor([1.0, 0.9, 0.5], dtype=torch.float64), what="alphas")
expect_close(alpha_bars, torch.tensor([1.0, 0.9, 0.45], dtype=torch.float64), what="alpha_bars",
             hint="alpha_bar_t multiplies the alphas of steps 1..t, including t itself; alpha_bar_0 = 1.")

# %% nbgrader={"grade": true, "grade_id": "test_ddpm_schedule_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("ddpm_schedule", ddpm_schedule)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "q_sample", "locked": false, "schema_version": 3, "solution": true}
def q_sample(x0, t, noise, betas):
    """Draw x_t ~ q(x_t | x_0) with the given noise.

    Args:
        x0: (N, D); t: long (N,) in 1..T; noise: (N, D); betas: (T + 1,).

    Returns:
        (N, D).
    """
    ### BEGIN SOLUTION
    _, alpha_bars = ddpm_schedule(betas)
    ab = alpha_bars.to(x0.dtype)[t].unsqueeze(-1)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_q_sample", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
betas = torch.tensor([0.0, 0.1, 0.5], dtype=f64)   # alpha_bar = (1, 0.9, 0.45)
xt = q_sample(torch.ones(2, 1, dtype=f64), torch.tensor([1, 2]), torch.ones(2, 1, dtype=f64), betas)
expect_close(xt, torch.tensor([[math.sqrt(0.9) + math.sqrt(0.1)], [math.sqrt(0.45) + math.sqrt(0.55)]], dtype=f64),
             what="q_sample at t = 1 and t = 2",
             hint="Use alpha_bar_t (cumulative), read at index t, and square roots on both coefficients.")

# %% nbgrader={"grade": true, "grade_id": "test_q_sample_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("q_sample", q_sample)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# The forward process on the ring, with the linear schedule used later ($T = 100$, $\beta$ from $10^{-3}$ to $0.1$):
# the mixture blurs and shrinks towards $\mathcal N(0, I)$.

# %%
try:
    betas_lin = linear_betas(100, 1e-3, 0.1)
    gen = torch.Generator().manual_seed(0)
    fig, axes = plt.subplots(1, 5, figsize=(12, 2.6))
    for ax, t in zip(axes, [0, 10, 25, 50, 100]):
        n = x_demo.shape[0]
        xt = x_demo.double() if t == 0 else q_sample(x_demo.double(), torch.full((n,), t), torch.randn(n, 2, generator=gen,
                                                                                                      dtype=torch.float64), betas_lin)
        ab = ddpm_schedule(betas_lin)[1][t].item()
        ax.scatter(xt[:, 0], xt[:, 1], s=1, alpha=0.5)
        ax.set_xlim(-4, 4)
        ax.set_ylim(-4, 4)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"t = {t}, alpha_bar = {ab:.3f}", fontsize=9)
    plt.show()
except NotImplementedError:
    print("Write ddpm_schedule and q_sample to see the forward process.")

# %% [markdown]
# ## 4. The posterior $q(x_{t-1}\mid x_t, x_0)$
#
# The reverse of one forward step, $q(x_{t-1}\mid x_t)$, involves the unknown data distribution. Conditioned on
# $x_0$ it is tractable (eq. 13.32): by Bayes and the Markov property,
#
# $$q(x_{t-1}\mid x_t, x_0) \propto q(x_t\mid x_{t-1})\; q(x_{t-1}\mid x_0),$$
#
# a product of two Gaussians **in $x_{t-1}$**, so itself a Gaussian $\mathcal N(\tilde\mu_t, \tilde\beta_t I)$.
# Its mean and variance are what the ELBO (eqs. 13.40-13.48) asks the reverse model to match, and what the
# sampler in §6 uses. **Derive them.** (The textbook plugs $\mu = \sqrt{\bar\alpha_t}\,x_0$ into its linear-Gaussian
# lemma (13.33) for the prior of $x_{t-1}$; the prior of $x_{t-1}$ is centred at $\sqrt{\bar\alpha_{t-1}}\,x_0$.
# The slip does not reach its final formulas.)
#
# <details><summary>Hint 1</summary>
#
# Write both factors as functions of $y = x_{t-1}$ (per coordinate; everything is isotropic):
# $q(x_t\mid y) \propto \exp\!\big(-\frac{(x_t - \sqrt{\alpha_t}\,y)^2}{2\beta_t}\big)$ and
# $q(y\mid x_0) \propto \exp\!\big(-\frac{(y - \sqrt{\bar\alpha_{t-1}}\,x_0)^2}{2(1-\bar\alpha_{t-1})}\big)$.
# Collect the $y^2$ terms and the $y$ terms of the exponent.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Precisions add: $\frac{1}{\tilde\beta_t} = \frac{\alpha_t}{\beta_t} + \frac{1}{1-\bar\alpha_{t-1}}$, and
# $\tilde\mu_t = \tilde\beta_t\Big(\frac{\sqrt{\alpha_t}}{\beta_t}x_t + \frac{\sqrt{\bar\alpha_{t-1}}}{1-\bar\alpha_{t-1}}x_0\Big)$.
# Simplify with $\alpha_t(1-\bar\alpha_{t-1}) + \beta_t = 1 - \bar\alpha_t$.
# </details>
#
# <details><summary>Hint 3</summary>
#
# $$\tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\,\beta_t,\qquad
#   \tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1-\bar\alpha_t}\,x_0 + \frac{\sqrt{\alpha_t}\,(1-\bar\alpha_{t-1})}{1-\bar\alpha_t}\,x_t .$$
# At $t = 1$ ($\bar\alpha_0 = 1$) the variance is 0 and the mean is $x_0$: the last step is deterministic.
# </details>
#
# ### Exercise 6: `ddpm_posterior`
# `x0`, `xt` `(N, D)`, `t` long `(N,)` in $1..T$, `betas` `(T + 1,)` → `(mean, variance)` with `mean` `(N, D)`
# and `variance` `(N,)` (the covariance is `variance` times the identity). Your formulas must also hold at
# $t = 1$, where $x_{t-1} = x_0$ is known exactly.

# %% nbgrader={"grade": false, "grade_id": "ddpm_posterior", "locked": false, "schema_version": 3, "solution": true}
def ddpm_posterior(x0, xt, t, betas):
    """Mean and variance of q(x_{t-1} | x_t, x_0).

    Args:
        x0, xt: (N, D); t: long (N,) in 1..T; betas: (T + 1,).

    Returns:
        mean: (N, D); variance: (N,).
    """
    ### BEGIN SOLUTION
    alphas, alpha_bars = ddpm_schedule(betas.to(x0.dtype))
    a, ab, ab_prev = alphas[t].unsqueeze(-1), alpha_bars[t].unsqueeze(-1), alpha_bars[t - 1].unsqueeze(-1)
    beta = 1 - a
    mean = ab_prev.sqrt() * beta / (1 - ab) * x0 + a.sqrt() * (1 - ab_prev) / (1 - ab) * xt
    return mean, (beta * (1 - ab_prev) / (1 - ab)).squeeze(-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_ddpm_posterior", "locked": true, "points": 2, "schema_version": 3, "solution": false}
f64 = torch.float64
betas = torch.tensor([0.0, 0.5, 0.5], dtype=f64)  # alpha = (1, .5, .5), alpha_bar = (1, .5, .25)
mean, var = ddpm_posterior(torch.tensor([[2.0]], dtype=f64), torch.tensor([[1.0]], dtype=f64), torch.tensor([2]), betas)
# (worked out by hand for these numbers: variance 1/3, mean sqrt(2))
expect_close(var, torch.tensor([1 / 3], dtype=f64), what="the posterior variance at t = 2",
             hint="The precisions of the two Gaussians in x_{t-1} add up.")
expect_close(mean, torch.tensor([[math.sqrt(2)]], dtype=f64),
             what="the posterior mean at t = 2",
             hint="The x_0 coefficient carries sqrt(alpha_bar_{t-1}), the x_t coefficient sqrt(alpha_t).")
mean, var = ddpm_posterior(torch.tensor([[2.0]], dtype=f64), torch.tensor([[1.0]], dtype=f64), torch.tensor([1]), betas)
expect_close((mean, var), (torch.tensor([[2.0]], dtype=f64), torch.tensor([0.0], dtype=f64)),
             what="(mean, variance) at t = 1", hint="At t = 1, x_{t-1} = x_0 exactly.")

# %% nbgrader={"grade": true, "grade_id": "test_ddpm_posterior_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("ddpm_posterior", ddpm_posterior)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 5. The noise-prediction loss
#
# The ELBO's terms are KL divergences between $q(x_{t-1}\mid x_t,x_0)$ and the model's reverse step
# $p_\theta(x_{t-1}\mid x_t) = \mathcal N(\mu_\theta(x_t,t), \tilde\beta_t I)$ (eqs. 13.64-13.76). Writing
# $x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,\epsilon)/\sqrt{\bar\alpha_t}$ in terms of the noise that made $x_t$ turns each
# KL into a weighted squared error between that noise and a network's guess $\epsilon_\theta(x_t, t)$. Dropping
# the weights gives the loss everyone uses (eq. 13.77, Algorithm 1):
#
# $$\ell_{\text{simple}} = \mathbb E_{t,\,x_0,\,\epsilon}\,\big\|\epsilon - \epsilon_\theta\big(\sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon,\ t\big)\big\|^2 .$$
#
# ### Exercise 7: `ddpm_loss`
# Arguments `eps_model`, `x0` `(N, D)`, `t` long `(N,)`, `noise` `(N, D)`, `betas`. Return the **mean over all
# N·D entries** of the squared error (as `F.mse_loss` does), a scalar tensor through which gradients reach the
# model's parameters. Use your `q_sample`.

# %% nbgrader={"grade": false, "grade_id": "ddpm_loss", "locked": false, "schema_version": 3, "solution": true}
def ddpm_loss(eps_model, x0, t, noise, betas):
    """The simple noise-prediction loss.

    Args:
        eps_model: (x (N, D), t long (N,)) -> (N, D).
        x0: (N, D); t: long (N,); noise: (N, D); betas: (T + 1,).

    Returns:
        scalar tensor.
    """
    ### BEGIN SOLUTION
    xt = q_sample(x0, t, noise, betas)
    return ((noise - eps_model(xt, t)) ** 2).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_ddpm_loss", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
betas = torch.tensor([0.0, 0.1, 0.5], dtype=f64)
x0, noise, t = torch.ones(2, 2, dtype=f64), torch.ones(2, 2, dtype=f64), torch.tensor([1, 2])
expect_close(ddpm_loss(lambda x, t: 0 * x, x0, t, noise, betas), 1.0, what="loss of a model that predicts 0",
             hint="The target is the NOISE (all ones here), and the loss is a mean over all entries.")
seen = {}
def spy(x, t):
    seen["x"], seen["t"] = x, t
    return x
loss = ddpm_loss(spy, x0, t, noise, betas)
expect_close(seen["t"], t, what="the t passed to the model", hint="Call the model at the same t you noised to.")
expect_close(seen["x"], q_sample(x0, t, noise, betas), what="the input given to the model",
             hint="The model sees x_t (from q_sample), not x_0.")

# %% nbgrader={"grade": true, "grade_id": "test_ddpm_loss_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("ddpm_loss", ddpm_loss)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Ancestral sampling
#
# To generate, start from $x_T \sim \mathcal N(0, I)$ and step down with the model's reverse steps
# $x_{t-1} \sim \mathcal N(\mu_\theta(x_t, t), \sigma_t^2 I)$, $t = T, \dots, 1$. The model's mean is the
# posterior mean of §4 with $x_0$ replaced by the model's prediction of it,
# $\hat x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,\epsilon_\theta(x_t,t))/\sqrt{\bar\alpha_t}$, and we take
# $\sigma_t^2 = \tilde\beta_t$, the posterior variance (as the textbook's eq. 13.39 does; it vanishes at $t=1$).
#
# **Derive $\mu_\theta$ as a combination of $x_t$ and $\epsilon_\theta$.** The textbook's Algorithm 2 prints
# $x_{t-1} = \frac{1}{\sqrt{\alpha_t}}\big(x_t - \frac{1-\alpha_t}{\sqrt{1-\alpha_t}}\epsilon_\theta\big) + \Sigma_q(t)\,z$:
# find the two mistakes.
#
# <details><summary>Hint 1</summary>
#
# Substitute $\hat x_0$ into $\tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\beta_t}{1-\bar\alpha_t}x_0 + \frac{\sqrt{\alpha_t}(1-\bar\alpha_{t-1})}{1-\bar\alpha_t}x_t$
# and use $\sqrt{\bar\alpha_{t-1}}/\sqrt{\bar\alpha_t} = 1/\sqrt{\alpha_t}$.
# </details>
#
# <details><summary>Hint 2</summary>
#
# The coefficient of $x_t$ becomes $\frac{\beta_t + \alpha_t(1-\bar\alpha_{t-1})}{\sqrt{\alpha_t}(1-\bar\alpha_t)} = \frac{1}{\sqrt{\alpha_t}}$
# and that of $\epsilon_\theta$ is $-\frac{\beta_t\sqrt{1-\bar\alpha_t}}{\sqrt{\alpha_t}(1-\bar\alpha_t)}$.
# </details>
#
# <details><summary>Hint 3</summary>
#
# $$x_{t-1} = \frac{1}{\sqrt{\alpha_t}}\Big(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\,\epsilon_\theta(x_t,t)\Big) + \sigma_t z,
#   \qquad \sigma_t = \sqrt{\tilde\beta_t}.$$
# The book has $\alpha_t$ where $\bar\alpha_t$ belongs under the square root, and the variance $\Sigma_q(t)$ where
# the standard deviation belongs.
# </details>
#
# ### Exercise 8: `ddpm_sample`
# Arguments `eps_model`, `x_T` `(N, D)`, `noises` `(T, N, D)`, `betas` `(T + 1,)`. Loop $t = T, \dots, 1$; call the
# model as `eps_model(x, t_vec)` with `t_vec = torch.full((N,), t)` (long); the step from $t$ to $t-1$ uses
# `noises[t - 1]` ($\sigma_1 = 0$, so `noises[0]` has no effect). Return $x_0$ `(N, D)`.

# %% nbgrader={"grade": false, "grade_id": "ddpm_sample", "locked": false, "schema_version": 3, "solution": true}
def ddpm_sample(eps_model, x_T, noises, betas):
    """Ancestral DDPM sampling.

    Args:
        eps_model: (x (N, D), t long (N,)) -> (N, D).
        x_T: (N, D); noises: (T, N, D); betas: (T + 1,).

    Returns:
        (N, D) samples x_0.
    """
    ### BEGIN SOLUTION
    alphas, alpha_bars = ddpm_schedule(betas.to(x_T.dtype))
    x = x_T
    for t in range(betas.shape[0] - 1, 0, -1):
        eps = eps_model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        beta = 1 - alphas[t]
        mean = (x - beta / (1 - alpha_bars[t]).sqrt() * eps) / alphas[t].sqrt()
        sigma = (beta * (1 - alpha_bars[t - 1]) / (1 - alpha_bars[t])).sqrt()
        x = mean + sigma * noises[t - 1]
    return x
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_ddpm_sample", "locked": true, "points": 2, "schema_version": 3, "solution": false}
f64 = torch.float64
betas = torch.tensor([0.0, 0.5, 0.5], dtype=f64)  # alpha_bar = (1, .5, .25)
calls = []
def const_eps(x, t):
    calls.append(int(t[0]))
    return torch.ones_like(x)
x0 = ddpm_sample(const_eps, torch.zeros(1, 1, dtype=f64), torch.ones(2, 1, 1, dtype=f64), betas)
expect_true(calls == [2, 1], f"the model was called at t = {calls}, expected [2, 1]",
            hint="Loop from T down to 1 and pass the current t.")
# (worked out by hand for these numbers)
expect_close(x0, torch.tensor([[-1.3382039574515254]], dtype=f64),
             what="two DDPM steps with eps = 1 and noise = 1",
             hint="Under the eps term: beta_t / sqrt(1 - alpha_bar_t) (cumulative!); the noise is scaled by the "
                  "standard deviation sqrt(beta_tilde_t), not by the variance.")

# %% nbgrader={"grade": true, "grade_id": "test_ddpm_sample_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("ddpm_sample", ddpm_sample)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 7. DDIM: a deterministic sampler that skips steps
#
# The loss of §5 only ever looks at the one-step marginals $q(x_t\mid x_0)$, never at the chain that links them.
# DDIM (textbook §13.2.5) chooses a different, non-Markovian forward process with the **same marginals**, so the
# same trained $\epsilon_\theta$ serves it, and whose reverse step can be deterministic and can jump over many
# steps at once. One DDIM step from $t$ to an earlier $t'$ (with $\sigma = 0$): predict the clean point
# $\hat x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,\epsilon_\theta(x_t,t))/\sqrt{\bar\alpha_t}$, then put back exactly as much of
# the *same* predicted noise as belongs at level $t'$: $x_{t'} = \sqrt{\bar\alpha_{t'}}\,\hat x_0 + \sqrt{1-\bar\alpha_{t'}}\,\epsilon_\theta$.
# (In eq. 13.78 the book writes $\alpha$ for our $\bar\alpha$.)
#
# ### Exercise 9: `ddim_sample`
# Arguments `eps_model`, `x_T` `(N, D)`, `betas` `(T + 1,)`, `timesteps`: a long tensor of increasing steps in
# $1..T$ (e.g. `[10, 20, ..., 100]`). Go through `timesteps` from the last entry to the first; from entry $i$
# move to entry $i-1$, and from the first entry to $t' = 0$ ($\bar\alpha_0 = 1$, so the last step returns
# $\hat x_0$). Return `(N, D)`.

# %% nbgrader={"grade": false, "grade_id": "ddim_sample", "locked": false, "schema_version": 3, "solution": true}
def ddim_sample(eps_model, x_T, betas, timesteps):
    """Deterministic DDIM sampling along a subsequence of steps.

    Args:
        eps_model: (x, t long (N,)) -> (N, D); x_T: (N, D); betas: (T + 1,); timesteps: long (S,), increasing.

    Returns:
        (N, D).
    """
    ### BEGIN SOLUTION
    _, alpha_bars = ddpm_schedule(betas.to(x_T.dtype))
    steps = [0] + [int(s) for s in timesteps]
    x = x_T
    for i in range(len(steps) - 1, 0, -1):
        t, prev = steps[i], steps[i - 1]
        eps = eps_model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        x0_hat = (x - (1 - alpha_bars[t]).sqrt() * eps) / alpha_bars[t].sqrt()
        x = alpha_bars[prev].sqrt() * x0_hat + (1 - alpha_bars[prev]).sqrt() * eps
    return x
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_ddim_sample", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
betas = torch.tensor([0.0, 0.5, 0.5], dtype=f64)  # alpha_bar = (1, .5, .25)
calls = []
def const_eps(x, t):
    calls.append(int(t[0]))
    return torch.ones_like(x)
x0 = ddim_sample(const_eps, torch.zeros(1, 1, dtype=f64), betas, torch.tensor([2]))
expect_true(calls == [2], f"the model was called at t = {calls}, expected [2]", hint="Only the listed steps are visited.")
expect_close(x0, torch.tensor([[-math.sqrt(0.75) / math.sqrt(0.25)]], dtype=f64), what="one DDIM jump from t = 2 to 0",
             hint="Jumping to t' = 0 returns x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t).")

# %% nbgrader={"grade": true, "grade_id": "test_ddim_sample_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("ddim_sample", ddim_sample)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## Part III: scores
#
# ## 8. The exact score of a Gaussian mixture
#
# The **score** of a density is $\nabla_x \log p(x)$ (textbook §13.2.6). It needs no normalizing constant, and
# it is what a diffusion model really learns: since $x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon$,
# the best possible noise prediction is $\epsilon^*(x_t, t) = -\sqrt{1-\bar\alpha_t}\,\nabla\log q_t(x_t)$, with
# $q_t$ the law of $x_t$. For a Gaussian mixture $q_t$ is known exactly: noising
# $\sum_k w_k\mathcal N(\mu_k,\Sigma_k)$ gives $\sum_k w_k\mathcal N(\sqrt{\bar\alpha_t}\mu_k,\ \bar\alpha_t\Sigma_k + (1-\bar\alpha_t)I)$
# (`mixture.noised(alpha_bar)`). So the mixture's score is an *oracle* noise predictor: with it the samplers you
# wrote must reproduce the mixture, whatever a network might do.
#
# **Derive the score** of $p(x) = \sum_k w_k\,\mathcal N(x;\mu_k,\Sigma_k)$, and compute it stably.
#
# <details><summary>Hint 1</summary>
#
# $\nabla\log\sum_k f_k = \frac{\sum_k f_k \nabla\log f_k}{\sum_j f_j}$: a weighted average of the components'
# scores, with weights $r_k(x) = f_k(x)/\sum_j f_j(x)$, the *responsibilities*.
# </details>
#
# <details><summary>Hint 2</summary>
#
# $\nabla_x\log\mathcal N(x;\mu,\Sigma) = \Sigma^{-1}(\mu - x)$. The responsibilities involve
# $f_k = w_k\,\mathcal N(x;\mu_k,\Sigma_k)$, normalizing constant $|\Sigma_k|^{-1/2}$ included: components may differ in shape.
# </details>
#
# <details><summary>Hint 3</summary>
#
# $r_k = \mathrm{softmax}_k\big(\log w_k - \tfrac12(x-\mu_k)^\top\Sigma_k^{-1}(x-\mu_k) - \tfrac12\log|\Sigma_k|\big)$
# (the $2\pi$ cancels), and the score is $\sum_k r_k\,\Sigma_k^{-1}(\mu_k - x)$. Far from every mode all $f_k$
# underflow to 0; the softmax of logs does not.
# </details>
#
# ### Exercise 10: `gmm_score` (by hand: no autograd)
# `x` `(N, D)`, `weights` `(K,)`, `means` `(K, D)`, `covs` `(K, D, D)` → the score `(N, D)`, dtype of `x`.
# Write the formula you derived; `torch.autograd`, `requires_grad` and friends are not allowed in this exercise.

# %% nbgrader={"grade": false, "grade_id": "gmm_score", "locked": false, "schema_version": 3, "solution": true}
def gmm_score(x, weights, means, covs):
    """Exact score grad_x log p(x) of a Gaussian mixture.

    Args:
        x: (N, D); weights: (K,); means: (K, D); covs: (K, D, D).

    Returns:
        (N, D).
    """
    ### BEGIN SOLUTION
    weights, means, covs = weights.to(x.dtype), means.to(x.dtype), covs.to(x.dtype)
    prec = torch.linalg.inv(covs)
    diff = means.unsqueeze(0) - x.unsqueeze(1)
    pulled = torch.einsum("kij,nkj->nki", prec, diff)
    log_joint = torch.log(weights) - 0.5 * (diff * pulled).sum(-1) - 0.5 * torch.linalg.slogdet(covs)[1]
    resp = torch.softmax(log_joint, dim=1)
    return (resp.unsqueeze(-1) * pulled).sum(1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gmm_score", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
one = gmm_score(torch.tensor([[1.0], [3.0]], dtype=f64), torch.tensor([1.0], dtype=f64), torch.tensor([[1.0]], dtype=f64),
                torch.tensor([[[4.0]]], dtype=f64))
expect_close(one, torch.tensor([[0.0], [-0.5]], dtype=f64), what="the score of N(1, 4)",
             hint="Sigma^{-1} (mu - x): it points TOWARDS the mean.")
w = torch.tensor([0.75, 0.25], dtype=f64)
mu = torch.tensor([[-1.0], [1.0]], dtype=f64)
cov = torch.ones(2, 1, 1, dtype=f64)
# at x = 0 both components are equally far: r = w, so the score is 0.75 * (-1) + 0.25 * 1 = -0.5
expect_close(gmm_score(torch.zeros(1, 1, dtype=f64), w, mu, cov), torch.tensor([[-0.5]], dtype=f64),
             what="the score half-way between two modes with weights 0.75 / 0.25",
             hint="The weights enter through the responsibilities.")

# %% nbgrader={"grade": true, "grade_id": "test_gmm_score_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("gmm_score", gmm_score)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# The score field of the ring mixture: arrows point uphill in log density. Between the modes they point to the
# nearer, heavier component.

# %%
try:
    grid = torch.linspace(-3.6, 3.6, 21, dtype=torch.float64)
    gx, gy = torch.meshgrid(grid, grid, indexing="xy")
    pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
    sc = gmm_score(pts, mixture.weights, mixture.means, mixture.covs)
    sc = sc / (1 + sc.norm(dim=1, keepdim=True))  # shrink long arrows for the picture
    fig, ax = plt.subplots(figsize=(4, 4))
    plot_samples_over_density(ax, mixture, title="score field (arrow length squashed)")
    ax.quiver(pts[:, 0], pts[:, 1], sc[:, 0], sc[:, 1], color="k", scale=25, width=0.004)
    plt.show()
except NotImplementedError:
    print("Write gmm_score to see the score field.")

# %% [markdown]
# ## 9. Langevin sampling
#
# With the score alone one can sample (textbook eq. 13.87): **unadjusted Langevin dynamics** repeats
#
# $$x_{k+1} = x_k + \eta\,\nabla\log p(x_k) + \sqrt{2\eta}\;z_k,\qquad z_k\sim\mathcal N(0,I),$$
#
# a noisy gradient ascent whose stationary law tends to $p$ as the step $\eta \to 0$. The noise keeps the chain
# from collapsing onto a mode; its scale $\sqrt{2\eta}$ balances the drift (other texts write the same
# dynamics with $\tfrac\eta2$ and $\sqrt\eta$: a different $\eta$, the same process; use the form above).
#
# ### Exercise 11: `langevin_sample`
# `score_fn` (`(N, D) -> (N, D)`), `x_init` `(N, D)`, `step_size` $\eta$ (float), `noises` `(K, N, D)` → the state
# after $K$ steps, step $k$ using `noises[k]`. With $K = 0$, return (a copy of) the start.

# %% nbgrader={"grade": false, "grade_id": "langevin_sample", "locked": false, "schema_version": 3, "solution": true}
def langevin_sample(score_fn, x_init, step_size, noises):
    """Unadjusted Langevin dynamics with the noise passed in.

    Args:
        score_fn: (N, D) -> (N, D); x_init: (N, D); step_size: float; noises: (K, N, D).

    Returns:
        (N, D).
    """
    ### BEGIN SOLUTION
    x = x_init.clone()
    for z in noises:
        x = x + step_size * score_fn(x) + math.sqrt(2 * step_size) * z
    return x
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_langevin_sample", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
x = langevin_sample(lambda x: -x, torch.ones(1, 1, dtype=f64), 0.5, torch.zeros(2, 1, 1, dtype=f64))
expect_close(x, torch.tensor([[0.25]], dtype=f64), what="two noiseless steps on N(0, 1)",
             hint="Move UP the score: x + step_size * score(x).")
x = langevin_sample(lambda x: 0 * x, torch.zeros(1, 1, dtype=f64), 0.08, torch.ones(1, 1, 1, dtype=f64))
expect_close(x, torch.tensor([[0.4]], dtype=f64), what="one step with a flat score and z = 1",
             hint="The noise's standard deviation is sqrt(2 * step_size).")

# %% nbgrader={"grade": true, "grade_id": "test_langevin_sample_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("langevin_sample", langevin_sample)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# Langevin chains on the ring with the exact score, started uniformly in the square. The samples sit on the
# modes, but count them: the share of chains in each component follows where the chains *started*, not the
# weights, because crossing between well-separated modes takes a very long time. Annealing the noise level, as
# diffusion models do, fixes exactly this (§11).

# %%
try:
    gen = torch.Generator().manual_seed(0)
    K, n = 400, 1200
    start = (torch.rand(n, 2, generator=gen, dtype=torch.float64) * 2 - 1) * 3.5
    score = lambda x: gmm_score(x, mixture.weights, mixture.means, mixture.covs)
    chains = langevin_sample(score, start, 0.01, torch.randn(K, n, 2, generator=gen, dtype=torch.float64))
    nearest = torch.cdist(chains, mixture.means).argmin(1)
    share = torch.bincount(nearest, minlength=6).double() / n
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
    plot_samples_over_density(axes[0], mixture, chains, title=f"Langevin, {K} steps of 0.01")
    axes[1].bar(np.arange(6) - 0.2, mixture.weights.numpy(), width=0.4, label="true weight")
    axes[1].bar(np.arange(6) + 0.2, share.numpy(), width=0.4, label="share of chains")
    axes[1].set_xlabel("component")
    axes[1].legend(fontsize=8)
    plt.show()
except NotImplementedError:
    print("Write gmm_score and langevin_sample to see this demo.")

# %% [markdown]
# ## 10. Classifier-free guidance
#
# A conditional model predicts $\epsilon_\theta(x_t, t\mid y)$ for a label $y$; trained with the label sometimes
# dropped, the same network also gives the unconditional $\epsilon_\theta(x_t, t)$. Since $\epsilon$ is minus a
# scaled score, Bayes' rule $\nabla\log p(x\mid y) = \nabla\log p(x) + \nabla\log p(y\mid x)$ says that the
# difference $\epsilon_c - \epsilon_u$ plays the part of a classifier's gradient (textbook §13.3). **Guidance**
# follows that direction further than the conditional model does:
#
# $$\tilde\epsilon = \epsilon_u + w\,(\epsilon_c - \epsilon_u).$$
#
# **This course's convention:** $w = 0$ is the unconditional model, $w = 1$ the conditional one, $w > 1$ guides
# more strongly (the sharpened law $\propto p(x)\,p(y\mid x)^w$). The textbook's eq. (13.99),
# $(1+\gamma)\epsilon_c - \gamma\epsilon_u$, is the same rule with $w = 1 + \gamma$; its eq. (13.97) uses $\gamma = w$.
#
# ### Exercise 12: `guided_eps`
# `eps_cond`, `eps_uncond` `(N, D)` and a float `w` → `(N, D)`.

# %% nbgrader={"grade": false, "grade_id": "guided_eps", "locked": false, "schema_version": 3, "solution": true}
def guided_eps(eps_cond, eps_uncond, w):
    """Classifier-free guidance in the course's convention (w = 1: conditional).

    Args:
        eps_cond, eps_uncond: (N, D); w: float.

    Returns:
        (N, D).
    """
    ### BEGIN SOLUTION
    return eps_uncond + w * (eps_cond - eps_uncond)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_guided_eps", "locked": true, "points": 1, "schema_version": 3, "solution": false}
c, u = torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 1.0]])
expect_close(guided_eps(c, u, 1.0), c, what="guided_eps with w = 1", hint="w = 1 must give the conditional prediction.")
expect_close(guided_eps(c, u, 0.0), u, what="guided_eps with w = 0", hint="w = 0 must give the unconditional one.")

# %% nbgrader={"grade": true, "grade_id": "test_guided_eps_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("guided_eps", guided_eps)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 11. Everything together: diffusion on the ring with the exact score
#
# The oracle noise predictor $\epsilon^*(x, t) = -\sqrt{1-\bar\alpha_t}\,\nabla\log q_t(x)$ from your `gmm_score`
# drives your samplers, so whatever you see is the sampler's doing, not a network's. The schedule is the cosine
# schedule with the number of steps you choose. With a class, the conditional prediction uses only that class's
# components, the unconditional one all six, combined by your `guided_eps`.
# - With very few steps (3 to 5) both samplers fail: each reverse step is far from a small Gaussian move, and
#   the samples pile up in the middle of each component.
# - Around 10 steps DDIM (every step of the same schedule, deterministic) is already close to the data, while
#   DDPM still lags (compare the MMD in the titles); with many steps both converge, because the score is exact.
# - Guidance $w > 1$ pushes samples into the chosen class and towards its heavier component, at the price of diversity.

# %%
def exact_eps_model(mix, betas, label=None, w=1.0):
    """The oracle eps(x, t) of a mixture (optionally guided towards a class), from your gmm_score."""
    alpha_bars = torch.cumprod(1 - betas, 0)

    def eps(x, t):
        ab = float(alpha_bars[int(t[0])])
        noisy = mix.noised(ab)
        e_u = -math.sqrt(1 - ab) * gmm_score(x, noisy.weights, noisy.means, noisy.covs)
        if label is None:
            return e_u
        cls = mix.only_class(label).noised(ab)
        e_c = -math.sqrt(1 - ab) * gmm_score(x, cls.weights, cls.means, cls.covs)
        return guided_eps(e_c, e_u, w)
    return eps


def show_diffusion(n_steps=10, sampler="DDIM", label="none", guidance=1.0):
    n = 800
    betas = cosine_betas(n_steps)
    gen = torch.Generator().manual_seed(0)
    x_T = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    noises = torch.randn(n_steps, n, 2, generator=gen, dtype=torch.float64)
    cls = None if label == "none" else int(label)
    try:
        model = exact_eps_model(mixture, betas, cls, guidance)
        if sampler == "DDPM":
            samples = ddpm_sample(model, x_T, noises, betas)
        else:
            samples = ddim_sample(model, x_T, betas, torch.arange(1, n_steps + 1))
    except NotImplementedError:
        print("Write gmm_score, guided_eps, ddpm_sample and ddim_sample to run this demo.")
        return
    held = mixture.sample(n, torch.Generator().manual_seed(1), dtype=torch.float64)
    what = "unconditional" if cls is None else f"class {cls}, w = {guidance:g}"
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    quality = f", MMD^2 to data {mmd2(samples, held):.4f}" if cls is None else ""
    plot_samples_over_density(ax, mixture, samples, title=f"{sampler}, {n_steps} steps, {what}{quality}")
    plt.show()


interact(show_diffusion, n_steps=widgets.IntSlider(value=10, min=2, max=200, step=1),
         sampler=["DDIM", "DDPM"], label=["none", "0", "1", "2"],
         guidance=widgets.FloatSlider(value=1.0, min=0.0, max=6.0, step=0.5));

# %% [markdown]
# ## Part IV: autoregressive models
#
# ## 12. Masked convolutions (PixelCNN)
#
# An autoregressive model writes $p(x) = \prod_i p(x_i\mid x_1,\dots,x_{i-1})$ over the pixels in raster order
# (row by row, left to right; CS 182 discussion 10; textbook §13.1). PixelCNN computes all these conditionals in
# one pass with convolutions whose kernels are **masked** so that the output at a pixel never sees that pixel
# or any later one. For a $k\times k$ kernel with centre $(c, c)$, $c = \lfloor k/2\rfloor$, the mask keeps the
# rows above the centre and, in the centre row, the taps to the left of it. The **first** layer (type **A**)
# also hides the centre tap, because its input at that position *is* the pixel being predicted; the **later**
# layers (type **B**) keep it, because their input there is a feature that was itself computed only from earlier
# pixels. (Single-channel inputs here: we do not split the colour channels.)
#
# ### Exercise 13: `masked_conv2d`
# `x` `(N, C_in, H, W)`, `weight` `(C_out, C_in, k, k)` with `k` odd, `bias` `(C_out,)` or `None`, `mask_type`
# `"A"` or `"B"` → the convolution with the masked kernel, stride 1, padding $k // 2$: `(N, C_out, H, W)`. The
# same spatial mask applies to every channel pair. `F.conv2d` is fine.

# %% nbgrader={"grade": false, "grade_id": "masked_conv2d", "locked": false, "schema_version": 3, "solution": true}
def masked_conv2d(x, weight, bias, mask_type):
    """PixelCNN masked convolution, stride 1, same padding.

    Args:
        x: (N, C_in, H, W); weight: (C_out, C_in, k, k); bias: (C_out,) or None; mask_type: "A" or "B".

    Returns:
        (N, C_out, H, W).
    """
    ### BEGIN SOLUTION
    k = weight.shape[-1]
    c = k // 2
    mask = torch.ones(k, k, dtype=weight.dtype)
    mask[c, c + (1 if mask_type == "B" else 0):] = 0
    mask[c + 1:] = 0
    return F.conv2d(x, weight * mask, bias, padding=c)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_masked_conv2d", "locked": true, "points": 1, "schema_version": 3, "solution": false}
f64 = torch.float64
img = torch.arange(9, dtype=f64).reshape(1, 1, 3, 3)
w = torch.ones(1, 1, 3, 3, dtype=f64)
# The centre output sees, in raster order, the pixels before it: 0, 1, 2 (row above) and 3 (left).
expect_close(masked_conv2d(img, w, None, "A")[0, 0, 1, 1], 0 + 1 + 2 + 3.0, what="type A at the centre pixel",
             hint="Type A hides the centre tap and everything after it in raster order.")
expect_close(masked_conv2d(img, w, None, "B")[0, 0, 1, 1], 0 + 1 + 2 + 3 + 4.0, what="type B at the centre pixel",
             hint="Type B keeps the centre tap.")
expect_shape(masked_conv2d(torch.zeros(2, 1, 8, 8), torch.zeros(4, 1, 5, 5), torch.zeros(4), "A"), (2, 4, 8, 8),
             what="masked_conv2d output")

# %% nbgrader={"grade": true, "grade_id": "test_masked_conv2d_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("masked_conv2d", masked_conv2d)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# Which pixels of a digit can a stack of masked 3x3 convolutions use when it predicts the highlighted pixel?
# The gradient of that output with respect to the input image answers it. The receptive field grows with depth
# but never reaches the pixel itself or anything after it, and it has a **blind spot** to the upper right,
# which later designs (gated PixelCNN) remove with a second, vertical stack.

# %%
def show_receptive_field(n_layers=4, row=4, col=4):
    try:
        digits = load_digits(seed=0).X_train
        image = digits[3].reshape(1, 1, 8, 8).double().requires_grad_(True)
        h = masked_conv2d(image, torch.ones(1, 1, 3, 3, dtype=torch.float64), None, "A")
        for _ in range(n_layers - 1):
            h = masked_conv2d(h, torch.ones(1, 1, 3, 3, dtype=torch.float64), None, "B")
        (grad,) = torch.autograd.grad(h[0, 0, row, col], image)
    except NotImplementedError:
        print("Write masked_conv2d to see the receptive field.")
        return
    seen = (grad[0, 0] != 0).double()
    fig, axes = plt.subplots(1, 2, figsize=(6, 3))
    axes[0].imshow(image.detach()[0, 0], cmap="gray_r")
    axes[0].set_title("a digit (8x8)", fontsize=9)
    axes[1].imshow(image.detach()[0, 0] * 0.4 + seen * 0.6, cmap="Greens", vmin=0, vmax=1)
    axes[1].scatter([col], [row], marker="s", s=120, facecolors="none", edgecolors="r")
    axes[1].set_title(f"{n_layers} layers (1 A + {n_layers - 1} B): {int(seen.sum())} pixels visible", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    plt.show()


interact(show_receptive_field, n_layers=(1, 6, 1), row=(0, 7, 1), col=(0, 7, 1));

# %% [markdown]
# ## Part V: make it work
#
# ## 13. Train a diffusion model on the ring
#
# Now a real noise-prediction network instead of the oracle. Write `train_diffusion(x_train, betas, seed)`:
# build a small network $\epsilon_\theta(x, t)$ (an MLP that takes the 2-D point and some features of $t$, for
# instance $\sin$ and $\cos$ of $t/T$ at a few frequencies), train it with **your** `ddpm_loss` on minibatches of
# `x_train` with $t$ uniform in $1..T$ and fresh Gaussian noise, and return it as a callable `model(x, t)`.
# Draw every random number from a `torch.Generator` seeded with `seed` (and seed torch's initializer with it), so
# that the same seed gives the same model.
#
# **Target.** 2000 samples from **your** `ddpm_sample` with the returned model ($T = 100$, the linear schedule
# from $10^{-3}$ to $0.1$) must reach a squared MMD (`course.generative.mmd2`) **below 0.006** against held-out
# data from the mixture, which the grader draws in its own process and never shows your code. For scale: a single
# Gaussian fitted to the data scores about 0.19, two independent samples of the mixture about 0.0002. Budget:
# under 30 s on two CPU cores (a three-layer MLP of width 128 and 3000 Adam steps of 256 points takes about 10 s).
# Returning training points does not count: the grader rejects samples that coincide with them.

# %% nbgrader={"grade": false, "grade_id": "train_diffusion", "locked": false, "schema_version": 3, "solution": true}
def train_diffusion(x_train, betas, seed):
    """Train a noise-prediction network on 2-D data with ddpm_loss.

    Args:
        x_train: (N, 2) float32; betas: (T + 1,) float32; seed: int.

    Returns:
        eps_model: callable (x (M, 2), t long (M,)) -> (M, 2).
    """
    ### BEGIN SOLUTION
    T = betas.shape[0] - 1
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)

    class EpsNet(torch.nn.Module):
        def __init__(self, width=128, n_freq=8):
            super().__init__()
            self.register_buffer("freqs", torch.pi * 2.0 ** torch.arange(n_freq) / 2)
            self.net = torch.nn.Sequential(
                torch.nn.Linear(2 + 2 * n_freq, width), torch.nn.SiLU(), torch.nn.Linear(width, width), torch.nn.SiLU(),
                torch.nn.Linear(width, width), torch.nn.SiLU(), torch.nn.Linear(width, 2))

        def forward(self, x, t):
            s = (t.to(x.dtype) / T).reshape(-1, 1) * self.freqs
            return self.net(torch.cat([x, torch.sin(s), torch.cos(s)], dim=1))

    model = EpsNet()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    steps = 3000
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        idx = torch.randint(0, x_train.shape[0], (256,), generator=gen)
        t = torch.randint(1, T + 1, (256,), generator=gen)
        noise = torch.randn(256, 2, generator=gen)
        loss = ddpm_loss(model, x_train[idx], t, noise, betas)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model.eval()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_train_diffusion", "locked": true, "points": 2, "schema_version": 3, "solution": false}
x_train_miw = ring_mixture().sample(2000, torch.Generator().manual_seed(11))
held_out_miw = ring_mixture().sample(2000, torch.Generator().manual_seed(12))
betas_miw = linear_betas(100, 1e-3, 0.1).float()
eps_net = train_diffusion(x_train_miw, betas_miw, seed=0)
gen = torch.Generator().manual_seed(13)
with torch.no_grad():
    samples_miw = ddpm_sample(eps_net, torch.randn(2000, 2, generator=gen), torch.randn(100, 2000, 2, generator=gen),
                              betas_miw)
score_miw = mmd2(samples_miw, held_out_miw)
print(f"squared MMD of your samples to held-out data: {score_miw:.4f} (target: below 0.006)")
expect_true(score_miw < 0.006, f"squared MMD {score_miw:.4f} is above the target 0.006",
            hint="Check the pieces it uses (q_sample's alpha_bar, ddpm_sample's coefficients), give the network the "
                 "time step, and train longer or with a larger learning rate.")

# %% nbgrader={"grade": true, "grade_id": "test_train_diffusion_2", "locked": true, "points": 6, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("train_diffusion", (train_diffusion, ddpm_sample))
assert _result.passed, _result.message
### END HIDDEN TESTS

# %%
try:
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.8))
    plot_samples_over_density(axes[0], mixture, held_out_miw, title="held-out data", color="k")
    plot_samples_over_density(axes[1], mixture, samples_miw, title=f"your model's samples (MMD^2 {score_miw:.4f})")
    plt.show()
except NameError:
    print("Write train_diffusion (and run its test cell) to see its samples.")

# %% [markdown]
# ## 14. Concept questions
#
# Answer each by returning one letter.
#
# **Question 1.** You need the exact log-likelihood of a test point under a trained model. Which model gives it?
# - (a) A VAE: its ELBO is the log-likelihood once training has converged.
# - (b) A normalizing flow: the change of variables gives $\log p(x)$ exactly, Jacobian term included.
# - (c) A DDPM: its training loss $\ell_{\text{simple}}$ at a point equals $-\log p(x)$ up to a constant.
# - (d) A GAN: the discriminator's output is the density ratio, hence the density.

# %% nbgrader={"grade": false, "grade_id": "concept_exact_likelihood", "locked": false, "schema_version": 3, "solution": true}
def concept_exact_likelihood():
    """Return the letter of your answer to question 1 ("a", "b", "c" or "d")."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_exact_likelihood", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_true(str(concept_exact_likelihood()).strip().lower() in {"a", "b", "c", "d"},
            "answer with one of the letters a, b, c, d")

# %% nbgrader={"grade": true, "grade_id": "test_concept_exact_likelihood_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_exact_likelihood", concept_exact_likelihood)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **Question 2.** The textbook says Langevin dynamics mis-weights a mixture because "the gradient zeros the
# mixing coefficients". What is actually going on (see the Langevin demo in §9)?
# - (a) The score of a mixture does not depend on its weights, so Langevin dynamics cannot see them.
# - (b) The weights enter the log density as a constant, which the gradient removes like any normalizer.
# - (c) The weights do enter the score, through the responsibilities, but chains rarely cross the low-density
#   gaps between modes, so they keep the proportions they started with.
# - (d) With the exact score, unadjusted Langevin dynamics reaches the right weights for any step size; the
#   effect comes from using a learned score.

# %% nbgrader={"grade": false, "grade_id": "concept_mixture_weights", "locked": false, "schema_version": 3, "solution": true}
def concept_mixture_weights():
    """Return the letter of your answer to question 2 ("a", "b", "c" or "d")."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_mixture_weights", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_true(str(concept_mixture_weights()).strip().lower() in {"a", "b", "c", "d"},
            "answer with one of the letters a, b, c, d")

# %% nbgrader={"grade": true, "grade_id": "test_concept_mixture_weights_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_mixture_weights", concept_mixture_weights)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **Question 3.** A model trained with the DDPM loss for $T = 1000$ steps samples well with DDIM in 20 steps.
# Why is no retraining needed?
# - (a) The loss only involves the marginals $q(x_t\mid x_0)$; DDIM's non-Markovian process has the same
#   marginals, so the same $\epsilon_\theta$ serves any subsequence of the steps.
# - (b) DDIM fine-tunes the model on the 20 chosen steps before sampling.
# - (c) DDIM adds more noise per step to make up for the skipped steps.
# - (d) DDIM uses the variance $\beta_t$ instead of $\tilde\beta_t$, which makes large steps exact.

# %% nbgrader={"grade": false, "grade_id": "concept_ddim_steps", "locked": false, "schema_version": 3, "solution": true}
def concept_ddim_steps():
    """Return the letter of your answer to question 3 ("a", "b", "c" or "d")."""
    ### BEGIN SOLUTION
    return "a"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_ddim_steps", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_true(str(concept_ddim_steps()).strip().lower() in {"a", "b", "c", "d"},
            "answer with one of the letters a, b, c, d")

# %% nbgrader={"grade": true, "grade_id": "test_concept_ddim_steps_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_ddim_steps", concept_ddim_steps)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## What you built
#
# - `flow_log_prob`: the change-of-variables density with the log-determinant of the inverse's Jacobian.
# - `affine_coupling_forward`, `affine_coupling_inverse`: real-NVP layers with a triangular Jacobian whose
#   log-determinant is a sum, checked against autograd, and a flow trained by maximum likelihood from them.
# - `ddpm_schedule`, `q_sample`: the forward process in closed form, $\alpha_t$ and $\bar\alpha_t$ kept apart.
# - `ddpm_posterior`: $q(x_{t-1}\mid x_t, x_0)$ by completing the square.
# - `ddpm_loss`, `ddpm_sample`, `ddim_sample`: the noise-prediction loss, ancestral sampling with the corrected
#   coefficients, and the deterministic sampler that skips steps.
# - `gmm_score`, `langevin_sample`, `guided_eps`: the exact score of a mixture as an oracle noise predictor,
#   Langevin dynamics, and classifier-free guidance.
# - `masked_conv2d`: the causal convolution of PixelCNN, type A and B.
# - `train_diffusion`: a network trained from your own pieces whose samples match held-out data.
#
# The next chapter leaves generative modelling for decision making: bandits, Markov decision processes and
# tabular reinforcement learning.
