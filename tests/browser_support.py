"""What the browser tests share: Debian's Chromium as Playwright drives it, the JavaScript helpers
installed in a JupyterLab page, screenshots of each step, and the steps of nbgrader's
Assignments panel and Validate button (tests/test_browser.py, tests/test_hub.py, tests/test_hub_term.py)."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, expect

from course.course_dir import REPO

expect.set_options(timeout=60_000)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", *(["--no-sandbox"] if os.geteuid() == 0 else [])]


MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
POLL_MS = 200  # not every animation frame: the page would take CPU from the kernel it waits for


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
