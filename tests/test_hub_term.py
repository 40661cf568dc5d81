"""The whole term on the course's JupyterHub, in Chromium: three students log in through the hub's
login page and work chapter 1 in their own JupyterLab (one right, one partly wrong, one hostile
answer that looks for the other students' homes and submissions and prints what it found), validate
and submit in the Assignments panel; the instructor collects and autogrades in the formgrader,
grades the free answer by hand in its grading view and releases feedback; each student fetches
theirs in the Assignments panel. Then a student submits again while the grader runs: the next
collect and autograde grade that submission, and nothing is lost. Screenshots in artifacts/hub/term/.
"""
from __future__ import annotations

import html
import json
import os
import threading
import time

import nbformat
import pytest
from playwright.sync_api import expect, sync_playwright

from course.course_dir import source_notebook
from hub_support import ARTIFACTS, CHAPTER, COURSE_ID, Browser, Hub, hidden_test_lines, log_in_page
from browser_support import CHROMIUM, CHROMIUM_ARGS, HELPERS, POLL_MS, Shots, answers_from_source, open_assignments, \
    validate

if os.geteuid() != 0 and not os.environ.get("CI"):
    pytest.skip("the hub creates Unix accounts and spawns servers as them: run as root", allow_module_level=True)

NAME = source_notebook(CHAPTER).name
PATH = f"{CHAPTER}/{NAME}"
STEM = NAME.removesuffix(".ipynb")
FREE_ANSWER = "python_list_question"
AUTOGRADE_TIMEOUT = 900_000  # ms: one submission of the chapter through the sandbox on two shared cores
WRONG_STACK = "def make_stack(block_factory, n):\n    return nn.Sequential(block_factory())\n"
WEAK_ANSWER = "A list is fine, PyTorch finds the blocks anyway."


def hostile_probe(hub: Hub, me: str) -> str:
    """Code that lists and reads what belongs to the other students and to the grader, and prints it."""
    targets = [str(hub.home(other)) for other in hub.students if other != me]
    targets += [str(hub.exchange / "inbound"), str(hub.folder / "home" / hub.grader / COURSE_ID / "submitted")]
    return f"""import glob as _glob, os as _os
_found = []
for _target in {targets!r}:
    try:
        _found += [_os.path.join(_target, _n) for _n in _os.listdir(_target)]
    except OSError:
        pass
    _found += _glob.glob(_os.path.join(_target, "**", "*.ipynb"), recursive=True)
for _path in list(_found):
    try:
        _found.append(open(_path).read()[:40])
    except OSError:
        pass
print("HOSTILE found:", sorted(set(_found)))
"""


@pytest.fixture(scope="module")
def hub():
    started = time.monotonic()
    hub = Hub(students=("ann", "bea", "cal"))
    try:
        hub.wait_ready()
        # The test reads the notebook's model as tests/test_browser.py does: the students' servers expose
        # JupyterLab's app object to the page (the hub itself does not).
        (hub.folder / "jupyter" / "student" / "jupyter_server_config.json").write_text(
            json.dumps({"LabApp": {"expose_app_in_browser": True}}))
        print(f"the hub was up in {time.monotonic() - started:.0f} s")
        yield hub
    finally:
        hub.remove()


def student_works(browser, hub: Hub, student: str, answers: dict[str, str], shown_as: str) -> str:
    """``student`` logs in, fetches the chapter in the Assignments panel, types ``answers``, validates
    and submits in the panel (screenshots in artifacts/hub/term/``shown_as``); the validation's verdict."""
    page = log_in_page(browser, hub, student)
    with Shots(page, ARTIFACTS / "term" / shown_as) as shots:
        expect(page.locator("#jp-MainMenu")).to_be_visible(timeout=240_000)
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.restored", polling=POLL_MS)
        page.evaluate("() => window.jupyterapp.restored.then(() => true)")
        page.evaluate(HELPERS)
        shots("logged-in")
        open_assignments(page)
        released = page.locator("#released_assignments_list > .list_item", has_text=CHAPTER)
        released.get_by_role("button", name="Fetch").click()
        fetched = page.locator("#fetched_assignments_list > .list_item", has_text=CHAPTER)
        expect(fetched).to_be_visible()
        assert (hub.home(student) / PATH).is_file(), "Fetch did not put the chapter in the student's home"
        shots("fetched")
        fetched.locator("a.assignment-notebooks-link").click()
        fetched.locator(".nested_list_item a", has_text=STEM).click()
        page.wait_for_function("(path) => window.courseTest.kernelIdle(path)", arg=PATH, timeout=240_000,
                               polling=POLL_MS)
        answered = page.evaluate("([path, answers]) => window.courseTest.setAnswers(path, answers)", [PATH, answers])
        assert sorted(grade_id for grade_id, _ in answered) == sorted(answers)
        page.evaluate("(path) => window.courseTest.panel(path).context.save()", PATH)
        shots("answered")
        verdict = validate(page, shots, "validated")
        page.evaluate("(path) => window.courseTest.close(path)", PATH)
        open_assignments(page)
        fetched.get_by_role("button", name="Submit").click()
        expect(page.locator("#submitted_assignments_list > .list_item", has_text=CHAPTER)).to_be_visible()
        shots("submitted")
    page.close()
    return verdict


