"""`t2m-bench`: the model zoo and the anchor layers on the emulated Cortex-M4 -> BENCHMARKS.md."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from t2m.compiler.errors import ArgumentParser, run_tool
from t2m.compiler.files import write_output


def _main(argv: Sequence[str]) -> int:
    p = ArgumentParser(prog="t2m-bench", description=__doc__)
    p.add_argument("-o", "--output", default="BENCHMARKS.md", help="where to write the table (default BENCHMARKS.md)")
    p.add_argument("--models", default="kws,vww,ic,ad", help="zoo models to measure (default: all four)")
    p.add_argument("--no-layers", action="store_true", help="skip the per-layer anchor comparison")
    p.add_argument("--layer-filter", metavar="TEXT", help="measure only the anchor layers whose label contains TEXT")
    p.add_argument("--anchors", help="folder of anchor figures (default: the copy shipped in t2m.compiler/anchors)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    args = p.parse_args(argv)
    from t2m.compiler.bench import find_anchors, run_bench

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    models = [m for m in args.models.split(",") if m]
    text = run_bench(find_anchors(args.anchors), models, not args.no_layers, log, args.layer_filter)
    write_output(args.output, text)
    print(text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_tool("t2m-bench", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
