"""`t2m-run` on objects that are not what they should be: one-line errors, exit 1, never a traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from t2m.compiler.backend import compile_object
from t2m.compiler.model_info import LayerInfo, ModelInfo, encode

BIN = Path(sys.executable).parent

KERNEL = """
define i32 @{name}_run(ptr noalias %in, ptr noalias %out) nounwind {{
entry:
  %x = load float, ptr %in, align 4
  %y = fmul float %x, 2.0
  {extra}
  store float %y, ptr %out, align 4
  ret i32 0
}}
"""


def llvm_ident(info: ModelInfo) -> str:
    """The description as LLVM IR metadata, the way the emitter writes it (quotes and backslashes escaped)."""
    text = encode(info).replace("\\", "\\5C").replace('"', "\\22")
    return f'\n!llvm.ident = !{{!0}}\n!0 = !{{!"{text}"}}\n'


def make_object(
    tmp_path: Path,
    name: str,
    *,
    extra: str = "",
    entry: str | None = None,
    target: str = "cortex-m4",
    shape: list[int] | None = None,
) -> Path:
    info = ModelInfo(entry or name, [shape or [1]], [[1]], layers=[LayerInfo(f"{name}_run", "mul", 0)])
    obj = compile_object(KERNEL.format(name=name, extra=extra) + llvm_ident(info), target, "O1")
    path = tmp_path / f"{name}.o"
    path.write_bytes(obj)
    np.save(tmp_path / "x.npy", np.array([1.5], np.float32))
    return path


def t2m_run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "t2m-run"), *map(str, args)], capture_output=True, text=True)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_runs_a_good_object(tmp_path: Path) -> None:
    result = t2m_run(make_object(tmp_path, "twice"), "--input", tmp_path / "x.npy")
    assert result.returncode == 0, result.stderr
    assert "output 0: shape 1, [3.]" in result.stdout


def test_faulting_object_names_pc_and_function(tmp_path: Path) -> None:
    bad = make_object(tmp_path, "bad", extra="store volatile float %y, ptr inttoptr (i32 16 to ptr), align 4")
    line = one_error_line(t2m_run(bad, "--input", tmp_path / "x.npy"))
    assert re.fullmatch(
        r"t2m-run: error: memory fault: write to unmapped address 0x00000010 at pc 0x0800[0-9a-f]{4} "
        r"\(bad_run\+0x[0-9a-f]+: (vstr|str)\b.*\).*",
        line,
    ), line


def test_missing_entry_symbol(tmp_path: Path) -> None:
    line = one_error_line(t2m_run(make_object(tmp_path, "lone", entry="other"), "--input", tmp_path / "x.npy"))
    assert "other_run" in line and "t2m-run: error:" in line


def test_object_for_another_target(tmp_path: Path) -> None:
    line = one_error_line(t2m_run(make_object(tmp_path, "hosty", target="host"), "--input", tmp_path / "x.npy"))
    assert line.startswith("t2m-run: error:") and "ARM" in line, line


def test_input_size_differs_from_header(tmp_path: Path) -> None:
    obj = make_object(tmp_path, "sized", shape=[1])
    np.save(tmp_path / "big.npy", np.zeros((2, 3), np.float32))
    assert one_error_line(t2m_run(obj, "--input", tmp_path / "big.npy")) == (
        "t2m-run: error: input 0 has 6 values (2x3), the model takes 1 (1), at --input; pass an array of the "
        "model's input shape"
    )


def test_object_without_t2m_metadata(tmp_path: Path) -> None:
    plain = tmp_path / "plain.o"
    plain.write_bytes(compile_object(KERNEL.format(name="plain", extra=""), "cortex-m4", "O1"))
    assert one_error_line(t2m_run(plain)) == (
        f"t2m-run: error: '{plain}' carries no t2m model description, at {plain}; "
        "compile the model with t2m-compile or t2m-translate"
    )
    junk = tmp_path / "junk.o"
    junk.write_bytes(b"not an elf file at all")
    assert one_error_line(t2m_run(junk)).startswith(f"t2m-run: error: '{junk}' is not an ELF object")
