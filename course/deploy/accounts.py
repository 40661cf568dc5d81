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
import subprocess
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


def remove_account(name: str) -> None:
    """Remove an account the hub created (its home goes with the deployment's folder)."""
    if account(name) is not None:
        subprocess.run(["userdel", name], capture_output=True, check=False)
