"""Classic wrong answers and correct alternatives for chapter 16 (Policy gradients, Q-learning, self-play)."""

CHAPTER = "16-deep-reinforcement-learning"

_SCORE = """
def _score_sum(logits, states, actions, coef):
    pi = torch.softmax(logits, dim=-1)
    score = torch.nn.functional.one_hot(actions, logits.shape[-1]).to(logits.dtype) - pi[states]
    out = torch.zeros_like(logits)
    out.index_add_(0, states.reshape(-1), (coef.unsqueeze(-1) * score).reshape(-1, logits.shape[-1]))
    return out
"""

MUTANTS = {
    "discounted_returns": {
        "no discounting (plain sum)": """
def discounted_returns(rewards, gamma):
    return rewards.sum(-1)
""",
        "discount starts at gamma**1": """
def discounted_returns(rewards, gamma):
    t = torch.arange(1, rewards.shape[-1] + 1, dtype=rewards.dtype)
    return (rewards * gamma ** t).sum(-1)
""",
        "sums over the first dimension": """
def discounted_returns(rewards, gamma):
    t = torch.arange(rewards.shape[0], dtype=rewards.dtype).reshape((-1,) + (1,) * (rewards.dim() - 1))
    return (rewards * gamma ** t).sum(0)
""",
    },
    "rewards_to_go": {
        "accumulated forward instead of backward": """
def rewards_to_go(rewards, gamma):
    out = torch.empty_like(rewards)
    running = torch.zeros_like(rewards[..., 0])
    for t in range(rewards.shape[-1]):
        running = rewards[..., t] + gamma * running
        out[..., t] = running
    return out
""",
        "no discounting": """
def rewards_to_go(rewards, gamma):
    return rewards.flip(-1).cumsum(-1).flip(-1)
""",
        "every entry is the full return": """
def rewards_to_go(rewards, gamma):
    t = torch.arange(rewards.shape[-1], dtype=rewards.dtype)
    total = (rewards * gamma ** t).sum(-1, keepdim=True)
    return total.expand_as(rewards).clone()
""",
    },
    "reinforce_gradient": {
        "gradient of pi instead of log pi (forgets to divide by pi)": _SCORE + """
def reinforce_gradient(logits, states, actions, rewards, weights=None):
    B = states.shape[0]
    w = torch.full((B,), 1.0 / B, dtype=logits.dtype) if weights is None else weights.to(logits.dtype)
    pi = torch.softmax(logits, dim=-1)
    p_taken = pi[states].gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    coef = w[:, None] * rewards.to(logits.dtype).sum(-1, keepdim=True) * p_taken
    return _score_sum(logits, states, actions, coef)
""",
        "score sign flipped (pi - onehot)": _SCORE + """
def reinforce_gradient(logits, states, actions, rewards, weights=None):
    B = states.shape[0]
    w = torch.full((B,), 1.0 / B, dtype=logits.dtype) if weights is None else weights.to(logits.dtype)
    coef = w[:, None] * rewards.to(logits.dtype).sum(-1, keepdim=True).expand(states.shape)
    return -_score_sum(logits, states, actions, coef)
""",
        "uses the reward of the same step instead of the total return": _SCORE + """
def reinforce_gradient(logits, states, actions, rewards, weights=None):
    B = states.shape[0]
    w = torch.full((B,), 1.0 / B, dtype=logits.dtype) if weights is None else weights.to(logits.dtype)
    return _score_sum(logits, states, actions, w[:, None] * rewards.to(logits.dtype))
""",
        "ignores the weights": _SCORE + """
def reinforce_gradient(logits, states, actions, rewards, weights=None):
    B = states.shape[0]
    coef = rewards.to(logits.dtype).sum(-1, keepdim=True).expand(states.shape) / B
    return _score_sum(logits, states, actions, coef)
""",
    },
    "reward_to_go_gradient": {
        "baseline added instead of subtracted": _SCORE + """
def reward_to_go_gradient(logits, states, actions, rewards, baseline=None, weights=None):
    B = states.shape[0]
    w = torch.full((B,), 1.0 / B, dtype=logits.dtype) if weights is None else weights.to(logits.dtype)
    psi = rewards.to(logits.dtype).flip(-1).cumsum(-1).flip(-1)
    if baseline is not None:
        psi = psi + baseline.to(logits.dtype)[states]
    return _score_sum(logits, states, actions, w[:, None] * psi)
""",
        "rewards from the past (forward cumulative sum)": _SCORE + """
def reward_to_go_gradient(logits, states, actions, rewards, baseline=None, weights=None):
    B = states.shape[0]
    w = torch.full((B,), 1.0 / B, dtype=logits.dtype) if weights is None else weights.to(logits.dtype)
    psi = rewards.to(logits.dtype).cumsum(-1)
    if baseline is not None:
        psi = psi - baseline.to(logits.dtype)[states]
    return _score_sum(logits, states, actions, w[:, None] * psi)
""",
        "reward-to-go starts at t + 1": _SCORE + """
def reward_to_go_gradient(logits, states, actions, rewards, baseline=None, weights=None):
    B = states.shape[0]
    w = torch.full((B,), 1.0 / B, dtype=logits.dtype) if weights is None else weights.to(logits.dtype)
    r = rewards.to(logits.dtype)
    psi = r.flip(-1).cumsum(-1).flip(-1) - r
    if baseline is not None:
        psi = psi - baseline.to(logits.dtype)[states]
    return _score_sum(logits, states, actions, w[:, None] * psi)
""",
    },
    "gae_advantages": {
        "ignores the done mask": """
def gae_advantages(rewards, values, dones, gamma, lam):
    values = values.to(rewards.dtype)
    deltas = rewards + gamma * values[..., 1:] - values[..., :-1]
    out = torch.empty_like(deltas)
    running = torch.zeros_like(deltas[..., 0])
    for t in range(deltas.shape[-1] - 1, -1, -1):
        running = deltas[..., t] + gamma * lam * running
        out[..., t] = running
    return out
""",
        "masks the bootstrap but not the recursion": """
def gae_advantages(rewards, values, dones, gamma, lam):
    mask = 1.0 - dones.to(rewards.dtype)
    values = values.to(rewards.dtype)
    deltas = rewards + gamma * mask * values[..., 1:] - values[..., :-1]
    out = torch.empty_like(deltas)
    running = torch.zeros_like(deltas[..., 0])
    for t in range(deltas.shape[-1] - 1, -1, -1):
        running = deltas[..., t] + gamma * lam * running
        out[..., t] = running
    return out
""",
        "decays by lam only (forgets gamma in the recursion)": """
def gae_advantages(rewards, values, dones, gamma, lam):
    mask = 1.0 - dones.to(rewards.dtype)
    values = values.to(rewards.dtype)
    deltas = rewards + gamma * mask * values[..., 1:] - values[..., :-1]
    out = torch.empty_like(deltas)
    running = torch.zeros_like(deltas[..., 0])
    for t in range(deltas.shape[-1] - 1, -1, -1):
        running = deltas[..., t] + lam * mask[..., t] * running
        out[..., t] = running
    return out
""",
    },
    "dqn_target": {
        "bootstraps from terminal states (no 1 - done)": """
def dqn_target(rewards, next_q_target, dones, gamma):
    return rewards + gamma * next_q_target.amax(-1)
""",
        "mean over actions instead of max (expected SARSA with a uniform policy)": """
def dqn_target(rewards, next_q_target, dones, gamma):
    return rewards + gamma * (1 - dones.to(rewards.dtype)) * next_q_target.mean(-1)
""",
        "forgets gamma": """
def dqn_target(rewards, next_q_target, dones, gamma):
    return rewards + (1 - dones.to(rewards.dtype)) * next_q_target.amax(-1)
""",
    },
    "double_dqn_target": {
        "argmax and value both from the target net": """
def double_dqn_target(rewards, next_q_online, next_q_target, dones, gamma):
    return rewards + gamma * (1 - dones.to(rewards.dtype)) * next_q_target.amax(-1)
""",
        "networks swapped (argmax from target, value from online)": """
def double_dqn_target(rewards, next_q_online, next_q_target, dones, gamma):
    a = next_q_target.argmax(-1, keepdim=True)
    return rewards + gamma * (1 - dones.to(rewards.dtype)) * next_q_online.gather(-1, a).squeeze(-1)
""",
        "no 1 - done": """
def double_dqn_target(rewards, next_q_online, next_q_target, dones, gamma):
    a = next_q_online.argmax(-1, keepdim=True)
    return rewards + gamma * next_q_target.gather(-1, a).squeeze(-1)
""",
    },
    "ppo_clip_objective": {
        "max instead of min": """
def ppo_clip_objective(log_probs, old_log_probs, advantages, eps=0.2):
    r = torch.exp(log_probs - old_log_probs)
    return torch.maximum(r * advantages, r.clamp(1 - eps, 1 + eps) * advantages).mean()
""",
        "clips the advantage instead of the ratio": """
def ppo_clip_objective(log_probs, old_log_probs, advantages, eps=0.2):
    r = torch.exp(log_probs - old_log_probs)
    return torch.minimum(r * advantages, advantages.clamp(1 - eps, 1 + eps)).mean()
""",
        "clipped term only (no min)": """
def ppo_clip_objective(log_probs, old_log_probs, advantages, eps=0.2):
    r = torch.exp(log_probs - old_log_probs)
    return (r.clamp(1 - eps, 1 + eps) * advantages).mean()
""",
        "ratio of log-probabilities instead of probabilities": """
def ppo_clip_objective(log_probs, old_log_probs, advantages, eps=0.2):
    r = log_probs / old_log_probs
    return torch.minimum(r * advantages, r.clamp(1 - eps, 1 + eps) * advantages).mean()
""",
        "detached (a number, no gradient)": """
def ppo_clip_objective(log_probs, old_log_probs, advantages, eps=0.2):
    r = torch.exp(log_probs.detach() - old_log_probs)
    return torch.minimum(r * advantages, r.clamp(1 - eps, 1 + eps) * advantages).mean()
""",
    },
    "puct_select": {
        "no square root on N_parent": """
def puct_select(q, prior, visits, c=1.0, legal=None):
    n = visits.to(torch.float64)
    score = q.to(torch.float64) + c * prior.to(torch.float64) * n.sum(-1, keepdim=True) / (1 + n)
    if legal is not None:
        score = score.masked_fill(~legal, float("-inf"))
    return score.argmax(-1)
""",
        "N_child in the numerator": """
def puct_select(q, prior, visits, c=1.0, legal=None):
    n = visits.to(torch.float64)
    score = q.to(torch.float64) + c * prior.to(torch.float64) * n.sqrt() / (1 + n.sum(-1, keepdim=True))
    if legal is not None:
        score = score.masked_fill(~legal, float("-inf"))
    return score.argmax(-1)
""",
        "ignores the legal mask": """
def puct_select(q, prior, visits, c=1.0, legal=None):
    n = visits.to(torch.float64)
    score = q.to(torch.float64) + c * prior.to(torch.float64) * n.sum(-1, keepdim=True).sqrt() / (1 + n)
    return score.argmax(-1)
""",
        "ties to the highest index": """
def puct_select(q, prior, visits, c=1.0, legal=None):
    n = visits.to(torch.float64)
    score = q.to(torch.float64) + c * prior.to(torch.float64) * n.sum(-1, keepdim=True).sqrt() / (1 + n)
    if legal is not None:
        score = score.masked_fill(~legal, float("-inf"))
    A = score.shape[-1]
    return A - 1 - score.flip(-1).argmax(-1)
""",
    },
    "fit_tabular_policy": {
        "NaN in empty cells (0 / 0)": """
def fit_tabular_policy(cells, actions, n_cells):
    sums = torch.zeros(n_cells, dtype=actions.dtype).index_add_(0, cells, actions)
    counts = torch.zeros(n_cells, dtype=actions.dtype).index_add_(0, cells, torch.ones_like(actions))
    return sums / counts
""",
        "sum instead of mean": """
def fit_tabular_policy(cells, actions, n_cells):
    return torch.zeros(n_cells, dtype=actions.dtype).index_add_(0, cells, actions)
""",
        "last action wins (overwrites)": """
def fit_tabular_policy(cells, actions, n_cells):
    table = torch.zeros(n_cells, dtype=actions.dtype)
    for c, a in zip(cells.tolist(), actions):
        table[c] = a
    return table
""",
    },
    "dagger": {
        "does not aggregate (keeps only the newest data)": """
def dagger(states, actions, expert, rollout, fit, n_rounds, generator):
    for _ in range(n_rounds):
        policy = fit(states, actions)
        states = rollout(policy, generator)
        actions = expert(states)
    return states, actions
""",
        "labels with the learner's own actions": """
def dagger(states, actions, expert, rollout, fit, n_rounds, generator):
    for _ in range(n_rounds):
        policy = fit(states, actions)
        new = rollout(policy, generator)
        states = torch.cat([states, new])
        actions = torch.cat([actions, policy(new)])
    return states, actions
""",
        "rolls out the expert instead of the learner (plain behaviour cloning with more data)": """
def dagger(states, actions, expert, rollout, fit, n_rounds, generator):
    for _ in range(n_rounds):
        new = rollout(expert, generator)
        states = torch.cat([states, new])
        actions = torch.cat([actions, expert(new)])
    return states, actions
""",
        "fits only on the initial expert data": """
def dagger(states, actions, expert, rollout, fit, n_rounds, generator):
    policy = fit(states, actions)
    for _ in range(n_rounds):
        new = rollout(policy, generator)
        states = torch.cat([states, new])
        actions = torch.cat([actions, expert(new)])
    return states, actions
""",
    },
}

