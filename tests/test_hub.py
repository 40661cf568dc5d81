"""The course on a real JupyterHub, as `make hub` starts it: real Unix accounts, configurable-http-proxy,
a PostgreSQL gradebook and the formgrader as a hub service run by the grader's account.

Students log in through the hub's login page over HTTP, as a browser does; their servers' nbgrader
Assignments panel (its HTTP API, which the panel calls) fetches and submits chapter 1, and a kernel in
another student's server tries to reach what is not theirs. The instructor collects, autogrades and
releases feedback through the formgrader's HTTP API (what its buttons call), run by the grader's
account with the course's sandbox and judge on the PostgreSQL gradebook, and a student fetches it.
Ctrl-C (SIGINT) on `make hub`'s process stops everything it started, and the hub started again finds
the students' work where they left it.
"""
from __future__ import annotations

import html
import json
import os
import pwd
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
from playwright.sync_api import expect, sync_playwright

from course.deploy.accounts import remove_account
from course.deploy.postgres import free_port
from course.course_dir import REPO, assignments, source_notebook
from test_browser import CHROMIUM, CHROMIUM_ARGS, open_assignments

CHAPTER = assignments()[0]
COURSE_ID = "dl-computation"
ARTIFACTS = REPO / "artifacts" / "hub"
STARTUP_TIMEOUT = 300  # seconds: accounts, PostgreSQL, the chapter generated and released, the hub

if os.geteuid() != 0 and not os.environ.get("CI"):
    pytest.skip("the hub creates Unix accounts and spawns servers as them: run as root", allow_module_level=True)


