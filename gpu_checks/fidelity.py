"""GPU check: what the mixed-precision speed option changes, and whether the plain Inception trains at lr 0.1.

Run on a CUDA machine from the repo root (no network needed; about 2-4 minutes on an H100/H200):

    python gpu_checks/fidelity.py [--out rethinking_lib/gpu_measurements.json]

1. One run pair, fp32 against bf16 (fp16 + gradient scaler where bf16 is missing), on the same config: small
   Inception at full width, the paper's hyper-parameters (lr 0.1, momentum 0.9, batch 128, 0.95 per 391 steps),
   on the 4,000 real MNIST digits of ``mnist5k`` (24x24 crops), true labels and random labels, a fixed budget:
   the first step at 100% training accuracy and the final test accuracy of each.
2. The Inception without batch norm at the paper's lr 0.1 with TensorFlow's Glorot-uniform init, fp32, on
   mnist5k (true labels) and on 4,000 CIFAR-shaped Gaussian images (random labels; CIFAR-10 cannot be
   downloaded here): does it diverge, stay at chance, or train?

Prints one JSON object (and writes it with ``--out``): the book shows it as "measured on <device> on <date>".
"""

import argparse
import datetime
import json
import sys
import time

import torch

from rethinking_lib import paper
from rethinking_lib.engine import runs, train


def one(label: str, **kw) -> dict:
    s = runs.spec(keep_step_loss=False, lr_decay="paper", device="cuda", **kw)
    t = time.perf_counter()
    try:
        h = runs.train_spec(s, progress=False)
    except FloatingPointError as e:
        out = {"run": label, "diverged": str(e), "seconds": round(time.perf_counter() - t, 1)}
        print(json.dumps(out), file=sys.stderr)
        return out
    out = {"run": label, "model": s["model"], "dataset": s["dataset"], "condition": s["condition"], "lr": s["lr"],
           "init": s["init"], "precision": h["precision"], "epochs": h["epochs_run"], "steps": h["steps"],
           "steps_to_100": h["steps_to_100"], "epochs_to_100": h["epochs_to_100"],
           "final_train_acc": round(h["train_acc"], 4), "final_test_acc": round(h["test_acc"], 4),
           "best_test_acc": round(max(e["test_acc"] for e in h["epochs"]), 4),
           "seconds": round(time.perf_counter() - t, 1), "diverged": None}
    print(json.dumps(out), file=sys.stderr)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None, help="also write the JSON here")
    ap.add_argument("--epochs", type=int, default=40)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA GPU: this check needs one", file=sys.stderr)
        return 1
    mixed = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    lr = paper.LR["inception_small"]
    base = dict(model="inception_small", dataset="mnist5k", lr=lr, epochs=args.epochs)
    pairs = []
    for cond in ("true_labels", "random_labels"):
        a = one(f"{cond} fp32", **base, condition=cond, precision="fp32")
        b = one(f"{cond} {mixed}", **base, condition=cond, precision=mixed)
        pairs.append({"condition": cond, "fp32": a, mixed: b})
    nobn = [one("nobn mnist5k true fp32", model="inception_small_nobn", dataset="mnist5k", lr=paper.LR["inception_small_nobn"],
                condition="true_labels", epochs=args.epochs, precision="fp32"),
            one("nobn gaussian random fp32", model="inception_small_nobn", dataset="gaussian", n_train=4000, n_test=1000,
                lr=paper.LR["inception_small_nobn"], condition="random_labels", epochs=args.epochs, precision="fp32")]
    rec = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
           "date": datetime.date.today().isoformat(), "mixed": mixed, "epochs": args.epochs,
           "precision_pairs": pairs, "nobn_at_paper_lr": nobn,
           "speed_options": {k: train.CUDA_AUTO[k] for k in train.SPEED_OPTIONS}}
    text = json.dumps(rec, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
