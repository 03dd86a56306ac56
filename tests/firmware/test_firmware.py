"""examples/firmware: t2m's objects in a real bare-metal firmware (GNU ld, --gc-sections) run by QEMU's mps2-an386.

Each model is compiled once (a module fixture). Its firmware prints the outputs as float32 bits, which must equal
the emulator's (`run_object`: the same object, t2m's own loader) bit for bit, and PyTorch's within 1e-4. Without
the GNU Arm toolchain or QEMU these tests skip, naming the install command (tests/conftest.py).
"""

from __future__ import annotations

import io
import math
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from t2m.compiler.backend.objcheck import inspect_object
from t2m.compiler.compare import relative_error
from t2m.compiler.compile import CompileOptions, CompileResult, compile_module, parse_size
from t2m.compiler.emulate import run_object
from t2m.compiler.model_info import ModelInfo

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "examples" / "firmware"
EXAMPLES = ROOT / "examples" / "models.py"

# key: (MODEL as t2m-compile takes it, --flash-size, where the firmware puts the weights)
MODELS = {
    "tinycnn": (f"{EXAMPLES}:TinyCNN", "1M", "flash"),
    "mnistnet": (f"{EXAMPLES}:MnistNet", "8M", "psram"),  # 4.8 MB of weights, the code memory has 4 MB
    "dscnn": ("t2m.compiler.zoo:DSCNN", "1M", "flash"),
    "mobilenetv1": ("t2m.compiler.zoo:MobileNetV1", "1M", "flash"),
    "resnet8": ("t2m.compiler.zoo:ResNet8", "1M", "flash"),
    "fcautoencoder": ("t2m.compiler.zoo:FCAutoencoder", "2M", "flash"),
}
TIMEOUT = 600  # seconds: a guard against a hung QEMU, not a speed assertion


@dataclass
class Compiled:
    """One model as `t2m-compile MODEL -o folder` leaves it, with its PyTorch module and example input."""

    folder: Path
    weights: str  # WEIGHTS= for the Makefile
    result: CompileResult
    info: ModelInfo
    model: Any  # torch.nn.Module
    example: np.ndarray

    @property
    def name(self) -> str:
        return self.info.name


@pytest.fixture(scope="module", params=sorted(MODELS))
def compiled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Compiled:
    from t2m.compiler.importer import export, import_program
    from t2m.compiler.importer.loading import load_model

    spec, flash, weights = MODELS[request.param]
    loaded = load_model(spec)
    module, _ = import_program(export(loaded), loaded.name)
    result = compile_module(module, spec, CompileOptions(flash_size=parse_size(flash)))
    assert result.info is not None and loaded.example_inputs is not None
    folder = tmp_path_factory.mktemp(request.param)
    (folder / f"{result.info.name}.o").write_bytes(result.obj)
    (folder / f"{result.info.name}.h").write_text(result.header)
    return Compiled(folder, weights, result, result.info, loaded.module, loaded.example_inputs[0].numpy())


# --- the object: a section per symbol, a FILE symbol naming the model --------------------------------------


def test_every_function_and_global_has_a_section_of_its_own(compiled: Compiled) -> None:
    """What lets --gc-sections keep `<name>_run` and its static arena out of a firmware that does not call it."""
    info = inspect_object(compiled.result.obj)
    for symbol in info.defined:
        kinds = ("text",) if symbol.kind == "STT_FUNC" else ("rodata", "bss")
        assert symbol.section in [f".{kind}.{symbol.name}" for kind in kinds], symbol
    assert len({symbol.section for symbol in info.defined}) == len(info.defined)
    # objcheck sums the sections of a kind: the header's sizes still count every function and every weight
    sizes = info.section_sizes
    assert sizes["text"] == sum(size for name, size in info.sections.items() if name.startswith(".text."))
    assert sizes["text"] >= sum(function.size for function in info.functions)
    assert sizes["bss"] == compiled.info.arena_bytes
    upper = compiled.name.upper()
    assert f"#define {upper}_CODE_SIZE {sizes['text']} " in compiled.result.header
    assert f"#define {upper}_WEIGHTS_SIZE {sizes['rodata']} " in compiled.result.header


def test_the_file_symbol_names_the_model(compiled: Compiled) -> None:
    table = ELFFile(io.BytesIO(compiled.result.obj)).get_section_by_name(".symtab")
    assert isinstance(table, SymbolTableSection)
    assert [s.name for s in table.iter_symbols() if s["st_info"]["type"] == "STT_FILE"] == [compiled.name]


