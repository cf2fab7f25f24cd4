"""Hidden checks of chapter 04 (finite differences, forward and reverse mode).

The two engines (``Dual`` and ``Value``) are classes: their hidden check constructs one object from the
case's arguments, then builds random expression graphs with the student's class (from a seed: random
DAGs of arithmetic and elementary functions with shared subexpressions and nodes used twice) and
compares values and derivatives with torch autograd in float64.
"""
from __future__ import annotations

import math
import random

import torch

from autograder.checks import Case, check
from course.checks import diagnose_close
from solutions_lib import autodiff as ref

F64 = torch.float64


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------------------------
# Finite differences
# ----------------------------------------------------------------------------------------------

def _cubic(t):
    return t ** 3 - 2 * t


def _wiggle(t):
    return torch.sin(3 * t) * torch.exp(-0.5 * t)


@check("forward_difference", by_hand=True, reference=ref.forward_difference,
       hint="Forward difference: (f(x + h) - f(x)) / h, evaluated elementwise on the whole tensor.")
def _forward_difference_cases():
    g = _gen(401)
    yield Case("sin at 7 float64 points, h = 1e-3", (torch.sin, torch.randn(7, generator=g, dtype=F64), 1e-3))
    yield Case("cubic on a (3, 4) float64 grid, h = 0.1", (_cubic, torch.randn(3, 4, generator=g, dtype=F64), 0.1))
    yield Case("exp in float32, h = 1e-2", (torch.exp, torch.randn(6, generator=g), 1e-2))
    yield Case("sin(3x) exp(-x/2), h = 1e-5", (_wiggle, torch.randn(5, generator=g, dtype=F64), 1e-5))
    yield Case("a tensor of steps h (one per point)",
               (torch.tanh, torch.randn(4, generator=g, dtype=F64), torch.tensor([0.5, 0.1, 1e-2, 1e-4], dtype=F64)))
    yield Case("closed form: x^2 at 1 and 3, h = 0.5", (lambda t: t ** 2, torch.tensor([1.0, 3.0], dtype=F64), 0.5),
               expected=torch.tensor([2.5, 6.5], dtype=F64))
    yield Case("negative step h = -0.25 (a backward difference)",
               (lambda t: t ** 2, torch.tensor([1.0, 3.0], dtype=F64), -0.25),
               expected=torch.tensor([1.75, 5.75], dtype=F64))


@check("central_difference", by_hand=True, reference=ref.central_difference,
       hint="Central difference: (f(x + h) - f(x - h)) / (2 h): the two points are 2h apart.")
def _central_difference_cases():
    g = _gen(402)
    yield Case("sin at 7 float64 points, h = 1e-3", (torch.sin, torch.randn(7, generator=g, dtype=F64), 1e-3))
    yield Case("cubic on a (3, 4) float64 grid, h = 0.1", (_cubic, torch.randn(3, 4, generator=g, dtype=F64), 0.1))
    yield Case("exp in float32, h = 1e-2", (torch.exp, torch.randn(6, generator=g), 1e-2))
    yield Case("sin(3x) exp(-x/2), h = 1e-4", (_wiggle, torch.randn(5, generator=g, dtype=F64), 1e-4))
    yield Case("a tensor of steps h (one per point)",
               (torch.tanh, torch.randn(4, generator=g, dtype=F64), torch.tensor([0.5, 0.1, 1e-2, 1e-4], dtype=F64)))
    yield Case("closed form: x^3 at 1 and 2, h = 0.5", (lambda t: t ** 3, torch.tensor([1.0, 2.0], dtype=F64), 0.5),
               expected=torch.tensor([3.25, 12.25], dtype=F64))
    yield Case("exact for a quadratic: 3x^2 - x at 4 points, h = 0.7",
               (lambda t: 3 * t ** 2 - t, torch.tensor([-1.0, 0.0, 0.5, 2.0], dtype=F64), 0.7),
               expected=torch.tensor([-7.0, -1.0, 2.0, 11.0], dtype=F64))


