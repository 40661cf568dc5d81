"""What the hub's tests share: `make hub`'s process in a folder of its own with accounts named for
the run (``Hub``), one user's session through it as a browser holds it (``Browser``), a Chromium
page logged in through the hub's login page, and the chapter's hidden test lines."""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest
import requests
import websocket

from course.deploy.accounts import account_processes, remove_account
from course.deploy.postgres import free_port
from course.course_dir import REPO, assignments, source_notebook

CHAPTER = assignments()[0]
COURSE_ID = "dl-computation"
ARTIFACTS = REPO / "artifacts" / "hub"
STARTUP_TIMEOUT = 300  # seconds: accounts, PostgreSQL, the chapter generated and released, the hub


class Hub:
    """`python -m course.deploy.hub` (what `make hub` runs) in a folder of its own, with accounts
    named uniquely for this run."""

    def __init__(self, students: tuple[str, ...] = ("ada", "ben"), grade_on_submit: bool = False):
        self.grade_on_submit = grade_on_submit  # `make hub GRADE_ON_SUBMIT=1`: the hub runs the grading service
        self.folder = Path(tempfile.mkdtemp(prefix="course-hub-"))
        self.folder.chmod(0o755)  # the accounts reach their homes and the exchange through it
        tag = secrets.token_hex(3)
        self.students = [f"{name}{tag}" for name in students]
        self.instructor, self.grader = f"prof{tag}", f"grader{tag}"
        self.start()

    def start(self) -> None:
        """Start (or start again) `make hub`'s process, on a new port, with the same folder and accounts."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "course.deploy.hub", "--folder", str(self.folder), "--port", str(self.port),
             "--students", *self.students, "--instructor", self.instructor, "--grader", self.grader,
             "--chapters", CHAPTER, *(["--grade-on-submit"] if self.grade_on_submit else [])],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=lambda: self.output.extend(self.process.stdout), daemon=True).start()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"`make hub` exited ({self.process.returncode}):\n{''.join(self.output)[-3000:]}")
            if any("Ctrl-C stops" in line for line in self.output):
                try:
                    if requests.get(f"{self.url}/hub/api", timeout=5).status_code == 200:
                        return
                except requests.ConnectionError:
                    pass
            time.sleep(0.5)
        pytest.fail(f"the hub did not answer in {STARTUP_TIMEOUT} s:\n{''.join(self.output)[-3000:]}\n"
                    f"{self.log()[-3000:]}")

    @property
    def password(self) -> str:
        return re.search(r"password \(every account\): (\S+)", "".join(self.output)).group(1)

    def log(self) -> str:
        log = self.folder / "hub" / "jupyterhub.log"
        return log.read_text() if log.is_file() else ""

    def home(self, user: str) -> Path:
        return self.folder / "home" / user

    @property
    def exchange(self) -> Path:
        return self.folder / "exchange" / COURSE_ID

    @property
    def course(self) -> Path:
        """The grader's course folder, where the formgrader and the grading service work."""
        return self.home(self.grader) / COURSE_ID

    def remove(self) -> None:
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)
                self.process.wait(timeout=120)
        finally:
            for user in [*self.students, self.instructor, self.grader]:
                deadline = time.monotonic() + 10
                while (left := account_processes(user)) and time.monotonic() < deadline:
                    for pid in left:
                        os.kill(pid, signal.SIGKILL)  # only what a test account left running
                    time.sleep(0.2)
                remove_account(user)
            shutil.rmtree(self.folder, ignore_errors=True)


