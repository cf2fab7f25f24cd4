"""Gaussian processes, the NNGP and the neural tangent kernel (chapter 18, "Wide networks as kernels").

Conventions (the notebook states them):

* inputs are rows: ``x`` has shape ``(N, D)``; kernels return ``(N, M)`` matrices in the inputs' dtype;
* RBF: ``k(x, x') = variance * exp(-|x - x'|^2 / (2 lengthscale^2))``; Ornstein-Uhlenbeck:
  ``k(x, x') = variance * exp(-|x - x'| / lengthscale)`` (Euclidean distance, not squared);
* GP regression adds ``noise_var`` on the diagonal of the *training* covariance only; the predictive variance
  is that of the latent function f (no noise added at the test points), as scikit-learn's
  ``GaussianProcessRegressor(alpha=noise_var, optimizer=None).predict(..., return_std=True)`` reports it;
* the network of the NNGP/NTK exercises is in the NTK parametrization without biases:
  ``h1 = W0 x / sqrt(D)``, ``h_{l+1} = W_l relu(h_l) / sqrt(n)``, ``f = v . relu(h_L) / sqrt(n)``, all weights
  standard normal; ``depth`` counts the hidden layers;
* training loss of the linearized dynamics: ``1/2 sum_i (f(x_i) - y_i)^2`` (a sum, not a mean), plain
  gradient descent with step ``lr``.
"""
from __future__ import annotations

import math

import torch

__all__ = ["rbf_kernel", "ou_kernel", "gp_prior_samples", "gp_posterior", "gp_log_marginal_likelihood",
           "relu_expectations", "relu_nngp_ntk", "empirical_ntk", "linearized_dynamics", "fit_gp_hyperparameters",
           "concept_posterior_variance", "concept_occam", "concept_lazy_training"]


