"""A fuzz graph: a list of op nodes over one input, rendered as the Python source of an `nn.Module`.

Value 0 is the model's input, value i > 0 the result of `nodes[i - 1]`; the last node is the output, `extra`
values are returned after it (a model with several outputs, possibly the input itself or one value twice). The graph
is data (op names, input values, plain parameters), so the minimiser edits it freely; `render` turns it into a
class whose source is what the fuzzer runs and what a finding's test file contains, character for character.
Weights and inputs come from `init_weights` and `make_input`, whose source is pasted into those files too.
"""

from __future__ import annotations

import linecache
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from t2m.compiler.fuzz.spec import OPS, Params, Shape

if TYPE_CHECKING:
    import torch

CLASS_NAME = "FuzzModel"
WIDTH = 116


@dataclass(frozen=True)
class Node:
    op: str
    inputs: tuple[int, ...]
    params: Params


@dataclass(frozen=True)
class Graph:
    input_shape: Shape
    nodes: tuple[Node, ...]
    seed: int
    """seeds the weights and the input values"""
    special: tuple[tuple[int, float], ...] = ()
    """(flat index, value): NaN and infinities placed into the input"""
    scale: float = 1.0
    """of the input values (large ones saturate sigmoid and tanh and reach exp's range limits)"""
    extra: tuple[int, ...] = ()
    """values returned after the last node's"""
    origin: str = field(default="", compare=False)
    """how to get this graph again, e.g. `--seed 3 graph 17`"""

    def shapes(self) -> list[Shape] | None:
        """The shape of every value, or None if some node's parameters do not fit its inputs."""
        shapes: list[Shape] = [self.input_shape]
        for node in self.nodes:
            if any(not 0 <= i < len(shapes) for i in node.inputs):
                return None
            shape = OPS[node.op].infer([shapes[i] for i in node.inputs], node.params)
            if shape is None or not all(d >= 1 for d in shape) or math.prod(shape) > 1 << 16:
                return None
            shapes.append(shape)
        return shapes

    @property
    def outputs(self) -> tuple[int, ...]:
        return (len(self.nodes), *self.extra)


def prune(graph: Graph) -> Graph:
    """Drop the nodes no output depends on (and extra outputs that name no value) and renumber the rest."""
    if not graph.nodes:
        return graph
    extra = tuple(v for v in graph.extra if v < len(graph.nodes))
    live = {len(graph.nodes), *extra}
    for i in range(len(graph.nodes), 0, -1):
        if i in live:
            live.update(graph.nodes[i - 1].inputs)
    renumber = {0: 0}
    nodes: list[Node] = []
    for i, node in enumerate(graph.nodes, start=1):
        if i in live:
            nodes.append(replace(node, inputs=tuple(renumber[j] for j in node.inputs)))
            renumber[i] = len(nodes)
    return replace(graph, nodes=tuple(nodes), extra=tuple(renumber[v] for v in extra))


def render(graph: Graph) -> str:
    """The graph as the source of `class FuzzModel(nn.Module)` (needs `torch` and `nn` in scope)."""
    shapes = graph.shapes()
    assert shapes is not None, "render needs a valid graph"
    init: list[str] = []
    body: list[str] = []
    names = ["x"]
    layers: dict[str, str] = {}  # (op, parameters, input shapes) -> the attribute of the first such layer
    for i, node in enumerate(graph.nodes, start=1):
        inputs = [shapes[j] for j in node.inputs]
        params = {k: v for k, v in node.params.items() if k != "share"}
        what = repr((node.op, sorted(params.items(), key=str), inputs))
        shared = layers.get(what) if node.params.get("share") else None
        out = OPS[node.op].render(inputs, params, [names[j] for j in node.inputs], shared or f"l{i}")
        if shared is None:
            init += out.init
            layers.setdefault(what, f"l{i}")
        line = f"v{i} = {out.expr}"
        comment = f"  # {node.op}: {'x'.join(map(str, shapes[i]))}" + (" (shared layer)" if shared else "")
        body.append(line + comment if len(line + comment) <= WIDTH - 8 else line)
        names.append(f"v{i}")
    lines = [
        f"class {CLASS_NAME}(nn.Module):",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        *(wrapped for line in init for wrapped in _wrap(line, " " * 8)),
        "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        *(f"        {line}" for line in body),
        f"        return {', '.join(names[v] for v in graph.outputs)}",
    ]
    return "\n".join(lines) + "\n"


def _wrap(line: str, indent: str) -> list[str]:
    """A call too long for one line, with its arguments on a line of their own."""
    if len(indent + line) <= WIDTH or not line.endswith(")") or "(" not in line:
        return [indent + line]
    head, _, rest = line.partition("(")
    return [f"{indent}{head}(", f"{indent}    {rest[:-1]}", f"{indent})"]


def build(graph: Graph) -> Any:
    """The graph as an eval-mode module with its weights (executes `render`'s source)."""
    import torch
    from torch import nn

    source = render(graph)
    filename = f"<t2m-fuzz {graph.origin or 'graph'}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # tracebacks show it
    namespace: dict[str, Any] = {"torch": torch, "nn": nn}
    exec(compile(source, filename, "exec"), namespace)
    model = namespace[CLASS_NAME]()
    init_weights(model, graph.seed)
    return model.eval()


def init_weights(model: torch.nn.Module, seed: int) -> None:
    """Seeded weights: uniform with the variance that keeps activations O(1) for weight matrices and kernels,
    uniform in [-1, 1] for biases and constants, batch-norm variances in [0.5, 2]."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            if not tensor.is_floating_point():
                continue
            u = torch.rand(tensor.shape, generator=generator) * 2 - 1
            if name.endswith("running_var"):
                tensor.copy_(1.25 + 0.75 * u)
            elif name.endswith("weight") and tensor.dim() >= 2:
                tensor.copy_(u * math.sqrt(3 / tensor[0].numel()))
            else:
                tensor.copy_(u)


def make_input(shape: tuple[int, ...], seed: int, special: tuple[tuple[int, float], ...], scale: float) -> np.ndarray:
    """Seeded normal input of standard deviation `scale`, with `special` (flat index, value) pairs placed into it."""
    x = (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)
    for index, value in special:
        x.reshape(-1)[index] = value
    return x
