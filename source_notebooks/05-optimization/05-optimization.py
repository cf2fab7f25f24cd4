# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · SGD and its descendants
#
# Every network in this course is trained by an *optimizer*: a short rule that turns the gradient of the
# loss into a change of the parameters. This chapter writes the optimizers found in `torch.optim` from
# scratch, as small pure functions, checks them against torch step for step, and works out on a quadratic
# why some of them beat plain gradient descent by a wide margin.
#
# **Learning goals**
# - Write gradient descent and stochastic gradient descent, and say why a constant step size cannot make
#   SGD converge while a Robbins-Monro schedule can.
# - Write heavy-ball momentum and Nesterov momentum exactly as `torch.optim.SGD` does, and derive the
#   best step size and momentum on an ill-conditioned quadratic: the rate improves from
#   $\frac{\kappa-1}{\kappa+1}$ to $\frac{\sqrt\kappa-1}{\sqrt\kappa+1}$.
# - Write AdaGrad, RMSProp and Adam (with its bias correction) so that they agree with
#   `torch.optim.Adagrad`, `RMSprop` and `Adam` to the last digit in float64.
# - Estimate the gradient noise scale $\mathcal B_{\text{simple}} = \operatorname{tr}\Sigma/|G|^2$ from
#   per-example gradients, and see how it predicts the useful batch size.
# - Take Newton steps on logistic regression, where Newton's method and the natural gradient coincide,
#   and watch them ignore the conditioning that stalls gradient descent.
#
# **Notes followed.** Kaplan, *Notes on Contemporary Machine Learning for Physicists*, §4.1 (optimizers,
# Newton's method), §4.2 (SGD), §4.3 (momentum and why it helps), §4.4 (RMSProp and Adam), §4.5 (batch size
# and the gradient noise scale), §4.6 (natural gradients) and §4.7 (second-order methods); *CS 182/282A
# discussion worksheets*, discussion 2, §3 (gradient descent, ill-conditioning, momentum, RMSProp, AdaGrad,
# Adam); the textbook with PyTorch examples, chapter 3 (§3.1 gradient descent, §3.2 momentum and Nesterov,
# §3.3 AdaGrad, RMSProp and Adam); the slides *Part II: Deep Learning*, "Stochastic gradient descent" and
# "Robbins-Monro".
#
# **Conventions used throughout.** An optimizer step is a *pure function*: it receives the parameter
# `param` (a tensor of any shape), its gradient `grad` (same shape) and, for optimizers with memory, a
# `state` dict; it returns the new parameter and a **new** state dict and never modifies its inputs in place.
# The state keys and update rules are **exactly those of `torch.optim`** (`momentum_buffer`, `sum`,
# `square_avg`, `step`, `exp_avg`, `exp_avg_sq`). `weight_decay` means torch's L2 penalty: the gradient is
# replaced by `grad + weight_decay * param` before anything else. The small `eps` of the adaptive methods
# is added **outside** the square root, $\sqrt{s} + \varepsilon$, as torch does. (The CS 182 worksheets
# write $\sqrt{s + \varepsilon}$; the two differ when $s$ is tiny, and only torch's form is graded here.)
# Everything returns the dtype and device of `param`.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import math
import numpy as np
import torch
import matplotlib.pyplot as plt
import ipywidgets as widgets
from course.checks import expect_close, expect_true, expect_shape
from course.demos import interact, needs_exercises

# %% [markdown]
# ## 1. Gradient descent, and what its step size means
#
# An optimizer minimizes a loss $L(\theta)$ using its gradient $g = \nabla_\theta L$. The simplest rule steps
# straight downhill with a **learning rate** $\epsilon$:
#
# $$\theta_{n+1} = \theta_n - \epsilon\, g_n .$$
#
# With the full data set in $g_n$ this is gradient descent (GD); with the gradient averaged over a random
# mini-batch it is stochastic gradient descent (SGD): the batch gradient is a random variable whose
# expectation is the full gradient. Kaplan (§4.2) points out a quirk: if $\theta$ and $L$ carried units,
# $\epsilon$ would have units of $[\theta]^2/[L]$. Rescale the loss or re-parametrize the network and the good
# learning rate changes. Keep this in mind: the adaptive methods of §4 and Newton's method of §6 repair it.
#
# **Stability on a quadratic.** Take the one-dimensional bowl $L = \frac12 \lambda \theta^2$ with curvature
# $\lambda > 0$. Then $g = \lambda\theta$ and one GD step multiplies $\theta$ by $1 - \epsilon\lambda$.
# The iterates shrink if and only if $|1 - \epsilon\lambda| < 1$, that is $0 < \epsilon < 2/\lambda$; they
# creep monotonically towards 0 for $\epsilon < 1/\lambda$ and bounce from side to side for
# $1/\lambda < \epsilon < 2/\lambda$. In many dimensions with Hessian eigenvalues
# $\lambda_{\min} \le \dots \le \lambda_{\max}$, each eigen-direction evolves on its own, and a single
# $\epsilon$ must satisfy $\epsilon < 2/\lambda_{\max}$. The slow direction then contracts by
# $1 - \epsilon\lambda_{\min} > 1 - 2/\kappa$ per step, where $\kappa = \lambda_{\max}/\lambda_{\min}$ is the
# **condition number**. The best compromise, $\epsilon = 2/(\lambda_{\min}+\lambda_{\max})$, makes the two
# extreme directions contract equally fast, at the rate
#
# $$\rho_{\text{GD}} = \frac{\kappa - 1}{\kappa + 1}.$$
#
# For $\kappa = 100$ that is $0.98$: about 115 steps per factor of 10. This is the ill-conditioning problem
# that everything after this section attacks.
#
# ### Exercise 1: `sgd_step`
#
# Implement `sgd_step(param, grad, lr, weight_decay=0.0)`: return
# `param - lr * (grad + weight_decay * param)`, a new tensor of the shape and dtype of `param`. This is
# `torch.optim.SGD(lr=lr, weight_decay=weight_decay)` without momentum.

# %% nbgrader={"grade": false, "grade_id": "sgd_step", "locked": false, "schema_version": 3, "solution": true}
def sgd_step(param, grad, lr, weight_decay=0.0):
    """One step of (stochastic) gradient descent.

    Args:
        param: tensor of any shape, the parameter.
        grad: tensor of the same shape, its gradient.
        lr: the learning rate (float).
        weight_decay: L2 coefficient; the step uses grad + weight_decay * param.
    Returns:
        the new parameter, a new tensor of param's shape and dtype (param itself is not modified).
    """
    ### BEGIN SOLUTION
    return param - lr * (grad + weight_decay * param)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sgd_step", "locked": true, "points": 1, "schema_version": 3, "solution": false}
p = torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64)
g = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
expect_close(sgd_step(p, g, 0.1), torch.tensor([0.95, 2.1, -1.2], dtype=torch.float64),
             what="sgd_step(p, g, lr=0.1)", hint="Gradient descent moves against the gradient, by the learning rate times it.")
expect_close(sgd_step(p, g, 0.1, weight_decay=0.5), torch.tensor([0.9, 2.0, -1.15], dtype=torch.float64),
             what="sgd_step(p, g, lr=0.1, weight_decay=0.5)",
             hint="Weight decay adds weight_decay * param to the gradient before the step.")
expect_close(p, torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64), what="param after the call",
             hint="Return a new tensor; do not update param in place (no -=).")

# %% nbgrader={"grade": true, "grade_id": "test_sgd_step_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("sgd_step", sgd_step)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Why SGD needs a decaying step size: Robbins-Monro
#
# The slides *Part II: Deep Learning* pose a puzzle. The data are the 21 numbers $-10, -9, \dots, 10$; the
# per-example loss is $(x_i - \theta)^2$, so the empirical risk is minimized by the mean, $\theta^\star = 0$.
# Run SGD with batch size 1 from $\theta_0 = -20$, drawing the sample $x_k$ at random at each step and
# using a step size $\alpha_k$:
#
# $$\theta_{k+1} = \theta_k - \alpha_k \cdot \frac{\partial}{\partial\theta}(x_k-\theta)^2\Big|_{\theta_k}
#   = \theta_k - 2\alpha_k(\theta_k - x_k).$$
#
# With the constant $\alpha_k = \frac12$ this reads $\theta_{k+1} = x_k$: SGD jumps to whatever sample it just
# saw and never settles. A smaller constant step only shrinks the jitter: near the optimum the expected
# gradient vanishes but the sampled one does not, so with a constant step the iterates keep a spread of order
# $\sqrt{\alpha}$ around $\theta^\star$.
#
# Robbins and Monro's condition on a schedule is
#
# $$\sum_{k} \alpha_k = \infty \qquad\text{and}\qquad \sum_k \alpha_k^2 < \infty .$$
#
# The first sum lets the iterates travel any distance (with a summable schedule such as
# $\alpha_k = \alpha_0 \gamma^k$ SGD stalls before it arrives); the second makes the total injected noise,
# whose variance grows like $\sum_k \alpha_k^2$, finite. The family
# $\alpha_k = \alpha_0/(1 + d\,k)^p$ with $d > 0$ satisfies both exactly when $\frac12 < p \le 1$ (compare with
# $\sum_k k^{-p}$ and $\sum_k k^{-2p}$). For our puzzle $\alpha_k = \frac{1/2}{1+k}$ works wonders:
# $\theta_{k+1} = \theta_k + \frac{1}{k+1}(x_k - \theta_k)$, which is the update rule of a running average, so
# $\theta_{k+1}$ is exactly the mean of the samples seen so far, whatever $\theta_0$ was.
#
# ### Exercise 2: `robbins_monro_schedule`
#
# Implement `robbins_monro_schedule(lr0, decay, n_steps, power=1.0, dtype=torch.float64)`: the tensor of
# step sizes $\alpha_k = \text{lr0}/(1 + \text{decay}\cdot k)^{\text{power}}$ for $k = 0, 1, \dots,$
# `n_steps - 1` (so the first entry is `lr0`), of shape `(n_steps,)` and the given dtype.

