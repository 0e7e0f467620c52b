"""How an experiment is declared: its settings written once for the paper, the other profiles as deltas.

An experiment is declared in its chapter module (``chapters/``) as an :class:`Experiment`. Its settings are
written once, for the ``paper`` profile (``paper=``); the ``gpu`` and ``quick`` profiles are small explicit
deltas of it (``deltas=``, deep-merged: big_vision's ``runlocal`` style; a nested dict wrapped in
:class:`Whole` replaces the paper's instead of merging into it), and ``reasons=`` says why each delta is what it
is (the appendix prints it). An experiment made of training runs declares them: ``specs(cfg)`` lists its run
specs (``runs.spec``), so sweeps, plans and the ``config`` command see exactly the runs the experiment will
train. An experiment that computes more than its declared runs declares its cost model beside it
(``cost(cfg, memory)``, built from ``config.cost``'s items), so the plan can estimate it before it runs.
``fn(cfg, *, seed, progress, out)`` runs it and returns a JSON-able result. At the smoke scale
(``$RETHINKING_SMOKE``) the resolved config is shrunk by one rule over setting names (``config/smoke.py``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import profiles, smoke


class Whole(dict):
    """A dict in a delta that replaces the paper's dict as a whole (e.g. the learning rates of fewer models),
    instead of being merged into it key by key."""


def merge(base: dict, delta: dict) -> dict:
    """``base`` with ``delta`` applied: nested dicts are merged key by key (a :class:`Whole` replaces), everything
    else replaced."""
    out = copy.deepcopy(base)
    for k, v in delta.items():
        if isinstance(v, Whole):
            out[k] = copy.deepcopy(dict(v))
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _check_type(exp: str, key: str, value, default) -> None:
    """An override must have its setting's type (ints pass for floats; a None default takes anything)."""
    if default is None or value is None:
        return
    ok = {bool: lambda v: isinstance(v, bool),
          int: lambda v: isinstance(v, int) and not isinstance(v, bool),
          float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
          str: lambda v: isinstance(v, str), list: lambda v: isinstance(v, (list, tuple)),
          dict: lambda v: isinstance(v, dict)}.get(type(default))
    if ok is not None and not ok(value):
        raise ValueError(f"{exp}: setting {key}={value!r} has the wrong type: pass a {type(default).__name__} "
                         f"like {default!r}")


@dataclass
class Experiment:
    name: str
    fn: Callable[..., Any]
    paper: dict                                             # the paper config, written once
    doc: str = ""
    expect: dict[str, str] = field(default_factory=dict)  # profile -> what a run should show
    deltas: dict[str, dict] = field(default_factory=dict)   # profile -> changes to the paper config
    specs: Callable[[dict], list[dict]] | None = None       # cfg -> run specs (None: not a set of training runs)
    validate: Callable[[dict], None] | None = None          # cfg -> raises ValueError naming the setting
    why: dict[str, str] = field(default_factory=dict)       # setting -> the paper's value / our choice and why
    reasons: dict[str, str] = field(default_factory=dict)   # profile -> why its delta (and how it was sized)
    # (cfg, device memory in bytes) -> its work as ``config.cost`` items; None: estimated from its run specs
    cost: Callable[[dict, float], list[dict]] | None = None

    def base(self, profile: str) -> dict:
        """The config of ``profile`` before overrides: the paper's with the profile's delta (none: the paper's)."""
        return merge(self.paper, self.deltas.get(profiles.resolve(profile), {}))

    def config(self, profile: str, **overrides) -> dict:
        cfg = self.base(profile)
        for k, v in overrides.items():
            if k not in cfg:
                raise ValueError(f"{self.name} has no setting {k!r}; its settings are {', '.join(cfg)}")
            self._check_type(k, v, cfg[k])
            cfg[k] = v
        from . import validate

        # Every numeric setting by its declared range (config/validate.RANGES), then the experiment's own checks
        # (choices, relations between settings, the structure of nested settings).
        validate.numbers(self.name, cfg, self.base(profile))
        if smoke.on():  # the smoke scale (config/smoke.py): shrunk on top of the profile and the overrides
            cfg = smoke.shrink(cfg)
        if self.validate is not None:
            self.validate(cfg)
        return cfg

    def _check_type(self, key: str, value, default) -> None:
        """The type of ``default``, or of the same setting in another profile (e.g. one number, or one per dataset)."""
        others = [c[key] for c in self._all_bases() if key in c and c[key] is not None]
        for d in [default, *others]:
            try:
                _check_type(self.name, key, value, d)
                return
            except ValueError:
                continue
        _check_type(self.name, key, value, default)

    def _all_bases(self) -> list[dict]:
        return [self.base(p) for p in ("quick", "gpu", "paper")]

    def run_specs(self, profile: str, *, seed: int = 0, lookup=None, **overrides) -> list[dict]:
        """The training runs of this experiment at ``profile`` (full specs), exactly as ``fn`` looks them up.

        An experiment whose later runs depend on earlier runs' results (Table 1 and Figure 2b: the no-BN model's
        fallback runs only where the paper's settings do not train) declares ``specs(cfg, lookup=None)``;
        ``lookup(spec)`` gives a stored run's result or None (``runs.stored_result``). Unknown results give the
        runs of both outcomes (an upper bound), known ones exactly the runs ``fn`` requests."""
        import inspect

        from ..engine import runs

        if self.specs is None:
            return []
        cfg = dict(self.config(profile, **overrides), profile=profiles.resolve(profile))
        kw = {"lookup": lookup} if "lookup" in inspect.signature(self.specs).parameters else {}
        return [runs.spec(**s) for s in self.specs(runs.seeded(cfg, seed), **kw)]
