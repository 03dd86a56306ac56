llvm.func @f(%a: i32) -> i32 {
  %b = llvm.add %a, %c : i32
  %c = llvm.mul %a, %a : i32
  llvm.return %b : i32
}
