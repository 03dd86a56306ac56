"""The docs are tests: every command README.md and docs/**/*.md show runs, and prints what the page says it prints.

The convention (docs/docs-as-tests.md): each ```sh block is run command by command, in document order, in one
fresh folder per page that sees the repository's examples, docs and virtual environment (so `out/`, `kws.mlir`
never land in the checkout). Under a command, `# CHECK:` lines (any FileCheck directive) are checked against its
standard output then standard error with `filecheck`; a ```text block right after an ```sh block shows the output
of that block's last command, and each of its lines must appear, in order (`...` stands for lines left out). A
command whose comment starts with `fails` must exit with status 1 and a one-line `<tool>: error:`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = sorted((ROOT / "docs" / "tutorial").rglob("*.md"))
DOCS = [ROOT / "README.md", *(d for d in sorted((ROOT / "docs").rglob("*.md")) if d not in TUTORIAL)]
"""README and docs/; the tutorial's pages run from tests/test_docs_tutorial.py, a file of its own so that
`make test` (pytest-xdist, one worker per file) runs them beside these rather than after them."""
LINKED = ["Makefile", "pyproject.toml", ".venv", "examples", "docs", "README.md"]
NOT_HERE = {"make test": "it is the command running this test"}
FIRMWARE_TOOLS = ("arm-none-eabi-gcc", "qemu-system-arm")
INSTALL = "apt-get install -y gcc-arm-none-eabi binutils-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
RUN = ("sh", "bash", "console")
SHOWN = ("text", "output")


@dataclass
class Step:
    """One command of a page, with what the page says about its result."""

    command: str
    line: int
    fails: bool = False
    checks: list[str] = field(default_factory=list)  # FileCheck directives (`CHECK: ...`)
    shown: list[str] = field(default_factory=list)  # lines of the ```text block that follows

    def where(self, doc: Path) -> str:
        return f"{doc.relative_to(ROOT)}:{self.line}: `{self.command}`"


def _block_steps(body: str, first_line: int) -> list[Step]:
    """The commands of one ```sh block: comments stripped, `\\` continuations joined, `# CHECK` lines attached."""
    steps: list[Step] = []
    pending = ""
    for offset, raw in enumerate(body.splitlines()):
        stripped = raw.strip()
        if stripped.startswith("#"):
            directive = re.match(r"#\s*(CHECK(?:-[A-Z]+)?:.*)$", stripped)
            if directive and steps:
                steps[-1].checks.append(directive.group(1))
            continue
        comment = re.search(r"\s#\s*(.*)$", raw)
        text = raw[: comment.start()] if comment else raw
        if text.rstrip().endswith("\\"):
            pending += text.strip()[:-1].strip() + " "
            continue
        command = (pending + text.strip()).strip()
        pending = ""
        if command:
            fails = bool(comment and re.match(r"fails\b", comment.group(1)))
            steps.append(Step(command, first_line + offset, fails))
    return steps


def steps_of(doc: Path) -> list[Step]:
    """Every command of a page in order, each with its checks and the output the page shows under it."""
    text = doc.read_text()
    steps: list[Step] = []
    previous_run_end = -1
    for block in FENCE.finditer(text):
        lang, body = block.group(1), block.group(2)
        if lang in RUN:
            steps += _block_steps(body, text.count("\n", 0, block.start(2)) + 1)
            previous_run_end = block.end()
        elif lang in SHOWN and steps and previous_run_end >= 0 and not text[previous_run_end : block.start()].strip():
            steps[-1].shown = [line for line in body.splitlines() if line.strip()]
    return steps


def commands(doc: Path) -> list[str]:
    """The shell commands of a page, in order."""
    return [s.command for s in steps_of(doc)]


def _squeeze(line: str) -> str:
    return " ".join(line.split())


def check_shown(shown: list[str], output: str) -> str | None:
    """None if every shown line (whitespace runs squeezed) appears in `output`, in order; else the first missing."""
    lines = [_squeeze(line) for line in output.splitlines()]
    at = 0
    for expected in shown:
        want = _squeeze(expected)
        if want == "...":
            continue
        while at < len(lines) and want not in lines[at]:
            at += 1
        if at == len(lines):
            return expected
        at += 1
    return None


