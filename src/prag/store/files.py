"""Atomic file and folder writes: a reader sees the old state or the new one, never half of either."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from prag.errors import DamagedError


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def file_digests(folder: Path, names: list[str]) -> dict[str, str]:
    """name -> sha256 of each named file of `folder`, recorded when written for `read_verified` to check."""
    return {name: sha256_file(folder / name) for name in names}


def read_verified(folder: Path, names: list[str], recorded: dict, what: str) -> dict[str, bytes]:
    """The named files of `folder`, read whole and each checked against the sha256 `recorded` when it was
    written; raises DamagedError for the first one missing, cut short or changed (`what` names the state,
    e.g. "the adapter of content 0a1b2c3d4e5f"). Hashing what is read, not the file again, leaves no gap
    in which a checked file could change before it is used."""
    contents = {}
    for name in names:
        path = folder / name
        if not isinstance(recorded.get(name), str):
            raise DamagedError(f"{what} is damaged: no sha256 of {name} was recorded")
        try:
            contents[name] = path.read_bytes()
        except OSError as e:
            raise DamagedError(f"{what} is damaged: {name} cannot be read ({e.strerror or e})") from None
        if hashlib.sha256(contents[name]).hexdigest() != recorded[name]:
            size = len(contents[name])
            raise DamagedError(f"{what} is damaged: {name} ({size:,} bytes) is not the file that was written (sha256 mismatch)")
    return contents


def read_json_object(path: Path, what: str) -> dict:
    """A JSON object prag wrote; raises DamagedError when the file is missing, garbled, cut short or not an object."""
    try:
        obj = json.loads(path.read_bytes())
    except OSError as e:
        raise DamagedError(f"{what} is damaged: {path.name} cannot be read ({e.strerror or e})") from None
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError alike
        raise DamagedError(f"{what} is damaged: {path.name} is not valid JSON ({e})") from None
    if not isinstance(obj, dict):
        raise DamagedError(f"{what} is damaged: {path.name} holds no JSON object")
    return obj


def write_json_atomic(path: Path, obj: object) -> None:
    _write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True))


def write_jsonl_atomic(path: Path, rows: list[dict]) -> None:
    """The whole file at once (readers see the old rows or the new, never part): for files rewritten
    from others, where `append_jsonl` serves files that grow."""
    _write_text_atomic(path, "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))


def _write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8") as f:
        try:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        except BaseException:
            f.close()
            os.unlink(f.name)
            raise
    os.replace(f.name, path)


@contextmanager
def staged_folder(final: Path) -> Iterator[Path]:
    """Yields an empty sibling folder; on success it takes `final`'s place. An existing `final` is first
    renamed aside (one step), so a reader finds the old folder whole, then no folder, then the new one
    whole, and never half of either."""
    final.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp"))
    try:
        yield stage
        old = set_aside(final) if final.exists() else None
        try:
            os.replace(stage, final)
        except BaseException:
            if old is not None:
                os.replace(old, final)  # the old folder comes back whole
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def set_aside(folder: Path) -> Path:
    """Renames `folder` to a fresh hidden sibling name (never one an interrupted earlier run left) and
    returns it, for the caller to delete at leisure."""
    aside = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".old"))
    os.replace(folder, aside)  # replacing an empty folder is allowed, and atomic
    return aside


def append_jsonl(path: Path, rows: list[dict]) -> None:
    """Appends whole lines and syncs them: after a crash the file ends with complete rows, or with one
    torn last line that `read_jsonl` drops."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _drop_torn_line(path)
    with path.open("a", encoding="utf-8") as f:
        f.write("".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))
        f.flush()
        os.fsync(f.fileno())


def _drop_torn_line(path: Path) -> None:
    """Ends the file at a line boundary, so that the next row does not join the last one: a last line
    cut before its newline is kept when it is a whole row (as `read_jsonl` reads it), dropped otherwise."""
    if not path.is_file():
        return
    with path.open("rb+") as f:
        data = f.read()
        if not data or data.endswith(b"\n"):
            return
        start = data.rfind(b"\n") + 1
        if _is_row(data[start:]):
            f.write(b"\n")
        else:
            f.truncate(start)


def _is_row(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        return False
    return True


def read_jsonl(path: Path) -> list[dict]:
    """Every complete row; a torn last line (an interrupted append) is dropped."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows
