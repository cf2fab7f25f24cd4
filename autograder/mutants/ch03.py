"""Classic wrong answers and correct alternatives for chapter 03 (logistic regression to softmax)."""

CHAPTER = "03-linear-models-and-softmax"

MUTANTS = {
    "sigmoid": {
        "exp(z) / (1 + exp(z)): inf / inf = nan for large positive z": """
def sigmoid(z):
    return torch.exp(z) / (1 + torch.exp(z))
""",
        "sign slip: 1 / (1 + exp(z))": """
def sigmoid(z):
    return 1 / (1 + torch.exp(z))
""",
        "tanh without the rescaling": """
def sigmoid(z):
    return 0.5 * (1 + torch.tanh(z))
""",
    },
    "logistic_loss_and_grad": {
        "textbook formula with logs of probabilities (inf for confident mistakes)": """
def logistic_loss_and_grad(logits, targets):
    p = 1 / (1 + torch.exp(-logits))
    loss = -(targets * torch.log(p) + (1 - targets) * torch.log(1 - p)).mean()
    return loss, (p - targets) / logits.shape[0]
""",
        "gradient misses the 1/N of the mean": """
def logistic_loss_and_grad(logits, targets):
    loss = (logits.clamp(min=0) - targets * logits + torch.log1p(torch.exp(-logits.abs()))).mean()
    return loss, torch.sigmoid(logits) - targets
""",
        "loss summed over the batch instead of averaged": """
def logistic_loss_and_grad(logits, targets):
    loss = (logits.clamp(min=0) - targets * logits + torch.log1p(torch.exp(-logits.abs()))).sum()
    return loss, (torch.sigmoid(logits) - targets) / logits.shape[0]
""",
        "gradient with the wrong sign (target minus prediction)": """
def logistic_loss_and_grad(logits, targets):
    loss = (logits.clamp(min=0) - targets * logits + torch.log1p(torch.exp(-logits.abs()))).mean()
    return loss, (targets - torch.sigmoid(logits)) / logits.shape[0]
""",
    },
    "softmax": {
        "no max shift: exp(1000) overflows to inf, inf / inf = nan": """
def softmax(logits, dim=-1):
    e = torch.exp(logits)
    return e / e.sum(dim=dim, keepdim=True)
""",
        "normalizes over the wrong dimension (always dim 0)": """
def softmax(logits, dim=-1):
    e = torch.exp(logits - logits.amax(dim=0, keepdim=True))
    return e / e.sum(dim=0, keepdim=True)
""",
        "ignores the dim argument (always the last dimension)": """
def softmax(logits, dim=-1):
    e = torch.exp(logits - logits.amax(dim=-1, keepdim=True))
    return e / e.sum(dim=-1, keepdim=True)
""",
        "one global max shift for the whole tensor (rows far below it underflow to 0/0)": """
def softmax(logits, dim=-1):
    e = torch.exp(logits - logits.max())
    return e / e.sum(dim=dim, keepdim=True)
""",
        "divides by the sum over the whole tensor": """
def softmax(logits, dim=-1):
    e = torch.exp(logits - logits.amax(dim=dim, keepdim=True))
    return e / e.sum()
""",
    },
    "log_softmax": {
        "log of the softmax: log(0) = -inf for very unlikely classes": """
def log_softmax(logits, dim=-1):
    e = torch.exp(logits - logits.amax(dim=dim, keepdim=True))
    return torch.log(e / e.sum(dim=dim, keepdim=True))
""",
        "log-sum-exp without the max shift": """
def log_softmax(logits, dim=-1):
    return logits - torch.log(torch.exp(logits).sum(dim=dim, keepdim=True))
""",
        "forgets to add the max back into the log-sum-exp": """
def log_softmax(logits, dim=-1):
    m = logits.amax(dim=dim, keepdim=True)
    return logits - torch.log(torch.exp(logits - m).sum(dim=dim, keepdim=True))
""",
        "ignores the dim argument (always the last dimension)": """
def log_softmax(logits, dim=-1):
    return logits - torch.logsumexp(logits, dim=-1, keepdim=True)
""",
    },
    "cross_entropy": {
        "summed over the batch instead of averaged": """
def cross_entropy(logits, targets):
    logp = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -logp[torch.arange(logits.shape[0]), targets].sum()
""",
        "log of the softmax: inf for a confident mistake": """
def cross_entropy(logits, targets):
    p = torch.exp(logits - logits.amax(dim=1, keepdim=True))
    p = p / p.sum(dim=1, keepdim=True)
    return -torch.log(p[torch.arange(logits.shape[0]), targets]).mean()
""",
        "indexes with logits[:, targets] (an N x N block, not one entry per row)": """
def cross_entropy(logits, targets):
    logp = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -logp[:, targets].mean()
""",
        "forgets the normalization (uses the raw logit as the log-probability)": """
def cross_entropy(logits, targets):
    return -logits[torch.arange(logits.shape[0]), targets].mean()
""",
    },
    "softmax_cross_entropy_grad": {
        "misses the 1/N of the mean": """
def softmax_cross_entropy_grad(logits, targets):
    p = torch.softmax(logits, dim=1)
    p[torch.arange(logits.shape[0]), targets] -= 1
    return p
""",
        "wrong sign: one_hot - softmax": """
def softmax_cross_entropy_grad(logits, targets):
    p = torch.softmax(logits, dim=1)
    y = torch.nn.functional.one_hot(targets, logits.shape[1]).to(logits.dtype)
    return (y - p) / logits.shape[0]
""",
        "forgets the one-hot term": """
def softmax_cross_entropy_grad(logits, targets):
    return torch.softmax(logits, dim=1) / logits.shape[0]
""",
        "softmax without the max shift (nan for large logits)": """
def softmax_cross_entropy_grad(logits, targets):
    e = torch.exp(logits)
    p = e / e.sum(dim=1, keepdim=True)
    y = torch.nn.functional.one_hot(targets, logits.shape[1]).to(logits.dtype)
    return (p - y) / logits.shape[0]
""",
        "normalizes over the batch dimension (softmax along dim 0)": """
def softmax_cross_entropy_grad(logits, targets):
    p = torch.softmax(logits, dim=0)
    y = torch.nn.functional.one_hot(targets, logits.shape[1]).to(logits.dtype)
    return (p - y) / logits.shape[0]
""",
    },
    "accuracy": {
        "returns the number of correct rows, not the fraction": """
def accuracy(logits, targets):
    return float((logits.argmax(dim=1) == targets).sum())
""",
        "argmax over the batch dimension": """
def accuracy(logits, targets):
    return (logits.argmax(dim=0) == targets).double().mean().item()
""",
        "returns a percentage": """
def accuracy(logits, targets):
    return 100.0 * (logits.argmax(dim=1) == targets).double().mean().item()
""",
    },
    "linear_softmax_loss_and_grads": {
        "regularization gradient missing (loss has the penalty, dW does not)": """
def linear_softmax_loss_and_grads(X, W, b, y, reg):
    n = X.shape[0]
    Z = X @ W + b
    loss = torch.nn.functional.cross_entropy(Z, y) + 0.5 * reg * (W ** 2).sum()
    delta = torch.softmax(Z, dim=1)
    delta[torch.arange(n), y] -= 1
    delta = delta / n
    return loss, X.T @ delta, delta.sum(0)
""",
        "regularization gradient doubled: 2 * reg * W with the reg/2 convention": """
def linear_softmax_loss_and_grads(X, W, b, y, reg):
    n = X.shape[0]
    Z = X @ W + b
    loss = torch.nn.functional.cross_entropy(Z, y) + 0.5 * reg * (W ** 2).sum()
    delta = torch.softmax(Z, dim=1)
    delta[torch.arange(n), y] -= 1
    delta = delta / n
    return loss, X.T @ delta + 2 * reg * W, delta.sum(0)
""",
        "gradient misses the 1/N of the mean": """
def linear_softmax_loss_and_grads(X, W, b, y, reg):
    n = X.shape[0]
    Z = X @ W + b
    loss = torch.nn.functional.cross_entropy(Z, y) + 0.5 * reg * (W ** 2).sum()
    delta = torch.softmax(Z, dim=1)
    delta[torch.arange(n), y] -= 1
    return loss, X.T @ delta + reg * W, delta.sum(0)
""",
        "dW transposed: delta.T @ X (a (C, D) array)": """
def linear_softmax_loss_and_grads(X, W, b, y, reg):
    n = X.shape[0]
    Z = X @ W + b
    loss = torch.nn.functional.cross_entropy(Z, y) + 0.5 * reg * (W ** 2).sum()
    delta = torch.softmax(Z, dim=1)
    delta[torch.arange(n), y] -= 1
    delta = delta / n
    return loss, delta.T @ X + reg * W.T, delta.sum(0)
""",
        "dW transposed, reshaped to W's shape so the shapes match": """
def linear_softmax_loss_and_grads(X, W, b, y, reg):
    n = X.shape[0]
    Z = X @ W + b
    loss = torch.nn.functional.cross_entropy(Z, y) + 0.5 * reg * (W ** 2).sum()
    delta = torch.softmax(Z, dim=1)
    delta[torch.arange(n), y] -= 1
    delta = delta / n
    return loss, (delta.T @ X).reshape(W.shape) + reg * W, delta.sum(0)
""",
        "loss without the penalty term": """
def linear_softmax_loss_and_grads(X, W, b, y, reg):
    n = X.shape[0]
    Z = X @ W + b
    loss = torch.nn.functional.cross_entropy(Z, y)
    delta = torch.softmax(Z, dim=1)
    delta[torch.arange(n), y] -= 1
    delta = delta / n
    return loss, X.T @ delta + reg * W, delta.sum(0)
""",
        "regularizes the bias too": """
def linear_softmax_loss_and_grads(X, W, b, y, reg):
    n = X.shape[0]
    Z = X @ W + b
    loss = torch.nn.functional.cross_entropy(Z, y) + 0.5 * reg * ((W ** 2).sum() + (b ** 2).sum())
    delta = torch.softmax(Z, dim=1)
    delta[torch.arange(n), y] -= 1
    delta = delta / n
    return loss, X.T @ delta + reg * W, delta.sum(0) + reg * b
""",
        "db averaged over the batch instead of summed (1/N twice)": """
def linear_softmax_loss_and_grads(X, W, b, y, reg):
    n = X.shape[0]
    Z = X @ W + b
    loss = torch.nn.functional.cross_entropy(Z, y) + 0.5 * reg * (W ** 2).sum()
    delta = torch.softmax(Z, dim=1)
    delta[torch.arange(n), y] -= 1
    delta = delta / n
    return loss, X.T @ delta + reg * W, delta.mean(0)
""",
    },
    "train_softmax_classifier": {
        "gradient ascent: W = W + lr * dW": """
def train_softmax_classifier(X, y, num_classes, lr, epochs, reg, generator):
    W = 0.01 * torch.randn(X.shape[1], num_classes, generator=generator, dtype=X.dtype)
    b = torch.zeros(num_classes, dtype=X.dtype)
    losses = []
    for _ in range(epochs):
        loss, dW, db = linear_softmax_loss_and_grads(X, W, b, y, reg)
        losses.append(loss.item())
        W = W + lr * dW
        b = b + lr * db
    return W, b, losses
""",
        "records the loss after the update": """
def train_softmax_classifier(X, y, num_classes, lr, epochs, reg, generator):
    W = 0.01 * torch.randn(X.shape[1], num_classes, generator=generator, dtype=X.dtype)
    b = torch.zeros(num_classes, dtype=X.dtype)
    losses = []
    for _ in range(epochs):
        loss, dW, db = linear_softmax_loss_and_grads(X, W, b, y, reg)
        W = W - lr * dW
        b = b - lr * db
        losses.append(linear_softmax_loss_and_grads(X, W, b, y, reg)[0].item())
    return W, b, losses
""",
        "never updates the bias": """
def train_softmax_classifier(X, y, num_classes, lr, epochs, reg, generator):
    W = 0.01 * torch.randn(X.shape[1], num_classes, generator=generator, dtype=X.dtype)
    b = torch.zeros(num_classes, dtype=X.dtype)
    losses = []
    for _ in range(epochs):
        loss, dW, db = linear_softmax_loss_and_grads(X, W, b, y, reg)
        losses.append(loss.item())
        W = W - lr * dW
    return W, b, losses
""",
        "drops the regularization during training": """
def train_softmax_classifier(X, y, num_classes, lr, epochs, reg, generator):
    W = 0.01 * torch.randn(X.shape[1], num_classes, generator=generator, dtype=X.dtype)
    b = torch.zeros(num_classes, dtype=X.dtype)
    losses = []
    for _ in range(epochs):
        loss, dW, db = linear_softmax_loss_and_grads(X, W, b, y, 0.0)
        losses.append(loss.item())
        W = W - lr * dW
        b = b - lr * db
    return W, b, losses
""",
        "divides the step by N again (a learning rate N times too small)": """
def train_softmax_classifier(X, y, num_classes, lr, epochs, reg, generator):
    W = 0.01 * torch.randn(X.shape[1], num_classes, generator=generator, dtype=X.dtype)
    b = torch.zeros(num_classes, dtype=X.dtype)
    losses = []
    n = X.shape[0]
    for _ in range(epochs):
        loss, dW, db = linear_softmax_loss_and_grads(X, W, b, y, reg)
        losses.append(loss.item())
        W = W - lr * dW / n
        b = b - lr * db / n
    return W, b, losses
""",
    },
}

