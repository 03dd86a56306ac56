"""The calibration data of `--quantize int8 --calibrate DATA`: the inputs whose activation ranges set the scales.

DATA is one of:
  - `data.npy`: one array of shape (N, *input shape), e.g. (100, 1, 1, 49, 10) for a 1x1x49x10 input (for a
    batch-1 input, (N, *input shape without the batch) is taken too: (100, 1, 49, 10));
  - `data.npz`: the same, one array per model input, in the model's input order;
  - `file.py:NAME`: NAME is an iterable of samples, or a function returning one; a sample is a tensor or array
    of the input shape (or a tuple of them, one per input);
  - `random`: seeded N(0, 1) inputs, only when asked for by name: the ranges then say nothing about real data.

Arrays are read with `allow_pickle=False`: an object array is refused, never unpickled.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from t2m.compiler.errors import T2MError
from t2m.compiler.files import read_bytes
from t2m.compiler.pyfile import import_file

FLAG = "--calibrate"
RANDOM = "random"
RANDOM_SAMPLES = 32
Shape = tuple[int, ...]


def _fmt(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape) or "a scalar"


def _bad_array(spec: str, reason: str) -> T2MError:
    return T2MError(
        f"calibration data '{spec}' is not a readable .npy/.npz array ({reason})",
        FLAG,
        "save N samples of the model's input with numpy.save",
    )


def _read_arrays(spec: str) -> list[np.ndarray]:
    """The arrays of a .npy or .npz file, one per model input."""
    data = read_bytes(spec, FLAG)
    try:
        loaded = np.load(io.BytesIO(data), allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return [loaded]
        with loaded:
            return [loaded[name] for name in loaded.files]
    except (ValueError, TypeError, OSError, EOFError) as e:
        raise _bad_array(spec, (str(e).splitlines() or [type(e).__name__])[0]) from None


def _as_batch(spec: str, array: np.ndarray, shape: Shape) -> np.ndarray:
    """(N, *shape) float32 samples from an array of that shape (or (N, *shape[1:]) for a batch-1 input)."""
    if array.dtype.kind not in "fiub":
        raise _bad_array(spec, f"its elements are {array.dtype}, not numbers")
    if array.ndim == len(shape) and shape[0] == 1 and array.shape[1:] == shape[1:]:
        array = array[:, None]  # (N, C, H, W) for a 1xCxHxW input: N samples
    if array.ndim != len(shape) + 1 or tuple(array.shape[1:]) != shape:
        raise T2MError(
            f"calibration data '{spec}' has shape {_fmt(array.shape)}, the model's input is {_fmt(shape)}",
            FLAG,
            f"pass an array of shape Nx{_fmt(shape)} (N samples)",
        )
    if array.shape[0] == 0:
        raise T2MError(f"calibration data '{spec}' holds no samples (N = 0)", FLAG, "give at least one sample")
    return array.astype(np.float32)


def _from_arrays(spec: str, arrays: list[np.ndarray], shapes: Sequence[Shape]) -> list[tuple[Any, ...]]:
    import torch

    if len(arrays) != len(shapes):
        raise T2MError(
            f"calibration data '{spec}' holds {len(arrays)} arrays, the model takes {len(shapes)} inputs",
            FLAG,
            "save one array per model input (numpy.savez, in input order)",
        )
    batches = [_as_batch(spec, a, s) for a, s in zip(arrays, shapes, strict=True)]
    if len({len(b) for b in batches}) > 1:
        raise T2MError(
            f"calibration data '{spec}' has arrays of different sample counts", FLAG, "give every input N samples"
        )
    return [tuple(torch.from_numpy(b[i]) for b in batches) for i in range(len(batches[0]))]


def _sample(spec: str, index: int, item: Any, shapes: Sequence[Shape]) -> tuple[Any, ...]:
    """One sample of a Python iterable as a tuple of float32 tensors of the model's input shapes."""
    import torch

    parts = tuple(item) if isinstance(item, list | tuple) else (item,)
    if len(parts) != len(shapes):
        raise T2MError(
            f"calibration sample {index} of '{spec}' has {len(parts)} tensors, the model takes {len(shapes)} inputs",
            FLAG,
            "yield one tensor per input (a tuple for several)",
        )
    tensors = []
    for part, shape in zip(parts, shapes, strict=True):
        if not isinstance(part, torch.Tensor | np.ndarray) or part.dtype == object:
            raise T2MError(
                f"calibration sample {index} of '{spec}' is a {type(part).__name__}, not a tensor",
                FLAG,
                "yield torch tensors or numpy arrays of the input shape",
            )
        tensor = torch.as_tensor(part).to(torch.float32)
        if tuple(tensor.shape) != shape:
            raise T2MError(
                f"calibration sample {index} of '{spec}' has shape {_fmt(tensor.shape)}, "
                f"the model's input is {_fmt(shape)}",
                FLAG,
                "yield tensors of the model's input shape",
            )
        tensors.append(tensor)
    return tuple(tensors)


def _from_python(spec: str, shapes: Sequence[Shape]) -> list[tuple[Any, ...]]:
    import torch

    path, _, name = spec.rpartition(":")
    module = import_file(path, "calibration file", FLAG, "fix the calibration file")
    if not hasattr(module, name):
        raise T2MError(f"'{path}' defines no '{name}'", FLAG, "name an iterable of input tensors or a function")
    source = getattr(module, name)
    try:
        if callable(source) and not isinstance(source, torch.Tensor | np.ndarray):
            source = source()
        if isinstance(source, torch.Tensor | np.ndarray):  # one batch: (N, *shape)
            return _from_arrays(spec, [np.asarray(source)], shapes)
        if not isinstance(source, Iterable):
            raise T2MError(
                f"'{spec}' is a {type(source).__name__}, not an iterable of input tensors",
                FLAG,
                "name a list or generator of tensors, or a function returning one",
            )
        samples = [_sample(spec, i, item, shapes) for i, item in enumerate(source)]
    except T2MError:
        raise
    except Exception as e:
        raise T2MError(
            f"calibration source '{spec}' raised {type(e).__name__}: {e}", FLAG, "fix the calibration file"
        ) from e
    if not samples:
        raise T2MError(f"calibration data '{spec}' holds no samples", FLAG, "give at least one sample")
    return samples


def random_samples(shapes: Sequence[Shape], count: int = RANDOM_SAMPLES, seed: int = 0) -> list[tuple[Any, ...]]:
    import torch

    generator = torch.Generator().manual_seed(seed)
    return [tuple(torch.randn(s, generator=generator) for s in shapes) for _ in range(count)]


def load_calibration(spec: str, shapes: Sequence[Shape], tool: str) -> list[tuple[Any, ...]]:
    """The calibration samples DATA names, each a tuple of float32 tensors of the model's input shapes."""
    if spec == RANDOM:
        print(
            f"{tool}: warning: --calibrate random: the int8 ranges come from {RANDOM_SAMPLES} random N(0, 1) "
            "inputs and are meaningless for real data",
            file=sys.stderr,
        )
        return random_samples(shapes)
    if spec.endswith((".npy", ".npz")):
        return _from_arrays(spec, _read_arrays(spec), shapes)
    if ".py:" in spec:
        return _from_python(spec, shapes)
    raise T2MError(
        f"unknown calibration data '{spec}'",
        FLAG,
        "pass a .npy/.npz array of N input samples, file.py:NAME, or 'random'",
    )
