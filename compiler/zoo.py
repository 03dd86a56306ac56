"""MLPerf Tiny reference architectures in PyTorch, with deterministic random weights.

The four models mirror the Keras reference models of MLPerf Tiny (github.com/mlcommons/tiny):

- ``kws``: DS-CNN keyword spotting, ``keyword_spotting`` / ``audio_wake_words/keras_model.py`` (``ds_cnn``)
- ``vww``: MobileNetV1 alpha=0.25 visual wake words, ``visual_wake_words/vww_model.py``
- ``ic``:  ResNet-8 image classification, ``image_classification/keras_model.py`` (``resnet_v1_eembc``)
- ``ad``:  FC autoencoder anomaly detection, ``anomaly_detection/keras_model.py``

Layout is PyTorch's NCHW. Weights are random (no download) but fixed: every model re-initialises all of its
parameters and BatchNorm buffers from its own seeded generator, so two builds give bit-identical state_dicts
whatever the global RNG state. BatchNorm layers carry non-trivial statistics (running_var in [0.5, 2], etc.)
and Keras' eps=1e-3, so a BN-folding pass that ignores them, or hard-codes PyTorch's eps=1e-5, is caught.

Differences from the Keras reference, all on purpose:

- the final softmax is left out: the models return logits;
- convolutions keep their bias before BatchNorm, as Keras' default ``use_bias=True`` does; folding must
  merge it too.

Padding: TF's ``padding="same"`` is asymmetric whenever the total padding is odd (the extra row/column goes
bottom/right). PyTorch's ``Conv2d`` padding is symmetric, so with ``tf_padding=True`` (the default) such a
convolution is written as ``nn.ZeroPad2d`` + ``Conv2d(padding=0)`` and the result is TF-exact; with
``tf_padding=False`` a symmetric ``Conv2d`` padding that gives the same output shape (and so the same MACs) is
used instead, without a separate pad op, at the price of shifting the windows by one row/column.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

__all__ = [
    "DSCNN",
    "FCAutoencoder",
    "MobileNetV1",
    "ResNet8",
    "ZOO",
    "build",
    "count_macs",
    "count_params",
]

BN_EPS = 1e-3
"""Keras' BatchNormalization default epsilon (PyTorch's is 1e-5)."""


# --------------------------------------------------------------------------------------------------------
# deterministic initialisation
# --------------------------------------------------------------------------------------------------------


def _uniform(shape: torch.Size, lo: float, hi: float, gen: torch.Generator) -> torch.Tensor:
    return torch.rand(shape, generator=gen) * (hi - lo) + lo


@torch.no_grad()
def _init_deterministic(model: nn.Module, seed: int) -> None:
    """Overwrite every parameter and BN buffer of ``model`` from a generator seeded with ``seed``.

    Conv/linear weights: He-uniform (bound sqrt(6 / fan_in)), which keeps activations O(1) through ReLU
    stacks; biases in [-0.1, 0.1]. BatchNorm: weight in [0.5, 1.5], bias in [-0.25, 0.25], running_mean in
    [-0.25, 0.25], running_var in [0.5, 2].
    """
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            fan_in = m.weight[0].numel()
            bound = math.sqrt(6.0 / fan_in)
            m.weight.copy_(_uniform(m.weight.shape, -bound, bound, gen))
            if m.bias is not None:
                m.bias.copy_(_uniform(m.bias.shape, -0.1, 0.1, gen))
        elif isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
            assert m.weight is not None and m.bias is not None
            assert m.running_mean is not None and m.running_var is not None
            m.weight.copy_(_uniform(m.weight.shape, 0.5, 1.5, gen))
            m.bias.copy_(_uniform(m.bias.shape, -0.25, 0.25, gen))
            m.running_mean.copy_(_uniform(m.running_mean.shape, -0.25, 0.25, gen))
            m.running_var.copy_(_uniform(m.running_var.shape, 0.5, 2.0, gen))


def _example_input(shape: tuple[int, ...], seed: int) -> tuple[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=gen),)


class _ZooModel(nn.Module):
    """Base class: fixed input shape, deterministic example input."""

    INPUT_SHAPE: tuple[int, ...] = ()
    SEED: int = 0

    def example_inputs(self) -> tuple[torch.Tensor]:
        """One deterministic N(0, 1) input of the model's reference shape (batch 1)."""
        return _example_input(self.INPUT_SHAPE, self.SEED + 1)

    def _finish_init(self) -> None:
        _init_deterministic(self, self.SEED)


