"""Classic wrong answers and correct alternatives for chapter 12 (PCA, autoencoders, VAEs).

Several mutants are the textbook's own slips: the PCA snippet that keeps the smallest components, the PPCA
constant ``+NK/2 ln 2 pi``, the reparameterization ``sigma^2 eps``, the KL of eq. 6.14 and the training code
that adds ``-KL`` to the loss.
"""

CHAPTER = "12-autoencoders-and-vae"

MUTANTS = {
    "pca_fit": {
        "keeps the smallest components (the textbook's argsort)": """
def pca_fit(X, k):
    mean = X.mean(dim=0)
    L, V = torch.linalg.eigh(torch.cov((X - mean).T))   # eigh sorts in increasing order
    return mean, V[:, :k].T.contiguous(), L[:k]
""",
        "does not centre the data": """
def pca_fit(X, k):
    _, S, Vh = torch.linalg.svd(X, full_matrices=False)
    return X.mean(dim=0), Vh[:k], S[:k] ** 2 / (X.shape[0] - 1)
""",
        "variances divided by N": """
def pca_fit(X, k):
    mean = X.mean(dim=0)
    _, S, Vh = torch.linalg.svd(X - mean, full_matrices=False)
    return mean, Vh[:k], S[:k] ** 2 / X.shape[0]
""",
    },
    "linear_ae_loss_and_grads": {
        "forgets the factor 2": """
def linear_ae_loss_and_grads(X, V, W):
    N = X.shape[0]
    Z = X @ V.T
    R = Z @ W.T - X
    return (R * R).sum() / N, W.T @ R.T @ X / N, R.T @ Z / N
""",
        "loss averaged over all entries (divides by N * D)": """
def linear_ae_loss_and_grads(X, V, W):
    n = X.numel()
    Z = X @ V.T
    R = Z @ W.T - X
    return (R * R).sum() / n, 2 * W.T @ R.T @ X / n, 2 * R.T @ Z / n
""",
        "encoder gradient transposed (D, K)": """
def linear_ae_loss_and_grads(X, V, W):
    N = X.shape[0]
    Z = X @ V.T
    R = Z @ W.T - X
    return (R * R).sum() / N, (2.0 / N) * X.T @ R @ W, (2.0 / N) * R.T @ Z
""",
        "gradients from autograd (not derived by hand)": """
def linear_ae_loss_and_grads(X, V, W):
    V = V.detach().clone().requires_grad_(True)
    W = W.detach().clone().requires_grad_(True)
    R = X @ V.T @ W.T - X
    loss = (R * R).sum() / X.shape[0]
    dV, dW = torch.autograd.grad(loss, (V, W))
    return loss.detach(), dV, dW
""",
    },
    "train_linear_autoencoder": {
        "does not centre the data": """
def train_linear_autoencoder(X, k, lr, steps, generator):
    D = X.shape[1]
    V = 0.1 * torch.randn(k, D, generator=generator, dtype=X.dtype)
    W = 0.1 * torch.randn(D, k, generator=generator, dtype=X.dtype)
    for _ in range(steps):
        _, dV, dW = linear_ae_loss_and_grads(X, V, W)
        V, W = V - lr * dV, W - lr * dW
    return V, W
""",
        "draws W before V": """
def train_linear_autoencoder(X, k, lr, steps, generator):
    D = X.shape[1]
    W = 0.1 * torch.randn(D, k, generator=generator, dtype=X.dtype)
    V = 0.1 * torch.randn(k, D, generator=generator, dtype=X.dtype)
    Xc = X - X.mean(dim=0)
    for _ in range(steps):
        _, dV, dW = linear_ae_loss_and_grads(Xc, V, W)
        V, W = V - lr * dV, W - lr * dW
    return V, W
""",
        "returns PCA instead of training": """
def train_linear_autoencoder(X, k, lr, steps, generator):
    Xc = X - X.mean(dim=0)
    _, _, Vh = torch.linalg.svd(Xc, full_matrices=False)
    return Vh[:k].clone(), Vh[:k].T.clone()
""",
        "steps up the gradient": """
def train_linear_autoencoder(X, k, lr, steps, generator):
    D = X.shape[1]
    V = 0.1 * torch.randn(k, D, generator=generator, dtype=X.dtype)
    W = 0.1 * torch.randn(D, k, generator=generator, dtype=X.dtype)
    Xc = X - X.mean(dim=0)
    for _ in range(steps):
        _, dV, dW = linear_ae_loss_and_grads(Xc, V, W)
        V, W = V + lr * dV, W + lr * dW
    return V, W
""",
    },
    "concept_linear_ae": {
        "the eigenvectors themselves": 'def concept_linear_ae():\n    return "a"\n',
        "smallest variance": 'def concept_linear_ae():\n    return "b"\n',
        "depth beats PCA": 'def concept_linear_ae():\n    return "d"\n',
    },
    "dae_loss": {
        "reconstructs the noisy input": """
def dae_loss(autoencoder, x, noise):
    noisy = x + noise
    return ((autoencoder(noisy) - noisy) ** 2).sum(dim=-1).mean()
""",
        "never adds the noise": """
def dae_loss(autoencoder, x, noise):
    return ((autoencoder(x) - x) ** 2).sum(dim=-1).mean()
""",
        "mean over every entry": """
def dae_loss(autoencoder, x, noise):
    return ((autoencoder(x + noise) - x) ** 2).mean()
""",
        "returns a Python float": """
def dae_loss(autoencoder, x, noise):
    return ((autoencoder(x + noise) - x) ** 2).sum(dim=-1).mean().item()
""",
    },
    "linear_denoiser": {
        "no bias (b = 0)": """
def linear_denoiser(X, noise_std):
    mean = X.mean(dim=0)
    cov = (X - mean).T @ (X - mean) / X.shape[0]
    A = cov @ torch.linalg.inv(cov + noise_std ** 2 * torch.eye(X.shape[1], dtype=X.dtype))
    return A, torch.zeros_like(mean)
""",
        "uncentred second moment instead of the covariance": """
def linear_denoiser(X, noise_std):
    M = X.T @ X / X.shape[0]
    A = M @ torch.linalg.inv(M + noise_std ** 2 * torch.eye(X.shape[1], dtype=X.dtype))
    mean = X.mean(dim=0)
    return A, mean - A @ mean
""",
        "covariance divided by N - 1": """
def linear_denoiser(X, noise_std):
    mean = X.mean(dim=0)
    cov = torch.cov(X.T).reshape(X.shape[1], X.shape[1])
    A = cov @ torch.linalg.inv(cov + noise_std ** 2 * torch.eye(X.shape[1], dtype=X.dtype))
    return A, mean - A @ mean
""",
        "noise std instead of variance": """
def linear_denoiser(X, noise_std):
    mean = X.mean(dim=0)
    cov = (X - mean).T @ (X - mean) / X.shape[0]
    A = cov @ torch.linalg.inv(cov + noise_std * torch.eye(X.shape[1], dtype=X.dtype))
    return A, mean - A @ mean
""",
    },
    "ppca_log_likelihood": {
        "the textbook's constant (+D/2 log 2 pi)": """
def ppca_log_likelihood(X, mu, W, sigma2):
    D = X.shape[1]
    C = W @ W.T + sigma2 * torch.eye(D, dtype=X.dtype)
    diff = X - mu
    maha = (diff @ torch.linalg.inv(C) * diff).sum(-1)
    return 0.5 * D * math.log(2 * math.pi) - 0.5 * torch.logdet(C) - 0.5 * maha
""",
        "constant with the latent dimension K": """
def ppca_log_likelihood(X, mu, W, sigma2):
    D, K = W.shape
    C = W @ W.T + sigma2 * torch.eye(D, dtype=X.dtype)
    diff = X - mu
    maha = (diff @ torch.linalg.inv(C) * diff).sum(-1)
    return -0.5 * K * math.log(2 * math.pi) - 0.5 * torch.logdet(C) - 0.5 * maha
""",
        "forgets the 1/2 on the log-determinant": """
def ppca_log_likelihood(X, mu, W, sigma2):
    D = X.shape[1]
    C = W @ W.T + sigma2 * torch.eye(D, dtype=X.dtype)
    diff = X - mu
    maha = (diff @ torch.linalg.inv(C) * diff).sum(-1)
    return -0.5 * D * math.log(2 * math.pi) - torch.logdet(C) - 0.5 * maha
""",
        "covariance without the noise (W W^T + I)": """
def ppca_log_likelihood(X, mu, W, sigma2):
    D = X.shape[1]
    C = W @ W.T + torch.eye(D, dtype=X.dtype)
    diff = X - mu
    maha = (diff @ torch.linalg.inv(C) * diff).sum(-1)
    return -0.5 * D * math.log(2 * math.pi) - 0.5 * torch.logdet(C) - 0.5 * maha
""",
    },
    "ppca_fit": {
        "covariance divided by N - 1": """
def ppca_fit(X, k):
    N, D = X.shape
    mu = X.mean(dim=0)
    lam, U = torch.linalg.eigh(torch.cov(X.T))
    lam, U = lam.flip(0), U.flip(1)
    sigma2 = lam[k:].mean()
    return mu, U[:, :k] * torch.sqrt(lam[:k] - sigma2), sigma2
""",
        "forgets to subtract sigma2 from the kept eigenvalues": """
def ppca_fit(X, k):
    N, D = X.shape
    mu = X.mean(dim=0)
    lam, U = torch.linalg.eigh((X - mu).T @ (X - mu) / N)
    lam, U = lam.flip(0), U.flip(1)
    return mu, U[:, :k] * torch.sqrt(lam[:k]), lam[k:].mean()
""",
        "sigma2 = mean of all eigenvalues": """
def ppca_fit(X, k):
    N, D = X.shape
    mu = X.mean(dim=0)
    lam, U = torch.linalg.eigh((X - mu).T @ (X - mu) / N)
    lam, U = lam.flip(0), U.flip(1)
    sigma2 = lam.mean()
    return mu, U[:, :k] * torch.sqrt(torch.clamp(lam[:k] - sigma2, min=0)), sigma2
""",
        "keeps the smallest components": """
def ppca_fit(X, k):
    N, D = X.shape
    mu = X.mean(dim=0)
    lam, U = torch.linalg.eigh((X - mu).T @ (X - mu) / N)
    sigma2 = lam[k:].mean()
    return mu, U[:, :k] * torch.sqrt(torch.clamp(lam[:k] - sigma2, min=0)), sigma2
""",
    },
    "ppca_posterior": {
        "covariance M^{-1} without sigma2": """
def ppca_posterior(X, mu, W, sigma2):
    M = W.T @ W + sigma2 * torch.eye(W.shape[1], dtype=W.dtype)
    Minv = torch.linalg.inv(M)
    return (X - mu) @ W @ Minv, Minv
""",
        "the sigma2 -> 0 limit (pseudo-inverse)": """
def ppca_posterior(X, mu, W, sigma2):
    P = torch.linalg.pinv(W)
    M = W.T @ W + sigma2 * torch.eye(W.shape[1], dtype=W.dtype)
    return (X - mu) @ P.T, sigma2 * torch.linalg.inv(M)
""",
        "forgets to subtract mu": """
def ppca_posterior(X, mu, W, sigma2):
    M = W.T @ W + sigma2 * torch.eye(W.shape[1], dtype=W.dtype)
    Minv = torch.linalg.inv(M)
    return X @ W @ Minv, sigma2 * Minv
""",
    },
    "gaussian_kl_standard": {
        "the textbook's code sign (returns -KL)": """
def gaussian_kl_standard(mu, logvar):
    return 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=-1)
""",
        "the textbook's eq. 6.14": """
def gaussian_kl_standard(mu, logvar):
    return (logvar.exp() + mu ** 2 - 0.5 * logvar - 0.5).sum(dim=-1)
""",
        "treats logvar as log sigma": """
def gaussian_kl_standard(mu, logvar):
    return 0.5 * (torch.exp(2 * logvar) + mu ** 2 - 1 - 2 * logvar).sum(dim=-1)
""",
        "averages over the latent coordinates": """
def gaussian_kl_standard(mu, logvar):
    return 0.5 * (logvar.exp() + mu ** 2 - 1 - logvar).mean(dim=-1)
""",
    },
    "reparameterize": {
        "the textbook's sigma^2 * eps": """
def reparameterize(mu, logvar, eps):
    return mu + torch.exp(logvar) * eps
""",
        "logvar used as the standard deviation": """
def reparameterize(mu, logvar, eps):
    return mu + logvar * eps
""",
        "draws its own noise": """
def reparameterize(mu, logvar, eps):
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
""",
        "detaches the standard deviation": """
def reparameterize(mu, logvar, eps):
    return mu + torch.exp(0.5 * logvar).detach() * eps
""",
    },
    "bernoulli_log_likelihood": {
        "log of the sigmoid, literally (overflows)": """
def bernoulli_log_likelihood(x, logits):
    p = torch.sigmoid(logits)
    return (x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(dim=-1)
""",
        "averages over the pixels": """
def bernoulli_log_likelihood(x, logits):
    ls = torch.nn.functional.logsigmoid
    return (x * ls(logits) + (1 - x) * ls(-logits)).mean(dim=-1)
""",
        "returns the cross-entropy (wrong sign)": """
def bernoulli_log_likelihood(x, logits):
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)
""",
    },
    "vae_loss": {
        "the textbook's training code (adds -KL)": """
def vae_loss(x, logits, mu, logvar, beta=1.0):
    rec = -bernoulli_log_likelihood(x, logits)
    return (rec + beta * 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=-1)).mean()
""",
        "sums over the batch": """
def vae_loss(x, logits, mu, logvar, beta=1.0):
    return (beta * gaussian_kl_standard(mu, logvar) - bernoulli_log_likelihood(x, logits)).sum()
""",
        "ignores beta": """
def vae_loss(x, logits, mu, logvar, beta=1.0):
    return (gaussian_kl_standard(mu, logvar) - bernoulli_log_likelihood(x, logits)).mean()
""",
        "beta on the reconstruction term": """
def vae_loss(x, logits, mu, logvar, beta=1.0):
    return (gaussian_kl_standard(mu, logvar) - beta * bernoulli_log_likelihood(x, logits)).mean()
""",
    },
    "linear_gaussian_elbo": {
        "drops the spread term (plugs in z = m)": """
def linear_gaussian_elbo(X, q_mean, q_logvar, mu, W, sigma2):
    D = X.shape[1]
    r = X - q_mean @ W.T - mu
    s2 = torch.as_tensor(sigma2, dtype=X.dtype)
    return -0.5 * D * torch.log(2 * math.pi * s2) - (r * r).sum(-1) / (2 * s2) - gaussian_kl_standard(q_mean, q_logvar)
""",
        "forgets the KL term": """
def linear_gaussian_elbo(X, q_mean, q_logvar, mu, W, sigma2):
    D = X.shape[1]
    r = X - q_mean @ W.T - mu
    spread = q_logvar.exp() @ (W ** 2).sum(0)
    s2 = torch.as_tensor(sigma2, dtype=X.dtype)
    return -0.5 * D * torch.log(2 * math.pi * s2) - ((r * r).sum(-1) + spread) / (2 * s2)
""",
        "constant without sigma2 (log 2 pi only)": """
def linear_gaussian_elbo(X, q_mean, q_logvar, mu, W, sigma2):
    D = X.shape[1]
    r = X - q_mean @ W.T - mu
    spread = q_logvar.exp() @ (W ** 2).sum(0)
    return (-0.5 * D * math.log(2 * math.pi) - ((r * r).sum(-1) + spread) / (2 * sigma2)
            - gaussian_kl_standard(q_mean, q_logvar))
""",
        "spread term with the standard deviations instead of the variances": """
def linear_gaussian_elbo(X, q_mean, q_logvar, mu, W, sigma2):
    D = X.shape[1]
    r = X - q_mean @ W.T - mu
    spread = (0.5 * q_logvar).exp() @ (W ** 2).sum(0)
    s2 = torch.as_tensor(sigma2, dtype=X.dtype)
    return -0.5 * D * torch.log(2 * math.pi * s2) - ((r * r).sum(-1) + spread) / (2 * s2) - gaussian_kl_standard(q_mean, q_logvar)
""",
    },
    "concept_elbo_gap": {
        "KL to the prior": 'def concept_elbo_gap():\n    return "a"\n',
        "reconstruction error": 'def concept_elbo_gap():\n    return "c"\n',
        "entropy of q": 'def concept_elbo_gap():\n    return "d"\n',
    },
    "train_vae": {
        "the textbook's loss: adds -KL (wrong sign)": """
def train_vae(X, latent_dim=4, beta=1.0, epochs=40, batch_size=64, lr=1e-2, hidden=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    model = DigitsVAE(X.shape[1], hidden, latent_dim, generator=g, dtype=X.dtype)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        order = torch.randperm(X.shape[0], generator=g)
        for start in range(0, X.shape[0], batch_size):
            x = X[order[start:start + batch_size]]
            mu, logvar = model.encode(x)
            z = reparameterize(mu, logvar, torch.randn(mu.shape, generator=g, dtype=mu.dtype))
            loss = (-bernoulli_log_likelihood(x, model.decode(z))
                    + beta * 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=-1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model
""",
        "never samples (decodes the mean)": """
def train_vae(X, latent_dim=4, beta=1.0, epochs=40, batch_size=64, lr=1e-2, hidden=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    model = DigitsVAE(X.shape[1], hidden, latent_dim, generator=g, dtype=X.dtype)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        order = torch.randperm(X.shape[0], generator=g)
        for start in range(0, X.shape[0], batch_size):
            x = X[order[start:start + batch_size]]
            mu, logvar = model.encode(x)
            loss = vae_loss(x, model.decode(mu), mu, logvar, beta)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model
""",
        "no KL term (a noisy plain autoencoder)": """
def train_vae(X, latent_dim=4, beta=1.0, epochs=40, batch_size=64, lr=1e-2, hidden=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    model = DigitsVAE(X.shape[1], hidden, latent_dim, generator=g, dtype=X.dtype)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        order = torch.randperm(X.shape[0], generator=g)
        for start in range(0, X.shape[0], batch_size):
            x = X[order[start:start + batch_size]]
            mu, logvar = model.encode(x)
            z = reparameterize(mu, logvar, torch.randn(mu.shape, generator=g, dtype=mu.dtype))
            loss = -bernoulli_log_likelihood(x, model.decode(z)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model
""",
    },
    "concept_beta": {
        "regularizing sharpens": 'def concept_beta():\n    return "b"\n',
        "less over-fitting, higher ELBO": 'def concept_beta():\n    return "c"\n',
        "memorized samples": 'def concept_beta():\n    return "d"\n',
    },
}

