"""The compiler as a list: the passes of each stage, in order, and `transform`, which runs them up to a stage.

    nn ──FUSE──▶ fused ──LOWER_TO_LOOPS──▶ loops ──LOWER_TO_LLVM──▶ llvm ──emit──▶ ll ──llvmlite──▶ obj

`t2m-opt --fuse` / `--lower` expand to these lists; `t2m-compile` runs them all. Like xDSL's Toy compiler, every
stage is inspectable: `t2m-compile --emit loops` stops there and writes the IR.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.passes import ModulePass
from xdsl.universe import Universe
from xdsl.utils.exceptions import PassFailedException, VerifyException

from t2m.compiler.errors import T2MError
from t2m.compiler.ir import make_context, verify_module
from t2m.compiler.plugins import PassRegistry, invalid_output, parse_pipeline, pass_failed, pass_raised
from t2m.dialects.t2m import layer_of, model_of

FUSE: list[str] = [
    "canonicalize-nn", "fold-batchnorm", "fuse-activation", "fuse-requant", "canonicalize-nn", "canonicalize", "cse"
]
"""nn -> nn: move batch norms and activations above reshapes (Conv1d), fold inference batch norm into its
conv/linear, fuse activations into their producer (int8: the rescale and clamp into the conv/linear that
accumulates), simplify."""

LOWER_NN: list[str] = [
    "pack-weights",  # weights reordered into the layout their kernel reads (blocked linear)
    "lower-nn-conv",  # conv2d -> explicit loop nests, border regions split from the interior
    "lower-nn-linear",  # linear -> vector<4xf32> loads + fma + reduction
    "lower-nn-pool",
    "lower-nn-elementwise",  # relu, clamp, add, mul, batch_norm, sigmoid, tanh (exp expanded in arith)
    "lower-nn-softmax",
    "lower-nn-activation",  # hardswish, silu, elu, gelu, leaky_relu, prelu, batch norm with batch statistics
    "lower-nn-resize",  # pad, upsample (copy loops; any element type)
    "lower-nn-reduce",  # sum/mean over axes, layer_norm
    "lower-nn-matmul",  # the product of two activations
    "lower-qnn-conv",  # int8: the same loop nests in integer arithmetic, requantization fused into the store
    "lower-qnn-linear",
    "lower-qnn-pool",
    "lower-qnn-elementwise",  # add, mul, rescale, clamp
    "lower-qnn-softmax",  # CMSIS-NN's fixed-point softmax
    "lower-qnn-lut",  # int8 activations (ELU, GELU, SiLU, hardswish, ...) as 256-entry tables
    "lower-qnn-matmul",  # int8 matmul of two activations, sums over axes (int32 accumulators)
    "lower-qnn-norm",  # int8 layer norm, batch norm with batch statistics (integer statistics, 1/sqrt per row)
    "lower-nn-tensor",  # slice, transpose, embedding -> copies (any element type)
    "lower-nn-shape",  # reshape/flatten -> views, concat -> copies (any element type)
    "lower-nn-constant",  # weights -> memref.global constants (flash)
]
"""One pass per op family: each nn op becomes loops over buffers, between to_buffer/to_tensor casts."""

BUFFERIZE: list[str] = ["bufferize"]
"""Tensors -> memrefs: one function per layer, `<name>_run(inputs..., outputs...) -> i32` calls them."""

PLAN_MEMORY: list[str] = ["plan-memory"]
"""Activation buffers -> slices of one arena, placed by lifetime; `<name>_run_with_arena` takes the arena."""

LOWER_TO_LOOPS: list[str] = LOWER_NN + BUFFERIZE + PLAN_MEMORY
"""nn (tensors) -> loops (affine/scf/memref/arith/vector on buffers)."""

LOWER_TO_LLVM: list[str] = [
    "lower-affine",  # xDSL: affine -> scf + arith (constant bounds, dimension maps)
    "convert-memref-to-llvm",  # t2m: weights -> constant globals, buffers -> .bss, GEP loads/stores, views
    "convert-scf-to-cf",  # xDSL: loops -> blocks and branches
    "convert-vector-to-llvm",  # t2m: fma (fmul + fadd), reduction, broadcast, extract/insert
    "convert-arm-dsp-to-llvm",  # t2m: SMLAD, SXTB16... as llvm.arm.* intrinsics (portable on the host)
    "convert-arith-to-llvm",  # t2m: arith -> llvm, index as i32
    "convert-index-to-llvm",  # t2m: index block arguments (loop counters) -> i32
    "convert-cf-to-llvm",  # t2m: branches
    "convert-func-to-llvm",  # t2m: functions (linkage, noinline layers, memref args as ptr), calls, returns
    "reconcile-unrealized-casts",  # xDSL: drop the index<->i32 / memref<->ptr cast pairs
]
"""loops -> the llvm dialect (xDSL's conversions where they exist, t2m's own for the rest)."""

LOWER: list[str] = LOWER_TO_LOOPS + LOWER_TO_LLVM

NAMED_PIPELINES: dict[str, tuple[list[str], str]] = {
    "fuse": (FUSE, "fuse: " + ",".join(FUSE)),
    "lower": (LOWER, "lower nn to loops, then to the llvm dialect"),
}

STAGES: dict[str, list[str]] = {"nn": [], "fused": FUSE, "loops": LOWER_TO_LOOPS, "llvm": LOWER_TO_LLVM}
"""IR stages in order, each with the passes that produce it from the previous one."""


def apply_passes(
    module: ModuleOp, passes: list[str], verify_each: bool = False, available: PassRegistry | None = None
) -> ModuleOp:
    """Run the named passes (t2m's or xDSL's, with `{opt=v}` options) on `module` in place, then verify.

    Verifying after every pass (`verify_each`, what `t2m-opt` does) pinpoints a broken pass but costs more than
    the passes themselves on a large model; the stage boundary is checked either way. A pass that raises, or leaves
    IR that does not verify (dominance included), is a one-line T2MError naming the pass. `available` is the
    registry to find them in (default: every pass the `xdsl.universe` entry points register; `pass_registry` adds
    plugins).
    """
    if not passes:
        return module
    running: list[ModulePass] = []  # the pass being applied, if any

    def check(previous: ModulePass | None, m: ModuleOp, next_pass: ModulePass | None) -> None:
        running.clear()
        if verify_each and previous is not None:
            _verify_output([previous], m)
        running.extend([next_pass] if next_pass is not None else [])

    registry = Universe.get_multiverse().all_passes if available is None else available
    pipeline = parse_pipeline(registry, ",".join(passes), check)
    with gc_paused():
        try:
            pipeline.apply(make_context(), module)
        except T2MError:
            raise
        except Exception as e:
            if not running:
                raise
            blame = pass_failed if isinstance(e, PassFailedException) else pass_raised
            raise blame(running[0], e) from e
        _verify_output(pipeline.passes, module)
    return module


def _verify_output(passes: Sequence[ModulePass], module: ModuleOp) -> None:
    try:
        verify_module(module)
    except (VerifyException, ValueError) as e:  # ValueError: xDSL's "Erased SSA value is used by the operation"
        raise invalid_output(passes, e) from e


@contextmanager
def gc_paused() -> Iterator[None]:
    """Rewriting creates and drops millions of small IR objects; Python's cycle collector, scanning them again
    and again, took ~45% of the llvm stage. IR cycles are few and freed after the pass anyway."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def is_nn_level(module: ModuleOp) -> bool:
    """True before any lowering: a tensor function, and no layer function or model description yet."""
    if model_of(module) is not None or any(layer_of(op) is not None for op in module.ops):
        return False
    return any(
        isinstance(t, TensorType)
        for op in module.ops
        if isinstance(op, func.FuncOp)
        for t in (*op.function_type.inputs, *op.function_type.outputs)
    )


def lower_rest(module: ModuleOp, source: str) -> ModuleOp:
    """Lower a module that is past the nn level (partly lowered, loops, or llvm dialect) the rest of the way to
    the llvm dialect, in place: the remaining LOWER_TO_LOOPS passes while tensor functions remain, then
    LOWER_TO_LLVM. Each pass leaves alone what is already lowered, so this is what `--lower` would have done."""
    if model_of(module) is None:
        apply_passes(module, LOWER_TO_LOOPS)
    return apply_passes(module, LOWER_TO_LLVM)


def transform(module: ModuleOp, target: str = "llvm") -> ModuleOp:
    """Lower an nn module, in place, stage by stage up to `target` (one of STAGES)."""
    for stage, passes in STAGES.items():
        apply_passes(module, passes)
        if stage == target:
            return module
    raise ValueError(f"unknown stage '{target}'; choose one of {', '.join(STAGES)}")
