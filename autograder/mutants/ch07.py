"""Classic wrong answers and correct alternatives for chapter 07 (convolutional networks)."""

CHAPTER = "07-convolutional-networks"

MUTANTS = {
    "conv_output_size": {
        "forgets the +1": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride
""",
        "ignores the stride": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return size + 2 * padding - dilation * (kernel_size - 1)
""",
        "pads one side only": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + padding - dilation * (kernel_size - 1) - 1) // stride + 1
""",
        "ignores the dilation": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - kernel_size) // stride + 1
""",
        "true division (returns a float)": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1
""",
    },
    "conv2d_naive": {
        "true convolution (flips the kernel)": """
def conv2d_naive(x, w, b, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = F.pad(x, (padding, padding, padding, padding))
    ho = (h + 2 * padding - kh) // stride + 1
    wo = (wd + 2 * padding - kw) // stride + 1
    wf = torch.flip(w, dims=(2, 3))
    y = x.new_zeros(n, f, ho, wo)
    for i in range(ho):
        for j in range(wo):
            win = xp[:, :, stride * i:stride * i + kh, stride * j:stride * j + kw]
            y[:, :, i, j] = torch.einsum("nchw,fchw->nf", win, wf) + b
    return y
""",
        "ignores the stride when placing windows": """
def conv2d_naive(x, w, b, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = F.pad(x, (padding, padding, padding, padding))
    ho = (h + 2 * padding - kh) // stride + 1
    wo = (wd + 2 * padding - kw) // stride + 1
    y = x.new_zeros(n, f, ho, wo)
    for i in range(ho):
        for j in range(wo):
            win = xp[:, :, i:i + kh, j:j + kw]
            y[:, :, i, j] = torch.einsum("nchw,fchw->nf", win, w) + b
    return y
""",
        "forgets the bias": """
def conv2d_naive(x, w, b, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = F.pad(x, (padding, padding, padding, padding))
    ho = (h + 2 * padding - kh) // stride + 1
    wo = (wd + 2 * padding - kw) // stride + 1
    y = x.new_zeros(n, f, ho, wo)
    for i in range(ho):
        for j in range(wo):
            win = xp[:, :, stride * i:stride * i + kh, stride * j:stride * j + kw]
            y[:, :, i, j] = torch.einsum("nchw,fchw->nf", win, w)
    return y
""",
        "pads only the top and left": """
def conv2d_naive(x, w, b, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = F.pad(x, (padding, 0, padding, 0))
    ho = (h + padding - kh) // stride + 1
    wo = (wd + padding - kw) // stride + 1
    y = x.new_zeros(n, f, ho, wo)
    for i in range(ho):
        for j in range(wo):
            win = xp[:, :, stride * i:stride * i + kh, stride * j:stride * j + kw]
            y[:, :, i, j] = torch.einsum("nchw,fchw->nf", win, w) + b
    return y
""",
    },
    "im2col": {
        "rows ordered kernel tap first, channel last": """
def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    kh, kw = kernel_size
    n, c, h, wd = x.shape
    xp = F.pad(x, (padding, padding, padding, padding))
    ho = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    wo = (wd + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    taps = [xp[:, :, dilation * p:dilation * p + stride * (ho - 1) + 1:stride,
               dilation * q:dilation * q + stride * (wo - 1) + 1:stride]
            for p in range(kh) for q in range(kw)]
    return torch.stack(taps, dim=1).reshape(n, kh * kw * c, ho * wo)
""",
        "columns ordered column-major (j * H_out + i)": """
def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    kh, kw = kernel_size
    n, c, h, wd = x.shape
    xp = F.pad(x, (padding, padding, padding, padding))
    ho = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    wo = (wd + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    taps = [xp[:, :, dilation * p:dilation * p + stride * (ho - 1) + 1:stride,
               dilation * q:dilation * q + stride * (wo - 1) + 1:stride]
            for p in range(kh) for q in range(kw)]
    return torch.stack(taps, dim=2).transpose(3, 4).reshape(n, c * kh * kw, ho * wo)
""",
        "ignores the dilation": """
def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    kh, kw = kernel_size
    n, c, h, wd = x.shape
    xp = F.pad(x, (padding, padding, padding, padding))
    ho = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    wo = (wd + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    taps = [xp[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride]
            for p in range(kh) for q in range(kw)]
    return torch.stack(taps, dim=2).reshape(n, c * kh * kw, ho * wo)
""",
    },
    "conv2d_forward": {
        "true convolution (flipped kernel)": """
def conv2d_forward(x, w, b, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    cols = F.unfold(x, (kh, kw), stride=stride, padding=padding)
    ho = (h + 2 * padding - kh) // stride + 1
    wo = (wd + 2 * padding - kw) // stride + 1
    out = torch.flip(w, dims=(2, 3)).reshape(f, -1) @ cols + b.reshape(1, f, 1)
    return out.reshape(n, f, ho, wo), (x, w, b, stride, padding, cols)
""",
        "reshapes (N, L, F) to (N, F, H_out, W_out) without a permute": """
def conv2d_forward(x, w, b, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    cols = F.unfold(x, (kh, kw), stride=stride, padding=padding)
    ho = (h + 2 * padding - kh) // stride + 1
    wo = (wd + 2 * padding - kw) // stride + 1
    out = cols.transpose(1, 2) @ w.reshape(f, -1).t() + b
    return out.reshape(n, f, ho, wo), (x, w, b, stride, padding, cols)
""",
        "forgets the bias": """
def conv2d_forward(x, w, b, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    cols = F.unfold(x, (kh, kw), stride=stride, padding=padding)
    ho = (h + 2 * padding - kh) // stride + 1
    wo = (wd + 2 * padding - kw) // stride + 1
    out = w.reshape(f, -1) @ cols
    return out.reshape(n, f, ho, wo), (x, w, b, stride, padding, cols)
""",
        "cache without the columns": """
def conv2d_forward(x, w, b, stride=1, padding=0):
    return F.conv2d(x, w, b, stride=stride, padding=padding), (x, w, b, stride, padding)
""",
    },
    "conv2d_backward": {
        "dw transposed (a (C*kh*kw, F) matrix reshaped to (F, C, kh, kw))": """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding, cols = cache
    n, f = dout.shape[:2]
    kh, kw = w.shape[-2:]
    d = dout.reshape(n, f, -1)
    db = d.sum(dim=(0, 2))
    dw = (cols @ d.transpose(1, 2)).sum(dim=0).reshape(w.shape)
    dx = F.fold(w.reshape(f, -1).t() @ d, x.shape[-2:], (kh, kw), stride=stride, padding=padding)
    return dx, dw, db
""",
        "dx keeps the padded border (no crop)": """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding, cols = cache
    n, f = dout.shape[:2]
    kh, kw = w.shape[-2:]
    h, wd = x.shape[-2:]
    d = dout.reshape(n, f, -1)
    db = d.sum(dim=(0, 2))
    dw = (d @ cols.transpose(1, 2)).sum(dim=0).reshape(w.shape)
    dxp = F.fold(w.reshape(f, -1).t() @ d, (h + 2 * padding, wd + 2 * padding), (kh, kw), stride=stride)
    return dxp, dw, db
""",
        "crops the padding from one side only": """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding, cols = cache
    n, f = dout.shape[:2]
    kh, kw = w.shape[-2:]
    h, wd = x.shape[-2:]
    d = dout.reshape(n, f, -1)
    db = d.sum(dim=(0, 2))
    dw = (d @ cols.transpose(1, 2)).sum(dim=0).reshape(w.shape)
    dxp = F.fold(w.reshape(f, -1).t() @ d, (h + 2 * padding, wd + 2 * padding), (kh, kw), stride=stride)
    return dxp[:, :, :h, :wd], dw, db
""",
        "ignores the stride when scattering dx": """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding, cols = cache
    n, f, ho, wo = dout.shape
    c = x.shape[1]
    kh, kw = w.shape[-2:]
    h, wd = x.shape[-2:]
    d = dout.reshape(n, f, -1)
    db = d.sum(dim=(0, 2))
    dw = (d @ cols.transpose(1, 2)).sum(dim=0).reshape(w.shape)
    dcols = (w.reshape(f, -1).t() @ d).reshape(n, c, kh, kw, ho, wo)
    dxp = x.new_zeros(n, c, h + 2 * padding, wd + 2 * padding)
    for p in range(kh):
        for q in range(kw):
            dxp[:, :, p:p + ho, q:q + wo] += dcols[:, :, p, q]
    return dxp[:, :, padding:padding + h, padding:padding + wd], dw, db
""",
        "db averages over the batch": """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding, cols = cache
    n, f = dout.shape[:2]
    kh, kw = w.shape[-2:]
    d = dout.reshape(n, f, -1)
    db = d.sum(dim=2).mean(dim=0)
    dw = (d @ cols.transpose(1, 2)).sum(dim=0).reshape(w.shape)
    dx = F.fold(w.reshape(f, -1).t() @ d, x.shape[-2:], (kh, kw), stride=stride, padding=padding)
    return dx, dw, db
""",
    },
    "pool2d_forward": {
        "default stride 1 instead of the window size": """
def pool2d_forward(x, kernel_size, stride=None, mode="max"):
    stride = 1 if stride is None else stride
    fn = F.max_pool2d if mode == "max" else F.avg_pool2d
    return fn(x, kernel_size, stride)
""",
        "average divides by the window side k instead of k * k": """
def pool2d_forward(x, kernel_size, stride=None, mode="max"):
    stride = kernel_size if stride is None else stride
    n, c, h, wd = x.shape
    cols = F.unfold(x.reshape(n * c, 1, h, wd), kernel_size, stride=stride)
    out = cols.amax(dim=1) if mode == "max" else cols.sum(dim=1) / kernel_size
    return out.reshape(n, c, (h - kernel_size) // stride + 1, (wd - kernel_size) // stride + 1)
""",
        "ignores the mode (always max)": """
def pool2d_forward(x, kernel_size, stride=None, mode="max"):
    return F.max_pool2d(x, kernel_size, kernel_size if stride is None else stride)
""",
    },
    "max_pool2d_backward": {
        "routes the gradient to every tied maximum": """
def max_pool2d_backward(dout, x, kernel_size, stride=None):
    stride = kernel_size if stride is None else stride
    n, c, h, wd = x.shape
    cols = F.unfold(x.reshape(n * c, 1, h, wd), kernel_size, stride=stride)
    mask = (cols == cols.amax(dim=1, keepdim=True)).to(x.dtype)
    dcols = mask * dout.reshape(n * c, 1, -1)
    return F.fold(dcols, (h, wd), kernel_size, stride=stride).reshape(n, c, h, wd)
""",
        "routes the gradient to every entry of the window": """
def max_pool2d_backward(dout, x, kernel_size, stride=None):
    stride = kernel_size if stride is None else stride
    n, c, h, wd = x.shape
    cols = F.unfold(x.reshape(n * c, 1, h, wd), kernel_size, stride=stride)
    dcols = torch.ones_like(cols) * dout.reshape(n * c, 1, -1)
    return F.fold(dcols, (h, wd), kernel_size, stride=stride).reshape(n, c, h, wd)
""",
        "the last tied maximum gets the gradient": """
def max_pool2d_backward(dout, x, kernel_size, stride=None):
    stride = kernel_size if stride is None else stride
    n, c, h, wd = x.shape
    kk = kernel_size * kernel_size
    cols = F.unfold(x.reshape(n * c, 1, h, wd), kernel_size, stride=stride)
    last = kk - 1 - torch.flip(cols, dims=(1,)).argmax(dim=1, keepdim=True)
    dcols = torch.zeros_like(cols).scatter_(1, last, dout.reshape(n * c, 1, -1))
    return F.fold(dcols, (h, wd), kernel_size, stride=stride).reshape(n, c, h, wd)
""",
        "overlapping windows overwrite instead of adding": """
def max_pool2d_backward(dout, x, kernel_size, stride=None):
    stride = kernel_size if stride is None else stride
    n, c, h, wd = x.shape
    ho, wo = dout.shape[2], dout.shape[3]
    dx = torch.zeros_like(x)
    for i in range(ho):
        for j in range(wo):
            win = x[:, :, stride * i:stride * i + kernel_size, stride * j:stride * j + kernel_size]
            flat = win.reshape(n, c, -1)
            onehot = F.one_hot(flat.argmax(dim=2), flat.shape[2]).to(x.dtype).reshape(win.shape)
            region = dx[:, :, stride * i:stride * i + kernel_size, stride * j:stride * j + kernel_size]
            region[onehot.bool()] = (onehot * dout[:, :, i:i + 1, j:j + 1])[onehot.bool()]
    return dx
""",
        "delegates to autograd through its own forward pass (the exercise is the backward by hand)": """
def max_pool2d_backward(dout, x, kernel_size, stride=None):
    s = kernel_size if stride is None else stride
    with torch.enable_grad():
        xr = x.detach().clone().requires_grad_()
        windows = xr.unfold(2, kernel_size, s).unfold(3, kernel_size, s)
        flat = windows.reshape(*windows.shape[:4], -1)
        picked = torch.gather(flat, -1, flat.argmax(dim=-1, keepdim=True)).squeeze(-1)
        (picked * dout).sum().backward()
    return xr.grad
""",
    },
    "avg_pool2d_backward": {
        "forgets to divide by the window size": """
def avg_pool2d_backward(dout, x, kernel_size, stride=None):
    stride = kernel_size if stride is None else stride
    n, c, h, wd = x.shape
    kk = kernel_size * kernel_size
    dcols = dout.reshape(n * c, 1, -1).expand(n * c, kk, dout.shape[2] * dout.shape[3])
    return F.fold(dcols, (h, wd), kernel_size, stride=stride).reshape(n, c, h, wd)
""",
        "divides by k instead of k * k": """
def avg_pool2d_backward(dout, x, kernel_size, stride=None):
    stride = kernel_size if stride is None else stride
    n, c, h, wd = x.shape
    kk = kernel_size * kernel_size
    dcols = (dout.reshape(n * c, 1, -1) / kernel_size).expand(n * c, kk, dout.shape[2] * dout.shape[3])
    return F.fold(dcols, (h, wd), kernel_size, stride=stride).reshape(n, c, h, wd)
""",
        "overlapping windows overwrite instead of adding": """
def avg_pool2d_backward(dout, x, kernel_size, stride=None):
    stride = kernel_size if stride is None else stride
    k = kernel_size
    dx = torch.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, stride * i:stride * i + k, stride * j:stride * j + k] = dout[:, :, i:i + 1, j:j + 1] / (k * k)
    return dx
""",
    },
    "conv_transpose2d": {
        "a padded convolution with the unflipped kernel": """
def conv_transpose2d(x, w, b=None, stride=1, padding=0):
    kh, kw = w.shape[-2:]
    return F.conv2d(x, w.transpose(0, 1), b, padding=(kh - 1 - padding, kw - 1 - padding))
""",
        "ignores the stride": """
def conv_transpose2d(x, w, b=None, stride=1, padding=0):
    return F.conv_transpose2d(x, w, b, stride=1, padding=padding)
""",
        "padding adds a border instead of cropping": """
def conv_transpose2d(x, w, b=None, stride=1, padding=0):
    out = F.conv_transpose2d(x, w, None, stride=stride)
    out = F.pad(out, (padding, padding, padding, padding))
    return out if b is None else out + b.reshape(1, -1, 1, 1)
""",
        "treats w as (C_out, C_in, kh, kw)": """
def conv_transpose2d(x, w, b=None, stride=1, padding=0):
    return F.conv_transpose2d(x, w.transpose(0, 1), b, stride=stride, padding=padding)
""",
    },
    "box_iou": {
        "inclusive pixel convention (+1 on each side)": """
def box_iou(boxes1, boxes2):
    area1 = (boxes1[:, 2] - boxes1[:, 0] + 1) * (boxes1[:, 3] - boxes1[:, 1] + 1)
    area2 = (boxes2[:, 2] - boxes2[:, 0] + 1) * (boxes2[:, 3] - boxes2[:, 1] + 1)
    lt = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    rb = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = (rb - lt + 1).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area1[:, None] + area2[None, :] - inter)
""",
        "union = sum of the areas": """
def box_iou(boxes1, boxes2):
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    lt = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    rb = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = area1[:, None] + area2[None, :]
    return torch.where(union > 0, inter / union.clamp(min=1e-300), torch.zeros_like(union))
""",
        "no clamp: negative sides multiply to a positive overlap": """
def box_iou(boxes1, boxes2):
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    lt = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    rb = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = rb - lt
    inter = wh[..., 0] * wh[..., 1]
    union = area1[:, None] + area2[None, :] - inter
    return torch.where(union > 0, inter / union, torch.zeros_like(union))
""",
    },
    "nms": {
        "does not sort by score": """
def nms(boxes, scores, iou_threshold):
    iou = box_iou(boxes, boxes)
    keep = []
    for i in range(len(scores)):
        if all(iou[i, j] <= iou_threshold for j in keep):
            keep.append(i)
    return torch.tensor(keep, dtype=torch.long)
""",
        "suppressed boxes still suppress others": """
def nms(boxes, scores, iou_threshold):
    order = torch.sort(scores, descending=True, stable=True).indices.tolist()
    iou = box_iou(boxes, boxes)
    keep = []
    for rank, i in enumerate(order):
        if all(iou[i, j] <= iou_threshold for j in order[:rank]):
            keep.append(i)
    return torch.tensor(keep, dtype=torch.long)
""",
        "suppresses at IoU >= threshold": """
def nms(boxes, scores, iou_threshold):
    order = torch.sort(scores, descending=True, stable=True).indices.tolist()
    iou = box_iou(boxes, boxes)
    keep = []
    for i in order:
        if all(iou[i, j] < iou_threshold for j in keep):
            keep.append(i)
    return torch.tensor(keep, dtype=torch.long)
""",
        "returns the kept indices in index order": """
def nms(boxes, scores, iou_threshold):
    order = torch.sort(scores, descending=True, stable=True).indices.tolist()
    iou = box_iou(boxes, boxes)
    keep = []
    for i in order:
        if all(iou[i, j] <= iou_threshold for j in keep):
            keep.append(i)
    return torch.tensor(sorted(keep), dtype=torch.long)
""",
    },
}

ALTERNATIVES = {
    "conv_output_size": {
        "math.floor of a true division": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    span = dilation * (kernel_size - 1) + 1
    return math.floor((size + 2 * padding - span) / stride) + 1
""",
        "counting the window positions": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    last_start = size + 2 * padding - dilation * (kernel_size - 1) - 1
    return len(range(0, last_start + 1, stride))
""",
    },
    "conv2d_naive": {
        "six nested loops over scalars (numpy)": """
def conv2d_naive(x, w, b, stride=1, padding=0):
    xn = np.pad(x.detach().cpu().numpy(), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    wn, bn = w.detach().cpu().numpy(), b.detach().cpu().numpy()
    n, c, hp, wp = xn.shape
    f, _, kh, kw = wn.shape
    ho, wo = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    y = np.zeros((n, f, ho, wo), dtype=xn.dtype)
    for a in range(n):
        for k in range(f):
            for i in range(ho):
                for j in range(wo):
                    patch = xn[a, :, stride * i:stride * i + kh, stride * j:stride * j + kw]
                    y[a, k, i, j] = np.sum(patch * wn[k]) + bn[k]
    return torch.from_numpy(y).to(x.device)
""",
        "vectorized with F.unfold": """
def conv2d_naive(x, w, b, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    cols = F.unfold(x, (kh, kw), stride=stride, padding=padding)
    out = torch.einsum("fk,nkl->nfl", w.reshape(f, -1), cols) + b[:, None]
    return out.reshape(n, f, (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1)
""",
    },
    "im2col": {
        "loops over output positions": """
def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    kh, kw = kernel_size
    n, c, h, wd = x.shape
    xp = F.pad(x, (padding, padding, padding, padding))
    ho = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    wo = (wd + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    cols = []
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, stride * i:stride * i + dilation * (kh - 1) + 1:dilation,
                       stride * j:stride * j + dilation * (kw - 1) + 1:dilation]
            cols.append(patch.reshape(n, -1))
    return torch.stack(cols, dim=2)
""",
        "as_strided view then reshape": """
def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    kh, kw = kernel_size
    xp = F.pad(x, (padding, padding, padding, padding)).contiguous()
    n, c, hp, wp = xp.shape
    ho = (hp - dilation * (kh - 1) - 1) // stride + 1
    wo = (wp - dilation * (kw - 1) - 1) // stride + 1
    sn, sc, sh, sw = xp.stride()
    v = xp.as_strided((n, c, kh, kw, ho, wo), (sn, sc, sh * dilation, sw * dilation, sh * stride, sw * stride))
    return v.reshape(n, c * kh * kw, ho * wo)
""",
    },
    "conv2d_forward": {
        "einsum over F.unfold's columns": """
def conv2d_forward(x, w, b, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    cols = F.unfold(x, (kh, kw), stride=stride, padding=padding)
    out = torch.einsum("nkl,fk->nfl", cols, w.reshape(f, -1)) + b[None, :, None]
    out = out.reshape(n, f, (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1)
    return out, (x, w, b, stride, padding, cols)
""",
        "one big matrix product over the whole batch, then a permute": """
def conv2d_forward(x, w, b, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    cols = im2col(x, (kh, kw), stride, padding)
    ho, wo = (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1
    big = cols.permute(1, 0, 2).reshape(c * kh * kw, n * ho * wo)
    out = (w.reshape(f, -1) @ big + b[:, None]).reshape(f, n, ho, wo).permute(1, 0, 2, 3)
    return out, (x, w, b, stride, padding, cols)
""",
    },
    "conv2d_backward": {
        "F.fold for col2im and einsum for dw": """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding, cols = cache
    n, f = dout.shape[:2]
    kh, kw = w.shape[-2:]
    d = dout.reshape(n, f, -1)
    dw = torch.einsum("nfl,nkl->fk", d, cols).reshape(w.shape)
    dx = F.fold(torch.einsum("fk,nfl->nkl", w.reshape(f, -1), d), x.shape[-2:], (kh, kw),
                stride=stride, padding=padding)
    return dx, dw, dout.sum(dim=(0, 2, 3))
""",
        "explicit loops over output positions": """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding, cols = cache
    n, f, ho, wo = dout.shape
    kh, kw = w.shape[-2:]
    xp = F.pad(x, (padding, padding, padding, padding))
    dxp = torch.zeros_like(xp)
    dw = torch.zeros_like(w)
    for i in range(ho):
        for j in range(wo):
            win = xp[:, :, stride * i:stride * i + kh, stride * j:stride * j + kw]
            g = dout[:, :, i, j]
            dw += torch.einsum("nf,nchw->fchw", g, win)
            dxp[:, :, stride * i:stride * i + kh, stride * j:stride * j + kw] += torch.einsum("nf,fchw->nchw", g, w)
    h, wd = x.shape[-2:]
    return dxp[:, :, padding:padding + h, padding:padding + wd], dw, dout.sum(dim=(0, 2, 3))
""",
        "dx as a full convolution with the flipped kernel (stride 1) or fold": """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding, cols = cache
    n, f = dout.shape[:2]
    kh, kw = w.shape[-2:]
    d = dout.reshape(n, f, -1)
    dw = (d @ cols.transpose(1, 2)).sum(0).reshape(w.shape)
    if stride == 1:
        full = F.conv2d(dout, torch.flip(w, dims=(2, 3)).transpose(0, 1), padding=(kh - 1, kw - 1))
        h, wd = x.shape[-2:]
        dx = full[:, :, padding:padding + h, padding:padding + wd]
    else:
        dx = F.fold(w.reshape(f, -1).t() @ d, x.shape[-2:], (kh, kw), stride=stride, padding=padding)
    return dx, dw, dout.sum(dim=(0, 2, 3))
""",
    },
    "pool2d_forward": {
        "loops over output positions": """
def pool2d_forward(x, kernel_size, stride=None, mode="max"):
    s = kernel_size if stride is None else stride
    k = kernel_size
    n, c, h, wd = x.shape
    ho, wo = (h - k) // s + 1, (wd - k) // s + 1
    out = x.new_zeros(n, c, ho, wo)
    for i in range(ho):
        for j in range(wo):
            win = x[:, :, s * i:s * i + k, s * j:s * j + k].reshape(n, c, -1)
            out[:, :, i, j] = win.max(dim=2).values if mode == "max" else win.mean(dim=2)
    return out
""",
        "torch.Tensor.unfold twice": """
def pool2d_forward(x, kernel_size, stride=None, mode="max"):
    s = kernel_size if stride is None else stride
    windows = x.unfold(2, kernel_size, s).unfold(3, kernel_size, s)
    return windows.amax(dim=(-2, -1)) if mode == "max" else windows.mean(dim=(-2, -1))
""",
    },
    "max_pool2d_backward": {
        "loop over windows with a first-max one-hot, accumulating": """
def max_pool2d_backward(dout, x, kernel_size, stride=None):
    s = kernel_size if stride is None else stride
    k = kernel_size
    n, c = x.shape[:2]
    dx = torch.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = x[:, :, s * i:s * i + k, s * j:s * j + k].reshape(n, c, -1)
            onehot = F.one_hot(win.argmax(dim=2), k * k).to(x.dtype).reshape(n, c, k, k)
            dx[:, :, s * i:s * i + k, s * j:s * j + k] += onehot * dout[:, :, i:i + 1, j:j + 1]
    return dx
""",
    },
    "avg_pool2d_backward": {
        "F.fold of the shares": """
def avg_pool2d_backward(dout, x, kernel_size, stride=None):
    s = kernel_size if stride is None else stride
    n, c, h, wd = x.shape
    kk = kernel_size * kernel_size
    dcols = (dout.reshape(n * c, 1, -1) / kk).repeat(1, kk, 1)
    return F.fold(dcols, (h, wd), kernel_size, stride=s).reshape(n, c, h, wd)
""",
        "a transposed convolution with a constant kernel": """
def avg_pool2d_backward(dout, x, kernel_size, stride=None):
    s = kernel_size if stride is None else stride
    n, c, h, wd = x.shape
    k = kernel_size
    kernel = torch.full((1, 1, k, k), 1.0 / (k * k), dtype=dout.dtype, device=dout.device)
    d = dout.reshape(n * c, 1, dout.shape[2], dout.shape[3])
    out = F.conv_transpose2d(d, kernel, stride=s)
    dx = torch.zeros(n * c, 1, h, wd, dtype=dout.dtype, device=dout.device)
    dx[:, :, :out.shape[2], :out.shape[3]] = out
    return dx.reshape(n, c, h, wd)
""",
    },
    "conv_transpose2d": {
        "zero insertion, full padding and a convolution with the flipped kernel": """
def conv_transpose2d(x, w, b=None, stride=1, padding=0):
    n, cin, h, wd = x.shape
    kh, kw = w.shape[-2:]
    up = x.new_zeros(n, cin, (h - 1) * stride + 1, (wd - 1) * stride + 1)
    up[:, :, ::stride, ::stride] = x
    kernel = torch.flip(w, dims=(2, 3)).transpose(0, 1)
    return F.conv2d(up, kernel, b, padding=(kh - 1 - padding, kw - 1 - padding))
""",
        "stamping loop over input pixels": """
def conv_transpose2d(x, w, b=None, stride=1, padding=0):
    n, cin, h, wd = x.shape
    _, cout, kh, kw = w.shape
    full = x.new_zeros(n, cout, (h - 1) * stride + kh, (wd - 1) * stride + kw)
    for i in range(h):
        for j in range(wd):
            full[:, :, stride * i:stride * i + kh, stride * j:stride * j + kw] += \\
                torch.einsum("nc,cdpq->ndpq", x[:, :, i, j], w)
    out = full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]
    return out if b is None else out + b[None, :, None, None]
""",
        "the gradient of a convolution, by autograd": """
def conv_transpose2d(x, w, b=None, stride=1, padding=0):
    n, cin, h, wd = x.shape
    _, cout, kh, kw = w.shape
    ho, wo = (h - 1) * stride - 2 * padding + kh, (wd - 1) * stride - 2 * padding + kw
    with torch.enable_grad():
        z = torch.zeros(n, cout, ho, wo, dtype=x.dtype, device=x.device, requires_grad=True)
        y = F.conv2d(z, w, stride=stride, padding=padding)
        (out,) = torch.autograd.grad(y, z, grad_outputs=x)
    return out if b is None else out + b[None, :, None, None]
""",
    },
    "box_iou": {
        "double loop over pairs": """
def box_iou(boxes1, boxes2):
    out = torch.zeros(len(boxes1), len(boxes2), dtype=boxes1.dtype)
    for i in range(len(boxes1)):
        for j in range(len(boxes2)):
            ax1, ay1, ax2, ay2 = boxes1[i].tolist()
            bx1, by1, bx2, by2 = boxes2[j].tolist()
            iw = max(0.0, min(ax2, bx2) - max(ax1, bx1))
            ih = max(0.0, min(ay2, by2) - max(ay1, by1))
            union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - iw * ih
            out[i, j] = iw * ih / union if union > 0 else 0.0
    return out
""",
        "numpy broadcasting": """
def box_iou(boxes1, boxes2):
    a, b = boxes1.cpu().numpy()[:, None, :], boxes2.cpu().numpy()[None, :, :]
    iw = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    ih = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = iw * ih
    union = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1]) + (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1]) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
    return torch.from_numpy(iou.astype(a.dtype))
""",
    },
    "nms": {
        "python lists and a suppressed mask": """
def nms(boxes, scores, iou_threshold):
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    iou = box_iou(boxes, boxes)
    removed = [False] * len(order)
    keep = []
    for i in order:
        if removed[i]:
            continue
        keep.append(i)
        for j in range(len(order)):
            if iou[i, j] > iou_threshold:
                removed[j] = True
    return torch.tensor(keep, dtype=torch.long)
""",
        "numpy with a shrinking candidate list": """
def nms(boxes, scores, iou_threshold):
    iou = box_iou(boxes, boxes).cpu().numpy()
    order = np.argsort(-scores.cpu().numpy(), kind="stable")
    keep = []
    while order.size > 0:
        i = order[0]
        keep.append(int(i))
        order = order[1:][iou[i, order[1:]] <= iou_threshold]
    return torch.tensor(keep, dtype=torch.int64)
""",
    },
}

SAMPLE_WRONG = ["conv2d_backward", "max_pool2d_backward"]

# Wrong answers written after the first set.
MUTANTS["conv2d_backward"].update({
    "dw slides over the input with stride 1, ignoring the stride": """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding, cols = cache
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    ho, wo = dout.shape[2], dout.shape[3]
    d = dout.reshape(n, f, ho * wo)
    db = d.sum(dim=(0, 2))
    xp = torch.nn.functional.pad(x, (padding, padding, padding, padding))
    dw = torch.zeros_like(w)
    for p in range(kh):
        for q in range(kw):
            dw[:, :, p, q] = torch.einsum("nfij,ncij->fc", dout, xp[:, :, p:p + ho, q:q + wo])
    dcols = (w.reshape(f, -1).t() @ d).reshape(n, c, kh, kw, ho, wo)
    dxp = x.new_zeros(n, c, h + 2 * padding, wd + 2 * padding)
    for p in range(kh):
        for q in range(kw):
            dxp[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride] += dcols[:, :, p, q]
    return dxp[:, :, padding:padding + h, padding:padding + wd], dw, db
""",
})

HINTS = {
    "conv2d_backward": {
        "dw transposed (a (C*kh*kw, F) matrix reshaped to (F, C, kh, kw))": "dw comes out transposed: the product "
            "of dout's rows with the columns is (F, C*kh*kw) before it is reshaped to w's shape.",
        "dw slides over the input with stride 1, ignoring the stride": "dw pairs each output position with the "
            "input window it was computed from: windows start every `stride` pixels, not every pixel.",
    },
}

# The stepping stones of the backward passes and the concept questions.
MUTANTS["conv2d_weight_grad"] = {
    "flipped kernel (a true convolution's gradient)": """
def conv2d_weight_grad(x, dout_f, kernel_size, stride=1, padding=0):
    kh, kw = kernel_size
    ho, wo = dout_f.shape[1], dout_f.shape[2]
    xp = F.pad(x, (padding, padding, padding, padding))
    dw = x.new_zeros(x.shape[1], kh, kw)
    for p in range(kh):
        for q in range(kw):
            tap = xp[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride]
            dw[:, p, q] = (tap * dout_f[:, None]).sum(dim=(0, 2, 3))
    return dw.flip(-1, -2)
""",
    "ignores the stride (reads consecutive pixels)": """
def conv2d_weight_grad(x, dout_f, kernel_size, stride=1, padding=0):
    kh, kw = kernel_size
    ho, wo = dout_f.shape[1], dout_f.shape[2]
    xp = F.pad(x, (padding, padding, padding, padding))
    dw = x.new_zeros(x.shape[1], kh, kw)
    for p in range(kh):
        for q in range(kw):
            tap = xp[:, :, p:p + ho, q:q + wo]
            dw[:, p, q] = (tap * dout_f[:, None]).sum(dim=(0, 2, 3))
    return dw
""",
    "averages over the batch": """
def conv2d_weight_grad(x, dout_f, kernel_size, stride=1, padding=0):
    kh, kw = kernel_size
    ho, wo = dout_f.shape[1], dout_f.shape[2]
    xp = F.pad(x, (padding, padding, padding, padding))
    dw = x.new_zeros(x.shape[1], kh, kw)
    for p in range(kh):
        for q in range(kw):
            tap = xp[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride]
            dw[:, p, q] = (tap * dout_f[:, None]).sum(dim=(2, 3)).mean(0)
    return dw
""",
    "forgets the padding": """
def conv2d_weight_grad(x, dout_f, kernel_size, stride=1, padding=0):
    kh, kw = kernel_size
    ho, wo = dout_f.shape[1], dout_f.shape[2]
    xp = F.pad(x, (0, 2 * padding, 0, 2 * padding))
    dw = x.new_zeros(x.shape[1], kh, kw)
    for p in range(kh):
        for q in range(kw):
            tap = xp[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride]
            dw[:, p, q] = (tap * dout_f[:, None]).sum(dim=(0, 2, 3))
    return dw
""",
}
ALTERNATIVES["conv2d_weight_grad"] = {
    "im2col and einsum": """
def conv2d_weight_grad(x, dout_f, kernel_size, stride=1, padding=0):
    kh, kw = kernel_size
    cols = im2col(x, (kh, kw), stride, padding)
    return torch.einsum("nkl,nl->k", cols, dout_f.reshape(dout_f.shape[0], -1)).reshape(x.shape[1], kh, kw)
""",
    "loops over the output positions": """
def conv2d_weight_grad(x, dout_f, kernel_size, stride=1, padding=0):
    kh, kw = kernel_size
    xp = F.pad(x, (padding, padding, padding, padding))
    dw = torch.zeros(x.shape[1], kh, kw, dtype=x.dtype)
    for i in range(dout_f.shape[1]):
        for j in range(dout_f.shape[2]):
            window = xp[:, :, stride * i:stride * i + kh, stride * j:stride * j + kw]
            dw += (window * dout_f[:, i, j][:, None, None, None]).sum(0)
    return dw
""",
}
MUTANTS["max_pool2d_routing"] = {
    "marks every tied maximum": """
def max_pool2d_routing(x, kernel_size, stride=None):
    stride = kernel_size if stride is None else stride
    k = kernel_size
    n, c, h, wd = x.shape
    ho, wo = (h - k) // stride + 1, (wd - k) // stride + 1
    cols = im2col(x.reshape(n * c, 1, h, wd), (k, k), stride)
    picked = (cols == cols.amax(dim=1, keepdim=True)).to(x.dtype).reshape(n, c, k, k, ho, wo)
    counts = torch.zeros_like(x)
    for p in range(k):
        for q in range(k):
            counts[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride] += picked[:, :, p, q]
    return counts
""",
    "a 0/1 mask (overlapping windows not counted)": """
def max_pool2d_routing(x, kernel_size, stride=None):
    stride = kernel_size if stride is None else stride
    k = kernel_size
    n, c, h, wd = x.shape
    ho, wo = (h - k) // stride + 1, (wd - k) // stride + 1
    cols = im2col(x.reshape(n * c, 1, h, wd), (k, k), stride)
    picked = torch.zeros_like(cols).scatter_(1, cols.argmax(dim=1, keepdim=True), 1.0).reshape(n, c, k, k, ho, wo)
    counts = torch.zeros_like(x)
    for p in range(k):
        for q in range(k):
            view = counts[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride]
            view.copy_(torch.maximum(view, picked[:, :, p, q]))
    return counts
""",
    "the last maximum wins ties": """
def max_pool2d_routing(x, kernel_size, stride=None):
    stride = kernel_size if stride is None else stride
    k = kernel_size
    n, c, h, wd = x.shape
    ho, wo = (h - k) // stride + 1, (wd - k) // stride + 1
    cols = im2col(x.reshape(n * c, 1, h, wd), (k, k), stride)
    last = k * k - 1 - cols.flip(1).argmax(dim=1, keepdim=True)
    picked = torch.zeros_like(cols).scatter_(1, last, 1.0).reshape(n, c, k, k, ho, wo)
    counts = torch.zeros_like(x)
    for p in range(k):
        for q in range(k):
            counts[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride] += picked[:, :, p, q]
    return counts
""",
}
ALTERNATIVES["max_pool2d_routing"] = {
    "a loop over the windows": """
def max_pool2d_routing(x, kernel_size, stride=None):
    stride = kernel_size if stride is None else stride
    k = kernel_size
    n, c, h, wd = x.shape
    counts = torch.zeros_like(x)
    for i in range((h - k) // stride + 1):
        for j in range((wd - k) // stride + 1):
            window = x[:, :, stride * i:stride * i + k, stride * j:stride * j + k].reshape(n, c, k * k)
            first = window.argmax(dim=-1)
            for a in range(n):
                for b in range(c):
                    r, s = divmod(int(first[a, b]), k)
                    counts[a, b, stride * i + r, stride * j + s] += 1
    return counts
""",
}
MUTANTS["concept_receptive_field"] = {
    "only its own kernel": 'def concept_receptive_field():\n    return "a"\n',
    "ignores the pooling's stride": 'def concept_receptive_field():\n    return "b"\n',
    "kernel sizes add up": 'def concept_receptive_field():\n    return "d"\n',
}
ALTERNATIVES["concept_receptive_field"] = {"upper case": 'def concept_receptive_field():\n    return "C"\n'}
MUTANTS["concept_parameter_count"] = {
    "forgets the input channels": 'def concept_parameter_count():\n    return "b"\n',
    "weights per position": 'def concept_parameter_count():\n    return "c"\n',
    "forgets the kernel area": 'def concept_parameter_count():\n    return "d"\n',
}
ALTERNATIVES["concept_parameter_count"] = {"plain letter": 'def concept_parameter_count():\n    return "a"\n'}
MUTANTS["concept_equivariance"] = {
    "convolution is invariant": 'def concept_equivariance():\n    return "a"\n',
    "pooling makes it invariant": 'def concept_equivariance():\n    return "c"\n',
    "values change": 'def concept_equivariance():\n    return "d"\n',
}
ALTERNATIVES["concept_equivariance"] = {"with spaces": 'def concept_equivariance():\n    return " b"\n'}

# The make-it-work task and its stepping stone: a CNN trained by the student's own backward passes.
SAMPLE_WRONG = ["conv_transpose2d", "nms"]  # cnn_gradients calls conv2d_backward and max_pool2d_backward


def _edit(source: str, *pairs: tuple[str, str], prefix: str = "") -> str:
    """``prefix`` + ``source`` with each ``old`` replaced by ``new`` (each ``old`` must occur)."""
    for old, new in pairs:
        if old not in source:
            raise ValueError(f"mutant edit not found: {old!r}")
        source = source.replace(old, new)
    return prefix + source


_CNN_GRADIENTS = '''
def cnn_gradients(params, x, y):
    n = x.shape[0]
    a1, cache1 = conv2d_forward(x, params["w1"], params["b1"], 1, 1)
    r1 = a1.clamp(min=0)
    p1 = pool2d_forward(r1, 2)
    a2, cache2 = conv2d_forward(p1, params["w2"], params["b2"], 1, 1)
    r2 = a2.clamp(min=0)
    feat = r2.mean(dim=(2, 3))
    z = feat @ params["W"] + params["b"]
    log_probs = z - z.logsumexp(dim=1, keepdim=True)
    rows = torch.arange(n)
    loss = -log_probs[rows, y].mean()
    dz = log_probs.exp()
    dz[rows, y] -= 1.0
    dz = dz / n
    grads = {"W": feat.t() @ dz, "b": dz.sum(dim=0)}
    dr2 = (dz @ params["W"].t())[:, :, None, None].expand_as(r2) / (r2.shape[2] * r2.shape[3])
    dp1, grads["w2"], grads["b2"] = conv2d_backward(dr2 * (a2 > 0), cache2)
    dr1 = max_pool2d_backward(dp1, r1, 2)
    _, grads["w1"], grads["b1"] = conv2d_backward(dr1 * (a1 > 0), cache1)
    return loss, grads
'''

_TRAIN_CNN = '''
def train_digits_cnn(images, labels, seed=0, channels=(8, 16), steps=300, batch_size=64, lr=0.02):
    g = torch.Generator().manual_seed(seed)
    c1, c2 = channels
    params = {"w1": torch.randn(c1, 1, 3, 3, generator=g) * math.sqrt(2 / 9), "b1": torch.zeros(c1),
              "w2": torch.randn(c2, c1, 3, 3, generator=g) * math.sqrt(2 / (9 * c1)), "b2": torch.zeros(c2),
              "W": torch.randn(c2, 10, generator=g) / math.sqrt(c2), "b": torch.zeros(10)}
    m = {k: torch.zeros_like(v) for k, v in params.items()}
    v = {k: torch.zeros_like(p) for k, p in params.items()}
    for step in range(1, steps + 1):
        idx = torch.randint(0, images.shape[0], (batch_size,), generator=g)
        _, grads = cnn_gradients(params, images[idx], labels[idx])
        for k in params:
            m[k] = 0.9 * m[k] + 0.1 * grads[k]
            v[k] = 0.999 * v[k] + 0.001 * grads[k] * grads[k]
            params[k] = params[k] - lr * (m[k] / (1 - 0.9 ** step)) / ((v[k] / (1 - 0.999 ** step)).sqrt() + 1e-8)
    return params
'''

# classic bugs of the convolution's backward pass, as a student could have left them in conv2d_backward
_BUGGY_CONV_BACKWARD = '''
def _conv2d_backward_{name}(dout, cache):
    x, w, b, stride, padding, cols = cache
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    ho, wo = dout.shape[2], dout.shape[3]
    d = dout.reshape(n, f, ho * wo)
    db = d.sum(dim=(0, 2))
    dw = (d @ cols.transpose(1, 2)).sum(dim=0).reshape(w.shape)
    dcols = (w.reshape(f, -1).t() @ d).reshape(n, c, kh, kw, ho, wo)
    dxp = x.new_zeros(n, c, h + 2 * padding, wd + 2 * padding)
    for p in range(kh):
        for q in range(kw):
            dxp[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride] += dcols[:, :, p, q]
    {bug}
    return dx, dw, db
'''
_FLIPPED_DW = _BUGGY_CONV_BACKWARD.format(
    name="flipped", bug="dx, dw = dxp[:, :, padding:padding + h, padding:padding + wd], dw.flip(2, 3)")
_TRANSPOSED_DW = _BUGGY_CONV_BACKWARD.format(
    name="transposed", bug="dx, dw = dxp[:, :, padding:padding + h, padding:padding + wd], dw.transpose(2, 3)")
_DX_ONE_SIDE = _BUGGY_CONV_BACKWARD.format(name="one_side", bug="dx = dxp[:, :, :h, :wd]")


def _with_conv_backward(source: str, buggy: str, name: str) -> str:
    """``buggy`` (a faulty backward named ``_conv2d_backward_<name>``), then ``source`` calling it."""
    return buggy + source.replace("conv2d_backward(", f"_conv2d_backward_{name}(")


MUTANTS["cnn_gradients"] = {
    "its conv2d_backward crops the padding of dx from one side only (a shifted gradient for the first layer)":
        _with_conv_backward(_CNN_GRADIENTS, _DX_ONE_SIDE, "one_side"),
    "its conv2d_backward flips the weight gradient's taps": _with_conv_backward(_CNN_GRADIENTS, _FLIPPED_DW, "flipped"),
    "does not divide the average's gradient among the positions": _edit(
        _CNN_GRADIENTS, (" / (r2.shape[2] * r2.shape[3])", "")),
    "passes the gradient through the second ReLU everywhere": _edit(
        _CNN_GRADIENTS, ("conv2d_backward(dr2 * (a2 > 0), cache2)", "conv2d_backward(dr2, cache2)")),
    "sums the loss over the batch but averages its gradient": _edit(
        _CNN_GRADIENTS, ("loss = -log_probs[rows, y].mean()", "loss = -log_probs[rows, y].sum()")),
}

# The task's own mutants: training through a conv2d_backward with a classic bug of the weight gradient.
MUTANTS["train_digits_cnn"] = {
    "trains through a conv2d_backward whose weight gradient flips the kernel's taps": _with_conv_backward(
        _CNN_GRADIENTS, _FLIPPED_DW, "flipped") + _TRAIN_CNN,
    "trains through a conv2d_backward whose weight gradient swaps the kernel's rows and columns":
        _with_conv_backward(_CNN_GRADIENTS, _TRANSPOSED_DW, "transposed") + _TRAIN_CNN,
}

ALTERNATIVES["cnn_gradients"] = {
    "a max-shifted softmax, and the global average's backward through avg_pool2d_backward": _edit(
        _CNN_GRADIENTS,
        ("log_probs = z - z.logsumexp(dim=1, keepdim=True)",
         "shifted = z - z.max(dim=1, keepdim=True).values\n"
         "    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))"),
        ("dr2 = (dz @ params[\"W\"].t())[:, :, None, None].expand_as(r2) / (r2.shape[2] * r2.shape[3])",
         "dfeat = (dz @ params[\"W\"].t())[:, :, None, None]\n"
         "    dr2 = avg_pool2d_backward(dfeat, r2, r2.shape[2], stride=r2.shape[2]) if r2.shape[2] == r2.shape[3] "
         "else dfeat.expand_as(r2) / (r2.shape[2] * r2.shape[3])")),
}
ALTERNATIVES["train_digits_cnn"] = {
    "wider layers, fewer steps, explicit Adam state per parameter": _edit(
        _TRAIN_CNN, ("channels=(8, 16), steps=300, batch_size=64, lr=0.02", "channels=(12, 24), steps=250, batch_size=64, lr=0.02")),
}

JUDGED_ON_A_TARGET = ["train_digits_cnn"]

# Style: the Gram matrix and the style loss.
_GRAM = '''
def gram_matrix(features):
    n, c = features.shape[:2]
    flat = features.reshape(n, c, -1)
    return flat @ flat.transpose(1, 2) / flat.shape[2]
'''
_STYLE = '''
def style_loss(features, style_features):
    n, c, h, w = features.shape
    diff = gram_matrix(features) - gram_matrix(style_features)
    grad = 4.0 * diff @ features.reshape(n, c, h * w) / (h * w)
    return (diff * diff).sum(), grad.reshape(features.shape)
'''
_UNNORMALISED_GRAM = '''
def _gram_unnormalised(features):
    flat = features.reshape(features.shape[0], features.shape[1], -1)
    return flat @ flat.transpose(1, 2)
'''
MUTANTS["gram_matrix"] = {
    "does not normalise (a sum over the positions)": _edit(_GRAM, (" / flat.shape[2]", "")),
    "normalises by the channels instead of the positions": _edit(_GRAM, (" / flat.shape[2]", " / c")),
    "normalises by channels times positions": _edit(_GRAM, (" / flat.shape[2]", " / (c * flat.shape[2])")),
    "transposed product (positions x positions)": _edit(
        _GRAM, ("flat @ flat.transpose(1, 2)", "flat.transpose(1, 2) @ flat")),
}
MUTANTS["style_loss"] = {
    "misses a factor 2 in the gradient (F enters F F^T twice)": _edit(_STYLE, ("grad = 4.0 *", "grad = 2.0 *")),
    "gradient of the unnormalised Gram matrices": _edit(
        _STYLE, ("diff = gram_matrix(features) - gram_matrix(style_features)",
                 "diff = gram_matrix(features) - gram_matrix(style_features)\n"
                 "    raw = _gram_unnormalised(features) - _gram_unnormalised(style_features)"),
        ("grad = 4.0 * diff @ features.reshape(n, c, h * w) / (h * w)",
         "grad = 4.0 * raw @ features.reshape(n, c, h * w)"), prefix=_UNNORMALISED_GRAM),
    "normalises the gradient by the channels instead of the positions": _edit(
        _STYLE, ("grad = 4.0 * diff @ features.reshape(n, c, h * w) / (h * w)",
                 "grad = 4.0 * diff @ features.reshape(n, c, h * w) / c")),
    "flips the gradient's sign (the style's Gram minus the generated one's)": _edit(
        _STYLE, ("grad = 4.0 * diff @", "grad = -4.0 * diff @")),
    "averages the squared differences instead of summing them": _edit(
        _STYLE, ("return (diff * diff).sum()", "return (diff * diff).mean()")),
}
ALTERNATIVES["gram_matrix"] = {
    "einsum over the positions": '''
def gram_matrix(features):
    h, w = features.shape[-2:]
    return torch.einsum("nchw,ndhw->ncd", features, features) / (h * w)
''',
}
ALTERNATIVES["style_loss"] = {
    "a loop over the batch with the general Gram backward (Gamma + Gamma^T) F / M": '''
def style_loss(features, style_features):
    n, c, h, w = features.shape
    loss = features.new_zeros(())
    grad = torch.zeros_like(features)
    for i in range(n):
        f = features[i].reshape(c, h * w)
        s = style_features[i].reshape(c, -1)
        d = f @ f.T / (h * w) - s @ s.T / s.shape[1]
        loss = loss + (d ** 2).sum()
        upstream = 2 * d
        grad[i] = ((upstream + upstream.T) @ f / (h * w)).reshape(c, h, w)
    return loss, grad
''',
}

EQUIVALENT_MUTATIONS = {
    "style_loss": {
        "transpose: `4.0 * diff @ features.reshape(n, c, h * w)` -> `(4.0 * diff).transpose(-1, -2) @ "
        "features.reshape(n, c, h...` in `4.0 * diff @ features.reshape(n, c, h * w) / (h * w)`":
            "the difference of two Gram matrices is symmetric: transposing it changes nothing",
    },
}

_GRAM_BACKWARD = '''
def gram_backward(dgram, features):
    n, c, h, w = features.shape
    both = dgram + dgram.transpose(1, 2)
    return (both @ features.reshape(n, c, h * w) / (h * w)).reshape(features.shape)
'''
MUTANTS["gram_backward"] = {
    "follows one path only (the row of G, not its column)": _edit(
        _GRAM_BACKWARD, ("both = dgram + dgram.transpose(1, 2)", "both = dgram")),
    "doubles dgram (right only when it is symmetric)": _edit(
        _GRAM_BACKWARD, ("both = dgram + dgram.transpose(1, 2)", "both = 2 * dgram")),
    "does not divide by the number of positions": _edit(_GRAM_BACKWARD, (" / (h * w))", ")")),
    "divides by the channels instead of the positions": _edit(_GRAM_BACKWARD, (" / (h * w))", " / c)")),
}
ALTERNATIVES["gram_backward"] = {
    "einsum, the two paths written out": '''
def gram_backward(dgram, features):
    h, w = features.shape[-2:]
    rows = torch.einsum("nab,nbhw->nahw", dgram, features)
    cols = torch.einsum("nba,nbhw->nahw", dgram, features)
    return (rows + cols) / (h * w)
''',
}
EQUIVALENT_MUTATIONS["gram_backward"] = {
    "transpose: `both @ features.reshape(n, c, h * w)` -> `both.transpose(-1, -2) @ features.reshape(n, c, h * w)` "
    "in `both @ features.reshape(n, c, h * w) / (h * w)`":
        "dgram plus its transpose is symmetric: transposing it changes nothing",
}
