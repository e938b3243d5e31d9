"""A throwaway PostgreSQL cluster for the tests: initdb and pg_ctl in a temporary folder, reached over a Unix
socket there only (no TCP port), as the ``postgres`` user when the tests run as root (initdb refuses root)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path


def server_binaries() -> Path | None:
    """The folder of initdb and pg_ctl: Debian's /usr/lib/postgresql/<version>/bin (its PATH has only wrappers
    that want a configured cluster), else on PATH."""
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if versions:
        return Path(versions[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class Cluster:
    def __init__(self, folder: Path, binaries: Path):
        self.folder, self.binaries = folder, binaries
        self.data, self.socket = folder / "data", folder / "socket"
        self.port = 5432

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://monitor@/monitor?host={self.socket}&port={self.port}"

    def run(self, tool: str, *args: str) -> None:
        command = [str(self.binaries / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> None:
        options = f"-k {self.socket} -c listen_addresses='' -p {self.port}"
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@contextmanager
def cluster(folder: Path, binaries: Path):
    """A running cluster with a database ``monitor`` owned by user ``monitor``; stopped and removed after."""
    folder.mkdir(parents=True, exist_ok=True)
    c = Cluster(folder, binaries)
    c.socket.mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(c.socket, "postgres")
    c.run("initdb", "-D", str(c.data), "-A", "trust", "-U", "monitor", "--no-sync")
    c.start()
    try:
        c.run("createdb", "-h", str(c.socket), "-p", str(c.port), "-U", "monitor", "monitor")
        yield c
    finally:
        c.stop()
