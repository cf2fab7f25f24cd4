"""Classic wrong answers and correct alternatives for chapter 18 (Gaussian processes and the NTK).

The convention slips are here as mutants: l or l^2 in place of 2 l^2 in the RBF exponent, a squared distance in
the OU kernel, the transposed Cholesky factor, the noise term forgotten or added at the test points, a
variance that does not subtract the explained part, the log-det with the wrong sign or the 2 pi term missing,
an arc-cosine kernel without its 1/pi or its sin term, an NTK recursion without the derivative kernel, a mean
loss or continuous-time dynamics instead of discrete steps on the sum.
"""

CHAPTER = "18-gaussian-processes-and-ntk"

_SQ = "    sq = (x1[:, None, :] - x2[None, :, :]).pow(2).sum(-1)\n"


def _rbf(expr: str) -> str:
    return "def rbf_kernel(x1, x2, lengthscale, variance):\n" + _SQ + f"    return {expr}\n"


def _ou(expr: str) -> str:
    return "def ou_kernel(x1, x2, lengthscale, variance):\n" + _SQ + f"    return {expr}\n"


def _posterior(mean_line: str, var_line: str, noise: str = "noise_var") -> str:
    return f"""
def gp_posterior(x_train, y_train, x_test, lengthscale, variance, noise_var):
    K = rbf_kernel(x_train, x_train, lengthscale, variance) + {noise} * torch.eye(x_train.shape[0], dtype=x_train.dtype)
    L = torch.linalg.cholesky(K)
    k_star = rbf_kernel(x_train, x_test, lengthscale, variance)
    v = torch.linalg.solve_triangular(L, k_star, upper=False)
    mean = {mean_line}
    var = {var_line}
    return mean, var
"""


_GOOD_MEAN = "k_star.T @ torch.cholesky_solve(y_train.reshape(-1, 1), L).reshape(-1)"
_GOOD_VAR = "variance - (v ** 2).sum(0)"


def _lml(expr: str) -> str:
    return f"""
def gp_log_marginal_likelihood(x_train, y_train, lengthscale, variance, noise_var):
    n = x_train.shape[0]
    C = rbf_kernel(x_train, x_train, lengthscale, variance) + noise_var * torch.eye(n, dtype=x_train.dtype)
    L = torch.linalg.cholesky(C)
    a = torch.linalg.solve_triangular(L, y_train.reshape(-1, 1), upper=False)
    quad = (a ** 2).sum()
    half_logdet = torch.log(torch.diagonal(L)).sum()
    return {expr}
"""


def _relu(relu_expr: str, step_expr: str = "(math.pi - theta) / (2 * math.pi)") -> str:
    return f"""
def relu_expectations(k11, k12, k22):
    norm = torch.sqrt(k11 * k22)
    cos = torch.clamp(k12 / norm, -1.0, 1.0)
    theta = torch.arccos(cos)
    return {relu_expr}, {step_expr}
"""


def _nngp(update: str, diag: str = "s1, s2 = s1 / 2, s2 / 2") -> str:
    return f"""
def relu_nngp_ntk(x1, x2, depth):
    d = x1.shape[1]
    sigma = x1 @ x2.T / d
    s1 = (x1 ** 2).sum(1, keepdim=True) / d
    s2 = (x2 ** 2).sum(1).reshape(1, -1) / d
    theta = sigma
    for _ in range(depth):
        relu_k, step_k = relu_expectations(s1, sigma, s2)
        {update}
        sigma = relu_k
        {diag}
    return sigma, theta
"""


_NTK_LOOP = """
def empirical_ntk(model, x1, x2):
    params = [p for p in model.parameters() if p.requires_grad]

    def jac(x):
        rows = []
        for i in range(x.shape[0]):
            out = model(x[i:i + 1]).reshape(())
            grads = torch.autograd.grad(out, params, allow_unused=True)
            rows.append(torch.cat([torch.zeros_like(p).reshape(-1) if g is None else g.reshape(-1)
                                   for g, p in zip(grads, params)]))
        return torch.stack(rows)
"""


def _lin(body: str) -> str:
    return """
def linearized_dynamics(ntk_train, ntk_test_train, f0_train, f0_test, y_train, lr, steps):
""" + body


_FIT = """
def fit_gp_hyperparameters(x_train, y_train, seed):
    gen = torch.Generator().manual_seed(seed)
    lows = torch.tensor([math.log(0.05), math.log(0.05), math.log(1e-4)], dtype=torch.float64)
    highs = torch.tensor([math.log(5.0), math.log(20.0), math.log(1.0)], dtype=torch.float64)
    cands = lows + (highs - lows) * torch.rand(200, 3, generator=gen, dtype=torch.float64)

    def lml(logp):
        e = torch.exp(logp)
        return gp_log_marginal_likelihood(x_train, y_train, e[0], e[1], e[2])

    with torch.no_grad():
        scores = torch.stack([SIGN * lml(c) for c in cands])
    logp = cands[int(torch.argmax(scores))].clone().requires_grad_(True)
    opt = torch.optim.Adam([logp], lr=0.05)
    for _ in range(150):
        opt.zero_grad()
        (-SIGN * lml(logp)).backward()
        opt.step()
    ell, var, noise = torch.exp(logp.detach()).tolist()
    return {"lengthscale": ell, "variance": var, "noise_var": noise}
"""


