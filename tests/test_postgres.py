"""The gradebook on a real PostgreSQL server: the same scores as on SQLite, a server restarted
in the middle of grading loses no grade and doubles none, and an ordinary user (not root) runs
the server as themselves.

A small class of the demo's synthetic students (``course.classroom``) hands in chapter 1 through
the exchange, and the course's whole grading path (intake, the sandbox and its kernel pool, the
judge, feedback, export) grades it once on SQLite and once on a private PostgreSQL server
(``course.deploy.postgres``: Debian's server binaries, a folder of its own, a role and a database).
"""
from __future__ import annotations

import csv
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from course import operations
from course.classroom import RECIPES, load_assignment
from course.course_dir import Course, assignments
from course.demo import submit
from course.deploy.accounts import account_processes, remove_account
from course.deploy.interpreter import users_environment
from course.deploy.postgres import GradebookServer

CHAPTER = assignments()[0]
STUDENTS = ["ada_perfect", "ben_untouched", "cyd_partial", "dan_typical_mistakes", "fay_different_but_right",
            "gus_broken_json"]
JOBS = 2


def handed_in_class(root: Path, db_url: str | None = None) -> Course:
    """A course whose students have submitted ``CHAPTER`` and whose submissions are collected;
    its gradebook at ``db_url`` (default: SQLite in the course)."""
    course = Course.create(root, [CHAPTER])
    if db_url:
        with (course.root / "nbgrader_config.py").open("a") as config:
            config.write(f"\nc.CourseDirectory.db_url = {db_url!r}\n")
    operations.release(course, CHAPTER)
    chapter = load_assignment(CHAPTER, course.root / "release")
    for student in STUDENTS:
        submit(course, student, CHAPTER, RECIPES[student](chapter, 0))
    operations.collect(course, CHAPTER)
    return course


def grade(course: Course) -> dict:
    """The whole grading path; what it gave: scores per cell, the exported table, the feedback."""
    operations.autograde(course, CHAPTER, jobs=JOBS)
    feedback = operations.feedback(course, CHAPTER)
    exported = operations.export(course)
    rows = {row["student_id"]: (row["raw_score"], row["score"], row["max_score"])
            for row in csv.DictReader(exported.open())}
    return {"scores": course.scores(CHAPTER), "export": rows,
            "feedback": sorted(str(path.relative_to(course.root)) for path in feedback)}


def server_folder() -> Path:
    """A folder PostgreSQL's own account can reach (pytest's temporary folder is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="course-postgres-"))
    folder.chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def sqlite_grades(tmp_path_factory):
    return grade(handed_in_class(tmp_path_factory.mktemp("sqlite") / "course"))


@pytest.fixture
def postgres():
    folder = server_folder()
    server = GradebookServer(folder / "postgres")
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def gradebook_rows(db_url: str) -> dict[str, int]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return {
                "submissions": connection.execute(text("SELECT count(*) FROM submitted_assignment")).scalar(),
                "grades": connection.execute(text("SELECT count(*) FROM grade")).scalar(),
                "distinct grades": connection.execute(text(
                    "SELECT count(DISTINCT (notebook_id, cell_id)) FROM grade")).scalar(),
                # graded cells (tests and free answers) and tasks, each graded once per submission
                "graded cells": connection.execute(text(
                    "SELECT (SELECT count(*) FROM grade_cells) + (SELECT count(*) FROM task_cells)")).scalar(),
            }
    finally:
        engine.dispose()


def test_postgres_gives_the_scores_sqlite_gives(sqlite_grades, postgres, tmp_path):
    assert sqlite_grades["scores"]["ada_perfect"] and all(
        score == top for score, top in sqlite_grades["scores"]["ada_perfect"].values())
    course = handed_in_class(tmp_path / "course", postgres.db_url)
    assert course.db_url() == postgres.db_url
    graded = grade(course)
    assert graded == sqlite_grades
    assert not (course.root / "gradebook.db").exists(), "the gradebook went to SQLite, not PostgreSQL"
    rows = gradebook_rows(postgres.db_url)
    assert rows["submissions"] == len(STUDENTS)
    assert rows["grades"] == rows["distinct grades"] == rows["submissions"] * rows["graded cells"] > 0


def test_a_database_restart_in_the_middle_of_grading_loses_and_doubles_no_grade(sqlite_grades, postgres, tmp_path):
    course = handed_in_class(tmp_path / "course", postgres.db_url)
    def graded_so_far() -> int:  # nbgrader writes a graded notebook once its grades are saved
        return len(list((course.root / "autograded").glob(f"*/{CHAPTER}/*.ipynb")))

    outcome = {}

    def grading():
        try:
            outcome["graded"] = grade(course)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = error

    thread = threading.Thread(target=grading)
    thread.start()
    deadline = time.monotonic() + 600
    while not graded_so_far() and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    graded_before = graded_so_far()
    assert thread.is_alive() and 0 < graded_before < len(STUDENTS), "the restart did not fall in mid-grading"
    postgres.stop()
    time.sleep(10)  # every worker finishes its submission and finds the server gone
    postgres.start()
    thread.join(600)
    assert "error" not in outcome, f"grading did not resume after the restart: {outcome.get('error')}"
    assert outcome["graded"] == sqlite_grades
    rows = gradebook_rows(postgres.db_url)
    assert rows["submissions"] == len(STUDENTS)
    assert rows["grades"] == rows["distinct grades"] == rows["submissions"] * rows["graded cells"] > 0


AS_AN_ORDINARY_USER = """
import json, os, sys
from pathlib import Path

