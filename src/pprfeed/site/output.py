"""Replace an output folder atomically, rewriting only the files whose inputs changed.

The new tree is written into a spare folder beside the output
(`.<name>.spare/`), then the two are swapped with one rename. Readers and web
servers see the old tree or the new one, never a mix; if anything fails before
the swap, the output is exactly as it was.

The spare is the previous output, kept after the swap: a rebuild brings it up
to date by rewriting only files whose fingerprint differs from its manifest,
which is what makes a rebuild after one new issue cheap. Files are never
modified in place (always unlinked and recreated), because a spare made by
hard-linking the output shares inodes with it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # multiprocessing is imported only when a build is large enough to use it
    from multiprocessing.connection import Connection

log = logging.getLogger(__name__)

MANIFEST = ".pprfeed-manifest.json"
MANIFEST_FORMAT = 2
"""2: per-file fingerprints and per-bundle ones (see PlannedBundle); a format-1 manifest is read as files only."""
WORKERS = min(2, os.cpu_count() or 1)
PARALLEL_FROM = 400
"""Below this much work (PlannedFile.cost, summed over the files to write), forking costs more than it saves."""


class PlannedFile(NamedTuple):
    """One file of the output (a named tuple: a large site plans ten thousand of them per build)."""

    path: str
    """Relative, with forward slashes."""
    fingerprint: str
    """Changes whenever anything the bytes depend on changes."""
    render: Callable[[], bytes]
    group: str = ""
    """Files of one group are rendered by the same worker (RSS and Atom come from one feedgen object)."""
    cost: int = 1
    """Rough rendering cost, 1 being a small page: decides whether forking workers pays."""


class PlannedBundle(NamedTuple):
    """Many files planned as one, with one fingerprint (an issue's article pages).

    A bundle whose fingerprint, key and paths are as the spare's manifest has them is
    taken as it stands without looking at its files one by one (only that they exist);
    otherwise all its files are rendered (or hard-linked from the live output).
    """

    key: str
    """Names the bundle in the manifest; unique among bundles."""
    fingerprint: str
    paths: tuple[str, ...]
    render: Callable[[int], bytes]
    """render(i) -> the bytes of paths[i]."""
    cost: int = 1
    """Rendering cost of each of its files (see PlannedFile.cost)."""

    def files(self) -> list[PlannedFile]:
        return [
            PlannedFile(path, self.fingerprint, partial(self.render, index), cost=self.cost)
            for index, path in enumerate(self.paths)
        ]


class Manifest(NamedTuple):
    """What an output folder was built from: path -> fingerprint, bundle key -> (fingerprint, paths)."""

    files: dict[str, str]
    bundles: dict[str, tuple[str, tuple[str, ...]]]


EMPTY = Manifest({}, {})


@dataclass(frozen=True)
class WriteStats:
    files: int
    written: int
    """Files rendered and written."""
    removed: int
    linked: int = 0
    """Files the live output already held as planned: hard-linked into the new tree, not rendered again."""


class OutputError(Exception):
    """The output folder cannot be replaced; the message says why and what to do."""


def spare_folder(out: Path) -> Path:
    return out.parent / f".{out.name}.spare"


def read_manifest(folder: Path) -> Manifest | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") not in (1, 2) or not isinstance(data.get("files"), dict):
        return None
    bundles = data.get("bundles", {})
    if not isinstance(bundles, dict):
        return None
    try:
        return Manifest(
            {str(k): str(v) for k, v in data["files"].items()},
            {str(k): (str(fingerprint), tuple(map(str, paths))) for k, (fingerprint, paths) in bundles.items()},
        )
    except (TypeError, ValueError):  # a bundle entry that is not [fingerprint, [paths]]
        return None


def replace_folder(
    out: Path,
    files: Sequence[PlannedFile],
    workers: int = WORKERS,
    parallel_from: int = PARALLEL_FROM,
    bundles: Sequence[PlannedBundle] = (),
) -> WriteStats:
    """Make `out` hold exactly `files` and the files of `bundles`, atomically; raises OutputError or whatever a
    render raises.

    With `parallel_from` or more work to do (the files' costs) and fork available, `workers` processes share it.
    """
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file, not a folder: pass --out pointing at a folder")
    with _exclusive(out):
        live = read_manifest(out) if out.is_dir() else EMPTY
        _check_ours(out, live)
        return _replace(out, live or EMPTY, files, bundles, workers, parallel_from)


@contextlib.contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """One build per output folder at a time: two would write the same spare."""
    lock_path = out.parent / f".{out.name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(
                f"another `pprfeed build` is writing {out} right now; run again when it has finished"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _replace(
    out: Path,
    live: Manifest,
    files: Sequence[PlannedFile],
    bundles: Sequence[PlannedBundle],
    workers: int,
    parallel_from: int,
) -> WriteStats:
    spare = spare_folder(out)
    known = _prepare_spare(spare, out, live)
    present = _walk(spare)
    planned = {file.path for file in files}
    pending = [f for f in files if not (known.files.get(f.path) == f.fingerprint and f.path in present)]
    # The spare is the output before last: what changed in the last build is already in the live
    # output, byte for byte (same fingerprint). Hard-link it from there instead of rendering it again.
    before = len(pending)
    pending = [
        f for f in pending if not (live.files.get(f.path) == f.fingerprint and _link_from(out, spare, f, present))
    ]
    linked = before - len(pending)
    total = len(files)
    for bundle in bundles:
        planned.update(bundle.paths)
        total += len(bundle.paths)
        made_from = (bundle.fingerprint, bundle.paths)
        if known.bundles.get(bundle.key) == made_from:
            if all(path in present for path in bundle.paths):
                continue
            pending.extend(f for f in bundle.files() if f.path not in present)
        elif live.bundles.get(bundle.key) == made_from:
            for file in bundle.files():
                if _link_from(out, spare, file, present):
                    linked += 1
                else:
                    pending.append(file)
        else:
            pending.extend(bundle.files())
    if workers > 1 and sum(f.cost for f in pending) >= parallel_from and _can_fork():
        _write_in_parallel(spare, pending, present, workers)
    else:
        _write_files(spare, pending, present)
    written = len(pending)
    removed = 0
    for stray in sorted(present - planned):
        (spare / stray).unlink()
        removed += 1
    if removed:
        _remove_empty_dirs(spare)
    manifest = {
        "format": MANIFEST_FORMAT,
        "files": {f.path: f.fingerprint for f in files},
        "bundles": {b.key: [b.fingerprint, b.paths] for b in bundles},
    }
    _write_new(spare / MANIFEST, (json.dumps(manifest, separators=(",", ":")) + "\n").encode("utf-8"), False)
    _swap(spare, out)
    if not spare.exists():
        # the very first build: keep a spare ready (hard links, cheap) so the next rebuild starts warm
        _link_tree(out, spare)
    return WriteStats(files=total, written=written, removed=removed, linked=linked)


def _link_from(out: Path, spare: Path, file: PlannedFile, present: set[str]) -> bool:
    """Give the spare the live output's copy of `file` (a hard link: the bytes are the same). False if impossible."""
    target = spare / file.path
    try:
        if file.path in present:
            target.unlink()
            present.discard(file.path)  # gone now: if linking fails, the render creates it afresh
        try:
            os.link(out / file.path, target)
        except FileNotFoundError:
            if not (out / file.path).is_file():
                return False
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(out / file.path, target)
    except OSError:
        return False
    present.add(file.path)
    return True


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _write_files(spare: Path, files: Sequence[PlannedFile], present: set[str]) -> None:
    for file in files:
        _write_new(spare / file.path, file.render(), file.path in present)


def _write_share(spare: Path, files: Sequence[PlannedFile], present: set[str], report: Connection) -> None:
    """A worker's part: render and write its files; any failure goes back to the parent as text."""
    try:
        _write_files(spare, files, present)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        report.send(f"{type(exc).__name__}: {exc}")
        sys.exit(1)
    report.send(None)


def _write_in_parallel(spare: Path, files: Sequence[PlannedFile], present: set[str], workers: int) -> None:
    """Forked workers inherit the plan (no pickling); groups are dealt out in turn so costs even out."""
    groups: dict[str, list[PlannedFile]] = {}
    for file in files:
        groups.setdefault(file.group or file.path, []).append(file)
    shares: list[list[PlannedFile]] = [[] for _ in range(workers)]
    for index, group in enumerate(groups.values()):
        shares[index % workers].extend(group)
    import multiprocessing

    context = multiprocessing.get_context("fork")
    children = []
    for share in shares[1:]:
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_write_share, args=(spare, share, present, sender), daemon=True)
        child.start()
        sender.close()
        children.append((child, receiver))
    failures = []
    try:
        _write_files(spare, shares[0], present)
    finally:
        for child, receiver in children:
            message = receiver.recv() if receiver.poll(None) else None
            child.join()
            if child.exitcode != 0:
                failures.append(message or f"worker exited with {child.exitcode}")
    if failures:
        raise RuntimeError("; ".join(failures))


def _check_ours(out: Path, live: Manifest | None) -> None:
    """`live` is the output's manifest (None: it has none)."""
    if live is None and any(out.iterdir()):
        raise OutputError(
            f"{out} exists and was not written by `pprfeed build` (no {MANIFEST}); "
            "the build replaces the whole folder, so move it away or pass another --out"
        )


def _prepare_spare(spare: Path, out: Path, live: Manifest) -> Manifest:
    """The spare folder, ready to be brought up to date; returns what its files were made from.

    `live` is the output's manifest (EMPTY when there is none).
    """
    if spare.is_dir():
        known = read_manifest(spare) or EMPTY
        (spare / MANIFEST).unlink(missing_ok=True)  # from here until the end the spare is "in progress"
        return known
    if spare.exists():
        spare.unlink()
    if not (live.files or live.bundles):
        spare.mkdir(parents=True)
        return EMPTY
    # first rebuild: start from hard links to the live files, far cheaper than rewriting them
    _link_tree(out, spare)
    (spare / MANIFEST).unlink(missing_ok=True)
    return live


def _link_tree(source: Path, target: Path) -> None:
    target.mkdir(parents=True)
    for folder, dirs, names in os.walk(source):
        relative = os.path.relpath(folder, source)
        destination = str(target) if relative == "." else os.path.join(target, relative)
        for name in dirs:
            os.mkdir(os.path.join(destination, name))
        for name in names:
            with contextlib.suppress(OSError):  # no hard links here: the file is simply rewritten
                os.link(os.path.join(folder, name), os.path.join(destination, name))


def _walk(folder: Path) -> set[str]:
    found: set[str] = set()
    for current, _dirs, names in os.walk(folder):
        relative = os.path.relpath(current, folder)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        found.update(prefix + name for name in names)
    found.discard(MANIFEST)
    return found


def _write_new(path: Path, data: bytes, exists: bool) -> None:
    """Unlink, then create: never truncate a file that may be hard-linked from the live output."""
    if exists:
        path.unlink()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        descriptor = os.open(path, flags, 0o644)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, flags, 0o644)
    except FileExistsError:  # not seen by the walk: the manifest's own name, or made meanwhile
        path.unlink()
        descriptor = os.open(path, flags, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)


def _remove_empty_dirs(folder: Path) -> None:
    for current, _dirs, _names in os.walk(folder, topdown=False):
        if Path(current) != folder and not os.listdir(current):
            os.rmdir(current)


def _swap(spare: Path, out: Path) -> None:
    if not out.exists():
        os.rename(spare, out)
        return
    if _exchange(spare, out):
        return
    # no atomic exchange on this system: two renames, the output missing for an instant
    parked = out.parent / f".{out.name}.old"
    os.rename(out, parked)
    os.rename(spare, out)
    os.rename(parked, spare)


def _exchange(first: Path, second: Path) -> bool:
    """Linux renameat2(RENAME_EXCHANGE): swap two folders in one atomic step. False if unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(second))
