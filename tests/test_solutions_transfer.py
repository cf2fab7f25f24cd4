"""solutions_lib.transfer (chapter 19) against loops, closed forms, scipy's KS statistic and autograd, in float64."""
from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from course.transfer import domain_split, small_cnn
from solutions_lib import transfer

F64 = torch.float64


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _k(a, b, sigma):
    return math.exp(-float(((a - b) ** 2).sum()) / (2 * sigma ** 2))


def test_freeze_and_replace_head_copies_freezes_and_leaves_the_model_alone():
    net = small_cnn(5, seed=0)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    new = transfer.freeze_and_replace_head(net, 3)
    x = torch.rand(4, 64)
    assert new(x).shape == (4, 3)
    assert [p.requires_grad for p in new.parameters()] == [False] * 6 + [True, True]
    torch.testing.assert_close(new[:-1](x), net[:-1](x))
    assert all(p.requires_grad for p in net.parameters()) and net[-1].out_features == 5
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    # training the new network changes only its head
    opt = torch.optim.SGD([p for p in new.parameters() if p.requires_grad], lr=0.1)
    body_before = [p.clone() for p in new[:-1].parameters()]
    F.cross_entropy(new(x), torch.tensor([0, 1, 2, 0])).backward()
    opt.step()
    assert all(torch.equal(a, b) for a, b in zip(body_before, new[:-1].parameters()))
    no_bias = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2, bias=False)).double()
    head = transfer.freeze_and_replace_head(no_bias, 6)[-1]
    assert head.bias is None and head.weight.dtype == F64 and head.weight.shape == (6, 4)


def test_mmd_estimates_against_double_loops():
    g = _gen(0)
    X, Y = torch.randn(5, 3, generator=g, dtype=F64), torch.randn(7, 3, generator=g, dtype=F64) + 0.5
    sigma = 1.3
    kxx = [[_k(a, b, sigma) for b in X] for a in X]
    kyy = [[_k(a, b, sigma) for b in Y] for a in Y]
    kxy = sum(_k(a, b, sigma) for a in X for b in Y) / 35
    biased = sum(map(sum, kxx)) / 25 + sum(map(sum, kyy)) / 49 - 2 * kxy
    unbiased = (sum(kxx[i][j] for i in range(5) for j in range(5) if i != j) / 20
                + sum(kyy[i][j] for i in range(7) for j in range(7) if i != j) / 42 - 2 * kxy)
    torch.testing.assert_close(transfer.mmd2_biased(X, Y, sigma), torch.tensor(biased, dtype=F64))
    torch.testing.assert_close(transfer.mmd2_unbiased(X, Y, sigma), torch.tensor(unbiased, dtype=F64))


def test_biased_mmd_is_the_notes_trace_form():
    g = _gen(1)
    X, Y = torch.randn(4, 2, generator=g, dtype=F64), torch.randn(6, 2, generator=g, dtype=F64)
    Z = torch.cat([X, Y])
    K = torch.exp(-torch.cdist(Z, Z) ** 2 / 2)
    L = torch.empty(10, 10, dtype=F64)
    L[:4, :4], L[4:, 4:], L[:4, 4:], L[4:, :4] = 1 / 16, 1 / 36, -1 / 24, -1 / 24
    torch.testing.assert_close(transfer.mmd2_biased(X, Y, 1.0), torch.trace(K @ L))


def test_unbiased_mmd_is_unbiased_on_average():
    """Over many pairs of samples of one distribution the unbiased estimate averages 0, the biased one does not."""
    g = _gen(2)
    X = torch.randn(4000, 6, 2, generator=g, dtype=F64)
    Y = torch.randn(4000, 6, 2, generator=g, dtype=F64)
    u = torch.stack([transfer.mmd2_unbiased(a, b, 1.0) for a, b in zip(X, Y)])
    b = torch.stack([transfer.mmd2_biased(a, b, 1.0) for a, b in zip(X, Y)])
    assert abs(float(u.mean())) < 4 * float(u.std()) / math.sqrt(4000)
    assert float(b.mean()) > 0.1 and float(u.min()) < 0


