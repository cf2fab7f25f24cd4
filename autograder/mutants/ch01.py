"""Classic wrong answers and correct alternatives for chapter 01 (statistics and estimators)."""

CHAPTER = "01-statistics-and-estimators"

MUTANTS = {
    "sample_mean": {
        "sums instead of averaging": """
def sample_mean(x, dim=-1):
    return x.sum(dim=dim)
""",
        "averages over every element, ignoring dim": """
def sample_mean(x, dim=-1):
    return x.mean()
""",
        "averages over dim 0 whatever dim says": """
def sample_mean(x, dim=-1):
    return x.mean(dim=0)
""",
    },
    "sample_variance": {
        "divides by n - 1 (torch.var's default)": """
def sample_variance(x, dim=-1):
    return torch.var(x, dim=dim)
""",
        "forgets to subtract the mean": """
def sample_variance(x, dim=-1):
    return (x ** 2).mean(dim=dim)
""",
        "returns the standard deviation": """
def sample_variance(x, dim=-1):
    return torch.sqrt(((x - x.mean(dim=dim, keepdim=True)) ** 2).mean(dim=dim))
""",
    },
    "unbiased_variance": {
        "divides by n instead of n - 1": """
def unbiased_variance(x, dim=-1):
    deviations = x - x.mean(dim=dim, keepdim=True)
    return (deviations ** 2).sum(dim=dim) / x.shape[dim]
""",
        "variance of all elements, ignoring dim": """
def unbiased_variance(x, dim=-1):
    return torch.var(x)
""",
        "returns the standard deviation": """
def unbiased_variance(x, dim=-1):
    return torch.std(x, dim=dim)
""",
        "subtracts the sum divided by n - 1 instead of the mean": """
def unbiased_variance(x, dim=-1):
    n = x.shape[dim]
    center = x.sum(dim=dim, keepdim=True) / (n - 1)
    return ((x - center) ** 2).sum(dim=dim) / (n - 1)
""",
    },
    "plugin_variance_bias": {
        "wrong sign: +sigma^2/n": """
def plugin_variance_bias(sigma2, n):
    return sigma2 / n
""",
        "divides by n - 1": """
def plugin_variance_bias(sigma2, n):
    return -sigma2 / (n - 1)
""",
        "returns the expectation (n - 1)/n * sigma^2, not the bias": """
def plugin_variance_bias(sigma2, n):
    return (n - 1) / n * sigma2
""",
    },
    "bias_variance_mse": {
        "MSE forgets the bias^2 term": """
def bias_variance_mse(estimator, sampler, true_value, n_trials, generator):
    estimates = estimator(sampler(n_trials, generator))
    bias = estimates.mean() - true_value
    variance = ((estimates - estimates.mean()) ** 2).mean()
    return bias, variance, variance
""",
        "variance over trials divides by n_trials - 1": """
def bias_variance_mse(estimator, sampler, true_value, n_trials, generator):
    estimates = estimator(sampler(n_trials, generator))
    bias = estimates.mean() - true_value
    return bias, estimates.var(), ((estimates - true_value) ** 2).mean()
""",
        "bias with the sign flipped (truth minus estimate)": """
def bias_variance_mse(estimator, sampler, true_value, n_trials, generator):
    estimates = estimator(sampler(n_trials, generator))
    bias = true_value - estimates.mean()
    variance = ((estimates - estimates.mean()) ** 2).mean()
    return bias, variance, ((estimates - true_value) ** 2).mean()
""",
        "ignores the generator (own seed)": """
def bias_variance_mse(estimator, sampler, true_value, n_trials, generator):
    estimates = estimator(sampler(n_trials, torch.Generator().manual_seed(0)))
    bias = estimates.mean() - true_value
    variance = ((estimates - estimates.mean()) ** 2).mean()
    return bias, variance, ((estimates - true_value) ** 2).mean()
""",
    },
    "gaussian_mle": {
        "variance divides by n - 1": """
def gaussian_mle(x, dim=-1):
    return x.mean(dim=dim), x.var(dim=dim)
""",
        "returns the standard deviation instead of the variance": """
def gaussian_mle(x, dim=-1):
    return x.mean(dim=dim), x.std(dim=dim, correction=0)
""",
        "returns (var, mu) in the wrong order": """
def gaussian_mle(x, dim=-1):
    return torch.var_mean(x, dim=dim, correction=0)
""",
    },
    "gaussian_nll": {
        "missing the log(2 pi) term": """
def gaussian_nll(x, mu, var):
    var = torch.as_tensor(var, dtype=x.dtype)
    return (0.5 * torch.log(var) + (x - mu) ** 2 / (2 * var)).mean()
""",
        "missing the factor 1/2": """
def gaussian_nll(x, mu, var):
    var = torch.as_tensor(var, dtype=x.dtype)
    return (torch.log(2 * math.pi * var) + (x - mu) ** 2 / var).mean()
""",
        "log of the variance without the 1/2 (log sigma^2 where log sigma belongs)": """
def gaussian_nll(x, mu, var):
    var = torch.as_tensor(var, dtype=x.dtype)
    return (0.5 * math.log(2 * math.pi) + torch.log(var) + (x - mu) ** 2 / (2 * var)).mean()
""",
        "sums instead of averaging": """
def gaussian_nll(x, mu, var):
    var = torch.as_tensor(var, dtype=x.dtype)
    return (0.5 * torch.log(2 * math.pi * var) + (x - mu) ** 2 / (2 * var)).sum()
""",
    },
    "standardized_means": {
        "divides by sigma instead of sigma / sqrt(n)": """
def standardized_means(samples, mu, sigma, dim=-1):
    return (samples.mean(dim=dim) - mu) / sigma
""",
        "divides by sigma / n": """
def standardized_means(samples, mu, sigma, dim=-1):
    return (samples.mean(dim=dim) - mu) * samples.shape[dim] / sigma
""",
        "forgets to subtract mu": """
def standardized_means(samples, mu, sigma, dim=-1):
    return samples.mean(dim=dim) * math.sqrt(samples.shape[dim]) / sigma
""",
    },
    "empirical_risk": {
        "sums instead of averaging": """
def empirical_risk(predictions, targets, loss="squared", dim=-1):
    errors = targets - predictions
    if loss == "squared":
        return (errors ** 2).sum(dim=dim)
    if loss == "absolute":
        return errors.abs().sum(dim=dim)
    raise ValueError(loss)
""",
        "half squared error (factor 1/2)": """
def empirical_risk(predictions, targets, loss="squared", dim=-1):
    errors = targets - predictions
    if loss == "squared":
        return 0.5 * (errors ** 2).mean(dim=dim)
    if loss == "absolute":
        return errors.abs().mean(dim=dim)
    raise ValueError(loss)
""",
        "absolute loss without the absolute value": """
def empirical_risk(predictions, targets, loss="squared", dim=-1):
    errors = targets - predictions
    if loss == "squared":
        return (errors ** 2).mean(dim=dim)
    if loss == "absolute":
        return errors.mean(dim=dim)
    raise ValueError(loss)
""",
        "averages over every element, ignoring dim": """
def empirical_risk(predictions, targets, loss="squared", dim=-1):
    errors = targets - predictions
    if loss == "squared":
        return (errors ** 2).mean()
    if loss == "absolute":
        return errors.abs().mean()
    raise ValueError(loss)
""",
    },
}

