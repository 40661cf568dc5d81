"""The report's page: what each section shows, computed from the class's data, and rendered
with the template ``templates/report.html.j2`` (jinja2). The page needs no network: its style
is inline and its figures are PNG files beside it."""
from __future__ import annotations

import os
import statistics
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..serve.ledger import DEFERRED, FAILED, GRADED, LATE, SUPERSEDED
from . import figures
from .gather import Chapter, ClassData, Submission
from .similarity import ChapterSimilarity, similar_pairs

TEMPLATES = Path(__file__).resolve().parent / "templates"
SLOWEST = 10  # submissions named per chapter in the grading health section
# one for all reports: it compiles the template once
ENVIRONMENT = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                          trim_blocks=True, lstrip_blocks=True)


@dataclass
class Student:
    """A student as a section lists them: their name and a link to their feedback."""
    name: str
    link: str | None


@dataclass
class Mistake:
    """One failing verdict of an exercise and the students it affects."""
    message: str
    tests: list[str]
    students: list[Student]


@dataclass
class ExerciseView:
    name: str
    full: int
    partial: int
    none: int
    mistakes: list[Mistake]   # of the students who answered it
    unanswered: list[Student]  # the released stub left as it was, or an empty copy graded


@dataclass
class FreeView:
    name: str
    max_score: float
    ungraded: list[Student]
    scores: list[tuple[float, int]]  # (score, how many students got it), once graded


@dataclass
class ServiceView:
    """What the grading service (make serve) decided for a chapter's submissions."""
    counts: list[tuple[int, str]]  # (decisions, what they were), in SERVICE_STATES' order
    median_s: float | None         # from submit to feedback, of those graded
    longest_s: float | None


SERVICE_STATES = {GRADED: "graded on submission", DEFERRED: "kept for the deadline (over the day's limit)",
                  SUPERSEDED: "replaced by a newer one before they were graded",
                  LATE: "late, after one on time", FAILED: "that the grader could not run"}


def service_view(decisions: list) -> ServiceView | None:
    if not decisions:
        return None
    states = Counter(d.state for d in decisions)
    waits = sorted(d.latency_s for d in decisions if d.state == GRADED and d.latency_s is not None)
    return ServiceView([(states[state], said) for state, said in SERVICE_STATES.items() if states[state]],
                       statistics.median(waits) if waits else None, waits[-1] if waits else None)


@dataclass
class ChapterView:
    name: str
    submitted: int
    max_score: float
    histogram: str
    shares: str
    exercises: list[ExerciseView]
    missing: list[str]
    late: list[tuple[Student, str]]
    repaired: list[tuple[Student, list[str]]]
    empty: list[tuple[Student, str]]
    ungraded: list[tuple[Student, str]]  # collected, not graded by the last grading run: why
    free: list[FreeView]
    similarity: ChapterSimilarity
    seconds: float
    timed: int
    timed_by: set[str]
    slowest: list[tuple[Student, float]]
    limits: list[tuple[Student, str, str, str]]  # student, kind, cell, reason
    service: ServiceView | None
    links: dict[str, str | None] = field(default_factory=dict)


def href(path: Path, folder: Path) -> str:
    """A page in ``folder``'s link to ``path``: relative, so that the report opens where it is
    copied, and quoted, so that a space, ``#``, ``?``, ``%`` or a letter beyond ASCII in a
    student's id or a notebook's name is part of the path."""
    return urllib.parse.quote(Path(os.path.relpath(path, folder)).as_posix())


def _link(submission: Submission, folder: Path) -> str | None:
    return href(submission.feedback[0], folder) if submission.feedback else None


