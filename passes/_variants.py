"""Kernel variants of the int8 lowerings: the seam between the `lower-qnn-*` patterns and the tuner.

A lowering pattern that has several plausible kernels for one layer (register blocks, unroll, layout) registers a
function that lists them for a given op, the default first. The tuner (`--tune`) prices each candidate on the
emulator's cycle model and writes its choice on the op as the discardable attribute `t2m.variant` (a string); the
pattern reads that attribute back with `chosen` and falls back to its default when it is absent. The attribute
is plain text in the IR, so a researcher can pin a variant by hand in a `.mlir` file.
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.dialects.builtin import StringAttr
from xdsl.ir import Operation

VARIANT_ATTR = "t2m.variant"

Lister = Callable[[Operation], list[str]]
_LISTERS: dict[str, Lister] = {}


def register(op_name: str, lister: Lister) -> None:
    """Declare the variants of an op kind (e.g. "qnn.conv2d"): `lister(op)` returns names, the default first."""
    _LISTERS[op_name] = lister


def candidates(op: Operation) -> list[str]:
    """The variants a pattern can emit for this op (empty: nothing to choose)."""
    lister = _LISTERS.get(op.name)
    return lister(op) if lister is not None else []


def chosen(op: Operation) -> str | None:
    """The variant pinned on the op by the tuner or by hand, if any."""
    attr = op.attributes.get(VARIANT_ATTR)
    return attr.data if isinstance(attr, StringAttr) else None


def pin(op: Operation, variant: str) -> None:
    """Record a choice on the op (the tuner's output; survives printing and parsing)."""
    op.attributes[VARIANT_ATTR] = StringAttr(variant)


def emitted(op: Operation) -> str:
    """The variant a pattern following this convention emits for the op: the pinned one, else its default (""
    when the op has no choice). `replace_with_layer` records it on the layer function (`#t2m.layer`)."""
    pinned = chosen(op)
    if pinned is not None:
        return pinned
    options = candidates(op)
    return options[0] if options else ""
