"""`t2m-import` / `t2m-compile` with `--quantize int8 --calibrate DATA`: every form of DATA, the warning of
`--calibrate random`, .pt2 models (float, and already quantized). The error cases are in tests/bad_inputs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from int8_helpers import import_quantized, quantize

from t2m.compiler.cli import compile_main, import_main
from t2m.compiler.importer.calibration import load_calibration
from t2m.compiler.interpreter import entry_function, run_module
from t2m.compiler.ir import read_module

ROOT = Path(__file__).resolve().parents[2]
TINY = f"{ROOT}/examples/models.py:TinyCNN"
SHAPE = (1, 3, 16, 16)
FIXTURE = ROOT / "tests" / "int8" / "fixtures" / "cortex_m_int8.pt2"


def _batch(count: int = 24) -> np.ndarray:
    return np.random.default_rng(5).standard_normal((count, *SHAPE)).astype(np.float32)


def _import(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[str, str]:
    assert import_main.main(list(argv)) == 0
    captured = capfd.readouterr()
    return captured.out, captured.err


@pytest.fixture(scope="module")
def calibration(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("calibration")
    np.save(folder / "x.npy", _batch())
    return folder


def test_npy_calibration_imports_the_quantized_model(calibration: Path, capfd: pytest.CaptureFixture[str]) -> None:
    out, err = _import(
        capfd, TINY, "--quantize", "int8", "--calibrate", str(calibration / "x.npy"), "-o", str(calibration / "m.mlir")
    )
    assert (out, err) == ("", "")
    module = read_module(str(calibration / "m.mlir"))
    function = entry_function(module)
    assert [str(t) for t in function.function_type.inputs] == ["tensor<1x3x16x16xi8>"]
    assert {op.name for op in module.walk()} >= {
        "qnn.conv2d",
        "qnn.rescale",
        "qnn.max_pool2d",
        "qnn.add",
        "qnn.adaptive_avg_pool2d",
        "qnn.linear",
        "qnn.softmax",
    }
    (y,) = run_module(module, [np.zeros(SHAPE, np.int8)])
    assert y.dtype == np.int8 and y.shape == (1, 5)


def test_every_calibration_form_gives_the_same_model(calibration: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """The same samples as (N, 1, 3, 16, 16), (N, 3, 16, 16), .npz, and file.py:NAME (list, function,
    generator, one batch tensor) calibrate to the same module."""
    batch = _batch()
    np.save(calibration / "flat.npy", batch[:, 0])
    np.savez(calibration / "x.npz", batch)
    source = calibration / "calib.py"
    source.write_text(
        "import numpy as np, torch\n"
        f"BATCH = torch.from_numpy(np.load({str(calibration / 'x.npy')!r}))\n"
        "LIST = list(BATCH)\n"
        "def function():\n    return [x for x in BATCH]\n"
        "def generator():\n    yield from BATCH\n"
    )
    texts = set()
    for data in (
        "x.npy",
        "flat.npy",
        "x.npz",
        "calib.py:LIST",
        "calib.py:function",
        "calib.py:generator",
        "calib.py:BATCH",
    ):
        out, err = _import(capfd, TINY, "--quantize", "int8", "--calibrate", str(calibration / data))
        assert err == "" and "qnn.conv2d" in out, data
        texts.add(out)
    assert len(texts) == 1


def test_random_calibration_warns_once(capfd: pytest.CaptureFixture[str]) -> None:
    out, err = _import(capfd, TINY, "--quantize", "int8", "--calibrate", "random")
    assert "qnn.softmax" in out
    assert err.splitlines() == [
        "t2m-import: warning: --calibrate random: the int8 ranges come from 32 random N(0, 1) inputs "
        "and are meaningless for real data"
    ]


def test_npz_arrays_are_the_model_inputs(tmp_path: Path) -> None:
    shapes = [(1, 4), (1, 4)]
    np.savez(tmp_path / "two.npz", np.zeros((3, 1, 4)), np.ones((3, 1, 4)))
    samples = load_calibration(str(tmp_path / "two.npz"), shapes, "t2m-import")
    assert len(samples) == 3 and all(len(s) == 2 and float(s[1].sum()) == 4.0 for s in samples)
    from t2m.compiler.errors import T2MError

    with pytest.raises(T2MError, match="holds 2 arrays, the model takes 1 inputs"):
        load_calibration(str(tmp_path / "two.npz"), shapes[:1], "t2m-import")


def test_compile_emits_the_imported_int8_module(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    argv = [TINY, "--quantize", "int8", "--calibrate", "random", "--emit", "fused", "-o", str(tmp_path)]
    assert compile_main.main(argv) == 0
    fused = (tmp_path / "tinycnn.fused.mlir").read_text()
    assert "qnn.conv2d" in fused and "qnn.rescale" not in fused  # fuse-requant folded every rescale
    assert capfd.readouterr().err.startswith("t2m-compile: warning: --calibrate random")


def test_float_pt2_is_quantized_and_quantized_pt2_imports_as_is(tmp_path: Path, capfd: pytest.CaptureFixture[str]):
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import models  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    model = models.TinyCNN().eval()
    torch.export.save(torch.export.export(model, model.example_inputs()), tmp_path / "tiny.pt2")
    out, _ = _import(capfd, str(tmp_path / "tiny.pt2"), "--quantize", "int8", "--calibrate", "random")
    assert "func.func @tiny(%x: tensor<1x3x16x16xi8>" in out
    out, err = _import(capfd, str(FIXTURE), "--check")
    assert err == "" and out.startswith(f"t2m-import: '{FIXTURE}': all ") and out.endswith(" ops are supported\n")


def test_a_quantized_pt2_needs_no_torchao(tmp_path: Path) -> None:
    """Importing a graph somebody else quantized takes torch only (torchao is needed to quantize)."""
    code = (
        "import sys; sys.modules['torchao'] = None\n"
        "from t2m.compiler.cli.import_main import main\n"
        f"sys.exit(main([{str(FIXTURE)!r}, '-o', {str(tmp_path / 'm.mlir')!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, "")
    assert "qnn.softmax" in (tmp_path / "m.mlir").read_text()


def test_api_and_cli_agree(calibration: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """The module t2m-import writes is the one the Python API gives (the tests use the API)."""
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import models  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    batch = torch.from_numpy(_batch())
    program = quantize(models.TinyCNN(), [(x,) for x in batch])
    module = import_quantized(program, "tinycnn")
    out, _ = _import(capfd, TINY, "--quantize", "int8", "--calibrate", str(calibration / "x.npy"))
    from t2m.compiler.ir import module_to_text

    assert out == module_to_text(module)
