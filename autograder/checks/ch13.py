"""Hidden checks of chapter 13 (GANs, Wasserstein GANs, adversarial attacks).

Oracles: closed forms at logits of +-800 (where a log of a sigmoid overflows), scipy's Jensen-Shannon
distance for the GAN value at the optimal discriminator (2 JSD - log 4), scipy's 1-D Wasserstein distance,
autograd in float64 for the gradient penalty (its value and its gradient with respect to the critic's
weights, on images so that a norm over the channels alone is caught), the largest singular value for
spectral normalization, and ``solutions_lib`` for the attacks on float64 networks. The two training tasks
are judged on what comes out: the grader rebuilds the returned network, samples it (the GAN) or attacks
it with its own PGD (cross-entropy and margin losses, so that saturated logits do not hide the gradient),
and checks the stated targets.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from autograder.checks import Case, check
from course.checks import diagnose_close
from course.gan_toys import make_digits_classifier, make_generator, make_mlp, mode_report, sample_ring
from solutions_lib import adversarial as adv_ref
from solutions_lib import gans as ref

F64 = torch.float64
F32 = torch.float32

# The 2-D GAN task: the reference reaches 0.86-0.91 of its samples near a mode, all 8 modes covered.
GAN_MIN_NEAR = 0.6
GAN_MODES = 8
# The adversarial-training task: the reference keeps 0.75 accuracy under L-inf PGD (eps 0.1) on the held-out
# digits, a normally trained network 0.46; and 0.96 clean accuracy.
ADV_EPS = 0.1
ADV_MIN_ROBUST = 0.62
ADV_MIN_CLEAN = 0.85


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- losses from logits

@check("discriminator_loss", reference=ref.discriminator_loss,
       hint="Real examples carry label 1 and fake ones label 0; -log sigmoid(s) = softplus(-s) and "
            "-log(1 - sigmoid(s)) = softplus(s) stay finite for any logit; average each batch separately.")
def _discriminator_loss_cases():
    g = _gen(1301)
    yield Case("closed form: all logits 0 gives 2 log 2", (torch.zeros(4, dtype=F64), torch.zeros(3, dtype=F64)),
               expected=torch.tensor(2 * math.log(2), dtype=F64))
    yield Case("float64, 16 real and 16 fake logits", (3 * torch.randn(16, generator=g, dtype=F64),
                                                       3 * torch.randn(16, generator=g, dtype=F64)))
    yield Case("float32 (B, 1) logits", (torch.randn(8, 1, generator=g), torch.randn(8, 1, generator=g)))
    yield Case("batches of different sizes (10 real, 3 fake)",
               (torch.randn(10, generator=g, dtype=F64) + 2, torch.randn(3, generator=g, dtype=F64) - 1))
    yield Case("float64 logits of +-800 (a fooled and a sure discriminator)",
               (torch.tensor([800.0, -800.0], dtype=F64), torch.tensor([-800.0, 800.0], dtype=F64)),
               expected=torch.tensor(800.0, dtype=F64))
    yield Case("float32 logits of +-120", (torch.tensor([-120.0, 5.0]), torch.tensor([120.0, -3.0])),
               expected=torch.tensor(0.5 * (120 + math.log1p(math.exp(-5))) + 0.5 * (120 + math.log1p(math.exp(-3))),
                                     dtype=F32))


@check("generator_loss", reference=ref.generator_loss,
       hint="Non-saturating: -mean log D(G(z)) = mean softplus(-s). Saturating (minimax): mean log(1 - D(G(z))) "
            "= -mean softplus(s). Both from the logits, without taking the log of a sigmoid.")
def _generator_loss_cases():
    g = _gen(1302)
    s = 3 * torch.randn(12, generator=g, dtype=F64)
    yield Case("non-saturating, float64", (s,))
    yield Case("saturating, float64", (s,), {"saturating": True})
    yield Case("non-saturating by position, float32 (B, 1)", (torch.randn(6, 1, generator=g), False))
    yield Case("saturating by position, float32", (torch.randn(6, generator=g), True))
    yield Case("non-saturating at logits -800 (discriminator sure they are fake)",
               (torch.tensor([-800.0, -800.0], dtype=F64),), expected=torch.tensor(800.0, dtype=F64))
    yield Case("saturating at logits +800 (discriminator fooled)", (torch.tensor([800.0], dtype=F64), True),
               expected=torch.tensor(-800.0, dtype=F64))
    yield Case("saturating at logits -800: almost no signal", (torch.tensor([-800.0, 0.0], dtype=F64), True),
               expected=torch.tensor(-0.5 * math.log(2), dtype=F64))


# ----------------------------------------------------------------------------- the optimal discriminator

def _grid_gaussians(mu1, s1, mu2, s2, n=801, lo=-8.0, hi=8.0, dtype=F64):
    x = torch.linspace(lo, hi, n, dtype=F64)
    dx = float(x[1] - x[0])
    p = torch.exp(-0.5 * ((x - mu1) / s1) ** 2)
    q = torch.exp(-0.5 * ((x - mu2) / s2) ** 2)
    # Tails below 1e-10 are cut to exactly 0 (there D* = p / (p + q) would round to 0 or 1 while the other
    # density is not 0 yet, and log(1 - D*) = -inf); then normalized on the grid: sum(p) dx = 1.
    p, q = torch.where(p > 1e-10, p, 0.0), torch.where(q > 1e-10, q, 0.0)
    p, q = p / (p.sum() * dx), q / (q.sum() * dx)
    return p.to(dtype), q.to(dtype), dx


@check("optimal_discriminator", reference=ref.optimal_discriminator,
       hint="Maximize p_data log D + p_G log(1 - D) pointwise in D; where both densities are 0 return 1/2.")
def _optimal_discriminator_cases():
    g = _gen(1303)
    yield Case("closed form", (torch.tensor([1.0, 2.0, 0.5], dtype=F64), torch.tensor([1.0, 6.0, 0.0], dtype=F64)),
               expected=torch.tensor([0.5, 0.25, 1.0], dtype=F64))
    p, q, _ = _grid_gaussians(-1.0, 1.0, 2.0, 0.5)
    yield Case("two Gaussians on a grid, float64", (p, q))
    yield Case("random densities (3, 5), float32", (torch.rand(3, 5, generator=g) * 2, torch.rand(3, 5, generator=g)))
    yield Case("where both densities are 0 the answer is 1/2",
               (torch.tensor([0.0, 0.0, 3.0, 0.0], dtype=F64), torch.tensor([0.0, 1.0, 0.0, 0.0], dtype=F64)),
               expected=torch.tensor([0.5, 0.0, 1.0, 0.5], dtype=F64))
    yield Case("tiny densities (1e-300)", (torch.tensor([1e-300, 3e-300], dtype=F64), torch.tensor([3e-300, 1e-300], dtype=F64)),
               expected=torch.tensor([0.25, 0.75], dtype=F64))


def _value_at_optimum(p, q, dx):
    """2 JSD(p, q) - log 4 from scipy's Jensen-Shannon distance (of the normalized grid masses)."""
    from scipy.spatial.distance import jensenshannon

    js = float(jensenshannon((p.double() * dx).numpy(), (q.double() * dx).numpy()))  # sqrt of JSD in nats
    return torch.tensor(2 * js ** 2 - math.log(4), dtype=p.dtype)


