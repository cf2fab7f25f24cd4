"""Hidden checks of chapter 20 (attributing predictions).

Oracles: solutions_lib.attribution, itself tested against brute-force sums, the axioms, the closed forms and
autograd (tests/test_solutions_attribution.py). The cases are chosen so that each plausible alternative lands
far outside the tolerance: games whose empty coalition is worth something (v(empty) != 0: formulas that drop
the "- v(S)" term or compare sums with v(all)), asymmetric games of 1 to 10 players (wrong subset weights,
Banzhaf's uniform weights, reversed bit order), a dummy player with a standalone value (null player only),
pairs that are symmetric on singletons but not on every coalition, interventional games of non-additive
models with several background rows (mean over the wrong axis, x and background swapped), networks whose
rows have different targets (one row's gradient for all, softmax instead of logits) and IG with few steps
(left or right Riemann sums against the midpoint rule). The make-it-work task is judged here: the deletion
curves of the returned attributions, for a classifier trained here, against random deletion orders.

Conventions (the notebook states them): values[mask] is v(S) with player i = bit 1 << i; attributions in the
dtype of the input; gradient attributions of each row's target logit; IG with the midpoint rule
alpha_k = (k + 1/2) / steps; deletion sets pixels to 0, most important first, ties by pixel index.
"""
from __future__ import annotations

import functools

import torch

from autograder.checks import Case, check
from course.xai import attribution_digits, deletion_auc, deletion_curve, random_deletion_curve, train_digit_classifier
from solutions_lib import attribution as ref

F64 = torch.float64
F32 = torch.float32
DELETION_RATIO = 0.27
"""The make-it-work target: first-quarter deletion score at most this fraction of random deletion's. Integrated
gradients from a black image reach about 0.2; |IG| about 0.33; the plain gradient or IG without the (x - baseline) factor about
0.4; pixel intensity 0.55; attributions with the wrong sign above 1."""


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _game(g, m, dtype=F64, offset=0.7):
    """A random game on m players with v(empty) = offset (not 0)."""
    values = torch.randn(1 << m, generator=g, dtype=F64) * 3
    values[0] = offset
    return values.to(dtype)


# ----------------------------------------------------------------------------- exact and sampled values

def _exact_cases(seed, big):
    g = _gen(seed)
    yield Case("the notes' three-player game", (torch.tensor([0, 100, 125, 270, 50, 375, 350, 500], dtype=F64),))
    yield Case("4 players, v(empty) = 0.7", (_game(g, 4),))
    yield Case("one player", (torch.tensor([2.5, -1.0], dtype=F64),))
    yield Case("5 players, float32, v(empty) = -1.3", (_game(g, 5, F32, -1.3),))
    for m in big:
        yield Case(f"{m} players, v(empty) = 0.4", (_game(g, m, offset=0.4),))


@check("shapley_permutations", reference=ref.shapley_permutations,
       hint="Average, over all M! orders, the marginal contribution v(P + i) - v(P) of each player when they join "
            "the players P before them.")
def _permutation_cases():
    yield from _exact_cases(20_001, (6,))


@check("shapley_subsets", reference=ref.shapley_subsets,
       hint="The weight of v(S + i) - v(S) is the fraction of orders in which exactly S comes before i: "
            "s! (M - s - 1)! / M!.")
def _subset_cases():
    yield from _exact_cases(20_002, (7, 10))


@check("shapley_monte_carlo", reference=ref.shapley_monte_carlo,
       hint="One torch.randperm(M, generator=generator) per order, in order; average each player's marginal "
            "contribution over the orders.")
def _monte_carlo_cases():
    g = _gen(20_003)
    yield Case("4 players, 1 order, seed 5", (_game(g, 4), 1, _gen(5)))
    yield Case("6 players, 7 orders, seed 11", (_game(g, 6), 7, _gen(11)))
    yield Case("3 players, 50 orders, seed 2, float32", (_game(g, 3, F32), 50, _gen(2)))


# ----------------------------------------------------------------------------- axioms

