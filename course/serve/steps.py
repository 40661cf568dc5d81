"""nbgrader's steps for one student at a time, in the service's own process.

``nbgrader collect``'s copy, ``generate_feedback`` and ``release_feedback`` as commands each cost
a second or two of imports; the service runs the same applications in-process (as formgrader's
``NbGraderAPI`` does), so that a student's feedback is ready seconds after Submit. Feedback
files and the notices the service writes are named as ``release_feedback`` names them (a hash
of the submission's secret and the notebook's name), which is where the student's Assignments
panel looks with Fetch Feedback.
"""
from __future__ import annotations

import html
import os
import shutil
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import capture_log, notebook_hash, temp_attrs
from traitlets.config import Config

from ..course_dir import Course, PipelineError
from .inbox import Entry

NOTICE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:44em;margin:3em auto;line-height:1.5}}</style></head>
<body><h1>{title}</h1><p>{text}</p></body></html>
"""


class Steps:
    """The nbgrader applications the service runs, on one course folder and its config."""

    def __init__(self, course: Course, config):
        self.course = course
        self.config = config
        self.coursedir = CourseDirectory(config=config)
        self.coursedir.root = str(course.root)
        self.api = NbGraderAPI(self.coursedir, config=config)
        if not self.api.exchange_is_functional:
            raise PipelineError(f"the exchange at {self.api.exchange_root} is not usable: run `make release` first")
        self.feedback_folder = Path(self.api.exchange_root) / self.coursedir.course_id / "feedback"
        self.inbound = Path(self.api.exchange_root) / self.coursedir.course_id / "inbound"

    def _run(self, app, what: str) -> None:
        result = capture_log(app)
        if not result["success"]:
            raise PipelineError(f"nbgrader {what} failed:\n{result.get('error') or result.get('log', '')[-4000:]}")

    def take(self, entry: Entry) -> None:
        """Copy exactly the submission ``entry`` into ``submitted/``, as ``nbgrader collect`` copies
        (its ignore, include and size rules), without collect's own choice by name: every
        ``student+assignment+*`` folder, which a student can write and a bad name breaks."""
        dest = Path(self.coursedir.format_path(self.coursedir.submitted_directory, entry.student, entry.assignment))
        with temp_attrs(self.coursedir, assignment_id=entry.assignment, student_id=entry.student):
            app = self.api.exchange.Collect(coursedir=self.coursedir, authenticator=self.api.authenticator,
                                            parent=self.api)
            if dest.is_dir():
                shutil.rmtree(dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            app.do_copy(str(entry.path), str(dest))

    def feedback(self, assignment: str, student: str, withhold: bool) -> None:
        """Generate ``student``'s feedback (``withhold``: without the hidden tests' verdicts) and
        release it to them alone."""
        extra = Config()
        extra.HTMLExporter.template_name = "feedback"
        extra.WithholdHiddenVerdicts.enabled = withhold
        with temp_attrs(self.coursedir, assignment_id=assignment, student_id=student):
            app = GenerateFeedback(coursedir=self.coursedir, parent=self.api)
            app.update_config(extra)
            app.force = True
            self._run(app, f"generate_feedback {assignment} --student {student}")
            release = self.api.exchange.ReleaseFeedback(coursedir=self.coursedir,
                                                        authenticator=self.api.authenticator, parent=self.api)
            self._run(release, f"release_feedback {assignment} --student {student}")

    def tell(self, entry: Entry, title: str, text: str) -> None:
        """A page in place of feedback for the submission ``entry``, found by Fetch Feedback."""
        secret = entry.secret
        if not secret:
            return  # a submission without its secret can be given no feedback at all
        page = NOTICE.format(title=html.escape(title), text=html.escape(text))
        self.feedback_folder.mkdir(parents=True, exist_ok=True)
        for notebook in sorted(entry.path.glob("*.ipynb")):
            name = notebook_hash(secret=secret, notebook_id=notebook.stem)
            temporary = self.feedback_folder / f"{name}-tmp.html"
            temporary.write_text(page, encoding="utf-8")
            os.replace(temporary, self.feedback_folder / f"{name}.html")

    def score(self, assignment: str, student: str) -> tuple[float | None, float | None]:
        try:
            with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gradebook:
                submission = gradebook.find_submission(assignment, student)
                return submission.score, submission.max_score
        except MissingEntry:
            return None, None

    def duedate(self, assignment: str):
        """The chapter's deadline (UTC, naive as nbgrader keeps it), or None."""
        try:
            with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gradebook:
                return gradebook.find_assignment(assignment).duedate
        except MissingEntry:
            return None
