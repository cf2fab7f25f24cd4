# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Finite differences, forward and reverse mode
#
# Every training step of a network needs the gradient of a loss with respect to millions of
# parameters. This chapter takes apart the machinery that delivers it. We start with the method that
# needs no machinery at all (nudge an input, watch the output) and see why it is too inaccurate and too
# slow to train with, although it remains the standard way to *test* a gradient. Then we build the two
# flavours of automatic differentiation ourselves: forward mode, which pushes derivatives along with the
# values, and reverse mode (backpropagation), which records the computation and sweeps back through it
# once. Finally we do by hand, with matrices, what `loss.backward()` does for a two-layer network.
#
# **Learning goals**
# - Derive the truncation error of forward and central differences from Taylor series, model the
#   round-off error, and predict the step $h$ that minimizes their sum; see both on a log-log plot.
# - Check any gradient numerically, coordinate by coordinate.
# - Implement forward-mode differentiation with **dual numbers**, and compute directional derivatives
#   (Jacobian-vector products) with it.
# - Build a small **reverse-mode engine**: a computation graph of scalar nodes, a local chain-rule step
#   per operation, a topological sort, and gradients that *accumulate* when a node is used more than once.
# - Derive the backward pass of an affine layer and of a two-layer ReLU network with matrix calculus,
#   check it against autograd, and train the network with it on data no linear model can fit.
# - Explain why reverse mode wins for a scalar loss of many parameters, and when forward mode wins instead.
#
# **Notes followed.** Kaplan, *Notes on Contemporary Machine Learning for Physicists*, §1.4
# (algorithmic differentiation and backprop: why symbolic differentiation and finite differences fall
# short, the chain rule propagated forward or backward, the cost of backprop in a two-layer network);
# the slides *Part II: Deep Learning*, section "Tools: automatic differentiation" (four ways to take
# derivatives, the forward primal and tangent traces, the cost of forward and reverse mode);
# *CS 182/282A discussion worksheets*, discussion 3, §1 "Mechanical backpropagation" (gradients of a
# linear layer and of its input, backpropagation through a ReLU, adding the contributions of two paths);
# the deep-learning textbook, §2.1 "Differentiation" (the chain rule with the transposed Jacobian, the
# computational graph, summing over paths).
#
# **Conventions used throughout.** Derivatives are checked in float64. For a scalar function of a
# tensor, the gradient has the shape of the tensor (torch's layout, not the transposed Jacobian some notes
# use). The engines of sections 2 and 3 work on Python floats, one number per node. What a statement fixes
# is graded: functions on tensors return the dtype, shape and device of their input, and a function asked
# for floats returns plain Python floats, not 0-d tensors.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import math
import time
import numpy as np
import torch
import matplotlib.pyplot as plt
import ipywidgets as widgets
from course.checks import expect_close, expect_true, expect_shape, expect_raises
from course.demos import interact, needs_exercises

# %% [markdown]
# ## 1. Finite differences
#
# The slides list four ways to get a derivative: by hand, numerically, symbolically, and
# automatically. The numerical way comes straight from the definition
# $f'(x) = \lim_{h \to 0} \big(f(x+h) - f(x)\big)/h$: pick a small $h$ and skip the limit.
#
# **Truncation error.** Taylor's theorem gives
#
# $$f(x \pm h) = f(x) \pm h f'(x) + \frac{h^2}{2} f''(x) \pm \frac{h^3}{6} f'''(x) + O(h^4).$$
#
# Subtract $f(x)$ from the "+" line and divide by $h$: the **forward difference**
#
# $$D_h^{+} f(x) = \frac{f(x+h) - f(x)}{h} = f'(x) + \frac{h}{2} f''(x) + O(h^2)$$
#
# is off by a term proportional to $h$ (first order). Subtract the "−" line from the "+" line instead:
# the even powers cancel, and the **central difference**
#
# $$D_h^{c} f(x) = \frac{f(x+h) - f(x-h)}{2h} = f'(x) + \frac{h^2}{6} f'''(x) + O(h^4)$$
#
# is off by a term proportional to $h^2$ (second order). The two sample points are $2h$ apart, hence the
# $2h$ in the denominator. Halving $h$ halves the error of the first and quarters the error of the second.
#
# **Round-off error.** A computer does not return $f(x)$ but $f(x)(1 + \delta)$ with
# $|\delta| \lesssim \epsilon$, the machine epsilon ($\epsilon \approx 2.2 \times 10^{-16}$ in float64,
# $1.2 \times 10^{-7}$ in float32). The difference of two nearly equal numbers keeps their absolute
# error, about $2\epsilon |f|$ in the worst case, and dividing by a small $h$ blows it up. The total
# error is therefore roughly
#
# $$E_{+}(h) \approx \frac{h}{2}|f''| + \frac{2\epsilon |f|}{h}, \qquad
#   E_{c}(h) \approx \frac{h^2}{6}|f'''| + \frac{\epsilon |f|}{h}.$$
#
# Setting $dE/dh = 0$ gives the best steps
#
# $$h^\star_{+} = 2\sqrt{\frac{\epsilon |f|}{|f''|}} \sim 10^{-8}, \qquad
#   h^\star_{c} = \left(\frac{3 \epsilon |f|}{|f'''|}\right)^{1/3} \sim 10^{-5}$$
#
# (the orders of magnitude hold when $f$ and its derivatives are of order one). At its best step the
# forward difference keeps only about half of the 16 digits, the central one about two thirds. Making
# $h$ smaller than $h^\star$ makes things *worse*. Kaplan's example in §1.4 is extreme: for
# $f(x) = 10^{10} + x^2$ the large constant makes $\epsilon|f| \approx 2 \times 10^{-6}$, and the
# forward difference recovers about three digits of $f'(10/9) = 2.2\overline{2}$ at best, whatever the step.
#
# ### Exercise 1: `forward_difference`
#
# Implement `forward_difference(f, x, h)` $= \big(f(x + h) - f(x)\big)/h$. Here `f` is an elementwise
# torch function (like `torch.sin`), `x` a tensor of points of any shape, and `h` a number or a tensor
# that broadcasts against `x`. Return a tensor of estimates of $f'(x)$, one per point, in `x`'s dtype.
# A negative `h` is allowed (it gives a backward difference).

# %% nbgrader={"grade": false, "grade_id": "forward_difference", "locked": false, "schema_version": 3, "solution": true}
def forward_difference(f, x, h):
    """Forward-difference estimate (f(x + h) - f(x)) / h of f'(x), elementwise.

    Args:
        f: elementwise function of a tensor.
        x: tensor of points, any shape.
        h: step, a number or a tensor broadcastable against x.
    Returns:
        tensor of estimates, shape of x (broadcast with h).
    """
    ### BEGIN SOLUTION
    return (f(x + h) - f(x)) / h
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_forward_difference", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# For f(x) = x^2 the forward difference is exactly 2x + h.
x = torch.tensor([1.0, 3.0], dtype=torch.float64)
expect_close(forward_difference(lambda t: t ** 2, x, 0.5), torch.tensor([2.5, 6.5], dtype=torch.float64),
             what="forward_difference(x^2, [1, 3], h=0.5)",
             hint="(f(x + h) - f(x)) / h: for x^2 this is 2x + h exactly.")
got = forward_difference(torch.sin, torch.tensor([0.0, 1.0], dtype=torch.float64), 1e-6)
expect_close(got, torch.cos(torch.tensor([0.0, 1.0], dtype=torch.float64)), rtol=1e-5,
             what="forward_difference(sin, [0, 1], h=1e-6) against cos")

# %% nbgrader={"grade": true, "grade_id": "test_forward_difference_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("forward_difference", forward_difference)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2: `central_difference`
#
# Implement `central_difference(f, x, h)` $= \big(f(x + h) - f(x - h)\big)/(2h)$, with the same
# arguments and conventions as `forward_difference`.

# %% nbgrader={"grade": false, "grade_id": "central_difference", "locked": false, "schema_version": 3, "solution": true}
def central_difference(f, x, h):
    """Central-difference estimate (f(x + h) - f(x - h)) / (2h) of f'(x), elementwise.

    Args:
        f: elementwise function of a tensor.
        x: tensor of points, any shape.
        h: step, a number or a tensor broadcastable against x.
    Returns:
        tensor of estimates, shape of x (broadcast with h).
    """
    ### BEGIN SOLUTION
    return (f(x + h) - f(x - h)) / (2 * h)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_central_difference", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# For f(x) = x^3 the central difference is exactly 3x^2 + h^2.
