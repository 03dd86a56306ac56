"""Inputs of the bad-input corpus that are generated rather than kept as files (one function per `make:` name).

Each builder gets the case's work folder and writes what the case's command reads. Payloads that would run code
create `marker` (the runner checks it never appears).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

MARKER = "marker"


def read_only_folder(work: Path) -> None:
    """A folder nobody may write to, even root (the immutable attribute where the file system has one)."""
    folder = work / "readonly"
    folder.mkdir()
    os.chmod(folder, 0o555)
    if os.geteuid() == 0:  # root ignores permission bits; the immutable attribute stops root too
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("root needs an immutable folder (chattr +i) for this case; e2fsprogs or ext4 is missing")


def undo(work: Path) -> None:
    """Make everything a builder made removable again (called after each case)."""
    folder = work / "readonly"
    if folder.exists():
        if os.geteuid() == 0 and (chattr := shutil.which("chattr")):
            subprocess.run([chattr, "-i", str(folder)], capture_output=True)
        os.chmod(folder, 0o755)


def plain_file(work: Path) -> None:
    """A regular file where an output folder is expected."""
    (work / "plain").write_text("not a folder\n")


def binary_file(work: Path) -> None:
    """An ELF-like binary with bytes that are not UTF-8, under every suffix the tools read as text."""
    data = b"\x7fELF\x01\x01\x01\x00" + bytes(range(128, 256))
    for suffix in (".mlir", ".ll", ".py"):
        (work / f"binary{suffix}").write_bytes(data)


def empty_files(work: Path) -> None:
    for suffix in (".mlir", ".ll", ".o", ".npy", ".pt2", ".pth", ".py"):
        (work / f"empty{suffix}").write_bytes(b"")


# --- untrusted PyTorch files: payloads that create `marker` if anything unpickles or evaluates them ---------------


class Payload:
    """Unpickled, it evaluates Python: creates `marker`, then returns the value of `result` (an expression)."""

    def __init__(self, marker: Path, result: str = "None"):
        self.code = f"__import__('pathlib').Path({str(marker)!r}).touch() or {result}"

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (eval, (self.code,))


def torch_saved(value: object) -> bytes:
    """`torch.save`'s bytes for `value` (what the archive's pickled records hold)."""
    import io

    import torch

    buf = io.BytesIO()
    torch.save(value, buf)
    return buf.getvalue()


def _tiny_module() -> object:
    import torch

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(0)
            self.fc = torch.nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(self.fc(x))

    return Tiny().eval()


_SAVED: dict[str, bytes] = {}


def tiny_pt2() -> bytes:
    """A genuine `torch.export.save` archive of a 4 -> 2 linear + relu (saved once per process)."""
    if "tiny" not in _SAVED:
        import io

        import torch

        buf = io.BytesIO()
        torch.export.save(torch.export.export(_tiny_module(), (torch.zeros(1, 4),)), buf)  # type: ignore[arg-type]
        _SAVED["tiny"] = buf.getvalue()
    return _SAVED["tiny"]


def rewrite_archive(data: bytes, out: Path, replace: dict[str, bytes]) -> None:
    """Copy a `.pt2` zip to `out` with some records (named below the archive's top folder) replaced or added."""
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        prefix = src.namelist()[0].split("/", 1)[0] + "/"
        for name in src.namelist():
            short = name.removeprefix(prefix)
            dst.writestr(name, replace.pop(short) if short in replace else src.read(name))
        for short, content in replace.items():
            dst.writestr(prefix + short, content)


def edit_json(data: bytes, name: str, edit: Callable[[Any], None]) -> bytes:
    """The JSON record `name` of archive `data`, after `edit(obj)` changed it in place."""
    import io
    import json
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as src:
        prefix = src.namelist()[0].split("/", 1)[0] + "/"
        obj = json.loads(src.read(prefix + name))
    edit(obj)
    return json.dumps(obj).encode()


def pt2_pickled_sample_inputs(work: Path) -> None:
    """model.pt2 whose sample inputs (a record every archive has) run the payload and return nothing usable."""
    payload = torch_saved(Payload(work / MARKER))
    rewrite_archive(tiny_pt2(), work / "model.pt2", {"data/sample_inputs/model.pt": payload})


def pt2_pickled_sample_inputs_valid(work: Path) -> None:
    """model.pt2 whose sample inputs run the payload and then return valid inputs (torch.export.load succeeds)."""
    payload = torch_saved(Payload(work / MARKER, "((__import__('torch').zeros(1, 4),), {})"))
    rewrite_archive(tiny_pt2(), work / "model.pt2", {"data/sample_inputs/model.pt": payload})


def pt2_pickled_weight(work: Path) -> None:
    """model.pt2 whose fc.weight is stored with `use_pickle`: the payload runs, then returns a valid weight."""

    def edit(config: dict[str, Any]) -> None:
        config["config"]["fc.weight"]["use_pickle"] = True

    config = edit_json(tiny_pt2(), "data/weights/model_weights_config.json", edit)
    payload = torch_saved(Payload(work / MARKER, "__import__('torch').nn.Parameter(__import__('torch').zeros(2, 4))"))
    replace = {"data/weights/model_weights_config.json": config, "data/weights/weight_0": payload}
    rewrite_archive(tiny_pt2(), work / "model.pt2", replace)


def pt2_sympy_expression(work: Path) -> None:
    """model.pt2 with a 'symbolic size' that is Python code (torch parses it with sympy.sympify, i.e. eval)."""

    def edit(program: dict[str, Any]) -> None:
        size = program["graph_module"]["graph"]["tensor_values"]["x"]["sizes"]  # the user input's
        size[0] = {"as_expr": {"expr_str": Payload(work / MARKER, "1").code, "hint": None}}

    program = edit_json(tiny_pt2(), "models/model.json", edit)
    rewrite_archive(tiny_pt2(), work / "model.pt2", {"models/model.json": program})


def pt2_foreign_target(work: Path) -> None:
    """model.pt2 whose first node calls `torch.os.system` instead of an operator."""

    def edit(program: dict[str, Any]) -> None:
        program["graph_module"]["graph"]["nodes"][0]["target"] = "torch.os.system"

    program = edit_json(tiny_pt2(), "models/model.json", edit)
    rewrite_archive(tiny_pt2(), work / "model.pt2", {"models/model.json": program})


def pt2_truncated(work: Path) -> None:
    (work / "model.pt2").write_bytes(tiny_pt2()[:1000])


def pt2_not_an_archive(work: Path) -> None:
    """A valid zip file named .pt2 that is no torch.export archive."""
    import zipfile

    with zipfile.ZipFile(work / "model.pt2", "w") as zf:
        zf.writestr("notes/readme.txt", "hello\n")


def pt2_corrupt_weights(work: Path) -> None:
    """model.pt2 whose fc.weight record is 3 bytes: not a whole float32."""
    rewrite_archive(tiny_pt2(), work / "model.pt2", {"data/weights/weight_0": b"abc"})


_TINY_PY = """import torch


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 2)

    def forward(self, x):
        return torch.relu(self.fc(x))
"""


def pth_payload(work: Path) -> None:
    """model.pth: a state dict whose fc.bias is a payload that creates the marker and returns a valid bias."""
    import torch

    state = dict(_tiny_module().state_dict())  # type: ignore[attr-defined]
    state["fc.bias"] = Payload(work / MARKER, "__import__('torch').zeros(2)")
    torch.save(state, work / "model.pth")
    (work / "tiny.py").write_text(_TINY_PY)


def pth_pickled_module(work: Path) -> None:
    """model.pth holding a whole pickled module (`torch.save(model)`); importing its class creates the marker."""
    import importlib.util
    import sys

    import torch

    name = "t2m_untrusted_tiny"
    source = work / f"{name}.py"
    source.write_text(_TINY_PY)
    spec = importlib.util.spec_from_file_location(name, source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pickle finds the class by module name
    try:
        spec.loader.exec_module(module)
        torch.save(module.Tiny(), work / "model.pth")
    finally:
        del sys.modules[name]
    source.write_text(f"{_TINY_PY}\n__import__('pathlib').Path({str(work / MARKER)!r}).touch()\n")
    (work / "tiny.py").write_text(_TINY_PY)


def npy_object_array(work: Path) -> None:
    """input.npy holding an object array (a pickle) whose element would create the marker."""
    import numpy as np

    array = np.empty(1, dtype=object)
    array[0] = Payload(work / MARKER, "1.0")
    np.save(work / "input.npy", array, allow_pickle=True)


def npy_truncated(work: Path) -> None:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.zeros(16, np.float32))
    (work / "input.npy").write_bytes(buf.getvalue()[:100])


def evil_ll(marker: Path, declare: str, call: str) -> str:
    """A .ll whose function `f_run(ptr, ptr)` does `call` (libc's creat makes the marker)."""
    path = str(marker).encode() + b"\0"
    text = "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else f"\\{c:02X}" for c in path)
    return (
        f'@path = private constant [{len(path)} x i8] c"{text}"\n{declare}\n'
        f"define i32 @f_run(ptr %x, ptr %y) {{\n  {call}\n  ret i32 0\n}}\n"
    )


def ll_calls_creat(work: Path) -> None:
    """evil.ll: calls libc's creat(marker) natively if the host JIT runs it."""
    call = "%fd = call i32 @creat(ptr @path, i32 420)"
    (work / "evil.ll").write_text(evil_ll(work / MARKER, "declare i32 @creat(ptr, i32)", call))


def ll_available_externally(work: Path) -> None:
    """evil.ll: 'defines' creat as available_externally, so the JIT binds the call to libc's creat."""
    define = "define available_externally i32 @creat(ptr %p, i32 %m) {\n  ret i32 0\n}"
    call = "%fd = call i32 @creat(ptr @path, i32 420)"
    (work / "evil.ll").write_text(evil_ll(work / MARKER, define, call))


def npz_input(work: Path) -> None:
    """Two arrays in one .npz archive."""
    import numpy as np

    np.savez(work / "inputs.npz", x=np.zeros(2, np.float32), y=np.ones(2, np.float32))


_KERNEL_LL = """define i32 @m_run(ptr %in, ptr %out) {
  %x = load float, ptr %in, align 4
  store float %x, ptr %out, align 4
  ret i32 0
}
!llvm.ident = !{!0}
!0 = !{!"t2m-meta:META"}
"""


def _described(work: Path, meta: str) -> None:
    """A valid kernel whose model description is `meta`, as .ll and as a Cortex-M4 object."""
    from t2m.compiler.backend import compile_object

    text = _KERNEL_LL.replace("META", meta.replace('"', "\\22"))
    (work / "m.ll").write_text(text)
    (work / "m.o").write_bytes(compile_object(text, "cortex-m4", "O1"))


def meta_not_json(work: Path) -> None:
    _described(work, "{not json")


def meta_missing_keys(work: Path) -> None:
    _described(work, '{"name":"m"}')


def meta_wrong_types(work: Path) -> None:
    _described(work, '{"name":"m","inputs":"1x4","outputs":[[1]],"layers":[]}')


def truncated_mlir(work: Path) -> None:
    (work / "cut.mlir").write_text("func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {\n  %y = nn.relu %x : ten")


def llvm_module_without_model(work: Path) -> None:
    """An llvm-dialect module with a function but no #t2m.model (lowered by hand, not by bufferize)."""
    (work / "plain.mlir").write_text(
        "llvm.func @k(%p: !llvm.ptr) {\n  llvm.return\n}\n"
    )


# --- int8 quantization: calibration data and quantized graphs t2m cannot represent --------------------------------

QUANT_MODELS = Path(__file__).parent / "files" / "quant_models.py"


def calibration_files(work: Path) -> None:
    """Calibration data for files/quant_models.py:Tiny (input 1x1x4x4): empty, of a wrong shape, truncated, an
    object array (a pickle whose element would create the marker), and a Python source that yields nothing."""
    import io

    import numpy as np

    np.save(work / "empty.npy", np.zeros((0, 1, 1, 4, 4), np.float32))
    np.save(work / "wrong.npy", np.zeros((10, 3, 4, 4), np.float32))
    buf = io.BytesIO()
    np.save(buf, np.zeros((10, 1, 1, 4, 4), np.float32))
    (work / "cut.npy").write_bytes(buf.getvalue()[:100])
    array = np.empty(1, dtype=object)
    array[0] = Payload(work / MARKER, "1.0")
    np.save(work / "pickled.npy", array, allow_pickle=True)
    (work / "nothing.py").write_text("def samples():\n    return []\n")


def _quantized_pt2(work: Path, model_name: str, quantizer: Callable[[Any], Any]) -> None:
    """model.pt2: quant_models.<model_name> quantized by PT2E with quantizer(quant_models), converted, exported."""
    import importlib.util
    import sys

    import torch

    from t2m.compiler.importer.quantizer import quantize_program

    spec = importlib.util.spec_from_file_location("quant_models", QUANT_MODELS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["quant_models"] = module
    try:
        spec.loader.exec_module(module)
        model = getattr(module, model_name)().eval()
        example = model.example_inputs()
        generator = torch.Generator().manual_seed(0)
        samples = [(torch.randn(example[0].shape, generator=generator),) for _ in range(4)]
        program = quantize_program(torch.export.export(model, example), example, samples, quantizer(module))
        torch.export.save(program, work / "model.pt2")
    finally:
        del sys.modules["quant_models"]


def quantized_int16(work: Path) -> None:
    import torch

    _quantized_pt2(work, "Tiny", lambda m: m.conv_quantizer(torch.int16, torch.per_channel_symmetric))


def quantized_asymmetric_weights(work: Path) -> None:
    import torch

    _quantized_pt2(work, "Tiny", lambda m: m.conv_quantizer(torch.int8, torch.per_channel_affine))


def quantized_float_between(work: Path) -> None:
    from t2m.compiler.importer.quantizer import T2MQuantizer

    _quantized_pt2(work, "FloatBetween", lambda m: T2MQuantizer())


def quantized_tiny(work: Path) -> None:
    from t2m.compiler.importer.quantizer import T2MQuantizer

    _quantized_pt2(work, "Tiny", lambda m: T2MQuantizer())

def _int8_input(work: Path, size: int) -> None:
    import numpy as np

    np.save(work / "x.npy", np.arange(size).astype(np.int8))


def int8_wrong_size_input(work: Path) -> None:
    """x.npy: 5 int8 values for a model that takes 8."""
    _int8_input(work, 5)


def int8_object_and_wrong_size_input(work: Path) -> None:
    """int8_linear.o, the Cortex-M4 object of files/int8_linear.mlir, and x.npy with 5 int8 values for its 8."""
    from t2m.compiler.compile import CompileOptions, compile_module
    from t2m.compiler.ir import read_module

    module = read_module(Path(__file__).parent / "files" / "int8_linear.mlir")
    (work / "int8_linear.o").write_bytes(compile_module(module, "int8_linear", CompileOptions(run=False)).obj)
    _int8_input(work, 5)


def meta_int8_quant_out_of_range(work: Path) -> None:
    """An int8 object whose description gives its output a zero point of 300."""
    quant = '"dtype":"int8","quant":[[0.1,0],[0.1,300]]'
    _described(work, '{"name":"m","inputs":[[1]],"outputs":[[1]],"layers":[],' + quant + "}")


def relu_object(work: Path) -> None:
    """relu.o, the Cortex-M4 object of files/relu.mlir (its function `f` runs a few dozen instructions)."""
    from t2m.compiler.compile import CompileOptions, compile_module
    from t2m.compiler.ir import read_module

    module = read_module(Path(__file__).parent / "files" / "relu.mlir")
    (work / "relu.o").write_bytes(compile_module(module, "relu", CompileOptions(run=False)).obj)
