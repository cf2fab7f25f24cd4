"""Classic wrong answers and correct alternatives for chapter 14 (normalizing flows and diffusion models).

The seeds' slips are here as mutants: the textbook's Algorithm 2 coefficients, its DDIM notation (alpha for
alpha-bar), its substitution of sqrt(alpha_bar_t) for the prior mean in the posterior, its (1 + w) guidance.
"""

CHAPTER = "14-flows-and-diffusion"

_JAC = """
def _jacobian_rows(x, inverse):
    with torch.enable_grad():
        xr = x.detach().clone().requires_grad_(True)
        z = inverse(xr)
        rows = [torch.autograd.grad(z[:, i].sum(), xr, retain_graph=True)[0] for i in range(z.shape[1])]
    return z.detach(), torch.stack(rows, dim=1)
"""

_EPS_NET = """
class _Net(torch.nn.Module):
    def __init__(self, T, width=128, n_freq=8):
        super().__init__()
        self.T = T
        self.register_buffer("freqs", torch.pi * 2.0 ** torch.arange(n_freq) / 2)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(2 + 2 * n_freq, width), torch.nn.SiLU(), torch.nn.Linear(width, width), torch.nn.SiLU(),
            torch.nn.Linear(width, width), torch.nn.SiLU(), torch.nn.Linear(width, 2))

    def forward(self, x, t):
        s = (t.to(x.dtype) / self.T).reshape(-1, 1) * self.freqs
        return self.net(torch.cat([x, torch.sin(s), torch.cos(s)], dim=1))
"""


def _train(loss_lines: str) -> str:
    """A train_diffusion whose loss is computed by ``loss_lines`` (names: model, x0, t, noise, betas)."""
    return _EPS_NET + """
def train_diffusion(x_train, betas, seed):
    T = betas.shape[0] - 1
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = _Net(T)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 3000)
    for _ in range(3000):
        x0 = x_train[torch.randint(0, x_train.shape[0], (256,), generator=gen)]
        t = torch.randint(1, T + 1, (256,), generator=gen)
        noise = torch.randn(256, 2, generator=gen)
""" + loss_lines + """
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model.eval()
"""


