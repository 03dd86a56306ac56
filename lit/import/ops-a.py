# Issue 12's layers through t2m-import: what each becomes in the nn (fp32) and qnn (int8) dialects.
#
# Conv1d is a conv2d of height 1 between two views; the unbatched conv2d gets a batch of one and loses it again;
# hardswish, ELU and GELU are single ops; ReflectionPad1d pads the last dim only; nearest upsampling keeps its
# float32 source step (1 / scale_factor); BatchNorm2d without running statistics normalises by the batch's.
#
# RUN: t2m-import %s:Audio | filecheck %s --check-prefix=FP32
# FP32:      func.func @audio(%x: tensor<2x3x16xf32>) -> tensor<2x4x1x20xf32> {
# FP32:        %[[X4:.*]] = nn.reshape %x : (tensor<2x3x16xf32>) -> tensor<2x3x1x16xf32>
# FP32:        %[[C:.*]] = nn.conv2d %[[X4]], %{{.*}}, %{{.*}} {stride = array<i64: 1, 1>, padding = array<i64: 0, 1, 0, 2>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x3x1x16xf32>, tensor<4x3x1x4xf32>, tensor<4xf32>) -> tensor<2x4x1x16xf32>
# FP32-NEXT:   %[[C3:.*]] = nn.reshape %[[C]] : (tensor<2x4x1x16xf32>) -> tensor<2x4x16xf32>
# FP32-NEXT:   %[[H:.*]] = nn.hardswish %[[C3]] : tensor<2x4x16xf32>
# FP32-NEXT:   %[[E:.*]] = nn.elu %[[H]] {alpha = 5.000000e-01 : f32} : tensor<2x4x16xf32>
# FP32-NEXT:   %[[P:.*]] = nn.pad %[[E]] {low = array<i64: 0, 0, 2>, high = array<i64: 0, 0, 2>, mode = "reflect", value = 0.000000e+00 : f32} : (tensor<2x4x16xf32>) -> tensor<2x4x20xf32>
# FP32-NEXT:   %[[G:.*]] = nn.gelu %[[P]] {approximate = "none"} : tensor<2x4x20xf32>
# FP32:        %[[U:.*]] = nn.upsample %{{.*}} {mode = "nearest", scale = array<f32: 1.000000e+00, 5.000000e-01>, align_corners = false} : (tensor<2x4x1x20xf32>) -> tensor<2x4x1x40xf32>
# FP32:        nn.batch_norm_stats %{{.*}}, %{{.*}}, %{{.*}} {eps = 1.000000e-05 : f32} : (tensor<2x4x1x20xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x1x20xf32>
#
# RUN: t2m-import %s:Unbatched | filecheck %s --check-prefix=UNBATCHED
# UNBATCHED:      func.func @unbatched(%x: tensor<1x6x6xf32>) -> tensor<2x2x2xf32> {
# UNBATCHED:        %[[B:.*]] = nn.reshape %x : (tensor<1x6x6xf32>) -> tensor<1x1x6x6xf32>
# UNBATCHED:        %[[C:.*]] = nn.conv2d %[[B]], {{.*}} -> tensor<1x2x4x4xf32>
# UNBATCHED-NEXT:   %[[U:.*]] = nn.reshape %[[C]] : (tensor<1x2x4x4xf32>) -> tensor<2x4x4xf32>
# UNBATCHED-NEXT:   %[[B2:.*]] = nn.reshape %[[U]] : (tensor<2x4x4xf32>) -> tensor<1x2x4x4xf32>
# UNBATCHED-NEXT:   %[[P:.*]] = nn.avg_pool2d %[[B2]] {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, count_include_pad = true, divisor_override = 3 : i64}
# UNBATCHED-NEXT:   nn.reshape %[[P]] : (tensor<1x2x2x2xf32>) -> tensor<2x2x2xf32>
#
# int8: the activations are 256-entry tables (PyTorch's own GELU on each dequantized input, quantized);
# the reflection padding copies int8 values.
#
# RUN: t2m-import %s:Int8 --quantize int8 --calibrate random 2>/dev/null | filecheck %s --check-prefix=INT8
# INT8:      func.func @int8(%x: tensor<1x3x8xi8> {qnn.quant = #qnn.quant<{{.*}}>})
# INT8:        qnn.conv2d %{{.*}} : (tensor<1x3x1x8xi8>, tensor<4x3x1x3xi8>, tensor<4xi32>) -> tensor<1x4x1x6xi32>
# INT8:        %[[T:.*]] = nn.constant dense<"0x{{[0-9A-F]+}}"> : tensor<1x256xi8>
# INT8:        %[[G:.*]] = qnn.lut %{{.*}}, %[[T]] : (tensor<1x4x6xi8>, tensor<1x256xi8>) -> tensor<1x4x6xi8>
# INT8-NEXT:   nn.pad %[[G]] {low = array<i64: 0, 0, 1>, high = array<i64: 0, 0, 1>, mode = "reflect", value = 0.000000e+00 : f32} : (tensor<1x4x6xi8>) -> tensor<1x4x8xi8>

import torch
from torch import nn


class Audio(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(3, 4, 4, padding="same")
        self.pad = nn.ReflectionPad1d(2)
        self.up = nn.Upsample(scale_factor=2)
        self.conv2 = nn.Conv1d(4, 4, 3, stride=2, padding=1)
        self.norm = nn.BatchNorm2d(4, track_running_stats=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = nn.functional.gelu(self.pad(nn.functional.elu(nn.functional.hardswish(self.conv(x)), 0.5)))
        y = self.conv2(self.up(y))  # [2, 4, 20] -> [2, 4, 40] -> [2, 4, 20]
        return self.norm(y[:, :, None])

    def example_inputs(self) -> tuple[torch.Tensor]:
        return (torch.randn(2, 3, 16),)


class Unbatched(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.pool = nn.AvgPool2d(2, divisor_override=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv(x))

    def example_inputs(self) -> tuple[torch.Tensor]:
        return (torch.randn(1, 6, 6),)


class Int8(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv1d(3, 4, 3)
        self.pad = nn.ReflectionPad1d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pad(nn.functional.gelu(self.conv(x)))

    def example_inputs(self) -> tuple[torch.Tensor]:
        return (torch.randn(1, 3, 8),)
