"""Chapter 4's memorization figures: clean vs corrupted examples over training."""

from __future__ import annotations

import numpy as np

from . import style


def memorization_curves(r: dict, profile: str, ax=None):
    """Per-epoch training accuracy on clean and on corrupted examples, and test accuracy, at one p."""
    import matplotlib.pyplot as plt

    own = ax is None
    if own:
        fig, ax = style.figure()
    ep = np.arange(1, len(r["test_acc"]) + 1)
    ax.plot(ep, r["clean_train_acc"], color=style.color("true_labels"), label="train acc., clean examples")
    ax.plot(ep, r["noisy_train_acc"], color=style.color("random_labels"), label="train acc., corrupted examples")
    ax.plot(ep, r["test_acc"], color="#333333", ls="--", label="test acc.")
    for key, c in (("clean_epoch_90", "true_labels"), ("noisy_epoch_90", "random_labels")):
        if r[key]:
            ax.axvline(r[key], color=style.color(c), lw=0.8, ls=":")
    ax.axvline(r["best_test_epoch"], color="#333333", lw=0.8, ls=":")
    ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02),
           title=f"p = {r['p']:g}: {r['noisy_fraction']:.0%} of training labels wrong")
    ax.legend(loc="lower right")
    if own:
        out = style.finish(fig, profile)
        plt.close(fig)
        return out
    return ax


def memorization_widget(per_p: list[dict], profile: str, selected: int = 1):
    """A slider over p flipping between precomputed memorization plots (works in the static HTML too)."""
    return style.figure_slider((memorization_curves(r, profile) for r in per_p), [f"{r['p']:g}" for r in per_p],
                               selected=selected, dpi=80)
