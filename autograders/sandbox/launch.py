"""Kernel launcher of the ``course-sandbox`` kernelspec: runs ipykernel in a sandbox.

    start.py -f CONNECTION_FILE [ipykernel arguments...]
    start.py --pool FOLDER      (a kernel pool's sandbox: see pool.py and docs/sandbox.md)

(``start.py``, next to this file, runs ``main``.)

Standard library only: it runs with the course environment's interpreter, before anything else,
with the settings of its environment (``settings.py``). The kernel's working folder is the
launcher's working directory (the notebook's folder). docs/sandbox.md explains the
design; ``capabilities.protections()`` reports what this machine provides. Layers, outermost
first:

1. As root: a per-kernel unprivileged uid/gid from a range (``COURSE_SANDBOX_UIDS``, default
   61000-61063), chosen under a lock so that concurrent kernels never share one (``uids.py``),
   entered with ``setpriv --no-new-privs``. Root first makes a private mount namespace in which
   every folder the kernel needs but the uid could not reach (the Python under ``/root``, which
   is 0700) is re-bound below a tmpfs, where any uid can reach it (``mounts.py``).
2. Resource limits (setrlimit before exec, inherited): address space, CPU seconds, file size,
   open files, no core dumps; the process count inside the user namespace, where it counts only
   the sandbox's processes (and per uid as well when the uid is dropped). The launcher bounds
   the memory of all the sandbox's processes together (``memory.py``, ``watch.py``).
3. bubblewrap (``command.py``): new user, pid, ipc, net, uts (and cgroup where possible)
   namespaces, no nested user namespaces, a read-only root made of /usr, a minimal /etc, the
   Python installation, the environment (venv) and ``autograders/runtime``; size-limited tmpfs
   /tmp and /dev/shm; the working folder as a private size-limited copy (default) or bound
   read-write (``workdir.py``); nothing else.
4. A cleared environment.

The kernel talks to its client over ZMQ IPC sockets (its network namespace has no route to the
client). The launcher copies the connection file into a private per-kernel folder (the "kernel
folder", /run/kernel inside the sandbox), points its ``ip`` there, and puts symbolic links where
the client connects (``<ip>-<port>``) to the sockets the kernel creates there
(``connection.py``). Other files of the client's runtime folder (other kernels' connection
files) are never visible to the kernel.

A janitor process (``janitor.py``) undoes the launch when the launcher ends, even when the
client kills the launcher's process group with SIGKILL.

With ``COURSE_SANDBOX_POOL=FOLDER`` in its environment (a grading worker's ``KernelPool``),
the launcher has the pool's zygote fork the kernel instead, inside the pool's sandbox (which has
all the layers above), and stands for it until it ends (``pool_client.py``); when the pool
cannot, it starts a sandbox of the kernel's own as usual.

If bubblewrap cannot run, the kernel still starts with the limits that remain and one
``SANDBOX WARNING:`` line per missing protection goes to stderr, unless
``COURSE_SANDBOX_REQUIRE=1``, which makes the launcher refuse to start instead (exit 3).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

if __package__:
    from . import (capabilities, command, connection, janitor, layout, memory, pool_client, relay, settings,
                   uids, watch, workdir)
else:  # run as the launcher script (start.py), whose folder is sys.path[0]
    import capabilities
    import command
    import connection
    import janitor
    import layout
    import memory
    import pool_client
    import relay
    import settings
    import uids
    import watch
    import workdir


def parse_args(argv):
    """The connection file and the other ipykernel arguments of ``start.py``'s command line."""
    connection_file, extra = None, []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-f", "--f") and i + 1 < len(argv):
            connection_file = argv[i + 1]
            i += 2
            continue
        if arg.startswith(("-f=", "--f=")):
            connection_file = arg.split("=", 1)[1]
        elif arg.startswith(("--HistoryManager.hist_file", "--IPKernelApp.connection_file",
                             "--IPKernelApp.kernel_class", "--IPKernelApp.outstream_class")):
            pass  # decided here
        else:
            extra.append(arg)
        i += 1
    if not connection_file:
        raise SystemExit("usage: start.py -f CONNECTION_FILE [ipykernel arguments...]")
    return os.path.abspath(connection_file), extra


