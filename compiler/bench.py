"""`t2m-bench`: compile the model zoo and the anchor layers, run them on the emulated Cortex-M4, compare.

Every ratio is computed in the same run from the reference figures in `compiler/anchors/` (read at run time;
their sources are in `compiler/anchors/README.md`): MLPerf Tiny latencies per model, CMSIS-NN cycles per layer
and the fp32 plain-C reference points, all measured with the same TRM timing table as t2m's estimated cycles.
The ratio is anchor / t2m, so a number above 1 means t2m is faster.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from t2m.compiler.errors import T2MError
from t2m.compiler.tune import CODE_BUDGET, Choice

if TYPE_CHECKING:
    from t2m.compiler.model_info import ModelInfo

# --- anchors ----------------------------------------------------------------------------------------------------


def find_anchors(explicit: str | None = None) -> Path:
    """The anchor figures shipped with t2m (`compiler/anchors/`), or an explicit folder holding the same files."""
    path = Path(explicit) if explicit else Path(__file__).resolve().parent / "anchors"
    if not (path / "cmsis-nn-m4.md").is_file():
        raise T2MError(
            f"no anchor figures in '{path}'", "--anchors", "pass a folder with cmsis-nn-m4.md and mlperf-tiny.md"
        )
    return path


def _number(text: str) -> float:
    return float(re.sub(r"[^\d.]", "", text.split("(")[0]))


def _table_rows(markdown: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in markdown.splitlines()
        if line.startswith("|") and not line.startswith("|---")
    ]


@dataclass
class ModelAnchor:
    tflm_cmsis: float  # Mcycles, board, int8
    microtvm: float
    best: float
    fp32: float | None  # Bosch fp32 submission, Mcycles


def read_model_anchors(folder: Path) -> dict[str, ModelAnchor]:
    """MLPerf Tiny reference latencies by zoo name, from mlperf-tiny.md."""
    text = (folder / "mlperf-tiny.md").read_text()
    bosch = next((line for line in text.splitlines() if "Bosch fp32" in line), "")
    fp32 = {k.lower(): float(v) for k, v in re.findall(r"\b(VWW|IC|AD|KWS) (\d+\.\d+)", bosch)}
    anchors = {}
    for row in _table_rows(text):
        key = row[0].split(":")[0].strip().lower()
        if key in ("kws", "vww", "ic", "ad"):
            anchors[key] = ModelAnchor(_number(row[3]), _number(row[4]), _number(row[5]), fp32.get(key))
    return anchors


def read_memory_bounds(folder: Path) -> dict[str, int]:
    """Peak activation memory lower bounds (int8 bytes) by zoo name, from mlperf-tiny.md."""
    lines = (folder / "mlperf-tiny.md").read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if "lower bound" in line.lower()), len(lines))
    text = " ".join(lines[start : start + 2])
    return {k.lower(): int(v.replace(",", "")) for k, v in re.findall(r"\b(KWS|VWW|IC|AD) ([\d,]+)", text)}


def read_layer_anchors(folder: Path) -> dict[str, float]:
    """Estimated cycles per anchor layer (CMSIS-NN int8 and fp32 plain C), by the table's layer label."""
    rows = _table_rows((folder / "cmsis-nn-m4.md").read_text())
    anchors: dict[str, float] = {}
    for row in rows:
        if len(row) == 5 and row[3][:1].isdigit():
            anchors[row[0]] = _number(row[3])
        elif len(row) == 4 and row[2][:1].isdigit():
            anchors[row[0]] = _number(row[2])
    return anchors


# --- the anchor layers as PyTorch modules -----------------------------------------------------------------------


