"""Hidden checks of chapter 06 (activations, initialization, normalization, regularization)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from autograder.checks import Case, check
from course.checks import diagnose_close
from solutions_lib import normalization as ref

F64 = torch.float64
F32 = torch.float32


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


class _LiveState(dict):
    """A BatchNorm state that ``run_check``'s defensive copies share, so the check can read its update.

    ``_shared_with_check``: the grader reads it back as the student's code left it (see ``judge``).

    Each call of a case generator makes fresh ones, so no two runs share a state.
    """

    _shared_with_check = True

    def __deepcopy__(self, memo):
        return self


class _LiveGenerator(torch.Generator):
    """A generator that ``run_check``'s copies share, so the check can see that it was used."""

    _shared_with_check = True

    def __deepcopy__(self, memo):
        return self


# ----------------------------------------------------------------------------------------------
# Initialization
# ----------------------------------------------------------------------------------------------

@check("init_std",
       hint="xavier: sqrt(2 / (fan_in + fan_out)); he: sqrt(2 / fan_in); lecun: sqrt(1 / fan_in). "
            "Return the standard deviation, not the variance.")
def _init_std_cases():
    relu_gain = torch.nn.init.calculate_gain("relu")
    for fan_in, fan_out in [(100, 300), (784, 10), (1, 1), (64, 64), (3, 1000)]:
        yield Case(f"xavier, fan_in={fan_in}, fan_out={fan_out}", (fan_in, fan_out, "xavier"),
                   expected=math.sqrt(2.0 / (fan_in + fan_out)))
        yield Case(f"he (torch: calculate_gain('relu') / sqrt(fan_in)), fan_in={fan_in}, fan_out={fan_out}",
                   (fan_in, fan_out, "he"), expected=relu_gain / math.sqrt(fan_in))
        yield Case(f"lecun, fan_in={fan_in}, fan_out={fan_out}", (fan_in, fan_out, "lecun"),
                   expected=1.0 / math.sqrt(fan_in))


_Z = 6.0  # how many standard errors a sample statistic may be off (the draws are fixed: no flakiness)


def _init_weight_compare(got, expected, case):
    fan_in, fan_out, scheme, gen = case.args
    distribution = case.kwargs.get("distribution", "normal")
    dtype = case.kwargs.get("dtype", F32)
    if not isinstance(got, torch.Tensor):
        return f"the result should be a torch.Tensor, got {type(got).__name__}."
    if tuple(got.shape) != (fan_out, fan_in):
        return (f"the result has shape {tuple(got.shape)}, expected (fan_out, fan_in) = {(fan_out, fan_in)} "
                "(the layout of nn.Linear.weight).")
    if got.dtype != dtype:
        return f"the result has dtype {got.dtype}, expected {dtype}."
    if torch.equal(gen.get_state(), expected["initial_state"]):
        return "the generator you were given was not used: draw the samples with generator=generator."
    w = got.detach().double().flatten()
    n = w.numel()
    std = expected["std"]
    var = std ** 2
    kappa = 2.0 if distribution == "normal" else 0.8  # Var(w^2) / var^2 for a normal / a uniform law
    mean = w.mean().item()
    if abs(mean) > _Z * std / math.sqrt(n):
        return f"the sample mean is {mean:.3g}, too far from 0 for {n} draws of std {std:.4g}."
    svar = w.var(correction=0).item()
    if abs(svar - var) > _Z * var * math.sqrt(kappa / n):
        return (f"the sample variance is {svar:.5g}, expected {var:.5g} = init_std(...)**2 "
                f"(allowed error {_Z * var * math.sqrt(kappa / n):.2g} for {n} draws).")
    torch_var = expected["torch_sample"].double().var(correction=0).item()
    if abs(svar - torch_var) > _Z * var * math.sqrt(2 * kappa / n):
        return (f"the sample variance {svar:.5g} does not match that of torch.nn.init ({torch_var:.5g}) "
                f"for the same scheme and distribution.")
    bound = math.sqrt(3.0) * std
    biggest = w.abs().max().item()
    if distribution == "uniform" and biggest > bound * (1 + 1e-5):
        return f"a uniform draw should stay within +-sqrt(3) * std = +-{bound:.4g}, but one is {biggest:.4g}."
    if distribution == "normal" and biggest <= bound:
        return (f"all draws lie within +-sqrt(3) * std = +-{bound:.4g}: that is a uniform law, "
                "but distribution='normal' asks for a Gaussian.")
    return None