x = torch.tensor([1.0, 2.0], dtype=torch.float64)
expect_close(central_difference(lambda t: t ** 3, x, 0.5), torch.tensor([3.25, 12.25], dtype=torch.float64),
             what="central_difference(x^3, [1, 2], h=0.5)",
             hint="The points x + h and x - h are 2h apart: divide by 2h, not h.")
expect_close(central_difference(lambda t: 5 * t ** 2 - t, x, 0.3), 10 * x - 1,
             what="central_difference(5x^2 - x, [1, 2], h=0.3) (exact for a quadratic)",
             hint="Use f(x - h), not f(x), as the second point.")

# %% nbgrader={"grade": true, "grade_id": "test_central_difference_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("central_difference", central_difference)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: the error as a function of the step
#
# The plot below evaluates both estimates for 200 steps between $10^{-16}$ and $1$ and draws the
# absolute error against the exact derivative on log-log axes. On the right of each V the truncation
# error dominates: a straight line of slope 1 (forward) or 2 (central). On the left the round-off
# error dominates: slope −1, ragged because rounding is erratic. The dotted curves are the error models
# $E_+$ and $E_c$ above and the vertical lines mark $h^\star_+$ and $h^\star_c$. Pick Kaplan's function
# $10^{10} + x^2$ to see the whole curve pushed up by the large $|f|$ (its third derivative is zero, so
# the central difference has no truncation error and no finite optimal step). At the far left, $x + h$
# rounds back to $x$, both differences return 0, and the error is $|f'(x)|$ itself.

# %%
EPS = float(np.finfo(np.float64).eps)
FUNCS = {  # f, f', f'', f''' as functions of a float64 tensor
    "sin(x)": (torch.sin, torch.cos, lambda t: -torch.sin(t), lambda t: -torch.cos(t)),
    "exp(x)": (torch.exp, torch.exp, torch.exp, torch.exp),
    "tanh(x)": (torch.tanh, lambda t: 1 - torch.tanh(t) ** 2,
                lambda t: -2 * torch.tanh(t) * (1 - torch.tanh(t) ** 2),
                lambda t: -2 * (1 - torch.tanh(t) ** 2) * (1 - 3 * torch.tanh(t) ** 2)),
    "1e10 + x^2 (Kaplan)": (lambda t: 1e10 + t ** 2, lambda t: 2 * t, lambda t: 2 + 0 * t, lambda t: 0 * t),
}


def show_fd_errors(name="sin(x)", x=1.0):
    f, d1, d2, d3 = FUNCS[name]
    hs = torch.logspace(-16, 0, 200, dtype=torch.float64)
    xt = torch.full_like(hs, x)
    exact = d1(xt)
    err_fwd = (forward_difference(f, xt, hs) - exact).abs().numpy()
    err_cen = (central_difference(f, xt, hs) - exact).abs().numpy()
    fx, f2, f3 = (abs(float(g(torch.tensor(x, dtype=torch.float64)))) for g in (f, d2, d3))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.loglog(hs, np.where(err_fwd > 0, err_fwd, np.nan), ".", ms=3, color="C0", label="forward difference")
    ax.loglog(hs, np.where(err_cen > 0, err_cen, np.nan), ".", ms=3, color="C1", label="central difference")
    h = hs.numpy()
    ax.loglog(h, h / 2 * f2 + 2 * EPS * fx / h, ":", color="C0", label=r"model $h|f''|/2 + 2\epsilon|f|/h$")
    ax.loglog(h, h ** 2 / 6 * f3 + EPS * fx / h, ":", color="C1", label=r"model $h^2|f'''|/6 + \epsilon|f|/h$")
    if f2 > 1e-12:
        ax.axvline(2 * math.sqrt(EPS * fx / f2), color="C0", ls="--", lw=1, label=r"$h^\star_+$")
    if f3 > 1e-12:
        ax.axvline((3 * EPS * fx / f3) ** (1 / 3), color="C1", ls="--", lw=1, label=r"$h^\star_c$")
    ax.set_ylim(1e-14, 1e6)
    ax.set_xlabel("step h")
    ax.set_ylabel("|estimate - f'(x)|")
    ax.set_title(f"{name} at x = {x:g}")
    ax.legend(fontsize=8, loc="lower left")
    plt.show()


interact(show_fd_errors, name=list(FUNCS), x=(-2.0, 2.0, 0.1));

# %% [markdown]
# ### Exercise 3: `numerical_gradient` (gradient checking)
#
# For a scalar function of many variables, apply the central difference to one coordinate at a time:
#
# $$\big[\nabla f(x)\big]_i \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h},$$
#
# where $e_i$ is the tensor with a 1 at position $i$ and zeros elsewhere. This costs $2n$ evaluations of
# $f$ for $n$ parameters (far too many to train a network with) but it needs nothing except $f$, which
# makes it the referee for hand-written or automatic gradients.
#
# Implement `numerical_gradient(f, x, h=1e-6)`: `f` maps a tensor shaped like `x` (any shape) to a
# scalar (a 0-d tensor or a Python number); return the estimate of $\nabla f(x)$ with the shape and
# dtype of `x`. A loop over the entries of `x` is fine (`x.numel()` of them). Do not change `x` itself:
# perturb a copy, or put every entry you change back.

# %% nbgrader={"grade": false, "grade_id": "numerical_gradient", "locked": false, "schema_version": 3, "solution": true}
def numerical_gradient(f, x, h=1e-6):
    """Central-difference gradient of a scalar function f at x, one coordinate at a time.

    Args:
        f: function of a tensor shaped like x, returning a scalar.
        x: tensor, any shape (left unchanged).
        h: step.
    Returns:
        tensor, shape and dtype of x.
    """
    ### BEGIN SOLUTION
    flat = x.detach().reshape(-1)
    grad = torch.zeros_like(flat)
    for i in range(flat.numel()):
        step = torch.zeros_like(flat)
        step[i] = h
        f_plus = f((flat + step).reshape(x.shape))
        f_minus = f((flat - step).reshape(x.shape))
        grad[i] = torch.as_tensor(f_plus - f_minus, dtype=x.dtype) / (2 * h)
    return grad.reshape(x.shape)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_numerical_gradient", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# For f(x) = sum(x^3) / 3 each entry of the central-difference gradient is exactly x_i^2 + h^2 / 3.
x = torch.tensor([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]], dtype=torch.float64)
x_before = x.clone()
got = numerical_gradient(lambda t: (t ** 3).sum() / 3, x, h=1e-2)
expect_shape(got, (2, 3), what="numerical_gradient of a (2, 3) input")
expect_close(got, x_before ** 2 + 1e-4 / 3, what="numerical_gradient(sum(x^3) / 3, x, h=0.01)",
             hint="Central differences: (f(x + h e_i) - f(x - h e_i)) / (2h), one entry i at a time.")
expect_true(torch.equal(x, x_before), "numerical_gradient changed x in place; perturb a copy instead.")
expect_close(numerical_gradient(lambda t: t[0] * t[1], torch.tensor([2.0, -3.0], dtype=torch.float64), h=0.5),
             torch.tensor([-3.0, 2.0], dtype=torch.float64), what="numerical_gradient(x0 * x1, [2, -3], h=0.5)")

