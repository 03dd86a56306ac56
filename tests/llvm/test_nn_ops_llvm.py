"""nn ops beyond the zoo (sigmoid, tanh, broadcast mul/add, clamp, max/adaptive pool, softmax, concat, two outputs)
through lower-nn-* -> LOWER_TO_LLVM -> host JIT, against the nn interpreter."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.passes import PassPipeline
from xdsl.universe import Universe

from t2m.compiler.backend.emit_llvm import to_llvm_ir
from t2m.compiler.backend.jit import HostJIT
from t2m.compiler.backend.llvm import compile_object
from t2m.compiler.backend.objcheck import check_cortex_m4_object
from t2m.compiler.interpreter import run_module
from t2m.compiler.ir import make_context, parse_module
from t2m.compiler.pipeline import LOWER_TO_LLVM, LOWER_TO_LOOPS

MISC = """
func.func @misc(%x: tensor<1x4x6x6xf32>, %c: tensor<1x4x1x1xf32>) -> (tensor<1x8x3x3xf32>, tensor<1x4x3x3xf32>) {
  %a = nn.sigmoid %x : tensor<1x4x6x6xf32>
  %b = nn.tanh %a : tensor<1x4x6x6xf32>
  %m = nn.mul %b, %c : (tensor<1x4x6x6xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x6x6xf32>
  %d = nn.add %m, %x : (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %e = nn.clamp %d {min = 0.0 : f32, max = 6.0 : f32} : tensor<1x4x6x6xf32>
  %p = nn.max_pool2d %e {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32>
  %q = nn.adaptive_avg_pool2d %e {output_size = array<i64: 3, 3>} : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32>
  %s = nn.softmax %q {axis = 1 : i64} : tensor<1x4x3x3xf32>
  %cat = nn.concat %p, %s {axis = 1 : i64} : (tensor<1x4x3x3xf32>, tensor<1x4x3x3xf32>) -> tensor<1x8x3x3xf32>
  func.return %cat, %p : tensor<1x8x3x3xf32>, tensor<1x4x3x3xf32>
}
"""  # noqa: E501


@pytest.mark.parametrize("scale", [1.0, 40.0])  # 40: exp's clamping and saturation in sigmoid/tanh
def test_misc_ops_match_the_nn_interpreter(scale: float) -> None:
    passes = Universe.get_multiverse().all_passes
    if any(name not in passes for name in LOWER_TO_LOOPS):
        pytest.skip("lowering passes not registered yet")
    ctx = make_context()
    module = parse_module(MISC, ctx=ctx)
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((1, 4, 6, 6)) * scale).astype(np.float32)
    c = rng.standard_normal((1, 4, 1, 1)).astype(np.float32)
    reference = run_module(module, [x, c])
    PassPipeline.parse_spec(passes, ",".join(LOWER_TO_LOOPS + LOWER_TO_LLVM)).apply(ctx, module)
    ll = to_llvm_ir(module)
    outputs = [np.zeros(r.shape, np.float32) for r in reference]
    assert HostJIT(ll).run("misc_run", [x, c], outputs) == 0
    for got, want in zip(outputs, reference, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert check_cortex_m4_object(compile_object(ll)) == []
