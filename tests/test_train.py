"""The training loop (Appendix A): SGD + momentum, x0.95 per epoch, history, stop at 100%, NaN errors,
precision and speed-option selection, and checkpoints that resume with identical results."""

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import torch

from rethinking_lib.engine import data, devices, models, runs, train


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


class RunsCode:
    """Unpickling this calls ``Path.write_text``: what a crafted checkpoint could do with any function."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return Path.write_text, (self.marker, "ran")


def test_checkpoint_that_would_run_code_is_refused(tmp_path):
    """A checkpoint from a shared folder is unpickled with weights_only=True: anything but tensors and plain
    values is refused, unrun, with one line naming the file."""
    ds = tiny(n_train=64)
    ckpt, marker = tmp_path / "c.pt", tmp_path / "marker"
    cfg = train.TrainConfig(epochs=2, batch_size=32)
    train.fit(mlp(ds), ds, train.TrainConfig(epochs=1, batch_size=32), checkpoint=ckpt, progress=False)
    state = torch.load(ckpt, weights_only=True)  # a real checkpoint loads with it: tensors and plain values
    assert state["gen"].dtype == torch.uint8 and state["epoch"] == 1
    state["config"] = train.asdict(cfg)
    state["hist"]["note"] = RunsCode(marker)
    torch.save(state, ckpt)
    with pytest.raises(ValueError, match=r"checkpoint .*c\.pt holds more than tensors and plain values, refused"):
        train.fit(mlp(ds), ds, cfg, checkpoint=ckpt, progress=False)
    assert not marker.exists()
    torch.load(ckpt, weights_only=False)  # the same file, unpickled without the guard, runs the code
    assert marker.read_text() == "ran"


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
    code = ("import json, sys; from rethinking_lib.engine import runs; "
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
    epoch_at_kill = torch.load(ckpt, weights_only=True)["epoch"]
    assert 1 <= epoch_at_kill < SPEC["epochs"], "the run finished before it could be killed"
    assert not runs.results.run_path("train", runs.spec(**SPEC), killed).exists()

    resumed = runs.run_one(SPEC, out=killed, checkpoint=True, progress=False)
    reference = runs.run_one(SPEC, out=clean, progress=False)
    assert not resumed["cached"] and not ckpt.exists()
    assert without_times(resumed["result"]) == without_times(reference["result"])
    assert resumed["result"]["train_acc"] == reference["result"]["train_acc"]


def test_sgd_momentum_and_weight_decay_on_weights_only_match_a_hand_written_loop():
    """Full batch, momentum 0.9, weight decay on weight matrices only (not biases), lr x0.5 per epoch:
    PyTorch's SGD (buf = 0.9 * buf + grad + wd * w; w -= lr * buf) written out by hand."""
    ds = tiny(n_train=48)
    cfg = train.TrainConfig(lr=0.3, momentum=0.9, lr_decay=0.5, weight_decay=0.05, epochs=3, batch_size=48)
    model, ref = mlp(ds, width=0.05), mlp(ds, width=0.05)
    with torch.no_grad():  # non-zero biases, so decaying them too would show
        for a, b in zip(model.parameters(), ref.parameters(), strict=True):
            if a.ndim == 1:
                a.fill_(0.3)
                b.fill_(0.3)
    train.fit(model, ds, cfg, progress=False)
    x = data.whiten(data.center_crop(ds.x_train, ds.crop))
    bufs = [torch.zeros_like(p) for p in ref.parameters()]
    for epoch in range(3):
        ref.zero_grad()
        torch.nn.functional.cross_entropy(ref(x), ds.y_train).backward()
        with torch.no_grad():
            for p, buf in zip(ref.parameters(), bufs, strict=True):
                d = p.grad + (0.05 * p if p.ndim > 1 else 0)
                buf.mul_(0.9).add_(d)
                p -= 0.3 * 0.5 ** epoch * buf
    for p, q in zip(model.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_seed_sets_the_batch_order_and_the_history_records_the_run():
    ds = tiny(n_train=40, n_test=20)
    cfg = train.TrainConfig(lr=0.05, epochs=1, batch_size=8)
    t0 = time.perf_counter()
    a = train.fit(mlp(ds, width=0.05), ds, cfg, progress=False)
    assert 0 < a["wall_time"] <= time.perf_counter() - t0  # seconds since this run started
    b = train.fit(mlp(ds, width=0.05), ds, cfg, progress=False)
    c = train.fit(mlp(ds, width=0.05), ds, train.TrainConfig(lr=0.05, epochs=1, batch_size=8, seed=1), progress=False)
    assert a["step_loss"] == b["step_loss"] and a["step_loss"] != c["step_loss"]
    assert a["device"] == devices.name("cpu")
    assert a["config"] == dataclasses.asdict(cfg) and a["config"]["seed"] == 0
    assert a["compile"] is False and a["channels_last"] is True and a["epochs_to_100"] is None
    assert a["steps_to_100"] is None and a["wall_time"] == a["epochs"][-1]["time"]
    assert a["test_acc"] == a["epochs"][-1]["test_acc"]


def test_accuracies_are_the_models_on_the_centre_cropped_whitened_sets():
    ds = data.load("mnist5k", n_train=50, n_test=30)
    model = mlp(ds, width=0.05)
    h = train.fit(model, ds, train.TrainConfig(lr=0.05, epochs=1, batch_size=16, augment=True), progress=False)
    for split, key in (("train", "train_acc"), ("test", "test_acc")):
        x = data.whiten(data.center_crop(getattr(ds, f"x_{split}"), 24))
        y = getattr(ds, f"y_{split}")
        with torch.no_grad():
            ref = (model(x).argmax(1) == y).float().mean().item()
        assert h[key] == pytest.approx(ref)


def test_accuracy_counts_in_batches_and_restores_the_mode():
    lin = torch.nn.Linear(2, 3)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 0], [0, 1], [-1, -1]]))
        lin.bias.zero_()
    model = torch.nn.Sequential(torch.nn.Dropout(0.9), lin)  # in eval mode dropout is off: exact logits
    x = torch.tensor([[2.0, 0], [0, 2], [-2, -2], [2, 0], [0, 2]])
    y = torch.tensor([0, 1, 2, 1, 1])
    model.train()
    assert train.accuracy(model, x, y, batch_size=2) == pytest.approx(4 / 5)
    assert model.training
    model.eval()
    assert train.accuracy(model, x, y, batch_size=3) == pytest.approx(4 / 5) and not model.training
    assert train.accuracy(model, x[:0], y[:0]) == 0.0 and train.accuracy(model, x[:1], y[:1]) == 1.0


