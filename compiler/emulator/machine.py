"""An emulated Cortex-M4 (unicorn) that runs one function of a t2m object and prices it in estimated cycles.

Memory map (zero wait states, as the cycle model assumes):

* flash at 0x0800_0000, read + execute: code, read-only data, and a BKPT trampoline used as return address.
* SRAM at 0x2000_0000, read + write, not executable. The stack sits at the *bottom* of SRAM and grows
  towards 0x2000_0000, so an overflow writes to unmapped memory and faults instead of silently corrupting
  `.bss` or the I/O buffers; `.data`/`.bss` follow the stack, then the caller's buffers.

The FPU: unicorn 2.1 resets an M-profile CPU with CPACR granting CP10/CP11 full access (its user-mode reset
path), and it does not model the System Control Space, so there is no CPACR to write; a VFP instruction runs
without setup. tests/emulator check that VFP code runs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from unicorn import (
    UC_ARCH_ARM,
    UC_HOOK_BLOCK,
    UC_HOOK_CODE,
    UC_HOOK_INSN_INVALID,
    UC_HOOK_INTR,
    UC_HOOK_MEM_INVALID,
    UC_MEM_FETCH_PROT,
    UC_MEM_FETCH_UNMAPPED,
    UC_MEM_READ_PROT,
    UC_MEM_READ_UNMAPPED,
    UC_MEM_WRITE_PROT,
    UC_MEM_WRITE_UNMAPPED,
    UC_MODE_MCLASS,
    UC_MODE_THUMB,
    UC_PROT_EXEC,
    UC_PROT_READ,
    UC_PROT_WRITE,
)
from unicorn import arm_const as reg
from unicorn.unicorn import Uc, UcError

from t2m.compiler.emulator.cycles import BlockProfile, CycleReport, ExactProfile, FunctionCost, FunctionMap
from t2m.compiler.emulator.decode import Decoder
from t2m.compiler.emulator.errors import EmulatorError, InstructionLimitError
from t2m.compiler.emulator.loader import FLASH_BASE, SRAM_BASE, Image, Symbol, load
from t2m.compiler.emulator.native import NativeBlockCounter, add_python_hook

KiB = 1024
CycleMode = Literal["native", "block", "exact"]
Arg = int | bytes | bytearray | memoryview | np.ndarray

STACK_PATTERN = 0xC5AC_CE55  # "stack ace": fills the stack before a run to find its high-water mark
_PAGE = 4 * KiB
_ARG_REGS = (reg.UC_ARM_REG_R0, reg.UC_ARM_REG_R1, reg.UC_ARM_REG_R2, reg.UC_ARM_REG_R3)
_CLEARED_REGS = (
    *_ARG_REGS, reg.UC_ARM_REG_R4, reg.UC_ARM_REG_R5, reg.UC_ARM_REG_R6, reg.UC_ARM_REG_R7,
    reg.UC_ARM_REG_R8, reg.UC_ARM_REG_R9, reg.UC_ARM_REG_R10, reg.UC_ARM_REG_R11, reg.UC_ARM_REG_R12,
)  # fmt: skip
_BUFFER_ALIGN = 8

# QEMU's ARM exception numbers, as unicorn passes them to UC_HOOK_INTR.
_EXCEPTIONS = {
    1: "UsageFault (undefined instruction)", 2: "SVC", 3: "prefetch abort", 4: "data abort", 5: "IRQ",
    6: "FIQ", 7: "BKPT", 8: "exception return", 22: "UsageFault (NOCP: FPU or coprocessor disabled)",
    23: "UsageFault (INVSTATE: invalid EPSR state)", 24: "stack limit", 27: "UsageFault (unaligned access)",
    28: "UsageFault (divide by zero)",
}  # fmt: skip
_ACCESS = {
    UC_MEM_READ_UNMAPPED: "read from unmapped address",
    UC_MEM_WRITE_UNMAPPED: "write to unmapped address",
    UC_MEM_READ_PROT: "read from protected address",
    UC_MEM_WRITE_PROT: "write to read-only flash address",
}


@dataclass(frozen=True, slots=True)
class RunResult:
    """Outcome of one call. `cycles` are *estimated* Cortex-M4 cycles (compiler/anchors/m4-timing.md)."""

    r0: int
    outputs: list[bytes | np.ndarray | None]  # each buffer argument read back after the call (None for ints);
    # the caller's arrays are left untouched
    cycles: int
    instructions: int
    functions: dict[str, FunctionCost]  # per function symbol
    stack_bytes: int  # stack high-water mark below the initial stack pointer

    @property
    def value(self) -> int:
        """r0 as a signed 32-bit C `int`."""
        return self.r0 - (1 << 32) if self.r0 & 0x8000_0000 else self.r0


def _round_up(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def _read_object(obj: bytes | str | os.PathLike[str], name: str | None) -> tuple[str, bytes]:
    if isinstance(obj, bytes | bytearray):
        return name or "model.o", bytes(obj)
    path = Path(obj)
    try:
        return name or path.name, path.read_bytes()
    except OSError as exc:
        raise EmulatorError(f"cannot read {path}: {exc.strerror}") from None


@dataclass
class _Buffer:
    arg: bytes | bytearray | memoryview | np.ndarray
    address: int
    data: bytes


class Emulator:
    """A Cortex-M4 with one object loaded; `call` runs a function of it (memory is reset for every call)."""

    def __init__(
        self,
        obj: bytes | str | os.PathLike[str],
        *,
        name: str | None = None,
        sram_size: int = 512 * KiB,
        stack_size: int = 64 * KiB,
        max_instructions: int = 500_000_000,
        mode: CycleMode = "native",
    ) -> None:
        if stack_size % 8 or stack_size >= sram_size:
            raise EmulatorError(f"stack_size {stack_size} must be a multiple of 8 and smaller than SRAM")
        self.name, data = _read_object(obj, name)
        self.sram_size = _round_up(sram_size, _PAGE)
        self.stack_size = stack_size
        self.max_instructions = max_instructions
        self.mode: CycleMode = mode
        self.image: Image = load([(self.name, data)], flash_base=FLASH_BASE, data_base=SRAM_BASE + stack_size)
        if self.image.data_end > SRAM_BASE + self.sram_size:
            raise EmulatorError(f"{self.name}: .data/.bss and stack need more than {self.sram_size} bytes of SRAM")
        self._uc = self._new_machine()
        self._decoder = Decoder(self._read_code)
        self._functions = FunctionMap([(s.name, s.address, s.size) for s in self.image.functions])
        self._fault: str | None = None
        self._install_fault_hooks()
        self._profile: BlockProfile | ExactProfile | NativeBlockCounter = self._install_cycle_model()

    # --- set-up ---------------------------------------------------------------------------------------

    def _new_machine(self) -> Uc:
        uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        uc.ctl_set_cpu_model(reg.UC_CPU_ARM_CORTEX_M4)
        flash = self.image.flash
        uc.mem_map(FLASH_BASE, _round_up(len(flash), _PAGE), UC_PROT_READ | UC_PROT_EXEC)
        uc.mem_write(FLASH_BASE, flash)
        uc.mem_map(SRAM_BASE, self.sram_size, UC_PROT_READ | UC_PROT_WRITE)
        return uc

    def _read_code(self, address: int, size: int) -> bytes:
        offset = address - FLASH_BASE
        return self.image.flash[max(offset, 0) : max(offset + size, 0)] if offset >= 0 else b""

    def _install_fault_hooks(self) -> None:
        uc = self._uc
        uc.hook_add(UC_HOOK_MEM_INVALID, self._on_memory_fault)
        uc.hook_add(UC_HOOK_INSN_INVALID, self._on_invalid_instruction)
        uc.hook_add(UC_HOOK_INTR, self._on_exception)

    def _install_cycle_model(self) -> BlockProfile | ExactProfile | NativeBlockCounter:
        if self.mode == "exact":
            exact = ExactProfile(self._decoder, self._functions)
            self._callback = add_python_hook(self._uc, UC_HOOK_CODE, exact.hook(self._stop_with))
            return exact
        profile = BlockProfile(self._decoder, self._functions)
        if self.mode == "block":
            self._callback = add_python_hook(self._uc, UC_HOOK_BLOCK, profile.hook(self._stop_with))
            return profile
        if self.mode != "native":
            raise EmulatorError(f"unknown cycle mode {self.mode!r}; use 'native', 'block' or 'exact'")
        counter = NativeBlockCounter(profile, FLASH_BASE, len(self.image.flash), self._stop_with)
        counter.install(self._uc)
        return counter

    # --- running ----------------------------------------------------------------------------------------

    def symbol(self, name: str) -> Symbol:
        found = self.image.symbols.get(name)
        if found is None:
            raise EmulatorError(f"no symbol '{name}' in {self.name}")
        return found

    def call(self, symbol: str, args: Sequence[Arg] = ()) -> RunResult:
        """Run `symbol(*args)` to completion: ints by value, buffers copied to SRAM and passed by pointer."""
        function = self.symbol(symbol)
        if not function.is_code:
            raise EmulatorError(f"'{symbol}' in {self.name} is data, not a function")
        if not function.thumb:
            raise EmulatorError(f"'{symbol}' in {self.name} is ARM-state code; a Cortex-M4 runs Thumb only")
        words, slots = self._marshal(args)
        buffers = [b for b in slots if b is not None]
        sp = self._reset_memory(buffers, words[4:])
        self._set_registers(words[:4], sp)
        self._profile.reset()
        self._run(function.call_address)
        report = self._report()
        return RunResult(
            r0=self._uc.reg_read(reg.UC_ARM_REG_R0),
            outputs=[self._read_back(b) if b is not None else None for b in slots],
            cycles=report.cycles,
            instructions=report.instructions,
            functions=report.functions,
            stack_bytes=self._stack_high_water(sp),
        )

    def _marshal(self, args: Sequence[Arg]) -> tuple[list[int], list[_Buffer | None]]:
        """Argument words (AAPCS: r0-r3, then the stack) and, per argument, the buffer placed in SRAM."""
        words: list[int] = []
        slots: list[_Buffer | None] = []
        cursor = _round_up(self.image.data_end, _BUFFER_ALIGN)
        for i, arg in enumerate(args):
            if isinstance(arg, bool | int | np.integer):
                value = int(arg)
                if not -(1 << 31) <= value < (1 << 32):
                    raise EmulatorError(f"argument {i} ({value}) does not fit in 32 bits")
                words.append(value & 0xFFFF_FFFF)
                slots.append(None)
                continue
            if isinstance(arg, np.ndarray):
                data = np.ascontiguousarray(arg).tobytes()
            elif isinstance(arg, bytes | bytearray | memoryview):
                data = bytes(arg)
            else:
                raise EmulatorError(f"argument {i}: expected int, bytes or numpy array, got {type(arg).__name__}")
            slots.append(_Buffer(arg, cursor, data))
            words.append(cursor)
            cursor = _round_up(cursor + len(data), _BUFFER_ALIGN)
        if cursor > SRAM_BASE + self.sram_size:
            raise EmulatorError(f"arguments need {cursor - SRAM_BASE} bytes of SRAM; raise sram_size")
        return words, slots

    def _reset_memory(self, buffers: Sequence[_Buffer], stack_words: Sequence[int]) -> int:
        """Rewrite all of SRAM: stack pattern, .data/.bss, buffers; returns the initial SP."""
        sram = bytearray(self.sram_size)
        pattern = STACK_PATTERN.to_bytes(4, "little")
        sram[: self.stack_size] = pattern * (self.stack_size // 4)
        data_offset = self.image.data_base - SRAM_BASE
        sram[data_offset : data_offset + len(self.image.data)] = self.image.data
        for buffer in buffers:
            offset = buffer.address - SRAM_BASE
            sram[offset : offset + len(buffer.data)] = buffer.data
        sp = SRAM_BASE + self.stack_size - _round_up(4 * len(stack_words), 8)
        for i, word in enumerate(stack_words):
            offset = sp - SRAM_BASE + 4 * i
            sram[offset : offset + 4] = word.to_bytes(4, "little")
        self._uc.mem_write(SRAM_BASE, bytes(sram))
        return sp

    def _set_registers(self, words: Sequence[int], sp: int) -> None:
        uc = self._uc
        for r in _CLEARED_REGS:
            uc.reg_write(r, 0)
        for r, word in zip(_ARG_REGS, words, strict=False):
            uc.reg_write(r, word)
        uc.reg_write(reg.UC_ARM_REG_SP, sp)
        uc.reg_write(reg.UC_ARM_REG_LR, self.image.return_address | 1)
        uc.reg_write(reg.UC_ARM_REG_XPSR, 0x0100_0000)  # Thumb, no flags, no IT state left from a fault
        uc.reg_write(reg.UC_ARM_REG_FPSCR, 0)

    def _run(self, entry: int) -> None:
        self._fault = None
        try:
            self._uc.emu_start(entry, self.image.return_address, count=self.max_instructions)
        except UcError as exc:
            if self._fault is None:
                pc = self._uc.reg_read(reg.UC_ARM_REG_PC)
                raise EmulatorError(f"emulator error: {exc} at pc {pc:#010x} ({self._where(pc)})") from None
        if self._fault is not None:
            raise EmulatorError(self._fault)
        pc = self._uc.reg_read(reg.UC_ARM_REG_PC)
        if pc != self.image.return_address:
            raise InstructionLimitError(
                f"instruction limit of {self.max_instructions:,} reached at pc {pc:#010x} ({self._where(pc)}); "
                "runaway code? raise max_instructions if the work is really that long",
                self.max_instructions,
                self.image.symbolize(pc),
            )

    def _report(self) -> CycleReport:
        profile = self._profile
        if isinstance(profile, ExactProfile):
            return profile.finish(self.image.return_address)
        return profile.report()

    def _read_back(self, buffer: _Buffer) -> bytes | np.ndarray:
        data = bytes(self._uc.mem_read(buffer.address, len(buffer.data)))
        arg = buffer.arg
        if isinstance(arg, np.ndarray):
            return np.frombuffer(data, dtype=arg.dtype).reshape(arg.shape).copy()
        return data

    def _stack_high_water(self, sp: int) -> int:
        stack = np.frombuffer(bytes(self._uc.mem_read(SRAM_BASE, self.stack_size)), dtype=np.uint32)
        touched = np.flatnonzero(stack != STACK_PATTERN)
        lowest = SRAM_BASE + 4 * int(touched[0]) if touched.size else sp
        return max(sp - lowest, 0)

    # --- faults ---------------------------------------------------------------------------------------

    def _where(self, pc: int) -> str:
        """`conv_0+0x12: str r1, [r0]` for a code address."""
        if not FLASH_BASE <= pc < FLASH_BASE + len(self.image.flash):
            return f"{self.image.symbolize(pc)}: no code there"
        return f"{self.image.symbolize(pc)}: {self._decoder.insn(pc).text}"

    def _stop_with(self, message: str) -> None:
        if self._fault is None:
            self._fault = message
        self._uc.emu_stop()

    def _jump_origin(self) -> str:
        """The instruction that jumped, for faults where PC is already at the bad target."""
        profile = self._profile
        if isinstance(profile, ExactProfile):
            last = profile.last_address
        else:
            inner = profile.profile if isinstance(profile, NativeBlockCounter) else profile
            last = inner.blocks[profile.previous].last_address if profile.previous else None
        return f" (jumped from {self._where(last)})" if last is not None else ""

    def _on_memory_fault(self, uc: Uc, access: int, address: int, size: int, value: int, _data: object) -> bool:
        pc = uc.reg_read(reg.UC_ARM_REG_PC)
        stack_floor = SRAM_BASE - 64 * KiB
        if access in (UC_MEM_FETCH_UNMAPPED, UC_MEM_FETCH_PROT):
            kind = "unmapped" if access == UC_MEM_FETCH_UNMAPPED else "non-executable"
            self._fault = f"memory fault: jump to {kind} address {address:#010x}{self._jump_origin()}"
        elif stack_floor <= address < SRAM_BASE:
            self._fault = (
                f"stack overflow: the code needs more than {self.stack_size} bytes of stack "
                f"({_ACCESS.get(access, 'access to')} {address:#010x} at pc {pc:#010x} ({self._where(pc)})); "
                "raise stack_size"
            )
        else:
            what = _ACCESS.get(access, f"access type {access} at")
            self._fault = f"memory fault: {what} {address:#010x} at pc {pc:#010x} ({self._where(pc)})"
        return False

    def _on_invalid_instruction(self, uc: Uc, _data: object) -> bool:
        pc = uc.reg_read(reg.UC_ARM_REG_PC)
        text = self._decoder.insn(pc).text if FLASH_BASE <= pc < FLASH_BASE + len(self.image.flash) else ""
        if text.startswith(("udf", "<undecodable")):
            self._fault = f"usage fault: undefined instruction at pc {pc:#010x} ({self._where(pc)})"
        else:
            self._fault = (
                f"usage fault: cannot execute at pc {pc:#010x} ({self._where(pc)}): not a Cortex-M4 "
                f"instruction, or reached in ARM state (a branch to an address without the Thumb bit)"
                f"{self._jump_origin()}"
            )
        return False

    def _on_exception(self, uc: Uc, intno: int, _data: object) -> None:
        pc = uc.reg_read(reg.UC_ARM_REG_PC)
        name = _EXCEPTIONS.get(intno, f"#{intno}")
        self._stop_with(f"cpu exception {name} at pc {pc:#010x} ({self._where(pc)})")


def run_function(
    obj: bytes | str | os.PathLike[str],
    symbol: str,
    args: Sequence[Arg] = (),
    *,
    name: str | None = None,
    sram_size: int = 512 * KiB,
    stack_size: int = 64 * KiB,
    max_instructions: int = 500_000_000,
    mode: CycleMode = "native",
) -> RunResult:
    """Load `obj` and run `symbol(*args)` once (see Emulator for the options)."""
    emulator = Emulator(
        obj, name=name, sram_size=sram_size, stack_size=stack_size, max_instructions=max_instructions, mode=mode
    )
    return emulator.call(symbol, args)
