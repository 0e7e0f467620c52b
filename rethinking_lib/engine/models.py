"""The paper's CIFAR-10 architectures (Appendix A, Table 1), with parameter counts that match exactly.

At 28x28x3 input and ``width=1``::

    inception_small       1,649,402   conv without bias + BatchNorm with a learnable shift, scale fixed
                                      at 1 (TF-slim's default), which is what makes the count exact
    inception_small_nobn  1,649,402   the same with BatchNorm removed and the bias back in the conv
    alexnet_small         1,387,786   two [conv 5x5 -> maxpool 3x3/2 -> LRN] blocks, FC 384, FC 192, 10
    mlp_1x512             1,209,866   2352-512-10
    mlp_3x512             1,735,178   2352-512-512-512-10

``in_channels``, ``image_size`` and ``width`` (a channel / unit multiplier) let the quick profile run
the same code on 1x24x24 digits on a CPU. Figure 3 of the paper draws the Inception modules.

Initialization and batch norm follow TensorFlow's defaults of the paper's time (the paper is silent; see the
book's appendix "The paper's setup and our choices"): Glorot-uniform weights (limit sqrt(6 / (fan_in +
fan_out))) and zero biases for every convolution and linear layer, batch-norm epsilon 1e-3 and a moving-average
decay of 0.999 (TF-slim's ``batch_norm``). ``bn_decay`` lets a short run use a faster average.
"""

from __future__ import annotations

import torch
from torch import nn

from .. import paper

PAPER_PARAM_COUNTS = paper.PARAM_COUNTS  # Table 1
INIT = "glorot_uniform"  # weights; biases zero (TensorFlow's layer defaults)
INITS = ("glorot_uniform", "he_normal", "pytorch")  # pytorch: the layers' own defaults, no TF re-init
# Beyond the paper's models: ``linear`` (flatten -> one linear layer; chapter 2's linear classifier).
OTHER_NAMES = ("linear",)
BN_EPSILON = 1e-3        # TF-slim batch_norm
BN_DECAY = 0.999         # TF-slim batch_norm: moving = decay * moving + (1 - decay) * batch
NAMES = tuple(PAPER_PARAM_COUNTS)
LABELS = {
    "inception_small": "Inception (small)",
    "inception_small_nobn": "Inception w/o BatchNorm",
    "alexnet_small": "AlexNet (small)",
    "mlp_1x512": "MLP 1x512",
    "mlp_3x512": "MLP 3x512",
}


def build(name: str, *, in_channels: int = 3, image_size: int = 28, num_classes: int = 10,
          width: float = 1.0, bn_decay: float = BN_DECAY, init: str = INIT) -> nn.Module:
    """Build model ``name`` for ``in_channels`` x ``image_size`` x ``image_size`` inputs (TensorFlow's init)."""
    if name not in PAPER_PARAM_COUNTS and name not in OTHER_NAMES:
        raise ValueError(f"unknown model {name!r}: choose one of {', '.join(NAMES + OTHER_NAMES)}")
    for arg, v in (("in_channels", in_channels), ("image_size", image_size), ("num_classes", num_classes)):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{arg}={v!r} must be a positive integer")
    if not width > 0:
        raise ValueError(f"width={width!r} must be positive (1.0 is the paper's size)")
    if init not in INITS:
        raise ValueError(f"init={init!r} is unknown: choose one of {', '.join(INITS)}")
    if not 0 <= bn_decay < 1:
        raise ValueError(f"bn_decay={bn_decay!r} must be in [0, 1) (TensorFlow's default is {BN_DECAY})")
    if name.startswith("inception"):
        model = SmallInception(in_channels, num_classes, width, batch_norm=not name.endswith("nobn"))
    elif name == "alexnet_small":
        model = SmallAlexNet(in_channels, image_size, num_classes, width)
    elif name == "linear":  # width does not apply: there is no hidden layer
        model = MLP(in_channels * image_size * image_size, num_classes, 0, 0)
    else:
        model = MLP(in_channels * image_size * image_size, num_classes, int(name[4]), _w(512, width))
    tf_init(model, bn_decay, init)
    return model


def tf_init(model: nn.Module, bn_decay: float = BN_DECAY, init: str = INIT) -> nn.Module:
    """TensorFlow's defaults: Glorot-uniform weights, zero biases, BN epsilon 1e-3 and decay ``bn_decay``.

    ``init="he_normal"`` (variance 2 / fan_in) is the fallback for a plain deep ReLU net that does not train
    from Glorot's init; ``init="pytorch"`` keeps the weights PyTorch's layers drew when built (chapter 8's
    network and chapter 2's linear classifier were first written that way). PyTorch's ``momentum`` is
    TensorFlow's ``1 - decay``. Uses the global torch RNG.
    """
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)) and init != "pytorch":
            if init == "he_normal":
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            else:
                nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            m.eps, m.momentum = BN_EPSILON, 1.0 - bn_decay
    return model


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _w(c: int, width: float) -> int:
    return max(1, round(c * width))


