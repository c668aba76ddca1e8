"""The background encoder: drains the collection's queue — augment, encode, store, mark `encoded`."""

from __future__ import annotations

import logging
import threading
from typing import Callable

from prag.api import Prag
from prag.errors import PragError
from prag.server.gate import ModelGate

log = logging.getLogger("prag.server")


class EncodingWorker(threading.Thread):
    def __init__(self, prag: Prag, gate: ModelGate, state_lock: threading.RLock, on_change: Callable[[], None] = lambda: None):
        super().__init__(name="prag-encoder", daemon=True)
        self.prag = prag
        self.gate = gate
        self.state = state_lock
        """Serialises every use of the catalogue and index with the request handlers."""
        self.on_change = on_change
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
        """Takes the oldest queued document through to `encoded` (or `failed`); False when none waits."""
        with self.state:
            doc_id = self.prag.queue.next_queued(self.prag.collection)
            doc = self.prag.document(doc_id) if doc_id else None
            if doc is None:
                return False
            self._mark(doc_id, "augmenting")
        try:
            self._encode(doc)
        except PragError as e:
            with self.state:
                self._mark(doc_id, "failed", str(e))
        except Exception as e:  # a bug or a resource limit: record it, keep serving, keep draining
            log.exception("encoding %r failed", doc_id)
            with self.state:
                self._mark(doc_id, "failed", f"{type(e).__name__}: {e}")
        return True

    def _encode(self, doc) -> None:
        with self.gate.background():
            aug = self.prag.augment_one(doc)
        with self.state:
            if not self._still_wanted(doc):
                return
            self.prag.store_augmentation(doc, aug)
            self._mark(doc.id, "encoding")
        with self.gate.background():
            adapter = self.prag.encode_one(doc, aug)
        with self.state:
            if not self._still_wanted(doc):
                return
            if adapter is not None:
                self.prag.store_adapter(doc, aug, adapter)
            self._mark(doc.id, "encoded")

    def _still_wanted(self, doc) -> bool:
        """False when the document was deleted, or replaced by new text (whose job is queued again)."""
        current = self.prag.document(doc.id)
        return current is not None and current.content_hash == doc.content_hash

    def _mark(self, doc_id: str, status: str, reason: str | None = None) -> None:
        self.prag.queue.set_status(self.prag.collection, doc_id, status, reason)
        self.on_change()
