# t2m-import --quantize int8: PT2E quantization (t2m's quantizer), then the converted graph as qnn ops.
#
# Exact: scales that are powers of two, so every integer parameter can be checked by hand. The calibration
# inputs span [-1.984375, 2.0] = [-127, 128] * 2^-6: input scale 2^-6, zero point -1. Weights 127/128 on the
# diagonal: per-channel scale 2^-7, int8 127. Bias 2^-7: int32 2^-7 / (2^-6 * 2^-7) = 64. The ReLU'd outputs
# span [0, 255/128]: output scale 2^-7, zero point -128 (ReLU fused: the range starts at 0, so no clamp).
# The rescale multiplier s_in * s_w / s_out = 2^-6 is the Q31 mantissa 2^30 with exponent -5.
#
# RUN: t2m-import %s:Exact --quantize int8 --calibrate %s:EXACT_CALIBRATION | filecheck %s --check-prefix=EXACT
# EXACT:      func.func @exact(%x: tensor<1x2xi8> {qnn.quant = #qnn.quant<0.015625, -1>}) -> (tensor<1x2xi8> {qnn.quant = #qnn.quant<0.0078125, -128>}) {
# EXACT-NEXT:   %0 = nn.constant dense<64> : tensor<2xi32>
# EXACT-NEXT:   %1 = nn.constant dense<{{\[\[}}127, 0], [0, 127]]> : tensor<2x2xi8>
# EXACT-NEXT:   %2 = qnn.linear %x, %1, %0 {input_zp = -1 : i32} : (tensor<1x2xi8>, tensor<2x2xi8>, tensor<2xi32>) -> tensor<1x2xi32>
# EXACT-NEXT:   %3 = qnn.rescale %2 {requant = #qnn.requant<multiplier = [1073741824, 1073741824], shift = [-5, -5], output_zp = -128>, input_zp = 0 : i32, axis = 1 : i64} : (tensor<1x2xi32>) -> tensor<1x2xi8>
# EXACT-NEXT:   func.return %3 : tensor<1x2xi8>
#
# A small CNN (calibrated on random inputs: the structure, not the numbers): conv -> rescale per output channel,
# the TF-style zero padding folded into the stride-2 conv, max pool on int8, a shared-scale average, flatten,
# linear, softmax with its fixed output quantization. `--fuse` then folds each rescale into its conv/linear.
#
# RUN: t2m-import %s:SmallCNN --quantize int8 --calibrate random 2>/dev/null | filecheck %s --check-prefix=CNN
# CNN:      func.func @smallcnn(%x: tensor<1x3x8x8xi8> {qnn.quant = #qnn.quant<{{.*}}>}) -> (tensor<1x4xi8> {qnn.quant = #qnn.quant<0.00390625, -128>})
# CNN:        %[[C1:.*]] = qnn.conv2d %x, %{{.*}}, %{{.*}} {stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64, input_zp = {{-?[0-9]+}} : i32} : (tensor<1x3x8x8xi8>, tensor<6x3x3x3xi8>, tensor<6xi32>) -> tensor<1x6x4x4xi32>
# CNN-NEXT:   %[[R1:.*]] = qnn.rescale %[[C1]] {requant = #qnn.requant<multiplier = [{{([0-9]+, ){5}[0-9]+}}], shift = [{{.*}}], output_zp = -128>, input_zp = 0 : i32, axis = 1 : i64}
# CNN-NEXT:   %[[P:.*]] = qnn.max_pool2d %[[R1]] {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
# CNN:        %[[C2:.*]] = qnn.conv2d %[[P]], %{{.*}}, %{{.*}} {{.*}} groups = 6 : i64, input_zp = -128 : i32}
# CNN-NEXT:   %[[R2:.*]] = qnn.rescale %[[C2]]
# CNN-NEXT:   %[[A:.*]] = qnn.adaptive_avg_pool2d %[[R2]] {output_size = array<i64: 1, 1>}
# CNN-NEXT:   %[[F:.*]] = nn.reshape %[[A]] : (tensor<1x6x1x1xi8>) -> tensor<1x6xi8>
# CNN:        %[[L:.*]] = qnn.linear %[[F]], %{{.*}}, %{{.*}} {input_zp = {{-?[0-9]+}} : i32} : (tensor<1x6xi8>, tensor<4x6xi8>, tensor<4xi32>) -> tensor<1x4xi32>
# CNN-NEXT:   %[[R3:.*]] = qnn.rescale %[[L]] {requant = #qnn.requant<multiplier = [{{([0-9]+, ){3}[0-9]+}}], {{.*}}}
# CNN-NEXT:   %[[S:.*]] = qnn.softmax %[[R3]] {axis = 1 : i64, multiplier = {{[0-9]+}} : i32, shift = {{[0-9]+}} : i32, diff_min = {{-[0-9]+}} : i32} : tensor<1x4xi8>
# CNN-NEXT:   func.return %[[S]] : tensor<1x4xi8>
#
# RUN: t2m-import %s:SmallCNN --quantize int8 --calibrate random 2>%t.err | t2m-opt --fuse | filecheck %s --check-prefix=FUSED
# FUSED:     qnn.conv2d {{.*}} requant = #qnn.requant<{{.*}}>} : (tensor<1x3x8x8xi8>, tensor<6x3x3x3xi8>, tensor<6xi32>) -> tensor<1x6x4x4xi8>
# FUSED-NOT: qnn.rescale
# FUSED:     qnn.conv2d {{.*}} requant = #qnn.requant<{{.*}}>} : (tensor<1x6x2x2xi8>, tensor<6x1x3x3xi8>, tensor<6xi32>) -> tensor<1x6x2x2xi8>
# FUSED-NOT: qnn.rescale
# FUSED:     qnn.linear {{.*}} requant = #qnn.requant<{{.*}}>} : (tensor<1x6xi8>, tensor<4x6xi8>, tensor<4xi32>) -> tensor<1x4xi8>
# FUSED-NOT: qnn.rescale

import torch
from torch import nn

EXACT_CALIBRATION = [torch.tensor([[-1.984375, 2.0]]), torch.tensor([[2.0, -1.984375]])]


class Exact(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)
        with torch.no_grad():
            self.fc.weight.copy_(torch.eye(2) * 127 / 128)
            self.fc.bias.fill_(2**-7)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(x))

    def example_inputs(self) -> tuple[torch.Tensor]:
        return (EXACT_CALIBRATION[0],)


class SmallCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Sequential(
            nn.ZeroPad2d((0, 1, 0, 1)),
            nn.Conv2d(3, 6, 3, stride=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 6, 3, padding=1, groups=6),
            nn.ReLU6(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.fc = nn.Linear(6, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.fc(self.features(x)), dim=1)

    def example_inputs(self) -> tuple[torch.Tensor]:
        return (torch.randn(1, 3, 8, 8),)
