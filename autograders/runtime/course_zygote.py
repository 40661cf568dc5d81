"""The kernel pool's zygote: runs inside a grading sandbox, forks one fresh kernel per request.

    python -m course_zygote --listen-fd FD --workdir /run/submission --kernel-dir /run/kernel

A fresh kernel pays about two seconds of CPU for starting Python and importing torch and
matplotlib. The zygote pays it once: it imports everything a kernel needs, then, for each
request from a launcher (``autograders/sandbox/launch.py`` with ``COURSE_SANDBOX_POOL``), forks
a child that becomes an ipykernel for that one submission. A forked child starts from the
zygote's memory, never from an earlier child's, so no Python state crosses between submissions.

What else could cross, inside the one sandbox the kernels share in turn, is cleared before the
next request is accepted: every other process in the sandbox is killed (``kill(-1, SIGKILL)``
until none is left) and the folders a kernel can write (``/tmp``, ``/dev/shm``, the working
folder, the kernel folder) are emptied, and System V IPC objects removed. The zygote is not dumpable, so a kernel, which runs as
the same uid, can neither trace it nor read its memory or its file descriptors; a kernel that
kills or stops it only ends the pool, which its owner then replaces (``KernelPool``).

The listening socket is passed in as a file descriptor: its path lies outside the sandbox, where
only the grader can reach it. One request per connection (SOCK_SEQPACKET, JSON):

* ``{"ping": true}``: answered ``{"pong": true, "served": N}`` when the pool is idle and clean.
* ``{"kernel": {...}}`` and file descriptors (the kernel's stderr, then the files of its working
  folder in the order of ``entries``, sent in as many messages as it takes): answered
  ``{"started": true}``, then ``{"exit": CODE}`` when the kernel ends. The kernel is killed when
  the launcher's connection closes first.
"""
from __future__ import annotations

import argparse
import ctypes
import errno
import gc
import json
import os
import select
import shutil
import signal
import socket
import stat
import sys
import time
import traceback

SCM_MAX_FD = 253  # the most file descriptors Linux passes in one message
MAX_MESSAGE = 1 << 20
PR_SET_DUMPABLE = 4


def _preload():
    """Everything a kernel imports at start, and what every chapter's setup cell imports; then
    what torch and matplotlib set up lazily on first use (about a second each, per kernel
    otherwise)."""
    import io
    import pdb  # noqa: F401 - these five: what IPKernelApp.initialize imports
    import sqlite3  # noqa: F401

    import IPython.core.completerlib  # noqa: F401 - these four: what the kernel's shell imports
    import IPython.core.debugger  # noqa: F401
    import IPython.core.logger  # noqa: F401
    import IPython.core.magics.execution  # noqa: F401 - these two: loaded by the first %matplotlib
    import IPython.core.magics.pylab  # noqa: F401
    import IPython.core.oinspect  # noqa: F401
    import IPython.extensions  # noqa: F401
    import ipykernel.debugger  # noqa: F401
    import ipykernel.ipkernel  # noqa: F401
    import tornado.platform.asyncio  # noqa: F401
    import matplotlib
    import matplotlib.pyplot  # noqa: F401
    import matplotlib_inline.backend_inline  # noqa: F401
    import numpy  # noqa: F401
    import torch
    import torch.nn.functional  # noqa: F401
    from ipykernel.kernelapp import IPKernelApp  # noqa: F401
    from matplotlib.backends import backend_registry
    from matplotlib.figure import Figure

    import course_probe  # noqa: F401

    weight = torch.zeros(2, requires_grad=True)
    for optimizer in (torch.optim.SGD([weight], lr=0.1), torch.optim.Adam([weight])):
        optimizer.zero_grad()
        (weight * 2).sum().backward()
        optimizer.step()
    # what each chapter's `%matplotlib inline` first resolves: the backends that installed
    # packages declare (every distribution's entry points read, ~12 ms)
    backend_registry.resolve_gui_or_backend("inline")
    figure = Figure()  # not pyplot's: no figure number is used up
    axes = figure.subplots(1, 2)
    axes[0].hist([1.0, 2.0, 2.0], bins=3, label="warm-up")
    axes[0].set_yscale("log")
    axes[0].legend()
    axes[1].plot([0, 1], [1, 0])
    axes[1].set_title("title $x^2$")
    figure.tight_layout()
    figure.savefig(io.BytesIO(), format="png", bbox_inches="tight")
    _warm_source_caches()