# %% nbgrader={"grade": false, "grade_id": "robbins_monro_schedule", "locked": false, "schema_version": 3, "solution": true}
def robbins_monro_schedule(lr0, decay, n_steps, power=1.0, dtype=torch.float64):
    """Step sizes lr0 / (1 + decay * k) ** power for k = 0, ..., n_steps - 1.

    Args:
        lr0: the first step size (float).
        decay: decay rate d >= 0 (float).
        n_steps: number of step sizes (int).
        power: the exponent p (float, default 1).
        dtype: dtype of the result.
    Returns:
        tensor of shape (n_steps,) and the given dtype.
    """
    ### BEGIN SOLUTION
    k = torch.arange(n_steps, dtype=dtype)
    return lr0 / (1.0 + decay * k) ** power
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_robbins_monro_schedule", "locked": true, "points": 1, "schema_version": 3, "solution": false}
lrs = robbins_monro_schedule(0.5, 1.0, 4)
expect_shape(lrs, (4,), what="robbins_monro_schedule(0.5, 1.0, 4)")
expect_close(lrs, torch.tensor([0.5, 0.25, 0.5 / 3, 0.125], dtype=torch.float64),
             what="robbins_monro_schedule(0.5, 1.0, 4)", hint="k starts at 0, so the first step size is lr0.")
expect_close(robbins_monro_schedule(1.0, 1.0, 3, power=0.5),
             torch.tensor([1.0, 1 / math.sqrt(2), 1 / math.sqrt(3)], dtype=torch.float64),
             what="robbins_monro_schedule(1.0, 1.0, 3, power=0.5)", hint="The power applies to the whole denominator of the schedule.")
expect_true(robbins_monro_schedule(1.0, 1.0, 3, dtype=torch.float32).dtype == torch.float32,
            "robbins_monro_schedule(..., dtype=torch.float32) should return float32.")

# %% nbgrader={"grade": true, "grade_id": "test_robbins_monro_schedule_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("robbins_monro_schedule", robbins_monro_schedule)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3: `sgd_trajectory`
#
# Implement `sgd_trajectory(theta0, samples, lrs)`: SGD with batch size 1 on the loss $(x - \theta)^2$.
# `samples` has shape `(n, ...)`: `samples[k]` is the data point drawn at step $k$ (the randomness is handed
# to you, so the result is reproducible); trailing dimensions hold independent runs. `lrs` has shape `(n,)`.
# `theta0` is a number or a tensor broadcastable to `samples[0]`. Apply
# $\theta_{k+1} = \theta_k - 2\,\alpha_k(\theta_k - x_k)$ for $k = 0, \dots, n-1$ and return **all** iterates
# $\theta_0, \theta_1, \dots, \theta_n$ stacked into a tensor of shape `(n + 1, ...)`, dtype of `samples`.
# A Python loop over the $n$ steps is fine: each step needs the previous one.

# %% nbgrader={"grade": false, "grade_id": "sgd_trajectory", "locked": false, "schema_version": 3, "solution": true}
def sgd_trajectory(theta0, samples, lrs):
    """Iterates of batch-size-1 SGD on (x - theta)^2.

    Args:
        theta0: number or tensor broadcastable to samples[0], the start.
        samples: tensor (n, ...), the sample used at each step.
        lrs: tensor (n,), the step sizes.
    Returns:
        tensor (n + 1, ...): theta_0, ..., theta_n, dtype of samples.
    """
    ### BEGIN SOLUTION
    theta = torch.as_tensor(theta0, dtype=samples.dtype, device=samples.device).expand(samples.shape[1:])
    path = [theta]
    for x, lr in zip(samples, lrs):
        theta = theta - lr * 2.0 * (theta - x)
        path.append(theta)
    return torch.stack(path)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sgd_trajectory", "locked": true, "points": 1, "schema_version": 3, "solution": false}
x = torch.tensor([1.0, 3.0, 5.0, -1.0], dtype=torch.float64)
path = sgd_trajectory(-20.0, x, torch.full((4,), 0.25, dtype=torch.float64))
expect_shape(path, (5,), what="sgd_trajectory with 4 samples (theta_0 included)")
expect_close(path, torch.tensor([-20.0, -9.5, -3.25, 0.875, -0.0625], dtype=torch.float64),
             what="sgd_trajectory(-20, [1, 3, 5, -1], lr 0.25)",
             hint="Differentiate (x - theta)^2 with respect to theta carefully: the factor and the sign both matter.")
expect_close(sgd_trajectory(-20.0, x, robbins_monro_schedule(0.5, 1.0, 4)),
             torch.tensor([-20.0, 1.0, 2.0, 3.0, 2.0], dtype=torch.float64),
             what="sgd_trajectory with steps 0.5 / (1 + k) (should give the running mean)",
             hint="Step k uses samples[k] and lrs[k].")

# %% nbgrader={"grade": true, "grade_id": "test_sgd_trajectory_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("sgd_trajectory", sgd_trajectory)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **Demo: the puzzle from the slides.** Two hundred SGD steps on the data $-10, \dots, 10$, all runs fed the
# same random samples: two constant step sizes, the inverse-time schedule $\alpha_k = \frac12/(1+k)$, and an
# exponentially decaying schedule whose sum is finite. The right panel shows the distance to the optimum on a
# log scale, averaged over 200 independent runs.

# %%
data = torch.arange(-10.0, 11.0, dtype=torch.float64)
gen = torch.Generator().manual_seed(0)
n_steps, n_runs = 200, 200
idx = torch.randint(0, len(data), (n_steps, n_runs), generator=gen)
samples = data[idx]
def show_robbins_monro():
    schedules = {
        "constant 0.5": torch.full((n_steps,), 0.5, dtype=torch.float64),
        "constant 0.05": torch.full((n_steps,), 0.05, dtype=torch.float64),
        "0.5 / (1 + k)  (Robbins-Monro)": robbins_monro_schedule(0.5, 1.0, n_steps),
        "0.05 * 0.95^k  (sum finite)": 0.05 * 0.95 ** torch.arange(n_steps, dtype=torch.float64),
    }
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for name, lrs in schedules.items():
        path = sgd_trajectory(-20.0, samples, lrs)
        axes[0].plot(path[:, 0].numpy(), label=name, lw=1)
        axes[1].semilogy((path ** 2).mean(dim=1).sqrt().numpy(), label=name)
    axes[0].axhline(0.0, color="k", lw=0.5)
    axes[0].set(xlabel="step k", ylabel="theta_k (one run)", title="one SGD run")
    axes[1].set(xlabel="step k", ylabel="rms distance to theta* = 0", title="200 runs")
    axes[1].legend(fontsize=8)
    plt.tight_layout()
    plt.show()
    for name, lrs in schedules.items():
        print(f"{name:32s} sum a_k = {lrs.sum().item():7.2f}   sum a_k^2 = {(lrs ** 2).sum().item():6.3f}")


try:
    show_robbins_monro()
except NotImplementedError:
    print("Implement robbins_monro_schedule and sgd_trajectory to see this demo.")

# %% [markdown]
# The constant steps stop improving at a noise floor (the larger the step, the higher the floor). The
# exponential schedule has $\sum_k \alpha_k = 1$: each step shrinks the distance to the optimum by at most a
# factor $1 - 2\alpha_k$, and $\prod_k (1 - 2\alpha_k) \approx e^{-2}$, so it freezes a few units short of the
# optimum. The Robbins-Monro schedule keeps improving like $1/\sqrt{k}$, the error of a running mean.
#
# ## 3. Momentum, and why it helps
#
# **Heavy ball.** Momentum keeps a velocity $v$, a running sum of past gradients, and steps along it
# (Kaplan §4.3, CS 182 disc. 2 §3.4):
#
# $$v_{n+1} = m\, v_n + g_n, \qquad \theta_{n+1} = \theta_n - \epsilon\, v_{n+1}, \qquad v_0 = 0 .$$
#
# Mind the index in the second equation: the step uses the velocity that *already contains* the current
# gradient. This is what `torch.optim.SGD(momentum=m)` does (with its default `dampening=0`; torch
# initializes the buffer to the first gradient, which is the same as starting from $v_0 = 0$). Kaplan's
# eq. (4.3.2) writes $v^{(n)}$ there, but his eq. (4.3.6) and everything after use $v^{(n+1)}$, as we do.
# Eliminating $v$ shows the "heavy ball" name:
# $\theta_{n+1} = \theta_n - \epsilon g_n + m(\theta_n - \theta_{n-1})$, a gradient step plus a fraction $m$ of
# the previous displacement. The slides write $u = \epsilon v$ instead, which is the same thing for a constant
# $\epsilon$; the textbook's eq. (3.27) has yet another parametrization.
#
# **Nesterov.** Torch's Nesterov variant updates the velocity the same way but steps along a look-ahead
# combination:
#
# $$v_{n+1} = m\, v_n + g_n, \qquad \theta_{n+1} = \theta_n - \epsilon\,(g_n + m\, v_{n+1}).$$
#
# (This is a rewriting of Nesterov's "evaluate the gradient at the point momentum is about to carry you to";
# the textbook's eqs. (3.29)-(3.30) show the original form, with a time-dependent coefficient $t/(t+3)$.)
#
# **State.** Both functions take `state = {"momentum_buffer": v}` (start from `torch.zeros_like(param)`) and
# return `(new_param, {"momentum_buffer": new_v})`. Weight decay, when nonzero, replaces $g$ by
# $g + \text{weight\_decay}\cdot\theta$ first.
#
# ### Exercise 4: `momentum_step`

# %% nbgrader={"grade": false, "grade_id": "momentum_step", "locked": false, "schema_version": 3, "solution": true}
def momentum_step(param, grad, state, lr, momentum, weight_decay=0.0):
    """One heavy-ball step, as torch.optim.SGD(momentum=momentum, dampening=0).

    Args:
        param: tensor of any shape.
        grad: tensor of the same shape.
        state: {"momentum_buffer": tensor of param's shape} (zeros before the first step).
        lr, momentum, weight_decay: floats.
    Returns:
        (new_param, {"momentum_buffer": new_buffer}); the inputs are not modified.
    """
    ### BEGIN SOLUTION
    g = grad + weight_decay * param
    v = momentum * state["momentum_buffer"] + g
    return param - lr * v, {"momentum_buffer": v}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_momentum_step", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# One step by hand: v = 0.5 * 1 + 2 = 2.5, param = 1 - 0.1 * 2.5 = 0.75.
p, s = momentum_step(torch.tensor([1.0], dtype=torch.float64), torch.tensor([2.0], dtype=torch.float64),
                     {"momentum_buffer": torch.tensor([1.0], dtype=torch.float64)}, lr=0.1, momentum=0.5)
expect_close(s["momentum_buffer"], torch.tensor([2.5], dtype=torch.float64), what="the new momentum_buffer",
             hint="The velocity adds the raw gradient to the decayed old velocity: torch's default has no dampening.")
expect_close(p, torch.tensor([0.75], dtype=torch.float64), what="the new param",
             hint="The step uses the velocity that already contains the current gradient.")
