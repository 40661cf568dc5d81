"""The grading service (make serve): feedback released seconds after a submission, limits per
day, hidden verdicts withheld before the deadline, the deadline's grading, restarts."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograders.bank import with_answers
from autograders.tests import toy
from course import operations
from course.course_dir import REPO, nbgrader_env
from course.serve.inbox import Entry, fair_order
from course.serve.ledger import Ledger
from serve_support import Service

QUIZ = "00_quiz"  # the toy again, as a chapter with a limit of one graded submission a day, verdicts withheld
CONFIG = f"""
c.GradeOnSubmit.graded_per_day = {{{QUIZ!r}: 1}}
c.GradeOnSubmit.hidden_verdicts = {{{QUIZ!r}: False}}
c.GradeOnSubmit.poll_s = 0.2
"""
WRONG_HALVE = {"halve": "def halve(x):\n    return x\n"}
HIDDEN_VERDICT = "halve(x) must be x / 2"  # the toy's hidden test's message, shown when halve is wrong
REFERENCE_SCORE = 5.0  # all automatic points; the free answer's point waits for the instructor


@pytest.fixture(scope="module")
def served():
    course = toy.make_toy_course(CONFIG)
    shutil.copytree(course.root / "source" / toy.ASSIGNMENT, course.root / "source" / QUIZ)
    operations.release(course, None)
    service = Service(course)
    service.start()
    try:
        yield course, service
    finally:
        service.stop()
        shutil.rmtree(course.root, ignore_errors=True)


def _reference(course, assignment):
    return nbformat.read(course.root / "source" / assignment / f"{toy.NOTEBOOK}.ipynb", as_version=4)


def _as_student(course, student: str) -> list[str]:
    """The options that make nbgrader's exchange commands act as ``student`` of the toy course. Each
    student has a cache of their own, as each has a home on a hub: fetch_feedback takes every
    feedback in the cache whose name holds the assignment, whoever's submission it was."""
    cache = course.root / "students" / f".{student}_nbgrader_cache"
    return ["--student", student, f"--Exchange.root={course.root / 'exchange'}",
            f"--Exchange.cache={cache}", "--CourseDirectory.course_id=dl-computation"]


def submit(course, student: str, assignment: str, answers: dict | None = None, raw: str | None = None) -> None:
    """``nbgrader submit`` from the student's folder, of the reference or of it with ``answers``."""
    folder = course.root / "students" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{toy.NOTEBOOK}.ipynb"
    if raw is not None:
        path.write_text(raw)
    else:
        nbformat.write(with_answers(_reference(course, assignment), answers or {}), path)
    course.nbgrader("submit", assignment, *_as_student(course, student), cwd=folder.parent)
    time.sleep(0.01)  # nbgrader's timestamps are to the microsecond; two submissions never share one


def fetch_feedback(course, student: str, assignment: str) -> list[str]:
    """Fetch Feedback as the Assignments panel does; the pages fetched, newest submission last."""
    folder = course.root / "students" / student
    course.nbgrader("fetch_feedback", assignment, *_as_student(course, student), cwd=folder)
    pages = sorted((folder / assignment / "feedback").glob("*/*.html"))
    return [page.read_text() for page in pages]


def decisions(course, student: str, assignment: str) -> list:
    return [d for d in Ledger(course.root).decisions.values() if d.student == student and d.assignment == assignment]


def submit_and_wait_until_grading(course, student: str) -> None:
    """``student`` submits the toy's reference; back once the service has collected it to grade."""
    submit(course, student, toy.ASSIGNMENT)
    deadline = time.time() + 60
    while not (course.root / "submitted" / student / toy.ASSIGNMENT).is_dir():
        assert time.time() < deadline, "the service never collected the submission"
        time.sleep(0.02)


