"""Training settings, with the two presets ``reference`` (the published network) and ``small`` (tests, CPU).

The reference trained with Adam at a learning rate of 1e-5 for about 2000 batches of 60. The default here is
:data:`REFERENCE_LEARNING_RATE`; docs/training.md records the runs behind that choice. The augmentation,
normalisation, schedule, adversary, averaging and class-weight options (masking, mixup, copies of the training speech
at other speeds, per-speaker statistics, a decaying learning rate, a corpus adversary, a running mean of the
weights, a heavier loss on some emotions) are off by default, which is the reference recipe; docs/training.md
compares them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from speech_emotion.model import ACRNNConfig

REFERENCE_LEARNING_RATE = 1e-4
SMALL_LEARNING_RATE = 1e-3
TRAIN_NORMALIZATIONS = ("corpus", "speaker", "hybrid")
PER_SPEAKER_NORMALIZATIONS = ("speaker", "hybrid")  # those that z-score speakers with their own statistics
LR_SCHEDULES = ("constant", "cosine", "plateau")
SPECAUGMENT_MASKS = 2  # time masks and frequency masks per window with --specaugment
MIN_SPEED, MAX_SPEED = 0.5, 2.0  # speed perturbation: beyond these, speech no longer sounds like a person's

# The settings of the first training checkpoints; fields added later leave a resume fingerprint unchanged while
# they keep their default, so runs started before they existed can still be resumed.
_ORIGINAL_FIELDS = ("model", "learning_rate", "batch_size", "steps", "eval_every", "hop", "seed", "bf16", "pooling")


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
    time_masks: int = 0  # SpecAugment-style masks per training window, each up to time_mask_frames long
    time_mask_frames: int = 40
    freq_masks: int = 0  # masks of up to freq_mask_bands adjacent mel bands per training window
    freq_mask_bands: int = 8
    mixup: float = 0.0  # Beta(alpha, alpha) mixing of window pairs within a batch; 0: off
    normalization: str = "corpus"  # corpus: per-corpus neutral statistics (reference); speaker: each speaker's own;
    # hybrid: each speaker's own, but the corpus's neutral ones in corpora of one-emotion speakers (URDU)
    trim_silence: bool = False  # cut each file to its speech with the monitor's VAD (the reference kept it whole)
    lr_schedule: str = "constant"  # constant (reference); cosine: to zero at the last batch; plateau: when UA stalls
    lr_patience: int = 4  # plateau: validations without a better UA that are borne; the next lowers the rate
    lr_factor: float = 0.1  # plateau: what the rate is multiplied by each time
    adversary_weight: float = 0.0  # domain-adversarial training against the corpus label: the final reversal weight
    average_from: int | None = None  # validate and keep the running mean of the weights from this batch on; None: off
    class_weights: dict[str, float] | None = None  # emotion loss weight per label (others 1); None: all equal
    speeds: tuple[float, ...] = ()  # training copies of every training utterance played this many times as fast

    def __post_init__(self):
        if self.normalization not in TRAIN_NORMALIZATIONS:
            choices = ", ".join(TRAIN_NORMALIZATIONS)
            raise ValueError(f"normalization must be one of {choices}, not {self.normalization!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, not {self.lr_schedule!r}")
        if self.lr_patience < 0 or not 0 < self.lr_factor < 1:
            raise ValueError("lr_patience must not be negative and lr_factor must lie between 0 and 1")
        sizes = (self.time_masks, self.freq_masks, self.time_mask_frames, self.freq_mask_bands)
        if min(sizes) < 0 or self.mixup < 0 or self.adversary_weight < 0:
            raise ValueError("mask counts, mask widths, mixup and adversary_weight must not be negative")
        if self.average_from is not None and self.average_from < 1:
            raise ValueError(f"average_from must be a batch number from 1 on, not {self.average_from}")
        if self.class_weights is not None and not all(w > 0 for w in self.class_weights.values()):
            raise ValueError(f"class weights must be above 0, not {self.class_weights}")
        speeds_in_range = all(MIN_SPEED <= s <= MAX_SPEED and s != 1 for s in self.speeds)
        if not speeds_in_range or len(set(self.speeds)) < len(self.speeds):
            raise ValueError(
                f"speeds must differ from each other and from 1 and lie from {MIN_SPEED} to {MAX_SPEED}, "
                f"not {list(self.speeds)}"
            )

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

    @property
    def per_speaker(self) -> bool:
        """Whether speakers are normalised with their own statistics (everywhere, or but in one-emotion corpora)."""
        return self.normalization in PER_SPEAKER_NORMALIZATIONS

    def network(self, n_classes: int) -> ACRNNConfig:
        return ACRNNConfig.named(self.model, n_classes)

    def to_dict(self) -> dict:
        return asdict(self)

    def fingerprint_settings(self) -> dict:
        """The settings a resumed run must share, less later fields left at their default.

        ``steps`` may change (a run can be lengthened), except where it sets a curve: a cosine schedule's, or the
        adversary's rising weight.
        """
        defaults = TrainConfig()
        return {
            f.name: None if f.name == "steps" and not self.steps_shape_training else getattr(self, f.name)
            for f in fields(self)
            if f.name in _ORIGINAL_FIELDS or getattr(self, f.name) != getattr(defaults, f.name)
        }

    @property
    def adversarial(self) -> bool:
        """Whether a corpus adversary trains beside the network (``adversary_weight`` above 0)."""
        return self.adversary_weight > 0

    @property
    def averaging(self) -> bool:
        """Whether a running mean of the weights is kept (from batch ``average_from`` on)."""
        return self.average_from is not None

    @property
    def steps_shape_training(self) -> bool:
        """Whether every batch depends on the run's length, so that a run cannot be lengthened."""
        return self.lr_schedule == "cosine" or self.adversarial