# %% nbgrader={"grade": true, "grade_id": "test_numerical_gradient_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("numerical_gradient", numerical_gradient)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Forward mode: dual numbers
#
# Automatic differentiation avoids both the rounding trouble of finite differences and the expression
# swell of symbolic differentiation. A program, however complicated, is a sequence of elementary
# operations (the *evaluation trace*); each one has a derivative we know exactly, and the chain rule
# strings them together. Numbers are computed, formulas are not.
#
# **Forward mode** carries, next to every intermediate value $v$, its *tangent* $\dot v = dv/dt$: the
# rate at which it changes when the inputs move along a chosen direction. The slides trace
# $y = \log x_1 + x_1 x_2 - \sin x_2$ at $(x_1, x_2) = (2, 5)$ with $\dot x_1 = 1, \dot x_2 = 0$:
#
# | primal | tangent |
# |---|---|
# | $v_1 = \log x_1 = 0.693$ | $\dot v_1 = \dot x_1 / x_1 = 0.5$ |
# | $v_2 = x_1 x_2 = 10$ | $\dot v_2 = \dot x_1 x_2 + x_1 \dot x_2 = 5$ |
# | $v_3 = \sin x_2 = -0.959$ | $\dot v_3 = \cos(x_2)\, \dot x_2 = 0$ |
# | $y = v_1 + v_2 - v_3 = 11.652$ | $\dot y = \dot v_1 + \dot v_2 - \dot v_3 = 5.5 = \partial y / \partial x_1$ |
#
# **Dual numbers** automate the table. Write $a + b\varepsilon$ with a formal symbol obeying
# $\varepsilon^2 = 0$. Then
#
# $$(a + b\varepsilon)(c + d\varepsilon) = ac + (ad + bc)\varepsilon, \qquad
#   g(a + b\varepsilon) = g(a) + g'(a)\, b\, \varepsilon$$
#
# (the second is the Taylor series, cut off by $\varepsilon^2 = 0$). The $\varepsilon$ part obeys
# exactly the rules of the tangent column: sum rule, product rule, chain rule. So a dual number is a pair
# (`value`, `tangent`), and each operation updates the pair. Working out *how* it updates the pair, for
# each operation, is the exercise: expand the operation on $u = a + b\varepsilon$ (and
# $w = c + d\varepsilon$), use $\varepsilon^2 = 0$, and read off the part without $\varepsilon$ (the
# value) and the coefficient of $\varepsilon$ (the tangent). A plain number $c$ in an expression is a
# constant: the dual number $c + 0\varepsilon$.
#
# <details><summary>Hint 1: sums, products, powers</summary>
#
# Multiply out $(a + b\varepsilon)(c + d\varepsilon)$ and drop the $bd\,\varepsilon^2$ term: that is
# the product rule. A power $u^p$ with a number $p$ is a function of $u$ like any other: use the
# Taylor rule $g(a + b\varepsilon) = g(a) + g'(a)\,b\,\varepsilon$ with $g(t) = t^p$.
# </details>
#
# <details><summary>Hint 2: division without a new rule</summary>
#
# Call the quotient $q = u / w = q_0 + q_1\varepsilon$. Then $u = q\,w$: expand the right-hand side with
# the product rule and match the $\varepsilon$ parts of both sides to solve for $q_1$. (Or write
# $u/w = u \cdot w^{-1}$ and combine the rules you already have.)
# </details>
#
# <details><summary>Hint 3: the elementary functions</summary>
#
# Each one is the Taylor rule with its own derivative $g'$: the value is $g(a)$, the tangent is
# $g'(a)$ times the input's tangent $b$, not $g'(a)$ alone (the chain rule). For $\tanh$, its derivative
# can be written with $\tanh$ itself.
# </details>
#
# <details><summary>Hint 4: the whole table</summary>
#
# | operation | value | tangent |
# |---|---|---|
# | $u \pm w$ | $a \pm c$ | $b \pm d$ |
# | $u \cdot w$ | $ac$ | $bc + ad$ |
# | $u / w$ | $a / c$ | $(bc - ad)/c^2$ |
# | $u^p$ ($p$ a number) | $a^p$ | $p\, a^{p-1} b$ |
# | $e^u,\ \log u$ | $e^a,\ \log a$ | $e^a b,\ b / a$ |
# | $\sin u,\ \cos u,\ \tanh u$ | $\sin a,\ \cos a,\ \tanh a$ | $b \cos a,\ -b \sin a,\ (1 - \tanh^2 a)\, b$ |
# </details>
#
# ### Exercise 4: the class `Dual`
#
# Complete the class below. `Dual(value, tangent=0.0)` holds two Python floats in the attributes
# `value` and `tangent` (given). Fill in the operators `+`, `-`, `*`, `/`, unary `-`, `** p` for a
# number `p`, and the methods `exp()`, `log()`, `sin()`, `cos()`, `tanh()`, each returning a **new**
# `Dual`; use the `math` module for the values. The given `_lift` turns a plain number into a constant
# dual number, and the reflected operators (`3.0 + u`, `1.0 - u`, `2.0 * u`, `1.0 / u`) are given:
# they call yours.

# %% nbgrader={"grade": false, "grade_id": "Dual", "locked": false, "schema_version": 3, "solution": true}
class Dual:
    """A dual number value + tangent * eps with eps^2 = 0 (forward-mode differentiation).

    Attributes:
        value: the primal value (a float).
        tangent: the derivative part (a float; 0 for a constant).
    """

    def __init__(self, value, tangent=0.0):
        self.value = value
        self.tangent = tangent

    @staticmethod
    def _lift(other):
        """A Dual stays as it is; a number becomes a constant Dual(number, 0.0)."""
        return other if isinstance(other, Dual) else Dual(other, 0.0)

    def __add__(self, other):
        other = Dual._lift(other)
        ### BEGIN SOLUTION
        return Dual(self.value + other.value, self.tangent + other.tangent)
        ### END SOLUTION

    def __sub__(self, other):
        other = Dual._lift(other)
        ### BEGIN SOLUTION
        return Dual(self.value - other.value, self.tangent - other.tangent)
        ### END SOLUTION

    def __mul__(self, other):
        other = Dual._lift(other)
        ### BEGIN SOLUTION
        return Dual(self.value * other.value, self.tangent * other.value + self.value * other.tangent)
        ### END SOLUTION

    def __truediv__(self, other):
        other = Dual._lift(other)
        ### BEGIN SOLUTION
        quotient = self.value / other.value
        return Dual(quotient, (self.tangent - quotient * other.tangent) / other.value)
        ### END SOLUTION

    def __neg__(self):
        ### BEGIN SOLUTION
        return Dual(-self.value, -self.tangent)
        ### END SOLUTION

    def __pow__(self, p):
        """self ** p for a number p."""
        ### BEGIN SOLUTION
        return Dual(self.value ** p, p * self.value ** (p - 1) * self.tangent)
        ### END SOLUTION

    def exp(self):
        ### BEGIN SOLUTION
        e = math.exp(self.value)
        return Dual(e, e * self.tangent)
        ### END SOLUTION

    def log(self):
        ### BEGIN SOLUTION
        return Dual(math.log(self.value), self.tangent / self.value)
        ### END SOLUTION

    def sin(self):
        ### BEGIN SOLUTION
        return Dual(math.sin(self.value), math.cos(self.value) * self.tangent)
        ### END SOLUTION

    def cos(self):
        ### BEGIN SOLUTION
        return Dual(math.cos(self.value), -math.sin(self.value) * self.tangent)
        ### END SOLUTION

    def tanh(self):
        ### BEGIN SOLUTION
        t = math.tanh(self.value)
        return Dual(t, (1.0 - t * t) * self.tangent)
        ### END SOLUTION

    # Given: a number on the left of an operator (3.0 + u, 1.0 - u, 2.0 * u, 1.0 / u).
    def __radd__(self, other):
        return Dual._lift(other) + self

    def __rsub__(self, other):
        return Dual._lift(other) - self

    def __rmul__(self, other):
        return Dual._lift(other) * self

    def __rtruediv__(self, other):
        return Dual._lift(other) / self

    def __repr__(self):
        return f"Dual({self.value!r}, {self.tangent!r})"


# %% nbgrader={"grade": true, "grade_id": "test_Dual", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# The slides' example y = log(x1) + x1 x2 - sin(x2) at (2, 5), differentiated along x1.
x1, x2 = Dual(2.0, 1.0), Dual(5.0, 0.0)
y = x1.log() + x1 * x2 - x2.sin()
expect_close((y.value, y.tangent), (math.log(2) + 10 - math.sin(5), 5.5), what="(value, tangent) of the slides' example",
             hint="Expand (a + b eps)(c + d eps) with eps^2 = 0: the tangent of a product has two terms.")
# Each rule once, against the derivative worked out by hand at u = 0.7 (tangent 1).
u, a = Dual(0.7, 1.0), 0.7
rules = {
    "u * u": (u * u, 2 * a),
    "u / (1 + u)": (u / (1.0 + u), 1 / (1 + a) ** 2),
    "3 / u": (3.0 / u, -3 / a ** 2),
    "2 - u": (2.0 - u, -1.0),
    "u ** 3": (u ** 3, 3 * a ** 2),
    "-u": (-u, -1.0),
    "exp(u)": (u.exp(), math.exp(a)),
    "log(u)": (u.log(), 1 / a),
    "sin(u)": (u.sin(), math.cos(a)),
    "cos(u)": (u.cos(), -math.sin(a)),
    "tanh(u)": (u.tanh(), 1 - math.tanh(a) ** 2),
}
for name, (out, slope) in rules.items():
    expect_true(isinstance(out, Dual), f"{name} should return a Dual, got {type(out).__name__}.")
    expect_close(out.tangent, slope, what=f"the tangent of {name} at u = 0.7")
