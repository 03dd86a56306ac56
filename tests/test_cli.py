"""The command-line contract: one-line errors, exit status 1, no traceback, no partial output; happy paths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TINY = f"{ROOT}/examples/models.py:TinyCNN"


def example_models():
    """examples/models.py as the module `models` (so a pickled TinyCNN refers to `models.TinyCNN`)."""
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import models  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    return models


def run(tool: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / tool), *args], capture_output=True, text=True, cwd=cwd)


def assert_one_line_error(result: subprocess.CompletedProcess[str], tool: str, expected: str) -> None:
    assert result.returncode == 1, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [f"{tool}: error: {expected}"], result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def tiny_mlir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "tiny.mlir"
    result = run("t2m-import", TINY, "-o", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_import_writes_module_that_opt_reprints_identically(tiny_mlir: Path) -> None:
    text = tiny_mlir.read_text()
    assert text.startswith("builtin.module {\n  func.func @tinycnn(%x: tensor<1x3x16x16xf32>) -> tensor<1x5xf32> {")
    assert run("t2m-opt", str(tiny_mlir)).stdout == text


def test_run_matches_torch(tiny_mlir: Path, tmp_path: Path) -> None:
    x = np.random.default_rng(3).standard_normal((1, 3, 16, 16)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    result = run(
        "t2m-run", str(tiny_mlir), "--input", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy"), "--torch", TINY
    )
    assert result.returncode == 0, result.stderr
    assert "check vs PyTorch: max relative error" in result.stdout and result.stdout.rstrip().endswith(": ok")
    ref = example_models().TinyCNN().eval()(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), ref, rtol=1e-5, atol=1e-6)


def test_import_check_and_list_ops() -> None:
    result = run("t2m-import", TINY, "--check")
    assert result.returncode == 0 and result.stdout.startswith(f"t2m-import: '{TINY}': all ")
    ops = run("t2m-import", "--list-ops").stdout.split()
    assert "aten.conv2d.default" in ops and "aten.lstm.input" in ops and "aten.cumsum.default" not in ops


def test_import_missing_file(tmp_path: Path) -> None:
    out = tmp_path / "m.mlir"
    result = run("t2m-import", "nosuch.py:Net", "-o", str(out))
    assert_one_line_error(
        result, "t2m-import", "no such file 'nosuch.py', at MODEL; check the path"
    )
    assert not out.exists()


def test_import_wrong_input_shape(tmp_path: Path) -> None:
    out = tmp_path / "m.mlir"
    result = run("t2m-import", TINY, "--input-shape", "1x4x16x16", "-o", str(out))
    assert_one_line_error(
        result,
        "t2m-import",
        "model 'tinycnn' fails on input of shape 1x4x16x16: Given groups=1, weight of size [8, 3, 3, 3], expected "
        "input[1, 4, 16, 16] to have 3 channels, but got 4 channels instead, at --input-shape; pass the input shape "
        "the model's forward() expects",
    )
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_import_malformed_shape() -> None:
    assert_one_line_error(
        run("t2m-import", TINY, "--input-shape", "1x3xa"),
        "t2m-import",
        "malformed input shape '1x3xa', at --input-shape; write dimensions joined by 'x', e.g. 1x1x49x10",
    )


def test_import_corrupt_pth(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pth"
    out = tmp_path / "m.mlir"
    good = tmp_path / "good.pth"
    torch.save(example_models().TinyCNN().state_dict(), good)
    bad.write_bytes(good.read_bytes()[:1000])  # truncated zip archive
    result = run("t2m-import", str(bad), "--arch", TINY, "-o", str(out))
    assert_one_line_error(
        result,
        "t2m-import",
        f"corrupt or unreadable weights file '{bad}' (not a valid PyTorch "
        f"checkpoint), at {bad}; re-save it with torch.save(model.state_dict(), ...)",
    )
    bad.write_bytes(b"this is not a checkpoint")
    result = run("t2m-import", str(bad), "--arch", TINY, "-o", str(out))
    assert_one_line_error(
        result,
        "t2m-import",
        f"corrupt or unreadable weights file '{bad}' (not a valid PyTorch "
        f"checkpoint), at {bad}; re-save it with torch.save(model.state_dict(), ...)",
    )
    assert not out.exists()


def test_import_state_dict_and_pickled_module(tmp_path: Path) -> None:
    model = example_models().TinyCNN()
    torch.save(model.state_dict(), tmp_path / "w.pth")
    torch.save(model, tmp_path / "full.pth")
    ok = run("t2m-import", str(tmp_path / "w.pth"), "--arch", TINY, "-o", str(tmp_path / "w.mlir"))
    assert ok.returncode == 0, ok.stderr
    assert "func.func @w(" in (tmp_path / "w.mlir").read_text()
    refused = run("t2m-import", str(tmp_path / "full.pth"), "-o", str(tmp_path / "full.mlir"))
    assert_one_line_error(
        refused,
        "t2m-import",
        f"'{tmp_path / 'full.pth'}' is not a plain state dict (its pickle needs code to load), at "
        f"{tmp_path / 'full.pth'}; a pickle can run code: pass --trust-pickle only if you trust the file, or save "
        "model.state_dict()",
    )
    assert not (tmp_path / "full.mlir").exists()
    trusted = run(
        "t2m-import",
        str(tmp_path / "full.pth"),
        "--trust-pickle",
        "-o",
        str(tmp_path / "full.mlir"),
        cwd=ROOT / "examples",
    )
    assert trusted.returncode == 0, trusted.stderr
    assert (tmp_path / "full.mlir").read_text().replace("@full(", "@w(") == (tmp_path / "w.mlir").read_text()


def test_import_unsupported_ops_listed(tmp_path: Path) -> None:
    out = tmp_path / "m.mlir"
    result = run("t2m-import", "examples/models.py:WithCumsum", "-o", str(out))
    assert result.returncode == 1 and not out.exists()
    assert result.stderr.splitlines() == [
        "t2m-import: error: model 'examples/models.py:WithCumsum' uses 2 unsupported ops (aten.cumsum.default, "
        "aten.flip.default), at the lines below; rewrite those layers with supported ones (t2m-import --list-ops) "
        "or file an issue",
        "  examples/models.py:45 `y = torch.cumsum(self.gru(x)[0], dim=1)`: aten.cumsum.default",
        "  examples/models.py:46 `return self.fc(torch.flip(y, dims=[1])[:, -1])`: aten.flip.default",
    ]


def test_debug_shows_traceback() -> None:
    result = run("t2m-import", "nosuch.py:Net", "--debug")
    assert result.returncode == 1 and "Traceback" in result.stderr


def test_opt_syntax_error_leaves_no_output(tmp_path: Path) -> None:
    src = tmp_path / "bad.mlir"
    src.write_text("func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {\n  %y = nn.relux %x : tensor<2xf32>\n}\n")
    out = tmp_path / "out.mlir"
    result = run("t2m-opt", str(src), "-o", str(out))
    assert_one_line_error(
        result, "t2m-opt", f"syntax error: Operation nn.relux is not registered, at {src}:2:17; fix the IR text"
    )
    assert not out.exists()


def test_opt_verifier_error(tmp_path: Path) -> None:
    src = tmp_path / "bad.mlir"
    src.write_text(
        "func.func @f(%x: tensor<2x6xf32>) -> tensor<13xf32> {\n"
        "  %y = nn.reshape %x : (tensor<2x6xf32>) -> tensor<13xf32>\n"
        "  func.return %y : tensor<13xf32>\n}\n"
    )
    result = run("t2m-opt", str(src))
    assert_one_line_error(
        result,
        "t2m-opt",
        "invalid IR: 'nn.reshape' cannot reshape 2x6 (12 elements) to 13 "
        f"(13 elements), at {src}; fix the op named above",
    )


def test_opt_missing_file_and_unknown_pass(tiny_mlir: Path) -> None:
    assert_one_line_error(
        run("t2m-opt", "nosuch.mlir"),
        "t2m-opt",
        "cannot read 'nosuch.mlir': No such file or directory, at nosuch.mlir; check the path",
    )
    assert_one_line_error(
        run("t2m-opt", "-p", "no-such-pass", str(tiny_mlir)),
        "t2m-opt",
        "Unrecognized passes: ['no-such-pass'], at -p; see t2m-opt --help for the pass names",
    )
    assert_one_line_error(  # xDSL raises a BaseException with a caret diagram for a syntax error
        run("t2m-opt", "-p", "lower-nn-conv{ob=4,pb=1}", str(tiny_mlir)),
        "t2m-opt",
        "bad pass pipeline 'lower-nn-conv{ob=4,pb=1}' at column 22: malformed pass arguments, expected either a "
        "space or `}` here, at -p; pass options are separated by spaces, e.g. 'lower-nn-conv{ob=4 pb=1}'",
    )


def test_run_errors(tiny_mlir: Path, tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros((1, 3, 8, 8), np.float32))
    assert_one_line_error(
        run("t2m-run", str(tiny_mlir), "--input", str(tmp_path / "x.npy")),
        "t2m-run",
        "input 0 has 192 values (1x3x8x8), the model takes 768 (1x3x16x16), at --input; "
        "pass an array of the model's input shape",
    )
    (tmp_path / "junk.npy").write_bytes(b"junk")
    result = run("t2m-run", str(tiny_mlir), "--input", str(tmp_path / "junk.npy"))
    assert result.returncode == 1 and result.stderr.startswith(
        f"t2m-run: error: '{tmp_path / 'junk.npy'}' is not a readable .npy array"
    )


def test_opt_starts_without_torch() -> None:
    """t2m-opt must start fast: importing the CLI and its dialects must not import torch."""
    code = "import sys; from t2m.compiler.cli import opt_main; assert 'torch' not in sys.modules, 'torch imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ})
    assert result.returncode == 0, result.stderr
