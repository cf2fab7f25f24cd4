"""The toy sequence task of chapter 09: reverse a short sequence of tokens.

* :func:`reversal_data` — random token sequences (the targets are the same sequences read backwards).
* :func:`init_reverser_params` — the initial parameters of the chapter's tiny one-block Transformer, as a
  dict of tensors that require gradients. The layout is fixed so that a trained model is fully described by
  this dict, which is how the course grades it.

Nothing here trains or runs the model: the forward pass is built from the student's own pieces in the
notebook, and the training loop is the student's.
"""
from __future__ import annotations

import math

import torch

__all__ = ["REVERSER", "reversal_data", "init_reverser_params"]

REVERSER = {"vocab": 8, "length": 6, "width": 32, "heads": 2, "ff": 64}
"""The task's sizes: 8 token values, sequences of 6 tokens, model width 32, 2 heads, feed-forward width 64."""


def reversal_data(n, generator, length=REVERSER["length"], vocab=REVERSER["vocab"]):
    """``n`` random sequences of ``length`` tokens drawn uniformly from ``0..vocab-1``.

    Args:
        n: number of sequences.
        generator: a ``torch.Generator`` (same generator state, same sequences).
        length: tokens per sequence.
        vocab: number of token values.

    Returns:
        int64 tensor of shape ``(n, length)``; its targets are ``tokens.flip(1)``.

    Example:
        >>> reversal_data(2, torch.Generator().manual_seed(0)).shape
        torch.Size([2, 6])
    """
    return torch.randint(0, vocab, (n, length), generator=generator)


def init_reverser_params(generator, vocab=REVERSER["vocab"], width=REVERSER["width"], ff=REVERSER["ff"],
                         dtype=torch.float32):
    """Initial parameters of the reverser, every tensor a leaf that requires gradients.

    Keys: ``"embed"`` ``(vocab, E)`` (the token embeddings), ``"head.weight"`` ``(vocab, E)`` and
    ``"head.bias"`` ``(vocab,)`` (the output layer), and the Transformer block's parameters under the keys of
    ``nn.TransformerEncoderLayer.state_dict()`` prefixed with ``"block."`` (``"block.self_attn.in_proj_weight"``
    ``(3E, E)``, ..., ``"block.norm2.bias"`` ``(E,)``).

    Args:
        generator: a ``torch.Generator`` for the random weights.
        vocab, width, ff: number of token values, model width E, feed-forward width.
        dtype: floating dtype of the parameters.

    Returns:
        dict of tensors with ``requires_grad=True``.
    """
    def rand(*shape, fan_in):
        return torch.randn(*shape, generator=generator, dtype=dtype) / math.sqrt(fan_in)

    e = width
    params = {
        "embed": 0.5 * torch.randn(vocab, e, generator=generator, dtype=dtype),
        "block.self_attn.in_proj_weight": rand(3 * e, e, fan_in=e),
        "block.self_attn.in_proj_bias": torch.zeros(3 * e, dtype=dtype),
        "block.self_attn.out_proj.weight": rand(e, e, fan_in=e),
        "block.self_attn.out_proj.bias": torch.zeros(e, dtype=dtype),
        "block.linear1.weight": rand(ff, e, fan_in=e),
        "block.linear1.bias": torch.zeros(ff, dtype=dtype),
        "block.linear2.weight": rand(e, ff, fan_in=ff),
        "block.linear2.bias": torch.zeros(e, dtype=dtype),
        "block.norm1.weight": torch.ones(e, dtype=dtype),
        "block.norm1.bias": torch.zeros(e, dtype=dtype),
        "block.norm2.weight": torch.ones(e, dtype=dtype),
        "block.norm2.bias": torch.zeros(e, dtype=dtype),
        "head.weight": rand(vocab, e, fan_in=e),
        "head.bias": torch.zeros(vocab, dtype=dtype),
    }
    return {name: t.requires_grad_() for name, t in params.items()}
