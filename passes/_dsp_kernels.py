"""SMLAD kernels shared by the int8 conv and linear lowerings: a packed column and a register-blocked matrix multiply.

The Cortex-M4 multiplies two int16 pairs and adds both products in one cycle (SMLAD, docs/design.md §4), but its
activations here are int8 in NCHW: the reduction (input channel, kernel row, kernel column) is strided in memory.
So each block of `pb` output pixels first gathers its reduction vector once into a *column* on the stack, as int16
pairs (`lo = x[k]`, `hi = x[k + 1]`, one PKHBT per pair; a padding tap is the input zero point), and every block
of `ob` output channels then reads it back word by word: per pair of taps, `pb` column loads, `ob` weight loads
and `ob * pb` SMLADs (2 MACs each) into `ob * pb` accumulators held in registers. The column costs about 2 cycles
per tap, once per pixel block, against `out_channels` MACs per tap: CMSIS-NN's im2col, with t2m's compile-time
shapes (constant trip counts, pairs unrolled, no bounds test).

Weights are constants, packed at compile time into the words the inner loop reads (`pack_weights`):
  - `w16`: int16 pairs `(w[k], w[k + 1])`, one word per SMLAD (twice the int8 bytes in flash);
  - `w8`: int8 words in SXTB16 order `(w[k], w[k + 2], w[k + 1], w[k + 3])`: SXTB16 gives `(w[k], w[k + 1])`,
    SXTB16 ROR 8 `(w[k + 2], w[k + 3])` (CMSIS-NN's flash, two unpacks per 4 taps).
Blocks of `ob` channels are interleaved (pair by pair, channel by channel) so the loop walks one pointer forward.
The input zero point is folded into the bias at compile time (`folded_bias`): a padding tap is `zp` in the column,
so every window is a full one and the accumulators start from `bias - zp * sum(w)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.dialects import memref
from xdsl.dialects.builtin import IntegerAttr, i32
from xdsl.ir import SSAValue

from t2m.dialects import arm_dsp
from t2m.passes._int8 import Ints
from t2m.passes._loops import Ix, Kernel


@dataclass(frozen=True)
class Gemm:
    """ob output channels x pb pixels of accumulators; `unroll` tap pairs per inner iteration; `w8`: int8 weights."""

    ob: int = 2
    pb: int = 2
    unroll: int = 4
    w8: bool = False

    @property
    def name(self) -> str:
        return f"smlad-o{self.ob}p{self.pb}u{self.unroll}" + ("-w8" if self.w8 else "")

    @staticmethod
    def parse(name: str) -> Gemm | None:
        m = re.fullmatch(r"smlad-o(\d+)p(\d+)u(\d+)(-w8)?", name)
        return Gemm(int(m[1]), int(m[2]), int(m[3]), m[4] is not None) if m else None

    def pairs(self, taps: int) -> int:
        """Words of the column: taps in int16 pairs, a multiple of 2 for int8 weight words."""
        quads = -(-taps // 4)
        return 2 * quads if self.w8 else -(-taps // 2)


def pack_weights(w: np.ndarray, gemm: Gemm) -> np.ndarray:
    """[out, taps] int8 -> the flat i32 words the kernel reads: blocks of ob channels (a smaller last block), in
    each block word j of every channel, then word j + 1... (`weight_index`)."""
    out, taps = w.shape
    words = gemm.pairs(taps) // (2 if gemm.w8 else 1)
    padded = np.zeros((out, words * (4 if gemm.w8 else 2)), np.int64)
    padded[:, :taps] = w
    if gemm.w8:  # bytes (w0, w2, w1, w3) of each quad, little endian
        q = padded.reshape(out, words, 4)[:, :, [0, 2, 1, 3]] & 0xFF
        packed = q[..., 0] | q[..., 1] << 8 | q[..., 2] << 16 | q[..., 3] << 24
    else:
        p = padded.reshape(out, words, 2) & 0xFFFF
        packed = p[..., 0] | p[..., 1] << 16
    blocks = []
    for o0 in range(0, out, gemm.ob):
        blocks.append(packed[o0:o0 + gemm.ob].T.reshape(-1))  # word-major within the block
    return np.concatenate(blocks).astype(np.uint32).view(np.int32)


def weight_words(taps: int, gemm: Gemm) -> int:
    return gemm.pairs(taps) // (2 if gemm.w8 else 1)


def pair(k: Kernel, lo: SSAValue | int, hi: SSAValue | int) -> SSAValue:
    """The word (lo & 0xffff) | (hi << 16): PKHBT, or a constant."""
    if isinstance(lo, int) and isinstance(hi, int):
        word = (lo & 0xFFFF) | (hi & 0xFFFF) << 16
        return k.i32(word - (1 << 32) if word & 0x80000000 else word)
    lo_v = k.i32(lo) if isinstance(lo, int) else lo
    hi_v = k.i32(hi) if isinstance(hi, int) else hi
    return k.emit(arm_dsp.PkhbtOp(lo_v, hi_v, shift=IntegerAttr(16, i32)))


def column(k: Kernel, words: int, pb: int) -> SSAValue:
    """The stack buffer of one pixel block: `[words, pb]` i32 (one alloca per layer function)."""
    return k.emit(memref.AllocaOp.get(i32, shape=[words, pb]))


Tap = Callable[[Ix | int, int, int], SSAValue | int]
"""tap(chunk index, tap number within the chunk, pixel) -> the int8 value widened to i32, or a constant (the zero
point)."""


def fill(k: Kernel, col: SSAValue, pixels: int, taps: int, chunk: int, value: Tap, words: int,
         loaded: dict[object, SSAValue] | None = None) -> None:
    """Columns 0..pixels-1 <- the reduction vectors of a pixel block: `taps` values each, read in chunks of `chunk`
    taps (an even number: a runtime loop over whole chunks, the rest straight-line), 0 beyond `taps` up to `words`
    pairs. `value(chunk, tap, pixel)`; `loaded` (cleared per loop body) lets it share loads between pixels."""
    whole = taps // chunk if chunk % 2 == 0 else 0

    def pairs_of(c: Ix | int, base: Ix | int, n: int) -> None:
        if loaded is not None:
            loaded.clear()
        for p in range(pixels):
            for t in range(0, n, 2):
                lo = value(c, t, p)
                hi = value(c, t + 1, p) if t + 1 < n else 0
                k.store(pair(k, lo, hi), col, [_ix(base) + t // 2, p])

    if whole > 1:
        k.nest([(0, whole, "chunk")], lambda iv: pairs_of(iv[0], iv[0] * (chunk // 2), chunk))
    elif whole == 1:
        pairs_of(0, 0, chunk)
    done = whole * chunk
    pairs_of(whole, done // 2, taps - done)  # straight-line remainder: chunk `whole`, taps from 0
    if loaded is not None:
        loaded.clear()
    zero = k.i32(0)
    for p in range(pixels):
        for j in range(-(-taps // 2), words):
            k.store(zero, col, [j, p])


def _ix(i: Ix | int) -> Ix:
    return Ix(const=i) if isinstance(i, int) else i


Store = Callable[[SSAValue, int, int], None]
"""store(accumulator, channel within the block, pixel within the block)."""


def gemm(k: Kernel, gemm: Gemm, col: SSAValue, packed: SSAValue, taps: int, base: Ix, nb: int, np_: int,
         starts: Sequence[SSAValue], store: Store) -> None:
    """nb channels x np_ pixels: accumulators from `starts` (per channel), SMLAD over the column, then `store`.
    `base`: the block's first word in `packed` (channel block start * words per channel)."""
    words = gemm.pairs(taps)
    step = 2 if gemm.w8 else 1  # column words per weight word
    wwords = words // step
    unroll = max(1, min(gemm.unroll, wwords))

    def one(acc: list[SSAValue], ww: Ix) -> list[SSAValue]:
        xs = [[k.load(col, [ww * step + s, p]) for p in range(np_)] for s in range(step)]
        for j in range(nb):
            word = k.load(packed, [base + ww * nb + j])
            parts = [word] if step == 1 else [k.emit(arm_dsp.Sxtb16Op(word)), k.emit(arm_dsp.Sxtb16Op(word, 8))]
            for s, part in enumerate(parts):
                for p in range(np_):
                    i = j * np_ + p
                    acc[i] = k.emit(arm_dsp.SmladOp(xs[s][p], part, acc[i]))
        return acc

    def body(ivs: list[Ix], acc: tuple[SSAValue, ...]) -> list[SSAValue]:
        new = list(acc)
        for u in range(unroll):
            new = one(new, ivs[0] + u)
        return new

    main = wwords - wwords % unroll
    acc = [s for s in starts for _ in range(np_)]
    acc = list(k.reduce([(0, main, "kk", unroll)], acc, body)) if main else acc
    for ww in range(main, wwords):
        acc = one(acc, Ix(const=ww))
    for j in range(nb):
        for p in range(np_):
            store(acc[j * np_ + p], j, p)


def bias_starts(q: Ints, bias: SSAValue | None, channels: Sequence[Ix]) -> list[SSAValue]:
    return [q.load(bias, [c]) if bias is not None else q.const(0) for c in channels]
