"""Windows cut from one pass of the convolutions over each utterance, against windows convolved one by one.

    python experiments/conv_once.py $C [--model combined4-ua] [--split valid] [--protocol person]

Every file of the split, normalised as the protocol says, scored both ways by the same network: the share of
files whose label changes, the largest change of an utterance probability, UA either way, and the time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from speech_emotion.cli.corpus_options import add_corpus_arguments
from speech_emotion.corpora import read_corpora
from speech_emotion.corpora.cache import FeatureCache
from speech_emotion.evaluation.evaluate import PROTOCOL_NORMALIZATION, normalized_corpora
from speech_emotion.evaluation.metrics import score
from speech_emotion.recognizer import MAX_WINDOWS_PER_BATCH, EmotionRecognizer
from speech_emotion.windows import WINDOW_FRAMES, cut_windows, pool_logits, to_model_input, window_starts


@torch.inference_mode()
def one_by_one(recognizer: EmotionRecognizer, normalised: np.ndarray) -> torch.Tensor:
    windows, _ = cut_windows(normalised, recognizer.hop)
    return torch.cat(
        [
            recognizer.model(to_model_input(windows[i : i + MAX_WINDOWS_PER_BATCH])).float()
            for i in range(0, len(windows), MAX_WINDOWS_PER_BATCH)
        ]
    )


@torch.inference_mode()
def once(recognizer: EmotionRecognizer, normalised: np.ndarray) -> torch.Tensor:
    """The windows' logits with the convolutions run once per group of windows over the frames they cover;
    starts moved back to even frames to line up with the network's pooling in time."""
    model, pool = recognizer.model, recognizer.model.config.pool[0]
    starts = list(dict.fromkeys(s - s % pool for s in window_starts(len(normalised), recognizer.hop)))
    out = []
    for i in range(0, len(starts), MAX_WINDOWS_PER_BATCH):
        group = starts[i : i + MAX_WINDOWS_PER_BATCH]
        piece = np.zeros((group[-1] - group[0] + WINDOW_FRAMES, *normalised.shape[1:]), dtype=np.float32)
        real = normalised[group[0] : group[-1] + WINDOW_FRAMES]
        piece[: len(real)] = real
        steps = model.convolve(to_model_input(piece[None]))[0]
        width = WINDOW_FRAMES // pool
        windows = torch.stack([steps[(s - group[0]) // pool : (s - group[0]) // pool + width] for s in group])
        out.append(model.head(model.embed_steps(windows)[0]).float())
    return torch.cat(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_arguments(parser)
    parser.add_argument("--model", default="combined4-ua")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--protocol", default="person", choices=sorted(PROTOCOL_NORMALIZATION))
    args = parser.parse_args()
    recognizer = EmotionRecognizer.load(args.model)
    corpora = read_corpora(args.corpora)
    cache = FeatureCache.for_model(recognizer.preprocessing, None, None)
    mode = PROTOCOL_NORMALIZATION[args.protocol]
    prepared, _ = normalized_corpora(recognizer, corpora, cache, args.split, mode)
    items = [(e, s) for c in prepared for e, s in zip(c.examples, c.stats, strict=True)]
    probabilities, seconds = {}, {}
    for name, logits_of in (("one by one", one_by_one), ("once", once)):
        began = time.perf_counter()
        probabilities[name] = np.stack(
            [pool_logits(logits_of(recognizer, s.apply(e.features)), recognizer.pooling).numpy() for e, s in items]
        )
        seconds[name] = time.perf_counter() - began
    truth = [e.utterance.label for e, _ in items]
    labels = recognizer.labels
    old, new = (probabilities[k].argmax(axis=1) for k in ("one by one", "once"))
    print(f"{args.model}, {args.split} split, protocol {args.protocol}: {len(items)} files")
    print(f"labels changed: {np.mean(old != new):.1%} ({int(np.sum(old != new))} files)")
    print(f"largest change of a probability: {np.abs(probabilities['once'] - probabilities['one by one']).max():.3f}")
    for name, predicted in (("one by one", old), ("once", new)):
        ua = score(truth, [labels[i] for i in predicted], labels).ua
        print(f"{name:>10}: UA {ua:.3f}, {seconds[name]:.1f} s")


if __name__ == "__main__":
    main()