# Six steps side by side with torch.optim.SGD on the same gradients.
gen = torch.Generator().manual_seed(0)
p = torch.randn(2, 3, generator=gen, dtype=torch.float64)
tp = p.clone().requires_grad_(True)
opt = torch.optim.SGD([tp], lr=0.1, momentum=0.9, weight_decay=0.05)
s = {"momentum_buffer": torch.zeros_like(p)}
for step in range(6):
    g = torch.randn(2, 3, generator=gen, dtype=torch.float64)
    p, s = momentum_step(p, g, s, lr=0.1, momentum=0.9, weight_decay=0.05)
    tp.grad = g.clone()
    opt.step()
    expect_close(p, tp.detach(), what=f"param after step {step + 1} (vs torch.optim.SGD, momentum 0.9, weight_decay 0.05)",
                 hint="Weight decay changes the gradient before it enters the velocity.")

# %% nbgrader={"grade": true, "grade_id": "test_momentum_step_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("momentum_step", momentum_step)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5: `nesterov_step`
#
# Same signature and state as `momentum_step`; the step is $\theta - \epsilon\,(g + m\,v_{\text{new}})$,
# as `torch.optim.SGD(momentum=m, nesterov=True)`.

# %% nbgrader={"grade": false, "grade_id": "nesterov_step", "locked": false, "schema_version": 3, "solution": true}
def nesterov_step(param, grad, state, lr, momentum, weight_decay=0.0):
    """One Nesterov-momentum step, as torch.optim.SGD(momentum=momentum, nesterov=True).

    Args:
        param: tensor of any shape.
        grad: tensor of the same shape.
        state: {"momentum_buffer": tensor of param's shape} (zeros before the first step).
        lr, momentum, weight_decay: floats.
    Returns:
        (new_param, {"momentum_buffer": new_buffer}); the inputs are not modified.
    """
    ### BEGIN SOLUTION
    g = grad + weight_decay * param
    v = momentum * state["momentum_buffer"] + g
    return param - lr * (g + momentum * v), {"momentum_buffer": v}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_nesterov_step", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# One step by hand: v = 0.5 * 1 + 2 = 2.5, param = 1 - 0.1 * (2 + 0.5 * 2.5) = 0.675.
p, s = nesterov_step(torch.tensor([1.0], dtype=torch.float64), torch.tensor([2.0], dtype=torch.float64),
                     {"momentum_buffer": torch.tensor([1.0], dtype=torch.float64)}, lr=0.1, momentum=0.5)
expect_close(s["momentum_buffer"], torch.tensor([2.5], dtype=torch.float64), what="the new momentum_buffer",
             hint="Nesterov updates the velocity exactly as heavy ball does; only the step differs.")
expect_close(p, torch.tensor([0.675], dtype=torch.float64), what="the new param",
             hint="Nesterov's step looks ahead: it combines the current gradient with the momentum-scaled new velocity.")
gen = torch.Generator().manual_seed(1)
p = torch.randn(4, generator=gen, dtype=torch.float64)
tp = p.clone().requires_grad_(True)
opt = torch.optim.SGD([tp], lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)
s = {"momentum_buffer": torch.zeros_like(p)}
for step in range(6):
    g = torch.randn(4, generator=gen, dtype=torch.float64)
    p, s = nesterov_step(p, g, s, lr=0.05, momentum=0.8, weight_decay=0.1)
    tp.grad = g.clone()
    opt.step()
    expect_close(p, tp.detach(), what=f"param after step {step + 1} (vs torch.optim.SGD(nesterov=True))",
                 hint="Weight decay changes the gradient before it enters the velocity and the look-ahead step.")

# %% nbgrader={"grade": true, "grade_id": "test_nesterov_step_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("nesterov_step", nesterov_step)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Momentum on a quadratic: the rate
#
# Back to $L = \frac12\lambda\theta^2$, so $g_n = \lambda\theta_n$. The heavy-ball pair becomes linear in
# $(\theta, v)$:
#
# $$v_{n+1} = m v_n + \lambda\theta_n, \qquad
#   \theta_{n+1} = \theta_n - \epsilon(m v_n + \lambda\theta_n), \qquad
#   \begin{pmatrix}\theta_{n+1}\\ v_{n+1}\end{pmatrix} =
#   \underbrace{\begin{pmatrix}1-\epsilon\lambda & -\epsilon m\\ \lambda & m\end{pmatrix}}_{A}
#   \begin{pmatrix}\theta_n\\ v_n\end{pmatrix}.$$
#
# The iterates shrink like $\rho(A)^n$, where the **rate** $\rho(A)$ is the largest modulus of $A$'s
# eigenvalues. Finding it in closed form, for every $\epsilon$, $m$ and $\lambda$, is the next exercise.
#
# ### Exercise 6: `momentum_rate`
#
# Implement `momentum_rate(lr, momentum, lam)`: the rate $\rho(A)$, derived by hand. The arguments are Python
# floats or float64 tensors that broadcast together; return a float64 tensor of the broadcast shape (a 0-d
# tensor for three floats). Your formula will have two regimes: handle both without Python branches on tensor
# values (`torch.where`, or a complex square root). With `momentum = 0` it must reduce to $|1 - \epsilon\lambda|$.
#
# <details><summary>Hint 1: trace and determinant</summary>
#
# A $2\times2$ matrix's eigenvalues solve $e^2 - (\operatorname{tr} A)\,e + \det A = 0$. Read the trace and
# the determinant off $A$: both are short expressions in $\epsilon\lambda$ and $m$.
# </details>
#
# <details><summary>Hint 2: two regimes</summary>
#
# The quadratic formula has a discriminant $(\operatorname{tr} A)^2 - 4\det A$. When it is non-negative both
# roots are real and the larger *modulus* is the one whose sign matches the trace's (mind a negative trace,
# where the step overshoots). When it is negative the roots are complex conjugates: what is the modulus of
# each, given that their product is $\det A$?
# </details>
#
# <details><summary>Hint 3: the result</summary>
#
# $\operatorname{tr} A = 1 + m - \epsilon\lambda$, $\det A = m$ (Kaplan's eq. 4.3.8), so with
# $\Delta = (1 + m - \epsilon\lambda)^2 - 4m$:
# $\rho = \frac12\big(|1+m-\epsilon\lambda| + \sqrt{\Delta}\big)$ if $\Delta \ge 0$, and $\rho = \sqrt m$
# (whatever $\lambda$ is) if $\Delta < 0$.
# </details>

# %% nbgrader={"grade": false, "grade_id": "momentum_rate", "locked": false, "schema_version": 3, "solution": true}
def momentum_rate(lr, momentum, lam):
    """Spectral radius of heavy ball's 2x2 update matrix on the quadratic lam * theta^2 / 2.

    Args:
        lr, momentum, lam: floats or float64 tensors (broadcastable).
    Returns:
        float64 tensor of the broadcast shape.
    """
    ### BEGIN SOLUTION
    lr, momentum, lam = (torch.as_tensor(v, dtype=torch.float64) for v in (lr, momentum, lam))
    trace = 1.0 + momentum - lr * lam
    disc = trace ** 2 - 4.0 * momentum
    real = (trace.abs() + disc.clamp(min=0).sqrt()) / 2.0
    return torch.where(disc >= 0, real, momentum.clamp(min=0).sqrt())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_momentum_rate", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_close(momentum_rate(0.1, 0.0, 5.0), 0.5, what="momentum_rate(0.1, 0, 5) (plain GD: |1 - lr * lam|)")
expect_close(momentum_rate(0.3, 0.0, 10.0), 2.0, what="momentum_rate(0.3, 0, 10) (GD diverging)",
             hint="Take the absolute value: an eigenvalue -2 diverges.")
expect_close(momentum_rate(1.0, 0.25, 1.0), 0.5, what="momentum_rate(1, 0.25, 1) (double eigenvalue 1/2)")
expect_close(momentum_rate(0.1, 0.9, 5.0), math.sqrt(0.9), what="momentum_rate(0.1, 0.9, 5) (complex eigenvalues)",
             hint="Here the eigenvalues are complex conjugates: their common modulus follows from their product.")
# lr = 0.5, m = 0.1: trace = 1.1 - lam / 2 is 0.85, 0.1, -2.9 and the discriminant trace^2 - 0.4 is
# 0.3225 (real), -0.39 (complex: rate sqrt(0.1)), 8.01 (real, negative trace).
lam = torch.tensor([0.5, 2.0, 8.0], dtype=torch.float64)
expected = torch.tensor([(0.85 + math.sqrt(0.3225)) / 2, math.sqrt(0.1), (2.9 + math.sqrt(8.01)) / 2], dtype=torch.float64)
expect_close(momentum_rate(0.5, 0.1, lam), expected, what="momentum_rate(0.5, 0.1, lam) for lam = [0.5, 2, 8]",
             hint="With a negative trace (overshooting) the eigenvalue of largest modulus is the negative one.")

# %% nbgrader={"grade": true, "grade_id": "test_momentum_rate_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("momentum_rate", momentum_rate)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 7: `optimal_momentum`
#
# **The best settings.** In the complex regime of Exercise 6 the rate is $\sqrt m$ *whatever the curvature*. So
# the best heavy-ball settings for a spectrum $[\lambda_{\min}, \lambda_{\max}]$ are the ones that fit the
# whole spectrum into that regime with the smallest possible $m$. Derive them, and with them the rate, in terms
# of the condition number $\kappa = \lambda_{\max}/\lambda_{\min}$; compare with GD's
# $\frac{\kappa-1}{\kappa+1}$.
#
# Implement `optimal_momentum(lam_min, lam_max)`: return the pair `(lr, momentum)` $= (\epsilon^\star, m^\star)$
# as float64 tensors (Python floats or float64 tensors in, broadcast together).
#
# <details><summary>Hint 1: the window</summary>
#
# The discriminant of Exercise 6 is negative exactly when $(1-\sqrt m)^2 < \epsilon\lambda < (1+\sqrt m)^2$.
# The tightest fit puts the two ends of the spectrum on the two edges of this window (Kaplan's eq. 4.3.12).
# </details>
#
# <details><summary>Hint 2: two equations, two unknowns</summary>
#
# Take square roots of $\epsilon\lambda_{\min} = (1-\sqrt m)^2$ and $\epsilon\lambda_{\max} = (1+\sqrt m)^2$,
# then add and subtract them: one gives $\sqrt\epsilon$, the other $\sqrt m$.
# </details>
#
# <details><summary>Hint 3: the result</summary>
#
# $\epsilon^\star = \dfrac{4}{(\sqrt{\lambda_{\max}} + \sqrt{\lambda_{\min}})^2}$,
# $m^\star = \left(\dfrac{\sqrt{\lambda_{\max}} - \sqrt{\lambda_{\min}}}{\sqrt{\lambda_{\max}} + \sqrt{\lambda_{\min}}}\right)^2$,
# and $\rho = \sqrt{m^\star} = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}$ for *every* curvature in the range:
# momentum has replaced $\kappa$ by $\sqrt\kappa$. For $\kappa = 100$ the rate drops from $0.98$ to $0.82$, about
# 11 steps per factor of 10 instead of 115. (Kaplan's eq. 4.3.14 defines $\kappa = \lambda_1/\lambda_2$ right
# after assuming $\lambda_1 \ll \lambda_2$; the condition number is of course the large over the small one.)
# </details>

