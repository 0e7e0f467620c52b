"""The training loop (Appendix A): SGD + momentum, x0.95 per epoch, history, stop at 100%, NaN errors,
precision and speed-option selection, and checkpoints that resume with identical results."""

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from rethinking_lib import data, models, runs, train


def tiny(n_train=256, n_test=100):
    return data.load("digits", n_train=n_train, n_test=n_test)


def mlp(ds, seed=0, width=0.25):
    torch.manual_seed(seed)
    return models.build("mlp_1x512", in_channels=ds.in_channels, image_size=ds.image_size, width=width)


def without_times(hist):
    h = dict(hist, epochs=[{k: v for k, v in e.items() if k != "time"} for e in hist["epochs"]])
    h.pop("wall_time", None)
    return h


class Interrupt(Exception):
    pass


def test_history_fields_and_lr_schedule():
    ds = tiny(n_train=300)
    cfg = train.TrainConfig(lr=0.02, epochs=4, batch_size=64)
    h = train.fit(mlp(ds), ds, cfg, progress=False)
    steps_per_epoch = math.ceil(300 / 64)
    assert len(h["step_loss"]) == 4 * steps_per_epoch
    assert [e["epoch"] for e in h["epochs"]] == [1, 2, 3, 4]
    assert [e["step"] for e in h["epochs"]] == [steps_per_epoch * k for k in (1, 2, 3, 4)]
    assert [e["lr"] for e in h["epochs"]] == pytest.approx([0.02 * 0.95 ** k for k in range(4)])
    for e in h["epochs"]:
        assert 0 <= e["train_acc"] <= 1 and 0 <= e["test_acc"] <= 1 and e["time"] > 0
        assert e["loss"] == pytest.approx(sum(h["step_loss"][e["step"] - steps_per_epoch:e["step"]]) / steps_per_epoch)
    assert h["train_acc"] == h["epochs"][-1]["train_acc"] and h["steps"] == 4 * steps_per_epoch
    assert h["precision"] == "fp32" and h["cuda_graph"] is False and h["epochs_run"] == 4
    assert h["step_loss"][-1] < h["step_loss"][0]  # it learns


