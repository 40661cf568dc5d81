"""python -m autograders.sandbox install [--prefix PREFIX] | doctor [--json]"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from . import KERNEL_NAME, SandboxSettings, install, protections, warnings_for

_LABELS = [
    ("bwrap", "bubblewrap binary"),
    ("user_namespaces", "user namespaces enabled"),
    ("bwrap_usable", "bubblewrap can create the kernel's namespaces"),
    ("filesystem_isolation", "filesystem isolation: only the kernel's folder writable, the course invisible"),
    ("network_isolation", "network isolation: own network namespace"),
    ("pid_isolation", "process isolation: own pid namespace"),
    ("tmpfs_size_limits", "size limits on /tmp, /dev/shm and the folder's copy"),
    ("no_nested_user_namespaces", "no user namespaces inside the sandbox"),
    ("root", "running as root (needed for a per-kernel uid)"),
    ("per_kernel_uid", "per-kernel unprivileged uid"),
    ("setpriv", "setpriv binary (util-linux)"),
    ("resource_limits", "resource limits (setrlimit)"),
    ("nproc_limit", "process-count limit"),
    ("prlimit", "prlimit binary (util-linux)"),
    ("syscall_filter", "system-call filter: no System V IPC, no anonymous files"),
    ("memory_cgroup", "memory cgroup per sandbox (counts memory no process maps)"),
    ("memory_protection", "what bounds a sandbox's memory"),
]


def _mark(key, value):
    if key == "root":
        return "info"
    if key == "per_kernel_uid" and isinstance(value, str):
        return "n/a "
    if key == "memory_protection":
        return "info"
    return "MISS" if value is False or (key == "bwrap_usable" and value is not True) else "ok  "


def _doctor(as_json):
    config = SandboxSettings().launcher_settings()
    info = protections(config)
    report = info.report()
    lim = dataclasses.asdict(config.limits)
    if as_json:
        print(json.dumps({"protections": report, "limits": lim, "workdir_mode": config.workdir},
                         indent=1))
    else:
        for key, label in _LABELS:
            print(f"[{_mark(key, report[key])}] {label}: {report[key]}")
        print("limits: " + ", ".join(f"{k}={v}" for k, v in lim.items()))
        print(f"working folder: {config.workdir}")
        print(f"missing: {report['missing'] or 'nothing'}")
        for line in warnings_for(info):
            print(line)
    return 0 if info.bwrap_usable and not info.memory_refused else 1


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograders.sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    p_install = sub.add_parser("install", help=f"install the {KERNEL_NAME} kernelspec")
    p_install.add_argument("--prefix", help="installation prefix (default: sys.prefix)")
    p_doctor = sub.add_parser("doctor", help="show the protections this machine provides")
    p_doctor.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "install":
        print(install(args.prefix))
        return 0
    return _doctor(args.json)


if __name__ == "__main__":
    sys.exit(main())
