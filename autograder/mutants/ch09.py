"""Classic wrong answers and correct alternatives for chapter 09 (attention and the Transformer)."""

CHAPTER = "09-attention-and-transformers"

MUTANTS = {
    "masked_softmax": {
        "mask applied after the softmax (zeroes probabilities without renormalizing)": """
def masked_softmax(scores, mask=None):
    p = torch.softmax(scores, dim=-1)
    if mask is None:
        return p
    return p * mask
""",
        "softmax over the wrong axis": """
def masked_softmax(scores, mask=None):
    if mask is None:
        mask = torch.ones_like(scores, dtype=torch.bool)
    z = scores.masked_fill(~mask, float("-inf"))
    p = torch.softmax(z, dim=0)
    return torch.nan_to_num(p, nan=0.0)
""",
        "no max shift (overflows for large scores)": """
def masked_softmax(scores, mask=None):
    if mask is None:
        mask = torch.ones_like(scores, dtype=torch.bool)
    e = torch.exp(scores) * mask
    total = e.sum(dim=-1, keepdim=True)
    return e / torch.where(total > 0, total, torch.ones_like(total))
""",
        "fully masked rows give NaN": """
def masked_softmax(scores, mask=None):
    if mask is None:
        return torch.softmax(scores, dim=-1)
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
""",
    },
    "scaled_dot_product_attention": {
        "missing the 1/sqrt(d) scale": """
def scaled_dot_product_attention(q, k, v, mask=None, causal=False):
    scores = q @ k.transpose(-2, -1)
    keep = mask
    if causal:
        tri = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
        keep = tri if keep is None else keep & tri
    p = masked_softmax(scores, keep)
    return p @ v, p
""",
        "mask applied after the softmax (no renormalization)": """
def scaled_dot_product_attention(q, k, v, mask=None, causal=False):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    p = torch.softmax(scores, dim=-1)
    if causal:
        p = p * torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
    if mask is not None:
        p = p * mask
    return p @ v, p
""",
        "causal mask reversed (i attends to j >= i)": """
def scaled_dot_product_attention(q, k, v, mask=None, causal=False):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    keep = mask
    if causal:
        tri = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).triu()
        keep = tri if keep is None else keep & tri
    p = masked_softmax(scores, keep)
    return p @ v, p
""",
        "softmax over the queries (wrong axis)": """
def scaled_dot_product_attention(q, k, v, mask=None, causal=False):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    keep = torch.ones_like(scores, dtype=torch.bool)
    if mask is not None:
        keep = keep & mask
    if causal:
        keep = keep & torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
    p = torch.softmax(scores.masked_fill(~keep, float("-inf")), dim=-2)
    p = torch.nan_to_num(p, nan=0.0)
    return p @ v, p
""",
        "mask convention inverted (True = mask out)": """
def scaled_dot_product_attention(q, k, v, mask=None, causal=False):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    keep = None if mask is None else ~mask
    if causal:
        tri = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
        keep = tri if keep is None else keep & tri
    p = masked_softmax(scores, keep)
    return p @ v, p
""",
    },
    "row_softmax_backward": {
        "no normalization term (elementwise softmax: ds = p * dp)": """
def row_softmax_backward(p, dp):
    return p * dp
""",
        "diagonal of the Jacobian only (ds = p (1 - p) dp)": """
def row_softmax_backward(p, dp):
    return p * (1 - p) * dp
""",
        "row sum over the wrong axis": """
def row_softmax_backward(p, dp):
    return p * (dp - (p * dp).sum(dim=0, keepdim=True))
""",
        "subtracts the plain sum of dp (forgets the weights p)": """
def row_softmax_backward(p, dp):
    return p * (dp - dp.sum(dim=-1, keepdim=True))
""",
    },
    "attention_backward": {
        "no softmax-Jacobian correction (dS = P * dP)": """
def attention_backward(dout, cache):
    q, k, v, p = cache
    scale = 1.0 / math.sqrt(q.shape[-1])
    dv = p.transpose(-2, -1) @ dout
    ds = p * (dout @ v.transpose(-2, -1))
    return ds @ k * scale, ds.transpose(-2, -1) @ q * scale, dv
""",
        "forgets the 1/sqrt(d) in dq and dk": """
def attention_backward(dout, cache):
    q, k, v, p = cache
    dv = p.transpose(-2, -1) @ dout
    dp = dout @ v.transpose(-2, -1)
    ds = p * (dp - (p * dp).sum(dim=-1, keepdim=True))
    return ds @ k, ds.transpose(-2, -1) @ q, dv
""",
        "dv = p @ dout (p not transposed)": """
def attention_backward(dout, cache):
    q, k, v, p = cache
    scale = 1.0 / math.sqrt(q.shape[-1])
    dv = p @ dout
    dp = dout @ v.transpose(-2, -1)
    ds = p * (dp - (p * dp).sum(dim=-1, keepdim=True))
    return ds @ k * scale, ds.transpose(-2, -1) @ q * scale, dv
""",
        "dk = ds @ q (ds not transposed)": """
def attention_backward(dout, cache):
    q, k, v, p = cache
    scale = 1.0 / math.sqrt(q.shape[-1])
    dv = p.transpose(-2, -1) @ dout
    dp = dout @ v.transpose(-2, -1)
    ds = p * (dp - (p * dp).sum(dim=-1, keepdim=True))
    return ds @ k * scale, ds @ q * scale, dv
""",
        "Jacobian row sum over the queries (wrong axis)": """
def attention_backward(dout, cache):
    q, k, v, p = cache
    scale = 1.0 / math.sqrt(q.shape[-1])
    dv = p.transpose(-2, -1) @ dout
    dp = dout @ v.transpose(-2, -1)
    ds = p * (dp - (p * dp).sum(dim=-2, keepdim=True))
    return ds @ k * scale, ds.transpose(-2, -1) @ q * scale, dv
""",
        "delegates to autograd on a re-run of the forward (the exercise is the backward by hand)": """
def attention_backward(dout, cache):
    q, k, v, p = cache
    with torch.enable_grad():
        qr, kr, vr = (t.detach().clone().requires_grad_() for t in (q, k, v))
        s = qr @ kr.transpose(-2, -1) / math.sqrt(q.shape[-1])
        logp = torch.where(p > 0, s, torch.full_like(s, float("-inf")))
        pr = torch.nan_to_num(torch.softmax(logp, dim=-1), nan=0.0)
        out = pr @ vr
        return torch.autograd.grad(out, (qr, kr, vr), dout)
""",
    },
    "multi_head_attention": {
        "splits heads with a reshape to (B, H, L, dh), no transpose": """
def multi_head_attention(query, key, value, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias,
                         num_heads, mask=None, causal=False):
    b, lq, e = query.shape
    lk = key.shape[1]
    dh = e // num_heads
    wq, wk, wv = in_proj_weight.chunk(3, dim=0)
    bq, bk, bv = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
    q = F.linear(query, wq, bq).reshape(b, num_heads, lq, dh)
    k = F.linear(key, wk, bk).reshape(b, num_heads, lk, dh)
    v = F.linear(value, wv, bv).reshape(b, num_heads, lk, dh)
    out, p = scaled_dot_product_attention(q, k, v, mask, causal)
    return F.linear(out.reshape(b, lq, e), out_proj_weight, out_proj_bias), p
""",
        "scales by 1/sqrt(E) instead of 1/sqrt(head width)": """
def multi_head_attention(query, key, value, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias,
                         num_heads, mask=None, causal=False):
    b, lq, e = query.shape
    lk = key.shape[1]
    dh = e // num_heads
    wq, wk, wv = in_proj_weight.chunk(3, dim=0)
    bq, bk, bv = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
    q = F.linear(query, wq, bq).reshape(b, lq, num_heads, dh).transpose(1, 2)
    k = F.linear(key, wk, bk).reshape(b, lk, num_heads, dh).transpose(1, 2)
    v = F.linear(value, wv, bv).reshape(b, lk, num_heads, dh).transpose(1, 2)
    q = q * math.sqrt(dh) / math.sqrt(e)
    out, p = scaled_dot_product_attention(q, k, v, mask, causal)
    out = out.transpose(1, 2).reshape(b, lq, e)
    return F.linear(out, out_proj_weight, out_proj_bias), p
""",
        "output projection not transposed (z @ W_out)": """
def multi_head_attention(query, key, value, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias,
                         num_heads, mask=None, causal=False):
    b, lq, e = query.shape
    lk = key.shape[1]
    dh = e // num_heads
    wq, wk, wv = in_proj_weight.chunk(3, dim=0)
    bq, bk, bv = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
    q = F.linear(query, wq, bq).reshape(b, lq, num_heads, dh).transpose(1, 2)
    k = F.linear(key, wk, bk).reshape(b, lk, num_heads, dh).transpose(1, 2)
    v = F.linear(value, wv, bv).reshape(b, lk, num_heads, dh).transpose(1, 2)
    out, p = scaled_dot_product_attention(q, k, v, mask, causal)
    out = out.transpose(1, 2).reshape(b, lq, e) @ out_proj_weight
    if out_proj_bias is not None:
        out = out + out_proj_bias
    return out, p
""",
        "W_q and W_k swapped": """
def multi_head_attention(query, key, value, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias,
                         num_heads, mask=None, causal=False):
    b, lq, e = query.shape
    lk = key.shape[1]
    dh = e // num_heads
    wk, wq, wv = in_proj_weight.chunk(3, dim=0)
    bk, bq, bv = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
    q = F.linear(query, wq, bq).reshape(b, lq, num_heads, dh).transpose(1, 2)
    k = F.linear(key, wk, bk).reshape(b, lk, num_heads, dh).transpose(1, 2)
    v = F.linear(value, wv, bv).reshape(b, lk, num_heads, dh).transpose(1, 2)
    out, p = scaled_dot_product_attention(q, k, v, mask, causal)
    out = out.transpose(1, 2).reshape(b, lq, e)
    return F.linear(out, out_proj_weight, out_proj_bias), p
""",
    },
    "sinusoidal_positions": {
        "sin and cos swapped": """
def sinusoidal_positions(length, d_model, dtype=torch.float32, device=None):
    t = torch.arange(length, dtype=torch.float64)[:, None]
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)
    angle = t / 10000.0 ** (two_i / d_model)
    pe = torch.zeros(length, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.cos(angle)
    pe[:, 1::2] = torch.sin(angle[:, : d_model // 2])
    return pe.to(dtype=dtype, device=device)
""",
        "all sines first, then all cosines (not interleaved)": """
def sinusoidal_positions(length, d_model, dtype=torch.float32, device=None):
    t = torch.arange(length, dtype=torch.float64)[:, None]
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)
    angle = t / 10000.0 ** (two_i / d_model)
    pe = torch.cat([torch.sin(angle), torch.cos(angle[:, : d_model // 2])], dim=1)
    return pe.to(dtype=dtype, device=device)
""",
        "odd columns use the exponent (2i+1)/d": """
def sinusoidal_positions(length, d_model, dtype=torch.float32, device=None):
    t = torch.arange(length, dtype=torch.float64)[:, None]
    j = torch.arange(d_model, dtype=torch.float64)
    angle = t / 10000.0 ** (j / d_model)
    pe = torch.where(j.long() % 2 == 0, torch.sin(angle), torch.cos(angle))
    return pe.to(dtype=dtype, device=device)
""",
        "exponent i/d instead of 2i/d": """
def sinusoidal_positions(length, d_model, dtype=torch.float32, device=None):
    t = torch.arange(length, dtype=torch.float64)[:, None]
    i = torch.arange(0, (d_model + 1) // 2, dtype=torch.float64)
    angle = t / 10000.0 ** (i / d_model)
    pe = torch.zeros(length, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return pe.to(dtype=dtype, device=device)
""",
    },
    "transformer_block": {
        "post-norm (LN after the residual sum)": """
def transformer_block(x, params, num_heads, mask=None, causal=False, eps=1e-5):
    e = x.shape[-1]
    a, _ = multi_head_attention(x, x, x, params["self_attn.in_proj_weight"], params["self_attn.in_proj_bias"],
                                params["self_attn.out_proj.weight"], params["self_attn.out_proj.bias"],
                                num_heads, mask, causal)
    h = F.layer_norm(x + a, (e,), params["norm1.weight"], params["norm1.bias"], eps)
    ff = F.linear(torch.relu(F.linear(h, params["linear1.weight"], params["linear1.bias"])),
                  params["linear2.weight"], params["linear2.bias"])
    return F.layer_norm(h + ff, (e,), params["norm2.weight"], params["norm2.bias"], eps)
""",
        "residual adds the normalized input LN(x)": """
def transformer_block(x, params, num_heads, mask=None, causal=False, eps=1e-5):
    e = x.shape[-1]
    z = F.layer_norm(x, (e,), params["norm1.weight"], params["norm1.bias"], eps)
    a, _ = multi_head_attention(z, z, z, params["self_attn.in_proj_weight"], params["self_attn.in_proj_bias"],
                                params["self_attn.out_proj.weight"], params["self_attn.out_proj.bias"],
                                num_heads, mask, causal)
    h = z + a
    z = F.layer_norm(h, (e,), params["norm2.weight"], params["norm2.bias"], eps)
    ff = F.linear(torch.relu(F.linear(z, params["linear1.weight"], params["linear1.bias"])),
                  params["linear2.weight"], params["linear2.bias"])
    return z + ff
""",
        "no ReLU in the feed-forward network": """
def transformer_block(x, params, num_heads, mask=None, causal=False, eps=1e-5):
    e = x.shape[-1]
    z = F.layer_norm(x, (e,), params["norm1.weight"], params["norm1.bias"], eps)
    a, _ = multi_head_attention(z, z, z, params["self_attn.in_proj_weight"], params["self_attn.in_proj_bias"],
                                params["self_attn.out_proj.weight"], params["self_attn.out_proj.bias"],
                                num_heads, mask, causal)
    h = x + a
    z = F.layer_norm(h, (e,), params["norm2.weight"], params["norm2.bias"], eps)
    ff = F.linear(F.linear(z, params["linear1.weight"], params["linear1.bias"]),
                  params["linear2.weight"], params["linear2.bias"])
    return h + ff
""",
        "reuses norm1's parameters for the second LayerNorm": """
def transformer_block(x, params, num_heads, mask=None, causal=False, eps=1e-5):
    e = x.shape[-1]
    z = F.layer_norm(x, (e,), params["norm1.weight"], params["norm1.bias"], eps)
    a, _ = multi_head_attention(z, z, z, params["self_attn.in_proj_weight"], params["self_attn.in_proj_bias"],
                                params["self_attn.out_proj.weight"], params["self_attn.out_proj.bias"],
                                num_heads, mask, causal)
    h = x + a
    z = F.layer_norm(h, (e,), params["norm1.weight"], params["norm1.bias"], eps)
    ff = F.linear(torch.relu(F.linear(z, params["linear1.weight"], params["linear1.bias"])),
                  params["linear2.weight"], params["linear2.bias"])
    return h + ff
""",
        "ignores the causal flag": """
def transformer_block(x, params, num_heads, mask=None, causal=False, eps=1e-5):
    e = x.shape[-1]
    z = F.layer_norm(x, (e,), params["norm1.weight"], params["norm1.bias"], eps)
    a, _ = multi_head_attention(z, z, z, params["self_attn.in_proj_weight"], params["self_attn.in_proj_bias"],
                                params["self_attn.out_proj.weight"], params["self_attn.out_proj.bias"],
                                num_heads, mask)
    h = x + a
    z = F.layer_norm(h, (e,), params["norm2.weight"], params["norm2.bias"], eps)
    ff = F.linear(torch.relu(F.linear(z, params["linear1.weight"], params["linear1.bias"])),
                  params["linear2.weight"], params["linear2.bias"])
    return h + ff
""",
    },
    "gaussian_kernel_attention": {
        "plain dot-product scores q.k / sigma^2 (drops the -|k|^2/2 term)": """
def gaussian_kernel_attention(q, k, v, sigma):
    return torch.softmax(q @ k.transpose(-2, -1) / sigma ** 2, dim=-1) @ v
""",
        "divides by 2 sigma instead of 2 sigma^2": """
def gaussian_kernel_attention(q, k, v, sigma):
    d2 = ((q.unsqueeze(-2) - k.unsqueeze(-3)) ** 2).sum(dim=-1)
    return torch.softmax(-d2 / (2 * sigma), dim=-1) @ v
""",
        "naive exp / sum (0/0 for a far query)": """
def gaussian_kernel_attention(q, k, v, sigma):
    d2 = ((q.unsqueeze(-2) - k.unsqueeze(-3)) ** 2).sum(dim=-1)
    w = torch.exp(-d2 / (2 * sigma ** 2))
    return w / w.sum(dim=-1, keepdim=True) @ v
""",
        "normalizes over the queries": """
def gaussian_kernel_attention(q, k, v, sigma):
    d2 = ((q.unsqueeze(-2) - k.unsqueeze(-3)) ** 2).sum(dim=-1)
    return torch.softmax(-d2 / (2 * sigma ** 2), dim=-2) @ v
""",
        "distance instead of squared distance": """
def gaussian_kernel_attention(q, k, v, sigma):
    d = ((q.unsqueeze(-2) - k.unsqueeze(-3)) ** 2).sum(dim=-1).sqrt()
    return torch.softmax(-d / (2 * sigma ** 2), dim=-1) @ v
""",
    },
    "train_reverser": {
        "trained through an attention without the 1/sqrt(d) scale": """
def train_reverser(train_tokens, seed, steps=150, lr=3e-3, batch_size=64):
    g = torch.Generator().manual_seed(seed)
    params = init_reverser_params(g)
    opt = torch.optim.Adam(params.values(), lr=lr)
    targets = train_tokens.flip(1)
    e = params["embed"].shape[1]
    dh = e // REVERSER["heads"]

    def unscaled(p):  # scaling the query projection by sqrt(dh) undoes the 1/sqrt(dh) of the scores
        p = dict(p)
        w, b = p["block.self_attn.in_proj_weight"], p["block.self_attn.in_proj_bias"]
        p["block.self_attn.in_proj_weight"] = torch.cat([w[:e] * math.sqrt(dh), w[e:]])
        p["block.self_attn.in_proj_bias"] = torch.cat([b[:e] * math.sqrt(dh), b[e:]])
        return p

    for _ in range(steps):
        idx = torch.randint(0, train_tokens.shape[0], (batch_size,), generator=g)
        logits = reverser_logits(train_tokens[idx], unscaled(params))
        loss = F.cross_entropy(logits.reshape(-1, 8), targets[idx].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {name: t.detach() for name, t in params.items()}
""",
        "trained through an attention whose softmax runs over the queries": """
def train_reverser(train_tokens, seed, steps=150, lr=3e-3, batch_size=64):
    g = torch.Generator().manual_seed(seed)
    params = init_reverser_params(g)
    opt = torch.optim.Adam(params.values(), lr=lr)
    targets = train_tokens.flip(1)
    e, h = params["embed"].shape[1], REVERSER["heads"]

    def logits_of(tokens):
        b, l = tokens.shape
        x = params["embed"][tokens] + sinusoidal_positions(l, e)
        z = F.layer_norm(x, (e,), params["block.norm1.weight"], params["block.norm1.bias"])
        qkv = F.linear(z, params["block.self_attn.in_proj_weight"], params["block.self_attn.in_proj_bias"])
        q, k, v = (t.reshape(b, l, h, e // h).transpose(1, 2) for t in qkv.split(e, dim=-1))
        w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(e // h), dim=-2)
        a = (w @ v).transpose(1, 2).reshape(b, l, e)
        x = x + F.linear(a, params["block.self_attn.out_proj.weight"], params["block.self_attn.out_proj.bias"])
        z = F.layer_norm(x, (e,), params["block.norm2.weight"], params["block.norm2.bias"])
        x = x + F.linear(torch.relu(F.linear(z, params["block.linear1.weight"], params["block.linear1.bias"])),
                         params["block.linear2.weight"], params["block.linear2.bias"])
        return F.linear(x, params["head.weight"], params["head.bias"])

    for _ in range(steps):
        idx = torch.randint(0, train_tokens.shape[0], (batch_size,), generator=g)
        loss = F.cross_entropy(logits_of(train_tokens[idx]).reshape(-1, 8), targets[idx].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {name: t.detach() for name, t in params.items()}
""",
        "forgets the positional encoding": """
def train_reverser(train_tokens, seed, steps=150, lr=3e-3, batch_size=64):
    g = torch.Generator().manual_seed(seed)
    params = init_reverser_params(g)
    opt = torch.optim.Adam(params.values(), lr=lr)
    targets = train_tokens.flip(1)
    block = {name[len("block."):]: t for name, t in params.items() if name.startswith("block.")}
    for _ in range(steps):
        idx = torch.randint(0, train_tokens.shape[0], (batch_size,), generator=g)
        h = transformer_block(params["embed"][train_tokens[idx]], block, REVERSER["heads"])
        logits = F.linear(h, params["head.weight"], params["head.bias"])
        loss = F.cross_entropy(logits.reshape(-1, 8), targets[idx].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {name: t.detach() for name, t in params.items()}
""",
        "a causal mask on a task that must look ahead": """
def train_reverser(train_tokens, seed, steps=150, lr=3e-3, batch_size=64):
    g = torch.Generator().manual_seed(seed)
    params = init_reverser_params(g)
    opt = torch.optim.Adam(params.values(), lr=lr)
    targets = train_tokens.flip(1)
    e = params["embed"].shape[1]
    block = {name[len("block."):]: t for name, t in params.items() if name.startswith("block.")}
    for _ in range(steps):
        idx = torch.randint(0, train_tokens.shape[0], (batch_size,), generator=g)
        x = params["embed"][train_tokens[idx]] + sinusoidal_positions(train_tokens.shape[1], e)
        h = transformer_block(x, block, REVERSER["heads"], causal=True)
        logits = F.linear(h, params["head.weight"], params["head.bias"])
        loss = F.cross_entropy(logits.reshape(-1, 8), targets[idx].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {name: t.detach() for name, t in params.items()}
""",
        "plain SGD at Adam's learning rate (does not get there in the steps given)": """
def train_reverser(train_tokens, seed, steps=150, lr=3e-3, batch_size=64):
    g = torch.Generator().manual_seed(seed)
    params = init_reverser_params(g)
    opt = torch.optim.SGD(params.values(), lr=lr)
    targets = train_tokens.flip(1)
    for _ in range(steps):
        idx = torch.randint(0, train_tokens.shape[0], (batch_size,), generator=g)
        loss = F.cross_entropy(reverser_logits(train_tokens[idx], params).reshape(-1, 8), targets[idx].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {name: t.detach() for name, t in params.items()}
""",
    },
    "scale_answer": {
        "a: the normalization (that is the softmax's job)": """
def scale_answer():
    return "a"
""",
        "b: a cosine similarity": """
def scale_answer():
    return "b"
""",
        "d: cheaper to compute": """
def scale_answer():
    return "d"
""",
    },
    "permutation_answer": {
        "a: invariant instead of equivariant": """
def permutation_answer():
    return "a"
""",
        "c: entirely different": """
def permutation_answer():
    return "c"
""",
        "d: also with a causal mask": """
def permutation_answer():
    return "d"
""",
    },
    "causal_answer": {
        "a: cannot learn": """
def causal_answer():
    return "a"
""",
        "b: NaN": """
def causal_answer():
    return "b"
""",
        "c: nothing changes": """
def causal_answer():
    return "c"
""",
    },
}

