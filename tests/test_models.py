"""The paper's architectures against Table 1's parameter counts (the reference), and their shapes."""

import pytest
import torch

from rethinking_lib import models


@pytest.mark.parametrize("name", models.NAMES)
def test_parameter_count_matches_table1(name):
    assert models.count_params(models.build(name)) == models.PAPER_PARAM_COUNTS[name]


def test_table1_counts_are_the_papers():
    assert models.PAPER_PARAM_COUNTS == {"inception_small": 1_649_402, "inception_small_nobn": 1_649_402,
                                         "alexnet_small": 1_387_786, "mlp_1x512": 1_209_866, "mlp_3x512": 1_735_178}


@pytest.mark.parametrize("name", models.NAMES)
@pytest.mark.parametrize("shape", [(3, 28), (1, 24), (1, 8)])
def test_forward_shapes(name, shape):
    c, s = shape
    m = models.build(name, in_channels=c, image_size=s, num_classes=7, width=0.25)
    assert m(torch.randn(4, c, s, s)).shape == (4, 7)


def test_inception_resolution_28_14_7():
    m = models.build("inception_small")
    sides = []
    x = torch.randn(2, 3, 28, 28)
    for layer in m.features:
        x = layer(x)
        sides.append(x.shape[-1])
    assert sides[0] == 28 and sides[3] == 14 and sides[-1] == 7 and x.shape[1] == 336


def test_batchnorm_has_shift_but_no_scale():
    m = models.build("inception_small")
    bns = [x for x in m.modules() if isinstance(x, torch.nn.BatchNorm2d)]
    assert bns and all(bn.weight is None and bn.bias is None and bn.shift.requires_grad for bn in bns)
    assert not any(isinstance(x, torch.nn.BatchNorm2d) for x in models.build("inception_small_nobn").modules())


def test_alexnet_lrn_matches_tensorflow_formula():
    # TF: x / (1 + alpha_tf * sum_{|d|<=4} x_d^2)^0.75 with alpha_tf = 0.001/9
    lrn = [x for x in models.build("alexnet_small").modules() if isinstance(x, torch.nn.LocalResponseNorm)][0]
    x = torch.randn(2, 16, 5, 5)
    sq = torch.nn.functional.pad(x.pow(2), (0, 0, 0, 0, 4, 4))
    window = sum(sq[:, i:i + 16] for i in range(9))
    ref = x / (1 + 0.001 / 9 * window) ** 0.75
    torch.testing.assert_close(lrn(x), ref)


def test_width_scales_channels():
    small = models.count_params(models.build("inception_small", width=0.5))
    assert small < models.PAPER_PARAM_COUNTS["inception_small"] / 3


@pytest.mark.parametrize("kw,word", [({"name": "resnet"}, "unknown model"), ({"name": "mlp_1x512", "width": 0},
                                     "width"), ({"name": "mlp_1x512", "in_channels": 0}, "in_channels")])
def test_bad_arguments_are_named(kw, word):
    name = kw.pop("name")
    with pytest.raises(ValueError, match=word):
        models.build(name, **kw)


def test_batchnorm_shift_is_added_once():
    bn = models.ShiftOnlyBatchNorm(4)
    with torch.no_grad():
        bn.shift.fill_(2.0)
    y = bn(torch.randn(64, 4, 3, 3))
    torch.testing.assert_close(y.mean(dim=(0, 2, 3)), torch.full((4,), 2.0), atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", models.NAMES)
def test_init_is_tensorflows_glorot_uniform_with_zero_biases(name):
    """Every conv / linear weight is uniform on [-a, a], a = sqrt(6 / (fan_in + fan_out)); biases are zero."""
    torch.manual_seed(0)
    m = models.build(name)
    layers = [x for x in m.modules() if isinstance(x, (torch.nn.Conv2d, torch.nn.Linear))]
    assert layers
    for layer in layers:
        w = layer.weight.detach()
        rf = w[0, 0].numel() if w.ndim == 4 else 1
        limit = (6 / (w.shape[1] * rf + w.shape[0] * rf)) ** 0.5
        assert float(w.abs().max()) <= limit
        if w.numel() >= 2000:  # a uniform on [-a, a] has variance a^2 / 3 (and is not concentrated near 0)
            assert float(w.var()) == pytest.approx(limit ** 2 / 3, rel=0.1)
            assert float(w.abs().max()) > 0.95 * limit
        if layer.bias is not None:
            assert torch.all(layer.bias == 0)


def test_batchnorm_uses_tensorflows_epsilon_and_decay():
    bns = [x for x in models.build("inception_small").modules() if isinstance(x, torch.nn.BatchNorm2d)]
    assert bns and all(bn.eps == 1e-3 and bn.momentum == pytest.approx(1 - 0.999) for bn in bns)
    fast = [x for x in models.build("inception_small", bn_decay=0.9).modules() if isinstance(x, torch.nn.BatchNorm2d)]
    assert all(bn.momentum == pytest.approx(0.1) for bn in fast)
    with pytest.raises(ValueError, match="bn_decay"):
        models.build("inception_small", bn_decay=1.0)
    with pytest.raises(ValueError, match="init"):
        models.build("inception_small", init="orthogonal")


def test_he_normal_fallback_passes_the_signal_through_the_plain_inception():
    # Glorot's variance halves the signal per ReLU layer; He-normal (variance 2 / fan_in) keeps the outputs of
    # the 21-conv plain net input-dependent: the fallback the chapter uses when Glorot's init does not train.
    torch.manual_seed(0)
    m = models.build("inception_small_nobn", in_channels=1, image_size=7, width=0.25, init="he_normal")
    with torch.no_grad():
        out = m(torch.randn(64, 1, 7, 7))
    assert float(out.std(0).mean()) > 0.1 * float(out.abs().mean())
