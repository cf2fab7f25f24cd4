"""The environment files agree, and the two README commands are wired up."""
from __future__ import annotations

import re
import tomllib

import yaml

# conda-forge names where they differ from PyPI's
CONDA_NAMES = {"torch": "pytorch"}


def _requirement(spec: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*(.*)$", spec)
    return match.group(1).lower(), match.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    wanted = dict(_requirement(s) for s in project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((root / "environment.yml").read_text())
    conda = dict(_requirement(s) for s in env["dependencies"] if isinstance(s, str) and s not in ("pip",))
    conda.pop("python")
    expected = {CONDA_NAMES.get(name, name): spec for name, spec in wanted.items()}
    assert conda == expected, "environment.yml and pyproject.toml list different packages or versions"
    pip_part = next(s for s in env["dependencies"] if isinstance(s, dict))["pip"]
    assert "-e ." in pip_part, "environment.yml must install the course itself"


def test_python_version_agrees(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((root / "environment.yml").read_text())
    assert project["requires-python"] == ">=3.11"
    assert "python>=3.11" in env["dependencies"]


def test_torch_range_and_ci_pin(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert "torch>=2.2" in project["dependencies"]
    makefile = (root / "Makefile").read_text()
    assert "TORCH_SPEC ?= torch==2.13.0" in makefile


def test_ci_runs_the_readme_test_command(root):
    ci = (root / ".ci" / "run").read_text()
    readme = (root / "README.md").read_text()
    assert "make test" in ci
    assert "make demo" in readme and "make test" in readme
    makefile = (root / "Makefile").read_text()
    for target in ("demo:", "test:", "lab:"):
        assert re.search(rf"^{target}", makefile, re.M), f"Makefile lacks the {target} target"


def test_class_folders_are_ignored(root):
    ignored = (root / ".gitignore").read_text().split()
    for folder in ("/classes/", "/submitted/", "/autograded/", "/feedback/", "/gradebook.db"):
        assert folder in ignored
