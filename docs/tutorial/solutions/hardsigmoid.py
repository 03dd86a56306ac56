"""Chapter 1, exercise 2: hardsigmoid on a 1x8 input."""

import torch
from torch import nn


class HardSigmoid(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.hardsigmoid(x)

    def example_inputs(self) -> tuple[torch.Tensor]:
        return (torch.randn(1, 8),)
