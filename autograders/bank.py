"""An assignment's bank of known answers, and what each one must score.

A bank entry ``autograders/banks/<assignment>/<exercise>/<name>.py`` is the whole source of
that exercise's answer cell. ``correct_*`` entries must get full marks everywhere; every other
entry is a known-wrong answer that must lose points on its own exercise and on no other
(``problems`` says where a graded submission does not).

Grading a bank as a class, through the course's own pipeline, is the course's part
(``course.banks``). ``sweep_seeds`` judges each entry's own test cells for many seeds, in one
process: a hidden input that lets a mistake through for some seeds would otherwise be found only
by the luck of a course's secret.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import course_probe
import nbformat
from nbgrader import utils

from .hidden import is_test_cell
from .judge import judge_cell
from .sandbox import settings

try:
    import resource
except ImportError:  # not a Unix: no address-space limit to set
    resource = None

BANKS = Path(__file__).resolve().parent / "banks"


@dataclass(frozen=True)
class BankEntry:
    assignment: str
    exercise: str
    name: str
    path: Path

    @property
    def correct(self) -> bool:
        return self.name.startswith("correct_")

    @property
    def student_id(self) -> str:
        return f"{self.exercise}--{self.name}"

    @property
    def summary(self) -> str:
        first = self.path.read_text().splitlines()[:1]
        return first[0].lstrip("# ").strip() if first and first[0].startswith("#") else ""


def bank_entries(assignment: str) -> list[BankEntry]:
    folder = BANKS / assignment
    return [BankEntry(assignment, path.parent.name, path.stem, path)
            for path in sorted(folder.glob("*/*.py"))]


def answer_cells(nb) -> dict[str, object]:
    """``{exercise_id: cell}`` for the autograded answer cells of a notebook."""
    return {cell.metadata.nbgrader["grade_id"]: cell for cell in nb.cells
            if cell.cell_type == "code" and utils.is_solution(cell) and not utils.is_grade(cell)}


def with_answers(nb, answers: dict[str, str]):
    """A copy of ``nb`` whose answer cells for the given exercises hold the given sources."""
    nb = nbformat.from_dict(nb)
    cells = answer_cells(nb)
    for exercise, source in answers.items():
        if exercise not in cells:
            raise KeyError(f"no answer cell {exercise!r} in the notebook (exercises: {', '.join(cells)})")
        cells[exercise].source = source
    return nb


def exercise_of(grade_id: str, exercises) -> str | None:
    """The exercise a test cell belongs to: the longest exercise id that prefixes ``<id>_``."""
    owners = [e for e in exercises if grade_id.startswith(e + "_")]
    return max(owners, key=len) if owners else None


def problems(entry_kind: str, exercise: str | None, scores: dict, exercises) -> list[str]:
    """What is wrong with one graded submission, given what it should score."""
    found = []
    for grade_id, (score, max_score) in sorted(scores.items()):
        owner = exercise_of(grade_id, exercises)
        full = score is not None and score >= max_score
        if entry_kind == "stub":
            if score:
                found.append(f"{grade_id}: the stub scored {score}/{max_score}")
        elif entry_kind == "wrong" and owner == exercise:
            continue
        elif not full:
            found.append(f"{grade_id}: {score}/{max_score}, expected full marks")
    if entry_kind == "wrong":
        own = [s for g, s in scores.items() if exercise_of(g, exercises) == exercise]
        if not own:
            found.append(f"no test cell of exercise {exercise!r}")
        elif all(score is not None and score >= max_score for score, max_score in own):
            found.append(f"this wrong answer keeps full marks on {exercise!r}")
    return found


@contextlib.contextmanager
def in_process_probes(seed: int | None = None, mode: str | None = None):
    """Probes imported in this process, told what a grading kernel's are told: the grading
    seed (``COURSE_PROBE_SEED``) and the probe mode (``COURSE_PROBE_MODE``), read from the
    environment as in a kernel; the environment as it was afterwards."""
    values = {"COURSE_PROBE_SEED": seed, "COURSE_PROBE_MODE": mode}
    saved = {name: os.environ.get(name) for name, value in values.items() if value is not None}
    os.environ.update({name: str(value) for name, value in values.items() if value is not None})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_cell_in_process(source: str, namespace: dict, filename: str = "<cell>") -> str | None:
    """Run a code cell's code (IPython's magics and shell lines left out, its output discarded)
    in ``namespace``, in this process; the name of the exception it raised, or None. For the
    course's own code (the seed sweep) and for the benchmark's floor, never for a student's."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            exec(compile(code, filename, "exec"), namespace)  # noqa: S102 - see the docstring
        except BaseException as exc:  # noqa: BLE001 - an answer's error is part of its result
            return type(exc).__name__
    return None


