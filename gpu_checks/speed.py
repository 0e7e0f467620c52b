"""GPU check of the engine's speed at paper scale: measure, don't assume. One run, about 5 minutes on an H100.

    python gpu_checks/speed.py [--budget 290] [--skip-compile] [--quick-memorize]
    python gpu_checks/speed.py --final      # only the defaults (train.CUDA_AUTO): check + bench + memorize, ~100 s

1. correctness: ``train.fit`` with the CUDA-graph step against the eager step (same init, same batches,
   a fast lr decay so a baked-in lr would show): the per-step losses must agree;
2. small Inception, batch 128: images/s of eager / CUDA graph x fp32 / bf16 x NCHW / channels-last, then
   torch.compile variants while the time budget lasts; prints a table and the fastest configuration;
3. the full benchmark (five models, engine vs standard DataLoader pipeline) with the fastest
   configuration, against the speed goals;
4. time to memorize 50,000 Gaussian images with random labels (small Inception, paper hyper-parameters),
   a mixed-precision (bf16) memorization check if the fastest configuration is fp32, and a small fp16
   (gradient scaler, the Colab T4 path) memorization check.
Every configuration runs in try/except: a failure is printed and the script goes on. Figures go to
``$OUT/speed.json`` (and ``$OUT/bench.json``) when ``$OUT`` is set. Exit status 1 if the correctness check
or a memorization check fails, or nothing could be measured.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import torch  # noqa: E402

from rethinking_lib.engine import data, models, train
from rethinking_lib.planning import bench
from rethinking_lib.store import provenance, results

T0 = time.perf_counter()
DEV = "cuda"  # --dry-run: "cpu", to check this script's flow without a GPU (no graphs there)
REPORT: dict = {"configs": [], "errors": []}


def left(budget: float) -> float:
    return budget - (time.perf_counter() - T0)


def attempt(what: str, fn):
    """Run ``fn``; on failure print the error (last frames) and record it instead of crashing."""
    t = time.perf_counter()
    try:
        out = fn()
        print(f"  [{time.perf_counter() - t:5.1f}s] {what}: ok", flush=True)
        return out
    except Exception as e:  # noqa: BLE001 - the point is to keep going
        tb = traceback.format_exc(limit=-3)
        print(f"  [{time.perf_counter() - t:5.1f}s] {what}: FAILED {type(e).__name__}: {e}\n{tb}", flush=True)
        REPORT["errors"].append({"what": what, "error": f"{type(e).__name__}: {e}"})
        return None


def check_graph_matches_eager() -> bool:
    """The graphed step must train exactly like the eager one (up to cuDNN's float noise)."""
    ds = data.load("gaussian", device=DEV, n_train=1000 if DEV == "cuda" else 300, n_test=200, seed=1)  # tail: 7x128+104
    out = {}
    # Full fp32 and deterministic kernels for this comparison only, so that float noise stays ~1e-6 and a real
    # bug (a stale input, a learning rate baked into the graph, a warm-up not undone) shows as >1e-2.
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cudnn.deterministic
    torch.backends.cudnn.allow_tf32, torch.backends.cudnn.deterministic = False, True
    for graph in (False, True):
        torch.manual_seed(0)
        m = models.build("inception_small", width=0.5 if DEV == "cuda" else 0.25)
        cfg = train.TrainConfig(lr=0.05, lr_decay=0.5, epochs=3, precision="fp32", cuda_graph=graph,
                                channels_last=False, compile=False)
        out[graph] = train.fit(m, ds, cfg, progress=False)
    torch.backends.cudnn.allow_tf32, torch.backends.cudnn.deterministic = saved
    a, b = torch.tensor(out[False]["step_loss"]), torch.tensor(out[True]["step_loss"])
    rel = ((a - b).abs() / a.abs().clamp_min(1e-6))
    first = float(rel[0])
    worst_early = float(rel[:10].max())
    worst = float(rel.max())
    ok = (out[True]["cuda_graph"] or DEV == "cpu") and first < 1e-4 and worst_early < 1e-3 and worst < 1e-2
    print(f"  graph vs eager (fp32, {len(a)} steps, lr halved every epoch): first-step rel diff {first:.1e}, "
          f"first 10 steps max {worst_early:.1e}, all steps max {worst:.1e}, final loss {a[-1]:.4f} vs {b[-1]:.4f} "
          f"-> {'OK' if ok else 'MISMATCH'}")
    REPORT["graph_vs_eager"] = {"first": first, "early": worst_early, "max": worst, "ok": bool(ok)}
    return bool(ok)


def measure(name: str, label: str, steps: int, **kw) -> dict | None:
    if DEV == "cpu":
        kw["width"] = 0.25
    r = attempt(f"{name} {label}", lambda: bench.engine_throughput(name, device=DEV, steps=steps, **kw))
    if r is not None:
        row = {"model": name, "label": label, **kw, **{k: r[k] for k in ("images_per_s", "eval_images_per_s",
                                                                       "peak_mem_mb", "finite_loss")}}
        REPORT["configs"].append(row)
        print(f"      {r['images_per_s']:9,.0f} img/s train   {r['eval_images_per_s']:9,.0f} img/s eval   "
              f"{r['peak_mem_mb'] or 0:7,.0f} MB", flush=True)
        return row
    return None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=290.0, help="seconds for the whole script (compile is skipped when short)")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--skip-compile", action="store_true")
    ap.add_argument("--quick-memorize", action="store_true", help="memorize 10,000 images instead of 50,000")
    ap.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU: checks the script, measures nothing")
    ap.add_argument("--final", action="store_true",
                    help="only the default configuration: graph check, benchmark table, memorize 50,000 (~100 s)")
    ap.add_argument("--compile", action="store_true", help="with --final: memorize with compile=True")
    args = ap.parse_args()
    global DEV
    if args.dry_run:
        DEV, args.steps, args.skip_compile = "cpu", 2, True
    elif not torch.cuda.is_available():
        print("no CUDA GPU: this check needs one")
        return 1
    prov = provenance.provenance()
    REPORT["provenance"] = prov
    print(f"device {prov['device']}, torch {prov['torch']}, CUDA {prov['cuda']}, bf16 {torch.cuda.is_bf16_supported()}")
    failed = False

    print("\n1. CUDA graph step vs eager step")
    ok = attempt("graph vs eager", check_graph_matches_eager)
    failed |= ok is not True
    if args.final:
        return final(args, failed)

    print(f"\n2. small Inception, batch 128, {args.steps} steps")
    grid = [("eager fp32", dict(precision="fp32", cuda_graph=False, channels_last=False, compile=False)),
            ("eager bf16", dict(precision="bf16", cuda_graph=False, channels_last=False, compile=False)),
            ("eager bf16 CL", dict(precision="bf16", cuda_graph=False, channels_last=True, compile=False)),
            ("graph fp32", dict(precision="fp32", cuda_graph=True, channels_last=False, compile=False)),
            ("graph fp32 CL", dict(precision="fp32", cuda_graph=True, channels_last=True, compile=False)),
            ("graph bf16", dict(precision="bf16", cuda_graph=True, channels_last=False, compile=False)),
            ("graph bf16 CL", dict(precision="bf16", cuda_graph=True, channels_last=True, compile=False))]
    for label, kw in grid:
        measure("inception_small", label, args.steps, **kw)
    plain = [r for r in REPORT["configs"] if not r["compile"]]
    if not plain:
        print("nothing could be measured")
        return 1
    best = max(plain, key=lambda r: r["images_per_s"])
    base = next((r for r in plain if r["label"] == "eager fp32"), None)
    print(f"  fastest without compile: {best['label']} ({best['images_per_s']:,.0f} img/s"
          + (f", {best['images_per_s'] / base['images_per_s']:.2f}x eager fp32)" if base else ")"))
    speed = {k: best[k] for k in ("channels_last", "cuda_graph", "compile")}
    train.CUDA_AUTO.update(speed)  # the rest of this script runs what was measured fastest
    precision = best["precision"]
    REPORT["best_without_compile"] = best

    print(f"\n3. full benchmark ({precision}, {speed}), engine vs standard DataLoader pipeline (2 workers)")
    rec = attempt("bench", lambda: bench.run(steps=args.steps, precision=precision, memorize=False,
                                             device=DEV, log=print, quick=args.dry_run))

    print("\n4. time to memorize Gaussian images with random labels (small Inception, lr 0.1, x0.95/epoch)")
    n, n_amp = (128, 128) if args.dry_run else (10_000 if args.quick_memorize else 50_000, 10_000)
    width = 0.25 if args.dry_run else 1.0
    mem = attempt(f"memorize {n} ({precision})", lambda: bench.time_to_memorize(
        device=DEV, n=n, width=width, precision=precision, progress=False))
    if mem:
        print(f"      {json.dumps(mem)}")
        failed |= not mem["reached_100"]
    if rec is not None:
        rec["memorize"] = mem
        rec["targets"] = bench.check_targets(rec)
        print(bench.table(rec))
        print("targets:", json.dumps(rec["targets"]))
    if precision == "fp32":  # the fastest is fp32: still check that mixed precision memorizes
        amp = train.resolve_precision("auto", torch.device(DEV))
        mem_amp = attempt(f"memorize {n_amp} ({amp})", lambda: bench.time_to_memorize(
            device=DEV, n=n_amp, width=width, precision=amp, progress=False))
        if mem_amp:
            print(f"      {json.dumps(mem_amp)}")
            failed |= not mem_amp["reached_100"]
        REPORT["memorize_mixed_precision"] = mem_amp

    # fp16 + gradient scaler is what a Colab T4 gets (no bf16 there): eager step, fused SGD skips overflowed steps.
    n16 = 128 if args.dry_run else 2_000
    mem16 = attempt(f"memorize {n16} (fp16, the T4 path)", lambda: bench.time_to_memorize(
        device=DEV, n=n16, width=0.25 if args.dry_run else 0.5, precision="fp16", progress=False))
    if mem16:
        print(f"      {json.dumps(mem16)}")
        failed |= not mem16["reached_100"]
    REPORT["memorize_fp16"] = mem16

    if not args.skip_compile:
        print(f"\n5. torch.compile variants (while the budget lasts: {left(args.budget):.0f} s left)")
        for label, kw in [("compile+graph bf16 CL", dict(precision="bf16", cuda_graph=True, channels_last=True, compile=True)),
                          ("compile+graph bf16", dict(precision="bf16", cuda_graph=True, channels_last=False, compile=True)),
                          ("compile (no graph) bf16 CL", dict(precision="bf16", cuda_graph=False, channels_last=True,
                                                             compile=True))]:
            if left(args.budget) < 60:
                print(f"  {label}: skipped (budget)")
                continue
            measure("inception_small", label, args.steps, **kw)

    print("\nsmall Inception, batch 128, H100 reference: 15.4k img/s eager fp32, 10.9k bf16 + channels-last")
    print(f"{'configuration':28s} {'train img/s':>12s} {'eval img/s':>12s} {'peak MB':>9s}")
    for r in REPORT["configs"]:
        if r["model"] == "inception_small":
            print(f"{r['label']:28s} {r['images_per_s']:12,.0f} {r['eval_images_per_s']:12,.0f} {r['peak_mem_mb'] or 0:9,.0f}")
    fastest = max(REPORT["configs"], key=lambda r: r["images_per_s"])
    print(f"fastest overall: {fastest['label']}; suggested train.CUDA_AUTO = "
          f"{json.dumps({k: fastest[k] for k in ('channels_last', 'compile', 'cuda_graph')})}"
          f" (precision {fastest['precision']})")
    REPORT.update(bench=rec, memorize=mem, fastest=fastest, seconds=time.perf_counter() - T0)
    out = os.environ.get("OUT")
    if out:
        results.atomic_write_json(Path(out) / "speed.json", REPORT)
        if rec is not None:
            results.atomic_write_json(Path(out) / "bench.json", rec)
    print(f"\n{'FAILED' if failed else 'OK'} in {time.perf_counter() - T0:.0f} s; errors: {len(REPORT['errors'])}")
    return 1 if failed else 0


