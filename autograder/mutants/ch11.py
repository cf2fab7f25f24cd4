"""Classic wrong answers and correct alternatives for chapter 11 (a solvable model of over-fitting)."""

CHAPTER = "11-generalization"

MUTANTS = {
    "teacher_student_data": {
        "inputs of unit variance (the notes' text, not their formulas)": """
def teacher_student_data(N, P, sigma_w, sigma_eps, generator, dtype=torch.float64):
    w_bar = sigma_w * torch.randn(P, generator=generator, dtype=dtype)
    X = torch.randn(N, P, generator=generator, dtype=dtype)
    eps = sigma_eps * torch.randn(N, generator=generator, dtype=dtype)
    return X, X @ w_bar + eps, w_bar
""",
        "sigma_w read as a variance": """
def teacher_student_data(N, P, sigma_w, sigma_eps, generator, dtype=torch.float64):
    w_bar = math.sqrt(sigma_w) * torch.randn(P, generator=generator, dtype=dtype)
    X = torch.randn(N, P, generator=generator, dtype=dtype) / math.sqrt(P)
    eps = math.sqrt(sigma_eps) * torch.randn(N, generator=generator, dtype=dtype)
    return X, X @ w_bar + eps, w_bar
""",
        "inputs drawn before the teacher": """
def teacher_student_data(N, P, sigma_w, sigma_eps, generator, dtype=torch.float64):
    X = torch.randn(N, P, generator=generator, dtype=dtype) / math.sqrt(P)
    w_bar = sigma_w * torch.randn(P, generator=generator, dtype=dtype)
    eps = sigma_eps * torch.randn(N, generator=generator, dtype=dtype)
    return X, X @ w_bar + eps, w_bar
""",
        "variance 1/N instead of 1/P": """
def teacher_student_data(N, P, sigma_w, sigma_eps, generator, dtype=torch.float64):
    w_bar = sigma_w * torch.randn(P, generator=generator, dtype=dtype)
    X = torch.randn(N, P, generator=generator, dtype=dtype) / math.sqrt(N)
    eps = sigma_eps * torch.randn(N, generator=generator, dtype=dtype)
    return X, X @ w_bar + eps, w_bar
""",
    },
    "generalization_error": {
        "unit-variance inputs: the sum instead of the mean": """
def generalization_error(w, w_bar, sigma_eps):
    return ((w - w_bar) ** 2).sum(dim=-1) + sigma_eps ** 2
""",
        "forgets the noise floor": """
def generalization_error(w, w_bar, sigma_eps):
    return ((w - w_bar) ** 2).mean(dim=-1)
""",
        "noise standard deviation instead of variance": """
def generalization_error(w, w_bar, sigma_eps):
    return ((w - w_bar) ** 2).mean(dim=-1) + sigma_eps
""",
    },
    "gradient_flow_weights": {
        "squared-error decay rate: exp(-2 lambda t)": """
def gradient_flow_weights(X, y, w0, t):
    lam, V = torch.linalg.eigh(X.T @ X)
    lam = torch.where(lam.abs() < 1e-10, torch.zeros_like(lam), lam)
    s = V.T @ (X.T @ y)
    safe = torch.where(lam == 0, torch.ones_like(lam), lam)
    factor = torch.where(lam == 0, torch.full_like(lam, float(t)), -torch.expm1(-2 * lam * t) / safe / 2)
    return V @ ((V.T @ w0) * torch.exp(-2 * lam * t) + s * factor)
""",
        "frozen directions set to zero (pseudo-inverse path from 0, w0 only where lambda > 0)": """
def gradient_flow_weights(X, y, w0, t):
    lam, V = torch.linalg.eigh(X.T @ X)
    keep = lam > 1e-10
    lam, V = lam[keep], V[:, keep]
    s = V.T @ (X.T @ y)
    return V @ ((V.T @ w0) * torch.exp(-lam * t) + s * (-torch.expm1(-lam * t)) / lam)
""",
        "mean loss (X^T X / N): time runs N times slower": """
def gradient_flow_weights(X, y, w0, t):
    n = X.shape[0]
    lam, V = torch.linalg.eigh(X.T @ X / n)
    lam = torch.where(lam.abs() < 1e-10, torch.zeros_like(lam), lam)
    s = V.T @ (X.T @ y / n)
    safe = torch.where(lam == 0, torch.ones_like(lam), lam)
    factor = torch.where(lam == 0, torch.full_like(lam, float(t)), -torch.expm1(-lam * t) / safe)
    return V @ ((V.T @ w0) * torch.exp(-lam * t) + s * factor)
""",
        "ignores w0 (starts from zero)": """
def gradient_flow_weights(X, y, w0, t):
    lam, V = torch.linalg.eigh(X.T @ X)
    lam = torch.where(lam.abs() < 1e-10, torch.zeros_like(lam), lam)
    s = V.T @ (X.T @ y)
    safe = torch.where(lam == 0, torch.ones_like(lam), lam)
    factor = torch.where(lam == 0, torch.full_like(lam, float(t)), -torch.expm1(-lam * t) / safe)
    return V @ (s * factor)
""",
    },
    "expected_generalization_error": {
        "error decays like exp(-lambda t) instead of exp(-2 lambda t)": """
def expected_generalization_error(eigvals, t, sigma_w, sigma_w0, sigma_eps):
    lam, tt = eigvals[None, :], t.to(eigvals.dtype)[:, None]
    safe = torch.where(lam == 0, torch.ones_like(lam), lam)
    noise = torch.where(lam == 0, torch.zeros_like(lam * tt), sigma_eps ** 2 * torch.expm1(-lam * tt) ** 2 / safe)
    return ((sigma_w ** 2 + sigma_w0 ** 2) * torch.exp(-lam * tt) + noise).mean(dim=1) + sigma_eps ** 2
""",
        "forgets the irreducible noise sigma_eps^2": """
def expected_generalization_error(eigvals, t, sigma_w, sigma_w0, sigma_eps):
    lam, tt = eigvals[None, :], t.to(eigvals.dtype)[:, None]
    safe = torch.where(lam == 0, torch.ones_like(lam), lam)
    noise = torch.where(lam == 0, torch.zeros_like(lam * tt), sigma_eps ** 2 * torch.expm1(-lam * tt) ** 2 / safe)
    return ((sigma_w ** 2 + sigma_w0 ** 2) * torch.exp(-2 * lam * tt) + noise).mean(dim=1)
""",
        "no care for lambda = 0: 0/0 = nan": """
def expected_generalization_error(eigvals, t, sigma_w, sigma_w0, sigma_eps):
    lam, tt = eigvals[None, :], t.to(eigvals.dtype)[:, None]
    noise = sigma_eps ** 2 * (1 - torch.exp(-lam * tt)) ** 2 / lam
    return ((sigma_w ** 2 + sigma_w0 ** 2) * torch.exp(-2 * lam * tt) + noise).mean(dim=1) + sigma_eps ** 2
""",
        "averages over the nonzero modes only": """
def expected_generalization_error(eigvals, t, sigma_w, sigma_w0, sigma_eps):
    lam = eigvals[eigvals > 0][None, :]
    tt = t.to(eigvals.dtype)[:, None]
    noise = sigma_eps ** 2 * torch.expm1(-lam * tt) ** 2 / lam
    return ((sigma_w ** 2 + sigma_w0 ** 2) * torch.exp(-2 * lam * tt) + noise).mean(dim=1) + sigma_eps ** 2
""",
        "forgets the initialization's variance": """
def expected_generalization_error(eigvals, t, sigma_w, sigma_w0, sigma_eps):
    lam, tt = eigvals[None, :], t.to(eigvals.dtype)[:, None]
    safe = torch.where(lam == 0, torch.ones_like(lam), lam)
    noise = torch.where(lam == 0, torch.zeros_like(lam * tt), sigma_eps ** 2 * torch.expm1(-lam * tt) ** 2 / safe)
    return (sigma_w ** 2 * torch.exp(-2 * lam * tt) + noise).mean(dim=1) + sigma_eps ** 2
""",
    },
    "marchenko_pastur_density": {
        "edges (1 +- r)^2 instead of (1 +- sqrt r)^2": """
def marchenko_pastur_density(lam, r):
    lo, hi = (1 - r) ** 2, (1 + r) ** 2
    inside = (lam > lo) & (lam < hi) & (lam > 0)
    safe = torch.where(inside, lam, torch.ones_like(lam))
    value = torch.sqrt(((hi - safe) * (safe - lo)).clamp(min=0)) / (2 * math.pi * safe)
    return torch.where(inside, value, torch.zeros_like(lam))
""",
        "the sample-covariance law unscaled (gamma = 1/r, no change of variables)": """
def marchenko_pastur_density(lam, r):
    gamma = 1 / r
    lo, hi = (1 - math.sqrt(gamma)) ** 2, (1 + math.sqrt(gamma)) ** 2
    inside = (lam > lo) & (lam < hi) & (lam > 0)
    safe = torch.where(inside, lam, torch.ones_like(lam))
    value = torch.sqrt(((hi - safe) * (safe - lo)).clamp(min=0)) / (2 * math.pi * gamma * safe)
    return torch.where(inside, value, torch.zeros_like(lam))
""",
        "nan outside the support (square root of a negative number)": """
def marchenko_pastur_density(lam, r):
    lo, hi = (1 - math.sqrt(r)) ** 2, (1 + math.sqrt(r)) ** 2
    return torch.sqrt((hi - lam) * (lam - lo)) / (2 * math.pi * lam)
""",
    },
    "ridge_bias_variance": {
        "forgets the 1/P of the input covariance": """
def ridge_bias_variance(X, w_bar, sigma_eps, lam):
    sigma = X.T @ X
    A = torch.linalg.inv(sigma + lam * torch.eye(X.shape[1], dtype=X.dtype))
    return lam ** 2 * ((A @ w_bar) ** 2).sum(), sigma_eps ** 2 * torch.trace(A @ sigma @ A)
""",
        "variance sigma^2 tr(A) / P (the OLS formula with the penalty added)": """
def ridge_bias_variance(X, w_bar, sigma_eps, lam):
    P = X.shape[1]
    A = torch.linalg.inv(X.T @ X + lam * torch.eye(P, dtype=X.dtype))
    return lam ** 2 * ((A @ w_bar) ** 2).sum() / P, sigma_eps ** 2 * torch.trace(A) / P
""",
        "bias with lambda instead of lambda^2": """
def ridge_bias_variance(X, w_bar, sigma_eps, lam):
    P = X.shape[1]
    sigma = X.T @ X
    A = torch.linalg.inv(sigma + lam * torch.eye(P, dtype=X.dtype))
    return lam * ((A @ w_bar) ** 2).sum() / P, sigma_eps ** 2 * torch.trace(A @ sigma @ A) / P
""",
    },
    "optimal_ridge_lambda": {
        "ratio of standard deviations": """
def optimal_ridge_lambda(sigma_w, sigma_eps):
    return float(sigma_eps / sigma_w)
""",
        "inverted ratio": """
def optimal_ridge_lambda(sigma_w, sigma_eps):
    return float(sigma_w ** 2 / sigma_eps ** 2) if sigma_eps else 0.0
""",
    },
    "random_features_predict": {
        "a small ridge instead of the minimum-norm fit": """
def random_features_predict(X_train, y_train, X_test, width, generator):
    F = torch.randn(X_train.shape[1], width, generator=generator, dtype=X_train.dtype)
    phi = torch.relu(X_train @ F)
    a = torch.linalg.solve(phi.T @ phi + 1e-2 * torch.eye(width, dtype=phi.dtype), phi.T @ y_train)
    return torch.relu(X_test @ F) @ a
""",
        "no ReLU (linear random features)": """
def random_features_predict(X_train, y_train, X_test, width, generator):
    F = torch.randn(X_train.shape[1], width, generator=generator, dtype=X_train.dtype)
    a = torch.linalg.pinv(X_train @ F) @ y_train
    return (X_test @ F) @ a
""",
        "F drawn as (width, D) and transposed": """
def random_features_predict(X_train, y_train, X_test, width, generator):
    F = torch.randn(width, X_train.shape[1], generator=generator, dtype=X_train.dtype).T
    a = torch.linalg.pinv(torch.relu(X_train @ F)) @ y_train
    return torch.relu(X_test @ F) @ a
""",
    },
    "train_val_test_split": {
        "no shuffle": """
def train_val_test_split(n, val_fraction, test_fraction, generator):
    idx = torch.arange(n)
    n_val, n_test = int(val_fraction * n), int(test_fraction * n)
    return idx[n_val + n_test:], idx[:n_val], idx[n_val:n_val + n_test]
""",
        "validation and test drawn independently (they overlap)": """
def train_val_test_split(n, val_fraction, test_fraction, generator):
    n_val, n_test = int(val_fraction * n), int(test_fraction * n)
    val = torch.randperm(n, generator=generator)[:n_val]
    test = torch.randperm(n, generator=generator)[:n_test]
    used = set(val.tolist()) | set(test.tolist())
    train = torch.tensor([i for i in range(n) if i not in used], dtype=torch.int64)
    return train, val, test
""",
        "global random state instead of the generator": """
def train_val_test_split(n, val_fraction, test_fraction, generator):
    perm = torch.randperm(n)
    n_val, n_test = int(val_fraction * n), int(test_fraction * n)
    return perm[n_val + n_test:], perm[:n_val], perm[n_val:n_val + n_test]
""",
        "rounds the sizes instead of truncating": """
def train_val_test_split(n, val_fraction, test_fraction, generator):
    perm = torch.randperm(n, generator=generator)
    n_val, n_test = round(val_fraction * n), round(test_fraction * n)
    return perm[n_val + n_test:], perm[:n_val], perm[n_val:n_val + n_test]
""",
    },
    "k_fold_indices": {
        "drops the remainder when k does not divide n": """
def k_fold_indices(n, k, generator):
    perm = torch.randperm(n, generator=generator)
    size = n // k
    folds = [perm[i * size:(i + 1) * size] for i in range(k)]
    return [(torch.cat([f for j, f in enumerate(folds) if j != i]), folds[i]) for i in range(k)]
""",
        "trains on everything, the validation fold included": """
def k_fold_indices(n, k, generator):
    perm = torch.randperm(n, generator=generator)
    return [(perm.clone(), fold) for fold in torch.tensor_split(perm, k)]
""",
        "no shuffle": """
def k_fold_indices(n, k, generator):
    folds = torch.tensor_split(torch.arange(n), k)
    return [(torch.cat([f for j, f in enumerate(folds) if j != i]), folds[i]) for i in range(k)]
""",
    },
    "cross_validation_mse": {
        "pools all validation errors instead of averaging the folds": """
def cross_validation_mse(X, y, folds, lam):
    total, count = 0.0, 0
    for train_idx, val_idx in folds:
        Xt, yt = X[train_idx], y[train_idx]
        w = torch.linalg.solve(Xt.T @ Xt + lam * torch.eye(X.shape[1], dtype=X.dtype), Xt.T @ yt)
        total += float(((X[val_idx] @ w - y[val_idx]) ** 2).sum())
        count += len(val_idx)
    return total / count
""",
        "fits on all the data, validation rows included": """
def cross_validation_mse(X, y, folds, lam):
    w = torch.linalg.solve(X.T @ X + lam * torch.eye(X.shape[1], dtype=X.dtype), X.T @ y)
    return sum(float(((X[v] @ w - y[v]) ** 2).mean()) for _, v in folds) / len(folds)
""",
        "scores each fit on its own training rows": """
def cross_validation_mse(X, y, folds, lam):
    errors = []
    for train_idx, val_idx in folds:
        Xt, yt = X[train_idx], y[train_idx]
        w = torch.linalg.solve(Xt.T @ Xt + lam * torch.eye(X.shape[1], dtype=X.dtype), Xt.T @ yt)
        errors.append(float(((Xt @ w - yt) ** 2).mean()))
    return sum(errors) / len(errors)
""",
    },
    "early_stopping": {
        "off by one: waits patience + 1 epochs": """
def early_stopping(val_losses, patience):
    losses = [float(v) for v in val_losses]
    best = 0
    for epoch, loss in enumerate(losses):
        if loss < losses[best]:
            best = epoch
        elif epoch - best > patience:
            return best, epoch
    return best, len(losses) - 1
""",
        "counts ties as improvements": """
def early_stopping(val_losses, patience):
    losses = [float(v) for v in val_losses]
    best = 0
    for epoch, loss in enumerate(losses):
        if loss <= losses[best]:
            best = epoch
        elif epoch - best >= patience:
            return best, epoch
    return best, len(losses) - 1
""",
        "keeps the best epoch of the whole curve (looks past the stop)": """
def early_stopping(val_losses, patience):
    losses = [float(v) for v in val_losses]
    best = 0
    stop = len(losses) - 1
    for epoch, loss in enumerate(losses):
        if loss < losses[best]:
            best = epoch
        elif epoch - best >= patience:
            stop = epoch
            break
    return min(range(len(losses)), key=losses.__getitem__), stop
""",
    },
    "random_search": {
        "learning rates uniform instead of log-uniform": """
def random_search(space, n_trials, generator):
    configs = []
    for _ in range(n_trials):
        config = {}
        for name, spec in space.items():
            u = torch.rand((), generator=generator, dtype=torch.float64).item()
            if spec[0] in ("log", "uniform"):
                config[name] = spec[1] + u * (spec[2] - spec[1])
            elif spec[0] == "int":
                config[name] = spec[1] + int(u * (spec[2] - spec[1] + 1))
            else:
                config[name] = spec[1][int(u * len(spec[1]))]
        configs.append(config)
    return configs
""",
        "the upper end of an int range is never drawn": """
def random_search(space, n_trials, generator):
    configs = []
    for _ in range(n_trials):
        config = {}
        for name, spec in space.items():
            u = torch.rand((), generator=generator, dtype=torch.float64).item()
            if spec[0] == "log":
                config[name] = spec[1] * (spec[2] / spec[1]) ** u
            elif spec[0] == "uniform":
                config[name] = spec[1] + u * (spec[2] - spec[1])
            elif spec[0] == "int":
                config[name] = spec[1] + int(u * (spec[2] - spec[1]))
            else:
                config[name] = spec[1][int(u * len(spec[1]))]
        configs.append(config)
    return configs
""",
        "all trials of one hyperparameter first (another draw order)": """
def random_search(space, n_trials, generator):
    configs = [{} for _ in range(n_trials)]
    for name, spec in space.items():
        for config in configs:
            u = torch.rand((), generator=generator, dtype=torch.float64).item()
            if spec[0] == "log":
                config[name] = spec[1] * (spec[2] / spec[1]) ** u
            elif spec[0] == "uniform":
                config[name] = spec[1] + u * (spec[2] - spec[1])
            elif spec[0] == "int":
                config[name] = spec[1] + int(u * (spec[2] - spec[1] + 1))
            else:
                config[name] = spec[1][int(u * len(spec[1]))]
    return [{name: c[name] for name in space} for c in configs]
""",
    },
    "lr_range_test": {
        "learning rates spaced linearly": """
def lr_range_test(loss_and_grad, w0, lr_min, lr_max, num_steps):
    lrs, losses = [], []
    w = w0.clone()
    for i in range(num_steps):
        lr = lr_min + (lr_max - lr_min) * i / (num_steps - 1)
        loss, grad = loss_and_grad(w)
        lrs.append(lr)
        losses.append(float(loss))
        if not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses):
            break
        w = w - lr * grad
    return torch.tensor(lrs, dtype=torch.float64), torch.tensor(losses, dtype=torch.float64)
""",
        "restarts every step from w0": """
def lr_range_test(loss_and_grad, w0, lr_min, lr_max, num_steps):
    lrs, losses = [], []
    for i in range(num_steps):
        lr = lr_min * (lr_max / lr_min) ** (i / (num_steps - 1))
        loss, grad = loss_and_grad(w0 - lr * loss_and_grad(w0)[1])
        lrs.append(lr)
        losses.append(float(loss))
        if not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses):
            break
    return torch.tensor(lrs, dtype=torch.float64), torch.tensor(losses, dtype=torch.float64)
""",
        "never stops when the loss blows up": """
def lr_range_test(loss_and_grad, w0, lr_min, lr_max, num_steps):
    lrs, losses = [], []
    w = w0.clone()
    for i in range(num_steps):
        lr = lr_min * (lr_max / lr_min) ** (i / (num_steps - 1))
        loss, grad = loss_and_grad(w)
        lrs.append(lr)
        losses.append(float(loss))
        w = w - lr * grad
    return torch.tensor(lrs, dtype=torch.float64), torch.tensor(losses, dtype=torch.float64)
""",
    },
    "tune_mlp": {
        "selects by training accuracy (no held-out validation)": """
def tune_mlp(X, y, seed):
    gen = torch.Generator().manual_seed(seed)
    space = {"lr": ("log", 1e-3, 3.0), "weight_decay": ("log", 1e-6, 1e-2), "hidden": ("choice", [32, 64, 128])}
    best, best_acc = {"hidden": 64, "lr": 1e-3, "weight_decay": 1e-4, "epochs": 1}, -1.0
    for config in random_search(space, 16, gen):
        net = train_mlp(X, y, **config, epochs=40, seed=seed, X_val=X, y_val=y)
        if not net.val_accuracy:
            continue
        epoch, _ = early_stopping([-a for a in net.val_accuracy], patience=6)
        if net.val_accuracy[epoch] > best_acc:
            best_acc, best = net.val_accuracy[epoch], {**config, "epochs": epoch + 1}
    return {"hidden": int(best["hidden"]), "lr": float(best["lr"]), "weight_decay": float(best["weight_decay"]),
            "epochs": int(best["epochs"])}
""",
        "learning rate searched uniformly (nearly every trial above 0.1)": """
def tune_mlp(X, y, seed):
    gen = torch.Generator().manual_seed(seed)
    train_idx, val_idx, _ = train_val_test_split(X.shape[0], 0.2, 0.0, gen)
    space = {"lr": ("uniform", 1e-3, 3.0), "weight_decay": ("log", 1e-6, 1e-2), "hidden": ("choice", [32, 64, 128])}
    best, best_acc = {"hidden": 64, "lr": 1e-3, "weight_decay": 1e-4, "epochs": 1}, -1.0
    for config in random_search(space, 16, gen):
        net = train_mlp(X[train_idx], y[train_idx], **config, epochs=40, seed=seed, X_val=X[val_idx], y_val=y[val_idx])
        if not net.val_accuracy:
            continue
        epoch, _ = early_stopping([-a for a in net.val_accuracy], patience=6)
        if net.val_accuracy[epoch] > best_acc:
            best_acc, best = net.val_accuracy[epoch], {**config, "epochs": epoch + 1}
    return {"hidden": int(best["hidden"]), "lr": float(best["lr"]), "weight_decay": float(best["weight_decay"]),
            "epochs": int(best["epochs"])}
""",
        "one fixed configuration, the same for every data set": """
def tune_mlp(X, y, seed):
    return {"hidden": 128, "lr": 0.1, "weight_decay": 0.0, "epochs": 150}
""",
    },
    "concept_overfitting_peak": {
        "more parameters always over-fit more": """
def concept_overfitting_peak():
    return "a"
""",
        "least squares is unbiased": """
def concept_overfitting_peak():
    return "d"
""",
    },
    "concept_reported_accuracy": {
        "the best test accuracy of the search": """
def concept_reported_accuracy():
    return "a"
""",
        "the validation accuracy of the chosen model": """
def concept_reported_accuracy():
    return "c"
""",
    },
    "concept_early_stopping_as_ridge": {
        "longer training, stronger regularization": """
def concept_early_stopping_as_ridge():
    return "a"
""",
        "early stopping suppresses nothing": """
def concept_early_stopping_as_ridge():
    return "d"
""",
    },
}

