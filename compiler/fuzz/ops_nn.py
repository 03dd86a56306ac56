"""Op table entries for the layers with weights or windows: conv2d, linear, batch norm, pools, spatial mean.

Shapes follow PyTorch's own formulas (`torch/nn/modules/conv.py`, `aten/src/ATen/native/Pool.h`), and the
samplers draw only what PyTorch accepts and t2m documents as supported (no avg_pool2d ceil_mode that changes
the output size, no divisor_override): every generated graph is valid, so every refusal is a finding.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from t2m.compiler.fuzz.spec import OpSpec, Params, Rendered, Shape, args, pair, register, unary, with_changes

# -- conv2d ------------------------------------------------------------------------------------------------------


def _channels(c: int, p: Params) -> tuple[int, int] | None:
    """(output channels, groups) of a conv on `c` input channels, or None if the groups do not divide them."""
    groups, out = (c, c * p["mult"]) if p["groups"] == "depthwise" else (p["groups"], p["out"])
    return None if c % groups or out % groups else (out, groups)


def _conv_pads(p: Params) -> tuple[int, int, int, int]:
    """Total (top, left, bottom, right) padding, ZeroPad2d included."""
    kh, kw = p["kernel"]
    dh, dw = p["dilation"]
    if p["padding"] == "same":
        th, tw = dh * (kh - 1), dw * (kw - 1)
        pads = (th // 2, tw // 2, th - th // 2, tw - tw // 2)
    else:
        ph, pw = p["padding"]
        pads = (ph, pw, ph, pw)
    left, right, top, bottom = p["zeropad"] or (0, 0, 0, 0)
    return pads[0] + top, pads[1] + left, pads[2] + bottom, pads[3] + right


def conv_infer(shapes: list[Shape], p: Params) -> Shape | None:
    (x,) = shapes
    if len(x) != 4 or (channels := _channels(x[1], p)) is None:
        return None
    if p["padding"] == "same" and p["stride"] != (1, 1):
        return None  # PyTorch: padding='same' is not supported for strided convolutions
    top, left, bottom, right = _conv_pads(p)
    sizes = []
    for size, lo, hi, k, s, d in zip(x[2:], (top, left), (bottom, right), p["kernel"], p["stride"], p["dilation"],
                                     strict=True):
        sizes.append((size + lo + hi - d * (k - 1) - 1) // s + 1)
    return (x[0], channels[0], *sizes)


@unary(lambda s: len(s) == 4)
def conv_sample(rng: random.Random, x: Shape) -> Params | None:
    c = x[1]
    for _ in range(20):
        r = rng.random()
        divisors = [g for g in range(2, c) if c % g == 0]
        p: Params = {"groups": 1, "out": rng.choice([c, rng.randint(1, 16), rng.randint(1, 32)]), "mult": 1}
        if c > 1 and r < 0.25:
            p.update(groups="depthwise", out=None, mult=rng.choice([1, 1, 1, 2]))
        elif r < 0.4 and divisors:
            g = rng.choice(divisors)
            p.update(groups=g, out=g * rng.randint(1, max(1, 12 // g)))
        r = rng.random()
        kernel = (1, 1) if r < 0.25 else (k := rng.choice([2, 3, 3, 3, 5]), k) if r < 0.8 else (
            rng.randint(1, 5), rng.randint(1, 5))
        stride = (1, 1) if rng.random() < 0.65 else rng.choice([(2, 2), (3, 3), (1, 2), (2, 1)])
        dilation = (1, 1) if rng.random() < 0.8 or kernel == (1, 1) else rng.choice([(2, 2), (1, 2), (3, 3)])
        if stride == (1, 1) and rng.random() < 0.25:
            padding: str | tuple[int, int] = "same"
        else:
            extra = int(rng.random() < 0.2)
            padding = (rng.randint(0, kernel[0] // 2 + extra), rng.randint(0, kernel[1] // 2 + extra))
        zeropad = tuple(rng.randint(0, 2) for _ in range(4)) if rng.random() < 0.1 else None
        p["pad_style"] = rng.choice(["module", "function"])  # nn.ZeroPad2d or nn.functional.pad
        p.update(kernel=kernel, stride=stride, dilation=dilation, padding=padding, zeropad=zeropad,
                 bias=rng.random() < 0.75)
        if conv_infer([x], p) is not None:
            return p
    return None


def conv_render(shapes: list[Shape], p: Params, ins: list[str], attr: str) -> Rendered:
    c = shapes[0][1]
    out, groups = _channels(c, p) or (0, 0)
    padding = p["padding"] if p["padding"] == "same" else pair(p["padding"])
    conv = args(c, out, kernel_size=pair(p["kernel"]), stride=pair(p["stride"]), padding=padding,
                dilation=pair(p["dilation"]), groups=groups, bias=p["bias"])
    init = [f"self.{attr} = nn.Conv2d({conv})"]
    x = ins[0]
    if p["zeropad"] and p.get("pad_style") == "function":
        x = f"nn.functional.pad({x}, {tuple(p['zeropad'])!r})"
    elif p["zeropad"]:
        init.append(f"self.{attr}_pad = nn.ZeroPad2d({tuple(p['zeropad'])!r})")
        x = f"self.{attr}_pad({x})"
    return Rendered(init, f"self.{attr}({x})")


def conv_forms(shapes: list[Shape], p: Params) -> list[str]:
    checks = {
        "1x1": tuple(p["kernel"]) == (1, 1),
        "depthwise": p["groups"] == "depthwise",
        "channel-multiplier": p["groups"] == "depthwise" and p["mult"] > 1,
        "grouped": p["groups"] not in (1, "depthwise"),
        "stride": tuple(p["stride"]) != (1, 1),
        "dilation": tuple(p["dilation"]) != (1, 1),
        "same": p["padding"] == "same",
        "padding": p["padding"] != "same" and tuple(p["padding"]) != (0, 0),
        "zeropad": bool(p["zeropad"]),
        "functional-pad": bool(p["zeropad"]) and p.get("pad_style") == "function",
        "rect-kernel": p["kernel"][0] != p["kernel"][1],
        "no-bias": not p["bias"],
    }
    return [name for name, hit in checks.items() if hit]


def conv_shrink(p: Params) -> Iterator[Params]:
    if p["groups"] != 1:
        yield {**p, "groups": 1, "out": p["out"] or p["mult"]}
    yield from with_changes(p, mult=1, kernel=(1, 1), stride=(1, 1), dilation=(1, 1), zeropad=None, bias=False)
    if p["padding"] == "same" or tuple(p["padding"]) != (0, 0):
        yield {**p, "padding": (0, 0)}
    if p["out"]:
        yield from with_changes(p, out=1)
        yield from with_changes(p, out=max(1, p["out"] // 2))


register(OpSpec("conv2d", conv_sample, conv_infer, conv_render, conv_forms, conv_shrink, weight=4.0))

# -- linear ------------------------------------------------------------------------------------------------------


LINEAR_STYLES = {
    "module": "self.{attr}({x})",
    "functional": "nn.functional.linear({x}, self.{attr}_weight, {bias})",
    "matmul": "{x} @ self.{attr}_weight.t(){plus_bias}",
    "mm": "torch.mm({x}, self.{attr}_weight.t()){plus_bias}",  # rank 2 only, as the next
    "addmm": "torch.addmm({bias}, {x}, self.{attr}_weight.t())",
}
"""how a fully connected layer is written: each imports through another ATen op (linear, matmul, mm, addmm)"""


@unary(lambda s: 1 <= s[-1] <= 1024)
def linear_sample(rng: random.Random, x: Shape) -> Params | None:
    if len(x) != 2 and rng.random() < 0.7:
        return None
    style = rng.choice(["module", "module", "functional", "matmul"] + ["mm", "addmm"] * (len(x) == 2))
    return {"out": rng.choice([rng.randint(1, 16), rng.randint(1, 64)]), "bias": rng.random() < 0.8 or
            style == "addmm", "style": style}


def linear_infer(shapes: list[Shape], p: Params) -> Shape | None:
    x = shapes[0]
    if x[-1] > 1024 or (p["style"] in ("mm", "addmm") and len(x) != 2) or (p["style"] == "addmm" and not p["bias"]):
        return None
    return (*x[:-1], p["out"])


def linear_render(shapes: list[Shape], p: Params, ins: list[str], attr: str) -> Rendered:
    n_in, n_out = shapes[0][-1], p["out"]
    if p["style"] == "module":
        return Rendered([f"self.{attr} = nn.Linear({args(n_in, n_out, bias=p['bias'])})"], f"self.{attr}({ins[0]})")
    init = [f"self.{attr}_weight = nn.Parameter(torch.empty({n_out}, {n_in}))"]
    if p["bias"]:
        init.append(f"self.{attr}_bias = nn.Parameter(torch.empty({n_out}))")
    bias = f"self.{attr}_bias" if p["bias"] else "None"
    expr = LINEAR_STYLES[p["style"]].format(x=ins[0], attr=attr, bias=bias,
                                            plus_bias=f" + self.{attr}_bias" if p["bias"] else "")
    return Rendered(init, expr)


def linear_forms(shapes: list[Shape], p: Params) -> list[str]:
    checks = {f"rank{len(shapes[0])}": True, "no-bias": not p["bias"], "in-not-x4": shapes[0][-1] % 4 != 0,
              "out-not-x8": p["out"] % 8 != 0, p["style"]: True}
    return [name for name, hit in checks.items() if hit]


def linear_shrink(p: Params) -> Iterator[Params]:
    yield from with_changes(p, style="module")
    yield from with_changes(p, out=1, bias=p["style"] == "addmm")
    yield from with_changes(p, out=max(1, p["out"] // 2))


register(OpSpec("linear", linear_sample, linear_infer, linear_render, linear_forms, linear_shrink, weight=2.0))

# -- batch norm --------------------------------------------------------------------------------------------------


@unary(lambda s: 2 <= len(s) <= 4)
def bn_sample(rng: random.Random, x: Shape) -> Params:
    return {"eps": rng.choice([1e-5, 1e-5, 1e-3, 0.1]), "affine": rng.random() < 0.85}


def bn_render(shapes: list[Shape], p: Params, ins: list[str], attr: str) -> Rendered:
    kind = "BatchNorm2d" if len(shapes[0]) == 4 else "BatchNorm1d"
    return Rendered([f"self.{attr} = nn.{kind}({args(shapes[0][1], eps=p['eps'], affine=p['affine'])})"],
                    f"self.{attr}({ins[0]})")


register(OpSpec(
    "batch_norm", bn_sample, lambda shapes, p: shapes[0] if 2 <= len(shapes[0]) <= 4 else None, bn_render,
    lambda shapes, p: [f"rank{len(shapes[0])}", *(["no-affine"] if not p["affine"] else []),
                       *(["eps"] if p["eps"] != 1e-5 else [])],
    lambda p: with_changes(p, eps=1e-5, affine=True),
))
