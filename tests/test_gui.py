"""t2m-gui: xDSL's pass explorer with t2m's dialects and passes, driven headless through textual's test pilot."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from t2m.compiler.cli.gui_main import make_app
from t2m.compiler.errors import T2MError

MODEL = """func.func @f(%x: tensor<1x4xf32>) -> tensor<1x3xf32> {
  %w = nn.constant dense<0.5> : tensor<3x4xf32>
  %l = nn.linear %x, %w : (tensor<1x4xf32>, tensor<3x4xf32>) -> tensor<1x3xf32>
  %r = nn.relu %l : tensor<1x3xf32>
  func.return %r : tensor<1x3xf32>
}
"""


def test_explorer_offers_t2m_passes_and_applies_them(tmp_path: Path) -> None:
    (tmp_path / "m.mlir").write_text(MODEL)
    app = make_app(str(tmp_path / "m.mlir"), "fuse-activation")

    async def drive() -> tuple[list[str], str]:
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            return [str(p) for p in app.available_pass_list], app.output_text_area.text

    passes, output = asyncio.run(drive())
    assert {"canonicalize-nn", "pack-weights", "lower-nn-linear"} <= set(passes)
    assert "nn.linear %x, %w {act_min = 0.000000e+00 : f32}" in output and "nn.relu" not in output


def test_explorer_errors() -> None:
    with pytest.raises(T2MError, match="cannot read 'nope.mlir'"):
        make_app("nope.mlir", "")
    with pytest.raises(T2MError, match=r"Unrecognized passes: \['no-such-pass'\], at -p"):
        make_app(None, "no-such-pass")
