"""nbgrader configuration of the course: the one place where the pipeline is assembled.

The repository root is the nbgrader course directory. Student data (submitted/, autograded/,
feedback/, gradebook.db, exchange/) lives beside the sources and is never committed.
"""
from pathlib import Path

from nbgrader.converters import Autograde, GenerateFeedback
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, Execute, OverwriteCells,
                                    OverwriteKernelspec, SaveAutoGrades)

from autograders.execute import SANDBOX_KERNEL, SandboxedExecute
from autograders.feedback import HideHiddenTests
from autograders.gradebook import (AssignLatePenaltiesShared, OverwriteCellsPrefetched, OverwriteKernelspecShared,
                                   SaveAutoGradesPrefetched)
from autograders.judge import ChooseProbeSeed, JudgeProbeReports
from autograders.metadata import CheckCellMetadataOnce
from autograders.withhold import WithholdHiddenVerdicts

ROOT = Path(__file__).resolve().parent
c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.course_id = "dl-computation"
c.CourseDirectory.db_url = f"sqlite:///{ROOT / 'gradebook.db'}"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".grading_cache"]

# One machine by default: the exchange is a folder inside the course.
# For JupyterHub, point these at a shared exchange and a PostgreSQL gradebook, e.g.
#   c.Exchange.root = "/srv/nbgrader/exchange"
#   c.CourseDirectory.db_url = "postgresql://nbgrader:PASSWORD@db-host/dl_computation"
c.Exchange.root = str(ROOT / "exchange")

# Grading: execute in the sandbox, judge outside it (docs/grading.md).
# SandboxedExecute replaces nbgrader's Execute, the judge decides every test cell between
# execution and SaveAutoGrades, the metadata check runs once per distinct metadata, and the
# gradebook's steps read a notebook's rows at once instead of one query per cell, all of them on
# one database engine per process.
c.SandboxedExecute.kernel_name = SANDBOX_KERNEL
c.SandboxedExecute.timeout = 60            # seconds per cell
c.SandboxedExecute.notebook_timeout = 600  # seconds per notebook
c.SandboxedExecute.shutdown_kernel = "immediate"
# A figure shows in graded notebooks and feedback as its one-line text (<Figure size ... with
# 4 Axes>): drawing the lessons' figures to PNG cost about as much CPU as running every cell of
# the notebooks, and no test reads a figure. True draws them.
c.SandboxedExecute.draw_figures = False
# A failing cell shows Python's own traceback, as a terminal prints it: IPython's default
# ("Context") reads the source around every frame, about 40 ms of CPU for an error raised inside
# a torch module (4 ms plain), and a graded class raises over a hundred.
c.SandboxedExecute.traceback_mode = "Plain"
_ours = {Execute: SandboxedExecute, CheckCellMetadata: CheckCellMetadataOnce,
         SaveAutoGrades: SaveAutoGradesPrefetched, OverwriteCells: OverwriteCellsPrefetched,
         OverwriteKernelspec: OverwriteKernelspecShared, AssignLatePenalties: AssignLatePenaltiesShared}
_pipeline = [_ours.get(step, step) for step in Autograde.class_traits()["autograde_preprocessors"].default()]
_pipeline.insert(_pipeline.index(SandboxedExecute), ChooseProbeSeed)
_pipeline.insert(_pipeline.index(SaveAutoGradesPrefetched), JudgeProbeReports)
c.Autograde.autograde_preprocessors = _pipeline
c.Autograde.sanitize_preprocessors = [_ours.get(step, step)
                                      for step in Autograde.class_traits()["sanitize_preprocessors"].default()]

# nbconvert validates the notebook after every preprocessor; once, after the last, is enough
c.Exporter.optimistic_validation = True

# Feedback shows each test's verdict, never the hidden tests; before a chapter's deadline the
# grading service (make serve) may withhold the hidden tests' verdicts (c.GradeOnSubmit).
c.GenerateFeedback.preprocessors = ([HideHiddenTests] + GenerateFeedback.class_traits()["preprocessors"].default()
                                    + [WithholdHiddenVerdicts])
