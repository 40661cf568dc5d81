"""An assignment written the ordinary nbgrader way: test cells that assert, two notebooks, a
cell scored by the number it shows, a free answer, and a data file beside the notebooks."""
from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ASSIGNMENT = "00_plain"
DATA_FILE = "numbers.txt"

SQUARES = "def squares(n):\n    ### BEGIN SOLUTION\n    return [i * i for i in range(1, n + 1)]\n    ### END SOLUTION"
SQUARES_TESTS = '''assert squares(1) == [1], "squares(1) is [1]"
### BEGIN HIDDEN TESTS
assert squares(3) == [1, 4, 9]
assert squares(0) == []
### END HIDDEN TESTS'''
# nbgrader gives the number a test cell shows as its points (here out of 3)
SQUARES_PARTIAL = '''score = 0
### BEGIN HIDDEN TESTS
score += squares(2) == [1, 4]
score += squares(4)[-1] == 16
score += len(squares(10)) == 10
### END HIDDEN TESTS
score'''
TOTAL = "def total(path):\n    ### BEGIN SOLUTION\n    return sum(int(line) for line in open(path))\n    ### END SOLUTION"
TOTAL_TESTS = f'''assert isinstance(total("{DATA_FILE}"), int)
### BEGIN HIDDEN TESTS
assert total("{DATA_FILE}") == 60
### END HIDDEN TESTS'''


def _meta(grade_id, grade=False, solution=False, points=None):
    data = {"grade": grade, "solution": solution, "locked": not solution, "grade_id": grade_id, "schema_version": 3}
    if points is not None:
        data["points"] = points
    return {"nbgrader": data}


def _notebook(cells):
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}})


def notebooks() -> dict[str, nbformat.NotebookNode]:
    return {
        "problem1": _notebook([
            new_markdown_cell("# Squares"),
            new_code_cell(SQUARES, metadata=_meta("squares", solution=True)),
            new_code_cell(SQUARES_TESTS, metadata=_meta("squares_tests", grade=True, points=2)),
            new_code_cell(SQUARES_PARTIAL, metadata=_meta("squares_partial", grade=True, points=3)),
            new_markdown_cell("Why squares?", metadata=_meta("why", grade=True, solution=True, points=1)),
        ]),
        "problem2": _notebook([
            new_markdown_cell("# The total of a file"),
            new_code_cell(TOTAL, metadata=_meta("total", solution=True)),
            new_code_cell(TOTAL_TESTS, metadata=_meta("total_tests", grade=True, points=2)),
        ]),
    }


def write_plain(course_root) -> None:
    folder = course_root / "source" / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks().items():
        nbformat.write(nb, folder / f"{name}.ipynb")
    (folder / DATA_FILE).write_text("10\n20\n30\n")


# student -> {notebook: {answer cell: source}}; a notebook left out is not submitted
SUBMISSIONS = {
    "right": {"problem1": {}, "problem2": {}},
    "wrong": {"problem1": {"squares": "def squares(n):\n    return [i * i for i in range(n)]"},
              "problem2": {"total": "def total(path):\n    return 0"}},
    "partly": {"problem1": {"squares": "def squares(n):\n    return [1, 4, 9, 16][:n] if n < 5 else []"},
               "problem2": {"total": "def total(path):\n    return sum(int(x) for x in open(path)) + 0.0"}},
    "no_second_notebook": {"problem1": {}},
    "noisy": {"problem1": {"squares": "import sys\ndef squares(n):\n    print('working', file=sys.stderr)\n"
                                      "    return [i * i for i in range(1, n + 1)]"},
              "problem2": {}},
}


def submission(student: str, reference: dict[str, nbformat.NotebookNode]) -> dict[str, nbformat.NotebookNode]:
    """The notebooks ``student`` hands in: the reference's, with their answers in it."""
    handed_in = {}
    for name, answers in SUBMISSIONS[student].items():
        nb = nbformat.from_dict(reference[name])
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
        handed_in[name] = nb
    return handed_in
