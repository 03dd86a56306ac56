"""Researcher extension points: plugin files, entry-point passes, and their one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from xdsl.passes import ModulePass

from t2m.compiler.errors import T2MError
from t2m.compiler.plugins import load_pass_file, register_plugins

ROOT = Path(__file__).resolve().parents[1]
T2M_OPT = str(Path(sys.executable).parent / "t2m-opt")
MODULE = "func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {\n  func.return %x : tensor<2xf32>\n}\n"


def opt(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    (cwd / "m.mlir").write_text(MODULE)
    return subprocess.run([T2M_OPT, "m.mlir", *args], capture_output=True, text=True, cwd=cwd)


def test_example_plugin_defines_its_pass() -> None:
    passes = load_pass_file(str(ROOT / "examples/plugins/strip_softmax.py"))
    assert [p.name for p in passes] == ["strip-final-softmax"]


def test_plugin_with_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("from xdsl.passes import ModulePass\nclass P(ModulePass)\n    name = 'p'\n")
    result = opt("--load-pass-plugin", "bad.py", "-p", "p", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "t2m-opt: error: syntax error in pass plugin 'bad.py': expected ':', at bad.py:2; fix the plugin"
    ]


def test_plugin_without_pass(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("from xdsl.passes import ModulePass  # imported, not defined here\nX = 1\n")
    result = opt("--load-pass-plugin", "empty.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "t2m-opt: error: pass plugin 'empty.py' defines no pass, at empty.py; define a subclass of "
        "xdsl.passes.ModulePass with a `name` and an `apply` method"
    ]


def test_plugin_name_clash(tmp_path: Path) -> None:
    (tmp_path / "clash.py").write_text(
        "from dataclasses import dataclass\nfrom xdsl.passes import ModulePass\n\n"
        "@dataclass(frozen=True)\nclass MyCanon(ModulePass):\n    name = 'canonicalize'\n\n"
        "    def apply(self, ctx, op):\n        pass\n"
    )
    result = opt("--load-pass-plugin", "clash.py", "-p", "canonicalize", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "t2m-opt: error: pass 'canonicalize' from clash.py clashes with an existing pass of that name, at clash.py; "
        "give the plugin's pass another `name`"
    ]


def test_plugin_missing_and_raising(tmp_path: Path) -> None:
    result = opt("--load-pass-plugin", "nope.py", cwd=tmp_path)
    assert result.stderr.splitlines() == [
        "t2m-opt: error: no such pass plugin 'nope.py', at --load-pass-plugin; check the path"
    ]
    (tmp_path / "boom.py").write_text("raise RuntimeError('not today')\n")
    result = opt("--load-pass-plugin", "boom.py", cwd=tmp_path)
    assert result.stderr.splitlines() == [
        "t2m-opt: error: pass plugin 'boom.py' raised RuntimeError while loading: not today, at boom.py; fix the plugin"
    ]


class _Packaged(ModulePass):
    name = "from-a-package"

    def apply(self, ctx, op) -> None:  # type: ignore[override]
        pass


def test_entry_point_passes_register_and_clash() -> None:
    registry = {"canonicalize": lambda: _Packaged}
    register_plugins(registry, [], packaged={"from-a-package": lambda: _Packaged})
    assert registry["from-a-package"]() is _Packaged
    with pytest.raises(T2MError, match="pass 'canonicalize' from entry point t2m.passes:canonicalize clashes"):
        register_plugins(registry, [], packaged={"canonicalize": lambda: _Packaged})
