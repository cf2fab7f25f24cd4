# Two commands do everything: `make demo` (the instructor pipeline on the bundled sample class)
# and `make test` (the whole test suite). Both build the environment first when it is missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The CPU build of torch; override (e.g. TORCH_SPEC='torch') to let pip choose a CUDA build.
TORCH_SPEC ?= torch==2.13.0
STAMP  := $(VENV)/.installed
CLASS  ?= classes/sample

.PHONY: env demo test test-fast nbval lab notebooks release bundle benchmark benchmark-grading benchmark-throughput clean

env: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $@

demo: $(STAMP)
	$(BIN)/autograder demo --class-dir $(CLASS)

# The test suite on JOBS workers (pytest-xdist): a file is one unit of work, and the files sharing an
# expensive fixture stay together (tests/conftest.py). The slowest steps are listed at the end. Every
# instructor notebook runs top to bottom inside it, as the sample class's perfect submission graded by real
# nbgrader (tests/test_roundtrip.py) and filled in the student environments (tests/test_student_envs.py).
NOTEBOOKS := $(wildcard source_notebooks/*/*.ipynb)
JOBS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -ra -n $(JOBS) --dist loadfile --durations=25 tests -p no:cacheprovider

# Each instructor notebook alone through a kernel, cell by cell (nbval): quick to read while writing a chapter.
nbval: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile $(NOTEBOOKS) --nbval-lax -p no:cacheprovider

# The quick tests only (no notebook is run through a kernel).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -ra tests -m "not slow"

lab: $(STAMP)
	$(BIN)/jupyter lab release/

# Rebuild the instructor .ipynb files from their jupytext twins, then the student release.
notebooks: $(STAMP)
	$(BIN)/autograder build-notebooks
	$(BIN)/autograder release

release: $(STAMP)
	$(BIN)/autograder release

# What students receive (release notebooks, the student wheel, a README), as dist/student-bundle and its zip.
bundle: $(STAMP)
	rm -rf dist/student-bundle dist/student-bundle.zip
	$(BIN)/autograder release --bundle dist/student-bundle

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run.py

benchmark-grading: $(STAMP)
	$(BIN)/python benchmarks/grading.py --markdown

# Submissions per second: 1 and 2 local workers, 2 Dask workers; and how long a term takes on more machines.
benchmark-throughput: $(STAMP)
	$(BIN)/python benchmarks/grading.py --throughput

clean:
	rm -rf classes submitted autograded feedback gradebook.db grades.csv .pytest_cache dist .test-envs
