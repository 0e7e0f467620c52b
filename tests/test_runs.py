"""Run specs (Sections 2-3's training runs as data): defaults, the paper's decay per step, sizes, keys, names."""

import math

import pytest
import torch

from rethinking_lib import paper
from rethinking_lib.engine import runs, train
from rethinking_lib.store import results


def test_spec_fills_defaults_from_the_training_config_and_refuses_unknown_keys():
    s = runs.spec(model="alexnet_small", epochs=3)
    cfg = train.TrainConfig()
    assert s["model"] == "alexnet_small" and s["epochs"] == 3
    assert all(s[k] == getattr(cfg, k) for k in ("lr", "momentum", "weight_decay", "batch_size", "augment"))
    assert s["lr_decay"] == cfg.lr_decay and set(s) == set(runs.DEFAULTS)
    assert runs.spec() == runs.DEFAULTS and runs.spec() is not runs.DEFAULTS
    with pytest.raises(ValueError, match=r"^unknown run setting\(s\) colour, size; known: model, width, init, "):
        runs.spec(size=3, colour="red", epochs=2)


def test_paper_decay_is_the_papers_decay_per_step():
    """0.95 per 391-step CIFAR-10 epoch; a subset's shorter epoch decays by 0.95 ** (its steps / 391)."""
    assert runs.paper_lr_decay(50_000) == pytest.approx(0.95, rel=1e-15)  # CIFAR-10 itself: 391 steps
    assert runs.paper_lr_decay(50_000, 128, 391) == runs.paper_lr_decay(50_000)
    for n, b in ((4_000, 128), (4_001, 128), (1_297, 64), (60_000, 100), (100, 128)):
        steps = math.ceil(n / b)
        per_step = runs.paper_lr_decay(n, b) ** (1 / steps)
        assert per_step == pytest.approx(0.95 ** (1 / 391), rel=1e-13), (n, b)
    assert runs.paper_lr_decay(4_096, 128) == pytest.approx(0.95 ** (32 / 391))
    assert runs.paper_lr_decay(4_097, 128) == pytest.approx(0.95 ** (33 / 391))
    assert runs.paper_lr_decay(1_000, 10, 50) == pytest.approx(0.95 ** 2)
    # spec resolves "paper" at the run's own size and batch size
    assert runs.spec(dataset="mnist5k", lr_decay="paper")["lr_decay"] == pytest.approx(0.95 ** (32 / 391))
    assert runs.spec(dataset="mnist5k", n_train=640, batch_size=64, lr_decay="paper")["lr_decay"] == \
        pytest.approx(0.95 ** (10 / 391))
    assert runs.spec(dataset="cifar10", lr_decay="paper")["lr_decay"] == pytest.approx(0.95)
    # a dataset of unknown size (an image folder): the paper's per-epoch factor
    assert runs.spec(dataset="folder", lr_decay="paper")["lr_decay"] == paper.LR_DECAY_PER_EPOCH
    assert runs.spec(lr_decay=0.5)["lr_decay"] == 0.5


@pytest.mark.parametrize("dataset,n_train,size", [
    ("mnist5k", None, 4_000), ("mnist5k", 100, 100), ("mnist5k", 10_000, 4_000), ("cifar10", None, 50_000),
    ("mnist", 60_001, 60_000), ("digits", None, 1_297),
    ("gaussian", None, 50_000), ("gaussian", 100_000, 100_000),  # generated: any size
    ("folder", None, None), ("folder", 70, 70),
])
def test_train_size_and_steps_per_epoch(dataset, n_train, size):
    s = runs.spec(dataset=dataset, n_train=n_train, batch_size=64)
    assert runs.train_size(s) == size
    assert runs.steps_per_epoch(s) == (None if size is None else math.ceil(size / 64))


def test_steps_per_epoch_rounds_up():
    assert runs.steps_per_epoch(runs.spec(dataset="mnist5k", batch_size=128)) == 32  # 31.25 steps
    assert runs.steps_per_epoch(runs.spec(dataset="mnist5k", n_train=129, batch_size=128)) == 2
    assert runs.steps_per_epoch(runs.spec(dataset="mnist5k", n_train=128, batch_size=128)) == 1


