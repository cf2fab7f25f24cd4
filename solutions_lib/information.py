"""Entropy, KL divergence, Fisher information, maximum entropy, SNE affinities, Markov sources, codes (chapter 02).

Conventions of chapter 02 (Entropy, KL, Fisher, mutual information):

* logarithms are natural (nats) unless a ``base`` is given (``base=2`` gives bits);
* ``0 log 0 = 0`` and ``0 log(0/q) = 0``: outcomes of probability zero under ``p`` contribute nothing;
* ``kl_divergence(p, q)`` is :math:`D(p\\|q) = \\sum_i p_i \\log(p_i/q_i)`, the expectation under the
  *first* argument; it is ``+inf`` when ``q`` puts zero mass where ``p`` does not;
* a Markov chain's transition matrix is row-stochastic, ``A[i, j] = P(next = j | now = i)``, so the
  stationary distribution is a *left* eigenvector, :math:`\\pi A = \\pi`.

Signatures carry no annotations, so that they are identical to the ones the notebook asks for.
"""
from __future__ import annotations

import heapq
import itertools
import math

import torch

__all__ = [
    "entropy",
    "log_count_per_symbol",
    "distribution_cross_entropy",
    "kl_divergence",
    "normal_cross_entropy",
    "normal_kl",
    "conditional_entropy",
    "mutual_information",
    "normal_fisher",
    "fisher_from_kl",
    "max_entropy_distribution",
    "sne_affinities",
    "stationary_distribution",
    "entropy_rate",
    "huffman_code_lengths",
    "fit_block_code",
    "reverse_kl_answer",
    "perplexity_answer",
    "block_code_answer",
]


def entropy(p, base=math.e, dim=-1):
    r"""Shannon entropy :math:`H(p) = -\sum_i p_i \log p_i` along ``dim``, with ``0 log 0 = 0``.

    Introduced in chapter 02 (Entropy, KL, Fisher, mutual information).

    Args:
        p: probabilities, shape ``(..., n, ...)``, summing to 1 along ``dim``.
        base: base of the logarithm (default ``e``: nats; ``2``: bits).
        dim: the dimension that holds the outcomes (default: the last one).

    Returns:
        Entropy, shape of ``p`` without ``dim``; dtype and device of ``p``.

    Example::

        >>> entropy(torch.tensor([0.5, 0.5]), base=2)
        tensor(1.)
    """
    return -torch.xlogy(p, p).sum(dim=dim) / math.log(base)


def log_count_per_symbol(n, k):
    r"""The counting entropy :math:`\frac1n \log \binom{n}{k}` in nats, through ``lgamma``.

    Introduced in chapter 02. It is the log of the number of binary strings of length ``n`` with ``k``
    ones, per symbol; as ``n`` grows with ``k/n = p`` fixed it tends to the binary entropy ``H(p)``.

    Args:
        n: string lengths (tensor, integer or floating), ``n >= 1``.
        k: numbers of ones, ``0 <= k <= n``, broadcastable against ``n``.

    Returns:
        float64 tensor of the broadcast shape.

    Example::

        >>> log_count_per_symbol(torch.tensor(4), torch.tensor(2))  # log(6) / 4
        tensor(0.4479, dtype=torch.float64)
    """
    n = torch.as_tensor(n).to(torch.float64)
    k = torch.as_tensor(k).to(torch.float64)
    return (torch.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)) / n


def distribution_cross_entropy(p, q, base=math.e, dim=-1):
    r"""Cross-entropy :math:`H(p, q) = -\sum_i p_i \log q_i` along ``dim`` (``0 log q = 0``).

    Introduced in chapter 02. ``+inf`` where ``q_i = 0 < p_i``.

    Args:
        p: the distribution the expectation is over, shape ``(..., n)`` (``n`` along ``dim``).
        q: the model distribution, broadcastable against ``p``.
        base: base of the logarithm (default ``e``: nats).
        dim: the dimension that holds the outcomes.

    Returns:
        tensor of the broadcast shape without ``dim``.

    Example::

        >>> distribution_cross_entropy(torch.tensor([1.0, 0.0]), torch.tensor([0.5, 0.5]), base=2)
        tensor(1.)
    """
    return -torch.xlogy(p, q).sum(dim=dim) / math.log(base)