def _torch_init(fan_in, fan_out, scheme, distribution, seed):
    w = torch.empty(fan_out, fan_in, dtype=F64)
    g = _gen(seed)
    if scheme == "xavier":
        fn = torch.nn.init.xavier_normal_ if distribution == "normal" else torch.nn.init.xavier_uniform_
        fn(w, generator=g)
    else:
        fn = torch.nn.init.kaiming_normal_ if distribution == "normal" else torch.nn.init.kaiming_uniform_
        fn(w, mode="fan_in", nonlinearity="relu" if scheme == "he" else "linear", generator=g)
    return w


@check("init_weight", compare=_init_weight_compare,
       hint="Scale standard draws from the generator by init_std(fan_in, fan_out, scheme); a uniform law on "
            "[-a, a] has variance a^2 / 3, so a = sqrt(3) * std. The weight has shape (fan_out, fan_in).")
def _init_weight_cases():
    specs = [
        (300, 500, "he", "normal", F32),
        (500, 300, "he", "uniform", F64),
        (300, 500, "xavier", "normal", F64),
        (600, 250, "xavier", "uniform", F32),
        (400, 400, "lecun", "normal", F32),
        (250, 600, "lecun", "uniform", F64),
    ]
    for i, (fan_in, fan_out, scheme, dist, dtype) in enumerate(specs):
        gen = _LiveGenerator()
        gen.manual_seed(600 + i)
        expected = {"std": ref.init_std(fan_in, fan_out, scheme),
                    "torch_sample": _torch_init(fan_in, fan_out, scheme, dist, 700 + i),
                    "initial_state": gen.get_state().clone()}
        yield Case(f"{scheme}, {dist}, fan_in={fan_in}, fan_out={fan_out}, {str(dtype)[6:]}",
                   (fan_in, fan_out, scheme, gen), {"distribution": dist, "dtype": dtype}, expected=expected)


# ----------------------------------------------------------------------------------------------
# Activation statistics
# ----------------------------------------------------------------------------------------------

@check("activation_stats", reference=ref.activation_stats,
       hint="Apply the activation after every matrix product (h = phi(h @ W.T)), record the statistics of the "
            "activations (not of the input), over all entries, and divide by the number of entries (correction=0).")
def _activation_stats_cases():
    g = _gen(610)
    for act, dtype in [("tanh", F64), ("relu", F32), ("linear", F64), ("relu", F64)]:
        widths = [7, 12, 5, 9, 4]
        x = torch.randn(6, widths[0], generator=g, dtype=dtype)
        ws = [torch.randn(widths[i + 1], widths[i], generator=g, dtype=dtype) / math.sqrt(widths[i])
              for i in range(len(widths) - 1)]
        yield Case(f"{act}, 4 layers of widths {widths}, {str(dtype)[6:]}", (x, ws, act))
    x = torch.randn(3, 5, generator=g, dtype=F64)
    yield Case("one layer, tanh, float64", (x, [torch.randn(2, 5, generator=g, dtype=F64)], "tanh"))
    x = torch.randn(40, 50, generator=g, dtype=F64)
    ws = [3.0 * torch.randn(50, 50, generator=g, dtype=F64) / math.sqrt(50) for _ in range(6)]
    yield Case("6 tanh layers with weights too large (saturating)", (x, ws, "tanh"))
    ws = [0.2 * torch.randn(50, 50, generator=g, dtype=F64) / math.sqrt(50) for _ in range(6)]
    yield Case("6 relu layers with weights too small (vanishing)", (x, ws, "relu"))
    x = torch.randn(2, 3, generator=g, dtype=F64)
    yield Case("batch of 2, linear", (x, [torch.randn(3, 3, generator=g, dtype=F64)] * 2, "linear"))


