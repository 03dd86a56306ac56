"""`t2m-run MODEL --input x.npy [--check] [--torch MODEL]`: run a model at any stage and print its outputs.

- `model.o` (from t2m-compile): on the emulated Cortex-M4, with estimated cycles per layer and the stack used;
- `model.ll`: compiled for this machine by llvmlite and called through ctypes (the host JIT);
- an nn-level `.mlir`: on the reference interpreter (numpy semantics of every op);
- a loop-level `.mlir` (after `bufferize`): lowered to LLVM IR and run by the host JIT.

`--check` compares with the reference interpreter on the nn module t2m-compile saved beside the object;
`--torch MODEL` compares with PyTorch itself.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from t2m.compiler.errors import T2MError, run_tool
from t2m.compiler.files import read_bytes, read_text, write_output

if TYPE_CHECKING:
    from xdsl.dialects.builtin import ModuleOp

    from t2m.compiler.model_info import ModelInfo


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="t2m-run", description="Run a t2m model and print its outputs.")
    p.add_argument("module", metavar="MODEL", help="a t2m-compile object (.o), LLVM IR (.ll) or nn-level .mlir")
    p.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="X.npy",
        help="input array (repeat for several inputs; default: seeded random inputs)",
    )
    p.add_argument("-o", "--output", help="write the (first) output array to this .npy file")
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
        "--rtol", type=float, default=1e-5, help="largest accepted max|y - ref| / max|ref| for the checks (1e-5)"
    )
    p.add_argument("--mhz", type=float, default=120.0, help="clock for the estimated times (default 120 MHz)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    return p


def load_inputs(paths: Sequence[str]) -> list[np.ndarray]:
    arrays = []
    for path in paths:
        try:
            arrays.append(np.load(path, allow_pickle=False).astype(np.float32))
        except FileNotFoundError as e:
            raise T2MError(f"no such file '{path}'", "--input", "check the path") from e
        except (ValueError, OSError, EOFError) as e:
            raise T2MError(f"'{path}' is not a readable .npy array ({e})", "--input", "save it with numpy.save") from e
    return arrays


def random_inputs(shapes: Sequence[Sequence[int]], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(tuple(s)).astype(np.float32) for s in shapes]


def format_array(name: str, a: np.ndarray) -> str:
    flat = a.reshape(-1)
    shown = np.array2string(flat[:16], precision=6, separator=", ", max_line_width=200)
    more = f" ... ({flat.size} values)" if flat.size > 16 else ""
    return f"{name}: shape {'x'.join(map(str, a.shape))}, {shown}{more}"


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


def torch_outputs(spec: str, arch: str | None, inputs: list[np.ndarray]) -> list[np.ndarray]:
    import torch

    from t2m.compiler.importer import load_model

    loaded = load_model(spec, "x".join(map(str, inputs[0].shape)), arch)
    if loaded.module is None:
        raise T2MError(f"'{spec}' is an exported program, not a module", "--torch", "pass the model's .py:NAME")
    with torch.no_grad():
        ref = loaded.module(*(torch.from_numpy(x) for x in inputs))
    return [r.numpy() for r in (ref if isinstance(ref, tuple | list) else (ref,))]


# --- the three kinds of model -----------------------------------------------------------------------------------


def run_mlir(path: str, args: argparse.Namespace) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """An nn module runs on the reference interpreter; a loop-level one is lowered to LLVM and JIT-compiled."""
    from t2m.compiler.interpreter import entry_function, run_module
    from t2m.compiler.ir import read_module

    module = read_module(path)
    if not any(op.name.startswith("nn.") for op in module.walk()):
        return run_loops(module, path, args)
    function = entry_function(module)
    shapes = [t.get_shape() for t in function.function_type.inputs]  # type: ignore[attr-defined]
    inputs = load_inputs(args.input) if args.input else random_inputs(shapes, args.seed)
    outputs = run_module(module, inputs)
    print(f"{function.sym_name.data}: nn reference interpreter")
    return inputs, outputs


def run_loops(module: ModuleOp, path: str, args: argparse.Namespace) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A loop-level module (the output of `t2m-opt -p ...,bufferize`): to LLVM IR, then the host JIT."""
    from xdsl.dialects import func

    from t2m.compiler.backend.emit_llvm import to_llvm_ir
    from t2m.compiler.model_info import ModelInfo
    from t2m.compiler.pipeline import LOWER_TO_LLVM, apply_passes

    entry = next((f for f in module.ops if isinstance(f, func.FuncOp) and "t2m.inputs" in f.attributes), None)
    if entry is None:
        raise T2MError(
            f"'{path}' has no nn ops and no t2m model function",
            path,
            "run an nn module, or a loop-level one produced by the bufferize pass",
        )
    shapes = [list(t.get_shape()) for t in entry.function_type.inputs]  # type: ignore[attr-defined]
    n_inputs = entry.attributes["t2m.inputs"].value.data  # type: ignore[attr-defined]
    info = ModelInfo(entry.sym_name.data.removesuffix("_run"), shapes[:n_inputs], shapes[n_inputs:])
    return _jit(to_llvm_ir(apply_passes(module, LOWER_TO_LLVM)), info, args)


