"""The sandboxed kernel (``autograders/sandbox``): hostile cells are contained, ordinary work runs.

Every kernel here is started the way grading starts one: jupyter_client's KernelManager with
``kernel_name="course-sandbox"`` (installed into a temporary prefix found through JUPYTER_PATH),
ZMQ over IPC, a private JUPYTER_RUNTIME_DIR, and the student's folder as working directory, in a
fake course tree (source/, gradebook.db, exchange/, autograded/<student>/<assignment>/).

Run: ``.venv/bin/python -m pytest autograders/tests/test_sandbox.py``. Needs bubblewrap with user
namespaces (``python -m autograders.sandbox doctor``); without it the kernel tests are skipped
and only the fallback tests run. As root it also runs the launcher as ``nobody``.
"""
from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from contextlib import nullcontext
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from autograders.sandbox import LAUNCHER, install, launch, limits, protections  # noqa: E402
from autograders.sandbox import capabilities, layout, mounts, pool_client, settings, workdir  # noqa: E402
from autograders.sandbox.pool import KernelPool  # noqa: E402
from autograders.tests.kernel_client import Kernel, capped_kernel  # noqa: E402

IS_ROOT = os.geteuid() == 0


def _bwrap_ok():
    info = protections()
    return info.bwrap_usable, info.report()["bwrap_usable"]


BWRAP_OK, BWRAP_WHY = _bwrap_ok()


def _needs_bwrap():
    if not BWRAP_OK:
        pytest.skip(f"the sandbox cannot run here: {BWRAP_WHY} (see `python -m autograders.sandbox doctor`)")


# --------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def course_tree(tmp_path_factory):
    """A kernelspec in a temporary prefix, a private runtime folder, and a fake course."""
    base = tmp_path_factory.mktemp("sandbox")
    prefix = base / "prefix"
    subprocess.run([sys.executable, "-m", "autograders.sandbox", "install", "--prefix",
                    str(prefix)], cwd=REPO, check=True, capture_output=True)
    runtime = base / "runtime"
    runtime.mkdir(mode=0o700)
    course = base / "course"
    (course / "source" / "ps1").mkdir(parents=True)
    (course / "source" / "ps1" / "ps1.ipynb").write_text("SECRET REFERENCE SOLUTION")
    (course / "gradebook.db").write_text("SECRET GRADEBOOK")
    (course / "exchange" / "course" / "inbound").mkdir(parents=True)
    (course / "autograders").mkdir()
    (course / "autograders" / "judge.py").write_text("SECRET JUDGE")
    alice = course / "autograded" / "alice" / "ps1"
    bob = course / "autograded" / "bob" / "ps1"
    alice.mkdir(parents=True)
    bob.mkdir(parents=True)
    (alice / "data.txt").write_text("alice's own data")
    (bob / "ps1.ipynb").write_text("BOB'S ANSWERS")
    saved = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "JUPYTER_RUNTIME_DIR")}
    os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    os.environ["JUPYTER_RUNTIME_DIR"] = str(runtime)
    yield {"base": base, "prefix": prefix, "runtime": runtime, "course": course,
           "alice": alice, "bob": bob}
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module", params=["own sandbox", "from the pool"])
def kernel(course_tree, request):
    """One sandboxed kernel in alice's folder, shared by the tests that leave it usable: once in
    a sandbox of its own, once forked by a kernel pool (grading's way), which must contain it
    just as well. Its client uses jupyter_client's default (relative) IPC address."""
    _needs_bwrap()
    with KernelPool() if request.param == "from the pool" else nullcontext() as pool:
        assert pool is None or pool.ready()
        for k in _kernel_in_alices_folder(course_tree):
            os.environ.pop(settings.POOL_ENV, None)  # the pool serves this kernel alone
            # where the kernel sees its copy of alice's folder: at its own path, or at the
            # folder of the pool's sandbox that each kernel of the pool fills in turn
            k.workdir = str(course_tree["alice"]) if pool is None else pool_client.POOL_WORKDIR_INSIDE
            yield k
        assert pool is None or (pool.ready() and pool.kernels_served == 1)  # cleared after it


