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
        cosine, plateau = config.lr_schedule == "cosine", config.lr_schedule == "plateau"
        self._per_batch = CosineAnnealingLR(optimizer, T_max=config.steps) if cosine else None
        self._per_validation = (
            ReduceLROnPlateau(optimizer, mode="max", factor=config.lr_factor, patience=config.lr_patience, threshold=0)
            if plateau
            else None
        )

    @property
    def rate(self) -> float:
        """The rate the next batch trains at."""
        return float(self.optimizer.param_groups[0]["lr"])

    def after_batch(self) -> None:
        if self._per_batch is not None:
            self._per_batch.step()

    def after_validation(self, valid_ua: float) -> None:
        if self._per_validation is not None:
            self._per_validation.step(valid_ua)

    def state_dict(self) -> dict:
        scheduler = self._per_batch or self._per_validation
        return scheduler.state_dict() if scheduler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        scheduler = self._per_batch or self._per_validation
        if scheduler is not None:
            scheduler.load_state_dict(state)
