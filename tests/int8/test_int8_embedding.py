"""int8 embedding: the table quantized per tensor as an activation, its rows gathered by int32 indices (a model
input) in the table's quantization; PyTorch's converted model's numbers, and the same bits at every level
(integer interpreter = loop IR = host JIT = the Cortex-M4 object on the emulator), and through the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from int8_helpers import import_quantized, qnn_ops, quantize
from qnn_models import cortex_m4_object, emulated_outputs, jit_outputs, loop_outputs, reference
from torch import nn
from xdsl.dialects.builtin import ModuleOp

from t2m.compiler.importer import import_program
from t2m.compiler.ir import read_module
from t2m.dialects import qnn


class Tagger(nn.Module):
    """Token embeddings, a ReLU and a linear head (a tiny keyword or intent tagger)."""

    def __init__(self):
        super().__init__()
        self.emb, self.head = nn.Embedding(10, 8), nn.Linear(8, 3)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.emb(tokens)))


def _tokens(count: int, seed: int) -> list[tuple[torch.Tensor]]:
    generator = torch.Generator().manual_seed(seed)
    return [(torch.randint(0, 10, (2, 5), generator=generator),) for _ in range(count)]


def _converted() -> tuple[Any, ModuleOp]:
    torch.manual_seed(0)
    program = quantize(Tagger().eval(), _tokens(4, seed=1))
    return program, import_quantized(program)


def test_the_embedding_is_a_gather_of_int8_rows_within_one_lsb_of_torch_and_bit_exact_across_levels() -> None:
    program, module = _converted()
    assert "nn.embedding" in qnn_ops(module) and "qnn.linear" in qnn_ops(module)
    function = next(op for op in module.walk() if op.name == "func.func")
    assert str(function.function_type) == "(tensor<2x5xi32>) -> tensor<2x5x3xi8>"  # type: ignore[attr-defined]
    (s_out, z_out) = function.res_attrs.data[0].data["qnn.quant"].values  # type: ignore[union-attr]
    converted = program.module(check_guards=False)
    for (tokens,) in _tokens(3, seed=2):
        indices = tokens.numpy().astype(np.int32)
        (got,) = reference(module, [indices])
        with torch.no_grad():
            want = np.round(converted(tokens).numpy().astype(np.float64) / s_out) + z_out
        assert np.abs(got.astype(np.int64) - want).max() <= 1
    indices = _tokens(1, seed=3)[0][0].numpy().astype(np.int32)
    want = reference(module, [indices])
    obj = cortex_m4_object(module)
    for got in (loop_outputs(module, [indices]), jit_outputs(module, [indices]), emulated_outputs(obj, [indices])):
        assert np.array_equal(got[0], want[0])


def test_the_rows_keep_the_tables_quantization() -> None:
    """The looked-up rows are the table's int8 values themselves: an embedding alone returns them unchanged."""
    torch.manual_seed(0)
    program = quantize(nn.Sequential(nn.Embedding(6, 4)).eval(), [(torch.tensor([[0, 5, 2]]),)])
    module = import_quantized(program)
    table = next(op for op in module.walk() if op.name == "nn.constant")
    rows = np.frombuffer(table.value.data.data, np.int8).reshape(6, 4)  # type: ignore[attr-defined]
    (got,) = reference(module, [np.array([[0, 5, 2]], np.int32)])
    assert np.array_equal(got[0], rows[[0, 5, 2]])
    function = next(op for op in module.walk() if op.name == "func.func")
    assert isinstance(function.res_attrs.data[0].data["qnn.quant"], qnn.QuantAttr)  # type: ignore[union-attr]


def test_indices_computed_in_the_model_are_refused_with_the_reason() -> None:
    class Shifted(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 4)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            return self.emb(tokens + 1)

    program = quantize(Shifted().eval(), [(torch.tensor([[0, 1, 2]]),)])
    _, unsupported = import_program(program, "m")
    assert [u.reason for u in unsupported if u.op == "aten.embedding.default"] == [
        "embedding indices computed in the model: pass the indices as an integer model input"]


def test_t2m_compile_and_t2m_run_take_the_int32_indices(tmp_path: Path) -> None:
    """The command line: the C header declares the indices as int32_t (with no scale), t2m-run takes them as they
    are and prints what the reference interpreter computes."""
    model = tmp_path / "tagger.py"
    model.write_text(
        "import torch\nfrom torch import nn\n\n\nclass Tagger(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        torch.manual_seed(0)\n"
        "        self.emb, self.head = nn.Embedding(10, 8), nn.Linear(8, 3)\n\n"
        "    def forward(self, tokens):\n        return self.head(torch.relu(self.emb(tokens)))\n\n"
        "    def example_inputs(self):\n        return (torch.tensor([[1, 2, 3, 4, 5]]),)\n\n\n"
        "CALIBRATION = [(torch.tensor([[i, (i + 3) % 10, 9 - i, 0, 7]]),) for i in range(10)]\n"
    )
    np.save(tmp_path / "tokens.npy", np.array([[3, 1, 4, 1, 5]], np.int64))
    bin_dir = Path(sys.executable).parent
    compiled = subprocess.run(
        [bin_dir / "t2m-compile", f"{model}:Tagger", "--quantize", "int8", "--calibrate", f"{model}:CALIBRATION",
         "-o", tmp_path / "out", "--no-run"], capture_output=True, text=True, cwd=tmp_path)
    assert compiled.returncode == 0, compiled.stderr
    header = (tmp_path / "out" / "tagger.h").read_text()
    assert "int tagger_run(const int32_t *input, int8_t *output);" in header
    assert "TAGGER_INPUT_SCALE" not in header and "#define TAGGER_OUTPUT_SCALE" in header
    ran = subprocess.run([bin_dir / "t2m-run", tmp_path / "out" / "tagger.o", "--input", tmp_path / "tokens.npy",
                          "--check", "--raw", "-o", tmp_path / "y.npy"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    module = read_module(tmp_path / "out" / "tagger.mlir")
    (want,) = reference(module, [np.array([[3, 1, 4, 1, 5]], np.int32)])
    assert np.array_equal(np.load(tmp_path / "y.npy"), want)
