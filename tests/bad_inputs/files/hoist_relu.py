"""A broken pass plugin: it moves each nn.relu to the top of its block, before the op defining its operand."""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from t2m.dialects import nn


@dataclass(frozen=True)
class HoistRelu(ModulePass):
    name = "hoist-relu"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for relu in [o for o in op.walk() if isinstance(o, nn.ReluOp)]:
            block = relu.parent_block()
            assert block is not None and block.first_op is not None
            relu.detach()
            block.insert_op_before(relu, block.first_op)
