// t2m.* attribute keys are checked: old-style keys, wrong kinds and wrong places are errors.
// RUN: not t2m-opt %S/Inputs/unit.mlir 2>&1 | filecheck %s --check-prefix=UNIT
// RUN: not t2m-opt %S/Inputs/old.mlir 2>&1 | filecheck %s --check-prefix=OLD
// RUN: not t2m-opt %S/Inputs/place.mlir 2>&1 | filecheck %s --check-prefix=PLACE
// RUN: not t2m-opt %S/Inputs/shape.mlir 2>&1 | filecheck %s --check-prefix=SHAPE
// UNIT: t2m-opt: error: invalid IR: 'func.func' attribute 't2m.layer' must be a #t2m.layer<...>, got unit, at {{.*}}unit.mlir; fix the op named above
// OLD: t2m-opt: error: invalid IR: 'func.func' has unknown attribute 't2m.inputs': t2m describes a model with t2m.model on the module, t2m.layer on layer functions and t2m.variant on layer ops
// PLACE: t2m-opt: error: invalid IR: 'func.func' cannot carry 't2m.model' (it belongs on a builtin.module op)
// SHAPE: t2m-opt: error: syntax error: #t2m.model inputs and outputs are tensor types

// RUN: not t2m-opt %S/Inputs/variant.mlir 2>&1 | filecheck %s --check-prefix=VARIANT
// VARIANT: t2m-opt: error: invalid IR: 'func.return' cannot carry 't2m.variant' (a string on an nn or qnn layer op)