def run_step(step: Step, doc: Path, cwd: Path, env: dict[str, str]) -> None:
    """Run one command and assert what its page says: the exit status, the shown output, the CHECK lines."""
    result = subprocess.run(step.command, shell=True, cwd=cwd, env=env, capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert "Traceback" not in result.stderr, f"{step.where(doc)}:\n{result.stderr[-2000:]}"
    if step.fails:
        errors = [line for line in result.stderr.splitlines() if re.match(r"[\w-]+: error: ", line)]
        assert result.returncode == 1 and len(errors) == 1, (
            f"{step.where(doc)} is marked `fails` but exited {result.returncode} with:\n{output[-2000:]}"
        )
    else:
        assert result.returncode == 0, f"{step.where(doc)} failed:\n{result.stderr[-2000:]}"
    if step.shown and (missing := check_shown(step.shown, output)) is not None:
        pytest.fail(f"{step.where(doc)}: the page shows `{missing.strip()}`, the command printed:\n{output[-3000:]}")
    if step.checks:
        check_file = cwd / ".doc-checks"
        check_file.write_text("\n".join(step.checks) + "\n")
        checked = subprocess.run(["filecheck", str(check_file)], input=output, env=env, capture_output=True, text=True)
        check_file.unlink()
        assert checked.returncode == 0, f"{step.where(doc)}: CHECK lines fail:\n{checked.stderr[-3000:]}"


def test_every_document_shows_commands() -> None:
    assert commands(ROOT / "README.md") and commands(ROOT / "docs" / "extending.md")
    assert all(commands(page) for page in sorted((ROOT / "docs" / "tutorial").glob("[0-9]*.md")))


def test_the_convention_parses() -> None:
    """Continuations, CHECK lines, `fails` and the shown block attach to the right command."""
    page = ROOT / "docs" / "docs-as-tests.md"
    steps = steps_of(page)
    fuse = next(s for s in steps if s.command.startswith("t2m-opt --fuse"))
    assert fuse.command == "t2m-opt --fuse tiny.mlir" and not fuse.fails and not fuse.shown
    assert fuse.checks == [
        "CHECK-NOT: nn.batch_norm",
        "CHECK:     nn.conv2d",
        "CHECK-SAME: act_min = 0.000000e+00 : f32, act_max = 6.000000e+00 : f32",
    ]
    (failing,) = [s for s in steps if s.fails]
    assert failing.command == "t2m-import examples/models.py:WithCumsum -o cumsum.mlir"
    assert failing.shown[0].startswith("t2m-import: error: ") and len(failing.shown) == 3
    continued = [s.command for s in steps_of(ROOT / "docs" / "tutorial" / "solutions" / "04-fusion.md")]
    assert (
        "t2m-opt docs/tutorial/code/redundant.mlir --load-pass-plugin docs/tutorial/solutions/drop_relu.py "
        "-p drop-redundant-relu -o dropped.mlir"
    ) in continued


def test_check_shown_matches_in_order() -> None:
    output = "a  b\nc\nd\n"
    assert check_shown(["a b", "...", "d"], output) is None
    assert check_shown(["d", "c"], output) == "c"
    assert check_shown(["x"], output) == "x"


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(ROOT)) for d in DOCS])
def test_commands_run(doc: Path, tmp_path: Path) -> None:
    run_page(doc, tmp_path)


def run_page(doc: Path, tmp_path: Path) -> None:
    """Run a page's commands in order in `tmp_path`, which sees the repository as a newcomer's checkout does."""
    for name in LINKED:
        if (ROOT / name).exists():
            (tmp_path / name).symlink_to(ROOT / name)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for step in steps_of(doc):
        if step.command in NOT_HERE:
            continue
        if "examples/firmware" in step.command and (missing := [t for t in FIRMWARE_TOOLS if not shutil.which(t)]):
            pytest.skip(f"{doc.name}: `{step.command}` needs {', '.join(missing)}: {INSTALL}")
        run_step(step, doc, tmp_path, env)


def _row_passes(doc: Path, stage: str) -> list[str]:
    """The pass names a page's `| stage | ... |` table row shows, `lower-nn-{a,b}` expanded, before any `(`."""
    row = next(line for line in doc.read_text().splitlines() if line.startswith(f"| {stage} |"))
    names = []
    for name in re.findall(r"`([\w{},-]+)`", row.split("|")[2].split(" (xDSL")[0]):
        if m := re.fullmatch(r"(.*)\{(.*)\}", name):
            names += [m.group(1) + part for part in m.group(2).split(",")]
        else:
            names.append(name)
    return names


def test_readme_lists_the_passes_the_pipeline_runs() -> None:
    """README's "How it works" table names exactly the passes of compiler/pipeline.py, in order."""
    from t2m.compiler import pipeline

    assert _row_passes(ROOT / "README.md", "fuse") == pipeline.FUSE
    assert sorted(_row_passes(ROOT / "README.md", "loops")) == sorted(pipeline.LOWER_TO_LOOPS)
    assert _row_passes(ROOT / "README.md", "llvm") == pipeline.LOWER_TO_LLVM
