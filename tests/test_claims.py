"""claims.table: every claim of the paper, ours beside it; agreement by each claim's criterion, shown beside the
claim; a record that lacks a measurement is reported as missing, not as agreement. Every criterion can fail: each
check is fed a record that should agree and one that should not."""

import pytest

from rethinking_lib import experiments
from rethinking_lib.config.claims import Claim, mean_sd, spread, standard_error
from rethinking_lib.pages import claims

MODELS = ("mlp_1x512", "alexnet_small", "inception_small")
SETTINGS = {m: {"dataset": "mnist5k", "n_test": 256} for m in (*MODELS, "mlp_3x512", "inception_small_nobn")}


def fig1bc_rows(train=1.0, chance=0.10, rel=2.0, errors=(0.07, 0.5, 0.9)):
    return [{"p": p, "train_acc": train if p == 1.0 else 1.0, "test_acc": 1 - e if p < 1.0 else chance,
             "test_error": e if p < 1.0 else 1 - chance, "relative_time": 1.0 if p == 0 else rel, "n_test": 1000}
            for p, e in zip((0.0, 0.5, 1.0), errors, strict=True)]


def fig1bc(every_seed=False, **bad):
    """A fig1bc record: three seeds of each model; ``bad`` changes the MLP's third seed (every seed's)."""
    good, worse = fig1bc_rows(), fig1bc_rows(**bad)
    by_seed = {m: [worse if m == "mlp_1x512" and (every_seed or k == 2) else good for k in range(3)] for m in MODELS}
    return {"result": {"models": {m: rs[0] for m, rs in by_seed.items()}, "by_seed": by_seed}}


def table1(gain=0.01, alexnet_wd_train=0.3, alexnet_seeds=None):
    rows = []
    for m in ("mlp_1x512", "alexnet_small"):
        for crop, wd in ((False, False), (False, True)):
            rows.append({"model": m, "labels": "true", "random_crop": crop, "weight_decay": wd, "fallback": None,
                         "test_acc": 0.9 + (gain if wd else 0.0)})
    section3 = [{"model": m, "train_acc": alexnet_wd_train if m == "alexnet_small" else 1.0}
                for m in ("inception_small", "mlp_1x512", "mlp_3x512", "alexnet_small")]
    by_seed = {r["model"]: [r["train_acc"]] * 3 for r in section3}
    by_seed["alexnet_small"] = alexnet_seeds or by_seed["alexnet_small"]
    return {"config": {"model_settings": SETTINGS}, "result": {"rows": rows, "section3": section3, "section3_by_seed": by_seed}}


def fig2(bn_diff=0.035, gain=0.0):
    seed = {"inception_small": {"final_test_acc": 0.9, "best_test_acc": 0.9 + gain},
            "inception_small_nobn": {"final_test_acc": 0.9 - bn_diff, "best_test_acc": 0.9 - bn_diff}}
    return {"config": {"model_settings": SETTINGS}, "result": {"by_seed": [seed] * 3, "summary": seed}}


def stability(random_gap=0.0105, bound=0.5):
    return {"result": {"convex": {"runs": 10, "bound": [bound],
                                  "true_labels": {"sup_gap": [0.010], "sup_gap_sd": 0.001},
                                  "random_labels": {"sup_gap": [random_gap], "sup_gap_sd": 0.001}}}}


def kernel(err=0.04, ridge_err=0.04, random_err=0.9, gabor_err=0.02, norm_gabor=30.0, n=4000):
    return {"config": {"n_test": 1000}, "result": {"summary": {
        "dataset": "mnist5k", "n": n, "test_error_no_ridge": err, "best_ridge": 0.1, "test_error_best_ridge": ridge_err,
        "test_error_random_labels": random_err, "norm_random_labels": 60.0, "norm_true_labels": 20.0,
        "norm_gabor": norm_gabor, "test_error_gabor": gabor_err}}}