def kl_divergence(p, q, base=math.e, dim=-1):
    r"""KL divergence :math:`D(p\|q) = \sum_i p_i \log(p_i / q_i)` along ``dim``.

    Introduced in chapter 02. Terms with ``p_i = 0`` are 0 (whatever ``q_i``); a term with
    ``p_i > 0 = q_i`` makes the divergence ``+inf``.

    Args:
        p: the first argument (the expectation is over ``p``), shape ``(..., n)``.
        q: the second argument, broadcastable against ``p``.
        base: base of the logarithm (default ``e``: nats).
        dim: the dimension that holds the outcomes.

    Returns:
        tensor of the broadcast shape without ``dim``, ``>= 0``.

    Example::

        >>> kl_divergence(torch.tensor([0.5, 0.5]), torch.tensor([0.25, 0.75]), base=2)
        tensor(0.2075)
    """
    return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum(dim=dim) / math.log(base)


def normal_cross_entropy(mu_p, var_p, mu_q, var_q):
    r"""Cross-entropy :math:`\mathbb E_{x\sim\mathcal N(\mu_p,\sigma_p^2)}[-\log \mathcal N(x;\mu_q,\sigma_q^2)]` in nats.

    Introduced in chapter 02. Equals :math:`\frac12\log(2\pi\sigma_q^2) + \frac{\sigma_p^2 + (\mu_p-\mu_q)^2}{2\sigma_q^2}`.

    Args:
        mu_p, var_p: mean and variance of p (tensors).
        mu_q, var_q: mean and variance of q; all four broadcast against each other.

    Returns:
        tensor of the broadcast shape.

    Example::

        >>> normal_cross_entropy(torch.tensor(0.0), torch.tensor(1.0), torch.tensor(0.0), torch.tensor(1.0))
        tensor(1.4189)
    """
    return 0.5 * torch.log(2 * math.pi * var_q) + (var_p + (mu_p - mu_q) ** 2) / (2 * var_q)


def normal_kl(mu_p, var_p, mu_q, var_q):
    r""":math:`D(\mathcal N(\mu_p,\sigma_p^2)\,\|\,\mathcal N(\mu_q,\sigma_q^2))` in nats, in closed form.

    Introduced in chapter 02. Equals :math:`\frac12\big[\log\frac{\sigma_q^2}{\sigma_p^2} + \frac{\sigma_p^2 + (\mu_p-\mu_q)^2}{\sigma_q^2} - 1\big]`.

    Args:
        mu_p, var_p: mean and variance of the first argument (tensors).
        mu_q, var_q: mean and variance of the second; all four broadcast.

    Returns:
        tensor of the broadcast shape.

    Example::

        >>> normal_kl(torch.tensor(0.0), torch.tensor(1.0), torch.tensor(1.0), torch.tensor(1.0))
        tensor(0.5000)
    """
    return 0.5 * (torch.log(var_q / var_p) + (var_p + (mu_p - mu_q) ** 2) / var_q - 1)


def conditional_entropy(joint, base=math.e):
    r"""Conditional entropy :math:`H(X\mid Y) = -\sum_{x,y} p(x,y)\log p(x\mid y)` of a joint table.

    Introduced in chapter 02. Rows index ``x``, columns ``y``; the table holds counts or probabilities
    (normalized first); empty cells contribute 0. Equals :math:`H(X,Y) - H(Y)`.

    Args:
        joint: non-negative floating tensor ``(nx, ny)`` with a positive sum.
        base: base of the logarithm (default ``e``: nats).

    Returns:
        0-d tensor, dtype of ``joint``.

    Example::

        >>> conditional_entropy(torch.tensor([[0.25, 0.25], [0.25, 0.25]]), base=2)
        tensor(1.)
    """
    p = joint / joint.sum()
    py = p.sum(dim=0, keepdim=True)
    return -(torch.xlogy(p, p) - torch.xlogy(p, py)).sum() / math.log(base)


def mutual_information(joint, base=math.e):
    r"""Mutual information :math:`I(X;Y) = \sum_{x,y} p(x,y)\log\frac{p(x,y)}{p(x)p(y)}` of a joint table.

    Introduced in chapter 02. The table holds counts or probabilities (it is normalized first);
    rows index ``x``, columns ``y``; empty cells contribute 0.

    Args:
        joint: non-negative tensor of shape ``(nx, ny)`` with a positive sum.
        base: base of the logarithm (default ``e``: nats).

    Returns:
        0-d tensor, dtype of ``joint``.

    Example::

        >>> mutual_information(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), base=2)
        tensor(1.)
    """
    p = joint / joint.sum()
    px = p.sum(dim=1, keepdim=True)
    py = p.sum(dim=0, keepdim=True)
    return (torch.xlogy(p, p) - torch.xlogy(p, px * py)).sum() / math.log(base)


_FISHER_SECOND = {"sigma": lambda s: 2 / s**2, "var": lambda s: 1 / (2 * s**4), "log_sigma": lambda s: 2 + 0 * s}