ALTERNATIVES = {
    "sigmoid": {
        "plain 1 / (1 + exp(-z)) (exp overflows to inf for z < -709, and 1/inf = 0 is still right)": """
def sigmoid(z):
    return 1.0 / (1.0 + torch.exp(-z))
""",
        "via tanh: (1 + tanh(z/2)) / 2": """
def sigmoid(z):
    return 0.5 * (1.0 + torch.tanh(0.5 * z))
""",
        "numpy, two branches with masks": """
def sigmoid(z):
    a = z.detach().cpu().numpy()
    out = np.empty_like(a)
    pos = a >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-a[pos]))
    e = np.exp(a[~pos])
    out[~pos] = e / (1.0 + e)
    return torch.from_numpy(out).to(z.device)
""",
    },
    "logistic_loss_and_grad": {
        "torch.nn.functional.softplus and torch.sigmoid": """
def logistic_loss_and_grad(logits, targets):
    n = logits.shape[0]
    loss = (torch.nn.functional.softplus(logits) - targets * logits).mean()
    return loss, (torch.sigmoid(logits) - targets) / n
""",
        "loop over the examples, both branches written out": """
def logistic_loss_and_grad(logits, targets):
    n = logits.shape[0]
    total = 0.0
    grad = torch.zeros_like(logits)
    for i in range(n):
        z, t = float(logits[i]), float(targets[i])
        if z >= 0:
            total += z - t * z + math.log1p(math.exp(-z))
            p = 1.0 / (1.0 + math.exp(-z))
        else:
            total += -t * z + math.log1p(math.exp(z))
            p = math.exp(z) / (1.0 + math.exp(z))
        grad[i] = (p - t) / n
    return torch.tensor(total / n, dtype=logits.dtype), grad
""",
        "t * softplus(-z) + (1 - t) * softplus(z) with logaddexp": """
def logistic_loss_and_grad(logits, targets):
    zero = torch.zeros_like(logits)
    loss = (targets * torch.logaddexp(zero, -logits) + (1 - targets) * torch.logaddexp(zero, logits)).mean()
    grad = (torch.exp(-torch.logaddexp(zero, -logits)) - targets) / logits.shape[0]
    return loss, grad
""",
    },
    "softmax": {
        "loop over the rows (after moving dim last)": """
def softmax(logits, dim=-1):
    z = logits.movedim(dim, -1)
    flat = z.reshape(-1, z.shape[-1])
    out = torch.empty_like(flat)
    for i in range(flat.shape[0]):
        e = torch.exp(flat[i] - flat[i].max())
        out[i] = e / e.sum()
    return out.reshape(z.shape).movedim(-1, dim)
""",
        "exp(z - logsumexp(z))": """
def softmax(logits, dim=-1):
    return torch.exp(logits - torch.logsumexp(logits, dim=dim, keepdim=True))
""",
        "numpy": """
def softmax(logits, dim=-1):
    a = logits.detach().cpu().numpy()
    e = np.exp(a - a.max(axis=dim, keepdims=True))
    return torch.from_numpy(e / e.sum(axis=dim, keepdims=True)).to(logits.device)
""",
    },
    "log_softmax": {
        "torch.logsumexp": """
def log_softmax(logits, dim=-1):
    return logits - torch.logsumexp(logits, dim=dim, keepdim=True)
""",
        "loop over the rows (after moving dim last)": """
def log_softmax(logits, dim=-1):
    z = logits.movedim(dim, -1)
    flat = z.reshape(-1, z.shape[-1])
    out = torch.empty_like(flat)
    for i in range(flat.shape[0]):
        m = flat[i].max()
        out[i] = flat[i] - m - torch.log(torch.exp(flat[i] - m).sum())
    return out.reshape(z.shape).movedim(-1, dim)
""",
        "numpy": """
def log_softmax(logits, dim=-1):
    a = logits.detach().cpu().numpy()
    m = a.max(axis=dim, keepdims=True)
    out = a - m - np.log(np.exp(a - m).sum(axis=dim, keepdims=True))
    return torch.from_numpy(out).to(logits.device)
""",
    },
    "cross_entropy": {
        "one-hot times log-softmax, summed and averaged": """
def cross_entropy(logits, targets):
    logp = log_softmax(logits, dim=1)
    y = torch.nn.functional.one_hot(targets, logits.shape[1]).to(logits.dtype)
    return -(y * logp).sum(dim=1).mean()
""",
        "loop over the examples with logsumexp": """
def cross_entropy(logits, targets):
    total = torch.zeros((), dtype=logits.dtype)
    for i in range(logits.shape[0]):
        total = total + torch.logsumexp(logits[i], dim=0) - logits[i, targets[i]]
    return total / logits.shape[0]
""",
        "gather": """
def cross_entropy(logits, targets):
    lse = torch.logsumexp(logits, dim=1)
    return (lse - logits.gather(1, targets[:, None]).squeeze(1)).mean()
""",
    },
    "softmax_cross_entropy_grad": {
        "one_hot from torch.nn.functional and exp(z - logsumexp)": """
def softmax_cross_entropy_grad(logits, targets):
    p = torch.exp(logits - torch.logsumexp(logits, dim=1, keepdim=True))
    y = torch.nn.functional.one_hot(targets, logits.shape[1]).to(logits.dtype)
    return (p - y) / logits.shape[0]
""",
        "loop over the rows": """
def softmax_cross_entropy_grad(logits, targets):
    n = logits.shape[0]
    out = torch.empty_like(logits)
    for i in range(n):
        e = torch.exp(logits[i] - logits[i].max())
        row = e / e.sum()
        row[targets[i]] -= 1.0
        out[i] = row / n
    return out
""",
        "numpy": """
def softmax_cross_entropy_grad(logits, targets):
    a = logits.detach().cpu().numpy()
    e = np.exp(a - a.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(a.shape[0]), targets.cpu().numpy()] -= 1.0
    return torch.from_numpy(p / a.shape[0]).to(logits.device)
""",
    },
    "accuracy": {
        "loop with Python counting": """
def accuracy(logits, targets):
    correct = 0
    for i in range(logits.shape[0]):
        correct += int(int(torch.argmax(logits[i])) == int(targets[i]))
    return correct / logits.shape[0]
""",
        "numpy": """
def accuracy(logits, targets):
    return float(np.mean(logits.detach().cpu().numpy().argmax(axis=1) == targets.cpu().numpy()))
""",
    },
    "linear_softmax_loss_and_grads": {
        "built from the earlier exercises": """
def linear_softmax_loss_and_grads(X, W, b, y, reg):
    Z = X @ W + b
    loss = cross_entropy(Z, y) + 0.5 * reg * (W * W).sum()
    delta = softmax_cross_entropy_grad(Z, y)
    return loss, X.T @ delta + reg * W, delta.sum(dim=0)
""",
        "einsum and a loop-free one-hot": """
def linear_softmax_loss_and_grads(X, W, b, y, reg):
    n, c = X.shape[0], W.shape[1]
    Z = X @ W + b
    logp = Z - torch.logsumexp(Z, dim=1, keepdim=True)
    Y = (y[:, None] == torch.arange(c)[None, :]).to(X.dtype)
    loss = -(Y * logp).sum() / n + reg / 2 * torch.sum(W ** 2)
    delta = (torch.exp(logp) - Y) / n
    return loss, torch.einsum("nd,nc->dc", X, delta) + reg * W, torch.einsum("nc->c", delta)
""",
        "sum of per-example outer products (loop)": """
def linear_softmax_loss_and_grads(X, W, b, y, reg):
    n = X.shape[0]
    dW = reg * W.clone()
    db = torch.zeros_like(b)
    loss = 0.5 * reg * (W ** 2).sum()
    for i in range(n):
        z = X[i] @ W + b
        z = z - z.max()
        p = torch.exp(z) / torch.exp(z).sum()
        loss = loss + (torch.log(torch.exp(z).sum()) - z[y[i]]) / n
        g = p.clone()
        g[y[i]] -= 1.0
        dW = dW + torch.outer(X[i], g) / n
        db = db + g / n
    return loss, dW, db
""",
    },
    "train_softmax_classifier": {
        "gradients written out inline, in-place updates, list of floats": """
def train_softmax_classifier(X, y, num_classes, lr, epochs, reg, generator):
    n = X.shape[0]
    W = 0.01 * torch.randn(X.shape[1], num_classes, generator=generator, dtype=X.dtype)
    b = torch.zeros(num_classes, dtype=X.dtype)
    Y = torch.nn.functional.one_hot(y, num_classes).to(X.dtype)
    losses = []
    for _ in range(epochs):
        Z = X @ W + b
        logp = Z - torch.logsumexp(Z, dim=1, keepdim=True)
        losses.append(float(-(Y * logp).sum() / n + 0.5 * reg * (W ** 2).sum()))
        delta = (torch.exp(logp) - Y) / n
        W -= lr * (X.T @ delta + reg * W)
        b -= lr * delta.sum(0)
    return W, b, losses
""",
        "stacked tensor of 0-dim losses": """
def train_softmax_classifier(X, y, num_classes, lr, epochs, reg, generator):
    W = 0.01 * torch.randn(X.shape[1], num_classes, generator=generator, dtype=X.dtype)
    b = torch.zeros(num_classes, dtype=X.dtype)
    history = []
    for _ in range(epochs):
        loss, dW, db = linear_softmax_loss_and_grads(X, W, b, y, reg)
        history.append(loss)
        W, b = W - lr * dW, b - lr * db
    return W, b, torch.stack(history)
""",
    },
}


