"""The repository's set-up: pins, ignored student data, the commands the README promises."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _pins(text: str) -> dict[str, str]:
    return dict(re.findall(r"^[\s-]*([A-Za-z0-9_.\-]+)==([^\s#]+)", text, re.MULTILINE))


def test_requirements_and_environment_yml_pin_the_same_versions():
    requirements = _pins((REPO / "requirements.txt").read_text())
    conda = _pins((REPO / "environment.yml").read_text())
    assert requirements, "requirements.txt pins nothing"
    assert requirements == conda
    assert requirements["torch"] == "2.13.0"
    for package in ("jupyterlab", "nbgrader", "nbval", "matplotlib", "pytest"):
        assert package in requirements, f"{package} is not pinned"


def test_student_data_and_the_venv_are_ignored():
    for path in ["submitted/x", "autograded/x", "feedback/x", "gradebook.db", "exchange/x", ".venv/x",
                 ".grading_secret", "demo/x", "students/x", "bench/x"]:
        result = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO)
        assert result.returncode == 0, f"{path} is not git-ignored"


def test_makefile_has_every_target_the_readme_names():
    makefile = (REPO / "Makefile").read_text()
    readme = (REPO / "README.md").read_text()
    for target in ["demo", "test", "generate", "release", "collect", "zip-collect", "autograde", "feedback",
                   "export", "lab", "formgrader"]:
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), f"no make target {target}"
        assert f"make {target}" in readme, f"README does not show make {target}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (REPO / ".ci" / "run").read_text()
    assert "make test" in (REPO / "README.md").read_text().split("\n## ")[0]
