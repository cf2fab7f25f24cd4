"""The student bundle in JupyterLab, driven in a real browser (Debian's chromium through playwright).

One JupyterLab server serves a copy of the bundle from the student environment (JupyterLab and the course's
dependencies; the wheel itself is installed by the notebooks' own install cell), its kernel running there too. For every built chapter the test opens the notebook,
checks that the math is typeset and the Colab badge is there, runs the set-up cells, types a correct answer
into the first exercise and sees its visible test pass, types a classic wrong answer and sees the diagnosis,
moves a slider of the chapter's first widget demo and sees the plot change, and fails on any error in the
browser console. Screenshots go to tests/artifacts/browser/ (ignored by git).

Without chromium or playwright the tests are skipped with the reason (set DLCOURSE_REQUIRE_BROWSER=1, as CI
does, to make that a failure instead).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

import student_envs as envs
from autograder.inprocess import reference_namespace, score_exercise
from autograder.mutants import for_chapter
from autograder.notebooks import nbgrader_meta, read_notebook, solution_cells, strip_solution_markers, write_notebook
from autograder.paths import source_notebook
from autograder.student import CourseConfig
from course import syllabus

pytestmark = [pytest.mark.slow, pytest.mark.browser]
BUILT = [c.id for c in syllabus.chapters(built_only=True)]
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "browser"


def _browser_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    return None


@pytest.fixture(scope="session")
def browser():
    missing = _browser_missing()
    if missing:
        if os.environ.get("DLCOURSE_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests required but {missing}")
        pytest.skip(f"browser tests skipped: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _first_exercise(chapter_id: str) -> tuple[str, str, str]:
    """(exercise, its reference answer, a classic wrong answer whose visible test gives a full diagnosis)."""
    nb = read_notebook(source_notebook(envs.ROOT, chapter_id))
    exercise = syllabus.chapter(chapter_id).exercises[0].name
    answer = next(strip_solution_markers(c.source) for c in solution_cells(nb)
                  if nbgrader_meta(c)["grade_id"] == exercise)
    namespace = reference_namespace(nb)
    ranked = []
    for source in for_chapter(chapter_id).MUTANTS.get(exercise, {}).values():
        message = score_exercise(nb, exercise, source, namespace).failures.get(f"test_{exercise}", "")
        ranked.append((("expected" in message) + ("got" in message) + ("hint:" in message), source))
    assert ranked and max(ranked)[0] > 0, f"{chapter_id}: no mutant of {exercise} fails its visible test"
    return exercise, answer, max(ranked, key=lambda r: r[0])[1]


@pytest.fixture(scope="session")
def lab(browser, student_bundle, student_env, tmp_path_factory):
    """A JupyterLab server on a copy of the bundle whose notebooks have every answer typed in but the first
    (the test types that one), run from the student environment. Yields the base URL."""
    python, _ = student_env
    root = tmp_path_factory.mktemp("lab") / "bundle"
    shutil.copytree(student_bundle[0], root)
    for chapter_id in BUILT:
        first = syllabus.chapter(chapter_id).exercises[0].name
        nb = envs.filled_release(chapter_id)
        stub = read_notebook(root / chapter_id / f"{chapter_id}.ipynb")
        starters = {nbgrader_meta(c)["grade_id"]: c.source for c in solution_cells(stub)}
        for cell in solution_cells(nb):
            if nbgrader_meta(cell)["grade_id"] == first:
                cell.source = starters[first]
        write_notebook(nb, root / chapter_id / f"{chapter_id}.ipynb")
    settings = root.parent / "settings"
    for plugin, values in {"@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
                           "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                                           "checkForUpdates": False}}.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port = _free_port()
    # JupyterLab and its kernel both from the student environment, isolated from this machine's Jupyter set-up
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MPLBACKEND", "JUPYTER_PATH")}
    env.update(JUPYTER_CONFIG_DIR=str(root.parent / "config"), JUPYTER_DATA_DIR=str(root.parent / "data"),
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    log = open(root.parent / "lab.log", "w")
    server = subprocess.Popen(
        [str(python.parent / "jupyter"), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.root_dir={root}", "--IdentityProvider.token=", "--ServerApp.password=",
         "--LabApp.expose_app_in_browser=True", "--allow-root", f"--LabApp.user_settings_dir={settings}",
         f"--LabApp.workspaces_dir={root.parent / 'workspaces'}", "--ServerApp.open_browser=False"],
        env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{url}/api/status", timeout=2)
            break
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.5)
    if server.poll() is not None or _ == 239:
        server.kill()
        pytest.fail(f"JupyterLab did not start:\n{(root.parent / 'lab.log').read_text()[-2000:]}")
    yield url
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


_JS_CELLS = """() => {
  const nb = window.jupyterapp.shell.currentWidget;
  return nb.content.widgets.map(c => ({type: c.model.type, id: (c.model.getMetadata('nbgrader') || {}).grade_id || '',
                                       source: c.model.sharedModel.getSource()}));
}"""
_JS_RUN = """async ([index, above]) => {
  const app = window.jupyterapp, nb = app.shell.currentWidget;
  nb.content.activeCellIndex = index;
  if (above) { await app.commands.execute('notebook:run-all-above'); }
  await app.commands.execute('notebook:run-cell');
}"""
_JS_SHOWN = """(index) => {
  const out = document.querySelectorAll('.jp-Notebook .jp-Cell')[index].querySelector('.jp-Cell-outputArea .widget-output');
  if (!out) { return ''; }
  return out.innerText + Array.from(out.querySelectorAll('img')).map(img => img.src).join('');
}"""
_JS_ERRORS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')).map((cell, i) => {
  const text = Array.from(cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
    .map(e => e.innerText).join('\\n');
  return /Error|Traceback/.test(text) ? `cell ${i}: ${text.slice(0, 600)}` : null;
}).filter(x => x)"""
_JS_IDLE = """() => {
  const k = window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel;
  return !!k && k.status === 'idle';
}"""


