"""The grading service: each submission graded as it arrives, its feedback released to its
student alone, seconds after Submit (``make serve``).

One process holds the course's grading (``operations.grading_session``: the sandboxed kernels'
warm pools on a Dask cluster, the judge) for the whole term and looks at the exchange's inbound
folder every ``poll_s``. A new submission is collected as ``nbgrader collect`` would, taken in,
graded with the course's own grading, and its feedback generated and released to that student;
the decision goes to the service's ledger. The instructor's commands keep working beside it on
the same gradebook: a submission already graded and unchanged is not graded again (the resume
stamps), whoever graded it.

Per chapter (``c.GradeOnSubmit``): a number of graded submissions per student and day (one over
the limit is kept and graded at the deadline, and the student is told so at once), and whether
feedback before the deadline shows the hidden tests' verdicts. When a chapter's deadline (its
nbgrader due date) passes, the service collects each student's last submission on time, grades
what changed and releases the full feedback; a later submission of a student who had one on time
is told that the one on time stands. Students are served in fair-share order: whoever was served
least recently first, each in the order of arrival.
"""
from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import datetime, timezone

from rich.progress import Progress

from ..course_dir import Course, PipelineError, assignments
from ..operations import grading_session, take_in
from .inbox import Entry, entries, fair_order
from .ledger import DEFERRED, FAILED, GRADED, LATE, SUPERSEDED, Decision, Ledger, today
from .settings import GradeOnSubmit
from .steps import Steps


def _say(line: str) -> None:
    """A line of the service's log, written at once: its output is a file or a hub's log, not a terminal."""
    print(line, flush=True)


