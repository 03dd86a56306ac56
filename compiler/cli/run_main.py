"""`t2m-run MODULE --input x.npy [-o y.npy]`: run a model at any stage and print its outputs.

An `nn`-level `.mlir` runs on the reference interpreter (numpy semantics of every op).
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from t2m.compiler.errors import T2MError, run_tool, write_atomic


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="t2m-run", description="Run a t2m module and print its outputs.")
    p.add_argument("module", metavar="MODULE", help="an nn-level .mlir file")
    p.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="X.npy",
        help="input array (repeat for several inputs; default: seeded random inputs)",
    )
    p.add_argument("-o", "--output", help="write the (first) output array to this .npy file")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    p.add_argument(
        "--torch",
        metavar="MODEL",
        help="also run this PyTorch model (t2m-import's MODEL forms) on the same inputs and check the outputs agree",
    )
    p.add_argument(
        "--rtol",
        type=float,
        default=1e-5,
        help="largest accepted max|y - ref| / max|ref| for the checks (default 1e-5)",
    )
    p.add_argument("--arch", help="architecture for a .pth given to --torch")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    return p


def load_inputs(paths: Sequence[str]) -> list[np.ndarray]:
    arrays = []
    for path in paths:
        try:
            arrays.append(np.load(path, allow_pickle=False).astype(np.float32))
        except FileNotFoundError as e:
            raise T2MError(f"no such file '{path}'", "--input", "check the path") from e
        except (ValueError, OSError) as e:
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


def check_against_torch(
    spec: str, arch: str | None, inputs: list[np.ndarray], outputs: list[np.ndarray], rtol: float
) -> None:
    """Run the PyTorch model on the same inputs; print its answer and fail if the outputs disagree."""
    import torch

    from t2m.compiler.compare import relative_error
    from t2m.compiler.importer import load_model

    loaded = load_model(spec, "x".join(map(str, inputs[0].shape)), arch)
    if loaded.module is None:
        raise T2MError(f"'{spec}' is an exported program, not a module", "--torch", "pass the model's .py:NAME")
    with torch.no_grad():
        ref = loaded.module(*(torch.from_numpy(x) for x in inputs))
    refs = [r.numpy() for r in (ref if isinstance(ref, tuple | list) else (ref,))]
    print(f"{spec}: PyTorch")
    worst = 0.0
    for i, (y, r) in enumerate(zip(outputs, refs, strict=True)):
        print(format_array(f"output {i}", r))
        worst = max(worst, relative_error(y, r))
    verdict = "ok" if worst <= rtol else "FAILED"
    print(f"check vs PyTorch: max relative error {worst:.3g} (tolerance {rtol:g}): {verdict}")
    if worst > rtol:
        raise T2MError(
            f"outputs differ from PyTorch: max relative error {worst:.3g} > {rtol:g}",
            "--torch",
            "this is a t2m bug if the model imported without errors: please report it",
        )


def _main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    from t2m.compiler.interpreter import entry_function, run_module
    from t2m.compiler.ir import read_module

    if not args.module.endswith(".mlir"):
        raise T2MError(f"cannot run '{args.module}'", args.module, "t2m-run takes an nn-level .mlir file")
    module = read_module(args.module)
    function = entry_function(module)
    shapes = [t.get_shape() for t in function.function_type.inputs]  # type: ignore[attr-defined]
    inputs = load_inputs(args.input) if args.input else random_inputs(shapes, args.seed)
    outputs = run_module(module, inputs)
    print(f"{function.sym_name.data}: nn reference interpreter")
    for i, y in enumerate(outputs):
        print(format_array(f"output {i}", y))
    if args.torch:
        check_against_torch(args.torch, args.arch, inputs, outputs, args.rtol)
    if args.output:
        buf = io.BytesIO()
        np.save(buf, outputs[0])
        write_atomic(Path(args.output), buf.getvalue())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_tool("t2m-run", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
