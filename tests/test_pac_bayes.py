"""The PAC-Bayes arithmetic against answers known in closed form (no training)."""

import math

import pytest
import torch

from rethinking_lib.theory import pac_bayes


def test_kl_inverse_matches_closed_form_at_zero_error():
    # kl(0 || p) = -log(1 - p), so the inverse at q = 0 is 1 - exp(-c)
    for c in (1e-4, 0.01, 0.3, 2.0):
        assert pac_bayes.kl_inv(0.0, c) == pytest.approx(1 - math.exp(-c), abs=1e-9)


def test_kl_inverse_is_the_inverse():
    for q, c in ((0.03, 0.05), (0.2, 0.01), (0.5, 0.2)):
        p = pac_bayes.kl_inv(q, c)
        assert p >= q
        assert pac_bayes.kl_bernoulli(q, p) == pytest.approx(c, rel=1e-6)
        assert p <= q + math.sqrt(c / 2) + 1e-12  # Pinsker: the McAllester form is never tighter


def test_bound_monotone_in_kl_error_and_m():
    b = [pac_bayes.langford_seeger(0.05, kl, 10_000) for kl in (0, 100, 1_000, 10_000)]
    assert b == sorted(b) and b[0] > 0.05
    assert pac_bayes.langford_seeger(0.02, 500, 10_000) < pac_bayes.langford_seeger(0.08, 500, 10_000)
    assert pac_bayes.langford_seeger(0.05, 500, 50_000) < pac_bayes.langford_seeger(0.05, 500, 5_000)
    assert pac_bayes.kl_inv(0.1, 1e6) == pytest.approx(1.0)  # a huge budget: vacuous


def test_union_penalty_grid():
    j, pen = pac_bayes.union_penalty(0.1 * math.exp(-3.0))  # exactly grid point j = 300
    assert j == 300 and pen == pytest.approx(2 * math.log(300) + math.log(math.pi ** 2 / 6))


def test_gaussian_kl_closed_form():
    mu_q, var_q = torch.tensor([0.5, -1.0], dtype=torch.float64), torch.tensor([0.2, 0.5], dtype=torch.float64)
    expect = sum(0.5 * (v / 0.3 + (m ** 2) / 0.3 - 1 + math.log(0.3 / v)) for m, v in ((0.5, 0.2), (-1.0, 0.5)))
    assert float(pac_bayes.gaussian_kl(mu_q, var_q, torch.zeros(2, dtype=torch.float64), 0.3)) == pytest.approx(expect)
    assert float(pac_bayes.gaussian_kl(mu_q, torch.full((2,), 0.3, dtype=torch.float64), mu_q, 0.3)) == pytest.approx(0)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="empirical error"):
        pac_bayes.kl_inv(1.5, 0.1)
    with pytest.raises(ValueError, match="m >= 2"):
        pac_bayes.budget(1.0, 1)


def test_surrogate_union_term_is_union_penalty_on_the_grid():
    """The posterior optimization minimizes the bound's union-bound cost 2 log j + log(pi^2/6) at a continuous j:
    on every grid point lambda_j = c exp(-j / b) it equals ``union_penalty``'s, small j included (the grid index is
    clamped at 1, not log(c / lambda), which would make j >= b = 100 there)."""
    for j in (1, 2, 5, 37, 99, 100, 250, 800):
        lam = pac_bayes.GRID_C * math.exp(-j / pac_bayes.GRID_B)
        got = float(pac_bayes.union_penalty_smooth(torch.tensor(lam, dtype=torch.float64)))
        want_j, want = pac_bayes.union_penalty(lam * (1 + 1e-12))  # a hair above the grid point: ceil gives j itself
        assert want_j == j and got == pytest.approx(want, rel=1e-9), j


def test_kl_budget_inverts_the_bound():
    for m, bound, e in ((2000, 0.3, 0.0), (400, 0.3, 0.05), (55_000, 0.2, 0.03)):
        kl = pac_bayes.kl_budget(bound, m, emp_error=e)
        assert kl > 0 and pac_bayes.langford_seeger(e, kl, m) == pytest.approx(bound, abs=1e-9)
        assert pac_bayes.langford_seeger(e, 1.1 * kl, m) > bound
    assert pac_bayes.kl_budget(0.3, 15) < 0  # 15 examples cannot give 0.3 with any posterior
    with pytest.raises(ValueError, match="emp_error < bound"):
        pac_bayes.kl_budget(0.1, 100, emp_error=0.2)
