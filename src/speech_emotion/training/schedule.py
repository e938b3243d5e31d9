"""Learning-rate schedules: constant (the reference), cosine decay over the run, or decay when validation stalls.

The reference trained at one constant rate, and its validation UA swings by over 0.1 between checkpoints once
the network starts to memorise. Both schedules lower the rate late in training, where small steps may settle
the network instead: ``cosine`` along a fixed curve to zero at the last batch, ``plateau`` by a factor each time
validation UA has not improved for a number of validations. Both are PyTorch's own schedulers; their state
travels in the training checkpoint so a resumed run continues on the same curve.
"""

from __future__ import annotations

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, ReduceLROnPlateau

from speech_emotion.training.config import TrainConfig


class LearningRateSchedule:
    """Adjusts an optimiser's rate after each batch (cosine) or each validation (plateau); constant leaves it."""

    def __init__(self, optimizer: torch.optim.Optimizer, config: TrainConfig):
        self.optimizer = optimizer
        self.kind = config.lr_schedule
        self._scheduler: CosineAnnealingLR | ReduceLROnPlateau | None = None
        if self.kind == "cosine":
            self._scheduler = CosineAnnealingLR(optimizer, T_max=config.steps)
        elif self.kind == "plateau":
            self._scheduler = ReduceLROnPlateau(
                optimizer, mode="max", factor=config.lr_factor, patience=config.lr_patience, threshold=0
            )

    @property
    def rate(self) -> float:
        """The rate the next batch trains at."""
        return float(self.optimizer.param_groups[0]["lr"])

    def after_batch(self) -> None:
        if self.kind == "cosine":
            self._scheduler.step()

    def after_validation(self, valid_ua: float) -> None:
        if self.kind == "plateau":
            self._scheduler.step(valid_ua)

    def state_dict(self) -> dict:
        return self._scheduler.state_dict() if self._scheduler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self._scheduler is not None:
            self._scheduler.load_state_dict(state)
