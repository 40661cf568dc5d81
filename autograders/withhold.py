"""Feedback before the deadline that shows the public checks and a total, not each hidden test.

Feedback seconds after a submission (``make serve``) lets a student probe the hidden tests by
resubmitting: change one line, read which hidden verdict moved. Where a chapter says so, the
feedback released before its deadline keeps every hidden-test cell's place but neither its
verdict nor its points; the notebook's total stays. After the deadline, the full feedback
replaces it.
"""
from __future__ import annotations

from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Unicode

from .feedback import HELD_HIDDEN


class WithholdHiddenVerdicts(NbGraderPreprocessor):
    """In a feedback notebook, the cells that held hidden tests (marked by ``HideHiddenTests``,
    which runs before) lose their verdict and score; runs after ``GetGrades``. Off unless
    ``enabled``: the grading service turns it on for the chapters that withhold."""

    enabled = Bool(
        False,
        help="Withhold each hidden test's verdict and points from the feedback (the total stays). "
        "`make serve` sets it for a chapter whose c.GradeOnSubmit.hidden_verdicts is False, "
        "until the chapter's deadline.").tag(config=True)
    notice = Unicode(
        "The verdict of these hidden tests is withheld until the deadline: the total above counts them, "
        "this cell does not say how they went.\n",
        help="What a withheld hidden-test cell shows instead of its verdict.").tag(config=True)

    def preprocess(self, nb, resources):
        if not self.enabled:
            return nb, resources
        for cell in nb.cells:
            if not cell.metadata.get("course", {}).get(HELD_HIDDEN):
                continue
            cell.outputs = [new_output("stream", name="stdout", text=self.notice)]
            grading = cell.metadata.get("nbgrader", {})
            grading["grade"] = False  # nbgrader's template then shows no score for it
            for key in ("score", "points", "comment"):
                grading.pop(key, None)
        return nb, resources
