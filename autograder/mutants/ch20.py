"""Classic wrong answers and correct alternatives for chapter 20 (Attributing predictions)."""

CHAPTER = "20-explainable-ai"

_M = "    m = int(values.shape[0]).bit_length() - 1\n"


def _subsets(weight: str, term: str = "values[s | (1 << i)] - values[s]") -> str:
    return ("def shapley_subsets(values):\n" + _M +
            "    phi = torch.zeros(m, dtype=values.dtype)\n"
            "    for i in range(m):\n"
            "        for s in range(1 << m):\n"
            "            if not s & (1 << i):\n"
            "                k = bin(s).count('1')\n"
            f"                phi[i] += {weight} * ({term})\n"
            "    return phi\n")


def _perm(body_update: str, average: str = "math.factorial(m)") -> str:
    return ("def shapley_permutations(values):\n" + _M +
            "    total = torch.zeros(m, dtype=values.dtype)\n"
            "    for order in itertools.permutations(range(m)):\n"
            "        mask = 0\n"
            "        for player in order:\n"
            f"            {body_update}\n"
            "            mask |= 1 << player\n"
            f"    return total / {average}\n")


def _mc(draw: str, average: str = "n_permutations") -> str:
    return ("def shapley_monte_carlo(values, n_permutations, generator):\n" + _M +
            "    total = torch.zeros(m, dtype=values.dtype)\n"
            "    for _ in range(n_permutations):\n"
            "        mask = 0\n"
            f"        for player in {draw}.tolist():\n"
            "            total[player] += values[mask | (1 << player)] - values[mask]\n"
            "            mask |= 1 << player\n"
            f"    return total / {average}\n")


def _axioms(efficiency: str = "values[-1] - values[0]", sym_range: str = "rest(i, j)",
            dummy_alone: str = "values[1 << i] - values[0]") -> str:
    return ("def axiom_violations(values, phi, tol=1e-9):\n" + _M +
            "    eps = tol * (1 + float(values.abs().max()))\n"
            "    broken = []\n"
            f"    if abs(float(phi.sum() - ({efficiency}))) > eps:\n"
            "        broken.append('efficiency')\n"
            "    rest = lambda *ps: [s for s in range(1 << m) if all(not s & (1 << p) for p in ps)]\n"
            f"    if any(all(abs(float(values[s | 1 << i] - values[s | 1 << j])) <= eps for s in {sym_range})\n"
            "           and abs(float(phi[i] - phi[j])) > eps for i in range(m) for j in range(i + 1, m)):\n"
            "        broken.append('symmetry')\n"
            f"    if any(all(abs(float(values[s | 1 << i] - values[s] - ({dummy_alone}))) <= eps for s in rest(i))\n"
            f"           and abs(float(phi[i] - ({dummy_alone}))) > eps for i in range(m)):\n"
            "        broken.append('dummy')\n"
            "    return broken\n")


def _kernel(weights: str, target: str = "values[masks] - values[0]") -> str:
    return ("def kernel_shap(values):\n" + _M +
            "    masks = torch.arange(1, (1 << m) - 1)\n"
            "    z = ((masks[:, None] >> torch.arange(m)) & 1).to(values.dtype)\n"
            f"    y = {target}\n"
            "    s = z.sum(1)\n"
            f"    w = {weights}\n"
            "    total = values[-1] - values[0]\n"
            "    a = z[:, :-1] - z[:, -1:]\n"
            "    r = y - z[:, -1] * total\n"
            "    head = torch.linalg.solve(a.T @ (w[:, None] * a), a.T @ (w * r))\n"
            "    return torch.cat([head, (total - head.sum()).reshape(1)])\n")


def _interv(select: str, reduce: str = "out.reshape(1 << m, k).mean(1)") -> str:
    return ("def interventional_values(model, x, background):\n"
            "    m, k = x.shape[0], background.shape[0]\n"
            f"    members = {select}\n"
            "    z = torch.where(members[:, None, :], x, background[None, :, :])\n"
            "    out = model(z.reshape(-1, m))\n"
            f"    return {reduce}\n")


def _gxi(picked: str, factor: str = "x * grad") -> str:
    return ("def gradient_x_input(model, x, target):\n"
            "    inputs = x.detach().requires_grad_(True)\n"
            f"    picked = {picked}\n"
            "    (grad,) = torch.autograd.grad(picked, inputs)\n"
            f"    return ({factor}).detach()\n")