def _layer_models() -> dict[str, tuple[Callable[[], Any], tuple[int, ...], str]]:
    """Anchor label -> (module factory, NCHW input shape, kind: int8 CMSIS-NN or fp32 plain C)."""
    from torch import nn

    def conv(cin: int, cout: int, k: tuple[int, int], stride: int, pad: tuple[int, int, int, int], groups: int = 1):
        return lambda: nn.Sequential(nn.ZeroPad2d(pad), nn.Conv2d(cin, cout, k, stride, groups=groups))

    return {
        "KWS first conv 10×4, stride 2: 49×10×1 → 25×5×64": (
            conv(1, 64, (10, 4), 2, (1, 1, 4, 5)),
            (1, 1, 49, 10),
            "int8",
        ),
        "KWS depthwise 3×3, stride 1, pad 1: 25×5×64": (
            conv(64, 64, (3, 3), 1, (1, 1, 1, 1), 64),
            (1, 64, 25, 5),
            "int8",
        ),
        "KWS pointwise 1×1: 25×5×64 → 64": (conv(64, 64, (1, 1), 1, (0, 0, 0, 0)), (1, 64, 25, 5), "int8"),
        "fully connected 64 → 12": (lambda: nn.Linear(64, 12), (1, 64), "int8"),
        "fully connected 640 → 128": (lambda: nn.Linear(640, 128), (1, 640), "int8"),
        "ResNet-8 conv 3×3, stride 1, pad 1: 32×32×16 → 16": (
            conv(16, 16, (3, 3), 1, (1, 1, 1, 1)),
            (1, 16, 32, 32),
            "int8",
        ),
        "MobileNetV1 first conv 3×3, stride 2: 96×96×3 → 48×48×8": (
            conv(3, 8, (3, 3), 2, (0, 1, 0, 1)),
            (1, 3, 96, 96),
            "int8",
        ),
        "MobileNetV1 depthwise 3×3, stride 1, pad 1: 48×48×8": (
            conv(8, 8, (3, 3), 1, (1, 1, 1, 1), 8),
            (1, 8, 48, 48),
            "int8",
        ),
        "max pool 2×2, stride 2: 32×32×16": (lambda: nn.MaxPool2d(2), (1, 16, 32, 32), "int8"),
        "average pool 25×5 → 1: 25×5×64": (lambda: nn.AvgPool2d((25, 5)), (1, 64, 25, 5), "int8"),
        "fp32 conv 3×3, pad 1: 32×32×16 → 16": (conv(16, 16, (3, 3), 1, (1, 1, 1, 1)), (1, 16, 32, 32), "fp32"),
        "fp32 linear 640 → 128": (lambda: nn.Linear(640, 128), (1, 640), "fp32"),
    }


LAYER_SEED = 0
"""torch's default generator starts from a random seed in every process: the anchor layers' weights are drawn
from this one, so that a rerun measures the same layer (and the fp32 and int8 rows the same weights)."""


def seeded(factory: Callable[[], Any]) -> Any:
    """An anchor layer's module, its initial weights drawn after seeding torch with LAYER_SEED."""
    import torch

    torch.manual_seed(LAYER_SEED)
    return factory()


def load_average() -> float | None:
    """The machine's 1-minute load average (None where the OS has none): compile seconds are wall-clock."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


# --- measuring --------------------------------------------------------------------------------------------------


@dataclass
class Measurement:
    name: str
    macs: int
    cycles: int
    code: int
    weights: int
    arena: int
    stack: int
    compile_seconds: float
    rel_error: float  # emulator output vs the reference interpreter
    info: ModelInfo | None = None
    ll: str = ""  # the model's LLVM IR, to run it on the host JIT as well
    tuning: list[Choice] = field(default_factory=list[Choice])  # --tune: the variants measured per layer op

    @property
    def macs_per_cycle(self) -> float:
        return self.macs / self.cycles


def measure(module: Any, source: str, flash_size: int) -> Measurement:
    """Compile an nn module, run it on the emulator against the reference interpreter (int8 modules: `measure_int8`)."""
    from t2m.compiler.compare import relative_error
    from t2m.compiler.compile import CompileOptions, compile_module
    from t2m.compiler.emulate import run_object
    from t2m.compiler.interpreter import entry_function, run_module
    from t2m.compiler.model_info import describe_function

    if describe_function(entry_function(module)).dtype == "int8":
        return measure_int8(module, source, flash_size)
    start = time.perf_counter()
    result = compile_module(module, source, CompileOptions(flash_size=flash_size, run=False))
    seconds = time.perf_counter() - start
    info = result.info
    assert info is not None
    inputs = [np.random.default_rng(0).standard_normal(s).astype(np.float32) for s in info.inputs]
    run = run_object(result.obj, inputs, source)
    error = max(relative_error(y, r) for y, r in zip(run.outputs, run_module(module, inputs), strict=True))
    return Measurement(
        info.name,
        info.macs,
        run.cycles,
        result.sizes.get("text", 0),
        result.sizes.get("rodata", 0),
        info.arena_bytes,
        run.result.stack_bytes,
        seconds,
        error,
    )


def measure_int8(module: Any, source: str, flash_size: int, seed: int = 0, tune_cache: str | None = None
                 ) -> Measurement:
    """Compile an int8 (qnn) module, run the object on the emulator with seeded int8 inputs over the whole range,
    and compare with the integer reference interpreter: `rel_error` is the fraction of output values that differ
    (0: bit-exact, what docs/int8.md requires). With `tune_cache`, compiled with `--tune` and that cache file."""
    from t2m.compiler.compile import CompileOptions, compile_module
    from t2m.compiler.emulate import run_object
    from t2m.compiler.interpreter import run_module

    options = CompileOptions(flash_size=flash_size, run=False, tune=tune_cache is not None, tune_cache=tune_cache)
    start = time.perf_counter()
    result = compile_module(module, source, options)
    seconds = time.perf_counter() - start
    info = result.info
    assert info is not None
    rng = np.random.default_rng(seed)
    inputs = [rng.integers(-128, 128, s).astype(np.int8) for s in info.inputs]
    run = run_object(result.obj, inputs, source)
    refs = run_module(module, inputs)
    differ = sum(int(np.sum(y != r.reshape(y.shape))) for y, r in zip(run.outputs, refs, strict=True))
    total = sum(y.size for y in run.outputs)
    return Measurement(
        info.name,
        info.macs,
        run.cycles,
        result.sizes.get("text", 0),
        result.sizes.get("rodata", 0),
        info.arena_bytes,
        run.result.stack_bytes,
        seconds,
        differ / total,
        info,
        result.ll,
        result.tuning,
    )


CALIBRATION_SAMPLES = 100  # per zoo model; the single anchor layers calibrate on LAYER_CALIBRATION_SAMPLES
LAYER_CALIBRATION_SAMPLES = 16
ACCURACY_SAMPLES = 50


def _samples(shape: tuple[int, ...], count: int, seed: int) -> list[Any]:
    """Seeded N(0, 1) inputs: the zoo's weights are random, so this is their input distribution."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=generator) for _ in range(count)]


