"""The facade: one collection, answered by one model with one encoding recipe.

The CLI and the server import this module, `config` and `types`; it wires the catalogue, the model
(`runtime`), the build steps (`build`) and the answering engine together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from prag.build import Builder, BuildReport
from prag.config import Budget, ClusterConfig, Settings
from prag.engine import Engine
from prag.errors import DamagedError, InputError, NotBuiltError, StateError
from prag.ingest import client_document, read_files
from prag.model.loader import DEFAULT_MODEL
from prag.paths import prag_home
from prag.progress import Progress, SilentProgress
from prag.retrieve import BM25Index
from prag.retrieve.bm25 import corpus_digest
from prag.runtime import Runtime
from prag.store import db as sqlite
from prag.store.adapters import AdapterCache
from prag.store.catalog import Catalog
from prag.store.demand import RECENT_DAYS, PendingDemand
from prag.store.queue import EncodingJob
from prag.types import Answer, Document, JobState, Mode

__all__ = ["AddReport", "BuildReport", "Builder", "EncodingJob", "Prag", "Status"]

COLLECTION_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
MAX_COLLECTION_NAME_CHARS = 128
"""A name is a folder name (`collections/<name>`), and temporary siblings add a prefix and suffix to it:
half of the 255 bytes a file name may have leaves them room. Names are ASCII, so characters are bytes."""


@dataclass
class AddReport:
    added: list[str]
    unchanged: list[str]
    notes: list[str] = field(default_factory=list)


@dataclass
class Status:
    collection: str
    model: str
    recipe: str
    documents: int
    augmented: int
    encoded: int
    adapter_bytes: int
    indexed: bool
    damaged: list[str] = field(default_factory=list)
    """One line per damaged stored file (the index, an adapter), which counts as missing: the next
    `prag build` writes it again."""
    recent_days: int = RECENT_DAYS
    recent_retrievals: int = 0
    """Retrievals of the collection's documents in the last `recent_days` days (ask, the service, eval)."""
    recent_encoded: int = 0
    """How many of those retrieved a document that has an adapter now: the share P-RAG can serve."""
    augment_model: str = ""
    """The model that writes augmentations (the answering model unless `--augment-model` says)."""
    augment_questions: str = "example"
    """How its QA pairs are asked for (`AugmentConfig.questions`)."""
    merge: str = ""
    """How answers combine the retrieved adapters (`AnswerConfig.merge_label`)."""
    answering: str = ""
    """How answers are asked for: prompt, how the answer is drawn from it, retrieval (`AnswerConfig.label`)."""

    @property
    def recent_coverage(self) -> float | None:
        return self.recent_encoded / self.recent_retrievals if self.recent_retrievals else None


