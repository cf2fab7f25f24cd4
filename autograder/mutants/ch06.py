"""Classic wrong answers and correct alternatives for chapter 06 (activations, initialization,
normalization, regularization)."""

CHAPTER = "06-training-deep-networks"

MUTANTS = {
    "init_std": {
        "He with fan_out instead of fan_in": """
def init_std(fan_in, fan_out, scheme):
    if scheme == "xavier":
        return math.sqrt(2.0 / (fan_in + fan_out))
    if scheme == "he":
        return math.sqrt(2.0 / fan_out)
    if scheme == "lecun":
        return math.sqrt(1.0 / fan_in)
    raise ValueError(scheme)
""",
        "He with the Xavier factor": """
def init_std(fan_in, fan_out, scheme):
    if scheme in ("xavier", "he"):
        return math.sqrt(2.0 / (fan_in + fan_out))
    if scheme == "lecun":
        return math.sqrt(1.0 / fan_in)
    raise ValueError(scheme)
""",
        "returns the variance, not the standard deviation": """
def init_std(fan_in, fan_out, scheme):
    if scheme == "xavier":
        return 2.0 / (fan_in + fan_out)
    if scheme == "he":
        return 2.0 / fan_in
    if scheme == "lecun":
        return 1.0 / fan_in
    raise ValueError(scheme)
""",
        "Xavier as the 1/fan_in rule (the worksheet's naming)": """
def init_std(fan_in, fan_out, scheme):
    if scheme in ("xavier", "lecun"):
        return math.sqrt(1.0 / fan_in)
    if scheme == "he":
        return math.sqrt(2.0 / fan_in)
    raise ValueError(scheme)
""",
    },
    "init_weight": {
        "He with fan_out (shape right, variance wrong)": """
def init_weight(fan_in, fan_out, scheme, generator, distribution="normal", dtype=torch.float32):
    std = init_std(fan_out, fan_in, scheme)
    if distribution == "normal":
        return std * torch.randn(fan_out, fan_in, generator=generator, dtype=dtype)
    return (2 * torch.rand(fan_out, fan_in, generator=generator, dtype=dtype) - 1) * math.sqrt(3) * std
""",
        "uniform on [-std, std] (forgets sqrt(3))": """
def init_weight(fan_in, fan_out, scheme, generator, distribution="normal", dtype=torch.float32):
    std = init_std(fan_in, fan_out, scheme)
    if distribution == "normal":
        return std * torch.randn(fan_out, fan_in, generator=generator, dtype=dtype)
    return (2 * torch.rand(fan_out, fan_in, generator=generator, dtype=dtype) - 1) * std
""",
        "ignores the generator (global random state)": """
def init_weight(fan_in, fan_out, scheme, generator, distribution="normal", dtype=torch.float32):
    std = init_std(fan_in, fan_out, scheme)
    if distribution == "normal":
        return std * torch.randn(fan_out, fan_in, dtype=dtype)
    return (2 * torch.rand(fan_out, fan_in, dtype=dtype) - 1) * math.sqrt(3) * std
""",
        "shape (fan_in, fan_out)": """
def init_weight(fan_in, fan_out, scheme, generator, distribution="normal", dtype=torch.float32):
    std = init_std(fan_in, fan_out, scheme)
    if distribution == "normal":
        return std * torch.randn(fan_in, fan_out, generator=generator, dtype=dtype)
    return (2 * torch.rand(fan_in, fan_out, generator=generator, dtype=dtype) - 1) * math.sqrt(3) * std
""",
        "always Gaussian, ignoring distribution": """
def init_weight(fan_in, fan_out, scheme, generator, distribution="normal", dtype=torch.float32):
    std = init_std(fan_in, fan_out, scheme)
    return std * torch.randn(fan_out, fan_in, generator=generator, dtype=dtype)
""",
    },
    "activation_stats": {
        "unbiased standard deviation (n - 1)": """
def activation_stats(x, weights, activation):
    phi = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda t: t}[activation]
    h, means, stds = x, [], []
    for w in weights:
        h = phi(h @ w.T)
        means.append(h.mean())
        stds.append(h.std())
    return torch.stack(means), torch.stack(stds)
""",
        "statistics of the pre-activations": """
def activation_stats(x, weights, activation):
    phi = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda t: t}[activation]
    h, means, stds = x, [], []
    for w in weights:
        z = h @ w.T
        means.append(z.mean())
        stds.append(z.std(correction=0))
        h = phi(z)
    return torch.stack(means), torch.stack(stds)
""",
        "per-unit standard deviation over the batch, averaged": """
def activation_stats(x, weights, activation):
    phi = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda t: t}[activation]
    h, means, stds = x, [], []
    for w in weights:
        h = phi(h @ w.T)
        means.append(h.mean())
        stds.append(h.std(dim=0, correction=0).mean())
    return torch.stack(means), torch.stack(stds)
""",
        "records the input's statistics instead of the last layer's": """
def activation_stats(x, weights, activation):
    phi = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda t: t}[activation]
    h, means, stds = x, [], []
    for w in weights:
        means.append(h.mean())
        stds.append(h.std(correction=0))
        h = phi(h @ w.T)
    return torch.stack(means), torch.stack(stds)
""",
    },
    "batchnorm_forward": {
        "running variance updated with the biased variance": """
def batchnorm_forward(x, gamma, beta, state, mode):
    eps, m = state["eps"], state["momentum"]
    if mode == "train":
        mu, var = x.mean(0), x.var(0, correction=0)
        state["running_mean"] = (1 - m) * state["running_mean"] + m * mu
        state["running_var"] = (1 - m) * state["running_var"] + m * var
    else:
        mu, var = state["running_mean"], state["running_var"]
    inv_std = 1 / torch.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
""",
        "eval mode uses the batch statistics": """
def batchnorm_forward(x, gamma, beta, state, mode):
    eps, m = state["eps"], state["momentum"]
    n = x.shape[0]
    mu, var = x.mean(0), x.var(0, correction=0)
    if mode == "train":
        state["running_mean"] = (1 - m) * state["running_mean"] + m * mu
        state["running_var"] = (1 - m) * state["running_var"] + m * var * n / (n - 1)
    inv_std = 1 / torch.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
""",
        "momentum convention inverted (Keras style)": """
def batchnorm_forward(x, gamma, beta, state, mode):
    eps, m = state["eps"], state["momentum"]
    if mode == "train":
        n = x.shape[0]
        mu, var = x.mean(0), x.var(0, correction=0)
        state["running_mean"] = m * state["running_mean"] + (1 - m) * mu
        state["running_var"] = m * state["running_var"] + (1 - m) * var * n / (n - 1)
    else:
        mu, var = state["running_mean"], state["running_var"]
    inv_std = 1 / torch.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
""",
        "normalizes with the unbiased variance": """
def batchnorm_forward(x, gamma, beta, state, mode):
    eps, m = state["eps"], state["momentum"]
    if mode == "train":
        mu, var = x.mean(0), x.var(0)
        state["running_mean"] = (1 - m) * state["running_mean"] + m * mu
        state["running_var"] = (1 - m) * state["running_var"] + m * var
    else:
        mu, var = state["running_mean"], state["running_var"]
    inv_std = 1 / torch.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
""",
        "eps outside the square root": """
def batchnorm_forward(x, gamma, beta, state, mode):
    eps, m = state["eps"], state["momentum"]
    if mode == "train":
        n = x.shape[0]
        mu, var = x.mean(0), x.var(0, correction=0)
        state["running_mean"] = (1 - m) * state["running_mean"] + m * mu
        state["running_var"] = (1 - m) * state["running_var"] + m * var * n / (n - 1)
    else:
        mu, var = state["running_mean"], state["running_var"]
    inv_std = 1 / (torch.sqrt(var) + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
""",
        "normalizes over the features (dim 1) instead of the batch": """
def batchnorm_forward(x, gamma, beta, state, mode):
    eps, m = state["eps"], state["momentum"]
    if mode == "train":
        n = x.shape[0]
        mu, var = x.mean(1, keepdim=True), x.var(1, keepdim=True, correction=0)
        state["running_mean"] = (1 - m) * state["running_mean"] + m * x.mean(0)
        state["running_var"] = (1 - m) * state["running_var"] + m * x.var(0)
    else:
        mu, var = state["running_mean"], state["running_var"]
    inv_std = 1 / torch.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
""",
    },
    "batchnorm_backward": {
        "without the mean terms (dx = gamma * inv_std * dout)": """
def batchnorm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    return gamma * inv_std * dout, (dout * xhat).sum(0), dout.sum(0)
""",
        "missing the xhat (variance) term": """
def batchnorm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    n = dout.shape[0]
    dx = gamma * inv_std / n * (n * dout - dout.sum(0))
    return dx, (dout * xhat).sum(0), dout.sum(0)
""",
        "missing the mean term (keeps the xhat term)": """
def batchnorm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    n = dout.shape[0]
    dx = gamma * inv_std / n * (n * dout - xhat * (dout * xhat).sum(0))
    return dx, (dout * xhat).sum(0), dout.sum(0)
""",
        "sums over the features (dim 1) instead of the batch": """
def batchnorm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    n = dout.shape[0]
    s1 = dout.sum(1, keepdim=True)
    s2 = (dout * xhat).sum(1, keepdim=True)
    dx = gamma * inv_std / n * (n * dout - s1 - xhat * s2)
    return dx, (dout * xhat).sum(0), dout.sum(0)
""",
        "dgamma without xhat": """
def batchnorm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    n = dout.shape[0]
    dx = gamma * inv_std / n * (n * dout - dout.sum(0) - xhat * (dout * xhat).sum(0))
    return dx, dout.sum(0), dout.sum(0)
""",
    },
    "layernorm_forward": {
        "normalizes over the batch (dim 0), like BatchNorm": """
def layernorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(0, keepdim=True)
    var = x.var(0, keepdim=True, correction=0)
    inv_std = 1 / torch.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
""",
        "unbiased variance (torch.var's default)": """
def layernorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(-1, keepdim=True)
    var = x.var(-1, keepdim=True)
    inv_std = 1 / torch.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
""",
        "inv_std without keepdim (shape (...,))": """
def layernorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(-1, keepdim=True)
    var = x.var(-1, correction=0)
    inv_std = 1 / torch.sqrt(var + eps)
    xhat = (x - mu) * inv_std[..., None]
    return gamma * xhat + beta, (xhat, gamma, inv_std)
""",
        "ignores eps": """
def layernorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(-1, keepdim=True)
    var = x.var(-1, keepdim=True, correction=0)
    inv_std = 1 / torch.sqrt(var + 1e-5)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
""",
    },
    "layernorm_backward": {
        "gamma outside the sums (the BatchNorm formula transposed)": """
def layernorm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    d = dout.shape[-1]
    s1 = dout.sum(-1, keepdim=True)
    s2 = (dout * xhat).sum(-1, keepdim=True)
    dx = gamma * inv_std / d * (d * dout - s1 - xhat * s2)
    return dx, (dout * xhat).reshape(-1, d).sum(0), dout.reshape(-1, d).sum(0)
""",
        "without the mean and variance terms": """
def layernorm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    d = dout.shape[-1]
    return gamma * inv_std * dout, (dout * xhat).reshape(-1, d).sum(0), dout.reshape(-1, d).sum(0)
""",
        "dgamma and dbeta summed over the features instead of the rows": """
def layernorm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    d = dout.shape[-1]
    g = dout * gamma
    dx = inv_std / d * (d * g - g.sum(-1, keepdim=True) - xhat * (g * xhat).sum(-1, keepdim=True))
    return dx, (dout * xhat).sum(-1), dout.sum(-1)
""",
    },
    "dropout_forward": {
        "no 1 / (1 - p) scaling": """
def dropout_forward(x, p, training, generator):
    if not training:
        return x.clone(), torch.ones_like(x)
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    mask = (u >= p).to(x.dtype)
    return x * mask, mask
""",
        "p used as the keep probability (the worksheet's convention)": """
def dropout_forward(x, p, training, generator):
    if not training:
        return x.clone(), torch.ones_like(x)
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    mask = (u < p).to(x.dtype) / p if p > 0 else torch.zeros_like(x)
    return x * mask, mask
""",
        "scales at evaluation time as well": """
def dropout_forward(x, p, training, generator):
    if not training:
        return x * (1 - p), torch.full_like(x, 1 - p)
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    mask = (u >= p).to(x.dtype) / (1 - p)
    return x * mask, mask
""",
        "returns the unscaled mask": """
def dropout_forward(x, p, training, generator):
    if not training:
        return x.clone(), torch.ones_like(x)
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    keep = (u >= p).to(x.dtype)
    return x * keep / (1 - p), keep
""",
    },
    "dropout_backward": {
        "forgets the scale (uses the 0/1 pattern)": """
def dropout_backward(dout, mask):
    return dout * (mask != 0).to(dout.dtype)
""",
        "passes the gradient straight through": """
def dropout_backward(dout, mask):
    return dout.clone()
""",
        "divides by the mask's scale again": """
def dropout_backward(dout, mask):
    return dout * mask / mask.max()
""",
    },
    "residual_block": {
        "no skip connection": """
def residual_block(x, w1, b1, w2, b2):
    return torch.relu(x @ w1.T + b1) @ w2.T + b2
""",
        "ReLU after the sum (the V1 block)": """
def residual_block(x, w1, b1, w2, b2):
    return torch.relu(x + torch.relu(x @ w1.T + b1) @ w2.T + b2)
""",
        "no ReLU inside the branch": """
def residual_block(x, w1, b1, w2, b2):
    return x + (x @ w1.T + b1) @ w2.T + b2
""",
    },
    "ensemble_average": {
        "averages the logits, then one softmax": """
def ensemble_average(logits):
    return torch.softmax(logits.mean(0), dim=-1)
""",
        "softmax without the max shift": """
def ensemble_average(logits):
    e = torch.exp(logits)
    return (e / e.sum(-1, keepdim=True)).mean(0)
""",
        "softmax over the models instead of the classes": """
def ensemble_average(logits):
    return torch.softmax(logits, dim=0).mean(0)
""",
        "majority vote of one-hot predictions": """
def ensemble_average(logits):
    votes = F.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits.dtype)
    return votes.mean(0)
""",
    },
}

