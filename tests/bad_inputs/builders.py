"""Inputs of the bad-input corpus that are generated rather than kept as files (one function per `make:` name).

Each builder gets the case's work folder and writes what the case's command reads. Payloads that would run code
create `marker` (the runner checks it never appears).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

MARKER = "marker"


def read_only_folder(work: Path) -> None:
    """A folder nobody may write to, even root (the immutable attribute where the file system has one)."""
    folder = work / "readonly"
    folder.mkdir()
    os.chmod(folder, 0o555)
    if os.geteuid() == 0:  # root ignores permission bits; the immutable attribute stops root too
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("root needs an immutable folder (chattr +i) for this case; e2fsprogs or ext4 is missing")


def undo(work: Path) -> None:
    """Make everything a builder made removable again (called after each case)."""
    folder = work / "readonly"
    if folder.exists():
        if os.geteuid() == 0 and (chattr := shutil.which("chattr")):
            subprocess.run([chattr, "-i", str(folder)], capture_output=True)
        os.chmod(folder, 0o755)


def plain_file(work: Path) -> None:
    """A regular file where an output folder is expected."""
    (work / "plain").write_text("not a folder\n")


def binary_file(work: Path) -> None:
    """An ELF-like binary with bytes that are not UTF-8, under every suffix the tools read as text."""
    data = b"\x7fELF\x01\x01\x01\x00" + bytes(range(128, 256))
    for suffix in (".mlir", ".ll", ".py"):
        (work / f"binary{suffix}").write_bytes(data)


def empty_files(work: Path) -> None:
    for suffix in (".mlir", ".ll", ".o", ".npy", ".pt2", ".pth", ".py"):
        (work / f"empty{suffix}").write_bytes(b"")
