"""The device helpers every module shares: which device, its name, and honest GPU timing / memory.

CUDA work is asynchronous, so a timing must ``sync`` before reading the clock; peak memory is read from
PyTorch's allocator, which only exists on GPUs (``peak_bytes`` is None on the CPU).
"""

from __future__ import annotations

import os

import torch


def resolve(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` (or None) -> CUDA when there is a GPU, else the CPU; anything else as given."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def name(device: str | torch.device | None = "auto") -> str:
    """The GPU's name, or ``cpu (N cores)``: what results files and benchmark tables record."""
    device = resolve(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({os.cpu_count()} cores)"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_bytes(device: torch.device) -> int | None:
    """Peak GPU memory allocated by tensors since ``reset_peak``; None on the CPU."""
    return int(torch.cuda.max_memory_allocated(device)) if device.type == "cuda" else None
