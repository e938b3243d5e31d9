"""How much of each corpus is silence around the speech, and what it does to the neutral statistics.

    python scripts/corpus_silence.py --corpus emodb=../shared/corpora/emodb --corpus ravdess=... [--cache DIR]

For each corpus: the share of its frames that ``--trim-silence`` keeps (the monitor's VAD, from the first
speech to the last), and the mean over mel bands of the standard deviation of its neutral speech's static
log-mel, whole files against trimmed ones. That standard deviation is what the reference's z-score divides by,
so a corpus whose files carry much silence has its speech flattened. docs/training.md quotes the figures.
"""

from __future__ import annotations

import argparse
import sys

from speech_emotion.cli import run_reporting_errors
from speech_emotion.cli.corpus_options import add_corpus_arguments, add_feature_arguments
from speech_emotion.corpora import read_corpora
from speech_emotion.normalization import fit_stats
from speech_emotion.training.cache import FeatureCache


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_arguments(parser)
    add_feature_arguments(parser)
    args = parser.parse_args()
    whole_cache = FeatureCache(args.cache, args.workers)
    trimmed_cache = FeatureCache(args.cache, args.workers, trim=True)
    print("| corpus | utterances | frames kept by --trim-silence | neutral band sd, whole files | trimmed |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for corpus in read_corpora(args.corpora):
        paths = [u.path for u in corpus.utterances]
        whole, trimmed = whole_cache.load(paths).features, trimmed_cache.load(paths).features
        read = [p for p in paths if p in whole and p in trimmed]
        kept = sum(len(trimmed[p]) for p in read) / sum(len(whole[p]) for p in read)
        neutral = [u.path for u in corpus.utterances if u.label == "neutral" and u.path in read]
        sd_whole = fit_stats(whole[p] for p in neutral).std[:, 0].mean()
        sd_trimmed = fit_stats(trimmed[p] for p in neutral).std[:, 0].mean()
        print(f"| {corpus.name} | {len(read)} | {kept:.2f} | {sd_whole:.2f} | {sd_trimmed:.2f} |")


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
