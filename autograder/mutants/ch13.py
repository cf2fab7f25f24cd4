"""Classic wrong answers and correct alternatives for chapter 13 (GANs, Wasserstein GANs, adversarial attacks)."""

CHAPTER = "13-gans-and-adversarial-examples"

_GAN_LOOP = """
def train_gan_2d(data, generator):
    G = make_generator(generator)
    D = make_discriminator(generator)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    for _ in range(2000):
        real = data[torch.randint(data.shape[0], (256,), generator=generator)]
        fake = G(torch.randn(256, 2, generator=generator))
        loss_d = D_LOSS
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        s = D(fake)
        loss_g = G_LOSS
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return G
"""


def _gan(d_loss: str, g_loss: str) -> str:
    return _GAN_LOOP.replace("D_LOSS", d_loss).replace("G_LOSS", g_loss)


_ADV_LOOP = """
def adversarial_training(X, y, generator):
    net = make_digits_classifier(generator)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    eps = 0.1
    for _ in range(30):
        order = torch.randperm(X.shape[0], generator=generator)
        for start in range(0, X.shape[0], 64):
            idx = order[start:start + 64]
            xb, yb = X[idx], y[idx]
            delta0 = (torch.rand(xb.shape, generator=generator) * 2 - 1) * eps
            x_train = ATTACK
            loss = F.cross_entropy(net(x_train), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net
"""

_PGD_HEAD = """
def pgd_attack(model, x, y, eps, step_size, n_steps, norm="linf", delta0=None):
    x = x.detach()

    def grad_at(point):
        p = point.detach().requires_grad_(True)
        with torch.enable_grad():
            return torch.autograd.grad(F.cross_entropy(model(p), y, reduction="sum"), p)[0]

    def ex_norm(t):
        return t.reshape(t.shape[0], -1).norm(dim=1).reshape((-1,) + (1,) * (t.dim() - 1))
"""

