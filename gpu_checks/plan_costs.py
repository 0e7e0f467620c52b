"""GPU check of the plan's cost models: the estimate from steps / operations measured on this device against the
wall time of the same computation, for the experiments that do their own computation.

Run on a CUDA machine from the repo root: ``python gpu_checks/plan_costs.py`` (about 2 minutes on an H200; no
network: each experiment runs at its quick size on the offline digits, on the GPU). Prints one line per
experiment: estimate, measured seconds and their ratio (an estimate marked "at most" counts runs that stop at
100% training accuracy at their full budget, so a ratio above 1 is expected there).
"""

import tempfile
import time

import torch

from rethinking_lib import experiments
from rethinking_lib.planning import estimate

assert torch.cuda.is_available(), "needs a CUDA GPU"
print("device:", torch.cuda.get_device_name(0), "torch", torch.__version__, flush=True)
CASES = [("kernel", {}), ("stability", {}), ("memorization", {"ps": [0.4]}),
         ("double_descent", {}), ("minnorm", {}), ("theorem1", {})]
for name, overrides in CASES:
    est, parts = estimate.cost_estimate(name, "quick", True, **overrides)
    bound = any(p["upper_bound"] for p in parts)
    cfg = dict(experiments.get(name).config("quick", **overrides), profile="quick")
    t0 = time.perf_counter()
    experiments.get(name).fn(cfg, seed=0, progress=False, out=tempfile.mkdtemp())  # a fresh store: nothing loaded
    torch.cuda.synchronize()
    wall = time.perf_counter() - t0
    print(f"{name:15s} estimate {'at most ' if bound else ''}{est:7.1f} s   measured {wall:7.1f} s   "
          f"ratio {est / wall:5.2f}", flush=True)
