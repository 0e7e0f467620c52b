"""The six randomization conditions of Section 2: statistics, determinism and structure."""

import math

import pytest
import torch

from rethinking_lib import corrupt, data


@pytest.fixture(scope="module")
def mnist():
    return data.load("mnist5k")


def _indexed(n=6, c=3, side=5):
    """Images whose every value is unique, so a permutation can be read back from them."""
    x = torch.arange(n * c * side * side, dtype=torch.float32).view(n, c, side, side)
    y = torch.arange(n) % 10
    return data.Dataset("indexed", x, y, x.clone() + 10_000, y.clone())


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8, 1.0])
def test_fraction_of_wrong_labels_is_binomial_around_0_9p(mnist, p):
    out = corrupt.apply(mnist, "partial_labels", p=p, seed=3)
    n = len(mnist.y_train)
    q = 0.9 * p  # a replaced label lands on the true class 1 time in 10
    frac = (out.y_train != mnist.y_train).float().mean().item()
    assert abs(frac - q) < 4 * math.sqrt(q * (1 - q) / n) + 1e-9
    assert torch.equal(out.y_test, mnist.y_test)  # test labels stay clean by default
    assert torch.equal(out.x_train, mnist.x_train)


def test_same_seed_same_labels_other_seed_other_labels(mnist):
    a = corrupt.apply(mnist, "random_labels", seed=1)
    b = corrupt.apply(mnist, "random_labels", seed=1)
    c = corrupt.apply(mnist, "random_labels", seed=2)
    assert torch.equal(a.y_train, b.y_train) and not torch.equal(a.y_train, c.y_train)


def test_corruption_levels_are_nested(mnist):
    low = corrupt.apply(mnist, "partial_labels", p=0.2, seed=0).y_train != mnist.y_train
    high = corrupt.apply(mnist, "partial_labels", p=0.6, seed=0).y_train != mnist.y_train
    assert bool((low & ~high).sum() == 0) and high.sum() > low.sum()


def test_random_labels_are_uniform(mnist):
    y = corrupt.apply(mnist, "random_labels", seed=0).y_train
    counts = torch.bincount(y, minlength=10).float()
    assert (counts - 400).abs().max() < 4 * math.sqrt(400 * 0.9) + 1


def test_corrupt_test_option(mnist):
    out = corrupt.apply(mnist, "random_labels", seed=0, corrupt_test=True)
    assert (out.y_test != mnist.y_test).float().mean() > 0.8


def _perm_of(flat_img, flat_orig):
    return [int((flat_orig == v).nonzero()) for v in flat_img]


def test_shuffled_pixels_one_permutation_for_all_images_train_and_test():
    d = _indexed()
    out = corrupt.apply(d, "shuffled_pixels", seed=0)
    hw = 25
    perms = set()
    for split in ("train", "test"):
        x, x0 = getattr(out, f"x_{split}"), getattr(d, f"x_{split}")
        for i in range(len(x)):
            for ch in range(3):
                perms.add(tuple(_perm_of(x[i, ch].flatten(), x0[i, ch].flatten())))
    assert len(perms) == 1 and perms.pop() != tuple(range(hw))
    assert torch.equal(out.y_train, d.y_train)


def test_random_pixels_one_permutation_per_image_channels_move_together():
    d = _indexed()
    out = corrupt.apply(d, "random_pixels", seed=0)
    perms = []
    for i in range(len(d.y_train)):
        per_channel = {tuple(_perm_of(out.x_train[i, ch].flatten(), d.x_train[i, ch].flatten())) for ch in range(3)}
        assert len(per_channel) == 1  # a pixel's channels move together
        perms.append(per_channel.pop())
    assert len(set(perms)) == len(perms)


def test_gaussian_matches_mean_and_variance(mnist):
    out = corrupt.apply(mnist, "gaussian", seed=0)
    assert out.x_train.shape == mnist.x_train.shape
    for a, b in ((out.x_train.mean(), mnist.x_train.mean()), (out.x_train.std(), mnist.x_train.std())):
        assert abs(float(a) - float(b)) < 0.01
    assert torch.equal(out.y_train, mnist.y_train)


@pytest.mark.parametrize("kw,word", [({"condition": "noise"}, "unknown condition"),
                                     ({"condition": "partial_labels", "p": 1.5}, "outside"),
                                     ({"condition": "partial_labels", "p": -0.1}, "outside"),
                                     ({"condition": "partial_labels"}, "needs p"),
                                     ({"condition": "random_labels", "p": 0.3}, "partial_labels")])
def test_bad_arguments_are_named(mnist, kw, word):
    with pytest.raises(ValueError, match=word):
        corrupt.apply(mnist, **kw)


@pytest.mark.parametrize("condition", ["shuffled_pixels", "random_pixels"])
def test_pixel_permutations_act_inside_the_crop_the_network_sees(condition):
    d = _indexed(side=8)
    d.crop = 6  # the network sees the centre 6x6 of each 8x8 image
    out = corrupt.apply(d, condition, seed=0)
    border = torch.ones(8, 8, dtype=torch.bool)
    border[1:7, 1:7] = False
    for i in range(len(d.y_train)):
        for ch in range(3):
            a, b = out.x_train[i, ch], d.x_train[i, ch]
            assert torch.equal(a[border], b[border])  # the border is untouched
            win_a, win_b = a[1:7, 1:7].flatten(), b[1:7, 1:7].flatten()
            assert torch.equal(win_a.sort().values, win_b.sort().values)  # the same pixels, permuted
            assert not torch.equal(win_a, win_b)
