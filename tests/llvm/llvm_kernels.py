"""Hand-written loop-level modules in the shape t2m's `lower-nn-*` passes produce, with numpy references.

Each `Kernel` is a module with `func.func @<name>_run(inputs..., outputs...) -> i32` calling private layer
functions (`#t2m.layer<...>`), weights as `memref.global` constants written as hex `dense<"0x...">` (the way large
tensors print), and loops as `affine.for` with dimension maps, `scf`, `memref.load/store` and `vector` ops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

RNG = np.random.default_rng(1234)


@dataclass
class Kernel:
    name: str
    mlir: str
    inputs: list[np.ndarray]
    outputs: list[tuple[tuple[int, ...], type]]  # shape, numpy dtype
    reference: Callable[..., list[np.ndarray]]
    rtol: float = 1e-5
    atol: float = 1e-6
    weights: dict[str, np.ndarray] = field(default_factory=dict)


def dense_hex(array: np.ndarray) -> str:
    """A dense attribute from raw little-endian bytes (exact, fast to parse)."""
    return f'dense<"0x{np.ascontiguousarray(array).tobytes().hex().upper()}">'


def memref_type(shape: tuple[int, ...], element: str = "f32") -> str:
    return f"memref<{'x'.join(map(str, shape))}x{element}>" if shape else f"memref<{element}>"


def global_op(name: str, array: np.ndarray, element: str = "f32") -> str:
    t = memref_type(array.shape, element)
    tensor = t.replace("memref", "tensor")
    return (
        f'  "memref.global"() <{{sym_name = "{name}", sym_visibility = "private", type = {t}, '
        f"initial_value = {dense_hex(array)} : {tensor}, constant}}> : () -> ()\n"
    )


# --- conv2d 3x3, stride 1, no padding, bias, relu ----------------------------------------------------------


def conv2d() -> Kernel:
    ci, co, h, w, k = 3, 8, 7, 7, 3
    oh, ow = h - k + 1, w - k + 1
    weight = RNG.standard_normal((co, ci, k, k)).astype(np.float32)
    bias = RNG.standard_normal(co).astype(np.float32)
    x = RNG.standard_normal((1, ci, h, w)).astype(np.float32)
    xt, yt, wt = memref_type((1, ci, h, w)), memref_type((1, co, oh, ow)), memref_type(weight.shape)
    macs = co * oh * ow * ci * k * k
    mlir = f"""builtin.module {{
{global_op("conv_w", weight)}{global_op("conv_b", bias)}
  func.func private @conv_L0_conv2d(%x: {xt}, %y: {yt}) attributes {{t2m.layer = #t2m.layer<"conv2d", macs = {macs}>}} {{
    %w = memref.get_global @conv_w : {wt}
    %b = memref.get_global @conv_b : memref<{co}xf32>
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f32
    affine.for %o = 0 to {co} {{
      affine.for %i = 0 to {oh} {{
        affine.for %j = 0 to {ow} {{
          %b0 = memref.load %b[%o] : memref<{co}xf32>
          %acc = affine.for %c = 0 to {ci} iter_args(%a0 = %b0) -> (f32) {{
            %a1 = affine.for %kh = 0 to {k} iter_args(%a2 = %a0) -> (f32) {{
              %ih = affine.apply affine_map<(d0, d1) -> (d0 + d1)>(%i, %kh)
              %a3 = affine.for %kw = 0 to {k} iter_args(%a4 = %a2) -> (f32) {{
                %iw = affine.apply affine_map<(d0, d1) -> (d0 + d1)>(%j, %kw)
                %xv = memref.load %x[%c0, %c, %ih, %iw] : {xt}
                %wv = memref.load %w[%o, %c, %kh, %kw] : {wt}
                %p = arith.mulf %xv, %wv : f32
                %s = arith.addf %a4, %p : f32
                affine.yield %s : f32
              }}
              affine.yield %a3 : f32
            }}
            affine.yield %a1 : f32
          }}
          %relu = arith.maximumf %acc, %zero : f32
          memref.store %relu, %y[%c0, %o, %i, %j] : {yt}
        }}
      }}
    }}
    func.return
  }}
  func.func @conv_run(%in0: {xt}, %out0: {yt}) -> i32 {{
    func.call @conv_L0_conv2d(%in0, %out0) : ({xt}, {yt}) -> ()
    %ok = arith.constant 0 : i32
    func.return %ok : i32
  }}
}}
"""  # noqa: E501

    def reference(x: np.ndarray) -> list[np.ndarray]:
        y = np.zeros((1, co, oh, ow), np.float64)
        for kh in range(k):
            for kw in range(k):
                patch = x[0, :, kh : kh + oh, kw : kw + ow].astype(np.float64)
                y[0] += np.einsum("chw,oc->ohw", patch, weight[:, :, kh, kw].astype(np.float64))
        y += bias[None, :, None, None]
        return [np.maximum(y, 0).astype(np.float32)]

    return Kernel("conv", mlir, [x], [((1, co, oh, ow), np.float32)], reference, 1e-5, 1e-5,
                  {"conv_w": weight, "conv_b": bias})  # fmt: skip


# --- vectorised dot product with a scalar remainder ----------------------------------------------------------


def dot() -> Kernel:
    n, m = 3, 11  # 11 = 2 vectors of 4 + 3 scalars; rows start at odd offsets (unaligned vector loads)
    weight = RNG.standard_normal((n, m)).astype(np.float32)
    bias = RNG.standard_normal(n).astype(np.float32)
    x = RNG.standard_normal((1, m)).astype(np.float32)
    xt, yt, wt = memref_type((1, m)), memref_type((1, n)), memref_type((n, m))
    mlir = f"""builtin.module {{
{global_op("dot_w", weight)}{global_op("dot_b", bias)}
  func.func private @dot_L0_linear(%x: {xt}, %y: {yt}) attributes {{t2m.layer = #t2m.layer<"linear", macs = {n * m}>}} {{
    %w = memref.get_global @dot_w : {wt}
    %b = memref.get_global @dot_b : memref<{n}xf32>
    %c0 = arith.constant 0 : index
    %vz = arith.constant dense<0.0> : vector<4xf32>
    affine.for %r = 0 to {n} {{
      %vacc = affine.for %k = 0 to 8 step 4 iter_args(%va = %vz) -> (vector<4xf32>) {{
        %xv = vector.load %x[%c0, %k] : {xt}, vector<4xf32>
        %wv = vector.load %w[%r, %k] : {wt}, vector<4xf32>
        %f = vector.fma %xv, %wv, %va : vector<4xf32>
        affine.yield %f : vector<4xf32>
      }}
      %br = memref.load %b[%r] : memref<{n}xf32>
      %s0 = vector.reduction <add>, %vacc, %br : vector<4xf32> into f32
      %s = affine.for %k = 8 to {m} iter_args(%a = %s0) -> (f32) {{
        %xs = memref.load %x[%c0, %k] : {xt}
        %ws = memref.load %w[%r, %k] : {wt}
        %p = arith.mulf %xs, %ws : f32
        %q = arith.addf %a, %p : f32
        affine.yield %q : f32
      }}
      memref.store %s, %y[%c0, %r] : {yt}
    }}
    func.return
  }}
  func.func @dot_run(%in0: {xt}, %out0: {yt}) -> i32 {{
    func.call @dot_L0_linear(%in0, %out0) : ({xt}, {yt}) -> ()
    %ok = arith.constant 0 : i32
    func.return %ok : i32
  }}
}}
"""  # noqa: E501

    def reference(x: np.ndarray) -> list[np.ndarray]:
        return [(x.astype(np.float64) @ weight.T.astype(np.float64) + bias).astype(np.float32)]

    return Kernel("dot", mlir, [x], [((1, n), np.float32)], reference, 1e-5, 1e-5, {"dot_w": weight})


# --- vector elementwise: broadcast of a loaded scalar, vector mulf/addf, extract/insert ------------------------


def scale_shift() -> Kernel:
    n = 8
    x = RNG.standard_normal((1, n)).astype(np.float32)
    params = np.array([1.5, -0.25], np.float32)
    xt = memref_type((1, n))
    mlir = f"""builtin.module {{
{global_op("ss_p", params)}
  func.func private @ss_L0_affine(%x: {xt}, %y: {xt}) attributes {{t2m.layer = #t2m.layer<"affine", macs = {n}>}} {{
    %p = memref.get_global @ss_p : memref<2xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %scale = memref.load %p[%c0] : memref<2xf32>
    %shift = memref.load %p[%c1] : memref<2xf32>
    %vs = vector.broadcast %scale : f32 to vector<4xf32>
    %vh = vector.broadcast %shift : f32 to vector<4xf32>
    %two = arith.constant 2.0 : f32
    %v2 = vector.broadcast %two : f32 to vector<4xf32>
    affine.for %k = 0 to {n} step 4 {{
      %v = vector.load %x[%c0, %k] : {xt}, vector<4xf32>
      %m = arith.mulf %v, %vs : vector<4xf32>
      %a = arith.addf %m, %vh : vector<4xf32>
      %lane = vector.extract %a[3] : f32 from vector<4xf32>
      %dbl = arith.mulf %lane, %two : f32
      %b = vector.insert %dbl, %a[3] : f32 into vector<4xf32>
      %c = arith.mulf %b, %v2 : vector<4xf32>
      vector.store %c, %y[%c0, %k] : {xt}, vector<4xf32>
    }}
    func.return
  }}
  func.func @ss_run(%in0: {xt}, %out0: {xt}) -> i32 {{
    func.call @ss_L0_affine(%in0, %out0) : ({xt}, {xt}) -> ()
    %ok = arith.constant 0 : i32
    func.return %ok : i32
  }}
}}
"""

    def reference(x: np.ndarray) -> list[np.ndarray]:
        a = x * params[0] + params[1]
        a[0, 3::4] *= 2
        return [(a * 2).astype(np.float32)]

    return Kernel("ss", mlir, [x], [((1, n), np.float32)], reference)


# --- exp by range reduction and bit tricks (fptosi, sitofp, shli, bitcast, min/max) ----------------------------


def exp_bits() -> Kernel:
    n = 64
    x = np.linspace(-20, 20, n, dtype=np.float32).reshape(1, n)
    x[0, 5] = -200.0  # clamped
    xt = memref_type((1, n))
    coeffs = [1.0, 1.0, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040]  # e^g, |g| < ln 2
    poly_consts = "\n".join(f"    %k{i} = arith.constant {c:.9e} : f32" for i, c in enumerate(coeffs))
    horner = []
    prev = "%k7"
    for i in range(6, -1, -1):
        horner.append(f"      %h{i}m = arith.mulf {prev}, %g : f32")
        horner.append(f"      %h{i} = arith.addf %h{i}m, %k{i} : f32")
        prev = f"%h{i}"
    body = "\n".join(horner)
    mlir = f"""builtin.module {{
  func.func private @exp_L0_exp(%x: {xt}, %y: {xt}) attributes {{t2m.layer = #t2m.layer<"exp", macs = 0>}} {{
    %c0 = arith.constant 0 : index
    %lo = arith.constant -87.0 : f32
    %hi = arith.constant 88.0 : f32
    %log2e = arith.constant 1.44269504 : f32
    %ln2 = arith.constant 0.693147182 : f32
    %bias = arith.constant 127 : i32
    %c23 = arith.constant 23 : i32
{poly_consts}
    affine.for %i = 0 to {n} {{
      %v = memref.load %x[%c0, %i] : {xt}
      %v1 = arith.maxnumf %v, %lo : f32
      %v2 = arith.minimumf %v1, %hi : f32
      %t = arith.mulf %v2, %log2e : f32
      %n = arith.fptosi %t : f32 to i32
      %nf = arith.sitofp %n : i32 to f32
      %f = arith.subf %t, %nf : f32
      %g = arith.mulf %f, %ln2 : f32
{body}
      %e = arith.addi %n, %bias : i32
      %bits = arith.shli %e, %c23 : i32
      %scale = arith.bitcast %bits : i32 to f32
      %r = arith.mulf %h0, %scale : f32
      memref.store %r, %y[%c0, %i] : {xt}
    }}
    func.return
  }}
  func.func @exp_run(%in0: {xt}, %out0: {xt}) -> i32 {{
    func.call @exp_L0_exp(%in0, %out0) : ({xt}, {xt}) -> ()
    %ok = arith.constant 0 : i32
    func.return %ok : i32
  }}
}}
"""

    def reference(x: np.ndarray) -> list[np.ndarray]:
        return [np.exp(np.clip(x.astype(np.float64), -87, 88)).astype(np.float32)]

    return Kernel("exp", mlir, [x], [((1, n), np.float32)], reference, 2e-6, 1e-37)


# --- a small model: weights, alloc'd buffers, collapse/expand views, reinterpret_cast ------------------------


def model() -> Kernel:
    w1 = RNG.standard_normal((4, 8)).astype(np.float32)
    x = RNG.standard_normal((1, 2, 2, 2)).astype(np.float32)
    offset = np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2) / 8
    xt, ft, ht, et = memref_type((1, 2, 2, 2)), memref_type((1, 8)), memref_type((1, 4)), memref_type((1, 2, 2))
    rct = "memref<2xf32, strided<[1], offset: 2>>"
    mlir = f"""builtin.module {{
{global_op("mdl_off", offset)}{global_op("mdl_w1", w1)}
  func.func private @mdl_L0_add(%x: {xt}, %y: {xt}) attributes {{t2m.layer = #t2m.layer<"add", macs = 8>}} {{
    %off = memref.get_global @mdl_off : {xt}
    %c0 = arith.constant 0 : index
    affine.for %c = 0 to 2 {{
      affine.for %h = 0 to 2 {{
        affine.for %w = 0 to 2 {{
          %a = memref.load %x[%c0, %c, %h, %w] : {xt}
          %b = memref.load %off[%c0, %c, %h, %w] : {xt}
          %s = arith.addf %a, %b : f32
          memref.store %s, %y[%c0, %c, %h, %w] : {xt}
        }}
      }}
    }}
    func.return
  }}
  func.func private @mdl_L1_linear(%x: {ft}, %y: {ht}) attributes {{t2m.layer = #t2m.layer<"linear", macs = 32>}} {{
    %w = memref.get_global @mdl_w1 : memref<4x8xf32>
    %c0 = arith.constant 0 : index
    %z = arith.constant 0.0 : f32
    affine.for %o = 0 to 4 {{
      %acc = affine.for %k = 0 to 8 iter_args(%a = %z) -> (f32) {{
        %xv = memref.load %x[%c0, %k] : {ft}
        %wv = memref.load %w[%o, %k] : memref<4x8xf32>
        %p = arith.mulf %xv, %wv : f32
        %s = arith.addf %a, %p : f32
        affine.yield %s : f32
      }}
      memref.store %acc, %y[%c0, %o] : {ht}
    }}
    func.return
  }}
  func.func private @mdl_L2_relu(%x: {et}, %y: {et}) attributes {{t2m.layer = #t2m.layer<"relu", macs = 0>}} {{
    %c0 = arith.constant 0 : index
    %z = arith.constant 0.0 : f32
    affine.for %i = 0 to 2 {{
      affine.for %j = 0 to 2 {{
        %v = memref.load %x[%c0, %i, %j] : {et}
        %pos = arith.cmpf ogt, %v, %z : f32
        %r = arith.select %pos, %v, %z : f32
        memref.store %r, %y[%c0, %i, %j] : {et}
      }}
    }}
    func.return
  }}
  func.func @mdl_run(%in0: {xt}, %out0: {ht}) -> i32 {{
    %b0 = memref.alloc() : {xt}
    func.call @mdl_L0_add(%in0, %b0) : ({xt}, {xt}) -> ()
    %flat = memref.collapse_shape %b0 [[0], [1, 2, 3]] : {xt} into {ft}
    %b1 = memref.alloc() : {ht}
    func.call @mdl_L1_linear(%flat, %b1) : ({ft}, {ht}) -> ()
    memref.dealloc %b0 : {xt}
    %v1 = memref.expand_shape %b1 [[0], [1, 2]] output_shape [1, 2, 2] : {ht} into {et}
    %v2 = memref.expand_shape %out0 [[0], [1, 2]] output_shape [1, 2, 2] : {ht} into {et}
    func.call @mdl_L2_relu(%v1, %v2) : ({et}, {et}) -> ()
    %tail = memref.reinterpret_cast %b1 to offset: [2], sizes: [2], strides: [1] : {ht} to {rct}
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %t1 = memref.load %tail[%c1] : {rct}
    memref.store %t1, %tail[%c0] : {rct}
    %moved = memref.load %b1[%c0, %c0] : {ht}
    %last = memref.load %out0[%c0, %c1] : {ht}
    %sum = arith.addf %moved, %last : f32
    memref.store %sum, %out0[%c0, %c1] : {ht}
    memref.dealloc %b1 : {ht}
    %ok = arith.constant 0 : i32
    func.return %ok : i32
  }}
}}
"""

    def reference(x: np.ndarray) -> list[np.ndarray]:
        h = ((x + offset).reshape(1, 8).astype(np.float64) @ w1.T.astype(np.float64)).astype(np.float32)
        y = np.maximum(h, 0)
        y[0, 1] = h[0, 0] + y[0, 1]
        return [y.astype(np.float32)]

    return Kernel("mdl", mlir, [x], [((1, 4), np.float32)], reference, 1e-5, 1e-5, {"mdl_w1": w1})


# --- integer and index arithmetic: floordiv/mod maps, rounding divisions, shifts, casts, min/max --------------


def integers() -> Kernel:
    n = 24
    x = (np.arange(n, dtype=np.int32) * 37 - 400).reshape(1, n)
    it = memref_type((1, n), "i32")
    ot = memref_type((8, n), "i32")
    mlir = f"""builtin.module {{
  func.func private @int_L0_mix(%x: {it}, %y: {ot}) attributes {{t2m.layer = #t2m.layer<"mix", macs = 0>}} {{
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %m7 = arith.constant -7 : i32
    %c3 = arith.constant 3 : i32
    %big = arith.constant 255 : i32
    affine.for %i = 0 to {n} {{
      %q = affine.apply affine_map<(d0) -> (d0 floordiv 5)>(%i)
      %r = affine.apply affine_map<(d0) -> (d0 mod 5)>(%i)
      %qr = affine.apply affine_map<(d0, d1) -> (d0 * 10 + d1)>(%q, %r)
      %qri = arith.index_cast %qr : index to i32
      %row0 = affine.apply affine_map<() -> (0)>()
      memref.store %qri, %y[%row0, %i] : {ot}
      %v = memref.load %x[%c0, %i] : {it}
      %vi = arith.index_cast %v : i32 to index
      %fd = arith.floordivsi %vi, %c4 : index
      %cd = arith.ceildivsi %vi, %c4 : index
      %fdi = arith.index_cast %fd : index to i32
      %cdi = arith.index_cast %cd : index to i32
      %c1 = arith.constant 1 : index
      %c2 = arith.constant 2 : index
      memref.store %fdi, %y[%c1, %i] : {ot}
      memref.store %cdi, %y[%c2, %i] : {ot}
      %d = arith.divsi %v, %m7 : i32
      %rm = arith.remsi %v, %m7 : i32
      %dr = arith.addi %d, %rm : i32
      %c3i = arith.constant 3 : index
      memref.store %dr, %y[%c3i, %i] : {ot}
      %sh = arith.shrsi %v, %c3 : i32
      %shu = arith.shrui %v, %c3 : i32
      %and = arith.andi %shu, %big : i32
      %x1 = arith.xori %sh, %and : i32
      %o1 = arith.ori %x1, %c3 : i32
      %c4i = arith.constant 4 : index
      memref.store %o1, %y[%c4i, %i] : {ot}
      %mx = arith.maxsi %v, %m7 : i32
      %mn = arith.minsi %mx, %big : i32
      %c5 = arith.constant 5 : index
      memref.store %mn, %y[%c5, %i] : {ot}
      %t8 = arith.trunci %v : i32 to i8
      %z = arith.extui %t8 : i8 to i32
      %s8 = arith.extsi %t8 : i8 to i32
      %zs = arith.subi %z, %s8 : i32
      %c6 = arith.constant 6 : index
      memref.store %zs, %y[%c6, %i] : {ot}
      %neg = arith.cmpi slt, %v, %m7 : i32
      %f = arith.sitofp %v : i32 to f32
      %half = arith.constant 0.5 : f32
      %fh = arith.mulf %f, %half : f32
      %back = arith.fptosi %fh : f32 to i32
      %sel = arith.select %neg, %back, %mn : i32
      %c7 = arith.constant 7 : index
      memref.store %sel, %y[%c7, %i] : {ot}
    }}
    func.return
  }}
  func.func @int_run(%in0: {it}, %out0: {ot}) -> i32 {{
    func.call @int_L0_mix(%in0, %out0) : ({it}, {ot}) -> ()
    %ok = arith.constant 0 : i32
    func.return %ok : i32
  }}
}}
"""

    def reference(x: np.ndarray) -> list[np.ndarray]:
        v = x[0].astype(np.int64)
        i = np.arange(n)
        y = np.zeros((8, n), np.int64)
        y[0] = (i // 5) * 10 + i % 5
        y[1] = np.floor_divide(v, 4)
        y[2] = -np.floor_divide(-v, 4)
        d = np.trunc(v / -7).astype(np.int64)
        y[3] = d + (v - d * -7)
        sh = v >> 3
        shu = (v & 0xFFFFFFFF) >> 3
        y[4] = (sh ^ (shu & 255)) | 3
        mn = np.minimum(np.maximum(v, -7), 255)
        y[5] = mn
        t8 = v & 0xFF
        y[6] = t8 - np.where(t8 >= 128, t8 - 256, t8)
        y[7] = np.where(v < -7, np.trunc(v * 0.5).astype(np.int64), mn)
        return [y.astype(np.int32)]

    return Kernel("int", mlir, [x], [((8, n), np.int32)], reference, 0, 0)


# --- scf.for with iter_args, scf.if with results ------------------------------------------------------------


def scf_loops() -> Kernel:
    n = 10
    x = RNG.standard_normal((1, n)).astype(np.float32)
    xt, yt = memref_type((1, n)), memref_type((1, 2))
    mlir = f"""builtin.module {{
  func.func private @scf_L0_stats(%x: {xt}, %y: {yt}) attributes {{t2m.layer = #t2m.layer<"stats", macs = 0>}} {{
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %cn = arith.constant {n} : index
    %z = arith.constant 0.0 : f32
    %ninf = arith.constant 0xFF800000 : f32
    %res:2 = scf.for %i = %c0 to %cn step %c1 iter_args(%s = %z, %m = %ninf) -> (f32, f32) {{
      %v = memref.load %x[%c0, %i] : {xt}
      %neg = arith.cmpf olt, %v, %z : f32
      %a = scf.if %neg -> (f32) {{
        %nv = arith.negf %v : f32
        scf.yield %nv : f32
      }} else {{
        scf.yield %v : f32
      }}
      %s2 = arith.addf %s, %a : f32
      %m2 = arith.maximumf %m, %v : f32
      scf.yield %s2, %m2 : f32, f32
    }}
    memref.store %res#0, %y[%c0, %c0] : {yt}
    memref.store %res#1, %y[%c0, %c1] : {yt}
    func.return
  }}
  func.func @scf_run(%in0: {xt}, %out0: {yt}) -> i32 {{
    func.call @scf_L0_stats(%in0, %out0) : ({xt}, {yt}) -> ()
    %ok = arith.constant 0 : i32
    func.return %ok : i32
  }}
}}
"""

    def reference(x: np.ndarray) -> list[np.ndarray]:
        return [np.array([[np.abs(x).astype(np.float64).sum(), x.max()]], np.float32)]

    return Kernel("scf", mlir, [x], [((1, 2), np.float32)], reference)


ALL_KERNELS: dict[str, Callable[[], Kernel]] = {
    "conv2d": conv2d,
    "dot": dot,
    "scale_shift": scale_shift,
    "exp_bits": exp_bits,
    "model": model,
    "integers": integers,
    "scf_loops": scf_loops,
}


# --- running the pipeline -----------------------------------------------------------------------------------


def lower_to_llvm_dialect(text: str):  # -> ModuleOp
    """Parse loop-level IR and run `LOWER_TO_LLVM` on it (t2m's and xDSL's passes, by name)."""
    from xdsl.passes import PassPipeline
    from xdsl.universe import Universe

    from t2m.compiler.ir import make_context, parse_module
    from t2m.compiler.pipeline import LOWER_TO_LLVM

    ctx = make_context()
    module = parse_module(text, ctx=ctx)
    PassPipeline.parse_spec(Universe.get_multiverse().all_passes, ",".join(LOWER_TO_LLVM)).apply(ctx, module)
    module.verify()
    return module


def compile_kernel_ll(kernel: Kernel) -> str:
    from t2m.compiler.backend.emit_llvm import to_llvm_ir

    return to_llvm_ir(lower_to_llvm_dialect(kernel.mlir))


def run_on_host(ll: str, kernel: Kernel, opt: str = "O2") -> list[np.ndarray]:
    from t2m.compiler.backend.jit import HostJIT

    outputs = [np.zeros(shape, dtype) for shape, dtype in kernel.outputs]
    status = HostJIT(ll, opt).run(f"{kernel.name}_run", kernel.inputs, outputs)
    assert status == 0
    return outputs
