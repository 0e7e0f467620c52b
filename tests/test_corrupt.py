"""The six randomization conditions of Section 2: statistics, determinism and structure."""

import math

import pytest
import torch

from rethinking_lib.engine import corrupt, data


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


@pytest.mark.parametrize("condition", ["shuffled_pixels", "random_pixels", "gaussian", "true_labels"])
def test_p_is_refused_outside_the_label_conditions(condition):
    with pytest.raises(ValueError, match="only applies to 'partial_labels'"):
        corrupt.apply(_indexed(), condition, p=0.5)


@pytest.mark.parametrize("p", [0.3, 2])
def test_random_labels_refuses_any_p_but_one(p):
    with pytest.raises(ValueError, match="contradicts 'random_labels'"):
        corrupt.apply(_indexed(), "random_labels", p=p)


def test_random_labels_accepts_p_one_and_p_zero_changes_nothing(mnist):
    a = corrupt.apply(mnist, "random_labels", p=1, seed=4)
    assert torch.equal(a.y_train, corrupt.apply(mnist, "random_labels", seed=4).y_train)
    zero = corrupt.apply(mnist, "partial_labels", p=0.0, seed=4)
    assert torch.equal(zero.y_train, mnist.y_train) and zero.meta["fraction_changed"] == 0.0


def test_true_labels_returns_the_data_unchanged():
    d = _indexed()
    out = corrupt.apply(d, "true_labels", seed=5)
    for f in ("x_train", "y_train", "x_test", "y_test"):
        assert torch.equal(getattr(out, f), getattr(d, f))


def test_meta_records_the_corruption_and_the_clean_labels(mnist):
    d = _indexed()
    d.meta = {"source": "unit"}
    out = corrupt.apply(d, "partial_labels", p=0.7, seed=9, corrupt_test=True)
    assert {k: out.meta[k] for k in ("source", "condition", "p", "corruption_seed", "corrupt_test")} == {
        "source": "unit", "condition": "partial_labels", "p": 0.7, "corruption_seed": 9, "corrupt_test": True}
    assert torch.equal(out.meta["y_train_clean"], d.y_train) and d.meta == {"source": "unit"}
    assert out.meta["fraction_changed"] == pytest.approx((out.y_train != d.y_train).float().mean().item())
    twice = corrupt.apply(out, "random_labels", seed=1)  # the clean labels survive a second corruption
    assert torch.equal(twice.meta["y_train_clean"], d.y_train)
    m = corrupt.apply(mnist, "random_labels", seed=2).meta["fraction_changed"]
    assert abs(m - 0.9) < 0.03


@pytest.mark.parametrize("condition", ["random_labels", "shuffled_pixels", "random_pixels", "gaussian"])
def test_every_condition_is_a_function_of_the_seed_train_and_test(condition):
    d = _indexed(n=8)
    torch.manual_seed(0)
    a = corrupt.apply(d, condition, seed=7, corrupt_test=True)
    torch.manual_seed(1)  # the global generator must not matter
    b = corrupt.apply(d, condition, seed=7, corrupt_test=True)
    for f in ("x_train", "y_train", "x_test", "y_test"):
        assert torch.equal(getattr(a, f), getattr(b, f)), f


def test_random_pixels_permutes_each_test_image_too():
    d = _indexed()
    out = corrupt.apply(d, "random_pixels", seed=0)
    perms = set()
    for i in range(len(d.y_test)):
        x, x0 = out.x_test[i, 0].flatten(), d.x_test[i, 0].flatten()
        assert torch.equal(x.sort().values, x0.sort().values)
        perms.add(tuple(_perm_of(x, x0)))
    assert len(perms) == len(d.y_test)


def test_gaussian_matches_each_channels_mean_and_std_on_train_and_test():
    g = torch.Generator().manual_seed(0)
    mean, std = torch.tensor([-2.0, 0.0, 5.0]), torch.tensor([0.5, 1.0, 3.0])
    x = torch.randn(400, 3, 4, 4, generator=g) * std.view(1, 3, 1, 1) + mean.view(1, 3, 1, 1)
    y = torch.zeros(400, dtype=torch.long)
    d = data.Dataset("channels", x, y, x[:300].clone() * 0, y[:300].clone())
    out = corrupt.apply(d, "gaussian", seed=0)
    assert not torch.equal(out.x_train, d.x_train)
    for split in (out.x_train, out.x_test):
        assert torch.allclose(split.mean(dim=(0, 2, 3)), mean, atol=0.1)
        assert torch.allclose(split.std(dim=(0, 2, 3)), std, rtol=0.05)
