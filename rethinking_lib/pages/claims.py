"""Every claim of the paper beside what this build measured, and whether the two agree.

Each chapter module declares the claims its experiments check (``CLAIMS``, a list of ``config.claims.Claim``,
next to its ``EXPERIMENTS``); this module gathers them from ``chapters.MODULES`` in the book's order. Each
claim reads the stored record of the experiment that measures it through ``experiments.run(name, profile)``
(after the chapters ran, that loads from the results store; otherwise it runs the experiment), takes the
paper's value from ``paper`` and decides by its ``criterion``, which the table shows beside it. The quick profile
runs on digits, not CIFAR-10, so most criteria compare the *phenomenon* (fitted or not, at chance or not, which
way a number moves), not the paper's number; the criterion column says which, and with what tolerance. A claim
that one seed could flip is decided on the seeds its experiment ran (mean ± sd in "this build").

    >>> from rethinking_lib.pages import claims
    >>> rows = claims.table("quick")     # one dict per claim
"""

from __future__ import annotations

from .. import chapters, experiments
from ..config.claims import Claim


def declared() -> list[tuple[str, Claim]]:
    """(chapter page, claim) for every claim the chapter modules declare, in the book's order."""
    return [(mod.CHAPTER, c) for mod in chapters.MODULES for c in getattr(mod, "CLAIMS", [])]


CLAIMS = declared()


def table(profile: str = "auto", *, seed: int = 0, out=None) -> list[dict]:
    """One row per claim: {"claim", "criterion", "section", "chapter", "paper", "ours", "agrees"}.

    ``agrees`` is True / False by the criterion stated in each claim's check, or None when this build's record
    lacks the measurement (``ours`` then says what is missing)."""
    cache: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in cache:
            cache[name] = experiments.run(name, profile, seed=seed, out=out, progress=False)
        return cache[name]

    rows = []
    for chapter, c in CLAIMS:
        try:
            reported, ours, agrees = c.check(get(c.experiment))
            agrees = bool(agrees)
        except (KeyError, TypeError, StopIteration, IndexError) as e:
            reported, ours, agrees = "-", f"not in this build's record ({type(e).__name__}: {e})", None
        rows.append({"claim": c.claim, "criterion": c.criterion, "section": c.section, "chapter": chapter,
                     "paper": reported, "ours": ours, "agrees": agrees})
    return rows


def page_table(rows: list[dict]) -> list[dict]:
    """``table``'s rows as the conclusion shows them: the criterion beside the claim, the chapter as a link to its
    page, the outcome in words."""
    mark = {True: "agrees", False: "differs", None: "not measured"}
    return [{"claim": r["claim"], "criterion (agrees when)": r["criterion"], "paper section": r["section"],
             "chapter": f"[{r['chapter'][:2]}]({r['chapter']}.ipynb)", "paper": r["paper"], "this build": r["ours"],
             "outcome": mark[r["agrees"]]} for r in rows]


def prose_numbers(rows: list[dict]) -> dict:
    """The numbers the conclusion's prose quotes (glued into the text): claims, and how many agree, disagree, or
    were not measured by this build."""
    return {"cc_claims": len(rows), "cc_agree": sum(r["agrees"] is True for r in rows),
            "cc_disagree": sum(r["agrees"] is False for r in rows), "cc_missing": sum(r["agrees"] is None for r in rows)}
