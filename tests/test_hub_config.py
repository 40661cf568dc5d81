"""The hub's configuration as JupyterHub reads it, for what `make hub` sets: the grading service
(make serve) is a hub service of the grader's account only when the deployment asks for it."""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import time

import pytest
from traitlets.config import Config

from course.deploy.accounts import account_processes, kill_account_processes, remove_account
from course.deploy.hub import CONFIG

SETTINGS = {
    "course_id": "dl-computation", "port": 8000, "hub_port": 8081, "proxy_api_port": 8001, "grader_port": 8002,
    "proxy": "/venv/node/configurable-http-proxy", "proxy_token": "t", "hub_state": "/hub/hub", "password": "p",
    "students": ["alice"], "instructor": "instructor", "grader": "grader-dl-computation",
    "python": "/hub/python/bin/python", "course_folder": "/hub/homes/grader-dl-computation/dl-computation",
    "student_args": [], "student_environment": {}, "grader_environment": {"PATH": "/hub/python/bin"},
}


def hub_config(tmp_path, monkeypatch, **changes) -> Config:
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({**SETTINGS, **changes}))
    monkeypatch.setenv("COURSE_HUB_SETTINGS", str(settings))
    config = Config()
    exec(compile(CONFIG.read_text(), str(CONFIG), "exec"), {"get_config": lambda: config})
    return config


@pytest.mark.parametrize("asked", [False, True])
def test_the_grading_service_is_a_hub_service_of_the_grader_when_asked(tmp_path, monkeypatch, asked):
    services = {s["name"]: s for s in hub_config(tmp_path, monkeypatch, grade_on_submit=asked).JupyterHub.services}
    assert "dl-computation" in services, "the formgrader service is missing"
    if not asked:
        assert "dl-computation-grading" not in services
        return
    grading = services["dl-computation-grading"]
    assert grading["user"] == SETTINGS["grader"] and grading["cwd"] == SETTINGS["course_folder"]
    assert grading["command"] == [SETTINGS["python"], "-m", "course", "serve", "--course", SETTINGS["course_folder"]]
    assert "url" not in grading, "the grading service serves no web page; a URL would make the hub proxy to it"



@pytest.mark.skipif(os.geteuid() != 0, reason="creates throw-away accounts: run as root")
def test_a_hub_killed_before_it_stopped_its_services_leaves_nothing_of_its_accounts_running():
    """The hub's servers and services run as its accounts, each in a session of its own: once
    `make hub` has had to SIGKILL a hub that did not stop in time, what its accounts still run is
    killed too, and nobody else's."""
    ours, other = (f"hubtest{secrets.token_hex(3)}" for _ in range(2))
    processes = []
    try:
        for name in (ours, other):
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
            # a stand-in for a service the hub started: a session of its own, as the account
            processes.append(subprocess.Popen(["runuser", "-u", name, "--", "sleep", "120"], start_new_session=True))
        deadline = time.monotonic() + 10
        while not (account_processes(ours) and account_processes(other)):
            assert time.monotonic() < deadline, "the stand-ins did not start"
            time.sleep(0.1)
        kill_account_processes([ours])
        assert processes[0].wait(timeout=10) != 0
        assert processes[1].poll() is None and account_processes(other)
    finally:
        for process in processes:
            process.kill()
            process.wait()
        for name in (ours, other):
            kill_account_processes([name])
            remove_account(name)
