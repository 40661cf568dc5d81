"""The kernel pool (``autograders/sandbox/pool.py``, ``course_zygote``): each kernel it forks
starts as clean as a kernel with a sandbox of its own, and no kernel can reach the zygote.

Kernels are started as grading starts them: jupyter_client's KernelManager with the installed
``course-sandbox`` kernelspec, ZMQ over IPC, while a ``KernelPool`` is open in this process.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import nbformat
import pytest

from autograders.bank import with_answers
from autograders.sandbox import protections
from autograders.sandbox.pool import MAX_FAILED_STARTS, KernelPool
from autograders.sandbox.settings import POOL_ENV
from autograders.tests import toy
from autograders.tests.kernel_client import Kernel
from course import operations

if not protections().bwrap_usable:
    pytest.skip("the kernel pool needs the sandbox (see `python -m autograders.sandbox doctor`)",
                allow_module_level=True)

MARK = "course-pool-leftover"

# A kernel that leaves everything it can behind: files where a kernel may write (an IPython
# startup file among them, which a later kernel would run), a detached process that keeps
# writing, and changes to modules and the environment.
LEAVE_TRACES = textwrap.dedent(f"""
    import os, subprocess, sys, torch
    for folder in ('/tmp', '/dev/shm', '.'):
        open(os.path.join(folder, '{MARK}'), 'w').write('x')
    os.makedirs('/tmp/.ipython/profile_default/startup', exist_ok=True)
    open('/tmp/.ipython/profile_default/startup/00-{MARK}.py', 'w').write("LEFTOVER = True")
    os.mkdir('locked'); os.chmod('locked', 0)
    subprocess.Popen([sys.executable, '-c', 'import time\\nwhile True:\\n    open("/tmp/{MARK}-late", "w").write("x"); time.sleep(0.02)', '{MARK}'],
                     start_new_session=True)
    torch.leftover = 1
    os.environ['LEFTOVER'] = '1'
    print('left')
""")

FIND_TRACES = textwrap.dedent(f"""
    import json, os, time, torch
    time.sleep(0.3)  # a surviving writer would have written again by now
    def cmdline(pid):
        try:
            return open(f'/proc/{{pid}}/cmdline').read()
        except OSError:
            return ''
    print(json.dumps({{
        'files': [p for p in ('/tmp/{MARK}', '/dev/shm/{MARK}', '{MARK}', '/tmp/{MARK}-late', 'locked',
                             '/tmp/.ipython/profile_default/startup/00-{MARK}.py') if os.path.lexists(p)],
        'processes': [p for p in os.listdir('/proc') if p.isdigit() and '{MARK}' in cmdline(p)],
        'state': [name for name, there in [('torch', hasattr(torch, 'leftover')), ('env', 'LEFTOVER' in os.environ),
                                            ('startup', 'LEFTOVER' in globals())] if there],
        'folder': sorted(os.listdir('.')),
    }}))
""")


@pytest.fixture
def pool():
    with KernelPool() as kernels:
        assert kernels.ready()
        yield kernels


def _kernel(folder, client):
    return Kernel(folder, ip=client / "kernel-ipc")


def _printed_json(tmp_path, code):
    """Run ``code`` in one kernel, in a folder of its own; what it printed, read as JSON."""
    work, client = tmp_path / "work", tmp_path / "client"
    work.mkdir()
    client.mkdir()
    kernel = _kernel(work, client)
    try:
        result = kernel.run(code)
        assert result["error"] is None, result
    finally:
        kernel.close()
    return json.loads(result["stdout"])


def test_each_kernel_starts_clean(pool, tmp_path):
    first, second, client = tmp_path / "first", tmp_path / "second", tmp_path / "client"
    for folder in (first, second, client):
        folder.mkdir()
    (first / "answers.txt").write_text("the first student's")
    (second / "answers.txt").write_text("the second student's")

    kernel = _kernel(first, client)
    try:
        assert kernel.run(LEAVE_TRACES)["stdout"].strip() == "left"
    finally:
        kernel.close()
    assert pool.ready() and pool.kernels_served == 1

    kernel = _kernel(second, client)
    try:
        result = kernel.run(FIND_TRACES)
        assert result["error"] is None, result
        assert kernel.value("open('answers.txt').read()") == "the second student's"
    finally:
        kernel.close()
    assert json.loads(result["stdout"]) == {"files": [], "processes": [], "state": [],
                                            "folder": ["answers.txt"]}
    assert pool.ready() and pool.kernels_served == 2 and pool.pools_started == 1


REACH_THE_ZYGOTE = textwrap.dedent("""
    import ctypes, json, os
    zygote = os.getppid()
    outcomes = {'is_zygote': 'course_zygote' in open(f'/proc/{zygote}/cmdline').read()}
    for what, attempt in [('fds', lambda: os.listdir(f'/proc/{zygote}/fd')),
                          ('memory', lambda: open(f'/proc/{zygote}/mem', 'rb').read(1)),
                          ('environment', lambda: open(f'/proc/{zygote}/environ').read()),
                          ('pool_folder', lambda: os.listdir(POOL))]:
        try:
            attempt()
            outcomes[what] = 'ok'
        except OSError as exc:
            outcomes[what] = type(exc).__name__
    libc = ctypes.CDLL(None, use_errno=True)
    outcomes['ptrace'] = libc.ptrace(16, zygote, 0, 0) == 0  # PTRACE_ATTACH
    print(json.dumps(outcomes))
