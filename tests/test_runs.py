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
    assert kw == {"checkpoint": ckpt, "progress": False, "desc": "mlp_1x512 digits partial_labels p=0.5 +wd",
                  "evaluate": None}
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


# --- options: in the key only when on; tasks, the first part, per-epoch evaluations, kept weights ----------


def test_options_enter_the_spec_and_key_only_when_set():
    plain = runs.spec(epochs=2)
    assert set(runs.OPTIONS).isdisjoint(plain)  # every run stored before the options keeps its key
    assert runs.key(dict(epochs=2, **runs.OPTIONS)) == runs.key(plain)
    kept = runs.spec(epochs=2, keep_weights=True)
    assert kept["keep_weights"] is True and runs.key(kept) != runs.key(plain)
    assert runs.option(plain, "keep_weights") is False and runs.option(kept, "keep_weights") is True
    assert runs.spec(**kept) == kept  # idempotent
    for f in (0.0, 1.5):
        with pytest.raises(ValueError, match=f"train_fraction={f}"):
            runs.spec(train_fraction=f)
    assert runs.first_part(2000, 0.5) == 1000 and runs.first_part(7, 0.5) == 4 and runs.first_part(7, None) == 7
    assert runs.describe(runs.spec(task="digit_ge_5", train_fraction=0.5)).endswith(" task=digit_ge_5 first 0.5")


def test_dataset_applies_task_then_corruption_then_the_first_part():
    from dataclasses import replace

    from rethinking_lib.engine import corrupt, data, tasks

    s = runs.spec(dataset="digits", n_train=40, n_test=10, task="digit_ge_5", condition="partial_labels", p=0.5,
                  corruption_seed=3, train_fraction=0.25)
    ds = runs.dataset(s)
    ref = data.load("digits", n_train=40, n_test=10)
    ref = replace(ref, y_train=(ref.y_train >= 5).long(), y_test=(ref.y_test >= 5).long(), num_classes=2)
    ref = corrupt.apply(ref, "partial_labels", p=0.5, seed=3)
    assert ds.num_classes == 2 and len(ds.y_train) == 10 and len(ds.y_test) == 10
    assert torch.equal(ds.y_train, ref.y_train[:10]) and torch.equal(ds.x_train, ref.x_train[:10])
    assert torch.equal(ds.y_test, ref.y_test) and not torch.equal(ref.y_train, ref.meta["y_train_clean"])
    sig = runs.dataset(runs.spec(dataset="digits", n_train=12, n_test=3, task="signs",
                                 signs={"seed": 9, "draws": 4, "draw": 2}))
    assert torch.equal(sig.y_train, ((tasks.signs(12, 4, seed=9)[2] + 1) / 2).long())
    assert sig.num_classes == 2 and torch.equal(sig.y_test, data.load("digits", n_test=3).y_test % 2)
    with pytest.raises(ValueError, match="draw=4 is not one of the 4 draws"):
        runs.dataset(runs.spec(dataset="digits", task="signs", signs={"seed": 9, "draws": 4, "draw": 4}))
    with pytest.raises(ValueError, match="task 'signs' needs signs="):
        runs.dataset(runs.spec(dataset="digits", task="signs"))
    with pytest.raises(ValueError, match="unknown task 'odd'"):
        runs.dataset(runs.spec(dataset="digits", task="odd"))


