"""Every zoo model through the whole compiler: host JIT and the emulated Cortex-M4 against the references.

Verification ladder (docs/design.md §7): PyTorch = nn interpreter (test_importer) = host JIT of the LLVM IR = the
Cortex-M4 object on the emulator. Each model is compiled once per session.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from t2m.compiler import zoo
from t2m.compiler.backend import HostJIT, check_cortex_m4_object, inspect_object
from t2m.compiler.compare import relative_error
from t2m.compiler.compile import CompileOptions, CompileResult, compile_module
from t2m.compiler.emulate import run_object
from t2m.compiler.errors import T2MError
from t2m.compiler.importer import export, import_program
from t2m.compiler.importer.loading import LoadedModel
from t2m.compiler.interpreter import run_module
from t2m.compiler.ir import read_module

BIN = Path(sys.executable).parent


@pytest.fixture(scope="session", params=sorted(zoo.ZOO))
def compiled(request: pytest.FixtureRequest) -> tuple[str, torch.nn.Module, object, CompileResult]:
    name = request.param
    model = zoo.build(name)
    module, _ = import_program(export(LoadedModel(name, model, None, model.example_inputs())), name)
    result = compile_module(module, f"zoo:{name}", CompileOptions(flash_size=2 << 20))
    return name, model, module, result


def _input(result: CompileResult, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(result.info.inputs[0]).astype(np.float32)


def test_host_jit_matches_interpreter_and_torch(compiled) -> None:
    name, model, module, result = compiled
    jit = HostJIT(result.ll)
    for seed in (0, 1):
        x = _input(result, seed)
        y = np.zeros(result.info.outputs[0], np.float32)
        assert jit.run(result.info.entry, [x], [y]) == 0
        assert relative_error(y, run_module(module, [x])[0]) <= 1e-5
        with torch.no_grad():
            assert relative_error(y, model(torch.from_numpy(x)).numpy()) <= 1e-5


def test_emulator_matches_host_jit_and_torch(compiled) -> None:
    name, model, _, result = compiled
    x = _input(result, 2)
    jit_out = np.zeros(result.info.outputs[0], np.float32)
    HostJIT(result.ll).run(result.info.entry, [x], [jit_out])
    run = run_object(result.obj, [x], name)
    assert relative_error(run.outputs[0], jit_out) <= 1e-5
    with torch.no_grad():
        assert relative_error(run.outputs[0], model(torch.from_numpy(x)).numpy()) <= 1e-5
    # every layer is its own function with its own cycles, and they add up to (almost) the whole run
    assert all(layer.cycles > 0 for layer in run.layers)
    assert sum(layer.cycles for layer in run.layers) <= run.cycles < sum(layer.cycles for layer in run.layers) + 5000
    assert sum(layer.macs for layer in run.layers) == zoo.count_macs(model, model.example_inputs()[0])


def test_object_contract(compiled) -> None:
    """ELF32 ARM Thumb v7E-M, hard-float attribute, no NEON, no libcalls, weights in flash, static buffers."""
    name, _, _, result = compiled
    assert check_cortex_m4_object(result.obj) == []
    info = inspect_object(result.obj)
    assert info.undefined == ()
    entry = result.info.entry
    assert sorted(s.name for s in info.functions if s.binding == "STB_GLOBAL") == [entry, f"{entry}_with_arena"]
    layers = sorted(s.name for s in info.functions if s.name.startswith(f"{result.info.name}_L"))
    assert layers == sorted(layer.symbol for layer in result.info.layers if "_L" in layer.symbol)  # none inlined
    assert info.section_sizes["rodata"] > 0 and info.section_sizes["data"] == 0
    assert result.sizes["rodata"] >= 4 * sum(p.numel() for p in zoo.build(name).parameters()) * 0.9
    assert result.sizes["bss"] == result.info.arena_bytes
    header = result.header
    upper = result.info.name.upper()
    assert f"int {result.info.entry}(const float *input, float *output);" in header
    assert f"int {result.info.entry}_with_arena(const float *input, float *output, uint8_t *arena);" in header
    assert f"#define {upper}_INPUT_SIZE {int(np.prod(result.info.inputs[0]))} /* elements */" in header
    assert f"#define {upper}_ARENA_SIZE {result.info.arena_bytes} " in header


def run_tool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / args[0]), *args[1:]], capture_output=True, text=True, cwd=cwd)


TINY_NN = """func.func @tiny(%x: tensor<1x8xf32>) -> tensor<1x4xf32> {
  %w = nn.constant dense<0.25> : tensor<4x8xf32>
  %b = nn.constant dense<0.5> : tensor<4xf32>
  %y = nn.linear %x, %w, %b : (tensor<1x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<1x4xf32>
  func.return %y : tensor<1x4xf32>
}
"""


def test_compile_cli_and_run(tmp_path: Path) -> None:
    (tmp_path / "tiny.mlir").write_text(TINY_NN)
    result = run_tool("t2m-compile", "tiny.mlir", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "tiny.h",
        "tiny.mlir",
        "tiny.o",
        "tiny.report.html",
        "tiny.report.json",
    ]
    np.save(tmp_path / "x.npy", np.arange(8, dtype=np.float32).reshape(1, 8))
    run = run_tool("t2m-run", "out/tiny.o", "--input", "x.npy", "--check", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    # 0.25 * (0 + 1 + ... + 7) + 0.5 = 7.5 in every output
    assert "output 0: shape 1x4, [7.5, 7.5, 7.5, 7.5]" in run.stdout
    assert "check vs reference interpreter: max relative error 0 (tolerance 1e-05): ok" in run.stdout
    ll = run_tool("t2m-compile", "tiny.mlir", "-o", "ll", "--emit", "ll", cwd=tmp_path)
    assert ll.returncode == 0, ll.stderr
    jit = run_tool("t2m-run", "ll/tiny.ll", "--input", "x.npy", cwd=tmp_path)
    assert "output 0: shape 1x4, [7.5, 7.5, 7.5, 7.5]" in jit.stdout, jit.stderr


def assert_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [expected]


def test_compile_errors_leave_no_output(tmp_path: Path) -> None:
    (tmp_path / "tiny.mlir").write_text(TINY_NN)
    assert_error(
        run_tool("t2m-compile", "tiny.mlir", "-o", "out", "--target", "cortex-m7", cwd=tmp_path),
        "t2m-compile: error: unknown target 'cortex-m7', at --target; choose one of: cortex-m4, host",
    )
    flash = run_tool("t2m-compile", "tiny.mlir", "-o", "out", "--flash-size", "64", cwd=tmp_path)
    assert flash.returncode == 1 and len(flash.stderr.splitlines()) == 1
    assert re.fullmatch(
        r"t2m-compile: error: model 'tiny' needs (\d+) bytes of flash \(code (\d+), weights (\d+)\), more than the 64 "
        r"available, at --flash-size; pass the part's flash size, or make the model smaller\n",
        flash.stderr,
    )
    assert not (tmp_path / "out").exists()


def test_unlowerable_op(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An op with no lowering (here: linear, with its pass left out) fails with the op's name, not a crash."""
    from t2m.compiler import compile as compile_mod

    (tmp_path / "tiny.mlir").write_text(TINY_NN)
    monkeypatch.setattr(compile_mod, "LOWER_NN", [p for p in compile_mod.LOWER_NN if p != "lower-nn-linear"])
    with pytest.raises(T2MError) as info:
        compile_module(read_module(tmp_path / "tiny.mlir"), "tiny.mlir", CompileOptions())
    assert info.value.one_line() == (
        "no lowering for nn.linear, at tiny.mlir; this op can be imported but not compiled yet"
    )


def test_planned_arena_is_near_the_peak_of_live_buffers(compiled) -> None:
    """plan-memory packs the activations into the peak of live bytes (the lower bound) for the conv models;
    first fit is a heuristic (optimal placement is NP-hard): AD's 8-float bottleneck costs it 32 bytes (3 %)."""
    name, _, _, result = compiled
    peak = max(result.info.live_bytes)
    assert result.info.arena_entry and result.sizes["bss"] == result.info.arena_bytes
    assert result.info.arena_bytes == (peak + 32 if name == "ad" else peak)


def test_run_with_caller_arena(compiled) -> None:
    """`<name>_run_with_arena` with an arena the caller placed gives the same answer as `<name>_run`."""
    from t2m.compiler.emulator import run_function

    _, _, _, result = compiled
    x = _input(result, 4)
    out = np.zeros(result.info.outputs[0], np.float32)
    arena = np.full(result.info.arena_bytes, 0xA5, np.uint8)  # garbage: the model must not rely on zeroed RAM
    run = run_function(result.obj, f"{result.info.entry}_with_arena", [x, out, arena], sram_size=4 << 20)
    got = np.frombuffer(bytes(run.outputs[1]), "<f4").reshape(out.shape)  # type: ignore[arg-type]
    reference = run_object(result.obj, [x], "static").outputs[0]
    assert run.value == 0 and np.array_equal(got, reference)
