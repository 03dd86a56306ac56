"""Unicorn hooks without Python on the hot path: a block hook compiled for the host with llvmlite.

A Python callback costs ~0.4 µs per call through ctypes, which for a 100 M-instruction model run is most of
the run time. The block model (cycles.BlockProfile) only needs three counter increments per executed block,
so this module JIT-compiles that hook body from LLVM IR for the host and registers the native function with
unicorn directly. Python runs only when a block is seen for the first time (to decode and price it).

The hook maps a block start to a dense block id through a table indexed by halfword offset in flash; a miss
(unknown block, or a block starting at the same address with another size) calls back into Python.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

import llvmlite.binding as llvm
import numpy as np
from unicorn import UC_HOOK_BLOCK, UC_HOOK_CODE
from unicorn.unicorn import Uc
from unicorn.unicorn_py3.arch.types import uc_hook_h
from unicorn.unicorn_py3.unicorn import HOOK_CODE_CFUNC, uclib

from t2m.compiler.emulator.cycles import BlockProfile, CycleReport

MISS_CFUNC = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint32)


class HookState(ctypes.Structure):
    """Shared with the native hook; field order is the IR's `getelementptr i64, ptr %st, N`."""

    _fields_ = [
        ("table", ctypes.c_void_p),  # 0: u32 block id per flash halfword (0 = unknown)
        ("base", ctypes.c_uint64),  # 1: flash base address
        ("halfwords", ctypes.c_uint64),  # 2: table length
        ("block_size", ctypes.c_void_p),  # 3: u32 per id
        ("count", ctypes.c_void_p),  # 4: u64 per id: executions
        ("fallthrough_hits", ctypes.c_void_p),  # 5: u64 per id: successor was the fall-through
        ("after_ldst", ctypes.c_void_p),  # 6: u64 per id: entered after a single load/store
        ("fallthrough", ctypes.c_void_p),  # 7: u64 per id: start + size
        ("last_ldst", ctypes.c_void_p),  # 8: u8 per id
        ("previous", ctypes.c_uint64),  # 9: id of the previous block
        ("miss", ctypes.c_void_p),  # 10: u64 miss(u64 address, u32 size) → id
    ]


_HOOK_IR = r"""
define void @t2m_block_hook(ptr %uc, i64 %addr, i32 %size, ptr %st) {
entry:
  %base.p = getelementptr inbounds i64, ptr %st, i64 1
  %base = load i64, ptr %base.p
  %off = sub i64 %addr, %base
  %hw = lshr i64 %off, 1
  %n.p = getelementptr inbounds i64, ptr %st, i64 2
  %n = load i64, ptr %n.p
  %inrange = icmp ult i64 %hw, %n
  br i1 %inrange, label %lookup, label %miss
lookup:
  %table = load ptr, ptr %st
  %slot = getelementptr inbounds i32, ptr %table, i64 %hw
  %id32 = load i32, ptr %slot
  %id = zext i32 %id32 to i64
  %bsize.pp = getelementptr inbounds i64, ptr %st, i64 3
  %bsize = load ptr, ptr %bsize.pp
  %bs.p = getelementptr inbounds i32, ptr %bsize, i64 %id
  %bs = load i32, ptr %bs.p
  %same = icmp eq i32 %bs, %size
  br i1 %same, label %count, label %miss
miss:
  %miss.pp = getelementptr inbounds i64, ptr %st, i64 10
  %missfn = load ptr, ptr %miss.pp
  %nid = call i64 %missfn(i64 %addr, i32 %size)
  br label %count
count:
  %bid = phi i64 [ %id, %lookup ], [ %nid, %miss ]
  %count.pp = getelementptr inbounds i64, ptr %st, i64 4
  %counts = load ptr, ptr %count.pp
  %c.p = getelementptr inbounds i64, ptr %counts, i64 %bid
  %c = load i64, ptr %c.p
  %c1 = add i64 %c, 1
  store i64 %c1, ptr %c.p
  %prev.p = getelementptr inbounds i64, ptr %st, i64 9
  %prev = load i64, ptr %prev.p
  %ft.pp = getelementptr inbounds i64, ptr %st, i64 7
  %ft = load ptr, ptr %ft.pp
  %ftv.p = getelementptr inbounds i64, ptr %ft, i64 %prev
  %ftv = load i64, ptr %ftv.p
  %hit = icmp eq i64 %ftv, %addr
  br i1 %hit, label %fthit, label %after
fthit:
  %fh.pp = getelementptr inbounds i64, ptr %st, i64 5
  %fh = load ptr, ptr %fh.pp
  %fh.p = getelementptr inbounds i64, ptr %fh, i64 %prev
  %fhv = load i64, ptr %fh.p
  %fhv1 = add i64 %fhv, 1
  store i64 %fhv1, ptr %fh.p
  br label %after
after:
  %ll.pp = getelementptr inbounds i64, ptr %st, i64 8
  %ll = load ptr, ptr %ll.pp
  %ll.p = getelementptr inbounds i8, ptr %ll, i64 %prev
  %llv = load i8, ptr %ll.p
  %was.ldst = icmp ne i8 %llv, 0
  br i1 %was.ldst, label %ldst, label %done
ldst:
  %li.pp = getelementptr inbounds i64, ptr %st, i64 6
  %li = load ptr, ptr %li.pp
  %li.p = getelementptr inbounds i64, ptr %li, i64 %bid
  %liv = load i64, ptr %li.p
  %liv1 = add i64 %liv, 1
  store i64 %liv1, ptr %li.p
  br label %done
done:
  store i64 %bid, ptr %prev.p
  ret void
}
"""


