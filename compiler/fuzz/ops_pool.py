"""Op table entries for pooling: max_pool2d, avg_pool2d, adaptive_avg_pool2d and the spatial mean.

Output sizes are PyTorch's `pooling_output_shape` (ceil_mode drops a last window that would start in the right
padding), and padding is at most half the kernel, as PyTorch demands.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from t2m.compiler.fuzz.spec import OpSpec, Params, Rendered, Shape, args, pair, register, unary, with_changes


def pool_size(size: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    """PyTorch's pooling output size (aten/src/ATen/native/Pool.h)."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def pool_infer(shapes: list[Shape], p: Params) -> Shape | None:
    (x,) = shapes
    if len(x) != 4:
        return None
    kernel, padding, dilation = p["kernel"], p["padding"], p.get("dilation", (1, 1))
    stride = p["stride"] or kernel
    if any(2 * pad > k for pad, k in zip(padding, kernel, strict=True)):
        return None  # PyTorch: pad should be at most half of kernel size
    sizes = tuple(pool_size(*a, p["ceil"]) for a in zip(x[2:], kernel, stride, padding, dilation, strict=True))
    if p.get("count_include_pad") is not None and p["ceil"]:
        floor = tuple(pool_size(*a, False) for a in zip(x[2:], kernel, stride, padding, dilation, strict=True))
        if floor != sizes:
            return None  # t2m documents avg_pool2d ceil_mode that changes the output size as unsupported
    return (*x[:2], *sizes)


def _pool_sample(rng: random.Random, x: Shape, avg: bool) -> Params | None:
    for _ in range(20):
        k = rng.choice([2, 2, 3, 3, 1, 4])
        kernel = (k, k) if rng.random() < 0.85 else (rng.randint(1, 4), rng.randint(1, 4))
        stride = None if rng.random() < 0.4 else rng.choice([(1, 1), (2, 2), (3, 3), (1, 2)])
        padding = (0, 0) if rng.random() < 0.6 else (rng.randint(0, kernel[0] // 2), rng.randint(0, kernel[1] // 2))
        p: Params = {"kernel": kernel, "stride": stride, "padding": padding, "ceil": rng.random() < 0.25}
        if avg:
            p["count_include_pad"] = rng.random() < 0.5
        else:
            p["dilation"] = (1, 1) if rng.random() < 0.8 else rng.choice([(2, 2), (1, 2)])
        if pool_infer([x], p) is not None:
            return p
    return None


def pool_render(kind: str):  # noqa: ANN201
    def render(shapes: list[Shape], p: Params, ins: list[str], attr: str) -> Rendered:
        stride = None if p["stride"] is None else pair(p["stride"])
        extra = {"dilation": pair(p["dilation"])} if "dilation" in p else {
            "count_include_pad": p["count_include_pad"]}
        layer = args(kernel_size=pair(p["kernel"]), stride=stride, padding=pair(p["padding"]), ceil_mode=p["ceil"],
                     **extra)
        return Rendered([f"self.{attr} = nn.{kind}({layer})"], f"self.{attr}({ins[0]})")

    return render


def pool_forms(shapes: list[Shape], p: Params) -> list[str]:
    stride = p["stride"] or p["kernel"]
    checks = {
        "default-stride": p["stride"] is None,
        "overlapping": any(s < k for s, k in zip(stride, p["kernel"], strict=True)),
        "rect": p["kernel"][0] != p["kernel"][1],
        "padding": tuple(p["padding"]) != (0, 0),
        "ceil": p["ceil"],
        "dilation": tuple(p.get("dilation", (1, 1))) != (1, 1),
        "exclude-pad": p.get("count_include_pad") is False and tuple(p["padding"]) != (0, 0),
    }
    return [name for name, hit in checks.items() if hit]


def pool_shrink(p: Params) -> Iterator[Params]:
    yield from with_changes(p, stride=None, padding=(0, 0), ceil=False)
    if "dilation" in p:
        yield from with_changes(p, dilation=(1, 1))
    yield from with_changes(p, kernel=(1, 1))


register(OpSpec("max_pool2d", unary(lambda s: len(s) == 4)(lambda rng, x: _pool_sample(rng, x, False)), pool_infer,
                pool_render("MaxPool2d"), pool_forms, pool_shrink))
register(OpSpec("avg_pool2d", unary(lambda s: len(s) == 4)(lambda rng, x: _pool_sample(rng, x, True)), pool_infer,
                pool_render("AvgPool2d"), pool_forms, pool_shrink))

# -- adaptive average pool and mean ------------------------------------------------------------------------------


@unary(lambda s: len(s) == 4)
def adaptive_sample(rng: random.Random, x: Shape) -> Params:
    r = rng.random()
    if r < 0.3:
        return {"size": 1}
    sizes: list[int | None] = [rng.randint(1, d) for d in x[2:]]
    if r < 0.4:
        sizes[rng.randint(0, 1)] = None
    elif r < 0.5:  # more cells than input rows or columns: windows overlap
        axis = rng.randint(0, 1)
        sizes[axis] = x[2 + axis] + rng.randint(1, 2)
    return {"size": tuple(sizes)}


def adaptive_infer(shapes: list[Shape], p: Params) -> Shape | None:
    (x,) = shapes
    if len(x) != 4:
        return None
    size = (p["size"], p["size"]) if isinstance(p["size"], int) else p["size"]
    return (*x[:2], *(d if s is None else s for s, d in zip(size, x[2:], strict=True)))


def adaptive_forms(shapes: list[Shape], p: Params) -> list[str]:
    if isinstance(p["size"], int):
        return ["global" if p["size"] == 1 else "int"]
    plane = shapes[0][2:]
    checks = {
        "none": None in p["size"],
        "uneven": any(s is not None and d % s for s, d in zip(p["size"], plane, strict=True)),
        "larger": any(s is not None and s > d for s, d in zip(p["size"], plane, strict=True)),
    }
    return [name for name, hit in checks.items() if hit]


register(OpSpec(
    "adaptive_avg_pool2d", adaptive_sample, adaptive_infer,
    lambda shapes, p, ins, attr: Rendered([f"self.{attr} = nn.AdaptiveAvgPool2d({p['size']!r})"],
                                          f"self.{attr}({ins[0]})"),
    adaptive_forms, lambda p: with_changes(p, size=1),
))


@unary(lambda s: len(s) == 4)
def mean_sample(rng: random.Random, x: Shape) -> Params:
    return {"dims": rng.choice([(2, 3), (-1, -2), (3, 2)]), "keepdim": rng.random() < 0.5}


register(OpSpec(
    "mean", mean_sample,
    lambda shapes, p: None if len(shapes[0]) != 4 else (*shapes[0][:2], *((1, 1) if p["keepdim"] else ())),
    lambda shapes, p, ins, attr: Rendered([], f"torch.mean({ins[0]}, {args(dim=p['dims'], keepdim=p['keepdim'])})"),
    lambda shapes, p: ["keepdim"] if p["keepdim"] else [], lambda p: with_changes(p, keepdim=False), weight=0.5,
))
