"""Classic wrong answers and correct alternatives for chapter 10 (Embeddings and pretraining)."""

CHAPTER = "10-language-models"

MUTANTS = {
    "log_sigmoid": {
        "log(sigmoid(x)): -inf for very negative x": """
def log_sigmoid(x):
    return torch.log(torch.sigmoid(x))
""",
        "-log(1 + exp(-x)) without log1p or a shift: overflows for very negative x": """
def log_sigmoid(x):
    return -torch.log(1 + torch.exp(-x))
""",
        "x - log(1 + exp(x)): overflows for very positive x": """
def log_sigmoid(x):
    return x - torch.log1p(torch.exp(x))
""",
    },
    "sgns_loss": {
        "log(sigmoid(.)) instead of a stable log-sigmoid": """
def sgns_loss(center, context, negatives):
    pos = (center * context).sum(-1)
    neg = (negatives * center[:, None, :]).sum(-1)
    return -torch.log(torch.sigmoid(pos)) - torch.log(torch.sigmoid(-neg)).sum(-1)
""",
        "negatives pushed the wrong way (log sigmoid(+u_k . v))": """
def sgns_loss(center, context, negatives):
    pos = (center * context).sum(-1)
    neg = (negatives * center[:, None, :]).sum(-1)
    return -log_sigmoid(pos) - log_sigmoid(neg).sum(-1)
""",
        "averages over the negatives instead of summing": """
def sgns_loss(center, context, negatives):
    pos = (center * context).sum(-1)
    neg = (negatives * center[:, None, :]).sum(-1)
    return -log_sigmoid(pos) - log_sigmoid(-neg).mean(-1)
""",
        "returns the batch mean instead of one loss per example": """
def sgns_loss(center, context, negatives):
    pos = (center * context).sum(-1)
    neg = (negatives * center[:, None, :]).sum(-1)
    return (-log_sigmoid(pos) - log_sigmoid(-neg).sum(-1)).mean()
""",
    },
    "sgns_grads": {
        "wrong sign of the negative-sample gradient": """
def sgns_grads(center, context, negatives):
    pos = (center * context).sum(-1)
    neg = (negatives * center[:, None, :]).sum(-1)
    d_pos = torch.sigmoid(pos) - 1.0
    d_neg = -torch.sigmoid(neg)
    grad_center = d_pos[:, None] * context + (d_neg[:, :, None] * negatives).sum(1)
    return grad_center, d_pos[:, None] * center, d_neg[:, :, None] * center[:, None, :]
""",
        "positive term uses 1 - sigmoid (wrong sign)": """
def sgns_grads(center, context, negatives):
    pos = (center * context).sum(-1)
    neg = (negatives * center[:, None, :]).sum(-1)
    d_pos = 1.0 - torch.sigmoid(pos)
    d_neg = torch.sigmoid(neg)
    grad_center = d_pos[:, None] * context + (d_neg[:, :, None] * negatives).sum(1)
    return grad_center, d_pos[:, None] * center, d_neg[:, :, None] * center[:, None, :]
""",
        "center gradient forgets the negatives": """
def sgns_grads(center, context, negatives):
    pos = (center * context).sum(-1)
    neg = (negatives * center[:, None, :]).sum(-1)
    d_pos = torch.sigmoid(pos) - 1.0
    d_neg = torch.sigmoid(neg)
    grad_center = d_pos[:, None] * context
    return grad_center, d_pos[:, None] * center, d_neg[:, :, None] * center[:, None, :]
""",
        "context and center gradients swapped": """
def sgns_grads(center, context, negatives):
    pos = (center * context).sum(-1)
    neg = (negatives * center[:, None, :]).sum(-1)
    d_pos = torch.sigmoid(pos) - 1.0
    d_neg = torch.sigmoid(neg)
    grad_center = d_pos[:, None] * context + (d_neg[:, :, None] * negatives).sum(1)
    return d_pos[:, None] * center, grad_center, d_neg[:, :, None] * center[:, None, :]
""",
        "delegates to torch.autograd (the exercise asks for the formulas)": """
def sgns_grads(center, context, negatives):
    c, o, n = (t.detach().clone().requires_grad_(True) for t in (center, context, negatives))
    F = torch.nn.functional
    loss = (-F.logsigmoid((c * o).sum(-1)) - F.logsigmoid(-(n @ c.unsqueeze(-1)).squeeze(-1)).sum(-1)).sum()
    return tuple(torch.autograd.grad(loss, (c, o, n)))
""",
    },
    "skipgram_pairs": {
        "pairs a token with itself (offset 0 included)": """
def skipgram_pairs(ids, window):
    T = ids.shape[0]
    pos = torch.arange(T)
    dist = (pos[:, None] - pos[None, :]).abs()
    i, j = torch.nonzero(dist <= window, as_tuple=True)
    return torch.stack([ids[i], ids[j]], dim=1)
""",
        "only the right-hand context": """
def skipgram_pairs(ids, window):
    T = ids.shape[0]
    pos = torch.arange(T)
    diff = pos[None, :] - pos[:, None]
    i, j = torch.nonzero((diff >= 1) & (diff <= window), as_tuple=True)
    return torch.stack([ids[i], ids[j]], dim=1)
""",
        "wraps around the ends with torch.roll": """
def skipgram_pairs(ids, window):
    rows = []
    for k in range(1, window + 1):
        rows.append(torch.stack([ids, torch.roll(ids, -k)], dim=1))
        rows.append(torch.stack([ids, torch.roll(ids, k)], dim=1))
    return torch.cat(rows)
""",
        "window off by one (|i - j| < window)": """
def skipgram_pairs(ids, window):
    T = ids.shape[0]
    pos = torch.arange(T)
    dist = (pos[:, None] - pos[None, :]).abs()
    i, j = torch.nonzero((dist >= 1) & (dist < window), as_tuple=True)
    return torch.stack([ids[i], ids[j]], dim=1)
""",
    },
    "analogy": {
        "does not exclude the query words": """
def analogy(embeddings, a, b, c, exclude=True):
    unit = embeddings / embeddings.norm(dim=1, keepdim=True)
    query = embeddings[b] - embeddings[a] + embeddings[c]
    return (query @ unit.T).argmax(dim=1)
""",
        "dot product without normalizing the embeddings": """
def analogy(embeddings, a, b, c, exclude=True):
    query = embeddings[b] - embeddings[a] + embeddings[c]
    sims = query @ embeddings.T
    if exclude:
        rows = torch.arange(len(a))
        for w in (a, b, c):
            sims[rows, w] = -float("inf")
    return sims.argmax(dim=1)
""",
        "wrong direction a - b + c": """
def analogy(embeddings, a, b, c, exclude=True):
    unit = embeddings / embeddings.norm(dim=1, keepdim=True)
    query = embeddings[a] - embeddings[b] + embeddings[c]
    sims = query @ unit.T
    if exclude:
        rows = torch.arange(len(a))
        for w in (a, b, c):
            sims[rows, w] = -float("inf")
    return sims.argmax(dim=1)
""",
        "always excludes, ignoring exclude=False": """
def analogy(embeddings, a, b, c, exclude=True):
    unit = embeddings / embeddings.norm(dim=1, keepdim=True)
    query = embeddings[b] - embeddings[a] + embeddings[c]
    sims = query @ unit.T
    rows = torch.arange(len(a))
    for w in (a, b, c):
        sims[rows, w] = -float("inf")
    return sims.argmax(dim=1)
""",
    },
    "bert_mask": {
        "80/10/10 split applied to every token, not only the selected 15%": """
def bert_mask(ids, mask_id, vocab_size, generator, mask_prob=0.15):
    u = torch.rand(ids.shape, generator=generator)
    r = torch.rand(ids.shape, generator=generator)
    rand_tok = torch.randint(vocab_size, ids.shape, generator=generator)
    selected = u < mask_prob
    out = torch.where(r < 0.8, torch.full_like(ids, mask_id), ids)
    out = torch.where((r >= 0.8) & (r < 0.9), rand_tok, out)
    labels = torch.where(selected, ids, torch.full_like(ids, -100))
    return out, labels
""",
        "labels keep the ids at unselected positions (no -100)": """
def bert_mask(ids, mask_id, vocab_size, generator, mask_prob=0.15):
    u = torch.rand(ids.shape, generator=generator)
    r = torch.rand(ids.shape, generator=generator)
    rand_tok = torch.randint(vocab_size, ids.shape, generator=generator)
    selected = u < mask_prob
    out = torch.where(selected & (r < 0.8), torch.full_like(ids, mask_id), ids)
    out = torch.where(selected & (r >= 0.8) & (r < 0.9), rand_tok, out)
    return out, ids.clone()
""",
        "labels only at the [MASK] positions": """
def bert_mask(ids, mask_id, vocab_size, generator, mask_prob=0.15):
    u = torch.rand(ids.shape, generator=generator)
    r = torch.rand(ids.shape, generator=generator)
    rand_tok = torch.randint(vocab_size, ids.shape, generator=generator)
    selected = u < mask_prob
    to_mask = selected & (r < 0.8)
    out = torch.where(to_mask, torch.full_like(ids, mask_id), ids)
    out = torch.where(selected & (r >= 0.8) & (r < 0.9), rand_tok, out)
    return out, torch.where(to_mask, ids, torch.full_like(ids, -100))
""",
        "random tokens drawn before the split (wrong order of draws)": """
def bert_mask(ids, mask_id, vocab_size, generator, mask_prob=0.15):
    u = torch.rand(ids.shape, generator=generator)
    rand_tok = torch.randint(vocab_size, ids.shape, generator=generator)
    r = torch.rand(ids.shape, generator=generator)
    selected = u < mask_prob
    out = torch.where(selected & (r < 0.8), torch.full_like(ids, mask_id), ids)
    out = torch.where(selected & (r >= 0.8) & (r < 0.9), rand_tok, out)
    return out, torch.where(selected, ids, torch.full_like(ids, -100))
""",
        "corrupts ids in place": """
def bert_mask(ids, mask_id, vocab_size, generator, mask_prob=0.15):
    u = torch.rand(ids.shape, generator=generator)
    r = torch.rand(ids.shape, generator=generator)
    rand_tok = torch.randint(vocab_size, ids.shape, generator=generator)
    selected = u < mask_prob
    labels = torch.where(selected, ids, torch.full_like(ids, -100))
    ids[selected & (r < 0.8)] = mask_id
    random_pos = selected & (r >= 0.8) & (r < 0.9)
    ids[random_pos] = rand_tok[random_pos]
    return ids, labels
""",
    },
    "next_token_loss": {
        "no shift: logits at t scored against ids[t]": """
def next_token_loss(logits, ids, pad_id=None):
    logp = torch.log_softmax(logits, dim=-1)
    nll = -logp.gather(-1, ids.unsqueeze(-1)).squeeze(-1)
    if pad_id is None:
        return nll.mean()
    keep = (ids != pad_id).to(nll.dtype)
    return (nll * keep).sum() / keep.sum()
""",
        "padding targets counted in the mean": """
def next_token_loss(logits, ids, pad_id=None):
    logp = torch.log_softmax(logits[:, :-1], dim=-1)
    nll = -logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return nll.mean()
""",
        "shift in the wrong direction (logits[:, 1:] against ids[:, :-1])": """
def next_token_loss(logits, ids, pad_id=None):
    logp = torch.log_softmax(logits[:, 1:], dim=-1)
    target = ids[:, :-1]
    nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    if pad_id is None:
        return nll.mean()
    keep = (target != pad_id).to(nll.dtype)
    return (nll * keep).sum() / keep.sum()
""",
        "mean of per-sequence means": """
def next_token_loss(logits, ids, pad_id=None):
    logp = torch.log_softmax(logits[:, :-1], dim=-1)
    target = ids[:, 1:]
    nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    keep = torch.ones_like(nll) if pad_id is None else (target != pad_id).to(nll.dtype)
    return ((nll * keep).sum(1) / keep.sum(1)).mean()
""",
        "log of softmax without log-sum-exp": """
def next_token_loss(logits, ids, pad_id=None):
    p = torch.exp(logits[:, :-1]) / torch.exp(logits[:, :-1]).sum(-1, keepdim=True)
    target = ids[:, 1:]
    nll = -torch.log(p.gather(-1, target.unsqueeze(-1)).squeeze(-1))
    keep = torch.ones_like(nll) if pad_id is None else (target != pad_id).to(nll.dtype)
    return (nll * keep).sum() / keep.sum()
""",
    },
    "perplexity": {
        "exp of the summed NLL": """
def perplexity(token_nll, mask):
    return torch.exp((token_nll * mask).sum())
""",
        "averages over padding too": """
def perplexity(token_nll, mask):
    return torch.exp(token_nll.mean())
""",
        "mean of per-sequence perplexities": """
def perplexity(token_nll, mask):
    m = mask.to(token_nll.dtype)
    return torch.exp((token_nll * m).sum(1) / m.sum(1)).mean()
""",
        "mean NLL without the exp": """
def perplexity(token_nll, mask):
    m = mask.to(token_nll.dtype)
    return (token_nll * m).sum() / m.sum()
""",
    },
    "sgns_score_grads": {
        "positive derivative with the wrong sign (1 - sigmoid)": """
def sgns_score_grads(center, context, negatives):
    pos = (center * context).sum(-1)
    neg = (negatives * center[:, None, :]).sum(-1)
    return 1.0 - torch.sigmoid(pos), torch.sigmoid(neg)
""",
        "negative derivative without the inner minus (sigmoid(-s_k))": """
def sgns_score_grads(center, context, negatives):
    pos = (center * context).sum(-1)
    neg = (negatives * center[:, None, :]).sum(-1)
    return torch.sigmoid(pos) - 1.0, torch.sigmoid(-neg)
""",
        "derivative of sigmoid instead of log-sigmoid": """
def sgns_score_grads(center, context, negatives):
    pos = (center * context).sum(-1)
    neg = (negatives * center[:, None, :]).sum(-1)
    sp, sn = torch.sigmoid(pos), torch.sigmoid(neg)
    return -sp * (1 - sp), sn * (1 - sn)
""",
        "negatives' derivatives summed over k (one number per example)": """
def sgns_score_grads(center, context, negatives):
    pos = (center * context).sum(-1)
    neg = (negatives * center[:, None, :]).sum(-1)
    return torch.sigmoid(pos) - 1.0, torch.sigmoid(neg).sum(-1)
""",
    },
    "train_embeddings": {
        "negatives' gradient with the wrong sign (attraction instead of repulsion)": """
def train_embeddings(sentences, vocab_size, seed, dim=10, window=4, num_negatives=5, lr=10.0, batch_size=512,
                     epochs=4):
    g = torch.Generator().manual_seed(seed)
    pairs = torch.cat([skipgram_pairs(s, window) for s in sentences])
    counts = torch.bincount(torch.cat(list(sentences)), minlength=vocab_size).double()
    noise = counts ** 0.75 / (counts ** 0.75).sum()
    center = 0.1 * torch.randn(vocab_size, dim, generator=g)
    context = 0.1 * torch.randn(vocab_size, dim, generator=g)
    for _ in range(epochs):
        order = torch.randperm(len(pairs), generator=g)
        for start in range(0, len(pairs), batch_size):
            batch = pairs[order[start:start + batch_size]]
            c, o = batch[:, 0], batch[:, 1]
            n = torch.multinomial(noise, len(batch) * num_negatives, replacement=True, generator=g)
            n = n.view(len(batch), num_negatives)
            gc, go, gn = sgns_grads(center[c], context[o], context[n])
            gn = -gn  # the negatives' sign slip: they are pulled in instead of pushed away
            step = lr / len(batch)
            center.index_add_(0, c, -step * gc)
            context.index_add_(0, o, -step * go)
            context.index_add_(0, n.reshape(-1), -step * gn.reshape(-1, dim))
    return center
""",
        "center gradient forgets the negatives": """
def train_embeddings(sentences, vocab_size, seed, dim=10, window=4, num_negatives=5, lr=10.0, batch_size=512,
                     epochs=4):
    g = torch.Generator().manual_seed(seed)
    pairs = torch.cat([skipgram_pairs(s, window) for s in sentences])
    counts = torch.bincount(torch.cat(list(sentences)), minlength=vocab_size).double()
    noise = counts ** 0.75 / (counts ** 0.75).sum()
    center = 0.1 * torch.randn(vocab_size, dim, generator=g)
    context = 0.1 * torch.randn(vocab_size, dim, generator=g)
    for _ in range(epochs):
        order = torch.randperm(len(pairs), generator=g)
        for start in range(0, len(pairs), batch_size):
            batch = pairs[order[start:start + batch_size]]
            c, o = batch[:, 0], batch[:, 1]
            n = torch.multinomial(noise, len(batch) * num_negatives, replacement=True, generator=g)
            n = n.view(len(batch), num_negatives)
            gc, go, gn = sgns_grads(center[c], context[o], context[n])
            d_pos = torch.sigmoid((center[c] * context[o]).sum(-1)) - 1.0
            gc = d_pos[:, None] * context[o]  # the center gradient without the negatives' terms
            step = lr / len(batch)
            center.index_add_(0, c, -step * gc)
            context.index_add_(0, o, -step * go)
            context.index_add_(0, n.reshape(-1), -step * gn.reshape(-1, dim))
    return center
""",
        "gradient ascent": """
def train_embeddings(sentences, vocab_size, seed, dim=10, window=4, num_negatives=5, lr=10.0, batch_size=512,
                     epochs=4):
    g = torch.Generator().manual_seed(seed)
    pairs = torch.cat([skipgram_pairs(s, window) for s in sentences])
    counts = torch.bincount(torch.cat(list(sentences)), minlength=vocab_size).double()
    noise = counts ** 0.75 / (counts ** 0.75).sum()
    center = 0.1 * torch.randn(vocab_size, dim, generator=g)
    context = 0.1 * torch.randn(vocab_size, dim, generator=g)
    for _ in range(epochs):
        order = torch.randperm(len(pairs), generator=g)
        for start in range(0, len(pairs), batch_size):
            batch = pairs[order[start:start + batch_size]]
            c, o = batch[:, 0], batch[:, 1]
            n = torch.multinomial(noise, len(batch) * num_negatives, replacement=True, generator=g)
            n = n.view(len(batch), num_negatives)
            gc, go, gn = sgns_grads(center[c], context[o], context[n])
            step = lr / len(batch)
            center.index_add_(0, c, step * gc)
            context.index_add_(0, o, step * go)
            context.index_add_(0, n.reshape(-1), step * gn.reshape(-1, dim))
    return center
""",
        "negatives' gradients applied to the center vectors": """
def train_embeddings(sentences, vocab_size, seed, dim=10, window=4, num_negatives=5, lr=10.0, batch_size=512,
                     epochs=4):
    g = torch.Generator().manual_seed(seed)
    pairs = torch.cat([skipgram_pairs(s, window) for s in sentences])
    counts = torch.bincount(torch.cat(list(sentences)), minlength=vocab_size).double()
    noise = counts ** 0.75 / (counts ** 0.75).sum()
    center = 0.1 * torch.randn(vocab_size, dim, generator=g)
    context = 0.1 * torch.randn(vocab_size, dim, generator=g)
    for _ in range(epochs):
        order = torch.randperm(len(pairs), generator=g)
        for start in range(0, len(pairs), batch_size):
            batch = pairs[order[start:start + batch_size]]
            c, o = batch[:, 0], batch[:, 1]
            n = torch.multinomial(noise, len(batch) * num_negatives, replacement=True, generator=g)
            n = n.view(len(batch), num_negatives)
            gc, go, gn = sgns_grads(center[c], context[o], context[n])
            step = lr / len(batch)
            center.index_add_(0, c, -step * gc)
            context.index_add_(0, o, -step * go)
            center.index_add_(0, n.reshape(-1), -step * gn.reshape(-1, dim))  # negatives sent to the wrong table
    return center
""",
    },
    "negatives_answer": {
        "a: exact softmax": """
def negatives_answer():
    return "a"
""",
        "c: weight decay": """
def negatives_answer():
    return "c"
""",
        "d: zero gradient": """
def negatives_answer():
    return "d"
""",
    },
    "subsampling_answer": {
        "a: longer vectors": """
def subsampling_answer():
    return "a"
""",
        "b: overflow": """
def subsampling_answer():
    return "b"
""",
        "d: uniform noise": """
def subsampling_answer():
    return "d"
""",
    },
    "perplexity_meaning_answer": {
        "b: accuracy 1/4": """
def perplexity_meaning_answer():
    return "b"
""",
        "c: the loss itself": """
def perplexity_meaning_answer():
    return "c"
""",
        "d: a ratio to the uniform model": """
def perplexity_meaning_answer():
    return "d"
""",
    },
}

