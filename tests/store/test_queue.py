"""The live collection's encoding queue: one job row per document."""

from __future__ import annotations

import pytest

from prag.store.catalog import Catalog
from prag.store.db import connect
from prag.store.demand import DemandLog
from prag.store.queue import EncodingJob, EncodingQueue
from prag.types import Document, JobState


@pytest.fixture
def db(tmp_path):
    db = connect(tmp_path / "catalog.db")
    yield db
    db.close()


@pytest.fixture
def catalog(db):
    return Catalog(db)


@pytest.fixture
def queue(db):
    return EncodingQueue(db)


def add(catalog: Catalog, *ids: str, collection: str = "c") -> None:
    catalog.add_documents(collection, [Document(id=i, text=f"text of {i}") for i in ids], source="test")


def test_next_queued_is_first_in_first_out(catalog, queue):
    add(catalog, "a", "b", "c")
    queue.enqueue("c", ["b", "c", "a"])
    assert queue.next_queued("c") == "b"
    queue.set_status("c", "b", JobState.AUGMENTING)
    assert queue.next_queued("c") == "c"
    queue.set_status("c", "c", JobState.ENCODED)
    assert queue.next_queued("c") == "a"
    queue.set_status("c", "a", JobState.FAILED, "diverged")
    assert queue.next_queued("c") is None


def test_next_queued_is_none_for_an_empty_queue(catalog, queue):
    add(catalog, "a")
    assert queue.next_queued("c") is None


def test_queues_of_collections_are_apart(catalog, queue):
    add(catalog, "a", collection="one")
    add(catalog, "b", collection="two")
    queue.enqueue("two", ["b"])
    assert queue.next_queued("one") is None
    assert queue.next_queued("two") == "b"


def test_enqueue_with_a_status_records_it(catalog, queue):
    add(catalog, "a")
    queue.enqueue("c", ["a"], JobState.ENCODED)
    assert queue.job("c", "a") == EncodingJob("a", JobState.ENCODED, None, 0)
    assert queue.next_queued("c") is None


def test_enqueue_again_resets_status_and_reason_but_keeps_attempts(catalog, queue):
    add(catalog, "a")
    queue.enqueue("c", ["a"])
    queue.set_status("c", "a", JobState.AUGMENTING)
    queue.set_status("c", "a", JobState.FAILED, "diverged")
    queue.enqueue("c", ["a"])
    assert queue.job("c", "a") == EncodingJob("a", JobState.QUEUED, None, 1)


def test_set_status_to_augmenting_bumps_attempts(catalog, queue):
    add(catalog, "a")
    queue.enqueue("c", ["a"])
    queue.set_status("c", "a", JobState.AUGMENTING)
    queue.set_status("c", "a", JobState.ENCODING)
    queue.set_status("c", "a", JobState.AUGMENTING)
    job = queue.job("c", "a")
    assert (job.status, job.attempts) == (JobState.AUGMENTING, 2)


def test_set_status_records_the_reason(catalog, queue):
    add(catalog, "a")
    queue.enqueue("c", ["a"])
    queue.set_status("c", "a", JobState.FAILED, "training diverged")
    assert queue.job("c", "a").reason == "training diverged"


def test_requeue_unfinished_puts_half_done_jobs_back(catalog, queue):
    add(catalog, "q", "aug", "enc", "done", "failed")
    queue.enqueue("c", ["q", "aug", "enc", "done", "failed"])
    queue.set_status("c", "aug", JobState.AUGMENTING)
    queue.set_status("c", "enc", JobState.ENCODING)
    queue.set_status("c", "done", JobState.ENCODED)
    queue.set_status("c", "failed", JobState.FAILED, "diverged")
    assert queue.requeue_unfinished("c") == 2
    status = {job.id: job.status for job in queue.page("c", 0, 10)}
    assert status == {
        "q": JobState.QUEUED,
        "aug": JobState.QUEUED,
        "enc": JobState.QUEUED,
        "done": JobState.ENCODED,
        "failed": JobState.FAILED,
    }


