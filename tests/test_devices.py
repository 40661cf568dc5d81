"""Chapter 6 (devices), what its grading must do beyond every chapter's checks: an answer that
builds a ten-billion-parameter model for real loses that test at the sandbox's memory limit, at
once and with a verdict that says so, while the rest of its notebook still grades; and the probes
that pretend a machine has GPUs leave torch as they found it."""
from __future__ import annotations

import contextlib
import io
from datetime import datetime
from unittest import mock

import course_probe
import nbformat
import torch
from nbgrader import utils

from autograders.bank import BANKS, in_process_probes, run_cell_in_process, with_answers
from course import operations
from course.course_dir import Course, source_notebook

CHAPTER = "06_devices"
TEN_BILLION = "count_parameters_meta_hidden_ten_billion"


def _finished(cell) -> datetime:
    return datetime.fromisoformat(cell.metadata.execution["shell.execute_reply"].replace("Z", "+00:00"))


def test_a_model_of_ten_billion_parameters_built_for_real_stops_at_the_memory_limit_and_only_costs_its_test():
    course = Course.scratch([CHAPTER])
    course.nbgrader("generate_assignment", CHAPTER, "--force")
    source = nbformat.read(source_notebook(CHAPTER), as_version=4)
    answer = (BANKS / CHAPTER / "count_parameters_meta" / "builds_for_real.py").read_text()
    course.submit_notebook("allocates", CHAPTER, with_answers(source, {"count_parameters_meta": answer}))
    operations.autograde(course, CHAPTER, resume=False)

    scores = course.scores(CHAPTER)["allocates"]
    assert scores[TEN_BILLION][0] == 0
    lost = {grade_id for grade_id, (score, full) in scores.items() if score < full}
    assert lost <= {g for g in scores if g.startswith("count_parameters_meta_")}, "points lost on other exercises"
    assert all(score == full for grade_id, (score, full) in scores.items() if grade_id.startswith("realize_")), \
        "the exercise graded after the failed allocation must still grade"

    graded = nbformat.read(course.root / "autograded" / "allocates" / CHAPTER / "devices.ipynb", as_version=4)
    code = [cell for cell in graded.cells if cell.cell_type == "code"]
    index = next(i for i, cell in enumerate(code) if utils.is_grade(cell) and cell.metadata.nbgrader["grade_id"] == TEN_BILLION)
    verdict = " ".join(str(output.get("evalue", "")) for output in code[index].outputs)
    assert "memory limit" in verdict and "torch.device('meta')" in verdict, verdict
    seconds = (_finished(code[index]) - _finished(code[index - 1])).total_seconds()
    assert seconds < 10, f"the refused allocation took {seconds:.1f} s to decide"


def test_the_probes_that_pretend_to_have_gpus_reach_the_cuda_branch_and_leave_torch_as_it_was():
    # they replace torch.cuda.device_count and torch.cuda.is_available (kept in agreement) for a moment
    source = nbformat.read(source_notebook(CHAPTER), as_version=4)
    cells = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell.source for cell in source.cells}
    real_count, real_available = torch.cuda.device_count, torch.cuda.is_available
    namespace = {"__name__": "__main__"}
    assert run_cell_in_process(cells["setup"], namespace) is None
    assert run_cell_in_process(cells["try_device"], namespace) is None
    reported = []
    with in_process_probes(seed=12345), mock.patch.object(course_probe, "report", reported.append), \
            contextlib.redirect_stderr(io.StringIO()):
        assert run_cell_in_process(cells["try_device_hidden_gpus"], namespace) is None
        observed = course_probe.observe(reported[0])
    assert torch.cuda.device_count is real_count and torch.cuda.is_available is real_available
    seen = observed["expectations"][0]["value"]
    assert "cuda:0" in seen and "cuda:1" in seen, seen
    assert str(namespace["try_device"]()) == ("cuda:0" if real_count() > 0 else "cpu")


def test_the_probe_that_pretends_to_realize_on_a_gpu_sees_the_device_asked_for_and_restores_to_empty():
    source = nbformat.read(source_notebook(CHAPTER), as_version=4)
    cells = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell.source for cell in source.cells}
    real_to_empty = torch.nn.Module.to_empty
    namespace = {"__name__": "__main__"}
    assert run_cell_in_process(cells["setup"], namespace) is None
    assert run_cell_in_process(cells["realize"], namespace) is None
    reported = []
    with in_process_probes(seed=12345), mock.patch.object(course_probe, "report", reported.append), \
            contextlib.redirect_stderr(io.StringIO()):
        assert run_cell_in_process(cells["realize_hidden_same_model"], namespace) is None
        observed = course_probe.observe(reported[0])
    assert torch.nn.Module.to_empty is real_to_empty
    values = {e["name"]: e["value"] for e in observed["expectations"]}
    assert values["device_given"] == [f"cuda:{12345 % 4}"], values
