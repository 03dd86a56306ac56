"""docs/op-reference.md is generated from the dialects (compiler/op_reference.py) and must match the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from t2m.compiler.op_reference import GENERATOR, main, render

PAGE = Path(__file__).resolve().parents[1] / "docs" / "op-reference.md"


def test_the_checked_in_page_is_the_generators_output() -> None:
    assert PAGE.read_text() == render(), f"docs/op-reference.md is out of date: run {GENERATOR}"


def test_the_page_answers_a_pattern_writers_questions() -> None:
    text = render()
    assert (
        "- `nn`: `nn.conv2d`, `nn.linear`, `nn.add`, `nn.mul`, `nn.max_pool2d`, `nn.avg_pool2d`. They carry the "
        "float bounds `act_min`/`act_max` (`activation_bounds()`); methods "
        "`activation_bounds() -> tuple[float | None, float | None]`, "
        "`set_activation_bounds(lo: float | None, hi: float | None) -> None`." in text
    )
    pool = text[text.index("### `nn.max_pool2d`") : text.index("### `nn.avg_pool2d`")]
    assert "- `window() -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]`" in pool
    assert "Fused activation: yes." in pool and "| `act_min` | `FloatAttr<f32>` (optional property) |" in pool
    relu = text[text.index("### `nn.relu`") : text.index("### `nn.clamp`")]
    assert "Fused activation: no." in relu and "| `input` | `tensor<...xf32>` |" in relu


def test_check_names_the_command_when_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "op-reference.md"
    stale.write_text(render().replace("nn.conv2d", "nn.conv"))
    assert main(["--check", str(stale)]) == 1
    assert capsys.readouterr().err == f"{stale} is out of date; regenerate it: {GENERATOR}\n"
    stale.write_text(render())
    assert main(["--check", str(stale)]) == 0
