"""`<name>.report.json` and `<name>.report.html` of `t2m-compile`: flash and RAM against the part's budgets,
cycles per layer, activation memory over time; an int8 build and an fp32 build of the same model side by side.

The HTML file stands alone (charts embedded as PNG) so it can be attached to a ticket or opened from a CI artifact.
Charts are drawn to be read at a glance: cycles in k/M, memory in KB, layer names horizontal, legends beside the
plot rather than over it, every segment of a stacked bar labelled with its size even when it is a sliver.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

from t2m.compiler.compile import CompileResult


def report_data(result: CompileResult, source: str, options: Any) -> dict[str, Any]:
    """The report of a compiled object (and of its emulator run, when there was one)."""
    info, run = result.info, result.run
    assert info is not None, "report_data needs a compiled object"
    data: dict[str, Any] = {
        "model": source,
        "name": info.name,
        "target": options.target,
        "opt": options.opt,
        "macs": info.macs,
        "dtype": info.dtype,
        "flash": {"code": result.sizes.get("text", 0), "weights": result.sizes.get("rodata", 0)},
        "ram": {"arena": info.arena_bytes, "peak_live": max(info.live_bytes, default=0)},
        "sections": result.sizes,
        "budget": {"flash": options.flash_size, "ram": ram_budget(options)},
        "compile_seconds": {k: round(v, 3) for k, v in result.seconds.items()},
        "layers": [
            vars(layer) | {"live_bytes": live} for layer, live in zip(info.layers, info.live_bytes, strict=False)
        ],
    }
    if info.dtype == "int8":  # how the caller converts: real = scale * (q - zero_point)
        data["quant"] = {
            "inputs": [{"scale": s, "zero_point": z} for s, z in info.input_quant],
            "outputs": [{"scale": s, "zero_point": z} for s, z in info.output_quant],
        }
    if result.tuning:  # --tune: every variant measured (or cached) per tuned layer op, in model order
        data["tuning"] = [
            {"op": c.op, "layer": c.layer, "variant": c.variant, "cached": c.cached,
             "trials": [vars(t) for t in c.trials]}
            for c in result.tuning
        ]
    if run is not None:
        data["ram"]["stack"] = run.result.stack_bytes
        data["estimated_cycles"] = run.cycles
        data["instructions"] = run.result.instructions
        for row, cost in zip(data["layers"], run.layers, strict=True):
            row["estimated_cycles"] = cost.cycles
            row["share"] = round(cost.cycles / run.cycles, 4) if run.cycles else 0.0
            row["macs_per_cycle"] = round(cost.macs_per_cycle, 3)
    return data


def ram_budget(options: Any) -> int | None:
    """The RAM the model may use: `--ram-size`, else the target part's SRAM (None on the host: no budget line)."""
    from t2m.compiler.compile import ram_limit

    limit = ram_limit(options)
    return None if limit is None else limit[0]


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def cycles_text(n: float) -> str:
    """12,345 -> 12.3k; 2,345,678 -> 2.35M (axis ticks and labels)."""
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:.0f}"


def kb_text(n: float) -> str:
    """Bytes as KB (1 KB = 1024 B) with as many digits as help: 312 B -> 0.305 KB, 65536 -> 64 KB."""
    kb = n / 1024
    return f"{kb:.0f} KB" if kb >= 100 else f"{kb:.3g} KB"


_FONT = 9
_COLORS = {"code": "#4477aa", "weights": "#ddaa33", "arena": "#228833", "stack": "#aa3377", "budget": "#cc3311"}


def _layer_names(data: dict[str, Any]) -> list[str]:
    return [f"{row['symbol'].split('_L', 1)[-1]}" for row in data["layers"]]


def _cycles_chart(data: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    layers = data["layers"]
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(layers) + 1.2))
    cycles = [row["estimated_cycles"] for row in layers]
    bars = ax.barh(_layer_names(data)[::-1], cycles[::-1], color=_COLORS["code"])
    labels = [f"{cycles_text(c)} ({100 * r['share']:.1f}%)" for c, r in zip(cycles, layers, strict=True)]
    ax.bar_label(bars, labels[::-1], padding=3, fontsize=_FONT - 1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: cycles_text(x)))
    ax.set_xlim(0, max(cycles, default=1) * 1.25)  # room for the labels at the end of the bars
    ax.set_xlabel("estimated Cortex-M4 cycles", fontsize=_FONT)
    ax.tick_params(labelsize=_FONT)
    ax.set_title("cycles per layer (estimated), share of the model", fontsize=_FONT + 1)
    return fig