# ----------------------------------------------------------------------------------------------
# BatchNorm
# ----------------------------------------------------------------------------------------------

def _bn_state(d, dtype, g, momentum=0.1, eps=1e-5, fresh=False):
    if fresh:
        rm, rv = torch.zeros(d, dtype=dtype), torch.ones(d, dtype=dtype)
    else:
        rm, rv = torch.randn(d, generator=g, dtype=dtype), torch.rand(d, generator=g, dtype=dtype) + 0.5
    return _LiveState(running_mean=rm, running_var=rv, momentum=momentum, eps=eps)


def _bn_expected(x, gamma, beta, state, mode):
    """torch's own batch_norm (the oracle for out and the running statistics), solutions_lib for the cache."""
    rm, rv = state["running_mean"].clone(), state["running_var"].clone()
    out = F.batch_norm(x, rm, rv, gamma, beta, training=(mode == "train"),
                       momentum=state["momentum"], eps=state["eps"])
    _, cache = ref.batchnorm_forward(x, gamma, beta, {k: (v.clone() if torch.is_tensor(v) else v)
                                                      for k, v in state.items()}, mode)
    return {"out": out, "xhat": cache[0], "inv_std": cache[2], "running_mean": rm, "running_var": rv}


def _batchnorm_forward_compare(got, expected, case):
    state = case.args[3]
    mode = case.args[4]
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return "batchnorm_forward should return a pair (out, cache)."
    out, cache = got
    problem = diagnose_close(out, expected["out"], what="out")
    if problem:
        return problem
    for key in ("running_mean", "running_var"):
        if key not in state or not torch.is_tensor(state[key]):
            return f"state[{key!r}] should still be a tensor after the call."
        what = f"state[{key!r}] after a {mode}-mode call"
        problem = diagnose_close(state[key], expected[key], what=what)
        if problem:
            return problem
    # the cache in every mode (in eval mode, from the running statistics), with out's kind and dtype
    if not isinstance(cache, (tuple, list)) or len(cache) != 3:
        return "cache should be the tuple (xhat, gamma, inv_std)."
    return (diagnose_close(out, expected["out"], what="out", strict=True)
            or diagnose_close(cache[0], expected["xhat"], what=f"cache[0] (xhat) in {mode} mode", strict=True)
            or diagnose_close(cache[1], case.args[1], what=f"cache[1] (gamma) in {mode} mode", strict=True)
            or diagnose_close(cache[2], expected["inv_std"], what=f"cache[2] (inv_std) in {mode} mode", strict=True)
            or diagnose_close(state["running_mean"], expected["running_mean"], what="state['running_mean']",
                              strict=True)
            or diagnose_close(state["running_var"], expected["running_var"], what="state['running_var']",
                              strict=True))


@check("batchnorm_forward", compare=_batchnorm_forward_compare,
       hint="Train: normalize with the batch mean and the biased batch variance; update running = (1 - momentum) * "
            "running + momentum * batch_stat with the UNBIASED variance (times N / (N - 1)). Eval: use the running "
            "statistics and leave state alone.")
