"""GAN losses, the optimal discriminator, f-GAN bounds, Wasserstein distances and Lipschitz tools (chapter 13).

Conventions shared by every function:

* a discriminator returns **logits** ``s`` (any real number); its probability that an input is real is
  ``D = sigmoid(s)``. Losses are computed from the logits with ``softplus`` so that they stay finite for
  logits of any size: ``-log sigmoid(s) = softplus(-s)`` and ``-log(1 - sigmoid(s)) = softplus(s)``;
* losses are **means** over the batch and are quantities to **minimize**;
* densities on a grid are arrays of values at equally spaced points ``dx`` apart; integrals are Riemann
  sums ``sum(values) * dx``, with ``0 * log 0 = 0``;
* every function returns the dtype and device of its floating input and never modifies its inputs.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "discriminator_loss",
    "generator_loss",
    "optimal_discriminator",
    "gan_value",
    "fgan_lower_bound",
    "wasserstein_1d",
    "gradient_penalty",
    "spectral_normalize",
    "conditional_input",
    "train_gan_2d",
    "answer_saturation",
    "answer_disjoint_jsd",
]


def discriminator_loss(real_logits, fake_logits):
    r"""The discriminator's binary cross-entropy, from logits: real labelled 1, fake labelled 0.

    Introduced in chapter 13 (GANs and adversarial examples).
    :math:`L_D = -\mathbb E_x \log D(x) - \mathbb E_z \log(1 - D(G(z)))` with :math:`D = \sigma(s)`, i.e.
    ``mean(softplus(-real_logits)) + mean(softplus(fake_logits))``; the two batches may differ in size.

    Args:
        real_logits: tensor ``(B_real,)`` or ``(B_real, 1)``, the logits on real data.
        fake_logits: tensor ``(B_fake,)`` or ``(B_fake, 1)``, the logits on generated data.

    Returns:
        0-d tensor, the dtype of ``real_logits``.

    Example:
        >>> discriminator_loss(torch.zeros(3), torch.zeros(2))  # D = 1/2 everywhere: 2 log 2
        tensor(1.3863)
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits, saturating=False):
    r"""The generator's loss, from the discriminator's logits on generated data.

    Introduced in chapter 13 (GANs and adversarial examples).

    * ``saturating=True``: the minimax loss :math:`\mathbb E_z \log(1 - D(G(z)))` = ``-mean(softplus(s))``;
    * ``saturating=False`` (default): the non-saturating loss :math:`-\mathbb E_z \log D(G(z))`
      = ``mean(softplus(-s))``.

    Args:
        fake_logits: tensor ``(B,)`` or ``(B, 1)``.
        saturating: which of the two losses.

    Returns:
        0-d tensor, the dtype of ``fake_logits``.

    Example:
        >>> generator_loss(torch.tensor([0.0])), generator_loss(torch.tensor([0.0]), saturating=True)
        (tensor(0.6931), tensor(-0.6931))
    """
    if saturating:
        return -F.softplus(fake_logits).mean()
    return F.softplus(-fake_logits).mean()


def optimal_discriminator(p_data, p_g):
    r"""The discriminator that maximizes the GAN value for a fixed generator, pointwise.

    Introduced in chapter 13 (GANs and adversarial examples).
    :math:`D^*(x) = p_{data}(x) / (p_{data}(x) + p_G(x))`, and ``1/2`` where both densities vanish (there
    any value is optimal; we fix the one halfway).

    Args:
        p_data, p_g: tensors of the same shape, densities (``>= 0``) at the same points.

    Returns:
        Tensor of that shape, values in ``[0, 1]``.

    Example:
        >>> optimal_discriminator(torch.tensor([1.0, 0.0, 0.0]), torch.tensor([3.0, 2.0, 0.0]))
        tensor([0.2500, 0.0000, 0.5000])
    """
    total = p_data + p_g
    return torch.where(total > 0, p_data / torch.where(total > 0, total, torch.ones_like(total)),
                       torch.full_like(total, 0.5))


def gan_value(d, p_data, p_g, dx):
    r"""The GAN value :math:`V(D, G) = \int p_{data}\log D + p_G \log(1 - D)\,dx` on a grid.

    Introduced in chapter 13 (GANs and adversarial examples). A term whose density is 0 contributes 0,
    even where its log is infinite (:math:`0 \log 0 = 0`). At :math:`D = D^*` the value equals
    :math:`2\,\mathrm{JSD}(p_{data}\|p_G) - \log 4`.

    Args:
        d: tensor ``(N,)``, discriminator probabilities in ``[0, 1]`` at the grid points.
        p_data, p_g: tensors ``(N,)``, densities at the grid points.
        dx: float, the grid spacing.

    Returns:
        0-d tensor.

    Example:
        >>> p = torch.tensor([0.5, 0.5])
        >>> gan_value(torch.tensor([0.5, 0.5]), p, p, 1.0)  # identical distributions: -log 4
        tensor(-1.3863)
    """
    return (torch.xlogy(p_data, d) + torch.xlogy(p_g, 1 - d)).sum() * dx


