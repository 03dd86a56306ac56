"""lower-nn-conv at loop level (xDSL interpreter, f32 arithmetic) against the nn reference interpreter."""

from __future__ import annotations

import numpy as np
import pytest
from lowering_interp import LOWER_TO_LOOPS, check_lowering, nn_module

from t2m.dialects import nn

# (C, H, W, OC, KH, KW, stride, padding [t, l, b, r], dilation, groups, bias)
CONFIGS = [
    (2, 5, 5, 3, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1, True),
    (2, 6, 5, 2, 3, 3, (1, 1), (0, 0, 0, 0), (1, 1), 1, False),
    (1, 7, 6, 2, 2, 3, (2, 2), (1, 0, 2, 1), (1, 1), 1, True),
    (2, 7, 7, 2, 3, 3, (3, 2), (2, 2, 2, 2), (1, 1), 1, True),
    (2, 7, 6, 2, 3, 2, (1, 1), (2, 1, 2, 1), (2, 2), 1, True),
    (4, 5, 5, 4, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 4, True),  # depthwise
    (3, 6, 5, 3, 3, 3, (2, 2), (0, 0, 1, 1), (1, 1), 3, False),  # depthwise, TF "same" stride 2
    (4, 4, 5, 6, 1, 2, (1, 2), (0, 1, 0, 0), (1, 1), 2, True),  # grouped
    (4, 4, 4, 2, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1), 1, True),  # pointwise
    (1, 9, 4, 2, 5, 2, (2, 1), (2, 0, 3, 1), (1, 2), 1, True),  # non-square, dilated, asymmetric
    (1, 3, 3, 1, 3, 3, (1, 1), (2, 2, 2, 2), (1, 1), 1, True),  # padding hides whole windows
]


BLOCKINGS = {
    "auto": "lower-nn-conv",
    "plain": "lower-nn-conv{block=false}",
    "3x1x2unroll1": "lower-nn-conv{ob=3 pb=2 unroll=1}",
    "2x2x3unroll2": "lower-nn-conv{ob=2 rb=2 pb=3 unroll=2}",
    "1x3x1": "lower-nn-conv{rb=3}",
}


@pytest.mark.parametrize("blocking", BLOCKINGS)
@pytest.mark.parametrize("cfg", CONFIGS, ids=[f"cfg{i}" for i in range(len(CONFIGS))])
def test_conv2d(cfg: tuple, blocking: str) -> None:
    c, h, w, oc, kh, kw, stride, padding, dilation, groups, bias = cfg
    rng = np.random.default_rng(hash(cfg) % 2**32)
    weight = rng.standard_normal((oc, c // groups, kh, kw)).astype(np.float32)
    b = rng.standard_normal(oc).astype(np.float32)

    def body(xs, const):
        return nn.Conv2dOp(xs[0], const(weight), const(b) if bias else None, stride, padding, dilation,
                           groups).output

    module = nn_module("net", [(1, c, h, w)], body)
    passes = [BLOCKINGS[blocking], *(p for p in LOWER_TO_LOOPS if p != "lower-nn-conv")]
    check_lowering(module, [rng.standard_normal((1, c, h, w))], passes=passes)


def test_batch_of_two_through_conv_pool_linear() -> None:
    rng = np.random.default_rng(7)
    w, lw = rng.standard_normal((3, 2, 3, 3)).astype(np.float32), rng.standard_normal((5, 12)).astype(np.float32)

    def body(xs, const):
        y = nn.Conv2dOp(xs[0], const(w), None, (1, 1), (1, 1, 1, 1), (1, 1), 1).output
        y = nn.MaxPool2dOp(y, (2, 2), (2, 2), (0, 0, 0, 0)).output
        return nn.LinearOp(nn.FlattenOp(y, 1, 3).output, const(lw), None).output

    check_lowering(nn_module("net", [(2, 2, 4, 4)], body), [rng.standard_normal((2, 2, 4, 4))])
