"""The background encoder: drains the collection's queue — augment, encode, store, mark `encoded` —
holding the model only while it computes, and the catalogue only while it reads or writes."""

from __future__ import annotations

import logging
import threading
from typing import Callable

from prag.api import Builder
from prag.errors import EncodingError, PragError
from prag.server.gate import ModelGate
from prag.types import Document, JobState

log = logging.getLogger("prag.server")


class EncodingWorker(threading.Thread):
    def __init__(self, builder: Builder, gate: ModelGate, lock: threading.RLock, between_jobs: Callable[[], None] = lambda: None):
        super().__init__(name="prag-encoder", daemon=True)
        self.builder = builder
        self.gate = gate
        self.lock = lock
        """Serialises every use of the catalogue and index with the request handlers."""
        self.between_jobs = between_jobs
        """Catalogue upkeep run under the lock before each job and each idle second (writing the
        retrievals answers counted, so that the next job is the most demanded)."""
        self.wake = threading.Event()
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            if not self.work_once():
                self.wake.wait(1.0)
                self.wake.clear()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def work_once(self) -> bool:
        """Takes the most retrieved queued documents (then the oldest) through to `encoded` (or `failed`):
        as many at once as the workers compute in parallel (one in this process, one per Ray worker);
        False when none waits."""
        with self.lock:
            self.between_jobs()
            docs = self.builder.next_jobs(self.builder.workers.parallel)
        if not docs:
            return False
        try:
            self._encode(docs)
        except Exception as e:
            if len(docs) == 1:
                self._fail(docs[0], e)
            else:  # one document must not fail its neighbours: each goes again alone (stored work is kept)
                for doc in docs:
                    try:
                        self._encode([doc])
                    except Exception as alone:
                        self._fail(doc, alone)
        return True

    def _fail(self, doc: Document, error: Exception) -> None:
        """A PragError is the document's own reason; anything else is a bug or a resource limit: record
        it, keep serving, keep draining."""
        if isinstance(error, PragError):
            reason = str(error)
        else:
            log.error("encoding %r failed", doc.id, exc_info=error)
            reason = f"{type(error).__name__}: {error}"
        with self.lock:
            self.builder.mark(doc.id, JobState.FAILED, reason)

    def _encode(self, docs: list[Document]) -> None:
        with self.gate.background():
            augmentations = self.builder.augment_jobs(docs)
        with self.lock:
            items = [(doc, aug) for doc, aug in zip(docs, augmentations) if self.builder.still_current(doc)]
            for doc, aug in items:
                self.builder.store_augmentation(doc, aug)
                self.builder.mark(doc.id, JobState.ENCODING)
        with self.gate.background():
            adapters = self.builder.encode_jobs(items)
        with self.lock:
            for (doc, aug), adapter in zip(items, adapters):
                if not self.builder.still_current(doc):
                    continue
                try:
                    if adapter is not None:
                        self.builder.store_adapter(doc, aug, adapter)
                except EncodingError as e:  # this document's training diverged: it alone fails
                    self.builder.mark(doc.id, JobState.FAILED, str(e))
                    continue
                self.builder.mark(doc.id, JobState.ENCODED)
