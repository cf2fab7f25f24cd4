"""Classic wrong answers and correct alternatives for chapter 08 (RNNs, LSTMs, GRUs)."""

CHAPTER = "08-recurrent-networks"

MUTANTS = {
    "rnn_step_forward": {
        "sigmoid instead of tanh": """
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h = torch.sigmoid(x @ Wx + h_prev @ Wh + b)
    return h, (x, h_prev, Wx, Wh, h)
""",
        "multiplies by Wh transposed": """
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h = torch.tanh(x @ Wx + h_prev @ Wh.T + b)
    return h, (x, h_prev, Wx, Wh, h)
""",
        "caches the pre-activation instead of h": """
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    a = x @ Wx + h_prev @ Wh + b
    return torch.tanh(a), (x, h_prev, Wx, Wh, a)
""",
    },
    "rnn_step_backward": {
        "tanh' applied to h again (1 - tanh(h)**2)": """
def rnn_step_backward(dh, cache):
    x, h_prev, Wx, Wh, h = cache
    da = dh * (1 - torch.tanh(h) ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(0)
""",
        "transposed Wh gradient": """
def rnn_step_backward(dh, cache):
    x, h_prev, Wx, Wh, h = cache
    da = dh * (1 - h * h)
    return da @ Wx.T, da @ Wh.T, x.T @ da, da.T @ h_prev, da.sum(0)
""",
        "forgets the tanh derivative": """
def rnn_step_backward(dh, cache):
    x, h_prev, Wx, Wh, h = cache
    da = dh
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(0)
""",
        "db averaged over the batch": """
def rnn_step_backward(dh, cache):
    x, h_prev, Wx, Wh, h = cache
    da = dh * (1 - h * h)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.mean(0)
""",
    },
    "rnn_forward": {
        "never updates the state (h0 at every step)": """
def rnn_forward(x, h0, Wx, Wh, b):
    hs, cache = [], []
    for t in range(x.shape[1]):
        h, step = rnn_step_forward(x[:, t], h0, Wx, Wh, b)
        hs.append(h)
        cache.append(step)
    return torch.stack(hs, dim=1), cache
""",
        "includes h0 in the output": """
def rnn_forward(x, h0, Wx, Wh, b):
    h, hs, cache = h0, [h0], []
    for t in range(x.shape[1]):
        h, step = rnn_step_forward(x[:, t], h, Wx, Wh, b)
        hs.append(h)
        cache.append(step)
    return torch.stack(hs, dim=1), cache
""",
        "stacks on the batch dimension": """
def rnn_forward(x, h0, Wx, Wh, b):
    h, hs, cache = h0, [], []
    for t in range(x.shape[1]):
        h, step = rnn_step_forward(x[:, t], h, Wx, Wh, b)
        hs.append(h)
        cache.append(step)
    return torch.stack(hs, dim=0), cache
""",
    },
    "rnn_backward": {
        "BPTT truncated to one step (dh_prev not carried back)": """
def rnn_backward(dh_all, cache):
    T = dh_all.shape[1]
    dxs = [None] * T
    dWx = dWh = db = 0
    for t in reversed(range(T)):
        dx, dh_prev, dWx_t, dWh_t, db_t = rnn_step_backward(dh_all[:, t], cache[t])
        dxs[t] = dx
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return torch.stack(dxs, dim=1), dh_prev, dWx, dWh, db
""",
        "uses only the gradient at the last step": """
def rnn_backward(dh_all, cache):
    T = dh_all.shape[1]
    dxs = [None] * T
    dh_next = dh_all[:, -1]
    dWx = dWh = db = 0
    for t in reversed(range(T)):
        dx, dh_next, dWx_t, dWh_t, db_t = rnn_step_backward(dh_next, cache[t])
        dxs[t] = dx
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return torch.stack(dxs, dim=1), dh_next, dWx, dWh, db
""",
        "keeps only the last step's weight gradients": """
def rnn_backward(dh_all, cache):
    T = dh_all.shape[1]
    dxs = [None] * T
    dh_next = torch.zeros_like(dh_all[:, 0])
    for t in reversed(range(T)):
        dx, dh_next, dWx, dWh, db = rnn_step_backward(dh_all[:, t] + dh_next, cache[t])
        dxs[t] = dx
    return torch.stack(dxs, dim=1), dh_next, dWx, dWh, db
""",
        "walks forwards in time": """
def rnn_backward(dh_all, cache):
    T = dh_all.shape[1]
    dxs = [None] * T
    dh_next = torch.zeros_like(dh_all[:, 0])
    dWx = dWh = db = 0
    for t in range(T):
        dx, dh_next, dWx_t, dWh_t, db_t = rnn_step_backward(dh_all[:, t] + dh_next, cache[t])
        dxs[t] = dx
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return torch.stack(dxs, dim=1), dh_next, dWx, dWh, db
""",
    },
    "lstm_step_forward": {
        "gate order i, f, o, g (not torch's)": """
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    a = x @ Wx + h_prev @ Wh + b
    ai, af, ao, ag = a.chunk(4, dim=1)
    i, f, g, o = torch.sigmoid(ai), torch.sigmoid(af), torch.tanh(ag), torch.sigmoid(ao)
    c = f * c_prev + i * g
    h = o * torch.tanh(c)
    return h, c, (x, h_prev, c_prev, Wx, Wh, i, f, g, o, c)
""",
        "h = o * c (forgets the tanh)": """
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    a = x @ Wx + h_prev @ Wh + b
    ai, af, ag, ao = a.chunk(4, dim=1)
    i, f, g, o = torch.sigmoid(ai), torch.sigmoid(af), torch.tanh(ag), torch.sigmoid(ao)
    c = f * c_prev + i * g
    h = o * c
    return h, c, (x, h_prev, c_prev, Wx, Wh, i, f, g, o, c)
""",
        "sigmoid on the candidate g": """
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    a = x @ Wx + h_prev @ Wh + b
    ai, af, ag, ao = a.chunk(4, dim=1)
    i, f, g, o = torch.sigmoid(ai), torch.sigmoid(af), torch.sigmoid(ag), torch.sigmoid(ao)
    c = f * c_prev + i * g
    h = o * torch.tanh(c)
    return h, c, (x, h_prev, c_prev, Wx, Wh, i, f, g, o, c)
""",
    },
    "lstm_step_backward": {
        "sigmoid' written as 1 - s**2": """
def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, Wx, Wh, i, f, g, o, c = cache
    tc = torch.tanh(c)
    dct = dc + dh * o * (1 - tc * tc)
    da = torch.cat([dct * g * (1 - i * i), dct * c_prev * (1 - f * f), dct * i * (1 - g * g),
                    dh * tc * (1 - o * o)], dim=1)
    return da @ Wx.T, da @ Wh.T, dct * f, x.T @ da, h_prev.T @ da, da.sum(0)
""",
        "tanh'(c) written as 1 - c**2": """
def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, Wx, Wh, i, f, g, o, c = cache
    tc = torch.tanh(c)
    dct = dc + dh * o * (1 - c * c)
    da = torch.cat([dct * g * i * (1 - i), dct * c_prev * f * (1 - f), dct * i * (1 - g * g),
                    dh * tc * o * (1 - o)], dim=1)
    return da @ Wx.T, da @ Wh.T, dct * f, x.T @ da, h_prev.T @ da, da.sum(0)
""",
        "drops the path from h into c": """
def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, Wx, Wh, i, f, g, o, c = cache
    tc = torch.tanh(c)
    dct = dc
    da = torch.cat([dct * g * i * (1 - i), dct * c_prev * f * (1 - f), dct * i * (1 - g * g),
                    dh * tc * o * (1 - o)], dim=1)
    return da @ Wx.T, da @ Wh.T, dct * f, x.T @ da, h_prev.T @ da, da.sum(0)
""",
        "transposed Wh gradient": """
def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, Wx, Wh, i, f, g, o, c = cache
    tc = torch.tanh(c)
    dct = dc + dh * o * (1 - tc * tc)
    da = torch.cat([dct * g * i * (1 - i), dct * c_prev * f * (1 - f), dct * i * (1 - g * g),
                    dh * tc * o * (1 - o)], dim=1)
    return da @ Wx.T, da @ Wh.T, dct * f, x.T @ da, (da.T @ h_prev).reshape(h_prev.shape[1], -1), da.sum(0)
""",
    },
    "lstm_forward": {
        "starts the cell state at h0": """
def lstm_forward(x, h0, Wx, Wh, b):
    h, c = h0, h0
    hs, cache = [], []
    for t in range(x.shape[1]):
        h, c, step = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
        cache.append(step)
    return torch.stack(hs, dim=1), c, cache
""",
        "resets the cell state at every step": """
def lstm_forward(x, h0, Wx, Wh, b):
    h = h0
    hs, cache = [], []
    for t in range(x.shape[1]):
        h, c, step = lstm_step_forward(x[:, t], h, torch.zeros_like(h0), Wx, Wh, b)
        hs.append(h)
        cache.append(step)
    return torch.stack(hs, dim=1), c, cache
""",
        "returns tanh(c_T) instead of c_T": """
def lstm_forward(x, h0, Wx, Wh, b):
    h, c = h0, torch.zeros_like(h0)
    hs, cache = [], []
    for t in range(x.shape[1]):
        h, c, step = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
        cache.append(step)
    return torch.stack(hs, dim=1), torch.tanh(c), cache
""",
    },
    "lstm_backward": {
        "drops the cell-state path (dc not carried back through time)": """
def lstm_backward(dh_all, dc_last, cache):
    T = dh_all.shape[1]
    dxs = [None] * T
    dh_next = torch.zeros_like(dh_all[:, 0])
    dWx = dWh = db = 0
    for t in reversed(range(T)):
        dc_in = dc_last if t == T - 1 else torch.zeros_like(dc_last)
        dx, dh_next, _, dWx_t, dWh_t, db_t = lstm_step_backward(dh_all[:, t] + dh_next, dc_in, cache[t])
        dxs[t] = dx
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return torch.stack(dxs, dim=1), dh_next, dWx, dWh, db
""",
        "BPTT truncated to one step": """
def lstm_backward(dh_all, dc_last, cache):
    T = dh_all.shape[1]
    dxs = [None] * T
    dWx = dWh = db = 0
    for t in reversed(range(T)):
        dc_in = dc_last if t == T - 1 else torch.zeros_like(dc_last)
        dx, dh_prev, _, dWx_t, dWh_t, db_t = lstm_step_backward(dh_all[:, t], dc_in, cache[t])
        dxs[t] = dx
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return torch.stack(dxs, dim=1), dh_prev, dWx, dWh, db
""",
        "feeds dc_last to every step": """
def lstm_backward(dh_all, dc_last, cache):
    T = dh_all.shape[1]
    dxs = [None] * T
    dh_next = torch.zeros_like(dh_all[:, 0])
    dWx = dWh = db = 0
    for t in reversed(range(T)):
        dx, dh_next, _, dWx_t, dWh_t, db_t = lstm_step_backward(dh_all[:, t] + dh_next, dc_last, cache[t])
        dxs[t] = dx
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return torch.stack(dxs, dim=1), dh_next, dWx, dWh, db
""",
        "transposed Wh gradient accumulated": """
def lstm_backward(dh_all, dc_last, cache):
    T = dh_all.shape[1]
    dxs = [None] * T
    dh_next, dc_next = torch.zeros_like(dh_all[:, 0]), dc_last
    dWx = dWh = db = 0
    for t in reversed(range(T)):
        dx, dh_next, dc_next, dWx_t, dWh_t, db_t = lstm_step_backward(dh_all[:, t] + dh_next, dc_next, cache[t])
        dxs[t] = dx
        H = dWh_t.shape[0]
        dWh_t = torch.cat([dWh_t[:, k * H:(k + 1) * H].T for k in range(4)], dim=1)
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return torch.stack(dxs, dim=1), dh_next, dWx, dWh, db
""",
    },
    "gru_step_forward": {
        "reset gate outside the hidden bias (r * (h Wh_n) + bh_n)": """
def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    H = h_prev.shape[1]
    ur, uz, un = (x @ Wx + bx).chunk(3, dim=1)
    vr, vz, vn = (h_prev @ Wh + bh).chunk(3, dim=1)
    r, z = torch.sigmoid(ur + vr), torch.sigmoid(uz + vz)
    n = torch.tanh(un + r * (h_prev @ Wh[:, 2 * H:]) + bh[2 * H:])
    return (1 - z) * n + z * h_prev
""",
        "reset applied to h before the product ((r * h) Wh_n)": """
def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    H = h_prev.shape[1]
    ur, uz, un = (x @ Wx + bx).chunk(3, dim=1)
    vr, vz, vn = (h_prev @ Wh + bh).chunk(3, dim=1)
    r, z = torch.sigmoid(ur + vr), torch.sigmoid(uz + vz)
    n = torch.tanh(un + (r * h_prev) @ Wh[:, 2 * H:] + bh[2 * H:])
    return (1 - z) * n + z * h_prev
""",
        "update gate roles swapped": """
def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    ur, uz, un = (x @ Wx + bx).chunk(3, dim=1)
    vr, vz, vn = (h_prev @ Wh + bh).chunk(3, dim=1)
    r, z = torch.sigmoid(ur + vr), torch.sigmoid(uz + vz)
    n = torch.tanh(un + r * vn)
    return z * n + (1 - z) * h_prev
""",
        "gate order z, r, n": """
def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    uz, ur, un = (x @ Wx + bx).chunk(3, dim=1)
    vz, vr, vn = (h_prev @ Wh + bh).chunk(3, dim=1)
    r, z = torch.sigmoid(ur + vr), torch.sigmoid(uz + vz)
    n = torch.tanh(un + r * vn)
    return (1 - z) * n + z * h_prev
""",
    },
    "clip_grad_global_norm": {
        "clips each tensor separately": """
def clip_grad_global_norm(grads, max_norm):
    total = torch.sqrt(sum((g * g).sum() for g in grads))
    out = []
    for g in grads:
        out.append(g * (max_norm / (g.norm() + 1e-6)).clamp(max=1.0))
    return out, total
""",
        "always rescales to max_norm (scales small gradients up)": """
def clip_grad_global_norm(grads, max_norm):
    total = torch.sqrt(sum((g * g).sum() for g in grads))
    coef = max_norm / (total + 1e-6)
    return [g * coef for g in grads], total
""",
        "sums the per-tensor norms": """
def clip_grad_global_norm(grads, max_norm):
    total = sum(g.norm() for g in grads)
    coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
    return [g * coef for g in grads], total
""",
        "returns the norm after clipping": """
def clip_grad_global_norm(grads, max_norm):
    total = torch.sqrt(sum((g * g).sum() for g in grads))
    coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
    out = [g * coef for g in grads]
    return out, torch.sqrt(sum((g * g).sum() for g in out))
""",
        "clips in place": """
def clip_grad_global_norm(grads, max_norm):
    total = torch.sqrt(sum((g * g).sum() for g in grads))
    coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef)
    return grads, total
""",
    },
    "train_char_lstm": {
        "BPTT that carries no gradient to the step before (truncated to one step)": """
def train_char_lstm(ids, vocab_size, hidden=48, seq_len=32, batch_size=32, steps=150, lr=0.03, seed=0):
    g = torch.Generator().manual_seed(seed)
    H, V = hidden, vocab_size
    params = {"Wx": 0.1 * torch.randn(V, 4 * H, generator=g), "Wh": torch.randn(H, 4 * H, generator=g) / math.sqrt(H),
              "b": torch.zeros(4 * H), "Wy": torch.randn(H, V, generator=g) / math.sqrt(H), "by": torch.zeros(V)}
    params["b"][H:2 * H] = 1.0
    names = list(params)
    m = {k: torch.zeros_like(v) for k, v in params.items()}
    v = {k: torch.zeros_like(p) for k, p in params.items()}
    for step in range(1, steps + 1):
        xb, yb = random_windows(ids, batch_size, seq_len, g)
        h, _, cache = lstm_forward(torch.nn.functional.one_hot(xb, V).float(), torch.zeros(batch_size, H),
                                   params["Wx"], params["Wh"], params["b"])
        dz = torch.softmax(h @ params["Wy"] + params["by"], dim=-1)
        dz = (dz - torch.nn.functional.one_hot(yb, V).float()) / (batch_size * seq_len)
        grads = {"Wy": h.reshape(-1, H).T @ dz.reshape(-1, V), "by": dz.sum((0, 1))}
        dh_all = dz @ params["Wy"].T
        dh, dc = torch.zeros(batch_size, H), torch.zeros(batch_size, H)
        grads["Wx"], grads["Wh"], grads["b"] = 0, 0, 0
        for t in reversed(range(seq_len)):
            _, dh_prev, dc_prev, dWx, dWh, db = lstm_step_backward(dh_all[:, t] + dh, dc, cache[t])
            dh, dc = 0 * dh_prev, 0 * dc_prev   # nothing carried to the step before
            grads["Wx"], grads["Wh"], grads["b"] = grads["Wx"] + dWx, grads["Wh"] + dWh, grads["b"] + db
        clipped, _ = clip_grad_global_norm([grads[k] for k in names], 1.0)
        for k, gk in zip(names, clipped):
            m[k] = 0.9 * m[k] + 0.1 * gk
            v[k] = 0.999 * v[k] + 0.001 * gk * gk
            params[k] = params[k] - lr * (m[k] / (1 - 0.9 ** step)) / ((v[k] / (1 - 0.999 ** step)).sqrt() + 1e-8)
    return params
""",
        "carries the cell-state gradient back without the forget gate": """
def train_char_lstm(ids, vocab_size, hidden=48, seq_len=32, batch_size=32, steps=150, lr=0.03, seed=0):
    g = torch.Generator().manual_seed(seed)
    H, V = hidden, vocab_size
    params = {"Wx": 0.1 * torch.randn(V, 4 * H, generator=g), "Wh": torch.randn(H, 4 * H, generator=g) / math.sqrt(H),
              "b": torch.zeros(4 * H), "Wy": torch.randn(H, V, generator=g) / math.sqrt(H), "by": torch.zeros(V)}
    params["b"][H:2 * H] = 1.0
    names = list(params)
    m = {k: torch.zeros_like(v) for k, v in params.items()}
    v = {k: torch.zeros_like(p) for k, p in params.items()}
    for step in range(1, steps + 1):
        xb, yb = random_windows(ids, batch_size, seq_len, g)
        h, _, cache = lstm_forward(torch.nn.functional.one_hot(xb, V).float(), torch.zeros(batch_size, H),
                                   params["Wx"], params["Wh"], params["b"])
        dz = torch.softmax(h @ params["Wy"] + params["by"], dim=-1)
        dz = (dz - torch.nn.functional.one_hot(yb, V).float()) / (batch_size * seq_len)
        grads = {"Wy": h.reshape(-1, H).T @ dz.reshape(-1, V), "by": dz.sum((0, 1))}
        dh_all = dz @ params["Wy"].T
        dh, dc = torch.zeros(batch_size, H), torch.zeros(batch_size, H)
        grads["Wx"], grads["Wh"], grads["b"] = 0, 0, 0
        for t in reversed(range(seq_len)):
            _, dh_prev, dc_prev, dWx, dWh, db = lstm_step_backward(dh_all[:, t] + dh, dc, cache[t])
            f = cache[t][6]
            dh, dc = dh_prev, dc_prev / f   # the forget gate left out of the carried cell gradient
            grads["Wx"], grads["Wh"], grads["b"] = grads["Wx"] + dWx, grads["Wh"] + dWh, grads["b"] + db
        clipped, _ = clip_grad_global_norm([grads[k] for k in names], 1.0)
        for k, gk in zip(names, clipped):
            m[k] = 0.9 * m[k] + 0.1 * gk
            v[k] = 0.999 * v[k] + 0.001 * gk * gk
            params[k] = params[k] - lr * (m[k] / (1 - 0.9 ** step)) / ((v[k] / (1 - 0.999 ** step)).sqrt() + 1e-8)
    return params
""",
        "gradient ascent (adds the Adam step)": """
def train_char_lstm(ids, vocab_size, hidden=48, seq_len=32, batch_size=32, steps=150, lr=0.03, seed=0):
    g = torch.Generator().manual_seed(seed)
    H, V = hidden, vocab_size
    params = {"Wx": 0.1 * torch.randn(V, 4 * H, generator=g), "Wh": torch.randn(H, 4 * H, generator=g) / math.sqrt(H),
              "b": torch.zeros(4 * H), "Wy": torch.randn(H, V, generator=g) / math.sqrt(H), "by": torch.zeros(V)}
    params["b"][H:2 * H] = 1.0
    names = list(params)
    m = {k: torch.zeros_like(v) for k, v in params.items()}
    v = {k: torch.zeros_like(p) for k, p in params.items()}
    for step in range(1, steps + 1):
        xb, yb = random_windows(ids, batch_size, seq_len, g)
        h, _, cache = lstm_forward(torch.nn.functional.one_hot(xb, V).float(), torch.zeros(batch_size, H),
                                   params["Wx"], params["Wh"], params["b"])
        dz = torch.softmax(h @ params["Wy"] + params["by"], dim=-1)
        dz = (dz - torch.nn.functional.one_hot(yb, V).float()) / (batch_size * seq_len)
        grads = {"Wy": h.reshape(-1, H).T @ dz.reshape(-1, V), "by": dz.sum((0, 1))}
        _, _, grads["Wx"], grads["Wh"], grads["b"] = lstm_backward(dz @ params["Wy"].T, torch.zeros(batch_size, H), cache)
        clipped, _ = clip_grad_global_norm([grads[k] for k in names], 1.0)
        for k, gk in zip(names, clipped):
            m[k] = 0.9 * m[k] + 0.1 * gk
            v[k] = 0.999 * v[k] + 0.001 * gk * gk
            params[k] = params[k] + lr * (m[k] / (1 - 0.9 ** step)) / ((v[k] / (1 - 0.999 ** step)).sqrt() + 1e-8)
    return params
""",
    },
    "beam_search": {
        "ranks the extensions by the last token's log-probability alone": """
def beam_search(step, state, token, length, beam_width):
    beams = [(0.0, [], state, int(token))]
    for _ in range(length):
        candidates = []
        for score, tokens, beam_state, last in beams:
            log_probs, new_state = step(beam_state, last)
            top = torch.topk(log_probs, min(beam_width, log_probs.numel()))
            for lp, nxt in zip(top.values.tolist(), top.indices.tolist()):
                candidates.append((lp, tokens + [nxt], new_state, nxt))
        candidates.sort(key=lambda c: c[0], reverse=True)
        beams = candidates[:beam_width]
    return beams[0][1], float(beams[0][0])
""",
        "returns the worst of the kept beams": """
def beam_search(step, state, token, length, beam_width):
    beams = [(0.0, [], state, int(token))]
    for _ in range(length):
        candidates = []
        for score, tokens, beam_state, last in beams:
            log_probs, new_state = step(beam_state, last)
            top = torch.topk(log_probs, min(beam_width, log_probs.numel()))
            for lp, nxt in zip(top.values.tolist(), top.indices.tolist()):
                candidates.append((score + lp, tokens + [nxt], new_state, nxt))
        candidates.sort(key=lambda c: c[0], reverse=True)
        beams = candidates[:beam_width]
    return beams[-1][1], float(beams[-1][0])
""",
        "extends every beam by its single best token after the first step": """
def beam_search(step, state, token, length, beam_width):
    beams = [(0.0, [], state, int(token))]
    for _ in range(length):
        candidates = []
        for score, tokens, beam_state, last in beams:
            log_probs, new_state = step(beam_state, last)
            top = torch.topk(log_probs, 1 if tokens else min(beam_width, log_probs.numel()))
            for lp, nxt in zip(top.values.tolist(), top.indices.tolist()):
                candidates.append((score + lp, tokens + [nxt], new_state, nxt))
        candidates.sort(key=lambda c: c[0], reverse=True)
        beams = candidates[:beam_width]
    return beams[0][1], float(beams[0][0])
""",
        "feeds every beam the initial state (the beams' states are not kept apart)": """
def beam_search(step, state, token, length, beam_width):
    beams = [(0.0, [], state, int(token))]
    for _ in range(length):
        candidates = []
        for score, tokens, beam_state, last in beams:
            log_probs, new_state = step(state, last)
            top = torch.topk(log_probs, min(beam_width, log_probs.numel()))
            for lp, nxt in zip(top.values.tolist(), top.indices.tolist()):
                candidates.append((score + lp, tokens + [nxt], new_state, nxt))
        candidates.sort(key=lambda c: c[0], reverse=True)
        beams = candidates[:beam_width]
    return beams[0][1], float(beams[0][0])
""",
    },
    "truncated_bptt_answer": {
        "a: exact gradients because the state is carried": 'def truncated_bptt_answer():\n    return "a"\n',
        "c: the old context is lost in the forward pass too": 'def truncated_bptt_answer():\n    return "c"\n',
        "d: inexact gradients inside the chunk": 'def truncated_bptt_answer():\n    return "d"\n',
    },
    "cell_state_answer": {
        "a: the gates play no role in the cell path": 'def cell_state_answer():\n    return "a"\n',
        "c: explodes": 'def cell_state_answer():\n    return "c"\n',
        "d: only the recurrent weights matter": 'def cell_state_answer():\n    return "d"\n',
    },
    "teacher_forcing_answer": {
        "a: no gradient between time steps": 'def teacher_forcing_answer():\n    return "a"\n',
        "b: the loss sees the model's own mistakes": 'def teacher_forcing_answer():\n    return "b"\n',
        "d: only for LSTMs": 'def teacher_forcing_answer():\n    return "d"\n',
    },
}

