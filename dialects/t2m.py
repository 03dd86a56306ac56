"""The `t2m` dialect: the model's description, as typed attributes that every stage carries.

A compiled model is seen from outside as an entry point, input and output tensors, a list of layers and an arena.
These facts are IR, set by the passes that know them and carried by every later pass down to the llvm dialect,
where the LLVM IR emitter writes them into the object (docs/design.md §1):

- `#t2m.model<...>` on the module (key `t2m.model`): the model's name (the C entry is `<name>_run`), its input
  and output tensor types, the activation layout, and the activation memory. `bufferize` sets it when it turns the
  tensor function into the C entry point; `plan-memory` records the arena it planned and the bytes live during
  each layer call.

      builtin.module attributes {t2m.model = #t2m.model<"kws", inputs = [tensor<1x1x49x10xf32>],
                                 outputs = [tensor<1x12xf32>], layout = "NCHW", arena = 64000 planned,
                                 live = [16000, 64000, ...]>}

- `#t2m.layer<...>` on each layer function (key `t2m.layer`): the nn op it computes and its multiply-accumulates,
  set by the `lower-nn-*` pass that creates the function. Layer functions stay out of line, so the emulator can
  price each one.

      func.func private @kws_L00_conv2d(...) attributes {t2m.layer = #t2m.layer<"conv2d", macs = 320000>}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from xdsl.dialects.builtin import (
    ArrayAttr,
    BoolAttr,
    DenseArrayBase,
    IntegerAttr,
    IntegerType,
    StringAttr,
    TensorType,
    i64,
)
from xdsl.ir import Attribute, Dialect, Operation, ParametrizedAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from t2m.dialects.qnn import QuantAttr

MODEL_KEY = "t2m.model"
"""Module attribute holding the `ModelAttr`."""

LAYER_KEY = "t2m.layer"
"""Function attribute holding a `LayerAttr`."""

VARIANT_KEY = "t2m.variant"
"""Layer op attribute naming the kernel variant its lowering emits (passes/_variants.py; set by the tuner)."""

LAYOUTS = ("NCHW",)


def _int(value: int) -> IntegerAttr:
    return IntegerAttr(value, i64)


@irdl_attr_definition
class LayerAttr(ParametrizedAttribute):
    """One layer function: the nn op it computes (`conv2d`, `linear`, `copy`...), its multiply-accumulates, and
    the kernel variant its lowering emitted when the op had a choice (passes/_variants.py; printed only then)."""

    name = "t2m.layer"

    op: StringAttr
    macs: IntegerAttr
    variant: StringAttr

    def __init__(self, op: str, macs: int, variant: str = ""):
        super().__init__(StringAttr(op), _int(macs), StringAttr(variant))

    @property
    def op_name(self) -> str:
        return self.op.data

    @property
    def mac_count(self) -> int:
        return self.macs.value.data

    @property
    def variant_name(self) -> str:
        return self.variant.data

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string("<")
        printer.print_string_literal(self.op.data)
        printer.print_string(f", macs = {self.macs.value.data}")
        if self.variant.data:
            printer.print_string(", variant = ")
            printer.print_string_literal(self.variant.data)
        printer.print_string(">")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        parser.parse_punctuation("<")
        op = parser.parse_str_literal("the layer's nn op name")
        parser.parse_punctuation(",")
        parser.parse_keyword("macs")
        parser.parse_punctuation("=")
        macs = parser.parse_integer(allow_boolean=False, context_msg="the layer's MAC count")
        variant = ""
        if parser.parse_optional_punctuation(","):
            parser.parse_keyword("variant")
            parser.parse_punctuation("=")
            variant = parser.parse_str_literal("the kernel variant")
        parser.parse_punctuation(">")
        return [StringAttr(op), _int(macs), StringAttr(variant)]

    def verify(self) -> None:
        if not self.op.data.isidentifier():
            raise VerifyException(f"#t2m.layer op name '{self.op.data}' must be an identifier (e.g. conv2d)")
        if self.macs.value.data < 0:
            raise VerifyException(f"#t2m.layer macs must be >= 0, got {self.macs.value.data}")


@irdl_attr_definition
class ModelAttr(ParametrizedAttribute):
    """The model's interface and memory: see the module docstring."""

    name = "t2m.model"

    model: StringAttr  # C identifier; the entry point is `<model>_run`
    inputs: ArrayAttr[TensorType]
    outputs: ArrayAttr[TensorType]
    layout: StringAttr
    arena: IntegerAttr  # bytes of activation buffers: one planned arena, or the sum of static buffers
    planned: BoolAttr  # plan-memory placed the buffers in one arena (and made `<model>_run_with_arena`)
    live: DenseArrayBase  # activation bytes live during each layer call (plan-memory's lifetimes)
    quant: ArrayAttr[QuantAttr]  # int8 models: the scale and zero point of each input, then of each output

    def __init__(
        self,
        model: str,
        inputs: Sequence[TensorType],
        outputs: Sequence[TensorType],
        layout: str = "NCHW",
        arena: int = 0,
        planned: bool = False,
        live: Sequence[int] = (),
        quant: Sequence[QuantAttr] = (),
    ):
        super().__init__(
            StringAttr(model),
            ArrayAttr(inputs),
            ArrayAttr(outputs),
            StringAttr(layout),
            _int(arena),
            BoolAttr.from_bool(planned),
            DenseArrayBase.from_list(i64, live),
            ArrayAttr(quant),
        )

    @property
    def entry(self) -> str:
        """The C entry point."""
        return f"{self.model.data}_run"

    @property
    def is_planned(self) -> bool:
        return bool(self.planned.value.data)

    @property
    def live_bytes(self) -> list[int]:
        return [int(v) for v in cast(DenseArrayBase[IntegerType], self.live).get_values()]

    def with_memory(self, arena: int, planned: bool, live: Sequence[int]) -> ModelAttr:
        """The same model with its activation memory recorded (plan-memory's result)."""
        return ModelAttr(
            self.model.data,
            list(self.inputs.data),
            list(self.outputs.data),
            self.layout.data,
            arena,
            planned,
            live,
            list(self.quant.data),
        )

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string("<")
        printer.print_string_literal(self.model.data)
        for key, types in (("inputs", self.inputs), ("outputs", self.outputs)):
            printer.print_string(f", {key} = [")
            printer.print_list(types.data, printer.print_attribute)
            printer.print_string("]")
        printer.print_string(", layout = ")
        printer.print_string_literal(self.layout.data)
        printer.print_string(f", arena = {self.arena.value.data}")
        if self.is_planned:
            printer.print_string(" planned")
        printer.print_string(", live = [")
        printer.print_list(self.live_bytes, lambda v: printer.print_string(str(v)))
        printer.print_string("]")
        if self.quant.data:
            printer.print_string(", quant = [")
            printer.print_list(self.quant.data, printer.print_attribute)
            printer.print_string("]")
        printer.print_string(">")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        def tensor() -> TensorType:
            pos = parser.pos
            type = parser.parse_type()
            if not isinstance(type, TensorType):
                parser.raise_error("#t2m.model inputs and outputs are tensor types", pos, parser.pos)
            return type

        def key(name: str) -> None:
            parser.parse_punctuation(",")
            parser.parse_keyword(name)
            parser.parse_punctuation("=")

        parser.parse_punctuation("<")
        model = parser.parse_str_literal("the model's name")
        key("inputs")
        inputs = parser.parse_comma_separated_list(parser.Delimiter.SQUARE, tensor)
        key("outputs")
        outputs = parser.parse_comma_separated_list(parser.Delimiter.SQUARE, tensor)
        key("layout")
        layout = parser.parse_str_literal("the activation layout")
        key("arena")
        arena = parser.parse_integer(allow_boolean=False, context_msg="the arena size in bytes")
        planned = parser.parse_optional_keyword("planned") is not None
        key("live")
        live = parser.parse_comma_separated_list(
            parser.Delimiter.SQUARE, lambda: parser.parse_integer(allow_boolean=False)
        )
        quant: list[QuantAttr] = []
        if parser.parse_optional_punctuation(","):
            parser.parse_keyword("quant")
            parser.parse_punctuation("=")
            quant = parser.parse_comma_separated_list(parser.Delimiter.SQUARE, lambda: quant_attr(parser))
        parser.parse_punctuation(">")
        return list(ModelAttr(model, inputs, outputs, layout, arena, planned, live, quant).parameters)

    def verify(self) -> None:
        if not self.model.data.isidentifier():
            raise VerifyException(f"#t2m.model name '{self.model.data}' must be a C identifier")
        if not self.inputs.data or not self.outputs.data:
            raise VerifyException("#t2m.model needs at least one input and one output")
        for type in (*self.inputs.data, *self.outputs.data):
            if not type.has_static_shape():  # pyright: ignore[reportAttributeAccessIssue]
                raise VerifyException(f"#t2m.model tensor {type} must have a static shape")
        if self.layout.data not in LAYOUTS:
            raise VerifyException(f"#t2m.model layout '{self.layout.data}' is not one of {', '.join(LAYOUTS)}")
        if self.arena.value.data < 0 or any(v < 0 for v in self.live_bytes):
            raise VerifyException("#t2m.model arena and live bytes must be >= 0")
        if self.quant.data and len(self.quant.data) != len(self.inputs.data) + len(self.outputs.data):
            raise VerifyException("#t2m.model quant needs one #qnn.quant per input and output")