ALTERNATIVES = {
    "discounted_returns": {
        "Horner's rule backwards in time": """
def discounted_returns(rewards, gamma):
    total = torch.zeros_like(rewards[..., 0])
    for t in range(rewards.shape[-1] - 1, -1, -1):
        total = rewards[..., t] + gamma * total
    return total
""",
        "numpy polynomial": """
def discounted_returns(rewards, gamma):
    r = rewards.numpy()
    powers = np.power(gamma, np.arange(r.shape[-1]))
    return torch.from_numpy(np.asarray(r @ powers.astype(r.dtype)))
""",
    },
    "rewards_to_go": {
        "upper-triangular matrix of powers": """
def rewards_to_go(rewards, gamma):
    T = rewards.shape[-1]
    k = torch.arange(T, dtype=torch.float64)
    diff = k[:, None] - k[None, :]
    m = torch.where(diff >= 0, gamma ** diff.clamp(min=0), torch.zeros((), dtype=torch.float64))
    return (rewards.to(torch.float64) @ m).to(rewards.dtype)
""",
        "python lists per episode": """
def rewards_to_go(rewards, gamma):
    flat = rewards.reshape(-1, rewards.shape[-1]).tolist()
    out = []
    for row in flat:
        g, res = 0.0, []
        for r in reversed(row):
            g = r + gamma * g
            res.append(g)
        out.append(res[::-1])
    return torch.tensor(out, dtype=rewards.dtype).reshape(rewards.shape)
""",
    },
    "reinforce_gradient": {
        "autograd through the surrogate loss": """
def reinforce_gradient(logits, states, actions, rewards, weights=None):
    B = states.shape[0]
    w = torch.full((B,), 1.0 / B, dtype=logits.dtype) if weights is None else weights.to(logits.dtype)
    th = logits.detach().clone().requires_grad_(True)
    logp = torch.log_softmax(th, -1)[states].gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    surrogate = (w * rewards.to(logits.dtype).sum(-1) * logp.sum(-1)).sum()
    (g,) = torch.autograd.grad(surrogate, th)
    return g
""",
        "explicit loops": """
def reinforce_gradient(logits, states, actions, rewards, weights=None):
    B, T = states.shape
    pi = torch.softmax(logits, -1)
    out = torch.zeros_like(logits)
    for b in range(B):
        w = 1.0 / B if weights is None else weights[b]
        R = rewards[b].sum()
        for t in range(T):
            s, a = states[b, t], actions[b, t]
            e = torch.zeros(logits.shape[1], dtype=logits.dtype)
            e[a] = 1.0
            out[s] += w * R * (e - pi[s])
    return out
""",
    },
    "reward_to_go_gradient": {
        "autograd through the surrogate loss": """
def reward_to_go_gradient(logits, states, actions, rewards, baseline=None, weights=None):
    B = states.shape[0]
    w = torch.full((B,), 1.0 / B, dtype=logits.dtype) if weights is None else weights.to(logits.dtype)
    psi = rewards.to(logits.dtype).flip(-1).cumsum(-1).flip(-1)
    if baseline is not None:
        psi = psi - baseline.to(logits.dtype)[states]
    th = logits.detach().clone().requires_grad_(True)
    logp = torch.log_softmax(th, -1)[states].gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    (g,) = torch.autograd.grad((w[:, None] * psi * logp).sum(), th)
    return g
""",
    },
    "gae_advantages": {
        "double loop over the definition": """
def gae_advantages(rewards, values, dones, gamma, lam):
    T = rewards.shape[-1]
    d = dones.to(rewards.dtype)
    v = values.to(rewards.dtype)
    delta = rewards + gamma * (1 - d) * v[..., 1:] - v[..., :-1]
    out = torch.zeros_like(rewards)
    for t in range(T):
        alive = torch.ones_like(rewards[..., 0])
        for k in range(t, T):
            out[..., t] = out[..., t] + alive * (gamma * lam) ** (k - t) * delta[..., k]
            alive = alive * (1 - d[..., k])
    return out
""",
    },
    "dqn_target": {
        "torch.where on done": """
def dqn_target(rewards, next_q_target, dones, gamma):
    boot = rewards + gamma * next_q_target.max(dim=-1).values
    return torch.where(dones.bool(), rewards, boot)
""",
    },
    "double_dqn_target": {
        "one-hot selection": """
def double_dqn_target(rewards, next_q_online, next_q_target, dones, gamma):
    onehot = torch.nn.functional.one_hot(next_q_online.argmax(-1), next_q_online.shape[-1]).to(next_q_target.dtype)
    value = (onehot * next_q_target).sum(-1)
    return torch.where(dones.bool(), rewards, rewards + gamma * value)
""",
    },
    "ppo_clip_objective": {
        "case analysis on the sign of A": """
def ppo_clip_objective(log_probs, old_log_probs, advantages, eps=0.2):
    r = torch.exp(log_probs - old_log_probs)
    pos = torch.clamp(r, max=1 + eps) * advantages
    neg = torch.clamp(r, min=1 - eps) * advantages
    return torch.where(advantages >= 0, pos, neg).mean()
""",
    },
    "puct_select": {
        "explicit loop over children": """
def puct_select(q, prior, visits, c=1.0, legal=None):
    A = q.shape[-1]
    Q = q.reshape(-1, A).tolist(); P = prior.reshape(-1, A).tolist(); N = visits.reshape(-1, A).tolist()
    L = None if legal is None else legal.reshape(-1, A).tolist()
    out = []
    for i in range(len(Q)):
        parent = math.sqrt(sum(N[i]))
        best, arg = -math.inf, 0
        for a in range(A):
            if L is not None and not L[i][a]:
                continue
            s = Q[i][a] + c * P[i][a] * parent / (1 + N[i][a])
            if s > best:
                best, arg = s, a
        out.append(arg)
    return torch.tensor(out, dtype=torch.long).reshape(q.shape[:-1])
""",
    },
    "fit_tabular_policy": {
        "bincount": """
def fit_tabular_policy(cells, actions, n_cells):
    sums = torch.bincount(cells, weights=actions.to(torch.float64), minlength=n_cells)
    counts = torch.bincount(cells, minlength=n_cells).to(torch.float64)
    return torch.where(counts > 0, sums / counts.clamp(min=1), torch.zeros_like(sums)).to(actions.dtype)
""",
    },
    "dagger": {
        "growing tensors with torch.cat each round": """
def dagger(states, actions, expert, rollout, fit, n_rounds, generator):
    for _ in range(n_rounds):
        policy = fit(states, actions)
        new = rollout(policy, generator)
        states = torch.cat([states, new])
        actions = torch.cat([actions, expert(new)])
    return states, actions
""",
    },
}

