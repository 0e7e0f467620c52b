"""How a claim of the paper is declared: next to the experiment that checks it, in its chapter module.

A chapter module lists the paper's claims its experiments measure (``CLAIMS = [Claim(...), ...]``); the
conclusion's table (``pages.claims``) gathers them from ``chapters.MODULES`` in the book's order and takes each
claim's chapter from its module's ``CHAPTER``. A claim names the one experiment whose stored record it reads
(``experiment``) and a ``check(record) -> (paper, ours, agrees)``: the paper's value or statement, this build's
measurement, and the agreement by the criterion the check states. A check raises ``KeyError`` (or
``TypeError``, ``StopIteration``, ``IndexError``) when the record lacks the measurement: the table then says so
instead of agreeing. The helpers below are the words the checks share (percentages, model names, Table 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import paper

CHANCE_ACC = 1 - paper.CHANCE_ERROR  # test accuracy of a 10-class guess


@dataclass(frozen=True)
class Claim:
    claim: str                                          # the claim, as the conclusion's table states it
    section: str                                        # where the paper makes it, e.g. "2, Table 1"
    experiment: str                                     # the experiment whose stored record checks it
    check: Callable[[dict], tuple[str, str, bool]]      # record -> (paper, ours, agrees)


def percent(x: float) -> str:
    """A fraction as a percentage with one decimal, e.g. ``0.9934 -> "99.3%"``."""
    return f"{100 * x:.1f}%"


def table1_reported(model: str, crop: bool, wd: bool, labels: str) -> tuple[float, float]:
    """(train, test) accuracy of a row of the paper's Table 1 as fractions; KeyError if it has no such row."""
    for m, c, w, lab, train, test in paper.TABLE1:
        if (m, c, w, lab) == (model, crop, wd, labels):
            return train / 100, test / 100
    raise KeyError((model, crop, wd, labels))
