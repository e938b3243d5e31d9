"""Results the database could not take when the monitor had to stop: kept in a file, stored at the next start.

A stop (SIGTERM, the end of a recording) while the database is down would otherwise lose the labels still
queued. Each one is appended to the spool as a JSON line and flushed to disk; the next monitor on the same
database stores them before anything else, and the file goes once they are all in.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from speech_emotion.store import NewEvent, NewUtterance, Store

_KINDS = {"utterance": NewUtterance, "event": NewEvent}
_TIMES = ("start", "end", "time")


class Spool:
    def __init__(self, path: Path):
        self.path = path

    def add(self, item: NewUtterance | NewEvent) -> None:
        """Append ``item`` durably."""
        kind = "utterance" if isinstance(item, NewUtterance) else "event"
        fields = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(item).items()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"record": kind, **fields}) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def store_into(self, store: Store) -> int:
        """Store every spooled result (a replayed one is not stored twice); how many. The spool is removed once
        they are all in; a database error leaves it whole for the next try."""
        if not self.path.exists():
            return 0
        items = self._items()
        for item in items:
            if isinstance(item, NewUtterance):
                store.add_utterance(item)
            else:
                store.add_event(item)
        self.path.unlink()
        return len(items)

    def _items(self) -> list[NewUtterance | NewEvent]:
        items = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            data = json.loads(line)
            kind = _KINDS[data.pop("record")]
            for name in _TIMES:
                if data.get(name) is not None:
                    data[name] = datetime.fromisoformat(data[name])
            items.append(kind(**data))
        return items
