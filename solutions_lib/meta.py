"""Few-shot learning, meta-learning and contrastive self-supervision (chapter 17).

Conventions shared by every function:

* an **episode** of an N-way K-shot task holds N classes, K labelled *support* examples and Q *query*
  examples per class; inside an episode the classes are renamed ``0 .. N-1`` in the order they were drawn;
* embeddings are rows: ``(num_examples, D)``; support sets are ``(N, K, D)`` (class first, then shot);
* distances are **squared** Euclidean distances; similarities in the contrastive losses are **cosine**
  similarities (rows normalized to unit length) divided by a temperature;
* losses are means over the batch; every function keeps its input's dtype and device and never changes
  its inputs in place.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "sample_episode",
    "prototypes",
    "prototype_logits",
    "matching_predict",
    "triplet_loss",
    "info_nce",
    "clip_loss",
    "augment_digits",
    "maml_inner_step",
    "maml_meta_gradient",
    "train_fewshot_embedding",
    "concept_answers",
]


def sample_episode(labels, n_way, k_shot, n_query, generator):
    """Draw the indices of one N-way K-shot episode (chapter 17).

    The draws, in this order, all from ``generator``: ``torch.randperm(C)`` over the C sorted distinct labels
    picks the classes (its first ``n_way`` entries); then, for each picked class in turn,
    ``torch.randperm(n_c)`` over that class's examples (in the order they appear in ``labels``) picks
    ``k_shot + n_query`` of them: the first ``k_shot`` are the support, the rest the queries.

    Args:
        labels: int64 tensor (M,) of class labels.
        n_way, k_shot, n_query: classes per episode, support and query examples per class.
        generator: the source of randomness.

    Returns:
        ``(support, query, classes)``: int64 index tensors into ``labels`` of shapes (n_way, k_shot) and
        (n_way, n_query), and the original labels (n_way,) of the episode's classes 0..n_way-1.

    Example:
        >>> labels = torch.tensor([0, 0, 1, 1, 2, 2])
        >>> s, q, c = sample_episode(labels, 2, 1, 1, torch.Generator().manual_seed(0))
        >>> tuple(s.shape), tuple(q.shape), bool((labels[s[:, 0]] == c).all())
        ((2, 1), (2, 1), True)
    """
    distinct = torch.unique(labels)
    classes = distinct[torch.randperm(len(distinct), generator=generator)[:n_way]]
    support, query = [], []
    for c in classes:
        members = torch.nonzero(labels == c).flatten()
        chosen = members[torch.randperm(len(members), generator=generator)[:k_shot + n_query]]
        support.append(chosen[:k_shot])
        query.append(chosen[k_shot:])
    return torch.stack(support), torch.stack(query), classes


def prototypes(support):
    """Class prototypes: the mean embedding of each class's support examples (chapter 17).

    Args:
        support: (N, K, D) embeddings, class first, then shot.

    Returns:
        (N, D).

    Example:
        >>> prototypes(torch.tensor([[[0.0, 2.0], [2.0, 0.0]]])).tolist()
        [[1.0, 1.0]]
    """
    return support.mean(dim=1)


def prototype_logits(query, protos):
    """Prototypical-network logits: minus the squared Euclidean distance to each prototype (chapter 17).

    Args:
        query: (M, D) query embeddings.
        protos: (N, D) prototypes.

    Returns:
        (M, N), ``logits[i, k] = -||query[i] - protos[k]||^2``.

    Example:
        >>> prototype_logits(torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0], [1.0, 0.0]])).tolist()
        [[-25.0, -1.0]]
    """
    diff = query[:, None, :] - protos[None, :, :]
    return -(diff * diff).sum(-1)


def matching_predict(query, support, support_labels, n_way):
    """Matching-network class probabilities (chapter 17).

    Attention ``a[i, j] = softmax_j(cos(query[i], support[j]))`` over the support set, then
    ``P[i, k] = sum_j a[i, j] [support_labels[j] == k]``.

    Args:
        query: (M, D); support: (S, D); support_labels: int64 (S,) in 0..n_way-1; n_way: N.

    Returns:
        (M, N) probabilities, rows summing to 1.

    Example:
        >>> P = matching_predict(torch.tensor([[1.0, 0.0]]), torch.eye(2), torch.tensor([0, 1]), 2)
        >>> round(float(P[0, 0]), 4)
        0.7311
    """
    sims = F.normalize(query, dim=-1) @ F.normalize(support, dim=-1).T
    attention = torch.softmax(sims, dim=-1)
    return attention @ F.one_hot(support_labels, n_way).to(attention.dtype)


def triplet_loss(anchor, positive, negative, margin=1.0):
    """Triplet loss with squared distances: mean of ``max(0, |a-p|^2 - |a-n|^2 + margin)`` (chapter 17).

    Args:
        anchor, positive, negative: (B, D).
        margin: the required gap between the two squared distances.

    Returns:
        scalar tensor.

    Example:
        >>> a, p, n = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.5]])
        >>> float(triplet_loss(a, p, n, margin=2.0))
        0.75
    """
    d_pos = ((anchor - positive) ** 2).sum(-1)
    d_neg = ((anchor - negative) ** 2).sum(-1)
    return torch.clamp(d_pos - d_neg + margin, min=0).mean()


def _cosine_logits(a: Tensor, b: Tensor, temperature: float) -> Tensor:
    return F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T / temperature


def info_nce(z1, z2, temperature=0.1):
    """InfoNCE: each row of ``z1`` must pick its own view in ``z2`` among all rows of ``z2`` (chapter 17).

    ``logits[i, j] = cos(z1[i], z2[j]) / temperature``; the loss is the mean over ``i`` of the
    cross-entropy of row ``i`` with target ``i``.

    Args:
        z1, z2: (B, D) embeddings of two views of the same B examples.
        temperature: tau > 0.

    Returns:
        scalar tensor.

    Example:
        >>> z = torch.eye(3)
        >>> round(float(info_nce(z, z, temperature=1.0)), 4)
        0.5514
    """
    logits = _cosine_logits(z1, z2, temperature)
    targets = torch.arange(len(z1), device=z1.device)
    return F.cross_entropy(logits, targets)


def clip_loss(image_emb, text_emb, temperature=0.07):
    """CLIP's symmetric contrastive loss: the mean of the image-to-text and text-to-image InfoNCE (chapter 17).

    Args:
        image_emb, text_emb: (B, D); row i of each describes pair i.
        temperature: tau > 0.

    Returns:
        scalar tensor.

    Example:
        >>> z = torch.eye(3)
        >>> round(float(clip_loss(z, z, temperature=1.0)), 4)
        0.5514
    """
    logits = _cosine_logits(image_emb, text_emb, temperature)
    targets = torch.arange(len(image_emb), device=image_emb.device)
    return 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets))


def augment_digits(X, generator, max_shift=1, noise_std=0.05):
    """A random view of each 8x8 digit: a shift with zero fill, then Gaussian pixel noise (chapter 17).

    Draws, in this order: ``shifts = torch.randint(-max_shift, max_shift + 1, (B, 2), generator=generator)``
    (column 0 moves the picture down by ``dy`` rows, column 1 right by ``dx`` columns:
    ``out[b, r, c] = X[b, r - dy, c - dx]``, 0 where that falls outside), then
    ``noise_std * torch.randn(B, 64, generator=generator, dtype=X.dtype)`` added to every pixel.

    Args:
        X: (B, 64) flattened images (row-major 8x8).
        generator: the source of randomness.
        max_shift: largest shift in pixels; noise_std: standard deviation of the noise.

    Returns:
        (B, 64), X's dtype.

    Example:
        >>> tuple(augment_digits(torch.zeros(5, 64), torch.Generator().manual_seed(0)).shape)
        (5, 64)
    """
    B = X.shape[0]
    shifts = torch.randint(-max_shift, max_shift + 1, (B, 2), generator=generator)
    noise = noise_std * torch.randn(B, 64, generator=generator, dtype=X.dtype)
    images = X.reshape(B, 8, 8)
    pad = max_shift
    padded = F.pad(images, (pad, pad, pad, pad))
    rows = torch.arange(8)[None, :] - shifts[:, :1] + pad            # (B, 8): source row of each output row
    cols = torch.arange(8)[None, :] - shifts[:, 1:] + pad            # (B, 8)
    batch = torch.arange(B)[:, None, None]
    out = padded[batch, rows[:, :, None], cols[:, None, :]]
    return out.reshape(B, 64) + noise.to(X.device)


def _mse(model: Callable, params: Sequence[Tensor], x: Tensor, y: Tensor) -> Tensor:
    return ((model(params, x) - y) ** 2).mean()


def maml_inner_step(model, params, x, y, inner_lr, create_graph=False):
    """One gradient step of MAML's inner loop on the mean squared error (chapter 17).

    Args:
        model: ``model(params, x) -> predictions`` shaped like ``y``.
        params: list of tensors that require grad.
        x, y: the task's support inputs and targets.
        inner_lr: alpha.
        create_graph: keep the graph of the step, so the adapted parameters can be differentiated again.

    Returns:
        list of adapted tensors ``p - alpha * dL/dp`` (same shapes).

    Example:
        >>> w = torch.tensor([1.0], requires_grad=True)
        >>> maml_inner_step(lambda p, x: p[0] * x, [w], torch.ones(1), torch.zeros(1), 0.25)[0].tolist()
        [0.5]
    """
    loss = _mse(model, params, x, y)
    grads = torch.autograd.grad(loss, list(params), create_graph=create_graph)
    return [p - inner_lr * g for p, g in zip(params, grads)]


def maml_meta_gradient(model, params, tasks, inner_lr, first_order=False):
    """The gradient of MAML's meta-loss with respect to the initial parameters (chapter 17).

    Meta-loss: the mean over tasks ``(x_s, y_s, x_q, y_q)`` of the query MSE at the parameters adapted by one
    inner step on the support set. ``first_order=True`` treats the adapted parameters as constants (FOMAML):
    the result is the mean over tasks of the query gradient taken at the adapted parameters.

    Args:
        model: ``model(params, x)``; params: list of tensors that require grad.
        tasks: sequence of ``(x_s, y_s, x_q, y_q)``.
        inner_lr: alpha; first_order: drop the second-order term.

    Returns:
        list of tensors shaped like ``params`` (detached).

    Example:
        >>> w = torch.tensor([1.0], requires_grad=True)
        >>> task = (torch.ones(1), torch.zeros(1), torch.ones(1), torch.zeros(1))
        >>> maml_meta_gradient(lambda p, x: p[0] * x, [w], [task], 0.25)[0].tolist()
        [0.5]
    """
    params = list(params)
    total = [torch.zeros_like(p) for p in params]
    for x_s, y_s, x_q, y_q in tasks:
        adapted = maml_inner_step(model, params, x_s, y_s, inner_lr, create_graph=not first_order)
        if first_order:
            adapted = [a.detach().requires_grad_() for a in adapted]
            grads = torch.autograd.grad(_mse(model, adapted, x_q, y_q), adapted)
        else:
            grads = torch.autograd.grad(_mse(model, adapted, x_q, y_q), params)
        total = [t + g.detach() for t, g in zip(total, grads)]
    return [t / len(tasks) for t in total]


def train_fewshot_embedding(X, y, generator):
    """Train an embedding for few-shot classification with prototypical episodes (chapter 17).

    A 64-256-64 ReLU network trained with Adam (lr 1e-3) for 200 episodes of 5-way 5-shot 10-query tasks
    drawn with ``sample_episode`` from ``(X, y)``, minimizing the cross-entropy of ``prototype_logits`` of its
    output; the embedding returned is its 256-wide hidden layer, which keeps far more of what the novel
    classes need than the output layer (trained to separate the base classes only, it collapses them).

    Args:
        X: (M, 64) float32 images of the training classes; y: int64 (M,) labels.
        generator: seeds the initialization and every episode.

    Returns:
        a function mapping (B, 64) images to (B, 256) embeddings (no gradient).

    Example:
        >>> X = torch.rand(100, 64); y = torch.arange(100) % 5
        >>> embed = train_fewshot_embedding(X, y, torch.Generator().manual_seed(0))
        >>> tuple(embed(X[:3]).shape)
        (3, 256)
    """
    seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        hidden = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU())
        head = torch.nn.Linear(256, 64)
    hidden, head = hidden.to(X.dtype), head.to(X.dtype)
    opt = torch.optim.Adam(list(hidden.parameters()) + list(head.parameters()), lr=1e-3)
    n_way, k_shot, n_query = 5, 5, 10
    target = torch.arange(n_way).repeat_interleave(n_query)
    for _ in range(200):
        support, query, _classes = sample_episode(y, n_way, k_shot, n_query, generator)
        emb_s = head(hidden(X[support.reshape(-1)])).reshape(n_way, k_shot, -1)
        emb_q = head(hidden(X[query.reshape(-1)]))
        loss = F.cross_entropy(prototype_logits(emb_q, prototypes(emb_s)), target)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def embed(images: Tensor) -> Tensor:
        with torch.no_grad():
            return hidden(images.to(X.dtype))

    return embed


def concept_answers():
    """The chapter's concept questions: one letter per question (chapter 17).

    Example:
        >>> sorted(concept_answers())
        ['q1', 'q2', 'q3']
    """
    return {"q1": "b", "q2": "c", "q3": "a"}
