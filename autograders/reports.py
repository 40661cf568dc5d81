"""Reading the probe reports that test cells leave in a notebook's outputs."""
from __future__ import annotations

import json

from course_probe import MIME_TYPE


def cell_reports(cell) -> list[dict]:
    """Every probe report among the cell's outputs: JSON text (as probes publish it) or a JSON
    object, never unpickled; anything else, or text nested too deep to parse, is malformed."""
    found = []
    for output in cell.get("outputs", []):
        data = output.get("data", {}) if output.get("output_type") in ("display_data", "execute_result") else {}
        if MIME_TYPE in data:
            report = data[MIME_TYPE]
            if isinstance(report, str):
                try:
                    report = json.loads(report)
                except (ValueError, RecursionError):
                    report = None
            found.append(report if isinstance(report, dict) else {"error": "MalformedReport"})
    return found

