"""SSA dominance (compiler/dominance.py): MLIR's rules, with the message each violation gets."""

from __future__ import annotations

import pytest
from xdsl.dialects import arith, cf, func, scf
from xdsl.dialects.builtin import IndexType, ModuleOp, i32
from xdsl.ir import Block, Region
from xdsl.parser import Parser
from xdsl.utils.exceptions import VerifyException

from t2m.compiler.dominance import DominatorTree, verify_dominance
from t2m.compiler.errors import T2MError
from t2m.compiler.ir import make_context, parse_module


def parse(text: str) -> ModuleOp:
    """Parsed and verified by xDSL, dominance not checked yet."""
    module = Parser(make_context(), text).parse_module()
    module.verify()
    return module


def error(module: ModuleOp) -> str:
    with pytest.raises(VerifyException) as info:
        verify_dominance(module.body)
    return str(info.value)


def test_same_block_use_before_def() -> None:
    module = parse("""
      func.func @f(%x: i32) -> i32 {
        %y = arith.addi %x, %z : i32
        %z = arith.muli %x, %x : i32
        func.return %y : i32
      }""")
    assert error(module) == "'arith.addi' uses %z before its definition (by 'arith.muli'), later in the same block"


def test_unnamed_values_are_described_by_position() -> None:
    module = parse("""
      func.func @f(%0: i32) -> i32 {
        %1 = arith.addi %0, %2 : i32
        %2 = arith.muli %0, %0 : i32
        func.return %1 : i32
      }""")
    assert error(module) == (
        "'arith.addi' uses result #0 of 'arith.muli' before its definition (by 'arith.muli'), later in the same block"
    )


DIAMOND = """
  func.func @f(%c: i1, %a: i32) -> i32 {
    cf.cond_br %c, ^bb1, ^bb2
  ^bb1:
    %x = arith.addi %a, %a : i32
    cf.br ^bb3
  ^bb2:
    cf.br ^bb3
  ^bb3:
    func.return USE : i32
  }"""


def test_across_blocks() -> None:
    assert error(parse(DIAMOND.replace("USE", "%x"))) == (
        "'func.return' uses %x in a block that its definition (by 'arith.addi') does not dominate"
    )
    verify_dominance(parse(DIAMOND.replace("USE", "%a")).body)  # the entry block dominates every block


def test_dominator_tree_of_a_diamond_with_a_loop_and_an_unreachable_block() -> None:
    module = parse("""
      func.func @f(%c: i1) {
        cf.cond_br %c, ^bb1, ^bb2
      ^bb1:
        cf.br ^bb3
      ^bb2:
        cf.cond_br %c, ^bb2, ^bb3
      ^bb3:
        func.return
      ^bb4:
        cf.br ^bb3
      }""")
    function = next(op for op in module.walk() if isinstance(op, func.FuncOp))
    b0, b1, b2, b3, b4 = function.body.blocks
    tree = DominatorTree(function.body)
    assert tree.reachable[0] is b0 and set(tree.reachable) == {b0, b1, b2, b3}
    assert [tree.idom[b] for b in (b1, b2, b3)] == [b0, b0, b0]
    assert tree.dominates(b0, b3) and tree.dominates(b2, b2) and not tree.dominates(b1, b3)
    assert not tree.dominates(b2, b1)
    assert tree.dominates(b1, b4) and not tree.dominates(b4, b3)  # unreachable: dominated by all, dominates none


def test_block_arguments() -> None:
    module = parse("""
      func.func @f(%c: i1, %a: i32) -> i32 {
        cf.cond_br %c, ^bb1(%a : i32), ^bb2
      ^bb1(%v: i32):
        %w = arith.addi %v, %v : i32
        cf.br ^bb2
      ^bb2:
        %y = arith.addi %v, %a : i32
        func.return %y : i32
      }""")
    assert error(module) == "'arith.addi' uses %v in a block that its definition (a block argument) does not dominate"


def test_nested_region_use_of_a_later_value() -> None:
    module = parse("""
      func.func @f(%n: index) {
        %c0 = arith.constant 0 : index
        %c1 = arith.constant 1 : index
        scf.for %i = %c0 to %n step %c1 {
          scf.for %j = %c0 to %n step %c1 {
            %v = arith.addi %j, %late : index
          }
        }
        %late = arith.constant 5 : index
        func.return
      }""")
    assert error(module) == (
        "'arith.addi' inside 'scf.for' uses %late before its definition (by 'arith.constant'), "
        "after the 'scf.for' in the same block"
    )


def test_an_ops_results_are_not_visible_in_its_regions() -> None:
    module = parse("""
      func.func @f(%n: index) -> index {
        %c0 = arith.constant 0 : index
        %c1 = arith.constant 1 : index
        %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %c0) -> (index) {
          %v = arith.addi %acc, %r : index
          scf.yield %v : index
        }
        func.return %r : index
      }""")
    assert error(module) == "'arith.addi' inside 'scf.for' uses %r, a result of that 'scf.for' itself"


def _loop_with_body_value() -> tuple[ModuleOp, Block, arith.AddiOp]:
    """func @f(%n) { scf.for ... { %v = addi %i, %i }; <insertion point> }: built, the parser would refuse it."""
    block = Block(arg_types=[IndexType()])
    c0 = arith.ConstantOp.from_int_and_width(0, IndexType())
    c1 = arith.ConstantOp.from_int_and_width(1, IndexType())
    body = Block(arg_types=[IndexType()])
    inner = arith.AddiOp(body.args[0], body.args[0])
    body.add_ops([inner, scf.YieldOp()])
    block.add_ops([c0, c1, scf.ForOp(c0, block.args[0], c1, [], body)])
    function = func.FuncOp("f", ((IndexType(),), ()), Region(block))
    return ModuleOp([function]), block, inner


