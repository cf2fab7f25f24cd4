"""Classic wrong answers and correct alternatives for chapter 17 (Few-shot, meta-learning, self-supervision)."""

CHAPTER = "17-meta-and-self-supervised-learning"

_TRAIN = """
def train_fewshot_embedding(X, y, generator):
    torch.manual_seed(int(torch.randint(2**31 - 1, (1,), generator=generator)))
    hidden = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU())
    head = torch.nn.Linear(256, 64)
    opt = torch.optim.Adam(list(hidden.parameters()) + list(head.parameters()), lr=1e-3)
    target = torch.arange(5).repeat_interleave(10)
    for _ in range(200):
        support, query, _ = sample_episode(y, 5, 5, 10, generator)
        emb_s = head(hidden(X[support.reshape(-1)])).reshape(5, 5, -1)
        emb_q = head(hidden(X[query.reshape(-1)]))
        loss = F.cross_entropy(_LOGITS(emb_q, _PROTOS(emb_s)), target)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def embed(images):
        with torch.no_grad():
            return _OUT(images)

    return embed
"""


def _train(logits="prototype_logits", protos="prototypes", out="hidden(images)", prelude=""):
    return prelude + _TRAIN.replace("_LOGITS", logits).replace("_PROTOS", protos).replace("_OUT(images)", out)


