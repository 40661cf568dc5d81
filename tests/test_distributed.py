"""Grading on a Dask cluster of separate processes, as on separate hosts: a scheduler and two
workers started with the course's own commands (`python -m course scheduler`, `… worker`), each
worker in a folder of its own, never told where the course is. They grade the demo's class of a
chapter to the scores this machine's own cluster gives; a worker of other course code is refused;
only a client holding the course's certificates may connect."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from distributed import Client

from course import cluster, operations
from course.bench import build_class, share_grading_secret
from course.course_dir import REPO, Course, PipelineError
from course.deploy.postgres import free_port

CHAPTER = "01_layers_and_blocks"


def _workers(address: str, certificates: Path, count: int, timeout: float = 120) -> None:
    """Wait until ``count`` workers have joined the scheduler."""
    with Client(address, security=cluster.security(certificates), timeout=30) as client:
        client.wait_for_workers(count, timeout=timeout)


@pytest.fixture
def scheduler(tmp_path):
    """A scheduler of the course's own, with no worker yet: its address and certificates."""
    with cluster.separate_hosts(tmp_path / "cluster", workers=0) as started:
        yield started


def _remote_course(course: Course, certificates: Path, address: str) -> None:
    with open(course.root / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.ParallelGrading.scheduler = {address!r}\nc.ParallelGrading.certificates = {str(certificates)!r}\n")


def test_two_separate_workers_grade_a_class_to_the_scores_of_one_machine(tmp_path):
    here, there = Course.scratch([CHAPTER]), Course.scratch([CHAPTER])
    share_grading_secret(here, there)
    for course in (here, there):
        operations.generate(course)
        build_class(course, [CHAPTER])
    with cluster.separate_hosts(tmp_path, workers=2) as (address, certificates):
        _remote_course(there, certificates, address)
        (local,) = operations.autograde(here, jobs=2)
        (remote,) = operations.autograde(there)
        assert sorted(remote.graded) == sorted(local.graded) and len(remote.graded) > 10
        assert there.scores(CHAPTER) == here.scores(CHAPTER)
        # every graded notebook came back to the instructor's folder, written there by this process
        assert sorted(p.parent.parent.name for p in (there.root / "autograded").glob(f"*/{CHAPTER}/*.ipynb")) \
            == sorted(remote.graded)
        # the hosts unpacked the chapter and the submissions in folders of their own, and the run
        # left none of it there when it ended
        left = [p for i in (1, 2) for p in (tmp_path / f"host{i}" / "scratch").rglob("*.ipynb")]
        assert not left, left


def test_a_worker_of_other_course_code_is_refused_and_the_others_grade(scheduler, tmp_path, toy_course):
    address, certificates = scheduler
    other = tmp_path / "other-checkout"
    for part in ("autograders", "course"):
        shutil.copytree(REPO / part, other / part, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    shutil.copy(REPO / "requirements.txt", other / "requirements.txt")
    with open(other / "course" / "worker.py", "a") as changed:
        changed.write("\n# another commit\n")
    from autograders.tests import toy

    toy_course.submit_notebook("someone", toy.ASSIGNMENT, toy.toy_notebook())
    _remote_course(toy_course, certificates, address)
    stale = cluster.worker_process(address, certificates, tmp_path / "stale", checkout=other)
    try:
        _workers(address, certificates, 1)
        with pytest.raises(PipelineError, match="no grading worker runs this checkout's course code"):
            operations.autograde(toy_course)
        assert not (toy_course.root / "autograded").exists()
        good = cluster.worker_process(address, certificates, tmp_path / "good")
        try:
            _workers(address, certificates, 2)
            (run,) = operations.autograde(toy_course)
            assert run.graded == ["someone"]
        finally:
            cluster.stop(good)
    finally:
        cluster.stop(stale)


def test_only_the_course_certificates_open_the_cluster(scheduler, tmp_path):
    address, certificates = scheduler
    with pytest.raises((OSError, TimeoutError)):
        Client(address.replace("tls://", "tcp://"), timeout=5)  # no certificate, no TLS
    strangers = cluster.make_certificates(tmp_path / "strangers")[0].parent
    with pytest.raises((OSError, TimeoutError)):
        Client(address, security=cluster.security(strangers), timeout=5)  # another authority's
    # a worker of another authority's certificates (`dask worker` itself, as anyone could start it)
    # never joins: the scheduler refuses its handshake
    with open(tmp_path / "intruder.log", "w") as log:
        intruder = subprocess.Popen(cluster.worker_command(address, strangers, 1, str(tmp_path / "intruder")),
                                    stdout=log, stderr=subprocess.STDOUT)
    try:
        with Client(address, security=cluster.security(certificates), timeout=30) as client:
            assert client.scheduler_info()["address"] == address
            time.sleep(15)  # time enough to join, as the course's own workers do in a few seconds
            assert client.scheduler_info(n_workers=-1)["workers"] == {}
    finally:
        cluster.stop(intruder)
    assert oct((certificates / "course-key.pem").stat().st_mode & 0o777) == "0o600"


def test_the_local_cluster_listens_on_the_loopback_and_dask_never_limits_a_workers_memory(tmp_path):
    with cluster.grading_client(2) as client:
        info = client.scheduler_info(n_workers=-1)
        assert info["address"].startswith("tls://127.0.0.1:")
        assert len(info["workers"]) == 2 and all(address.startswith("tls://127.0.0.1:") for address in info["workers"])
        assert all(worker["memory_limit"] == 0 for worker in info["workers"].values())
    assert "--memory-limit" in (command := cluster.worker_command("tls://h:8786", cluster.make_certificates(tmp_path)[0].parent, 1, None)) \
        and command[command.index("--memory-limit") + 1] == "0"


def test_a_scheduler_that_is_not_there_or_not_tls_is_a_clear_error_before_anything_is_written(tmp_path, toy_course):
    certificates = cluster.make_certificates(tmp_path / "certs")[0].parent
    from autograders.tests import toy

    toy_course.submit_notebook("someone", toy.ASSIGNMENT, toy.toy_notebook())
    with pytest.raises(PipelineError, match="must be tls://"):
        operations.autograde(toy_course, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(PipelineError, match="no grading certificates"):
        operations.autograde(toy_course, scheduler="tls://127.0.0.1:8786")  # the course has no certs/
    _remote_course(toy_course, certificates, f"tls://127.0.0.1:{free_port()}")
    with pytest.raises(PipelineError, match="did not answer"):
        operations.autograde(toy_course)
    assert not (toy_course.root / "autograded").exists()