# claim -> (a record that should agree, records that should not)
CASES = {
    "Capacity bounds are vacuous for these networks": (
        {"result": {"rows": [{"bounds": {"finite_class": 800.0, "vc": 1.3}}]}},
        [{"result": {"rows": [{"bounds": {"finite_class": 800.0, "vc": 0.4}}]}}]),
    "Rademacher complexity of the networks is ~1": (
        {"result": {"main": {"mlp_1x512": {"estimate": 0.99, "stderr": 0.01, "draws": 5}, "linear": {"estimate": 0.1}}}},
        [{"result": {"main": {"mlp_1x512": {"estimate": 0.8, "stderr": 0.01, "draws": 5}}}}]),
    "Uniform stability is blind to the labels": (
        stability(), [stability(random_gap=0.02), stability(random_gap=0.010, bound=0.005)]),
    "Networks fit random labels": (fig1bc(), [fig1bc(train=0.95)]),
    "Random-label test accuracy is at chance": (fig1bc(), [fig1bc(chance=0.3), fig1bc(chance=0.0)]),
    "Shuffled pixels, random pixels and Gaussian noise are fitted": (
        {"result": {"loss_threshold": 0.05, "summary": {"steps_to_threshold": {"true_labels": 100, "gaussian": 900}}}},
        [{"result": {"loss_threshold": 0.05, "summary": {"steps_to_threshold": {"true_labels": 100, "gaussian": None}}}}]),
    "Random labels take only a small constant factor longer": (
        fig1bc(), [fig1bc(rel=40.0), fig1bc(every_seed=True, rel=0.8), fig1bc(rel=None)]),
    "Test error rises with label corruption, to chance": (
        fig1bc(), [fig1bc(every_seed=True, errors=(0.07, 0.95, 0.9)),  # falls from p = 0.5 to p = 1
                   fig1bc(errors=(0.07, 0.5, 0.9), chance=0.5)]),  # ends far from chance
    "Explicit regularizers are not necessary": (table1(), [table1(gain=0.3)]),
    "Weight decay does not prevent memorization": (
        table1(), [table1(alexnet_wd_train=1.0), table1(alexnet_seeds=[0.3, 1.0, None])]),
    "Batch norm changes test accuracy by a few points": (fig2(), [fig2(bn_diff=0.15), fig2(bn_diff=-0.08)]),
    "Early stopping gains little": (fig2(), [fig2(gain=0.1)]),
    "2n + d weights represent any labeling": (
        {"result": {"summary": {"n": 10, "d": 4, "params": 24, "params_expected_2n_plus_d": 24,
                                "random_labels_recovered_by_rounding": True}}},
        [{"result": {"summary": {"n": 10, "d": 4, "params": 24, "params_expected_2n_plus_d": 24,
                                 "random_labels_recovered_by_rounding": False}}}]),
    "Kernel interpolation generalizes without regularization": (
        kernel(), [kernel(err=0.3), kernel(err=0.05, ridge_err=0.05, n=60_000)]),
    "A ridge does not improve the Gaussian kernel": (kernel(), [kernel(err=0.08, ridge_err=0.04)]),
    "Kernel interpolation fits random labels, at chance": (kernel(), [kernel(random_err=0.6), kernel(random_err=1.0)]),
    "The norm does not predict test error across features": (
        kernel(), [kernel(norm_gabor=10.0), kernel(gabor_err=0.039)]),
    "SGD on least squares finds the minimum-norm solution": (
        {"result": {"summary": {"sgd_from_zero_rel_dist_to_pinv": 1e-12}}},
        [{"result": {"summary": {"sgd_from_zero_rel_dist_to_pinv": 1e-3}}}]),
}


def test_every_claim_has_a_criterion_and_a_case_that_fails():
    declared = {c.claim for _, c in claims.CLAIMS}
    assert declared == set(CASES), declared ^ set(CASES)  # a new claim needs a record that should not agree
    for _, c in claims.CLAIMS:
        assert len(c.criterion) > 40, c.claim


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_criterion_agrees_with_a_good_record_and_fails_a_bad_one(name):
    check = next(c.check for _, c in claims.CLAIMS if c.claim == name)
    good, bads = CASES[name]
    assert check(good)[2] is True, check(good)
    for bad in bads:
        paper, ours, agrees = check(bad)
        assert agrees is False, (ours, bad)


def test_a_claim_without_a_criterion_is_refused():
    with pytest.raises(ValueError, match="criterion"):
        Claim("c", "2", "fig1bc", lambda rec: ("", "", True), " ")


def test_seed_words_and_standard_errors():
    assert spread([1.0]) == (1.0, 0.0)
    mean, sd = spread([0.9, 0.92, 0.94])
    assert mean == pytest.approx(0.92) and sd == pytest.approx(0.02)
    assert mean_sd([0.9, 0.92, 0.94], "{:.1%}") == "92.0% ± 2.0% (3 seeds)"
    assert mean_sd([0.5]) == "0.500" and mean_sd([1.0, 3.0], "{:+.1f}") == "+2.0 ± 1.4 (2 seeds)"
    assert standard_error(0.1, 900) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="m=0"):
        standard_error(0.1, 0)


