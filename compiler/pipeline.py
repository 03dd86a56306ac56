"""The compiler as a list: which passes each stage runs, in order.

`t2m-opt --fuse` and `--lower` expand to these pipelines; `t2m-compile` runs them one after another. A stage
with no passes yet says so instead of silently doing nothing.
"""

from __future__ import annotations

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import PassPipeline
from xdsl.universe import Universe

from t2m.compiler.ir import make_context

FUSE: list[str] = ["fold-batchnorm", "fuse-activation", "canonicalize-nn", "cse"]
"""nn -> nn: fold inference batch norm into its conv/linear, fuse activations into their producer, simplify."""

LOWER: list[str] = []
"""nn -> loops -> llvm (filled by the lowering work)."""

NAMED_PIPELINES: dict[str, tuple[list[str], str]] = {
    "fuse": (FUSE, "run the nn-level fusion pipeline"),
    "lower": (LOWER, "lower nn to loops and the llvm dialect"),
}


def apply_passes(module: ModuleOp, passes: list[str]) -> ModuleOp:
    """Run the named passes (t2m's or xDSL's, with `{opt=v}` options) on `module` in place, verifying after each."""
    if passes:
        available = Universe.get_multiverse().all_passes
        PassPipeline.parse_spec(available, ",".join(passes), lambda _a, m, _b: m.verify()).apply(make_context(), module)
    return module