def test_total_variation_is_twice_the_largest_event_gap():
    g = _gen(3)
    p = torch.rand(6, generator=g, dtype=F64)
    q = torch.rand(6, generator=g, dtype=F64)
    p, q = p / p.sum(), q / q.sum()
    best = max(abs(float(sum(p[list(E)]) - sum(q[list(E)])))
               for r in range(7) for E in itertools.combinations(range(6), r))
    torch.testing.assert_close(transfer.total_variation(p, q), torch.tensor(2 * best, dtype=F64))
    E = transfer.best_event(p, q)
    torch.testing.assert_close(2 * (p[E].sum() - q[E].sum()), transfer.total_variation(p, q))


def test_h_divergence_is_twice_scipys_ks_statistic_and_the_best_threshold():
    stats = pytest.importorskip("scipy.stats")
    g = _gen(4)
    for s, t in [(torch.randn(40, generator=g, dtype=F64), torch.randn(25, generator=g, dtype=F64) + 0.4),
                 (torch.randint(0, 5, (30,), generator=g).to(F64), torch.randint(1, 6, (17,), generator=g).to(F64))]:
        ks = stats.ks_2samp(s.numpy(), t.numpy()).statistic
        torch.testing.assert_close(transfer.h_divergence_1d(s, t), torch.tensor(2 * ks, dtype=F64))
        thresholds = torch.cat([s, t, torch.tensor([-1e9], dtype=F64)])
        best = max(abs(float((s > th).double().mean() - (t > th).double().mean())) for th in thresholds)
        torch.testing.assert_close(transfer.h_divergence_1d(s, t), torch.tensor(2 * best, dtype=F64))


def test_gradient_reversal_passes_gradcheck_of_the_reversed_map():
    x = torch.randn(3, 4, dtype=F64, requires_grad=True)
    assert torch.equal(transfer.grad_reverse(x, 0.7), x)
    # the layer's Jacobian is -lambd I: its gradient matches that of the linear map x -> -lambd x
    v = torch.randn(3, 4, dtype=F64)
    (got,) = torch.autograd.grad((v * transfer.grad_reverse(torch.tanh(x), 0.7)).sum(), x)
    (want,) = torch.autograd.grad((v * (-0.7) * torch.tanh(x)).sum(), x)
    torch.testing.assert_close(got, want)
    # on purpose, the backward pass disagrees with the forward map's own Jacobian (the identity)
    assert not torch.autograd.gradcheck(lambda z: transfer.grad_reverse(z, 1.0), (x,), raise_exception=False)


def test_dann_loss_against_log_sigmoid_and_large_logits():
    g = _gen(5)
    logits, labels = torch.randn(6, 4, generator=g, dtype=F64), torch.randint(0, 4, (6,), generator=g)
    d_s, d_t = torch.randn(6, generator=g, dtype=F64), torch.randn(9, generator=g, dtype=F64)
    direct = (-torch.log_softmax(logits, 1)[torch.arange(6), labels].mean()
              - torch.log(1 - torch.sigmoid(d_s)).mean() - torch.log(torch.sigmoid(d_t)).mean())
    torch.testing.assert_close(transfer.dann_loss(logits, labels, d_s, d_t), direct)
    big = transfer.dann_loss(logits, labels, torch.tensor([200.0], dtype=F64), torch.tensor([-300.0], dtype=F64))
    assert torch.isfinite(big) and float(big) > 499


def test_adapt_to_target_beats_the_source_only_network():
    torch.set_num_threads(1)
    d = domain_split(30.0, seed=5)
    encoder, classifier = transfer.adapt_to_target(d.X_source, d.y_source, d.X_target, _gen(6))
    with torch.no_grad():
        acc = float((classifier(encoder(d.X_target_test)).argmax(1) == d.y_target_test).double().mean())
    assert acc >= 0.62


def test_device_agnostic_on_the_meta_device():
    meta = torch.device("meta")
    X, Y = torch.empty(5, 3, device=meta), torch.empty(7, 3, device=meta)
    for out in (transfer.mmd2_biased(X, Y, 1.0), transfer.mmd2_unbiased(X, Y, 1.0),
                transfer.h_divergence_1d(X[:, 0], Y[:, 0]), transfer.total_variation(X, X),
                transfer.dann_loss(X, torch.zeros(5, dtype=torch.int64, device=meta), X[:, 0], Y[:, 0])):
        assert out.device == meta
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)).to(meta)
    assert transfer.freeze_and_replace_head(net, 6)[-1].weight.device == meta
