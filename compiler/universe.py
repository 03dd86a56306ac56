"""t2m's dialects and passes as an xDSL `Universe`.

Registered under the `xdsl.universe` entry point, so xDSL's own tools (`xdsl-opt`, `xdsl-run`) know the `nn`
dialect and every t2m pass without any flag, and `t2m-opt` gets them the same way. (xDSL 0.74's `xdsl-gui` lists
only xDSL's own dialects and passes: `t2m-gui` is the same explorer with this registry.)
"""

from collections.abc import Callable

from xdsl.ir import Dialect
from xdsl.passes import ModulePass
from xdsl.universe import Universe


def _nn() -> Dialect:
    from t2m.dialects.nn import NN

    return NN


def _llvm_ext() -> Dialect:
    from t2m.dialects.llvm_ext import LLVM_EXT

    return LLVM_EXT


def _t2m() -> Dialect:
    from t2m.dialects.t2m import T2M

    return T2M


def _qnn() -> Dialect:
    from t2m.dialects.qnn import QNN

    return QNN


def _arm_dsp() -> Dialect:
    from t2m.dialects.arm_dsp import ARM_DSP

    return ARM_DSP


def all_dialects() -> dict[str, Callable[[], Dialect]]:
    return {"nn": _nn, "qnn": _qnn, "arm_dsp": _arm_dsp, "llvm_ext": _llvm_ext, "t2m": _t2m}


def all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    from t2m.passes import get_all_passes

    return get_all_passes()


T2M_UNIVERSE = Universe(all_dialects=all_dialects(), all_passes=all_passes())
