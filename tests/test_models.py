"""The paper's architectures against Table 1's parameter counts (the reference), and their shapes."""

import pytest
import torch

from rethinking_lib.engine import models


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
    kw = dict(kw)  # the parameter dict is shared between runs in one process
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


F = torch.nn.functional


def _randomize_biases(m):
    with torch.no_grad():  # zero biases / shifts would hide a sign or a missing term
        for p in m.parameters():
            if p.ndim == 1:
                p.uniform_(-0.5, 0.5)


def _tf_lrn(x):
    sq = F.pad(x.pow(2), (0, 0, 0, 0, 4, 4))
    return x / (1 + 0.001 / 9 * sum(sq[:, i:i + x.shape[1]] for i in range(9))) ** 0.75


def test_alexnet_forward_matches_a_functional_reference():
    """[conv 5x5 SAME -> ReLU -> maxpool 3x3/2 SAME -> LRN] x 2 -> FC -> ReLU -> FC -> ReLU -> FC, by hand."""
    torch.manual_seed(0)
    m = models.build("alexnet_small", in_channels=2, image_size=12, num_classes=5, width=0.125)
    _randomize_biases(m)
    convs = [x for x in m.modules() if isinstance(x, torch.nn.Conv2d)]
    fcs = [x for x in m.modules() if isinstance(x, torch.nn.Linear)]
    assert [c.weight.shape[1:] for c in convs] == [(2, 5, 5), (8, 5, 5)]
    assert [f.weight.shape for f in fcs] == [(48, 8 * 3 * 3), (24, 48), (5, 24)]  # 12 -> 6 -> 3
    x = torch.randn(3, 2, 12, 12)
    h = x
    for c in convs:
        h = _tf_lrn(F.max_pool2d(F.relu(F.conv2d(h, c.weight, c.bias, padding=2)), 3, 2, padding=1))
    h = h.flatten(1)
    h = F.relu(F.linear(h, fcs[0].weight, fcs[0].bias))
    h = F.relu(F.linear(h, fcs[1].weight, fcs[1].bias))
    torch.testing.assert_close(m(x), F.linear(h, fcs[2].weight, fcs[2].bias))