MUTANTS = {
    "flow_log_prob": {
        "subtracts the inverse's log-determinant (sign of the log-det)": _JAC + """
def flow_log_prob(x, inverse):
    z, jac = _jacobian_rows(x, inverse)
    base = -0.5 * (z ** 2).sum(-1) - 0.5 * z.shape[1] * math.log(2 * math.pi)
    return (base - torch.linalg.slogdet(jac)[1]).to(x.dtype)
""",
        "log of the determinant without the absolute value": _JAC + """
def flow_log_prob(x, inverse):
    z, jac = _jacobian_rows(x, inverse)
    base = -0.5 * (z ** 2).sum(-1) - 0.5 * z.shape[1] * math.log(2 * math.pi)
    return (base + torch.log(torch.linalg.det(jac))).to(x.dtype)
""",
        "forgets the normal's constant": _JAC + """
def flow_log_prob(x, inverse):
    z, jac = _jacobian_rows(x, inverse)
    return (-0.5 * (z ** 2).sum(-1) + torch.linalg.slogdet(jac)[1]).to(x.dtype)
""",
        "no Jacobian term at all": """
def flow_log_prob(x, inverse):
    z = inverse(x)
    return (-0.5 * (z ** 2).sum(-1) - 0.5 * z.shape[1] * math.log(2 * math.pi)).detach()
""",
    },
    "affine_coupling_forward": {
        "log-det sums s over every entry (masked ones too)": """
def affine_coupling_forward(z, mask, scale_net, shift_net):
    keep = z * mask
    s, b = scale_net(keep), shift_net(keep)
    x = keep + (1 - mask) * (z * torch.exp(s) + b)
    return x, s.sum(-1)
""",
        "log-det sums exp(s) instead of s": """
def affine_coupling_forward(z, mask, scale_net, shift_net):
    keep = z * mask
    s, b = scale_net(keep), shift_net(keep)
    x = keep + (1 - mask) * (z * torch.exp(s) + b)
    return x, ((1 - mask) * torch.exp(s)).sum(-1)
""",
        "the networks see the whole z (not invertible)": """
def affine_coupling_forward(z, mask, scale_net, shift_net):
    s, b = scale_net(z), shift_net(z)
    x = z * mask + (1 - mask) * (z * torch.exp(s) + b)
    return x, ((1 - mask) * s).sum(-1)
""",
        "mask read the other way round (1 = transformed)": """
def affine_coupling_forward(z, mask, scale_net, shift_net):
    keep = z * (1 - mask)
    s, b = scale_net(keep), shift_net(keep)
    x = keep + mask * (z * torch.exp(s) + b)
    return x, (mask * s).sum(-1)
""",
    },
    "affine_coupling_inverse": {
        "multiplies by exp(s) instead of dividing": """
def affine_coupling_inverse(x, mask, scale_net, shift_net):
    keep = x * mask
    s, b = scale_net(keep), shift_net(keep)
    return keep + (1 - mask) * (x - b) * torch.exp(s), -((1 - mask) * s).sum(-1)
""",
        "undoes the scale before the shift": """
def affine_coupling_inverse(x, mask, scale_net, shift_net):
    keep = x * mask
    s, b = scale_net(keep), shift_net(keep)
    return keep + (1 - mask) * (x * torch.exp(-s) - b), -((1 - mask) * s).sum(-1)
""",
        "returns the forward log-determinant (sign)": """
def affine_coupling_inverse(x, mask, scale_net, shift_net):
    keep = x * mask
    s, b = scale_net(keep), shift_net(keep)
    return keep + (1 - mask) * (x - b) * torch.exp(-s), ((1 - mask) * s).sum(-1)
""",
    },
    "ddpm_schedule": {
        "alpha_bar = alpha (no product)": """
def ddpm_schedule(betas):
    return 1 - betas, 1 - betas
""",
        "cumulative product of the betas": """
def ddpm_schedule(betas):
    return 1 - betas, torch.cumprod(betas, 0)
""",
        "product excluding step t (shifted by one)": """
def ddpm_schedule(betas):
    alphas = 1 - betas
    bars = torch.cat([torch.ones(1, dtype=betas.dtype), torch.cumprod(alphas, 0)[:-1]])
    return alphas, bars
""",
        "1 - cumulative sum of betas": """
def ddpm_schedule(betas):
    return 1 - betas, 1 - torch.cumsum(betas, 0)
""",
    },
    "q_sample": {
        "alpha_t instead of alpha_bar_t": """
def q_sample(x0, t, noise, betas):
    a = (1 - betas).to(x0.dtype)[t].unsqueeze(-1)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise
""",
        "no square roots": """
def q_sample(x0, t, noise, betas):
    ab = ddpm_schedule(betas)[1].to(x0.dtype)[t].unsqueeze(-1)
    return ab * x0 + (1 - ab) * noise
""",
        "alpha_bar read at t - 1 (off by one)": """
def q_sample(x0, t, noise, betas):
    ab = ddpm_schedule(betas)[1].to(x0.dtype)[t - 1].unsqueeze(-1)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise
""",
    },
    "ddpm_posterior": {
        "the textbook's substitution: prior mean sqrt(alpha_bar_t) x0": """
def ddpm_posterior(x0, xt, t, betas):
    alphas, bars = ddpm_schedule(betas.to(x0.dtype))
    a, ab, abp = alphas[t].unsqueeze(-1), bars[t].unsqueeze(-1), bars[t - 1].unsqueeze(-1)
    mean = ab.sqrt() * (1 - a) / (1 - ab) * x0 + a.sqrt() * (1 - abp) / (1 - ab) * xt
    return mean, ((1 - a) * (1 - abp) / (1 - ab)).squeeze(-1)
""",
        "alpha and alpha_bar swapped in the x_t coefficient": """
def ddpm_posterior(x0, xt, t, betas):
    alphas, bars = ddpm_schedule(betas.to(x0.dtype))
    a, ab, abp = alphas[t].unsqueeze(-1), bars[t].unsqueeze(-1), bars[t - 1].unsqueeze(-1)
    mean = abp.sqrt() * (1 - a) / (1 - ab) * x0 + ab.sqrt() * (1 - abp) / (1 - ab) * xt
    return mean, ((1 - a) * (1 - abp) / (1 - ab)).squeeze(-1)
""",
        "variance beta_t instead of the posterior variance": """
def ddpm_posterior(x0, xt, t, betas):
    alphas, bars = ddpm_schedule(betas.to(x0.dtype))
    a, ab, abp = alphas[t].unsqueeze(-1), bars[t].unsqueeze(-1), bars[t - 1].unsqueeze(-1)
    mean = abp.sqrt() * (1 - a) / (1 - ab) * x0 + a.sqrt() * (1 - abp) / (1 - ab) * xt
    return mean, (1 - a).squeeze(-1)
""",
        "no square roots on the alphas": """
def ddpm_posterior(x0, xt, t, betas):
    alphas, bars = ddpm_schedule(betas.to(x0.dtype))
    a, ab, abp = alphas[t].unsqueeze(-1), bars[t].unsqueeze(-1), bars[t - 1].unsqueeze(-1)
    mean = abp * (1 - a) / (1 - ab) * x0 + a * (1 - abp) / (1 - ab) * xt
    return mean, ((1 - a) * (1 - abp) / (1 - ab)).squeeze(-1)
""",
    },
    "ddpm_loss": {
        "regresses x0 instead of the noise": """
def ddpm_loss(eps_model, x0, t, noise, betas):
    return ((x0 - eps_model(q_sample(x0, t, noise, betas), t)) ** 2).mean()
""",
        "gives the model t - 1": """
def ddpm_loss(eps_model, x0, t, noise, betas):
    return ((noise - eps_model(q_sample(x0, t, noise, betas), t - 1)) ** 2).mean()
""",
        "sums over the data dimensions": """
def ddpm_loss(eps_model, x0, t, noise, betas):
    return ((noise - eps_model(q_sample(x0, t, noise, betas), t)) ** 2).sum(-1).mean()
""",
        "the model sees x0 instead of x_t": """
def ddpm_loss(eps_model, x0, t, noise, betas):
    return ((noise - eps_model(x0, t)) ** 2).mean()
""",
    },
    "ddpm_sample": {
        "the textbook's Algorithm 2 as printed": """
def ddpm_sample(eps_model, x_T, noises, betas):
    alphas, bars = ddpm_schedule(betas.to(x_T.dtype))
    x = x_T
    for t in range(betas.shape[0] - 1, 0, -1):
        eps = eps_model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        a = alphas[t]
        var = (1 - a) * (1 - bars[t - 1]) / (1 - bars[t])
        x = (x - (1 - a) / (1 - a).sqrt() * eps) / a.sqrt() + var * noises[t - 1]
    return x
""",
        "alpha_t under the square root (coefficient fixed, noise right)": """
def ddpm_sample(eps_model, x_T, noises, betas):
    alphas, bars = ddpm_schedule(betas.to(x_T.dtype))
    x = x_T
    for t in range(betas.shape[0] - 1, 0, -1):
        eps = eps_model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        a = alphas[t]
        var = (1 - a) * (1 - bars[t - 1]) / (1 - bars[t])
        x = (x - (1 - a) / (1 - a).sqrt() * eps) / a.sqrt() + var.sqrt() * noises[t - 1]
    return x
""",
        "the variance multiplies the noise (no square root)": """
def ddpm_sample(eps_model, x_T, noises, betas):
    alphas, bars = ddpm_schedule(betas.to(x_T.dtype))
    x = x_T
    for t in range(betas.shape[0] - 1, 0, -1):
        eps = eps_model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        a = alphas[t]
        var = (1 - a) * (1 - bars[t - 1]) / (1 - bars[t])
        x = (x - (1 - a) / (1 - bars[t]).sqrt() * eps) / a.sqrt() + var * noises[t - 1]
    return x
""",
        "variance beta_t instead of the posterior variance": """
def ddpm_sample(eps_model, x_T, noises, betas):
    alphas, bars = ddpm_schedule(betas.to(x_T.dtype))
    x = x_T
    for t in range(betas.shape[0] - 1, 0, -1):
        eps = eps_model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        a = alphas[t]
        x = (x - (1 - a) / (1 - bars[t]).sqrt() * eps) / a.sqrt() + (1 - a).sqrt() * noises[t - 1]
    return x
""",
        "model called at t - 1": """
def ddpm_sample(eps_model, x_T, noises, betas):
    alphas, bars = ddpm_schedule(betas.to(x_T.dtype))
    x = x_T
    for t in range(betas.shape[0] - 1, 0, -1):
        eps = eps_model(x, torch.full((x.shape[0],), t - 1, dtype=torch.long))
        a = alphas[t]
        var = (1 - a) * (1 - bars[t - 1]) / (1 - bars[t])
        x = (x - (1 - a) / (1 - bars[t]).sqrt() * eps) / a.sqrt() + var.sqrt() * noises[t - 1]
    return x
""",
        "noises used in reverse order": """
def ddpm_sample(eps_model, x_T, noises, betas):
    alphas, bars = ddpm_schedule(betas.to(x_T.dtype))
    T = betas.shape[0] - 1
    x = x_T
    for t in range(T, 0, -1):
        eps = eps_model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        a = alphas[t]
        var = (1 - a) * (1 - bars[t - 1]) / (1 - bars[t])
        x = (x - (1 - a) / (1 - bars[t]).sqrt() * eps) / a.sqrt() + var.sqrt() * noises[T - t]
    return x
""",
    },
    "ddim_sample": {
        "per-step alpha where the DDIM paper's alpha means alpha_bar": """
def ddim_sample(eps_model, x_T, betas, timesteps):
    alphas = 1 - betas.to(x_T.dtype)
    steps = [0] + [int(s) for s in timesteps]
    x = x_T
    for i in range(len(steps) - 1, 0, -1):
        t, prev = steps[i], steps[i - 1]
        eps = eps_model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        x0 = (x - (1 - alphas[t]).sqrt() * eps) / alphas[t].sqrt()
        x = alphas[prev].sqrt() * x0 + (1 - alphas[prev]).sqrt() * eps
    return x
""",
        "stops at the first listed step (no final jump to t = 0)": """
def ddim_sample(eps_model, x_T, betas, timesteps):
    bars = ddpm_schedule(betas.to(x_T.dtype))[1]
    steps = [int(s) for s in timesteps]
    x = x_T
    for i in range(len(steps) - 1, 0, -1):
        t, prev = steps[i], steps[i - 1]
        eps = eps_model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        x0 = (x - (1 - bars[t]).sqrt() * eps) / bars[t].sqrt()
        x = bars[prev].sqrt() * x0 + (1 - bars[prev]).sqrt() * eps
    return x
""",
        "steps to t - 1 instead of the previous listed step": """
def ddim_sample(eps_model, x_T, betas, timesteps):
    bars = ddpm_schedule(betas.to(x_T.dtype))[1]
    x = x_T
    for t in reversed([int(s) for s in timesteps]):
        eps = eps_model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        x0 = (x - (1 - bars[t]).sqrt() * eps) / bars[t].sqrt()
        x = bars[t - 1].sqrt() * x0 + (1 - bars[t - 1]).sqrt() * eps
    return x
""",
    },
    "gmm_score": {
        "ignores the weights in the responsibilities": """
def gmm_score(x, weights, means, covs):
    prec = torch.linalg.inv(covs.to(x.dtype))
    diff = means.to(x.dtype).unsqueeze(0) - x.unsqueeze(1)
    pulled = torch.einsum("kij,nkj->nki", prec, diff)
    log_joint = -0.5 * (diff * pulled).sum(-1) - 0.5 * torch.linalg.slogdet(covs.to(x.dtype))[1]
    return (torch.softmax(log_joint, 1).unsqueeze(-1) * pulled).sum(1)
""",
        "sign flipped (points away from the modes)": """
def gmm_score(x, weights, means, covs):
    prec = torch.linalg.inv(covs.to(x.dtype))
    diff = x.unsqueeze(1) - means.to(x.dtype).unsqueeze(0)
    pulled = torch.einsum("kij,nkj->nki", prec, diff)
    log_joint = torch.log(weights.to(x.dtype)) - 0.5 * (diff * pulled).sum(-1) - 0.5 * torch.linalg.slogdet(covs.to(x.dtype))[1]
    return (torch.softmax(log_joint, 1).unsqueeze(-1) * pulled).sum(1)
""",
        "unstable responsibilities (exp, then normalize)": """
def gmm_score(x, weights, means, covs):
    prec = torch.linalg.inv(covs.to(x.dtype))
    diff = means.to(x.dtype).unsqueeze(0) - x.unsqueeze(1)
    pulled = torch.einsum("kij,nkj->nki", prec, diff)
    f = weights.to(x.dtype) * torch.exp(-0.5 * (diff * pulled).sum(-1)) / torch.linalg.det(covs.to(x.dtype)).sqrt()
    r = f / f.sum(1, keepdim=True)
    return (r.unsqueeze(-1) * pulled).sum(1)
""",
        "forgets the covariance determinant in the responsibilities": """
def gmm_score(x, weights, means, covs):
    prec = torch.linalg.inv(covs.to(x.dtype))
    diff = means.to(x.dtype).unsqueeze(0) - x.unsqueeze(1)
    pulled = torch.einsum("kij,nkj->nki", prec, diff)
    log_joint = torch.log(weights.to(x.dtype)) - 0.5 * (diff * pulled).sum(-1)
    return (torch.softmax(log_joint, 1).unsqueeze(-1) * pulled).sum(1)
""",
    },
    "langevin_sample": {
        "noise scaled by sqrt(step_size)": """
def langevin_sample(score_fn, x_init, step_size, noises):
    x = x_init.clone()
    for z in noises:
        x = x + step_size * score_fn(x) + math.sqrt(step_size) * z
    return x
""",
        "moves down the score": """
def langevin_sample(score_fn, x_init, step_size, noises):
    x = x_init.clone()
    for z in noises:
        x = x - step_size * score_fn(x) + math.sqrt(2 * step_size) * z
    return x
""",
        "noise scaled by 2 * step_size (no square root)": """
def langevin_sample(score_fn, x_init, step_size, noises):
    x = x_init.clone()
    for z in noises:
        x = x + step_size * score_fn(x) + 2 * step_size * z
    return x
""",
    },
    "guided_eps": {
        "the textbook's (1 + w) convention": """
def guided_eps(eps_cond, eps_uncond, w):
    return (1 + w) * eps_cond - w * eps_uncond
""",
        "guidance direction reversed": """
def guided_eps(eps_cond, eps_uncond, w):
    return eps_cond + w * (eps_uncond - eps_cond)
""",
        "scales the conditional prediction only": """
def guided_eps(eps_cond, eps_uncond, w):
    return w * eps_cond
""",
    },
    "masked_conv2d": {
        "types A and B swapped": """
def masked_conv2d(x, weight, bias, mask_type):
    k = weight.shape[-1]
    c = k // 2
    mask = torch.ones(k, k, dtype=weight.dtype)
    mask[c, c + (1 if mask_type == "A" else 0):] = 0
    mask[c + 1:] = 0
    return F.conv2d(x, weight * mask, bias, padding=c)
""",
        "keeps the whole centre row": """
def masked_conv2d(x, weight, bias, mask_type):
    k = weight.shape[-1]
    c = k // 2
    mask = torch.ones(k, k, dtype=weight.dtype)
    mask[c + 1:] = 0
    if mask_type == "A":
        mask[c, c] = 0
    return F.conv2d(x, weight * mask, bias, padding=c)
""",
        "column order instead of raster order (mask transposed)": """
def masked_conv2d(x, weight, bias, mask_type):
    k = weight.shape[-1]
    c = k // 2
    mask = torch.ones(k, k, dtype=weight.dtype)
    mask[c, c + (1 if mask_type == "B" else 0):] = 0
    mask[c + 1:] = 0
    return F.conv2d(x, weight * mask.T, bias, padding=c)
""",
        "no mask": """
def masked_conv2d(x, weight, bias, mask_type):
    return F.conv2d(x, weight, bias, padding=weight.shape[-1] // 2)
""",
    },
    "train_diffusion": {
        "noises with alpha_t where alpha_bar_t belongs": _train("""
        a = (1 - betas)[t].unsqueeze(-1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        loss = ((noise - model(xt, t)) ** 2).mean()
"""),
        "regresses x0 while the sampler expects noise": _train("""
        loss = ((x0 - model(q_sample(x0, t, noise, betas), t)) ** 2).mean()
"""),
        "trains the model without its time step (t = 0 always)": _train("""
        loss = ((noise - model(q_sample(x0, t, noise, betas), torch.zeros_like(t))) ** 2).mean()
"""),
    },
    "concept_exact_likelihood": {
        "a: the ELBO": 'def concept_exact_likelihood():\n    return "a"\n',
        "c: the DDPM loss": 'def concept_exact_likelihood():\n    return "c"\n',
        "d: the discriminator": 'def concept_exact_likelihood():\n    return "d"\n',
    },
    "concept_mixture_weights": {
        "a: weights do not enter the score": 'def concept_mixture_weights():\n    return "a"\n',
        "b: a constant the gradient removes": 'def concept_mixture_weights():\n    return "b"\n',
        "d: any step size, a learned-score effect": 'def concept_mixture_weights():\n    return "d"\n',
    },
    "concept_ddim_steps": {
        "b: fine-tuning": 'def concept_ddim_steps():\n    return "b"\n',
        "c: more noise": 'def concept_ddim_steps():\n    return "c"\n',
        "d: the variance choice": 'def concept_ddim_steps():\n    return "d"\n',
    },
}

