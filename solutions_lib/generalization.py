r"""Generalization: a solvable linear teacher-student model, and model selection in practice (chapter 11).

Conventions of chapter 11 (A solvable model of over-fitting). A data set holds ``N`` examples of
``P`` features (Kaplan's §6 calls the number of examples :math:`D`); the aspect ratio is
:math:`r = N / P`. Inputs are Gaussian with covariance :math:`I / P` (entries of variance
:math:`1/P`: the scaling under which the spectrum of :math:`X^\top X` has the Marchenko-Pastur edges
:math:`(1 \pm \sqrt r)^2` and :math:`\mathbb E[(x \cdot w)^2] = |w|^2 / P`). The training loss is the
*summed* squared error :math:`L(w) = \tfrac12 |Xw - y|^2`, trained by gradient flow
:math:`\dot w = -\nabla L`; ridge adds :math:`\tfrac\lambda2 |w|^2`. Randomness is always passed in.
Signatures carry no annotations, so that they are identical to the ones the notebook asks for.
"""
from __future__ import annotations

import math

import torch

from solutions_lib.optim import sgd_step

__all__ = [
    "teacher_student_data",
    "generalization_error",
    "gradient_flow_weights",
    "expected_generalization_error",
    "marchenko_pastur_density",
    "ridge_bias_variance",
    "optimal_ridge_lambda",
    "random_features_predict",
    "train_val_test_split",
    "k_fold_indices",
    "cross_validation_mse",
    "early_stopping",
    "random_search",
    "lr_range_test",
    "tune_mlp",
    "concept_overfitting_peak",
    "concept_reported_accuracy",
    "concept_early_stopping_as_ridge",
]


# ----------------------------------------------------------------------------------------------------
# the linear teacher-student model


def teacher_student_data(N, P, sigma_w, sigma_eps, generator, dtype=torch.float64):
    r"""Draw a teacher :math:`\bar w`, inputs :math:`X` and noisy labels :math:`y = X \bar w + \epsilon`.

    Introduced in chapter 11 (A solvable model of over-fitting). The draws come from ``generator`` in
    this order: ``w_bar = sigma_w * randn(P)``, then ``X = randn(N, P) / sqrt(P)`` (inputs with
    covariance :math:`I/P`), then ``eps = sigma_eps * randn(N)``.

    Args:
        N: number of examples.
        P: number of features (parameters of the student).
        sigma_w: standard deviation of each teacher weight.
        sigma_eps: standard deviation of the label noise.
        generator: a CPU ``torch.Generator``.
        dtype: floating dtype of the results.

    Returns:
        ``(X, y, w_bar)`` of shapes ``(N, P)``, ``(N,)``, ``(P,)``.

    Example:
        >>> X, y, w_bar = teacher_student_data(200, 50, 1.0, 0.5, torch.Generator().manual_seed(0))
        >>> tuple(X.shape), round(float((X ** 2).sum(dim=1).mean()), 1)
        ((200, 50), 1.0)
    """
    w_bar = sigma_w * torch.randn(P, generator=generator, dtype=dtype)
    X = torch.randn(N, P, generator=generator, dtype=dtype) / math.sqrt(P)
    eps = sigma_eps * torch.randn(N, generator=generator, dtype=dtype)
    return X, X @ w_bar + eps, w_bar


def generalization_error(w, w_bar, sigma_eps):
    r"""The expected squared error :math:`\mathbb E_{x,\epsilon}[(y - w\cdot x)^2] = |w - \bar w|^2/P + \sigma_\epsilon^2`.

    Introduced in chapter 11 (A solvable model of over-fitting), for fresh inputs
    :math:`x \sim \mathcal N(0, I/P)` and labels :math:`y = \bar w \cdot x + \epsilon`.

    Args:
        w: student weights, shape ``(..., P)`` (a batch of students is allowed).
        w_bar: teacher weights, shape broadcastable to ``w``.
        sigma_eps: standard deviation of the label noise.

    Returns:
        Tensor of shape ``(...)`` (0-dimensional for a single student), dtype of ``w``.

    Example:
        >>> generalization_error(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 0.0]), 0.5)
        tensor(0.7500)
    """
    return ((w - w_bar) ** 2).mean(dim=-1) + sigma_eps ** 2


def _flow_factor(lam, t):
    """(1 - exp(-lam t)) / lam, equal to t where lam == 0."""
    safe = torch.where(lam == 0, torch.ones_like(lam), lam)
    return torch.where(lam == 0, torch.full_like(lam, t), -torch.expm1(-lam * t) / safe)


