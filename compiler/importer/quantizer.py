"""t2m's PT2E quantizer: PyTorch's own post-training quantization flow with the TFLite int8 scheme.

`quantize_program(program, example_inputs, samples)` runs torchao's `prepare_pt2e` -> calibration ->
`convert_pt2e` with `T2MQuantizer` and exports the result again, so the importer (qgraph.py) reads the standard
`quantized_decomposed` quantize/dequantize graph, the same form a user's own PT2E flow (or another quantizer)
produces.

The scheme (docs/int8.md; TFLite int8, CMSIS-NN):
  - weights int8 symmetric per output channel, in [-127, 127], zero point 0;
  - activations int8 asymmetric per tensor, min/max over the calibration data (as TFLite's converter);
  - bias int32 at scale input scale x weight scale (a `DerivedQuantizationSpec`), zero point 0;
  - a ReLU / ReLU6 / hardtanh / clamp right after a conv, linear or add belongs to the same annotation: only its
    output is observed, so the int8 range covers the activation's output, not the wider range before it;
  - pools, shape ops and zero padding keep their input's (scale, zero point) (`SharedQuantizationSpec`), as TFLite
    requires; the inputs and the output of a concatenation all share one; softmax's output is fixed at scale
    1/256, zero point -128;
  - what returns its input itself (detach, alias, `x.float()` of a float32 tensor) is dropped before annotation.

This module imports torch and torchao when it is imported: the importer imports it only for `--quantize`.
"""

from __future__ import annotations

import logging
import operator
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch.fx import GraphModule, Node

from t2m.compiler.importer.unroll import tie_states, unroll_recurrent


