"""The product card's route, command by command, for every zoo model, and `t2m-run` on every file along it.

    t2m-import MODEL -o m.mlir                   # nn
    t2m-opt --fuse m.mlir -o m.fused.mlir        # fused nn
    t2m-opt -p pack-weights,lower-nn-linear m.fused.mlir ...    # partly lowered (a researcher's intermediate file)
    t2m-opt --lower m.fused.mlir -o m.low.mlir   # llvm dialect
    t2m-translate m.low.mlir -o m.ll / m.o --header m.h
    t2m-run <each file> --input x.npy -o y.npy

The object, the .ll and the header are byte for byte what `t2m-compile` writes for the same model; every
compiled stage gives the object's outputs bit for bit (the same IR, on the host JIT or the emulated Cortex-M4),
and the nn-level files give the reference interpreter's, within 1e-5 of the object.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

from t2m.compiler import zoo

TOOLS = {
    "t2m-import": "import_main",
    "t2m-opt": "opt_main",
    "t2m-translate": "translate_main",
    "t2m-run": "run_main",
    "t2m-compile": "compile_main",
}
ZOO = {"kws": "DSCNN", "vww": "MobileNetV1", "ic": "ResNet8", "ad": "FCAutoencoder"}
SMALL = {"kws", "ad"}
"""Models the route also takes through a partly lowered file and `t2m-compile --emit ll` (the same code paths as
for the large ones, which would double their time)."""


def t2m(command: str, *args: str | Path) -> None:
    """Run one t2m command in this process (as its console script would); it must succeed."""
    main = importlib.import_module(f"t2m.compiler.cli.{TOOLS[command]}").main
    assert main([str(a) for a in args]) == 0, f"{command} {' '.join(map(str, args))}"


@pytest.fixture(scope="module", params=sorted(ZOO))
def route(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    key = request.param
    d = tmp_path_factory.mktemp(key)
    model = zoo.build(key)
    x = np.random.default_rng(3).standard_normal(model.example_inputs()[0].shape).astype(np.float32)
    np.save(d / "x.npy", x)
    t2m("t2m-import", f"t2m.compiler.zoo:{ZOO[key]}", "-o", d / "m.mlir")
    t2m("t2m-opt", "--fuse", d / "m.mlir", "-o", d / "m.fused.mlir")
    if key in SMALL:
        t2m("t2m-opt", "-p", "pack-weights,lower-nn-linear", d / "m.fused.mlir", "-o", d / "m.part.mlir")
    t2m("t2m-opt", "--lower", d / "m.fused.mlir", "-o", d / "m.low.mlir")
    t2m("t2m-translate", d / "m.low.mlir", "-o", d / "m.ll")
    t2m("t2m-translate", d / "m.low.mlir", "-o", d / "m.o", "--header", d / "m.h")
    t2m("t2m-compile", d / "m.mlir", "-o", d / "compiled", "--flash-size", "2M")
    if key in SMALL:
        t2m("t2m-compile", d / "m.mlir", "-o", d / "compiled", "--emit", "ll")
    return key, d


def _run(d: Path, name: str) -> np.ndarray:
    t2m("t2m-run", d / name, "--input", d / "x.npy", "-o", d / f"y.{name}.npy")
    return np.load(d / f"y.{name}.npy")


def test_translate_makes_what_compile_makes(route: tuple[str, Path]) -> None:
    key, d = route
    (name,) = [p.stem for p in (d / "compiled").glob("*.o")]
    assert (d / "m.o").read_bytes() == (d / "compiled" / f"{name}.o").read_bytes()
    if key in SMALL:
        assert (d / "m.ll").read_text() == (d / "compiled" / f"{name}.ll").read_text()
    assert (d / "m.h").read_text() == (d / "compiled" / f"{name}.h").read_text()
    assert f"#define {name.upper()}_STACK_SIZE " in (d / "m.h").read_text()


def test_every_stage_runs(route: tuple[str, Path]) -> None:
    key, d = route
    y_obj = _run(d, "m.o")
    for compiled in ("m.ll", "m.low.mlir", *(["m.part.mlir"] if key in SMALL else [])):
        y = _run(d, compiled)
        assert y.shape == y_obj.shape
        assert np.array_equal(y.view(np.uint32), y_obj.view(np.uint32)), compiled  # same IR: the same bits
    for nn_level in ("m.mlir", "m.fused.mlir"):
        y = _run(d, nn_level)
        assert float(np.max(np.abs(y - y_obj)) / np.max(np.abs(y))) <= 1e-5, nn_level