@contextlib.contextmanager
def address_space_capped(headroom: int):
    """This process's address space capped at what it maps now plus ``headroom`` bytes, as a
    grading kernel's is capped (``RLIMIT_AS``, ``COURSE_SANDBOX_MEMORY_MB``), then as it was: a
    known-wrong answer that allocates far too much (a model of ten billion parameters built for
    real) then fails at once with an allocation error, as it does in the sandbox, instead of
    filling the machine's memory. Without ``/proc`` or ``RLIMIT_AS``, nothing is capped."""
    try:
        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        mapped = None
    if resource is None or mapped is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = mapped + headroom
    for limit in (soft, hard):  # never looser than the process already was
        if limit != resource.RLIM_INFINITY:
            cap = min(cap, limit)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@contextlib.contextmanager
def torch_defaults_restored():
    """torch's default device and dtype as they were, after the block: every bank entry runs in
    this one process, and a known-wrong answer that switches a default and never switches it back
    (``torch.set_default_device("meta")``) must cost its own exercise, as it does in a grading
    kernel of its own, not every entry graded after it."""
    import torch  # the chapters' own dependency, not the engine's

    device, dtype = torch.get_default_device(), torch.get_default_dtype()
    try:
        yield
    finally:
        if torch.get_default_device() != device:
            # a cpu default is torch's own, with no default set: setting it would turn on a device
            # mode for every factory call that a grading kernel never has
            torch.set_default_device(None if device == torch.device("cpu") else device)
        torch.set_default_dtype(dtype)


def _run_cell(source: str, namespace: dict) -> str | None:
    """``run_cell_in_process``, then every figure closed: the sweep runs thousands of cells."""
    try:
        return run_cell_in_process(source, namespace)
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")


def _probe_of(cell, namespace: dict):
    """The probe a test cell reports, or None when the cell fails before reporting."""
    reported = []
    with mock.patch.object(course_probe, "report", reported.append):
        failed = _run_cell(cell.source, namespace)
    return reported[0] if reported and not failed else None


def _passes(probe, reference: dict) -> bool:
    """The judge's verdict on ``probe``'s report, published as a grading kernel publishes it."""
    if probe is None:
        return False
    data = course_probe.published(course_probe.observe(probe))
    cell = {"outputs": [{"output_type": "display_data", "data": data}]}
    return judge_cell(cell, reference).passed


def sweep_seeds(source_notebook: Path, entries: list[BankEntry], seeds: list[int]) -> dict[str, list[str]]:
    """``{student_id: problems}`` for the reference and every bank entry, judged for each seed.
    The reference must report cleanly in every test cell; a correct variant must pass every
    test cell of its exercise, and a known-wrong answer fail at least one; and each test cell
    must give an entry the same verdict for every seed, so that what a known answer scores
    never depends on a course's secret.

    Runs the source notebook, then each entry's answer and its exercise's test cells (in a copy
    of the notebook's namespace, once per seed), in this process: they are the course's own
    code, never a student's (``in_process_probes`` gives them each seed), under a grading
    kernel's memory limit per process (``address_space_capped``).
    """
    source = nbformat.read(source_notebook, as_version=4)
    exercises = list(answer_cells(source))
    tests = {cell.metadata.nbgrader["grade_id"]: cell for cell in source.cells if is_test_cell(cell)}
    namespace = {"__name__": "__main__"}
    reference_probes = {}
    for cell in source.cells:
        if cell.cell_type == "code":
            if is_test_cell(cell):
                reference_probes[cell.metadata.nbgrader["grade_id"]] = _probe_of(cell, namespace)
            else:
                _run_cell(cell.source, namespace)
    answers = {entry: entry.path.read_text() for entry in entries}
    found: dict[str, list[str]] = {"reference": [], **{entry.student_id: [] for entry in entries}}
    verdicts: dict[tuple[str, str], dict[bool, list[int]]] = {}
    headroom = settings.read().memory_mb * 1024 * 1024
    for seed in seeds:
        with in_process_probes(seed=seed), address_space_capped(headroom):
            references = {}
            for grade_id, probe in reference_probes.items():
                references[grade_id] = course_probe.observe(probe) if probe else None
                if probe is None or references[grade_id]["error"]:
                    found["reference"].append(f"seed {seed}: {grade_id} does not report cleanly")
            for entry in entries:
                own = [g for g in tests if exercise_of(g, exercises) == entry.exercise and references[g]]
                answered = dict(namespace)
                with torch_defaults_restored():
                    _run_cell(answers[entry], answered)
                    passed = {g: _passes(_probe_of(tests[g], answered), references[g]) for g in own}
                for grade_id, ok in passed.items():
                    verdicts.setdefault((entry.student_id, grade_id), {}).setdefault(ok, []).append(seed)
                if entry.correct and not all(passed.values()):
                    failed = ", ".join(g for g, ok in passed.items() if not ok)
                    found[entry.student_id].append(f"seed {seed}: a correct variant fails {failed}")
                elif not entry.correct and all(passed.values()):
                    found[entry.student_id].append(f"seed {seed}: this wrong answer keeps full marks on "
                                                   f"{entry.exercise!r}")
    for (student, grade_id), by_verdict in verdicts.items():
        if len(by_verdict) > 1:
            found[student].append(f"{grade_id} passes it for seeds {by_verdict[True]} and fails it for "
                                  f"seeds {by_verdict[False]}: its inputs must show the mistake whatever the seed")
    return found
