"""Run a compiled t2m model on the emulated Cortex-M4 and attribute estimated cycles to its layers."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from t2m.compiler.emulator import InstructionLimitError, RunResult, run_function
from t2m.compiler.errors import T2MError
from t2m.compiler.model_info import ModelInfo, buffer_dtype, model_inputs, read_from_object

STACK_BYTES = 64 << 10
MAX_INSTRUCTIONS = 500_000_000
"""the emulator's default instruction budget (`--max-instructions`): 5 s at ~100 M instructions/s"""


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


def run_object(
    obj: bytes,
    inputs: list[np.ndarray],
    source: str = "model.o",
    max_instructions: int = MAX_INSTRUCTIONS,
    other_way: str = "",
) -> ObjectRun:
    """Call `<name>_run` with `inputs` and fresh output buffers; outputs, cycles and the per-layer table. An int8
    model takes int8 inputs (float inputs are quantized with its input scale) and gives int8 outputs.

    A run that uses up `max_instructions` is an error naming `--max-instructions`, the option of every tool that
    runs the emulator; `other_way` adds the tool's other way out (t2m-compile: `--no-run`)."""
    info = read_from_object(obj, source)
    dtype = buffer_dtype(info)
    buffers = model_inputs(inputs, info, f"'{source}'")
    buffers += [np.zeros(shape, dtype) for shape in info.outputs]
    try:
        result = run_function(obj, info.entry, buffers, name=source, sram_size=_sram_size(info),
                              stack_size=STACK_BYTES, max_instructions=max_instructions)
    except InstructionLimitError as e:
        raise T2MError(
            f"the emulated Cortex-M4 stopped '{source}' after {e.limit:,} instructions, in {e.where}"
            + (f"; the model has {info.macs:,} MACs" if info.macs else ""),
            "--max-instructions",
            "raise --max-instructions if it needs that many (a few per MAC)" + (f", {other_way}" if other_way else "")
            + "; a model that never ends is a t2m bug: please report it",
        ) from None
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