def _quadratic_form(A):
    return lambda t: t.reshape(-1) @ A @ t.reshape(-1)


def _logsumexp(t):
    return torch.logsumexp(t.reshape(-1), dim=0)


@check("numerical_gradient", by_hand=True, reference=ref.numerical_gradient,
       hint="Entry i is (f(x + h e_i) - f(x - h e_i)) / (2 h) with e_i the i-th unit tensor; leave x unchanged.")
def _numerical_gradient_cases():
    g = _gen(403)
    yield Case("sum of sin, float64 vector of 6, h = 1e-4",
               (lambda t: torch.sin(t).sum(), torch.randn(6, generator=g, dtype=F64), 1e-4))
    A = torch.randn(6, 6, generator=g, dtype=F64)
    yield Case("quadratic form on a (2, 3) matrix, h = 1e-3",
               (_quadratic_form(A), torch.randn(2, 3, generator=g, dtype=F64), 1e-3))
    yield Case("logsumexp of a (3, 2, 2) tensor, h = 1e-2",
               (_logsumexp, torch.randn(3, 2, 2, generator=g, dtype=F64), 1e-2))
    yield Case("default step h on (sum x^3) / 3",
               (lambda t: (t ** 3).sum() / 3, torch.randn(5, generator=g, dtype=F64)))
    yield Case("float32 input, h = 1e-2",
               (lambda t: (t * t).sum(), torch.randn(4, generator=g), 1e-2))
    yield Case("one coordinate: f(x) = x[0]^2 exp(x[0])",
               (lambda t: (t[0] ** 2 * torch.exp(t[0])), torch.tensor([0.7], dtype=F64), 1e-3))
    yield Case("f returns a Python float", (lambda t: float(t[0] * t[1]), torch.tensor([2.0, -3.0], dtype=F64), 0.5),
               expected=torch.tensor([-3.0, 2.0], dtype=F64))


# ----------------------------------------------------------------------------------------------
# Random expression graphs, replayed on a student's class and on torch
# ----------------------------------------------------------------------------------------------

_BINARY = ("add", "mul", "sub", "div")
_CONST = ("radd", "rsub", "rmul", "rdiv", "addc", "subc", "mulc", "divc", "pow")


def _plan(op: str, a: float, b: float, c: float):
    """The float result of one step, or None if the step is out of its safe domain."""
    try:
        if op == "add": return a + b
        if op == "mul": return a * b
        if op == "sub": return a - b
        if op == "div": return a / b if abs(b) > 0.4 else None
        if op == "radd": return c + a
        if op == "rsub": return c - a
        if op == "rmul": return c * a
        if op == "rdiv": return c / a if abs(a) > 0.4 else None
        if op == "addc": return a + c
        if op == "subc": return a - c
        if op == "mulc": return a * c
        if op == "divc": return a / c
        if op == "pow":
            if c == 0.5 and a < 0.2: return None
            if c < 0 and abs(a) < 0.4: return None
            return a ** c
        if op == "neg": return -a
        if op == "tanh": return math.tanh(a)
        if op == "exp": return math.exp(a) if a < 2.0 else None
        if op == "log": return math.log(a) if a > 0.2 else None
        if op == "relu": return max(a, 0.0) if abs(a) > 1e-3 else None
        if op == "sin": return math.sin(a)
        if op == "cos": return math.cos(a)
    except (OverflowError, ZeroDivisionError, ValueError):
        return None
    raise ValueError(op)