def test_lr_decay_is_applied_to_the_updates():
    """Full-batch gradient descent (momentum 0): fit's parameters equal a hand-written loop with lr x0.5 per epoch."""
    ds = tiny(n_train=64)
    cfg = train.TrainConfig(lr=0.5, momentum=0.0, lr_decay=0.5, epochs=3, batch_size=64)
    model = mlp(ds)
    ref = mlp(ds)
    train.fit(model, ds, cfg, progress=False)
    x = data.whiten(data.center_crop(ds.x_train, ds.crop))
    for epoch in range(3):
        ref.zero_grad()
        torch.nn.functional.cross_entropy(ref(x), ds.y_train).backward()
        with torch.no_grad():
            for p in ref.parameters():
                p -= 0.5 * 0.5 ** epoch * p.grad
    for p, q in zip(model.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
    # a run without decay ends elsewhere: the schedule matters
    flat = mlp(ds)
    train.fit(flat, ds, train.TrainConfig(lr=0.5, momentum=0.0, lr_decay=1.0, epochs=3, batch_size=64), progress=False)
    assert not torch.allclose(next(flat.parameters()), next(model.parameters()))


def test_stop_at_100_stops_and_the_cap_holds():
    ds = tiny(n_train=64)
    cfg = train.TrainConfig(lr=0.05, epochs=200, batch_size=32, stop_at_100=True)
    h = train.fit(mlp(ds), ds, cfg, progress=False)
    assert h["epochs_to_100"] is not None and h["epochs_run"] == h["epochs_to_100"] < 200
    assert h["train_acc"] == 1.0 and h["steps_to_100"] == h["epochs_to_100"] * 2
    assert all(e["train_acc"] < 1.0 for e in h["epochs"][:-1])
    capped = train.fit(mlp(ds), ds, train.TrainConfig(lr=0.05, epochs=h["epochs_to_100"] + 3, batch_size=32), progress=False)
    assert capped["epochs_run"] == h["epochs_to_100"] + 3 and capped["epochs_to_100"] == h["epochs_to_100"]


def test_nan_loss_raises_a_clear_error():
    ds = tiny(n_train=128)
    with pytest.raises(FloatingPointError, match=r"training loss became .* lower lr="):
        train.fit(mlp(ds), ds, train.TrainConfig(lr=1e12, epochs=3, batch_size=32), progress=False)


def test_precision_selection(monkeypatch):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert train.resolve_precision("auto", cpu) == "fp32"
    assert train.resolve_precision("bf16", cpu) == "fp32"  # autocast on CPU is slower for these nets
    assert train.resolve_precision("fp16", cuda) == "fp16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert train.resolve_precision("auto", cuda) == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)  # e.g. a T4
    assert train.resolve_precision("auto", cuda) == "fp16"


def test_speed_option_selection():
    auto = train.TrainConfig()
    assert train.resolve_speed(auto, torch.device("cpu"), "fp32") == train.CPU_AUTO
    assert train.CPU_AUTO["cuda_graph"] is False and train.CPU_AUTO["compile"] is False
    assert train.TrainConfig().precision == "fp32"  # the paper's; mixed precision is an explicit option
    assert train.resolve_speed(auto, torch.device("cuda"), "bf16") == train.CUDA_AUTO
    forced = train.TrainConfig(cuda_graph=True, channels_last=True)
    assert train.resolve_speed(forced, torch.device("cpu"), "fp32")["cuda_graph"] is False  # nothing to capture
    assert train.resolve_speed(forced, torch.device("cpu"), "fp32")["channels_last"] is True
    assert train.resolve_speed(forced, torch.device("cuda"), "fp16")["cuda_graph"] is False  # the scaler syncs
    with pytest.raises(ValueError, match="cuda_graph='yes'"):
        train.TrainConfig(cuda_graph="yes")
    with pytest.raises(ValueError, match="lr="):
        train.TrainConfig(lr=0)


def test_channels_last_gives_the_same_training_on_cpu():
    ds = data.load("mnist5k", n_train=128, n_test=64)
    out = []
    for cl in (False, True):
        torch.manual_seed(0)
        m = models.build("alexnet_small", in_channels=1, image_size=ds.image_size, width=0.125)
        out.append(train.fit(m, ds, train.TrainConfig(epochs=2, batch_size=64, channels_last=cl), progress=False))
    assert out[1]["channels_last"] is True
    assert out[0]["step_loss"] == pytest.approx(out[1]["step_loss"], rel=1e-4)


def test_interrupted_then_resumed_equals_uninterrupted(tmp_path):
    """With random crops (the generator's state matters) and momentum (the optimizer's state matters)."""
    ds = data.load("mnist5k", n_train=200, n_test=100)
    cfg = train.TrainConfig(lr=0.02, epochs=5, batch_size=64, augment=True)
    full_model = mlp(ds)
    full = train.fit(full_model, ds, cfg, progress=False)

    ckpt = tmp_path / "run.pt"

    def die_after_two(hist):
        if len(hist["epochs"]) == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        train.fit(mlp(ds), ds, cfg, checkpoint=ckpt, progress=False, on_epoch=die_after_two)
    assert ckpt.exists()
    resumed_model = mlp(ds, seed=123)  # another init: the checkpoint must overwrite it
    seen = []
    resumed = train.fit(resumed_model, ds, cfg, checkpoint=ckpt, progress=False,
                        on_epoch=lambda h: seen.append(len(h["epochs"])))
    assert seen == [3, 4, 5]  # it trained only the missing epochs
    assert without_times(resumed) == without_times(full)
    for p, q in zip(full_model.state_dict().values(), resumed_model.state_dict().values(), strict=True):
        assert torch.equal(p, q)


def test_checkpoint_with_another_config_is_refused(tmp_path):
    ds = tiny(n_train=64)
    ckpt = tmp_path / "c.pt"
    train.fit(mlp(ds), ds, train.TrainConfig(epochs=1, batch_size=32), checkpoint=ckpt, progress=False)
    with pytest.raises(ValueError, match="another config"):
        train.fit(mlp(ds), ds, train.TrainConfig(epochs=2, batch_size=32), checkpoint=ckpt, progress=False)


SPEC = dict(model="mlp_1x512", width=0.25, dataset="digits", n_train=400, n_test=100, condition="random_labels",
            lr=0.02, epochs=40, stop_at_100=False, batch_size=32)


def test_run_one_checkpoint_is_removed_once_stored(tmp_path):
    s = dict(SPEC, epochs=2)
    rec = runs.run_one(s, out=tmp_path, checkpoint=True, progress=False)
    assert not rec["cached"] and rec["result"]["epochs_run"] == 2
    assert not any((tmp_path / "checkpoints").glob("*.pt"))
    assert runs.run_one(s, out=tmp_path, checkpoint=True, progress=False)["cached"]


@pytest.mark.slow
def test_run_killed_with_sigkill_resumes_with_the_same_metrics(tmp_path):
    """A real process killed after its first checkpoint, restarted, ends the same."""
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    code = ("import json, sys; from rethinking_lib import runs; "
            "runs.run_one(json.loads(sys.argv[1]), out=sys.argv[2], checkpoint=True, progress=False)")
    env = dict(os.environ, RETHINKING_PROGRESS="0")
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(SPEC), str(killed)], env=env)
    ckpt = runs.results.checkpoint_path("train", runs.spec(**SPEC), killed)
    deadline = time.time() + 300
    while not ckpt.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert ckpt.exists(), "no checkpoint appeared"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    epoch_at_kill = torch.load(ckpt, weights_only=False)["epoch"]
    assert 1 <= epoch_at_kill < SPEC["epochs"], "the run finished before it could be killed"
    assert not runs.results.run_path("train", runs.spec(**SPEC), killed).exists()

    resumed = runs.run_one(SPEC, out=killed, checkpoint=True, progress=False)
    reference = runs.run_one(SPEC, out=clean, progress=False)
    assert not resumed["cached"] and not ckpt.exists()
    assert without_times(resumed["result"]) == without_times(reference["result"])
    assert resumed["result"]["train_acc"] == reference["result"]["train_acc"]