def import_torch(model: Any, shape: tuple[int, ...], name: str, int8: bool = False, samples: int = 0) -> Any:
    """The nn module of a PyTorch model; with `int8`, PT2E-quantized (t2m's quantizer) on `samples` seeded N(0, 1)
    inputs (seed 1) into qnn ops."""
    import torch

    from t2m.compiler.importer import export, import_program
    from t2m.compiler.importer.loading import LoadedModel

    torch.manual_seed(0)
    example = (torch.randn(shape),) if shape else model.example_inputs()
    program = export(LoadedModel(name, model.eval(), None, example))
    if int8:
        from t2m.compiler.importer.quantizer import quantize_program

        data = [(x,) for x in _samples(tuple(example[0].shape), samples or CALIBRATION_SAMPLES, 1)]
        program = quantize_program(program, example, data)
    module, unsupported = import_program(program, name)
    assert not unsupported, [u.describe() for u in unsupported]
    return module


@dataclass
class Accuracy:
    """The int8 model against the fp32 PyTorch model on ACCURACY_SAMPLES seeded inputs (seed 2, not the
    calibration's): per-sample cosine of the dequantized outputs, and top-1 agreement (classifiers)."""

    cosine_mean: float
    cosine_min: float
    top1: float | None


def int8_accuracy(model: Any, m: Measurement) -> Accuracy:
    """Run the measured int8 model's LLVM IR on the host JIT (bit-exact with the emulated object) against `model`
    in fp32."""
    import torch

    from t2m.compiler.backend import HostJIT

    info = m.info
    assert info is not None and m.ll
    jit = HostJIT(m.ll)
    (scale_in, zp_in), (scale_out, zp_out) = info.quant[0], info.quant[-1]
    cosines, agree = [], []
    for x in _samples(tuple(info.inputs[0]), ACCURACY_SAMPLES, 2):
        q = np.clip(np.round(x.numpy() / scale_in) + zp_in, -128, 127).astype(np.int8)
        y = np.zeros(info.outputs[0], np.int8)
        jit.run(info.entry, [q], [y])
        got = scale_out * (y.astype(np.float64) - zp_out)
        with torch.no_grad():
            want = model(x).numpy().astype(np.float64)
        norm = np.linalg.norm(got) * np.linalg.norm(want)
        cosines.append(float(np.dot(got.ravel(), want.ravel()) / norm) if norm else 1.0)
        agree.append(int(np.argmax(got)) == int(np.argmax(want)))
    classifier = info.outputs[0][-1] < 64  # a class vector, not a reconstruction (AD)
    return Accuracy(float(np.mean(cosines)), float(np.min(cosines)), float(np.mean(agree)) if classifier else None)


@dataclass
class Int8Model:
    """A zoo model in int8: built with the default kernels, with `--tune` from an empty cache (the search), and
    rebuilt with `--tune` from that cache (both None with `t2m-bench --no-tune`); its fp32 build for code size."""

    key: str
    default: Measurement
    tuned: Measurement | None
    rebuild_seconds: float | None
    fp32: Measurement


@dataclass
class Int8Layer:
    """An int8 anchor layer (or, with no CMSIS-NN figure, a layer of the variant table): default and tuned (None
    with `t2m-bench --no-tune`)."""

    label: str
    macs: int  # the anchors' count (pools: window taps), else t2m's
    cmsis: float | None
    default: Measurement
    tuned: Measurement | None


def read_layer_macs(folder: Path) -> dict[str, int]:
    """MACs per CMSIS-NN anchor layer (pools count window taps), by label."""
    return {row[0]: int(_number(row[2])) for row in _table_rows((folder / "cmsis-nn-m4.md").read_text())
            if len(row) == 5 and row[2][:1].isdigit()}