ALTERNATIVES = {
    "log_sigmoid": {
        "torch.nn.functional.logsigmoid": """
def log_sigmoid(x):
    return torch.nn.functional.logsigmoid(x)
""",
        "minus softplus of -x": """
def log_sigmoid(x):
    return -torch.nn.functional.softplus(-x)
""",
        "two branches with torch.where": """
def log_sigmoid(x):
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, -torch.log1p(e), x - torch.log1p(e))
""",
    },
    "sgns_loss": {
        "binary cross-entropy with logits": """
def sgns_loss(center, context, negatives):
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    pos = (center * context).sum(-1)
    neg = torch.bmm(negatives, center.unsqueeze(-1)).squeeze(-1)
    lp = bce(pos, torch.ones_like(pos), reduction="none")
    ln = bce(neg, torch.zeros_like(neg), reduction="none").sum(-1)
    return lp + ln
""",
        "a loop over the examples with F.logsigmoid": """
def sgns_loss(center, context, negatives):
    out = []
    for v, u, n in zip(center, context, negatives):
        out.append(-torch.nn.functional.logsigmoid(u @ v) - torch.nn.functional.logsigmoid(-(n @ v)).sum())
    return torch.stack(out)
""",
    },
    "sgns_grads": {
        "written with sigmoid(-s_o) and bmm": """
def sgns_grads(center, context, negatives):
    s_o = (center * context).sum(-1, keepdim=True)
    s_k = torch.bmm(negatives, center.unsqueeze(-1))  # (B, K, 1)
    g_o = -torch.sigmoid(-s_o)
    g_k = torch.sigmoid(s_k)
    grad_center = g_o * context + torch.bmm(g_k.transpose(1, 2), negatives).squeeze(1)
    return grad_center, g_o * center, g_k * center.unsqueeze(1)
""",
    },
    "skipgram_pairs": {
        "double loop over positions": """
def skipgram_pairs(ids, window):
    rows = []
    T = len(ids)
    for i in range(T):
        for j in range(max(0, i - window), min(T, i + window + 1)):
            if j != i:
                rows.append([int(ids[i]), int(ids[j])])
    return torch.tensor(rows, dtype=torch.int64).reshape(-1, 2)
""",
        "one slice per offset (a different order)": """
def skipgram_pairs(ids, window):
    parts = [torch.zeros(0, 2, dtype=torch.int64)]
    for k in range(1, window + 1):
        if k < len(ids):
            parts.append(torch.stack([ids[:-k], ids[k:]], dim=1))
            parts.append(torch.stack([ids[k:], ids[:-k]], dim=1))
    return torch.cat(parts)
""",
    },
    "analogy": {
        "loop with F.cosine_similarity": """
def analogy(embeddings, a, b, c, exclude=True):
    out = []
    for qa, qb, qc in zip(a.tolist(), b.tolist(), c.tolist()):
        q = embeddings[qb] - embeddings[qa] + embeddings[qc]
        sims = torch.nn.functional.cosine_similarity(embeddings, q.unsqueeze(0), dim=1)
        if exclude:
            sims[[qa, qb, qc]] = -2.0
        out.append(int(sims.argmax()))
    return torch.tensor(out, dtype=torch.int64)
""",
        "unnormalized query (same argmax), masked_fill": """
def analogy(embeddings, a, b, c, exclude=True):
    unit = embeddings / torch.linalg.vector_norm(embeddings, dim=1, keepdim=True)
    query = embeddings[b] - embeddings[a] + embeddings[c]
    sims = query @ unit.T
    if exclude:
        V = embeddings.shape[0]
        hit = (torch.arange(V)[None, :] == a[:, None]) | (torch.arange(V)[None, :] == b[:, None]) \\
            | (torch.arange(V)[None, :] == c[:, None])
        sims = sims.masked_fill(hit, -float("inf"))
    return sims.argmax(dim=1)
""",
    },
    "bert_mask": {
        "clone and boolean-index assignment": """
def bert_mask(ids, mask_id, vocab_size, generator, mask_prob=0.15):
    u = torch.rand(ids.shape, generator=generator)
    r = torch.rand(ids.shape, generator=generator)
    rand_tok = torch.randint(vocab_size, ids.shape, generator=generator)
    selected = u < mask_prob
    out = ids.clone()
    out[selected & (r < 0.8)] = mask_id
    pick = selected & (r >= 0.8) & (r < 0.9)
    out[pick] = rand_tok[pick]
    labels = torch.full_like(ids, -100)
    labels[selected] = ids[selected]
    return out, labels
""",
        "a loop over the flattened positions": """
def bert_mask(ids, mask_id, vocab_size, generator, mask_prob=0.15):
    u = torch.rand(ids.shape, generator=generator).flatten().tolist()
    r = torch.rand(ids.shape, generator=generator).flatten().tolist()
    rand_tok = torch.randint(vocab_size, ids.shape, generator=generator).flatten().tolist()
    flat = ids.flatten().tolist()
    out, labels = [], []
    for tok, ui, ri, ti in zip(flat, u, r, rand_tok):
        if ui < mask_prob:
            labels.append(tok)
            out.append(mask_id if ri < 0.8 else (ti if ri < 0.9 else tok))
        else:
            labels.append(-100)
            out.append(tok)
    return torch.tensor(out).reshape(ids.shape), torch.tensor(labels).reshape(ids.shape)
""",
    },
    "next_token_loss": {
        "F.cross_entropy with ignore_index": """
def next_token_loss(logits, ids, pad_id=None):
    target = ids[:, 1:].clone()
    if pad_id is not None:
        target[target == pad_id] = -100
    V = logits.shape[-1]
    return torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, V), target.reshape(-1), ignore_index=-100)
""",
        "logsumexp and boolean selection": """
def next_token_loss(logits, ids, pad_id=None):
    lg = logits[:, :-1]
    target = ids[:, 1:]
    nll = torch.logsumexp(lg, dim=-1) - lg.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    if pad_id is not None:
        nll = nll[target != pad_id]
    return nll.mean()
""",
    },
    "perplexity": {
        "masked_select then mean": """
def perplexity(token_nll, mask):
    return torch.exp(torch.masked_select(token_nll, mask).mean())
""",
        "geometric mean of the per-token perplexities": """
def perplexity(token_nll, mask):
    vals = token_nll[mask]
    return torch.exp(vals).log().mean().exp()
""",
    },
}