def test_a_nan_loss_names_the_epoch_step_and_learning_rate():
    class NanAtCall(torch.nn.Module):
        def __init__(self, at):
            super().__init__()
            self.lin, self.calls, self.at = torch.nn.Linear(64, 10), 0, at

        def forward(self, x):
            out = self.lin(x.flatten(1))
            if self.training:
                self.calls += 1
                if self.calls == self.at:
                    out = out * float("nan")
            return out

    ds = tiny(n_train=128)  # 4 steps per epoch: the 6th step is epoch 2's second
    with pytest.raises(FloatingPointError) as e:
        train.fit(NanAtCall(6), ds, train.TrainConfig(lr=0.01, epochs=3, batch_size=32), progress=False)
    assert str(e.value) == ("training loss became nan at epoch 2, step 6 (lr=0.0095): lower lr= or use "
                            "precision='fp32'")


def test_resumed_times_continue_from_the_checkpoint(tmp_path):
    ds = tiny(n_train=64)
    cfg = train.TrainConfig(epochs=3, batch_size=32)
    ckpt = tmp_path / "sub" / "dir" / "c.pt"
    t0 = time.perf_counter()

    def slow_then_die(hist):
        time.sleep(0.05)
        if len(hist["epochs"]) == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        train.fit(mlp(ds, width=0.05), ds, cfg, checkpoint=ckpt, progress=False, on_epoch=slow_then_die)
    state = torch.load(ckpt, weights_only=True)
    assert state["epoch"] == 2 and state["config"] == dataclasses.asdict(cfg) and state["scaler"] is None
    assert not (tmp_path / "sub" / "dir" / "c.pt.tmp").exists()
    h = train.fit(mlp(ds, width=0.05), ds, cfg, checkpoint=ckpt, progress=False)
    times = [e["time"] for e in h["epochs"]]
    assert times[0] < times[1] < times[2] <= time.perf_counter() - t0 and times[1] >= 0.05
    assert torch.load(ckpt, weights_only=True)["epoch"] == 3