def _sq_dist(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """(N, M) squared Euclidean distances between the rows of x1 (N, D) and x2 (M, D), exactly >= 0."""
    return (x1[:, None, :] - x2[None, :, :]).pow(2).sum(-1)


def rbf_kernel(x1, x2, lengthscale, variance):
    """Squared-exponential kernel ``variance * exp(-|x - x'|^2 / (2 lengthscale^2))`` (chapter 18).

    Args:
        x1: (N, D); x2: (M, D); lengthscale, variance: positive numbers.

    Returns:
        (N, M) kernel matrix, dtype of x1.

    Example:
        >>> rbf_kernel(torch.zeros(1, 1), torch.ones(1, 1), 1.0, 2.0)  # 2 exp(-1/2)
        tensor([[1.2131]])
    """
    return variance * torch.exp(-_sq_dist(x1, x2) / (2 * lengthscale ** 2))


def ou_kernel(x1, x2, lengthscale, variance):
    """Ornstein-Uhlenbeck (Matern-1/2) kernel ``variance * exp(-|x - x'| / lengthscale)`` (chapter 18).

    Args:
        x1: (N, D); x2: (M, D); lengthscale, variance: positive numbers.

    Returns:
        (N, M) kernel matrix, dtype of x1.

    Example:
        >>> ou_kernel(torch.zeros(1, 2), torch.tensor([[3.0, 4.0]]), 5.0, 2.0)  # 2 exp(-1)
        tensor([[0.7358]])
    """
    return variance * torch.exp(-_sq_dist(x1, x2).sqrt() / lengthscale)


def gp_prior_samples(K, noise, jitter=1e-9):
    """Samples of N(0, K) from standard normal noise: ``sample_s = L z_s`` with ``L L^T = K + jitter I`` (chapter 18).

    Args:
        K: (N, N) symmetric positive semi-definite covariance.
        noise: (S, N) independent standard normal draws, one row per sample.
        jitter: added to the diagonal before the Cholesky factorization.

    Returns:
        (S, N) samples, row s is ``L @ noise[s]`` with L the lower Cholesky factor.

    Example:
        >>> gp_prior_samples(torch.tensor([[4.0, 2.0], [2.0, 2.0]]), torch.tensor([[1.0, 1.0]]))
        tensor([[2., 2.]])
    """
    eye = torch.eye(K.shape[0], dtype=K.dtype, device=K.device)
    L = torch.linalg.cholesky(K + jitter * eye)
    return noise @ L.T


def gp_posterior(x_train, y_train, x_test, lengthscale, variance, noise_var):
    """Posterior mean and variance of f at x_test for a zero-mean GP with an RBF kernel (chapter 18).

    Args:
        x_train: (N, D); y_train: (N,); x_test: (M, D); lengthscale, variance: RBF hyperparameters;
        noise_var: variance of the Gaussian observation noise, added on the training diagonal only.

    Returns:
        mean (M,) and variance (M,) of the latent f (no noise added at the test points).

    Example:
        >>> mean, var = gp_posterior(torch.zeros(1, 1), torch.ones(1), torch.zeros(1, 1), 1.0, 1.0, 0.25)
        >>> mean, var
        (tensor([0.8000]), tensor([0.2000]))
    """
    K = rbf_kernel(x_train, x_train, lengthscale, variance)
    K = K + noise_var * torch.eye(K.shape[0], dtype=K.dtype, device=K.device)
    L = torch.linalg.cholesky(K)
    k_star = rbf_kernel(x_train, x_test, lengthscale, variance)             # (N, M)
    alpha = torch.cholesky_solve(y_train.reshape(-1, 1), L).reshape(-1)   # K^-1 y
    mean = k_star.T @ alpha
    v = torch.linalg.solve_triangular(L, k_star, upper=False)              # L^-1 k_*
    var = variance - (v ** 2).sum(0)
    return mean, var


def gp_log_marginal_likelihood(x_train, y_train, lengthscale, variance, noise_var):
    """log p(y | X) of a zero-mean GP with an RBF kernel and Gaussian noise (chapter 18).

    ``-1/2 y^T (K + s I)^-1 y - 1/2 log det(K + s I) - N/2 log(2 pi)``; differentiable in the
    hyperparameters (which may be 0-dim tensors).

    Args:
        x_train: (N, D); y_train: (N,); lengthscale, variance, noise_var: positive numbers or 0-dim tensors.

    Returns:
        0-dim tensor.

    Example:
        >>> round(float(gp_log_marginal_likelihood(torch.zeros(1, 1), torch.ones(1), 1.0, 1.0, 0.25)), 4)
        -1.4305
    """
    n = x_train.shape[0]
    K = variance * torch.exp(-_sq_dist(x_train, x_train) / (2 * lengthscale ** 2))
    K = K + noise_var * torch.eye(n, dtype=x_train.dtype, device=x_train.device)
    L = torch.linalg.cholesky(K)
    a = torch.linalg.solve_triangular(L, y_train.reshape(-1, 1), upper=False).reshape(-1)
    return -0.5 * (a ** 2).sum() - torch.log(torch.diagonal(L)).sum() - 0.5 * n * math.log(2 * math.pi)


def relu_expectations(k11, k12, k22):
    """E[relu(u) relu(v)] and E[step(u) step(v)] for (u, v) ~ N(0, [[k11, k12], [k12, k22]]) (chapter 18).

    With ``cos(theta) = k12 / sqrt(k11 k22)``: ``sqrt(k11 k22) (sin theta + (pi - theta) cos theta) / (2 pi)``
    and ``(pi - theta) / (2 pi)`` (the arc-cosine kernels of degree 1 and 0). Broadcasts its arguments.

    Args:
        k11, k22: variances (> 0); k12: covariance; tensors of broadcastable shapes.

    Returns:
        (relu kernel, step kernel), both of the broadcast shape.

    Example:
        >>> relu_expectations(torch.tensor(1.0), torch.tensor(1.0), torch.tensor(1.0))
        (tensor(0.5000), tensor(0.5000))
    """
    norm = torch.sqrt(k11 * k22)
    cos = torch.clamp(k12 / norm, -1.0, 1.0)
    theta = torch.arccos(cos)
    relu = norm * (torch.sin(theta) + (math.pi - theta) * cos) / (2 * math.pi)
    step = (math.pi - theta) / (2 * math.pi)
    return relu, step


def relu_nngp_ntk(x1, x2, depth):
    """Infinite-width NNGP and NTK of the bias-free ReLU network in the NTK parametrization (chapter 18).

    ``Sigma_1 = x x'^T / D``, ``Theta_1 = Sigma_1``; for each of the ``depth`` hidden layers
    ``Sigma_{l+1} = E[relu relu]``, ``Theta_{l+1} = Sigma_{l+1} + Theta_l * E[step step]``.

    Args:
        x1: (N, D), x2: (M, D) non-zero inputs; depth: number of hidden layers (>= 1).

    Returns:
        (nngp, ntk), each (N, M).

    Example:
        >>> relu_nngp_ntk(torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 0.0]]), 1)
        (tensor([[0.2500]]), tensor([[0.5000]]))
    """
    d = x1.shape[1]
    sigma = x1 @ x2.T / d
    s1 = (x1 ** 2).sum(1, keepdim=True) / d   # (N, 1) variances Sigma_l(x, x)
    s2 = (x2 ** 2).sum(1).reshape(1, -1) / d  # (1, M)
    theta = sigma
    for _ in range(depth):
        relu, step = relu_expectations(s1, sigma, s2)
        theta = relu + theta * step
        sigma = relu
        s1, s2 = s1 / 2, s2 / 2               # E[relu(u)^2] = Var(u) / 2
    return sigma, theta


def empirical_ntk(model, x1, x2):
    """Empirical NTK ``Theta(x, x') = sum_p df(x)/dp df(x')/dp`` of a scalar-output model (chapter 18).

    Args:
        model: maps (B, D) to (B,) (or (B, 1)); every parameter counts.
        x1: (N, D); x2: (M, D).

    Returns:
        (N, M) kernel matrix (detached).

    Example:
        >>> lin = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.Flatten(0))
        >>> empirical_ntk(lin, torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 0.0]]))  # x . x' + 1
        tensor([[4.]])
    """
    from torch.func import functional_call, jacrev, vmap

    params = {name: p.detach() for name, p in model.named_parameters()}

    def f(p, x):
        return functional_call(model, p, (x.unsqueeze(0),)).reshape(())

    def flat_jacobian(x):
        jac = vmap(jacrev(f), in_dims=(None, 0))(params, x)
        return torch.cat([j.reshape(x.shape[0], -1) for j in jac.values()], dim=1)

    return (flat_jacobian(x1) @ flat_jacobian(x2).T).detach()


def linearized_dynamics(ntk_train, ntk_test_train, f0_train, f0_test, y_train, lr, steps):
    """Outputs of the linearized network after ``steps`` steps of gradient descent on 1/2 sum (f - y)^2 (chapter 18).

    ``f_{k+1}(x) = f_k(x) - lr * Theta(x, X) (f_k(X) - y)`` for train and test points alike.

    Args:
        ntk_train: (N, N) Theta(X, X); ntk_test_train: (M, N) Theta(x_test, X); f0_train: (N,), f0_test: (M,)
        outputs at initialization; y_train: (N,); lr: step size; steps: number of steps (>= 0).

    Returns:
        (f_train (N,), f_test (M,)) after the steps.

    Example:
        >>> linearized_dynamics(torch.tensor([[2.0]]), torch.tensor([[1.0]]), torch.zeros(1), torch.tensor([0.3]),
        ...                     torch.ones(1), 0.25, 2)
        (tensor([0.7500]), tensor([0.6750]))
    """
    f_train, f_test = f0_train.clone(), f0_test.clone()
    for _ in range(steps):
        residual = f_train - y_train
        f_test = f_test - lr * ntk_test_train @ residual
        f_train = f_train - lr * ntk_train @ residual
    return f_train, f_test


def fit_gp_hyperparameters(x_train, y_train, seed):
    """RBF hyperparameters that maximize the log marginal likelihood (chapter 18's make-it-work task).

    A random search over log-hyperparameters (a generator seeded with ``seed``), then Adam on the
    log-hyperparameters from the best few candidates.

    Args:
        x_train: (N, D) float64; y_train: (N,) float64; seed: int.

    Returns:
        {"lengthscale": float, "variance": float, "noise_var": float}.

    Example:
        >>> from course.kernels import gp_regression_data
        >>> x, y, _, _ = gp_regression_data(seed=0)
        >>> sorted(fit_gp_hyperparameters(x, y, seed=0))
        ['lengthscale', 'noise_var', 'variance']
    """
    gen = torch.Generator().manual_seed(seed)
    x, y = x_train.double(), y_train.double()
    lows = torch.tensor([math.log(0.05), math.log(0.05), math.log(1e-4)], dtype=torch.float64)
    highs = torch.tensor([math.log(5.0), math.log(20.0), math.log(1.0)], dtype=torch.float64)
    candidates = lows + (highs - lows) * torch.rand(200, 3, generator=gen, dtype=torch.float64)

    def lml(logp):
        e = torch.exp(logp)
        return gp_log_marginal_likelihood(x, y, e[0], e[1], e[2])

    with torch.no_grad():
        scores = torch.stack([lml(c) for c in candidates])
    best, best_score = None, -math.inf
    for start in candidates[torch.argsort(scores, descending=True)[:3]]:
        logp = start.clone().requires_grad_(True)
        opt = torch.optim.Adam([logp], lr=0.05)
        for _ in range(150):
            opt.zero_grad()
            (-lml(logp)).backward()
            opt.step()
        with torch.no_grad():
            score = float(lml(logp))
        if score > best_score:
            best, best_score = logp.detach(), score
    ell, var, noise = torch.exp(best).tolist()
    return {"lengthscale": ell, "variance": var, "noise_var": noise}


def concept_posterior_variance():
    """Concept question 1 of chapter 18: what does the GP posterior variance depend on?

    Example:
        >>> concept_posterior_variance()
        'b'
    """
    return "b"


def concept_occam():
    """Concept question 2 of chapter 18: why does the evidence not drive the length scale to zero?

    Example:
        >>> concept_occam()
        'c'
    """
    return "c"


def concept_lazy_training():
    """Concept question 3 of chapter 18: what happens when a very wide network is trained?

    Example:
        >>> concept_lazy_training()
        'a'
    """
    return "a"
