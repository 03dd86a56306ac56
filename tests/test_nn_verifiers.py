"""The nn verifiers on fused activations: act_min/act_max only where a stage reads them, and a non-empty window."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.dialects.builtin import FloatAttr, TensorType, f32
from xdsl.ir import Block
from xdsl.utils.exceptions import VerifyException

from t2m.compiler.interpreter import fused_activation
from t2m.dialects import nn


def _linear() -> nn.LinearOp:
    block = Block(arg_types=[TensorType(f32, (1, 4))])
    weight = nn.ConstantOp.from_array(np.ones((3, 4), np.float32))
    return nn.LinearOp(block.args[0], weight, None)


def test_equal_bounds_are_a_constant_window() -> None:
    op = _linear()
    op.set_activation_bounds(2.0, 2.0)
    op.verify()
    assert fused_activation(op, np.array([-1.0, 2.0, 5.0], np.float32)).tolist() == [2.0, 2.0, 2.0]


def test_bounds_set_by_a_pass_are_checked() -> None:
    op = _linear()
    op.set_activation_bounds(1.0, -1.0)
    with pytest.raises(VerifyException, match=r"^'nn.linear' act_min 1.0 must not exceed act_max -1.0\n"):
        op.verify()


def test_bounds_as_discardable_attributes_are_rejected_on_a_fused_op() -> None:
    """Only code can do this (the parser moves them into properties); no stage would read them there."""
    op = _linear()
    op.attributes["act_max"] = FloatAttr(6.0, f32)
    with pytest.raises(VerifyException, match=r"^'nn.linear' act_max is a discardable attribute, which is ignored"):
        op.verify()
