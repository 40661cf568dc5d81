"""The private names of nbgrader, nbclient, jupyter_client, ipykernel and IPython that the course
uses, and the upstream bodies it copies or counts on, are still as they were written against
(``autograders/upstream.py``, ``autograders/runtime/course_upstream.py``): an upgrade that
changes one fails here, not in a grade."""
from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import inspect
import re
from pathlib import Path

import course_upstream
import pytest

from autograders import upstream

PRIVATE_NAMES = {**upstream.PRIVATE_NAMES, **course_upstream.PRIVATE_NAMES}
UPSTREAM_BODIES = {**upstream.UPSTREAM_BODIES, **course_upstream.UPSTREAM_BODIES}
WRITTEN_AGAINST = {**upstream.WRITTEN_AGAINST, **course_upstream.WRITTEN_AGAINST}
COMPAT_MODULES = {Path(upstream.__file__).resolve(), Path(course_upstream.__file__).resolve()}
REPOSITORY = Path(upstream.__file__).resolve().parents[1]


def installed() -> str:
    return ", ".join(f"{name} {importlib.metadata.version(name)} (written against {version})"
                     for name, version in WRITTEN_AGAINST.items())


def resolve(dotted: str):
    """``"module:Class.name"`` -> (the class, the name)."""
    module, path = dotted.split(":")
    *owners, name = path.split(".")
    owner = importlib.import_module(module)
    for part in owners:
        owner = getattr(owner, part)
    return owner, name


def parameters(function) -> str:
    """A function's parameters as inspect shows them, without annotations."""
    signature = inspect.signature(function)
    plain = [parameter.replace(annotation=inspect.Parameter.empty) for parameter in signature.parameters.values()]
    return str(signature.replace(parameters=plain, return_annotation=inspect.Signature.empty))


def private_name_problem(dotted: str, signature: str | None) -> str | None:
    """What is wrong with an upstream private name, or None when it is as written against. An
    attribute (``signature`` None) is one of its class, or one its ``__init__`` sets."""
    owner, name = resolve(dotted)
    if signature is None:
        if hasattr(owner, name) or re.search(rf"\bself\.{name}\s*=", inspect.getsource(owner.__init__)):
            return None
        return f"{dotted} is gone"
    member = getattr(owner, name, None)
    if member is None:
        return f"{dotted} is gone"
    found = parameters(member)
    return None if found == signature else f"{dotted} now takes {found}, not {signature}"


def body_problem(dotted: str, digest: str) -> str | None:
    """What is wrong with an upstream body that the course copies or counts on, or None."""
    owner, name = resolve(dotted)
    member = getattr(owner, name, None)
    if member is None:
        return f"{dotted} is gone"
    try:
        source = inspect.getsource(member)
    except (OSError, TypeError):  # e.g. object.__init__, which shows through a class's that is gone
        return f"{dotted} has changed (its source cannot be read)"
    found = hashlib.sha256(source.encode()).hexdigest()[:16]
    return None if found == digest else f"{dotted} has changed (its source hashes to {found}, not {digest})"


@pytest.mark.parametrize("dotted", sorted(PRIVATE_NAMES))
def test_private_name_is_as_written_against(dotted):
    signature, why = PRIVATE_NAMES[dotted]
    problem = private_name_problem(dotted, signature)
    assert problem is None, f"{problem}; the course uses it for: {why}. Installed: {installed()}"


@pytest.mark.parametrize("dotted", sorted(UPSTREAM_BODIES))
def test_upstream_body_is_as_written_against(dotted):
    digest, ours, why = UPSTREAM_BODIES[dotted]
    problem = body_problem(dotted, digest)
    assert problem is None, (f"{problem}; {ours} depends on it: {why}. Compare the two, then record the "
                             f"new hash. Installed: {installed()}")


@pytest.mark.parametrize("dotted", sorted(UPSTREAM_BODIES))
def test_the_course_method_that_depends_on_an_upstream_body_exists(dotted):
    owner, name = resolve(UPSTREAM_BODIES[dotted][1])
    assert name in vars(owner), f"{owner.__qualname__}.{name} is not the course's: the table is out of date"


def test_written_against_the_installed_versions():
    """The compatibility modules say which versions they were checked against; after an upgrade
    whose other checks here pass, record the new versions."""
    found = {name: importlib.metadata.version(name) for name in WRITTEN_AGAINST}
    assert found == WRITTEN_AGAINST


def test_no_other_module_names_a_listed_private_name():
    """Every use of these names goes through the compatibility modules."""
    names = {dotted.rsplit(".", 1)[1] for dotted in PRIVATE_NAMES}
    # an attribute read, a method defined or called, a class attribute set
    pattern = re.compile(rf"(\.|\bdef\s+|^\s+)({'|'.join(map(re.escape, sorted(names)))})\b")
    uses = []
    for path in sorted([*REPOSITORY.glob("autograders/**/*.py"), *REPOSITORY.glob("course/**/*.py")]):
        if path.resolve() in COMPAT_MODULES or "tests" in path.parts or "banks" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                uses.append(f"{path.relative_to(REPOSITORY)}:{number}: {line.strip()}")
    assert uses == []


# The checks above fail when an upgrade removes or changes what they check: shown here by
# removing or replacing each upstream name for the length of one test.

def _replacement(*args, **kwargs):
    """Stands in for an upstream method: other parameters, another body."""


@pytest.mark.parametrize("dotted", sorted(PRIVATE_NAMES))
def test_a_private_name_that_is_gone_fails(dotted, monkeypatch):
    owner, name = resolve(dotted)
    if PRIVATE_NAMES[dotted][0] is None and not hasattr(owner, name):
        monkeypatch.setattr(owner, "__init__", _replacement)  # an __init__ that no longer sets it
    else:
        monkeypatch.delattr(owner, name)
    assert private_name_problem(dotted, PRIVATE_NAMES[dotted][0]) == f"{dotted} is gone"


@pytest.mark.parametrize("dotted", sorted(d for d, (signature, _) in PRIVATE_NAMES.items() if signature))
def test_a_private_method_with_other_parameters_fails(dotted, monkeypatch):
    owner, name = resolve(dotted)
    monkeypatch.setattr(owner, name, _replacement)
    assert "now takes (*args, **kwargs)" in private_name_problem(dotted, PRIVATE_NAMES[dotted][0])


@pytest.mark.parametrize("dotted", sorted(UPSTREAM_BODIES))
def test_a_changed_upstream_body_fails(dotted, monkeypatch):
    owner, name = resolve(dotted)
    monkeypatch.setattr(owner, name, _replacement)
    assert "has changed" in body_problem(dotted, UPSTREAM_BODIES[dotted][0])
    monkeypatch.delattr(owner, name)
    # gone, or a base class's shows through in its place
    assert body_problem(dotted, UPSTREAM_BODIES[dotted][0]) is not None
