"""Hidden checks of chapter 19 (Fine-tuning and domain shift).

The head replacement is probed in the kernel on networks built there (a small CNN, MLPs with and without
a bias): which parameters require grad, what the copied body computes, the new head's size, and whether the
network passed in came out unchanged. The MMD estimators, the total variation and the H-divergence are
compared with the reference on samples where every classic slip (the kernel's 2 sigma^2, the diagonal kept
or dropped in the wrong place, n^2 for n(n-1), one orientation of the thresholds, thresholds at one sample's
points only, ties counted half-way, the missing factor 2) moves the value far beyond the tolerance. The
gradient-reversal layer is judged by autograd in the kernel: the forward value, vector-Jacobian products
through it and through a layer before it, and two uses with different weights in one graph. The make-it-work
classifier is re-trained in the kernel under the grader's seed on another split of the digits; the kernel
returns its logits on rotated test images and the accuracy is computed here, with labels the kernel never
receives.
"""
from __future__ import annotations

import torch

from autograder.checks import Case, check
from autograder.checks.ch17 import _concept_compare  # one letter per question, case and spaces ignored
from course.checks import diagnose_close
from course.transfer import domain_split, small_cnn
from solutions_lib import transfer as ref

F64 = torch.float64
F32 = torch.float32


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- fine-tuning

def _network(kind, seed):
    """The pretrained network of a case, built in the kernel (modules do not travel as data)."""
    torch.manual_seed(seed)
    if kind == "cnn":
        return small_cnn(n_classes=5, seed=seed), torch.rand(6, 64, generator=_gen(seed + 1))
    if kind == "mlp64":
        net = torch.nn.Sequential(torch.nn.Linear(7, 9), torch.nn.Tanh(), torch.nn.Linear(9, 6), torch.nn.ReLU(),
                                  torch.nn.Linear(6, 3)).double()
        return net, torch.randn(5, 7, generator=_gen(seed + 1), dtype=F64)
    if kind == "nobias":
        net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4, bias=False))
        return net, torch.randn(3, 4, generator=_gen(seed + 1))
    raise ValueError(kind)


def _freeze_probe(fn, case):
    """In the kernel: build the network, call the function, and describe what came back and what it left."""
    kind, seed, n_classes = case.spec
    model, x = _network(kind, seed)
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        features = model[:-1](x)
    new = fn(model, n_classes)
    record = {"sequential": isinstance(new, torch.nn.Sequential)}
    if not record["sequential"] or not isinstance(new[-1], torch.nn.Linear):
        return record
    head = new[-1]
    old_params = [p for p in model.parameters()]
    with torch.no_grad():
        record.update(
            flags=[bool(p.requires_grad) for p in new.parameters()],
            head=[int(head.in_features), int(head.out_features), head.bias is not None, str(head.weight.dtype)],
            features=new[:-1](x).detach().to(F64),
            out_shape=list(new(x).shape),
            original_flags=[bool(p.requires_grad) for p in model.parameters()],
            original_unchanged=(set(before) == set(model.state_dict())
                                and all(torch.equal(before[k], v) for k, v in model.state_dict().items())),
            original_head_out=int(model[-1].out_features) if isinstance(model[-1], torch.nn.Linear) else -1,
            shares=any(p.data_ptr() == q.data_ptr() for p in new.parameters() for q in old_params),
            head_reused=(head.weight.shape == model[-1].weight.shape and torch.equal(head.weight, model[-1].weight)),
        )
    record["features_expected"] = features.to(F64)
    return record


