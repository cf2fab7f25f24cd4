"""The student-side helper package of the course.

- :mod:`course.checks`: the comparisons behind every visible test cell, with diagnostics.
- :mod:`course.data`: offline data sets (scikit-learn's bundled digits, synthetic 2-D data).
- :mod:`course.text`: the small text corpora shipped in ``course/corpora/`` and a character vocabulary.
- :mod:`course.toy_corpus`: a seeded toy corpus with planted analogies, for word embeddings.
- :mod:`course.envs`: environments gymnasium lacks (bandit testbeds, gridworlds, tic-tac-toe, a toy expert).
- :mod:`course.syllabus`: the chapters, their notes and their exercises (``syllabus.yml``).
- :mod:`course.demos`: ``interact`` for the demos (sliders pass the value they show; an unfinished exercise
  is named, not raised) and ``needs_exercises`` for plain demo cells.

This package is also the student package ``dlcourse-student`` (``course/pyproject.toml``): it never imports
the reference answers or the grader.
"""

__version__ = "0.1.0"
