"""Fixtures shared by every test folder: the GNU Arm toolchain and QEMU, which tests need only when installed.

A test that needs them takes one of the fixtures below; without the tools it skips, and the reason says what is
missing and the one command that installs everything (the same packages `.ci/run` installs).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

ARM_PACKAGES = "gcc-arm-none-eabi binutils-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"
INSTALL_COMMAND = f"apt-get install -y {ARM_PACKAGES}"
M4_HARD_FLOAT = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]


LONGEST_FIRST = ("test_docs_tutorial.py", "test_docs.py", "test_route.py", "test_fuzz.py", "test_int8_zoo.py",
                 "test_int8_layers.py")
"""The files that take longest, run first: `make test` hands whole files to two pytest-xdist workers in
collection order (`--dist loadfile`), and a long file handed out last leaves the other worker idle at the end."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """LONGEST_FIRST's files ahead of the others; within a file, and among the others, the order is kept."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def _skip_unless_present(missing: list[str]) -> None:
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed; install the GNU Arm toolchain and QEMU: {INSTALL_COMMAND}")


def _newlib_present() -> bool:
    """newlib-nano for the hard-float Cortex-M4 multilib: gcc prints the bare name when it finds no such file."""
    found = subprocess.run(
        ["arm-none-eabi-gcc", *M4_HARD_FLOAT, "--specs=nano.specs", "-print-file-name=libc_nano.a"],
        capture_output=True,
        text=True,
    )
    return found.returncode == 0 and found.stdout.strip() != "libc_nano.a"


@pytest.fixture(scope="session")
def gnu_binutils() -> None:
    """arm-none-eabi-as and arm-none-eabi-ld, or skip."""
    _skip_unless_present([tool for tool in ("arm-none-eabi-as", "arm-none-eabi-ld") if shutil.which(tool) is None])


@pytest.fixture(scope="session")
def firmware_toolchain() -> None:
    """Everything examples/firmware needs to build and run a firmware (gcc, binutils, newlib, QEMU), or skip."""
    tools = ("arm-none-eabi-gcc", "arm-none-eabi-ld", "arm-none-eabi-nm", "qemu-system-arm", "make")
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if "arm-none-eabi-gcc" not in missing and not _newlib_present():
        missing.append("newlib (libc_nano.a)")
    _skip_unless_present(missing)
