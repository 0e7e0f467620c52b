"""claims.table: every claim of the paper, ours beside it; agreement by each claim's criterion; a record that lacks
a measurement is reported as missing, not as agreement."""

import pytest

from rethinking_lib import experiments
from rethinking_lib.pages import claims


def fake_records(fit_random: float):
    rows = lambda acc: [{"p": 0.0, "train_acc": 1.0, "test_acc": 0.93, "test_error": 0.07, "relative_time": 1.0},  # noqa: E731
                        {"p": 1.0, "train_acc": acc, "test_acc": 0.1, "test_error": 0.9, "relative_time": 2.5}]
    return {
        "fig1bc": {"result": {"models": {"mlp_1x512": rows(fit_random)}}},
        "pac": {"result": {"rows": [{"bounds": {"finite_class": 800.0, "vc": 1.3}}]}},
        "minnorm": {"result": {"summary": {"sgd_from_zero_rel_dist_to_pinv": 1e-12}}},
    }


@pytest.mark.parametrize("fit_random, agrees", [(1.0, True), (0.6, False)])
def test_agreement_follows_the_measurement(monkeypatch, fit_random, agrees):
    recs = fake_records(fit_random)

    def run(name, profile, **kw):
        if name not in recs:
            raise KeyError(f"no stored {name}")
        return recs[name]

    monkeypatch.setattr(experiments, "run", run)
    rows = {r["claim"]: r for r in claims.table("quick")}
    assert len(rows) == len(claims.CLAIMS)
    assert rows["Networks fit random labels"]["agrees"] is agrees
    assert "99.3%" in rows["Networks fit random labels"]["paper"]  # MLP 1x512's 99.34% train accuracy, Table 1
    assert rows["Random-label test accuracy is at chance"]["agrees"] is True
    assert rows["Capacity bounds are vacuous for these networks"]["agrees"] is True
    assert rows["SGD on least squares finds the minimum-norm solution"]["agrees"] is True
    missing = rows["Kernel interpolation generalizes without regularization"]
    assert missing["agrees"] is None and "not in this build's record" in missing["ours"]


def test_prose_numbers_count_claims_by_agreement():
    rows = [{"agrees": True}, {"agrees": True}, {"agrees": False}, {"agrees": None}]
    assert claims.prose_numbers(rows) == {"cc_claims": 4, "cc_agree": 2, "cc_disagree": 1, "cc_missing": 1}


def test_page_table_links_each_chapter_and_says_agreement_in_words():
    rows = [{"claim": "c", "section": "2", "chapter": "04_randomization_tests", "paper": "p", "ours": "o", "agrees": None}]
    assert claims.page_table(rows) == [{"claim": "c", "paper section": "2", "chapter": "[04](04_randomization_tests.ipynb)",
                                        "paper": "p", "this build": "o", "agrees": "not measured"}]
def test_each_claim_is_declared_with_the_experiment_it_checks_in_book_order():
    from rethinking_lib import chapters

    for mod in chapters.MODULES:
        for c in getattr(mod, "CLAIMS", []):
            assert c.experiment in mod.EXPERIMENTS, (mod.__name__, c.claim)  # the chapter module that declares it
    pages = [chapter for chapter, _ in claims.CLAIMS]
    book = list(experiments.chapters())
    assert pages == sorted(pages, key=book.index)  # gathered in the book's order
    assert len({c.claim for _, c in claims.CLAIMS}) == len(claims.CLAIMS)