ALTERNATIVES = {
    "init_std": {
        "via torch.nn.init.calculate_gain": """
def init_std(fan_in, fan_out, scheme):
    if scheme == "xavier":
        return torch.nn.init.calculate_gain("linear") * (2 / (fan_in + fan_out)) ** 0.5
    if scheme == "he":
        return torch.nn.init.calculate_gain("relu") / fan_in ** 0.5
    if scheme == "lecun":
        return 1 / fan_in ** 0.5
    raise ValueError(scheme)
""",
    },
    "init_weight": {
        "through torch.nn.init with the generator": """
def init_weight(fan_in, fan_out, scheme, generator, distribution="normal", dtype=torch.float32):
    w = torch.empty(fan_out, fan_in, dtype=dtype)
    if scheme == "xavier":
        fn = torch.nn.init.xavier_normal_ if distribution == "normal" else torch.nn.init.xavier_uniform_
        return fn(w, generator=generator)
    fn = torch.nn.init.kaiming_normal_ if distribution == "normal" else torch.nn.init.kaiming_uniform_
    return fn(w, mode="fan_in", nonlinearity="relu" if scheme == "he" else "linear", generator=generator)
""",
        "normal_/uniform_ in place on an empty tensor, float64 inside": """
def init_weight(fan_in, fan_out, scheme, generator, distribution="normal", dtype=torch.float32):
    std = init_std(fan_in, fan_out, scheme)
    w = torch.empty(fan_out, fan_in, dtype=torch.float64)
    if distribution == "normal":
        w.normal_(0.0, std, generator=generator)
    else:
        a = (3 * std ** 2) ** 0.5
        w.uniform_(-a, a, generator=generator)
    return w.to(dtype)
""",
    },
    "activation_stats": {
        "numpy inside": """
def activation_stats(x, weights, activation):
    phi = {"tanh": np.tanh, "relu": lambda t: np.maximum(t, 0.0), "linear": lambda t: t}[activation]
    h = x.detach().cpu().numpy()
    means, stds = [], []
    for w in weights:
        h = phi(h @ w.detach().cpu().numpy().T)
        means.append(h.mean())
        stds.append(h.std())
    return torch.tensor(means, dtype=x.dtype), torch.tensor(stds, dtype=x.dtype)
""",
        "explicit sums, float64 inside": """
def activation_stats(x, weights, activation):
    h = x.double()
    out = []
    for w in weights:
        z = h @ w.double().T
        h = torch.tanh(z) if activation == "tanh" else (z.clamp(min=0) if activation == "relu" else z)
        m = h.mean()
        out.append((m, torch.sqrt(((h - m) ** 2).sum() / h.numel())))
    means = torch.stack([a for a, _ in out]).to(x.dtype)
    stds = torch.stack([b for _, b in out]).to(x.dtype)
    return means, stds
""",
    },
    "batchnorm_forward": {
        "torch.nn.functional.batch_norm for the output and the running statistics": """
def batchnorm_forward(x, gamma, beta, state, mode):
    rm, rv = state["running_mean"].clone(), state["running_var"].clone()
    out = F.batch_norm(x, rm, rv, gamma, beta, training=(mode == "train"),
                       momentum=state["momentum"], eps=state["eps"])
    if mode == "train":
        var = x.var(0, correction=0)
        mu = x.mean(0)
        state["running_mean"], state["running_var"] = rm, rv
    else:
        mu, var = state["running_mean"], state["running_var"]
    inv_std = torch.rsqrt(var + state["eps"])
    return out, ((x - mu) * inv_std, gamma, inv_std)
""",
        "explicit loop over the features, in-place running update": """
def batchnorm_forward(x, gamma, beta, state, mode):
    n, d = x.shape
    m, eps = state["momentum"], state["eps"]
    out, xhat, inv_std = torch.empty_like(x), torch.empty_like(x), torch.empty(d, dtype=x.dtype)
    for j in range(d):
        col = x[:, j]
        if mode == "train":
            mu = col.sum() / n
            var = ((col - mu) ** 2).sum() / n
            state["running_mean"][j] = (1 - m) * state["running_mean"][j] + m * mu
            state["running_var"][j] = (1 - m) * state["running_var"][j] + m * ((col - mu) ** 2).sum() / (n - 1)
        else:
            mu, var = state["running_mean"][j], state["running_var"][j]
        inv_std[j] = 1 / math.sqrt(float(var) + eps)
        xhat[:, j] = (col - mu) * inv_std[j]
        out[:, j] = gamma[j] * xhat[:, j] + beta[j]
    return out, (xhat, gamma, inv_std)
""",
    },
    "batchnorm_backward": {
        "staged (computational-graph) backward": """
def batchnorm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    n = dout.shape[0]
    dbeta = dout.sum(0)
    dgamma = (dout * xhat).sum(0)
    dxhat = dout * gamma
    xc = xhat / inv_std                                   # x - mu
    dvar = (dxhat * xc).sum(0) * -0.5 * inv_std ** 3
    dmu = -(dxhat * inv_std).sum(0) + dvar * (-2.0 * xc).mean(0)
    dx = dxhat * inv_std + dvar * 2.0 * xc / n + dmu / n
    return dx, dgamma, dbeta
""",
        "loop over the features": """
def batchnorm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    n, d = dout.shape
    dx = torch.empty_like(dout)
    dgamma = torch.empty(d, dtype=dout.dtype)
    dbeta = torch.empty(d, dtype=dout.dtype)
    for j in range(d):
        g, xh = dout[:, j], xhat[:, j]
        dbeta[j] = g.sum()
        dgamma[j] = (g * xh).sum()
        dx[:, j] = gamma[j] * inv_std[j] * (g - g.mean() - xh * (g * xh).mean())
    return dx, dgamma, dbeta
""",
        "numpy": """
def batchnorm_backward(dout, cache):
    xhat, gamma, inv_std = (c.detach().cpu().numpy() for c in cache)
    g = dout.detach().cpu().numpy()
    n = g.shape[0]
    dx = gamma * inv_std / n * (n * g - g.sum(0) - xhat * (g * xhat).sum(0))
    return (torch.from_numpy(dx), torch.from_numpy((g * xhat).sum(0)), torch.from_numpy(g.sum(0)))
""",
    },
    "layernorm_forward": {
        "torch.nn.functional.layer_norm for the output": """
def layernorm_forward(x, gamma, beta, eps=1e-5):
    out = F.layer_norm(x, (x.shape[-1],), gamma, beta, eps)
    var, mu = torch.var_mean(x, dim=-1, keepdim=True, correction=0)
    inv_std = torch.rsqrt(var + eps)
    return out, ((x - mu) * inv_std, gamma, inv_std)
""",
    },
    "layernorm_backward": {
        "staged backward": """
def layernorm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    d = dout.shape[-1]
    dxhat = dout * gamma
    xc = xhat / inv_std
    dvar = (dxhat * xc).sum(-1, keepdim=True) * -0.5 * inv_std ** 3
    dmu = -(dxhat * inv_std).sum(-1, keepdim=True) + dvar * (-2.0 * xc).mean(-1, keepdim=True)
    dx = dxhat * inv_std + dvar * 2.0 * xc / d + dmu / d
    dims = tuple(range(dout.dim() - 1))
    return dx, (dout * xhat).sum(dim=dims), dout.sum(dim=dims)
""",
    },
    "dropout_forward": {
        "torch.where, u >= p": """
def dropout_forward(x, p, training, generator):
    if not training:
        return x, torch.ones_like(x)
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    scale = 1.0 / (1.0 - p)
    mask = torch.where(u >= p, torch.full_like(x, scale), torch.zeros_like(x))
    return x * mask, mask
""",
    },
    "dropout_backward": {
        "torch.mul into a new tensor": """
def dropout_backward(dout, mask):
    return torch.mul(mask, dout)
""",
    },
    "residual_block": {
        "torch.nn.functional.linear": """
def residual_block(x, w1, b1, w2, b2):
    return x + F.linear(F.relu(F.linear(x, w1, b1)), w2, b2)
""",
        "einsum, float64 inside": """
def residual_block(x, w1, b1, w2, b2):
    xd = x.double()
    h = torch.einsum("nd,hd->nh", xd, w1.double()) + b1.double()
    out = xd + torch.einsum("nh,dh->nd", h.clamp(min=0), w2.double()) + b2.double()
    return out.to(x.dtype)
""",
    },
    "ensemble_average": {
        "log-sum-exp, then a loop over the models": """
def ensemble_average(logits):
    total = torch.zeros_like(logits[0])
    for z in logits:
        total = total + torch.exp(z - torch.logsumexp(z, dim=-1, keepdim=True))
    return total / logits.shape[0]
""",
        "torch.softmax": """
def ensemble_average(logits):
    return torch.softmax(logits, dim=-1).mean(dim=0)
""",
    },
}


