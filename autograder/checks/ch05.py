"""Hidden checks of chapter 05 (SGD and its descendants).

The optimizer exercises are graded against ``torch.optim`` itself: a torch optimizer is run on a random
parameter and gradient sequence for several steps, and at every step the student's function receives the
parameter, the gradient and torch's own state (converted to the chapter's state dict) and must return
torch's next parameter and state.
"""
from __future__ import annotations

import math

import torch

from autograder.checks import Case, check
from course.checks import diagnose_close
from solutions_lib import optim as ref

F64 = torch.float64
F32 = torch.float32


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _state_dict(torch_state: dict, keys: tuple[str, ...], like: torch.Tensor, with_step: bool) -> dict:
    out = {}
    if with_step:
        out["step"] = int(torch_state["step"]) if "step" in torch_state else 0
    for key in keys:
        value = torch_state.get(key)
        out[key] = torch.zeros_like(like) if value is None else value.detach().clone()
    return out


def _torch_cases(name: str, opt_cls, opt_kwargs: dict, step_kwargs: dict, keys: tuple[str, ...], *,
                 shape=(3, 4), n_steps=8, seed=0, dtype=F64, grad_scale=1.0, with_step=False,
                 init_state=None):
    """One Case per step of torch's optimizer on a random parameter and gradient sequence."""
    g = _gen(seed)
    p = torch.randn(shape, generator=g, dtype=dtype)
    tp = p.clone().requires_grad_(True)
    opt = opt_cls([tp], foreach=False, **opt_kwargs)
    if init_state is not None:  # e.g. Adagrad's initial_accumulator_value
        opt.state[tp].update({k: v.clone() for k, v in init_state(tp).items()})
    for k in range(n_steps):
        grad = grad_scale * torch.randn(shape, generator=g, dtype=dtype)
        before_p = tp.detach().clone()
        before_state = _state_dict(opt.state[tp], keys, before_p, with_step)
        tp.grad = grad.clone()
        opt.step()
        after_state = _state_dict(opt.state[tp], keys, before_p, with_step)
        yield Case(f"{name}, step {k + 1} of {n_steps}", (before_p, grad.clone(), before_state),
                   dict(step_kwargs), expected=(tp.detach().clone(), after_state))


# ----------------------------------------------------------------------------- plain SGD

def _sgd_expected(p, grad, lr, wd):
    tp = p.clone().requires_grad_(True)
    opt = torch.optim.SGD([tp], lr=lr, weight_decay=wd, foreach=False)
    tp.grad = grad.clone()
    opt.step()
    return tp.detach()


@check("sgd_step", hint="Move against the gradient by lr times it; weight decay adds a multiple of the parameter to "
                        "the gradient first.")
def _sgd_step_cases():
    g = _gen(501)
    for label, shape, dtype, lr, wd in [("float64 vector of 7", (7,), F64, 0.1, 0.0),
                                        ("float32 matrix (4, 3)", (4, 3), F32, 0.05, 0.0),
                                        ("float64 (2, 3, 2) with weight_decay 0.1", (2, 3, 2), F64, 0.3, 0.1),
                                        ("0-d parameter, lr 1", (), F64, 1.0, 0.0),
                                        ("float32 vector, weight_decay 0.01", (6,), F32, 0.2, 0.01)]:
        p = torch.randn(shape, generator=g, dtype=dtype)
        grad = torch.randn(shape, generator=g, dtype=dtype)
        yield Case(label + " (oracle torch.optim.SGD)", (p, grad, lr), {"weight_decay": wd},
                   expected=_sgd_expected(p, grad, lr, wd))
    yield Case("zero gradient leaves the parameter alone", (torch.ones(3, dtype=F64), torch.zeros(3, dtype=F64), 0.5),
               expected=torch.ones(3, dtype=F64))


# ----------------------------------------------------------------------------- Robbins-Monro

def _close_same_dtype(got, expected, case):
    if torch.is_tensor(got) and torch.is_tensor(expected) and got.dtype != expected.dtype:
        return f"the result has dtype {got.dtype}, expected {expected.dtype} (use the `dtype` argument)."
    return diagnose_close(got, expected, what="the output")


