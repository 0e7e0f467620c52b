"""GPU check of the PAC-Bayes bounds: a longer posterior optimization on all 4,000 offline MNIST digits.

Run on a CUDA machine from the repo root: ``python gpu_checks/bounds.py`` (about 2-3 minutes on one H100/H200,
no network). Trains D&R's 600-unit network on binary mnist5k (true and random labels), optimizes the posterior for
20,000 steps and estimates the Gibbs error with 1,000 draws, and prints both bounds per condition. With full MNIST
present on disk (torchvision's files under $RETHINKING_DATA) it also prints the paper-profile config it would run.
Exits non-zero if the random-label bound is not above the true-label one, or the true-label data-prior bound is
not below 0.5.
"""

import sys
import time

import torch

from rethinking_lib import experiments
from rethinking_lib.chapters import ch08_bounds as bounds

assert torch.cuda.is_available(), "needs a CUDA GPU"
print("device:", torch.cuda.get_device_name(0), "torch", torch.__version__)
cfg = {**bounds.EXPERIMENTS["bounds"].base("quick"), "n_train": None, "posterior_steps": 20_000, "mc_samples": 1_000,
       "device": "cuda"}
out = {}
for p in (0.0, 1.0):
    t = time.perf_counter()
    r = bounds.measure_run(cfg, p, 0, progress=False)
    out[p] = r
    print(f"p={p:g} m={r['m']} epochs={r['epochs']} train_err={r['train_error']:.3f} test_err={r['test_error']:.3f} "
          f"bound(init prior)={r['pac_bayes_bound']:.3f} mcallester={r['pac_bayes_bound_mcallester']:.3f} "
          f"KL={r['pac_bayes']['kl']:.0f} snn_test={r['pac_bayes']['snn_test_error']:.3f} "
          f"bound(data prior)={r['pac_bayes_bound_data_prior']:.3f} KL_dp={r['pac_bayes_data_prior']['kl']:.0f} "
          f"{time.perf_counter() - t:.0f}s", flush=True)
print("paper config:", experiments.get("bounds").config("paper"))
ok = (out[1.0]["pac_bayes_bound_mcallester"] > out[0.0]["pac_bayes_bound_mcallester"]
      and out[1.0]["pac_bayes_bound_data_prior"] > out[0.0]["pac_bayes_bound_data_prior"]
      and out[0.0]["pac_bayes_bound_data_prior"] < 0.5)
print("OK" if ok else "FAIL")
sys.exit(0 if ok else 1)
