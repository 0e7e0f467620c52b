"""Every claim of the paper beside what this build measured, and whether the two agree.

Each claim reads the stored record of the experiment that measures it through ``experiments.run(name, profile)``
(after the chapters ran, that loads from the results store; otherwise it runs the experiment), takes the paper's
value from ``paper`` and states its agreement criterion in words. The quick profile runs on digits, not CIFAR-10,
so most criteria compare the *phenomenon* (fitted or not, at chance or not, which way a number moves), not the
paper's number; the criterion column says which.

    >>> from rethinking_lib import claims
    >>> rows = claims.table("quick")     # one dict per claim
"""

from __future__ import annotations

from collections.abc import Callable

from .. import experiments, paper
from ..engine import models

CHANCE_ACC = 1 - paper.CHANCE_ERROR


def _name(model: str) -> str:
    return models.LABELS.get(model, model)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _table1(model: str, crop: bool, wd: bool, labels: str) -> tuple[float, float]:
    for m, c, w, lab, train, test in paper.TABLE1:
        if (m, c, w, lab) == (model, crop, wd, labels):
            return train / 100, test / 100
    raise KeyError((model, crop, wd, labels))


def _fig1bc(rec) -> dict:
    return rec["result"]["models"]


def random_labels_fitted(get) -> tuple[str, str, bool]:
    models = _fig1bc(get("fig1bc"))
    ours = {m: next(r for r in rows if r["p"] == 1.0)["train_acc"] for m, rows in models.items()}
    reported = min(_table1(m, False, False, "random")[0] for m in ("inception_small", "alexnet_small", "mlp_1x512"))
    return (f"train accuracy >= {_pct(reported)} (Table 1)", ", ".join(f"{_name(m)}: {_pct(a)}" for m, a in ours.items()),
            all(a >= 0.99 for a in ours.values()))


def random_labels_at_chance(get) -> tuple[str, str, bool]:
    models = _fig1bc(get("fig1bc"))
    ours = {m: next(r for r in rows if r["p"] == 1.0)["test_acc"] for m, rows in models.items()}
    accs = [_table1(m, False, False, "random")[1] for m in ("inception_small", "alexnet_small", "mlp_1x512")]
    return (f"test accuracy {_pct(min(accs))} to {_pct(max(accs))} (Table 1)",
            ", ".join(f"{_name(m)}: {_pct(a)}" for m, a in ours.items()), all(abs(a - CHANCE_ACC) <= 0.05 for a in ours.values()))


def noise_inputs_fitted(get) -> tuple[str, str, bool]:
    s = get("fig1a")["result"]["summary"]
    steps = s["steps_to_100"]
    return ("every condition reaches ~zero training loss (Figure 1a)",
            ", ".join(f"{c}: {v if v is not None else 'not fitted'} steps" for c, v in steps.items()),
            bool(s["all_memorized"]))


def small_slowdown(get) -> tuple[str, str, bool]:
    models = _fig1bc(get("fig1bc"))
    ours = {m: next(r for r in rows if r["p"] == 1.0)["relative_time"] for m, rows in models.items()}
    rep = paper.FIG1B_RATIO_AT_1
    return (", ".join(f"{_name(m)}: {v:g}x" for m, v in rep.items()) + " (Figure 1b, approximate)",
            ", ".join(f"{_name(m)}: {v:.2f}x" if v else f"{_name(m)}: -" for m, v in ours.items()),
            all(v is not None and 1.0 <= v <= 10 for v in ours.values()))


def error_rises_to_chance(get) -> tuple[str, str, bool]:
    models = _fig1bc(get("fig1bc"))
    ok, parts = True, []
    for m, rows in models.items():
        errs = [r["test_error"] for r in sorted(rows, key=lambda r: r["p"])]
        ok &= all(b >= a - 0.03 for a, b in zip(errs, errs[1:], strict=False)) and errs[-1] >= paper.CHANCE_ERROR - 0.05
        parts.append(f"{_name(m)}: {errs[0]:.2f} -> {errs[-1]:.2f}")
    rep = ", ".join(f"{_name(m)}: {v:.2f}" for m, v in paper.FIG1C_ERROR_AT_0.items())
    return f"test error from ({rep}) at p = 0 to 0.9 at p = 1 (Figure 1c)", "; ".join(parts), ok


def regularizers_not_necessary(get) -> tuple[str, str, bool]:
    rows = [r for r in get("table1")["result"]["rows"] if r["labels"] == "true"]
    ours, rep = {}, {}
    for m in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == m]
        plain = next(r["test_acc"] for r in mine if not r["random_crop"] and not r["weight_decay"])
        ours[m] = max(r["test_acc"] for r in mine) - plain
        theirs = [t for mm, c, w, lab, _, t in paper.TABLE1 if mm == m and lab == "true"]
        rep[m] = (max(theirs) - _table1(m, False, False, "true")[1] * 100) / 100
    pts = ", ".join(f"{_name(m)}: {100 * v:.1f} pts" for m, v in rep.items())
    return ("best regularized minus unregularized test accuracy: " + pts,
            ", ".join(f"{_name(m)}: {100 * v:.1f} pts" for m, v in ours.items()), all(v <= 0.10 for v in ours.values()))


