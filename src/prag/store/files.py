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
        json.dump(obj, f, indent=2, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(f.name, path)


@contextmanager
def staged_folder(final: Path) -> Iterator[Path]:
    """Yields an empty sibling folder; on success it is renamed onto `final` in one step."""
    final.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp"))
    try:
        yield stage
        if final.exists():
            shutil.rmtree(final)
        os.replace(stage, final)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


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
    """Cuts an unfinished last line, so that the next row does not join it."""
    if not path.is_file():
        return
    with path.open("rb+") as f:
        data = f.read()
        if data and not data.endswith(b"\n"):
            f.truncate(data.rfind(b"\n") + 1)


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
