// What dominance allows: these verify and print back unchanged.
// RUN: t2m-opt %s | filecheck %s

// A definition in a block used in the blocks it dominates (^bb1 dominates ^bb2 and ^bb3), block arguments in
// their own block and below, a loop back edge.
// CHECK-LABEL: func.func @cfg
// CHECK:         func.return %x : i32
func.func @cfg(%c: i1, %a: i32) -> i32 {
  cf.br ^bb1(%a : i32)
^bb1(%v: i32):
  %x = arith.addi %v, %a : i32
  cf.cond_br %c, ^bb2, ^bb3
^bb2:
  %y = arith.addi %x, %v : i32
  cf.br ^bb1(%y : i32)
^bb3:
  func.return %x : i32
}

// Nested regions see what dominates their op: the loop bounds, the value defined before the loop.
// CHECK-LABEL: func.func @loops
// CHECK:         affine.for
// CHECK:         memref.store %one
func.func @loops(%m: memref<4x4xf32>, %n: index) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %c0) -> (index) {
    %v = arith.addi %acc, %c1 : index
    scf.yield %v : index
  }
  affine.for %i = 0 to 4 {
    affine.for %j = 0 to 4 {
      memref.store %one, %m[%i, %j] : memref<4x4xf32>
    }
  }
  func.return %r : index
}

// MLIR: anything goes in a block unreachable from the entry block, even a use before its definition.
// CHECK-LABEL: func.func @unreachable
// CHECK:         %y = arith.addi %x, %x : i32
func.func @unreachable(%a: i32) -> i32 {
  func.return %a : i32
^bb1:
  %y = arith.addi %x, %x : i32
  %x = arith.addi %a, %a : i32
  func.return %y : i32
}