class Notebook:
    """One notebook open in JupyterLab, driven like a student would (typing into cells, running them)."""

    def __init__(self, page, chapter_id: str):
        self.page, self.chapter_id = page, chapter_id

    def cells(self) -> list[dict]:
        return self.page.evaluate(_JS_CELLS)

    def cell(self, index: int):
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def type_into(self, index: int, text: str) -> None:
        editor = self.cell(index).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Delete")
        self.page.keyboard.insert_text(text)
        assert self.cells()[index]["source"].strip() == text.strip(), "the editor holds what was typed"

    def run(self, index: int, above: bool = False, timeout: float = 300) -> None:
        self.page.evaluate(_JS_RUN, [index, above])
        self.page.wait_for_function(_JS_IDLE, timeout=timeout * 1000)

    def output_text(self, index: int) -> str:
        return self.cell(index).locator(".jp-Cell-outputArea").inner_text()

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{self.chapter_id}-{name}.png"), full_page=False)


@pytest.mark.parametrize("chapter_id", BUILT)
def test_chapter_in_jupyterlab(lab, browser, chapter_id):
    exercise, answer, wrong = _first_exercise(chapter_id)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    console = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    outside = []

    def offline(route):  # the test machine has no internet: answer outside requests (the badge image) here
        outside.append(route.request.url)
        route.fulfill(status=200, content_type="image/svg+xml",
                      body='<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20"/>')

    page.route(lambda url: not url.startswith(lab), offline)
    try:
        path = f"{chapter_id}/{chapter_id}.ipynb"
        # a workspace of its own, so that no notebook of an earlier chapter is restored next to this one
        page.goto(f"{lab}/lab/workspaces/{chapter_id}/tree/{path}?reset", timeout=120_000)
        page.wait_for_function("(path) => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                               " return !!w && !!w.content && w.context.path === path; }", arg=path,
                               timeout=120_000)
        page.wait_for_function(_JS_IDLE, timeout=120_000)
        nb = Notebook(page, chapter_id)

        # the math is typeset, no raw $$ is left, and the Colab badge is there
        page.wait_for_selector(".jp-RenderedMarkdown mjx-container", timeout=60_000)
        raw = page.evaluate("() => Array.from(document.querySelectorAll('.jp-RenderedMarkdown'))"
                            ".filter(e => e.innerText.includes('$$')).length")
        assert raw == 0, f"{raw} markdown cells show raw $$"
        assert page.locator(".jp-RenderedMarkdown img[src*='colab-badge']").count() == 1
        assert any("colab-badge" in u for u in outside)
        nb.shot("opened")

        cells = nb.cells()
        solution = next(i for i, c in enumerate(cells) if c["id"] == exercise)
        test = next(i for i, c in enumerate(cells) if c["id"] == f"test_{exercise}")

        # a correct answer: set-up cells run, then the visible test says it passed
        nb.type_into(solution, answer)
        nb.run(test, above=True)
        out = nb.output_text(test)
        assert envs.PASS_MARK in out, f"{exercise}: the visible test did not pass in the browser:\n{out}"
        nb.cell(test).scroll_into_view_if_needed()
        nb.shot("passed")

        # a classic wrong answer: the diagnosis, not a traceback into the helpers
        nb.type_into(solution, wrong)
        nb.run(solution)
        nb.run(test)
        out = nb.output_text(test)
        assert "test failed" in out, out
        assert ("expected" in out or "should be" in out) and "got" in out, out
        assert "Traceback" not in out and "site-packages" not in out and "checks.py" not in out, out
        nb.cell(test).scroll_into_view_if_needed()
        nb.shot("failed")

        # the widget demo: a real control, and moving it redraws the plot
        demo = next((i for i, c in enumerate(cells)
                     if c["type"] == "code" and re.search(r"(?m)^\s*interact\(", c["source"])), None)
        assert demo is not None, f"{chapter_id} has no course.demos interact(...) demo"
        nb.type_into(solution, answer)
        nb.run(demo, above=True)
        failed = page.evaluate(_JS_ERRORS)
        assert not failed, f"cells up to the demo failed: {failed}"
        area = nb.cell(demo).locator(".jp-Cell-outputArea")
        slider = area.locator(".noUi-handle").first
        slider.wait_for(timeout=60_000)
        text = nb.output_text(demo)
        assert "HBox(" not in text and "interactive(" not in text and "VBox(" not in text, text
        assert "This demo needs" not in text, text
        shown = area.locator(".widget-output").first  # what the demo draws or prints, below its controls
        shown.wait_for(timeout=60_000)
        page.wait_for_function(_JS_IDLE, timeout=120_000)
        before = page.evaluate(_JS_SHOWN, demo)
        assert before, "the demo shows a plot or text"
        slider.scroll_into_view_if_needed()
        nb.shot("demo-before")
        slider.focus()
        at_max = slider.get_attribute("aria-valuenow") == slider.get_attribute("aria-valuemax")
        page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
        page.wait_for_function(f"([i, old]) => ({_JS_SHOWN})(i) !== old", arg=[demo, before], timeout=120_000)
        page.wait_for_function(_JS_IDLE, timeout=120_000)
        page.wait_for_timeout(1000)
        after = page.evaluate(_JS_SHOWN, demo)
        assert after and after != before, "moving the slider redrew the demo"
        nb.shot("demo-after")
    finally:
        seen = list(console)  # what the chapter logged, before its kernel is stopped
        try:  # stop this chapter's kernel: the server keeps running for the next chapters
            page.evaluate("async () => { await window.jupyterapp.shell.currentWidget.sessionContext.shutdown(); }")
        except Exception:
            pass
        context.close()
    assert not seen, f"errors in the browser console: {seen}"
