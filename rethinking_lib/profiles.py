"""Profiles: ``quick`` (a 2-core CPU, offline data, about a minute per chapter), ``paper`` (the paper's
data, sizes and hyper-parameters on a GPU) and ``auto`` (paper when a CUDA GPU is present, else quick).

Each experiment keeps one config per profile (big_vision style); this module only decides which.
"""

from __future__ import annotations

import warnings

PROFILES = ("quick", "paper", "auto")


def has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve(profile: str) -> str:
    """``auto`` -> ``paper`` with a CUDA GPU, else ``quick``; anything else must be quick or paper."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    if profile == "auto":
        return "paper" if has_cuda() else "quick"
    return profile


def device(profile: str) -> str:
    """The device a profile trains on: CUDA when there is one, else the CPU (paper on CPU warns)."""
    profile = resolve(profile)
    if has_cuda():
        return "cuda"
    if profile == "paper":
        warnings.warn("profile 'paper' without a CUDA GPU: this runs the paper-scale experiment on the CPU, "
                      "which takes many hours (use profile 'quick', or a GPU runtime on Colab)", stacklevel=2)
    return "cpu"


def describe(profile: str) -> str:
    """One line for the top of a chapter: which profile produced the page, on what."""
    import torch

    from . import devices

    p = resolve(profile)
    dev = devices.name()
    what = {"quick": "offline data, reduced sizes (CPU-friendly)",
            "paper": "the paper's data, sizes and hyper-parameters"}[p]
    return f"profile **{p}** ({what}), run on {dev} with torch {torch.__version__}"
