"""`make demo`: the whole nbgrader cycle on a synthetic class, in the folder demo/."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import operations
from .classroom import RECIPES, load_chapter
from .course_dir import REPO, Course, assignments


@dataclass
class DemoResult:
    course: Course
    chapters: list[str]
    students: list[str]
    scores: dict = field(default_factory=dict)  # chapter -> student -> {grade_id: (score, max)}
    csv: Path | None = None
    feedback: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def total(self, chapter: str, student: str) -> tuple[float, float] | None:
        cells = self.scores.get(chapter, {}).get(student)
        if cells is None:
            return None
        return sum(s or 0 for s, _ in cells.values()), sum(m for _, m in cells.values())


def submit(course: Course, student: str, chapter: str, text: str) -> None:
    """The student puts the notebook in their copy of the chapter and runs ``nbgrader submit``."""
    folder = course.root / "students" / student / chapter
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{course.notebook_name(chapter)}.ipynb").write_text(text)
    course.nbgrader("submit", chapter, "--student", student, f"--Exchange.root={course.root / 'exchange'}",
                    "--CourseDirectory.course_id=dl-computation", cwd=folder.parent)


def run_demo(workdir: Path = REPO / "demo", chapters: list[str] | None = None,
             students: list[str] | None = None, console: Console | None = None) -> DemoResult:
    console = console or Console()
    start = time.monotonic()
    chapters = chapters or assignments()
    students = students or list(RECIPES)
    course = Course.create(workdir, chapters)
    result = DemoResult(course, chapters, students)
    columns = (TextColumn("{task.description:32s}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        def step(description, items, action):
            task = progress.add_task(description, total=len(items))
            for item in items:
                action(item)
                progress.advance(task)

        step("generate + release", chapters, lambda ch: operations.release(course, ch))
        loaded = {ch: load_chapter(ch, course.root / "release") for ch in chapters}
        pairs = [(s, i, ch) for s in students for i, ch in enumerate(chapters)]

        def hand_in(pair):
            student, index, chapter = pair
            text = RECIPES[student](loaded[chapter], index)
            if text is not None:
                submit(course, student, chapter, text)

        step("students submit", pairs, hand_in)
        step("collect", chapters, lambda ch: operations.collect(course, ch))
        step("autograde", chapters, lambda ch: operations.autograde(course, ch))
        step("feedback", chapters, lambda ch: result.feedback.extend(operations.feedback(course, ch)))
        step("export", ["grades.csv"], lambda name: setattr(result, "csv", operations.export(course, name)))
    result.scores = {ch: course.scores(ch) for ch in chapters}
    result.seconds = time.monotonic() - start
    return result


def class_table(result: DemoResult) -> Table:
    table = Table(title="Autograded points, students × chapters")
    table.add_column("student")
    for chapter in result.chapters:
        table.add_column(chapter, justify="right")
    for student in result.students:
        row = []
        for chapter in result.chapters:
            total = result.total(chapter, student)
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
    return 0
