"""A pass plugin with a bug: it divides by the number of softmax ops, and the model has none."""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from t2m.dialects import nn


def share(count: int) -> float:
    return 1 / count


@dataclass(frozen=True)
class SoftmaxShare(ModulePass):
    name = "softmax-share"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        share(sum(isinstance(o, nn.SoftmaxOp) for o in op.walk()))
