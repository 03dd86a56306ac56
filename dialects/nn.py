"""The `nn` dialect: tensor-level neural-network ops, fp32, static shapes, NCHW as PyTorch has them.

Every op takes and returns ranked tensors. Weights are `nn.constant` ops holding a dense attribute, which xDSL
prints in hex for anything larger than 100 elements (a decimal list of a million floats takes ~20 s to parse).
Each verifier checks shapes and names the op, the offending shapes and what was expected, so that a hand-edited
`.mlir` file fails with a message a user can act on.

Conventions shared by the window ops (conv2d, max_pool2d, avg_pool2d):
  - `stride`, `dilation`, `kernel` are `[h, w]`;
  - `padding` is `[top, left, bottom, right]` (PyTorch's symmetric padding has top == bottom, left == right;
    TensorFlow's "same" padding does not).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import ClassVar, cast

import numpy as np
from xdsl.dialects.builtin import (
    BoolAttr,
    BytesAttr,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    Float32Type,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    StringAttr,
    TensorType,
    f32,
    i32,
    i64,
)
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
    IRDLOperation,
    ParsePropInAttrDict,
    VarConstraint,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import ConstantLike, OpTrait, Pure
from xdsl.utils.exceptions import VerifyException

Shape = tuple[int, ...]


# ---------------------------------------------------------------------------------------------------------------
# Shape arithmetic (shared by the verifiers, the importer and the lowerings)
# ---------------------------------------------------------------------------------------------------------------


def window_output_size(size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int) -> int:
    """Output length of a sliding window along one axis (floor mode), as PyTorch computes it."""
    return (size + pad_before + pad_after - dilation * (kernel - 1) - 1) // stride + 1


def conv2d_output_shape(
    input: Shape, weight: Shape, stride: Sequence[int], padding: Sequence[int], dilation: Sequence[int]
) -> Shape:
    n, _, h, w = input
    oc, _, kh, kw = weight
    return (
        n,
        oc,
        window_output_size(h, kh, stride[0], padding[0], padding[2], dilation[0]),
        window_output_size(w, kw, stride[1], padding[1], padding[3], dilation[1]),
    )


def pool2d_output_shape(
    input: Shape, kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int], dilation: Sequence[int]
) -> Shape:
    n, c, h, w = input
    return (
        n,
        c,
        window_output_size(h, kernel[0], stride[0], padding[0], padding[2], dilation[0]),
        window_output_size(w, kernel[1], stride[1], padding[1], padding[3], dilation[1]),
    )


def broadcast_shapes(lhs: Shape, rhs: Shape) -> Shape | None:
    """numpy/PyTorch broadcasting; None when the shapes do not broadcast."""
    rank = max(len(lhs), len(rhs))
    a = (1,) * (rank - len(lhs)) + tuple(lhs)
    b = (1,) * (rank - len(rhs)) + tuple(rhs)
    out: list[int] = []
    for x, y in zip(a, b, strict=True):
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y))
    return tuple(out)


def _fmt(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape) if shape else "scalar"


def _tensor_shape(value: SSAValue | Attribute) -> Shape:
    type = value.type if isinstance(value, SSAValue) else value
    assert isinstance(type, TensorType)
    return tuple(type.get_shape())


def _i64_array(values: Sequence[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, values)


def _check_array(op: Operation, name: str, attr: DenseArrayBase, length: int, minimum: int) -> tuple[int, ...]:
    ints = tuple(int(v) for v in cast(DenseArrayBase[IntegerType], attr).get_values())
    if len(ints) != length or any(v < minimum for v in ints):
        raise VerifyException(f"'{op.name}' {name} must be {length} integers >= {minimum}, got {list(ints)}")
    return ints


def _expect_rank(op: Operation, what: str, shape: Shape, rank: int, layout: str) -> None:
    if len(shape) != rank:
        raise VerifyException(f"'{op.name}' {what} must be rank {rank} ({layout}), got shape {_fmt(shape)}")


def _expect_result(op: Operation, got: Shape, expected: Shape) -> None:
    if got != expected:
        raise VerifyException(f"'{op.name}' result shape {_fmt(got)} does not match the expected {_fmt(expected)}")


def _f32_tensor(shape: Sequence[int]) -> TensorType[Float32Type]:
    return TensorType(f32, shape)


def _like(value: SSAValue | Operation, shape: Sequence[int]) -> TensorType:
    """A tensor of `shape` with the element type of `value` (the shape ops work on f32 and int8 alike)."""
    type = SSAValue.get(value).type
    assert isinstance(type, TensorType)
    return TensorType(type.get_element_type(), shape)


def _expect_same_element(op: Operation, inputs: Sequence[SSAValue], output: SSAValue) -> None:
    types = {cast(TensorType, v.type).get_element_type() for v in (*inputs, output)}
    if len(types) != 1:
        kinds = ", ".join(sorted(map(str, types)))
        raise VerifyException(f"'{op.name}' operands and result must share one element type, got {kinds}")


T: VarConstraint[Attribute] = VarConstraint("T", TensorType.constr(f32))
"""Every operand and result of an elementwise op carries the same f32 tensor type."""


class FusedActivation(IRDLOperation):
    """An op that can clamp its result as it stores it: `act_min` alone is ReLU, `act_min`/`act_max` ReLU6 or clamp.

    `fuse-activation` moves a following relu/relu6/clamp here, so the lowering applies it in the producer's store
    instead of making one more pass over memory.
    """

    act_min = opt_prop_def(FloatAttr[Float32Type])
    act_max = opt_prop_def(FloatAttr[Float32Type])

    def activation_bounds(self) -> tuple[float | None, float | None]:
        """(act_min, act_max) as floats, None where the op does not clamp: (0.0, None) is a fused ReLU."""
        lo, hi = self.act_min, self.act_max
        return (None if lo is None else lo.value.data, None if hi is None else hi.value.data)

    def set_activation_bounds(self, lo: float | None, hi: float | None) -> None:
        """Clamp the result to [lo, hi] as it is stored (None: no bound); what fuse-activation calls."""
        for name, bound in (("act_min", lo), ("act_max", hi)):
            if bound is None:
                self.properties.pop(name, None)
            else:
                self.properties[name] = FloatAttr(bound, f32)


ACTIVATION_BOUNDS = ("act_min", "act_max")


class ActivationBounds(OpTrait):
    """Every nn op: `act_min`/`act_max` only as properties of a FusedActivation op, with act_min <= act_max.

    Elsewhere they would be kept as discardable attributes and silently ignored by every stage; an empty window
    (act_min > act_max) would make the result constant.
    """

    def verify(self, op: Operation) -> None:
        stray = next((name for name in ACTIVATION_BOUNDS if name in op.attributes), None)
        if stray is not None and not isinstance(op, FusedActivation):
            fused = ", ".join(o.name for o in NN.operations if issubclass(o, FusedActivation))
            raise VerifyException(
                f"'{op.name}' cannot carry a fused activation ({stray}): only {fused} can, "
                "so clamp its result with nn.relu or nn.clamp"
            )
        if stray is not None:
            raise VerifyException(
                f"'{op.name}' {stray} is a discardable attribute, which is ignored: make it a property"
            )
        if isinstance(op, FusedActivation):
            lo, hi = op.activation_bounds()
            for name, bound in zip(ACTIVATION_BOUNDS, (lo, hi), strict=True):
                if bound is not None and math.isnan(bound):
                    raise VerifyException(f"'{op.name}' {name} must be a number, got nan")
            if lo is not None and hi is not None and lo > hi:
                raise VerifyException(f"'{op.name}' act_min {lo} must not exceed act_max {hi}")


# ---------------------------------------------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------------------------------------------


_NUMPY_DTYPES = {"f32": "<f4", "f64": "<f8", "i8": "<i1", "i16": "<i2", "i32": "<i4", "i64": "<i8"}


def dense_to_numpy(attr: DenseIntOrFPElementsAttr) -> np.ndarray:
    """A dense attribute's bytes viewed as a numpy array of its shape (no element-by-element decoding)."""
    dtype = _NUMPY_DTYPES[str(attr.get_element_type())]
    array = np.frombuffer(attr.data.data, dtype=dtype)
    shape = attr.get_shape()
    if array.size == 1 and math.prod(shape) != 1:  # a splat
        return np.broadcast_to(array, shape)
    return array.reshape(shape)