def _conjugate(t: Tensor, divergence: str) -> Tensor:
    if divergence == "kl":                # f(u) = u log u
        return torch.exp(t - 1)
    if divergence == "reverse_kl":        # f(u) = -log u, t < 0
        return -1 - torch.log(-t)
    if divergence == "pearson":           # f(u) = (u - 1)^2
        return t * t / 4 + t
    if divergence == "hellinger":         # f(u) = (sqrt(u) - 1)^2, t < 1
        return t / (1 - t)
    raise ValueError(f"unknown divergence {divergence!r}: use 'kl', 'reverse_kl', 'pearson' or 'hellinger'")


def fgan_lower_bound(t_real, t_fake, divergence):
    r"""The f-GAN variational lower bound :math:`\mathbb E_P[T] - \mathbb E_Q[f^*(T)] \le D_f(P\|Q)`.

    Introduced in chapter 13 (GANs and adversarial examples). :math:`D_f(P\|Q) = \mathbb E_Q f(p/q)` and
    :math:`f^*(t) = \sup_u\, ut - f(u)` is the convex conjugate. For ``divergence``:

    * ``"kl"``: :math:`f(u) = u\log u`, :math:`f^*(t) = e^{t-1}`;
    * ``"reverse_kl"``: :math:`f(u) = -\log u`, :math:`f^*(t) = -1 - \log(-t)` for :math:`t < 0`;
    * ``"pearson"``: :math:`f(u) = (u-1)^2`, :math:`f^*(t) = t^2/4 + t`;
    * ``"hellinger"``: :math:`f(u) = (\sqrt u - 1)^2`, :math:`f^*(t) = t/(1-t)` for :math:`t < 1`.

    Args:
        t_real: tensor ``(N,)``, the critic's values :math:`T(x)` on samples of :math:`P`.
        t_fake: tensor ``(M,)``, its values on samples of :math:`Q` (inside the domain of :math:`f^*`).
        divergence: one of the names above.

    Returns:
        0-d tensor, the dtype of ``t_real``.

    Example:
        >>> fgan_lower_bound(torch.tensor([1.0]), torch.tensor([1.0]), "kl")  # 1 - e^0
        tensor(0.)
    """
    return t_real.mean() - _conjugate(t_fake, divergence).mean()


def wasserstein_1d(x, y):
    r"""The 1-Wasserstein (earth mover's) distance between two samples on the line.

    Introduced in chapter 13 (GANs and adversarial examples).
    :math:`W_1 = \int |F_x(t) - F_y(t)|\,dt` for the empirical CDFs of the two samples, which may differ in
    size; for equal sizes it is ``mean(|sort(x) - sort(y)|)``.

    Args:
        x: tensor ``(N,)``; y: tensor ``(M,)``.

    Returns:
        0-d tensor, the dtype of ``x``.

    Example:
        >>> wasserstein_1d(torch.tensor([0.0, 1.0]), torch.tensor([3.0, 2.0]))
        tensor(2.)
    """
    x, y = x.reshape(-1), y.reshape(-1).to(x.dtype)
    xs, ys = torch.sort(x).values, torch.sort(y).values
    grid = torch.sort(torch.cat([xs, ys])).values
    widths = grid[1:] - grid[:-1]
    cdf_x = torch.searchsorted(xs, grid[:-1], right=True).to(x.dtype) / xs.numel()
    cdf_y = torch.searchsorted(ys, grid[:-1], right=True).to(x.dtype) / ys.numel()
    return ((cdf_x - cdf_y).abs() * widths).sum()