def test_one_seed_within_the_noise_cannot_flip_the_chance_claim_but_three_seeds_decide():
    """The chance tolerance shrinks with the seeds: 16% on one seed of 1,000 test images is outside 10% ± 2.8%;
    a mean of 11% over three seeds is inside 10% ± 1.6%."""
    check = next(c.check for _, c in claims.CLAIMS if c.claim == "Random-label test accuracy is at chance")
    one = fig1bc_rows(chance=0.16)
    rec = {"result": {"models": {"mlp_1x512": one}, "by_seed": {"mlp_1x512": [one]}}}
    assert check(rec)[2] is False
    rows = [fig1bc_rows(chance=c) for c in (0.10, 0.11, 0.12)]
    rec = {"result": {"models": {"mlp_1x512": rows[0]}, "by_seed": {"mlp_1x512": rows}}}
    assert check(rec)[2] is True and "(3 seeds)" in check(rec)[1]


def test_agreement_follows_the_measurement_and_a_missing_record_is_not_agreement(monkeypatch):
    recs = {"fig1bc": fig1bc(train=0.6), "pac": CASES["Capacity bounds are vacuous for these networks"][0],
            "minnorm": CASES["SGD on least squares finds the minimum-norm solution"][0]}

    def run(name, profile, **kw):
        if name not in recs:
            raise KeyError(f"no stored {name}")
        return recs[name]

    monkeypatch.setattr(experiments, "run", run)
    rows = {r["claim"]: r for r in claims.table("quick")}
    assert len(rows) == len(claims.CLAIMS)
    assert rows["Networks fit random labels"]["agrees"] is False
    assert "99.3%" in rows["Networks fit random labels"]["paper"]  # MLP 1x512's 99.34% train accuracy, Table 1
    assert "(3 seeds)" in rows["Networks fit random labels"]["ours"]
    assert rows["Random-label test accuracy is at chance"]["agrees"] is True
    assert rows["Capacity bounds are vacuous for these networks"]["agrees"] is True
    assert rows["SGD on least squares finds the minimum-norm solution"]["agrees"] is True
    assert rows["Networks fit random labels"]["criterion"].startswith("every network reaches")
    missing = rows["Kernel interpolation generalizes without regularization"]
    assert missing["agrees"] is None and "not in this build's record" in missing["ours"]


def test_prose_numbers_count_claims_by_agreement():
    rows = [{"agrees": True}, {"agrees": True}, {"agrees": False}, {"agrees": None}]
    assert claims.prose_numbers(rows) == {"cc_claims": 4, "cc_agree": 2, "cc_disagree": 1, "cc_missing": 1}


def test_page_table_shows_the_criterion_links_each_chapter_and_says_the_outcome_in_words():
    rows = [{"claim": "c", "criterion": "k", "section": "2", "chapter": "04_randomization_tests", "paper": "p",
             "ours": "o", "agrees": None},
            {"claim": "d", "criterion": "k", "section": "3", "chapter": "05_regularization", "paper": "p", "ours": "o",
             "agrees": False}]
    page = claims.page_table(rows)
    assert page[0] == {"claim": "c", "criterion (agrees when)": "k", "paper section": "2",
                       "chapter": "[04](04_randomization_tests.ipynb)", "paper": "p", "this build": "o",
                       "outcome": "not measured"}
    assert page[1]["outcome"] == "differs"


def test_each_claim_is_declared_with_the_experiment_it_checks_in_book_order():
    from rethinking_lib import chapters

    for mod in chapters.MODULES:
        for c in getattr(mod, "CLAIMS", []):
            assert c.experiment in mod.EXPERIMENTS, (mod.__name__, c.claim)  # the chapter module that declares it
    pages = [chapter for chapter, _ in claims.CLAIMS]
    book = list(experiments.chapters())
    assert pages == sorted(pages, key=book.index)  # gathered in the book's order
    assert len({c.claim for _, c in claims.CLAIMS}) == len(claims.CLAIMS)


def test_weight_decay_outcome_is_decided_on_every_seed_and_a_mixed_one_says_so():
    check = next(c.check for _, c in claims.CLAIMS if c.claim == "Weight decay does not prevent memorization")
    paper, ours, agrees = check(table1(alexnet_seeds=[0.3, 1.0, None]))
    assert not agrees and "AlexNet (small): fits on 1 of 3 seeds" in ours and "diverged" in ours
    paper, ours, agrees = check(table1(alexnet_wd_train=1.0))
    assert not agrees and "fits (100.0% ± 0.0% (3 seeds) train) - differs" in ours and "fails to converge" in paper
