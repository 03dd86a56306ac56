"""`to_llvm_ir`: globals, linkage, special floats, the ops of llvm_ext, error messages, speed on big weights."""

from __future__ import annotations

import numpy as np
import pytest
from llvm_kernels import dense_hex, global_op, lower_to_llvm_dialect, memref_type

from t2m.compiler.backend.emit_llvm import to_llvm_ir
from t2m.compiler.backend.errors import BackendError
from t2m.compiler.backend.jit import HostJIT
from t2m.compiler.backend.llvm import compile_asm, compile_object
from t2m.compiler.backend.objcheck import check_cortex_m4_object, inspect_object
from t2m.compiler.ir import module_to_text, parse_module
from t2m.compiler.pipeline import LOWER_TO_LLVM


def copy_global_module(name: str, values: np.ndarray, element: str = "f32") -> str:
    """`<name>_run(%in, %out)`: out[i] = global[i] (so the JIT can read a global back)."""
    n = values.size
    t = memref_type((n,), element)
    return f"""builtin.module {{
{global_op(name + "_g", values, element)}
  func.func private @{name}_L0_copy(%y: {t}) attributes {{t2m.layer = #t2m.layer<"copy", macs = 0>}} {{
    %g = memref.get_global @{name}_g : {t}
    affine.for %i = 0 to {n} {{
      %v = memref.load %g[%i] : {t}
      memref.store %v, %y[%i] : {t}
    }}
    func.return
  }}
  func.func @{name}_run(%in0: {t}, %out0: {t}) -> i32 {{
    func.call @{name}_L0_copy(%out0) : ({t}) -> ()
    %ok = arith.constant 0 : i32
    func.return %ok : i32
  }}
}}
"""


def emit(text: str, target: str = "cortex-m4") -> str:
    return to_llvm_ir(lower_to_llvm_dialect(text), target)


def test_special_floats_are_exact_hex_and_read_back_bit_for_bit() -> None:
    values = np.array([-np.inf, np.inf, np.nan, -0.0, 0.1, 1e-45], np.float32)
    ll = emit(copy_global_module("sp", values))
    assert (
        '@"sp_g" = internal constant [6 x float] [float 0xFFF0000000000000, float 0x7FF0000000000000, '
        "float 0x7FF8000000000000, float 0x8000000000000000, float 0x3FB99999A0000000, "
        'float 0x36A0000000000000], section ".rodata.sp_g", align 4'
    ) in ll
    out = np.zeros(values.size, np.float32)
    HostJIT(ll, "O0").run("sp_run", [out.copy()], [out])
    assert out.tobytes() == values.tobytes()


def test_zero_weights_still_constant_and_ints_keep_their_type() -> None:
    ll = emit(copy_global_module("z", np.zeros(5, np.float32)))
    assert '@"z_g" = internal constant [5 x float] zeroinitializer, section ".rodata.z_g", align 4' in ll
    ints = np.array([-128, -1, 0, 1, 127], np.int8)
    ll = emit(copy_global_module("b", ints, "i8"))
    assert (
        '@"b_g" = internal constant [5 x i8] [i8 -128, i8 -1, i8 0, i8 1, i8 127], section ".rodata.b_g", align 4'
    ) in ll
    out = np.zeros(5, np.int8)
    HostJIT(ll).run("b_run", [out.copy()], [out])
    np.testing.assert_array_equal(out, ints)


def test_linkage_and_noinline_survive_a_text_round_trip() -> None:
    module = lower_to_llvm_dialect(copy_global_module("rt", np.ones(3, np.float32)))
    direct = to_llvm_ir(module)
    reparsed = to_llvm_ir(parse_module(module_to_text(module)))
    for ll in (direct, reparsed):
        assert 'define internal void @"rt_L0_copy"(ptr %"y") noinline' in ll
        assert 'define i32 @"rt_run"(ptr %"in0", ptr %"out0")' in ll
        assert "*" not in ll.split("\n", 3)[3]  # opaque pointers only, no typed `float*`
    assert direct == reparsed


