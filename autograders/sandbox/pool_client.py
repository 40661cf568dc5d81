"""The kernel pool's client side (grading): the socket protocol to a pool's zygote
(``course_zygote``), and ``PoolKernel``, a kernel the zygote forked, standing for it as a process
would. The launcher uses it with ``COURSE_SANDBOX_POOL``, the grader's ``PoolProvisioner``
(``pool.py``) without a launcher (standard library only).

The folder of a pool holds the zygote's socket and the kernel folder; kernels work in a folder of
the pool's sandbox (``POOL_WORKDIR_INSIDE``), filled from the submission's folder by the zygote.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading

if __package__:
    from . import command, connection, janitor, layout, relay, settings, watch, workdir
else:  # the launcher, run as a script (start.py): its folder is sys.path[0]
    import command
    import connection
    import janitor
    import layout
    import relay
    import settings
    import watch
    import workdir

POOL_SOCKET = "zygote.sock"
POOL_KERNEL_DIR = "kernel"
POOL_WORKDIR_INSIDE = "/run/submission"
POOL_TIMEOUT_S = 30.0  # for the zygote to finish clearing up after the previous kernel
FDS_PER_MESSAGE = 200  # Linux passes at most 253 per message; the zygote takes that many


def pool_listener(pool_dir):
    """The zygote's listening socket, bound in the pool's folder (outside the sandbox, where
    only its owner reaches it)."""
    path = os.path.join(pool_dir, POOL_SOCKET)
    if os.path.lexists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(8)
    return listener


def pool_request(pool_dir, message, fds=(), timeout=POOL_TIMEOUT_S):
    """Connect to the pool's zygote and send one request; the connected socket, or None when
    the pool cannot be reached."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.settimeout(timeout)
    fds = list(fds)
    try:
        sock.connect(os.path.join(pool_dir, POOL_SOCKET))
        first, rest = fds[:FDS_PER_MESSAGE], fds[FDS_PER_MESSAGE:]
        socket.send_fds(sock, [json.dumps(message).encode()], first)
        for start in range(0, len(rest), FDS_PER_MESSAGE):
            socket.send_fds(sock, [b'{"more": true}'], rest[start:start + FDS_PER_MESSAGE])
    except OSError:
        sock.close()
        return None
    return sock


def pool_reply(sock):
    """The zygote's next answer on ``sock`` (a dict), or None (closed, timed out, garbled)."""
    try:
        return _answer(sock.recv(65536))
    except OSError:
        return None


def _answer(data):
    """A message of the zygote's, decoded (a dict), or None (the connection closed, or garbled)."""
    try:
        answer = json.loads(data) if data else None
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def exit_code(returncode):
    """A process's exit status as its launcher passes it on: 128 + the signal that killed it."""
    return returncode if returncode >= 0 else 128 - returncode


class PoolKernel:
    """A kernel that the pool's zygote forked, seen as a ``subprocess.Popen`` is: it has ended
    when the zygote says so, and killing it is closing the connection to the zygote, which then
    kills the kernel and clears the sandbox for the next one. Its stderr is relayed to ours."""

    pid = None  # a pid of the pool's own pid namespace
    stdin = stdout = stderr = None

    def __init__(self, sock, job, relay_thread, memory_watch=None):
        self.returncode = None
        self._sock, self._job, self.relay = sock, job, relay_thread
        self._memory_watch = memory_watch

    @classmethod
    def start(cls, pool_dir, connection_file, extra, cwd, environ, client_pid):
        """Have the pool's zygote fork a kernel working in (a copy of) ``cwd``, for a client
        (``client_pid``) that connects as ``connection_file`` says, with the settings of
        ``environ`` (the launcher's environment). None when the pool cannot or must not start it:
        then the launcher gives it a sandbox of its own, or refuses it (a folder that must not be
        copied into a sandbox, say), saying why."""
        with open(connection_file) as f:
            conn = json.load(f)
        config = settings.read(environ)
        if conn.get("transport") != "ipc" or config.workdir != "copy":
            return None
        prefix = connection.socket_prefix(conn, client_pid)
        if workdir.unsafe_kernel_folder(connection_file, prefix, cwd):
            return None
        lim = config.limits
        copy = workdir.folder_entries(cwd, lim.workdir_size // 2, lim.workdir_entries)
        read_fd, write_fd = os.pipe()
        request = {"kernel": {
            "connection": dict(conn, ip=os.path.join(layout.KERNEL_DIR_INSIDE, "ipc")),
            "env": command.kernel_environment(environ),  # the zygote's, and this kernel's own seed
            "options": [*command.KERNEL_OPTIONS, *extra],
            "entries": [entry.message() for entry in copy.entries],
        }}
        try:
            sock = pool_request(pool_dir, request, [write_fd, *copy.fds])
        finally:
            for fd in (write_fd, *copy.fds):
                os.close(fd)
        reply = pool_reply(sock) if sock is not None else None
        if not (reply or {}).get("started"):
            os.close(read_fd)
            if sock is not None:
                sock.close()
            settings.debug("the pool did not start the kernel")
            return None
        settings.debug("kernel forked by the pool")
        workdir.warn_left_out(copy.left_out)
        job = janitor.Job()
        connection.link_sockets(conn, prefix, os.path.join(pool_dir, POOL_KERNEL_DIR), job)
        relay_thread = threading.Thread(target=relay.relay_stderr,
                                        args=(os.fdopen(read_fd, "rb"), lim.stderr_bytes), daemon=True)
        relay_thread.start()
        return cls(sock, job, relay_thread, watch.PoolMemoryWatch(pool_dir, connection_file))

    def poll(self):
        try:
            return self.wait(0.0)
        except subprocess.TimeoutExpired:
            return None

    def wait(self, timeout=None):
        if self.returncode is None:
            self._sock.settimeout(timeout)
            try:
                data = self._sock.recv(65536)
            except (TimeoutError, BlockingIOError):
                raise subprocess.TimeoutExpired("a kernel of the pool", timeout) from None
            except OSError:
                data = b""
            self._release((_answer(data) or {}).get("exit", -signal.SIGKILL))
        return self.returncode

    def send_signal(self, signum):
        """Any signal but an interrupt (which travels as a message) ends the kernel."""
        if signum != signal.SIGINT and self.returncode is None:
            self._release(-signum)

    def terminate(self):
        self.send_signal(signal.SIGTERM)

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def _release(self, returncode):
        self.returncode = returncode
        self._sock.close()
        janitor.cleanup(self._job)
        if self._memory_watch is not None:
            self._memory_watch.report()


def kernel_from_pool(pool_dir, connection_file, extra):
    """Have the pool's zygote fork the kernel, and stand for it until it ends (the client
    watches and kills this process). The kernel's exit code, or None when the pool could not
    start it: then the kernel gets a sandbox of its own."""
    kernel = PoolKernel.start(pool_dir, connection_file, extra, os.getcwd(), os.environ, os.getppid())
    if kernel is None:
        return None

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    try:
        returncode = kernel.wait()
    finally:
        kernel.kill()  # when this launcher is stopped first
    kernel.relay.join(timeout=1)
    return exit_code(returncode)
