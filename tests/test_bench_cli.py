"""t2m-bench's command line: its models by short or class name, the table on standard output unless -o names a
file (never the tracked BENCHMARKS.md by default), and anchors that ship inside the package."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from t2m.compiler import bench, zoo
from t2m.compiler.cli.bench_main import MODELS, main, zoo_key
from t2m.compiler.errors import T2MError

ROOT = Path(__file__).resolve().parents[1]


def test_model_names_match_the_zoo() -> None:
    assert {key: build.__name__.removeprefix("build_") for key, build in zoo.ZOO.items()} == MODELS
    assert [zoo_key(n) for n in ("FCAutoencoder", "fcautoencoder", "ad", "DSCNN", "VWW")] == ["ad", "ad", "ad",
                                                                                              "kws", "vww"]
    with pytest.raises(T2MError, match=r"unknown zoo model 'lenet', at --models; choose from kws \(DSCNN\)"):
        zoo_key("lenet")


def test_help_lists_the_models(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "kws (DSCNN), vww (MobileNetV1), ic (ResNet8), ad (FCAutoencoder)" in text
    assert "default: standard output" in text


@pytest.fixture
def fake_bench(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[list[str]]:
    """run_bench replaced by a canned table (the real one takes minutes); records the models it was asked for."""
    calls: list[list[str]] = []

    def run_bench(anchors: Path, models: list[str], layers: bool, log: object, layer_filter: str | None,
                  jobs: int, tune: bool) -> str:
        calls.append([*models, f"jobs={jobs}", *([] if tune else ["no-tune"])])
        return "| model | cycles |\n|---|---|\n| ad | 1 |"

    monkeypatch.setattr(bench, "run_bench", run_bench)
    monkeypatch.chdir(tmp_path)
    return calls


def test_table_goes_to_standard_output_by_default(
    fake_bench: list[list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--models", "FCAutoencoder,kws", "--no-layers"]) == 0
    assert capsys.readouterr().out == "| model | cycles |\n|---|---|\n| ad | 1 |\n"
    assert main(["--models", "ad", "--no-layers", "--no-tune"]) == 0
    assert fake_bench == [["ad", "kws", "jobs=1"], ["ad", "jobs=1", "no-tune"]]
    assert list(tmp_path.iterdir()) == []  # no BENCHMARKS.md, nothing


def test_table_goes_to_the_file_o_names(
    fake_bench: list[list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--models", "ad", "-o", "BENCHMARKS.md", "--jobs", "3"]) == 0
    assert fake_bench == [["ad", "jobs=3"]]
    assert (tmp_path / "BENCHMARKS.md").read_text() == "| model | cycles |\n|---|---|\n| ad | 1 |\n"
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "t2m-bench: wrote BENCHMARKS.md\n")


def test_anchors_ship_in_the_wheel(tmp_path: Path) -> None:
    """Built as pip installs it (from a copy: a build writes build/ beside its sources): every anchor file
    t2m-bench reads is inside the package."""
    source = tmp_path / "src"
    for name in ("compiler", "dialects", "passes"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
         str(source)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("t2m-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    anchors = {f"t2m/compiler/anchors/{p.name}" for p in (ROOT / "compiler" / "anchors").iterdir() if p.is_file()}
    assert {"t2m/compiler/anchors/cmsis-nn-m4.md", "t2m/compiler/anchors/mlperf-tiny.md"} <= anchors <= names