@check("gan_value", reference=ref.gan_value,
       hint="A Riemann sum of p_data log D + p_G log(1 - D), times dx, where a zero density contributes 0 "
            "even if its log is -inf (0 log 0 = 0).")
def _gan_value_cases():
    g = _gen(1304)
    for label, (m1, s1, m2, s2) in [("overlapping Gaussians", (0.0, 1.0, 1.0, 1.5)),
                                    ("far apart Gaussians", (-3.0, 0.5, 3.0, 0.7))]:
        p, q, dx = _grid_gaussians(m1, s1, m2, s2)
        d = ref.optimal_discriminator(p, q)
        yield Case(f"at D*: 2 JSD - log 4 (scipy), {label}", (d, p, q, dx), expected=_value_at_optimum(p, q, dx))
    p, q, dx = _grid_gaussians(0.0, 1.0, 0.5, 1.0)
    yield Case("identical distributions at D = 1/2: -log 4", (torch.full_like(p, 0.5), p, p, dx),
               expected=torch.tensor(-math.log(4), dtype=F64))
    d = torch.sigmoid(torch.randn(p.shape, generator=g, dtype=F64))
    yield Case("a random discriminator", (d, p, q, dx))
    x = torch.arange(6, dtype=F64)
    p = torch.tensor([0.5, 0.5, 0.0, 0.0, 0.0, 0.0], dtype=F64)
    q = torch.tensor([0.0, 0.0, 0.0, 0.0, 0.5, 0.5], dtype=F64)
    d = ref.optimal_discriminator(p, q)
    yield Case("disjoint supports at D* (0 log 0 = 0): 2 log 2 - log 4 = 0", (d, p, q, 1.0),
               expected=torch.tensor(0.0, dtype=F64))
    yield Case("float32, grid spacing 0.25", (torch.tensor([0.9, 0.5, 0.2], dtype=F32), torch.tensor([1.2, 1.6, 1.2]),
                                               torch.tensor([0.4, 1.6, 2.0]), 0.25))
    del x


