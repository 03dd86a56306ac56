"""Helpers shared by the emulator tests: objects from hand-written Thumb code, and runs in every cycle mode."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from m4asm import assemble

from t2m.compiler.emulator import CycleMode, Emulator, RunResult, compile_m4_object
from t2m.compiler.emulator.machine import Arg

MODES: tuple[CycleMode, ...] = ("native", "block", "exact")


def snippet_object(source: str, name: str = "snip", exports: Sequence[str] = ()) -> bytes:
    """A Cortex-M4 object whose section `.text.<name>` holds the assembled `source`.

    The code is a constant byte array placed in a text section (llvmlite cannot assemble ARM text); `name`
    labels offset 0 and each label in `exports` becomes a symbol reaching to the next one.
    """
    code, labels = assemble(source)
    bytes_ir = "".join(f"\\{b:02x}" for b in code)
    lines = [
        'target triple = "thumbv7em-none-eabihf"',
        f'@{name} = constant [{len(code)} x i8] c"{bytes_ir}", section ".text.{name}", align 4',
    ]
    offsets = sorted(labels[e] for e in exports) + [len(code)]
    for export in exports:
        start = labels[export]
        size = min(o for o in offsets if o > start) - start
        lines.append(f"@{export} = alias [{size} x i8], getelementptr (i8, ptr @{name}, i32 {start})")
    return compile_m4_object("\n".join(lines) + "\n", opt=0)


def _same(a: RunResult, b: RunResult) -> bool:
    outputs_equal = all(
        (x is None and y is None) or (x is not None and y is not None and np.array_equal(x, y))
        for x, y in zip(a.outputs, b.outputs, strict=True)
    )
    return (
        a.r0 == b.r0
        and a.cycles == b.cycles
        and a.instructions == b.instructions
        and a.functions == b.functions
        and a.stack_bytes == b.stack_bytes
        and outputs_equal
    )


def run_all_modes(obj: bytes, symbol: str, args: Sequence[Arg] = (), **options: Any) -> RunResult:
    """Run in the native, block and exact cycle models; they must agree on everything."""
    results = []
    for mode in MODES:
        fresh_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        results.append(Emulator(obj, mode=mode, **options).call(symbol, fresh_args))
    for mode, result in zip(MODES[1:], results[1:], strict=True):
        assert _same(results[0], result), f"{mode} mode disagrees with native mode:\n{result}\n{results[0]}"
    return results[0]
