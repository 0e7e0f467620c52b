"""Stand-in data in the real on-disk formats, and the smoke scale (config/smoke.py)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch

from rethinking_lib import experiments
from rethinking_lib.config import smoke
from rethinking_lib.engine import data, runs, standin


@pytest.fixture(scope="module")
def standin_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("standin")
    standin.write(out, data.mnist5k_arrays())
    return out


@pytest.fixture
def smoke_on(monkeypatch):
    monkeypatch.setenv(smoke.ENV, "1")


def test_torchvision_reads_the_standin_files(standin_dir):
    import torchvision

    root = standin_dir / "torchvision"
    mnist = torchvision.datasets.MNIST(root, train=True, download=False)
    assert mnist.data.shape == (4000, 28, 28) and mnist.data.dtype == torch.uint8
    assert len(torchvision.datasets.MNIST(root, train=False)) == standin.N_TEST

    def md5(name):
        return hashlib.md5((root / standin.CIFAR10_DIR / name).read_bytes()).hexdigest()

    class StandinCIFAR10(torchvision.datasets.CIFAR10):  # the published md5s are the only thing that differs
        train_list = [[n, md5(n)] for n in standin.CIFAR10_TRAIN]
        test_list = [[standin.CIFAR10_TEST, md5(standin.CIFAR10_TEST)]]
        meta = {**torchvision.datasets.CIFAR10.meta, "md5": md5("batches.meta")}

    train = StandinCIFAR10(root, train=True)
    assert train.data.shape == (4000, 32, 32, 3) and train.classes == standin.CIFAR10_CLASSES
    assert len(StandinCIFAR10(root, train=False)) == standin.N_TEST
    folder = torchvision.datasets.ImageFolder(standin_dir / "imagefolder" / "train")
    assert len(folder.classes) == 10 and len(folder) == 10 * standin.FOLDER_PER_CLASS["train"]


def test_standin_is_deterministic(standin_dir, tmp_path):
    standin.write(tmp_path, data.mnist5k_arrays())
    for rel in ["torchvision/MNIST/raw/train-images-idx3-ubyte", f"torchvision/{standin.CIFAR10_DIR}/data_batch_3"]:
        assert (tmp_path / rel).read_bytes() == (standin_dir / rel).read_bytes(), rel


def test_standin_cli_writes_the_same_files_and_the_parsed_digits_for_the_smoke_kernels(standin_dir, tmp_path, capsys):
    from rethinking_lib.__main__ import main

    assert main(["data", "standin", "--out", str(tmp_path)]) == 0  # the digits from the data cache, not parsed again
    for rel in ["torchvision/MNIST/raw/train-images-idx3-ubyte", f"torchvision/{standin.CIFAR10_DIR}/test_batch"]:
        assert (tmp_path / rel).read_bytes() == (standin_dir / rel).read_bytes(), rel
    x, y = data.mnist5k_arrays()
    with np.load(data.mnist5k_cache_file(tmp_path)) as f:  # the smoke runs' data cache: no kernel parses the csv
        assert np.array_equal(f["x"], x) and np.array_equal(f["y"], y)


def test_data_load_reads_the_standin_only_at_the_smoke_scale(standin_dir, monkeypatch):
    monkeypatch.setenv("RETHINKING_DATA", str(standin_dir))
    monkeypatch.delenv(smoke.ENV, raising=False)
    with pytest.raises(data.DataUnavailableError, match="stand-in data"):
        data.load("cifar10")
    monkeypatch.setenv(smoke.ENV, "1")
    c = data.load("cifar10")
    m = data.load("mnist")
    assert (c.in_channels, c.x_train.shape[-1], c.crop) == (3, 32, 28)  # the real CIFAR-10 shape and paper crop
    assert (m.in_channels, m.x_train.shape[-1], m.crop) == (1, 28, 24)
    assert "stand-in" in c.meta["source"] and len(c.y_train) == 4000
    assert (c.y_train == m.y_train).all()  # the same digits, coloured: the label is the digit


def test_standin_cifar10_labels_are_in_the_digit_not_the_colour(standin_dir, monkeypatch):
    """True labels generalize (the digit's shape), random labels cannot: the colours are drawn independently of the
    label, and once they are taken out (distance of each pixel from the image's corner colour) a nearest-centroid
    classifier reads the digit."""
    monkeypatch.setenv("RETHINKING_DATA", str(standin_dir))
    monkeypatch.setenv(smoke.ENV, "1")
    ds = data.load("cifar10", crop=None)
    x = torch.cat([ds.x_train, ds.x_test])

    def mask(imgs):
        return (imgs - imgs[:, :, :1, :1]).norm(dim=1).flatten(1).numpy()

    def nearest_centroid_acc(labels):
        xtr, xte = mask(x[:4000]), mask(x[4000:])
        cents = np.stack([xtr[labels == c].mean(0) for c in range(10)])
        pred = ((xte[:, None, :] - cents[None]) ** 2).sum(-1).argmin(1)
        return (pred == ds.y_test.numpy()).mean()

    assert nearest_centroid_acc(ds.y_train.numpy()) > 0.6
    assert nearest_centroid_acc(np.random.default_rng(0).permutation(ds.y_train.numpy())) < 0.2
    colour = x[:, :, 0, 0].numpy()  # the background colour alone says nothing about the label
    y = torch.cat([ds.y_train, ds.y_test]).numpy()
    means = np.stack([colour[y == c].mean(0) for c in range(10)])
    assert np.ptp(means, axis=0).max() < 0.1


@pytest.mark.parametrize("profile", ["gpu", "paper"])
def test_smoke_shrinks_every_experiment_but_keeps_models_and_hyperparameters(profile, smoke_on, monkeypatch):
    for name in experiments.names():
        exp = experiments.get(name)
        monkeypatch.setenv(smoke.ENV, "0")
        real, real_specs = exp.config(profile), exp.run_specs(profile)
        monkeypatch.setenv(smoke.ENV, "1")
        cfg, specs = exp.config(profile), exp.run_specs(profile)
        assert cfg["smoke"] is True and "smoke" not in real, name
        assert set(cfg) == set(real) | {"smoke"}, name
        for key in ("models", "model", "dataset", "datasets", "width", "lr", "conditions", "hidden", "batch_size"):
            if key in real:
                assert cfg[key] == real[key], (name, key)
        for key, value in cfg.items():
            if key.startswith("n_") and isinstance(value, int):
                assert value <= smoke.SIZE, (name, key)
            if key == "seeds" or key.endswith("_seeds"):
                assert value == real[key][:smoke.SEEDS], (name, key)
            if key == "epochs" or key.endswith("_epochs"):  # one number, or one per model
                assert all(v <= smoke.EPOCHS for v in (value.values() if isinstance(value, dict) else [value])), (name, key)
        assert len(specs) <= len(real_specs) or name in ("table2",), name
        for s in specs:
            assert s["epochs"] <= smoke.EPOCHS, name
            assert s["n_train"] <= smoke.RUN_SIZE and s["n_test"] <= smoke.RUN_SIZE, name  # an ImageFolder's too
        real_models = {(s["model"], s["width"], s["lr"], s["batch_size"], s["precision"]) for s in real_specs}
        assert {(s["model"], s["width"], s["lr"], s["batch_size"], s["precision"]) for s in specs} <= real_models \
            or name == "table2", name
        assert not {runs.key(s) for s in specs} & {runs.key(s) for s in real_specs}, name


def test_smoke_caps_every_run_an_imagefolder_tree_included(standin_dir, smoke_on):
    tree = str(standin.imagefolder(standin_dir))
    for dataset, root in (("cifar10", None), ("folder", tree)):
        s = runs.spec(model="inception_small", dataset=dataset, root=root, n_train=64, n_test=None)
        assert (s["n_train"], s["n_test"]) == (smoke.RUN_SIZE, smoke.RUN_SIZE), dataset


def test_grid_rule_keeps_ends_and_named_points():
    cfg = smoke.shrink({"ps": [0.2, 0.4, 0.6, 0.8, 1.0], "summary_p": 0.4, "n_sweep": [250, 500, 1000, 2000],
                        "n": 2000, "seeds": [0, 1, 2], "classes": [0, 1, 2, 3], "draws_exact": 200, "epochs": 64,
                        "model_settings": {"m": {"n_train": None, "epochs": 100, "width": 1.0}}})
    assert cfg["ps"] == [0.2, 0.4, 0.6, 1.0]  # first, middle, last, and summary_p's point
    assert cfg["n_sweep"] == [8, 32, 64] and cfg["n"] == 64  # scaled together: the sweep still ends at n
    assert cfg["seeds"] == [0, 1] and cfg["classes"] == [0, 1, 2, 3] and cfg["draws_exact"] == smoke.COUNT
    assert cfg["model_settings"]["m"] == {"n_train": 64, "epochs": 1, "width": 1.0} and cfg["smoke"] is True


def test_run_and_plan_with_smoke_record_it(tmp_path, monkeypatch, capsys):
    from rethinking_lib.__main__ import main

    monkeypatch.setenv(smoke.ENV, "0")  # restored afterwards: --smoke sets it for this process
    assert main(["run", "stability", "--profile", "quick", "--smoke", "--json", "--out", str(tmp_path)]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["config"]["smoke"] is True and rec["config"]["n"] <= smoke.SIZE
    assert main(["plan", "--profile", "quick", "--smoke", "--json", "--out", str(tmp_path)]) == 0
    plans = json.loads(capsys.readouterr().out)
    stab = next(p for p in plans if "stability" in p["experiments"])
    assert all(r["stored"] for r in stab["runs"])
    monkeypatch.setenv(smoke.ENV, "0")
    assert main(["plan", "--profile", "quick", "--json", "--out", str(tmp_path)]) == 0
    stab = next(p for p in json.loads(capsys.readouterr().out) if "stability" in p["experiments"])
    assert not any(r["stored"] for r in stab["runs"])  # the smoke record is not the quick profile's