""")


def test_a_kernel_cannot_reach_its_zygote(pool, tmp_path):
    outcomes = _printed_json(tmp_path, REACH_THE_ZYGOTE.replace("POOL", repr(pool.folder)))
    assert outcomes.pop("is_zygote") is True
    assert outcomes.pop("ptrace") is False
    assert set(outcomes.values()) <= {"PermissionError", "FileNotFoundError"}, outcomes


# A kernel that ends its pool: kills the zygote, or stops it so that it can never clear up.
def _attack_the_zygote(signum):
    return textwrap.dedent(f"""
        import os
        zygote = os.getppid()
        if 'course_zygote' in open(f'/proc/{{zygote}}/cmdline').read():
            os.kill(zygote, {int(signum)})
        def double(x):
            return 2 * x
    """)


def test_grading_goes_on_when_a_kernel_kills_or_stops_its_zygote(toy_course):
    reference = nbformat.read(toy_course.root / "source" / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.ipynb",
                              as_version=4)
    toy_course.submit_notebook("a_kills", toy.ASSIGNMENT,
                               with_answers(reference, {"double": _attack_the_zygote(signal.SIGKILL)}))
    toy_course.submit_notebook("b_after_kill", toy.ASSIGNMENT, reference)
    toy_course.submit_notebook("c_stops", toy.ASSIGNMENT,
                               with_answers(reference, {"double": _attack_the_zygote(signal.SIGSTOP)}))
    toy_course.submit_notebook("d_after_stop", toy.ASSIGNMENT, reference)
    (run,) = operations.autograde(toy_course, toy.ASSIGNMENT, jobs=1)  # in this order, one worker
    scores = toy_course.scores(toy.ASSIGNMENT)
    for student in ("b_after_kill", "d_after_stop"):
        assert all(score == top for score, top in scores[student].values()), (student, scores[student])
    assert run.pooled_kernels >= 2 and not run.failed
    assert run.pools_started >= 3  # the first, one after the kill, one after the stop


def test_a_pool_that_never_answers_is_not_tried_for_every_submission():
    with KernelPool(start_timeout=0.01) as kernels:  # no zygote is ready that soon
        assert [kernels.ready() for _ in range(4)] == [False] * 4
        assert kernels.pools_started == MAX_FAILED_STARTS and kernels.process is None
        assert POOL_ENV not in os.environ  # kernels get sandboxes of their own
    with KernelPool() as kernels:  # a start that is answered counts anew
        kernels.failed_starts = MAX_FAILED_STARTS - 1
        assert kernels.ready() and kernels.failed_starts == 0


def test_forked_kernels_draw_like_fresh_kernels(pool, tmp_path):
    """Every kernel started afresh seeds torch's generator from fresh entropy; so does every
    kernel the pool forks (not all with the zygote's seed), and a seeded draw is the same."""
    work, client = tmp_path / "work", tmp_path / "client"
    work.mkdir()
    client.mkdir()
    draws = ("(lambda torch: [torch.initial_seed(), torch.rand(3).tolist(), torch.manual_seed(7) and None,"
             " torch.rand(3).tolist()])(__import__('torch'))")
    seen = []
    for forked in (True, True, False):
        if not forked:
            os.environ.pop(POOL_ENV)
        kernel = _kernel(work, client)
        try:
            seen.append(kernel.value(draws))
        finally:
            kernel.close()
    assert pool.ready() and pool.kernels_served == 2  # the third kernel had a sandbox of its own
    unseeded = [(seed, draw) for seed, draw, _, _ in seen]
    assert len(set(map(repr, unseeded))) == 3, unseeded
    assert seen[0][3] == seen[1][3] == seen[2][3]


CLEAR_A_FOLDER_WITH_A_MOUNT = textwrap.dedent("""
    import json, os, subprocess, sys
    base = sys.argv[1]
    sys.path.insert(0, sys.argv[2])
    from course_zygote import _empty
    os.makedirs(f'{base}/repo/venv')
    subprocess.run(['mount', '-t', 'tmpfs', 'tmpfs', f'{base}/repo/venv'], check=True)
    open(f'{base}/repo/venv/python', 'w').write('the environment')
    for path in ('file', 'repo/leftover.py', 'deep/er/file'):
        os.makedirs(os.path.dirname(f'{base}/{path}'), exist_ok=True)
        open(f'{base}/{path}', 'w').write('left by a kernel')
    os.symlink('/etc', f'{base}/link')
    os.chmod(f'{base}/deep/er', 0)
    _empty(base)
    left = sorted(os.path.relpath(os.path.join(d, n), base) for d, ds, fs in os.walk(base) for n in ds + fs)
    print(json.dumps({'left': left, 'mounted': open(f'{base}/repo/venv/python').read()}))
""")


def test_clearing_spares_what_the_sandbox_mounts_below(tmp_path):
    """With the repository under /tmp, the sandbox mounts the environment below its own /tmp:
    clearing /tmp between kernels removes all a kernel wrote there and leaves the mount alone."""
    from autograders.sandbox import RUNTIME_DIR

    result = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", sys.executable, "-c",
                             CLEAR_A_FOLDER_WITH_A_MOUNT, str(tmp_path / "tmp"), RUNTIME_DIR],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"left": ["repo", "repo/venv", "repo/venv/python"],
                                         "mounted": "the environment"}


