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
from playwright.sync_api import Page, expect, sync_playwright

from course import labs, operations
from course.course_dir import REPO, Course, assignments


CHAPTERS = assignments()
STUDENT = "alice"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", *(["--no-sandbox"] if os.geteuid() == 0 else [])]
ARTIFACTS = REPO / "artifacts" / "browser"
SCREENSHOTS = REPO / "docs" / "screenshots"
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
POLL_MS = 200  # not every animation frame: the page would take CPU from the kernel it waits for

expect.set_options(timeout=60_000)
if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip("Debian's chromium is not installed (`make setup` installs it as root)", allow_module_level=True)

# Installed once the lab has loaded; every call names the notebook by its path.
HELPERS = """() => {
  const app = window.jupyterapp;
  window.courseTest = {
    panel(path) {
      for (const w of app.shell.widgets('main')) { if (w.context && w.context.path === path) return w; }
      return null;
    },
    kernelIdle(path) {
      const p = this.panel(path), k = p && p.sessionContext.session && p.sessionContext.session.kernel;
      return !!k && k.status === 'idle';
    },
    outputs(path) {  // [{cell: its source, type, text}] of every output of the notebook's model
      const cells = this.panel(path).content.model.cells, found = [];
      for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i);
        if (cell.type !== 'code') continue;
        for (const o of cell.outputs.toJSON()) {
          const text = o.output_type === 'error' ? `${o.ename}: ${o.evalue}`
            : [].concat(o.text || (o.data && o.data['text/plain']) || '').join('');
          found.push({index: i, cell: cell.sharedModel.getSource(), type: o.output_type, text});
        }
      }
      return found;
    },
    progress(path) {  // execution counts of the code cells: the lowest (-1 for a cell not run) and the highest
      const cells = this.panel(path).content.model.cells;
      let lowest = Infinity, highest = 0, code = 0, last = -1;
      for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i);
        if (cell.type !== 'code') continue;
        const count = cell.executionCount == null ? -1 : cell.executionCount;
        code++; last = i;
        lowest = Math.min(lowest, count);
        highest = Math.max(highest, count);
      }
      return {code, lowest, highest, last};
    },
    runAll() {
      this.running = true;
      Promise.resolve(app.commands.execute('runmenu:run-all')).finally(() => { this.running = false; });
    },
    setAnswers(path, answers) {  // the answer cells' text, through the model (the editor would indent typing)
      const cells = this.panel(path).content.model.cells, done = [];
      for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i), meta = cell.getMetadata('nbgrader');
        if (meta && meta.solution && meta.grade_id in answers) {
          cell.sharedModel.setSource(answers[meta.grade_id]);
          done.push([meta.grade_id, i]);
        }
      }
      return done;
    },
    async show(path, index, align) {  // scroll cell ``index`` into view, marked as the active cell
      const notebook = this.panel(path).content;
      notebook.activeCellIndex = index;
      await notebook.scrollToItem(index, align);
      await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
    },
    async close(path) {
      const p = this.panel(path);
      await p.context.save();
      await p.sessionContext.shutdown();
      p.close();
    },
  };
}"""


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


