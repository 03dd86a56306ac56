"""Small example models for trying t2m (`t2m-import examples/models.py:TinyCNN`)."""

from __future__ import annotations

import torch
from torch import nn


class TinyCNN(nn.Module):
    """conv + BN + ReLU6, max pool, global average pool, linear, softmax: 1x3x16x16 -> 1x5."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.act = nn.ReLU6()
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-0.5, 0.5)
            self.bn.running_var.uniform_(0.5, 2.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.act(self.bn(self.conv(x))))
        x = torch.relu(self.conv2(x)) + x
        x = torch.flatten(self.gap(x), 1)
        return torch.softmax(self.fc(x), dim=1)

    def example_inputs(self) -> tuple[torch.Tensor]:
        return (torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(1)),)


class WithCumsum(nn.Module):
    """Uses ops t2m does not support (a running sum, a flip): t2m-import lists them all."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(10, 16, batch_first=True)
        self.fc = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.cumsum(self.gru(x)[0], dim=1)
        return self.fc(torch.flip(y, dims=[1])[:, -1])

    def example_inputs(self) -> tuple[torch.Tensor]:
        return (torch.randn(1, 5, 10),)


class MnistNet(nn.Module):
    """The network of PyTorch's MNIST example (pytorch/examples, mnist/main.py): 1x1x28x28 -> 10 log-probabilities.

    Its fp32 weights take 4.8 MB: `t2m-compile examples/models.py:MnistNet -o out/ --flash-size 8M`.
    """

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv1(x))
        x = torch.relu(self.conv2(x))
        x = self.dropout1(nn.functional.max_pool2d(x, 2))
        x = self.dropout2(torch.relu(self.fc1(torch.flatten(x, 1))))
        return nn.functional.log_softmax(self.fc2(x), dim=1)

    def example_inputs(self) -> tuple[torch.Tensor]:
        return (torch.randn(1, 1, 28, 28, generator=torch.Generator().manual_seed(2)),)


class TanhMLP(nn.Module):
    """A small MLP with tanh activations on small pre-activations, where the hard tanh `clamp(x, -1, 1)` of
    docs/extending.md (a PDL rewrite) is within 1% of tanh: 1x16 -> 1x4."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 4)
        with torch.no_grad():
            for layer in (self.fc1, self.fc2):
                layer.weight.mul_(0.1)
                layer.bias.mul_(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(x)))

    def example_inputs(self) -> tuple[torch.Tensor]:
        return (torch.randn(1, 16, generator=torch.Generator().manual_seed(3)),)
