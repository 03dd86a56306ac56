"""nn.LSTM and nn.GRU unrolled into primitive ATen ops before PT2E int8 quantization.

`aten.lstm.input` and `aten.gru.input` are single nodes to PT2E: no observer sees a gate, so there are no int8
parameters for them. `unroll_recurrent` (run by `T2MQuantizer.transform_for_annotation`) rewrites each one into
its time steps over the static sequence length, with ops the quantizer annotates and qgraph.py reads back as qnn
ops; calibration then sets every gate's range, and PyTorch's converted model computes exactly these steps:

  - per layer, direction and gate, the input projection of all steps at once, `linear(seq, W_i<k>, b<k>)`,
    and per step a `select` of it (the gate's own (scale, zero point), as TFLite's int8 LSTM has one per gate);
    the LSTM's two biases and the GRU's r and z biases add before any nonlinearity, so they fold into b<k>;
  - per step and gate `add(gx<k>, linear(h, W_h<k>))` (the GRU's n gate: `add(gx_n, mul(r, linear(h, W_hn,
    b_hn)))`), the gates' `sigmoid`/`tanh` (int8 tables), `mul` and `add` for the cell; the GRU's
    `h' = (1 - z) n + z h` takes `1 - z` as `rsub(z, 1)`, one more table;
  - a zero initial state (nn.LSTM's default, `torch.zeros`) folds away at the first step;
  - the output sequence is `cat` of the steps (`unsqueeze` on the time axis), directions `cat` on features;
    h_n and c_n are `cat` of the last states; each only where the model reads it.

Every weight is one constant read by all steps: the T step linears of a layer share one int8 weight tensor
(torchao gives them one observer, convert_pt2e one frozen parameter). Every value a step computes is marked
with its role (`STATE`) and quantized with one (scale, zero point) per layer and direction across the steps
(`tie_states`), the states that feed back (h, c) included: no step rescales the state it reads, and from the
second step on all steps have the same multipliers and tables, which the lowering keeps once in flash.

torch is imported here at module level: only the quantizer imports this module.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

import torch
from torch._guards import detect_fake_mode
from torch.fx import GraphModule, Node

from t2m.compiler.errors import T2MError

aten = torch.ops.aten

RECURRENT = ("aten.lstm.input", "aten.gru.input")
STATE = "t2m_recurrent_state"
"""node.meta key: the value of a step a node computes (recurrent node, layer and direction, role: `h`, `c`, `pre0`,
...), the same for every step; `tie_states` gives each such group one quantization."""

ZEROS = (aten.zeros.default, aten.zeros_like.default, aten.new_zeros.default)


class _Graph:
    """Inserts the unrolled ops before the recurrent node, each with its fake value (what the quantizer reads)
    and the recurrent node's source line."""

    def __init__(self, gm: GraphModule, node: Node):
        self.gm, self.node = gm, node
        vals = [n.meta.get("val") for n in node.all_input_nodes]
        self.mode = detect_fake_mode([v for v in vals if isinstance(v, torch.Tensor)])
        self.meta = {k: node.meta[k] for k in ("stack_trace", "nn_module_stack") if k in node.meta}
        self.group = node.name  # the layer and direction being unrolled, set by `_Unroller._layer`

    def call(self, target: Any, *args: Any, role: str | None = None) -> Node:
        """`target(*args)`; a `role` names the value's place in a step (`STATE`), shared by every step."""
        new = self.gm.graph.call_function(target, args)
        new.meta.update(self.meta)
        if role is not None:
            new.meta[STATE] = f"{self.group}.{role}"
        fake = [a.meta["val"] if isinstance(a, Node) else [b.meta["val"] for b in a] if isinstance(a, list) else a
                for a in args]
        with self.mode or nullcontext():
            new.meta["val"] = target(*fake)
        return new

    def constant(self, name: str, tensor: torch.Tensor) -> Node:
        """A new float constant (a gate's slice of a weight, a folded bias) as a buffer of the module."""
        attr = f"_t2m_{self.node.name}_{name}"
        self.gm.register_buffer(attr, tensor.detach().clone().contiguous())
        new = self.gm.graph.get_attr(attr)
        new.meta.update(self.meta)
        value = getattr(self.gm, attr)
        new.meta["val"] = self.mode.from_tensor(value, static_shapes=True) if self.mode else value
        return new


def _refuse(node: Node, what: str) -> T2MError:
    from t2m.compiler.importer.aten import source_line

    return T2MError(f"int8 {'LSTM' if 'lstm' in str(node.target) else 'GRU'}: {what}", source_line(node),
                    "compile this model without --quantize")


def _tensor(gm: GraphModule, node: Any) -> torch.Tensor | None:
    """The constant a get_attr node reads (None for anything else)."""
    if not isinstance(node, Node) or node.op != "get_attr":
        return None
    value: Any = gm
    for part in str(node.target).split("."):
        value = getattr(value, part)
    return value if isinstance(value, torch.Tensor) else None