class Prag:
    def __init__(self, home: str | Path | None = None, collection: str = "default", model: str = DEFAULT_MODEL, settings: Settings | None = None):
        _check_collection_name(collection)
        settings = settings or Settings.for_model(model)  # without settings: the model's own recipe
        self.home, self.collection, self.model_spec, self.settings = prag_home(home), collection, model, settings
        self.catalog = Catalog(sqlite.connect(self.home / "prag.db"))
        self.runtime = Runtime(self.home, model, settings)
        self.builder = Builder(self.runtime, self.catalog, collection, self.home / "collections" / collection)
        self.pending_demand = PendingDemand()
        """Retrievals counted by answers and not yet written (`flush_demand`)."""
        self._engine: Engine | None = None

    # Documents.

    def add(self, paths: list[str | Path]) -> AddReport:
        """Adds every document of every file, or nothing if any file has a bad line."""
        if not paths:
            raise InputError("no files given")
        self.require_writable()
        ingested = read_files([Path(p) for p in paths], self.settings.ingest)
        source = ",".join(map(str, paths))
        result = self.catalog.add_documents(self.collection, ingested.documents, source, ingested.chunk_of)
        removed = ", ".join(map(repr, result.removed))
        notes = ingested.notes + ([f"removed {removed}: earlier pieces of documents added again"] if removed else [])
        return AddReport(result.added, result.unchanged, notes)

    def add_documents(self, documents: list[Document], source: str) -> AddReport:
        """Adds already-made documents (e.g. a benchmark's paragraphs) in one transaction."""
        self.require_writable()
        result = self.catalog.add_documents(self.collection, documents, source=source)
        return AddReport(result.added, result.unchanged)

    def documents(self) -> list[Document]:
        return self.catalog.documents(self.collection)

    def build(
        self, progress: Progress = SilentProgress(), encode: bool = True, augment: bool = True, only=None,
        cluster: ClusterConfig | None = None, budget: Budget | None = None, questions: list[str] | None = None,
    ) -> BuildReport:
        """Indexes, then augments and encodes every document not yet done (or only the ids in `only`, or
        within a `budget` the most demanded, by recorded retrievals or by a query log's `questions`), in
        this process or, given a `cluster`, on Ray workers (this process still stores everything)."""
        self.require_writable()
        if questions is not None and budget is None:
            raise InputError("a query log chooses documents for a budget: give --budget too")
        if cluster is None:
            report = self.builder.build(progress, encode, augment, only, budget=budget, questions=questions)
        else:
            from prag.cluster import ray_workers  # Ray is imported only by a build that asks for it

            with ray_workers(cluster, self.runtime) as workers:
                report = self.builder.build(progress, encode, augment, only, workers, budget, questions)
        if report.reindexed:
            self._engine = None
        return report

    def status(self) -> Status:
        """Counts for this model and recipe; loads the model's fingerprint but not the model."""
        self.catalog.require_collection(self.collection)
        documents, store = self.documents(), self.runtime.adapter_store
        hashes = {d.content_hash for d in documents}  # documents of equal content share their adapter
        augmented = hashes & self.catalog.augmented_hashes(self.runtime.augment_key)
        encoded = {h for h in hashes if store.has(h)}
        index, index_damage = self.builder.stored_index()
        damaged = ([index_damage] if index_damage else []) + self.builder.damaged_adapters(documents)
        hash_of = {d.id: d.content_hash for d in documents}
        recent = {i: n for i, n in self.builder.demand.totals(self.collection, RECENT_DAYS).items() if i in hash_of}
        return Status(
            self.collection, self.model_spec, self.settings.recipe.name, len(documents), len(augmented), len(encoded),
            sum(store.nbytes(h) for h in encoded), index is not None, damaged,
            RECENT_DAYS, sum(recent.values()), sum(n for i, n in recent.items() if hash_of[i] in encoded),
            augment_model=self.runtime.augment_model_spec, augment_questions=self.settings.augment.questions,
            merge=self.settings.answer.merge_label, answering=self.settings.answer.label,
        )

    # Answers.

    def ask(self, question: str, mode: str | Mode = Mode.PRAG, top_k: int | None = None) -> Answer:
        answer = self.engine.ask(question, Mode.parse(mode), top_k)
        self.note_retrievals([answer])
        self.flush_demand()
        return answer

    def ask_many(self, questions: list[str], mode=Mode.PRAG, top_k=None, on_batch: Callable | None = None) -> list[Answer]:
        """Answers in batches of `settings.answer.batch_size` (`short_batch_size` when prompts never hold
        passages), each in one generation with per-question adapter sets; `on_batch` sees each batch as it finishes."""
        mode = Mode.parse(mode)
        if not questions:
            raise InputError("no questions given")
        answer = self.settings.answer
        size = answer.short_batch_size if mode.never_has_passages else answer.batch_size
        answers = []
        for start in range(0, len(questions), size):
            answers.extend(batch := self.engine.ask_many(questions[start : start + size], mode, top_k))
            self.note_retrievals(batch)
            if on_batch:
                on_batch(batch)
        self.flush_demand()
        return answers

    def retrieve(self, question: str, top_k: int | None = None) -> list[Document]:
        """The top-k documents for a question, counted as demand like an answer's (flushed by the caller)."""
        documents = self.engine.retrieve(question, self.settings.answer.top_k if top_k is None else top_k)
        self.pending_demand.note(d.id for d in documents)
        return documents

    # Demand: what is retrieved is what the service's queue and `build --budget` encode first.

    def note_retrievals(self, answers: list[Answer]) -> None:
        """Counts the documents the answers retrieved, in memory only: answering never waits on the database."""
        self.pending_demand.note(doc_id for answer in answers for doc_id in answer.documents)

    def flush_demand(self) -> None:
        """Writes the retrievals counted so far; a read-only home answers without keeping them."""
        counts = self.pending_demand.take()
        if not counts:
            return
        try:
            self.require_writable()
        except StateError:
            return
        self.builder.demand.add(self.collection, counts)

    @property
    def engine(self) -> Engine:
        """The answering engine over the collection as last indexed (closed-book when it has no documents)."""
        if self._engine is None:
            self.catalog.require_collection(self.collection)
            documents = self.documents()
            index = self._built_index() if documents else None
            if index is not None and index.digest != corpus_digest(documents):
                raise NotBuiltError(f"collection {self.collection!r} changed since its last build: run `prag build`")
            self._engine = self._new_engine(index, documents)
        return self._engine

    def _built_index(self) -> BM25Index:
        try:
            return BM25Index.load(self.builder.index_dir)
        except DamagedError as e:
            raise DamagedError(f"{e}: run `prag build` to rebuild it") from None

    def closed_book(self) -> Engine:
        """An engine with no collection behind it, for closed-book answers."""
        return self._new_engine(None, [])

    def require_writable(self) -> None:
        """Refuses, saying why, to change a collection whose home this process cannot write."""
        sqlite.require_writable(self.catalog.db)

    def _new_engine(self, index: BM25Index | None, documents: list[Document]) -> Engine:
        cache = AdapterCache(self.runtime.adapter_store, self.settings.answer.adapter_cache_bytes)
        corpus = {d.id: d for d in documents}
        start_once = any(merge.start_once for merge in self.settings.answer.merges)
        start = self.runtime.start_adapter() if start_once else None
        if start_once and start is None:
            raise InputError("--merge +start-once counts a warm-up start once: it needs adapters that start from one (--init warmup)")
        return Engine(self.runtime.generator, index, corpus, cache, self.settings.answer, self.builder.augmentation, start)

    # A live collection (the HTTP service).

    def new_document(self, text: str, title: str = "", doc_id: str | None = None) -> Document:
        """A client's document, refused (not chunked) over the word limit, so that its id stays the client's."""
        return client_document(text, title, doc_id, self.settings.ingest)

    def submit(self, documents: list[Document]) -> list[EncodingJob]:
        """Adds documents (all or nothing) and indexes them at once; those without an adapter for this
        model and recipe are queued for the background encoder, the others are `encoded` already."""
        self.require_writable()
        self.catalog.add_documents(self.collection, documents, source="service")
        known = {d.id for d in documents if self.runtime.adapter_store.has(d.content_hash)}
        self.builder.queue.enqueue(self.collection, sorted(known), JobState.ENCODED)
        self.builder.queue.enqueue(self.collection, [d.id for d in documents if d.id not in known])
        self.refresh_index()
        return [self.job(d.id) for d in documents]

    def delete(self, doc_id: str) -> bool:
        """Removes a document, its index entry and — unless other documents share its content — its
        augmentations and adapter. False when there is no such document."""
        self.require_writable()
        content_hash = self.catalog.delete_document(self.collection, doc_id)
        if content_hash is None:
            return False
        self.builder.demand.forget(self.collection, doc_id)
        self.builder.drop_unused(content_hash)
        self.refresh_index()
        return True

    def encode_on(self, cluster: ClusterConfig) -> Callable[[], None]:
        """Sends the background encoder's work (a document per worker at a time) to Ray workers, started now;
        returns what stops them. Answering stays in this process."""
        from prag.cluster import RayWorkers  # Ray is imported only by a service that asks for it

        workers = RayWorkers(cluster, self.runtime)
        try:
            workers.start()
        except BaseException:
            workers.close()
            raise
        self.builder.workers = workers
        return workers.close

    def job(self, doc_id: str) -> EncodingJob | None:
        return self.builder.queue.job(self.collection, doc_id)

    def jobs(self, offset: int, limit: int) -> list[EncodingJob]:
        return self.builder.queue.page(self.collection, offset, limit)

    def job_counts(self) -> dict[JobState, int]:
        return self.builder.queue.counts(self.collection)

    def refresh_index(self) -> None:
        """Re-indexes the collection and hands the answering engine the new corpus."""
        index, documents = self.builder.reindex()
        if self._engine is not None:
            self._engine.replace_corpus(index, {d.id: d for d in documents})


def _check_collection_name(name: str) -> None:
    if not name or set(name) - COLLECTION_NAME_CHARS or name.startswith("."):
        raise InputError(f"invalid collection name {name!r}: use letters, digits, '-', '_' and '.'")
    if len(name) > MAX_COLLECTION_NAME_CHARS:
        raise InputError(f"collection name {name[:20]}… has {len(name)} characters; the limit is {MAX_COLLECTION_NAME_CHARS}")
