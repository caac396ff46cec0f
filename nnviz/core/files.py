"""Writing files: one atomic writer for the whole package, and the CSV formats it writes.

``write_atomic`` writes through a temporary file in the target's folder, syncs it and
renames it over the target: afterwards the target holds the whole new data, or, after any
failure (a full disk, Ctrl-C), exactly what it held before, and no temporary file is left.
"""

from __future__ import annotations

import errno
import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

from nnviz.core.text import shorten

# Plain words for the errors a user can do something about; others keep the system's words.
_REASONS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EFBIG: "the file is too large for the file system",
}
_UMASK_LOCK = threading.Lock()
MAX_PREFIX = 100  # characters of the target's name kept in the temporary file's name (names stop at 255)


class WriteError(OSError):
    """A file could not be written; ``str()`` is one line: ``PATH: cannot write: REASON``.

    ``reason`` holds the reason alone (e.g. "no space left on the device").
    """

    def __init__(self, path: str | Path, code: int | None, reason: str):
        super().__init__(code, reason, str(path))
        self.path, self.reason = Path(path), reason

    def __str__(self) -> str:
        return f"{shorten(str(self.path), 200)}: cannot write: {self.reason}"


def error_reason(exc: OSError) -> str:
    """The reason of an OSError in a few words: "no space left on the device", "Permission denied", ..."""
    if isinstance(exc, WriteError):
        return exc.reason
    return _REASONS.get(exc.errno) or exc.strerror or str(exc) or type(exc).__name__


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux), else under a lock."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:  # os.umask can only be read by setting it: set it straight back
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def is_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder; False also when it cannot be looked at (the write then says why)."""
    try:
        return Path(path).is_dir()
    except OSError:  # e.g. a name too long
        return False


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` (text is written as UTF-8) to ``path`` atomically, with the mode the umask implies.

    Raises WriteError (an OSError) naming the path and the reason; the old file is then
    intact and the temporary file removed. A KeyboardInterrupt also removes the temporary file.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if is_folder(path):
        raise WriteError(path, errno.EISDIR, "is a folder; give a file name")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:MAX_PREFIX]}.", suffix=".tmp", dir=path.parent)
        try:
            os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp makes 0600 files
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                if written <= 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        tmp = None
        _sync_folder(path.parent)
    except OSError as exc:
        raise WriteError(path, exc.errno, error_reason(exc)) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _sync_folder(folder: Path) -> None:
    # Makes the rename itself durable; not every system lets a folder be opened or synced, and the
    # file is already complete, so a failure here is not one of the write.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# CSV: one format, floats at full precision (repr), so that a file parses back to the very same numbers.

def csv_field(text: str) -> str:
    """A text field quoted as CSV needs (commas, quotes, line breaks, surrounding spaces)."""
    if any(c in text for c in ',"\r\n') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


def _rows(history, columns: tuple[str, ...], prefix: tuple[str, ...] = ()):
    """CSV lines of a history's rows, a block at a time (a long history is never one list of Python floats)."""
    blocks = history.blocks() if hasattr(history, "blocks") else [history.to_columns()]
    for block in blocks:
        data = [block[c].tolist() if hasattr(block[c], "tolist") else block[c] for c in columns]
        yield from (",".join([*prefix, *map(repr, values)]) for values in zip(*data, strict=True))


def history_csv(history, columns: tuple[str, ...]) -> str:
    """One run's history as CSV text, one row per epoch, floats at full precision (repr)."""
    return "\n".join([",".join(columns), *_rows(history, columns)]) + "\n"


def long_csv(histories: Mapping[str, object], columns: tuple[str, ...]) -> str:
    """Several runs' histories in long form: a ``run`` column, then ``columns``; one row per run and epoch."""
    lines = [",".join(("run",) + columns)]
    for name, history in histories.items():
        lines.extend(_rows(history, columns, (csv_field(name),)))
    return "\n".join(lines) + "\n"


def settings_csv(shared: Mapping[str, object], runs: list[Mapping[str, object]]) -> str:
    """Every run's settings as CSV, one row per run: its own fields (name, colour, visible, then its training
    settings: learning_rate, batch_size, optimizer, ...), then the settings they share (data, network, init,
    engine). Floats at full precision; the shape as ``2-3-4-1``; true/false for booleans."""

    def text(value) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return repr(value)
        if isinstance(value, (list, tuple)):
            return "-".join(map(str, value))
        return csv_field(str(value))

    own = list(runs[0]) if runs else []
    lines = [",".join([*own, *shared])]
    lines += [",".join([*(text(run[k]) for k in own), *(text(v) for v in shared.values())]) for run in runs]
    return "\n".join(lines) + "\n"
