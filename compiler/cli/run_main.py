"""`t2m-run MODEL --input x.npy [--check] [--torch MODEL]`: run a model at any stage and print its outputs.

- `model.o` (t2m-compile, t2m-translate): on the emulated Cortex-M4, with estimated cycles per layer and the stack;
- `model.ll`: compiled for this machine by llvmlite and run natively through ctypes (the host JIT);
- an nn-level `.mlir` (imported or fused): on the reference interpreter (numpy semantics of every op);
- any later `.mlir` (partly lowered, loops, llvm dialect): lowered the rest of the way as `t2m-opt --lower` would,
  then run by the host JIT.

`--check` compares with the reference interpreter on the nn module t2m-compile saved beside the object;
`--torch MODEL` compares with PyTorch itself.

An int8 model (docs/int8.md) takes float inputs, quantized with the model's input scale and zero point (round half
to even, then clamped: values beyond the range saturate, as in PyTorch), or int8 `.npy` inputs as they are; it
prints the int8 outputs and their dequantized values; `-o` writes the dequantized float32 output, `--raw` the int8
one; `--check` must find every int8 value identical to the integer reference interpreter's.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from t2m.compiler.compare import INT8_MIN_COSINE
from t2m.compiler.errors import ArgumentParser, T2MError, run_tool
from t2m.compiler.files import read_bytes, read_text, write_output
from t2m.compiler.model_info import ModelInfo, buffer_dtype, dequantize, fit_inputs, model_inputs
from t2m.compiler.plugins import add_plugin_arguments, parse_pipeline, pass_registry

if TYPE_CHECKING:
    from xdsl.dialects.builtin import ModuleOp


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        prog="t2m-run",
        description="Run a t2m model at any stage and print its outputs.",
        epilog="An object (.o) runs on the emulated Cortex-M4. LLVM IR (.ll) and lowered .mlir files are compiled "
        "for THIS machine and run natively (the host JIT): run only files you trust; t2m refuses calls to anything "
        "but its own runtime symbols. nn-level .mlir runs on the reference interpreter.",
    )
    p.add_argument(
        "module", metavar="MODEL", help="an object (.o), LLVM IR (.ll) or a .mlir file at any stage of t2m's pipeline"
    )
    p.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="X.npy",
        help="input array (repeat for several inputs; default: seeded random inputs)",
    )
    p.add_argument("-o", "--output", help="write the (first) output array to this .npy file (int8 models: dequantized)")
    p.add_argument(
        "--raw", action="store_true", help="with -o: write the output buffer as computed (int8 models: int8 values)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    p.add_argument("--check", action="store_true", help="compare with the reference interpreter (nn module)")
    p.add_argument("--reference", help="nn-level .mlir for --check (default: <name>.mlir beside the object)")
    p.add_argument(
        "--torch",
        metavar="MODEL",
        help="also run this PyTorch model (t2m-import's MODEL forms) on the same inputs and check the outputs agree "
        "(it is built again: its weights must be deterministic, e.g. seeded or loaded from a .pth)",
    )
    p.add_argument("--arch", help="architecture for a .pth given to --torch")
    p.add_argument(
        "--quantize",
        choices=["int8"],
        help="with --torch and --calibrate: compare an int8 model with the model PT2E converts (as t2m-compile did)",
    )
    p.add_argument("--calibrate", metavar="DATA", help="the calibration data t2m-compile --quantize int8 was given")
    p.add_argument(
        "--min-cosine",
        type=float,
        help="int8 models: the cosine similarity --torch must reach (default 0.999 against the converted model, 0.99 "
        "against the fp32 one)",
    )
    p.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow a --torch model file that needs unpickling (a pickle can run arbitrary code)",
    )
    p.add_argument(
        "--rtol", type=float, default=1e-5, help="largest accepted max|y - ref| / max|ref| for the checks (1e-5)"
    )
    p.add_argument("--mhz", type=float, default=120.0, help="clock for the estimated times (default 120 MHz)")
    p.add_argument(
        "--max-instructions",
        type=int,
        default=500_000_000,
        metavar="N",
        help="an object's instruction budget on the emulator (default 500000000, about 5 s)",
    )
    add_plugin_arguments(p, "a .mlir MODEL: run these passes on it first, e.g. strip-final-softmax (t2m-opt's -p)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    return p


def load_inputs(paths: Sequence[str]) -> list[np.ndarray]:
    """The `--input` arrays: int8 arrays as they are (raw values for an int8 model), any other as float32 (never
    unpickling: an object array is refused)."""
    arrays = []
    for path in paths:
        data = read_bytes(path, "--input")
        try:
            array = np.load(io.BytesIO(data), allow_pickle=False)
            if not isinstance(array, np.ndarray):
                raise ValueError("it is an .npz archive of several arrays")
            arrays.append(array if array.dtype == np.int8 else array.astype(np.float32))
        except (ValueError, TypeError, OSError, EOFError) as e:
            first = (str(e).splitlines() or [type(e).__name__])[0]
            what = f"'{path}' is not a readable .npy array ({first})"
            raise T2MError(what, "--input", "save it with numpy.save") from None
    return arrays


def random_inputs(shapes: Sequence[Sequence[int]], seed: int, int8: bool = False) -> list[np.ndarray]:
    """Seeded inputs: standard normal floats, or for an int8 model int8 values over the whole range."""
    rng = np.random.default_rng(seed)
    if int8:
        return [rng.integers(-128, 128, tuple(s)).astype(np.int8) for s in shapes]
    return [rng.standard_normal(tuple(s)).astype(np.float32) for s in shapes]


def prepare_inputs(args: argparse.Namespace, info: ModelInfo, source: str) -> list[np.ndarray]:
    """The model's input buffers: the `--input` arrays (quantized for an int8 model) or seeded random ones."""
    if not args.input:
        return random_inputs(info.inputs, args.seed, info.dtype == "int8")
    return model_inputs(load_inputs(args.input), info, source)


