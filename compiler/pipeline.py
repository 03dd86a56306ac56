"""The compiler as a list: which passes each stage runs, in order.

`t2m-opt --fuse` and `--lower` expand to these pipelines; `t2m-compile` runs them one after another. A stage
with no passes yet says so instead of silently doing nothing.
"""

from __future__ import annotations

FUSE: list[str] = ["fold-batchnorm", "fuse-activation", "canonicalize-nn", "cse"]
"""nn -> nn: fold inference batch norm into its conv/linear, fuse activations into their producer, simplify."""

LOWER: list[str] = []
"""nn -> loops -> llvm (filled by the lowering work)."""

NAMED_PIPELINES: dict[str, tuple[list[str], str]] = {
    "fuse": (FUSE, "run the nn-level fusion pipeline"),
    "lower": (LOWER, "lower nn to loops and the llvm dialect"),
}