ALTERNATIVES["sgns_score_grads"] = {
    "sigmoid(-s) written out, bmm for the negative scores": """
def sgns_score_grads(center, context, negatives):
    s_o = (center * context).sum(-1)
    s_k = torch.bmm(negatives, center.unsqueeze(-1)).squeeze(-1)
    return -1.0 / (1.0 + torch.exp(s_o)), 1.0 / (1.0 + torch.exp(-s_k))
""",
}
ALTERNATIVES["train_embeddings"] = {
    "summed per-pair steps in float64, loops for the pairs and the counts": """
def train_embeddings(sentences, vocab_size, seed, dim=12, window=4, num_negatives=5, lr=0.05, batch_size=256,
                     epochs=3):
    # per-pair sums (not means) with a small rate, float64 tables, pairs built with a double loop
    g = torch.Generator().manual_seed(seed)
    rows = []
    for s in sentences:
        for i in range(len(s)):
            for j in range(max(0, i - window), min(len(s), i + window + 1)):
                if i != j:
                    rows.append((int(s[i]), int(s[j])))
    pairs = torch.tensor(rows)
    counts = torch.zeros(vocab_size, dtype=torch.float64)
    for s in sentences:
        counts.index_add_(0, s, torch.ones(len(s), dtype=torch.float64))
    noise = counts.pow(0.75)
    center = 0.1 * torch.randn(vocab_size, dim, generator=g, dtype=torch.float64)
    context = 0.1 * torch.randn(vocab_size, dim, generator=g, dtype=torch.float64)
    for _ in range(epochs):
        order = torch.randperm(len(pairs), generator=g)
        for start in range(0, len(pairs), batch_size):
            c, o = pairs[order[start:start + batch_size]].T
            n = torch.multinomial(noise, len(c) * num_negatives, replacement=True, generator=g).view(len(c), -1)
            gc, go, gn = sgns_grads(center[c], context[o], context[n])
            center.index_add_(0, c, -lr * gc)
            context.index_add_(0, o, -lr * go)
            context.index_add_(0, n.flatten(), -lr * gn.flatten(0, 1))
    return center
""",
}
ALTERNATIVES["negatives_answer"] = {"upper case": """
def negatives_answer():
    return "B"
"""}
ALTERNATIVES["subsampling_answer"] = {"with spaces": """
def subsampling_answer():
    return " c "
"""}
ALTERNATIVES["perplexity_meaning_answer"] = {"upper case": """
def perplexity_meaning_answer():
    return "A"
"""}

SAMPLE_WRONG = ["bert_mask", "perplexity"]  # leaves: no other test calls them

# Mechanical mutations of the reference (autograder.mutation) that no input the statement allows can tell
# apart from it, with the reason.
_LAST_OF_2D = "the statement fixes center and context as (B, D): axis 1 is the last axis"
EQUIVALENT_MUTATIONS = {
    "sgns_loss": {
        "sign: `-1` -> `1` in `log_sigmoid(-neg).sum(-1)`": "the negative scores are (B, K): axis 1 is the last axis",
        "sign: `-1` -> `1` in `(center * context).sum(-1)`": _LAST_OF_2D,
    },
    "sgns_score_grads": {
        "sign: `-1` -> `1` in `(center * context).sum(-1)`": _LAST_OF_2D,
    },
}

JUDGED_ON_A_TARGET = ['train_embeddings']