def dense_f32(array: np.ndarray) -> DenseIntOrFPElementsAttr:
    """An f32 dense attribute holding `array`, built from its raw little-endian bytes (no per-element work)."""
    data = np.asarray(array, dtype="<f4", order="C")  # (ascontiguousarray makes 0-d arrays 1-d)
    return DenseIntOrFPElementsAttr(TensorType(f32, data.shape), BytesAttr(data.tobytes()))


_ELEMENT_TYPES = {"<f4": f32, "|i1": IntegerType(8), "<i2": IntegerType(16), "<i4": IntegerType(32),
                  "<i8": IntegerType(64)}


def dense_of(array: np.ndarray) -> DenseIntOrFPElementsAttr:
    """A dense attribute of `array`'s own element type (f32, or i8/i16/i32/i64 for int8 models), from its bytes."""
    data = np.asarray(array, order="C")
    data = data.astype(data.dtype.newbyteorder("<"))
    element = _ELEMENT_TYPES.get(data.dtype.str)
    if element is None:
        raise ValueError(f"no dense attribute of numpy {data.dtype}; use float32 or int8..int64")
    return DenseIntOrFPElementsAttr(TensorType(element, data.shape), BytesAttr(data.tobytes()))


def constant_array(value: SSAValue) -> np.ndarray | None:
    """The array behind `value` when an `nn.constant` defines it, else None (rewrites fold only constants)."""
    return value.owner.to_array() if isinstance(value.owner, ConstantOp) else None


@irdl_op_definition
class ConstantOp(IRDLOperation):
    """A weight or other constant tensor, held as a dense attribute (stored in flash after lowering)."""

    name = "nn.constant"

    value = prop_def(DenseIntOrFPElementsAttr)
    output = result_def(TensorType)

    traits = traits_def(ConstantLike(), Pure(), ActivationBounds())

    def __init__(self, value: DenseIntOrFPElementsAttr):
        super().__init__(properties={"value": value}, result_types=[value.type])

    @staticmethod
    def from_array(array: np.ndarray) -> ConstantOp:
        """An f32 constant holding `array`."""
        return ConstantOp(dense_f32(array))

    def to_array(self) -> np.ndarray:
        """The value as a read-only numpy array of its shape."""
        return dense_to_numpy(self.value)

    def verify_(self) -> None:
        if self.value.type != self.output.type:
            raise VerifyException(
                f"'nn.constant' value type {self.value.type} does not match result type {self.output.type}"
            )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_attribute(self.value)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ConstantOp:
        pos = parser.pos
        value = parser.parse_attribute()
        if not isinstance(value, DenseIntOrFPElementsAttr):
            parser.raise_error("'nn.constant' expects a dense<...> : tensor<...> attribute", pos, parser.pos)
        op = cls(value)
        if (attrs := parser.parse_optional_attr_dict()) is not None:
            op.attributes.update(attrs)
        return op


# ---------------------------------------------------------------------------------------------------------------
# Convolution and fully connected
# ---------------------------------------------------------------------------------------------------------------