def _batchnorm_forward_cases():
    g = _gen(620)
    specs = [
        ("train, float64 (8, 5), momentum 0.1", 8, 5, F64, 0.1, 1e-5, "train", False),
        ("train, float32 (16, 3), momentum 0.3, eps 1e-3", 16, 3, F32, 0.3, 1e-3, "train", False),
        ("train, batch of 2 (N - 1 = 1), float64", 2, 4, F64, 0.25, 1e-5, "train", False),
        ("train from a fresh state (zeros, ones), float64 (5, 6)", 5, 6, F64, 0.1, 1e-5, "train", True),
        ("train, momentum 1 (running = batch stats), float64", 6, 3, F64, 1.0, 1e-5, "train", False),
        ("eval, float64 (7, 4)", 7, 4, F64, 0.1, 1e-5, "eval", False),
        ("eval, float32 (3, 5), eps 1e-2", 3, 5, F32, 0.2, 1e-2, "eval", False),
        ("eval on a single sample", 1, 6, F64, 0.1, 1e-5, "eval", False),
    ]
    for label, n, d, dtype, momentum, eps, mode, fresh in specs:
        x = 2.0 * torch.randn(n, d, generator=g, dtype=dtype) + torch.randn(d, generator=g, dtype=dtype)
        gamma = torch.rand(d, generator=g, dtype=dtype) + 0.5
        beta = torch.randn(d, generator=g, dtype=dtype)
        state = _bn_state(d, dtype, g, momentum, eps, fresh)
        yield Case(label, (x, gamma, beta, state, mode), expected=_bn_expected(x, gamma, beta, state, mode))
    d = 3
    x = torch.tensor([[1.0, 2.0, 0.0], [1.0, 4.0, 0.0], [1.0, 6.0, 3.0]], dtype=F64)
    state = _bn_state(d, F64, g, 0.1, 1e-5, True)
    gamma, beta = torch.ones(d, dtype=F64), torch.zeros(d, dtype=F64)
    yield Case("train, a constant feature (zero variance)", (x, gamma, beta, state, "train"),
               expected=_bn_expected(x, gamma, beta, state, "train"))


# ----------------------------------------------------------------------------------------------
# The Jacobian of the normalization (the stepping stone of the backward pass)
# ----------------------------------------------------------------------------------------------

def _jacobian_case(label, n, dtype, g, eps=1e-5, scale=1.0):
    x = scale * torch.randn(n, generator=g, dtype=F64) + torch.randn(1, generator=g, dtype=F64)
    inv_std = 1.0 / torch.sqrt(x.var(correction=0) + eps)
    xhat = (x - x.mean()) * inv_std
    oracle = torch.autograd.functional.jacobian(lambda t: (t - t.mean()) / torch.sqrt(t.var(correction=0) + eps), x)
    return Case(label, (xhat.to(dtype), inv_std.to(dtype)), expected=oracle.to(dtype))


@check("batchnorm_jacobian", by_hand=True,
       hint="Every xhat_j depends on x_i directly (the diagonal) and through the mean and the variance (every "
            "entry); the derivative of s = (var + eps)^(-1/2) brings a factor -1/2 that the 2 from the square "
            "cancels. J must send the constant vector to zero, and xhat nearly to zero.")
def _batchnorm_jacobian_cases():
    g = _gen(625)
    yield _jacobian_case("N = 5, float64", 5, F64, g)
    yield _jacobian_case("N = 12, float64, eps 1e-1 (xhat not of unit variance)", 12, F64, g, eps=1e-1)
    yield _jacobian_case("N = 3, float64", 3, F64, g)
    yield _jacobian_case("N = 8, float32", 8, F32, g)
    yield _jacobian_case("N = 6, small-variance column, eps 1e-3", 6, F64, g, eps=1e-3, scale=0.05)
    yield _jacobian_case("N = 2, float64", 2, F64, g)


def _batchnorm_backward_case(label, n, d, dtype, g, eps=1e-5, scale=1.0):
    x = (scale * torch.randn(n, d, generator=g, dtype=F64) + torch.randn(d, generator=g, dtype=F64))
    gamma = torch.rand(d, generator=g, dtype=F64) + 0.5
    beta = torch.randn(d, generator=g, dtype=F64)
    dout = torch.randn(n, d, generator=g, dtype=F64)  # a random, non-uniform upstream gradient
    # The oracle: autograd through torch's batch_norm, in float64.
    xr, gr, br = (t.clone().requires_grad_() for t in (x, gamma, beta))
    out = F.batch_norm(xr, None, None, gr, br, training=True, eps=eps)
    dx, dgamma, dbeta = torch.autograd.grad(out, (xr, gr, br), dout)
    state = {"running_mean": torch.zeros(d, dtype=F64), "running_var": torch.ones(d, dtype=F64),
             "momentum": 0.1, "eps": eps}
    _, cache = ref.batchnorm_forward(x, gamma, beta, state, "train")
    cache = tuple(c.to(dtype) for c in cache)
    return Case(label, (dout.to(dtype), cache), expected=(dx, dgamma, dbeta))