def _random_program(seed: int, n_inputs: int, n_steps: int, unary: tuple[str, ...]):
    """A random DAG: inputs, steps ``(op, i, j, c)`` on earlier nodes, and the output's terms."""
    rng = random.Random(seed)
    values = [rng.choice((-1, 1)) * rng.uniform(0.3, 1.5) for _ in range(n_inputs)]
    steps = []

    def pick() -> int:
        if rng.random() < 0.6:  # mostly recent nodes: deep chains, but old nodes are reused too
            return rng.randrange(max(0, len(values) - 3), len(values))
        return rng.randrange(len(values))

    ops = _BINARY * 2 + _CONST + ("pow",) * 2 + unary * 2
    while len(steps) < n_steps:
        op = rng.choice(ops)
        i = pick()
        j = i if rng.random() < 0.15 else pick()  # sometimes a node meets itself (x * x)
        c = rng.choice((2.0, 3.0, -1.0, 0.5)) if op == "pow" else round(rng.uniform(-2.0, 2.0), 2) or 1.0
        result = _plan(op, values[i], values[j], c)
        if result is None or not math.isfinite(result) or abs(result) > 6.0:
            op, result = "tanh", math.tanh(values[i])
        steps.append((op, i, j, c))
        values.append(result)
    # The output adds the last node and two earlier ones: more paths share the same inputs.
    terms = [len(values) - 1] + [rng.randrange(n_inputs, len(values)) for _ in range(2)]
    return values[:n_inputs], steps, terms


def _replay(inputs: list, steps, terms, unary_call):
    """Evaluate a program on objects that support Python arithmetic (student class or torch tensors)."""
    nodes = list(inputs)
    for op, i, j, c in steps:
        a, b = nodes[i], nodes[j]
        if op == "add": r = a + b
        elif op == "mul": r = a * b
        elif op == "sub": r = a - b
        elif op == "div": r = a / b
        elif op == "radd": r = c + a
        elif op == "rsub": r = c - a
        elif op == "rmul": r = c * a
        elif op == "rdiv": r = c / a
        elif op == "addc": r = a + c
        elif op == "subc": r = a - c
        elif op == "mulc": r = a * c
        elif op == "divc": r = a / c
        elif op == "pow": r = a ** c
        elif op == "neg": r = -a
        else: r = unary_call(a, op)
        nodes.append(r)
    out = nodes[terms[0]]
    for t in terms[1:]:
        out = out + nodes[t]
    return out, nodes


def _torch_reference(inputs, steps, terms):
    """Output value and gradient with respect to the inputs, by torch autograd in float64."""
    leaves = [torch.tensor(x, dtype=F64, requires_grad=True) for x in inputs]
    out, _ = _replay(leaves, steps, terms, lambda a, op: getattr(torch, op)(a))
    grads = torch.autograd.grad(out, leaves, allow_unused=True)
    grads = [torch.zeros((), dtype=F64) if g is None else g for g in grads]
    return out.detach(), torch.stack(grads)


def _as_float(x) -> float:
    if isinstance(x, torch.Tensor):
        return float(x.detach())
    return float(x)


# ----------------------------------------------------------------------------------------------
# Forward mode
# ----------------------------------------------------------------------------------------------

_DUAL_UNARY = ("neg", "tanh", "exp", "log", "sin", "cos")


def _dual_probe(cls, case: Case) -> dict:
    """In the kernel: build Dual(*args), then replay the case's random program with the class."""
    first = cls(*case.args)
    seed, n_inputs, n_steps = case.spec
    inputs, steps, terms = _random_program(seed, n_inputs, n_steps, _DUAL_UNARY)
    direction = [random.Random(seed + 1).uniform(-1.0, 1.0) for _ in range(n_inputs)]
    duals = [cls(x, v) for x, v in zip(inputs, direction)]
    out, _ = _replay(duals, steps, terms, lambda a, op: -a if op == "neg" else getattr(a, op)())
    return {"first": (_as_float(first.value), _as_float(first.tangent)),
            "out": (_as_float(out.value), _as_float(out.tangent))}