def _kernel_in_alices_folder(course_tree):
    # jupyter_client resolves its default IPC address ("kernel-ipc") against the client's
    # working directory: keep those links out of the repository
    client_dir = Path(tempfile.mkdtemp(prefix="client-", dir=course_tree["base"]))
    saved = os.getcwd()
    os.chdir(client_dir)
    try:
        k = Kernel(course_tree["alice"], env={"COURSE_PROBE_SEED": "4242", "JPY_PARENT_PID": "1",
                                         "SECRET_TOKEN": "do-not-pass"})
        assert k.km.ip == "kernel-ipc"
        assert sorted(p.name for p in client_dir.iterdir()) == [f"kernel-ipc-{i}" for i in range(1, 6)]
        yield k
        k.close()
    finally:
        os.chdir(saved)


# --------------------------------------------------------------------------------------------
# Installation and diagnosis


def test_install_is_idempotent_and_well_formed(tmp_path):
    first = install(str(tmp_path))
    before = (Path(first) / "kernel.json").read_text()
    assert install(str(tmp_path)) == first
    spec = json.loads((Path(first) / "kernel.json").read_text())
    assert (Path(first) / "kernel.json").read_text() == before
    assert Path(first) == tmp_path / "share" / "jupyter" / "kernels" / "course-sandbox"
    assert spec["argv"] == [sys.executable, str(REPO / "autograders" / "sandbox" / "start.py"),
                            "-f", "{connection_file}"]
    assert spec["interrupt_mode"] == "message"
    assert spec["language"] == "python"
    assert spec["display_name"] == "Python 3 (course sandbox)"