SAMPLE_WRONG = ["reward_to_go_gradient", "dqn_target"]

# Wrong answers written after the first set.
MUTANTS["reinforce_gradient"].update({
    "normalizes the weights to sum to 1": _SCORE + """
def reinforce_gradient(logits, states, actions, rewards, weights=None):
    B = states.shape[0]
    w = torch.full((B,), 1.0 / B, dtype=logits.dtype) if weights is None else weights.to(logits.dtype)
    w = w / w.sum()
    coef = w[:, None] * rewards.to(logits.dtype).sum(-1, keepdim=True).expand(states.shape)
    return _score_sum(logits, states, actions, coef)
""",
})

HINTS = {
    "reinforce_gradient": {
        "normalizes the weights to sum to 1": "the weights are used as given: dividing them by their sum changes "
                                              "the estimate whenever they do not already sum to 1.",
    },
}

# Mechanical mutations of the reference (autograder.mutation) that no input the statement allows can tell
# apart from it, with the reason: every tensor these exercises take is 2-D by statement ((S, A) logits,
# (B, T) trajectories, (B, A) Q-values), so axis 1 is axis -1.
_TWO_D = "the statement fixes this tensor as 2-D: axis 1 is the last axis"
EQUIVALENT_MUTATIONS = {
    "reinforce_gradient": {
        "sign: `-1` -> `1` in `logits.shape[-1]`": "logits are (S, A) by statement: shape[1] is shape[-1]",
        "sign: `-1` -> `1` in `logits.shape[-1]` #2": "logits are (S, A) by statement: shape[1] is shape[-1]",
        "sign: `-1` -> `1` in `torch.softmax(logits, dim=-1)`": _TWO_D,
        "sign: `-1` -> `1` in `rewards.to(logits.dtype).sum(-1, keepdim=True)`": _TWO_D,
    },
    "reward_to_go_gradient": {
        "sign: `-1` -> `1` in `logits.shape[-1]`": "logits are (S, A) by statement: shape[1] is shape[-1]",
        "sign: `-1` -> `1` in `logits.shape[-1]` #2": "logits are (S, A) by statement: shape[1] is shape[-1]",
        "sign: `-1` -> `1` in `torch.softmax(logits, dim=-1)`": _TWO_D,
    },
    "dqn_target": {
        "sign: `-1` -> `1` in `next_q_target.to(rewards.dtype).amax(-1)`": _TWO_D,
    },
    "double_dqn_target": {
        "sign: `-1` -> `1` in `next_q_target.to(rewards.dtype).gather(-1, best).squeeze(-1)`": _TWO_D,
        "sign: `-1` -> `1` in `next_q_target.to(rewards.dtype).gather(-1, best)`": _TWO_D,
        "sign: `-1` -> `1` in `next_q_online.argmax(-1, keepdim=True)`": _TWO_D,
    },
}