def _conv_module(mod, x, k, bn, stride=1):
    conv = mod[0]
    assert conv.weight.shape[-1] == k and len(mod) == (3 if bn else 2) and (conv.bias is None) == bn
    h = F.conv2d(x, conv.weight, conv.bias, stride=stride, padding=k // 2)
    if bn:  # batch norm in training mode: batch statistics, TF's epsilon, shift only
        mean = h.mean(dim=(0, 2, 3), keepdim=True)
        var = h.var(dim=(0, 2, 3), correction=0, keepdim=True)
        h = (h - mean) / torch.sqrt(var + 1e-3) + mod[1].shift.view(1, -1, 1, 1)
    return F.relu(h)


@pytest.mark.parametrize("name", ["inception_small", "inception_small_nobn"])
def test_inception_forward_matches_a_functional_reference(name):
    """Stem conv 3x3, then each module by hand: 1x1 || 3x3 (Inception), 3x3/2 conv || 3x3/2 max-pool (Downsample)."""
    torch.manual_seed(0)
    m = models.build(name, in_channels=2, image_size=8, num_classes=3, width=0.0625)
    _randomize_biases(m)
    m.train()
    x = torch.randn(4, 2, 8, 8)
    bn = name == "inception_small"
    h = _conv_module(m.features[0], x, 3, bn)
    kinds = []
    for mod in list(m.features)[1:]:
        if isinstance(mod, models.InceptionModule):
            kinds.append("inc")
            h = torch.cat([_conv_module(mod.b1, h, 1, bn), _conv_module(mod.b3, h, 3, bn)], 1)
        else:
            kinds.append("down")
            h = torch.cat([_conv_module(mod.conv, h, 3, bn, stride=2), F.max_pool2d(h, 3, 2, padding=1)], 1)
    assert kinds == ["inc", "inc", "down", "inc", "inc", "inc", "inc", "down", "inc", "inc"]
    assert h.shape[-1] == 2  # 8 -> 4 -> 2
    ref = F.linear(h.mean(dim=(2, 3)), m.classifier.weight, m.classifier.bias)
    torch.testing.assert_close(m(x), ref, rtol=1e-4, atol=1e-5)


def test_width_multiplier_counts():
    """Closed-form counts at other widths: every layer scales, and no layer drops below one unit."""
    def dense(*sizes):
        return sum(a * b + b for a, b in zip(sizes, sizes[1:], strict=False))

    def count(name, **kw):
        return models.count_params(models.build(name, **kw))

    assert count("mlp_1x512", width=0.5) == dense(2352, 256, 10)
    assert count("mlp_3x512", width=0.25, in_channels=1, image_size=24) == dense(576, 128, 128, 128, 10)
    assert count("mlp_1x512", width=1e-3, num_classes=7) == dense(2352, 1, 7)  # max(1, ...)
    conv = 3 * 32 * 25 + 32 + 32 * 32 * 25 + 32  # width 0.5: 32 channels, 28 -> 14 -> 7
    assert count("alexnet_small", width=0.5) == conv + dense(32 * 7 * 7, 192, 96, 10)
    assert count("alexnet_small", image_size=13, width=0.5) == conv + dense(32 * 4 * 4, 192, 96, 10)  # 13 -> 7 -> 4
    assert count("alexnet_small", image_size=24) == 3 * 64 * 25 + 64 + 64 * 64 * 25 + 64 + dense(64 * 6 * 6, 384, 192, 10)


def test_he_normal_has_variance_two_over_fan_in():
    torch.manual_seed(0)
    m = models.build("mlp_1x512", init="he_normal")
    w = m[1].weight.detach()
    assert float(w.std()) == pytest.approx((2 / 2352) ** 0.5, rel=0.02) and abs(float(w.mean())) < 1e-3
    assert torch.all(m[1].bias == 0)
    conv = next(x for x in models.build("alexnet_small", init="he_normal").modules() if isinstance(x, torch.nn.Conv2d))
    assert float(conv.weight.std()) == pytest.approx((2 / (3 * 25)) ** 0.5, rel=0.05)


def test_shift_starts_at_zero_and_relu_clips():
    bn = [x for x in models.build("inception_small", width=0.125).modules() if isinstance(x, models.ShiftOnlyBatchNorm)]
    assert bn and all(torch.all(b.shift == 0) for b in bn)
    m = models.build("mlp_1x512", width=0.05)
    assert [type(x).__name__ for x in m] == ["Flatten", "Linear", "ReLU", "Linear"]


def test_param_table_lists_every_model_against_table1():
    rows = models.param_table()
    assert [r["model"] for r in rows] == list(models.NAMES)
    for r in rows:
        assert r["params"] == r["paper"] == models.PAPER_PARAM_COUNTS[r["model"]] and r["match"] is True
        assert r["label"] == models.LABELS[r["model"]]
    half = models.param_table(width=0.5)
    assert all(r["match"] is False and r["params"] < r["paper"] for r in half)


@pytest.mark.parametrize("kw,msg", [
    ({"in_channels": 1.5}, "in_channels=1.5 must be a positive integer"),
    ({"image_size": 0}, "image_size=0 must be a positive integer"),
    ({"num_classes": 0}, "num_classes=0 must be a positive integer"),
    ({"width": -1.0}, "width=-1.0 must be positive (1.0 is the paper's size)"),
    ({"bn_decay": -0.1}, "bn_decay=-0.1 must be in [0, 1) (TensorFlow's default is 0.999)"),
    ({"init": "zeros"}, "init='zeros' is unknown: choose one of glorot_uniform, he_normal, pytorch"),
], ids=["in_channels", "image_size", "num_classes", "width", "bn_decay", "init"])
def test_bad_arguments_say_what_to_pass(kw, msg):
    with pytest.raises(ValueError) as e:
        models.build("mlp_1x512", **kw)
    assert str(e.value) == msg
    with pytest.raises(ValueError) as e:
        models.build("vgg")
    assert str(e.value) == ("unknown model 'vgg': choose one of inception_small, inception_small_nobn, alexnet_small, "
                            "mlp_1x512, mlp_3x512, linear")


def test_edge_arguments_are_accepted():
    m = models.build("mlp_1x512", in_channels=1, image_size=1, num_classes=1, width=1e-3, bn_decay=0.0)
    assert m(torch.randn(2, 1, 1, 1)).shape == (2, 1)
    bns = [x for x in models.build("inception_small", width=0.0625, bn_decay=0.0).modules()
           if isinstance(x, torch.nn.BatchNorm2d)]
    assert all(bn.momentum == 1.0 for bn in bns)


def test_the_classes_default_to_the_papers_cifar10_models():
    assert models.count_params(models.SmallAlexNet()) == models.PAPER_PARAM_COUNTS["alexnet_small"]
    inc = models.SmallInception()
    assert models.count_params(inc) == models.PAPER_PARAM_COUNTS["inception_small"]
    assert any(isinstance(x, models.ShiftOnlyBatchNorm) for x in inc.modules())
    assert models.SmallAlexNet(image_size=13)(torch.randn(2, 3, 13, 13)).shape == (2, 10)


def test_conv_module_defaults_to_batch_norm_and_stride_one():
    m = models.ConvModule(2, 4, 3)
    assert [type(x) for x in m] == [torch.nn.Conv2d, models.ShiftOnlyBatchNorm, torch.nn.ReLU] and m[0].bias is None
    assert m(torch.randn(2, 2, 5, 5)).shape == (2, 4, 5, 5)


def test_linear_and_pytorch_init_draw_what_plain_torch_layers_draw():
    """``linear`` is flatten -> one linear layer; ``init="pytorch"`` keeps the layers' own draws (no TF re-init)."""
    torch.manual_seed(3)
    ref = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(1 * 5 * 5, 2))
    torch.manual_seed(3)
    lin = models.build("linear", in_channels=1, image_size=5, num_classes=2, init="pytorch")
    assert [tuple(p.shape) for p in lin.parameters()] == [(2, 25), (2,)]
    assert all(torch.equal(p, q) for p, q in zip(lin.parameters(), ref.parameters(), strict=True))
    torch.manual_seed(4)
    ref = models.MLP(16, 2, depth=1, hidden=600)
    torch.manual_seed(4)
    mlp = models.build("mlp_1x512", in_channels=1, image_size=4, num_classes=2, width=600 / 512, init="pytorch")
    assert all(torch.equal(p, q) for p, q in zip(mlp.parameters(), ref.parameters(), strict=True))
    torch.manual_seed(4)
    glorot = models.build("mlp_1x512", in_channels=1, image_size=4, num_classes=2, width=600 / 512)
    assert not torch.equal(glorot[1].weight, ref[1].weight)  # the default re-draws them (Glorot)