COLLECT = textwrap.dedent("""
    import gc, json, weakref
    class Node:
        pass
    node = Node()
    node.itself = node  # a cycle: only a garbage collection frees it
    freed = weakref.ref(node)
    del node
    gc.collect()
    print(json.dumps({'frozen': gc.get_freeze_count(), 'tracked': len(gc.get_objects()),
                      'cycle_freed': freed() is None}))
""")


def test_forked_kernels_collect_their_garbage_but_never_walk_the_preloaded_objects(pool, tmp_path):
    """The zygote freezes what it preloaded (torch, matplotlib, IPython): a kernel's full garbage
    collections, which walked all of it in most notebooks, leave it out; a kernel's own cycles
    are still collected."""
    seen = _printed_json(tmp_path, COLLECT)
    assert seen["cycle_freed"] is True
    assert seen["frozen"] > 100_000 and seen["tracked"] < seen["frozen"] / 10, seen


WHO_FORKED_ME = textwrap.dedent("""
    import os
    print('course_zygote' in open(f'/proc/{os.getppid()}/cmdline').read(), open('answers.txt').read())
""")


def _graded_by_sandboxed_execute(folder, code):
    """Run ``code`` as grading runs a notebook (``SandboxedExecute``, in ``folder``): its stdout."""
    from autograders.execute import SandboxedExecute

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    SandboxedExecute(timeout=60).preprocess(nb, {"metadata": {"path": str(folder)}})
    return "".join(output.get("text", "") for output in nb.cells[0].outputs)


def test_grading_has_its_kernels_forked_without_a_launcher_process(pool, tmp_path, monkeypatch):
    """``SandboxedExecute`` hands an open pool the kernel itself (``PoolProvisioner``), with the
    submission's files; a pool that cannot take it leaves it to the launcher, which gives it a
    sandbox of its own."""
    from jupyter_client.provisioning import LocalProvisioner

    launched = []
    launch = LocalProvisioner.launch_kernel

    async def launch_recorded(self, cmd, **kwargs):
        launched.append(kwargs["env"].get(POOL_ENV))
        return await launch(self, cmd, **kwargs)

    monkeypatch.setattr(LocalProvisioner, "launch_kernel", launch_recorded)
    (tmp_path / "answers.txt").write_text("the student's")
    assert _graded_by_sandboxed_execute(tmp_path, WHO_FORKED_ME) == "True the student's\n"
    assert launched == [] and pool.ready() and pool.kernels_served == 1

    with monkeypatch.context() as unreachable:  # the pool lent to the kernel manager cannot take it
        unreachable.setattr(pool, "folder", str(tmp_path / "no-pool-here"))
        assert _graded_by_sandboxed_execute(tmp_path, WHO_FORKED_ME) == "False the student's\n"
    assert launched == [None] and pool.ready() and pool.kernels_served == 1  # the launcher was not sent to the pool


def test_a_folder_that_must_not_reach_a_sandbox_is_refused_and_never_sent_to_the_pool(pool, capfd):
    from autograders.sandbox import REPO_ROOT

    with pytest.raises(RuntimeError):  # the kernel never starts
        _graded_by_sandboxed_execute(REPO_ROOT, "print('ran')")
    assert "would be open to student code" in capfd.readouterr().err
    assert pool.ready() and pool.kernels_served == 0