# Wrong answers written after the first set.
MUTANTS["batchnorm_forward"].update({
    "eval-mode cache built from the batch statistics": """
def batchnorm_forward(x, gamma, beta, state, mode):
    eps, m = state["eps"], state["momentum"]
    n = x.shape[0]
    bmu, bvar = x.mean(0), x.var(0, correction=0)
    if mode == "train":
        state["running_mean"] = (1 - m) * state["running_mean"] + m * bmu
        state["running_var"] = (1 - m) * state["running_var"] + m * bvar * n / (n - 1)
        out = gamma * (x - bmu) / torch.sqrt(bvar + eps) + beta
    else:
        out = gamma * (x - state["running_mean"]) / torch.sqrt(state["running_var"] + eps) + beta
    inv_std = 1 / torch.sqrt(bvar + eps)
    return out, ((x - bmu) * inv_std, gamma, inv_std)
""",
    "running variance updated with var + eps": """
def batchnorm_forward(x, gamma, beta, state, mode):
    eps, m = state["eps"], state["momentum"]
    if mode == "train":
        n = x.shape[0]
        mu, var = x.mean(0), x.var(0, correction=0)
        state["running_mean"] = (1 - m) * state["running_mean"] + m * mu
        state["running_var"] = (1 - m) * state["running_var"] + m * (var * n / (n - 1) + eps)
    else:
        mu, var = state["running_mean"], state["running_var"]
    inv_std = 1 / torch.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
""",
    "returns float64 for a float32 input": """
def batchnorm_forward(x, gamma, beta, state, mode):
    eps, m = state["eps"], state["momentum"]
    x, gamma, beta = x.double(), gamma.double(), beta.double()
    if mode == "train":
        n = x.shape[0]
        mu, var = x.mean(0), x.var(0, correction=0)
        rm, rv = state["running_mean"], state["running_var"]
        state["running_mean"] = ((1 - m) * rm + m * mu).to(rm.dtype)
        state["running_var"] = ((1 - m) * rv + m * var * n / (n - 1)).to(rv.dtype)
    else:
        mu, var = state["running_mean"].double(), state["running_var"].double()
    inv_std = 1 / torch.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
""",
})

