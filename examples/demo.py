"""`make demo`: compile the MLPerf Tiny keyword-spotting model for a Cortex-M4 and run it on the emulator.

Each step is a t2m command-line tool, printed before it runs, so the demo doubles as a tutorial.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

OUT = Path("out")
MODEL = "t2m.compiler.zoo:DSCNN"  # MLPerf Tiny keyword spotting (DS-CNN), 1x1x49x10 MFCC -> 12 classes


def step(title: str, *cmd: str, show_lines: int | None = None, width: int = 150) -> None:
    print(f"\n== {title}\n$ {shlex.join(cmd)}", flush=True)
    result = subprocess.run(cmd, capture_output=True, text=True)
    lines = result.stdout.splitlines()
    shown = lines if show_lines is None else lines[:show_lines]
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
    print(f"\nReport with charts: {OUT / 'report.html'}")


if __name__ == "__main__":
    main()
