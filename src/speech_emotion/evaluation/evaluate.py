"""Score a model bundle on corpora: utterance-level predictions, per corpus and over all of them.

Three protocols say how people use a model, and each names what it scores (docs/MODEL_CARD.md):
``alone``: every file by itself, as ``predict FILE`` (the bundle's pooled statistics, nothing shared);
``person``: each speaker's files with that person's statistics, as ``predict --same-speaker``;
``stream``: each speaker's files as one stream through the real monitor (:mod:`.stream`).
The normalisation modes of :mod:`.protocols` remain for experts (``--normalization``). A fused bundle is
scored by protocol: each part as that protocol scores it, the parts' probabilities then joined file by file as
the fused recogniser joins them (the stream protocol runs the fused recogniser in the monitor itself).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from speech_emotion.bundle import DEFAULT_STATS, ModelBundle
from speech_emotion.corpora.base import SPLIT_CHOICES, Corpus, CorpusError, Unreadable, Utterance
from speech_emotion.corpora.cache import FeatureCache
from speech_emotion.corpora.examples import Example, examples_of
from speech_emotion.errors import SpeechEmotionError
from speech_emotion.evaluation.metrics import Scores, score
from speech_emotion.evaluation.protocols import (
    NORMALIZATION_MODES,
    PROTOCOLS,
    FilePrediction,
    corpus_normalization,
    predict_files,
)
from speech_emotion.fusion import FusedRecognizer, Recognizer
from speech_emotion.normalization import NormStats
from speech_emotion.recognizer import NO_SPEECH, EmotionRecognizer

PROTOCOL_NORMALIZATION = {"alone": "pooled", "person": "person"}


@dataclass
class EvaluationReport:
    model_id: str
    split: str
    normalization: str  # the protocol, or the normalisation mode, that was scored
    overall: Scores
    corpora: dict[str, Scores]
    unreadable: list[Unreadable]
    predictions: list[FilePrediction]

    def to_dict(self) -> dict:
        """The scores over all corpora, the same per corpus under ``"corpora"``, each file under ``"files"``."""
        return {
            **self.overall.to_dict(),
            "corpora": {name: s.to_dict() for name, s in self.corpora.items()},
            "files": [p.to_dict() for p in self.predictions],
        }


def check_normalization(mode: str, bundle: ModelBundle, corpora: Sequence[Corpus]) -> None:
    """Fail before any work if ``mode`` cannot normalise one of ``corpora``."""
    if mode not in NORMALIZATION_MODES:
        raise SpeechEmotionError(f"--normalization: {mode!r} is not one of {', '.join(NORMALIZATION_MODES)}")
    unknown = [c.name for c in corpora if c.name not in bundle.normalization]
    if mode == "model" and unknown:
        trained = ", ".join(sorted(k for k in bundle.normalization if k != DEFAULT_STATS)) or "none"
        raise SpeechEmotionError(
            f"--normalization model: {bundle.model_id} was not trained on {', '.join(unknown)} (it has statistics "
            f"for {trained}); choose target-neutral, target-all, speaker, person or pooled"
        )


@dataclass
class NormalizedCorpus:
    """One corpus's readable utterances of a split, with the statistics that normalise each."""

    name: str
    examples: list[Example]
    stats: list[NormStats]

    @property
    def labels(self) -> list[str]:
        return [e.utterance.label for e in self.examples]


def _selected(recognizer: Recognizer, corpora: Sequence[Corpus], split: str) -> list[list[Utterance]]:
    """Each corpus's ``split`` utterances; a one-line error when there are none or a label is not the model's."""
    if split not in SPLIT_CHOICES:
        raise SpeechEmotionError(f"--split: {split!r} is not one of {', '.join(SPLIT_CHOICES)}")
    selected = [c.split(split) for c in corpora]
    for corpus, utterances in zip(corpora, selected, strict=True):
        if not utterances:
            raise CorpusError(corpus.root, f"no {split} utterances in this copy of {corpus.name} (try another --split)")
        foreign = sorted({u.label for u in utterances} - set(recognizer.labels))
        if foreign:
            raise CorpusError(corpus.root, f"labels {', '.join(foreign)} are not among the model's {recognizer.labels}")
    return selected


def normalized_corpora(
    recognizer: EmotionRecognizer,
    corpora: Sequence[Corpus],
    cache: FeatureCache,
    split: str = "test",
    normalization: str = "model",
) -> tuple[list[NormalizedCorpus], list[Unreadable]]:
    """The ``split`` utterances of each corpus, read and normalised as ``normalization`` says, and the files
    that could not be read; a one-line error first when a corpus cannot be scored with this model."""
    check_normalization(normalization, recognizer.bundle, corpora)
    selected = dict(zip((c.name for c in corpora), _selected(recognizer, corpora, split), strict=True))
    features = cache.load([u.path for utterances in selected.values() for u in utterances])
    prepared = []
    for corpus in corpora:
        examples = examples_of(selected[corpus.name], features)
        if not examples:
            raise CorpusError(corpus.root, f"none of its {split} utterances could be read")
        stats = corpus_normalization(normalization, recognizer.bundle, corpus.name, examples)
        prepared.append(NormalizedCorpus(corpus.name, examples, stats))
    return prepared, features.unreadable


