"""solutions_lib.autoencoders against scikit-learn, torch.distributions, autograd and closed forms (chapter 12)."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from course.data import load_digits
from solutions_lib import autoencoders as ref

F64 = torch.float64


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _data(seed, n, spectrum, shift=0.0, device="cpu", dtype=F64):
    g = _gen(seed)
    d = len(spectrum)
    basis, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=F64))
    X = torch.randn(n, d, generator=g, dtype=F64) * torch.tensor(spectrum, dtype=F64).sqrt() @ basis.T + shift
    return X.to(device=device, dtype=dtype)


def test_pca_fit_matches_scikit_learn(device):
    from sklearn.decomposition import PCA

    X = _data(0, 120, [9, 4, 2, 1, 0.5, 0.1], shift=3.0, device=device)
    mean, comps, var = ref.pca_fit(X, 3)
    sk = PCA(n_components=3, svd_solver="full").fit(X.cpu().numpy())
    assert comps.device == X.device and comps.shape == (3, 6)
    torch.testing.assert_close(mean.cpu(), torch.as_tensor(sk.mean_))
    torch.testing.assert_close(var.cpu(), torch.as_tensor(sk.explained_variance_))
    sk_comps = torch.as_tensor(sk.components_)  # compare projectors: the signs are arbitrary
    torch.testing.assert_close((comps.T @ comps).cpu(), sk_comps.T @ sk_comps)
    torch.testing.assert_close((comps @ comps.T).cpu(), torch.eye(3, dtype=F64))


def test_pca_reconstruction_error_is_the_sum_of_discarded_variances():
    X = _data(1, 200, [5, 3, 1, 0.5, 0.2], shift=-1.0)
    mean, comps, _ = ref.pca_fit(X, 2)
    _, _, all_var = ref.pca_fit(X, 5)
    recon = mean + (X - mean) @ comps.T @ comps
    err = ((recon - X) ** 2).sum(1).sum() / (X.shape[0] - 1)
    torch.testing.assert_close(err, all_var[2:].sum())


def test_linear_ae_grads_match_autograd(device):
    g = _gen(2)
    X, V, W = (torch.randn(*s, generator=g, dtype=F64).to(device) for s in [(15, 6), (2, 6), (6, 2)])
    Vr, Wr = V.clone().requires_grad_(), W.clone().requires_grad_()
    R = X @ Vr.T @ Wr.T - X
    loss = (R * R).sum() / X.shape[0]
    dV, dW = torch.autograd.grad(loss, (Vr, Wr))
    got = ref.linear_ae_loss_and_grads(X, V, W)
    torch.testing.assert_close(got, (loss.detach(), dV, dW), rtol=1e-10, atol=1e-12)


def test_linear_autoencoder_finds_the_principal_subspace_and_its_error():
    X = _data(3, 300, [6, 3, 0.4, 0.2, 0.1], shift=4.0)
    V, W = ref.train_linear_autoencoder(X, 2, 0.05, 1500, _gen(4))
    mean, comps, var = ref.pca_fit(X, 5)
    P = comps[:2].T @ comps[:2]
    torch.testing.assert_close(W @ torch.linalg.pinv(W), P, atol=1e-4, rtol=0)
    loss, _, _ = ref.linear_ae_loss_and_grads(X - mean, V, W)
    torch.testing.assert_close(loss, var[2:].sum() * (X.shape[0] - 1) / X.shape[0], rtol=1e-4, atol=0)


def test_dae_loss_is_differentiable_and_matches_the_definition():
    net = torch.nn.Linear(4, 4, dtype=F64)
    g = _gen(5)
    x, noise = torch.randn(6, 4, generator=g, dtype=F64), torch.randn(6, 4, generator=g, dtype=F64)
    loss = ref.dae_loss(net, x, noise)
    assert loss.requires_grad and loss.shape == ()
    torch.testing.assert_close(loss, F.mse_loss(net(x + noise), x, reduction="sum") / 6)


def test_linear_denoiser_minimizes_the_expected_loss():
    X = _data(6, 40, [4, 1, 0.3], shift=2.0)
    s = 0.7
    A, b = ref.linear_denoiser(X, s)

    def expected_loss(A, b):  # E over the noise, exactly: squared bias + s^2 tr(A A^T)
        return (((X @ A.T + b - X) ** 2).sum(1).mean() + s ** 2 * (A * A).sum())

    A_, b_ = A.clone().requires_grad_(), b.clone().requires_grad_()
    grads = torch.autograd.grad(expected_loss(A_, b_), (A_, b_))
    assert all(gr.abs().max() < 1e-10 for gr in grads)
    # and a Monte-Carlo check that the noise model is the stated one
    noise = s * torch.randn(20000, 40, 3, generator=_gen(7), dtype=F64)
    mc = ((((X + noise) @ A.T + b - X) ** 2).sum(-1).mean())
    torch.testing.assert_close(mc, expected_loss(A, b), rtol=2e-2, atol=0)


def test_ppca_log_likelihood_matches_torch_distributions(device):
    g = _gen(8)
    X, mu, W = torch.randn(10, 5, generator=g, dtype=F64), torch.randn(5, generator=g, dtype=F64), \
        torch.randn(5, 2, generator=g, dtype=F64)
    X, mu, W = X.to(device), mu.to(device), W.to(device)
    C = W @ W.T + 0.3 * torch.eye(5, dtype=F64, device=device)
    expected = torch.distributions.MultivariateNormal(mu, covariance_matrix=C).log_prob(X)
    torch.testing.assert_close(ref.ppca_log_likelihood(X, mu, W, 0.3), expected)


def test_ppca_fit_is_a_maximum_of_the_likelihood():
    X = _data(9, 60, [5, 3, 1, 0.6, 0.4, 0.2], shift=1.0)
    mu, W, s2 = ref.ppca_fit(X, 2)
    theta = [mu.clone().requires_grad_(), W.clone().requires_grad_(), torch.log(s2).clone().requires_grad_()]
    total = ref.ppca_log_likelihood(X, theta[0], theta[1], torch.exp(theta[2])).sum()
    grads = torch.autograd.grad(total, theta)
    assert max(gr.abs().max().item() for gr in grads) < 1e-8
    for seed in range(5):  # and every random perturbation is worse
        h = _gen(100 + seed)
        worse = ref.ppca_log_likelihood(X, mu + 0.05 * torch.randn(6, generator=h, dtype=F64),
                                        W + 0.05 * torch.randn(6, 2, generator=h, dtype=F64), s2 * 1.05).sum()
        assert worse < total


def test_ppca_posterior_matches_monte_carlo_conditioning():
    g = _gen(10)
    W, mu = torch.randn(4, 2, generator=g, dtype=F64), torch.randn(4, generator=g, dtype=F64)
    x = torch.randn(1, 4, generator=g, dtype=F64)
    m, cov = ref.ppca_posterior(x, mu, W, 0.5)
    # Bayes by brute force on a grid over z
    grid = torch.linspace(-6, 6, 241, dtype=F64)
    zz = torch.stack(torch.meshgrid(grid, grid, indexing="ij"), -1).reshape(-1, 2)
    logw = -0.5 * (zz ** 2).sum(1) - ((x - zz @ W.T - mu) ** 2).sum(1) / (2 * 0.5)
    w = torch.softmax(logw, 0)
    mean = w @ zz
    second = (zz * w[:, None]).T @ zz - torch.outer(mean, mean)
    torch.testing.assert_close(m[0], mean, atol=1e-6, rtol=0)
    torch.testing.assert_close(cov, second, atol=1e-6, rtol=0)


def test_gaussian_kl_matches_torch_distributions(device, dtype):
    g = _gen(11)
    mu, logvar = (torch.randn(3, 7, 5, generator=g, dtype=F64) * 2).to(device, dtype), \
        (torch.randn(3, 7, 5, generator=g, dtype=F64)).to(device, dtype)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    got = ref.gaussian_kl_standard(mu, logvar)
    assert got.shape == (3, 7) and got.dtype == dtype and (got >= 0).all()
    torch.testing.assert_close(got, torch.distributions.kl_divergence(q, p).sum(-1))


def test_reparameterize_has_the_right_moments_and_gradients():
    mu, logvar = torch.tensor([1.0, -2.0], dtype=F64), torch.tensor([0.5, -1.0], dtype=F64)
    eps = torch.randn(200000, 2, generator=_gen(12), dtype=F64)
    z = ref.reparameterize(mu, logvar, eps)
    torch.testing.assert_close(z.mean(0), mu, atol=1e-2, rtol=0)
    torch.testing.assert_close(z.var(0), torch.exp(logvar), rtol=1e-2, atol=0)
    m, lv = mu.clone().requires_grad_(), logvar.clone().requires_grad_()
    dm, dlv = torch.autograd.grad(ref.reparameterize(m, lv, eps[:3]).sum(), (m, lv))
    torch.testing.assert_close(dm, torch.full((2,), 3.0, dtype=F64))
    torch.testing.assert_close(dlv, 0.5 * torch.exp(0.5 * logvar) * eps[:3].sum(0))


def test_bernoulli_log_likelihood_matches_bce_and_is_stable(device, dtype):
    g = _gen(13)
    x = torch.rand(4, 64, generator=g, dtype=F64).to(device, dtype)
    logits = (torch.randn(4, 64, generator=g, dtype=F64) * 50).to(device, dtype)
    got = ref.bernoulli_log_likelihood(x, logits)
    assert torch.isfinite(got).all() and got.dtype == dtype
    torch.testing.assert_close(got, -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1))


def test_vae_loss_is_minus_the_mean_elbo():
    g = _gen(14)
    x, logits = torch.rand(5, 8, generator=g, dtype=F64), torch.randn(5, 8, generator=g, dtype=F64)
    mu, logvar = torch.randn(5, 3, generator=g, dtype=F64), torch.randn(5, 3, generator=g, dtype=F64)
    elbo = ref.bernoulli_log_likelihood(x, logits) - ref.gaussian_kl_standard(mu, logvar)
    torch.testing.assert_close(ref.vae_loss(x, logits, mu, logvar), -elbo.mean())
    torch.testing.assert_close(ref.vae_loss(x, logits, mu, logvar, beta=0.0),
                               -ref.bernoulli_log_likelihood(x, logits).mean())


def test_linear_gaussian_elbo_is_exact_at_the_posterior_and_matches_monte_carlo():
    X = _data(15, 50, [4, 2, 0.3, 0.2, 0.1])
    mu, W, s2 = ref.ppca_fit(X, 2)
    m, cov = ref.ppca_posterior(X[:5], mu, W, s2)
    assert torch.allclose(cov, torch.diag(torch.diagonal(cov)), atol=1e-12)  # ML W: orthogonal columns
    logvar = torch.log(torch.diagonal(cov)).expand_as(m)
    torch.testing.assert_close(ref.linear_gaussian_elbo(X[:5], m, logvar, mu, W, s2),
                               ref.ppca_log_likelihood(X[:5], mu, W, s2))
    qm, ql = m + 0.3, logvar - 0.5  # any other q: Monte Carlo estimate of E_q log p(x|z) - KL
    eps = torch.randn(200000, 5, 2, generator=_gen(16), dtype=F64)
    z = ref.reparameterize(qm, ql, eps)
    loglik = torch.distributions.Normal(z @ W.T + mu, s2.sqrt()).log_prob(X[:5]).sum(-1).mean(0)
    mc = loglik - ref.gaussian_kl_standard(qm, ql)
    got = ref.linear_gaussian_elbo(X[:5], qm, ql, mu, W, s2)
    torch.testing.assert_close(got, mc, atol=2e-2, rtol=0)
    assert (got < ref.ppca_log_likelihood(X[:5], mu, W, s2)).all()


def test_train_vae_reaches_the_chapter_target_on_held_out_digits():
    from autograder.checks.ch12 import VAE_SPLIT_SEED, VAE_TARGET, heldout_elbo

    X_train, _, X_test, _ = load_digits(0.25, seed=VAE_SPLIT_SEED)
    model = ref.train_vae(X_train, latent_dim=4, seed=0)
    score = heldout_elbo(model.state_dict(), X_test.double(), 4)
    assert score > VAE_TARGET + 0.5, score
    assert math.isfinite(score)


def test_training_stays_on_the_inputs_device(device):
    X = _data(19, 40, [3, 1, 0.5, 0.2], device=device)
    V, W = ref.train_linear_autoencoder(X, 2, 0.05, 5, _gen(20))
    assert V.device == W.device == X.device
    model = ref.train_vae(torch.rand(32, 64, generator=_gen(21)).to(device), latent_dim=2, epochs=1, batch_size=16)
    assert next(model.parameters()).device == X.device
