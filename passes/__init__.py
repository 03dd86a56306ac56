"""t2m passes: one `ModulePass` per file, named here so tools can find them without importing them all."""

import importlib
from collections.abc import Callable

from xdsl.passes import ModulePass


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Pass name -> lazy loader of its class (imports stay lazy so `t2m-opt` starts fast)."""
    return {
        # nn -> nn: fusion and clean-up (the `--fuse` pipeline)
        "fold-batchnorm": _load("fold_batchnorm", "FoldBatchNormPass"),
        "fuse-activation": _load("fuse_activation", "FuseActivationPass"),
        "canonicalize-nn": _load("canonicalize_nn", "CanonicalizeNnPass"),
        "pack-weights": _load("pack_weights", "PackWeightsPass"),
        # nn -> loops (bufferization style: each family independent, `bufferize` finishes)
        "lower-nn-conv": _lower_nn_conv,
        "lower-nn-linear": _lower_nn_linear,
        "lower-nn-pool": _lower_nn_pool,
        "lower-nn-elementwise": _lower_nn_elementwise,
        "lower-nn-softmax": _lower_nn_softmax,
        "lower-nn-shape": _lower_nn_shape,
        "lower-nn-constant": _lower_nn_constant,
        "bufferize": _bufferize,
        # loops -> llvm dialect: t2m's conversions where xDSL 0.74 has none (order: pipeline.LOWER_TO_LLVM)
        "convert-memref-to-llvm": _load("convert_memref_to_llvm", "ConvertMemRefToLLVMPass"),
        "convert-ptr-to-llvm-gep": _load("convert_ptr_to_llvm", "ConvertPtrToLLVMGEPPass"),
        "convert-index-to-llvm": _load("convert_index_to_llvm", "ConvertIndexToLLVMPass"),
        "convert-vector-to-llvm": _load("convert_vector_to_llvm", "ConvertVectorToLLVMPass"),
        "convert-arith-to-llvm": _load("convert_arith_to_llvm", "ConvertArithToLLVMPass"),
        "convert-cf-to-llvm": _load("convert_cf_to_llvm", "ConvertCfToLLVMPass"),
        "convert-func-to-llvm": _load("convert_func_to_llvm", "ConvertFuncToLLVMPass"),
    }


def _load(module: str, cls: str) -> Callable[[], type[ModulePass]]:
    """A lazy loader for `t2m.passes.<module>.<cls>`."""

    def load() -> type[ModulePass]:
        return getattr(importlib.import_module(f"t2m.passes.{module}"), cls)

    return load


def _lower_nn_conv() -> type[ModulePass]:
    from t2m.passes.lower_nn_conv import LowerNnConv

    return LowerNnConv


def _lower_nn_linear() -> type[ModulePass]:
    from t2m.passes.lower_nn_linear import LowerNnLinear

    return LowerNnLinear


def _lower_nn_pool() -> type[ModulePass]:
    from t2m.passes.lower_nn_pool import LowerNnPool

    return LowerNnPool


def _lower_nn_elementwise() -> type[ModulePass]:
    from t2m.passes.lower_nn_elementwise import LowerNnElementwise

    return LowerNnElementwise


def _lower_nn_softmax() -> type[ModulePass]:
    from t2m.passes.lower_nn_softmax import LowerNnSoftmax

    return LowerNnSoftmax


def _lower_nn_shape() -> type[ModulePass]:
    from t2m.passes.lower_nn_shape import LowerNnShape

    return LowerNnShape


def _lower_nn_constant() -> type[ModulePass]:
    from t2m.passes.lower_nn_constant import LowerNnConstant

    return LowerNnConstant


def _bufferize() -> type[ModulePass]:
    from t2m.passes.bufferize import Bufferize

    return Bufferize
