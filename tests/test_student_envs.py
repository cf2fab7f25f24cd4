"""Every release notebook, run where students run it: a fresh environment holding only the student wheel,
and one pinned to Google Colab's versions (IPython 7.34, ipywidgets 7.7, inline plots, a torch it keeps).

Both environments live under .test-envs/ and are built once (tests/student_envs.py); each notebook runs in
a temporary folder away from the repository, with the reference answers typed into its answer cells. Each
chapter runs filled in one of the two, alternately (odd chapters in the fresh one, even ones on Colab's
versions), so that each environment runs half of the chapters and every chapter runs once; Run All on the
blank notebook runs every chapter in the fresh one, and tests/test_browser.py every chapter in JupyterLab.
"""
from __future__ import annotations

import shutil

import pytest

import student_envs as envs
from autograder.notebooks import nbgrader_meta
from autograder.paths import release_notebook
from autograder.student import CourseConfig
from course import syllabus

pytestmark = [pytest.mark.slow, pytest.mark.envs]
BUILT = [c.id for c in syllabus.chapters(built_only=True)]
IN_THE_FRESH_ENV = [c for c in BUILT if int(c[:2]) % 2 == 1]
ON_COLABS_VERSIONS = [c for c in BUILT if int(c[:2]) % 2 == 0]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="session")
def colab_env(config, student_wheel, tmp_path_factory):
    """(python, workdir, dry-run report): Colab's pinned versions, then the student wheel."""
    python = envs.venv("colab", envs.colab_requirements())
    envs.remove_student_package(python, config.package)
    report = envs.dry_run_report(python, student_wheel)
    workdir = tmp_path_factory.mktemp("colab-env")
    shutil.copy(student_wheel, workdir)
    return python, workdir, report


def _check_filled_run(nb, chapter_id):
    assert not envs.errors(nb), f"{chapter_id}: errors with the reference answers: {envs.errors(nb)}"
    tests = envs.visible_tests(nb)
    assert tests, "every chapter has visible tests"
    silent = [nbgrader_meta(c)["grade_id"] for c in tests if envs.PASS_MARK not in envs.text_of(c)]
    assert not silent, f"{chapter_id}: these visible tests did not say they passed: {silent}"
    assert any(o.output_type == "display_data" and "image/png" in o.get("data", {})
               for c in nb.cells for o in c.get("outputs", [])), "plots are drawn inline"
    views = [o["data"][WIDGET_VIEW] for c in nb.cells for o in c.get("outputs", [])
             if WIDGET_VIEW in o.get("data", {})]
    assert views and all(v["version_major"] == 2 for v in views), "the demos' widgets are built (protocol 2)"


def test_student_env_has_no_course_and_no_repository(student_env, config):
    """As built, the environment holds neither distribution nor nbgrader, and no path file leads into the
    repository. (Later tests install the student wheel into it through the install cell, so the check reads
    the list pip printed when the environment was built, not the environment now.)"""
    python, _ = student_env
    import json

    built_with = {r["name"].lower().replace("_", "-")
                  for r in json.loads((python.parent.parent / "baseline.json").read_text())}
    assert config.package not in built_with, "the notebooks' install cell installs it"
    assert "dlcourse" not in built_with and "nbgrader" not in built_with
    site = next((python.parent.parent / "lib").glob("python3*/site-packages"))
    leads_home = [f.name for f in site.glob("*.pth") if str(envs.ROOT) in f.read_text()]
    assert not leads_home, f"these path files put the repository on sys.path: {leads_home}"


@pytest.mark.parametrize("chapter_id", IN_THE_FRESH_ENV)
def test_release_notebook_runs_with_only_the_student_wheel(student_env, config, chapter_id):
    python, workdir = student_env
    nb = envs.run(envs.filled_release(chapter_id), python, "student", workdir / chapter_id)
    _check_filled_run(nb, chapter_id)


def test_the_kernel_imports_course_from_the_wheel_and_cannot_reach_the_answers(student_env, config):
    import nbformat

    from autograder.student import install_cell_source

    python, workdir = student_env
    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(install_cell_source(config)),
                                            nbformat.v4.new_code_cell(
        "import importlib.util, course\n"
        "print(course.__file__)\n"
        "for name in ('solutions_lib', 'autograder', 'nbgrader'):\n"
        "    print(('no-' if importlib.util.find_spec(name) is None else 'found-') + name)")])
    envs.run(probe, python, "student", workdir / "probe")
    assert not envs.errors(probe), envs.errors(probe)
    lines = envs.text_of(probe.cells[1]).split()
    assert lines[0].startswith(str(python.parent.parent)), f"course came from {lines[0]}, not the wheel"
    assert lines[1:] == ["no-solutions_lib", "no-autograder", "no-nbgrader"]


@pytest.mark.parametrize("chapter_id", BUILT)
def test_blank_notebook_run_all_names_the_missing_functions(student_env, chapter_id):
    """Run All on a blank notebook (each cell run even after an error): only test cells fail, each with the
    exercise's NotImplementedError; every demo that needs an unfinished exercise says which, without a traceback."""
    python, workdir = student_env
    nb = envs.run(envs.read_notebook(release_notebook(envs.ROOT, chapter_id)), python, "student",
                  workdir / f"blank-{chapter_id}")
    for where, error in envs.errors(nb):
        assert where.startswith("test_") and error.startswith("NotImplementedError"), \
            f"{chapter_id}: {where} failed with {error} (a demo must name the function to implement)"
    messages = [envs.text_of(c) for c in nb.cells if "This demo needs" in envs.text_of(c)]
    assert all("Traceback" not in m for m in messages)


def test_installing_the_student_package_on_colab_changes_nothing_colab_ships(colab_env):
    python, _, report = colab_env
    baseline = {k.lower().replace("_", "-") for k in envs.installed(python)}
    pinned = {r.split("==")[0].lower().replace("_", "-") for r in envs.colab_requirements()}
    assert pinned <= baseline
    changed = [f"{item['metadata']['name']} {item['metadata']['version']}" for item in report["install"]
               if item["metadata"]["name"].lower().replace("_", "-") in baseline]
    assert not changed, f"installing the student package would replace Colab's {changed}"
    versions = envs.installed(python)
    assert versions["ipython"] == "7.34.0" and versions["ipywidgets"] == "7.7.1"


@pytest.fixture(scope="session")
def colab_with_course(colab_env, student_wheel):
    python, workdir, _ = colab_env
    before = envs.installed(python)
    envs._pip(python, "install", "-q", str(student_wheel))
    after = envs.installed(python)
    assert {k: v for k, v in before.items() if after.get(k) != v} == {}, "Colab's packages stay as they were"
    return python, workdir


@pytest.mark.parametrize("chapter_id", ON_COLABS_VERSIONS)
def test_release_notebook_runs_on_colabs_versions(colab_with_course, chapter_id):
    python, workdir = colab_with_course
    nb = envs.run(envs.filled_release(chapter_id), python, "colab", workdir / chapter_id)
    _check_filled_run(nb, chapter_id)
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    models = state.get("state", {}).values()
    assert any(m.get("model_module_version") == "1.5.0" for m in models), "ipywidgets 7 built the controls"


def test_every_chapter_runs_filled_in_one_environment():
    assert sorted(IN_THE_FRESH_ENV + ON_COLABS_VERSIONS) == sorted(BUILT)
    assert IN_THE_FRESH_ENV and ON_COLABS_VERSIONS
