"""t2m passes: one `ModulePass` per file, named here so tools can find them without importing them all."""

from collections.abc import Callable

from xdsl.passes import ModulePass


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Pass name -> lazy loader of its class (imports stay lazy so `t2m-opt` starts fast)."""
    return {}