def test_clean_noisy_epoch_eval_matches_a_hand_count(tmp_path):
    from rethinking_lib.engine import data, epoch_evals, models

    s = dict(dataset="digits", n_train=64, n_test=16, condition="partial_labels", p=0.5, corruption_seed=1,
             width=0.125, epochs=2, batch_size=16, keep_step_loss=False, epoch_eval="clean_noisy")
    rec = runs.run_one(s, out=tmp_path, progress=False)["result"]
    assert [sorted(e) for e in rec["epochs"]] == [sorted(["epoch", "step", "loss", "train_acc", "test_acc", "lr",
                                                          "time", "clean_train_acc", "noisy_train_acc"])] * 2
    # the same counts by hand on the model trained the same way (train_spec with a spied fit)
    ds = runs.dataset(runs.spec(**s))
    noisy = ds.y_train != ds.meta["y_train_clean"]
    torch.manual_seed(0)
    model = models.build("mlp_1x512", in_channels=1, image_size=8, width=0.125)
    got = []
    hist = train.fit(model, ds, train.TrainConfig(epochs=2, batch_size=16), progress=False,
                     on_epoch=lambda h: got.append(model(data.whiten(ds.x_train)).argmax(1) == ds.y_train))
    assert [e["train_acc"] for e in hist["epochs"]] == [e["train_acc"] for e in rec["epochs"]]
    for e, right in zip(rec["epochs"], got, strict=True):
        assert e["clean_train_acc"] == float(right[~noisy].float().mean()) and 0 < noisy.float().mean() < 1
        assert e["noisy_train_acc"] == float(right[noisy].float().mean())
    with pytest.raises(ValueError, match="unknown epoch_eval 'x'"):
        epoch_evals.build("x", ds)


def test_kept_weights_give_back_the_trained_network(tmp_path, monkeypatch):
    from rethinking_lib.engine import models
    from rethinking_lib.store import weights

    s = dict(model="alexnet_small", width=0.125, dataset="digits", n_train=48, n_test=16, epochs=2, batch_size=16,
             keep_weights=True, keep_step_loss=False)
    trained = {}
    real_build = models.build
    monkeypatch.setattr(models, "build", lambda *a, **k: trained.setdefault("model", real_build(*a, **k)))
    rec = runs.run_one(s, out=tmp_path, progress=False)
    monkeypatch.undo()
    file = weights.path("train", runs.spec(**s), tmp_path)
    assert not rec["cached"] and file.exists() and file.with_suffix(".json").exists()
    assert not list(tmp_path.glob(".*.tmp"))  # written through a temp file, renamed
    net = runs.load_model(s, out=tmp_path)
    x = torch.rand(5, 1, 8, 8)
    ref = trained["model"].eval()
    assert not net.training  # BatchNorm-free AlexNet: eval mode computes what the trained net computed
    # training ran channels-last (train.CPU_AUTO): in the same layout the outputs are equal, bit for bit
    assert torch.equal(net.to(memory_format=torch.channels_last)(x), ref(x))
    torch.testing.assert_close(net.to(memory_format=torch.contiguous_format)(x), ref(x))
    assert all(torch.equal(a, b.cpu()) for a, b in zip(net.state_dict().values(), ref.state_dict().values(), strict=True))
    # the initial network is the seeded draw the run started from, and the caller's random state is untouched
    torch.manual_seed(0)
    first = real_build("alexnet_small", in_channels=1, image_size=8, num_classes=10, width=0.125)
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    init = runs.initial_model(s)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert all(torch.equal(a, b) for a, b in zip(init.state_dict().values(), first.state_dict().values(), strict=True))
    assert not torch.equal(init.state_dict()["classifier.5.weight"], net.state_dict()["classifier.5.weight"].cpu())
    # a lost weights file: load_model says so, run_one trains the run again
    file.unlink()
    with pytest.raises(FileNotFoundError, match="has a record but no weights file"):
        runs.load_model(s, out=tmp_path)
    again = runs.run_one(s, out=tmp_path, progress=False)
    assert not again["cached"] and file.exists() and runs.run_one(s, out=tmp_path)["cached"]


def test_a_run_without_kept_weights_says_so(tmp_path):
    s = dict(dataset="digits", n_train=32, n_test=8, width=0.125, epochs=1, keep_step_loss=False)
    with pytest.raises(LookupError, match="is not in the store"):
        runs.load_model(dict(s, keep_weights=True), out=tmp_path)
    runs.run_one(s, out=tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"keeps no weights: its spec does not set keep_weights=True"):
        runs.load_model(s, out=tmp_path)
    assert not list(tmp_path.glob("*.pt"))
