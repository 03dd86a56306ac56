"""The estimated-cycle model on hand-written Thumb snippets: each expected count follows from m4-timing.md.

Every snippet ends with `bx lr` (a taken branch: 3 cycles). Each case runs in the native, block and exact
models, which must agree exactly (run_all_modes asserts it).
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from emu_helpers import run_all_modes, snippet_object


def f32(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def as_f32(word: int) -> float:
    return struct.unpack("<f", struct.pack("<I", word))[0]


WORDS = np.arange(1, 17, dtype=np.int32) * 10  # a buffer for loads: [10, 20, 30, ...]

CASES = {
    # name: (source, args, cycles, instructions)
    "three pipelined loads": (
        """
        ldr r1, [r0]
        ldr r2, [r0, #4]
        ldr r3, [r0, #8]
        bx lr
        """,
        [WORDS], 2 + 1 + 1 + 3, 4,
    ),
    "loads separated by an add": (
        """
        ldr r1, [r0]
        adds r1, r1, #1
        ldr r2, [r0, #4]
        bx lr
        """,
        [WORDS], 2 + 1 + 2 + 3, 4,
    ),
    "store then load pipelines": (
        """
        str r1, [r0]
        ldr r2, [r0, #4]
        bx lr
        """,
        [WORDS], 1 + 1 + 3, 3,
    ),
    "ldrd costs 3 and does not pipeline the next load": (
        """
        ldrd r2, r3, [r0]
        ldr r1, [r0, #8]
        bx lr
        """,
        [WORDS], 3 + 2 + 3, 3,
    ),
    "strd costs 3": (
        """
        strd r2, r3, [r0, #8]
        bx lr
        """,
        [WORDS], 3 + 3, 2,
    ),
    "branch taken": (
        """
        cmp r0, #0
        beq skip
        adds r1, r1, #1
        skip:
        bx lr
        """,
        [0], 1 + 3 + 3, 3,
    ),
    "branch not taken": (
        """
        cmp r0, #0
        beq skip
        adds r1, r1, #1
        skip:
        bx lr
        """,
        [1], 1 + 1 + 1 + 3, 4,
    ),
    "cbz taken and cbnz not taken": (
        """
        cbnz r0, out
        cbz r0, out
        nop
        out:
        bx lr
        """,
        [0], 1 + 3 + 3, 3,
    ),
    "push and pop with pc": (
        """
        push {r4, r5, lr}
        movs r4, #1
        pop {r4, r5, pc}
        """,
        [], (1 + 3) + 1 + (1 + 3 + 2), 3,
    ),
    "wide pop with pc": (
        """
        push.w {r4, r5, r6, r7, r8, lr}
        pop.w {r4, r5, r6, r7, r8, pc}
        """,
        [], (1 + 6) + (1 + 6 + 2), 2,
    ),
    "ldm and stm": (
        """
        ldm r0!, {r1, r2, r3}
        stm r0!, {r1, r2}
        bx lr
        """,
        [WORDS], (1 + 3) + (1 + 2) + 3, 3,
    ),
    "ldr to pc is a load plus a refill": (
        """
        ldr.w pc, [r0]
        """,
        "return-pointer", 2 + 2, 1,
    ),
    "mla and mls cost 2, mul 1": (
        """
        mla r0, r1, r2, r3
        mls r0, r0, r2, r3
        mul r0, r0, r1
        bx lr
        """,
        [1, 2, 3, 4], 2 + 2 + 1 + 3, 4,
    ),
    "smlad and smlabb cost 1": (
        """
        smlad r0, r1, r2, r3
        smlabb r0, r1, r2, r0
        bx lr
        """,
        [0, 0x0003_0002, 0x0005_0004, 100], 1 + 1 + 3, 3,
    ),
    "sdiv and udiv cost 7": (
        """
        sdiv r0, r0, r1
        udiv r2, r2, r1
        bx lr
        """,
        [-7 & 0xFFFF_FFFF, 2], 7 + 7 + 3, 3,
    ),
    "vmla costs 3": (
        """
        vmov s0, r0
        vmov s1, r1
        vmov s2, r2
        vmla.f32 s0, s1, s2
        vmov r0, s0
        bx lr
        """,
        [f32(1.5), f32(2.0), f32(4.0)], 1 + 1 + 1 + 3 + 1 + 3, 6,
    ),
    "vfma family costs 3": (
        """
        vfma.f32 s0, s1, s2
        vfms.f32 s0, s1, s2
        vnmls.f32 s0, s1, s2
        vfnma.f32 s0, s1, s2
        bx lr
        """,
        [], 3 * 4 + 3, 5,
    ),
    "vdiv and vsqrt cost 14": (
        """
        vmov s1, r0
        vmov s2, r1
        vdiv.f32 s0, s1, s2
        vsqrt.f32 s0, s0
        vmov r0, s0
        bx lr
        """,
        [f32(18.0), f32(2.0)], 1 + 1 + 14 + 14 + 1 + 3, 6,
    ),
    "vadd vmul vsub cost 1": (
        """
        vadd.f32 s0, s1, s2
        vmul.f32 s0, s0, s2
        vsub.f32 s0, s0, s1
        vnmul.f32 s3, s0, s1
        bx lr
        """,
        [], 4 + 3, 5,
    ),
    "vldr pipelines like ldr, vstr costs 2": (
        """
        vldr s0, [r0]
        vldr s1, [r0, #4]
        ldr r1, [r0, #8]
        vstr s0, [r0, #12]
        vldr s2, [r0, #16]
        bx lr
        """,
        [WORDS], 2 + 1 + 1 + 2 + 1 + 3, 6,
    ),
    "vpush and vpop count words": (
        """
        vpush {s16, s17, s18}
        vpop {s16, s17, s18}
        bx lr
        """,
        [], (1 + 3) + (1 + 3) + 3, 3,
    ),
    "it block: both arms cost their cycles": (
        """
        cmp r0, #0
        ite eq
        moveq r1, #1
        movne r1, #2
        mov r0, r1
        bx lr
        """,
        [0], 1 + 1 + 1 + 1 + 1 + 3, 6,
    ),
    "it block, other condition": (
        """
        cmp r0, #0
        ite eq
        moveq r1, #1
        movne r1, #2
        mov r0, r1
        bx lr
        """,
        [5], 1 + 1 + 1 + 1 + 1 + 3, 6,
    ),
    "it-predicated loads cost their cycles when skipped": (
        """
        cmp r1, #0
        itt eq
        ldreq r2, [r0]
        ldreq r3, [r0, #4]
        bx lr
        """,
        [WORDS, 1], 1 + 1 + 2 + 1 + 3, 5,
    ),
    "conditional return taken": (
        """
        cmp r0, #0
        it eq
        bxeq lr
        movs r0, #5
        bx lr
        """,
        [0], 1 + 1 + 3, 3,
    ),
    "conditional return not taken": (
        """
        cmp r0, #0
        it eq
        bxeq lr
        movs r0, #5
        bx lr
        """,
        [1], 1 + 1 + 1 + 1 + 3, 5,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_snippet_cycles(name: str) -> None:
    source, args, cycles, instructions = CASES[name]
    if args == "return-pointer":
        # `ldr pc, [r0]` returns through a pointer to the return address stored in memory.
        obj = snippet_object(source)
        from t2m.compiler.emulator import Emulator

        lr = Emulator(obj).image.return_address | 1
        args = [np.array([lr], dtype=np.uint32)]
    result = run_all_modes(snippet_object(source), "snip", args)
    assert (result.cycles, result.instructions) == (cycles, instructions)


@pytest.mark.parametrize("n", [1, 2, 1000])
def test_counted_loop(n: int) -> None:
    source = """
        movs r2, #0
        loop:
        adds r2, r2, #3
        subs r1, #1
        bne loop
        mov r0, r2
        bx lr
    """
    result = run_all_modes(snippet_object(source), "snip", [0, n])
    # movs; n × (adds + subs); (n-1) taken bne, 1 not taken; mov; bx lr
    assert result.cycles == 1 + 2 * n + 3 * (n - 1) + 1 + 1 + 3 == 5 * n + 3
    assert result.instructions == 3 * n + 3
    assert result.value == 3 * n


def test_loop_with_loads_pipelines_inside_the_body_only() -> None:
    source = """
        movs r3, #0
        loop:
        ldr r2, [r0]
        ldr r1, [r0, #4]
        adds r3, r3, r2
        adds r0, #8
        subs r1, #1
        bne loop
        mov r0, r3
        bx lr
    """
    # Each iteration loads a word pair (value, remaining count); the count words are 3, 2, 1.
    data = np.array([10, 3, 20, 2, 30, 1], dtype=np.int32)
    result = run_all_modes(snippet_object(source), "snip", [data])
    # per iteration: ldr 2 (after bne) + ldr 1 + adds + adds + subs = 6, bne taken twice, not taken once
    assert result.cycles == 1 + 3 * 6 + 2 * 3 + 1 + 1 + 3
    assert result.value == 60


def test_calls_are_attributed_per_function() -> None:
    source = """
        caller:
        push {r4, lr}
        movs r0, #2
        bl callee
        adds r0, r0, #1
        pop {r4, pc}
        callee:
        adds r0, r0, r0
        bx lr
    """
    result = run_all_modes(snippet_object(source, exports=["callee"]), "snip")
    assert result.value == 5
    assert result.functions["snip"].cycles == (1 + 2) + 1 + 3 + 1 + (1 + 2 + 2)
    assert result.functions["callee"].cycles == 1 + 3
    assert result.cycles == 17 and result.instructions == 7


def test_values_computed_by_dsp_and_vfp_snippets() -> None:
    smlad = CASES["smlad and smlabb cost 1"]
    result = run_all_modes(snippet_object(smlad[0]), "snip", smlad[1])
    # smlad: 100 + 2*4 + 3*5 = 123; smlabb: 123 + 2*4 = 131
    assert result.value == 131
    vmla = CASES["vmla costs 3"]
    assert as_f32(run_all_modes(snippet_object(vmla[0]), "snip", vmla[1]).r0) == 1.5 + 2.0 * 4.0
    vdiv = CASES["vdiv and vsqrt cost 14"]
    assert as_f32(run_all_modes(snippet_object(vdiv[0]), "snip", vdiv[1]).r0) == 3.0
    sdiv = CASES["sdiv and udiv cost 7"]
    assert run_all_modes(snippet_object(sdiv[0]), "snip", sdiv[1]).value == -3


PAGE_END = 0x1000  # unicorn ends translation blocks at 4 KiB page boundaries; the snippet starts at 0x08000000


def _pad_to(offset: int, used: int) -> str:
    return "nop\n" * ((offset - used) // 2)


def test_load_pipelining_across_a_block_boundary() -> None:
    """A block that ends without a branch (page boundary) followed by a load: the cross-block discount."""
    source = "movs r1, #0\n" + _pad_to(PAGE_END - 2, 2) + "ldr r1, [r0]\nldr r2, [r0, #4]\nbx lr\n"
    result = run_all_modes(snippet_object(source), "snip", [WORDS])
    nops = (PAGE_END - 4) // 2
    assert result.instructions == 1 + nops + 3
    assert result.cycles == 1 + nops + 2 + 1 + 3


@pytest.mark.parametrize("r0, taken", [(0, True), (1, False)])
def test_it_block_split_by_a_page_boundary(r0: int, taken: bool) -> None:
    """`it eq` ends one block and `bxeq lr` starts the next: its condition must still be known."""
    source = "cmp r0, #0\n" + _pad_to(PAGE_END - 2, 2) + "it eq\nbxeq lr\nmovs r0, #7\nbx lr\n"
    result = run_all_modes(snippet_object(source), "snip", [r0])
    nops = (PAGE_END - 4) // 2
    if taken:
        assert (result.cycles, result.instructions) == (1 + nops + 1 + 3, 1 + nops + 2)
    else:
        assert (result.cycles, result.instructions) == (1 + nops + 1 + 1 + 1 + 3, 1 + nops + 4)
        assert result.value == 7