def gradient_flow_weights(X, y, w0, t):
    r"""The weights at time ``t`` of gradient flow on :math:`L(w) = \tfrac12|Xw - y|^2` from ``w0``.

    Introduced in chapter 11 (A solvable model of over-fitting). With
    :math:`X^\top X = V \Lambda V^\top`, each mode :math:`z = V^\top w` relaxes independently:
    :math:`z_\alpha(t) = z_\alpha(0) e^{-\lambda_\alpha t} + s_\alpha (1 - e^{-\lambda_\alpha t})/\lambda_\alpha`
    with :math:`s = V^\top X^\top y`; directions with :math:`\lambda_\alpha = 0` stay frozen at ``w0``.

    Args:
        X: inputs, shape ``(N, P)``.
        y: labels, shape ``(N,)``.
        w0: initial weights, shape ``(P,)``.
        t: training time, a number ``>= 0``.

    Returns:
        ``w(t)``, shape ``(P,)``, dtype of ``X``.

    Example:
        >>> X = torch.eye(2, dtype=torch.float64)
        >>> gradient_flow_weights(X, torch.tensor([1.0, 2.0], dtype=torch.float64), torch.zeros(2, dtype=torch.float64), 50.0)
        tensor([1., 2.], dtype=torch.float64)
    """
    lam, V = torch.linalg.eigh(X.T @ X)
    lam = lam.clamp(min=0.0)
    lam = torch.where(lam <= lam.max() * X.shape[1] * torch.finfo(X.dtype).eps, torch.zeros_like(lam), lam)
    z0 = V.T @ w0.to(X.dtype)
    s = V.T @ (X.T @ y.to(X.dtype))
    z = z0 * torch.exp(-lam * t) + s * _flow_factor(lam, float(t))
    return V @ z


def expected_generalization_error(eigvals, t, sigma_w, sigma_w0, sigma_eps):
    r"""Kaplan's eq. (6.0.14): :math:`E_{gen}(t)` averaged over teachers, initializations and noise.

    Introduced in chapter 11 (A solvable model of over-fitting). For the eigenvalues
    :math:`\lambda_\alpha` of :math:`X^\top X` (all ``P`` of them, zeros included),

    .. math:: E_{gen}(t) = \frac1P \sum_\alpha \Big[(\sigma_w^2 + \sigma_{w_0}^2) e^{-2\lambda_\alpha t}
              + \frac{\sigma_\epsilon^2}{\lambda_\alpha}(1 - e^{-\lambda_\alpha t})^2\Big] + \sigma_\epsilon^2,

    where the noise term of a zero eigenvalue is its limit, 0.

    Args:
        eigvals: the eigenvalues, shape ``(P,)``, all ``>= 0``.
        t: times, shape ``(T,)``.
        sigma_w, sigma_w0, sigma_eps: standard deviations of the teacher weights, the initial weights
            and the label noise.

    Returns:
        Tensor of shape ``(T,)``, dtype of ``eigvals``.

    Example:
        >>> expected_generalization_error(torch.tensor([1.0, 0.0]), torch.tensor([0.0]), 1.0, 0.0, 0.1)
        tensor([1.0100])
    """
    lam = eigvals.to(torch.promote_types(eigvals.dtype, torch.float32))[None, :]
    tt = torch.as_tensor(t, dtype=lam.dtype, device=lam.device).reshape(-1, 1)
    decay = (sigma_w ** 2 + sigma_w0 ** 2) * torch.exp(-2.0 * lam * tt)
    safe = torch.where(lam == 0, torch.ones_like(lam), lam)
    noise = torch.where(lam == 0, torch.zeros_like(lam * tt), sigma_eps ** 2 * torch.expm1(-lam * tt) ** 2 / safe)
    return (decay + noise).mean(dim=1) + sigma_eps ** 2


# ----------------------------------------------------------------------------------------------------
# the spectrum