def _freeze_compare(got, expected, case):
    if not isinstance(got, dict) or not got.get("sequential") or "flags" not in got:
        return "return a torch.nn.Sequential whose last module is the new torch.nn.Linear head."
    if got["original_flags"] != expected["original_flags"] or not got["original_unchanged"] \
            or got["original_head_out"] != expected["original_head_out"]:
        return "the network passed in was changed (frozen, or its head replaced): work on a copy of its body."
    if got["shares"]:
        return "the new network shares parameter tensors with the network passed in: copy the body (copy.deepcopy)."
    if got["head"][:3] != expected["head"][:3]:
        i, o, b = expected["head"][:3]
        return (f"the new head is Linear({got['head'][0]}, {got['head'][1]}, bias={got['head'][2]}), expected "
                f"Linear({i}, {o}, bias={b}).")
    if got["head"][3] != expected["head"][3]:
        return f"the new head's weights are {got['head'][3]}, the old head's are {expected['head'][3]}."
    if got["head_reused"]:
        return "the new head holds the old head's weights: create a fresh torch.nn.Linear."
    if got["flags"] != expected["flags"]:
        n_true, n_exp = sum(got["flags"]), sum(expected["flags"])
        return (f"{n_true} parameter tensors require grad, expected {n_exp} (the new head's): freeze every "
                "parameter of the copied body and leave the head trainable.")
    problem = diagnose_close(got["features"], expected["features_expected"], what="the copied body's features")
    if problem:
        return problem + "\n  keep every pretrained module except the last, unchanged."
    if got["out_shape"] != expected["out_shape"]:
        return f"the new network's output has shape {tuple(got['out_shape'])}, expected {tuple(expected['out_shape'])}."
    return None


@check("freeze_and_replace_head", compare=_freeze_compare, probe=_freeze_probe,
       hint="Deep-copy every module but the last, set requires_grad=False on their parameters, and append a fresh "
            "Linear(in_features, n_classes) (bias as before, same dtype).")
def _freeze_cases():
    for label, spec in {"the small CNN (5 classes) to 5 new classes": ("cnn", 1901, 5),
                        "the small CNN to 3 classes": ("cnn", 1902, 3),
                        "a float64 MLP of three layers to 8 classes": ("mlp64", 1903, 8),
                        "a head without a bias, to 2 classes": ("nobias", 1904, 2)}.items():
        yield Case(label, spec=spec, expected=_freeze_probe(ref.freeze_and_replace_head, Case(label, spec=spec)))


# ----------------------------------------------------------------------------- MMD

def _samples(g, n, m, D, shift, dtype=F64, scale=1.0):
    X = torch.randn(n, D, generator=g, dtype=dtype) * scale
    Y = torch.randn(m, D, generator=g, dtype=dtype) * scale + shift
    return X, Y


@check("mmd2_biased", reference=ref.mmd2_biased,
       hint="mean k(X, X) + mean k(Y, Y) - 2 mean k(X, Y), every mean over all pairs (diagonals included), with "
            "k = exp(-|x - y|^2 / (2 sigma^2)).")
def _mmd2_biased_cases():
    g = _gen(1910)
    yield Case("float64, n 6, m 9, D 3, sigma 1, shifted by 0.8", (*_samples(g, 6, 9, 3, 0.8), 1.0))
    yield Case("float64, n 12, m 5, D 2, sigma 0.5", (*_samples(g, 12, 5, 2, 0.3), 0.5))
    yield Case("float64, n 8, m 8, D 4, sigma 3, far apart", (*_samples(g, 8, 8, 4, 2.0, scale=2.0), 3.0))
    yield Case("float32, n 20, m 15, D 5, sigma 2", (*_samples(g, 20, 15, 5, 0.5, dtype=F32), 2.0))
    X = torch.randn(7, 3, generator=g, dtype=F64)
    yield Case("a sample against itself: 0", (X, X.clone(), 1.5), expected=torch.tensor(0.0, dtype=F64))
    yield Case("one point each, closed form", (torch.zeros(1, 2, dtype=F64), torch.tensor([[1.0, 1.0]], dtype=F64), 1.0),
               expected=torch.tensor(2 - 2 * torch.exp(torch.tensor(-1.0, dtype=F64)).item(), dtype=F64))


@check("mmd2_unbiased", reference=ref.mmd2_unbiased,
       hint="Within each sample, average k over the n(n-1) pairs i != j (no diagonal); the cross term 2 mean k(X, Y) "
            "keeps all n m pairs; k = exp(-|x - y|^2 / (2 sigma^2)).")