def _dual_compare(got, expected, case) -> str | None:
    """``got`` is what :func:`_dual_probe` saw; ``case.spec`` says which program it ran."""
    if not isinstance(got, dict) or set(got) != {"first", "out"}:
        return "the probe of your class returned something unexpected."
    value0, tangent0 = case.args[0], case.args[1] if len(case.args) > 1 else 0.0
    problem = diagnose_close(got["first"], (float(value0), float(tangent0)),
                             what=f"(value, tangent) of Dual{case.args}")
    if problem:
        return problem
    seed, n_inputs, n_steps = case.spec
    inputs, steps, terms = _random_program(seed, n_inputs, n_steps, _DUAL_UNARY)
    direction = [random.Random(seed + 1).uniform(-1.0, 1.0) for _ in range(n_inputs)]
    ref_value, ref_grad = _torch_reference(inputs, steps, terms)
    ref_tangent = float(ref_grad @ torch.tensor(direction, dtype=F64))
    return diagnose_close(got["out"], (float(ref_value), ref_tangent),
                          what=f"(value, tangent) of a random program ({len(steps)} operations on "
                               f"{n_inputs} inputs, compared with torch autograd)")


@check("Dual", by_hand=True, compare=_dual_compare, probe=_dual_probe,
       hint="Derive each rule by expanding the operation on a + b eps with eps^2 = 0; the tangent of every function "
            "is its derivative times the input's tangent; a plain number is a constant, on either side of an operator.")
def _dual_cases():
    yield Case("Dual(0.5, 1.0), a program of 6 operations", (0.5, 1.0), expected=None, spec=(11, 1, 6))
    yield Case("Dual(-1.25, 2.0), a program of 12 operations on 2 inputs", (-1.25, 2.0), expected=None, spec=(12, 2, 12))
    yield Case("Dual(3.0) (tangent defaults to 0), 20 operations on 3 inputs", (3.0,), expected=None, spec=(13, 3, 20))
    for seed in range(14, 24):
        yield Case(f"random program {seed - 13} of 25 operations on 3 inputs (seed {seed})", (1.0, 0.0),
                   expected=None, spec=(seed, 3, 25))
    for seed in range(24, 28):
        yield Case(f"random program of 60 operations on 4 inputs (seed {seed})", (2.0, -1.0), expected=None, spec=(seed, 4, 60))


def _jvp_oracle(f, x, v):
    """Value and directional derivative by torch autograd in float64."""
    leaves = [torch.tensor(float(xi), dtype=F64, requires_grad=True) for xi in x]
    out = f(*leaves)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        return float(out), 0.0
    grads = torch.autograd.grad(out, leaves, allow_unused=True)
    tangent = sum(0.0 if gr is None else float(gr) * float(vi) for gr, vi in zip(grads, v))
    return float(out.detach()), float(tangent)  # "the pair (f(x), grad f(x) . v) as two floats"


def _program_f(seed: int, n_inputs: int, n_steps: int):
    """A random program as a function of n positional arguments (Dual or torch)."""
    _, steps, terms = _random_program(seed, n_inputs, n_steps, _DUAL_UNARY)

    def f(*args):
        call = (lambda a, op: -a if op == "neg" else getattr(a, op)())
        return _replay(list(args), steps, terms, call)[0]

    return f


@check("dual_jvp", by_hand=True, reference=None,
       hint="Each input carries its own component of the direction v as its tangent (not 1 for every input); "
            "a plain number returned by f has no tangent, so its derivative along v is 0.")
