"""PyTorch -> `nn` dialect: resolve the model, run `torch.export`, translate its ATen graph.

torch is imported here and only here (lazily), so `t2m-opt` and the rest of the compiler start fast.
"""

from __future__ import annotations

import warnings
from typing import Any

from xdsl.dialects.builtin import ModuleOp

from t2m.compiler.errors import T2MError
from t2m.compiler.importer.aten import HANDLERS, Translator, UnsupportedOp
from t2m.compiler.importer.loading import LoadedModel, load_model

__all__ = ["HANDLERS", "LoadedModel", "export", "import_model", "import_program", "load_model", "supported_ops"]


def supported_ops() -> list[str]:
    return sorted(HANDLERS)


def _shape_text(inputs: tuple[Any, ...]) -> str:
    return ", ".join("x".join(str(d) for d in x.shape) for x in inputs if hasattr(x, "shape"))


def export(loaded: LoadedModel, input_flag: str = "--input-shape") -> Any:
    """The model's `torch.export` program (already exported for `.pt2`)."""
    import torch

    if loaded.program is not None:
        return loaded.program
    assert loaded.module is not None and loaded.example_inputs is not None
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's tracing chatter is not the user's concern
            return torch.export.export(loaded.module, loaded.example_inputs)
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        if isinstance(e, RuntimeError | ValueError | IndexError | TypeError) and "export" not in type(e).__module__:
            raise T2MError(
                f"model '{loaded.name}' fails on input of shape {_shape_text(loaded.example_inputs)}: {first}",
                input_flag,
                "pass the input shape the model's forward() expects",
            ) from e
        raise T2MError(
            f"torch.export cannot trace model '{loaded.name}': {first}",
            loaded.name,
            "make forward() traceable (no data-dependent control flow)",
        ) from e


def functional(program: Any) -> Any:
    """The program without in-place ops. torch.export's default IR keeps them (`relu_` of `nn.ReLU(inplace=True)`,
    `add_` of `out += x`) and redirects later reads of the mutated tensor itself, but not of the tensors it is a view
    of (`x.flatten(1).relu_()` writes into x too); the importer treats every op as a new value, so such programs
    are functionalized first. A mutated model input becomes an extra output, which the importer leaves out."""
    mutates = any(node.op == "call_function" and getattr(getattr(node.target, "_schema", None), "is_mutable", False)
                  for node in program.graph.nodes)
    if not mutates:
        return program
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation chatter is not the user's concern
        return program.run_decompositions({})


def import_program(program: Any, name: str) -> tuple[ModuleOp, list[UnsupportedOp]]:
    """Translate an exported program; the module is empty when some op is unsupported."""
    translator = Translator(functional(program), name)
    module = translator.translate()
    if not translator.unsupported:
        module.verify()
    return module, translator.unsupported


def import_model(
    spec: str, input_shape: str | None = None, arch: str | None = None, trust_pickle: bool = False
) -> ModuleOp:
    """MODEL -> verified `nn` module, or a T2MError listing every unsupported op with its source line."""
    loaded = load_model(spec, input_shape, arch, trust_pickle)
    module, unsupported = import_program(export(loaded), loaded.name)
    if unsupported:
        raise unsupported_error(spec, unsupported)
    return module


def unsupported_error(spec: str, unsupported: list[UnsupportedOp]) -> T2MError:
    kinds = sorted({u.op for u in unsupported})
    return T2MError(
        f"model '{spec}' uses {len(unsupported)} unsupported op{'s' if len(unsupported) != 1 else ''} "
        f"({', '.join(kinds)})",
        "the lines below",
        "rewrite those layers with supported ones (t2m-import --list-ops) or file an issue",
        details=[u.describe() for u in unsupported],
    )
