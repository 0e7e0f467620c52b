"""The book's plotting style, shared by every figure: size, fonts, one colour per condition / model, the
paper's reported values as hollow markers or dashed lines, and a caption line naming the profile.

Display names: ``runs.label`` (models from ``models.LABELS``, conditions from ``corrupt.LABELS``).
The figures themselves live in one module per chapter group (``plots_bounds``,
``plots_randomization``, ``plots_expressivity``, ``plots_implicit``); ``plots`` re-exports them all.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

# A colour per randomization condition and per model, fixed across the whole book.
COLORS = {
    "true_labels": "#1f77b4", "random_labels": "#d62728", "shuffled_pixels": "#2ca02c",
    "random_pixels": "#ff7f0e", "gaussian": "#9467bd", "partial_labels": "#8c564b",
    "inception_small": "#1f77b4", "inception_small_nobn": "#17becf", "alexnet_small": "#ff7f0e",
    "mlp_1x512": "#2ca02c", "mlp_3x512": "#9467bd", "linear": "#7f7f7f",
}

PAPER_STYLE = {"linestyle": "--", "marker": "o", "markerfacecolor": "none", "alpha": 0.8}

RC = {
    "figure.figsize": (6.4, 4.0), "figure.dpi": 110, "savefig.dpi": 110, "font.size": 10,
    "axes.titlesize": 11, "axes.labelsize": 10, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.25, "legend.frameon": False, "legend.fontsize": 9,
    "lines.linewidth": 1.8, "lines.markersize": 5,
}


def style() -> None:
    """Apply the book's matplotlib style (called by every helper; cheap to call again)."""
    plt.rcParams.update(RC)


def color(key: str) -> str:
    return COLORS.get(key, "#333333")


def label(key: str) -> str:
    """Display name of a model or of a randomization condition (``runs.label``)."""
    from ..engine.runs import label as run_label

    return run_label(key)


def figure(ncols: int = 1, nrows: int = 1, *, width: float | None = None, height: float | None = None, **kw):
    """A new figure in the book's style: ``fig, axes = figure(2)``."""
    style()
    w = width or (6.4 if ncols == 1 else 4.2 * ncols)
    h = height or 3.6 * nrows
    return plt.subplots(nrows, ncols, figsize=(w, h), **kw)


def caption(fig, profile: str, extra: str = "") -> None:
    """Small grey line under the figure: which profile produced it (and anything else worth saying)."""
    text = f"measured here, profile: {profile}" + (f"; {extra}" if extra else "")
    fig.text(0.99, 0.005, text, ha="right", va="bottom", fontsize=7, color="#777777")


def finish(fig, profile: str | None = None, extra: str = ""):
    """Tight layout plus the profile caption; returns the figure so a notebook cell displays it."""
    if profile:
        caption(fig, profile, extra)
    fig.tight_layout(rect=(0, 0.03 if profile else 0, 1, 1))
    return fig


def band(ax, x, mean, sd, **kw) -> None:
    """A seed mean as a line and mean +- one standard deviation as a shaded band in the line's colour (``kw`` are
    the line's: color, label, ls, ...)."""
    import numpy as np

    mean, sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    (line,) = ax.plot(x, mean, **kw)
    ax.fill_between(x, mean - sd, mean + sd, color=line.get_color(), alpha=0.18, lw=0)


def seeds_note(seeds: int) -> str:
    """The caption's words for a figure drawn over ``seeds`` seeds ('' for one)."""
    return f"mean ± sd over {seeds} seeds" if seeds > 1 else ""


def paper_points(ax, x, y, key: str, **kw) -> None:
    """The paper's reported (or read-off-the-figure) values: hollow markers, dashed, same colour as ours."""
    ax.plot(x, y, color=color(key), **{**PAPER_STYLE, **kw})


def image_grid(images, titles=None, *, ncols: int = 8, cmap: str = "gray", scale: float = 1.1, suptitle: str | None = None):
    """A grid of images given as (N, C, H, W) or (N, H, W) arrays / tensors, each normalized to [0, 1]."""
    import numpy as np

    style()
    imgs = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images, dtype=np.float32)
    if imgs.ndim == 4:
        imgs = imgs.transpose(0, 2, 3, 1)
        if imgs.shape[-1] == 1:
            imgs = imgs[..., 0]
    n = len(imgs)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(scale * ncols, scale * nrows + (0.4 if suptitle else 0)))
    for i, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if i < n:
            im = imgs[i]
            im = (im - im.min()) / max(1e-8, float(im.max() - im.min()))
            ax.imshow(im, cmap=cmap if im.ndim == 2 else None, interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


def figure_slider(figs, options: list[str], *, selected: int = 0, dpi: int = 72, description: str = "p"):
    """A slider flipping between pre-rendered figures (one per option), e.g. one per corruption level p.

    Each figure is rendered to a PNG and closed as it comes (``figs`` may be a generator); slider and pages are
    linked in the browser (``jslink``), so the widget also works in the static HTML book without a kernel.
    """
    import io

    import ipywidgets as w

    pages = []
    for fig in figs:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        plt.close(fig)
        pages.append(w.Image(value=buf.getvalue(), format="png", layout=w.Layout(width="620px")))
    slider = w.SelectionSlider(options=options, index=selected, description=description, continuous_update=True,
                               layout=w.Layout(width="620px"))
    stack = w.Stack(pages, selected_index=selected)
    w.jslink((slider, "index"), (stack, "selected_index"))
    return w.VBox([slider, stack])
