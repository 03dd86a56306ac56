"""Reading the files a user names, and writing outputs all-or-nothing, for every t2m command-line tool.

- Every OS error on a path the user gave is a `T2MError` naming that path (never the hidden temp file).
- A regular file is written atomically: a temp file beside it, then a rename, so readers never see half a file.
- A target that exists and is not a regular file (`/dev/null`, a FIFO, a terminal) is written in place, never
  replaced: renaming over `/dev/null` as root would turn the machine's null device into a regular file.
- `-` is standard output.
- `write_outputs` writes several files as one transaction: all of them, or (after any failure) none, with files
  that existed before restored.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from t2m.compiler.errors import T2MError

STDOUT = "-"


def read_bytes(path: str | Path, flag: str | None = None) -> bytes:
    """The bytes of a file the user named; a missing or unreadable file is a one-line error naming it."""
    try:
        return Path(path).read_bytes()
    except IsADirectoryError:
        raise T2MError(f"'{path}' is a folder, not a file", flag or str(path), "name a file") from None
    except OSError as e:
        raise T2MError(f"cannot read '{path}': {e.strerror or e}", flag or str(path), "check the path") from None


def read_text(path: str | Path, flag: str | None = None, expected: str = "a text file") -> str:
    """A text file the user named (UTF-8); a binary file is a one-line error saying what was expected."""
    data = read_bytes(path, flag)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise T2MError(
            f"'{path}' is not {expected} (byte {e.start} is not UTF-8 text)", flag or str(path), f"pass {expected}"
        ) from None


def _user_error(path: str | Path, e: OSError) -> T2MError:
    reason = e.strerror or type(e).__name__
    return T2MError(f"cannot write '{path}': {reason}", str(path), "check that the folder exists and is writable")


def _is_special(path: Path) -> bool:
    """True for an existing target that must be written in place (a device, FIFO or socket, or a link to one)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


@dataclass
class _Pending:
    target: Path
    data: bytes
    temp: Path | None = None  # the written temp file of a regular target
    backup: Path | None = None  # a hard link to the file the rename replaced, kept until every rename succeeded
    done: bool = False


def _mkdirs(folder: Path, created: list[Path], shown: str) -> None:
    missing = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise T2MError(f"cannot write '{shown}': '{probe}' is a file, not a folder", shown, "choose another path")
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as e:
            raise _user_error(shown, e) from None
        created.append(path)


def write_outputs(files: Mapping[str | Path, str | bytes]) -> None:
    """Write every `path: data` pair, or none of them (see the module docstring)."""
    pending: list[_Pending] = []
    stdout: list[bytes] = []
    created: list[Path] = []
    try:
        for path, data in files.items():
            raw = data.encode() if isinstance(data, str) else data
            if str(path) == STDOUT:
                stdout.append(raw)
                continue
            target = Path(path)
            if target.is_dir():
                raise T2MError(f"cannot write '{path}': it is a folder", str(path), "name a file inside it")
            item = _Pending(target, raw)
            pending.append(item)
            if _is_special(target):
                continue
            _mkdirs(target.parent, created, str(path))
            try:
                fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            except OSError as e:
                raise _user_error(path, e) from None
            item.temp = Path(temp)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(raw)
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(temp, 0o666 & ~umask)  # mkstemp's 0600 would make outputs private to their author
            except OSError as e:
                raise _user_error(path, e) from None
        for item in pending:
            _commit(item)
    except BaseException:
        _roll_back(pending, created)
        raise
    for item in pending:
        if item.backup is not None:
            item.backup.unlink(missing_ok=True)
    for raw in stdout:
        sys.stdout.flush()
        sys.stdout.buffer.write(raw)
        sys.stdout.buffer.flush()


def _commit(item: _Pending) -> None:
    try:
        if item.temp is None:  # a device or FIFO: write in place
            with open(item.target, "wb") as f:
                f.write(item.data)
        else:
            if item.target.is_file():
                backup = Path(tempfile.mktemp(prefix=f".{item.target.name}.old.", dir=item.target.parent))
                try:
                    os.link(item.target, backup)
                except OSError:  # no hard links here (some file systems): a copy restores as well
                    shutil.copy2(item.target, backup)
                item.backup = backup
            os.replace(item.temp, item.target)
            item.temp = None
    except OSError as e:
        raise _user_error(item.target, e) from None
    item.done = True


def _roll_back(pending: list[_Pending], created: list[Path]) -> None:
    for item in pending:
        if item.temp is not None:
            item.temp.unlink(missing_ok=True)
        if item.done and item.backup is None and not _is_special(item.target):
            item.target.unlink(missing_ok=True)  # it did not exist before this run
        elif item.backup is not None:
            os.replace(item.backup, item.target)
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            pass


def write_output(path: str | Path, data: str | bytes) -> None:
    """Write one output file (atomically when it is a regular file; `-` is standard output)."""
    write_outputs({path: data})
