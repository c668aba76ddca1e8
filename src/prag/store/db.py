"""The SQLite catalogue of collections, documents and augmentations, with numbered migrations."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Callable

from prag.errors import StateError
from prag.paths import HOME_ENV

MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = []


def migration(fn: Callable[[sqlite3.Connection], None]) -> Callable[[sqlite3.Connection], None]:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        CREATE TABLE collections (
            name TEXT PRIMARY KEY,
            created_at TEXT NOT NULL DEFAULT (datetime('now'))
        );
        CREATE TABLE documents (
            collection TEXT NOT NULL REFERENCES collections(name),
            id TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            source TEXT NOT NULL,
            seq INTEGER NOT NULL,
            added_at TEXT NOT NULL DEFAULT (datetime('now')),
            PRIMARY KEY (collection, id)
        );
        CREATE INDEX documents_by_hash ON documents(collection, content_hash);
        CREATE TABLE augmentations (
            content_hash TEXT NOT NULL,
            augment_key TEXT NOT NULL,
            rewrites TEXT NOT NULL,
            qa_pairs TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            valid_pairs INTEGER NOT NULL,
            provenance TEXT NOT NULL,
            created_at TEXT NOT NULL DEFAULT (datetime('now')),
            PRIMARY KEY (content_hash, augment_key)
        );
        """
    )


@migration
def m002_encoding_jobs(db: sqlite3.Connection) -> None:
    """The service's background queue: one row per document waiting for, or done with, its adapter."""
    _run_script(
        db,
        """
        CREATE TABLE encoding_jobs (
            collection TEXT NOT NULL,
            id TEXT NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            queued_at TEXT NOT NULL DEFAULT (datetime('now')),
            updated_at TEXT NOT NULL DEFAULT (datetime('now')),
            PRIMARY KEY (collection, id),
            FOREIGN KEY (collection, id) REFERENCES documents(collection, id) ON DELETE CASCADE
        );
        CREATE INDEX encoding_jobs_by_status ON encoding_jobs(collection, status, queued_at);
        """
    )


@migration
def m003_chunk_origin(db: sqlite3.Connection) -> None:
    """`documents.chunk_of`: the id of the document a chunk was cut from (NULL for a whole document), so that
    a chunk never takes another document's id and a re-added document replaces exactly its own chunks."""
    db.execute("ALTER TABLE documents ADD COLUMN chunk_of TEXT")
    db.execute("CREATE INDEX documents_by_origin ON documents(collection, chunk_of)")



@migration
def m004_demand(db: sqlite3.Connection) -> None:
    """Retrievals per document and UTC day (`store.demand`): what is asked about gets encoded first. No
    foreign key: a count outlives a document's replacement by new text, since users asked for the id."""
    _run_script(
        db,
        """
        CREATE TABLE demand (
            collection TEXT NOT NULL,
            id TEXT NOT NULL,
            day TEXT NOT NULL,
            retrievals INTEGER NOT NULL,
            PRIMARY KEY (collection, id, day)
        );
        """
    )

def _run_script(db: sqlite3.Connection, script: str) -> None:
    # executescript() would commit on its own; statements one by one stay inside the migration's transaction.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def connect(path: Path) -> sqlite3.Connection:
    """The catalogue at `path`, migrated to the newest schema. In a folder this process cannot write, it is
    opened read-only: `prag status` and `prag ask` work there, and `require_writable` refuses the rest."""
    try:
        return _open_read_write(path) if _writable(path) else _open_read_only(path)
    except sqlite3.DatabaseError as e:
        state = _state_error(path, e)
        if state is None:
            raise
        raise state from None
    except OSError as e:
        raise StateError(f"cannot create {path.parent} ({e.strerror}): give --home or {HOME_ENV} a folder you can write") from None


def require_writable(db: sqlite3.Connection) -> None:
    """Refuses, saying why, a change to a catalogue opened read-only."""
    if db.execute("PRAGMA query_only").fetchone()[0]:
        folder = Path(db.execute("PRAGMA database_list").fetchone()["file"]).parent
        raise StateError(f"{folder} is read-only: `prag status` and `prag ask` can read it, but changing it needs write access")


def _writable(path: Path) -> bool:
    """Can this process write the database and create its side files (`-wal`, `-shm`) beside it?"""
    if not path.parent.exists():
        return True  # created below; a failure there is reported as such
    return os.access(path.parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def _open_read_write(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = _open(str(path), uri=False)
    # WAL lets `prag ask` read while `prag build` writes.
    db.execute("PRAGMA journal_mode=WAL")
    _require_intact(db, path)
    migrate(db)
    return db


def _open_read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise StateError(f"{path.parent} is read-only and holds no catalogue ({path.name}) yet: run `prag add` with write access first")
    uri = path.resolve().as_uri()
    try:
        db = _open_and_read(f"{uri}?mode=ro")  # reads through the WAL of a writer that has the database open
    except sqlite3.OperationalError:
        # With no writer there is no `-shm` file, and SQLite cannot make one in a read-only folder. It can
        # read the file as it is if told nothing changes it, which holds unless a log of unfinished writes is left.
        if _has_log(path):
            raise StateError(f"{path} has unfinished writes (its -wal file): open it once with write access to finish them") from None
        db = _open_and_read(f"{uri}?mode=ro&immutable=1")
    _require_intact(db, path)
    if _version(db) < len(MIGRATIONS):
        db.close()
        raise StateError(f"{path} was written by an older prag and needs upgrading, which needs write access to {path.parent}")
    db.execute("PRAGMA query_only = ON")  # so that `require_writable` can tell
    return db


def _open_and_read(uri: str) -> sqlite3.Connection:
    """A connection that has read the database's header (where opening a read-only WAL database fails)."""
    db = _open(uri, uri=True)
    try:
        _version(db)
    except BaseException:
        db.close()
        raise
    return db


def _open(target: str, uri: bool) -> sqlite3.Connection:
    # One connection may serve several threads of the HTTP service, which serialises its use.
    db = sqlite3.connect(target, timeout=30, isolation_level=None, check_same_thread=False, uri=uri)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA foreign_keys=ON")
    return db


def _has_log(path: Path) -> bool:
    log = path.with_name(path.name + "-wal")
    return log.is_file() and log.stat().st_size > 0


def _require_intact(db: sqlite3.Connection, path: Path) -> None:
    """Damage inside the file (a torn or overwritten page) would otherwise surface later, in whichever query
    reads that page. quick_check reads every page once: 20 ms for a 41 MB catalogue of 20,000 documents."""
    verdict = db.execute("PRAGMA quick_check(1)").fetchone()[0]
    if verdict != "ok":
        db.close()
        raise _damaged(path, " ".join(verdict.replace("*** in database main ***", "").split()))


def _damaged(path: Path, detail: object) -> StateError:
    return StateError(f"{path} is damaged ({detail}): move it aside and `prag add` the documents again (stored adapters are reused)")


def _version(db: sqlite3.Connection) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def _state_error(path: Path, error: sqlite3.DatabaseError) -> StateError | None:
    """What the user can do about a database that cannot be opened; None for other errors (bugs)."""
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF  # the primary code of an extended one
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return _damaged(path, error)
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StateError(f"{path} is locked by another prag process ({error}): try again when it has finished")
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL):
        return StateError(f"{path} cannot be opened ({error}): check the permissions of it and its folder, and free space")
    return None


def migrate(db: sqlite3.Connection) -> None:
    version = _version(db)
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
