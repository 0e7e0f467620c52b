"""Figures of the chapter "What does tell them apart?" and of the memorization / double-descent sections,
drawn in the book's style (``plots.figure``, ``plots.finish``, the shared colours)."""

from __future__ import annotations

import numpy as np

from . import plots


def _p_color(p: float) -> str:
    import matplotlib

    return matplotlib.colormaps["viridis"](0.1 + 0.8 * p)


def margin_distributions(rows: list[dict], profile: str, seed: int | None = None):
    """Bartlett et al.'s figure: distributions of normalized margins, one curve per corruption level p."""
    fig, ax = plots.figure()
    seed = min(r["seed"] for r in rows) if seed is None else seed
    for r in sorted((r for r in rows if r["seed"] == seed), key=lambda r: r["p"]):
        q = np.asarray(r["normalized_margin_quantiles"])
        key = {0.0: "true_labels", 1.0: "random_labels"}.get(r["p"])
        ax.plot(q, np.linspace(0, 1, len(q)), color=plots.color(key) if key else _p_color(r["p"]),
                label=f"p = {r['p']:g}" + (f" ({plots.label(key)})" if key else ""))
    ax.axvline(0, color="#999999", lw=0.8)
    ax.set(xlabel="normalized margin  γᵢ / (R_A ‖X‖_F / n)", ylabel="fraction of training examples below",
           title="Spectrally-normalized margins (CDF)")
    ax.legend()
    return plots.finish(fig, profile)


def measures_vs_p(by_p: list[dict], measures: list[str], profile: str):
    """Each measure against p, scaled to its value at p = 0 (so they share one axis), with the test error."""
    fig, axes = plots.figure(2)
    ps = [r["p"] for r in by_p]
    for m in measures:
        base = by_p[0][m]
        axes[0].plot(ps, [r[m] / base for r in by_p], marker="o", label=m.replace("_", " "))
    axes[0].set(xlabel="label corruption p", ylabel="measure / its value at p = 0", yscale="log",
                title="Measures grow with p")
    axes[0].legend(fontsize=7)
    axes[1].plot(ps, [r["test_error"] for r in by_p], marker="o", color=plots.color("random_labels"), label="test error")
    axes[1].plot(ps, [r["train_error"] for r in by_p], marker="o", color=plots.color("true_labels"), label="train error")
    axes[1].plot(ps, [min(r["pac_bayes_bound"], 1.0) for r in by_p], marker="s", ls="--", color="#555555",
                 label="PAC-Bayes bound (prior at init)")
    axes[1].plot(ps, [r["pac_bayes_bound_data_prior"] for r in by_p], marker="s", ls=":", color="#555555",
                 label="PAC-Bayes bound (data-dependent prior)")
    axes[1].set(xlabel="label corruption p", ylabel="0-1 error", ylim=(-0.02, 1.05), title="Errors and bounds")
    axes[1].legend(fontsize=7)
    return plots.finish(fig, profile)


def memorization_curves(r: dict, profile: str, ax=None):
    """Per-epoch training accuracy on clean and on corrupted examples, and test accuracy, at one p."""
    import matplotlib.pyplot as plt

    own = ax is None
    if own:
        fig, ax = plots.figure()
    ep = np.arange(1, len(r["test_acc"]) + 1)
    ax.plot(ep, r["clean_train_acc"], color=plots.color("true_labels"), label="train acc., clean examples")
    ax.plot(ep, r["noisy_train_acc"], color=plots.color("random_labels"), label="train acc., corrupted examples")
    ax.plot(ep, r["test_acc"], color="#333333", ls="--", label="test acc.")
    for key, c in (("clean_epoch_90", "true_labels"), ("noisy_epoch_90", "random_labels")):
        if r[key]:
            ax.axvline(r[key], color=plots.color(c), lw=0.8, ls=":")
    ax.axvline(r["best_test_epoch"], color="#333333", lw=0.8, ls=":")
    ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02),
           title=f"p = {r['p']:g}: {r['noisy_fraction']:.0%} of training labels wrong")
    ax.legend(loc="lower right")
    if own:
        out = plots.finish(fig, profile)
        plt.close(fig)
        return out
    return ax


def memorization_widget(per_p: list[dict], profile: str, selected: int = 1):
    """A slider over p flipping between precomputed memorization plots (works in the static HTML too)."""
    return plots.figure_slider((memorization_curves(r, profile) for r in per_p), [f"{r['p']:g}" for r in per_p],
                               selected=selected, dpi=80)


def double_descent_features(rows: list[dict], n_train: int, ridge: float, profile: str):
    """Test error against the number of random features, min-norm and ridge, clean and noisy labels."""
    fig, ax = plots.figure()
    D = [r["features"] for r in rows]
    for labels, key in (("clean", "true_labels"), ("noisy", "random_labels")):
        ax.plot(D, [r[f"{labels}_minnorm"] for r in rows], marker="o", color=plots.color(key),
                label=f"min-norm, {labels} labels")
        ax.plot(D, [r[f"{labels}_ridge"] for r in rows], ls="--", color=plots.color(key),
                label=f"ridge {ridge:g}, {labels} labels")
    ax.axvline(n_train, color="#999999", lw=0.8, ls=":", label=f"D = n = {n_train:,}")
    ax.set(xscale="log", xlabel="number of random features D", ylabel="test error", title="Double descent in D")
    ax.legend(fontsize=8)
    return plots.finish(fig, profile)
