"""Grading a class in parallel: no grade lost or counted twice, resumable, no state shared."""
from __future__ import annotations

import os
import re
import signal
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograders.bank import with_answers
from autograders.sandbox.pool import pool_possible
from autograders.tests import toy
from course import operations
from course.course_dir import PipelineError

WRONG_HALVE = "def halve(x):\n    return x\n"
LEAKER = ("import os, torch\nopen('/tmp/course-leak', 'w').write('x')\ntorch.leaked_state = 1\n"
          "os.environ['LEAK'] = '1'\ndef double(x):\n    return 2 * x\n")
VICTIM = ("import os, torch\nLEAK = os.path.exists('/tmp/course-leak') or hasattr(torch, 'leaked_state') "
          "or 'LEAK' in os.environ\ndef double(x):\n    return 3 * x if LEAK else 2 * x\n")


def _reference(course):
    return nbformat.read(course.root / "source" / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.ipynb", as_version=4)


def test_parallel_grading_counts_every_grade_once_and_resumes(toy_course):
    reference = _reference(toy_course)
    expected = {}
    for index in range(6):
        wrong = index % 2 == 1
        nb = with_answers(reference, {"halve": WRONG_HALVE}) if wrong else reference
        toy_course.submit_notebook(f"student{index}", toy.ASSIGNMENT, nb)
        expected[f"student{index}"] = 3.0 if wrong else 5.0

    (first,) = operations.autograde(toy_course, toy.ASSIGNMENT, jobs=2)
    assert sorted(first.graded) == sorted(expected) and not first.failed
    # each kernel (the reference's, then one per submission) forked by a worker's kernel pool,
    # one pool per worker, where the sandbox runs
    assert (first.pooled_kernels, first.pools_started) == ((7, 2) if pool_possible() else (0, 0))
    scores = toy_course.scores(toy.ASSIGNMENT)
    assert {s: sum(v for v, _ in cells.values()) for s, cells in scores.items()} == expected
    with Gradebook(f"sqlite:///{toy_course.root / 'gradebook.db'}") as gb:
        submissions = gb.assignment_submissions(toy.ASSIGNMENT)
        assert sorted(s.student.id for s in submissions) == sorted(expected)  # one each, none twice
        assert all(len(s.notebooks) == 1 and len(s.notebooks[0].grades) == 4 for s in submissions)

    (again,) = operations.autograde(toy_course, toy.ASSIGNMENT, jobs=2)
    assert again.graded == [] and sorted(again.skipped) == sorted(expected)

    toy_course.submit_notebook("student0", toy.ASSIGNMENT, with_answers(reference, {"halve": WRONG_HALVE}))
    (changed,) = operations.autograde(toy_course, toy.ASSIGNMENT, jobs=2, kernel_pool=False)
    assert changed.graded == ["student0"]
    assert changed.pooled_kernels == changed.pools_started == 0  # every kernel started afresh
    assert sum(v for v, _ in toy_course.scores(toy.ASSIGNMENT)["student0"].values()) == 3.0


def test_one_submissions_state_is_invisible_to_the_next(toy_course):
    reference = _reference(toy_course)
    toy_course.submit_notebook("a_leaker", toy.ASSIGNMENT, with_answers(reference, {"double": LEAKER}))
    toy_course.submit_notebook("b_victim", toy.ASSIGNMENT, with_answers(reference, {"double": VICTIM}))
    operations.autograde(toy_course, toy.ASSIGNMENT, jobs=1)  # one worker: the victim runs right after
    scores = toy_course.scores(toy.ASSIGNMENT)
    assert all(score == top for score, top in scores["b_victim"].values()), scores["b_victim"]
    assert all(score == top for score, top in scores["a_leaker"].values())


def test_a_reference_that_fails_its_own_tests_stops_its_chapter(toy_course):
    toy_course.submit_notebook("student0", toy.ASSIGNMENT, _reference(toy_course))
    source = toy_course.root / "source" / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.ipynb"
    source.write_text(source.read_text().replace("return 2 * x", "raise RuntimeError('broken reference')"))
    with pytest.raises(PipelineError, match=f"(?s){toy.ASSIGNMENT}.*reference.*fails its own test"):
        operations.autograde(toy_course, toy.ASSIGNMENT, jobs=2)
    assert not (toy_course.root / "autograded" / "student0").exists()  # no grade from a broken reference


def test_workers_started_for_a_run_that_fails_before_grading_are_stopped_with_their_pools(monkeypatch, toy_course):
    """The workers start before the submissions are taken in (they warm up meanwhile); when the
    run fails there, they end at once, each closing its kernel pool, and nothing is graded."""
    pools_before = set(Path(tempfile.gettempdir()).glob("course-pool-*"))
    tell = operations.say_how_tests_are_decided

    def fail_once_the_pools_are_up(*args):
        deadline = time.monotonic() + 60
        while (len({sock.parent for sock in Path(tempfile.gettempdir()).glob("course-pool-*/zygote.sock")}
                    - pools_before) < 2 and time.monotonic() < deadline):
            time.sleep(0.05)
        tell(*args)
        raise PipelineError("the run failed while its workers warmed up")

    monkeypatch.setattr(operations, "say_how_tests_are_decided", fail_once_the_pools_are_up)
    toy_course.submit_notebook("someone", toy.ASSIGNMENT, _reference(toy_course))
    with pytest.raises(PipelineError, match="warmed up"):
        operations.autograde(toy_course, toy.ASSIGNMENT, jobs=2)
    assert not _left_running(_grading_processes())  # the workers, their pools, their kernels
    assert set(Path(tempfile.gettempdir()).glob("course-pool-*")) == pools_before  # each pool closed
    assert not (toy_course.root / "autograded").exists()


def test_a_config_that_would_not_sandbox_the_kernels_starts_nothing(toy_course):
    with open(toy_course.root / "nbgrader_config.py", "a") as config:
        config.write("\nc.SandboxedExecute.kernel_name = 'python3'\n")
    toy_course.submit_notebook("someone", toy.ASSIGNMENT, _reference(toy_course))
    with pytest.raises(PipelineError, match="kernel"):
        operations.autograde(toy_course, toy.ASSIGNMENT, jobs=2)
    assert not _grading_processes() and not (toy_course.root / "autograded").exists()


def test_a_submission_nbgrader_gives_up_on_is_graded_as_an_empty_copy_with_the_reason(toy_course):
    # a lone surrogate is valid JSON and a valid notebook, but no kernel message can carry it
    answer = "def double(x):\n    return 2 * x\nMARK = 'SURROGATE'\n"
    text = nbformat.writes(with_answers(_reference(toy_course), {"double": answer})).replace("SURROGATE", "\\ud800")
    folder = toy_course.root / "submitted" / "broken" / toy.ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{toy.NOTEBOOK}.ipynb").write_text(text)
    toy_course.submit_notebook("control", toy.ASSIGNMENT, _reference(toy_course))

    (run,) = operations.autograde(toy_course, toy.ASSIGNMENT, jobs=2)
    assert run.failed == ["broken"] and sorted(run.graded) == ["broken", "control"]
    scores = toy_course.scores(toy.ASSIGNMENT)
    assert all(score == 0 for score, _ in scores["broken"].values())
    assert all(score == top for score, top in scores["control"].values())
    assert (folder / f"{toy.NOTEBOOK}.ipynb.unreadable").read_text() == text  # the submission is kept
    assert "could not run it (UnicodeEncodeError" in (folder / f"{toy.NOTEBOOK}.ipynb").read_text()


def _processes() -> dict[int, tuple[int, str]]:
    """``{pid: (parent pid, command line)}`` of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            found[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]),
                                      (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (ValueError, OSError):
            continue
    return found


def _descendants(pid: int, processes: dict) -> list[int]:
    def under(child):
        while child in processes and child > 1:
            child = processes[child][0]
            if child == pid:
                return True
        return False

    return [child for child in processes if under(child)]


def _grading_processes() -> list[int]:
    """This process's descendants but multiprocessing's resource tracker, which lives as long as it."""
    processes = _processes()
    return [pid for pid in _descendants(os.getpid(), processes) if "resource_tracker" not in processes[pid][1]]


def _running_kernels(worker: int, processes: dict) -> list[int]:
    """The kernels under a grading worker: forked by its pool's zygote, or started by ipykernel."""
    def kernel(pid):
        parent, command = processes[pid]
        forked = command == processes.get(parent, (0, ""))[1] and "python" in command.split(" ")[0]
        return "ipykernel" in command or ("course_zygote" in command and forked)

    return [pid for pid in _descendants(worker, processes) if kernel(pid)]


def _kill_worker_while_it_grades(course, times: int) -> tuple[list[int], list[int]]:
    """Kill a grading worker of this process's local cluster ``times`` times, each while a kernel
    of it runs: the workers killed, and the processes they had started."""
    killed, orphans, deadline = [], [], time.monotonic() + 120
    while len(killed) < times and time.monotonic() < deadline:
        processes = _processes()
        workers = [pid for pid, (parent, command) in processes.items()
                   if parent == os.getpid() and "spawn_main" in command and pid not in killed]
        busy = [pid for pid in workers if _running_kernels(pid, processes)]
        if busy:
            orphans += _descendants(busy[0], processes)
            os.kill(busy[0], signal.SIGKILL)
            killed.append(busy[0])
        time.sleep(0.05)
    return killed, orphans


def _left_running(pids: list[int], wait: float = 30.0) -> list[int]:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in pids):
        time.sleep(0.2)
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