MUTANTS["puct_select"]["sqrt(N_parent + 1) in the exploration term"] = """
def puct_select(q, prior, visits, c=1.0, legal=None):
    n = visits.to(q.dtype)
    u = q + c * prior * torch.sqrt(n.sum(-1, keepdim=True) + 1) / (1 + n)
    if legal is not None:
        u = u.masked_fill(~legal, float('-inf'))
    return u.argmax(-1)
"""
HINTS["puct_select"] = {
    "sqrt(N_parent + 1) in the exploration term": "N_parent is the sum of the children's visits itself: "
                                                  "sqrt(N_parent), not sqrt(N_parent + 1).",
}

MUTANTS["double_dqn_target"]["ties in the online argmax go to the highest index"] = """
def double_dqn_target(rewards, next_q_online, next_q_target, dones, gamma):
    A = next_q_online.shape[-1]
    best = A - 1 - next_q_online.flip(-1).argmax(-1, keepdim=True)
    boot = next_q_target.to(rewards.dtype).gather(-1, best).squeeze(-1)
    return rewards + gamma * (1 - dones.to(rewards.dtype)) * boot
"""
HINTS["double_dqn_target"] = {
    "ties in the online argmax go to the highest index": "when the online network ties, the lowest action index "
                                                         "wins (what torch.argmax does).",
}

