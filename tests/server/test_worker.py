"""The service's background encoder takes the most retrieved queued document first; answers count
their retrievals in memory and the encoder thread writes them, between jobs, under the service lock."""

from __future__ import annotations

from prag import Prag
from prag.build import LocalWorkers
from prag.encode import Encoder
from prag.server.service import Service
from prag.types import Document, JobState, Mode

from ..conftest import FAST
from ..fixtures.facts import DEMO_FACTS


def test_the_most_retrieved_queued_document_is_encoded_first(tiny_model_dir):
    service = Service(Prag(model=str(tiny_model_dir), settings=FAST))
    service._prepare()
    service.add([Document(**fact) for fact in DEMO_FACTS])  # queued oldest first: velmora, quillon, brevik
    answers = service._answer_many(["How tall is the Velmora Clock Tower built by Tashkel Brevik?"], Mode.AUTO, 1)
    assert answers[0].documents == ["brevik"]
    assert service.prag.builder.demand.totals(service.prag.collection) == {}  # answering wrote nothing
    assert service.worker.work_once()
    assert service.prag.job("brevik").status is JobState.ENCODED  # not velmora, the oldest
    assert service.prag.job("velmora").status is JobState.QUEUED
    assert service.prag.builder.demand.totals(service.prag.collection) == {"brevik": 1}


class TwoAtATime(LocalWorkers):
    """This process's model taking two documents per job, as two Ray workers would."""

    parallel = 2


def test_a_document_that_fails_in_a_batch_fails_alone(tiny_model_dir, monkeypatch):
    service = Service(Prag(model=str(tiny_model_dir), settings=FAST))
    service._prepare()
    service.prag.builder.workers = TwoAtATime(service.prag.runtime)
    service.add([Document(**fact) for fact in DEMO_FACTS[:2]])  # velmora, quillon
    original = Encoder.encode_many

    def encode_many(self, items):
        if any(doc.id == "quillon" for doc, _ in items):
            raise RuntimeError("out of memory on quillon")
        return original(self, items)

    monkeypatch.setattr(Encoder, "encode_many", encode_many)
    assert service.worker.work_once()
    assert service.prag.job("velmora").status is JobState.ENCODED
    failed = service.prag.job("quillon")
    assert failed.status is JobState.FAILED and failed.reason == "RuntimeError: out of memory on quillon"
    assert service.prag.status().encoded == 1 and service.prag.status().augmented == 2
