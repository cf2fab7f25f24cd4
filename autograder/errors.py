"""Errors the instructor sees: each says what is wrong and what to do about it."""


class GradingError(Exception):
    """A problem with the instructor's input (a path, a chapter, the submissions) that stops a step."""