def format_array(name: str, a: np.ndarray) -> str:
    flat = a.reshape(-1)
    shown = np.array2string(flat[:16], precision=6, separator=", ", max_line_width=200)
    more = f" ... ({flat.size} values)" if flat.size > 16 else ""
    return f"{name}: shape {'x'.join(map(str, a.shape))}, {shown}{more}"


def print_outputs(outputs: list[np.ndarray], info: ModelInfo) -> None:
    """The outputs; an int8 model's also dequantized with their scale and zero point."""
    for i, y in enumerate(outputs):
        if y.dtype != np.int8 or i >= len(info.output_quant):
            print(format_array(f"output {i}", y))
            continue
        scale, zero_point = info.output_quant[i]
        print(format_array(f"output {i} (int8)", y))
        offset = f"q - {zero_point}" if zero_point >= 0 else f"q + {-zero_point}"
        print(format_array(f"output {i} (dequantized: {scale:.6g} * ({offset}))", dequantize(y, scale, zero_point)))


def check_identical(outputs: list[np.ndarray], refs: list[np.ndarray]) -> None:
    """int8 outputs against the integer reference interpreter: every value identical, or exit 1 naming the first
    difference."""
    for i, (y, r) in enumerate(zip(outputs, refs, strict=True)):
        r = r.reshape(y.shape) if r.size == y.size else r
        if r.shape != y.shape or r.dtype != y.dtype:
            what = f"output {i} is {y.dtype} {'x'.join(map(str, y.shape))}, the reference's {r.dtype} " + "x".join(
                map(str, r.shape))
            print(f"check vs reference interpreter: {what}: FAILED")
            raise T2MError(f"outputs differ from the reference interpreter: {what}", "--check",
                           "this is a t2m bug: please report it")
        if not np.array_equal(y, r):
            at = tuple(int(v) for v in np.argwhere(y != r)[0])
            differ = int((y != r).sum())
            what = (f"output {i} at index ({', '.join(map(str, at))}) is {int(y[at])}, the reference's {int(r[at])} "
                    f"({differ} of {y.size} values differ)")
            print(f"check vs reference interpreter: {what}: FAILED")
            raise T2MError(f"outputs differ from the reference interpreter: {what}", "--check",
                           "this is a t2m bug: please report it")
    total = sum(y.size for y in outputs)
    print(f"check vs reference interpreter: all {total} int8 values identical: ok")


