"""The live collection's encoding queue: one job row per document, in the catalogue's SQLite database."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from prag.types import JobState

UNFINISHED = tuple(s.value for s in JobState if s.unfinished)


@dataclass(frozen=True)
class EncodingJob:
    """One document's way to its adapter, as the service reports it."""

    id: str
    status: JobState
    reason: str | None = None
    attempts: int = 0


class EncodingQueue:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def enqueue(self, collection: str, ids: list[str], status: JobState = JobState.QUEUED) -> None:
        self.db.executemany(
            "INSERT INTO encoding_jobs(collection, id, status) VALUES (?, ?, ?)"
            " ON CONFLICT(collection, id) DO UPDATE SET status = excluded.status, reason = NULL,"
            " updated_at = datetime('now')",
            [(collection, doc_id, status.value) for doc_id in ids],
        )

    def enqueue_unqueued(self, collection: str) -> None:
        """Queues the collection's documents that have no job yet (e.g. added by `prag add`)."""
        self.db.execute(
            "INSERT INTO encoding_jobs(collection, id, status) SELECT collection, id, ? FROM documents d"
            " WHERE d.collection = ? AND NOT EXISTS"
            " (SELECT 1 FROM encoding_jobs j WHERE j.collection = d.collection AND j.id = d.id)",
            (JobState.QUEUED.value, collection),
        )

    def set_status(self, collection: str, doc_id: str, status: JobState, reason: str | None = None) -> None:
        bump = ", attempts = attempts + 1" if status is JobState.AUGMENTING else ""
        self.db.execute(
            f"UPDATE encoding_jobs SET status = ?, reason = ?, updated_at = datetime('now'){bump}"
            " WHERE collection = ? AND id = ?",
            (status.value, reason, collection, doc_id),
        )

    def next_queued(self, collection: str) -> str | None:
        """The queued document retrieved most often (`store.demand`), then the oldest: what users ask
        about is encoded first, and the rest in the order it came."""
        first = self.queued_first(collection, 1)
        return first[0] if first else None

    def queued_first(self, collection: str, limit: int) -> list[str]:
        """Up to `limit` queued documents in the order `next_queued` takes them."""
        rows = self.db.execute(
            "SELECT j.id FROM encoding_jobs j LEFT JOIN"
            " (SELECT id, SUM(retrievals) AS n FROM demand WHERE collection = ? GROUP BY id) d ON d.id = j.id"
            " WHERE j.collection = ? AND j.status = ? ORDER BY COALESCE(d.n, 0) DESC, j.queued_at, j.rowid LIMIT ?",
            (collection, collection, JobState.QUEUED.value, limit),
        ).fetchall()
        return [row["id"] for row in rows]

    def ids(self, collection: str, status: JobState) -> list[str]:
        """The ids of the collection's jobs in `status`."""
        rows = self.db.execute(
            "SELECT id FROM encoding_jobs WHERE collection = ? AND status = ?", (collection, status.value)
        ).fetchall()
        return [r["id"] for r in rows]

    def requeue_unfinished(self, collection: str) -> int:
        """After a crash: half-done jobs go back to the queue (their finished parts are kept in stores)."""
        marks = ",".join("?" * len(UNFINISHED))
        cursor = self.db.execute(
            f"UPDATE encoding_jobs SET status = ?, updated_at = datetime('now')"
            f" WHERE collection = ? AND status IN ({marks})",
            (JobState.QUEUED.value, collection, *UNFINISHED),
        )
        return cursor.rowcount

    def job(self, collection: str, doc_id: str) -> EncodingJob | None:
        row = self.db.execute(
            "SELECT d.id, j.status, j.reason, j.attempts FROM documents d LEFT JOIN encoding_jobs j"
            " ON j.collection = d.collection AND j.id = d.id WHERE d.collection = ? AND d.id = ?",
            (collection, doc_id),
        ).fetchone()
        return _job(row) if row else None

    def page(self, collection: str, offset: int, limit: int) -> list[EncodingJob]:
        rows = self.db.execute(
            "SELECT d.id, j.status, j.reason, j.attempts FROM documents d LEFT JOIN encoding_jobs j"
            " ON j.collection = d.collection AND j.id = d.id WHERE d.collection = ? ORDER BY d.seq LIMIT ? OFFSET ?",
            (collection, limit, offset),
        ).fetchall()
        return [_job(r) for r in rows]

    def counts(self, collection: str) -> dict[JobState, int]:
        rows = self.db.execute(
            "SELECT status, COUNT(*) AS n FROM encoding_jobs WHERE collection = ? GROUP BY status", (collection,)
        ).fetchall()
        return {state: 0 for state in JobState} | {JobState(r["status"]): r["n"] for r in rows}


def _job(row: sqlite3.Row) -> EncodingJob:
    # Documents added by `prag add` have no job row: `prag build` encodes them.
    return EncodingJob(row["id"], JobState(row["status"] or JobState.QUEUED), row["reason"], row["attempts"] or 0)