# ----------------------------------------------------------------------------- f-GAN

@check("fgan_lower_bound", reference=ref.fgan_lower_bound,
       hint="The bound is mean T(real) - mean f*(T(fake)) with the convex conjugate f*(t) = sup_u (u t - f(u)): "
            "solve f'(u) = t for u and substitute. Check f*(f'(1)) = f'(1) - f(1) for each divergence.")
def _fgan_cases():
    g = _gen(1305)
    yield Case("closed form: KL with T = 1 on both sides gives 1 - e^0 = 0",
               (torch.tensor([1.0], dtype=F64), torch.tensor([1.0], dtype=F64), "kl"), expected=torch.tensor(0.0, dtype=F64))
    for div in ("kl", "pearson"):
        yield Case(f"{div}, random critic values", (torch.randn(40, generator=g, dtype=F64),
                                                    torch.randn(30, generator=g, dtype=F64), div))
    yield Case("reverse_kl, negative critic values", (-torch.rand(40, generator=g, dtype=F64) * 3 - 0.1,
                                                      -torch.rand(25, generator=g, dtype=F64) * 3 - 0.1, "reverse_kl"))
    yield Case("hellinger, critic values below 1", (1 - torch.rand(40, generator=g, dtype=F64) * 3 - 0.05,
                                                    1 - torch.rand(25, generator=g, dtype=F64) * 3 - 0.05, "hellinger"))
    # At the optimal critic T* = f'(p/q) the bound is the divergence itself: P = N(1, 1), Q = N(0, 1).
    xp = torch.randn(2000, generator=g, dtype=F64) + 1
    xq = torch.randn(2000, generator=g, dtype=F64)
    ratio = lambda x: torch.exp(x - 0.5)  # p(x) / q(x) for these two Gaussians  # noqa: E731
    optimal = {"kl": lambda r: 1 + torch.log(r), "reverse_kl": lambda r: -1 / r,
               "pearson": lambda r: 2 * (r - 1), "hellinger": lambda r: 1 - 1 / torch.sqrt(r)}
    for div, t_star in optimal.items():
        yield Case(f"{div} at the optimal critic f'(p/q), 2000 samples of N(1,1) and N(0,1)",
                   (t_star(ratio(xp)), t_star(ratio(xq)), div))
    yield Case("float32, Pearson", (torch.randn(10, generator=g), torch.randn(10, generator=g), "pearson"))


# ----------------------------------------------------------------------------- 1-D Wasserstein

def _scipy_w1(x, y):
    from scipy.stats import wasserstein_distance

    return torch.tensor(wasserstein_distance(x.double().numpy(), y.double().numpy()), dtype=x.dtype)


@check("wasserstein_1d",
       hint="W1 is the area between the two empirical CDFs; for equal sizes it is the mean |sorted x - sorted y|. "
            "With different sizes neither sample may be cut or padded.")
