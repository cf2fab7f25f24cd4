"""Answers that hand the work to someone else: the course's own solutions, or autograd where the
exercise is to write the derivative by hand.

Two readings of the student's code (answer cells and added cells), then evidence from the kernel:

* **what the graded name reaches**: starting from the name the hidden test grades (``softmax``,
  ``Value``, ...), every name it uses is followed to the top-level statements that define it, through
  the student's own functions, classes, assignments and imports. ``solutions_lib`` or ``autograder`` in
  that reach costs the exercise its points (the kernel cannot import them either); in a ``by_hand``
  exercise, so do the ways to hide a name (``exec``, ``eval``, ``__import__``, ``importlib``,
  ``getattr``, ``globals()``, ``__dict__``, ...);
* **all of the student's code**, in a ``by_hand`` exercise: every top-level statement of every cell, and
  every function that could run while the exercise is graded, however it is reached (by name, stored in a
  module, class or tensor attribute, a dict or list of callables, a registry, behind a decorator; a
  helper nothing can reach is left out, and the course's demo cells left as released too): a reference
  that resolves, through the cells' imports and aliases, to ``torch.autograd``, ``torch.func``,
  ``functorch``, ``torch.enable_grad`` / ``set_grad_enabled``, ``torch.nn.Parameter``; ``.backward(``
  (unless the student defines a ``backward`` of their own, as a reverse-mode engine does);
  ``requires_grad=True``, ``.requires_grad_()``, ``grad_fn``; and any reference to the grader's own
  objects (``run_check``, ``_recorder``, ...). A name that merely contains ``jacobian`` or ``vjp`` (the
  course teaches them) is not evidence;
* **at run time** the kernel records autograd being used while a by-hand probe runs
  (:class:`autograder.sandbox.runner._AutogradWitness`); the grader adds it to the evidence.

A flagged exercise loses its points; the evidence is listed in the instructor's report for review.

    >>> reasons = delegation_reasons(["import torch\\ndef grad(x):\\n    return torch.autograd.grad(x, x)"],
    ...                              ["grad"], by_hand=True)
    >>> reasons[0]
    'uses torch.autograd (this exercise asks for the derivative by hand)'
"""
from __future__ import annotations

import ast
from collections import defaultdict
from typing import Mapping

__all__ = ["delegation_reasons", "graded_names", "delegated_checks", "autograd_evidence"]

_EVERYWHERE = {"solutions_lib": "uses solutions_lib (the course's reference answers)",
               "autograder": "uses the autograder's own modules"}
_AUTOGRAD = {"autograd", "requires_grad", "requires_grad_", "enable_grad", "set_grad_enabled",
             "_set_grad_enabled", "functorch", "grad_fn", "retain_grad"}  # words no hand-written answer needs
_AUTOGRAD_MODULES = ("torch.autograd", "torch.func", "functorch", "torch._functorch", "torch.enable_grad",
                     "torch.set_grad_enabled", "torch._C._set_grad_enabled", "torch.is_grad_enabled",
                     "torch.nn.Parameter", "torch.nn.parameter", "torch.Tensor.backward", "torch.Tensor.requires_grad_",
                     "torch.inference_mode")
_GRADER_OBJECTS = {"run_check", "_recorder", "probe_all", "probe_case", "unpack_cases", "pack_cases", "judge",
                   "CheckResult", "hidden_cases", "_AutogradWitness", "Channel"}
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
            if "torch.func" in node.value:
                words.add("torch.func")
    return words, names


def delegation_reasons(student_sources: list[str], start: list[str], by_hand: bool,
                       own_sources: list[str] | None = None) -> list[str]:
    """Why the code reachable from ``start`` is not the student's own work (empty: nothing found).

    ``own_sources`` (default: all of ``student_sources``) is the code read whole for autograd evidence in a
    by-hand exercise: the student's code less the course's own demo cells left as released.
    """
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
        evidence = autograd_evidence(student_sources if own_sources is None else own_sources, start)
        if evidence:
            reasons.append("uses autograd in the notebook (" + "; ".join(evidence[:6]) +
                           ") (this exercise asks for the derivative by hand)")
        if words & _AUTOGRAD or "torch.func" in words:
            culprit = sorted(words & _AUTOGRAD) or ["torch.func"]
            what = "torch.autograd" if "autograd" in culprit else f"autograd ({', '.join(culprit)})"
            reasons.append(f"uses {what} (this exercise asks for the derivative by hand)")
        hiding = sorted((words & _HIDING) | (names & _HIDING_CALLS))
        if hiding:
            reasons.append(f"uses {', '.join(hiding)}, which can hide what the code calls "
                           "(not allowed in an exercise done by hand)")
    return reasons