def _now() -> datetime:
    """UTC, naive, as nbgrader keeps due dates and timestamps."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class GradingService:
    """``run()`` serves until ``stop`` is set; ``step()`` is one look at the exchange."""

    def __init__(self, course: Course, jobs: int | None = None, scheduler: str | None = None,
                 kernel_pool: bool = True, log=_say):
        self.course, self.jobs, self.scheduler, self.kernel_pool, self.log = course, jobs, scheduler, kernel_pool, log
        self.chapters = assignments(course.root)
        self.grader = self.steps = self.settings = self.ledger = None
        self.progress = Progress(disable=True)
        self.stop = threading.Event()

    def run(self, stop: threading.Event | None = None, ready: threading.Event | None = None) -> None:
        """Serve until ``stop`` is set. A stop asked for in mid-grading lets the batch finish; what
        could not be graded because the service was stopping (its workers interrupted with it) is
        left undecided, to be graded at the next start, and its student is told nothing."""
        self.stop = stop = stop or threading.Event()
        with grading_session(self.course, self.jobs, self.scheduler, self.kernel_pool) as (config, grader):
            self.grader, self.settings = grader, GradeOnSubmit(config=config)
            self.steps, self.ledger = Steps(self.course, config), Ledger(self.course.root)
            grader.ready()
            self.log(f"grading service ready: watching {self.steps.inbound} "
                     f"({len(self.ledger.decisions)} submissions decided before)")
            if ready is not None:
                ready.set()
            while not stop.is_set():
                if not self.step():
                    stop.wait(self.settings.poll_s)

    def step(self) -> bool:
        """Grade what waits (one batch); whether there was anything to do."""
        closed = self.close_deadlines()
        waiting = self.triage(entries(self.steps.inbound, self.chapters))
        if not waiting:
            return closed
        size = self.settings.batch or max(1, len(self.grader.workers()))
        self.grade(fair_order(waiting, self.ledger.served)[:size])
        return True

    # deciding what each new submission gets

    def triage(self, found: list[Entry]) -> list[Entry]:
        """The new submissions to grade now; the others are decided here (superseded by a newer
        one, over the day's limit, late after one on time) and their students told."""
        latest: dict[tuple[str, str], Entry] = {}
        for entry in found:
            if entry.name not in self.ledger.decisions:
                older = latest.get((entry.student, entry.assignment))
                if older is not None:
                    self._decide(older, SUPERSEDED, "A later submission of yours replaced this one; its feedback is "
                                 "the one that counts.")
                latest[entry.student, entry.assignment] = entry
        waiting = []
        for entry in latest.values():
            due = self.steps.duedate(entry.assignment)
            limit = self.settings.per_day(entry.assignment)
            if entry.assignment in self.ledger.closed and due is not None and any(
                    other.student == entry.student and other.assignment == entry.assignment and other.submitted <= due
                    for other in found):
                self._decide(entry, LATE, f"This submission came after the deadline ({due:%Y-%m-%d %H:%M} UTC); "
                             "your last submission on time is the one graded.")
            elif limit and entry.assignment not in self.ledger.closed and \
                    self.ledger.graded_today(entry.student, entry.assignment) >= limit:
                when = f"at the deadline ({due:%Y-%m-%d %H:%M} UTC)" if due else "when your instructor grades the chapter"
                self._decide(entry, DEFERRED, f"You have had the {limit} graded submissions of today for this "
                             f"chapter. This one is kept, and it will be graded {when} if it is your last on time.")
            else:
                waiting.append(entry)
        return waiting

    def _decide(self, entry: Entry, state: str, why: str, score=None, max_score=None) -> None:
        if state != GRADED:
            self.steps.tell(entry, f"{entry.assignment}: {state}", why)
        latency = time.time() - entry.submitted.replace(tzinfo=timezone.utc).timestamp()
        self.ledger.record(Decision(entry.name, entry.student, entry.assignment, state, time.time(), today(),
                                    score, max_score, round(latency, 2), why))
        shown = f"{score:g}/{max_score:g}" if score is not None and max_score is not None else "-"
        self.log(f"{_now():%Y-%m-%d %H:%M:%S} {state} {entry.student}/{entry.assignment}: {shown}, "
                 f"{latency:.1f} s from submit to feedback" + (f" ({why})" if state != GRADED else ""))

    # grading

    def _withhold(self, assignment: str) -> bool:
        due = self.steps.duedate(assignment)
        return not self.settings.shows_hidden(assignment) and (due is None or _now() <= due)

    def _grade(self, students: dict[str, list[str]]) -> dict:
        """Grade ``{assignment: students}`` (collected); ``{(assignment, student): why not}``
        for those that got no feedback of their own grading."""
        failed = {}
        for assignment in students:
            take_in(self.course, assignment)
        try:
            runs = self.grader.grade(list(students), True, self.progress, only=students, stopping=self.stop.is_set)
        except PipelineError as error:  # a chapter's reference could not be observed
            return {(a, s): f"the grader could not run this chapter: {error}" for a in students for s in students[a]}
        for run in runs:
            for student, why in run.ungraded.items():
                failed[run.assignment, student] = f"the grader could not run your notebook ({why})"
            for student, why in run.reasons.items():
                failed[run.assignment, student] = (f"the grader could not run your notebook ({why}); it counts as an "
                                                   "empty copy for now, and your instructor can see why")
        return failed

    def grade(self, batch: list[Entry]) -> None:
        students = defaultdict(list)
        for entry in batch:
            self.steps.collect(entry.assignment, entry.student)
            students[entry.assignment].append(entry.student)
        failed = self._grade(dict(students))
        for entry in batch:
            why = failed.get((entry.assignment, entry.student))
            if why is not None and self.stop.is_set():
                self.log(f"{entry.student}/{entry.assignment}: left for the next start (the service is stopping)")
                continue
            if why is None:
                try:
                    self.steps.feedback(entry.assignment, entry.student, self._withhold(entry.assignment))
                except PipelineError as error:
                    why = f"your feedback could not be made: {error}"
            score, max_score = self.steps.score(entry.assignment, entry.student)
            self._decide(entry, FAILED if why else GRADED, why or "", score, max_score)

    def close_deadlines(self) -> bool:
        """Grade each chapter whose deadline passed: every student's last submission on time;
        release the full feedback. Whether a chapter was closed."""
        closed = False
        for assignment in self.chapters:
            due = self.steps.duedate(assignment)
            if assignment in self.ledger.closed or due is None or _now() <= due:
                continue
            students = sorted({e.student for e in entries(self.steps.inbound, [assignment])})
            if students:
                self.steps.collect(assignment, "*", before_duedate=True)
                failed = self._grade({assignment: students})
                if failed and self.stop.is_set():
                    self.log(f"{assignment}: the deadline's grading is left for the next start (the service is stopping)")
                    return closed
                for student in students:
                    if (assignment, student) not in failed:
                        self.steps.feedback(assignment, student, withhold=False)
                self.log(f"{assignment}: the deadline passed; {len(students) - len(failed)} last submissions on time "
                         f"graded and their full feedback released" + (f", {len(failed)} could not be" if failed else ""))
            self.ledger.close(assignment)
            closed = True
        return closed
