"""t2m-fuzz: a differential fuzzer of the whole compiler (docs/fuzzing.md).

spec.py and ops_*.py hold the op table; generator.py draws random valid graphs from it; graph.py renders a graph
as an nn.Module's source; runner.py climbs the verification ladder (PyTorch, nn interpreter, host JIT, emulated
Cortex-M4) under a mode of modes.py; minimise.py shrinks a failing graph; emit.py writes it as a pytest file;
report.py counts coverage; campaign.py ties them together for `t2m-fuzz`.
"""

from t2m.compiler.fuzz.generator import generate
from t2m.compiler.fuzz.graph import Graph, Node, build, make_input, render
from t2m.compiler.fuzz.minimise import minimise
from t2m.compiler.fuzz.modes import MODES, Mode
from t2m.compiler.fuzz.runner import Outcome, run_graph
from t2m.compiler.fuzz.spec import OPS, OpSpec, register

__all__ = ["MODES", "OPS", "Graph", "Mode", "Node", "OpSpec", "Outcome", "build", "generate", "make_input",
           "minimise", "register", "render", "run_graph"]
