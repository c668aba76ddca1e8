"""The SQLite catalogue of collections, documents and augmentations, with numbered migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Callable

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


def _run_script(db: sqlite3.Connection, script: str) -> None:
    # executescript() would commit on its own; statements one by one stay inside the migration's transaction.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # One connection may serve several threads of the HTTP service, which serialises its use.
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    # WAL lets `prag ask` read while `prag build` writes.
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    migrate(db)
    return db


def migrate(db: sqlite3.Connection) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
