"""Gradient descent and its descendants, written as pure update rules (chapter 05).

Every optimizer here is a *pure function on explicit state*: it takes the parameter, its gradient and a
dict holding the optimizer's memory, and returns the updated parameter together with a **new** state
dict, leaving its inputs untouched. The state keys and the update rules are those of ``torch.optim``
(``momentum_buffer``, ``sum``, ``square_avg``, ``step``, ``exp_avg``, ``exp_avg_sq``), so a loop of
these functions reproduces ``torch.optim.SGD``, ``Adagrad``, ``RMSprop`` and ``Adam`` step for step.
``weight_decay`` is always the L2 penalty that torch adds to the gradient (``grad + weight_decay * param``),
and the small ``eps`` of the adaptive methods is added *outside* the square root, as torch does.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "sgd_step",
    "robbins_monro_schedule",
    "sgd_trajectory",
    "momentum_step",
    "nesterov_step",
    "momentum_rate",
    "optimal_momentum",
    "adagrad_step",
    "rmsprop_step",
    "adam_step",
    "gradient_noise_scale",
    "logistic_newton_step",
    "train_digits_adam",
    "bias_correction_answer",
    "momentum_step_size_answer",
]


def _decayed(param: Tensor, grad: Tensor, weight_decay: float) -> Tensor:
    return grad + weight_decay * param if weight_decay != 0 else grad


def _as_tensors(*values):
    """Numbers and tensors as tensors of one floating dtype and device (float64 when all are numbers)."""
    tensors = [x for x in values if isinstance(x, Tensor)]
    dtype, device = torch.float64, None
    if tensors:
        dtype = tensors[0].dtype if tensors[0].is_floating_point() else torch.get_default_dtype()
        for t in tensors[1:]:
            if t.is_floating_point():
                dtype = torch.promote_types(dtype, t.dtype)
        device = tensors[0].device
    return tuple(torch.as_tensor(x, dtype=dtype, device=device) for x in values)


def sgd_step(param, grad, lr, weight_decay=0.0):
    r"""One step of plain (stochastic) gradient descent, :math:`\theta \leftarrow \theta - \epsilon g`.

    Introduced in chapter 05 (SGD and its descendants). Matches ``torch.optim.SGD(lr=lr,
    weight_decay=weight_decay)`` without momentum.

    Args:
        param: the parameter :math:`\theta`, any shape.
        grad: its gradient :math:`g`, same shape as ``param``.
        lr: the learning rate :math:`\epsilon`.
        weight_decay: L2 coefficient :math:`\lambda`; the step uses :math:`g + \lambda\theta`.

    Returns:
        The new parameter, same shape, dtype and device as ``param`` (``param`` is not modified).

    Example::

        >>> sgd_step(torch.tensor([1.0, 2.0]), torch.tensor([0.5, -1.0]), lr=0.1)
        tensor([0.9500, 2.1000])
    """
    return param - lr * _decayed(param, grad, weight_decay)


def robbins_monro_schedule(lr0, decay, n_steps, power=1.0, dtype=torch.float64):
    r"""The step sizes :math:`\alpha_k = \alpha_0 / (1 + d\,k)^p` for :math:`k = 0, \dots, n-1`.

    Introduced in chapter 05 (SGD and its descendants). For :math:`d > 0` and
    :math:`\tfrac12 < p \le 1` they satisfy the Robbins-Monro conditions
    :math:`\sum_k \alpha_k = \infty` and :math:`\sum_k \alpha_k^2 < \infty`.

    Args:
        lr0: the first step size :math:`\alpha_0`.
        decay: the decay rate :math:`d \ge 0`.
        n_steps: how many step sizes to return.
        power: the exponent :math:`p` (default 1, the inverse-time decay).
        dtype: the dtype of the result (default float64).

    Returns:
        Tensor of shape ``(n_steps,)``.

    Example::

        >>> robbins_monro_schedule(0.5, 1.0, 4)
        tensor([0.5000, 0.2500, 0.1667, 0.1250], dtype=torch.float64)
    """
    k = torch.arange(n_steps, dtype=dtype)
    return lr0 / (1.0 + decay * k) ** power


def sgd_trajectory(theta0, samples, lrs):
    r"""SGD with batch size 1 on the loss :math:`(x - \theta)^2`: the whole path of :math:`\theta`.

    Introduced in chapter 05 (SGD and its descendants). Step :math:`k` uses the sample
    :math:`x_k` and the step size :math:`\alpha_k`:
    :math:`\theta_{k+1} = \theta_k - \alpha_k \cdot 2(\theta_k - x_k)`.

    Args:
        theta0: the start :math:`\theta_0`, a number or a tensor broadcastable to ``samples[0]``.
        samples: the drawn data points, shape ``(n, ...)`` (trailing dimensions: independent runs).
        lrs: the step sizes, shape ``(n,)``.

    Returns:
        The iterates :math:`\theta_0, \dots, \theta_n`, shape ``(n + 1, ...)``, dtype of ``samples``.

    Example::

        >>> sgd_trajectory(0.0, torch.tensor([1.0, 3.0]), torch.tensor([0.5, 0.25]))
        tensor([0., 1., 2.])
    """
    theta = torch.as_tensor(theta0, dtype=samples.dtype, device=samples.device).expand(samples.shape[1:])
    path = [theta]
    for x, lr in zip(samples, lrs):
        theta = theta - lr * 2.0 * (theta - x)
        path.append(theta)
    return torch.stack(path)


def momentum_step(param, grad, state, lr, momentum, weight_decay=0.0):
    r"""One step of heavy-ball momentum, as ``torch.optim.SGD(momentum=m, dampening=0)``.

    Introduced in chapter 05 (SGD and its descendants):
    :math:`v \leftarrow m v + g`, then :math:`\theta \leftarrow \theta - \epsilon v`.

    Args:
        param: the parameter :math:`\theta`, any shape.
        grad: its gradient, same shape.
        state: ``{"momentum_buffer": v}``, ``v`` of the shape of ``param`` (zeros before the first step).
        lr: the learning rate :math:`\epsilon`.
        momentum: the momentum :math:`m`.
        weight_decay: L2 coefficient, added to the gradient first.

    Returns:
        ``(new_param, {"momentum_buffer": new_v})``; the inputs are not modified.

    Example::

        >>> p, s = momentum_step(torch.tensor([1.0]), torch.tensor([2.0]),
        ...                      {"momentum_buffer": torch.tensor([1.0])}, lr=0.1, momentum=0.5)
        >>> p, s["momentum_buffer"]
        (tensor([0.7500]), tensor([2.5000]))
    """
    g = _decayed(param, grad, weight_decay)
    v = momentum * state["momentum_buffer"] + g
    return param - lr * v, {"momentum_buffer": v}


def nesterov_step(param, grad, state, lr, momentum, weight_decay=0.0):
    r"""One step of Nesterov momentum, as ``torch.optim.SGD(momentum=m, nesterov=True)``.

    Introduced in chapter 05 (SGD and its descendants):
    :math:`v \leftarrow m v + g`, then :math:`\theta \leftarrow \theta - \epsilon (g + m v)`
    with the *new* :math:`v`.

    Args:
        param: the parameter, any shape.
        grad: its gradient, same shape.
        state: ``{"momentum_buffer": v}`` (zeros before the first step).
        lr: the learning rate.
        momentum: the momentum :math:`m`.
        weight_decay: L2 coefficient, added to the gradient first.

    Returns:
        ``(new_param, {"momentum_buffer": new_v})``; the inputs are not modified.

    Example::

        >>> p, s = nesterov_step(torch.tensor([1.0]), torch.tensor([2.0]),
        ...                      {"momentum_buffer": torch.tensor([1.0])}, lr=0.1, momentum=0.5)
        >>> p, s["momentum_buffer"]
        (tensor([0.6750]), tensor([2.5000]))
    """
    g = _decayed(param, grad, weight_decay)
    v = momentum * state["momentum_buffer"] + g
    return param - lr * (g + momentum * v), {"momentum_buffer": v}


def momentum_rate(lr, momentum, lam):
    r"""Convergence rate of heavy-ball momentum on the 1-d quadratic :math:`\tfrac12\lambda\theta^2`.

    Introduced in chapter 05 (SGD and its descendants). One step maps :math:`(\theta, v)` by the matrix
    :math:`\begin{pmatrix}1-\epsilon\lambda & -\epsilon m\\ \lambda & m\end{pmatrix}`; the rate is its
    spectral radius, the largest modulus of its eigenvalues
    :math:`\tfrac12\big(1+m-\epsilon\lambda \pm \sqrt{(1+m-\epsilon\lambda)^2-4m}\big)`.

    Args:
        lr: learning rate :math:`\epsilon` (number or tensor).
        momentum: momentum :math:`m \in [0, 1)` (number or tensor).
        lam: curvature :math:`\lambda \ge 0` (number or tensor).

    Returns:
        Tensor of the broadcast shape of the inputs (float64 when all are Python numbers).

    Example::

        >>> momentum_rate(0.5, 0.0, 1.0)
        tensor(0.5000, dtype=torch.float64)
        >>> momentum_rate(1.0, 0.25, 1.0)
        tensor(0.5000, dtype=torch.float64)
    """
    lr, momentum, lam = _as_tensors(lr, momentum, lam)
    trace = 1.0 + momentum - lr * lam
    disc = trace ** 2 - 4.0 * momentum
    real = (trace.abs() + disc.clamp(min=0).sqrt()) / 2.0
    return torch.where(disc >= 0, real, momentum.clamp(min=0).sqrt())


def optimal_momentum(lam_min, lam_max):
    r"""The learning rate and momentum that make heavy ball fastest on curvatures in ``[lam_min, lam_max]``.

    Introduced in chapter 05 (SGD and its descendants):
    :math:`\epsilon^\star = 4/(\sqrt{\lambda_{\max}}+\sqrt{\lambda_{\min}})^2`,
    :math:`m^\star = \big((\sqrt{\lambda_{\max}}-\sqrt{\lambda_{\min}})/(\sqrt{\lambda_{\max}}+\sqrt{\lambda_{\min}})\big)^2`;
    the rate is then :math:`\sqrt{m^\star} = (\sqrt\kappa-1)/(\sqrt\kappa+1)` for every curvature in the range.

    Args:
        lam_min: smallest curvature :math:`\lambda_{\min} > 0` (number or tensor).
        lam_max: largest curvature :math:`\lambda_{\max} \ge \lambda_{\min}` (number or tensor).

    Returns:
        ``(lr, momentum)``, two tensors of the broadcast shape (float64 for Python numbers).

    Example::

        >>> optimal_momentum(1.0, 9.0)
        (tensor(0.2500, dtype=torch.float64), tensor(0.2500, dtype=torch.float64))
    """
    lam_min, lam_max = _as_tensors(lam_min, lam_max)
    a, b = lam_min.sqrt(), lam_max.sqrt()
    return 4.0 / (a + b) ** 2, ((b - a) / (b + a)) ** 2


def adagrad_step(param, grad, state, lr, eps=1e-10, weight_decay=0.0):
    r"""One step of AdaGrad, as ``torch.optim.Adagrad`` (no ``lr_decay``).

    Introduced in chapter 05 (SGD and its descendants):
    :math:`s \leftarrow s + g^2`, :math:`\theta \leftarrow \theta - \epsilon\, g / (\sqrt{s} + \text{eps})`
    (element-wise; eps outside the square root).

    Args:
        param: the parameter, any shape.
        grad: its gradient, same shape.
        state: ``{"sum": s}``, the running sum of squared gradients (zeros, or
            ``initial_accumulator_value``, before the first step).
        lr: the learning rate.
        eps: added to :math:`\sqrt{s}` (torch's default 1e-10).
        weight_decay: L2 coefficient, added to the gradient first.

    Returns:
        ``(new_param, {"sum": new_s})``; the inputs are not modified.

    Example::

        >>> p, s = adagrad_step(torch.tensor([1.0]), torch.tensor([3.0]), {"sum": torch.tensor([16.0])}, lr=0.5)
        >>> p, s["sum"]
        (tensor([0.7000]), tensor([25.]))
    """
    g = _decayed(param, grad, weight_decay)
    s = state["sum"] + g * g
    return param - lr * g / (s.sqrt() + eps), {"sum": s}


def rmsprop_step(param, grad, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    r"""One step of RMSProp, as ``torch.optim.RMSprop`` (not centered, no momentum).

    Introduced in chapter 05 (SGD and its descendants):
    :math:`r \leftarrow \alpha r + (1-\alpha) g^2`,
    :math:`\theta \leftarrow \theta - \epsilon\, g / (\sqrt{r} + \text{eps})` (element-wise).

    Args:
        param: the parameter, any shape.
        grad: its gradient, same shape.
        state: ``{"square_avg": r}`` (zeros before the first step).
        lr: the learning rate.
        alpha: the smoothing constant (torch's name; default 0.99).
        eps: added to :math:`\sqrt{r}` (default 1e-8).
        weight_decay: L2 coefficient, added to the gradient first.

    Returns:
        ``(new_param, {"square_avg": new_r})``; the inputs are not modified.

    Example::

        >>> p, s = rmsprop_step(torch.tensor([1.0]), torch.tensor([2.0]), {"square_avg": torch.tensor([0.0])},
        ...                     lr=0.1, alpha=0.75)
        >>> p, s["square_avg"]
        (tensor([0.8000]), tensor([1.]))
    """
    g = _decayed(param, grad, weight_decay)
    r = alpha * state["square_avg"] + (1.0 - alpha) * g * g
    return param - lr * g / (r.sqrt() + eps), {"square_avg": r}


def adam_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    r"""One step of Adam with bias correction, as ``torch.optim.Adam``.

    Introduced in chapter 05 (SGD and its descendants). With :math:`t` = ``state["step"] + 1``:
    :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`, :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`,
    :math:`\hat m = m/(1-\beta_1^t)`, :math:`\hat v = v/(1-\beta_2^t)`,
    :math:`\theta \leftarrow \theta - \epsilon\, \hat m / (\sqrt{\hat v} + \text{eps})`.

    Args:
        param: the parameter, any shape.
        grad: its gradient, same shape.
        state: ``{"step": int, "exp_avg": m, "exp_avg_sq": v}``; ``step`` counts the updates already
            made (0 before the first), ``m`` and ``v`` are zeros before the first step.
        lr: the learning rate.
        betas: :math:`(\beta_1, \beta_2)`.
        eps: added to :math:`\sqrt{\hat v}`.
        weight_decay: L2 coefficient added to the gradient (torch's Adam, not AdamW).

    Returns:
        ``(new_param, {"step": step + 1, "exp_avg": new_m, "exp_avg_sq": new_v})``; the inputs are not modified.

    Example::

        >>> z = torch.zeros(1)
        >>> p, s = adam_step(torch.tensor([1.0]), torch.tensor([-3.0]),
        ...                  {"step": 0, "exp_avg": z, "exp_avg_sq": z}, lr=0.1, eps=0.0)
        >>> p, s["step"]
        (tensor([1.1000]), 1)
    """
    beta1, beta2 = betas
    g = _decayed(param, grad, weight_decay)
    t = int(state["step"]) + 1
    m = beta1 * state["exp_avg"] + (1.0 - beta1) * g
    v = beta2 * state["exp_avg_sq"] + (1.0 - beta2) * g * g
    m_hat = m / (1.0 - beta1 ** t)
    v_hat = v / (1.0 - beta2 ** t)
    new = param - lr * m_hat / (v_hat.sqrt() + eps)
    return new, {"step": t, "exp_avg": m, "exp_avg_sq": v}


def gradient_noise_scale(per_example_grads):
    r"""The simple gradient noise scale :math:`B_{\text{simple}} = \operatorname{tr}\Sigma / |G|^2`.

    Introduced in chapter 05 (SGD and its descendants). :math:`G` is the mean of the per-example
    gradients and :math:`\operatorname{tr}\Sigma` the sum over parameters of their per-example
    variances, with Bessel's correction (divide by :math:`N - 1`).

    Args:
        per_example_grads: shape ``(N, ...)``, one gradient per example (``N >= 2``), any parameter shape.

    Returns:
        0-d tensor, same dtype as the input.

    Example::

        >>> gradient_noise_scale(torch.tensor([[1.0, 0.0], [3.0, 2.0]]))
        tensor(0.8000)
    """
    g = per_example_grads.reshape(per_example_grads.shape[0], -1)
    mean = g.mean(dim=0)
    trace = ((g - mean) ** 2).sum() / (g.shape[0] - 1)
    return trace / (mean ** 2).sum()


def logistic_newton_step(w, X, y, lr=1.0, damping=0.0):
    r"""One (damped) Newton step on the mean logistic-regression loss.

    Introduced in chapter 05 (SGD and its descendants). The loss is
    :math:`L(w) = \frac1N\sum_i [\log(1+e^{x_i\cdot w}) - y_i\, x_i\cdot w]`, with gradient
    :math:`g = \frac1N X^\top(\sigma(Xw) - y)` and Hessian
    :math:`H = \frac1N X^\top \operatorname{diag}(\sigma(1-\sigma)) X`, which is also the Fisher
    information of the model, so this step is the natural-gradient step too.
    The step is :math:`w - \epsilon\,(H + \delta I)^{-1} g`.

    Args:
        w: weights, shape ``(D,)``.
        X: inputs, shape ``(N, D)``.
        y: labels in ``{0, 1}``, shape ``(N,)``, same dtype as ``X``.
        lr: the step size :math:`\epsilon` (1 is the pure Newton step).
        damping: :math:`\delta \ge 0`, added to the Hessian's diagonal.

    Returns:
        The new weights, shape ``(D,)``.

    Example::

        >>> logistic_newton_step(torch.zeros(1), torch.tensor([[1.0], [-1.0]]), torch.tensor([1.0, 0.0]))
        tensor([2.])
    """
    p = torch.sigmoid(X @ w)
    n = X.shape[0]
    grad = X.T @ (p - y) / n
    hess = (X.T * (p * (1 - p))) @ X / n
    if damping:
        hess = hess + damping * torch.eye(X.shape[1], dtype=X.dtype, device=X.device)
    return w - lr * torch.linalg.solve(hess, grad)


def train_digits_adam(X, y, num_classes, steps=40, hidden=64, lr=0.05, seed=0):
    r"""Train a two-layer ReLU network with :func:`adam_step` on full batches, for a fixed budget of steps.

    Introduced in chapter 05 (SGD and its descendants): the make-it-work task. The network is
    :math:`\mathrm{relu}(X W_1 + b_1) W_2 + b_2`, the loss the mean softmax cross-entropy, the gradients come from
    autograd, and every parameter is updated by :func:`adam_step` (default betas) with its own state. The
    weights start He-scaled from ``torch.Generator().manual_seed(seed)``, the biases at zero. With only tens of
    steps, the early steps matter: Adam without its bias correction takes steps several times too large at the
    start and lands far from the target.

    Args:
        X: training inputs, shape ``(N, D)``, float.
        y: integer labels in ``0..num_classes-1``, shape ``(N,)``.
        num_classes: the number of classes ``C``.
        steps: the number of full-batch Adam steps (the budget).
        hidden: the width ``H`` of the hidden layer.
        lr: Adam's learning rate.
        seed: the seed of the initial weights.

    Returns:
        ``(W1, b1, W2, b2)``, shapes ``(D, H)``, ``(H,)``, ``(H, C)``, ``(C,)``, in ``X``'s dtype, detached.

    Example::

        >>> from course.data import load_digits
        >>> X, y, X_test, y_test = load_digits(0.25, seed=0)
        >>> W1, b1, W2, b2 = train_digits_adam(X, y, 10)
        >>> float(((torch.relu(X_test @ W1 + b1) @ W2 + b2).argmax(1) == y_test).double().mean()) > 0.9
        True
    """
    g = torch.Generator().manual_seed(seed)
    D = X.shape[1]
    params = [torch.randn(D, hidden, generator=g, dtype=X.dtype) * math.sqrt(2.0 / D),
              torch.zeros(hidden, dtype=X.dtype),
              torch.randn(hidden, num_classes, generator=g, dtype=X.dtype) * math.sqrt(1.0 / hidden),
              torch.zeros(num_classes, dtype=X.dtype)]
    states = [{"step": 0, "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)} for p in params]
    for _ in range(steps):
        leaves = [p.detach().requires_grad_(True) for p in params]
        W1, b1, W2, b2 = leaves
        loss = torch.nn.functional.cross_entropy(torch.relu(X @ W1 + b1) @ W2 + b2, y)
        grads = torch.autograd.grad(loss, leaves)
        updated = [adam_step(p.detach(), gr, st, lr) for p, gr, st in zip(leaves, grads, states)]
        params = [new for new, _ in updated]
        states = [st for _, st in updated]
    return tuple(p.detach() for p in params)


def bias_correction_answer():
    """Chapter 05, concept question 1 (what Adam's bias correction fixes): the letter of the right answer.

    Example::

        >>> bias_correction_answer()
        'b'
    """
    return "b"


def momentum_step_size_answer():
    """Chapter 05, concept question 2 (heavy ball's effective step under a constant gradient): the right letter.

    Example::

        >>> momentum_step_size_answer()
        'c'
    """
    return "c"
