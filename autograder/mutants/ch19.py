"""Classic wrong answers and correct alternatives for chapter 19 (Fine-tuning and domain shift)."""

CHAPTER = "19-transfer-learning-and-domain-adaptation"

_ADAPT = """
def adapt_to_target(X_s, y_s, X_t, generator):
    torch.manual_seed(int(torch.randint(2**31 - 1, (1,), generator=generator)))
    encoder = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU())
    classifier = torch.nn.Linear(64, 10)
    opt = torch.optim.Adam([*encoder.parameters(), *classifier.parameters()], lr=2e-3)
    for _ in range(250):
        i = torch.randint(len(X_s), (64,), generator=generator)
        j = torch.randint(len(X_t), (64,), generator=generator)
        h_s, h_t = encoder(X_s[i]), encoder(X_t[j])
        loss = F.cross_entropy(classifier(h_s), y_s[i]) + _PENALTY
        opt.zero_grad()
        loss.backward()
        opt.step()
    return encoder, classifier
"""


def _adapt(penalty):
    return _ADAPT.replace("_PENALTY", penalty)


_DANN = """
def adapt_to_target(X_s, y_s, X_t, generator):
    torch.manual_seed(int(torch.randint(2**31 - 1, (1,), generator=generator)))
    encoder = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU())
    classifier = torch.nn.Linear(64, 10)
    critic = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
    opt = torch.optim.Adam([*encoder.parameters(), *classifier.parameters(), *critic.parameters()], lr=2e-3)
    steps = 250
    for step in range(steps):
        i = torch.randint(len(X_s), (64,), generator=generator)
        j = torch.randint(len(X_t), (64,), generator=generator)
        h_s, h_t = encoder(X_s[i]), encoder(X_t[j])
        lambd = _SIGN 1.0 * (2 / (1 + math.exp(-10 * step / steps)) - 1)
        loss = dann_loss(classifier(h_s), y_s[i], critic(grad_reverse(h_s, lambd))[:, 0],
                         critic(grad_reverse(h_t, lambd))[:, 0])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return encoder, classifier
"""

