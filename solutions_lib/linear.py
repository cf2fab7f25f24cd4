"""Linear classifiers: logistic regression, softmax, cross-entropy and their gradients.

Reference answers for chapter 03 (From logistic regression to softmax classifiers). Conventions used
throughout:

* a batch of inputs is a matrix ``X`` of shape ``(N, D)``, one example per row;
* a linear classifier has weights ``W`` of shape ``(D, C)`` and a bias ``b`` of shape ``(C,)``, so the
  logits are ``X @ W + b`` of shape ``(N, C)`` (``torch.nn.Linear`` stores the transpose, ``(C, D)``);
* class targets are integer tensors (``torch.int64``) of shape ``(N,)`` with values in ``0..C-1``;
* losses are means over the batch, and every gradient has the shape of what it differentiates.
"""
from __future__ import annotations

import torch

__all__ = [
    "sigmoid",
    "logistic_loss_and_grad",
    "softmax",
    "log_softmax",
    "cross_entropy",
    "softmax_backward",
    "softmax_cross_entropy_grad",
    "gradient_rows_answer",
    "accuracy",
    "linear_softmax_loss_and_grads",
    "train_softmax_classifier",
    "separable_answer",
    "expected_calibration_error",
    "temperature_answer",
]


def sigmoid(z):
    r"""The logistic function :math:`\sigma(z) = 1 / (1 + e^{-z})`, elementwise and without overflow.

    Introduced in chapter 03 (From logistic regression to softmax classifiers).

    Only exponentials of non-positive numbers are taken: with :math:`e = e^{-|z|} \in (0, 1]`,
    :math:`\sigma(z) = 1/(1+e)` for :math:`z \ge 0` and :math:`e/(1+e)` for :math:`z < 0`.

    Args:
        z: a floating tensor of any shape.

    Returns:
        A tensor of the same shape and dtype with entries in :math:`[0, 1]`.

    Example:
        >>> sigmoid(torch.tensor([0.0, 1000.0, -1000.0]))
        tensor([0.5000, 1.0000, 0.0000])
    """
    e = torch.exp(-z.abs())
    return torch.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def logistic_loss_and_grad(logits, targets):
    r"""Mean binary cross-entropy of logits against 0/1 targets, and its gradient w.r.t. the logits.

    Introduced in chapter 03 (From logistic regression to softmax classifiers).

    With :math:`p_i = \sigma(z_i)` the loss is
    :math:`L = \frac1N \sum_i -[t_i \log p_i + (1 - t_i) \log(1 - p_i)]
    = \frac1N \sum_i [\mathrm{softplus}(z_i) - t_i z_i]`, evaluated as
    :math:`\max(z, 0) - t z + \log(1 + e^{-|z|})` so that no exponential overflows, and
    :math:`\partial L / \partial z_i = (\sigma(z_i) - t_i) / N`.

    Args:
        logits: floating tensor of shape ``(N,)``.
        targets: tensor of shape ``(N,)`` with entries in ``[0, 1]`` (usually exactly 0 or 1), any dtype.

    Returns:
        ``(loss, grad)``: a 0-dimensional tensor and a tensor of shape ``(N,)``, both of the logits' dtype.

    Example:
        >>> loss, grad = logistic_loss_and_grad(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 0.0]))
        >>> round(loss.item(), 4), grad
        (0.6931, tensor([-0.2500,  0.2500]))
    """
    t = targets.to(dtype=logits.dtype, device=logits.device)
    n = logits.shape[0]
    per_example = logits.clamp(min=0) - t * logits + torch.log1p(torch.exp(-logits.abs()))
    loss = per_example.mean()
    grad = (sigmoid(logits) - t) / n
    return loss, grad


