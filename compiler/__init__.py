"""t2m compiler: importer, interpreter, pipeline, backends and command-line tools."""

import os

# PyTorch runs t2m's models (tiny, batch 1) for export, calibration and checks. Its default thread pool, one
# thread per core, made a MobileNetV1 inference 100x slower (0.17 s against 1.8 ms) on a 2-core machine with other
# work running. Set before torch is imported (t2m imports it lazily); a user's own setting wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")