@irdl_op_definition
class Conv2dOp(FusedActivation):
    """2-D convolution, NCHW input, OIHW weight ([out, in/groups, kh, kw]) as PyTorch stores it.

    groups == in_channels == out_channels is a depthwise convolution.
    """

    name = "nn.conv2d"

    input = operand_def(TensorType.constr(f32))
    weight = operand_def(TensorType.constr(f32))
    bias = opt_operand_def(TensorType.constr(f32))
    output = result_def(TensorType.constr(f32))

    stride = prop_def(DenseArrayBase)
    padding = prop_def(DenseArrayBase)
    dilation = prop_def(DenseArrayBase)
    groups = prop_def(IntegerAttr[IntegerType])

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)"

    def __init__(
        self,
        input: SSAValue | Operation,
        weight: SSAValue | Operation,
        bias: SSAValue | Operation | None,
        stride: Sequence[int],
        padding: Sequence[int],
        dilation: Sequence[int],
        groups: int,
    ):
        in_shape, w_shape = _tensor_shape(SSAValue.get(input)), _tensor_shape(SSAValue.get(weight))
        out_shape = conv2d_output_shape(in_shape, w_shape, stride, padding, dilation)
        super().__init__(
            operands=[input, weight, [] if bias is None else [bias]],
            result_types=[_f32_tensor(out_shape)],
            properties={
                "stride": _i64_array(stride),
                "padding": _i64_array(padding),
                "dilation": _i64_array(dilation),
                "groups": IntegerAttr(groups, i64),
            },
        )

    def geometry(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """(stride, padding, dilation) as checked integer tuples."""
        return (
            _check_array(self, "stride", self.stride, 2, 1),
            _check_array(self, "padding", self.padding, 4, 0),
            _check_array(self, "dilation", self.dilation, 2, 1),
        )

    def verify_(self) -> None:
        stride, padding, dilation = self.geometry()
        groups = self.groups.value.data
        x, w = _tensor_shape(self.input), _tensor_shape(self.weight)
        _expect_rank(self, "input", x, 4, "NCHW")
        _expect_rank(self, "weight", w, 4, "OIHW")
        if groups < 1 or x[1] % groups or w[0] % groups:
            raise VerifyException(
                f"'nn.conv2d' groups={groups} must divide input channels {x[1]} and output channels {w[0]}"
            )
        if w[1] * groups != x[1]:
            raise VerifyException(
                f"'nn.conv2d' weight {_fmt(w)} expects {w[1] * groups} input channels "
                f"(weight dim 1 x groups={groups}), but input {_fmt(x)} has {x[1]}"
            )
        if self.bias is not None and _tensor_shape(self.bias) != (w[0],):
            raise VerifyException(
                f"'nn.conv2d' bias must have shape {w[0]} (one per output channel), "
                f"got {_fmt(_tensor_shape(self.bias))}"
            )
        expected = conv2d_output_shape(x, w, stride, padding, dilation)
        if min(expected) < 1:
            raise VerifyException(f"'nn.conv2d' kernel {_fmt(w[2:])} does not fit input {_fmt(x)} with this padding")
        _expect_result(self, _tensor_shape(self.output), expected)


LINEAR_LANES = 4
"""Vector width of the blocked linear kernel (four f32 accumulators per vector)."""


def linear_weight_blocks(n_out: int) -> list[tuple[int, int, int]]:
    """Output blocks [(start, end, width)] of the "blocked" linear layout: blocks of 8 outputs, one of 4, then
    the remaining (< 4) outputs, which stay row-major."""
    n8 = n_out - n_out % (2 * LINEAR_LANES)
    n4 = n8 + (LINEAR_LANES if n_out - n8 >= LINEAR_LANES else 0)
    return [(s, e, w) for s, e, w in ((0, n8, 2 * LINEAR_LANES), (n8, n4, LINEAR_LANES)) if e > s]


def _blocked_order(n_out: int, n_in: int) -> np.ndarray:
    """Row-major [out, in] index of each element of the "blocked" layout, in storage order."""
    index = np.arange(n_out * n_in).reshape(n_out, n_in)
    parts = [index[o : o + w].T.ravel() for s, e, w in linear_weight_blocks(n_out) for o in range(s, e, w)]
    done = linear_weight_blocks(n_out)[-1][1] if linear_weight_blocks(n_out) else 0
    return np.concatenate([*parts, index[done:].ravel()])


def pack_linear_weight(weight: np.ndarray) -> np.ndarray:
    """[out, in] -> the "blocked" layout (same shape and size): each block of outputs stored as [in][width], so the
    kernel that computes `width` outputs at once reads its weights in one sequential stream."""
    n_out, n_in = weight.shape
    return np.ascontiguousarray(weight.ravel()[_blocked_order(n_out, n_in)].reshape(n_out, n_in))


def unpack_linear_weight(packed: np.ndarray) -> np.ndarray:
    """The inverse of `pack_linear_weight`."""
    n_out, n_in = packed.shape
    weight = np.empty(n_out * n_in, packed.dtype)
    weight[_blocked_order(n_out, n_in)] = packed.ravel()
    return weight.reshape(n_out, n_in)


@irdl_op_definition
class LinearOp(FusedActivation):
    """y = x W^T + b with W of shape [out, in] as PyTorch stores it; x is [..., in].

    `weight_layout = "blocked"` (set by pack-weights) says the weight's elements are stored in the order the blocked
    kernel reads them (`pack_linear_weight`); the tensor keeps its [out, in] type.
    """

    name = "nn.linear"

    input = operand_def(TensorType.constr(f32))
    weight = operand_def(TensorType.constr(f32))
    bias = opt_operand_def(TensorType.constr(f32))
    output = result_def(TensorType.constr(f32))
    weight_layout = opt_prop_def(StringAttr)

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue | Operation, weight: SSAValue | Operation, bias: SSAValue | Operation | None):
        x, w = _tensor_shape(SSAValue.get(input)), _tensor_shape(SSAValue.get(weight))
        super().__init__(
            operands=[input, weight, [] if bias is None else [bias]],
            result_types=[_f32_tensor((*x[:-1], w[0]))],
        )

    def verify_(self) -> None:
        x, w = _tensor_shape(self.input), _tensor_shape(self.weight)
        if self.weight_layout is not None and self.weight_layout.data != "blocked":
            raise VerifyException(f'\'nn.linear\' weight_layout must be "blocked", got "{self.weight_layout.data}"')
        _expect_rank(self, "weight", w, 2, "[out, in]")
        if not x or x[-1] != w[1]:
            raise VerifyException(
                f"'nn.linear' input {_fmt(x)} must end in {w[1]} features to match weight {_fmt(w)} ([out, in])"
            )
        if self.bias is not None and _tensor_shape(self.bias) != (w[0],):
            raise VerifyException(
                f"'nn.linear' bias must have shape {w[0]} (one per output feature), "
                f"got {_fmt(_tensor_shape(self.bias))}"
            )
        _expect_result(self, _tensor_shape(self.output), (*x[:-1], w[0]))


# ---------------------------------------------------------------------------------------------------------------
# Elementwise
# ---------------------------------------------------------------------------------------------------------------


class UnaryOp(IRDLOperation):
    """Base of the elementwise unary ops: one f32 tensor in, the same type out."""

    input = operand_def(T)
    output = result_def(T)

    traits = traits_def(Pure(), ActivationBounds())
    assembly_format = "$input attr-dict `:` type($input)"

    def __init__(self, input: SSAValue | Operation):
        super().__init__(operands=[input], result_types=[SSAValue.get(input).type])


@irdl_op_definition
class ReluOp(UnaryOp):
    """max(x, 0)."""

    name = "nn.relu"


@irdl_op_definition
class SigmoidOp(UnaryOp):
    """1 / (1 + exp(-x))."""

    name = "nn.sigmoid"


@irdl_op_definition
class TanhOp(UnaryOp):
    """Hyperbolic tangent."""

    name = "nn.tanh"


