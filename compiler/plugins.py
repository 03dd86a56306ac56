"""Researcher extension points: passes from a Python file (`--load-pass-plugin`) or from another package.

A plugin file defines one or more `xdsl.passes.ModulePass` subclasses (each with a `name`); t2m-opt registers
them beside its own passes, so `-p my-pass` runs them. Installed packages can register passes without any flag
through the entry-point group `t2m.passes` (`name = "package.module:PassClass"`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points

from xdsl.passes import ModulePass

from t2m.compiler.errors import T2MError
from t2m.compiler.pyfile import import_file

PassFactory = Callable[[], type[ModulePass]]
ENTRY_POINT_GROUP = "t2m.passes"


def load_pass_file(path: str) -> list[type[ModulePass]]:
    """The ModulePass subclasses a plugin file defines (imported ones do not count)."""
    module = import_file(path, "pass plugin", "--load-pass-plugin", "fix the plugin")
    passes = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, ModulePass) and cls.__module__ == module.__name__ and not inspect.isabstract(cls)
    ]
    if not passes:
        raise T2MError(
            f"pass plugin '{path}' defines no pass",
            path,
            "define a subclass of xdsl.passes.ModulePass with a `name` and an `apply` method",
        )
    return passes


def entry_point_passes() -> dict[str, PassFactory]:
    """Passes other installed packages register under the `t2m.passes` entry-point group (loaded lazily)."""
    return {ep.name: ep.load for ep in entry_points(group=ENTRY_POINT_GROUP)}


def register_plugins(
    registry: dict[str, PassFactory], files: Iterable[str], packaged: dict[str, PassFactory] | None = None
) -> None:
    """Add plugin passes to `registry`; a name that is already taken is an error, never a silent override."""
    sources: list[tuple[str, str, PassFactory]] = [
        (name, f"entry point {ENTRY_POINT_GROUP}:{name}", factory)
        for name, factory in (entry_point_passes() if packaged is None else packaged).items()
    ]
    for path in files:
        sources += [(cls.name, path, _constant(cls)) for cls in load_pass_file(path)]
    for name, origin, factory in sources:
        if name in registry:
            raise T2MError(
                f"pass '{name}' from {origin} clashes with an existing pass of that name",
                origin,
                "give the plugin's pass another `name`",
            )
        registry[name] = factory


def _constant(cls: type[ModulePass]) -> PassFactory:
    return lambda: cls