def final(args, failed: bool) -> int:
    """The defaults as shipped (``train.CUDA_AUTO``, precision auto): benchmark table and time to memorize."""
    print(f"\n2. benchmark with the defaults {train.CUDA_AUTO}, precision auto")
    rec = attempt("bench", lambda: bench.run(steps=args.steps, memorize=False, device=DEV, log=print,
                                             quick=args.dry_run))
    n = 128 if args.dry_run else 50_000
    extra = {"compile": True} if args.compile else {}
    print(f"\n3. time to memorize {n:,} Gaussian images with random labels {extra or '(defaults)'}")
    mem = attempt(f"memorize {n}", lambda: bench.time_to_memorize(
        device=DEV, n=n, width=0.25 if args.dry_run else 1.0, progress=False, **extra))
    if mem:
        print(f"      {json.dumps(mem)}")
        failed |= not mem["reached_100"]
    else:
        failed = True
    if rec is not None:
        rec["memorize"] = mem
        rec["targets"] = bench.check_targets(rec)
        print("\n" + bench.table(rec))
        print("targets:", json.dumps(rec["targets"]))
        out = os.environ.get("OUT")
        if out:
            results.atomic_write_json(Path(out) / "bench.json", rec)
    else:
        failed = True
    print(f"\n{'FAILED' if failed else 'OK'} in {time.perf_counter() - T0:.0f} s; errors: {len(REPORT['errors'])}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
