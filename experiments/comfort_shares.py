"""The share of each speaker's speech, in seconds, that the monitor heard as one emotion, by true emotion.

    python experiments/comfort_shares.py STREAM.json [--emotion sad]

STREAM.json: ``speech-emotion evaluate --protocol stream --json`` (each file's label from the monitor that heard
its speaker's files as one stream). The comfort reaction's ``min_share`` must lie above a calm speaker's
neutral share and below a sad speaker's sad share (docs/monitor.md, "Why min_share").
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

import soundfile as sf

LABELS = ("angry", "happy", "sad", "neutral")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stream")
    parser.add_argument("--emotion", default="sad")
    args = parser.parse_args()
    with open(args.stream) as f:
        files = json.load(f)["protocols"]["stream"]["files"]
    heard, spoken = defaultdict(float), defaultdict(float)
    for f in files:
        seconds = sf.info(f["path"]).duration
        for key in ((f["corpus"], f["speaker"], f["truth"]), ("all", "", f["truth"])):
            spoken[key] += seconds
            heard[key] += seconds * (f["label"] == args.emotion)
    print("| speaker | " + " | ".join(LABELS) + " |\n| --- |" + " ---: |" * len(LABELS))
    for corpus, speaker in sorted({k[:2] for k in spoken}, key=lambda k: (k[0] == "all", k)):
        cells = [f"{heard[corpus, speaker, t] / spoken[corpus, speaker, t]:.2f}" if spoken[corpus, speaker, t] else ""
                 for t in LABELS]  # fmt: skip
        print(f"| {corpus} {speaker} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