def softmax(logits, dim=-1):
    r"""Softmax along ``dim``, :math:`p_i = e^{z_i - m} / \sum_j e^{z_j - m}` with :math:`m = \max_j z_j`.

    Introduced in chapter 03 (From logistic regression to softmax classifiers).

    Subtracting the maximum of each slice leaves the result unchanged and keeps every exponent
    :math:`\le 0`, so logits near 1000 do not overflow.

    Args:
        logits: a floating tensor of any shape (at least one dimension).
        dim: the dimension that holds the classes (default: the last).

    Returns:
        A tensor of the same shape and dtype, non-negative, summing to 1 along ``dim``.

    Example:
        >>> softmax(torch.tensor([[1000.0, 1000.0], [0.0, 0.0]]))
        tensor([[0.5000, 0.5000],
                [0.5000, 0.5000]])
    """
    e = (logits - logits.amax(dim=dim, keepdim=True)).exp_()  # a fresh tensor: safe to work in place
    return e.div_(e.sum(dim=dim, keepdim=True))


def log_softmax(logits, dim=-1):
    r"""Logarithm of the softmax along ``dim``, via the log-sum-exp trick.

    Introduced in chapter 03 (From logistic regression to softmax classifiers).

    :math:`\log p_i = z_i - m - \log \sum_j e^{z_j - m}` with :math:`m = \max_j z_j`: finite even where
    the softmax itself underflows to 0.

    Args:
        logits: a floating tensor of any shape (at least one dimension).
        dim: the dimension that holds the classes (default: the last).

    Returns:
        A tensor of the same shape and dtype, all entries :math:`\le 0`.

    Example:
        >>> log_softmax(torch.tensor([0.0, -1000.0]))
        tensor([    0., -1000.])
    """
    # Subtract the max *before* taking differences: logits - logsumexp(logits) would cancel two numbers
    # near 1000 and lose float32's digits.
    shifted = logits - logits.amax(dim=dim, keepdim=True)
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log_()


def cross_entropy(logits, targets):
    r"""Mean softmax cross-entropy :math:`L = -\frac1N \sum_i \log \mathrm{softmax}(z_i)_{y_i}`.

    Introduced in chapter 03 (From logistic regression to softmax classifiers).

    The same as ``torch.nn.functional.cross_entropy(logits, targets)`` (reduction ``"mean"``).

    Args:
        logits: floating tensor of shape ``(N, C)``.
        targets: integer class indices of shape ``(N,)`` with values in ``0..C-1``.

    Returns:
        A 0-dimensional tensor of the logits' dtype.

    Example:
        >>> round(cross_entropy(torch.zeros(2, 4), torch.tensor([0, 3])).item(), 4)  # log 4
        1.3863
    """
    # -log p_y = log sum_j exp(z_j - m) - (z_y - m): one reduction per row and no (N, C) matrix of
    # log-probabilities; both terms are taken relative to the row max m, so nothing large cancels.
    m = logits.amax(dim=1, keepdim=True)
    log_sum = (logits - m).exp_().sum(dim=1).log_()
    picked = logits.gather(1, targets.long().reshape(-1, 1)) - m
    return (log_sum - picked.squeeze(1)).mean()


def softmax_backward(probs, grad_probs, dim=-1):
    r"""Backward pass of the softmax: the gradient w.r.t. the logits from the gradient w.r.t. the probabilities.

    Introduced in chapter 03 (From logistic regression to softmax classifiers). With
    :math:`p = \mathrm{softmax}(z)` along ``dim``, the Jacobian is
    :math:`\partial p_i/\partial z_k = p_i(\delta_{ik} - p_k)` (symmetric), so for an upstream gradient
    :math:`g = \partial L/\partial p`

    .. math:: \frac{\partial L}{\partial z_k} = \sum_i g_i\, p_i(\delta_{ik} - p_k) = p_k\Big(g_k - \sum_i g_i p_i\Big),

    a Jacobian-vector product that never builds the :math:`C \times C` Jacobian.

    Args:
        probs: softmax outputs, any shape, the classes along ``dim``.
        grad_probs: :math:`\partial L/\partial p`, same shape as ``probs``.
        dim: the dimension of the classes (default: the last one).

    Returns:
        :math:`\partial L/\partial z`, shape and dtype of ``probs``; it sums to 0 along ``dim``.

    Example:
        >>> softmax_backward(torch.tensor([0.5, 0.5]), torch.tensor([1.0, 0.0]))
        tensor([ 0.2500, -0.2500])
    """
    return probs * (grad_probs - (grad_probs * probs).sum(dim=dim, keepdim=True))


