"""Resolve a MODEL argument to an eval-mode `nn.Module` (or a loaded torch.export program) and example inputs.

MODEL forms:
  - `path/file.py:NAME` or `package.module:NAME`: NAME is an `nn.Module` subclass (built without arguments) or a
    factory returning one;
  - `model.pt2`: a program saved by `torch.export.save`, read without unpickling anything (see pt2.py); one that
    holds pickles (or Python expressions) needs `--trust-pickle`;
  - `weights.pth` with `--arch file.py:NAME`: a state dict loaded into that architecture. A fully pickled module
    needs `--trust-pickle`, because unpickling can run arbitrary code.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from t2m.compiler.errors import T2MError
from t2m.compiler.pyfile import import_file

SHAPE_RE = re.compile(r"^\d+(x\d+)*$")


@dataclass
class LoadedModel:
    """What the importer exports: a module (or an already exported program) plus its example inputs."""

    name: str
    module: Any | None  # torch.nn.Module
    program: Any | None  # torch.export.ExportedProgram
    example_inputs: tuple[Any, ...] | None


def parse_shape(text: str) -> tuple[int, ...]:
    if not SHAPE_RE.match(text) or any(int(d) == 0 for d in text.split("x")):
        raise T2MError(
            f"malformed input shape '{text}'", "--input-shape", "write dimensions joined by 'x', e.g. 1x1x49x10"
        )
    return tuple(int(d) for d in text.split("x"))


def c_identifier(name: str) -> str:
    """A model name usable as a C symbol prefix (`<name>_run`)."""
    ident = re.sub(r"[^0-9a-zA-Z_]", "_", name).lower().strip("_") or "model"
    return f"m_{ident}" if ident[0].isdigit() else ident


def _load_python_object(spec: str, flag: str) -> tuple[Any, str]:
    """`file.py:NAME` or `package.module:NAME` -> the object NAME."""
    target, sep, attr = spec.rpartition(":")
    if not sep or not target or not attr:
        raise T2MError(
            f"model '{spec}' names no class or factory", flag, "write path/file.py:NAME or package.module:NAME"
        )
    if target.endswith(".py"):
        module = import_file(target, "file", flag, "fix the model file")
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as e:
            raise T2MError(
                f"cannot import module '{target}': {e}", flag, "check the module name or use file.py:NAME"
            ) from e
    if not hasattr(module, attr):
        raise T2MError(f"'{target}' defines no '{attr}'", flag, "name an nn.Module class or a factory function")
    return getattr(module, attr), attr


def _instantiate(obj: Any, spec: str) -> Any:
    import torch

    if isinstance(obj, torch.nn.Module):
        return obj
    if not callable(obj):
        raise T2MError(f"'{spec}' is neither an nn.Module class nor a factory", spec, "name a class or a function")
    try:
        model = obj()
    except Exception as e:
        raise T2MError(
            f"building '{spec}' raised {type(e).__name__}: {e}", spec, "it must be constructible without arguments"
        ) from e
    if not isinstance(model, torch.nn.Module):
        raise T2MError(f"'{spec}' returned {type(model).__name__}, not an nn.Module", spec, "return a torch.nn.Module")
    return model


def _example_inputs(model: Any, input_shape: str | None, spec: str) -> tuple[Any, ...]:
    import torch

    if input_shape is not None:
        gen = torch.Generator().manual_seed(0)
        return (torch.randn(parse_shape(input_shape), generator=gen),)
    if hasattr(model, "example_inputs"):
        inputs = model.example_inputs()
        return tuple(inputs) if isinstance(inputs, list | tuple) else (inputs,)
    raise T2MError(
        f"no input shape for '{spec}'", spec, "pass --input-shape (e.g. 1x1x49x10) or give the model example_inputs()"
    )


def _first(e: Exception) -> str:
    """The first line of an exception's message (torch's are often pages long)."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def _load_pth(path: Path, arch: str | None, trust_pickle: bool) -> Any:
    import pickle

    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if "Unsupported global" not in str(e):
            raise T2MError(
                f"corrupt or unreadable weights file '{path}' (not a valid PyTorch checkpoint)",
                str(path),
                "re-save it with torch.save(model.state_dict(), ...)",
            ) from e
        if not trust_pickle:
            raise T2MError(
                f"'{path}' is not a plain state dict (its pickle needs code to load)",
                str(path),
                "a pickle can run code: pass --trust-pickle only if you trust the file, or save model.state_dict()",
            ) from e
        # The pickle names its classes by module: let it find them beside the user's files, as `python` would.
        search = [os.getcwd()] + ([str(Path(arch.rpartition(":")[0]).resolve().parent)] if arch else [])
        sys.path[:0] = [p for p in search if p not in sys.path]
        try:
            state = torch.load(path, map_location="cpu", weights_only=False)  # trusted by --trust-pickle
        except Exception as e2:
            raise T2MError(
                f"cannot unpickle '{path}': {_first(e2)}",
                str(path),
                "the pickled model's classes must be importable (run from their folder or set PYTHONPATH)",
            ) from e2
    except Exception as e:
        raise T2MError(
            f"corrupt or unreadable weights file '{path}' (not a valid PyTorch checkpoint)",
            str(path),
            "re-save it with torch.save(model.state_dict(), ...)",
        ) from e
    if isinstance(state, torch.nn.Module):
        return state
    if not isinstance(state, dict):
        raise T2MError(
            f"'{path}' holds a {type(state).__name__}, not a state dict", str(path), "save model.state_dict()"
        )
    if arch is None:
        raise T2MError(f"'{path}' is a state dict without an architecture", "--arch", "pass --arch file.py:NAME")
    obj, _ = _load_python_object(arch, "--arch")
    model = _instantiate(obj, arch)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        raise T2MError(f"weights in '{path}' do not fit '{arch}': {detail}", str(path), "check --arch") from e
    return model


def _load_pt2(spec: str, trust_pickle: bool) -> Any:
    """A `.pt2` archive read without running its code; `torch.export.load` only if it needs that and is trusted."""
    from t2m.compiler.importer.pt2 import NeedsTrust, load_pt2

    try:
        return load_pt2(spec)
    except NeedsTrust:
        if not trust_pickle:
            raise
    import torch

    try:
        return torch.export.load(spec)  # trusted by --trust-pickle: unpickles and evaluates what the archive holds
    except Exception as e:
        raise T2MError(
            f"cannot load the trusted archive '{spec}': {_first(e)}", spec, "re-save it with torch.export.save"
        ) from e


def load_model(
    spec: str, input_shape: str | None = None, arch: str | None = None, trust_pickle: bool = False
) -> LoadedModel:
    """Resolve MODEL to something `torch.export` can take (or an already exported program)."""
    import torch

    path = Path(spec)
    if spec.endswith((".pt2", ".pth", ".pt")):
        if not path.is_file():
            raise T2MError(f"no such file '{spec}'", "MODEL", "check the path")
        name = c_identifier(path.stem)
        if spec.endswith(".pt2"):
            program = _load_pt2(spec, trust_pickle)
            example = None
            if input_shape is not None:
                example = (torch.randn(parse_shape(input_shape), generator=torch.Generator().manual_seed(0)),)
            return LoadedModel(name, None, program, example)
        model = _load_pth(path, arch, trust_pickle).eval()
        return LoadedModel(name, model, None, _example_inputs(model, input_shape, arch or spec))
    obj, attr = _load_python_object(spec, "MODEL")
    model = _instantiate(obj, spec).eval()
    return LoadedModel(c_identifier(attr), model, None, _example_inputs(model, input_shape, spec))