def _graded_in_background(course, **options):
    outcome = {}

    def grade():
        try:
            outcome["runs"] = operations.autograde(course, toy.ASSIGNMENT, **options)
        except PipelineError as error:
            outcome["error"] = str(error)

    thread = threading.Thread(target=grade)
    thread.start()
    return thread, outcome


SLEEPER = "import time\ntime.sleep(3)\ndef double(x):\n    return 2 * x\n"


def test_a_submission_whose_worker_died_is_graded_once_more_by_another(toy_course):
    toy_course.submit_notebook("control", toy.ASSIGNMENT, _reference(toy_course))
    operations.autograde(toy_course, toy.ASSIGNMENT, jobs=1)  # the reference is observed, kernels not needed for it again
    toy_course.submit_notebook("sleeper", toy.ASSIGNMENT, with_answers(_reference(toy_course), {"double": SLEEPER}))

    thread, outcome = _graded_in_background(toy_course, jobs=1)
    killed, orphans = _kill_worker_while_it_grades(toy_course, times=1)
    thread.join(timeout=300)
    assert not thread.is_alive(), "grading hung after its worker died"
    assert len(killed) == 1 and "error" not in outcome, outcome
    assert orphans and not _left_running(orphans), "the killed worker's pool or kernel outlived it"
    (run,) = outcome["runs"]
    assert run.graded == ["sleeper"] and not run.failed
    assert all(score == top for score, top in toy_course.scores(toy.ASSIGNMENT)["sleeper"].values())