import psycopg
from nbgrader.api import Gradebook
from sqlalchemy import create_engine, text

from course.deploy.postgres import GradebookServer

folder = Path(sys.argv[1])
server = GradebookServer(folder / "postgres")
pids = []


def server_pid() -> int:
    pids.append(int((server.data / "postmaster.pid").read_text().split()[0]))
    return pids[-1]


def running(pid: int) -> bool:
    # a process of this account still running: not a zombie, a server that exited and waits for
    # pid 1 (its parent once pg_ctl left) to reap it
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return os.stat(f"/proc/{pid}").st_uid == os.getuid() and state != "Z"
    except (FileNotFoundError, IndexError):
        return False


seen = {"uid": os.getuid(), "commands": server._as_account}
server.start()
try:
    seen["server uids"] = [os.stat(f"/proc/{server_pid()}").st_uid]
    seen["owners"] = {name: (folder / "postgres" / name).stat().st_uid for name in ("data", "sockets", "password")}
    with psycopg.connect(server.db_url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        seen["psycopg"] = connection.execute("SELECT current_user, current_database()").fetchone()
    engine = create_engine(server.db_url)
    with engine.connect() as connection:
        seen["sqlalchemy"] = list(connection.execute(text("SELECT current_user, current_database()")).one())
    engine.dispose()
    with Gradebook(server.db_url, course_id="dl-computation") as gradebook:
        gradebook.add_student("ada", first_name="Ada", email="ada@example.org")
    port = server.port
    server.restart()  # the row is read back from the server started again, on the same port
    seen["same port"] = server.port == port
    seen["server uids"].append(os.stat(f"/proc/{server_pid()}").st_uid)
    with Gradebook(server.db_url, course_id="dl-computation") as gradebook:
        ada = gradebook.find_student("ada")
        seen["row"] = [ada.id, ada.first_name, ada.email]
finally:
    server.stop()
seen["left"] = (folder / "postgres" / "data" / "postmaster.pid").exists() or any(running(pid) for pid in pids)
print(json.dumps(seen))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="creates a throw-away account to run as: run as root")
def test_an_ordinary_user_runs_the_gradebook_server_as_themselves():
    """An account without root starts the server in a folder of its own (no ``runuser``, no
    ``postgres`` account): the server runs as that account, the course's role logs in with the
    ``db_url`` it gives (psycopg and SQLAlchemy), nbgrader's Gradebook writes a row and reads it
    back after a restart, and ``stop()`` leaves no server running."""
    folder = server_folder()
    user = f"pgtest{secrets.token_hex(3)}"
    home = folder / user
    # .venv's interpreter is pyenv's under root's private home (0700): the account uses the
    # hub's environment of hard links to the same installation (course/deploy/interpreter.py)
    users_bin = users_environment(folder / "python")
    created = subprocess.run(["useradd", "--system", "--create-home", "--home-dir", str(home),
                              "--shell", "/usr/sbin/nologin", "--user-group", user], capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    try:
        account = pwd.getpwnam(user)
        assert account.pw_uid != 0 and home.stat().st_uid == account.pw_uid
        script = home / "gradebook_server.py"
        script.write_text(AS_AN_ORDINARY_USER)
        os.chown(script, account.pw_uid, account.pw_gid)
        environment = {"HOME": str(home), "USER": user, "PATH": f"{users_bin}{os.pathsep}/usr/bin{os.pathsep}/bin"}
        ran = subprocess.run(["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in environment.items()),
                              str(users_bin / "python"), str(script), str(home)],
                             cwd=home, capture_output=True, text=True, timeout=300)
        assert ran.returncode == 0, f"{ran.stdout[-3000:]}\n{ran.stderr[-3000:]}"
        seen = json.loads(ran.stdout.splitlines()[-1])
        assert seen["uid"] == account.pw_uid and seen["commands"] == [], "the script did not run as the account"
        assert seen["server uids"] == [account.pw_uid] * 2, "PostgreSQL did not run as the account that started it"
        assert set(seen["owners"].values()) == {account.pw_uid}
        assert seen["psycopg"] == seen["sqlalchemy"] == ["nbgrader", "dl_computation"]
        assert seen["same port"] and seen["row"] == ["ada", "Ada", "ada@example.org"]
        assert not seen["left"], "the server outlived stop()"
        assert not account_processes(user), f"processes of {user} outlived the script"
    finally:
        for pid in account_processes(user):
            os.kill(pid, signal.SIGKILL)  # only what the throw-away account left running
        remove_account(user)
        shutil.rmtree(folder, ignore_errors=True)

