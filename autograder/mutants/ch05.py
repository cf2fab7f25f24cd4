"""Classic wrong answers and correct alternatives for chapter 05 (SGD and its descendants)."""

CHAPTER = "05-optimization"



def _edit(source: str, *pairs: tuple[str, str], prefix: str = "") -> str:
    """``prefix`` + ``source`` with each ``old`` replaced by ``new`` (each ``old`` must occur)."""
    for old, new in pairs:
        if old not in source:
            raise ValueError(f"mutant edit not found: {old!r}")
        source = source.replace(old, new)
    return prefix + source


_TRAIN_ADAM = '''
def train_digits_adam(X, y, num_classes, steps=40, hidden=64, lr=0.05, seed=0):
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
'''

_NO_CORRECTION = '''
def _no_correction(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8):
    m = betas[0] * state["exp_avg"] + (1 - betas[0]) * grad
    v = betas[1] * state["exp_avg_sq"] + (1 - betas[1]) * grad * grad
    return param - lr * m / (v.sqrt() + eps), {"step": state["step"] + 1, "exp_avg": m, "exp_avg_sq": v}
'''

MUTANTS = {
    "sgd_step": {
        "steps uphill (adds the gradient)": """
def sgd_step(param, grad, lr, weight_decay=0.0):
    return param + lr * (grad + weight_decay * param)
""",
        "ignores weight_decay": """
def sgd_step(param, grad, lr, weight_decay=0.0):
    return param - lr * grad
""",
        "weight decay applied outside the learning rate": """
def sgd_step(param, grad, lr, weight_decay=0.0):
    return param - lr * grad - weight_decay * param
""",
        "updates param in place": """
def sgd_step(param, grad, lr, weight_decay=0.0):
    param -= lr * (grad + weight_decay * param)
    return param
""",
    },
    "robbins_monro_schedule": {
        "k starts at 1": """
def robbins_monro_schedule(lr0, decay, n_steps, power=1.0, dtype=torch.float64):
    k = torch.arange(1, n_steps + 1, dtype=dtype)
    return lr0 / (1.0 + decay * k) ** power
""",
        "forgets the power": """
def robbins_monro_schedule(lr0, decay, n_steps, power=1.0, dtype=torch.float64):
    k = torch.arange(n_steps, dtype=dtype)
    return lr0 / (1.0 + decay * k)
""",
        "exponential decay (summable, violates sum = infinity)": """
def robbins_monro_schedule(lr0, decay, n_steps, power=1.0, dtype=torch.float64):
    k = torch.arange(n_steps, dtype=dtype)
    return lr0 / (1.0 + decay) ** (power * k)
""",
        "ignores dtype": """
def robbins_monro_schedule(lr0, decay, n_steps, power=1.0, dtype=torch.float64):
    k = torch.arange(n_steps, dtype=torch.float64)
    return lr0 / (1.0 + decay * k) ** power
""",
    },
    "sgd_trajectory": {
        "drops the factor 2 of the gradient": """
def sgd_trajectory(theta0, samples, lrs):
    theta = torch.as_tensor(theta0, dtype=samples.dtype).expand(samples.shape[1:])
    path = [theta]
    for x, lr in zip(samples, lrs):
        theta = theta - lr * (theta - x)
        path.append(theta)
    return torch.stack(path)
""",
        "wrong sign of the gradient": """
def sgd_trajectory(theta0, samples, lrs):
    theta = torch.as_tensor(theta0, dtype=samples.dtype).expand(samples.shape[1:])
    path = [theta]
    for x, lr in zip(samples, lrs):
        theta = theta - 2 * lr * (x - theta)
        path.append(theta)
    return torch.stack(path)
""",
        "leaves theta_0 out of the path": """
def sgd_trajectory(theta0, samples, lrs):
    theta = torch.as_tensor(theta0, dtype=samples.dtype).expand(samples.shape[1:])
    path = []
    for x, lr in zip(samples, lrs):
        theta = theta - 2 * lr * (theta - x)
        path.append(theta)
    return torch.stack(path)
""",
        "pairs sample k with step size k + 1": """
def sgd_trajectory(theta0, samples, lrs):
    theta = torch.as_tensor(theta0, dtype=samples.dtype).expand(samples.shape[1:])
    path = [theta]
    lrs = torch.cat([lrs[1:], lrs[-1:]])
    for x, lr in zip(samples, lrs):
        theta = theta - 2 * lr * (theta - x)
        path.append(theta)
    return torch.stack(path)
""",
    },
    "momentum_step": {
        "steps with the old velocity (update order swapped)": """
def momentum_step(param, grad, state, lr, momentum, weight_decay=0.0):
    g = grad + weight_decay * param
    v_old = state["momentum_buffer"]
    return param - lr * v_old, {"momentum_buffer": momentum * v_old + g}
""",
        "momentum applied to the gradient, not the velocity": """
def momentum_step(param, grad, state, lr, momentum, weight_decay=0.0):
    g = grad + weight_decay * param
    v = state["momentum_buffer"] + momentum * g
    return param - lr * v, {"momentum_buffer": v}
""",
        "dampened average (1 - m) * grad": """
def momentum_step(param, grad, state, lr, momentum, weight_decay=0.0):
    g = grad + weight_decay * param
    v = momentum * state["momentum_buffer"] + (1 - momentum) * g
    return param - lr * v, {"momentum_buffer": v}
""",
        "weight decay left out of the velocity": """
def momentum_step(param, grad, state, lr, momentum, weight_decay=0.0):
    v = momentum * state["momentum_buffer"] + grad
    return param - lr * (v + weight_decay * param), {"momentum_buffer": v}
""",
    },
    "nesterov_step": {
        "plain heavy-ball momentum": """
def nesterov_step(param, grad, state, lr, momentum, weight_decay=0.0):
    g = grad + weight_decay * param
    v = momentum * state["momentum_buffer"] + g
    return param - lr * v, {"momentum_buffer": v}
""",
        "look-ahead with the old velocity": """
def nesterov_step(param, grad, state, lr, momentum, weight_decay=0.0):
    g = grad + weight_decay * param
    v_old = state["momentum_buffer"]
    return param - lr * (g + momentum * v_old), {"momentum_buffer": momentum * v_old + g}
""",
        "stores the look-ahead direction as the velocity": """
def nesterov_step(param, grad, state, lr, momentum, weight_decay=0.0):
    g = grad + weight_decay * param
    v = g + momentum * (momentum * state["momentum_buffer"] + g)
    return param - lr * v, {"momentum_buffer": v}
""",
    },
    "momentum_rate": {
        "forgets the complex case (uses the real part only)": """
def momentum_rate(lr, momentum, lam):
    lr, momentum, lam = (torch.as_tensor(v, dtype=torch.float64) for v in (lr, momentum, lam))
    trace = 1.0 + momentum - lr * lam
    disc = (trace ** 2 - 4.0 * momentum).clamp(min=0)
    return (trace.abs() + disc.sqrt()) / 2.0
""",
        "largest eigenvalue without the modulus": """
def momentum_rate(lr, momentum, lam):
    lr, momentum, lam = (torch.as_tensor(v, dtype=torch.float64) for v in (lr, momentum, lam))
    e = torch.linalg.eigvals(torch.stack([torch.stack(torch.broadcast_tensors(1 - lr * lam, -lr * momentum), -1),
                                          torch.stack(torch.broadcast_tensors(lam, momentum), -1)], -2))
    return e.real.max(dim=-1).values
""",
        "momentum instead of its square root in the complex case": """
def momentum_rate(lr, momentum, lam):
    lr, momentum, lam = (torch.as_tensor(v, dtype=torch.float64) for v in (lr, momentum, lam))
    trace = 1.0 + momentum - lr * lam
    disc = trace ** 2 - 4.0 * momentum
    real = (trace.abs() + disc.clamp(min=0).sqrt()) / 2.0
    return torch.where(disc >= 0, real, momentum)
""",
    },
    "optimal_momentum": {
        "momentum not squared (returns the rate)": """
def optimal_momentum(lam_min, lam_max):
    a = torch.as_tensor(lam_min, dtype=torch.float64).sqrt()
    b = torch.as_tensor(lam_max, dtype=torch.float64).sqrt()
    return 4.0 / (a + b) ** 2, (b - a) / (b + a)
""",
        "GD's best step 2 / (lam_min + lam_max)": """
def optimal_momentum(lam_min, lam_max):
    a = torch.as_tensor(lam_min, dtype=torch.float64).sqrt()
    b = torch.as_tensor(lam_max, dtype=torch.float64).sqrt()
    return 2.0 / (a ** 2 + b ** 2), ((b - a) / (b + a)) ** 2
""",
        "kappa instead of sqrt(kappa)": """
def optimal_momentum(lam_min, lam_max):
    a = torch.as_tensor(lam_min, dtype=torch.float64)
    b = torch.as_tensor(lam_max, dtype=torch.float64)
    return 4.0 / (a.sqrt() + b.sqrt()) ** 2, ((b - a) / (b + a)) ** 2
""",
    },
    "adagrad_step": {
        "forgets to accumulate (only the current g^2)": """
def adagrad_step(param, grad, state, lr, eps=1e-10, weight_decay=0.0):
    g = grad + weight_decay * param
    s = g * g
    return param - lr * g / (s.sqrt() + eps), {"sum": s}
""",
        "eps inside the square root": """
def adagrad_step(param, grad, state, lr, eps=1e-10, weight_decay=0.0):
    g = grad + weight_decay * param
    s = state["sum"] + g * g
    return param - lr * g / (s + eps).sqrt(), {"sum": s}
""",
        "divides by the sum, not its square root": """
def adagrad_step(param, grad, state, lr, eps=1e-10, weight_decay=0.0):
    g = grad + weight_decay * param
    s = state["sum"] + g * g
    return param - lr * g / (s + eps), {"sum": s}
""",
        "uses the old sum in the step": """
def adagrad_step(param, grad, state, lr, eps=1e-10, weight_decay=0.0):
    g = grad + weight_decay * param
    s = state["sum"] + g * g
    return param - lr * g / (state["sum"].sqrt() + eps), {"sum": s}
""",
    },
    "rmsprop_step": {
        "averages the gradient, not its square": """
def rmsprop_step(param, grad, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = grad + weight_decay * param
    r = alpha * state["square_avg"] + (1.0 - alpha) * g
    return param - lr * g / (r.abs().sqrt() + eps), {"square_avg": r}
""",
        "squares the running average instead of the gradient": """
def rmsprop_step(param, grad, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = grad + weight_decay * param
    r = (alpha * state["square_avg"].sqrt() + (1.0 - alpha) * g.abs()) ** 2
    return param - lr * g / (r.sqrt() + eps), {"square_avg": r}
""",
        "alpha on the new term": """
def rmsprop_step(param, grad, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = grad + weight_decay * param
    r = (1.0 - alpha) * state["square_avg"] + alpha * g * g
    return param - lr * g / (r.sqrt() + eps), {"square_avg": r}
""",
        "eps inside the square root": """
def rmsprop_step(param, grad, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = grad + weight_decay * param
    r = alpha * state["square_avg"] + (1.0 - alpha) * g * g
    return param - lr * g / (r + eps).sqrt(), {"square_avg": r}
""",
    },
    "adam_step": {
        "no bias correction": """
def adam_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    beta1, beta2 = betas
    g = grad + weight_decay * param
    m = beta1 * state["exp_avg"] + (1 - beta1) * g
    v = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
    return param - lr * m / (v.sqrt() + eps), {"step": state["step"] + 1, "exp_avg": m, "exp_avg_sq": v}
""",
        "bias correction with t = step instead of step + 1": """
def adam_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    beta1, beta2 = betas
    g = grad + weight_decay * param
    t = state["step"]
    m = beta1 * state["exp_avg"] + (1 - beta1) * g
    v = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** t) if t > 0 else m
    v_hat = v / (1 - beta2 ** t) if t > 0 else v
    return param - lr * m_hat / (v_hat.sqrt() + eps), {"step": t + 1, "exp_avg": m, "exp_avg_sq": v}
""",
        "eps inside the square root": """
def adam_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    beta1, beta2 = betas
    g = grad + weight_decay * param
    t = state["step"] + 1
    m = beta1 * state["exp_avg"] + (1 - beta1) * g
    v = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return param - lr * m_hat / (v_hat + eps).sqrt(), {"step": t, "exp_avg": m, "exp_avg_sq": v}
""",
        "stores the bias-corrected averages in the state": """
def adam_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    beta1, beta2 = betas
    g = grad + weight_decay * param
    t = state["step"] + 1
    m = (beta1 * state["exp_avg"] + (1 - beta1) * g) / (1 - beta1 ** t)
    v = (beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g) / (1 - beta2 ** t)
    return param - lr * m / (v.sqrt() + eps), {"step": t, "exp_avg": m, "exp_avg_sq": v}
""",
        "decoupled weight decay (AdamW) instead of L2": """
def adam_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    beta1, beta2 = betas
    t = state["step"] + 1
    m = beta1 * state["exp_avg"] + (1 - beta1) * grad
    v = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    new = param * (1 - lr * weight_decay) - lr * m_hat / (v_hat.sqrt() + eps)
    return new, {"step": t, "exp_avg": m, "exp_avg_sq": v}
""",
    },
    "gradient_noise_scale": {
        "divides the variance by N instead of N - 1": """
def gradient_noise_scale(per_example_grads):
    g = per_example_grads.reshape(per_example_grads.shape[0], -1)
    mean = g.mean(dim=0)
    return ((g - mean) ** 2).mean(dim=0).sum() / (mean ** 2).sum()
""",
        "divides by |G|, not |G|^2": """
def gradient_noise_scale(per_example_grads):
    g = per_example_grads.reshape(per_example_grads.shape[0], -1)
    mean = g.mean(dim=0)
    return ((g - mean) ** 2).sum() / (g.shape[0] - 1) / mean.norm()
""",
        "second moment instead of the covariance (mean not subtracted)": """
def gradient_noise_scale(per_example_grads):
    g = per_example_grads.reshape(per_example_grads.shape[0], -1)
    mean = g.mean(dim=0)
    return (g ** 2).sum() / (g.shape[0] - 1) / (mean ** 2).sum()
""",
        "variance over parameters instead of over examples": """
def gradient_noise_scale(per_example_grads):
    g = per_example_grads.reshape(per_example_grads.shape[0], -1)
    mean = g.mean(dim=0)
    return g.var(dim=1).sum() / (mean ** 2).sum()
""",
    },
    "logistic_newton_step": {
        "Hessian without the p(1 - p) weights": """
def logistic_newton_step(w, X, y, lr=1.0, damping=0.0):
    p = torch.sigmoid(X @ w)
    n = X.shape[0]
    grad = X.T @ (p - y) / n
    hess = X.T @ X / n + damping * torch.eye(X.shape[1], dtype=X.dtype)
    return w - lr * torch.linalg.solve(hess, grad)
""",
        "gradient summed, Hessian averaged": """
def logistic_newton_step(w, X, y, lr=1.0, damping=0.0):
    p = torch.sigmoid(X @ w)
    n = X.shape[0]
    grad = X.T @ (p - y)
    hess = (X.T * (p * (1 - p))) @ X / n + damping * torch.eye(X.shape[1], dtype=X.dtype)
    return w - lr * torch.linalg.solve(hess, grad)
""",
        "gradient with the wrong sign (y - p)": """
def logistic_newton_step(w, X, y, lr=1.0, damping=0.0):
    p = torch.sigmoid(X @ w)
    n = X.shape[0]
    grad = X.T @ (y - p) / n
    hess = (X.T * (p * (1 - p))) @ X / n + damping * torch.eye(X.shape[1], dtype=X.dtype)
    return w - lr * torch.linalg.solve(hess, grad)
""",
        "empirical Fisher instead of the Hessian": """
def logistic_newton_step(w, X, y, lr=1.0, damping=0.0):
    p = torch.sigmoid(X @ w)
    n = X.shape[0]
    grad = X.T @ (p - y) / n
    fisher = (X.T * (p - y) ** 2) @ X / n + damping * torch.eye(X.shape[1], dtype=X.dtype)
    return w - lr * torch.linalg.solve(fisher, grad)
""",
    },
    "train_digits_adam": {
        "Adam without its bias correction": _edit(_TRAIN_ADAM, ("adam_step(p.detach()", "_no_correction(p.detach()"),
                                                 prefix=_NO_CORRECTION),
        "climbs the loss: adds Adam's step instead of subtracting it": _edit(
            _TRAIN_ADAM, ("params = [new for new, _ in updated]",
                          "params = [2 * p.detach() - new for p, (new, _) in zip(leaves, updated)]")),
        "starts from zero weights (every hidden unit silent)": _edit(
            _TRAIN_ADAM, ("torch.randn(D, hidden, generator=g, dtype=X.dtype) * math.sqrt(2.0 / D)",
                          "torch.zeros(D, hidden, dtype=X.dtype)"),
            ("torch.randn(hidden, num_classes, generator=g, dtype=X.dtype) * math.sqrt(1.0 / hidden)",
             "torch.zeros(hidden, num_classes, dtype=X.dtype)")),
    },
    "bias_correction_answer": {
        "a: removes mini-batch noise": 'def bias_correction_answer():\n    return "a"\n',
        "c: compensates for eps": 'def bias_correction_answer():\n    return "c"\n',
        "d: matters late in training": 'def bias_correction_answer():\n    return "d"\n',
    },
    "momentum_step_size_answer": {
        "a: momentum only turns the steps": 'def momentum_step_size_answer():\n    return "a"\n',
        "b: momentum damps the step": 'def momentum_step_size_answer():\n    return "b"\n',
        "d: grows without bound": 'def momentum_step_size_answer():\n    return "d"\n',
    },
}

