"""Adversarial examples: FGSM, PGD under L-inf and L2 budgets, and adversarial training (chapter 13).

Conventions shared by every function:

* ``model`` maps a batch ``(B, ...)`` to logits ``(B, C)``; the attacked loss is the cross-entropy of the
  true labels ``y``; attacks **increase** it;
* inputs live in ``[0, 1]``: every adversarial example is clipped to that range, and it also stays within
  the budget ``eps`` of the clean input in the chosen norm, per example;
* attacks never change the model's parameters (nor their ``.grad``) and return a detached tensor of the
  input's shape, dtype and device.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["fgsm", "pgd_attack", "adversarial_training", "answer_robust_sets"]


def _input_gradient(model, x, y):
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = F.cross_entropy(model(x), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, x)
    return grad


def fgsm(model, x, y, eps):
    r"""The fast gradient sign method: one step of size ``eps`` along :math:`\mathrm{sign}\nabla_x L`, clipped to [0, 1].

    Introduced in chapter 13 (GANs and adversarial examples).
    :math:`x' = \mathrm{clip}_{[0,1]}\big(x + \epsilon\,\mathrm{sign}(\nabla_x L(f(x), y))\big)`.

    Args:
        model: ``(B, ...) -> (B, C)`` logits.
        x: tensor ``(B, ...)`` in ``[0, 1]``; y: long tensor ``(B,)``.
        eps: float, the L-inf budget.

    Returns:
        Detached tensor of the shape and dtype of ``x``.

    Example:
        >>> model = torch.nn.Linear(2, 2)
        >>> tuple(fgsm(model, torch.rand(3, 2), torch.tensor([0, 1, 0]), 0.1).shape)
        (3, 2)
    """
    grad = _input_gradient(model, x, y)
    return (x + eps * grad.sign()).clamp(0.0, 1.0).detach()


def _per_example_norm(t):
    return t.reshape(t.shape[0], -1).norm(dim=1).reshape((-1,) + (1,) * (t.dim() - 1))


def pgd_attack(model, x, y, eps, step_size, n_steps, norm="linf", delta0=None):
    r"""Projected gradient ascent on the loss within an L-inf or L2 ball of radius ``eps`` around ``x``.

    Introduced in chapter 13 (GANs and adversarial examples). Start from ``x + delta0`` (``delta0`` zero by
    default; it is the random start, passed in) projected and clipped as below. Each of ``n_steps`` steps:

    * ``"linf"``: :math:`x' \leftarrow x' + \eta\,\mathrm{sign}(g)`;
      ``"l2"``: :math:`x' \leftarrow x' + \eta\, g / \max(\|g\|_2, 10^{-12})`, the norm per example over all
      non-batch dimensions; with :math:`g = \nabla_{x'} L(f(x'), y)`;
    * project onto the ball: L-inf clamps each entry of :math:`x' - x` to :math:`[-\epsilon, \epsilon]`; L2
      rescales :math:`\delta = x' - x` to :math:`\delta \min(1, \epsilon/\|\delta\|_2)` per example;
    * clip :math:`x'` to ``[0, 1]``.

    Args:
        model: ``(B, ...) -> (B, C)`` logits.
        x: tensor ``(B, ...)`` in ``[0, 1]``; y: long tensor ``(B,)``.
        eps, step_size: floats; n_steps: int ``>= 0``.
        norm: ``"linf"`` or ``"l2"``.
        delta0: optional tensor of the shape of ``x``, the initial perturbation.

    Returns:
        Detached tensor of the shape and dtype of ``x``.

    Example:
        >>> model = torch.nn.Linear(4, 3)
        >>> x = torch.rand(2, 4)
        >>> x_adv = pgd_attack(model, x, torch.tensor([0, 2]), 0.1, 0.05, 5)
        >>> bool((x_adv - x).abs().max() <= 0.1 + 1e-7)
        True
    """
    if norm not in ("linf", "l2"):
        raise ValueError(f"norm must be 'linf' or 'l2', got {norm!r}")

    def project(x_adv):
        delta = x_adv - x
        if norm == "linf":
            delta = delta.clamp(-eps, eps)
        else:
            length = _per_example_norm(delta)
            delta = delta * torch.clamp(eps / length.clamp_min(1e-12), max=1.0)
        return (x + delta).clamp(0.0, 1.0)

    x = x.detach()
    x_adv = project(x + (delta0.to(x.dtype) if delta0 is not None else torch.zeros_like(x)))
    for _ in range(n_steps):
        g = _input_gradient(model, x_adv, y)
        if norm == "linf":
            step = g.sign()
        else:
            step = g / _per_example_norm(g).clamp_min(1e-12)
        x_adv = project(x_adv + step_size * step)
    return x_adv.detach()


def adversarial_training(X, y, generator):
    """Train the chapter's digits classifier on PGD examples (L-inf, eps 0.1); return the trained network.

    Introduced in chapter 13 (GANs and adversarial examples). The network comes from
    ``course.gan_toys.make_digits_classifier(generator)``; minibatches and random starts come from
    ``generator``. Each step attacks the batch with 5 steps of PGD (step 0.03, uniform random start in the
    ball) and takes an Adam step (lr 3e-3) on the cross-entropy of the adversarial batch.

    Args:
        X: tensor ``(N, 64)`` in ``[0, 1]``; y: long tensor ``(N,)``.
        generator: ``torch.Generator``.

    Returns:
        The trained classifier (``torch.nn.Module`` mapping ``(B, 64)`` to ``(B, 10)`` logits).

    Example:
        >>> from course.data import load_digits
        >>> X, y, X_test, y_test = load_digits()
        >>> net = adversarial_training(X, y, torch.Generator().manual_seed(0))
        >>> float((net(X_test).argmax(1) == y_test).float().mean()) > 0.85
        True
    """
    from course.gan_toys import make_digits_classifier

    net = make_digits_classifier(generator)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    X = X.to(torch.float32)
    eps, batch = 0.1, 64
    for _ in range(30):
        order = torch.randperm(X.shape[0], generator=generator)
        for start in range(0, X.shape[0], batch):
            idx = order[start:start + batch]
            xb, yb = X[idx], y[idx]
            delta0 = (torch.rand(xb.shape, generator=generator) * 2 - 1) * eps
            x_adv = pgd_attack(net, xb, yb, eps, 0.03, 5, "linf", delta0)
            loss = F.cross_entropy(net(x_adv), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net


def answer_robust_sets():
    """Concept question 3 of chapter 13: which perturbation sets an L-inf (0.5) robust model also resists.

    Example:
        >>> sorted(answer_robust_sets())
        [1, 3]
    """
    return {1, 3}
