"""The int8 run time: quantizing inputs as PyTorch's PT2E graphs do, t2m-run on int8 models at every stage
(float or int8 inputs, int8 and dequantized outputs, -o / --raw, --check bit for bit), the C header's
quantization, and the bench's int8 measurement."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from qnn_models import Builder, Case, module_of
from xdsl.dialects.builtin import IntegerAttr, i32

from t2m.compiler.backend.header import render_header
from t2m.compiler.bench import find_anchors, measure, read_memory_bounds, read_model_anchors, render_int8
from t2m.compiler.cli.compile_main import main as compile_main
from t2m.compiler.cli.run_main import main as run_main
from t2m.compiler.compile import CompileOptions, compile_module
from t2m.compiler.errors import T2MError
from t2m.compiler.interpreter import run_module
from t2m.compiler.ir import module_to_text, parse_module, read_module
from t2m.compiler.model_info import ModelInfo, dequantize, model_inputs, quantize
from t2m.dialects import qnn

MODEL = """\
func.func @tiny8(%x: tensor<1x8xi8> {qnn.quant = #qnn.quant<0.05, -3>})
    -> (tensor<1x4xi8> {qnn.quant = #qnn.quant<0.1, 5>}) {
  %w = nn.constant dense<[[1, 2, 3, 4, 5, 6, 7, 8], [-1, -2, -3, -4, -5, -6, -7, -8],
                          [127, 0, 0, 0, 0, 0, 0, -127], [1, 1, 1, 1, 1, 1, 1, 1]]> : tensor<4x8xi8>
  %b = nn.constant dense<[10, -20, 30, -40]> : tensor<4xi32>
  %y = qnn.linear %x, %w, %b {input_zp = -3 : i32, act_min = -100 : i32,
                              requant = #qnn.requant<multiplier = [1073741824], shift = [-5], output_zp = 5>}
    : (tensor<1x8xi8>, tensor<4x8xi8>, tensor<4xi32>) -> tensor<1x4xi8>
  func.return %y : tensor<1x4xi8>
}
"""
SCALE_IN, ZP_IN, SCALE_OUT, ZP_OUT = 0.05, -3, 0.1, 5


def test_quantize_is_pt2e_quantize_per_tensor() -> None:
    """Exact ties (multiples of half a step), values far beyond the range (saturate), negative values: the same
    int8 values as the quantize op in PT2E graphs; dequantize as PyTorch's."""
    import torch
    import torch.ao.quantization.fx._decomposed  # noqa: F401  (registers quantized_decomposed)

    x = np.concatenate([np.arange(-300, 300) * np.float32(0.025), [1e9, -1e9, 6.4, -6.5, 0.0]]).astype(np.float32)
    ours = quantize(x, SCALE_IN, ZP_IN)
    theirs = torch.ops.quantized_decomposed.quantize_per_tensor(torch.from_numpy(x), SCALE_IN, ZP_IN, -128, 127,
                                                                 torch.int8)
    assert ours.dtype == np.int8 and np.array_equal(ours, theirs.numpy())
    assert ours[-5:-3].tolist() == [127, -128]  # saturated, not an error
    back = torch.ops.quantized_decomposed.dequantize_per_tensor(theirs, SCALE_IN, ZP_IN, -128, 127, torch.int8)
    assert np.array_equal(dequantize(ours, SCALE_IN, ZP_IN), back.numpy())


def test_model_inputs_take_int8_as_is_quantize_floats_and_refuse_other_types() -> None:
    info = ModelInfo("m", [[1, 4]], [[1, 4]], dtype="int8", quant=[(SCALE_IN, ZP_IN), (SCALE_OUT, ZP_OUT)])
    raw = np.array([[-128, 0, 5, 127]], np.int8)
    assert np.array_equal(model_inputs([raw], info, "m")[0], raw)
    floats = np.array([0.0, 0.05, -1.0, 100.0], np.float32)
    assert model_inputs([floats], info, "m")[0].tolist() == [[-3, -2, -23, 127]]
    with pytest.raises(T2MError, match="input 0 is int32; the int8 model takes int8 values, or floats"):
        model_inputs([np.zeros(4, np.int32)], info, "m")
    unscaled = ModelInfo("m", [[1, 4]], [[1, 4]], dtype="int8")
    assert np.array_equal(model_inputs([raw], unscaled, "m")[0], raw)
    with pytest.raises(T2MError, match="the int8 model states no input scale"):
        model_inputs([floats], unscaled, "m")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """t2m-compile of MODEL: tiny8.o, tiny8.h, tiny8.mlir (the reference for --check) in one folder."""
    folder = tmp_path_factory.mktemp("tiny8")
    (folder / "model.mlir").write_text(MODEL)
    assert compile_main([str(folder / "model.mlir"), "-o", str(folder / "out")]) == 0
    return folder / "out"


def _run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    status = run_main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _expected(x_int8: np.ndarray) -> np.ndarray:
    return run_module(parse_module(MODEL), [x_int8.reshape(1, 8)])[0]


def test_run_object_float_input_quantized_check_and_dequantized_output(
    compiled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x = np.linspace(-3, 3, 8).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    status, out, err = _run(capsys, compiled / "tiny8.o", "--input", tmp_path / "x.npy", "--check", "-o",
                            tmp_path / "y.npy")
    assert (status, err) == (0, "")
    want = _expected(quantize(x, SCALE_IN, ZP_IN))
    assert "check vs reference interpreter: all 4 int8 values identical: ok" in out
    assert f"output 0 (int8): shape 1x4, {np.array2string(want.reshape(-1), separator=', ')}" in out
    y = np.load(tmp_path / "y.npy")
    assert y.dtype == np.float32 and np.array_equal(y, dequantize(want, SCALE_OUT, ZP_OUT))


def test_run_object_int8_input_as_is_raw_output(
    compiled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x = np.array([-128, -1, 0, 1, 127, 50, -50, 3], np.int8)
    np.save(tmp_path / "x.npy", x)
    status, _, err = _run(capsys, compiled / "tiny8.o", "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npy",
                          "--raw")
    assert (status, err) == (0, "")
    y = np.load(tmp_path / "y.npy")
    assert y.dtype == np.int8 and np.array_equal(y, _expected(x))


def test_float_input_beyond_the_scale_saturates_and_is_not_an_error(
    compiled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x = np.array([1e3, -1e3, 7.0, -7.0, 1e30, -1e30, 6.4, -6.5], np.float32)  # the scale covers [-6.25, 6.5]
    np.save(tmp_path / "x.npy", x)
    status, out, err = _run(capsys, compiled / "tiny8.o", "--input", tmp_path / "x.npy", "--check", "-o",
                            tmp_path / "y.npy", "--raw")
    assert (status, err) == (0, "")
    quantized = quantize(x, SCALE_IN, ZP_IN)
    assert quantized.tolist() == [127, -128, 127, -128, 127, -128, 125, -128]
    assert np.array_equal(np.load(tmp_path / "y.npy"), _expected(quantized))
    assert "identical: ok" in out


def test_check_against_a_different_reference_names_the_first_difference(
    compiled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "other.mlir").write_text(MODEL.replace("dense<[10, -20, 30, -40]>", "dense<[10, -20, 300, -40]>"))
    x = np.zeros(8, np.int8)
    np.save(tmp_path / "x.npy", x)
    status, out, err = _run(capsys, compiled / "tiny8.o", "--input", tmp_path / "x.npy", "--check", "--reference",
                            tmp_path / "other.mlir")
    ours, theirs = _expected(x)[0, 2], run_module(read_module(tmp_path / "other.mlir"), [x.reshape(1, 8)])[0][0, 2]
    assert ours != theirs
    assert status == 1
    assert err.splitlines() == [
        f"t2m-run: error: outputs differ from the reference interpreter: output 0 at index (0, 2) is {ours}, the "
        f"reference's {theirs} (1 of 4 values differ), at --check; this is a t2m bug: please report it"
    ]


@pytest.mark.parametrize("stage", ["nn", "loops"])
def test_run_mlir_stages_give_the_objects_bits(
    stage: str, compiled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The qnn module on the integer reference interpreter, and its loop-level form on the host JIT."""
    from t2m.compiler.pipeline import LOWER_TO_LOOPS, apply_passes

    module = parse_module(MODEL)
    if stage == "loops":
        apply_passes(module, LOWER_TO_LOOPS)
    (tmp_path / "m.mlir").write_text(module_to_text(module))
    x = np.arange(-4, 4).astype(np.int8)
    np.save(tmp_path / "x.npy", x)
    status, out, err = _run(capsys, tmp_path / "m.mlir", "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npy",
                            "--raw")
    assert (status, err) == (0, "")
    assert ("integer reference interpreter" in out) == (stage == "nn")
    assert np.array_equal(np.load(tmp_path / "y.npy"), _expected(x))


def test_header_of_a_model_with_two_inputs_and_two_outputs() -> None:
    def body(b: Builder, xs: list) -> list:
        add = qnn.AddOp.create(
            operands=xs,
            result_types=[xs[0].type],
            properties={
                "lhs_zp": IntegerAttr(1, i32), "rhs_zp": IntegerAttr(-2, i32),
                "lhs_scale": qnn.RequantAttr.from_scales([0.5], 0), "rhs_scale": qnn.RequantAttr.from_scales([0.5], 0),
                "output_scale": qnn.RequantAttr.from_scales([2.0**-19], 7),
            },
        )
        return [b.op(add), b.op(qnn.ClampOp(xs[0], 0, 100))]

    module = module_of([Case("two", [((1, 4), (0.25, 1)), ((1, 4), (0.5, -2))], body, [(0.75, 7), (0.25, 1)])],
                       "two")
    result = compile_module(module, "two", CompileOptions())
    assert result.run is not None
    header = render_header(result.info, result.obj, result.run.result.stack_bytes)  # type: ignore[arg-type]
    for line in ("#define TWO_INPUT0_SCALE 0.25f", "#define TWO_INPUT0_ZERO_POINT 1",
                 "#define TWO_INPUT1_SCALE 0.5f", "#define TWO_INPUT1_ZERO_POINT -2",
                 "#define TWO_OUTPUT0_SCALE 0.75f", "#define TWO_OUTPUT0_ZERO_POINT 7",
                 "#define TWO_OUTPUT1_SCALE 0.25f", "#define TWO_OUTPUT1_ZERO_POINT 1",
                 "int two_run(const int8_t *input0, const int8_t *input1, int8_t *output0, int8_t *output1);"):
        assert line in header.splitlines(), line


def test_bench_measures_an_int8_module_and_renders_it() -> None:
    """`measure` recognises an int8 module (bit-exact comparison, not a relative error); `render_int8` compares
    its arena with the int8 lower bound and its cycles with the MLPerf Tiny anchors."""
    module = parse_module(MODEL)
    m = measure(module, "tiny8", 1 << 20)
    assert m.rel_error == 0 and m.macs == 32 and m.cycles > 0
    anchors = find_anchors()
    text = render_int8([("ad", m)], read_model_anchors(anchors), read_memory_bounds(anchors), {"ad": m})
    row = next(line for line in text.splitlines() if line.startswith("| ad | 32 |"))
    assert f"| {m.cycles:,} |" in row and "| 768 |" in row and row.endswith("| yes |")
    ratio = next(line for line in text.splitlines() if line.startswith("| ad | ") and "×" in line)
    assert f"{1.206 / (m.cycles / 1e6):.2f}×" in ratio and ratio.endswith("| 1.00× | - |")  # empty arena: no ratio
    assert math.isclose(m.macs_per_cycle, 32 / m.cycles)
