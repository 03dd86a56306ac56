"""The estimated-cycle model of compiler/anchors/m4-timing.md, applied to executed Thumb code.

Two implementations that must agree exactly:

* `BlockProfile` (fast): unicorn reports each executed translation block; a block's static cost (the sum of
  its instruction costs, with the load-pipelining discount applied inside the block) is computed once. At run
  time only three counters per block are kept: executions, executions whose successor was the block's
  fall-through address, and executions entered right after a block ending in a single load/store. Branch
  refills and cross-block pipelining are priced from those counters at the end, so the hot path (Python or
  the JIT-compiled native hook in native.py) is a few increments.
* `ExactProfile` (slow reference): prices every executed instruction from a per-instruction hook.

Instructions whose IT condition fails still cost their cycles (m4-timing.md); unicorn's per-instruction hook
skips them, so the exact model walks over the skipped addresses itself.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from t2m.compiler.emulator.decode import PIPELINE_REFILL, Decoder, Insn

UNKNOWN_FUNCTION = "<unknown>"


@dataclass(frozen=True, slots=True)
class FunctionCost:
    """Estimated cycles and executed instructions attributed to one function symbol."""

    cycles: int
    instructions: int


@dataclass(frozen=True, slots=True)
class CycleReport:
    """What a run cost: totals and a per-function split (functions that ran, in address order)."""

    cycles: int
    instructions: int
    functions: dict[str, FunctionCost]


class FunctionMap:
    """Maps code addresses to function indices for per-function attribution (index 0: outside any symbol)."""

    def __init__(self, functions: Sequence[tuple[str, int, int]]) -> None:
        ordered = sorted(functions, key=lambda f: f[1])
        self.names = [UNKNOWN_FUNCTION] + [name for name, _, _ in ordered]
        self._starts = [start for _, start, _ in ordered]
        self._ends = [start + size for _, start, size in ordered]

    def index(self, address: int) -> int:
        i = bisect.bisect_right(self._starts, address) - 1
        if i >= 0 and address < self._ends[i]:
            return i + 1
        return 0

    def report(self, cycles: Sequence[int], instructions: Sequence[int]) -> CycleReport:
        functions = {
            self.names[i]: FunctionCost(cycles[i], instructions[i])
            for i in range(len(self.names))
            if instructions[i] or cycles[i]
        }
        return CycleReport(sum(cycles), sum(instructions), functions)


@dataclass(frozen=True, slots=True)
class BlockCosts:
    """Static timing of one translation block, split by function."""

    start: int
    size: int
    pieces: tuple[tuple[int, int, int], ...]  # (function index, static cycles, instructions)
    first_load: bool  # first instruction is a single load: 1 cycle cheaper after a single load/store
    last_ldst: bool  # last instruction is a single load/store
    conditional_exit: bool  # last instruction is a conditional PC write: refill only when taken
    entry_function: int
    exit_function: int
    last_address: int  # of the last instruction: names the jump when the next block faults

    @property
    def fallthrough(self) -> int:
        return self.start + self.size

    @property
    def instructions(self) -> int:
        return sum(n for _, _, n in self.pieces)


def block_costs(start: int, insns: Sequence[Insn], functions: FunctionMap) -> BlockCosts:
    """Price a block as if entered after a non-load/store and left to its fall-through when conditional.

    A conditional PC write in the middle of a block fell through (unicorn ends blocks at branches); an
    unconditional one always refills.
    """
    per_function: dict[int, list[int]] = {}
    after_ldst = False
    for ins in insns:
        cycles = ins.cost(after_ldst, ins.fallthrough)
        piece = per_function.setdefault(functions.index(ins.address), [0, 0])
        piece[0] += cycles
        piece[1] += 1
        after_ldst = ins.single_ldst
    first, last = insns[0], insns[-1]
    size = last.fallthrough - start
    return BlockCosts(
        start=start,
        size=size,
        pieces=tuple((f, c, n) for f, (c, n) in per_function.items()),
        first_load=first.single_load,
        last_ldst=last.single_ldst,
        conditional_exit=last.writes_pc and last.conditional,
        entry_function=functions.index(first.address),
        exit_function=functions.index(last.address),
        last_address=last.address,
    )


_NO_BLOCK = BlockCosts(0, 0, (), False, False, False, 0, 0, 0)  # id 0: "no previous block"


class BlockProfile:
    """Block-level cycle accounting; block ids are dense so a native hook can index arrays with them.

    The counters live in plain lists here (fast from Python); native.py keeps numpy arrays instead and hands
    them to `report`.
    """

    def __init__(self, decoder: Decoder, functions: FunctionMap) -> None:
        self._decoder = decoder
        self.functions = functions
        self.blocks: list[BlockCosts] = [_NO_BLOCK]
        self._ids: dict[tuple[int, int], int] = {}
        self.count: list[int] = [0]
        self.fallthrough_hits: list[int] = [0]
        self.entered_after_ldst: list[int] = [0]
        self._previous = [0]  # shared with the hook closure

    def block_id(self, start: int, size: int) -> int:
        """Id of the block (decoded and priced on first sight)."""
        key = (start, size)
        found = self._ids.get(key)
        if found is not None:
            return found
        costs = block_costs(start, self._decoder.block(start, size), self.functions)
        self.blocks.append(costs)
        self._ids[key] = len(self.blocks) - 1
        self.count.append(0)
        self.fallthrough_hits.append(0)
        self.entered_after_ldst.append(0)
        return len(self.blocks) - 1

    @property
    def previous(self) -> int:
        """Id of the block executed last."""
        return self._previous[0]

    def reset(self) -> None:
        """Zero the counters before a new call (in place: the hook holds the lists); blocks are kept."""
        n = len(self.blocks)
        self.count[:] = [0] * n
        self.fallthrough_hits[:] = [0] * n
        self.entered_after_ldst[:] = [0] * n
        self._previous[0] = 0

    def hook(self, on_error: Callable[[str], None]) -> Callable[[int, int, int, int], None]:
        """A unicorn block-hook callback `(uc, address, size, user_data)` that records one execution.

        Everything it touches is bound to locals: this runs once per executed block.
        """
        blocks, block_id = self.blocks, self.block_id
        count, hits, after, previous = self.count, self.fallthrough_hits, self.entered_after_ldst, self._previous
        by_start: dict[int, BlockCosts] = {}
        by_start_id: dict[int, int] = {}

        def enter(_uc: int, start: int, size: int, _user: int) -> None:
            try:
                block = by_start.get(start, _NO_BLOCK)
                if block.size != size:
                    bid = block_id(start, size)
                    block = by_start[start] = blocks[bid]
                    by_start_id[start] = bid
                bid = by_start_id[start]
                count[bid] += 1
                prev = blocks[previous[0]]
                if prev.fallthrough == start:
                    hits[previous[0]] += 1
                if prev.last_ldst:
                    after[bid] += 1
                previous[0] = bid
            except Exception as exc:  # noqa: BLE001 - must not unwind through unicorn's C frames
                on_error(f"cycle model failed on the block at {start:#010x}: {exc}")

        return enter

    def report(
        self,
        count: Sequence[int] | None = None,
        fallthrough_hits: Sequence[int] | None = None,
        entered_after_ldst: Sequence[int] | None = None,
    ) -> CycleReport:
        """Totals from the counters (this profile's own lists unless others are given)."""
        count = self.count if count is None else count
        hits = self.fallthrough_hits if fallthrough_hits is None else fallthrough_hits
        after = self.entered_after_ldst if entered_after_ldst is None else entered_after_ldst
        cycles = [0] * len(self.functions.names)
        instructions = [0] * len(self.functions.names)
        for bid in range(1, len(self.blocks)):
            n = int(count[bid])
            if n == 0:
                continue
            block = self.blocks[bid]
            for function, static, insns in block.pieces:
                cycles[function] += n * static
                instructions[function] += n * insns
            if block.conditional_exit:
                # The last execution of a run left to the return address: counted as taken.
                cycles[block.exit_function] += PIPELINE_REFILL * (n - int(hits[bid]))
            if block.first_load:
                cycles[block.entry_function] -= int(after[bid])
        return self.functions.report(cycles, instructions)


class ExactProfile:
    """Per-instruction reference model (slow): the definition the block model is checked against."""

    _MAX_IT_SKIP = 4

    def __init__(self, decoder: Decoder, functions: FunctionMap) -> None:
        self._decoder = decoder
        self.functions = functions
        self.reset()

    def reset(self) -> None:
        n = len(self.functions.names)
        self._cycles = [0] * n
        self._instructions = [0] * n
        self._pending: Insn | None = None  # executed; cost known once the next address is known
        self._after_ldst = False

    @property
    def last_address(self) -> int | None:
        """The instruction executed last (the jump, when the next fetch faults)."""
        return self._pending.address if self._pending is not None else None

    def hook(self, on_error: Callable[[str], None]) -> Callable[[int, int, int, int], None]:
        """A unicorn code-hook callback `(uc, address, size, user_data)`."""
        step = self.step

        def execute(_uc: int, address: int, _size: int, _user: int) -> None:
            try:
                step(address)
            except Exception as exc:  # noqa: BLE001 - must not unwind through unicorn's C frames
                on_error(f"cycle model failed at {address:#010x}: {exc}")

        return execute

    def step(self, address: int) -> None:
        """Unicorn is about to execute the instruction at `address`."""
        pending = self._pending
        if pending is not None and not pending.writes_pc and address != pending.fallthrough:
            self._settle(pending, pending.fallthrough)
            self._walk_skipped(pending.fallthrough, address)
        elif pending is not None:
            self._settle(pending, address)
        self._pending = self._decoder.insn(address)

    def finish(self, return_address: int) -> CycleReport:
        """Settle the last instruction (it jumped to `return_address`) and report."""
        if self._pending is not None:
            self._settle(self._pending, return_address)
            self._pending = None
        return self.functions.report(self._cycles, self._instructions)

    def _settle(self, ins: Insn, next_address: int) -> None:
        function = self.functions.index(ins.address)
        self._cycles[function] += ins.cost(self._after_ldst, next_address)
        self._instructions[function] += 1
        self._after_ldst = ins.single_ldst

    def _walk_skipped(self, start: int, stop: int) -> None:
        """Charge the IT-predicated instructions in [start, stop) that unicorn skipped."""
        address = start
        for _ in range(self._MAX_IT_SKIP):
            if address == stop:
                return
            ins = self._decoder.insn(address)
            self._settle(ins, ins.fallthrough)
            address = ins.fallthrough
        if address != stop:
            raise RuntimeError(f"unexpected control flow from 0x{start:08x} to 0x{stop:08x}")
