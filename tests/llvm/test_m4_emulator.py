"""The same LLVM IR on the emulated Cortex-M4 and on the host JIT: bit-identical outputs (fmul + fadd, ordered
reductions, no contraction on either side), and per-layer cycles attributed to the noinline layer functions."""

from __future__ import annotations

import numpy as np
import pytest
from llvm_kernels import ALL_KERNELS, compile_kernel_ll, run_on_host

from t2m.compiler.backend.llvm import compile_object

emulator = pytest.importorskip("t2m.compiler.emulator")


@pytest.mark.parametrize("name", sorted(ALL_KERNELS))
@pytest.mark.parametrize("opt", ["O0", "O2"])
def test_m4_matches_host_bit_for_bit(name: str, opt: str) -> None:
    kernel = ALL_KERNELS[name]()
    ll = compile_kernel_ll(kernel)
    host = run_on_host(ll, kernel, opt)
    outputs = [np.zeros(shape, dtype) for shape, dtype in kernel.outputs]
    result = emulator.run_function(
        compile_object(ll, "cortex-m4", opt), f"{kernel.name}_run", [*kernel.inputs, *outputs]
    )
    assert result.value == 0
    for got, want in zip(result.outputs[len(kernel.inputs) :], host, strict=True):
        assert isinstance(got, np.ndarray)
        assert got.tobytes() == want.tobytes()
    layers = {n: cost for n, cost in result.functions.items() if "_L" in n}
    assert layers and all(cost.cycles > 0 for cost in layers.values())