def _late(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours" if hours >= 1 else f"{seconds / 60:.0f} minutes"


def exercise_views(chapter: Chapter, student) -> list[ExerciseView]:
    """Per exercise: how many students got full, partial and no points, and each failing
    verdict with the students it affects, most affected first. A student who left the stub as
    released is counted apart: their verdicts say the exercise was not done, not what was missed."""
    views = []
    for exercise in chapter.exercises:
        counts = {"full": 0, "partial": 0, "none": 0}
        failing: dict[str, dict] = defaultdict(lambda: {"tests": set(), "students": []})
        unanswered = []
        stub = chapter.stubs.get(exercise)
        for submission in chapter.submissions.values():
            got, top = submission.exercise_points(exercise)
            if top:
                counts["full" if got >= top else "partial" if got > 0 else "none"] += 1
            answer = submission.answers.get(exercise)
            if got < top and (submission.empty_copy or (stub is not None and answer is not None
                                                        and answer.strip() == stub.strip())):
                unanswered.append(student(submission))
                continue
            messages = set()
            for test in submission.tests:
                if test.exercise == exercise and not test.passed:
                    failing[test.message]["tests"].add(test.grade_id)
                    messages.add(test.message)
            for message in sorted(messages):
                failing[message]["students"].append(student(submission))
        mistakes = [Mistake(message, sorted(entry["tests"]), entry["students"]) for message, entry in failing.items()]
        mistakes.sort(key=lambda m: (-len(m.students), m.message))
        views.append(ExerciseView(exercise, counts["full"], counts["partial"], counts["none"], mistakes, unanswered))
    return views


def free_views(chapter: Chapter, student) -> list[FreeView]:
    cells: dict[str, FreeView] = {}
    for submission in chapter.submissions.values():
        for answer in submission.free:
            view = cells.setdefault(answer.grade_id, FreeView(answer.grade_id, answer.max_score, [], []))
            if answer.score is None:
                view.ungraded.append(student(submission))
            else:
                view.scores.append(answer.score)
    for view in cells.values():
        view.scores = sorted((score, view.scores.count(score)) for score in set(view.scores))
    return [cells[name] for name in sorted(cells)]


def chapter_view(chapter: Chapter, folder: Path, figure_folder: Path) -> ChapterView:
    links = {name: _link(s, folder) for name, s in chapter.submissions.items()}

    def student(submission: Submission) -> Student:
        return Student(submission.student, links[submission.student])

    exercises = exercise_views(chapter, student)
    subs = sorted(chapter.submissions.values(), key=lambda s: s.student)
    histogram = figures.score_histogram(chapter, figure_folder)
    shares = figures.exercise_shares(chapter, [(e.name, e.full, e.partial, e.none) for e in exercises], figure_folder)
    timed = [s for s in subs if s.seconds is not None]
    answers = {s.student: s.answers for s in subs if s.empty_copy is None}
    return ChapterView(
        name=chapter.name, submitted=len(subs), max_score=chapter.max_score,
        histogram=href(histogram, folder), shares=href(shares, folder),
        exercises=exercises, missing=chapter.missing,
        late=[(student(s), _late(s.seconds_late)) for s in subs if s.seconds_late > 0],
        repaired=[(student(s), s.repairs) for s in subs if s.repairs],
        empty=[(student(s), s.empty_copy) for s in subs if s.empty_copy],
        ungraded=[(Student(name, None), why) for name, why in sorted(chapter.ungraded.items())],
        free=free_views(chapter, student),
        similarity=similar_pairs(answers, chapter.stubs, chapter.exercises),
        seconds=sum(s.seconds for s in timed), timed=len(timed), timed_by={s.timed_by for s in timed},
        slowest=[(student(s), s.seconds) for s in sorted(timed, key=lambda s: -s.seconds)[:SLOWEST]],
        limits=[(student(s), limit.kind, limit.cell, limit.reason) for s in subs for limit in s.limits],
        service=service_view(chapter.service),
        links=links)


def render(data: ClassData, folder: Path, per_test_csv: Path | None) -> Path:
    """Write ``folder/index.html`` and its figures (``folder/figures/``); the page's path."""
    figure_folder = folder / "figures"
    figure_folder.mkdir(parents=True, exist_ok=True)
    for old in figure_folder.glob("*.png"):
        old.unlink()
    shown = [c for c in data.chapters if c.submissions or c.ungraded]
    chapters = [chapter_view(c, folder, figure_folder) for c in shown]
    times = figures.grading_times(shown, figure_folder)
    page = ENVIRONMENT.get_template("report.html.j2").render(
        course=data.root, students=data.students, chapters=chapters,
        waiting=[c.name for c in data.chapters if c not in shown],
        times=href(times, folder) if times else None,
        per_test_csv=href(per_test_csv, folder) if per_test_csv else None,
        made=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