def marchenko_pastur_density(lam, r):
    r"""The continuous part of the Marchenko-Pastur density of the eigenvalues of :math:`X^\top X`.

    Introduced in chapter 11 (A solvable model of over-fitting). For ``X`` of shape ``(N, P)`` with
    entries of variance :math:`1/P` and :math:`r = N/P`, as :math:`N, P \to \infty`:
    :math:`\rho(\lambda) = \sqrt{(\lambda_+ - \lambda)(\lambda - \lambda_-)} / (2\pi\lambda)` on
    :math:`[\lambda_-, \lambda_+]`, :math:`\lambda_\pm = (1 \pm \sqrt r)^2`, and 0 elsewhere. It
    integrates to :math:`\min(1, r)`; for :math:`r < 1` the rest is a point mass :math:`(1-r)` at 0.

    Args:
        lam: points at which to evaluate, any shape.
        r: the aspect ratio :math:`N/P > 0`.

    Returns:
        Tensor of the shape and dtype of ``lam``; 0 outside the support and at :math:`\lambda \le 0`.

    Example:
        >>> marchenko_pastur_density(torch.tensor([1.0, 5.0], dtype=torch.float64), 1.0)
        tensor([0.2757, 0.0000], dtype=torch.float64)
    """
    lo, hi = (1.0 - math.sqrt(r)) ** 2, (1.0 + math.sqrt(r)) ** 2
    inside = (lam > lo) & (lam < hi) & (lam > 0)
    safe = torch.where(inside, lam, torch.ones_like(lam))
    value = torch.sqrt(((hi - safe) * (safe - lo)).clamp(min=0.0)) / (2.0 * math.pi * safe)
    return torch.where(inside, value, torch.zeros_like(lam))


# ----------------------------------------------------------------------------------------------------
# ridge regression: bias, variance, optimum


def ridge_bias_variance(X, w_bar, sigma_eps, lam):
    r"""Squared bias and variance of ridge regression's test error, over the label noise, for fixed ``X``.

    Introduced in chapter 11 (A solvable model of over-fitting). The ridge weights
    :math:`w_\lambda = (X^\top X + \lambda I)^{-1} X^\top y` with :math:`y = X\bar w + \epsilon` have
    mean :math:`\bar w + b` with :math:`b = -\lambda (X^\top X + \lambda I)^{-1}\bar w` and covariance
    :math:`\sigma_\epsilon^2 A X^\top X A`, :math:`A = (X^\top X + \lambda I)^{-1}`. On fresh inputs
    :math:`x \sim \mathcal N(0, I/P)` the test error is bias2 + variance + :math:`\sigma_\epsilon^2` with
    bias2 :math:`= |b|^2/P` and variance :math:`= \sigma_\epsilon^2 \operatorname{tr}(A X^\top X A)/P`.

    Args:
        X: inputs, shape ``(N, P)``.
        w_bar: the teacher, shape ``(P,)``.
        sigma_eps: standard deviation of the label noise.
        lam: ridge strength, ``> 0``.

    Returns:
        ``(bias2, variance)``, two 0-dimensional tensors in the dtype of ``X``.

    Example:
        >>> X = torch.eye(2, dtype=torch.float64)
        >>> ridge_bias_variance(X, torch.tensor([1.0, 1.0], dtype=torch.float64), 1.0, 1.0)
        (tensor(0.2500, dtype=torch.float64), tensor(0.2500, dtype=torch.float64))
    """
    P = X.shape[1]
    sigma = X.T @ X
    A = torch.linalg.inv(sigma + lam * torch.eye(P, dtype=X.dtype, device=X.device))
    b = -lam * (A @ w_bar.to(X.dtype))
    return (b ** 2).sum() / P, sigma_eps ** 2 * torch.trace(A @ sigma @ A) / P


def optimal_ridge_lambda(sigma_w, sigma_eps):
    r"""The ridge strength that minimizes the expected test error, averaged over teachers: :math:`\sigma_\epsilon^2/\sigma_w^2`.

    Introduced in chapter 11 (A solvable model of over-fitting). Averaged over
    :math:`\bar w \sim \mathcal N(0, \sigma_w^2 I)`, each eigenmode :math:`s` of :math:`X^\top X`
    contributes :math:`(\sigma_w^2\lambda^2 + \sigma_\epsilon^2 s)/(s + \lambda)^2`, whose derivative
    :math:`2s(\sigma_w^2\lambda - \sigma_\epsilon^2)/(s+\lambda)^3` vanishes at the same :math:`\lambda`
    for every mode, whatever ``X`` is.

    Args:
        sigma_w: standard deviation of each teacher weight (``> 0``).
        sigma_eps: standard deviation of the label noise.

    Returns:
        A Python float.

    Example:
        >>> optimal_ridge_lambda(2.0, 1.0)
        0.25
    """
    return float(sigma_eps) ** 2 / float(sigma_w) ** 2