def test_describe_names_model_data_condition_and_regularizers():
    assert runs.describe(runs.spec()) == "mlp_1x512 mnist5k true_labels"
    s = runs.spec(model="alexnet_small", dataset="cifar10", condition="partial_labels", p=0.5, augment=True,
                  weight_decay=5e-4)
    assert runs.describe(s) == "alexnet_small cifar10 partial_labels p=0.5 +crop +wd"
    assert runs.describe(runs.spec(condition="partial_labels", p=0)) == "mlp_1x512 mnist5k partial_labels p=0"
    assert runs.describe({"model": "m", "dataset": "d", "condition": "c"}) == "m d c"  # a bare dict works too
    assert runs.describe(runs.spec(weight_decay=0.0, augment=False)) == "mlp_1x512 mnist5k true_labels"


def test_keys_unique_and_seeded():
    a, b = dict(epochs=2), dict(epochs=2, seed=1)
    assert runs.key(a) == results.config_key("train", runs.spec(epochs=2)) == runs.key(runs.spec(**a))
    assert runs.key(a) != runs.key(b)
    full = runs.spec(**a)
    assert runs.unique([a, b, full, b, dict(epochs=3)]) == [a, b, dict(epochs=3)]  # first occurrence kept
    assert runs.unique([]) == []
    cfg = {"models": ["m"], "run": {"epochs": 4, "seed": 9}}
    out = runs.seeded(cfg, 3)
    assert out == {"models": ["m"], "run": {"epochs": 4, "seed": 3, "corruption_seed": 3}}
    assert cfg == {"models": ["m"], "run": {"epochs": 4, "seed": 9}}  # the input is not changed
    out["models"].append("x")
    assert cfg["models"] == ["m"]  # a deep copy
    assert runs.seeded({}, 1) == {"run": {"seed": 1, "corruption_seed": 1}}


@pytest.mark.parametrize("dataset,crop,shape", [
    ("cifar10", "paper", (3, 28)), ("mnist", "paper", (1, 24)), ("mnist5k", "paper", (1, 24)),
    ("digits", "paper", (1, 8)), ("gaussian", "paper", (3, 28)), ("folder", "paper", (3, 28)),
    ("cifar10", None, (3, 32)), ("mnist", 20, (1, 20)), ("digits", None, (1, 8)),
])
def test_input_shape(dataset, crop, shape):
    assert runs.input_shape(runs.spec(dataset=dataset, crop=crop)) == shape


def test_labels():
    assert runs.label("mlp_1x512") == "MLP 1x512"
    assert runs.label("random_labels") == "random labels"
    assert runs.label("partial_labels") == "partially corrupted labels"
    assert runs.label("something_else") == "something_else"


def test_stored_follows_the_store(tmp_path):
    s = dict(epochs=1, seed=5)
    assert not runs.stored(s, tmp_path)
    results.save("train", runs.spec(**s), {"epochs_run": 1}, seed=5, out=tmp_path)
    assert runs.stored(s, tmp_path) and runs.stored(runs.spec(**s), out=tmp_path)
    assert not runs.stored(dict(s, seed=6), tmp_path)