def run_ll(path: str, args: argparse.Namespace) -> tuple[list[np.ndarray], list[np.ndarray]]:
    from t2m.compiler.model_info import META_PREFIX, ModelInfo

    text = read_text(path, expected="an LLVM IR text file")
    meta = re.search(r'!"' + re.escape(META_PREFIX) + r'(.*)"}', text)
    if meta is None:
        raise T2MError(f"'{path}' carries no t2m model description", path, "write it with t2m-compile --emit ll")
    return _jit(text, ModelInfo.from_json(meta.group(1).replace("\\22", '"').replace("\\5C", "\\")), args)


def _jit(text: str, info: ModelInfo, args: argparse.Namespace) -> tuple[list[np.ndarray], list[np.ndarray]]:
    from t2m.compiler.backend import HostJIT

    inputs = load_inputs(args.input) if args.input else random_inputs(info.inputs, args.seed)
    outputs = [np.zeros(shape, np.float32) for shape in info.outputs]
    status = HostJIT(text).run(info.entry, [x.reshape(s) for x, s in zip(inputs, info.inputs, strict=True)], outputs)
    print(f"{info.entry}: host JIT (llvmlite), returned {status}")
    return inputs, outputs


def run_obj(path: str, args: argparse.Namespace) -> tuple[list[np.ndarray], list[np.ndarray]]:
    from t2m.compiler.emulate import run_object
    from t2m.compiler.model_info import read_from_object

    obj = read_bytes(path)
    info = read_from_object(obj, path)
    inputs = load_inputs(args.input) if args.input else random_inputs(info.inputs, args.seed)
    run = run_object(obj, inputs, path)
    print_layer_table(run, args.mhz)
    if args.check and not args.reference:
        args.reference = str(Path(path).with_name(f"{info.name}.mlir"))
    return inputs, run.outputs


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
    kinds = {".mlir": run_mlir, ".ll": run_ll, ".o": run_obj}
    runner = kinds.get(Path(args.module).suffix)
    if runner is None:
        raise T2MError(f"cannot run '{args.module}'", args.module, "t2m-run takes a .o, a .ll or an nn-level .mlir")
    inputs, outputs = runner(args.module, args)
    for i, y in enumerate(outputs):
        print(format_array(f"output {i}", y))
    if args.check:
        from t2m.compiler.interpreter import run_module
        from t2m.compiler.ir import read_module

        if not args.reference:
            raise T2MError("--check needs the nn module", "--reference", "pass --reference model.mlir")
        refs = run_module(
            read_module(args.reference), [x.reshape(s) for x, s in zip(inputs, _shapes(args), strict=True)]
        )
        compare("reference interpreter", outputs, refs, args.rtol, "this is a t2m bug: please report it")
    if args.torch:
        refs = torch_outputs(args.torch, args.arch, inputs)
        for i, r in enumerate(refs):
            print(format_array(f"PyTorch output {i}", r))
        compare("PyTorch", outputs, refs, args.rtol, "this is a t2m bug if the model imported without errors")
    if args.output:
        buf = io.BytesIO()
        np.save(buf, outputs[0])
        write_output(Path(args.output), buf.getvalue())
    return 0


def _shapes(args: argparse.Namespace) -> list[list[int]]:
    from t2m.compiler.interpreter import entry_function
    from t2m.compiler.ir import read_module

    function = entry_function(read_module(args.reference))
    return [list(t.get_shape()) for t in function.function_type.inputs]  # type: ignore[attr-defined]


def main(argv: Sequence[str] | None = None) -> int:
    return run_tool("t2m-run", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
