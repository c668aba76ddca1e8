"""The background encoder: drains the collection's queue — augment, encode, store, mark `encoded` —
holding the model only while it computes, and the catalogue only while it reads or writes."""

from __future__ import annotations

import logging
import threading
from typing import Callable

from prag.api import Builder
from prag.errors import PragError
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
        """Takes the most retrieved queued document (then the oldest) through to `encoded` (or `failed`);
        False when none waits."""
        with self.lock:
            self.between_jobs()
            doc = self.builder.next_job()
        if doc is None:
            return False
        try:
            self._encode(doc)
        except PragError as e:
            with self.lock:
                self.builder.mark(doc.id, JobState.FAILED, str(e))
        except Exception as e:  # a bug or a resource limit: record it, keep serving, keep draining
            log.exception("encoding %r failed", doc.id)
            with self.lock:
                self.builder.mark(doc.id, JobState.FAILED, f"{type(e).__name__}: {e}")
        return True

    def _encode(self, doc: Document) -> None:
        with self.gate.background():
            aug = self.builder.augment_one(doc)
        with self.lock:
            if not self.builder.still_current(doc):
                return
            self.builder.store_augmentation(doc, aug)
            self.builder.mark(doc.id, JobState.ENCODING)
        with self.gate.background():
            adapter = self.builder.encode_one(doc, aug)
        with self.lock:
            if not self.builder.still_current(doc):
                return
            if adapter is not None:
                self.builder.store_adapter(doc, aug, adapter)
            self.builder.mark(doc.id, JobState.ENCODED)