def _mmd2_unbiased_cases():
    g = _gen(1920)
    yield Case("float64, n 6, m 9, D 3, sigma 1, shifted by 0.8", (*_samples(g, 6, 9, 3, 0.8), 1.0))
    yield Case("float64, n 5, m 5, D 2, sigma 0.7 (equal sizes)", (*_samples(g, 5, 5, 2, 0.4), 0.7))
    yield Case("float64, n 2, m 3, D 1, sigma 2", (*_samples(g, 2, 3, 1, 1.0), 2.0))
    yield Case("float64, same distribution, n 10, m 12, sigma 1.5 (may be negative)",
               (*_samples(g, 10, 12, 3, 0.0), 1.5))
    yield Case("float32, n 16, m 11, D 5, sigma 2", (*_samples(g, 16, 11, 5, 0.5, dtype=F32), 2.0))
    X = torch.randn(6, 2, generator=g, dtype=F64)
    yield Case("a sample against itself (equal sizes, negative)", (X, X.clone(), 1.0))


# ----------------------------------------------------------------------------- total variation, H-divergence

def _simplex(g, shape, dtype=F64):
    w = torch.rand(*shape, generator=g, dtype=dtype) + 0.05
    return w / w.sum(-1, keepdim=True)


@check("best_event", reference=ref.best_event,
       hint="The outcomes where p is strictly larger than q, and only those (ties stay out).")
def _best_event_cases():
    g = _gen(1930)
    yield Case("float64, K 7", (_simplex(g, (7,)), _simplex(g, (7,))))
    yield Case("a batch (4, 6), float32", (_simplex(g, (4, 6), F32), _simplex(g, (4, 6), F32)))
    p = torch.tensor([0.25, 0.25, 0.5, 0.0], dtype=F64)
    q = torch.tensor([0.25, 0.5, 0.25, 0.0], dtype=F64)
    yield Case("ties stay out of the event", (p, q), expected=torch.tensor([False, False, True, False]))
    yield Case("equal distributions: the empty event", (q, q.clone()), expected=torch.zeros(4, dtype=torch.bool))


@check("total_variation", reference=ref.total_variation,
       hint="TV = 2 (P(E*) - Q(E*)) for E* = {p > q}; work out what that is in terms of |p - q|. Between 0 and 2.")
def _total_variation_cases():
    g = _gen(1940)
    yield Case("float64, K 9", (_simplex(g, (9,)), _simplex(g, (9,))))
    yield Case("a batch (5, 4), float32", (_simplex(g, (5, 4), F32), _simplex(g, (5, 4), F32)))
    yield Case("a batch (2, 3, 6)", (_simplex(g, (2, 3, 6)), _simplex(g, (2, 3, 6))))
    yield Case("disjoint supports: 2", (torch.tensor([0.3, 0.7, 0.0, 0.0], dtype=F64), torch.tensor([0.0, 0.0, 0.6, 0.4], dtype=F64)),
               expected=torch.tensor(2.0, dtype=F64))
    q = _simplex(g, (5,))
    yield Case("equal distributions: 0", (q, q.clone()), expected=torch.tensor(0.0, dtype=F64))
    yield Case("closed form: 0.2 moved from one outcome to two others",
               (torch.tensor([0.5, 0.3, 0.2], dtype=F64), torch.tensor([0.3, 0.4, 0.3], dtype=F64)),
               expected=torch.tensor(0.4, dtype=F64))


@check("h_divergence_1d", reference=ref.h_divergence_1d,
       hint="2 max over the observed scores of BOTH samples of |F_s(t) - F_t(t)|, with F(t) the fraction of the "
            "sample <= t (ties included); both orientations, so the absolute value.")
