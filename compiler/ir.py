"""Reading and writing t2m modules as text: one parser context with every dialect t2m knows."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
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


def module_to_text(module: ModuleOp) -> str:
    """The module as `t2m-opt`/`xdsl-opt` print it, byte for byte (so an imported file re-prints identically)."""
    out = StringIO()
    printer = Printer(stream=out)
    printer.print_op(module)
    printer.print_metadata([])
    return out.getvalue() + "\n\n"


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
