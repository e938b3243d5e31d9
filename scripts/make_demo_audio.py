"""Regenerate the bundled demo recording, ``src/speech_emotion/data/demo.flac``, with espeak-ng.

    python scripts/make_demo_audio.py [--out src/speech_emotion/data/demo.flac]

About a minute of one synthetic elderly person's day: sentences in four prosodies (calm; cheerful: fast,
high and loud; sad: slow, low and quiet; cross: fast, low and loud) with pauses between them, and a stretch
of sad sentences in the middle so the comforting reaction has something to react to. Synthetic speech keeps
the repository free of corpus recordings (their licences forbid redistribution). 16 kHz mono 16-bit FLAC.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from speech_emotion.audio import SAMPLE_RATE, to_mono_16k
from speech_emotion.cli import run_reporting_errors
from speech_emotion.errors import SpeechEmotionError

OUT = Path(__file__).resolve().parents[1] / "src" / "speech_emotion" / "data" / "demo.flac"
VOICE = "en-gb+m3"
# words per minute, pitch (0-99), gain (dB) applied to espeak-ng's output at its amplitude 50, which never clips
PROSODIES = {
    "calm": (145, 45, 0.0),
    "cheerful": (185, 75, 4.0),
    "sad": (105, 25, -6.0),
    "cross": (180, 30, 5.0),
}
SCRIPT = [
    ("calm", "Good morning. I slept quite well last night.", 1.2),
    ("cheerful", "Oh look, the sun is shining! What a lovely day.", 1.5),
    ("calm", "I think I will have porridge for breakfast.", 2.0),
    ("cheerful", "My grandson is coming to visit this afternoon!", 1.0),
    ("calm", "Could you remind me to take my tablets at ten?", 2.5),
    ("cross", "No! I told you already, I do not want the radio on!", 1.5),
    ("cross", "Why does nobody ever listen to me?", 2.0),
    ("sad", "He phoned. He cannot come today after all.", 1.8),
    ("sad", "Nobody has time for me any more.", 2.2),
    ("sad", "I miss my wife. The house is so quiet without her.", 1.6),
    ("sad", "Some days I do not see the point of getting up.", 2.4),
    ("sad", "I feel so tired, and so alone.", 2.0),
    ("calm", "Well. I suppose I should water the plants.", 1.4),
    ("cheerful", "The tomatoes are finally turning red, how wonderful!", 1.2),
    ("calm", "I will read my book for a while before lunch.", 1.0),
]


def speak(text: str, prosody: str) -> np.ndarray:
    speed, pitch, gain_db = PROSODIES[prosody]
    command = ["espeak-ng", "-v", VOICE, "-s", str(speed), "-p", str(pitch), "-a", "50", "--stdout", text]
    try:
        wav = subprocess.run(command, check=True, capture_output=True).stdout
    except FileNotFoundError:
        raise SpeechEmotionError("espeak-ng: not installed (apt install espeak-ng)") from None
    except subprocess.CalledProcessError as e:
        raise SpeechEmotionError(f"espeak-ng: failed on {text!r} ({e.stderr.decode().strip()})") from None
    samples, rate = sf.read(io.BytesIO(wav), dtype="float32")
    return to_mono_16k(samples, rate) * np.float32(10 ** (gain_db / 20))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    pieces = [np.zeros(SAMPLE_RATE, np.float32)]
    for prosody, text, pause_s in SCRIPT:
        pieces += [speak(text, prosody), np.zeros(int(pause_s * SAMPLE_RATE), np.float32)]
    audio = np.concatenate(pieces)
    if np.abs(audio).max() >= 1.0:
        raise SpeechEmotionError("PROSODIES: the demo would clip; lower a gain")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sf.write(args.out, audio, SAMPLE_RATE, subtype="PCM_16", format="FLAC")
    print(f"{args.out}: {len(audio) / SAMPLE_RATE:.1f} s, {args.out.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