def _h_divergence_cases():
    g = _gen(1950)
    yield Case("float64, n 30, m 20, target shifted up by 0.7",
               (torch.randn(30, generator=g, dtype=F64), torch.randn(20, generator=g, dtype=F64) + 0.7))
    yield Case("float64, n 25, m 40, target shifted DOWN by 0.5",
               (torch.randn(25, generator=g, dtype=F64), torch.randn(40, generator=g, dtype=F64) - 0.5))
    yield Case("float32, n 15, m 15, wider target",
               (torch.randn(15, generator=g), 2.5 * torch.randn(15, generator=g)))
    yield Case("integer-valued scores with many ties",
               (torch.randint(0, 4, (20,), generator=g).to(F64), torch.randint(1, 5, (12,), generator=g).to(F64)))
    yield Case("the same tied values in both samples: 0",
               (torch.tensor([1.0, 1.0, 2.0, 2.0], dtype=F64), torch.tensor([2.0, 1.0], dtype=F64)),
               expected=torch.tensor(0.0, dtype=F64))
    yield Case("the largest gap sits at a target score",
               (torch.tensor([0.0, 5.0, 6.0], dtype=F64), torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=F64)),
               expected=torch.tensor(2 * (1.0 - 1 / 3), dtype=F64))
    yield Case("separated samples: 2", (torch.tensor([3.0, 4.0], dtype=F64), torch.tensor([0.0, 1.0, 2.0], dtype=F64)),
               expected=torch.tensor(2.0, dtype=F64))


# ----------------------------------------------------------------------------- gradient reversal, DANN

def _reverse_probe(fn, case):
    """In the kernel: the forward value, and gradients through the layer computed by autograd."""
    x0, lambd = case.args
    g = torch.Generator().manual_seed(case.spec)
    v = torch.randn(x0.shape, generator=g, dtype=x0.dtype)
    x = x0.detach().clone().requires_grad_()
    out = fn(x, lambd)
    record = {"value": out.detach().clone(), "new_object": out is not x}
    if not (isinstance(out, torch.Tensor) and out.requires_grad):
        record["grad"] = "detached"
        return record
    (record["grad"],) = torch.autograd.grad((v * out).sum(), x)
    x = x0.detach().clone().requires_grad_()
    (record["grad_upstream"],) = torch.autograd.grad((v * fn(torch.sin(x), lambd)).sum(), x)
    x = x0.detach().clone().requires_grad_()
    both = (v * fn(x, lambd)).sum() + (v * fn(x, 2.0 * lambd + 0.5)).sum()
    (record["grad_two_uses"],) = torch.autograd.grad(both, x)
    return record


def _reverse_expected(x0, lambd, spec):
    g = torch.Generator().manual_seed(spec)
    v = torch.randn(x0.shape, generator=g, dtype=x0.dtype)
    return {"value": x0.clone(), "new_object": True, "grad": -lambd * v, "grad_upstream": -lambd * v * torch.cos(x0),
            "grad_two_uses": -(3.0 * lambd + 0.5) * v}


def _reverse_compare(got, expected, case):
    if not isinstance(got, dict) or "value" not in got:
        return "the probe of your function returned something unexpected."
    problem = diagnose_close(got["value"], expected["value"], what="the forward value")
    if problem:
        return problem + "\n  forward, the layer is the identity."
    if not got["new_object"]:
        return "forward returns x itself: return a new tensor equal to x (x.view_as(x))."
    if got["grad"] == "detached":
        return "the output does not depend on x in the autograd graph: nothing flows back through the layer."
    for key, what in [("grad", "the gradient through the layer"),
                      ("grad_upstream", "the gradient reaching a layer before it"),
                      ("grad_two_uses", "the gradient of two uses with different lambd in one graph")]:
        problem = diagnose_close(got[key], expected[key], what=what)
        if problem:
            return problem + "\n  backward multiplies the incoming gradient by -lambd (each use by its own lambd)."
    return None


@check("grad_reverse", compare=_reverse_compare, probe=_reverse_probe,
       hint="A torch.autograd.Function: forward returns x.view_as(x) and saves lambd on ctx; backward returns "
            "(-lambd * grad_output, None).")
