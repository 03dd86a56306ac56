"""Random valid graphs, NNSmith style: grow a graph one op at a time from the op table, keeping only ops whose
parameters fit the shapes so far, then join dangling branches back into the output (residual adds, concats).

`generate(seed, index)` depends on nothing else: `--seed S` and a graph's index give the same graph on every
machine (Python's `random.Random` seeded with a string is stable across runs and platforms).
"""

from __future__ import annotations

import math
import random

from t2m.compiler.fuzz import ops_act, ops_int8, ops_next, ops_nn, ops_pool, ops_tensor  # noqa: F401  (the op table)
from t2m.compiler.fuzz.graph import Graph, Node, prune
from t2m.compiler.fuzz.ops_tensor import broadcast, concat_infer
from t2m.compiler.fuzz.spec import OPS, Shape, ops_for

MAX_ELEMENTS = 6144
"""per value: keeps the emulator at a few hundred thousand cycles per graph"""
MAX_MACS = 400_000
SPECIAL = (math.nan, math.inf, -math.inf)
SCALES = (1.0,) * 16 + (1e-3, 1e3, 1e-20, 30.0)


def sample_input(rng: random.Random) -> Shape:
    r = rng.random()
    if r < 0.7:
        h = rng.choice([rng.randint(1, 16), rng.randint(4, 12)])
        w = h if rng.random() < 0.5 else rng.choice([rng.randint(1, 16), rng.randint(4, 12)])
        c = rng.choice([1, 2, 3, 4, 8, rng.randint(1, 16)])
        return (1 if rng.random() < 0.9 else 2, c, h, w)
    if r < 0.9:
        return (rng.randint(1, 3), rng.choice([rng.randint(1, 64), rng.randint(1, 16)]))
    return (1, rng.randint(1, 8), rng.randint(1, 32))


def macs(op: str, inputs: list[Shape], out: Shape) -> int:
    """Multiply-accumulates of a conv, linear, matmul or recurrent node, at most (0 for the rest): what the
    emulator's time scales with."""
    if op in ("conv2d", "conv2d_unbatched"):
        return math.prod(out) * inputs[0][-3] * 25
    if op == "conv1d":
        return math.prod(out) * inputs[0][1] * 10
    if op in ("linear", "matmul"):
        return math.prod(out) * inputs[0][-1]
    if op == "rnn":
        return math.prod(out) * (inputs[0][-1] + out[-1]) * 8
    return 0


def _first(rng: random.Random, count: int, users: list[int]) -> int:
    """Mostly the newest value (chains), sometimes a leaf or any value (forks, which join again later)."""
    r = rng.random()
    if r < 0.6:
        return count - 1
    leaves = [i for i in range(count) if users[i] == 0]
    return rng.choice(leaves) if r < 0.8 and leaves else rng.randrange(count)


def _join(nodes: list[Node], shapes: list[Shape], users: list[int], dtype: str) -> None:
    """Feed every dangling value into the output through an add (if it broadcasts) or a concat (if it fits)."""
    names = {spec.name for spec in ops_for(dtype)}
    for leaf in range(len(shapes) - 2, 0, -1):
        if users[leaf]:
            continue
        out = len(shapes) - 1
        pair = [shapes[out], shapes[leaf]]
        joined = broadcast(*pair)
        if "add" in names and joined == shapes[out]:
            node = Node("add", (out, leaf), {"const": None, "variant": "plain", "lhs": False, "value": 1.0})
        elif "concat" in names and len(pair[0]) > 1 and (joined := concat_infer(pair, {"dim": 1})):
            node = Node("concat", (out, leaf), {"dim": 1})
        else:
            continue
        if joined is None or math.prod(joined) > MAX_ELEMENTS:
            continue
        nodes.append(node)
        shapes.append(joined)
        users.extend([0])
        users[out] += 1
        users[leaf] += 1


def generate(seed: int, index: int, dtype: str = "fp32", max_ops: int = 12, special_rate: float = 0.1,
             special_inputs: bool = True) -> Graph:
    """Graph `index` of the campaign seeded `seed` (without NaN/inf or scaled inputs unless `special_inputs`)."""
    rng = random.Random(f"t2m-fuzz/{seed}/{index}")
    specs = ops_for(dtype)
    weights = [spec.weight for spec in specs]
    shapes = [sample_input(rng)]
    nodes: list[Node] = []
    users = [0]
    strided = [False]  # per value: a strided view may reach it (through elementwise ops too, which keep strides)
    target = rng.randint(1, max_ops)
    for _ in range(target * 20):
        if len(nodes) >= target:
            break
        spec = rng.choices(specs, weights)[0]
        drawn = spec.sample(rng, shapes, _first(rng, len(shapes), users))
        if drawn is None:
            continue
        inputs, params = drawn
        if rng.random() < 0.1:  # the same layer (same weights) applied again, as in weight tying
            fits = [[shapes[i] for i in inputs] == [shapes[i] for i in n.inputs] for n in nodes]
            twins = [n for n, fit in zip(nodes, fits, strict=True) if n.op == spec.name and fit]
            if twins:
                params = {**rng.choice(twins).params, "share": True}
        if not spec.dtypes[dtype](params, [nodes[i - 1].op if i else "input" for i in inputs]):
            continue
        if spec.contiguous(params) and any(strided[i] for i in inputs):
            continue
        shape = spec.infer([shapes[i] for i in inputs], params)
        if shape is None or math.prod(shape) > MAX_ELEMENTS or min(shape) < 1:
            continue
        if macs(spec.name, [shapes[i] for i in inputs], shape) > MAX_MACS:
            continue
        nodes.append(Node(spec.name, inputs, params))
        shapes.append(shape)
        users.append(0)
        strided.append(spec.strided(params) or any(strided[i] for i in inputs))
        for i in inputs:
            users[i] += 1
    if not nodes:
        nodes.append(Node("relu", (0,), {"style": "module"}))
        shapes.append(shapes[0])
        users.append(0)
    extra: tuple[int, ...] = ()
    if rng.random() < 0.2:  # several outputs: dangling branches, any value, the input itself, one value twice
        leaves = [i for i in range(len(shapes) - 1) if users[i] == 0]
        pool = leaves if leaves and rng.random() < 0.7 else list(range(len(shapes)))
        extra = tuple(rng.choice(pool) for _ in range(rng.randint(1, 2)))
        for v in extra:
            users[v] += 1
    _join(nodes, shapes, users, dtype)
    special: tuple[tuple[int, float], ...] = ()
    if rng.random() < special_rate:
        size = math.prod(shapes[0])
        special = tuple((rng.randrange(size), rng.choice(SPECIAL)) for _ in range(rng.randint(1, 3)))
    scale = rng.choice(SCALES)
    if not special_inputs:
        special, scale = (), 1.0
    graph = Graph(shapes[0], tuple(nodes), seed=(seed * 1_000_003 + index) % (1 << 31), special=special,
                  scale=scale, extra=extra, origin=f"--seed {seed} graph {index}")
    return prune(graph)


__all__ = ["OPS", "generate"]