# The softmax backward pass (the stepping stone to the cross-entropy gradient) and the concept questions.
MUTANTS["softmax_backward"] = {
    "forgets the off-diagonal terms: p * g (the Jacobian's diagonal taken as p)": """
def softmax_backward(probs, grad_probs, dim=-1):
    return probs * grad_probs
""",
    "diagonal of the Jacobian only: p (1 - p) g": """
def softmax_backward(probs, grad_probs, dim=-1):
    return probs * (1 - probs) * grad_probs
""",
    "subtracts the plain average of g instead of its p-weighted average": """
def softmax_backward(probs, grad_probs, dim=-1):
    return probs * (grad_probs - grad_probs.mean(dim=dim, keepdim=True))
""",
    "reduces over every dimension, not over dim": """
def softmax_backward(probs, grad_probs, dim=-1):
    return probs * (grad_probs - (grad_probs * probs).sum())
""",
    "reduces over the last dimension whatever dim says": """
def softmax_backward(probs, grad_probs, dim=-1):
    return probs * (grad_probs - (grad_probs * probs).sum(dim=-1, keepdim=True))
""",
}
ALTERNATIVES["softmax_backward"] = {
    "the full Jacobian, diag(p) - p p^T, applied row by row": """
def softmax_backward(probs, grad_probs, dim=-1):
    p = probs.movedim(dim, -1)
    g = grad_probs.movedim(dim, -1)
    jac = torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)
    return (jac @ g.unsqueeze(-1)).squeeze(-1).movedim(-1, dim)
""",
    "p * g minus p times the sum of p * g, in two steps": """
def softmax_backward(probs, grad_probs, dim=-1):
    pg = probs * grad_probs
    return pg - probs * pg.sum(dim=dim, keepdim=True)
""",
}
MUTANTS["gradient_rows_answer"] = {f"answers {x!r}": f'\ndef gradient_rows_answer():\n    return "{x}"\n' for x in "abd"}
ALTERNATIVES["gradient_rows_answer"] = {"capital letter": '\ndef gradient_rows_answer():\n    return "C"\n'}
MUTANTS["separable_answer"] = {f"answers {x!r}": f'\ndef separable_answer():\n    return "{x}"\n' for x in "acd"}
ALTERNATIVES["separable_answer"] = {"letter with spaces": '\ndef separable_answer():\n    return " b "\n'}