MUTANTS = {
    "freeze_and_replace_head": {
        "forgot to freeze the body": """
def freeze_and_replace_head(model, n_classes):
    body = copy.deepcopy(model[:-1])
    old = model[-1]
    return torch.nn.Sequential(*body, torch.nn.Linear(old.in_features, n_classes).to(old.weight.dtype))
""",
        "froze after adding the head (nothing trains)": """
def freeze_and_replace_head(model, n_classes):
    old = model[-1]
    new = torch.nn.Sequential(*copy.deepcopy(model[:-1]), torch.nn.Linear(old.in_features, n_classes).to(old.weight.dtype))
    for p in new.parameters():
        p.requires_grad = False
    return new
""",
        "froze and replaced the head of the model passed in": """
def freeze_and_replace_head(model, n_classes):
    for p in model.parameters():
        p.requires_grad = False
    old = model[-1]
    model[-1] = torch.nn.Linear(old.in_features, n_classes).to(old.weight.dtype)
    return model
""",
        "the new head keeps the old number of classes": """
def freeze_and_replace_head(model, n_classes):
    body = copy.deepcopy(model[:-1])
    for p in body.parameters():
        p.requires_grad = False
    old = model[-1]
    return torch.nn.Sequential(*body, torch.nn.Linear(old.in_features, old.out_features).to(old.weight.dtype))
""",
        "only the weights frozen, biases left trainable": """
def freeze_and_replace_head(model, n_classes):
    body = copy.deepcopy(model[:-1])
    for name, p in body.named_parameters():
        if name.endswith("weight"):
            p.requires_grad = False
    old = model[-1]
    return torch.nn.Sequential(*body, torch.nn.Linear(old.in_features, n_classes, bias=old.bias is not None).to(old.weight.dtype))
""",
    },
    "mmd2_biased": {
        "kernel exp(-d^2 / sigma^2) (no factor 2)": """
def mmd2_biased(X, Y, bandwidth):
    k = lambda A, B: torch.exp(-torch.cdist(A, B) ** 2 / bandwidth ** 2)
    return k(X, X).mean() + k(Y, Y).mean() - 2 * k(X, Y).mean()
""",
        "cross term counted once": """
def mmd2_biased(X, Y, bandwidth):
    k = lambda A, B: torch.exp(-torch.cdist(A, B) ** 2 / (2 * bandwidth ** 2))
    return k(X, X).mean() + k(Y, Y).mean() - k(X, Y).mean()
""",
        "MMD instead of its square": """
def mmd2_biased(X, Y, bandwidth):
    k = lambda A, B: torch.exp(-torch.cdist(A, B) ** 2 / (2 * bandwidth ** 2))
    return (k(X, X).mean() + k(Y, Y).mean() - 2 * k(X, Y).mean()).clamp_min(0).sqrt()
""",
        "distances not squared in the kernel": """
def mmd2_biased(X, Y, bandwidth):
    k = lambda A, B: torch.exp(-torch.cdist(A, B) / (2 * bandwidth ** 2))
    return k(X, X).mean() + k(Y, Y).mean() - 2 * k(X, Y).mean()
""",
    },
    "mmd2_unbiased": {
        "diagonal kept (the biased estimate)": """
def mmd2_unbiased(X, Y, bandwidth):
    k = lambda A, B: torch.exp(-torch.cdist(A, B) ** 2 / (2 * bandwidth ** 2))
    return k(X, X).mean() + k(Y, Y).mean() - 2 * k(X, Y).mean()
""",
        "diagonal removed but divided by n^2": """
def mmd2_unbiased(X, Y, bandwidth):
    k = lambda A, B: torch.exp(-torch.cdist(A, B) ** 2 / (2 * bandwidth ** 2))
    n, m = len(X), len(Y)
    return (k(X, X).sum() - n) / n ** 2 + (k(Y, Y).sum() - m) / m ** 2 - 2 * k(X, Y).mean()
""",
        "the cross term's diagonal removed too": """
def mmd2_unbiased(X, Y, bandwidth):
    k = lambda A, B: torch.exp(-torch.cdist(A, B) ** 2 / (2 * bandwidth ** 2))
    n, m = len(X), len(Y)
    Kxy = k(X, Y)
    cross = (Kxy.sum() - Kxy.diagonal().sum()) / (n * m - min(n, m))
    return (k(X, X).sum() - n) / (n * (n - 1)) + (k(Y, Y).sum() - m) / (m * (m - 1)) - 2 * cross
""",
        "clamped at zero": """
def mmd2_unbiased(X, Y, bandwidth):
    k = lambda A, B: torch.exp(-torch.cdist(A, B) ** 2 / (2 * bandwidth ** 2))
    n, m = len(X), len(Y)
    value = (k(X, X).sum() - n) / (n * (n - 1)) + (k(Y, Y).sum() - m) / (m * (m - 1)) - 2 * k(X, Y).mean()
    return value.clamp_min(0)
""",
    },
    "best_event": {
        "ties included": """
def best_event(p, q):
    return p >= q
""",
        "the wrong direction": """
def best_event(p, q):
    return q > p
""",
    },
    "total_variation": {
        "without the factor 2 (half the L1 distance)": """
def total_variation(p, q):
    return 0.5 * (p - q).abs().sum(-1)
""",
        "the largest single difference": """
def total_variation(p, q):
    return (p - q).abs().max(-1).values
""",
        "Euclidean distance": """
def total_variation(p, q):
    return ((p - q) ** 2).sum(-1).sqrt()
""",
    },
    "h_divergence_1d": {
        "without the factor 2 (the KS statistic)": """
def h_divergence_1d(scores_s, scores_t):
    points = torch.cat([scores_s, scores_t])
    cdf_s = (scores_s[None, :] <= points[:, None]).to(scores_s.dtype).mean(1)
    cdf_t = (scores_t[None, :] <= points[:, None]).to(scores_s.dtype).mean(1)
    return (cdf_s - cdf_t).abs().max()
""",
        "one orientation only (no absolute value)": """
def h_divergence_1d(scores_s, scores_t):
    points = torch.cat([scores_s, scores_t])
    cdf_s = (scores_s[None, :] <= points[:, None]).to(scores_s.dtype).mean(1)
    cdf_t = (scores_t[None, :] <= points[:, None]).to(scores_s.dtype).mean(1)
    return 2 * (cdf_s - cdf_t).max()
""",
        "thresholds at the source scores only": """
def h_divergence_1d(scores_s, scores_t):
    cdf_s = (scores_s[None, :] <= scores_s[:, None]).to(scores_s.dtype).mean(1)
    cdf_t = (scores_t[None, :] <= scores_s[:, None]).to(scores_s.dtype).mean(1)
    return 2 * (cdf_s - cdf_t).abs().max()
""",
        "a walk through the sorted scores (ties split)": """
def h_divergence_1d(scores_s, scores_t):
    n, m = len(scores_s), len(scores_t)
    points = torch.cat([scores_s, scores_t.to(scores_s.dtype)])
    steps = torch.cat([torch.full((n,), 1.0 / n, dtype=scores_s.dtype), torch.full((m,), -1.0 / m, dtype=scores_s.dtype)])
    order = torch.argsort(points, stable=True)
    return 2 * torch.cumsum(steps[order], 0).abs().max()
""",
    },
    "grad_reverse": {
        "gradient not reversed (sign)": """
class GradientReversal(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lambd):
        ctx.lambd = lambd
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.lambd * grad_output, None


def grad_reverse(x, lambd=1.0):
    return GradientReversal.apply(x, lambd)
""",
        "lambd forgotten": """
class GradientReversal(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lambd):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -grad_output, None


def grad_reverse(x, lambd=1.0):
    return GradientReversal.apply(x, lambd)
""",
        "reversed in the forward pass": """
def grad_reverse(x, lambd=1.0):
    return -lambd * x
""",
        "lambd kept in a class attribute": """
class GradientReversal(torch.autograd.Function):
    lambd = 1.0

    @staticmethod
    def forward(ctx, x, lambd):
        GradientReversal.lambd = lambd
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -GradientReversal.lambd * grad_output, None


def grad_reverse(x, lambd=1.0):
    return GradientReversal.apply(x, lambd)
""",
        "detached (no gradient at all)": """
def grad_reverse(x, lambd=1.0):
    return x.detach()
""",
    },
    "dann_loss": {
        "domain labels swapped (source 1, target 0)": """
def dann_loss(class_logits_s, labels_s, domain_logits_s, domain_logits_t):
    return (F.cross_entropy(class_logits_s, labels_s)
            + F.binary_cross_entropy_with_logits(domain_logits_s, torch.ones_like(domain_logits_s))
            + F.binary_cross_entropy_with_logits(domain_logits_t, torch.zeros_like(domain_logits_t)))
""",
        "one mean over both domains pooled": """
def dann_loss(class_logits_s, labels_s, domain_logits_s, domain_logits_t):
    logits = torch.cat([domain_logits_s, domain_logits_t])
    labels = torch.cat([torch.zeros_like(domain_logits_s), torch.ones_like(domain_logits_t)])
    return F.cross_entropy(class_logits_s, labels_s) + F.binary_cross_entropy_with_logits(logits, labels)
""",
        "the saddle point's minus sign kept": """
def dann_loss(class_logits_s, labels_s, domain_logits_s, domain_logits_t):
    return (F.cross_entropy(class_logits_s, labels_s)
            - F.binary_cross_entropy_with_logits(domain_logits_s, torch.zeros_like(domain_logits_s))
            - F.binary_cross_entropy_with_logits(domain_logits_t, torch.ones_like(domain_logits_t)))
""",
        "log of sigmoid (overflows at large logits)": """
def dann_loss(class_logits_s, labels_s, domain_logits_s, domain_logits_t):
    d_s, d_t = torch.sigmoid(domain_logits_s), torch.sigmoid(domain_logits_t)
    return F.cross_entropy(class_logits_s, labels_s) - torch.log(1 - d_s).mean() - torch.log(d_t).mean()
""",
    },
    "adapt_to_target": {
        "MMD of the source features with themselves": _adapt("5.0 * mmd2_unbiased(h_s, h_s[torch.randperm(64, generator=generator)], 4.0)"),
        "MMD of the raw images (no gradient reaches the encoder)": _adapt("5.0 * mmd2_unbiased(X_s[i], X_t[j], 4.0)"),
        "MMD maximized (wrong sign)": _adapt("-5.0 * mmd2_unbiased(h_s, h_t, 4.0)"),
        "DANN with the gradient reversed twice (lambd negative)": _DANN.replace("_SIGN", "-"),
    },
    "transfer_concepts": {
        "alignment answers": """
def transfer_concepts():
    return {"q1": "b", "q2": "b", "q3": "d"}
""",
        "all c": """
def transfer_concepts():
    return {"q1": "c", "q2": "c", "q3": "c"}
""",
    },
}