MUTANTS = {
    "sample_episode": {
        "classes in sorted order (no class permutation)": """
def sample_episode(labels, n_way, k_shot, n_query, generator):
    classes = torch.unique(labels)[:n_way]
    support, query = [], []
    for c in classes:
        members = torch.nonzero(labels == c).flatten()
        chosen = members[torch.randperm(len(members), generator=generator)[:k_shot + n_query]]
        support.append(chosen[:k_shot])
        query.append(chosen[k_shot:])
    return torch.stack(support), torch.stack(query), classes
""",
        "queries taken before the support": """
def sample_episode(labels, n_way, k_shot, n_query, generator):
    distinct = torch.unique(labels)
    classes = distinct[torch.randperm(len(distinct), generator=generator)[:n_way]]
    support, query = [], []
    for c in classes:
        members = torch.nonzero(labels == c).flatten()
        chosen = members[torch.randperm(len(members), generator=generator)[:k_shot + n_query]]
        query.append(chosen[:n_query])
        support.append(chosen[n_query:])
    return torch.stack(support), torch.stack(query), classes
""",
        "examples drawn with replacement": """
def sample_episode(labels, n_way, k_shot, n_query, generator):
    distinct = torch.unique(labels)
    classes = distinct[torch.randperm(len(distinct), generator=generator)[:n_way]]
    support, query = [], []
    for c in classes:
        members = torch.nonzero(labels == c).flatten()
        chosen = members[torch.randint(len(members), (k_shot + n_query,), generator=generator)]
        support.append(chosen[:k_shot])
        query.append(chosen[k_shot:])
    return torch.stack(support), torch.stack(query), classes
""",
    },
    "prototypes": {
        "averaged over the classes (wrong axis)": """
def prototypes(support):
    return support.mean(dim=0)
""",
        "sum instead of mean": """
def prototypes(support):
    return support.sum(dim=1)
""",
        "first shot only": """
def prototypes(support):
    return support[:, 0].clone()
""",
    },
    "prototype_logits": {
        "distance not squared": """
def prototype_logits(query, protos):
    return -torch.cdist(query, protos)
""",
        "positive squared distances": """
def prototype_logits(query, protos):
    return ((query[:, None, :] - protos[None, :, :]) ** 2).sum(-1)
""",
        "dot products instead of distances": """
def prototype_logits(query, protos):
    return query @ protos.T
""",
    },
    "matching_predict": {
        "dot products instead of cosine similarities": """
def matching_predict(query, support, support_labels, n_way):
    attention = torch.softmax(query @ support.T, dim=-1)
    return attention @ F.one_hot(support_labels, n_way).to(attention.dtype)
""",
        "softmax over the queries (wrong axis)": """
def matching_predict(query, support, support_labels, n_way):
    sims = F.normalize(query, dim=-1) @ F.normalize(support, dim=-1).T
    attention = torch.softmax(sims, dim=0)
    return attention @ F.one_hot(support_labels, n_way).to(attention.dtype)
""",
        "softmax over classes of summed similarities": """
def matching_predict(query, support, support_labels, n_way):
    sims = F.normalize(query, dim=-1) @ F.normalize(support, dim=-1).T
    return torch.softmax(sims @ F.one_hot(support_labels, n_way).to(sims.dtype), dim=-1)
""",
    },
    "triplet_loss": {
        "no hinge": """
def triplet_loss(anchor, positive, negative, margin=1.0):
    d_pos = ((anchor - positive) ** 2).sum(-1)
    d_neg = ((anchor - negative) ** 2).sum(-1)
    return (d_pos - d_neg + margin).mean()
""",
        "no margin": """
def triplet_loss(anchor, positive, negative, margin=1.0):
    d_pos = ((anchor - positive) ** 2).sum(-1)
    d_neg = ((anchor - negative) ** 2).sum(-1)
    return torch.clamp(d_pos - d_neg, min=0).mean()
""",
        "distances not squared": """
def triplet_loss(anchor, positive, negative, margin=1.0):
    d_pos = (anchor - positive).norm(dim=-1)
    d_neg = (anchor - negative).norm(dim=-1)
    return torch.clamp(d_pos - d_neg + margin, min=0).mean()
""",
        "sum over the batch": """
def triplet_loss(anchor, positive, negative, margin=1.0):
    d_pos = ((anchor - positive) ** 2).sum(-1)
    d_neg = ((anchor - negative) ** 2).sum(-1)
    return torch.clamp(d_pos - d_neg + margin, min=0).sum()
""",
    },
    "info_nce": {
        "softmax over the wrong axis": """
def info_nce(z1, z2, temperature=0.1):
    logits = F.normalize(z1, dim=-1) @ F.normalize(z2, dim=-1).T / temperature
    return F.cross_entropy(logits.T, torch.arange(len(z1)))
""",
        "temperature missing": """
def info_nce(z1, z2, temperature=0.1):
    logits = F.normalize(z1, dim=-1) @ F.normalize(z2, dim=-1).T
    return F.cross_entropy(logits, torch.arange(len(z1)))
""",
        "dot products, not cosine similarities": """
def info_nce(z1, z2, temperature=0.1):
    return F.cross_entropy(z1 @ z2.T / temperature, torch.arange(len(z1)))
""",
        "temperature multiplies": """
def info_nce(z1, z2, temperature=0.1):
    logits = F.normalize(z1, dim=-1) @ F.normalize(z2, dim=-1).T * temperature
    return F.cross_entropy(logits, torch.arange(len(z1)))
""",
    },
    "clip_loss": {
        "one direction only": """
def clip_loss(image_emb, text_emb, temperature=0.07):
    logits = F.normalize(image_emb, dim=-1) @ F.normalize(text_emb, dim=-1).T / temperature
    return F.cross_entropy(logits, torch.arange(len(image_emb)))
""",
        "both directions summed, not averaged": """
def clip_loss(image_emb, text_emb, temperature=0.07):
    logits = F.normalize(image_emb, dim=-1) @ F.normalize(text_emb, dim=-1).T / temperature
    t = torch.arange(len(image_emb))
    return F.cross_entropy(logits, t) + F.cross_entropy(logits.T, t)
""",
        "temperature missing": """
def clip_loss(image_emb, text_emb, temperature=0.07):
    logits = F.normalize(image_emb, dim=-1) @ F.normalize(text_emb, dim=-1).T
    t = torch.arange(len(image_emb))
    return 0.5 * (F.cross_entropy(logits, t) + F.cross_entropy(logits.T, t))
""",
    },
    "augment_digits": {
        "wrap-around shift (torch.roll)": """
def augment_digits(X, generator, max_shift=1, noise_std=0.05):
    B = X.shape[0]
    shifts = torch.randint(-max_shift, max_shift + 1, (B, 2), generator=generator)
    noise = noise_std * torch.randn(B, 64, generator=generator, dtype=X.dtype)
    images = X.reshape(B, 8, 8)
    out = torch.stack([torch.roll(images[b], (int(shifts[b, 0]), int(shifts[b, 1])), dims=(0, 1)) for b in range(B)])
    return out.reshape(B, 64) + noise
""",
        "shift in the opposite direction": """
def augment_digits(X, generator, max_shift=1, noise_std=0.05):
    B = X.shape[0]
    shifts = -torch.randint(-max_shift, max_shift + 1, (B, 2), generator=generator)
    noise = noise_std * torch.randn(B, 64, generator=generator, dtype=X.dtype)
    images = X.reshape(B, 8, 8)
    out = torch.zeros_like(images)
    for b in range(B):
        dy, dx = int(shifts[b, 0]), int(shifts[b, 1])
        out[b, max(0, dy):8 - max(0, -dy), max(0, dx):8 - max(0, -dx)] = \\
            images[b, max(0, -dy):8 - max(0, dy), max(0, -dx):8 - max(0, dx)]
    return out.reshape(B, 64) + noise
""",
        "noise drawn before the shifts": """
def augment_digits(X, generator, max_shift=1, noise_std=0.05):
    B = X.shape[0]
    noise = noise_std * torch.randn(B, 64, generator=generator, dtype=X.dtype)
    shifts = torch.randint(-max_shift, max_shift + 1, (B, 2), generator=generator)
    images = X.reshape(B, 8, 8)
    out = torch.zeros_like(images)
    for b in range(B):
        dy, dx = int(shifts[b, 0]), int(shifts[b, 1])
        out[b, max(0, dy):8 - max(0, -dy), max(0, dx):8 - max(0, -dx)] = \\
            images[b, max(0, -dy):8 - max(0, dy), max(0, -dx):8 - max(0, dx)]
    return out.reshape(B, 64) + noise
""",
    },
    "maml_inner_step": {
        "create_graph ignored": """
def maml_inner_step(model, params, x, y, inner_lr, create_graph=False):
    loss = ((model(params, x) - y) ** 2).mean()
    grads = torch.autograd.grad(loss, list(params))
    return [p - inner_lr * g for p, g in zip(params, grads)]
""",
        "step up the gradient": """
def maml_inner_step(model, params, x, y, inner_lr, create_graph=False):
    loss = ((model(params, x) - y) ** 2).mean()
    grads = torch.autograd.grad(loss, list(params), create_graph=create_graph)
    return [p + inner_lr * g for p, g in zip(params, grads)]
""",
        "sum of squared errors instead of the mean": """
def maml_inner_step(model, params, x, y, inner_lr, create_graph=False):
    loss = ((model(params, x) - y) ** 2).sum()
    grads = torch.autograd.grad(loss, list(params), create_graph=create_graph)
    return [p - inner_lr * g for p, g in zip(params, grads)]
""",
    },
    "maml_meta_gradient": {
        "second order asked, but the inner step's graph dropped": """
def maml_meta_gradient(model, params, tasks, inner_lr, first_order=False):
    total = [torch.zeros_like(p) for p in params]
    for x_s, y_s, x_q, y_q in tasks:
        adapted = maml_inner_step(model, params, x_s, y_s, inner_lr, create_graph=False)
        grads = torch.autograd.grad(((model(adapted, x_q) - y_q) ** 2).mean(), list(params))
        total = [t + g for t, g in zip(total, grads)]
    return [t / len(tasks) for t in total]
""",
        "first order at the original parameters (inner step forgotten)": """
def maml_meta_gradient(model, params, tasks, inner_lr, first_order=False):
    total = [torch.zeros_like(p) for p in params]
    for x_s, y_s, x_q, y_q in tasks:
        if first_order:
            grads = torch.autograd.grad(((model(params, x_q) - y_q) ** 2).mean(), list(params))
        else:
            adapted = maml_inner_step(model, params, x_s, y_s, inner_lr, create_graph=True)
            grads = torch.autograd.grad(((model(adapted, x_q) - y_q) ** 2).mean(), list(params))
        total = [t + g.detach() for t, g in zip(total, grads)]
    return [t / len(tasks) for t in total]
""",
        "meta-loss on the support set": """
def maml_meta_gradient(model, params, tasks, inner_lr, first_order=False):
    total = [torch.zeros_like(p) for p in params]
    for x_s, y_s, x_q, y_q in tasks:
        adapted = maml_inner_step(model, params, x_s, y_s, inner_lr, create_graph=not first_order)
        if first_order:
            adapted = [a.detach().requires_grad_() for a in adapted]
        grads = torch.autograd.grad(((model(adapted, x_s) - y_s) ** 2).mean(), adapted if first_order else list(params))
        total = [t + g.detach() for t, g in zip(total, grads)]
    return [t / len(tasks) for t in total]
""",
        "summed over tasks": """
def maml_meta_gradient(model, params, tasks, inner_lr, first_order=False):
    total = [torch.zeros_like(p) for p in params]
    for x_s, y_s, x_q, y_q in tasks:
        adapted = maml_inner_step(model, params, x_s, y_s, inner_lr, create_graph=not first_order)
        if first_order:
            adapted = [a.detach().requires_grad_() for a in adapted]
        grads = torch.autograd.grad(((model(adapted, x_q) - y_q) ** 2).mean(), adapted if first_order else list(params))
        total = [t + g.detach() for t, g in zip(total, grads)]
    return total
""",
    },
    "train_fewshot_embedding": {
        "positive distances as logits (trains the wrong way)": _train(
            logits="_bad_logits",
            prelude="\ndef _bad_logits(q, c):\n    return ((q[:, None, :] - c[None, :, :]) ** 2).sum(-1)\n"),
        "returns the output layer (collapsed onto the base classes)": _train(out="head(hidden(images))"),
        "prototypes averaged over the classes": _train(
            protos="_bad_protos", prelude="\ndef _bad_protos(s):\n    return s.mean(0)\n"),
        "raw pixels (nothing learned)": """
def train_fewshot_embedding(X, y, generator):
    return lambda images: images.clone()
""",
    },
    "concept_answers": {
        "squared distances make the classifier quadratic": """
def concept_answers():
    return {"q1": "a", "q2": "c", "q3": "a"}
""",
        "temperature changes nothing after normalization": """
def concept_answers():
    return {"q1": "b", "q2": "a", "q3": "a"}
""",
        "first-order MAML skips the inner step": """
def concept_answers():
    return {"q1": "b", "q2": "c", "q3": "b"}
""",
    },
}