def random_features_predict(X_train, y_train, X_test, width, generator):
    r"""Minimum-norm least squares on random ReLU features: the predictions on ``X_test``.

    Introduced in chapter 11 (A solvable model of over-fitting). Draw
    ``F = torch.randn(D, width, generator=generator, dtype=X_train.dtype)``, build the features
    :math:`\Phi = \mathrm{relu}(X F)`, and fit :math:`a` of least norm among the minimizers of
    :math:`|\Phi_{train} a - y|^2` (the limit of gradient flow from 0, and of ridge as
    :math:`\lambda \to 0`). The test error peaks where ``width`` passes ``N_train``.

    Args:
        X_train: shape ``(N, D)``.
        y_train: shape ``(N,)``.
        X_test: shape ``(M, D)``.
        width: number of random features.
        generator: a CPU ``torch.Generator``.

    Returns:
        Predictions of shape ``(M,)``, dtype of ``X_train``.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> X = torch.randn(5, 3, dtype=torch.float64, generator=g); y = torch.randn(5, dtype=torch.float64, generator=g)
        >>> pred = random_features_predict(X, y, X, 20, torch.Generator().manual_seed(1))
        >>> bool(torch.allclose(pred, y))
        True
    """
    F = torch.randn(X_train.shape[1], width, generator=generator, dtype=X_train.dtype).to(X_train.device)
    phi_train, phi_test = torch.relu(X_train @ F), torch.relu(X_test.to(X_train.dtype) @ F)
    a = torch.linalg.pinv(phi_train) @ y_train.to(X_train.dtype)
    return phi_test @ a


# ----------------------------------------------------------------------------------------------------
# model selection in practice


def train_val_test_split(n, val_fraction, test_fraction, generator):
    """Shuffle ``range(n)`` and cut it into training, validation and test indices.

    Introduced in chapter 11 (A solvable model of over-fitting). The validation set holds
    ``int(val_fraction * n)`` indices, the test set ``int(test_fraction * n)``, the training set the
    rest; together they are a permutation of ``0..n-1`` drawn from ``generator``.

    Args:
        n: number of examples.
        val_fraction, test_fraction: shares of the validation and test sets (their sum below 1).
        generator: a CPU ``torch.Generator``.

    Returns:
        ``(train_idx, val_idx, test_idx)``, int64 tensors.

    Example:
        >>> tr, va, te = train_val_test_split(10, 0.2, 0.3, torch.Generator().manual_seed(0))
        >>> len(tr), len(va), len(te)
        (5, 2, 3)
    """
    perm = torch.randperm(n, generator=generator)
    n_val, n_test = int(val_fraction * n), int(test_fraction * n)
    return perm[n_val + n_test:], perm[:n_val], perm[n_val:n_val + n_test]


def k_fold_indices(n, k, generator):
    """Split a random permutation of ``range(n)`` into ``k`` folds; each fold is the validation set once.

    Introduced in chapter 11 (A solvable model of over-fitting). Fold sizes differ by at most one
    (the first ``n % k`` folds get one extra example); every index is in exactly one validation fold,
    and each training set is everything outside its fold.

    Args:
        n: number of examples (``>= k``).
        k: number of folds (``>= 2``).
        generator: a CPU ``torch.Generator``.

    Returns:
        A list of ``k`` pairs ``(train_idx, val_idx)`` of int64 tensors.

    Example:
        >>> folds = k_fold_indices(10, 3, torch.Generator().manual_seed(0))
        >>> [len(val) for _, val in folds], [len(tr) for tr, _ in folds]
        ([4, 3, 3], [6, 7, 7])
    """
    perm = torch.randperm(n, generator=generator)
    folds = torch.tensor_split(perm, k)
    return [(torch.cat([f for j, f in enumerate(folds) if j != i]), folds[i]) for i in range(k)]


def _ridge_fit(X, y, lam):
    P = X.shape[1]
    return torch.linalg.solve(X.T @ X + lam * torch.eye(P, dtype=X.dtype, device=X.device), X.T @ y)


