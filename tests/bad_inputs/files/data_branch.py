"""Models whose forward() reads a tensor's value in Python, which torch.export cannot trace."""

import torch
from torch import nn


class Branchy(nn.Module):
    """A data-dependent `if`: relu only when the conv's outputs sum to more than zero."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        if y.sum() > 0:
            return y.relu()
        return y

    def example_inputs(self) -> tuple[torch.Tensor]:
        return (torch.randn(1, 1, 8, 8),)


class Count(nn.Module):
    """A tensor's value as a Python int (then a slice length)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = int(x.argmax())
        return x[:, :n]

    def example_inputs(self) -> tuple[torch.Tensor]:
        return (torch.randn(1, 4),)
