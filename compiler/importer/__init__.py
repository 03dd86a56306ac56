"""PyTorch -> `nn` dialect: resolve the model, run `torch.export`, translate its ATen graph.

torch is imported here and only here (lazily), so `t2m-opt` and the rest of the compiler start fast.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xdsl.dialects.builtin import ModuleOp

from t2m.compiler.errors import T2MError
from t2m.compiler.importer.aten import HANDLERS, Translator, UnsupportedOp
from t2m.compiler.importer.loading import LoadedModel, load_model

__all__ = [
    "HANDLERS",
    "LoadedModel",
    "check_quantize_flags",
    "export",
    "import_model",
    "import_program",
    "load_model",
    "quantize",
    "supported_ops",
]


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
        with torch.no_grad(), warnings.catch_warnings(), _quiet_torch_logs():
            warnings.simplefilter("ignore")  # torch's tracing chatter is not the user's concern
            return torch.export.export(loaded.module, loaded.example_inputs)
    except Exception as e:
        if (dependent := _data_dependent_error(loaded.name, e)) is not None:
            raise dependent from e
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


@contextlib.contextmanager
def _quiet_torch_logs() -> Iterator[None]:
    """Nothing torch logs or prints to stderr while exporting reaches the user: on a data-dependent branch it logs
    a warning and prints the partial graph twice (a dozen lines), and a failure it classifies gets a logged error;
    the exception says it all, and the one-line error replaces it."""
    previous = logging.root.manager.disable
    logging.disable(logging.ERROR)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        logging.disable(previous)


def _data_dependent_error(name: str, e: BaseException) -> T2MError | None:
    """The one-line error for a model whose Python reads a tensor's value (`if x.sum() > 0:`, `while`, `int(x)`),
    naming the user's line where that happens, or None if `e` is another failure. torch.export raises
    GuardOnDataDependentSymNode there: the innermost frame outside torch is the user's line."""
    from torch.fx.experimental.symbolic_shapes import GuardOnDataDependentSymNode

    if not isinstance(e, GuardOnDataDependentSymNode):
        return None
    import torch

    ours = [Path(torch.__file__).parent, Path(__file__).parent]
    frames = [f for f in traceback.extract_tb(e.__traceback__)
              if not f.filename.startswith("<") and not any(Path(f.filename).is_relative_to(d) for d in ours)]
    if not frames:
        return None
    frame = frames[-1]
    line = (frame.line or "").strip()
    why = "which torch.export cannot trace: it records one static graph for all inputs"
    if re.match(r"(if|elif|while)\b", line) or re.search(r"\bif\b.+\belse\b", line):
        return T2MError(
            f"model '{name}' branches on a tensor's value ('{line}'), {why}",
            f"{frame.filename}:{frame.lineno}",
            "compute both sides and pick with torch.where, use torch.cond, or move the branch out of forward()",
        )
    return T2MError(
        f"model '{name}' reads a tensor's value into Python ('{line}'), {why}",
        f"{frame.filename}:{frame.lineno}",
        "keep the value a tensor (torch.where, masks), use torch.cond, or move this out of forward()",
    )


def check_quantize_flags(quantize: str | None, calibrate: str | None) -> None:
    """`--quantize` and `--calibrate` go together (checked before any model is loaded)."""
    if calibrate is not None and quantize is None:
        raise T2MError("--calibrate needs --quantize int8", "--calibrate", "add --quantize int8, or drop --calibrate")
    if quantize is not None and calibrate is None:
        raise T2MError(
            f"--quantize {quantize} needs calibration data",
            "--quantize",
            "pass --calibrate data.npy (N samples of the input) or file.py:NAME (--calibrate random only to try)",
        )


def quantize(program: Any, spec: str, calibrate: str, tool: str) -> Any:
    """PT2E int8 quantization of an exported float program, calibrated on the data `calibrate` names."""
    from t2m.compiler.importer.calibration import load_calibration
    from t2m.compiler.importer.qgraph import is_quantized

    if is_quantized(program):
        raise T2MError(
            f"model '{spec}' is already quantized (its graph holds quantize/dequantize ops)",
            "--quantize",
            "drop --quantize and --calibrate: t2m imports the quantized graph as it is",
        )
    inputs = _user_inputs(program)
    shapes = [tuple(node.meta["val"].shape) for node in inputs]
    samples = _with_input_dtypes(load_calibration(calibrate, shapes, tool), program, inputs, calibrate)
    from t2m.compiler.importer.quantizer import quantize_program

    try:
        return quantize_program(program, samples[0], samples)
    except T2MError:
        raise
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise T2MError(
            f"PT2E quantization of '{spec}' failed: {type(e).__name__}: {first}",
            spec,
            "check that the model runs on the calibration data; report it if it does",
        ) from e