# %% nbgrader={"grade": false, "grade_id": "optimal_momentum", "locked": false, "schema_version": 3, "solution": true}
def optimal_momentum(lam_min, lam_max):
    """The heavy-ball learning rate and momentum with the best worst-case rate on [lam_min, lam_max].

    Args:
        lam_min, lam_max: floats or float64 tensors, 0 < lam_min <= lam_max.
    Returns:
        (lr, momentum): two float64 tensors of the broadcast shape.
    """
    ### BEGIN SOLUTION
    a = torch.as_tensor(lam_min, dtype=torch.float64).sqrt()
    b = torch.as_tensor(lam_max, dtype=torch.float64).sqrt()
    return 4.0 / (a + b) ** 2, ((b - a) / (b + a)) ** 2
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_optimal_momentum", "locked": true, "points": 1, "schema_version": 3, "solution": false}
result = optimal_momentum(1.0, 9.0)
expect_true(isinstance(result, tuple) and len(result) == 2, "optimal_momentum should return a pair (lr, momentum).")
expect_close(result[0], 0.25, what="lr for lam in [1, 9]",
             hint="Both ends of the spectrum sit on the edges of the complex window: solve the two equations.")
expect_close(result[1], 0.25, what="momentum for lam in [1, 9]",
             hint="The equations give sqrt(m), not m.")
expect_close(optimal_momentum(4.0, 4.0)[1], 0.0, what="momentum when lam_min = lam_max (no ill-conditioning)")

# %% nbgrader={"grade": true, "grade_id": "test_optimal_momentum_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("optimal_momentum", optimal_momentum)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **Demo: the rate across the spectrum.** For $\lambda \in [1, 100]$ ($\kappa = 100$), the rate of GD with
# its best step $2/(\lambda_{\min}+\lambda_{\max})$ and of heavy ball with $(\epsilon^\star, m^\star)$. The flat
# line at $\sqrt{m^\star}$ is the complex-eigenvalue window. The dots are measured: the per-step contraction of
# an actual momentum run on a diagonal quadratic with those curvatures. (At the two ends of the spectrum the
# eigenvalue is double, the error decays like $n\rho^n$ rather than $\rho^n$, and the measured rate sits a little
# above the line.) Halving the momentum shrinks the window: the middle of the spectrum gets faster, the ends
# much slower.

# %%
def show_rates():
    lam_min, lam_max = 1.0, 100.0
    lams = torch.linspace(lam_min, lam_max, 400, dtype=torch.float64)
    lr_gd = 2.0 / (lam_min + lam_max)
    lr_hb, m_hb = optimal_momentum(lam_min, lam_max)
    kappa = lam_max / lam_min
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.plot(lams.numpy(), momentum_rate(lr_gd, 0.0, lams).numpy(), label="GD, lr = 2/(lam_min + lam_max)")
    ax.plot(lams.numpy(), momentum_rate(lr_hb, m_hb, lams).numpy(), label="heavy ball, optimal (lr, m)")
    ax.plot(lams.numpy(), momentum_rate(lr_hb, 0.5 * m_hb, lams).numpy(), ls="--", label="heavy ball, m halved")
    ax.axhline((kappa - 1) / (kappa + 1), color="C0", lw=0.5)
    ax.axhline((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1), color="C1", lw=0.5)
    # measured rates: 300 steps on the diagonal quadratic with a few of these curvatures
    probe = torch.tensor([1.0, 10.0, 40.0, 100.0], dtype=torch.float64)
    theta, state = torch.ones_like(probe), {"momentum_buffer": torch.zeros_like(probe)}
    for _ in range(300):
        theta, state = momentum_step(theta, probe * theta, state, lr=float(lr_hb), momentum=float(m_hb))
    measured = (theta.abs() + state["momentum_buffer"].abs() / probe).pow(1 / 300)
    ax.plot(probe.numpy(), measured.numpy(), "o", color="C1", label="measured (300 steps)")
    ax.set(xlabel="curvature lambda", ylabel="rate per step", ylim=(0.0, 1.05), title="kappa = 100")
    ax.legend(fontsize=8)
    plt.show()
    print(f"steps per factor 10:  GD {math.log(10) / -math.log((kappa - 1) / (kappa + 1)):.0f},  "
          f"momentum {math.log(10) / -math.log(math.sqrt(m_hb)):.0f}")


try:
    show_rates()
except NotImplementedError:
    print("Implement momentum_step, momentum_rate and optimal_momentum to see this demo.")

# %% [markdown]
# ## 4. Adaptive step sizes: AdaGrad, RMSProp, Adam
#
# Momentum fights ill-conditioning with memory of the gradient's *direction*. The adaptive methods fight it
# with memory of each coordinate's gradient *size*: a coordinate whose gradients have been large gets a
# smaller step, one whose gradients have been small a larger step. All operations below are element-wise.
#
# **AdaGrad** sums the squared gradients and divides by the root of the sum:
#
# $$s_n = s_{n-1} + g_n^2, \qquad \theta_{n+1} = \theta_n - \epsilon\,\frac{g_n}{\sqrt{s_n} + \varepsilon}.$$
#
# Since $s_n$ only grows, AdaGrad's effective step size decays roughly like $1/\sqrt n$, which suits convex
# problems (the textbook's §3.3.1 proves an $O(1/T)$ guarantee) and tends to stop deep networks too early.
# (The CS 182 worksheet multiplies the new squared gradient by a coefficient $\beta$; torch, and we, do not.)
#
# **RMSProp** replaces the sum by an exponential moving average with smoothing constant $\alpha$ (torch's
# name; Kaplan and CS 182 call it $\beta$), so old gradients are forgotten:
#
# $$r_n = \alpha\, r_{n-1} + (1-\alpha)\, g_n^2, \qquad \theta_{n+1} = \theta_n - \epsilon\,\frac{g_n}{\sqrt{r_n} + \varepsilon}.$$
#
# Note what is squared: the *current* gradient, element by element, and then averaged. (The textbook's
# eqs. 3.40-3.41 average the cumulative AdaGrad sum instead; it then remarks that using $g_n\odot g_n$ is
# customary, which is the rule above.) Kaplan §4.4 observes that the ratio $g/\sqrt{r}$ is dimensionless: the
# learning rate now has the units of $\theta$, and rescaling the loss changes nothing.
#
# **Adam** is RMSProp with momentum in the numerator: two exponential moving averages, of the gradient and of
# its square, started at zero,
#
# $$m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \qquad m_0 = v_0 = 0,$$
#
# with $t = 1, 2, \dots$ counting the updates *including the current one*. The step is
# $\theta_t = \theta_{t-1} - \epsilon\,\hat m_t / (\sqrt{\hat v_t} + \varepsilon)$, where $\hat m_t$ and $\hat v_t$
# are $m_t$ and $v_t$ **corrected for their start at zero**. Because $m_0 = 0$, the early averages are pulled
# toward zero: $m_1 = (1-\beta_1) g_1$ is a tenth of the gradient with $\beta_1 = 0.9$. Deriving the correction
# (a factor that depends on $\beta$ and $t$ only) is part of Exercise 10: find $\hat m_t = m_t / c_1(t)$ such
# that, if every gradient were the same $g$, $\hat m_t = g$ exactly at every $t$; likewise for $v$.
#
# <details><summary>Hint 1: unroll the recursion</summary>
#
# Substitute $m_{t-1}$, then $m_{t-2}$, ... down to $m_0 = 0$. You get $m_t$ as a weighted sum
# $\sum_{j=1}^t w_j\, g_j$. What is the weight $w_j$ of the gradient from step $j$?
# </details>
#
# <details><summary>Hint 2: the weights do not sum to 1</summary>
#
# With constant gradients, $m_t = g \sum_j w_j$. The sum is a geometric series: sum it. Dividing by it makes
# the weights a proper average. Note what happens to the correction as $t \to \infty$.
# </details>
#
# <details><summary>Hint 3: the result</summary>
#
# $m_t = (1-\beta_1)\sum_{j=1}^t \beta_1^{t-j} g_j$, whose weights sum to $1 - \beta_1^t$; so
# $\hat m_t = m_t / (1-\beta_1^t)$ and $\hat v_t = v_t / (1-\beta_2^t)$. Without the correction the very first
# step would use $m_1/\sqrt{v_1} = (1-\beta_1)/\sqrt{1-\beta_2} \approx 3$ times the intended size with the
# default betas, and $v$ would be underestimated for the first thousand steps. (Kaplan's eq. 4.4.2 divides
# $V^{(n+1)}$ by $1-\beta^n$: one power short; after $n+1$ updates the weights sum to $1-\beta^{n+1}$, so use
# the number of updates made, including this one.)
# </details>
#
# **Epsilon.** Torch adds $\varepsilon$ to the square root, $\sqrt{\cdot} + \varepsilon$; CS 182 puts it
# inside, $\sqrt{\cdot + \varepsilon}$. With $\varepsilon = 10^{-8}$ and gradients of order 1 the two agree to
# eight digits, but for tiny gradients (say $10^{-6}$) they differ by orders of magnitude: $\sqrt{10^{-12}+10^{-8}}
# \approx 10^{-4}$ versus $10^{-6}+10^{-8}$. Use torch's form.
#
# **State dicts** (start values in parentheses; `z = torch.zeros_like(param)`):
# - AdaGrad: `{"sum": s}` (`z`; torch's `initial_accumulator_value` would fill it with a constant instead);
# - RMSProp: `{"square_avg": r}` (`z`);
# - Adam: `{"step": t_done, "exp_avg": m, "exp_avg_sq": v}` (`{"step": 0, "exp_avg": z, "exp_avg_sq": z}`), where
#   `step` is a Python int counting the updates already made; the update you compute is number
#   $t$ = `step + 1`, and the returned state holds `"step": step + 1`.
#
# Each function returns `(new_param, new_state)` and leaves its inputs untouched.
#
# ### Exercise 8: `adagrad_step`
#
# `adagrad_step(param, grad, state, lr, eps=1e-10, weight_decay=0.0)`, as `torch.optim.Adagrad` (default
# `lr_decay=0`).