def quant_attr(parser: AttrParser) -> QuantAttr:
    pos = parser.pos
    attr = parser.parse_attribute()
    if not isinstance(attr, QuantAttr):
        parser.raise_error("expected a #qnn.quant<scale, zero_point>", pos, parser.pos)
    return attr


def verify_descriptions(module: Operation) -> None:
    """The `t2m.*` keys of discardable attributes, checked as MLIR checks a dialect's attributes on an op:
    `t2m.model` holds a `#t2m.model` on a module, `t2m.layer` a `#t2m.layer` on a function, `t2m.variant` a
    string on an nn or qnn layer op, nothing else."""
    for op in module.walk():
        for key, value in op.attributes.items():
            if not key.startswith("t2m."):
                continue
            if key == VARIANT_KEY:
                if not isinstance(value, StringAttr) or op.dialect_name() not in ("nn", "qnn"):
                    raise VerifyException(f"'{op.name}' cannot carry '{key}' (a string on an nn or qnn layer op)")
                continue
            expected = {MODEL_KEY: (ModelAttr, "builtin.module"), LAYER_KEY: (LayerAttr, "func")}.get(key)
            if expected is None:
                raise VerifyException(
                    f"'{op.name}' has unknown attribute '{key}': t2m describes a model with t2m.model on the module, "
                    "t2m.layer on layer functions and t2m.variant on layer ops"
                )
            kind, where = expected
            if not isinstance(value, kind):
                raise VerifyException(f"'{op.name}' attribute '{key}' must be a #{kind.name}<...>, got {value}")
            if not (op.name == where or (where == "func" and op.name in ("func.func", "llvm.func"))):
                raise VerifyException(f"'{op.name}' cannot carry '{key}' (it belongs on a {where} op)")


def model_of(module: Operation) -> ModelAttr | None:
    """The module's model description, if a pass has set it."""
    attr = module.attributes.get(MODEL_KEY)
    return attr if isinstance(attr, ModelAttr) else None


def layer_of(function: Operation) -> LayerAttr | None:
    """A layer function's description, if it is one."""
    attr = function.attributes.get(LAYER_KEY)
    return attr if isinstance(attr, LayerAttr) else None


T2M = Dialect("t2m", [], [ModelAttr, LayerAttr])
