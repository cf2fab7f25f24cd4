"""Classic wrong answers and correct alternatives for chapter 02 (entropy, KL, Fisher, mutual information)."""

CHAPTER = "02-information-theory"

MUTANTS = {
    "entropy": {
        "natural log whatever the base": """
def entropy(p, base=math.e, dim=-1):
    return -torch.xlogy(p, p).sum(dim=dim)
""",
        "p * log(p): nan for zero probabilities": """
def entropy(p, base=math.e, dim=-1):
    return -(p * torch.log(p)).sum(dim=dim) / math.log(base)
""",
        "bits whatever the base": """
def entropy(p, base=math.e, dim=-1):
    return -torch.xlogy(p, p).sum(dim=dim) / math.log(2)
""",
        "sums over every element, ignoring dim": """
def entropy(p, base=math.e, dim=-1):
    return -torch.xlogy(p, p).sum() / math.log(base)
""",
    },
    "log_count_per_symbol": {
        "Stirling's limit H(k/n) instead of the exact count": """
def log_count_per_symbol(n, k):
    p = torch.as_tensor(k).double() / torch.as_tensor(n).double()
    return -torch.xlogy(p, p) - torch.xlogy(1 - p, 1 - p)
""",
        "log (n-1)! for log n! (lgamma(n) instead of lgamma(n + 1))": """
def log_count_per_symbol(n, k):
    n = torch.as_tensor(n).double()
    k = torch.as_tensor(k).double()
    return (torch.lgamma(n) - torch.lgamma(k) - torch.lgamma(n - k)) / n
""",
        "bits instead of nats": """
def log_count_per_symbol(n, k):
    n = torch.as_tensor(n).double()
    k = torch.as_tensor(k).double()
    return (torch.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)) / n / math.log(2)
""",
        "forgets to divide by n": """
def log_count_per_symbol(n, k):
    n = torch.as_tensor(n).double()
    k = torch.as_tensor(k).double()
    return torch.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)
""",
    },
    "distribution_cross_entropy": {
        "p * log(q): nan where p = q = 0": """
def distribution_cross_entropy(p, q, base=math.e, dim=-1):
    return -(p * torch.log(q)).sum(dim=dim) / math.log(base)
""",
        "arguments swapped: -sum q log p": """
def distribution_cross_entropy(p, q, base=math.e, dim=-1):
    return -torch.xlogy(q, p).sum(dim=dim) / math.log(base)
""",
        "epsilon in the log: finite where it should be infinite": """
def distribution_cross_entropy(p, q, base=math.e, dim=-1):
    return -torch.xlogy(p, q + 1e-12).sum(dim=dim) / math.log(base)
""",
        "natural log whatever the base": """
def distribution_cross_entropy(p, q, base=math.e, dim=-1):
    return -torch.xlogy(p, q).sum(dim=dim)
""",
    },
    "kl_divergence": {
        "arguments swapped: D(q || p)": """
def kl_divergence(p, q, base=math.e, dim=-1):
    return (torch.xlogy(q, q) - torch.xlogy(q, p)).sum(dim=dim) / math.log(base)
""",
        "p * log(p / q): nan for zero probabilities": """
def kl_divergence(p, q, base=math.e, dim=-1):
    return (p * torch.log(p / q)).sum(dim=dim) / math.log(base)
""",
        "epsilons: finite when the supports do not match": """
def kl_divergence(p, q, base=math.e, dim=-1):
    eps = 1e-10
    return (p * torch.log((p + eps) / (q + eps))).sum(dim=dim) / math.log(base)
""",
        "natural log whatever the base": """
def kl_divergence(p, q, base=math.e, dim=-1):
    return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum(dim=dim)
""",
    },
    "normal_cross_entropy": {
        "variances taken for standard deviations": """
def normal_cross_entropy(mu_p, var_p, mu_q, var_q):
    return 0.5 * torch.log(2 * math.pi * var_q**2) + (var_p**2 + (mu_p - mu_q) ** 2) / (2 * var_q**2)
""",
        "forgets p's spread (E[(x - mu_q)^2] = (mu_p - mu_q)^2)": """
def normal_cross_entropy(mu_p, var_p, mu_q, var_q):
    return 0.5 * torch.log(2 * math.pi * var_q) + (mu_p - mu_q) ** 2 / (2 * var_q)
""",
        "roles swapped: E_q[-log p]": """
def normal_cross_entropy(mu_p, var_p, mu_q, var_q):
    return 0.5 * torch.log(2 * math.pi * var_p) + (var_q + (mu_p - mu_q) ** 2) / (2 * var_p)
""",
    },
    "normal_kl": {
        "arguments swapped: D(q || p)": """
def normal_kl(mu_p, var_p, mu_q, var_q):
    return 0.5 * (torch.log(var_p / var_q) + (var_q + (mu_p - mu_q) ** 2) / var_p - 1)
""",
        "log of the variance ratio upside down": """
def normal_kl(mu_p, var_p, mu_q, var_q):
    return 0.5 * (torch.log(var_p / var_q) + (var_p + (mu_p - mu_q) ** 2) / var_q - 1)
""",
        "forgets the -1 (the entropy's 1/2)": """
def normal_kl(mu_p, var_p, mu_q, var_q):
    return 0.5 * (torch.log(var_q / var_p) + (var_p + (mu_p - mu_q) ** 2) / var_q)
""",
        "variances taken for standard deviations": """
def normal_kl(mu_p, var_p, mu_q, var_q):
    return torch.log(var_q / var_p) + (var_p**2 + (mu_p - mu_q) ** 2) / (2 * var_q**2) - 0.5
""",
    },
    "reverse_kl_answer": {
        "a: covers both modes (that is the forward KL)": """
def reverse_kl_answer():
    return "a"
""",
        "c: matches the moments (again the forward KL)": """
def reverse_kl_answer():
    return "c"
""",
        "d: infinite variance": """
def reverse_kl_answer():
    return "d"
""",
    },
    "conditional_entropy": {
        "conditions on the row variable: H(Y | X)": """
def conditional_entropy(joint, base=math.e):
    p = joint / joint.sum()
    px = p.sum(dim=1, keepdim=True)
    return -(torch.xlogy(p, p) - torch.xlogy(p, px)).sum() / math.log(base)
""",
        "unweighted sum of the entropies of the columns p(x | y)": """
def conditional_entropy(joint, base=math.e):
    p = joint / joint.sum()
    cond = p / p.sum(dim=0, keepdim=True)
    return -torch.xlogy(cond, cond).sum() / math.log(base)
""",
        "forgets to normalize a table of counts": """
def conditional_entropy(joint, base=math.e):
    py = joint.sum(dim=0, keepdim=True)
    return -(torch.xlogy(joint, joint) - torch.xlogy(joint, py)).sum() / math.log(base)
""",
        "H(X, Y) - H(X) (the chain rule the wrong way round)": """
def conditional_entropy(joint, base=math.e):
    p = joint / joint.sum()
    h = lambda q: -torch.xlogy(q, q).sum()
    return (h(p) - h(p.sum(dim=1))) / math.log(base)
""",
    },
    "mutual_information": {
        "forgets to normalize a table of counts": """
def mutual_information(joint, base=math.e):
    px = joint.sum(dim=1, keepdim=True)
    py = joint.sum(dim=0, keepdim=True)
    return (torch.xlogy(joint, joint) - torch.xlogy(joint, px * py)).sum() / math.log(base)
""",
        "H(X) + H(Y) + H(X, Y) (sign of the joint entropy)": """
def mutual_information(joint, base=math.e):
    p = joint / joint.sum()
    h = lambda q: -torch.xlogy(q, q).sum()
    return (h(p.sum(dim=1)) + h(p.sum(dim=0)) + h(p)) / math.log(base)
""",
        "marginals taken along the wrong axes": """
def mutual_information(joint, base=math.e):
    p = joint / joint.sum()
    px = p.sum(dim=0)
    py = p.sum(dim=1)
    outer = px[: p.shape[0], None] * py[None, : p.shape[1]] if p.shape[0] == p.shape[1] else p.sum() * p
    return (torch.xlogy(p, p) - torch.xlogy(p, outer)).sum() / math.log(base)
""",
        "natural log whatever the base": """
def mutual_information(joint, base=math.e):
    p = joint / joint.sum()
    return (torch.xlogy(p, p) - torch.xlogy(p, p.sum(1, keepdim=True) * p.sum(0, keepdim=True))).sum()
""",
    },
    "normal_fisher": {
        "forgets the factor 2 in the sigma entry": """
def normal_fisher(sigma, param="sigma"):
    second = {"sigma": 1 / sigma**2, "var": 1 / (2 * sigma**4), "log_sigma": 2 + 0 * sigma}
    if param not in second:
        raise ValueError(param)
    out = sigma.new_zeros(sigma.shape + (2, 2))
    out[..., 0, 0] = 1 / sigma**2
    out[..., 1, 1] = second[param]
    return out
""",
        "no Jacobian: the sigma entry for every parametrization": """
def normal_fisher(sigma, param="sigma"):
    if param not in ("sigma", "var", "log_sigma"):
        raise ValueError(param)
    out = sigma.new_zeros(sigma.shape + (2, 2))
    out[..., 0, 0] = 1 / sigma**2
    out[..., 1, 1] = 2 / sigma**2
    return out
""",
        "Jacobian applied once instead of twice (var entry 1/sigma^3)": """
def normal_fisher(sigma, param="sigma"):
    second = {"sigma": 2 / sigma**2, "var": 1 / sigma**3, "log_sigma": 2 / sigma}
    if param not in second:
        raise ValueError(param)
    out = sigma.new_zeros(sigma.shape + (2, 2))
    out[..., 0, 0] = 1 / sigma**2
    out[..., 1, 1] = second[param]
    return out
""",
        "autograd Hessian of the KL (the exercise is by hand)": """
def normal_fisher(sigma, param="sigma"):
    import itertools
    to_var = {"sigma": lambda t: t**2, "var": lambda t: t, "log_sigma": lambda t: torch.exp(2 * t)}
    if param not in to_var:
        raise ValueError(param)
    second = {"sigma": sigma, "var": sigma**2, "log_sigma": torch.log(sigma)}[param]
    out = sigma.new_zeros(sigma.shape + (2, 2))
    for idx in itertools.product(*[range(n) for n in sigma.shape]):
        theta0 = torch.stack([torch.zeros((), dtype=sigma.dtype), second[idx]]).detach()
        def kl(theta):
            va, vb = to_var[param](theta0[1]), to_var[param](theta[1])
            return 0.5 * (torch.log(vb / va) + (va + (theta0[0] - theta[0]) ** 2) / vb - 1)
        with torch.enable_grad():
            out[idx] = torch.autograd.functional.hessian(kl, theta0.clone())
    return out
""",
        "mu entry 1/sigma": """
def normal_fisher(sigma, param="sigma"):
    second = {"sigma": 2 / sigma**2, "var": 1 / (2 * sigma**4), "log_sigma": 2 + 0 * sigma}
    if param not in second:
        raise ValueError(param)
    out = sigma.new_zeros(sigma.shape + (2, 2))
    out[..., 0, 0] = 1 / sigma
    out[..., 1, 1] = second[param]
    return out
""",
    },
    "fisher_from_kl": {
        "varies both arguments together (kl(theta, theta) = 0)": """
def fisher_from_kl(kl, theta0):
    return torch.autograd.functional.hessian(lambda theta: kl(theta, theta), theta0.detach().clone())
""",
        "the negative of the Hessian": """
def fisher_from_kl(kl, theta0):
    fixed = theta0.detach()
    return -torch.autograd.functional.hessian(lambda theta: kl(fixed, theta), fixed.clone())
""",
        "outer product of the KL's gradient (zero at theta0)": """
def fisher_from_kl(kl, theta0):
    fixed = theta0.detach()
    theta = fixed.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(kl(fixed, theta), theta)
    return torch.outer(g, g)
""",
    },
    "max_entropy_distribution": {
        "exp without a max shift (overflows for large features)": """
def max_entropy_distribution(features, moments, tol=1e-10, max_iter=100):
    f, m = features.double(), moments.double()
    lam = torch.zeros(f.shape[1], dtype=torch.float64)
    for _ in range(max_iter):
        w = torch.exp(f @ lam)
        p = w / w.sum()
        grad = p @ f - m
        if not (grad.abs().max() > tol):
            break
        c = f - p @ f
        lam = lam - torch.linalg.lstsq(c.T @ (p[:, None] * c), grad[:, None]).solution[:, 0]
    w = torch.exp(f @ lam)
    return (w / w.sum()).to(features.dtype)
""",
        "enforces only the first moment": """
def max_entropy_distribution(features, moments, tol=1e-10, max_iter=100):
    f, m = features.double()[:, :1], moments.double()[:1]
    lam = torch.zeros(1, dtype=torch.float64)
    for _ in range(max_iter):
        p = torch.softmax(f @ lam, dim=0)
        grad = p @ f - m
        if grad.abs().max() <= tol:
            break
        c = f - p @ f
        lam = lam - grad / (c.T @ (p[:, None] * c))[0]
    return torch.softmax(f @ lam, dim=0).to(features.dtype)
""",
        "stops after two Newton steps": """
def max_entropy_distribution(features, moments, tol=1e-10, max_iter=100):
    f, m = features.double(), moments.double()
    lam = torch.zeros(f.shape[1], dtype=torch.float64)
    for _ in range(2):
        p = torch.softmax(f @ lam, dim=0)
        grad = p @ f - m
        c = f - p @ f
        lam = lam - 0.5 * torch.linalg.lstsq(c.T @ (p[:, None] * c), grad[:, None]).solution[:, 0]
    return torch.softmax(f @ lam, dim=0).to(features.dtype)
""",
    },
    "sne_affinities": {
        "Kaplan's kernel exp(-d^2 / sigma^2) (no factor 2)": """
def sne_affinities(x, perplexity, tol=1e-5, max_iter=200):
    x64 = x.double()
    n = x.shape[0]
    eye = torch.eye(n, dtype=torch.bool)
    d2 = (torch.cdist(x64, x64) ** 2).masked_fill(eye, float("inf"))
    d2 = d2 - d2.min(dim=1, keepdim=True).values
    lo = torch.full((n,), -30.0, dtype=torch.float64)
    hi = torch.full((n,), 30.0, dtype=torch.float64)
    for _ in range(100):
        mid = (lo + hi) / 2
        P = torch.softmax(-d2 / torch.exp(2 * mid)[:, None], dim=1)
        H = -torch.xlogy(P, P).sum(dim=1)
        wide = H > math.log(perplexity)
        hi = torch.where(wide, mid, hi)
        lo = torch.where(wide, lo, mid)
    return P.to(x.dtype), torch.exp(mid).to(x.dtype)
""",
        "keeps each point as its own neighbour": """
def sne_affinities(x, perplexity, tol=1e-5, max_iter=200):
    x64 = x.double()
    n = x.shape[0]
    d2 = torch.cdist(x64, x64) ** 2
    lo = torch.full((n,), -30.0, dtype=torch.float64)
    hi = torch.full((n,), 30.0, dtype=torch.float64)
    for _ in range(100):
        mid = (lo + hi) / 2
        P = torch.softmax(-d2 / (2 * torch.exp(2 * mid))[:, None], dim=1)
        H = -torch.xlogy(P, P).sum(dim=1)
        wide = H > math.log(perplexity)
        hi = torch.where(wide, mid, hi)
        lo = torch.where(wide, lo, mid)
    return P.to(x.dtype), torch.exp(mid).to(x.dtype)
""",
        "perplexity 2^H with H in nats": """
def sne_affinities(x, perplexity, tol=1e-5, max_iter=200):
    x64 = x.double()
    n = x.shape[0]
    eye = torch.eye(n, dtype=torch.bool)
    d2 = (torch.cdist(x64, x64) ** 2).masked_fill(eye, float("inf"))
    d2 = d2 - d2.min(dim=1, keepdim=True).values
    lo = torch.full((n,), -30.0, dtype=torch.float64)
    hi = torch.full((n,), 30.0, dtype=torch.float64)
    for _ in range(100):
        mid = (lo + hi) / 2
        P = torch.softmax(-d2 / (2 * torch.exp(2 * mid))[:, None], dim=1)
        H = -torch.xlogy(P, P).sum(dim=1)
        wide = 2 ** H > perplexity
        hi = torch.where(wide, mid, hi)
        lo = torch.where(wide, lo, mid)
    return P.to(x.dtype), torch.exp(mid).to(x.dtype)
""",
        "no shift before exp: 0/0 for distant points": """
def sne_affinities(x, perplexity, tol=1e-5, max_iter=200):
    x64 = x.double()
    n = x.shape[0]
    eye = torch.eye(n, dtype=torch.bool)
    d2 = torch.cdist(x64, x64) ** 2
    lo = torch.full((n,), -30.0, dtype=torch.float64)
    hi = torch.full((n,), 30.0, dtype=torch.float64)
    for _ in range(100):
        mid = (lo + hi) / 2
        w = torch.exp(-d2 / (2 * torch.exp(2 * mid))[:, None]).masked_fill(eye, 0.0)
        P = w / w.sum(dim=1, keepdim=True)
        H = -torch.xlogy(P, P).sum(dim=1)
        wide = H > math.log(perplexity)
        hi = torch.where(wide, mid, hi)
        lo = torch.where(wide, lo, mid)
    return P.to(x.dtype), torch.exp(mid).to(x.dtype)
""",
    },
    "perplexity_answer": {
        "a: 2^3, mixing bits and nats": """
def perplexity_answer():
    return "a"
""",
        "c: the entropy itself": """
def perplexity_answer():
    return "c"
""",
        "d: converted to bits, then exponentiated with e": """
def perplexity_answer():
    return "d"
""",
    },
    "stationary_distribution": {
        "the textbook's pi = A pi: a right eigenvector": """
def stationary_distribution(A):
    values, vectors = torch.linalg.eig(A.double())
    v = vectors[:, torch.argmin((values - 1).abs())].real
    return (v / v.sum()).to(A.dtype)
""",
        "left eigenvector scaled to unit length, not unit sum": """
def stationary_distribution(A):
    values, vectors = torch.linalg.eig(A.double().T)
    v = vectors[:, torch.argmin((values - 1).abs())].real
    return (v.abs() / v.norm()).to(A.dtype)
""",
        "one step of the chain from the uniform distribution": """
def stationary_distribution(A):
    S = A.shape[0]
    return torch.full((S,), 1.0 / S, dtype=A.dtype) @ A
""",
    },
    "entropy_rate": {
        "uniform weights over the states instead of pi": """
def entropy_rate(A, base=math.e):
    return entropy(A, base=base, dim=1).mean()
""",
        "the entropy of the stationary distribution H(pi)": """
def entropy_rate(A, base=math.e):
    return entropy(stationary_distribution(A), base=base)
""",
        "entropies of the columns instead of the rows": """
def entropy_rate(A, base=math.e):
    return (stationary_distribution(A) * entropy(A, base=base, dim=0)).sum()
""",
    },
    "huffman_code_lengths": {
        "Shannon's lengths ceil(-log2 p) (not optimal)": """
def huffman_code_lengths(p):
    q = p.double() / p.double().sum()
    return torch.ceil(-torch.log2(q)).clamp(min=1).long()
""",
        "merges the two heaviest groups": """
def huffman_code_lengths(p):
    groups = [(float(w), [i]) for i, w in enumerate(p.tolist())]
    lengths = [0] * len(groups)
    while len(groups) > 1:
        groups.sort(key=lambda g: -g[0])
        (w1, s1), (w2, s2) = groups[0], groups[1]
        for i in s1 + s2:
            lengths[i] += 1
        groups = groups[2:] + [(w1 + w2, s1 + s2)]
    return torch.tensor(lengths)
""",
        "-log2 p rounded to the nearest integer (breaks Kraft)": """
def huffman_code_lengths(p):
    q = p.double() / p.double().sum()
    return torch.round(-torch.log2(q.clamp(min=1e-300))).clamp(min=1).long()
""",
        "a merge lengthens only the lighter group": """
def huffman_code_lengths(p):
    import heapq, itertools
    tie = itertools.count()
    heap = [(float(w), next(tie), [i]) for i, w in enumerate(p.tolist())]
    lengths = [0] * len(heap)
    heapq.heapify(heap)
    while len(heap) > 1:
        w1, _, s1 = heapq.heappop(heap)
        w2, _, s2 = heapq.heappop(heap)
        for i in s1:
            lengths[i] += 1
        heapq.heappush(heap, (w1 + w2, next(tie), s1 + s2))
    return torch.tensor([max(l, 1) for l in lengths])
""",
    },
    "fit_block_code": {
        "no context: one Huffman code for the blocks' overall frequencies": """
def fit_block_code(train, n_symbols):
    S = n_symbols
    k = max(j for j in range(1, 9) if S**j <= 4096)
    n_blocks = (train.numel() - 1) // k
    body = train[1:1 + n_blocks * k].reshape(n_blocks, k)
    index = (body * S ** torch.arange(k - 1, -1, -1)).sum(dim=1)
    counts = torch.bincount(index, minlength=S**k).double() + 0.5
    lengths = huffman_code_lengths(counts / counts.sum())
    return k, lengths.expand(S, -1).clone()
""",
        "Shannon lengths ceil(-log2 P(block | context)) instead of Huffman": """
def fit_block_code(train, n_symbols):
    S = n_symbols
    counts = torch.full((S, S), 0.5, dtype=torch.float64)
    counts += torch.bincount(train[:-1] * S + train[1:], minlength=S * S).reshape(S, S).double()
    A = counts / counts.sum(dim=1, keepdim=True)
    pi = stationary_distribution(A)
    best = None
    for k in range(1, 9):
        if S**k > 4096:
            break
        probs = A.clone()
        for _ in range(k - 1):
            probs = (probs[:, :, None] * A[torch.arange(probs.shape[1]) % S][None, :, :]).reshape(S, -1)
        lengths = torch.ceil(-torch.log2(probs)).long()
        bits = float((pi[:, None] * probs * lengths).sum()) / k
        if best is None or bits < best[0]:
            best = (bits, k, lengths)
    return best[1], best[2]
""",
        "one symbol at a time (block size 1), with context": """
def fit_block_code(train, n_symbols):
    S = n_symbols
    counts = torch.full((S, S), 0.5, dtype=torch.float64)
    counts += torch.bincount(train[:-1] * S + train[1:], minlength=S * S).reshape(S, S).double()
    A = counts / counts.sum(dim=1, keepdim=True)
    return 1, torch.stack([huffman_code_lengths(row) for row in A])
""",
    },
    "block_code_answer": {
        "a: Huffman reaches the entropy rate": """
def block_code_answer():
    return "a"
""",
        "b: below the entropy rate with enough data": """
def block_code_answer():
    return "b"
""",
        "d: two whole bits per symbol": """
def block_code_answer():
    return "d"
""",
    },
}

