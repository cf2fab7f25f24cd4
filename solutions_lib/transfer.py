"""Fine-tuning and domain adaptation (chapter 19).

Conventions shared by every function:

* samples are rows: a source sample ``(n, D)``, a target sample ``(m, D)``; 1-D scores are ``(n,)``;
* the RBF kernel with bandwidth ``sigma`` is ``k(x, y) = exp(-|x - y|^2 / (2 sigma^2))``;
* distances between distributions follow the notes' factor-2 convention: the H-divergence is
  ``2 sup_h |P(h = 1) - Q(h = 1)|`` and the total variation distance is ``2 sup_E |P(E) - Q(E)|``;
* domain labels are 0 for the source and 1 for the target; losses are means;
* every function keeps its input's dtype and device and never changes its inputs in place.
"""
from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F

__all__ = [
    "freeze_and_replace_head",
    "mmd2_biased",
    "mmd2_unbiased",
    "best_event",
    "total_variation",
    "h_divergence_1d",
    "GradientReversal",
    "grad_reverse",
    "dann_loss",
    "adapt_to_target",
    "transfer_concepts",
]


def freeze_and_replace_head(model, n_classes):
    """A copy of ``model`` with every parameter frozen and its last layer replaced by a fresh, trainable head
    (chapter 19).

    Args:
        model: ``torch.nn.Sequential`` whose last module is a ``torch.nn.Linear``; left unchanged.
        n_classes: outputs of the new head.

    Returns:
        ``torch.nn.Sequential``: the copied feature extractor (``requires_grad=False`` everywhere) followed by
        ``torch.nn.Linear(in_features, n_classes)`` (trainable, same dtype as the old head).

    Example:
        >>> net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
        >>> new = freeze_and_replace_head(net, 5)
        >>> new(torch.zeros(1, 4)).shape, [p.requires_grad for p in new.parameters()]
        (torch.Size([1, 5]), [False, False, True, True])
    """
    body = copy.deepcopy(model[:-1])
    for p in body.parameters():
        p.requires_grad_(False)
    old = model[-1]
    head = torch.nn.Linear(old.in_features, n_classes, bias=old.bias is not None,
                           device=old.weight.device, dtype=old.weight.dtype)
    return torch.nn.Sequential(*body, head)


def _rbf(A, B, bandwidth):
    sq = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2 * A @ B.T
    return torch.exp(-sq.clamp_min(0) / (2 * bandwidth ** 2))


def mmd2_biased(X, Y, bandwidth):
    """Squared MMD between two samples, the biased (V-statistic) estimate, RBF kernel (chapter 19).

    ``mean k(X, X) + mean k(Y, Y) - 2 mean k(X, Y)``, every mean over all pairs (diagonals included).

    Args:
        X: (n, D); Y: (m, D); bandwidth: sigma > 0.

    Returns:
        0-dim tensor, dtype of X (never negative).

    Example:
        >>> X = torch.zeros(1, 1); Y = torch.ones(1, 1)
        >>> mmd2_biased(X, Y, 1.0)   # 2 - 2 exp(-1/2)
        tensor(0.7869)
    """
    return _rbf(X, X, bandwidth).mean() + _rbf(Y, Y, bandwidth).mean() - 2 * _rbf(X, Y, bandwidth).mean()


def mmd2_unbiased(X, Y, bandwidth):
    """Squared MMD, the unbiased (U-statistic) estimate, RBF kernel (chapter 19).

    The within-sample means leave out the diagonal ``k(x_i, x_i)``: ``sum_{i != j} k(x_i, x_j) / (n (n - 1))``,
    likewise for Y; the cross term is ``2 mean k(X, Y)`` over all n m pairs. Can be negative.

    Args:
        X: (n, D), n >= 2; Y: (m, D), m >= 2; bandwidth: sigma > 0.

    Returns:
        0-dim tensor, dtype of X.

    Example:
        >>> X = torch.tensor([[0.0], [0.0]]); Y = torch.tensor([[0.0], [0.0]])
        >>> mmd2_unbiased(X, Y, 1.0)
        tensor(0.)
    """
    n, m = X.shape[0], Y.shape[0]
    Kxx, Kyy = _rbf(X, X, bandwidth), _rbf(Y, Y, bandwidth)
    within_x = (Kxx.sum() - Kxx.diagonal().sum()) / (n * (n - 1))
    within_y = (Kyy.sum() - Kyy.diagonal().sum()) / (m * (m - 1))
    return within_x + within_y - 2 * _rbf(X, Y, bandwidth).mean()


def best_event(p, q):
    """The event that attains ``sup_E |P(E) - Q(E)|`` on a finite set: where ``p`` is strictly larger (chapter 19).

    Args:
        p, q: (..., K) probability vectors over the last axis.

    Returns:
        bool tensor (..., K), ``p > q``.

    Example:
        >>> best_event(torch.tensor([0.5, 0.3, 0.2]), torch.tensor([0.2, 0.3, 0.5]))
        tensor([ True, False, False])
    """
    return p > q


def total_variation(p, q):
    """Total variation distance ``2 sup_E |P(E) - Q(E)|`` of distributions on a finite set (chapter 19).

    Equal to ``sum_x |p(x) - q(x)|`` (between 0 and 2).

    Args:
        p, q: (..., K) probability vectors over the last axis.

    Returns:
        (...), dtype of p.

    Example:
        >>> total_variation(torch.tensor([0.5, 0.5]), torch.tensor([1.0, 0.0]))
        tensor(1.)
    """
    return (p - q).abs().sum(-1)


