"""Similar submissions: pairs of students whose answer cells are alike, found by winnowing
(copydetect, the method of MOSS), on this machine, never sent anywhere.

Per chapter, each student's answer cells are one document (the rest of the notebook, the
lesson and the tests, is the same for everyone). copydetect tokenizes it (names become one
token, so renamed variables change nothing; comments and whitespace are dropped), hashes its
k-grams and keeps a winnowed sample. The released stubs are boilerplate: their k-grams never
count. A k-gram that more than ``common_share`` of the class wrote is ignored too, as MOSS does:
code that many students wrote independently says nothing about two of them. A pair's score is
the larger of the two shares of each answer's tokens found in the other.
"""
from __future__ import annotations

import io
import itertools
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from copydetect import CodeFingerprint, compare_files
from copydetect.utils import highlight_overlap
from markupsafe import Markup

NOISE = 25        # k: shorter matches (in filtered characters) are noise
GUARANTEE = 30    # any match this long is always found (winnowing window = GUARANTEE - NOISE + 1)
THRESHOLD = 0.6   # a pair is shown from this score on
MIN_SHARED = 2 * NOISE  # and when it shares at least this much filtered code
COMMON_MIN = 10   # a k-gram is common when more students than this wrote it ...
COMMON_SHARE = 0.05  # ... and more than this share of the class
MAX_PAIRS = 50    # shown per chapter (the count of the rest is given)


@dataclass
class Pair:
    first: str
    second: str
    score: float
    shares: tuple[float, float]   # the share of each one's answers found in the other's
    first_html: Markup            # each one's answers, the shared parts marked
    second_html: Markup


@dataclass
class ChapterSimilarity:
    pairs: list[Pair]
    total: int  # pairs over the threshold, shown or not


def document(answers: dict[str, str], exercises: list[str]) -> str:
    """A student's answer cells as one Python document, each under a comment naming its exercise
    (comments are not fingerprinted)."""
    return "".join(f"# ── {exercise} ──\n{answers.get(exercise, '').rstrip()}\n\n" for exercise in exercises)


def _fingerprint(text: str, boilerplate: np.ndarray, window: int = GUARANTEE - NOISE + 1) -> CodeFingerprint:
    return CodeFingerprint("answers.py", NOISE, window, boilerplate=boilerplate, fp=io.StringIO(text),
                           language="python")


def _marked(fingerprint: CodeFingerprint, slices) -> Markup:
    text, _ = highlight_overlap(fingerprint.raw_code, slices, "\x00", "\x01", escape_html=True)
    return Markup(text.replace("\x00", "<mark>").replace("\x01", "</mark>"))


def similar_pairs(documents: dict[str, str], stubs: str) -> ChapterSimilarity:
    """The pairs of students (``documents``: student -> their answers) whose answers are alike."""
    boilerplate = np.array(sorted(_fingerprint(stubs, np.array([]), window=1).hashes)) if stubs.strip() else np.array([])
    groups: dict[str, list[str]] = defaultdict(list)  # identical answers are fingerprinted once
    for student, text in sorted(documents.items()):
        groups[text].append(student)
    texts = list(groups)
    prints = [_fingerprint(text, boilerplate) for text in texts]
    writers: dict[int, int] = defaultdict(int)
    for text, fingerprint in zip(texts, prints):
        for value in fingerprint.hashes:
            writers[value] += len(groups[text])
    common = {value for value, count in writers.items()
              if count > max(COMMON_MIN, COMMON_SHARE * len(documents))}
    if common:
        ignored = np.union1d(boilerplate, np.array(sorted(common)))
        prints = [_fingerprint(text, ignored) if fingerprint.hashes & common else fingerprint
                  for text, fingerprint in zip(texts, prints)]
    holders: dict[int, list[int]] = defaultdict(list)
    for index, fingerprint in enumerate(prints):
        for value in fingerprint.hashes:
            holders[value].append(index)
    candidates = {pair for indices in holders.values() for pair in itertools.combinations(indices, 2)}
    candidates |= {(index, index) for index, text in enumerate(texts) if len(groups[text]) > 1}
    found = []
    for a, b in candidates:
        shared, shares, slices = compare_files(prints[a], prints[b])
        score = max(shares)
        if shared >= MIN_SHARED and score >= THRESHOLD:
            found.append((score, a, b, shares, slices))
    found.sort(key=lambda item: (-item[0], texts[item[1]] != texts[item[2]]))
    pairs, total = [], 0
    for score, a, b, shares, slices in found:
        people = list(itertools.combinations(groups[texts[a]], 2)) if a == b else \
            list(itertools.product(groups[texts[a]], groups[texts[b]]))
        total += len(people)
        for first, second in people[:max(0, MAX_PAIRS - len(pairs))]:
            sides = [(first, float(shares[0]), _marked(prints[a], slices[0])),
                     (second, float(shares[1]), _marked(prints[b], slices[1]))]
            (first, share1, html1), (second, share2, html2) = sorted(sides, key=lambda side: side[0])
            pairs.append(Pair(first, second, float(score), (share1, share2), html1, html2))
    return ChapterSimilarity(pairs, total)