@check("robbins_monro_schedule", reference=ref.robbins_monro_schedule, compare=_close_same_dtype,
       hint="The step sizes decay as a power of (1 + decay * k), with k counting from 0 so that the first step is "
            "lr0.")
def _robbins_monro_schedule_cases():
    yield Case("closed form: lr0 0.5, decay 1, 4 steps", (0.5, 1.0, 4),
               expected=torch.tensor([0.5, 0.25, 0.5 / 3, 0.125], dtype=F64))
    yield Case("lr0 1, decay 0.1, 50 steps", (1.0, 0.1, 50))
    yield Case("power 0.6, 30 steps", (0.3, 2.0, 30), {"power": 0.6})
    yield Case("decay 0 gives a constant step", (0.2, 0.0, 5), expected=torch.full((5,), 0.2, dtype=F64))
    yield Case("a single step", (0.7, 3.0, 1), expected=torch.tensor([0.7], dtype=F64))
    yield Case("float32 result", (2.0, 0.5, 10), {"power": 0.75, "dtype": F32})
    yield Case("power 1 at k = 999", (1.0, 1.0, 1000))


@check("sgd_trajectory", reference=ref.sgd_trajectory,
       hint="Differentiate the squared error with respect to theta (factor and sign), use sample k and step size k at "
            "step k, and include the starting point.")
def _sgd_trajectory_cases():
    g = _gen(503)
    x = torch.randn(20, generator=g, dtype=F64) * 3
    yield Case("inverse-time steps give the running mean", (-20.0, x, ref.robbins_monro_schedule(0.5, 1.0, 20)),
               expected=torch.cat([torch.tensor([-20.0], dtype=F64),
                                   x.cumsum(0) / torch.arange(1, 21, dtype=F64)]))
    yield Case("constant step 0.5 jumps to each sample", (3.0, x, torch.full((20,), 0.5, dtype=F64)),
               expected=torch.cat([torch.tensor([3.0], dtype=F64), x]))
    yield Case("small constant steps, float64", (0.0, torch.randn(30, generator=g, dtype=F64),
                                                torch.full((30,), 0.05, dtype=F64)))
    yield Case("5 independent runs (n, 5), tensor theta0",
               (torch.randn(5, generator=g, dtype=F64), torch.randn(15, 5, generator=g, dtype=F64),
                ref.robbins_monro_schedule(0.3, 0.5, 15)))
    yield Case("float32 samples, decaying steps",
               (1.0, torch.randn(12, 3, generator=g), ref.robbins_monro_schedule(0.4, 1.0, 12, dtype=F32)))
    yield Case("a single step", (2.0, torch.tensor([4.0], dtype=F64), torch.tensor([0.25], dtype=F64)),
               expected=torch.tensor([2.0, 3.0], dtype=F64))


# ----------------------------------------------------------------------------- momentum

_BUF = ("momentum_buffer",)


def _sgd_momentum_cases(nesterov: bool, seed: int):
    for i, (lr, m, wd, shape, dtype, n) in enumerate([
            (0.1, 0.9, 0.0, (3, 4), F64, 10),
            (0.05, 0.5, 0.1, (6,), F64, 8),
            (0.2, 0.99, 0.0, (2, 2, 3), F32, 6)]):
        label = f"{'Nesterov' if nesterov else 'momentum'} {m}, lr {lr}, weight_decay {wd}, {dtype}, {shape}"
        yield from _torch_cases(label, torch.optim.SGD, dict(lr=lr, momentum=m, nesterov=nesterov, weight_decay=wd),
                                dict(lr=lr, momentum=m, weight_decay=wd), _BUF, shape=shape, n_steps=n,
                                seed=seed + i, dtype=dtype)


@check("momentum_step",
       hint="The velocity adds the raw gradient to the decayed old velocity (no dampening), and the step uses the new "
            "velocity; weight decay acts on the gradient first.")
def _momentum_step_cases():
    yield from _sgd_momentum_cases(False, 510)


@check("nesterov_step",
       hint="Nesterov updates the velocity as heavy ball does; only its step looks ahead, combining the gradient with "
            "the momentum-scaled new velocity.")
def _nesterov_step_cases():
    yield from _sgd_momentum_cases(True, 520)