def normal_fisher(sigma, param="sigma"):
    r"""Fisher information matrix of :math:`\mathcal N(\mu, \sigma^2)` in the parameters ``(mu, second)``.

    Introduced in chapter 02. The second parameter is ``sigma`` (``param="sigma"``), the variance
    ``sigma**2`` (``"var"``) or ``log(sigma)`` (``"log_sigma"``). The matrix does not depend on ``mu``
    and is diagonal: ``1/sigma**2`` for ``mu`` and ``2/sigma**2``, ``1/(2 sigma**4)`` or ``2``.

    Args:
        sigma: standard deviations, tensor of any shape ``S``.
        param: which second parameter, ``"sigma"``, ``"var"`` or ``"log_sigma"``; anything else
            raises ``ValueError``.

    Returns:
        tensor of shape ``S + (2, 2)``, dtype of ``sigma``.

    Example::

        >>> normal_fisher(torch.tensor(1.0))
        tensor([[1., 0.],
                [0., 2.]])
    """
    if param not in _FISHER_SECOND:
        raise ValueError(f"param must be 'sigma', 'var' or 'log_sigma', got {param!r}")
    out = sigma.new_zeros(sigma.shape + (2, 2))
    out[..., 0, 0] = 1 / sigma**2
    out[..., 1, 1] = _FISHER_SECOND[param](sigma)
    return out


def fisher_from_kl(kl, theta0):
    r"""The Fisher matrix as the Hessian of :math:`\theta \mapsto D(q_{\theta_0}\|q_\theta)` at :math:`\theta_0`.

    Introduced in chapter 02 (by autograd). Only the second argument of ``kl`` varies.

    Args:
        kl: function ``kl(theta_a, theta_b)`` returning the 0-d tensor :math:`D(q_{\theta_a}\|q_{\theta_b})`.
        theta0: parameters, float tensor of shape ``(D,)``.

    Returns:
        tensor of shape ``(D, D)``, dtype of ``theta0``.

    Example::

        >>> kl = lambda a, b: 0.5 * ((a - b) ** 2).sum()
        >>> fisher_from_kl(kl, torch.zeros(2))
        tensor([[1., 0.],
                [0., 1.]])
    """
    fixed = theta0.detach()
    return torch.autograd.functional.hessian(lambda theta: kl(fixed, theta), fixed.clone())


def max_entropy_distribution(features, moments, tol=1e-10, max_iter=100):
    r"""The maximum-entropy distribution on ``n`` points with prescribed feature means.

    Introduced in chapter 02. Maximizes :math:`H(p)` subject to :math:`\sum_i p_i f_k(x_i) = m_k`; the
    solution is :math:`p_i \propto \exp(\sum_k \lambda_k f_k(x_i))` with :math:`\lambda` the minimizer of the
    convex dual :math:`\log\sum_i e^{\lambda\cdot f_i} - \lambda\cdot m`, found by damped Newton steps
    (gradient: feature means minus targets; Hessian: feature covariance under ``p``).

    Args:
        features: tensor ``(n, K)``, ``features[i, k] = f_k(x_i)`` (linearly independent columns).
        moments: tensor ``(K,)`` of targets, strictly inside the range the features allow.
        tol: stop once every feature mean is within ``tol`` of its target.
        max_iter: most Newton steps.

    Returns:
        p: tensor ``(n,)``, dtype of ``features``.

    Example::

        >>> max_entropy_distribution(torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64),
        ...                          torch.tensor([2.0], dtype=torch.float64))
        tensor([0.3333, 0.3333, 0.3333], dtype=torch.float64)
    """
    f = features.to(torch.float64)
    m = moments.to(torch.float64)
    lam = torch.zeros(f.shape[1], dtype=torch.float64, device=f.device)

    def dual(lam):
        return torch.logsumexp(f @ lam, dim=0) - lam @ m

    for _ in range(max_iter):
        p = torch.softmax(f @ lam, dim=0)
        mean = p @ f
        grad = mean - m
        if grad.abs().max() <= tol:
            break
        centred = f - mean
        hess = centred.T @ (p[:, None] * centred)
        step = torch.linalg.lstsq(hess, grad[:, None]).solution[:, 0]
        t, current = 1.0, dual(lam)
        while dual(lam - t * step) > current - 0.25 * t * (grad @ step) and t > 1e-12:
            t *= 0.5
        lam = lam - t * step
    return torch.softmax(f @ lam, dim=0).to(features.dtype)


