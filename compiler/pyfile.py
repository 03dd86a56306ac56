"""Importing a user's Python file (a model definition or a pass plugin) with one-line errors."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from t2m.compiler.errors import T2MError


def import_file(path: str, what: str, flag: str, hint: str) -> ModuleType:
    """Execute `path` as a fresh module; `what` names it in errors ("model file", "pass plugin")."""
    file = Path(path)
    if not file.is_file():
        raise T2MError(f"no such {what} '{path}'", flag, "check the path")
    name = f"t2m_user_{file.stem}_{abs(hash(file.resolve()))}"
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise T2MError(f"syntax error in {what} '{path}': {e.msg}", f"{path}:{e.lineno}", hint) from e
    except Exception as e:
        raise T2MError(f"{what} '{path}' raised {type(e).__name__} while loading: {e}", path, hint) from e
    return module