def _eig_rate(lr, m, lam):
    lr, m, lam = torch.broadcast_tensors(*(torch.as_tensor(v, dtype=F64) for v in (lr, m, lam)))
    mats = torch.stack([torch.stack([1 - lr * lam, -lr * m], -1), torch.stack([lam, m], -1)], -2)
    return torch.linalg.eigvals(mats).abs().amax(-1)


@check("momentum_rate",
       hint="The rate is the largest modulus of the update matrix's eigenvalues: mind the complex regime and a "
            "negative trace.")
def _momentum_rate_cases():
    g = _gen(530)
    yield Case("plain GD (m = 0): |1 - lr * lam|", (0.1, 0.0, 5.0), expected=torch.tensor(0.5, dtype=F64))
    yield Case("plain GD diverging (lr * lam = 3)", (0.3, 0.0, 10.0), expected=torch.tensor(2.0, dtype=F64))
    yield Case("critical damping: lr 1, m 0.25, lam 1", (1.0, 0.25, 1.0), expected=torch.tensor(0.5, dtype=F64))
    yield Case("complex eigenvalues: lr 0.1, m 0.9, lam 5", (0.1, 0.9, 5.0),
               expected=torch.tensor(math.sqrt(0.9), dtype=F64))
    yield Case("diverging with momentum: lr 1, m 0.5, lam 3.5", (1.0, 0.5, 3.5), expected=_eig_rate(1.0, 0.5, 3.5))
    lam = torch.linspace(0.01, 10.0, 40, dtype=F64)
    yield Case("a spectrum of 40 curvatures (tensor lam)", (0.05, 0.8, lam), expected=_eig_rate(0.05, 0.8, lam))
    lr = torch.rand(25, generator=g, dtype=F64)
    m = torch.rand(25, generator=g, dtype=F64)
    lam = 4 * torch.rand(25, generator=g, dtype=F64)
    yield Case("25 random (lr, m, lam) triples, all tensors", (lr, m, lam), expected=_eig_rate(lr, m, lam))
    yield Case("broadcast lr (3, 1) against lam (1, 4)",
               (torch.tensor([[0.01], [0.1], [0.5]], dtype=F64), 0.7, torch.tensor([[0.1, 1.0, 4.0, 9.0]], dtype=F64)),
               expected=_eig_rate(torch.tensor([[0.01], [0.1], [0.5]]), 0.7, torch.tensor([[0.1, 1.0, 4.0, 9.0]])))


def _optimal_expected(lo, hi):
    a, b = torch.as_tensor(lo, dtype=F64).sqrt(), torch.as_tensor(hi, dtype=F64).sqrt()
    return 4.0 / (a + b) ** 2, ((b - a) / (b + a)) ** 2


@check("optimal_momentum",
       hint="Put both ends of the spectrum on the edges of the complex-eigenvalue window and solve the two equations "
            "for the step and the momentum.")
def _optimal_momentum_cases():
    yield Case("closed form: lam in [1, 9]", (1.0, 9.0),
               expected=(torch.tensor(0.25, dtype=F64), torch.tensor(0.25, dtype=F64)))
    yield Case("well conditioned: lam_min = lam_max = 4", (4.0, 4.0),
               expected=(torch.tensor(0.25, dtype=F64), torch.tensor(0.0, dtype=F64)))
    yield Case("kappa = 100 (lam in [0.01, 1])", (0.01, 1.0), expected=_optimal_expected(0.01, 1.0))
    yield Case("kappa = 10**4", (0.5, 5000.0), expected=_optimal_expected(0.5, 5000.0))
    lo = torch.tensor([0.1, 1.0, 2.0], dtype=F64)
    hi = torch.tensor([10.0, 3.0, 200.0], dtype=F64)
    yield Case("three ranges at once (float64 tensors)", (lo, hi), expected=_optimal_expected(lo, hi))


# ----------------------------------------------------------------------------- adaptive methods

@check("adagrad_step",
       hint="AdaGrad's sum keeps every past squared gradient, and eps is added after the square root.")