HINTS = {
    "batchnorm_forward": {
        "running variance updated with the biased variance": "the running variance is updated with the unbiased "
                                                              "batch variance (times N / (N - 1)), as BatchNorm1d does.",
        "eval mode uses the batch statistics": "in eval mode everything, the output and the cache, comes from the "
                                               "running statistics, never from the batch.",
        "eval-mode cache built from the batch statistics": "in eval mode the cache, too, comes from the running "
                                                           "statistics (xhat and inv_std from running_mean and running_var).",
        "running variance updated with var + eps": "eps belongs in the normalization only; the running variance "
                                                   "tracks the unbiased batch variance without it.",
    },
}

MUTANTS["batchnorm_forward"]["running variance updated with (var + eps) * N / (N - 1)"] = """
def batchnorm_forward(x, gamma, beta, state, mode):
    eps, m = state["eps"], state["momentum"]
    if mode == "train":
        n = x.shape[0]
        mu, var = x.mean(0), x.var(0, correction=0)
        state["running_mean"] = (1 - m) * state["running_mean"] + m * mu
        state["running_var"] = (1 - m) * state["running_var"] + m * (var + eps) * n / (n - 1)
    else:
        mu, var = state["running_mean"], state["running_var"]
    inv_std = 1 / torch.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
"""
HINTS["batchnorm_forward"]["running variance updated with (var + eps) * N / (N - 1)"] = \
    HINTS["batchnorm_forward"]["running variance updated with var + eps"]