ALTERNATIVES = {
    "sample_mean": {
        "torch.mean": """
def sample_mean(x, dim=-1):
    return torch.mean(x, dim=dim)
""",
        "numpy, back to a tensor": """
def sample_mean(x, dim=-1):
    return torch.from_numpy(np.asarray(np.mean(x.numpy(), axis=dim)))
""",
        "explicit loop over the samples": """
def sample_mean(x, dim=-1):
    moved = torch.movedim(x, dim, 0)
    total = torch.zeros_like(moved[0])
    for row in moved:
        total = total + row
    return total / moved.shape[0]
""",
    },
    "sample_variance": {
        "torch.var with correction=0": """
def sample_variance(x, dim=-1):
    return torch.var(x, dim=dim, correction=0)
""",
        "numpy var (ddof=0)": """
def sample_variance(x, dim=-1):
    return torch.as_tensor(np.var(x.numpy(), axis=dim))
""",
        "explicit loop over the samples": """
def sample_variance(x, dim=-1):
    moved = torch.movedim(x, dim, 0)
    n = moved.shape[0]
    mean = sum(moved[i] for i in range(n)) / n
    return sum((moved[i] - mean) ** 2 for i in range(n)) / n
""",
    },
    "unbiased_variance": {
        "torch.var (default correction=1)": """
def unbiased_variance(x, dim=-1):
    return torch.var(x, dim=dim)
""",
        "plug-in variance times n / (n - 1)": """
def unbiased_variance(x, dim=-1):
    n = x.shape[dim]
    return ((x - x.mean(dim=dim, keepdim=True)) ** 2).mean(dim=dim) * n / (n - 1)
""",
        "numpy var (ddof=1)": """
def unbiased_variance(x, dim=-1):
    return torch.as_tensor(np.var(x.numpy(), axis=dim, ddof=1))
""",
    },
    "plugin_variance_bias": {
        "expectation minus truth": """
def plugin_variance_bias(sigma2, n):
    return (n - 1) / n * sigma2 - sigma2
""",
        "numpy": """
def plugin_variance_bias(sigma2, n):
    bias = -np.divide(np.asarray(sigma2), np.asarray(n))
    if isinstance(sigma2, torch.Tensor) or isinstance(n, torch.Tensor):
        return torch.as_tensor(bias).to(torch.result_type(sigma2, n))
    return float(bias)
""",
    },
    "bias_variance_mse": {
        "explicit loop over the trials": """
def bias_variance_mse(estimator, sampler, true_value, n_trials, generator):
    samples = sampler(n_trials, generator)
    estimates = [estimator(samples[t]) for t in range(n_trials)]
    center = sum(estimates) / n_trials
    variance = sum((e - center) ** 2 for e in estimates) / n_trials
    mse = sum((e - true_value) ** 2 for e in estimates) / n_trials
    return center - true_value, variance, mse
""",
        "mse assembled as bias^2 + variance": """
def bias_variance_mse(estimator, sampler, true_value, n_trials, generator):
    estimates = estimator(sampler(n_trials, generator))
    bias = estimates.mean() - true_value
    variance = estimates.var(correction=0)
    return bias, variance, bias ** 2 + variance
""",
        "one-pass variance mean(e^2) - mean(e)^2": """
def bias_variance_mse(estimator, sampler, true_value, n_trials, generator):
    e = estimator(sampler(n_trials, generator))
    return e.mean() - true_value, (e * e).mean() - e.mean() ** 2, ((e - true_value) ** 2).mean()
""",
    },
    "gaussian_mle": {
        "torch.var_mean with correction=0, swapped": """
def gaussian_mle(x, dim=-1):
    var, mu = torch.var_mean(x, dim=dim, correction=0)
    return mu, var
""",
        "numpy": """
def gaussian_mle(x, dim=-1):
    a = x.numpy()
    return torch.as_tensor(a.mean(axis=dim)), torch.as_tensor(a.var(axis=dim))
""",
        "returns a list instead of a tuple": """
def gaussian_mle(x, dim=-1):
    mu = x.mean(dim=dim)
    return [mu, ((x - mu.unsqueeze(dim)) ** 2).mean(dim=dim)]
""",
    },
    "gaussian_nll": {
        "torch.distributions.Normal": """
def gaussian_nll(x, mu, var):
    mu = torch.as_tensor(mu, dtype=x.dtype)
    var = torch.as_tensor(var, dtype=x.dtype)
    return -torch.distributions.Normal(mu, var.sqrt()).log_prob(x).mean()
""",
        "log of the standard deviation": """
def gaussian_nll(x, mu, var):
    sigma = torch.as_tensor(var, dtype=x.dtype).sqrt()
    z = (x - mu) / sigma
    return (torch.log(sigma) + 0.5 * math.log(2 * math.pi) + 0.5 * z * z).mean()
""",
        "loop over the broadcast elements": """
def gaussian_nll(x, mu, var):
    xb, mb, vb = torch.broadcast_tensors(x, torch.as_tensor(mu, dtype=x.dtype), torch.as_tensor(var, dtype=x.dtype))
    total = 0.0
    for xi, mi, vi in zip(xb.flatten().tolist(), mb.flatten().tolist(), vb.flatten().tolist()):
        total += 0.5 * math.log(2 * math.pi * vi) + (xi - mi) ** 2 / (2 * vi)
    return torch.tensor(total / xb.numel(), dtype=x.dtype)
""",
    },
    "standardized_means": {
        "sum form (S - n mu) / (sigma sqrt(n))": """
def standardized_means(samples, mu, sigma, dim=-1):
    n = samples.shape[dim]
    return (samples.sum(dim=dim) - n * mu) / (sigma * n ** 0.5)
""",
        "numpy": """
def standardized_means(samples, mu, sigma, dim=-1):
    a = samples.numpy()
    n = a.shape[dim]
    z = (a.mean(axis=dim) - np.asarray(mu)) / (np.asarray(sigma) / np.sqrt(n))
    return torch.as_tensor(z).to(samples.dtype)
""",
    },
    "empirical_risk": {
        "broadcast, then F.mse_loss / F.l1_loss without reduction": """
def empirical_risk(predictions, targets, loss="squared", dim=-1):
    p, t = torch.broadcast_tensors(predictions, targets)
    if loss == "squared":
        return torch.nn.functional.mse_loss(p, t, reduction="none").mean(dim=dim)
    if loss == "absolute":
        return torch.nn.functional.l1_loss(p, t, reduction="none").mean(dim=dim)
    raise ValueError("unknown loss " + repr(loss))
""",
        "numpy with a dictionary of losses": """
def empirical_risk(predictions, targets, loss="squared", dim=-1):
    losses = {"squared": lambda e: e ** 2, "absolute": np.abs}
    if loss not in losses:
        raise ValueError(loss)
    risk = losses[loss](targets.numpy() - predictions.numpy()).mean(axis=dim)
    return torch.as_tensor(risk).to(torch.result_type(predictions, targets))
""",
    },
}