@check("batchnorm_backward", by_hand=True,
       hint="Every x_i moves the batch mean and variance, so dx has the direct path and two paths through the "
            "statistics: contract gamma times the upstream gradient with the Jacobian of batchnorm_jacobian, column "
            "by column. dgamma and dbeta collect every sample's contribution.")
def _batchnorm_backward_cases():
    g = _gen(630)
    yield _batchnorm_backward_case("float64 (10, 4)", 10, 4, F64, g)
    yield _batchnorm_backward_case("float64 (64, 7), eps 1e-3", 64, 7, F64, g, eps=1e-3)
    yield _batchnorm_backward_case("batch of 2, float64", 2, 5, F64, g)
    yield _batchnorm_backward_case("one feature (D = 1), float64", 9, 1, F64, g)
    yield _batchnorm_backward_case("float32 (12, 6)", 12, 6, F32, g)
    yield _batchnorm_backward_case("small-variance features, float64", 8, 3, F64, g, scale=0.05)


# ----------------------------------------------------------------------------------------------
# LayerNorm
# ----------------------------------------------------------------------------------------------

def _layernorm_forward_compare(got, expected, case):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return "layernorm_forward should return a pair (out, cache)."
    out, cache = got
    if not isinstance(cache, (tuple, list)) or len(cache) != 3:
        return "cache should be the tuple (xhat, gamma, inv_std)."
    return (diagnose_close(out, expected["out"], what="out", strict=True)
            or diagnose_close(cache[0], expected["xhat"], what="cache[0] (xhat)", strict=True)
            or diagnose_close(cache[1], case.args[1], what="cache[1] (gamma)", strict=True)
            or diagnose_close(cache[2], expected["inv_std"], what="cache[2] (inv_std, shape (..., 1))", strict=True))


def _layernorm_expected(x, gamma, beta, eps=1e-5):
    _, cache = ref.layernorm_forward(x, gamma, beta, eps)
    out = F.layer_norm(x, (x.shape[-1],), gamma, beta, eps)
    return {"out": out, "xhat": cache[0], "inv_std": cache[2]}


@check("layernorm_forward", compare=_layernorm_forward_compare,
       hint="Normalize each row over the LAST dimension (not over the batch), with the biased variance and eps "
            "inside the square root; keep inv_std with keepdim=True, shape (..., 1).")
def _layernorm_forward_cases():
    g = _gen(640)
    for label, shape, dtype, eps in [("float64 (6, 8)", (6, 8), F64, 1e-5),
                                     ("float32 (5, 10)", (5, 10), F32, 1e-5),
                                     ("float64 (2, 3, 7), a batch of sequences", (2, 3, 7), F64, 1e-5),
                                     ("float64 (4, 5), eps 1e-2", (4, 5), F64, 1e-2),
                                     ("a single row, float64 (1, 6)", (1, 6), F64, 1e-5),
                                     ("float64 (3, 2), two features", (3, 2), F64, 1e-5)]:
        x = 3.0 * torch.randn(*shape, generator=g, dtype=dtype) + 1.0
        gamma = torch.rand(shape[-1], generator=g, dtype=dtype) + 0.5
        beta = torch.randn(shape[-1], generator=g, dtype=dtype)
        kwargs = {"eps": eps} if eps != 1e-5 else {}
        yield Case(label, (x, gamma, beta), kwargs, expected=_layernorm_expected(x, gamma, beta, eps))
    x = torch.tensor([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]], dtype=F64)
    gamma, beta = torch.ones(3, dtype=F64), torch.zeros(3, dtype=F64)
    yield Case("a constant row (zero variance)", (x, gamma, beta), expected=_layernorm_expected(x, gamma, beta))


