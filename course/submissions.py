"""The instructor's side of a task: a chapter and a submission packed to be sent, and a graded
result written into the course (``autograded/``, the gradebook), each submission once."""
from __future__ import annotations

import shutil

from nbgrader.api import Gradebook

from .course_dir import Course, source_notebooks
from .deploy.postgres import wait_for_database
from .gradebook_rows import extension_seconds, record_rows, snapshot
from .portable import Chapter, Graded, PortableLimits, Submission, TooLarge, pack, unpack
from .retries import DATABASE_LOST, RetryPolicy, replace_submission

TOO_LARGE = "the submission is larger than a grading task may carry"


def chapter_of(course: Course, assignment: str, gradebook: bytes, code: str) -> Chapter:
    """What any grading host needs to grade the submissions of ``assignment``."""
    from autograders.reference import course_secret

    secret = course_secret(course.root)
    files = {"nbgrader_config.py": (course.root / "nbgrader_config.py").read_bytes(), secret.name: secret.read_bytes()}
    for folder in ("source", "release"):
        files.update({f"{folder}/{assignment}/{name}": data
                      for name, data in pack(course.root / folder / assignment, skip=(".ipynb_checkpoints",)).items()})
    notebooks = [path.stem for path in source_notebooks(assignment, course.root)]
    return Chapter(assignment, notebooks, code, files, gradebook)


def cached_reference(course: Course, assignment: str, code: str) -> dict[str, bytes] | None:
    """The chapter's reference reports, observed in an earlier run by workers of course code
    ``code`` and kept in the course (None when any notebook's are missing: the source or the
    secret changed, or it was never graded; or when other course code observed them)."""
    from autograders.reference import CACHE_DIR, grading_seed, reference_cache

    observed_by = course.root / CACHE_DIR / "reference" / f"{assignment}.code"
    if not observed_by.is_file() or observed_by.read_text() != code:
        return None
    files = {}
    for path in source_notebooks(assignment, course.root):
        cache = reference_cache(course.root, path.read_bytes(), grading_seed(course.root, assignment, path.stem))
        if not cache.is_file():
            return None
        files[cache.name] = cache.read_bytes()
    return files


def keep_reference(course: Course, assignment: str, files: dict[str, bytes], code: str) -> None:
    """Keep a reference observed on a worker of course code ``code`` in the course, for the runs to come."""
    from autograders.reference import CACHE_DIR

    folder = course.root / CACHE_DIR / "reference"
    unpack(files, folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{assignment}.code").write_text(code)


class GradedWriter:
    """Writes graded results into the course, on one gradebook connection for the run; a
    database server that went away is waited for (``RetryPolicy``) and written to again."""

    def __init__(self, course: Course):
        config = course.config()
        self.course, self.db_url = course, course.db_url()
        self.retries = RetryPolicy(config=config)
        self.limit = PortableLimits(config=config).submission_bytes
        self.gradebook = Gradebook(self.db_url)
        self.snapshot = snapshot(self.db_url)

    def extension(self, assignment: str, student: str) -> float | None:
        return self._with_database(lambda gb: extension_seconds(gb, assignment, student))

    def write(self, assignment: str, student: str, graded: Graded) -> None:
        """The graded folder replaces the last one; the gradebook gets the rows."""
        if graded.replaced:  # as the worker did to its copy: the submission is kept beside the empty copies
            replace_submission(self.course, assignment, student, graded.replaced)
        target = self.course.root / "autograded" / student / assignment
        partial = target.with_name(f".{assignment}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        unpack(graded.files, partial)
        self._with_database(lambda gb: record_rows(gb, assignment, student, graded.rows))
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)

    def _with_database(self, work):
        for attempt in range(self.retries.database_attempts):
            try:
                return work(self.gradebook)
            except Exception as error:  # noqa: BLE001 - only a lost database is retried
                if DATABASE_LOST not in type(error).__name__ or attempt + 1 == self.retries.database_attempts:
                    raise
                self.gradebook.close()
                if not wait_for_database(self.db_url, self.retries.database_wait_s):
                    raise
                self.gradebook = Gradebook(self.db_url)

    def close(self) -> None:
        self.gradebook.close()


def submission_of(course: Course, assignment: str, student: str, writer: GradedWriter) -> Submission:
    """A student's submitted folder, as a task carries it. A folder over the size limit sends its
    notebooks alone; notebooks over it are graded as empty copies that say why (kept beside)."""
    folder = course.root / "submitted" / student / assignment
    notebooks = {f"{name}.ipynb" for name in course.notebook_names(assignment)}
    replaced = ""
    try:
        files = pack(folder, writer.limit)
    except TooLarge:
        try:
            files = _notebooks_only(folder, notebooks, writer.limit)
        except TooLarge:
            replace_submission(course, assignment, student, TOO_LARGE)
            files, replaced = _notebooks_only(folder, notebooks, None), TOO_LARGE
    return Submission(assignment, student, files, writer.extension(assignment, student), replaced)


def _notebooks_only(folder, notebooks: set[str], limit: int | None) -> dict[str, bytes]:
    files, total = {}, 0
    for name in sorted(notebooks | {"timestamp.txt"}):
        path = folder / name
        if path.is_file() and not path.is_symlink():
            files[name] = path.read_bytes()
            total += len(files[name])
            if limit is not None and total > limit:
                raise TooLarge(f"{folder}'s notebooks hold more than {limit} bytes")
    return files
