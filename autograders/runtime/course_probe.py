"""Probes: the kernel-side half of the course's grading protocol.

A test cell of a source notebook does not assert. It defines a *probe*, a function of one
integer seed that drives the student's objects and returns a list of *expectations*: named,
plain observations (tensors, numbers, strings, shapes, the name of an exception raised) each
with the rule that decides it and the concept it tests. ``report(probe)`` runs the probe and
publishes what it saw.

Where the observations go depends on who runs the kernel:

* When grading (``COURSE_PROBE_MODE=grade``, set only by the course's sandboxed kernelspec),
  the report is one display output of MIME type ``MIME_TYPE`` holding JSON text, plus a line on
  stderr so that the cell scores 0 unless the judge, outside the kernel, rewrites it. The judge
  compares the student's observations with the reference solution's, using the *reference's*
  rules and messages; nothing the student's code does in the kernel can change a rule.
* Anywhere else (an instructor running the source notebook, nbval), the probe is checked against
  itself as far as that is meaningful (``within``, ``same_as`` and ``matches`` rules) and one
  line on stderr says so. A test cell therefore never earns points without the judge.

This module is also imported by the judge for ``decide``. It must stay importable without torch.
"""
from __future__ import annotations

import array
import base64
import binascii
import json
import math
import os
import re
import sys

MIME_TYPE = "application/vnd.course.probe+json"
PROTOCOL_VERSION = 2  # 2: a floating-point tensor's values cross as float64 bytes
LOCAL_SEED = 20240601  # the seed used outside grading; grading chooses its own
MAX_ELEMENTS = 200_000  # an observation is a summary, never a data set

__all__ = [
    "report", "observe", "published", "equal", "close", "within", "band", "same_as", "matches", "raised", "seed",
    "encode", "decide", "MIME_TYPE",
]


# --------------------------------------------------------------------------------------------
# Expectations: what a probe returns


def _expectation(kind, name, value, why, **params):
    return {"name": str(name), "kind": kind, "params": params, "why": str(why), "value": value}


def equal(name, value, why):
    """The student's value must equal the reference's exactly (after encoding)."""
    return _expectation("equal", name, value, why)


def close(name, value, why, rtol=1e-5, atol=1e-6):
    """Numbers or tensors: same shape and dtype kind as the reference, values within tolerance."""
    return _expectation("close", name, value, why, rtol=rtol, atol=atol)


def within(name, value, lo, hi, why):
    """A number (or every element of a tensor) of the student's lies in [lo, hi]."""
    return _expectation("within", name, value, why, lo=lo, hi=hi)


STATISTICS = ("mean", "std", "min", "max", "abs_max", "abs_min_nonzero", "fraction_zero", "count")


def band(name, value, statistic, lo, hi, why):
    """A statistic of the student's values (a tensor or list), computed by the judge from the raw
    values, lies in [lo, hi]. ``statistic`` is one of ``STATISTICS``."""
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {STATISTICS}")
    return _expectation("band", name, value, why, statistic=statistic, lo=lo, hi=hi)


def same_as(name, value, other, why, rtol=0.0, atol=0.0):
    """The student's value equals (within tolerance) the student's own observation ``other``."""
    return _expectation("same_as", name, value, why, other=str(other), rtol=rtol, atol=atol)


def matches(name, value, pattern, why):
    """``re.search(pattern, str(value))`` finds a match in the student's value."""
    return _expectation("matches", name, value, why, pattern=pattern)


