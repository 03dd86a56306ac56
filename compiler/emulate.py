"""Run a compiled t2m model on the emulated Cortex-M4 and attribute estimated cycles to its layers."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from t2m.compiler.emulator import RunResult, run_function
from t2m.compiler.errors import T2MError
from t2m.compiler.model_info import ModelInfo, buffer_dtype, model_inputs, read_from_object

STACK_BYTES = 64 << 10


@dataclass
class LayerCost:
    symbol: str
    op: str
    macs: int
    cycles: int
    instructions: int

    @property
    def macs_per_cycle(self) -> float:
        return self.macs / self.cycles if self.cycles else 0.0


@dataclass
class ObjectRun:
    info: ModelInfo
    outputs: list[np.ndarray]
    result: RunResult
    layers: list[LayerCost]

    @property
    def cycles(self) -> int:
        return self.result.cycles


def _sram_size(info: ModelInfo) -> int:
    io = sum(math.prod(s) * 4 for s in info.inputs + info.outputs)
    needed = info.arena_bytes + io + STACK_BYTES + (64 << 10)
    return 1 << max(19, math.ceil(math.log2(needed)))  # a power of two, at least 512 KiB


def run_object(obj: bytes, inputs: list[np.ndarray], source: str = "model.o") -> ObjectRun:
    """Call `<name>_run` with `inputs` and fresh output buffers; outputs, cycles and the per-layer table. An int8
    model takes int8 inputs (float inputs are quantized with its input scale) and gives int8 outputs."""
    info = read_from_object(obj, source)
    dtype = buffer_dtype(info)
    buffers = model_inputs(inputs, info, f"'{source}'")
    buffers += [np.zeros(shape, dtype) for shape in info.outputs]
    result = run_function(obj, info.entry, buffers, name=source, sram_size=_sram_size(info), stack_size=STACK_BYTES)
    if result.value != 0:
        raise T2MError(f"{info.entry} returned {result.value}", source, "the model reported an error")
    outputs = []
    for raw, shape in zip(result.outputs[len(inputs) :], info.outputs, strict=True):
        assert raw is not None
        outputs.append(
            np.frombuffer(bytes(raw) if not isinstance(raw, np.ndarray) else raw.tobytes(), dtype).reshape(shape)
        )
    layers = []
    for layer in info.layers:
        cost = result.functions.get(layer.symbol)
        layers.append(
            LayerCost(layer.symbol, layer.op, layer.macs, cost.cycles if cost else 0, cost.instructions if cost else 0)
        )
    return ObjectRun(info, outputs, result, layers)