def _layernorm_backward_case(label, shape, dtype, g, eps=1e-5):
    x = 2.0 * torch.randn(*shape, generator=g, dtype=F64) + 0.5
    d = shape[-1]
    gamma = torch.rand(d, generator=g, dtype=F64) + 0.5
    beta = torch.randn(d, generator=g, dtype=F64)
    dout = torch.randn(*shape, generator=g, dtype=F64)
    xr, gr, br = (t.clone().requires_grad_() for t in (x, gamma, beta))
    out = F.layer_norm(xr, (d,), gr, br, eps)
    dx, dgamma, dbeta = torch.autograd.grad(out, (xr, gr, br), dout)
    _, cache = ref.layernorm_forward(x, gamma, beta, eps)
    cache = tuple(c.to(dtype) for c in cache)
    return Case(label, (dout.to(dtype), cache), expected=(dx, dgamma, dbeta))


@check("layernorm_backward", by_hand=True,
       hint="Within one row this is BatchNorm's derivation with N replaced by D; but gamma now varies along the "
            "summed dimension, so it stays inside the sums. dgamma and dbeta collect every leading index.")
def _layernorm_backward_cases():
    g = _gen(650)
    yield _layernorm_backward_case("float64 (6, 8)", (6, 8), F64, g)
    yield _layernorm_backward_case("float64 (2, 4, 5), a batch of sequences", (2, 4, 5), F64, g)
    yield _layernorm_backward_case("float32 (5, 7)", (5, 7), F32, g)
    yield _layernorm_backward_case("a single row, float64 (1, 9)", (1, 9), F64, g)
    yield _layernorm_backward_case("two features, float64 (4, 2)", (4, 2), F64, g)


# ----------------------------------------------------------------------------------------------
# Dropout
# ----------------------------------------------------------------------------------------------

@check("dropout_forward", reference=ref.dropout_forward,
       hint="p is the probability of DROPPING a unit: keep where u >= p with u = torch.rand(x.shape, "
            "generator=generator, dtype=x.dtype, device=x.device); scale the kept units by 1 / (1 - p) in training; "
            "return x unchanged (and a mask of ones) in evaluation.")
def _dropout_forward_cases():
    g = _gen(660)
    yield Case("train, p = 0.5, float64 (6, 7)", (torch.randn(6, 7, generator=g, dtype=F64), 0.5, True, _gen(1)))
    yield Case("train, p = 0.2, float32 (4, 3, 5)", (torch.randn(4, 3, 5, generator=g), 0.2, True, _gen(2)))
    yield Case("train, p = 0.9, float64 (50,)", (torch.randn(50, generator=g, dtype=F64), 0.9, True, _gen(3)))
    yield Case("train, p = 0 keeps everything", (torch.randn(3, 4, generator=g, dtype=F64), 0.0, True, _gen(4)))
    yield Case("eval, p = 0.5: the identity", (torch.randn(5, 4, generator=g, dtype=F64), 0.5, False, _gen(5)))
    yield Case("eval, p = 0.3, float32", (torch.randn(2, 6, generator=g), 0.3, False, _gen(6)))
    # p equal to one of the draws: the statement keeps a unit exactly when u >= p
    u = torch.rand(4, 6, generator=_gen(7), dtype=F64)
    yield Case("train, p equal to one of the uniform draws (u >= p keeps it)",
               (torch.randn(4, 6, generator=g, dtype=F64), float(u[1, 2]), True, _gen(7)))


@check("dropout_backward", by_hand=True, reference=ref.dropout_backward,
       hint="To x, the forward pass was an elementwise product with a constant: the mask, scale included.")
def _dropout_backward_cases():
    g = _gen(670)
    for label, shape, dtype, p in [("p = 0.5, float64 (6, 7)", (6, 7), F64, 0.5),
                                   ("p = 0.25, float32 (3, 4, 5)", (3, 4, 5), F32, 0.25),
                                   ("p = 0.8, float64 (40,)", (40,), F64, 0.8)]:
        x = torch.randn(*shape, generator=g, dtype=dtype)
        _, mask = ref.dropout_forward(x, p, True, g)
        yield Case(label, (torch.randn(*shape, generator=g, dtype=dtype), mask))
    yield Case("evaluation mask (all ones)", (torch.randn(4, 3, generator=g, dtype=F64), torch.ones(4, 3, dtype=F64)))


