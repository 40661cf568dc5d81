"""Similar submissions: pairs of students whose answer cells are alike, found by winnowing
(copydetect, the method of MOSS), on this machine, never sent anywhere.

Each exercise's answers are compared with each other: copydetect's k-gram hashes, winnowed,
of the answer with its names made one token (renamed variables change nothing) and its
comments and whitespace dropped. The released stub of the exercise is boilerplate: its k-grams
never count. A k-gram that more than ``COMMON_SHARE`` of the class wrote (and more than
``COMMON_MIN`` students) is ignored too, as MOSS does: code that many wrote independently says
nothing about two of them. A pair's score in a chapter is the larger of the two shares of each
one's answers (their counted tokens, all exercises together) found in the other's.

The code is tokenized by Python's own tokenizer, with copydetect's filtering (``filter_python``):
pygments, copydetect's tokenizer, takes ten times as long, too long for a class of 500; an answer
Python cannot tokenize falls back to it.
"""
from __future__ import annotations

import builtins
import io
import itertools
import keyword
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from copydetect.utils import find_fingerprint_overlap, get_copied_slices, get_token_coverage, winnow
from markupsafe import Markup, escape
from pygments.lexers import PythonLexer
from pygments.token import Token

NOISE = 25        # k: shorter matches (in filtered characters) are noise
GUARANTEE = 30    # any match this long is always found (winnowing window = GUARANTEE - NOISE + 1)
THRESHOLD = 0.6   # a pair is shown from this score on
MIN_SHARED = 2 * NOISE  # and when it shares at least this much filtered code
COMMON_MIN = 10   # a k-gram is common when more students than this wrote it ...
COMMON_SHARE = 0.05  # ... and more than this share of the class
MAX_PAIRS = 50    # shown per chapter (the count of the rest is given)
POWERS = np.array([pow(1_000_003, e, 2 ** 64) for e in range(NOISE - 1, -1, -1)], dtype=np.uint64)  # of kgram_hashes
# names copydetect's tokenizer (pygments) keeps as they are
KEPT = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | {"self", "cls"}
SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}


@dataclass
class Exercise:
    """One exercise of a pair, each one's answer with the shared parts marked."""
    name: str
    first_html: Markup
    second_html: Markup


@dataclass
class Pair:
    first: str
    second: str
    score: float
    shares: tuple[float, float]   # the share of each one's answers found in the other's
    exercises: list[Exercise] = field(default_factory=list)


@dataclass
class ChapterSimilarity:
    pairs: list[Pair]
    total: int  # pairs over the threshold, shown or not


def filter_python(code: str) -> tuple[str, np.ndarray]:
    """copydetect's ``filter_code`` for Python, by Python's tokenizer: names become V (a
    function's F, a class's O; keywords and builtins stay), strings S, comments and whitespace
    go. With each filtered character's span in ``code`` (start, end): a letter's is its whole
    token's, so that a match marks whole names and strings."""
    # the lines as the tokenizer reads them (str.splitlines would also split at \x0c, \u2028, ...)
    lines = io.StringIO(code).readlines()
    starts = [0, *itertools.accumulate(len(line) for line in lines)]
    out, spans, previous = [], [], ""
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type in SKIPPED:
            continue
        start = starts[token.start[0] - 1] + token.start[1]
        end = starts[token.end[0] - 1] + token.end[1]
        if token.type == tokenize.NAME and token.string not in KEPT:
            letter = "F" if previous == "def" else "O" if previous == "class" else "V"
        elif token.type == tokenize.STRING:
            letter = "S"
        else:
            letter = None
        if letter:
            out.append(letter)
            spans.append((start, end))
        else:
            out.append(token.string)
            spans += [(at, at + 1) for at in range(start, end)]
        previous = token.string
    return "".join(out), np.array(spans, dtype=int).reshape(-1, 2)