def test_target_triple_and_data_layout() -> None:
    text = copy_global_module("t", np.ones(2, np.float32))
    m4 = emit(text)
    assert 'target triple = "thumbv7em-none-eabihf"' in m4
    assert 'target datalayout = "e-m:e-p:32:32' in m4
    host = emit(text, "host")
    assert "thumbv7em" not in host
    assert m4.split("\n", 3)[3] == host.split("\n", 3)[3]  # same body


def test_pipeline_names_are_registered() -> None:
    from xdsl.universe import Universe

    passes = Universe.get_multiverse().all_passes
    for spec in LOWER_TO_LLVM:
        assert spec.split("{")[0] in passes


def _one_layer(body: str, arg_types: str = "memref<4xf32>, memref<4xf32>") -> str:
    return f"""builtin.module {{
  func.func @k_run(%x: memref<4xf32>, %y: memref<4xf32>) -> i32 {{
    %c0 = arith.constant 0 : index
{body}
    %ok = arith.constant 0 : i32
    func.return %ok : i32
  }}
}}
"""


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("maximumf", [2.0, np.nan, np.nan, 3.0]),
        ("maxnumf", [2.0, 1.0, 5.0, 3.0]),
        ("minimumf", [1.0, np.nan, np.nan, -0.0]),
        ("minnumf", [1.0, 1.0, 5.0, -0.0]),
    ],
)
def test_float_min_max_nan_semantics(op: str, expected: list[float]) -> None:
    a = np.array([1.0, np.nan, 5.0, 3.0], np.float32)
    b = np.array([2.0, 1.0, np.nan, -0.0], np.float32)
    body = "\n".join(
        [
            "    affine.for %i = 0 to 4 {",
            "      %a = memref.load %x[%i] : memref<4xf32>",
            "      %b = memref.load %y[%i] : memref<4xf32>",
            f"      %r = arith.{op} %a, %b : f32",
            "      memref.store %r, %y[%i] : memref<4xf32>",
            "    }",
        ]
    )
    ll = emit(_one_layer(body))
    assert "llvm.maxnum" not in ll and "llvm.minnum" not in ll and "llvm.maximum" not in ll
    y = b.copy()
    HostJIT(ll).run("k_run", [a], [y])
    np.testing.assert_array_equal(y, np.array(expected, np.float32))


def test_relu_with_a_constant_is_one_compare_and_select() -> None:
    body = """    affine.for %i = 0 to 4 {
      %a = memref.load %x[%i] : memref<4xf32>
      %z = arith.constant 0.0 : f32
      %r = arith.maximumf %a, %z : f32
      memref.store %r, %y[%i] : memref<4xf32>
    }"""
    ll = emit(_one_layer(body))
    assert ll.count("fcmp") == 1 and ll.count("select") == 1
    y = np.zeros(4, np.float32)
    HostJIT(ll).run("k_run", [np.array([-1, 2, np.nan, 0.5], np.float32)], [y])
    np.testing.assert_array_equal(y, np.array([0, 2, np.nan, 0.5], np.float32))


@pytest.mark.parametrize(("mode", "ir_text", "m4_instruction"), [
    ("split", "fmul <4 x float>", "vmul.f32"),
    ("fmuladd", 'llvm.fmuladd.v4f32"(', "vmul.f32"),
    ("fma", 'llvm.fma.v4f32"(', "vfma.f32"),
])  # fmt: skip
def test_vector_fma_modes(mode: str, ir_text: str, m4_instruction: str) -> None:
    from xdsl.passes import PassPipeline
    from xdsl.universe import Universe

    from t2m.compiler.ir import make_context

    body = """    %v = vector.load %x[%c0] : memref<4xf32>, vector<4xf32>
    %w = vector.load %y[%c0] : memref<4xf32>, vector<4xf32>
    %f = vector.fma %v, %w, %w : vector<4xf32>
    vector.store %f, %y[%c0] : memref<4xf32>, vector<4xf32>"""
    ctx = make_context()
    module = parse_module(_one_layer(body), ctx=ctx)
    spec = ",".join(
        p if p != "convert-vector-to-llvm" else f"convert-vector-to-llvm{{fma={mode}}}" for p in LOWER_TO_LLVM
    )
    PassPipeline.parse_spec(Universe.get_multiverse().all_passes, spec).apply(ctx, module)
    ll = to_llvm_ir(module)
    assert ir_text in ll
    asm = compile_asm(ll)
    assert m4_instruction in asm
    if mode != "fma":
        assert "vfma" not in asm
    y = np.array([1, 2, 3, 4], np.float32)
    HostJIT(ll).run("k_run", [np.array([2, 2, 2, 2], np.float32)], [y])
    np.testing.assert_array_equal(y, np.array([3, 6, 9, 12], np.float32))