# Classic gradient bugs in the piece the training uses: they must miss the digits target on their own.
MUTANTS["train_softmax_classifier"].update({
    "its loss-and-gradients piece has targets minus probabilities (a sign slip)": """
def linear_softmax_loss_and_grads(X, W, b, y, reg):
    n = X.shape[0]
    Z = X @ W + b
    loss = torch.nn.functional.cross_entropy(Z, y) + 0.5 * reg * (W ** 2).sum()
    delta = (torch.nn.functional.one_hot(y, W.shape[1]).to(X.dtype) - torch.softmax(Z, dim=1)) / n
    return loss, X.T @ delta + reg * W, delta.sum(0)


def train_softmax_classifier(X, y, num_classes, lr, epochs, reg, generator):
    W = 0.01 * torch.randn(X.shape[1], num_classes, generator=generator, dtype=X.dtype)
    b = torch.zeros(num_classes, dtype=X.dtype)
    losses = []
    for _ in range(epochs):
        loss, dW, db = linear_softmax_loss_and_grads(X, W, b, y, reg)
        losses.append(loss.item())
        W = W - lr * dW
        b = b - lr * db
    return W, b, losses
""",
    "its loss-and-gradients piece forgets to subtract the one-hot targets": """
def linear_softmax_loss_and_grads(X, W, b, y, reg):
    n = X.shape[0]
    Z = X @ W + b
    loss = torch.nn.functional.cross_entropy(Z, y) + 0.5 * reg * (W ** 2).sum()
    delta = torch.softmax(Z, dim=1) / n
    return loss, X.T @ delta + reg * W, delta.sum(0)


def train_softmax_classifier(X, y, num_classes, lr, epochs, reg, generator):
    W = 0.01 * torch.randn(X.shape[1], num_classes, generator=generator, dtype=X.dtype)
    b = torch.zeros(num_classes, dtype=X.dtype)
    losses = []
    for _ in range(epochs):
        loss, dW, db = linear_softmax_loss_and_grads(X, W, b, y, reg)
        losses.append(loss.item())
        W = W - lr * dW
        b = b - lr * db
    return W, b, losses
""",
})