def weight_decay_still_memorizes(get) -> tuple[str, str, bool]:
    wd = get("table1")["result"]["summary"]["weight_decay_random_labels"]
    claim = paper.SECTION3_WEIGHT_DECAY_RANDOM
    ok = all(acc >= 0.99 for m, acc in wd.items() if claim.get(m) == "fits")
    return (", ".join(f"{_name(m)}: {v}" for m, v in claim.items()) + " (Section 3)",
            ", ".join(f"{_name(m)}: {_pct(a)} train" for m, a in wd.items()), ok)


def batch_norm_small_effect(get) -> tuple[str, str, bool]:
    s = get("fig2")["result"]["summary"]
    a, b = s["inception_small"]["final_test_acc"], s["inception_small_nobn"]["final_test_acc"]
    lo, hi = paper.FIG2_BN_TEST_ACC_DIFFERENCE
    return (f"batch norm changes test accuracy by {100 * lo:.0f}-{100 * hi:.0f} points (Figure 2b)",
            f"with BN {_pct(a)}, without {_pct(b)}: {100 * (a - b):+.1f} points", abs(a - b) <= 0.10)


def early_stopping_small_gain(get) -> tuple[str, str, bool]:
    s = get("fig2")["result"]["summary"]
    gains = {m: v["best_test_acc"] - v["final_test_acc"] for m, v in s.items()}
    return ("early stopping would not help much on CIFAR-10 (Figure 2b)",
            ", ".join(f"{_name(m)}: +{100 * g:.1f} pts" for m, g in gains.items()), all(g <= 0.03 for g in gains.values()))


def theorem1_fits_any_labels(get) -> tuple[str, str, bool]:
    s = get("theorem1")["result"]["summary"]
    ok = s["params"] == s["params_expected_2n_plus_d"] and bool(s["random_labels_recovered_by_rounding"])
    return ("a 2-layer ReLU net with 2n + d weights represents any labeling (Theorem 1, a proof)",
            f"n = {s['n']:,}, d = {s['d']}: {s['params']:,} weights, random labels "
            f"{'recovered' if s['random_labels_recovered_by_rounding'] else 'not recovered'}", ok)


def sgd_min_norm(get) -> tuple[str, str, bool]:
    s = get("minnorm")["result"]["summary"]
    d = s["sgd_from_zero_rel_dist_to_pinv"]
    return ("SGD from zero on least squares converges to the minimum-norm solution (Section 5, a proof)",
            f"relative distance to X+y: {d:.1e}", d <= 1e-6)


def kernel_interpolation_generalizes(get) -> tuple[str, str, bool]:
    s = get("kernel")["result"]["summary"]
    reported = paper.KERNEL_TEST_ERROR["mnist_gaussian_pixels"]
    return (f"exact Gaussian-kernel interpolation on MNIST: {reported}% test error (60,000 images)",
            f"{_pct(s['test_error_no_ridge'])} on {s['n']:,} {s['dataset']} images", s["test_error_no_ridge"] <= 0.10)


def ridge_does_not_help(get) -> tuple[str, str, bool]:
    s = get("kernel")["result"]["summary"]
    gain = s["test_error_no_ridge"] - s["test_error_best_ridge"]
    return ("adding regularization does not improve the Gaussian-kernel interpolant (Section 5)",
            f"best ridge {s['best_ridge']:g}: {_pct(s['test_error_best_ridge'])} vs {_pct(s['test_error_no_ridge'])} without",
            gain <= 0.005)


def kernel_random_labels(get) -> tuple[str, str, bool]:
    s = get("kernel")["result"]["summary"]
    return ("the same kernel fits random labels exactly, tests at chance (Section 5)",
            f"test error {_pct(s['test_error_random_labels'])}, norm {s['norm_random_labels'] / s['norm_true_labels']:.1f}x "
            "the true-label one", s["test_error_random_labels"] >= paper.CHANCE_ERROR - 0.05)


def norm_not_predictive(get) -> tuple[str, str, bool]:
    s = get("kernel")["result"]["summary"]
    if "norm_gabor" not in s:
        raise KeyError("norm_gabor")
    ok = s["test_error_gabor"] < s["test_error_no_ridge"] and s["norm_gabor"] > s["norm_true_labels"]
    n = paper.KERNEL_NORM
    e = paper.KERNEL_TEST_ERROR
    return (f"Gabor features: error {e['mnist_gaussian_pixels']}% -> {e['mnist_gabor']}% while the norm rises "
            f"~{n['mnist_pixels']:g} -> ~{n['mnist_gabor']:g}",
            f"error {_pct(s['test_error_no_ridge'])} -> {_pct(s['test_error_gabor'])}, "
            f"norm {s['norm_true_labels']:.1f} -> {s['norm_gabor']:.1f}",
            ok)


def rademacher_near_one(get) -> tuple[str, str, bool]:
    main = get("rademacher")["result"]["main"]
    nets = {m: r["estimate"] for m, r in main.items() if m not in ("linear", "linear_norm")}
    return ("networks that fit random labels have Rademacher complexity ~1 (Section 2.2, argued)",
            ", ".join(f"{_name(m)}: {v:.3f}" for m, v in nets.items()), all(v >= 0.95 for v in nets.values()))


