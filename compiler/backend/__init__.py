"""Backend: LLVM IR to Cortex-M4 objects and host JIT through llvmlite."""
