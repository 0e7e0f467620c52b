"""Profiles: how big a run is.

``paper``  the paper's data, sizes and hyper-parameters, fp32, on a GPU; always an explicit choice.
``gpu``    one small GPU (a Colab T4: 15 GB, fp16 tensor cores): real CIFAR-10 / MNIST, the paper's models
           at full width and its hyper-parameters, on subsets and level grids sized so a chapter takes about
           15 minutes there; mixed precision as a speed option (fp16 + gradient scaler on a T4, bf16 where
           supported).
``quick``  a 2-core CPU, offline data (``mnist5k``), reduced sizes, a few minutes per chapter (chapters 4 / 5: ~2 / ~6 min).
``auto``   ``gpu`` when a CUDA GPU is present, else ``quick``.

Each experiment writes its paper config once and the other profiles as small deltas of it
(``experiments.Experiment``); this module only decides which profile, and says so on the page.
"""

from __future__ import annotations

import warnings

PROFILES = ("quick", "gpu", "paper", "auto")
WHAT = {"quick": "offline MNIST digits, reduced sizes and model widths (CPU-friendly)",
        "gpu": "real CIFAR-10 / MNIST at full model width and the paper's hyper-parameters, on subsets and "
               "coarser level grids so a chapter fits a small GPU; mixed precision",
        "paper": "the paper's data, sizes and hyper-parameters, fp32"}


def has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve(profile: str) -> str:
    """``auto`` -> ``gpu`` with a CUDA GPU, else ``quick``; anything else must be quick, gpu or paper."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    if profile == "auto":
        return "gpu" if has_cuda() else "quick"
    return profile


def device(profile: str):
    """The device a profile trains on (``devices.resolve``); gpu / paper without a GPU warn first."""
    from ..engine import devices
    from . import smoke

    profile = resolve(profile)
    dev = devices.resolve("auto")
    if dev.type != "cuda" and profile in ("gpu", "paper") and not smoke.on():  # smoke: seconds on a CPU
        warnings.warn(f"profile {profile!r} without a CUDA GPU: this runs a GPU-sized experiment on the CPU, "
                      "which takes hours (use profile 'quick', or a GPU runtime on Colab)", stacklevel=2)
    return dev.type


def describe(profile: str) -> str:
    """One line for the top of a chapter: which profile produced the page, what it reduced, on what."""
    import torch

    from ..engine import devices

    p = resolve(profile)
    return f"profile **{p}** ({WHAT[p]}), run on {devices.name()} with torch {torch.__version__}"
