"""Small models and PT2E quantizers for the quantization cases of the bad-input corpus (builders.py saves their
converted graphs as .pt2). The error cases quote source lines of this file: keep its lines where they are."""

import torch
from torch import nn


class Tiny(nn.Module):
    """1x1x4x4 -> conv 3x3 -> ReLU."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(1, 2, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x))

    def example_inputs(self) -> tuple[torch.Tensor]:
        return (torch.randn(1, 1, 4, 4),)


class FloatBetween(nn.Module):
    """conv -> log_softmax -> conv: t2m's quantizer leaves the log_softmax in float between two quantized convs."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.a, self.b = nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(2, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.log_softmax(self.a(x), dim=1)
        return self.b(y)

    def example_inputs(self) -> tuple[torch.Tensor]:
        return (torch.randn(1, 1, 4, 4),)


def conv_quantizer(activation_dtype: torch.dtype, weight_scheme: torch.qscheme) -> object:
    """A PT2E quantizer that quantizes conv2d's input, weight and output with the given activation type and
    weight scheme (int16 activations, or asymmetric per-channel weights: what t2m cannot represent)."""
    from torchao.quantization.pt2e import MinMaxObserver, PerChannelMinMaxObserver
    from torchao.quantization.pt2e.quantizer import QuantizationAnnotation, QuantizationSpec, Quantizer

    info = torch.iinfo(activation_dtype)
    activation = QuantizationSpec(
        dtype=activation_dtype,
        quant_min=info.min,
        quant_max=info.max,
        qscheme=torch.per_tensor_affine,
        observer_or_fake_quant_ctr=MinMaxObserver,
    )
    weight = QuantizationSpec(
        dtype=torch.int8,
        quant_min=-128,
        quant_max=127,
        qscheme=weight_scheme,
        ch_axis=0,
        observer_or_fake_quant_ctr=PerChannelMinMaxObserver,
    )

    class ConvQuantizer(Quantizer):
        def annotate(self, model: torch.fx.GraphModule) -> torch.fx.GraphModule:
            for node in model.graph.nodes:
                if node.target == torch.ops.aten.conv2d.default:
                    inputs = {node.args[0]: activation, node.args[1]: weight}
                    node.meta["quantization_annotation"] = QuantizationAnnotation(inputs, activation, _annotated=True)
            return model

        def validate(self, model: torch.fx.GraphModule) -> None:
            pass

    return ConvQuantizer()
