"""The plotting modules: one style, display names from their one definition, every figure importable as plots.<name>."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from rethinking_lib import figures as plots
from rethinking_lib.engine import models

FIGURES = ["bound_widget", "pac_bounds", "pac_errors", "rademacher_sweeps", "stability_convex", "stability_network",
           "theorem1_1d", "theorem1_2d", "theorem1_conditioning", "theorem1_sgd", "triangular_matrix", "double_descent",
           "kernel_ridge", "minnorm_convergence", "norm_vs_error", "corruption_widget", "fig1a", "fig1bc", "fig2b", "image_grid"]


@pytest.mark.parametrize("name", FIGURES + ["color", "label", "figure", "finish", "caption", "paper_points"])
def test_every_figure_is_importable_from_plots(name):
    assert callable(getattr(plots, name))


def test_each_figure_has_one_home_and_the_style_applies():
    homes = {}
    for module in plots.MODULES:
        for name in plots.public_names(module):
            assert name not in homes, f"{name} is defined in {homes.get(name)} and {module.__name__}"
            homes[name] = module.__name__
    assert set(FIGURES) <= set(homes) and callable(plots.style.style)
    with pytest.raises(AttributeError, match="no figure 'fig9'"):
        plots.fig9  # noqa: B018


def test_model_names_have_one_definition():
    assert not hasattr(plots, "LABELS")
    for key, text in models.LABELS.items():
        assert plots.label(key) == text
    assert plots.label("random_labels") == "random labels" and plots.label("something_else") == "something_else"
    assert plots.color("random_labels") != plots.color("true_labels") and plots.color("unknown") == "#333333"


def test_norm_vs_error_colours_points_by_key_and_finish_adds_the_profile_caption():
    pts = [{"label": "a", "norm": 10.0, "test_error": 0.05, "key": "true_labels"},
           {"label": "b", "norm": 40.0, "test_error": 0.9, "color": "#000000"}]
    fig = plots.norm_vs_error(pts, "quick")
    ax = fig.axes[0]
    colours = [tuple(c.get_facecolor()[0]) for c in ax.collections]
    assert colours[0] == pytest.approx(matplotlib.colors.to_rgba(plots.color("true_labels")))
    assert colours[1] == pytest.approx((0.0, 0.0, 0.0, 1.0))
    assert any("profile: quick" in t.get_text() for t in fig.texts)
    plt.close(fig)


def test_kernel_ridge_draws_the_reported_line_and_puts_ridge_zero_left():
    rows = [{"ridge": 0.0, "test_error": 0.05, "norm": 40.0}, {"ridge": 0.1, "test_error": 0.04, "norm": 30.0}]
    fig = plots.kernel_ridge(rows, "quick", reported=1.2)
    ax1 = fig.axes[0]
    measured = ax1.lines[0]
    assert list(measured.get_xdata()) == pytest.approx([0.01, 0.1]) and list(measured.get_ydata()) == pytest.approx([5, 4])
    assert any(list(line.get_ydata()) == [1.2, 1.2] for line in ax1.lines[1:])
    plt.close(fig)


def test_figure_modules_mirror_the_chapter_modules():
    from rethinking_lib import chapters

    names = lambda mods: [m.__name__.rsplit(".", 1)[1] for m in mods]  # noqa: E731
    assert names(m for m in plots.MODULES if m is not plots.style) == names(chapters.MODULES)
