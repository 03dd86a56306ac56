"""Read a `torch.export` `.pt2` archive without running anything the file holds.

`torch.export.load` runs code from the archive in several ways: it unpickles the sample inputs (every archive
has them) and any weight or constant stored with `use_pickle` (with torch's unrestricted unpickler);
it evaluates symbolic-shape expressions with `sympy.sympify` (Python's `eval`); its tree specs can name a module
to import; and it loads AOTInductor shared libraries. This loader reads only what t2m needs, the graph JSON and
the raw tensor bytes, with `zipfile` and `json`; checks that the graph names nothing that would run code (every
call is a PyTorch operator, every shape a number, every tree spec a tuple, list or dict); and only then gives it
to torch's JSON deserializer with the tensors already built. The sample inputs are never read (t2m takes its
inputs from `--input-shape`). An archive that needs more raises `NeedsTrust`; `--trust-pickle` then falls back
to `torch.export.load`.
"""

from __future__ import annotations

import json
import math
import re
import sys
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

from t2m.compiler.errors import T2MError

__all__ = ["NeedsTrust", "check_program", "load_pt2"]

MODEL = "model"  # the program `torch.export.save` writes and `torch.export.load` returns

# A call in the graph: an operator of `torch.ops` (no dunder segment), or the tuple indexing of multi-output ops.
_OPERATOR = re.compile(r"^torch\.ops(\.(?!__)[A-Za-z_][A-Za-z0-9_]*){2,3}$")
_BUILTIN_TARGETS = frozenset({"_operator.getitem"})
# The quantize/dequantize ops of a quantized (PT2E-converted) graph. torch defines them in a module it does not
# import by itself (torch.ao.quantization.fx._decomposed); a graph that calls them gets that module imported, and
# nothing else: any other operator must already be registered.
_QUANTIZED_TARGETS = frozenset(
    f"torch.ops.quantized_decomposed.{op}"
    for op in (
        "quantize_per_tensor.default",
        "quantize_per_tensor.tensor",
        "dequantize_per_tensor.default",
        "dequantize_per_tensor.tensor",
        "quantize_per_channel.default",
        "dequantize_per_channel.default",
        "choose_qparams.tensor",
        "choose_qparams_symmetric.tensor",
    )
)
# pytree node types whose deserialization imports nothing (`collections.defaultdict` imports its factory).
_TREE_TYPES = frozenset({None, "builtins.tuple", "builtins.list", "builtins.dict", "collections.OrderedDict"})


class NeedsTrust(T2MError):
    """The archive can only be loaded by running code it holds (a pickle, a Python expression)."""

    def __init__(self, spec: str, what: str):
        super().__init__(
            f"'{spec}' {what}, which can run code when loaded", spec, "pass --trust-pickle only if you trust the file"
        )


def _corrupt(spec: str, detail: str) -> T2MError:
    return T2MError(
        f"corrupt or unreadable torch.export archive '{spec}' ({detail})", spec, "re-save it with torch.export.save"
    )


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


class _Archive:
    """The records of a `.pt2` zip, named without the archive's top folder (as torch's reader names them)."""

    def __init__(self, spec: str):
        self.spec = spec
        try:
            with zipfile.ZipFile(spec) as zf:
                zip_names = zf.namelist()
                first = zip_names[0] if zip_names else ""
                prefix = first.split("/", 1)[0] + "/" if "/" in first else ""
                self.names = {n.removeprefix(prefix) for n in zip_names if n.startswith(prefix)}
                self._records = {n: zf.read(prefix + n) for n in self.names if self._wanted(n)}
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as e:
            raise _corrupt(spec, _first_line(e)) from e

    @staticmethod
    def _wanted(name: str) -> bool:
        """The records t2m reads: never the sample inputs, AOTInductor code or extra files."""
        return name in ("archive_format", "archive_version", "byteorder") or name.startswith(
            ("models/", "data/weights/", "data/constants/")
        )

    def read(self, name: str) -> bytes:
        if name not in self._records:
            raise _corrupt(self.spec, f"no record {name}")
        return self._records[name]

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.read(name))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
            raise _corrupt(self.spec, f"{name} is not JSON") from e


