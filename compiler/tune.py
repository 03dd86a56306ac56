"""`--tune`: pick each layer's kernel variant by measuring it on the emulated Cortex-M4 (docs/design.md §8).

The lowering patterns list the variants they can emit for an op (passes/_variants.py, the default first). For
each layer op of the fused module with more than one, the tuner builds the op alone in a model (its constant
operands cloned, the others made inputs), compiles that model for the Cortex-M4 once per variant, runs it on the
emulator with seeded inputs, and pins the variant with the fewest estimated cycles on the op (`t2m.variant`).
Speed may not be bought with unbounded code: a variant whose flash (code and constants) exceeds the default's by
more than `code_budget` bytes is measured and reported, never chosen.

Choices are cached per shape signature (the op, its operand and result types, its structural properties, the
variants on offer and the optimisation level; not its weights or scales, which do not change which kernel is
fastest) in a JSON file, so that a rebuild recompiles nothing: `$XDG_CACHE_HOME/t2m/tune.json`, else
`~/.cache/t2m/tune.json`, or the file `--tune-cache` names. Without `--tune` no search happens and every pattern
emits its default.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, IntegerType, ModuleOp, TensorType
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.irdl import IRDLOperation

from t2m.compiler.errors import T2MError
from t2m.dialects import nn, qnn
from t2m.dialects.t2m import VARIANT_KEY
from t2m.passes._variants import candidates, chosen, pin

CACHE_FORMAT = "t2m-tune/2"
CODE_BUDGET = 4096
"""Bytes of flash (code and constants) a variant may add to the default's and still be chosen."""


@dataclass
class Trial:
    """One variant of one layer, measured: estimated cycles, code and constant bytes (.text and .rodata of the
    single-layer object: the weights are the same in every variant, tables a variant adds are not)."""

    variant: str
    cycles: int
    text: int
    rodata: int = 0

    @property
    def flash(self) -> int:
        return self.text + self.rodata


@dataclass
class Choice:
    """What the tuner decided for one layer op."""

    op: str  # e.g. qnn.max_pool2d
    layer: str  # readable signature: op, operand types -> result types
    variant: str
    trials: list[Trial] = field(default_factory=list[Trial])
    cached: bool = False


def default_cache_path() -> Path:
    """`$XDG_CACHE_HOME/t2m/tune.json`, else `~/.cache/t2m/tune.json`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "t2m" / "tune.json"


class TuneCache:
    """The JSON file of choices: {"format": CACHE_FORMAT, "layers": {key: {"layer", "variant", "trials"}}}."""

    def __init__(self, path: Path):
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        if path.exists():
            self.entries = self._read()

    def _read(self) -> dict[str, dict[str, Any]]:
        hint = "delete it or pass another file with --tune-cache"
        if not self.path.is_file():
            raise T2MError("the tuning cache is not a regular file", str(self.path), "pass a file with --tune-cache")
        try:
            data = json.loads(self.path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise T2MError(f"the tuning cache is unreadable ({type(e).__name__})", str(self.path), hint) from None
        if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT or not isinstance(data.get("layers"), dict):
            raise T2MError(f"the tuning cache is not a {CACHE_FORMAT} file", str(self.path), hint)
        return data["layers"]

    def get(self, key: str) -> Choice | None:
        entry = self.entries.get(key)
        try:
            assert isinstance(entry, dict)
            trials = [Trial(str(t["variant"]), int(t["cycles"]), int(t["text"]), int(t["rodata"]))
                      for t in entry["trials"]]
            return Choice(str(entry["op"]), str(entry["layer"]), str(entry["variant"]), trials, cached=True)
        except (AssertionError, KeyError, TypeError, ValueError):
            return None  # absent, or an entry this version cannot read: measure again

    def put(self, key: str, choice: Choice) -> None:
        entry = asdict(choice)
        entry.pop("cached")
        self.entries[key] = entry
        self.dirty = True

    def save(self) -> None:
        """Write the file (atomically) when something was added."""
        if not self.dirty:
            return
        from t2m.compiler.files import write_output

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise T2MError(f"cannot create the tuning cache's folder ({e.strerror})", str(self.path.parent),
                           "pass a writable file with --tune-cache") from None
        write_output(self.path, json.dumps({"format": CACHE_FORMAT, "layers": self.entries}, indent=1) + "\n")
        self.dirty = False


# --- signatures and single-layer models ---------------------------------------------------------------------------


def _structural(attr: Attribute) -> bool:
    """Properties that shape the kernel (strides, padding, ranges, zero points), not quantization scales."""
    return not isinstance(attr, qnn.RequantAttr | qnn.QuantAttr)


def signature(op: Operation, variants: list[str], opt: str) -> tuple[str, str]:
    """(cache key, readable layer description) of an op's shape."""
    types = ", ".join(str(v.type) for v in op.operands)
    results = ", ".join(str(r.type) for r in op.results)
    layer = f"{op.name} ({types}) -> {results}"
    props = dict(op.properties) if isinstance(op, IRDLOperation) else {}
    props |= {k: v for k, v in op.attributes.items() if k != VARIANT_KEY}
    shape = sorted(f"{k}={v}" for k, v in props.items() if _structural(v))
    text = json.dumps([layer, shape, variants, opt])
    return hashlib.sha256(text.encode()).hexdigest()[:32], layer