MUTANTS["policy_score"] = {
    "the negative score (probabilities minus one-hot)": """
def policy_score(logits, states, actions):
    pi = torch.softmax(logits, dim=-1)
    return pi[states] - torch.nn.functional.one_hot(actions, logits.shape[-1]).to(logits.dtype)
""",
    "the one-hot alone (forgets the normalizer's derivative)": """
def policy_score(logits, states, actions):
    return torch.nn.functional.one_hot(actions, logits.shape[-1]).to(logits.dtype)
""",
    "the softmax's own derivative pi(a) * (onehot - pi) instead of the log's": """
def policy_score(logits, states, actions):
    pi = torch.softmax(logits, dim=-1)[states]
    onehot = torch.nn.functional.one_hot(actions, logits.shape[-1]).to(logits.dtype)
    return pi.gather(-1, actions[..., None]) * (onehot - pi)
""",
}
ALTERNATIVES["policy_score"] = {
    "autograd through log_softmax, one pair at a time": """
def policy_score(logits, states, actions):
    flat_s, flat_a = states.reshape(-1), actions.reshape(-1)
    rows = []
    for s, a in zip(flat_s.tolist(), flat_a.tolist()):
        row = logits[s].detach().clone().requires_grad_(True)
        torch.log_softmax(row, dim=-1)[a].backward()
        rows.append(row.grad)
    return torch.stack(rows).reshape(*states.shape, logits.shape[-1]).to(logits.dtype)
""",
}