@irdl_op_definition
class ClampOp(IRDLOperation):
    """min(max(x, min), max): ReLU6 is clamp(0, 6), PyTorch's hardtanh is clamp(-1, 1)."""

    name = "nn.clamp"

    input = operand_def(T)
    output = result_def(T)
    min = prop_def(FloatAttr[Float32Type])
    max = prop_def(FloatAttr[Float32Type])

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` type($input)"

    def __init__(self, input: SSAValue | Operation, min: float, max: float):
        super().__init__(
            operands=[input],
            result_types=[SSAValue.get(input).type],
            properties={"min": FloatAttr(min, f32), "max": FloatAttr(max, f32)},
        )

    def verify_(self) -> None:
        lo, hi = self.min.value.data, self.max.value.data
        if not lo <= hi:
            raise VerifyException(f"'nn.clamp' min {lo} must not exceed max {hi}")


class BinaryOp(FusedActivation):
    """Base of the elementwise binary ops, with numpy/PyTorch broadcasting."""

    lhs = operand_def(TensorType.constr(f32))
    rhs = operand_def(TensorType.constr(f32))
    output = result_def(TensorType.constr(f32))

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)"

    def __init__(self, lhs: SSAValue | Operation, rhs: SSAValue | Operation):
        shape = broadcast_shapes(_tensor_shape(SSAValue.get(lhs)), _tensor_shape(SSAValue.get(rhs)))
        assert shape is not None, "operands do not broadcast"
        super().__init__(operands=[lhs, rhs], result_types=[_f32_tensor(shape)])

    def verify_(self) -> None:
        a, b = _tensor_shape(self.lhs), _tensor_shape(self.rhs)
        shape = broadcast_shapes(a, b)
        if shape is None:
            raise VerifyException(f"'{self.name}' operands {_fmt(a)} and {_fmt(b)} do not broadcast")
        _expect_result(self, _tensor_shape(self.output), shape)


@irdl_op_definition
class AddOp(BinaryOp):
    """Elementwise sum (residual connections)."""

    name = "nn.add"


@irdl_op_definition
class MulOp(BinaryOp):
    """Elementwise product (gating, squeeze-and-excitation)."""

    name = "nn.mul"


@irdl_op_definition
class BatchNormOp(IRDLOperation):
    """Inference batch normalisation over dim 1: (x - mean) / sqrt(var + eps) * weight + bias."""

    name = "nn.batch_norm"

    input = operand_def(TensorType.constr(f32))
    mean = operand_def(TensorType.constr(f32))
    var = operand_def(TensorType.constr(f32))
    weight = operand_def(TensorType.constr(f32))
    bias = operand_def(TensorType.constr(f32))
    output = result_def(TensorType.constr(f32))
    eps = prop_def(FloatAttr[Float32Type])

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input `,` $mean `,` $var `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)"

    def __init__(
        self,
        input: SSAValue | Operation,
        mean: SSAValue | Operation,
        var: SSAValue | Operation,
        weight: SSAValue | Operation,
        bias: SSAValue | Operation,
        eps: float,
    ):
        super().__init__(
            operands=[input, mean, var, weight, bias],
            result_types=[SSAValue.get(input).type],
            properties={"eps": FloatAttr(eps, f32)},
        )

    def affine(
        self, constant: Callable[[SSAValue], np.ndarray | None] = constant_array
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Inference batch norm as y = x * scale + shift per channel (float64), or None if a parameter is not a
        compile-time constant; `constant` reads one (the lowering also looks through lowered globals)."""
        params = [constant(v) for v in (self.mean, self.var, self.weight, self.bias)]
        if any(p is None for p in params):
            return None
        mean, var, gamma, beta = (np.asarray(p, np.float64) for p in params)
        scale = gamma / np.sqrt(var + float(np.float32(self.eps.value.data)))
        return scale, beta - mean * scale

    def verify_(self) -> None:
        x = _tensor_shape(self.input)
        if len(x) < 2:
            raise VerifyException(f"'nn.batch_norm' input must have a channel dim 1, got shape {_fmt(x)}")
        for name in ("mean", "var", "weight", "bias"):
            s = _tensor_shape(getattr(self, name))
            if s != (x[1],):
                raise VerifyException(
                    f"'nn.batch_norm' {name} must have shape {x[1]} (one per channel of input {_fmt(x)}), got {_fmt(s)}"
                )
        _expect_result(self, _tensor_shape(self.output), x)


# ---------------------------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------------------------


class Pool2dOp(FusedActivation):
    """Base of the windowed pooling ops on NCHW tensors."""

    input = operand_def(TensorType.constr(f32))
    output = result_def(TensorType.constr(f32))
    kernel = prop_def(DenseArrayBase)
    stride = prop_def(DenseArrayBase)
    padding = prop_def(DenseArrayBase)

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    DILATION: ClassVar[tuple[int, int]] = (1, 1)

    def _build(
        self,
        input: SSAValue | Operation,
        kernel: Sequence[int],
        stride: Sequence[int],
        padding: Sequence[int],
        dilation: Sequence[int],
        extra: dict[str, Attribute],
    ) -> None:
        """The shared constructor: result shape from the window, plus each op's own properties."""
        shape = pool2d_output_shape(_tensor_shape(SSAValue.get(input)), kernel, stride, padding, dilation)
        properties = {"kernel": _i64_array(kernel), "stride": _i64_array(stride), "padding": _i64_array(padding)}
        IRDLOperation.__init__(self, operands=[input], result_types=[_f32_tensor(shape)], properties=properties | extra)

    def window(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """Kernel, stride, padding, dilation as checked integer tuples."""
        return (
            _check_array(self, "kernel", self.kernel, 2, 1),
            _check_array(self, "stride", self.stride, 2, 1),
            _check_array(self, "padding", self.padding, 4, 0),
            self.DILATION,
        )

    def verify_(self) -> None:
        kernel, stride, padding, dilation = self.window()
        x = _tensor_shape(self.input)
        _expect_rank(self, "input", x, 4, "NCHW")
        expected = pool2d_output_shape(x, kernel, stride, padding, dilation)
        if min(expected) < 1:
            raise VerifyException(f"'{self.name}' kernel {list(kernel)} does not fit input {_fmt(x)}")
        for axis in (0, 1):
            # Every window must overlap the input: a window of padding only has no maximum and no average.
            first_ok = padding[axis] < dilation[axis] * (kernel[axis] - 1) + 1
            last_ok = (expected[2 + axis] - 1) * stride[axis] - padding[axis] < x[2 + axis]
            if not (first_ok and last_ok):
                raise VerifyException(
                    f"'{self.name}' padding {list(padding)} makes a {list(kernel)} window fall entirely outside "
                    f"input {_fmt(x)}"
                )
        _expect_result(self, _tensor_shape(self.output), expected)


@irdl_op_definition
class MaxPool2dOp(Pool2dOp):
    """Max over each window; padding counts as -inf."""

    name = "nn.max_pool2d"

    dilation = prop_def(DenseArrayBase)

    def __init__(
        self,
        input: SSAValue | Operation,
        kernel: Sequence[int],
        stride: Sequence[int],
        padding: Sequence[int],
        dilation: Sequence[int] = (1, 1),
    ):
        self._build(input, kernel, stride, padding, dilation, {"dilation": _i64_array(dilation)})

    def window(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        kernel, stride, padding, _ = super().window()
        return kernel, stride, padding, _check_array(self, "dilation", self.dilation, 2, 1)


@irdl_op_definition
class AvgPool2dOp(Pool2dOp):
    """Mean over each window; `count_include_pad` decides whether padded zeros count in the divisor."""

    name = "nn.avg_pool2d"

    count_include_pad = prop_def(BoolAttr)
    divisor_override = opt_prop_def(IntegerAttr[IntegerType])
    """PyTorch's `divisor_override`: every window's sum is divided by it (count_include_pad then plays no part)."""

    def __init__(
        self,
        input: SSAValue | Operation,
        kernel: Sequence[int],
        stride: Sequence[int],
        padding: Sequence[int],
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ):
        extra: dict[str, Attribute] = {"count_include_pad": BoolAttr.from_bool(count_include_pad)}
        if divisor_override is not None:
            extra["divisor_override"] = IntegerAttr(divisor_override, i64)
        self._build(input, kernel, stride, padding, (1, 1), extra)

    def divisor(self) -> int | None:
        """The divisor of every window (divisor_override, or the kernel area when padding counts), or None when
        each window divides by its own number of valid taps."""
        if self.divisor_override is not None:
            return self.divisor_override.value.data
        kernel = self.window()[0]
        return kernel[0] * kernel[1] if self.count_include_pad.value.data else None

    def verify_(self) -> None:
        super().verify_()
        if self.divisor_override is not None and self.divisor_override.value.data < 1:
            divisor = self.divisor_override.value.data
            raise VerifyException(f"'nn.avg_pool2d' divisor_override must be >= 1, got {divisor}")


@irdl_op_definition
class AdaptiveAvgPool2dOp(IRDLOperation):
    """PyTorch's adaptive average pool: output cell i covers [floor(i*H/out), ceil((i+1)*H/out)).

    output_size [1, 1] is global average pooling.
    """

    name = "nn.adaptive_avg_pool2d"

    input = operand_def(TensorType.constr(f32))
    output = result_def(TensorType.constr(f32))
    output_size = prop_def(DenseArrayBase)

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue | Operation, output_size: Sequence[int]):
        n, c, _, _ = _tensor_shape(SSAValue.get(input))
        super().__init__(
            operands=[input],
            result_types=[_f32_tensor((n, c, *output_size))],
            properties={"output_size": _i64_array(output_size)},
        )

    def verify_(self) -> None:
        size = _check_array(self, "output_size", self.output_size, 2, 1)
        x = _tensor_shape(self.input)
        _expect_rank(self, "input", x, 4, "NCHW")
        _expect_result(self, _tensor_shape(self.output), (x[0], x[1], *size))


# ---------------------------------------------------------------------------------------------------------------
# Shape ops
# ---------------------------------------------------------------------------------------------------------------


@irdl_op_definition
class FlattenOp(IRDLOperation):
    """Merge dims start_dim..end_dim (inclusive, non-negative) into one, as torch.flatten; any element type."""

    name = "nn.flatten"

    input = operand_def(TensorType)
    output = result_def(TensorType)
    start_dim = prop_def(IntegerAttr[IntegerType])
    end_dim = prop_def(IntegerAttr[IntegerType])

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    @staticmethod
    def flattened(shape: Shape, start: int, end: int) -> Shape:
        return (*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])

    def __init__(self, input: SSAValue | Operation, start_dim: int, end_dim: int):
        shape = self.flattened(_tensor_shape(SSAValue.get(input)), start_dim, end_dim)
        super().__init__(
            operands=[input],
            result_types=[_like(input, shape)],
            properties={"start_dim": IntegerAttr(start_dim, i64), "end_dim": IntegerAttr(end_dim, i64)},
        )

    def verify_(self) -> None:
        x = _tensor_shape(self.input)
        start, end = self.start_dim.value.data, self.end_dim.value.data
        if not 0 <= start <= end < len(x):
            raise VerifyException(
                f"'nn.flatten' needs 0 <= start_dim <= end_dim < rank {len(x)}, got start_dim={start} end_dim={end}"
            )
        _expect_result(self, _tensor_shape(self.output), self.flattened(x, start, end))
        _expect_same_element(self, [self.input], self.output)


@irdl_op_definition
class ReshapeOp(IRDLOperation):
    """Row-major reshape to the result type's shape (a view after bufferisation); any element type."""

    name = "nn.reshape"

    input = operand_def(TensorType)
    output = result_def(TensorType)

    traits = traits_def(Pure(), ActivationBounds())
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue | Operation, shape: Sequence[int]):
        super().__init__(operands=[input], result_types=[_like(input, shape)])

    def verify_(self) -> None:
        x, y = _tensor_shape(self.input), _tensor_shape(self.output)
        if math.prod(x) != math.prod(y):
            raise VerifyException(
                f"'nn.reshape' cannot reshape {_fmt(x)} ({math.prod(x)} elements) "
                f"to {_fmt(y)} ({math.prod(y)} elements)"
            )
        _expect_same_element(self, [self.input], self.output)


