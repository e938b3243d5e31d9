"""A logit offset for one emotion, chosen on labelled speech: where the monitoring model draws its line.

The reference chose its monitoring model among checkpoints for UA × sad recall. An offset added to one
emotion's logits in every window (logit adjustment; Menon et al., 2021) moves the decision boundary toward
that emotion without retraining: :func:`choose_offset` takes the one from :data:`OFFSET_GRID` with the best
UA × that emotion's recall on a labelled split. Chosen on the speech it is then scored on, the figure flatters
it; so the choice is also made without each corpus in turn and scored on that corpus, and that pooled
leave-one-corpus-out figure is the one to expect on unseen speech.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from speech_emotion.evaluation.metrics import Scores, score
from speech_emotion.windows import pool_logits

OFFSET_GRID = tuple(0.25 * i for i in range(13))  # 0 (no change) to 3, past which nearly every decision is one way


@dataclass(frozen=True)
class CorpusLogits:
    """One corpus's utterances: each one's window logits from the network, and its true label."""

    name: str
    logits: list[torch.Tensor]
    true: list[str]


@dataclass(frozen=True)
class OffsetChoice:
    label: str
    offset: float  # chosen on every corpus
    before: Scores  # every corpus, with the offsets the model had
    after: Scores  # every corpus, with ``offset``
    held_out_offsets: dict[str, float]  # corpus -> the offset chosen on the others; empty with one corpus
    held_out: Scores | None  # each corpus scored with the offset chosen on the others
    sweep: dict[float, Scores]  # every corpus, with each offset of the grid

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "offset": self.offset,
            "before": _summary(self.before, self.label),
            "after": _summary(self.after, self.label),
            "held_out_offsets": self.held_out_offsets,
            "held_out": _summary(self.held_out, self.label) if self.held_out is not None else None,
            "sweep": {str(o): _summary(s, self.label) for o, s in self.sweep.items()},
        }


def criterion(scores: Scores, label: str) -> float:
    """UA × ``label``'s recall: the reference's criterion for its monitoring model (with ``sad``)."""
    return scores.ua * scores.per_class[label]["recall"]


def choose_offset(
    corpora: Sequence[CorpusLogits], labels: Sequence[str], label: str, offsets: torch.Tensor, pooling: str = "max"
) -> OffsetChoice:
    """The offset for ``label`` (the others keep theirs in ``offsets``) with the best :func:`criterion`;
    the smallest such one on ties, so 0 unless an offset helps."""
    labels = list(labels)
    index = labels.index(label)
    true = {c.name: c.true for c in corpora}
    predicted = {  # corpus -> grid offset -> labels predicted
        c.name: {o: _predict(c.logits, _with(offsets, index, o), labels, pooling) for o in OFFSET_GRID} for c in corpora
    }

    def pooled(chosen: dict[str, float]) -> Scores:
        """Scores over the corpora in ``chosen``, each with its offset."""
        return score(
            [t for n in chosen for t in true[n]], [p for n, o in chosen.items() for p in predicted[n][o]], labels
        )

    def sweep_over(names: Sequence[str]) -> dict[float, Scores]:
        return {o: pooled(dict.fromkeys(names, o)) for o in OFFSET_GRID}

    def best(sweep: dict[float, Scores]) -> float:
        return max(sweep, key=lambda o: criterion(sweep[o], label))  # the first, so the smallest, on ties

    names = list(true)
    held_out_offsets = {n: best(sweep_over([m for m in names if m != n])) for n in names} if len(names) > 1 else {}
    as_it_was = [p for c in corpora for p in _predict(c.logits, offsets, labels, pooling)]
    sweep = sweep_over(names)
    chosen = best(sweep)
    return OffsetChoice(
        label=label,
        offset=chosen,
        before=score([t for n in names for t in true[n]], as_it_was, labels),
        after=sweep[chosen],
        held_out_offsets=held_out_offsets,
        held_out=pooled(held_out_offsets) if held_out_offsets else None,
        sweep=sweep,
    )


def _with(offsets: torch.Tensor, index: int, value: float) -> torch.Tensor:
    changed = offsets.clone()
    changed[index] = value
    return changed


def _predict(logits: Sequence[torch.Tensor], offsets: torch.Tensor, labels: list[str], pooling: str) -> list[str]:
    """Each utterance's label as the recogniser decides it, with ``offsets`` added to its window logits."""
    return [labels[int(pool_logits(windows + offsets, pooling).argmax())] for windows in logits]


def _summary(scores: Scores, label: str) -> dict:
    recall = scores.per_class[label]["recall"]
    return {"ua": scores.ua, f"{label}_recall": recall, "criterion": criterion(scores, label)}