def test_compiled_step_takes_full_batches_and_the_ragged_one_runs_eager(monkeypatch):
    calls = {"compiled": 0}

    class Counting(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            calls["compiled"] += 1
            return self.inner(x)

    monkeypatch.setattr(torch, "compile", Counting)
    ds = tiny(n_train=70)  # batches of 32, 32, 6
    h = train.fit(mlp(ds, width=0.05), ds, train.TrainConfig(epochs=2, batch_size=32, compile=True), progress=False)
    assert h["compile"] is True and calls["compiled"] == 4 and len(h["step_loss"]) == 6


def test_config_bounds_and_messages():
    for ok in (dict(batch_size=1, epochs=1, eval_batch_size=1), dict(momentum=0.0, lr_decay=1.0, weight_decay=0.0),
               dict(precision="bf16"), dict(precision="fp16"), dict(precision="auto"),
               dict(channels_last=False, compile=True, cuda_graph="auto")):
        train.TrainConfig(**ok)
    bad = [("lr", -0.1, "a positive learning rate such as 0.01"), ("batch_size", 0, "a positive integer such as 128"),
           ("batch_size", 2.0, "a positive integer such as 128"), ("epochs", 0, "a positive integer"),
           ("epochs", 1.5, "a positive integer"), ("momentum", 1.0, "a value in [0, 1)"),
           ("momentum", -0.1, "a value in [0, 1)"), ("lr_decay", 0.0, "a value in (0, 1]"),
           ("lr_decay", 1.01, "a value in (0, 1]"), ("weight_decay", -1e-4, "a non-negative value such as 5e-4"),
           ("precision", "fp64", "one of auto, fp32, bf16, fp16"),
           ("eval_batch_size", 0, "a positive integer such as 2048"),
           ("eval_batch_size", 8.0, "a positive integer such as 2048"),
           ("channels_last", "on", "True, False or 'auto'"), ("compile", None, "True, False or 'auto'")]
    for name, value, want in bad:
        with pytest.raises(ValueError) as e:
            train.TrainConfig(**{name: value})
        assert str(e.value) == f"{name}={value!r} is invalid: pass {want}"


def test_precision_helpers():
    assert train.resolve_precision("fp32", torch.device("cuda")) == "fp32"
    assert train.resolve_precision("bf16", "cuda") == "bf16" and train.resolve_precision("fp16", "cpu") == "fp32"
    assert train.amp_dtype("bf16") is torch.bfloat16 and train.amp_dtype("fp16") is torch.float16
    assert train.amp_dtype("fp32") is None
    assert train.grad_scaler("bf16") is None and train.grad_scaler("fp32") is None
    with warnings.catch_warnings():  # a CPU-only machine warns that the scaler is disabled
        warnings.simplefilter("ignore")
        assert isinstance(train.grad_scaler("fp16"), torch.amp.GradScaler)
    off = train.TrainConfig(channels_last=False, compile=False, cuda_graph=False)
    assert train.resolve_speed(off, "cuda", "bf16") == {"channels_last": False, "compile": False, "cuda_graph": False}
    assert train.resolve_speed(train.TrainConfig(compile=True), "cpu", "fp32")["compile"] is True
    assert train.resolve_speed(train.TrainConfig(cuda_graph=True), "cuda", "bf16")["cuda_graph"] is True


def test_progress_flag_and_environment(monkeypatch):
    monkeypatch.delenv("RETHINKING_PROGRESS", raising=False)
    assert train.progress_enabled(None) is True
    monkeypatch.setenv("RETHINKING_PROGRESS", "0")
    assert train.progress_enabled(None) is False and train.progress_enabled(True) is True
    monkeypatch.setenv("RETHINKING_PROGRESS", "1")
    assert train.progress_enabled(None) is True and train.progress_enabled(False) is False


def test_setup_splits_decay_and_builds_the_optimizer(monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    torch.manual_seed(0)
    model = models.build("inception_small", in_channels=1, image_size=8, width=0.0625)
    eng = train.setup(model, train.TrainConfig(lr=0.07, momentum=0.8, weight_decay=1e-3, channels_last=False), "cpu")
    decay, no_decay = eng.opt.param_groups
    assert decay["weight_decay"] == 1e-3 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim > 1 for p in decay["params"]) and all(p.ndim == 1 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))
    assert float(decay["lr"]) == pytest.approx(0.07) and decay["momentum"] == 0.8
    assert eng.memory_format == torch.contiguous_format and eng.amp_dtype is None and eng.scaler is None
    assert eng.precision == "fp32" and eng.speed == {"channels_last": False, "compile": False, "cuda_graph": False}
    cl = train.setup(models.build("alexnet_small", in_channels=3, image_size=8, width=0.125), train.TrainConfig(), "cpu")
    assert cl.memory_format == torch.channels_last
    w = next(cl.model.parameters())
    assert w.shape[1] == 3 and w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous()
    assert torch.backends.cudnn.benchmark is False  # a CUDA-only setting, left alone on the CPU
    frozen = torch.nn.Linear(3, 2)
    frozen.bias.requires_grad_(False)
    decay, no_decay = train._split_decay(frozen)
    assert decay == [frozen.weight] and no_decay == []