# ----------------------------------------------------------------------------------------------
# Residual block and ensembles
# ----------------------------------------------------------------------------------------------

def _residual_oracle(x, w1, b1, w2, b2):
    return x + F.linear(F.relu(F.linear(x, w1, b1)), w2, b2)


@check("residual_block",
       hint="out = x + relu(x @ w1.T + b1) @ w2.T + b2: keep the skip connection, and no activation after the sum.")
def _residual_block_cases():
    g = _gen(680)
    for label, n, d, h, dtype in [("float64, N=5, D=4, H=7", 5, 4, 7, F64), ("float32, N=8, D=6, H=3", 8, 6, 3, F32),
                                  ("float64, one sample, D=3, H=3", 1, 3, 3, F64),
                                  ("float64, N=16, D=10, H=20", 16, 10, 20, F64)]:
        x = torch.randn(n, d, generator=g, dtype=dtype)
        w1 = torch.randn(h, d, generator=g, dtype=dtype)
        b1 = torch.randn(h, generator=g, dtype=dtype)
        w2 = torch.randn(d, h, generator=g, dtype=dtype)
        b2 = torch.randn(d, generator=g, dtype=dtype)
        yield Case(label, (x, w1, b1, w2, b2), expected=_residual_oracle(x, w1, b1, w2, b2))


@check("ensemble_average",
       hint="Take a (stable) softmax of each model's logits over the classes (the last dimension), THEN average "
            "over the models (dimension 0). Averaging the logits first is a different (geometric) ensemble.")
def _ensemble_average_cases():
    g = _gen(690)
    for label, shape, dtype, scale in [("float64, M=3 models, N=5, C=4", (3, 5, 4), F64, 2.0),
                                       ("float32, M=5, N=7, C=10", (5, 7, 10), F32, 3.0),
                                       ("a single model (M = 1)", (1, 4, 3), F64, 1.0),
                                       ("large logits (around 1000)", (4, 3, 5), F64, 30.0),
                                       ("float32, large logits", (2, 6, 3), F32, 50.0)]:
        logits = scale * torch.randn(*shape, generator=g, dtype=dtype)
        if "1000" in label:
            logits = logits + 1000.0
        yield Case(label, (logits,), expected=torch.softmax(logits.double(), dim=-1).mean(dim=0))
    # Two models that disagree with different margins: the mean of the logits follows the larger margin.
    logits = torch.tensor([[[4.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]]], dtype=F64)
    yield Case("two models that disagree with different margins", (logits,),
               expected=torch.softmax(logits, -1).mean(0))


# ----------------------------------------------------------------------------------------------
# Concept questions
# ----------------------------------------------------------------------------------------------

# The letter answers are judged as chapter 02's concept questions are.
from autograder.checks.ch02 import _answer_cases, _answer_compare  # noqa: E402

check("concept_eval_mode", compare=_answer_compare)(_answer_cases(ref.concept_eval_mode()))
check("concept_bn_learning_rate", compare=_answer_compare)(_answer_cases(ref.concept_bn_learning_rate()))
check("concept_dropout_scaling", compare=_answer_compare)(_answer_cases(ref.concept_dropout_scaling()))


# ----------------------------------------------------------------------------------------------
# Make it work: a BatchNorm network trained with the student's pieces
# ----------------------------------------------------------------------------------------------

BN_MLP_TARGET = 0.95
"""Mean held-out accuracy of three trainings that the network must reach.

Over 48 runs the reference scored 0.93 to 0.99 (median 0.978; at this large learning rate about one run
in twenty lands low), so the mean of three stays above 0.95; a BatchNorm backward pass without the paths
through the batch statistics scores 0.51 to 0.96 (median about 0.86)."""
BN_MLP_SPLIT_SEED = 606
BN_MLP_SEEDS = (1, 2, 3)
BN_MLP_SETTINGS = {"hidden": 64, "steps": 200, "lr": 2.0, "batch_size": 64, "p": 0.1}
_BN_MLP_KEYS = ("W1", "b1", "gamma1", "beta1", "running_mean1", "running_var1",
                "W2", "b2", "gamma2", "beta2", "running_mean2", "running_var2", "W3", "b3")