def compare(label: str, outputs: list[np.ndarray], refs: list[np.ndarray], rtol: float, hint: str) -> None:
    """Print how the outputs agree with `refs`; any disagreement is an error (exit 1): a relative error over
    `rtol` on the finite values, a shape, or NaN/inf where the reference has none (or another, or a number)."""
    from t2m.compiler.compare import compare as compare_arrays

    results = [
        compare_arrays(y, r.reshape(y.shape) if r.size == y.size else r) for y, r in zip(outputs, refs, strict=True)
    ]
    reference = label if label[:1].isupper() else f"the {label}"
    for i, result in enumerate(results):
        if (mismatch := result.mismatch(reference)) is not None:
            print(f"check vs {label}: output {i}: {mismatch}: FAILED")
            raise T2MError(f"outputs differ from {reference}: output {i} has {mismatch}", "--check", hint)
    worst = max(r.error for r in results)
    size, nan, inf = (sum(getattr(r, key) for r in results) for key in ("size", "nan", "inf"))
    agreement = [f"max relative error {worst:.3g}" if nan + inf < size else "no finite values"]
    if nan:
        agreement.append(f"NaN in the same {nan} of {size} places")
    if inf:
        agreement.append(f"the same infinity in {inf} of {size} places")
    print(f"check vs {label}: {', '.join(agreement)} (tolerance {rtol:g}): {'ok' if worst <= rtol else 'FAILED'}")
    if worst > rtol:
        raise T2MError(f"outputs differ from {reference}: max relative error {worst:.3g} > {rtol:g}", "--check", hint)