MUTANTS = {
    "discriminator_loss": {
        "unstable: log of a sigmoid (-inf for large logits)": """
def discriminator_loss(real_logits, fake_logits):
    return -torch.log(torch.sigmoid(real_logits)).mean() - torch.log(1 - torch.sigmoid(fake_logits)).mean()
""",
        "labels swapped (real 0, fake 1)": """
def discriminator_loss(real_logits, fake_logits):
    return F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()
""",
        "binary_cross_entropy on probabilities (log clamped at -100)": """
def discriminator_loss(real_logits, fake_logits):
    return (F.binary_cross_entropy(torch.sigmoid(real_logits), torch.ones_like(real_logits))
            + F.binary_cross_entropy(torch.sigmoid(fake_logits), torch.zeros_like(fake_logits)))
""",
        "one mean over both batches together": """
def discriminator_loss(real_logits, fake_logits):
    return torch.cat([F.softplus(-real_logits).reshape(-1), F.softplus(fake_logits).reshape(-1)]).mean() * 2
""",
    },
    "generator_loss": {
        "saturating and non-saturating swapped": """
def generator_loss(fake_logits, saturating=False):
    if not saturating:
        return -F.softplus(fake_logits).mean()
    return F.softplus(-fake_logits).mean()
""",
        "unstable: log of a sigmoid": """
def generator_loss(fake_logits, saturating=False):
    d = torch.sigmoid(fake_logits)
    if saturating:
        return torch.log(1 - d).mean()
    return -torch.log(d).mean()
""",
        "saturating loss with the wrong sign (maximizes log(1 - D))": """
def generator_loss(fake_logits, saturating=False):
    if saturating:
        return F.softplus(fake_logits).mean()
    return F.softplus(-fake_logits).mean()
""",
    },
    "answer_saturation": {
        "same fixed point, same gradient": "def answer_saturation():\n    return 'a'\n",
        "log(1 - D) steepest near D = 0": "def answer_saturation():\n    return 'c'\n",
        "only Wasserstein helps": "def answer_saturation():\n    return 'd'\n",
    },
    "optimal_discriminator": {
        "densities swapped: p_G / (p_data + p_G)": """
def optimal_discriminator(p_data, p_g):
    total = p_data + p_g
    return torch.where(total > 0, p_g / torch.where(total > 0, total, torch.ones_like(total)), torch.full_like(total, 0.5))
""",
        "NaN where both densities vanish": """
def optimal_discriminator(p_data, p_g):
    return p_data / (p_data + p_g)
""",
        "density ratio p_data / p_G instead": """
def optimal_discriminator(p_data, p_g):
    return torch.where(p_g > 0, p_data / torch.where(p_g > 0, p_g, torch.ones_like(p_g)), torch.full_like(p_g, 0.5))
""",
    },
    "gan_value": {
        "0 log 0 not handled (NaN)": """
def gan_value(d, p_data, p_g, dx):
    return (p_data * torch.log(d) + p_g * torch.log(1 - d)).sum() * dx
""",
        "forgets dx": """
def gan_value(d, p_data, p_g, dx):
    return (torch.xlogy(p_data, d) + torch.xlogy(p_g, 1 - d)).sum()
""",
        "log D weighted by p_G and log(1 - D) by p_data": """
def gan_value(d, p_data, p_g, dx):
    return (torch.xlogy(p_g, d) + torch.xlogy(p_data, 1 - d)).sum() * dx
""",
    },
    "answer_disjoint_jsd": {
        "disjoint means zero divergence": "def answer_disjoint_jsd():\n    return 0.0\n",
        "the distance between the points (W1)": "def answer_disjoint_jsd():\n    return 3.0\n",
        "log 4 (forgets the 1/2)": "def answer_disjoint_jsd():\n    return math.log(4)\n",
        "in bits instead of nats": "def answer_disjoint_jsd():\n    return 1.0\n",
    },
    "fgan_lower_bound": {
        "KL conjugate exp(t) (missing the -1)": """
def fgan_lower_bound(t_real, t_fake, divergence):
    conj = {"kl": lambda t: torch.exp(t), "reverse_kl": lambda t: -1 - torch.log(-t),
            "pearson": lambda t: t * t / 4 + t, "hellinger": lambda t: t / (1 - t)}[divergence]
    return t_real.mean() - conj(t_fake).mean()
""",
        "f instead of its conjugate": """
def fgan_lower_bound(t_real, t_fake, divergence):
    f = {"kl": lambda u: u * torch.log(u), "reverse_kl": lambda u: -torch.log(u),
         "pearson": lambda u: (u - 1) ** 2, "hellinger": lambda u: (torch.sqrt(u) - 1) ** 2}[divergence]
    return t_real.mean() - f(t_fake).mean()
""",
        "P and Q swapped": """
def fgan_lower_bound(t_real, t_fake, divergence):
    conj = {"kl": lambda t: torch.exp(t - 1), "reverse_kl": lambda t: -1 - torch.log(-t),
            "pearson": lambda t: t * t / 4 + t, "hellinger": lambda t: t / (1 - t)}[divergence]
    return t_fake.mean() - conj(t_real).mean()
""",
        "Pearson conjugate t^2 / 4 (missing + t)": """
def fgan_lower_bound(t_real, t_fake, divergence):
    conj = {"kl": lambda t: torch.exp(t - 1), "reverse_kl": lambda t: -1 - torch.log(-t),
            "pearson": lambda t: t * t / 4, "hellinger": lambda t: t / (1 - t)}[divergence]
    return t_real.mean() - conj(t_fake).mean()
""",
        "Hellinger conjugate t / (1 + t)": """
def fgan_lower_bound(t_real, t_fake, divergence):
    conj = {"kl": lambda t: torch.exp(t - 1), "reverse_kl": lambda t: -1 - torch.log(-t),
            "pearson": lambda t: t * t / 4 + t, "hellinger": lambda t: t / (1 + t)}[divergence]
    return t_real.mean() - conj(t_fake).mean()
""",
    },
    "wasserstein_1d": {
        "no sorting (pairs points in the given order)": """
def wasserstein_1d(x, y):
    n = min(len(x), len(y))
    return (x[:n] - y[:n].to(x.dtype)).abs().mean()
""",
        "difference of the means": """
def wasserstein_1d(x, y):
    return (x.mean() - y.to(x.dtype).mean()).abs()
""",
        "sorted, but cut to the smaller sample": """
def wasserstein_1d(x, y):
    n = min(len(x), len(y))
    return (torch.sort(x).values[:n] - torch.sort(y.to(x.dtype)).values[:n]).abs().mean()
""",
        "squared distances (W2 squared)": """
def wasserstein_1d(x, y):
    xs, ys = torch.sort(x).values, torch.sort(y.to(x.dtype)).values
    grid = torch.sort(torch.cat([xs, ys])).values
    u = torch.linspace(0, 1, 20001, dtype=x.dtype)[:-1] + 0.5 / 20000
    qx = xs[torch.clamp((u * len(xs)).long(), max=len(xs) - 1)]
    qy = ys[torch.clamp((u * len(ys)).long(), max=len(ys) - 1)]
    return ((qx - qy) ** 2).mean()
""",
    },
    "gradient_penalty": {
        "norm over the channels only (dim=1, the textbook's code)": """
def gradient_penalty(critic, real, fake, alpha):
    a = alpha.reshape((-1,) + (1,) * (real.dim() - 1))
    mixed = (a * real + (1 - a) * fake).detach().requires_grad_(True)
    grad = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)[0]
    return ((grad.norm(2, dim=1) - 1) ** 2).mean()
""",
        "no create_graph (the penalty cannot train the critic)": """
def gradient_penalty(critic, real, fake, alpha):
    a = alpha.reshape((-1,) + (1,) * (real.dim() - 1))
    mixed = (a * real + (1 - a) * fake).detach().requires_grad_(True)
    grad = torch.autograd.grad(critic(mixed).sum(), mixed)[0]
    return ((grad.reshape(len(grad), -1).norm(dim=1) - 1) ** 2).mean()
""",
        "squared norm instead of (norm - 1)^2": """
def gradient_penalty(critic, real, fake, alpha):
    a = alpha.reshape((-1,) + (1,) * (real.dim() - 1))
    mixed = (a * real + (1 - a) * fake).detach().requires_grad_(True)
    grad = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)[0]
    return (grad.reshape(len(grad), -1).norm(dim=1) ** 2).mean()
""",
        "alpha weights the fake sample": """
def gradient_penalty(critic, real, fake, alpha):
    a = alpha.reshape((-1,) + (1,) * (real.dim() - 1))
    mixed = (a * fake + (1 - a) * real).detach().requires_grad_(True)
    grad = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)[0]
    return ((grad.reshape(len(grad), -1).norm(dim=1) - 1) ** 2).mean()
""",
        "gradient of the mean score (divided by B)": """
def gradient_penalty(critic, real, fake, alpha):
    a = alpha.reshape((-1,) + (1,) * (real.dim() - 1))
    mixed = (a * real + (1 - a) * fake).detach().requires_grad_(True)
    grad = torch.autograd.grad(critic(mixed).mean(), mixed, create_graph=True)[0]
    return ((grad.reshape(len(grad), -1).norm(dim=1) - 1) ** 2).mean()
""",
        "one-sided penalty (only norms above 1)": """
def gradient_penalty(critic, real, fake, alpha):
    a = alpha.reshape((-1,) + (1,) * (real.dim() - 1))
    mixed = (a * real + (1 - a) * fake).detach().requires_grad_(True)
    grad = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)[0]
    return (torch.relu(grad.reshape(len(grad), -1).norm(dim=1) - 1) ** 2).mean()
""",
    },
    "spectral_normalize": {
        "sigma from the old u (before the update)": """
def spectral_normalize(weight, u, n_power_iterations=1):
    W = weight.reshape(weight.shape[0], -1)
    u = u.to(weight.dtype)
    for _ in range(n_power_iterations):
        u_old = u
        v = W.T @ u
        v = v / v.norm()
        u = W @ v
        u = u / u.norm()
    sigma = u_old @ W @ v
    return weight / sigma, sigma, u
""",
        "state not updated (returns the old u)": """
def spectral_normalize(weight, u, n_power_iterations=1):
    W = weight.reshape(weight.shape[0], -1)
    u0 = u
    for _ in range(n_power_iterations):
        v = W.T @ u
        v = v / v.norm()
        u = W @ v
        u = u / u.norm()
    sigma = u @ W @ v
    return weight / sigma, sigma, u0
""",
        "multiplies by sigma": """
def spectral_normalize(weight, u, n_power_iterations=1):
    W = weight.reshape(weight.shape[0], -1)
    for _ in range(n_power_iterations):
        v = W.T @ u
        v = v / v.norm()
        u = W @ v
        u = u / u.norm()
    sigma = u @ W @ v
    return weight * sigma, sigma, u
""",
        "u not normalized": """
def spectral_normalize(weight, u, n_power_iterations=1):
    W = weight.reshape(weight.shape[0], -1)
    for _ in range(n_power_iterations):
        v = W.T @ u
        v = v / v.norm()
        u = W @ v
    sigma = u @ W @ v / (u @ u)
    return weight / sigma, sigma, u
""",
    },
    "conditional_input": {
        "one-hot width from the batch's largest label": """
def conditional_input(z, labels, n_classes):
    return torch.cat([z, F.one_hot(labels).to(z.dtype)], dim=1)
""",
        "code first, then z": """
def conditional_input(z, labels, n_classes):
    return torch.cat([F.one_hot(labels, n_classes).to(z.dtype), z], dim=1)
""",
        "the label as one number": """
def conditional_input(z, labels, n_classes):
    return torch.cat([z, labels.to(z.dtype)[:, None]], dim=1)
""",
    },
    "train_gan_2d": {
        "discriminator labels swapped": _gan("F.softplus(D(real)).mean() + F.softplus(-D(fake.detach())).mean()",
                                             "F.softplus(-s).mean()"),
        "generator loss sign flipped (helps the discriminator)": _gan(
            "F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()", "-F.softplus(-s).mean()"),
    },
    "fgsm": {
        "steps down the loss (minus sign)": """
def fgsm(model, x, y, eps):
    xr = x.detach().requires_grad_(True)
    g = torch.autograd.grad(F.cross_entropy(model(xr), y), xr)[0]
    return (x - eps * g.sign()).clamp(0, 1).detach()
""",
        "no clipping to [0, 1]": """
def fgsm(model, x, y, eps):
    xr = x.detach().requires_grad_(True)
    g = torch.autograd.grad(F.cross_entropy(model(xr), y), xr)[0]
    return (x + eps * g.sign()).detach()
""",
        "raw gradient instead of its sign": """
def fgsm(model, x, y, eps):
    xr = x.detach().requires_grad_(True)
    g = torch.autograd.grad(F.cross_entropy(model(xr), y), xr)[0]
    return (x + eps * g).clamp(0, 1).detach()
""",
    },
    "pgd_attack": {
        "no projection onto the ball": _PGD_HEAD + """
    x_adv = (x + (0 if delta0 is None else delta0)).clamp(0, 1)
    for _ in range(n_steps):
        g = grad_at(x_adv)
        step = g.sign() if norm == "linf" else g / ex_norm(g).clamp_min(1e-12)
        x_adv = (x_adv + step_size * step).clamp(0, 1)
    return x_adv.detach()
""",
        "no clipping to [0, 1]": _PGD_HEAD + """
    def project(p):
        d = p - x
        if norm == "linf":
            return x + d.clamp(-eps, eps)
        return x + d * torch.clamp(eps / ex_norm(d).clamp_min(1e-12), max=1.0)

    x_adv = project(x + (0 if delta0 is None else delta0))
    for _ in range(n_steps):
        g = grad_at(x_adv)
        step = g.sign() if norm == "linf" else g / ex_norm(g).clamp_min(1e-12)
        x_adv = project(x_adv + step_size * step)
    return x_adv.detach()
""",
        "steps down the loss": _PGD_HEAD + """
    def project(p):
        d = p - x
        if norm == "linf":
            return (x + d.clamp(-eps, eps)).clamp(0, 1)
        return (x + d * torch.clamp(eps / ex_norm(d).clamp_min(1e-12), max=1.0)).clamp(0, 1)

    x_adv = project(x + (0 if delta0 is None else delta0))
    for _ in range(n_steps):
        g = grad_at(x_adv)
        step = g.sign() if norm == "linf" else g / ex_norm(g).clamp_min(1e-12)
        x_adv = project(x_adv - step_size * step)
    return x_adv.detach()
""",
        "L2 step normalized by the whole batch's gradient norm": _PGD_HEAD + """
    def project(p):
        d = p - x
        if norm == "linf":
            return (x + d.clamp(-eps, eps)).clamp(0, 1)
        return (x + d * torch.clamp(eps / ex_norm(d).clamp_min(1e-12), max=1.0)).clamp(0, 1)

    x_adv = project(x + (0 if delta0 is None else delta0))
    for _ in range(n_steps):
        g = grad_at(x_adv)
        step = g.sign() if norm == "linf" else g / g.norm().clamp_min(1e-12)
        x_adv = project(x_adv + step_size * step)
    return x_adv.detach()
""",
        "L2 projection by the whole batch's norm": _PGD_HEAD + """
    def project(p):
        d = p - x
        if norm == "linf":
            return (x + d.clamp(-eps, eps)).clamp(0, 1)
        return (x + d * torch.clamp(eps / d.norm().clamp_min(1e-12), max=1.0)).clamp(0, 1)

    x_adv = project(x + (0 if delta0 is None else delta0))
    for _ in range(n_steps):
        g = grad_at(x_adv)
        step = g.sign() if norm == "linf" else g / ex_norm(g).clamp_min(1e-12)
        x_adv = project(x_adv + step_size * step)
    return x_adv.detach()
""",
        "gradient always taken at the clean input": _PGD_HEAD + """
    def project(p):
        d = p - x
        if norm == "linf":
            return (x + d.clamp(-eps, eps)).clamp(0, 1)
        return (x + d * torch.clamp(eps / ex_norm(d).clamp_min(1e-12), max=1.0)).clamp(0, 1)

    x_adv = project(x + (0 if delta0 is None else delta0))
    g = grad_at(x)
    for _ in range(n_steps):
        step = g.sign() if norm == "linf" else g / ex_norm(g).clamp_min(1e-12)
        x_adv = project(x_adv + step_size * step)
    return x_adv.detach()
""",
        "ignores the random start": _PGD_HEAD + """
    def project(p):
        d = p - x
        if norm == "linf":
            return (x + d.clamp(-eps, eps)).clamp(0, 1)
        return (x + d * torch.clamp(eps / ex_norm(d).clamp_min(1e-12), max=1.0)).clamp(0, 1)

    x_adv = x.clone()
    for _ in range(n_steps):
        g = grad_at(x_adv)
        step = g.sign() if norm == "linf" else g / ex_norm(g).clamp_min(1e-12)
        x_adv = project(x_adv + step_size * step)
    return x_adv.detach()
""",
    },
    "answer_robust_sets": {
        "only the smaller L-inf ball": "def answer_robust_sets():\n    return {1}\n",
        "every L2 ball (L2 <= L-inf is the wrong way round)": "def answer_robust_sets():\n    return {1, 3, 4}\n",
        "everything, night photos included": "def answer_robust_sets():\n    return {1, 2, 3, 4, 5}\n",
    },
    "adversarial_training": {
        "trains on clean inputs only": _ADV_LOOP.replace("ATTACK", "xb"),
        "attack steps down the loss (trains on easy examples)": _ADV_LOOP.replace(
            "ATTACK", "pgd_attack(net, xb, yb, eps, -0.03, 5, 'linf', delta0)"),
    },
}