SAMPLE_WRONG = ["unbiased_variance", "gaussian_nll"]

# Wrong answers written after the first set: the contract the statements fix (kind, dtype).
MUTANTS["sample_mean"].update({
    "returns a numpy array": """
def sample_mean(x, dim=-1):
    return np.mean(x.numpy(), axis=dim)
""",
})
MUTANTS["unbiased_variance"].update({
    "returns float64 for a float32 input": """
def unbiased_variance(x, dim=-1):
    return torch.var(x.double(), dim=dim)
""",
    "returns float16": """
def unbiased_variance(x, dim=-1):
    return torch.var(x, dim=dim).half()
""",
    "off by 0.93% (a stray factor)": """
def unbiased_variance(x, dim=-1):
    return torch.var(x, dim=dim) * 1.0093
""",
})
MUTANTS["sample_variance"].update({
    "returns float32 for a float64 input": """
def sample_variance(x, dim=-1):
    return torch.var(x.float(), dim=dim, correction=0)
""",
})
MUTANTS["plugin_variance_bias"].update({
    "returns a tensor for numbers": """
def plugin_variance_bias(sigma2, n):
    return -torch.as_tensor(sigma2) / torch.as_tensor(n)
""",
})

HINTS = {
    "unbiased_variance": {
        "divides by n instead of n - 1": "your variance divides by n, not n - 1 (Bessel's correction).",
        "returns the standard deviation": "your answer is the standard deviation: the variance is its square.",
    },
    "sample_variance": {
        "divides by n - 1 (torch.var's default)": "your variance divides by n - 1; the plug-in estimate divides by n.",
        "forgets to subtract the mean": "the deviations are taken from the mean: average (x - mean)^2, not x^2.",
    },
}

