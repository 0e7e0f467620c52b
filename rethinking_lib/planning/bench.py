"""How fast the training engine is, against a standard PyTorch input pipeline (Appendix A's setup).

For each of the paper's five models at batch 128 on the current device, training images per second and
peak memory for
  (a) our engine: data already a tensor on the device, one gather per epoch, the train step of
      ``train.setup`` (CUDA graph / compile / channels-last as ``TrainConfig`` resolves them);
  (b) a standard pipeline: a torchvision-style dataset of CIFAR-shaped uint8 images served one PIL image
      at a time, per-sample transforms (centre crop, ToTensor, per-image whitening), a DataLoader with 2
      workers, eager ``torch.optim.SGD``: the same model and precision;
and "time to memorize": seconds until small Inception reaches 100% training accuracy on 50,000 Gaussian
CIFAR-shaped images with random labels, with the paper's hyper-parameters (SGD lr 0.1, momentum 0.9,
x0.95 per epoch, batch 128). ``--quick`` shrinks everything so it runs on a CPU in about a minute.

    python -m rethinking_lib bench [--quick] [--models M ...] [--steps N] [--json] [--out FILE]

``plan.py`` reads this device's benchmark file (``default_path``) when it estimates a chapter's time.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import torch

from .. import paper
from ..engine import data, devices, models, train
from ..store import provenance, results

TARGETS = {"ratio": 3.0, "inception_small_images_per_s": 30_000, "memorize_s": 60.0}  # on an H100
QUICK = {"steps": 6, "width": 0.5, "memorize_n": 128, "memorize_width": 0.25}


def paper_lr(model: str) -> float:
    return paper.LR[model]  # Appendix A: one definition, in paper.py


def _peak_mb(device: torch.device) -> float | None:
    """Peak GPU memory allocated by tensors; None on the CPU (no per-run figure there)."""
    peak = devices.peak_bytes(device)
    return None if peak is None else peak / 2**20


# ----------------------------------------------------------------------------------------------
# (a) our engine


def engine_throughput(name: str, *, device=None, batch_size: int = 128, steps: int = 50, width: float = 1.0,
                      precision: str = "auto", **speed) -> dict:
    """Training images/s of ``train.setup``'s step over one epoch of ``steps`` batches of device tensors.

    The epoch includes its shuffle and gather, as in ``train.fit``; capture / compile happen in an untimed
    warm-up. ``speed`` passes ``channels_last`` / ``compile`` / ``cuda_graph`` to ``TrainConfig``.
    Also measures the forward-only evaluation rate (``eval_images_per_s``) used by ``plan``.
    """
    device = devices.resolve(device)
    torch.manual_seed(0)
    model = models.build(name, width=width)
    cfg = train.TrainConfig(lr=paper_lr(name), batch_size=batch_size, precision=precision, **speed)
    eng = train.setup(model, cfg, device)
    n = batch_size * steps
    gen = torch.Generator(device=device).manual_seed(0)
    x = data.whiten(data.center_crop(torch.rand(n, 3, 32, 32, device=device, generator=gen), 28))
    y = torch.randint(0, 10, (n,), device=device, generator=gen)
    losses = torch.empty(steps, device=device)

    def epoch(k: int) -> None:  # the training loop's own input pipeline (data.shuffled_batches)
        batches = data.shuffled_batches(x, y, batch_size, generator=gen, memory_format=eng.memory_format,
                                        max_batches=k)
        for i, (xb, yb) in enumerate(batches):
            losses[i] = eng.step(xb, yb)

    devices.reset_peak(device)
    epoch(min(steps, 3))  # warm-up: cuDNN autotuning, graph capture, compilation
    devices.sync(device)
    t0 = time.perf_counter()
    epoch(steps)
    devices.sync(device)
    seconds = time.perf_counter() - t0
    peak = _peak_mb(device)
    train.accuracy(eng.model, x, y, eng.amp_dtype, cfg.eval_batch_size, eng.memory_format)  # cuDNN autotuning
    t1 = time.perf_counter()
    train.accuracy(eng.model, x, y, eng.amp_dtype, cfg.eval_batch_size, eng.memory_format)
    eval_seconds = time.perf_counter() - t1  # accuracy() ends with a host sync
    return {"images_per_s": n / seconds, "eval_images_per_s": n / eval_seconds, "peak_mem_mb": peak,
            "steps": steps, "finite_loss": bool(torch.isfinite(losses).all()), "precision": eng.precision,
            **eng.speed}


# ----------------------------------------------------------------------------------------------
# (b) the standard pipeline


class UInt8Images(torch.utils.data.Dataset):
    """CIFAR-shaped uint8 images (HWC) in memory, served one PIL image at a time like ``torchvision.datasets.CIFAR10``."""

    def __init__(self, n: int, transform, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.x = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        self.y = rng.integers(0, 10, n)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i):
        from PIL import Image

        return self.transform(Image.fromarray(self.x[i])), int(self.y[i])


class PerImageWhitening:
    """The paper's per-image standardization as a per-sample transform (a class, so workers can pickle it)."""

    def __call__(self, t: torch.Tensor) -> torch.Tensor:
        return data.whiten(t[None])[0]


