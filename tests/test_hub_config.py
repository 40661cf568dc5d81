"""The hub's configuration as JupyterHub reads it, for what `make hub` sets: the grading service
(make serve) is a hub service of the grader's account only when the deployment asks for it."""
from __future__ import annotations

import json

import pytest
from traitlets.config import Config

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


def test_a_hub_killed_before_it_stopped_its_services_leaves_no_grading_service(tmp_path):
    """The hub's services run in sessions of their own: once `make hub` has had to SIGKILL a hub
    that did not stop in time, the deployment's grading service is killed too, and no other
    course's."""
    import subprocess
    import sys
    from types import SimpleNamespace

    from course.deploy.hub import HubDeployment

    ours, theirs = tmp_path / "ours", tmp_path / "ours2"  # a name that begins with the other's

    def service(folder):  # a stand-in with the service's command line, in a session of its own
        return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "-m", "course", "serve",
                                 "--course", str(folder)], start_new_session=True)

    left, other = service(ours), service(theirs)
    try:
        HubDeployment._kill_services_left(SimpleNamespace(course_folder=ours))
        assert left.wait(timeout=10) == -9
        assert other.poll() is None
    finally:
        for process in (left, other):
            process.kill()
            process.wait()
