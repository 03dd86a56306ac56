"""Untrusted files never run code: .pt2 and .pth are read without unpickling (unless --trust-pickle), .npy without
pickles, and the host JIT refuses IR that names anything outside itself.

Every payload below creates a marker file when it runs; each "live" test shows it does run through the unsafe
loader (torch.export.load, torch.load, np.load with pickles, an unchecked JIT), so "no marker" means t2m stopped it.
"""

from __future__ import annotations

import importlib
import io
import json
import pickle
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from bad_inputs import builders

from t2m.compiler.backend import jit
from t2m.compiler.backend.errors import BackendError
from t2m.compiler.backend.llvm import parse_module
from t2m.compiler.cli import compile_main, import_main, run_main
from t2m.compiler.errors import T2MError
from t2m.compiler.importer import load_model
from t2m.compiler.importer.pt2 import check_program, load_pt2

ROOT = Path(__file__).resolve().parents[1]
RELU = str(ROOT / "tests" / "bad_inputs" / "files" / "relu.mlir")
TRUST_HINT = "which can run code when loaded, at {p}; pass --trust-pickle only if you trust the file"


def cli(main: Callable[[Sequence[str]], int], argv: list[str], capfd: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run a tool in this process: its exit status and its stderr."""
    status = main(argv)
    return status, capfd.readouterr().err


@pytest.fixture(scope="module")
def tinycnn_pt2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/models.py:TinyCNN saved by torch.export.save, untouched."""
    loaded = load_model(f"{ROOT}/examples/models.py:TinyCNN")
    assert loaded.module is not None and loaded.example_inputs is not None
    path = tmp_path_factory.mktemp("tinycnn") / "tinycnn.pt2"
    torch.export.save(torch.export.export(loaded.module, loaded.example_inputs), path)
    return path


@pytest.fixture(scope="module")
def tinycnn_ir(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("ir") / "tinycnn.mlir"
    assert import_main.main([f"{ROOT}/examples/models.py:TinyCNN", "-o", str(out)]) == 0
    return out.read_text()


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def marker(work: Path) -> Path:
    return work / builders.MARKER


# --- a standard archive: no pickle needed, same IR as the Python model --------------------------------------------


def test_a_standard_archive_holds_pickled_sample_inputs(tinycnn_pt2: Path):
    """Why the loader must skip them: torch.export.save writes the sample inputs as a torch.save pickle."""
    with zipfile.ZipFile(tinycnn_pt2) as zf:
        record = zf.read("tinycnn/data/sample_inputs/model.pt")
    with zipfile.ZipFile(io.BytesIO(record)) as inner:
        assert any(name.endswith("data.pkl") for name in inner.namelist())


@pytest.mark.parametrize("trust", [False, True], ids=["untrusted", "trusted"])
def test_standard_archive_imports_like_the_python_model(
    tinycnn_pt2: Path, tinycnn_ir: str, trust: bool, tmp_path: Path
):
    out = tmp_path / "a.mlir"
    assert import_main.main([str(tinycnn_pt2), "-o", str(out), *(["--trust-pickle"] if trust else [])]) == 0
    assert out.read_text() == tinycnn_ir


def test_the_safe_loader_never_reaches_an_unpickler(tinycnn_pt2: Path, monkeypatch: pytest.MonkeyPatch):
    """Every way torch could unpickle, evaluate or import is replaced by a trap while a real archive loads."""
    import sympy

    def trap(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"called with {args!r}")

    class TrapUnpickler:
        def __init__(self, *args: Any, **kwargs: Any):
            trap(*args)

    imported: list[str] = []
    real_import = importlib.import_module

    def record_import(name: str, package: str | None = None) -> Any:
        imported.append(name)
        return real_import(name, package)

    for owner, name, replacement in [
        (pickle, "loads", trap),
        (pickle, "load", trap),
        (pickle, "Unpickler", TrapUnpickler),
        (torch, "load", trap),
        (torch._C, "_pickle_load_obj", trap),
        (sympy, "sympify", trap),
        (importlib, "import_module", record_import),
    ]:
        monkeypatch.setattr(owner, name, replacement)
    program = load_pt2(str(tinycnn_pt2))
    assert {n.target.__name__ for n in program.graph.nodes if n.op == "call_function"} >= {"conv2d.default"}
    assert all(name.split(".")[0] in ("torch", "sympy") for name in imported), imported


# --- malicious .pt2 archives ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "builder", ["pt2_pickled_sample_inputs", "pt2_pickled_sample_inputs_valid", "pt2_pickled_weight"]
)
def test_the_pt2_payloads_are_live(builder: str, work: Path):
    """torch.export.load runs each payload (so 'no marker' below means t2m did not)."""
    getattr(builders, builder)(work)
    try:
        torch.export.load(work / "model.pt2")
    except Exception:
        pass  # some payloads return nothing usable: the load fails, after the code ran
    assert marker(work).exists()


def test_the_sympy_payload_is_live(work: Path):
    builders.pt2_sympy_expression(work)
    torch.export.load(work / "model.pt2")
    assert marker(work).exists()


PAYLOAD_TOOLS = {
    "import": (import_main.main, ["{p}", "-o", "{w}/out.mlir"], "t2m-import"),
    "check": (import_main.main, ["{p}", "--check"], "t2m-import"),
    "compile": (compile_main.main, ["{p}", "-o", "{w}/out"], "t2m-compile"),
    "run-torch": (run_main.main, [RELU, "--torch", "{p}"], "t2m-run"),
}


@pytest.mark.parametrize("tool", list(PAYLOAD_TOOLS))
@pytest.mark.parametrize(
    ("builder", "what"),
    [
        ("pt2_pickled_weight", "stores weight 'fc.weight' as a pickle"),
        ("pt2_sympy_expression", "has symbolic shapes (torch evaluates their expressions as Python)"),
        ("pt2_foreign_target", "calls 'torch.os.system' (not a PyTorch operator)"),
    ],
)
def test_a_pt2_that_needs_code_is_refused(
    builder: str, what: str, tool: str, work: Path, capfd: pytest.CaptureFixture[str]
):
    getattr(builders, builder)(work)
    main, argv, prog = PAYLOAD_TOOLS[tool]
    p = str(work / "model.pt2")
    status, err = cli(main, [a.format(p=p, w=work) for a in argv], capfd)
    assert (status, err.splitlines()) == (1, [f"{prog}: error: '{p}' {what}, {TRUST_HINT.format(p=p)}"])
    assert not marker(work).exists()
    assert not (work / "out.mlir").exists() and not (work / "out").exists()


@pytest.mark.parametrize("builder", ["pt2_pickled_sample_inputs", "pt2_pickled_sample_inputs_valid"])
@pytest.mark.parametrize("tool", ["import", "check", "compile"])
def test_pickled_sample_inputs_are_never_read(builder: str, tool: str, work: Path, capfd: pytest.CaptureFixture[str]):
    """The graph and weights are enough: the archive imports, and the payload in its sample inputs never runs."""
    getattr(builders, builder)(work)
    main, argv, _ = PAYLOAD_TOOLS[tool]
    p = str(work / "model.pt2")
    status, err = cli(main, [a.format(p=p, w=work) for a in argv + ["--no-run"] * (tool == "compile")], capfd)
    assert (status, err) == (0, "")
    assert not marker(work).exists()


def test_run_torch_refuses_a_program_without_reading_its_sample_inputs(work: Path, capfd: pytest.CaptureFixture[str]):
    builders.pt2_pickled_sample_inputs_valid(work)
    p = str(work / "model.pt2")
    status, err = cli(run_main.main, [RELU, "--torch", p], capfd)
    assert (status, err.splitlines()) == (
        1,
        [f"t2m-run: error: '{p}' is an exported program, not a module, at --torch; pass the model's .py:NAME"],
    )
    assert not marker(work).exists()


def _pickled_weight_archive(work: Path, payload: object) -> Path:
    def edit(config: dict[str, Any]) -> None:
        config["config"]["fc.weight"]["use_pickle"] = True

    config = builders.edit_json(builders.tiny_pt2(), "data/weights/model_weights_config.json", edit)
    replace = {"data/weights/model_weights_config.json": config, "data/weights/weight_0": builders.torch_saved(payload)}
    builders.rewrite_archive(builders.tiny_pt2(), work / "model.pt2", replace)
    return work / "model.pt2"


def test_a_trusted_pickled_weight_imports_like_the_plain_archive(work: Path):
    """--trust-pickle loads a genuine use_pickle weight through torch.export.load: same IR as the raw-bytes one."""
    (work / "plain.pt2").write_bytes(builders.tiny_pt2())
    weight = dict(builders._tiny_module().state_dict())["fc.weight"]  # type: ignore[attr-defined]
    pickled = _pickled_weight_archive(work, torch.nn.Parameter(weight))
    with pytest.raises(T2MError, match="stores weight 'fc.weight' as a pickle"):
        load_pt2(str(pickled))
    assert import_main.main([str(work / "plain.pt2"), "-o", str(work / "plain.mlir")]) == 0
    assert import_main.main([str(pickled), "--trust-pickle", "-o", str(work / "pickled.mlir")]) == 0
    plain = (work / "plain.mlir").read_text().replace("@plain", "@model")
    assert (work / "pickled.mlir").read_text() == plain
    assert "nn.linear" in plain


# --- what check_program refuses in the graph JSON ---------------------------------------------------------------


def _program(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    program = json.loads(builders.edit_json(builders.tiny_pt2(), "models/model.json", edit))
    return program


def _in_spec(program: dict[str, Any], spec: object) -> None:
    program["graph_module"]["module_call_graph"][0]["signature"]["in_spec"] = json.dumps(spec)


@pytest.mark.parametrize(
    ("edit", "what"),
    [
        (lambda p: p.update(guards_code=["__import__('os')"]), "carries guard code (Python source)"),
        (
            lambda p: p.update(range_constraints={"s0": {"min_val": 1, "max_val": 8}}),
            "has symbolic shapes (torch evaluates their expressions as Python)",
        ),
        (
            lambda p: _in_spec(
                p,
                [1, {"type": "collections.defaultdict", "context": "{}", "children_spec": []}],
            ),
            "names Python type 'collections.defaultdict' in its inputs or outputs",
        ),
        (
            lambda p: _in_spec(
                p,
                [1, {"type": "builtins.dict", "context": '[{"__enum__": 1, "fqn": "os:x"}]', "children_spec": []}],
            ),
            "names Python objects in its inputs or outputs",
        ),
        (
            lambda p: p["graph_module"]["graph"]["nodes"][0].update(target="torch.ops.__class__.x.y"),
            "calls 'torch.ops.__class__.x.y' (not a PyTorch operator)",
        ),
        (
            lambda p: p["graph_module"]["graph"]["nodes"][0].update(target="builtins.eval"),
            "calls 'builtins.eval' (not a PyTorch operator)",
        ),
    ],
    ids=["guards", "range-constraints", "defaultdict-spec", "enum-spec", "dunder-target", "builtin-target"],
)
def test_check_program_refuses_what_torch_would_run(edit: Callable[[dict[str, Any]], None], what: str):
    with pytest.raises(T2MError) as info:
        check_program("m.pt2", _program(edit))
    assert str(info.value) == f"'m.pt2' {what}, {TRUST_HINT.format(p='m.pt2')}"


def test_check_program_accepts_a_standard_program():
    check_program("m.pt2", _program(lambda p: None))


# --- .pth and .npy ----------------------------------------------------------------------------------------------


def test_the_pth_and_npy_payloads_are_live(work: Path):
    builders.pth_payload(work)
    torch.load(work / "model.pth", weights_only=False)
    assert marker(work).exists()
    marker(work).unlink()
    builders.npy_object_array(work)
    np.load(work / "input.npy", allow_pickle=True)
    assert marker(work).exists()


@pytest.mark.parametrize("builder", ["pth_payload", "pth_pickled_module"])
@pytest.mark.parametrize("tool", ["import", "check", "compile", "run-torch"])
def test_a_pickled_pth_is_refused(builder: str, tool: str, work: Path, capfd: pytest.CaptureFixture[str]):
    getattr(builders, builder)(work)
    main, argv, prog = PAYLOAD_TOOLS[tool]
    p = str(work / "model.pth")
    args = [a.format(p=p, w=work) for a in argv] + ["--arch", f"{work}/tiny.py:Tiny"]
    status, err = cli(main, args + ["--input-shape", "1x4"] * (tool != "run-torch"), capfd)
    expected = (
        f"{prog}: error: '{p}' is not a plain state dict (its pickle needs code to load), at {p}; a pickle can run"
        " code: pass --trust-pickle only if you trust the file, or save model.state_dict()"
    )
    assert (status, err.splitlines()) == (1, [expected])
    assert not marker(work).exists()


def test_an_object_npy_is_refused(work: Path, capfd: pytest.CaptureFixture[str]):
    builders.npy_object_array(work)
    p = str(work / "input.npy")
    status, err = cli(run_main.main, [RELU, "--input", p], capfd)
    expected = (
        f"t2m-run: error: '{p}' is not a readable .npy array (Object arrays cannot be loaded when"
        " allow_pickle=False), at --input; save it with numpy.save"
    )
    assert (status, err.splitlines()) == (1, [expected])
    assert not marker(work).exists()


# --- the host JIT -----------------------------------------------------------------------------------------------


def test_the_ll_payload_is_live(work: Path, monkeypatch: pytest.MonkeyPatch):
    """Without the check, the JIT calls libc's creat natively."""
    builders.ll_calls_creat(work)
    monkeypatch.setattr(jit, "check_host_safe", lambda *args: None)
    jit.HostJIT((work / "evil.ll").read_text()).run("f_run", [np.zeros(2, np.float32)], [np.zeros(2, np.float32)])
    assert marker(work).exists()


def test_run_refuses_ll_that_calls_libc(work: Path, capfd: pytest.CaptureFixture[str]):
    builders.ll_calls_creat(work)
    status, err = cli(run_main.main, [str(work / "evil.ll")], capfd)
    expected = (
        "t2m-run: error: the host JIT refuses external function 'creat' (t2m's code calls only its own functions,"
        f" memcpy, memmove and memset), at {work}/evil.ll; pass LLVM IR written by t2m-compile --emit ll or"
        " t2m-translate"
    )
    assert (status, err.splitlines()) == (1, [expected])
    assert not marker(work).exists()


_BODY = "define i32 @f(ptr %p) {\n  %r = {call}\n  ret i32 0\n}\n"


@pytest.mark.parametrize(
    ("ir", "what"),
    [
        (
            "declare i32 @system(ptr)\n" + _BODY.replace("{call}", "call i32 @system(ptr %p)"),
            "external function 'system' (t2m's code calls only its own functions, memcpy, memmove and memset)",
        ),
        (
            "@environ = external global ptr\n" + _BODY.replace("{call}", "load i32, ptr @environ"),
            "external global 'environ' (t2m's code defines every global it uses)",
        ),
        (
            "declare ptr @llvm.returnaddress(i32)\n"
            + _BODY.replace("{call}", "call ptr @llvm.returnaddress(i32 0)").replace("ret i32 0", "ret i32 1"),
            "LLVM intrinsic 'llvm.returnaddress' (not one of the arithmetic and memory intrinsics t2m emits)",
        ),
        (
            _BODY.replace("{call}", 'call i32 asm sideeffect "syscall", "=r"()'),
            "inline assembly (in function 'f')",
        ),
        (
            _BODY.replace("{call}", "call i32 %p()"),
            "an indirect call (in function 'f'; t2m's code calls functions by name)",
        ),
        ('module asm "nop"\n' + _BODY.replace("{call}", "add i32 0, 0"), "module-level assembly"),
        (
            "define weak i32 @g() {\n  ret i32 0\n}\n" + _BODY.replace("{call}", "call i32 @g()"),
            "weak_any symbol 'g' (it could bind to code outside the module)",
        ),
        (
            "@llvm.global_ctors = appending global [1 x { i32, ptr, ptr }] [{ i32, ptr, ptr } { i32 0, ptr @f,"
            " ptr null }]\n" + _BODY.replace("{call}", "add i32 0, 0"),
            "static constructors or destructors ('llvm.global_ctors')",
        ),
    ],
    ids=["libc-call", "external-global", "returnaddress", "inline-asm", "indirect-call", "module-asm", "weak", "ctors"],
)
def test_host_jit_refuses_what_t2m_never_emits(ir: str, what: str):
    with pytest.raises(BackendError) as info:
        jit.HostJIT(ir)
    assert str(info.value) == f"the host JIT refuses {what}"


def test_host_jit_refuses_arm_intrinsics_instead_of_aborting():
    """LLVM aborts the whole process when asked to select an Arm intrinsic for the host: the ones t2m does not
    emit (and has no portable definition of, compiler/backend/dsp_host.py) are refused first."""
    ir = "declare i32 @llvm.arm.qadd16(i32, i32)\n" + _BODY.replace("{call}", "call i32 @llvm.arm.qadd16(i32 1, i32 2)")
    with pytest.raises(BackendError) as info:
        jit.HostJIT(ir)
    assert str(info.value) == (
        "'llvm.arm.qadd16' is an intrinsic of the arm instruction set, which this machine cannot run (run the object"
        " on the emulated Cortex-M4 instead)"
    )


def test_host_jit_accepts_what_t2m_emits():
    """memcpy, memset and the arithmetic intrinsics pass the check, and run."""
    ir = """
declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)
declare float @llvm.fmuladd.f32(float, float, float)
declare float @llvm.maxnum.f32(float, float)
declare ptr @memset(ptr, i32, i64)
define i32 @f(ptr %in, ptr %out) {
  call void @llvm.memset.p0.i64(ptr %out, i8 0, i64 8, i1 false)
  call void @llvm.memcpy.p0.p0.i64(ptr %out, ptr %in, i64 4, i1 false)
  %x = load float, ptr %in
  %y = call float @llvm.fmuladd.f32(float %x, float 2.0, float 1.0)
  %z = call float @llvm.maxnum.f32(float %y, float 0.0)
  %o = getelementptr float, ptr %out, i64 1
  store float %z, ptr %o
  ret i32 0
}
"""
    jit.check_host_safe(parse_module(ir))
    out = np.full(2, np.nan, np.float32)
    assert jit.HostJIT(ir).run("f", [np.array([3.0], np.float32)], [out]) == 0
    np.testing.assert_array_equal(out, [3.0, 7.0])


def test_a_trusted_archive_torch_cannot_load_is_one_line(work: Path, capfd: pytest.CaptureFixture[str]):
    """--trust-pickle hands the archive to torch.export.load; its failure is still the one-line contract."""
    builders.pt2_foreign_target(work)
    p = str(work / "model.pt2")
    status, err = cli(import_main.main, [p, "--trust-pickle", "--check"], capfd)
    expected = (
        f"t2m-import: error: cannot load the trusted archive '{p}': Operator '<built-in function system>' is not an"
        " allowed operator type: (<class 'torch._ops.OpOverload'>, <class 'torch._ops.HigherOrderOperator'>), at"
        f" {p}; re-save it with torch.export.save"
    )
    assert (status, err.splitlines()) == (1, [expected])