# Calibration: the expected calibration error and the temperature question.
MUTANTS["expected_calibration_error"] = {
    "averages the gaps over the non-empty bins without weighting them": """
def expected_calibration_error(probs, targets, n_bins=10):
    conf, pred = probs.max(dim=1)
    correct = (pred == targets).double()
    bins = (torch.ceil(conf.double() * n_bins) - 1).clamp(0, n_bins - 1).long()
    gaps = [abs(correct[bins == k].mean().item() - conf[bins == k].double().mean().item())
            for k in range(n_bins) if (bins == k).any()]
    return sum(gaps) / len(gaps)
""",
    "takes the probability of the target class as the confidence": """
def expected_calibration_error(probs, targets, n_bins=10):
    conf = probs[torch.arange(probs.shape[0]), targets].double()
    correct = (probs.argmax(dim=1) == targets).double()
    bins = (torch.ceil(conf * n_bins) - 1).clamp(0, n_bins - 1).long()
    total = 0.0
    for k in range(n_bins):
        m = bins == k
        if m.any():
            total += m.double().mean().item() * abs(correct[m].mean().item() - conf[m].mean().item())
    return total
""",
    "signed gaps: over- and under-confidence cancel": """
def expected_calibration_error(probs, targets, n_bins=10):
    conf, pred = probs.max(dim=1)
    correct = (pred == targets).double()
    bins = (torch.ceil(conf.double() * n_bins) - 1).clamp(0, n_bins - 1).long()
    total = 0.0
    for k in range(n_bins):
        m = bins == k
        if m.any():
            total += m.double().mean().item() * (correct[m].mean().item() - conf[m].double().mean().item())
    return abs(total)
""",
    "bins closed on the left, [k/B, (k+1)/B)": """
def expected_calibration_error(probs, targets, n_bins=10):
    conf, pred = probs.max(dim=1)
    correct = (pred == targets).double()
    bins = torch.floor(conf.double() * n_bins).clamp(0, n_bins - 1).long()
    total = 0.0
    for k in range(n_bins):
        m = bins == k
        if m.any():
            total += m.double().mean().item() * abs(correct[m].mean().item() - conf[m].double().mean().item())
    return total
""",
}
ALTERNATIVES["expected_calibration_error"] = {
    "torch.bucketize on the inner edges and index_add": """
def expected_calibration_error(probs, targets, n_bins=10):
    conf, pred = probs.double().max(dim=1)
    edges = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64)[1:-1]
    bins = torch.bucketize(conf, edges)
    signed = torch.zeros(n_bins, dtype=torch.float64).index_add_(0, bins, (pred == targets).double() - conf)
    return float(signed.abs().sum() / probs.shape[0])
""",
}
MUTANTS["temperature_answer"] = {f"answers {x!r}": f'\ndef temperature_answer():\n    return "{x}"\n' for x in "bcd"}
ALTERNATIVES["temperature_answer"] = {"capital letter": '\ndef temperature_answer():\n    return "A"\n'}

SAMPLE_WRONG = ["softmax", "cross_entropy"]

# Make-it-work tasks, judged on a target (autograder.mutation leaves them to their registered mutants).
JUDGED_ON_A_TARGET = ['train_softmax_classifier']
