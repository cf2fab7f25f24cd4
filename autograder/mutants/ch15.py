"""Classic wrong answers and correct alternatives for chapter 15 (Bandits, MDPs and tabular RL)."""

CHAPTER = "15-bandits-and-mdps"

MUTANTS = {
    "sample_average_update": {
        "step size 1/N with the old count": """
def sample_average_update(Q, N, actions, rewards):
    rows = torch.arange(Q.shape[0])
    Q_new, N_new = Q.clone(), N.clone()
    n_old = N[rows, actions].to(Q.dtype).clamp(min=1)
    Q_new[rows, actions] = Q[rows, actions] + (rewards.to(Q.dtype) - Q[rows, actions]) / n_old
    N_new[rows, actions] += 1
    return Q_new, N_new
""",
        "constant step size 0.1": """
def sample_average_update(Q, N, actions, rewards):
    rows = torch.arange(Q.shape[0])
    Q_new, N_new = Q.clone(), N.clone()
    Q_new[rows, actions] = Q[rows, actions] + 0.1 * (rewards.to(Q.dtype) - Q[rows, actions])
    N_new[rows, actions] += 1
    return Q_new, N_new
""",
        "updates every arm of the run": """
def sample_average_update(Q, N, actions, rewards):
    rows = torch.arange(Q.shape[0])
    N_new = N.clone()
    N_new[rows, actions] += 1
    Q_new = Q + (rewards.to(Q.dtype)[:, None] - Q) / N_new.to(Q.dtype).clamp(min=1)
    return Q_new, N_new
""",
        "modifies Q and N in place": """
def sample_average_update(Q, N, actions, rewards):
    rows = torch.arange(Q.shape[0])
    N[rows, actions] += 1
    Q[rows, actions] += (rewards.to(Q.dtype) - Q[rows, actions]) / N[rows, actions].to(Q.dtype)
    return Q, N
""",
    },
    "epsilon_greedy_action": {
        "never explores": """
def epsilon_greedy_action(Q, epsilon, uniform, random_arm):
    return Q.argmax(dim=1)
""",
        "explores when uniform > epsilon": """
def epsilon_greedy_action(Q, epsilon, uniform, random_arm):
    return torch.where(uniform > epsilon, random_arm, Q.argmax(dim=1))
""",
        "explores with argmin instead of the random arm": """
def epsilon_greedy_action(Q, epsilon, uniform, random_arm):
    return torch.where(uniform < epsilon, Q.argmin(dim=1), Q.argmax(dim=1))
""",
    },
    "ucb_action": {
        "no exploration bonus (greedy)": """
def ucb_action(Q, N, t, c):
    score = torch.where(N == 0, torch.full_like(Q, float("inf")), Q)
    return score.argmax(dim=1)
""",
        "bonus sqrt(ln t) / N": """
def ucb_action(Q, N, t, c):
    bonus = c * math.sqrt(math.log(t)) / N.to(Q.dtype).clamp(min=1)
    score = torch.where(N == 0, torch.full_like(Q, float("inf")), Q + bonus)
    return score.argmax(dim=1)
""",
        "untried arms not played first (N clamped to 1)": """
def ucb_action(Q, N, t, c):
    return (Q + c * torch.sqrt(math.log(t) / N.to(Q.dtype).clamp(min=1))).argmax(dim=1)
""",
        "log10 instead of the natural log": """
def ucb_action(Q, N, t, c):
    bonus = c * torch.sqrt(math.log10(t) / N.to(Q.dtype).clamp(min=1))
    score = torch.where(N == 0, torch.full_like(Q, float("inf")), Q + bonus)
    return score.argmax(dim=1)
""",
    },
    "thompson_bernoulli_action": {
        "samples from the prior only (never updates)": """
def thompson_bernoulli_action(successes, failures, rng, prior_a=1.0, prior_b=1.0):
    shape = tuple(successes.shape)
    theta = rng.beta(np.full(shape, prior_a), np.full(shape, prior_b))
    return torch.as_tensor(theta.argmax(axis=1), dtype=torch.long)
""",
        "swaps successes and failures": """
def thompson_bernoulli_action(successes, failures, rng, prior_a=1.0, prior_b=1.0):
    theta = rng.beta(prior_a + failures.numpy().astype(np.float64), prior_b + successes.numpy().astype(np.float64))
    return torch.as_tensor(theta.argmax(axis=1), dtype=torch.long)
""",
        "plays the posterior mean (greedy, no sampling)": """
def thompson_bernoulli_action(successes, failures, rng, prior_a=1.0, prior_b=1.0):
    a = prior_a + successes.double()
    b = prior_b + failures.double()
    return (a / (a + b)).argmax(dim=1)
""",
    },
    "thompson_gaussian_action": {
        "samples from the prior only (never updates)": """
def thompson_gaussian_action(reward_sums, counts, z, prior_mean=0.0, prior_var=1.0, noise_var=1.0):
    return (prior_mean + math.sqrt(prior_var) * z).argmax(dim=1)
""",
        "scales z by the posterior variance instead of the standard deviation": """
def thompson_gaussian_action(reward_sums, counts, z, prior_mean=0.0, prior_var=1.0, noise_var=1.0):
    precision = 1.0 / prior_var + counts.to(z.dtype) / noise_var
    mean = (prior_mean / prior_var + reward_sums.to(z.dtype) / noise_var) / precision
    return (mean + z / precision).argmax(dim=1)
""",
        "ignores the prior in the posterior mean": """
def thompson_gaussian_action(reward_sums, counts, z, prior_mean=0.0, prior_var=1.0, noise_var=1.0):
    precision = 1.0 / prior_var + counts.to(z.dtype) / noise_var
    mean = reward_sums.to(z.dtype) / counts.to(z.dtype).clamp(min=1)
    return (mean + z / precision.sqrt()).argmax(dim=1)
""",
    },
    "cumulative_regret": {
        "per-step regret, no running sum": """
def cumulative_regret(q_star, actions):
    return q_star.max(dim=1, keepdim=True).values - q_star.gather(1, actions)
""",
        "gap to the mean arm instead of the best": """
def cumulative_regret(q_star, actions):
    return (q_star.mean(dim=1, keepdim=True) - q_star.gather(1, actions)).cumsum(dim=1)
""",
        "cumulative sum over runs (dim 0)": """
def cumulative_regret(q_star, actions):
    return (q_star.max(dim=1, keepdim=True).values - q_star.gather(1, actions)).cumsum(dim=0)
""",
    },
    "bellman_expectation_backup": {
        "uniform average over actions (ignores the policy)": """
def bellman_expectation_backup(V, T, R, policy, gamma):
    return (R + gamma * torch.einsum("sat,t->sa", T, V)).mean(dim=1)
""",
        "forgets the discount": """
def bellman_expectation_backup(V, T, R, policy, gamma):
    return (policy * (R + torch.einsum("sat,t->sa", T, V))).sum(dim=1)
""",
        "transposed transition (sums over the source state)": """
def bellman_expectation_backup(V, T, R, policy, gamma):
    return (policy * (R + gamma * torch.einsum("tas,t->sa", T, V))).sum(dim=1)
""",
    },
    "bellman_optimality_backup": {
        "averages over actions instead of maximizing": """
def bellman_optimality_backup(V, T, R, gamma):
    return (R + gamma * torch.einsum("sat,t->sa", T, V)).mean(dim=1)
""",
        "maximizes the reward only, then adds the expected future": """
def bellman_optimality_backup(V, T, R, gamma):
    return R.max(dim=1).values + gamma * torch.einsum("sat,t->sa", T, V).mean(dim=1)
""",
        "forgets the discount": """
def bellman_optimality_backup(V, T, R, gamma):
    return (R + torch.einsum("sat,t->sa", T, V)).max(dim=1).values
""",
    },
    "policy_evaluation": {
        "one backup from V = 0 (returns r_pi)": """
def policy_evaluation(T, R, policy, gamma):
    return (policy * R).sum(dim=1)
""",
        "forgets the discount in the system": """
def policy_evaluation(T, R, policy, gamma):
    P_pi = torch.einsum("sa,sat->st", policy, T)
    r_pi = (policy * R).sum(dim=1)
    return torch.linalg.solve(torch.eye(T.shape[0], dtype=T.dtype) - 0.5 * P_pi, r_pi)
""",
        "P_pi summed over actions without the policy weights": """
def policy_evaluation(T, R, policy, gamma):
    P_pi = T.sum(dim=1) / T.shape[1]
    r_pi = (policy * R).sum(dim=1)
    return torch.linalg.solve(torch.eye(T.shape[0], dtype=T.dtype) - gamma * P_pi, r_pi)
""",
    },
    "value_iteration": {
        "a fixed 10 sweeps": """
def value_iteration(T, R, gamma, tol=1e-10, max_iter=100000):
    V = torch.zeros(T.shape[0], dtype=T.dtype)
    for _ in range(10):
        V = (R + gamma * torch.einsum("sat,t->sa", T, V)).max(dim=1).values
    return V
""",
        "evaluates the uniform policy (mean over actions)": """
def value_iteration(T, R, gamma, tol=1e-10, max_iter=100000):
    V = torch.zeros(T.shape[0], dtype=T.dtype)
    for _ in range(max_iter):
        V_new = (R + gamma * torch.einsum("sat,t->sa", T, V)).mean(dim=1)
        if (V_new - V).abs().max() < tol:
            return V_new
        V = V_new
    return V
""",
        "returns the Q-table's minimum (min over actions)": """
def value_iteration(T, R, gamma, tol=1e-10, max_iter=100000):
    V = torch.zeros(T.shape[0], dtype=T.dtype)
    for _ in range(max_iter):
        V_new = (R + gamma * torch.einsum("sat,t->sa", T, V)).min(dim=1).values
        if (V_new - V).abs().max() < tol:
            return V_new
        V = V_new
    return V
""",
    },
    "td0_update": {
        "wrong sign (moves away from the target)": """
def td0_update(V, s, r, s_next, terminated, alpha, gamma):
    target = r + (0.0 if terminated else gamma * V[s_next])
    V_new = V.clone()
    V_new[s] = V[s] + alpha * (V[s] - target)
    return V_new
""",
        "bootstraps past the end of the episode": """
def td0_update(V, s, r, s_next, terminated, alpha, gamma):
    V_new = V.clone()
    V_new[s] = V[s] + alpha * (r + gamma * V[s_next] - V[s])
    return V_new
""",
        "updates V in place": """
def td0_update(V, s, r, s_next, terminated, alpha, gamma):
    target = r + (0.0 if terminated else gamma * V[s_next])
    V[s] += alpha * (target - V[s])
    return V
""",
    },
    "sarsa_update": {
        "uses max over next actions (that is Q-learning)": """
def sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):
    target = r + (0.0 if terminated else gamma * Q[s_next].max())
    Q_new = Q.clone()
    Q_new[s, a] = Q[s, a] + alpha * (target - Q[s, a])
    return Q_new
""",
        "wrong sign (moves away from the target)": """
def sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):
    target = r + (0.0 if terminated else gamma * Q[s_next, a_next])
    Q_new = Q.clone()
    Q_new[s, a] = Q[s, a] - alpha * (target - Q[s, a])
    return Q_new
""",
        "bootstraps past the end of the episode": """
def sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):
    Q_new = Q.clone()
    Q_new[s, a] = Q[s, a] + alpha * (r + gamma * Q[s_next, a_next] - Q[s, a])
    return Q_new
""",
    },
    "q_learning_update": {
        "wrong sign (moves away from the target)": """
def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):
    target = r + (0.0 if terminated else gamma * Q[s_next].max())
    Q_new = Q.clone()
    Q_new[s, a] = Q[s, a] + alpha * (Q[s, a] - target)
    return Q_new
""",
        "bootstraps past the end of the episode": """
def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):
    Q_new = Q.clone()
    Q_new[s, a] = Q[s, a] + alpha * (r + gamma * Q[s_next].max() - Q[s, a])
    return Q_new
""",
        "bootstraps from Q[s_next, a] (the same action)": """
def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):
    target = r + (0.0 if terminated else gamma * Q[s_next, a])
    Q_new = Q.clone()
    Q_new[s, a] = Q[s, a] + alpha * (target - Q[s, a])
    return Q_new
""",
    },
}

