"""`make report`: the instructor's report of a graded class, one HTML page (``report/index.html``)
with its figures as PNG files beside it, and the per-test CSV (``test_grades.csv``) beside
nbgrader's ``grades.csv``. Read from the gradebook, the graded notebooks and the feedback;
made and kept on the instructor's machine.

``gather`` reads the class, ``similarity`` finds alike answers, ``figures`` draws, ``page``
writes the page, ``export`` the CSV; ``records`` is what grading leaves for the report.
"""
from __future__ import annotations

import gc
from pathlib import Path

from ..course_dir import Course

REPORT_FOLDER = "report"
PER_TEST_CSV = "test_grades.csv"


def build_report(course: Course, folder: Path | None = None) -> Path:
    """Write the report of ``course`` (into ``folder``, by default the course's ``report/``); its page."""
    # imported here: grading imports ``records`` from this package, and needs none of matplotlib,
    # jinja2 or copydetect
    from .export import write_per_test_csv
    from .gather import gather
    from .page import render

    folder = Path(folder) if folder else course.root / REPORT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    # what the report reads (a class's verdicts, answers, fingerprints) lives until it is written:
    # the cyclic collector would go through it again and again for nothing, an eighth of the time
    collecting = gc.isenabled()
    gc.disable()
    try:
        data = gather(course)
        csv_path = write_per_test_csv(data, course.root / PER_TEST_CSV) if data.chapters else None
        return render(data, folder, csv_path)
    finally:
        if collecting:
            gc.enable()
