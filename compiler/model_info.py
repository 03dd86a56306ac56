"""The model's description seen from Python: `ModelInfo`, read from the IR or from an object.

The description is IR (`#t2m.model` on the module, `#t2m.layer` on each layer function; dialects/t2m.py). This
module is its one encoder and one decoder outside the IR:
- `describe(module)` reads the attributes of a module at any stage after `bufferize`;
- `encode(info)` is the text the LLVM IR emitter writes into the object's `.comment` section (through
  `!llvm.ident`; non-allocated, so it costs no flash), and `read_from_object` decodes it, so `t2m-run model.o`
  needs nothing but the object to call the model and name its layers. A `.ll` file carries the same text: run
  through the host JIT, its compiled object is decoded the same way.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from xdsl.dialects import func, llvm
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Attribute

from t2m.compiler.errors import T2MError
from t2m.dialects.t2m import layer_of, model_of

META_PREFIX = "t2m-meta:"


def _dtype(inputs: Sequence[Attribute], outputs: Sequence[Attribute]) -> str:
    """The model's activation type: int8, float32, or mixed; int32 inputs (embedding indices) do not count."""
    types = [t for t in inputs if not (isinstance(t, TensorType) and str(t.get_element_type()) == "i32")]
    dtypes = {str(t.get_element_type()) for t in (*types, *outputs) if isinstance(t, TensorType)}
    return _DTYPES.get(dtypes.pop(), "float32") if len(dtypes) == 1 else "mixed"


@dataclass
class LayerInfo:
    symbol: str  # the layer's function in the object, e.g. kws_L03_conv2d
    op: str  # the nn op it came from, e.g. conv2d
    macs: int
    variant: str = ""  # the kernel variant its lowering emitted, when the op had a choice (e.g. simd2)


@dataclass
class ModelInfo:
    name: str
    inputs: list[list[int]]
    outputs: list[list[int]]
    dtype: str = "float32"
    layout: str = "NCHW"
    layers: list[LayerInfo] = field(default_factory=list[LayerInfo])
    arena_bytes: int = 0  # activation buffers: the planned arena, or the sum of static buffers
    live_bytes: list[int] = field(default_factory=list[int])  # activation bytes live while each layer runs
    arena_entry: bool = False  # plan-memory made `<name>_run_with_arena(..., uint8_t *arena)`
    quant: list[tuple[float, int]] = field(default_factory=list[tuple[float, int]])  # int8: (scale, zp) per I/O
    input_types: list[str] = field(default_factory=list[str])  # element type per input ("i32": embedding indices)

    @property
    def input_quant(self) -> list[tuple[float, int]]:
        return self.quant[: len(self.inputs)]

    @property
    def output_quant(self) -> list[tuple[float, int]]:
        return self.quant[len(self.inputs) :]

    @property
    def entry(self) -> str:
        return f"{self.name}_run"

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def input_sizes(self) -> list[int]:
        return [math.prod(s) for s in self.inputs]


_DTYPES = {"f32": "float32", "i8": "int8"}


def describe(module: ModuleOp, source: str = "the module") -> ModelInfo:
    """The description a module carries (after `bufferize`), or a one-line error naming what is missing."""
    model = model_of(module)
    if model is None:
        raise T2MError(
            f"{source} carries no t2m model description (#t2m.model)",
            source,
            "lower it with t2m-opt --lower (the bufferize pass records the model's entry point)",
        )
    shapes = [[list(t.get_shape()) for t in types.data] for types in (model.inputs, model.outputs)]
    layers = [
        LayerInfo(op.sym_name.data, layer.op_name, layer.mac_count, layer.variant_name)
        for op in module.ops
        if isinstance(op, func.FuncOp | llvm.FuncOp) and (layer := layer_of(op)) is not None
    ]
    return ModelInfo(
        model.model.data,
        shapes[0],
        shapes[1],
        dtype=_dtype(model.inputs.data, model.outputs.data),
        layout=model.layout.data,
        layers=layers,
        arena_bytes=model.arena.value.data,
        live_bytes=model.live_bytes,
        arena_entry=model.is_planned,
        quant=[q.values for q in model.quant.data],
        input_types=[str(t.get_element_type()) for t in model.inputs.data if isinstance(t, TensorType)],
    )