@pytest.mark.usefixtures("gnu_binutils")
def test_gnu_ld_messages_name_the_model_and_the_function(compiled: Compiled) -> None:
    linked = subprocess.run(
        ["arm-none-eabi-ld", f"{compiled.name}.o", f"{compiled.name}.o", "-o", "twice.elf"],
        cwd=compiled.folder,
        capture_output=True,
        text=True,
    )
    entry = compiled.info.entry
    assert linked.returncode == 1
    assert (
        f"{compiled.name}:(.text.{entry}+0x0): multiple definition of `{entry}'; "
        f"{compiled.name}.o:{compiled.name}:(.text.{entry}+0x0): first defined here"
    ) in linked.stderr.splitlines()


# --- the firmware --------------------------------------------------------------------------------------------


@dataclass
class Firmware:
    build: Path
    stdout: str  # what it printed by semihosting
    build_messages: str  # the compiler's and the linker's stderr

    def map_file(self) -> str:
        return (self.build / "firmware.map").read_text()

    def symbols(self) -> set[str]:
        listed = subprocess.run(
            ["arm-none-eabi-nm", str(self.build / "firmware.elf")], capture_output=True, text=True, check=True
        )
        return {line.split()[-1] for line in listed.stdout.splitlines()}


def make(*args: str) -> subprocess.CompletedProcess[str]:
    command = ["make", "--no-print-directory", "-s", "-C", str(FIRMWARE), *args]
    return subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=TIMEOUT)


def build_and_run(compiled: Compiled, entry: str, input_header: Path | None = None) -> Firmware:
    """`make all`, then `make run` (QEMU) in a build folder of its own; both must succeed."""
    build = compiled.folder / f"build-{entry}-{'header' if input_header else 'pattern'}"
    options = [f"MODEL_DIR={compiled.folder}", f"ENTRY={entry}", f"WEIGHTS={compiled.weights}", f"BUILD={build}"]
    options += [f"INPUT_HEADER={input_header}"] if input_header else []
    built = make(*options, "all")
    assert built.returncode == 0, built.stderr
    ran = make(*options, "run")
    assert ran.returncode == 0, f"QEMU exited with {ran.returncode}:\n{ran.stdout[-2000:]}\n{ran.stderr[-2000:]}"
    return Firmware(build, ran.stdout, built.stderr)


def printed_output(firmware: Firmware, function: str, shape: list[int]) -> np.ndarray:
    """main.c's report: `<function> returned 0`, then the output's float32 bits in hex, 8 a line."""
    first, *rows = firmware.stdout.splitlines()
    assert first == f"{function} returned 0"
    assert len(rows) == math.ceil(math.prod(shape) / 8)
    words = " ".join(rows).split(" ")
    assert all(re.fullmatch(r"[0-9a-f]{8}", word) for word in words), rows
    return np.array([int(word, 16) for word in words], np.uint32).view(np.float32).reshape(shape)


@pytest.fixture(scope="module")
def input_header(compiled: Compiled) -> Path:
    """The model's example input as a C header, written by examples/firmware/input_header.py from a .npy."""
    np.save(compiled.folder / "x.npy", compiled.example)
    written = subprocess.run(
        [sys.executable, str(FIRMWARE / "input_header.py"), str(compiled.folder / "x.npy")],
        capture_output=True,
        text=True,
        check=True,
    )
    header = compiled.folder / "input.h"
    header.write_text(written.stdout)
    return header


@pytest.fixture(scope="module")
def emulated(compiled: Compiled) -> np.ndarray:
    """The emulator's output for the example input."""
    return run_object(compiled.result.obj, [compiled.example], compiled.name).outputs[0]


@pytest.mark.usefixtures("firmware_toolchain")
def test_firmware_equals_the_emulator_bit_for_bit_and_pytorch(
    compiled: Compiled, input_header: Path, emulated: np.ndarray
) -> None:
    import torch

    firmware = build_and_run(compiled, "run", input_header)
    assert firmware.build_messages == ""  # not one warning, and no flag needed to take the object
    got = printed_output(firmware, compiled.info.entry, compiled.info.outputs[0])
    assert got.tobytes() == emulated.tobytes()
    with torch.no_grad():
        reference = compiled.model(torch.from_numpy(compiled.example)).numpy()
    assert relative_error(got, reference) <= 1e-4
    # <name>_run uses the object's own static arena
    own = (f".bss.{compiled.name}_run_buf0", compiled.info.arena_bytes, f"{compiled.name}.o")
    assert own in input_sections(firmware.map_file(), ".bss")


