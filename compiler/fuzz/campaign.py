"""A fuzzing campaign: generate graph after graph, climb the ladder, minimise and write every finding.

Each finding is minimised and written as a pytest file named after the campaign seed, the graph index and the
level that failed; a finding whose minimised graph is the same as an earlier one's is counted but not written
twice. Graphs the generator got wrong (PyTorch itself refuses them) are counted as `invalid`, never written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from t2m.compiler.fuzz.emit import write_finding
from t2m.compiler.fuzz.generator import generate
from t2m.compiler.fuzz.graph import Graph, render
from t2m.compiler.fuzz.minimise import minimise
from t2m.compiler.fuzz.modes import MODES
from t2m.compiler.fuzz.report import Finding, Stats
from t2m.compiler.fuzz.runner import Outcome, run_graph


@dataclass
class Options:
    graphs: int = 100
    seed: int = 0
    dtype: str = "fp32"
    emulator: bool = True
    emulator_every: int = 1
    """run the emulator on every k-th graph (the slowest level)"""
    out: Path = Path("fuzz-findings")
    max_ops: int = 12
    special_rate: float = 0.1
    """the share of graphs whose input holds NaN or infinities"""
    minimise_checks: int = 200
    start: int = 0
    """index of the first graph: `--start 41 --graphs 1` reruns graph 41 alone"""


Progress = Callable[[int, Graph, Outcome, Stats], None]


def run_campaign(options: Options, progress: Progress | None = None) -> Stats:
    mode = MODES[options.dtype]
    mode.ready()
    stats = Stats()
    written: set[str] = set()
    started = time.perf_counter()
    for index in range(options.start, options.start + options.graphs):
        graph = generate(options.seed, index, options.dtype, options.max_ops, options.special_rate,
                         mode.special_inputs)
        emulate = options.emulator and index % options.emulator_every == 0
        outcome = run_graph(graph, mode, emulator=emulate)
        stats.add(graph, outcome, emulate)
        if outcome.finding:
            begun = time.perf_counter()
            found = minimise(graph, outcome, mode, options.minimise_checks)
            stats.minimise_seconds += time.perf_counter() - begun
            source = render(found.graph) + repr((found.graph.input_shape, found.graph.special, outcome.level))
            path = None
            if source not in written:
                written.add(source)
                stem = f"test_{options.dtype}_seed{options.seed}_graph{index}_{outcome.level}"
                path = write_finding(found, mode, options.out / f"{stem}.py")
            stats.findings.append(Finding(graph.origin, found.outcome, path, (found.original_ops,
                                                                              len(found.graph.nodes))))
        stats.seconds = time.perf_counter() - started
        if progress is not None:
            progress(index, graph, outcome, stats)
    return stats
