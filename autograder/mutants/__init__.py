"""Classic wrong answers (mutants) and correct alternatives, one module per chapter (``ch01.py``, ...).

Each module defines, as source code a student could have typed into the solution cell::

    CHAPTER = "01-statistics-and-estimators"
    MUTANTS = {"unbiased_variance": {"divides by n instead of n-1": "def unbiased_variance(x): ..."}}
    ALTERNATIVES = {"unbiased_variance": {"explicit loop": "def unbiased_variance(x): ..."}}
    SAMPLE_WRONG = ["unbiased_variance"]   # what the demo's partly wrong student gets wrong

``tests/test_mutants.py`` asserts that every mutant loses points on its exercise and every
alternative keeps them all; the demo class uses ``SAMPLE_WRONG``.
"""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

__all__ = ["for_chapter", "all_modules"]


def all_modules() -> list[ModuleType]:
    """Every chapter's mutant module."""
    return [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)]


def for_chapter(chapter_id: str) -> ModuleType | None:
    """The mutant module of a chapter, or None."""
    for module in all_modules():
        if module.CHAPTER == chapter_id:
            return module
    return None
