"""SSA dominance: every use of a value must be dominated by its definition (MLIR's rule).

xDSL 0.74's `Operation.verify()` checks types, traits and op verifiers, but not dominance: a use placed before
its definition verifies, and the tools downstream then fail far from the cause (or produce a wrong program).
`verify_dominance` is the missing check, written as xDSL would have it: one walk over the IR, independent of any
pass. The rules are MLIR's (`mlir/lib/IR/Verifier.cpp`, `DominanceInfo::properlyDominates`):

- in one block, a value's definition comes before its use; a block argument is visible in its whole block;
- across the blocks of a region, the defining block dominates the using block in the region's control-flow graph;
- a use inside a region of an op X counts as a use at X: the definition must dominate X, and the results of X
  itself are not visible inside X's regions;
- ops in a block unreachable from the entry block may use anything (MLIR: dominance is meaningless there);
- a graph region (in MLIR, `builtin.module`'s body) has no order: every value defined in it is visible in it;
- an `IsolatedFromAbove` op's regions see nothing from outside it (xDSL's trait verifier checks that too).

The walk keeps the set of values visible at each point (a dominator-tree walk over the blocks of each region), so
it costs one set lookup per operand: it runs on every module t2m parses and after every pipeline stage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NoReturn

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, BlockArgument, Operation, OpResult, Region, SSAValue
from xdsl.traits import IsolatedFromAbove
from xdsl.utils.exceptions import VerifyException

__all__ = ["DominatorTree", "has_ssa_dominance", "verify_dominance"]


def has_ssa_dominance(region: Region) -> bool:
    """False for graph regions, where values may be used before they are defined (MLIR's RegionKind::Graph).

    xDSL 0.74 has no RegionKindInterface; MLIR's `builtin.module` is the graph region t2m meets.
    """
    return not isinstance(region.parent, ModuleOp)


def _successors(block: Block) -> Sequence[Block]:
    last = block.last_op
    return () if last is None else last.successors


class DominatorTree:
    """The dominator tree of a region's control-flow graph (Cooper, Harvey and Kennedy's iterative algorithm).

    Only blocks reachable from the entry block are in the tree; `reachable` lists them in reverse postorder.
    """

    def __init__(self, region: Region):
        entry = region.first_block
        self.reachable: list[Block] = [] if entry is None else _reverse_postorder(entry)
        order = {block: i for i, block in enumerate(self.reachable)}
        predecessors: dict[Block, list[Block]] = {block: [] for block in self.reachable}
        for block in self.reachable:
            for successor in _successors(block):
                predecessors[successor].append(block)
        idom: dict[Block, Block] = {entry: entry} if entry is not None else {}

        def intersect(a: Block, b: Block) -> Block:
            while a is not b:
                while order[a] > order[b]:
                    a = idom[a]
                while order[b] > order[a]:
                    b = idom[b]
            return a

        changed = True
        while changed:
            changed = False
            for block in self.reachable[1:]:
                new: Block | None = None
                for pred in predecessors[block]:
                    if pred in idom:
                        new = pred if new is None else intersect(pred, new)
                assert new is not None  # a reachable block has a reachable predecessor
                if idom.get(block) is not new:
                    idom[block] = new
                    changed = True
        self.idom = idom
        self.children: dict[Block, list[Block]] = {block: [] for block in self.reachable}
        for block in self.reachable[1:]:
            self.children[idom[block]].append(block)

    def is_reachable(self, block: Block) -> bool:
        return block in self.idom

    def dominates(self, a: Block, b: Block) -> bool:
        """Whether `a` dominates `b` (both in the region); an unreachable `b` is dominated by everything."""
        if not self.is_reachable(b):
            return True
        if not self.is_reachable(a):
            return False
        while b is not a:
            parent = self.idom[b]
            if parent is b:
                return False
            b = parent
        return True


def _reverse_postorder(entry: Block) -> list[Block]:
    """Blocks reachable from `entry`, in reverse postorder of a depth-first walk (iterative: CFGs can be deep)."""
    postorder: list[Block] = []
    visited = {entry}
    stack = [(entry, iter(_successors(entry)))]
    while stack:
        block, successors = stack[-1]
        for successor in successors:
            if successor not in visited:
                visited.add(successor)
                stack.append((successor, iter(_successors(successor))))
                break
        else:
            stack.pop()
            postorder.append(block)
    postorder.reverse()
    return postorder


def verify_dominance(region: Region) -> None:
    """Check that every use in `region` (and the regions nested in it) is dominated by its definition.

    Values defined outside `region` are taken as visible (their dominance is the enclosing region's business).
    The first violation raises a `VerifyException` through the using op's diagnostic (`Operation.emit_error`), so
    `--verify-diagnostics` shows it in place; its message names the op, the value and where the value is defined.
    """
    _Walk(region).region(region, set())


class _Walk:
    """One dominance walk: `visible` holds the values that dominate the current point."""

    def __init__(self, top: Region):
        self.top = top

    def region(self, region: Region, visible: set[SSAValue]) -> None:
        if region.first_block is None:
            return
        if not has_ssa_dominance(region):
            self.graph_region(region, visible)
        elif region.first_block is region.last_block:
            visible.difference_update(self.block(region.first_block, visible))
        else:
            self.cfg_region(region, visible)

    def cfg_region(self, region: Region, visible: set[SSAValue]) -> None:
        """Blocks in dominator-tree order: a block sees what its dominators define, and no more."""
        tree = DominatorTree(region)
        stack: list[tuple[Block, list[SSAValue] | None]] = [(tree.reachable[0], None)]
        while stack:
            block, defined = stack.pop()
            if defined is not None:  # leaving the block's subtree
                visible.difference_update(defined)
                continue
            stack.append((block, self.block(block, visible)))
            stack.extend((child, None) for child in reversed(tree.children[block]))
        for block in region.blocks:
            if not tree.is_reachable(block):
                self.unreachable_block(block, region, visible)

    def unreachable_block(self, block: Block, region: Region, visible: set[SSAValue]) -> None:
        """Anything goes for the ops of an unreachable block; what their regions use from this region must still
        exist in it (every other block's values dominate an unreachable block, its own ones only in order)."""
        if not any(op.regions for op in block.ops):
            return
        seen = set(visible)
        for other in region.blocks:
            if other is not block:
                seen.update(_defined_in(other))
        self.block(block, seen, check=False)

    def graph_region(self, region: Region, visible: set[SSAValue]) -> None:
        defined = [value for block in region.blocks for value in _defined_in(block)]
        visible.update(defined)
        for block in region.blocks:
            for op in block.ops:
                self.check_operands(op, visible)
                if op.regions:
                    visible.difference_update(op.results)  # not visible inside the op's own regions
                    self.nested(op, visible)
                    visible.update(op.results)
        visible.difference_update(defined)

    def block(self, block: Block, visible: set[SSAValue], check: bool = True) -> list[SSAValue]:
        """Walk the ops of `block` in order, adding what they define to `visible`; returns the values added."""
        defined: list[SSAValue] = list(block.args)
        visible.update(defined)
        for op in block.ops:
            if check:
                self.check_operands(op, visible)
            if op.regions:
                self.nested(op, visible)
            results = op.results
            visible.update(results)
            defined.extend(results)
        return defined

    def nested(self, op: Operation, visible: set[SSAValue]) -> None:
        scope = set[SSAValue]() if op.has_trait(IsolatedFromAbove) else visible
        for region in op.regions:
            self.region(region, scope)

    def check_operands(self, op: Operation, visible: set[SSAValue]) -> None:
        for operand in op.operands:
            if operand not in visible:
                self.diagnose(op, operand)

    def diagnose(self, user: Operation, value: SSAValue) -> None:
        """Explain why `value` is not visible at `user`, or return if it is defined outside the checked region."""
        uses = f"'{user.name}' uses {_describe(value)}"
        def_block = _defining_block(value)
        if def_block is None or def_block.parent is None:
            _fail(user, f"{uses}, which is not in the IR (its definition was erased or never inserted)")
        ancestor = user  # climbs to the op that encloses the use in the definition's region
        block = ancestor.parent_block()
        while block is not None and block.parent is not def_block.parent:
            region = block.parent
            if region is None or region is self.top or region.parent is None:
                break  # left the checked region without meeting the definition's
            parent = region.parent
            if parent.has_trait(IsolatedFromAbove) and not parent.is_ancestor(def_block):
                _fail(user, f"{uses} from outside its IsolatedFromAbove parent '{parent.name}'")
            ancestor, block = parent, parent.parent_block()
        if block is None or block.parent is not def_block.parent:  # the use is outside the definition's region
            if self.top.is_ancestor(def_block):
                _fail(user, f"{uses}, defined {_definer(value)} in a region that does not enclose this use")
            return  # defined outside the checked region
        if ancestor is not user:
            uses = f"'{user.name}' inside '{ancestor.name}' uses {_describe(value)}"
        if isinstance(value, OpResult) and value.op is ancestor:
            _fail(user, f"{uses}, a result of that '{ancestor.name}' itself")
        if block is def_block:
            later = "later" if ancestor is user else f"after the '{ancestor.name}'"
            _fail(user, f"{uses} before its definition {_definer(value)}, {later} in the same block")
        _fail(user, f"{uses} in a block that its definition {_definer(value)} does not dominate")


def _defined_in(block: Block) -> Iterable[SSAValue]:
    yield from block.args
    for op in block.ops:
        yield from op.results


def _defining_block(value: SSAValue) -> Block | None:
    if isinstance(value, BlockArgument):
        return value.block
    return value.op.parent_block() if isinstance(value, OpResult) else None


def _describe(value: SSAValue) -> str:
    """`%name` as the value was written, else its position (the parser does not keep numbered names)."""
    if value.name_hint is not None and isinstance(value, OpResult) and len(value.op.results) > 1:
        return f"%{value.name_hint}#{value.index}"
    if value.name_hint is not None:
        return f"%{value.name_hint}"
    if isinstance(value, OpResult):
        return f"result #{value.index} of '{value.op.name}'"
    return f"block argument #{value.index}" if isinstance(value, BlockArgument) else "a value"


def _definer(value: SSAValue) -> str:
    return f"(by '{value.op.name}')" if isinstance(value, OpResult) else "(a block argument)"


def _fail(op: Operation, message: str) -> NoReturn:
    op.emit_error(message, VerifyException(message))
