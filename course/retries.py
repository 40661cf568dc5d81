"""What a worker does when nbgrader gives up on a submission: it tries again, then grades an
empty copy of each of the assignment's released notebooks in its place, with nbgrader's reason,
so that every submission gets a score and a reason (the submission is kept beside it)."""
from __future__ import annotations

import re

from traitlets import Integer
from traitlets.config import Configurable

from .course_dir import Course
from .intake import replace_with_release
from .worker_pipe import WorkerResult


def last_error(log: str) -> str:
    """The last exception nbgrader's log names (``SomeError: message``)."""
    errors = re.findall(r"^\s*([A-Za-z_.]*(?:Error|Exception): .*)$", log, re.MULTILINE)
    return errors[-1].strip()[:200] if errors else "unknown error"


class RetryPolicy(Configurable):
    """How often nbgrader's autograde is run on a submission before it is graded as an empty copy."""

    nbgrader_attempts = Integer(
        2, min=1,
        help="Times nbgrader's autograde is run on a submission before the worker gives up on it and "
        "grades, in its place, an empty copy of each released notebook of the assignment that names "
        "nbgrader's error (the submission is kept beside it).").tag(config=True)

    def grade_submission(self, api, course: Course, assignment: str, student: str) -> WorkerResult:
        """Autograde one submission with nbgrader's API (``api``), as this policy says."""
        def autograde() -> str | None:
            """None once graded, else the last error nbgrader's log names."""
            graded = api.autograde(assignment, student, force=True, create=True)
            return None if graded.get("success") else last_error((graded.get("error") or "") + (graded.get("log") or ""))

        error = autograde()
        for _ in range(self.nbgrader_attempts - 1):
            if error is None:
                break
            error = autograde()
        replaced = error is not None
        if replaced:
            # the error's name only: its message can quote the submission's outputs, which may
            # carry hidden tests
            for notebook in course.notebook_names(assignment):
                replace_with_release(course.root / "submitted" / student / assignment, notebook,
                                     course.root / "release" / assignment,
                                     f"the grader could not run it ({error.split(':')[0]})")
            error = autograde()
        return WorkerResult(success=error is None, replaced=replaced, error=error or "")