def standard_throughput(name: str, *, device=None, batch_size: int = 128, steps: int = 50, width: float = 1.0,
                        precision: str = "auto", workers: int = 2, warmup: int = 3) -> dict:
    """Training images/s of the textbook pipeline: per-sample PIL transforms, DataLoader, eager step."""
    from torchvision import transforms as T

    device = devices.resolve(device)
    prec = train.resolve_precision(precision, device)
    torch.manual_seed(0)
    model = models.build(name, width=width).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=paper_lr(name), momentum=0.9)
    tf = T.Compose([T.CenterCrop(28), T.ToTensor(), PerImageWhitening()])
    loader = torch.utils.data.DataLoader(UInt8Images(batch_size * (steps + warmup), tf), batch_size=batch_size,
                                         shuffle=True, num_workers=workers, pin_memory=device.type == "cuda",
                                         drop_last=True)
    # the plain eager step: only the input pipeline differs
    step = train.train_step(model, opt, train.grad_scaler(prec), train.amp_dtype(prec))
    devices.reset_peak(device)
    done, t0 = 0, None
    for xb, yb in loader:
        if done == warmup:  # worker start-up and cuDNN autotuning stay out of the timing
            devices.sync(device)
            t0 = time.perf_counter()
        step(xb.to(device, non_blocking=True), yb.to(device, non_blocking=True))
        done += 1
    devices.sync(device)
    seconds = time.perf_counter() - t0
    return {"images_per_s": batch_size * (done - warmup) / seconds, "peak_mem_mb": _peak_mb(device),
            "steps": done - warmup, "workers": workers, "precision": prec}


# ----------------------------------------------------------------------------------------------
# time to memorize


def time_to_memorize(*, device=None, n: int = 50_000, width: float = 1.0, epochs: int = 100, precision: str = "auto",
                     progress: bool | None = None, bn_decay: float = models.BN_DECAY, **speed) -> dict:
    """Seconds until small Inception fits random labels on ``n`` Gaussian CIFAR-shaped images (Section 2).

    Paper hyper-parameters: lr 0.1, momentum 0.9, batch 128, lr x0.95 per 50,000-image epoch (for smaller
    ``n`` the same decay per step, ``0.95 ** (steps / 391)``). The time counts everything ``train.fit``
    does, per-epoch accuracy passes, capture and compilation included.
    """
    from ..engine.runs import paper_lr_decay

    device = devices.resolve(device)
    ds = data.load("gaussian", device=device, n_train=n, n_test=min(1000, n), seed=0)
    torch.manual_seed(0)
    model = models.build("inception_small", width=width, bn_decay=bn_decay)
    cfg = train.TrainConfig(lr=paper_lr("inception_small"), lr_decay=paper_lr_decay(n), epochs=epochs, stop_at_100=True,
                            precision=precision, **speed)
    hist = train.fit(model, ds, cfg, progress=progress, desc="memorize")
    k = hist["epochs_to_100"]
    return {"seconds": hist["epochs"][k - 1]["time"] if k else None, "reached_100": k is not None,
            "epochs": k, "steps": hist["steps_to_100"], "final_train_acc": hist["train_acc"], "n": n,
            "width": width, "wall_time": hist["wall_time"], "precision": hist["precision"],
            **{o: hist[o] for o in train.SPEED_OPTIONS}}


# ----------------------------------------------------------------------------------------------
# the whole benchmark


def run(*, quick: bool = False, model_names=None, steps: int | None = None, device=None, precision: str = "auto",
        workers: int = 2, memorize: bool = True, progress: bool | None = None, log=print) -> dict:
    """Measure every model with both pipelines, then time-to-memorize; returns a JSON-able record."""
    device = devices.resolve(device)
    if device.type != "cuda":
        import warnings

        warnings.warn("no CUDA GPU: benchmarking on the CPU, where these figures say little about paper scale",
                      stacklevel=2)
    names = list(model_names or models.NAMES)
    for m in names:
        if m not in models.NAMES:
            raise ValueError(f"unknown model {m!r}: choose from {', '.join(models.NAMES)}")
    steps = steps or (QUICK["steps"] if quick else 100)
    width = QUICK["width"] if quick else 1.0
    rows = []
    for m in names:
        eng = engine_throughput(m, device=device, steps=steps, width=width, precision=precision)
        std = standard_throughput(m, device=device, steps=steps, width=width, precision=precision, workers=workers)
        rows.append({"model": m, "engine": eng, "standard": std, "ratio": eng["images_per_s"] / std["images_per_s"]})
        log(f"  {m}: engine {eng['images_per_s']:,.0f} img/s, standard {std['images_per_s']:,.0f} img/s")
    out = {"device": devices.name(device), "batch_size": 128, "steps": steps, "width": width, "quick": quick,
           "precision": precision, "workers": workers, "rows": rows, "provenance": provenance.provenance()}
    if memorize:
        n, w = (QUICK["memorize_n"], QUICK["memorize_width"]) if quick else (50_000, 1.0)
        # a run of a few hundred steps needs a faster batch-norm average than TensorFlow's 0.999 (as the quick profile)
        out["memorize"] = time_to_memorize(device=device, n=n, width=w, precision=precision, progress=progress,
                                           bn_decay=0.9 if quick else models.BN_DECAY)
    return out


