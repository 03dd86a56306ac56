"""Op table entries for activations (module and functional spellings, hand-written compositions) and softmax.

Activations follow conv/linear/add often in generated graphs, which is where `fuse-activation` moves them into
the producer; the compositions (x * sigmoid(x), x * relu6(x + 3) / 6) are what models write by hand instead of
nn.SiLU / nn.Hardswish, and import as different nn op sequences.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from t2m.compiler.fuzz.spec import OpSpec, Params, Rendered, Shape, args, register, unary, with_changes


def _same(shapes: list[Shape], p: Params) -> Shape | None:
    return shapes[0]


def _style_forms(shapes: list[Shape], p: Params) -> list[str]:
    return [p["style"]]


def _style_shrink(p: Params) -> Iterator[Params]:
    return with_changes(p, style="module")


def activation(name: str, module: str, function: str, inplace: bool = True, weight: float = 1.0) -> OpSpec:
    """A parameterless activation written as `nn.<module>()`, `<function>(x)` or, if the module has an in-place
    form, `nn.<module>(inplace=True)` (which overwrites its input: later readers of it see the result)."""

    def render(shapes: list[Shape], p: Params, ins: list[str], attr: str) -> Rendered:
        if p["style"] == "function":
            return Rendered([], f"{function}({ins[0]})")
        flag = "inplace=True" if p["style"] == "inplace" else ""
        return Rendered([f"self.{attr} = nn.{module}({flag})"], f"self.{attr}({ins[0]})")

    styles = ["module", "function", *(["inplace"] if inplace else [])]
    sample = unary()(lambda rng, x: {"style": rng.choice(styles)})
    return register(OpSpec(name, sample, _same, render, _style_forms, _style_shrink, weight=weight))


activation("relu", "ReLU", "torch.relu", weight=1.5)
activation("relu6", "ReLU6", "nn.functional.relu6")
activation("sigmoid", "Sigmoid", "torch.sigmoid", inplace=False)
activation("tanh", "Tanh", "torch.tanh", inplace=False)
activation("hardswish", "Hardswish", "nn.functional.hardswish")
activation("hardsigmoid", "Hardsigmoid", "nn.functional.hardsigmoid", weight=0.5)
activation("silu", "SiLU", "nn.functional.silu")

# -- bounded: hardtanh and clamp ---------------------------------------------------------------------------------


def _bound(rng: random.Random, lo: float, hi: float) -> float:
    return round(rng.uniform(lo, hi), 2)


@unary()
def hardtanh_sample(rng: random.Random, x: Shape) -> Params:
    if rng.random() < 0.4:
        return {"min": -1.0, "max": 1.0}
    lo = _bound(rng, -3, 0.5)
    return {"min": lo, "max": round(lo + _bound(rng, 0.1, 3), 2)}


register(OpSpec(
    "hardtanh", hardtanh_sample, _same,
    lambda shapes, p, ins, attr: Rendered([f"self.{attr} = nn.Hardtanh({args(p['min'], p['max'])})"],
                                          f"self.{attr}({ins[0]})"),
    lambda shapes, p: ["default"] if (p["min"], p["max"]) == (-1.0, 1.0) else ["bounds"],
    lambda p: with_changes(p, min=-1.0, max=1.0), weight=0.5,
))


@unary()
def clamp_sample(rng: random.Random, x: Shape) -> Params:
    r = rng.random()
    lo, hi = _bound(rng, -2, 1), None
    if r < 0.3:
        return {"min": lo, "max": None}
    if r < 0.5:
        return {"min": None, "max": _bound(rng, -1, 2)}
    if r < 0.55:
        return {"min": lo, "max": lo}  # PyTorch: every element becomes that value
    if r < 0.6:
        return {"min": lo, "max": round(lo - _bound(rng, 0.1, 1), 2)}  # min > max: every element becomes max
    hi = round(lo + _bound(rng, 0, 3), 2)
    return {"min": lo, "max": hi}


def clamp_forms(shapes: list[Shape], p: Params) -> list[str]:
    if p["min"] is None or p["max"] is None:
        return ["min-only" if p["max"] is None else "max-only"]
    return ["equal" if p["min"] == p["max"] else "inverted" if p["min"] > p["max"] else "both"]


register(OpSpec(
    "clamp", clamp_sample, _same,
    lambda shapes, p, ins, attr: Rendered([], f"torch.clamp({ins[0]}, {args(min=p['min'], max=p['max'])})"),
    clamp_forms, lambda p: with_changes(p, min=None, max=None) if p["min"] is not None and p["max"] is not None
    else iter(()),
))

# -- hand-written compositions -----------------------------------------------------------------------------------

COMPOSITIONS = {
    "silu": "{x} * torch.sigmoid({x})",
    "hardswish": "{x} * nn.functional.relu6({x} + 3) / 6",
    "hardsigmoid": "nn.functional.relu6({x} + 3) / 6",
    "hardswish-clamp": "{x} * torch.clamp({x} + 3, 0, 6) / 6",
}

register(OpSpec(
    "composition", unary()(lambda rng, x: {"formula": rng.choice(sorted(COMPOSITIONS))}), _same,
    lambda shapes, p, ins, attr: Rendered([], COMPOSITIONS[p["formula"]].format(x=ins[0])),
    lambda shapes, p: [p["formula"]], weight=0.7,
))

# -- softmax -----------------------------------------------------------------------------------------------------


def softmax(name: str, module: str) -> OpSpec:
    def sample(rng: random.Random, x: Shape) -> Params:
        dim = 1 if len(x) > 1 and rng.random() < 0.4 else rng.randrange(len(x))
        if rng.random() < 0.3:
            dim -= len(x)
        return {"dim": dim, "style": rng.choice(["module", "function"])}

    def render(shapes: list[Shape], p: Params, ins: list[str], attr: str) -> Rendered:
        if p["style"] == "module":
            return Rendered([f"self.{attr} = nn.{module}(dim={p['dim']})"], f"self.{attr}({ins[0]})")
        return Rendered([], f"torch.{name}({ins[0]}, dim={p['dim']})")

    def forms(shapes: list[Shape], p: Params) -> list[str]:
        rank = len(shapes[0])
        return [f"dim{p['dim'] % rank}/{rank}", *(["negative-dim"] if p["dim"] < 0 else [])]

    return register(OpSpec(
        name, unary()(sample),
        lambda shapes, p: shapes[0] if -len(shapes[0]) <= p["dim"] < len(shapes[0]) else None,
        render, forms, _style_shrink, weight=0.7,
    ))


softmax("softmax", "Softmax")
softmax("log_softmax", "LogSoftmax")

IDENTITIES = {
    "dropout": "nn.functional.dropout({x}, 0.5, training=False)",
    "full-slice": "{x}[:]",
    "contiguous": "{x}.contiguous()",
    "clone": "{x}.clone()",
    "detach": "{x}.detach()",
    "to-float32": "{x}.to(torch.float32)",
    "float": "{x}.float()",
}
"""ways of writing the identity, each imported by a handler of its own"""

register(OpSpec(
    "identity", unary()(lambda rng, x: {"form": rng.choice(sorted(IDENTITIES))}), _same,
    lambda shapes, p, ins, attr: Rendered([], IDENTITIES[p["form"]].format(x=ins[0])),
    lambda shapes, p: [p["form"]], weight=0.3,
))
