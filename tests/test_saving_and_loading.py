"""Chapter 5 writes files (checkpoints, and a payload that makes a folder when it is unpickled):
grading it must leave none behind, in the course or in the graded submissions' folders, whether
the kernel works in a private copy of its folder or in the folder itself."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest

from autograders.bank import BANKS, with_answers
from course import operations
from course.course_dir import Course, source_notebook

REPO = Path(__file__).resolve().parent.parent
CHAPTER = "05_saving_and_loading"
# A control: an answer that leaves a file in its working folder, as no probe may.
LITTER = '''
def save_checkpoint(path, model, optimizer, epoch):
    open("litter.txt", "w").write("left behind")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch}, path)
'''


def _files(folder: Path) -> set[str]:
    """Every file and folder below ``folder``, relative to it; the repository's environment, its
    history and Python's byte-code caches left out (grading writes none of them, pytest may)."""
    found = set()
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in (".git", ".venv", "__pycache__")]
        found.update(os.path.relpath(os.path.join(root, name), folder) for name in dirs + files)
    return found


@pytest.mark.parametrize("mode", ["copy", "bind"])
def test_grading_leaves_no_file_the_probes_wrote(mode, monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX_WORKDIR", mode)
    repo_before = _files(REPO)
    course = Course.scratch([CHAPTER])
    try:
        _grade_and_check(course, mode, repo_before)
    finally:
        shutil.rmtree(course.root, ignore_errors=True)


def _grade_and_check(course: Course, mode: str, repo_before: set[str]) -> None:
    course.nbgrader("generate_assignment", CHAPTER, "--force")
    source = nbformat.read(source_notebook(CHAPTER), as_version=4)
    payload_runs = (BANKS / CHAPTER / "load_checkpoint" / "weights_only_false.py").read_text()
    submissions = {
        "reference": source,
        "unpickler": with_answers(source, {"load_checkpoint": payload_runs}),
        "litterer": with_answers(source, {"save_checkpoint": LITTER}),
    }
    for student, nb in submissions.items():
        course.submit_notebook(student, CHAPTER, nb)
    submitted = {student: _files(course.root / "submitted" / student / CHAPTER) for student in submissions}
    course_before = {p.name for p in course.root.iterdir()}

    operations.autograde(course, CHAPTER, resume=False)

    scores = course.scores(CHAPTER)
    assert set(scores) == set(submissions), "every submission is graded"
    assert scores["unpickler"]["load_checkpoint_hidden_pickle"][0] == 0, "the payload's run is seen"
    for student in submissions:
        assert _files(course.root / "submitted" / student / CHAPTER) == submitted[student]
        graded = _files(course.root / "autograded" / student / CHAPTER)
        left = graded - submitted[student]
        if student == "litterer" and mode == "bind":
            # the folder itself was the kernel's: what a cell leaves there stays, so the check sees it
            assert left == {"litter.txt"}, left
        else:
            assert not left, f"{student} ({mode}): grading left {sorted(left)} in the graded folder"
    grading_own = {"autograded", "gradebook.db", ".grading_cache", ".grading_secret"}
    assert {p.name for p in course.root.iterdir()} - course_before <= grading_own, \
        "grading wrote something unexpected into the course folder"
    assert _files(REPO) == repo_before, "grading wrote into the repository"