def delegated_checks(test_source: str, student_sources: list[str], checks: Mapping,
                     own_sources: list[str] | None = None) -> dict[str, list[str]]:
    """``{check name: reasons}`` for every ``run_check`` of a test cell whose answer is not the student's own.

    ``checks`` maps check names to objects with a ``by_hand`` flag (:class:`autograder.checks.Check`).
    """
    found = {}
    for name, fn_names in graded_names(test_source).items():
        reasons = delegation_reasons(student_sources, fn_names, checks[name].by_hand, own_sources)
        if reasons:
            found[name] = reasons
    return found


# -- the whole notebook: autograd anywhere, however it is reached later -------------------------------------

def _dotted(node: ast.AST) -> list[str] | None:
    """``a.b.c`` as ["a", "b", "c"] (None for anything that is not a plain chain of names)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return None


def _aliases(trees: list[ast.Module]) -> dict[str, str]:
    """Every name the cells bind by import, to the full module path it stands for."""
    aliases: dict[str, str] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        aliases[alias.asname] = alias.name
                    else:
                        aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                chain = _dotted(node.value)  # ag = torch.autograd
                if chain and chain[0] in aliases:
                    aliases[node.targets[0].id] = ".".join([aliases[chain[0]], *chain[1:]])
    return aliases


def _true(node: ast.AST | None) -> bool:
    return not (isinstance(node, ast.Constant) and node.value in (False, None, 0))


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_STORING_METHODS = {"update", "__setitem__", "setdefault", "append", "extend", "insert", "add", "register",
                    "register_hook", "register_forward_hook", "__setattr__"}
_DISPLAY_MODULES = ("ipywidgets", "IPython", "matplotlib")  # handing a function to a demo runs it now, not later


def _stores(stmt: ast.stmt, aliases: dict[str, str]) -> bool:
    """Whether a top-level statement puts something where code can find it later without naming it
    (an attribute, an item, a module, a registry): ``torch.Tensor.d = f``, ``TOOLS.append(f)``, ``setattr``."""
    for node in ast.walk(stmt):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, (ast.Attribute, ast.Subscript)) for target in targets for t in ast.walk(target)):
                return True
        elif isinstance(node, ast.Call):
            callee = _dotted(node.func) or []
            if callee and callee[0] in aliases and aliases[callee[0]].split(".")[0] in _DISPLAY_MODULES:
                continue
            if callee and (callee[-1] in _STORING_METHODS or callee[-1] in _HIDING_CALLS or callee[-1] == "setattr"):
                return True
            if any(isinstance(a, (ast.Name, ast.Lambda)) for a in [*node.args, *(k.value for k in node.keywords)]):
                return True  # a function handed to someone else's code, which may keep it
    return False


def _live_code(trees: list[ast.Module], start: list[str], aliases: dict[str, str]) -> list[ast.AST]:
    """All of the student's code that can run while an exercise is graded, as AST nodes to read.

    Every top-level statement counts, except the bodies of functions and methods nothing can reach:
    reached means named by the graded names, by a statement that stores things where code finds them later
    (an attribute, an item, a registry), by a decorator, or by any of those, transitively.
    """
    definitions: dict[str, list[ast.stmt]] = defaultdict(list)
    roots = set(start)
    for tree in trees:
        for stmt in tree.body:
            for name in _bound_names(stmt):
                definitions[name].append(stmt)
            if isinstance(stmt, _DEFINITIONS) and stmt.decorator_list:
                roots.add(stmt.name)
            elif not isinstance(stmt, _DEFINITIONS) and _stores(stmt, aliases):
                roots |= _free_names(stmt)
    live, queue = set(), list(roots)
    while queue:
        name = queue.pop()
        if name in live:
            continue
        live.add(name)
        for stmt in definitions.get(name, []):
            queue.extend(_free_names(stmt) - live)
    nodes: list[ast.AST] = []
    for tree in trees:
        for stmt in tree.body:
            if isinstance(stmt, _DEFINITIONS) and stmt.name not in live:
                parts = [*stmt.decorator_list, *getattr(stmt, "bases", []), *getattr(stmt, "keywords", [])]
                if isinstance(stmt, ast.ClassDef):  # the class body runs when it is defined; its methods do not
                    parts += [s for s in stmt.body if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
                else:
                    parts += [*stmt.args.defaults, *(d for d in stmt.args.kw_defaults if d is not None)]
                nodes += [n for part in parts for n in ast.walk(part)]
            else:
                nodes += list(ast.walk(stmt))
    return nodes


def autograd_evidence(student_sources: list[str], start: list[str] = ()) -> list[str]:
    """What in the student's code uses autograd or the grader's own objects (empty: nothing).

    Read: every top-level statement of every cell, and the body of every function or method that could run
    while the exercise ``start`` names is graded (see :func:`_live_code`); a helper nothing can reach (one
    that checks a hand-written gradient against autograd, say) is not evidence, and if it is reached in a
    way no reading can see, the kernel's run-time evidence shows it.
    """
    trees = []
    for source in student_sources:
        try:
            trees.append(ast.parse(source))
        except SyntaxError:
            continue
    aliases = _aliases(trees)
    own_backward = any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == "backward"
                       for tree in trees for n in ast.walk(tree))
    docstrings = {id(n.body[0].value) for tree in trees for n in ast.walk(tree)
                  if isinstance(n, (*_DEFINITIONS, ast.Module)) and n.body and isinstance(n.body[0], ast.Expr)
                  and isinstance(n.body[0].value, ast.Constant)}
    nodes = _live_code(trees, list(start), aliases)
    found: list[str] = []

    def note(text: str) -> None:
        if not any(f == text or f.startswith(text + ".") for f in found):
            found.append(text)

    quiet = set()  # nn.Parameter(..., requires_grad=False)
    for node in nodes:
        if isinstance(node, ast.Call) and any(k.arg == "requires_grad" and not _true(k.value) for k in node.keywords):
            quiet.add(id(node.func))
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [f"{node.module}.{a.name}" for a in node.names] if node.module and not node.level else []
            for module in modules:
                if any(module == m or module.startswith(m + ".") for m in _AUTOGRAD_MODULES):
                    note(f"import {module}")
        if isinstance(node, (ast.Attribute, ast.Name)) and id(node) not in quiet:
            chain = _dotted(node)
            if chain and chain[0] in aliases:
                full = ".".join([aliases[chain[0]], *chain[1:]])
                hit = next((m for m in _AUTOGRAD_MODULES if full == m or full.startswith(m + ".")), None)
                if hit:
                    note(full)
            if isinstance(node, ast.Attribute) and node.attr in ("grad_fn", "retain_grad", "requires_grad_"):
                note(f".{node.attr}")
            if isinstance(node, ast.Attribute) and node.attr == "requires_grad" and \
                    isinstance(getattr(node, "ctx", None), ast.Store):
                note(".requires_grad = ...")
            name = node.attr if isinstance(node, ast.Attribute) else node.id
            if name in _GRADER_OBJECTS or name in ("solutions_lib", "autograder"):
                note(f"the grader's own {name}")
        elif isinstance(node, ast.alias) and node.name.split(".")[0] in ("functorch", "autograder",
                                                                          "solutions_lib"):
            note(f"import {node.name}")
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "backward" and not own_backward:
                note(".backward()")
            for keyword in node.keywords:
                if keyword.arg == "requires_grad" and _true(keyword.value):
                    note("requires_grad=True")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            for word in ("autograd", "functorch", "torch.func", "enable_grad", "set_grad_enabled",
                         "requires_grad"):
                if word in node.value:
                    note(f"the string {node.value[:40]!r}")
                    break
    return found
