"""Plain data across the sandbox wall: what a kernel may send back to the grader, and nothing else.

A student's function runs in the sandboxed kernel; what it returns is turned into plain JSON here
(numbers, strings, lists, dicts, and tensors/arrays as dtype + shape + raw bytes) and rebuilt in the
grader's own process, where the comparison happens. No object of the student's survives the trip: a
value whose ``__eq__`` always says True arrives as an :class:`Opaque` that equals nothing, and a patched
``np.allclose`` in the kernel never runs in the grader.

    >>> import torch
    >>> decode(encode((torch.tensor([1.5, 2.0], dtype=torch.float64), 3, "ok")))
    (tensor([1.5000, 2.0000], dtype=torch.float64), 3, 'ok')
"""
from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

__all__ = ["encode", "decode", "Opaque", "TooBig", "MAX_BYTES"]

MAX_BYTES = 64 * 2**20  # per encoded value
_MAX_DEPTH = 32
_MAX_ITEMS = 100_000


class TooBig(ValueError):
    """The value is larger than the grader accepts from a kernel."""


class Opaque:
    """Stands in for an object the codec does not carry (a student's class instance, a function, ...).

    It equals nothing (not even another Opaque) and converts to nothing, so any check that expects a
    number or a tensor fails with a message naming the object's type.
    """

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<{self.type_name} object (not a tensor, array or number)>"


def _torch():
    import torch  # imported lazily: the codec must not force torch on numpy-only users

    return torch


class _Budget:
    def __init__(self, limit: int):
        self.left = limit

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise TooBig(f"the value is larger than {MAX_BYTES // 2**20} MB")


def _array_payload(a: np.ndarray, budget: _Budget) -> dict:
    if a.dtype.kind not in "biufc" or a.dtype.byteorder not in "=|<":
        a = a.astype(a.dtype.newbyteorder("<")) if a.dtype.kind in "biufc" else a
    if a.dtype.kind not in "biufc":
        raise TypeError
    data = np.ascontiguousarray(a).tobytes()
    budget.spend(len(data))
    return {"dtype": a.dtype.str, "shape": list(a.shape), "data": base64.b64encode(data).decode("ascii")}


def encode(value: Any, limit: int = MAX_BYTES) -> Any:
    """``value`` as JSON-ready plain data (never raises for an odd object: it becomes an opaque marker)."""
    return _encode(value, _Budget(limit), 0)


