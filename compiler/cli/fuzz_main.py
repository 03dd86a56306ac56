"""`t2m-fuzz`: random valid PyTorch graphs through every level of t2m, each checked against the one before.

Graph i of `--seed S` is the same graph on every machine. A mismatch, a crash or an internal error is minimised
to the smallest graph that still fails the same way and written into --out as a pytest file. The exit status is 0
when every graph agreed, 1 when something was found (or on a usage error, as every t2m tool).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from t2m.compiler.errors import ArgumentParser, T2MError, run_tool


def _positive(flag: str, value: int) -> int:
    if value < 1:
        raise T2MError(f"{flag} must be at least 1, got {value}", flag, f"pass a positive number to {flag}")
    return value


def _main(argv: Sequence[str]) -> int:
    from t2m.compiler.fuzz.modes import MODES

    p = ArgumentParser(prog="t2m-fuzz", description=__doc__)
    p.add_argument("--graphs", type=int, default=100, help="how many graphs to generate (default 100)")
    p.add_argument("--seed", type=int, default=0, help="campaign seed (default 0)")
    p.add_argument("--start", type=int, default=0, help="index of the first graph, to rerun one (default 0)")
    p.add_argument("--dtype", choices=sorted(MODES), default="fp32", help="fp32 (default) or int8")
    p.add_argument("--no-emulator", action="store_true", help="stop at the host JIT (the emulator is the slowest)")
    p.add_argument("--emulator-every", type=int, default=1, metavar="K",
                   help="run the emulated Cortex-M4 on every K-th graph only (default 1: all)")
    p.add_argument("--max-ops", type=int, default=12, help="ops per graph before pruning (default 12)")
    p.add_argument("--nonfinite", type=float, default=0.1, metavar="RATE",
                   help="share of graphs whose input holds NaN or infinities (default 0.1)")
    p.add_argument("--minimise-runs", type=int, default=200, metavar="N",
                   help="at most N runs to minimise one finding (default 200)")
    p.add_argument("--out", default="fuzz-findings", help="folder for the findings' test files (default fuzz-findings)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    args = p.parse_args(argv)
    for flag in ("graphs", "emulator_every", "max_ops", "minimise_runs"):
        _positive("--" + flag.replace("_", "-"), getattr(args, flag))
    if args.start < 0:
        raise T2MError(f"--start must be 0 or more, got {args.start}", "--start", "pass a graph index")
    if not 0.0 <= args.nonfinite <= 1.0:
        raise T2MError(f"--nonfinite must be between 0 and 1, got {args.nonfinite}", "--nonfinite",
                       "pass a share such as 0.1")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise T2MError(f"'{args.out}' is not a folder", "--out", "name a folder for the findings' test files")
    MODES[args.dtype].ready()

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from t2m.compiler.fuzz.campaign import Options, run_campaign
    from t2m.compiler.fuzz.graph import Graph
    from t2m.compiler.fuzz.report import Stats, print_summary
    from t2m.compiler.fuzz.runner import Outcome

    options = Options(args.graphs, args.seed, args.dtype, not args.no_emulator, args.emulator_every, out,
                      args.max_ops, args.nonfinite, args.minimise_runs, args.start)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[found]}"))
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(f"t2m-fuzz --seed {args.seed}", total=args.graphs, found="")

        def advance(index: int, graph: Graph, outcome: Outcome, stats: Stats) -> None:
            findings = len(stats.findings)
            if outcome.finding:
                found = stats.findings[-1]
                line = f"{graph.origin}: {outcome.describe()[:200]} -> {found.path or 'a repeat of an earlier finding'}"
                bar.console.print(line, markup=False, highlight=False)
            bar.update(task, advance=1, found=f"{findings} finding{'s' if findings != 1 else ''}" if findings else "")

        stats = run_campaign(options, advance)
    console = Console()
    print_summary(stats, console if console.is_terminal else Console(width=140))
    return 1 if stats.findings else 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_tool("t2m-fuzz", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