# %% nbgrader={"grade": false, "grade_id": "adagrad_step", "locked": false, "schema_version": 3, "solution": true}
def adagrad_step(param, grad, state, lr, eps=1e-10, weight_decay=0.0):
    """One AdaGrad step, as torch.optim.Adagrad.

    Args:
        param: tensor of any shape.
        grad: tensor of the same shape.
        state: {"sum": tensor of param's shape}, the sum of past squared gradients.
        lr, eps, weight_decay: floats (eps is added outside the square root).
    Returns:
        (new_param, {"sum": new_sum}); the inputs are not modified.
    """
    ### BEGIN SOLUTION
    g = grad + weight_decay * param
    s = state["sum"] + g * g
    return param - lr * g / (s.sqrt() + eps), {"sum": s}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_adagrad_step", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# One step by hand: sum = 16 + 3^2 = 25, param = 1 - 0.5 * 3 / 5 = 0.7.
p, s = adagrad_step(torch.tensor([1.0], dtype=torch.float64), torch.tensor([3.0], dtype=torch.float64),
                    {"sum": torch.tensor([16.0], dtype=torch.float64)}, lr=0.5, eps=0.0)
expect_close(s["sum"], torch.tensor([25.0], dtype=torch.float64), what="the new sum",
             hint="AdaGrad's sum keeps every past squared gradient: the new one is added to the old sum.")
expect_close(p, torch.tensor([0.7], dtype=torch.float64), what="the new param")
# Six steps side by side with torch.optim.Adagrad, with gradients of size 1e-3 and eps = 1e-4.
gen = torch.Generator().manual_seed(2)
p = torch.randn(3, 2, generator=gen, dtype=torch.float64)
tp = p.clone().requires_grad_(True)
opt = torch.optim.Adagrad([tp], lr=0.1, eps=1e-4, weight_decay=0.01)
s = {"sum": torch.zeros_like(p)}
for step in range(6):
    g = 1e-3 * torch.randn(3, 2, generator=gen, dtype=torch.float64)
    p, s = adagrad_step(p, g, s, lr=0.1, eps=1e-4, weight_decay=0.01)
    tp.grad = g.clone()
    opt.step()
    expect_close(p, tp.detach(), what=f"param after step {step + 1} (vs torch.optim.Adagrad)",
                 hint="torch adds eps after taking the square root, not inside it.")

# %% nbgrader={"grade": true, "grade_id": "test_adagrad_step_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("adagrad_step", adagrad_step)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 9: `rmsprop_step`
#
# `rmsprop_step(param, grad, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0)`, as `torch.optim.RMSprop`
# with its defaults `centered=False`, `momentum=0`.

# %% nbgrader={"grade": false, "grade_id": "rmsprop_step", "locked": false, "schema_version": 3, "solution": true}
def rmsprop_step(param, grad, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    """One RMSProp step, as torch.optim.RMSprop (not centered, no momentum).

    Args:
        param: tensor of any shape.
        grad: tensor of the same shape.
        state: {"square_avg": tensor of param's shape}, the moving average of squared gradients.
        lr, alpha, eps, weight_decay: floats (eps is added outside the square root).
    Returns:
        (new_param, {"square_avg": new_square_avg}); the inputs are not modified.
    """
    ### BEGIN SOLUTION
    g = grad + weight_decay * param
    r = alpha * state["square_avg"] + (1.0 - alpha) * g * g
    return param - lr * g / (r.sqrt() + eps), {"square_avg": r}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_rmsprop_step", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# One step by hand: square_avg = 0.75 * 0 + 0.25 * 2^2 = 1, param = 1 - 0.1 * 2 / 1 = 0.8.
p, s = rmsprop_step(torch.tensor([1.0], dtype=torch.float64), torch.tensor([2.0], dtype=torch.float64),
                    {"square_avg": torch.tensor([0.0], dtype=torch.float64)}, lr=0.1, alpha=0.75, eps=0.0)
expect_close(s["square_avg"], torch.tensor([1.0], dtype=torch.float64), what="the new square_avg",
             hint="alpha is the weight of the OLD average in the moving average.")
expect_close(p, torch.tensor([0.8], dtype=torch.float64), what="the new param")
gen = torch.Generator().manual_seed(3)
p = torch.randn(5, generator=gen, dtype=torch.float64)
tp = p.clone().requires_grad_(True)
opt = torch.optim.RMSprop([tp], lr=0.01, alpha=0.9, eps=1e-4, weight_decay=0.02)
s = {"square_avg": torch.zeros_like(p)}
for step in range(6):
    g = 1e-3 * torch.randn(5, generator=gen, dtype=torch.float64)
    p, s = rmsprop_step(p, g, s, lr=0.01, alpha=0.9, eps=1e-4, weight_decay=0.02)
    tp.grad = g.clone()
    opt.step()
    expect_close(p, tp.detach(), what=f"param after step {step + 1} (vs torch.optim.RMSprop)",
                 hint="Average the squared gradients, and add eps outside the square root.")

# %% nbgrader={"grade": true, "grade_id": "test_rmsprop_step_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("rmsprop_step", rmsprop_step)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 10: `adam_step`
#
# `adam_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)`, as `torch.optim.Adam`
# (`amsgrad=False`; `weight_decay` is the L2 term added to the gradient, not AdamW's decoupled decay).

# %% nbgrader={"grade": false, "grade_id": "adam_step", "locked": false, "schema_version": 3, "solution": true}
def adam_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """One Adam step with bias correction, as torch.optim.Adam.

    Args:
        param: tensor of any shape.
        grad: tensor of the same shape.
        state: {"step": int (updates already made), "exp_avg": tensor, "exp_avg_sq": tensor}.
        lr, eps, weight_decay: floats; betas: (beta1, beta2).
    Returns:
        (new_param, {"step": step + 1, "exp_avg": new_m, "exp_avg_sq": new_v}); the inputs are not modified.
    """
    ### BEGIN SOLUTION
    beta1, beta2 = betas
    g = grad + weight_decay * param
    t = state["step"] + 1
    m = beta1 * state["exp_avg"] + (1.0 - beta1) * g
    v = beta2 * state["exp_avg_sq"] + (1.0 - beta2) * g * g
    m_hat = m / (1.0 - beta1 ** t)
    v_hat = v / (1.0 - beta2 ** t)
    return param - lr * m_hat / (v_hat.sqrt() + eps), {"step": t, "exp_avg": m, "exp_avg_sq": v}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_adam_step", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# The first step by hand: m_hat = g, v_hat = g^2, so the step is lr * sign(g) (here eps = 0).
z = torch.zeros(2, dtype=torch.float64)
p, s = adam_step(torch.tensor([1.0, 1.0], dtype=torch.float64), torch.tensor([-3.0, 0.5], dtype=torch.float64),
                 {"step": 0, "exp_avg": z, "exp_avg_sq": z}, lr=0.1, eps=0.0)
expect_close(p, torch.tensor([1.1, 0.9], dtype=torch.float64), what="param after Adam's first step",
             hint="After one update, the corrected averages must be exactly the gradient and its square: "
                  "check the correction factor and which t it uses.")
expect_close(s["step"], 1, what="the returned step counter")
expect_close(s["exp_avg"], torch.tensor([-0.3, 0.05], dtype=torch.float64), what="exp_avg after one step",
             hint="The state carries the raw moving averages; the correction is applied only to compute the step.")
# Eight steps side by side with torch.optim.Adam, small gradients so that eps matters.
gen = torch.Generator().manual_seed(4)
p = torch.randn(2, 3, generator=gen, dtype=torch.float64)
tp = p.clone().requires_grad_(True)
opt = torch.optim.Adam([tp], lr=0.01, betas=(0.8, 0.95), eps=1e-4, weight_decay=0.1)
s = {"step": 0, "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)}
for step in range(8):
    g = 1e-3 * torch.randn(2, 3, generator=gen, dtype=torch.float64)
    p, s = adam_step(p, g, s, lr=0.01, betas=(0.8, 0.95), eps=1e-4, weight_decay=0.1)
    tp.grad = g.clone()
    opt.step()
    expect_close(p, tp.detach(), what=f"param after step {step + 1} (vs torch.optim.Adam)",
                 hint="t counts the updates including this one, in both corrections; eps is added after the "
                      "square root.")

# %% nbgrader={"grade": true, "grade_id": "test_adam_step_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("adam_step", adam_step)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 5. The optimizers race: an ill-conditioned valley and the Rosenbrock banana
#
# Two test functions in the plane, each with its gradient written out by hand:
# - the quadratic $L = \frac12(x^2 + 25\,y^2)$, condition number 25, started at $(-4.5, 1)$;
# - Rosenbrock's function $L = (1-x)^2 + 100\,(y - x^2)^2$, a curved, narrow valley whose minimum is at
#   $(1, 1)$, started at $(-1.2, 1)$.
#
# The sliders set the learning rate and momentum of the gradient-based trio (GD, heavy ball, Nesterov) and,
# separately, the learning rate of the adaptive pair (RMSProp, Adam). The adaptive learning rate has the units of
# $\theta$ while the others have the units of $\theta^2/L$, so one slider cannot serve both. Each panel shows the
# paths on the contour plot, and the loss against the step on a log scale. Things to try on the quadratic:
# - push the learning rate past $2/25 = 0.08$: GD diverges while heavy ball still converges (its limit is
#   $2(1+m)/25$, Kaplan's eq. 4.3.9); Nesterov's limit, $2(1+m)/\big(25(1+2m)\big)$, is lower;
# - set the learning rate to $\epsilon^\star = 4/36 \approx 0.11$ and the momentum to $m^\star = (4/6)^2 \approx 0.44$,
#   the optimum for $\lambda \in [1, 25]$ from Exercise 7;
# - watch RMSProp: once its running average has adapted, every coordinate moves by about the learning rate per
#   step whatever the gradient, so it rattles around the minimum at a distance set by the learning rate
#   (Kaplan's remark that RMSProp turns $\sum_i\lambda_i\theta_i^2$ into something like $\sum_i|\theta_i|$).
#   Adam's momentum damps the rattling; lowering the adaptive learning rate lowers the floor.

# %%
def quadratic(xy):
    return 0.5 * (xy[..., 0] ** 2 + 25.0 * xy[..., 1] ** 2)


def quadratic_grad(xy):
    return xy * torch.tensor([1.0, 25.0], dtype=xy.dtype)


def rosenbrock(xy):
    x, y = xy[..., 0], xy[..., 1]
    return (1 - x) ** 2 + 100.0 * (y - x ** 2) ** 2


def rosenbrock_grad(xy):
    x, y = xy[..., 0], xy[..., 1]
    return torch.stack([-2 * (1 - x) - 400.0 * x * (y - x ** 2), 200.0 * (y - x ** 2)], dim=-1)


PROBLEMS = {
    "ill-conditioned quadratic": dict(loss=quadratic, grad=quadratic_grad, start=(-4.5, 1.0), minimum=(0.0, 0.0),
                                      box=(-5.0, 5.0, -1.6, 1.6)),
    "Rosenbrock": dict(loss=rosenbrock, grad=rosenbrock_grad, start=(-1.2, 1.0), minimum=(1.0, 1.0),
                       box=(-1.6, 1.6, -0.6, 1.6)),
}


def make_optimizers(lr, momentum, adaptive_lr):
    """name -> (step function on (param, grad, state), initial state)."""
    zeros = lambda p: torch.zeros_like(p)
    return {
        "GD": (lambda p, g, s: (sgd_step(p, g, lr), s), lambda p: {}),
        "heavy ball": (lambda p, g, s: momentum_step(p, g, s, lr, momentum), lambda p: {"momentum_buffer": zeros(p)}),
        "Nesterov": (lambda p, g, s: nesterov_step(p, g, s, lr, momentum), lambda p: {"momentum_buffer": zeros(p)}),
        "RMSProp": (lambda p, g, s: rmsprop_step(p, g, s, adaptive_lr, alpha=0.9),
                    lambda p: {"square_avg": zeros(p)}),
        "Adam": (lambda p, g, s: adam_step(p, g, s, adaptive_lr, betas=(0.9, 0.99)),
                 lambda p: {"step": 0, "exp_avg": zeros(p), "exp_avg_sq": zeros(p)}),
    }


def run_optimizer(step, init, problem, n_steps):
    """The path (k + 1, 2) of an optimizer; stops early if it diverges."""
    p = torch.tensor(problem["start"], dtype=torch.float64)
    state, path = init(p), [p]
    for _ in range(n_steps):
        p, state = step(p, problem["grad"](p), state)
        path.append(p)
        if not torch.isfinite(p).all() or p.abs().max() > 1e3:
            break
    return torch.stack(path)


def race(problem_name, lr, momentum, adaptive_lr, n_steps):
    problem = PROBLEMS[problem_name]
    x0, x1, y0, y1 = problem["box"]
    gx, gy = torch.meshgrid(torch.linspace(x0, x1, 200, dtype=torch.float64),
                            torch.linspace(y0, y1, 200, dtype=torch.float64), indexing="xy")
    surface = problem["loss"](torch.stack([gx, gy], dim=-1))
    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.2))
    ax.contour(gx.numpy(), gy.numpy(), torch.log10(surface + 1e-3).numpy(), levels=25, cmap="Greys", linewidths=0.6)
    ax.plot(*problem["minimum"], "k*", ms=12)
    for i, (name, (step, init)) in enumerate(make_optimizers(lr, momentum, adaptive_lr).items()):
        try:
            path = run_optimizer(step, init, problem, n_steps)
        except NotImplementedError:
            print(f"{name}: implement its exercise to see it race.")
            continue
        inside = path[(path.abs() < 1e3).all(dim=1)]
        ax.plot(inside[:, 0].numpy(), inside[:, 1].numpy(), ".-", ms=2, lw=1, color=f"C{i}", label=name)
        losses = problem["loss"](path)
        ax_loss.semilogy(losses.clamp(min=1e-16).numpy(), color=f"C{i}", label=name)
        if len(path) <= n_steps:
            ax_loss.plot(len(path) - 1, losses[-1].clamp(min=1e-16, max=1e16).item(), "x", color=f"C{i}", ms=10)
    ax.set(xlim=(x0, x1), ylim=(y0, y1), title=f"{problem_name}: paths")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="lower right")
    ax_loss.set(xlabel="step", ylabel="loss (log scale)", ylim=(1e-12, 1e4), title="loss vs step (x: diverged)")
    plt.tight_layout()
    plt.show()


