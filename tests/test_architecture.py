"""Dependencies run one way: the course's command line (``course/``) uses the grading engine
(``autograders/``), never the other way round, and the kernel-side runtime
(``autograders/runtime/``), which runs standalone inside the sandbox, imports nothing of the
host side. Every import counts: at the top of a module, inside a function, or by name through
``importlib.import_module`` or ``__import__``. No module is imported or run here."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ENGINE = "autograders"
RUNTIME = "autograders/runtime"
# The engine's test suites grade scratch courses through the course's operations, as
# `make autograde` does, and a bank entry is the source of an answer cell, not a module.
NOT_ENGINE = ("autograders/tests/", "autograders/banks/")


def imported(source: str, filename: str = "<module>") -> list[tuple[int, str]]:
    """``(line, module)`` for every import in ``source``: a relative import as its dots and name
    (``.hidden``), an import by a constant name through ``importlib.import_module`` or
    ``__import__`` as that name."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, "." * node.level + (node.module or "")))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
    return found


def forbidden_imports(path: str, source: str) -> list[str]:
    """What the module at ``path`` (relative to the repository) imports against the rules."""
    if path.startswith(NOT_ENGINE) or not path.startswith(ENGINE + "/"):
        return []
    runtime = path.startswith(RUNTIME + "/")
    forbidden = {"course", "autograders"} if runtime else {"course"}
    problems = []
    for line, module in imported(source, path):
        top = module.split(".")[0]
        if top in forbidden:
            problems.append(f"{path}:{line} imports {module}")
        elif runtime and module.startswith("."):
            # the runtime's folder is on the kernel's path, not a package: a relative import
            # reaches for the host side's package around it
            problems.append(f"{path}:{line} imports {module} (the runtime imports its siblings by plain name)")
    return problems


def engine_modules() -> dict[str, str]:
    return {str(path.relative_to(REPO)): path.read_text() for path in sorted((REPO / ENGINE).rglob("*.py"))}


def test_the_engine_never_imports_the_course_and_the_runtime_nothing_of_the_host():
    modules = engine_modules()
    # the walk reaches the engine, its sandbox and the runtime
    assert {"autograders/bank.py", "autograders/sandbox/launch.py", "autograders/runtime/course_probe.py"} <= set(modules)
    problems = [problem for path, source in modules.items() for problem in forbidden_imports(path, source)]
    assert not problems, "imports against the direction of dependencies:\n" + "\n".join(problems)


@pytest.mark.parametrize("path, source", [
    ("autograders/judge.py", "import course\n"),
    ("autograders/judge.py", "from course.operations import autograde\n"),
    ("autograders/sandbox/pool.py", "def later():\n    from course import grading\n"),
    ("autograders/bank.py", "import importlib\nops = importlib.import_module('course.operations')\n"),
    ("autograders/bank.py", "class Lazy:\n    def get(self):\n        return __import__('course')\n"),
    ("autograders/runtime/course_probe.py", "import autograders.hidden\n"),
    ("autograders/runtime/course_kernel.py", "from autograders.sandbox import launch\n"),
    ("autograders/runtime/course_zygote.py", "def f():\n    import course.course_dir\n"),
    ("autograders/runtime/course_zygote.py", "from . import course_probe\n"),
])
def test_a_forbidden_import_is_found(path, source):
    assert forbidden_imports(path, source), f"{source!r} in {path} should break the rule"


@pytest.mark.parametrize("path, source", [
    ("autograders/judge.py", "from .hidden import is_test_cell\nimport course_probe\n"),
    ("autograders/runtime/course_zygote.py", "import course_probe\nfrom course_kernel import CourseKernel\n"),
    ("autograders/tests/test_pool.py", "from course import operations\n"),
    ("course/operations.py", "from autograders.judge import JudgeProbeReports\n"),
])
def test_an_allowed_import_passes(path, source):
    assert forbidden_imports(path, source) == []
