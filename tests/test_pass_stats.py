"""--pass-stats counts pattern applications through xDSL's rewriter listeners, whichever walker applied them."""

from __future__ import annotations

from xdsl.dialects import arith, func
from xdsl.dialects.builtin import FunctionType, ModuleOp, i32
from xdsl.ir import Block, Operation, Region
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriterListener,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from t2m.compiler.pass_stats import PassStats, counting_patterns


class AddToSub(RewritePattern):
    """Three listener events (insert, replace, erase) for one application."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.AddiOp, rewriter: PatternRewriter) -> None:
        rewriter.replace(op, arith.SubiOp(op.lhs, op.rhs))


class Never(RewritePattern):
    def match_and_rewrite(self, op, rewriter: PatternRewriter) -> None:  # type: ignore[override]
        pass


def module_with_adds(n: int) -> ModuleOp:
    """A chain of n additions, returned, and one unused constant (the applier's dead-code removal erases it)."""
    value = (c := arith.ConstantOp.from_int_and_width(1, i32)).result
    body: list[Operation] = [c]
    for _ in range(n):
        body.append(add := arith.AddiOp(value, value))
        value = add.result
    dead = arith.ConstantOp.from_int_and_width(7, i32)
    region = Region(Block([*body, dead, func.ReturnOp(value)]))
    return ModuleOp([func.FuncOp("f", FunctionType.from_lists([], [i32]), region)])


def test_a_walker_built_by_hand_is_counted_once_per_application() -> None:
    stats = PassStats()
    stats.current_pass = "plugin"
    module = module_with_adds(3)
    with counting_patterns(stats):
        PatternRewriteWalker(AddToSub()).rewrite_module(module)
    assert dict(stats.counts) == {("plugin", "AddToSub"): 3}


def test_the_applier_names_its_pattern_and_its_own_dead_code_removal() -> None:
    stats = PassStats()
    stats.current_pass = "p"
    with counting_patterns(stats):
        PatternRewriteWalker(GreedyRewritePatternApplier([Never(), AddToSub()])).rewrite_module(module_with_adds(2))
    assert dict(stats.counts) == {("p", "AddToSub"): 2, ("p", "(erase dead op)"): 1}


def test_the_walkers_own_listener_still_hears_and_is_restored() -> None:
    erased: list[str] = []
    own = PatternRewriterListener(operation_removal_handler=[lambda op: erased.append(op.name)])
    walker = PatternRewriteWalker(AddToSub(), listener=own)
    with counting_patterns(PassStats()):
        walker.rewrite_module(module_with_adds(1))
    assert erased == ["arith.addi"] and walker.listener is own
    before = PatternRewriteWalker.rewrite_region
    with counting_patterns(PassStats()):
        pass
    assert PatternRewriteWalker.rewrite_region is before


def test_nothing_counted_outside_the_block() -> None:
    stats = PassStats()
    with counting_patterns(stats):
        pass
    PatternRewriteWalker(AddToSub()).rewrite_module(module_with_adds(1))
    assert stats.report().splitlines()[-1] == "(no pattern fired)"
