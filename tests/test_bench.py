"""t2m-bench reads its anchors from compiler/anchors (shipped with t2m) at run time and renders a table from one run."""

from __future__ import annotations

from t2m.compiler.bench import (
    Int8Layer,
    Int8Model,
    Measurement,
    find_anchors,
    read_layer_anchors,
    read_layer_macs,
    read_memory_bounds,
    read_model_anchors,
    render_dsp,
    run_bench,
)


def test_reads_the_anchor_figures() -> None:
    folder = find_anchors()
    models = read_model_anchors(folder)
    assert set(models) == {"kws", "vww", "ic", "ad"}
    assert (models["kws"].tflm_cmsis, models["kws"].microtvm, models["kws"].best) == (21.83, 11.98, 5.18)
    assert models["vww"].fp32 == 54.09 and models["kws"].fp32 is None
    layers = read_layer_anchors(folder)
    assert layers["KWS depthwise 3×3, stride 1, pad 1: 25×5×64"] == 686_649
    assert layers["fp32 linear 640 → 128"] == 902_406
    assert len(layers) == 12
    assert read_memory_bounds(folder) == {"kws": 16_000, "vww": 55_296, "ic": 49_152, "ad": 768}


def test_bench_one_model_end_to_end() -> None:
    """fp32 and int8 without the --tune search (test_bench_an_int8_pool_layer_end_to_end measures that one)."""
    lines: list[str] = []
    table = run_bench(find_anchors(), ["ad"], layers=False, log=lines.append, tune=False)
    row = next(line for line in table.splitlines() if line.startswith("| ad | 264,192 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    cycles, rel_error = int(cells[2].replace(",", "")), float(cells[-1])
    assert 500_000 < cycles < 5_000_000 and rel_error <= 1e-5
    ratio_row = next(line for line in table.splitlines() if line.startswith("| ad | ") and "×" in line)
    mcycles = float(ratio_row.split("|")[2])
    assert f"{1.206 / mcycles:.2f}×" in ratio_row  # TFLM + CMSIS-NN / t2m, from the anchors file
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()
            if line.startswith("| ad | ")]
    fp32_row, int8_row, dsp_row = (r for r in rows if r[1] == "264,192")
    int8_cycles = int(int8_row[2].replace(",", ""))
    assert int8_row[-1] == "yes" and int8_cycles < cycles  # int8: bit-exact, faster
    assert dsp_row[2:4] == [f"{int8_cycles / 1e6:.2f} ({int8_row[3]})", "not measured (--no-tune)"]
    (compile_row,) = [r for r in rows if len(r) == 10 and r[1] == fp32_row[8]]
    assert compile_row[3:6] == ["not measured (--no-tune)", "not measured (--no-tune)", "-"]
    assert compile_row[6:9] == [fp32_row[4], int8_row[4], "not measured (--no-tune)"]
    code = [int(c.replace(",", "")) for c in compile_row[6:8]]
    assert compile_row[9] == f"{code[1] / code[0]:.2f}×"  # the default int8 build's code against fp32's
    assert not any("--tune" in line for line in lines)  # nothing searched


def _cells(table: str, start: str) -> list[str]:
    row = next(line for line in table.splitlines() if line.startswith(start))
    return [c.strip() for c in row.strip("|").split("|")]


def test_reads_the_anchor_macs() -> None:
    macs = read_layer_macs(find_anchors())
    assert macs["max pool 2×2, stride 2: 32×32×16"] == 16_384 and macs["average pool 25×5 → 1: 25×5×64"] == 8_000
    assert macs["KWS pointwise 1×1: 25×5×64 → 64"] == 512_000 and len(macs) == 10


def _measurement(cycles: int, code: int = 100, seconds: float = 1.0, macs: int = 1000) -> Measurement:
    return Measurement("m", macs, cycles, code, 0, 0, 0, seconds, 0.0)


def test_render_dsp_compares_with_the_goals_and_mlperf() -> None:
    conv = "ResNet-8 conv 3×3, stride 1, pad 1: 32×32×16 → 16"
    layers = [
        Int8Layer(conv, 2_000_000, 1_000_000, _measurement(600_000), _measurement(550_000)),  # 0.55: misses 0.5
        Int8Layer("max pool", 16_384, 200_000, _measurement(30_000), _measurement(28_000)),
    ]
    models = [Int8Model("kws", _measurement(8_000_000, 20_000, 2.0, 2_656_768),
                        _measurement(5_000_000, 21_000, 9.5, 2_656_768), 2.5,
                        _measurement(9_000_000, 27_000, 3.0, 2_656_768))]
    table = render_dsp(models, layers, read_model_anchors(find_anchors()), (3.25, 4.5))
    assert "1-minute load average 3.2 when the measurements started, 4.5 when the models' ended." in table
    cells = _cells(table, f"| {conv} |")
    assert cells[1:9] == ["2,000,000", "1,000,000", "600,000", "0.60×", "550,000", "0.55×", "≤ 0.5×", "no"]
    assert cells[9] == f"{2_000_000 / 550_000:.3f}" and cells[10] == "2.000"
    assert _cells(table, "| max pool |")[6:9] == ["0.14×", "≤ 0.67×", "yes"]
    assert _cells(table, "| kws | 2,656,768 |")[2:] == [
        "8.00 (0.332)", "5.00 (0.531)", "21.83 (0.122)", "11.98 (0.222)", "5.18 (0.513)"]
    assert _cells(table, "| kws | 3.0 |")[1:] == ["3.0", "2.0", "9.5", "2.5", "0", "27,000", "20,000", "21,000",
                                                  "0.78×"]
    assert _cells(table, f"| {conv} | (one kernel) |")[2:] == ["600,000", "100", "0", "yes"]


def test_render_dsp_without_tune_says_what_was_not_measured() -> None:
    """`t2m-bench --no-tune`: the --tune cells say so; goals, bit-exactness and code ratios use the default build."""
    conv = "ResNet-8 conv 3×3, stride 1, pad 1: 32×32×16 → 16"
    layers = [Int8Layer(conv, 2_000_000, 1_000_000, _measurement(450_000, 300), None)]
    models = [Int8Model("kws", _measurement(8_000_000, 20_000, 2.0, 2_656_768), None, None,
                        _measurement(9_000_000, 25_000, 3.0, 2_656_768))]
    table = render_dsp(models, layers, read_model_anchors(find_anchors()))
    assert _cells(table, f"| {conv} | 2,000,000 |")[3:] == [
        "450,000", "0.45×", "not measured (--no-tune)", "-", "≤ 0.5×", "yes", f"{2_000_000 / 450_000:.3f}",
        "2.000", "not measured (--no-tune)", "yes"]
    assert _cells(table, f"| {conv} | not measured")[2:] == ["450,000", "300", "0", "default"]
    assert _cells(table, "| kws | 2,656,768 |")[2:4] == ["8.00 (0.332)", "not measured (--no-tune)"]
    assert _cells(table, "| kws | 3.0 |")[2:] == ["2.0", "not measured (--no-tune)", "not measured (--no-tune)", "-",
                                                  "25,000", "20,000", "not measured (--no-tune)", "0.80×"]


def test_bench_an_int8_pool_layer_end_to_end() -> None:
    """The max pool anchor, default and --tune: its ratio to CMSIS-NN computed from the row's own cycles, and
    each of its variants measured, the fastest chosen."""
    label = "max pool 2×2, stride 2: 32×32×16"
    table = run_bench(find_anchors(), [], layers=True, log=lambda _: None, layer_filter="max pool")
    cells = _cells(table, f"| {label} | 16,384 |")
    cmsis, ours, tuned = (int(cells[i].replace(",", "")) for i in (2, 3, 5))
    assert cmsis == 207_579 and tuned <= ours < 0.67 * cmsis
    assert cells[4] == f"{ours / cmsis:.2f}×" and cells[6] == f"{tuned / cmsis:.2f}×"
    assert cells[8:] == ["yes", f"{16_384 / tuned:.3f}", f"{16_384 / cmsis:.3f}", cells[11], "yes"]
    variants = {c[1]: (int(c[2].replace(",", "")), c[5]) for c in
                ([x.strip() for x in line.strip("|").split("|")] for line in table.splitlines()
                 if line.startswith(f"| {label} | ") and "|---" not in line) if c[1] in ("simd2", "simd4", "scalar")}
    assert set(variants) == {"simd2", "simd4", "scalar"}
    fastest = min(variants, key=lambda v: variants[v][0])
    assert variants[fastest][1] == "yes" and cells[11] == fastest and variants[fastest][0] == tuned
    assert variants["scalar"][0] > 2 * tuned