ALTERNATIVES = {
    "sample_average_update": {
        "loop over runs, running sum form": """
def sample_average_update(Q, N, actions, rewards):
    Q_new, N_new = Q.clone(), N.clone()
    for i in range(Q.shape[0]):
        a = int(actions[i])
        n = N[i, a] + 1
        Q_new[i, a] = (Q[i, a] * (n - 1) + rewards[i]) / n
        N_new[i, a] = n
    return Q_new, N_new
""",
    },
    "epsilon_greedy_action": {
        "numpy with an explicit loop": """
def epsilon_greedy_action(Q, epsilon, uniform, random_arm):
    out = []
    for q, u, k in zip(Q.numpy(), uniform.numpy(), random_arm.numpy()):
        out.append(int(k) if u < epsilon else int(np.argmax(q)))
    return torch.tensor(out, dtype=torch.long)
""",
    },
    "ucb_action": {
        "loop over runs": """
def ucb_action(Q, N, t, c):
    out = []
    for q, n in zip(Q.tolist(), N.tolist()):
        untried = [k for k, m in enumerate(n) if m == 0]
        if untried:
            out.append(untried[0])
        else:
            scores = [qk + c * math.sqrt(math.log(t) / m) for qk, m in zip(q, n)]
            out.append(max(range(len(scores)), key=lambda k: (scores[k], -k)))
    return torch.tensor(out, dtype=torch.long)
""",
    },
    "thompson_bernoulli_action": {
        "element-by-element draws in row-major order": """
def thompson_bernoulli_action(successes, failures, rng, prior_a=1.0, prior_b=1.0):
    s, f = successes.double().numpy(), failures.double().numpy()
    theta = np.empty(s.shape)
    for i in range(s.shape[0]):
        for k in range(s.shape[1]):
            theta[i, k] = rng.beta(prior_a + s[i, k], prior_b + f[i, k])
    return torch.from_numpy(theta.argmax(axis=1)).long()
""",
    },
    "thompson_gaussian_action": {
        "posterior variance form": """
def thompson_gaussian_action(reward_sums, counts, z, prior_mean=0.0, prior_var=1.0, noise_var=1.0):
    n = counts.to(z.dtype)
    var = prior_var * noise_var / (noise_var + n * prior_var)
    mean = var * (prior_mean / prior_var + reward_sums.to(z.dtype) / noise_var)
    return (mean + var.sqrt() * z).argmax(dim=1)
""",
    },
    "cumulative_regret": {
        "loop over steps": """
def cumulative_regret(q_star, actions):
    best = q_star.max(dim=1).values
    total = torch.zeros(q_star.shape[0], dtype=q_star.dtype)
    out = []
    for t in range(actions.shape[1]):
        total = total + best - q_star[torch.arange(q_star.shape[0]), actions[:, t]]
        out.append(total)
    return torch.stack(out, dim=1)
""",
    },
    "bellman_expectation_backup": {
        "matrix products": """
def bellman_expectation_backup(V, T, R, policy, gamma):
    return (policy * (R + gamma * (T @ V))).sum(dim=1)
""",
    },
    "bellman_optimality_backup": {
        "loop over actions": """
def bellman_optimality_backup(V, T, R, gamma):
    best = None
    for a in range(R.shape[1]):
        q = R[:, a] + gamma * (T[:, a, :] @ V)
        best = q if best is None else torch.maximum(best, q)
    return best
""",
    },
    "policy_evaluation": {
        "iterative evaluation to convergence": """
def policy_evaluation(T, R, policy, gamma):
    V = torch.zeros(T.shape[0], dtype=T.dtype)
    for _ in range(200000):
        V_new = (policy * (R + gamma * (T @ V))).sum(dim=1)
        if (V_new - V).abs().max() < 1e-13:
            return V_new
        V = V_new
    return V
""",
        "numpy linear solve": """
def policy_evaluation(T, R, policy, gamma):
    t, r, p = T.double().numpy(), R.double().numpy(), policy.double().numpy()
    P_pi = np.einsum("sa,sat->st", p, t)
    V = np.linalg.solve(np.eye(t.shape[0]) - gamma * P_pi, (p * r).sum(axis=1))
    return torch.from_numpy(V).to(T.dtype)
""",
    },
    "value_iteration": {
        "Q-table iteration": """
def value_iteration(T, R, gamma, tol=1e-10, max_iter=100000):
    Qt = torch.zeros_like(R)
    for _ in range(max_iter):
        Q_new = R + gamma * (T @ Qt.max(dim=1).values)
        if (Q_new.max(dim=1).values - Qt.max(dim=1).values).abs().max() < tol:
            return Q_new.max(dim=1).values
        Qt = Q_new
    return Qt.max(dim=1).values
""",
    },
    "td0_update": {
        "convex-combination form": """
def td0_update(V, s, r, s_next, terminated, alpha, gamma):
    bootstrap = 0.0 if terminated else float(V[s_next])
    V_new = V.clone()
    V_new[s] = (1 - alpha) * V[s] + alpha * (r + gamma * bootstrap)
    return V_new
""",
    },
    "sarsa_update": {
        "TD error first, float bookkeeping": """
def sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):
    delta = r + gamma * (1.0 - float(terminated)) * Q[s_next, a_next] - Q[s, a]
    Q_new = Q.clone()
    Q_new[s, a] += alpha * delta
    return Q_new
""",
    },
    "q_learning_update": {
        "one-hot mask, no indexing assignment": """
def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):
    target = r if terminated else r + gamma * torch.max(Q[s_next])
    mask = torch.zeros_like(Q)
    mask[s, a] = 1.0
    return Q + alpha * mask * (target - Q[s, a])
""",
    },
}