def describe_function(function: func.FuncOp) -> ModelInfo:
    """The interface of an nn-level model function (before `bufferize` records a `#t2m.model`): shapes, element
    type, and an int8 model's `qnn.quant` argument and result attributes."""
    from t2m.dialects.qnn import INDEX_QUANT, QuantAttr, io_quant

    inputs, outputs = function.function_type.inputs.data, function.function_type.outputs.data
    found = io_quant(function)
    quant = [q.values if isinstance(q, QuantAttr) else INDEX_QUANT for q in found]
    return ModelInfo(
        function.sym_name.data,
        [list(t.get_shape()) for t in inputs],  # type: ignore[attr-defined]
        [list(t.get_shape()) for t in outputs],  # type: ignore[attr-defined]
        dtype=_dtype(inputs, outputs),
        quant=quant if any(isinstance(q, QuantAttr) for q in found) else [],
        input_types=[str(t.get_element_type()) for t in function.function_type.inputs.data  # type: ignore[attr-defined]
                     ],
    )


def fit_inputs(
    inputs: Sequence[np.ndarray], shapes: Sequence[Sequence[int]], source: str, dtype: type = np.float32
) -> list[np.ndarray]:
    """The user's input arrays as the model's input buffers (float32, or int8 already quantized): as many as it
    takes, each with its number of values (any shape with that many values is taken row-major, as the C interface
    would)."""
    if len(inputs) != len(shapes):
        raise T2MError(f"{source} takes {len(shapes)} inputs, got {len(inputs)}", "--input", "pass one .npy per input")
    fitted = []
    for i, (x, shape) in enumerate(zip(inputs, shapes, strict=True)):
        if x.size != math.prod(shape):
            raise T2MError(
                f"input {i} has {x.size} values ({'x'.join(map(str, x.shape))}), the model takes "
                f"{math.prod(shape)} ({'x'.join(map(str, shape))})",
                "--input",
                "pass an array of the model's input shape",
            )
        fitted.append(np.ascontiguousarray(x, dtype=dtype).reshape(shape))
    return fitted


