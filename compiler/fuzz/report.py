"""What a campaign covered and found: counters per op and parameter form, outcomes by level, the summary tables.

Coverage is counted on the graphs as run (after pruning), so it says what t2m was actually tested on: each op,
each parameter form its table entry names (`OpSpec.forms`), and the structure around it (an op reading the op
before it, e.g. conv2d -> relu, which fuse-activation folds; values read twice; branches joined again).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from t2m.compiler.fuzz.graph import Graph
from t2m.compiler.fuzz.modes import LEVELS
from t2m.compiler.fuzz.runner import Outcome
from t2m.compiler.fuzz.spec import OPS


@dataclass
class Finding:
    origin: str
    outcome: Outcome
    path: Path | None
    """the test file written, or None when a finding of the same minimised graph was written already"""
    ops: tuple[int, int]
    """(ops before, after minimisation)"""


@dataclass
class Stats:
    graphs: int = 0
    emulated: int = 0
    seconds: float = 0.0
    minimise_seconds: float = 0.0
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter[tuple[str, str]])
    """(kind, level) -> graphs"""
    ops: Counter[str] = field(default_factory=Counter[str])
    forms: Counter[tuple[str, str]] = field(default_factory=Counter[tuple[str, str]])
    structure: Counter[str] = field(default_factory=Counter[str])
    findings: list[Finding] = field(default_factory=list[Finding])

    def add(self, graph: Graph, outcome: Outcome, emulated: bool) -> None:
        self.graphs += 1
        self.emulated += emulated and outcome.kind == "ok"
        self.outcomes[outcome.kind, outcome.level] += 1
        shapes = graph.shapes()
        assert shapes is not None
        users = Counter(i for node in graph.nodes for i in set(node.inputs))
        for node in graph.nodes:
            spec = OPS[node.op]
            self.ops[node.op] += 1
            for form in spec.forms([shapes[i] for i in node.inputs], node.params):
                self.forms[node.op, form] += 1
            if node.params.get("share"):
                self.structure["layers applied twice (shared weights)"] += 1
            if len(set(node.inputs)) < len(node.inputs):
                self.structure["one value read twice by an op"] += 1
            if len({i for i in node.inputs if i > 0}) > 1:
                self.structure["branches joined (add, mul, concat)"] += 1
        self.structure["values read by several ops (forks)"] += sum(1 for n in users.values() if n > 1)
        self.structure["graphs with NaN/inf in the input"] += bool(graph.special)
        self.structure["graphs with several outputs"] += bool(graph.extra)
        self.structure["ill-conditioned graphs (tolerance widened to PyTorch's own error)"] += outcome.widened
        self.structure["graphs returning their input or one value twice"] += (
            0 in graph.outputs or len(set(graph.outputs)) < len(graph.outputs))
        if graph.scale != 1.0:
            self.structure[f"graphs with input values scaled by {graph.scale:g}"] += 1
        self.structure["graphs with input rank " + str(len(graph.input_shape))] += 1

    @property
    def per_minute(self) -> float:
        return 60.0 * self.graphs / self.seconds if self.seconds else 0.0

    def count(self, kind: str) -> int:
        return sum(n for (k, _), n in self.outcomes.items() if k == kind)


def summary_tables(stats: Stats) -> list[Table]:
    graphs = f"{stats.graphs} graph{'s' if stats.graphs != 1 else ''}"
    head = Table(title=f"t2m-fuzz: {graphs} in {stats.seconds:.0f} s ({stats.per_minute:.1f} graphs/min, "
                       f"{stats.minimise_seconds:.0f} s of it minimising)")
    head.add_column("outcome")
    for level in LEVELS:
        head.add_column(level, justify="right")
    head.add_column("total", justify="right")
    for kind in ("ok", "mismatch", "crash", "unsupported", "unstable", "invalid"):
        if kind == "ok":
            head.add_row("ok", *[""] * len(LEVELS), str(stats.count("ok")))
            continue
        head.add_row(kind, *[str(stats.outcomes[kind, level] or "") for level in LEVELS], str(stats.count(kind)))
    head.caption = f"{stats.emulated} of the graphs that passed ran on the emulated Cortex-M4"

    cover = Table(title="op coverage (ops in the graphs as run; forms: how often each parameter form was drawn)")
    cover.add_column("op")
    cover.add_column("count", justify="right")
    cover.add_column("forms")
    for name in OPS:
        forms = sorted(((form, n) for (op, form), n in stats.forms.items() if op == name), key=lambda f: -f[1])
        cover.add_row(name, str(stats.ops[name]), escape(", ".join(f"{form} {n}" for form, n in forms)))
    shape = Table(title="structure")
    shape.add_column("what")
    shape.add_column("count", justify="right")
    for what, n in sorted(stats.structure.items()):
        if n:
            shape.add_row(what, str(n))
    tables = [head, cover, shape]
    if stats.findings:
        found = Table(title="findings (minimised; each file is a pytest test that fails until the bug is fixed)")
        for column in ("graph", "failure", "ops", "test file"):
            found.add_column(column)
        for f in stats.findings:
            failure = f.outcome.describe()
            failure = failure if len(failure) < 160 else failure[:157] + "..."
            found.add_row(f.origin, escape(failure), f"{f.ops[0]} -> {f.ops[1]}",
                          escape(str(f.path)) if f.path else "(a repeat)")
        tables.append(found)
    return tables


def print_summary(stats: Stats, console: Console) -> None:
    for table in summary_tables(stats):
        console.print(table)