interact(race, problem_name=widgets.fixed("ill-conditioned quadratic"),
         lr=widgets.FloatSlider(value=0.05, min=0.005, max=0.2, step=0.005, readout_format=".3f"),
         momentum=widgets.FloatSlider(value=0.6, min=0.0, max=0.99, step=0.01),
         adaptive_lr=widgets.FloatLogSlider(value=0.1, base=10, min=-3, max=0),
         n_steps=widgets.IntSlider(value=150, min=10, max=500, step=10));

# %% [markdown]
# On Rosenbrock the stable learning rate of GD is tiny (near the start the largest Hessian eigenvalue is about
# 1500, so GD needs a learning rate below about $2/1500$), so the plain methods need thousands of steps to crawl along the banana; momentum helps a lot here,
# and the adaptive methods, whose step size is set in units of $\theta$, handle the change of scale along the
# valley without retuning.

# %%
interact(race, problem_name=widgets.fixed("Rosenbrock"),
         lr=widgets.FloatLogSlider(value=1e-3, base=10, min=-4, max=-2.5, readout_format=".5f"),
         momentum=widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01),
         adaptive_lr=widgets.FloatLogSlider(value=0.02, base=10, min=-3, max=-0.5),
         n_steps=widgets.IntSlider(value=800, min=100, max=3000, step=100));

# %% [markdown]
# ## 6. How noisy is a mini-batch gradient? The gradient noise scale
#
# With per-example gradients $\nabla L_{x}(\theta)$, the full gradient is their mean $G$ and their covariance is
# $\Sigma = \mathbb E[(\nabla L_x - G)(\nabla L_x - G)^\top]$ (Kaplan §4.5). A mini-batch of $B$ independent
# examples gives $G_B$ with $\mathbb E[G_B] = G$ and covariance $\Sigma/B$, so the relative squared error is
#
# $$\frac{\mathbb E|G_B - G|^2}{|G|^2} = \frac{\operatorname{tr}\Sigma}{B\,|G|^2} = \frac{\mathcal B_{\text{simple}}}{B},
#   \qquad \mathcal B_{\text{simple}} = \frac{\operatorname{tr}\Sigma}{|G|^2}.$$
#
# Kaplan derives more: minimizing the expected loss after one step over the step size gives an improvement
# $\Delta L_{\max}/(1 + \mathcal B_{\text{noise}}/B)$ with $\mathcal B_{\text{noise}} = \operatorname{tr}(H\Sigma)/(G^\top H G)$,
# which becomes $\mathcal B_{\text{simple}}$ when the Hessian is a multiple of the identity. Batches much smaller
# than the noise scale are noise-dominated, and doubling $B$ nearly doubles the progress per step; batches much
# larger waste computation. The noise scale predicts the *critical batch size* where the trade-off turns.
#
# ### Exercise 11: `gradient_noise_scale`
#
# Implement `gradient_noise_scale(per_example_grads)`: the input has shape `(N, ...)`, one gradient per example
# ($N \ge 2$) of any parameter shape. Flatten each gradient; let $G$ be the mean over the $N$ examples and
# $\operatorname{tr}\Sigma$ the sum over all parameter components of the per-example variance **with Bessel's
# correction** (divide by $N - 1$). Return $\operatorname{tr}\Sigma / |G|^2$ as a 0-d tensor of the input's dtype.
# (No need to form the covariance matrix: its trace is a sum of variances.)

# %% nbgrader={"grade": false, "grade_id": "gradient_noise_scale", "locked": false, "schema_version": 3, "solution": true}
def gradient_noise_scale(per_example_grads):
    """B_simple = tr(Sigma) / |G|^2 from per-example gradients.

    Args:
        per_example_grads: tensor (N, ...), N >= 2 examples.
    Returns:
        0-d tensor, dtype of the input.
    """
    ### BEGIN SOLUTION
    g = per_example_grads.reshape(per_example_grads.shape[0], -1)
    mean = g.mean(dim=0)
    trace = ((g - mean) ** 2).sum() / (g.shape[0] - 1)
    return trace / (mean ** 2).sum()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gradient_noise_scale", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# By hand: G = [2, 1], |G|^2 = 5; variances (N - 1 = 1): [2, 2], trace 4; B_simple = 4 / 5.
grads = torch.tensor([[1.0, 0.0], [3.0, 2.0]], dtype=torch.float64)
expect_close(gradient_noise_scale(grads), 0.8, what="gradient_noise_scale([[1, 0], [3, 2]])",
             hint="The noise is the unbiased variance across examples, summed over parameters; the signal is the squared "
                  "norm of the mean gradient.")
grads = torch.tensor([[[1.0, 2.0]], [[1.0, 4.0]], [[4.0, 0.0]]], dtype=torch.float64)
# G = [2, 2], |G|^2 = 8; variances: [3, 4], trace 7.
expect_close(gradient_noise_scale(grads), 7.0 / 8.0, what="gradient_noise_scale of three (1, 2)-shaped gradients",
             hint="Flatten each example's gradient; average over examples only.")
expect_close(gradient_noise_scale(torch.ones(4, 3, dtype=torch.float64)), 0.0,
             what="gradient_noise_scale of identical gradients")

# %% nbgrader={"grade": true, "grade_id": "test_gradient_noise_scale_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("gradient_noise_scale", gradient_noise_scale)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **Demo: the noise scale predicts the error of a batch gradient.** Linear regression with squared loss
# $\frac12(x\cdot w - y)^2$ on 20 000 examples, at a parameter $w$ that is not yet optimal. Per-example
# gradients are $(x\cdot w - y)\,x$. For each batch size we draw 400 batches (with replacement) and compare the
# measured $\mathbb E|G_B - G|^2/|G|^2$ with $\mathcal B_{\text{simple}}/B$. Move the slider to go closer to the
# optimum: the signal $|G|$ shrinks while the noise does not, and the noise scale (the useful batch size) grows.

