"""How often each document is retrieved, per collection and UTC day, in the catalogue: what the service's
queue and `prag build --budget` encode first, and what `prag status` measures coverage against.

Answering never waits on the database for this: retrievals are counted in memory (`PendingDemand`) and
written later, one statement per flush, by whoever holds the catalogue (the CLI after its answers, the
service's encoder thread between jobs). Counts per day keep "recent" cheap to ask for and the table
small: one row per document and day it was retrieved on, not one per retrieval."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from typing import Iterable, Mapping

RECENT_DAYS = 7
"""What `prag status` calls recent retrieval: the last seven days, today included."""


class DemandLog:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def add(self, collection: str, counts: Mapping[str, int]) -> None:
        """Adds today's retrievals of each document id."""
        self.db.executemany(
            "INSERT INTO demand(collection, id, day, retrievals) VALUES (?, ?, date('now'), ?)"
            " ON CONFLICT(collection, id, day) DO UPDATE SET retrievals = retrievals + excluded.retrievals",
            [(collection, doc_id, n) for doc_id, n in counts.items() if n > 0],
        )

    def totals(self, collection: str, days: int | None = None) -> dict[str, int]:
        """Document id -> retrievals, over all time or the last `days` days (today included)."""
        since = "" if days is None else " AND day > date('now', ?)"
        args = (collection,) if days is None else (collection, f"-{days} days")
        rows = self.db.execute(
            f"SELECT id, SUM(retrievals) AS n FROM demand WHERE collection = ?{since} GROUP BY id", args
        ).fetchall()
        return {r["id"]: r["n"] for r in rows}

    def forget(self, collection: str, doc_id: str) -> None:
        self.db.execute("DELETE FROM demand WHERE collection = ? AND id = ?", (collection, doc_id))


class PendingDemand:
    """Retrievals counted since the last flush; safe to add to from answering threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def note(self, doc_ids: Iterable[str]) -> None:
        with self._lock:
            self._counts.update(doc_ids)

    def take(self) -> Counter[str]:
        """The counts so far, leaving none behind."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        return counts