def sne_affinities(x, perplexity, tol=1e-5, max_iter=200):
    r"""SNE's conditional affinities :math:`p_{j|i}` with each bandwidth tuned to a target perplexity.

    Introduced in chapter 02. Row ``i`` is :math:`p_{j|i} \propto \exp(-\|x_i - x_j\|^2 / (2\sigma_i^2))`
    over ``j != i`` (``p_{i|i} = 0``); :math:`\sigma_i` is found by bisection (in :math:`\log\sigma`) so that
    the perplexity :math:`2^{H_2(P_i)} = e^{H(P_i)}` equals ``perplexity``. These are SNE's conditional
    affinities; t-SNE later symmetrizes them into :math:`p_{ij} = (p_{j|i} + p_{i|j})/2n`.

    Args:
        x: points, tensor ``(n, D)``, ``n >= 3``, no two equal.
        perplexity: target, ``1 < perplexity < n - 1``.
        tol: relative tolerance on each row's perplexity.
        max_iter: most bisection steps.

    Returns:
        (P, sigma): ``P`` of shape ``(n, n)`` with rows summing to 1 and a zero diagonal, ``sigma`` of
        shape ``(n,)``; dtype of ``x``.

    Example::

        >>> P, sigma = sne_affinities(torch.tensor([[0.0], [1.0], [3.0]], dtype=torch.float64), 1.5)
        >>> P.sum(dim=1)
        tensor([1., 1., 1.], dtype=torch.float64)
    """
    x64 = x.to(torch.float64)
    d2 = torch.cdist(x64, x64) ** 2
    n = x.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=x.device)
    d2 = d2.masked_fill(eye, float("inf"))
    shifted = d2 - d2.min(dim=1, keepdim=True).values       # the nearest neighbour at 0: no underflow
    target = math.log(perplexity)
    finite = d2.masked_fill(eye, 0.0)
    lo = torch.log(d2.min(dim=1).values.sqrt()) - 20.0
    hi = torch.log(finite.max(dim=1).values.sqrt()) + 20.0

    def rows(log_sigma):
        logits = -shifted / (2 * torch.exp(2 * log_sigma))[:, None]
        P = torch.softmax(logits, dim=1)
        return P, -torch.xlogy(P, P).sum(dim=1)

    for _ in range(max_iter):
        mid = (lo + hi) / 2
        P, H = rows(mid)
        if torch.all((torch.exp(H) - perplexity).abs() <= tol * perplexity):
            break
        too_wide = H > target
        hi = torch.where(too_wide, mid, hi)
        lo = torch.where(too_wide, lo, mid)
    P, _ = rows(mid)
    return P.to(x.dtype), torch.exp(mid).to(x.dtype)


def stationary_distribution(A):
    r"""Stationary distribution :math:`\pi` of a row-stochastic transition matrix: :math:`\pi A = \pi`.

    Introduced in chapter 02. :math:`\pi` is a *left* eigenvector of ``A`` (an eigenvector of
    ``A.T``) for the eigenvalue 1, scaled to sum to 1. (The right eigenvector of a row-stochastic
    matrix for eigenvalue 1 is the constant vector, whatever the chain.)

    Args:
        A: tensor ``(S, S)``, ``A[i, j] = P(next = j | now = i)``, rows summing to 1, irreducible.

    Returns:
        tensor ``(S,)``, non-negative, summing to 1; dtype of ``A``.

    Example::

        >>> stationary_distribution(torch.tensor([[0.9, 0.1], [0.5, 0.5]], dtype=torch.float64))
        tensor([0.8333, 0.1667], dtype=torch.float64)
    """
    S = A.shape[0]
    a = A.to(torch.float64)
    # pi (A - I) = 0 with sum(pi) = 1: replace one equation of the singular system by the normalization
    system = (a - torch.eye(S, dtype=torch.float64, device=A.device)).T.clone()
    system[-1] = 1.0
    rhs = torch.zeros(S, dtype=torch.float64, device=A.device)
    rhs[-1] = 1.0
    return torch.linalg.solve(system, rhs).clamp(min=0).to(A.dtype)


def entropy_rate(A, base=math.e):
    r"""Entropy rate :math:`H_r = -\sum_i \pi_i \sum_j A_{ij}\log A_{ij}` of a stationary Markov chain.

    Introduced in chapter 02: the entropy of the next state given the current one, averaged over the
    stationary distribution (``0 log 0 = 0``).

    Args:
        A: row-stochastic tensor ``(S, S)``, irreducible.
        base: base of the logarithm (default ``e``: nats; ``2``: bits per symbol).

    Returns:
        0-d tensor, dtype of ``A``.

    Example::

        >>> entropy_rate(torch.full((2, 2), 0.5), base=2)
        tensor(1.)
    """
    pi = stationary_distribution(A)
    return -(pi * torch.xlogy(A, A).sum(dim=1)).sum() / math.log(base)