# %%
gen = torch.Generator().manual_seed(5)
N, D = 20000, 10
X_reg = torch.randn(N, D, generator=gen, dtype=torch.float64)
w_true = torch.randn(D, generator=gen, dtype=torch.float64)
y_reg = X_reg @ w_true + 0.5 * torch.randn(N, generator=gen, dtype=torch.float64)
w_start = torch.randn(D, generator=gen, dtype=torch.float64)
w_fit = torch.linalg.lstsq(X_reg, y_reg.unsqueeze(1)).solution.squeeze(1)


def show_noise_scale(progress=0.0):
    w = (1 - progress) * w_start + progress * w_fit
    per_example = (X_reg @ w - y_reg).unsqueeze(1) * X_reg
    G = per_example.mean(dim=0)
    try:
        b_simple = float(gradient_noise_scale(per_example))
    except NotImplementedError:
        print("Implement gradient_noise_scale to see this demo.")
        return
    batch_sizes = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    g = torch.Generator().manual_seed(6)
    measured = []
    for B in batch_sizes:
        idx = torch.randint(0, N, (400, B), generator=g)
        GB = per_example[idx].mean(dim=1)
        measured.append(((GB - G) ** 2).sum(dim=1).mean().item() / (G ** 2).sum().item())
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.loglog(batch_sizes, measured, "o", label="measured E|G_B - G|^2 / |G|^2")
    ax.loglog(batch_sizes, [b_simple / B for B in batch_sizes], "-", label="B_simple / B")
    ax.axvline(b_simple, color="k", ls=":", label=f"B_simple = {b_simple:.1f}")
    ax.axhline(1.0, color="grey", lw=0.5)
    ax.set(xlabel="batch size B", ylabel="relative squared error", title=f"progress to the optimum: {progress:.2f}")
    ax.legend(fontsize=8)
    plt.tight_layout()
    plt.show()


interact(show_noise_scale, progress=(0.0, 0.99, 0.03));

# %% [markdown]
# ## 7. Second-order steps: Newton and the natural gradient
#
# **Newton's method** (Kaplan §4.1, §4.7) rescales the gradient by the inverse Hessian,
# $\theta \leftarrow \theta - \epsilon H^{-1} g$. On a quadratic with $\epsilon = 1$ it lands on the minimum in one
# step whatever the condition number: in the language of §3 it takes "the infinite root" of $\kappa$. Its step
# size is dimensionless, and it does not care how the parameters are scaled: if we replace $\theta$ by
# $\phi = S\theta$ for an invertible $S$, the gradient becomes $S^{-\top} g$ and the Hessian $S^{-\top} H S^{-1}$,
# and the Newton step in $\phi$ maps back to exactly the Newton step in $\theta$. Gradient descent has no such
# invariance. The price: forming and solving with $H$ costs $O(P^2)$ memory and $O(P^3)$ time for $P$ parameters,
# and away from a minimum $H$ need not be positive definite.
#
# **The natural gradient** (Kaplan §4.6) asks for the steepest descent direction when distances between
# parameters are measured by how much the *model's distribution* changes, $D_{\text{KL}}(p_{\theta+\delta}\|p_\theta)
# \approx \frac12\delta^\top F\delta$, with the Fisher information $F = \mathbb E_{p_\theta}[\nabla\log p_\theta\,\nabla\log p_\theta^\top]$.
# Minimizing $g^\top\delta$ at fixed $\delta^\top F\delta$ (a Lagrange multiplier does it) gives
# $\delta \propto -F^{-1} g$.
#
# **Logistic regression, where the two coincide.** For the mean loss
# $L(w) = \frac1N\sum_i\big[\log(1 + e^{x_i\cdot w}) - y_i\,x_i\cdot w\big]$ with $p_i = \sigma(x_i\cdot w)$:
#
# $$g = \frac1N X^\top (p - y), \qquad H = \frac1N X^\top \operatorname{diag}\big(p_i(1-p_i)\big) X .$$
#
# The Hessian does not depend on the labels $y$. The Fisher information of the model's label distribution,
# $\frac1N\sum_i \mathbb E_{y\sim p_i}[(p_i - y)^2]\,x_ix_i^\top$, is the same matrix, since the variance of a Bernoulli
# label is $p_i(1 - p_i)$. So here a Newton step *is* a natural-gradient step. (Careful: Kaplan warns that the
# "empirical Fisher", with the observed $y_i$ in place of the expectation, $\frac1N\sum_i (p_i-y_i)^2 x_ix_i^\top$,
# is a different matrix.)
#
# ### Exercise 12: `logistic_newton_step`
#
# Implement `logistic_newton_step(w, X, y, lr=1.0, damping=0.0)` with `w` of shape `(D,)`, `X` of shape
# `(N, D)`, `y` of shape `(N,)` (0/1 labels, dtype of `X`): return
# $w - \text{lr}\cdot(H + \text{damping}\cdot I)^{-1} g$ with $g$ and $H$ the **means** above, shape `(D,)`. Solve
# the linear system with `torch.linalg.solve` rather than inverting $H$. Use `torch.sigmoid` for $\sigma$.

# %% nbgrader={"grade": false, "grade_id": "logistic_newton_step", "locked": false, "schema_version": 3, "solution": true}
def logistic_newton_step(w, X, y, lr=1.0, damping=0.0):
    """One damped Newton (= natural-gradient) step on the mean logistic-regression loss.

    Args:
        w: tensor (D,), the weights.
        X: tensor (N, D), the inputs.
        y: tensor (N,), labels in {0, 1}, dtype of X.
        lr: step size (1 = pure Newton); damping: added to the Hessian's diagonal.
    Returns:
        tensor (D,), the new weights.
    """
    ### BEGIN SOLUTION
    p = torch.sigmoid(X @ w)
    n = X.shape[0]
    grad = X.T @ (p - y) / n
    hess = (X.T * (p * (1 - p))) @ X / n + damping * torch.eye(X.shape[1], dtype=X.dtype, device=X.device)
    return w - lr * torch.linalg.solve(hess, grad)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_logistic_newton_step", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# By hand: one feature, x = +1 (label 1) and x = -1 (label 0), w = 0: p = 1/2, g = -1/2, H = 1/4, step to w = 2.
X = torch.tensor([[1.0], [-1.0]], dtype=torch.float64)
y = torch.tensor([1.0, 0.0], dtype=torch.float64)
expect_close(logistic_newton_step(torch.zeros(1, dtype=torch.float64), X, y), torch.tensor([2.0], dtype=torch.float64),
             what="logistic_newton_step(0, X=[[1], [-1]], y=[1, 0])",
             hint="Newton's step solves a linear system with the Hessian of the mean loss; it does not multiply by it.")
expect_close(logistic_newton_step(torch.zeros(1, dtype=torch.float64), X, y, lr=0.5, damping=0.25),
             torch.tensor([0.5], dtype=torch.float64), what="the same with lr=0.5, damping=0.25",
             hint="Damping adds damping * I to H before solving.")
X = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]], dtype=torch.float64)
y = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
w = torch.tensor([0.5, -0.3], dtype=torch.float64)
loss = lambda v: (torch.nn.functional.softplus(X @ v) - y * (X @ v)).mean()
expected = w - torch.linalg.solve(torch.autograd.functional.hessian(loss, w), torch.autograd.functional.jacobian(loss, w))
expect_close(logistic_newton_step(w, X, y), expected, what="Newton step on 3 points (vs autograd Hessian)",
             hint="Weight each x_i x_i^T by p_i (1 - p_i) in the Hessian.")

# %% nbgrader={"grade": true, "grade_id": "test_logistic_newton_step_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("logistic_newton_step", logistic_newton_step)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **Demo: Newton ignores the scale of the features.** Logistic regression on 400 points with two features,
# the second one multiplied by `scale`. Gradient descent must pick its learning rate for the steepest direction
# (we give it the best stable one, from the largest Hessian eigenvalue at the start) and crawls along the other;
# Adam partly fixes the scaling; Newton's steps do not depend on it at all. Drag the slider.

# %%
gen = torch.Generator().manual_seed(7)
X_raw = torch.randn(400, 2, generator=gen, dtype=torch.float64)
y_log = (torch.rand(400, generator=gen, dtype=torch.float64)
         < torch.sigmoid(X_raw @ torch.tensor([1.5, -2.0], dtype=torch.float64))).to(torch.float64)


def logistic_loss(w, X):
    z = X @ w
    return (torch.nn.functional.softplus(z) - y_log * z).mean()


def show_newton(scale=10.0):
    X = X_raw * torch.tensor([1.0, scale], dtype=torch.float64)
    try:
        w_star = torch.zeros(2, dtype=torch.float64)
        for _ in range(25):
            w_star = logistic_newton_step(w_star, X, y_log)
        sgd_step(w_star, w_star, 0.0), adam_step(w_star, w_star, {"step": 0, "exp_avg": w_star, "exp_avg_sq": w_star}, 0.0)
    except NotImplementedError:
        print("Implement logistic_newton_step, sgd_step and adam_step to see this demo.")
        return
    best = logistic_loss(w_star, X).item()
    lam_max = torch.linalg.eigvalsh(X.T @ X / (4 * len(X)))[-1].item()  # Hessian at w = 0 (p = 1/2)
    runs = {}
    w = torch.zeros(2, dtype=torch.float64)
    runs["Newton"] = [w]
    for _ in range(40):
        w = logistic_newton_step(w, X, y_log)
        runs["Newton"].append(w)
    for name in ["GD, lr = 1.9 / lam_max", "Adam, lr = 0.05"]:
        w, s = torch.zeros(2, dtype=torch.float64), {"step": 0, "exp_avg": torch.zeros(2, dtype=torch.float64),
                                                     "exp_avg_sq": torch.zeros(2, dtype=torch.float64)}
        runs[name] = [w]
        for _ in range(40):
            p = torch.sigmoid(X @ w)
            g = X.T @ (p - y_log) / len(X)
            w, s = ((sgd_step(w, g, 1.9 / lam_max), s) if name.startswith("GD") else adam_step(w, g, s, 0.05))
            runs[name].append(w)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for name, path in runs.items():
        gaps = [max(logistic_loss(v, X).item() - best, 1e-16) for v in path]
        ax.semilogy(gaps, ".-", label=name)
    ax.set(xlabel="step", ylabel="loss - optimal loss", ylim=(1e-16, 1.0), title=f"feature 2 scaled by {scale:g}")
    ax.legend(fontsize=8)
    plt.tight_layout()
    plt.show()


interact(show_newton, scale=widgets.FloatLogSlider(value=10.0, base=10, min=0, max=2));

