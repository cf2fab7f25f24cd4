"""The character-level language model task of chapter 08 (RNNs, LSTMs, GRUs): its data and its measure.

* :func:`split_village_tales` — the ``village_tales`` corpus as character ids, cut into the part the
  notebook trains on (the first 80%) and the part it validates on (the next 10%). The last 10% is kept for
  grading and is not returned.
* :func:`char_lm_perplexity` — the perplexity of a one-hot-input LSTM language model given by its weights
  (``Wx (V, 4H)``, ``Wh (H, 4H)``, ``b (4H,)``, ``Wy (H, V)``, ``by (V,)``, LSTM gates in torch's order
  i, f, g, o), computed in float64 with ``torch.nn.LSTM``, independently of the notebook's own code.
"""
from __future__ import annotations

import math

import torch

from course.text import CharVocab, char_vocab, load_corpus

__all__ = ["split_village_tales", "char_lm_perplexity"]

PARAM_NAMES = ("Wx", "Wh", "b", "Wy", "by")


def split_village_tales() -> tuple[CharVocab, torch.Tensor, torch.Tensor]:
    """``(vocab, train_ids, valid_ids)``: the first 80% and the next 10% of ``village_tales`` as ids.

    Example:
        >>> vocab, train_ids, valid_ids = split_village_tales()
        >>> len(vocab), train_ids.dtype, len(valid_ids) < len(train_ids)
        (61, torch.int64, True)
    """
    text = load_corpus("village_tales")
    vocab = char_vocab(text)
    ids = vocab.encode(text)
    n_train, n_valid = int(0.8 * len(ids)), int(0.9 * len(ids))
    return vocab, ids[:n_train], ids[n_train:n_valid]


def char_lm_perplexity(params: dict, ids: torch.Tensor, chunk: int = 64) -> float:
    """exp(mean cross-entropy) of the next-character predictions of the model ``params`` on ``ids``.

    The text is cut into consecutive chunks of ``chunk + 1`` ids (overlapping by one); each chunk is read
    from zero hidden and cell states, and its ``chunk`` next characters are predicted.

    Args:
        params: dict of tensors ``Wx (V, 4H)``, ``Wh (H, 4H)``, ``b (4H,)``, ``Wy (H, V)``, ``by (V,)``.
        ids: 1-D ``torch.long`` tensor with at least ``chunk + 1`` ids below ``V``.
        chunk: the number of predictions per chunk.

    Returns:
        the perplexity as a Python float (1 is perfect, ``V`` a uniform guess).

    Example:
        >>> V, H = 3, 2
        >>> zero = {"Wx": torch.zeros(V, 4 * H), "Wh": torch.zeros(H, 4 * H), "b": torch.zeros(4 * H),
        ...         "Wy": torch.zeros(H, V), "by": torch.zeros(V)}
        >>> round(char_lm_perplexity(zero, torch.arange(30) % V, chunk=8), 6)
        3.0
    """
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise KeyError(f"the model lacks {', '.join(map(repr, missing))}")
    p = {k: torch.as_tensor(params[k]).detach().to("cpu", torch.float64) for k in PARAM_NAMES}
    V, H = p["Wx"].shape[0], p["Wh"].shape[0]
    n = (len(ids) - 1) // chunk
    if n < 1:
        raise ValueError(f"need at least {chunk + 1} ids, got {len(ids)}")
    x, y = ids[: n * chunk].reshape(n, chunk), ids[1: n * chunk + 1].reshape(n, chunk)
    lstm = torch.nn.LSTM(V, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(p["Wx"].T)
        lstm.weight_hh_l0.copy_(p["Wh"].T)
        lstm.bias_ih_l0.copy_(p["b"])
        lstm.bias_hh_l0.zero_()
        h, _ = lstm(torch.nn.functional.one_hot(x, V).to(torch.float64))
        logits = h @ p["Wy"] + p["by"]
        nll = torch.nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
    return math.exp(float(nll))
