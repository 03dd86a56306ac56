"""`<name>.report.json` and `<name>.report.html` of `t2m-compile`: flash and RAM against the part's budgets,
cycles per layer, activation memory over time; an int8 build and an fp32 build of the same model side by side.

The HTML file stands alone (charts embedded as SVG images, written here: no plotting library) so it can be attached
to a ticket or opened from a CI artifact.
Charts are drawn to be read at a glance: cycles in k/M, memory in KB, layer names horizontal, legends beside the
plot rather than over it, every segment of a stacked bar labelled with its size even when it is a sliver.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Callable, Sequence
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


# --- charts: hand-written SVG (no plotting library to import: the report is written by every t2m-compile) ---------

_CHAR = 0.6 * (_FONT + 3)  # the width of a character of the chart's font, in pixels (sans-serif averages 0.6 em)
_ROW = 22  # pixels per bar
_PLOT = 520  # the plot's width in pixels


def _text_width(text: str) -> float:
    return len(text) * _CHAR


def _ticks(right: float) -> list[float]:
    """Round tick values from 0 to `right` (steps of 1, 2 or 5 times a power of ten; about five ticks)."""
    if right <= 0:
        return [0.0]
    raw = right / 5
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(int(right / step + 1e-9) + 1)]


def _svg(width: float, height: float, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="{_FONT + 3}">'
            f'<rect width="100%" height="100%" fill="white"/>{"".join(body)}</svg>')


def _label(x: float, y: float, text: str, anchor: str = "start", size: int = _FONT + 3, weight: str = "normal"
           ) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" font-weight="{weight}" '
            f'dominant-baseline="middle">{html.escape(text)}</text>')


def _rect(x: float, y: float, w: float, h: float, color: str, title: str) -> str:
    """A bar; its tooltip (`title`) says what it is, as a chart's hover would."""
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" fill="{color}" '
            f'stroke="white" stroke-width="0.5"><title>{html.escape(title)}</title></rect>')


def _vline(x: float, top: float, bottom: float, color: str) -> str:
    return (f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="{color}" stroke-width="1.5" '
            'stroke-dasharray="6 3"/>')


def _axis(left: float, top: float, bottom: float, right: float, tick_text: Callable[[float], str]) -> list[str]:
    """The x axis under a plot spanning [0, right] over `_PLOT` pixels from `left`: ticks, their labels, a frame."""
    out = [f'<rect x="{left:.1f}" y="{top:.1f}" width="{_PLOT}" height="{bottom - top:.1f}" fill="none" '
           'stroke="#888"/>']
    for tick in _ticks(right):
        x = left + _PLOT * tick / right
        out.append(f'<line x1="{x:.1f}" y1="{bottom:.1f}" x2="{x:.1f}" y2="{bottom + 4:.1f}" stroke="#888"/>')
        out.append(_label(x, bottom + 12, tick_text(tick), "middle", _FONT + 2))
    return out


def _legend(x: float, y: float, entries: Sequence[tuple[str, str, bool]]) -> list[str]:
    """Legend entries (color, text, dashed line rather than a patch) stacked from (x, y), beside the plot."""
    out = []
    for i, (color, text, dashed) in enumerate(entries):
        cy = y + 9 + 18 * i
        if dashed:
            out.append(f'<line x1="{x:.1f}" y1="{cy:.1f}" x2="{x + 16:.1f}" y2="{cy:.1f}" stroke="{color}" '
                       'stroke-width="1.5" stroke-dasharray="6 3"/>')
        else:
            out.append(f'<rect x="{x:.1f}" y="{cy - 5:.1f}" width="16" height="10" fill="{color}"/>')
        out.append(_label(x + 22, cy, text, size=_FONT + 2))
    return out


def _legend_width(entries: Sequence[tuple[str, str, bool]]) -> float:
    return max((22 + _text_width(text) for _, text, _ in entries), default=0) + 10


