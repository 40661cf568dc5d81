"""Feedback that teaches without leaking: hidden tests never reach a student-visible file."""
from __future__ import annotations

import re

from course_probe import MIME_TYPE
from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor

HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?",
                           re.MULTILINE | re.DOTALL)
MIN_QUOTED_LINE = 16  # shorter lines ("import torch", "return [") are too common to be a leak
REDACTED = "[output removed: it quoted the grader's hidden tests]\n"


def split_hidden(source: str) -> tuple[str, list[str]]:
    """The visible part of a cell's source, and its hidden regions."""
    return HIDDEN_REGION.sub("", source), HIDDEN_REGION.findall(source)


def _texts(output) -> list[str]:
    texts = [output.get("text", ""), output.get("evalue", "")]
    texts += [t if isinstance(t, str) else str(t) for t in output.get("traceback", [])]
    for value in output.get("data", {}).values():
        texts.append(value if isinstance(value, str) else str(value))
    return [t if isinstance(t, str) else "".join(t) for t in texts]


class HideHiddenTests(NbGraderPreprocessor):
    """Test cells keep their public part only; outputs quoting hidden code are removed.

    The judge has already replaced each test cell's outputs by its verdict. A submission may
    still try to smuggle the hidden tests out through its own cells (a later cell that prints
    the kernel's input history, say): any output that contains a line of hidden test code is
    replaced by a notice, and stray probe reports are dropped.
    """

    def preprocess(self, nb, resources):
        hidden_lines = set()
        visible_lines = set()
        for cell in nb.cells:
            visible, hidden = split_hidden(cell.source)
            visible_lines.update(line.strip() for line in visible.splitlines())
            for region in hidden:
                hidden_lines.update(line.strip() for line in region.splitlines())
            if hidden and visible.strip():
                cell.source = visible.rstrip() + "\n# (hidden tests run here when grading)"
            elif hidden:
                cell.source = "# Hidden tests: they run when grading; your feedback shows their result below."
        secrets = {line for line in hidden_lines - visible_lines
                   if len(line) >= MIN_QUOTED_LINE and not line.startswith("###")}
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            kept = []
            for output in cell.get("outputs", []):
                if MIME_TYPE in output.get("data", {}):
                    continue
                if any(secret in text for text in _texts(output) for secret in secrets):
                    output = new_output("stream", name="stdout", text=REDACTED)
                kept.append(output)
            cell.outputs = kept
        return nb, resources
