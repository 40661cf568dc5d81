"""``NotebookGradebook`` answers each lookup nbgrader's preprocessors make with the very row that
nbgrader's own query finds, and says what is missing as nbgrader does."""
from __future__ import annotations

import datetime
import json

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import AssignLatePenalties, OverwriteKernelspec
from sqlalchemy import event
from traitlets.config import Config

from autograders.gradebook import AssignLatePenaltiesShared, NotebookGradebook, OverwriteKernelspecShared
from course.course_dir import nbgrader_env

# nbgrader's own add_submission warns that SQLAlchemy skips a cascade it does not need
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")

ASSIGNMENT, NOTEBOOK, OTHER_NOTEBOOK = "ps1", "problems", "extra"
STUDENTS = ("ada", "ben")
# name -> kinds of cell nbgrader keeps for it (a cell both graded and answered is two rows)
ZERO_FOR_LATE = Config({"LateSubmissionPlugin": {"penalty_method": "zero"}})
CELLS = {"code_answer": ("SolutionCell",), "test_answer": ("GradeCell",),
         "written_answer": ("GradeCell", "SolutionCell"), "task": ("TaskCell",)}


@pytest.fixture
def db_url(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", nbgrader_env()["PATH"])  # a new gradebook runs alembic
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.add_assignment(ASSIGNMENT)
        for student in STUDENTS:
            gb.add_student(student)
        for notebook in (NOTEBOOK, OTHER_NOTEBOOK):
            gb.add_notebook(notebook, ASSIGNMENT)
            for points, (name, kinds) in enumerate(CELLS.items(), start=1):
                gb.add_source_cell(name, notebook, ASSIGNMENT, cell_type="code", locked=False,
                                   source=f"# {name}", checksum=f"{notebook}-{name}")
                for kind in kinds:
                    if kind == "GradeCell":
                        gb.add_grade_cell(name, notebook, ASSIGNMENT, max_score=points, cell_type="code")
                    elif kind == "SolutionCell":
                        gb.add_solution_cell(name, notebook, ASSIGNMENT)
                    else:
                        gb.add_task_cell(name, notebook, ASSIGNMENT, max_score=points, cell_type="markdown")
        for student in STUDENTS:
            gb.add_submission(ASSIGNMENT, student)
    return url


def _calls(notebook, student):
    for name in [*CELLS, "not_a_cell"]:
        yield "find_source_cell", (name, notebook, ASSIGNMENT)
        yield "find_graded_cell", (name, notebook, ASSIGNMENT)
        yield "find_grade", (name, notebook, ASSIGNMENT, student)
        yield "find_comment", (name, notebook, ASSIGNMENT, student)


def _answer(gradebook, lookup, args):
    try:
        row = getattr(gradebook, lookup)(*args)
    except MissingEntry as missing:
        return "missing", str(missing)
    return type(row).__name__, row.id


@pytest.mark.parametrize("student", [None, "ada"])
def test_every_lookup_finds_the_row_nbgrader_finds(db_url, student):
    calls = [(lookup, args) for notebook in (NOTEBOOK, OTHER_NOTEBOOK)
             for other in STUDENTS for lookup, args in _calls(notebook, other)]
    with Gradebook(db_url) as plain:
        expected = [_answer(plain, lookup, args) for lookup, args in calls]
    with NotebookGradebook(db_url, NOTEBOOK, ASSIGNMENT, student) as prefetched:
        answers = [_answer(prefetched, lookup, args) for lookup, args in calls]
    assert answers == expected
    # the cases that matter are all there: each kind of row, and what is missing
    assert {kind for kind, _ in expected} == {"SourceCell", "GradeCell", "TaskCell", "Grade", "Comment", "missing"}


def test_finding_the_notebooks_rows_asks_the_database_nothing(db_url):
    kinds_found = {"find_source_cell": {"SolutionCell", "GradeCell", "TaskCell"},
                   "find_graded_cell": {"GradeCell", "TaskCell"}, "find_grade": {"GradeCell", "TaskCell"},
                   "find_comment": {"SolutionCell", "TaskCell"}}
    with NotebookGradebook(db_url, NOTEBOOK, ASSIGNMENT, "ada") as prefetched:
        statements = []
        event.listen(prefetched.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        answers = [_answer(prefetched, lookup, args) for lookup, args in _calls(NOTEBOOK, "ada")
                   if kinds_found[lookup] & set(CELLS.get(args[0], ()))]
    assert len(answers) == 13 and "missing" not in {kind for kind, _ in answers}
    assert statements == []


def test_a_notebook_the_gradebook_lacks_leaves_every_lookup_to_nbgrader(db_url):
    with NotebookGradebook(db_url, "no_such_notebook", ASSIGNMENT, "ada") as prefetched:
        with pytest.raises(MissingEntry):
            prefetched.find_grade("test_answer", "no_such_notebook", ASSIGNMENT, "ada")
        assert prefetched.find_grade("test_answer", NOTEBOOK, ASSIGNMENT, "ada").cell.name == "test_answer"


def _auto_scores(db_url, student):
    with Gradebook(db_url) as plain:
        return {name: plain.find_grade(name, NOTEBOOK, ASSIGNMENT, student).auto_score
                for name in ("test_answer", "written_answer")}


def test_a_notebooks_grades_are_saved_in_one_transaction_all_or_none(db_url):
    commits = []
    with NotebookGradebook(db_url, NOTEBOOK, ASSIGNMENT, "ada") as gradebook:
        event.listen(gradebook.engine, "commit", lambda connection: commits.append(connection))
        with gradebook.one_transaction():
            for points, name in enumerate(("test_answer", "written_answer"), start=1):
                gradebook.find_grade(name, NOTEBOOK, ASSIGNMENT, "ada").auto_score = points
                gradebook.db.commit()  # as nbgrader's SaveAutoGrades does after each cell
            assert _auto_scores(db_url, "ada") == {"test_answer": None, "written_answer": None}
    assert len(commits) == 1
    assert _auto_scores(db_url, "ada") == {"test_answer": 1, "written_answer": 2}

    with pytest.raises(RuntimeError), NotebookGradebook(db_url, NOTEBOOK, ASSIGNMENT, "ada") as gradebook:
        with gradebook.one_transaction():
            gradebook.find_grade("test_answer", NOTEBOOK, ASSIGNMENT, "ada").auto_score = 0
            gradebook.db.commit()
            raise RuntimeError("the grader failed part-way through the notebook")
    assert _auto_scores(db_url, "ada") == {"test_answer": 1, "written_answer": 2}


def test_each_opening_reuses_the_compiled_queries_and_reads_the_database_as_it_is_now(db_url, tmp_path):
    """Every ``NotebookGradebook`` of a process shares one engine per database, so that nbgrader's
    queries are compiled once, not once per notebook; each still reads the database as it is,
    even one made anew at the same path in between."""
    def opening(notebook, student):
        cache = []
        with NotebookGradebook(db_url, notebook, ASSIGNMENT, student) as gradebook:
            listener = lambda *args: cache.append(args[4].cache_hit)  # noqa: E731 - the execution context's
            event.listen(gradebook.engine, "before_cursor_execute", listener)
            try:
                gradebook.find_grade("test_answer", notebook, ASSIGNMENT, student)
                gradebook.find_notebook(notebook, ASSIGNMENT)
            finally:
                event.remove(gradebook.engine, "before_cursor_execute", listener)
        return gradebook.engine, cache

    first_engine, _ = opening(NOTEBOOK, "ada")
    engine, cache = opening(OTHER_NOTEBOOK, "ben")
    assert engine is first_engine and cache and all(hit == engine.dialect.CACHE_HIT for hit in cache)

    (tmp_path / "gradebook.db").unlink()
    with Gradebook(db_url) as remade:
        remade.add_assignment(ASSIGNMENT)
        remade.add_notebook("renamed", ASSIGNMENT)
    with NotebookGradebook(db_url, NOTEBOOK, ASSIGNMENT) as gradebook:
        assert gradebook.engine is engine
        with pytest.raises(MissingEntry):
            gradebook.find_notebook(NOTEBOOK, ASSIGNMENT)
        assert gradebook.find_notebook("renamed", ASSIGNMENT).name == "renamed"


def test_the_steps_on_the_shared_engine_do_what_nbgraders_do(db_url):
    """``OverwriteKernelspecShared`` and ``AssignLatePenaltiesShared`` leave the notebook and the
    gradebook as nbgrader's own steps do: the source's kernelspec, and a late notebook's penalty
    (here the plugin's 'zero': the whole score) while one on time gets none."""
    kernelspec = {"name": "course-sandbox", "display_name": "Python 3 (course sandbox)", "language": "python"}
    due = datetime.datetime(2026, 11, 1, 12, 0)
    with Gradebook(db_url) as gb:
        gb.update_or_create_notebook(NOTEBOOK, ASSIGNMENT, kernelspec=json.dumps(kernelspec))
        gb.update_or_create_assignment(ASSIGNMENT, duedate=due)
        for student, hours_late in (("ada", 5), ("ben", -1)):
            gb.find_submission(ASSIGNMENT, student).timestamp = due + datetime.timedelta(hours=hours_late)
            gb.find_grade("test_answer", NOTEBOOK, ASSIGNMENT, student).auto_score = 2
        gb.db.commit()

    def run(steps):
        notebooks, penalties = [], {}
        for student in STUDENTS:
            nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
            resources = {"nbgrader": {"notebook": NOTEBOOK, "assignment": ASSIGNMENT, "student": student,
                                      "db_url": db_url}}
            for step in steps:
                nb, resources = step(config=ZERO_FOR_LATE).preprocess(nb, resources)
            notebooks.append(nb)
            with Gradebook(db_url) as gb:
                penalties[student] = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student).late_submission_penalty
        return notebooks, penalties

    nbgraders = run([OverwriteKernelspec, AssignLatePenalties])
    assert nbgraders[1] == {"ada": 2.0, "ben": None} and nbgraders[0][0].metadata.kernelspec == kernelspec
    assert run([OverwriteKernelspecShared, AssignLatePenaltiesShared]) == nbgraders