def test_a_submission_gets_its_feedback_released_in_seconds(served):
    course, service = served
    start = time.time()
    submit(course, "ada", toy.ASSIGNMENT, WRONG_HALVE)
    service.wait_for(f"graded ada/{toy.ASSIGNMENT}", 120)
    (page,) = fetch_feedback(course, "ada", toy.ASSIGNMENT)
    assert HIDDEN_VERDICT in page, "the feedback lacks the hidden test's verdict"
    assert "secret_marker_for_leak_tests" not in page, "the feedback shows hidden test code"
    (decision,) = decisions(course, "ada", toy.ASSIGNMENT)
    assert decision.state == "graded" and (decision.score, decision.max_score) == (3.0, 6.0)
    assert decision.latency_s < time.time() - start
    assert f"graded ada/{toy.ASSIGNMENT}: 3/6" in service.text()  # the instructor's log line, with the score
    with Gradebook(course.db_url()) as gradebook:
        assert gradebook.find_submission(toy.ASSIGNMENT, "ada").score == 3.0
    # the instructor's own commands beside it: nothing graded twice
    assert operations.collect(course, toy.ASSIGNMENT) == {toy.ASSIGNMENT: 1}
    (run,) = operations.autograde(course, toy.ASSIGNMENT)
    assert run.skipped == ["ada"] and not run.graded


def test_an_unreadable_submission_gets_feedback_that_says_so(served):
    course, service = served
    submit(course, "bo", toy.ASSIGNMENT, raw="{ this is not a notebook")
    service.wait_for(f"graded bo/{toy.ASSIGNMENT}", 120)
    (page,) = fetch_feedback(course, "bo", toy.ASSIGNMENT)
    assert "could not be graded as it was" in page and "JSON" in page, "the feedback does not say why it is empty"
    assert decisions(course, "bo", toy.ASSIGNMENT)[0].score == 0.0


def test_the_limit_defers_a_submission_to_the_deadline_and_verdicts_are_withheld_until_then(served):
    course, service = served
    submit(course, "cy", QUIZ, WRONG_HALVE)
    service.wait_for(f"graded cy/{QUIZ}", 120)
    (withheld,) = fetch_feedback(course, "cy", QUIZ)
    assert HIDDEN_VERDICT not in withheld, "a hidden test's verdict was shown before the deadline"
    assert "withheld until the deadline" in withheld
    assert "Score: 3.0 / 6.0" in withheld, "the feedback must still show the total"
    submit(course, "cy", QUIZ)  # the reference: over the day's limit of one
    service.wait_for(f"deferred cy/{QUIZ}", 60)
    pages = fetch_feedback(course, "cy", QUIZ)
    assert len(pages) == 2 and "kept, and it will be graded at the deadline" not in pages[0]
    assert any("will be graded" in page and "1 graded submissions of today" in page for page in pages)
    with Gradebook(course.db_url()) as gradebook:
        assert gradebook.find_submission(QUIZ, "cy").score == 3.0, "the deferred submission was graded early"
        # the deadline: now, after both submissions; the service grades the last one on time
        gradebook.update_or_create_assignment(QUIZ, duedate=datetime.now(timezone.utc).replace(tzinfo=None))
    service.wait_for(f"{QUIZ}: the deadline passed", 120)
    with Gradebook(course.db_url()) as gradebook:
        assert gradebook.find_submission(QUIZ, "cy").score == REFERENCE_SCORE
    full = fetch_feedback(course, "cy", QUIZ)
    assert any("Score: 5.0 / 6.0" in page and "withheld" not in page for page in full), \
        "the full feedback of the last submission on time was not released at the deadline"
    # after the deadline, a late submission of a student who had one on time is told so
    submit(course, "cy", QUIZ, WRONG_HALVE)
    service.wait_for(f"late cy/{QUIZ}", 60)
    with Gradebook(course.db_url()) as gradebook:
        assert gradebook.find_submission(QUIZ, "cy").score == REFERENCE_SCORE


def test_a_service_stopped_mid_grading_resumes_without_losing_or_doubling_a_grade(served):
    course, service = served
    submit_and_wait_until_grading(course, "dee")
    service.stop(signal.SIGKILL)
    assert not decisions(course, "dee", toy.ASSIGNMENT), "the service decided before it was stopped"
    service.start()
    service.wait_for(f"graded dee/{toy.ASSIGNMENT}", 120)
    (decision,) = decisions(course, "dee", toy.ASSIGNMENT)
    assert decision.score == REFERENCE_SCORE
    assert len(fetch_feedback(course, "dee", toy.ASSIGNMENT)) == 1
    with Gradebook(course.db_url()) as gradebook:
        assert [s.student.id for s in gradebook.assignment_submissions(toy.ASSIGNMENT)].count("dee") == 1