ALTERNATIVES = {
    "sample_episode": {
        "boolean masks and lists": """
def sample_episode(labels, n_way, k_shot, n_query, generator):
    distinct = sorted(set(labels.tolist()))
    order = torch.randperm(len(distinct), generator=generator)[:n_way].tolist()
    classes = [distinct[i] for i in order]
    support, query = [], []
    for c in classes:
        members = [i for i, l in enumerate(labels.tolist()) if l == c]
        perm = torch.randperm(len(members), generator=generator).tolist()[:k_shot + n_query]
        support.append([members[i] for i in perm[:k_shot]])
        query.append([members[i] for i in perm[k_shot:]])
    return (torch.tensor(support, dtype=torch.long).reshape(n_way, k_shot),
            torch.tensor(query, dtype=torch.long).reshape(n_way, n_query), torch.tensor(classes))
""",
    },
    "prototypes": {
        "sum over shots divided by K": """
def prototypes(support):
    return support.sum(1) / support.shape[1]
""",
    },
    "prototype_logits": {
        "expanded: 2 q.c - |q|^2 - |c|^2": """
def prototype_logits(query, protos):
    return 2 * query @ protos.T - (query ** 2).sum(1, keepdim=True) - (protos ** 2).sum(1)
""",
        "cdist squared": """
def prototype_logits(query, protos):
    return -torch.cdist(query, protos) ** 2
""",
    },
    "matching_predict": {
        "loops over queries and support examples": """
def matching_predict(query, support, support_labels, n_way):
    out = torch.zeros(query.shape[0], n_way, dtype=query.dtype)
    for i in range(query.shape[0]):
        sims = torch.stack([F.cosine_similarity(query[i], support[j], dim=0) for j in range(support.shape[0])])
        a = torch.exp(sims - sims.max())
        a = a / a.sum()
        for j in range(support.shape[0]):
            out[i, support_labels[j]] += a[j]
    return out
""",
    },
    "triplet_loss": {
        "relu of the difference": """
def triplet_loss(anchor, positive, negative, margin=1.0):
    return torch.relu((anchor - positive).pow(2).sum(1) - (anchor - negative).pow(2).sum(1) + margin).mean()
""",
    },
    "info_nce": {
        "explicit log-sum-exp": """
def info_nce(z1, z2, temperature=0.1):
    a = z1 / z1.norm(dim=1, keepdim=True)
    b = z2 / z2.norm(dim=1, keepdim=True)
    logits = a @ b.T / temperature
    return (torch.logsumexp(logits, dim=1) - logits.diagonal()).mean()
""",
    },
    "clip_loss": {
        "two InfoNCE calls": """
def clip_loss(image_emb, text_emb, temperature=0.07):
    return (info_nce(image_emb, text_emb, temperature) + info_nce(text_emb, image_emb, temperature)) / 2
""",
    },
    "augment_digits": {
        "vectorized with padding and gather": """
def augment_digits(X, generator, max_shift=1, noise_std=0.05):
    B = X.shape[0]
    shifts = torch.randint(-max_shift, max_shift + 1, (B, 2), generator=generator)
    noise = noise_std * torch.randn(B, 64, generator=generator, dtype=X.dtype)
    s = max_shift
    padded = F.pad(X.reshape(B, 8, 8), (s, s, s, s))
    rows = torch.arange(8)[None, :] - shifts[:, :1] + s
    cols = torch.arange(8)[None, :] - shifts[:, 1:] + s
    out = padded[torch.arange(B)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out.reshape(B, 64) + noise
""",
    },
    "maml_inner_step": {
        "Tensor.sub with alpha": """
def maml_inner_step(model, params, x, y, inner_lr, create_graph=False):
    params = list(params)
    loss = sum(((model(params, x) - y) ** 2).mean() for _ in range(1))
    grads = torch.autograd.grad(loss, params, create_graph=create_graph, retain_graph=True)
    return [p.sub(g, alpha=inner_lr) for p, g in zip(params, grads)]
""",
    },
    "maml_meta_gradient": {
        "one backward pass on the summed meta-loss": """
def maml_meta_gradient(model, params, tasks, inner_lr, first_order=False):
    params = list(params)
    if first_order:
        out = [torch.zeros_like(p) for p in params]
        for x_s, y_s, x_q, y_q in tasks:
            adapted = [a.detach().requires_grad_() for a in maml_inner_step(model, params, x_s, y_s, inner_lr)]
            grads = torch.autograd.grad(((model(adapted, x_q) - y_q) ** 2).mean(), adapted)
            out = [o + g / len(tasks) for o, g in zip(out, grads)]
        return out
    meta = sum(((model(maml_inner_step(model, params, xs, ys, inner_lr, create_graph=True), xq) - yq) ** 2).mean()
               for xs, ys, xq, yq in tasks) / len(tasks)
    return [g.detach() for g in torch.autograd.grad(meta, params)]
""",
    },
    "train_fewshot_embedding": {
        "3-shot episodes, hidden layer plus a scaled output": """
def train_fewshot_embedding(X, y, generator):
    torch.manual_seed(int(torch.randint(2**31 - 1, (1,), generator=generator)))
    net = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 64))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    target = torch.arange(5).repeat_interleave(12)
    for _ in range(200):
        support, query, _ = sample_episode(y, 5, 3, 12, generator)
        emb_s = net(X[support.reshape(-1)]).reshape(5, 3, -1)
        loss = F.cross_entropy(prototype_logits(net(X[query.reshape(-1)]), prototypes(emb_s)), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()

    def embed(images):
        with torch.no_grad():
            h = net[1](net[0](images))
            return torch.cat([h, 0.01 * net[2](h)], dim=1)

    return embed
""",
    },
    "concept_answers": {
        "upper case with spaces": """
def concept_answers():
    return {"q3": " A", "q2": "C ", "q1": "B"}
""",
    },
}

