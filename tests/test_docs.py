"""Every command shown in README.md and docs/ runs, as a newcomer would type it, and succeeds.

Each ```sh block is run line by line (comments stripped) in a fresh folder that sees the repository's examples
and virtual environment, so outputs (`out/`, `kws.mlir`, `BENCHMARKS.md`) never land in the checkout. Blocks
run in the order the document shows them, sharing one folder per document, as a reader following it would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINKED = ["Makefile", "pyproject.toml", ".venv", "examples", "docs", "README.md"]
NOT_HERE = {"make test": "it is the command running this test"}
FIRMWARE_TOOLS = ("arm-none-eabi-gcc", "qemu-system-arm")
INSTALL = "apt-get install -y gcc-arm-none-eabi binutils-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"


def commands(doc: Path) -> list[str]:
    """The shell commands of a document's ```sh blocks, in order, without comments."""
    found = []
    for block in re.findall(r"^```(?:sh|bash|console)\n(.*?)^```", doc.read_text(), re.S | re.M):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith("#"):
                found.append(command)
    return found


def test_every_document_shows_commands() -> None:
    assert commands(ROOT / "README.md") and commands(ROOT / "docs" / "extending.md")


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_commands_run(doc: Path, tmp_path: Path) -> None:
    for name in LINKED:
        if (ROOT / name).exists():
            (tmp_path / name).symlink_to(ROOT / name)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for command in commands(doc):
        if command in NOT_HERE:
            continue
        if "examples/firmware" in command and (missing := [t for t in FIRMWARE_TOOLS if not shutil.which(t)]):
            pytest.skip(f"{doc.name}: `{command}` needs {', '.join(missing)}: {INSTALL}")
        result = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert result.returncode == 0, f"{doc.name}: `{command}` failed:\n{result.stderr[-2000:]}"
        assert "Traceback" not in result.stderr, f"{doc.name}: `{command}`:\n{result.stderr[-2000:]}"
