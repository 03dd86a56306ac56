"""`t2m-gui [model.mlir] [-p passes]`: xDSL's interactive pass explorer, with t2m's dialects and passes.

xDSL 0.74's own `xdsl-gui` lists only xDSL's built-in dialects and passes; this launcher gives the same terminal
UI everything the `xdsl.universe` entry points register, so a student can open an imported model and apply
fold-batchnorm, fuse-activation, lower-nn-conv... one at a time, watching the IR change. Needs the `gui` extra
(`pip install -e '.[gui]'`, which brings textual).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from t2m.compiler.errors import ArgumentParser, T2MError, run_tool
from t2m.compiler.plugins import register_plugins


def make_app(path: str | None, passes: str) -> Any:
    """The textual app, with every dialect and pass the multiverse knows (t2m's included)."""
    try:
        from xdsl.interactive.app import InputApp
    except ImportError as e:
        raise T2MError("the pass explorer needs textual", "t2m-gui", "pip install -e '.[gui]'") from e
    from xdsl.passes import PassPipeline
    from xdsl.universe import Universe

    multiverse = Universe.get_multiverse()
    available = dict(multiverse.all_passes)
    register_plugins(available, [])  # passes other packages register under `t2m.passes`
    text = None
    if path is not None:
        try:
            with open(path) as f:
                text = f.read()
        except OSError as e:
            raise T2MError(f"cannot read '{path}': {e.strerror}", path, "check the path") from e
    try:
        pipeline = PassPipeline.parse_spec(available, passes).passes
    except Exception as e:
        raise T2MError(str(e).strip().splitlines()[0], "-p", "see t2m-opt --help for the pass names") from e
    all_passes = tuple((name, load()) for name, load in sorted(available.items()))
    return InputApp(tuple(multiverse.all_dialects.items()), all_passes, path, text, pipeline)


def _main(argv: Sequence[str]) -> int:
    p = ArgumentParser(prog="t2m-gui", description=__doc__)
    p.add_argument("input_file", nargs="?", help="an .mlir file to open")
    p.add_argument("-p", "--passes", default="", help="passes to apply at start, e.g. fold-batchnorm")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    args = p.parse_args(argv)
    make_app(args.input_file, args.passes).run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_tool("t2m-gui", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
