"""A pass plugin that refuses its input on purpose, with xDSL's PassFailedException."""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException


@dataclass(frozen=True)
class NeedsSoftmax(ModulePass):
    name = "needs-softmax"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        raise PassFailedException("the model has no nn.softmax to rewrite")
