"""Refuse NaN and inf up front: one check shared by Theorem 1, the kernel solves, the NTK and the measures.

A NaN in the data does not stop a solve: it spreads through it and surfaces afterwards as a failed fit, a
"singular" matrix or a NaN measure, far from its cause. ``finite(name, x)`` raises one line naming the
argument and the first rows that hold a non-finite value, before any work starts.
"""

from __future__ import annotations

import numpy as np

SHOWN = 5  # rows named in the message; the rest are counted


def bad_rows(x) -> list[int]:
    """Indices of the rows (first axis) of ``x`` holding a NaN or an infinity; [] for a finite or integer array."""
    try:
        import torch

        if isinstance(x, torch.Tensor):
            if not (x.is_floating_point() or x.is_complex()):
                return []
            bad = ~torch.isfinite(x.detach())
            return torch.nonzero(bad.reshape(len(x), -1).any(1) if x.ndim else bad.reshape(1)).flatten().tolist()
    except ImportError:  # pragma: no cover
        pass
    a = np.asarray(x)
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.complexfloating)):
        return []
    bad = ~np.isfinite(a)
    return np.flatnonzero(bad.reshape(len(a), -1).any(1) if a.ndim else bad.reshape(1)).tolist()


def finite(name: str, x):
    """``x`` unchanged, or ValueError: "<name> has NaN or inf in row(s) 3, 17 (of n): ..." (one line)."""
    rows = bad_rows(x)
    if rows:
        shown = ", ".join(map(str, rows[:SHOWN])) + (f" and {len(rows) - SHOWN} more" if len(rows) > SHOWN else "")
        total = len(x) if getattr(x, "ndim", 1) else 1
        raise ValueError(f"{name} has NaN or inf in row(s) {shown} (of {total}): drop or fix those rows before "
                         "calling (a non-finite input would only surface later as a failed solve)")
    return x
