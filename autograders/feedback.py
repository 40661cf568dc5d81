"""Feedback that teaches without leaking: hidden tests never reach a student-visible file."""
from __future__ import annotations

from course_probe import MIME_TYPE
from nbformat.v4 import new_markdown_cell, new_output
from nbgrader.preprocessors import NbGraderPreprocessor

from .execute import GRADER_ERRORS, error_output
from .hidden import hidden_code_from, is_test_cell, split_hidden

HELD_HIDDEN = "held_hidden_tests"  # cell metadata (under "course") of a cell whose hidden tests were removed
MIN_QUOTED_LINE = 16  # shorter lines ("import torch", "return [") are too common to be a leak
REDACTED = "[output removed: it quoted the grader's hidden tests]\n"
OUTPUTS_WITHHELD = (
    "**From here on, this feedback shows your code and each test's verdict, but not your cells' "
    "outputs.** They were made after the grader's hidden tests had entered your kernel, where "
    "code could read them. Run the notebook yourself to see them.")


def _texts(output) -> list[str]:
    texts = [output.get("text", ""), output.get("evalue", "")]
    texts += [t if isinstance(t, str) else str(t) for t in output.get("traceback", [])]
    for value in output.get("data", {}).values():
        texts.append(value if isinstance(value, str) else str(value))
    return [t if isinstance(t, str) else "".join(t) for t in texts]


def _grader_errors(outputs) -> list:
    """The first error the grader recorded among ``outputs`` (the kernel died, hit the memory
    limit, timed out), made afresh from its name: the student's code may have raised an error of
    the same name, whose message and traceback are its own."""
    names = [o.get("ename") for o in outputs if o.get("output_type") == "error" and o.get("ename") in GRADER_ERRORS]
    return [error_output(names[0])] if names else []


class HideHiddenTests(NbGraderPreprocessor):
    """What the student sees of a graded notebook: nothing made after hidden code was readable.

    From the first cell that may hold hidden code on (``hidden.hidden_code_from``), a cell's
    outputs were made by a kernel in which the hidden tests could be read, and a submission can
    carry them out in any encoding (base64, compressed, split over cells). Those cells keep
    their code but lose their outputs, execution counts and timings, all but an error that the
    grader recorded (the kernel died or went over its memory limit: its name alone, with the
    grader's own message); the test cells keep only their outputs, which the judge wrote from
    the reference alone. The grading kernel never receives a cell's hidden code before that
    cell runs (``SandboxedExecute``), and display updates reach only the cell that makes them,
    so the outputs of the cells before that point are the student's own. No widget state is
    kept either: any cell could have written it.

    As a second line, every output that is kept and quotes a line of hidden test code is
    replaced by a notice, and stray probe reports are dropped. Test cells keep their public
    part only.
    """

    def preprocess(self, nb, resources):
        start = hidden_code_from(nb.cells)
        hidden_lines, visible_lines = set(), set()
        for cell in nb.cells:
            visible, hidden = split_hidden(cell.source)
            visible_lines.update(line.strip() for line in visible.splitlines())
            for region in hidden:
                hidden_lines.update(line.strip() for line in region.splitlines())
            # a comment alone above the hidden part (the release's "Hidden tests run in this
            # cell ...") says what the notice below says
            visible_code = [line for line in visible.splitlines()
                            if line.strip() and not line.lstrip().startswith("#")]
            if hidden and visible_code:
                cell.source = visible.rstrip() + "\n# (hidden tests run here when grading)"
            elif hidden:
                cell.source = "# Hidden tests: they run when grading; your feedback shows their result below."
            if hidden:
                cell.metadata.setdefault("course", {})[HELD_HIDDEN] = True
        secrets = {line for line in hidden_lines - visible_lines
                   if len(line) >= MIN_QUOTED_LINE and not line.startswith("###")}
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if index >= start:
                cell.execution_count = None
                cell.metadata.pop("execution", None)
                if not is_test_cell(cell):
                    cell.outputs = _grader_errors(cell.outputs)
                    continue
            kept = []
            for output in cell.get("outputs", []):
                if MIME_TYPE in output.get("data", {}):
                    continue
                if any(secret in text for text in _texts(output) for secret in secrets):
                    output = new_output("stream", name="stdout", text=REDACTED)
                kept.append(output)
            cell.outputs = kept
        nb.metadata.pop("widgets", None)
        if start < len(nb.cells):
            nb.cells.insert(start, new_markdown_cell(OUTPUTS_WITHHELD))
        return nb, resources