def _activation_chart(data: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    layers = data["layers"]
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(layers) + 1.2))
    live = [row["live_bytes"] / 1024 for row in layers]  # plotted in KB, so that the ticks fall on round KB
    arena = data["ram"]["arena"] / 1024
    ax.barh(_layer_names(data)[::-1], live[::-1], color=_COLORS["arena"], label="live activations")
    ax.axvline(arena, color=_COLORS["budget"], linestyle="--", label=f"arena (static, allocated): {arena:.3g} KB")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g} KB"))
    ax.set_xlim(0, max([*live, arena], default=1) * 1.1 or 1)
    ax.tick_params(labelsize=_FONT)
    ax.set_title("activation memory while each layer runs (first layer at the top)", fontsize=_FONT + 1)
    ax.legend(fontsize=_FONT, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def _memory_chart(data: dict[str, Any]) -> Any:
    """Flash and RAM as stacked bars against the part's budgets; each segment says its size."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    budget = data.get("budget", {})
    flash = [("code", data["flash"]["code"]), ("weights", data["flash"]["weights"])]
    ram = [("arena", data["ram"]["arena"]), ("stack", data["ram"].get("stack", 0))]
    kb = 1024  # plotted in KB, so that the ticks fall on round KB
    fig, axes = plt.subplots(2, 1, figsize=(8, 2.6))
    for ax, title, segments, limit in ((axes[0], "flash", flash, budget.get("flash")),
                                       (axes[1], "RAM", ram, budget.get("ram"))):
        total = sum(size for _, size in segments) / kb
        right = max(total, (limit or 0) / kb) * 1.05 or 1
        left = 0.0
        for label, size in segments:
            # a segment narrower than 0.6% of the axis is drawn that wide, so it can be seen; its label is exact
            shown = max(size / kb, right * 0.006) if size else 0
            ax.barh([title], [shown], left=[left], color=_COLORS["stack" if label == "stack" else label],
                    edgecolor="white", label=f"{'activations' if label == 'arena' else label}: {kb_text(size)}")
            left += shown
        if limit:
            ax.axvline(limit / kb, color=_COLORS["budget"], linestyle="--", label=f"budget: {kb_text(limit)}")
        ax.set_xlim(0, right)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g} KB"))
        ax.tick_params(labelsize=_FONT)
        ax.legend(fontsize=_FONT, loc="upper left", bbox_to_anchor=(1.01, 1.1), frameon=False)
    fig.tight_layout()
    return fig


def _charts(data: dict[str, Any]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = [("Flash and RAM against the budgets", _memory_chart(data))]
    if "estimated_cycles" in data:
        figures.append(("Cycles per layer", _cycles_chart(data)))
    figures.append(("Activation memory over time", _activation_chart(data)))
    charts = []
    for title, fig in figures:
        charts.append((title, _png(fig)))
        plt.close(fig)
    return charts


_STYLE = """body{font-family:sans-serif;max-width:62em;margin:2em auto;padding:0 1em}
img{max-width:100%;height:auto}
table{border-collapse:collapse;margin:1em 0}
th,td{padding:3px 10px;text-align:right;font-variant-numeric:tabular-nums}
th{border-bottom:1px solid #888;vertical-align:bottom}
th.text,td.text{text-align:left}
tr:nth-child(even) td{background:#f4f4f4}
tr.total td{border-top:1px solid #888;font-weight:bold}"""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int = 1, total: bool = False) -> str:
    """An HTML table whose header cells align like their columns (text left, numbers right)."""
    esc = html.escape

    def cells(tag: str, values: Sequence[str]) -> str:
        return "".join(
            f"<{tag}{' class=text' if i < text_columns else ''}>{esc(v)}</{tag}>" for i, v in enumerate(values)
        )

    body = [f"<tr>{cells('td', row)}</tr>" for row in rows]
    if total and body:
        body[-1] = body[-1].replace("<tr>", "<tr class=total>", 1)
    return f"<table><tr>{cells('th', header)}</tr>{''.join(body)}</table>"


def layer_table(data: dict[str, Any]) -> str:
    """Per-layer MACs, cycles, share and MAC/cycle (as t2m-run prints them), and the live activation bytes."""
    rows = []
    for r in data["layers"]:
        cycles = r.get("estimated_cycles")
        rows.append([
            r["symbol"],
            r["op"],
            r.get("variant") or "-",
            f"{r['macs']:,}",
            f"{cycles:,}" if cycles is not None else "-",
            f"{r['macs_per_cycle']:.3f}" if cycles and r["macs"] else "-",
            f"{100 * r['share']:.1f}%" if cycles is not None else "-",
            f"{r['live_bytes']:,}",
        ])
    if "estimated_cycles" in data:
        total = data["estimated_cycles"]
        mpc = f"{data['macs'] / total:.3f}" if total else "-"
        rows.append(["total", "", "", f"{data['macs']:,}", f"{total:,}", mpc, "100%", f"{data['ram']['peak_live']:,}"])
    header = ["layer", "op", "kernel variant", "MACs", "est. cycles", "MAC/cycle", "share", "live activation bytes"]
    return _table(header, rows, text_columns=3, total="estimated_cycles" in data)


def side_by_side(reports: Sequence[dict[str, Any]]) -> str:
    """The builds of one model (fp32 and int8) in columns: flash, RAM, cycles."""
    def get(data: dict[str, Any], *keys: str) -> int | None:
        value: Any = data
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    lines = [
        ("flash: code (B)", ("flash", "code")),
        ("flash: weights (B)", ("flash", "weights")),
        ("RAM: activations (B)", ("ram", "arena")),
        ("RAM: stack (B)", ("ram", "stack")),
        ("estimated cycles", ("estimated_cycles",)),
    ]
    header = ["", *(f"{d['name']} ({d.get('dtype', 'float32')})" for d in reports)]
    rows = [[label, *(f"{v:,}" if (v := get(d, *keys)) is not None else "-" for d in reports)]
            for label, keys in lines]
    return _table(header, rows)


def render_html(data: dict[str, Any], others: Sequence[dict[str, Any]] = ()) -> str:
    """The report page; `others`: reports of other builds of the same model (int8 beside fp32), shown in columns."""
    esc = html.escape
    trials = [
        [c["layer"], t["variant"] + (" (chosen)" if t["variant"] == c["variant"] else ""), f"{t['cycles']:,}",
         f"{t['text']:,}"]
        for c in data.get("tuning", [])
        for t in c["trials"]
    ]
    tuning = (
        "<h2>Tuning (--tune)</h2><p>Each variant of a layer compiled alone and run on the emulator; the fewest "
        "estimated cycles within the code budget is chosen.</p>"
        + _table(["layer", "variant", "est. cycles", "code bytes"], trials, text_columns=2)
        if trials else ""
    )
    charts = "".join(
        f"<h2>{esc(title)}</h2><img alt='{esc(title)}' src='data:image/png;base64,{png}'>"
        for title, png in _charts(data)
    )
    cycles = f"{data['estimated_cycles']:,} estimated cycles, " if "estimated_cycles" in data else ""
    budget = data.get("budget", {})
    budgets = ""
    if budget.get("flash") or budget.get("ram"):
        budgets = (f" Budgets: flash {kb_text(budget['flash'])}" if budget.get("flash") else " Budgets:") + (
            f", RAM {kb_text(budget['ram'])}." if budget.get("ram") else ".")
    builds = ""
    if others:
        builds = "<h2>Builds of this model side by side</h2>" + side_by_side(
            sorted([data, *others], key=lambda d: d.get("dtype") != "float32"))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>t2m report: {esc(data["name"])}</title>
<style>{_STYLE}</style>
</head><body>
<h1>{esc(data["name"])} ({esc(data.get("dtype", "float32"))}) on {esc(data["target"])}</h1>
<p>From <code>{esc(data["model"])}</code>, -{esc(data["opt"].lstrip("-"))}: {cycles}{data["macs"]:,} MACs;
flash {data["flash"]["code"]:,} B code + {data["flash"]["weights"]:,} B weights;
RAM {data["ram"]["arena"]:,} B activations (peak live {data["ram"]["peak_live"]:,} B),
stack {data["ram"].get("stack", 0):,} B.{budgets}
Cycles are estimates from the Cortex-M4 TRM timing table (zero-wait-state memory).</p>
{builds}
<h2>Layers</h2>
{layer_table(data)}
{tuning}
{charts}
</body></html>
"""