def _wasserstein_cases():
    g = _gen(1306)
    yield Case("closed form: [0, 1] and [3, 2]", (torch.tensor([0.0, 1.0], dtype=F64), torch.tensor([3.0, 2.0], dtype=F64)),
               expected=torch.tensor(2.0, dtype=F64))
    x = torch.randn(50, generator=g, dtype=F64)
    yield Case("a sample and its shuffled copy shifted by 0.7: W1 = 0.7",
               (x, (x + 0.7)[torch.randperm(50, generator=g)]), expected=torch.tensor(0.7, dtype=F64))
    for label, n, m in [("equal sizes 100 (unsorted)", 100, 100), ("sizes 30 and 70", 30, 70), ("sizes 7 and 3", 7, 3),
                        ("one point against 20", 1, 20)]:
        x = torch.randn(n, generator=g, dtype=F64) * 2
        y = torch.rand(m, generator=g, dtype=F64) * 3 - 1
        yield Case(f"{label} (oracle: scipy)", (x, y), expected=_scipy_w1(x, y))
    x = torch.randn(64, generator=g)
    y = torch.randn(64, generator=g) * 0.5 + 1
    yield Case("float32, same means spread differently (not the difference of means)", (x, y), expected=_scipy_w1(x, y))
    x = torch.tensor([0.0, 0.0, 1.0, 5.0], dtype=F64)
    yield Case("ties and repeated values", (x, torch.tensor([1.0, 1.0, 5.0], dtype=F64)),
               expected=_scipy_w1(x, torch.tensor([1.0, 1.0, 5.0], dtype=F64)))


# ----------------------------------------------------------------------------- gradient penalty

class _ImageCritic(torch.nn.Module):
    """A small conv critic on (B, C, H, W) images with smooth activations (second derivatives matter)."""

    def __init__(self, channels, seed, flat_out=False):
        super().__init__()
        g = _gen(seed)
        self.conv = torch.nn.Conv2d(channels, 3, 3, padding=1, dtype=F64)
        self.head = torch.nn.Linear(3 * 16, 1, dtype=F64)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g, dtype=F64) * 0.6)
        self.flat_out = flat_out

    def forward(self, x):
        h = torch.tanh(self.conv(x)).flatten(1)
        out = self.head(h)
        return out.squeeze(1) if self.flat_out else out


def _mlp_critic(seed, in_dim, hidden=16):
    return make_mlp([in_dim, hidden, 1], _gen(seed), activation=torch.nn.Tanh, dtype=F64)


def _gp_probe(fn, case):
    critic = case.args[0]
    penalty = fn(*case.args)
    params = [p for p in critic.parameters()]
    if not isinstance(penalty, torch.Tensor) or not penalty.requires_grad:
        return {"value": penalty, "grads": None}
    grads = torch.autograd.grad(penalty, params, allow_unused=True)
    return {"value": penalty.detach(), "grads": [torch.zeros_like(p) if g is None else g.detach()
                                                  for p, g in zip(params, grads)]}


def _gp_compare(got, expected, case):
    if not isinstance(got, dict) or set(got) != {"value", "grads"}:
        return "the probe of your penalty returned something unexpected."
    critic, real, fake, alpha = case.args
    value = ref.gradient_penalty(critic, real, fake, alpha)
    problem = diagnose_close(got["value"], value.detach(), what="the penalty")
    if problem:
        return problem
    if got["grads"] is None:
        return ("the penalty carries no gradient to the critic's weights: the critic is trained by "
                "back-propagating through it, so the input gradient must be taken with create_graph=True.")
    expected_grads = torch.autograd.grad(value, list(critic.parameters()), allow_unused=True)
    for i, (g, e) in enumerate(zip(got["grads"], expected_grads)):
        e = torch.zeros_like(g) if e is None else e
        problem = diagnose_close(g, e, what=f"d penalty / d critic parameter {i}")
        if problem:
            return problem
    return None


@check("gradient_penalty", compare=_gp_compare, probe=_gp_probe,
       hint="Mix x_hat = alpha * real + (1 - alpha) * fake with alpha broadcast per example; take the gradient of "
            "the summed critic scores with create_graph=True; its L2 norm per example over ALL non-batch "
            "dimensions; then mean((norm - 1)^2).")
