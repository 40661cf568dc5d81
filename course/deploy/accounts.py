"""The hub's Unix accounts: one per student, the instructor and the course's grader, each with a
private home (mode 0700) under the deployment's folder.

JupyterHub's LocalProcessSpawner starts each user's JupyterLab as that account, so a student's
files, and their copy of every assignment, are out of every other student's reach by the
kernel's own permissions. Only root can create accounts: without root, the hub runs every
server as the one user who started it (docs/deployment.md).
"""
from __future__ import annotations

import os
import pwd
import signal
import subprocess
import time
from pathlib import Path

from ..course_dir import PipelineError


def account(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def ensure_account(name: str, homes: Path) -> pwd.struct_passwd:
    """The account ``name`` with its private home ``homes/<name>``, created if missing. An existing
    account is used only if its home is that folder: the hub never adopts someone else's."""
    home = Path(homes) / name
    found = account(name)
    if found is None:
        homes.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash",
                                 "--user-group", name], capture_output=True, text=True)
        if result.returncode != 0:
            raise PipelineError(f"could not create the account {name!r}: {result.stderr.strip()}")
        found = pwd.getpwnam(name)
    elif Path(found.pw_dir) != home:
        raise PipelineError(f"an account {name!r} already exists with its home in {found.pw_dir}, "
                            f"not in {home}: choose other names")
    home.mkdir(exist_ok=True)
    os.chown(home, found.pw_uid, found.pw_gid)
    home.chmod(0o700)
    return found


USERDEL_BUSY = 8  # userdel's exit status while the account has processes, zombies included


def remove_account(name: str, wait_s: float = 30.0) -> None:
    """Remove an account the hub created (its home goes with the deployment's folder), waiting up
    to ``wait_s`` for the zombies of its ended processes, which their parent may reap late."""
    deadline = time.monotonic() + wait_s
    while account(name) is not None:
        result = subprocess.run(["userdel", name], capture_output=True, text=True)
        if result.returncode != USERDEL_BUSY or time.monotonic() > deadline:
            return
        time.sleep(0.5)


def account_processes(name: str) -> list[int]:
    """The processes running as the account ``name`` (none for an account that does not exist);
    not zombies, which have ended and wait for their parent to reap them."""
    listed = subprocess.run(["ps", "-o", "pid=,stat=", "-u", name], capture_output=True, text=True).stdout
    return [int(pid) for pid, state in (line.split() for line in listed.splitlines()) if not state.startswith("Z")]


def kill_account_processes(names: list[str]) -> None:
    """SIGKILL whatever the hub's accounts ``names`` still run: their servers and the hub's
    services each run in a session of their own, which a hub killed before it stopped them left."""
    for name in names:
        for pid in account_processes(name):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # ended meanwhile
                pass
