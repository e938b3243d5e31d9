"""How much of a person's speech do per-speaker statistics need? UA with each speaker's statistics from k files.

    python scripts/speaker_statistics.py $C --model combined4-ua-sad [--split valid] [--files 5 10 20] \
        [--replay-priors 30 10 3 1] [--comfort]

Every utterance of each speaker of the split is scored with statistics from: the model's pooled statistics
(``predict`` without ``--same-speaker``), the utterance alone, ``k`` of the speaker's files drawn at random
(seeded), and all of the speaker's files (``predict --same-speaker`` on all of them). Corpora whose speakers
speak one emotion each (URDU) are left out: a speaker's own statistics would erase it. The seconds are the
mean length of speech the statistics came from. docs/MODEL_CARD.md quotes the figures.

With ``--replay-priors``, the monitor's adaptation (``SpeakerNormalizer``) is replayed too, once for each
``prior_seconds``: each speaker's utterances in a random order (three seeded orders), each scored with the
statistics from before it and then added, as the monitor does. With ``--comfort``, the same replay (with the
monitor's default adaptation) gives the share of each speaker's speech of each emotion heard as sad, what the
comfort reaction's ``min_share`` has to tell apart. docs/monitor.md quotes those figures.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict

from speech_emotion.cli import run_reporting_errors
from speech_emotion.cli.corpus_options import add_corpus_arguments, add_feature_arguments
from speech_emotion.corpora import read_corpora
from speech_emotion.corpora.cache import FeatureCache
from speech_emotion.corpora.examples import Example, examples_of, one_emotion_corpora
from speech_emotion.evaluation.metrics import score
from speech_emotion.evaluation.protocols import predict_labels
from speech_emotion.features import FRAMES_PER_SECOND
from speech_emotion.monitor.adaptation import AdaptationConfig, SpeakerNormalizer
from speech_emotion.normalization import fit_stats
from speech_emotion.recognizer import EmotionRecognizer

POOLED = "the model's pooled statistics"


def speakers(corpora, cache: FeatureCache, split: str) -> list[list[Example]]:
    """The readable ``split`` examples of each speaker, without the one-emotion corpora's."""
    utterances = [u for corpus in corpora for u in corpus.split(split)]
    examples = examples_of(utterances, cache.load([u.path for u in utterances]))
    skipped = one_emotion_corpora(utterances)
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
    parser.add_argument(
        "--comfort", action="store_true", help="per speaker, the shares of speech the monitor's replay hears as sad"
    )
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
    examples = [e for own in groups for e in own]
    for name, stats_for in sources.items():
        stats = [stats_for(e, own) for own in groups for e in own]
        seconds = [s.frames / FRAMES_PER_SECOND for s in stats]
        predicted = predict_labels(recognizer, examples, stats)  # runs sharing statistics go through together
        scores = score([e.utterance.label for e in examples], predicted, recognizer.labels)
        speech = "-" if name == POOLED else f"{sum(seconds) / len(seconds):.0f}"
        print(f"| {name} | {speech} | {scores.ua:.3f} | {scores.per_class['sad']['recall']:.3f} |", flush=True)
    if args.replay_priors:
        print("\n| prior_seconds | UA | UA over the first 10 utterances | sad recall |\n| ---: | ---: | ---: | ---: |")
    for prior_seconds in args.replay_priors:
        print(replayed(recognizer, groups, AdaptationConfig(prior_seconds=prior_seconds)), flush=True)
    if args.comfort:
        print("\n| speaker | " + " | ".join(f"{t} heard as sad" for t in recognizer.labels) + " |")
        print("| --- |" + " ---: |" * len(recognizer.labels))
        print("\n".join(comfort_shares(recognizer, groups)))


def replay(recognizer: EmotionRecognizer, groups: list[list[Example]], config: AdaptationConfig):
    """The monitor's adaptation replayed: (position in the speaker's order, example, predicted label) for each
    utterance of each speaker in three seeded random orders, scored with the statistics from before it."""
    for seed in range(3):
        rng = random.Random(seed)
        for own in groups:
            normalizer = SpeakerNormalizer(config)
            for i, e in enumerate(rng.sample(own, len(own))):
                label = recognizer.predict_features([e.features], normalizer.stats(recognizer.stats))[0].label
                normalizer.update(e.features)
                yield i, e, label


def replayed(recognizer: EmotionRecognizer, groups: list[list[Example]], config: AdaptationConfig) -> str:
    """One table row: UA and sad recall over the replay, and UA over each speaker's first 10 utterances."""
    everything, first = ([], []), ([], [])
    for i, e, label in replay(recognizer, groups, config):
        for kept in (everything, first) if i < 10 else (everything,):
            kept[0].append(e.utterance.label)
            kept[1].append(label)
    overall, early = score(*everything, recognizer.labels), score(*first, recognizer.labels)
    sad = overall.per_class["sad"]["recall"]
    return f"| {config.prior_seconds:g} | {overall.ua:.3f} | {early.ua:.3f} | {sad:.3f} |"


def comfort_shares(recognizer: EmotionRecognizer, groups: list[list[Example]]) -> list[str]:
    """Table rows, one per speaker and one for all: the share of the seconds of each emotion's speech that the
    monitor (its default adaptation) hears as sad. The comfort reaction's ``min_share`` has to sit above the
    calm emotions' shares and below sad's."""
    seconds = defaultdict(float)  # (speaker, true label, heard as sad?) -> seconds of speech
    for _, e, label in replay(recognizer, groups, AdaptationConfig()):
        speaker = f"{e.utterance.corpus} {e.utterance.speaker}"
        seconds[speaker, e.utterance.label, label == "sad"] += len(e.features) / FRAMES_PER_SECOND
    for (_, truth, heard), speech in list(seconds.items()):
        seconds["all", truth, heard] += speech
    rows = []
    for speaker in dict.fromkeys(speaker for speaker, _, _ in seconds):
        shares = [
            seconds[speaker, t, True] / (seconds[speaker, t, True] + seconds[speaker, t, False])
            for t in recognizer.labels
        ]
        rows.append(f"| {speaker} | " + " | ".join(f"{share:.2f}" for share in shares) + " |")
    return rows


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
