"""Output files: atomic for regular files, in place for devices and FIFOs, `-` for stdout, all-or-nothing."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from t2m.compiler.errors import T2MError
from t2m.compiler.files import read_text, write_output, write_outputs


def test_regular_file_is_replaced_atomically(tmp_path: Path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    write_output(target, "new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]  # no temp or backup file left


def test_dev_null_stays_a_device():
    write_output("/dev/null", "discarded")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def through_fifo(fifo: Path, write: Callable[[], object]) -> bytes:
    """What `write` sends into a new FIFO at `fifo`, read by another thread; the FIFO must still be one."""
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write()
    reader.join(10)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    return got[0]


def test_fifo_is_written_in_place(tmp_path: Path):
    assert through_fifo(tmp_path / "pipe", lambda: write_output(tmp_path / "pipe", b"through the pipe")) == (
        b"through the pipe"
    )


def test_dash_is_stdout(capfdbinary: pytest.CaptureFixture[bytes]):
    write_output("-", b"\x00bytes")
    assert capfdbinary.readouterr().out == b"\x00bytes"


def test_several_files_all_or_nothing(tmp_path: Path):
    kept = tmp_path / "out" / "model.o"
    kept.parent.mkdir()
    kept.write_bytes(b"previous object")
    blocker = tmp_path / "out" / "report.json"
    blocker.mkdir()  # a folder where a file must go: the last write fails
    with pytest.raises(T2MError, match=r"cannot write '.*report.json': it is a folder"):
        write_outputs({kept: b"new object", tmp_path / "out" / "model.h": "header", blocker: "{}"})
    assert kept.read_bytes() == b"previous object"
    assert sorted(p.name for p in kept.parent.iterdir()) == ["model.o", "report.json"]


def test_rollback_after_a_failed_rename_restores_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_text("old a")
    real_replace = os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if Path(dst) == second:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(T2MError, match=r"cannot write '.*/b': No space left on device"):
        write_outputs({first: "new a", second: "new b"})
    monkeypatch.setattr(os, "replace", real_replace)
    assert first.read_text() == "old a"
    assert not second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


def test_created_folders_are_removed_on_failure(tmp_path: Path):
    (tmp_path / "x").mkdir()
    with pytest.raises(T2MError):
        write_outputs({tmp_path / "new" / "deep" / "f": "data", tmp_path / "x": "into a folder"})
    assert not (tmp_path / "new").exists()


def test_path_under_a_regular_file(tmp_path: Path):
    (tmp_path / "plain").write_text("")
    with pytest.raises(T2MError, match=r"'.*plain' is a file, not a folder"):
        write_output(tmp_path / "plain" / "x.mlir", "text")


def test_binary_file_is_not_text(tmp_path: Path):
    binary = tmp_path / "model.mlir"
    binary.write_bytes(b"\x7fELF\x01\x01\xff\xfe")
    with pytest.raises(T2MError, match=r"is not an MLIR file \(byte 6 is not UTF-8 text\)"):
        read_text(binary, expected="an MLIR file")


RELU = Path(__file__).parent / "bad_inputs" / "files" / "relu.mlir"


def test_tools_write_to_dev_null_and_stdout(capfdbinary: pytest.CaptureFixture[bytes]):
    """As root, `-o /dev/null` must leave the null device a device; `-o -` writes to standard output."""
    from t2m.compiler.cli.opt_main import main as opt

    assert opt([str(RELU), "-o", "/dev/null"]) == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert opt([str(RELU), "-o", "-"]) == 0
    assert capfdbinary.readouterr().out.startswith(b"builtin.module {\n  func.func @f(")


def test_tool_writes_into_a_fifo(tmp_path: Path):
    from t2m.compiler.cli.opt_main import main as opt

    fifo = tmp_path / "ir"
    assert through_fifo(fifo, lambda: opt([str(RELU), "-o", str(fifo)])).startswith(b"builtin.module {")
