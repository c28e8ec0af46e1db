"""PyTorch architectures of the MLPerf Tiny families, with seeded random weights (for tests and benchmarks).

Weights are random but BatchNorm statistics are set so activations keep a sane range, as a trained
network's do; what matters here is the op mix and shapes, not accuracy.
"""

from __future__ import annotations

import torch
from torch import nn


def _bn(c: int) -> nn.BatchNorm2d:
    bn = nn.BatchNorm2d(c)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.2, 0.2)
        bn.running_mean.uniform_(-0.1, 0.1)
        bn.running_var.uniform_(0.5, 2.0)
    return bn


def _head(model: nn.Module, logits: torch.Tensor) -> torch.Tensor:
    """Softmax probabilities, or the logits when the model was built with logits=True."""
    return logits if getattr(model, "logits", False) else torch.softmax(logits, dim=1)


def conv_bn_relu(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, relu6: bool = False) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, padding=k // 2, groups=groups, bias=False),
        _bn(cout),
        nn.ReLU6() if relu6 else nn.ReLU(),
    )


class MobileNetV1(nn.Module):
    """MobileNetV1 with width multiplier 0.25 on 96x96x1 (the person_detect / VWW architecture)."""

    def __init__(self, alpha: float = 0.25, in_ch: int = 1, classes: int = 2):
        super().__init__()

        def c(n: int) -> int:
            return max(8, int(n * alpha))

        cfg = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
        layers = [conv_bn_relu(in_ch, c(32), 3, 2, relu6=True)]
        cin = c(32)
        for cout, stride in cfg:
            layers += [conv_bn_relu(cin, cin, 3, stride, groups=cin, relu6=True), conv_bn_relu(cin, c(cout), 1, relu6=True)]
            cin = c(cout)
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return _head(self, self.fc(self.pool(self.features(x)).flatten(1)))


class DSCNN(nn.Module):
    """DS-CNN (small) for keyword spotting on 49x10 MFCC features (MLPerf Tiny KWS)."""

    def __init__(self, classes: int = 12, width: int = 64):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, (10, 4), (2, 2), padding=(5, 1), bias=False), _bn(width), nn.ReLU())
        blocks = []
        for _ in range(4):
            blocks += [conv_bn_relu(width, width, 3, groups=width), conv_bn_relu(width, width, 1)]
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, classes)

    def forward(self, x):
        return _head(self, self.fc(self.pool(self.blocks(self.stem(x))).flatten(1)))


class _ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.a = conv_bn_relu(cin, cout, 3, stride)
        self.b = nn.Sequential(nn.Conv2d(cout, cout, 3, 1, 1, bias=False), _bn(cout))
        self.skip = None if stride == 1 and cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), _bn(cout))

    def forward(self, x):
        return torch.relu(self.b(self.a(x)) + (x if self.skip is None else self.skip(x)))


class ResNet8(nn.Module):
    """ResNet-8 for 32x32x3 images (MLPerf Tiny image classification)."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.stem = conv_bn_relu(3, 16, 3)
        self.stages = nn.Sequential(_ResBlock(16, 16, 1), _ResBlock(16, 32, 2), _ResBlock(32, 64, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        return _head(self, self.fc(self.pool(self.stages(self.stem(x))).flatten(1)))


class AutoEncoder(nn.Module):
    """Fully connected autoencoder 640 -> 128 -> 8 -> 128 -> 640 (MLPerf Tiny anomaly detection, trimmed)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(640, 128), nn.ReLU(), nn.Linear(128, 8), nn.ReLU(), nn.Linear(8, 128), nn.ReLU(), nn.Linear(128, 640)
        )

    def forward(self, x):
        return self.net(x)


ZOO = {
    "mobilenet_v1_025": (MobileNetV1, (1, 1, 96, 96)),
    "ds_cnn": (DSCNN, (1, 1, 49, 10)),
    "resnet8": (ResNet8, (1, 3, 32, 32)),
    "autoencoder": (AutoEncoder, (1, 640)),
}


def build(name: str, seed: int = 0, logits: bool = False) -> tuple[nn.Module, tuple[int, ...]]:
    """The model (eval mode) and its input shape; logits=True drops a classifier's final softmax."""
    cls, shape = ZOO[name]
    torch.manual_seed(seed)
    model = cls().eval()
    model.logits = logits
    return model, shape


def calibration(shape: tuple[int, ...], count: int, seed: int = 1) -> list[torch.Tensor]:
    """Structured inputs (smooth random fields plus noise) rather than white noise."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(count):
        base = torch.randn(shape, generator=g)
        if len(shape) == 4:
            base = torch.nn.functional.avg_pool2d(base, 3, 1, 1) * 2
        out.append(base + 0.1 * torch.randn(shape, generator=g))
    return out
