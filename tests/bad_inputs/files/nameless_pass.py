"""A pass plugin whose pass has no `name`, so -p could never run it."""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass


@dataclass(frozen=True)
class Nameless(ModulePass):
    def apply(self, ctx: Context, op: ModuleOp) -> None:
        pass
