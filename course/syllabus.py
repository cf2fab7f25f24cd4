"""The course syllabus (``course/syllabus.yml``): chapters, notes, exercises and points."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml

__all__ = ["Chapter", "Exercise", "load_syllabus", "chapters", "chapter"]


@dataclass(frozen=True)
class Exercise:
    """One graded function: its name and the points of each of its test cells (grade_id -> points)."""

    name: str
    tests: dict[str, float]

    @property
    def points(self) -> float:
        return float(sum(self.tests.values()))


@dataclass(frozen=True)
class Chapter:
    """One chapter (= one notebook = one nbgrader assignment)."""

    id: str
    title: str
    notes: tuple[str, ...]
    status: str
    exercises: tuple[Exercise, ...] = field(default_factory=tuple)

    @property
    def built(self) -> bool:
        return self.status == "built"

    @property
    def points(self) -> float:
        return float(sum(e.points for e in self.exercises))

    @property
    def number(self) -> str:
        return self.id[:2]


@lru_cache(maxsize=1)
def load_syllabus() -> dict:
    """The parsed ``syllabus.yml`` as shipped inside the ``course`` package."""
    text = resources.files("course").joinpath("syllabus.yml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def chapters(built_only: bool = False) -> list[Chapter]:
    """Every chapter in order (only the built ones with ``built_only``)."""
    out = []
    for raw in load_syllabus()["chapters"]:
        exercises = tuple(Exercise(e["name"], {k: float(v) for k, v in e["tests"].items()})
                          for e in raw.get("exercises") or [])
        ch = Chapter(raw["id"], raw["title"], tuple(raw.get("notes", [])), raw.get("status", "planned"), exercises)
        if ch.built or not built_only:
            out.append(ch)
    return out


def chapter(chapter_id: str) -> Chapter:
    """The chapter with this id; also accepts its two-digit number (``"03"``)."""
    for ch in chapters():
        if chapter_id in (ch.id, ch.number):
            return ch
    known = ", ".join(c.id for c in chapters(built_only=True))
    raise KeyError(f"no chapter {chapter_id!r} in the syllabus (built chapters: {known})")