SAMPLE_WRONG = ["ucb_action", "sarsa_update"]

# Wrong answers written after the first set, each separated from the reference by a constructed case.
MUTANTS["ucb_action"].update({
    "ln(t + 1) in the bonus": """
def ucb_action(Q, N, t, c):
    bonus = c * torch.sqrt(math.log(t + 1) / N.to(Q.dtype).clamp(min=1))
    score = torch.where(N == 0, torch.full_like(Q, float("inf")), Q + bonus)
    return score.argmax(dim=1)
""",
    "ln(t - 1) in the bonus": """
def ucb_action(Q, N, t, c):
    bonus = c * torch.sqrt(math.log(max(t - 1, 1)) / N.to(Q.dtype).clamp(min=1))
    score = torch.where(N == 0, torch.full_like(Q, float("inf")), Q + bonus)
    return score.argmax(dim=1)
""",
    "sqrt(2 ln t / N), the original UCB1 constant": """
def ucb_action(Q, N, t, c):
    bonus = c * torch.sqrt(2 * math.log(t) / N.to(Q.dtype).clamp(min=1))
    score = torch.where(N == 0, torch.full_like(Q, float("inf")), Q + bonus)
    return score.argmax(dim=1)
""",
    "N + 1 in the denominator": """
def ucb_action(Q, N, t, c):
    bonus = c * torch.sqrt(math.log(t) / (N.to(Q.dtype) + 1))
    score = torch.where(N == 0, torch.full_like(Q, float("inf")), Q + bonus)
    return score.argmax(dim=1)
""",
})