@irdl_op_definition
class ConcatOp(IRDLOperation):
    """Concatenate along `axis`; all other dims must agree; any element type (int8 inputs share one quantization)."""

    name = "nn.concat"

    inputs = var_operand_def(TensorType)
    output = result_def(TensorType)
    axis = prop_def(IntegerAttr[IntegerType])

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$inputs attr-dict `:` functional-type(operands, results)"

    def __init__(self, inputs: Sequence[SSAValue | Operation], axis: int):
        shapes = [_tensor_shape(SSAValue.get(v)) for v in inputs]
        out = list(shapes[0])
        out[axis] = sum(s[axis] for s in shapes)
        super().__init__(
            operands=[inputs], result_types=[_like(inputs[0], out)], properties={"axis": IntegerAttr(axis, i64)}
        )

    def verify_(self) -> None:
        shapes = [_tensor_shape(v) for v in self.inputs]
        axis = self.axis.value.data
        if not shapes:
            raise VerifyException("'nn.concat' needs at least one input")
        rank = len(shapes[0])
        if not 0 <= axis < rank:
            raise VerifyException(f"'nn.concat' axis {axis} is out of range for rank {rank}")
        for s in shapes:
            if len(s) != rank or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0], strict=True)) if i != axis):
                raise VerifyException(
                    f"'nn.concat' inputs {', '.join(_fmt(x) for x in shapes)} differ outside axis {axis}"
                )
        expected = list(shapes[0])
        expected[axis] = sum(s[axis] for s in shapes)
        _expect_result(self, _tensor_shape(self.output), tuple(expected))
        _expect_same_element(self, list(self.inputs), self.output)


class AxisOp(IRDLOperation):
    """Base of the ops that normalise along one `axis` (softmax, log_softmax)."""

    input = operand_def(T)
    output = result_def(T)
    axis = prop_def(IntegerAttr[IntegerType])

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` type($input)"

    def __init__(self, input: SSAValue | Operation, axis: int):
        super().__init__(
            operands=[input], result_types=[SSAValue.get(input).type], properties={"axis": IntegerAttr(axis, i64)}
        )

    def verify_(self) -> None:
        rank = len(_tensor_shape(self.input))
        if not 0 <= self.axis.value.data < rank:
            raise VerifyException(f"'{self.name}' axis {self.axis.value.data} is out of range for rank {rank}")


@irdl_op_definition
class SoftmaxOp(AxisOp):
    """exp(x - max) / sum(exp(x - max)) along `axis`."""

    name = "nn.softmax"


@irdl_op_definition
class LogSoftmaxOp(AxisOp):
    """x - max - log(sum(exp(x - max))) along `axis` (the tail of classifiers trained with NLLLoss)."""

    name = "nn.log_softmax"


# ---------------------------------------------------------------------------------------------------------------
# Activations, padding, resizing, batch statistics (issue 12)
# ---------------------------------------------------------------------------------------------------------------


@irdl_op_definition
class HardswishOp(UnaryOp):
    """x * relu6(x + 3) / 6 (MobileNetV3), one pass over memory instead of four ops."""

    name = "nn.hardswish"


@irdl_op_definition
class HardsigmoidOp(UnaryOp):
    """relu6(x + 3) / 6."""

    name = "nn.hardsigmoid"


@irdl_op_definition
class SiluOp(UnaryOp):
    """x * sigmoid(x) (swish), one exp per element instead of a sigmoid pass and a mul pass."""

    name = "nn.silu"


class ScalarParamOp(IRDLOperation):
    """Base of the unary ops with one float parameter (ELU's alpha, LeakyReLU's slope)."""

    input = operand_def(T)
    output = result_def(T)

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` type($input)"

    PARAM: ClassVar[str] = ""

    def __init__(self, input: SSAValue | Operation, value: float):
        super().__init__(
            operands=[input], result_types=[SSAValue.get(input).type], properties={self.PARAM: FloatAttr(value, f32)}
        )

    def param(self) -> float:
        return cast(FloatAttr, self.properties[self.PARAM]).value.data

    def verify_(self) -> None:
        if not math.isfinite(self.param()):
            raise VerifyException(f"'{self.name}' {self.PARAM} must be finite, got {self.param()}")


@irdl_op_definition
class EluOp(ScalarParamOp):
    """x if x > 0 else alpha * (exp(x) - 1)."""

    name = "nn.elu"
    alpha = prop_def(FloatAttr[Float32Type])
    PARAM: ClassVar[str] = "alpha"


@irdl_op_definition
class LeakyReluOp(ScalarParamOp):
    """x if x > 0 else negative_slope * x."""

    name = "nn.leaky_relu"
    negative_slope = prop_def(FloatAttr[Float32Type])
    PARAM: ClassVar[str] = "negative_slope"


GELU_FORMS = ("none", "tanh")