def _filter_other(code: str) -> tuple[str, np.ndarray]:
    """``filter_python`` for code Python cannot tokenize, by pygments as copydetect's
    ``filter_code`` filters it."""
    out, spans = [], []
    for start, kind, text in PythonLexer().get_tokens_unprocessed(code):
        preprocessor = kind in (Token.Comment.Preproc, Token.Comment.Hashbang)
        if kind in Token.Text or (kind in Token.Comment and not preprocessor):
            continue
        if kind in (Token.Name, Token.Name.Variable, Token.Name.Attribute):
            letter = "V"
        elif kind in Token.Name.Function:
            letter = "F"
        elif kind in Token.Name.Class:
            letter = "O"
        elif preprocessor:
            letter = "P"
        elif kind in Token.Literal.String:
            letter = None if text in ("'", '"') else "S"
            text = '"' if letter is None else text
        else:
            letter = None
        if letter:
            out.append(letter)
            spans.append((start, start + len(text)))
        else:
            out.append(text)
            spans += [(at, at + 1) for at in range(start, start + len(text))]
    return "".join(out), np.array(spans, dtype=int).reshape(-1, 2)


def kgram_hashes(filtered: str) -> np.ndarray:
    """The hash of each k-gram of ``filtered`` (polynomial, modulo 2**64), the same in every
    process: copydetect's is Python's ``hash``, seeded anew by each process, which made the
    winnowed fingerprints, and so the pairs and their scores, change from one report to the next."""
    codes = np.frombuffer(filtered.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < NOISE:
        return np.array([], dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(codes, NOISE)
    return (windows * POWERS).sum(axis=1, dtype=np.uint64).view(np.int64)


class AnswerFingerprint:
    """The winnowed fingerprint of one answer (copydetect's, with ``kgram_hashes``), without the
    ``ignored`` hashes."""

    def __init__(self, code: str, filtered: tuple[str, np.ndarray], ignored: np.ndarray):
        self.code = code
        self.filtered, self.spans = filtered
        hashes, indices = winnow(kgram_hashes(self.filtered), GUARANTEE - NOISE + 1, remove_duplicates=False)
        kept = ~np.isin(hashes, ignored)
        self.hash_idx: dict[int, list[int]] = defaultdict(list)
        for value, index in zip(hashes[kept].tolist(), indices[kept].tolist()):
            self.hash_idx[value].append(index)
        self.hashes = set(self.hash_idx)
        self.token_coverage = float(get_token_coverage(self.hash_idx, NOISE, len(self.filtered)))


def _filtered(code: str) -> tuple[str, np.ndarray]:
    try:
        return filter_python(code)
    except (tokenize.TokenError, SyntaxError):
        return _filter_other(code)


def overlap(first: AnswerFingerprint, second: AnswerFingerprint) -> tuple[int, int, np.ndarray, np.ndarray]:
    """What the two answers share: each one's shared filtered characters, and where they lie in
    each one's code (``[starts, ends]``)."""
    found = find_fingerprint_overlap(first.hashes, second.hashes, first.hash_idx, second.hash_idx)
    result = []
    for fingerprint, indices in zip((first, second), found):
        slices = get_copied_slices(indices, NOISE).astype(int)
        result.append((int(np.sum(slices[1] - slices[0])),
                       np.array([fingerprint.spans[slices[0], 0], fingerprint.spans[slices[1] - 1, 1]])))
    return result[0][0], result[1][0], result[0][1], result[1][1]


def _all_hashes(code: str) -> np.ndarray:
    """Every k-gram hash of ``code`` (no winnowing): the boilerplate to ignore."""
    return np.unique(kgram_hashes(_filtered(code)[0]))


def marked(code: str, slices: np.ndarray) -> Markup:
    """``code`` as HTML with the ``slices`` (``[starts, ends]`` in ``code``) marked: each piece of
    the code escaped on its own, so that a mark never cuts an entity nor a tag."""
    parts, at = [], 0
    for start, end in zip(*slices.tolist()):
        parts += [escape(code[at:start]), Markup("<mark>"), escape(code[start:end]), Markup("</mark>")]
        at = end
    parts.append(escape(code[at:]))
    return Markup("").join(parts)


def _exercise_overlaps(answers: dict[str, str], stub: str, class_size: int):
    """The distinct answers to one exercise, their fingerprints, who wrote each, and
    ``{(a, b): (shared characters of a, of b, where in a, where in b)}`` over the pairs of their
    indices that share code (a == b where several wrote the same)."""
    writers: dict[str, list[str]] = defaultdict(list)
    for student, text in sorted(answers.items()):
        writers[text].append(student)
    texts = list(writers)
    filtered = [_filtered(text) for text in texts]
    boilerplate = _all_hashes(stub) if stub.strip() else np.array([], dtype=np.int64)
    prints = [AnswerFingerprint(text, f, boilerplate) for text, f in zip(texts, filtered)]
    counts: dict[int, int] = defaultdict(int)
    for text, fingerprint in zip(texts, prints):
        for value in fingerprint.hashes:
            counts[value] += len(writers[text])
    common = {value for value, count in counts.items() if count > max(COMMON_MIN, COMMON_SHARE * class_size)}
    if common:
        ignored = np.union1d(boilerplate, np.array(sorted(common)))
        prints = [AnswerFingerprint(text, f, ignored) if p.hashes & common else p
                  for text, f, p in zip(texts, filtered, prints)]
    holders: dict[int, list[int]] = defaultdict(list)
    for index, fingerprint in enumerate(prints):
        for value in fingerprint.hashes:
            holders[value].append(index)
    candidates = {pair for indices in holders.values() for pair in itertools.combinations(indices, 2)}
    candidates |= {(i, i) for i, text in enumerate(texts) if len(writers[text]) > 1 and prints[i].hashes}
    overlaps = {}
    for a, b in candidates:
        found = overlap(prints[a], prints[b])
        if found[0]:
            overlaps[a, b] = found
    return texts, prints, writers, overlaps


def similar_pairs(answers: dict[str, dict[str, str]], stubs: dict[str, str], exercises: list[str]) -> ChapterSimilarity:
    """The pairs of students whose answers (``answers``: student -> exercise -> source) are alike."""
    coverage: dict[str, float] = defaultdict(float)
    shared: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    compared = []  # per exercise: which answer each student wrote, the fingerprints, the overlaps
    for exercise in exercises:
        own = {student: given[exercise] for student, given in answers.items() if exercise in given}
        texts, prints, writers, overlaps = _exercise_overlaps(own, stubs.get(exercise, ""), len(answers))
        compared.append((exercise, {s: i for i, text in enumerate(texts) for s in writers[text]}, prints, overlaps))
        for text, fingerprint in zip(texts, prints):
            for student in writers[text]:
                coverage[student] += fingerprint.token_coverage
        for (a, b), (tokens_a, tokens_b, _, _) in overlaps.items():
            people = itertools.combinations(writers[texts[a]], 2) if a == b else \
                itertools.product(writers[texts[a]], writers[texts[b]])
            for first, second in people:
                if first < second:
                    counted = shared[first, second]
                    counted[0] += tokens_a
                    counted[1] += tokens_b
                else:
                    counted = shared[second, first]
                    counted[0] += tokens_b
                    counted[1] += tokens_a
    found = []
    for (first, second), (tokens_first, tokens_second) in shared.items():
        if min(tokens_first, tokens_second) < MIN_SHARED:  # most pairs: ruled out before the division
            continue
        shares = (tokens_first / coverage[first] if coverage[first] else 0.0,
                  tokens_second / coverage[second] if coverage[second] else 0.0)
        if max(shares) >= THRESHOLD:
            found.append((float(max(shares)), first, second, (float(shares[0]), float(shares[1]))))
    found.sort(key=lambda item: (-item[0], item[1], item[2]))
    pairs = []
    for score, first, second, shares in found[:MAX_PAIRS]:
        shown = []
        for exercise, written, prints, overlaps in compared:
            a, b = written.get(first), written.get(second)
            if (a, b) in overlaps:
                _, _, slices_a, slices_b = overlaps[a, b]
            elif (b, a) in overlaps:
                _, _, slices_b, slices_a = overlaps[b, a]
            else:
                continue
            shown.append(Exercise(exercise, marked(prints[a].code, slices_a), marked(prints[b].code, slices_b)))
        pairs.append(Pair(first, second, score, shares, shown))
    return ChapterSimilarity(pairs, len(found))
