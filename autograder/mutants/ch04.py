"""Classic wrong answers and correct alternatives for chapter 04 (finite differences, forward and reverse mode).

The two classes (``Dual`` and ``Value``) are long, so their variants are written as one full, correct class
(``_DUAL`` and ``_VALUE``, what a student's finished cell holds) with one or two lines changed.
"""

CHAPTER = "04-automatic-differentiation"


def _edit(source: str, *pairs: tuple[str, str]) -> str:
    """``source`` with each ``old`` replaced by ``new`` (each ``old`` must occur)."""
    for old, new in pairs:
        if old not in source:
            raise ValueError(f"mutant edit not found: {old!r}")
        source = source.replace(old, new)
    return source


_DUAL = '''
class Dual:
    def __init__(self, value, tangent=0.0):
        self.value = value
        self.tangent = tangent

    @staticmethod
    def _lift(other):
        return other if isinstance(other, Dual) else Dual(other, 0.0)

    def __add__(self, other):
        other = Dual._lift(other)
        return Dual(self.value + other.value, self.tangent + other.tangent)

    def __sub__(self, other):
        other = Dual._lift(other)
        return Dual(self.value - other.value, self.tangent - other.tangent)

    def __mul__(self, other):
        other = Dual._lift(other)
        return Dual(self.value * other.value, self.tangent * other.value + self.value * other.tangent)

    def __truediv__(self, other):
        other = Dual._lift(other)
        return Dual(self.value / other.value,
                    (self.tangent * other.value - self.value * other.tangent) / other.value ** 2)

    def __neg__(self):
        return Dual(-self.value, -self.tangent)

    def __pow__(self, p):
        return Dual(self.value ** p, p * self.value ** (p - 1) * self.tangent)

    def exp(self):
        return Dual(math.exp(self.value), math.exp(self.value) * self.tangent)

    def log(self):
        return Dual(math.log(self.value), self.tangent / self.value)

    def sin(self):
        return Dual(math.sin(self.value), math.cos(self.value) * self.tangent)

    def cos(self):
        return Dual(math.cos(self.value), -math.sin(self.value) * self.tangent)

    def tanh(self):
        return Dual(math.tanh(self.value), (1 - math.tanh(self.value) ** 2) * self.tangent)

    def __radd__(self, other):
        return Dual._lift(other) + self

    def __rsub__(self, other):
        return Dual._lift(other) - self

    def __rmul__(self, other):
        return Dual._lift(other) * self

    def __rtruediv__(self, other):
        return Dual._lift(other) / self
'''

_VALUE = '''
class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)
        self._op = _op

    @staticmethod
    def _lift(other):
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        other = Value._lift(other)
        out = Value(self.data + other.data, (self, other), "+")
        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = Value._lift(other)
        out = Value(self.data * other.data, (self, other), "*")
        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, p):
        out = Value(self.data ** p, (self,), "pow")
        def _backward():
            self.grad += p * self.data ** (p - 1) * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")
        def _backward():
            self.grad += (1 - out.data ** 2) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")
        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        out = Value(math.log(self.data), (self,), "log")
        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,), "relu")
        def _backward():
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        topo, visited = [], set()
        def build(node):
            if node not in visited:
                visited.add(node)
                for child in node._prev:
                    build(child)
                topo.append(node)
        build(self)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()

    def __neg__(self):
        return self * -1.0

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-Value._lift(other))

    def __rsub__(self, other):
        return Value._lift(other) + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * Value._lift(other) ** -1

    def __rtruediv__(self, other):
        return Value._lift(other) * self ** -1
'''

_RECURSIVE_BACKWARD = '''    def backward(self):
        topo, visited = [], set()
        def build(node):
            if node not in visited:
                visited.add(node)
                for child in node._prev:
                    build(child)
                topo.append(node)
        build(self)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()
'''