# A tangent other than 1 scales every derivative (chain rule): u = 0.7 + 2 eps.
w = Dual(0.7, 2.0)
for name, (out, slope) in {"w ** 3": (w ** 3, 6 * a ** 2), "exp(w)": (w.exp(), 2 * math.exp(a)),
                           "w * w": (w * w, 4 * a), "1 / w": (1.0 / w, -2 / a ** 2)}.items():
    expect_close(out.tangent, slope, what=f"the tangent of {name} for w = Dual(0.7, 2.0)",
                 hint="Every rule multiplies the local derivative by the input's tangent.")

# %% nbgrader={"grade": true, "grade_id": "test_Dual_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("Dual", Dual)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5: `dual_jvp`, a directional derivative in one pass
#
# Seed input $i$ with tangent $v_i$. By the chain rule the output tangent is
#
# $$\dot y = \sum_i \frac{\partial y}{\partial x_i}\, v_i = \nabla f(x) \cdot v,$$
#
# the directional derivative of $f$ along $v$. For a function with several outputs the same pass gives
# $J v$, the **Jacobian-vector product**: one forward pass gives one column combination of the
# Jacobian. A full gradient of $f: \mathbb R^n \to \mathbb R$ needs $n$ passes, one per unit vector
# $e_i$; that is the cost the slides warn about ("it is necessary to execute this forward mode for each
# input dimension").
#
# Implement `dual_jvp(f, x, v)`: `f` takes `n` positional `Dual` arguments and returns a `Dual` (or a
# plain number, when the result does not depend on the inputs); `x` and `v` are lists of `n` floats.
# Return the pair `(f(x), grad f(x) . v)` as two floats, with a directional derivative of `0.0` when
# `f` returns a plain number.

# %% nbgrader={"grade": false, "grade_id": "dual_jvp", "locked": false, "schema_version": 3, "solution": true}
def dual_jvp(f, x, v):
    """Value and directional derivative grad f(x) . v of f, in one forward pass with dual numbers.

    Args:
        f: function of n Dual arguments, returning a Dual (or a number).
        x: list of n floats, the point.
        v: list of n floats, the direction.
    Returns:
        (value, directional derivative), two floats.
    """
    ### BEGIN SOLUTION
    out = f(*[Dual(xi, vi) for xi, vi in zip(x, v)])
    if isinstance(out, Dual):
        return out.value, out.tangent
    return out, 0.0
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_dual_jvp", "locked": true, "points": 1, "schema_version": 3, "solution": false}
def slides_example(x1, x2):
    return x1.log() + x1 * x2 - x2.sin()

value = math.log(2) + 10 - math.sin(5)
expect_close(dual_jvp(slides_example, [2.0, 5.0], [1.0, 0.0]), (value, 5.5),
             what="dual_jvp(slides example, x=(2, 5), v=(1, 0))", hint="Return the pair (value, tangent) of the output.")
expect_close(dual_jvp(slides_example, [2.0, 5.0], [0.0, 1.0]), (value, 2.0 - math.cos(5)),
             what="dual_jvp(slides example, x=(2, 5), v=(0, 1))", hint="Each input carries its own component of v as its tangent.")
expect_close(dual_jvp(slides_example, [2.0, 5.0], [2.0, -1.0]), (value, 2 * 5.5 - (2.0 - math.cos(5))),
             what="dual_jvp(slides example, x=(2, 5), v=(2, -1))",
             hint="The tangent is linear in v: grad f . v = 2 * df/dx1 - df/dx2 here.")
expect_close(dual_jvp(lambda a, b: 7.0, [1.0, 2.0], [1.0, 1.0]), (7.0, 0.0), what="dual_jvp of a constant program")

# %% nbgrader={"grade": true, "grade_id": "test_dual_jvp_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("dual_jvp", dual_jvp)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Reverse mode: a tiny autograd engine
#
# Forward mode answers "how does *everything* change when *this input* moves?". Training asks the
# opposite question: "how does *the loss* change when *any* parameter moves?". Reverse mode answers it
# in a single sweep. Record the computation as a graph: a node per intermediate value, edges from each
# operation's inputs to its output. Then attach to every node $v$ its **adjoint**
# $\bar v = \partial L / \partial v$ (stored in `.grad`), where $L$ is the final output. The output's
# adjoint is $\bar L = 1$. If $v$ feeds the operations producing $w_1, \dots, w_k$, the multivariate
# chain rule (Kaplan's eq. 1.4.4, the textbook's "sum over paths") says
#
# $$\bar v = \sum_{j=1}^{k} \bar w_j \, \frac{\partial w_j}{\partial v}.$$
#
# Two consequences shape the code:
#
# 1. **Accumulate.** Each operation, when it is processed, *adds* its term
#    $\bar w \, \partial w / \partial v$ to the `.grad` of each input. A node used twice (like `a` in
#    `a * a + a`) receives several contributions; assigning instead of adding keeps only the last one.
# 2. **Order.** A node may pass its adjoint on only after it is complete, i.e. after every operation
#    that uses it has been processed. Sorting the graph topologically (every node after its inputs) and
#    walking that order **backwards** from the output guarantees this.
#
# Each operation knows its own local derivatives, so it leaves behind a closure `_backward` that, when
# called, reads `out.grad` ($\bar w$) and adds $\bar w\,\partial w / \partial v$ to the `.grad` of each
# of its inputs $v$. Which local derivative $\partial w / \partial v$ each operation contributes is
# yours to work out (the ReLU's derivative at exactly 0 is taken to be 0, as in torch). Subtraction,
# negation and division need no rules of their own: `a - b = a + (-1) * b` and `a / b = a * b ** -1`
# (given below).
#
# <details><summary>Hint 1: where the local derivatives come from</summary>
#
# They are the derivatives the dual numbers of Exercise 4 carry, read the other way round: forward mode
# multiplies $\partial w/\partial v$ by the input's *tangent*, reverse mode multiplies it by the output's
# *adjoint* and sends the product back to the input. For $w = a + b$ both partial derivatives are 1;
# for $w = a\,b$, $\partial w/\partial a$ is the *other* factor.
# </details>
#
# <details><summary>Hint 2: reuse the output</summary>
#
# Several derivatives are cheapest in terms of the node's own output `out.data`, which the closure can
# see: $\frac{d}{dx} e^x = e^x$ and $\frac{d}{dx}\tanh x = 1 - \tanh^2 x$. For the ReLU, the derivative
# is 1 where the input was positive and 0 elsewhere.
# </details>
#
# <details><summary>Hint 3: the whole table</summary>
#
# | `out =` | adds to the inputs' grad |
# |---|---|
# | `a + b` | $\bar a \mathrel{+}= \bar w$, $\bar b \mathrel{+}= \bar w$ |
# | `a * b` | $\bar a \mathrel{+}= b\,\bar w$, $\bar b \mathrel{+}= a\,\bar w$ |
# | `a ** p` | $\bar a \mathrel{+}= p\,a^{p-1}\,\bar w$ |
# | `a.tanh()` | $\bar a \mathrel{+}= (1 - w^2)\,\bar w$ |
# | `a.exp()` | $\bar a \mathrel{+}= w\,\bar w$ |
# | `a.log()` | $\bar a \mathrel{+}= \bar w / a$ |
# | `a.relu()` | $\bar a \mathrel{+}= [a > 0]\,\bar w$ |
#
# with $w$ the output's `data`, $\bar w$ its `grad`, and $a, b$ the inputs' `data`.
# </details>
#
# ### Exercise 6: the class `Value`
#
# Complete the class. `Value(data)` holds a float in `data`, its adjoint in `grad` (0 at first), the
# nodes it was computed from in `_prev` (a tuple, empty for a leaf), the name of the operation in `_op`,
# and the closure `_backward` (a no-op for a leaf). This constructor is given. Fill in:
#
# - `__add__`, `__mul__` (the other operand may be a `Value` or a number; `_lift` wraps numbers),
#   `__pow__` for a number exponent, `tanh`, `exp`, `log`, `relu`: each computes the new node's `data`,
#   creates `out = Value(data, (inputs...), op_name)`, sets `out._backward` to a closure that **adds**
#   to the inputs' `grad` (the local derivative times `out.grad`), and returns `out`;
# - `backward()`: list every node the output depends on in topological order (a depth-first search
#   that appends a node after all of its `_prev`), set `self.grad = 1.0`, then call `_backward()` on the
#   nodes in **reverse** order. Call it once, on a freshly built graph. (An iterative search avoids
#   Python's recursion limit on long chains; a recursive one is fine for graphs of a few hundred nodes.)

