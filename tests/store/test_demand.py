"""Retrieval counts per document and day: added up, windowed to recent days, forgotten with a document."""

from __future__ import annotations

import threading

import pytest

from prag.store.db import connect
from prag.store.demand import DemandLog, PendingDemand


@pytest.fixture
def demand(tmp_path):
    db = connect(tmp_path / "catalog.db")
    yield DemandLog(db)
    db.close()


def test_counts_add_up_per_document_and_collection(demand):
    demand.add("c", {"a": 2, "b": 1})
    demand.add("c", {"a": 1, "z": 0})
    demand.add("other", {"a": 5})
    assert demand.totals("c") == {"a": 3, "b": 1}
    rows = demand.db.execute("SELECT COUNT(*) FROM demand WHERE collection = 'c'").fetchone()[0]
    assert rows == 2  # one row per document and day, not one per retrieval


def test_recent_counts_only_the_last_days(demand):
    demand.add("c", {"a": 1})
    demand.db.execute("INSERT INTO demand VALUES ('c', 'a', date('now', '-6 days'), 10), ('c', 'b', date('now', '-7 days'), 100)")
    assert demand.totals("c", days=7) == {"a": 11}
    assert demand.totals("c") == {"a": 11, "b": 100}


def test_forget_drops_a_documents_counts(demand):
    demand.add("c", {"a": 1, "b": 1})
    demand.forget("c", "a")
    assert demand.totals("c") == {"b": 1}


def test_pending_counts_from_many_threads_are_taken_once():
    pending = PendingDemand()
    threads = [threading.Thread(target=lambda: [pending.note(["a", "b"]) for _ in range(500)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert pending.take() == {"a": 2000, "b": 2000}
    assert pending.take() == {}
