"""How a claim of the paper is declared: next to the experiment that checks it, in its chapter module.

A chapter module lists the paper's claims its experiments measure (``CLAIMS = [Claim(...), ...]``); the
conclusion's table (``pages.claims``) gathers them from ``chapters.MODULES`` in the book's order and takes each
claim's chapter from its module's ``CHAPTER``. A claim names the one experiment whose stored record it reads
(``experiment``), a ``check(record) -> (paper, ours, agrees)``: the paper's value or statement, this build's
measurement, and the agreement, and its ``criterion``: when ``agrees`` holds, in words, with why that tolerance
(the conclusion's table shows it beside the claim). Every criterion can fail: ``tests/test_claims.py`` feeds
each check a record that should not agree and asserts that it does not. A check raises ``KeyError`` (or
``TypeError``, ``StopIteration``, ``IndexError``) when the record lacks the measurement: the table then says so
instead of agreeing.

Tolerances are written from the measurement's own noise where it has one: an accuracy measured on m test images
has standard error sqrt(acc (1 - acc) / m) (``standard_error``), and a claim that one seed could flip is decided
on the mean over the seeds its experiment ran (``seeds`` settings), shown as mean +- sd (``mean_sd``). The
helpers below are the words the checks share (percentages, model names, Table 1, seed spreads).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import paper

CHANCE_ACC = 1 - paper.CHANCE_ERROR  # test accuracy of a 10-class guess


@dataclass(frozen=True)
class Claim:
    claim: str                                          # the claim, as the conclusion's table states it
    section: str                                        # where the paper makes it, e.g. "2, Table 1"
    experiment: str                                     # the experiment whose stored record checks it
    check: Callable[[dict], tuple[str, str, bool]]      # record -> (paper, ours, agrees)
    criterion: str                                      # when it agrees, and why that tolerance (shown beside it)

    def __post_init__(self):
        if not self.criterion.strip():
            raise ValueError(f"claim {self.claim!r}: criterion='' is empty: say when it agrees and why that tolerance")


def percent(x: float) -> str:
    """A fraction as a percentage with one decimal, e.g. ``0.9934 -> "99.3%"``."""
    return f"{100 * x:.1f}%"


def table1_reported(model: str, crop: bool, wd: bool, labels: str) -> tuple[float, float]:
    """(train, test) accuracy of a row of the paper's Table 1 as fractions; KeyError if it has no such row."""
    for m, c, w, lab, train, test in paper.TABLE1:
        if (m, c, w, lab) == (model, crop, wd, labels):
            return train / 100, test / 100
    raise KeyError((model, crop, wd, labels))


def standard_error(acc: float, m: int) -> float:
    """Binomial standard error of an accuracy ``acc`` measured on ``m`` independent test images."""
    if not (isinstance(m, int) and m >= 1):
        raise ValueError(f"m={m!r} must be a positive number of test images")
    return math.sqrt(max(acc * (1 - acc), 0.0) / m)


def spread(values: Sequence[float]) -> tuple[float, float]:
    """(mean, sample standard deviation) over seeds; the deviation is 0 for a single seed."""
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError("values=[] is empty: pass one measurement per seed")
    mean = sum(vals) / len(vals)
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
    return mean, sd


def mean_sd(values: Sequence[float], fmt: str = "{:.3f}") -> str:
    """``values`` over seeds in words: ``"0.912 ± 0.004 (3 seeds)"``, or the one value for a single seed."""
    mean, sd = spread(values)
    if len(values) == 1:
        return fmt.format(mean)
    return f"{fmt.format(mean)} ± {fmt.replace('+', '').format(sd)} ({len(values)} seeds)"
