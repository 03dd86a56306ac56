// The C header of an int8 model: int8_t buffers in the prototypes, each input's and output's scale and zero
// point, and the layout the object expects. The report says int8 and how to convert.
// RUN: rm -rf %t && t2m-compile %s -o %t && filecheck %s < %t/tiny8.h
// RUN: filecheck %s --check-prefix=REPORT < %t/tiny8.report.json
// The card's route makes the same object and header.
// RUN: t2m-opt --fuse --lower %s -o %t/low.mlir && t2m-translate %t/low.mlir -o %t/route.o --header %t/route.h
// RUN: cmp %t/tiny8.o %t/route.o && diff %t/tiny8.h %t/route.h
// The object runs on the emulated Cortex-M4 with the same bits as the integer reference interpreter.
// RUN: t2m-run %t/tiny8.o --check | filecheck %s --check-prefix=EMU

// CHECK:      /* Tensors are int8, row-major, in PyTorch's NCHW layout. */
// CHECK-NEXT: /* int8 values q stand for the reals scale * (q - zero_point): quantize an input as
// CHECK-NEXT:  * q = clamp(round(x / SCALE) + ZERO_POINT, -128, 127), rounding half to even as PyTorch. */
// CHECK-NEXT: #define TINY8_INPUT_SIZE 8 /* elements */
// CHECK-NEXT: #define TINY8_INPUT_SHAPE {1, 8}
// CHECK-NEXT: #define TINY8_INPUT_SCALE 0.05f
// CHECK-NEXT: #define TINY8_INPUT_ZERO_POINT -3
// CHECK-NEXT: #define TINY8_OUTPUT_SIZE 3 /* elements */
// CHECK-NEXT: #define TINY8_OUTPUT_SHAPE {1, 3}
// CHECK-NEXT: #define TINY8_OUTPUT_SCALE 0.00390625f
// CHECK-NEXT: #define TINY8_OUTPUT_ZERO_POINT -128
// CHECK-NEXT: #define TINY8_ARENA_SIZE 11 /* bytes of activation buffers, one arena, static in .bss */
// CHECK:      #define TINY8_MACS 44
// CHECK:      Buffers are int8_t arrays (no alignment needed) of the sizes above.
// CHECK:      int tiny8_run(const int8_t *input, int8_t *output);
// CHECK:      int tiny8_run_with_arena(const int8_t *input, int8_t *output, uint8_t *arena);

// REPORT:      "macs": 44,
// REPORT-NEXT: "dtype": "int8",
// REPORT:      "quant": {
// REPORT-NEXT:   "inputs": [
// REPORT-NEXT:     {
// REPORT-NEXT:       "scale": 0.05,
// REPORT-NEXT:       "zero_point": -3

// EMU:      tiny8_run on an emulated Cortex-M4
// EMU:      output 0 (int8): shape 1x3,
// EMU-NEXT: output 0 (dequantized: 0.00390625 * (q + 128)): shape 1x3,
// EMU-NEXT: check vs reference interpreter: all 3 int8 values identical: ok
func.func @tiny8(%x: tensor<1x8xi8> {qnn.quant = #qnn.quant<0.05, -3>}) -> (tensor<1x3xi8> {qnn.quant = #qnn.quant<0.00390625, -128>}) {
  %w = nn.constant dense<[[1, 2, 3, 4, 5, 6, 7, 8], [-1, -2, -3, -4, -5, -6, -7, -8], [127, 0, 0, 0, 0, 0, 0, -127], [1, 1, 1, 1, 1, 1, 1, 1]]> : tensor<4x8xi8>
  %b = nn.constant dense<[10, -20, 30, -40]> : tensor<4xi32>
  %h = qnn.linear %x, %w, %b {input_zp = -3 : i32, requant = #qnn.requant<multiplier = [1073741824], shift = [-6], output_zp = 5>, act_min = 5 : i32} : (tensor<1x8xi8>, tensor<4x8xi8>, tensor<4xi32>) -> tensor<1x4xi8>
  %w2 = nn.constant dense<[[3, -1, 2, 5], [-4, 4, 0, 1], [1, 1, 1, 1]]> : tensor<3x4xi8>
  %l = qnn.linear %h, %w2 {input_zp = 5 : i32, requant = #qnn.requant<multiplier = [1717986918], shift = [-2], output_zp = 0>} : (tensor<1x4xi8>, tensor<3x4xi8>) -> tensor<1x3xi8>
  %y = qnn.softmax %l {axis = 1 : i64, multiplier = 1717986918 : i32, shift = 22 : i32, diff_min = -496 : i32} : tensor<1x3xi8>
  func.return %y : tensor<1x3xi8>
}
