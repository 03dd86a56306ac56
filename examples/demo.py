"""`make demo`: compile the MLPerf Tiny keyword-spotting model for a Cortex-M4 and run it on the emulator.

Each step is a t2m command-line tool, printed before it runs, so the demo doubles as a tutorial.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

OUT = Path("out")
MODEL = "t2m.compiler.zoo:DSCNN"  # MLPerf Tiny keyword spotting (DS-CNN), 1x1x49x10 MFCC -> 12 classes


def step(title: str, *cmd: str, show_lines: int | None = None, last: int | None = None, width: int = 150) -> None:
    print(f"\n== {title}\n$ {shlex.join(cmd)}", flush=True)
    result = subprocess.run(cmd, capture_output=True, text=True)
    lines = result.stdout.splitlines()
    shown = lines if show_lines is None else lines[:show_lines]
    if last is not None:
        print(f"... ({len(lines) - last} lines before)")
        shown = lines[-last:]
    for line in shown:
        print(line if len(line) <= width else line[: width - 3] + "...")
    if show_lines is not None and len(lines) > show_lines:
        print(f"... ({len(lines) - show_lines} more lines)")
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        sys.exit(result.returncode)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    kws, x = str(OUT / "kws.mlir"), str(OUT / "kws_input.npy")
    np.save(x, np.random.default_rng(0).standard_normal((1, 1, 49, 10)).astype(np.float32))
    step("import the DS-CNN keyword-spotting model into the nn dialect", "t2m-import", MODEL, "-o", kws)
    step("its nn IR: weights are nn.constant ops (hex), layers are nn ops", "t2m-opt", kws, show_lines=14)
    step("the reference interpreter next to PyTorch", "t2m-run", kws, "--input", x, "--torch", MODEL)
    step(
        "fuse: batch norms fold into the convolutions, ReLUs into their producers",
        "t2m-opt",
        "--fuse",
        kws,
        show_lines=12,
    )
    step("compile to a Cortex-M4 object, C header and report", "t2m-compile", kws, "-o", str(OUT), "--name", "kws")
    step("the C interface", "sed", "-n", "/#define/p;/int kws_run/p", str(OUT / "kws.h"))
    step(
        "run it on the emulated Cortex-M4: estimated cycles per layer, checked against PyTorch",
        "t2m-run",
        str(OUT / "kws.o"),
        "--input",
        x,
        "--check",
        "--torch",
        MODEL,
    )
    calib = str(OUT / "kws_calibration.npy")
    np.save(calib, np.random.default_rng(1).standard_normal((100, 1, 1, 49, 10)).astype(np.float32))
    step(
        "the same model in int8: PyTorch's PT2E quantization calibrated on 100 samples, integer kernels",
        "t2m-compile",
        MODEL,
        "--quantize",
        "int8",
        "--calibrate",
        calib,
        "-o",
        str(OUT / "int8"),
        "--name",
        "kws8",
    )
    step(
        "run the int8 object: bit for bit the integer reference, close to PyTorch's own int8 and fp32 models",
        "t2m-run",
        str(OUT / "int8" / "kws8.o"),
        "--input",
        x,
        "--check",
        "--torch",
        MODEL,
        "--quantize",
        "int8",
        "--calibrate",
        calib,
    )
    step(
        "and against PyTorch's fp32 model (the accuracy int8 costs)",
        "t2m-run",
        str(OUT / "int8" / "kws8.o"),
        "--input",
        x,
        "--torch",
        MODEL,
        last=1,
    )
    compare_int8_with_fp32(OUT / "kws.report.json", OUT / "int8" / "kws8.report.json")
    print(f"\nReports with charts: {OUT / 'kws.report.html'}, {OUT / 'int8' / 'kws8.report.html'}")


def compare_int8_with_fp32(fp32_report: Path, int8_report: Path) -> None:
    """The two builds side by side, from their report.json."""
    fp32, int8 = (json.loads(p.read_text()) for p in (fp32_report, int8_report))
    print("\n== fp32 and int8 side by side (estimated cycles on the emulated Cortex-M4)")
    print(f"{'':24}{'fp32':>12}{'int8':>12}{'fp32/int8':>12}")
    rows = [
        ("flash: code (B)", fp32["flash"]["code"], int8["flash"]["code"]),
        ("flash: weights (B)", fp32["flash"]["weights"], int8["flash"]["weights"]),
        ("RAM: activations (B)", fp32["ram"]["arena"], int8["ram"]["arena"]),
        ("estimated cycles", fp32["estimated_cycles"], int8["estimated_cycles"]),
    ]
    for label, a, b in rows:
        print(f"{label:24}{a:>12,}{b:>12,}{a / b:>11.2f}x")


if __name__ == "__main__":
    main()