ALTERNATIVES = {
    "freeze_and_replace_head": {
        "deep copy of the whole model, head swapped, frozen by a flag loop": """
def freeze_and_replace_head(model, n_classes):
    new = copy.deepcopy(model)
    for p in new.parameters():
        p.requires_grad = False
    old = new[-1]
    new[-1] = torch.nn.Linear(old.in_features, n_classes, bias=old.bias is not None, dtype=old.weight.dtype)
    return new
""",
    },
    "mmd2_biased": {
        "explicit loops over pairs": """
def mmd2_biased(X, Y, bandwidth):
    def mean_k(A, B):
        total = 0.0
        for a in A:
            for b in B:
                total = total + torch.exp(-((a - b) ** 2).sum() / (2 * bandwidth ** 2))
        return total / (len(A) * len(B))
    return mean_k(X, X) + mean_k(Y, Y) - 2 * mean_k(X, Y)
""",
        "the notes' tr(K L) form": """
def mmd2_biased(X, Y, bandwidth):
    n, m = len(X), len(Y)
    Z = torch.cat([X, Y])
    K = torch.exp(-torch.cdist(Z, Z) ** 2 / (2 * bandwidth ** 2))
    w = torch.cat([torch.full((n,), 1.0 / n, dtype=X.dtype), torch.full((m,), -1.0 / m, dtype=X.dtype)])
    return torch.trace(K @ torch.outer(w, w))
""",
    },
    "mmd2_unbiased": {
        "a mask for the off-diagonal pairs": """
def mmd2_unbiased(X, Y, bandwidth):
    k = lambda A, B: torch.exp(-((A[:, None, :] - B[None, :, :]) ** 2).sum(-1) / (2 * bandwidth ** 2))
    off_x = ~torch.eye(len(X), dtype=torch.bool)
    off_y = ~torch.eye(len(Y), dtype=torch.bool)
    return k(X, X)[off_x].mean() + k(Y, Y)[off_y].mean() - 2 * k(X, Y).mean()
""",
    },
    "best_event": {
        "the sign of the difference": """
def best_event(p, q):
    return torch.sign(p - q) == 1
""",
    },
    "total_variation": {
        "twice the mass on the best event": """
def total_variation(p, q):
    diff = p - q
    return 2 * torch.where(diff > 0, diff, torch.zeros_like(diff)).sum(-1)
""",
    },
    "h_divergence_1d": {
        "left limits (strict <) at every observed score": """
def h_divergence_1d(scores_s, scores_t):
    points = torch.cat([scores_s, scores_t.to(scores_s.dtype)])
    below_s = (scores_s[None, :] < points[:, None]).to(scores_s.dtype).mean(1)
    below_t = (scores_t[None, :] < points[:, None]).to(scores_s.dtype).mean(1)
    return 2 * (below_s - below_t).abs().max()
""",
        "sorted samples and searchsorted": """
def h_divergence_1d(scores_s, scores_t):
    s, _ = torch.sort(scores_s)
    t, _ = torch.sort(scores_t.to(scores_s.dtype))
    points = torch.cat([s, t])
    cdf_s = torch.searchsorted(s, points, right=True).to(s.dtype) / len(s)
    cdf_t = torch.searchsorted(t, points, right=True).to(s.dtype) / len(t)
    return 2 * torch.max(torch.abs(cdf_s - cdf_t))
""",
    },
    "grad_reverse": {
        "a detach trick instead of a Function": """
def grad_reverse(x, lambd=1.0):
    return (1 + lambd) * x.detach() - lambd * x
""",
        "a Function that saves lambd as an attribute named otherwise": """
class GradientReversal(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lambd):
        ctx.scale = -float(lambd)
        return x.clone()

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.scale, None


def grad_reverse(x, lambd=1.0):
    return GradientReversal.apply(x, lambd)
""",
    },
    "dann_loss": {
        "log-sigmoid by hand": """
def dann_loss(class_logits_s, labels_s, domain_logits_s, domain_logits_t):
    log_p = torch.log_softmax(class_logits_s, dim=1)
    ce = -log_p[torch.arange(len(labels_s)), labels_s].mean()
    return ce - F.logsigmoid(-domain_logits_s).mean() - F.logsigmoid(domain_logits_t).mean()
""",
    },
    "adapt_to_target": {
        "biased MMD at two bandwidths": _adapt("3.0 * (mmd2_biased(h_s, h_t, 2.0) + mmd2_biased(h_s, h_t, 8.0))"),
    },
    "transfer_concepts": {
        "upper case with spaces": """
def transfer_concepts():
    return {"q3": " D", "q2": "B ", "q1": "C"}
""",
    },
}

SAMPLE_WRONG = ["total_variation", "dann_loss"]

# Make-it-work tasks, judged on a target (autograder.mutation leaves them to their registered mutants).
JUDGED_ON_A_TARGET = ["adapt_to_target"]
