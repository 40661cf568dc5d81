"""The student's path in a real browser, for every chapter: JupyterLab as `make lab STUDENT=…` starts it,
nbgrader's Assignments panel (fetch, submit), its Validate button, and the instructor's formgrader.

Headless Debian Chromium (`/usr/bin/chromium`, installed by `make setup` and `.ci/run` as root) driven
by Playwright. One scratch course, one student JupyterLab, one instructor JupyterLab and one browser
serve every chapter. Each step leaves a screenshot in `artifacts/browser/<chapter>/NN-step.png`; the
README's two screenshots in `docs/screenshots/` are written when missing or with UPDATE_SCREENSHOTS=1.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from playwright.sync_api import expect, sync_playwright

from browser_support import (CHROMIUM, CHROMIUM_ARGS, HELPERS, POLL_MS, Shots, answers_from_source, open_assignments,
                             run_all, show, validate)
from course import labs, operations
from course.course_dir import REPO, Course, assignments
from hub_support import hidden_test_lines
from serve_support import Service


CHAPTERS = assignments()
STUDENT = "alice"
ARTIFACTS = REPO / "artifacts" / "browser"
SCREENSHOTS = REPO / "docs" / "screenshots"
if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip("Debian's chromium is not installed (`make setup` installs it as root)", allow_module_level=True)

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `jupyter lab` started as `course.labs` says, on a free port with a known token."""

    def __init__(self, lab: labs.Lab, name: str, state: Path):
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.log = ARTIFACTS / f"{name}-jupyterlab.log"
        argv = lab.argv + ["--no-browser", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
                           f"--IdentityProvider.token={self.token}", "--LabApp.expose_app_in_browser=True",
                           f"--LabApp.user_settings_dir={state / 'settings'}",
                           f"--LabApp.workspaces_dir={state / 'workspaces'}"]
        env = dict(lab.env, JUPYTER_RUNTIME_DIR=str(state / "runtime"))
        with self.log.open("w") as log:
            self.process = subprocess.Popen(argv, cwd=lab.folder, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"jupyter lab exited ({self.process.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"jupyter lab did not answer in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:  # kernels it left behind share its process group
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


def for_readme(shot: Path, name: str) -> None:
    """A small copy of ``shot`` for the README, when it is missing or UPDATE_SCREENSHOTS=1."""
    target = SCREENSHOTS / name
    if target.exists() and not os.environ.get("UPDATE_SCREENSHOTS"):
        return
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    Image.open(shot).convert("RGB").quantize(colors=64).save(target, optimize=True)


@pytest.fixture(scope="module")
def course():
    """A scratch course with the repository's config, sources and release, released to its exchange,
    a student's and the instructor's JupyterLab running on it, and its grading service (make serve)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    scratch = Course.scratch(CHAPTERS)
    for chapter in CHAPTERS:
        if (REPO / "release" / chapter).is_dir():
            shutil.copytree(REPO / "release" / chapter, scratch.root / "release" / chapter)
    servers = {"student": Server(labs.student_lab(scratch, STUDENT), "student", scratch.root / ".lab-student"),
               "instructor": Server(labs.instructor_lab(scratch), "instructor", scratch.root / ".lab-instructor")}
    service = Service(scratch, ARTIFACTS / "grading-service.log")
    try:
        operations.release(scratch, None)  # while the servers start
        service.start()
        for server in servers.values():
            server.wait_ready()
        yield scratch, servers, service
    finally:
        service.stop()
        for server in servers.values():
            server.stop()
        shutil.rmtree(scratch.root, ignore_errors=True)


@pytest.fixture(scope="module")
def page():
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make setup` as root, or apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(60_000)
        yield page
        browser.close()


@pytest.fixture(scope="module")
def student_page(course, page):
    """The student's JupyterLab, loaded once for every chapter."""
    _, servers, _ = course
    page.goto(servers["student"].url("lab"))
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.restored")
    page.evaluate("() => window.jupyterapp.restored.then(() => true)")
    page.evaluate(HELPERS)
    return page


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_fetches_runs_validates_and_submits(course, student_page, chapter):
    scratch, _, _ = course
    page = student_page
    with Shots(page, ARTIFACTS / chapter) as shots:
        name = scratch.notebook_name(chapter)
        path = f"{chapter}/{name}.ipynb"
        folder = scratch.root / "students" / STUDENT

        open_assignments(page)
        released = page.locator("#released_assignments_list > .list_item", has_text=chapter)
        expect(released).to_be_visible()
        shots("assignments")
        released.get_by_role("button", name="Fetch").click()
        fetched = page.locator("#fetched_assignments_list > .list_item", has_text=chapter)
        expect(fetched).to_be_visible()
        assert (folder / path).is_file(), "Fetch did not put the notebook in the student's folder"
        shots("fetched")

        fetched.locator("a.assignment-notebooks-link").click()
        fetched.locator(".nested_list_item a", has_text=name).click()
        page.wait_for_function("(path) => window.courseTest.kernelIdle(path)", arg=path, timeout=120_000,
                               polling=POLL_MS)
        shots("notebook")

        released_nb = nbformat.read(folder / path, as_version=4)
        checks = sum("Public checks passed" in cell.source for cell in released_nb.cells)
        assert checks, f"{path} has no public checks"
        outputs = run_all(page, path)  # the fresh notebook, run to its last cell
        failed = [o for o in outputs if o["type"] == "error"]
        assert all("Public checks" in o["cell"] and o["text"].startswith(("NotImplementedError", "AssertionError"))
                   for o in failed), f"the stub should fail in the public checks only: {failed}"
        assert not any("Public checks passed" in o["text"] for o in outputs)
        assert len({o["index"] for o in failed}) == checks and all(o["text"].startswith("NotImplementedError")
                                                                   for o in failed), \
            f"each of the {checks} public checks must report its unfinished exercise: {failed}"
        last = page.evaluate("(path) => window.courseTest.progress(path).last", path)
        assert last > max(o["index"] for o in failed), "the lesson's last code cell comes after every exercise"
        show(page, path, last, "end")
        expect(page.locator(".jp-NotebookPanel:visible .jp-Cell.jp-mod-active .jp-InputPrompt")).not_to_have_text(
            re.compile(r"\[\s*[*]?\s*\]"))  # the last cell ran: its prompt shows a count, not [ ] or [*]
        shots("ran-to-the-end")
        show(page, path, failed[0]["index"], "end")
        expect(page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output", has_text=failed[0]["text"]).first) \
            .to_be_in_viewport()
        shots("stubs-fail")
        assert "validation-failed" in validate(page, shots, "validate-fails").split()
        answers = answers_from_source(chapter)
        answered = page.evaluate("([path, answers]) => window.courseTest.setAnswers(path, answers)", [path, answers])
        assert sorted(grade_id for grade_id, _ in answered) == sorted(answers)
        show(page, path, answered[0][1], "start")
        shots("answers")

        outputs = run_all(page, path)
        assert sum("Public checks passed" in o["text"] for o in outputs) == checks, "a public check did not pass"
        assert not [o["text"] for o in outputs if o["type"] == "error"], "the reference answers fail in the browser"
        show(page, path, next(o["index"] for o in outputs if "Public checks passed" in o["text"]), "end")
        expect(page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output", has_text="Public checks passed").first) \
            .to_be_in_viewport()
        shots("checks-pass")
        assert "validation-success" in validate(page, shots, "validate-passes").split()
        page.evaluate("(path) => window.courseTest.close(path)", path)

        open_assignments(page)
        fetched.get_by_role("button", name="Submit").click()
        expect(page.locator("#submitted_assignments_list > .list_item", has_text=chapter)).to_be_visible()
        submitted = shots("submitted")
        if chapter == CHAPTERS[0]:
            for_readme(submitted, "student-lab.png")

        inbound = list((scratch.root / "exchange").glob(f"*/inbound/{STUDENT}+{chapter}+*"))
        assert len(inbound) == 1, f"expected one submission of {chapter} by {STUDENT} in the exchange, found {inbound}"
        handed_in = nbformat.read(inbound[0] / f"{name}.ipynb", as_version=4)
        sources = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell.source for cell in handed_in.cells}
        assert all(sources.get(grade_id) == text for grade_id, text in answers.items()), \
            "the submission in the exchange is not the notebook with the answers"


def test_fetch_feedback_shows_the_verdicts_the_service_released(course, student_page):
    """Each Submit above was graded as it arrived: the student's Assignments panel offers the
    feedback, Fetch Feedback brings it, and it shows the verdicts and none of the hidden tests."""
    scratch, servers, service = course
    page, chapter = student_page, CHAPTERS[0]
    service.wait_for(f"graded {STUDENT}/{chapter}", 600)
    with Shots(page, ARTIFACTS / "grade-on-submit") as shots:
        open_assignments(page)
        page.locator("#refresh_assignments_list").click()
        row = page.locator("#submitted_assignments_list > .list_item", has_text=chapter)
        expect(row.get_by_text("(feedback available to fetch)")).to_be_visible()
        shots("feedback-available")
        row.get_by_role("button", name="Fetch Feedback").click()
        expect(row.get_by_text("(view feedback)")).to_be_visible()
        shots("feedback-fetched")
        (fetched,) = (scratch.root / "students" / STUDENT / chapter / "feedback").glob("*/*.html")
        feedback = page.context.browser.new_page()
        try:
            feedback.goto(servers["student"].url(f"files/{fetched.relative_to(scratch.root / 'students' / STUDENT)}"))
            text = feedback.locator("body").inner_text()
            expect(feedback.get_by_text("Passed:").first).to_be_visible()
            feedback.screenshot(path=ARTIFACTS / "grade-on-submit" / "feedback.png")
        finally:
            feedback.close()
    with Gradebook(scratch.db_url()) as gradebook:
        tests = sum(cell.max_score for notebook in gradebook.find_assignment(chapter).notebooks
                    for cell in notebook.grade_cells if cell.cell_type == "code")
        graded = gradebook.find_submission(chapter, STUDENT).score
    assert graded == tests, f"the reference answers scored {graded} of the tests' {tests} points"
    assert f"Score: {graded:.1f}" in text and "TestFailed" not in text, "the feedback does not show the verdicts"
    leaked = [line for line in hidden_test_lines(chapter) if line in text]
    assert not leaked, f"the feedback shows hidden test code: {leaked[:3]}"


def test_the_students_lab_shows_only_their_folder(course):
    """No source/, gradebook or exchange in reach of the student's JupyterLab, and no formgrader."""
    _, servers, _ = course
    student = servers["student"]
    with urllib.request.urlopen(student.url("api/contents")) as response:
        names = {item["name"] for item in json.load(response)["content"]}
    assert "nbgrader_config.py" in names and not names & {"source", "release", "gradebook.db", "exchange"}
    for path in ["api/contents/../source", "api/contents/..%2Fgradebook.db", "formgrader"]:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(student.url(path))
        assert refused.value.code in (400, 403, 404), f"{path} answered {refused.value.code}"


def test_formgrader_lists_the_assignments(course, page):
    _, servers, _ = course
    with Shots(page, ARTIFACTS / "formgrader") as shots:
        page.goto(servers["instructor"].url("formgrader"))
        for chapter in CHAPTERS:
            row = page.locator("tr", has_text=chapter)
            expect(row).to_be_visible()
            expect(row.get_by_text("released")).to_be_visible()
        for_readme(shots("assignments"), "formgrader.png")