def _gradient_penalty_cases():
    g = _gen(1307)
    for label, shape, seed, flat in [("images (6, 3, 4, 4), critic output (B, 1)", (6, 3, 4, 4), 11, False),
                                     ("images (5, 1, 4, 4), critic output (B,)", (5, 1, 4, 4), 12, True),
                                     ("images (4, 2, 4, 4)", (4, 2, 4, 4), 13, False)]:
        critic = _ImageCritic(shape[1], seed, flat)
        real = torch.rand(shape, generator=g, dtype=F64)
        fake = torch.rand(shape, generator=g, dtype=F64)
        alpha = torch.rand(shape[0], generator=g, dtype=F64)
        yield Case(label, (critic, real, fake, alpha), expected=None)
    for label, (b, d), scale in [("vectors (8, 2), gradient norms below 1", (8, 2), 0.3),
                                 ("vectors (10, 5), gradient norms above 1", (10, 5), 3.0)]:
        critic = _mlp_critic(20 + b, d)
        with torch.no_grad():
            critic[0].weight.mul_(scale)
        yield Case(label, (critic, torch.randn(b, d, generator=g, dtype=F64), torch.randn(b, d, generator=g, dtype=F64),
                           torch.rand(b, generator=g, dtype=F64)), expected=None)


# ----------------------------------------------------------------------------- spectral normalization

def _with_singular_values(out, inp, values, seed):
    g = _gen(seed)
    qa, _ = torch.linalg.qr(torch.randn(out, out, generator=g, dtype=F64))
    qb, _ = torch.linalg.qr(torch.randn(inp, inp, generator=g, dtype=F64))
    s = torch.zeros(out, inp, dtype=F64)
    for i, v in enumerate(values):
        s[i, i] = v
    return qa @ s @ qb.T


def _sn_compare(got, expected, case):
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return "return a tuple (normalized weight, sigma, u)."
    for what, g_val, e_val in (("the normalized weight", got[0], expected[0]), ("sigma", got[1], expected[1]),
                               ("the new state u", got[2], expected[2])):
        problem = diagnose_close(g_val, e_val, what=what, rtol=1e-6 if e_val.dtype == F64 else None,
                                 atol=1e-9 if e_val.dtype == F64 else None)
        if problem:
            return problem
    return None


@check("spectral_normalize", reference=ref.spectral_normalize, compare=_sn_compare,
       hint="View the weight as (out, -1); each iteration v = normalize(W^T u), then u = normalize(W v); "
            "sigma = u^T W v with the NEW u and v; return (weight / sigma, sigma, new u).")
def _spectral_cases():
    g = _gen(1308)
    W = _with_singular_values(4, 6, [3.0, 1.0, 0.5, 0.2], 1)
    u = torch.randn(4, generator=g, dtype=F64)
    yield Case("(4, 6), one iteration", (W, u))
    yield Case("(4, 6), three iterations", (W, u, 3))
    W = _with_singular_values(5, 3, [2.0, 1.0, 0.3], 2)
    yield Case("(5, 3) tall, 2 iterations", (W, torch.randn(5, generator=g, dtype=F64), 2))
    W = _with_singular_values(3, 3, [4.0, 1.5, 1.0], 3)
    yield Case("square (3, 3), one iteration", (W, torch.randn(3, generator=g, dtype=F64), 1))
    W = _with_singular_values(4, 18, [5.0, 2.0, 1.0, 0.5], 4).reshape(4, 2, 3, 3)
    yield Case("conv weight (4, 2, 3, 3), 2 iterations", (W, torch.randn(4, generator=g, dtype=F64), 2))
    W = _with_singular_values(6, 4, [2.5, 1.0, 0.7, 0.1], 5)
    expected_sigma = torch.linalg.matrix_norm(W, ord=2)
    u0 = torch.randn(6, generator=g, dtype=F64)
    out = ref.spectral_normalize(W, u0, 60)
    assert abs(float(out[1]) - float(expected_sigma)) < 1e-9
    yield Case("after 60 iterations sigma is the largest singular value (2.5)", (W, u0, 60))
    yield Case("float32 (3, 5)", (torch.randn(3, 5, generator=g), torch.randn(3, generator=g), 1))


