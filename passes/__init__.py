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
        "fuse-requant": _load("fuse_requant", "FuseRequantPass"),
        "pack-weights": _load("pack_weights", "PackWeightsPass"),
        # nn -> loops (bufferization style: each family independent, `bufferize` finishes)
        "lower-nn-conv": _load("lower_nn_conv", "LowerNnConv"),
        "lower-nn-linear": _load("lower_nn_linear", "LowerNnLinear"),
        "lower-nn-pool": _load("lower_nn_pool", "LowerNnPool"),
        "lower-nn-elementwise": _load("lower_nn_elementwise", "LowerNnElementwise"),
        "lower-nn-softmax": _load("lower_nn_softmax", "LowerNnSoftmax"),
        "lower-nn-activation": _load("lower_nn_activation", "LowerNnActivation"),
        "lower-nn-resize": _load("lower_nn_resize", "LowerNnResize"),
        "lower-nn-shape": _load("lower_nn_shape", "LowerNnShape"),
        "lower-nn-tensor": _load("lower_nn_tensor", "LowerNnTensor"),
        "lower-nn-reduce": _load("lower_nn_reduce", "LowerNnReduce"),
        "lower-nn-matmul": _load("lower_nn_matmul", "LowerNnMatmul"),
        "lower-nn-constant": _load("lower_nn_constant", "LowerNnConstant"),
        # qnn -> integer loops (int8 models)
        "lower-qnn-conv": _load("lower_qnn_conv", "LowerQnnConv"),
        "lower-qnn-linear": _load("lower_qnn_linear", "LowerQnnLinear"),
        "lower-qnn-pool": _load("lower_qnn_pool", "LowerQnnPool"),
        "lower-qnn-elementwise": _load("lower_qnn_elementwise", "LowerQnnElementwise"),
        "lower-qnn-softmax": _load("lower_qnn_softmax", "LowerQnnSoftmax"),
        "lower-qnn-lut": _load("lower_qnn_lut", "LowerQnnLut"),
        "lower-qnn-matmul": _load("lower_qnn_matmul", "LowerQnnMatmul"),
        "lower-qnn-norm": _load("lower_qnn_norm", "LowerQnnNorm"),
        "bufferize": _load("bufferize", "Bufferize"),
        "plan-memory": _load("plan_memory", "PlanMemoryPass"),
        # loops -> llvm dialect: t2m's conversions where xDSL 0.74 has none (order: pipeline.LOWER_TO_LLVM)
        "convert-memref-to-llvm": _load("convert_memref_to_llvm", "ConvertMemRefToLLVMPass"),
        "convert-ptr-to-llvm-gep": _load("convert_ptr_to_llvm", "ConvertPtrToLLVMGEPPass"),
        "convert-index-to-llvm": _load("convert_index_to_llvm", "ConvertIndexToLLVMPass"),
        "convert-vector-to-llvm": _load("convert_vector_to_llvm", "ConvertVectorToLLVMPass"),
        "convert-arith-to-llvm": _load("convert_arith_to_llvm", "ConvertArithToLLVMPass"),
        "convert-cf-to-llvm": _load("convert_cf_to_llvm", "ConvertCfToLLVMPass"),
        "convert-func-to-llvm": _load("convert_func_to_llvm", "ConvertFuncToLLVMPass"),
        "convert-arm-dsp-to-llvm": _load("convert_arm_dsp_to_llvm", "ConvertArmDspToLLVMPass"),
    }


def _load(module: str, cls: str) -> Callable[[], type[ModulePass]]:
    """A lazy loader for `t2m.passes.<module>.<cls>`."""

    def load() -> type[ModulePass]:
        return getattr(importlib.import_module(f"t2m.passes.{module}"), cls)

    return load