def test_a_value_used_outside_the_region_defining_it() -> None:
    module, block, inner = _loop_with_body_value()
    block.add_ops([arith.AddiOp(inner.result, inner.result), func.ReturnOp()])
    module.verify()
    assert error(module) == (
        "'arith.addi' uses result #0 of 'arith.addi', defined (by 'arith.addi') in a region that does not enclose "
        "this use"
    )


def test_a_value_whose_definition_left_the_ir() -> None:
    module, block, inner = _loop_with_body_value()
    block.add_ops([arith.AddiOp(inner.result, inner.result), func.ReturnOp()])
    inner.detach()
    assert error(module) == (
        "'arith.addi' uses result #0 of 'arith.addi', which is not in the IR (its definition was erased or never "
        "inserted)"
    )


def test_values_defined_outside_the_checked_region_are_its_parents_business() -> None:
    module = parse("""
      func.func @f(%n: index) {
        %c0 = arith.constant 0 : index
        %c1 = arith.constant 1 : index
        scf.for %i = %c0 to %n step %c1 {
          %v = arith.addi %i, %late : index
        }
        %late = arith.constant 5 : index
        func.return
      }""")
    loop = next(op for op in module.walk() if isinstance(op, scf.ForOp))
    verify_dominance(loop.body)
    with pytest.raises(VerifyException):
        verify_dominance(module.body)


def test_module_body_is_a_graph_region_and_functions_are_isolated() -> None:
    """MLIR's builtin.module holds a graph region: order does not matter there; func.func sees nothing of it."""
    late = arith.ConstantOp.from_int_and_width(1, i32)
    early = arith.AddiOp(late, late)
    module = ModuleOp([early, late])
    verify_dominance(module.body)

    block = Block()
    block.add_ops([arith.AddiOp(late, late), func.ReturnOp()])
    module.body.block.add_op(func.FuncOp("f", ((), ()), Region(block)))
    assert (
        error(module)
        == "'arith.addi' uses result #0 of 'arith.constant' from outside its IsolatedFromAbove parent 'func.func'"
    )


def test_unreachable_blocks() -> None:
    """MLIR: anything goes in an unreachable block; a value defined there dominates no reachable use."""
    verify_dominance(
        parse("""
      func.func @f(%a: i32) -> i32 {
        func.return %a : i32
      ^bb1:
        %y = arith.addi %x, %x : i32
        %x = arith.addi %a, %a : i32
        func.return %y : i32
      }""").body
    )
    assert (
        error(
            parse("""
      func.func @f(%a: i32) -> i32 {
        cf.br ^bb2
      ^bb1:
        %x = arith.addi %a, %a : i32
        cf.br ^bb2
      ^bb2:
        func.return %x : i32
      }""")
        )
        == "'func.return' uses %x in a block that its definition (by 'arith.addi') does not dominate"
    )


def test_regions_inside_an_unreachable_block_still_need_their_own_order() -> None:
    text = """
      func.func @f(%n: index) {
        func.return
      ^bb1:
        %c0 = arith.constant 0 : index
        scf.for %i = %c0 to %n step %c0 {
          %v = arith.addi %i, %late : index
        }
        %late = arith.constant 5 : index
        func.return
      }"""
    assert error(parse(text)) == (
        "'arith.addi' inside 'scf.for' uses %late before its definition (by 'arith.constant'), "
        "after the 'scf.for' in the same block"
    )
    verify_dominance(parse(text.replace("%late : index\n", "%c0 : index\n")).body)


def test_a_long_chain_of_blocks() -> None:
    """Thousands of blocks (an unrolled llvm-level function): no recursion limit, every use found in its place."""
    blocks = [Block(arg_types=[i32]) for _ in range(5000)]
    for block, successor in zip(blocks, blocks[1:], strict=False):
        block.add_ops([total := arith.AddiOp(block.args[0], blocks[0].args[0]), cf.BranchOp(successor, total)])
    blocks[-1].add_op(func.ReturnOp(blocks[-1].args[0]))
    module = ModuleOp([func.FuncOp("f", ((i32,), (i32,)), Region(blocks))])  # (xDSL's verify() is quadratic here)
    verify_dominance(module.body)
    first, last = blocks[0], blocks[-1]
    assert first.first_op is not None and last.first_op is not None
    last.insert_op_before(arith.AddiOp(last.args[0], blocks[1].args[0]), last.first_op)  # ^bb1 dominates it
    verify_dominance(module.body)
    first.insert_op_before(arith.AddiOp(first.args[0], last.args[0]), first.first_op)
    assert error(module) == (
        "'arith.addi' uses block argument #0 in a block that its definition (a block argument) does not dominate"
    )


def test_parse_module_reports_dominance_as_a_user_error() -> None:
    with pytest.raises(T2MError) as info:
        parse_module(DIAMOND.replace("USE", "%x"), "model.mlir")
    assert info.value.one_line() == (
        "invalid IR: 'func.return' uses %x in a block that its definition (by 'arith.addi') does not dominate, "
        "at model.mlir; fix the op named above"
    )


def test_i1_conditions_are_ordinary_values() -> None:
    """The condition of a branch is a use like any other."""
    module = parse("""
      func.func @f(%a: i32) {
        cf.cond_br %c, ^bb1, ^bb1
      ^bb1:
        %c = arith.cmpi eq, %a, %a : i32
        func.return
      }""")
    assert error(module) == "'cf.cond_br' uses %c in a block that its definition (by 'arith.cmpi') does not dominate"
