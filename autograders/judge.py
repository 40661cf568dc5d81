"""The judge: decides every test cell from probe reports, in nbgrader's own process.

Student code runs only in the sandboxed kernel. Its test cells leave probe reports (JSON data)
among their outputs; here, in a process that never executes student code, each report is
compared with the reference solution's report for the same cell and seed, using the
reference's rules and messages. The cell's outputs are then replaced by the verdict alone:
nbgrader's ``SaveAutoGrades`` scores a cell with an error output 0 and a clean one full marks,
and the feedback shows the verdict's message, never the probe's code, values or traceback.
"""
from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass
from pathlib import Path

from course_probe import decide
from nbformat.v4 import new_output
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import determine_grade
from traitlets import CaselessStrEnum

from .execute import GRADER_ERRORS, SANDBOX_KERNEL, SandboxedExecute, error_output
from .hidden import is_test_cell, split_hidden
from .reference import PLAIN, grading_seed, reference_reports
from .reports import cell_reports

# Names a verdict may give for an error: Python's own exceptions and the grader's. Any other
# name, like any message, was chosen by code that ran beside the hidden tests, and is not shown.
ERROR_NAMES = frozenset(name for name, value in vars(builtins).items()
                        if isinstance(value, type) and issubclass(value, BaseException)) | set(GRADER_ERRORS)
MAX_MESSAGE = 2000  # longer is no public check's message (and would make the match slow)


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str
    partial: float | None = None  # points of a partly passed plain test cell

    def outputs(self):
        if self.partial is not None:  # nbgrader scores a numeric result as that many points
            return [new_output("stream", name="stdout", text=f"Partly passed: {self.message}\n"),
                    new_output("execute_result", data={"text/plain": repr(self.partial)}, execution_count=None)]
        if self.passed:
            return [new_output("stream", name="stdout", text=f"Passed: {self.message}\n")]
        return [error_output("TestFailed", self.message)]


DECIDED_INSIDE = "decided in your kernel, as nbgrader decides it"


def judge_plain_cell(cell) -> Verdict:
    """Decide a plain test cell (one that asserts in the student's kernel) as nbgrader scores
    it: an error or anything on stderr 0, a number that many points, else all of them. The
    message names no text of the student's process."""
    points, top = determine_grade(cell)
    if points >= top:
        return Verdict(True, f"this test's checks held ({DECIDED_INSIDE})")
    if points > 0:
        return Verdict(False, f"{points:g} of {top:g} points ({DECIDED_INSIDE})", partial=points)
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if errors:
        return Verdict(False, f"this test failed: {error_name(errors[0].get('ename'))} ({DECIDED_INSIDE})")
    return Verdict(False, f"this test failed: it wrote to stderr ({DECIDED_INSIDE})")


# how a test cell's verdict begins where the cell raised instead of reporting (a limit the grader
# hit names itself: the report's grading health reads it)
COULD_NOT_RUN = "this test could not run"


def error_name(name) -> str:
    """``name`` if it is one of ``ERROR_NAMES``, else a phrase that says nothing of it."""
    return name if isinstance(name, str) and name in ERROR_NAMES else "an exception"


def _message_pattern(node) -> re.Pattern | None:
    """A pattern for the text of an assertion's message, and its constant parts: a string
    literal, or an f-string whose values may be anything."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.compile(re.escape(node.value), re.DOTALL)
    if isinstance(node, ast.JoinedStr):
        parts = [re.escape(part.value) if isinstance(part, ast.Constant) else "(?:.*?)" for part in node.values]
        return re.compile("".join(parts), re.DOTALL)
    return None


def public_check_message(visible_source: str, evalue) -> str:
    """What a student is told of a failed public check: the message of the assertion in the
    cell's visible code that ``evalue`` is the text of, with the values an f-string put in it
    shown as "…". An ``evalue`` that is no assertion's message of this cell shows nothing:
    it was written in the student's kernel, after the hidden tests were sent there."""
    try:
        tree = ast.parse(visible_source)
    except (SyntaxError, ValueError):
        tree = None
    if tree is not None and isinstance(evalue, str) and len(evalue) <= MAX_MESSAGE:
        for node in ast.walk(tree):
            pattern = _message_pattern(node.msg) if isinstance(node, ast.Assert) and node.msg else None
            if pattern is not None and pattern.fullmatch(evalue):
                if isinstance(node.msg, ast.Constant):
                    return node.msg.value
                return "".join(part.value if isinstance(part, ast.Constant) else "…" for part in node.msg.values)
    return "run this cell in your notebook to see which"


