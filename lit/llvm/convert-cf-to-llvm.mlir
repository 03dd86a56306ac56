// RUN: t2m-opt %s -p convert-cf-to-llvm | filecheck %s
// RUN: t2m-opt %s -p convert-index-to-llvm | filecheck %s --check-prefix=INDEX
// RUN: t2m-opt %s -p convert-index-to-llvm,convert-arith-to-llvm,convert-cf-to-llvm,reconcile-unrealized-casts | filecheck %s --check-prefix=ALL

// A loop as convert-scf-to-cf leaves it: the counter is an index block argument.
// convert-cf-to-llvm retypes the argument (i32, cast back for unconverted users) and forwards i32 operands.
// CHECK-LABEL: func.func @count
// CHECK:         %[[LB32:.*]] = builtin.unrealized_conversion_cast %lb : index to i32
// CHECK-NEXT:    llvm.br ^[[HEAD:.*]](%[[LB32]], %z : i32, f32)
// CHECK-NEXT:  ^[[HEAD]](%[[I32:.*]]: i32, %acc: f32):
// CHECK-NEXT:    %[[I:.*]] = builtin.unrealized_conversion_cast %[[I32]] : i32 to index
// CHECK-NEXT:    %[[C:.*]] = arith.cmpi slt, %[[I]], %ub : index
// CHECK-NEXT:    llvm.cond_br %[[C]], ^[[BODY:.*]], ^[[EXIT:.*]]
// CHECK-NEXT:  ^[[BODY]]:
// CHECK:         %[[NEXT32:.*]] = builtin.unrealized_conversion_cast %{{.*}} : index to i32
// CHECK-NEXT:    llvm.br ^[[HEAD]](%[[NEXT32]], %{{.*}} : i32, f32)
// CHECK-NEXT:  ^[[EXIT]]:
// CHECK-NEXT:    func.return %acc : f32

// convert-index-to-llvm does only the block arguments; the branches stay cf.
// INDEX-LABEL: func.func @count
// INDEX:         cf.br ^{{.*}}(%{{.*}}, %z : i32, f32)
// INDEX-NEXT:  ^{{.*}}(%{{.*}}: i32, %acc: f32):
// INDEX:         cf.cond_br

// With arith converted too, no cast is left.
// ALL-LABEL: func.func @count
// ALL-NOT:     unrealized_conversion_cast
// ALL:         llvm.br ^[[HEAD:.*]](%{{.*}}, %z : i32, f32)
// ALL-NEXT:  ^[[HEAD]](%[[I:.*]]: i32, %acc: f32):
// ALL-NEXT:    %[[C:.*]] = llvm.icmp "slt" %[[I]], %{{.*}} : i32
// ALL-NOT:     unrealized_conversion_cast
func.func @count(%n: i32) -> f32 {
  %lb = arith.constant 0 : index
  %ub = arith.index_cast %n : i32 to index
  %one = arith.constant 1 : index
  %z = arith.constant 0.0 : f32
  cf.br ^head(%lb, %z : index, f32)
^head(%i: index, %acc: f32):
  %c = arith.cmpi slt, %i, %ub : index
  cf.cond_br %c, ^body, ^exit
^body:
  %f = arith.constant 1.0 : f32
  %acc2 = arith.addf %acc, %f : f32
  %next = arith.addi %i, %one : index
  cf.br ^head(%next, %acc2 : index, f32)
^exit:
  func.return %acc : f32
}
