"""nbgrader's gradebook preprocessors, reading one notebook's rows at once.

``SaveAutoGrades`` and ``OverwriteCells`` look up every graded cell with a query of its own, a
join of three to seven tables, which each gradebook they open (a new SQLAlchemy engine each time)
compiles afresh; with the rest of nbgrader's gradebook work, a third of a grading worker's CPU.
Their subclasses here do exactly what nbgrader's do, with a ``NotebookGradebook`` that reads the
notebook's cells, and the student's grades and comments in it, with one query each, and answers
those lookups from them; ``SaveAutoGrades``'s one commit per graded cell becomes one per notebook.
Every gradebook these steps open, and those of ``OverwriteKernelspec`` and ``AssignLatePenalties``
(``SharedGradebook``), opens on the process's one engine for the database (``shared_engine``), so
that the queries are compiled once per process, not once per notebook and step.

Each ``preprocess`` here is a copy of nbgrader's, and ``SharedGradebook.__init__`` of what
nbgrader's does: ``autograders/upstream.py`` holds the hash of each original, which a test checks.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from functools import cache

from nbgrader.api import BaseCell, Comment, Grade, Gradebook, MissingEntry, SourceCell
from nbgrader.preprocessors import (AssignLatePenalties, NbGraderPreprocessor, OverwriteCells, OverwriteKernelspec,
                                    SaveAutoGrades)
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import scoped_session, sessionmaker, with_polymorphic

from autograders.upstream import check_late_penalty

# the kinds of cell nbgrader's lookups try, in its order
GRADED_KINDS = ("GradeCell", "TaskCell")
COMMENTED_KINDS = ("SolutionCell", "TaskCell")


@cache
def shared_engine(db_url: str) -> Engine:
    """This process's engine for the gradebook at ``db_url``. SQLAlchemy keeps each statement's
    compiled form in its engine, and nbgrader's ``Gradebook`` makes a new engine each time it
    opens: every query was compiled anew for every notebook and step. A database server's
    connections are checked before each use: after its restart, the pool's are dead."""
    return create_engine(db_url, echo=False, future=True, pool_pre_ping=not db_url.startswith("sqlite"))


class SharedGradebook(Gradebook):
    """nbgrader's gradebook, opened as nbgrader opens it for its pipeline's steps, on this
    process's engine for the database (``shared_engine``), and without creating its tables:
    nbgrader's converter has opened the gradebook before any of its steps runs. A commit leaves
    the rows read so far as they are: nbgrader's steps commit after each cell, and each row
    would otherwise be read again, one by one; one process grades a submission at a time."""

    def __init__(self, db_url: str):
        self.engine = shared_engine(db_url)
        self.db = scoped_session(sessionmaker(autoflush=True, bind=self.engine, future=True, expire_on_commit=False))
        self.course_id, self.authenticator = "default_course", None
        self.check_course(self.course_id)


class NotebookGradebook(SharedGradebook):
    """nbgrader's gradebook, which answers ``find_source_cell``, ``find_graded_cell``,
    ``find_grade`` and ``find_comment`` for one notebook of one assignment (and one student's
    submission of it) from rows it read once. Any other lookup, and one it has no row for, is
    nbgrader's own query."""

    def __init__(self, db_url: str, notebook: str, assignment: str, student: str | None = None):
        super().__init__(db_url)
        self._notebook, self._submission = (notebook, assignment), (notebook, assignment, student)
        self._cells, self._sources, self._grades, self._comments = {}, {}, {}, {}
        try:
            master = self.find_notebook(notebook, assignment)
            submitted = student and self.find_submission_notebook(notebook, assignment, student)
        except MissingEntry:
            return  # every lookup is nbgrader's, which says what is missing
        cells = self.db.query(with_polymorphic(BaseCell, "*")).filter(BaseCell.notebook_id == master.id)
        self._cells = {(cell.type, cell.name): cell for cell in cells}
        self._sources = {cell.name: cell for cell in
                         self.db.query(SourceCell).filter(SourceCell.notebook_id == master.id)}
        if submitted:
            for kind, rows in ((Grade, self._grades), (Comment, self._comments)):
                query = (self.db.query(kind, BaseCell.type, BaseCell.name)
                         .join(BaseCell, BaseCell.id == kind.cell_id)
                         .filter(kind.notebook_id == submitted.id))
                rows.update({(cell_type, name): row for row, cell_type, name in query})

    @contextmanager
    def one_transaction(self):
        """Inside, nbgrader's commits only send what changed to the database, and all of it is
        committed once at the end, or not at all when an error ends it. nbgrader's preprocessors
        commit after each cell they grade, and each commit of SQLite's waits for the disk."""
        session = self.db.registry()
        session.commit = session.flush
        try:
            yield
        finally:
            del session.commit
        self.db.commit()

    @staticmethod
    def _lookup(rows, kinds, name):
        return next((rows[(kind, name)] for kind in kinds if (kind, name) in rows), None)

    def find_source_cell(self, name, notebook, assignment):
        found = (notebook, assignment) == self._notebook and self._sources.get(name)
        return found or super().find_source_cell(name, notebook, assignment)

    def find_graded_cell(self, name, notebook, assignment):
        found = (notebook, assignment) == self._notebook and self._lookup(self._cells, GRADED_KINDS, name)
        return found or super().find_graded_cell(name, notebook, assignment)

    def find_grade(self, grade_cell, notebook, assignment, student):
        found = ((notebook, assignment, student) == self._submission
                 and self._lookup(self._grades, GRADED_KINDS, grade_cell))
        return found or super().find_grade(grade_cell, notebook, assignment, student)

    def find_comment(self, solution_cell, notebook, assignment, student):
        found = ((notebook, assignment, student) == self._submission
                 and self._lookup(self._comments, COMMENTED_KINDS, solution_cell))
        return found or super().find_comment(solution_cell, notebook, assignment, student)