def _refuse(message, code=2):
    print(f"SANDBOX ERROR: {message}", file=sys.stderr, flush=True)
    return code


def _end_with_parent() -> None:
    """Stop as on SIGTERM once the process that started this launcher is gone: a grading
    worker killed in mid-task must not leave its pool or its kernel's sandbox running."""
    parent = os.getppid()

    def watch_parent():
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch_parent, daemon=True).start()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts travel as messages
    _end_with_parent()
    config = settings.read()
    if argv[:1] == ["--pool"]:
        if len(argv) != 2:
            raise SystemExit("usage: start.py --pool FOLDER")
        return _launch(config, pool_dir=os.path.abspath(argv[1]))
    connection_file, extra = parse_args(argv)
    if os.environ.get(settings.POOL_ENV):
        code = pool_client.kernel_from_pool(os.environ[settings.POOL_ENV], connection_file, extra)
        if code is not None:
            return code
    return _launch(config, connection_file=connection_file, extra=extra)


def _launch(config, connection_file=None, extra=(), pool_dir=None):
    """Start a sandbox with the settings ``config`` and wait for its end: a kernel for
    ``connection_file``, or, with ``pool_dir``, a kernel pool's zygote (``course_zygote``)
    serving kernels from that folder."""
    settings.debug("launcher start")
    info = capabilities.protections(config)
    warnings = capabilities.warnings_for(info)
    if warnings and config.require:
        for line in warnings:
            print(line.replace("WARNING", "ERROR", 1), file=sys.stderr)
        return _refuse("COURSE_SANDBOX_REQUIRE=1: refusing to start a kernel without them", 3)
    if info.memory_refused:
        return _refuse(info.memory_refused, 3)
    for line in warnings:
        print(line, file=sys.stderr, flush=True)
    use_bwrap = info.bwrap_usable
    drop_uid = info.per_kernel_uid
    lim = config.limits
    copy = use_bwrap and config.workdir == "copy"
    python_binds = layout.python_binds()

    if pool_dir is not None:
        if not copy:
            return _refuse("a kernel pool needs bubblewrap and the working folder mode copy")
        prefix = None
        cwd = pool_client.POOL_WORKDIR_INSIDE  # an empty folder; each kernel gets its submission's copy
        limit_hit = os.path.join(pool_dir, memory.LIMIT_HIT)
        for stale in (limit_hit, os.path.join(pool_dir, memory.POOL_CGROUP)):  # of the pool this one replaces
            if os.path.exists(stale):
                os.unlink(stale)
    else:
        with open(connection_file) as f:
            conn = json.load(f)
        transport = conn.get("transport", "tcp")
        if use_bwrap and transport != "ipc":
            return _refuse("the sandboxed kernel has no network: its client must use ZMQ over "
                           "IPC (c.KernelManager.transport = 'ipc')")
        prefix = connection.socket_prefix(conn, os.getppid()) if transport == "ipc" else None
        cwd = os.getcwd()
        refusal = workdir.unsafe_kernel_folder(connection_file, prefix, cwd)
        if refusal:
            return _refuse(refusal)
        limit_hit = os.path.join(os.path.dirname(os.path.abspath(connection_file)), memory.LIMIT_HIT)
    lend = drop_uid and not copy  # the kernel's uid writes the folder itself

    folder_fd = None
    if not copy:
        folder_fd = os.open(cwd, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        workdir.lock_folder(folder_fd)
    uid = gid = lease = None
    job = janitor.Job()
    if drop_uid:
        lease = uids.lease(config.uids)
        uid = gid = job.uid = lease.uid
    if lend:
        st = os.stat(cwd)
        job.restore_owner = janitor.Owner(cwd, st.st_uid, st.st_gid)
    settings.debug(f"uid {uid}")

    # The kernel folder (/run/kernel inside): for a kernel, next to the connection file (as
    # private as the client's runtime folder), with the connection file the kernel reads and
    # the sockets it creates; for a pool, in the pool's folder, filled by each kernel in turn.
    pass_fds = []
    try:
        if pool_dir is not None:
            kernel_dir = os.path.join(pool_dir, pool_client.POOL_KERNEL_DIR)
            os.mkdir(kernel_dir, 0o700)
        else:
            kernel_dir = tempfile.mkdtemp(prefix=".sandbox-", dir=os.path.dirname(connection_file))
        job.kernel_dir = kernel_dir
        if drop_uid:
            os.chown(kernel_dir, uid, gid)
        inside_dir = layout.KERNEL_DIR_INSIDE if use_bwrap else kernel_dir
        if pool_dir is not None:
            listener = pool_client.pool_listener(pool_dir)
            pass_fds.append(listener.detach())
            program = [sys.executable, "-m", "course_zygote", "--listen-fd", str(pass_fds[0]),
                       "--workdir", pool_client.POOL_WORKDIR_INSIDE, "--kernel-dir", layout.KERNEL_DIR_INSIDE]
        else:
            connection.write_connection(conn, kernel_dir, inside_dir, prefix, uid, gid, job)
            if lend:
                workdir.lchown_tree(cwd, uid, gid)
            program = [sys.executable, "-m", "ipykernel_launcher",
                       "-f", os.path.join(inside_dir, "connection.json"), *command.KERNEL_OPTIONS, *extra]
    except BaseException:
        janitor.cleanup(job)
        raise

    cgroup = None
    if info.memory_cgroup and lim.total_memory:
        try:
            cgroup = memory.MemoryCgroup.create(lim.total_memory)
        except OSError as exc:
            if config.memory_protection == "cgroup":
                janitor.cleanup(job)
                return _refuse(f"could not make the sandbox's memory cgroup: {exc}", 3)
            print(f"SANDBOX WARNING: could not make the sandbox's memory cgroup ({exc}): the watch bounds "
                  "its memory instead", file=sys.stderr)
    if cgroup is not None:
        job.cgroup = cgroup
        if pool_dir is not None:  # for the pool's clients, which read its OOM kills
            with open(os.path.join(pool_dir, memory.POOL_CGROUP), "w") as f:
                json.dump((cgroup.path, cgroup.version), f)
    memory_watch = watch.MemoryWatch(lim.total_memory, limit_hit, cgroup,
                                     ("/tmp", "/dev/shm") + ((cwd,) if copy else ()))
    cmd, popen_env, fds = command.sandbox_command(program, info, lim, python_binds, cwd=cwd,
                                                  kernel_dir=kernel_dir, copy=copy,
                                                  fill_workdir=pool_dir is None,
                                                  ids=(uid, gid) if drop_uid else None)
    needed = [src for src, _ in python_binds] + [layout.RUNTIME_DIR, kernel_dir] + ([] if copy else [cwd])
    preexec = command.sandbox_preexec(lim, needed if drop_uid else None, use_bwrap, cgroup)
    returncode = _run_sandbox(cmd, popen_env, cwd=cwd if pool_dir is None else "/",
                              pass_fds=pass_fds + fds, preexec=preexec, job=job, lim=lim,
                              memory_watch=memory_watch)
    if lease is not None:
        lease.release()
    if folder_fd is not None:
        os.close(folder_fd)
    return pool_client.exit_code(returncode)


def _run_sandbox(cmd, env, *, cwd, pass_fds, preexec, job, lim, memory_watch):
    """Start the sandbox and wait for its end, relaying its stderr within limits and watching its
    memory (``memory_watch``); a janitor process clears ``job`` up however this process ends.
    The exit status."""
    try:
        child = subprocess.Popen(cmd, cwd=cwd, env=env, close_fds=True, pass_fds=pass_fds,
                                 preexec_fn=preexec, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
    except BaseException:
        janitor.cleanup(job)
        raise
    finally:
        for fd in pass_fds:
            os.close(fd)  # the listener too: when the zygote is gone, connecting fails at once
    settings.debug(f"sandbox started: pid {child.pid}")
    cleaner = janitor.Janitor(child, job)

    def stop(signum, frame):
        try:
            child.kill()
        except OSError:
            pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    relay.relay_stderr(child.stderr, lim.stderr_bytes, child, memory_watch)
    returncode = child.wait()
    settings.debug(f"sandbox exited: {returncode}")
    memory_watch.after_exit()
    cleaner.finish()
    settings.debug("cleaned up")
    return returncode