def test_graphed_step_replays_one_graph_per_batch_size(monkeypatch):
    """The replay logic (the capture itself needs CUDA: gpu_checks/speed.py compares graph and eager runs)."""
    captured = []

    class FakeGraph:
        def __init__(self, fn, x, y):
            self.fn, self.x, self.y, self.out = fn, x, y, torch.zeros(())

        def replay(self):
            self.out.copy_(self.fn(self.x, self.y))

    def fake_capture(self, xb, yb):
        g = FakeGraph(self.step, xb.clone(), yb.clone())
        captured.append(len(yb))
        return g, g.x, g.y, g.out

    monkeypatch.setattr(train._GraphedStep, "_capture", fake_capture)
    g = train._GraphedStep(lambda x, y: (x.sum() + y.sum()).float(), None, None)
    assert g.warmup == 3
    assert float(g(torch.ones(4), torch.ones(4, dtype=torch.long))) == 8.0
    assert float(g(3 * torch.ones(4), torch.zeros(4, dtype=torch.long))) == 12.0  # new inputs copied in
    assert float(g(torch.ones(2), torch.ones(2, dtype=torch.long))) == 4.0
    assert captured == [4, 2]  # one capture per batch size


def test_graphed_step_state_is_restored_in_place_momentum_included():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    step = train.train_step(model, opt, None, None)
    x, y = torch.randn(8, 3), torch.randint(0, 2, (8,))
    g = train._GraphedStep(step, model, opt)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    saved = g._state()  # no momentum buffers yet
    params = list(model.parameters())
    addresses = [p.data_ptr() for p in params]
    for _ in range(3):
        step(x, y)
    g._restore(saved)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert [p.data_ptr() for p in params] == addresses  # in place
    assert all(torch.all(opt.state[p]["momentum_buffer"] == 0) for p in params)  # "before the first step"
    step(x, y)
    mid = g._state()
    bufs = [opt.state[p]["momentum_buffer"].clone() for p in params]
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    step(x, y)
    g._restore(mid)
    assert all(torch.equal(opt.state[p]["momentum_buffer"], b) for p, b in zip(params, bufs, strict=True))
    assert all(torch.equal(v, weights[k]) for k, v in model.state_dict().items())
    plain = torch.optim.SGD(model.parameters(), lr=0.1)  # momentum 0: no buffers to restore
    g0 = train._GraphedStep(train.train_step(model, plain, None, None), model, plain)
    s0 = g0._state()
    g0.step(x, y)
    g0._restore(s0)
    assert all(torch.equal(v, weights[k]) for k, v in model.state_dict().items())


