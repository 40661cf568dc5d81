"""The course on a real JupyterHub, as `make hub GRADE_ON_SUBMIT=1` starts it: real Unix accounts,
configurable-http-proxy, a PostgreSQL gradebook, and two hub services run by the grader's account:
the formgrader and the grading service.

Students log in through the hub's login page over HTTP, as a browser does; their servers' nbgrader
Assignments panel (its HTTP API, which the panel calls) fetches and submits chapter 1, and a kernel in
another student's server tries to reach what is not theirs. The instructor collects, autogrades and
releases feedback through the formgrader's HTTP API (what its buttons call), run by the grader's
account with the course's sandbox and judge on the PostgreSQL gradebook, and a student fetches it.
The hub's grading service grades every submission as it arrives and releases its feedback; the
formgrader works beside it on the same folders and gradebook.
Ctrl-C (SIGINT) on `make hub`'s process stops everything it started, and the hub started again finds
the students' work where they left it.
"""
from __future__ import annotations

import html
import json
import os
import pwd
import re
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from course.course_dir import source_notebook
from course.serve.ledger import ledger_file
from hub_support import (ARTIFACTS, CHAPTER, COURSE_ID, Browser, Hub, grading_service_processes, hidden_test_lines,
                         log_in_page, server_processes)
from browser_support import CHROMIUM, CHROMIUM_ARGS, open_assignments

if os.geteuid() != 0 and not os.environ.get("CI"):
    pytest.skip("the hub creates Unix accounts and spawns servers as them: run as root", allow_module_level=True)


@pytest.fixture(scope="module")
def hub():
    started = time.monotonic()
    hub = Hub(grade_on_submit=True)
    try:
        hub.wait_ready()
        print(f"the hub was up in {time.monotonic() - started:.0f} s")
        yield hub
    finally:
        hub.remove()


def decisions(hub: Hub) -> dict[str, dict]:
    """What the hub's grading service decided so far (its ledger), by the submission's folder name."""
    path = ledger_file(hub.course)
    found = {}
    for line in path.read_text().splitlines() if path.is_file() else []:
        try:
            record = json.loads(line)
        except ValueError:  # a line being written
            continue
        if "entry" in record:
            found[record["entry"]] = record
    return found


def wait_for_decisions(hub: Hub, names: list[str], timeout: float = 300) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    while not set(names) <= set(found := decisions(hub)):
        assert grading_service_processes(hub.grader), f"the grading service stopped:\n{hub.log()[-3000:]}"
        assert time.monotonic() < deadline, \
            f"the grading service decided none of {sorted(set(names) - set(found))} in {timeout} s:\n{hub.log()[-3000:]}"
        time.sleep(1)
    return found


def test_a_wrong_password_or_an_unknown_student_is_refused(hub):
    for user, password in [(hub.students[0], "not-the-password"), ("mallory", None)]:
        browser = Browser(hub, user)
        page = browser.log_in(password)
        assert page.url.startswith(f"{hub.url}/hub/login") and "Invalid username or password" in page.text
        assert browser.session.get(f"{hub.url}/user/{user}/lab").url.startswith(f"{hub.url}/hub/login")


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


def test_the_instructor_grades_in_the_formgrader_and_the_student_fetches_feedback(hub):
    """ben hands in the reference answers, ada her untouched copy twice; the hub's grading service
    grades each as it arrives. Then the instructor collects and autogrades them again in the
    formgrader (the grader's account, the course's sandbox and judge, the PostgreSQL gradebook)
    and releases feedback, which ben fetches in his Assignments panel."""
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
    (bens,) = (hub.exchange / "inbound").glob(f"{ben}+{CHAPTER}+*")
    latest = max((hub.exchange / "inbound").glob(f"{ada}+{CHAPTER}+*"), key=lambda p: p.name)
    # nothing locks submitted/ between the service and a collect at the same moment
    # (docs/grading-service.md): the instructor collects once the service has graded
    decided = wait_for_decisions(hub, [bens.name, latest.name])
    assert decided[bens.name]["state"] == decided[latest.name]["state"] == "graded", decided

    instructor = Browser(hub, hub.instructor)
    instructor.log_in()
    service = f"/services/{COURSE_ID}/formgrader"
    instructor.session.get(f"{hub.url}{service}")

    formgrader = instructor.formgrader

    formgrader(f"assignment/{CHAPTER}/collect")
    course = hub.course
    assert (course / "submitted" / ada / CHAPTER / "timestamp.txt").read_text() == \
        (latest / "timestamp.txt").read_text(), "collect did not take ada's latest submission"
    for student in (ada, ben):
        formgrader(f"submission/{CHAPTER}/{student}/autograde")
    scores = {row["student"]: row for row in
              instructor.session.get(f"{hub.url}{service}/api/submissions/{CHAPTER}").json()}
    assert scores[ben]["code_score"] == scores[ben]["max_code_score"] > 0, scores[ben]
    assert scores[ada]["code_score"] == 0, scores[ada]
    for student, entry in ((ben, bens), (ada, latest)):  # the service's grading and nbgrader's agree
        assert decided[entry.name]["score"] == scores[student]["score"], (decided[entry.name], scores[student])
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