MUTANTS["dropout_forward"]["keeps a unit only when u > p"] = """
def dropout_forward(x, p, training, generator):
    if not training:
        return x.clone(), torch.ones_like(x)
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    mask = (u > p).to(x.dtype) / (1.0 - p)
    return x * mask, mask
"""
HINTS["dropout_forward"] = {
    "keeps a unit only when u > p": "a unit is kept exactly when u >= p: a draw equal to p keeps it.",
    "p used as the keep probability (the worksheet's convention)": "p is the probability of dropping a unit "
        "(torch's convention), not of keeping it.",
    "no 1 / (1 - p) scaling": "inverted dropout scales the kept units by 1 / (1 - p) during training.",
}


# The stepping stone of the BatchNorm backward pass, the concept questions and the make-it-work task.
MUTANTS["batchnorm_jacobian"] = {
    "without the path through the mean": """
def batchnorm_jacobian(xhat, inv_std):
    n = xhat.shape[0]
    return inv_std / n * (n * torch.eye(n, dtype=xhat.dtype) - torch.outer(xhat, xhat))
""",
    "without the path through the variance": """
def batchnorm_jacobian(xhat, inv_std):
    n = xhat.shape[0]
    return inv_std * (torch.eye(n, dtype=xhat.dtype) - 1.0 / n)
""",
    "drops the 1/2 of the inverse square root (twice the variance term)": """
def batchnorm_jacobian(xhat, inv_std):
    n = xhat.shape[0]
    return inv_std / n * (n * torch.eye(n, dtype=xhat.dtype) - 1.0 - 2.0 * torch.outer(xhat, xhat))
""",
    "the variance term without its 1/N": """
def batchnorm_jacobian(xhat, inv_std):
    n = xhat.shape[0]
    return inv_std * (torch.eye(n, dtype=xhat.dtype) - 1.0 / n) - inv_std * torch.outer(xhat, xhat)
""",
    "the eval-mode Jacobian (statistics held constant)": """
def batchnorm_jacobian(xhat, inv_std):
    return inv_std * torch.eye(xhat.shape[0], dtype=xhat.dtype)
""",
}
ALTERNATIVES["batchnorm_jacobian"] = {
    "the chain rule entry by entry, float64 inside": """
def batchnorm_jacobian(xhat, inv_std):
    n = xhat.shape[0]
    s = float(inv_std)
    J = torch.empty(n, n, dtype=torch.float64)
    for j in range(n):
        for i in range(n):
            ds_dxi = -s * s * float(xhat[i]) / n
            J[j, i] = s * ((1.0 if i == j else 0.0) - 1.0 / n) + (float(xhat[j]) / s) * ds_dxi
    return J.to(xhat.dtype)
""",
    "centering matrix minus a rank-one term": """
def batchnorm_jacobian(xhat, inv_std):
    n = xhat.shape[0]
    centre = torch.eye(n, dtype=xhat.dtype) - torch.full((n, n), 1.0 / n, dtype=xhat.dtype)
    return inv_std * (centre - xhat[:, None] * xhat[None, :] / n)
""",
}
MUTANTS["concept_eval_mode"] = {
    "batch statistics equal the running ones": 'def concept_eval_mode():\n    return "a"\n',
    "only the speed changes": 'def concept_eval_mode():\n    return "b"\n',
    "the optimizer updates the running statistics": 'def concept_eval_mode():\n    return "d"\n',
}
ALTERNATIVES["concept_eval_mode"] = {"upper case": 'def concept_eval_mode():\n    return "C"\n'}
MUTANTS["concept_bn_learning_rate"] = {
    "a convex loss": 'def concept_bn_learning_rate():\n    return "a"\n',
    "divides by the batch size": 'def concept_bn_learning_rate():\n    return "c"\n',
    "running statistics as momentum": 'def concept_bn_learning_rate():\n    return "d"\n',
}
ALTERNATIVES["concept_bn_learning_rate"] = {"with spaces": 'def concept_bn_learning_rate():\n    return " b "\n'}
MUTANTS["concept_dropout_scaling"] = {
    "test-time scaling reproduces the expectation": 'def concept_dropout_scaling():\n    return "a"\n',
    "doing both is harmless": 'def concept_dropout_scaling():\n    return "b"\n',
    "twice as large": 'def concept_dropout_scaling():\n    return "c"\n',
}
ALTERNATIVES["concept_dropout_scaling"] = {"plain letter": 'def concept_dropout_scaling():\n    return "d"\n'}

