"""One-line checks of an experiment's settings, run before any work starts.

Each check names the experiment, the setting, the bad value and the fix, e.g.
``theorem1: setting n=0 must be a positive integer (e.g. --set n=4000)``, so a reader who typed
``--set n=0`` reads one line instead of a traceback from deep inside the run.
"""

from __future__ import annotations

import math
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


# --- every numeric setting, by name --------------------------------------------------------------------------

class Range:
    """The values a numeric setting may take: ``low`` / ``high`` (None: unbounded), each open or closed."""

    def __init__(self, low: float | None = 0, high: float | None = None, *, low_open: bool = True,
                 high_open: bool = False, integer: bool = False):
        self.low, self.high, self.low_open, self.high_open, self.integer = low, high, low_open, high_open, integer

    def holds(self, v) -> bool:
        if self.low is not None and (v <= self.low if self.low_open else v < self.low):
            return False
        return self.high is None or (v < self.high if self.high_open else v <= self.high)

    def text(self, integer: bool) -> str:
        kind = "an integer" if integer else "a number"
        if self.high is None:
            return f"{kind} {'>' if self.low_open else '>='} {self.low:g}" if self.low is not None else kind
        return (f"{kind} in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}")

    def example(self, integer: bool) -> str:
        if self.high is not None:
            return f"{(self.low + self.high) / 2:g}" if not integer else f"{int(self.high)}"
        return "1" if integer else "0.1"


POSITIVE = Range()                                     # every numeric setting not named below: > 0
NON_NEGATIVE = Range(0, low_open=False)
FRACTION = Range(0, 1, low_open=False)                 # a probability or a share, 0 and 1 included
OPEN_UNIT = Range(0, 1, high_open=True)                # a confidence level or a tolerance: strictly in (0, 1)
RANGES = {
    # probabilities of corrupted labels / shares of the data
    "ps": FRACTION, "noise_p": FRACTION, "summary_p": FRACTION, "data_prior_fraction": OPEN_UNIT,
    "top_fraction": Range(0, 1), "fit_threshold": Range(0, 1), "delta": OPEN_UNIT, "alpha": OPEN_UNIT,
    "rcond": OPEN_UNIT,
    # optimizer and batch norm: a decay per epoch is at most 1 (1 = none), a momentum or running-average decay < 1
    "lr_decay": Range(0, 1), "momentum": Range(0, 1, low_open=False, high_open=True),
    "bn_decay": Range(0, 1, low_open=False, high_open=True),
    # penalties and scales that may be zero
    "weight_decay": NON_NEGATIVE, "ridge": NON_NEGATIVE, "ridges": NON_NEGATIVE, "linear_ridge": NON_NEGATIVE,
    "w0_scale": NON_NEGATIVE,
    # a log-variance: any real number (e^x > 0 whatever x is)
    "data_prior_init_log_var": Range(None),
    # seeds and class labels are indices
    "seeds": Range(0, low_open=False, integer=True), "feature_seeds": Range(0, low_open=False, integer=True),
    "classes": Range(0, 9, low_open=False, integer=True),
    # None means "the whole set" / "the model's own"; a number must be a positive integer
    "n_train": Range(integer=True), "n_test": Range(integer=True), "crop": Range(integer=True),
}


def numeric_settings(cfg: dict, path: tuple = ()) -> list[tuple[tuple, object]]:
    """(path, value) of every numeric setting of ``cfg`` (nested dicts walked; a list of numbers is one setting;
    None where the named range allows a number); booleans and text are not numeric."""
    found = []
    for k, v in cfg.items():
        p = (*path, k)
        if isinstance(v, dict):
            found += numeric_settings(v, p)
        elif isinstance(v, bool):
            continue
        elif isinstance(v, int | float) or (v is None and range_of(p) is not POSITIVE):
            found.append((p, v))
        elif isinstance(v, list | tuple) and v and all(isinstance(x, int | float) and not isinstance(x, bool) for x in v):
            found.append((p, v))
    return found


def range_of(path: tuple) -> Range:
    """The range of the setting at ``path``: by its own name, else its parent's (``lr.alexnet_small`` -> lr)."""
    for key in reversed(path):
        if key in RANGES:
            return RANGES[key]
    return POSITIVE


def numbers(exp: str, cfg: dict, base: dict) -> None:
    """Every numeric setting of ``base`` (the profile's declared config) checked in ``cfg``: its type (an int
    setting takes ints) and its range, one line naming the setting, the value and the allowed range."""
    for path, default in numeric_settings(base):
        v = cfg
        for k in path:
            v = v.get(k) if isinstance(v, dict) else None
        rng = range_of(path)
        name = ".".join(map(str, path))
        integer = rng.integer or isinstance(default, int) or (
            isinstance(default, list | tuple) and all(isinstance(x, int) for x in default))
        if v is None:  # None where the profile has a number: a missing key or "none"; the experiment's own
            continue   # validate says what it needs
        if isinstance(v, dict) and not isinstance(default, dict):  # one value per dataset / model instead of one
            values = list(v.values())
        else:
            values = v if isinstance(default, list | tuple) and isinstance(v, list | tuple) else [v]
        for x in values:
            ok = (not isinstance(x, bool) and isinstance(x, int | float) and (not integer or isinstance(x, int))
                  and math.isfinite(x) and rng.holds(x))
            if not ok:
                what = f"must be {rng.text(integer)}" + (" for each entry" if isinstance(default, list | tuple) else "")
                example = rng.example(integer)
                _fail(exp, name, v, what, f"[{example}]" if isinstance(default, list | tuple) else example)
