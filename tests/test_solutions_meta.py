"""solutions_lib.meta (chapter 17) against direct formulas, torch built-ins and finite differences, in float64."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from course.meta import init_sine_mlp, sine_mlp, sine_task
from solutions_lib import meta

F64 = torch.float64


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def test_sample_episode_draws_disjoint_examples_of_the_right_classes():
    labels = torch.randint(0, 7, (200,), generator=_gen(0))
    support, query, classes = meta.sample_episode(labels, 4, 3, 5, _gen(1))
    assert support.shape == (4, 3) and query.shape == (4, 5) and classes.shape == (4,)
    assert len(set(classes.tolist())) == 4
    assert (labels[support] == classes[:, None]).all() and (labels[query] == classes[:, None]).all()
    everything = torch.cat([support.flatten(), query.flatten()])
    assert len(set(everything.tolist())) == everything.numel()
    again = meta.sample_episode(labels, 4, 3, 5, _gen(1))
    assert all(torch.equal(a, b) for a, b in zip((support, query, classes), again))


def test_prototypes_and_logits_match_cdist():
    g = _gen(2)
    support = torch.randn(5, 4, 6, generator=g, dtype=F64)
    protos = meta.prototypes(support)
    torch.testing.assert_close(protos, torch.stack([support[k].mean(0) for k in range(5)]))
    query = torch.randn(9, 6, generator=g, dtype=F64)
    torch.testing.assert_close(meta.prototype_logits(query, protos), -torch.cdist(query, protos) ** 2)


def test_matching_predict_is_a_loop_over_cosine_attention():
    g = _gen(3)
    q, s = torch.randn(4, 5, generator=g, dtype=F64), torch.randn(7, 5, generator=g, dtype=F64)
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 2])
    P = meta.matching_predict(q, s, labels, 3)
    for i in range(4):
        a = torch.softmax(F.cosine_similarity(q[i][None], s, dim=1), 0)
        torch.testing.assert_close(P[i], torch.stack([a[labels == k].sum() for k in range(3)]))
    torch.testing.assert_close(P.sum(1), torch.ones(4, dtype=F64))


def test_triplet_loss_is_the_hinge_of_squared_distances():
    g = _gen(4)
    a, p, n = (torch.randn(10, 3, generator=g, dtype=F64) for _ in range(3))
    direct = sum(max(0.0, float(((a[i] - p[i]) ** 2).sum() - ((a[i] - n[i]) ** 2).sum()) + 0.7) for i in range(10)) / 10
    torch.testing.assert_close(meta.triplet_loss(a, p, n, 0.7), torch.tensor(direct, dtype=F64))


def test_info_nce_and_clip_against_log_softmax():
    g = _gen(5)
    z1, z2 = torch.randn(6, 4, generator=g, dtype=F64) * 3, torch.randn(6, 4, generator=g, dtype=F64)
    sim = torch.tensor([[float(F.cosine_similarity(z1[i], z2[j], dim=0)) for j in range(6)] for i in range(6)],
                       dtype=F64) / 0.2
    rows = -torch.log_softmax(sim, 1).diagonal().mean()
    cols = -torch.log_softmax(sim, 0).diagonal().mean()
    torch.testing.assert_close(meta.info_nce(z1, z2, 0.2), rows)
    torch.testing.assert_close(meta.clip_loss(z1, z2, 0.2), (rows + cols) / 2)
    torch.testing.assert_close(meta.clip_loss(z1, z2, 0.2), meta.clip_loss(z2, z1, 0.2))
    assert torch.isfinite(meta.info_nce(z1.float(), z1.float(), 0.001))


def test_augment_digits_shift_and_noise():
    X = torch.rand(50, 64, generator=_gen(6), dtype=F64)
    out = meta.augment_digits(X, _gen(7), max_shift=2, noise_std=0.0)
    shifts = torch.randint(-2, 3, (50, 2), generator=_gen(7))
    for b in range(50):
        dy, dx = shifts[b].tolist()
        img, want = X[b].reshape(8, 8), torch.zeros(8, 8, dtype=F64)
        for r in range(8):
            for c in range(8):
                if 0 <= r - dy < 8 and 0 <= c - dx < 8:
                    want[r, c] = img[r - dy, c - dx]
        torch.testing.assert_close(out[b].reshape(8, 8), want)
    noise = meta.augment_digits(torch.zeros(500, 64, dtype=F64), _gen(8), noise_std=0.3)
    assert abs(float(noise.std()) - 0.3) < 0.01 and noise.dtype == F64


def _meta_loss(params, tasks, lr):
    losses = [((sine_mlp(meta.maml_inner_step(sine_mlp, params, xs, ys, lr, create_graph=True), xq) - yq) ** 2).mean()
              for xs, ys, xq, yq in tasks]
    return sum(losses) / len(tasks)


def test_maml_meta_gradient_matches_finite_differences_and_first_order():
    params = init_sine_mlp(_gen(9), hidden=3)
    g = _gen(10)
    tasks = [sine_task(g, 5, 5) for _ in range(2)]
    grads = meta.maml_meta_gradient(sine_mlp, params, tasks, 0.1)
    h = 1e-6
    for i, p in enumerate(params):
        for j in range(p.numel()):
            plus = [q.detach().clone() for q in params]
            minus = [q.detach().clone() for q in params]
            plus[i].view(-1)[j] += h
            minus[i].view(-1)[j] -= h
            fd = (_meta_loss([q.requires_grad_() for q in plus], tasks, 0.1)
                  - _meta_loss([q.requires_grad_() for q in minus], tasks, 0.1)).detach() / (2 * h)
            assert abs(float(fd) - float(grads[i].view(-1)[j])) < 1e-6 * (1 + abs(float(fd)))
    first = meta.maml_meta_gradient(sine_mlp, params, tasks, 0.1, first_order=True)
    expected = [torch.zeros_like(p) for p in params]
    for xs, ys, xq, yq in tasks:
        adapted = [a.detach().requires_grad_() for a in meta.maml_inner_step(sine_mlp, params, xs, ys, 0.1)]
        gq = torch.autograd.grad(((sine_mlp(adapted, xq) - yq) ** 2).mean(), adapted)
        expected = [e + x / len(tasks) for e, x in zip(expected, gq)]
    for a, b in zip(first, expected):
        torch.testing.assert_close(a, b)
    assert max(float((a - b).abs().max()) for a, b in zip(grads, first)) > 1e-3  # the second-order term matters


def test_maml_with_zero_inner_lr_is_the_plain_gradient():
    params = init_sine_mlp(_gen(11), hidden=4)
    task = sine_task(_gen(12), 5, 5)
    plain = torch.autograd.grad(((sine_mlp(params, task[2]) - task[3]) ** 2).mean(), params)
    for a, b in zip(meta.maml_meta_gradient(sine_mlp, params, [task], 0.0), plain):
        torch.testing.assert_close(a, b)


def test_train_fewshot_embedding_is_deterministic():
    X, y = torch.rand(100, 64, generator=_gen(13)), torch.arange(100) % 5
    e1 = meta.train_fewshot_embedding(X, y, _gen(14))
    e2 = meta.train_fewshot_embedding(X, y, _gen(14))
    assert torch.equal(e1(X[:4]), e2(X[:4])) and e1(X[:4]).shape == (4, 256)


def test_concept_answers_are_letters():
    answers = meta.concept_answers()
    assert set(answers) == {"q1", "q2", "q3"} and set(answers.values()) <= set("abcd")