# ----------------------------------------------------------------------------- conditional GAN input

@check("conditional_input", reference=ref.conditional_input,
       hint="Concatenate along dimension 1: z first, then a one-hot code of width n_classes (even when the "
            "largest label in the batch is smaller), in z's dtype.")
def _conditional_cases():
    g = _gen(1309)
    yield Case("closed form", (torch.zeros(1, 2, dtype=F64), torch.tensor([1]), 3),
               expected=torch.tensor([[0.0, 0.0, 0.0, 1.0, 0.0]], dtype=F64))
    yield Case("float32 noise (6, 4), 10 classes, labels below 5",
               (torch.randn(6, 4, generator=g), torch.randint(0, 5, (6,), generator=g), 10))
    yield Case("float64 data (5, 2), 3 classes", (torch.randn(5, 2, generator=g, dtype=F64), torch.tensor([2, 0, 1, 1, 2]), 3))
    yield Case("one example", (torch.randn(1, 3, generator=g, dtype=F64), torch.tensor([0]), 2))


# ----------------------------------------------------------------------------- attacks

def _attack_model(seed, in_dim=16, hidden=24, classes=4, scale=1.0):
    net = make_mlp([in_dim, hidden, classes], _gen(seed), activation=torch.nn.Tanh, dtype=F64)
    with torch.no_grad():
        net[0].weight.mul_(scale)
    return net


def _batch(seed, b, d=16, classes=4, low=0.0, high=1.0):
    g = _gen(seed)
    return (low + (high - low) * torch.rand(b, d, generator=g, dtype=F64), torch.randint(0, classes, (b,), generator=g))


@check("fgsm", reference=adv_ref.fgsm,
       hint="Step UP the loss: x + eps * sign(gradient of the cross-entropy with respect to x), then clip to [0, 1].")
def _fgsm_cases():
    net = _attack_model(1)
    x, y = _batch(2, 12)
    yield Case("float64 MLP, 12 inputs, eps 0.1", (net, x, y, 0.1))
    x, y = _batch(3, 9, low=0.0, high=0.15)
    yield Case("inputs near 0, eps 0.2 (clipping matters)", (net, x, y, 0.2))
    x, y = _batch(4, 9, low=0.9, high=1.0)
    yield Case("inputs near 1, eps 0.3", (net, x, y, 0.3))
    yield Case("eps 0 returns x", (net, x, y, 0.0), expected=x.clone())
    net2 = _attack_model(5, in_dim=8, classes=3, scale=4.0)
    x, y = _batch(6, 6, d=8, classes=3)
    yield Case("another network (8 inputs, 3 classes), eps 0.05", (net2, x, y, 0.05))


@check("pgd_attack", reference=adv_ref.pgd_attack,
       hint="Each step: ascend (sign of the gradient for L-inf; the gradient divided by ITS OWN example's L2 norm "
            "for L2), recomputing the gradient at the current point; then project x_adv - x back into the ball "
            "(per example), then clip to [0, 1]. Start from x + delta0, projected and clipped.")
