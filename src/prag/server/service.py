"""The service behind the routes: one collection, the model gate, the encoder thread, the ask batcher."""

from __future__ import annotations

import asyncio
import threading
from contextlib import suppress

from prag.api import EncodingJob, Prag
from prag.config import ClusterConfig, ServiceConfig
from prag.errors import InputError
from prag.server.batcher import AskBatcher
from prag.server.gate import ModelGate
from prag.server.metrics import Metrics
from prag.server.worker import EncodingWorker
from prag.types import Answer, Document, JobState, Mode


class Service:
    def __init__(self, prag: Prag, token: str | None = None, cluster: ClusterConfig | None = None):
        """With a `cluster`, background encoding runs on its Ray workers (started here, so a cluster that
        cannot serve is refused at once) and no longer takes turns with answering for the model."""
        prag.require_writable()  # the service queues, encodes and indexes as it runs
        self.prag = prag
        self.config: ServiceConfig = prag.settings.service
        self.token = token
        self.gate = ModelGate()
        self.lock = threading.RLock()
        """Serialises every use of the catalogue and index by request handlers and the encoder thread."""
        self.metrics = Metrics(self.counts)
        self._stop_cluster = prag.encode_on(cluster) if cluster is not None else None
        # Encoding elsewhere needs no turn at this process's model: the encoder then has a gate of its own.
        encoder_gate = self.gate if cluster is None else ModelGate()
        self.worker = EncodingWorker(prag.builder, encoder_gate, self.lock, between_jobs=prag.flush_demand)
        self.batcher = AskBatcher(self._answer_many, prag.settings.answer.batch_size, self.config.batch_window_s)
        self._batcher_task: asyncio.Task | None = None

    async def start(self) -> None:
        """Loads the model, re-queues interrupted work, indexes, then starts the encoder and the batcher."""
        await asyncio.to_thread(self._prepare)
        self.worker.start()
        self._batcher_task = asyncio.create_task(self.batcher.run())

    def _prepare(self) -> None:
        with self.lock:
            self.prag.builder.recover()
            self.prag.refresh_index()
            self.prag.engine.preload()  # built here, not by the first question

    async def stop(self) -> None:
        self.worker.stop()
        # The encoder finishes the unit it holds (one document's augmentation or training) before it
        # sees the stop; waiting for it keeps the model from training after the app has shut down.
        await asyncio.to_thread(self.worker.join, 120)
        with self.lock:
            self.prag.flush_demand()  # what the encoder thread had not written yet
        if self._stop_cluster is not None:
            self._stop_cluster()
        if self._batcher_task:
            self._batcher_task.cancel()
            with suppress(asyncio.CancelledError):
                await self._batcher_task

    # Documents.

    def add(self, documents: list[Document]) -> list[EncodingJob]:
        ids = [d.id for d in documents]
        if len(set(ids)) != len(ids):
            raise InputError("document ids repeat within the request")
        with self.lock:
            jobs = self.prag.submit(documents)
        self.worker.wake.set()
        return jobs

    def job(self, doc_id: str) -> EncodingJob | None:
        with self.lock:
            return self.prag.job(doc_id)

    def page(self, offset: int, limit: int) -> tuple[list[EncodingJob], dict[JobState, int]]:
        with self.lock:
            return self.prag.jobs(offset, limit), self.prag.job_counts()

    def delete(self, doc_id: str) -> bool:
        with self.lock:
            return self.prag.delete(doc_id)

    def counts(self) -> dict[JobState, int]:
        with self.lock:
            return self.prag.job_counts()

    # Answers.

    async def ask(self, question: str, mode: Mode, top_k: int) -> Answer:
        return await self.batcher.ask(question, mode, top_k)

    def _answer_many(self, questions: list[str], mode: Mode, top_k: int) -> list[Answer]:
        with self.gate.answering():
            answers = self.prag.engine.ask_many(questions, mode, top_k)
        self.prag.note_retrievals(answers)  # in memory; the encoder thread writes them between jobs
        self.metrics.batch.observe(len(questions))
        return answers
