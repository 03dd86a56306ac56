"""`t2m-translate model.mlir -o model.o`: llvm-dialect module -> LLVM IR (`.ll`), assembly (`.s`) or object (`.o`).

The input is what `t2m-opt --fuse --lower` prints. `--emit ll` without `-O` gives the direct translation; with
`-O` it gives the module after LLVM's pipeline for that level. `.o` and `.s` default to `-O2`. The model's
description in the module (dialects/t2m.py) goes into the output, so the `.ll`, the object and (`--header`) the
C header are exactly what `t2m-compile --emit ll|obj` writes for the same module.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from t2m.compiler.errors import ArgumentParser, T2MError, run_tool
from t2m.compiler.files import read_text, write_output, write_outputs

EMIT_BY_SUFFIX = {".o": "obj", ".obj": "obj", ".s": "asm", ".S": "asm", ".ll": "ll"}


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        prog="t2m-translate",
        description="Translate an llvm-dialect module (t2m-opt output) to LLVM IR, assembly or an object file.",
    )
    p.add_argument("input", nargs="?", help="llvm-dialect .mlir file (default: standard input)")
    p.add_argument("-o", "--output", help="output file (default: standard output; required for --emit obj)")
    p.add_argument("--emit", choices=("ll", "asm", "obj"), help="what to write (default: from -o's suffix, else ll)")
    p.add_argument("-O", dest="opt", metavar="LEVEL", help="optimisation level: 0, 1, 2, 3, s, z")
    p.add_argument("--target", default="cortex-m4", help="cortex-m4 (default) or host")
    p.add_argument("--no-verify", action="store_true", help="do not verify the LLVM IR after translation")
    p.add_argument(
        "--header",
        metavar="FILE.h",
        help="with an object: also write its C header (runs the object once on the emulator to size the stack)",
    )
    return p


def _read(path: str | None) -> tuple[str, str]:
    if path is None:
        return sys.stdin.read(), "stdin"
    return read_text(path, expected="an MLIR text file"), path


def _emit_kind(args: argparse.Namespace) -> str:
    if args.emit:
        return args.emit
    return EMIT_BY_SUFFIX.get(Path(args.output).suffix, "ll") if args.output else "ll"


def _main(argv: Sequence[str]) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # argparse already printed its message
        return int(e.code or 0)
    from t2m.compiler.backend.emit_llvm import to_llvm_ir
    from t2m.compiler.backend.errors import BackendError
    from t2m.compiler.backend.llvm import compile_asm, compile_object, get_opt_level, optimize
    from t2m.compiler.backend.target import get_target
    from t2m.compiler.compile import CompileOptions, CompileResult, build_object
    from t2m.compiler.ir import make_context, parse_module
    from t2m.dialects.llvm_ext import LLVM_EXT
    from t2m.dialects.t2m import model_of

    kind = _emit_kind(args)
    if kind == "obj" and not args.output:
        raise T2MError("an object file needs an output path", "--emit obj", "add -o model.o")
    if args.header and kind != "obj":
        raise T2MError("--header describes an object", "--header", "write an object: -o model.o")
    text, source = _read(args.input)
    ctx = make_context()
    if LLVM_EXT.name not in ctx.registered_dialect_names:
        ctx.register_dialect(LLVM_EXT.name, lambda: LLVM_EXT)
    module = parse_module(text, source, ctx)
    try:
        target = get_target(args.target)
        level = get_opt_level(args.opt, origin="-O") if args.opt is not None else None
        ll = to_llvm_ir(module, target, verify=not args.no_verify)
        if kind == "ll":
            output: str | bytes = ll if level is None else str(optimize(ll, target, level))
        elif kind == "asm":
            output = compile_asm(ll, target, level or "O2")
        elif model_of(module) is not None:  # a model: checked and described exactly as t2m-compile does it
            result = CompileResult(ll=ll)
            options = CompileOptions(target.name, level.name if level else "O2", sys.maxsize, run=bool(args.header))
            build_object(result, source, options)
            output = result.obj
            if args.header:
                write_outputs({args.output: output, args.header: result.header})
                return 0
        elif args.header:
            raise T2MError(f"'{source}' carries no t2m model description", source, "a header describes a model")
        else:
            output = compile_object(ll, target, level or "O2")
    except BackendError as e:
        raise T2MError(str(e)) from e
    write_output(args.output or "-", output)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_tool("t2m-translate", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