def _pgd_cases():
    net = _attack_model(11)
    x, y = _batch(12, 10)
    yield Case("L-inf, eps 0.1, step 0.03, 10 steps (projection matters)", (net, x, y, 0.1, 0.03, 10))
    yield Case("L-inf by keyword, one step equals FGSM", (net, x, y), {"eps": 0.1, "step_size": 0.1, "n_steps": 1,
                                                                      "norm": "linf"},
               expected=adv_ref.fgsm(net, x, y, 0.1))
    xe, ye = _batch(13, 8, low=0.85, high=1.0)
    yield Case("L-inf near 1, eps 0.3, 6 steps (clipping matters)", (net, xe, ye, 0.3, 0.1, 6))
    yield Case("L2, eps 0.5, step 0.2, 8 steps", (net, x, y, 0.5, 0.2, 8, "l2"))
    # per-example normalization: examples whose gradients differ in size by orders of magnitude
    net_sharp = _attack_model(14, scale=8.0)
    xs, ys = _batch(15, 6)
    xs[:3] = xs[:3] * 0.02 + 0.49
    yield Case("L2, examples with very different gradient norms", (net_sharp, xs, ys, 0.8, 0.3, 3, "l2"))
    xc, yc = _batch(16, 7, low=0.0, high=0.1)
    yield Case("L2 near 0, eps 1.0 (projection and clipping)", (net, xc, yc, 1.0, 0.6, 5, "l2"))
    g = _gen(17)
    delta0 = (torch.rand(x.shape, generator=g, dtype=F64) * 2 - 1) * 0.3
    yield Case("L-inf random start outside the ball, 0 steps", (net, x, y, 0.1, 0.03, 0, "linf", delta0))
    yield Case("L-inf random start, 4 steps", (net, x, y, 0.1, 0.03, 4, "linf", delta0 * 0.3))
    yield Case("L2 random start, 3 steps", (net, x, y, 0.5, 0.2, 3, "l2", delta0))


# ----------------------------------------------------------------------------- make it work: a GAN on the ring

def _state_probe(fn, case):
    """In the kernel: train, and send back the returned network's weights (plain tensors)."""
    net = fn(*case.args, **case.kwargs)
    if not isinstance(net, torch.nn.Module):
        return {"error": f"returned a {type(net).__name__}, not the trained torch.nn.Module"}
    return {"state": {k: v.detach().to("cpu").clone() for k, v in net.state_dict().items()}}


def _load(got, build):
    if not isinstance(got, dict) or "state" not in got or not isinstance(got["state"], dict):
        return None, (got.get("error") if isinstance(got, dict) and isinstance(got.get("error"), str)
                      else "the function did not return a trained network.")
    net = build()
    expected = net.state_dict()
    state = got["state"]
    if set(state) != set(expected) or any(not isinstance(state[k], torch.Tensor) or state[k].shape != expected[k].shape
                                          for k in expected):
        return None, "return the network built by the course's constructor (same layers and sizes), trained."
    net.load_state_dict({k: state[k].to(expected[k].dtype) for k in expected})
    return net, None


def _gan_compare(got, expected, case):
    G, problem = _load(got, lambda: make_generator(_gen(0)))
    if problem:
        return problem
    with torch.no_grad():
        samples = G(torch.randn(4000, 2, generator=_gen(31337)))
    report = mode_report(samples)
    per_mode = ", ".join(f"{p:.3f}" for p in report["per_mode"])
    if report["near_fraction"] < GAN_MIN_NEAR or report["covered"] < GAN_MODES:
        return (f"of 4000 samples of your generator {report['near_fraction']:.3f} land near a mode (target >= "
                f"{GAN_MIN_NEAR}) and {report['covered']} of {GAN_MODES} modes are covered (target: all); "
                f"share near each mode: {per_mode}.")
    return None


@check("train_gan_2d", compare=_gan_compare, probe=_state_probe,
       hint="Alternate one discriminator step (real labelled 1, fake 0, fake samples detached) and one generator "
            "step with the non-saturating loss; Adam with beta1 = 0.5; a few thousand steps.")
def _train_gan_cases():
    yield Case(f"ring of 8, 2000 training points, seed 1: >= {GAN_MIN_NEAR} of samples near a mode, all 8 covered",
               (sample_ring(2000, _gen(1310)), _gen(1)), expected=None)


# ----------------------------------------------------------------------------- make it work: adversarial training

_DIGITS: dict = {}


def _digits():
    if not _DIGITS:
        from course.data import load_digits

        _DIGITS["split"] = load_digits()
    return _DIGITS["split"]


def _margin_pgd(net, x, y, eps, step, n_steps):
    """L-inf PGD on the margin (best other logit - true logit): immune to saturated softmax gradients."""
    x_adv = x.clone()
    for _ in range(n_steps):
        x_adv.requires_grad_(True)
        logits = net(x_adv)
        true = logits.gather(1, y[:, None]).squeeze(1)
        other = logits.masked_fill(F.one_hot(y, logits.shape[1]).bool(), float("-inf")).amax(1)
        (grad,) = torch.autograd.grad((other - true).sum(), x_adv)
        x_adv = (x + (x_adv.detach() + step * grad.sign() - x).clamp(-eps, eps)).clamp(0, 1)
    return x_adv.detach()