SAMPLE_WRONG = ["triplet_loss", "clip_loss"]


# Automatic mutations of the reference (autograder.mutation) that change nothing the statement fixes.
EQUIVALENT_MUTATIONS = {
    'matching_predict': {
        'sign: `-1` -> `1` in `F.normalize(query, dim=-1)`':
            'the statement fixes these tensors as 2-D (batch, features): axis 1 is the last axis',
        'sign: `-1` -> `1` in `torch.softmax(sims, dim=-1)`':
            'the statement fixes these tensors as 2-D (batch, features): axis 1 is the last axis',
        'sign: `-1` -> `1` in `F.normalize(support, dim=-1)`':
            'the statement fixes these tensors as 2-D (batch, features): axis 1 is the last axis',
    },
    'triplet_loss': {
        'sign: `-1` -> `1` in `((anchor - positive) ** 2).sum(-1)`':
            'the statement fixes these tensors as 2-D (batch, features): axis 1 is the last axis',
        'sign: `-1` -> `1` in `((anchor - negative) ** 2).sum(-1)`':
            'the statement fixes these tensors as 2-D (batch, features): axis 1 is the last axis',
    },
    'info_nce': {
        'sign: `-1` -> `1` in `F.normalize(z1, dim=-1)`':
            'the statement fixes these tensors as 2-D (batch, features): axis 1 is the last axis',
        'sign: `-1` -> `1` in `F.normalize(z2, dim=-1)`':
            'the statement fixes these tensors as 2-D (batch, features): axis 1 is the last axis',
    },
    'clip_loss': {
        'sign: `-1` -> `1` in `F.normalize(text_emb, dim=-1)`':
            'the statement fixes these tensors as 2-D (batch, features): axis 1 is the last axis',
        'sign: `-1` -> `1` in `F.normalize(image_emb, dim=-1)`':
            'the statement fixes these tensors as 2-D (batch, features): axis 1 is the last axis',
    },
}

# Make-it-work tasks, judged on a target (autograder.mutation leaves them to their registered mutants).
JUDGED_ON_A_TARGET = ['train_fewshot_embedding']