MUTANTS = {
    "rbf_kernel": {
        "l^2 without the 2": _rbf("variance * torch.exp(-sq / lengthscale ** 2)"),
        "l instead of l^2": _rbf("variance * torch.exp(-sq / (2 * lengthscale))"),
        "variance inside the exponent": _rbf("torch.exp(-variance * sq / (2 * lengthscale ** 2))"),
        "distance instead of squared distance": _rbf("variance * torch.exp(-sq.sqrt() / (2 * lengthscale ** 2))"),
    },
    "ou_kernel": {
        "squared distance": _ou("variance * torch.exp(-sq / lengthscale)"),
        "sum of absolute differences": "def ou_kernel(x1, x2, lengthscale, variance):\n"
            "    return variance * torch.exp(-(x1[:, None, :] - x2[None, :, :]).abs().sum(-1) / lengthscale)\n",
        "no variance": _ou("torch.exp(-sq.sqrt() / lengthscale)"),
    },
    "gp_prior_samples": {
        "multiplies by L^T (the upper factor)": """
def gp_prior_samples(K, noise, jitter=1e-9):
    L = torch.linalg.cholesky(K + jitter * torch.eye(K.shape[0], dtype=K.dtype))
    return noise @ L
""",
        "K itself instead of a square root": """
def gp_prior_samples(K, noise, jitter=1e-9):
    return noise @ (K + jitter * torch.eye(K.shape[0], dtype=K.dtype)).T
""",
        "ignores the jitter": """
def gp_prior_samples(K, noise, jitter=1e-9):
    return noise @ torch.linalg.cholesky(K).T
""",
    },
    "gp_posterior": {
        "no noise term": _posterior(_GOOD_MEAN, _GOOD_VAR, noise="1e-10"),
        "variance without subtracting the explained part": _posterior(_GOOD_MEAN, "variance * torch.ones(x_test.shape[0], dtype=x_test.dtype)"),
        "noise added to the test variance too": _posterior(_GOOD_MEAN, "variance + noise_var - (v ** 2).sum(0)"),
        "explained part without the prior variance": _posterior(_GOOD_MEAN, "1.0 - (v ** 2).sum(0)"),
    },
    "gp_log_marginal_likelihood": {
        "log-det with the wrong sign": _lml("-0.5 * quad + half_logdet - 0.5 * n * math.log(2 * math.pi)"),
        "missing the 2 pi term": _lml("-0.5 * quad - half_logdet"),
        "log-det not halved": _lml("-0.5 * quad - 2 * half_logdet - 0.5 * n * math.log(2 * math.pi)"),
        "breaks the graph with float()": _lml("torch.tensor(float(-0.5 * quad - half_logdet) - 0.5 * n * math.log(2 * math.pi), dtype=torch.float64)"),
    },
    "relu_expectations": {
        "missing the 1/pi": _relu("norm * (torch.sin(theta) + (math.pi - theta) * cos) / 2"),
        "missing the sin term": _relu("norm * (math.pi - theta) * cos / (2 * math.pi)"),
        "step kernel over pi instead of 2 pi": _relu("norm * (torch.sin(theta) + (math.pi - theta) * cos) / (2 * math.pi)",
                                                     "(math.pi - theta) / math.pi"),
        "correlation instead of covariance (no sqrt(k11 k22))": _relu("(torch.sin(theta) + (math.pi - theta) * cos) / (2 * math.pi)"),
    },
    "relu_nngp_ntk": {
        "NTK missing the derivative kernel": _nngp("theta = relu_k + theta"),
        "NTK equal to the NNGP": _nngp("theta = relu_k"),
        "diagonal not updated": _nngp("theta = relu_k + theta * step_k", diag="pass"),
        "Theta_1 without the 1/D": """
def relu_nngp_ntk(x1, x2, depth):
    sigma = x1 @ x2.T
    s1 = (x1 ** 2).sum(1, keepdim=True)
    s2 = (x2 ** 2).sum(1).reshape(1, -1)
    theta = sigma
    for _ in range(depth):
        relu_k, step_k = relu_expectations(s1, sigma, s2)
        theta = relu_k + theta * step_k
        sigma = relu_k
        s1, s2 = s1 / 2, s2 / 2
    return sigma, theta
""",
    },
    "empirical_ntk": {
        "last layer only": _NTK_LOOP.replace("params = [p for p in model.parameters() if p.requires_grad]",
                                             "params = [list(model.parameters())[-1]]") + """
    return (jac(x1) @ jac(x2).T).detach()
""",
        "outer product of outputs (the NNGP of one draw)": """
def empirical_ntk(model, x1, x2):
    with torch.no_grad():
        return model(x1).reshape(-1, 1) * model(x2).reshape(1, -1)
""",
        "Jacobians multiplied the wrong way (P x P summed)": _NTK_LOOP + """
    return (jac(x1).sum(1, keepdim=True) @ jac(x2).sum(1, keepdim=True).T).detach()
""",
    },
    "linearized_dynamics": {
        "mean loss (divides by N)": _lin("""
    f_train, f_test = f0_train.clone(), f0_test.clone()
    n = f0_train.shape[0]
    for _ in range(steps):
        r = f_train - y_train
        f_test = f_test - lr / n * ntk_test_train @ r
        f_train = f_train - lr / n * ntk_train @ r
    return f_train, f_test
"""),
        "continuous-time exponential": _lin("""
    evals, evecs = torch.linalg.eigh(ntk_train)
    decay = evecs @ torch.diag(torch.exp(-lr * steps * evals)) @ evecs.T
    r0 = f0_train - y_train
    f_train = y_train + decay @ r0
    integral = evecs @ torch.diag((1 - torch.exp(-lr * steps * evals)) / evals) @ evecs.T
    return f_train, f0_test - ntk_test_train @ integral @ r0
"""),
        "test outputs start from zero": _lin("""
    f_train, f_test = f0_train.clone(), torch.zeros_like(f0_test)
    for _ in range(steps):
        r = f_train - y_train
        f_test = f_test - lr * ntk_test_train @ r
        f_train = f_train - lr * ntk_train @ r
    return f_train, f_test
"""),
    },
    "fit_gp_hyperparameters": {
        "log-likelihood without the log-det term": _lml("-0.5 * quad - 0.5 * n * math.log(2 * math.pi)")
            + "SIGN = 1.0\n" + _FIT,
        "minimizes the log-likelihood (sign slip)": "SIGN = -1.0\n" + _FIT,
        "no search: default hyperparameters": """
def fit_gp_hyperparameters(x_train, y_train, seed):
    return {"lengthscale": 1.0, "variance": 1.0, "noise_var": 0.1}
""",
    },
    "concept_posterior_variance": {
        "a: depends on the targets": 'def concept_posterior_variance():\n    return "a"\n',
        "c: the noise everywhere": 'def concept_posterior_variance():\n    return "c"\n',
        "d: the prior variance": 'def concept_posterior_variance():\n    return "d"\n',
    },
    "concept_occam": {
        "a: the 2 pi term": 'def concept_occam():\n    return "a"\n',
        "b: it goes to zero": 'def concept_occam():\n    return "b"\n',
        "d: Cholesky fails": 'def concept_occam():\n    return "d"\n',
    },
    "concept_lazy_training": {
        "b: richer features": 'def concept_lazy_training():\n    return "b"\n',
        "c: the NNGP posterior": 'def concept_lazy_training():\n    return "c"\n',
        "d: vanishing gradients": 'def concept_lazy_training():\n    return "d"\n',
    },
}

