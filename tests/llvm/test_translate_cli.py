"""`t2m-translate` (python -m t2m.compiler.cli.translate_main): outputs, levels, targets, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from llvm_kernels import ALL_KERNELS, lower_to_llvm_dialect

from t2m.compiler.backend.objcheck import check_cortex_m4_object, inspect_object
from t2m.compiler.ir import module_to_text

TOOL = "t2m-translate"


def translate(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "t2m.compiler.cli.translate_main", *args],
        input=stdin, capture_output=True, text=True,
    )  # fmt: skip


def assert_one_line_error(result: subprocess.CompletedProcess[str], contains: str) -> None:
    assert result.returncode == 1, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{TOOL}: error: "), result.stderr
    assert contains in lines[0]
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def llvm_mlir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("translate") / "conv.mlir"
    path.write_text(module_to_text(lower_to_llvm_dialect(ALL_KERNELS["conv2d"]().mlir)))
    return path


def test_ll_to_stdout_is_the_direct_translation(llvm_mlir: Path) -> None:
    result = translate(str(llvm_mlir))
    assert result.returncode == 0, result.stderr
    assert 'target triple = "thumbv7em-none-eabihf"' in result.stdout
    assert 'define internal void @"conv_L0_conv2d"' in result.stdout
    assert "noinline" in result.stdout


def test_stdin_and_optimised_ll(llvm_mlir: Path) -> None:
    result = translate("-O3", stdin=llvm_mlir.read_text())
    assert result.returncode == 0, result.stderr
    # LLVM's own printer after the O3 pipeline (which makes the internal layer function fastcc)
    assert "define internal fastcc void @conv_L0_conv2d(" in result.stdout
    assert "noinline" in result.stdout


@pytest.mark.parametrize("level", ["0", "1", "2", "3", "s", "z"])
def test_object_at_every_level(llvm_mlir: Path, tmp_path: Path, level: str) -> None:
    out = tmp_path / "conv.o"
    result = translate(str(llvm_mlir), "-o", str(out), f"-O{level}")
    assert result.returncode == 0, result.stderr
    obj = out.read_bytes()
    assert check_cortex_m4_object(obj) == []
    assert {s.name for s in inspect_object(obj).functions} >= {"conv_run", "conv_L0_conv2d"}


def test_asm_and_host_target(llvm_mlir: Path, tmp_path: Path) -> None:
    asm = tmp_path / "conv.s"
    assert translate(str(llvm_mlir), "-o", str(asm)).returncode == 0
    assert "conv_L0_conv2d:" in asm.read_text() and "vmul.f32" in asm.read_text()
    host = translate(str(llvm_mlir), "--target", "host", "--emit", "ll")
    assert host.returncode == 0 and "thumbv7em" not in host.stdout
    obj = tmp_path / "host.o"
    assert translate(str(llvm_mlir), "--target", "host", "-o", str(obj)).returncode == 0
    assert inspect_object(obj.read_bytes()).elf_class == 64 or sys.maxsize < 2**32


def test_errors_are_one_line_and_leave_no_output(llvm_mlir: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.o"
    assert_one_line_error(translate(str(tmp_path / "missing.mlir")), "cannot read")
    assert_one_line_error(translate(str(llvm_mlir), "-O9", "-o", str(out)), "unknown optimisation level '9'")
    assert_one_line_error(translate(str(llvm_mlir), "--target", "cortex-m7"), "unknown target 'cortex-m7'")
    assert_one_line_error(translate(str(llvm_mlir), "--emit", "obj"), "an object file needs an output path")
    loops = tmp_path / "loops.mlir"
    loops.write_text(ALL_KERNELS["dot"]().mlir)
    assert_one_line_error(translate(str(loops), "-o", str(out)), "was not converted to the llvm dialect")
    bad = tmp_path / "bad.mlir"
    bad.write_text("builtin.module {\n  llvm.func @f( {\n}\n")
    assert_one_line_error(translate(str(bad), "-o", str(out)), "syntax error")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mlir", "loops.mlir"]  # no output, no temp file


def test_translated_object_matches_the_in_process_pipeline(llvm_mlir: Path, tmp_path: Path) -> None:
    from t2m.compiler.backend.emit_llvm import to_llvm_ir
    from t2m.compiler.backend.llvm import compile_object
    from t2m.compiler.ir import read_module

    out = tmp_path / "conv.o"
    assert translate(str(llvm_mlir), "-o", str(out)).returncode == 0
    expected = compile_object(to_llvm_ir(read_module(llvm_mlir)))
    assert np.array_equal(np.frombuffer(out.read_bytes(), np.uint8), np.frombuffer(expected, np.uint8))
