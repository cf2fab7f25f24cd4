"""Answers that hand the work to someone else: the course's own solutions, or autograd where the
exercise is to write the derivative by hand.

The check reads the student's code (answer cells and added cells), starts from the name the hidden
test grades (``softmax``, ``Value``, ...) and follows every name it uses to the top-level statements
that define it, through the student's own functions, classes, assignments and imports. In that reach:

* ``solutions_lib`` or ``autograder`` anywhere costs the exercise its points (the kernel cannot import
  them either, see :mod:`autograder.sandbox.guard`);
* for a ``by_hand`` exercise, ``torch.autograd``, ``requires_grad``, ``enable_grad``, ``torch.func`` /
  ``functorch`` transforms, and the ways to hide a name (``exec``, ``eval``, ``__import__``,
  ``importlib``, ``getattr``, ``globals()``, ``__dict__``, ...) cost the points too. Hidden-test probes of such an
  exercise also run with autograd switched off.

    >>> reasons = delegation_reasons(["import torch\\ndef grad(x):\\n    return torch.autograd.grad(x, x)"],
    ...                              ["grad"], by_hand=True)
    >>> reasons[0]
    'uses torch.autograd (this exercise asks for the derivative by hand)'
"""
from __future__ import annotations

import ast
from collections import defaultdict
from typing import Mapping

__all__ = ["delegation_reasons", "graded_names", "delegated_checks"]

_EVERYWHERE = {"solutions_lib": "uses solutions_lib (the course's reference answers)",
               "autograder": "uses the autograder's own modules"}
_AUTOGRAD = {"autograd", "requires_grad", "requires_grad_", "enable_grad", "set_grad_enabled",
             "_set_grad_enabled", "functorch", "vjp", "jvp", "jacrev", "jacfwd", "hessian",
             "jacobian", "grad_fn", "retain_grad"}
_HIDING = {"importlib", "__builtins__", "builtins", "__dict__", "__globals__", "__code__", "__subclasses__",
           "__getattribute__", "gc", "ctypes", "inspect", "pickle", "marshal", "modules"}
_HIDING_CALLS = {"exec", "eval", "compile", "__import__", "globals", "vars", "getattr"}  # only as names:
# ``module.eval()`` (evaluation mode) or ``torch.compile`` are not ways to hide a name


def graded_names(test_source: str) -> dict[str, list[str]]:
    """``{check name: [names in the graded expression]}`` for each ``run_check("name", expr)`` in a cell."""
    found: dict[str, list[str]] = {}
    try:
        tree = ast.parse(test_source)
    except SyntaxError:
        return found
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "run_check"
                and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)):
            found[node.args[0].value] = sorted({n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)})
    return found


def _bound_names(stmt: ast.stmt) -> set[str]:
    names = set()
    for node in ast.walk(stmt):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


def _free_names(stmt: ast.stmt) -> set[str]:
    """The names a top-level statement reads from the notebook's globals (a function's locals excluded)."""
    loaded = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return loaded
    local = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))}
    for node in ast.walk(stmt):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            local |= {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not stmt:
            local.add(node.name)
        elif isinstance(node, ast.alias):
            local.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            local -= set(node.names)
    return loaded - local


def _words(stmt: ast.stmt) -> tuple[set[str], set[str]]:
    """Every identifier-like word of a statement (names, attributes, imported modules, string arguments),
    and separately the bare names it calls or reads."""
    words, names = set(), set()
    docstrings = {id(n.body[0].value) for n in ast.walk(stmt)
                  if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module))
                  and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
        return words, names
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name):
            words.add(node.id)
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            words.add(node.attr)
            if isinstance(node.value, ast.Name) and node.value.id == "torch":
                words.add(f"torch.{node.attr}")
        elif isinstance(node, ast.alias):
            words.update(node.name.split("."))
            words.add(node.name)
        elif isinstance(node, ast.ImportFrom) and node.module:
            words.update(node.module.split("."))
            words.add(node.module)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            words.update(w for w in (_EVERYWHERE.keys() | _AUTOGRAD) if w in node.value)
    return words, names


def delegation_reasons(student_sources: list[str], start: list[str], by_hand: bool) -> list[str]:
    """Why the code reachable from ``start`` is not the student's own work (empty: nothing found)."""
    definitions: dict[str, list[ast.stmt]] = defaultdict(list)
    for source in student_sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for stmt in tree.body:
            for name in _bound_names(stmt):
                definitions[name].append(stmt)
    seen_names, seen_stmts, words, names = set(), set(), set(), set()
    queue = list(start)
    while queue:
        name = queue.pop()
        if name in seen_names:
            continue
        seen_names.add(name)
        for stmt in definitions.get(name, []):
            if id(stmt) in seen_stmts:
                continue
            seen_stmts.add(id(stmt))
            stmt_words, stmt_names = _words(stmt)
            words |= stmt_words
            names |= stmt_names
            queue.extend(_free_names(stmt) - seen_names)
    reasons = [why for word, why in _EVERYWHERE.items() if word in words]
    if by_hand:
        if words & _AUTOGRAD or "torch.func" in words:
            culprit = sorted(words & _AUTOGRAD) or ["torch.func"]
            what = "torch.autograd" if "autograd" in culprit else f"autograd ({', '.join(culprit)})"
            reasons.append(f"uses {what} (this exercise asks for the derivative by hand)")
        hiding = sorted((words & _HIDING) | (names & _HIDING_CALLS))
        if hiding:
            reasons.append(f"uses {', '.join(hiding)}, which can hide what the code calls "
                           "(not allowed in an exercise done by hand)")
    return reasons


def delegated_checks(test_source: str, student_sources: list[str], checks: Mapping) -> dict[str, list[str]]:
    """``{check name: reasons}`` for every ``run_check`` of a test cell whose answer is not the student's own.

    ``checks`` maps check names to objects with a ``by_hand`` flag (:class:`autograder.checks.Check`).
    """
    found = {}
    for name, fn_names in graded_names(test_source).items():
        reasons = delegation_reasons(student_sources, fn_names, checks[name].by_hand)
        if reasons:
            found[name] = reasons
    return found
