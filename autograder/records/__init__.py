"""The class's records, written only by the grader: result files (signed), the gradebook, and what is made
from them (:mod:`.result_reports`: feedback, summaries, CSV, Gradescope JSON; :mod:`.gradebook_rows`:
grades read back from the gradebook for export)."""
