"""course.vae: the fixed VAE of chapter 12 and the digit pictures."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from course.vae import DigitsVAE, show_digits  # noqa: E402


def test_shapes_and_seeded_weights():
    a = DigitsVAE(64, 16, 3, generator=torch.Generator().manual_seed(0))
    b = DigitsVAE(64, 16, 3, generator=torch.Generator().manual_seed(0))
    c = DigitsVAE(64, 16, 3, generator=torch.Generator().manual_seed(1))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.enc1.weight, c.enc1.weight)
    mu, logvar = a.encode(torch.rand(5, 64))
    assert mu.shape == logvar.shape == (5, 3)
    assert a.decode(mu).shape == (5, 64)


def test_rebuilt_from_its_state_dict_in_float64():
    model = DigitsVAE(64, 16, 3, generator=torch.Generator().manual_seed(2))
    again = DigitsVAE.from_state_dict(model.state_dict(), dtype=torch.float64)
    assert (again.n_pixels, again.hidden, again.latent_dim) == (64, 16, 3)
    x = torch.rand(4, 64)
    torch.testing.assert_close(again.decode(again.encode(x.double())[0]).float(), model.decode(model.encode(x)[0]),
                               rtol=1e-5, atol=1e-5)


def test_show_digits_draws_a_grid():
    fig, ax = plt.subplots()
    show_digits(ax, torch.rand(10, 64), n_cols=5, title="ten")
    image = ax.get_images()[0].get_array()
    assert image.shape == (2 * 9 - 1, 5 * 9 - 1)
    assert ax.get_title() == "ten"
    plt.close(fig)
