"""The op API reference for pattern writers (docs/op-reference.md), generated from the dialects themselves.

Every op of the `nn`, `qnn` and `arm_dsp` dialects with its docstring, its operands, results and properties (from
its IRDL definition), whether it carries a fused activation, and the Python methods a rewrite pattern calls on it
(`window()`, `activation_bounds()`, `geometry()`...) with their signatures and docstrings. So the reference cannot
drift from the code: `tests/test_op_reference.py` fails when the checked-in page differs from this output.

    python -m t2m.compiler.op_reference > docs/op-reference.md        # regenerate
    python -m t2m.compiler.op_reference --check docs/op-reference.md  # what the test does
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

from xdsl.dialects.builtin import Float16Type, Float32Type, Float64Type
from xdsl.irdl import IRDLOperation
from xdsl.irdl.constraints import AnyAttr, BaseAttr, EqAttrConstraint, ParamAttrConstraint

GENERATOR = "python -m t2m.compiler.op_reference > docs/op-reference.md"


def _dialects() -> list[tuple[ModuleType, Any, type | None, str]]:
    """(module, dialect, the base class of ops carrying a fused activation, what that activation is)."""
    from t2m.dialects import arm_dsp, nn, qnn

    return [
        (nn, nn.NN, nn.FusedActivation, "float bounds `act_min`/`act_max` (`activation_bounds()`)"),
        (qnn, qnn.QNN, qnn.Int8Activation, "int8 range `act_min`/`act_max` (`activation_range()`)"),
        (arm_dsp, arm_dsp.ARM_DSP, None, ""),
    ]


_FLOAT_TYPES = (Float16Type, Float32Type, Float64Type)


def constraint_text(constr: Any) -> str:
    """An IRDL constraint as a reader writes the type: `tensor<...xf32>`, `DenseArrayBase`, `FloatAttr<f32>`."""
    inner = getattr(constr, "constraint", None) or getattr(constr, "constr", None)
    if inner is not None and not isinstance(constr, (ParamAttrConstraint, BaseAttr, EqAttrConstraint)):
        return constraint_text(inner)  # ranges (variadic / optional) and other wrappers
    if isinstance(constr, EqAttrConstraint):
        return str(constr.attr)
    if isinstance(constr, BaseAttr):
        return constr.attr.__name__
    if isinstance(constr, AnyAttr):
        return "any"
    if isinstance(constr, ParamAttrConstraint):
        name = constr.base_attr.__name__
        fixed = [
            constraint_text(p) if isinstance(p, EqAttrConstraint) else p.attr.name
            for p in constr.param_constrs
            if isinstance(p, EqAttrConstraint) or (isinstance(p, BaseAttr) and p.attr in _FLOAT_TYPES)
        ]
        if name in ("TensorType", "MemRefType"):
            return f"{'tensor' if name == 'TensorType' else 'memref'}<...x{fixed[0] if fixed else '?'}>"
        return f"{name}<{', '.join(fixed)}>" if fixed else name
    return type(constr).__name__


def _docstring(obj: Any) -> str:
    return inspect.cleandoc(obj.__doc__) if obj.__doc__ else ""


_NOT_API = ("print", "parse", "verify_", "name", "get_irdl_definition")
"""Methods every IRDL op has (printing, parsing, verifying): xDSL documents them."""


def _own_methods(op: type[IRDLOperation], module: ModuleType) -> Iterator[tuple[str, Callable[..., Any]]]:
    """Public methods the op gets from its own class or from t2m base classes (not xDSL's Operation API)."""
    seen: set[str] = set()
    for cls in op.__mro__:
        if cls.__module__ != module.__name__:
            continue
        for name, member in vars(cls).items():
            if name.startswith("_") or name in seen or name in _NOT_API:
                continue
            function = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
            if inspect.isfunction(function):
                seen.add(name)
                yield name, function


def _signature(name: str, function: Callable[..., Any]) -> str:
    parameters = list(inspect.signature(function).parameters.values())
    if parameters and parameters[0].name in ("self", "cls"):
        parameters = parameters[1:]
    text = ", ".join(_parameter(p) for p in parameters)
    returns = function.__annotations__.get("return")
    return f"{name}({text})" + (f" -> {returns}" if returns not in (None, inspect.Signature.empty) else "")


def _optional(definition: Any) -> bool:
    return type(definition).__name__.startswith("Opt")


def _parameter(p: inspect.Parameter) -> str:
    """`name: annotation = default`, a function default by its name (its repr holds an address)."""
    if p.default is not inspect.Parameter.empty and callable(p.default):
        p = p.replace(default=_Named(p.default.__name__))
    return str(p).replace("'", "")


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


def _table(rows: Sequence[tuple[str, str]], header: tuple[str, str]) -> list[str]:
    return [f"| {header[0]} | {header[1]} |", "|---|---|", *(f"| `{a}` | {b} |" for a, b in rows)]


def op_section(op: type[IRDLOperation], module: ModuleType, fused: type | None) -> list[str]:
    definition = op.get_irdl_definition()
    short = module.__name__.rsplit(".", 1)[-1]
    lines = [f"### `{op.name}`", "", f"`from t2m.dialects.{short} import {op.__name__}`", ""]
    if doc := _docstring(op):
        lines += [doc, ""]
    rows = [(name, f"`{constraint_text(d.constr)}`" + (" (optional)" if _optional(d) else ""))
            for name, d in definition.operands]
    rows += [(name, f"`{constraint_text(d.constr)}` (result)") for name, d in definition.results]
    rows += [(name, f"`{constraint_text(d.constr)}` ({'optional ' if _optional(d) else ''}property)")
             for name, d in definition.properties.items()]
    if rows:
        lines += [*_table(rows, ("operand / result / property", "type")), ""]
    traits = sorted(type(t).__name__ for t in definition.traits)
    carries = fused is not None and issubclass(op, fused)
    lines += [f"Fused activation: {'yes' if carries else 'no'}. Traits: {', '.join(traits) or 'none'}.", ""]
    if definition.assembly_format:
        lines += [f"Syntax: `` {op.name} {definition.assembly_format} ``", ""]
    for name, function in _own_methods(op, module):
        lines.append(f"- `{_signature(name, function)}`" + (f": {_first_paragraph(function)}"
                                                            if function.__doc__ else ""))
    if lines[-1] != "":
        lines.append("")
    return lines


def _first_paragraph(obj: Any) -> str:
    return " ".join(_docstring(obj).split("\n\n")[0].split())


def _functions(module: ModuleType) -> list[str]:
    """The module's public helper functions (shapes, constants) with their first docstring paragraph."""
    lines = []
    for name, function in inspect.getmembers(module, inspect.isfunction):
        if not name.startswith("_") and function.__module__ == module.__name__:
            lines.append(f"- `{_signature(name, function)}`" + (f": {_first_paragraph(function)}"
                                                                if function.__doc__ else ""))
    return lines


def render() -> str:
    """The whole page."""
    out = [
        "# Op API reference for pattern writers",
        "",
        f"<!-- Generated by `{GENERATOR}`; do not edit: tests/test_op_reference.py checks it. -->",
        "",
        "What a rewrite pattern (docs/extending.md) can ask of each op: its operands, results and properties as",
        "IRDL defines them, whether it carries a fused activation (a clamp applied as its result is stored, which",
        "`fuse-activation` / `fuse-requant` set), and the Python methods t2m's own patterns use.",
        "",
    ]
    sections = _dialects()
    out += ["## Which ops carry a fused activation", ""]
    for module, dialect, fused, what in sections:
        if fused is None:
            continue
        names = ", ".join(f"`{op.name}`" for op in dialect.operations if issubclass(op, fused))
        methods = [f"`{_signature(n, f)}`" for n, f in _own_methods(fused, module)]  # type: ignore[arg-type]
        out += [f"- `{dialect.name}`: {names}. They carry the {what}; methods {', '.join(methods)}.",
                f"  {_first_paragraph(fused)}"]
    out.append("")
    for module, dialect, fused, _ in sections:
        out += [f"## The `{dialect.name}` dialect (`{module.__name__.replace('t2m.', '')}`)", ""]
        if doc := _first_paragraph(module):
            out += [doc, ""]
        for op in dialect.operations:
            out += op_section(op, module, fused)
        if helpers := _functions(module):
            out += [f"### Helper functions of `{module.__name__}`", "", *helpers, ""]
    return "\n".join(out).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    text = render()
    if args[:1] == ["--check"] and len(args) == 2:
        with open(args[1], encoding="utf-8") as f:
            if f.read() == text:
                return 0
        print(f"{args[1]} is out of date; regenerate it: {GENERATOR}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