def _dual_jvp_cases():
    def slides(a, b):  # the example of the slides: log(x1) + x1 x2 - sin(x2)
        return a.log() + a * b - b.sin()

    yield Case("log(x1) + x1 x2 - sin(x2) at (2, 5), v = (1, 0)", (slides, [2.0, 5.0], [1.0, 0.0]),
               expected=_jvp_oracle(slides, [2.0, 5.0], [1.0, 0.0]))
    yield Case("the same at (2, 5), v = (0, 1)", (slides, [2.0, 5.0], [0.0, 1.0]),
               expected=_jvp_oracle(slides, [2.0, 5.0], [0.0, 1.0]))
    yield Case("the same at (1.5, -0.5), v = (0.3, -2)", (slides, [1.5, -0.5], [0.3, -2.0]),
               expected=_jvp_oracle(slides, [1.5, -0.5], [0.3, -2.0]))
    one = lambda a: (a * a).tanh() / (1.0 + a.exp())  # noqa: E731
    yield Case("one input: tanh(x^2) / (1 + e^x) at 0.8, v = 1", (one, [0.8], [1.0]),
               expected=_jvp_oracle(one, [0.8], [1.0]))
    yield Case("one input, direction v = 2.5 scales the derivative", (one, [-0.3], [2.5]),
               expected=_jvp_oracle(one, [-0.3], [2.5]))
    const = lambda a, b: 4.0  # noqa: E731
    yield Case("a constant program returns a plain number: tangent 0", (const, [1.0, 2.0], [1.0, 1.0]),
               expected=(4.0, 0.0))
    for seed, n_inputs, n_steps in ((31, 3, 20), (32, 4, 30), (33, 2, 40), (34, 5, 25)):
        f = _program_f(seed, n_inputs, n_steps)
        rng = random.Random(seed + 1000)
        x = _random_program(seed, n_inputs, n_steps, _DUAL_UNARY)[0]
        v = [rng.uniform(-1.0, 1.0) for _ in range(n_inputs)]
        yield Case(f"random program of {n_steps} operations on {n_inputs} inputs, random v (seed {seed})",
                   (f, x, v), expected=_jvp_oracle(f, x, v))


# ----------------------------------------------------------------------------------------------
# Reverse mode
# ----------------------------------------------------------------------------------------------

_VALUE_UNARY = ("neg", "tanh", "exp", "relu", "log")


def _value_probe(cls, case: Case) -> dict:
    """In the kernel: build Value(*args), then a random graph with the class, and run backward()."""
    first = cls(*case.args)
    seed, n_inputs, n_steps = case.spec
    inputs, steps, terms = _random_program(seed, n_inputs, n_steps, _VALUE_UNARY)
    leaves = [cls(x) for x in inputs]
    out, _ = _replay(leaves, steps, terms, lambda a, op: -a if op == "neg" else getattr(a, op)())
    try:
        out.backward()
    except RecursionError:
        raise RuntimeError("backward() ran into Python's recursion limit") from None
    return {"first": (_as_float(first.data), _as_float(first.grad)), "out": _as_float(out.data),
            "out_grad": _as_float(out.grad), "grads": [_as_float(leaf.grad) for leaf in leaves]}


def _value_compare(got, expected, case) -> str | None:
    """``got`` is what :func:`_value_probe` saw; ``case.spec`` says which graph it ran."""
    if not isinstance(got, dict) or set(got) != {"first", "out", "out_grad", "grads"}:
        return "the probe of your class returned something unexpected."
    data0, grad0 = got["first"]
    problem = (diagnose_close(data0, float(case.args[0]), what=f"Value({case.args[0]}).data")
               or diagnose_close(grad0, 0.0, what=f"Value({case.args[0]}).grad before backward"))
    if problem:
        return problem
    seed, n_inputs, n_steps = case.spec
    inputs, steps, terms = _random_program(seed, n_inputs, n_steps, _VALUE_UNARY)
    ref_value, ref_grad = _torch_reference(inputs, steps, terms)
    what = f"a random graph ({n_steps} operations on {n_inputs} inputs, compared with torch autograd)"
    return (diagnose_close(got["out"], float(ref_value), what=f"the output value of {what}")
            or diagnose_close(got["out_grad"], 1.0, what=f"the output's own grad after backward in {what}")
            or diagnose_close(torch.tensor(got["grads"], dtype=F64), ref_grad,
                              what=f"the input gradients of {what}"))


@check("Value", compare=_value_compare, probe=_value_probe, by_hand=True,
       hint="A node used twice must receive two contributions (the chain rule sums over paths), and a node may "
            "pass its gradient on only after every node that uses it has passed theirs; the output's own "
            "gradient is dL/dL.")
