"""The report's figures, drawn with matplotlib as PNG files next to the page."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: the report is made where no display may be
import matplotlib.pyplot as plt  # noqa: E402 - after the backend is chosen

from .gather import Chapter  # noqa: E402

FULL, PARTIAL, NONE = "#2e7d32", "#f9a825", "#c62828"


def _save(figure, path: Path) -> Path:
    figure.savefig(path, dpi=96)  # margins set by hand: tight_layout draws each figure twice
    plt.close(figure)
    return path


def score_histogram(chapter: Chapter, folder: Path) -> Path:
    """How many students got each total score in the chapter."""
    scores = [s.score for s in chapter.submissions.values()]
    figure, axes = plt.subplots(figsize=(6, 2.6))
    figure.subplots_adjust(left=0.1, right=0.97, bottom=0.2, top=0.88)
    top = max(chapter.max_score, max(scores, default=0), 1)
    bins = min(40, max(10, int(top)))
    axes.hist(scores, bins=bins, range=(0, top), color="#1565c0", edgecolor="white")
    axes.set_xlabel(f"total score (of {top:g})")
    axes.set_ylabel("students")
    axes.set_title(f"{chapter.name}: {len(scores)} graded submissions")
    return _save(figure, folder / f"{chapter.name}-scores.png")


def exercise_shares(chapter: Chapter, rows: list[tuple[str, int, int, int]], folder: Path) -> Path:
    """Per exercise, the share of students with full, partial and no points (``rows``:
    exercise, full, partial, none)."""
    height = 0.45 * len(rows) + 1.2
    figure, axes = plt.subplots(figsize=(6, height))
    figure.subplots_adjust(left=0.32, right=0.97, bottom=0.6 / height, top=1 - 0.5 / height)
    names = [row[0] for row in rows][::-1]
    counts = [row[1:] for row in rows][::-1]
    totals = [max(1, sum(c)) for c in counts]
    left = [0.0] * len(rows)
    for index, (label, colour) in enumerate([("full", FULL), ("partial", PARTIAL), ("none", NONE)]):
        widths = [c[index] / t for c, t in zip(counts, totals)]
        axes.barh(names, widths, left=left, color=colour, label=label)
        left = [a + b for a, b in zip(left, widths)]
    axes.set_xlim(0, 1)
    axes.set_xlabel("share of the graded submissions")
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    return _save(figure, folder / f"{chapter.name}-exercises.png")


def grading_times(chapters: list[Chapter], folder: Path) -> Path | None:
    """The spread of the time grading took per submission, per chapter."""
    data = [[s.seconds for s in c.submissions.values() if s.seconds is not None] for c in chapters]
    if not any(data):
        return None
    height = 0.5 * len(chapters) + 1.2
    figure, axes = plt.subplots(figsize=(6, height))
    figure.subplots_adjust(left=0.32, right=0.97, bottom=0.6 / height, top=1 - 0.2 / height)
    axes.boxplot([d or [0] for d in data], vert=False, tick_labels=[c.name for c in chapters])
    axes.set_xlabel("seconds per submission")
    return _save(figure, folder / "grading-times.png")
