"""What a compiled model looks like from outside: its entry point, I/O shapes, layers and memory.

Collected from the nn module (inputs/outputs) and the loop-level module (one function per layer, with its MACs),
written into the object's `.comment` section (non-allocated: no flash cost) as `t2m-meta:{json}`, so `t2m-run`
needs nothing but the `.o` to call the model and name its layers.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field

from xdsl.dialects import func, memref
from xdsl.dialects.builtin import IntegerAttr, MemRefType, ModuleOp, TensorType

from t2m.compiler.errors import T2MError
from t2m.passes.plan_memory import lifetimes, memref_bytes

META_PREFIX = "t2m-meta:"


@dataclass
class LayerInfo:
    symbol: str  # the layer's function in the object, e.g. kws_L03_conv2d
    op: str  # the nn op it came from, e.g. conv2d
    macs: int


@dataclass
class ModelInfo:
    name: str
    inputs: list[list[int]]
    outputs: list[list[int]]
    dtype: str = "float32"
    layout: str = "NCHW"
    layers: list[LayerInfo] = field(default_factory=list[LayerInfo])
    arena_bytes: int = 0  # static activation buffers (.bss)
    live_bytes: list[int] = field(default_factory=list[int])  # activation bytes live while each layer runs
    arena_entry: bool = False  # plan-memory made `<name>_run_with_arena(..., uint8_t *arena)`

    @property
    def entry(self) -> str:
        return f"{self.name}_run"

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> ModelInfo:
        data = json.loads(text)
        data["layers"] = [LayerInfo(**layer) for layer in data["layers"]]
        return ModelInfo(**data)


def _shape(type: object) -> list[int]:
    assert isinstance(type, TensorType | MemRefType)
    return list(type.get_shape())


def nn_signature(module: ModuleOp) -> tuple[str, list[list[int]], list[list[int]]]:
    """(name, input shapes, output shapes) of the nn module's model function."""
    from t2m.compiler.interpreter import entry_function

    function = entry_function(module)
    kind = function.function_type
    return function.sym_name.data, [_shape(t) for t in kind.inputs], [_shape(t) for t in kind.outputs]


def collect(nn_module: ModuleOp, loop_module: ModuleOp) -> ModelInfo:
    """The model's interface from the nn module, its layers and buffers from the loop-level module."""
    name, inputs, outputs = nn_signature(nn_module)
    info = ModelInfo(name, inputs, outputs)
    body = f"{name}_run"
    allocated = 0
    for op in loop_module.walk():
        if isinstance(op, func.FuncOp) and "t2m.layer" in op.attributes:
            macs = op.attributes.get("t2m.macs")
            symbol = op.sym_name.data
            kind = symbol.split("_L", 1)[1].split("_", 1)[1] if "_L" in symbol else symbol
            info.layers.append(LayerInfo(symbol, kind, macs.value.data if isinstance(macs, IntegerAttr) else 0))
        elif isinstance(op, func.FuncOp) and isinstance(arena := op.attributes.get("t2m.arena_bytes"), IntegerAttr):
            info.arena_bytes, body, info.arena_entry = arena.value.data, op.sym_name.data, True  # plan-memory
        elif isinstance(op, memref.AllocOp):
            allocated += memref_bytes(op.memref.type)
    info.arena_bytes = info.arena_bytes or allocated
    info.live_bytes = _live_bytes(loop_module, body)
    return info


def _live_bytes(module: ModuleOp, entry: str) -> list[int]:
    """Bytes of activation buffers live during each layer call of `entry` (plan-memory's lifetime analysis)."""
    run = next((op for op in module.ops if isinstance(op, func.FuncOp) and op.sym_name.data == entry), None)
    if run is None:
        return []
    buffers, calls = lifetimes(run.body.block)
    return [sum(b.size for b in buffers if b.first <= i <= b.last) for i in range(calls)]


def llvm_ident(info: ModelInfo) -> str:
    """LLVM IR lines that put the metadata into the object's `.comment` section."""
    text = (META_PREFIX + info.to_json()).replace("\\", "\\5C").replace('"', "\\22")
    return f'\n!llvm.ident = !{{!9999}}\n!9999 = !{{!"{text}"}}\n'


def read_from_object(obj: bytes, source: str) -> ModelInfo:
    """The metadata t2m-compile stored in an object, or a one-line error for an object t2m did not make."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        section = ELFFile(io.BytesIO(obj)).get_section_by_name(".comment")
    except ELFError as e:
        raise T2MError(f"'{source}' is not an ELF object ({e})", source, "pass an object written by t2m-compile") from e
    data = section.data() if section is not None else b""
    for chunk in data.split(b"\0"):
        if chunk.startswith(META_PREFIX.encode()):
            return ModelInfo.from_json(chunk[len(META_PREFIX) :].decode())
    raise T2MError(f"'{source}' carries no t2m model description", source, "compile the model with t2m-compile")
