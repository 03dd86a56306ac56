"""Shared builders of the nn -> loops lowerings (`lower-nn-*` passes).

Every family pattern ends in `replace_with_layer`: MLIR one-shot-bufferize style, the nn op becomes
`bufferization.to_buffer` of its operands, a `memref.alloc` per result, a `func.call` of a new private layer
function `@<model>_L<idx>_<op>` (attribute `t2m.layer = #t2m.layer<op, macs>`) holding the loop nest, and
`bufferization.to_tensor` of the results. The `bufferize` pass later removes the to_tensor/to_buffer pairs.

Loop bodies are built with `Kernel`: `affine.for` with constant bounds (and iter_args for accumulators), index
arithmetic as `affine.apply` with *dimension* maps, and plain `memref.load`/`memref.store`. Not `affine.load`:
its custom syntax re-parses as a symbol map, which `lower-affine` cannot evaluate (docs/design.md §5), so the text form
of the loop IR would not survive a round trip through `t2m-opt`. Loops of one iteration are not emitted (their
index is a constant), loops of none vanish.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.dialects import affine, arith, bufferization, func, memref
from xdsl.dialects.builtin import (
    AffineMapAttr,
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    TensorType,
    f32,
    i32,
)
from xdsl.ir import Attribute, Block, BlockArgument, Operation, Region, SSAValue
from xdsl.ir.affine import AffineExpr, AffineMap
from xdsl.pattern_rewriter import PatternRewriter
from xdsl.rewriter import InsertPoint
from xdsl.traits import SymbolTable
from xdsl.utils.exceptions import PassFailedException

from t2m.dialects import nn
from t2m.dialects.t2m import LAYER_KEY, LayerAttr
from t2m.passes._variants import emitted

# ---------------------------------------------------------------------------------------------------------------
# Index expressions
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ix:
    """An index linear in loop variables: sum(coeff * value) + const, all coefficients known at compile time."""

    terms: tuple[tuple[SSAValue, int], ...] = ()
    const: int = 0

    @staticmethod
    def of(value: SSAValue) -> Ix:
        return Ix(((value, 1),))

    def __add__(self, other: Ix | int) -> Ix:
        if isinstance(other, int):
            return Ix(self.terms, self.const + other)
        terms = list(self.terms)
        for value, coeff in other.terms:
            for i, (v, c) in enumerate(terms):
                if v is value:
                    terms[i] = (v, c + coeff)
                    break
            else:
                terms.append((value, coeff))
        return Ix(tuple((v, c) for v, c in terms if c), self.const + other.const)

    __radd__ = __add__

    def __mul__(self, k: int) -> Ix:
        return Ix(tuple((v, c * k) for v, c in self.terms if c * k), self.const * k)

    __rmul__ = __mul__

    def __sub__(self, other: Ix | int) -> Ix:
        return self + (-1) * other

    @property
    def is_const(self) -> bool:
        return not self.terms


Index = Ix | int
Range = tuple[int, int, str] | tuple[int, int, str, int]


def _ix(i: Index) -> Ix:
    return Ix(const=i) if isinstance(i, int) else i


# ---------------------------------------------------------------------------------------------------------------
# Kernel: one layer function's body
# ---------------------------------------------------------------------------------------------------------------


class Kernel:
    """Builds the body of one layer function: ops are appended to the current block, constants are hoisted
    to the top of the entry block (one `%c3` per function), loops nest by callbacks."""

    def __init__(self, arg_types: Sequence[Attribute], arg_names: Sequence[str]):
        self.entry = Block(arg_types=arg_types)
        for arg, name in zip(self.entry.args, arg_names, strict=True):
            arg.name_hint = name
        self.block = self.entry
        self._stack: list[Block] = [self.entry]
        self._consts: dict[tuple[str, object], SSAValue] = {}
        self._last_const: Operation | None = None
        self._applies: dict[tuple[int, tuple[tuple[int, int], ...], int], SSAValue] = {}

    @property
    def args(self) -> tuple[SSAValue, ...]:
        return tuple(self.entry.args)

    def put(self, op: Operation) -> Operation:
        self.block.add_op(op)
        return op

    def emit(self, op: Operation) -> SSAValue:
        """Append an op with one result and return that result."""
        self.block.add_op(op)
        return op.results[0]

    # -- constants ----------------------------------------------------------------------------------------------

    def _hoist(self, key: tuple[str, object], op: arith.ConstantOp, hint: str) -> SSAValue:
        if key not in self._consts:
            if self._last_const is None:
                first = self.entry.first_op
                if first is None:
                    self.entry.add_op(op)
                else:
                    self.entry.insert_op_before(op, first)
            else:
                self.entry.insert_op_after(op, self._last_const)
            self._last_const = op
            op.result.name_hint = hint
            self._consts[key] = op.result
        return self._consts[key]

    def cidx(self, value: int) -> SSAValue:
        return self._hoist(("index", value), arith.ConstantOp(IntegerAttr(value, IndexType())),
                           f"c{value}" if value >= 0 else f"cm{-value}")

    def f32(self, value: float) -> SSAValue:
        v = float(np.float32(value))
        return self._hoist(("f32", np.float32(v).tobytes()), arith.ConstantOp(FloatAttr(v, f32)), "cst")

    def i32(self, value: int) -> SSAValue:
        return self._hoist(("i32", value), arith.ConstantOp(IntegerAttr(value, i32)), f"i{value}".replace("-", "m"))

    def iconst(self, value: int, type: IntegerType) -> SSAValue:
        """An integer constant of any width (int8 kernels use i8, i32 and i64)."""
        if type == i32:
            return self.i32(value)
        width = type.width.data
        hint = f"i{width}_{value}".replace("-", "m")
        return self._hoist((str(type), value), arith.ConstantOp(IntegerAttr(value, type)), hint)

    # -- indices and memory -------------------------------------------------------------------------------------

    def index(self, i: Index) -> SSAValue:
        """The index value of `i`: a constant, a loop variable, or one `affine.apply` with a dimension map."""
        ix = _ix(i)
        if ix.is_const:
            return self.cidx(ix.const)
        if len(ix.terms) == 1 and ix.terms[0][1] == 1 and ix.const == 0:
            return ix.terms[0][0]
        # built in the outermost loop body where all its terms are defined (hoisted out of inner loops)
        depth = max(self._depth(v) for v, _ in ix.terms)
        block = self._stack[depth]
        key = (id(block), tuple((id(v), c) for v, c in ix.terms), ix.const)
        if key not in self._applies:
            expr: AffineExpr = AffineExpr.constant(ix.const)
            for pos, (_, coeff) in enumerate(ix.terms):
                expr = AffineExpr.dimension(pos) * coeff + expr
            amap = AffineMap(len(ix.terms), 0, (expr,))
            op = affine.ApplyOp([v for v, _ in ix.terms], AffineMapAttr(amap))
            block.add_op(op)
            self._applies[key] = op.result
        return self._applies[key]

    def _depth(self, value: SSAValue) -> int:
        block = value.block if isinstance(value, BlockArgument) else value.owner.parent_block()  # type: ignore
        for depth, b in enumerate(self._stack):
            if b is block:
                return depth
        return 0

    def load(self, mem: SSAValue, idx: Sequence[Index]) -> SSAValue:
        return self.emit(memref.LoadOp.get(mem, [self.index(i) for i in idx]))

    def store(self, value: SSAValue, mem: SSAValue, idx: Sequence[Index]) -> None:
        self.put(memref.StoreOp.get(value, mem, [self.index(i) for i in idx]))

    def view(self, mem: SSAValue, shape: Sequence[int]) -> SSAValue:
        """The same contiguous buffer seen with another static shape (no copy)."""
        if shape_of(mem) == tuple(shape):
            return mem
        return self.emit(reinterpret(mem, shape))

    # -- loops --------------------------------------------------------------------------------------------------

    def loop(
        self,
        lo: int,
        hi: int,
        body: Callable[[Ix, tuple[SSAValue, ...]], Sequence[SSAValue] | None],
        *,
        step: int = 1,
        inits: Sequence[SSAValue] = (),
        name: str = "i",
    ) -> tuple[SSAValue, ...]:
        """`affine.for %name = lo to hi step step iter_args(inits)`; body(iv, args) returns the yielded values."""
        trips = max(0, -(-(hi - lo) // step))
        if trips == 0:
            return tuple(inits)
        if trips == 1:
            return tuple(body(Ix(const=lo), tuple(inits)) or ())
        block = Block(arg_types=[IndexType(), *(v.type for v in inits)])
        block.args[0].name_hint = name
        outer, self.block = self.block, block
        self._stack.append(block)
        results = tuple(body(Ix.of(block.args[0]), tuple(block.args[1:])) or ())
        self.put(affine.YieldOp.get(*results))
        self._stack.pop()
        self.block = outer
        op = affine.ForOp.from_region([], [], list(inits), [v.type for v in inits], lo, hi, Region(block), step)
        self.put(op)
        return tuple(op.results)

    def nest(self, ranges: Sequence[Range], body: Callable[[list[Ix]], None]) -> None:
        """Perfect loop nest over `ranges` ((lo, hi, name) or (lo, hi, name, step)); body(ivs) is the innermost."""
        self.reduce(ranges, (), lambda ivs, _: body(ivs) or ())

    def reduce(
        self,
        ranges: Sequence[Range],
        inits: Sequence[SSAValue],
        body: Callable[[list[Ix], tuple[SSAValue, ...]], Sequence[SSAValue]],
    ) -> tuple[SSAValue, ...]:
        """Loop nest carrying `inits` through every level (iter_args): body(ivs, accs) returns the new accs."""

        def level(i: int, ivs: list[Ix], accs: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            if i == len(ranges):
                return tuple(body(ivs, accs))
            lo, hi, name, *step = ranges[i]
            return self.loop(lo, hi, lambda iv, a: level(i + 1, [*ivs, iv], a), inits=accs, name=name,
                             step=step[0] if step else 1)

        return level(0, [], tuple(inits))

    # -- scalar arithmetic --------------------------------------------------------------------------------------

    def addf(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.AddfOp(a, b))

    def subf(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.SubfOp(a, b))

    def mulf(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.MulfOp(a, b))

    def divf(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.DivfOp(a, b))

    def cmpf(self, predicate: str, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.CmpfOp(a, b, predicate))

    def select(self, cond: SSAValue, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.SelectOp(cond, a, b))

    def larger(self, a: SSAValue, b: SSAValue) -> SSAValue:
        """b if b > a else a: one compare + select. A NaN in a is kept, a NaN in b dropped (see `max`)."""
        return self.select(self.cmpf("ogt", b, a), b, a)

    def max(self, a: SSAValue, b: SSAValue) -> SSAValue:
        """torch.maximum: the larger, NaN if either is NaN. `larger` keeps a NaN in a; a second compare of b with
        itself (off the critical path of a running maximum `a`) picks a NaN in b. Not `maximumf`: on the M4 it would
        become VMAXNM (ARMv8 only) or an fmaxf libcall (docs/design.md §4)."""
        larger = self.larger(a, b)
        return self.select(self.cmpf("uno", b, b), b, larger)

    def clamp(self, x: SSAValue, lo: float | None, hi: float | None) -> SSAValue:
        """min(max(x, lo), hi) as PyTorch's clamp: NaN stays NaN (`x < lo` and `x > hi` are false for NaN, so x
        itself is selected), an infinite or missing bound costs nothing."""
        if lo is not None and lo > -math.inf:
            x = self.select(self.cmpf("olt", x, self.f32(lo)), self.f32(lo), x)
        if hi is not None and hi < math.inf:
            x = self.select(self.cmpf("ogt", x, self.f32(hi)), self.f32(hi), x)
        return x

    def activation(self, x: SSAValue, op: Operation) -> SSAValue:
        """The clamp `fuse-activation` moved into `op` (act_min / act_max), applied before the store."""
        if not isinstance(op, nn.FusedActivation):
            return x
        return self.clamp(x, *op.activation_bounds())

    def absf(self, x: SSAValue) -> SSAValue:
        """|x| by clearing the sign bit (no math.absf)."""
        bits = self.emit(arith.BitcastOp(x, i32))
        return self.emit(arith.BitcastOp(self.emit(arith.AndIOp(bits, self.i32(0x7FFFFFFF))), f32))

    def exp(self, x: SSAValue, nonpositive: bool = False) -> SSAValue:
        """expf in arith ops: x = k ln2 + r, |r| <= ln2/2, exp(r) by Cephes' degree-7 polynomial, 2^k from the
        exponent bits. Relative error about 2 ulp; below -87.33 (result under FLT_MIN) it returns 0, above
        ln(FLT_MAX) +inf, and NaN gives NaN (every compare is false for it, so it passes the clamps unchanged and
        poisons the polynomial; the integer ops on its bits are defined, unlike an fptosi of NaN or inf).
        Round-to-nearest k with the 1.5 * 2^23 trick: k's bits come out of the sum.
        `nonpositive`: the caller guarantees x <= 0 or NaN (sigmoid, tanh, softmax): no upper clamp, and 2^k is
        one float; else k <= 128 and 2^k = 2^(k >> 1) * 2^(k - (k >> 1)), so that large x overflows to +inf.
        """
        lo = -87.33654
        xc = self.select(self.cmpf("olt", x, self.f32(lo)), self.f32(lo), x)
        if not nonpositive:
            xc = self.select(self.cmpf("ogt", xc, self.f32(88.75)), self.f32(88.75), xc)
        t = self.mulf(xc, self.f32(1.44269504088896341))
        magic = self.addf(t, self.f32(12582912.0))
        kf = self.subf(magic, self.f32(12582912.0))
        k = self.emit(arith.SubiOp(self.emit(arith.BitcastOp(magic, i32)), self.i32(0x4B400000)))
        r = self.subf(xc, self.mulf(kf, self.f32(0.693359375)))
        r = self.subf(r, self.mulf(kf, self.f32(-2.12194440e-4)))
        p = self.f32(1.9875691500e-4)
        for c in (1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1):
            p = self.addf(self.mulf(p, r), self.f32(c))
        p = self.addf(self.addf(self.mulf(p, self.mulf(r, r)), r), self.f32(1.0))
        if nonpositive:
            y = self.mulf(p, self._pow2(k))
        else:
            half = self.emit(arith.ShRSIOp(k, self.i32(1)))
            y = self.mulf(self.mulf(p, self._pow2(half)), self._pow2(self.emit(arith.SubiOp(k, half))))
        return self.select(self.cmpf("olt", x, self.f32(lo)), self.f32(0.0), y)

    def _pow2(self, k: SSAValue) -> SSAValue:
        """2^k for an i32 -126 <= k <= 127, from the exponent bits."""
        bits = self.emit(arith.ShLIOp(self.emit(arith.AddiOp(k, self.i32(127))), self.i32(23)))
        return self.emit(arith.BitcastOp(bits, f32))

    def log(self, x: SSAValue) -> SSAValue:
        """logf in arith ops for a normal x > 0 (Cephes): x = m 2^e with m in [sqrt(1/2), sqrt(2)) from the float's
        bits, log(m) by a degree-8 polynomial in m - 1, plus e ln2 in two parts (exact high part, small low part).
        Relative error about 1 ulp; the caller guarantees the range (log_softmax: the sum is >= 1). NaN and +inf
        give themselves (one compare + select: the bit tricks would turn them into numbers near 88)."""
        bits = self.emit(arith.BitcastOp(x, i32))
        e = self.emit(arith.SubiOp(self.emit(arith.ShRUIOp(bits, self.i32(23))), self.i32(127)))
        mantissa = self.emit(arith.OrIOp(self.emit(arith.AndIOp(bits, self.i32(0x007FFFFF))), self.i32(0x3F800000)))
        m = self.emit(arith.BitcastOp(mantissa, f32))
        big = self.cmpf("ogt", m, self.f32(1.41421356237))
        m = self.select(big, self.mulf(m, self.f32(0.5)), m)
        e = self.select(big, self.emit(arith.AddiOp(e, self.i32(1))), e)
        ef = self.emit(arith.SIToFPOp(e, f32))
        f = self.subf(m, self.f32(1.0))
        z = self.mulf(f, f)
        p = self.f32(7.0376836292e-2)
        for c in (-1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
                  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1):  # fmt: skip
            p = self.addf(self.mulf(p, f), self.f32(c))
        y = self.addf(self.mulf(self.mulf(p, f), z), self.mulf(ef, self.f32(-2.12194440e-4)))
        y = self.subf(y, self.mulf(z, self.f32(0.5)))
        y = self.addf(self.addf(f, y), self.mulf(ef, self.f32(0.693359375)))
        return self.select(self.cmpf("ueq", x, self.f32(math.inf)), x, y)


# ---------------------------------------------------------------------------------------------------------------
# Buffers, constants, layer functions
# ---------------------------------------------------------------------------------------------------------------


def shape_of(value: SSAValue) -> tuple[int, ...]:
    t = value.type
    assert isinstance(t, TensorType | MemRefType)
    return tuple(t.get_shape())


def memref_of(shape: Sequence[int], element: Attribute = f32) -> MemRefType:
    return MemRefType(element, list(shape))


def element_of(value: SSAValue) -> Attribute:
    """The element type of a tensor or buffer value (f32, or i8/i32 in int8 models)."""
    t = value.type
    assert isinstance(t, TensorType | MemRefType)
    return t.get_element_type()


def buffer_of(value: SSAValue) -> MemRefType:
    """The buffer type a tensor value bufferizes to (same shape and element type)."""
    return memref_of(shape_of(value), element_of(value))


def memref_bytes(type: Attribute) -> int:
    """Bytes of a static buffer of this memref type."""
    assert isinstance(type, MemRefType)
    width = type.get_element_type().bitwidth  # pyright: ignore[reportAttributeAccessIssue]
    return math.prod(type.get_shape()) * width // 8


def reinterpret(mem: SSAValue, shape: Sequence[int]) -> memref.ReinterpretCastOp:
    """A row-major view of a contiguous buffer with another static shape (`convert-memref-to-ptr` lowers it)."""
    strides = [math.prod(shape[i + 1 :]) for i in range(len(shape))]
    return memref.ReinterpretCastOp(mem, [], [], [], [0], list(shape), strides, memref_of(shape, element_of(mem)))


def constant_array(value: SSAValue) -> np.ndarray | None:
    """The compile-time contents of a tensor: an `nn.constant`, or `to_tensor(memref.get_global)` once lowered."""
    if (array := nn.constant_array(value)) is not None:
        return array
    owner, attr = value.owner, None
    if isinstance(owner, bufferization.ToTensorOp) and isinstance(get := owner.memref.owner, memref.GetGlobalOp):
        glob = SymbolTable.lookup_symbol(get, get.name_)
        if isinstance(glob, memref.GlobalOp) and isinstance(glob.initial_value, DenseIntOrFPElementsAttr):
            attr = glob.initial_value
    if attr is None:
        return None
    return nn.dense_to_numpy(attr)


def new_constant(rewriter: PatternRewriter, before: Operation, array: np.ndarray) -> SSAValue:
    """A new `nn.constant` of the array's element type (f32, or i32 tables of int8 kernels); lower-nn-constant or
    bufferize turn it into a `memref.global`."""
    op = rewriter.insert(nn.ConstantOp(nn.dense_of(array)), InsertPoint.before(before))
    return op.output


def model_function(op: Operation) -> func.FuncOp:
    parent = op.parent_op()
    while parent is not None and not isinstance(parent, func.FuncOp):
        parent = parent.parent_op()
    if parent is None:
        raise PassFailedException(f"'{op.name}' is not inside a func.func")
    return parent


VIEW_OPS = (nn.ConstantOp, nn.FlattenOp, nn.ReshapeOp)


def layer_index(op: Operation, function: func.FuncOp) -> int:
    """Position of `op` among the layers of its function: nn and qnn ops that compute (not constants or views) and
    calls of layer functions already lowered count, so every pass numbers a layer the same way."""
    prefix = re.compile(re.escape(function.sym_name.data) + r"_L\d+_")
    index = 0
    for other in function.body.walk():
        if other is op:
            return index
        if other.dialect_name() in ("nn", "qnn") and not isinstance(other, VIEW_OPS):
            index += 1
        elif isinstance(other, func.CallOp) and prefix.match(other.callee.root_reference.data):
            index += 1
    raise AssertionError("op not in its function")


def unique_symbol(module: ModuleOp, name: str) -> str:
    candidate, n = name, 1
    while SymbolTable.lookup_symbol(module, candidate) is not None:
        candidate, n = f"{name}_{n}", n + 1
    return candidate


def replace_with_layer(
    rewriter: PatternRewriter,
    op: Operation,
    operands: Sequence[tuple[SSAValue, str]],
    build: Callable[[Kernel], None],
    macs: int = 0,
) -> str:
    """Replace `op` by a call of a new layer function whose body `build` writes (args: operands, then one
    output buffer per result, named `out`). Returns the layer function's name."""
    function = model_function(op)
    module = function.parent_op()
    assert isinstance(module, ModuleOp)
    kind = op.name.split(".", 1)[1]  # nn.conv2d and qnn.conv2d are both "conv2d" layers
    name = unique_symbol(module, f"{function.sym_name.data}_L{layer_index(op, function):02d}_{kind}")

    new_ops: list[Operation] = []
    buffers: list[SSAValue] = []
    for value, _ in operands:
        to_buffer = bufferization.ToBufferOp.build(operands=[value], result_types=[buffer_of(value)])
        new_ops.append(to_buffer)
        buffers.append(to_buffer.memref)
    outs = [memref.AllocOp.get(element_of(r), shape=shape_of(r)) for r in op.results]
    new_ops += outs
    args = [*buffers, *(o.memref for o in outs)]
    kernel = Kernel([a.type for a in args], [n for _, n in operands] + ["out"] * len(outs))
    build(kernel)
    kernel.put(func.ReturnOp())

    layer = func.FuncOp(name, ([a.type for a in args], []), Region(kernel.entry), "private")
    layer.attributes[LAYER_KEY] = LayerAttr(kind, macs, emitted(op))
    rewriter.insert(layer, InsertPoint.at_end(module.body.block))
    new_ops.append(func.CallOp(name, args, []))
    tensors = [bufferization.ToTensorOp(o.memref) for o in outs]
    rewriter.replace(op, [*new_ops, *tensors], [t.tensor for t in tensors])
    return name


def window_runs(size: int, kernel: int, stride: int, pad_before: int, dilation: int, out: int
                ) -> list[tuple[int, int, int, int]]:
    """Split one output axis of a window op into runs [o0, o1) whose windows see the same valid kernel range
    [k0, k1) (taps inside the input). The interior run has the full range: no bounds test anywhere."""
    runs: list[tuple[int, int, int, int]] = []
    for o in range(out):
        start = o * stride - pad_before
        k0 = max(0, -(start // dilation) if start < 0 else 0)
        k1 = min(kernel, (size - 1 - start) // dilation + 1) if size - 1 - start >= 0 else 0
        k1 = max(k0, k1)
        if runs and runs[-1][1] == o and runs[-1][2:] == (k0, k1):
            runs[-1] = (runs[-1][0], o + 1, k0, k1)
        else:
            runs.append((o, o + 1, k0, k1))
    return runs
