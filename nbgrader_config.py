"""nbgrader settings for the course; the `autograder` command reads this file too."""
c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "dlcourse"
c.CourseDirectory.source_directory = "source_notebooks"
c.CourseDirectory.release_directory = "release"
# The jupytext twins (*.py) beside each source notebook hold solutions: never copy them into a release.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.py"]

# A correct answer must never lose points to a warning printed on stderr
# (nbgrader scores any test cell with stderr output as 0).
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?s)^(?:(?!Traceback).)*Warning"

# Cap what a runaway submission can print into the graded notebook and its feedback.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 60

# Each cell gets a time limit in seconds; a cell that runs longer is interrupted and scores 0.
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True

# A test cell a student deleted is put back from the gradebook (edited ones are restored by checksum anyway).
c.OverwriteCells.add_missing_cells = True

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Feedback never shows hidden tests: nbgrader's ClearHiddenTests strips them from the cells, and the
# course's ScrubHiddenTestOutputs strips the tracebacks that would quote them.
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, Execute,  # noqa: E402
                                    GetGrades, IgnorePattern, LimitOutput, SaveAutoGrades)

from autograder.nbgrader_path.preprocessors import ScrubHiddenTestOutputs, TieVisibleToHidden  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ScrubHiddenTestOutputs, CSSHTMLHeaderPreprocessor]

# One scoring rule for every grader: a visible test cell earns its points only when its exercise's hidden
# test cells pass too (nbgrader's own list, with TieVisibleToHidden before the scores are saved).
c.Autograde.autograde_preprocessors = [Execute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       TieVisibleToHidden, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]

# Keep the grading kernels' own start-up chatter out of the instructor's terminal.
c.Execute.extra_arguments = ["--IPKernelApp.log_level=CRITICAL"]