def cross_validation_mse(X, y, folds, lam):
    r"""k-fold cross-validation of ridge regression: the mean over folds of the validation MSE.

    Introduced in chapter 11 (A solvable model of over-fitting). For each ``(train_idx, val_idx)``, fit
    :math:`w = (X_t^\top X_t + \lambda I)^{-1} X_t^\top y_t` on the training rows only, then take the mean
    squared error :math:`\frac{1}{|v|}\sum_{i \in v}(x_i \cdot w - y_i)^2` on the validation rows; return
    the plain average of the ``k`` fold errors.

    Args:
        X: inputs, shape ``(N, P)``.
        y: labels, shape ``(N,)``.
        folds: list of ``(train_idx, val_idx)`` int64 tensors.
        lam: ridge strength ``>= 0``.

    Returns:
        A Python float.

    Example:
        >>> X = torch.tensor([[1.0], [2.0], [3.0], [4.0]], dtype=torch.float64)
        >>> folds = [(torch.tensor([0, 1]), torch.tensor([2, 3])), (torch.tensor([2, 3]), torch.tensor([0, 1]))]
        >>> cross_validation_mse(X, 2 * X[:, 0], folds, 0.0)
        0.0
    """
    errors = []
    for train_idx, val_idx in folds:
        w = _ridge_fit(X[train_idx], y[train_idx], lam)
        errors.append(float(((X[val_idx] @ w - y[val_idx]) ** 2).mean()))
    return sum(errors) / len(errors)


def early_stopping(val_losses, patience):
    """Where early stopping with ``patience`` stops, and which epoch it keeps.

    Introduced in chapter 11 (A solvable model of over-fitting). Epochs are read in order; an epoch
    *improves* when its loss is strictly below every earlier one. Training stops at the first epoch
    that comes ``patience`` epochs after the last improvement (or at the last epoch if that never
    happens); the weights kept are those of the best epoch seen up to the stop.

    Args:
        val_losses: validation losses, one per epoch (list of floats or 1-D tensor), at least one.
        patience: epochs without improvement tolerated (``>= 1``).

    Returns:
        ``(best_epoch, stop_epoch)``, two Python ints (0-based).

    Example:
        >>> early_stopping([3.0, 2.0, 2.5, 2.2, 2.1, 1.0], patience=3)
        (1, 4)
    """
    losses = [float(v) for v in val_losses]
    best = 0
    for epoch, loss in enumerate(losses):
        if loss < losses[best]:
            best = epoch
        elif epoch - best >= patience:
            return best, epoch
    return best, len(losses) - 1


def random_search(space, n_trials, generator):
    """Draw ``n_trials`` random configurations from a search space.

    Introduced in chapter 11 (A solvable model of over-fitting). For each trial, and within it for each
    name in the order of ``space``, draw one ``u = torch.rand((), generator=generator,
    dtype=torch.float64).item()`` and map it:

    * ``("log", low, high)``: ``low * (high / low) ** u`` (log-uniform: every decade equally likely);
    * ``("uniform", low, high)``: ``low + u * (high - low)``;
    * ``("int", low, high)``: ``low + int(u * (high - low + 1))`` (both ends included);
    * ``("choice", options)``: ``options[int(u * len(options))]``.

    Args:
        space: dict mapping each hyperparameter's name to its spec.
        n_trials: number of configurations.
        generator: a CPU ``torch.Generator``.

    Returns:
        A list of ``n_trials`` dicts with the keys of ``space``; floats for "log"/"uniform", ints for "int".

    Example:
        >>> configs = random_search({"lr": ("log", 1e-4, 1.0), "hidden": ("int", 8, 64)}, 3, torch.Generator().manual_seed(0))
        >>> len(configs), sorted(configs[0])
        (3, ['hidden', 'lr'])
    """
    configs = []
    for _ in range(n_trials):
        config = {}
        for name, spec in space.items():
            u = torch.rand((), generator=generator, dtype=torch.float64).item()
            kind = spec[0]
            if kind == "log":
                low, high = spec[1], spec[2]
                config[name] = low * (high / low) ** u
            elif kind == "uniform":
                config[name] = spec[1] + u * (spec[2] - spec[1])
            elif kind == "int":
                config[name] = int(spec[1] + int(u * (spec[2] - spec[1] + 1)))
            elif kind == "choice":
                config[name] = spec[1][int(u * len(spec[1]))]
            else:
                raise ValueError(f"unknown kind {kind!r} for {name!r}")
        configs.append(config)
    return configs