def close_modal(page, text: str) -> None:
    """The formgrader's answer to a button: its dialog says ``text``; OK closes it."""
    modal = page.locator(".modal-dialog:visible")
    expect(modal).to_contain_text(text, timeout=AUTOGRADE_TIMEOUT)
    modal.get_by_role("button", name="OK").click()
    expect(modal).to_be_hidden()


def saves_a_grade(response) -> bool:
    return "/api/grade/" in response.url and response.request.method == "PUT"


def test_the_whole_term_in_a_browser(hub):
    ann, bea, cal = hub.students
    right = answers_from_source(CHAPTER)
    partly_wrong = dict(right, make_stack=WRONG_STACK, **{FREE_ANSWER: WEAK_ANSWER})
    hostile = dict(right, my_sequential=hostile_probe(hub, cal) + right["my_sequential"])
    service = f"{hub.url}/services/{COURSE_ID}/formgrader"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            roles = {ann: "1-right", bea: "2-partly-wrong", cal: "3-hostile"}
            verdicts = {student: student_works(browser, hub, student, answers, roles[student])
                        for student, answers in [(ann, right), (bea, partly_wrong), (cal, hostile)]}
            assert "validation-success" in verdicts[ann].split(), verdicts
            assert "validation-failed" in verdicts[bea].split(), verdicts
            for student in hub.students:
                assert len(list((hub.exchange / "inbound").glob(f"{student}+{CHAPTER}+*"))) == 1

            page = log_in_page(browser, hub, hub.instructor)
            with Shots(page, ARTIFACTS / "term" / "4-instructor") as shots:
                expect(page.locator("#jp-MainMenu")).to_be_visible(timeout=240_000)
                page.goto(service)
                row = page.locator("tr", has_text=CHAPTER)
                expect(row.get_by_text("released")).to_be_visible()
                shots("before-collect")
                row.locator(".collect a").click()
                close_modal(page, f"Successfully collected submissions of '{CHAPTER}'")
                page.goto(f"{service}/manage_submissions/{CHAPTER}")
                for student in hub.students:
                    expect(page.locator("tr", has_text=student)).to_be_visible()
                shots("collected")
                for student in hub.students:
                    page.locator("tr", has_text=student).locator(".autograde a").click()
                    close_modal(page, f"Successfully autograded '{CHAPTER}' for student '{student}'")
                page.reload()
                shots("autograded")

                scores = {row["student"]: row for row in
                          page.request.get(f"{service}/api/submissions/{CHAPTER}").json()}
                assert scores[ann]["code_score"] == scores[ann]["max_code_score"] > 0, scores[ann]
                assert 0 < scores[bea]["code_score"] < scores[bea]["max_code_score"], scores[bea]
                assert scores[cal]["needs_manual_grade"] and scores[ann]["needs_manual_grade"]

                notebooks = page.request.get(
                    f"{service}/api/submitted_notebooks/{CHAPTER}/{STEM}").json()
                for submitted in notebooks:
                    page.goto(f"{service}/submissions/{submitted['id']}/")
                    # the grading view fills its inputs from the gradebook once loaded: a score typed before is lost
                    page.wait_for_function("() => window.formgrader && formgrader.grades && formgrader.grades.loaded")
                    score = page.locator(f"input.score#{FREE_ANSWER}")
                    score.fill("1" if submitted["student"] == bea else "3")
                    with page.expect_response(saves_a_grade) as saved:
                        score.press("Tab")  # formgrader saves a score when its input changes
                    assert saved.value.ok, saved.value.status
                    shots(f"graded-by-hand-{submitted['student']}")
                scores = {row["student"]: row for row in
                          page.request.get(f"{service}/api/submissions/{CHAPTER}").json()}
                assert not any(row["needs_manual_grade"] for row in scores.values()), scores
                assert scores[bea]["score"] == scores[bea]["code_score"] + 1, scores[bea]

                page.goto(f"{service}/manage_submissions/{CHAPTER}")
                for student in hub.students:
                    page.locator("tr", has_text=student).locator(".generate-feedback a").click()
                    close_modal(page, "Success")
                    page.locator("tr", has_text=student).locator(".release-feedback a").click()
                    close_modal(page, "Success")
                shots("feedback-released")
            page.close()

            for student in hub.students:
                page = log_in_page(browser, hub, student)
                with Shots(page, ARTIFACTS / "term" / f"5-feedback-{roles[student]}") as shots:
                    expect(page.locator("#jp-MainMenu")).to_be_visible(timeout=240_000)
                    open_assignments(page)
                    submitted = page.locator("#submitted_assignments_list > .list_item", has_text=CHAPTER)
                    submitted.get_by_role("button", name="Fetch Feedback").click()
                    expect(submitted).to_contain_text("view feedback")
                    shots("feedback-fetched")
                    feedback = list(hub.home(student).glob(f"{CHAPTER}/feedback/*/{STEM}.html"))
                    assert len(feedback) == 1, feedback
                    page.goto(f"{hub.url}/user/{student}/files/{feedback[0].relative_to(hub.home(student))}")
                    total = f"Score: {round(float(scores[student]['score']), 2)} / " \
                            f"{round(float(scores[student]['max_score']), 2)}"
                    expect(page.get_by_text(total).first).to_be_visible()
                    shots("feedback")
                    shown = feedback[0].read_text()
                    leaked = [line for line in hidden_test_lines(CHAPTER)
                              if line in shown or html.escape(line) in shown]
                    assert not leaked and "HIDDEN TESTS" not in shown, \
                        f"{student}'s feedback shows hidden tests: {leaked[:3]}"
                    if student == cal:
                        assert "HOSTILE found: []" in shown, f"the hostile answer found something: " \
                            f"{shown[shown.find('HOSTILE found'):][:600]}"
                page.close()
        finally:
            browser.close()