ALTERNATIVES = {
    "pca_fit": {
        "eigendecomposition of the covariance, sorted by hand": """
def pca_fit(X, k):
    mean = X.mean(dim=0)
    Xc = X - mean
    L, V = torch.linalg.eigh(Xc.T @ Xc / (X.shape[0] - 1))
    order = torch.argsort(L, descending=True)[:k]
    return mean, V[:, order].T.contiguous(), L[order]
""",
        "signs flipped": """
def pca_fit(X, k):
    mean = X.mean(dim=0)
    _, S, Vh = torch.linalg.svd(X - mean, full_matrices=False)
    return mean, -Vh[:k], S[:k] ** 2 / (X.shape[0] - 1)
""",
    },
    "linear_ae_loss_and_grads": {
        "explicit loop over samples": """
def linear_ae_loss_and_grads(X, V, W):
    N = X.shape[0]
    loss = torch.zeros((), dtype=X.dtype)
    dV, dW = torch.zeros_like(V), torch.zeros_like(W)
    for n in range(N):
        x = X[n]
        z = V @ x
        r = W @ z - x
        loss = loss + r @ r / N
        dW = dW + 2 * torch.outer(r, z) / N
        dV = dV + 2 * torch.outer(W.T @ r, x) / N
    return loss, dV, dW
""",
    },
    "train_linear_autoencoder": {
        "gradient step through chapter 05's in-place update": """
def train_linear_autoencoder(X, k, lr, steps, generator):
    D = X.shape[1]
    V = 0.1 * torch.randn(k, D, generator=generator, dtype=X.dtype)
    W = 0.1 * torch.randn(D, k, generator=generator, dtype=X.dtype)
    Xc = X - X.mean(dim=0, keepdim=True)
    for step in range(steps):
        loss, dV, dW = linear_ae_loss_and_grads(Xc, V, W)
        V -= lr * dV
        W -= lr * dW
    return V, W
""",
    },
    "concept_linear_ae": {"upper case, with spaces": 'def concept_linear_ae():\n    return " C "\n'},
    "dae_loss": {
        "explicit norm": """
def dae_loss(autoencoder, x, noise):
    return torch.linalg.vector_norm(autoencoder(x + noise) - x, dim=1).pow(2).sum() / x.shape[0]
""",
    },
    "linear_denoiser": {
        "through the eigendecomposition (shrinkage per direction)": """
def linear_denoiser(X, noise_std):
    mean = X.mean(dim=0)
    Xc = X - mean
    lam, U = torch.linalg.eigh(Xc.T @ Xc / X.shape[0])
    A = U @ torch.diag(lam / (lam + noise_std ** 2)) @ U.T
    if noise_std == 0:
        A = torch.eye(X.shape[1], dtype=X.dtype)
    return A, mean - A @ mean
""",
    },
    "ppca_log_likelihood": {
        "torch.distributions": """
def ppca_log_likelihood(X, mu, W, sigma2):
    C = W @ W.T + sigma2 * torch.eye(X.shape[1], dtype=X.dtype)
    return torch.distributions.MultivariateNormal(mu, covariance_matrix=C).log_prob(X)
""",
        "slogdet and solve, float32 allowed": """
def ppca_log_likelihood(X, mu, W, sigma2):
    D = X.shape[1]
    C = W @ W.T + sigma2 * torch.eye(D, dtype=X.dtype)
    diff = X - mu
    sol = torch.linalg.solve(C, diff.T).T
    return -0.5 * (D * math.log(2 * math.pi) + torch.linalg.slogdet(C)[1] + (diff * sol).sum(-1))
""",
    },
    "ppca_fit": {
        "eigh of the ML covariance, rotated W": """
def ppca_fit(X, k):
    N, D = X.shape
    mu = X.mean(dim=0)
    lam, U = torch.linalg.eigh((X - mu).T @ (X - mu) / N)
    lam, U = lam.flip(0), U.flip(1)
    sigma2 = lam[k:].mean()
    W = U[:, :k] * torch.sqrt(torch.clamp(lam[:k] - sigma2, min=0))
    R = torch.linalg.qr(torch.arange(1.0, k * k + 1, dtype=X.dtype).reshape(k, k) + torch.eye(k, dtype=X.dtype) * k * k).Q
    return mu, W @ R, sigma2
""",
    },
    "ppca_posterior": {
        "through the data-space covariance (Woodbury's other side)": """
def ppca_posterior(X, mu, W, sigma2):
    D, K = W.shape
    C = W @ W.T + sigma2 * torch.eye(D, dtype=W.dtype)
    G = torch.linalg.solve(C, W).T
    return (X - mu) @ G.T, torch.eye(K, dtype=W.dtype) - G @ W
""",
    },
    "gaussian_kl_standard": {
        "torch.distributions": """
def gaussian_kl_standard(mu, logvar):
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return torch.distributions.kl_divergence(q, p).sum(-1)
""",
        "written with sigma": """
def gaussian_kl_standard(mu, logvar):
    sigma = torch.exp(0.5 * logvar)
    return (0.5 * sigma ** 2 + 0.5 * mu ** 2 - 0.5 - torch.log(sigma)).sum(-1)
""",
    },
    "reparameterize": {
        "sqrt of the variance": """
def reparameterize(mu, logvar, eps):
    return eps * torch.sqrt(torch.exp(logvar)) + mu
""",
    },
    "bernoulli_log_likelihood": {
        "softplus form": """
def bernoulli_log_likelihood(x, logits):
    return (x * logits - torch.nn.functional.softplus(logits)).sum(-1)
""",
        "torch BCE with logits": """
def bernoulli_log_likelihood(x, logits):
    return -torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)
""",
    },
    "vae_loss": {
        "two means": """
def vae_loss(x, logits, mu, logvar, beta=1.0):
    return -bernoulli_log_likelihood(x, logits).mean() + beta * gaussian_kl_standard(mu, logvar).mean()
""",
    },
    "linear_gaussian_elbo": {
        "trace written out with a diagonal matrix": """
def linear_gaussian_elbo(X, q_mean, q_logvar, mu, W, sigma2):
    N, D = X.shape
    out = []
    for n in range(N):
        S = torch.diag(torch.exp(q_logvar[n]))
        r = X[n] - W @ q_mean[n] - mu
        e = -0.5 * D * math.log(2 * math.pi * float(sigma2)) - (r @ r + torch.trace(W @ S @ W.T)) / (2 * sigma2)
        out.append(e - gaussian_kl_standard(q_mean[n], q_logvar[n]))
    return torch.stack(out).to(X.dtype)
""",
    },
    "concept_elbo_gap": {"upper case": 'def concept_elbo_gap():\n    return "B"\n'},
    "train_vae": {
        "chapter 05's Adam written out, summed loss": """
def train_vae(X, latent_dim=4, beta=1.0, epochs=40, batch_size=64, lr=1e-2, hidden=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    model = DigitsVAE(X.shape[1], hidden, latent_dim, generator=g, dtype=X.dtype)
    params = list(model.parameters())
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    t = 0
    for _ in range(epochs):
        order = torch.randperm(X.shape[0], generator=g)
        for start in range(0, X.shape[0], batch_size):
            x = X[order[start:start + batch_size]]
            mu, logvar = model.encode(x)
            z = reparameterize(mu, logvar, torch.randn(mu.shape, generator=g, dtype=mu.dtype))
            loss = vae_loss(x, model.decode(z), mu, logvar, beta) * x.shape[0]
            grads = torch.autograd.grad(loss, params)
            t += 1
            with torch.no_grad():
                for i, (p, gr) in enumerate(zip(params, grads)):
                    m[i] = 0.9 * m[i] + 0.1 * gr
                    v[i] = 0.999 * v[i] + 0.001 * gr * gr
                    p -= lr * (m[i] / (1 - 0.9 ** t)) / ((v[i] / (1 - 0.999 ** t)).sqrt() + 1e-8)
    return model
""",
    },
    "concept_beta": {"plain letter": 'def concept_beta():\n    return "a"\n'},
}

SAMPLE_WRONG = ["ppca_log_likelihood", "dae_loss"]


# Automatic mutations of the reference (autograder.mutation) that change nothing the statement fixes.
EQUIVALENT_MUTATIONS = {
    'dae_loss': {
        'sign: `-1` -> `1` in `((autoencoder(x + noise) - x) ** 2).sum(dim=-1)`':
            'the statement fixes these tensors as 2-D (batch, features): axis 1 is the last axis',
    },
}

# Make-it-work tasks, judged on a target (autograder.mutation leaves them to their registered mutants).
JUDGED_ON_A_TARGET = ['train_vae']