def test_progress_bar_counts_epochs_from_where_a_run_resumes(monkeypatch):
    import tqdm.auto

    made = []
    monkeypatch.setattr(tqdm.auto, "tqdm", lambda **kw: made.append(kw) or kw)  # no real bar: no output, no threads
    train._bar(7, 2, "resnet", True)
    train._bar(7, 0, "x", False)
    assert made == [dict(total=7, initial=2, desc="resnet", unit="epoch", leave=False, disable=False),
                    dict(total=7, initial=0, desc="x", unit="epoch", leave=False, disable=True)]


def _first_batch_loss(ds, cfg, model, augment):
    """The first step's loss by hand: the seeded permutation, then (augmenting) random crops from the same generator."""
    gen = torch.Generator().manual_seed(cfg.seed)
    perm = torch.randperm(len(ds.y_train), generator=gen)
    x = data.preprocess(ds.x_train[perm], ds.crop, augment=augment, generator=gen)
    with torch.no_grad():
        return torch.nn.functional.cross_entropy(model(x[:cfg.batch_size]), ds.y_train[perm][:cfg.batch_size]).item()


def test_first_step_sees_centre_crops_or_random_crops_as_configured():
    ds = data.load("mnist5k", n_train=40, n_test=10)  # 28x28 cropped to 24
    for augment in (False, True):
        cfg = train.TrainConfig(lr=0.05, epochs=1, batch_size=16, augment=augment)
        ref = _first_batch_loss(ds, cfg, mlp(ds, width=0.05), augment)
        other = _first_batch_loss(ds, cfg, mlp(ds, width=0.05), not augment)
        h = train.fit(mlp(ds, width=0.05), ds, cfg, progress=False)
        assert h["step_loss"][0] == pytest.approx(ref, rel=1e-5) and h["step_loss"][0] != pytest.approx(other, rel=1e-3)


def test_the_progress_bar_follows_the_epochs(tmp_path, monkeypatch):
    made = []

    class Bar:
        def __init__(self, *args):
            self.args, self.updates, self.postfix, self.closed = args, 0, [], False
            made.append(self)

        def update(self, k):
            self.updates += k

        def set_postfix(self, **kw):
            self.postfix.append(kw)

        def close(self):
            self.closed = True

    monkeypatch.setattr(train, "_bar", Bar)
    ds = tiny(n_train=64)
    cfg = train.TrainConfig(epochs=3, batch_size=32)
    ckpt = tmp_path / "c.pt"

    def die_after_one(hist):
        raise Interrupt

    with pytest.raises(Interrupt):
        train.fit(mlp(ds, width=0.05), ds, cfg, checkpoint=ckpt, progress=False, on_epoch=die_after_one)
    h = train.fit(mlp(ds, width=0.05), ds, cfg, checkpoint=ckpt, progress=True)
    assert made[0].args == (3, 0, "train", False) and made[1].args == (3, 1, "train", True)
    assert made[1].updates == 2 and made[1].closed
    e = h["epochs"][-1]
    assert made[1].postfix[-1] == {"loss": f"{e['loss']:.3f}", "train": f"{e['train_acc']:.3f}",
                                   "test": f"{e['test_acc']:.3f}"}