def test_train_spec_hands_every_setting_to_its_place(tmp_path, monkeypatch):
    """data.load, corrupt.apply, models.build and train.fit each get the spec's own values (spied on)."""
    from rethinking_lib.engine import corrupt, data, models

    calls = {}

    def spy(mod, name):
        real = getattr(mod, name)

        def wrapper(*a, **kw):
            calls[name] = (a, kw)
            out = real(*a, **kw)
            calls[name + "_out"] = out
            return out

        monkeypatch.setattr(mod, name, wrapper)

    for mod, name in ((data, "load"), (corrupt, "apply"), (models, "build"), (train, "fit")):
        spy(mod, name)
    s = runs.spec(model="mlp_1x512", width=0.125, init="he_normal", bn_decay=0.9, dataset="digits", n_train=48,
                  n_test=20, crop="paper", root=str(tmp_path / "data"), data_seed=3, condition="partial_labels", p=0.5,
                  corruption_seed=4,
                  corrupt_test=True, lr=0.03, momentum=0.5, lr_decay=0.9, weight_decay=1e-4, batch_size=16, epochs=2,
                  seed=5, keep_step_loss=False)
    ckpt = tmp_path / "c.pt"
    hist = runs.train_spec(s, progress=False, checkpoint=ckpt)
    a, kw = calls["load"]
    assert a == ("digits",) and kw == {"device": torch.device("cpu"), "crop": "paper", "n_train": 48, "n_test": 20,
                                       "seed": 3, "root": str(tmp_path / "data")}
    a, kw = calls["apply"]
    assert a == (calls["load_out"], "partial_labels") and kw == {"p": 0.5, "seed": 4, "corrupt_test": True}
    a, kw = calls["build"]
    ds = calls["apply_out"]
    assert a == ("mlp_1x512",) and kw == {"in_channels": 1, "image_size": 8, "num_classes": 10, "width": 0.125,
                                          "bn_decay": 0.9, "init": "he_normal"}
    a, kw = calls["fit"]
    assert a[0] is calls["build_out"] and a[1] is ds
    assert a[2] == train.TrainConfig(lr=0.03, momentum=0.5, lr_decay=0.9, weight_decay=1e-4, batch_size=16, epochs=2,
                                     seed=5)
    assert kw == {"checkpoint": ckpt, "progress": False, "desc": "mlp_1x512 digits partial_labels p=0.5 +wd"}
    assert hist["n_params"] == models.count_params(calls["build_out"]) == 64 * 64 + 64 + 64 * 10 + 10  # 512 x 0.125 hidden units
    assert hist["fraction_changed"] == ds.meta["fraction_changed"] > 0
    assert "step_loss" not in hist and hist["epochs_run"] == 2
    # the model's initial weights come from torch's generator seeded with the spec's seed
    torch.manual_seed(5)
    ref = models.build("mlp_1x512", in_channels=1, image_size=8, width=0.125, init="he_normal")
    monkeypatch.setattr(train, "fit", lambda model, *a, **k: {"w": [p.detach().clone() for p in model.parameters()]})
    got = runs.train_spec(dict(s, keep_step_loss=True))
    assert all(torch.equal(p, q) for p, q in zip(got["w"], ref.parameters(), strict=True))


def test_run_one_stores_loads_reruns_and_removes_the_checkpoint(tmp_path, monkeypatch):
    seen = []

    def fake_train(s, *, progress=None, checkpoint=None):
        seen.append((s, progress, checkpoint))
        if checkpoint is not None:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            checkpoint.write_text("state")
        return {"epochs_run": s["epochs"], "calls": len(seen)}

    monkeypatch.setattr(runs, "train_spec", fake_train)
    s = dict(epochs=3, seed=2)
    rec = runs.run_one(s, out=tmp_path, progress=True)
    assert not rec["cached"] and rec["result"] == {"epochs_run": 3, "calls": 1} and rec["seed"] == 2
    assert seen == [(runs.spec(**s), True, None)]
    assert rec["config"] == results.to_jsonable(runs.spec(**s))
    again = runs.run_one(s, out=tmp_path)
    assert again["cached"] and again["result"]["calls"] == 1 and len(seen) == 1
    fresh = runs.run_one(s, out=tmp_path, rerun=True)
    assert not fresh["cached"] and fresh["result"]["calls"] == 2
    c = dict(epochs=4)
    ckpt = results.checkpoint_path("train", runs.spec(**c), tmp_path)
    rec = runs.run_one(c, out=tmp_path, checkpoint=True)
    assert seen[-1][2] == ckpt and not ckpt.exists() and rec["result"]["epochs_run"] == 4
