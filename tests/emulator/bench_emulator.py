"""Emulation speed of the three cycle models (run by hand: `.venv/bin/python tests/emulator/bench_emulator.py`).

Two workloads: a 4-instruction loop (the worst case for block hooks: one hook call per 4 instructions) and a
compiled 256×256 float dense layer (long unrolled blocks). Each emulator runs the workload once to warm up
(decoding, translation) before it is timed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from emu_helpers import MODES, snippet_object

from t2m.compiler.emulator import Emulator, compile_m4_object
from t2m.compiler.emulator.machine import Arg

LOOP = """
    movs r2, #0
    loop:
    ldr r3, [r0]
    adds r2, r2, r3
    subs r1, #1
    bne loop
    mov r0, r2
    bx lr
"""


def dense_ir(rows: int, cols: int) -> str:
    import test_emulator_programs as programs

    programs.M, programs.N = rows, cols
    rng = np.random.default_rng(0)
    return programs.dense_relu_ir(
        rng.standard_normal((rows, cols)).astype(np.float32), rng.standard_normal(rows).astype(np.float32)
    )


def measure(label: str, obj: bytes, symbol: str, args: Sequence[Arg], exact_args: Sequence[Arg]) -> None:
    for mode in MODES:
        emulator = Emulator(obj, mode=mode)
        call_args = exact_args if mode == "exact" else args
        emulator.call(symbol, call_args)
        start = time.perf_counter()
        result = emulator.call(symbol, call_args)
        seconds = time.perf_counter() - start
        rate = result.instructions / seconds / 1e6
        print(f"{label:28s} {mode:6s} {rate:8.2f} M instructions/s ({result.instructions:,} in {seconds:.3f} s)")


def main() -> None:
    loop = snippet_object(LOOP)
    one = np.array([1], np.int32)
    measure("loop, 4 instructions/block", loop, "snip", [one, 2_000_000], [one, 200_000])
    dense = compile_m4_object(dense_ir(256, 256))
    x, y = np.ones(256, np.float32), np.zeros(256, np.float32)
    measure("dense 256x256 float", dense, "net_run", [x, y], [x, y])


if __name__ == "__main__":
    main()