def lr_range_test(loss_and_grad, w0, lr_min, lr_max, num_steps):
    r"""The learning-rate range test: one gradient step per learning rate, the rates growing geometrically.

    Introduced in chapter 11 (A solvable model of over-fitting). Step :math:`i` uses
    :math:`\eta_i = \eta_{min} (\eta_{max}/\eta_{min})^{i/(n-1)}`: it evaluates
    ``loss, grad = loss_and_grad(w)`` at the current weights, records the loss, then steps
    ``w = w - eta_i * grad`` (the weights carry over from step to step). It stops early, after recording
    it, at the first loss that is not finite or exceeds 4 times the smallest loss recorded so far.

    Args:
        loss_and_grad: function of ``w`` returning ``(loss, grad)`` (a number or 0-dim tensor, and a
            tensor shaped like ``w``).
        w0: starting weights (not modified).
        lr_min, lr_max: the first and the last learning rate (``0 < lr_min < lr_max``).
        num_steps: number of learning rates (``>= 2``).

    Returns:
        ``(lrs, losses)``: float64 tensors of the same length (``num_steps``, or fewer after a stop).

    Example:
        >>> lrs, losses = lr_range_test(lambda w: ((w ** 2).sum(), 2 * w), torch.ones(2), 1e-3, 1.0, 4)
        >>> lrs
        tensor([0.0010, 0.0100, 0.1000, 1.0000], dtype=torch.float64)
    """
    lrs, losses = [], []
    w = w0.clone()
    for i in range(num_steps):
        lr = lr_min * (lr_max / lr_min) ** (i / (num_steps - 1))
        loss, grad = loss_and_grad(w)
        loss = float(loss)
        lrs.append(lr)
        losses.append(loss)
        if not math.isfinite(loss) or loss > 4.0 * min(losses):
            break
        w = sgd_step(w, grad, lr)
    return torch.tensor(lrs, dtype=torch.float64), torch.tensor(losses, dtype=torch.float64)


def tune_mlp(X, y, seed):
    """Choose the hyperparameters of ``course.generalization.train_mlp`` for ``(X, y)`` by validation only.

    Introduced in chapter 11 (A solvable model of over-fitting). Holds out 20% of the rows as a
    validation set, tries 16 random configurations (learning rate and weight decay log-uniform, the
    hidden width from a few choices), trains each for up to 40 epochs while recording the validation
    accuracy, picks each run's epoch count by early stopping (patience 6), and returns the best
    configuration. The caller then trains ``train_mlp(X, y, **config, seed=seed)`` on all of ``(X, y)``.

    Args:
        X: inputs, shape ``(N, D)``.
        y: int64 labels ``0..9``, shape ``(N,)``.
        seed: seed of every random choice (split, search, training).

    Returns:
        ``{"hidden": int, "lr": float, "weight_decay": float, "epochs": int}``.

    Example:
        >>> from course.data import load_digits
        >>> X, y, _, _ = load_digits()
        >>> sorted(tune_mlp(X[:300], y[:300], 0))
        ['epochs', 'hidden', 'lr', 'weight_decay']
    """
    from course.generalization import train_mlp

    gen = torch.Generator().manual_seed(seed)
    train_idx, val_idx, _ = train_val_test_split(X.shape[0], 0.2, 0.0, gen)
    space = {"lr": ("log", 1e-3, 3.0), "weight_decay": ("log", 1e-6, 1e-2), "hidden": ("choice", [32, 64, 128])}
    best, best_acc = None, -1.0
    for config in random_search(space, 16, gen):
        net = train_mlp(X[train_idx], y[train_idx], **config, epochs=40, seed=seed,
                        X_val=X[val_idx], y_val=y[val_idx])
        if not net.val_accuracy:
            continue
        epoch, _ = early_stopping([-a for a in net.val_accuracy], patience=6)
        if net.val_accuracy[epoch] > best_acc:
            best_acc, best = net.val_accuracy[epoch], {**config, "epochs": epoch + 1}
    if best is None:
        best = {"hidden": 64, "lr": 1e-3, "weight_decay": 1e-4, "epochs": 1}
    return {"hidden": int(best["hidden"]), "lr": float(best["lr"]), "weight_decay": float(best["weight_decay"]),
            "epochs": int(best["epochs"])}


def concept_overfitting_peak():
    """Concept question of chapter 11: where the late-time generalization error peaks, and why.

    Introduced in chapter 11 (A solvable model of over-fitting).

    Example:
        >>> concept_overfitting_peak() in "abcd"
        True
    """
    return "c"


def concept_reported_accuracy():
    """Concept question of chapter 11: which accuracy to report after a hyperparameter search.

    Introduced in chapter 11 (A solvable model of over-fitting).

    Example:
        >>> concept_reported_accuracy() in "abcd"
        True
    """
    return "b"


def concept_early_stopping_as_ridge():
    """Concept question of chapter 11: the ridge strength that early stopping at time t resembles (1/t).

    Introduced in chapter 11 (A solvable model of over-fitting).

    Example:
        >>> concept_early_stopping_as_ridge() in "abcd"
        True
    """
    return "b"
