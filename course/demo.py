"""`make demo`: the whole nbgrader cycle on a synthetic class, in the folder demo/."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import operations
from .classroom import RECIPES, load_assignment
from .course_dir import REPO, Course
from .course_dir import assignments as course_assignments
from .report import build_report


@dataclass
class DemoResult:
    course: Course
    assignments: list[str]
    students: list[str]
    scores: dict = field(default_factory=dict)  # assignment -> student -> {grade_id: (score, max)}
    csv: Path | None = None
    report: Path | None = None
    feedback: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def total(self, assignment: str, student: str) -> tuple[float, float] | None:
        cells = self.scores.get(assignment, {}).get(student)
        if cells is None:
            return None
        return sum(s or 0 for s, _ in cells.values()), sum(m for _, m in cells.values())


def submit(course: Course, student: str, assignment: str, text: str) -> None:
    """The student puts the notebook in their copy of the assignment and runs ``nbgrader submit``."""
    folder = course.root / "students" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{course.notebook_name(assignment)}.ipynb").write_text(text)
    course.nbgrader("submit", assignment, "--student", student, f"--Exchange.root={course.root / 'exchange'}",
                    "--CourseDirectory.course_id=dl-computation", cwd=folder.parent)


def run_demo(workdir: Path = REPO / "demo", assignments: list[str] | None = None,
             students: list[str] | None = None, console: Console | None = None) -> DemoResult:
    console = console or Console()
    start = time.monotonic()
    assignments = assignments or course_assignments()
    students = students or list(RECIPES)
    course = Course.create(workdir, assignments)
    result = DemoResult(course, assignments, students)
    columns = (TextColumn("{task.description:32s}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        def step(description, items, action):
            task = progress.add_task(description, total=len(items))
            for item in items:
                action(item)
                progress.advance(task)

        step("generate + release", assignments, lambda ch: operations.release(course, ch))
        loaded = {ch: load_assignment(ch, course.root / "release") for ch in assignments}
        pairs = [(s, i, ch) for s in students for i, ch in enumerate(assignments)]

        def hand_in(pair):
            student, index, assignment = pair
            text = RECIPES[student](loaded[assignment], index)
            if text is not None:
                submit(course, student, assignment, text)

        step("students submit", pairs, hand_in)
        step("collect", assignments, lambda ch: operations.collect(course, ch))
        step("autograde", assignments, lambda ch: operations.autograde(course, ch))
        step("feedback", assignments, lambda ch: result.feedback.extend(operations.feedback(course, ch)))
        step("export", ["grades.csv"], lambda name: setattr(result, "csv", operations.export(course, name)))
        step("report", ["report"], lambda name: setattr(result, "report", build_report(course)))
    result.scores = {ch: course.scores(ch) for ch in assignments}
    result.seconds = time.monotonic() - start
    return result


def class_table(result: DemoResult) -> Table:
    table = Table(title="Autograded points, students × assignments")
    table.add_column("student")
    for assignment in result.assignments:
        table.add_column(assignment, justify="right")
    for student in result.students:
        row = []
        for assignment in result.assignments:
            total = result.total(assignment, student)
            row.append("no submission" if total is None else f"{total[0]:g} / {total[1]:g}")
        table.add_row(student, *row)
    return table


def main(argv=None) -> int:
    console = Console()
    result = run_demo(console=console)
    console.print(class_table(result))
    console.print(f"grades (CSV): {result.csv}")
    console.print(f"feedback: {result.course.root / 'feedback'} ({len(result.feedback)} files, "
                  f"e.g. {result.feedback[0] if result.feedback else '-'})")
    console.print(f"finished in {result.seconds:.0f} s")
    console.print(f"the instructor's report (open it in a browser): {result.report}")
    return 0