class Browser:
    """One user's session through the hub, as a browser holds it: cookies, and the XSRF token."""

    def __init__(self, hub: Hub, user: str):
        self.hub, self.user, self.session = hub, user, requests.Session()

    def log_in(self, password: str | None = None) -> requests.Response:
        self.session.get(f"{self.hub.url}/hub/login")
        return self.session.post(f"{self.hub.url}/hub/login", data={
            "username": self.user, "password": password or self.hub.password,
            "_xsrf": self.session.cookies.get("_xsrf", path="/hub/")})

    def open_lab(self) -> None:
        """The user's JupyterLab, its server started by the hub (spawn, then the server's OAuth with the hub)."""
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            page = self.session.get(f"{self.hub.url}/user/{self.user}/lab")
            if page.status_code == 200 and page.url.endswith(f"/user/{self.user}/lab"):
                return
            time.sleep(1)
        pytest.fail(f"{self.user}'s JupyterLab did not open: {page.status_code} {page.url}\n{self.hub.log()[-3000:]}")

    def _xsrf(self, prefix: str) -> dict:
        cookie = next(c for c in self.session.cookies if c.name == "_xsrf" and c.path.startswith(prefix))
        return {"X-XSRFToken": cookie.value}

    def server(self, method: str, path: str, **kwargs) -> requests.Response:
        prefix = f"/user/{self.user}/"
        return self.session.request(method, f"{self.hub.url}{prefix}{path}", headers=self._xsrf(prefix), **kwargs)

    def formgrader(self, path: str) -> dict:
        """What a formgrader button calls (POST to its API, after the formgrader's page was loaded);
        its answer, which must say it succeeded."""
        service = f"/services/{COURSE_ID}/"
        response = self.session.post(f"{self.hub.url}{service}formgrader/api/{path}", headers=self._xsrf(service))
        response.raise_for_status()
        answer = response.json()
        assert answer.get("success", True), f"{path}: {answer}"
        return answer

    def assignments(self, action: str | None = None) -> list[dict]:
        """The Assignments panel's calls: the list, or fetch / submit of ``CHAPTER``."""
        if action is None:
            response = self.server("GET", "assignments", params={"course_id": COURSE_ID})
        else:
            response = self.server("POST", f"assignments/{action}",
                                   data={"course_id": COURSE_ID, "assignment_id": CHAPTER})
        response.raise_for_status()
        listed = response.json()
        assert listed["success"], f"{action or 'the list'} failed: {listed}"
        return listed["value"]

    def run_code(self, code: str) -> str:
        """Run ``code`` in a new kernel of the user's server; what it printed (or its error)."""
        kernel = self.server("POST", "api/kernels", json={"name": "python3"})
        kernel.raise_for_status()
        kernel_id = kernel.json()["id"]
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)
        channel = websocket.create_connection(
            f"ws://127.0.0.1:{self.hub.port}/user/{self.user}/api/kernels/{kernel_id}/channels",
            cookie=cookies, origin=self.hub.url, timeout=120)
        msg_id = uuid.uuid4().hex
        channel.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": self.user,
                       "session": uuid.uuid4().hex, "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False}}))
        printed = []
        try:
            while True:
                message = json.loads(channel.recv())
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if message["msg_type"] == "stream":
                    printed.append(message["content"]["text"])
                elif message["msg_type"] == "error":
                    printed.append(f"{message['content']['ename']}: {message['content']['evalue']}")
                elif message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                    return "".join(printed)
        finally:
            channel.close()
            self.server("DELETE", f"api/kernels/{kernel_id}")


def server_processes(user: str) -> list[str]:
    listed = subprocess.run(["ps", "-o", "args=", "-u", user], capture_output=True, text=True).stdout
    return [line for line in listed.splitlines() if "jupyterhub.singleuser" in line]


def grading_service_processes(user: str) -> list[str]:
    """The command lines of the grading services (`python -m course serve`) running as ``user``, whole
    (``-ww``: ps cuts them at 80 characters where it finds no terminal's width)."""
    listed = subprocess.run(["ps", "-ww", "-o", "args=", "-u", user], capture_output=True, text=True).stdout
    return [line for line in listed.splitlines() if " -m course serve " in line]


def log_in_page(browser, hub: Hub, user: str):
    """A new browser session of ``user``, logged in through the hub's login page (which goes on
    to start the user's server and open it)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(120_000)
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.password)
    page.click("#login_submit")
    return page



def hidden_test_lines(chapter: str) -> list[str]:
    """The lines of the chapter's hidden tests, as written in its source notebook, that appear
    nowhere else in it (a line such as ``super().__init__()`` is in the answers too)."""
    hidden, elsewhere = [], set()
    for cell in nbformat.read(source_notebook(chapter), as_version=4).cells:
        inside = False
        for line in cell.source.splitlines():
            inside = (inside or "BEGIN HIDDEN TESTS" in line) and "END HIDDEN TESTS" not in line
            (hidden.append if inside else elsewhere.add)(line.strip())
    return [line for line in hidden if len(line) > 12 and line not in elsewhere]