ALTERNATIVES = {
    "rnn_step_forward": {
        "addmm and tanh from exponentials": """
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    a = torch.addmm(b, x, Wx) + torch.mm(h_prev, Wh)
    e = torch.exp(-2 * a.abs())
    h = torch.sign(a) * (1 - e) / (1 + e)
    return h, (x, h_prev, Wx, Wh, h)
""",
    },
    "rnn_step_backward": {
        "einsum, derivative as (1 - h)(1 + h)": """
def rnn_step_backward(dh, cache):
    x, h_prev, Wx, Wh, h = cache
    da = dh * (1 - h) * (1 + h)
    return (torch.einsum("nh,dh->nd", da, Wx), torch.einsum("nh,kh->nk", da, Wh),
            torch.einsum("nd,nh->dh", x, da), torch.einsum("nk,nh->kh", h_prev, da), torch.einsum("nh->h", da))
""",
    },
    "rnn_forward": {
        "inline step, preallocated output": """
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    out = torch.empty(N, T, h0.shape[1], dtype=x.dtype, device=x.device)
    h, cache = h0, []
    for t in range(T):
        h_new = torch.tanh(x[:, t] @ Wx + h @ Wh + b)
        cache.append((x[:, t], h, Wx, Wh, h_new))
        out[:, t] = h_new
        h = h_new
    return out, cache
""",
    },
    "rnn_backward": {
        "inline gradients, preallocated dx": """
def rnn_backward(dh_all, cache):
    N, T, H = dh_all.shape
    D = cache[0][0].shape[1]
    dx = torch.zeros(N, T, D, dtype=dh_all.dtype, device=dh_all.device)
    dWx = torch.zeros(D, H, dtype=dh_all.dtype, device=dh_all.device)
    dWh = torch.zeros(H, H, dtype=dh_all.dtype, device=dh_all.device)
    db = torch.zeros(H, dtype=dh_all.dtype, device=dh_all.device)
    carry = torch.zeros(N, H, dtype=dh_all.dtype, device=dh_all.device)
    for t in range(T - 1, -1, -1):
        x, h_prev, Wx, Wh, h = cache[t]
        da = (dh_all[:, t] + carry) * (1 - h ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x.T @ da
        dWh += h_prev.T @ da
        db += da.sum(0)
        carry = da @ Wh.T
    return dx, carry, dWx, dWh, db
""",
    },
    "lstm_step_forward": {
        "slicing and the formula 1 / (1 + exp(-a))": """
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    sig = lambda z: 1 / (1 + torch.exp(-z))
    i, f = sig(a[:, :H]), sig(a[:, H:2 * H])
    g, o = torch.tanh(a[:, 2 * H:3 * H]), sig(a[:, 3 * H:])
    c = i * g + f * c_prev
    return o * torch.tanh(c), c, (x, h_prev, c_prev, Wx, Wh, i, f, g, o, c)
""",
    },
    "lstm_step_backward": {
        "gate by gate, with weight blocks": """
def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, Wx, Wh, i, f, g, o, c = cache
    do = dh * torch.tanh(c)
    dc = dc + dh * o * (1 - torch.tanh(c) ** 2)
    dai = dc * g * i * (1 - i)
    daf = dc * c_prev * f * (1 - f)
    dag = dc * i * (1 - g ** 2)
    dao = do * o * (1 - o)
    H = h_prev.shape[1]
    dx = sum(d @ Wx[:, k * H:(k + 1) * H].T for k, d in enumerate((dai, daf, dag, dao)))
    dh_prev = sum(d @ Wh[:, k * H:(k + 1) * H].T for k, d in enumerate((dai, daf, dag, dao)))
    dWx = torch.cat([x.T @ d for d in (dai, daf, dag, dao)], dim=1)
    dWh = torch.cat([h_prev.T @ d for d in (dai, daf, dag, dao)], dim=1)
    db = torch.cat([d.sum(0) for d in (dai, daf, dag, dao)])
    return dx, dh_prev, dc * f, dWx, dWh, db
""",
    },
    "lstm_forward": {
        "inline step, preallocated output": """
def lstm_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    H = h0.shape[1]
    out = x.new_zeros(N, T, H)
    h, c, cache = h0, h0.new_zeros(N, H), []
    for t in range(T):
        a = x[:, t] @ Wx + h @ Wh + b
        i, f, o = torch.sigmoid(a[:, :H]), torch.sigmoid(a[:, H:2 * H]), torch.sigmoid(a[:, 3 * H:])
        g = torch.tanh(a[:, 2 * H:3 * H])
        c_new = f * c + i * g
        h_new = o * torch.tanh(c_new)
        cache.append((x[:, t], h, c, Wx, Wh, i, f, g, o, c_new))
        out[:, t] = h_new
        h, c = h_new, c_new
    return out, c, cache
""",
    },
    "lstm_backward": {
        "accumulates into preallocated tensors": """
def lstm_backward(dh_all, dc_last, cache):
    N, T, H = dh_all.shape
    D = cache[0][0].shape[1]
    dx = dh_all.new_zeros(N, T, D)
    dWx, dWh, db = dh_all.new_zeros(D, 4 * H), dh_all.new_zeros(H, 4 * H), dh_all.new_zeros(4 * H)
    dh, dc = dh_all.new_zeros(N, H), dc_last.clone()
    for t in range(T - 1, -1, -1):
        step = lstm_step_backward(dh_all[:, t] + dh, dc, cache[t])
        dx[:, t], dh, dc = step[0], step[1], step[2]
        dWx += step[3]
        dWh += step[4]
        db += step[5]
    return dx, dh, dWx, dWh, db
""",
    },
    "gru_step_forward": {
        "separate weight blocks, sigmoid by formula": """
def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    H = h_prev.shape[1]
    sig = lambda a: 1 / (1 + torch.exp(-a))
    blk = lambda W, k: W[..., k * H:(k + 1) * H]
    r = sig(x @ blk(Wx, 0) + blk(bx, 0) + h_prev @ blk(Wh, 0) + blk(bh, 0))
    z = sig(x @ blk(Wx, 1) + blk(bx, 1) + h_prev @ blk(Wh, 1) + blk(bh, 1))
    n = torch.tanh(x @ blk(Wx, 2) + blk(bx, 2) + r * (h_prev @ blk(Wh, 2) + blk(bh, 2)))
    return n + z * (h_prev - n)
""",
    },
    "clip_grad_global_norm": {
        "one flat vector, explicit branch": """
def clip_grad_global_norm(grads, max_norm):
    flat = torch.cat([g.reshape(-1) for g in grads])
    total = torch.sqrt((flat * flat).sum())
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        return [g * scale for g in grads], total
    return [g.clone() for g in grads], total
""",
    },
    "train_char_lstm": {
        "float64, one-hot by indexing an identity, in-place Adam, only the required arguments": """
def train_char_lstm(ids, vocab_size, seed=0):
    g = torch.Generator().manual_seed(seed)
    H, V, N, T, dt = 48, vocab_size, 32, 32, torch.float64
    Wx = torch.randn(V, 4 * H, generator=g, dtype=dt) * 0.1
    Wh = torch.randn(H, 4 * H, generator=g, dtype=dt) * H ** -0.5
    Wy = torch.randn(H, V, generator=g, dtype=dt) * H ** -0.5
    b, by = torch.cat([torch.zeros(H), torch.ones(H), torch.zeros(2 * H)]).to(dt), torch.zeros(V, dtype=dt)
    params = [Wx, Wh, b, Wy, by]
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    eye = torch.eye(V, dtype=dt)
    for step in range(1, 151):
        xb, yb = random_windows(ids, N, T, g)
        h, _, cache = lstm_forward(eye[xb], torch.zeros(N, H, dtype=dt), Wx, Wh, b)
        logits = h @ Wy + by
        dz = (torch.exp(logits - torch.logsumexp(logits, -1, keepdim=True)) - eye[yb]) / (N * T)
        _, _, dWx, dWh, db = lstm_backward(dz @ Wy.T, torch.zeros(N, H, dtype=dt), cache)
        grads = [dWx, dWh, db, torch.einsum("nth,ntv->hv", h, dz), dz.sum((0, 1))]
        grads, _ = clip_grad_global_norm(grads, 1.0)
        for k, (p, gr) in enumerate(zip(params, grads)):
            m1, m2 = moments[k]
            m1.mul_(0.9).add_(0.1 * gr)
            m2.mul_(0.999).add_(0.001 * gr * gr)
            p.sub_(0.03 * (m1 / (1 - 0.9 ** step)) / ((m2 / (1 - 0.999 ** step)).sqrt() + 1e-8))
    return dict(zip(("Wx", "Wh", "b", "Wy", "by"), params))
""",
    },
    "beam_search": {
        "one score matrix per step, flat top-k over all beams": """
def beam_search(step, state, token, length, beam_width):
    scores = torch.zeros(1, dtype=torch.float64)
    seqs, states, lasts = [[]], [state], [int(token)]
    for _ in range(length):
        outs = [step(st, tok) for st, tok in zip(states, lasts)]
        total = scores[:, None] + torch.stack([o[0].to(torch.float64) for o in outs])
        V = total.shape[1]
        best = torch.topk(total.reshape(-1), min(beam_width, total.numel()))
        rows = [int(i) // V for i in best.indices]
        cols = [int(i) % V for i in best.indices]
        scores = best.values
        seqs = [seqs[r] + [c] for r, c in zip(rows, cols)]
        states = [outs[r][1] for r in rows]
        lasts = cols
    return seqs[0], scores[0].item()
""",
    },
    "truncated_bptt_answer": {"capital letter": 'def truncated_bptt_answer():\n    return "B"\n'},
    "cell_state_answer": {"letter with spaces": 'def cell_state_answer():\n    return " b "\n'},
    "teacher_forcing_answer": {"plain letter": 'def teacher_forcing_answer():\n    return "c"\n'},
}

SAMPLE_WRONG = ["rnn_backward", "gru_step_forward"]

# Make-it-work tasks, judged on a target (autograder.mutation leaves them to their registered mutants).
JUDGED_ON_A_TARGET = ["train_char_lstm"]
