"""`t2m-bench`: the model zoo and the anchor layers on the emulated Cortex-M4, as a Markdown table.

The table goes to standard output, or to the file `-o` names: the checked-in BENCHMARKS.md is rewritten only when
asked for by name (`t2m-bench -o BENCHMARKS.md`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from t2m.compiler.errors import ArgumentParser, T2MError, run_tool
from t2m.compiler.files import STDOUT, write_output

MODELS: dict[str, str] = {"kws": "DSCNN", "vww": "MobileNetV1", "ic": "ResNet8", "ad": "FCAutoencoder"}
"""The zoo's models (compiler/zoo.py): short name -> class name. Kept here so that --help needs no torch."""


def zoo_key(name: str) -> str:
    """A zoo model's short name from its short name or its class name (case-insensitive)."""
    for key, cls in MODELS.items():
        if name.lower() in (key, cls.lower()):
            return key
    known = ", ".join(f"{key} ({cls})" for key, cls in MODELS.items())
    raise T2MError(f"unknown zoo model '{name}'", "--models", f"choose from {known}")


def build_parser() -> ArgumentParser:
    names = ", ".join(f"{key} ({cls})" for key, cls in MODELS.items())
    p = ArgumentParser(prog="t2m-bench", description=__doc__)
    p.add_argument(
        "-o", "--output", default=STDOUT, help="where to write the table (default: standard output; '-' too)"
    )
    p.add_argument(
        "--models",
        default=",".join(MODELS),
        help=f"comma-separated zoo models to measure, by short or class name: {names} (default: all four)",
    )
    p.add_argument("--no-layers", action="store_true", help="skip the per-layer anchor comparison")
    p.add_argument("--layer-filter", metavar="TEXT", help="measure only the anchor layers whose label contains TEXT")
    p.add_argument("--no-tune", action="store_true",
                   help="skip the int8 --tune search (most of the time): its columns say 'not measured (--no-tune)'")
    p.add_argument("--anchors", help="folder of anchor figures (default: the copy shipped in t2m.compiler/anchors)")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="measure N models and layers at a time, each in its own process (default 1)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    return p


def _main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    models = [zoo_key(name.strip()) for name in args.models.split(",") if name.strip()]
    if not models:
        raise T2MError("no model to measure", "--models", f"name one or more of {', '.join(MODELS)}")
    from t2m.compiler.bench import find_anchors, run_bench

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    anchors = find_anchors(args.anchors)
    if args.jobs < 1:
        raise T2MError(f"--jobs must be at least 1, not {args.jobs}", "--jobs", "pass a number of processes, e.g. 2")
    text = run_bench(anchors, models, not args.no_layers, log, args.layer_filter, args.jobs, tune=not args.no_tune)
    write_output(args.output, text if text.endswith("\n") else text + "\n")
    if args.output != STDOUT:
        print(f"t2m-bench: wrote {args.output}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_tool("t2m-bench", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