def _axiom_compare(got, expected, case):
    if not isinstance(got, (list, tuple)):
        return "return a list of axiom names (strings), e.g. ['symmetry'] or []."
    if list(got) != expected:
        return f"for {case.label} the axioms broken are {expected}, not {list(got)}."
    return None


def _axiom_case(label, values, phi, **kwargs):
    return Case(label, (values, phi), kwargs, expected=ref.axiom_violations(values, phi, **kwargs))


def _axiom_probe(fn, case):
    got = fn(*case.args, **case.kwargs)
    return [str(name) if isinstance(name, str) else repr(name) for name in got] if isinstance(got, (list, tuple)) else repr(got)


@check("axiom_violations", probe=_axiom_probe, compare=_axiom_compare,
       hint="Efficiency compares the sum with v(all) - v(empty); symmetry and dummy are about every coalition "
            "without the players involved, and a dummy's contribution v({i}) - v(empty) need not be 0.")
def _axiom_cases():
    g = _gen(20_004)
    v = _game(g, 4)
    exact = ref.shapley_subsets(v)
    yield _axiom_case("a random 4-player game with v(empty) = 0.7 and its exact values", v, exact)
    yield _axiom_case("the same game, phi shifted by 0.7 (sums to v(all))", v, exact + 0.7 / 4)
    mc = ref.shapley_monte_carlo(v, 3, _gen(1))
    yield _axiom_case("a random game and a 3-order Monte Carlo estimate", v, mc)
    # player 2 is a dummy worth 1.5 alone; players 0 and 1 are symmetric; v(empty) = 2
    base = torch.zeros(8, dtype=F64)
    for mask in range(8):
        n01 = bin(mask & 3).count("1")
        base[mask] = 2.0 + [0.0, 1.0, 4.0][n01] + (1.5 if mask & 4 else 0.0)
    phi = ref.shapley_subsets(base)
    yield _axiom_case("a game with a dummy worth 1.5 alone and two symmetric players; exact values", base, phi)
    yield _axiom_case("the same game, the dummy given 0 and its 1.5 split between the others", base,
                      phi + torch.tensor([0.75, 0.75, -1.5], dtype=F64))
    yield _axiom_case("the same game, 0.5 moved from player 1 to player 0", base,
                      phi + torch.tensor([0.5, -0.5, 0.0], dtype=F64))
    # players 0 and 1 equal as singletons but not with player 2
    odd = torch.tensor([1.0, 3.0, 3.0, 5.0, 2.0, 4.0, 7.0, 9.0], dtype=F64)
    yield _axiom_case("players 0 and 1 equal alone but not with player 2; their exact values differ", odd,
                      ref.shapley_subsets(odd))
    yield _axiom_case("the same game, 0 and 1 given equal (efficient) shares", odd,
                      torch.tensor([2.75, 2.75, 2.5], dtype=F64))
    # a null player (contributes 0 everywhere) given a share, efficiency kept
    null = torch.tensor([0.5, 2.0, 0.5, 2.0, 1.0, 4.0, 1.0, 4.0], dtype=F64)
    yield _axiom_case("a null player (1) given 0.25 of the others' shares", null,
                      ref.shapley_subsets(null) + torch.tensor([-0.25, 0.25, 0.0], dtype=F64))
    yield _axiom_case("everything broken: efficiency, symmetry and dummy", base, torch.tensor([3.0, 1.0, 0.0], dtype=F64))
    big = 1e4 * base
    yield _axiom_case("the same game times 10^4, symmetric shares off by 1e-7 (equal within tol * (1 + max |v|))",
                      big, ref.shapley_subsets(big) + torch.tensor([1e-7, -1e-7, 0.0], dtype=F64))
    yield _axiom_case("a difference of 1e-4 with tol 1e-3 counts as equal", base,
                      phi + torch.tensor([1e-4, -1e-4, 0.0], dtype=F64), tol=1e-3)


# ----------------------------------------------------------------------------- Kernel SHAP

@check("shapley_kernel_weights", reference=lambda m: ref.shapley_kernel_weights(m),
       hint="(M - 1) / (C(M, s) s (M - s)) for s = 1 .. M - 1.")