def _adagrad_step_cases():
    yield from _torch_cases("lr 0.1, float64 (3, 4)", torch.optim.Adagrad, dict(lr=0.1), dict(lr=0.1), ("sum",),
                            n_steps=8, seed=540)
    yield from _torch_cases("eps 0.1, weight_decay 0.05, float64 (5,)", torch.optim.Adagrad,
                            dict(lr=0.5, eps=0.1, weight_decay=0.05), dict(lr=0.5, eps=0.1, weight_decay=0.05),
                            ("sum",), shape=(5,), n_steps=6, seed=541)
    yield from _torch_cases("tiny gradients (1e-6), float64", torch.optim.Adagrad, dict(lr=0.01, eps=1e-8),
                            dict(lr=0.01, eps=1e-8), ("sum",), n_steps=4, seed=542, grad_scale=1e-6)
    yield from _torch_cases("float32 (2, 3, 2)", torch.optim.Adagrad, dict(lr=0.05), dict(lr=0.05), ("sum",),
                            shape=(2, 3, 2), n_steps=5, seed=543, dtype=F32)
    yield from _torch_cases("initial_accumulator_value 0.5", torch.optim.Adagrad,
                            dict(lr=0.2, initial_accumulator_value=0.5), dict(lr=0.2), ("sum",), n_steps=4, seed=544)


@check("rmsprop_step",
       hint="alpha weighs the OLD average of the squared gradients, and eps is added after the square root.")
def _rmsprop_step_cases():
    yield from _torch_cases("lr 0.01, alpha 0.99, float64 (3, 4)", torch.optim.RMSprop, dict(lr=0.01),
                            dict(lr=0.01), ("square_avg",), n_steps=8, seed=550)
    yield from _torch_cases("alpha 0.7, eps 0.05, weight_decay 0.1, float64 (6,)", torch.optim.RMSprop,
                            dict(lr=0.1, alpha=0.7, eps=0.05, weight_decay=0.1),
                            dict(lr=0.1, alpha=0.7, eps=0.05, weight_decay=0.1), ("square_avg",), shape=(6,),
                            n_steps=6, seed=551)
    yield from _torch_cases("tiny gradients (1e-6), eps 1e-8", torch.optim.RMSprop, dict(lr=0.01, alpha=0.9),
                            dict(lr=0.01, alpha=0.9), ("square_avg",), n_steps=4, seed=552, grad_scale=1e-6)
    yield from _torch_cases("float32 (2, 5)", torch.optim.RMSprop, dict(lr=0.003, alpha=0.95),
                            dict(lr=0.003, alpha=0.95), ("square_avg",), shape=(2, 5), n_steps=5, seed=553, dtype=F32)


_ADAM = ("exp_avg", "exp_avg_sq")


@check("adam_step", free=("type@['step']", "dtype@['step']"),  # torch.optim keeps the step as a tensor
       hint="Both moving averages start at zero: correct each by the total weight it has given to the gradients so "
            "far, with t counting this update; store the raw averages, add eps after the root.")
def _adam_step_cases():
    yield from _torch_cases("default betas, lr 0.01, float64 (3, 4)", torch.optim.Adam, dict(lr=0.01),
                            dict(lr=0.01), _ADAM, n_steps=10, seed=560, with_step=True)
    yield from _torch_cases("betas (0.5, 0.8), eps 0.01, weight_decay 0.05, float64 (7,)", torch.optim.Adam,
                            dict(lr=0.1, betas=(0.5, 0.8), eps=0.01, weight_decay=0.05),
                            dict(lr=0.1, betas=(0.5, 0.8), eps=0.01, weight_decay=0.05), _ADAM, shape=(7,),
                            n_steps=8, seed=561, with_step=True)
    yield from _torch_cases("tiny gradients (1e-7), eps 1e-8", torch.optim.Adam, dict(lr=0.001, betas=(0.9, 0.99)),
                            dict(lr=0.001, betas=(0.9, 0.99)), _ADAM, n_steps=5, seed=562, grad_scale=1e-7,
                            with_step=True)
    yield from _torch_cases("float32 (2, 2, 3)", torch.optim.Adam, dict(lr=0.003), dict(lr=0.003), _ADAM,
                            shape=(2, 2, 3), n_steps=6, seed=563, dtype=F32, with_step=True)