def _bn2d(ch: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(ch, eps=BN_EPS)


def _same_conv(
    in_ch: int,
    out_ch: int,
    kernel: tuple[int, int],
    stride: int,
    in_hw: tuple[int, int],
    groups: int = 1,
    tf_padding: bool = True,
) -> list[nn.Module]:
    """Conv2d equivalent to TF ``padding="same"`` on an ``in_hw`` input: ``[ZeroPad2d?, Conv2d]``.

    TF pads ``total = max((ceil(in / s) - 1) * s + k - in, 0)``, ``total // 2`` before and the rest after.
    When that is symmetric on both axes the padding goes into the Conv2d. Otherwise, with ``tf_padding`` an
    explicit ``ZeroPad2d`` (left, right, top, bottom) precedes a Conv2d with padding 0 (TF-exact); without
    it the Conv2d gets the symmetric padding ``ceil(total / 2)``, which gives the same output shape.
    """
    pads: list[tuple[int, int]] = []
    for n, k in zip(in_hw, kernel, strict=True):
        out = -(-n // stride)
        total = max((out - 1) * stride + k - n, 0)
        pads.append((total // 2, total - total // 2))
    (top, bottom), (left, right) = pads
    if top == bottom and left == right:
        return [nn.Conv2d(in_ch, out_ch, kernel, stride, padding=(top, left), groups=groups)]
    if tf_padding:
        return [
            nn.ZeroPad2d((left, right, top, bottom)),
            nn.Conv2d(in_ch, out_ch, kernel, stride, padding=0, groups=groups),
        ]
    return [nn.Conv2d(in_ch, out_ch, kernel, stride, padding=(bottom, right), groups=groups)]


# --------------------------------------------------------------------------------------------------------
# KWS: DS-CNN
# --------------------------------------------------------------------------------------------------------


class DSCNN(_ZooModel):
    """MLPerf Tiny KWS DS-CNN: 1x1x49x10 MFCC -> 12 logits.

    Conv 10x4 stride 2 (64) + BN + ReLU, 4 x (depthwise 3x3 + BN + ReLU + pointwise 64 + BN + ReLU),
    avg pool 25x5, FC 64 -> 12. Dropout 0.2 / 0.4 where the reference has it (identity in eval).

    First conv: TF "same" on 49x10 with a 10x4 kernel, stride 2, pads top 4 / bottom 5 / left 1 / right 1
    (total 9 rows, 2 columns) -> 25x5. With ``tf_padding`` it is ``nn.ZeroPad2d((1, 1, 4, 5))`` + conv
    padding 0 (TF-exact; the (1, 2, 4, 5) sometimes quoted gives the same result, the 13th column is never
    read). Without, conv ``padding=(5, 1)`` gives 25x5 too, but rows shift by one. Note that the symmetric
    ``padding=(4, 1)`` would give 24x5.
    """

    INPUT_SHAPE = (1, 1, 49, 10)
    SEED = 1000

    def __init__(self, filters: int = 64, num_classes: int = 12, tf_padding: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            *_same_conv(1, filters, (10, 4), 2, (49, 10), tf_padding=tf_padding),
            _bn2d(filters),
            nn.ReLU(),
            nn.Dropout(0.2),
        ]
        for _ in range(4):
            layers += [
                nn.Conv2d(filters, filters, 3, 1, padding=1, groups=filters),
                _bn2d(filters),
                nn.ReLU(),
                nn.Conv2d(filters, filters, 1),
                _bn2d(filters),
                nn.ReLU(),
            ]
        layers += [nn.Dropout(0.4), nn.AvgPool2d((25, 5)), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(filters, num_classes)
        self._finish_init()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


# --------------------------------------------------------------------------------------------------------
# VWW: MobileNetV1 alpha = 0.25
# --------------------------------------------------------------------------------------------------------

# (stride of the depthwise conv, output channels of the pointwise conv) for the 13 separable blocks, alpha=1/4
_MBV1_BLOCKS: tuple[tuple[int, int], ...] = (
    (1, 16),
    (2, 32),
    (1, 32),
    (2, 64),
    (1, 64),
    (2, 128),
    (1, 128),
    (1, 128),
    (1, 128),
    (1, 128),
    (1, 128),
    (2, 256),
    (1, 256),
)


class MobileNetV1(_ZooModel):
    """MLPerf Tiny VWW MobileNetV1 alpha=0.25: 1x3x96x96 -> 2 logits.

    Conv 3x3 stride 2 (8) + BN + ReLU, 13 depthwise-separable blocks (dw 3x3 + BN + ReLU + pw 1x1 + BN +
    ReLU; channels 16, 32, 32, 64, 64, 128 x 6, 256, 256; stride 2 at blocks 2, 4, 6, 12), avg pool 3x3
    (global), FC 256 -> 2. ReLU, not ReLU6, as in MLPerf's ``vww_model.py``.

    Every stride-2 3x3 conv sees an even input, where TF "same" pads bottom/right 1 only: with
    ``tf_padding`` that is ``nn.ZeroPad2d((0, 1, 0, 1))`` + conv padding 0, else conv padding 1.
    """

    INPUT_SHAPE = (1, 3, 96, 96)
    SEED = 2000

    def __init__(self, num_classes: int = 2, tf_padding: bool = True) -> None:
        super().__init__()
        ch, hw = 8, 96
        layers: list[nn.Module] = [
            *_same_conv(3, ch, (3, 3), 2, (hw, hw), tf_padding=tf_padding),
            _bn2d(ch),
            nn.ReLU(),
        ]
        hw = -(-hw // 2)
        for stride, out_ch in _MBV1_BLOCKS:
            layers += [
                *_same_conv(ch, ch, (3, 3), stride, (hw, hw), groups=ch, tf_padding=tf_padding),
                _bn2d(ch),
                nn.ReLU(),
                nn.Conv2d(ch, out_ch, 1),
                _bn2d(out_ch),
                nn.ReLU(),
            ]
            ch, hw = out_ch, -(-hw // stride)
        layers += [nn.AvgPool2d(hw), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(ch, num_classes)
        self._finish_init()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


# --------------------------------------------------------------------------------------------------------
# IC: ResNet-8
# --------------------------------------------------------------------------------------------------------


class _BasicBlock(nn.Module):
    """Two 3x3 convs with BN (ReLU between), residual add, ReLU.

    The shortcut is a bare 1x1 conv (no BN, as in the MLPerf reference) when the shape changes.
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int, in_hw: int, tf_padding: bool) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            *_same_conv(in_ch, out_ch, (3, 3), stride, (in_hw, in_hw), tf_padding=tf_padding)
        )
        self.bn1 = _bn2d(out_ch)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, padding=1)
        self.bn2 = _bn2d(out_ch)
        self.shortcut: nn.Module = (
            nn.Conv2d(in_ch, out_ch, 1, stride) if stride != 1 or in_ch != out_ch else nn.Identity()
        )
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(self.shortcut(x) + y)


class ResNet8(_ZooModel):
    """MLPerf Tiny IC ResNet-8: 1x3x32x32 -> 10 logits.

    Conv 3x3 (16) + BN + ReLU, three basic blocks (16; 32 stride 2; 64 stride 2; 1x1 conv shortcut without
    BN on the last two), avg pool 8x8, FC 64 -> 10. The stride-2 3x3 convs pad bottom/right 1 as TF "same"
    does (``ZeroPad2d((0, 1, 0, 1))``) with ``tf_padding``, else conv padding 1.
    """

    INPUT_SHAPE = (1, 3, 32, 32)
    SEED = 3000

    def __init__(self, filters: int = 16, num_classes: int = 10, tf_padding: bool = True) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, filters, 3, 1, padding=1), _bn2d(filters), nn.ReLU())
        self.stack1 = _BasicBlock(filters, filters, 1, 32, tf_padding)
        self.stack2 = _BasicBlock(filters, 2 * filters, 2, 32, tf_padding)
        self.stack3 = _BasicBlock(2 * filters, 4 * filters, 2, 16, tf_padding)
        self.pool = nn.AvgPool2d(8)
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(4 * filters, num_classes)
        self._finish_init()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stack3(self.stack2(self.stack1(self.stem(x))))
        return self.classifier(self.flatten(self.pool(x)))


# --------------------------------------------------------------------------------------------------------
# AD: FC autoencoder
# --------------------------------------------------------------------------------------------------------


class FCAutoencoder(_ZooModel):
    """MLPerf Tiny AD FC autoencoder: 1x640 -> 640.

    640 -> 128 -> 128 -> 128 -> 128 -> 8 -> 128 -> 128 -> 128 -> 128 -> 640; Linear + BN1d + ReLU for every
    hidden layer, a bare Linear for the output.
    """

    INPUT_SHAPE = (1, 640)
    SEED = 4000

    def __init__(self, dim: int = 640, hidden: int = 128, bottleneck: int = 8) -> None:
        super().__init__()
        widths = [dim, hidden, hidden, hidden, hidden, bottleneck, hidden, hidden, hidden, hidden]
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(a, b), nn.BatchNorm1d(b, eps=BN_EPS), nn.ReLU()]
        layers.append(nn.Linear(hidden, dim))
        self.layers = nn.Sequential(*layers)
        self._finish_init()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


# --------------------------------------------------------------------------------------------------------
# registry and counting
# --------------------------------------------------------------------------------------------------------


def _factory(cls: type[_ZooModel]) -> Callable[[], nn.Module]:
    def make() -> nn.Module:
        # fork_rng: the default nn init draws from the global RNG before _init_deterministic overwrites
        # everything; keep the caller's global RNG state untouched.
        with torch.random.fork_rng(devices=[]):
            return cls().eval()

    make.__name__ = f"build_{cls.__name__}"
    make.__doc__ = f"A fresh {cls.__name__} with its fixed weights, in eval mode."
    return make


ZOO: dict[str, Callable[[], nn.Module]] = {
    "kws": _factory(DSCNN),
    "vww": _factory(MobileNetV1),
    "ic": _factory(ResNet8),
    "ad": _factory(FCAutoencoder),
}


def build(name: str) -> nn.Module:
    """Build zoo model ``name`` (``kws``, ``vww``, ``ic``, ``ad``) in eval mode."""
    try:
        return ZOO[name]()
    except KeyError:
        raise KeyError(f"unknown zoo model {name!r}; known: {sorted(ZOO)}") from None


def count_macs(model: nn.Module, *inputs: torch.Tensor) -> int:
    """Multiply-accumulates of conv and linear layers for one forward pass on ``inputs``.

    Conv: output elements x in_ch / groups x kh x kw; linear: output elements x in_features (= in x out
    for batch 1). Pooling, BN, activations and adds are not counted (as in MLPerf Tiny's MAC figures).
    The count is for the whole given input, so it scales with the batch size.
    """
    total = 0

    def conv_hook(m: nn.Module, _inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal total
        assert isinstance(m, nn.Conv1d | nn.Conv2d | nn.Conv3d)
        total += out.numel() * (m.in_channels // m.groups) * math.prod(m.kernel_size)

    def linear_hook(m: nn.Module, _inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal total
        assert isinstance(m, nn.Linear)
        total += out.numel() * m.in_features

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv1d | nn.Conv2d | nn.Conv3d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
    return total


def count_params(model: nn.Module, fold_bn: bool = True) -> int:
    """Number of parameters.

    ``fold_bn=True`` (default): parameters as deployed after BatchNorm folding, i.e. every trainable
    parameter except BatchNorm's; BN's scale and shift end up in the weights and bias of the conv/linear
    before it (all conv/linear layers here have a bias). This is the counting that matches the MLPerf Tiny
    params column (a TFLite model's constant tensors): AD exactly; KWS, VWW and IC are 2 below the table,
    most likely the 2-element shape tensor of the Reshape op that Flatten becomes in TFLite (AD has no
    Flatten).

    ``fold_bn=False``: all trainable parameters, BN weight and bias included (PyTorch's usual count; BN
    running statistics are buffers and never counted).
    """
    bn_types = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
    total = 0
    for m in model.modules():
        if fold_bn and isinstance(m, bn_types):
            continue
        total += sum(p.numel() for p in m.parameters(recurse=False) if p.requires_grad)
    return total
