# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 17 · Few-shot, meta-learning, self-supervision
#
# A classifier trained on a thousand labelled images per class is of little use when a new class arrives with
# one labelled example. This chapter builds the tools that make such *few-shot* problems solvable: a good
# **embedding**, in which a single example already says where its class lives; **meta-learning**, which trains
# for fast adaptation instead of for one task; and **contrastive self-supervision**, which learns embeddings
# from unlabelled data by telling views of the same example apart from everything else.
#
# **Learning goals**
# - Sample N-way K-shot episodes reproducibly, and classify their queries with prototypical networks
#   (negative squared distances to class means) and matching networks (attention over the support set).
# - Write the triplet loss, InfoNCE and CLIP's symmetric loss, with the temperature and the hinge where they
#   belong, and random augmentations that make two views of a digit.
# - Write MAML's inner step and its meta-gradient, see where the second-order term comes from, and compare it
#   with first-order MAML on sine regression.
# - Train an embedding on the digits 0-4 that classifies new images of them from one example each, and see
#   why it must not forget what the digits 5-9, which it never sees, need.
#
# **Notes followed.** Hegde, *NYU deep learning notes*, lecture 13 (self-supervised learning: few-shot learning,
# MAML, Siamese and triplet networks, matching and prototypical networks, contrastive self-supervision, SimCLR,
# CLIP); *CS 182/282A discussion worksheets*, discussion 12 (meta-learning: the meta-learning set-up, black-box
# and metric-based meta-learning, prototypical networks, MAML and its outer-loop gradient).
#
# **Conventions used throughout.** In an *N-way K-shot* episode the N classes are renamed $0,\dots,N-1$ in the
# order they were drawn. Embeddings are rows: a batch is `(B, D)`, a support set `(N, K, D)` (class first, then
# shot). Distances are **squared** Euclidean distances; similarities in the contrastive losses are **cosine**
# similarities (rows scaled to unit length) divided by a temperature $\tau$. Losses are means over the batch.
# Every function keeps the dtype and device of its input and never modifies its inputs.


# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false}
import math
import numpy as np
import torch
import torch.nn.functional as F
import matplotlib.pyplot as plt
import ipywidgets as widgets
from course.demos import interact
from course.checks import expect_close, expect_true, expect_shape
from course.meta import digits_by_class_split, fewshot_accuracy, fewshot_split, init_sine_mlp, sine_mlp, sine_task

# %%
# Keeps the notebook fast on a busy machine: the computations here are small.
torch.set_num_threads(1)
X_base, y_base, X_novel, y_novel = digits_by_class_split()
print(f"base classes 0-4: {len(y_base)} images; novel classes 5-9: {len(y_novel)} images")

# %% [markdown]
# ## 1. Episodes
#
# Few-shot learning is trained and tested on **episodes** (discussion 12, §1): small tasks that each look like the
# problem we will face. An N-way K-shot episode draws N classes, then K labelled *support* examples and Q
# *query* examples from each; the learner sees the support set and must label the queries. Training on many
# such episodes from the base classes and testing on episodes from classes never seen (here: train on the
# digits 0-4, test on 5-9) measures exactly what we want: how well the learner does with K examples of a new
# class.
#
# ### Exercise 1: `sample_episode`
# Given int64 `labels` of shape `(M,)`, return index tensors `support` `(n_way, k_shot)` and `query`
# `(n_way, n_query)` into `labels`, and `classes` `(n_way,)`, the original labels of the episode's classes
# $0..N-1$. To make episodes reproducible, the draws are fixed, all from `generator`, in this order:
# 1. `torch.randperm(C, generator=generator)` over the $C$ distinct labels **sorted** (`torch.unique`); the
#    classes are the first `n_way` entries of the permutation (in that order);
# 2. then, for each picked class in turn, `torch.randperm(n_c, generator=generator)` over that class's
#    examples (their indices in the order they appear in `labels`); the first `k_shot + n_query` entries are
#    used, the first `k_shot` as the support, the rest as the queries.

# %% nbgrader={"grade": false, "grade_id": "sample_episode", "locked": false, "schema_version": 3, "solution": true}
def sample_episode(labels, n_way, k_shot, n_query, generator):
    """Indices of one N-way K-shot episode.

    Args:
        labels: int64 tensor (M,).
        n_way, k_shot, n_query: ints.
        generator: torch.Generator, the only source of randomness.

    Returns:
        (support (n_way, k_shot), query (n_way, n_query), classes (n_way,)), all int64.
    """
    ### BEGIN SOLUTION
    distinct = torch.unique(labels)
    classes = distinct[torch.randperm(len(distinct), generator=generator)[:n_way]]
    support, query = [], []
    for c in classes:
        members = torch.nonzero(labels == c).flatten()
        chosen = members[torch.randperm(len(members), generator=generator)[:k_shot + n_query]]
        support.append(chosen[:k_shot])
        query.append(chosen[k_shot:])
    return torch.stack(support), torch.stack(query), classes
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sample_episode", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_, y_b, _, _ = digits_by_class_split()
support, query, classes = sample_episode(y_b, 3, 2, 4, torch.Generator().manual_seed(0))
expect_shape(support, (3, 2), what="support")
expect_shape(query, (3, 4), what="query")
expect_true(bool((y_b[support] == classes[:, None]).all()) and bool((y_b[query] == classes[:, None]).all()),
            "row j of support and query must hold examples of class classes[j].")
expect_true(len(set(support.flatten().tolist()) | set(query.flatten().tolist())) == 18,
            "an example appears twice in the episode.", hint="Draw without replacement (a permutation).")
expect_close(classes, torch.tensor([4, 0, 1]), what="the classes drawn with seed 0",
             hint="The first draw is a permutation of the sorted distinct labels; keep its order.")