def _encode(value: Any, budget: _Budget, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return {"$opaque": "a structure nested too deeply"}
    kind = type(value)
    # exact types only: a subclass of float/int/str may carry a rigged __eq__
    if value is None or kind is bool or kind is str:
        if kind is str:
            budget.spend(len(value))
        return value
    if kind is int:
        return value if abs(value) < 2**63 else {"$bigint": str(value)}
    if kind is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if kind is complex:
        return {"$complex": [_encode(value.real, budget, depth), _encode(value.imag, budget, depth)]}
    if kind in (tuple, list):
        if len(value) > _MAX_ITEMS:
            raise TooBig(f"a {kind.__name__} of {len(value)} items")
        items = [_encode(v, budget, depth + 1) for v in value]
        return items if kind is list else {"$tuple": items}
    if kind is dict:
        if len(value) > _MAX_ITEMS:
            raise TooBig(f"a dict of {len(value)} items")
        return {"$dict": [[_encode(k, budget, depth + 1), _encode(v, budget, depth + 1)] for k, v in value.items()]}
    if isinstance(value, dict) and getattr(type(value), "_shared_with_check", False):
        return {"$dict": [[_encode(k, budget, depth + 1), _encode(v, budget, depth + 1)] for k, v in value.items()]}
    if kind is np.ndarray or isinstance(value, np.generic) and type(value).__module__ == "numpy":
        try:
            payload = _array_payload(np.asarray(value), budget)
        except TypeError:
            return {"$opaque": f"numpy array of dtype {np.asarray(value).dtype}"}
        return {"$ndarray" if kind is np.ndarray else "$npscalar": payload}
    torch = _torch() if "torch" in kind.__module__ else None
    if torch is not None:
        if kind in (torch.Tensor, torch.nn.Parameter):
            try:
                t = value.detach().to("cpu")
                if t.dtype == torch.bfloat16:
                    t = t.float()
                payload = _array_payload(t.resolve_conj().resolve_neg().numpy(), budget)
            except (TypeError, RuntimeError):
                return {"$opaque": f"tensor of dtype {value.dtype}"}
            payload["torch_dtype"] = str(value.dtype).removeprefix("torch.")
            payload["requires_grad"] = bool(value.requires_grad)
            return {"$tensor": payload}
        if kind is torch.dtype:
            return {"$torch_dtype": str(value).removeprefix("torch.")}
        if kind is torch.Size:
            return {"$size": [int(n) for n in value]}
        if isinstance(value, torch.Generator):
            return {"$generator": _array_payload(value.get_state().numpy(), budget)}
    if isinstance(value, np.random.Generator) and kind.__module__.startswith("numpy"):
        return {"$np_generator": _encode(value.bit_generator.state, budget, depth + 1)}
    name = f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ not in ("builtins", "__main__") \
        else kind.__qualname__
    return {"$opaque": str(name)[:80]}


def _array(payload: dict) -> np.ndarray:
    dtype = np.dtype(payload["dtype"])
    if dtype.kind not in "biufc":
        raise ValueError(f"refused dtype {dtype}")
    shape = tuple(int(n) for n in payload["shape"])
    data = base64.b64decode(payload["data"], validate=True)
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def decode(data: Any) -> Any:
    """Rebuild what :func:`encode` made; unknown or malformed input becomes an :class:`Opaque`."""
    try:
        return _decode(data, 0)
    except Exception:  # noqa: BLE001  (torch and numpy raise their own errors on crafted input)
        return Opaque("malformed data")


def _decode(data: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH + 2:
        return Opaque("a structure nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [_decode(v, depth + 1) for v in data]
    if type(data) is not dict or len(data) != 1:
        return Opaque("malformed data")
    (tag, body), = data.items()
    if tag == "$tuple":
        return tuple(_decode(v, depth + 1) for v in body)
    if tag == "$dict":
        out = {}
        for key, value in body:
            key = _decode(key, depth + 1)
            try:
                out[key] = _decode(value, depth + 1)
            except TypeError:  # an unhashable key
                return Opaque("dict with unhashable keys")
        return out
    if tag == "$bigint":
        return int(body)
    if tag == "$float":
        return float(body)
    if tag == "$complex":
        return complex(_decode(body[0], depth), _decode(body[1], depth))
    if tag == "$ndarray":
        return _array(body)
    if tag == "$npscalar":
        return _array(body)[()]
    if tag == "$tensor":
        torch = _torch()
        dtype = getattr(torch, str(body["torch_dtype"]))
        if not isinstance(dtype, torch.dtype):
            raise ValueError("not a dtype")
        tensor = torch.from_numpy(_array(body)).to(dtype)
        return tensor.requires_grad_() if body.get("requires_grad") and tensor.is_floating_point() else tensor
    if tag == "$torch_dtype":
        torch = _torch()
        dtype = getattr(torch, str(body))
        if not isinstance(dtype, torch.dtype):
            raise ValueError("not a dtype")
        return dtype
    if tag == "$size":
        return _torch().Size([int(n) for n in body])
    if tag == "$generator":
        torch = _torch()
        generator = torch.Generator()
        generator.set_state(torch.from_numpy(_array(body)))
        return generator
    if tag == "$np_generator":
        state = _decode(body, depth + 1)
        if state["bit_generator"] not in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"):
            raise ValueError("not a bit generator")
        bit_generator = getattr(np.random, state["bit_generator"])()
        bit_generator.state = state
        return np.random.Generator(bit_generator)
    if tag == "$opaque":
        return Opaque(str(body)[:80])
    return Opaque("malformed data")
