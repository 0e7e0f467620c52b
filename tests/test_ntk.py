"""The ntk chapter: H-infinity's closed form and the predicted residual are right, and the quick run shows what the
chapter claims (label energy falls with p; predicted and measured training agree; complexity, test error, time to
fit and distance from initialization rise with p)."""

import numpy as np
import pytest

from rethinking_lib import experiments
from rethinking_lib.theory import ntk

QUICK = experiments.get("ntk").base("quick")
CURVE_TOLERANCE = 0.05   # max |measured - predicted| of ||y - u(t)||^2 / n over every step, p and seed
STEPS_TOLERANCE = 0.25   # |measured - predicted| steps to fit, relative to the predicted, per p (seed means)


def unit_data(n=40, d=12, seed=0):
    rng = np.random.default_rng(seed)
    return ntk.unit_rows(rng.standard_normal((n, d))), np.sign(rng.standard_normal(n))


def test_closed_form_matches_monte_carlo_over_first_layer_weights():
    x, _ = unit_data()
    h = ntk.h_infinity(x)
    mc = ntk.h_monte_carlo(x, m=200_000, seed=1)
    assert np.abs(mc - h).max() < 0.01   # the MC error at m = 200,000 is about 1/sqrt(m) ~ 0.002
    assert np.allclose(np.diag(h), 0.5)  # x.x = 1: (pi - 0) / (2 pi)
    assert np.linalg.eigvalsh(h).min() > 0


def test_predicted_residual_is_gradient_descent_on_the_linearized_model():
    x, y = unit_data()
    h = ntk.h_infinity(x)
    lam, v = ntk.spectrum(h)
    eta, u0 = 1.0 / lam[0], 0.1 * np.random.default_rng(2).standard_normal(len(y))
    u, res = u0.copy(), []
    for _ in range(60):  # GD on 0.5 ||y - u||^2 for u = u0 + J (w - w0), J J^T = H: u <- u - eta H (u - y)
        res.append(float(np.sum((y - u) ** 2)))
        u = u - eta * h @ (u - y)
    assert np.allclose(ntk.predicted_residual(lam, v, y, eta, np.arange(60), u0=u0), res, rtol=1e-9)


def test_complexity_solve_and_the_singular_error_naming_rows():
    x, y = unit_data()
    h = ntk.h_infinity(x)
    assert ntk.complexity(h, y, x) == pytest.approx(np.sqrt(2 * y @ np.linalg.solve(h, y) / len(y)))
    dup = np.vstack([x, x[3:4]])
    with pytest.raises(ntk.SingularKernel, match=r"\(3, 40\)"):
        ntk.complexity(ntk.h_infinity(dup), np.append(y, y[3]), dup)


def test_torch_float64_path_agrees_with_numpy():
    """The device path (torch, float64) of H-infinity, the spectrum and the Cholesky solve gives numpy's numbers
    (here on the CPU)."""
    x, y = unit_data()
    h = ntk.h_infinity(x)
    assert np.allclose(ntk.h_infinity(x, device="cpu"), h, rtol=1e-12, atol=1e-15)
    assert np.allclose(ntk.h_infinity(x[:7], x, device="cpu"), h[:7], rtol=1e-12, atol=1e-15)
    (lam, v), (lam_t, v_t) = ntk.spectrum(h), ntk.spectrum(h, device="cpu")
    assert np.allclose(lam, lam_t) and np.allclose(np.abs(v.T @ v_t).diagonal(), 1.0)
    assert ntk.complexity(h, y, x, device="cpu") == pytest.approx(ntk.complexity(h, y, x), rel=1e-10)
    dup = np.vstack([x, x[5:6]])
    with pytest.raises(ntk.SingularKernel, match=r"\(5, 40\)"):
        ntk.solve(ntk.h_infinity(dup), np.ones(41), dup, device="cpu")


@pytest.fixture(scope="module")
def result(results_dir):
    return experiments.run("ntk", "quick")["result"]