ALTERNATIVES = {
    "masked_softmax": {
        "large negative fill and log-sum-exp, explicit fully-masked rows": """
def masked_softmax(scores, mask=None):
    if mask is None:
        return torch.exp(scores - torch.logsumexp(scores, dim=-1, keepdim=True))
    mask = mask.expand(scores.shape)
    z = torch.where(mask, scores, torch.full_like(scores, -1e300 if scores.dtype == torch.float64 else -1e30))
    p = torch.exp(z - torch.logsumexp(z, dim=-1, keepdim=True)) * mask
    return torch.where(mask.any(dim=-1, keepdim=True), p, torch.zeros_like(p))
""",
        "torch.softmax then nan_to_num": """
def masked_softmax(scores, mask=None):
    if mask is None:
        return torch.softmax(scores, dim=-1)
    p = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
    return torch.nan_to_num(p, nan=0.0)
""",
    },
    "scaled_dot_product_attention": {
        "einsum, query-by-query loop, float64 inside": """
def scaled_dot_product_attention(q, k, v, mask=None, causal=False):
    lq, lk = q.shape[-2], k.shape[-2]
    scores = torch.einsum("...id,...jd->...ij", q.double(), k.double()) / q.shape[-1] ** 0.5
    keep = torch.ones(lq, lk, dtype=torch.bool)
    if causal:
        for i in range(lq):
            keep[i, i + 1:] = False
    if mask is not None:
        keep = keep & mask
    keep = keep.expand(scores.shape)
    p = torch.zeros_like(scores)
    for i in range(lq):
        row = scores[..., i, :].masked_fill(~keep[..., i, :], float("-inf"))
        p[..., i, :] = torch.nan_to_num(torch.softmax(row, dim=-1), nan=0.0)
    out = torch.einsum("...ij,...jd->...id", p, v.double())
    return out.to(q.dtype), p.to(q.dtype)
""",
    },
    "row_softmax_backward": {
        "the explicit Jacobian diag(p) - p p^T, row by row in a loop": """
def row_softmax_backward(p, dp):
    rows_p, rows_dp = p.reshape(-1, p.shape[-1]), dp.reshape(-1, p.shape[-1])
    out = torch.empty_like(rows_p)
    for r in range(rows_p.shape[0]):
        jac = torch.diag(rows_p[r]) - torch.outer(rows_p[r], rows_p[r])
        out[r] = jac.T @ rows_dp[r]
    return out.reshape(p.shape)
""",
    },
    "attention_backward": {
        "explicit softmax Jacobian per row (einsum)": """
def attention_backward(dout, cache):
    q, k, v, p = cache
    d = q.shape[-1]
    dv = torch.einsum("...ij,...id->...jd", p, dout)
    dp = torch.einsum("...id,...jd->...ij", dout, v)
    jac = torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)   # (..., Lq, Lk, Lk): d p_j / d s_m
    ds = torch.einsum("...ij,...ijm->...im", dp, jac)
    dq = torch.einsum("...ij,...jd->...id", ds, k) / math.sqrt(d)
    dk = torch.einsum("...ij,...id->...jd", ds, q) / math.sqrt(d)
    return dq, dk, dv
""",
    },
    "multi_head_attention": {
        "loop over heads, then concatenate": """
def multi_head_attention(query, key, value, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias,
                         num_heads, mask=None, causal=False):
    e = query.shape[-1]
    dh = e // num_heads
    q = query @ in_proj_weight[:e].T
    k = key @ in_proj_weight[e:2 * e].T
    v = value @ in_proj_weight[2 * e:].T
    if in_proj_bias is not None:
        q, k, v = q + in_proj_bias[:e], k + in_proj_bias[e:2 * e], v + in_proj_bias[2 * e:]
    outs, ps = [], []
    for h in range(num_heads):
        sl = slice(h * dh, (h + 1) * dh)
        m = None if mask is None else mask.expand(query.shape[0], num_heads, query.shape[1], key.shape[1])[:, h]
        o, p = scaled_dot_product_attention(q[..., sl], k[..., sl], v[..., sl], m, causal)
        outs.append(o)
        ps.append(p)
    out = torch.cat(outs, dim=-1) @ out_proj_weight.T
    if out_proj_bias is not None:
        out = out + out_proj_bias
    return out, torch.stack(ps, dim=1)
""",
    },
    "sinusoidal_positions": {
        "loops over positions and columns with math.sin": """
def sinusoidal_positions(length, d_model, dtype=torch.float32, device=None):
    rows = []
    for t in range(length):
        row = []
        for j in range(d_model):
            angle = t / 10000 ** ((j - j % 2) / d_model)
            row.append(math.sin(angle) if j % 2 == 0 else math.cos(angle))
        rows.append(row)
    return torch.tensor(rows, dtype=dtype, device=device).reshape(length, d_model)
""",
        "exp-log frequencies, computed in the requested dtype (float32 inside for float32)": """
def sinusoidal_positions(length, d_model, dtype=torch.float32, device=None):
    t = torch.arange(length, dtype=dtype, device=device)[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, d_model, 2, dtype=dtype, device=device) / d_model)
    pe = torch.zeros(length, d_model, dtype=dtype, device=device)
    pe[:, 0::2] = torch.sin(t * freq)
    pe[:, 1::2] = torch.cos(t * freq)[:, : d_model // 2]
    return pe
""",
    },
    "transformer_block": {
        "hand-written LayerNorm and nn.MultiheadAttention-free einsum attention": """
def transformer_block(x, params, num_heads, mask=None, causal=False, eps=1e-5):
    def ln(t, w, b):
        mu = t.mean(-1, keepdim=True)
        var = ((t - mu) ** 2).mean(-1, keepdim=True)
        return (t - mu) / torch.sqrt(var + eps) * w + b
    bsz, l, e = x.shape
    dh = e // num_heads
    z = ln(x, params["norm1.weight"], params["norm1.bias"])
    qkv = z @ params["self_attn.in_proj_weight"].T + params["self_attn.in_proj_bias"]
    q, k, v = (t.reshape(bsz, l, num_heads, dh) for t in qkv.split(e, dim=-1))
    s = torch.einsum("bihd,bjhd->bhij", q, k) / math.sqrt(dh)
    keep = torch.ones(l, l, dtype=torch.bool)
    if causal:
        keep = keep.tril()
    if mask is not None:
        keep = keep & mask
    p = torch.softmax(s.masked_fill(~keep, float("-inf")), dim=-1)
    a = torch.einsum("bhij,bjhd->bihd", p, v).reshape(bsz, l, e)
    h = x + a @ params["self_attn.out_proj.weight"].T + params["self_attn.out_proj.bias"]
    z = ln(h, params["norm2.weight"], params["norm2.bias"])
    hidden = torch.clamp(z @ params["linear1.weight"].T + params["linear1.bias"], min=0)
    return h + hidden @ params["linear2.weight"].T + params["linear2.bias"]
""",
    },
    "gaussian_kernel_attention": {
        "expanded |q|^2 - 2 q.k + |k|^2 with logsumexp": """
def gaussian_kernel_attention(q, k, v, sigma):
    d2 = (q ** 2).sum(-1, keepdim=True) - 2 * q @ k.transpose(-2, -1) + (k ** 2).sum(-1).unsqueeze(-2)
    logw = -d2 / (2 * sigma ** 2)
    return torch.exp(logw - torch.logsumexp(logw, dim=-1, keepdim=True)) @ v
""",
        "dot-product attention with scores (q.k - |k|^2/2) / sigma^2, query by query": """
def gaussian_kernel_attention(q, k, v, sigma):
    rows = []
    for i in range(q.shape[-2]):
        qi = q[..., i:i + 1, :]
        s = (qi @ k.transpose(-2, -1) - 0.5 * (k ** 2).sum(-1).unsqueeze(-2)) / sigma ** 2
        s = s - s.amax(dim=-1, keepdim=True)
        w = torch.exp(s)
        rows.append((w / w.sum(-1, keepdim=True)) @ v)
    return torch.cat(rows, dim=-2)
""",
    },
}

