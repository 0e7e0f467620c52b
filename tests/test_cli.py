"""The command line: models, info, and one-line errors for bad arguments."""

import json
import subprocess
import sys

import pytest


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "rethinking_lib", *args], capture_output=True, text=True, env=env)


def test_models_json_prints_table1_counts():
    r = cli("models", "--json")
    assert r.returncode == 0
    counts = {k: v["params"] for k, v in json.loads(r.stdout).items()}
    assert counts == {"inception_small": 1_649_402, "inception_small_nobn": 1_649_402,
                      "alexnet_small": 1_387_786, "mlp_1x512": 1_209_866, "mlp_3x512": 1_735_178}


def test_info_lists_offline_datasets():
    r = cli("info", "--json")
    assert r.returncode == 0
    have = json.loads(r.stdout)["datasets_available"]
    assert have["mnist5k"] and have["digits"] and have["gaussian"]


@pytest.mark.parametrize("args,word", [(["run", "fig9"], "EXPERIMENT"), (["run", "fig1a", "--profile", "huge"], "--profile"),
                                       (["run", "fig1a", "--seed", "x"], "--seed"), (["frobnicate"], "frobnicate"),
                                       (["run", "fig1bc", "--set", "nonsense=1", "--profile", "quick"], "nonsense")])
def test_bad_arguments_exit_nonzero_with_one_line(args, word):
    r = cli(*args)
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert lines and word in lines[-1]
    assert "Traceback" not in r.stderr