def _layer_bars(data: dict[str, Any], title: str, values: list[float], labels: list[str], right: float,
                tick_text: Callable[[float], str], xlabel: str = "", line: tuple[float, str] | None = None) -> str:
    """One horizontal bar per layer, the first at the top, each labelled at its end; optionally a dashed
    vertical line (the arena) named in a legend beside the plot."""
    names = _layer_names(data)
    left = 10 + max((_text_width(n) for n in names), default=0) + 6
    top = 30
    bottom = top + _ROW * max(len(names), 1)
    legend = [(_COLORS["arena"], "live activations", False), (_COLORS["budget"], line[1], True)] if line else []
    width = left + _PLOT + (_legend_width(legend) + 10 if legend else 20)
    body = [_label(width / 2, 14, title, "middle", _FONT + 4)]
    color = _COLORS["arena"] if line else _COLORS["code"]
    for i, (name, value, text) in enumerate(zip(names, values, labels, strict=True)):
        y = top + _ROW * i
        w = _PLOT * value / right
        body.append(_label(left - 6, y + _ROW / 2, name, "end"))
        body.append(_rect(left, y + 3, w, _ROW - 6, color, f"{name}: {text or tick_text(value)}"))
        if text:
            body.append(_label(left + w + 4, y + _ROW / 2, text, size=_FONT + 2))
    body += _axis(left, top, bottom, right, tick_text)
    if line:
        body.append(_vline(left + _PLOT * line[0] / right, top, bottom, _COLORS["budget"]))
        body += _legend(left + _PLOT + 10, top, legend)
    height = bottom + 24
    if xlabel:
        body.append(_label(left + _PLOT / 2, bottom + 30, xlabel, "middle"))
        height += 16
    return _svg(width, height, body)


def _cycles_chart(data: dict[str, Any]) -> str:
    layers = data["layers"]
    cycles = [row["estimated_cycles"] for row in layers]
    labels = [f"{cycles_text(c)} ({100 * r['share']:.1f}%)" for c, r in zip(cycles, layers, strict=True)]
    right = max(cycles, default=1) * 1.25 or 1  # room for the labels at the end of the bars
    return _layer_bars(data, "cycles per layer (estimated), share of the model", cycles, labels, right, cycles_text,
                       "estimated Cortex-M4 cycles")


def _activation_chart(data: dict[str, Any]) -> str:
    live = [row["live_bytes"] / 1024 for row in data["layers"]]  # in KB, so that the ticks fall on round KB
    arena = data["ram"]["arena"] / 1024
    right = max([*live, arena], default=1) * 1.1 or 1
    return _layer_bars(data, "activation memory while each layer runs (first layer at the top)", live,
                       ["" for _ in live], right, lambda x: f"{x:g} KB",
                       line=(arena, f"arena (static, allocated): {arena:.3g} KB"))


def _memory_chart(data: dict[str, Any]) -> str:
    """Flash and RAM as stacked bars against the part's budgets; each segment says its size (legend and tooltip)."""
    budget = data.get("budget", {})
    flash = [("code", data["flash"]["code"]), ("weights", data["flash"]["weights"])]
    ram = [("arena", data["ram"]["arena"]), ("stack", data["ram"].get("stack", 0))]
    kb = 1024  # plotted in KB, so that the ticks fall on round KB
    panels = (("flash", flash, budget.get("flash")), ("RAM", ram, budget.get("ram")))
    legends = []
    for _, segments, limit in panels:
        entries = [(_COLORS["stack" if label == "stack" else label],
                    f"{'activations' if label == 'arena' else label}: {kb_text(size)}", False)
                   for label, size in segments]
        legends.append(entries + ([(_COLORS["budget"], f"budget: {kb_text(limit)}", True)] if limit else []))
    left = 10 + _text_width("flash") + 6
    width = left + _PLOT + 10 + max(_legend_width(e) for e in legends)
    panel = 100
    body: list[str] = []
    for i, ((title, segments, limit), legend) in enumerate(zip(panels, legends, strict=True)):
        top = 10 + panel * i
        bottom = top + 56
        right = max(sum(size for _, size in segments) / kb, (limit or 0) / kb) * 1.05 or 1
        x = left
        body.append(_label(left - 6, (top + bottom) / 2, title, "end"))
        for (_, size), (color, text, _) in zip(segments, legend, strict=False):  # the legend may add the budget
            # a segment narrower than 0.6% of the axis is drawn that wide, so it can be seen; its label is exact
            shown = max(size / kb, right * 0.006) if size else 0
            body.append(_rect(x, top + 8, _PLOT * shown / right, bottom - top - 16, color, text))
            x += _PLOT * shown / right
        body += _axis(left, top, bottom, right, lambda v: f"{v:g} KB")
        if limit:
            body.append(_vline(left + _PLOT * limit / kb / right, top, bottom, _COLORS["budget"]))
        body += _legend(left + _PLOT + 10, top, legend)
    return _svg(width, 10 + panel * 2, body)


def _charts(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(title, SVG) of each chart, in page order."""
    charts = [("Flash and RAM against the budgets", _memory_chart(data))]
    if "estimated_cycles" in data:
        charts.append(("Cycles per layer", _cycles_chart(data)))
    charts.append(("Activation memory over time", _activation_chart(data)))
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
        f"<h2>{esc(title)}</h2><img alt='{esc(title)}' "
        f"src='data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}'>"
        for title, svg in _charts(data)
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