def _grad_reverse_cases():
    g = _gen(1960)
    for i, (label, shape, lambd, dtype) in enumerate([("float64 (4, 3), lambd 1", (4, 3), 1.0, F64),
                                                      ("float64 (2, 3, 5), lambd 0.3", (2, 3, 5), 0.3, F64),
                                                      ("float32 (7,), lambd 2.5", (7,), 2.5, F32),
                                                      ("lambd 0: no gradient reaches the features", (3, 4), 0.0, F64)]):
        x = torch.randn(*shape, generator=g, dtype=dtype)
        yield Case(label, (x, lambd), spec=1961 + i, expected=_reverse_expected(x, lambd, 1961 + i))


@check("dann_loss", reference=ref.dann_loss,
       hint="cross_entropy(class logits, labels) + mean BCE(source domain logits, 0) + mean BCE(target domain "
            "logits, 1), each domain's mean taken separately, from logits (log-sigmoid).")
def _dann_loss_cases():
    g = _gen(1970)
    for label, (n, m, K, dtype, scale) in {"float64, n 6, m 10, 4 classes": (6, 10, 4, F64, 1.0),
                                           "float64, n 12, m 3, 10 classes": (12, 3, 10, F64, 2.0),
                                           "float32, n 8, m 20, 5 classes": (8, 20, 5, F32, 1.0)}.items():
        yield Case(label, (torch.randn(n, K, generator=g, dtype=dtype) * scale, torch.randint(0, K, (n,), generator=g),
                           torch.randn(n, generator=g, dtype=dtype) * 2 + 0.5,
                           torch.randn(m, generator=g, dtype=dtype) * 2 - 0.3))
    yield Case("domain logits of size 100 (finite loss)",
               (torch.randn(4, 3, generator=g, dtype=F64), torch.tensor([0, 1, 2, 1]),
                torch.tensor([100.0, -100.0, 50.0, 3.0], dtype=F64), torch.tensor([-100.0, 80.0], dtype=F64)))
    yield Case("a confident, correct discriminator (n 3, m 5)",
               (torch.randn(3, 2, generator=g, dtype=F64), torch.tensor([1, 0, 1]),
                -4 - torch.rand(3, generator=g, dtype=F64), 4 + torch.rand(5, generator=g, dtype=F64)))


# ----------------------------------------------------------------------------- make it work

TARGET = 0.62
"""The hidden check's threshold on accuracy on rotated (30 degree) test digits. The reference reaches about 0.69
to 0.75 over seeds and splits; the source-only MLP about 0.46 to 0.51."""


def _adapt_probe(fn, case):
    """In the kernel: train on the labelled source and unlabelled target images, then classify the test images."""
    encoder, classifier = fn(*case.args, **case.kwargs)
    with torch.no_grad():
        logits = classifier(encoder(case.spec))
    return torch.as_tensor(logits).detach().to("cpu", torch.float64)


def _adapt_compare(got, expected, case):
    labels = expected["labels"]
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != (len(labels), 10):
        return f"classifier(encoder(images)) must return a ({len(labels)}, 10) tensor of logits."
    if not torch.isfinite(got).all():
        return "the logits contain NaN or inf."
    acc = float((got.argmax(1) == labels).double().mean())
    if acc < TARGET:
        return (f"accuracy {acc:.3f} on rotated test digits, below {TARGET} (the source-only network reaches about "
                "0.5): the features of the two domains are not aligned.")
    return None


@check("adapt_to_target", compare=_adapt_compare, probe=_adapt_probe,
       hint="Add to the source cross-entropy a penalty that pulls the encoder's source and TARGET features together "
            "(the MMD between a source batch and a target batch, with a positive weight), or train adversarially "
            "with the reversal layer.")
def _adapt_cases():
    d = domain_split(30.0, seed=19)
    yield Case(f"trained with the grader's seed on another split; needs accuracy >= {TARGET} on 447 rotated test "
               "digits", (d.X_source, d.y_source, d.X_target, _gen(1990)), spec=d.X_target_test,
               expected={"labels": d.y_target_test})


# ----------------------------------------------------------------------------- concept questions

@check("transfer_concepts", reference=ref.transfer_concepts, compare=_concept_compare,
       hint="Reread the sections each question is about.")
def _transfer_concepts_cases():
    yield Case("the three concept questions")