# What the kernel's stack holds while a cell runs, and what a cell calls most: their source files
# are read (and cached) for every traceback and every ``torch.manual_seed``, which records where
# it was called in case CUDA fails to start later.
KERNEL_STACK_MODULES = ("runpy", "asyncio.base_events", "asyncio.events", "tornado.platform.asyncio",
                        "ipykernel.kernelapp", "ipykernel.kernelbase", "ipykernel.ipkernel",
                        "ipykernel.zmqshell", "IPython.core.interactiveshell", "IPython.core.async_helpers",
                        "__main__", "course_probe", "torch.random", "torch.cuda", "torch.cuda.random")


def _warm_source_caches():
    """Fill the caches a kernel's first traceback and first ``torch.manual_seed`` would fill
    (about 0.15 s per kernel): IPython's traceback libraries imported, the source files on a
    kernel's stack read, and a torch module's call path read and tokenized."""
    import linecache

    import torch
    from IPython.core.ultratb import AutoFormattedTB

    import course_kernel  # noqa: F401 - the kernel class every grading kernel runs

    for name in KERNEL_STACK_MODULES:
        module = sys.modules.get(name) or __import__(name, fromlist=["_"])
        if getattr(module, "__file__", None):
            linecache.getlines(module.__file__)

    class Unfinished(torch.nn.Module):
        def forward(self, x):
            raise NotImplementedError("warm-up")

    try:
        Unfinished()(torch.zeros(1))
    except NotImplementedError:
        AutoFormattedTB(mode="Context").structured_traceback(*sys.exc_info())


def _set_dumpable(flag: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, flag, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE)")


def _receive(conn):
    """One request: (the message, its file descriptors)."""
    data, fds, _, _ = socket.recv_fds(conn, MAX_MESSAGE, SCM_MAX_FD)
    if not data:
        raise EOFError("the launcher closed the connection")
    return json.loads(data), list(fds)


def _send(conn, message) -> None:
    try:
        conn.send(json.dumps(message).encode())
    except OSError:
        pass  # the launcher is gone; the kernel is stopped below all the same


# ----------------------------------------------------------------------------------------------
# In the child: becoming the kernel


def _fill_workdir(workdir, entries, fds):
    """Recreate the submission's folder from the launcher's list and file descriptors."""
    files = iter(fds)
    for entry in entries:
        path = os.path.join(workdir, entry["path"])
        if os.path.relpath(path, workdir).startswith(".."):
            raise ValueError(f"entry outside the working folder: {entry['path']!r}")
        if entry["kind"] == "dir":
            os.makedirs(path, exist_ok=True)
        elif entry["kind"] == "link":
            os.symlink(entry["target"], path)
            continue
        else:
            with os.fdopen(next(files), "rb") as source, open(path, "wb") as target:
                shutil.copyfileobj(source, target, 1 << 20)
        os.chmod(path, entry["mode"])