ALTERNATIVES = {
    "discriminator_loss": {
        "binary_cross_entropy_with_logits": """
def discriminator_loss(real_logits, fake_logits):
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
""",
        "logsigmoid": """
def discriminator_loss(real_logits, fake_logits):
    return -F.logsigmoid(real_logits).mean() - F.logsigmoid(-fake_logits).mean()
""",
    },
    "generator_loss": {
        "logsigmoid": """
def generator_loss(fake_logits, saturating=False):
    if saturating:
        return F.logsigmoid(-fake_logits).mean()
    return -F.logsigmoid(fake_logits).mean()
""",
    },
    "answer_saturation": {"upper case with spaces": "def answer_saturation():\n    return ' B '\n"},
    "optimal_discriminator": {
        "clamped denominator, then 1/2 put back": """
def optimal_discriminator(p_data, p_g):
    total = p_data + p_g
    d = p_data / total.clamp_min(1e-300)
    d[total == 0] = 0.5
    return d
""",
    },
    "gan_value": {
        "masks instead of xlogy": """
def gan_value(d, p_data, p_g, dx):
    a = torch.where(p_data > 0, p_data * torch.log(torch.where(p_data > 0, d, torch.ones_like(d))), torch.zeros_like(d))
    b = torch.where(p_g > 0, p_g * torch.log(torch.where(p_g > 0, 1 - d, torch.ones_like(d))), torch.zeros_like(d))
    return (a + b).sum() * dx
""",
    },
    "answer_disjoint_jsd": {"rounded to two places": "def answer_disjoint_jsd():\n    return 0.69\n"},
    "fgan_lower_bound": {
        "conjugates written differently": """
def fgan_lower_bound(t_real, t_fake, divergence):
    t = t_fake
    if divergence == "kl":
        conj = torch.exp(t) / math.e
    elif divergence == "reverse_kl":
        conj = -(1 + torch.log(-t))
    elif divergence == "pearson":
        conj = (t / 2 + 1) ** 2 - 1
    else:
        conj = 1 / (1 - t) - 1
    return t_real.sum() / len(t_real) - conj.sum() / len(t)
""",
    },
    "wasserstein_1d": {
        "both samples repeated to a common size, sorted and matched": """
def wasserstein_1d(x, y):
    n, m = len(x), len(y)
    xs = torch.sort(x).values.repeat_interleave(m)
    ys = torch.sort(y.to(x.dtype)).values.repeat_interleave(n)
    return (xs - ys).abs().mean()
""",
    },
    "gradient_penalty": {
        "grad_outputs and vector_norm over the non-batch dimensions": """
def gradient_penalty(critic, real, fake, alpha):
    a = alpha.view(-1, *([1] * (real.dim() - 1)))
    mixed = torch.lerp(fake, real, a).detach().requires_grad_(True)
    scores = critic(mixed)
    grad, = torch.autograd.grad(scores, mixed, grad_outputs=torch.ones_like(scores), create_graph=True)
    norms = torch.linalg.vector_norm(grad, dim=tuple(range(1, grad.dim())))
    return ((norms - 1) ** 2).mean()
""",
    },
    "spectral_normalize": {
        "sigma as the norm of W v": """
def spectral_normalize(weight, u, n_power_iterations=1):
    W = weight.flatten(1)
    for _ in range(n_power_iterations):
        v = F.normalize(W.t() @ u, dim=0)
        u = F.normalize(W @ v, dim=0)
    sigma = (W @ v).norm()
    return weight / sigma, sigma, u
""",
    },
    "conditional_input": {
        "eye rows": """
def conditional_input(z, labels, n_classes):
    return torch.cat([z, torch.eye(n_classes, dtype=z.dtype)[labels]], dim=-1)
""",
    },
    "train_gan_2d": {
        "BCE with logits, fresh noise for the generator step": """
def train_gan_2d(data, generator):
    G = make_generator(generator)
    D = make_discriminator(generator)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    bce = torch.nn.BCEWithLogitsLoss()
    for _ in range(2000):
        real = data[torch.randint(len(data), (256,), generator=generator)]
        with torch.no_grad():
            fake = G(torch.randn(256, 2, generator=generator))
        out_r, out_f = D(real), D(fake)
        loss_d = bce(out_r, torch.ones_like(out_r)) + bce(out_f, torch.zeros_like(out_f))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        out = D(G(torch.randn(256, 2, generator=generator)))
        loss_g = bce(out, torch.ones_like(out))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return G
""",
    },
    "fgsm": {
        "mean loss and torch.where clipping": """
def fgsm(model, x, y, eps):
    xr = x.clone().detach().requires_grad_(True)
    loss = F.cross_entropy(model(xr), y)
    loss.backward()
    out = x + eps * torch.sign(xr.grad)
    return torch.clamp(out, min=0.0, max=1.0).detach()
""",
    },
    "pgd_attack": {
        "loop over examples, mean loss": """
def pgd_attack(model, x, y, eps, step_size, n_steps, norm="linf", delta0=None):
    outs = []
    for i in range(x.shape[0]):
        xi, yi = x[i:i + 1].detach(), y[i:i + 1]
        d = torch.zeros_like(xi) if delta0 is None else delta0[i:i + 1].clone()

        def proj(d):
            if norm == "linf":
                d = d.clamp(-eps, eps)
            else:
                n = d.norm()
                if n > eps:
                    d = d * (eps / n)
            return (xi + d).clamp(0, 1) - xi

        d = proj(d)
        for _ in range(n_steps):
            d.requires_grad_(True)
            loss = F.cross_entropy(model(xi + d), yi)
            g, = torch.autograd.grad(loss, d)
            if norm == "linf":
                d = d.detach() + step_size * g.sign()
            else:
                d = d.detach() + step_size * g / max(float(g.norm()), 1e-12)
            d = proj(d)
        outs.append((xi + d).detach())
    return torch.cat(outs)
""",
    },
    "answer_robust_sets": {"a sorted list": "def answer_robust_sets():\n    return [3, 1]\n"},
    "adversarial_training": {
        "7 PGD steps of 0.02, 25 epochs, mean of clean and adversarial losses": """
def adversarial_training(X, y, generator):
    net = make_digits_classifier(generator)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for epoch in range(25):
        perm = torch.randperm(len(X), generator=generator)
        for batch in perm.split(64):
            xb, yb = X[batch], y[batch]
            start = (2 * torch.rand(xb.shape, generator=generator) - 1) * 0.1
            x_adv = pgd_attack(net, xb, yb, 0.1, 0.02, 7, "linf", start)
            loss = 0.25 * F.cross_entropy(net(xb), yb) + 0.75 * F.cross_entropy(net(x_adv), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net
""",
    },
}

# Exercises whose visible test also catches the first mutant (a concept question's visible cell checks only the
# form of the answer, so plain nbgrader and the sandboxed grader agree on it only through its hidden cell).
SAMPLE_WRONG = ["wasserstein_1d", "gradient_penalty", "fgsm"]


# Automatic mutations of the reference (autograder.mutation) that change nothing the statement fixes.
EQUIVALENT_MUTATIONS = {
}

# Make-it-work tasks, judged on a target (autograder.mutation leaves them to their registered mutants).
JUDGED_ON_A_TARGET = ['train_gan_2d', 'adversarial_training']
