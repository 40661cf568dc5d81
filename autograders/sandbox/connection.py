"""A kernel's connection: where its client connects, the connection file the kernel reads in
its kernel folder, and the links from the client's socket paths to the sockets the kernel makes
there (standard library only)."""
from __future__ import annotations

import json
import os


def socket_prefix(conn, client_pid):
    """Where the client connects: ``<ip>-<port>``. A relative ip is relative to the client's
    working directory (jupyter_client's default ``kernel-ipc`` when its connection file was
    not chosen before its ip; configure an absolute ``KernelManager.ip`` instead)."""
    ip = conn.get("ip") or "kernel-ipc"
    if os.path.isabs(ip):
        return ip
    try:
        client_cwd = os.readlink(f"/proc/{client_pid}/cwd")
    except OSError:
        client_cwd = os.getcwd()
    return os.path.join(client_cwd, ip)


def write_connection(conn, kernel_dir, inside_dir, prefix, uid, gid, job):
    """The kernel's connection file in its kernel folder, and the links from where the client
    connects (``<prefix>-<port>``) to the sockets the kernel will create there."""
    inner_conn = dict(conn)
    if prefix is not None:
        inner_conn["ip"] = os.path.join(inside_dir, "ipc")
    inner_file = os.path.join(kernel_dir, "connection.json")
    fd = os.open(inner_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(inner_conn, f)
    if uid is not None:
        os.chown(inner_file, uid, gid)
    if prefix is not None:
        link_sockets(conn, prefix, kernel_dir, job)


def link_sockets(conn, prefix, kernel_dir, job):
    """Link ``<prefix>-<port>`` to the kernel's socket in ``kernel_dir``, for each port of
    ``conn``; ``job`` (``janitor.Job``) records the links for their removal."""
    for key in ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"):
        port = conn.get(key)
        if not port:
            continue
        link = f"{prefix}-{port}"
        target = os.path.join(kernel_dir, f"ipc-{port}")
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)
        job.links.append((link, target))
