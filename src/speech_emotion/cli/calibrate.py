"""``speech-emotion calibrate``: teach a source's speaker statistics from recordings of the monitored person.

The monitor adapts to the person as they speak; a few minutes of their ordinary, calm speech recorded
beforehand gives it a head start. The recordings go through the monitor's own voice activity detection, and
only the speech is added, to what the source already learnt unless ``--reset``.
"""

from __future__ import annotations

import argparse
import sys

from speech_emotion.audio import load_audio
from speech_emotion.cli.db_options import add_db, open_store
from speech_emotion.cli.model_option import add_model_argument
from speech_emotion.errors import AudioError, SpeechEmotionError
from speech_emotion.fusion import load_recognizer
from speech_emotion.monitor.adaptation import PersonAdaptation, load_adaptation, save_adaptation
from speech_emotion.monitor.config import load_config


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="recordings of the monitored person (any format, rate)")
    add_db(p)
    p.add_argument("--source", required=True, help="the source id the monitor logs and history shows")
    p.add_argument("--config", metavar="FILE", help="the monitor's TOML configuration (vad and adaptation)")
    p.add_argument("--reset", action="store_true", help="forget what the source learnt before")
    add_model_argument(p)  # the model the monitor runs: statistics are learnt of the features it reads


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    parts = load_recognizer(args.model).parts
    store = open_store(args.db)
    try:
        if args.reset:
            person = PersonAdaptation(parts, config.adaptation)
        else:
            person = load_adaptation(store, args.source, parts, config.adaptation)
        if not person.normalizers:
            raise SpeechEmotionError(f"--model {args.model}: normalises everyone alike; it learns nothing of a person")
        before, failed, utterances = person.speech_seconds, 0, 0
        for path in args.files:
            try:
                audio = load_audio(path)
            except AudioError as e:
                print(f"error: {e}", file=sys.stderr)
                failed += 1
                continue
            segmenter = config.vad.segmenter()
            found = segmenter.push(audio, 0.0) + segmenter.flush()
            if not found:
                print(f"warning: {path}: no speech found", file=sys.stderr)
            for utterance in found:
                person.update([part.features(utterance.heard) for part in parts])  # as the monitor adapts
            utterances += len(found)
        if not utterances:
            raise SpeechEmotionError(f"--source {args.source}: no speech in the recordings; nothing saved")
        save_adaptation(store, args.source, person)
    finally:
        store.close()
    added = person.speech_seconds - before
    print(f"{args.source}: {utterances} utterances, {added:.1f} s of speech added, statistics now rest on "
          f"{person.speech_seconds:.1f} s")  # fmt: skip
    return 1 if failed else 0
