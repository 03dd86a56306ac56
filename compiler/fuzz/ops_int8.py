"""The op table entries int8 graphs draw, with the parameters they support: what t2m's PT2E quantizer annotates
and its importer reads back as qnn ops (docs/int8.md); GRU/LSTM too, unrolled into their steps before PT2E. The
rest (log_softmax, constants as Python numbers, subtraction and division, dilated max pooling, matmul/mm/addmm of
a weight, a clamp to one value) stays in float and is refused with the reason, as is an in-place op on a view of
a tensor read later (`VIEWS`); fuzzing it would only find those refusals. Every form of the identity quantizes
(`x.float()` and `x.detach()` are dropped before annotation). A model output that no quantized op computes (the
input itself) is refused too, as documented
(`MODES["int8"].documented`).
"""

from __future__ import annotations

from t2m.compiler.fuzz import ops_act, ops_next, ops_nn, ops_pool, ops_tensor  # noqa: F401  (register entries first)
from t2m.compiler.fuzz.spec import Params, enable

VIEWS = {"slice", "select", "chunk", "permute", "reshape", "flatten", "identity", "identity_module"}
"""ops whose result may be a view of their input (or the input itself): an in-place op on one writes into a tensor
that may be read later, which PT2E drops and t2m's quantizer refuses (`written_view`), so int8 graphs write in
place only into values these ops did not make"""


def _in_place(p: Params, producers: list[str]) -> bool:
    return p.get("style") != "inplace" or VIEWS.isdisjoint(producers)


def _binary(p: Params, producers: list[str]) -> bool:
    """Two int8 tensors, or a constant tensor (quantized as a weight), added or multiplied."""
    if p["variant"] == "inplace" and not VIEWS.isdisjoint(producers[:1]):
        return False
    return p["variant"] in ("plain", "inplace") and p["const"] in (None, "channel", "channel-chw", "last", "full")


for name in ("conv2d", "hardtanh", "avg_pool2d", "adaptive_avg_pool2d", "mean", "softmax", "flatten", "reshape",
             "concat"):
    enable(name, "int8")
enable("linear", "int8", lambda p, producers: p["style"] in ("module", "functional"))
enable("clamp", "int8", lambda p, producers: None in (p["min"], p["max"]) or p["min"] < p["max"])
enable("batch_norm", "int8", lambda p, producers: producers == ["conv2d"])  # folded into the conv by PT2E
enable("max_pool2d", "int8", lambda p, producers: tuple(p["dilation"]) == (1, 1))
enable("add", "int8", _binary)
enable("mul", "int8", _binary)
# issue 12 (ops_next.py): the table activations, conv1d, unbatched conv2d, pads, resizing, divisor_override, the
# data movement ops, sum/mean over axes, matmul, layer_norm and batch statistics (qnn.layer_norm) and GRU/LSTM
# (unrolled before PT2E, compiler/importer/unroll.py) have int8 forms.
for name in ("gelu", "prelu", "conv1d", "conv2d_unbatched", "pad", "upsample", "avg_pool2d_divisor", "slice", "select",
             "chunk", "reduce", "permute", "matmul", "identity_module", "layer_norm", "batch_norm_stats", "rnn"):
    enable(name, "int8")
for name in ("relu", "relu6", "sigmoid", "tanh", "hardswish", "hardsigmoid", "silu", "elu", "leaky_relu"):
    enable(name, "int8", _in_place)  # the table activations (qnn.lut) with relu and relu6
enable("identity", "int8")