def _ig(alpha: str, final: str = "diff * total / steps") -> str:
    return ("def integrated_gradients(model, x, baseline, target, steps=32):\n"
            "    diff = x - baseline\n"
            "    total = torch.zeros_like(x)\n"
            "    for k in range(steps):\n"
            f"        point = (baseline + ({alpha}) * diff).detach().requires_grad_(True)\n"
            "        picked = model(point).gather(1, target.reshape(-1, 1)).sum()\n"
            "        total += torch.autograd.grad(picked, point)[0]\n"
            f"    return ({final}).detach()\n")


def _deletion(body: str) -> str:
    return "def deletion_attribution(model, x, target):\n" + body


MUTANTS = {
    "shapley_permutations": {
        "divides by M instead of M!": _perm("total[player] += values[mask | (1 << player)] - values[mask]", "m"),
        "payoff of the coalition instead of the marginal contribution":
            _perm("total[player] += values[mask | (1 << player)]"),
        "contribution measured from the empty coalition (v(P + i) - v(empty))":
            _perm("total[player] += values[mask | (1 << player)] - values[0]"),
    },
    "shapley_subsets": {
        "Banzhaf's uniform weights 1 / 2^(M-1)": _subsets("1 / 2 ** (m - 1)"),
        "1 / C(M-1, s) without the 1/M": _subsets("1 / math.comb(m - 1, k)"),
        "s! (M - s)! / M! (off by one)": _subsets("math.factorial(k) * math.factorial(m - k) / math.factorial(m)"),
        "v(S + i) only, forgetting v(S)": _subsets("math.factorial(k) * math.factorial(m - k - 1) / math.factorial(m)",
                                                   "values[s | (1 << i)]"),
    },
    "shapley_monte_carlo": {
        "random orders drawn without the generator": _mc("torch.randperm(m)"),
        "a random player each step (orders with repeats)": """
def shapley_monte_carlo(values, n_permutations, generator):
    m = int(values.shape[0]).bit_length() - 1
    total = torch.zeros(m, dtype=values.dtype)
    for _ in range(n_permutations):
        mask = 0
        for player in torch.randint(m, (m,), generator=generator).tolist():
            total[player] += values[mask | (1 << player)] - values[mask]
            mask |= 1 << player
    return total / n_permutations
""",
        "averages over M! instead of the number of orders": _mc("torch.randperm(m, generator=generator)",
                                                                 "math.factorial(m)"),
    },
    "axiom_violations": {
        "efficiency against v(all), forgetting v(empty)": _axioms(efficiency="values[-1]"),
        "symmetry judged on the singletons only": _axioms(sym_range="[0]"),
        "dummy = null player only (contribution 0)": _axioms(dummy_alone="0"),
    },
    "shapley_kernel_weights": {
        "without the factor (M - 1)": """
def shapley_kernel_weights(m):
    return torch.tensor([1 / (math.comb(m, s) * s * (m - s)) for s in range(1, m)], dtype=f64)
""",
        "1 / C(M, s) only": """
def shapley_kernel_weights(m):
    return torch.tensor([1 / math.comb(m, s) for s in range(1, m)], dtype=f64)
""",
        "C(M, s) multiplies instead of divides": """
def shapley_kernel_weights(m):
    return torch.tensor([(m - 1) * math.comb(m, s) / (s * (m - s)) for s in range(1, m)], dtype=f64)
""",
    },
    "kernel_shap": {
        "unweighted least squares": _kernel("torch.ones_like(s)"),
        "constraint sum(phi) = v(all), forgetting v(empty)": _kernel(
            "torch.tensor([(m - 1) / (math.comb(m, int(k)) * k * (m - k)) for k in s], dtype=values.dtype)"
        ).replace("total = values[-1] - values[0]", "total = values[-1]"),
        "weights of size M - s (complement)": _kernel(
            "torch.tensor([(m - 1) / (math.comb(m, int(k)) * k * (m - k)) for k in s], dtype=values.dtype)"
            " * (s / (m - s))"),
    },
    "interventional_values": {
        "bit i counted from the other end (reversed players)":
            _interv("((torch.arange(1 << m)[:, None] >> torch.arange(m - 1, -1, -1)) & 1).bool()"),
        "x where the bit is clear (x and background swapped)":
            _interv("((torch.arange(1 << m)[:, None] >> torch.arange(m)) & 1) == 0"),
        "model of the averaged background instead of the average of the model": """
def interventional_values(model, x, background):
    m = x.shape[0]
    members = ((torch.arange(1 << m)[:, None] >> torch.arange(m)) & 1).bool()
    return model(torch.where(members, x, background.mean(0)))
""",
    },
    "linear_shap": {
        "w * x, no background": """
def linear_shap(weight, bias, x, background):
    return weight * x
""",
        "the bias shared out among the features": """
def linear_shap(weight, bias, x, background):
    return weight * (x - background.mean(0)) + bias / x.shape[0]
""",
        "x minus the background's overall mean": """
def linear_shap(weight, bias, x, background):
    return weight * (x - background.mean())
""",
    },
    "gradient_x_input": {
        "the plain gradient (no times input)": _gxi("model(inputs).gather(1, target.reshape(-1, 1)).sum()", "grad"),
        "first row's target for every row": _gxi("model(inputs)[:, target[0]].sum()"),
        "gradient of the softmax probability": _gxi(
            "torch.softmax(model(inputs), -1).gather(1, target.reshape(-1, 1)).sum()"),
        "gradient of the sum of all logits": _gxi("model(inputs).sum()"),
    },
    "integrated_gradients": {
        "without the (x - baseline) factor": _ig("(k + 0.5) / steps", "total / steps"),
        "left Riemann sum (alpha = k / steps)": _ig("k / steps"),
        "right Riemann sum (alpha = (k + 1) / steps)": _ig("(k + 1) / steps"),
        "times x instead of (x - baseline)": _ig("(k + 0.5) / steps", "x * total / steps"),
    },
    "deletion_attribution": {
        "integrated gradients with the wrong sign": _deletion(
            "    return -integrated_gradients(model, x, torch.zeros_like(x), target, steps=32)\n"),
        "integrated gradients without the (x - baseline) factor": _deletion(
            "    total = torch.zeros_like(x)\n"
            "    for k in range(32):\n"
            "        point = ((k + 0.5) / 32 * x).detach().requires_grad_(True)\n"
            "        picked = model(point).gather(1, target.reshape(-1, 1)).sum()\n"
            "        total += torch.autograd.grad(picked, point)[0]\n"
            "    return total / 32\n"),
        "magnitudes |IG| (both signs counted as important)": _deletion(
            "    return integrated_gradients(model, x, torch.zeros_like(x), target, steps=32).abs()\n"),
        "pixel intensity": _deletion("    return x.clone()\n"),
    },
    "concept_attributions": {
        "correlated copies share credit": """
def concept_attributions():
    return {"q1": "a", "q2": "b", "q3": "d"}
""",
        "IG is zero where the gradient is": """
def concept_attributions():
    return {"q1": "c", "q2": "a", "q3": "d"}
""",
    },
}

