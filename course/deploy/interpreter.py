"""A Python every account of the hub can run, with the course's packages.

The students' servers, the grader's and their kernels run as accounts other than the one that
made ``.venv``. Its interpreter may sit where they cannot reach it (pyenv's under root's private
home, say); then the deployment makes a thin environment on the system's Python of the same
version whose ``site-packages``, ``share`` and ``etc`` are ``.venv``'s own: the same packages,
kernels and Jupyter extensions, nothing installed twice.
"""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from ..pipeline import PipelineError, VENV_BIN

VENV = VENV_BIN.parent
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
# commands the accounts run by name: nbgrader's and jupyter's, and alembic, which a new gradebook runs
COMMANDS = {"nbgrader": "nbgrader.apps.nbgraderapp:main", "alembic": "alembic.config:main",
            "jupyter": "jupyter_core.command:main"}


def reachable_by_all(path: Path) -> bool:
    """Whether any account can run ``path``: every folder above it searchable, the file executable."""
    path = Path(os.path.realpath(path))
    folders_ok = all(os.stat(parent).st_mode & 0o001 for parent in path.parents)
    return folders_ok and bool(os.stat(path).st_mode & 0o001)


def users_environment(folder: Path) -> Path:
    """The ``bin`` folder of a Python environment every account can run (``.venv``'s own where it can)."""
    if reachable_by_all(Path(sys.executable)) and reachable_by_all(VENV / "pyvenv.cfg"):
        return VENV_BIN
    if not SYSTEM_PYTHON.is_file():
        raise PipelineError(f"{sys.executable} is out of other accounts' reach and there is no {SYSTEM_PYTHON} "
                            "to run the students' servers with: make .venv with a Python every account can run")
    folder = Path(folder)
    if not (folder / "bin" / "python").exists():
        subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", "--without-pip", str(folder)], check=True)
        site = Path(sysconfig.get_paths(vars={"base": str(folder)})["purelib"])
        site.rmdir()
        site.symlink_to(sysconfig.get_paths()["purelib"])
        for name in ("share", "etc"):
            (folder / name).symlink_to(VENV / name)
    for command, entry in COMMANDS.items():
        module, function = entry.split(":")
        script = folder / "bin" / command
        script.write_text(f"#!{folder / 'bin' / 'python'}\nimport sys\nfrom {module} import {function}\n"
                          f"sys.exit({function}())\n")
        script.chmod(0o755)
    return folder / "bin"