MUTANTS["td_errors"] = {
    "bootstraps past the end of the episode": """
def td_errors(rewards, values, dones, gamma):
    values = values.to(rewards.dtype)
    return rewards + gamma * values[..., 1:] - values[..., :-1]
""",
    "the mask also removes V(s_t) at episode ends": """
def td_errors(rewards, values, dones, gamma):
    mask = 1.0 - dones.to(rewards.dtype)
    values = values.to(rewards.dtype)
    return rewards + mask * (gamma * values[..., 1:] - values[..., :-1])
""",
    "value minus target (the sign flipped)": """
def td_errors(rewards, values, dones, gamma):
    mask = 1.0 - dones.to(rewards.dtype)
    values = values.to(rewards.dtype)
    return values[..., :-1] - (rewards + gamma * mask * values[..., 1:])
""",
}
ALTERNATIVES["td_errors"] = {
    "torch.where on the done flags": """
def td_errors(rewards, values, dones, gamma):
    v = values.to(rewards.dtype)
    nxt = torch.where(dones.bool(), torch.zeros_like(rewards), v[..., 1:])
    return rewards + gamma * nxt - v[..., :-1]
""",
}

_CARTPOLE_HEAD = """
def train_cartpole_policy(n_iters=40, episodes_per_iter=4, lr=0.02, gamma=0.99, hidden=32, seed=0, max_steps=200):
    import gymnasium as gym
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 2))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    env = gym.make("CartPole-v1", max_episode_steps=max_steps)
    rng = np.random.default_rng(seed)
    returns = []
    for it in range(n_iters):
        observations, actions, psis = [], [], []
        for ep in range(episodes_per_iter):
            obs, _ = env.reset(seed=seed * 100_000 + it * episodes_per_iter + ep)
            rewards, done = [], False
            while not done:
                with torch.no_grad():
                    p_right = torch.softmax(net(torch.as_tensor(obs, dtype=torch.float32)), -1)[1].item()
                action = int(rng.random() < p_right)
                observations.append(obs)
                actions.append(action)
                obs, r, terminated, truncated, _ = env.step(action)
                rewards.append(r)
                done = terminated or truncated
"""
_CARTPOLE_TAIL = """
        psi = (psi - psi.mean()) / (psi.std() + 1e-8)
        logp = torch.log_softmax(net(torch.as_tensor(np.array(observations), dtype=torch.float32)), -1)
        logp = logp.gather(1, torch.tensor(actions)[:, None]).squeeze(1)
        loss = SIGN(psi * logp).sum() / episodes_per_iter
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net, returns
"""
MUTANTS["train_cartpole_policy"] = {
    "weights each step by the rewards from the episode start (a forward running sum)": _CARTPOLE_HEAD + """
            psis.append(torch.tensor(rewards, dtype=torch.float32).cumsum(0))
            returns.append(float(sum(rewards)))
        psi = torch.cat(psis)
""" + _CARTPOLE_TAIL.replace("SIGN", "-"),
    "the loss has the wrong sign (gradient descent on the return)": _CARTPOLE_HEAD + """
            psis.append(rewards_to_go(torch.tensor(rewards, dtype=torch.float32), gamma))
            returns.append(float(sum(rewards)))
        psi = torch.cat(psis)
""" + _CARTPOLE_TAIL.replace("SIGN", "+"),
}
ALTERNATIVES["train_cartpole_policy"] = {
    "no normalization: raw rewards-to-go minus their batch mean, mean over steps": _CARTPOLE_HEAD + """
            psis.append(rewards_to_go(torch.tensor(rewards, dtype=torch.float32), gamma))
            returns.append(float(sum(rewards)))
        psi = torch.cat(psis)
        psi = psi - psi.mean()
        logp = torch.log_softmax(net(torch.as_tensor(np.array(observations), dtype=torch.float32)), -1)
        logp = logp.gather(1, torch.tensor(actions)[:, None]).squeeze(1)
        loss = -(psi * logp).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net, returns
""",
}