def layer_ops(module: ModuleOp) -> Iterator[Operation]:
    """The nn and qnn ops of the model, in order."""
    for op in module.walk():
        if op.dialect_name() in ("nn", "qnn"):
            yield op


def _is_constant(value: SSAValue) -> bool:
    return isinstance(value.owner, nn.ConstantOp)


def layer_module(op: Operation, variant: str) -> ModuleOp:
    """The op alone in a model `tune`: constant operands cloned, every other operand an input; the variant pinned."""
    inputs = [v for v in dict.fromkeys(op.operands) if not _is_constant(v)]
    block = Block(arg_types=[v.type for v in inputs])
    mapping: dict[SSAValue, SSAValue] = dict(zip(inputs, block.args, strict=True))
    for value in dict.fromkeys(op.operands):
        if _is_constant(value):
            constant = value.owner.clone()  # pyright: ignore[reportAttributeAccessIssue]
            block.add_op(constant)
            mapping[value] = constant.results[0]
    new = op.clone(value_mapper=mapping)
    pin(new, variant)
    block.add_op(new)
    block.add_op(func.ReturnOp(*new.results))
    quant = DictionaryAttr({"qnn.quant": qnn.QuantAttr(1.0, 0)})

    def attrs(types: list[Attribute]) -> ArrayAttr[DictionaryAttr]:
        return ArrayAttr([quant if _is_int8(t) else DictionaryAttr({}) for t in types])

    arg_types, result_types = [v.type for v in inputs], [r.type for r in new.results]
    function = func.FuncOp("tune", (arg_types, result_types), Region(block), arg_attrs=attrs(arg_types),
                           res_attrs=attrs(result_types))
    return ModuleOp([function])


def _is_int8(t: Attribute) -> bool:
    return isinstance(t, TensorType) and t.get_element_type() == IntegerType(8)


# --- the tuner ----------------------------------------------------------------------------------------------------


class Tuner:
    """Measures and pins variants (see the module docstring). `compiles` counts single-layer compilations."""

    def __init__(self, cache: TuneCache | None, opt: str = "O2", code_budget: int = CODE_BUDGET):
        self.cache, self.opt, self.code_budget = cache, opt, code_budget
        self.compiles = 0
        self.seconds = 0.0

    def tune(self, module: ModuleOp) -> list[Choice]:
        """Pin a variant on every layer op that has a choice and no pin yet (a pin by hand stays)."""
        _load_lowerings()
        start = time.perf_counter()
        choices = []
        for op in list(layer_ops(module)):
            variants = candidates(op)
            if len(variants) < 2 or chosen(op) is not None:
                continue
            key, layer = signature(op, variants, self.opt)
            choice = self.cache.get(key) if self.cache is not None else None
            if choice is None or choice.variant not in variants:
                trials = [self.measure(op, v) for v in variants]
                choice = Choice(op.name, layer, self.pick(trials), trials)
                if self.cache is not None:
                    self.cache.put(key, choice)
            pin(op, choice.variant)
            choices.append(choice)
        if self.cache is not None:
            self.cache.save()
        self.seconds += time.perf_counter() - start
        return choices

    def pick(self, trials: list[Trial]) -> str:
        """The fewest cycles among the variants within the code budget of the default (the first); ties keep the
        earlier (the default first)."""
        limit = trials[0].flash + self.code_budget
        allowed = [t for t in trials if t.flash <= limit]
        return min(allowed, key=lambda t: t.cycles).variant

    def measure(self, op: Operation, variant: str) -> Trial:
        """Compile the op alone with this variant for the Cortex-M4 and run it on the emulator."""
        from t2m.compiler.compile import CompileOptions, compile_module
        from t2m.compiler.emulate import run_object

        self.compiles += 1
        module = layer_module(op, variant)
        result = compile_module(module, f"{op.name} ({variant})", CompileOptions(opt=self.opt, fuse=False, run=False))
        assert result.info is not None
        rng = np.random.default_rng(0)
        int8 = result.info.dtype == "int8"
        inputs = [rng.integers(-128, 128, s).astype(np.int8) if int8 else rng.standard_normal(s).astype(np.float32)
                  for s in result.info.inputs]
        run = run_object(result.obj, inputs, f"{op.name} ({variant})")
        return Trial(variant, run.cycles, result.sizes.get("text", 0), result.sizes.get("rodata", 0))


def _load_lowerings() -> None:
    """Import every lowering of the pipeline, so that each has registered its variants."""
    from t2m.compiler.pipeline import LOWER_NN
    from t2m.passes import get_all_passes

    passes = get_all_passes()
    for name in LOWER_NN:
        if name in passes:
            passes[name]()
