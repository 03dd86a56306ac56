"""`t2m-import MODEL -o model.mlir`: PyTorch model -> `nn` dialect text."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from t2m.compiler.errors import ArgumentParser, T2MError, run_tool
from t2m.compiler.files import write_output


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        prog="t2m-import",
        description="Import a PyTorch model into t2m's nn dialect (MLIR text).",
        epilog="MODEL is path/file.py:NAME or package.module:NAME (an nn.Module class or a factory), "
        "a torch.export .pt2 archive, or a .pth state dict with --arch file.py:NAME.",
    )
    p.add_argument("model", metavar="MODEL", nargs="?", help="the model to import")
    p.add_argument("-o", "--output", help="write the nn module here (default: standard output)")
    p.add_argument("--input-shape", help="input shape, e.g. 1x1x49x10 (default: the model's example_inputs())")
    p.add_argument("--arch", help="architecture for a .pth state dict: file.py:NAME")
    p.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow loading a fully pickled module (a pickle can run arbitrary code)",
    )
    p.add_argument("--quantize", choices=["int8"], help="quantize with PyTorch's PT2E flow (TFLite int8 scheme)")
    p.add_argument(
        "--calibrate",
        metavar="DATA",
        help="calibration inputs for --quantize: an .npy/.npz array of N samples (N x input shape), "
        "file.py:NAME (an iterable of input tensors), or 'random' (meaningless ranges, to try the flow)",
    )
    p.add_argument("--check", action="store_true", help="only report whether every op is supported")
    p.add_argument("--list-ops", action="store_true", help="list the ATen ops t2m imports and exit")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    return p


def _main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    from t2m.compiler.importer import (
        check_quantize_flags,
        export,
        import_program,
        load_model,
        quantize,
        supported_ops,
        unsupported_error,
    )
    from t2m.compiler.ir import module_to_text

    if args.list_ops:
        print("\n".join(supported_ops()))
        return 0
    if args.model is None:
        raise T2MError("no MODEL given", "the command line", "see t2m-import --help")
    check_quantize_flags(args.quantize, args.calibrate)
    loaded = load_model(args.model, args.input_shape, args.arch, args.trust_pickle)
    program = export(loaded)
    if args.quantize:
        program = quantize(program, args.model, args.calibrate, "t2m-import")
    module, unsupported = import_program(program, loaded.name)
    if unsupported:
        raise unsupported_error(args.model, unsupported)
    if args.check:
        n = sum(1 for node in program.graph.nodes if node.op == "call_function")
        print(f"t2m-import: '{args.model}': all {n} ops are supported")
        return 0
    text = module_to_text(module)
    if args.output:
        write_output(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_tool("t2m-import", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