# The statement asks for two passes: the one-pass shortcut loses every digit on float32 data far from zero.
MUTANTS["sample_variance"]["one pass: mean of squares minus the squared mean"] = """
def sample_variance(x, dim=-1):
    return (x * x).mean(dim=dim) - x.mean(dim=dim) ** 2
"""
MUTANTS["unbiased_variance"]["one pass: (sum x^2 - n mean^2) / (n - 1)"] = """
def unbiased_variance(x, dim=-1):
    n = x.shape[dim]
    return ((x * x).sum(dim=dim) - n * x.mean(dim=dim) ** 2) / (n - 1)
"""
HINTS["unbiased_variance"]["one pass: (sum x^2 - n mean^2) / (n - 1)"] = (
    "sum(x^2) - n mean^2 subtracts two huge, nearly equal numbers when the data sit far from zero: compute the "
    "mean first, then sum the squared deviations from it (two passes).")
HINTS["sample_variance"]["one pass: mean of squares minus the squared mean"] = (
    "E[x^2] - E[x]^2 subtracts two huge, nearly equal numbers when the data sit far from zero: compute the "
    "mean first, then average the squared deviations from it (two passes).")

# The make-it-work task and the concept questions.
MUTANTS["shrink_group_means"] = {
    "forgets that a group mean's noise is sigma^2 / n, not sigma^2": """
def shrink_group_means(x):
    means = sample_mean(x, dim=-1)
    noise = unbiased_variance(x, dim=-1).mean(dim=-1, keepdim=True)
    spread = unbiased_variance(means, dim=-1).unsqueeze(-1)
    factor = (1 - noise / spread).clamp(min=0)
    grand = means.mean(dim=-1, keepdim=True)
    return grand + factor * (means - grand)
""",
    "shrinks towards 0 instead of the grand mean": """
def shrink_group_means(x):
    n = x.shape[-1]
    means = sample_mean(x, dim=-1)
    noise = unbiased_variance(x, dim=-1).mean(dim=-1, keepdim=True) / n
    spread = unbiased_variance(means, dim=-1).unsqueeze(-1)
    factor = (1 - noise / spread).clamp(min=0)
    return factor * means
""",
    "one fixed shrinkage factor for every problem": """
def shrink_group_means(x):
    means = sample_mean(x, dim=-1)
    grand = means.mean(dim=-1, keepdim=True)
    return grand + 0.7 * (means - grand)
""",
    "the piece it uses sums instead of averaging (sample_mean's classic bug)": """
def sample_mean(x, dim=-1):
    return x.sum(dim=dim)


def shrink_group_means(x):
    n = x.shape[-1]
    means = sample_mean(x, dim=-1)
    noise = unbiased_variance(x, dim=-1).mean(dim=-1, keepdim=True) / n
    spread = unbiased_variance(means, dim=-1).unsqueeze(-1)
    factor = (1 - noise / spread).clamp(min=0)
    grand = means.mean(dim=-1, keepdim=True)
    return grand + factor * (means - grand)
""",
    "pools the problems of the batch into one": """
def shrink_group_means(x):
    n = x.shape[-1]
    means = sample_mean(x, dim=-1)
    noise = unbiased_variance(x, dim=-1).mean() / n
    spread = unbiased_variance(means.reshape(-1), dim=-1)
    factor = (1 - noise / spread).clamp(min=0)
    grand = means.mean()
    return grand + factor * (means - grand)
""",
}
ALTERNATIVES["shrink_group_means"] = {
    "James-Stein in its textbook form, (K - 3) over the sum of squares, with torch.var": """
def shrink_group_means(x):
    K, n = x.shape[-2], x.shape[-1]
    means = x.mean(dim=-1)
    s2 = torch.var(x, dim=-1).mean(dim=-1) / n
    centered = means - means.mean(dim=-1, keepdim=True)
    factor = torch.clamp(1 - (K - 3) * s2 / (centered ** 2).sum(dim=-1), min=0.0)
    return means.mean(dim=-1, keepdim=True) + factor.unsqueeze(-1) * centered
""",
    "one problem at a time in a loop": """
def shrink_group_means(x):
    flat = x.reshape(-1, x.shape[-2], x.shape[-1])
    out = []
    for problem in flat:
        means = problem.mean(dim=1)
        noise = unbiased_variance(problem, dim=1).mean() / problem.shape[1]
        spread = unbiased_variance(means)
        factor = max(0.0, 1 - float(noise / spread))
        out.append(means.mean() + factor * (means - means.mean()))
    return torch.stack(out).reshape(x.shape[:-1])
""",
}
for _name, _right, _wrong in (("consistency_answer", "c", "abd"), ("cramer_rao_answer", "b", "acd"),
                              ("robust_loss_answer", "a", "bcd")):
    MUTANTS[_name] = {f"answers {letter!r}": f'\ndef {_name}():\n    return "{letter}"\n' for letter in _wrong}
    ALTERNATIVES[_name] = {"capital letter with spaces": f'\ndef {_name}():\n    return " {_right.upper()} "\n'}

