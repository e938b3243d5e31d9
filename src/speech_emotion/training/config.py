"""Training settings, with the two presets ``reference`` (the published network) and ``small`` (tests, CPU).

The reference trained with Adam at a learning rate of 1e-5 for about 2000 batches of 60. The default here is
:data:`REFERENCE_LEARNING_RATE`; docs/training.md records the runs behind that choice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from speech_emotion.model import ACRNNConfig

REFERENCE_LEARNING_RATE = 1e-4
SMALL_LEARNING_RATE = 1e-3


@dataclass(frozen=True)
class TrainConfig:
    model: str = "reference"  # ACRNNConfig preset
    learning_rate: float = REFERENCE_LEARNING_RATE
    batch_size: int = 60
    steps: int = 2000
    eval_every: int = 20  # batches between validations (and checkpoints)
    hop: int | None = None  # None: the reference's first and last 300 frames of each utterance
    seed: int = 0
    bf16: bool = False
    pooling: str = "max"  # utterance score from window scores in validation, as the recogniser does

    @classmethod
    def named(cls, name: str) -> TrainConfig:
        presets = {
            "reference": cls(),
            "small": cls(model="small", learning_rate=SMALL_LEARNING_RATE, steps=300, eval_every=10),
        }
        if name not in presets:
            raise ValueError(f"unknown training configuration {name!r} (choose from {', '.join(presets)})")
        return presets[name]

    def with_overrides(self, **changes) -> TrainConfig:
        """A copy with the given fields changed; ``None`` values leave a field as it is."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def network(self, n_classes: int) -> ACRNNConfig:
        return ACRNNConfig.named(self.model, n_classes)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        return cls(**data)
