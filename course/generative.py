"""Data, schedules and pictures for chapter 14 (normalizing flows and diffusion models).

* :class:`Mixture2D` — a 2-D Gaussian mixture with exact density, labelled components (for guidance) and a
  seeded sampler; :func:`ring_mixture` is the chapter's running example.
* :func:`cosine_betas`, :func:`linear_betas` — noise schedules in the chapter's convention: a tensor of
  length ``T + 1`` indexed by the step ``t``, with ``betas[0] = 0``.
* :func:`mmd2` — a kernel two-sample statistic (squared MMD, RBF kernels at several bandwidths) to say how
  close two clouds of samples are.
* :func:`plot_samples_over_density` — samples as dots over the true log density.

Everything is generated here; randomness is passed in as a seed or a ``torch.Generator``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["Mixture2D", "ring_mixture", "cosine_betas", "linear_betas", "mmd2", "plot_samples_over_density"]


@dataclass(frozen=True)
class Mixture2D:
    """``p(x) = sum_k weights[k] N(x; means[k], covs[k])`` in the plane; component k has class ``labels[k]``.

    Attributes:
        weights: (K,) float64, summing to 1.
        means: (K, 2) float64.
        covs: (K, 2, 2) float64, positive definite.
        labels: (K,) long, the class of each component.
    """

    weights: torch.Tensor
    means: torch.Tensor
    covs: torch.Tensor
    labels: torch.Tensor

    @property
    def n_classes(self) -> int:
        return int(self.labels.max()) + 1

    def sample(self, n: int, generator: torch.Generator, dtype: torch.dtype = torch.float32,
               with_labels: bool = False):
        """``n`` points (and their class labels if ``with_labels``), drawn with ``generator``."""
        comp = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        chol = torch.linalg.cholesky(self.covs)
        z = torch.randn(n, 2, generator=generator, dtype=torch.float64)
        x = self.means[comp] + torch.einsum("nij,nj->ni", chol[comp], z)
        return (x.to(dtype), self.labels[comp]) if with_labels else x.to(dtype)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """(N,) log density at the rows of ``x`` (float64 inside, returned in ``x``'s dtype)."""
        xd = x.to(torch.float64)
        dist = torch.distributions.MultivariateNormal(self.means, covariance_matrix=self.covs)
        return torch.logsumexp(torch.log(self.weights) + dist.log_prob(xd.unsqueeze(1)), dim=1).to(x.dtype)

    def only_class(self, label: int) -> "Mixture2D":
        """The mixture restricted to the components of one class, its weights renormalized."""
        keep = self.labels == label
        w = self.weights[keep]
        return Mixture2D(w / w.sum(), self.means[keep], self.covs[keep], self.labels[keep])

    def noised(self, alpha_bar: float) -> "Mixture2D":
        """The law of ``sqrt(alpha_bar) x + sqrt(1 - alpha_bar) eps``: again a Gaussian mixture."""
        eye = torch.eye(2, dtype=torch.float64)
        return Mixture2D(self.weights, math.sqrt(alpha_bar) * self.means,
                         alpha_bar * self.covs + (1 - alpha_bar) * eye, self.labels)


def ring_mixture() -> Mixture2D:
    """Six anisotropic Gaussians on a ring of radius 2.5, unequal weights, three classes of two neighbours."""
    angles = torch.arange(6, dtype=torch.float64) * (math.pi / 3)
    means = 2.5 * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    radial, tangential = 0.12 ** 2, 0.35 ** 2
    u = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)            # radial unit vectors
    v = torch.stack([-torch.sin(angles), torch.cos(angles)], dim=1)           # tangential unit vectors
    covs = radial * u[:, :, None] * u[:, None, :] + tangential * v[:, :, None] * v[:, None, :]
    weights = torch.tensor([0.25, 0.10, 0.20, 0.15, 0.20, 0.10], dtype=torch.float64)
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    return Mixture2D(weights, means, covs, labels)


def cosine_betas(T: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """The cosine schedule (Nichol and Dhariwal, 2021) as a (T + 1,) float64 tensor with betas[0] = 0.

    ``alpha_bar(t) = cos^2(pi/2 (t/T + s) / (1 + s))`` normalized to 1 at t = 0, and
    ``beta_t = 1 - alpha_bar(t) / alpha_bar(t - 1)``, clipped at ``max_beta``.
    """
    if T < 1:
        raise ValueError(f"the number of steps T must be at least 1, got {T}")
    t = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    ab = f / f[0]
    betas = torch.zeros(T + 1, dtype=torch.float64)
    betas[1:] = (1 - ab[1:] / ab[:-1]).clamp(max=max_beta)
    return betas


def linear_betas(T: int, beta_1: float = 1e-3, beta_T: float = 0.2) -> torch.Tensor:
    """beta_t evenly spaced from ``beta_1`` to ``beta_T``, as a (T + 1,) float64 tensor with betas[0] = 0."""
    if T < 1:
        raise ValueError(f"the number of steps T must be at least 1, got {T}")
    return torch.cat([torch.zeros(1, dtype=torch.float64), torch.linspace(beta_1, beta_T, T, dtype=torch.float64)])


def mmd2(x: torch.Tensor, y: torch.Tensor, bandwidths: tuple[float, ...] = (0.1, 0.3, 1.0)) -> float:
    """Unbiased squared maximum mean discrepancy between the rows of x and y (sum of RBF kernels).

    Near 0 (it can be slightly negative) when both clouds come from the same law; larger when they differ.
    """
    x, y = x.to(torch.float64), y.to(torch.float64)

    def k(a, b):
        d2 = torch.cdist(a, b) ** 2
        return sum(torch.exp(-d2 / (2 * h * h)) for h in bandwidths)

    n, m = x.shape[0], y.shape[0]
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    term_x = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    term_y = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return float(term_x + term_y - 2 * kxy.mean())


def plot_samples_over_density(ax, mixture: Mixture2D, samples: torch.Tensor | None = None, *, lim: float = 4.0,
                              title: str = "", s: float = 3.0, color: str = "C1"):
    """Shade ``mixture``'s log density on [-lim, lim]^2 and scatter ``samples`` (N, 2) over it."""
    grid = torch.linspace(-lim, lim, 160, dtype=torch.float64)
    gx, gy = torch.meshgrid(grid, grid, indexing="xy")
    logp = mixture.log_prob(torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)).reshape(gx.shape)
    ax.contourf(gx.numpy(), gy.numpy(), logp.clamp(min=-12).numpy(), levels=20, cmap="Blues")
    if samples is not None:
        pts = samples.detach().to("cpu", torch.float64)
        ax.scatter(pts[:, 0].numpy(), pts[:, 1].numpy(), s=s, color=color, alpha=0.6, linewidths=0)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