def test_the_hubs_grading_service_feeds_back_a_submission_seconds_after_submit(hub):
    """`make hub GRADE_ON_SUBMIT=1`: the hub runs the grading service as its service
    `<course>-grading`, as the grader account in its course folder, on the PostgreSQL gradebook (the
    course's grading without root), and writes its log into the hub's. ben submits again; his new
    feedback is released without the instructor and he fetches it."""
    ben = hub.students[1]
    command = f"-m course serve --course {hub.course}"
    assert any(line.endswith(command) for line in grading_service_processes(hub.grader)), \
        f"the hub runs no grading service as {hub.grader}:\n{hub.log()[-3000:]}"
    ready, deadline = f"grading service ready: watching {hub.exchange / 'inbound'}", time.monotonic() + 300
    while ready not in hub.log():  # the hub does not wait for it: its first start takes a while
        assert grading_service_processes(hub.grader), f"the grading service stopped:\n{hub.log()[-3000:]}"
        assert time.monotonic() < deadline, f"the grading service was not ready in 300 s:\n{hub.log()[-3000:]}"
        time.sleep(1)
    browser = Browser(hub, ben)
    browser.log_in()
    browser.open_lab()
    before = set((hub.exchange / "inbound").glob(f"{ben}+{CHAPTER}+*"))
    browser.assignments("submit")
    (submitted,) = set((hub.exchange / "inbound").glob(f"{ben}+{CHAPTER}+*")) - before
    timestamp = submitted.name.split("+")[2]
    newest = hub.home(ben) / CHAPTER / "feedback" / timestamp / f"{source_notebook(CHAPTER).stem}.html"
    deadline = time.monotonic() + 300
    while not newest.is_file():
        assert grading_service_processes(hub.grader), f"the grading service stopped:\n{hub.log()[-3000:]}"
        assert time.monotonic() < deadline, f"no feedback of the new submission:\n{hub.log()[-3000:]}"
        time.sleep(1)
        browser.assignments("fetch_feedback")  # as the student presses Fetch Feedback until it comes
    assert newest.stat().st_uid == pwd.getpwnam(ben).pw_uid
    shown = newest.read_text()
    with_points = re.search(r"Score: ([\d.]+) / ([\d.]+)", shown)
    assert with_points and float(with_points.group(1)) > 0, "the service's feedback shows no points"
    leaked = [line for line in hidden_test_lines(CHAPTER) if line in shown or html.escape(line) in shown]
    assert not leaked and "HIDDEN TESTS" not in shown, f"the feedback shows hidden tests: {leaked[:3]}"
    graded = hub.course / "autograded" / ben / CHAPTER
    assert graded.stat().st_uid == pwd.getpwnam(hub.grader).pw_uid
    decided = wait_for_decisions(hub, [submitted.name], 60)[submitted.name]
    assert decided["state"] == "graded" and decided["score"] > 0, decided
    log = hub.log()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "jupyterhub.log").write_text(log)
    assert re.search(rf"graded {re.escape(ben)}/{CHAPTER}: [\d.]+/[\d.]+, [\d.]+ s from submit to feedback", log), \
        "the service's decision is not in the hub's log"


def test_ctrl_c_stops_everything_it_started(hub):
    postmaster = hub.folder / "postgres" / "data" / "postmaster.pid"
    assert postmaster.is_file()
    hub.process.send_signal(signal.SIGINT)
    assert hub.process.wait(timeout=120) == 0
    for user in [*hub.students, hub.instructor, hub.grader]:
        assert not server_processes(user), f"{user}'s server outlived the hub"
    assert not grading_service_processes(hub.grader), "the grading service outlived the hub"
    assert hub.log().count("grading service stopped") == 1, \
        f"the hub did not stop its grading service cleanly:\n{hub.log()[-3000:]}"
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