ALTERNATIVES["train_reverser"] = {
    "AdamW, a larger learning rate and batch, batches cut from one shuffled order": """
def train_reverser(train_tokens, seed, steps=150, lr=4e-3, batch_size=96):
    g = torch.Generator().manual_seed(seed)
    params = init_reverser_params(g)
    opt = torch.optim.AdamW(params.values(), lr=lr, weight_decay=0.0)
    order = torch.randperm(train_tokens.shape[0], generator=g)
    for step in range(steps):
        start = (step * batch_size) % (train_tokens.shape[0] - batch_size)
        batch = train_tokens[order[start:start + batch_size]]
        logits = reverser_logits(batch, params)
        loss = F.cross_entropy(logits.flatten(0, 1), batch.flip(1).flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {name: t.detach().clone() for name, t in params.items()}
""",
}
ALTERNATIVES["scale_answer"] = {"upper case with spaces": """
def scale_answer():
    return " C "
"""}
ALTERNATIVES["permutation_answer"] = {"upper case": """
def permutation_answer():
    return "B"
"""}
ALTERNATIVES["causal_answer"] = {"upper case with a leading space": """
def causal_answer():
    return " D"
"""}

SAMPLE_WRONG = ["attention_backward", "gaussian_kernel_attention"]  # leaves: no other test calls them

JUDGED_ON_A_TARGET = ['train_reverser']