def _become_kernel(request, fds, args):
    """In the forked child: the one submission's kernel. Never returns."""
    code = 1
    try:
        os.close(args.listen_fd)  # the kernel must never reach the pool's socket
        os.setsid()
        # the signal dispositions of a Python process started afresh
        signal.signal(signal.SIGINT, signal.default_int_handler)  # ipykernel interrupts this way
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        stderr_fd, files = fds[0], fds[1:]
        os.dup2(stderr_fd, 2)
        os.close(stderr_fd)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.close(null)
        _set_dumpable(1)
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")  # over the memory limit, the OOM killer ends this kernel, not the zygote
        os.environ.update({k: str(v) for k, v in request.get("env", {}).items()})
        _fill_workdir(args.workdir, request["entries"], files)
        os.chdir(args.workdir)
        connection_file = os.path.join(args.kernel_dir, "connection.json")
        with open(os.open(connection_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            json.dump(request["connection"], f)

        import numpy
        import torch
        # fresh entropy, as a kernel started afresh has (Python's random reseeds itself on fork)
        numpy.random.seed()
        torch.seed()
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize(["-f", connection_file, *request.get("options", [])])
        app.start()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - reported on the kernel's stderr, then the child ends
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


# ----------------------------------------------------------------------------------------------
# In the zygote: serving requests, clearing up between them


def _others_alive():
    me = os.getpid()
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in (1, me):
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            alive.append(int(entry))
    return alive


def _reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _sweep(args):
    """Kill every other process of the sandbox, then empty every folder a kernel can write, and
    remove what a kernel may leave in the IPC namespace."""
    deadline = time.monotonic() + 10
    while True:
        try:
            os.kill(-1, signal.SIGKILL)  # all we may signal but ourselves and the sandbox's init
        except ProcessLookupError:
            pass
        _reap()
        if not _others_alive():
            break
        if time.monotonic() > deadline:
            raise RuntimeError("processes of the last kernel survived SIGKILL")
        time.sleep(0.005)
    for folder in ("/tmp", "/dev/shm", args.workdir, args.kernel_dir):
        _empty(folder)
    _remove_ipc_objects()


IPC_RMID = 0
_IPC_KINDS = (("shm", "shmctl"), ("msg", "msgctl"), ("sem", "semctl"))


def _remove_ipc_objects():
    """Remove the System V IPC objects of the sandbox's IPC namespace: they outlive the kernel
    that made them, and hold memory that no process maps (the sandbox's system-call filter
    refuses to make them; this is for a machine where it cannot)."""
    libc = None
    for kind, call in _IPC_KINDS:
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                ids = [int(line.split()[1]) for line in f.readlines()[1:] if line.strip()]
        except (OSError, ValueError, IndexError):
            continue
        if ids and libc is None:
            libc = ctypes.CDLL(None, use_errno=True)
        for ident in ids:
            if call == "semctl":
                getattr(libc, call)(ident, 0, IPC_RMID)
            else:
                getattr(libc, call)(ident, IPC_RMID, None)


def _empty(folder):
    """Remove everything in ``folder`` that lies on its own filesystem. What the sandbox mounts
    below it (the environment, when the repository lives under /tmp) stays, with the folders
    that lead to it, emptied of anything else."""
    device = os.lstat(folder).st_dev
    for name in os.listdir(folder):
        _remove(os.path.join(folder, name), device)


def _remove(path, device):
    st = os.lstat(path)
    if st.st_dev != device:
        return  # a mount point: another filesystem, never the kernel's to clear
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
        return
    if st.st_uid == os.getuid():
        os.chmod(path, stat.S_IRWXU)  # a kernel may have locked a folder of its own
    for name in os.listdir(path):
        _remove(os.path.join(path, name), device)
    try:
        os.rmdir(path)
    except OSError as exc:
        if exc.errno not in (errno.EBUSY, errno.ENOTEMPTY):  # it leads to a mount point
            raise


def _serve_kernel(conn, request, fds, args):
    """Fork the kernel, watch it and the launcher. The kernel's exit code, or None when the
    launcher left first (the sweep that follows kills the kernel)."""
    try:
        while len(fds) < 1 + sum(e["kind"] == "file" for e in request["entries"]):
            more = _receive(conn)[1]  # the rest of the working folder's files
            if not more:
                raise ValueError("a batch of files without files")
            fds += more
        child = os.fork()
        if child == 0:
            conn.close()
            _become_kernel(request, fds, args)
    finally:
        for fd in fds:  # the zygote keeps no file of a submission open for the next one
            os.close(fd)
    _send(conn, {"started": True})
    pidfd = os.pidfd_open(child)
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN | select.POLLHUP)
    poller.register(pidfd, select.POLLIN)
    try:
        while True:
            ready = {fd for fd, _ in poller.poll()}
            if pidfd in ready:
                _, status = os.waitpid(child, 0)
                code = os.waitstatus_to_exitcode(status)
                _send(conn, {"exit": code})
                return code
            try:
                if not conn.recv(1):
                    return None
            except OSError:
                return None
    finally:
        os.close(pidfd)


def serve(args) -> int:
    listener = socket.socket(fileno=args.listen_fd)
    served = 0
    while True:
        conn, _ = listener.accept()
        with conn:
            try:
                request, fds = _receive(conn)
            except (OSError, EOFError, ValueError):
                continue
            if request.get("ping"):
                for fd in fds:
                    os.close(fd)
                _send(conn, {"pong": True, "served": served})
                continue
            served += 1
            try:
                _serve_kernel(conn, request["kernel"], fds, args)
            except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
                print(f"course_zygote: request refused: {type(exc).__name__}: {exc}", file=sys.stderr)
            finally:
                _sweep(args)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="course_zygote")
    parser.add_argument("--listen-fd", type=int, required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--kernel-dir", required=True)
    args = parser.parse_args(argv)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)  # only the pool's owner ends it, with SIGKILL
    if sys.path and os.path.abspath(sys.path[0]) == os.getcwd():
        del sys.path[0]  # as ipykernel_launcher does; the kernel puts '' back for its own folder
    _preload()
    # What is preloaded lives as long as any kernel. Frozen, it is left out of every kernel's
    # garbage collections: a full one walked its ~0.4 million objects (0.1 to 0.2 s, in most
    # notebooks) and wrote to their pages, each then copied from the zygote's.
    gc.freeze()
    _set_dumpable(0)
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