@contextmanager
def _quiet_torchao() -> Iterator[None]:
    """torchao logs warnings when it is imported (CUDA kernels it cannot load, a pytree deprecation): they are
    not the user's concern and would break the one-line error contract on stderr."""
    loggers = [logging.getLogger(name) for name in ("torchao", "torch.utils._pytree")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextmanager
def _post_training_only() -> Iterator[None]:
    """`convert_pt2e` without its quantization-aware-training step. Any batch norm in training mode (here: one
    that normalises by the batch's statistics, in eval) makes it search the graph for QAT conv + batch norm
    patterns, exporting 96 pattern graphs (about 25 s), to fold what post-training quantization never has."""
    import torchao.quantization.pt2e.quantize_pt2e as flow

    fold = flow._fold_conv_bn_qat  # pyright: ignore[reportPrivateUsage] (torchao==0.18.0 is pinned)
    flow._fold_conv_bn_qat = lambda model: model  # pyright: ignore[reportPrivateUsage]
    try:
        yield
    finally:
        flow._fold_conv_bn_qat = fold  # pyright: ignore[reportPrivateUsage]


with _quiet_torchao():
    from torchao.quantization.pt2e import MinMaxObserver, PerChannelMinMaxObserver
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
    from torchao.quantization.pt2e.quantizer import (
        DerivedQuantizationSpec,
        FixedQParamsQuantizationSpec,
        QuantizationAnnotation,
        QuantizationSpec,
        QuantizationSpecBase,
        Quantizer,
        SharedQuantizationSpec,
    )

SOFTMAX_SCALE, SOFTMAX_ZERO_POINT = 1.0 / 256.0, -128
"""TFLite's (and CMSIS-NN's) fixed int8 softmax output quantization (qnn.SoftmaxOp.OUTPUT_QUANT)."""

ACTIVATION = QuantizationSpec(
    dtype=torch.int8,
    quant_min=-128,
    quant_max=127,
    qscheme=torch.per_tensor_affine,
    observer_or_fake_quant_ctr=MinMaxObserver,
)
WEIGHT = QuantizationSpec(
    dtype=torch.int8,
    quant_min=-127,
    quant_max=127,
    qscheme=torch.per_channel_symmetric,
    ch_axis=0,
    observer_or_fake_quant_ctr=PerChannelMinMaxObserver,
)
SOFTMAX_OUTPUT = FixedQParamsQuantizationSpec(
    dtype=torch.int8,
    scale=SOFTMAX_SCALE,
    zero_point=SOFTMAX_ZERO_POINT,
    quant_min=-128,
    quant_max=127,
    qscheme=torch.per_tensor_affine,
)


def _bias_qparams(observers: Sequence[Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """The bias scale s_in * s_w[c]: the accumulator's own scale, so the int32 bias adds straight in."""
    act_scale, _ = observers[0].calculate_qparams()
    weight_scale, _ = observers[1].calculate_qparams()
    scale = (act_scale * weight_scale).to(torch.float32)
    return scale, torch.zeros_like(scale, dtype=torch.int32)


def bias_spec(input: Node, weight: Node, op: Node) -> DerivedQuantizationSpec:
    return DerivedQuantizationSpec(
        derived_from=[(input, op), (weight, op)],
        derive_qparams_fn=_bias_qparams,
        dtype=torch.int32,
        quant_min=-(2**31),
        quant_max=2**31 - 1,
        qscheme=torch.per_channel_symmetric,
        ch_axis=0,
    )


# ---------------------------------------------------------------------------------------------------------------
# The op families (training-IR ATen overloads, as torch.export produces them)
# ---------------------------------------------------------------------------------------------------------------


def _ops(*names: str) -> frozenset[Any]:
    """`torch.ops.aten.<packet>.<overload>` for each name that this torch defines."""
    found = set()
    for name in names:
        packet, _, overload = name.partition(".")
        op = getattr(getattr(torch.ops.aten, packet, None), overload, None)
        if op is not None:
            found.add(op)
    return frozenset(found)


ACCUMULATE = _ops("conv2d.default", "conv2d.padding", "convolution.default", "linear.default", "conv1d.default",
                  "conv1d.padding")
ACTIVATIONS = _ops(
    "relu.default",
    "relu_.default",
    "relu6.default",
    "hardtanh.default",
    "hardtanh_.default",
    "clamp.default",
    "clamp_.default",
)
ADD = _ops("add.Tensor", "add_.Tensor")
MUL = _ops("mul.Tensor", "mul_.Tensor")
SHARED = _ops(
    # pools: TFLite's pools keep the input's quantization
    "max_pool2d.default",
    "avg_pool2d.default",
    "adaptive_avg_pool2d.default",
    "_adaptive_avg_pool2d.default",
    "max_pool1d.default",
    "avg_pool1d.default",
    "adaptive_avg_pool1d.default",
    "mean.dim",
    # shape ops, identities and the zero padding a convolution absorbs
    "reshape.default",
    "view.default",
    "_unsafe_view.default",
    "flatten.using_ints",
    "squeeze.dim",
    "squeeze.dims",
    "unsqueeze.default",
    "dropout.default",
    "dropout_.default",
    "feature_dropout.default",
    "clone.default",
    "contiguous.default",
    "alias.default",  # a full slice (`x[:]`, `x[:, 0:C]`) as torch.export records it
    "pad.default",
    "constant_pad_nd.default",
    # issue 12: padding and nearest resizing copy values
    "reflection_pad1d.default",
    "reflection_pad2d.default",
    "replication_pad1d.default",
    "replication_pad2d.default",
    "upsample_nearest2d.vec",
    "upsample_nearest2d.default",
    "upsample_nearest1d.vec",
    "upsample_nearest1d.default",
    "upsample_bilinear2d.vec",
    "upsample_bilinear2d.default",
    "upsample_linear1d.vec",
    "upsample_linear1d.default",
)
TABLES = _ops(
    # issue 12: elementwise functions of one activation, int8 tables in t2m (qnn.lut): int8 in, int8 out
    "elu.default",
    "elu_.default",
    "gelu.default",
    "gelu_.default",
    "leaky_relu.default",
    "leaky_relu_.default",
    "hardswish.default",
    "hardswish_.default",
    "hardsigmoid.default",
    "hardsigmoid_.default",
    "silu.default",
    "silu_.default",
    "sigmoid.default",
    "tanh.default",
    "prelu.default",
    "batch_norm.default",
    "layer_norm.default",  # int8 in t2m: integer statistics (qnn.layer_norm), gamma and beta stay float here
    "rsub.Scalar",  # 1 - x (an unrolled GRU's 1 - z)
)
ALIASES = _ops("detach.default", "alias.default")
"""The tensor itself (same storage): dropped before annotation (`T2MQuantizer.transform_for_annotation`)."""
CHECKS = _ops("_assert_tensor_metadata.default")
"""torch.export's check of a tensor's dtype before a conversion: computes nothing; dropped with the conversion."""
CONVERT = _ops("to.dtype", "to.dtype_layout", "_to_copy.default")
"""`x.float()`, `x.to(torch.float32)` and the like: when they convert to the dtype the tensor has, `to.dtype`
returns the tensor itself (dropped, as the aliases), a copy or a change of memory format copies its values
(shared, as clone); any other conversion stays float."""
CAT = _ops("cat.default", "concat.default")
DROPOUT = _ops("dropout.default", "feature_dropout.default", "alpha_dropout.default", "feature_alpha_dropout.default")
MOVE = _ops("slice.Tensor", "select.int", "permute.default", "transpose.int", "t.default", "mean.default")
"""Slices, transposes and means keep their input's quantization (TFLite: STRIDED_SLICE, TRANSPOSE, MEAN)."""
SPLIT = _ops("split.Tensor", "split_with_sizes.default", "chunk.default", "unbind.int")
"""Several outputs (getitem reads each): every piece shares the input's quantization."""
MATMUL = _ops("matmul.default", "bmm.default", "mm.default")
SUM = _ops("sum.dim_IntList", "sum.default")
SOFTMAX = _ops("softmax.int", "_softmax.default")
EMBEDDING = _ops("embedding.default")


def _is_float_tensor(value: Any) -> bool:
    val = value.meta.get("val") if isinstance(value, Node) else None
    return isinstance(val, torch.Tensor) and val.dtype.is_floating_point


def _same_dtype(node: Node) -> bool:
    """Whether `node` makes a tensor of its input's floating dtype (a conversion that converts nothing)."""
    x, val = node.args[0] if node.args else None, node.meta.get("val")
    return (_is_float_tensor(x) and isinstance(val, torch.Tensor) and isinstance(x, Node)
            and x.meta["val"].dtype == val.dtype)


def _returns_its_input(node: Node) -> bool:
    """`to.dtype` to the tensor's own dtype with neither a copy nor another memory format: PyTorch returns the
    tensor itself (`x.float()` of a float32 tensor)."""
    if node.target is not torch.ops.aten.to.dtype or not _same_dtype(node):
        return False
    names = ("self", "dtype", "non_blocking", "copy", "memory_format")
    args: dict[str, Any] = {name: value for name, value in zip(names, node.args, strict=False)}
    args.update(node.kwargs)
    return not args.get("copy", False) and args.get("memory_format") in (None, torch.preserve_format)


def _annotated(node: Node) -> bool:
    annotation = node.meta.get("quantization_annotation")
    return annotation is not None and annotation._annotated


def _mark(node: Node, inputs: dict[Node, QuantizationSpecBase | None], output: QuantizationSpecBase | None) -> None:
    node.meta["quantization_annotation"] = QuantizationAnnotation(
        input_qspec_map=inputs, output_qspec=output, _annotated=True
    )


class T2MQuantizer(Quantizer):
    """Annotates conv/linear (+ fused activation), add (+ activation), mul, pools, concat, shape ops and softmax
    with the TFLite int8 scheme; any other op stays float, and the importer names it with its source line."""

    def transform_for_annotation(self, model: GraphModule) -> GraphModule:
        """Drops what returns its input itself (detach, alias, a conversion to the tensor's own dtype: `x.float()`
        of a float32 tensor) and the dtype checks torch.export puts before conversions, so that the ops around
        them quantize as if they were not there (a ReLU after them stays fused into the conv before them). Exact
        even with in-place ops after them: the result shares the input's storage. LSTM and GRU layers are
        unrolled into their steps first (`unroll.py`): PT2E would see no gate inside them."""
        unroll_recurrent(model)
        for node in list(model.graph.nodes):
            if node.op != "call_function":
                continue
            if node.target in CHECKS and not node.users:
                model.graph.erase_node(node)
            elif node.target in ALIASES or _returns_its_input(node):
                node.replace_all_uses_with(node.args[0])
                model.graph.erase_node(node)
        model.graph.lint()
        model.recompile()
        return model

    def annotate(self, model: GraphModule) -> GraphModule:
        for node in list(model.graph.nodes):
            if node.op != "call_function" or _annotated(node):
                continue
            target = node.target
            if target in ACCUMULATE:
                self._accumulate(node)
            elif target in ADD:
                self._add(node)
            elif target in MUL:
                self._binary(node, ACTIVATION)
            elif target in SHARED or (target in CONVERT and _same_dtype(node)):
                self._shared(node)
            elif target in CAT:
                self._cat(node)
            elif target in MOVE:
                self._shared(node)
            elif target in SPLIT:
                self._split(node)
            elif target in MATMUL:
                self._binary(node, ACTIVATION)
            elif target in SUM:
                self._unary(node, ACTIVATION)
            elif target in SOFTMAX:
                self._unary(node, SOFTMAX_OUTPUT)
            elif target in ACTIVATIONS:
                self._unary(node, ACTIVATION)  # not after a conv/linear/add: int8 in, int8 out
            elif target in TABLES:
                self._unary(node, ACTIVATION)  # its parameters (PReLU's slope, batch norm's) stay float
            elif target in EMBEDDING:
                self._embedding(node)
        tie_states(model)
        share_through_owners(model)
        return model

    def validate(self, model: GraphModule) -> None:
        """Nothing is refused here: what stays float is reported by the importer, with source lines."""

    @staticmethod
    def _fused_activation(node: Node) -> Node | None:
        """The ReLU/ReLU6/hardtanh/clamp that alone consumes `node`: quantized as one op with it."""
        users = list(node.users)
        if len(users) == 1 and users[0].target in ACTIVATIONS and not _annotated(users[0]):
            return users[0]
        return None

    def _with_activation(self, node: Node, inputs: dict[Node, QuantizationSpecBase | None]) -> None:
        """Annotate `node`'s inputs and its output, or the output of the activation fused into it."""
        activation = self._fused_activation(node)
        _mark(node, inputs, None if activation is not None else ACTIVATION)
        if activation is not None:
            _mark(activation, {}, ACTIVATION)

    def _accumulate(self, node: Node) -> None:
        x, w = node.args[0], node.args[1]
        bias = node.args[2] if len(node.args) > 2 else None
        if not (isinstance(x, Node) and isinstance(w, Node) and _is_float_tensor(x) and _is_float_tensor(w)):
            return
        inputs: dict[Node, QuantizationSpecBase | None] = {x: ACTIVATION, w: WEIGHT}
        if isinstance(bias, Node) and _is_float_tensor(bias):
            inputs[bias] = bias_spec(x, w, node)
        self._with_activation(node, inputs)

    def _add(self, node: Node) -> None:
        args = [a for a in node.args[:2] if isinstance(a, Node)]
        if len(args) != 2 or not all(map(_is_float_tensor, args)) or node.kwargs.get("alpha", 1) != 1:
            return  # a scalar or scaled operand: qnn.add cannot take it (the importer says so)
        self._with_activation(node, dict.fromkeys(args, ACTIVATION))

    def _binary(self, node: Node, output: QuantizationSpecBase) -> None:
        args = [a for a in node.args[:2] if isinstance(a, Node)]
        if len(args) == 2 and all(map(_is_float_tensor, args)):
            _mark(node, dict.fromkeys(args, ACTIVATION), output)

    def _unary(self, node: Node, output: QuantizationSpecBase) -> None:
        x = node.args[0]
        if isinstance(x, Node) and _is_float_tensor(x):
            _mark(node, {x: ACTIVATION}, output)

    def _shared(self, node: Node) -> None:
        x = node.args[0]
        if isinstance(x, Node) and _is_float_tensor(x):
            _mark(node, {x: ACTIVATION}, SharedQuantizationSpec((x, node)))

    def _embedding(self, node: Node) -> None:
        """The table quantized per tensor as an activation (its own range, asymmetric), the rows looked up in that
        quantization (TFLite's GATHER): the output shares the table's (scale, zero point), so looking up int8
        rows is exact."""
        table = node.args[0]
        if isinstance(table, Node) and _is_float_tensor(table):
            _mark(node, {table: ACTIVATION}, SharedQuantizationSpec((table, node)))

    def _split(self, node: Node) -> None:
        """The input observed once; each piece a getitem whose output shares that quantization."""
        x = node.args[0]
        if not (isinstance(x, Node) and _is_float_tensor(x)):
            return
        _mark(node, {x: ACTIVATION}, None)
        for user in node.users:
            _mark(user, {}, SharedQuantizationSpec((x, node)))

    def _cat(self, node: Node) -> None:
        """Every input and the output share one (scale, zero point), as TFLite's CONCATENATION requires: the
        producers are calibrated to one common range. The first input owns the spec; `share_through_owners`
        then points every member of the group at one owner."""
        parts = node.args[0]
        if not isinstance(parts, list | tuple) or not parts or not all(map(_is_float_tensor, parts)):
            return
        distinct = [part for part in dict.fromkeys(parts) if isinstance(part, Node)]
        first = distinct[0]
        shared = SharedQuantizationSpec((first, node))
        inputs: dict[Node, QuantizationSpecBase | None] = {first: ACTIVATION}
        for part in distinct[1:]:
            inputs[part] = shared
        _mark(node, inputs, shared)


# ---------------------------------------------------------------------------------------------------------------
# Sharing groups that torchao's union-find resolves without recursing
# ---------------------------------------------------------------------------------------------------------------

EdgeOrNode = tuple[Node, Node] | Node
SAME_ATTRS = ("dtype", "is_dynamic", "quant_min", "quant_max", "qscheme", "ch_axis", "scale", "zero_point")
"""What torchao compares before it shares an input edge with its producer's output or other edges."""


def _same_attrs(a: QuantizationSpecBase, b: QuantizationSpecBase) -> bool:
    """torchao's `_has_same_attr` over `SAME_ATTRS`: equal, or absent from both."""
    return all(
        (hasattr(a, name) and hasattr(b, name) and getattr(a, name) == getattr(b, name))
        or (not hasattr(a, name) and not hasattr(b, name))
        for name in SAME_ATTRS
    )


def _specs(model: GraphModule) -> dict[EdgeOrNode, QuantizationSpecBase]:
    """Every annotated input edge and output with its spec, in the order torchao reads them (graph order; a
    node's input edges, then its output): the first of a group creates the group's observer."""
    specs: dict[EdgeOrNode, QuantizationSpecBase] = {}
    for node in model.graph.nodes:
        annotation = node.meta.get("quantization_annotation")
        if annotation is None:
            continue
        for x, spec in annotation.input_qspec_map.items():
            if spec is not None:
                specs[(x, node)] = spec
        if annotation.output_qspec is not None:
            specs[node] = annotation.output_qspec
    return specs


def share_through_owners(model: GraphModule) -> None:
    """Rewrites the annotations so that every sharing group has one owner, its first member in torchao's order,
    holding the group's spec, and every other member a `SharedQuantizationSpec` of that owner.

    The groups are the ones torchao's `_get_edge_or_node_to_group_id` forms: a shared spec joins its target; an
    input edge joins its producer's output and the producer's other annotated edges when their specs agree
    (`_same_attrs`; implicit sharing). torchao's own union-find can make an edge whose spec points elsewhere the
    root of a group that its spec leads back into, and `_unwrap_shared_qspec` then recurses forever: chains of
    concatenations that read the same values more than once (`cat([cat([x, x]), x])`). With every shared spec
    naming its group's root directly, torchao's union reverses such a link instead (it checks that case), and
    the groups, hence the observers and the numbers, are the same as intended."""
    specs = _specs(model)
    order = {key: index for index, key in enumerate(specs)}
    parent = {key: key for key in specs}

    def find(key: EdgeOrNode) -> EdgeOrNode:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def union(a: EdgeOrNode, b: EdgeOrNode) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            first, second = (ra, rb) if order[ra] < order[rb] else (rb, ra)
            parent[second] = first

    for key, spec in specs.items():
        if isinstance(spec, SharedQuantizationSpec) and spec.edge_or_node in parent:
            union(key, spec.edge_or_node)
    own = {find(key): spec for key, spec in specs.items() if not isinstance(spec, SharedQuantizationSpec)}
    for key in specs:
        if isinstance(key, Node):
            continue
        producer, user = key
        if not user.meta["quantization_annotation"].allow_implicit_sharing:
            continue
        for other in [*((producer, u) for u in producer.users if u is not user), producer]:
            if other not in parent:
                continue
            ra, rb = find(key), find(other)
            if ra != rb and ra in own and rb in own and _same_attrs(own[ra], own[rb]):
                kept = own[ra] if order[ra] < order[rb] else own[rb]  # the spec of the group torchao reads first
                union(ra, rb)
                own[find(ra)] = kept
    for key in specs:
        root = find(key)
        if root in own:
            _set_spec(key, own[root] if key == root else SharedQuantizationSpec(root))


def _set_spec(key: EdgeOrNode, spec: QuantizationSpecBase) -> None:
    if isinstance(key, Node):
        key.meta["quantization_annotation"].output_qspec = spec
    else:
        x, node = key
        node.meta["quantization_annotation"].input_qspec_map[x] = spec


# ---------------------------------------------------------------------------------------------------------------
# The flow: exported program -> prepare -> calibrate -> convert -> exported program
# ---------------------------------------------------------------------------------------------------------------


def _is_view(node: Node) -> bool:
    """Whether `node`'s result aliases its first input (slice, select, view, permute, a piece of a split, an eval
    dropout...)."""
    if node.op != "call_function":
        return False
    if node.target is operator.getitem:
        return isinstance(node.args[0], Node) and _is_view(node.args[0])
    if node.target in DROPOUT:  # in eval mode PyTorch returns the input itself, whatever the schema says
        return not (node.args[2] if len(node.args) > 2 else node.kwargs.get("train", False))
    schema = getattr(node.target, "_schema", None)
    return schema is not None and any(r.alias_info is not None and not r.alias_info.is_write for r in schema.returns)


def written_view(program: Any) -> Node | None:
    """The first in-place op on a view whose base is read after it (`v = y[:, 1:3]; v.relu_(); ... y`), or None.

    PT2E puts quantize/dequantize ops between the view and the in-place op, so the write no longer reaches the
    base: PyTorch's converted model, and t2m's import of it, would read the base unchanged, silently unlike the
    float model. (A write into a whole tensor is fine: torch.export redirects the later reads to its result.)"""
    order = {node: i for i, node in enumerate(program.graph.nodes)}
    for node in program.graph.nodes:
        schema = getattr(node.target, "_schema", None)
        if node.op != "call_function" or schema is None or not schema.is_mutable or not node.args:
            continue
        view = node.args[0]
        while isinstance(view, Node) and _is_view(view):
            view = view.args[0]
            if isinstance(view, Node) and any(order[user] > order[node] for user in view.users):
                return node
    return None


def keep_batch_statistics(model: GraphModule) -> GraphModule:
    """An alias between a conv or linear and a batch norm that uses the batch's statistics: `prepare_pt2e`
    folds any batch norm after a conv into its weights, which needs running statistics (it crashes on None),
    and these are not an affine map to fold. The alias hides the pair from the folding; the quantizer drops it
    before annotation (`ALIASES`)."""
    for node in list(model.graph.nodes):
        if (node.op == "call_function" and node.target is torch.ops.aten.batch_norm.default and len(node.args) > 5
                and node.args[5] and isinstance(node.args[0], Node) and node.args[0].op == "call_function"):
            with model.graph.inserting_before(node):
                alias = model.graph.call_function(torch.ops.aten.alias.default, (node.args[0],))
            alias.meta = dict(node.args[0].meta)
            node.replace_input_with(node.args[0], alias)
    model.recompile()
    return model


def quantize_program(
    program: Any,
    example_inputs: tuple[Any, ...],
    samples: Iterable[tuple[Any, ...]],
    quantizer: Quantizer | None = None,
) -> Any:
    """PT2E post-training quantization of an exported program, calibrated on `samples` (tuples of input
    tensors); returns the converted model exported again, q/dq ops around float ops. An in-place op on a view
    of a tensor read later is refused first (`written_view`): PT2E would drop its write."""
    if (node := written_view(program)) is not None:
        from t2m.compiler.errors import T2MError
        from t2m.compiler.importer.aten import source_line

        raise T2MError(
            f"{node.target} writes in place into a view of a tensor that is read afterwards, a write PT2E int8 "
            "quantization drops (its quantize/dequantize ops break the alias)",
            source_line(node),
            "compute it out of place (e.g. torch.cat the pieces), or compile the model without --quantize",
        )
    with torch.no_grad(), warnings.catch_warnings(), _quiet_torchao():
        warnings.simplefilter("ignore")  # torch's and torchao's notices are not the user's concern
        prepared = prepare_pt2e(keep_batch_statistics(program.module(check_guards=False)), quantizer or T2MQuantizer())
        for sample in samples:
            prepared(*sample)
        with _post_training_only():
            converted = convert_pt2e(prepared)
        return torch.export.export(converted, example_inputs)