def evaluate(
    recognizer: EmotionRecognizer,
    corpora: Sequence[Corpus],
    cache: FeatureCache,
    split: str = "test",
    normalization: str = "model",
) -> EvaluationReport:
    """Scores of ``recognizer`` on the ``split`` utterances of each corpus, normalised as ``normalization`` says
    (a mode, or the ``alone`` and ``person`` protocols), and on all of them together."""
    mode = PROTOCOL_NORMALIZATION.get(normalization, normalization)
    prepared, unreadable = normalized_corpora(recognizer, corpora, cache, split, mode)
    predictions = [p for corpus in prepared for p in predict_files(recognizer, corpus.examples, corpus.stats)]
    return _report(recognizer, split, normalization, predictions, unreadable)


def evaluate_fused(
    recognizer: FusedRecognizer,
    corpora: Sequence[Corpus],
    caches: Sequence[FeatureCache],
    split: str = "test",
    protocol: str = "alone",
) -> EvaluationReport:
    """A fused recogniser's scores under the ``alone`` or ``person`` protocol, or a normalisation mode that every
    part is scored with; ``caches`` holds each part's features."""
    reports = [evaluate(p, corpora, c, split, protocol) for p, c in zip(recognizer.parts, caches, strict=True)]
    by_path = [{f.path: f for f in report.predictions} for report in reports]
    predictions = []
    for first in reports[0].predictions:
        parts = [scored.get(first.path) for scored in by_path]
        if any(p is None for p in parts):  # unreadable for another part's features: among its unreadable files
            continue
        fused = recognizer.fused_probabilities([p.probabilities for p in parts])
        predictions.append(replace(first, label=max(fused, key=fused.get), probabilities=fused))
    unreadable = list({u.path: u for report in reports for u in report.unreadable}.values())
    return _report(recognizer, split, protocol, predictions, unreadable)


def evaluate_stream(recognizer: Recognizer, corpora: Sequence[Corpus], split: str = "test") -> EvaluationReport:
    """The ``stream`` protocol's scores: each speaker's ``split`` files played to the real monitor."""
    from speech_emotion.evaluation.stream import stream_predictions  # the monitor's stack, only when needed

    predictions, unreadable = stream_predictions(
        recognizer, [u for c in _selected(recognizer, corpora, split) for u in c]
    )
    return _report(recognizer, split, "stream", predictions, unreadable)


def _report(
    recognizer: Recognizer,
    split: str,
    name: str,
    predictions: list[FilePrediction],
    unreadable: list[Unreadable],
) -> EvaluationReport:
    labels = recognizer.labels
    per_corpus = {}
    for corpus in dict.fromkeys(p.corpus for p in predictions):
        mine = [p for p in predictions if p.corpus == corpus]
        per_corpus[corpus] = _scores(mine, labels)
    overall = _scores(predictions, labels)
    return EvaluationReport(recognizer.model_id, split, name, overall, per_corpus, unreadable, predictions)


def _scores(predictions: list[FilePrediction], labels: list[str]) -> Scores:
    confidence = [p.probabilities[p.label] if p.probabilities else None for p in predictions]
    return score([p.truth for p in predictions], [p.label for p in predictions], labels, confidence)


def format_report(report: EvaluationReport) -> str:
    """A table of UA, WA, macro F1 and per-class recall per corpus, then the pooled confusion matrix."""
    labels = report.overall.labels
    head = f"{'corpus':<10}{'n':>6}{'UA':>8}{'WA':>8}{'F1':>8}" + "".join(f"{label[:7]:>9}" for label in labels)
    kind = "protocol" if report.normalization in PROTOCOLS else "normalisation"
    lines = [
        f"model {report.model_id}, {report.split} split, {kind} {report.normalization}",
        head + "   (per-class recall)",
    ]
    rows = [*report.corpora.items(), ("all", report.overall)] if len(report.corpora) > 1 else report.corpora.items()
    for name, s in rows:
        recalls = "".join(f"{s.per_class[label]['recall']:>9.3f}" for label in labels)
        lines.append(f"{name:<10}{s.n_utterances:>6}{s.ua:>8.3f}{s.wa:>8.3f}{s.macro_f1:>8.3f}{recalls}")
    lines += [
        "",
        "confusion (rows true, columns predicted):",
        " " * 10 + "".join(f"{label[:7]:>9}" for label in labels),
    ]
    for label, row in zip(labels, report.overall.confusion, strict=True):
        lines.append(f"{label:<10}" + "".join(f"{n:>9}" for n in row))
    given = Counter(p.label for p in report.predictions)
    shares = ", ".join(
        f"{label} {given[label] / len(report.predictions):.0%}"
        for label in [*labels, NO_SPEECH]
        if given[label] or label != NO_SPEECH
    )
    lines.append(f"files given each label: {shares}")
    if report.overall.ece is not None:
        lines.append(f"expected calibration error: {report.overall.ece:.3f}")
    if report.unreadable:
        lines.append(f"\n{len(report.unreadable)} unreadable files skipped")
    return "\n".join(lines)