def quantize(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """float -> int8 as the quantize op of PT2E graphs (`quantized_decomposed.quantize_per_tensor`):
    round(x * (1 / scale)) in float32, half to even, plus the zero point, clamped to int8 (values beyond the range
    saturate; NaN gives the zero point). `torch.quantize_per_tensor` divides instead and can differ on exact ties."""
    inverse = np.float32(1.0 / scale)
    with np.errstate(invalid="ignore", over="ignore"):
        q = np.round(np.asarray(x, np.float32) * inverse) + np.float32(zero_point)
    return np.clip(np.nan_to_num(q, nan=zero_point), -128, 127).astype(np.int8)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """int8 -> float32: (q - zero_point) * scale, as PyTorch's `dequantize`."""
    return ((q.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)).astype(np.float32)


def model_inputs(inputs: Sequence[np.ndarray], info: ModelInfo, source: str) -> list[np.ndarray]:
    """The input buffers of `info`'s model from the user's arrays: float32 for a float model; for an int8 model,
    int8 arrays as they are and float arrays quantized with the input's scale and zero point (`quantize`)."""
    if info.dtype != "int8":
        if "i32" in info.input_types:
            return _with_indices(inputs, info, source)
        return fit_inputs(inputs, info.inputs, source)
    quantized = []
    for i, x in enumerate(inputs):
        if i < len(info.input_types) and info.input_types[i] == "i32":
            quantized.append(x)  # embedding indices: taken as they are (`_indices`)
            continue
        if x.dtype.kind == "f" and not info.input_quant:
            raise T2MError(
                f"input {i} is {x.dtype}, but the int8 model states no input scale (#qnn.quant) to quantize it with",
                "--input",
                "pass int8 values (an int8 .npy)",
            )
        if x.dtype.kind == "f":
            x = quantize(x, *info.input_quant[i])
        elif x.dtype != np.int8:
            raise T2MError(
                f"input {i} is {x.dtype}; the int8 model takes int8 values, or floats it quantizes with the input's "
                "scale and zero point",
                "--input",
                "save the input as float32 or int8",
            )
        quantized.append(x)
    return _with_indices(quantized, info, source, np.int8)


def _with_indices(inputs: Sequence[np.ndarray], info: ModelInfo, source: str, dtype: type = np.float32
                  ) -> list[np.ndarray]:
    """A model with int32 inputs (embedding indices): those take integer values (an integer array, or floats that
    are whole numbers, as `t2m-run --input` loads a .npy), as int32; the others are `dtype`."""
    fitted = fit_inputs(inputs, info.inputs, source, dtype)  # counts and sizes checked once
    for i, (x, kind) in enumerate(zip(inputs, info.input_types or [""] * len(inputs), strict=True)):
        if kind != "i32":
            continue
        whole = x.dtype.kind in "iu" or (x.dtype.kind == "f" and bool(np.all(np.isfinite(x) & (x == np.round(x)))))
        if not whole or (x.size and (x.min() < -(2**31) or x.max() >= 2**31)):
            raise T2MError(
                f"input {i} is {x.dtype} and not whole numbers in int32's range, but the model reads it as int32 "
                "indices",
                "--input",
                "save the indices as an integer .npy (int32 or int64)",
            )
        fitted[i] = np.ascontiguousarray(x, dtype=np.int32).reshape(info.inputs[i])
    return fitted


def buffer_dtype(info: ModelInfo) -> type:
    """The numpy type of the model's input and output buffers."""
    return np.int8 if info.dtype == "int8" else np.float32


def encode(info: ModelInfo) -> str:
    """The description as one line of text, as the object stores it."""
    return META_PREFIX + json.dumps(asdict(info), separators=(",", ":"))


def decode(text: str, source: str) -> ModelInfo:
    """The inverse of `encode`; malformed text is a one-line error naming the file."""
    try:
        data = json.loads(text.removeprefix(META_PREFIX))
        data["layers"] = [LayerInfo(**layer) for layer in data["layers"]]
        data["quant"] = [(float(s), int(z)) for s, z in data.get("quant", [])]
        info = ModelInfo(**data)
        _check(info)
        return info
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise T2MError(
            f"'{source}' has a malformed t2m model description ({type(e).__name__}: {e})",
            source,
            "rebuild it with t2m-compile or t2m-translate",
        ) from None


def _check(info: ModelInfo) -> None:
    """Types and ranges, so that a hand-edited description fails here and not deep inside a tool."""
    if not isinstance(info.name, str) or not info.name.isidentifier():
        raise ValueError(f"name {info.name!r} is not a C identifier")
    for key in ("inputs", "outputs"):
        shapes = getattr(info, key)
        if not isinstance(shapes, list) or not shapes or not all(
            isinstance(s, list) and all(isinstance(d, int) and d > 0 for d in s) for s in shapes
        ):
            raise ValueError(f"{key} must be a non-empty list of shapes (lists of positive integers)")
    for layer in info.layers:
        if (not isinstance(layer.symbol, str) or not isinstance(layer.macs, int) or layer.macs < 0
                or not isinstance(layer.variant, str)):
            raise ValueError(f"layer {layer} is malformed")
    if info.quant and len(info.quant) != len(info.inputs) + len(info.outputs):
        raise ValueError("quant needs one (scale, zero point) per input and output")
    for scale, zero_point in info.quant:
        if not (scale > 0 and math.isfinite(scale)) or not -128 <= zero_point <= 127:
            raise ValueError(f"quant ({scale}, {zero_point}) needs a positive scale and an int8 zero point")
    if not isinstance(info.arena_bytes, int) or info.arena_bytes < 0:
        raise ValueError(f"arena_bytes {info.arena_bytes!r} is not a byte count")


def read_from_object(obj: bytes, source: str) -> ModelInfo:
    """The description the emitter stored in an object's `.comment`, or a one-line error for other objects."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        section = ELFFile(io.BytesIO(obj)).get_section_by_name(".comment")
        data = section.data() if section is not None else b""
    except (ELFError, ValueError, OSError) as e:
        raise T2MError(
            f"'{source}' is not an ELF object ({e})", source, "pass an object written by t2m-compile or t2m-translate"
        ) from None
    for chunk in data.split(b"\0"):
        if chunk.startswith(META_PREFIX.encode()):
            return decode(chunk.decode("utf-8", "replace"), source)
    raise T2MError(
        f"'{source}' carries no t2m model description",
        source,
        "compile the model with t2m-compile or t2m-translate",
    )
