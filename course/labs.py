"""JupyterLab on this machine: a student's (`make lab STUDENT=alice`) or the instructor's (`make formgrader`).

The instructor's JupyterLab runs in the course root and opens at formgrader. A student's runs in
``students/<id>/`` under the course, never in the course root, so that its file browser cannot
reach ``source/`` or the gradebook. nbgrader's Assignments panel and Validate button read the
``nbgrader_config.py`` of the folder JupyterLab serves, so the student's folder gets its own,
naming only the course id, the exchange and the student: nbgrader 0.9's exchange fetches and
submits as ``CourseDirectory.student_id`` (not the login name) when it is set, which lets several
students share one machine and one login. On JupyterHub each student's own server plays this part.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .operations import ensure_exchange
from .course_dir import Course, PipelineError, nbgrader_env

STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

# Left out of a student's JupyterLab: the instructor's tools, and Jupyter's news prompt.
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")
HIDDEN_FROM_STUDENTS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                        "@jupyter/nbgrader:create-assignment", "@jupyterlab/apputils-extension:announcements")

STUDENT_CONFIG = '''\
"""nbgrader as student {student!r} of {course_id!r}: written by `make lab`, rewritten at each start."""
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.student_id = {student!r}
c.Exchange.root = {exchange!r}
c.Exchange.cache = {cache!r}
'''


@dataclass
class Lab:
    """How to start one JupyterLab: ``argv`` with ``env``, in ``folder`` (its root and working directory)."""

    folder: Path
    argv: list[str]
    env: dict


def student_lab(course: Course, student: str, options: list[str] = ()) -> Lab:
    """``student``'s JupyterLab in ``students/<student>/``, set up as that student of the course."""
    if not STUDENT_ID.fullmatch(student):
        raise PipelineError(f"a student id is letters, digits, '.', '_' and '-' (got {student!r})")
    config = course.config()
    course_id = config.CourseDirectory.get("course_id")
    if not course_id:
        raise PipelineError("nbgrader_config.py sets no CourseDirectory.course_id")
    exchange = Path(config.Exchange.get("root", course.root / "exchange"))
    if exchange == course.root / "exchange":
        ensure_exchange(course)
    folder = course.root / "students" / student
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nbgrader_config.py").write_text(STUDENT_CONFIG.format(
        student=student, course_id=course_id, exchange=str(exchange), cache=str(folder / ".nbgrader_cache")))
    # JupyterLab hides plugins only through a labconfig/page_config.json on the Jupyter config path.
    jupyter_config = course.root / "students" / ".jupyter"
    (jupyter_config / "labconfig").mkdir(parents=True, exist_ok=True)
    (jupyter_config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {name: True for name in HIDDEN_FROM_STUDENTS}}, indent=2) + "\n")
    env = nbgrader_env()
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(filter(None, [str(jupyter_config), env.get("JUPYTER_CONFIG_PATH")]))
    off = [f"--ServerApp.jpserver_extensions={name}=False" for name in INSTRUCTOR_SERVER_EXTENSIONS]
    return Lab(folder, _jupyter_lab(*off, *options), env)


def instructor_lab(course: Course, options: list[str] = ()) -> Lab:
    """The instructor's JupyterLab in the course root, opening at formgrader."""
    return Lab(course.root, _jupyter_lab("--ServerApp.default_url=/formgrader", *options), nbgrader_env())


def _jupyter_lab(*options: str) -> list[str]:
    return ["jupyter", "lab", "--ip=127.0.0.1", *(["--allow-root"] if os.geteuid() == 0 else []), *options]
