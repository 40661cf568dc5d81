"""The judge's verdicts, from data alone: what a student is told, and what never reaches them."""
from __future__ import annotations

from nbformat.v4 import new_code_cell, new_output

from course_probe import MIME_TYPE

from autograders.judge import Verdict, error_name, judge_cell, judge_plain_cell, public_check_message

VISIBLE = '''assert f(2) == 4, "f(2) should be 4"
assert g().shape == (2, 8), f"expected (2, 8), got {tuple(g().shape)}"
assert ("a" in h(),
        "h() must hold 'a'")
assert ok, ("joined "
            "over two lines")
'''
RULES = {"expectations": [{"name": "value", "kind": "equal", "params": {}, "why": "f must double", "value": 4}]}


def _test_cell(outputs, source=VISIBLE):
    return new_code_cell(source + "### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS\n", outputs=outputs,
                         metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "t", "points": 1}})


def test_a_public_checks_own_message_is_shown_and_an_f_strings_values_are_not():
    assert public_check_message(VISIBLE, "f(2) should be 4") == "f(2) should be 4"
    assert public_check_message(VISIBLE, "joined over two lines") == "joined over two lines"
    assert public_check_message(VISIBLE, "expected (2, 8), got (3, 1)") == "expected (2, 8), got …"
    assert public_check_message(VISIBLE, "expected (2, 8), got c2VjcmV0KCkK") == "expected (2, 8), got …"


def test_any_other_text_of_an_assertion_error_is_not_shown():
    for written_in_the_kernel in ("c2VjcmV0KCkK", "f(2) should be 4 c2VjcmV0KCkK", "", "x" * 5000, None, 42):
        assert public_check_message(VISIBLE, written_in_the_kernel) == "run this cell in your notebook to see which"
    assert public_check_message("assert (", "anything") == "run this cell in your notebook to see which"


def test_only_pythons_and_the_graders_error_names_are_shown():
    assert error_name("ValueError") == "ValueError"
    assert error_name("KernelDied") == "KernelDied"
    for name in ("c2VjcmV0KCkK", "MyError", "", None, ["ValueError"]):
        assert error_name(name) == "an exception"


def test_a_verdict_is_made_of_the_references_words_and_the_visible_code():
    smuggled = "c2VjcmV0KCkK"
    cases = [
        [new_output("error", ename="AssertionError", evalue=smuggled, traceback=[smuggled])],
        [new_output("error", ename=smuggled, evalue=smuggled, traceback=[smuggled])],
        [new_output("display_data", data={MIME_TYPE: {"error": smuggled}})],
        [new_output("stream", name="stdout", text=smuggled)],
    ]
    for outputs in cases:
        verdict = judge_cell(_test_cell(outputs), RULES)
        assert not verdict.passed
        assert smuggled not in verdict.message


def test_a_failed_public_check_names_its_message():
    outputs = [new_output("error", ename="AssertionError", evalue="f(2) should be 4", traceback=[])]
    assert judge_cell(_test_cell(outputs), RULES).message == "a public check failed: f(2) should be 4"


def _report(*expectations, error=None):
    return new_output("display_data", data={MIME_TYPE: {"expectations": list(expectations), "error": error}})


def test_a_report_passes_when_every_rule_of_the_reference_holds_for_its_values():
    assert judge_cell(_test_cell([_report({"name": "value", "value": 4})]), RULES) == Verdict(True, "1 checks")
    assert judge_cell(_test_cell([_report({"name": "value", "value": 5})]), RULES) == Verdict(False, "f must double")
    assert judge_cell(_test_cell([_report({"name": "other", "value": 4})]), RULES) == Verdict(False, "f must double")


def test_a_report_of_an_error_or_more_than_one_report_fails():
    raised = judge_cell(_test_cell([_report(error="ZeroDivisionError")]), RULES)
    assert raised == Verdict(False, "your code raised ZeroDivisionError while being tested; it is about: f must double")
    twice = judge_cell(_test_cell([_report({"name": "value", "value": 4})] * 2), RULES)
    assert not twice.passed and "more than once" in twice.message
    none = judge_cell(_test_cell([]), RULES)
    assert none == Verdict(False, "this test could not run (no result). It is about: f must double")


def _plain_cell(outputs):
    return new_code_cell("assert f(2) == 4\n", outputs=outputs,
                         metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "p", "points": 3}})


def test_a_plain_test_cell_is_decided_as_nbgrader_scores_it_naming_no_text_of_the_kernel():
    smuggled = "c2VjcmV0KCkK"
    assert judge_plain_cell(_plain_cell([])).passed
    partly = judge_plain_cell(_plain_cell([new_output("execute_result", data={"text/plain": "1.5"},
                                                      execution_count=1)]))
    assert (partly.passed, partly.partial) == (False, 1.5) and "1.5 of 3 points" in partly.message
    failed = judge_plain_cell(_plain_cell([new_output("error", ename=smuggled, evalue=smuggled, traceback=[])]))
    assert not failed.passed and smuggled not in failed.message and "an exception" in failed.message
    stderr = judge_plain_cell(_plain_cell([new_output("stream", name="stderr", text=smuggled)]))
    assert not stderr.passed and smuggled not in stderr.message and "stderr" in stderr.message


def test_a_verdicts_outputs_are_what_nbgrader_scores_it_by():
    assert [o.output_type for o in Verdict(True, "2 checks").outputs()] == ["stream"]
    (error,) = Verdict(False, "f must double").outputs()
    assert (error.output_type, error.ename, error.evalue) == ("error", "TestFailed", "f must double")
    shown, points = Verdict(False, "1.5 of 3 points", partial=1.5).outputs()
    assert shown.text == "Partly passed: 1.5 of 3 points\n" and points.data == {"text/plain": "1.5"}
