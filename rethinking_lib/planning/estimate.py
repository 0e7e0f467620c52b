"""How long a training run or an experiment's own computation takes: measured here, or from a calibration.

Estimates come from a few measured steps on *this* device: each distinct (model, width, input shape,
batch size, precision) is timed for 3 training steps and one evaluation pass after an untimed warm-up, once per
process, and a run costs ``epochs x (n_train / train rate + (n_train + n_test) / eval rate)``. An experiment
that computes more than declared runs is estimated from the cost model it declares (``Experiment.cost``, items
of ``config.cost``); dense linear algebra is timed by one 512 x 512 operation per kind and dtype
(``config.cost.dense_rate``). A GPU profile (``gpu``, ``paper``) asked on a CPU cannot be measured here: the
estimate then comes from ``CALIBRATION``, which says where its figures come from, and the plan says so. Host
work (numpy loops, SVDs on the CPU) is measured here in every profile: a Colab runtime's host has 2 vCPUs, like
the machine this was sized on.

    >>> from rethinking_lib.planning import estimate
    >>> estimate.cost_estimate("kernel", "quick", measured=True)    # (seconds, items with their seconds)
"""

from __future__ import annotations

import time

from .. import experiments
from ..config import cost, profiles
from ..engine import runs

# Training images/s at batch 128 on 28x28x3 crops, full width, when the target GPU is not this machine.
# "h100": measured by the benchmark (python -m rethinking_lib bench) on an H100, bf16, CUDA graph,
# channels-last, 2026-11-27 (the book's page "Reproducing at paper scale"). "t4": NOT measured: the H100
# figures divided by 8 (a T4 has ~1/15 of an H100's fp16 tensor throughput; these small nets are launch-
# bound, and fp16 steps run eagerly there), so treat it as a rough guide. Evaluation is taken as 3x faster.
H100_RATES = {"inception_small": 31_119, "inception_small_nobn": 51_700, "alexnet_small": 117_230,
              "mlp_1x512": 1_181_874, "mlp_3x512": 730_818}
# Dense linear algebra on the target GPU (flop/s), NOT measured: half of the datasheet peak. H100 SXM: 67
# TFLOP/s fp32 and 67 fp64 (tensor cores); T4: 8.1 TFLOP/s fp32 and 1/32 of that in fp64. "memory": the GPU's
# memory in bytes (the kernel experiment stores K in float64 only while it fits).
CALIBRATION = {
    "paper": {"device": "an H100 (benchmark, 2026-11-27)", "rates": H100_RATES,
              "dense": {"float32": 33.5e12, "float64": 33.5e12}, "memory": 80e9},
    "gpu": {"device": "a T4 (assumed: H100 benchmark / 8, not measured)",
            "rates": {m: r / 8 for m, r in H100_RATES.items()},
            "dense": {"float32": 4.05e12, "float64": 8.1e12 / 32 / 2}, "memory": 15e9},
}
EVAL_SPEEDUP = 3.0
_RATES: dict[tuple, tuple[float, float]] = {}  # measured (train, eval) images/s, per process


def measured_rates(s: dict, device=None, steps: int = 3) -> tuple[float, float]:
    """(train, eval) images/s of run ``s``'s model on ``device``, from ``steps`` timed steps (cached)."""
    import torch

    from ..engine import devices, models, train

    device = devices.resolve(device or s.get("device", "auto"))
    c, side = runs.input_shape(s)
    prec = train.resolve_precision(s["precision"], device)
    key = (s["model"], s["width"], c, side, s["batch_size"], prec, str(device))
    if key not in _RATES:
        torch.manual_seed(0)
        model = models.build(s["model"], in_channels=c, image_size=side, width=s["width"])
        eng = train.setup(model, train.TrainConfig(lr=0.01, batch_size=s["batch_size"], precision=prec), device)
        x = torch.randn(s["batch_size"], c, side, side, device=device).contiguous(memory_format=eng.memory_format)
        y = torch.randint(0, 10, (s["batch_size"],), device=device)
        xe, ye = x.repeat(4, 1, 1, 1), y.repeat(4)
        # Warm-up, not timed: allocations, cuDNN autotuning and CUDA-graph capture take the first few steps and
        # the first evaluation (timing them made a GPU estimate ~60x too long).
        for _ in range(3):
            eng.step(x, y)
        train.accuracy(eng.model, xe, ye, eng.amp_dtype, memory_format=eng.memory_format)
        devices.sync(device)
        t0 = time.perf_counter()
        for _ in range(steps):
            eng.step(x, y)
        devices.sync(device)
        train_rate = steps * len(y) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        train.accuracy(eng.model, xe, ye, eng.amp_dtype, memory_format=eng.memory_format)
        devices.sync(device)
        eval_rate = len(xe) / (time.perf_counter() - t0)
        _RATES[key] = (train_rate, eval_rate)
    return _RATES[key]