# %% [markdown]
# ## 8. Make it work: a digit classifier on a budget of 40 Adam steps
#
# ### Exercise 13 (make it work): `train_digits_adam`
#
# Your `adam_step` now trains a real network. Implement
# `train_digits_adam(X, y, num_classes, steps=40, hidden=64, lr=0.05, seed=0)`: a two-layer ReLU network
# $\mathrm{relu}(X W_1 + b_1) W_2 + b_2$ with weights drawn from `torch.Generator().manual_seed(seed)`, trained
# on the whole training set at every step (full batch) for exactly `steps` steps on the mean softmax
# cross-entropy (`torch.nn.functional.cross_entropy`). Take the gradients from autograd (this chapter is about
# the update, not the gradient), and update **every** parameter with **your** `adam_step`, each with its own
# state. Return `(W1, b1, W2, b2)`, detached, in `X`'s dtype.
#
# **Target.** The data are the 8x8 digits (`course.data.load_digits`). With a budget of **40 steps** (the
# grader passes `steps=40`), the network must classify **at least 92%** of held-out digits correctly. The
# grader trains it under two seeds of its own, on train/test splits of its own, and measures the accuracy on
# test digits your notebook never receives. The width, the initialization and the learning rate are yours
# (`hidden <= 256`); the reference, with the defaults above, scores about 96% and takes well under a second.
#
# With so few steps, the start matters: this is where Adam's bias correction earns its place.
#
# <details><summary>Hint 1: the loop</summary>
#
# Keep the parameters as plain tensors. At each step make leaves that require gradients from them, compute the
# loss, get the four gradients with `torch.autograd.grad`, and replace each parameter (detached) by what your
# `adam_step` returns, keeping the state it returns for the next step.
# </details>
#
# <details><summary>Hint 2: the start</summary>
#
# Random weights scaled to the layer's width (a standard deviation of $\sqrt{2/D}$ for $W_1$, $\sqrt{1/H}$ for
# $W_2$) and zero biases. Zero weights would leave every hidden unit identical, and with a ReLU, silent.
# </details>

# %% nbgrader={"grade": false, "grade_id": "train_digits_adam", "locked": false, "schema_version": 3, "solution": true}
def train_digits_adam(X, y, num_classes, steps=40, hidden=64, lr=0.05, seed=0):
    """Train relu(X @ W1 + b1) @ W2 + b2 for `steps` full-batch steps of your adam_step on the cross-entropy.

    Args:
        X: (N, D) float training inputs; y: (N,) int64 labels in 0..num_classes-1.
        num_classes: C; steps: the budget; hidden: H; lr: Adam's learning rate; seed: seed of the initial weights.
    Returns:
        (W1, b1, W2, b2), shapes (D, H), (H,), (H, C), (C,), detached, in X's dtype.
    """
    ### BEGIN SOLUTION
    g = torch.Generator().manual_seed(seed)
    D = X.shape[1]
    params = [torch.randn(D, hidden, generator=g, dtype=X.dtype) * math.sqrt(2.0 / D),
              torch.zeros(hidden, dtype=X.dtype),
              torch.randn(hidden, num_classes, generator=g, dtype=X.dtype) * math.sqrt(1.0 / hidden),
              torch.zeros(num_classes, dtype=X.dtype)]
    states = [{"step": 0, "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)} for p in params]
    for _ in range(steps):
        leaves = [p.detach().requires_grad_(True) for p in params]
        W1, b1, W2, b2 = leaves
        loss = torch.nn.functional.cross_entropy(torch.relu(X @ W1 + b1) @ W2 + b2, y)
        grads = torch.autograd.grad(loss, leaves)
        updated = [adam_step(p.detach(), gr, st, lr) for p, gr, st in zip(leaves, grads, states)]
        params = [new for new, _ in updated]
        states = [st for _, st in updated]
    return tuple(p.detach() for p in params)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_train_digits_adam", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.data import load_digits

X_digits, y_digits, X_digits_test, y_digits_test = load_digits(0.25, seed=0)
n_threads = torch.get_num_threads()
torch.set_num_threads(1)  # small matrices: one thread is about as fast, and leaves the other cores free
try:
    trained = train_digits_adam(X_digits, y_digits, 10, steps=40, seed=0)
finally:
    torch.set_num_threads(n_threads)
expect_true(isinstance(trained, (tuple, list)) and len(trained) == 4, "train_digits_adam should return (W1, b1, W2, b2).")
W1, b1, W2, b2 = trained
digits_accuracy = ((torch.relu(X_digits_test @ W1 + b1) @ W2 + b2).argmax(dim=1) == y_digits_test).double().mean().item()
print(f"accuracy on 450 test digits after 40 Adam steps: {digits_accuracy:.1%} (target 92%)")
expect_true(digits_accuracy >= 0.92,
            f"accuracy {digits_accuracy:.1%} after 40 steps is below the 92% target: check that every parameter "
            "gets its own state, that the state is carried from step to step, and Adam's first steps.")

# %% nbgrader={"grade": true, "grade_id": "test_train_digits_adam_2", "locked": true, "points": 5, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("train_digits_adam", train_digits_adam)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: the first steps, with and without the correction
#
# The test accuracy after each of the 40 steps, for your Adam and for the same update with the bias correction
# removed (written out below, not yours). Without the correction the first steps are several times too large
# (up to about $6.5\times$ with the default betas around step 10), and the network spends its budget recovering.

# %%
def _adam_without_correction(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8):
    m = betas[0] * state["exp_avg"] + (1 - betas[0]) * grad
    v = betas[1] * state["exp_avg_sq"] + (1 - betas[1]) * grad * grad
    return param - lr * m / (v.sqrt() + eps), {"step": state["step"] + 1, "exp_avg": m, "exp_avg_sq": v}


def accuracy_curve(step_fn, lr=0.05, steps=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    D = X_digits.shape[1]
    params = [torch.randn(D, 64, generator=g) * math.sqrt(2.0 / D), torch.zeros(64),
              torch.randn(64, 10, generator=g) * math.sqrt(1.0 / 64), torch.zeros(10)]
    states = [{"step": 0, "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)} for p in params]
    curve = []
    for _ in range(steps):
        leaves = [p.detach().requires_grad_(True) for p in params]
        loss = torch.nn.functional.cross_entropy(torch.relu(X_digits @ leaves[0] + leaves[1]) @ leaves[2] + leaves[3],
                                                 y_digits)
        grads = torch.autograd.grad(loss, leaves)
        updated = [step_fn(p.detach(), gr, st, lr) for p, gr, st in zip(leaves, grads, states)]
        params, states = [u[0] for u in updated], [u[1] for u in updated]
        W1, b1, W2, b2 = params
        curve.append(((torch.relu(X_digits_test @ W1 + b1) @ W2 + b2).argmax(1) == y_digits_test).double().mean().item())
    return curve


with needs_exercises():
    plt.figure(figsize=(6, 3.5))
    plt.plot(range(1, 41), accuracy_curve(adam_step), label="your adam_step")
    plt.plot(range(1, 41), accuracy_curve(_adam_without_correction), label="without bias correction")
    plt.axhline(0.92, color="gray", ls=":", label="target 92%")
    plt.xlabel("Adam step")
    plt.ylabel("test accuracy")
    plt.title("digits, full batch, lr = 0.05")
    plt.legend()
    plt.show()

# %% [markdown]
# ### Concept question 1: `bias_correction_answer`
#
# What does dividing Adam's moving averages by $1 - \beta^t$ fix?
#
# - **a.** The noise of mini-batch gradients: it turns the noisy average into an unbiased estimate of the full
#   gradient.
# - **b.** The averages start at zero, so during the first steps they are pulled toward zero; the division turns
#   them back into proper weighted averages of the gradients seen so far.
# - **c.** The bias that the small $\varepsilon$ in the denominator introduces into the step.
# - **d.** Adam's tendency to converge to a slightly wrong point in the long run; the correction matters most
#   late in training.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "bias_correction_answer", "locked": false, "schema_version": 3, "solution": true}
def bias_correction_answer():
    """Your answer to concept question 1: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_bias_correction_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(bias_correction_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_bias_correction_answer_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("bias_correction_answer", bias_correction_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Concept question 2: `momentum_step_size_answer`
#
# Heavy ball (`momentum_step`) with learning rate $\epsilon$ and momentum $m = 0.9$ rolls down a long, straight
# slope where the gradient is the same $g$ at every step. After many steps, how far does each step move?
#
# - **a.** $\epsilon g$: momentum only changes the direction of the steps, not their length.
# - **b.** $\epsilon g\,(1 - m) = 0.1\,\epsilon g$: the velocity is an average of the gradients, which damps
#   the step.
# - **c.** $\epsilon g / (1 - m) = 10\,\epsilon g$: the velocity sums a geometric series of the same gradient.
# - **d.** It keeps growing without bound, since the velocity adds a new gradient at every step.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "momentum_step_size_answer", "locked": false, "schema_version": 3, "solution": true}
def momentum_step_size_answer():
    """Your answer to concept question 2: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_momentum_step_size_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(momentum_step_size_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_momentum_step_size_answer_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("momentum_step_size_answer", momentum_step_size_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## What you built
#
# - `sgd_step`: the update every other optimizer decorates; its step size has awkward units, and on a quadratic it
#   converges at $\frac{\kappa-1}{\kappa+1}$ per step at best.
# - `robbins_monro_schedule`, `sgd_trajectory`: with noisy gradients a constant step leaves a noise floor; steps
#   with $\sum\alpha_k = \infty$ and $\sum\alpha_k^2 < \infty$ converge (on the slides' puzzle, to the running mean).
# - `momentum_step`, `nesterov_step`: torch's SGD with momentum, step for step; `momentum_rate` and
#   `optimal_momentum`: the $2\times2$ analysis that turns $\kappa$ into $\sqrt\kappa$.
# - `adagrad_step`, `rmsprop_step`, `adam_step`: per-coordinate step sizes, epsilon outside the root and Adam's
#   bias correction with $t$ counting the current update, matching `torch.optim` to rounding.
# - `gradient_noise_scale`: $\operatorname{tr}\Sigma/|G|^2$, the batch size beyond which bigger batches stop paying off.
# - `logistic_newton_step`: Newton's method, here also the natural gradient, blind to how the features are scaled.
# - `train_digits_adam`: your Adam training a digit classifier to 92% in 40 steps, where the bias correction you
#   derived decides whether the first steps help or hurt.
#
# **Next:** chapter 06 (training deep networks) puts these optimizers to work on deeper models and meets the
# other half of the conditioning story: initialization and normalization layers, which shape the loss landscape
# so that the optimizer has less to fix.
