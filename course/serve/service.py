"""The grading service: each submission graded as it arrives, its feedback released to its
student alone, seconds after Submit (``make serve``).

One process holds the course's grading (``operations.grading_session``: the sandboxed kernels'
warm pools on a Dask cluster, the judge) for the whole term and looks at the exchange's inbound
folder every ``poll_s``. A new submission is copied into ``submitted/`` as ``nbgrader collect``
copies it, taken in, graded with the course's own grading, and its feedback generated and
released to that student; the decision goes to the service's ledger. A submission under an id
nbgrader would read as a pattern, or in a folder another account made (on a hub: a student
submitting under a classmate's name), is refused. The instructor's commands keep working beside
it on the same gradebook: a submission already graded and unchanged is not graded again (the
resume stamps), whoever graded it. A fault of the machinery (no worker, a gradebook away) is
logged and tried again; it is never decided as the student's.

Per chapter (``c.GradeOnSubmit``): a number of graded submissions per student and day (one over
the limit is kept and graded at the deadline, and the student is told so at once), and whether
feedback before the deadline shows the hidden tests' verdicts. When a chapter's deadline (its
nbgrader due date) passes, the service collects each student's last submission on time, grades
what changed and releases the full feedback; a later submission of a student who had one on time
is told that the one on time stands. Students are served in fair-share order: whoever was served
least recently first, each in the order of arrival.
"""
from __future__ import annotations

import fcntl
import threading
import time
from collections import defaultdict
from datetime import datetime, timezone

from rich.progress import Progress

from ..course_dir import Course, PipelineError, assignments
from ..dispatch import STOPPED, WORKER_DIED
from ..operations import grading_session, take_in
from .inbox import Entry, entries, fair_order
from .ledger import DEFERRED, FAILED, GRADED, LATE, SUPERSEDED, Decision, Ledger, ledger_file, today
from .settings import GradeOnSubmit
from .steps import Steps


def _say(line: str) -> None:
    """A line of the service's log, written at once: its output is a file or a hub's log, not a terminal."""
    print(line, flush=True)