def test_summary_has_the_named_keys(result):
    s = result["summary"]
    for key in ("ps", "complexity", "bound", "test_error", "predicted_steps_to_fit", "measured_steps_to_fit",
                "top_eigvec_label_energy"):
        assert len(s[key]) == len(QUICK["ps"]), key
    assert {"complexity_vs_test_error", "complexity_vs_measured_steps"} <= set(s["kendall_tau"])
    assert len(QUICK["seeds"]) >= 3


def test_label_energy_on_top_eigenvectors_falls_with_p(result):
    e = result["summary"]["top_eigvec_label_energy"]
    assert all(a > b for a, b in zip(e, e[1:], strict=False))
    assert e[0] > 0.5 > 0.2 > e[-1]  # random labels: near the 10% an even spread would give


def test_predicted_and_measured_training_agree(result):
    s = result["summary"]
    assert s["max_curve_gap"] < CURVE_TOLERANCE
    pred, meas = s["predicted_steps_to_fit"], s["measured_steps_to_fit"]
    assert np.argsort(pred).tolist() == np.argsort(meas).tolist()  # the same ordering over p
    assert all(abs(m - p) <= STEPS_TOLERANCE * p for p, m in zip(pred, meas, strict=True))
    assert meas[-1] > 1.5 * meas[0]  # random labels are fitted slower


def test_complexity_and_test_error_rise_with_p(result):
    s = result["summary"]
    assert s["kendall_tau"]["complexity_vs_test_error"] >= 0.8
    assert s["kendall_tau"]["complexity_vs_measured_steps"] >= 0.8
    assert all(a < b for a, b in zip(s["complexity"], s["complexity"][1:], strict=False))
    assert s["test_error"][-1] > 0.4 > 0.15 > s["test_error"][0]


def test_distance_from_initialization_rises_with_p(result):
    d = result["summary"]["distance"]
    assert all(a < b for a, b in zip(d, d[1:], strict=False))


def test_paper_networks_train_nothing(results_dir, monkeypatch):
    from rethinking_lib.chapters import ch09_ntk

    monkeypatch.setenv("RETHINKING_NO_TRAIN", "1")
    res = ch09_ntk.paper_networks("quick")  # fig1bc is not in this store: nothing is trained, the page says so
    assert res["declared"] > 0 and res["stored"] == len(res["rows"])
    if not res["rows"]:
        assert "Not measured here" in ch09_ntk.paper_networks_text(res)


def test_paper_networks_rank_the_stored_labelings(results_dir, monkeypatch):
    """With chapter 4's MLP runs in the store (their records stood in here: training them is chapter 4's job),
    the complexity of their real labelings rises with p and is ranked against the stored measurements."""
    from rethinking_lib.chapters import ch09_ntk
    from rethinking_lib.engine import runs

    measured = {None: (0.1, 5), 0.5: (0.5, 9)}  # (test error, epochs to fit) by the spec's p; random labels: (0.9, 14)

    def record(s, out=None):
        error, epochs = (0.9, 14) if s["condition"] == "random_labels" else measured[s["p"]]
        return {"result": {"test_acc": 1 - error, "epochs_to_100": epochs}}

    monkeypatch.setattr(runs, "stored", lambda s, out=None: s["model"] == "mlp_1x512")
    monkeypatch.setattr(runs, "run_one", record)
    res = ch09_ntk.paper_networks("quick", n_sub=200)
    rows = sorted(res["rows"], key=lambda r: r["p"])
    assert [r["p"] for r in rows] == [0.0, 0.5, 1.0] and res["stored"] == 3
    assert rows[0]["complexity"] < rows[1]["complexity"] < rows[2]["complexity"]
    assert res["kendall_tau"]["mlp_1x512"] == {"vs_test_error": pytest.approx(1.0), "vs_epochs_to_fit": pytest.approx(1.0)}
    assert "Kendall" in ch09_ntk.paper_networks_text(res)
