# 1-d pooling through t2m-import: each pool is the 2-d pool of height 1 between two views, as Conv1d is a conv2d
# of height 1 (ceil_mode pads the end of the max pool's window row; an unbatched [C, L] input gets a batch of one).
#
# RUN: t2m-import %s:Pools | filecheck %s
# CHECK:      func.func @pools(%x: tensor<2x3x18xf32>) -> tensor<2x3x2xf32> {
# CHECK:        %[[X4:.*]] = nn.reshape %x : (tensor<2x3x18xf32>) -> tensor<2x3x1x18xf32>
# CHECK-NEXT:   %[[M:.*]] = nn.max_pool2d %[[X4]] {kernel = array<i64: 1, 3>, stride = array<i64: 1, 2>, padding = array<i64: 0, 1, 0, 3>, dilation = array<i64: 1, 1>} : (tensor<2x3x1x18xf32>) -> tensor<2x3x1x10xf32>
# CHECK-NEXT:   %[[M3:.*]] = nn.reshape %[[M]] : (tensor<2x3x1x10xf32>) -> tensor<2x3x10xf32>
# CHECK-NEXT:   %[[M4:.*]] = nn.reshape %[[M3]] : (tensor<2x3x10xf32>) -> tensor<2x3x1x10xf32>
# CHECK-NEXT:   %[[A:.*]] = nn.avg_pool2d %[[M4]] {kernel = array<i64: 1, 2>, stride = array<i64: 1, 2>, padding = array<i64: 0, 0, 0, 0>, count_include_pad = false} : (tensor<2x3x1x10xf32>) -> tensor<2x3x1x5xf32>
# CHECK-NEXT:   %[[A3:.*]] = nn.reshape %[[A]] : (tensor<2x3x1x5xf32>) -> tensor<2x3x5xf32>
# CHECK-NEXT:   %[[A4:.*]] = nn.reshape %[[A3]] : (tensor<2x3x5xf32>) -> tensor<2x3x1x5xf32>
# CHECK-NEXT:   %[[G:.*]] = nn.adaptive_avg_pool2d %[[A4]] {output_size = array<i64: 1, 2>} : (tensor<2x3x1x5xf32>) -> tensor<2x3x1x2xf32>
# CHECK-NEXT:   nn.reshape %[[G]] : (tensor<2x3x1x2xf32>) -> tensor<2x3x2xf32>
#
# RUN: t2m-import %s:Unbatched | filecheck %s --check-prefix=UNBATCHED
# UNBATCHED:      func.func @unbatched(%x: tensor<4x9xf32>) -> tensor<4x4xf32> {
# UNBATCHED:        %[[X4:.*]] = nn.reshape %x : (tensor<4x9xf32>) -> tensor<1x4x1x9xf32>
# UNBATCHED-NEXT:   %[[M:.*]] = nn.max_pool2d %[[X4]] {{.*}} -> tensor<1x4x1x4xf32>
# UNBATCHED-NEXT:   nn.reshape %[[M]] : (tensor<1x4x1x4xf32>) -> tensor<4x4xf32>
#
# int8: the same views around qnn pools, in the input's quantization.
#
# RUN: t2m-import %s:Pools --quantize int8 --calibrate random 2>/dev/null | filecheck %s --check-prefix=INT8
# INT8:      func.func @pools(%x: tensor<2x3x18xi8> {qnn.quant = #qnn.quant<{{.*}}>})
# INT8:        %[[X4:.*]] = nn.reshape %x : (tensor<2x3x18xi8>) -> tensor<2x3x1x18xi8>
# INT8-NEXT:   %[[M:.*]] = qnn.max_pool2d %[[X4]] {kernel = array<i64: 1, 3>, stride = array<i64: 1, 2>, {{.*}}} : (tensor<2x3x1x18xi8>) -> tensor<2x3x1x10xi8>
# INT8:        qnn.avg_pool2d %{{.*}} {kernel = array<i64: 1, 2>, stride = array<i64: 1, 2>, padding = array<i64: 0, 0, 0, 0>, count_include_pad = 0 : i64, {{.*}}} : (tensor<2x3x1x10xi8>) -> tensor<2x3x1x5xi8>
# INT8:        %[[G:.*]] = qnn.adaptive_avg_pool2d %{{.*}} {output_size = array<i64: 1, 2>} : (tensor<2x3x1x5xi8>) -> tensor<2x3x1x2xi8>
# INT8-NEXT:   nn.reshape %[[G]] : (tensor<2x3x1x2xi8>) -> tensor<2x3x2xi8>

import torch
from torch import nn


class Pools(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.max = nn.MaxPool1d(3, stride=2, padding=1, ceil_mode=True)
        self.avg = nn.AvgPool1d(2, count_include_pad=False)
        self.adaptive = nn.AdaptiveAvgPool1d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.adaptive(self.avg(self.max(x)))

    def example_inputs(self) -> tuple[torch.Tensor]:
        return (torch.randn(2, 3, 18),)


class Unbatched(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.max = nn.MaxPool1d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.max(x)

    def example_inputs(self) -> tuple[torch.Tensor]:
        return (torch.randn(4, 9),)
