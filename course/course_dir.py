"""Driving nbgrader for a course folder: every command with the course's config and venv."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import nbformat

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


class PipelineError(RuntimeError):
    """An nbgrader step failed; the message says which and why."""


def nbgrader_env() -> dict:
    """The environment for nbgrader: the venv's bin first on PATH (alembic runs as a subprocess)."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def assignments(root: Path = REPO) -> list[str]:
    """The assignments: every folder of source/ that holds a notebook, in order."""
    source = Path(root) / "source"
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))) if source.is_dir() else []


def source_notebooks(assignment: str, root: Path = REPO) -> list[Path]:
    """The assignment's notebooks, in order; a clear error for an unknown assignment."""
    notebooks = sorted((Path(root) / "source" / assignment).glob("*.ipynb"))
    if not notebooks:
        known = ", ".join(assignments(root)) or "none"
        raise PipelineError(f"unknown assignment {assignment!r} (chapters: {known})")
    return notebooks


def source_notebook(assignment: str, root: Path = REPO) -> Path:
    """The notebook of a one-notebook assignment (every assignment of the course has one)."""
    notebooks = source_notebooks(assignment, root)
    if len(notebooks) > 1:
        names = ", ".join(path.name for path in notebooks)
        raise PipelineError(f"assignment {assignment!r} has {len(notebooks)} notebooks ({names}), "
                            "where one was expected")
    return notebooks[0]


@dataclass
class Course:
    """A course folder (the repository itself, or a scratch copy for tests and the demo)."""

    root: Path
    scratch_parent: ClassVar[Path | None] = None  # where scratch courses go (None: the system's temp folder)

    @classmethod
    def scratch(cls, names: list[str] | None = None, parent: Path | None = None) -> "Course":
        """A fresh course folder with the repository's config and the sources of the assignments
        ``names`` (None: all of them)."""
        return cls.create(Path(tempfile.mkdtemp(prefix="course-", dir=parent or cls.scratch_parent)), names)

    @classmethod
    def create(cls, root: Path, names: list[str] | None = None) -> "Course":
        """A new course folder at ``root`` (emptied first) with the config and the sources of the
        assignments ``names`` (None: all of them)."""
        root = Path(root)
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        os.chmod(root, 0o755)
        shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
        for name in names if names is not None else assignments():
            shutil.copytree(REPO / "source" / name, root / "source" / name)
        return cls(root)

    def nbgrader(self, *args: str, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run([str(VENV_BIN / "nbgrader"), *args], cwd=cwd or self.root, env=nbgrader_env(),
                                capture_output=True, text=True)
        if check and result.returncode != 0:
            raise PipelineError(f"nbgrader {' '.join(args)} failed (exit {result.returncode}):\n"
                                f"{result.stderr[-4000:]}")
        return result

    def config(self):
        """The course's ``nbgrader_config.py``, loaded as nbgrader loads it (raises if it is broken)."""
        from traitlets.config.loader import PyFileConfigLoader

        return PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()

    def db_url(self) -> str:
        """The gradebook's database: the config's ``CourseDirectory.db_url`` (SQLite in the course by default)."""
        return self.config().CourseDirectory.get("db_url", f"sqlite:///{self.root / 'gradebook.db'}")

    def notebook_name(self, assignment: str) -> str:
        return source_notebook(assignment, self.root).stem

    def notebook_names(self, assignment: str) -> list[str]:
        return [path.stem for path in source_notebooks(assignment, self.root)]

    def submit_notebook(self, student: str, assignment: str, nb) -> Path:
        """Place a notebook as ``student``'s submission (as ``nbgrader collect`` would)."""
        folder = self.root / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.notebook_name(assignment)}.ipynb"
        nbformat.write(nb, path)
        return path

    def scores(self, assignment: str) -> dict[str, dict[str, tuple[float | None, float]]]:
        """``{student: {grade_id: (score, max_score)}}`` for autograded test cells, from the gradebook."""
        from nbgrader.api import Gradebook

        result: dict[str, dict] = {}
        with Gradebook(self.db_url()) as gb:
            for submission in gb.assignment_submissions(assignment):
                cells = {}
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        if grade.cell_type == "code":  # autograded tests; free answers are markdown
                            cells[grade.name] = (grade.score, grade.max_score)
                result[submission.student.id] = cells
        return result
