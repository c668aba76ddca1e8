"""The SQLite catalogue's connection and numbered migrations."""

from __future__ import annotations

import sqlite3

import pytest

from prag.store import db as db_module
from prag.store.db import MIGRATIONS, connect

TABLES = {"collections", "documents", "augmentations", "encoding_jobs"}


class MigrationFailed(Exception):
    pass


def tables(db: sqlite3.Connection) -> set[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows}


def user_version(db: sqlite3.Connection) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def failing_migration(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE half_done (x INTEGER)")
    raise MigrationFailed("boom")


def test_a_fresh_database_runs_every_migration(tmp_path):
    db = connect(tmp_path / "catalog.db")
    assert user_version(db) == len(MIGRATIONS) >= 2
    assert TABLES <= tables(db)


def test_connect_creates_the_parent_folder(tmp_path):
    path = tmp_path / "a" / "b" / "catalog.db"
    connect(path).close()
    assert path.is_file()


def test_reconnecting_keeps_data_and_does_not_rerun_migrations(tmp_path, monkeypatch):
    path = tmp_path / "catalog.db"
    first = connect(path)
    first.execute("INSERT INTO collections(name) VALUES ('kept')")
    first.close()
    ran: list[str] = []
    spies = [lambda db, step=step: (ran.append(step.__name__), step(db))[1] for step in MIGRATIONS]
    monkeypatch.setattr(db_module, "MIGRATIONS", spies)
    second = connect(path)
    assert ran == []
    assert [r[0] for r in second.execute("SELECT name FROM collections")] == ["kept"]
    assert user_version(second) == len(MIGRATIONS)


def test_an_older_database_runs_only_the_newer_migrations(tmp_path, monkeypatch):
    path = tmp_path / "catalog.db"
    monkeypatch.setattr(db_module, "MIGRATIONS", MIGRATIONS[:1])
    old = connect(path)
    assert user_version(old) == 1 and "encoding_jobs" not in tables(old)
    old.execute("INSERT INTO collections(name) VALUES ('kept')")
    old.close()
    monkeypatch.setattr(db_module, "MIGRATIONS", list(MIGRATIONS))
    new = connect(path)
    assert user_version(new) == len(MIGRATIONS)
    assert "encoding_jobs" in tables(new)
    assert [r[0] for r in new.execute("SELECT name FROM collections")] == ["kept"]


def test_a_failing_migration_rolls_back_its_changes_and_version(tmp_path, monkeypatch):
    path = tmp_path / "catalog.db"
    connect(path).close()
    monkeypatch.setattr(db_module, "MIGRATIONS", [*MIGRATIONS, failing_migration])
    with pytest.raises(MigrationFailed):
        connect(path)
    check = sqlite3.connect(path)
    assert user_version(check) == len(MIGRATIONS)
    assert "half_done" not in tables(check)
    check.close()


def test_a_failing_first_migration_leaves_an_empty_database(tmp_path, monkeypatch):
    path = tmp_path / "catalog.db"
    monkeypatch.setattr(db_module, "MIGRATIONS", [MIGRATIONS[0], failing_migration])
    with pytest.raises(MigrationFailed):
        connect(path)
    check = sqlite3.connect(path)
    # The first step committed on its own; only the failing one is undone.
    assert user_version(check) == 1
    assert "collections" in tables(check) and "half_done" not in tables(check)
    check.close()


def test_the_database_is_in_wal_mode_with_foreign_keys_on(tmp_path):
    db = connect(tmp_path / "catalog.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_deleting_a_document_cascades_to_its_encoding_job(tmp_path):
    db = connect(tmp_path / "catalog.db")
    db.execute("INSERT INTO collections(name) VALUES ('c')")
    db.execute(
        "INSERT INTO documents(collection, id, content_hash, title, text, source, seq)"
        " VALUES ('c', 'd1', 'h', '', 'text', 'test', 1)"
    )
    db.execute("INSERT INTO encoding_jobs(collection, id, status) VALUES ('c', 'd1', 'queued')")
    db.execute("DELETE FROM documents WHERE id = 'd1'")
    assert db.execute("SELECT COUNT(*) FROM encoding_jobs").fetchone()[0] == 0


def test_a_job_for_an_unknown_document_is_refused(tmp_path):
    db = connect(tmp_path / "catalog.db")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO encoding_jobs(collection, id, status) VALUES ('c', 'ghost', 'queued')")