# Make-it-work tasks, judged on a target (autograder.mutation leaves them to their registered mutants).
JUDGED_ON_A_TARGET = ["shrink_group_means"]

MUTANTS["huber_loss"] = {
    "leaves out the 1/2 of the quadratic branch (the pieces no longer meet at delta)": """
def huber_loss(residuals, delta=1.0):
    size = residuals.abs()
    return torch.where(size <= delta, residuals * residuals, delta * (size - 0.5 * delta))
""",
    "the linear branch is not shifted (delta |r|: a jump at delta)": """
def huber_loss(residuals, delta=1.0):
    size = residuals.abs()
    return torch.where(size <= delta, 0.5 * residuals * residuals, delta * size)
""",
    "twice the Huber loss (r^2 and 2 delta |r| - delta^2)": """
def huber_loss(residuals, delta=1.0):
    size = residuals.abs()
    return torch.where(size <= delta, residuals * residuals, 2 * delta * size - delta * delta)
""",
    "the linear branch uses r instead of |r| (negative outliers get a negative loss)": """
def huber_loss(residuals, delta=1.0):
    size = residuals.abs()
    return torch.where(size <= delta, 0.5 * residuals * residuals, delta * (residuals - 0.5 * delta))
""",
}
ALTERNATIVES["huber_loss"] = {
    "clipped size: 1/2 min(|r|, delta)^2 + delta (|r| - min(|r|, delta))": """
def huber_loss(residuals, delta=1.0):
    size = residuals.abs()
    inner = size.clamp(max=delta)
    return 0.5 * inner * inner + delta * (size - inner)
""",
}
MUTANTS["huber_grad"] = {
    "the tail branch forgets the sign (delta for negative residuals too)": """
def huber_grad(residuals, delta=1.0):
    return torch.where(residuals.abs() <= delta, residuals, torch.full_like(residuals, delta))
""",
    "the derivative in the prediction, not the residual (the sign flipped everywhere)": """
def huber_grad(residuals, delta=1.0):
    return -residuals.clamp(-delta, delta)
""",
    "the derivative of r^2 near zero (2 r: a jump at the kink)": """
def huber_grad(residuals, delta=1.0):
    return torch.where(residuals.abs() <= delta, 2 * residuals, delta * residuals.sign())
""",
    "the tails pull with sign(r), not delta sign(r)": """
def huber_grad(residuals, delta=1.0):
    return torch.where(residuals.abs() <= delta, residuals, residuals.sign())
""",
}
ALTERNATIVES["huber_grad"] = {
    "two branches with torch.where and copysign, in a loop-free form": """
def huber_grad(residuals, delta=1.0):
    tail = torch.copysign(torch.full_like(residuals, delta), residuals)
    return torch.where(residuals.abs() <= delta, residuals, tail)
""",
    "autograd through the Huber loss": """
def huber_grad(residuals, delta=1.0):
    r = residuals.detach().clone().requires_grad_(True)
    size = r.abs()
    loss = torch.where(size <= delta, 0.5 * r * r, delta * (size - 0.5 * delta)).sum()
    (g,) = torch.autograd.grad(loss, r)
    return g
""",
}
MUTANTS["gaussian_map_mean"] = {
    "the prior variance and the noise variance swapped": """
def gaussian_map_mean(x, noise_var, prior_mean, prior_var, dim=-1):
    n = x.shape[dim]
    data_precision = n / prior_var
    prior_precision = 1.0 / noise_var
    return (data_precision * x.mean(dim=dim) + prior_precision * prior_mean) / (data_precision + prior_precision)
""",
    "ignores the prior mean (shrinks towards 0)": """
def gaussian_map_mean(x, noise_var, prior_mean, prior_var, dim=-1):
    n = x.shape[dim]
    data_precision = n / noise_var
    prior_precision = 1.0 / prior_var
    return data_precision * x.mean(dim=dim) / (data_precision + prior_precision)
""",
    "weighs the sample mean by one sample's precision (forgets n)": """
def gaussian_map_mean(x, noise_var, prior_mean, prior_var, dim=-1):
    data_precision = 1.0 / noise_var
    prior_precision = 1.0 / prior_var
    return (data_precision * x.mean(dim=dim) + prior_precision * prior_mean) / (data_precision + prior_precision)
""",
    "weights by the variances instead of the precisions": """
def gaussian_map_mean(x, noise_var, prior_mean, prior_var, dim=-1):
    n = x.shape[dim]
    s2 = noise_var / n
    return (s2 * x.mean(dim=dim) + prior_var * prior_mean) / (s2 + prior_var)
""",
    "the maximum-likelihood estimate (the prior left out)": """
def gaussian_map_mean(x, noise_var, prior_mean, prior_var, dim=-1):
    return x.mean(dim=dim)
""",
}
ALTERNATIVES["gaussian_map_mean"] = {
    "shrinkage form m + tau^2 / (tau^2 + sigma^2 / n) (mean - m), with a loop for the mean": """
def gaussian_map_mean(x, noise_var, prior_mean, prior_var, dim=-1):
    n = x.shape[dim]
    total = torch.zeros_like(x.select(dim, 0))
    for i in range(n):
        total = total + x.select(dim, i)
    mean = total / n
    factor = prior_var / (prior_var + noise_var / n)
    return prior_mean + factor * (mean - prior_mean)
""",
}
HINTS["huber_loss"] = {
    "the linear branch is not shifted (delta |r|: a jump at delta)":
        "the linear piece must take over where the quadratic one stops, with the same value there: compare both "
        "pieces at |r| = delta.",
}
HINTS["gaussian_map_mean"] = {
    "the prior variance and the noise variance swapped":
        "the data's precision comes from the noise variance (and the number of samples), the prior's from the "
        "prior variance.",
    "weighs the sample mean by one sample's precision (forgets n)":
        "the sample mean of n draws is n times as precise as one draw.",
}