_TRAIN = """
def train_bn_mlp(X, y, hidden=64, steps=200, lr=2.0, batch_size=64, p=0.1, seed=0):
    g = torch.Generator().manual_seed(seed)
    n, d = X.shape
    P = {"W1": init_weight(d, hidden, "he", g, dtype=X.dtype), "W2": init_weight(hidden, hidden, "he", g, dtype=X.dtype),
         "W3": init_weight(hidden, 10, "lecun", g, dtype=X.dtype), "b3": torch.zeros(10, dtype=X.dtype)}
    states = {}
    for k in (1, 2):
        P[f"b{k}"] = torch.zeros(hidden, dtype=X.dtype)
        P[f"gamma{k}"] = torch.ones(hidden, dtype=X.dtype)
        P[f"beta{k}"] = torch.zeros(hidden, dtype=X.dtype)
        states[k] = {"running_mean": torch.zeros(hidden, dtype=X.dtype),
                     "running_var": torch.ones(hidden, dtype=X.dtype), "momentum": 0.1, "eps": 1e-5}
    for _ in range(steps):
        idx = torch.randint(0, n, (batch_size,), generator=g)
        h, t = X[idx], y[idx]
        saved = []
        for k in (1, 2):
            z = h @ P[f"W{k}"].T + P[f"b{k}"]
            a, c = batchnorm_forward(z, P[f"gamma{k}"], P[f"beta{k}"], states[k], "train")
            out, mask = dropout_forward(torch.relu(a), p, True, g)
            saved.append((h, c, a, mask))
            h = out
        dl = torch.softmax(h @ P["W3"].T + P["b3"], dim=1)
        dl[torch.arange(batch_size), t] -= 1.0
        dl = dl / batch_size
        G = {"W3": dl.T @ h, "b3": dl.sum(0)}
        dh = dl @ P["W3"]
        for k in (2, 1):
            h_in, c, a, mask = saved[k - 1]
            da = dropout_backward(dh, mask) * (a > 0)
            dz, G[f"gamma{k}"], G[f"beta{k}"] = BN_BACKWARD(da, c)
            G[f"W{k}"], G[f"b{k}"] = dz.T @ h_in, dz.sum(0)
            dh = dz @ P[f"W{k}"]
        for name, grad in G.items():
            P[name] = P[name] - lr * grad
    for k in (1, 2):
        P[f"running_mean{k}"] = states[k]["running_mean"]
        P[f"running_var{k}"] = states[k]["running_var"]
    return P
"""
MUTANTS["train_bn_mlp"] = {
    "BatchNorm backward without the paths through the batch statistics (the eval-mode gradient)": """
def _bn_backward_constant_statistics(dout, cache):
    xhat, gamma, inv_std = cache
    return gamma * inv_std * dout, (dout * xhat).sum(0), dout.sum(0)
""" + _TRAIN.replace("BN_BACKWARD", "_bn_backward_constant_statistics"),
    "BatchNorm backward without the path through the mean": """
def _bn_backward_no_mean(dout, cache):
    xhat, gamma, inv_std = cache
    n = dout.shape[0]
    return gamma * inv_std / n * (n * dout - xhat * (dout * xhat).sum(0)), (dout * xhat).sum(0), dout.sum(0)
""" + _TRAIN.replace("BN_BACKWARD", "_bn_backward_no_mean"),
    "BatchNorm backward summing over the features instead of the batch": """
def _bn_backward_feature_sums(dout, cache):
    xhat, gamma, inv_std = cache
    n = dout.shape[0]
    s1, s2 = dout.sum(1, keepdim=True), (dout * xhat).sum(1, keepdim=True)
    return gamma * inv_std / n * (n * dout - s1 - xhat * s2), (dout * xhat).sum(0), dout.sum(0)
""" + _TRAIN.replace("BN_BACKWARD", "_bn_backward_feature_sums"),
    "returns the initial running statistics (evaluates with mean 0, variance 1)": (
        _TRAIN.replace("BN_BACKWARD", "batchnorm_backward")
        .replace('P[f"running_mean{k}"] = states[k]["running_mean"]', 'P[f"running_mean{k}"] = torch.zeros(hidden, dtype=X.dtype)')
        .replace('P[f"running_var{k}"] = states[k]["running_var"]', 'P[f"running_var{k}"] = torch.ones(hidden, dtype=X.dtype)')),
}
ALTERNATIVES["train_bn_mlp"] = {
    "the same loop in float64, one-hot cross-entropy gradient": (
        _TRAIN.replace("BN_BACKWARD", "batchnorm_backward")
        .replace("    g = torch.Generator().manual_seed(seed)\n", "    g = torch.Generator().manual_seed(seed)\n    X = X.double()\n")
        .replace('dl[torch.arange(batch_size), t] -= 1.0', 'dl = dl - F.one_hot(t, 10).to(dl.dtype)')),
}

SAMPLE_WRONG = ["batchnorm_jacobian", "ensemble_average"]

# Make-it-work tasks, judged on a target (autograder.mutation leaves them to their registered mutants).
JUDGED_ON_A_TARGET = ['train_bn_mlp']