def add_layer_module() -> Any:
    """ResNet-8's residual add on 32x32x16 as a qnn module (two int8 inputs, scales as PT2E gives a sum): the
    add row of the kernel-variant table (CMSIS-NN's table has no add)."""
    from xdsl.dialects import func
    from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, IntegerAttr, IntegerType, ModuleOp, TensorType, i32
    from xdsl.ir import Block, Region

    from t2m.dialects import qnn

    shape, (s_a, z_a), (s_b, z_b), (s_o, z_o) = [1, 16, 32, 32], (0.04, -9), (0.06, 3), (0.08, -128)
    twice = 2 * max(s_a, s_b)
    t = TensorType(IntegerType(8), shape)
    block = Block(arg_types=[t, t])
    op = qnn.AddOp.create(operands=list(block.args), result_types=[t], properties={
        "lhs_zp": IntegerAttr(z_a, i32), "rhs_zp": IntegerAttr(z_b, i32),
        "lhs_scale": qnn.RequantAttr.from_scales([s_a / twice], 0),
        "rhs_scale": qnn.RequantAttr.from_scales([s_b / twice], 0),
        "output_scale": qnn.RequantAttr.from_scales([twice / ((1 << qnn.ADD_LEFT_SHIFT) * s_o)], z_o)})
    assert isinstance(op, qnn.AddOp)
    op.set_activation_range(z_o, qnn.I8_MAX)  # add + ReLU
    block.add_ops([op, func.ReturnOp(op.output)])

    def quant(s: float, z: int) -> DictionaryAttr:
        return DictionaryAttr({"qnn.quant": qnn.QuantAttr(s, z)})

    function = func.FuncOp("resnet_add", ([t, t], [t]), Region(block),
                           arg_attrs=ArrayAttr([quant(s_a, z_a), quant(s_b, z_b)]),
                           res_attrs=ArrayAttr([quant(s_o, z_o)]))
    return ModuleOp([function])


ADD_LABEL = "ResNet-8 residual add + ReLU: 32×32×16"


@dataclass
class ModelResult:
    """Everything measured on one zoo model."""

    key: str
    fp32: Measurement
    int8: Measurement
    accuracy: Accuracy
    dsp: Int8Model


@dataclass
class LayerResult:
    """Everything measured on one anchor layer (int8: None for the fp32 anchors) or the add layer (no row)."""

    row: tuple[str, str, float, Measurement, Measurement | None] | None
    int8: Int8Layer | None


def _stderr(line: str) -> None:
    import sys

    print(line, file=sys.stderr, flush=True)


def measure_model(key: str, tmp: str, log: Callable[[str], None] = _stderr, tune: bool = True) -> ModelResult:
    """A zoo model: fp32, int8 with the default kernels (and its accuracy), and with `tune` int8 `--tune` from an
    empty cache in `tmp` and the rebuild from that cache."""
    from t2m.compiler import zoo

    source = f"t2m.compiler.zoo:{key}"
    log(f"model {key} ...")
    m = measure(import_torch(zoo.build(key), (), key), source, 2 << 20)
    log(f"  {key} fp32: {m.cycles:,} est. cycles, {m.macs_per_cycle:.3f} MAC/cycle, {m.compile_seconds:.1f} s")
    quantized = import_torch(zoo.build(key), (), key, int8=True)
    q = measure_int8(quantized, source, 2 << 20)
    accuracy = int8_accuracy(zoo.build(key).eval(), q)
    log(f"  {key} int8: {q.cycles:,} est. cycles, {q.macs_per_cycle:.3f} MAC/cycle, {q.compile_seconds:.1f} s")
    if not tune:
        return ModelResult(key, m, q, accuracy, Int8Model(key, q, None, None, m))
    cache = str(Path(tmp) / f"{key}.json")
    tuned = measure_int8(quantized, source, 2 << 20, tune_cache=cache)
    again = measure_int8(quantized, source, 2 << 20, tune_cache=cache)
    log(f"  {key} int8 --tune: {tuned.cycles:,} est. cycles, {tuned.compile_seconds:.1f} s (rebuild "
        f"{again.compile_seconds:.1f} s)")
    return ModelResult(key, m, q, accuracy, Int8Model(key, q, tuned, again.compile_seconds, m))


