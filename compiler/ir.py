"""Reading and writing t2m modules as text: one parser context with every dialect t2m knows."""

from __future__ import annotations

from argparse import ArgumentTypeError
from io import StringIO
from pathlib import Path

from xdsl.context import Context
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp
from xdsl.ir import Attribute
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.universe import Universe
from xdsl.utils.exceptions import ParseError, VerifyException

from t2m.compiler.dominance import verify_dominance
from t2m.compiler.errors import T2MError
from t2m.compiler.files import read_text
from t2m.dialects.qnn import verify_io_quant
from t2m.dialects.t2m import verify_descriptions


def make_context() -> Context:
    """A context with xDSL's dialects and t2m's (all through the `xdsl.universe` entry points, loaded lazily)."""
    ctx = Context()
    for name, factory in Universe.get_multiverse().all_dialects.items():
        ctx.register_dialect(name, factory)
    return ctx


ELIDED = "dense_resource<__elided__>"
"""What an elided dense attribute prints as (MLIR's `--mlir-elide-elementsattrs-if-larger` prints the same)."""

ELIDE_FLAG = "--elide-elementsattrs-if-larger"


class ElidingPrinter(Printer):
    """xDSL's printer, with dense attributes of more than `limit` elements (splats excepted) printed as
    `dense_resource<__elided__> : <type>`: IR for people to read, which t2m refuses to read back."""

    def __init__(self, stream: StringIO, limit: int) -> None:
        super().__init__(stream=stream)
        self.limit = limit

    def print_attribute(self, attribute: Attribute) -> None:
        if isinstance(attribute, DenseIntOrFPElementsAttr) and elided(attribute, self.limit):
            self.print_string(f"{ELIDED} : ")
            super().print_attribute(attribute.get_type())
            return
        super().print_attribute(attribute)


def element_count(text: str) -> int:
    """The N of `--elide-elementsattrs-if-larger N` (argparse type)."""
    if not text.isdigit():
        raise ArgumentTypeError(f"'{text}' is not a number of elements")
    return int(text)


def elided(attribute: DenseIntOrFPElementsAttr, limit: int) -> bool:
    return len(attribute) > limit and not attribute.is_splat()


def module_to_text(module: ModuleOp, elide_larger_than: int | None = None) -> str:
    """The module as `t2m-opt`/`xdsl-opt` print it, byte for byte (so an imported file re-prints identically).

    With `elide_larger_than`, dense attributes of more elements are elided, and a first comment line says so."""
    out = StringIO()
    printer = Printer(stream=out) if elide_larger_than is None else ElidingPrinter(out, elide_larger_than)
    printer.print_op(module)
    printer.print_metadata([])
    text = out.getvalue() + "\n\n"
    if elide_larger_than is None or ELIDED not in text:
        return text
    return (
        f"// t2m: dense attributes of more than {elide_larger_than} elements are elided ({ELIDED}): this text is "
        "for reading, t2m refuses it as input\n" + text
    )


def check_not_elided(text: str, source: str) -> None:
    """An elided module (`--elide-elementsattrs-if-larger`) lacks its weights: refuse it rather than misread it."""
    if ELIDED not in text:
        return
    code = (t.split("//", 1)[0] for t in text.splitlines())  # a comment may name the notation
    line = next((i for i, t in enumerate(code, 1) if ELIDED in t), None)
    if line is None:
        return
    raise T2MError(
        f"'{source}' was printed with its large constants elided ({ELIDED}), so it cannot be read back",
        f"{source}:{line}",
        f"use the IR printed without {ELIDE_FLAG}",
    )


def verify_module(module: ModuleOp) -> None:
    """xDSL's verifiers, then SSA dominance, which `Operation.verify()` does not check (docs/design.md §5), then the
    t2m and qnn attributes xDSL cannot verify on their own (descriptions; int8 I/O quantization)."""
    module.verify()
    verify_dominance(module.body)
    verify_descriptions(module)
    verify_io_quant(module)


def parse_module(text: str, source: str = "<string>", ctx: Context | None = None) -> ModuleOp:
    """Parse and verify; errors become one-line T2MErrors naming the file and line."""
    if not text.strip():
        raise T2MError(f"'{source}' is empty", source, "pass an MLIR module (t2m-import writes one)")
    check_not_elided(text, source)
    try:
        module = Parser(ctx or make_context(), text, source).parse_module()
        verify_module(module)
    except ParseError as e:
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        where = lines[0] if lines else source
        raise T2MError(f"syntax error: {lines[-1] if lines else e}", where, "fix the IR text") from e
    except VerifyException as e:
        raise T2MError(f"invalid IR: {str(e).strip().splitlines()[-1]}", source, "fix the op named above") from e
    return module


def read_module(path: str | Path) -> ModuleOp:
    return parse_module(read_text(path, expected="an MLIR text file"), str(path))
