"""`--tune` (compiler/tune.py): variants measured on the emulator, the cheapest pinned, choices cached per shape.

The layers are real: a 2x2/2 max pool, whose SIMD kernels and scalar loop differ threefold in cycles, and a
global average pool. Cache hits are checked by the tuner's compile counter, never by time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from qnn_models import Builder, Case, module_of
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue

from t2m.compiler.cli.compile_main import main as compile_main
from t2m.compiler.compile import CompileOptions, compile_module
from t2m.compiler.errors import T2MError
from t2m.compiler.ir import module_to_text
from t2m.compiler.tune import CODE_BUDGET, Trial, TuneCache, Tuner, default_cache_path, layer_module
from t2m.dialects import qnn
from t2m.passes import _variants, lower_qnn_pool
from t2m.passes._variants import chosen, pin


def _model(name: str = "pools") -> ModuleOp:
    def pools(b: Builder, xs: list[SSAValue]) -> list[SSAValue]:
        return [b.op(qnn.MaxPool2dOp(xs[0], (2, 2), (2, 2), (0, 0, 0, 0))),
                b.op(qnn.AvgPool2dOp(xs[1], (25, 5), (1, 1), (0, 0, 0, 0), False, 0))]

    return module_of([Case("pools", [((1, 16, 32, 32), (0.05, 0)), ((1, 64, 25, 5), (0.05, 0))], pools,
                           [(0.05, 0), (0.05, 0)])], name)


def _ops(module: ModuleOp) -> list[qnn.Pool2dOp]:
    return [op for op in module.walk() if isinstance(op, qnn.Pool2dOp)]


def test_the_tuner_pins_the_variant_with_the_fewest_measured_cycles(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """With the scalar loop listed as the default, measurement still picks the SIMD kernel: it is the cheaper."""
    lister = lambda op: ["scalar", "simd2"] if isinstance(op, qnn.MaxPool2dOp) else []  # noqa: E731
    monkeypatch.setitem(_variants._LISTERS, "qnn.max_pool2d", lister)  # pyright: ignore[reportPrivateUsage]
    monkeypatch.setitem(_variants._LISTERS, "qnn.avg_pool2d", lister)  # pyright: ignore[reportPrivateUsage]
    module = _model()
    tuner = Tuner(TuneCache(tmp_path / "tune.json"))
    (choice,) = tuner.tune(module)
    scalar, simd = choice.trials
    assert (scalar.variant, simd.variant) == ("scalar", "simd2")
    assert simd.cycles * 2 < scalar.cycles  # SSUB8 + SEL on four lanes against one compare per byte
    assert choice.variant == "simd2" and chosen(_ops(module)[0]) == "simd2"
    assert chosen(_ops(module)[1]) is None  # nothing to choose: not measured, not pinned
    assert tuner.compiles == 2


def test_a_variant_beyond_the_code_budget_is_not_chosen() -> None:
    tuner = Tuner(None)
    trials = [Trial("small", 1000, 500), Trial("huge", 10, 500 + CODE_BUDGET + 1), Trial("big", 900, 4000),
              Trial("table", 800, 400, CODE_BUDGET + 101)]  # constants count too
    assert tuner.pick(trials) == "big"
    assert tuner.pick([Trial("a", 5, 100), Trial("b", 5, 100)]) == "a"  # a tie keeps the default


def test_a_cached_choice_compiles_nothing(tmp_path: Path) -> None:
    cache_file = tmp_path / "tune.json"
    first = Tuner(TuneCache(cache_file))
    choices = first.tune(_model())
    assert first.compiles == 5  # max pool: simd2, simd4, scalar; average pool: simd, scalar
    assert [c.variant for c in choices] == ["simd2", "simd"] and not any(c.cached for c in choices)
    data = json.loads(cache_file.read_text())
    assert data["format"] == "t2m-tune/2" and len(data["layers"]) == 2

    again = Tuner(TuneCache(cache_file))
    module = _model("other_name")  # the same shapes in another model
    cached = again.tune(module)
    assert again.compiles == 0
    assert [(c.variant, c.cached) for c in cached] == [("simd2", True), ("simd", True)]
    assert [c.trials for c in cached] == [c.trials for c in choices]
    assert [chosen(op) for op in _ops(module)] == ["simd2", "simd"]

    other_level = Tuner(TuneCache(cache_file), opt="Os")  # a signature includes the optimisation level
    other_level.tune(_model())
    assert other_level.compiles == 5


def test_a_pin_by_hand_is_kept(tmp_path: Path) -> None:
    module = _model()
    pin(_ops(module)[0], "scalar")
    tuner = Tuner(TuneCache(tmp_path / "tune.json"))
    assert [c.op for c in tuner.tune(module)] == ["qnn.avg_pool2d"]
    assert chosen(_ops(module)[0]) == "scalar" and tuner.compiles == 2


def test_compile_with_tune_reports_the_variants_and_rebuilds_from_the_cache(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    options = CompileOptions(run=False, tune=True, tune_cache=str(tmp_path / "tune.json"))
    result = compile_module(_model(), "pools", options)
    assert result.info is not None
    assert [layer.variant for layer in result.info.layers] == ["simd2", "simd"]
    assert [c.variant for c in result.tuning] == ["simd2", "simd"] and "tune" in result.seconds

    def no_compiling(*_: object) -> None:
        raise AssertionError("a cache hit compiled a layer")

    monkeypatch.setattr(Tuner, "measure", no_compiling)
    rebuilt = compile_module(_model(), "pools", options)
    assert all(c.cached for c in rebuilt.tuning) and rebuilt.obj == result.obj


def test_without_tune_nothing_is_measured_and_defaults_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Tuner, "measure", lambda *_: pytest.fail("measured without --tune"))
    result = compile_module(_model(), "pools", CompileOptions(run=False))
    assert result.info is not None and not result.tuning
    assert [layer.variant for layer in result.info.layers] == ["simd2", "simd"]


def test_the_default_cache_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_path() == tmp_path / "t2m" / "tune.json"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_path() == tmp_path / "home" / ".cache" / "t2m" / "tune.json"


def test_the_single_layer_model_keeps_the_op_and_its_variant() -> None:
    op = _ops(_model())[1]
    text = module_to_text(layer_module(op, "scalar"))
    assert 'qnn.avg_pool2d' in text and 't2m.variant = "scalar"' in text and "func.func @tune(" in text


def test_a_broken_cache_is_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "tune.json"
    bad.write_text("{not json")
    with pytest.raises(T2MError, match=r"^the tuning cache is unreadable \(JSONDecodeError\), at .*tune.json; "
                                       r"delete it or pass another file with --tune-cache$"):
        TuneCache(bad)
    bad.write_text('{"format": "something else", "layers": {}}')
    with pytest.raises(T2MError, match="is not a t2m-tune/2 file"):
        TuneCache(bad)
    with pytest.raises(T2MError, match="not a regular file"):
        TuneCache(tmp_path)


def test_an_unknown_pinned_variant_is_one_line_error() -> None:
    module = _model()
    pin(_ops(module)[0], "simd8")
    with pytest.raises(T2MError, match="'qnn.max_pool2d' has no kernel variant 'simd8'; it takes simd2, simd4, scalar"):
        compile_module(module, "pools", CompileOptions(run=False))


def test_cli_tune_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "pools.mlir"
    source.write_text(module_to_text(_model()))
    out = tmp_path / "out"
    assert compile_main([str(source), "-o", str(out), "--tune-cache", str(tmp_path / "c.json")]) == 1
    assert capsys.readouterr().err == (
        "t2m-compile: error: --tune-cache without --tune, at the command line; add --tune, or drop --tune-cache\n")
    assert compile_main([str(source), "-o", str(out), "--tune", "--target", "host"]) == 1
    assert "--tune measures on the emulated Cortex-M4, not on 'host'" in capsys.readouterr().err
    assert not out.exists()
    cache = tmp_path / "c.json"
    assert compile_main([str(source), "-o", str(out), "--tune", "--tune-cache", str(cache), "--no-run"]) == 0
    assert "tuned 2 layers" in capsys.readouterr().out
    (report_file,) = out.glob("*.report.json")
    report = json.loads(report_file.read_text())
    assert [layer["variant"] for layer in report["layers"]] == ["simd2", "simd"]
    assert [(t["layer"], t["variant"], [v["variant"] for v in t["trials"]]) for t in report["tuning"]] == [
        ("qnn.max_pool2d (tensor<1x16x32x32xi8>) -> tensor<1x16x16x16xi8>", "simd2", ["simd2", "simd4", "scalar"]),
        ("qnn.avg_pool2d (tensor<1x64x25x5xi8>) -> tensor<1x64x1x1xi8>", "simd", ["simd", "scalar"]),
    ]
    assert "simd2 (chosen)" in report_file.with_name(report_file.name.replace(".json", ".html")).read_text()
    assert lower_qnn_pool  # the pattern module registered the pool variants
