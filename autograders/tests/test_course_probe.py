"""The probe protocol: encoding observations as data and deciding expectations."""
from __future__ import annotations

import json
import math

import torch

import course_probe as cp


def _rule(expectation):
    return {**expectation, "value": cp.encode(expectation["value"])}


def test_tensors_cross_as_dtype_shape_and_values():
    data = json.loads(json.dumps(cp.encode(torch.arange(6.0).reshape(2, 3))))
    assert {k: v for k, v in data["__tensor__"].items() if k != "float64"} == {"dtype": "torch.float32", "shape": [2, 3]}
    assert cp._flatten_numbers(data) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert cp.encode(torch.tensor([[1, 2]])) == {"__tensor__": {"dtype": "torch.int64", "shape": [1, 2], "values": [1, 2]}}
    assert json.loads(json.dumps(cp.encode(torch.fft.fft(torch.ones(4)))))["__tensor__"]["dtype"] == "torch.complex64"


def test_floating_point_tensors_cross_exactly_with_nan_and_infinities():
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        tensor = torch.tensor([0.1, -0.0, 1e-30, float("nan"), float("inf"), -float("inf")]).to(dtype)
        crossed = cp._flatten_numbers(json.loads(json.dumps(cp.encode(tensor))))
        assert crossed[:3] == [float(v) for v in tensor[:3].tolist()] and math.copysign(1, crossed[1]) == -1
        assert math.isnan(crossed[3]) and crossed[4:] == [math.inf, -math.inf]
    negative_view = torch.tensor([1 + 2j, 3 - 4j], dtype=torch.complex128).conj().imag
    assert cp._flatten_numbers(cp.encode(negative_view)) == [-2.0, 4.0]


def test_tensor_equality_is_numeric_as_it_was_in_json():
    rule = _rule(cp.equal("t", torch.tensor([0.0, float("nan"), 2.0]), "the same tensor"))
    assert cp.decide(rule, cp.encode(torch.tensor([-0.0, -float("nan"), 2.0])), {})
    assert not cp.decide(rule, cp.encode(torch.tensor([0.0, float("nan"), 2.5])), {})
    assert not cp.decide(rule, cp.encode(torch.tensor([0.0, float("nan"), 2.0], dtype=torch.float64)), {})
    assert not cp.decide(rule, cp.encode(torch.tensor([[0.0, float("nan"), 2.0]])), {})


def test_forged_tensor_bytes_are_wrong_answers_never_errors():
    rule = _rule(cp.close("t", torch.ones(2), "ones"))
    good = cp.encode(torch.ones(2))["__tensor__"]
    for forged in ("not base64!", "AAAA", good["float64"] + "AAAAAAAAAAA=", 7, None, [1.0, 1.0]):
        value = {"__tensor__": {**good, "float64": forged}}
        assert not cp.decide(rule, value, {}) and not cp.decide({**rule, "kind": "equal"}, value, {})
    assert not cp.decide(rule, {"__tensor__": {**good, "shape": [3]}}, {})
    assert not cp.decide(_rule(cp.band("t", None, "mean", 0, 2, "")), {"__tensor__": {**good, "shape": "x"}}, {})


def test_unknown_objects_cannot_pose_as_values():
    class Yes:
        def __eq__(self, other):
            return True

    rule = _rule(cp.equal("x", 3, "must be 3"))
    assert not cp.decide(rule, cp.encode(Yes()), {})
    assert cp.encode(float("nan")) == {"__float__": "nan"}


def test_close_checks_shape_dtype_kind_and_values():
    rule = _rule(cp.close("y", torch.ones(2, 2), "ones"))
    assert cp.decide(rule, cp.encode(torch.ones(2, 2) + 1e-7), {})
    assert not cp.decide(rule, cp.encode(torch.ones(4)), {})
    assert not cp.decide(rule, cp.encode(torch.ones(2, 2) * 1.01), {})
    assert not cp.decide(rule, cp.encode(torch.ones(2, 2, dtype=torch.complex64)), {})
    assert not cp.decide(rule, "garbage", {})
    infinite = _rule(cp.close("y", torch.tensor([float("inf"), -float("inf"), 1.0]), "overflows"))
    assert cp.decide(infinite, cp.encode(torch.tensor([float("inf"), -float("inf"), 1.0])), {})
    assert not cp.decide(infinite, cp.encode(torch.tensor([-float("inf"), float("inf"), 1.0])), {})
    assert not cp.decide(infinite, cp.encode(torch.tensor([1e30, -float("inf"), 1.0])), {})


def test_band_statistics_are_computed_by_the_judge_from_raw_values():
    values = cp.encode(torch.tensor([0.0, 0.0, 6.0, -8.0]))
    assert cp.decide(_rule(cp.band("w", None, "fraction_zero", 0.4, 0.6, "")), values, {})
    assert cp.decide(_rule(cp.band("w", None, "abs_min_nonzero", 5, 10, "")), values, {})
    assert not cp.decide(_rule(cp.band("w", None, "abs_max", 0, 5, "")), values, {})
    assert not cp.decide(_rule(cp.band("w", None, "mean", 0, 1, "")), "not numbers", {})


def test_same_as_and_matches_use_only_the_students_values():
    rule = _rule(cp.same_as("b", 1.0, "a", "round trip"))
    assert cp.decide(rule, 2.0, {"a": 2.0})
    assert not cp.decide(rule, 2.0, {"a": 3.0})
    assert not cp.decide(rule, 2.0, {})
    rule = _rule(cp.matches("msg", "", r"'0'.*\b3\b", "names the child"))
    assert cp.decide(rule, "child '0' got (2, 3)", {})
    assert not cp.decide(rule, "failed", {})


def test_a_probe_that_raises_reports_the_exception_type_only():
    def probe(seed):
        raise ZeroDivisionError("secret details")

    envelope = cp.observe(probe)
    assert envelope["error"] == "ZeroDivisionError" and "secret" not in json.dumps(envelope)


def test_raised_names_the_exception():
    assert cp.raised(lambda: 1 / 0) == "ZeroDivisionError"
    assert cp.raised(lambda: None) is None
    assert math.isinf(cp._statistic("abs_min_nonzero", [0.0]))


def test_reports_are_read_from_json_text_and_anything_else_is_malformed():
    from nbformat.v4 import new_code_cell, new_output

    from autograders.reports import cell_reports

    envelope = {"protocol": cp.PROTOCOL_VERSION, "expectations": [], "error": None}
    cell = new_code_cell(outputs=[new_output("display_data", data={cp.MIME_TYPE: payload})
                                  for payload in (json.dumps(envelope), envelope, "[" * 200_000, "not json", [1])])
    assert cell_reports(cell) == [envelope, envelope] + [{"error": "MalformedReport"}] * 3