# ----------------------------------------------------------------------------- noise scale and Newton

def _bsimple(grads):
    flat = grads.reshape(grads.shape[0], -1).to(F64)
    cov = torch.cov(flat.T).reshape(flat.shape[1], flat.shape[1])
    return torch.trace(cov) / flat.mean(0).pow(2).sum()


@check("gradient_noise_scale",
       hint="The noise is the unbiased variance across examples summed over parameters; the signal is the squared "
            "norm of the mean gradient.")
def _gradient_noise_scale_cases():
    g = _gen(570)
    yield Case("closed form: two examples [1, 0], [3, 2]", (torch.tensor([[1.0, 0.0], [3.0, 2.0]], dtype=F64),),
               expected=torch.tensor(0.8, dtype=F64))
    x = torch.randn(50, 8, generator=g, dtype=F64) + 0.5
    yield Case("50 examples, 8 parameters (oracle torch.cov)", (x,), expected=_bsimple(x))
    x = torch.randn(16, 3, 4, generator=g, dtype=F64) * 2 + 1
    yield Case("per-example gradients of a (3, 4) parameter", (x,), expected=_bsimple(x))
    x = torch.randn(10, 5, generator=g) + 0.3
    yield Case("float32, 10 examples", (x,), expected=_bsimple(x).float())
    x = torch.randn(200, 2, generator=g, dtype=F64) * 5 + torch.tensor([0.2, -0.1], dtype=F64)
    yield Case("noisy regime (B_simple in the hundreds)", (x,), expected=_bsimple(x))
    x = torch.full((6, 3), 2.0, dtype=F64)
    yield Case("identical per-example gradients: no noise", (x,), expected=torch.tensor(0.0, dtype=F64))


def _newton_expected(w, X, y, lr=1.0, damping=0.0):
    def loss(v):
        z = X @ v
        return (torch.nn.functional.softplus(z) - y * z).mean()

    grad = torch.autograd.functional.jacobian(loss, w)
    hess = torch.autograd.functional.hessian(loss, w) + damping * torch.eye(w.shape[0], dtype=w.dtype)
    return w - lr * torch.linalg.solve(hess, grad)


@check("logistic_newton_step",
       hint="Newton's step solves a linear system with the Hessian of the mean loss (damping added to its diagonal).")
def _logistic_newton_step_cases():
    g = _gen(580)
    for label, n, d, scale, lr, damping in [("N 40, D 3, pure Newton (oracle autograd Hessian)", 40, 3, 0.3, 1.0, 0.0),
                                            ("N 100, D 5, lr 0.5", 100, 5, 0.5, 0.5, 0.0),
                                            ("N 12, D 4, damping 0.1", 12, 4, 1.0, 1.0, 0.1),
                                            ("far from the optimum (large w)", 60, 2, 2.0, 1.0, 0.0)]:
        X = torch.randn(n, d, generator=g, dtype=F64)
        y = (torch.rand(n, generator=g, dtype=F64) < torch.sigmoid(X[:, 0])).to(F64)
        w = scale * torch.randn(d, generator=g, dtype=F64)
        yield Case(label, (w, X, y), {"lr": lr, "damping": damping}, expected=_newton_expected(w, X, y, lr, damping))
    yield Case("closed form: one feature, two points", (torch.zeros(1, dtype=F64), torch.tensor([[1.0], [-1.0]], dtype=F64),
                                                        torch.tensor([1.0, 0.0], dtype=F64)),
               expected=torch.tensor([2.0], dtype=F64))
    X = torch.randn(30, 3, generator=g)
    y = (torch.rand(30, generator=g) < 0.5).float()
    w = 0.2 * torch.randn(3, generator=g)
    yield Case("float32 inputs", (w, X, y), expected=_newton_expected(w.double(), X.double(), y.double()).float())


# ----------------------------------------------------------------------------- make it work: digits with Adam

DIGITS_TARGET = 0.92
"""The held-out accuracy that ``train_digits_adam`` must reach in ``DIGITS_STEPS`` steps (stated in the notebook)."""
DIGITS_STEPS = 40
DIGITS_MAX_HIDDEN = 256
_DIGITS_SPLITS = {5: 31, 6: 32}  # weight seed -> the seed of the grader's train/test split