HINTS = {
    "ucb_action": {
        "no exploration bonus (greedy)": "your choice ignores the exploration bonus: the bound is the estimate "
                                         "PLUS c times the confidence width.",
        "bonus sqrt(ln t) / N": "solve Hoeffding's equation for the width again: the square root applies to the "
                                "whole ratio of ln t to the pull count.",
        "untried arms not played first (N clamped to 1)": "an arm that was never pulled (N == 0) must be played "
                                                          "first, before any bound is compared.",
        "log10 instead of the natural log": "the bonus uses the natural logarithm of t.",
        "ln(t + 1) in the bonus": "the bonus uses ln(t) of the current step t, not ln(t + 1).",
        "ln(t - 1) in the bonus": "the bonus uses ln(t) of the current step t, not ln(t - 1).",
        "sqrt(2 ln t / N), the original UCB1 constant": "the width is the one for failure probability t^-2, as "
                                                        "stated; the factor 2 of the original UCB1 is part of c.",
        "N + 1 in the denominator": "the bonus divides by the pull count N itself, not N + 1.",
    },
}

MUTANTS["epsilon_greedy_action"]["explores when uniform <= epsilon"] = """
def epsilon_greedy_action(Q, epsilon, uniform, random_arm):
    return torch.where(uniform <= epsilon, random_arm, Q.argmax(dim=1))
"""
HINTS["epsilon_greedy_action"] = {
    "explores when uniform <= epsilon": "a run explores exactly when uniform < epsilon: a draw equal to epsilon "
                                        "plays the greedy arm.",
}

