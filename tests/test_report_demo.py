"""The instructor's report of a graded demo class: it names the mistakes each student was given
(the banks' wrong answers and the stubs the recipes put in), flags the pair that copied with
renamed variables and not two independent correct answers, and renders in headless Chromium
(screenshot in artifacts/report/; the README's docs/screenshots/report.png when missing or with
UPDATE_SCREENSHOTS=1)."""
from __future__ import annotations

import csv
import html
import os
import shutil

import pytest
from rich.console import Console

from browser_support import CHROMIUM, CHROMIUM_ARGS
from course.classroom import load_assignment
from course.course_dir import REPO, assignments
from course.demo import run_demo
from course.report import PER_TEST_CSV
from course.report.gather import gather
from course.report.page import exercise_views

CHAPTER = assignments()[0]
# Who got what in the first chapter (course/classroom.py's RECIPES): a known-wrong answer for an
# exercise shows among its failing verdicts; a stub, among those who did not answer it
WRONG = ["dan_typical_mistakes", "eve_other_mistakes"]  # a known-wrong bank entry for every exercise
STUBS = ["ben_untouched"]                               # the released stub for every exercise
HALF_STUBS = "cyd_partial"                              # the stub for the second half of the exercises
EMPTY = "gus_broken_json"                               # invalid JSON: graded as an empty copy
RIGHT = ["ada_perfect", "fay_different_but_right", "jon_writes_his_own"]
COPIER = "kim_copies_jon_renamed"
STUDENTS = [*WRONG, *STUBS, HALF_STUBS, EMPTY, *RIGHT, COPIER]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("demo") / "demo", [CHAPTER], STUDENTS, Console(quiet=True))


def test_the_report_names_the_mistakes_the_students_were_given(demo):
    exercises = load_assignment(CHAPTER, demo.course.root / "release").exercises
    stubbed = set(exercises[len(exercises) // 2:])
    chapter = next(c for c in gather(demo.course).chapters if c.name == CHAPTER)
    views = {view.name: view for view in exercise_views(chapter, lambda s: s.student)}
    assert list(views) == exercises
    page = html.unescape(demo.report.read_text())
    for exercise, view in views.items():
        named = {student for mistake in view.mistakes for student in mistake.students}
        assert named == set(WRONG), f"{exercise}: the report names {sorted(named)} for its mistakes"
        unanswered = {*STUBS, EMPTY, *([HALF_STUBS] if exercise in stubbed else [])}
        assert set(view.unanswered) == unanswered, f"{exercise}: {sorted(view.unanswered)} did not answer it"
        counts = [len(mistake.students) for mistake in view.mistakes]
        assert counts == sorted(counts, reverse=True), f"{exercise}: the verdicts are not ranked"
        for mistake in view.mistakes:
            assert mistake.message in page
            for student in mistake.students:
                if student != EMPTY:
                    feedback = (demo.course.root / "feedback" / student / CHAPTER).glob("*.html")
                    assert any(mistake.message.split("…")[0][:40] in html.unescape(f.read_text())
                               for f in feedback), f"{student} was not shown {mistake.message!r}"
    assert "NotJSONError" in page and EMPTY in page
    assert f'href="../feedback/{WRONG[0]}/{CHAPTER}/' in page
    # the copy was graded as the original it copied
    assert demo.scores[CHAPTER][COPIER] == demo.scores[CHAPTER][RIGHT[2]]


def test_the_copied_pair_is_flagged_and_independent_right_answers_are_not(demo):
    page = demo.report.read_text()
    assert f'data-pair="{RIGHT[2]} {COPIER}"' in page
    assert f'data-pair="{RIGHT[0]} {RIGHT[1]}"' not in page
    assert "reason to look, not proof" in page


def test_the_per_test_export_has_a_row_per_student_and_test_cell(demo):
    rows = list(csv.DictReader(open(demo.course.root / PER_TEST_CSV)))
    cells = {student: cells for student, cells in demo.course.scores(CHAPTER).items()}
    assert len(rows) == sum(len(c) for c in cells.values())
    for row in rows:
        score, top = cells[row["student_id"]][row["test"]]
        assert float(row["score"]) == score and float(row["max_score"]) == top
        assert row["verdict"] == ("passed" if score >= top else "failed")


@pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("CI"), reason="Debian's chromium is not installed")
def test_the_page_renders_offline_in_chromium(demo):
    from playwright.sync_api import sync_playwright

    artifacts = REPO / "artifacts" / "report"
    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 1500}, offline=True)
        page = context.new_page()
        page.goto(demo.report.as_uri())
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.getAttribute('src'), e.naturalWidth])")
        assert images and all(width > 0 for _, width in images), f"figures that did not load: {images}"
        assert page.locator(f'details.pair[data-pair="{RIGHT[2]} {COPIER}"]').count() == 1
        page.screenshot(path=artifacts / "report.png")
        browser.close()
    readme_shot = REPO / "docs" / "screenshots" / "report.png"
    if not readme_shot.exists() or os.environ.get("UPDATE_SCREENSHOTS"):
        shutil.copy(artifacts / "report.png", readme_shot)