def huffman_code_lengths(p):
    r"""Codeword lengths of a binary Huffman code for weights ``p``.

    Introduced in chapter 02. Repeatedly merges the two lightest subtrees; every merge adds one bit to
    each symbol below it. The lengths satisfy Kraft's equality :math:`\sum_i 2^{-\ell_i} = 1` and give the
    smallest expected length :math:`\sum_i p_i \ell_i` of any prefix code.

    Args:
        p: non-negative weights, tensor ``(n,)`` with ``n >= 2`` (they need not sum to 1).

    Returns:
        int64 tensor ``(n,)`` of lengths, each ``>= 1``, on ``p``'s device.

    Example::

        >>> huffman_code_lengths(torch.tensor([0.5, 0.25, 0.125, 0.125]))
        tensor([1, 2, 3, 3])
    """
    weights = [float(w) for w in p.detach().cpu().reshape(-1)]
    lengths = [0] * len(weights)
    tie = itertools.count()
    heap = [(w, next(tie), [i]) for i, w in enumerate(weights)]
    heapq.heapify(heap)
    while len(heap) > 1:
        w1, _, s1 = heapq.heappop(heap)
        w2, _, s2 = heapq.heappop(heap)
        for i in s1 + s2:
            lengths[i] += 1
        heapq.heappush(heap, (w1 + w2, next(tie), s1 + s2))
    return torch.tensor(lengths, dtype=torch.int64, device=p.device)


def _block_probabilities(A, block_size):
    """P(block | previous symbol) for a Markov chain: tensor (S, S**block_size), first symbol most significant."""
    probs = A.clone()                                  # (S, S): blocks of one symbol
    S = A.shape[0]
    for _ in range(block_size - 1):
        # extend every block by one symbol: P(b, s | c) = P(b | c) A[last(b), s]
        last = torch.arange(probs.shape[1], device=A.device) % S
        probs = (probs[:, :, None] * A[last][None, :, :]).reshape(S, -1)
    return probs


def fit_block_code(train, n_symbols):
    r"""A prefix code for a Markov source, fitted on ``train``: blocks coded given the previous symbol.

    Introduced in chapter 02 (the make-it-work task). Estimates the transition matrix from the pair
    counts of ``train`` (add-1/2 smoothing), then, for the block size up to 8 (and at most 4096 blocks) with the shortest
    estimated bits per symbol, gives each context (the symbol just before a block) its own Huffman
    code over the ``n_symbols ** block_size`` possible blocks.

    Args:
        train: int64 tensor ``(N,)`` of symbols in ``[0, n_symbols)``.
        n_symbols: alphabet size.

    Returns:
        (block_size, lengths): an int in ``1..8`` (with ``n_symbols**block_size <= 4096``) and an int64 tensor ``(n_symbols, n_symbols**block_size)``;
        ``lengths[c, b]`` is the length of block ``b`` (base-``n_symbols`` digits, first symbol most
        significant) after the symbol ``c``.

    Example::

        >>> block_size, lengths = fit_block_code(torch.tensor([0, 1] * 50), 2)
        >>> lengths.shape == (2, 2 ** block_size)
        True
    """
    counts = torch.full((n_symbols, n_symbols), 0.5, dtype=torch.float64, device=train.device)
    pairs = train[:-1] * n_symbols + train[1:]
    counts += torch.bincount(pairs, minlength=n_symbols**2).reshape(n_symbols, n_symbols).to(torch.float64)
    A = counts / counts.sum(dim=1, keepdim=True)
    pi = stationary_distribution(A)
    best = None
    for block_size in range(1, 9):
        if n_symbols**block_size > 4096:
            break
        probs = _block_probabilities(A, block_size)
        lengths = torch.stack([huffman_code_lengths(row) for row in probs])
        bits = float((pi[:, None] * probs * lengths).sum()) / block_size
        if best is None or bits < best[0] - 1e-12:
            best = (bits, block_size, lengths)
    return best[1], best[2]


def reverse_kl_answer():
    """Concept question of chapter 02: a Gaussian fitted to a two-mode posterior by minimizing D(q || p).

    Example::

        >>> reverse_kl_answer()
        'b'
    """
    return "b"


def perplexity_answer():
    """Concept question of chapter 02: the perplexity of a row whose entropy is 3 nats.

    Example::

        >>> perplexity_answer()
        'b'
    """
    return "b"


def block_code_answer():
    """Concept question of chapter 02: the best a context-free symbol code can do on a Markov source.

    Example::

        >>> block_code_answer()
        'c'
    """
    return "c"