def test_requeue_unfinished_touches_only_its_collection(catalog, queue):
    add(catalog, "a", collection="one")
    add(catalog, "b", collection="two")
    queue.enqueue("one", ["a"])
    queue.enqueue("two", ["b"])
    queue.set_status("one", "a", JobState.ENCODING)
    queue.set_status("two", "b", JobState.ENCODING)
    assert queue.requeue_unfinished("one") == 1
    assert queue.job("two", "b").status is JobState.ENCODING
    assert queue.requeue_unfinished("one") == 0


def test_enqueue_unqueued_adds_jobs_only_for_documents_without_one(catalog, queue):
    add(catalog, "done", "new1", "new2")
    queue.enqueue("c", ["done"], JobState.ENCODED)
    queue.enqueue_unqueued("c")
    rows = queue.db.execute("SELECT id, status FROM encoding_jobs ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [("done", "encoded"), ("new1", "queued"), ("new2", "queued")]
    queue.enqueue_unqueued("c")
    assert queue.db.execute("SELECT COUNT(*) FROM encoding_jobs").fetchone()[0] == 3


def test_job_is_queued_for_a_document_without_a_job_row(catalog, queue):
    add(catalog, "a")
    assert queue.job("c", "a") == EncodingJob("a", JobState.QUEUED, None, 0)
    assert queue.job("c", "missing") is None


def test_a_document_with_new_content_loses_its_finished_job(catalog, queue):
    catalog.add_documents("c", [Document(id="a", text="old")], source="test")
    queue.enqueue("c", ["a"], JobState.ENCODED)
    catalog.add_documents("c", [Document(id="a", text="new")], source="test")
    assert queue.job("c", "a").status is JobState.QUEUED


def test_deleting_a_document_removes_its_job(catalog, queue):
    add(catalog, "a")
    queue.enqueue("c", ["a"])
    catalog.delete_document("c", "a")
    assert queue.next_queued("c") is None
    assert queue.counts("c")[JobState.QUEUED] == 0


def test_counts_has_every_state_including_zeros(catalog, queue):
    add(catalog, "a", "b", "c")
    queue.enqueue("c", ["a", "b"])
    queue.enqueue("c", ["c"], JobState.ENCODED)
    counts = queue.counts("c")
    assert set(counts) == set(JobState)
    assert counts == {
        JobState.QUEUED: 2,
        JobState.AUGMENTING: 0,
        JobState.ENCODING: 0,
        JobState.ENCODED: 1,
        JobState.FAILED: 0,
    }


def test_counts_of_an_unknown_collection_are_all_zero(queue):
    assert queue.counts("nowhere") == {state: 0 for state in JobState}


def test_page_pages_in_document_order(catalog, queue):
    add(catalog, "d0", "d1", "d2", "d3", "d4")
    queue.enqueue("c", ["d4", "d3", "d2", "d1", "d0"])
    assert [j.id for j in queue.page("c", 0, 2)] == ["d0", "d1"]
    assert [j.id for j in queue.page("c", 2, 2)] == ["d2", "d3"]
    assert [j.id for j in queue.page("c", 4, 2)] == ["d4"]
    assert queue.page("c", 5, 2) == []


def test_page_reports_documents_without_a_job_as_queued(catalog, queue):
    add(catalog, "a", "b")
    queue.enqueue("c", ["b"], JobState.ENCODED)
    assert queue.page("c", 0, 10) == [
        EncodingJob("a", JobState.QUEUED, None, 0),
        EncodingJob("b", JobState.ENCODED, None, 0),
    ]


def test_next_queued_is_the_most_retrieved_then_the_oldest(catalog, queue):
    add(catalog, "a", "b", "c", "d")
    queue.enqueue("c", ["a", "b", "c", "d"])
    DemandLog(queue.db).add("c", {"c": 2, "d": 2, "b": 1})
    DemandLog(queue.db).add("other", {"a": 9})  # another collection's demand does not count here
    order = []
    while (doc_id := queue.next_queued("c")) is not None:
        order.append(doc_id)
        queue.set_status("c", doc_id, JobState.ENCODED)
    assert order == ["c", "d", "b", "a"]
