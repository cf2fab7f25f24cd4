"""The student-side helper package of the course.

- :mod:`course.checks`: the comparisons behind every visible test cell, with diagnostics.
- :mod:`course.data`: offline data sets (scikit-learn's bundled digits, synthetic 2-D data).
- :mod:`course.syllabus`: the chapters, their notes and their exercises (``syllabus.yml``).
"""

__version__ = "0.1.0"
