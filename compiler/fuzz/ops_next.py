"""Op table entries for the ops issue 12 adds, written ahead of the ops: kept out of the table until they land.

Each entry is complete (sampler, shape inference, rendering, forms, shrinking), and tests/test_fuzz.py checks its
shapes against PyTorch's today; but the generator draws only what t2m supports (a refusal is a finding), so an
entry stays in `PENDING` until its op is merged. Then one line enables it: add its name to `READY` below (and, once
the int8 front end takes it, an `enable(name, "int8", ...)` line to ops_int8.py). Entries join the table in the
order of `READY`, after every older entry, so enabling one leaves the graphs of the other ops' seeds as they were
up to the first graph that draws it.

Not here: Embedding (its input is integer indices, and every fuzz graph has one float input), softmax over any
axis, hardswish, hardsigmoid and SiLU (ops_act.py draws them already).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from t2m.compiler.fuzz import ops_act, ops_nn, ops_pool, ops_tensor  # noqa: F401  (older entries first: see READY)
from t2m.compiler.fuzz.ops_nn import conv_infer, conv_render, conv_sample, conv_shrink
from t2m.compiler.fuzz.ops_pool import pool_size
from t2m.compiler.fuzz.spec import OpSpec, Params, Rendered, Shape, args, pair, register, unary, with_changes

PENDING: dict[str, tuple[OpSpec, str]] = {}
"""name -> (its entry, the op of issue 12 it waits for)"""


def pending(spec: OpSpec, awaits: str) -> None:
    PENDING[spec.name] = (spec, awaits)


def _same(shapes: list[Shape], p: Params) -> Shape | None:
    return shapes[0]


# -- activations with a parameter ------------------------------------------------------------------------------


def _activation(name: str, module: str, function: str, draw: dict[str, list[object]], inplace: bool,
                awaits: str) -> None:
    """An activation `nn.<module>(**params)`, `<function>(x, **params)` or in place, its parameters drawn from
    `draw` (the first value of each list is the default, which the minimiser shrinks to)."""

    def sample(rng: random.Random, x: Shape) -> Params:
        styles = ["module", "function", *(["inplace"] if inplace else [])]
        return {"style": rng.choice(styles), **{key: rng.choice(values) for key, values in draw.items()}}

    def render(shapes: list[Shape], p: Params, ins: list[str], attr: str) -> Rendered:
        params = {key: p[key] for key in draw}
        if p["style"] == "function":
            return Rendered([], f"{function}({ins[0]}, {args(**params)})")
        if p["style"] == "inplace":
            params["inplace"] = True
        return Rendered([f"self.{attr} = nn.{module}({args(**params)})"], f"self.{attr}({ins[0]})")

    def forms(shapes: list[Shape], p: Params) -> list[str]:
        return [p["style"], *(f"{key}={p[key]}" for key, values in draw.items() if p[key] != values[0])]

    def shrink(p: Params) -> Iterator[Params]:
        return with_changes(p, style="module", **{key: values[0] for key, values in draw.items()})

    pending(OpSpec(name, unary()(sample), _same, render, forms, shrink), awaits)


_activation("elu", "ELU", "nn.functional.elu", {"alpha": [1.0, 0.5, 2.0]}, True, "ELU")
_activation("gelu", "GELU", "nn.functional.gelu", {"approximate": ["none", "tanh"]}, False, "GELU (erf and tanh)")
_activation("leaky_relu", "LeakyReLU", "nn.functional.leaky_relu", {"negative_slope": [0.01, 0.1, 0.2, 0.0]}, True,
            "LeakyReLU")


@unary()
def prelu_sample(rng: random.Random, x: Shape) -> Params:
    return {"per_channel": len(x) >= 2 and rng.random() < 0.5}


pending(OpSpec(
    "prelu", prelu_sample, _same,
    lambda shapes, p, ins, attr: Rendered(
        [f"self.{attr} = nn.PReLU({shapes[0][1] if p['per_channel'] and len(shapes[0]) >= 2 else 1})"],
        f"self.{attr}({ins[0]})"),
    lambda shapes, p: ["per-channel" if p["per_channel"] else "shared"],
    lambda p: with_changes(p, per_channel=False),
), "PReLU")

# -- norms -----------------------------------------------------------------------------------------------------


@unary(lambda s: len(s) >= 2)
def layer_norm_sample(rng: random.Random, x: Shape) -> Params:
    return {"dims": rng.choice([1, 1, 1, 2, 3][: len(x)]), "affine": rng.random() < 0.8, "bias": rng.random() < 0.8,
            "eps": rng.choice([1e-5, 1e-5, 1e-3])}


def layer_norm_render(shapes: list[Shape], p: Params, ins: list[str], attr: str) -> Rendered:
    normalized = list(shapes[0][-p["dims"] :])
    layer = args(normalized, eps=p["eps"], elementwise_affine=p["affine"], bias=p["bias"])
    return Rendered([f"self.{attr} = nn.LayerNorm({layer})"], f"self.{attr}({ins[0]})")


pending(OpSpec(
    "layer_norm", layer_norm_sample, lambda shapes, p: shapes[0] if p["dims"] < len(shapes[0]) else None,
    layer_norm_render,
    lambda shapes, p: [f"last{p['dims']}", *(["no-affine"] if not p["affine"] else []),
                       *(["no-bias"] if p["affine"] and not p["bias"] else [])],
    lambda p: with_changes(p, dims=1, affine=True, bias=True, eps=1e-5),
), "LayerNorm")


def _batch_stats(x: Shape) -> bool:
    """Batch statistics need more than one value per channel (PyTorch refuses them otherwise)."""
    return len(x) == 4 and x[0] * x[2] * x[3] > 1


@unary(_batch_stats)
def bn_stats_sample(rng: random.Random, x: Shape) -> Params:
    return {"affine": rng.random() < 0.8}


pending(OpSpec(
    "batch_norm_stats", bn_stats_sample, lambda shapes, p: shapes[0] if _batch_stats(shapes[0]) else None,
    lambda shapes, p, ins, attr: Rendered(
        [f"self.{attr} = nn.BatchNorm2d({args(shapes[0][1], affine=p['affine'], track_running_stats=False)})"],
        f"self.{attr}({ins[0]})"),
    lambda shapes, p: ["affine" if p["affine"] else "no-affine"],
    lambda p: with_changes(p, affine=True), weight=0.3,
), "batch norm with batch statistics in eval (track_running_stats=False)")

# -- conv1d, and conv2d on an unbatched input ------------------------------------------------------------------


def conv1d_infer(shapes: list[Shape], p: Params) -> Shape | None:
    (x,) = shapes
    if len(x) != 3 or x[1] % p["groups"] or p["out"] % p["groups"]:
        return None
    if p["padding"] == "same":
        if p["stride"] != 1:
            return None  # PyTorch: padding='same' is not supported for strided convolutions
        return (x[0], p["out"], x[2])
    size = (x[2] + 2 * p["padding"] - p["dilation"] * (p["kernel"] - 1) - 1) // p["stride"] + 1
    return None if size < 1 else (x[0], p["out"], size)


@unary(lambda s: len(s) == 3)
def conv1d_sample(rng: random.Random, x: Shape) -> Params | None:
    c = x[1]
    for _ in range(20):
        r = rng.random()
        if r < 0.2 and c > 1:
            groups, out = c, c * rng.choice([1, 1, 2])  # depthwise, with a channel multiplier sometimes
        elif r < 0.3 and (divisors := [g for g in range(2, c) if c % g == 0]):
            groups = rng.choice(divisors)
            out = groups * rng.randint(1, max(1, 12 // groups))
        else:
            groups, out = 1, rng.choice([c, rng.randint(1, 16), rng.randint(1, 32)])
        kernel = rng.choice([1, 3, 3, 5, 8, 10])
        stride = 1 if rng.random() < 0.65 else rng.choice([2, 3])
        dilation = 1 if rng.random() < 0.75 or kernel == 1 else rng.choice([2, 4])
        same = stride == 1 and rng.random() < 0.3
        p: Params = {"out": out, "groups": groups, "kernel": kernel, "stride": stride, "dilation": dilation,
                     "padding": "same" if same else rng.randint(0, kernel // 2), "bias": rng.random() < 0.75}
        if conv1d_infer([x], p) is not None:
            return p
    return None


def conv1d_render(shapes: list[Shape], p: Params, ins: list[str], attr: str) -> Rendered:
    conv = args(shapes[0][1], p["out"], kernel_size=p["kernel"], stride=p["stride"], padding=p["padding"],
                dilation=p["dilation"], groups=p["groups"], bias=p["bias"])
    return Rendered([f"self.{attr} = nn.Conv1d({conv})"], f"self.{attr}({ins[0]})")


def conv1d_forms(shapes: list[Shape], p: Params) -> list[str]:
    checks = {"pointwise": p["kernel"] == 1, "depthwise": p["groups"] == shapes[0][1] > 1,
              "grouped": 1 < p["groups"] < shapes[0][1], "stride": p["stride"] != 1,
              "dilation": p["dilation"] != 1, "same": p["padding"] == "same",
              "padding": p["padding"] not in ("same", 0), "no-bias": not p["bias"]}
    return [name for name, hit in checks.items() if hit]


def conv1d_shrink(p: Params) -> Iterator[Params]:
    if p["groups"] != 1:
        yield {**p, "groups": 1}
    yield from with_changes(p, kernel=1, stride=1, dilation=1, bias=False, padding=0)
    yield from with_changes(p, out=p["groups"])


pending(OpSpec("conv1d", conv1d_sample, conv1d_infer, conv1d_render, conv1d_forms, conv1d_shrink, weight=2.0),
        "Conv1d (padding='same', dilation, groups)")


def unbatched_infer(shapes: list[Shape], p: Params) -> Shape | None:
    (x,) = shapes
    if len(x) != 3:
        return None
    out = conv_infer([(1, *x)], p)
    return None if out is None else out[1:]


@unary(lambda s: len(s) == 3)
def unbatched_sample(rng: random.Random, x: Shape) -> Params | None:
    found = conv_sample(rng, [(1, *x)], 0)
    return None if found is None else {**found[1], "zeropad": None}


pending(OpSpec(
    "conv2d_unbatched", unbatched_sample, unbatched_infer,
    lambda shapes, p, ins, attr: conv_render([(1, *shapes[0])], p, ins, attr),
    lambda shapes, p: ["unbatched"], conv_shrink, weight=0.5,
), "unbatched inputs (a conv2d on a C x H x W tensor)")

# -- pads, upsampling, average pooling with a divisor ------------------------------------------------------------

PADS = {"zero": "nn.ZeroPad2d({pads})", "constant": "nn.ConstantPad2d({pads}, {value})",
        "reflect": "nn.ReflectionPad2d({pads})"}


@unary(lambda s: len(s) == 4)
def pad_sample(rng: random.Random, x: Shape) -> Params | None:
    mode = rng.choice(sorted(PADS))
    most = (x[3] - 1, x[3] - 1, x[2] - 1, x[2] - 1) if mode == "reflect" else (3, 3, 3, 3)
    pads = tuple(rng.randint(0, min(2, m)) for m in most)
    return {"mode": mode, "pads": pads, "value": rng.choice([0.5, -1.0, 2.0]),
            "style": rng.choice(["module", "function"])}


def pad_infer(shapes: list[Shape], p: Params) -> Shape | None:
    (x,) = shapes
    left, right, top, bottom = p["pads"]
    if len(x) != 4 or (p["mode"] == "reflect" and (max(left, right) >= x[3] or max(top, bottom) >= x[2])):
        return None
    return (x[0], x[1], x[2] + top + bottom, x[3] + left + right)


def pad_render(shapes: list[Shape], p: Params, ins: list[str], attr: str) -> Rendered:
    if p["style"] == "function":
        mode = {"zero": "constant", "constant": "constant", "reflect": "reflect"}[p["mode"]]
        value = f", value={p['value']}" if p["mode"] == "constant" else ""
        return Rendered([], f"nn.functional.pad({ins[0]}, {p['pads']!r}, mode={mode!r}{value})")
    return Rendered([f"self.{attr} = " + PADS[p["mode"]].format(pads=repr(p["pads"]), value=p["value"])],
                    f"self.{attr}({ins[0]})")


pending(OpSpec(
    "pad", pad_sample, pad_infer, pad_render,
    lambda shapes, p: [p["mode"], p["style"], *(["asymmetric"] if len(set(p["pads"])) > 1 else [])],
    lambda p: with_changes(p, mode="zero", style="module", pads=(1, 1, 1, 1)),
), "ZeroPad2d, ConstantPad2d, ReflectionPad2d on their own")


@unary(lambda s: len(s) == 4)
def upsample_sample(rng: random.Random, x: Shape) -> Params:
    return {"mode": rng.choice(["nearest", "bilinear"]), "scale": rng.choice([2, 2, 3]),
            "align": rng.random() < 0.3, "style": rng.choice(["module", "function"])}


def upsample_render(shapes: list[Shape], p: Params, ins: list[str], attr: str) -> Rendered:
    align = {"align_corners": p["align"]} if p["mode"] == "bilinear" else {}
    params = args(scale_factor=p["scale"], mode=p["mode"], **align)
    if p["style"] == "function":
        return Rendered([], f"nn.functional.interpolate({ins[0]}, {params})")
    return Rendered([f"self.{attr} = nn.Upsample({params})"], f"self.{attr}({ins[0]})")


pending(OpSpec(
    "upsample", upsample_sample,
    lambda shapes, p: (*shapes[0][:2], shapes[0][2] * p["scale"], shapes[0][3] * p["scale"])
    if len(shapes[0]) == 4 else None,
    upsample_render,
    lambda shapes, p: [p["mode"], p["style"], f"x{p['scale']}",
                       *(["align-corners"] if p["align"] and p["mode"] == "bilinear" else [])],
    lambda p: with_changes(p, mode="nearest", scale=2, align=False, style="module"),
), "Upsample / interpolate (nearest, bilinear)")


@unary(lambda s: len(s) == 4)
def divisor_sample(rng: random.Random, x: Shape) -> Params | None:
    k = (rng.randint(1, min(3, x[2])), rng.randint(1, min(3, x[3])))
    stride = rng.choice([None, (1, 1), (2, 2)])
    padding = (rng.randint(0, k[0] // 2), rng.randint(0, k[1] // 2))
    return {"kernel": k, "stride": stride, "padding": padding, "divisor": rng.choice([1, 2, 3, 7])}


def divisor_infer(shapes: list[Shape], p: Params) -> Shape | None:
    (x,) = shapes
    if len(x) != 4:
        return None
    k, s, pad = pair(p["kernel"]), pair(p["stride"] or p["kernel"]), pair(p["padding"])
    if any(2 * q > kk for q, kk in zip(pad, k, strict=True)):
        return None
    sizes = [pool_size(n, kk, ss, q, 1, False) for n, kk, ss, q in zip(x[2:], k, s, pad, strict=True)]
    return None if min(sizes) < 1 else (*x[:2], *sizes)


pending(OpSpec(
    "avg_pool2d_divisor", divisor_sample, divisor_infer,
    lambda shapes, p, ins, attr: Rendered(
        [f"self.{attr} = nn.AvgPool2d({args(p['kernel'], p['stride'], p['padding'], divisor_override=p['divisor'])})"],
        f"self.{attr}({ins[0]})"),
    lambda shapes, p: [f"divisor{p['divisor']}", *(["padding"] if any(p["padding"]) else [])],
    lambda p: with_changes(p, padding=(0, 0), stride=None, divisor=1), weight=0.5,
), "AvgPool2d(divisor_override=...)")

# -- slicing, select, chunk/split, reductions, permutations -------------------------------------------------------


@unary(lambda s: len(s) >= 2 and max(s[1:]) > 1)
def slice_sample(rng: random.Random, x: Shape) -> Params | None:
    dims = [d for d in range(1, len(x)) if x[d] > 1]
    dim = rng.choice(dims)
    start = rng.randrange(x[dim])
    stop = rng.randint(start + 1, x[dim])
    return {"dim": dim, "start": start, "stop": stop, "step": rng.choice([1, 1, 2])}


def slice_infer(shapes: list[Shape], p: Params) -> Shape | None:
    x = shapes[0]
    if p["dim"] >= len(x) or p["stop"] > x[p["dim"]]:
        return None
    size = len(range(p["start"], p["stop"], p["step"]))
    return (*x[: p["dim"]], size, *x[p["dim"] + 1 :])


pending(OpSpec(
    "slice", slice_sample, slice_infer,
    lambda shapes, p, ins, attr: Rendered(
        [], f"{ins[0]}[{':, ' * p['dim']}{p['start']}:{p['stop']}{':' + str(p['step']) if p['step'] != 1 else ''}]"),
    lambda shapes, p: [f"dim{p['dim']}", *(["step"] if p["step"] != 1 else [])],
    lambda p: with_changes(p, step=1, start=0), strided=lambda p: True,
), "slicing activations")


@unary(lambda s: len(s) >= 2)
def select_sample(rng: random.Random, x: Shape) -> Params:
    dim = rng.randrange(1, len(x))
    return {"dim": dim, "index": rng.randrange(x[dim]) - (x[dim] if rng.random() < 0.2 else 0),
            "style": rng.choice(["method", "index"])}


pending(OpSpec(
    "select", select_sample,
    lambda shapes, p: (*shapes[0][: p["dim"]], *shapes[0][p["dim"] + 1 :])
    if p["dim"] < len(shapes[0]) and -shapes[0][p["dim"]] <= p["index"] < shapes[0][p["dim"]] else None,
    lambda shapes, p, ins, attr: Rendered([], f"{ins[0]}.select({p['dim']}, {p['index']})" if p["style"] == "method"
                                          else f"{ins[0]}[{':, ' * p['dim']}{p['index']}]"),
    lambda shapes, p: [p["style"], f"dim{p['dim']}", *(["negative-index"] if p["index"] < 0 else [])],
    lambda p: with_changes(p, index=0, style="method"), strided=lambda p: True,
), "select")


@unary(lambda s: len(s) >= 2 and max(s[1:]) > 1)
def chunk_sample(rng: random.Random, x: Shape) -> Params:
    dim = rng.choice([d for d in range(1, len(x)) if x[d] > 1])
    parts = rng.randint(2, min(4, x[dim]))
    return {"dim": dim, "parts": parts, "pick": rng.randrange(parts), "style": rng.choice(["chunk", "split"])}


def chunk_infer(shapes: list[Shape], p: Params) -> Shape | None:
    x = shapes[0]
    if p["dim"] >= len(x):
        return None
    size = math.ceil(x[p["dim"]] / p["parts"])  # chunk's and split(size)'s piece size
    pieces = [min(size, x[p["dim"]] - start) for start in range(0, x[p["dim"]], size)]
    if p["pick"] >= len(pieces):
        return None
    return (*x[: p["dim"]], pieces[p["pick"]], *x[p["dim"] + 1 :])


def chunk_render(shapes: list[Shape], p: Params, ins: list[str], attr: str) -> Rendered:
    if p["style"] == "chunk":
        return Rendered([], f"torch.chunk({ins[0]}, {p['parts']}, dim={p['dim']})[{p['pick']}]")
    size = math.ceil(shapes[0][p["dim"]] / p["parts"])
    return Rendered([], f"torch.split({ins[0]}, {size}, dim={p['dim']})[{p['pick']}]")


pending(OpSpec(
    "chunk", chunk_sample, chunk_infer, chunk_render,
    lambda shapes, p: [p["style"], f"dim{p['dim']}", *(["last-piece"] if p["pick"] == p["parts"] - 1 else [])],
    lambda p: with_changes(p, pick=0, parts=2, style="chunk"), strided=lambda p: True,
), "chunk / split on activations")


@unary(lambda s: len(s) >= 2)
def reduce_sample(rng: random.Random, x: Shape) -> Params:
    axes = tuple(sorted(rng.sample(range(1, len(x)), rng.randint(1, len(x) - 1))))
    return {"op": rng.choice(["sum", "mean"]), "dims": axes, "keepdim": rng.random() < 0.5}


def reduce_infer(shapes: list[Shape], p: Params) -> Shape | None:
    x = shapes[0]
    if max(p["dims"]) >= len(x):
        return None
    return tuple(1 if d in p["dims"] else n for d, n in enumerate(x) if p["keepdim"] or d not in p["dims"])


pending(OpSpec(
    "reduce", reduce_sample, reduce_infer,
    lambda shapes, p, ins, attr: Rendered([], f"torch.{p['op']}({ins[0]}, dim={p['dims']!r}, keepdim={p['keepdim']})"),
    lambda shapes, p: [p["op"], f"{len(p['dims'])}-axes", *(["keepdim"] if p["keepdim"] else [])],
    lambda p: with_changes(p, keepdim=True, op="mean"),
), "torch.mean / torch.sum over any axes")


@unary(lambda s: len(s) >= 2)
def permute_sample(rng: random.Random, x: Shape) -> Params:
    rest = list(range(1, len(x)))
    rng.shuffle(rest)
    a, b = sorted(rng.sample(range(len(x)), 2))
    return {"perm": (0, *rest), "swap": (a, b), "style": rng.choice(["permute", "transpose", "transpose"])}


def permute_infer(shapes: list[Shape], p: Params) -> Shape | None:
    x = shapes[0]
    if p["style"] == "permute":
        return tuple(x[d] for d in p["perm"]) if len(p["perm"]) == len(x) else None
    a, b = p["swap"]
    if b >= len(x):
        return None
    y = list(x)
    y[a], y[b] = y[b], y[a]
    return tuple(y)


pending(OpSpec(
    "permute", permute_sample, permute_infer,
    lambda shapes, p, ins, attr: Rendered([], f"{ins[0]}.permute{p['perm']!r}" if p["style"] == "permute"
                                          else f"{ins[0]}.transpose{p['swap']!r}"),
    lambda shapes, p: [p["style"], *(["batch-axis"] if p["style"] == "transpose" and p["swap"][0] == 0 else [])],
    lambda p: with_changes(p, style="transpose", swap=(len(p["perm"]) - 2, len(p["perm"]) - 1)),
    strided=lambda p: True,
), "permute / transpose of activations")


def matmul_sample(rng: random.Random, shapes: list[Shape], first: int) -> tuple[tuple[int, ...], Params] | None:
    """`a @ b` of two activations where one fits (attention scores), else `a @ a.transpose(-2, -1)` (a Gram
    matrix), or `torch.bmm` for rank 3."""
    a = shapes[first]
    if len(a) < 2 or a[-2] * a[-2] * math.prod(a[:-2]) > 4096:
        return None
    fits = [j for j, b in enumerate(shapes) if len(b) == len(a) and b[:-2] == a[:-2] and b[-2] == a[-1]
            and j != first and math.prod(a[:-1]) * b[-1] <= 4096]
    style = rng.choice(["matmul", "bmm"]) if len(a) == 3 else "matmul"
    if fits and rng.random() < 0.7:
        return (first, rng.choice(fits)), {"style": style, "gram": False}
    return (first,), {"style": style, "gram": True}


def matmul_infer(shapes: list[Shape], p: Params) -> Shape | None:
    a = shapes[0]
    if len(a) < 2 or (p["style"] == "bmm" and len(a) != 3):
        return None
    b = (*a[:-2], a[-1], a[-2]) if p["gram"] else shapes[1]
    if len(b) != len(a) or b[:-2] != a[:-2] or b[-2] != a[-1]:
        return None
    return (*a[:-1], b[-1])


def matmul_render(shapes: list[Shape], p: Params, ins: list[str], attr: str) -> Rendered:
    other = f"{ins[0]}.transpose(-2, -1)" if p["gram"] else ins[1]
    if p["style"] == "bmm":
        return Rendered([], f"torch.bmm({ins[0]}, {other})")
    return Rendered([], f"torch.matmul({ins[0]}, {other})")


pending(OpSpec(
    "matmul", matmul_sample, matmul_infer, matmul_render,
    lambda shapes, p: [p["style"], "gram" if p["gram"] else "two-values", f"rank{len(shapes[0])}"],
    lambda p: with_changes(p, style="matmul"), weight=0.7,
), "matmul / bmm of two activations")

# -- recurrent layers ----------------------------------------------------------------------------------------------


@unary(lambda s: len(s) == 3 and s[-1] <= 64)
def rnn_sample(rng: random.Random, x: Shape) -> Params:
    return {"cell": rng.choice(["GRU", "LSTM"]), "hidden": rng.randint(1, 16), "layers": rng.choice([1, 1, 2]),
            "batch_first": rng.random() < 0.7, "bias": rng.random() < 0.8, "pick": rng.choice(["output", "state"])}


def rnn_infer(shapes: list[Shape], p: Params) -> Shape | None:
    x = shapes[0]
    if len(x) != 3:
        return None
    batch, steps = (x[0], x[1]) if p["batch_first"] else (x[1], x[0])
    if p["pick"] == "state":
        return (p["layers"], batch, p["hidden"])
    return (batch, steps, p["hidden"]) if p["batch_first"] else (steps, batch, p["hidden"])


def rnn_render(shapes: list[Shape], p: Params, ins: list[str], attr: str) -> Rendered:
    layer = args(shapes[0][-1], p["hidden"], num_layers=p["layers"], bias=p["bias"], batch_first=p["batch_first"])
    state = "[1]" if p["cell"] == "GRU" else "[1][0]"  # an LSTM's state is (h, c)
    return Rendered([f"self.{attr} = nn.{p['cell']}({layer})"],
                    f"self.{attr}({ins[0]}){'[0]' if p['pick'] == 'output' else state}")


pending(OpSpec(
    "rnn", rnn_sample, rnn_infer, rnn_render,
    lambda shapes, p: [p["cell"], p["pick"], *(["2-layers"] if p["layers"] == 2 else []),
                       "batch-first" if p["batch_first"] else "seq-first", *(["no-bias"] if not p["bias"] else [])],
    lambda p: with_changes(p, layers=1, bias=False, pick="output", hidden=1), weight=0.5,
), "GRU and LSTM with a static sequence length")

# -- the modules that import as nothing ---------------------------------------------------------------------------

IDENTITY_MODULES = ("nn.Identity()", "nn.Dropout(0.3)", "nn.Dropout2d(0.5)")  # the last on 4-d values only

pending(OpSpec(
    "identity_module", unary()(lambda rng, x: {"module": rng.choice(IDENTITY_MODULES[: 3 if len(x) == 4 else 2])}),
    _same,
    lambda shapes, p, ins, attr: Rendered([f"self.{attr} = {p['module']}"], f"self.{attr}({ins[0]})"),
    lambda shapes, p: [p["module"].split("(")[0]], weight=0.3,
), "Dropout / Identity modules (dropped)")

READY: tuple[str, ...] = (
    "elu", "gelu", "leaky_relu", "prelu", "layer_norm", "batch_norm_stats", "conv1d", "conv2d_unbatched", "pad",
    "upsample", "avg_pool2d_divisor", "slice", "select", "chunk", "reduce", "permute", "matmul", "rnn",
    "identity_module",
)
"""the entries whose op is merged: add a name here to let the generator draw it"""

for _name in READY:
    register(PENDING[_name][0])
