"""One advisory file lock, shared by the build (one writer per output folder) and publish (one run per ledger)."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[bool]:
    """Hold an exclusive lock on `lock_path` (created with its folder); yields False when another process holds it.

    OSError from creating the folder or the file reaches the caller, which knows what to tell the user.
    The lock goes with the process, so a killed run never leaves it held.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
