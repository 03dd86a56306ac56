// SSA dominance, which xDSL's Operation.verify() does not check: each use that its definition does not dominate
// is one error naming the op, the value and where it is defined (compiler/dominance.py).
// RUN: t2m-opt %s --split-input-file --verify-diagnostics | filecheck %s

// CHECK: 'nn.add' uses %r before its definition (by 'nn.relu'), later in the same block
func.func @same_block(%x: tensor<2xf32>) -> tensor<2xf32> {
  %y = nn.add %x, %r : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %r = nn.relu %x : tensor<2xf32>
  func.return %y : tensor<2xf32>
}

// -----

// An op using its own result.
// CHECK: 'arith.addi' uses %a, a result of that 'arith.addi' itself
func.func @itself(%x: i32) -> i32 {
  %a = arith.addi %x, %a : i32
  func.return %a : i32
}

// -----

// Across blocks: ^bb1 does not dominate ^bb3 (^bb2 reaches it too).
// CHECK: 'func.return' uses %x in a block that its definition (by 'arith.addi') does not dominate
func.func @across_blocks(%c: i1, %a: i32) -> i32 {
  cf.cond_br %c, ^bb1, ^bb2
^bb1:
  %x = arith.addi %a, %a : i32
  cf.br ^bb3
^bb2:
  cf.br ^bb3
^bb3:
  func.return %x : i32
}

// -----

// A block argument is visible only where its block dominates.
// CHECK: 'arith.addi' uses %v in a block that its definition (a block argument) does not dominate
func.func @block_argument(%c: i1, %a: i32) -> i32 {
  cf.cond_br %c, ^bb1(%a : i32), ^bb2
^bb1(%v: i32):
  cf.br ^bb2
^bb2:
  %y = arith.addi %v, %a : i32
  func.return %y : i32
}

// -----

// A loop body using a value defined after the loop.
// CHECK: 'arith.addi' inside 'scf.for' uses %late before its definition (by 'arith.constant'), after the 'scf.for' in the same block
func.func @scf_for(%n: index) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %v = arith.addi %i, %late : index
    scf.yield
  }
  %late = arith.constant 5 : index
  func.return %late : index
}

// -----

// The same in an affine.for nest: the use two regions deep is blamed at the outer loop.
// CHECK: 'memref.store' inside 'affine.for' uses %late before its definition (by 'arith.constant'), after the 'affine.for' in the same block
func.func @affine_for(%m: memref<4x4xf32>) {
  affine.for %i = 0 to 4 {
    affine.for %j = 0 to 4 {
      memref.store %late, %m[%i, %j] : memref<4x4xf32>
    }
  }
  %late = arith.constant 1.0 : f32
  func.return
}

// -----

// A loop's results do not exist inside its own body.
// CHECK: 'arith.addi' inside 'scf.for' uses %r, a result of that 'scf.for' itself
func.func @loop_result(%n: index) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %c0) -> (index) {
    %v = arith.addi %acc, %r : index
    scf.yield %v : index
  }
  func.return %r : index
}

// -----

// A reachable block using a value defined in an unreachable one.
// CHECK: 'func.return' uses %x in a block that its definition (by 'arith.addi') does not dominate
func.func @from_unreachable(%a: i32) -> i32 {
  cf.br ^bb2
^bb1:
  %x = arith.addi %a, %a : i32
  cf.br ^bb2
^bb2:
  func.return %x : i32
}