def test_a_gradient_scalers_state_is_checkpointed_and_restored(tmp_path, monkeypatch):
    """fp16 runs need CUDA; here a stand-in scaler (scale 1) takes the real scaler's place in the step and checkpoint."""
    loaded = []

    class Scaler:
        def __init__(self):
            self.steps = 0

        def scale(self, loss):
            return loss

        def step(self, opt):
            self.steps += 1
            opt.step()

        def update(self):
            pass

        def state_dict(self):
            return {"steps": self.steps}

        def load_state_dict(self, state):
            loaded.append(state)
            self.steps = state["steps"]

    monkeypatch.setattr(train, "grad_scaler", lambda precision: Scaler())
    ds = tiny(n_train=64)
    cfg = train.TrainConfig(epochs=3, batch_size=32)
    ckpt = tmp_path / "c.pt"

    def die_after_two(hist):
        if len(hist["epochs"]) == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        train.fit(mlp(ds, width=0.05), ds, cfg, checkpoint=ckpt, progress=False, on_epoch=die_after_two)
    assert torch.load(ckpt, weights_only=True)["scaler"] == {"steps": 4}
    train.fit(mlp(ds, width=0.05), ds, cfg, checkpoint=ckpt, progress=False)
    assert loaded == [{"steps": 4}] and torch.load(ckpt, weights_only=True)["scaler"] == {"steps": 6}


def test_flip_rotate_is_seeded_batched_and_keeps_the_image():
    """Table 4's augmentation: a seeded flip + rotation per image; at 0 degrees each image is itself or its mirror,
    and a rotation by +-25 degrees moves pixels (corners come in black)."""
    x = torch.rand(6, 1, 28, 28)
    a = data.flip_rotate(x, torch.Generator().manual_seed(3))
    b = data.flip_rotate(x, torch.Generator().manual_seed(3))
    assert a.shape == x.shape and torch.equal(a, b)
    assert not torch.equal(a, data.flip_rotate(x, torch.Generator().manual_seed(4)))
    z = data.flip_rotate(x, torch.Generator().manual_seed(3), max_degrees=0.0)
    for i in range(6):
        assert min((z[i] - x[i]).abs().max(), (z[i] - x[i].flip(-1)).abs().max()) < 1e-5
    assert (a - x).abs().max() > 0.1 and a.min() >= 0.0
    out = data.preprocess(x, 24, augment="flip_rotate", generator=torch.Generator().manual_seed(3))
    assert out.shape == (6, 1, 24, 24)
    with pytest.raises(ValueError, match="augment='rotate' is unknown"):
        data.preprocess(x, 24, augment="rotate")
    with pytest.raises(ValueError, match="augment="):
        train.TrainConfig(augment="rotate")


def test_flip_rotate_training_draws_new_views_each_epoch_and_is_reproducible():
    ds = tiny(64, 32)
    cfg = train.TrainConfig(lr=0.05, epochs=2, batch_size=32, augment="flip_rotate")
    h1 = train.fit(mlp(ds), ds, cfg, progress=False)
    h2 = train.fit(mlp(ds), ds, cfg, progress=False)
    plain = train.fit(mlp(ds), ds, dataclasses.replace(cfg, augment=False), progress=False)
    assert h1["step_loss"] == h2["step_loss"] and h1["step_loss"] != plain["step_loss"]


def test_weight_decay_on_hidden_fc_layers_only():
    """The TF CIFAR-10 tutorial's AlexNet decays only its two hidden fully connected layers' weights."""
    net = models.build("alexnet_small", in_channels=1, image_size=24, width=0.25)
    decay, rest = train._split_decay(net, "hidden_fc")
    linears = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 3 and [id(p) for p in decay] == [id(m.weight) for m in linears[:2]]
    every, _ = train._split_decay(net, "weights")
    assert len(every) == sum(p.ndim > 1 for p in net.parameters()) > len(decay)
    with pytest.raises(ValueError, match="weight_decay_on='conv'"):
        train.TrainConfig(weight_decay_on="conv")
    assert runs.spec(weight_decay=0.004, weight_decay_on="hidden_fc")["weight_decay_on"] == "hidden_fc"
    assert "weight_decay_on" not in runs.spec(weight_decay=5e-4)  # the default leaves stored runs' keys unchanged