# --- the checks: nothing in the graph may make torch run code -----------------------------------------------------


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object inside `value`, depth first."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _check_tree_spec(spec: str, text: Any) -> None:
    """A pytree spec (`[protocol, node]`) of plain containers; a JSON object in a context would be imported."""
    try:
        node = json.loads(text)[1] if isinstance(text, str) else None
    except (json.JSONDecodeError, IndexError, TypeError, KeyError) as e:
        raise _corrupt(spec, "malformed input/output tree spec") from e
    stack = [node]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or not isinstance(node.get("children_spec"), list):
            raise _corrupt(spec, "malformed input/output tree spec")
        kind, context = node.get("type"), node.get("context")
        if not isinstance(kind, str | None):
            raise _corrupt(spec, "malformed input/output tree spec")
        if kind not in _TREE_TYPES:
            raise NeedsTrust(spec, f"names Python type '{kind}' in its inputs or outputs")
        try:
            parsed = json.loads(context) if isinstance(context, str) else context
        except json.JSONDecodeError as e:
            raise _corrupt(spec, "malformed input/output tree spec") from e
        if any(True for _ in _walk(parsed)):
            raise NeedsTrust(spec, "names Python objects in its inputs or outputs")
        stack.extend(node["children_spec"])


def check_program(spec: str, program: Any) -> None:
    """Refuse a serialized program that torch could only deserialize by running code."""
    if not isinstance(program, dict) or not isinstance(program.get("graph_module"), dict):
        raise _corrupt(spec, "models/model.json is not an exported program")
    if program.get("guards_code"):
        raise NeedsTrust(spec, "carries guard code (Python source)")
    if program.get("range_constraints"):
        raise NeedsTrust(spec, "has symbolic shapes (torch evaluates their expressions as Python)")
    for obj in _walk(program):
        if "expr_str" in obj:
            raise NeedsTrust(spec, "has symbolic shapes (torch evaluates their expressions as Python)")
        if "target" in obj and "inputs" in obj and "outputs" in obj:
            target = obj["target"]
            if not isinstance(target, str) or not (_OPERATOR.match(target) or target in _BUILTIN_TARGETS):
                raise NeedsTrust(spec, f"calls {str(target)[:80]!r} (not a PyTorch operator)")
        for key in ("in_spec", "out_spec"):
            if key in obj:
                _check_tree_spec(spec, obj[key])


def _register_quantized_ops(program: Any) -> None:
    """Make torch know the q/dq ops of a quantized graph before its deserializer looks them up."""
    nodes = program["graph_module"].get("graph", {}).get("nodes", [])
    if isinstance(nodes, list) and any(isinstance(n, dict) and n.get("target") in _QUANTIZED_TARGETS for n in nodes):
        import torch.ao.quantization.fx._decomposed  # noqa: F401  (registers the quantized_decomposed library)


# --- the tensors: raw bytes, never a pickle ---------------------------------------------------------------------


def _ints(spec: str, values: Any) -> tuple[int, ...]:
    """A size or stride list of `{"as_int": n}` (a symbolic one is refused by check_program already)."""
    if not isinstance(values, list) or not all(
        isinstance(v, dict) and type(v.get("as_int")) is int and v["as_int"] >= 0 for v in values
    ):
        raise _corrupt(spec, "malformed tensor sizes")
    return tuple(v["as_int"] for v in values)