@irdl_op_definition
class GeluOp(IRDLOperation):
    """x * Phi(x): `approximate = "none"` with erf (PyTorch's default), `"tanh"` with the tanh formula."""

    name = "nn.gelu"

    input = operand_def(T)
    output = result_def(T)
    approximate = prop_def(StringAttr)

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` type($input)"

    def __init__(self, input: SSAValue | Operation, approximate: str = "none"):
        super().__init__(
            operands=[input],
            result_types=[SSAValue.get(input).type],
            properties={"approximate": StringAttr(approximate)},
        )

    def verify_(self) -> None:
        if self.approximate.data not in GELU_FORMS:
            forms = ", ".join(GELU_FORMS)
            raise VerifyException(f"'nn.gelu' approximate must be one of {forms}, got '{self.approximate.data}'")


@irdl_op_definition
class PreluOp(IRDLOperation):
    """x if x > 0 else slope[c] * x, one slope for all channels or one per channel (dim 1)."""

    name = "nn.prelu"

    input = operand_def(TensorType.constr(f32))
    slope = operand_def(TensorType.constr(f32))
    output = result_def(TensorType.constr(f32))

    traits = traits_def(Pure(), ActivationBounds())
    assembly_format = "$input `,` $slope attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue | Operation, slope: SSAValue | Operation):
        super().__init__(operands=[input, slope], result_types=[SSAValue.get(input).type])

    def verify_(self) -> None:
        x, s = _tensor_shape(self.input), _tensor_shape(self.slope)
        channels = x[1] if len(x) >= 2 else 1
        if s not in ((1,), (channels,)):
            raise VerifyException(
                f"'nn.prelu' slope must have shape 1 or {channels} (the channels of input {_fmt(x)}), got {_fmt(s)}"
            )
        _expect_result(self, _tensor_shape(self.output), x)


PAD_MODES = ("constant", "reflect", "replicate")


@irdl_op_definition
class PadOp(IRDLOperation):
    """Padding of every dim: `low[d]` elements before, `high[d]` after; "constant" fills with `value`,
    "reflect" mirrors without repeating the edge, "replicate" repeats it. Any element type (f32, int8)."""

    name = "nn.pad"

    input = operand_def(TensorType)
    output = result_def(TensorType)
    low = prop_def(DenseArrayBase)
    high = prop_def(DenseArrayBase)
    mode = prop_def(StringAttr)
    value = prop_def(FloatAttr)

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(
        self, input: SSAValue | Operation, low: Sequence[int], high: Sequence[int], mode: str = "constant",
        value: float = 0.0,
    ):
        shape = [d + a + b for d, a, b in zip(_tensor_shape(SSAValue.get(input)), low, high, strict=True)]
        super().__init__(
            operands=[input],
            result_types=[_like(input, shape)],
            properties={"low": _i64_array(low), "high": _i64_array(high), "mode": StringAttr(mode),
                        "value": FloatAttr(value, f32)},
        )

    def widths(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        rank = len(_tensor_shape(self.input))
        return _check_array(self, "low", self.low, rank, 0), _check_array(self, "high", self.high, rank, 0)

    def verify_(self) -> None:
        x = _tensor_shape(self.input)
        low, high = self.widths()
        mode = self.mode.data
        if mode not in PAD_MODES:
            raise VerifyException(f"'nn.pad' mode must be one of {', '.join(PAD_MODES)}, got '{mode}'")
        if mode == "reflect" and any(a >= d or b >= d for a, b, d in zip(low, high, x, strict=True)):
            raise VerifyException(
                f"'nn.pad' reflect padding {list(low)}, {list(high)} must be smaller than input {_fmt(x)}"
            )
        _expect_result(self, _tensor_shape(self.output), tuple(d + a + b for d, a, b in zip(x, low, high, strict=True)))
        _expect_same_element(self, [self.input], self.output)


UPSAMPLE_MODES = ("nearest", "bilinear")


@irdl_op_definition
class UpsampleOp(IRDLOperation):
    """Resize of an NCHW tensor's plane, PyTorch's `interpolate`. `scale` [h, w] is PyTorch's source step per
    output pixel (1 / scale_factor when one is given, else in / out), kept in f32 as PyTorch computes with it:
    nearest reads floor(o * scale); bilinear reads around (o + 0.5) * scale - 0.5 (>= 0), or o * (in - 1) /
    (out - 1) with `align_corners`. Any element type: on int8 values (one quantization in and out) bilinear
    weighs with the weights rounded to Q10 (`resize_weights_q10`), sums in int32 and rounds half up (>> 20)."""

    name = "nn.upsample"

    input = operand_def(TensorType)
    output = result_def(TensorType)
    mode = prop_def(StringAttr)
    scale = prop_def(DenseArrayBase)
    align_corners = prop_def(BoolAttr)

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(
        self, input: SSAValue | Operation, size: Sequence[int], mode: str, scale: Sequence[float],
        align_corners: bool = False,
    ):
        n, c, _, _ = _tensor_shape(SSAValue.get(input))
        super().__init__(
            operands=[input],
            result_types=[_like(input, (n, c, *size))],
            properties={"mode": StringAttr(mode), "scale": DenseArrayBase.from_list(f32, list(scale)),
                        "align_corners": BoolAttr.from_bool(align_corners)},
        )

    def scales(self) -> tuple[float, float]:
        values = tuple(float(v) for v in cast(DenseArrayBase[Float32Type], self.scale).get_values())
        if len(values) != 2 or not all(math.isfinite(v) and v > 0 for v in values):
            raise VerifyException(f"'nn.upsample' scale must be 2 positive floats, got {list(values)}")
        return values  # type: ignore[return-value]

    def verify_(self) -> None:
        x, y = _tensor_shape(self.input), _tensor_shape(self.output)
        _expect_rank(self, "input", x, 4, "NCHW")
        _expect_rank(self, "result", y, 4, "NCHW")
        self.scales()
        if self.mode.data not in UPSAMPLE_MODES:
            modes = ", ".join(UPSAMPLE_MODES)
            raise VerifyException(f"'nn.upsample' mode must be one of {modes}, got '{self.mode.data}'")
        if y[:2] != x[:2]:
            raise VerifyException(f"'nn.upsample' result {_fmt(y)} must keep the batch and channels of {_fmt(x)}")
        _expect_same_element(self, [self.input], self.output)


@irdl_op_definition
class BatchNormStatsOp(IRDLOperation):
    """Batch normalisation with the batch's own statistics (BatchNorm without running stats, in eval too):
    per channel c, mean and biased variance over every dim but 1, then (x - mean) / sqrt(var + eps) * w + b."""

    name = "nn.batch_norm_stats"

    input = operand_def(TensorType.constr(f32))
    weight = operand_def(TensorType.constr(f32))
    bias = operand_def(TensorType.constr(f32))
    output = result_def(TensorType.constr(f32))
    eps = prop_def(FloatAttr[Float32Type])

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue | Operation, weight: SSAValue | Operation, bias: SSAValue | Operation,
                 eps: float):
        super().__init__(
            operands=[input, weight, bias],
            result_types=[SSAValue.get(input).type],
            properties={"eps": FloatAttr(eps, f32)},
        )

    def verify_(self) -> None:
        x = _tensor_shape(self.input)
        if len(x) < 2:
            raise VerifyException(f"'nn.batch_norm_stats' input must have a channel dim 1, got shape {_fmt(x)}")
        for name in ("weight", "bias"):
            s = _tensor_shape(getattr(self, name))
            if s != (x[1],):
                raise VerifyException(
                    f"'nn.batch_norm_stats' {name} must have shape {x[1]} (one per channel of input {_fmt(x)}), "
                    f"got {_fmt(s)}"
                )
        _expect_result(self, _tensor_shape(self.output), x)



def resize_taps(size: int, out: int, scale: float, mode: str, align_corners: bool
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PyTorch's source taps of a resize along one axis, in its float32 arithmetic (UpSample.h): for each output
    index, the first and second input index (int32) and the second one's weight (float32; nearest: 0).
    The interpreter and the lowering (as constant tables) share them, so both read exactly PyTorch's pixels."""
    o = np.arange(out)
    if mode == "nearest":
        if out == size:
            first = o
        elif out == 2 * size:
            first = o >> 1
        else:
            first = np.minimum(np.floor(o.astype(np.float32) * np.float32(scale)).astype(np.int64), size - 1)
        return first.astype(np.int32), first.astype(np.int32), np.zeros(out, np.float32)
    if align_corners:
        step = np.float32((size - 1) / (out - 1)) if out > 1 else np.float32(0.0)
        real = o.astype(np.float32) * step
    else:
        real = np.maximum(np.float32(scale) * (o.astype(np.float32) + np.float32(0.5)) - np.float32(0.5),
                          np.float32(0.0))
    first = np.minimum(np.floor(real).astype(np.int64), size - 1)
    weight = np.clip(real - first.astype(np.float32), 0, 1).astype(np.float32)
    second = first + (first < size - 1)
    return first.astype(np.int32), second.astype(np.int32), weight


RESIZE_FRACTION_BITS = 10
"""int8 bilinear resizing: each axis' weights in Q10 (TFLite's resize_bilinear uses 10 bits too)."""


def resize_weights_q10(weight: np.ndarray) -> np.ndarray:
    """[out, 2] int32 (1024 - w1, w1) with w1 = round(weight * 1024): an axis' int8 weights summing to 1024."""
    one = 1 << RESIZE_FRACTION_BITS
    second = np.floor(weight.astype(np.float64) * one + 0.5).astype(np.int64)
    return np.stack([one - second, second], axis=1).astype(np.int32)


OPS_A: list[type[IRDLOperation]] = [
    HardswishOp, HardsigmoidOp, SiluOp, EluOp, LeakyReluOp, GeluOp, PreluOp, PadOp, UpsampleOp, BatchNormStatsOp,
]


# ---------------------------------------------------------------------------------------------------------------
# Data movement, reductions, matrix products, layer norm, embedding (issue 12: slicing, select, chunk/split,
# permute/transpose, mean/sum over axes, matmul/bmm of two activations, LayerNorm, Embedding)
# ---------------------------------------------------------------------------------------------------------------


@irdl_op_definition
class SliceOp(IRDLOperation):
    """A strided box of the input: result[i] = input[start + i * step] on every axis (the result type gives the
    sizes). Slicing, `select` (a slice of one, then a reshape) and `chunk`/`split` (one slice per piece) are this
    op. A copy after lowering; any element type (an int8 slice keeps its quantization)."""

    name = "nn.slice"

    input = operand_def(TensorType)
    output = result_def(TensorType)
    start = prop_def(DenseArrayBase)
    step = prop_def(DenseArrayBase)

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue | Operation, start: Sequence[int], step: Sequence[int], sizes: Sequence[int]):
        super().__init__(
            operands=[input],
            result_types=[_like(input, sizes)],
            properties={"start": _i64_array(start), "step": _i64_array(step)},
        )

    def box(self) -> tuple[tuple[int, ...], tuple[int, ...], Shape]:
        """(start, step, sizes) as checked integer tuples."""
        rank = len(_tensor_shape(self.input))
        return (
            _check_array(self, "start", self.start, rank, 0),
            _check_array(self, "step", self.step, rank, 1),
            _tensor_shape(self.output),
        )

    def verify_(self) -> None:
        _verify_box(self, self.box(), _tensor_shape(self.input), "result", "input")
        _expect_same_element(self, [self.input], self.output)


def _verify_box(op: Operation, box: tuple[tuple[int, ...], tuple[int, ...], Shape], whole: Shape, part: str,
                whole_name: str) -> None:
    """The strided box (start, step, sizes) of `part` lies inside `whole` on every axis (nn.slice reads it,
    nn.insert_slice writes it)."""
    start, step, sizes = box
    if len(sizes) != len(whole):
        raise VerifyException(f"'{op.name}' {part} rank {len(sizes)} must equal {whole_name} rank {len(whole)}")
    for axis, (dim, s, k, n) in enumerate(zip(whole, start, step, sizes, strict=True)):
        if n < 1 or s + (n - 1) * k >= dim:
            raise VerifyException(
                f"'{op.name}' axis {axis}: {n} elements from {s} in steps of {k} do not fit {whole_name} {_fmt(whole)}"
            )


@irdl_op_definition
class InsertSliceOp(IRDLOperation):
    """`dest` with `source` written into a strided box of it: result[start + i * step] = source[i] on every axis
    (the source type gives the sizes), the rest of `dest` unchanged. torch.export's functionalization makes an
    in-place op on a slice or `select` of an activation (`x[:, 1:3].relu_()`, `x[:, 0] += 1`) into this write-back
    (slice_scatter, select_scatter). Two copies after lowering; any element type."""

    name = "nn.insert_slice"

    source = operand_def(TensorType)
    dest = operand_def(TensorType)
    output = result_def(TensorType)
    start = prop_def(DenseArrayBase)
    step = prop_def(DenseArrayBase)

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$source `into` $dest attr-dict `:` functional-type(operands, results)"

    def __init__(self, source: SSAValue | Operation, dest: SSAValue | Operation, start: Sequence[int],
                 step: Sequence[int]):
        super().__init__(
            operands=[source, dest],
            result_types=[SSAValue.get(dest).type],
            properties={"start": _i64_array(start), "step": _i64_array(step)},
        )

    def box(self) -> tuple[tuple[int, ...], tuple[int, ...], Shape]:
        """(start, step, sizes) of the box `source` fills, as checked integer tuples."""
        rank = len(_tensor_shape(self.dest))
        return (
            _check_array(self, "start", self.start, rank, 0),
            _check_array(self, "step", self.step, rank, 1),
            _tensor_shape(self.source),
        )

    def verify_(self) -> None:
        x = _tensor_shape(self.dest)
        _verify_box(self, self.box(), x, "source", "dest")
        _expect_result(self, _tensor_shape(self.output), x)
        _expect_same_element(self, [self.source, self.dest], self.output)


@irdl_op_definition
class TransposeOp(IRDLOperation):
    """result.shape[i] = input.shape[permutation[i]] (torch.permute; transpose swaps two axes). A copy after
    lowering; any element type."""

    name = "nn.transpose"

    input = operand_def(TensorType)
    output = result_def(TensorType)
    permutation = prop_def(DenseArrayBase)

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue | Operation, permutation: Sequence[int]):
        x = _tensor_shape(SSAValue.get(input))
        super().__init__(
            operands=[input],
            result_types=[_like(input, [x[p] for p in permutation])],
            properties={"permutation": _i64_array(permutation)},
        )

    def perm(self) -> tuple[int, ...]:
        return tuple(int(v) for v in cast(DenseArrayBase[IntegerType], self.permutation).get_values())

    def verify_(self) -> None:
        x, perm = _tensor_shape(self.input), self.perm()
        if sorted(perm) != list(range(len(x))):
            raise VerifyException(f"'nn.transpose' permutation {list(perm)} is not a permutation of rank {len(x)}")
        _expect_result(self, _tensor_shape(self.output), tuple(x[p] for p in perm))
        _expect_same_element(self, [self.input], self.output)


REDUCE_KINDS = ("sum", "mean")


@irdl_op_definition
class ReduceOp(IRDLOperation):
    """Sum or mean over `axes` (sorted, distinct); the reduced axes stay as size 1 (keepdim: torch's keepdim=False
    is a reshape after it)."""

    name = "nn.reduce"

    input = operand_def(TensorType.constr(f32))
    output = result_def(TensorType.constr(f32))
    axes = prop_def(DenseArrayBase)
    kind = prop_def(StringAttr)

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue | Operation, axes: Sequence[int], kind: str):
        x = _tensor_shape(SSAValue.get(input))
        super().__init__(
            operands=[input],
            result_types=[_f32_tensor(reduced_shape(x, axes))],
            properties={"axes": _i64_array(sorted(axes)), "kind": StringAttr(kind)},
        )

    def reduced_axes(self) -> tuple[int, ...]:
        return tuple(int(v) for v in cast(DenseArrayBase[IntegerType], self.axes).get_values())

    def verify_(self) -> None:
        x, axes = _tensor_shape(self.input), self.reduced_axes()
        if self.kind.data not in REDUCE_KINDS:
            raise VerifyException(f"'nn.reduce' kind must be one of {', '.join(REDUCE_KINDS)}, got '{self.kind.data}'")
        if not axes or list(axes) != sorted(set(axes)) or axes[0] < 0 or axes[-1] >= len(x):
            raise VerifyException(f"'nn.reduce' axes {list(axes)} must be sorted, distinct and in [0, {len(x)})")
        _expect_result(self, _tensor_shape(self.output), reduced_shape(x, axes))


def reduced_shape(shape: Sequence[int], axes: Sequence[int]) -> Shape:
    """`shape` with every axis in `axes` of size 1 (a keepdim reduction)."""
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def matmul_shape(lhs: Shape, rhs: Shape) -> Shape | None:
    """[..., M, K] @ [..., K, N] with broadcast batch dims (equal ranks >= 2); None when they do not fit."""
    if len(lhs) != len(rhs) or len(lhs) < 2 or lhs[-1] != rhs[-2]:
        return None
    batch = broadcast_shapes(lhs[:-2], rhs[:-2])
    return None if batch is None else (*batch, lhs[-2], rhs[-1])


@irdl_op_definition
class MatmulOp(IRDLOperation):
    """The matrix product of two activations (torch.matmul, bmm, attention's Q K^T): [..., M, K] x [..., K, N],
    equal ranks, batch dims broadcast. A weight operand imports as nn.linear instead."""

    name = "nn.matmul"

    lhs = operand_def(TensorType.constr(f32))
    rhs = operand_def(TensorType.constr(f32))
    output = result_def(TensorType.constr(f32))

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)"

    def __init__(self, lhs: SSAValue | Operation, rhs: SSAValue | Operation):
        shape = matmul_shape(_tensor_shape(SSAValue.get(lhs)), _tensor_shape(SSAValue.get(rhs)))
        assert shape is not None, "operands do not multiply"
        super().__init__(operands=[lhs, rhs], result_types=[_f32_tensor(shape)])

    def verify_(self) -> None:
        a, b = _tensor_shape(self.lhs), _tensor_shape(self.rhs)
        shape = matmul_shape(a, b)
        if shape is None:
            raise VerifyException(
                f"'nn.matmul' operands {_fmt(a)} and {_fmt(b)} must be [..., M, K] and [..., K, N] of one rank >= 2 "
                "with broadcastable batch dims"
            )
        _expect_result(self, _tensor_shape(self.output), shape)


@irdl_op_definition
class LayerNormOp(IRDLOperation):
    """(x - mean) / sqrt(var + eps) * weight + bias over the trailing axes from `axis` on (biased variance, as
    torch.nn.LayerNorm); weight and bias, when present, have the normalised shape."""

    name = "nn.layer_norm"

    input = operand_def(T)
    weight = opt_operand_def(TensorType.constr(f32))
    bias = opt_operand_def(TensorType.constr(f32))
    output = result_def(T)
    axis = prop_def(IntegerAttr[IntegerType])
    eps = prop_def(FloatAttr[Float32Type])

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(), AttrSizedOperandSegments(as_property=True))
    assembly_format = (
        "$input (`weight` $weight^)? (`bias` $bias^)? attr-dict `:` type($input) "
        "(`weight` type($weight)^)? (`bias` type($bias)^)?"
    )

    def __init__(
        self,
        input: SSAValue | Operation,
        weight: SSAValue | Operation | None,
        bias: SSAValue | Operation | None,
        axis: int,
        eps: float,
    ):
        super().__init__(
            operands=[input, [] if weight is None else [weight], [] if bias is None else [bias]],
            result_types=[SSAValue.get(input).type],
            properties={"axis": IntegerAttr(axis, i64), "eps": FloatAttr(eps, f32)},
        )

    def verify_(self) -> None:
        x, axis = _tensor_shape(self.input), self.axis.value.data
        if not 0 <= axis < len(x):
            raise VerifyException(f"'nn.layer_norm' axis {axis} is out of range for input {_fmt(x)}")
        for name in ("weight", "bias"):
            value = getattr(self, name)
            if value is not None and _tensor_shape(value) != x[axis:]:
                raise VerifyException(
                    f"'nn.layer_norm' {name} must have the normalised shape {_fmt(x[axis:])}, "
                    f"got {_fmt(_tensor_shape(value))}"
                )
        _expect_result(self, _tensor_shape(self.output), x)


@irdl_op_definition
class EmbeddingOp(IRDLOperation):
    """result[..., :] = weight[indices[...], :]: a row of the table per i32 index (any table element type). An
    index outside [0, rows) reads row 0 after lowering (PyTorch raises; a microcontroller must not read past the
    table)."""

    name = "nn.embedding"

    weight = operand_def(TensorType)
    indices = operand_def(TensorType.constr(i32))
    output = result_def(TensorType)

    traits = traits_def(Pure(), ActivationBounds())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$weight `,` $indices attr-dict `:` functional-type(operands, results)"

    def __init__(self, weight: SSAValue | Operation, indices: SSAValue | Operation):
        w, idx = _tensor_shape(SSAValue.get(weight)), _tensor_shape(SSAValue.get(indices))
        super().__init__(operands=[weight, indices], result_types=[_like(weight, (*idx, w[1]))])

    def verify_(self) -> None:
        w, idx = _tensor_shape(self.weight), _tensor_shape(self.indices)
        _expect_rank(self, "weight", w, 2, "[rows, features]")
        _expect_result(self, _tensor_shape(self.output), (*idx, w[1]))
        _expect_same_element(self, [self.weight], self.output)

NN = Dialect(
    "nn",
    [
        ConstantOp,
        Conv2dOp,
        LinearOp,
        ReluOp,
        ClampOp,
        SigmoidOp,
        TanhOp,
        AddOp,
        MulOp,
        BatchNormOp,
        MaxPool2dOp,
        AvgPool2dOp,
        AdaptiveAvgPool2dOp,
        FlattenOp,
        ReshapeOp,
        ConcatOp,
        SoftmaxOp,
        LogSoftmaxOp,
        *OPS_A,
        SliceOp,
        InsertSliceOp,
        TransposeOp,
        ReduceOp,
        MatmulOp,
        LayerNormOp,
        EmbeddingOp,
    ],
)