def _is_zero(gm: GraphModule, node: Any) -> bool:
    """Whether the initial state is zeros (nn.LSTM's default state, `torch.zeros(...)`, a zero constant)."""
    if isinstance(node, Node) and node.op == "call_function":
        if node.target in ZEROS:
            return True
        return node.target is aten.full.default and len(node.args) > 1 and bool(node.args[1] == 0)
    tensor = _tensor(gm, node)
    return tensor is not None and not bool(tensor.any())


def unroll_recurrent(gm: GraphModule) -> GraphModule:
    """Every `aten.lstm.input` / `aten.gru.input` of `gm` replaced by its unrolled steps (in place)."""
    recurrent = [n for n in gm.graph.nodes if n.op == "call_function" and str(n.target) in RECURRENT]
    for node in recurrent:
        _Unroller(gm, node).run()
    if recurrent:
        gm.graph.eliminate_dead_code()
        gm.graph.lint()
        gm.recompile()
    return gm


class _Unroller:
    def __init__(self, gm: GraphModule, node: Node):
        self.gm, self.node = gm, node
        self.lstm = "lstm" in str(node.target)
        self.g = _Graph(gm, node)

    def run(self) -> None:
        node = self.node
        x, hx, params, has_biases, layers, _, train, bidirectional, batch_first = node.args[:9]
        if train:
            raise _refuse(node, "a recurrent layer in training mode; call model.eval() before export")
        if not isinstance(x, Node) or len(x.meta["val"].shape) != 3:
            raise _refuse(node, "an unbatched sequence (t2m takes [batch, steps, features] or [steps, batch, "
                          "features])")
        weights = [_tensor(self.gm, p) for p in params]  # type: ignore[union-attr]
        directions = 2 if bidirectional else 1
        per = 4 if has_biases else 2
        if any(w is None for w in weights):
            raise _refuse(node, "recurrent weights that are not constants of the model")
        if len(weights) != layers * directions * per:  # type: ignore[operator]
            raise _refuse(node, "recurrent weights with projections (proj_size) or an unexpected layout")
        users = list(node.users)
        if not all(u.target is operator.getitem for u in users):
            raise _refuse(node, "a result read other than by indexing")
        wanted = {int(u.args[1]) for u in users if u.users}  # type: ignore[arg-type]
        h0, c0 = (hx[0], hx[1]) if self.lstm else (hx, None)  # type: ignore[index]
        steps_axis = 1 if batch_first else 0
        steps = int(x.meta["val"].shape[steps_axis])
        seq: Node = x
        finals_h: list[Node] = []
        finals_c: list[Node] = []
        with self.gm.graph.inserting_before(node):
            for layer in range(int(layers)):  # type: ignore[call-overload]
                outputs = []
                for direction in range(directions):
                    index = layer * directions + direction
                    tensors = weights[index * per:(index + 1) * per]
                    hs, c = self._layer(seq, tensors, index, direction, steps, steps_axis,  # type: ignore[arg-type]
                                        self._state(h0, index), self._state(c0, index))
                    outputs.append(hs)
                    finals_h.append(hs[-1] if not direction else hs[0])
                    if c is not None:
                        finals_c.append(c)
                if layer + 1 < layers or 0 in wanted:  # type: ignore[operator]
                    seq = self._sequence(outputs, steps_axis)
            results = {0: seq, 1: self._stack(finals_h) if 1 in wanted else None,
                       2: self._stack(finals_c) if 2 in wanted else None}
        for user in users:
            if user.users:
                result = results[int(user.args[1])]  # type: ignore[arg-type]
                assert result is not None
                user.replace_all_uses_with(result)
            self.gm.graph.erase_node(user)
        self.gm.graph.erase_node(node)

    def _state(self, state: Any, index: int) -> Node | None:
        """Layer/direction `index`'s initial state [batch, hidden], or None for zeros (folded away)."""
        if state is None or _is_zero(self.gm, state):
            return None
        return self.g.call(aten.select.int, state, 0, index)

    def _layer(self, seq: Node, weights: Sequence[torch.Tensor], index: int, direction: int, steps: int,
               steps_axis: int, h: Node | None, c: Node | None) -> tuple[list[Node], Node | None]:
        """One layer and direction over every step: the states h of the steps in time order, and the last c."""
        gates = 4 if self.lstm else 3
        w_ih, w_hh = weights[0], weights[1]
        b_ih, b_hh = (weights[2], weights[3]) if len(weights) == 4 else (None, None)
        size = w_hh.shape[1]
        cut = [slice(k * size, (k + 1) * size) for k in range(gates)]
        folded = [k for k in range(gates) if self.lstm or k < 2]  # b_hh adds before the nonlinearity
        g = self.g
        name = f"l{index}"
        projected = []
        hidden_w = [g.constant(f"{name}_w_h{k}", w_hh[cut[k]]) for k in range(gates)]
        for k in range(gates):
            bias = None
            if b_ih is not None and b_hh is not None:
                bias = g.constant(f"{name}_b{k}", b_ih[cut[k]] + b_hh[cut[k]] if k in folded else b_ih[cut[k]])
            w = g.constant(f"{name}_w_i{k}", w_ih[cut[k]])
            projected.append(g.call(aten.linear.default, seq, w, *([bias] if bias is not None else [])))
        b_hn = g.constant(f"{name}_b_hn", b_hh[cut[2]]) if not self.lstm and b_hh is not None else None
        hs: list[Node | None] = [None] * steps
        order = range(steps - 1, -1, -1) if direction else range(steps)
        g.group = f"{self.node.name}.{index}"
        for step in order:
            gx = [g.call(aten.select.int, p, steps_axis, step) for p in projected]
            if self.lstm:
                h, c = self._lstm_step(gx, h, c, hidden_w)
            else:
                h = self._gru_step(gx, h, hidden_w, b_hn)
            hs[step] = h
        return [h for h in hs if h is not None], c

    def _gate(self, gx: list[Node], h: Node, w: list[Node], k: int) -> Node:
        """Gate k's pre-activation: its input projection plus W_hk h."""
        g = self.g
        return g.call(aten.add.Tensor, gx[k], g.call(aten.linear.default, h, w[k], role=f"gh{k}"), role=f"pre{k}")

    def _lstm_step(self, gx: list[Node], h: Node | None, c: Node | None, w: list[Node]) -> tuple[Node, Node]:
        """i, f, o = sigmoid, g = tanh of the gates; c' = f c + i g, h' = o tanh(c') (c' = i g from c = 0)."""
        g = self.g
        pre = gx if h is None else [self._gate(gx, h, w, k) for k in range(4)]
        i, f, o = (g.call(aten.sigmoid.default, pre[k], role=f"gate{k}") for k in (0, 1, 3))
        ig = g.call(aten.mul.Tensor, i, g.call(aten.tanh.default, pre[2], role="gate2"),
                    role="c" if c is None else "ig")
        c = ig if c is None else g.call(aten.add.Tensor, g.call(aten.mul.Tensor, f, c, role="fc"), ig, role="c")
        return g.call(aten.mul.Tensor, o, g.call(aten.tanh.default, c, role="tanh_c"), role="h"), c

    def _gru_step(self, gx: list[Node], h: Node | None, w: list[Node], b_hn: Node | None) -> Node:
        """r, z = sigmoid, n = tanh(gx_n + r (W_hn h + b_hn)); h' = (1 - z) n + z h (h' = (1 - z) n from h = 0)."""
        g = self.g
        if h is None:  # W_h h = 0: the r and z gates are their input projections, n's hidden part is b_hn
            z = g.call(aten.sigmoid.default, gx[1], role="z")
            n_pre = gx[2]
            if b_hn is not None:
                r = g.call(aten.sigmoid.default, gx[0], role="r")
                n_pre = g.call(aten.add.Tensor, gx[2], g.call(aten.mul.Tensor, r, b_hn, role="r_gh"), role="n_pre")
            n = g.call(aten.tanh.default, n_pre, role="n")
            return g.call(aten.mul.Tensor, g.call(aten.rsub.Scalar, z, 1, role="1-z"), n, role="h")
        r, z = (g.call(aten.sigmoid.default, self._gate(gx, h, w, k), role=name) for k, name in ((0, "r"), (1, "z")))
        gh_n = g.call(aten.linear.default, h, w[2], *([b_hn] if b_hn is not None else []), role="gh2")
        n_pre = g.call(aten.add.Tensor, gx[2], g.call(aten.mul.Tensor, r, gh_n, role="r_gh"), role="n_pre")
        n = g.call(aten.tanh.default, n_pre, role="n")
        zn = g.call(aten.mul.Tensor, g.call(aten.rsub.Scalar, z, 1, role="1-z"), n, role="(1-z)n")
        return g.call(aten.add.Tensor, zn, g.call(aten.mul.Tensor, z, h, role="zh"), role="h")

    def _sequence(self, outputs: list[list[Node]], steps_axis: int) -> Node:
        """The states of every step stacked on the time axis; the directions concatenated on features."""
        per_direction = []
        for hs in outputs:
            parts = [self.g.call(aten.unsqueeze.default, h, steps_axis) for h in hs]
            per_direction.append(parts[0] if len(parts) == 1 else self.g.call(aten.cat.default, parts, steps_axis))
        if len(per_direction) == 1:
            return per_direction[0]
        return self.g.call(aten.cat.default, per_direction, 2)

    def _stack(self, states: list[Node]) -> Node:
        """h_n or c_n, [layers * directions, batch, hidden]."""
        parts = [self.g.call(aten.unsqueeze.default, s, 0) for s in states]
        return parts[0] if len(parts) == 1 else self.g.call(aten.cat.default, parts, 0)


def tie_states(model: GraphModule) -> None:
    """Each marked group (`STATE`: one value of every step, h and c included) quantized as one: the first
    member's output spec is the group's, every later step's shares it (PT2E `SharedQuantizationSpec`)."""
    from torchao.quantization.pt2e.quantizer import SharedQuantizationSpec

    owners: dict[str, Node] = {}
    for node in model.graph.nodes:
        group = node.meta.get(STATE)
        annotation = node.meta.get("quantization_annotation")
        if group is None or annotation is None or annotation.output_qspec is None:
            continue
        if group not in owners:
            owners[group] = node
        else:
            annotation.output_qspec = SharedQuantizationSpec(owners[group])