def _value_cases():
    yield Case("Value(0.5), a graph of 5 operations", (0.5,), expected=None, spec=(41, 1, 5))
    yield Case("Value(-2.0), a graph of 10 operations on 2 inputs", (-2.0,), expected=None, spec=(42, 2, 10))
    for seed in range(43, 55):
        yield Case(f"random graph of 25 operations on 3 inputs (seed {seed})", (1.0,), expected=None, spec=(seed, 3, 25))
    for seed in range(55, 59):
        yield Case(f"random graph of 80 operations on 5 inputs (seed {seed})", (3.0,), expected=None, spec=(seed, 5, 80))
    yield Case("a long chain: 400 operations on 2 inputs", (1.5,), expected=None, spec=(59, 2, 400))


# ----------------------------------------------------------------------------------------------
# Two-layer MLP
# ----------------------------------------------------------------------------------------------

def _mlp_params(g: torch.Generator, N: int, D: int, H: int, C: int, dtype=F64):
    return (torch.randn(N, D, generator=g, dtype=dtype), torch.randn(D, H, generator=g, dtype=dtype) / math.sqrt(D),
            torch.randn(H, generator=g, dtype=dtype) * 0.3, torch.randn(H, C, generator=g, dtype=dtype) / math.sqrt(H),
            torch.randn(C, generator=g, dtype=dtype) * 0.3)


def _mlp_forward_compare(got, expected, case) -> str | None:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return "mlp_forward should return a pair (out, cache)."
    problem = diagnose_close(got[0], expected[0], what="out")
    if problem:
        return problem
    if not isinstance(got[1], (tuple, list)) or len(got[1]) != 7:
        return "cache should be the tuple (X, W1, b1, W2, b2, Z1, H1) of 7 tensors."
    names = ("X", "W1", "b1", "W2", "b2", "Z1", "H1")
    for name, g, e in zip(names, got[1], expected[1]):
        problem = diagnose_close(g, e, what=f"cache entry {name}")
        if problem:
            return problem
    return None


@check("mlp_forward", reference=ref.mlp_forward, compare=_mlp_forward_compare,
       hint="Two affine layers with a ReLU between them and none after; the cache keeps the pre-activations "
            "(before the ReLU) and the activations (after it).")
def _mlp_forward_cases():
    g = _gen(404)
    yield Case("float64, N=5, D=4, H=6, C=3", _mlp_params(g, 5, 4, 6, 3))
    yield Case("float32, N=8, D=3, H=10, C=2", _mlp_params(g, 8, 3, 10, 2, torch.float32))
    yield Case("one sample, one output: N=1, D=7, H=5, C=1", _mlp_params(g, 1, 7, 5, 1))
    yield Case("float64, N=16, D=12, H=20, C=9", _mlp_params(g, 16, 12, 20, 9))
    X, W1, b1, W2, b2 = _mlp_params(g, 4, 3, 5, 2)
    yield Case("all hidden units off (b1 very negative): out = b2", (X, W1, b1 - 100.0, W2, b2))


def _mlp_autograd(dout, cache):
    """Oracle: torch autograd in float64 on the inputs stored in the cache."""
    X, W1, b1, W2, b2 = (t.detach().to(F64).requires_grad_(True) for t in cache[:5])
    out = torch.relu(X @ W1 + b1) @ W2 + b2
    grads = torch.autograd.grad((out * dout.to(F64)).sum(), (X, W1, b1, W2, b2))
    return tuple(gr.to(dout.dtype) for gr in grads)


def _mlp_backward_case(label: str, params, g: torch.Generator) -> Case:
    out, cache = ref.mlp_forward(*params)
    dout = torch.randn(out.shape, generator=g, dtype=out.dtype)
    return Case(label, (dout, cache), expected=_mlp_autograd(dout, cache))


