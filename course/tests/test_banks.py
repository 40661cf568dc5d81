"""Every chapter's graders against its bank: the reference full, the stub 0, each known-wrong
answer loses points on its own exercise only, each correct variant keeps full marks."""
from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from rich.progress import Progress

from autograders.bank import answer_cells, bank_entries, sweep_seeds
from course.banks import grade_bank
from course.course_dir import assignments, source_notebook

import nbformat

CHAPTERS = assignments()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_bank_is_big_enough(chapter):
    exercises = answer_cells(nbformat.read(source_notebook(chapter), as_version=4))
    entries = bank_entries(chapter)
    for exercise in exercises:
        own = [e for e in entries if e.exercise == exercise]
        assert sum(not e.correct for e in own) >= 5, f"{exercise}: fewer than 5 known-wrong answers"
        assert sum(e.correct for e in own) >= 2, f"{exercise}: fewer than 2 correct variants"
        assert all(e.summary for e in own), f"{exercise}: every entry starts with a comment saying what it does"
    assert {e.exercise for e in entries} <= set(exercises), "bank entries for exercises the notebook lacks"


@pytest.fixture(scope="module")
def graded_banks():
    """Every chapter's bank, two chapters at a time: one chapter's serial steps (generating the
    release, observing the reference, the last notebook) leave a core idle that another fills."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {chapter: pool.submit(grade_bank, chapter, None, Progress(disable=True)) for chapter in CHAPTERS}
    return {chapter: future.result() for chapter, future in futures.items()}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_graders_decide_every_bank_entry_right(graded_banks, chapter):
    result = graded_banks[chapter]
    wrong = {student: found for student, found in result.problems.items() if found}
    assert not wrong, "\n".join(f"{student}: {'; '.join(found)}" for student, found in wrong.items())
    assert len(result.problems) == len(bank_entries(chapter)) + 2


# Grading the bank above meets one seed, its scratch course's; these meet many more.
SWEEP_SEEDS = random.Random(2026).sample(range(2**31 - 1), 16)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_what_each_bank_entry_scores_is_the_same_for_every_seed(chapter):
    found = sweep_seeds(source_notebook(chapter), bank_entries(chapter), SWEEP_SEEDS)
    wrong = {student: problems for student, problems in found.items() if problems}
    assert not wrong, "\n".join(f"{student}: {'; '.join(problems)}" for student, problems in wrong.items())
    assert len(found) == len(bank_entries(chapter)) + 1