@functools.cache
def _jit() -> tuple[llvm.ExecutionEngine, int]:
    """Compile the hook for the host once per process; the engine must stay alive with the code."""
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    tm = llvm.Target.from_default_triple().create_target_machine(opt=2)
    module = llvm.parse_assembly(_HOOK_IR)
    module.triple = tm.triple
    module.data_layout = str(tm.target_data)
    module.verify()
    engine = llvm.create_mcjit_compiler(module, tm)
    engine.finalize_object()
    return engine, engine.get_function_address("t2m_block_hook")


def add_raw_hook(uc: Uc, htype: int, callback: int, user_data: int) -> int:
    """Register a hook by raw function pointer (bypasses the Python binding's per-call wrappers)."""
    handle = uc_hook_h()
    status = uclib.uc_hook_add(
        uc._uch,
        ctypes.byref(handle),
        htype,
        ctypes.c_void_p(callback),
        ctypes.c_void_p(user_data),
        ctypes.c_uint64(1),
        ctypes.c_uint64(0),
    )
    if status != 0:
        raise RuntimeError(f"uc_hook_add failed with status {status}")
    return handle.value


def add_python_hook(uc: Uc, htype: int, callback: Callable[[int, int, int, int], None]) -> object:
    """Register `callback(uc, address, size, user_data)` as a code or block hook, with one ctypes layer.

    Returns the ctypes function object, which must stay alive as long as the hook is installed.
    """
    assert htype in (UC_HOOK_CODE, UC_HOOK_BLOCK)
    function = HOOK_CODE_CFUNC(callback)
    add_raw_hook(uc, htype, ctypes.cast(function, ctypes.c_void_p).value or 0, 0)
    return function


class _BlockArrays:
    """Per-block-id arrays shared with the native hook (id 0 is "no previous block")."""

    def __init__(self, capacity: int, old: _BlockArrays | None = None) -> None:
        self.size = np.zeros(capacity, dtype=np.uint32)
        self.count = np.zeros(capacity, dtype=np.uint64)
        self.hits = np.zeros(capacity, dtype=np.uint64)
        self.after = np.zeros(capacity, dtype=np.uint64)
        self.fallthrough = np.zeros(capacity, dtype=np.uint64)
        self.last_ldst = np.zeros(capacity, dtype=np.uint8)
        if old is not None:
            for name in ("size", "count", "hits", "after", "fallthrough", "last_ldst"):
                current = getattr(old, name)
                getattr(self, name)[: len(current)] = current
        self.fallthrough[0] = np.iinfo(np.uint64).max

    def __len__(self) -> int:
        return len(self.count)

    def publish(self, state: HookState) -> None:
        """Point the native state at these arrays."""
        state.block_size = self.size.ctypes.data
        state.count = self.count.ctypes.data
        state.fallthrough_hits = self.hits.ctypes.data
        state.after_ldst = self.after.ctypes.data
        state.fallthrough = self.fallthrough.ctypes.data
        state.last_ldst = self.last_ldst.ctypes.data


class NativeBlockCounter:
    """Counters of a BlockProfile kept in numpy arrays that the JIT-compiled block hook updates."""

    _INITIAL_BLOCKS = 4096

    def __init__(
        self, profile: BlockProfile, flash_base: int, flash_size: int, on_error: Callable[[str], None]
    ) -> None:
        self.profile = profile
        self._on_error = on_error
        self._table = np.zeros(flash_size // 2, dtype=np.uint32)
        self._arrays = _BlockArrays(self._INITIAL_BLOCKS)
        self.state = HookState()
        self.state.table = self._table.ctypes.data
        self.state.base = flash_base
        self.state.halfwords = len(self._table)
        self._miss_callback = MISS_CFUNC(self._miss)
        self.state.miss = ctypes.cast(self._miss_callback, ctypes.c_void_p).value
        self._arrays.publish(self.state)

    def install(self, uc: Uc) -> None:
        _, hook = _jit()
        add_raw_hook(uc, UC_HOOK_BLOCK, hook, ctypes.addressof(self.state))

    def reset(self) -> None:
        self._arrays.count[:] = 0
        self._arrays.hits[:] = 0
        self._arrays.after[:] = 0
        self.state.previous = 0

    @property
    def previous(self) -> int:
        return self.state.previous

    def report(self) -> CycleReport:
        n = len(self.profile.blocks)
        a = self._arrays
        return self.profile.report(a.count[:n].tolist(), a.hits[:n].tolist(), a.after[:n].tolist())

    def _miss(self, address: int, size: int) -> int:
        try:
            bid = self.profile.block_id(address, size)
            if bid >= len(self._arrays):
                self._arrays = _BlockArrays(2 * bid, self._arrays)
                self._arrays.publish(self.state)
            block = self.profile.blocks[bid]
            self._arrays.size[bid] = size
            self._arrays.fallthrough[bid] = block.fallthrough
            self._arrays.last_ldst[bid] = block.last_ldst
            halfword = (address - self.state.base) >> 1
            if 0 <= halfword < len(self._table):
                self._table[halfword] = bid
            return bid
        except Exception as exc:  # noqa: BLE001 - must not unwind through unicorn's C frames
            self._on_error(f"cycle model failed on the block at {address:#010x}: {exc}")
            return 0