def _kernel_weight_cases():
    for m in (2, 4, 7, 12):
        yield Case(f"M = {m}", (m,))


@check("kernel_shap", reference=ref.kernel_shap,
       hint="Rows: every coalition of size 1 .. M-1 as a 0/1 vector, target v(z) - v(empty), weight the Shapley "
            "kernel of its size; eliminate one coefficient with sum(phi) = v(all) - v(empty) and solve the "
            "normal equations.")
def _kernel_shap_cases():
    g = _gen(20_005)
    yield Case("the notes' three-player game", (torch.tensor([0, 100, 125, 270, 50, 375, 350, 500], dtype=F64),))
    yield Case("2 players, v(empty) = 0.7", (_game(g, 2),))
    yield Case("4 players, v(empty) = -2", (_game(g, 4, offset=-2.0),))
    yield Case("7 players, v(empty) = 1.1", (_game(g, 7, offset=1.1),))


# ----------------------------------------------------------------------------- model games

def _net(seed, d_in, d_out=1, activation=torch.nn.Tanh):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(d_in, 6), activation(), torch.nn.Linear(6, d_out)).double()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def _scalar_model(spec):
    kind, seed, d = spec
    if kind == "net":
        net = _net(seed, d)
        return lambda z: net(z)[:, 0]
    return lambda z: z[:, 0] * z[:, 1] + torch.sin(z[:, -1]) * (z[:, :-1].sum(1) + 0.5)


def _interventional_probe(fn, case):
    return fn(_scalar_model(case.spec), *case.args)


@check("interventional_values", probe=_interventional_probe,
       hint="Bit i of the index selects x's value for feature i, the others come from each background row; average "
            "the model's outputs over the background rows.")
def _interventional_cases():
    g = _gen(20_006)
    for label, spec, k in [("a product-and-sine model of 3 features, 4 background rows", ("poly", 0, 3), 4),
                           ("a tanh network of 4 features, 6 background rows", ("net", 3, 4), 6),
                           ("a tanh network of 5 features, 1 background row", ("net", 4, 5), 1)]:
        d = spec[2]
        x, background = torch.randn(d, generator=g, dtype=F64) + 1, torch.randn(k, d, generator=g, dtype=F64)
        yield Case(label, (x, background), spec=spec,
                   expected=ref.interventional_values(_scalar_model(spec), x, background))


@check("linear_shap", reference=ref.linear_shap,
       hint="For a linear model every feature is a dummy: its contribution to any coalition is w_i (x_i minus the "
            "background's mean of feature i); the bias cancels.")
def _linear_cases():
    g = _gen(20_007)
    for m, k, bias in [(3, 5, 2.5), (6, 2, -1.0), (4, 1, 0.3)]:
        yield Case(f"{m} features, {k} background rows, bias {bias}",
                   (torch.randn(m, generator=g, dtype=F64), bias, torch.randn(m, generator=g, dtype=F64) + 1,
                    torch.randn(k, m, generator=g, dtype=F64) + 0.5))
    yield Case("float32, 5 features, 3 rows, bias 1.5",
               (torch.randn(5, generator=g).float(), 1.5, torch.randn(5, generator=g).float(),
                torch.randn(3, 5, generator=g).float()))


# ----------------------------------------------------------------------------- gradient attributions

def _classifier_probe(fn, case):
    return fn(_net(case.spec, case.args[0].shape[1], 4), *case.args, **case.kwargs)


def _classifier_case(label, seed, fn, x, *rest, **kwargs):
    expected = fn(_net(seed, x.shape[1], 4), x, *rest, **kwargs)
    return Case(label, (x, *rest), kwargs, expected=expected, spec=seed)


@check("gradient_x_input", probe=_classifier_probe,
       hint="Row b: x[b] times the gradient of logit target[b] (not a probability, not another row's class) "
            "with respect to x[b].")
