"""The op table the fuzzer draws from: one `OpSpec` per op, registered by name.

An entry says everything the generator, the minimiser and the test writer need to know about one PyTorch op,
without any of them knowing the op: which input shapes it takes and how it picks its parameters (`sample`), the
shape it produces (`infer`, None when the parameters do not fit the inputs), the Python that builds it
(`render`), the parameter forms it covers (`forms`) and simpler variants of its parameters (`shrink`). New ops
(Conv1d, GELU, LayerNorm...) plug in as entries: `register(OpSpec(...))`; a mode other than fp32 (int8) lists the
entries it draws and the parameters it supports with `enable` (ops_int8.py).

Parameters that follow from the input shape (in_channels, in_features, a constant's broadcast shape) are not
stored but derived when the op is rendered, so the minimiser can shrink the input shape or drop a producer and
the graph stays valid wherever the op still fits.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

Shape = tuple[int, ...]
Params = dict[str, Any]


@dataclass(frozen=True)
class Rendered:
    """The Python for one node: lines for `__init__` (layers, constant buffers) and the expression in `forward`."""

    init: list[str]
    expr: str


Fits = Callable[[Params, list[str]], bool]
"""(params, the ops producing the inputs, "input" for the model's input) -> whether a mode supports the node"""

Sample = Callable[[random.Random, list[Shape], int], tuple[tuple[int, ...], Params] | None]
"""(rng, shapes of the values so far, the chosen first input) -> (input values, params), or None if the op does
not fit there."""


@dataclass(frozen=True)
class OpSpec:
    name: str
    sample: Sample
    infer: Callable[[list[Shape], Params], Shape | None]
    render: Callable[[list[Shape], Params, list[str], str], Rendered]
    """(input shapes, params, input expressions, this node's attribute name) -> Python"""
    forms: Callable[[list[Shape], Params], list[str]] = lambda shapes, params: []
    shrink: Callable[[Params], Iterator[Params]] = lambda params: iter(())
    weight: float = 1.0
    dtypes: dict[str, Fits] = field(default_factory=lambda: {"fp32": always})
    """the modes that draw this op, each with the parameters it supports"""
    strided: Callable[[Params], bool] = lambda params: False
    """whether the result may be a strided view of the input (a slice, a permute), which `.view` cannot reshape"""
    contiguous: Callable[[Params], bool] = lambda params: False
    """whether the op needs an input laid out in order (`x.view(...)`: PyTorch refuses a strided one)"""


def always(params: Params, producers: list[str]) -> bool:
    return True


OPS: dict[str, OpSpec] = {}


def register(spec: OpSpec) -> OpSpec:
    OPS[spec.name] = spec
    return spec


def enable(name: str, dtype: str, fits: Fits = always) -> None:
    """Let mode `dtype` draw op `name` where `fits` holds."""
    OPS[name] = replace(OPS[name], dtypes={**OPS[name].dtypes, dtype: fits})


def ops_for(dtype: str) -> list[OpSpec]:
    """The table entries a mode can generate, in registration order (the order is part of reproducibility)."""
    return [spec for spec in OPS.values() if dtype in spec.dtypes]


def unary(rank: Callable[[Shape], bool] = lambda s: True) -> Callable[[Callable[..., Params | None]], Sample]:
    """Lift `f(rng, shape) -> params` to a `Sample` of a one-input op that fits shapes where `rank` holds."""

    def lift(f: Callable[[random.Random, Shape], Params | None]) -> Sample:
        def sample(rng: random.Random, shapes: list[Shape], first: int) -> tuple[tuple[int, ...], Params] | None:
            if not rank(shapes[first]):
                return None
            params = f(rng, shapes[first])
            return None if params is None else ((first,), params)

        return sample

    return lift


def with_changes(params: Params, **changes: Any) -> Iterator[Params]:
    """`params` with each change applied alone, skipping changes that change nothing."""
    for key, value in changes.items():
        if params.get(key) != value:
            yield {**params, key: value}


def pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def args(*positional: Any, **keywords: Any) -> str:
    """`repr`-formatted call arguments: args(3, 4, bias=False) -> '3, 4, bias=False'."""
    return ", ".join([*(repr(a) for a in positional), *(f"{k}={v!r}" for k, v in keywords.items())])
