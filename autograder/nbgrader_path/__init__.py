"""The plain nbgrader path (``--engine nbgrader``): ``nbgrader autograde`` and feedback, and the
preprocessor that keeps hidden tests out of nbgrader's feedback."""
