"""Memorization order (Arpit et al. 2017): clean examples are fitted before corrupted ones."""

from rethinking_lib import experiments
from rethinking_lib.chapters import ch04_memorization as memorization


def test_clean_fitted_before_noisy(results_dir):
    res = experiments.run("memorization", "quick")["result"]
    s = res["summary"]
    assert s["p"] == 0.4
    assert s["clean_epoch_90"] is not None and s["noisy_epoch_90"] is not None
    assert s["clean_epoch_90"] < s["noisy_epoch_90"]
    assert s["clean_first_at_every_p"]
    # test accuracy peaks before the noise is memorized, and memorizing it costs test accuracy
    assert s["best_test_epoch"] < s["noisy_epoch_90"]
    assert s["final_test_acc"] < s["best_test_acc"]


def test_first_epoch_at():
    assert memorization.first_epoch_at([0.1, 0.5, 0.95, 0.99]) == 3
    assert memorization.first_epoch_at([0.1, 0.5]) is None
