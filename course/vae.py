"""The small variational autoencoder of chapter 12, and pictures of digits.

* :class:`DigitsVAE` — a fixed two-layer encoder and decoder for the 8x8 digits (64 pixels). The
  encoder maps an image to the mean and log-variance of a diagonal Gaussian over the latent space, the
  decoder maps a latent vector to 64 Bernoulli logits. The architecture is fixed so that a trained model
  is fully described by its ``state_dict``, which is how the course grades a trained VAE.
* :func:`show_digits` — a row or grid of 8x8 images on a matplotlib axis.

Nothing here trains anything: the training loop is the student's.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["DigitsVAE", "show_digits"]


class DigitsVAE(nn.Module):
    """Encoder ``x -> (mu, logvar)`` and decoder ``z -> logits`` for images with ``n_pixels`` pixels.

    encoder: ``Linear(n_pixels, hidden) -> tanh -> Linear(hidden, 2 * latent_dim)``, split into the mean and
    the log-variance of q(z|x); decoder: ``Linear(latent_dim, hidden) -> tanh -> Linear(hidden, n_pixels)``,
    the logits of independent Bernoulli pixels (``sigmoid(logits)`` is the mean image).

    Args:
        n_pixels: the data dimension (64 for the 8x8 digits).
        hidden: the width of the hidden layers.
        latent_dim: the dimension of z.
        generator: a ``torch.Generator`` for the initial weights (same generator, same weights).
        dtype: the parameters' dtype.

    Example:
        >>> vae = DigitsVAE(64, 32, 2, generator=torch.Generator().manual_seed(0))
        >>> mu, logvar = vae.encode(torch.rand(5, 64))
        >>> tuple(mu.shape), tuple(vae.decode(mu).shape)
        ((5, 2), (5, 64))
    """

    def __init__(self, n_pixels: int = 64, hidden: int = 128, latent_dim: int = 2,
                 generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.n_pixels, self.hidden, self.latent_dim = int(n_pixels), int(hidden), int(latent_dim)
        self.enc1 = nn.Linear(n_pixels, hidden, dtype=dtype)
        self.enc2 = nn.Linear(hidden, 2 * latent_dim, dtype=dtype)
        self.dec1 = nn.Linear(latent_dim, hidden, dtype=dtype)
        self.dec2 = nn.Linear(hidden, n_pixels, dtype=dtype)
        if generator is not None:
            with torch.no_grad():
                for layer in (self.enc1, self.enc2, self.dec1, self.dec2):
                    bound = layer.in_features ** -0.5  # torch's default uniform range, drawn from the generator
                    layer.weight.copy_(torch.rand(layer.weight.shape, generator=generator, dtype=dtype) * 2 * bound - bound)
                    layer.bias.copy_(torch.rand(layer.bias.shape, generator=generator, dtype=dtype) * 2 * bound - bound)

    @classmethod
    def from_state_dict(cls, state: dict, dtype: torch.dtype = torch.float32) -> "DigitsVAE":
        """Rebuild a model from a ``state_dict`` (its sizes are read from the weights' shapes)."""
        shapes = {k: tuple(v.shape) for k, v in state.items()}
        hidden, n_pixels = shapes["enc1.weight"]
        latent_dim = shapes["dec1.weight"][1]
        model = cls(n_pixels, hidden, latent_dim, dtype=dtype)
        model.load_state_dict({k: torch.as_tensor(v).to(dtype) for k, v in state.items()}, strict=True)
        return model

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)`` of q(z|x), each ``(N, latent_dim)``, for images ``x`` of shape ``(N, n_pixels)``."""
        h = torch.tanh(self.enc1(x))
        mu, logvar = self.enc2(h).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits ``(N, n_pixels)`` of p(x|z) for latent vectors ``z`` of shape ``(N, latent_dim)``."""
        return self.dec2(torch.tanh(self.dec1(z)))


def show_digits(ax, images, n_cols: int | None = None, title: str | None = None) -> None:
    """Draw images of 64 pixels (a tensor or array ``(N, 64)``) as a grid on ``ax``.

    Args:
        ax: a matplotlib axis.
        images: ``(N, 64)`` values in ``[0, 1]``.
        n_cols: images per row (default: all in one row).
        title: the axis title.
    """
    import numpy as np

    imgs = images.detach().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)
    imgs = imgs.reshape(-1, 8, 8)
    n = imgs.shape[0]
    n_cols = n if n_cols is None else int(n_cols)
    n_rows = -(-n // n_cols)
    canvas = np.full((n_rows * 9 - 1, n_cols * 9 - 1), 0.7)  # grey lines between the images
    for i in range(n):
        r, c = divmod(i, n_cols)
        canvas[r * 9:r * 9 + 8, c * 9:c * 9 + 8] = 1.0 - imgs[i]
    ax.imshow(canvas, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
