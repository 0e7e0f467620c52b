"""Chapter 8's figures: margin distributions and each measure against the corruption level."""

from __future__ import annotations

import numpy as np

from . import style


def _p_color(p: float) -> str:
    import matplotlib

    return matplotlib.colormaps["viridis"](0.1 + 0.8 * p)


def margin_distributions(rows: list[dict], profile: str, seed: int | None = None):
    """Bartlett et al.'s figure: distributions of normalized margins, one curve per corruption level p."""
    fig, ax = style.figure()
    seed = min(r["seed"] for r in rows) if seed is None else seed
    for r in sorted((r for r in rows if r["seed"] == seed), key=lambda r: r["p"]):
        q = np.asarray(r["normalized_margin_quantiles"])
        key = {0.0: "true_labels", 1.0: "random_labels"}.get(r["p"])
        ax.plot(q, np.linspace(0, 1, len(q)), color=style.color(key) if key else _p_color(r["p"]),
                label=f"p = {r['p']:g}" + (f" ({style.label(key)})" if key else ""))
    ax.axvline(0, color="#999999", lw=0.8)
    ax.set(xlabel="normalized margin  γᵢ / (R_A ‖X‖_F / n)", ylabel="fraction of training examples below",
           title="Spectrally-normalized margins (CDF)")
    ax.legend()
    return style.finish(fig, profile)


def measures_vs_p(by_p: list[dict], measures: list[str], profile: str):
    """Each measure against p, scaled to its value at p = 0 (so they share one axis); beside it the errors and both
    PAC-Bayes bounds (clipped at 1) with the coin-flip line 0.5 of the binary task."""
    fig, axes = style.figure(2)
    ps = [r["p"] for r in by_p]
    for m in measures:
        base = by_p[0][m]
        axes[0].plot(ps, [r[m] / base for r in by_p], marker="o", label=m.replace("_", " "))
    axes[0].set(xlabel="label corruption p", ylabel="measure / its value at p = 0", yscale="log",
                title="Measures against p")
    axes[0].legend(fontsize=7)
    axes[1].plot(ps, [r["test_error"] for r in by_p], marker="o", color=style.color("random_labels"), label="test error")
    axes[1].plot(ps, [r["train_error"] for r in by_p], marker="o", color=style.color("true_labels"), label="train error")
    axes[1].plot(ps, [min(r["pac_bayes_bound"], 1.0) for r in by_p], marker="s", ls="--", color="#555555",
                 label="PAC-Bayes bound (prior at init)")
    axes[1].plot(ps, [min(r["pac_bayes_bound_data_prior"], 1.0) for r in by_p], marker="s", ls=":", color="#555555",
                 label="PAC-Bayes bound (data-dependent prior)")
    axes[1].axhline(0.5, color="#999999", lw=0.8, ls="-.", label="coin flip (0.5): a bound at or above is vacuous")
    axes[1].set(xlabel="label corruption p", ylabel="0-1 error", ylim=(-0.02, 1.05), title="Errors and bounds")
    axes[1].legend(fontsize=7)
    return style.finish(fig, profile)
