"""The attention-based convolutional recurrent network (ACRNN) for 3-D log-mel windows.

Structure and sizes follow the reference (Chen et al., 2018): six 5x3 convolutions with one 2x4 max-pool
after the first, a per-time-step linear layer with batch norm, a bidirectional LSTM, attention pooling over
time, and two fully connected layers. Input ``(batch, 3, 300, 40)``: channels are static, delta and
delta-delta; the axes after them are time and mel band.
"""

from __future__ import annotations

import itertools
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
        return self.embed_steps(self.convolve(x))

    def convolve(self, x: torch.Tensor) -> torch.Tensor:
        """The convolutional stack: ``(batch, 3, frames, mels)`` to ``(batch, frames // pool, features)``, one
        row per pooled time step; it runs on any number of frames (experiments/conv_once.py)."""
        act = nn.functional.leaky_relu
        x = self.pool(act(self.convs[0](x), LEAKY_SLOPE))
        for conv in self.convs[1:]:
            x = act(conv(x), LEAKY_SLOPE)
        batch, channels, steps, bands = x.shape
        return x.permute(0, 2, 1, 3).reshape(batch, steps, channels * bands)

    def embed_steps(self, steps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`embed` from :meth:`convolve`'s output ``(batch, steps, features)``."""
        batch, n, _ = steps.shape
        x = self.linear(steps.reshape(batch * n, -1))
        x = nn.functional.leaky_relu(self.linear_norm(x), LEAKY_SLOPE).reshape(batch, n, -1)
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


@dataclass(frozen=True)
class SVMConfig:
    """An RBF support vector machine over one row of utterance features, fitted by scikit-learn's ``SVC``
    (training/functionals.py) and run here as a network, so that its bundle holds plain tensors."""

    n_classes: int = 4
    n_features: int = 88
    n_support: tuple[int, ...] = (1, 1, 1, 1)  # support vectors of each class, in class order
    gamma: float = 1 / 88

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SVMConfig:
        return cls(**{**data, "n_support": tuple(data["n_support"])})


class SVMClassifier(nn.Module):
    """scikit-learn's ``SVC.decision_function`` with ``decision_function_shape="ovr"``: each pair of classes'
    RBF decision, turned into one score per class (votes, plus the pair confidences squashed below one vote),
    whose largest is the SVM's label. These scores are the model's logits."""

    def __init__(self, config: SVMConfig):
        super().__init__()
        self.config = config
        n_sv, k = sum(config.n_support), config.n_classes
        self.register_buffer("support_vectors", torch.zeros(n_sv, config.n_features))
        self.register_buffer("dual_coef", torch.zeros(k - 1, n_sv))
        self.register_buffer("intercept", torch.zeros(k * (k - 1) // 2))
        bounds = [0, *itertools.accumulate(config.n_support)]
        self.ranges = [(bounds[i], bounds[i + 1]) for i in range(k)]
        self.pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores ``(batch, classes)`` of normalised rows ``(batch, features)``."""
        kernel = torch.exp(-self.config.gamma * torch.cdist(x.double(), self.support_vectors.double()).square())
        votes = torch.zeros(len(x), self.config.n_classes, dtype=torch.float64, device=x.device)
        confidence = torch.zeros_like(votes)
        for p, (i, j) in enumerate(self.pairs):
            (a, b), (c, d) = self.ranges[i], self.ranges[j]
            decision = (
                kernel[:, a:b] @ self.dual_coef[j - 1, a:b].double()
                + kernel[:, c:d] @ self.dual_coef[i, c:d].double()
                + self.intercept[p].double()
            )
            votes[:, i] += decision > 0
            votes[:, j] += decision <= 0
            confidence[:, i] += decision
            confidence[:, j] -= decision
        return (votes + confidence / (3 * (confidence.abs() + 1))).float()


NetworkConfig = ACRNNConfig | SVMConfig
_KINDS = {"acrnn": (ACRNNConfig, ACRNN), "svm": (SVMConfig, SVMClassifier)}


def build_network(config: NetworkConfig) -> nn.Module:
    return next(network for kind, network in _KINDS.values() if isinstance(config, kind))(config)


def network_to_dict(config: NetworkConfig) -> dict:
    kind = next(name for name, (cls, _) in _KINDS.items() if isinstance(config, cls))
    return {"kind": kind, **config.to_dict()}


def network_from_dict(data: dict) -> NetworkConfig:
    """A network configuration from :func:`network_to_dict`; one without a kind is an ACRNN's (older bundles)."""
    fields = dict(data)
    kind = fields.pop("kind", "acrnn")
    if kind not in _KINDS:
        raise ValueError(f"unknown network kind {kind!r}")
    return _KINDS[kind][0].from_dict(fields)
