"""Shrink a failing graph to a small one that fails the same way (delta debugging, greedy to a fixpoint).

Candidates, tried cheapest-to-smallest first and kept when they still fail with the same signature (kind, level,
exception type): cut the graph after an earlier node; remove a node, its users reading one of its inputs instead
(this drops whole branches of an add or concat); drop an input of a concat; drop an extra output; drop the NaN/inf
placed into the input and the input's scale; shrink each input dimension; simplify a node's parameters (the op
table's `shrink`). A candidate whose shapes no longer fit is discarded without running. Each check climbs the
ladder only up to the failing level.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from t2m.compiler.fuzz.graph import Graph, Node, prune
from t2m.compiler.fuzz.modes import Mode
from t2m.compiler.fuzz.runner import Outcome, run_graph
from t2m.compiler.fuzz.spec import OPS


@dataclass
class Minimised:
    graph: Graph
    outcome: Outcome
    original_ops: int
    checks: int


def _remove(graph: Graph, index: int, replacement: int) -> Graph:
    """Drop node `index` (value index + 1); its users read value `replacement` instead."""
    removed = index + 1
    renumber = {v: v if v < removed else v - 1 for v in range(len(graph.nodes) + 1) if v != removed}
    renumber[removed] = renumber[replacement]
    nodes = [replace(n, inputs=tuple(renumber[i] for i in n.inputs)) for k, n in enumerate(graph.nodes) if k != index]
    return prune(replace(graph, nodes=tuple(nodes), extra=tuple(renumber[v] for v in graph.extra)))


def candidates(graph: Graph) -> Iterator[Graph]:
    """Smaller or simpler variants of `graph`, biggest reductions first."""
    n = len(graph.nodes)
    for k in range(1, n):
        yield prune(replace(graph, nodes=graph.nodes[:k]))
    for index in range(n - 1, -1, -1):
        for replacement in dict.fromkeys(graph.nodes[index].inputs):
            yield _remove(graph, index, replacement)
    for index, node in enumerate(graph.nodes):
        if len(node.inputs) > 2:
            for drop in range(len(node.inputs)):
                inputs = node.inputs[:drop] + node.inputs[drop + 1 :]
                yield _with_node(graph, index, replace(node, inputs=inputs))
    for drop in range(len(graph.extra)):
        yield prune(replace(graph, extra=graph.extra[:drop] + graph.extra[drop + 1 :]))
    if graph.special:
        yield replace(graph, special=())
    if graph.scale != 1.0:
        yield replace(graph, scale=1.0)
    for d, size in enumerate(graph.input_shape):
        for smaller in dict.fromkeys((1, size // 2, size - 1)):
            if 1 <= smaller < size:
                yield _reshaped(graph, d, smaller)
    for index, node in enumerate(graph.nodes):
        if node.params.get("share"):
            yield _with_node(graph, index, replace(node, params={**node.params, "share": False}))
        for params in OPS[node.op].shrink(node.params):
            yield _with_node(graph, index, replace(node, params=params))


def _with_node(graph: Graph, index: int, node: Node) -> Graph:
    return prune(replace(graph, nodes=(*graph.nodes[:index], node, *graph.nodes[index + 1 :])))


def _reshaped(graph: Graph, dim: int, size: int) -> Graph:
    shape = (*graph.input_shape[:dim], size, *graph.input_shape[dim + 1 :])
    special = tuple((i, v) for i, v in graph.special if i < math.prod(shape))
    return replace(graph, input_shape=shape, special=special)


def _cost(graph: Graph) -> tuple[int, int, int]:
    """What "smaller" means: fewer ops, then fewer input elements, then fewer special inputs."""
    return len(graph.nodes) + len(graph.extra), math.prod(graph.input_shape), len(graph.special) + (graph.scale != 1.0)


def minimise(
    graph: Graph,
    outcome: Outcome,
    mode: Mode,
    max_checks: int = 200,
    check: Callable[[Graph], Outcome] | None = None,
) -> Minimised:
    """The smallest graph found (within `max_checks` runs) that fails as `outcome` says `graph` does."""
    emulator = outcome.level in ("object", "emulator")
    run = check or (lambda g: run_graph(g, mode, emulator=emulator, last=outcome.level))
    target = outcome.signature()
    original, checks, seen = len(graph.nodes), 0, {_key(graph)}
    progress = True
    while progress and checks < max_checks:
        progress = False
        for candidate in candidates(graph):
            key = _key(candidate)
            if key in seen or not candidate.nodes or candidate.shapes() is None:
                continue
            seen.add(key)
            if _cost(candidate) > _cost(graph):  # equal cost: a parameter simplification
                continue
            checks += 1
            result = run(candidate)
            if result.signature() == target:
                graph, outcome, progress = candidate, result, True
                break
            if checks >= max_checks:
                break
    return Minimised(graph, outcome, original, checks)


def _key(graph: Graph) -> str:
    nodes = [(n.op, n.inputs, sorted(n.params.items(), key=str)) for n in graph.nodes]
    return repr((graph.input_shape, graph.special, graph.scale, graph.extra, nodes))