ALTERNATIVES = {
    "shapley_permutations": {
        "sets of predecessors with frozensets": """
def shapley_permutations(values):
    m = int(values.shape[0]).bit_length() - 1
    index = lambda players: sum(1 << p for p in players)
    phi = [0.0] * m
    orders = list(itertools.permutations(range(m)))
    for order in orders:
        for pos, player in enumerate(order):
            before = frozenset(order[:pos])
            phi[player] += float(values[index(before | {player})] - values[index(before)])
    return torch.tensor(phi, dtype=values.dtype) / len(orders)
""",
    },
    "shapley_subsets": {
        "1 / (M C(M-1, s)), vectorized over masks": """
def shapley_subsets(values):
    m = int(values.shape[0]).bit_length() - 1
    masks = torch.arange(1 << m)
    bits = (masks[:, None] >> torch.arange(m)) & 1
    size = bits.sum(1)
    phi = []
    for i in range(m):
        s = masks[bits[:, i] == 0]
        w = torch.tensor([1 / (m * math.comb(m - 1, int(k))) for k in size[s]], dtype=values.dtype)
        phi.append((w * (values[s | (1 << i)] - values[s])).sum())
    return torch.stack(phi)
""",
    },
    "shapley_monte_carlo": {
        "running mean": """
def shapley_monte_carlo(values, n_permutations, generator):
    m = int(values.shape[0]).bit_length() - 1
    mean = torch.zeros(m, dtype=values.dtype)
    for n in range(1, n_permutations + 1):
        order = torch.randperm(m, generator=generator)
        contrib = torch.zeros(m, dtype=values.dtype)
        mask = 0
        for player in order.tolist():
            contrib[player] = values[mask | (1 << player)] - values[mask]
            mask |= 1 << player
        mean = mean + (contrib - mean) / n
    return mean
""",
    },
    "axiom_violations": {
        "vectorized with masks": """
def axiom_violations(values, phi, tol=1e-9):
    m = int(values.shape[0]).bit_length() - 1
    eps = tol * (1 + values.abs().max())
    masks = torch.arange(1 << m)
    out = []
    if (phi.sum() - values[-1] + values[0]).abs() > eps:
        out.append("efficiency")
    sym = False
    for i in range(m):
        for j in range(m):
            if i != j:
                s = masks[(masks & (1 << i) == 0) & (masks & (1 << j) == 0)]
                if ((values[s | 1 << i] - values[s | 1 << j]).abs() <= eps).all() and (phi[i] - phi[j]).abs() > eps:
                    sym = True
    if sym:
        out.append("symmetry")
    dummy = False
    for i in range(m):
        s = masks[masks & (1 << i) == 0]
        alone = values[1 << i] - values[0]
        if ((values[s | 1 << i] - values[s] - alone).abs() <= eps).all() and (phi[i] - alone).abs() > eps:
            dummy = True
    if dummy:
        out.append("dummy")
    return out
""",
    },
    "shapley_kernel_weights": {
        "factorials": """
def shapley_kernel_weights(m):
    w = [(m - 1) * math.factorial(s) * math.factorial(m - s) / (math.factorial(m) * s * (m - s)) for s in range(1, m)]
    return torch.tensor(w, dtype=torch.float64)
""",
    },
    "kernel_shap": {
        "eliminate the first coefficient, lstsq on sqrt-weighted rows": """
def kernel_shap(values):
    m = int(values.shape[0]).bit_length() - 1
    masks = torch.arange(1, (1 << m) - 1)
    z = ((masks[:, None] >> torch.arange(m)) & 1).to(values.dtype)
    s = z.sum(1)
    w = torch.tensor([(m - 1) / (math.comb(m, int(k)) * k * (m - k)) for k in s], dtype=values.dtype)
    total = values[-1] - values[0]
    a = z[:, 1:] - z[:, :1]
    r = values[masks] - values[0] - z[:, 0] * total
    sw = w.sqrt()
    tail = torch.linalg.lstsq((sw[:, None] * a).double(), (sw * r).double()[:, None]).solution[:, 0].to(values.dtype)
    return torch.cat([(total - tail.sum()).reshape(1), tail])
""",
    },
    "interventional_values": {
        "loop over coalitions": """
def interventional_values(model, x, background):
    m = x.shape[0]
    out = []
    for mask in range(1 << m):
        z = background.clone()
        for i in range(m):
            if mask & (1 << i):
                z[:, i] = x[i]
        out.append(model(z).mean())
    return torch.stack(out)
""",
    },
    "linear_shap": {
        "through the game's dummy contribution": """
def linear_shap(weight, bias, x, background):
    f = lambda z: z @ weight + bias
    out = []
    for i in range(x.shape[0]):
        z = background.clone()
        z[:, i] = x[i]
        out.append((f(z) - f(background)).mean())
    return torch.stack(out).to(x.dtype)
""",
    },
    "gradient_x_input": {
        "torch.func.vjp with a one-hot cotangent": """
def gradient_x_input(model, x, target):
    logits, pullback = torch.func.vjp(model, x)
    (grad,) = pullback(torch.nn.functional.one_hot(target, logits.shape[1]).to(logits.dtype))
    return x * grad
""",
    },
    "integrated_gradients": {
        "all path points in one batch": """
def integrated_gradients(model, x, baseline, target, steps=32):
    baseline = baseline.expand_as(x)
    alphas = (torch.arange(steps, dtype=x.dtype) + 0.5) / steps
    points = (baseline[None] + alphas[:, None, None] * (x - baseline)[None]).reshape(-1, x.shape[1])
    points.requires_grad_(True)
    picked = model(points).gather(1, target.repeat(steps)[:, None]).sum()
    grads = torch.autograd.grad(picked, points)[0].reshape(steps, *x.shape)
    return (x - baseline) * grads.mean(0)
""",
    },
    "deletion_attribution": {
        "gradient x input": """
def deletion_attribution(model, x, target):
    return gradient_x_input(model, x, target)
""",
    },
    "concept_attributions": {
        "upper case with spaces": """
def concept_attributions():
    return {"q3": " D", "q2": "B ", "q1": "C"}
""",
    },
}

SAMPLE_WRONG = ["shapley_subsets", "linear_shap"]

JUDGED_ON_A_TARGET = ["deletion_attribution"]
