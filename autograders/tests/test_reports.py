"""Reading the probe reports a test cell's outputs hold (``autograders.reports``), from data alone."""
from __future__ import annotations

import json

from nbformat.v4 import new_code_cell, new_output

from autograders.reports import cell_reports
from course_probe import MIME_TYPE

REPORT = {"protocol": 2, "expectations": [{"name": "value", "value": 4}], "error": None}


def _cell(*outputs):
    return new_code_cell("probe()", outputs=list(outputs))


def _display(data, output_type="display_data"):
    if output_type == "execute_result":
        return new_output("execute_result", data={MIME_TYPE: data}, execution_count=1)
    return new_output(output_type, data={MIME_TYPE: data})


def test_a_report_is_read_from_json_text_or_a_json_object():
    assert cell_reports(_cell(_display(json.dumps(REPORT)))) == [REPORT]
    assert cell_reports(_cell(_display(REPORT))) == [REPORT]
    assert cell_reports(_cell(_display(json.dumps(REPORT), "execute_result"))) == [REPORT]


def test_every_report_of_a_cell_is_read_in_order_and_other_outputs_are_not_reports():
    other = {**REPORT, "error": "ValueError"}
    cell = _cell(new_output("stream", name="stdout", text=json.dumps(REPORT)),
                 new_output("display_data", data={"text/plain": json.dumps(REPORT)}),
                 _display(REPORT), _display(json.dumps(other)))
    assert cell_reports(cell) == [REPORT, other]
    assert cell_reports(_cell()) == []
    assert cell_reports({"cell_type": "code", "source": ""}) == []  # a cell without outputs at all


def test_what_is_no_json_object_is_a_malformed_report():
    malformed = {"error": "MalformedReport"}
    assert cell_reports(_cell(_display("{not json"))) == [malformed]
    assert cell_reports(_cell(_display("[1, 2]"))) == [malformed]
    assert cell_reports(_cell(_display(["a", "list"]))) == [malformed]
    assert cell_reports(_cell(_display("[" * 100_000 + "]" * 100_000))) == [malformed]  # too deep to parse


def test_a_report_in_an_output_type_that_carries_no_data_is_not_read():
    # forged onto an error output and a stream, as a cell's outputs read from a file may be
    forged = [{"output_type": kind, "data": {MIME_TYPE: json.dumps(REPORT)}} for kind in ("error", "stream")]
    assert cell_reports({"outputs": forged}) == []
