"""Loop-level kernels -> llvm dialect -> LLVM IR -> host JIT (vs numpy) and Cortex-M4 object (vs the contract)."""

from __future__ import annotations

import numpy as np
import pytest
from llvm_kernels import ALL_KERNELS, Kernel, compile_kernel_ll, run_on_host

from t2m.compiler.backend.llvm import compile_asm, compile_object
from t2m.compiler.backend.objcheck import check_cortex_m4_object, inspect_object


@pytest.fixture(scope="module", params=sorted(ALL_KERNELS))
def compiled(request: pytest.FixtureRequest) -> tuple[Kernel, str]:
    kernel = ALL_KERNELS[request.param]()
    return kernel, compile_kernel_ll(kernel)


@pytest.mark.parametrize("opt", ["O0", "O2"])
def test_host_jit_matches_numpy(compiled: tuple[Kernel, str], opt: str) -> None:
    kernel, ll = compiled
    outputs = run_on_host(ll, kernel, opt)
    for got, want in zip(outputs, kernel.reference(*kernel.inputs), strict=True):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=kernel.rtol, atol=kernel.atol)


@pytest.mark.parametrize("opt", ["O0", "O2", "Os"])
def test_cortex_m4_object_meets_the_contract(compiled: tuple[Kernel, str], opt: str) -> None:
    kernel, ll = compiled
    obj = compile_object(ll, "cortex-m4", opt)
    assert check_cortex_m4_object(obj) == []
    info = inspect_object(obj)
    run = next(s for s in info.functions if s.name == f"{kernel.name}_run")
    assert run.binding == "STB_GLOBAL"
    layers = [s for s in info.functions if "_L" in s.name]
    assert layers, "layer functions must stay out of line (noinline)"
    assert all(s.binding == "STB_LOCAL" for s in layers)
    assert info.undefined == ()


def test_weights_live_in_rodata_and_buffers_in_bss() -> None:
    kernel = ALL_KERNELS["conv2d"]()
    info = inspect_object(compile_object(compile_kernel_ll(kernel)))
    assert info.section_sizes["rodata"] >= kernel.weights["conv_w"].nbytes
    assert info.section_sizes["data"] == 0
    model = ALL_KERNELS["model"]()
    info = inspect_object(compile_object(compile_kernel_ll(model), opt="O0"))
    assert info.section_sizes["bss"] >= (8 + 4) * 4  # the two alloc'd buffers
    assert info.section_sizes["rodata"] >= model.weights["mdl_w1"].nbytes


def test_unaligned_vector_loads_run_on_the_host() -> None:
    """`dot` loads <4 x float> at odd float offsets: only correct with `align 4` on every access."""
    kernel = ALL_KERNELS["dot"]()
    ll = compile_kernel_ll(kernel)
    assert "load <4 x float>" in ll
    assert all(line.rstrip().endswith("align 4") for line in ll.splitlines() if "load <4 x float>" in line)
    outputs = run_on_host(ll, kernel, "O3")
    np.testing.assert_allclose(outputs[0], kernel.reference(*kernel.inputs)[0], rtol=1e-5, atol=1e-5)


def test_conv_inner_loop_is_vmul_vadd_on_cortex_m4() -> None:
    """fmul + fadd (no contraction) gives VMUL + VADD (1 + 1 cycles) rather than a 3-cycle VFMA."""
    asm = compile_asm(compile_kernel_ll(ALL_KERNELS["conv2d"]()))
    body = asm.split("conv_L0_conv2d:", 1)[1].split(".Lfunc_end", 1)[0]
    assert "vmul.f32" in body and "vadd.f32" in body
    assert "vfma" not in body and "vmla" not in body
    assert "bl\t" not in body  # no calls: no libm, no helpers


XDSL_ROUTE = [
    "lower-affine", "convert-vector-to-ptr", "convert-memref-to-ptr{lower_func=true}", "convert-memref-to-llvm",
    "convert-ptr-type-offsets", "convert-scf-to-cf", "canonicalize", "convert-ptr-to-llvm-gep",
    "convert-vector-to-llvm", "convert-arith-to-llvm", "convert-index-to-llvm", "convert-cf-to-llvm",
    "convert-func-to-llvm", "reconcile-unrealized-casts",
]  # fmt: skip


@pytest.mark.parametrize("name", ["conv2d", "dot", "model"])
def test_xdsl_memref_to_ptr_route_gives_the_same_results(name: str) -> None:
    """xDSL's memref-to-ptr + t2m's ptr-to-llvm-gep (the slower route LOWER_TO_LLVM replaced) still works: the
    accesses and views go through ptr_xdsl, convert-memref-to-llvm only does the storage."""
    from xdsl.passes import PassPipeline
    from xdsl.universe import Universe

    from t2m.compiler.backend.emit_llvm import to_llvm_ir
    from t2m.compiler.ir import make_context, parse_module

    kernel = ALL_KERNELS[name]()
    ctx = make_context()
    module = parse_module(kernel.mlir, ctx=ctx)
    PassPipeline.parse_spec(Universe.get_multiverse().all_passes, ",".join(XDSL_ROUTE)).apply(ctx, module)
    ll = to_llvm_ir(module)
    assert "getelementptr inbounds i8" in ll  # ptradd as an i8 GEP
    assert "inttoptr" not in ll and "ptrtoint" not in ll
    outputs = run_on_host(ll, kernel)
    np.testing.assert_allclose(outputs[0], kernel.reference(*kernel.inputs)[0], rtol=kernel.rtol, atol=kernel.atol)