def torch_outputs(args: argparse.Namespace, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """PyTorch's outputs for `--torch MODEL`; with `--quantize int8 --calibrate DATA`, those of the model PT2E
    converts with that calibration (t2m's quantizer, as t2m-compile does it), else of the float model."""
    import torch

    from t2m.compiler.importer import export, load_model, quantize

    loaded = load_model(args.torch, "x".join(map(str, inputs[0].shape)), args.arch, args.trust_pickle)
    if args.quantize:
        module = quantize(export(loaded), args.torch, args.calibrate, "t2m-run").module(check_guards=False)
    elif loaded.module is None:
        raise T2MError(f"'{args.torch}' is an exported program, not a module", "--torch", "pass the model's .py:NAME")
    else:
        module = loaded.module
    with torch.no_grad():
        ref = module(*(torch.from_numpy(x) for x in inputs))
    return [r.numpy() for r in (ref if isinstance(ref, tuple | list) else (ref,))]


def compare_int8(
    label: str, outputs: list[np.ndarray], refs: list[np.ndarray], info: ModelInfo, minimum: float
) -> None:
    """An int8 model's dequantized outputs against PyTorch's float ones: the largest difference in output steps
    (LSB) and the cosine similarity, which must reach `minimum` (exit 1 otherwise)."""
    from t2m.compiler.compare import cosine

    for i, (y, r) in enumerate(zip(outputs, refs, strict=True)):
        scale = info.output_quant[i][0]
        lsb = float(np.max(np.abs(y - r.reshape(y.shape)))) / scale
        similarity = cosine(y, r)
        verdict = "ok" if similarity >= minimum else "FAILED"
        print(f"check vs {label}: output {i}: max difference {lsb:.3g} LSB, cosine {similarity:.6f} "
              f"(minimum {minimum:g}): {verdict}")
        if similarity < minimum:
            raise T2MError(
                f"output {i} differs from {label}: cosine {similarity:.6f} < {minimum:g}",
                "--torch",
                "check the calibration data (--calibrate) against the inputs, or pass --min-cosine",
            )


# --- the kinds of model: every stage runs ---------------------------------------------------------------------

Run = tuple[list[np.ndarray], list[np.ndarray], ModelInfo]
"""What running a model gives: its input buffers, its outputs, and its description."""


def run_mlir(path: str, args: argparse.Namespace) -> Run:
    """An nn module (imported or fused) runs on the reference interpreter; a module at any later stage (partly
    lowered, loops, llvm dialect) is lowered the rest of the way, exactly as `t2m-opt --lower` would, and run by
    the host JIT."""
    from t2m.compiler.interpreter import entry_function, run_module
    from t2m.compiler.ir import read_module
    from t2m.compiler.model_info import describe_function
    from t2m.compiler.pipeline import is_nn_level

    module = read_module(path)
    if args.passes:
        from t2m.compiler.pipeline import apply_passes

        apply_passes(module, [args.passes], verify_each=True, available=args.registry)
    if not is_nn_level(module):
        return run_lowered(module, path, args)
    function = entry_function(module)
    info = describe_function(function)
    inputs = prepare_inputs(args, info, path)
    outputs = run_module(module, inputs)
    print(f"{function.sym_name.data}: {'integer ' if info.dtype == 'int8' else 'nn '}reference interpreter")
    return inputs, outputs, info


def run_lowered(module: ModuleOp, path: str, args: argparse.Namespace) -> Run:
    """A module past the nn level: finish the lowering, then LLVM IR on the host JIT."""
    from t2m.compiler.backend.emit_llvm import to_llvm_ir
    from t2m.compiler.model_info import describe
    from t2m.compiler.pipeline import lower_rest

    lower_rest(module, path)
    return _jit(to_llvm_ir(module), path, args, describe(module, f"'{path}'"))


def run_ll(path: str, args: argparse.Namespace) -> Run:
    """LLVM IR compiled for this machine and run natively (its description read from the compiled object)."""
    return _jit(read_text(path, expected="an LLVM IR text file"), path, args)


def _jit(
    text: str, path: str, args: argparse.Namespace, info: ModelInfo | None = None
) -> Run:
    from t2m.compiler.backend import HostJIT
    from t2m.compiler.backend.errors import BackendError
    from t2m.compiler.model_info import read_from_object

    try:
        jit = HostJIT(text)
    except BackendError as e:
        raise T2MError(str(e), path, "pass LLVM IR written by t2m-compile --emit ll or t2m-translate") from None
    info = info or read_from_object(jit.object, path)
    inputs = prepare_inputs(args, info, path)
    outputs = [np.zeros(shape, buffer_dtype(info)) for shape in info.outputs]
    status = jit.run(info.entry, inputs, outputs)
    if status != 0:
        raise T2MError(f"{info.entry} returned {status}", path, "the model reported an error")
    print(f"{info.entry}: host JIT (llvmlite, native code on this machine), returned {status}")
    return inputs, outputs, info


def run_obj(path: str, args: argparse.Namespace) -> Run:
    from t2m.compiler.emulate import run_object
    from t2m.compiler.model_info import read_from_object

    obj = read_bytes(path)
    info = read_from_object(obj, path)
    inputs = prepare_inputs(args, info, path)
    run = run_object(obj, inputs, path, args.max_instructions)
    print_layer_table(run, args.mhz)
    if args.check and not args.reference:
        args.reference = str(Path(path).with_name(f"{info.name}.mlir"))
    return inputs, run.outputs, info


def print_layer_table(run, mhz: float) -> None:
    from rich.console import Console
    from rich.table import Table

    total = run.cycles
    table = Table(title=f"{run.info.entry} on an emulated Cortex-M4 (estimated cycles, TRM timing table)")
    for column in ("layer", "op", "MACs", "est. cycles", "MAC/cycle", "share"):
        table.add_column(column, justify="left" if column in ("layer", "op") else "right")
    for layer in run.layers:
        share = f"{100 * layer.cycles / total:.1f}%" if total else "-"
        mpc = f"{layer.macs_per_cycle:.3f}" if layer.macs else "-"
        table.add_row(layer.symbol, layer.op, f"{layer.macs:,}", f"{layer.cycles:,}", mpc, share)
    macs = run.info.macs
    table.add_section()
    table.add_row("total", "", f"{macs:,}", f"{total:,}", f"{macs / total:.3f}" if total else "-", "100%")
    console = Console(width=110)
    console.print(table)
    print(
        f"estimated {total:,} cycles = {total / (mhz * 1e3):.2f} ms at {mhz:g} MHz; {run.result.instructions:,} "
        f"instructions; stack {run.result.stack_bytes} B; activations {run.info.arena_bytes} B"
    )


def _main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    from t2m.compiler.importer import check_quantize_flags

    check_quantize_flags(args.quantize, args.calibrate)
    from t2m.compiler.compile import check_max_instructions

    check_max_instructions(args.max_instructions)
    if args.quantize and not args.torch:
        raise T2MError("--quantize rebuilds the PyTorch model given to --torch", "--quantize", "add --torch MODEL")
    kinds = {".mlir": run_mlir, ".ll": run_ll, ".o": run_obj}
    runner = kinds.get(Path(args.module).suffix)
    if runner is None:
        raise T2MError(f"cannot run '{args.module}'", args.module, "t2m-run takes a .o, a .ll or a .mlir file")
    args.registry = None
    if args.passes or args.load_pass_plugin:
        if runner is not run_mlir:
            raise T2MError(
                f"-p runs passes on MLIR, and '{args.module}' is not an .mlir file", "-p", "pass the model's .mlir file"
            )
        args.registry = pass_registry(args.load_pass_plugin)
        parse_pipeline(args.registry, args.passes)
    if args.raw and not args.output:
        raise T2MError("--raw writes the raw int8 output, but no output file is named", "--raw", "add -o y.npy")
    inputs, outputs, info = runner(args.module, args)
    int8 = info.dtype == "int8"
    print_outputs(outputs, info)
    if args.check:
        from t2m.compiler.interpreter import run_module
        from t2m.compiler.ir import read_module

        if not args.reference:
            raise T2MError("--check needs the nn module", "--reference", "pass --reference model.mlir")
        reference = read_module(args.reference)
        refs = run_module(reference, fit_inputs(inputs, _shapes(reference), args.reference, inputs[0].dtype.type))
        if int8:
            check_identical(outputs, refs)
        else:
            compare("reference interpreter", outputs, refs, args.rtol, "this is a t2m bug: please report it")
    real_outputs = [dequantize(y, *q) for y, q in zip(outputs, info.output_quant, strict=True)] if int8 else outputs
    if args.torch:
        real_inputs = [dequantize(x, *q) for x, q in zip(inputs, info.input_quant, strict=True)] if int8 else inputs
        refs = torch_outputs(args, real_inputs)
        for i, r in enumerate(refs):
            print(format_array(f"PyTorch output {i}", r))
        if int8:
            kind = "converted" if args.quantize else "fp32"
            label = "PyTorch's converted int8 model" if args.quantize else "PyTorch's fp32 model"
            compare_int8(label, real_outputs, refs, info, args.min_cosine or INT8_MIN_COSINE[kind])
        else:
            compare("PyTorch", real_outputs, refs, args.rtol, "this is a t2m bug if the model imported without errors")
    if args.output:
        buf = io.BytesIO()
        np.save(buf, outputs[0] if args.raw else real_outputs[0])
        write_output(Path(args.output), buf.getvalue())
    return 0


def _shapes(module: ModuleOp) -> list[list[int]]:
    from t2m.compiler.interpreter import entry_function

    function = entry_function(module)
    return [list(t.get_shape()) for t in function.function_type.inputs]  # type: ignore[attr-defined]


def main(argv: Sequence[str] | None = None) -> int:
    return run_tool("t2m-run", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