ALTERNATIVES = {
    "flow_log_prob": {
        "full Jacobian per sample with torch.autograd.functional.jacobian, log|det| by hand": """
def flow_log_prob(x, inverse):
    out = []
    for row in x.detach():
        jac = torch.autograd.functional.jacobian(lambda r: inverse(r.unsqueeze(0)).squeeze(0), row)
        z = inverse(row.unsqueeze(0)).squeeze(0).detach()
        base = -0.5 * (z ** 2).sum() - 0.5 * z.shape[0] * math.log(2 * math.pi)
        out.append(base + torch.log(torch.abs(torch.linalg.det(jac))))
    return torch.stack(out).to(x.dtype)
""",
    },
    "affine_coupling_forward": {
        "split by boolean indexing, exp(log) written out": """
def affine_coupling_forward(z, mask, scale_net, shift_net):
    keep = z * mask
    s, b = scale_net(keep), shift_net(keep)
    changed = mask == 0
    x = z.clone()
    x[:, changed] = z[:, changed] * torch.exp(s[:, changed]) + b[:, changed]
    return x, s[:, changed].sum(-1)
""",
    },
    "affine_coupling_inverse": {
        "torch.where on the mask": """
def affine_coupling_inverse(x, mask, scale_net, shift_net):
    s, b = scale_net(x * mask), shift_net(x * mask)
    z = torch.where(mask.bool(), x, (x - b) / torch.exp(s))
    return z, -torch.where(mask.bool(), torch.zeros_like(s), s).sum(-1)
""",
    },
    "ddpm_schedule": {
        "a Python loop": """
def ddpm_schedule(betas):
    alphas = 1 - betas
    bars = torch.empty_like(alphas)
    running = torch.ones((), dtype=betas.dtype)
    for t in range(len(betas)):
        running = running * alphas[t]
        bars[t] = running
    return alphas, bars
""",
        "exp of a cumulative sum of logs": """
def ddpm_schedule(betas):
    alphas = 1 - betas
    return alphas, torch.exp(torch.cumsum(torch.log(alphas), 0))
""",
    },
    "q_sample": {
        "reshape instead of unsqueeze, schedule computed inline": """
def q_sample(x0, t, noise, betas):
    ab = torch.cumprod(1 - betas, 0)[t].reshape(-1, 1).to(x0.dtype)
    return torch.sqrt(ab) * x0 + torch.sqrt(1 - ab) * noise
""",
    },
    "ddpm_posterior": {
        "precision form (Bayes for linear Gaussians), t = 1 handled": """
def ddpm_posterior(x0, xt, t, betas):
    alphas, bars = ddpm_schedule(betas.to(x0.dtype))
    a, abp = alphas[t].unsqueeze(-1), bars[t - 1].unsqueeze(-1)
    beta = 1 - a
    prec = a / beta + 1 / (1 - abp).clamp(min=1e-300)
    var = torch.where(abp >= 1, torch.zeros_like(abp), 1 / prec)
    mean = torch.where(abp >= 1, x0, var * (a.sqrt() / beta * xt + abp.sqrt() / (1 - abp).clamp(min=1e-300) * x0))
    return mean, var.squeeze(-1)
""",
    },
    "ddpm_loss": {
        "F.mse_loss": """
def ddpm_loss(eps_model, x0, t, noise, betas):
    return F.mse_loss(eps_model(q_sample(x0, t, noise, betas), t), noise)
""",
    },
    "ddpm_sample": {
        "posterior mean with x0 predicted (via ddpm_posterior)": """
def ddpm_sample(eps_model, x_T, noises, betas):
    bars = ddpm_schedule(betas.to(x_T.dtype))[1]
    x = x_T
    for t in range(betas.shape[0] - 1, 0, -1):
        tt = torch.full((x.shape[0],), t, dtype=torch.long)
        eps = eps_model(x, tt)
        x0_hat = (x - (1 - bars[t]).sqrt() * eps) / bars[t].sqrt()
        mean, var = ddpm_posterior(x0_hat, x, tt, betas.to(x_T.dtype))
        x = mean + var.sqrt().unsqueeze(-1) * noises[t - 1]
    return x
""",
    },
    "ddim_sample": {
        "written as x_prev = c1 x_t + c2 eps": """
def ddim_sample(eps_model, x_T, betas, timesteps):
    bars = torch.cumprod(1 - betas.to(x_T.dtype), 0)
    ts = timesteps.tolist()
    prevs = [0] + ts[:-1]
    x = x_T
    for t, prev in zip(reversed(ts), reversed(prevs)):
        eps = eps_model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        ratio = (bars[prev] / bars[t]).sqrt()
        x = ratio * x + ((1 - bars[prev]).sqrt() - ratio * (1 - bars[t]).sqrt()) * eps
    return x
""",
    },
    "gmm_score": {
        "a loop over components with logsumexp": """
def gmm_score(x, weights, means, covs):
    logs, pulls = [], []
    for k in range(weights.shape[0]):
        cov = covs[k].to(x.dtype)
        d = means[k].to(x.dtype) - x
        p = torch.linalg.solve(cov, d.T).T
        logs.append(torch.log(weights[k].to(x.dtype)) - 0.5 * (d * p).sum(-1) - 0.5 * torch.logdet(cov))
        pulls.append(p)
    logs = torch.stack(logs, 1)
    r = torch.exp(logs - torch.logsumexp(logs, 1, keepdim=True))
    return sum(r[:, k:k + 1] * pulls[k] for k in range(len(pulls)))
""",
    },
    "langevin_sample": {
        "index loop, no copy of the start": """
def langevin_sample(score_fn, x_init, step_size, noises):
    x = x_init
    for k in range(noises.shape[0]):
        x = x + step_size * score_fn(x) + (2 * step_size) ** 0.5 * noises[k]
    return x
""",
    },
    "guided_eps": {
        "the textbook's (13.97) form gamma * cond + (1 - gamma) * uncond": """
def guided_eps(eps_cond, eps_uncond, w):
    return w * eps_cond + (1 - w) * eps_uncond
""",
    },
    "masked_conv2d": {
        "mask built from raster indices": """
def masked_conv2d(x, weight, bias, mask_type):
    k = weight.shape[-1]
    order = torch.arange(k * k).reshape(k, k)
    centre = order[k // 2, k // 2]
    mask = (order < centre) if mask_type == "A" else (order <= centre)
    return F.conv2d(x, weight * mask.to(weight.dtype), bias, padding=k // 2)
""",
    },
    "train_diffusion": {
        "a narrower network with a scalar time input, trained longer": """
def train_diffusion(x_train, betas, seed):
    T = betas.shape[0] - 1
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(5, 96), torch.nn.SiLU(), torch.nn.Linear(96, 96), torch.nn.SiLU(),
                              torch.nn.Linear(96, 96), torch.nn.SiLU(), torch.nn.Linear(96, 2))

    def model(x, t):
        s = t.to(x.dtype).reshape(-1, 1) / T
        return net(torch.cat([x, s, torch.sin(3.14159 * s), torch.cos(3.14159 * s)], 1))

    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for step in range(3500):
        for group in opt.param_groups:
            group["lr"] = 3e-3 * (1 - step / 3500) + 1e-5
        x0 = x_train[torch.randint(0, x_train.shape[0], (256,), generator=gen)]
        t = torch.randint(1, T + 1, (256,), generator=gen)
        noise = torch.randn(256, 2, generator=gen)
        loss = ddpm_loss(model, x0, t, noise, betas)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model
""",
    },
    "concept_exact_likelihood": {"upper case, with spaces": 'def concept_exact_likelihood():\n    return " B "\n'},
    "concept_mixture_weights": {"upper case": 'def concept_mixture_weights():\n    return "C"\n'},
    "concept_ddim_steps": {"upper case": 'def concept_ddim_steps():\n    return "A"\n'},
}

