"""GPU check of the theory chapters: the paper-profile code paths of ``pac``, ``rademacher`` and
``stability`` run on CUDA (data on the device, bf16 training) and show their phenomena.

Run on a CUDA machine from the repo root: ``python gpu_checks/theory.py``. No download is needed: the paper
configs are run with the offline ``mnist5k`` and reduced sizes. Prints the summaries and exits non-zero if
a phenomenon fails: MLP 1x512 fits true and random labels with far-apart test errors and every classical bound
above 1; the Monte Carlo Rademacher estimate is >= 0.9 for the MLP and small AlexNet and >= 0.3 lower for the
norm-bounded linear class; SGD on logistic regression stays under the Hardt-Recht-Singer bound.
"""

import json
import sys
import tempfile
import time

import torch

from rethinking_lib import experiments

assert torch.cuda.is_available(), "needs a CUDA GPU"
print("device:", torch.cuda.get_device_name(0), "torch", torch.__version__)
out = tempfile.mkdtemp()
ok = True


def check(name, good):
    global ok
    ok &= bool(good)
    print(f"  {name}: {'OK' if good else 'FAIL'}")


t = time.perf_counter()
pac = experiments.run("pac", "paper", out=out, progress=False, dataset="mnist5k", models=["mlp_1x512"], epochs=150)
rows = {r["condition"]: r for r in pac["result"]["rows"]}
print(f"pac ({time.perf_counter() - t:.1f}s):", json.dumps(pac["result"]["summary"]))
check("train error <= 0.01 for both labelings", all(r["train_error"] <= 0.01 for r in rows.values()))
check("Hoeffding intervals of true and random labels disjoint",
      rows["true_labels"]["test_error_ci"][1] < rows["random_labels"]["test_error_ci"][0])
check("every bound > 1", all(r["bounds"]["finite_class"] > 1 and r["bounds"]["vc"] > 1 for r in rows.values()))

t = time.perf_counter()
rad = experiments.run("rademacher", "paper", out=out, progress=False, dataset="mnist5k",
                      models=["mlp_1x512", "alexnet_small"], n=1000, draws=3, n_sweep=[250, 1000], width_n=1000)
main = rad["result"]["main"]
print(f"rademacher ({time.perf_counter() - t:.1f}s):", json.dumps(rad["result"]["summary"]))
check("MLP and AlexNet >= 0.9", main["mlp_1x512"]["estimate"] >= 0.9 and main["alexnet_small"]["estimate"] >= 0.9)
check("norm-bounded linear >= 0.3 lower", main["linear_norm"]["estimate"] <= main["mlp_1x512"]["estimate"] - 0.3)

t = time.perf_counter()
st = experiments.run("stability", "paper", out=out, progress=False, dataset="mnist5k", n=1000, net_epochs=40)
cv = st["result"]["convex"]
print(f"stability ({time.perf_counter() - t:.1f}s):", json.dumps(st["result"]["summary"]))
check("logistic gap under the HRS bound, both labelings",
      all(m <= b for k in ("true_labels", "random_labels") for m, b in zip(cv[k]["sup_gap"], cv["bound"], strict=True)))
check("per-path bound holds", cv["true_labels"]["path_bound_ok"] and cv["random_labels"]["path_bound_ok"])
sys.exit(0 if ok else 1)