_KAHN_BACKWARD = '''    def backward(self):
        # Kahn's algorithm: a node is ready once every operation that uses it has been processed.
        uses, seen, stack = {}, {self}, [self]
        while stack:
            node = stack.pop()
            for child in node._prev:
                uses[child] = uses.get(child, 0) + 1
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        self.grad = 1.0
        ready = [self]
        while ready:
            node = ready.pop()
            node._backward()
            for child in node._prev:
                uses[child] -= 1
                if uses[child] == 0:
                    ready.append(child)
'''

_PREORDER_BACKWARD = '''    def backward(self):
        self.grad = 1.0
        visited, stack = set(), [self]
        while stack:
            node = stack.pop()
            if node in visited:
                continue
            visited.add(node)
            node._backward()
            stack.extend(node._prev)
'''

_MLP_BACKWARD = '''
def mlp_backward(dout, cache):
    X, W1, b1, W2, b2, Z1, H1 = cache
    dW2 = H1.T @ dout
    db2 = dout.sum(dim=0)
    dZ1 = (dout @ W2.T) * (Z1 > 0)
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(dim=0)
    dX = dZ1 @ W1.T
    return dX, dW1, db1, dW2, db2
'''

_TRAIN_MLP = '''
def train_mlp(X, y, num_classes, hidden=64, steps=1500, lr=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    N, D = X.shape
    W1 = torch.randn(D, hidden, generator=g, dtype=X.dtype) * math.sqrt(2.0 / D)
    b1 = torch.zeros(hidden, dtype=X.dtype)
    W2 = torch.randn(hidden, num_classes, generator=g, dtype=X.dtype) * math.sqrt(1.0 / hidden)
    b2 = torch.zeros(num_classes, dtype=X.dtype)
    onehot = torch.nn.functional.one_hot(y, num_classes).to(X.dtype)
    for _ in range(steps):
        out, cache = mlp_forward(X, W1, b1, W2, b2)
        dout = (torch.softmax(out, dim=1) - onehot) / N
        _, dW1, db1, dW2, db2 = mlp_backward(dout, cache)
        W1, b1, W2, b2 = W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2, b2 - lr * db2
    return W1, b1, W2, b2
'''

