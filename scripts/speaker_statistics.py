"""How much of a person's speech do per-speaker statistics need? UA with each speaker's statistics from k files.

    python scripts/speaker_statistics.py $C --model combined4-ua-sad [--split valid] [--files 5 10 20] \
        [--replay-priors 30 10 3 1]

Every utterance of each speaker of the split is scored with statistics from: the model's pooled statistics
(``predict`` without ``--same-speaker``), the utterance alone, ``k`` of the speaker's files drawn at random
(seeded), and all of the speaker's files (``predict --same-speaker`` on all of them). Corpora whose speakers
speak one emotion each (URDU) are left out: a speaker's own statistics would erase it. The seconds are the
mean length of speech the statistics came from. docs/MODEL_CARD.md quotes the figures.

With ``--replay-priors``, the monitor's adaptation (``SpeakerNormalizer``) is replayed too, once for each
``prior_seconds``: each speaker's utterances in a random order (three seeded orders), each scored with the
statistics from before it and then added, as the monitor does. docs/monitor.md quotes those figures.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict

from speech_emotion.cli import run_reporting_errors
from speech_emotion.cli.corpus_options import add_corpus_arguments, add_feature_arguments
from speech_emotion.corpora import read_corpora
from speech_emotion.evaluation.metrics import score
from speech_emotion.features import FRAMES_PER_SECOND
from speech_emotion.monitor.adaptation import AdaptationConfig, SpeakerNormalizer
from speech_emotion.normalization import fit_stats
from speech_emotion.recognizer import EmotionRecognizer
from speech_emotion.training.cache import FeatureCache
from speech_emotion.training.dataset import Example, examples_of, one_emotion_corpora

POOLED = "the model's pooled statistics"


def speakers(corpora, cache: FeatureCache, split: str) -> list[list[Example]]:
    """The readable ``split`` examples of each speaker, without the one-emotion corpora's."""
    utterances = [u for corpus in corpora for u in corpus.split(split)]
    examples = examples_of(utterances, cache.load([u.path for u in utterances]))
    skipped = one_emotion_corpora(examples)
    grouped = defaultdict(list)
    for e in examples:
        if e.utterance.corpus not in skipped:
            grouped[e.utterance.corpus, e.utterance.speaker].append(e)
    return list(grouped.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_arguments(parser)
    add_feature_arguments(parser)
    parser.add_argument("--model", default="combined4-ua-sad", help="a bundle name or path")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--files", nargs="*", type=int, default=[5, 10, 20], help="files per speaker to try")
    parser.add_argument("--replay-priors", nargs="*", type=float, default=[], help="prior_seconds to replay")
    args = parser.parse_args()
    recognizer = EmotionRecognizer.load(args.model)
    groups = speakers(
        read_corpora(args.corpora, args.excited_as_happy), FeatureCache(args.cache, args.workers), args.split
    )
    rng = random.Random(0)
    whole = {id(own): fit_stats(e.features for e in own) for own in groups}  # once per speaker, not per utterance
    sources = {
        POOLED: lambda e, own: recognizer.stats,
        "the utterance alone": lambda e, own: fit_stats([e.features]),
        **{
            f"{k} files of the speaker": lambda e, own, k=k: fit_stats(
                x.features for x in rng.sample(own, min(k, len(own)))
            )
            for k in args.files
        },
        "all the speaker's files": lambda e, own: whole[id(own)],
    }
    print("| statistics from | seconds of speech | UA | sad recall |\n| --- | ---: | ---: | ---: |")
    for name, stats_for in sources.items():
        truth, predicted, seconds = [], [], []
        for own in groups:
            for e in own:
                stats = stats_for(e, own)
                seconds.append(stats.frames / FRAMES_PER_SECOND)
                truth.append(e.utterance.label)
                predicted.append(recognizer.predict_features([e.features], stats)[0].label)
        scores = score(truth, predicted, recognizer.labels)
        speech = "-" if name == POOLED else f"{sum(seconds) / len(seconds):.0f}"
        print(f"| {name} | {speech} | {scores.ua:.3f} | {scores.per_class['sad']['recall']:.3f} |", flush=True)
    if args.replay_priors:
        print("\n| prior_seconds | UA | UA over the first 10 utterances | sad recall |\n| ---: | ---: | ---: | ---: |")
    for prior_seconds in args.replay_priors:
        print(replayed(recognizer, groups, AdaptationConfig(prior_seconds=prior_seconds)), flush=True)


def replayed(recognizer: EmotionRecognizer, groups: list[list[Example]], config: AdaptationConfig) -> str:
    """One table row: the monitor's adaptation replayed over each speaker's utterances in three random orders."""
    everything, first = ([], []), ([], [])
    for seed in range(3):
        rng = random.Random(seed)
        for own in groups:
            normalizer = SpeakerNormalizer(config)
            for i, e in enumerate(rng.sample(own, len(own))):
                label = recognizer.predict_features([e.features], normalizer.stats(recognizer.stats))[0].label
                normalizer.update(e.features)
                for kept in (everything, first) if i < 10 else (everything,):
                    kept[0].append(e.utterance.label)
                    kept[1].append(label)
    overall, early = score(*everything, recognizer.labels), score(*first, recognizer.labels)
    sad = overall.per_class["sad"]["recall"]
    return f"| {config.prior_seconds:g} | {overall.ua:.3f} | {early.ua:.3f} | {sad:.3f} |"


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