MUTANTS["concept_baseline"] = {
    "any baseline is fine": 'def concept_baseline():\n    return "a"\n',
    "only the variance grows": 'def concept_baseline():\n    return "c"\n',
    "only constants are unbiased": 'def concept_baseline():\n    return "d"\n',
}
MUTANTS["concept_gae_lambda"] = {
    "lambda 1 lowers the variance": 'def concept_gae_lambda():\n    return "a"\n',
    "lambda changes the objective": 'def concept_gae_lambda():\n    return "b"\n',
    "TD errors are unbiased": 'def concept_gae_lambda():\n    return "c"\n',
}
MUTANTS["concept_reuse"] = {
    "old episodes are fine": 'def concept_reuse():\n    return "a"\n',
    "old returns are low": 'def concept_reuse():\n    return "b"\n',
    "over-fitting": 'def concept_reuse():\n    return "d"\n',
}
ALTERNATIVES["concept_baseline"] = {"upper case": 'def concept_baseline():\n    return "B"\n'}
ALTERNATIVES["concept_gae_lambda"] = {"with spaces": 'def concept_gae_lambda():\n    return " d"\n'}
ALTERNATIVES["concept_reuse"] = {"plain letter": 'def concept_reuse():\n    return "c"\n'}

# Make-it-work tasks, judged on a target (autograder.mutation leaves them to their registered mutants).
JUDGED_ON_A_TARGET = ["train_cartpole_policy"]

EQUIVALENT_MUTATIONS["policy_score"] = {
    "sign: `-1` -> `1` in `logits.shape[-1]`": "logits are (S, A) by statement: shape[1] is shape[-1]",
    "sign: `-1` -> `1` in `torch.softmax(logits, dim=-1)`": _TWO_D,
}

_BUFFER = '''
class ReplayBuffer:
    def __init__(self, capacity, dim, dtype=torch.float32):
        self.capacity = capacity
        self.storage = torch.zeros(capacity, dim, dtype=dtype)
        self.position = 0
        self.size = 0

    def push(self, transition):
        self.storage[self.position] = torch.as_tensor(transition, dtype=self.storage.dtype)
        ADVANCE

    def sample(self, batch_size, generator):
        DRAW

    def __len__(self):
        return self.size
'''
_ADVANCE = ("self.position = (self.position + 1) % self.capacity\n"
            "        self.size = min(self.size + 1, self.capacity)")
_DRAW = "return self.storage[torch.randperm(self.size, generator=generator)[:batch_size]]"


def _buffer(advance=_ADVANCE, draw=_DRAW):
    return _BUFFER.replace("ADVANCE", advance).replace("DRAW", draw)


