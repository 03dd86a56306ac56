"""Hand-written LLVM IR kernels for the backend tests, shaped like what t2m generates.

Pointer-only ``i32 name(ptr in, ptr out)`` functions, weights as ``internal constant`` globals, relu as
``fcmp`` + ``select``; numpy references compute in the same order as the IR so results compare exactly.
"""

from __future__ import annotations

import numpy as np

CORTEX_M4_HEADER = (
    'target datalayout = "e-m:e-p:32:32-Fi8-i64:64-v128:64:128-a:0:32-n32-S64"\n'
    'target triple = "thumbv7em-none-eabihf"\n'
)


def float_literal(value: float) -> str:
    """LLVM spells float constants as the hex of the equivalent double: exact for every float32."""
    return f"0x{np.float64(np.float32(value)).view(np.uint64):016X}"


def float_array(values: np.ndarray) -> str:
    items = ", ".join(f"float {float_literal(v)}" for v in values.astype(np.float32).ravel())
    return f"[{values.size} x float] [{items}]"


def dense_relu_ir(weights: np.ndarray, bias: np.ndarray, name: str = "dense_run", header: str = "") -> str:
    """``out = relu(W @ in + b)`` for a compile-time ``W`` of shape (N, K), row by row, k ascending."""
    n, k = weights.shape
    return f"""{header}
@{name}.weights = internal constant {float_array(weights)}, align 4
@{name}.bias = internal constant {float_array(bias)}, align 4

define i32 @{name}(ptr noalias %input, ptr noalias %output) {{
entry:
  br label %row
row:
  %i = phi i32 [ 0, %entry ], [ %i.next, %row.end ]
  %b.ptr = getelementptr inbounds [{n} x float], ptr @{name}.bias, i32 0, i32 %i
  %b = load float, ptr %b.ptr, align 4
  %row.base = mul i32 %i, {k}
  br label %dot
dot:
  %j = phi i32 [ 0, %row ], [ %j.next, %dot ]
  %acc = phi float [ %b, %row ], [ %acc.next, %dot ]
  %w.index = add i32 %row.base, %j
  %w.ptr = getelementptr inbounds [{n * k} x float], ptr @{name}.weights, i32 0, i32 %w.index
  %w = load float, ptr %w.ptr, align 4
  %x.ptr = getelementptr inbounds float, ptr %input, i32 %j
  %x = load float, ptr %x.ptr, align 4
  %product = fmul float %w, %x
  %acc.next = fadd float %acc, %product
  %j.next = add i32 %j, 1
  %dot.done = icmp eq i32 %j.next, {k}
  br i1 %dot.done, label %row.end, label %dot
row.end:
  %positive = fcmp ogt float %acc.next, 0.0
  %relu = select i1 %positive, float %acc.next, float 0.0
  %y.ptr = getelementptr inbounds float, ptr %output, i32 %i
  store float %relu, ptr %y.ptr, align 4
  %i.next = add i32 %i, 1
  %rows.done = icmp eq i32 %i.next, {n}
  br i1 %rows.done, label %exit, label %row
exit:
  ret i32 0
}}
"""


def dense_relu_reference(weights: np.ndarray, bias: np.ndarray, x: np.ndarray) -> np.ndarray:
    """float32 reference with the IR's exact operation order (fmul then fadd, k ascending, no FMA)."""
    acc = bias.astype(np.float32).copy()
    for j in range(weights.shape[1]):
        acc = acc + weights[:, j] * x[j]
    return np.where(acc > 0, acc, np.float32(0)).astype(np.float32)


def dot_i8_ir(length: int) -> str:
    """``out[0] = sum(sext(a) * sext(b))`` over int8 buffers, accumulated in i32."""
    return f"""
define i32 @dot_i8(ptr noalias %a, ptr noalias %b, ptr noalias %out) {{
entry:
  br label %loop
loop:
  %i = phi i32 [ 0, %entry ], [ %i.next, %loop ]
  %acc = phi i32 [ 0, %entry ], [ %acc.next, %loop ]
  %a.ptr = getelementptr inbounds i8, ptr %a, i32 %i
  %b.ptr = getelementptr inbounds i8, ptr %b, i32 %i
  %a.i8 = load i8, ptr %a.ptr, align 1
  %b.i8 = load i8, ptr %b.ptr, align 1
  %a.i32 = sext i8 %a.i8 to i32
  %b.i32 = sext i8 %b.i8 to i32
  %product = mul nsw i32 %a.i32, %b.i32
  %acc.next = add nsw i32 %acc, %product
  %i.next = add i32 %i, 1
  %done = icmp eq i32 %i.next, {length}
  br i1 %done, label %exit, label %loop
exit:
  store i32 %acc.next, ptr %out, align 4
  ret i32 0
}}
"""


def exp_ir(length: int) -> str:
    """Elementwise ``llvm.exp.f32``, which LLVM lowers to an ``expf`` libcall on the M4: a violation."""
    return f"""
declare float @llvm.exp.f32(float)

define i32 @exp_run(ptr noalias %input, ptr noalias %output) {{
entry:
  br label %loop
loop:
  %i = phi i32 [ 0, %entry ], [ %i.next, %loop ]
  %x.ptr = getelementptr inbounds float, ptr %input, i32 %i
  %x = load float, ptr %x.ptr, align 4
  %y = call float @llvm.exp.f32(float %x)
  %y.ptr = getelementptr inbounds float, ptr %output, i32 %i
  store float %y, ptr %y.ptr, align 4
  %i.next = add i32 %i, 1
  %done = icmp eq i32 %i.next, {length}
  br i1 %done, label %exit, label %loop
exit:
  ret i32 0
}}
"""


def random_dense(rows: int, columns: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal((rows, columns)).astype(np.float32)
    bias = rng.standard_normal(rows).astype(np.float32)
    return weights, bias
