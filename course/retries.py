"""What a worker does when nbgrader gives up on a submission: it tries again, then grades an
empty copy of each of the assignment's released notebooks in its place, with nbgrader's reason,
so that every submission gets a score and a reason (the submission is kept beside it)."""
from __future__ import annotations

import re

from traitlets import Float, Integer
from traitlets.config import Configurable

from .course_dir import Course
from .deploy.postgres import wait_for_database
from .intake import replace_with_release
from .portable import Graded


DATABASE_LOST = "OperationalError"  # SQLAlchemy's error for a database it cannot reach or use


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
    database_attempts = Integer(
        3, min=1,
        help="Times a submission is graded again when the gradebook's database could not be reached "
        "(its server restarting), each after waiting for it; if it stays unreachable, the submission "
        "is left ungraded for the next run, never graded as an empty copy.").tag(config=True)
    database_wait_s = Float(
        120.0, min=0,
        help="Seconds to wait for the gradebook's database to answer again before each of those "
        "attempts.").tag(config=True)

    def grade_submission(self, api, course: Course, assignment: str, student: str) -> Graded:
        """Autograde one submission with nbgrader's API (``api``), as this policy says."""
        def autograde() -> str | None:
            """None once graded, else the last error nbgrader's log names. Where the gradebook's
            database could not be reached, wait for it and grade again."""
            for _ in range(self.database_attempts):
                graded = api.autograde(assignment, student, force=True, create=True)
                error = None if graded.get("success") else last_error((graded.get("error") or "") + (graded.get("log") or ""))
                if not (error and DATABASE_LOST in error
                        and wait_for_database(api.coursedir.db_url, self.database_wait_s)):
                    break
            return error

        error = autograde()
        for _ in range(self.nbgrader_attempts - 1):
            if error is None:
                break
            error = autograde()
        if error is not None and DATABASE_LOST in error:  # not the submission's fault: left for the next run
            return Graded(success=False, error=f"the gradebook's database is unreachable: {error}")
        reason = ""
        if error is not None:
            # the error's name only: its message can quote the submission's outputs, which may
            # carry hidden tests
            reason = f"the grader could not run it ({error.split(':')[0]})"
            replace_submission(course, assignment, student, reason)
            error = autograde()
        return Graded(success=error is None, replaced=reason, error=error or "")


def replace_submission(course: Course, assignment: str, student: str, reason: str) -> None:
    """Grade an empty copy of each of the assignment's released notebooks in place of the
    student's, which is kept beside it."""
    for notebook in course.notebook_names(assignment):
        replace_with_release(course.root / "submitted" / student / assignment, notebook,
                             course.root / "release" / assignment, reason)
