"""`t2m-gui [model.mlir] [-p passes]`: xDSL's interactive pass explorer, with t2m's dialects and passes.

xDSL 0.74's own `xdsl-gui` lists only xDSL's built-in dialects and passes; this launcher gives the same terminal
UI everything the `xdsl.universe` entry points register, so a student can open an imported model and apply
fold-batchnorm, fuse-activation, lower-nn-conv... one at a time, watching the IR change. Keyboard: the pass tree
has the focus (Up/Down, Enter applies, Backspace removes the last pass), Tab/Shift+Tab go round the panes, Escape
returns to the tree. Needs the `gui` extra (`pip install -e '.[gui]'`, which brings textual).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from t2m.compiler.errors import ArgumentParser, T2MError, run_tool
from t2m.compiler.files import read_text
from t2m.compiler.ir import ELIDE_FLAG, check_not_elided, element_count
from t2m.compiler.plugins import add_plugin_arguments, parse_pipeline, pass_registry


def make_app(
    path: str | None, passes: str, plugin_files: Sequence[str] = (), elide: int | None = None
) -> Any:
    """The textual app, with every dialect and pass the multiverse knows (t2m's included), the passes of the
    plugin files, and `passes` applied at start."""
    try:
        from t2m.compiler.gui import T2MApp
    except ImportError as e:
        raise T2MError("the pass explorer needs textual", "t2m-gui", "pip install -e '.[gui]'") from e
    from xdsl.universe import Universe

    available = pass_registry(plugin_files)
    text = None
    if path is not None:
        text = read_text(path, expected="an MLIR text file")
        check_not_elided(text, path)
    pipeline = parse_pipeline(available, passes).passes
    all_passes = tuple((name, load()) for name, load in sorted(available.items()))
    dialects = tuple(Universe.get_multiverse().all_dialects.items())
    return T2MApp(dialects, all_passes, path, text, pipeline, elide)


def _main(argv: Sequence[str]) -> int:
    p = ArgumentParser(prog="t2m-gui", description=__doc__)
    p.add_argument("input_file", nargs="?", help="an .mlir file to open")
    add_plugin_arguments(p, "passes to apply at start, e.g. fold-batchnorm")
    p.add_argument(
        ELIDE_FLAG,
        type=element_count,
        metavar="N",
        help="show dense constants of more than N elements as dense_resource<__elided__> in the output pane",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    args = p.parse_args(argv)
    make_app(args.input_file, args.passes, args.load_pass_plugin, args.elide_elementsattrs_if_larger).run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_tool("t2m-gui", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