ALTERNATIVES = {
    "sgd_step": {
        "clone, then in-place update of the copy": """
def sgd_step(param, grad, lr, weight_decay=0.0):
    new = param.clone()
    new.mul_(1 - lr * weight_decay).add_(grad, alpha=-lr)
    return new
""",
        "numpy round trip": """
def sgd_step(param, grad, lr, weight_decay=0.0):
    p, g = param.numpy(), grad.numpy()
    return torch.from_numpy(np.asarray(p - lr * (g + weight_decay * p)))
""",
    },
    "robbins_monro_schedule": {
        "list comprehension with math": """
def robbins_monro_schedule(lr0, decay, n_steps, power=1.0, dtype=torch.float64):
    return torch.tensor([lr0 / (1 + decay * k) ** power for k in range(n_steps)], dtype=dtype)
""",
        "exp-log form": """
def robbins_monro_schedule(lr0, decay, n_steps, power=1.0, dtype=torch.float64):
    k = torch.arange(n_steps, dtype=torch.float64)
    return (math.log(lr0) - power * torch.log1p(decay * k)).exp().to(dtype)
""",
    },
    "sgd_trajectory": {
        "preallocated output, convex-combination form": """
def sgd_trajectory(theta0, samples, lrs):
    out = torch.empty((samples.shape[0] + 1,) + tuple(samples.shape[1:]), dtype=samples.dtype)
    out[0] = torch.as_tensor(theta0, dtype=samples.dtype)
    for k in range(samples.shape[0]):
        a = 2 * lrs[k]
        out[k + 1] = (1 - a) * out[k] + a * samples[k]
    return out
""",
        "numpy loop": """
def sgd_trajectory(theta0, samples, lrs):
    x, a = samples.numpy(), lrs.numpy()
    path = [np.broadcast_to(np.asarray(theta0, dtype=x.dtype), x.shape[1:])]
    for k in range(len(x)):
        path.append(path[-1] - 2 * a[k] * (path[-1] - x[k]))
    return torch.from_numpy(np.stack(path).astype(x.dtype))
""",
    },
    "momentum_step": {
        "torch's form: in-place on clones": """
def momentum_step(param, grad, state, lr, momentum, weight_decay=0.0):
    g = grad.add(param, alpha=weight_decay)
    buf = state["momentum_buffer"].clone().mul_(momentum).add_(g)
    return param.clone().add_(buf, alpha=-lr), {"momentum_buffer": buf}
""",
        "heavy-ball form via the previous displacement": """
def momentum_step(param, grad, state, lr, momentum, weight_decay=0.0):
    g = grad + weight_decay * param
    previous_step = -lr * state["momentum_buffer"]
    new = param + momentum * previous_step - lr * g
    return new, {"momentum_buffer": (param - new) / lr}
""",
    },
    "nesterov_step": {
        "expanded: g (1 + m) + m^2 v_old": """
def nesterov_step(param, grad, state, lr, momentum, weight_decay=0.0):
    g = grad + weight_decay * param
    v_old = state["momentum_buffer"]
    new = param - lr * ((1 + momentum) * g + momentum ** 2 * v_old)
    return new, {"momentum_buffer": momentum * v_old + g}
""",
        "numpy version": """
def nesterov_step(param, grad, state, lr, momentum, weight_decay=0.0):
    p, g0, v = param.numpy(), grad.numpy(), state["momentum_buffer"].numpy()
    g = g0 + weight_decay * p
    v = momentum * v + g
    return torch.from_numpy(p - lr * (g + momentum * v)), {"momentum_buffer": torch.from_numpy(v)}
""",
    },
    "momentum_rate": {
        "complex square root": """
def momentum_rate(lr, momentum, lam):
    lr, momentum, lam = (torch.as_tensor(v, dtype=torch.float64) for v in (lr, momentum, lam))
    trace = (1.0 + momentum - lr * lam).to(torch.complex128)
    root = torch.sqrt(trace ** 2 - 4.0 * momentum)
    return torch.maximum(((trace + root) / 2).abs(), ((trace - root) / 2).abs())
""",
        "eigenvalues of the stacked 2x2 matrices": """
def momentum_rate(lr, momentum, lam):
    lr, momentum, lam = torch.broadcast_tensors(*(torch.as_tensor(v, dtype=torch.float64) for v in (lr, momentum, lam)))
    A = torch.stack([torch.stack([1 - lr * lam, -lr * momentum], -1), torch.stack([lam, momentum], -1)], -2)
    return torch.linalg.eigvals(A).abs().amax(dim=-1)
""",
    },
    "optimal_momentum": {
        "via the condition number": """
def optimal_momentum(lam_min, lam_max):
    lam_min = torch.as_tensor(lam_min, dtype=torch.float64)
    lam_max = torch.as_tensor(lam_max, dtype=torch.float64)
    root_kappa = (lam_max / lam_min).sqrt()
    lr = 4.0 / (lam_min * (1 + root_kappa) ** 2)
    return lr, ((root_kappa - 1) / (root_kappa + 1)) ** 2
""",
    },
    "adagrad_step": {
        "torch's form: addcmul and addcdiv on clones": """
def adagrad_step(param, grad, state, lr, eps=1e-10, weight_decay=0.0):
    g = grad.add(param, alpha=weight_decay) if weight_decay else grad
    s = state["sum"].clone().addcmul_(g, g, value=1)
    return param.clone().addcdiv_(g, s.sqrt().add_(eps), value=-lr), {"sum": s}
""",
        "computes in float64, casts back": """
def adagrad_step(param, grad, state, lr, eps=1e-10, weight_decay=0.0):
    p, g0, s0 = param.double(), grad.double(), state["sum"].double()
    g = g0 + weight_decay * p
    s = s0 + g ** 2
    return (p - lr * g / (torch.sqrt(s) + eps)).to(param.dtype), {"sum": s.to(param.dtype)}
""",
    },
    "rmsprop_step": {
        "lerp form of the moving average": """
def rmsprop_step(param, grad, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = grad + weight_decay * param
    r = torch.lerp(state["square_avg"], g * g, 1 - alpha)
    return param - lr * g / (torch.sqrt(r) + eps), {"square_avg": r}
""",
        "numpy version": """
def rmsprop_step(param, grad, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    p, r = param.numpy(), state["square_avg"].numpy()
    g = grad.numpy() + weight_decay * p
    r = alpha * r + (1 - alpha) * np.square(g)
    return torch.from_numpy(p - lr * g / (np.sqrt(r) + eps)), {"square_avg": torch.from_numpy(r)}
""",
    },
    "adam_step": {
        "torch's form: step size and denominator split": """
def adam_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    beta1, beta2 = betas
    g = grad.add(param, alpha=weight_decay) if weight_decay else grad
    step = state["step"] + 1
    m = state["exp_avg"].clone().mul_(beta1).add_(g, alpha=1 - beta1)
    v = state["exp_avg_sq"].clone().mul_(beta2).addcmul_(g, g, value=1 - beta2)
    step_size = lr / (1 - beta1 ** step)
    denom = v.sqrt() / math.sqrt(1 - beta2 ** step) + eps
    return param.clone().addcdiv_(m, denom, value=-step_size), {"step": step, "exp_avg": m, "exp_avg_sq": v}
""",
        "returns the step as a float64 tensor": """
def adam_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    b1, b2 = betas
    g = grad + weight_decay * param
    t = torch.tensor(float(state["step"]) + 1.0, dtype=torch.float64)
    m = b1 * state["exp_avg"] + (1 - b1) * g
    v = b2 * state["exp_avg_sq"] + (1 - b2) * g ** 2
    denom = torch.sqrt(v / (1 - b2 ** t)) + eps
    return param - lr * (m / (1 - b1 ** t)) / denom, {"step": t, "exp_avg": m, "exp_avg_sq": v}
""",
    },
    "gradient_noise_scale": {
        "torch.var with Bessel's correction": """
def gradient_noise_scale(per_example_grads):
    g = per_example_grads.flatten(start_dim=1)
    return g.var(dim=0).sum() / g.mean(dim=0).square().sum()
""",
        "trace of torch.cov": """
def gradient_noise_scale(per_example_grads):
    g = per_example_grads.reshape(per_example_grads.shape[0], -1)
    cov = torch.cov(g.T).reshape(g.shape[1], g.shape[1])
    return torch.trace(cov) / torch.dot(g.mean(0), g.mean(0))
""",
        "numpy version": """
def gradient_noise_scale(per_example_grads):
    g = per_example_grads.numpy().reshape(per_example_grads.shape[0], -1)
    return torch.tensor(g.var(axis=0, ddof=1).sum() / np.sum(g.mean(axis=0) ** 2), dtype=per_example_grads.dtype)
""",
    },
    "logistic_newton_step": {
        "explicit diagonal matrix and a loop over examples": """
def logistic_newton_step(w, X, y, lr=1.0, damping=0.0):
    n, d = X.shape
    grad = torch.zeros(d, dtype=X.dtype)
    hess = damping * torch.eye(d, dtype=X.dtype)
    for i in range(n):
        p = 1.0 / (1.0 + torch.exp(-(X[i] @ w)))
        grad = grad + (p - y[i]) * X[i] / n
        hess = hess + p * (1 - p) * torch.outer(X[i], X[i]) / n
    return w - lr * torch.linalg.solve(hess, grad)
""",
        "autograd Hessian": """
def logistic_newton_step(w, X, y, lr=1.0, damping=0.0):
    def loss(v):
        z = X @ v
        return (torch.nn.functional.softplus(z) - y * z).mean()
    g = torch.autograd.functional.jacobian(loss, w)
    H = torch.autograd.functional.hessian(loss, w) + damping * torch.eye(len(w), dtype=w.dtype)
    return w - lr * torch.linalg.solve(H, g)
""",
    },
    "train_digits_adam": {
        "a wider network, a smaller learning rate, explicit loops over the parameters": _edit(
            _TRAIN_ADAM, ("steps=40, hidden=64, lr=0.05, seed=0", "steps=40, hidden=128, lr=0.03, seed=0"),
            ("        updated = [adam_step(p.detach(), gr, st, lr) for p, gr, st in zip(leaves, grads, states)]\n"
             "        params = [new for new, _ in updated]\n"
             "        states = [st for _, st in updated]\n",
             "        for i in range(4):\n"
             "            params[i], states[i] = adam_step(leaves[i].detach(), grads[i], states[i], lr)\n")),
    },
    "bias_correction_answer": {
        "capital letter": 'def bias_correction_answer():\n    return "B"\n',
    },
    "momentum_step_size_answer": {
        "with spaces": 'def momentum_step_size_answer():\n    return " c "\n',
    },
}

SAMPLE_WRONG = ["rmsprop_step", "momentum_step"]

JUDGED_ON_A_TARGET = ["train_digits_adam"]
