import sys

from speech_emotion.cli import main

sys.exit(main())