MUTANTS["td_control"] = {
    "uses Sarsa's target in the Q-learning run (on-policy values)": """
def td_control(update, n_episodes=200, alpha=0.5, epsilon=0.1, gamma=1.0, seed=0, max_steps=500):
    env = make_cliff_walking()
    rng = np.random.default_rng(seed)
    Q = torch.zeros(48, 4, dtype=torch.float64)

    def act(s):
        return int(rng.integers(4)) if rng.random() < epsilon else int(Q[s].argmax())

    returns = np.zeros(n_episodes)
    for episode in range(n_episodes):
        s, _ = env.reset(seed=seed + episode)
        a = act(s)
        for _ in range(max_steps):
            s_next, r, terminated, truncated, _ = env.step(a)
            returns[episode] += r
            a_next = act(s_next)
            Q = sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma)
            s, a = s_next, a_next
            if terminated or truncated:
                break
    return Q, returns
""",
    "an update with the wrong sign (estimate minus target)": """
def td_control(update, n_episodes=200, alpha=0.5, epsilon=0.1, gamma=1.0, seed=0, max_steps=500):
    env = make_cliff_walking()
    rng = np.random.default_rng(seed)
    Q = torch.zeros(48, 4, dtype=torch.float64)

    def act(s):
        return int(rng.integers(4)) if rng.random() < epsilon else int(Q[s].argmax())

    returns = np.zeros(n_episodes)
    for episode in range(n_episodes):
        s, _ = env.reset(seed=seed + episode)
        for _ in range(max_steps):
            a = act(s)
            s_next, r, terminated, truncated, _ = env.step(a)
            returns[episode] += r
            target = r + (0.0 if terminated else gamma * Q[s_next].max())
            Q = Q.clone()
            Q[s, a] = Q[s, a] + alpha * (Q[s, a] - target)
            s = s_next
            if terminated or truncated:
                break
    return Q, returns
""",
    "never explores (epsilon ignored) and never restarts the episode": """
def td_control(update, n_episodes=200, alpha=0.5, epsilon=0.1, gamma=1.0, seed=0, max_steps=500):
    env = make_cliff_walking()
    Q = torch.zeros(48, 4, dtype=torch.float64)
    returns = np.zeros(n_episodes)
    s, _ = env.reset(seed=seed)
    for episode in range(n_episodes):
        a = int(Q[s].argmax())
        s_next, r, terminated, truncated, _ = env.step(a)
        returns[episode] += r
        Q = q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma)
        s = s_next
    return Q, returns
""",
}

