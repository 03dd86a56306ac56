"""Thumb-2 decoding with capstone, reduced to the facts the cycle model needs.

Every executed instruction is decoded once and cached by address. Decoding runs start at basic-block starts
and are extended over IT blocks, so capstone sees the IT instruction before the instructions it predicates and
reports their condition codes; both the fast block model and the slow per-instruction model read the same
cached `Insn`, so they can only disagree on control flow, which is what the equivalence tests check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import capstone
from capstone import arm_const as arm

# Instruction classes of compiler/anchors/m4-timing.md, by capstone instruction id.
_SINGLE_LOADS = frozenset(
    {
        arm.ARM_INS_LDR, arm.ARM_INS_LDRB, arm.ARM_INS_LDRH, arm.ARM_INS_LDRSB, arm.ARM_INS_LDRSH,
        arm.ARM_INS_LDRT, arm.ARM_INS_LDRBT, arm.ARM_INS_LDRHT, arm.ARM_INS_LDRSBT, arm.ARM_INS_LDRSHT,
        arm.ARM_INS_LDREX, arm.ARM_INS_LDREXB, arm.ARM_INS_LDREXH,
    }
)  # fmt: skip
_SINGLE_STORES = frozenset(
    {
        arm.ARM_INS_STR, arm.ARM_INS_STRB, arm.ARM_INS_STRH, arm.ARM_INS_STRT, arm.ARM_INS_STRBT,
        arm.ARM_INS_STRHT, arm.ARM_INS_STREX, arm.ARM_INS_STREXB, arm.ARM_INS_STREXH,
    }
)  # fmt: skip
_DOUBLE_LDST = frozenset({arm.ARM_INS_LDRD, arm.ARM_INS_STRD, arm.ARM_INS_LDREXD, arm.ARM_INS_STREXD})
# Register lists: LDM/STM name a base register first, PUSH/POP do not.
_MULTI_WITH_BASE = frozenset(
    {
        arm.ARM_INS_LDM, arm.ARM_INS_LDMDB, arm.ARM_INS_LDMDA, arm.ARM_INS_LDMIB,
        arm.ARM_INS_STM, arm.ARM_INS_STMDB, arm.ARM_INS_STMDA, arm.ARM_INS_STMIB,
    }
)  # fmt: skip
_MULTI_NO_BASE = frozenset({arm.ARM_INS_PUSH, arm.ARM_INS_POP})
_VMULTI_WITH_BASE = frozenset({arm.ARM_INS_VLDMIA, arm.ARM_INS_VLDMDB, arm.ARM_INS_VSTMIA, arm.ARM_INS_VSTMDB})
_VMULTI_NO_BASE = frozenset({arm.ARM_INS_VPUSH, arm.ARM_INS_VPOP})
_FP_MAC = frozenset(
    {
        arm.ARM_INS_VMLA, arm.ARM_INS_VMLS, arm.ARM_INS_VNMLA, arm.ARM_INS_VNMLS,
        arm.ARM_INS_VFMA, arm.ARM_INS_VFMS, arm.ARM_INS_VFNMA, arm.ARM_INS_VFNMS,
    }
)  # fmt: skip
_BRANCHES = frozenset(
    {
        arm.ARM_INS_B, arm.ARM_INS_BL, arm.ARM_INS_BX, arm.ARM_INS_BLX, arm.ARM_INS_CBZ, arm.ARM_INS_CBNZ,
        arm.ARM_INS_TBB, arm.ARM_INS_TBH,
    }
)  # fmt: skip
# Instructions that name PC as first operand without writing it (stores, compares).
_READS_FIRST_OPERAND = _SINGLE_STORES | frozenset(
    {arm.ARM_INS_CMP, arm.ARM_INS_CMN, arm.ARM_INS_TST, arm.ARM_INS_TEQ, arm.ARM_INS_PLD, arm.ARM_INS_PLI}
)
_FIXED_COST = {arm.ARM_INS_MLA: 2, arm.ARM_INS_MLS: 2, arm.ARM_INS_SDIV: 7, arm.ARM_INS_UDIV: 7,
               arm.ARM_INS_VDIV: 14, arm.ARM_INS_VSQRT: 14, arm.ARM_INS_VSTR: 2}  # fmt: skip

PIPELINE_REFILL = 2  # a taken branch costs 1 + 2 (m4-timing.md)
_COND_ALWAYS = (arm.ARM_CC_AL, arm.ARM_CC_INVALID)


@dataclass(frozen=True, slots=True)
class Insn:
    """One decoded instruction and its static timing facts.

    `base` is the cost without the load-pipelining discount and without the pipeline refill of a PC write:
    a load costs `base - 1` after a single load/store, and a PC-writing instruction costs `base + 2` when
    control does not continue at its fall-through address (always, when it is unconditional).
    """

    address: int
    size: int
    text: str
    base: int
    single_load: bool  # LDR*/VLDR: pipelines after a single load/store
    single_ldst: bool  # LDR*/STR*/VLDR/VSTR: lets the next load pipeline
    writes_pc: bool
    conditional: bool  # a PC write whose outcome is decided at run time (B<c>, CBZ, IT-predicated)
    it_length: int = 0  # number of instructions an IT instruction predicates

    @property
    def fallthrough(self) -> int:
        return self.address + self.size

    def cost(self, after_ldst: bool, next_address: int) -> int:
        """Cycles of this instruction given the previous instruction and where control went next."""
        cycles = self.base - (1 if self.single_load and after_ldst else 0)
        if self.writes_pc and (not self.conditional or next_address != self.fallthrough):
            cycles += PIPELINE_REFILL
        return cycles


def _list_words(md: capstone.Cs, regs: list[int]) -> int:
    """Words moved by a VFP register list: a D register is two words."""
    return sum(2 if (md.reg_name(r) or "").startswith("d") else 1 for r in regs)


def _reg_operands(ins: capstone.CsInsn) -> list[int]:
    return [op.reg for op in ins.operands if op.type == arm.ARM_OP_REG]


def _base_cost(md: capstone.Cs, ins: capstone.CsInsn) -> tuple[int, bool]:
    """(cycles before discount/refill, whether PC is in a loaded register list)."""
    iid = ins.id
    if iid in _SINGLE_LOADS or iid == arm.ARM_INS_VLDR:
        return 2, False
    if iid in _DOUBLE_LDST:
        return 3, False
    if iid in _MULTI_WITH_BASE or iid in _MULTI_NO_BASE:
        regs = _reg_operands(ins)
        if iid in _MULTI_WITH_BASE:
            regs = regs[1:]
        return 1 + len(regs), arm.ARM_REG_PC in regs
    if iid in _VMULTI_WITH_BASE:
        return 1 + _list_words(md, _reg_operands(ins)[1:]), False
    if iid in _VMULTI_NO_BASE:
        return 1 + _list_words(md, _reg_operands(ins)), False
    if iid in _FP_MAC:
        return 3, False
    if iid in (arm.ARM_INS_TBB, arm.ARM_INS_TBH):
        return 2, False  # a byte/halfword table load, then the refill of the branch
    return _FIXED_COST.get(iid, 1), False


def _writes_pc(ins: capstone.CsInsn, pc_in_list: bool) -> bool:
    """Branches, POP/LDM {..., pc}, and LDR/MOV/ADD with PC as destination."""
    if ins.id in _BRANCHES or pc_in_list:
        return True
    if ins.id in _READS_FIRST_OPERAND or ins.id == arm.ARM_INS_IT:
        return False
    ops = ins.operands
    return bool(ops) and ops[0].type == arm.ARM_OP_REG and ops[0].reg == arm.ARM_REG_PC


def classify(md: capstone.Cs, ins: capstone.CsInsn) -> Insn:
    """Turn one capstone instruction (decoded with detail) into an `Insn`."""
    base, pc_in_list = _base_cost(md, ins)
    writes_pc = _writes_pc(ins, pc_in_list)
    conditional = writes_pc and (ins.cc not in _COND_ALWAYS or ins.id in (arm.ARM_INS_CBZ, arm.ARM_INS_CBNZ))
    single_load = ins.id in _SINGLE_LOADS or ins.id == arm.ARM_INS_VLDR
    single_ldst = single_load or ins.id in _SINGLE_STORES or ins.id == arm.ARM_INS_VSTR
    it_length = len(ins.mnemonic) - 1 if ins.id == arm.ARM_INS_IT else 0
    text = f"{ins.mnemonic} {ins.op_str}".strip()
    return Insn(ins.address, ins.size, text, base, single_load, single_ldst, writes_pc, conditional, it_length)


def undecodable(address: int, halfword: int) -> Insn:
    """A placeholder for bytes capstone rejects; executing them faults in unicorn anyway."""
    return Insn(address, 2, f"<undecodable 0x{halfword:04x}>", 1, False, False, False, False)


def new_capstone() -> capstone.Cs:
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    md.detail = True
    return md


class Decoder:
    """Decodes and caches Thumb instructions of the code in flash.

    `read(address, size)` returns code bytes (short reads at the end of memory are fine).
    """

    _IT_REACH = 4 * 4  # an IT block covers at most four 32-bit instructions

    def __init__(self, read: Callable[[int, int], bytes]) -> None:
        self._read = read
        self._md = new_capstone()
        self._cache: dict[int, Insn] = {}

    def insn(self, address: int) -> Insn:
        """The instruction at `address` (decoded on first use, with its IT block)."""
        found = self._cache.get(address)
        if found is None:
            self._decode_run(address, address + 1)
            found = self._cache[address]
        return found

    def block(self, start: int, size: int) -> list[Insn]:
        """The instructions of the basic block [start, start + size)."""
        end = start + size
        self._decode_run(start, end)
        insns: list[Insn] = []
        address = start
        while address < end:
            ins = self._cache[address]
            insns.append(ins)
            address += ins.size
        if address != end:
            raise ValueError(f"block 0x{start:08x}+{size} ends inside the instruction at 0x{insns[-1].address:08x}")
        return insns

    def _decode_run(self, start: int, end: int) -> None:
        """Decode [start, end) in one capstone pass, extended to the end of any IT block inside it."""
        address = start
        while address < end:
            if address in self._cache:
                address += self._cache[address].size
                continue
            code = self._read(address, end - address + self._IT_REACH)
            decoded = False
            pending_it = 0
            for cs_insn in self._md.disasm(code, address):
                if cs_insn.address >= end and pending_it == 0:
                    break
                ins = classify(self._md, cs_insn)
                self._cache.setdefault(ins.address, ins)
                pending_it = ins.it_length if ins.it_length else max(pending_it - 1, 0)
                address = ins.fallthrough
                decoded = True
            if not decoded:
                halfword = int.from_bytes(code[:2].ljust(2, b"\0"), "little")
                self._cache[address] = undecodable(address, halfword)
                address += 2
            end = max(end, address)
