"""`t2m-compile MODEL -o out/`: PyTorch model -> Cortex-M4 object + C header + report, in one shot."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from t2m.compiler.errors import ArgumentParser, T2MError, run_tool
from t2m.compiler.files import write_output, write_outputs
from t2m.compiler.ir import ELIDE_FLAG, element_count
from t2m.compiler.plugins import add_plugin_arguments, parse_pipeline, pass_registry


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        prog="t2m-compile",
        description="Compile a PyTorch model (or an nn-level .mlir) to a Cortex-M4 object and C header.",
        epilog="MODEL is anything t2m-import takes, or an nn-dialect .mlir file.",
    )
    p.add_argument("model", metavar="MODEL")
    p.add_argument(
        "-o",
        "--output-dir",
        default="out",
        help="where to write <name>.o, <name>.h, <name>.mlir, <name>.report.json and <name>.report.html",
    )
    p.add_argument("--input-shape", help="input shape, e.g. 1x1x49x10 (default: the model's example_inputs())")
    p.add_argument("--arch", help="architecture for a .pth state dict: file.py:NAME")
    p.add_argument("--trust-pickle", action="store_true", help="allow a fully pickled module (runs its code)")
    p.add_argument("--quantize", choices=["int8"], help="quantize with PyTorch's PT2E flow (TFLite int8 scheme)")
    p.add_argument(
        "--calibrate",
        metavar="DATA",
        help="calibration inputs for --quantize: an .npy/.npz array of N samples (N x input shape), "
        "file.py:NAME (an iterable of input tensors), or 'random' (meaningless ranges, to try the flow)",
    )
    p.add_argument("--name", help="C symbol prefix (default: from the model)")
    p.add_argument("--target", default="cortex-m4", help="cortex-m4 (default) or host")
    p.add_argument("-O", dest="opt", default="O2", help="optimisation level: O0, O1, O2 (default), O3, Os, Oz")
    p.add_argument("--flash-size", default="1M", help="flash available for code + weights (default 1M)")
    p.add_argument(
        "--ram-size",
        help="RAM available for the activation arena + the input and output buffers the caller passes "
        "(default: the target part's SRAM, 640K for cortex-m4: STM32L4R5; no limit for host)",
    )
    p.add_argument("--no-fuse", action="store_true", help="skip the fusion passes (to measure what they bring)")
    p.add_argument("--no-run", action="store_true", help="do not run the object on the emulator for the report")
    p.add_argument(
        "--max-instructions",
        type=int,
        default=500_000_000,
        metavar="N",
        help="instruction budget of that emulated run (default 500000000, about 5 s)",
    )
    p.add_argument(
        "--tune",
        action="store_true",
        help="measure each layer's kernel variants on the emulated Cortex-M4 and keep the fastest "
        "(choices cached per layer shape; without --tune every layer gets its default kernel)",
    )
    p.add_argument(
        "--tune-cache",
        metavar="FILE",
        help="the tuner's cache (default: $XDG_CACHE_HOME/t2m/tune.json or ~/.cache/t2m/tune.json)",
    )
    p.add_argument(
        "--emit",
        default="obj",
        choices=["nn", "fused", "loops", "llvm", "ll", "asm", "obj"],
        help="stop after this stage and write its output (default: obj, with header and report)",
    )
    add_plugin_arguments(p, "passes to run after fusion, before lowering, e.g. strip-final-softmax (t2m-opt's -p)")
    p.add_argument(
        ELIDE_FLAG,
        type=element_count,
        metavar="N",
        help="with --emit nn, fused, loops or llvm: print dense constants of more than N elements as "
        "dense_resource<__elided__> (for reading: t2m refuses such a file as input)",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    return p


def load_nn_module(model: str, args: argparse.Namespace):
    """An nn module from a .mlir file, or imported from PyTorch."""
    if model.endswith(".mlir"):
        if args.quantize or args.calibrate:
            from t2m.compiler.importer import check_quantize_flags

            check_quantize_flags(args.quantize, args.calibrate)
            raise T2MError(
                f"'{model}' is already imported, it cannot be quantized now",
                "--quantize",
                "pass the PyTorch model to quantize it while importing",
            )
        from t2m.compiler.ir import read_module

        return read_module(model)
    from t2m.compiler.importer import import_model

    return import_model(
        model, args.input_shape, args.arch, args.trust_pickle, args.quantize, args.calibrate, "t2m-compile"
    )


def other_builds(out: Path, report: dict[str, Any]) -> list[dict[str, Any]]:
    """Reports already in `out` of the same model in another element type (an int8 build beside the fp32 one)."""
    found = []
    for path in sorted(out.glob("*.report.json")) if out.is_dir() else []:
        try:
            other = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # not one of ours: ignore it
        if isinstance(other, dict) and other.get("model") == report["model"] and other.get("dtype") != report["dtype"]:
            found.append(other)
    return found


def _main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    from t2m.compiler.backend import get_target
    from t2m.compiler.compile import CompileOptions, check_max_instructions, compile_module, parse_size

    get_target(args.target)  # an unknown target fails before any work
    check_max_instructions(args.max_instructions)
    if args.tune_cache and not args.tune:
        raise T2MError("--tune-cache without --tune", "the command line", "add --tune, or drop --tune-cache")
    options = CompileOptions(args.target, args.opt, parse_size(args.flash_size), not args.no_fuse, not args.no_run,
                             None if args.ram_size is None else parse_size(args.ram_size, "--ram-size"),
                             args.max_instructions, args.tune, args.tune_cache)
    if args.tune:
        if args.target != "cortex-m4":
            raise T2MError(f"--tune measures on the emulated Cortex-M4, not on '{args.target}'", "--tune",
                           "drop --tune or compile for --target cortex-m4")
    if args.elide_elementsattrs_if_larger is not None and args.emit not in ("nn", "fused", "loops", "llvm"):
        raise T2MError(
            f"{ELIDE_FLAG} shortens MLIR text, but --emit {args.emit} writes none",
            ELIDE_FLAG,
            "add --emit nn, fused, loops or llvm",
        )
    options.elide = args.elide_elementsattrs_if_larger
    if args.passes or args.load_pass_plugin:
        options.registry = pass_registry(args.load_pass_plugin)
        parse_pipeline(options.registry, args.passes)  # a misspelt pass fails before the import
        options.passes = args.passes
    module = load_nn_module(args.model, args)
    from t2m.compiler.interpreter import entry_function

    function = entry_function(module)
    if args.name:
        from xdsl.dialects.builtin import StringAttr

        from t2m.compiler.importer.loading import c_identifier

        function.sym_name = StringAttr(c_identifier(args.name))
    name = function.sym_name.data
    result = compile_module(module, args.model, options, stop_at="ll" if args.emit == "asm" else args.emit)
    out = Path(args.output_dir)
    if args.emit in result.ir:
        write_output(out / f"{name}.{args.emit}.mlir", result.ir[args.emit])
        return 0
    if args.emit == "ll":
        write_output(out / f"{name}.ll", result.ll)
        return 0
    if args.emit == "asm":
        from t2m.compiler.backend import compile_asm

        write_output(out / f"{name}.s", compile_asm(result.ll, args.target, args.opt))
        return 0
    assert result.info is not None
    from t2m.compiler.report import render_html, report_data

    run = result.run
    report = report_data(result, args.model, options)
    others = other_builds(out, report)
    write_outputs(
        {
            out / f"{name}.o": result.obj,
            out / f"{name}.h": result.header,
            out / f"{name}.mlir": result.ir["nn"],  # the reference for `t2m-run --check`
            out / f"{name}.report.json": json.dumps(report, indent=2) + "\n",
            out / f"{name}.report.html": render_html(report, others),
        }
    )
    flash = result.sizes.get("text", 0) + result.sizes.get("rodata", 0)
    print(
        f"t2m-compile: {out / (name + '.o')}: {len(result.info.layers)} layers, {result.info.macs} MACs, "
        f"flash {flash} B (code {result.sizes.get('text', 0)}, weights {result.sizes.get('rodata', 0)}), "
        f"RAM {result.info.arena_bytes} B of activations; compiled in {sum(result.seconds.values()):.1f} s"
        + (f"; {run.cycles:,} estimated cycles on the emulated Cortex-M4" if run else "")
        + (f"; tuned {len(result.tuning)} layers in {result.seconds.get('tune', 0.0):.1f} s" if args.tune else "")
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_tool("t2m-compile", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