def test_doctor_reports_every_layer():
    proc = subprocess.run([sys.executable, "-m", "autograders.sandbox", "doctor", "--json"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    report = json.loads(proc.stdout)["protections"]
    for key in ("bwrap", "user_namespaces", "bwrap_usable", "root", "per_kernel_uid",
                "filesystem_isolation", "network_isolation", "pid_isolation", "nproc_limit",
                "prlimit", "missing"):
        assert key in report
    assert (proc.returncode == 0) == (report["bwrap_usable"] is True)
    assert report["root"] == IS_ROOT
    if BWRAP_OK:
        assert report["network_isolation"] is True and report["filesystem_isolation"] is True
        assert report["per_kernel_uid"] is True or not IS_ROOT
        assert report["missing"] == ""


# --------------------------------------------------------------------------------------------
# The kernel works


def test_kernel_starts_fast_enough(kernel):
    assert kernel.ready_s < 20  # 0.5-1.3 s measured on 2 cores; generous for a loaded CI


def test_environment_is_cleared_and_set(kernel, course_tree):
    env = kernel.value("dict(__import__('os').environ)")
    assert env["COURSE_PROBE_MODE"] == "grade"
    assert env["COURSE_PROBE_SEED"] == "4242"
    assert env["HOME"] == "/tmp"
    assert env["PYTHONPATH"] == str(REPO / "autograders" / "runtime")
    assert env["MPLBACKEND"] == "Agg" and env["OMP_NUM_THREADS"] == "1"
    assert "JPY_PARENT_PID" not in env
    assert "SECRET_TOKEN" not in env and "JUPYTER_RUNTIME_DIR" not in env
    assert kernel.value("__import__('os').getcwd()") == kernel.workdir
    uid = kernel.value("__import__('os').getuid()")
    if IS_ROOT:
        low, high = settings.UID_RANGE_DEFAULT
        assert low <= uid <= high, "as root the kernel runs as a per-kernel uid"
    else:
        assert uid == os.getuid()


def test_torch_and_course_probe_work(kernel):
    result = kernel.run("""
        import torch, course_probe
        out = torch.nn.Linear(3, 4)(torch.ones(2, 3))
        print(tuple(out.shape), torch.get_num_threads(), course_probe.MIME_TYPE)
    """, timeout=120)
    assert result["error"] is None, result
    assert result["stdout"].split() == ["(2,", "4)", "1", "application/vnd.course.probe+json"]
    assert result["stderr"] == ""


def test_limits_are_in_force(kernel):
    got = kernel.value("""{name: __import__('resource').getrlimit(getattr(__import__('resource'), name))
                            for name in ('RLIMIT_AS', 'RLIMIT_FSIZE', 'RLIMIT_NPROC', 'RLIMIT_CORE',
                                         'RLIMIT_CPU', 'RLIMIT_NOFILE')}""")
    lim = limits()
    assert got["RLIMIT_AS"] == [lim.address_space] * 2
    assert got["RLIMIT_FSIZE"] == [lim.file_size] * 2
    assert got["RLIMIT_NPROC"] == [lim.processes] * 2
    assert got["RLIMIT_CORE"] == [0, 0]
    assert got["RLIMIT_CPU"][0] == lim.cpu_seconds
    assert got["RLIMIT_NOFILE"] == [lim.open_files] * 2


# --------------------------------------------------------------------------------------------
# Hostile cells are contained


def _outcomes(kernel, snippet_per_path, paths):
    code = f"""
        import json, os
        results = {{}}
        for path in {[str(p) for p in paths]!r}:
            try:
                {snippet_per_path}
                results[path] = "ok"
            except OSError as exc:
                results[path] = type(exc).__name__
        print(json.dumps(results))
    """
    result = kernel.run(code)
    assert result["error"] is None, result
    return json.loads(result["stdout"])


def test_cannot_read_the_course_or_other_students(kernel, course_tree):
    course = course_tree["course"]
    secrets = [course / "source" / "ps1" / "ps1.ipynb", course / "gradebook.db",
               course / "autograders" / "judge.py", course_tree["bob"] / "ps1.ipynb",
               REPO / "autograders" / "sandbox" / "launch.py", Path(LAUNCHER), Path(__file__).resolve(),
               REPO / ".git" / "HEAD", "/etc/shadow", "/root/.bashrc"]
    got = _outcomes(kernel, "open(path).read()", secrets)
    assert all(v in ("FileNotFoundError", "PermissionError") for v in got.values()), got
    listed = _outcomes(kernel, "os.listdir(path)",
                       [course / "exchange", course / "source", course_tree["bob"], course_tree["runtime"]])
    assert all(v in ("FileNotFoundError", "PermissionError") for v in listed.values()), listed
    # of the repository, only the environment and autograders/runtime are there
    visible = set(kernel.value(f"__import__('os').listdir({str(REPO)!r})"))
    venv_top = {Path(sys.prefix).resolve().relative_to(REPO).parts[0]} if Path(sys.prefix).resolve().is_relative_to(REPO) else set()
    assert visible <= {"autograders"} | venv_top, visible
    assert kernel.value(f"__import__('os').listdir({str(REPO / 'autograders')!r})") == ["runtime"]
    # its own folder is there
    assert kernel.value("open('data.txt').read()") == "alice's own data"


def test_cannot_write_outside_its_folder(kernel, course_tree):
    targets = [course_tree["alice"].parent / "escape.txt", course_tree["bob"] / "ps1.ipynb",
               course_tree["course"] / "gradebook.db", REPO / "autograders" / "runtime" / "x.py",
               Path(sys.prefix) / "x", "/usr/x", "/etc/x", "/x", "/run/x", "/dev/x"]
    got = _outcomes(kernel, "open(path, 'w').write('pwned')", targets)
    # Under /tmp (where pytest keeps this fake course) a write may land in the sandbox's own
    # tmpfs /tmp; it must never reach the real file. Elsewhere the write itself fails.
    assert all(v != "ok" for p, v in got.items() if not p.startswith("/tmp/")), got
    assert not (course_tree["alice"].parent / "escape.txt").exists()
    assert (course_tree["bob"] / "ps1.ipynb").read_text() == "BOB'S ANSWERS"
    assert (course_tree["course"] / "gradebook.db").read_text() == "SECRET GRADEBOOK"
    ok = _outcomes(kernel, "open(path, 'w').write('fine')",
                   [Path(kernel.workdir) / "model.txt", "model2.txt", "/tmp/scratch.txt"])
    assert set(ok.values()) == {"ok"}, ok
    assert kernel.value("open('model2.txt').read()") == "fine"


def test_working_folder_is_a_private_copy(kernel, course_tree):
    """Mode "copy" (the default): the kernel works in a copy; the folder itself never changes."""
    before = sorted(p.name for p in course_tree["alice"].iterdir())
    result = kernel.run("""
        import os
        os.remove('data.txt')
        open('made_by_kernel.txt', 'w').write('x')
        os.symlink('/etc/shadow', 'shadow-link')
        os.chmod('made_by_kernel.txt', 0o4755)
        print(sorted(os.listdir('.')))
    """)
    assert result["error"] is None, result
    assert "made_by_kernel.txt" in result["stdout"]
    assert sorted(p.name for p in course_tree["alice"].iterdir()) == before
    assert (course_tree["alice"] / "data.txt").read_text() == "alice's own data"


def test_copy_leaves_out_what_does_not_fit(tmp_path):
    folder = tmp_path / "submission"
    (folder / "sub").mkdir(parents=True)
    (folder / "small.txt").write_text("x" * 10)
    (folder / "sub" / "big.bin").write_bytes(b"\0" * 100_000)
    (folder / "link").symlink_to("/etc/passwd")
    args, fds, left_out = workdir.copy_args(str(folder), budget=50_000, max_entries=100)
    try:
        assert len(fds) == 1
        assert any("big.bin" in line for line in left_out)
        assert ["--symlink", "/etc/passwd", str(folder / "link")] == args[args.index("--symlink"):args.index("--symlink") + 3]
        assert str(folder / "small.txt") in args and str(folder / "sub") in args
    finally:
        for fd in fds:
            os.close(fd)
    args, fds, left_out = workdir.copy_args(str(folder), budget=10**9, max_entries=2)
    for fd in fds:
        os.close(fd)
    assert any("more than 2 entries" in line for line in left_out)


def test_no_network(kernel):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    abstract = socket.socket(socket.AF_UNIX)
    abstract_name = f"\0course-sandbox-test-{os.getpid()}"
    abstract.bind(abstract_name)
    abstract.listen(5)
    try:
        port = listener.getsockname()[1]
        result = kernel.run(f"""
            import socket
            outcomes = []
            for family, address in ((socket.AF_INET, ('127.0.0.1', {port})),
                                    (socket.AF_INET, ('10.0.2.2', 80)),
                                    (socket.AF_UNIX, {abstract_name!r})):
                s = socket.socket(family)
                s.settimeout(3)
                try:
                    s.connect(address)
                    outcomes.append('connected')
                except OSError as exc:
                    outcomes.append(type(exc).__name__)
                finally:
                    s.close()
            print(outcomes, [name for _, name in socket.if_nameindex()])
        """)
        assert result["error"] is None, result
        assert "connected" not in result["stdout"], result
        assert "['lo']" in result["stdout"], result
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()
        abstract.close()


def test_no_privileges_to_gain(kernel):
    result = kernel.run("""
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        out = {"userns": libc.unshare(0x10000000), "mountns": libc.unshare(0x00020000)}
        try:
            os.setuid(0)
            out["setuid"] = "ok"
        except OSError:  # EPERM, or EINVAL: uid 0 does not even exist in its user namespace
            out["setuid"] = "refused"
        out["nnp"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith("NoNewPrivs")][0]
        out["caps"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
        print(out)
    """)
    assert result["error"] is None, result
    out = eval(result["stdout"])  # a dict literal printed by the kernel
    assert out["userns"] == -1 and out["mountns"] == -1, out
    assert out["setuid"] == "refused" and out["nnp"] == "1", out
    assert int(out["caps"], 16) == 0, out


def test_huge_allocation_fails_and_kernel_survives(kernel):
    result = kernel.run("import torch\nx = torch.empty(50_000_000_000, dtype=torch.uint8)",
                        timeout=120)
    assert result["error"] is not None and result["error"][0] == "RuntimeError", result
    result = kernel.run("b = bytearray(50_000_000_000)")
    assert result["error"] is not None and result["error"][0] == "MemoryError", result
    assert kernel.alive()


def test_huge_file_stops_at_the_size_limit(kernel, course_tree):
    result = kernel.run("""
        import errno, os
        outcome = 'wrote 10 GB'
        try:
            with open('big.bin', 'wb') as f:
                chunk = b'\\0' * (1 << 20)
                for _ in range(10 * 1024):
                    f.write(chunk)
        except OSError as exc:
            outcome = errno.errorcode[exc.errno]
        print(outcome, os.path.getsize('big.bin'))
        os.remove('big.bin')
    """, timeout=120)
    assert result["error"] is None, result
    outcome, size = result["stdout"].split()
    assert outcome == "EFBIG" and int(size) <= limits().file_size, result
    assert not (course_tree["alice"] / "big.bin").exists()
    assert kernel.alive()


@pytest.mark.parametrize("where, limit", [("/tmp", "tmp_size"), ("/dev/shm", "tmp_size"),
                                          (".", "workdir_size")])
def test_scratch_space_is_bounded(kernel, where, limit):
    """Many files under the size limit each must not fill memory (tmpfs) or the disk."""
    result = kernel.run(f"""
        import errno, glob, os
        written, outcome = 0, 'no limit'
        try:
            for i in range(64):
                with open(os.path.join({where!r}, f'fill{{i}}'), 'wb') as f:
                    f.write(b'\\1' * (16 << 20))
                written += 16
        except OSError as exc:
            outcome = errno.errorcode[exc.errno]
        for name in glob.glob(os.path.join({where!r}, 'fill*')):
            os.remove(name)
        print(outcome, written)
    """, timeout=120)
    assert result["error"] is None, result
    outcome, written = result["stdout"].split()
    assert outcome == "ENOSPC" and int(written) * (1 << 20) <= getattr(limits(), limit), result


def test_fork_bomb_is_capped_and_kernel_survives(kernel):
    result = kernel.run("""
        import os, time
        pids, failed = [], 0
        for _ in range(5000):
            try:
                pid = os.fork()
            except OSError:
                failed += 1
                continue
            if pid == 0:
                time.sleep(2)
                os._exit(0)
            pids.append(pid)
        for pid in pids:
            os.waitpid(pid, 0)
        print(len(pids), failed)
    """, timeout=120)
    assert result["error"] is None, result
    started, failed = map(int, result["stdout"].split())
    print(f"fork bomb: {started} started, {failed} failed")
    assert started < limits().processes and failed > 4000, result
    assert kernel.alive()


def test_interrupt_stops_an_infinite_loop(kernel):
    msg_id = kernel.kc.execute("while True:\n    pass")
    time.sleep(1)
    kernel.km.interrupt_kernel()
    result = kernel.collect(msg_id, timeout=20)
    assert result["error"] is not None and result["error"][0] == "KeyboardInterrupt", result
    assert kernel.alive()


# --------------------------------------------------------------------------------------------
# A kernel that ignores interrupts is killed, with everything in it


def _descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except (OSError, IndexError):
                continue
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _live(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


def test_sigint_ignoring_loop_is_killed(course_tree):
    _needs_bwrap()
    folder = course_tree["course"] / "autograded" / "carol" / "ps1"
    folder.mkdir(parents=True)
    owner = (folder.stat().st_uid, folder.stat().st_gid)
    # mode "bind": the kernel writes the folder itself, lent to its uid when root
    k = Kernel(folder, ip=course_tree["runtime"] / "kernel-ipc", env={"COURSE_SANDBOX_WORKDIR": "bind"})
    try:
        msg_id = k.kc.execute("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                              "open('mine.txt', 'w').write('x')\nwhile True:\n    pass")
        time.sleep(1.5)
        k.km.interrupt_kernel()
        with pytest.raises(TimeoutError):
            k.collect(msg_id, timeout=3)
        processes = _descendants(k.km.provisioner.process.pid)
        assert processes, "the sandbox's processes should be visible from outside"
        if IS_ROOT:
            assert folder.stat().st_uid != owner[0], "the folder is lent to the kernel's uid"
        # what SandboxedExecute does with a kernel that ignores its interrupt
        k.kc.stop_channels()
        k.km.restart_kernel(now=True)
        deadline = time.monotonic() + 10
        while any(_live(p) for p in processes) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_live(p) for p in processes), "a process of the sandbox survived the kill"
        k.kc = k.km.client()
        k.kc.start_channels()
        k.kc.wait_for_ready(timeout=60)
        assert k.value("open('mine.txt').read()") == "x"
        processes = _descendants(k.km.provisioner.process.pid)
    finally:
        k.kc.stop_channels()
        k.km.shutdown_kernel(now=True)
    assert not k.km.is_alive()
    deadline = time.monotonic() + 10
    while any(_live(p) for p in processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_live(p) for p in processes), "a process of the sandbox survived the kill"
    # the janitor gives the folder back and removes the kernel's folder and links
    while time.monotonic() < deadline and (
            (folder.stat().st_uid, folder.stat().st_gid) != owner
            or any(p.name.startswith(".sandbox-") for p in course_tree["runtime"].iterdir())):
        time.sleep(0.05)
    assert (folder.stat().st_uid, folder.stat().st_gid) == owner
    assert (folder / "mine.txt").stat().st_uid == owner[0]
    assert not [p for p in course_tree["runtime"].iterdir() if p.name.startswith(".sandbox-")]


@pytest.mark.parametrize("protection, said", [
    ("watch", "SANDBOX: the kernel's processes used"),
    ("cgroup", "SANDBOX: the kernel went over the sandbox's memory limit of 1024 MiB"),
])
def test_memory_of_all_processes_together_is_watched(course_tree, tmp_path, protection, said):
    """The address-space limit is per process: several processes under it each must still not
    exhaust the machine. Here 4 processes of 400 MB against a total of 1 GiB."""
    _needs_bwrap()
    log = tmp_path / "launcher.log"
    with open(log, "w") as stderr:
        k = capped_kernel(course_tree, "erin", protection, 1024, stderr)
        try:
            # forked children share the parent's pages: they must not count several times
            baseline = k.run("""
                import os, time
                pids = []
                for _ in range(8):
                    pid = os.fork()
                    if pid == 0:
                        time.sleep(1.5)
                        os._exit(0)
                    pids.append(pid)
                for pid in pids:
                    os.waitpid(pid, 0)
                print('ok')
            """)
            assert baseline["stdout"] == "ok\n" and k.km.is_alive(), baseline
            msg_id = k.kc.execute(textwrap.dedent("""
                import os, time
                for _ in range(4):
                    if os.fork() == 0:
                        block = b'\\1' * 400_000_000
                        time.sleep(30)
                        os._exit(0)
                time.sleep(30)
            """))
            deadline = time.monotonic() + 20
            while k.km.is_alive() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not k.km.is_alive(), "the sandbox should have been killed"
            with pytest.raises(TimeoutError):
                k.collect(msg_id, timeout=1)
        finally:
            k.close()
    assert said in log.read_text()


# --------------------------------------------------------------------------------------------
# The launcher refuses what it cannot protect


def _run_launcher(tmp_path, conn, cwd, extra_env=None):
    conn_file = tmp_path / "kernel-test.json"
    conn_file.write_text(json.dumps(conn))
    env = dict(os.environ)
    env.update(extra_env or {})
    return subprocess.run([sys.executable, LAUNCHER, "-f", str(conn_file)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=30)


CONN = {"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5,
        "key": "k", "signature_scheme": "hmac-sha256", "kernel_name": "course-sandbox"}


def test_tcp_transport_is_refused(tmp_path):
    _needs_bwrap()
    work = tmp_path / "work"
    work.mkdir()
    proc = _run_launcher(tmp_path, {**CONN, "transport": "tcp", "ip": "127.0.0.1"}, work)
    assert proc.returncode == 2 and "transport = 'ipc'" in proc.stderr


def test_a_submissions_own_launch_py_never_runs_as_the_launcher(tmp_path):
    """The launcher runs in the submission's folder, outside the sandbox: a file there named like
    one of its modules must not be imported in its place."""
    _needs_bwrap()
    work, ran = tmp_path / "work", tmp_path / "ran"
    work.mkdir()
    for name in ("launch.py", "json.py"):
        (work / name).write_text(f"open({str(ran)!r}, 'a').write({name!r})\ndef main():\n    return 0\n")
    proc = _run_launcher(tmp_path, {**CONN, "transport": "tcp", "ip": "127.0.0.1"}, work)
    assert proc.returncode == 2 and "transport = 'ipc'" in proc.stderr
    assert not ran.exists()


@pytest.mark.parametrize("where", ["repo", "connection folder", "root", "usr"])
def test_unsafe_working_folder_is_refused(tmp_path, where):
    # the connection file is written into tmp_path: a kernel working there would see it
    cwd = {"repo": REPO, "connection folder": tmp_path, "root": "/", "usr": "/usr/lib"}[where]
    proc = _run_launcher(tmp_path, {**CONN, "transport": "ipc", "ip": str(tmp_path / "k")}, cwd)
    assert proc.returncode == 2 and "SANDBOX ERROR" in proc.stderr, proc.stderr


def test_require_refuses_without_bwrap(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    proc = _run_launcher(tmp_path, {**CONN, "transport": "ipc", "ip": str(tmp_path / "k")}, work,
                         {"COURSE_SANDBOX_BWRAP": "/nonexistent/bwrap",
                          "COURSE_SANDBOX_REQUIRE": "1"})
    assert proc.returncode == 3
    assert "SANDBOX ERROR: no network isolation" in proc.stderr


# --------------------------------------------------------------------------------------------
# Without bubblewrap: the kernel still runs, with limits, and says loudly what is missing


def test_without_bwrap_kernel_runs_and_warns(course_tree, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX_BWRAP", "/nonexistent/bwrap")
    capabilities._PROBE_CACHE.clear()
    info = protections()
    report = info.report()  # what doctor --json prints
    assert report["bwrap"] is False and report["network_isolation"] is False
    assert "network_isolation" in report["missing"] and "filesystem_isolation" in report["missing"]
    folder = course_tree["course"] / "autograded" / "dave" / "ps1"
    folder.mkdir(parents=True)
    log = tmp_path / "launcher.log"
    with open(log, "w") as stderr:
        k = Kernel(folder, ip=course_tree["runtime"] / "fallback-ipc", stderr=stderr)
        try:
            env = k.value("dict(__import__('os').environ)")
            assert env["COURSE_PROBE_MODE"] == "grade" and "JPY_PARENT_PID" not in env
            as_limit = k.value("__import__('resource').getrlimit(__import__('resource').RLIMIT_AS)")
            assert as_limit == [limits().address_space] * 2
            if IS_ROOT:
                assert k.value("__import__('os').getuid()") != 0
            assert k.value("open('note.txt', 'w').write('ok')") == 2
        finally:
            k.close()
    text = log.read_text()
    for layer in ("network isolation", "filesystem isolation", "process isolation"):
        assert f"SANDBOX WARNING: no {layer}" in text, text


# --------------------------------------------------------------------------------------------
# The unprivileged path: an instructor's own account (here: nobody)

UNPRIVILEGED_CELL = """
    import json, os, resource, socket
    out = {"uid": os.getuid(), "probe": __import__("course_probe").MIME_TYPE}
    try:
        open(LAUNCHER).read()
        out["read_repo"] = "ok"
    except OSError as exc:
        out["read_repo"] = type(exc).__name__
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect(("127.0.0.1", PORT))
        out["network"] = "connected"
    except OSError as exc:
        out["network"] = type(exc).__name__
    open("written.txt", "w").write("ok")
    out["nproc"] = resource.getrlimit(resource.RLIMIT_NPROC)[0]
    import time
    pids = []
    for _ in range(400):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(1)
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    out["forks"] = len(pids)
    print(json.dumps(out))
"""


def _unprivileged_main(work, port):
    """Runs as the unprivileged user: start a kernel, run the cell, print its JSON."""
    capabilities._PROBE_CACHE.clear()
    info = protections()
    k = Kernel(work, ip=Path(os.environ["JUPYTER_RUNTIME_DIR"]) / "kernel-ipc")
    try:
        cell = UNPRIVILEGED_CELL.replace("LAUNCHER", repr(launch.__file__)).replace("PORT", port)
        result = k.run(cell)
        assert result["error"] is None, result
        out = json.loads(result["stdout"])
        out["protections"] = info.report()
        out["ready_s"] = k.ready_s
        print("RESULT " + json.dumps(out))
    finally:
        k.close()


def test_unprivileged_user_path(course_tree):
    _needs_bwrap()
    if not IS_ROOT:
        pytest.skip("already unprivileged: every other test here runs the non-root path")
    nobody = pwd.getpwnam("nobody")
    needed = [REPO, Path(sys.prefix), Path(sys.base_prefix), Path(__file__).resolve()]
    for path in needed:  # the repository and the environment must be readable by others
        if not os.stat(path).st_mode & stat.S_IROTH:
            pytest.skip(f"{path} is not readable by other users")
    base = Path(tempfile.mkdtemp(prefix="sandbox-nobody-"))
    try:
        os.chmod(base, 0o755)
        for name in ("work", "runtime", "home"):
            (base / name).mkdir()
            os.chown(base / name, nobody.pw_uid, nobody.pw_gid)
        os.chmod(base / "runtime", 0o700)
        install(str(base / "prefix"))
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        port = listener.getsockname()[1]
        env = {"PATH": "/usr/bin:/bin", "HOME": str(base / "home"), "LANG": "C.UTF-8",
               "JUPYTER_PATH": str(base / "prefix" / "share" / "jupyter"),
               "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
               "JUPYTER_DATA_DIR": str(base / "home" / "data"),
               "JUPYTER_CONFIG_DIR": str(base / "home" / "config"),
               "JUPYTER_PLATFORM_DIRS": "1", "PYTHONPATH": str(REPO)}
        # The interpreter lives under /root (0700): in a private mount namespace, re-bind it
        # (and whatever else strangers cannot reach) where nobody can reach it, as an
        # instructor's own Python would be.
        paths = [src for src, _ in layout.python_binds()] + [str(REPO)]

        def preexec():
            mounts.make_reachable(paths)

        cmd = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
               "--clear-groups", "--", sys.executable, str(Path(__file__).resolve()),
               "--unprivileged", str(base / "work"), str(port)]
        proc = subprocess.run(cmd, env=env, cwd=base, capture_output=True, text=True,
                              timeout=120, preexec_fn=preexec)
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()
        listener.close()
        lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
        assert proc.returncode == 0 and lines, proc.stdout + proc.stderr
        out = json.loads(lines[-1][len("RESULT "):])
        print("unprivileged:", {k: v for k, v in out.items() if k != "protections"})
        assert out["uid"] == nobody.pw_uid
        assert out["protections"]["root"] is False
        assert out["protections"]["network_isolation"] is True
        assert out["protections"]["nproc_limit"] == "per sandbox (user namespace)"
        assert out["read_repo"] in ("FileNotFoundError", "PermissionError")
        assert out["network"] != "connected"
        assert out["probe"] == "application/vnd.course.probe+json"
        assert out["nproc"] == limits().processes
        assert 0 < out["forks"] < limits().processes
        assert not (base / "work" / "written.txt").exists()  # mode "copy": a private copy
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--unprivileged":
    _unprivileged_main(sys.argv[2], sys.argv[3])