class Shots:
    """Numbered screenshots of one chapter's steps, and when each was taken (steps.txt)."""

    def __init__(self, page: Page, folder: Path):
        self.page, self.folder, self.count, self.start = page, folder, 0, time.monotonic()
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    def __enter__(self) -> "Shots":
        return self

    def __exit__(self, error_type, error, traceback) -> None:
        if error_type is not None:  # the screen as it was when the step failed
            self.page.screenshot(path=self.folder / "failed.png")

    def __call__(self, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        self.page.screenshot(path=path)
        with (self.folder / "steps.txt").open("a") as log:
            log.write(f"{time.monotonic() - self.start:6.1f} s  {path.name}\n")
        return path


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
    and a student's and the instructor's JupyterLab running on it."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    scratch = Course.scratch(CHAPTERS)
    for chapter in CHAPTERS:
        if (REPO / "release" / chapter).is_dir():
            shutil.copytree(REPO / "release" / chapter, scratch.root / "release" / chapter)
    servers = {"student": Server(labs.student_lab(scratch, STUDENT), "student", scratch.root / ".lab-student"),
               "instructor": Server(labs.instructor_lab(scratch), "instructor", scratch.root / ".lab-instructor")}
    try:
        operations.release(scratch, None)  # while the servers start
        for server in servers.values():
            server.wait_ready()
        yield scratch, servers
    finally:
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
    _, servers = course
    page.goto(servers["student"].url("lab"))
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.restored")
    page.evaluate("() => window.jupyterapp.restored.then(() => true)")
    page.evaluate(HELPERS)
    return page


def answers_from_source(chapter: str) -> dict[str, str]:
    """The reference answers of the chapter's answer cells, as a student would type them."""
    source = next((REPO / "source" / chapter).glob("*.ipynb"))
    answers = {}
    for cell in nbformat.read(source, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            answers[meta["grade_id"]] = "\n".join(line for line in cell.source.splitlines()
                                                  if line.strip() not in MARKERS)
    return answers


def open_assignments(page: Page) -> None:
    page.locator("#jp-MainMenu").get_by_text("Nbgrader", exact=True).click()
    page.locator(".lm-Menu").get_by_text("Assignment List", exact=True).click()
    expect(page.locator("#released_assignments_list_loading")).to_be_hidden()


def run_all(page: Page, path: str, timeout: float = 180_000) -> list[dict]:
    """Run all cells as the Run menu's Run All does; wait until every code cell has run in this run
    (a failing cell stops Run All unless it is tagged ``raises-exception``) and the kernel is idle."""
    before = page.evaluate("(path) => window.courseTest.progress(path).highest", path)
    page.evaluate("() => window.courseTest.runAll()")
    try:
        page.wait_for_function(
            "([path, before]) => window.courseTest.progress(path).lowest > before"
            " && window.courseTest.kernelIdle(path)",
            arg=[path, before], timeout=timeout, polling=POLL_MS)
    except Exception:
        progress = page.evaluate("(path) => window.courseTest.progress(path)", path)
        outputs = page.evaluate("(path) => window.courseTest.outputs(path)", path)
        pytest.fail(f"Run All did not run every cell ({progress}); outputs: {[o['text'][:200] for o in outputs]}")
    return page.evaluate("(path) => window.courseTest.outputs(path)", path)


def show(page: Page, path: str, index: int, align: str) -> None:
    page.evaluate("([path, index, align]) => window.courseTest.show(path, index, align)", [path, index, align])


def validate(page: Page, shots: Shots, step: str) -> str:
    """Press the notebook's Validate button; the result's class (validation-failed, -success …)."""
    page.locator(".jp-NotebookPanel:visible .jp-Toolbar").get_by_text("Validate", exact=True).click()
    message = page.locator("#validation-message")
    expect(message).to_be_visible(timeout=180_000)
    shots(step)
    verdict = message.get_attribute("class")
    page.locator(".jp-Dialog").get_by_role("button", name="Ok").click()
    expect(message).to_be_hidden()
    return verdict


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_fetches_runs_validates_and_submits(course, student_page, chapter):
    scratch, _ = course
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


def test_the_students_lab_shows_only_their_folder(course):
    """No source/, gradebook or exchange in reach of the student's JupyterLab, and no formgrader."""
    _, servers = course
    student = servers["student"]
    with urllib.request.urlopen(student.url("api/contents")) as response:
        names = {item["name"] for item in json.load(response)["content"]}
    assert "nbgrader_config.py" in names and not names & {"source", "release", "gradebook.db", "exchange"}
    for path in ["api/contents/../source", "api/contents/..%2Fgradebook.db", "formgrader"]:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(student.url(path))
        assert refused.value.code in (400, 403, 404), f"{path} answered {refused.value.code}"


def test_formgrader_lists_the_assignments(course, page):
    _, servers = course
    with Shots(page, ARTIFACTS / "formgrader") as shots:
        page.goto(servers["instructor"].url("formgrader"))
        for chapter in CHAPTERS:
            row = page.locator("tr", has_text=chapter)
            expect(row).to_be_visible()
            expect(row.get_by_text("released")).to_be_visible()
        for_readme(shots("assignments"), "formgrader.png")
