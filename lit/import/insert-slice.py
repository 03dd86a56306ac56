# In-place ops on a slice or a select of an activation: torch.export's functionalization writes the result back
# with slice_scatter / select_scatter, which import as nn.insert_slice (the select's value gets its axis back
# first). The view itself is an nn.slice. `y[:, :, -1] += 0.5` is an add, a copy into the view (aten.copy: the
# value itself when the shapes agree) and the write-back; functionalization writes the view back a second time,
# unchanged.
#
# RUN: t2m-import %s:SliceWrite --input-shape 1x4x6 | filecheck %s --check-prefix=SLICE
# SLICE:      func.func @slicewrite(%x: tensor<1x4x6xf32>) -> tensor<1x4x6xf32> {
# SLICE:        %[[Y:.*]] = nn.mul %x, %{{.*}}
# SLICE-NEXT:   %[[S:.*]] = nn.slice %[[Y]] {start = array<i64: 0, 1, 0>, step = array<i64: 1, 2, 1>} : (tensor<1x4x6xf32>) -> tensor<1x2x6xf32>
# SLICE-NEXT:   %[[R:.*]] = nn.relu %[[S]] : tensor<1x2x6xf32>
# SLICE-NEXT:   %[[W:.*]] = nn.insert_slice %[[R]] into %[[Y]] {start = array<i64: 0, 1, 0>, step = array<i64: 1, 2, 1>} : (tensor<1x2x6xf32>, tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
# SLICE-NEXT:   func.return %[[W]] : tensor<1x4x6xf32>
#
# RUN: t2m-import %s:SelectWrite --input-shape 1x4x6 | filecheck %s --check-prefix=SELECT
# SELECT:      func.func @selectwrite(%x: tensor<1x4x6xf32>) -> tensor<1x4x6xf32> {
# SELECT:        %[[Y:.*]] = nn.mul %x, %{{.*}}
# SELECT-NEXT:   %[[S:.*]] = nn.slice %[[Y]] {start = array<i64: 0, 0, 5>, step = array<i64: 1, 1, 1>} : (tensor<1x4x6xf32>) -> tensor<1x4x1xf32>
# SELECT-NEXT:   %[[V:.*]] = nn.reshape %[[S]] : (tensor<1x4x1xf32>) -> tensor<1x4xf32>
# SELECT:        %[[A:.*]] = nn.add %[[V]], %{{.*}}
# SELECT-NEXT:   %[[B:.*]] = nn.reshape %[[A]] : (tensor<1x4xf32>) -> tensor<1x4x1xf32>
# SELECT-NEXT:   %[[W:.*]] = nn.insert_slice %[[B]] into %[[Y]] {start = array<i64: 0, 0, 5>, step = array<i64: 1, 1, 1>} : (tensor<1x4x1xf32>, tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
# SELECT:        func.return %{{.*}} : tensor<1x4x6xf32>

import torch
from torch import nn


class SliceWrite(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x * 2
        torch.relu_(y[:, 1::2])
        return y


class SelectWrite(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x * 2
        y[:, :, -1] += 0.5
        return y