RETRY_S = 15.0  # after a fault of the grading machinery, not of a submission: the next try
REPLACED = "A later submission of yours replaced this one; its feedback is the one that counts."


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
        self.retry_at = 0.0  # no grading before this time (a fault of the machinery was met)

    def run(self, stop: threading.Event | None = None, ready: threading.Event | None = None) -> None:
        """Serve until ``stop`` is set. A stop asked for in mid-grading lets the batch finish; what
        could not be graded because the service was stopping (its workers interrupted with it) is
        left undecided, to be graded at the next start, and its student is told nothing. One
        service per course folder: a second one refuses to start."""
        self.stop = stop = stop or threading.Event()
        with self._only_service(), grading_session(self.course, self.jobs, self.scheduler, self.kernel_pool) \
                as (config, grader):
            self.grader, self.settings = grader, GradeOnSubmit(config=config)
            self.steps, self.ledger = Steps(self.course, config), Ledger(self.course.root)
            grader.ready()
            self.log(f"grading service ready: watching {self.steps.inbound} "
                     f"({len(self.ledger.decisions)} submissions decided before)")
            if ready is not None:
                ready.set()
            while not stop.is_set():
                try:
                    busy = self.step()
                except Exception as error:  # noqa: BLE001 - the service outlives any one fault; said, retried
                    self.log(f"{_now():%Y-%m-%d %H:%M:%S} the service met a fault and tries again in {RETRY_S:g} s: "
                             f"{type(error).__name__}: {str(error)[:2000]}")
                    self.retry_at, busy = time.time() + RETRY_S, False
                if not busy:
                    stop.wait(self.settings.poll_s)

    def _only_service(self):
        """A lock held while serving: two services on one exchange would grade each submission twice."""
        path = ledger_file(self.course.root).with_name("service.lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(path, "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise PipelineError(f"another grading service serves this course (it holds {path})") from None
        return lock

    def step(self) -> bool:
        """Grade what waits (one batch); whether there was anything to do."""
        if time.time() < self.retry_at:
            return False
        closed = self.close_deadlines()
        waiting = self.triage(entries(self.steps.inbound, self.chapters))
        if not waiting:
            return closed
        size = self.settings.batch or max(1, len(self.grader.workers()))
        self.grade(fair_order(waiting, self.ledger.served)[:size])
        return True

    # deciding what each new submission gets

    def _refusal(self, entry: Entry) -> str | None:
        """Why ``entry`` is not graded at all: an id nbgrader would read as a pattern, or a folder
        that another account made (on a hub, a student submitting under a classmate's name)."""
        if not entry.safe_id:
            return f"the student id {entry.student!r} is not one the course can grade"
        owner = entry.owner
        if owner is not None and owner != entry.student:
            return f"this submission was made by the account {owner!r}, not by {entry.student!r}"
        return None

    def triage(self, found: list[Entry]) -> list[Entry]:
        """The new submissions to grade now; the others are decided here (refused, superseded by a
        newer one, over the day's limit, late after one on time) and their students told."""
        latest: dict[tuple[str, str], Entry] = {}
        for entry in found:
            if entry.name in self.ledger.decisions:
                continue
            if (why := self._refusal(entry)) is not None:
                # no page is written: its name would come from a secret whoever made the folder chose
                self._decide(entry, FAILED, f"Not graded: {why}.", tell=False)
                continue
            older = latest.get((entry.student, entry.assignment))
            if older is not None:
                self._decide(older, SUPERSEDED, REPLACED)
            latest[entry.student, entry.assignment] = entry
        waiting = []
        for entry in latest.values():
            due = self.steps.duedate(entry.assignment)
            limit = self.settings.per_day(entry.assignment)
            if self._closed(entry.assignment, due) and entry.submitted > due and any(
                    other.student == entry.student and other.assignment == entry.assignment and other.submitted <= due
                    for other in found):
                self._decide(entry, LATE, f"This submission came after the deadline ({due:%Y-%m-%d %H:%M} UTC); "
                             "your last submission on time is the one graded.")
            elif limit and self.ledger.graded_today(entry.student, entry.assignment) >= limit:
                when = (f"at the deadline ({due:%Y-%m-%d %H:%M} UTC) if it is your last on time"
                        if due is not None and _now() <= due else "when your instructor grades the chapter")
                self._decide(entry, DEFERRED, f"You have had the {limit} graded submissions of today for this "
                             f"chapter. This one is kept, and it will be graded {when}.")
            else:
                waiting.append(entry)
        return waiting

    def _closed(self, assignment: str, due) -> bool:
        """Whether the service graded the chapter at this deadline (one moved later opens it again)."""
        return due is not None and self.ledger.closed.get(assignment) == due.isoformat()

    def _decide(self, entry: Entry, state: str, why: str, score=None, max_score=None, tell: bool = True) -> None:
        if state != GRADED and tell:
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

    def _grade(self, taken: list[Entry]) -> tuple[dict, set]:
        """Grade the submissions ``taken`` (copied into ``submitted/``): ``({entry: why}, left)``,
        those that got no feedback of their own grading because of the submission, and those left
        undecided because of the grading machinery (retried later)."""
        students = defaultdict(list)
        for entry in taken:
            students[entry.assignment].append(entry.student)
        for assignment in students:
            take_in(self.course, assignment)
        failed, left = {}, set()
        try:
            runs = self.grader.grade(list(students), True, self.progress, only=dict(students),
                                     stopping=self.stop.is_set)
        except PipelineError as error:  # no worker, a chapter's reference that could not be observed
            self.log(f"{_now():%Y-%m-%d %H:%M:%S} grading could not run, tried again in {RETRY_S:g} s: {error}")
            self.retry_at = time.time() + RETRY_S
            return {}, set(taken)
        by_key = {(e.assignment, e.student): e for e in taken}
        for run in runs:
            for student, why in run.ungraded.items():
                if why == WORKER_DIED:  # the submission's own doing: it killed two grading processes
                    failed[by_key[run.assignment, student]] = "the grader could not run your notebook: it stopped " \
                        "the grading process twice"
                else:  # the machinery's (a gradebook away, the service stopping): not the student's
                    left.add(by_key[run.assignment, student])
                    if why != STOPPED:
                        self.log(f"{student}/{run.assignment}: left for a later try ({why})")
            for student in run.failed:
                failed[by_key[run.assignment, student]] = "the grader could not run your notebook; it counts as an " \
                    "empty copy for now, and your instructor can see why"
        if left and not self.stop.is_set():
            self.retry_at = time.time() + RETRY_S
        return failed, left

    def _take(self, batch: list[Entry]) -> list[Entry]:
        """Copy each submission of ``batch`` into ``submitted/``; those that could be copied (the
        others are decided: a folder the service cannot read, one too large)."""
        taken = []
        for entry in batch:
            try:
                self.steps.take(entry)
            except (OSError, RuntimeError) as error:
                self._decide(entry, FAILED, f"Your submission could not be collected: {type(error).__name__}.")
                continue
            taken.append(entry)
        return taken

    def _feed_back(self, entries_graded: list[Entry], failed: dict, left: set, withhold) -> None:
        for entry in entries_graded:
            if entry in left:
                continue
            why = failed.get(entry)
            if why is None:
                try:
                    self.steps.feedback(entry.assignment, entry.student, withhold(entry.assignment))
                except PipelineError as error:
                    why = f"your feedback could not be made: {str(error)[:300]}"
            score, max_score = self.steps.score(entry.assignment, entry.student)
            self._decide(entry, FAILED if why else GRADED, why or "", score, max_score)

    def grade(self, batch: list[Entry]) -> None:
        taken = self._take(batch)
        failed, left = self._grade(taken)
        self._feed_back(taken, failed, left, self._withhold)

    def close_deadlines(self) -> bool:
        """Grade each chapter whose deadline passed: every student's last submission on time (or,
        with none on time, their last), each decided; release the full feedback. Whether a
        chapter was closed."""
        closed = False
        for assignment in self.chapters:
            due = self.steps.duedate(assignment)
            if due is None or _now() <= due or self._closed(assignment, due):
                continue
            chosen, others = self._last_on_time([e for e in entries(self.steps.inbound, [assignment])
                                                 if self._refusal(e) is None], due)
            taken = self._take(chosen)
            failed, left = self._grade(taken)
            if left:
                return closed  # the deadline's grading is tried again whole, later
            self._feed_back(taken, failed, left, lambda _: False)
            for entry in others:
                if entry.name not in self.ledger.decisions:
                    self._decide(entry, SUPERSEDED if entry.submitted <= due else LATE,
                                 REPLACED if entry.submitted <= due else
                                 f"This submission came after the deadline ({due:%Y-%m-%d %H:%M} UTC); your last "
                                 "submission on time is the one graded.")
            self.log(f"{assignment}: the deadline passed; {len(taken) - len(failed)} last submissions on time "
                     f"graded and their full feedback released" + (f", {len(failed)} could not be" if failed else ""))
            self.ledger.close(assignment, due.isoformat())
            closed = True
        return closed

    @staticmethod
    def _last_on_time(found: list[Entry], due) -> tuple[list[Entry], list[Entry]]:
        """Per student, the submission nbgrader's ``collect --before-duedate`` takes (the last on
        time, else the last), and the others."""
        chosen, others = [], []
        for student in sorted({e.student for e in found}):
            mine = [e for e in found if e.student == student]  # oldest first
            on_time = [e for e in mine if e.submitted <= due]
            pick = (on_time or mine)[-1]
            chosen.append(pick)
            others += [e for e in mine if e is not pick]
        return chosen, others
