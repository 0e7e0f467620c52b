"""Small helpers every chapter notebook calls: set up, say which profile produced the page, show tables.

Chapter template (see book/ for the real thing)::

    # cell 1: Colab install (keeps Colab's torch)
    # cell 2, tagged "parameters": PROFILE = "auto", DRIVE = False and the chapter's knobs
    # cell 3:
    from rethinking_lib.pages import notebook
    PROFILE = notebook.setup(PROFILE, drive=DRIVE)  # resolves auto, warns on Colab without a GPU, shows the profile
    knobs = notebook.knobs(n=N, draws=DRAWS)        # the knobs the reader set (None: the profile's)
    # then each cell is a call and a display:
    rec = experiments.run("rademacher", PROFILE, seed=SEED, **knobs)
    notebook.table(rademacher.complexity_table(rec["result"]))
    notebook.glue_all(rademacher.prose_numbers(...))  # the numbers the prose quotes, from one function

Measured numbers reach the prose one way: the chapter module's ``prose_numbers`` returns them by name, and
``glue_all`` glues them for the {glue:text} roles of the markdown. A sentence whose wording depends on the result
is written by the chapter module and shown with ``markdown``.

``drive=True`` (on Colab) mounts Google Drive and points the results store (``$RETHINKING_RESULTS``, which also
holds the checkpoints of interrupted runs) at a folder there, so a chapter run again after a disconnect loads
the runs already stored and resumes an interrupted run from its last checkpoint.
"""

from __future__ import annotations

import os
import sys
import warnings

from ..config import profiles, smoke
from ..figures import style


def on_colab() -> bool:
    return "google.colab" in sys.modules


DRIVE_MOUNT = "/content/drive"
DRIVE_FOLDER = "MyDrive/rethinking-results"  # the results store on Google Drive (under the mount point)


def results_on_drive(folder: str = DRIVE_FOLDER, *, mount: str = DRIVE_MOUNT) -> str:
    """On Colab: mount Google Drive and set ``$RETHINKING_RESULTS`` to ``mount/folder`` (made if missing), so
    stored runs and checkpoints outlive the runtime; returns the folder. Elsewhere: a clear error."""
    if not on_colab():
        raise RuntimeError("drive=True needs a Colab runtime (google.colab); elsewhere set RETHINKING_RESULTS to a "
                           "folder that persists, or pass drive=False")
    from google.colab import drive

    drive.mount(mount)
    path = os.path.join(mount, folder)
    os.makedirs(path, exist_ok=True)
    os.environ["RETHINKING_RESULTS"] = path
    return path


def setup(profile: str = "auto", *, show: bool = True, drive: bool = False) -> str:
    """Resolve ``profile``, apply the plot style, warn when a Colab runtime has no GPU; returns quick/gpu/paper.
    ``drive=True`` first puts the results store on Google Drive (``results_on_drive``; Colab only)."""
    if drive:
        store = results_on_drive()
        if show:
            markdown(f"*Results store and checkpoints: `{store}` on Google Drive; after a disconnect, run the "
                     "chapter again to resume.*")
    resolved = profiles.resolve(profile)
    if on_colab() and not profiles.has_cuda():
        warnings.warn("This Colab runtime has no GPU: the chapter runs the quick profile on the CPU. For paper "
                      "scale choose Runtime > Change runtime type > GPU, then run all cells again.", stacklevel=2)
    style.style()
    if show and smoke.on():
        smoke_warning()
    if show:
        markdown(f"*This page was produced with {profiles.describe(resolved)}"
                 + (" at the **smoke** scale" if smoke.on() else "") + ".*")
    return resolved


def smoke_warning() -> None:
    """A warning box (``smoke.WARNING``): this page ran at the smoke scale, so it shows no result."""
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display

        if get_ipython() is not None:
            display(HTML('<div class="admonition warning smoke-run"><p class="admonition-title">Smoke run, not a '
                         f'result</p><p>{smoke.WARNING}</p></div>'))
            return
    except ImportError:  # pragma: no cover
        pass
    print(f"WARNING: {smoke.WARNING}")


def markdown(text: str) -> None:
    """Display markdown in a notebook (rendered in the HTML book); print it elsewhere. Empty (or blank) text
    shows nothing: ``Markdown("")`` would leave its repr, ``<IPython.core.display.Markdown object>``, on the page."""
    if not text.strip():
        return
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


def glue_all(numbers: dict) -> None:
    """``glue`` every named number of a chapter's ``prose_numbers`` (the one way measured numbers reach the prose)."""
    for name, value in numbers.items():
        glue(name, value)


def knobs(**settings) -> dict:
    """The chapter's knobs the reader set: the keyword arguments that are not None (None: the profile's value)."""
    return {k: v for k, v in settings.items() if v is not None}


def show(figures) -> None:
    """Display each figure in turn, then close it: a cell that draws several shows each once, in order."""
    import matplotlib.pyplot as plt

    try:
        from IPython.display import display
    except ImportError:  # pragma: no cover
        display = print
    for fig in figures:
        display(fig)
        plt.close(fig)


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
    from ..store import provenance

    return f"produced by {provenance.describe_code(record)}"
