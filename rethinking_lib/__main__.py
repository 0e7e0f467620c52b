"""Command line: ``python -m rethinking_lib {info,models,run,...}``.

    python -m rethinking_lib info                      versions, device, datasets available offline
    python -m rethinking_lib models --json             parameter counts beside Table 1
    python -m rethinking_lib run fig1bc --profile quick --json [--out DIR] [--seed N] [--rerun] [--set K=V]
    python -m rethinking_lib config fig1bc --profile paper --json   the resolved settings of every run
    python -m rethinking_lib plan --profile gpu --json              per chapter: runs, stored, estimated time
    python -m rethinking_lib data standin --out DIR                 stand-in CIFAR-10 / MNIST files (smoke runs)
    --smoke (run, config, plan): the smoke scale (config/smoke.py), e.g. on stand-in data: a test, not a result

Bad arguments exit with status 2 and one line naming the argument.
"""

from __future__ import annotations

import argparse
import json
import sys

SMOKE_HELP = ("the smoke scale: the profile's code path with tiny sizes, epochs, seeds and grids (config/smoke.py); "
              "a test of the code, not a result")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, naming the argument, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    from . import experiments
    from .config import profiles

    ap = _Parser(prog="python -m rethinking_lib", description="Experiments of 'Rethinking generalization'.")
    sub = ap.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    sub.add_parser("info", help="versions, device and which datasets load offline").add_argument("--json", action="store_true")
    sub.add_parser("models", help="parameter counts of the paper's models").add_argument("--json", action="store_true")
    r = sub.add_parser("run", help="run one experiment of the book")
    r.add_argument("experiment", choices=experiments.names(), metavar="EXPERIMENT",
                   help="one of " + ", ".join(experiments.names()))
    r.add_argument("--profile", default="auto", choices=list(profiles.PROFILES))
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--out", default=None, help="results folder (default $RETHINKING_RESULTS or ./results)")
    r.add_argument("--json", action="store_true", help="print one JSON object (results + provenance)")
    r.add_argument("--rerun", action="store_true", help="run again even if a stored result exists")
    r.add_argument("--accept-other-code", action="store_true",
                   help="load a stored run produced by other code (says so) instead of running it again")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config setting (VALUE is parsed as JSON), e.g. --set epochs=5")
    r.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    c = sub.add_parser("config", help="the fully resolved settings of every run an experiment trains")
    c.add_argument("experiment", choices=experiments.names(), metavar="EXPERIMENT",
                   help="one of " + ", ".join(experiments.names()))
    c.add_argument("--profile", default="auto", choices=list(profiles.PROFILES))
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="as for run")
    c.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    sub.add_parser("appendix", help="print the appendix page 'The paper's setup and our choices' (markdown)")
    _extra_commands(sub)
    args = ap.parse_args(argv)
    if getattr(args, "smoke", False):
        from .config import smoke

        smoke.enable()

    try:
        if args.cmd == "info":
            return _info(args.json)
        if args.cmd == "models":
            return _models(args.json)
        if args.cmd == "appendix":
            from .pages import appendix

            sys.stdout.write(appendix.appendix_markdown())
            return 0
        if args.cmd in ("run", "config"):
            overrides = {}
            for item in args.set:
                key, sep, value = item.partition("=")
                if not sep:
                    ap.error(f"argument --set: {item!r} is not KEY=VALUE")
                try:
                    overrides[key] = json.loads(value)
                except json.JSONDecodeError:
                    overrides[key] = value
            if getattr(args, "accept_other_code", False):
                import os

                os.environ["RETHINKING_ACCEPT_OTHER_CODE"] = "1"
        if args.cmd == "config":
            return _config(args.experiment, args.profile, args.seed, args.json, overrides)
        if args.cmd == "run":
            rec = experiments.run(args.experiment, args.profile, seed=args.seed, out=args.out,
                                  progress=False if args.json else None, rerun=args.rerun, **overrides)
            if args.json:
                print(json.dumps(rec))
            else:
                _summarize(rec)
            return 0
        return args.handler(args)
    except (ValueError, RuntimeError, FloatingPointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _extra_commands(sub) -> None:
    """Commands that live in their own modules: bench, sweep, plan, results pack|unpack, paper-scale-plan,
    data standin."""
    from .engine import data
    from .pages import paper_scale
    from .planning import bench, plan, sweep
    from .store import pack

    for m in (bench, sweep, plan, pack, paper_scale, data):
        m.add_cli(sub)


def _config(name: str, profile: str, seed: int, as_json: bool, overrides: dict) -> int:
    from . import experiments

    out = experiments.resolved(name, profile, seed=seed, **overrides)
    if as_json:
        print(json.dumps(out))
        return 0
    print(f"{name} at profile {out['profile']}: {len(out['runs'])} training runs")
    print("settings: " + json.dumps(out["settings"]))
    for r in out["runs"]:
        print(f"  {r['model']} w{r['width']:g} {r['dataset']} n={r['n_train']} {r['condition']}"
              + (f" p={r['p']}" if r["p"] is not None else "")
              + f" lr={r['lr']:g} decay/epoch={r['lr_decay']:.4f} ({r['lr_decay_per_step']:.6f}/step) "
              f"{r['epochs']} epochs ({r['steps']} steps) stop_at_100={r['stop_at_100']} wd={r['weight_decay']:g} "
              f"crop={r['crop']}{' random' if r['augment'] else ''} {r['precision']} {r['init']}")
    return 0


def _info(as_json: bool) -> int:
    import platform

    import torch

    from . import __version__
    from .engine import data, devices

    info = {"rethinking_lib": __version__, "python": platform.python_version(), "torch": torch.__version__,
            "cuda_available": torch.cuda.is_available(),
            "device": devices.name(),
            "datasets_available": data.available_offline(), "data_cache": str(data.cache_dir())}
    if as_json:
        print(json.dumps(info))
    else:
        for k, v in info.items():
            print(f"{k:20s} {v}")
    return 0


def _models(as_json: bool) -> int:
    from .engine import models

    rows = models.param_table()
    if as_json:
        print(json.dumps({r["model"]: {"params": r["params"], "paper": r["paper"]} for r in rows}))
    else:
        print(f"{'model':24s} {'ours':>12s} {'Table 1':>12s}")
        for r in rows:
            print(f"{r['label']:24s} {r['params']:12,d} {r['paper']:12,d}  {'ok' if r['match'] else 'MISMATCH'}")
    return 0


def _summarize(rec: dict) -> None:
    res = rec["result"]
    print(f"{rec['experiment']} ({rec['config'].get('profile')}, seed {rec['seed']}) "
          f"{'loaded from the results store' if rec.get('cached') else 'ran'} "
          f"in {rec['provenance']['wall_time']:.1f}s on {rec['provenance']['device']}")
    summary = res.get("summary") if isinstance(res, dict) else None
    print(json.dumps(summary if summary is not None else res, indent=1)[:4000])


if __name__ == "__main__":
    sys.exit(main())