def softmax_cross_entropy_grad(logits, targets):
    r"""Gradient of :func:`cross_entropy` w.r.t. the logits: :math:`(\mathrm{softmax}(Z) - Y) / N`.

    Introduced in chapter 03 (From logistic regression to softmax classifiers).

    ``Y`` is the one-hot matrix of the targets; the :math:`1/N` comes from the mean over the batch.

    Args:
        logits: floating tensor of shape ``(N, C)``.
        targets: integer class indices of shape ``(N,)``.

    Returns:
        A tensor of shape ``(N, C)`` and the logits' dtype; each row sums to 0.

    Example:
        >>> softmax_cross_entropy_grad(torch.zeros(1, 2), torch.tensor([1]))
        tensor([[ 0.5000, -0.5000]])
    """
    n = logits.shape[0]
    grad = (logits - logits.amax(dim=1, keepdim=True)).exp_()
    grad.mul_(grad.sum(dim=1, keepdim=True).mul_(n).reciprocal_())  # softmax / N in one pass
    rows = torch.arange(n, device=logits.device)
    grad[rows, targets.long()] -= 1.0 / n
    return grad


def accuracy(logits, targets):
    """Fraction of rows whose largest logit sits at the target class.

    Introduced in chapter 03 (From logistic regression to softmax classifiers).

    Ties go to the lowest class index, as with ``torch.argmax``.

    Args:
        logits: tensor of shape ``(N, C)`` (logits or probabilities: the argmax is the same).
        targets: integer class indices of shape ``(N,)``.

    Returns:
        A Python float in ``[0, 1]``.

    Example:
        >>> accuracy(torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 4.0]]), torch.tensor([0, 1, 1]))
        0.6666666666666666
    """
    predictions = logits.argmax(dim=1)
    return (predictions == targets.to(predictions.device)).double().mean().item()


def linear_softmax_loss_and_grads(X, W, b, y, reg):
    r"""Loss of a linear softmax classifier with L2 penalty, and its gradients w.r.t. ``W`` and ``b``.

    Introduced in chapter 03 (From logistic regression to softmax classifiers).

    With logits :math:`Z = XW + b` and :math:`\Delta = (\mathrm{softmax}(Z) - Y)/N`:

    .. math::
        L = \mathrm{CE}(Z, y) + \tfrac{\lambda}{2} \|W\|_F^2, \qquad
        \nabla_W L = X^\top \Delta + \lambda W, \qquad \nabla_b L = \textstyle\sum_i \Delta_{i\cdot}.

    The bias is not regularized.

    Args:
        X: inputs of shape ``(N, D)``.
        W: weights of shape ``(D, C)``.
        b: bias of shape ``(C,)``.
        y: integer class indices of shape ``(N,)``.
        reg: the L2 strength :math:`\lambda \ge 0`.

    Returns:
        ``(loss, dW, db)``: a 0-dimensional tensor, shape ``(D, C)`` and shape ``(C,)``, dtype of ``X``.

    Example:
        >>> X = torch.tensor([[1.0, 2.0]]); W = torch.zeros(2, 2); b = torch.zeros(2)
        >>> loss, dW, db = linear_softmax_loss_and_grads(X, W, b, torch.tensor([0]), reg=0.1)
        >>> round(loss.item(), 4), dW, db
        (0.6931, tensor([[-0.5000,  0.5000],
                [-1.0000,  1.0000]]), tensor([-0.5000,  0.5000]))
    """
    logits = X @ W + b
    loss = cross_entropy(logits, y) + 0.5 * reg * (W * W).sum()
    delta = softmax_cross_entropy_grad(logits, y)
    dW = X.T @ delta + reg * W
    db = delta.sum(dim=0)
    return loss, dW, db