@check("mlp_backward", by_hand=True, compare=lambda got, expected, case: diagnose_close(
           got, expected, what="(dX, dW1, db1, dW2, db2)"),
       hint="Walk the layers backwards: the second layer's backward, then the ReLU (a unit that was off, "
            "including exactly at 0, passes nothing back), then the first layer's backward.")
def _mlp_backward_cases():
    g = _gen(405)
    yield _mlp_backward_case("float64, N=5, D=4, H=6, C=3, random upstream gradient", _mlp_params(g, 5, 4, 6, 3), g)
    yield _mlp_backward_case("float64, N=16, D=12, H=20, C=9", _mlp_params(g, 16, 12, 20, 9), g)
    yield _mlp_backward_case("float32, N=8, D=3, H=10, C=2", _mlp_params(g, 8, 3, 10, 2, torch.float32), g)
    yield _mlp_backward_case("one sample, one output: N=1, D=7, H=5, C=1", _mlp_params(g, 1, 7, 5, 1), g)
    yield _mlp_backward_case("square layers D = H = C = 6 (a transposed gradient has the right shape)",
                             _mlp_params(g, 4, 6, 6, 6), g)
    X, W1, b1, W2, b2 = _mlp_params(g, 6, 3, 4, 2)
    X[0] = 0.0
    yield _mlp_backward_case("pre-activations exactly 0 (a zero input row, zero bias): ReLU gradient 0 there",
                             (X, W1, torch.zeros_like(b1), W2, b2), g)


def _linear_autograd(dout, X, W):
    """Oracle: torch autograd in float64 for out = X @ W + b."""
    leaves = [t.detach().to(F64).requires_grad_(True) for t in (X, W, torch.zeros(W.shape[1], dtype=W.dtype))]
    out = leaves[0] @ leaves[1] + leaves[2]
    return tuple(gr.to(dout.dtype) for gr in torch.autograd.grad((out * dout.to(F64)).sum(), leaves))


def _linear_case(label: str, g: torch.Generator, N: int, K: int, M: int, dtype=F64) -> Case:
    X = torch.randn(N, K, generator=g, dtype=dtype)
    W = torch.randn(K, M, generator=g, dtype=dtype)
    dout = torch.randn(N, M, generator=g, dtype=dtype)
    return Case(label, (dout, X, W), expected=_linear_autograd(dout, X, W))


@check("linear_backward", by_hand=True, compare=lambda got, expected, case: diagnose_close(
           got, expected, what="(dX, dW, db)"),
       hint="Differentiate one entry of out = X W + b with respect to one entry of each variable and sum over "
            "every entry of out it touches; each gradient has its variable's shape, and the bias is used once per row.")
def _linear_backward_cases():
    g = _gen(406)
    yield _linear_case("float64, N=5, K=3, M=4", g, 5, 3, 4)
    yield _linear_case("float64, N=7, K=6, M=2", g, 7, 6, 2)
    yield _linear_case("float32, N=9, K=4, M=5", g, 9, 4, 5, torch.float32)
    yield _linear_case("one sample: N=1, K=3, M=2", g, 1, 3, 2)
    yield _linear_case("square: N=K=M=5 (a transposed gradient has the right shape)", g, 5, 5, 5)
    yield _linear_case("a batch of 32 (the bias gradient is a sum, not a mean)", g, 32, 3, 3)


# ----------------------------------------------------------------------------------------------
# Make it work: the two-layer network trained on two spirals with the hand-written backward pass
# ----------------------------------------------------------------------------------------------

SPIRALS_TARGET = 0.93
"""The accuracy on held-out spiral points that ``train_mlp`` must reach (stated in the notebook)."""
SPIRALS_MAX_HIDDEN = 256
SPIRALS_TRAIN = 400
SPIRALS_HELD_OUT = 2000