class ShiftOnlyBatchNorm(nn.BatchNorm2d):
    """BatchNorm with a learnable shift (beta) and no scale: TF-slim's ``batch_norm(scale=False)``."""

    def __init__(self, channels: int):
        super().__init__(channels, affine=False)
        # Not called ``bias``: BatchNorm2d would pass a ``bias`` attribute to the fused kernel, which with no
        # weight beside it adds the shift twice on CPU and fails in the backward pass on CUDA.
        self.shift = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        return super().forward(x) + self.shift.view(1, -1, 1, 1)


class ConvModule(nn.Sequential):
    """conv -> BN -> ReLU (the conv keeps its bias only when there is no BN to shift)."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, batch_norm: bool = True):
        layers = [nn.Conv2d(cin, cout, k, stride, padding=k // 2, bias=not batch_norm)]
        if batch_norm:
            layers.append(ShiftOnlyBatchNorm(cout))
        layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class InceptionModule(nn.Module):
    """A 1x1 and a 3x3 ConvModule in parallel, outputs concatenated along channels."""

    def __init__(self, cin: int, c1: int, c3: int, batch_norm: bool):
        super().__init__()
        self.b1 = ConvModule(cin, c1, 1, batch_norm=batch_norm)
        self.b3 = ConvModule(cin, c3, 3, batch_norm=batch_norm)
        self.out_channels = c1 + c3

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x)], 1)


class DownsampleModule(nn.Module):
    """A stride-2 3x3 ConvModule and a 3x3/2 max-pool in parallel, concatenated: halves the resolution."""

    def __init__(self, cin: int, c: int, batch_norm: bool):
        super().__init__()
        self.conv = ConvModule(cin, c, 3, stride=2, batch_norm=batch_norm)
        self.pool = nn.MaxPool2d(3, 2, padding=1)
        self.out_channels = c + cin

    def forward(self, x):
        return torch.cat([self.conv(x), self.pool(x)], 1)


class SmallInception(nn.Module):
    """Small Inception of Appendix A (Figure 3): 28 -> 14 -> 7, global mean pool, linear classifier."""

    PLAN = [("inc", 32, 32), ("inc", 32, 48), ("down", 80), ("inc", 112, 48), ("inc", 96, 64),
            ("inc", 80, 80), ("inc", 48, 96), ("down", 96), ("inc", 176, 160), ("inc", 176, 160)]

    def __init__(self, in_channels=3, num_classes=10, width=1.0, batch_norm=True):
        super().__init__()
        stem = _w(96, width)
        layers: list[nn.Module] = [ConvModule(in_channels, stem, 3, batch_norm=batch_norm)]
        c = stem
        for kind, *chans in self.PLAN:
            if kind == "inc":
                m = InceptionModule(c, _w(chans[0], width), _w(chans[1], width), batch_norm)
            else:
                m = DownsampleModule(c, _w(chans[0], width), batch_norm)
            layers.append(m)
            c = m.out_channels
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).mean(dim=(2, 3)))


class SmallAlexNet(nn.Module):
    """Small AlexNet of Appendix A: [conv 5x5 SAME -> maxpool 3x3/2 -> LRN] x 2, FC 384, FC 192, linear.

    TF's ``lrn(depth_radius=4, bias=1, alpha=0.001/9, beta=0.75)`` is PyTorch's
    ``LocalResponseNorm(size=9, alpha=0.001, beta=0.75, k=1)``: PyTorch divides alpha by size itself.
    """

    def __init__(self, in_channels=3, image_size=28, num_classes=10, width=1.0):
        super().__init__()
        c = _w(64, width)

        def block(cin):
            return [nn.Conv2d(cin, c, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, padding=1),
                    nn.LocalResponseNorm(9, alpha=0.001, beta=0.75, k=1.0)]

        self.features = nn.Sequential(*block(in_channels), *block(c))
        side = image_size
        for _ in range(2):
            side = (side + 2 - 3) // 2 + 1
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c * side * side, _w(384, width)), nn.ReLU(inplace=True),
            nn.Linear(_w(384, width), _w(192, width)), nn.ReLU(inplace=True), nn.Linear(_w(192, width), num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class MLP(nn.Sequential):
    """Fully connected ReLU network on the flattened image: ``depth`` hidden layers of ``hidden`` units."""

    def __init__(self, in_features: int, num_classes: int, depth: int, hidden: int):
        layers: list[nn.Module] = [nn.Flatten()]
        d = in_features
        for _ in range(depth):
            layers += [nn.Linear(d, hidden), nn.ReLU(inplace=True)]
            d = hidden
        layers.append(nn.Linear(d, num_classes))
        super().__init__(*layers)


def param_table(width: float = 1.0) -> list[dict]:
    """Our parameter count beside Table 1's for every model at the paper's 28x28x3 input."""
    rows = []
    for name, reported in PAPER_PARAM_COUNTS.items():
        ours = count_params(build(name, width=width))
        rows.append({"model": name, "label": LABELS[name], "params": ours, "paper": reported, "match": ours == reported})
    return rows
