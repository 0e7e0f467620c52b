"""The benchmark (engine vs standard DataLoader pipeline, time to memorize) and the paper-scale plan."""

import json

import pytest
import torch

from rethinking_lib import paper
from rethinking_lib.__main__ import main
from rethinking_lib.engine import data
from rethinking_lib.planning import bench


def test_engine_throughput_on_cpu():
    r = bench.engine_throughput("mlp_1x512", device="cpu", steps=3, width=0.25)
    assert r["images_per_s"] > 0 and r["eval_images_per_s"] > 0 and r["finite_loss"]
    assert r["peak_mem_mb"] is None and r["precision"] == "fp32" and r["cuda_graph"] is False


def test_standard_pipeline_feeds_the_same_inputs_as_the_engine():
    """Per-sample PIL transforms give exactly the engine's centre crop + per-image whitening."""
    from torchvision import transforms as T

    ds = bench.UInt8Images(4, T.Compose([T.CenterCrop(28), T.ToTensor(), bench.PerImageWhitening()]))
    x, y = ds[2]
    raw = torch.from_numpy(ds.x[2]).permute(2, 0, 1)[None].float() / 255
    torch.testing.assert_close(x, data.preprocess(raw, 28)[0], rtol=1e-5, atol=1e-5)
    assert x.shape == (3, 28, 28) and y == int(ds.y[2])
    assert abs(float(x.mean())) < 1e-5 and float(x.std(correction=0)) == pytest.approx(1, abs=1e-4)


@pytest.mark.slow
def test_standard_throughput_with_two_workers():
    r = bench.standard_throughput("mlp_1x512", device="cpu", steps=3, width=0.25, workers=2, warmup=1)
    assert r["images_per_s"] > 0 and r["steps"] == 3 and r["workers"] == 2


@pytest.mark.slow
def test_time_to_memorize_small():
    # 150 one-step epochs: the batch-norm average needs the quick profile's faster decay (0.9, not 0.999)
    r = bench.time_to_memorize(device="cpu", n=64, width=0.125, epochs=150, progress=False, bn_decay=0.9)
    assert r["reached_100"] and r["final_train_acc"] == 1.0 and r["seconds"] > 0 and r["steps"] == r["epochs"]


def test_cli_quick_bench_writes_json_and_prints_table(tmp_path, capsys):
    out = tmp_path / "b.json"
    assert main(["bench", "--quick", "--models", "mlp_1x512", "--steps", "2", "--no-memorize", "--workers", "0",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| MLP 1x512 |" in text and "ratio" in text
    rec = json.loads(out.read_text())
    assert rec["quick"] and rec["rows"][0]["model"] == "mlp_1x512" and rec["rows"][0]["ratio"] > 0
    for key in ("torch", "device", "date", "python"):
        assert key in rec["provenance"]
    assert rec["targets"]["inception_small_images_per_s"] is None  # a quick run cannot say
    assert main(["bench", "--steps", "0"]) == 2


def test_benchmark_uses_the_papers_learning_rates():
    assert {m: bench.paper_lr(m) for m in paper.LR} == paper.LR


def test_targets_logic():
    row = lambda m, e, s: {"model": m, "engine": {"images_per_s": e}, "standard": {"images_per_s": s}, "ratio": e / s}  # noqa: E731
    rec = {"quick": False, "rows": [row("inception_small", 31_000, 8_000), row("mlp_1x512", 90_000, 10_000)],
           "memorize": {"reached_100": True, "seconds": 55.0}}
    assert bench.check_targets(rec) == {"ratio": True, "inception_small_images_per_s": True, "memorize_s": True}
    rec["rows"][0] = row("inception_small", 20_000, 8_000)
    rec["memorize"]["seconds"] = 70
    assert bench.check_targets(rec) == {"ratio": False, "inception_small_images_per_s": False, "memorize_s": False}