ALTERNATIVES = {
    "teacher_student_data": {
        "scaled by P ** -0.5, labels by einsum": """
def teacher_student_data(N, P, sigma_w, sigma_eps, generator, dtype=torch.float64):
    w_bar = torch.randn(P, generator=generator, dtype=dtype) * sigma_w
    X = torch.randn(N, P, generator=generator, dtype=dtype) * P ** -0.5
    eps = torch.randn(N, generator=generator, dtype=dtype) * sigma_eps
    return X, torch.einsum("np,p->n", X, w_bar) + eps, w_bar
""",
    },
    "generalization_error": {
        "sum over the last axis divided by P": """
def generalization_error(w, w_bar, sigma_eps):
    d = w - w_bar
    return (d * d).sum(-1) / d.shape[-1] + sigma_eps * sigma_eps
""",
    },
    "gradient_flow_weights": {
        "least-squares solution plus a decaying deviation (pinv and matrix_exp)": """
def gradient_flow_weights(X, y, w0, t):
    w_ls = torch.linalg.pinv(X) @ y
    return w_ls + torch.matrix_exp(-(X.T @ X) * t) @ (w0 - w_ls)
""",
        "eigenbasis with a Taylor guard for small eigenvalues": """
def gradient_flow_weights(X, y, w0, t):
    lam, V = torch.linalg.eigh(X.T @ X)
    z0, s = V.T @ w0, V.T @ (X.T @ y)
    x = lam * t
    small = x.abs() < 1e-8
    factor = torch.where(small, t * (1 - x / 2), (1 - torch.exp(-x)) / torch.where(small, torch.ones_like(lam), lam))
    return V @ (z0 * torch.exp(-x) + s * factor)
""",
    },
    "expected_generalization_error": {
        "loop over modes and times, limit written out": """
def expected_generalization_error(eigvals, t, sigma_w, sigma_w0, sigma_eps):
    out = torch.zeros(len(t), dtype=eigvals.dtype)
    P = len(eigvals)
    for i, ti in enumerate(t.tolist()):
        total = 0.0
        for lam in eigvals.tolist():
            total += (sigma_w ** 2 + sigma_w0 ** 2) * math.exp(-2 * lam * ti)
            if lam > 0:
                total += sigma_eps ** 2 * (1 - math.exp(-lam * ti)) ** 2 / lam
        out[i] = total / P + sigma_eps ** 2
    return out
""",
    },
    "marchenko_pastur_density": {
        "rescaled textbook law rho_S(lambda / r) / r": """
def marchenko_pastur_density(lam, r):
    gamma = 1.0 / r
    a, b = (1 - math.sqrt(gamma)) ** 2, (1 + math.sqrt(gamma)) ** 2
    mu = lam / r
    inside = (mu > a) & (mu < b) & (mu > 0)
    mu_safe = torch.where(inside, mu, torch.ones_like(mu))
    rho_s = torch.sqrt(((b - mu_safe) * (mu_safe - a)).clamp(min=0)) / (2 * math.pi * gamma * mu_safe)
    return torch.where(inside, rho_s / r, torch.zeros_like(lam))
""",
        "numpy with nan_to_num": """
def marchenko_pastur_density(lam, r):
    x = lam.detach().cpu().numpy()
    lo, hi = (1 - np.sqrt(r)) ** 2, (1 + np.sqrt(r)) ** 2
    with np.errstate(all="ignore"):
        v = np.sqrt((hi - x) * (x - lo)) / (2 * np.pi * x)
    v = np.where((x > lo) & (x < hi) & (x > 0), v, 0.0)
    return torch.from_numpy(np.nan_to_num(v).astype(x.dtype))
""",
    },
    "ridge_bias_variance": {
        "eigen-decomposition": """
def ridge_bias_variance(X, w_bar, sigma_eps, lam):
    s, V = torch.linalg.eigh(X.T @ X)
    s = s.clamp(min=0)
    zb = V.T @ w_bar
    P = X.shape[1]
    return ((lam * zb / (s + lam)) ** 2).sum() / P, sigma_eps ** 2 * (s / (s + lam) ** 2).sum() / P
""",
        "mean and covariance via solve": """
def ridge_bias_variance(X, w_bar, sigma_eps, lam):
    P = X.shape[1]
    M = X.T @ X + lam * torch.eye(P, dtype=X.dtype)
    mean = torch.linalg.solve(M, X.T @ (X @ w_bar))
    H = torch.linalg.solve(M, X.T)
    return ((mean - w_bar) ** 2).mean(), sigma_eps ** 2 * (H ** 2).sum() / P
""",
    },
    "optimal_ridge_lambda": {
        "ratio of variances with numpy": """
def optimal_ridge_lambda(sigma_w, sigma_eps):
    return float(np.square(sigma_eps) / np.square(sigma_w))
""",
    },
    "random_features_predict": {
        "lstsq (minimum norm on the CPU) and the dual form for wide models": """
def random_features_predict(X_train, y_train, X_test, width, generator):
    F = torch.randn(X_train.shape[1], width, generator=generator, dtype=X_train.dtype)
    phi = torch.relu(X_train @ F)
    if width > phi.shape[0]:
        a = phi.T @ torch.linalg.solve(phi @ phi.T, y_train)
    else:
        a = torch.linalg.lstsq(phi, y_train[:, None]).solution[:, 0]
    return torch.relu(X_test @ F) @ a
""",
    },
    "train_val_test_split": {
        "test first, then validation, as Python lists turned into tensors": """
def train_val_test_split(n, val_fraction, test_fraction, generator):
    perm = torch.randperm(n, generator=generator).tolist()
    n_val, n_test = int(val_fraction * n), int(test_fraction * n)
    test, val, train = perm[:n_test], perm[n_test:n_test + n_val], perm[n_test + n_val:]
    return torch.tensor(train, dtype=torch.int64), torch.tensor(val, dtype=torch.int64), torch.tensor(test, dtype=torch.int64)
""",
    },
    "k_fold_indices": {
        "larger folds last, boolean masks": """
def k_fold_indices(n, k, generator):
    perm = torch.randperm(n, generator=generator)
    sizes = [n // k] * (k - n % k) + [n // k + 1] * (n % k)
    out, start = [], 0
    for size in sizes:
        mask = torch.zeros(n, dtype=torch.bool)
        mask[start:start + size] = True
        out.append((perm[~mask], perm[mask]))
        start += size
    return out
""",
    },
    "cross_validation_mse": {
        "lstsq on the augmented system": """
def cross_validation_mse(X, y, folds, lam):
    P = X.shape[1]
    errors = []
    for tr, va in folds:
        A = torch.cat([X[tr], math.sqrt(lam) * torch.eye(P, dtype=X.dtype)])
        b = torch.cat([y[tr], torch.zeros(P, dtype=X.dtype)])
        w = torch.linalg.lstsq(A, b[:, None]).solution[:, 0]
        errors.append(((X[va] @ w - y[va]) ** 2).mean().item())
    return float(np.mean(errors))
""",
    },
    "early_stopping": {
        "counter of epochs without improvement": """
def early_stopping(val_losses, patience):
    best_loss, best, waited = float("inf"), 0, 0
    values = list(val_losses)
    for epoch, v in enumerate(values):
        v = float(v)
        if v < best_loss:
            best_loss, best, waited = v, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return best, epoch
    return best, len(values) - 1
""",
    },
    "random_search": {
        "exp/log form and math.floor": """
def random_search(space, n_trials, generator):
    out = []
    for _ in range(n_trials):
        c = {}
        for name, (kind, *rest) in space.items():
            u = float(torch.rand(1, generator=generator, dtype=torch.float64))
            if kind == "log":
                c[name] = math.exp(math.log(rest[0]) + u * (math.log(rest[1]) - math.log(rest[0])))
            elif kind == "uniform":
                c[name] = rest[0] + u * (rest[1] - rest[0])
            elif kind == "int":
                c[name] = int(rest[0] + math.floor(u * (rest[1] - rest[0] + 1)))
            else:
                c[name] = rest[0][math.floor(u * len(rest[0]))]
        out.append(c)
    return out
""",
    },
    "lr_range_test": {
        "rates from torch.logspace, losses as tensors": """
def lr_range_test(loss_and_grad, w0, lr_min, lr_max, num_steps):
    rates = torch.logspace(math.log10(lr_min), math.log10(lr_max), num_steps, dtype=torch.float64)
    w, seen = w0.detach().clone(), []
    for lr in rates:
        loss, grad = loss_and_grad(w)
        seen.append(torch.as_tensor(loss, dtype=torch.float64))
        best = min(float(s) for s in seen)
        if not torch.isfinite(seen[-1]) or float(seen[-1]) > 4 * best:
            break
        w = w - lr.item() * grad
    return rates[:len(seen)].clone(), torch.stack(seen)
""",
    },
    "tune_mlp": {
        "3-fold cross-validation over a small random search, epochs from the mean curve": """
def tune_mlp(X, y, seed):
    gen = torch.Generator().manual_seed(seed)
    folds = k_fold_indices(X.shape[0], 3, gen)
    space = {"lr": ("log", 1e-3, 2.0), "weight_decay": ("log", 1e-6, 1e-3), "hidden": ("choice", [64, 128])}
    best, best_acc = None, -1.0
    for config in random_search(space, 10, gen):
        curves = []
        for tr, va in folds[:2]:
            net = train_mlp(X[tr], y[tr], **config, epochs=35, seed=seed, X_val=X[va], y_val=y[va])
            curves.append(net.val_accuracy + [0.0] * (35 - len(net.val_accuracy)))
        mean = [sum(c[e] for c in curves) / len(curves) for e in range(35)]
        epoch, _ = early_stopping([-a for a in mean], patience=6)
        if mean[epoch] > best_acc:
            best_acc, best = mean[epoch], dict(config, epochs=epoch + 1)
    return {"hidden": best["hidden"], "lr": best["lr"], "weight_decay": best["weight_decay"], "epochs": best["epochs"]}
""",
    },
    "concept_overfitting_peak": {
        "upper case with spaces": """
def concept_overfitting_peak():
    return " C "
""",
    },
    "concept_reported_accuracy": {
        "upper case": """
def concept_reported_accuracy():
    return "B"
""",
    },
    "concept_early_stopping_as_ridge": {
        "upper case": """
def concept_early_stopping_as_ridge():
    return "B"
""",
    },
}

SAMPLE_WRONG = ["marchenko_pastur_density", "cross_validation_mse"]


# Automatic mutations of the reference (autograder.mutation) that change nothing the statement fixes.
EQUIVALENT_MUTATIONS = {
    'ridge_bias_variance': {
        'sign: `-lam` -> `lam` in `-lam * (A @ w_bar)`':
            'the bias enters squared: its sign cannot change the result',
    },
}

# Make-it-work tasks, judged on a target (autograder.mutation leaves them to their registered mutants).
JUDGED_ON_A_TARGET = ['tune_mlp']
