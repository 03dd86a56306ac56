"""Op table entries that combine or reshape values: add/mul (broadcasting, constants), concat, flatten, reshape.

add/mul take a second graph value (residual connections, squeeze-and-excitation gates: [1,C,H,W] * [1,C,1,1])
or a constant: a Python scalar or a buffer whose broadcast shape is derived from the input when rendered.
Subtracting or scaling an activation (`a - b`, `torch.add(a, b, alpha=2)` with b an activation) is documented as
unsupported by the importer and never generated; `x - c`, `x / c` and `alpha` on a constant are.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from t2m.compiler.fuzz.spec import OpSpec, Params, Rendered, Shape, args, register, unary, with_changes


def broadcast(a: Shape, b: Shape) -> Shape | None:
    """numpy/PyTorch broadcasting, or None."""
    out = []
    for x, y in zip((1,) * (len(b) - len(a)) + a, (1,) * (len(a) - len(b)) + b, strict=True):
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y))
    return tuple(out)


def const_shape(x: Shape, kind: str) -> Shape | None:
    """The buffer shape of a constant operand of `kind` next to a value of shape `x` (None: a Python scalar)."""
    if kind == "scalar":
        return None
    if kind in ("channel", "made") and len(x) >= 2:
        return (1, x[1], *(1,) * (len(x) - 2))
    if kind == "channel-chw" and len(x) == 4:
        return (x[1], 1, 1)
    return x[-1:] if kind == "last" else x


KINDS = {"add": ["plain", "sub", "alpha", "inplace"], "mul": ["plain", "div", "inplace"]}
"""how the op is written: `x + c`, `x - c`, `torch.add(x, c, alpha=a)`, `x / c`, `x.add_(c)` (in place)"""


def binary(name: str, symbol: str) -> OpSpec:
    def sample(rng: random.Random, shapes: list[Shape], first: int) -> tuple[tuple[int, ...], Params] | None:
        x = shapes[first]
        if rng.random() < 0.5:
            partners = [j for j, s in enumerate(shapes) if j != first and broadcast(x, s) is not None]
            if rng.random() < 0.1 or not partners:
                partners = [first]
            j = rng.choice(partners)
            inputs = (j, first) if rng.random() < 0.3 else (first, j)
            variant = "inplace" if rng.random() < 0.15 and shapes[j] == x else "plain"
            return inputs, {"const": None, "variant": variant, "lhs": False, "value": 1.0}
        kinds = ["scalar", "scalar", "last", "full"] + ["channel", "channel", "made"] * (len(x) >= 2)
        kind = rng.choice(kinds + ["channel-chw"] * (len(x) == 4))
        variant = rng.choice(KINDS[name])
        value = round(rng.choice([-1, 1]) * rng.uniform(0.25, 2.0), 3)
        return (first,), {"const": kind, "variant": variant, "lhs": variant == "plain" and rng.random() < 0.3,
                          "value": value}

    def infer(shapes: list[Shape], p: Params) -> Shape | None:
        if p["const"] is None:
            out = broadcast(*shapes) if len(shapes) == 2 else None
            # x.add_(y) of two values: equal shapes. Broadcasting y may read memory x.add_ writes when y is a view
            # of x (`v = y.unsqueeze(0); v.add_(y)`), which PyTorch refuses, and views are not tracked here.
            return None if p["variant"] == "inplace" and shapes[0] != shapes[-1] else out
        if len(shapes) != 1:
            return None
        c = const_shape(shapes[0], p["const"])
        return shapes[0] if c is None else broadcast(shapes[0], c)

    def render(shapes: list[Shape], p: Params, ins: list[str], attr: str) -> Rendered:
        if p["const"] is None:
            if p["variant"] == "inplace":
                return Rendered([], f"{ins[0]}.{name}_({ins[1]})")
            return Rendered([], f"{ins[0]} {symbol} {ins[1]}")
        shape = const_shape(shapes[0], p["const"])
        if shape is None:
            init, c = [], repr(p["value"])
        elif p["const"] == "made":  # made in forward: aten.full
            init, c = [], f"torch.full({shape!r}, {p['value']!r})"
        else:
            init, c = [f"self.register_buffer({attr!r}, torch.empty({args(*shape)}))"], f"self.{attr}"
        if p["variant"] == "inplace":
            return Rendered(init, f"{ins[0]}.{name}_({c})")
        if p["variant"] == "alpha":
            return Rendered(init, f"torch.add({ins[0]}, {c}, alpha={p['value']!r})")
        op = {"sub": "-", "div": "/"}.get(p["variant"], symbol)
        return Rendered(init, f"{c} {op} {ins[0]}" if p["lhs"] else f"{ins[0]} {op} {c}")

    def forms(shapes: list[Shape], p: Params) -> list[str]:
        if p["const"] is None:
            return ["same-shape" if shapes[0] == shapes[-1] else "broadcast",
                    *(["inplace"] if p["variant"] == "inplace" else [])]
        return [f"const-{p['const']}", *([p["variant"]] if p["variant"] != "plain" else []),
                *(["const-lhs"] if p["lhs"] else [])]

    def shrink(p: Params) -> Iterator[Params]:
        if p["const"] is not None:
            yield from with_changes(p, const="scalar", variant="plain", lhs=False, value=1.0)

    return register(OpSpec(name, sample, infer, render, forms, shrink, weight=1.5))


binary("add", "+")
binary("mul", "*")

# -- concat ------------------------------------------------------------------------------------------------------


def concat_sample(rng: random.Random, shapes: list[Shape], first: int) -> tuple[tuple[int, ...], Params] | None:
    x = shapes[first]
    dim = 1 if len(x) > 1 and rng.random() < 0.6 else rng.randrange(len(x))
    fits = [j for j, s in enumerate(shapes) if len(s) == len(x) and all(
        a == b for i, (a, b) in enumerate(zip(s, x, strict=True)) if i != dim)]
    partners = [j for j in fits if j != first] or fits
    inputs = [first, *(rng.choice(partners) for _ in range(1 if rng.random() < 0.8 else 2))]
    rng.shuffle(inputs)
    return tuple(inputs), {"dim": dim - len(x) if rng.random() < 0.2 else dim, "fn": rng.choice(["cat", "concat"])}


def concat_infer(shapes: list[Shape], p: Params) -> Shape | None:
    rank = len(shapes[0])
    if not -rank <= p["dim"] < rank or len(shapes) < 2:
        return None
    dim = p["dim"] % rank
    if any(len(s) != rank or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0], strict=True)) if i != dim)
           for s in shapes):
        return None
    return tuple(sum(s[dim] for s in shapes) if i == dim else d for i, d in enumerate(shapes[0]))


register(OpSpec(
    "concat", concat_sample, concat_infer,
    lambda shapes, p, ins, attr: Rendered([], f"torch.{p.get('fn', 'cat')}([{', '.join(ins)}], dim={p['dim']})"),
    lambda shapes, p: [f"dim{p['dim'] % len(shapes[0])}", f"{len(shapes)}-way",
                       *(["negative-dim"] if p["dim"] < 0 else []),
                       *(["torch.concat"] if p.get("fn") == "concat" else [])],
    weight=1.0,
))

# -- flatten and reshape -----------------------------------------------------------------------------------------


@unary(lambda s: len(s) >= 2)
def flatten_sample(rng: random.Random, x: Shape) -> Params:
    if rng.random() < 0.5:
        return {"style": "module", "start": 1, "end": -1}
    start = rng.randrange(len(x))
    return {"style": "function", "start": start, "end": rng.randrange(start, len(x)) - rng.choice([0, len(x)])}


def flatten_infer(shapes: list[Shape], p: Params) -> Shape | None:
    x = shapes[0]
    if not -len(x) <= p["end"] < len(x) or p["start"] >= len(x) or p["start"] > p["end"] % len(x):
        return None
    start, end = p["start"], p["end"] % len(x)
    return (*x[:start], math.prod(x[start : end + 1]), *x[end + 1 :])


register(OpSpec(
    "flatten", flatten_sample, flatten_infer,
    lambda shapes, p, ins, attr: Rendered([f"self.{attr} = nn.Flatten()"], f"self.{attr}({ins[0]})")
    if p["style"] == "module" else Rendered([], f"torch.flatten({ins[0]}, {p['start']}, {p['end']})"),
    lambda shapes, p: [p["style"], *(["whole"] if p["start"] == 0 else [])],
    lambda p: with_changes(p, style="module", start=1, end=-1), weight=1.0,
))


def factor(n: int, parts: int, seed: int) -> list[int]:
    """`n` split into `parts` factors, chosen by `seed` (deterministic)."""
    primes, k, m = [], 2, n
    while m > 1:
        while m % k == 0:
            primes.append(k)
            m //= k
        k += 1
    dims = [1] * parts
    rng = random.Random(seed)
    for prime in primes:
        dims[rng.randrange(parts)] *= prime
    return dims


def reshape_target(x: Shape, p: Params) -> Shape | None:
    method, rank = p["method"], len(x)
    if method == "unsqueeze":
        return (*x[: p["dim"]], 1, *x[p["dim"] :]) if p["dim"] <= rank < 5 else None
    if method == "squeeze":
        return (*x[: p["dim"]], *x[p["dim"] + 1 :]) if p["dim"] < rank and x[p["dim"]] == 1 and rank > 1 else None
    return (x[0], *factor(math.prod(x[1:]), p["rank"] - 1, p["split"]))


@unary()
def reshape_sample(rng: random.Random, x: Shape) -> Params | None:
    method = rng.choice(["reshape", "reshape", "view", "unsqueeze", "squeeze"])
    p = {"method": method, "rank": rng.randint(2, 4), "split": rng.randrange(1000), "infer": rng.random() < 0.3,
         "dim": rng.randrange(len(x) + 1) if method == "unsqueeze" else rng.randrange(len(x))}
    if method == "squeeze" and 1 in x:
        p["dim"] = x.index(1)
    return p if reshape_target(x, p) is not None else None


def reshape_render(shapes: list[Shape], p: Params, ins: list[str], attr: str) -> Rendered:
    target = reshape_target(shapes[0], p)
    assert target is not None
    if p["method"] in ("unsqueeze", "squeeze"):
        return Rendered([], f"{ins[0]}.{p['method']}({p['dim']})")
    dims = list(target)
    if p["infer"]:
        dims[p["split"] % len(dims)] = -1
    return Rendered([], f"{ins[0]}.{p['method']}({args(*dims)})")


register(OpSpec(
    "reshape", reshape_sample, lambda shapes, p: reshape_target(shapes[0], p), reshape_render,
    lambda shapes, p: [p["method"], *(["-1"] if p["infer"] and p["method"] in ("reshape", "view") else [])],
    lambda p: with_changes(p, infer=False, rank=2), weight=1.0, contiguous=lambda p: p["method"] == "view",
))
