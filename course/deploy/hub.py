"""`make hub`: the course on a local JupyterHub, with real accounts and a PostgreSQL gradebook.

``HubDeployment(folder).prepare()`` lays out everything the hub needs in ``folder``: an account
with a private home for each student, the instructor and the course's grader; the gradebook's
PostgreSQL server (started); the grader's copy of the course, its chapters generated into the
gradebook and released; the exchange, as nbgrader wants it (world-writable and sticky: nbgrader
makes each course's ``inbound`` writable and unlistable by students); and the Jupyter
configuration of the students' servers and of the grader's. ``run()`` starts JupyterHub (which
starts configurable-http-proxy, the formgrader service and each user's server) and, when it
ends or Ctrl-C stops it, stops all of it and the database. Everything survives in ``folder``
from one start to the next: homes, submissions, the gradebook.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from traitlets import Bool, Int, List, Unicode
from traitlets.config import Configurable

from .. import labs
from ..course_dir import REPO, Course, PipelineError, assignments
from .accounts import ensure_account, kill_account_processes
from .interpreter import users_environment
from .postgres import DatabaseError, GradebookServer, free_port

CONFIG = Path(__file__).with_name("jupyterhub_config.py")
# how long a stopping hub may take: it gives each server and service 30 s after SIGINT and 30 s
# after SIGTERM before it SIGKILLs it (JupyterHub's interrupt_timeout and term_timeout)
HUB_STOP_S = 120
PROXY = REPO / ".venv" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
STUDENT_NBGRADER_CONFIG = '''\
"""nbgrader for the students of {course_id!r} on the hub (written by `make hub`)."""
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
'''
GRADER_COURSE_CONFIG = '''
# On the hub (written by `make hub`): the shared exchange and the PostgreSQL gradebook
c.Exchange.root = {exchange!r}
c.CourseDirectory.db_url = {db_url!r}
'''


class HubDeployment(Configurable):
    """The course's JupyterHub on this machine, with its state in ``folder``."""

    students = List(Unicode(), ["alice", "bob", "carol"], help="The students' account names").tag(config=True)
    instructor = Unicode("instructor", help="The instructor's account: a member of the group that may use "
                         "the course's formgrader service").tag(config=True)
    grader = Unicode("", help="The account the formgrader service runs as, owning the course folder "
                     "(default: grader-<course id>, as nbgrader's documentation names it)").tag(config=True)
    chapters = List(Unicode(), [], help="The chapters released on the hub (default: all)").tag(config=True)
    port = Int(8000, help="The port of the hub's public URL, on 127.0.0.1").tag(config=True)
    grade_on_submit = Bool(False, help="Run the grading service (make serve) as a hub service under the grader "
                           "account: each submission graded as it arrives, its feedback released to its "
                           "student (c.GradeOnSubmit in the course's nbgrader_config.py)").tag(config=True)

    def __init__(self, folder: Path, **kwargs):
        super().__init__(**kwargs)
        if os.geteuid() != 0:
            raise PipelineError("`make hub` creates the students' Unix accounts and spawns their servers as them: "
                                "run it as root (docs/deployment.md says what changes without root)")
        if not PROXY.is_file():
            raise PipelineError(f"no configurable-http-proxy at {PROXY}: run `make setup`")
        self.folder = Path(folder).resolve()
        self.course_id = Course(REPO).config().CourseDirectory.course_id
        self.grader = self.grader or f"grader-{self.course_id}"
        self.password_file = self.folder / "hub" / "password"
        self.database = GradebookServer(self.folder / "postgres")

    @property
    def homes(self) -> Path:
        return self.folder / "home"

    @property
    def exchange(self) -> Path:
        return self.folder / "exchange"

    @property
    def course_folder(self) -> Path:
        return self.homes / self.grader / self.course_id

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _folder(self, path: Path, mode: int) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(mode)
        return path

    def prepare(self) -> Path:
        """Lay the deployment out and start its database; the settings file for the hub's config."""
        self._folder(self.folder, 0o755)
        hub_state = self._folder(self.folder / "hub", 0o700)
        for name in [*self.students, self.instructor, self.grader]:
            ensure_account(name, self._folder(self.homes, 0o755))
        users_bin = users_environment(self.folder / "python")
        self._folder(self.exchange, 0o1777)
        self.database.start()
        self._prepare_course(users_bin)
        student_config = self._student_config(self._folder(self.folder / "jupyter" / "student", 0o755))
        grader_config = self._folder(self.folder / "jupyter" / "grader", 0o755)
        path = f"{users_bin}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin"
        if not self.password_file.is_file():
            self.password_file.write_text(secrets.token_urlsafe(12))
        settings = {
            "course_id": self.course_id, "port": self.port, "hub_port": free_port(),
            "proxy_api_port": free_port(), "grader_port": free_port(), "proxy": str(PROXY),
            "proxy_token": secrets.token_hex(32), "hub_state": str(hub_state),
            "password": self.password_file.read_text(), "students": list(self.students),
            "instructor": self.instructor, "grader": self.grader, "python": str(users_bin / "python"),
            "course_folder": str(self.course_folder), "grade_on_submit": self.grade_on_submit,
            "student_args": [f"--ServerApp.jpserver_extensions={name}=False"
                             for name in labs.INSTRUCTOR_SERVER_EXTENSIONS],
            "student_environment": {"PATH": path, "JUPYTER_CONFIG_PATH": str(student_config)},
            "grader_environment": {"PATH": path, "JUPYTER_CONFIG_PATH": str(grader_config),
                                   "JUPYTERHUB_DEFAULT_URL": "/formgrader"},
        }
        settings_file = hub_state / "settings.json"
        settings_file.write_text(json.dumps(settings, indent=2))
        settings_file.chmod(0o600)
        return settings_file

    def _student_config(self, folder: Path) -> Path:
        """nbgrader's course and exchange for the students' servers, and the instructor's menus hidden."""
        (folder / "nbgrader_config.py").write_text(STUDENT_NBGRADER_CONFIG.format(
            course_id=self.course_id, exchange=str(self.exchange)))
        self._folder(folder / "labconfig", 0o755)
        (folder / "labconfig" / "page_config.json").write_text(
            json.dumps({"disabledExtensions": {name: True for name in labs.HIDDEN_FROM_STUDENTS}}, indent=2) + "\n")
        return folder

    def _prepare_course(self, users_bin: Path) -> None:
        """The grader's course folder, its chapters generated into the gradebook and released to
        the exchange, as the grader: once, at the first start; later starts keep all of it as the
        instructor left it."""
        released = self.folder / "hub" / "released"
        if released.is_file():
            return
        chapters = self.chapters or assignments()
        if not (self.course_folder / "nbgrader_config.py").is_file():
            course = Course.create(self.course_folder, chapters)
            for chapter in chapters:
                shutil.copytree(REPO / "release" / chapter, course.root / "release" / chapter)
            with (course.root / "nbgrader_config.py").open("a") as config:
                config.write(GRADER_COURSE_CONFIG.format(exchange=str(self.exchange), db_url=self.database.db_url))
            (course.root / "nbgrader_config.py").chmod(0o600)  # it holds the database's password
            subprocess.run(["chown", "-R", f"{self.grader}:{self.grader}", str(course.root)], check=True)
        grader_home = self.homes / self.grader
        env = {"PATH": f"{users_bin}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": str(grader_home),
               "USER": self.grader}
        for step in ("generate_assignment", "release_assignment"):
            for chapter in chapters:
                result = subprocess.run(["runuser", "-u", self.grader, "--", "env", "-i",
                                         *(f"{k}={v}" for k, v in env.items()),
                                         str(users_bin / "nbgrader"), step, chapter, "--force"],
                                        cwd=self.course_folder, capture_output=True, text=True)
                if result.returncode != 0:
                    raise PipelineError(f"nbgrader {step} {chapter} as {self.grader} failed:\n{result.stderr[-3000:]}")
        released.write_text("".join(f"{chapter}\n" for chapter in chapters))

    def _wait_until_up(self, hub: subprocess.Popen, timeout: float = 300) -> bool:
        """Whether the hub answers on its URL (within ``timeout`` seconds, before it ends)."""
        deadline = time.monotonic() + timeout
        while hub.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}hub/api", timeout=5):
                    return True
            except OSError:
                time.sleep(0.5)
        return False

    def run(self, settings_file: Path, on_ready=None) -> int:
        """Run JupyterHub until it ends or is interrupted; then stop it, and the database."""
        log = self.folder / "hub" / "jupyterhub.log"
        env = dict(os.environ, COURSE_HUB_SETTINGS=str(settings_file))
        hub = None
        try:
            with log.open("a") as output:
                hub = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)],
                                       cwd=settings_file.parent, env=env, stdout=output, stderr=subprocess.STDOUT,
                                       start_new_session=True)
            if not self._wait_until_up(hub):
                print(f"error: the hub did not come up; its log: {log}", file=sys.stderr)
                return hub.poll() or 1
            if on_ready:
                on_ready(log)
            return hub.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            if hub is not None and hub.poll() is None:
                hub.send_signal(signal.SIGTERM)  # JupyterHub stops the proxy, the services and every server
                try:
                    hub.wait(timeout=HUB_STOP_S)
                except subprocess.TimeoutExpired:
                    os.killpg(hub.pid, signal.SIGKILL)
                    hub.wait()
                    kill_account_processes([*self.students, self.instructor, self.grader])
            self.database.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.deploy.hub", description=__doc__.split("\n")[0])
    parser.add_argument("--folder", default=str(REPO / "hub"), help="where the deployment's state lives")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--students", nargs="*", default=None, help="the students' account names")
    parser.add_argument("--instructor", default=None)
    parser.add_argument("--grader", default=None, help="the formgrader's account (default: grader-<course id>)")
    parser.add_argument("--chapters", nargs="*", default=None, help="the chapters to release (default: all)")
    parser.add_argument("--grade-on-submit", action="store_true",
                        help="run the grading service as a hub service: feedback seconds after Submit")
    args = parser.parse_args(argv)
    options = {name: value for name, value in (("students", args.students), ("instructor", args.instructor),
                                                ("chapters", args.chapters), ("grader", args.grader))
               if value is not None}
    options["grade_on_submit"] = args.grade_on_submit
    # Ctrl-C reaches this process only: JupyterHub runs in a session of its own and is stopped in order.
    # Ctrl-C and SIGTERM both stop it, even where the shell started this process with SIGINT ignored.
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupt)
    try:
        deployment = HubDeployment(Path(args.folder), port=args.port, **options)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        settings = deployment.prepare()
    except (PipelineError, DatabaseError) as error:
        deployment.database.stop()
        print(f"error: {error}", file=sys.stderr)
        return 2

    def ready(log: Path) -> None:
        password = deployment.password_file.read_text()
        print(f"The course's JupyterHub: {deployment.url}  (log: {log})\n"
              f"  students: {', '.join(deployment.students)}\n  instructor: {deployment.instructor} "
              f"(formgrader: {deployment.url}services/{deployment.course_id}/formgrader)\n"
              f"  password (every account): {password}\n"
              f"  the grader's course: {deployment.course_folder} (account {deployment.grader}); "
              f"gradebook on PostgreSQL at 127.0.0.1:{deployment.database.port}\n"
              + (f"  grading on submit: the hub's service {deployment.course_id}-grading\n"
                 if deployment.grade_on_submit else "") +
              "Ctrl-C stops the hub, the proxy, the servers, the formgrader and the database.", flush=True)

    return deployment.run(settings, ready)


if __name__ == "__main__":
    sys.exit(main())
