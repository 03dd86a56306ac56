"""Researcher extension points: passes from a Python file (`--load-pass-plugin`) or from another package.

A plugin file defines one or more `xdsl.passes.ModulePass` subclasses (each with a `name`); t2m-opt registers
them beside its own passes, so `-p my-pass` runs them. Installed packages can register passes without any flag
through the entry-point group `t2m.passes` (`name = "package.module:PassClass"`).
"""

from __future__ import annotations

import inspect
from argparse import ArgumentParser
from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import entry_points
from types import TracebackType

from xdsl.passes import ModulePass, PassPipeline, PassPipelineCallbackType

from t2m.compiler.errors import T2MError
from t2m.compiler.pyfile import import_file

PassFactory = Callable[[], type[ModulePass]]
PassRegistry = dict[str, PassFactory]
ENTRY_POINT_GROUP = "t2m.passes"
OWN_PACKAGES = ("t2m", "xdsl")
"""Passes defined here are t2m's (xDSL's ship with t2m): when they fail, it is a t2m bug, not the user's."""

_plugin_files: dict[str, str] = {}
"""Python module name of each loaded plugin file -> the path the user gave for it."""


def load_pass_file(path: str) -> list[type[ModulePass]]:
    """The ModulePass subclasses a plugin file defines (imported ones do not count)."""
    module = import_file(path, "pass plugin", "--load-pass-plugin", "fix the plugin")
    _plugin_files[module.__name__] = path
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
    for cls in passes:
        if not isinstance(getattr(cls, "name", None), str) or not cls.name:
            raise T2MError(
                f"pass class '{cls.__name__}' in pass plugin '{path}' has no `name`",
                _class_location(cls),
                "give it a class attribute such as name = 'my-pass' (the name -p runs it by)",
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


def pass_registry(files: Iterable[str] = ()) -> PassRegistry:
    """Every pass t2m-opt knows: xDSL's and t2m's, those packages register, and those the plugin `files` define."""
    from xdsl.universe import Universe

    registry = dict(Universe.get_multiverse().all_passes)
    register_plugins(registry, files)
    return registry


def parse_pipeline(registry: PassRegistry, spec: str, callback: PassPipelineCallbackType | None = None) -> PassPipeline:
    """The `-p` pipeline `spec`; an unknown pass, a bad option or a syntax error is a one-line error."""
    from xdsl.utils.exceptions import ArgSpecParseError

    try:
        return PassPipeline.parse_spec(registry, spec, callback)
    except ArgSpecParseError as e:  # a BaseException in xDSL: its text is a caret diagram of the spec
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        column = lines[1].rsplit(":", 1)[-1] if len(lines) > 1 else "?"
        raise T2MError(
            f"bad pass pipeline '{spec}' at column {column}: {lines[-1][0].lower()}{lines[-1][1:]}", "-p",
            "pass options are separated by spaces, e.g. 'lower-nn-conv{ob=4 pb=1}'"
        ) from None
    except Exception as e:  # unknown pass name or bad pass option
        raise T2MError(str(e).strip().splitlines()[0], "-p", "see t2m-opt --help for the pass names") from e


def add_plugin_arguments(parser: ArgumentParser, passes_help: str) -> None:
    """`--load-pass-plugin FILE.py` (repeatable) and `-p PIPELINE`, as t2m-opt has them."""
    parser.add_argument(
        "--load-pass-plugin",
        action="append",
        default=[],
        metavar="FILE.py",
        help="register the ModulePass subclasses defined in FILE.py (repeatable)",
    )
    parser.add_argument("-p", "--passes", default="", metavar="PIPELINE", help=passes_help)


def _constant(cls: type[ModulePass]) -> PassFactory:
    return lambda: cls


# ---------------------------------------------------------------------------------------------------------------
# Blame: when a pass fails, say which pass, where it is defined, and whose fault it is
# ---------------------------------------------------------------------------------------------------------------


def is_plugin(cls: type[ModulePass]) -> bool:
    """A pass from a plugin file or another package, as opposed to one of t2m's or xDSL's own."""
    return cls.__module__.partition(".")[0] not in OWN_PACKAGES


def invalid_output(passes: Sequence[ModulePass], error: Exception) -> T2MError:
    """The module failed to verify after `passes` ran on it: they broke it (their input verified).

    One pass is named with its source; after several (a stage verified only at its end) the hint says how to find
    which one.
    """
    if len(passes) != 1:
        names = ",".join(p.name for p in passes)
        return T2MError(
            f"one of the passes {names} produced invalid IR: {first_line(error)}",
            None,
            f"please report this t2m bug (t2m-opt -p {names} verifies after each pass and names the one)",
        )
    cls = type(passes[0])
    what = f"pass '{passes[0].name}' produced invalid IR: {first_line(error)}"
    if is_plugin(cls):
        return T2MError(what, f"{_class_location(cls)} (pass plugin)", "fix the pass")
    return T2MError(what, _class_location(cls), "please report this t2m bug")


def pass_failed(pass_: ModulePass, error: Exception, source: str | None = None) -> T2MError:
    """`pass_` refused its input with a PassFailedException, whose message says why and what to do: not a crash."""
    return T2MError(
        f"pass '{pass_.name}' failed: {first_line(error)}",
        source or _class_location(type(pass_)),
        "change the input, or the passes that run before it",
    )


def pass_raised(pass_: ModulePass, error: Exception) -> T2MError:
    """`pass_` raised `error`: at the line of the pass's own code that raised it (the plugin's, or t2m's)."""
    cls = type(pass_)
    what = f"pass '{pass_.name}' raised {type(error).__name__}: {first_line(error)}"
    where = _raise_location(error.__traceback__, cls) or _class_location(cls)
    if is_plugin(cls):
        return T2MError(what, where, "fix the pass plugin")
    return T2MError(what, where, "please report this t2m bug (rerun with --debug for the trace)")


def first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else "(no message)"


def _module_file(module: str, filename: str) -> str:
    """A plugin file as the user named it; other modules' files relative to their package (`t2m/passes/x.py`)."""
    if module in _plugin_files:
        return _plugin_files[module]
    if module == "__main__" or not module:
        return filename
    return module.replace(".", "/") + ("/__init__.py" if filename.endswith("__init__.py") else ".py")


def _class_location(cls: type) -> str:
    """`file:line` of a class definition."""
    try:
        filename, (lines, first) = inspect.getsourcefile(cls) or "", inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return _module_file(cls.__module__, "")
    line = first + next((i for i, text in enumerate(lines) if text.lstrip().startswith("class ")), 0)
    return f"{_module_file(cls.__module__, filename)}:{line}"


def _raise_location(tb: TracebackType | None, cls: type[ModulePass]) -> str | None:
    """`file:line` of the innermost frame of the traceback in the pass's own code (its module for a plugin, its
    package, t2m or xDSL, for the others), or None."""
    plugin = is_plugin(cls)
    own = cls.__module__ if plugin else cls.__module__.partition(".")[0]
    found = None
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module == own or (not plugin and module.startswith(own + ".")):
            found = f"{_module_file(module, tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found