SAMPLE_WRONG = ["guided_eps", "masked_conv2d"]


# Automatic mutations of the reference (autograder.mutation) that change nothing the statement fixes.
EQUIVALENT_MUTATIONS = {
    'flow_log_prob': {
        'sign: `-1` -> `1` in `(z ** 2).sum(-1)`':
            'the statement fixes these tensors as 2-D (batch, features): axis 1 is the last axis',
    },
    'affine_coupling_forward': {
        'sign: `-1` -> `1` in `((1 - mask) * s).sum(-1)`':
            'the statement fixes these tensors as 2-D (batch, features): axis 1 is the last axis',
    },
    'affine_coupling_inverse': {
        'sign: `-1` -> `1` in `((1 - mask) * s).sum(-1)`':
            'the statement fixes these tensors as 2-D (batch, features): axis 1 is the last axis',
    },
    'ddpm_schedule': {
        'axis: `torch.cumprod(alphas, dim=0)` -> `torch.cumprod(alphas, dim=-1)` in `(alphas, torch.cumprod(alphas, dim=0))`':
            'the tensor is 1-D there: axis 0 is the last axis',
    },
    'q_sample': {
        'sign: `-1` -> `1` in `alpha_bars.to(x0.dtype)[t].unsqueeze(-1)`':
            'the index tensor is 1-D: unsqueeze(1) is unsqueeze(-1)',
    },
}

# Make-it-work tasks, judged on a target (autograder.mutation leaves them to their registered mutants).
JUDGED_ON_A_TARGET = ['train_diffusion']
