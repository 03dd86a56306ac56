"""`report.json` and `report.html` of `t2m-compile`: flash and RAM, cycles per layer, activation memory over time.

The HTML file stands alone (charts embedded as PNG) so it can be attached to a ticket or opened from a CI artifact.
"""

from __future__ import annotations

import base64
import html
import io
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
    return data


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def _charts(data: dict[str, Any]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts = []
    layers = data["layers"]
    names = [row["symbol"].split("_L", 1)[-1] for row in layers]
    if "estimated_cycles" in data:
        fig, ax = plt.subplots(figsize=(8, 0.3 * len(layers) + 1))
        ax.barh(names[::-1], [row["estimated_cycles"] for row in layers][::-1], color="#4477aa")
        ax.set_xlabel("estimated Cortex-M4 cycles")
        ax.set_title("cycles per layer (estimated)")
        charts.append(("Cycles per layer", _png(fig)))
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.step(range(len(layers)), [row["live_bytes"] / 1024 for row in layers], where="mid", label="live activations")
    ax.axhline(data["ram"]["arena"] / 1024, color="#cc6677", linestyle="--", label="allocated (static)")
    ax.set_xticks(range(len(layers)), names, rotation=90, fontsize=7)
    ax.set_ylabel("KiB")
    ax.set_title("activation memory while each layer runs")
    ax.legend()
    charts.append(("Activation memory over time", _png(fig)))
    plt.close(fig)
    fig, (flash, ram) = plt.subplots(1, 2, figsize=(8, 2.2))
    flash.barh(["flash"], [data["flash"]["code"] / 1024], label="code", color="#4477aa")
    flash.barh(
        ["flash"],
        [data["flash"]["weights"] / 1024],
        left=[data["flash"]["code"] / 1024],
        label="weights",
        color="#ddaa33",
    )
    flash.set_xlabel("KiB")
    flash.legend(fontsize=7)
    stack = data["ram"].get("stack", 0) / 1024
    ram.barh(["RAM"], [data["ram"]["arena"] / 1024], label="activations", color="#228833")
    ram.barh(["RAM"], [stack], left=[data["ram"]["arena"] / 1024], label="stack", color="#aa3377")
    ram.set_xlabel("KiB")
    ram.legend(fontsize=7)
    charts.append(("Flash and RAM", _png(fig)))
    plt.close(fig)
    return charts


def render_html(data: dict[str, Any]) -> str:
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(r['symbol'])}</td><td>{esc(r['op'])}</td><td>{esc(r.get('variant') or '-')}</td>"
        f"<td>{r['macs']:,}</td><td>{r.get('estimated_cycles', 0):,}</td><td>{r['live_bytes']:,}</td></tr>"
        for r in data["layers"]
    )
    tuning = "".join(
        f"<tr><td>{esc(c['layer'])}</td><td>{esc(t['variant'])}{' (chosen)' if t['variant'] == c['variant'] else ''}"
        f"</td><td>{t['cycles']:,}</td><td>{t['text']:,}</td></tr>"
        for c in data.get("tuning", [])
        for t in c["trials"]
    )
    if tuning:
        tuning = (
            "<h2>Tuning (--tune)</h2><p>Each variant of a layer compiled alone and run on the emulator; the fewest "
            "estimated cycles within the code budget is chosen.</p><table><tr><th>layer</th><th>variant</th>"
            f"<th>est. cycles</th><th>code bytes</th></tr>{tuning}</table>"
        )
    charts = "".join(
        f"<h2>{esc(title)}</h2><img alt='{esc(title)}' src='data:image/png;base64,{png}'>"
        for title, png in _charts(data)
    )
    cycles = f"{data['estimated_cycles']:,} estimated cycles, " if "estimated_cycles" in data else ""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>t2m report: {esc(data["name"])}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td,th{{padding:2px 8px;text-align:right}}
td:first-child,td:nth-child(2){{text-align:left}}table{{border-collapse:collapse}}tr:nth-child(even){{background:#f4f4f4}}</style>
</head><body>
<h1>{esc(data["name"])} ({esc(data.get("dtype", "float32"))}) on {esc(data["target"])}</h1>
<p>From <code>{esc(data["model"])}</code>, -{esc(data["opt"].lstrip("-"))}: {cycles}{data["macs"]:,} MACs;
flash {data["flash"]["code"]:,} B code + {data["flash"]["weights"]:,} B weights;
RAM {data["ram"]["arena"]:,} B activations (peak live {data["ram"]["peak_live"]:,} B),
stack {data["ram"].get("stack", 0):,} B.
Cycles are estimates from the Cortex-M4 TRM timing table (zero-wait-state memory).</p>
{charts}
<h2>Layers</h2>
<table><tr><th>layer</th><th>op</th><th>kernel variant</th><th>MACs</th><th>est. cycles</th>
<th>live activation bytes</th></tr>{rows}</table>
{tuning}
</body></html>
"""
