"""The sandbox's memory bound holds for memory that no process maps (``sandbox/memory.py``).

Each attack holds one kind of such memory, up to about twice the cap and never more (well below
the machine, should the bound fail), in a fresh kernel under each protection this machine has:
the memory cgroup and the watch. A kind the system-call filter refuses never gets any memory.
Graded submissions (a pooled kernel, a fresh one) are in ``test_hostile.py`` and below.
"""
from __future__ import annotations

import textwrap

import nbformat
import pytest

from autograders.bank import with_answers
from autograders.sandbox import memory
from autograders.tests import toy
from autograders.tests.toy import make_toy_course
from autograders.tests.kernel_client import capped_kernel
from autograders.tests.test_sandbox import _needs_bwrap, course_tree  # noqa: F401 - a fixture

CAP_MB = 600
# name -> code that holds up to ~2 * CAP_MB of one kind of memory, then prints what it holds
ATTACKS = {
    "sysv_shm": """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        ids = [libc.shmget(0, 64 << 20, 0o1600) for _ in range(20)]
        print("refused" if all(i == -1 for i in ids) and ctypes.get_errno() == 1 else f"made {ids}")
    """,
    "memfd": """
        import os
        try:
            fds = [os.memfd_create(f"m{i}") for i in range(20)]
        except PermissionError:
            print("refused")
        else:
            for fd in fds:
                os.ftruncate(fd, 60 << 20)
                os.pwrite(fd, b"x" * (60 << 20), 0)
            print("held", 20 * 60, "MB")
    """,
    "tmpfs_files": """
        held = 0
        for folder in ("/tmp", "/dev/shm", "."):
            for i in range(4):
                try:
                    with open(f"{folder}/f{i}", "wb") as f:
                        f.write(b"x" * (60 << 20))
                    held += 60
                except OSError:
                    break
        import time
        time.sleep(3)
        print("held", held, "MB")
    """,
    "socket_buffers": """
        import socket, time
        pairs, held, data = [], 0, b"x" * (1 << 20)
        while held < 2 * CAP_MB << 20 and len(pairs) < 400:
            a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
            a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
            a.setblocking(False)
            try:
                while held < 2 * CAP_MB << 20:
                    held += a.send(data)
            except BlockingIOError:
                pass
            pairs.append((a, b))
        time.sleep(3)
        print("held", held >> 20, "MB")
    """,
    "pipe_buffers": """
        import fcntl, os, time
        pipes, held, data = [], 0, b"x" * 65536
        while held < 2 * CAP_MB << 20 and len(pipes) < 480:
            r, w = os.pipe()
            try:
                fcntl.fcntl(w, 1031, 1 << 20)  # F_SETPIPE_SZ
            except OSError:
                pass
            os.set_blocking(w, False)
            try:
                while held < 2 * CAP_MB << 20:
                    held += os.write(w, data)
            except BlockingIOError:
                pass
            pipes.append((r, w))
        time.sleep(3)
        print("held", held >> 20, "MB")
    """,
}
REFUSED = {"sysv_shm", "memfd"}  # by the system-call filter, whatever the protection


def _run_until_done_or_dead(kernel, code, timeout_s=40):
    """What ``code`` printed, or None once the sandbox is gone (killed) before it finished."""
    msg_id = kernel.kc.execute(code)
    for _ in range(timeout_s):
        try:
            return kernel.collect(msg_id, timeout=1)
        except TimeoutError:
            if not kernel.km.is_alive():
                return None
    raise AssertionError(f"neither done nor stopped in {timeout_s} s")


@pytest.mark.parametrize("protection", ["watch", "cgroup"])
@pytest.mark.parametrize("kind", sorted(ATTACKS))
def test_memory_no_process_maps_is_refused_or_stopped_at_the_cap(course_tree, tmp_path, protection, kind):  # noqa: F811
    _needs_bwrap()
    log = tmp_path / "launcher.log"
    with open(log, "w") as stderr:
        k = capped_kernel(course_tree, kind, protection, CAP_MB, stderr)
        try:
            result = _run_until_done_or_dead(k, f"CAP_MB = {CAP_MB}\n" + textwrap.dedent(ATTACKS[kind]))
            alive = k.km.is_alive()
        finally:
            k.close()
    said = log.read_text()
    hit = course_tree["runtime"] / memory.LIMIT_HIT
    if kind in REFUSED:
        assert result is not None and result["stdout"] == "refused\n" and alive, result
    elif result is None:
        assert not alive and "SANDBOX: " in said and "memory" in said, said
        assert hit.exists(), "the grader is told that the memory limit was hit"
    else:
        # not stopped: then what it could hold stayed under the cap (pipes: the kernel's own
        # per-user bound on pipe buffers, where the cgroup counts them too)
        assert kind == "pipe_buffers" and protection == "cgroup", (kind, result)
        assert int(result["stdout"].split()[1]) < CAP_MB, result
    hit.unlink(missing_ok=True)


def test_doctor_says_which_memory_protection_is_active():
    from autograders.sandbox import protections

    info = protections()
    assert info.report()["memory_cgroup"] == (memory.cgroup_kind() or False)
    assert ("memory cgroup" if info.memory_cgroup else "the watch") in info.memory_protection


def test_grading_fails_closed_when_a_cgroup_is_asked_for_and_none_is_lent(tmp_path, monkeypatch):
    from course import operations
    from course.course_dir import PipelineError

    monkeypatch.setenv("COURSE_SANDBOX_MEMORY_PROTECTION", "cgroup")
    monkeypatch.setattr(memory, "cgroup_kind", lambda: None)
    with pytest.raises(PipelineError, match="no memory cgroup"):
        operations.refuse_missing_protections()


HOLDS_TMPFS_AND_CHILDREN = """import os, time
for folder in ("/tmp", "/dev/shm", "."):
    for i in range(4):
        try:
            with open(f"{folder}/f{i}", "wb") as f:
                f.write(b"x" * (60 << 20))
        except OSError:
            break
for _ in range(2):  # 2 x 700 MB and the kernel's own: under the cap; the tmpfs files: over it
    if os.fork() == 0:
        block = b"\\1" * (700 << 20)
        time.sleep(20)
        os._exit(0)
time.sleep(20)
def double(x):
    return 2 * x
"""


def test_a_graded_kernel_of_its_own_over_the_cap_is_stopped_and_told_so(monkeypatch):
    # the pooled kernels meet the same in the hostile corpus; here each has a sandbox of its own,
    # whose processes' set sizes stay under the cap while the tmpfs files take the total over it
    monkeypatch.setenv("COURSE_SANDBOX_TOTAL_MEMORY_MB", "2048")
    course = make_toy_course()
    reference = nbformat.read(course.root / "source" / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.ipynb", as_version=4)
    course.submit_notebook("control", toy.ASSIGNMENT, reference)
    course.submit_notebook("hog", toy.ASSIGNMENT, with_answers(reference, {"double": HOLDS_TMPFS_AND_CHILDREN}))
    from course import operations

    operations.autograde(course, toy.ASSIGNMENT, kernel_pool=False)
    operations.feedback(course, toy.ASSIGNMENT)
    scores = course.scores(toy.ASSIGNMENT)
    assert all(score == top for score, top in scores["control"].values())
    assert scores["hog"]["halve_hidden"] == (2.0, 2.0) and not scores["hog"]["double_hidden"][0]
    html = (course.root / "feedback" / "hog" / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.html").read_text()
    assert "MemoryLimit" in html and "more memory than a submission may" in html