ALTERNATIVES["td_control"] = {
    "one loop per update rule, the next action chosen at the top of the step for Q-learning": """
def td_control(update, n_episodes=200, alpha=0.5, epsilon=0.1, gamma=1.0, seed=0, max_steps=500):
    env = make_cliff_walking()
    rng = np.random.default_rng(seed)
    Q = torch.zeros(env.observation_space.n, env.action_space.n, dtype=torch.float64)

    def behave(state):
        if rng.random() < epsilon:
            return int(rng.integers(env.action_space.n))
        return int(torch.argmax(Q[state]))

    returns = []
    for episode in range(n_episodes):
        state, _ = env.reset(seed=seed + episode)
        total, steps, done = 0.0, 0, False
        if update == "q_learning":
            while not done and steps < max_steps:
                action = behave(state)
                nxt, reward, terminated, truncated, _ = env.step(action)
                Q = q_learning_update(Q, state, action, reward, nxt, terminated, alpha, gamma)
                state, total, steps, done = nxt, total + reward, steps + 1, terminated or truncated
        else:
            action = behave(state)
            while not done and steps < max_steps:
                nxt, reward, terminated, truncated, _ = env.step(action)
                nxt_action = behave(nxt)
                Q = sarsa_update(Q, state, action, reward, nxt, nxt_action, terminated, alpha, gamma)
                state, action = nxt, nxt_action
                total, steps, done = total + reward, steps + 1, terminated or truncated
        returns.append(total)
    return Q, np.array(returns)
""",
}