def test_a_submission_while_the_grader_runs_is_graded_by_the_next_run(hub):
    """bea submits again while the formgrader autogrades her first submission: that grading finishes,
    and the next collect and autograde take and grade the new submission."""
    bea = hub.students[1]
    student = Browser(hub, bea)
    student.log_in()
    student.open_lab()
    right = nbformat.read(source_notebook(CHAPTER), as_version=4)
    instructor = Browser(hub, hub.instructor)
    instructor.log_in()
    service = f"/services/{COURSE_ID}/formgrader"
    instructor.session.get(f"{hub.url}{service}")

    formgrader = instructor.formgrader

    outcome = []
    grading = threading.Thread(target=lambda: outcome.append(formgrader(f"submission/{CHAPTER}/{bea}/autograde")))
    grading.start()
    time.sleep(2)
    assert grading.is_alive(), "the autograde ended before the student could submit during it"
    saved = student.server("PUT", f"api/contents/{PATH}", json={"type": "notebook", "content": right})
    assert saved.status_code in (200, 201), saved.text
    student.assignments("submit")
    grading.join(timeout=AUTOGRADE_TIMEOUT / 1000)
    assert not grading.is_alive() and outcome, "the autograde during the submission did not finish"
    assert len(list((hub.exchange / "inbound").glob(f"{bea}+{CHAPTER}+*"))) == 2, "a submission was lost"

    formgrader(f"assignment/{CHAPTER}/collect")
    latest = max((hub.exchange / "inbound").glob(f"{bea}+{CHAPTER}+*"), key=lambda p: p.name)
    course = hub.folder / "home" / hub.grader / COURSE_ID
    assert (course / "submitted" / bea / CHAPTER / "timestamp.txt").read_text() == \
        (latest / "timestamp.txt").read_text(), "collect did not take the submission made during the grading"
    formgrader(f"submission/{CHAPTER}/{bea}/autograde")
    scores = {row["student"]: row for row in
              instructor.session.get(f"{hub.url}{service}/api/submissions/{CHAPTER}").json()}
    assert scores[bea]["code_score"] == scores[bea]["max_code_score"] > 0, scores[bea]
    assert len(scores) == len(hub.students), f"a student's grade was lost: {scores}"
