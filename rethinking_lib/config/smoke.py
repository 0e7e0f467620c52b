"""The smoke scale: any profile's code path, on stand-in data, shrunk so each run takes seconds on a CPU.

``--smoke`` (``run``, ``plan``, ``config``, ``tools/build_book.py``) sets ``$RETHINKING_SMOKE=1``; the chapters'
kernels inherit it. Every experiment's resolved config (``Experiment.config``: the profile's, with the reader's
overrides) is then passed through :func:`shrink`, one rule over setting names, so an experiment declared later is
shrunk without declaring anything. It keeps the profile's datasets, models, model widths, hyper-parameters and
code path, and shrinks:

- sizes (``n``, ``n_*``, ``*_n``; ``None``, "all of it", too): at most ``SIZE`` examples; size grids (``*_ns``,
  ``n_*`` lists) scaled down together so their largest point is ``SIZE`` (the order of the points is kept);
- ``epochs`` / ``*_epochs`` to ``EPOCHS``, ``steps`` / ``*_steps`` to ``STEPS``; counts of draws (``*draws*``),
  repeated runs (``runs``), Monte-Carlo samples (``*samples``) and random filters (``*_filters``) to ``COUNT``
  (``SAMPLES`` for samples and filters);
- seed lists (``seeds``, ``*_seeds``) to their first ``SEEDS``;
- every other list of numbers (a sweep grid: ``ps``, ``widths``, ``ridges``, ``features``, ...) longer than
  ``GRID`` to its first, middle and last point, keeping any point another setting names (e.g. ``summary_p``);
- an empty ``root`` (an ImageFolder tree) to the stand-in tree in the data folder, when there is one.

A training run's spec (``runs.spec``) is capped at ``RUN_SIZE`` training and test examples (a run that an
experiment's code builds with "all the test set" too). The config then holds ``smoke: True``, so a smoke run's record
says so and its key differs from the real profile's; every page built so shows a warning that it is a smoke run,
not a result (``pages/notebook.setup``; ``tools/build_book.py --smoke`` adds a banner to every page).
"""

from __future__ import annotations

import math
import os

from ..engine import standin

ENV = standin.SMOKE_ENV
SIZE = standin.SMOKE_SIZE  # examples per size setting (64: chapter 6 checks deep_ks <= deep_n, its grid reaches 64)
RUN_SIZE = standin.SMOKE_RUN_SIZE  # examples of a training run (training and test alike)
MIN_SIZE = 8   # the smallest point of a scaled size grid
EPOCHS = 1
STEPS = 3  # chapter 9 at paper width: 6 networks of 10,000 x 3,072 weights, ~0.2 s a step each on one CPU core
COUNT = 2
SAMPLES = 16
SEEDS = 2
GRID = 3
KEEP_LISTS = ("classes",)  # lists of numbers that are not grids (a class subset)
WARNING = ("Smoke run: this page was executed at a tiny scale (a few dozen examples, one epoch, on "
           "stand-in data) to test the code path. Its numbers, figures and sentences are not results.")


def on() -> bool:
    """Whether this process runs at the smoke scale (``$RETHINKING_SMOKE``)."""
    return standin.smoke_on()


def enable() -> None:
    """Switch the smoke scale on for this process and every process it starts."""
    os.environ[ENV] = "1"


def _is_size(key: str) -> bool:
    return key == "n" or key.startswith("n_") or key.endswith(("_n", "_ns"))


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _cap(v, cap: int):
    return v if v is None or not _number(v) else min(v, cap)


def _sizes(values: list) -> list:
    """A size grid scaled so its largest point is at most ``SIZE`` (points kept apart where they were apart)."""
    nums = [v for v in values if _number(v)]
    if not nums or max(nums) <= SIZE:
        return values
    scale = SIZE / max(nums)
    return list(dict.fromkeys(max(MIN_SIZE, math.ceil(v * scale)) if _number(v) else v for v in values))


def _grid(values: list, keep: set) -> list:
    if len(values) <= GRID:
        return values
    picked = {0, len(values) // 2, len(values) - 1} | {i for i, v in enumerate(values) if v in keep}
    return [v for i, v in enumerate(values) if i in picked]


def _shrink_value(key: str, v, keep: set):
    if isinstance(v, dict) and v and all(_number(x) for x in v.values()):  # one number per model / dataset:
        return {k: _shrink_value(key, x, keep) for k, x in v.items()}      # the setting's own rule for each
    if isinstance(v, dict):
        return shrink(v, _top=False)
    if isinstance(v, (list, tuple)) and v and all(_number(x) for x in v):
        v = list(v)
        if key == "seeds" or key.endswith("_seeds"):
            return v[:SEEDS]
        if key in KEEP_LISTS:
            return v
        return _grid(_sizes(v) if _is_size(key) else v, keep)
    if _is_size(key) and (v is None or _number(v)):
        return SIZE if v is None else _cap(v, SIZE)
    if key == "epochs" or key.endswith("_epochs"):
        return _cap(v, EPOCHS)
    if key == "steps" or key.endswith("_steps"):
        return _cap(v, STEPS)
    if "draws" in key or key == "runs":
        return _cap(v, COUNT)
    if key.endswith(("samples", "_filters")):
        return _cap(v, SAMPLES)
    if key == "root" and v is None:
        from ..engine import data

        tree = standin.imagefolder(data.cache_dir())
        return str(tree) if tree is not None else None
    return v


def shrink(cfg: dict, *, _top: bool = True) -> dict:
    """``cfg`` at the smoke scale (the rule above); the top level gets ``smoke: True``."""
    keep = {v for v in cfg.values() if _number(v)}
    out = {k: _shrink_value(k, v, keep) for k, v in cfg.items()}
    if _top:
        out["smoke"] = True
    return out