def measure_layer(label: str, anchors_dir: Path, tmp: str, log: Callable[[str], None] = _stderr, tune: bool = True
                  ) -> LayerResult:
    """An anchor layer of `_layer_models` (fp32, and for the int8 anchors int8 default and, with `tune`,
    `--tune`), or with label ADD_LABEL the residual add (int8 only)."""

    def tuned_build(module: Any, name: str) -> Measurement | None:
        return measure_int8(module, label, 2 << 20, tune_cache=str(Path(tmp) / f"{name}.json")) if tune else None

    if label == ADD_LABEL:
        log(f"layer {ADD_LABEL} ...")
        add = add_layer_module()
        q = measure_int8(add, ADD_LABEL, 2 << 20)
        return LayerResult(None, Int8Layer(ADD_LABEL, 16 * 32 * 32, None, q, tuned_build(add, "add")))
    anchor = read_layer_anchors(anchors_dir)[label]
    factory, shape, kind = _layer_models()[label]
    log(f"layer {label} ...")
    name = re.sub(r"\W+", "_", label.split(":")[0]).strip("_").lower()
    m = measure(import_torch(seeded(factory), shape, name), label, 2 << 20)
    q = layer = None
    if kind == "int8":
        quantized = import_torch(seeded(factory), shape, name, int8=True, samples=LAYER_CALIBRATION_SAMPLES)
        q = measure_int8(quantized, label, 2 << 20)
        layer = Int8Layer(label, read_layer_macs(anchors_dir).get(label, q.macs), anchor, q,
                          tuned_build(quantized, name))
    return LayerResult((label, kind, anchor, m, q), layer)


def run_bench(anchors_dir: Path, models: list[str], layers: bool, log: Callable[[str], None],
              layer_filter: str | None = None, jobs: int = 1, tune: bool = True) -> str:
    """Measure everything (fp32 and int8, default kernels and, with `tune`, `--tune`) and return BENCHMARKS.md.
    `layer_filter`: only the anchor layers whose label contains it. `jobs` > 1: that many models and layers
    measured at a time, each in a process of its own (the figures are the same; the compile seconds grow with the
    load). Without `tune` the `--tune` columns say "not measured (--no-tune)": the search is most of the time."""
    import tempfile

    model_anchors = read_model_anchors(anchors_dir)
    layer_anchors = read_layer_anchors(anchors_dir)
    labels: list[str] = []
    if layers:
        for label in _layer_models():
            if label not in layer_anchors:
                raise T2MError(
                    f"anchor layer '{label}' not found",
                    str(anchors_dir / "cmsis-nn-m4.md"),
                    "update compiler/bench.py to the anchors' labels",
                )
            if not layer_filter or layer_filter in label:
                labels.append(label)
        if not layer_filter or layer_filter in ADD_LABEL:
            labels.append(ADD_LABEL)
    load = (load_average(), None)
    with tempfile.TemporaryDirectory(prefix="t2m-bench-") as tmp:  # fresh tuning caches, never the user's
        if jobs <= 1:
            model_results = [measure_model(key, tmp, log, tune) for key in models]
            load = (load[0], load_average())
            layer_results = [measure_layer(label, anchors_dir, tmp, log, tune) for label in labels]
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
                model_futures = [pool.submit(measure_model, key, tmp, _stderr, tune) for key in models]
                layer_futures = [pool.submit(measure_layer, label, anchors_dir, tmp, _stderr, tune)
                                 for label in labels]
                model_results = [f.result() for f in model_futures]
                load = (load[0], load_average())
                layer_results = [f.result() for f in layer_futures]
    rows = [(r.key, r.fp32) for r in model_results]
    layer_rows = [r.row for r in layer_results if r.row is not None]
    int8_layers = [r.int8 for r in layer_results if r.int8 is not None]
    bounds = read_memory_bounds(anchors_dir)
    return "\n".join(
        [
            render(rows, model_anchors, bounds, layer_rows),
            render_int8([(r.key, r.int8) for r in model_results], model_anchors, bounds, dict(rows),
                        {r.key: r.accuracy for r in model_results}),
            render_dsp([r.dsp for r in model_results], int8_layers, model_anchors, load, jobs),
        ]
    )


