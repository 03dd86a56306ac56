"""Differential test: random Thumb programs priced by the block models must match the per-instruction model.

The programs mix the cases where the block model's run-time corrections matter: loads and stores around
block boundaries, IT blocks with predicated loads, forward conditional branches (taken or not, depending on
data), calls, and long straight runs that unicorn cuts into several translation blocks.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from emu_helpers import run_all_modes, snippet_object

_CONDS = ["eq", "ne", "hs", "lo", "hi", "ls", "ge", "lt", "gt", "le"]
_INVERSE = {"eq": "ne", "ne": "eq", "hs": "lo", "lo": "hs", "hi": "ls", "ls": "hi", "ge": "lt", "lt": "ge",
            "gt": "le", "le": "gt"}  # fmt: skip
_LOW = ["r1", "r2", "r3", "r4", "r5"]


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.lines: list[str] = []
        self.pending: list[tuple[str, int]] = []  # (label, chunks until it is placed)
        self.labels = 0

    def reg(self) -> str:
        return self.rng.choice(_LOW)

    def word(self) -> int:
        return 4 * self.rng.randrange(16)

    def chunk(self) -> None:
        self._place_labels()  # labels made by earlier chunks; a branch never targets its own chunk
        rng, r = self.rng, self.reg()
        kind = rng.choice(["ldr", "ldr", "str", "alu", "ldrd", "vfp", "it", "branch", "cbz", "call", "pad"])
        if kind == "ldr":
            self.lines.append(f"ldr {r}, [r0, #{self.word()}]")
        elif kind == "str":
            self.lines.append(f"str {r}, [r0, #{self.word()}]")
        elif kind == "alu":
            self.lines.append(f"adds {r}, {self.reg()}, #{rng.randrange(8)}")
        elif kind == "ldrd":
            self.lines.append(f"ldrd r2, r3, [r0, #{8 * rng.randrange(8)}]")
        elif kind == "vfp":
            self.lines += [f"vldr s0, [r0, #{self.word()}]", "vmla.f32 s1, s0, s0", f"vstr s1, [r0, #{self.word()}]"]
        elif kind == "it":
            self._it_block(r)
        elif kind == "branch":
            self.lines += [f"cmp {r}, #{rng.randrange(4)}", f"b{rng.choice(_CONDS)} {self._label()}"]
        elif kind == "cbz":
            self.lines.append(f"{rng.choice(['cbz', 'cbnz'])} {r}, {self._label()}")
        elif kind == "call":
            self.lines.append("bl helper")
        elif self.pending:  # no long runs while a branch is pending: cbz reaches only 126 bytes
            self.lines.append("nop")
        else:  # long straight runs: unicorn splits them into blocks that end without a branch
            filler = ["nop", f"ldr r6, [r0, #{self.word()}]", f"str r6, [r0, #{self.word()}]", "adds r6, r6, #1"]
            self.lines += [rng.choice(filler) for _ in range(rng.choice([1, 3, 200, 600]))]

    def _it_block(self, r: str) -> None:
        rng = self.rng
        cond = rng.choice(_CONDS)
        pattern = "".join(rng.choice("te") for _ in range(rng.randrange(4)))
        self.lines += [f"cmp {r}, #{rng.randrange(4)}", f"it{pattern} {cond}"]
        for letter in "t" + pattern:
            c = cond if letter == "t" else _INVERSE[cond]
            op = rng.choice(["mov", "ldr", "add"])
            if op == "mov":
                self.lines.append(f"mov{c} {self.reg()}, #{rng.randrange(4)}")
            elif op == "ldr":
                self.lines.append(f"ldr{c} {self.reg()}, [r0, #{self.word()}]")
            else:
                d = self.reg()
                self.lines.append(f"add{c} {d}, {d}, #1")

    def _label(self) -> str:
        self.labels += 1
        label = f"L{self.labels}"
        self.pending.append((label, self.rng.randrange(1, 3)))
        return label

    def _place_labels(self) -> None:
        remaining = []
        for label, distance in self.pending:
            if distance <= 0:
                self.lines.append(f"{label}:")
            else:
                remaining.append((label, distance - 1))
        self.pending = remaining

    def program(self) -> str:
        self.lines = ["push {r4, r5, r6, r7, lr}", "mov r7, r1", "top:"]
        for _ in range(self.rng.randrange(5, 25)):
            self.chunk()
        self.lines += ["nop"] + [f"{label}:" for label, _ in self.pending]
        self.lines += ["subs r7, #1", "bne.w top", "mov r0, r2", "pop {r4, r5, r6, r7, pc}"]
        self.lines += ["helper:", "ldr r6, [r0]", "ldr r6, [r0, #4]", "adds r2, r2, #1", "bx lr"]
        return "\n".join(self.lines) + "\n"


@pytest.mark.parametrize("seed", range(40))
def test_random_programs_agree_in_all_cycle_modes(seed: int) -> None:
    source = _Generator(seed).program()
    data = np.random.default_rng(seed).integers(0, 4, 16).astype(np.int32)
    result = run_all_modes(snippet_object(source, exports=["helper"]), "snip", [data, 1 + seed % 4])
    assert result.cycles >= result.instructions > 0