def test_ctrl_c_in_mid_grading_decides_no_failure_and_the_next_start_grades_what_was_left(served):
    course, service = served
    submit_and_wait_until_grading(course, "eli")
    service.stop(signal.SIGINT, group=True)  # the service and its grading workers, as Ctrl-C does
    assert service.process.returncode == 0, service.text()[-3000:]
    assert all(d.state == "graded" for d in decisions(course, "eli", toy.ASSIGNMENT)), \
        "a submission interrupted by Ctrl-C was decided as failed"
    service.start()
    service.wait_for(f"graded eli/{toy.ASSIGNMENT}", 120)
    (decision,) = decisions(course, "eli", toy.ASSIGNMENT)
    assert decision.score == REFERENCE_SCORE
    assert len(fetch_feedback(course, "eli", toy.ASSIGNMENT)) == 1


def _inbound(course, student: str, assignment: str) -> list:
    return sorted((course.root / "exchange" / "dl-computation" / "inbound").glob(f"{student}+{assignment}+*"))


def test_a_submission_under_a_classmates_name_or_a_pattern_is_refused_and_a_bad_name_breaks_nothing(served):
    """On a hub each student's server submits as that student's account: a folder another account
    made under the name gil, or under the id ``*`` (which nbgrader reads as everyone), is not
    graded; a folder name nbgrader cannot read leaves hal's own submission gradable."""
    course, service = served
    submit(course, "ivy", toy.ASSIGNMENT)
    service.wait_for(f"graded ivy/{toy.ASSIGNMENT}", 120)
    (real,) = _inbound(course, "ivy", toy.ASSIGNMENT)
    inbound = real.parent
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    forged, pattern = inbound / f"gil+{toy.ASSIGNMENT}+{stamp}+forged", inbound / f"*+{toy.ASSIGNMENT}+{stamp}+all"
    for folder in (forged, pattern):
        shutil.copytree(real, folder)
    nobody = 65534  # Debian's nobody: an account other than the service's
    for path in [forged, *forged.iterdir()]:
        os.chown(path, nobody, nobody)
    (inbound / f"hal+{toy.ASSIGNMENT}+not a timestamp").mkdir()
    submit(course, "hal", toy.ASSIGNMENT)
    service.wait_for(f"graded hal/{toy.ASSIGNMENT}", 120)
    service.wait_for(f"failed gil/{toy.ASSIGNMENT}", 60)
    service.wait_for(f"failed */{toy.ASSIGNMENT}", 60)
    assert "made by the account 'nobody', not by 'gil'" in service.text()
    assert decisions(course, "hal", toy.ASSIGNMENT)[0].score == REFERENCE_SCORE
    assert not (course.root / "submitted" / "gil").exists() and not (course.root / "submitted" / "*").exists()
    with Gradebook(course.db_url()) as gradebook:
        graded = {s.student.id for s in gradebook.assignment_submissions(toy.ASSIGNMENT)}
    assert "gil" not in graded and "*" not in graded
    (page,) = fetch_feedback(course, "ivy", toy.ASSIGNMENT)  # the forged copies hold ivy's secret
    assert "Score: 5.0 / 6.0" in page and "Not graded" not in page, "a refused copy replaced ivy's feedback"


