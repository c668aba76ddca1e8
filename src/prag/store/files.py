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


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def write_json_atomic(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8") as f:
        try:
            json.dump(obj, f, indent=2, sort_keys=True)
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
