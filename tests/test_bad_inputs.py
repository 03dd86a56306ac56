"""The bad-input corpus (tests/bad_inputs/): every case is a one-line error, exit 1, and leaves nothing behind."""

from __future__ import annotations

import importlib
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bad_inputs import builders

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "bad_inputs"
TOOLS = {
    "t2m-import": "import_main",
    "t2m-opt": "opt_main",
    "t2m-compile": "compile_main",
    "t2m-run": "run_main",
    "t2m-translate": "translate_main",
    "t2m-bench": "bench_main",
}


@dataclass
class Case:
    name: str
    run: str
    error: str
    make: list[str] = field(default_factory=list[str])
    details: list[str] = field(default_factory=list[str])


def read_case(path: Path) -> Case:
    fields: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), []).append(value.strip())
    unknown = set(fields) - {"run", "error", "make", "detail"}
    assert not unknown and len(fields.get("run", [])) == 1 and len(fields.get("error", [])) == 1, path
    return Case(path.stem, fields["run"][0], fields["error"][0], fields.get("make", []), fields.get("detail", []))


CASES = [read_case(p) for p in sorted((CORPUS / "cases").glob("*.txt"))]


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60, f"{len(CASES)} cases"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    out.mkdir()
    places = {"files": str(CORPUS / "files"), "work": str(work), "out": str(out), "repo": str(ROOT)}
    places["marker"] = str(work / builders.MARKER)
    monkeypatch.chdir(work)
    try:
        for name in case.make:
            getattr(builders, name)(work)
        tool, *argv = shlex.split(case.run.format(**places))
        main = importlib.import_module(f"t2m.compiler.cli.{TOOLS[tool]}").main
        status = main(argv)
        captured = capfd.readouterr()
    finally:
        builders.undo(work)
    expected = [line.format(**places) for line in (case.error, *(f"  {d}" for d in case.details))]
    assert (status, captured.err.splitlines()) == (1, expected)
    assert "Traceback" not in captured.out + captured.err
    assert sorted(p.name for p in out.rglob("*")) == [], "the failed command left files behind"
    assert not Path(places["marker"]).exists(), "a payload ran code"