def _with_input_dtypes(samples: list[tuple[Any, ...]], program: Any, inputs: list[Any], calibrate: str
                       ) -> list[tuple[Any, ...]]:
    """Calibration samples in the dtypes of the model's inputs: integer inputs (embedding indices) take the data's
    values as integers; under `--calibrate random`, which has no meaningful indices, the model's example ones."""
    import torch

    dtypes = [node.meta["val"].dtype for node in inputs]
    if all(d.is_floating_point for d in dtypes):
        return samples
    examples = program.example_inputs[0] if calibrate == "random" else None
    return [
        tuple(x if d.is_floating_point else examples[i] if examples is not None else torch.round(x).to(d)
              for i, (x, d) in enumerate(zip(sample, dtypes, strict=True)))
        for sample in samples
    ]


def _user_inputs(program: Any) -> list[Any]:
    names = {s.arg.name for s in program.graph_signature.input_specs if s.kind.name == "USER_INPUT"}
    return [node for node in program.graph.nodes if node.op == "placeholder" and node.name in names]


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
        return _without_eval_dropout(program).run_decompositions({})


EVAL_DROPOUT = ("aten.dropout.default", "aten.feature_dropout.default", "aten.alpha_dropout.default",
                "aten.feature_alpha_dropout.default")


def _without_eval_dropout(program: Any) -> Any:
    """A copy of `program` in which each dropout of an eval-mode model reads as its input itself. PyTorch returns
    the input tensor there, so `nn.SiLU(inplace=True)(nn.Dropout(0.3)(x))` writes into x; but the op's schema
    promises a new tensor, and functionalization makes it a copy, which later reads of x would not see."""
    import copy

    names = {node.name for node in program.graph.nodes if node.op == "call_function"
             and str(node.target) in EVAL_DROPOUT and not _train_flag(node)
             and all(user.op != "output" for user in node.users)}
    if not names:
        return program
    program = copy.deepcopy(program)
    for node in [n for n in program.graph.nodes if n.name in names]:
        node.replace_all_uses_with(node.args[0])
        program.graph.erase_node(node)
    program.graph_module.recompile()
    return program


def _train_flag(node: Any) -> bool:
    return bool(node.args[2] if len(node.args) > 2 else node.kwargs.get("train", False))


def import_program(program: Any, name: str) -> tuple[ModuleOp, list[UnsupportedOp]]:
    """Translate an exported program (a quantized graph into qnn ops); the module is empty when some op is
    unsupported."""
    from t2m.compiler.importer.qgraph import QTranslator, is_quantized

    translator = QTranslator(program, name) if is_quantized(program) else Translator(functional(program), name)
    module = translator.translate()
    if not translator.unsupported:
        module.verify()
    return module, translator.unsupported


def import_model(
    spec: str,
    input_shape: str | None = None,
    arch: str | None = None,
    trust_pickle: bool = False,
    quantize_to: str | None = None,
    calibrate: str | None = None,
    tool: str = "t2m",
) -> ModuleOp:
    """MODEL -> verified `nn` module (`qnn` for a quantized graph, or with `quantize_to="int8"`), or a T2MError
    listing every unsupported op with its source line."""
    check_quantize_flags(quantize_to, calibrate)
    loaded = load_model(spec, input_shape, arch, trust_pickle)
    program = export(loaded)
    if quantize_to is not None and calibrate is not None:
        program = quantize(program, spec, calibrate, tool)
    module, unsupported = import_program(program, loaded.name)
    if unsupported:
        raise unsupported_error(spec, unsupported)
    return module


def unsupported_error(spec: str, unsupported: list[UnsupportedOp]) -> T2MError:
    kinds = sorted({u.op for u in unsupported})
    if any(u.quantized for u in unsupported):
        return T2MError(
            f"quantized model '{spec}' has {len(unsupported)} part{'s' if len(unsupported) != 1 else ''} "
            f"t2m cannot represent exactly in int8 ({', '.join(kinds)})",
            "the lines below",
            "quantize them as int8 activations with symmetric int8 weights (t2m's --quantize int8 does), "
            "or replace those ops",
            details=[u.describe() for u in unsupported],
        )
    return T2MError(
        f"model '{spec}' uses {len(unsupported)} unsupported op{'s' if len(unsupported) != 1 else ''} "
        f"({', '.join(kinds)})",
        "the lines below",
        "rewrite those layers with supported ones (t2m-import --list-ops) or file an issue",
        details=[u.describe() for u in unsupported],
    )