def calibrated_rates(s: dict, profile: str) -> tuple[float, float]:
    """(train, eval) images/s from ``CALIBRATION[profile]``, scaled by pixels and width from 28x28x3, width 1."""
    c, side = runs.input_shape(s)
    r = CALIBRATION[profile]["rates"][s["model"]] * (3 * 28 * 28) / (c * side * side) / max(s["width"], 1e-3)
    return r, r * EVAL_SPEEDUP


def estimate_seconds(s: dict, rates: tuple[float, float]) -> float:
    """``epochs x (one training epoch + one accuracy pass over train and test)`` at ``rates``."""
    n_train = runs.train_size(s) or 50_000
    n_test = s["n_test"] or runs.DATA_SIZES.get(s["dataset"], (0, 10_000))[1]
    train_rate, eval_rate = rates
    return s["epochs"] * (n_train / train_rate + (n_train + n_test) / eval_rate)


def item_seconds(item: dict, profile: str, measured: bool) -> float:
    """Seconds of one cost-model item (``config.cost``): measured rates here, or the calibration of ``profile``."""
    if item["kind"] == "slice":
        return item["seconds"]
    if item["kind"] == "train":
        s = item["spec"]
        train_rate, eval_rate = measured_rates(s) if measured else calibrated_rates(s, profile)
        return item["train_images"] / train_rate + item["eval_images"] / eval_rate
    if item["on"] == "device" and not measured:
        return item["flops"] / CALIBRATION[profile]["dense"][item["dtype"]]
    return item["flops"] / cost.dense_rate(item["op"], item["dtype"], item["on"])


def cost_items(name: str, cfg: dict, memory: float | None = None) -> list[dict]:
    """The work items of experiment ``name`` at config ``cfg``, from the cost model it declares
    (``Experiment.cost``); ``memory``: bytes of the training device (for the kernel experiment's float64 /
    float32 choice; default: what is free here)."""
    model = experiments.get(name).cost
    if model is None:
        raise ValueError(f"experiment {name!r} declares no cost model (Experiment(cost=...)): it is estimated from "
                         "its declared training runs")
    if memory is None:
        from ..engine import devices
        from ..theory import kernel_solver

        memory = kernel_solver.free_bytes(devices.resolve("auto"))
    return model(cfg, memory)


def cost_estimate(name: str, profile: str, measured: bool, **overrides) -> tuple[float, list[dict]]:
    """(seconds, items with their seconds) of experiment ``name``'s own computation at ``profile``."""
    p = profiles.resolve(profile)
    memory = None if measured else CALIBRATION[p]["memory"]
    its = cost_items(name, experiments.get(name).config(p, **overrides), memory)
    rows = [{"what": it["what"], "kind": it["kind"], "est_s": item_seconds(it, p, measured),
             "upper_bound": it.get("upper_bound", False)} for it in its]
    return sum(r["est_s"] for r in rows), rows


def where(profile: str) -> dict:
    """How estimates for ``profile`` are made here: measured on this device, or from the calibration."""
    from ..engine import devices

    p = profiles.resolve(profile)
    if p in CALIBRATION and not profiles.has_cuda():
        return {"measured": False, "device": CALIBRATION[p]["device"],
                "note": f"estimates need the target device (a GPU); this is a {devices.name()}: shown are "
                        f"estimates for {CALIBRATION[p]['device']} (estimate.CALIBRATION; host-CPU work measured "
                        f"here)"}
    return {"measured": True, "device": devices.name(), "note": f"estimated from 3 measured steps per model and "
                                                                 f"timed slices of the other work on this device "
                                                                 f"({devices.name()})"}