def _train_digits_probe(fn, case: Case):
    """In the kernel: train on the case's training split, send back only the weights (plain tensors)."""
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matrices: one thread is about as fast, and the other cores stay free
    try:
        params = fn(*case.args, steps=DIGITS_STEPS, seed=case.spec["seed"])
    finally:
        torch.set_num_threads(n_threads)
    if not isinstance(params, (tuple, list)) or len(params) != 4:
        return {"params": None, "type": type(params).__name__}
    if not all(isinstance(p, torch.Tensor) for p in params):
        return {"params": None, "type": "a tuple of " + ", ".join(type(p).__name__ for p in params)}
    return {"params": [p.detach().cpu().clone() for p in params], "type": "ok"}


def heldout_digits_accuracy(params, X, y) -> float:
    """The grader's accuracy of ``relu(X W1 + b1) W2 + b2`` with ``params = (W1, b1, W2, b2)``, in float64."""
    W1, b1, W2, b2 = (p.to(F64) for p in params)
    with torch.no_grad():
        out = torch.relu(X.to(F64) @ W1 + b1) @ W2 + b2
    return float((out.argmax(dim=1) == y).double().mean())


def _train_digits_compare(got, expected, case: Case) -> str | None:
    if not isinstance(got, dict) or got.get("params") is None:
        kind = got.get("type") if isinstance(got, dict) else type(got).__name__
        return f"train_digits_adam should return the tuple (W1, b1, W2, b2) of tensors, got {kind}."
    W1, b1, W2, b2 = got["params"]
    D, C = 64, 10
    H = W1.shape[1] if W1.dim() == 2 else -1
    shapes = [tuple(p.shape) for p in (W1, b1, W2, b2)]
    if shapes != [(D, H), (H,), (H, C), (C,)] or not 1 <= H <= DIGITS_MAX_HIDDEN:
        return (f"the weights have shapes {shapes}; expected (64, H), (H,), (H, 10), (10,) with "
                f"1 <= H <= {DIGITS_MAX_HIDDEN}.")
    if not all(p.is_floating_point() and torch.isfinite(p).all() for p in (W1, b1, W2, b2)):
        return "the trained weights are not all finite floating-point tensors (training diverged?)."
    from course.data import load_digits

    split = load_digits(0.25, seed=expected["split_seed"])  # the test part never goes to the kernel
    accuracy = heldout_digits_accuracy((W1, b1, W2, b2), split.X_test, split.y_test)
    if accuracy < expected["target"]:
        return (f"accuracy {accuracy:.3f} on {split.X_test.shape[0]} held-out digits after {DIGITS_STEPS} steps, "
                f"below the target {expected['target']} (measured by the grader).")
    return None


@check("train_digits_adam", compare=_train_digits_compare, probe=_train_digits_probe,
       hint="Every parameter gets its own Adam state, carried from step to step; with a budget of a few tens of "
            "steps, the size of the first steps decides the outcome.")
def _train_digits_cases():
    from course.data import load_digits

    for seed, split_seed in _DIGITS_SPLITS.items():
        split = load_digits(0.25, seed=split_seed)
        yield Case(f"digits (a train/test split of the grader's), {DIGITS_STEPS} steps, seed {seed}: "
                   f"held-out accuracy >= {DIGITS_TARGET}", (split.X_train, split.y_train, 10),
                   expected={"split_seed": split_seed, "target": DIGITS_TARGET}, spec={"seed": seed})


# ----------------------------------------------------------------------------- concept questions

def _answer_compare(got, expected, case: Case) -> str | None:
    if not isinstance(got, str) or got.strip().lower() not in {"a", "b", "c", "d"}:
        return "answer with one of the letters 'a', 'b', 'c', 'd' (a string)."
    return None if got.strip().lower() == expected else "that is not the right answer; reread the section."


def _answer_cases(expected):
    def cases():
        yield Case("your answer", (), expected=expected)
    return cases


check("bias_correction_answer", compare=_answer_compare)(_answer_cases(ref.bias_correction_answer()))
check("momentum_step_size_answer", compare=_answer_compare)(_answer_cases(ref.momentum_step_size_answer()))
