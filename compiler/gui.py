"""t2m-gui's terminal app: xDSL's pass explorer (`xdsl.interactive.app.InputApp`), driven from the keyboard.

xDSL's app starts with the focus on the (empty) list of applied passes, where Down does nothing: in a plain
terminal or under a multiplexer (tmux, screen), where the mouse is often unavailable, the pass tree seems dead.
Here the pass tree has the focus from the start (Up/Down move, Enter applies the pass under the cursor,
Backspace removes the last one), Tab and Shift+Tab go round the panes, and Escape comes back to the tree from
anywhere. The output pane can elide large constants
(`--elide-elementsattrs-if-larger`), so a model's weights do not bury its ops. Imports textual: load it lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual.binding import Binding
from xdsl.dialects.builtin import ModuleOp
from xdsl.interactive import app as xdsl_app
from xdsl.interactive.app import InputApp
from xdsl.ir import Dialect
from xdsl.passes import ModulePass

from t2m.compiler.ir import module_to_text


class T2MApp(InputApp):
    """The explorer with keyboard navigation and, optionally, large constants elided in the output pane."""

    CSS_PATH = str(Path(xdsl_app.__file__).with_name("app.tcss"))  # relative paths resolve beside the subclass

    BINDINGS: ClassVar = [
        *InputApp.BINDINGS,
        Binding("escape", "focus_passes", "Pass tree"),
        Binding("backspace", "remove_last_pass", "Remove last pass"),
    ]

    def __init__(
        self,
        all_dialects: tuple[tuple[str, Callable[[], Dialect]], ...],
        all_passes: tuple[tuple[str, type[ModulePass]], ...],
        file_path: str | None = None,
        input_text: str | None = None,
        pass_pipeline: tuple[ModulePass, ...] = (),
        elide: int | None = None,
    ) -> None:
        super().__init__(all_dialects, all_passes, file_path, input_text, pass_pipeline)
        self.elide = elide

    def on_mount(self) -> None:
        # textual calls InputApp.on_mount as well (a handler runs for every class of the MRO that defines one)
        self.call_after_refresh(self.passes_tree.focus)
        self.query_one("#passes_tree").border_title = "Passes: Up/Down, Enter applies, Backspace removes the last"

    def action_focus_passes(self) -> None:
        self.passes_tree.focus()

    def action_remove_last_pass(self) -> None:
        applied: tuple[ModulePass, ...] = tuple(self.pass_pipeline)
        if self.focused is self.passes_tree and applied:
            self.pass_pipeline = applied[:-1]

    def watch_current_module(self) -> None:
        super().watch_current_module()
        if self.elide is not None and isinstance(self.current_module, ModuleOp):
            self.output_text_area.load_text(module_to_text(self.current_module, self.elide))