def test_unconverted_op_is_a_one_line_error() -> None:
    body = """    %a = memref.load %x[%c0] : memref<4xf32>
    %r = math.exp %a : f32
    memref.store %r, %y[%c0] : memref<4xf32>"""
    module = lower_to_llvm_dialect(_one_layer(body))  # math.exp would be an expf libcall: not converted
    with pytest.raises(BackendError) as error:
        to_llvm_ir(module)
    message = str(error.value)
    assert "\n" not in message
    assert "math.exp" in message and "LOWER_TO_LLVM" in message


def test_loop_level_module_is_rejected_with_a_hint() -> None:
    module = parse_module(_one_layer(""))
    with pytest.raises(BackendError, match=r"func\.func was not converted to the llvm dialect"):
        to_llvm_ir(module)


def test_210k_weights_convert_in_seconds() -> None:
    """VWW has 210 k weights: lowering + printing must stay fast (no per-element Python objects)."""
    n = 210_000
    weights = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    t = memref_type((n,))
    text = f"""builtin.module {{
  "memref.global"() <{{sym_name = "big", sym_visibility = "private", type = {t}, initial_value = {dense_hex(weights)} : tensor<{n}xf32>, constant}}> : () -> ()
  func.func @big_run(%x: memref<1xf32>, %y: memref<1xf32>) -> i32 {{
    %g = memref.get_global @big : {t}
    %z = arith.constant 0.0 : f32
    %s = affine.for %i = 0 to {n} iter_args(%a = %z) -> (f32) {{
      %v = memref.load %g[%i] : {t}
      %a2 = arith.addf %a, %v : f32
      affine.yield %a2 : f32
    }}
    %c0 = arith.constant 0 : index
    memref.store %s, %y[%c0] : memref<1xf32>
    %ok = arith.constant 0 : i32
    func.return %ok : i32
  }}
}}
"""  # noqa: E501
    ll = emit(text)
    y = np.zeros(1, np.float32)
    HostJIT(ll).run("big_run", [np.zeros(1, np.float32)], [y])
    np.testing.assert_allclose(y[0], weights.astype(np.float64).sum(), rtol=1e-3)
    obj = compile_object(ll)
    assert check_cortex_m4_object(obj) == []
    assert inspect_object(obj).section_sizes["rodata"] >= weights.nbytes


def test_argument_attributes_reach_the_llvm_parameters() -> None:
    """A lowering may promise that a layer's output does not alias its inputs: `{llvm.noalias}` -> `noalias`."""
    text = """builtin.module {
  func.func private @k_L0_copy(%x: memref<4xf32> {llvm.noalias}, %y: memref<4xf32> {llvm.noalias, llvm.align = 16 : i64}) attributes {t2m.layer = #t2m.layer<"copy", macs = 0>} {
    func.return
  }
  func.func @k_run(%x: memref<4xf32>, %y: memref<4xf32>) -> i32 {
    func.call @k_L0_copy(%x, %y) : (memref<4xf32>, memref<4xf32>) -> ()
    %ok = arith.constant 0 : i32
    func.return %ok : i32
  }
}
"""  # noqa: E501
    ll = emit(text)
    assert 'define internal void @"k_L0_copy"(ptr noalias %"x", ptr noalias align 16 %"y") noinline' in ll
    assert 'define i32 @"k_run"(ptr %"x", ptr %"y")' in ll
