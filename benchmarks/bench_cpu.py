"""CPU throughput of the quick profile's training runs: what sizes the rendered book (2 cores, offline).

For each model at its quick-profile width on 1x24x24 MNIST crops, batch 128 and the quick CNN batch: training and
evaluation images/s with and without channels-last (``train.CPU_AUTO`` picks channels-last on the CPU from
these figures). Prints a Markdown table; run it on an otherwise idle machine:

    python benchmarks/bench_cpu.py [--steps 6] [--threads 2]

Measured on the 2-core CI-class machine (torch 2.x, 2 threads, set_flush_denormal), 2026-11-30:
    Inception w0.25  train 677 / 752 img/s (contiguous / channels-last), eval 1,528 / 1,838
    Inception w0.125 train 1,226 / 1,086, eval 3,505 / 5,550
    AlexNet w0.5     train 1,160 / 2,037, eval 3,374 / 4,616
    AlexNet w0.25    train 3,045 / 3,911, eval 7,094 / 10,882
"""

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from a checkout without installing

from rethinking_lib import experiments
from rethinking_lib.engine import models, train


def rate(name: str, width: float, batch: int, channels_last: bool, steps: int) -> tuple[float, float]:
    torch.manual_seed(0)
    m = models.build(name, in_channels=1, image_size=24, width=width)
    eng = train.setup(m, train.TrainConfig(lr=0.01, batch_size=batch, channels_last=channels_last), "cpu")
    x = torch.randn(batch, 1, 24, 24).contiguous(memory_format=eng.memory_format)
    y = torch.randint(0, 10, (batch,))
    for _ in range(2):
        eng.step(x, y)
    t = time.perf_counter()
    for _ in range(steps):
        eng.step(x, y)
    tr = batch * steps / (time.perf_counter() - t)
    xe = torch.randn(1024, 1, 24, 24).contiguous(memory_format=eng.memory_format)
    ye = torch.randint(0, 10, (1024,))
    train.accuracy(eng.model, xe, ye, memory_format=eng.memory_format)
    t = time.perf_counter()
    train.accuracy(eng.model, xe, ye, memory_format=eng.memory_format)
    return tr, 1024 / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    quick = experiments.get("fig1bc").config("quick")["model_settings"]
    print(f"threads {torch.get_num_threads()}, torch {torch.__version__}\n")
    print("| model | width | batch | layout | train img/s | eval img/s |\n|---|---:|---:|---|---:|---:|")
    for name in ("inception_small", "inception_small_nobn", "alexnet_small", "mlp_1x512"):
        s = quick[name]
        for batch in sorted({128, s["batch_size"]}):
            for cl in (False, True):
                tr, ev = rate(name, s["width"], batch, cl, args.steps)
                print(f"| {name} | {s['width']:g} | {batch} | {'channels-last' if cl else 'contiguous'} | "
                      f"{tr:,.0f} | {ev:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