def _tensor(archive: _Archive, folder: str, meta: dict[str, Any], data: dict[str, Any]) -> Any:
    """One weight or constant from its raw bytes, viewed with the sizes and strides of its metadata."""
    import torch
    from torch._export.serde import schema
    from torch._export.serde.serialize import deserialize_scalar_type

    spec, tmeta = archive.spec, meta.get("tensor_meta")
    name = meta.get("path_name")
    if not isinstance(tmeta, dict) or not isinstance(name, str):
        raise _corrupt(spec, "a tensor without metadata")
    try:
        dtype = deserialize_scalar_type(schema.ScalarType(tmeta.get("dtype")))
    except (ValueError, KeyError) as e:
        raise _corrupt(spec, f"unknown dtype {tmeta.get('dtype')!r}") from e
    sizes, strides = _ints(spec, tmeta.get("sizes")), _ints(spec, tmeta.get("strides"))
    offset = _ints(spec, [tmeta.get("storage_offset")])[0]
    try:
        if name not in data:  # a record shared by several tensors (views) is read once
            raw = archive.read(folder + name)
            data[name] = torch.frombuffer(bytearray(raw), dtype=dtype) if raw else None
        base = data[name]
        if base is None and math.prod(sizes):
            raise ValueError(f"no bytes for a tensor of {math.prod(sizes)} elements")
        tensor = torch.zeros(sizes, dtype=dtype) if base is None else torch.as_strided(base, sizes, strides, offset)
    except (RuntimeError, ValueError) as e:
        raise _corrupt(spec, f"{folder}{name}: {_first_line(e)}") from e
    if meta.get("is_param"):
        return torch.nn.Parameter(tensor, requires_grad=bool(tmeta.get("requires_grad")))
    return tensor


def _read_tensors(archive: _Archive, folder: str, kind: str) -> dict[str, Any]:
    """The weights (`kind` 'weight') or tensor constants of the model, by fully qualified name."""
    spec = archive.spec
    if f"{folder}{MODEL}.pt" in archive.names:  # torch < 2.7 wrote them as one pickle
        raise NeedsTrust(spec, f"stores its {kind}s as a pickle (an older torch.export format)")
    config = archive.json(f"{folder}{MODEL}_{kind}s_config.json")
    entries = config.get("config") if isinstance(config, dict) else None
    if not isinstance(entries, dict):
        raise _corrupt(spec, f"malformed {kind} list")
    data: dict[str, Any] = {}
    tensors: dict[str, Any] = {}
    for fqn, meta in entries.items():
        if not isinstance(meta, dict):
            raise _corrupt(spec, f"malformed {kind} list")
        path_name = str(meta.get("path_name"))
        if meta.get("use_pickle") or not path_name.startswith(("weight_", "tensor_")):
            raise NeedsTrust(spec, f"stores {kind} '{fqn}' as a pickle")
        tensors[fqn] = _tensor(archive, folder, meta, data)
    return tensors


# --- the program ------------------------------------------------------------------------------------------------


def load_pt2(spec: str) -> Any:
    """The `torch.export.ExportedProgram` of the archive `spec`, built without unpickling or evaluating anything."""
    from torch._export.serde import schema
    from torch._export.serde.serialize import ExportedProgramDeserializer, _dict_to_dataclass

    archive = _Archive(spec)
    if "archive_format" not in archive.names:
        if "serialized_exported_program.json" in archive.names:
            raise NeedsTrust(spec, "is an old torch.export archive whose weights are a pickle")
        raise T2MError(
            f"'{spec}' is a zip file but not a torch.export archive (no archive_format record)",
            spec,
            "save the program with torch.export.save",
        )
    if archive.read("archive_format") != b"pt2" or archive.read("archive_version") != b"0":
        raise _corrupt(spec, "unknown archive format or version")
    if "byteorder" in archive.names and archive.read("byteorder").decode(errors="replace") != sys.byteorder:
        raise _corrupt(spec, "saved on a machine of the other byte order")
    program = archive.json(f"models/{MODEL}.json")
    check_program(spec, program)
    _register_quantized_ops(program)
    weights = _read_tensors(archive, "data/weights/", "weight")
    constants = _read_tensors(archive, "data/constants/", "constant")
    try:
        serialized = _dict_to_dataclass(schema.ExportedProgram, program)
        loaded = ExportedProgramDeserializer().deserialize(serialized, weights, constants, None)
    except Exception as e:  # torch's deserializer reports malformed JSON with every kind of exception
        raise _corrupt(spec, f"{type(e).__name__}: {_first_line(e)}"[:200]) from e
    loaded._guards_code = []  # empty already (checked); nothing may exec guard code later
    return loaded