def robust_accuracy(net, X, y, eps=ADV_EPS):
    """Accuracy under the worse (per example) of two 20-step L-inf PGD attacks: cross-entropy and margin."""
    net = net.to(F64)
    X = X.to(F64)
    with torch.enable_grad():
        x_ce = adv_ref.pgd_attack(net, X, y, eps, eps / 5, 20, "linf")
        x_margin = _margin_pgd(net, X, y, eps, eps / 5, 20)
    with torch.no_grad():
        ok = (net(x_ce).argmax(1) == y) & (net(x_margin).argmax(1) == y)
        clean = (net(X).argmax(1) == y).double().mean()
    return float(ok.double().mean()), float(clean)


def _adv_compare(got, expected, case):
    net, problem = _load(got, lambda: make_digits_classifier(_gen(0)))
    if problem:
        return problem
    _, _, X_test, y_test = _digits()
    robust, clean = robust_accuracy(net, X_test, y_test)
    if clean < ADV_MIN_CLEAN or robust < ADV_MIN_ROBUST:
        return (f"on the {len(y_test)} held-out digits your network is {clean:.3f} accurate (target >= {ADV_MIN_CLEAN}) "
                f"and {robust:.3f} accurate under the grader's L-inf PGD with eps {ADV_EPS} (target >= {ADV_MIN_ROBUST}).")
    return None


@check("adversarial_training", compare=_adv_compare, probe=_state_probe,
       hint="Train on PGD examples of each batch (your pgd_attack, L-inf, eps 0.1, a few steps from a random start), "
            "made against the CURRENT network, labelled with the true labels; not on clean inputs only.")
def _adversarial_training_cases():
    X_train, y_train, _, _ = _digits()
    yield Case(f"digits, seed 0: held-out accuracy under PGD (eps {ADV_EPS}) >= {ADV_MIN_ROBUST}, clean >= {ADV_MIN_CLEAN}",
               (X_train, y_train, _gen(0)), expected=None)


# ----------------------------------------------------------------------------- concept questions

def _letter(got, expected, case):
    if not isinstance(got, str) or got.strip().lower() not in "abcd" or len(got.strip()) != 1:
        return "answer with one of the letters 'a', 'b', 'c' or 'd' (a string)."
    return None if got.strip().lower() == expected else "that option is not the right one; reread the section."


def _number(got, expected, case):
    try:
        value = float(got)
    except (TypeError, ValueError):
        return "answer with a number."
    if not math.isfinite(value) or abs(value - expected) > 5e-3:
        return "that number is not the right value; reread the section."
    return None


def _option_set(got, expected, case):
    try:
        if isinstance(got, str):
            raise TypeError
        chosen = {int(v) for v in got}
    except (TypeError, ValueError):
        return "answer with a set of option numbers, e.g. {1, 2}."
    return None if chosen == expected else "that set of options is not the right one; reread the section."


@check("answer_saturation", compare=_letter, hint="Compare the slopes of the two losses where D(G(z)) is near 0.")
def _answer_saturation_cases():
    yield Case("concept question 1", (), expected="b")


@check("answer_disjoint_jsd", compare=_number, hint="Where do the two point masses overlap? Work out each KL to the mixture.")
def _answer_disjoint_cases():
    yield Case("concept question 2", (), expected=math.log(2))


def _set_probe(fn, case):
    """In the kernel: the answer as a sorted list (sets do not cross the wall as such)."""
    answer = fn()
    if not isinstance(answer, (set, frozenset, list, tuple)):
        return repr(answer)[:100]
    return sorted(int(v) for v in answer)


@check("answer_robust_sets", compare=_option_set, probe=_set_probe, hint="A set is covered when every perturbation in it also lies in the "
                                                       "L-inf ball of radius 0.5.")
def _answer_robust_cases():
    yield Case("concept question 3", (), expected={1, 3})
