"""--load-pass-plugin and -p on t2m-compile and t2m-run (t2m-opt's are in test_plugins.py): a plugin's effect is
seen in the emitted IR, the compiled model's layers and report, and the outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from t2m.compiler.cli.compile_main import main as compile_main
from t2m.compiler.cli.run_main import main as run_main

PLUGIN = str(Path(__file__).resolve().parents[1] / "examples" / "plugins" / "strip_softmax.py")
CLASSIFIER = """func.func @classifier(%x: tensor<1x4xf32>) -> tensor<1x3xf32> {
  %w = nn.constant dense<0.5> : tensor<3x4xf32>
  %l = nn.linear %x, %w : (tensor<1x4xf32>, tensor<3x4xf32>) -> tensor<1x3xf32>
  %s = nn.softmax %l {axis = 1 : i64} : tensor<1x3xf32>
  func.return %s : tensor<1x3xf32>
}
"""
STRIP = ["--load-pass-plugin", PLUGIN, "-p", "strip-final-softmax"]


@pytest.fixture
def model(tmp_path: Path) -> Path:
    (tmp_path / "m.mlir").write_text(CLASSIFIER)
    np.save(tmp_path / "x.npy", np.array([[1, 2, 3, 4]], np.float32))
    return tmp_path


def test_compile_runs_the_plugin_after_fusion(model: Path) -> None:
    assert compile_main([str(model / "m.mlir"), "-o", str(model / "out"), "--emit", "fused", *STRIP]) == 0
    assert (model / "out" / "classifier.fused.mlir").read_text() == (
        "builtin.module {\n"
        "  func.func @classifier(%x: tensor<1x4xf32>) -> tensor<1x3xf32> {\n"
        "    %w = nn.constant dense<5.000000e-01> : tensor<3x4xf32>\n"
        "    %l = nn.linear %x, %w : (tensor<1x4xf32>, tensor<3x4xf32>) -> tensor<1x3xf32>\n"
        "    func.return %l : tensor<1x3xf32>\n"
        "  }\n"
        "}\n\n"
    )


def test_the_report_shows_the_plugins_effect(model: Path) -> None:
    for out, extra in (("plain", []), ("stripped", STRIP)):
        assert compile_main([str(model / "m.mlir"), "-o", str(model / out), *extra]) == 0
    plain, stripped = (json.loads((model / o / "classifier.report.json").read_text()) for o in ("plain", "stripped"))
    assert [row["op"] for row in plain["layers"]] == ["linear", "softmax"]
    assert [row["op"] for row in stripped["layers"]] == ["linear"]
    assert stripped["estimated_cycles"] < plain["estimated_cycles"]


def test_run_applies_the_passes_first(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x = str(model / "x.npy")
    assert run_main([str(model / "m.mlir"), "--input", x]) == 0
    assert run_main([str(model / "m.mlir"), "--input", x, *STRIP]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "classifier: nn reference interpreter",
        "output 0: shape 1x3, [0.333333, 0.333333, 0.333333]",
        "classifier: nn reference interpreter",
        "output 0: shape 1x3, [5., 5., 5.]",
    ]


def test_emit_elides_large_constants(model: Path) -> None:
    big = CLASSIFIER.replace("dense<0.5>", "dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 1.0, 2.0, 3.0]]>")
    (model / "big.mlir").write_text(big)
    for stage in ("nn", "loops"):
        args = [str(model / "big.mlir"), "-o", str(model / "out"), "--emit", stage]
        assert compile_main([*args, "--elide-elementsattrs-if-larger", "8"]) == 0
        text = (model / "out" / f"classifier.{stage}.mlir").read_text()
        assert text.startswith("// t2m: dense attributes of more than 8 elements are elided")
        assert "dense_resource<__elided__> : " in text and "9.0" not in text and "9.000000e+00" not in text
        assert compile_main(args) == 0  # without the flag: every value, and no marker
        text = (model / "out" / f"classifier.{stage}.mlir").read_text()
        assert "__elided__" not in text and "9.000000e+00" in text