def table(rec: dict) -> str:
    """The benchmark as a Markdown table (pasted into book/paper_scale.md)."""
    mb = lambda v: "n/a" if v is None else f"{v:,.0f}"  # noqa: E731
    lines = [f"Device: {rec['device']}; torch {rec['provenance']['torch']}; {rec['provenance']['date']}; batch 128"
             + (f"; width {rec['width']}, {rec['steps']} steps (--quick)" if rec["quick"] else f"; {rec['steps']} steps"),
             "",
             "| model | engine img/s | standard img/s | ratio | engine peak MB | standard peak MB | engine options |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for r in rec["rows"]:
        e, s = r["engine"], r["standard"]
        opts = ", ".join([e["precision"]] + [k for k in train.SPEED_OPTIONS if e.get(k)])
        lines.append(f"| {models.LABELS[r['model']]} | {e['images_per_s']:,.0f} | {s['images_per_s']:,.0f} | "
                     f"{r['ratio']:.1f}x | {mb(e['peak_mem_mb'])} | {mb(s['peak_mem_mb'])} | {opts} |")
    m = rec.get("memorize")
    if m:
        what = f"{m['seconds']:.1f} s ({m['epochs']} epochs, {m['steps']:,} steps)" if m["reached_100"] else \
            f"not reached ({m['final_train_acc']:.3f} after {m['wall_time']:.0f} s)"
        lines += ["", f"Time to memorize {m['n']:,} Gaussian images with random labels (small Inception"
                  + (f", width {m['width']}" if m["width"] != 1 else "") + f", {m['precision']}): {what}"]
    return "\n".join(lines)


def check_targets(rec: dict) -> dict:
    """The engine's targets (meant for an H100): engine >= 3x standard for every model, small Inception >
    30k img/s, memorization < 60 s. Each is True / False, or None where this record cannot say."""
    out = {"ratio": all(r["ratio"] >= TARGETS["ratio"] for r in rec["rows"]) if rec["rows"] else None}
    inc = [r for r in rec["rows"] if r["model"] == "inception_small"]
    full = not rec["quick"]
    out["inception_small_images_per_s"] = inc[0]["engine"]["images_per_s"] > TARGETS["inception_small_images_per_s"] \
        if inc and full else None
    m = rec.get("memorize")
    out["memorize_s"] = (m["reached_100"] and m["seconds"] < TARGETS["memorize_s"]) if m and full else None
    return out


def default_path(device=None, out=None) -> Path:
    """``<results>/bench-<device>.json``: one benchmark file per device, which ``plan`` reads."""
    name = devices.name(device)
    return results.results_dir(out) / f"bench-{re.sub(r'[^A-Za-z0-9]+', '-', name).strip('-').lower()}.json"


# ----------------------------------------------------------------------------------------------
# CLI


def add_cli(sub) -> None:
    b = sub.add_parser("bench", help="training throughput: our engine vs a standard DataLoader pipeline")
    b.add_argument("--quick", action="store_true", help="small sizes (CPU-friendly, about a minute)")
    b.add_argument("--models", nargs="+", default=None, choices=list(models.NAMES), metavar="MODEL",
                   help="subset of " + ", ".join(models.NAMES))
    b.add_argument("--steps", type=int, default=None, help="timed steps per measurement (default 100, quick 6)")
    b.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"])
    b.add_argument("--workers", type=int, default=2, help="DataLoader workers of the standard pipeline")
    b.add_argument("--no-memorize", action="store_true", help="skip the time-to-memorize run")
    b.add_argument("--json", action="store_true", help="print the record as one JSON object")
    b.add_argument("--out", default=None, help="JSON file (default <results>/bench-<device>.json)")
    b.set_defaults(handler=_bench_cli)


def _bench_cli(args) -> int:
    if args.steps is not None and args.steps < 1:
        raise ValueError(f"--steps={args.steps} must be a positive integer")
    if args.workers < 0:
        raise ValueError(f"--workers={args.workers} must be 0 or more")
    log = (lambda *a: None) if args.json else print
    rec = run(quick=args.quick, model_names=args.models, steps=args.steps, precision=args.precision,
              workers=args.workers, memorize=not args.no_memorize, progress=False if args.json else None, log=log)
    rec["targets"] = check_targets(rec)
    path = results.atomic_write_json(args.out or default_path(), rec)
    if args.json:
        print(json.dumps(results.to_jsonable(rec)))
    else:
        print(table(rec))
        print("targets (meant for an H100):", json.dumps(rec["targets"]))
        print(f"written to {path}")
    return 0
