"""Small helpers every chapter notebook calls: set up, say which profile produced the page, show tables.

Chapter template (see book/ for the real thing)::

    # cell 1: Colab install (keeps Colab's torch)
    # cell 2, tagged "parameters": PROFILE = "auto" and the chapter's knobs
    # cell 3:
    from rethinking_lib import notebook
    PROFILE = notebook.setup(PROFILE)   # resolves auto, warns on Colab without a GPU, shows the profile line
"""

from __future__ import annotations

import sys
import warnings

from . import plots, profiles


def on_colab() -> bool:
    return "google.colab" in sys.modules


def setup(profile: str = "auto", *, show: bool = True) -> str:
    """Resolve ``profile``, apply the plot style, warn when a Colab runtime has no GPU; returns quick/paper."""
    resolved = profiles.resolve(profile)
    if on_colab() and not profiles.has_cuda():
        warnings.warn("This Colab runtime has no GPU: the chapter runs the quick profile on the CPU. For paper "
                      "scale choose Runtime > Change runtime type > GPU, then run all cells again.", stacklevel=2)
    plots.style()
    if show:
        markdown(f"*This page was produced with {profiles.describe(resolved)}.*")
    return resolved


def markdown(text: str) -> None:
    """Display markdown in a notebook (rendered in the HTML book); print it elsewhere."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display

        if get_ipython() is not None:
            display(Markdown(text))
            return
    except ImportError:  # pragma: no cover
        pass
    print(text)


def glue(name: str, value) -> None:
    """Store a measured number under ``name`` for the prose ({glue:text}`name:.3f` in a markdown cell), shown
    nowhere else; outside a notebook (or without myst-nb, e.g. on Colab) it does nothing."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"glue({name!r}, ...): value must be a number, got {type(value).__name__}; format text in the prose")
    try:
        from IPython import get_ipython
        from myst_nb import glue as _glue
    except ImportError:  # pragma: no cover
        return
    if get_ipython() is not None:
        _glue(name, float(value) if isinstance(value, float) else int(value), display=False)


class Shown(str):
    """Text that has already been displayed: as a cell's last value it shows nothing (no grey repr box)."""

    def _ipython_display_(self) -> None:
        pass


def table(rows: list[dict], columns: list[str] | None = None, *, floatfmt: str = "{:.3f}", headers: dict | None = None) -> str:
    """Display a list of dicts as a markdown table; returns the markdown (a ``str`` that, left as a cell's last
    value, adds no second output)."""
    if not rows:
        return Shown("")
    columns = columns or list(rows[0])
    headers = headers or {}

    def fmt(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            return floatfmt.format(v)
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10_000:
            return f"{v:,d}"
        return str(v)

    lines = ["| " + " | ".join(headers.get(c, c) for c in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows]
    md = Shown("\n".join(lines))
    markdown(md)
    return md


def provenance_note(record: dict) -> str:
    """One line naming the code that produced a stored run: "produced by rethinking_lib 0.1.0, commit <sha>[, dirty]"."""
    from . import results

    return f"produced by {results.describe_code(record)}"