def capacity_bounds_vacuous(get) -> tuple[str, str, bool]:
    rows = get("pac")["result"]["rows"]
    low = min(min(r["bounds"]["finite_class"], r["bounds"]["vc"]) for r in rows)
    return ("uniform-convergence bounds cannot explain generalization here (Section 2.2, argued)",
            f"smallest finite-class / VC bound: {low:.3g}", low >= 1)


def stability_blind_to_labels(get) -> tuple[str, str, bool]:
    cv = get("stability")["result"]["convex"]
    t, r = cv["true_labels"]["sup_gap"][-1], cv["random_labels"]["sup_gap"][-1]
    return ("uniform stability is a property of the algorithm alone (Section 2.2, argued)",
            f"one HRS bound {cv['bound'][-1]:.3f} for both labelings; measured {t:.4f} (true), {r:.4f} (random)",
            max(t, r) <= cv["bound"][-1])


# (claim, paper section, chapter page, function)
CLAIMS: list[tuple[str, str, str, Callable]] = [
    ("Networks fit random labels", "2, Table 1", "04_randomization_tests", random_labels_fitted),
    ("Random-label test accuracy is at chance", "2, Table 1", "04_randomization_tests", random_labels_at_chance),
    ("Shuffled pixels, random pixels and Gaussian noise are fitted", "2, Figure 1a", "04_randomization_tests",
     noise_inputs_fitted),
    ("Random labels take only a small constant factor longer", "2, Figure 1b", "04_randomization_tests", small_slowdown),
    ("Test error rises with label corruption, to chance", "2, Figure 1c", "04_randomization_tests", error_rises_to_chance),
    ("Capacity bounds are vacuous for these networks", "2.2", "01_pac_learning", capacity_bounds_vacuous),
    ("Rademacher complexity of the networks is ~1", "2.2", "02_rademacher", rademacher_near_one),
    ("Uniform stability is blind to the labels", "2.2", "03_stability", stability_blind_to_labels),
    ("Explicit regularizers are not necessary", "3, Table 1", "05_regularization", regularizers_not_necessary),
    ("Weight decay does not prevent memorization", "3", "05_regularization", weight_decay_still_memorizes),
    ("Batch norm changes test accuracy by a few points", "3, Figure 2b", "05_regularization", batch_norm_small_effect),
    ("Early stopping gains little", "3, Figure 2b", "05_regularization", early_stopping_small_gain),
    ("2n + d weights represent any labeling", "4, Theorem 1", "06_expressivity", theorem1_fits_any_labels),
    ("SGD on least squares finds the minimum-norm solution", "5", "07_implicit_regularization", sgd_min_norm),
    ("Kernel interpolation generalizes without regularization", "5", "07_implicit_regularization",
     kernel_interpolation_generalizes),
    ("A ridge does not improve the Gaussian kernel", "5", "07_implicit_regularization", ridge_does_not_help),
    ("Kernel interpolation fits random labels, at chance", "5", "07_implicit_regularization", kernel_random_labels),
    ("The norm does not predict test error across features", "5", "07_implicit_regularization", norm_not_predictive),
]


def table(profile: str = "auto", *, seed: int = 0, out=None) -> list[dict]:
    """One row per claim: {"claim", "section", "chapter", "paper", "ours", "agrees"}.

    ``agrees`` is True / False by the criterion stated in each claim's function, or None when this build's record
    lacks the measurement (``ours`` then says what is missing)."""
    cache: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in cache:
            cache[name] = experiments.run(name, profile, seed=seed, out=out, progress=False)
        return cache[name]

    rows = []
    for claim, section, chapter, fn in CLAIMS:
        try:
            reported, ours, agrees = fn(get)
            agrees = bool(agrees)
        except (KeyError, TypeError, StopIteration, IndexError) as e:
            reported, ours, agrees = "-", f"not in this build's record ({type(e).__name__}: {e})", None
        rows.append({"claim": claim, "section": section, "chapter": chapter, "paper": reported, "ours": ours,
                     "agrees": agrees})
    return rows


def page_table(rows: list[dict]) -> list[dict]:
    """``table``'s rows as the conclusion shows them: the chapter as a link to its page, agreement in words."""
    mark = {True: "yes", False: "no", None: "not measured"}
    return [{"claim": r["claim"], "paper section": r["section"], "chapter": f"[{r['chapter'][:2]}]({r['chapter']}.ipynb)",
             "paper": r["paper"], "this build": r["ours"], "agrees": mark[r["agrees"]]} for r in rows]


def prose_numbers(rows: list[dict]) -> dict:
    """The numbers the conclusion's prose quotes (glued into the text): claims, and how many agree, disagree, or
    were not measured by this build."""
    return {"cc_claims": len(rows), "cc_agree": sum(r["agrees"] is True for r in rows),
            "cc_disagree": sum(r["agrees"] is False for r in rows), "cc_missing": sum(r["agrees"] is None for r in rows)}
