"""`make bench ONLY=serve`: the grading service's latency, from the Submit click to feedback
ready to fetch, and a deadline's burst (printed, never a timed test).

Students submit as the Assignments panel's Submit button does (nbgrader's exchange ``Submit``
application, in this process, each student with a home of their own); the service runs as
``make serve`` runs it, on a cluster of this machine's own. A submission's feedback is ready to
fetch when the service's ledger records its decision: it writes it once the feedback is released.

1. Per chapter, nothing else queued: a first submission (the service meets the chapter for the
   first time) and a second one (warm), each waited for before the next.
2. A burst: ``burst`` students submit within ``burst_s`` seconds, the chapters and the demo's mix
   of answers in turn; every one graded, in order of arrival, and the time to the last feedback.
"""
from __future__ import annotations

import os
import statistics
import threading
import time

from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange import ExchangeFactory
from rich.console import Console
from rich.table import Table
from traitlets.config import Config

from .. import operations
from ..classroom import RECIPES, load_assignment
from ..course_dir import REPO, Course, assignments as course_assignments
from .ledger import GRADED, Ledger
from .service import GradingService

COURSE_ID = "dl-computation"
BURST_RECIPES = [name for name in RECIPES if name != "ivy_skips_chapter_1"]  # each one writes every chapter


class Class:
    """Students of one course who submit through its exchange, each from a home of their own."""

    def __init__(self, course: Course):
        self.course, self.homes = course, course.root / "students"
        self.loaded = {}

    def submit(self, student: str, assignment: str, recipe: str) -> float:
        """``student`` submits ``assignment`` written as ``recipe`` writes it; when they clicked."""
        if assignment not in self.loaded:
            self.loaded[assignment] = load_assignment(assignment, self.course.root / "release")
        home = self.homes / student
        folder = home / assignment
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{self.course.notebook_name(assignment)}.ipynb").write_text(
            RECIPES[recipe](self.loaded[assignment], 1))
        config = Config()
        config.CourseDirectory.root = str(home)
        config.CourseDirectory.course_id = COURSE_ID
        config.CourseDirectory.assignment_id = assignment
        config.CourseDirectory.student_id = student
        config.Exchange.root = str(self.course.root / "exchange")
        config.Exchange.cache = str(home / ".nbgrader_cache")
        config.Exchange.assignment_dir = str(home)  # the student server's folder, where Submit looks
        clicked = time.time()
        ExchangeFactory(config=config).Submit(coursedir=CourseDirectory(config=config),
                                              authenticator=Authenticator(config=config), config=config).start()
        return clicked


def _decided(course: Course, student: str, assignment: str, count: int = 1, timeout: float = 600):
    """The ``count``-th decision on ``student``'s ``assignment``, waited for."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        mine = sorted((d for d in Ledger(course.root).decisions.values()
                       if d.student == student and d.assignment == assignment), key=lambda d: d.at)
        if len(mine) >= count:
            return mine[count - 1]
        time.sleep(0.05)
    raise TimeoutError(f"no feedback for {student}/{assignment} after {timeout} s")


def run_bench(assignments: list[str] | None = None, jobs: int | None = None, burst: int = 50,
              burst_s: float = 60.0) -> dict:
    assignments = assignments or course_assignments()
    course = Course.create(REPO / "bench" / "serve", assignments)
    operations.release(course, None)
    students = Class(course)
    lines: list[str] = []
    service = GradingService(course, jobs, log=lines.append)
    stop, ready = threading.Event(), threading.Event()
    serving = threading.Thread(target=service.run, args=(stop, ready), daemon=True)
    serving.start()
    try:
        if not ready.wait(600):
            raise TimeoutError("the grading service did not start in 10 minutes:\n" + "\n".join(lines))
        latency = {}
        for assignment in assignments:
            seconds = []
            for attempt in (1, 2):
                clicked = students.submit("solo", assignment, "ada_perfect")
                decision = _decided(course, "solo", assignment, attempt)
                seconds.append(decision.at - clicked)
            latency[assignment] = seconds
        arrivals = []
        start = time.time()
        for index in range(burst):
            time.sleep(max(0.0, start + index * burst_s / burst - time.time()))
            student, assignment = f"burst{index:02d}", assignments[index % len(assignments)]
            arrivals.append((students.submit(student, assignment, BURST_RECIPES[index % len(BURST_RECIPES)]),
                             student, assignment))
        decided = [_decided(course, student, assignment) for _, student, assignment in arrivals]
        last = max(d.at for d in decided)
    finally:
        stop.set()
        serving.join(120)
    waits = [d.at - clicked for d, (clicked, _, _) in zip(decided, arrivals)]
    return {"jobs": jobs or os.cpu_count(), "latency": latency, "burst": burst, "burst_s": burst_s,
            "submitted_s": arrivals[-1][0] - start, "last_feedback_s": last - start,
            "graded": sum(d.state == GRADED for d in decided),
            "in_order": [d.entry for d in sorted(decided, key=lambda d: d.at)] == [d.entry for d in decided],
            "wait_median_s": statistics.median(waits), "wait_max_s": max(waits)}


def main(jobs: int | None = None) -> int:
    figures = run_bench(jobs=jobs)
    table = Table(title=f"Submit to feedback ready, nothing else queued ({os.cpu_count()} cores)")
    for column in ("chapter", "first submission", "second (warm)"):
        table.add_column(column, justify="right")
    for assignment, (first, second) in figures["latency"].items():
        table.add_row(assignment, f"{first:.1f} s", f"{second:.1f} s")
    console = Console()
    console.print(table)
    console.print(
        f"burst: {figures['burst']} submissions within {figures['submitted_s']:.0f} s, {figures['graded']} graded, "
        f"in order of arrival: {'yes' if figures['in_order'] else 'NO'}; "
        f"last feedback {figures['last_feedback_s']:.1f} s after the first submission; wait from submit to "
        f"feedback: median {figures['wait_median_s']:.1f} s, longest {figures['wait_max_s']:.1f} s")
    return 0 if figures["in_order"] else 1