def _bn_mlp_probe(fn, case):
    """In the kernel: train once per seed on the training split, send back only the returned tensors."""
    runs = []
    for seed in case.spec["seeds"]:
        params = fn(*case.args, **case.kwargs, seed=seed)
        if not isinstance(params, dict):
            return {"runs": None, "type": type(params).__name__}
        runs.append({str(k): torch.as_tensor(v).detach().cpu().clone() for k, v in params.items()})
    return {"runs": runs, "type": "ok"}


def bn_mlp_heldout_accuracy(params, X, y):
    """The grader's accuracy of a network given by ``params`` on ``(X, y)``, evaluated in float64."""
    hidden = params["W1"].shape[0]
    shapes = {"W1": (hidden, X.shape[1]), "W2": (hidden, hidden), "W3": (10, hidden), "b3": (10,)}
    for key in _BN_MLP_KEYS:
        want = shapes.get(key, (hidden,))
        if tuple(params[key].shape) != want:
            raise ValueError(f"params[{key!r}] has shape {tuple(params[key].shape)}, expected {want}")
    p64 = {k: params[k].to(F64) for k in _BN_MLP_KEYS}
    with torch.no_grad():
        logits = ref.bn_mlp_logits(p64, X.to(F64))
    return float((logits.argmax(1) == y).to(F64).mean())


def _bn_mlp_compare(got, expected, case):
    if not isinstance(got, dict) or not isinstance(got.get("runs"), list):
        kind = got.get("type") if isinstance(got, dict) else type(got).__name__
        return f"train_bn_mlp should return a dict of tensors, got {kind}."
    from course.data import load_digits

    split = load_digits(0.25, seed=BN_MLP_SPLIT_SEED)  # the held-out part never reaches the kernel
    scores = []
    for params in got["runs"]:
        missing = [k for k in _BN_MLP_KEYS if k not in params]
        if missing:
            return f"the returned dict has no {', '.join(repr(k) for k in missing)}."
        if not all(torch.is_floating_point(params[k]) and torch.isfinite(params[k]).all() for k in _BN_MLP_KEYS):
            return "the returned tensors are not all finite floating tensors (did training diverge?)."
        try:
            scores.append(bn_mlp_heldout_accuracy(params, split.X_test, split.y_test))
        except Exception as err:  # noqa: BLE001  (tensors of the wrong shapes)
            return f"the returned network could not be evaluated ({type(err).__name__}: {str(err)[:200]})"
    if len(scores) != len(case.spec["seeds"]):
        return "train_bn_mlp did not return one network per seed."
    mean = sum(scores) / len(scores)
    if mean < expected:
        return (f"mean held-out accuracy {mean:.3f} over three trainings ({', '.join(f'{a:.3f}' for a in scores)}), "
                f"below the target {expected} (measured by the grader in evaluation mode, on digits your code "
                "never saw).")
    return None


@check("train_bn_mlp", compare=_bn_mlp_compare, probe=_bn_mlp_probe, by_hand=True,
       hint="Train in training mode and return the running statistics that training updated; backpropagate "
            "through dropout, ReLU, BatchNorm (through the batch statistics too) and each linear layer, in that "
            "order, before changing any parameter.")
def _train_bn_mlp_cases():
    from course.data import load_digits

    split = load_digits(0.25, seed=BN_MLP_SPLIT_SEED)
    yield Case(f"digits (the grader's split), default settings, seeds {BN_MLP_SEEDS}: mean held-out accuracy "
               f">= {BN_MLP_TARGET}", (split.X_train, split.y_train), dict(BN_MLP_SETTINGS),
               expected=BN_MLP_TARGET, spec={"seeds": BN_MLP_SEEDS})