# %% nbgrader={"grade": true, "grade_id": "test_sample_episode_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("sample_episode", sample_episode)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Prototypical networks
#
# A prototypical network (Snell et al., 2017; lecture 13 and discussion 12, §2.2) embeds every image with a
# network $f_\phi$ and summarizes class $k$ by the mean of its embedded support examples, its **prototype**
#
# $$c_k = \frac1K \sum_{j=1}^K f_\phi(x_{k,j}).$$
#
# A query is scored by how close it lies to each prototype: the logits are **minus the squared Euclidean
# distances**, $\ell_k(x) = -\lVert f_\phi(x) - c_k\rVert^2$, and $p(y=k\mid x) = \mathrm{softmax}_k(\ell(x))$. The
# sign matters: the nearest prototype must get the largest logit. Training minimizes the cross-entropy of the
# queries' true classes, episode after episode, so the embedding learns to cluster classes around their means.
#
# ### Exercise 2: `prototypes`
# Given embedded support examples `(N, K, D)`, return the prototypes `(N, D)`.

# %% nbgrader={"grade": false, "grade_id": "prototypes", "locked": false, "schema_version": 3, "solution": true}
def prototypes(support):
    """Class means of the embedded support set.

    Args:
        support: (N, K, D), class first, then shot.

    Returns:
        (N, D).
    """
    ### BEGIN SOLUTION
    return support.mean(dim=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_prototypes", "locked": true, "points": 1, "schema_version": 3, "solution": false}
s = torch.tensor([[[0.0, 2.0], [2.0, 0.0], [1.0, 1.0]],
                  [[4.0, 4.0], [6.0, 4.0], [5.0, 7.0]]], dtype=torch.float64)
expect_close(prototypes(s), torch.tensor([[1.0, 1.0], [5.0, 5.0]], dtype=torch.float64),
             what="prototypes of 2 classes x 3 shots", hint="Average over the shots of each class, not over the classes.")

# %% nbgrader={"grade": true, "grade_id": "test_prototypes_2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("prototypes", prototypes)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3: `prototype_logits`
# Given queries `(M, D)` and prototypes `(N, D)`, return the logits `(M, N)`,
# `logits[i, k]` $= -\lVert q_i - c_k\rVert^2$. Vectorize (no Python loop over queries).

# %% nbgrader={"grade": false, "grade_id": "prototype_logits", "locked": false, "schema_version": 3, "solution": true}
def prototype_logits(query, protos):
    """Minus squared Euclidean distances from each query to each prototype.

    Args:
        query: (M, D).
        protos: (N, D).

    Returns:
        (M, N).
    """
    ### BEGIN SOLUTION
    diff = query[:, None, :] - protos[None, :, :]
    return -(diff * diff).sum(-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_prototype_logits", "locked": true, "points": 1, "schema_version": 3, "solution": false}
q = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
c = torch.tensor([[3.0, 4.0], [1.0, 0.0]], dtype=torch.float64)
expect_close(prototype_logits(q, c), torch.tensor([[-25.0, -1.0], [-13.0, -1.0]], dtype=torch.float64),
             what="prototype_logits of 2 queries and 2 prototypes",
             hint="Squared distances, with a minus sign: the closest prototype gets the largest logit.")

# %% nbgrader={"grade": true, "grade_id": "test_prototype_logits_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("prototype_logits", prototype_logits)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# **Why squared distances?** Expand $-\lVert q - c_k\rVert^2 = 2\,c_k^\top q - \lVert c_k\rVert^2 - \lVert q\rVert^2$.
# The last term is the same for every class, so it cancels in the softmax. Concept question 1 at the end asks
# what kind of classifier that leaves.

# %% [markdown]
# ## 3. Matching networks
#
# Matching networks (Vinyals et al., 2016; lecture 13) skip the class means: a query attends to **every** support
# example, with weights given by a softmax over the support set of the cosine similarities,
#
# $$a(q, x_j) = \frac{\exp \cos(q, x_j)}{\sum_{j'} \exp\cos(q, x_{j'})}, \qquad
#   P(y = k \mid q) = \sum_j a(q, x_j)\, [y_j = k].$$
#
# ### Exercise 4: `matching_predict`
# Given embedded queries `(M, D)`, embedded support examples `(S, D)` (flattened, any order), their labels
# `(S,)` in $0..N-1$ and `n_way` $=N$, return the class probabilities `(M, N)` (rows sum to 1).

# %% nbgrader={"grade": false, "grade_id": "matching_predict", "locked": false, "schema_version": 3, "solution": true}
def matching_predict(query, support, support_labels, n_way):
    """Matching-network class probabilities: cosine attention over the support set.

    Args:
        query: (M, D).
        support: (S, D).
        support_labels: int64 (S,) in 0..n_way-1.
        n_way: N.

    Returns:
        (M, N), each row summing to 1.
    """
    ### BEGIN SOLUTION
    sims = F.normalize(query, dim=-1) @ F.normalize(support, dim=-1).T
    attention = torch.softmax(sims, dim=-1)
    return attention @ F.one_hot(support_labels, n_way).to(attention.dtype)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_matching_predict", "locked": true, "points": 1, "schema_version": 3, "solution": false}
P = matching_predict(torch.tensor([[2.0, 0.0]], dtype=torch.float64), torch.tensor([[1.0, 0.0], [0.0, 3.0], [0.0, 1.0]], dtype=torch.float64),
                     torch.tensor([0, 1, 1]), 2)
e = math.e
expect_close(P, torch.tensor([[e / (e + 2), 2 / (e + 2)]], dtype=torch.float64),
             what="matching_predict of one query, 3 support examples",
             hint="Cosine similarities (the lengths must not matter), a softmax over the SUPPORT examples, "
                  "then add up the attention that falls on each class.")

# %% nbgrader={"grade": true, "grade_id": "test_matching_predict_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("matching_predict", matching_predict)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: raw pixels or a learned embedding?
# Nearest-class-mean classification works in any space. Move the sliders: the query accuracy over 200 random
# episodes (five queries per class) on held-out images of the base digits 0-4 and on the novel digits 5-9, with
# raw pixels and (once you have done section 7) with your learned embedding. More shots help everywhere;
# whether a learned embedding helps depends on whether the classes were among those it was trained on.

# %%
_learned = {}
split = fewshot_split()


def compare_embeddings(n_way=5, k_shot=1):
    spaces = {"raw pixels": lambda images: images}
    if "embed" in _learned:
        spaces["learned embedding"] = _learned["embed"]
    groups = [("held-out digits 0-4", split.X_heldout, split.y_heldout), ("novel digits 5-9", split.X_novel, split.y_novel)]
    fig, ax = plt.subplots(figsize=(6, 2.8))
    for i, (name, embed_fn) in enumerate(spaces.items()):
        values = [fewshot_accuracy(embed_fn(X), y, n_way, k_shot, torch.Generator().manual_seed(0), n_episodes=200)
                  for _, X, y in groups]
        positions = np.arange(len(groups)) + 0.35 * i
        bars = ax.bar(positions, values, width=0.33, label=name, color=["C7", "C2"][i])
        for bar, v in zip(bars, values):
            ax.text(bar.get_x() + bar.get_width() / 2, v + 0.01, f"{v:.3f}", ha="center", fontsize=8)
    ax.axhline(1 / n_way, color="k", ls=":", label=f"chance = 1/{n_way}")
    ax.set_xticks(np.arange(len(groups)) + 0.175, [g[0] for g in groups])
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("query accuracy")
    ax.set_title(f"{n_way}-way {k_shot}-shot, 200 episodes")
    ax.legend(loc="lower right", fontsize=8)
    plt.show()
    if "embed" not in _learned:
        print("Write train_fewshot_embedding (section 7) to compare a learned embedding.")


interact(compare_embeddings, n_way=widgets.IntSlider(value=5, min=2, max=5),
         k_shot=widgets.IntSlider(value=1, min=1, max=10));

# %% [markdown]
# ## 4. Metric learning: the triplet loss
#
# Siamese and triplet networks (lecture 13) learn the embedding directly from *comparisons*. A triplet holds an
# anchor $a$, a positive $p$ of the same class and a negative $n$ of another class. We want the anchor closer to
# the positive than to the negative **by a margin** $m$; once it is, the triplet has nothing more to teach:
#
# $$\mathcal L = \frac1B\sum_{b=1}^{B} \max\big(0,\ \lVert a_b - p_b\rVert^2 - \lVert a_b - n_b\rVert^2 + m\big).$$
#
# Without the hinge $\max(0,\cdot)$ the loss would reward pushing negatives away forever; without the margin,
# the collapsed embedding $f \equiv 0$ would already be a minimum.
#
# ### Exercise 5: `triplet_loss`
# Given `anchor`, `positive`, `negative` of shape `(B, D)` and a float `margin`, return the scalar loss above
# (squared distances, as written; note that `torch.nn.TripletMarginLoss` uses unsquared ones).

# %% nbgrader={"grade": false, "grade_id": "triplet_loss", "locked": false, "schema_version": 3, "solution": true}
def triplet_loss(anchor, positive, negative, margin=1.0):
    """Hinge triplet loss with squared Euclidean distances, averaged over the batch.

    Args:
        anchor, positive, negative: (B, D).
        margin: float.

    Returns:
        scalar tensor.
    """
    ### BEGIN SOLUTION
    d_pos = ((anchor - positive) ** 2).sum(-1)
    d_neg = ((anchor - negative) ** 2).sum(-1)
    return torch.clamp(d_pos - d_neg + margin, min=0).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_triplet_loss", "locked": true, "points": 1, "schema_version": 3, "solution": false}
a = torch.zeros(2, 2, dtype=torch.float64)
p = torch.tensor([[1.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
n = torch.tensor([[0.0, 1.5], [0.0, 3.0]], dtype=torch.float64)
expect_close(triplet_loss(a, p, n, margin=2.0), 0.375, what="triplet_loss of 2 triplets, margin 2",
             hint="Per triplet: squared distances, plus the margin, and nothing below zero (the second triplet is "
                  "already satisfied); then the mean.")

# %% nbgrader={"grade": true, "grade_id": "test_triplet_loss_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("triplet_loss", triplet_loss)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Contrastive self-supervision
#
# Without labels we can still make a classification problem (lecture 13, SimCLR): take a batch of $B$ examples,
# make two random **views** of each (augmentations: shifts, noise, crops, colour changes), embed them, and ask
# each view to pick out its partner among the $B$ candidates of the other view. With
# $s_{ij} = \cos(z^{(1)}_i, z^{(2)}_j)/\tau$, the **InfoNCE** loss is the cross-entropy of that $B$-way problem,
#
# $$\mathcal L_{\text{InfoNCE}} = \frac1B \sum_{i=1}^B -\log \frac{\exp s_{ii}}{\sum_{j=1}^B \exp s_{ij}} .$$
#
# Each **row** $i$ is one classification problem over the candidates $j$. The temperature $\tau$ (0.1 or less in
# practice) sharpens the softmax: cosines live in $[-1, 1]$, and without dividing by a small $\tau$ the loss could
# never become confident.
#
# ### Exercise 6: `info_nce`
# Given two views `z1`, `z2` of shape `(B, D)` (not normalized) and `temperature`, return the scalar loss.
# Use a numerically stable cross-entropy (log-sum-exp): with $\tau = 0.01$ the logits reach 100.

# %% nbgrader={"grade": false, "grade_id": "info_nce", "locked": false, "schema_version": 3, "solution": true}
def info_nce(z1, z2, temperature=0.1):
    """InfoNCE with cosine similarities: row i of z1 must pick row i of z2.

    Args:
        z1, z2: (B, D).
        temperature: tau > 0.

    Returns:
        scalar tensor.
    """
    ### BEGIN SOLUTION
    logits = F.normalize(z1, dim=-1) @ F.normalize(z2, dim=-1).T / temperature
    return F.cross_entropy(logits, torch.arange(len(z1), device=z1.device))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_info_nce", "locked": true, "points": 1, "schema_version": 3, "solution": false}
z = torch.eye(3, dtype=torch.float64)
expect_close(info_nce(5 * z, z, temperature=1.0), math.log(1 + 2 / math.e), what="info_nce(5 * eye(3), eye(3), tau=1)",
             hint="Cosine similarities: the length of a row must not matter.")
z1 = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
z2 = torch.tensor([[1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
r = 2 ** 0.5
expected = 0.5 * (math.log(math.exp(2) + math.exp(r)) - 2 + math.log(1 + math.exp(r)) - r)
expect_close(info_nce(z1, z2, temperature=0.5), expected, what="info_nce of a 2 x 2 example, tau = 0.5",
             hint="Row i of the similarity matrix (z1[i] against every z2[j]) is one softmax; divide by tau.")

# %% nbgrader={"grade": true, "grade_id": "test_info_nce_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("info_nce", info_nce)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 7: `clip_loss`
# CLIP (lecture 13) trains an image tower and a text tower on $B$ captioned images. Row $i$ of the similarity
# matrix asks image $i$ to find its caption among all captions; **column** $i$ asks caption $i$ to find its
# image among all images. CLIP uses both: its loss is the mean of the image-to-text and the text-to-image
# InfoNCE. Given `image_emb`, `text_emb` `(B, D)` and `temperature`, return that scalar.

# %% nbgrader={"grade": false, "grade_id": "clip_loss", "locked": false, "schema_version": 3, "solution": true}
def clip_loss(image_emb, text_emb, temperature=0.07):
    """Symmetric contrastive loss: mean of the image-to-text and text-to-image cross-entropies.

    Args:
        image_emb, text_emb: (B, D); row i of each belongs to pair i.
        temperature: tau > 0.

    Returns:
        scalar tensor.
    """
    ### BEGIN SOLUTION
    logits = F.normalize(image_emb, dim=-1) @ F.normalize(text_emb, dim=-1).T / temperature
    targets = torch.arange(len(image_emb), device=image_emb.device)
    return 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_clip_loss", "locked": true, "points": 1, "schema_version": 3, "solution": false}
z1 = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
z2 = torch.tensor([[1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
r = 2 ** 0.5
rows = 0.5 * (math.log(math.exp(2) + math.exp(r)) - 2 + math.log(1 + math.exp(r)) - r)
cols = 0.5 * (math.log(math.exp(2) + 1) - 2 + math.log(math.exp(r) + math.exp(r)) - r)
expect_close(clip_loss(z1, z2, temperature=0.5), 0.5 * (rows + cols), what="clip_loss of a 2 x 2 example, tau = 0.5",
             hint="Both directions: rows (images choose captions) and columns (captions choose images), averaged.")

# %% nbgrader={"grade": true, "grade_id": "test_clip_loss_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("clip_loss", clip_loss)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 8: `augment_digits`
# Views for contrastive learning come from augmentations that change the pixels but not the meaning. For the
# 8x8 digits: a small shift (with zeros coming in at the border, not wrapping around) and a little noise.
# Given `X` `(B, 64)` (row-major 8x8 images), return `(B, 64)` in `X`'s dtype. The draws, in this order:
# 1. `shifts = torch.randint(-max_shift, max_shift + 1, (B, 2), generator=generator)`; image $b$ moves **down**
#    by `shifts[b, 0]` rows and **right** by `shifts[b, 1]` columns: `out[b, r, c] = X[b, r - dy, c - dx]`, and 0
#    where `r - dy` or `c - dx` falls outside `0..7`;
# 2. `noise_std * torch.randn(B, 64, generator=generator, dtype=X.dtype)` added to every pixel.

# %% nbgrader={"grade": false, "grade_id": "augment_digits", "locked": false, "schema_version": 3, "solution": true}
def augment_digits(X, generator, max_shift=1, noise_std=0.05):
    """A random view of each digit: shift with zero fill, then Gaussian noise.

    Args:
        X: (B, 64).
        generator: torch.Generator.
        max_shift: int, largest shift in pixels.
        noise_std: float.

    Returns:
        (B, 64).
    """
    ### BEGIN SOLUTION
    B = X.shape[0]
    shifts = torch.randint(-max_shift, max_shift + 1, (B, 2), generator=generator)
    noise = noise_std * torch.randn(B, 64, generator=generator, dtype=X.dtype)
    images = X.reshape(B, 8, 8)
    out = torch.zeros_like(images)
    for b in range(B):
        dy, dx = int(shifts[b, 0]), int(shifts[b, 1])
        src = images[b, max(0, -dy):8 - max(0, dy), max(0, -dx):8 - max(0, dx)]
        out[b, max(0, dy):8 - max(0, -dy), max(0, dx):8 - max(0, -dx)] = src
    return out.reshape(B, 64) + noise
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_augment_digits", "locked": true, "points": 1, "schema_version": 3, "solution": false}
img = torch.zeros(1, 64, dtype=torch.float64)
img[0, 8 * 3 + 7] = 1.0  # row 3, last column
for seed in range(20):
    out = augment_digits(img, torch.Generator().manual_seed(seed), max_shift=1, noise_std=0.0).reshape(8, 8)
    dy, dx = torch.randint(-1, 2, (1, 2), generator=torch.Generator().manual_seed(seed))[0].tolist()
    want = torch.zeros(8, 8, dtype=torch.float64)
    if dx <= 0:
        want[3 + dy, 7 + dx] = 1.0
    expect_close(out, want, what=f"augment_digits with shift (dy, dx) = ({dy}, {dx}) and no noise",
                 hint="out[r, c] = X[r - dy, c - dx]: positive dy moves down, positive dx right; pixels pushed "
                      "over the border disappear (no wrap-around).")
noisy = augment_digits(torch.zeros(400, 64, dtype=torch.float64), torch.Generator().manual_seed(0), noise_std=0.5)
expect_close(noisy.std(), 0.5, what="the noise's standard deviation", rtol=0.02, atol=0.0)

# %% nbgrader={"grade": true, "grade_id": "test_augment_digits_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("augment_digits", augment_digits)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# Two views of a few digits, and the InfoNCE loss of raw pixels between them as the temperature changes:
# the same similarities give a very different loss (and gradient) depending on $\tau$.

# %%
try:
    g = torch.Generator().manual_seed(3)
    view1, view2 = augment_digits(X_novel[:6], g), augment_digits(X_novel[:6], g)
    fig, axes = plt.subplots(2, 6, figsize=(7, 2.6))
    for j in range(6):
        axes[0, j].imshow(view1[j].reshape(8, 8), cmap="gray_r")
        axes[1, j].imshow(view2[j].reshape(8, 8), cmap="gray_r")
        axes[0, j].set_axis_off()
        axes[1, j].set_axis_off()
    fig.suptitle("two augmented views of the same six digits")
    plt.show()
    taus = [0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    batch1, batch2 = augment_digits(X_novel[:64], g), augment_digits(X_novel[:64], g)
    losses = [float(info_nce(batch1, batch2, t)) for t in taus]
    plt.figure(figsize=(4.5, 2.8))
    plt.semilogx(taus, losses, "o-")
    plt.axhline(math.log(64), color="k", ls=":", label="log B (uniform guess)")
    plt.xlabel("temperature tau")
    plt.ylabel("InfoNCE of raw pixels, B = 64")
    plt.legend()
    plt.show()
except NotImplementedError:
    print("Write augment_digits and info_nce to see this demo.")

# %% [markdown]
# ## 6. MAML on sine regression
#
# Model-agnostic meta-learning (Finn et al., 2017; lecture 13 and discussion 12, §2.3) looks for an
# *initialization* $\theta$ from which **one gradient step** on a task's support set gives a good model for that
# task. For a task $\mathcal T$ with support loss $\mathcal L^{(0)}$ and query loss $\mathcal L^{(1)}$ (both mean
# squared errors here), the inner step is
#
# $$\theta' = \theta - \alpha \nabla_\theta \mathcal L^{(0)}(\theta),$$
#
# and the meta-loss is the query loss after adaptation, averaged over tasks: $\frac1T\sum_{\mathcal T}
# \mathcal L^{(1)}_{\mathcal T}(\theta'_{\mathcal T})$. Its gradient with respect to $\theta$ (the **meta-gradient**)
# is what the outer loop follows. It goes *through* the inner step, which itself contains a gradient.
#
# The tasks are sines $y = A\sin(x - \varphi)$ with random amplitude and phase; the model is a small tanh network
# `sine_mlp(params, x)` written functionally (the parameters are an argument), so that it can be evaluated at
# the adapted parameters $\theta'$ as easily as at $\theta$.
#
# ### Exercise 9: `maml_inner_step`
# Given `model`, `params` (a list of tensors that require grad), support inputs `x` and targets `y`, and
# `inner_lr` $=\alpha$, return the list of adapted tensors $\theta - \alpha\nabla_\theta\mathcal L^{(0)}$ with
# $\mathcal L^{(0)} = $ mean of `(model(params, x) - y) ** 2`. Use `torch.autograd.grad`; with
# `create_graph=True` the returned tensors must remain differentiable functions of `params` **through the
# gradient** (so that the meta-gradient can be taken later).

# %% nbgrader={"grade": false, "grade_id": "maml_inner_step", "locked": false, "schema_version": 3, "solution": true}
def maml_inner_step(model, params, x, y, inner_lr, create_graph=False):
    """One step of gradient descent on the support MSE.

    Args:
        model: model(params, x) -> predictions shaped like y.
        params: list of tensors with requires_grad=True.
        x, y: support inputs and targets.
        inner_lr: alpha.
        create_graph: keep the graph of the gradient (for second-order MAML).

    Returns:
        list of tensors, same shapes as params.
    """
    ### BEGIN SOLUTION
    loss = ((model(params, x) - y) ** 2).mean()
    grads = torch.autograd.grad(loss, list(params), create_graph=create_graph)
    return [p - inner_lr * g for p, g in zip(params, grads)]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_maml_inner_step", "locked": true, "points": 1, "schema_version": 3, "solution": false}
w = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
line = lambda p, x: p[0] * x
x1, y1 = torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([0.0, 0.0], dtype=torch.float64)
(w1,) = maml_inner_step(line, [w], x1, y1, 0.1)
expect_close(w1, torch.tensor([0.5], dtype=torch.float64), what="one step on y = w x, loss mean((w x)^2), alpha 0.1",
             hint="The gradient of the MEAN squared error is 5 w here; step against it.")
(w1,) = maml_inner_step(line, [w], x1, y1, 0.1, create_graph=True)
(dw1_dw,) = torch.autograd.grad(w1.sum(), w)
expect_close(dw1_dw, torch.tensor([0.5], dtype=torch.float64), what="d w' / d w with create_graph=True",
             hint="w' = w - alpha * 5 w: with the graph of the gradient kept, d w'/d w = 1 - 5 alpha.")

# %% nbgrader={"grade": true, "grade_id": "test_maml_inner_step_2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("maml_inner_step", maml_inner_step)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 10: `maml_meta_gradient`
# Derive first: by the chain rule, $\nabla_\theta \mathcal L^{(1)}(\theta')$ is a product of two factors. Which?
# What is the Jacobian $\partial\theta'/\partial\theta$ of the inner step, and which object of second derivatives
# appears in it? What is left if you pretend that $\theta'$ does not depend on $\theta$ through the gradient?
#
# <details><summary>Hint 1</summary>
#
# Write $\theta' = \theta - \alpha g(\theta)$ with $g = \nabla\mathcal L^{(0)}$, and differentiate it like any
# composition: the Jacobian of $\theta'$ is the identity minus $\alpha$ times the Jacobian of $g$.
# </details>
#
# <details><summary>Hint 2</summary>
#
# The Jacobian of a gradient is the Hessian $H^{(0)} = \nabla^2\mathcal L^{(0)}(\theta)$, which is symmetric.
# So the meta-gradient of one task is the query gradient (taken at $\theta'$) multiplied by $(I - \alpha H^{(0)})$.
# </details>
#
# <details><summary>Hint 3</summary>
#
# $\nabla_\theta \mathcal L^{(1)}(\theta') = (I - \alpha H^{(0)}(\theta))\,\nabla\mathcal L^{(1)}(\theta')$.
# Autograd computes this for you if the inner step kept its graph (`create_graph=True`) and you differentiate
# the query loss with respect to the **original** `params`. **First-order MAML** drops $\alpha H^{(0)}$: it
# treats $\theta'$ as a constant (detach it, differentiate the query loss with respect to $\theta'$ itself) and
# uses $\nabla\mathcal L^{(1)}(\theta')$ as the meta-gradient: cheaper (no second derivatives), usually almost as good.
# </details>
#
# Given `model`, `params`, a list `tasks` of `(x_s, y_s, x_q, y_q)`, `inner_lr`, and `first_order`, return the
# meta-gradient as a list of **detached** tensors shaped like `params`: the mean over tasks of each task's
# gradient, exact (second order) by default, first-order MAML's when `first_order=True`.

# %% nbgrader={"grade": false, "grade_id": "maml_meta_gradient", "locked": false, "schema_version": 3, "solution": true}
def maml_meta_gradient(model, params, tasks, inner_lr, first_order=False):
    """Gradient of the mean post-adaptation query MSE with respect to the initial parameters.

    Args:
        model: model(params, x).
        params: list of tensors with requires_grad=True.
        tasks: list of (x_s, y_s, x_q, y_q).
        inner_lr: alpha.
        first_order: if True, first-order MAML (adapted parameters treated as constants).

    Returns:
        list of detached tensors shaped like params.
    """
    ### BEGIN SOLUTION
    params = list(params)
    total = [torch.zeros_like(p) for p in params]
    for x_s, y_s, x_q, y_q in tasks:
        adapted = maml_inner_step(model, params, x_s, y_s, inner_lr, create_graph=not first_order)
        if first_order:
            adapted = [a.detach().requires_grad_() for a in adapted]
            grads = torch.autograd.grad(((model(adapted, x_q) - y_q) ** 2).mean(), adapted)
        else:
            grads = torch.autograd.grad(((model(adapted, x_q) - y_q) ** 2).mean(), params)
        total = [t + g.detach() for t, g in zip(total, grads)]
    return [t / len(tasks) for t in total]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_maml_meta_gradient", "locked": true, "points": 2, "schema_version": 3, "solution": false}
line = lambda p, x: p[0] * x
# y = w x, support (x=1, y=0), query (x=1, y=0), alpha = 0.25: w' = w - 0.25 * 2 w = w / 2, meta-loss (w/2)^2.
w = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
one, zero = torch.ones(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
task = (one, zero, one, zero)
expect_close(maml_meta_gradient(line, [w], [task], 0.25)[0], torch.tensor([0.5], dtype=torch.float64),
             what="second-order meta-gradient of (w/2)^2 at w = 1",
             hint="The adapted w' depends on w through the gradient too: keep the inner step's graph and "
                  "differentiate with respect to the ORIGINAL parameters.")
expect_close(maml_meta_gradient(line, [w], [task], 0.25, first_order=True)[0], torch.tensor([1.0], dtype=torch.float64),
             what="first-order meta-gradient at w = 1", hint="First order: the query gradient at w', 2 w' = 1.")
task2 = (one, zero, 2 * one, zero)
expect_close(maml_meta_gradient(line, [w], [task, task2], 0.25)[0], torch.tensor([1.25], dtype=torch.float64),
             what="meta-gradient of two tasks", hint="The MEAN over tasks.")

# %% nbgrader={"grade": true, "grade_id": "test_maml_meta_gradient_2", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("maml_meta_gradient", maml_meta_gradient)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ### Demo: meta-training on sines
# Meta-training with Adam on your meta-gradients, 5 tasks per step, 10 support points per task, $\alpha = 0.01$,
# second order and first order from the same start, then one comparison: how well does each initialization fit
# a new sine after **one** inner step on 10 points? A network pretrained on the average of all tasks (the
# natural baseline) would predict roughly zero everywhere, since the sines average out.

# %%
from tqdm.auto import tqdm


def meta_train(first_order, steps=150, seed=0):
    params = init_sine_mlp(torch.Generator().manual_seed(seed), hidden=40)
    opt = torch.optim.Adam(params, lr=0.003)
    g = torch.Generator().manual_seed(seed + 1)
    history = []
    for _ in tqdm(range(steps), desc="first-order MAML" if first_order else "second-order MAML", leave=False):
        tasks = [sine_task(g) for _ in range(5)]
        grads = maml_meta_gradient(sine_mlp, params, tasks, 0.01, first_order=first_order)
        for p, gr in zip(params, grads):
            p.grad = gr
        opt.step()
        history.append(float(sum(((sine_mlp(maml_inner_step(sine_mlp, params, xs, ys, 0.01), xq) - yq) ** 2).mean()
                                  for xs, ys, xq, yq in tasks)) / 5)
    return params, history


try:
    results = {fo: meta_train(fo) for fo in (False, True)}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2))
    for fo, (params, hist) in results.items():
        ax1.plot(np.convolve(hist, np.ones(10) / 10, mode="valid"), label="first order" if fo else "second order")
    ax1.set_xlabel("meta-step")
    ax1.set_ylabel("query MSE after one step (running mean)")
    ax1.legend()
    xs, ys, _, _ = sine_task(torch.Generator().manual_seed(123))
    grid = torch.linspace(-5, 5, 200, dtype=torch.float64)[:, None]
    x_all, y_all, _, _ = sine_task(torch.Generator().manual_seed(123), n_support=200)
    ax2.plot(*zip(*sorted(zip(x_all[:, 0].tolist(), y_all[:, 0].tolist()))), "k", lw=1, label="the new task")
    ax2.plot(xs, ys, "k^", label="10 support points")
    for fo, (params, _) in results.items():
        adapted = maml_inner_step(sine_mlp, params, xs, ys, 0.01)
        ax2.plot(grid, sine_mlp(adapted, grid).detach(), label=("first" if fo else "second") + "-order MAML, 1 step")
    ax2.legend(fontsize=7)
    plt.show()
except NotImplementedError:
    print("Write maml_inner_step and maml_meta_gradient to see this demo.")

# %% [markdown]
# ## 7. Make it work: a few-shot embedding that still sees new digits
#
# Train an embedding on **base** digits 0-4 for prototype classification (nearest class mean, squared
# distances), and check it two ways: 5-way **1-shot** episodes on **held-out** images of the base digits, and on
# the **novel** digits 5-9, which training never sees. Raw pixels score about 0.78 on the first and 0.72 on the
# second.
#
# The trap: train a network end to end on prototypical episodes of five classes and its output layer
# separates those five almost perfectly (about 0.98 on held-out base images), but it has learned to throw away
# everything that does not tell 0-4 apart, and the novel digits collapse onto each other (about 0.45). A
# useful embedding must do both: clearly better than pixels on the base classes, without destroying what the
# novel classes need. Which layer you return, how long you train, augmentations (`augment_digits`) or a
# contrastive term (`info_nce`) are your choices. Use your pieces: episodes from `sample_episode`,
# `prototypes`, `prototype_logits` and a cross-entropy loss.
#
# ### Exercise 11: `train_fewshot_embedding`
# Given base training images `X` `(M, 64)` (float32), labels `y` `(M,)` (digits 0-4 only) and a `generator`,
# return a function `embed(images) -> (B, E)` mapping (B, 64) images to embeddings (any width `E`, no gradient).
# Everything random must come from `generator` (seed your network's initialization from it, e.g. with
# `torch.manual_seed(int(torch.randint(2**31 - 1, (1,), generator=generator)))`). **Target:** 5-way 1-shot
# accuracy of at least **0.85** on held-out base images **and** at least **0.66** on the novel digits 5-9, in
# under 30 seconds on a laptop CPU. The grader re-runs your function with its own seed, embeds the held-out and
# novel images, and scores episodes whose labels your code never sees.

# %% nbgrader={"grade": false, "grade_id": "train_fewshot_embedding", "locked": false, "schema_version": 3, "solution": true}
def train_fewshot_embedding(X, y, generator):
    """Train an embedding on the base classes for prototypical few-shot classification.

    Args:
        X: (M, 64) float32 images; y: int64 (M,) labels of the base classes.
        generator: torch.Generator, the source of all randomness.

    Returns:
        embed: function mapping (B, 64) images to (B, E) embeddings.
    """
    ### BEGIN SOLUTION
    torch.manual_seed(int(torch.randint(2**31 - 1, (1,), generator=generator)))
    hidden = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU()).to(X.dtype)
    head = torch.nn.Linear(256, 64).to(X.dtype)
    opt = torch.optim.Adam(list(hidden.parameters()) + list(head.parameters()), lr=1e-3)
    n_way, k_shot, n_query = 5, 5, 10
    target = torch.arange(n_way).repeat_interleave(n_query)
    for _ in range(200):
        support, query, _ = sample_episode(y, n_way, k_shot, n_query, generator)
        emb_s = head(hidden(X[support.reshape(-1)])).reshape(n_way, k_shot, -1)
        loss = F.cross_entropy(prototype_logits(head(hidden(X[query.reshape(-1)])), prototypes(emb_s)), target)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def embed(images):  # the hidden layer: the output layer has forgotten everything but the digits 0-4
        with torch.no_grad():
            return hidden(images.to(X.dtype))

    return embed
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_train_fewshot_embedding", "locked": true, "points": 2, "schema_version": 3, "solution": false}
import time

split = fewshot_split()
start = time.perf_counter()
embed = train_fewshot_embedding(split.X_train, split.y_train, torch.Generator().manual_seed(0))
seconds = time.perf_counter() - start
Z_heldout, Z_novel = embed(split.X_heldout), embed(split.X_novel)
expect_true(isinstance(Z_novel, torch.Tensor) and Z_novel.ndim == 2 and Z_novel.shape[0] == len(split.X_novel),
            "embed(images) must return a (B, E) tensor.")
acc_base = fewshot_accuracy(Z_heldout, split.y_heldout, 5, 1, torch.Generator().manual_seed(1), n_episodes=300)
acc_novel = fewshot_accuracy(Z_novel, split.y_novel, 5, 1, torch.Generator().manual_seed(1), n_episodes=300)
print(f"trained in {seconds:.1f} s; 5-way 1-shot accuracy: held-out digits 0-4 {acc_base:.3f}, novel digits 5-9 "
      f"{acc_novel:.3f}")
expect_true(acc_base >= 0.85, f"held-out base accuracy {acc_base:.3f} is below the target 0.85.",
            hint="Is the episode loss going down? The logits must rank the NEAREST prototype first.")
expect_true(acc_novel >= 0.66, f"novel-digit accuracy {acc_novel:.3f} is below the target 0.66.",
            hint="The embedding has specialized to the base classes: return a representation that keeps more.")

# %% nbgrader={"grade": true, "grade_id": "test_train_fewshot_embedding_2", "locked": true, "points": 5, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("train_fewshot_embedding", train_fewshot_embedding)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# The widget of section 3 now shows your embedding next to raw pixels (move a slider there to try every N and
# K); here is its 5-way 1-shot setting. Below it, a look at what was learned: the first two principal components
# of the novel digits, on raw pixels and in your embedding.

# %%
try:
    _learned["embed"] = train_fewshot_embedding(split.X_train, split.y_train, torch.Generator().manual_seed(0))
    compare_embeddings(5, 1)
except NotImplementedError:
    print("Write train_fewshot_embedding to see this demo.")

# %%
if "embed" in _learned:
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, (name, feats) in zip(axes, [("raw pixels", X_novel), ("learned embedding", _learned["embed"](X_novel))]):
        centred = feats - feats.mean(0)
        _, _, V = torch.pca_lowrank(centred, q=2, center=False)
        pc = centred @ V[:, :2]
        for d in range(5, 10):
            sel = y_novel == d
            ax.scatter(pc[sel, 0], pc[sel, 1], s=4, label=str(d))
        ax.set_title(f"digits 5-9, {name} (first 2 principal components)", fontsize=9)
    axes[1].legend(markerscale=3, fontsize=8)
    plt.show()
else:
    print("Write train_fewshot_embedding to see this demo.")

# %% [markdown]
# ## 8. Concept questions
#
# Answer each with one letter in the dictionary returned by `concept_answers`.
#
# **q1.** Prototypical networks with squared Euclidean distances, with the embedding held fixed: as a function
# of the embedded query $q$, the classifier they define is
# - (a) a quadratic classifier whose class boundaries are curved, because distances are squared;
# - (b) a linear classifier on the embedding, with weights $2c_k$ and biases $-\lVert c_k\rVert^2$;
# - (c) a nearest-neighbour classifier over all support examples;
# - (d) not a classifier at all until the distances are normalized by the embedding's width.
#
# **q2.** Lowering InfoNCE's temperature $\tau$ (say from 1 to 0.05), at fixed embeddings:
# - (a) changes nothing, since cosine similarities are already normalized;
# - (b) spreads the gradient evenly over all negatives;
# - (c) concentrates the gradient on the negatives most similar to the anchor (the hardest ones);
# - (d) turns the loss into the triplet loss with margin $\tau$.
#
# **q3.** For one task, the second-order MAML meta-gradient is $(I - \alpha H^{(0)})\nabla\mathcal L^{(1)}(\theta')$.
# First-order MAML keeps $\nabla\mathcal L^{(1)}(\theta')$ and drops
# - (a) the term $-\alpha H^{(0)}\nabla\mathcal L^{(1)}(\theta')$, which involves the Hessian of the support loss;
# - (b) the inner step, i.e. it uses $\nabla\mathcal L^{(1)}(\theta)$;
# - (c) the query loss, using the support loss's gradient instead;
# - (d) nothing: for mean squared error losses the two are equal.
#
# ### Exercise 12: `concept_answers`
# Return `{"q1": ..., "q2": ..., "q3": ...}`, each value one of `"a"`, `"b"`, `"c"`, `"d"`.

# %% nbgrader={"grade": false, "grade_id": "concept_answers", "locked": false, "schema_version": 3, "solution": true}
def concept_answers():
    """Your answers to the concept questions.

    Returns:
        dict {"q1": letter, "q2": letter, "q3": letter}.
    """
    ### BEGIN SOLUTION
    return {"q1": "b", "q2": "c", "q3": "a"}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_concept_answers", "locked": true, "points": 1, "schema_version": 3, "solution": false}
answers = concept_answers()
expect_true(isinstance(answers, dict) and set(answers) == {"q1", "q2", "q3"},
            "concept_answers() must return a dict with the keys q1, q2, q3.")
for key, value in answers.items():
    expect_true(isinstance(value, str) and value.strip().lower() in {"a", "b", "c", "d"},
                f"{key}: answer with one of the letters a, b, c, d (got {value!r}).")

# %% nbgrader={"grade": true, "grade_id": "test_concept_answers_2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests (other shapes, random seeds, edge cases) run when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import run_check
_result = run_check("concept_answers", concept_answers)
assert _result.passed, _result.message
### END HIDDEN TESTS

# %% [markdown]
# ## What you built
#
# - `sample_episode`: reproducible N-way K-shot episodes, the unit of few-shot training and testing.
# - `prototypes`, `prototype_logits`: prototypical networks, nearest class means with negative squared
#   distances as logits (a linear classifier on the embedding).
# - `matching_predict`: matching networks, cosine attention over the whole support set.
# - `triplet_loss`, `info_nce`, `clip_loss`: metric learning with a hinge and margin, and the contrastive losses
#   of SimCLR and CLIP, with the temperature that makes them confident and CLIP's two directions.
# - `augment_digits`: the random views that turn unlabelled images into a classification problem.
# - `maml_inner_step`, `maml_meta_gradient`: MAML's gradient through a gradient step, $(I-\alpha H)\nabla\mathcal
#   L^{(1)}(\theta')$, and its first-order approximation.
# - `train_fewshot_embedding`: an embedding trained on digits 0-4 that beats pixels on them from one example
#   and keeps what the unseen digits 5-9 need.
#
# The next chapter looks at very wide networks, which behave like kernel machines: Gaussian processes and the
# neural tangent kernel.