# %% nbgrader={"grade": false, "grade_id": "Value", "locked": false, "schema_version": 3, "solution": true}
class Value:
    """A scalar node of a computation graph, with reverse-mode differentiation.

    Attributes:
        data: the number held (a float).
        grad: dL/d(this node), filled in by backward() on the output L (0.0 before).
        _prev: tuple of the nodes this one was computed from.
        _op: name of the operation that produced it ('' for a leaf).
        _backward: closure that adds this node's contribution to its inputs' grad.
    """

    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)
        self._op = _op

    @staticmethod
    def _lift(other):
        """A Value stays as it is; a number becomes a leaf Value(number)."""
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        other = Value._lift(other)
        ### BEGIN SOLUTION
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out
        ### END SOLUTION

    def __mul__(self, other):
        other = Value._lift(other)
        ### BEGIN SOLUTION
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out
        ### END SOLUTION

    def __pow__(self, p):
        """self ** p for a number p (int or float)."""
        ### BEGIN SOLUTION
        out = Value(self.data ** p, (self,), f"**{p}")

        def _backward():
            self.grad += p * self.data ** (p - 1) * out.grad

        out._backward = _backward
        return out
        ### END SOLUTION

    def tanh(self):
        ### BEGIN SOLUTION
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1.0 - out.data ** 2) * out.grad

        out._backward = _backward
        return out
        ### END SOLUTION

    def exp(self):
        ### BEGIN SOLUTION
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out
        ### END SOLUTION

    def log(self):
        ### BEGIN SOLUTION
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data

        out._backward = _backward
        return out
        ### END SOLUTION

    def relu(self):
        ### BEGIN SOLUTION
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad

        out._backward = _backward
        return out
        ### END SOLUTION

    def backward(self):
        """Fill in .grad of every node this one depends on (this node is the output L)."""
        ### BEGIN SOLUTION
        order, visited, stack = [], set(), [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev if child not in visited)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()
        ### END SOLUTION

    # Given: the operations that reduce to the ones above.
    def __neg__(self):
        return self * -1.0

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-Value._lift(other))

    def __rsub__(self, other):
        return Value._lift(other) + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * Value._lift(other) ** -1

    def __rtruediv__(self, other):
        return Value._lift(other) * self ** -1

    def __repr__(self):
        return f"Value(data={self.data!r}, grad={self.grad!r})"


# %% nbgrader={"grade": true, "grade_id": "test_Value", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# A node used twice: y = a * a + a at a = 3 gives dy/da = 2a + 1 = 7.
a = Value(3.0)
y = a * a + a
y.backward()
expect_close((y.data, a.grad), (12.0, 7.0), what="(y.data, a.grad) for y = a * a + a at a = 3",
             hint="a is used three times, so it must receive three contributions: an assignment keeps only "
                  "the last one.")
# A shared node used at two depths: L = s + tanh(3 s) with s = 2 x at x = 0.5 (both orders of the sum).
for order in ("s + tanh(3 s)", "tanh(3 s) + s"):
    x = Value(0.5)
    s = x * 2.0
    L = s + (s * 3.0).tanh() if order == "s + tanh(3 s)" else (s * 3.0).tanh() + s
    L.backward()
    expect_close(x.grad, 2 * (1 + 3 * (1 - math.tanh(3.0) ** 2)), what=f"x.grad for L = {order}, s = 2x",
                 hint="s may pass its gradient on to x only once it has collected the gradient of both of its "
                      "uses: think about the order in which backward() visits the nodes.")
# Every operation once, against torch autograd on the same expression.
def expression(p, q):
    return (p * q).relu() + (p / q).exp() - (2.0 - p) ** 3 + 1.0 / (q.tanh() + 3.0) + (p * p).log() - (-q).relu()

leaves = [Value(0.8), Value(-1.3)]
out = expression(*leaves)
out.backward()
tp = [torch.tensor(0.8, dtype=torch.float64, requires_grad=True), torch.tensor(-1.3, dtype=torch.float64, requires_grad=True)]
tout = expression(*tp)
tout.backward()
expect_close(out.data, tout.item(), what="the value of the expression with every operation")
expect_close([leaf.grad for leaf in leaves], [t.grad.item() for t in tp],
             what="the gradients of the expression with every operation (vs torch autograd)",
             hint="One operation's local derivative is off: test them one at a time (e.g. (p * q).backward() "
                  "alone) against torch.")

# %% nbgrader={"grade": true, "grade_id": "test_Value_2", "locked": true, "points": 5, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("Value", Value)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: the graph, its values and its gradients
#
# The textbook's small network (its Fig. 2.1) has one input $x$, two weights, and two paths to the
# output: $y = \sigma(w_1 x) + \sigma(w_2 x)$, here with $\sigma = \tanh$ and a bias on each branch. The
# drawing places each node in a column by its depth (the longest path from a leaf) and shows its value
# and its gradient after `backward()`. Note that $x$ collects the sum of the two paths.

# %%
with needs_exercises():
    def draw_graph(root, names=None):
        """Draw the graph below `root`: a column per depth, each node with its op, data and grad."""
        names = names or {}
        nodes, depth, stack = [], {}, [root]
        seen = set()
        while stack:  # collect the nodes
            n = stack.pop()
            if id(n) in seen:
                continue
            seen.add(id(n))
            nodes.append(n)
            stack.extend(n._prev)

        def get_depth(n):
            if id(n) not in depth:
                depth[id(n)] = 0 if not n._prev else 1 + max(get_depth(c) for c in n._prev)
            return depth[id(n)]

        columns = {}
        for n in nodes:
            columns.setdefault(get_depth(n), []).append(n)
        pos = {}
        for d, col in columns.items():
            for k, n in enumerate(col):
                pos[id(n)] = (d, (len(col) - 1) / 2 - k)
        fig, ax = plt.subplots(figsize=(2.0 * (len(columns) + 1), 1.3 * max(len(c) for c in columns.values()) + 1.5))
        for n in nodes:
            for c in n._prev:
                ax.annotate("", xy=pos[id(n)], xytext=pos[id(c)],
                            arrowprops=dict(arrowstyle="->", color="gray", shrinkA=22, shrinkB=22))
        for n in nodes:
            label = names.get(id(n), n._op or "leaf")
            ax.text(*pos[id(n)], f"{label}\ndata {n.data:.3f}\ngrad {n.grad:.3f}", ha="center", va="center", fontsize=8,
                    bbox=dict(boxstyle="round", fc="honeydew" if not n._prev else "aliceblue", ec="gray"))
        ax.set_xlim(-0.6, len(columns) - 0.4)
        ys = [p[1] for p in pos.values()]
        ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
        ax.axis("off")
        plt.show()


    x, w1, w2, b1, b2 = Value(0.5), Value(-1.2), Value(0.8), Value(0.1), Value(-0.3)
    y = (w1 * x + b1).tanh() + (w2 * x + b2).tanh()
    y.backward()
    draw_graph(y, names={id(x): "x", id(w1): "w1", id(w2): "w2", id(b1): "b1", id(b2): "b2", id(y): "y (+)"})

# %% [markdown]
# ### Demo: your engine next to torch
#
# The same Python function runs on `Value` objects and on torch tensors, because both overload the
# same operators and methods. Move the sliders to change the inputs; the gradients should agree to
# every printed digit.

# %%
def neuron_loss(x1, x2, w1, w2, b):
    """A tanh neuron with a squared loss against the target 0.5, plus a small weight penalty."""
    out = (x1 * w1 + x2 * w2 + b).tanh()
    return (out - 0.5) ** 2 + 0.01 * (w1 * w1 + w2 * w2)