def _gxi_cases():
    g = _gen(20_008)
    x = torch.randn(5, 3, generator=g, dtype=F64) * 2
    yield _classifier_case("5 rows, 3 features, targets (0, 3, 1, 2, 3)", 1, ref.gradient_x_input, x,
                           torch.tensor([0, 3, 1, 2, 3]))
    x = torch.randn(2, 6, generator=g, dtype=F64)
    yield _classifier_case("2 rows, 6 features, targets (2, 2)", 2, ref.gradient_x_input, x, torch.tensor([2, 2]))


@check("integrated_gradients", probe=_classifier_probe,
       hint="(x - baseline) times the average of the target logit's gradient at baseline + alpha_k (x - baseline), "
            "alpha_k = (k + 1/2) / steps for k = 0 .. steps - 1.")
def _ig_cases():
    g = _gen(20_009)
    x = torch.randn(4, 3, generator=g, dtype=F64) * 2
    yield _classifier_case("4 rows, a shared baseline (3,), targets (1, 0, 3, 2), 5 steps", 5, ref.integrated_gradients,
                           x, torch.randn(3, generator=g, dtype=F64), torch.tensor([1, 0, 3, 2]), steps=5)
    x = torch.randn(3, 5, generator=g, dtype=F64) * 2
    yield _classifier_case("3 rows, one baseline per row, 3 steps", 6, ref.integrated_gradients,
                           x, torch.randn(3, 5, generator=g, dtype=F64), torch.tensor([3, 3, 0]), steps=3)
    x = torch.randn(2, 4, generator=g, dtype=F64) * 3
    yield _classifier_case("2 rows, zero baseline, default steps", 7, ref.integrated_gradients,
                           x, torch.zeros(2, 4, dtype=F64), torch.tensor([0, 2]))


# ----------------------------------------------------------------------------- make it work

_DELETION_SEED = 2020


@functools.lru_cache(maxsize=1)
def _deletion_setup():
    split = attribution_digits()
    model = train_digit_classifier(split.X_train, split.y_train, seed=_DELETION_SEED)
    return model, split.X_test[200:400].clone(), split.y_test[200:400].clone()


def _deletion_probe(fn, case):
    """In the kernel: train the classifier the grader trains (same data and seed), then ask for attributions."""
    split = attribution_digits()
    model = train_digit_classifier(split.X_train, split.y_train, seed=case.spec)
    got = fn(model, *case.args)
    return torch.as_tensor(got).detach().to("cpu", F64) if isinstance(got, torch.Tensor) else got


def _deletion_compare(got, expected, case):
    model, x, target = _deletion_setup()
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(x.shape):
        return f"deletion_attribution must return a tensor of shape {tuple(x.shape)}, one score per pixel."
    score = deletion_auc(deletion_curve(model, x, target, got)[:, :17])
    random_score = deletion_auc(random_deletion_curve(model, x, target, _gen(2021))[:, :17])
    if not score <= DELETION_RATIO * random_score:
        return (f"the first-quarter deletion score is {score:.3f}, {score / random_score:.2f} times random deletion's "
                f"{random_score:.3f}; the target is at most {DELETION_RATIO}.")
    return None


@check("deletion_attribution", probe=_deletion_probe, compare=_deletion_compare,
       hint="Deleting a pixel sets it to 0: rank pixels by how much of the target logit they carry relative to a "
            "black image, largest first (integrated gradients with a black baseline).")
def _deletion_cases():
    model, x, target = _deletion_setup()
    yield Case(f"a classifier trained by the grader, 200 test images; target: deletion score <= {DELETION_RATIO} "
               "x random", (x, target), expected=None, spec=_DELETION_SEED)


# ----------------------------------------------------------------------------- concept questions

def _concept_compare(got, expected, case):
    if not isinstance(got, dict) or set(got) != set(expected):
        return f"return a dict with the keys {sorted(expected)}."
    wrong = [k for k in sorted(expected)
             if not isinstance(got[k], str) or got[k].strip().lower() != expected[k]]
    if wrong:
        return f"{len(wrong)} of {len(expected)} answers are not right: {', '.join(wrong)}."
    return None


@check("concept_attributions", reference=ref.concept_attributions, compare=_concept_compare,
       hint="Reread the sections each question is about.")
def _concept_attributions_cases():
    yield Case("the three concept questions")
