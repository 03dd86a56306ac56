// A chain a -> b -> c -> out: a and c never live at the same time, so c reuses a's bytes; the arena is the
// peak of live bytes (a + b = 48), not the sum (64); a buffer no layer uses takes no space. The model's
// description records the arena and the bytes live during each call.
// RUN: t2m-opt %s -p plan-memory | filecheck %s

// CHECK:       builtin.module attributes {t2m.model = #t2m.model<"net", inputs = [tensor<4xf32>], outputs = [tensor<4xf32>], layout = "NCHW", arena = 48 planned, live = [32, 48, 32, 16]>} {
// CHECK-LABEL: func.func @net_run(%x: memref<4xf32>, %out: memref<4xf32>) -> i32 {
// CHECK-NEXT:    %0 = memref.alloc() {alignment = 8 : i64} : memref<48xi8>
// CHECK-NEXT:    %1 = func.call @net_run_with_arena(%x, %out, %0) : (memref<4xf32>, memref<4xf32>, memref<48xi8>) -> i32
// CHECK-NEXT:    func.return %1 : i32
// CHECK:       func.func @net_run_with_arena(%x: memref<4xf32>, %out: memref<4xf32>, %arena: memref<48xi8>) -> i32 {
// CHECK-NEXT:    %0 = arith.constant 0 : index
// CHECK-NEXT:    %a = memref.view %arena[%0][] : memref<48xi8> to memref<8xf32>
// CHECK-NEXT:    %1 = arith.constant 32 : index
// CHECK-NEXT:    %b = memref.view %arena[%1][] : memref<48xi8> to memref<4xf32>
// CHECK-NEXT:    %2 = arith.constant 0 : index
// CHECK-NEXT:    %c = memref.view %arena[%2][] : memref<48xi8> to memref<4xf32>
// CHECK-NOT:     memref.alloc
// CHECK:         func.call @l0(%x, %a)
// CHECK-NEXT:    func.call @l1(%a, %b)
// CHECK-NEXT:    func.call @l2(%b, %c)
// CHECK-NEXT:    func.call @l3(%c, %out)
builtin.module attributes {t2m.model = #t2m.model<"net", inputs = [tensor<4xf32>], outputs = [tensor<4xf32>], layout = "NCHW", arena = 464, live = []>} {
func.func @net_run(%x: memref<4xf32>, %out: memref<4xf32>) -> i32 {
  %a = memref.alloc() : memref<8xf32>
  %b = memref.alloc() : memref<4xf32>
  %c = memref.alloc() : memref<4xf32>
  %unused = memref.alloc() : memref<100xf32>
  func.call @l0(%x, %a) : (memref<4xf32>, memref<8xf32>) -> ()
  func.call @l1(%a, %b) : (memref<8xf32>, memref<4xf32>) -> ()
  func.call @l2(%b, %c) : (memref<4xf32>, memref<4xf32>) -> ()
  func.call @l3(%c, %out) : (memref<4xf32>, memref<4xf32>) -> ()
  %r = arith.constant 0 : i32
  func.return %r : i32
}
func.func private @l0(%i: memref<4xf32>, %o: memref<8xf32>)
func.func private @l1(%i: memref<8xf32>, %o: memref<4xf32>)
func.func private @l2(%i: memref<4xf32>, %o: memref<4xf32>)
func.func private @l3(%i: memref<4xf32>, %o: memref<4xf32>)
}
