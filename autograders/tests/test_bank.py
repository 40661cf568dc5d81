"""A bank's entries and what each must score (``autograders.bank``), from data alone."""
from __future__ import annotations

import os

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograders.bank import (address_space_capped, answer_cells, bank_entries, exercise_of, in_process_probes,
                              problems, run_cell_in_process, with_answers)

EXERCISES = ["double", "double_twice"]


def _nb():
    def cell(source, grade_id, grade, solution):
        return new_code_cell(source, metadata={"nbgrader": {"grade_id": grade_id, "grade": grade,
                                                            "solution": solution, "points": int(grade)}})
    return new_notebook(cells=[new_code_cell("import math\n"), cell("def double(x): ...", "double", False, True),
                               cell("assert double(1) == 2\n", "double_test", True, False),
                               cell("free answer", "double_graded_answer", True, True)])


def test_the_answer_cells_are_the_autograded_solution_cells_and_a_copy_can_hold_other_answers():
    nb = _nb()
    assert list(answer_cells(nb)) == ["double"]
    answered = with_answers(nb, {"double": "def double(x):\n    return 2 * x\n"})
    assert answer_cells(answered)["double"].source == "def double(x):\n    return 2 * x\n"
    assert answer_cells(nb)["double"].source == "def double(x): ..."  # the original is left as it was
    with pytest.raises(KeyError, match="no answer cell 'halve'"):
        with_answers(nb, {"halve": ""})


def test_a_test_cell_belongs_to_the_longest_exercise_id_it_starts_with():
    assert exercise_of("double_test", EXERCISES) == "double"
    assert exercise_of("double_twice_test", EXERCISES) == "double_twice"
    assert exercise_of("doubled", EXERCISES) is None


def test_what_each_kind_of_entry_must_score():
    full = {"double_test": (2, 2), "double_twice_test": (1, 1)}
    lost_own = {"double_test": (0, 2), "double_twice_test": (1, 1)}
    assert problems("reference", None, full, EXERCISES) == []
    assert problems("correct", "double", lost_own, EXERCISES) == ["double_test: 0/2, expected full marks"]
    assert problems("wrong", "double", lost_own, EXERCISES) == []
    assert problems("wrong", "double", full, EXERCISES) == ["this wrong answer keeps full marks on 'double'"]
    assert problems("wrong", "double_twice", lost_own, EXERCISES) == [
        "double_test: 0/2, expected full marks", "this wrong answer keeps full marks on 'double_twice'"]
    assert problems("wrong", "halve", full, EXERCISES) == ["no test cell of exercise 'halve'"]
    assert problems("stub", None, {"double_test": (0, 2), "double_twice_test": (1, 1)}, EXERCISES) == [
        "double_twice_test: the stub scored 1/1"]


def test_every_bank_entry_is_found_with_its_exercise_and_kind():
    entries = bank_entries("01_layers_and_blocks")
    assert entries and all(entry.path.is_file() and entry.assignment == "01_layers_and_blocks" for entry in entries)
    assert any(entry.correct for entry in entries) and not all(entry.correct for entry in entries)
    assert all(entry.student_id == f"{entry.exercise}--{entry.name}" for entry in entries)


def test_a_cell_runs_in_process_without_magics_and_names_the_exception_it_raised():
    namespace = {}
    assert run_cell_in_process("%matplotlib inline\n!ls\nx = 2\nprint(x)\n", namespace) is None
    assert namespace["x"] == 2
    assert run_cell_in_process("1 / 0\n", namespace) == "ZeroDivisionError"
    assert run_cell_in_process("raise SystemExit\n", namespace) == "SystemExit"


def test_in_process_probes_are_told_the_seed_and_mode_and_the_environment_is_restored(monkeypatch):
    monkeypatch.setenv("COURSE_PROBE_SEED", "1")
    monkeypatch.delenv("COURSE_PROBE_MODE", raising=False)
    with in_process_probes(seed=42, mode="grade"):
        assert (os.environ["COURSE_PROBE_SEED"], os.environ["COURSE_PROBE_MODE"]) == ("42", "grade")
    assert os.environ["COURSE_PROBE_SEED"] == "1" and "COURSE_PROBE_MODE" not in os.environ
    with pytest.raises(RuntimeError), in_process_probes(mode="grade"):
        raise RuntimeError
    assert "COURSE_PROBE_MODE" not in os.environ and os.environ["COURSE_PROBE_SEED"] == "1"


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="the cap reads /proc (Linux)")
def test_an_answer_that_allocates_far_too_much_fails_at_once_in_the_sweep_and_the_limit_is_restored():
    """What a grading kernel's address-space limit does to a known-wrong answer that builds a
    model of ten billion parameters for real (chapter 6), the sweep's in-process run does too."""
    import resource

    import torch

    before = resource.getrlimit(resource.RLIMIT_AS)
    with address_space_capped(256 * 1024 * 1024):
        with pytest.raises(RuntimeError, match="can't allocate memory"):
            torch.empty(2**28)  # 1 GiB, which any machine would map uncapped (torch.empty touches no page)
        assert torch.ones(1000).sum().item() == 1000  # what fits still runs
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    assert torch.empty(2**28).numel() == 2**28  # uncapped again, it is mapped


def test_the_sweep_restores_torchs_defaults_as_a_fresh_kernel_has_them():
    """After an entry that set a default device, the next entry meets torch as a kernel of its own
    does: no default device, so no device mode forced on every factory call."""
    import torch

    from autograders.bank import torch_defaults_restored

    with torch_defaults_restored():
        torch.set_default_device("meta")
        torch.set_default_dtype(torch.float64)
    assert torch.get_default_device() == torch.device("cpu") and torch.get_default_dtype() == torch.float32
    assert torch.as_tensor(torch.empty(2, device="meta")).device.type == "meta"  # a cpu mode would refuse it