def compare_with_torch(x1=1.0, x2=-2.0, w1=0.5, w2=0.3, b=0.1):
    numbers = dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b)
    mine = {k: Value(v) for k, v in numbers.items()}
    loss = neuron_loss(**mine)
    loss.backward()
    theirs = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in numbers.items()}
    neuron_loss(**theirs).backward()
    print(f"loss = {loss.data:.10f}")
    print(f"{'input':>6} {'Value.grad':>16} {'torch .grad':>16}")
    for k in numbers:
        print(f"{k:>6} {mine[k].grad:16.10f} {theirs[k].grad.item():16.10f}")


interact(compare_with_torch, x1=(-2.0, 2.0, 0.1), x2=(-2.0, 2.0, 0.1), w1=(-1.0, 1.0, 0.1),
         w2=(-1.0, 1.0, 0.1), b=(-1.0, 1.0, 0.1));

# %% [markdown]
# ### Demo: forward or reverse?
#
# For $f: \mathbb R^n \to \mathbb R$ the full gradient costs $n$ forward-mode passes (one per input
# direction) but a single reverse-mode sweep, which itself costs a small multiple of evaluating $f$.
# The slides make the same point with matrix products: for a scalar loss the reverse order multiplies
# matrices by vectors only. The plot times both ways of getting the gradient of
# $f(x) = \sum_i \tanh(x_i x_{i+1}) + x_i^2$ with your `dual_jvp` and your `Value`. (For functions with
# few inputs and many outputs the roles swap.)

# %%
with needs_exercises():
    def chain_sum(*xs):
        total = 0.0
        for a, b in zip(xs[:-1], xs[1:]):
            total = total + (a * b).tanh() + a * a
        return total


    sizes = [5, 10, 20, 40, 80]
    t_forward, t_reverse = [], []
    for n in sizes:
        xs = [math.sin(k) for k in range(n)]
        start = time.perf_counter()
        grad_fwd = [dual_jvp(chain_sum, xs, [1.0 if j == i else 0.0 for j in range(n)])[1] for i in range(n)]
        t_forward.append(time.perf_counter() - start)
        start = time.perf_counter()
        leaves = [Value(v) for v in xs]
        chain_sum(*leaves).backward()
        t_reverse.append(time.perf_counter() - start)
        assert np.allclose(grad_fwd, [leaf.grad for leaf in leaves])
    plt.figure(figsize=(5.5, 3.5))
    plt.loglog(sizes, t_forward, "o-", label="forward mode: n passes of dual_jvp")
    plt.loglog(sizes, t_reverse, "s-", label="reverse mode: one backward()")
    plt.xlabel("number of inputs n")
    plt.ylabel("seconds for the full gradient")
    plt.legend()
    plt.show()

# %% [markdown]
# ## 4. A two-layer network by hand
#
# A network works on tensors, not scalars: the graph has one node per *layer*, and each node's local
# rule is a matrix formula. Take a batch of $N$ inputs as the rows of $X \in \mathbb R^{N \times D}$ and
#
# $$Z_1 = X W_1 + b_1, \quad H_1 = \mathrm{relu}(Z_1), \quad \mathrm{out} = H_1 W_2 + b_2,$$
#
# with $W_1 \in \mathbb R^{D \times H}$, $b_1 \in \mathbb R^{H}$, $W_2 \in \mathbb R^{H \times C}$,
# $b_2 \in \mathbb R^{C}$ (the biases are added to every row). This is torch's row layout; the CS 182
# worksheet writes $W x + b$ for one column vector, which is the transpose of the same thing.
#
# ### Exercise 7: `mlp_forward`
#
# Implement `mlp_forward(X, W1, b1, W2, b2)` returning `(out, cache)`, where `out` has shape `(N, C)`
# and `cache` is exactly the tuple `(X, W1, b1, W2, b2, Z1, H1)` (the inputs, then the
# pre-activations `Z1` and the activations `H1`, both `(N, H)`). Work in the inputs' dtype.

# %% nbgrader={"grade": false, "grade_id": "mlp_forward", "locked": false, "schema_version": 3, "solution": true}
def mlp_forward(X, W1, b1, W2, b2):
    """Forward pass of relu(X @ W1 + b1) @ W2 + b2.

    Args:
        X: (N, D) inputs; W1: (D, H); b1: (H,); W2: (H, C); b2: (C,).
    Returns:
        (out, cache): out of shape (N, C), cache = (X, W1, b1, W2, b2, Z1, H1) with Z1, H1 of shape (N, H).
    """
    ### BEGIN SOLUTION
    Z1 = X @ W1 + b1
    H1 = torch.relu(Z1)
    out = H1 @ W2 + b2
    return out, (X, W1, b1, W2, b2, Z1, H1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_mlp_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
X = torch.tensor([[1.0, 2.0], [-1.0, 0.5]], dtype=torch.float64)
W1 = torch.tensor([[1.0, -1.0, 0.5], [0.5, 1.0, -2.0]], dtype=torch.float64)
b1 = torch.tensor([0.0, -1.0, 1.0], dtype=torch.float64)
W2 = torch.tensor([[1.0], [2.0], [-1.0]], dtype=torch.float64)
b2 = torch.tensor([-1.5], dtype=torch.float64)
out, cache = mlp_forward(X, W1, b1, W2, b2)
# Z1 = [[2, 0, -2.5], [-0.75, 0.5, -0.5]], H1 = [[2, 0, 0], [0, 0.5, 0]]
expect_shape(out, (2, 1), what="out")
expect_close(out, torch.tensor([[0.5], [-0.5]], dtype=torch.float64), what="out",
             hint="The ReLU sits between the two layers only: the output layer has no activation.")
expect_true(isinstance(cache, tuple) and len(cache) == 7, "cache should be the tuple (X, W1, b1, W2, b2, Z1, H1).")
expect_close(cache[5], torch.tensor([[2.0, 0.0, -2.5], [-0.75, 0.5, -0.5]], dtype=torch.float64),
             what="cache[5] = Z1 (before the ReLU)")
expect_close(cache[6], torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.5, 0.0]], dtype=torch.float64),
             what="cache[6] = H1 (after the ReLU)")

# %% nbgrader={"grade": true, "grade_id": "test_mlp_forward_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("mlp_forward", mlp_forward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 8: `linear_backward`, one layer
#
# Backward, we are handed $G = \partial L / \partial\, \mathrm{out}$ for some scalar loss $L$, with the
# shape of `out`, and want the gradient with respect to everything that made `out`. Start with one
# affine layer $\mathrm{out} = X W + b$, with $X \in \mathbb R^{N \times K}$, $W \in \mathbb R^{K \times M}$,
# $b \in \mathbb R^M$ added to every row, so $G \in \mathbb R^{N \times M}$. Entrywise,
#
# $$\mathrm{out}_{nm} = \sum_k X_{nk} W_{km} + b_m .$$
#
# Derive $\partial L / \partial W_{km}$, $\partial L / \partial X_{nk}$ and $\partial L / \partial b_m$ with
# the multivariate chain rule of section 3 ($L$ depends on each variable through every entry of `out`
# that it touches), then write the three sums as matrix products and reductions.
#
# Implement `linear_backward(dout, X, W)` returning `(dX, dW, db)` with the shapes `(N, K)`, `(K, M)`,
# `(M,)` of `X`, `W` and `b`, in `dout`'s dtype. The bias itself is not needed. Vectorize: matrix
# products and sums, no loops over the batch.
#
# <details><summary>Hint 1: one entry at a time</summary>
#
# $W_{km}$ appears in $\mathrm{out}_{nm}$ for every row $n$ (and in no other column), with coefficient
# $X_{nk}$. So $\partial L/\partial W_{km} = \sum_n \frac{\partial L}{\partial\,\mathrm{out}_{nm}}
# \frac{\partial\,\mathrm{out}_{nm}}{\partial W_{km}}$. Do the same for $X_{nk}$, which appears in every
# column $m$ of row $n$.
# </details>
#
# <details><summary>Hint 2: let the shapes place the transposes</summary>
#
# A sum over a shared index is a matrix product; which factor is transposed follows from the shape the
# result must have. $dW$ must be $K \times M$ and is built from $X$ ($N \times K$) and $G$ ($N \times M$):
# only one arrangement fits. The bias was used once per row, so its gradient collects one contribution per
# row (the accumulation rule of section 3 again).
# </details>
#
# <details><summary>Hint 3: the result</summary>
#
# $dX = G W^\top$, $\ dW = X^\top G$, $\ db = \sum_n G_{n\cdot}$ (a sum over the batch, not a mean).
# </details>