def gradient_penalty(critic, real, fake, alpha):
    r"""The WGAN-GP penalty :math:`\mathbb E_{\hat x}(\|\nabla_{\hat x} D(\hat x)\|_2 - 1)^2`.

    Introduced in chapter 13 (GANs and adversarial examples). :math:`\hat x_i = \alpha_i x_i + (1-\alpha_i)
    \tilde x_i` mixes each real example with its fake partner; the norm is taken over **all** non-batch
    dimensions of each example's gradient (for images ``(B, C, H, W)``: over ``C, H, W`` together). The
    result keeps its graph (``create_graph=True``) so that it can be back-propagated to the critic.

    Args:
        critic: callable mapping ``(B, ...)`` to ``(B,)`` or ``(B, 1)`` scores.
        real, fake: tensors ``(B, ...)`` of the same shape.
        alpha: tensor ``(B,)``, mixing weights in ``[0, 1]`` (the randomness, passed in).

    Returns:
        0-d tensor that depends differentiably on the critic's parameters.

    Example:
        >>> w = torch.tensor([[3.0, 4.0]])
        >>> gradient_penalty(lambda x: x @ w.T, torch.zeros(2, 2), torch.ones(2, 2), torch.rand(2))
        tensor(16.)
    """
    shape = (-1,) + (1,) * (real.dim() - 1)
    mixed = (alpha.to(real.dtype).reshape(shape) * real + (1 - alpha.to(real.dtype).reshape(shape)) * fake)
    mixed = mixed.detach().requires_grad_(True)
    with torch.enable_grad():
        scores = critic(mixed)
        (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    norms = grad.reshape(grad.shape[0], -1).norm(dim=1)
    return ((norms - 1) ** 2).mean()


def spectral_normalize(weight, u, n_power_iterations=1):
    r"""Divide a weight by its largest singular value, estimated by power iteration from the state ``u``.

    Introduced in chapter 13 (GANs and adversarial examples). ``weight`` is viewed as a matrix
    :math:`W` of shape ``(out, in)`` (a conv weight ``(out, c, kh, kw)`` as ``(out, c*kh*kw)``). Each of the
    ``n_power_iterations`` steps does :math:`v \leftarrow W^\top u/\|W^\top u\|`, :math:`u \leftarrow Wv/\|Wv\|`;
    then :math:`\sigma = u^\top W v` (as :func:`torch.nn.utils.spectral_norm` does, without its ``eps``).

    Args:
        weight: tensor ``(out, ...)``.
        u: tensor ``(out,)``, the state from the previous call (any nonzero vector the first time).
        n_power_iterations: int ``>= 1``.

    Returns:
        ``(weight / sigma, sigma, u_new)``: the normalized weight (shape of ``weight``), a 0-d tensor, and
        the updated state ``(out,)`` to pass to the next call.

    Example:
        >>> w_sn, sigma, u = spectral_normalize(torch.diag(torch.tensor([3.0, 1.0])), torch.tensor([1.0, 1.0]), 20)
        >>> round(float(sigma), 4)
        3.0
    """
    W = weight.reshape(weight.shape[0], -1)
    u = u.to(weight.dtype)
    v = None
    for _ in range(n_power_iterations):
        v = W.T @ u
        v = v / v.norm()
        u = W @ v
        u = u / u.norm()
    sigma = u @ (W @ v)
    return weight / sigma, sigma, u


def conditional_input(z, labels, n_classes):
    """The input of a class-conditional generator (or discriminator): ``[z, one_hot(labels)]``.

    Introduced in chapter 13 (GANs and adversarial examples).

    Args:
        z: tensor ``(B, d)`` (noise, or data for the discriminator).
        labels: long tensor ``(B,)`` with entries in ``[0, n_classes)``.
        n_classes: int.

    Returns:
        Tensor ``(B, d + n_classes)``, dtype of ``z``: ``z`` first, then the one-hot code.

    Example:
        >>> conditional_input(torch.zeros(1, 2), torch.tensor([1]), 3)
        tensor([[0., 0., 0., 1., 0.]])
    """
    return torch.cat([z, F.one_hot(labels.long(), n_classes).to(z.dtype)], dim=1)


def train_gan_2d(data, generator):
    """Train a small GAN on 2-D data with the non-saturating loss; return the trained generator network.

    Introduced in chapter 13 (GANs and adversarial examples). The networks come from
    ``course.gan_toys.make_generator(generator)`` and ``make_discriminator(generator)`` (in that order);
    every batch and every noise draw comes from ``generator`` too, so the same seed gives the same network.
    Adam (lr 1e-3, betas (0.5, 0.999)) for both, batches of 256, one discriminator step per generator step.

    Args:
        data: tensor ``(N, 2)``, the training samples.
        generator: ``torch.Generator``.

    Returns:
        The trained generator (``torch.nn.Module`` mapping ``(B, 2)`` noise to ``(B, 2)`` points).

    Example:
        >>> from course.gan_toys import sample_ring, mode_report
        >>> G = train_gan_2d(sample_ring(2000, torch.Generator().manual_seed(0)), torch.Generator().manual_seed(1))
        >>> mode_report(G(torch.randn(2000, 2)))["covered"]
        8
    """
    from course.gan_toys import make_discriminator, make_generator

    G = make_generator(generator)
    D = make_discriminator(generator)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    data = data.to(torch.float32)
    batch = 256
    for _ in range(2000):
        real = data[torch.randint(data.shape[0], (batch,), generator=generator)]
        fake = G(torch.randn(batch, 2, generator=generator))
        loss_d = discriminator_loss(D(real), D(fake.detach()))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = generator_loss(D(fake))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return G


def answer_saturation():
    """Concept question 1 of chapter 13 (the saturating generator loss): the letter of the right option.

    Example:
        >>> answer_saturation() in "abcd"
        True
    """
    return "b"


def answer_disjoint_jsd():
    """Concept question 2 of chapter 13: JSD (nats) between point masses at 0 and 3: log 2.

    Example:
        >>> round(answer_disjoint_jsd(), 4)
        0.6931
    """
    return 0.6931471805599453
