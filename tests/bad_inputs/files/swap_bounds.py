"""A broken pass plugin: it gives every linear layer an empty activation window (act_min > act_max)."""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from t2m.dialects import nn


@dataclass(frozen=True)
class SwapBounds(ModulePass):
    name = "swap-bounds"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for linear in op.walk():
            if isinstance(linear, nn.LinearOp):
                linear.set_activation_bounds(6.0, 0.0)
