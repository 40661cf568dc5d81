"""The grading service's settings: ``c.GradeOnSubmit`` in nbgrader_config.py."""
from __future__ import annotations

from traitlets import Bool, Dict, Float, Integer
from traitlets.config import Configurable


class GradeOnSubmit(Configurable):
    """How `make serve` grades each submission as it arrives, per chapter.

    Immediate verdicts let a student probe the hidden tests by resubmitting; a chapter can limit
    the graded submissions per day and withhold the hidden tests' verdicts until its deadline
    (nbgrader's due date, set in formgrader's Manage Assignments)."""

    graded_per_day = Dict(
        key_trait=None, value_trait=Integer(min=0),
        help="Graded submissions a student gets per chapter and day (UTC), e.g. "
        "{'01_layers_and_blocks': 3}; a chapter not named gets default_graded_per_day. A submission over "
        "the limit is kept and graded at the deadline, and its feedback says so.").tag(config=True)
    default_graded_per_day = Integer(
        0, min=0, help="Graded submissions per chapter and day for chapters graded_per_day does not name; "
        "0: no limit (a practice chapter).").tag(config=True)
    hidden_verdicts = Dict(
        key_trait=None, value_trait=Bool(),
        help="Per chapter, whether feedback before the deadline shows each hidden test's verdict (True) or only "
        "the public checks and the total (False); a chapter not named gets default_hidden_verdicts. After the "
        "deadline the full feedback is released.").tag(config=True)
    default_hidden_verdicts = Bool(
        True, help="hidden_verdicts for the chapters it does not name.").tag(config=True)
    poll_s = Float(
        0.5, min=0.05, help="Seconds between two looks at the exchange's inbound folder.").tag(config=True)
    batch = Integer(
        0, min=0, help="Submissions graded side by side at most, taken in fair-share order; 0: one per "
        "grading worker, so that a submission arriving during a burst waits for at most one round.").tag(config=True)

    def per_day(self, assignment: str) -> int:
        return self.graded_per_day.get(assignment, self.default_graded_per_day)

    def shows_hidden(self, assignment: str) -> bool:
        return self.hidden_verdicts.get(assignment, self.default_hidden_verdicts)