ALTERNATIVES = {
    "entropy": {
        "torch.where around p log p, change of base with log": """
def entropy(p, base=math.e, dim=-1):
    terms = torch.where(p > 0, p * torch.log(torch.where(p > 0, p, torch.ones_like(p))), torch.zeros_like(p))
    return -terms.sum(dim=dim) / torch.log(torch.tensor(float(base), dtype=p.dtype))
""",
        "torch.special.entr": """
def entropy(p, base=math.e, dim=-1):
    return torch.special.entr(p).sum(dim=dim) / math.log(base)
""",
    },
    "log_count_per_symbol": {
        "math.lgamma element by element": """
def log_count_per_symbol(n, k):
    n, k = torch.broadcast_tensors(torch.as_tensor(n).double(), torch.as_tensor(k).double())
    out = [(math.lgamma(a + 1) - math.lgamma(b + 1) - math.lgamma(a - b + 1)) / a
           for a, b in zip(n.reshape(-1).tolist(), k.reshape(-1).tolist())]
    return torch.tensor(out, dtype=torch.float64).reshape(n.shape)
""",
        "a sum of logs of the ratios (n - k + i) / i": """
def log_count_per_symbol(n, k):
    n, k = torch.broadcast_tensors(torch.as_tensor(n).double(), torch.as_tensor(k).double())
    out = []
    for a, b in zip(n.reshape(-1).tolist(), k.reshape(-1).tolist()):
        i = torch.arange(1, int(b) + 1, dtype=torch.float64)
        out.append(float(torch.log((a - b + i) / i).sum()) / a)
    return torch.tensor(out, dtype=torch.float64).reshape(n.shape)
""",
    },
    "distribution_cross_entropy": {
        "torch.where around p log q": """
def distribution_cross_entropy(p, q, base=math.e, dim=-1):
    p, q = torch.broadcast_tensors(p, q)
    terms = torch.where(p > 0, -p * torch.log(q), torch.zeros_like(p))
    return terms.sum(dim=dim) / math.log(base)
""",
    },
    "kl_divergence": {
        "cross-entropy minus entropy": """
def kl_divergence(p, q, base=math.e, dim=-1):
    p, q = torch.broadcast_tensors(p, q)
    return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum(dim=dim) / math.log(base)
""",
        "torch.where around p log(p / q), float64 inside": """
def kl_divergence(p, q, base=math.e, dim=-1):
    p64, q64 = torch.broadcast_tensors(p.double(), q.double())
    terms = torch.where(p64 > 0, p64 * (torch.log(p64) - torch.log(q64)), torch.zeros_like(p64))
    return (terms.sum(dim=dim) / math.log(base)).to(torch.promote_types(p.dtype, q.dtype))
""",
    },
    "normal_cross_entropy": {
        "torch.distributions: entropy of p plus D(p || q)": """
def normal_cross_entropy(mu_p, var_p, mu_q, var_q):
    d = torch.distributions
    p = d.Normal(mu_p, var_p.sqrt())
    q = d.Normal(mu_q, var_q.sqrt())
    return p.entropy() + d.kl_divergence(p, q)
""",
        "expanded square": """
def normal_cross_entropy(mu_p, var_p, mu_q, var_q):
    second_moment = var_p + mu_p**2
    return 0.5 * math.log(2 * math.pi) + 0.5 * torch.log(var_q) + (second_moment - 2 * mu_p * mu_q + mu_q**2) / (2 * var_q)
""",
    },
    "normal_kl": {
        "torch.distributions.kl_divergence": """
def normal_kl(mu_p, var_p, mu_q, var_q):
    d = torch.distributions
    return d.kl_divergence(d.Normal(mu_p, var_p.sqrt()), d.Normal(mu_q, var_q.sqrt()))
""",
        "cross-entropy minus entropy (Hint 1)": """
def normal_kl(mu_p, var_p, mu_q, var_q):
    return normal_cross_entropy(mu_p, var_p, mu_q, var_q) - normal_cross_entropy(mu_p, var_p, mu_p, var_p)
""",
    },
    "reverse_kl_answer": {
        "capital letter": """
def reverse_kl_answer():
    return "B"
""",
    },
    "conditional_entropy": {
        "chain rule: H(X, Y) - H(Y)": """
def conditional_entropy(joint, base=math.e):
    p = joint / joint.sum()
    return (entropy(p.reshape(-1), base) - entropy(p.sum(dim=0), base))
""",
        "explicit loops over the columns": """
def conditional_entropy(joint, base=math.e):
    p = (joint / joint.sum()).tolist()
    total = 0.0
    for j in range(len(p[0])):
        py = sum(row[j] for row in p)
        total -= sum(row[j] * math.log(row[j] / py) for row in p if row[j] > 0)
    return torch.tensor(total / math.log(base), dtype=joint.dtype)
""",
    },
    "mutual_information": {
        "H(X) + H(Y) - H(X, Y)": """
def mutual_information(joint, base=math.e):
    p = joint / joint.sum()
    h = lambda q: -torch.xlogy(q, q).sum()
    return (h(p.sum(dim=1)) + h(p.sum(dim=0)) - h(p)) / math.log(base)
""",
        "explicit loops": """
def mutual_information(joint, base=math.e):
    p = (joint / joint.sum()).tolist()
    px = [sum(row) for row in p]
    py = [sum(col) for col in zip(*p)]
    total = sum(v * math.log(v / (px[i] * py[j])) for i, row in enumerate(p) for j, v in enumerate(row) if v > 0)
    return torch.tensor(total / math.log(base), dtype=joint.dtype)
""",
    },
    "normal_fisher": {
        "J^T F J from the (mu, sigma) matrix": """
def normal_fisher(sigma, param="sigma"):
    dsigma = {"sigma": lambda s: torch.ones_like(s), "var": lambda s: 1 / (2 * s), "log_sigma": lambda s: s}
    if param not in dsigma:
        raise ValueError(f"unknown param {param!r}")
    zero = torch.zeros_like(sigma)
    F = torch.stack([torch.stack([1 / sigma**2, zero], -1), torch.stack([zero, 2 / sigma**2], -1)], -2)
    J = torch.stack([torch.stack([torch.ones_like(sigma), zero], -1),
                     torch.stack([zero, dsigma[param](sigma)], -1)], -2)
    return J.transpose(-1, -2) @ F @ J
""",
    },
    "fisher_from_kl": {
        "two rounds of torch.autograd.grad": """
def fisher_from_kl(kl, theta0):
    fixed = theta0.detach()
    theta = fixed.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(kl(fixed, theta), theta, create_graph=True)
    rows = [torch.autograd.grad(g[i], theta, retain_graph=True)[0] for i in range(g.shape[0])]
    return torch.stack(rows)
""",
    },
    "max_entropy_distribution": {
        "Newton on the dual with an autograd Hessian": """
def max_entropy_distribution(features, moments, tol=1e-10, max_iter=100):
    f, m = features.double(), moments.double()
    dual = lambda lam: torch.logsumexp(f @ lam, dim=0) - lam @ m
    lam = torch.zeros(f.shape[1], dtype=torch.float64)
    for _ in range(max_iter):
        p = torch.softmax(f @ lam, dim=0)
        grad = p @ f - m
        if grad.abs().max() <= tol:
            break
        H = torch.autograd.functional.hessian(dual, lam)
        step = torch.linalg.pinv(H) @ grad
        t = 1.0
        while dual(lam - t * step) > dual(lam) and t > 1e-10:
            t /= 2
        lam = lam - t * step
    return torch.softmax(f @ lam, dim=0).to(features.dtype)
""",
    },
    "sne_affinities": {
        "per-row bisection on the precision beta, doubling to bracket": """
def sne_affinities(x, perplexity, tol=1e-5, max_iter=200):
    x64 = x.double()
    n = x.shape[0]
    P = torch.zeros(n, n, dtype=torch.float64)
    sigma = torch.zeros(n, dtype=torch.float64)
    target = math.log(perplexity)
    for i in range(n):
        d2 = ((x64 - x64[i]) ** 2).sum(dim=1)
        d2 = torch.cat([d2[:i], d2[i + 1:]])
        d2 = d2 - d2.min()
        beta, lo, hi = 1.0 / d2.max().clamp(min=1e-300).item(), 0.0, math.inf
        for _ in range(max_iter):
            w = torch.exp(-beta * d2)
            row = w / w.sum()
            H = -torch.xlogy(row, row).sum().item()
            if abs(math.exp(H) - perplexity) <= tol * perplexity * 1e-2:
                break
            if H > target:
                lo = beta
                beta = beta * 2 if hi == math.inf else (beta + hi) / 2
            else:
                hi = beta
                beta = (beta + lo) / 2
        P[i, :i], P[i, i + 1:] = row[:i], row[i:]
        sigma[i] = math.sqrt(1 / (2 * beta))
    return P.to(x.dtype), sigma.to(x.dtype)
""",
    },
    "perplexity_answer": {
        "letter with spaces": """
def perplexity_answer():
    return " b "
""",
    },
    "stationary_distribution": {
        "eigenvector of A.T": """
def stationary_distribution(A):
    values, vectors = torch.linalg.eig(A.double().T)
    v = vectors[:, torch.argmin((values - 1).abs())].real
    return (v / v.sum()).to(A.dtype)
""",
        "power iteration pi <- pi A": """
def stationary_distribution(A):
    a = A.double()
    pi = torch.full((A.shape[0],), 1.0 / A.shape[0], dtype=torch.float64)
    for _ in range(20000):
        pi = pi @ a
    return (pi / pi.sum()).to(A.dtype)
""",
    },
    "entropy_rate": {
        "explicit loops": """
def entropy_rate(A, base=math.e):
    pi = stationary_distribution(A).tolist()
    rows = A.tolist()
    total = -sum(pi[i] * sum(a * math.log(a) for a in row if a > 0) for i, row in enumerate(rows))
    return torch.tensor(total / math.log(base), dtype=A.dtype)
""",
    },
    "huffman_code_lengths": {
        "sorted list instead of a heap": """
def huffman_code_lengths(p):
    groups = [(float(w), [i]) for i, w in enumerate(p.tolist())]
    lengths = [0] * len(groups)
    while len(groups) > 1:
        groups.sort(key=lambda g: g[0])
        (w1, s1), (w2, s2) = groups[0], groups[1]
        for i in s1 + s2:
            lengths[i] += 1
        groups = groups[2:] + [(w1 + w2, s1 + s2)]
    return torch.tensor(lengths)
""",
        "an explicit tree, depths read off by a walk": """
def huffman_code_lengths(p):
    import heapq
    heap = [(float(w), i, i) for i, w in enumerate(p.tolist())]
    children = {}
    heapq.heapify(heap)
    next_id = len(heap)
    while len(heap) > 1:
        w1, _, a = heapq.heappop(heap)
        w2, _, b = heapq.heappop(heap)
        children[next_id] = (a, b)
        heapq.heappush(heap, (w1 + w2, next_id, next_id))
        next_id += 1
    depth = [0] * p.shape[0]
    stack = [(heap[0][2], 0)]
    while stack:
        node, d = stack.pop()
        if node in children:
            stack.extend((c, d + 1) for c in children[node])
        else:
            depth[node] = d
    return torch.tensor(depth)
""",
    },
    "fit_block_code": {
        "block and context counts straight from the data, fixed block size": """
def fit_block_code(train, n_symbols):
    S = n_symbols
    k = max(j for j in range(1, 9) if S**j <= 256)
    n_blocks = (train.numel() - 1) // k
    index = torch.zeros(n_blocks, dtype=torch.int64)
    for j in range(k):
        index = index * S + train[1 + j:1 + n_blocks * k:k]
    context = train[0:n_blocks * k:k]
    counts = torch.bincount(context * S**k + index, minlength=S * S**k).reshape(S, S**k).double() + 0.5
    return k, torch.stack([huffman_code_lengths(row) for row in counts])
""",
    },
    "block_code_answer": {
        "capital letter": """
def block_code_answer():
    return "C"
""",
    },
}

