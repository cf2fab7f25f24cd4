"""course/syllabus.yml against the design and the notebooks; the notebooks against the course's anatomy."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import solutions_lib
from autograder.checks import registry
from autograder.inprocess import reference_namespace
from autograder.notebooks import (build_notebook, exercise_of, grade_cells, nbgrader_meta, read_notebook,
                                  solution_cells)
from autograder.paths import source_notebook, source_script
from autograder.student import is_install_cell
from course import syllabus

BUILT = [c.id for c in syllabus.chapters(built_only=True)]
DESIGN_IDS = [
    "01-statistics-and-estimators", "02-information-theory", "03-linear-models-and-softmax",
    "04-automatic-differentiation", "05-optimization", "06-training-deep-networks", "07-convolutional-networks",
    "08-recurrent-networks", "09-attention-and-transformers", "10-language-models", "11-generalization",
    "12-autoencoders-and-vae", "13-gans-and-adversarial-examples", "14-flows-and-diffusion", "15-bandits-and-mdps",
    "16-deep-reinforcement-learning", "17-meta-and-self-supervised-learning", "18-gaussian-processes-and-ntk",
    "19-transfer-learning-and-domain-adaptation", "20-explainable-ai",
]


def test_all_twenty_chapters_in_order():
    chapters = syllabus.chapters()
    assert [c.id for c in chapters] == DESIGN_IDS
    for chapter in chapters:
        assert re.fullmatch(r"\d\d-[a-z0-9-]+", chapter.id)
        assert chapter.title and chapter.notes, f"{chapter.id} needs a title and its notes sections"
        assert all(re.match(r"00[0-4] ", n) for n in chapter.notes), f"{chapter.id}: cite notes as '00N section'"
        assert chapter.status in ("built", "planned")


def test_built_chapters_have_exercises_and_notebooks(root):
    assert BUILT, "at least one chapter must be built"
    for chapter_id in BUILT:
        chapter = syllabus.chapter(chapter_id)
        assert chapter.exercises, f"{chapter_id} is built but lists no exercises"
        assert source_notebook(root, chapter_id).is_file()
        assert source_script(root, chapter_id).is_file()


@pytest.fixture(scope="module", params=BUILT)
def chapter_nb(request, root):
    return syllabus.chapter(request.param), read_notebook(source_notebook(root, request.param))


def test_every_graded_cell_is_listed_with_its_points(chapter_nb):
    chapter, nb = chapter_nb
    in_notebook = {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"]) for c in grade_cells(nb)}
    in_syllabus = {test: pts for e in chapter.exercises for test, pts in e.tests.items()}
    assert in_notebook == in_syllabus
    graded_points = sum(float(nbgrader_meta(c).get("points", 0)) for c in nb.cells if nbgrader_meta(c).get("grade"))
    assert graded_points == chapter.points > 0


def test_exercises_are_the_solution_cells(chapter_nb):
    chapter, nb = chapter_nb
    solutions = [nbgrader_meta(c)["grade_id"] for c in solution_cells(nb)]
    assert solutions == [e.name for e in chapter.exercises], "syllabus exercises = solution cells, in order"
    for exercise in chapter.exercises:
        for test in exercise.tests:
            assert exercise_of(test) == exercise.name, f"{test} does not belong to {exercise.name}"
        assert f"test_{exercise.name}" in exercise.tests, f"{exercise.name} needs a visible test cell"
        assert len(exercise.tests) >= 2, f"{exercise.name} needs a hidden test cell too"


def test_cells_follow_the_anatomy(chapter_nb):
    chapter, nb = chapter_nb
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith(f"# {chapter.number}")
    if is_install_cell(code[0]):  # an older chapter's own install cell: the release replaces it
        code = code[1:]
    assert nbgrader_meta(code[0]).get("grade_id") == "imports" and nbgrader_meta(code[0]).get("locked"), \
        "the first code cell is the locked imports cell (the release puts the install cell before it)"
    for cell in solution_cells(nb):
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
        assert re.match(r"(?s)\s*(?:def \w+\(|class \w+[(:]).*?\"\"\".*### BEGIN SOLUTION", cell.source), \
            "signature and docstring come before the solution"
    hidden = 0
    for cell in grade_cells(nb) + solution_cells(nb) + [code[0]]:
        assert not re.search(r"^\s*[%!]", cell.source, re.M), "no IPython magics in graded cells"
    for cell in grade_cells(nb):
        if "### BEGIN HIDDEN TESTS" in cell.source:
            hidden += 1
            assert "### END HIDDEN TESTS" in cell.source
    assert hidden == len(chapter.exercises), "one hidden test cell per exercise"
    assert any("interact" in c.source for c in code), "each chapter has an ipywidgets demo"
    assert any("plt." in c.source for c in code), "each chapter has plots"
    assert "What you built" in nb.cells[-1].source or any("What you built" in c.source for c in nb.cells[-3:])


def test_hidden_checks_exist_for_every_exercise(chapter_nb):
    chapter, _ = chapter_nb
    checks = registry()
    for exercise in chapter.exercises:
        assert exercise.name in checks, f"no hidden check registered for {exercise.name}"


def _solutions_lib_functions() -> dict:
    functions = {}
    for module in pkgutil.iter_modules(solutions_lib.__path__):
        mod = importlib.import_module(f"solutions_lib.{module.name}")
        for name, obj in vars(mod).items():
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == mod.__name__ \
                    and not name.startswith("_"):
                assert name not in functions, f"solutions_lib defines {name} twice"
                functions[name] = obj
    return functions


def test_solutions_lib_has_each_exercise_with_its_signature(chapter_nb):
    chapter, nb = chapter_nb
    library = _solutions_lib_functions()
    namespace = reference_namespace(nb)
    for exercise in chapter.exercises:
        assert exercise.name in library, f"solutions_lib lacks {exercise.name}"
        ref = library[exercise.name]
        assert inspect.signature(namespace[exercise.name]) == inspect.signature(ref), \
            f"{exercise.name}: the notebook and solutions_lib disagree on the signature"
        doc = inspect.getdoc(ref) or ""
        assert f"chapter {chapter.number}" in doc.lower(), f"{exercise.name}'s docstring must name its chapter"
        assert "Example" in doc, f"{exercise.name}'s docstring needs an example"


def test_source_notebooks_match_their_jupytext_twins(root):
    for chapter_id in BUILT:
        built = build_notebook(source_script(root, chapter_id))
        committed = read_notebook(source_notebook(root, chapter_id))
        assert built == committed, f"{chapter_id}: run `autograder build-notebooks {chapter_id}`"
        for cell in committed.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, "commit notebooks without outputs"