MUTANTS = {
    "forward_difference": {
        "divides by 2h": """
def forward_difference(f, x, h):
    return (f(x + h) - f(x)) / (2 * h)
""",
        "steps backwards: (f(x) - f(x - h)) / h": """
def forward_difference(f, x, h):
    return (f(x) - f(x - h)) / h
""",
        "sign flipped: (f(x) - f(x + h)) / h": """
def forward_difference(f, x, h):
    return (f(x) - f(x + h)) / h
""",
    },
    "central_difference": {
        "divides by h instead of 2h": """
def central_difference(f, x, h):
    return (f(x + h) - f(x - h)) / h
""",
        "precedence slip: / 2 * h multiplies by h": """
def central_difference(f, x, h):
    return (f(x + h) - f(x - h)) / 2 * h
""",
        "a forward difference under the name": """
def central_difference(f, x, h):
    return (f(x + h) - f(x)) / h
""",
    },
    "numerical_gradient": {
        "divides by h instead of 2h": """
def numerical_gradient(f, x, h=1e-6):
    flat = x.reshape(-1)
    grad = torch.zeros_like(flat)
    for i in range(flat.numel()):
        step = torch.zeros_like(flat)
        step[i] = h
        grad[i] = (f((flat + step).reshape(x.shape)) - f((flat - step).reshape(x.shape))) / h
    return grad.reshape(x.shape)
""",
        "forward differences (first-order error)": """
def numerical_gradient(f, x, h=1e-6):
    flat = x.reshape(-1)
    grad = torch.zeros_like(flat)
    f0 = f(x)
    for i in range(flat.numel()):
        step = torch.zeros_like(flat)
        step[i] = h
        grad[i] = (f((flat + step).reshape(x.shape)) - f0) / h
    return grad.reshape(x.shape)
""",
        "perturbs x in place and never puts it back": """
def numerical_gradient(f, x, h=1e-6):
    flat = x.view(-1)
    grad = torch.zeros_like(flat)
    for i in range(flat.numel()):
        flat[i] += h
        f_plus = f(x)
        flat[i] -= 2 * h
        f_minus = f(x)
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad.reshape(x.shape)
""",
    },
    "Dual": {
        "product rule keeps only one of its two terms": _edit(
            _DUAL, ("self.tangent * other.value + self.value * other.tangent)",
                    "self.tangent * other.value)")),
        "quotient rule with a + sign": _edit(
            _DUAL, ("(self.tangent * other.value - self.value * other.tangent) / other.value ** 2",
                    "(self.tangent * other.value + self.value * other.tangent) / other.value ** 2")),
        "power rule forgets to multiply by the tangent": _edit(
            _DUAL, ("p * self.value ** (p - 1) * self.tangent", "p * self.value ** (p - 1)")),
        "tanh derivative missing its square": _edit(
            _DUAL, ("(1 - math.tanh(self.value) ** 2) * self.tangent", "(1 - math.tanh(self.value)) * self.tangent")),
    },
    "dual_jvp": {
        "seeds every input with tangent 1, ignoring v": """
def dual_jvp(f, x, v):
    out = f(*[Dual(xi, 1.0) for xi in x])
    if isinstance(out, Dual):
        return out.value, out.tangent
    return out, 0.0
""",
        "returns the tangent only": """
def dual_jvp(f, x, v):
    out = f(*[Dual(xi, vi) for xi, vi in zip(x, v)])
    return out.tangent
""",
        "assumes f always returns a Dual (crashes on a constant program)": """
def dual_jvp(f, x, v):
    out = f(*[Dual(xi, vi) for xi, vi in zip(x, v)])
    return out.value, out.tangent
""",
    },
    "Value": {
        "overwrites .grad instead of accumulating (= for +=)": _VALUE.replace(".grad += ", ".grad = "),
        "runs _backward in topological order instead of reversed": _edit(
            _VALUE, ("for node in reversed(topo):", "for node in topo:")),
        "no topological sort: _backward in depth-first pre-order from the output": _edit(
            _VALUE, (_RECURSIVE_BACKWARD, _PREORDER_BACKWARD)),
        "product rule missing a term: only the left factor gets a gradient": _edit(
            _VALUE, ("            other.grad += self.data * out.grad\n", "")),
        "tanh backward uses the input instead of the output: 1 - x^2": _edit(
            _VALUE, ("self.grad += (1 - out.data ** 2) * out.grad", "self.grad += (1 - self.data ** 2) * out.grad")),
    },
    "mlp_forward": {
        "ReLU after the second layer too": """
def mlp_forward(X, W1, b1, W2, b2):
    Z1 = X @ W1 + b1
    H1 = torch.relu(Z1)
    out = torch.relu(H1 @ W2 + b2)
    return out, (X, W1, b1, W2, b2, Z1, H1)
""",
        "forgets the first bias": """
def mlp_forward(X, W1, b1, W2, b2):
    Z1 = X @ W1
    H1 = torch.relu(Z1)
    out = H1 @ W2 + b2
    return out, (X, W1, b1, W2, b2, Z1, H1)
""",
        "cache stores H1 and Z1 in the wrong order": """
def mlp_forward(X, W1, b1, W2, b2):
    Z1 = X @ W1 + b1
    H1 = torch.relu(Z1)
    out = H1 @ W2 + b2
    return out, (X, W1, b1, W2, b2, H1, Z1)
""",
    },
    "mlp_backward": {
        "weight gradients transposed (shaped (out, in) instead of (in, out))": _edit(
            _MLP_BACKWARD, ("dW2 = H1.T @ dout", "dW2 = dout.T @ H1"), ("dW1 = X.T @ dZ1", "dW1 = dZ1.T @ X")),
        "missing the ReLU mask": _edit(_MLP_BACKWARD, ("dZ1 = (dout @ W2.T) * (Z1 > 0)", "dZ1 = dout @ W2.T")),
        "bias gradients averaged over the batch instead of summed": _edit(
            _MLP_BACKWARD, ("db2 = dout.sum(dim=0)", "db2 = dout.mean(dim=0)"), ("db1 = dZ1.sum(dim=0)", "db1 = dZ1.mean(dim=0)")),
        "sends the gradient back through W2 untransposed": _edit(
            _MLP_BACKWARD, ("dZ1 = (dout @ W2.T) * (Z1 > 0)", "dZ1 = (dout @ W2) * (Z1 > 0)")),
        "lets the gradient through where Z1 is exactly 0, against the stated convention": _edit(
            _MLP_BACKWARD, ("(Z1 > 0)", "(Z1 >= 0)")),
    },
    "linear_backward": {
        "weight gradient transposed (shaped (M, K))": """
def linear_backward(dout, X, W):
    return dout @ W.T, dout.T @ X, dout.sum(dim=0)
""",
        "averages the bias gradient over the batch": """
def linear_backward(dout, X, W):
    return dout @ W.T, X.T @ dout, dout.mean(dim=0)
""",
        "sends the gradient back through W untransposed": """
def linear_backward(dout, X, W):
    return dout @ W, X.T @ dout, dout.sum(dim=0)
""",
        "takes the bias gradient from one row (assigns instead of accumulating over the batch)": """
def linear_backward(dout, X, W):
    db = torch.zeros(dout.shape[1], dtype=dout.dtype)
    for n in range(dout.shape[0]):
        db = dout[n]
    return dout @ W.T, X.T @ dout, db
""",
    },
    "train_mlp": {
        "climbs the loss: adds the gradient instead of subtracting it": _edit(
            _TRAIN_MLP, ("W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2, b2 - lr * db2",
                         "W1 + lr * dW1, b1 + lr * db1, W2 + lr * dW2, b2 + lr * db2")),
        "back-propagates without the ReLU mask": _edit(
            _TRAIN_MLP, ("_, dW1, db1, dW2, db2 = mlp_backward(dout, cache)",
                         "Z1, H1 = cache[5], cache[6]\n"
                         "        dW2, db2 = H1.T @ dout, dout.sum(dim=0)\n"
                         "        dZ1 = dout @ W2.T\n"
                         "        dW1, db1 = X.T @ dZ1, dZ1.sum(dim=0)")),
        "starts from zero weights (every hidden unit stays the same)": _edit(
            _TRAIN_MLP, ("torch.randn(D, hidden, generator=g, dtype=X.dtype) * math.sqrt(2.0 / D)",
                         "torch.zeros(D, hidden, dtype=X.dtype)"),
            ("torch.randn(hidden, num_classes, generator=g, dtype=X.dtype) * math.sqrt(1.0 / hidden)",
             "torch.zeros(hidden, num_classes, dtype=X.dtype)")),
        "trains the output layer only": _edit(
            _TRAIN_MLP, ("W1, b1, W2, b2 = W1 - lr * dW1, b1 - lr * db1,", "W2, b2 = ")),
    },
    "reverse_mode_answer": {
        "a: forward mode suffers from round-off": 'def reverse_mode_answer():\n    return "a"\n',
        "c: reverse mode stores nothing": 'def reverse_mode_answer():\n    return "c"\n',
        "d: forward mode cannot handle the ReLU": 'def reverse_mode_answer():\n    return "d"\n',
    },
    "accumulate_answer": {
        "a: averages over calls": 'def accumulate_answer():\n    return "a"\n',
        "b: builds the product along a path": 'def accumulate_answer():\n    return "b"\n',
        "d: no difference": 'def accumulate_answer():\n    return "d"\n',
    },
}

