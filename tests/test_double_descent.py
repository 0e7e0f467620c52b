"""Double descent in the number of random features, and the ridge that removes it."""

import numpy as np

from rethinking_lib import experiments
from rethinking_lib.chapters import ch07_double_descent as double_descent


def test_peak_at_interpolation_threshold(results_dir):
    res = experiments.run("double_descent", "quick")["result"]
    s = res["summary"]
    n = s["n_train"]
    assert 0.5 * n <= s["peak_features"] <= 2 * n
    assert s["peak_error"] > s["error_fewest_features"] and s["peak_error"] > s["error_most_features"]
    assert s["ridge_error_at_peak"] < s["peak_error"] - 0.05
    beyond = [r for r in res["sweep"] if r["features"] >= 1.25 * n]
    assert all(r["noisy_train_minnorm"] == 0 for r in beyond)  # interpolates past the threshold


def test_minnorm_equals_pseudo_inverse():
    rng = np.random.default_rng(0)
    phi, phi_t, y = rng.standard_normal((20, 50)), rng.standard_normal((5, 50)), rng.standard_normal((20, 3))
    out = double_descent.fit_predict(phi, phi_t, {"y": y}, ridge=0.0, rcond=1e-12)["y"]
    np.testing.assert_allclose(out["minnorm"], phi_t @ np.linalg.pinv(phi) @ y, atol=1e-10)