MUTANTS["concept_exploration"] = {
    "biased sample averages": 'def concept_exploration():\n    return "b"\n',
    "random arms pay more": 'def concept_exploration():\n    return "c"\n',
    "greedy only needs more steps": 'def concept_exploration():\n    return "d"\n',
}
MUTANTS["concept_optimism"] = {
    "equal bonuses": 'def concept_optimism():\n    return "a"\n',
    "the bonus shrinks with t": 'def concept_optimism():\n    return "b"\n',
    "linear regret like epsilon-greedy": 'def concept_optimism():\n    return "d"\n',
}
MUTANTS["concept_off_policy"] = {
    "learns the behaviour policy's values": 'def concept_off_policy():\n    return "a"\n',
    "never exploits, learns nothing": 'def concept_off_policy():\n    return "c"\n',
    "diverges": 'def concept_off_policy():\n    return "d"\n',
}
ALTERNATIVES["concept_exploration"] = {"upper case, with spaces": 'def concept_exploration():\n    return " A "\n'}
ALTERNATIVES["concept_optimism"] = {"upper case": 'def concept_optimism():\n    return "C"\n'}
ALTERNATIVES["concept_off_policy"] = {"plain letter": 'def concept_off_policy():\n    return "b"\n'}

# Make-it-work tasks, judged on a target (autograder.mutation leaves them to their registered mutants).
JUDGED_ON_A_TARGET = ["td_control"]

# Automatic mutations that are equivalent rewrites under the statement (autograder/mutation.py).
_STOPPING = ("only when to stop changes: the hidden cases ask for tol=1e-12, where both versions return the "
             "fixed point (the statement leaves open whether the last sweep's input or output is returned, so no "
             "case stops early on a loose tol)")
EQUIVALENT_MUTATIONS = {
    "value_iteration": {
        "term: `V_new - V` -> `V_new` in `(V_new - V).abs`": _STOPPING,
        "sign: `V_new - V` -> `V_new + V` in `(V_new - V).abs`": _STOPPING,
    },
}