MUTANTS["ReplayBuffer"] = {
    "once full, overwrites the newest transition instead of the oldest": _buffer(
        advance="self.position = min(self.position + 1, self.capacity - 1)\n"
                "        self.size = min(self.size + 1, self.capacity)"),
    "samples the whole capacity, empty slots included": _buffer(
        draw="return self.storage[torch.randperm(self.capacity, generator=generator)[:batch_size]]"),
    "samples with replacement": _buffer(
        draw="return self.storage[torch.randint(self.size, (batch_size,), generator=generator)]"),
    "off by one at the wrap-around (wraps to slot 1, slot 0 keeps the first push)": _buffer(
        advance="self.position = self.position + 1 if self.position + 1 < self.capacity else 1 % self.capacity\n"
                "        self.size = min(self.size + 1, self.capacity)"),
    "counts one slot too few once full (the last slot is never drawn)": _buffer(
        advance="self.position = (self.position + 1) % self.capacity\n"
                "        self.size = min(self.size + 1, max(self.capacity - 1, 1))"),
}
ALTERNATIVES["ReplayBuffer"] = {
    "a list of rows and a push counter": '''
class ReplayBuffer:
    def __init__(self, capacity, dim, dtype=torch.float32):
        self.capacity, self.dim, self.dtype = capacity, dim, dtype
        self.rows = []
        self.pushes = 0

    def push(self, transition):
        row = torch.as_tensor(transition, dtype=self.dtype).clone()
        if len(self.rows) < self.capacity:
            self.rows.append(row)
        else:
            self.rows[self.pushes % self.capacity] = row
        self.pushes += 1

    def sample(self, batch_size, generator):
        if batch_size > len(self.rows):
            raise ValueError("not enough transitions")
        order = torch.randperm(len(self.rows), generator=generator)[:batch_size]
        return torch.stack([self.rows[i] for i in order.tolist()])

    def __len__(self):
        return len(self.rows)
''',
}

_AC = '''
def actor_critic_losses(log_probs, values, next_values, rewards, dones, gamma, entropies=None, entropy_coef=0.0):
    mask = 1.0 - dones.to(values.dtype)
    target = TARGET
    delta = target - values
    critic_loss = (delta ** 2).mean()
    actor_loss = -(log_probs * ADV).mean()
    if entropies is not None:
        actor_loss = actor_loss BONUS entropy_coef * entropies.mean()
    return actor_loss, critic_loss
'''


def _ac(target="(rewards.to(values.dtype) + gamma * mask * next_values).detach()", adv="delta.detach()", bonus="-"):
    return _AC.replace("TARGET", target).replace("ADV", adv).replace("BONUS", bonus)


MUTANTS["actor_critic_losses"] = {
    "the TD target is not detached (the critic's gradient flows into V(s'))": _ac(
        target="rewards.to(values.dtype) + gamma * mask * next_values"),
    "the advantage is not detached in the actor loss (the actor moves the critic)": _ac(adv="delta"),
    "bootstraps past the end of the episode": _ac(target="(rewards.to(values.dtype) + gamma * next_values).detach()"),
    "the entropy bonus has the wrong sign (penalizes exploration)": _ac(bonus="+"),
    "the advantage is the target alone (no V(s) subtracted)": _ac(adv="target"),
}
ALTERNATIVES["actor_critic_losses"] = {
    "torch.where on the done flags, no_grad for the target, sums divided by N": '''
def actor_critic_losses(log_probs, values, next_values, rewards, dones, gamma, entropies=None, entropy_coef=0.0):
    n = values.shape[0]
    with torch.no_grad():
        boot = torch.where(dones.bool(), torch.zeros_like(next_values), next_values)
        target = rewards.to(values.dtype) + gamma * boot
        advantage = target - values
    critic_loss = ((target - values) ** 2).sum() / n
    actor_loss = -(log_probs * advantage).sum() / n
    if entropies is not None:
        actor_loss = actor_loss - entropy_coef * entropies.sum() / n
    return actor_loss, critic_loss
''',
}
HINTS["ReplayBuffer"] = {
    "once full, overwrites the newest transition instead of the oldest":
        "once the ring is full, a push replaces the OLDEST transition: the write position keeps going round.",
    "off by one at the wrap-around (wraps to slot 1, slot 0 keeps the first push)":
        "after the last slot, the write position comes back to the FIRST slot; follow push number capacity by hand.",
}
HINTS["actor_critic_losses"] = {
    "the TD target is not detached (the critic's gradient flows into V(s'))":
        "the critic regresses onto a target it must not move: nothing of the critic loss should reach V(s').",
    "the advantage is not detached in the actor loss (the actor moves the critic)":
        "in the actor loss the advantage is a fixed weight: the actor's gradient must not reach the values.",
}