class Hub:
    """`python -m course.deploy.hub` (what `make hub` runs) in a folder of its own, with accounts
    named uniquely for this run."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="course-hub-"))
        self.folder.chmod(0o755)  # the accounts reach their homes and the exchange through it
        tag = secrets.token_hex(3)
        self.students = [f"ada{tag}", f"ben{tag}"]
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
             "--chapters", CHAPTER],
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


@pytest.fixture(scope="module")
def hub():
    started = time.monotonic()
    hub = Hub()
    try:
        hub.wait_ready()
        print(f"the hub was up in {time.monotonic() - started:.0f} s")
        yield hub
    finally:
        hub.remove()


def account_processes(user: str) -> list[int]:
    listed = subprocess.run(["ps", "-o", "pid=", "-u", user], capture_output=True, text=True).stdout
    return [int(pid) for pid in listed.split()]


def server_processes(user: str) -> list[str]:
    listed = subprocess.run(["ps", "-o", "args=", "-u", user], capture_output=True, text=True).stdout
    return [line for line in listed.splitlines() if "jupyterhub.singleuser" in line]


def test_a_wrong_password_or_an_unknown_student_is_refused(hub):
    for user, password in [(hub.students[0], "not-the-password"), ("mallory", None)]:
        browser = Browser(hub, user)
        page = browser.log_in(password)
        assert page.url.startswith(f"{hub.url}/hub/login") and "Invalid username or password" in page.text
        assert browser.session.get(f"{hub.url}/user/{user}/lab").url.startswith(f"{hub.url}/hub/login")


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


def test_a_student_and_the_instructor_log_in_through_the_hubs_page_in_a_browser(hub):
    """Chromium (Debian's, as tests/test_browser.py drives it) on the hub's login page: the
    student's JupyterLab with the Assignments panel listing the released chapter and no instructor
    menu; the instructor's formgrader listing it."""
    ada = hub.students[0]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = None
        try:
            page = log_in_page(browser, hub, ada)
            expect(page.locator("#jp-MainMenu")).to_be_visible(timeout=240_000)
            page.locator("#jp-MainMenu").get_by_text("Nbgrader", exact=True).click()
            menu = page.locator(".lm-Menu")
            expect(menu.get_by_text("Assignment List", exact=True)).to_be_visible()
            assert menu.get_by_text("Formgrader", exact=True).count() == 0, "the student has the instructor's menu"
            page.keyboard.press("Escape")
            open_assignments(page)
            expect(page.locator("#released_assignments_list > .list_item", has_text=CHAPTER)).to_be_visible()
            page.screenshot(path=ARTIFACTS / "student-assignments.png")

            page = log_in_page(browser, hub, hub.instructor)
            expect(page.locator("#jp-MainMenu")).to_be_visible(timeout=240_000)
            page.goto(f"{hub.url}/services/{COURSE_ID}/formgrader")
            row = page.locator("tr", has_text=CHAPTER)
            expect(row).to_be_visible(timeout=240_000)
            expect(row.get_by_text("released")).to_be_visible()
            page.screenshot(path=ARTIFACTS / "instructor-formgrader.png")
        except Exception:
            if page is not None:  # the screen as it was, and where
                page.screenshot(path=ARTIFACTS / "failed.png")
                print(f"failed at {page.url}")
            raise
        finally:
            browser.close()


def test_a_student_works_in_a_server_of_their_own_account_and_reaches_nobody_elses(hub):
    ada, ben = hub.students
    ada_browser, ben_browser = Browser(hub, ada), Browser(hub, ben)
    ada_browser.log_in()
    ada_browser.open_lab()
    assert server_processes(ada), f"no server runs as {ada}"
    account = pwd.getpwnam(ada)
    assert (hub.home(ada).stat().st_mode & 0o777) == 0o700

    released = ada_browser.assignments()
    assert [a["assignment_id"] for a in released if a["status"] == "released"] == [CHAPTER]
    ada_browser.assignments("fetch")
    fetched = next(hub.home(ada).glob(f"{CHAPTER}/*.ipynb"))
    assert fetched.stat().st_uid == account.pw_uid, "the server that fetched the chapter is not ada's account"
    ada_browser.assignments("submit")
    submissions = list((hub.exchange / "inbound").glob(f"{ada}+{CHAPTER}+*"))
    assert len(submissions) == 1 and submissions[0].stat().st_uid == account.pw_uid
    assert (hub.exchange / "inbound").stat().st_mode & 0o777 == 0o733, "students could list the inbound"

    ben_browser.log_in()
    ben_browser.open_lab()
    probe = f"""
import glob, os
print("uid", os.getuid())
print("outbound", sorted(os.listdir({str(hub.exchange / 'outbound')!r})))
for name, attempt in [("home", lambda: os.listdir({str(hub.home(ada))!r})),
                      ("notebook", lambda: open({str(fetched)!r}).read()),
                      ("inbound", lambda: os.listdir({str(hub.exchange / 'inbound')!r}))]:
    try:
        attempt()
        print(name, "READ")
    except PermissionError:
        print(name, "refused")
print("found", glob.glob({str(hub.exchange / 'inbound' / '*')!r}))
"""
    seen = ben_browser.run_code(probe)
    assert f"uid {pwd.getpwnam(ben).pw_uid}\n" in seen, f"ben's kernel does not run as ben: {seen}"
    assert f"outbound ['{CHAPTER}']" in seen, f"ben cannot see the released chapter: {seen}"
    for name in ("home", "notebook", "inbound"):
        assert f"{name} refused" in seen, f"ben reached ada's {name}: {seen}"
    assert "found []" in seen, f"ben found submissions in the inbound: {seen}"


def test_the_formgrader_is_a_hub_service_for_the_instructor_only(hub):
    instructor = Browser(hub, hub.instructor)
    instructor.log_in()
    service = f"{hub.url}/services/{COURSE_ID}"
    page = instructor.session.get(f"{service}/formgrader")
    assert page.status_code == 200 and page.url.startswith(f"{service}/formgrader"), page.url
    listed = instructor.session.get(f"{service}/formgrader/api/assignments").json()
    assert [a["name"] for a in listed] == [CHAPTER] and listed[0]["status"] == "released"
    assert server_processes(hub.grader), "the formgrader does not run as the grader's account"
    student = Browser(hub, hub.students[1])
    student.log_in()
    assert student.session.get(f"{service}/formgrader/api/assignments").status_code in (403, 404)


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


def test_the_instructor_grades_in_the_formgrader_and_the_student_fetches_feedback(hub):
    """ben hands in the reference answers, ada her untouched copy twice; the instructor collects
    and autogrades in the formgrader (the grader's account, the course's sandbox and judge, the
    PostgreSQL gradebook) and releases feedback, which ben fetches in his Assignments panel."""
    ada, ben = hub.students
    ben_browser = Browser(hub, ben)
    ben_browser.log_in()
    ben_browser.open_lab()
    ben_browser.assignments("fetch")
    name = source_notebook(CHAPTER).name
    reference = nbformat.reads(nbformat.writes(nbformat.read(source_notebook(CHAPTER), as_version=4)), as_version=4)
    saved = ben_browser.server("PUT", f"api/contents/{CHAPTER}/{name}", json={"type": "notebook", "content": reference})
    assert saved.status_code in (200, 201), saved.text
    ben_browser.assignments("submit")
    ada_browser = Browser(hub, ada)
    ada_browser.log_in()
    ada_browser.open_lab()
    time.sleep(1)  # nbgrader's submissions are told apart by their timestamps
    ada_browser.assignments("submit")  # the second time
    assert len(list((hub.exchange / "inbound").glob(f"{ada}+{CHAPTER}+*"))) == 2

    instructor = Browser(hub, hub.instructor)
    instructor.log_in()
    service = f"/services/{COURSE_ID}/formgrader"
    instructor.session.get(f"{hub.url}{service}")

    def formgrader(path: str) -> dict:
        response = instructor.session.post(f"{hub.url}{service}/api/{path}", headers=instructor._xsrf(f"/services/{COURSE_ID}/"))
        response.raise_for_status()
        answer = response.json()
        assert answer.get("success", True), f"{path}: {answer}"
        return answer

    formgrader(f"assignment/{CHAPTER}/collect")
    course = hub.folder / "home" / hub.grader / COURSE_ID
    latest = max((hub.exchange / "inbound").glob(f"{ada}+{CHAPTER}+*"), key=lambda p: p.name)
    assert (course / "submitted" / ada / CHAPTER / "timestamp.txt").read_text() == \
        (latest / "timestamp.txt").read_text(), "collect did not take ada's latest submission"
    for student in (ada, ben):
        formgrader(f"submission/{CHAPTER}/{student}/autograde")
    scores = {row["student"]: row for row in
              instructor.session.get(f"{hub.url}{service}/api/submissions/{CHAPTER}").json()}
    assert scores[ben]["code_score"] == scores[ben]["max_code_score"] > 0, scores[ben]
    assert scores[ada]["code_score"] == 0, scores[ada]
    assert (course / "autograded" / ben / CHAPTER / name).stat().st_uid == pwd.getpwnam(hub.grader).pw_uid

    formgrader(f"assignment/{CHAPTER}/generate_feedback")
    formgrader(f"assignment/{CHAPTER}/release_feedback")
    ben_browser.assignments("fetch_feedback")
    feedback = list(hub.home(ben).glob(f"{CHAPTER}/feedback/*/{Path(name).stem}.html"))
    assert len(feedback) == 1 and feedback[0].stat().st_uid == pwd.getpwnam(ben).pw_uid
    shown = feedback[0].read_text()
    assert f"{scores[ben]['max_code_score']:g}" in shown
    leaked = [line for line in hidden_test_lines(CHAPTER) if line in shown or html.escape(line) in shown]
    assert not leaked and "HIDDEN TESTS" not in shown, f"the feedback shows hidden tests: {leaked[:3]}"


def test_ctrl_c_stops_everything_it_started(hub):
    postmaster = hub.folder / "postgres" / "data" / "postmaster.pid"
    assert postmaster.is_file()
    hub.process.send_signal(signal.SIGINT)
    assert hub.process.wait(timeout=120) == 0
    for user in [*hub.students, hub.instructor, hub.grader]:
        assert not server_processes(user), f"{user}'s server outlived the hub"
    assert not postmaster.exists(), "PostgreSQL outlived the hub"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{hub.url}/hub/api", timeout=5)
    left = subprocess.run(["pgrep", "-f", str(hub.folder)], capture_output=True, text=True).stdout.split()
    assert not left, f"processes of the hub outlived it: {left}"


def test_the_hub_started_again_keeps_the_students_work(hub):
    ada = hub.students[0]
    fetched = list(hub.home(ada).glob(f"{CHAPTER}/*.ipynb"))
    submitted = list((hub.exchange / "inbound").glob(f"{ada}+{CHAPTER}+*"))
    assert fetched and submitted, "the first run left no work to keep"
    hub.start()
    hub.wait_ready()
    browser = Browser(hub, ada)
    browser.log_in()
    browser.open_lab()
    listed = browser.server("GET", f"api/contents/{CHAPTER}").json()
    assert [item["name"] for item in listed["content"] if item["name"].endswith(".ipynb")] == [fetched[0].name]
    assert list((hub.exchange / "inbound").glob(f"{ada}+{CHAPTER}+*")) == submitted
    statuses = {a["status"] for a in browser.assignments() if a["assignment_id"] == CHAPTER}
    assert "submitted" in statuses, f"the Assignments panel lost ada's submission: {statuses}"
    instructor = Browser(hub, hub.instructor)
    instructor.log_in()
    listed = instructor.session.get(f"{hub.url}/services/{COURSE_ID}/formgrader/api/assignments").json()
    assert [a["name"] for a in listed] == [CHAPTER], "the gradebook lost the chapter"
