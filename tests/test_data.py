"""Datasets and the paper's preprocessing, against NumPy references."""

import numpy as np
import pytest
import torch

from rethinking_lib import data


def test_whitening_matches_numpy_per_image_standardization():
    x = torch.rand(5, 3, 28, 28, dtype=torch.float64)
    x[2] = 0.3  # constant image: std floored at 1/sqrt(N), as TF does
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
    name = kw.pop("name")
    with pytest.raises(ValueError, match=word):
        data.load(name, **kw)
