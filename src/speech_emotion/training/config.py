"""Training settings, with the two presets ``reference`` (the published network) and ``small`` (tests, CPU).

The reference trained with Adam at a learning rate of 1e-5 for about 2000 batches of 60; the default here is
:data:`REFERENCE_LEARNING_RATE` (docs/training.md says why). Masking, mixup, per-speaker statistics and weight
averaging are off by default, which is the reference recipe; the shipped bundles use all four (docs/MODEL_CARD.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from speech_emotion.model import ACRNNConfig
from speech_emotion.preprocessing import STATISTICS, Preprocessing

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
    specaugment: bool = False  # mask time spans and mel-band spans of every training window (training/augment.py)
    mixup: float = 0.0  # Beta(alpha, alpha) mixing of window pairs within a batch; 0: off
    normalization: str = "corpus"  # the statistics strategy (preprocessing.py): corpus, speaker or hybrid
    average_from: int | None = None  # validate and keep the running mean of the weights from this batch on; None: off

    def __post_init__(self):
        if self.normalization not in STATISTICS:
            raise ValueError(f"normalization must be one of {', '.join(STATISTICS)}, not {self.normalization!r}")
        if self.mixup < 0:
            raise ValueError(f"mixup must not be negative, not {self.mixup}")
        if self.average_from is not None and self.average_from < 1:
            raise ValueError(f"average_from must be a batch number from 1 on, not {self.average_from}")

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

    def preprocessing(self, corpus_statistics: tuple[str, ...] = ()) -> Preprocessing:
        """The input policy the trained bundles carry; ``corpus_statistics``: hybrid's one-emotion corpora."""
        return Preprocessing(statistics=self.normalization, corpus_statistics=corpus_statistics)

    def to_dict(self) -> dict:
        return asdict(self)

    def fingerprint_settings(self) -> dict:
        """The settings a resumed run must share: all but ``steps``, since a run can be lengthened."""
        return {k: v for k, v in self.to_dict().items() if k != "steps"}

    @property
    def averaging(self) -> bool:
        """Whether a running mean of the weights is kept (from batch ``average_from`` on)."""
        return self.average_from is not None