def train_softmax_classifier(X, y, num_classes, lr, epochs, reg, generator):
    r"""Fit a linear softmax classifier by full-batch gradient descent with hand-derived gradients.

    Introduced in chapter 03 (From logistic regression to softmax classifiers).

    Starts from ``W = 0.01 * torch.randn(D, num_classes, generator=generator)`` (in ``X``'s dtype) and
    ``b = 0``, then takes ``epochs`` steps ``W -= lr * dW``, ``b -= lr * db`` with the gradients of
    :func:`linear_softmax_loss_and_grads`. ``losses[t]`` is the regularized loss at the parameters
    *before* step ``t`` (so ``losses[0]`` is the loss at the initialization).

    Args:
        X: inputs of shape ``(N, D)``.
        y: integer class indices of shape ``(N,)``.
        num_classes: the number of classes ``C``.
        lr: the learning rate.
        epochs: the number of gradient steps (each uses the whole training set).
        reg: the L2 strength, as in :func:`linear_softmax_loss_and_grads`.
        generator: the source of randomness for the initial weights (on ``X``'s device).

    Returns:
        ``(W, b, losses)`` of shapes ``(D, C)``, ``(C,)`` and ``(epochs,)``, all in ``X``'s dtype.

    Example:
        >>> X = torch.tensor([[-2.0], [-1.0], [1.0], [2.0]]); y = torch.tensor([0, 0, 1, 1])
        >>> W, b, losses = train_softmax_classifier(X, y, 2, lr=1.0, epochs=50, reg=0.0,
        ...                                         generator=torch.Generator().manual_seed(0))
        >>> accuracy(X @ W + b, y), bool(losses[-1] < losses[0])
        (1.0, True)
    """
    d = X.shape[1]
    W = 0.01 * torch.randn(d, num_classes, generator=generator, dtype=X.dtype, device=X.device)
    b = torch.zeros(num_classes, dtype=X.dtype, device=X.device)
    losses = torch.empty(epochs, dtype=X.dtype, device=X.device)
    for t in range(epochs):
        loss, dW, db = linear_softmax_loss_and_grads(X, W, b, y, reg)
        losses[t] = loss
        W = W - lr * dW
        b = b - lr * db
    return W, b, losses


def gradient_rows_answer():
    """Concept question of chapter 03: why every row of the cross-entropy gradient sums to zero.

    Example::

        >>> gradient_rows_answer()
        'c'
    """
    return "c"


def separable_answer():
    """Concept question of chapter 03: unregularized softmax regression on separable data.

    Example::

        >>> separable_answer()
        'b'
    """
    return "b"


def expected_calibration_error(probs, targets, n_bins=10):
    r"""Expected calibration error of predicted class probabilities, with equal-width confidence bins.

    Introduced in chapter 03 (From logistic regression to softmax classifiers). Each row's
    *confidence* is its largest probability and its prediction the class of that probability (ties to
    the lowest index). Bin ``k`` (``k = 0 .. n_bins - 1``) holds the rows whose confidence lies in
    :math:`(k/B, (k+1)/B]`; with :math:`n_k` rows, accuracy :math:`a_k` and mean confidence
    :math:`c_k` in bin ``k``,

    .. math:: \mathrm{ECE} = \sum_k \frac{n_k}{N}\,|a_k - c_k|,

    empty bins contributing nothing.

    Args:
        probs: predicted probabilities, shape ``(N, C)``, rows summing to 1.
        targets: integer labels, shape ``(N,)``.
        n_bins: the number ``B`` of equal-width bins on ``[0, 1]``.

    Returns:
        The ECE as a Python float in ``[0, 1]``.

    Example:
        >>> probs = torch.tensor([[0.9, 0.1], [0.9, 0.1]], dtype=torch.float64)
        >>> round(expected_calibration_error(probs, torch.tensor([0, 1]), 10), 6)
        0.4
    """
    confidence, predicted = probs.max(dim=1)
    correct = (predicted == targets).to(torch.float64)
    confidence = confidence.to(torch.float64)
    bins = torch.ceil(confidence * n_bins).long() - 1  # confidence > 0, so bins lie in 0 .. n_bins - 1
    n = probs.shape[0]
    counts = torch.zeros(n_bins, dtype=torch.float64, device=probs.device).index_add_(0, bins, torch.ones_like(correct))
    gap = torch.zeros(n_bins, dtype=torch.float64, device=probs.device).index_add_(0, bins, correct - confidence)
    return float(gap.abs().sum() / n)


def temperature_answer():
    """Concept question of chapter 03: what temperature scaling does to the accuracy.

    Example::

        >>> temperature_answer()
        'a'
    """
    return "a"
