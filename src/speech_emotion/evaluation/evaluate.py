"""Score a model bundle on corpora: utterance-level predictions, per corpus and over all of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from speech_emotion.bundle import DEFAULT_STATS, ModelBundle
from speech_emotion.corpora.base import SPLIT_CHOICES, Corpus, CorpusError, Unreadable
from speech_emotion.corpora.cache import FeatureCache
from speech_emotion.corpora.examples import Example, examples_of
from speech_emotion.errors import SpeechEmotionError
from speech_emotion.evaluation.metrics import Scores, score
from speech_emotion.evaluation.protocols import NORMALIZATION_MODES, corpus_normalization, predict_labels
from speech_emotion.normalization import NormStats
from speech_emotion.recognizer import EmotionRecognizer


@dataclass
class EvaluationReport:
    model_id: str
    split: str
    normalization: str
    overall: Scores
    corpora: dict[str, Scores]
    unreadable: list[Unreadable]

    def to_dict(self) -> dict:
        """The scores over all corpora, and the same per corpus under ``"corpora"``."""
        return {**self.overall.to_dict(), "corpora": {name: s.to_dict() for name, s in self.corpora.items()}}


def check_normalization(mode: str, bundle: ModelBundle, corpora: Sequence[Corpus]) -> None:
    """Fail before any work if ``mode`` cannot normalise one of ``corpora``."""
    if mode not in NORMALIZATION_MODES:
        raise SpeechEmotionError(f"--normalization: {mode!r} is not one of {', '.join(NORMALIZATION_MODES)}")
    unknown = [c.name for c in corpora if c.name not in bundle.normalization]
    if mode == "model" and unknown:
        trained = ", ".join(sorted(k for k in bundle.normalization if k != DEFAULT_STATS)) or "none"
        raise SpeechEmotionError(
            f"--normalization model: {bundle.model_id} was not trained on {', '.join(unknown)} (it has statistics "
            f"for {trained}); choose target-neutral, target-all, speaker or pooled"
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


def normalized_corpora(
    recognizer: EmotionRecognizer,
    corpora: Sequence[Corpus],
    cache: FeatureCache,
    split: str = "test",
    normalization: str = "model",
) -> tuple[list[NormalizedCorpus], list[Unreadable]]:
    """The ``split`` utterances of each corpus, read and normalised as ``normalization`` says, and the files
    that could not be read; a one-line error first when a corpus cannot be scored with this model."""
    if split not in SPLIT_CHOICES:
        raise SpeechEmotionError(f"--split: {split!r} is not one of {', '.join(SPLIT_CHOICES)}")
    check_normalization(normalization, recognizer.bundle, corpora)
    selected = {c.name: c.split(split) for c in corpora}
    for corpus in corpora:
        if not selected[corpus.name]:
            raise CorpusError(corpus.root, f"no {split} utterances in this copy of {corpus.name} (try another --split)")
        foreign = sorted({u.label for u in selected[corpus.name]} - set(recognizer.labels))
        if foreign:
            raise CorpusError(corpus.root, f"labels {', '.join(foreign)} are not among the model's {recognizer.labels}")
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
    """Scores of ``recognizer`` on the ``split`` utterances of each corpus and on all of them together."""
    prepared, unreadable = normalized_corpora(recognizer, corpora, cache, split, normalization)
    all_true, all_predicted, per_corpus = [], [], {}
    for corpus in prepared:
        predicted = predict_labels(recognizer, corpus.examples, corpus.stats)
        per_corpus[corpus.name] = score(corpus.labels, predicted, recognizer.labels)
        all_true += corpus.labels
        all_predicted += predicted
    overall = score(all_true, all_predicted, recognizer.labels)
    return EvaluationReport(recognizer.model_id, split, normalization, overall, per_corpus, unreadable)


def format_report(report: EvaluationReport) -> str:
    """A table of UA, WA, macro F1 and per-class recall per corpus, then the pooled confusion matrix."""
    labels = report.overall.labels
    head = f"{'corpus':<10}{'n':>6}{'UA':>8}{'WA':>8}{'F1':>8}" + "".join(f"{label[:7]:>9}" for label in labels)
    lines = [
        f"model {report.model_id}, {report.split} split, normalisation {report.normalization}",
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
    if report.unreadable:
        lines.append(f"\n{len(report.unreadable)} unreadable files skipped")
    return "\n".join(lines)