SAMPLE_WRONG = ["mutual_information", "sne_affinities"]


# Automatic mutations of the reference (autograder.mutation) that change nothing the statement fixes.
EQUIVALENT_MUTATIONS = {
    'normal_fisher': {
        'sign: `2 + 0 * s` -> `2 - 0 * s` in `lambda s: 2 + 0 * s`':
            '`0 * s` is zero: the term only gives the constant the shape of s',
        'term: `2 + 0 * s` -> `2` in `lambda s: 2 + 0 * s`':
            '`0 * s` is zero: the term only gives the constant the shape of s',
    },
    'max_entropy_distribution': {
        'axis: `torch.logsumexp(f @ lam, dim=0)` -> `torch.logsumexp(f @ lam, dim=-1)` in `torch.logsumexp(f @ lam, dim=0) - lam @ m`':
            'the tensor is 1-D there: axis 0 is the last axis',
        'term: `current - 0.25 * t * (grad @ step)` -> `current` in `dual(lam - t * step) > current - 0.25 * t * (grad @ step)`':
            "only the line search's acceptance test: damped Newton still converges to the same unique optimum",
        'axis: `torch.softmax(f @ lam, dim=0)` -> `torch.softmax(f @ lam, dim=-1)`':
            'the tensor is 1-D there: axis 0 is the last axis',
        'sign: `current - 0.25 * t * (grad @ step)` -> `current + 0.25 * t * (grad @ step)` in `dual(lam - t * step) > current - 0.25 * t * (grad @ step)`':
            "only the line search's acceptance test: damped Newton still converges to the same unique optimum",
    },
    'sne_affinities': {
        'term: `torch.exp(H) - perplexity` -> `torch.exp(H)` in `(torch.exp(H) - perplexity).abs`':
            "only the bisection's early stop: without it the search runs to max_iter and lands on the same bandwidth",
        'axis: `d2.min(dim=1)` -> `d2.min(dim=0)` in `d2.min(dim=1).values`':
            'the matrix of squared distances is symmetric: its row and column minima are the same',
    },
}

# Make-it-work tasks, judged on a target (autograder.mutation leaves them to their registered mutants).
JUDGED_ON_A_TARGET = ['fit_block_code']
