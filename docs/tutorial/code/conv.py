"""The tutorial's running example: one 3x3 convolution with batch norm and ReLU, 1x2x8x8 -> 1x4x8x8.

Small enough that every stage prints in a screen and runs in a second, big enough to have a border (padding 1)
and an interior, and the batch norm and ReLU that fusion removes.
"""

import torch
from torch import nn


class ConvBNReLU(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-0.5, 0.5)
            self.bn.running_var.uniform_(0.5, 2.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.conv(x)))

    def example_inputs(self) -> tuple[torch.Tensor]:
        return (torch.randn(1, 2, 8, 8, generator=torch.Generator().manual_seed(1)),)
