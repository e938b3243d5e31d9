"""Domain-adversarial training against the corpus label (Ganin & Lempitsky, 2015).

Neutral-speech normalisation centres each corpus, yet the network can still tell the corpora apart, and what
tells them apart (the room, the microphone, the language, the actors' style) is what fails on a corpus it has
never heard. A small classifier learns to name the corpus of each window from the network's utterance
embedding; between the two sits a gradient reversal, so the same gradient that teaches the classifier pushes
the embedding towards not giving the corpus away. The classifier exists only in training: bundles hold the
emotion network alone.

The reversal's weight rises from 0 to ``adversary_weight`` along the schedule of the original paper,
``2 / (1 + exp(-10 p)) - 1`` with ``p`` the fraction of the run done, so the emotion features form before the
adversary starts to pull on them.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from speech_emotion.model import LEAKY_SLOPE, ACRNNConfig


class _ReverseGradient(torch.autograd.Function):
    """The identity going forward; the gradient times ``-weight`` going back."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: float) -> torch.Tensor:
        ctx.weight = weight
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.weight * grad, None


def reverse_gradient(x: torch.Tensor, weight: float) -> torch.Tensor:
    return _ReverseGradient.apply(x, weight)


class CorpusAdversary(nn.Module):
    """Names the corpus of each window from the ACRNN's embedding, through a gradient reversal."""

    def __init__(self, network: ACRNNConfig, n_corpora: int):
        super().__init__()
        self.hidden = nn.Linear(2 * network.lstm_units, network.fc_units)
        self.classify = nn.Linear(network.fc_units, n_corpora)

    def forward(self, embedding: torch.Tensor, weight: float) -> torch.Tensor:
        """Corpus logits; the embedding receives ``-weight`` times the gradient of the corpus loss."""
        x = nn.functional.leaky_relu(self.hidden(reverse_gradient(embedding, weight)), LEAKY_SLOPE)
        return self.classify(x)


def adversary_weight(step: int, steps: int, final: float) -> float:
    """The reversal weight for 0-based batch ``step`` of ``steps``: 0 at the start, near ``final`` by the end."""
    done = step / steps
    return final * (2 / (1 + math.exp(-10 * done)) - 1)