def test_at_the_deadline_the_last_submission_on_time_is_graded_whatever_the_service_had_decided(served):
    """The service down at the deadline: jo's two submissions on time and one late wait undecided.
    Started again, it grades the last on time, releases its full feedback, and tells the late one."""
    course, service = served
    service.stop()
    submit(course, "jo", toy.ASSIGNMENT, WRONG_HALVE)
    submit(course, "jo", toy.ASSIGNMENT)  # the last on time: the reference
    with Gradebook(course.db_url()) as gradebook:
        gradebook.update_or_create_assignment(toy.ASSIGNMENT, duedate=datetime.now(timezone.utc).replace(tzinfo=None))
    time.sleep(0.05)
    submit(course, "jo", toy.ASSIGNMENT, WRONG_HALVE)  # late
    first, on_time, late = _inbound(course, "jo", toy.ASSIGNMENT)
    service.start()
    service.wait_for(f"{toy.ASSIGNMENT}: the deadline passed", 180)
    states = {d.entry: d.state for d in decisions(course, "jo", toy.ASSIGNMENT)}
    assert states == {first.name: "superseded", on_time.name: "graded", late.name: "late"}, states
    with Gradebook(course.db_url()) as gradebook:
        assert gradebook.find_submission(toy.ASSIGNMENT, "jo").score == REFERENCE_SCORE
    pages = fetch_feedback(course, "jo", toy.ASSIGNMENT)
    assert sum("Score: 5.0 / 6.0" in page for page in pages) == 1, "the last submission on time has no feedback"
    assert sum("came after the deadline" in page for page in pages) == 1


def test_a_deadline_moved_later_opens_the_chapter_again(served):
    """After the deadline's grading, the instructor gives a day more: a submission now on time is
    graded as any other, not told that it came late."""
    course, service = served
    with Gradebook(course.db_url()) as gradebook:
        later = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(days=1)
        gradebook.update_or_create_assignment(toy.ASSIGNMENT, duedate=later)
    submit(course, "jo", toy.ASSIGNMENT, WRONG_HALVE)
    newest = _inbound(course, "jo", toy.ASSIGNMENT)[-1]
    service.wait_for(f"graded jo/{toy.ASSIGNMENT}: 3/6", 120)
    states = {d.entry: d.state for d in decisions(course, "jo", toy.ASSIGNMENT)}
    assert states[newest.name] == "graded", states


def test_a_second_service_on_the_same_course_refuses_to_start(served):
    course, _ = served
    result = subprocess.run([sys.executable, "-m", "course", "serve", "--course", str(course.root)], cwd=REPO,
                            env=nbgrader_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "another grading service serves this course" in result.stderr, result.stderr


def test_a_fault_of_the_grading_machinery_is_tried_again_and_never_decided_as_the_students():
    from course.course_dir import PipelineError
    from course.serve.service import GradingService

    class NoWorkers:
        def grade(self, *args, **kwargs):
            raise PipelineError("the grading cluster has no workers; nothing was graded")

    course = toy.make_toy_course()
    try:
        lines = []
        service = GradingService(course, log=lines.append)
        service.grader = NoWorkers()
        entry = Entry(f"kit+{toy.ASSIGNMENT}+2026-12-03 09:00:00 UTC+x", "kit", toy.ASSIGNMENT,
                      datetime(2026, 12, 3, 9), course.root)
        failed, left = service._grade([entry])
        assert not failed and left == {entry}, "a fault of the machinery was decided as the student's"
        assert service.retry_at > time.time() and not service.step(), "the service did not wait before trying again"
        assert any("no workers" in line for line in lines), lines
    finally:
        shutil.rmtree(course.root, ignore_errors=True)


def test_the_service_refuses_to_start_without_the_judge(tmp_path):
    course = toy.make_toy_course("\nc.Autograde.autograde_preprocessors = "
                                 "[p for p in c.Autograde.autograde_preprocessors if p.__name__ != 'JudgeProbeReports']\n")
    try:
        result = subprocess.run([sys.executable, "-m", "course", "serve", "--course", str(course.root)], cwd=REPO,
                                env=nbgrader_env(), capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(course.root, ignore_errors=True)
    assert result.returncode == 2 and "JudgeProbeReports" in result.stderr


def _entry(student: str, minute: int) -> Entry:
    when = datetime(2026, 12, 1, 9, minute)
    return Entry(f"{student}+ch+{when}", student, "ch", when, None)


def test_fair_share_serves_the_least_recently_served_first_then_by_arrival():
    flood = [_entry("flood", minute) for minute in range(5)]
    late_comer = _entry("quiet", 9)
    order = fair_order(flood + [late_comer], served={"flood": 100.0})
    assert order[0] == late_comer and order[1:] == flood
    assert fair_order(flood[::-1], served={}) == flood  # no one served yet: the order of arrival
