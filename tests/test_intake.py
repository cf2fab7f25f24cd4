"""Submissions intake: layouts, broken notebooks, clashing ids, hostile zips."""
from __future__ import annotations

import json
import zipfile

import nbformat
import pytest

from autograder.errors import GradingError
from autograder.intake import check_notebook, file_submissions, find_submissions, normalize_student_id, unpacked

CH = "03-linear-models-and-softmax"


def _notebook(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(nb, str(path))
    return path


@pytest.mark.parametrize("raw, expected", [("alice", "alice"), ("Bob Smith", "bob_smith"), (" Eve+1 ", "eve_1"),
                                           ("a.b-c_d", "a.b-c_d"), ("..hidden", "hidden")])
def test_normalize_student_id(raw, expected):
    assert normalize_student_id(raw) == expected


def test_student_id_without_letters_is_rejected():
    with pytest.raises(GradingError, match="no letters or digits"):
        normalize_student_id("+++")


def test_check_notebook_explains_each_kind_of_broken_file(tmp_path):
    good = _notebook(tmp_path / "good.ipynb")
    assert check_notebook(good) is None
    (tmp_path / "empty.ipynb").write_text("")
    assert "empty" in check_notebook(tmp_path / "empty.ipynb")
    (tmp_path / "broken.ipynb").write_text('{"cells": [')
    assert "not valid JSON" in check_notebook(tmp_path / "broken.ipynb")
    (tmp_path / "list.ipynb").write_text("[1, 2, 3]")
    assert "not a Jupyter notebook" in check_notebook(tmp_path / "list.ipynb")
    (tmp_path / "bin.ipynb").write_bytes(b"\xff\xfe\x00garbage")
    assert "not UTF-8" in check_notebook(tmp_path / "bin.ipynb")
    bad = json.loads(good.read_text())
    bad["cells"][0]["cell_type"] = "nonsense"
    (tmp_path / "schema.ipynb").write_text(json.dumps(bad))
    assert "structure is invalid" in check_notebook(tmp_path / "schema.ipynb")


def test_all_layouts_are_found(tmp_path):
    _notebook(tmp_path / "alice" / f"{CH}.ipynb")
    _notebook(tmp_path / "bob" / CH / f"{CH}.ipynb")
    _notebook(tmp_path / "carol.ipynb")
    found = {s.student: s for s in find_submissions(tmp_path, CH)}
    assert set(found) == {"alice", "bob", "carol"}
    assert all(s.problem is None for s in found.values())


def test_missing_or_renamed_notebook_is_reported_not_fatal(tmp_path):
    _notebook(tmp_path / "alice" / f"{CH}.ipynb")
    _notebook(tmp_path / "dave" / "my homework.ipynb")
    (tmp_path / "erin").mkdir()
    found = {s.student: s for s in find_submissions(tmp_path, CH)}
    assert found["alice"].problem is None
    assert "renamed" in found["dave"].problem and "my homework.ipynb" in found["dave"].problem
    assert f"no {CH}.ipynb" in found["erin"].problem


def test_clashing_student_ids_stop_the_run(tmp_path):
    _notebook(tmp_path / "Alice" / f"{CH}.ipynb")
    _notebook(tmp_path / "alice.ipynb")
    with pytest.raises(GradingError, match="two submissions for student id 'alice'"):
        find_submissions(tmp_path, CH)


def test_empty_folder_and_missing_path(tmp_path):
    with pytest.raises(GradingError, match="no submissions"):
        find_submissions(tmp_path, CH)
    with pytest.raises(GradingError, match="no submissions at"):
        with unpacked(tmp_path / "nowhere"):
            pass
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(GradingError, match="neither a folder nor a zip"):
        with unpacked(tmp_path / "notes.txt"):
            pass


def test_zip_is_unpacked_and_zip_slip_refused(tmp_path):
    good = tmp_path / "class.zip"
    with zipfile.ZipFile(good, "w") as archive:
        archive.write(_notebook(tmp_path / "src" / "x.ipynb"), f"alice/{CH}.ipynb")
    with unpacked(good) as folder:
        assert [s.student for s in find_submissions(folder, CH)] == ["alice"]
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../../outside.ipynb", "{}")
    with pytest.raises(GradingError, match="outside the archive"):
        with unpacked(evil):
            pass


def test_file_submissions_replaces_old_files(tmp_path):
    inbox, class_dir = tmp_path / "inbox", tmp_path / "class"
    _notebook(inbox / "alice" / f"{CH}.ipynb")
    (inbox / "bob").mkdir(parents=True)
    stale = class_dir / "submitted" / "bob" / CH / f"{CH}.ipynb"
    _notebook(stale)
    file_submissions(find_submissions(inbox, CH), class_dir, CH)
    assert (class_dir / "submitted" / "alice" / CH / f"{CH}.ipynb").is_file()
    assert not stale.exists(), "a student whose new submission is unusable must not be graded on an old file"