def raised(fn, *args, **kwargs):
    """Call ``fn`` and return the name of the exception class it raised, or ``None``."""
    try:
        fn(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - SystemExit from a student is an observation too
        if isinstance(exc, KeyboardInterrupt):
            raise
        return type(exc).__name__
    return None


def seed():
    """The seed of this run: chosen by the grader when grading, fixed otherwise."""
    value = os.environ.get("COURSE_PROBE_SEED")
    return int(value) if value else LOCAL_SEED


# --------------------------------------------------------------------------------------------
# Encoding observations as plain data (JSON), never as pickles


def _finite(x):
    if isinstance(x, float) and not math.isfinite(x):
        return {"__float__": repr(x)}
    return x


def encode(value, _depth=0):
    """Turn an observation into JSON-ready data. Unknown objects become their type's name."""
    if _depth > 20:
        return {"__unencodable__": "nested too deep"}
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return _finite(value)
    if type(value) in (list, tuple):
        return [encode(v, _depth + 1) for v in value[:MAX_ELEMENTS]]
    if type(value) is dict:
        return {str(k): encode(v, _depth + 1) for k, v in list(value.items())[:10_000]}
    torch = sys.modules.get("torch")
    if torch is not None:
        if type(value) is torch.Size:
            return [int(v) for v in value]
        if type(value) is torch.dtype:
            return str(value)
        if isinstance(value, torch.Tensor):
            return _encode_tensor(torch, value)
    return {"__unencodable__": type(value).__name__}


def _encode_tensor(torch, tensor):
    tensor = torch.Tensor.detach(tensor)
    if tensor.is_meta or tensor.layout != torch.strided:
        return {"__unencodable__": f"tensor on {tensor.device} with layout {tensor.layout}"}
    tensor = torch.Tensor.cpu(tensor)
    if tensor.numel() > MAX_ELEMENTS:
        return {"__unencodable__": f"tensor of {tensor.numel()} elements"}
    shape = [int(s) for s in tensor.shape]
    flat = tensor.reshape(-1)
    if tensor.is_floating_point():
        # as bytes: exact, and read and written at C speed (chapter 2's reports hold ~0.24 M
        # numbers, which as JSON numbers cost the kernel and the judge ~0.15 s per notebook)
        as_float64 = torch.Tensor.resolve_neg(torch.Tensor.to(flat, torch.float64))  # e.g. x.conj().imag
        values = torch.Tensor.numpy(as_float64).astype("<f8", copy=False)
        return {"__tensor__": {"dtype": str(tensor.dtype), "shape": shape,
                               "float64": base64.b64encode(values.tobytes()).decode("ascii")}}
    if tensor.is_complex():
        values = [[_finite(float(z.real)), _finite(float(z.imag))] for z in flat.tolist()]
    elif tensor.dtype == torch.bool:
        values = [bool(v) for v in flat.tolist()]
    else:
        values = [_finite(v) for v in flat.tolist()]
    return {"__tensor__": {"dtype": str(tensor.dtype), "shape": shape, "values": values}}


# --------------------------------------------------------------------------------------------
# Deciding one expectation (used by the judge, and by the local self-check)


def _is_tensor(data):
    return isinstance(data, dict) and "__tensor__" in data


def _number(x):
    if isinstance(x, dict) and "__float__" in x:
        return float(x["__float__"])
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError
    return float(x)


def _float64_values(encoded):
    """The numbers of a floating-point tensor's ``float64`` field; TypeError when it is not one."""
    try:
        values = array.array("d", base64.b64decode(encoded, validate=True))
    except (TypeError, ValueError, binascii.Error) as exc:
        raise TypeError("not float64 bytes") from exc
    if sys.byteorder == "big":
        values.byteswap()
    return values.tolist()


def _flatten_numbers(data):
    """A list of floats from a number, a tensor or a list of numbers; TypeError otherwise."""
    if _is_tensor(data):
        if "float64" in data["__tensor__"]:
            values = _float64_values(data["__tensor__"]["float64"])
            if len(values) != math.prod(data["__tensor__"]["shape"]):
                raise TypeError("as many numbers as the shape holds")
            return values
        values = data["__tensor__"]["values"]
        if data["__tensor__"]["dtype"].startswith("torch.complex"):
            return [_number(part) for z in values for part in z]
        if set(map(type, values)) <= {float, int, bool}:  # all finite: the common case, at C speed
            return list(map(float, values))
        return [float(v) if isinstance(v, bool) else _number(v) for v in values]
    if isinstance(data, list):
        if set(map(type, data)) <= {float, int}:
            return list(map(float, data))
        return [_number(v) for v in data]
    return [_number(data)]


def _dtype_kind(dtype):
    if dtype.startswith("torch.complex"):
        return "complex"
    if dtype.startswith("torch.float") or dtype in ("torch.half", "torch.bfloat16", "torch.double"):
        return "float"
    return dtype


def _close(student, reference, rtol, atol):
    if _is_tensor(reference):
        if not _is_tensor(student):
            return False
        s, r = student["__tensor__"], reference["__tensor__"]
        if s["shape"] != r["shape"] or _dtype_kind(s["dtype"]) != _dtype_kind(r["dtype"]):
            return False
    try:
        s_values, r_values = _flatten_numbers(student), _flatten_numbers(reference)
    except TypeError:
        return student == reference
    if len(s_values) != len(r_values):
        return False
    for a, b in zip(s_values, r_values):
        if math.isnan(a) or math.isnan(b):
            if not (math.isnan(a) and math.isnan(b)):
                return False
        elif math.isinf(a) or math.isinf(b):
            if a != b:  # an infinity is close to itself alone (the tolerance below is infinite)
                return False
        elif not abs(a - b) <= atol + rtol * abs(b):
            return False
    return True


def _equal(student, reference):
    """Equal observations. A floating-point tensor's numbers are compared as numbers, as its
    JSON did before it crossed as bytes: -0.0 equals 0.0, and NaN equals NaN."""
    if _is_tensor(student) and _is_tensor(reference) and "float64" in reference["__tensor__"]:
        return (student["__tensor__"].get("dtype") == reference["__tensor__"]["dtype"]
                and _close(student, reference, rtol=0.0, atol=0.0))
    return student == reference


def _statistic(name, values):
    if name == "count":
        return float(len(values))
    if not values:
        raise ValueError("no values")
    if name == "mean":
        return sum(values) / len(values)
    if name == "std":
        mean = sum(values) / len(values)
        return math.sqrt(sum((v - mean) ** 2 for v in values) / max(len(values) - 1, 1))
    if name == "min":
        return min(values)
    if name == "max":
        return max(values)
    if name == "abs_max":
        return max(abs(v) for v in values)
    if name == "abs_min_nonzero":
        nonzero = [abs(v) for v in values if v != 0]
        return min(nonzero) if nonzero else math.inf
    if name == "fraction_zero":
        return sum(1 for v in values if v == 0) / len(values)
    raise ValueError(f"unknown statistic {name!r}")


def decide(rule, student_value, student_values):
    """Whether ``student_value`` satisfies the reference expectation ``rule``.

    ``rule`` is one expectation as the *reference* reported it (kind, params, value);
    ``student_values`` maps each of the student's expectation names to its value, for
    ``same_as``. Returns a bool; never raises on malformed student data.
    """
    kind, params = rule["kind"], rule.get("params", {})
    try:
        if kind == "equal":
            return _equal(student_value, rule["value"])
        if kind == "close":
            return _close(student_value, rule["value"], params["rtol"], params["atol"])
        if kind == "within":
            values = _flatten_numbers(student_value)
            return bool(values) and all(params["lo"] <= v <= params["hi"] for v in values)
        if kind == "band":
            value = _statistic(params["statistic"], _flatten_numbers(student_value))
            return params["lo"] <= value <= params["hi"]
        if kind == "same_as":
            if params["other"] not in student_values:
                return False
            other = student_values[params["other"]]
            return _close(student_value, other, params["rtol"], params["atol"])
        if kind == "matches":
            return isinstance(student_value, str) and re.search(params["pattern"], student_value) is not None
    except (TypeError, ValueError, KeyError, re.error):
        return False
    raise ValueError(f"unknown expectation kind {kind!r}")


# --------------------------------------------------------------------------------------------
# Running a probe and publishing its report


def observe(probe):
    """Run ``probe(seed())``; return its envelope (plain data), what ``report`` publishes."""
    envelope = {"protocol": PROTOCOL_VERSION, "expectations": [], "error": None}
    try:
        expectations = list(probe(seed()))
    except BaseException as exc:  # noqa: BLE001 - any failure of the student's code is reported
        if isinstance(exc, KeyboardInterrupt):
            raise
        envelope["error"] = type(exc).__name__
        return envelope
    for item in expectations:
        if not (type(item) is dict and {"name", "kind", "params", "why", "value"} <= set(item)):
            envelope["error"] = "MalformedExpectation"
            return envelope
        envelope["expectations"].append({**item, "value": encode(item["value"])})
    return envelope


def _self_check(envelope):
    if envelope["error"]:
        return [f"the probe raised {envelope['error']}"]
    values = {e["name"]: e["value"] for e in envelope["expectations"]}
    return [f"{e['name']}: {e['why']}" for e in envelope["expectations"]
            if not decide(e, e["value"], values)]


def published(envelope):
    """The display data a grading kernel publishes for ``envelope``. JSON text rather than a
    JSON object: a report can hold thousands of numbers, which the grading process would
    otherwise walk, one object each, at every step of its pipeline."""
    return {MIME_TYPE: json.dumps(envelope)}


def report(probe):
    """Run ``probe(seed)`` and publish its observations (see the module's docstring)."""
    envelope = observe(probe)
    if os.environ.get("COURSE_PROBE_MODE") == "grade":
        from IPython.display import display

        display(published(envelope), raw=True)
        print("not judged: the grader's judge must decide this test", file=sys.stderr)
        return
    failures = _self_check(envelope)
    count = len(envelope["expectations"])
    if failures:
        print("[grader] FAILS on this notebook:\n  " + "\n  ".join(failures), file=sys.stderr)
    else:
        print(f"[grader] {count} observations recorded; judged against the reference when grading",
              file=sys.stderr)