def h_divergence_1d(scores_s, scores_t):
    """Empirical H-divergence of two 1-D samples for the threshold classifiers ``1[x > t]`` and ``1[x <= t]``
    (chapter 19).

    ``2 sup_h |P_s(h = 1) - P_t(h = 1)|`` over all thresholds t and both orientations: twice the two-sample
    Kolmogorov-Smirnov statistic ``sup_t |F_s(t) - F_t(t)|`` of the empirical CDFs.

    Args:
        scores_s: (n,); scores_t: (m,).

    Returns:
        0-dim tensor, dtype of scores_s, in [0, 2].

    Example:
        >>> h_divergence_1d(torch.tensor([0.0, 1.0]), torch.tensor([2.0, 3.0]))
        tensor(2.)
    """
    points = torch.cat([scores_s, scores_t.to(scores_s.dtype)])
    cdf_s = (scores_s[None, :] <= points[:, None]).to(scores_s.dtype).mean(1)
    cdf_t = (scores_t[None, :] <= points[:, None]).to(scores_s.dtype).mean(1)
    return 2 * (cdf_s - cdf_t).abs().max()


class GradientReversal(torch.autograd.Function):
    """Identity on the way forward; multiplies the incoming gradient by ``-lambd`` on the way back (chapter 19).

    Example:
        >>> x = torch.ones(3, requires_grad=True)
        >>> GradientReversal.apply(2 * x, 0.5).sum().backward(); x.grad
        tensor([-1., -1., -1.])
    """

    @staticmethod
    def forward(ctx, x, lambd):
        ctx.lambd = lambd
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -ctx.lambd * grad_output, None


def grad_reverse(x, lambd=1.0):
    """The gradient-reversal layer of DANN: returns x; the gradient flowing back through it is ``-lambd`` times
    the gradient flowing in (chapter 19).

    Args:
        x: tensor of any shape; lambd: a Python float >= 0.

    Returns:
        tensor equal to x (same shape and dtype).

    Example:
        >>> x = torch.ones(2, requires_grad=True)
        >>> grad_reverse(x, 0.5).sum().backward(); x.grad
        tensor([-0.5000, -0.5000])
    """
    return GradientReversal.apply(x, lambd)


def dann_loss(class_logits_s, labels_s, domain_logits_s, domain_logits_t):
    """The loss DANN minimizes once a gradient-reversal layer sits before the domain discriminator (chapter 19).

    ``cross_entropy(class_logits_s, labels_s)`` (mean over the source) plus the discriminator's binary
    cross-entropy, source labelled 0 and target labelled 1, each domain's mean taken separately:
    ``mean_i BCE(d_s_i, 0) + mean_j BCE(d_t_j, 1)``, computed from logits (log-sigmoid, stable).

    Args:
        class_logits_s: (n, K); labels_s: int64 (n,); domain_logits_s: (n,); domain_logits_t: (m,).

    Returns:
        0-dim tensor, dtype of the logits.

    Example:
        >>> z = torch.zeros(2, 3)
        >>> round(float(dann_loss(z, torch.tensor([0, 1]), torch.zeros(2), torch.zeros(4))), 4)  # log 3 + 2 log 2
        2.4849
    """
    classification = F.cross_entropy(class_logits_s, labels_s)
    domain_s = F.binary_cross_entropy_with_logits(domain_logits_s, torch.zeros_like(domain_logits_s))
    domain_t = F.binary_cross_entropy_with_logits(domain_logits_t, torch.ones_like(domain_logits_t))
    return classification + domain_s + domain_t


def adapt_to_target(X_s, y_s, X_t, generator):
    """Train a digit classifier on labelled source images that works on unlabelled, shifted target images
    (chapter 19).

    An MLP encoder (64-128-64, ReLU) and a linear classifier, trained with Adam on the source cross-entropy
    plus 5 times the unbiased squared MMD (bandwidth 4) between the encoder's features of a source batch and a
    target batch of 64 images each, 250 steps (learning rate 0.002).

    Args:
        X_s: (n, 64) source images; y_s: int64 (n,) their digits; X_t: (m, 64) target images (no labels);
        generator: torch.Generator, the source of all randomness.

    Returns:
        ``(encoder, classifier)``: callables; ``classifier(encoder(images))`` are (B, 10) logits.

    Example:
        >>> X = torch.rand(100, 64); y = torch.arange(100) % 10
        >>> encoder, classifier = adapt_to_target(X, y, torch.rand(80, 64), torch.Generator().manual_seed(0))
        >>> tuple(classifier(encoder(X[:3])).shape)
        (3, 10)
    """
    torch.manual_seed(int(torch.randint(2**31 - 1, (1,), generator=generator)))
    encoder = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64),
                                  torch.nn.ReLU()).to(X_s.dtype)
    classifier = torch.nn.Linear(64, 10).to(X_s.dtype)
    opt = torch.optim.Adam([*encoder.parameters(), *classifier.parameters()], lr=2e-3)
    for _ in range(250):
        i = torch.randint(len(X_s), (64,), generator=generator)
        j = torch.randint(len(X_t), (64,), generator=generator)
        h_s, h_t = encoder(X_s[i]), encoder(X_t[j])
        loss = F.cross_entropy(classifier(h_s), y_s[i]) + 5.0 * mmd2_unbiased(h_s, h_t, 4.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return encoder, classifier


def transfer_concepts():
    """The chapter's concept questions: one letter per question (chapter 19).

    Example:
        >>> sorted(transfer_concepts())
        ['q1', 'q2', 'q3']
    """
    return {"q1": "c", "q2": "b", "q3": "d"}
