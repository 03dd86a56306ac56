"""report.html reads at a glance: formatted numbers, the per-layer table t2m-run prints, budgets, builds side by
side; and, rendered by a real browser (headless Chromium), a page that fits, with every chart loaded."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from t2m.compiler.cli.compile_main import main as compile_main
from t2m.compiler.report import _charts, cycles_text, kb_text, layer_table, side_by_side  # pyright: ignore[reportPrivateUsage]

CONV = (
    "{stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64, "
    "act_min = 0.0 : f32}"
)
POOL = (
    "{kernel = array<i64: 8, 8>, stride = array<i64: 8, 8>, padding = array<i64: 0, 0, 0, 0>, "
    "count_include_pad = true}"
)
TINY_CNN = f"""func.func @tiny(%x: tensor<1x2x8x8xf32>) -> tensor<1x4xf32> {{
  %w = nn.constant dense<0.125> : tensor<4x2x3x3xf32>
  %c = nn.conv2d %x, %w {CONV} : (tensor<1x2x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x8x8xf32>
  %p = nn.avg_pool2d %c {POOL} : (tensor<1x4x8x8xf32>) -> tensor<1x4x1x1xf32>
  %r = nn.reshape %p : (tensor<1x4x1x1xf32>) -> tensor<1x4xf32>
  func.return %r : tensor<1x4xf32>
}}
"""


def test_numbers_are_formatted_for_people() -> None:
    assert [cycles_text(n) for n in (812, 12_345, 2_345_678, 1_000_000)] == ["812", "12.3k", "2.35M", "1M"]
    assert [kb_text(n) for n in (312, 16_000, 65_536, 1 << 20)] == ["0.305 KB", "15.6 KB", "64 KB", "1024 KB"]


def _report() -> dict:
    layer = {"symbol": "m_L00_conv2d", "op": "conv2d", "macs": 1000, "estimated_cycles": 4000, "live_bytes": 2048}
    return {
        "name": "m",
        "dtype": "float32",
        "macs": 1000,
        "estimated_cycles": 5000,
        "flash": {"code": 100, "weights": 200},
        "ram": {"arena": 2048, "peak_live": 2048, "stack": 64},
        "layers": [
            layer | {"share": 0.8, "macs_per_cycle": 0.25},
            {"symbol": "m_L01_relu", "op": "relu", "macs": 0, "estimated_cycles": 1000, "live_bytes": 1024,
             "share": 0.2, "macs_per_cycle": 0.0},
        ],
    }


def test_layer_table_has_share_and_mac_per_cycle_aligned_with_their_headers() -> None:
    table = layer_table(_report())
    assert table.startswith(
        "<table><tr><th class=text>layer</th><th class=text>op</th><th class=text>kernel variant</th><th>MACs</th>"
        "<th>est. cycles</th>"
        "<th>MAC/cycle</th><th>share</th><th>live activation bytes</th></tr>"
    )
    assert (
        "<tr><td class=text>m_L00_conv2d</td><td class=text>conv2d</td><td class=text>-</td><td>1,000</td>"
        "<td>4,000</td>"
        "<td>0.250</td>"
        "<td>80.0%</td><td>2,048</td></tr>" in table
    )
    assert "<td>0</td><td>1,000</td><td>-</td><td>20.0%</td>" in table  # no MACs: no MAC/cycle
    assert (
        "<tr class=total><td class=text>total</td><td class=text></td><td class=text></td><td>1,000</td><td>5,000</td>"
        "<td>0.200</td>"
        "<td>100%</td><td>2,048</td></tr>" in table
    )


def test_builds_side_by_side() -> None:
    fp32 = _report()
    int8 = _report() | {"name": "m8", "dtype": "int8", "estimated_cycles": 2500}
    table = side_by_side([fp32, int8])
    assert "<th>m (float32)</th><th>m8 (int8)</th>" in table
    assert "<td class=text>estimated cycles</td><td>5,000</td><td>2,500</td>" in table


def test_charts_say_what_they_show() -> None:
    """The three SVG charts: each layer by name with its cycles and share, the arena against the live bytes, and
    every flash and RAM segment (the 64 B stack a sliver) with its size, against the budgets."""
    data = _report() | {"budget": {"flash": 1 << 20, "ram": 640 << 10}}
    charts = dict(_charts(data))
    assert list(charts) == ["Flash and RAM against the budgets", "Cycles per layer", "Activation memory over time"]
    for svg in charts.values():
        assert svg.startswith("<svg xmlns=\"http://www.w3.org/2000/svg\"") and svg.endswith("</svg>")
    cycles = charts["Cycles per layer"]
    assert [cycles.index(t) < cycles.index("01_relu") for t in (">00_conv2d<", ">4k (80.0%)<")] == [True, True]
    assert ">1k (20.0%)<" in cycles and ">estimated Cortex-M4 cycles<" in cycles
    assert [t in cycles for t in (">0<", ">1k<", ">5k<", ">6k<")] == [True, True, True, False]  # to 1.25 x the max
    live = charts["Activation memory over time"]
    assert ">arena (static, allocated): 2 KB<" in live and "<title>01_relu: 1 KB</title>" in live
    memory = charts["Flash and RAM against the budgets"]
    for text in ("code: 0.0977 KB", "weights: 0.195 KB", "budget: 1024 KB", "activations: 2 KB", "stack: 0.0625 KB",
                 "budget: 640 KB"):
        assert memory.count(f">{text}<") == (1 if text.startswith("budget") else 2), text  # legend (+ tooltip)
    assert 'width="3.1"' in memory  # the stack: 64 B of a 672 KB axis, drawn 0.6% of 520 px wide, to be seen


def _compile(folder: Path, *extra: str) -> None:
    assert compile_main([str(folder / "tiny.mlir"), "-o", str(folder / "out"), *extra]) == 0


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    (folder / "tiny.mlir").write_text(TINY_CNN)
    _compile(folder)
    return folder


def test_reports_are_named_after_the_model(compiled: Path) -> None:
    (compiled / "other.mlir").write_text(TINY_CNN.replace("@tiny", "@other"))
    assert compile_main([str(compiled / "other.mlir"), "-o", str(compiled / "out")]) == 0
    names = sorted(p.name for p in (compiled / "out").iterdir() if "report" in p.name)
    assert names == ["other.report.html", "other.report.json", "tiny.report.html", "tiny.report.json"]
    tiny = json.loads((compiled / "out" / "tiny.report.json").read_text())
    assert tiny["name"] == "tiny" and tiny["budget"] == {"flash": 1 << 20, "ram": 640 << 10}  # cortex-m4: the STM32L4R5
    assert [row["op"] for row in tiny["layers"]] == ["conv2d", "avg_pool2d"]
    assert sum(row["share"] for row in tiny["layers"]) == pytest.approx(1, abs=0.01)
    html = (compiled / "out" / "tiny.report.html").read_text()
    assert "Budgets: flash 1024 KB, RAM 640 KB." in html
    assert "Builds of this model side by side" not in html  # other.mlir is another model, not another build


CHECK = """<script>
window.addEventListener("load", () => {
  const root = document.documentElement, images = [...document.images];
  const table = document.querySelector("table:last-of-type");
  const aligned = table ? [...table.rows[0].cells].map((th, i) =>
      getComputedStyle(th).textAlign === getComputedStyle(table.rows[1].cells[i]).textAlign) : [];
  document.body.dataset.check = JSON.stringify({
    overflow: root.scrollWidth - root.clientWidth,
    images: images.length,
    loaded: images.filter((img) => img.complete && img.naturalWidth > 0).length,
    wider: images.filter((img) => img.getBoundingClientRect().right > root.clientWidth).length,
    tables: document.querySelectorAll("table").length,
    misaligned: aligned.filter((ok) => !ok).length,
  });
});
</script>"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("headless Chromium is not installed: apt-get install -y chromium (as .ci/run does)")


@pytest.mark.parametrize("width", [1280, 800])
def test_report_renders_in_a_browser(compiled: Path, tmp_path: Path, width: int) -> None:
    browser = _chromium()
    page = tmp_path / "page.html"
    page.write_text((compiled / "out" / "tiny.report.html").read_text().replace("</body>", CHECK + "</body>"))
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         f"--window-size={width},900", "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    found = re.search(r'data-check="([^"]*)"', dom)
    assert found, dom[:500]
    check = json.loads(found.group(1).replace("&quot;", '"'))
    assert check == {"overflow": 0, "images": 3, "loaded": 3, "wider": 0, "tables": 1, "misaligned": 0}
