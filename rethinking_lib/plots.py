"""One plotting style for every figure of the book, and every figure, importable as ``plots.<name>``.

Where each piece lives:
    plots_style          style, colours, display names (models' from ``models.LABELS``), figure / finish /
                         caption, the paper's values as hollow markers, image grids
    plots_bounds         chapters 1-3: PAC / VC bounds, Rademacher sweeps, stability
    plots_randomization  chapters 4-5: Figures 1a, 1b, 1c, 2b, the corruption widget
    plots_expressivity   chapter 6: Theorem 1's construction and its conditioning
    plots_implicit       chapter 7: SGD's min-norm limit, kernel ridge, norm vs error, double descent
"""

from __future__ import annotations

from .plots_bounds import bound_widget, pac_bounds, pac_errors, rademacher_sweeps, stability_convex, stability_network
from .plots_expressivity import theorem1_1d, theorem1_2d, theorem1_conditioning, triangular_matrix
from .plots_implicit import double_descent, kernel_ridge, minnorm_convergence, norm_vs_error
from .plots_randomization import corruption_widget, fig1a, fig1bc, fig2b
from .plots_style import (
    COLORS,
    PAPER_STYLE,
    RC,
    caption,
    color,
    figure,
    figure_slider,
    finish,
    image_grid,
    label,
    paper_points,
    style,
)

__all__ = [
    "COLORS", "PAPER_STYLE", "RC", "caption", "color", "figure", "figure_slider", "finish", "image_grid", "label",
    "paper_points", "style",
    "bound_widget", "pac_bounds", "pac_errors", "rademacher_sweeps", "stability_convex", "stability_network",
    "theorem1_1d", "theorem1_2d", "theorem1_conditioning", "triangular_matrix",
    "double_descent", "kernel_ridge", "minnorm_convergence", "norm_vs_error",
    "corruption_widget", "fig1a", "fig1bc", "fig2b",
]