ALTERNATIVES = {
    "rbf_kernel": {
        "cdist, then squared": """
def rbf_kernel(x1, x2, lengthscale, variance):
    return variance * torch.exp(-0.5 * (torch.cdist(x1 / lengthscale, x2 / lengthscale) ** 2))
""",
        "double loop": """
def rbf_kernel(x1, x2, lengthscale, variance):
    out = torch.empty(x1.shape[0], x2.shape[0], dtype=x1.dtype)
    for i in range(x1.shape[0]):
        for j in range(x2.shape[0]):
            out[i, j] = variance * math.exp(-float(((x1[i] - x2[j]) ** 2).sum()) / (2 * lengthscale ** 2))
    return out
""",
    },
    "ou_kernel": {
        "torch.cdist": """
def ou_kernel(x1, x2, lengthscale, variance):
    return variance * torch.exp(-torch.cdist(x1, x2) / lengthscale)
""",
    },
    "gp_prior_samples": {
        "one sample at a time, L @ z": """
def gp_prior_samples(K, noise, jitter=1e-9):
    L = torch.linalg.cholesky(K + jitter * torch.eye(K.shape[0], dtype=K.dtype))
    return torch.stack([L @ z for z in noise])
""",
    },
    "gp_posterior": {
        "linalg.solve instead of Cholesky": """
def gp_posterior(x_train, y_train, x_test, lengthscale, variance, noise_var):
    C = rbf_kernel(x_train, x_train, lengthscale, variance) + noise_var * torch.eye(x_train.shape[0], dtype=x_train.dtype)
    ks = rbf_kernel(x_train, x_test, lengthscale, variance)
    kss = rbf_kernel(x_test, x_test, lengthscale, variance)
    return ks.T @ torch.linalg.solve(C, y_train), torch.diagonal(kss - ks.T @ torch.linalg.solve(C, ks))
""",
    },
    "gp_log_marginal_likelihood": {
        "slogdet and solve": """
def gp_log_marginal_likelihood(x_train, y_train, lengthscale, variance, noise_var):
    n = x_train.shape[0]
    C = rbf_kernel(x_train, x_train, lengthscale, variance) + noise_var * torch.eye(n, dtype=x_train.dtype)
    return (-0.5 * y_train @ torch.linalg.solve(C, y_train) - 0.5 * torch.linalg.slogdet(C)[1]
            - 0.5 * n * math.log(2 * math.pi))
""",
        "torch.distributions": """
def gp_log_marginal_likelihood(x_train, y_train, lengthscale, variance, noise_var):
    n = x_train.shape[0]
    C = rbf_kernel(x_train, x_train, lengthscale, variance) + noise_var * torch.eye(n, dtype=x_train.dtype)
    return torch.distributions.MultivariateNormal(torch.zeros(n, dtype=x_train.dtype), C).log_prob(y_train)
""",
    },
    "relu_expectations": {
        "atan2 for the angle": """
def relu_expectations(k11, k12, k22):
    norm = torch.sqrt(k11 * k22)
    c = torch.clamp(k12 / norm, -1.0, 1.0)
    s = torch.sqrt(torch.clamp(1 - c ** 2, min=0.0))
    theta = torch.atan2(s, c)
    return norm * (s + (math.pi - theta) * c) / (2 * math.pi), 0.5 - theta / (2 * math.pi)
""",
    },
    "relu_nngp_ntk": {
        "full Gram matrices, diagonals read from them": """
def relu_nngp_ntk(x1, x2, depth):
    n = x1.shape[0]
    x = torch.cat([x1, x2])
    sigma = x @ x.T / x.shape[1]
    theta = sigma.clone()
    for _ in range(depth):
        dg = torch.diagonal(sigma)
        relu_k, step_k = relu_expectations(dg[:, None], sigma, dg[None, :])
        theta = relu_k + theta * step_k
        sigma = relu_k
    return sigma[:n, n:], theta[:n, n:]
""",
    },
    "empirical_ntk": {
        "autograd loop over inputs": _NTK_LOOP + """
    return (jac(x1) @ jac(x2).T).detach()
""",
    },
    "linearized_dynamics": {
        "closed form with a matrix power": """
def linearized_dynamics(ntk_train, ntk_test_train, f0_train, f0_test, y_train, lr, steps):
    n = ntk_train.shape[0]
    A = torch.eye(n, dtype=ntk_train.dtype) - lr * ntk_train
    r0 = f0_train - y_train
    total = torch.zeros_like(r0)
    r = r0.clone()
    for _ in range(steps):
        total = total + r
        r = A @ r
    return y_train + torch.linalg.matrix_power(A, steps) @ r0, f0_test - lr * ntk_test_train @ total
""",
    },
    "fit_gp_hyperparameters": {
        "grid search over length scale and noise, variance from the data": """
def fit_gp_hyperparameters(x_train, y_train, seed):
    var = float(y_train.var())
    best, best_score = None, -math.inf
    for ell in torch.logspace(-1.5, 0.7, 30).tolist():
        for noise in torch.logspace(-3, 0, 20).tolist():
            score = float(gp_log_marginal_likelihood(x_train, y_train, ell, var, noise))
            if score > best_score:
                best, best_score = (ell, noise), score
    return {"lengthscale": best[0], "variance": var, "noise_var": best[1]}
""",
    },
    "concept_posterior_variance": {"upper case": 'def concept_posterior_variance():\n    return "B"\n'},
    "concept_occam": {"with spaces": 'def concept_occam():\n    return " c "\n'},
    "concept_lazy_training": {"upper case": 'def concept_lazy_training():\n    return "A"\n'},
}

SAMPLE_WRONG = ["ou_kernel", "linearized_dynamics"]


# Automatic mutations of the reference (autograder.mutation) that change nothing the statement fixes.
EQUIVALENT_MUTATIONS = {
    'linearized_dynamics': {
        'transpose: `lr * ntk_train @ residual` -> `(lr * ntk_train).transpose(-1, -2) @ residual` in `f_train - lr * ntk_train @ residual`':
            'the NTK Gram matrix of the training points is symmetric',
    },
}

# Make-it-work tasks, judged on a target (autograder.mutation leaves them to their registered mutants).
JUDGED_ON_A_TARGET = ['fit_gp_hyperparameters']