ALTERNATIVES = {
    "forward_difference": {
        "multiplies by 1 / h, with torch.sub": """
def forward_difference(f, x, h):
    return torch.sub(f(x + h), f(x)) * (1.0 / h)
""",
    },
    "central_difference": {
        "average of the forward and backward differences": """
def central_difference(f, x, h):
    fx = f(x)
    return 0.5 * ((f(x + h) - fx) / h + (fx - f(x - h)) / h)
""",
        "stacks both points and evaluates f once": """
def central_difference(f, x, h):
    x, h = torch.broadcast_tensors(x, torch.as_tensor(h, dtype=x.dtype))
    values = f(torch.stack([x + h, x - h]))
    return (values[0] - values[1]) / (2 * h)
""",
    },
    "numerical_gradient": {
        "perturbs x in place and restores each entry (CS231n style)": """
def numerical_gradient(f, x, h=1e-6):
    grad = torch.zeros_like(x)
    flat, gflat = x.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + h
        f_plus = float(f(x))
        flat[i] = old - h
        f_minus = float(f(x))
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2 * h)
    return grad
""",
        "loops over np.ndindex on clones": """
def numerical_gradient(f, x, h=1e-6):
    grad = torch.empty_like(x)
    for idx in np.ndindex(*x.shape):
        xp, xm = x.clone(), x.clone()
        xp[idx] += h
        xm[idx] -= h
        grad[idx] = (f(xp) - f(xm)) / (2 * h)
    return grad
""",
    },
    "Dual": {
        "numpy functions and division as multiplication by other ** -1": _edit(
            _DUAL,
            ("""        return Dual(self.value / other.value,
                    (self.tangent * other.value - self.value * other.tangent) / other.value ** 2)""",
             """        return self * other ** -1"""),
            ("math.exp", "np.exp"), ("math.sin", "np.sin"), ("math.cos", "np.cos"), ("math.log", "np.log")),
        "one chain-rule method shared by every elementary function": _edit(
            _DUAL,
            ("""    def exp(self):
        return Dual(math.exp(self.value), math.exp(self.value) * self.tangent)""",
             """    def _chain(self, value, slope):
        return Dual(value, slope * self.tangent)

    def exp(self):
        return self._chain(math.exp(self.value), math.exp(self.value))"""),
            ("return Dual(math.tanh(self.value), (1 - math.tanh(self.value) ** 2) * self.tangent)",
             "t = math.tanh(self.value)\n        return self._chain(t, 1 - t * t)")),
    },
    "dual_jvp": {
        "one pass per input (partial derivatives), then the dot product with v": """
def dual_jvp(f, x, v):
    n = len(x)
    total, value = 0.0, None
    for i in range(n):
        out = f(*[Dual(x[j], 1.0 if j == i else 0.0) for j in range(n)])
        if not isinstance(out, Dual):
            return out, 0.0
        value = out.value
        total += out.tangent * v[i]
    return value, total
""",
    },
    "Value": {
        "iterative topological sort (explicit stack)": _edit(_VALUE, (_RECURSIVE_BACKWARD, '''    def backward(self):
        topo, visited, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                topo.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                stack.extend((c, False) for c in node._prev)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()
''')),
        "Kahn's algorithm (counts the uses of each node)": _edit(_VALUE, (_RECURSIVE_BACKWARD, _KAHN_BACKWARD)),
        "division with its own backward rule": _edit(_VALUE, ("""    def __truediv__(self, other):
        return self * Value._lift(other) ** -1
""", """    def __truediv__(self, other):
        other = Value._lift(other)
        out = Value(self.data / other.data, (self, other), "/")
        def _backward():
            self.grad += out.grad / other.data
            other.grad += -self.data / other.data ** 2 * out.grad
        out._backward = _backward
        return out
""")),
    },
    "mlp_forward": {
        "clamp and addmm": """
def mlp_forward(X, W1, b1, W2, b2):
    Z1 = torch.addmm(b1, X, W1)
    H1 = Z1.clamp(min=0)
    return torch.addmm(b2, H1, W2), (X, W1, b1, W2, b2, Z1, H1)
""",
        "einsum and a mask": """
def mlp_forward(X, W1, b1, W2, b2):
    Z1 = torch.einsum("nd,dh->nh", X, W1) + b1[None, :]
    H1 = Z1 * (Z1 > 0)
    out = torch.einsum("nh,hc->nc", H1, W2) + b2[None, :]
    return out, (X, W1, b1, W2, b2, Z1, H1)
""",
    },
    "mlp_backward": {
        "einsum, mask from H1 > 0": """
def mlp_backward(dout, cache):
    X, W1, b1, W2, b2, Z1, H1 = cache
    dW2 = torch.einsum("nh,nc->hc", H1, dout)
    dH1 = torch.einsum("nc,hc->nh", dout, W2)
    dZ1 = torch.where(H1 > 0, dH1, torch.zeros_like(dH1))
    dW1 = torch.einsum("nd,nh->dh", X, dZ1)
    dX = torch.einsum("nh,dh->nd", dZ1, W1)
    return dX, dW1, dZ1.sum(0), dW2, dout.sum(0)
""",
        "numpy inside, tensors out": """
def mlp_backward(dout, cache):
    X, W1, b1, W2, b2, Z1, H1 = (t.numpy() for t in cache)
    G = dout.numpy()
    dZ1 = (G @ W2.T) * (Z1 > 0)
    grads = (dZ1 @ W1.T, X.T @ dZ1, dZ1.sum(axis=0), H1.T @ G, G.sum(axis=0))
    return tuple(torch.from_numpy(np.ascontiguousarray(g)) for g in grads)
""",
    },
    "linear_backward": {
        "einsum, one sum per index": """
def linear_backward(dout, X, W):
    dX = torch.einsum("nm,km->nk", dout, W)
    dW = torch.einsum("nk,nm->km", X, dout)
    db = torch.einsum("nm->m", dout)
    return dX, dW, db
""",
    },
    "train_mlp": {
        "a wider network, Xavier-uniform weights, smaller steps for longer, float32 inside": """
def train_mlp(X, y, num_classes, hidden=96, steps=1800, lr=0.8, seed=0):
    g = torch.Generator().manual_seed(seed)
    Xf = X.to(torch.float32)
    N, D = Xf.shape
    bound1, bound2 = math.sqrt(6.0 / (D + hidden)), math.sqrt(6.0 / (hidden + num_classes))
    W1 = (2 * torch.rand(D, hidden, generator=g) - 1) * bound1 * 2
    b1 = torch.zeros(hidden)
    W2 = (2 * torch.rand(hidden, num_classes, generator=g) - 1) * bound2
    b2 = torch.zeros(num_classes)
    for _ in range(steps):
        out, cache = mlp_forward(Xf, W1, b1, W2, b2)
        out = out - out.max(dim=1, keepdim=True).values
        p = out.exp() / out.exp().sum(dim=1, keepdim=True)
        p[torch.arange(N), y] -= 1.0
        _, dW1, db1, dW2, db2 = mlp_backward(p / N, cache)
        W1 -= lr * dW1
        b1 -= lr * db1
        W2 -= lr * dW2
        b2 -= lr * db2
    return W1.to(X.dtype), b1.to(X.dtype), W2.to(X.dtype), b2.to(X.dtype)
""",
    },
    "reverse_mode_answer": {
        "capital letter": 'def reverse_mode_answer():\n    return "B"\n',
    },
    "accumulate_answer": {
        "with spaces": 'def accumulate_answer():\n    return " c "\n',
    },
}

SAMPLE_WRONG = ["Value", "central_difference"]

JUDGED_ON_A_TARGET = ['train_mlp']
