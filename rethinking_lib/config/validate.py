"""One-line checks of an experiment's settings, run before any work starts.

Each check names the experiment, the setting, the bad value and the fix, e.g.
``theorem1: setting n=0 must be a positive integer (e.g. --set n=4000)``, so a reader who typed
``--set n=0`` reads one line instead of a traceback from deep inside the run.
"""

from __future__ import annotations

from collections.abc import Iterable


def _fail(exp: str, key: str, value, what: str, example: str) -> None:
    raise ValueError(f"{exp}: setting {key}={value!r} {what} (e.g. --set {key}={example})")


def positive_int(exp: str, cfg: dict, key: str, example: str = "100", *, allow_zero: bool = False) -> int:
    """``cfg[key]`` is an int >= 1 (>= 0 with ``allow_zero``)."""
    v = cfg[key]
    low = 0 if allow_zero else 1
    if isinstance(v, bool) or not isinstance(v, int) or v < low:
        _fail(exp, key, v, "must be a non-negative integer" if allow_zero else "must be a positive integer", example)
    return v


def positive_number(exp: str, cfg: dict, key: str, example: str = "0.01", *, allow_zero: bool = False) -> float:
    """``cfg[key]`` is a real number > 0 (>= 0 with ``allow_zero``)."""
    v = cfg[key]
    ok = not isinstance(v, bool) and isinstance(v, int | float) and (v >= 0 if allow_zero else v > 0)
    if not ok:
        _fail(exp, key, v, "must be a number >= 0" if allow_zero else "must be a positive number", example)
    return float(v)


def int_list(exp: str, cfg: dict, key: str, example: str = "[100,200]", *, empty_ok: bool = False,
             at_most: int | None = None, at_most_name: str = "") -> list[int]:
    """``cfg[key]`` is a list of positive ints (non-empty unless ``empty_ok``), each <= ``at_most`` if given."""
    v = cfg[key]
    if not isinstance(v, list | tuple) or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in v):
        _fail(exp, key, v, "must be a list of positive integers", example)
    if not v and not empty_ok:
        _fail(exp, key, v, "must not be empty", example)
    if at_most is not None and any(x > at_most for x in v):
        _fail(exp, key, v, f"has entries above {at_most_name} = {at_most}", example)
    return list(v)


def choices(exp: str, cfg: dict, key: str, allowed: Iterable[str], *, many: bool = False,
            required: str | None = None) -> None:
    """``cfg[key]`` is one of ``allowed`` (or, with ``many``, a non-empty list of them, containing ``required``)."""
    allowed = list(allowed)
    v = cfg[key]
    values = v if many and isinstance(v, list | tuple) else [v]
    example = ('["' + '","'.join(allowed) + '"]') if many else allowed[0]
    if (many and not isinstance(v, list | tuple)) or not values or any(x not in allowed for x in values):
        _fail(exp, key, v, f"must be {'a non-empty list of' if many else 'one of'} {', '.join(allowed)}", example)
    if required is not None and required not in values:
        _fail(exp, key, v, f"must include {required!r}", example)
