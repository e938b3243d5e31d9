"""Leave one corpus out: train on all corpora but one, score on the one left out, for each corpus in turn.

This measures what matters for a robot meeting new people: speakers, recording conditions and, where the
held-out corpus's language is in no training corpus (Emo-DB, URDU among the shared corpora), a language the
model never heard. Each fold is an ordinary training run in ``<out>/without-<corpus>`` (resumable), scored on
every utterance of the held-out corpus with its own neutral statistics by default (the reference protocol), or
with each of its speakers' own statistics for a model trained that way. Test-only corpora (``unseen``: EMOVO,
TESS) are scored by every fold's ``best-ua`` model the same way: corpora no fold trained on.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from speech_emotion.corpora.base import UNKNOWN_LANGUAGE, Corpus, CorpusError
from speech_emotion.corpora.cache import FeatureCache
from speech_emotion.evaluation.evaluate import evaluate
from speech_emotion.recognizer import EmotionRecognizer
from speech_emotion.training.config import TrainConfig
from speech_emotion.training.trainer import BEST_UA, BEST_UA_SAD, CHECKPOINT, Trainer, TrainResult, prepare_data

log = logging.getLogger(__name__)

RESULTS_JSON = "loco.json"
RESULTS_MARKDOWN = "loco.md"


@dataclass(frozen=True)
class FoldResult:
    held_out: str
    language: str
    trained_on: list[str]
    cross_language: bool | None  # None where a language involved is unknown
    n_utterances: int
    ua_best_ua: float
    ua_best_ua_sad: float
    valid_ua: float
    model: str
    steps: int  # batches the fold was trained for: a resume that trains further must score it again
    unseen_ua: dict[str, float]  # UA of best-ua on each test-only corpus, all its utterances


def leave_one_corpus_out(
    corpora: Sequence[Corpus],
    config: TrainConfig,
    out_dir: str | os.PathLike,
    cache: FeatureCache,
    device: str = "cpu",
    normalization: str | None = None,
    resume: bool = False,
    progress: bool = True,
    unseen: Sequence[Corpus] = (),
) -> list[FoldResult]:
    """Train and score one fold per corpus; ``loco.json`` and ``loco.md`` in ``out_dir`` grow fold by fold.

    ``normalization`` defaults to :func:`default_normalization` of ``config``.
    """
    normalization = normalization or default_normalization(config)
    if len(corpora) < 2:
        raise CorpusError("--corpus", "leave-one-corpus-out needs at least two corpora")
    out_dir = Path(out_dir)
    recorded = recorded_folds(out_dir, normalization) if resume else {}
    results = []
    for held_out in corpora:
        training = [c for c in corpora if c is not held_out]
        fold_dir = out_dir / f"without-{held_out.name}"
        trainer = Trainer(prepare_data(training, cache), config, fold_dir, device, progress=progress)
        resumed = resume and (fold_dir / CHECKPOINT).exists()
        run = trainer.run(resume=resumed)
        if run.interrupted:
            break
        kept = recorded.get(held_out.name)
        same = (
            kept and kept.trained_on == [c.name for c in training] and list(kept.unseen_ua) == [c.name for c in unseen]
        )
        if resumed and same and kept.steps == run.step:
            results.append(kept)
        else:
            results.append(score_fold(held_out, training, run, cache, device, normalization, unseen))
        write_results(results, out_dir, normalization)  # a finished fold's score survives a crash in the next
    return results


def score_fold(
    held_out: Corpus,
    training: Sequence[Corpus],
    run: TrainResult,
    cache: FeatureCache,
    device: str,
    normalization: str,
    unseen: Sequence[Corpus] = (),
) -> FoldResult:
    """UA of the fold's two kept models on every utterance of the held-out corpus, and of ``best-ua`` on each
    test-only corpus."""
    recognizers = {name: EmotionRecognizer.load(run.out_dir / name, device=device) for name in (BEST_UA, BEST_UA_SAD)}
    scores = {name: evaluate(r, [held_out], cache, "all", normalization) for name, r in recognizers.items()}
    unseen_ua = {c.name: evaluate(recognizers[BEST_UA], [c], cache, "all", normalization).overall.ua for c in unseen}
    languages = {c.language for c in training}
    known = UNKNOWN_LANGUAGE not in {held_out.language, *languages}
    return FoldResult(
        held_out=held_out.name,
        language=held_out.language,
        trained_on=[c.name for c in training],
        cross_language=held_out.language not in languages if known else None,
        n_utterances=scores[BEST_UA].overall.n_utterances,
        ua_best_ua=scores[BEST_UA].overall.ua,
        ua_best_ua_sad=scores[BEST_UA_SAD].overall.ua,
        valid_ua=run.best_ua,
        model=scores[BEST_UA].model_id,
        steps=run.step,
        unseen_ua=unseen_ua,
    )


def default_normalization(config: TrainConfig) -> str:
    """The held-out corpus's statistics that match training: its speakers' own, or its neutral speech."""
    return "speaker" if config.preprocessing().per_speaker else "target-neutral"


def recorded_folds(out_dir: Path, normalization: str) -> dict[str, FoldResult]:
    """The folds ``loco.json`` in ``out_dir`` holds, scored with ``normalization``, by held-out corpus."""
    path = out_dir / RESULTS_JSON
    if not path.exists():
        return {}
    try:
        payload = json.loads(path.read_text())
        folds = payload["folds"] if payload["normalization"] == normalization else []
        names = {f.name for f in fields(FoldResult)}
        return {f["held_out"]: FoldResult(**f) for f in folds if set(f) == names}  # an older file's: rescored
    except (ValueError, KeyError, TypeError) as error:
        log.warning("%s: unreadable (%s); its folds are scored again", path, error)
        return {}


def write_results(results: Sequence[FoldResult], out_dir: Path, normalization: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {"normalization": normalization, "folds": [asdict(r) for r in results]}
    (out_dir / RESULTS_JSON).write_text(json.dumps(payload, indent=2) + "\n")
    (out_dir / RESULTS_MARKDOWN).write_text(format_table(results, normalization) + "\n")


def format_table(results: Sequence[FoldResult], normalization: str) -> str:
    """A markdown table: UA on each held-out corpus (all its utterances) of the fold's two kept models, and of
    best-ua on each test-only corpus."""
    unseen = list(dict.fromkeys(name for r in results for name in r.unseen_ua))
    lines = [
        f"Leave-one-corpus-out: UA on the held-out corpus (all its utterances, normalisation {normalization}).",
        "",
        "| held out | language | trained on | cross-language | utterances | UA (best-ua) | UA (best-ua-sad) "
        "| validation UA |" + "".join(f" {name} UA (best-ua) |" for name in unseen),
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |" + " ---: |" * len(unseen),
    ]
    for r in results:
        lines.append(
            f"| {r.held_out} | {r.language} | {', '.join(r.trained_on)} | {_yes_no(r.cross_language)} "
            f"| {r.n_utterances} | {r.ua_best_ua:.3f} | {r.ua_best_ua_sad:.3f} | {r.valid_ua:.3f} |"
            + "".join(f" {r.unseen_ua[name]:.3f} |" if name in r.unseen_ua else " |" for name in unseen)
        )
    return "\n".join(lines)


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else "yes" if value else "no"
