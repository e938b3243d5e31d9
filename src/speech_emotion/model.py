"""The attention-based convolutional recurrent network (ACRNN) for 3-D log-mel windows.

Structure and sizes follow the reference (Chen et al., 2018): six 5x3 convolutions with one 2x4 max-pool
after the first, a per-time-step linear layer with batch norm, a bidirectional LSTM, attention pooling over
time, and two fully connected layers. Input ``(batch, 3, 300, 40)``: channels are static, delta and
delta-delta; the axes after them are time and mel band.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

LEAKY_SLOPE = 0.01


@dataclass(frozen=True)
class ACRNNConfig:
    """Every size the network has; ``reference()`` is the published one, ``small()`` is for tests."""

    n_classes: int = 4
    in_channels: int = 3
    window_frames: int = 300
    n_mels: int = 40
    first_conv_channels: int = 128
    conv_channels: int = 256
    n_convs: int = 6
    kernel: tuple[int, int] = (5, 3)
    pool: tuple[int, int] = (2, 4)
    linear_units: int = 768
    lstm_units: int = 128
    attention_units: int = 1
    fc_units: int = 64
    dropout: float = 0.5

    @classmethod
    def reference(cls, n_classes: int = 4) -> ACRNNConfig:
        return cls(n_classes=n_classes)

    @classmethod
    def small(cls, n_classes: int = 4) -> ACRNNConfig:
        return cls(
            n_classes=n_classes,
            first_conv_channels=8,
            conv_channels=16,
            n_convs=3,
            linear_units=32,
            lstm_units=16,
            fc_units=16,
        )

    @classmethod
    def named(cls, name: str, n_classes: int = 4) -> ACRNNConfig:
        presets = {"reference": cls.reference, "small": cls.small}
        if name not in presets:
            raise ValueError(f"unknown model configuration {name!r} (choose from {', '.join(presets)})")
        return presets[name](n_classes)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ACRNNConfig:
        fields = dict(data)
        for key in ("kernel", "pool"):
            fields[key] = tuple(fields[key])
        return cls(**fields)


class AttentionPooling(nn.Module):
    """Weighted sum over time; weights are a softmax of ``u . sigmoid(W h + b)`` (the reference's form)."""

    def __init__(self, hidden: int, units: int):
        super().__init__()
        self.project = nn.Linear(hidden, units)
        self.score = nn.Linear(units, 1, bias=False)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        weights = torch.softmax(self.score(torch.sigmoid(self.project(h))).squeeze(-1), dim=1)
        return torch.einsum("bt,bth->bh", weights, h), weights


class ACRNN(nn.Module):
    def __init__(self, config: ACRNNConfig):
        super().__init__()
        self.config = c = config
        padding = (c.kernel[0] // 2, c.kernel[1] // 2)
        convs = [nn.Conv2d(c.in_channels, c.first_conv_channels, c.kernel, padding=padding)]
        channels = c.first_conv_channels
        for _ in range(c.n_convs - 1):
            convs.append(nn.Conv2d(channels, c.conv_channels, c.kernel, padding=padding))
            channels = c.conv_channels
        self.convs = nn.ModuleList(convs)
        self.pool = nn.MaxPool2d(c.pool)
        self.steps = c.window_frames // c.pool[0]
        self.linear = nn.Linear(channels * (c.n_mels // c.pool[1]), c.linear_units)
        self.linear_norm = nn.BatchNorm1d(c.linear_units)
        self.lstm = nn.LSTM(c.linear_units, c.lstm_units, batch_first=True, bidirectional=True)
        self.attention = AttentionPooling(2 * c.lstm_units, c.attention_units)
        self.fc = nn.Linear(2 * c.lstm_units, c.fc_units)
        self.dropout = nn.Dropout(c.dropout)
        self.classify = nn.Linear(c.fc_units, c.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(batch, classes)`` for windows ``(batch, 3, frames, mels)``."""
        return self.forward_with_attention(x)[0]

    def forward_with_attention(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and the attention weights over the pooled time steps."""
        pooled, weights = self.embed(x)
        return self.head(pooled), weights

    def embed(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The attention-pooled LSTM state ``(batch, 2 * lstm_units)`` of each window, and the attention weights."""
        act = nn.functional.leaky_relu
        x = self.pool(act(self.convs[0](x), LEAKY_SLOPE))
        for conv in self.convs[1:]:
            x = act(conv(x), LEAKY_SLOPE)
        batch, channels, steps, bands = x.shape
        x = x.permute(0, 2, 1, 3).reshape(batch * steps, channels * bands)
        x = act(self.linear_norm(self.linear(x)), LEAKY_SLOPE).reshape(batch, steps, -1)
        h, _ = self.lstm(x)
        return self.attention(h)

    def head(self, pooled: torch.Tensor) -> torch.Tensor:
        """Class logits from :meth:`embed`'s embedding."""
        x = self.dropout(nn.functional.leaky_relu(self.fc(pooled), LEAKY_SLOPE))
        return self.classify(x)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def flops_per_window(config: ACRNNConfig) -> int:
    """Multiply-adds x 2 of one forward pass over one window (convolutions, linear, LSTM, heads)."""
    c = config
    kt, kf = c.kernel
    t, f = c.window_frames, c.n_mels
    flops = 2 * t * f * c.first_conv_channels * c.in_channels * kt * kf
    t, f = t // c.pool[0], f // c.pool[1]
    channels = c.first_conv_channels
    for _ in range(c.n_convs - 1):
        flops += 2 * t * f * c.conv_channels * channels * kt * kf
        channels = c.conv_channels
    flops += 2 * t * channels * f * c.linear_units
    flops += 2 * 2 * t * 4 * c.lstm_units * (c.linear_units + c.lstm_units)
    flops += 2 * t * 2 * c.lstm_units * c.attention_units + 2 * 2 * c.lstm_units * c.fc_units
    return flops
