"""A cell's outputs, built from the kernel's messages as nbformat builds them, checked by a
compiled schema.

nbformat's ``output_from_msg`` checks every output against its part of the notebook schema, and
asks jsonschema to do it: fastjsonschema, nbformat's validator for whole notebooks, takes no part
of a schema. That cost the grader 0.3 ms an output; a chapter 2 notebook makes about 130.
``output_from_msg`` here builds the same output and checks it against the same part of the same
schema, compiled once with fastjsonschema (0.02 ms), and raises nbformat's ``ValidationError``
where nbformat's would: what a kernel sends is the student's, and an output that breaks the
schema still never reaches the notebook (the cell shows the grader's ``KernelLost`` error, and
the cells after it run, as with nbformat's check).
"""
from __future__ import annotations

import json
import os
from functools import cache

import fastjsonschema
import nbformat
from nbformat import v4

# what each message type's output takes from the message's content, as nbformat's output_from_msg
_FIELDS = {"execute_result": ("metadata", "data", "execution_count"), "display_data": ("metadata", "data"),
           "stream": ("name", "text"), "error": ("ename", "evalue", "traceback")}


@cache
def _check(output_type: str):
    """The compiled check of one output type, against the schema that nbformat's ``v4.validate``
    uses (the current minor version's)."""
    schema_file = os.path.join(os.path.dirname(v4.__file__), v4.nbformat_schema[(v4.nbformat, v4.nbformat_minor)])
    with open(schema_file, encoding="utf-8") as f:
        definitions = json.load(f)["definitions"]
    return fastjsonschema.compile({"$ref": f"#/definitions/{output_type}", "definitions": definitions})


def output_from_msg(msg: dict) -> nbformat.NotebookNode:
    """The output that ``nbformat.v4.output_from_msg`` makes of an IOPub message, checked as it
    checks it. Raises ``ValueError`` for a message that is no output, as it does."""
    msg_type = msg["header"]["msg_type"]
    if msg_type not in _FIELDS:
        raise ValueError(f"Unrecognized output msg type: {msg_type!r}")
    content = msg["content"]
    output = {"output_type": msg_type, **{field: content[field] for field in _FIELDS[msg_type]}}
    try:
        _check(msg_type)(output)
    except fastjsonschema.JsonSchemaException as error:
        # nbformat's error, which is no ValueError: nbclient does not take it for an unknown message
        raise nbformat.ValidationError(f"the kernel's {msg_type} output breaks the notebook schema: {error}") from None
    return nbformat.from_dict(output)
