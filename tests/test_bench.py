"""t2m-bench reads its anchors from compiler/anchors (shipped with t2m) at run time and renders a table from one run."""

from __future__ import annotations

from t2m.compiler.bench import find_anchors, read_layer_anchors, read_memory_bounds, read_model_anchors, run_bench


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
    lines: list[str] = []
    table = run_bench(find_anchors(), ["ad"], layers=False, log=lines.append)
    row = next(line for line in table.splitlines() if line.startswith("| ad | 264,192 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    cycles, rel_error = int(cells[2].replace(",", "")), float(cells[-1])
    assert 500_000 < cycles < 5_000_000 and rel_error <= 1e-5
    ratio_row = next(line for line in table.splitlines() if line.startswith("| ad | ") and "×" in line)
    mcycles = float(ratio_row.split("|")[2])
    assert f"{1.206 / mcycles:.2f}×" in ratio_row  # TFLM + CMSIS-NN / t2m, from the anchors file