def test_a_submission_whose_worker_died_twice_is_reported_and_left_for_the_next_run(toy_course):
    toy_course.submit_notebook("sleeper", toy.ASSIGNMENT, with_answers(_reference(toy_course), {"double": SLEEPER}))
    toy_course.submit_notebook("control", toy.ASSIGNMENT, _reference(toy_course))
    operations.autograde(toy_course, toy.ASSIGNMENT, jobs=1)
    toy_course.submit_notebook("sleeper", toy.ASSIGNMENT,
                               with_answers(_reference(toy_course), {"double": SLEEPER + "# changed\n"}))

    thread, outcome = _graded_in_background(toy_course, jobs=1)
    killed, _ = _kill_worker_while_it_grades(toy_course, times=2)
    thread.join(timeout=300)
    assert not thread.is_alive(), "grading hung after its workers died"
    assert len(killed) == 2 and "error" in outcome, outcome
    assert re.search(r"could not be graded.*\n\s*sleeper/00_toy: the grading process died, twice", outcome["error"])
    (again,) = operations.autograde(toy_course, toy.ASSIGNMENT, jobs=1)  # not marked graded: retried
    assert again.graded == ["sleeper"] and again.skipped == ["control"]


def test_a_submission_too_large_to_carry_is_graded_as_an_empty_copy_that_says_why(toy_course):
    # a folder over the limit sends its notebooks alone; notebooks over it, an empty copy
    with open(toy_course.root / "nbgrader_config.py", "a") as config:
        config.write("\nc.PortableLimits.submission_bytes = 200_000\n")
    toy_course.submit_notebook("padded", toy.ASSIGNMENT, _reference(toy_course))
    (toy_course.root / "submitted" / "padded" / toy.ASSIGNMENT / "data.bin").write_bytes(b"\0" * 300_000)
    huge = _reference(toy_course)
    huge.cells.append(nbformat.v4.new_markdown_cell("x" * 300_000))
    toy_course.submit_notebook("huge", toy.ASSIGNMENT, huge)
    (run,) = operations.autograde(toy_course, toy.ASSIGNMENT, jobs=1)
    assert sorted(run.graded) == ["huge", "padded"] and run.failed == ["huge"]
    scores = toy_course.scores(toy.ASSIGNMENT)
    assert all(score == top for score, top in scores["padded"].values())
    assert not any(score for score, _ in scores["huge"].values())
    graded = (toy_course.root / "autograded" / "huge" / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.ipynb").read_text()
    assert "larger than a grading task may carry" in graded