def judge_cell(cell, reference: dict) -> Verdict:
    """Decide one executed test cell against the reference's report for it. The verdict's
    message is made of the reference's words and the cell's visible code alone."""
    reports = cell_reports(cell)
    rules = reference["expectations"]
    topic = rules[0]["why"] if rules else "this test"
    if len(reports) > 1:
        return Verdict(False, "this test reported more than once; answers must not print test reports")
    if not reports:
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors and errors[0].get("ename") == "AssertionError":
            visible, _ = split_hidden(cell.source)
            return Verdict(False, f"a public check failed: {public_check_message(visible, errors[0].get('evalue'))}")
        reason = error_name(errors[0].get("ename")) if errors else "no result"
        return Verdict(False, f"{COULD_NOT_RUN} ({reason}). It is about: {topic}")
    report = reports[0]
    if report.get("error"):
        return Verdict(False, f"your code raised {error_name(report['error'])} while being tested; "
                              f"it is about: {topic}")
    student = [e for e in report.get("expectations", []) if isinstance(e, dict) and "name" in e]
    values = {}
    for expectation in student:
        values.setdefault(str(expectation["name"]), expectation.get("value"))
    for rule in rules:
        if rule["name"] not in values or not decide(rule, values[rule["name"]], values):
            return Verdict(False, rule["why"])
    return Verdict(True, f"{len(rules)} checks")


def _course(config):
    return CourseDirectory(config=config)


def _source_notebook(coursedir, resources) -> Path:
    info = resources["nbgrader"]
    folder = coursedir.format_path(coursedir.source_directory, ".", info["assignment"])
    return Path(folder) / f"{info['notebook']}.ipynb"


class ChooseProbeSeed(NbGraderPreprocessor):
    """Before execution: choose the assignment's grading seed for the kernel (``SandboxedExecute``)."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        resources["course_probe_seed"] = grading_seed(Path(_course(self.config).root), info["assignment"],
                                                      info["notebook"])
        return nb, resources


class JudgeProbeReports(NbGraderPreprocessor):
    """After execution: replace every test cell's outputs by the judge's verdict."""

    plain_tests = CaselessStrEnum(
        ("grade", "refuse"), "grade",
        help="What to do with a plain test cell, one written the ordinary nbgrader way (it asserts, "
        "or shows a number of points) rather than with probes: 'grade' it as nbgrader does, from what "
        "it showed in the student's kernel, where a submission can forge the verdict; or 'refuse' "
        "to grade a notebook that has one.").tag(config=True)

    def preprocess(self, nb, resources):
        executor = self.config.get("SandboxedExecute", {}).get("kernel_name", SANDBOX_KERNEL)
        if executor != SANDBOX_KERNEL:
            raise RuntimeError(f"refusing to judge: submissions must run in the {SANDBOX_KERNEL!r} kernel")
        coursedir = _course(self.config)
        info = resources["nbgrader"]
        seed = grading_seed(Path(coursedir.root), info["assignment"], info["notebook"])
        reference = reference_reports(Path(coursedir.root), _source_notebook(coursedir, resources), seed,
                                      SandboxedExecute(config=self.config).preprocess)
        for cell in nb.cells:
            if not is_test_cell(cell):
                continue
            grade_id = cell.metadata.nbgrader["grade_id"]
            if grade_id not in reference:
                verdict = Verdict(False, "this test is not part of the assignment")
            elif reference[grade_id] == PLAIN:
                if self.plain_tests == "refuse":
                    raise RuntimeError(f"refusing to judge: test cell {grade_id!r} asserts in the student's kernel "
                                       "and c.JudgeProbeReports.plain_tests = 'refuse'")
                verdict = judge_plain_cell(cell)
            else:
                verdict = judge_cell(cell, reference[grade_id])
            cell.outputs = verdict.outputs()
        return nb, resources