def _train_mlp_probe(fn, case: Case):
    """In the kernel: train on the case's training set, send back only the weights (plain tensors)."""
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is faster, and the machine's other cores stay free
    try:
        params = fn(*case.args, seed=case.spec["seed"])
    finally:
        torch.set_num_threads(n_threads)
    if not isinstance(params, (tuple, list)) or len(params) != 4:
        return {"params": None, "type": type(params).__name__}
    if not all(isinstance(p, torch.Tensor) for p in params):
        return {"params": None, "type": "a tuple of " + ", ".join(type(p).__name__ for p in params)}
    return {"params": [p.detach().cpu().clone() for p in params], "type": "ok"}


def heldout_accuracy(params, X, y) -> float:
    """The grader's accuracy of the two-layer network ``params = (W1, b1, W2, b2)`` on ``(X, y)``, in float64."""
    W1, b1, W2, b2 = (p.to(F64) for p in params)
    with torch.no_grad():
        out, _ = ref.mlp_forward(X.to(F64), W1, b1, W2, b2)
    return float((out.argmax(dim=1) == y).double().mean())


def _train_mlp_compare(got, expected, case: Case) -> str | None:
    if not isinstance(got, dict) or got.get("params") is None:
        kind = got.get("type") if isinstance(got, dict) else type(got).__name__
        return f"train_mlp should return the tuple (W1, b1, W2, b2) of tensors, got {kind}."
    W1, b1, W2, b2 = got["params"]
    D, C = 2, 2
    H = W1.shape[1] if W1.dim() == 2 else -1
    shapes = [tuple(p.shape) for p in (W1, b1, W2, b2)]
    if shapes != [(D, H), (H,), (H, C), (C,)] or not 1 <= H <= SPIRALS_MAX_HIDDEN:
        return (f"the weights have shapes {shapes}; expected (2, H), (H,), (H, 2), (2,) with "
                f"1 <= H <= {SPIRALS_MAX_HIDDEN}.")
    if not all(p.is_floating_point() and torch.isfinite(p).all() for p in (W1, b1, W2, b2)):
        return "the trained weights are not all finite floating-point tensors (training diverged?)."
    from course.spirals import make_spirals

    X_test, y_test = make_spirals(SPIRALS_HELD_OUT, _gen(expected["test_seed"]))  # never sent to the kernel
    accuracy = heldout_accuracy((W1, b1, W2, b2), X_test, y_test)
    if accuracy < expected["target"]:
        return (f"accuracy {accuracy:.3f} on {SPIRALS_HELD_OUT} held-out spiral points, below the target "
                f"{expected['target']} (measured by the grader).")
    return None


@check("train_mlp", by_hand=True, compare=_train_mlp_compare, probe=_train_mlp_probe,
       hint="Random (not zero) initial weights scaled to the layer's width; each step moves every parameter "
            "against the gradient your backward pass computes for the mean cross-entropy.")
def _train_mlp_cases():
    from course.spirals import make_spirals

    for k, seed in enumerate((5, 6)):
        X, y = make_spirals(SPIRALS_TRAIN, _gen(470 + k))
        yield Case(f"two spirals, {SPIRALS_TRAIN} training points of the grader's, seed {seed}: "
                   f"held-out accuracy >= {SPIRALS_TARGET}", (X, y, 2),
                   expected={"test_seed": 480 + k, "target": SPIRALS_TARGET}, spec={"seed": seed})


# ----------------------------------------------------------------------------------------------
# Concept questions
# ----------------------------------------------------------------------------------------------

def _answer_compare(got, expected, case: Case) -> str | None:
    if not isinstance(got, str) or got.strip().lower() not in {"a", "b", "c", "d"}:
        return "answer with one of the letters 'a', 'b', 'c', 'd' (a string)."
    return None if got.strip().lower() == expected else "that is not the right answer; reread the section."


def _answer_cases(expected):
    def cases():
        yield Case("your answer", (), expected=expected)
    return cases


check("reverse_mode_answer", compare=_answer_compare)(_answer_cases(ref.reverse_mode_answer()))
check("accumulate_answer", compare=_answer_compare)(_answer_cases(ref.accumulate_answer()))