def render(
    rows: list[tuple[str, Measurement]],
    anchors: dict[str, ModelAnchor],
    bounds: dict[str, int],
    layer_rows: list[tuple[str, str, float, Measurement, Measurement | None]],
) -> str:
    out = [
        "# t2m benchmarks",
        "",
        "Produced by `t2m-bench` in one run: every model and layer compiled by t2m (fp32, and int8 through PT2E",
        "quantization, `-O2`, Cortex-M4), run on the emulated Cortex-M4 and priced with the TRM timing table of",
        "`compiler/anchors/m4-timing.md`. All cycle figures are **estimated** (zero-wait-state memory). Ratios are",
        "anchor cycles / t2m cycles: above 1 means t2m is faster. Every output is checked against the reference",
        "interpreter (fp32: `rel. error`; int8: bit for bit).",
        "",
        "## Models (fp32)",
        "",
        "| model | MACs | est. cycles | MAC/cycle | flash code | flash weights | RAM arena | stack | compile s "
        "| rel. error |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, m in rows:
        out.append(
            f"| {key} | {m.macs:,} | {m.cycles:,} | {m.macs_per_cycle:.3f} | {m.code:,} | {m.weights:,} | "
            f"{m.arena:,} | {m.stack:,} | {m.compile_seconds:.1f} | {m.rel_error:.1e} |"
        )
    out += [
        "",
        "### Activation memory against the lower bound (compiler/anchors/mlperf-tiny.md)",
        "",
        "The anchors' bound is the peak of live int8 activations in topological order; t2m's buffers are fp32, so the",
        "like-for-like bound is 4× that. The model's input and output are the caller's buffers, outside t2m's arena.",
        "",
        "| model | t2m arena (bytes) | 4 × int8 lower bound | arena / bound |",
        "|---|---:|---:|---:|",
    ]
    for key, m in rows:
        bound = 4 * bounds[key] if key in bounds else 0
        out.append(
            f"| {key} | {m.arena:,} | {bound:,} | {m.arena / bound:.2f} |"
            if bound
            else f"| {key} | {m.arena:,} | - | - |"
        )
    out += [
        "",
        "### Against MLPerf Tiny latencies (compiler/anchors/mlperf-tiny.md)",
        "",
        "Those are int8 latencies measured on a real STM32L4R5 board (flash wait states included) and one fp32",
        "submission (Bosch, PSoC6): not like for like with t2m's fp32 estimates, but the bar t2m is built to clear.",
        "",
        "| model | t2m fp32 Mcycles (est.) | vs TFLM + CMSIS-NN int8 | vs microTVM int8 | vs best published int8 "
        "| vs fp32 (Bosch) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, m in rows:
        a = anchors[key]
        mc = m.cycles / 1e6
        fp32 = f"{a.fp32 / mc:.2f}×" if a.fp32 else "-"
        out.append(
            f"| {key} | {mc:.2f} | {a.tflm_cmsis / mc:.2f}× | {a.microtvm / mc:.2f}× | {a.best / mc:.2f}× | {fp32} |"
        )
    if layer_rows:
        out += [
            "",
            "## Layers against CMSIS-NN and plain C (compiler/anchors/cmsis-nn-m4.md, same cycle model)",
            "",
            "Like for like: CMSIS-NN's int8 kernels against t2m's int8 code of the same layer (PT2E-quantized, weights",
            "per channel), gcc -O3 plain C fp32 against t2m's fp32; t2m's fp32 cycles of the int8 layers for scale.",
            "",
            "| layer | anchor | anchor cycles | t2m cycles | t2m MAC/cycle | anchor / t2m | t2m fp32 cycles |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for label, kind, anchor, m, q in layer_rows:
            who = "CMSIS-NN int8" if kind == "int8" else "plain C fp32"
            ours = q or m
            mpc = f"{ours.macs_per_cycle:.3f}" if ours.macs else "-"
            out.append(
                f"| {label} | {who} | {anchor:,.0f} | {ours.cycles:,} | {mpc} | {anchor / ours.cycles:.2f}× | "
                f"{m.cycles:,} |"
            )
    out.append("")
    return "\n".join(out)


def render_int8(
    rows: list[tuple[str, Measurement]],
    anchors: dict[str, ModelAnchor],
    bounds: dict[str, int],
    fp32: dict[str, Measurement] | None = None,
    accuracy: dict[str, Accuracy] | None = None,
) -> str:
    """The int8 models' section of BENCHMARKS.md: cycles, flash and RAM against the MLPerf Tiny int8 figures and
    the int8 activation lower bound (like for like now: one byte per activation), and against t2m's own fp32
    build of the same model when given."""
    out = [
        "## Models (int8)",
        "",
        "Integer kernels with their default variants (`--tune` below), requantization fused into the store, checked",
        "bit for bit against the integer reference interpreter on seeded int8 inputs (`bit-exact`).",
        "",
        "| model | MACs | est. cycles | MAC/cycle | flash code | flash weights | RAM arena | int8 lower bound "
        "| arena / bound | stack | bit-exact |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key, m in rows:
        bound = bounds.get(key, 0)
        ratio = f"{m.arena / bound:.2f}" if bound else "-"
        exact = "yes" if m.rel_error == 0 else f"NO ({m.rel_error:.1%} differ)"
        out.append(
            f"| {key} | {m.macs:,} | {m.cycles:,} | {m.macs_per_cycle:.3f} | {m.code:,} | {m.weights:,} | "
            f"{m.arena:,} | {bound:,} | {ratio} | {m.stack:,} | {exact} |"
        )
    out += [
        "",
        "### int8 against MLPerf Tiny latencies (compiler/anchors/mlperf-tiny.md)",
        "",
        "Board measurements (flash wait states included) against t2m's estimates: the ratio is anchor / t2m.",
        "",
        "| model | t2m int8 Mcycles (est.) | vs TFLM + CMSIS-NN | vs microTVM | vs best published |"
        + (" vs t2m fp32 (cycles) | fp32 arena / int8 arena |" if fp32 else ""),
        "|---|---:|---:|---:|---:|" + ("---:|---:|" if fp32 else ""),
    ]
    for key, m in rows:
        mc = m.cycles / 1e6
        a = anchors.get(key)
        cells = [f"{a.tflm_cmsis / mc:.2f}×", f"{a.microtvm / mc:.2f}×", f"{a.best / mc:.2f}×"] if a else ["-"] * 3
        if fp32:
            f = fp32.get(key)
            cells.append(f"{f.cycles / m.cycles:.2f}×" if f else "-")
            cells.append(f"{f.arena / m.arena:.2f}×" if f and m.arena else "-")
        out.append(f"| {key} | {mc:.2f} | " + " | ".join(cells) + " |")
    if accuracy:
        out += [
            "",
            "### int8 against the fp32 model",
            "",
            f"PT2E quantization (t2m's quantizer, TFLite int8 scheme) calibrated on {CALIBRATION_SAMPLES} seeded "
            f"N(0, 1) inputs, evaluated on {ACCURACY_SAMPLES} others: per-sample cosine similarity of the dequantized "
            "int8 "
            "output to PyTorch's fp32 output, and top-1 agreement for the classifiers.",
            "",
            "| model | cosine (mean) | cosine (min) | top-1 agreement |",
            "|---|---:|---:|---:|",
        ]
        for key, a in accuracy.items():
            top1 = f"{a.top1:.0%}" if a.top1 is not None else "- (not a classifier)"
            out.append(f"| {key} | {a.cosine_mean:.5f} | {a.cosine_min:.5f} | {top1} |")
    out.append("")
    return "\n".join(out)


# --- int8 DSP kernels: layers against CMSIS-NN, variants, models against MLPerf Tiny, compile time, code size ------

LAYER_GOAL = 0.67
"""issue 11: t2m's estimated cycles at most this fraction of CMSIS-NN's per layer type (conv 3x3: CONV3_GOAL)."""
CONV3_GOAL = 0.5


def layer_goal(label: str) -> float:
    return CONV3_GOAL if "conv 3×3" in label else LAYER_GOAL


NOT_TUNED = "not measured (--no-tune)"
"""What a `--tune` cell of the table says when `t2m-bench --no-tune` skipped the search."""


def render_dsp(models: list[Int8Model], layers: list[Int8Layer], anchors: dict[str, ModelAnchor],
               load: tuple[float | None, float | None] = (None, None), jobs: int = 1) -> str:
    """The int8 sections of the DSP kernels (issue 11): per anchor layer t2m / CMSIS-NN in cycles against the
    goal, each layer kind's kernel variants (cycles and code bytes), the models in Mcycles and MAC/cycle next to
    the MLPerf Tiny figures, compile time with and without `--tune` (`load`: the 1-minute load average when the
    models' measurements started and ended), and code size next to fp32's. A layer or model measured without
    `--tune` (tuned None) shows NOT_TUNED in the `--tune` cells, its default build everywhere else."""
    out: list[str] = []
    anchored = [layer for layer in layers if layer.cmsis is not None]
    if anchored:
        out += [
            "## int8 layers against CMSIS-NN (compiler/anchors/cmsis-nn-m4.md, same cycle model)",
            "",
            f"The ratio here is **t2m / CMSIS-NN** in estimated cycles (below 1: t2m is faster); the goal is "
            f"≤ {LAYER_GOAL}× (conv 3×3: ≤ {CONV3_GOAL}×). Pools count window taps as MACs, as the anchors do. "
            "`--tune` measures every kernel variant of the layer on the emulator and keeps the fastest.",
            "",
            "| layer | MACs | CMSIS-NN cycles | t2m cycles | t2m / CMSIS-NN | t2m --tune cycles | --tune / CMSIS-NN "
            "| goal | met | t2m MAC/cycle | CMSIS-NN MAC/cycle | kernel (--tune) | bit-exact |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---|",
        ]
        for layer in anchored:
            assert layer.cmsis is not None
            tuned = layer.tuned
            builds = [layer.default, *([tuned] if tuned else [])]
            best = min(m.cycles for m in builds)
            goal = layer_goal(layer.label)
            met = "yes" if best <= goal * layer.cmsis else "no"
            exact = "yes" if all(m.rel_error == 0 for m in builds) else "NO"
            tune_cells = (f"{tuned.cycles:,} | {tuned.cycles / layer.cmsis:.2f}×" if tuned else f"{NOT_TUNED} | -")
            out.append(
                f"| {layer.label} | {layer.macs:,} | {layer.cmsis:,.0f} | {layer.default.cycles:,} | "
                f"{layer.default.cycles / layer.cmsis:.2f}× | {tune_cells} | ≤ {goal}× | {met} "
                f"| {layer.macs / best:.3f} | {layer.macs / layer.cmsis:.3f} | "
                f"{_variants_of(tuned) if tuned else NOT_TUNED} | {exact} |"
            )
        out.append("")
    if layers:
        out += [
            "## Kernel variants per layer (`--tune`)",
            "",
            "Each variant of the layer's op compiled alone for the Cortex-M4 and run on the emulator (estimated "
            "cycles; `.text` and `.rodata` bytes of that object, weights included); the tuner keeps the fewest "
            f"cycles among the variants whose flash exceeds the default's (listed first) by at most {CODE_BUDGET} "
            "bytes. A layer with one kernel shows it once.",
            "",
            "| layer | variant | est. cycles | .text bytes | .rodata bytes | chosen |",
            "|---|---|---:|---:|---:|---|",
        ]
        for layer in layers:
            if layer.tuned is None:
                out.append(f"| {layer.label} | {NOT_TUNED} | {layer.default.cycles:,} | {layer.default.code:,} | "
                           f"{layer.default.weights:,} | default |")
                continue
            trials = [(t.variant, t.cycles, t.text, t.rodata, t.variant == c.variant) for c in layer.tuned.tuning
                      for t in c.trials]
            if not trials:
                trials = [("(one kernel)", layer.default.cycles, layer.default.code, layer.default.weights, True)]
            for variant, cycles, text, rodata, chosen in trials:
                out.append(f"| {layer.label} | {variant} | {cycles:,} | {text:,} | {rodata:,} | "
                           f"{'yes' if chosen else ''} |")
        out.append("")
    if models:
        out += [
            "## int8 models against MLPerf Tiny (compiler/anchors/mlperf-tiny.md)",
            "",
            "t2m's figures are estimates (TRM timing, zero-wait-state memory); the others are board measurements "
            "(STM32L4R5, flash wait states included), in Mcycles with MAC/cycle in parentheses.",
            "",
            "| model | MACs | t2m int8 Mcycles (MAC/cycle) | t2m int8 --tune Mcycles (MAC/cycle) | TFLM + CMSIS-NN "
            "| microTVM | best published |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for m in models:
            macs = m.default.macs
            cells = [_mcycles(macs, m.default.cycles), _mcycles(macs, m.tuned.cycles) if m.tuned else NOT_TUNED]
            a = anchors.get(m.key)
            cells += [_mcycles(macs, v * 1e6) for v in (a.tflm_cmsis, a.microtvm, a.best)] if a else ["-"] * 3
            out.append(f"| {m.key} | {macs:,} | " + " | ".join(cells) + " |")
        out += [
            "",
            "## Compile time and code size per model",
            "",
            "Seconds of `compile_module` (import excluded). `--tune` first build: every variant of every layer with "
            "a choice compiled and run alone (an empty cache); rebuild: the same with the cache filled (no layer "
            "compiled twice). Code is `.text` bytes (weights and tables are `.rodata`). " + _machine(load, jobs),
            "",
            "| model | fp32 s | int8 s | int8 --tune s (search) | int8 --tune s (rebuild) | layers tuned | fp32 .text "
            "| int8 .text | int8 --tune .text | int8 / fp32 .text |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for m in models:
            if m.tuned is not None and m.rebuild_seconds is not None:
                search = f"{m.tuned.compile_seconds:.1f} | {m.rebuild_seconds:.1f} | {len(m.tuned.tuning)}"
                tuned_code = f"{m.tuned.code:,}"
            else:
                search, tuned_code = f"{NOT_TUNED} | {NOT_TUNED} | -", NOT_TUNED
            int8 = m.tuned or m.default  # the --tune build's code when measured, else the default build's
            out.append(
                f"| {m.key} | {m.fp32.compile_seconds:.1f} | {m.default.compile_seconds:.1f} | {search} | "
                f"{m.fp32.code:,} | {m.default.code:,} | {tuned_code} | {int8.code / m.fp32.code:.2f}× |"
            )
        out.append("")
    return "\n".join(out)


def _machine(load: tuple[float | None, float | None], jobs: int = 1) -> str:
    """Where the seconds were measured: they are wall-clock, so they grow with whatever else the machine runs."""
    start, end = load
    at_once = f" ({jobs} models and layers measured at a time, `t2m-bench --jobs {jobs}`)" if jobs > 1 else ""
    if start is None or end is None:
        return f"Wall-clock seconds on {os.cpu_count()} cores{at_once}."
    return (f"Wall-clock seconds on {os.cpu_count()} cores{at_once}, shared with other work: 1-minute load "
            f"average {start:.1f} when the measurements started, {end:.1f} when the models' ended.")


def _mcycles(macs: int, cycles: float) -> str:
    return f"{cycles / 1e6:.2f} ({macs / cycles:.3f})"


def _variants_of(m: Measurement) -> str:
    """The kernel variants of a measured model's layers (those that had a choice)."""
    info = m.info
    names = sorted({layer.variant for layer in info.layers if layer.variant}) if info else []
    return ", ".join(names) or "-"