# %% nbgrader={"grade": false, "grade_id": "linear_backward", "locked": false, "schema_version": 3, "solution": true}
def linear_backward(dout, X, W):
    """Backward pass of out = X @ W + b.

    Args:
        dout: (N, M) gradient of the loss with respect to out.
        X: (N, K) the layer's input; W: (K, M) its weights.
    Returns:
        (dX, dW, db), shapes (N, K), (K, M), (M,).
    """
    ### BEGIN SOLUTION
    return dout @ W.T, X.T @ dout, dout.sum(dim=0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_linear_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Against torch autograd in float64, K = 3 and M = 2 (different, so a misplaced transpose shows).
g = torch.Generator().manual_seed(0)
X, W, b = (torch.randn(s, generator=g, dtype=torch.float64) for s in [(4, 3), (3, 2), (2,)])
dout = torch.randn(4, 2, generator=g, dtype=torch.float64)
grads = linear_backward(dout, X, W)
leaves = [t.clone().requires_grad_(True) for t in (X, W, b)]
expected = torch.autograd.grad(((leaves[0] @ leaves[1] + leaves[2]) * dout).sum(), leaves)
expect_true(isinstance(grads, (tuple, list)) and len(grads) == 3, "linear_backward should return (dX, dW, db).")
for name, got, exp in zip(["dX", "dW", "db"], grads, expected):
    expect_shape(got, tuple(exp.shape), what=name)
    expect_close(got, exp, what=name, hint="Every gradient has the shape of its variable, and the bias is used "
                                           "once per row of the batch.")

# %% nbgrader={"grade": true, "grade_id": "test_linear_backward_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("linear_backward", linear_backward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 9: `mlp_backward`
#
# Now the whole network. Given `dout` $= G$ of shape `(N, C)` and the `cache` of `mlp_forward`, return
# `(dX, dW1, db1, dW2, db2)`, each with the shape of the tensor it is the gradient of. Walk the forward
# pass backwards: each step receives the gradient with respect to its output and hands on the gradient
# with respect to its input. Your `linear_backward` does the two affine layers; what is left to derive is
# the step through the ReLU (whose derivative at exactly $Z_1 = 0$ is taken to be 0, as in torch).
# Vectorized: no loops over the batch.
#
# <details><summary>Hint 1: the order</summary>
#
# The last operation is the second affine layer, with input $H_1$: its backward gives $dW_2$, $db_2$ and
# $dH_1 = \partial L / \partial H_1$. Then the ReLU turns $dH_1$ into $dZ_1$, and the first affine layer,
# with input $X$, turns $dZ_1$ into $dX$, $dW_1$, $db_1$.
# </details>
#
# <details><summary>Hint 2: the ReLU is elementwise</summary>
#
# $(H_1)_{nh}$ depends on $(Z_1)_{nh}$ alone, so $\partial L/\partial (Z_1)_{nh} = \partial L/\partial (H_1)_{nh}
# \cdot \mathrm{relu}'((Z_1)_{nh})$: no matrix product, an elementwise factor. The worksheet writes it as a
# diagonal matrix $R(z)$. What is $\mathrm{relu}'$ where the unit was off?
# </details>
#
# <details><summary>Hint 3: the result</summary>
#
# $dW_2 = H_1^\top G$, $db_2 = \sum_n G_{n\cdot}$, $dH_1 = G W_2^\top$, $dZ_1 = dH_1 \odot [Z_1 > 0]$,
# $dW_1 = X^\top dZ_1$, $db_1 = \sum_n dZ_{1,n\cdot}$, $dX = dZ_1 W_1^\top$.
# </details>

# %% nbgrader={"grade": false, "grade_id": "mlp_backward", "locked": false, "schema_version": 3, "solution": true}
def mlp_backward(dout, cache):
    """Backward pass of mlp_forward.

    Args:
        dout: (N, C) gradient of the loss with respect to out.
        cache: (X, W1, b1, W2, b2, Z1, H1) from mlp_forward.
    Returns:
        (dX, dW1, db1, dW2, db2), shapes (N, D), (D, H), (H,), (H, C), (C,).
    """
    ### BEGIN SOLUTION
    X, W1, b1, W2, b2, Z1, H1 = cache
    dH1, dW2, db2 = linear_backward(dout, H1, W2)
    dZ1 = dH1 * (Z1 > 0).to(dout.dtype)
    dX, dW1, db1 = linear_backward(dZ1, X, W1)
    return dX, dW1, db1, dW2, db2
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_mlp_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Against torch autograd, float64, a random upstream gradient, D=3, H=4, C=2 (all different).
g = torch.Generator().manual_seed(0)
params = [torch.randn(s, generator=g, dtype=torch.float64) for s in [(5, 3), (3, 4), (4,), (4, 2), (2,)]]
dout = torch.randn(5, 2, generator=g, dtype=torch.float64)
out, cache = mlp_forward(*params)
grads = mlp_backward(dout, cache)
leaves = [p.clone().requires_grad_(True) for p in params]
Z = torch.relu(leaves[0] @ leaves[1] + leaves[2]) @ leaves[3] + leaves[4]
expected = torch.autograd.grad((Z * dout).sum(), leaves)
expect_true(isinstance(grads, (tuple, list)) and len(grads) == 5, "mlp_backward should return (dX, dW1, db1, dW2, db2).")
for name, got, exp in zip(["dX", "dW1", "db1", "dW2", "db2"], grads, expected):
    expect_shape(got, tuple(exp.shape), what=name)
    expect_close(got, exp, what=name, hint="If only the first layer's gradients are off, look at the step through "
                                           "the ReLU: a unit that was off passes no gradient back.")

# %% nbgrader={"grade": true, "grade_id": "test_mlp_backward_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("mlp_backward", mlp_backward)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: gradient check
#
# The standard test of a hand-written backward pass: choose a random upstream gradient $G$, define the
# scalar $L = \sum G \odot \mathrm{out}$ (whose gradient with respect to `out` is exactly $G$), and
# compare with `numerical_gradient` entry by entry. The relative errors should be near $10^{-9}$ or
# below in float64; an error near 1 means a wrong formula.

# %%
with needs_exercises():
    g = torch.Generator().manual_seed(1)
    params = [torch.randn(s, generator=g, dtype=torch.float64) for s in [(6, 4), (4, 5), (5,), (5, 3), (3,)]]
    G = torch.randn(6, 3, generator=g, dtype=torch.float64)
    analytic = mlp_backward(G, mlp_forward(*params)[1])
    for k, name in enumerate(["dX", "dW1", "db1", "dW2", "db2"]):
        def loss_of(p, k=k):
            args = list(params)
            args[k] = p
            return (mlp_forward(*args)[0] * G).sum()
        numeric = numerical_gradient(loss_of, params[k])
        rel = ((analytic[k] - numeric).abs().max() / (analytic[k].abs().max() + numeric.abs().max())).item()
        print(f"{name:>4}: max relative error {rel:.1e}")

# %% [markdown]
# ### Exercise 10 (make it work): `train_mlp` on two spirals
#
# Time to train with your own gradients. The data are two interleaved spiral arms in the plane
# (`course.spirals.make_spirals`), one class per arm: no straight line separates them (a linear
# classifier stays near 50-70%), so the hidden layer has to earn its keep.
#
# Implement `train_mlp(X, y, num_classes, hidden=64, steps=1500, lr=1.0, seed=0)`: build the weights of a
# two-layer ReLU network with `hidden` units from `torch.Generator().manual_seed(seed)`, then take `steps`
# full-batch gradient-descent steps on the mean softmax cross-entropy, with the gradients from **your**
# `mlp_forward` and `mlp_backward` (no autograd). Return `(W1, b1, W2, b2)` in `X`'s dtype. From chapter 03,
# the gradient of the mean cross-entropy with respect to the logits is
# $(\mathrm{softmax}(\mathrm{out}) - \mathrm{onehot}(y))/N$.
#
# **Target.** Trained on 400 points, the network must classify **at least 93%** of fresh points from
# the same spirals correctly. The grader trains it under two seeds of its own, on training sets of its own,
# and measures the accuracy on held-out points your notebook never sees. Keep the run under 5 seconds
# (the reference takes about a second); the choice of initialization, width, step count and learning rate
# is yours, within `hidden <= 256`.
#
# <details><summary>Hint 1: initialization</summary>
#
# Zero weights make every hidden unit identical forever (they all get the same gradient). Draw them at
# random, scaled so that the pre-activations start of order one: a standard deviation of
# $\sqrt{2/D}$ for $W_1$ and $\sqrt{1/H}$ for $W_2$ works well; biases can start at zero.
# </details>
#
# <details><summary>Hint 2: one step</summary>
#
# Forward, softmax of the outputs, subtract the one-hot labels and divide by $N$, backward, then move
# every parameter *against* its gradient by `lr` times it. Full batch and `lr` around 1 converge in a
# thousand or so steps here.
# </details>

# %% nbgrader={"grade": false, "grade_id": "train_mlp", "locked": false, "schema_version": 3, "solution": true}
def train_mlp(X, y, num_classes, hidden=64, steps=1500, lr=1.0, seed=0):
    """Train relu(X @ W1 + b1) @ W2 + b2 by full-batch gradient descent on the mean cross-entropy.

    Args:
        X: (N, D) float training inputs; y: (N,) int64 labels in 0..num_classes-1.
        num_classes: C; hidden: H; steps: gradient steps; lr: learning rate; seed: seed of the initial weights.
    Returns:
        (W1, b1, W2, b2), shapes (D, H), (H,), (H, C), (C,), in X's dtype.
    """
    ### BEGIN SOLUTION
    g = torch.Generator().manual_seed(seed)
    N, D = X.shape
    W1 = torch.randn(D, hidden, generator=g, dtype=X.dtype) * math.sqrt(2.0 / D)
    b1 = torch.zeros(hidden, dtype=X.dtype)
    W2 = torch.randn(hidden, num_classes, generator=g, dtype=X.dtype) * math.sqrt(1.0 / hidden)
    b2 = torch.zeros(num_classes, dtype=X.dtype)
    onehot = torch.nn.functional.one_hot(y, num_classes).to(X.dtype)
    for _ in range(steps):
        out, cache = mlp_forward(X, W1, b1, W2, b2)
        dout = (torch.softmax(out, dim=1) - onehot) / N
        _, dW1, db1, dW2, db2 = mlp_backward(dout, cache)
        W1, b1, W2, b2 = W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2, b2 - lr * db2
    return W1, b1, W2, b2
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_train_mlp", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.spirals import make_spirals

X_spiral, y_spiral = make_spirals(400, torch.Generator().manual_seed(1))
X_check, y_check = make_spirals(1000, torch.Generator().manual_seed(2))
n_threads = torch.get_num_threads()
torch.set_num_threads(1)  # the matrices are tiny: one thread is faster than several
try:
    start = time.perf_counter()
    trained = train_mlp(X_spiral, y_spiral, 2, seed=0)
    seconds = time.perf_counter() - start
finally:
    torch.set_num_threads(n_threads)
expect_true(isinstance(trained, (tuple, list)) and len(trained) == 4, "train_mlp should return (W1, b1, W2, b2).")
check_accuracy = (mlp_forward(X_check, *trained)[0].argmax(dim=1) == y_check).double().mean().item()
print(f"trained in {seconds:.2f} s; accuracy on 1000 fresh spiral points: {check_accuracy:.1%} (target 93%)")
expect_true(check_accuracy >= 0.93,
            f"accuracy {check_accuracy:.1%} on fresh points is below the 93% target: check the direction of the "
            "update and the gradient check above, then the initialization and the number of steps.")

# %% nbgrader={"grade": true, "grade_id": "test_train_mlp_2", "locked": true, "points": 5, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("train_mlp", train_mlp)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: what the network learned
#
# The probability of class 1 over the plane, for the network you just trained, with the training points
# on top. Move the slider to stop training earlier: the boundary starts almost straight and winds itself
# around the arms as the steps go by.

# %%
def show_spiral_fit(steps=1500):
    trained = train_mlp(X_spiral, y_spiral, 2, steps=steps, seed=0)
    grid = torch.stack(torch.meshgrid(torch.linspace(-1.4, 1.4, 150, dtype=torch.float64),
                                      torch.linspace(-1.4, 1.4, 150, dtype=torch.float64), indexing="xy"), dim=-1)
    prob = torch.softmax(mlp_forward(grid.reshape(-1, 2), *trained)[0], dim=1)[:, 1].reshape(150, 150)
    accuracy = (mlp_forward(X_check, *trained)[0].argmax(dim=1) == y_check).double().mean().item()
    plt.figure(figsize=(5, 4.5))
    plt.contourf(grid[..., 0], grid[..., 1], prob, levels=20, cmap="RdBu_r", alpha=0.6)
    plt.scatter(X_spiral[:, 0], X_spiral[:, 1], c=y_spiral, cmap="RdBu_r", s=8, edgecolors="k", linewidths=0.3)
    plt.title(f"{steps} steps: accuracy on fresh points {accuracy:.1%}")
    plt.gca().set_aspect("equal")
    plt.show()


interact(show_spiral_fit, steps=widgets.IntSlider(value=1500, min=100, max=1500, step=200));

# %% [markdown]
# ### Concept question 1: `reverse_mode_answer`
#
# A network has $n = 10^7$ parameters and one scalar loss. Why do training libraries differentiate it in
# reverse mode rather than forward mode?
#
# - **a.** Reverse mode is exact, while forward mode, like finite differences, suffers from round-off
#   that grows with the number of operations.
# - **b.** One reverse sweep delivers all $n$ partial derivatives for a small multiple of the cost of
#   evaluating the loss, while forward mode delivers one directional derivative per pass and would need
#   $n$ passes.
# - **c.** Reverse mode needs less memory, because it does not have to keep the intermediate values of
#   the forward pass.
# - **d.** Forward mode cannot differentiate through functions without a closed-form derivative, such as
#   the ReLU at 0.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "reverse_mode_answer", "locked": false, "schema_version": 3, "solution": true}
def reverse_mode_answer():
    """Your answer to concept question 1: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_reverse_mode_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(reverse_mode_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_reverse_mode_answer_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("reverse_mode_answer", reverse_mode_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Concept question 2: `accumulate_answer`
#
# Every `_backward` closure of your `Value` *adds* to its inputs' `.grad` (`+=`) instead of assigning it.
# Why?
#
# - **a.** So that calling `backward()` several times averages the gradients over the calls, like a
#   mini-batch.
# - **b.** Because the chain rule multiplies the local derivatives along a path, and accumulating into
#   `.grad` is how that product is built up.
# - **c.** Because a node used by several operations influences the output along several paths, and the
#   multivariate chain rule sums the contributions of all of them.
# - **d.** It makes no difference to the result: `+=` only avoids allocating a new float.
#
# Return your letter from the function below.

# %% nbgrader={"grade": false, "grade_id": "accumulate_answer", "locked": false, "schema_version": 3, "solution": true}
def accumulate_answer():
    """Your answer to concept question 2: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_accumulate_answer", "locked": true, "points": 0, "schema_version": 3, "solution": false}
expect_true(accumulate_answer() in ("a", "b", "c", "d"), "Return one letter: 'a', 'b', 'c' or 'd'.")

# %% nbgrader={"grade": true, "grade_id": "test_accumulate_answer_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your answer is checked when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("accumulate_answer", accumulate_answer)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## What you built
#
# - **Finite differences**: forward ($O(h)$) and central ($O(h^2)$) estimates, the V-shaped error curve
#   where truncation meets round-off, the best steps $h^\star_+ \sim \sqrt{\epsilon}$ and
#   $h^\star_c \sim \epsilon^{1/3}$, and a coordinate-wise `numerical_gradient` to check gradients with.
# - **Forward mode**: the `Dual` number, whose $\varepsilon$ part follows the differentiation rules, and
#   `dual_jvp`, a directional derivative (Jacobian-vector product) in one pass; a full gradient needs
#   one pass per input.
# - **Reverse mode**: the `Value` engine, a graph of scalar nodes whose `backward()` visits the nodes in
#   reverse topological order and *accumulates* every node's gradient over all of its uses; it matches
#   torch autograd.
# - **Backprop with tensors**: `linear_backward` for one affine layer and `mlp_backward` for a two-layer
#   ReLU network, derived entry by entry: each gradient has its variable's shape, biases sum over the
#   batch and the ReLU masks the gradient.
# - **A network that works**: `train_mlp`, gradient descent with your own backward pass, which winds a
#   decision boundary around two spirals that no linear model can separate.
#
# Next, chapter 05 (*SGD and its descendants*) takes these gradients as given and asks how best to
# step with them: gradient descent, momentum, AdaGrad, RMSProp and Adam.
