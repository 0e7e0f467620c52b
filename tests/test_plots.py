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


def test_fig1bc_draws_each_models_seed_spread_as_error_bars_and_says_so():
    rows = lambda e: [{"p": p, "seeds": 3, "test_error": v, "test_error_sd": 0.02, "relative_time": 1 + p,  # noqa: E731
                       "relative_time_sd": 0.3} for p, v in ((0.0, 0.1), (1.0, e))]
    res = {"paper": {"relative_time_at_p1": {}, "test_error_at_p0": {}}, "chance_error": 0.9, "models": {},
           "spread": {"mlp_1x512": rows(0.9), "alexnet_small": rows(0.88)}}
    fig = plots.fig1bc(res, "quick")
    bars = [c for c in fig.axes[1].containers if isinstance(c, matplotlib.container.ErrorbarContainer)]
    assert len(bars) == 2 and all(c.has_yerr for c in bars)
    assert any("mean ± sd over 3 seeds" in t.get_text() for t in fig.texts)
    assert any("(3 seeds)" in t.get_text() for t in fig.axes[1].get_legend().get_texts())
    plt.close(fig)


def test_fig2b_draws_a_band_of_one_sd_around_the_seed_mean():
    curve = {"epoch": [1, 2], "train_acc": [0.5, 1.0], "test_acc": [0.4, 0.8], "best_test_acc": [0.4, 0.8]}
    band = {"epoch": [1, 2], "seeds": 3, "train_acc": [0.5, 1.0], "train_acc_sd": [0.1, 0.0],
            "test_acc": [0.4, 0.8], "test_acc_sd": [0.05, 0.02]}
    fig = plots.fig2b({"curves": {"inception_small": curve}, "bands": {"inception_small": band}}, "quick")
    ax = fig.axes[0]
    filled = [c for c in ax.collections if isinstance(c, matplotlib.collections.PolyCollection)]
    assert len(filled) == 2  # the cumulative best, and the band around the mean test accuracy
    test_band = filled[-1].get_paths()[0].vertices[:, 1]
    assert min(test_band) == pytest.approx(0.35) and max(test_band) == pytest.approx(0.82)
    assert any("mean ± sd over 3 seeds" in t.get_text() for t in fig.texts)
    plt.close(fig)