class SaveAutoGradesPrefetched(SaveAutoGrades):
    """nbgrader's ``SaveAutoGrades``, with a gradebook that has read the submission's grades and
    comments at once, and that saves them in one transaction: the notebook's grades all, or none."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        self.notebook_id, self.assignment_id = info["notebook"], info["assignment"]
        self.student_id, self.db_url = info["student"], info["db_url"]
        self.gradebook = NotebookGradebook(self.db_url, self.notebook_id, self.assignment_id, self.student_id)
        with self.gradebook, self.gradebook.one_transaction():
            return NbGraderPreprocessor.preprocess(self, nb, resources)


class OverwriteCellsPrefetched(OverwriteCells):
    """nbgrader's ``OverwriteCells``, with a gradebook that has read the notebook's cells at once."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        self.notebook_id, self.assignment_id, self.db_url = info["notebook"], info["assignment"], info["db_url"]
        self.gradebook = NotebookGradebook(self.db_url, self.notebook_id, self.assignment_id)
        with self.gradebook:
            nb, resources = NbGraderPreprocessor.preprocess(self, nb, resources)
            if self.add_missing_cells:
                nb, resources = self.add_missing_grade_cells(nb, resources)
                nb, resources = self.add_missing_task_cells(nb, resources)
        return nb, resources


class OverwriteKernelspecShared(OverwriteKernelspec):
    """nbgrader's ``OverwriteKernelspec`` (the source notebook's kernelspec replaces the
    submission's), on this process's engine."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with SharedGradebook(info["db_url"]) as gradebook:
            kernelspec = gradebook.find_notebook(info["notebook"], info["assignment"]).kernelspec
        if kernelspec is not None and (kernelspec := json.loads(kernelspec)):
            nb.metadata["kernelspec"] = kernelspec
        return nb, resources


class AssignLatePenaltiesShared(AssignLatePenalties):
    """nbgrader's ``AssignLatePenalties`` (its late-submission plugin decides each late
    notebook's penalty), on this process's engine."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        self.notebook_id, self.assignment_id = info["notebook"], info["assignment"]
        self.student_id, self.db_url = info["student"], info["db_url"]
        self.init_plugin()
        self.gradebook = SharedGradebook(self.db_url)
        with self.gradebook:
            submission = self.gradebook.find_submission(self.assignment_id, self.student_id)
            notebook = self.gradebook.find_submission_notebook(self.notebook_id, self.assignment_id, self.student_id)
            notebook.late_submission_penalty = None
            if (late := submission.total_seconds_late) > 0:
                self.log.warning("%s is %s seconds late", submission, late)
                penalty = self.plugin_inst.late_submission_penalty(self.student_id, notebook.score, late)
                self.log.warning("Late submission penalty: %s", penalty)
                if penalty is not None:
                    notebook.late_submission_penalty = check_late_penalty(self, notebook, penalty)
            self.gradebook.db.commit()
        return nb, resources
