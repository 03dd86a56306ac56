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


def _line_of(app, name: str) -> int:
    """The tree line showing pass `name` (the root is line 0, its children follow)."""
    labels = [str(node.label) for node in app.passes_tree.root.children]
    return labels.index(name) + 1


async def _apply_with_keys(app, pilot, name: str) -> None:
    """Move the cursor to `name` with Down/Up only, then press Enter."""
    tree = app.passes_tree
    target = _line_of(app, name)
    for _ in range(500):
        if tree.cursor_line == target:
            break
        await pilot.press("down" if tree.cursor_line < target else "up")
    assert str(tree.cursor_node.label) == name
    await pilot.press("enter")
    await pilot.pause()


def test_keyboard_alone_drives_the_pass_tree(tmp_path: Path) -> None:
    """In a plain terminal (no mouse): the tree has the focus at start, Down/Up move, Enter applies a pass, Tab
    leaves the tree and Escape brings the focus back, Backspace removes the last pass."""
    (tmp_path / "m.mlir").write_text(MODEL)
    app = make_app(str(tmp_path / "m.mlir"), "")

    async def drive() -> list[object]:
        seen: list[object] = []
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            seen.append(app.focused is app.passes_tree)
            await _apply_with_keys(app, pilot, "fuse-activation")
            seen.append([p.name for p in app.pass_pipeline])
            seen.append(app.output_text_area.text)
            await pilot.press("tab")
            seen.append(app.focused is app.passes_tree)
            app.input_text_area.focus()  # Escape from the editable input pane too
            await pilot.press("escape")
            seen.append(app.focused is app.passes_tree)
            await _apply_with_keys(app, pilot, "lower-nn-linear")
            seen.append([p.name for p in app.pass_pipeline])
            seen.append(app.output_text_area.text)
            await pilot.press("backspace")
            await pilot.pause()
            seen.append([p.name for p in app.pass_pipeline])
        return seen

    start, one, fused, after_tab, after_escape, two, lowered, back = asyncio.run(drive())
    assert start is True
    assert one == ["fuse-activation"]
    assert "nn.linear %x, %w {act_min = 0.000000e+00 : f32}" in fused and "nn.relu" not in fused
    assert (after_tab, after_escape) == (False, True)
    assert two == ["fuse-activation", "lower-nn-linear"]
    assert "nn.linear" not in lowered and "func.call @f_L00_linear" in lowered
    assert back == ["fuse-activation"]


def test_plugins_and_elided_output(tmp_path: Path) -> None:
    big = MODEL.replace("dense<0.5>", "dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 1.0, 2.0, 3.0]]>")
    (tmp_path / "m.mlir").write_text(big)
    plugin = str(Path(__file__).resolve().parents[1] / "examples" / "plugins" / "strip_softmax.py")
    app = make_app(str(tmp_path / "m.mlir"), "strip-final-softmax", [plugin], elide=8)

    async def drive() -> str:
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            return app.output_text_area.text

    output = asyncio.run(drive())
    assert "%w = nn.constant dense_resource<__elided__> : tensor<3x4xf32>" in output
    assert ("strip-final-softmax", ) == tuple(p.name for p in app.pass_pipeline)