@pytest.mark.usefixtures("firmware_toolchain")
def test_a_firmware_calling_only_run_with_arena_holds_only_the_callers_arena(
    compiled: Compiled, input_header: Path, emulated: np.ndarray
) -> None:
    firmware = build_and_run(compiled, "run_with_arena", input_header)
    info = compiled.info
    got = printed_output(firmware, f"{info.entry}_with_arena", info.outputs[0])
    assert got.tobytes() == emulated.tobytes()
    # .bss is main.c's arena and I/O buffers; the object's static arena went with the unused <name>_run
    buffers = [("arena", info.arena_bytes), ("input", math.prod(info.inputs[0]) * 4)]
    buffers.append(("output", math.prod(info.outputs[0]) * 4))
    assert sorted(input_sections(firmware.map_file(), ".bss")) == sorted(
        (f".bss.{name}", size, "main.o") for name, size in buffers
    )
    own = sum(size for _, size in buffers)
    assert own <= output_section_size(firmware.map_file(), ".bss") < own + 8  # + alignment
    assert info.entry not in firmware.symbols() and f"{info.entry}_with_arena" in firmware.symbols()


@pytest.mark.usefixtures("firmware_toolchain")
def test_without_an_input_header_the_input_is_main_cs_pattern(compiled: Compiled) -> None:
    info = compiled.info
    firmware = build_and_run(compiled, "run")
    i = np.arange(math.prod(info.inputs[0]), dtype=np.int64)
    pattern = ((i * 7919 % 2001 - 1000).astype(np.float32) / np.float32(1000)).reshape(info.inputs[0])
    expected = run_object(compiled.result.obj, [pattern], compiled.name).outputs[0]
    assert printed_output(firmware, info.entry, info.outputs[0]).tobytes() == expected.tobytes()


FAILING_MODEL_H = """#include <stdint.h>
#define FAILING_INPUT_SIZE 2
#define FAILING_OUTPUT_SIZE 1
#define FAILING_ARENA_SIZE 8
int failing_run(const float *input, float *output);
int failing_run_with_arena(const float *input, float *output, uint8_t *arena);
"""
FAILING_MODEL_C = """#include "failing.h"
int failing_run(const float *input, float *output) {  /* reads an address no memory answers: a fault */
    output[0] = input[0] + *(volatile float *)0xFFFFFFF0u;
    return 0;
}
int failing_run_with_arena(const float *input, float *output, uint8_t *arena) {
    (void)arena;
    output[0] = input[1];
    return 7;
}
"""


@pytest.mark.usefixtures("firmware_toolchain")
def test_a_fault_or_an_error_status_makes_qemu_fail(tmp_path: Path) -> None:
    """A model (here a stand-in written in C) that faults or returns non-zero: QEMU says so and exits with 1."""
    (tmp_path / "failing.h").write_text(FAILING_MODEL_H)
    (tmp_path / "failing.c").write_text(FAILING_MODEL_C)
    cpu = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]
    subprocess.run(["arm-none-eabi-gcc", *cpu, "-O2", "-c", "failing.c", "-o", "failing.o"], cwd=tmp_path, check=True)
    faulting = make(f"MODEL_DIR={tmp_path}", f"BUILD={tmp_path / 'run'}", "run")
    assert faulting.returncode != 0 and faulting.stdout.splitlines()[-1] == "fault: exception 0x03"  # HardFault
    failing = make(f"MODEL_DIR={tmp_path}", f"BUILD={tmp_path / 'arena'}", "ENTRY=run_with_arena", "run")
    assert failing.returncode != 0 and "[Makefile" in failing.stderr and "run] Error 1" in failing.stderr
    # the status and the output still come out: input[1] of the pattern is (7919 % 2001 - 1000) / 1000
    assert failing.stdout.splitlines()[-2:] == ["failing_run_with_arena returned 7", f"{0x3F6A7EFA:08x}"]
    assert np.array([0x3F6A7EFA], np.uint32).view(np.float32)[0] == np.float32(916) / np.float32(1000)


# --- the GNU ld map file -----------------------------------------------------------------------------------

# ` .bss.arena     0x20000000     0x2800 build/main.o` (a long name puts the rest on the next line)
_INPUT_SECTION = re.compile(r"^ ([^\s*]\S*)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+)$")


def _output_section(map_text: str, name: str) -> list[str]:
    """The memory map's lines for output section `name`, up to the next output section."""
    lines = map_text.split("Linker script and memory map", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.split(maxsplit=1)[:1] == [name])
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith(".")), len(lines))
    return lines[start:end]


def output_section_size(map_text: str, name: str) -> int:
    return int(_output_section(map_text, name)[0].split()[2], 16)


def input_sections(map_text: str, name: str) -> list[tuple[str, int, str]]:
    """(input section, size, object file name) of every non-empty input section in output section `name`."""
    lines: list[str] = []
    for line in _output_section(map_text, name)[1:]:
        if lines and re.fullmatch(r" \S+", lines[-1]) and line.startswith("  "):
            lines[-1] += line
        else:
            lines.append(line)
    matches = (_INPUT_SECTION.match(line) for line in lines)
    return [(m.group(1), int(m.group(2), 16), Path(m.group(3)).name) for m in matches if m and int(m.group(2), 16)]
