"""Researcher extension points: plugin files, entry-point passes, and their one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.transforms.canonicalize import CanonicalizePass
from xdsl.utils.exceptions import VerifyException

from t2m.compiler.errors import T2MError
from t2m.compiler.ir import parse_module
from t2m.compiler.pipeline import FUSE, apply_passes
from t2m.compiler.plugins import invalid_output, is_plugin, load_pass_file, register_plugins
from t2m.dialects import nn
from t2m.passes.fuse_activation import FuseActivationPass

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


# Blame: a failure inside a pass names the pass and says whose fix it is.

LINEAR_RELU = """
func.func @f(%x: tensor<1x4xf32>) -> tensor<1x3xf32> {
  %w = nn.constant dense<0.5> : tensor<3x4xf32>
  %l = nn.linear %x, %w : (tensor<1x4xf32>, tensor<3x4xf32>) -> tensor<1x3xf32>
  %r = nn.relu %l : tensor<1x3xf32>
  func.return %r : tensor<1x3xf32>
}
"""
BROKEN = "'nn.relu' uses %l before its definition (by 'nn.linear'), later in the same block"


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _hoist_relu(self: ModulePass, ctx: object, op: ModuleOp) -> None:
    """What a broken fuse-activation could do: move the relu above the op defining its operand."""
    relu = next(o for o in op.walk() if isinstance(o, nn.ReluOp))
    block = relu.parent_block()
    assert block is not None and block.first_op is not None
    relu.detach()
    block.insert_op_before(relu, block.first_op)


def test_a_t2m_pass_breaking_the_ir_is_a_t2m_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FuseActivationPass, "apply", _hoist_relu)
    line = _line_of(ROOT / "passes/fuse_activation.py", "class FuseActivationPass")
    with pytest.raises(T2MError) as info:
        apply_passes(parse_module(LINEAR_RELU), ["fuse-activation", "cse"], verify_each=True)
    assert info.value.one_line() == (
        f"pass 'fuse-activation' produced invalid IR: {BROKEN}, at t2m/passes/fuse_activation.py:{line}; "
        "please report this t2m bug"
    )


def test_a_stage_verified_at_its_end_names_its_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FuseActivationPass, "apply", _hoist_relu)
    with pytest.raises(T2MError) as info:
        apply_passes(parse_module(LINEAR_RELU), ["fuse-activation", "cse"])
    assert info.value.one_line() == (
        f"one of the passes fuse-activation,cse produced invalid IR: {BROKEN}; please report this t2m bug "
        "(t2m-opt -p fuse-activation,cse verifies after each pass and names the one)"
    )


def test_a_t2m_pass_raising_is_a_t2m_bug_at_its_own_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(self: nn.FusedActivation, lo: float | None, hi: float | None) -> None:
        raise RuntimeError("no bounds today")

    monkeypatch.setattr(nn.FusedActivation, "set_activation_bounds", fail)
    line = _line_of(ROOT / "passes/fuse_activation.py", "producer.set_activation_bounds(")
    with pytest.raises(T2MError) as info:
        apply_passes(parse_module(LINEAR_RELU), FUSE)
    assert info.value.one_line() == (
        f"pass 'fuse-activation' raised RuntimeError: no bounds today, at t2m/passes/fuse_activation.py:{line}; "
        "please report this t2m bug (rerun with --debug for the trace)"
    )


def test_a_t2m_pass_refusing_its_input_is_not_a_bug() -> None:
    with pytest.raises(T2MError) as info:
        apply_passes(parse_module(LINEAR_RELU), ["bufferize"])
    message = info.value.one_line()
    assert message.startswith("pass 'bufferize' failed: bufferize: ") and "report" not in message
    assert message.endswith("; change the input, or the passes that run before it")


def test_plugins_and_t2m_passes_are_told_apart(tmp_path: Path) -> None:
    assert not is_plugin(FuseActivationPass) and not is_plugin(CanonicalizePass)
    (tmp_path / "mine.py").write_text(
        "from xdsl.passes import ModulePass\n\nclass Mine(ModulePass):\n    name = 'mine'\n\n"
        "    def apply(self, ctx, op):\n        pass\n"
    )
    (mine,) = load_pass_file(str(tmp_path / "mine.py"))
    assert is_plugin(mine)
    assert invalid_output([mine()], VerifyException("bad")).one_line() == (
        f"pass 'mine' produced invalid IR: bad, at {tmp_path}/mine.py:3 (pass plugin); fix the pass"
    )
