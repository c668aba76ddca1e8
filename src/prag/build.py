"""Building a collection: its BM25 index, then each document's augmentation (the paper's D_i) and
adapter. `prag build` runs the whole collection in batches; the service's background encoder runs the
same steps one queued document at a time. Everything stored is keyed by content, so a rerun or a
restart redoes nothing that finished. Stored state found damaged (an adapter or the index whose files
are not those written) counts as missing, so the same steps write it again."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Protocol

from prag.augment import Augmenter
from prag.config import Budget
from prag.encode import Encoder
from prag.errors import DamagedError, EncodingError, NotBuiltError
from prag.lora import LoRAAdapter
from prag.progress import Progress, SilentProgress
from prag.retrieve import BM25Index
from prag.retrieve.bm25 import corpus_digest
from prag.retrieve.retriever import Retriever
from prag.runtime import Runtime
from prag.store.catalog import Catalog
from prag.store.demand import DemandLog
from prag.store.locks import exclusive
from prag.store.queue import EncodingQueue
from prag.types import Augmentation, Document, JobState

log = logging.getLogger("prag.build")


@dataclass
class BuildReport:
    documents: int
    augmented: int
    encoded: int
    valid_pairs: list[int]
    """Valid QA pairs per newly augmented document."""
    failed: dict[str, str] = field(default_factory=dict)
    """Document id -> why no adapter was stored (e.g. training diverged); the next build tries again."""
    reindexed: bool = False
    """The BM25 index was rebuilt: an engine holding the old one is stale."""
    repaired: list[str] = field(default_factory=list)
    """One line per piece of damaged state this build found and wrote again (the index, an adapter)."""
    chosen: list[str] | None = None
    """With a budget: the ids it chose to encode, most demanded first (fewer than the budget when fewer
    documents not yet encoded were ever retrieved)."""


class Workers(Protocol):
    """Where augmentation and encoding compute: this process (`LocalWorkers`), or a cluster's workers
    (`prag.cluster`). Results come back here, to the one process that stores them."""

    parallel: int
    """How many batches compute at once: the service's encoder takes this many documents at a time."""

    def augment(self, documents: list[Document], apart: bool = False) -> Iterator[tuple[Document, Augmentation]]:
        """Each document with its new augmentation, a batch at a time, in any order; `apart`: each
        document a batch of its own, so that parallel workers take them at once."""
        ...

    def encode(self, items: list[tuple[Document, Augmentation]], apart: bool = False) -> Iterator[tuple[int, LoRAAdapter]]:
        """(index into `items`, adapter), a batch at a time, in any order; `apart` as for `augment`."""
        ...


class LocalWorkers:
    """The model in this process, loaded on first use: one batch at a time."""

    parallel = 1

    def __init__(self, runtime: Runtime):
        self.runtime = runtime

    def augment(self, documents: list[Document], apart: bool = False) -> Iterator[tuple[Document, Augmentation]]:
        augmenter = Augmenter(self.runtime.augment_generator, self.runtime.augment)
        if not apart:
            return augmenter.augment(documents)
        return (pair for doc in documents for pair in augmenter.augment([doc]))

    def encode(self, items: list[tuple[Document, Augmentation]], apart: bool = False) -> Iterator[tuple[int, LoRAAdapter]]:
        runtime = self.runtime
        encoder = Encoder(runtime.encoding_generator, runtime.settings.recipe, start=runtime.start_adapter())
        if not apart:
            return encoder.encode_many(items)
        return ((i, next(encoder.encode_many([item]))[1]) for i, item in enumerate(items))


class Builder:
    def __init__(self, runtime: Runtime, catalog: Catalog, collection: str, folder: Path):
        self.runtime = runtime
        self.catalog = catalog
        self.collection = collection
        self.index_dir = folder / "bm25"
        self.lock_path = folder / "build.lock"
        self.queue = EncodingQueue(catalog.db)
        self.demand = DemandLog(catalog.db)
        self.workers: Workers = LocalWorkers(runtime)
        """Where the service's one-document steps compute; `build` may be given others."""

    # The whole collection (`prag build`).

    def build(
        self,
        progress: Progress = SilentProgress(),
        encode: bool = True,
        augment: bool = True,
        only: Iterable[str] | None = None,
        workers: Workers | None = None,
        budget: Budget | None = None,
        questions: list[str] | None = None,
    ) -> BuildReport:
        """Indexes every document, then augments and encodes those not yet done — all of them, only the
        ids in `only`, or within a `budget` the most demanded: by the recorded retrievals, or by what
        `questions` (a query log) retrieve — on `workers` (default: this process). Safe to interrupt and rerun."""
        workers = workers or self.workers
        self.catalog.require_collection(self.collection)
        with exclusive(self.lock_path, f"a build of collection {self.collection!r}"):
            collection = documents = self.catalog.documents(self.collection)
            if not documents:
                raise NotBuiltError(f"collection {self.collection!r} has no documents")
            reindexed, index_damage = self._index_if_stale(documents)
            if only is not None:
                wanted = set(only)
                documents = [d for d in documents if d.id in wanted]
            chosen, collection_size = None, len(documents)
            if budget is not None:
                documents = self._most_demanded(documents, budget, questions, collection)
                chosen = [d.id for d in documents]
            valid = self._augment_missing(documents, progress, workers) if augment or encode else []
            repaired = [index_damage] if index_damage else []
            if encode:
                repaired += self.damaged_adapters(documents)  # found before encoding replaces them
            encoded, failed = self._encode_missing(documents, progress, workers) if encode else (0, {})
        total = len(documents) if chosen is None else collection_size
        return BuildReport(total, len(valid), encoded, valid, failed, reindexed, repaired, chosen)

    def _most_demanded(self, documents: list[Document], budget: Budget, questions: list[str] | None, collection: list[Document]) -> list[Document]:
        counts = self.demand.totals(self.collection) if questions is None else self._retrieved_by(questions, collection)
        if not counts:
            raise NotBuiltError(
                f"collection {self.collection!r} has no recorded retrievals to budget by: ask questions first, or give --by-log FILE"
            )
        store = self.runtime.adapter_store
        return most_demanded(documents, counts, lambda d: store.has(d.content_hash), budget.size(len(documents)))

    def _retrieved_by(self, questions: list[str], collection: list[Document]) -> Counter[str]:
        """How often each document of the collection (all of it, whatever `only` picks) is in the top-k of a
        question of the log (retrieval only, no answers)."""
        answer = self.runtime.settings.answer
        retriever = Retriever(BM25Index.load(self.index_dir), {d.id: d for d in collection}, answer.retrieval)
        return Counter(doc_id for question in questions for doc_id, _ in retriever.search(question, answer.top_k))

    def _index_if_stale(self, documents: list[Document]) -> tuple[bool, str | None]:
        """Rebuilds the index unless it is readable and of these documents; returns whether it did, and
        what was wrong with the old one when it was damaged."""
        index, damage = self.stored_index()
        if index is not None and index.digest == corpus_digest(documents):
            return False, None
        BM25Index.build(documents).save(self.index_dir)
        return True, damage

    def stored_index(self) -> tuple[BM25Index | None, str | None]:
        """The stored index; or None, with what was wrong with it when it is damaged (None when there is none)."""
        try:
            return BM25Index.load(self.index_dir), None
        except DamagedError as e:
            return None, str(e)
        except NotBuiltError:
            return None, None

    def damaged_adapters(self, documents: list[Document]) -> list[str]:
        """One line per document whose stored adapter is damaged, naming it and what is wrong."""
        store = self.runtime.adapter_store
        found = [(doc, store.damage(doc.content_hash)) for doc in unique_by_hash(documents)]
        return [f"document {doc.id!r}: {damage}" for doc, damage in found if damage]

    def _augment_missing(self, documents: list[Document], progress: Progress, workers: Workers) -> list[int]:
        done = self.catalog.augmented_hashes(self.runtime.augment_key)
        todo = unique_by_hash([d for d in documents if d.content_hash not in done])
        advance = progress.stage("augment", len(todo))
        valid: list[int] = []
        if not todo:
            return valid  # nothing to do: do not load the model
        # A batch's documents finish together, after minutes of generation: counting each as it is
        # stored would time that whole batch against its first document and print an ETA many times
        # too long, so the count advances a batch at a time.
        batch, pending = self.runtime.augment.batch_size, 0
        for doc, aug in workers.augment(todo):
            self.store_augmentation(doc, aug)
            valid.append(aug.valid_pairs)
            pending += 1
            if pending == batch or len(valid) == len(todo):
                advance(pending)
                pending = 0
        return valid

    def _encode_missing(self, documents: list[Document], progress: Progress, workers: Workers) -> tuple[int, dict[str, str]]:
        todo = unique_by_hash([d for d in documents if not self.runtime.adapter_store.has(d.content_hash)])
        advance = progress.stage("encode", len(todo))
        failed: dict[str, str] = {}
        if not todo:
            return 0, failed
        items = [(doc, self.augmentation(doc)) for doc in todo]
        for i, adapter in workers.encode(items):
            try:
                self.store_adapter(*items[i], adapter)
            except EncodingError as e:
                failed[items[i][0].id] = str(e)
            advance(1)
        return len(todo) - len(failed), failed

    # A few documents at a time, each apart (the service's background encoder).

    def augment_jobs(self, docs: list[Document]) -> list[Augmentation]:
        """Each document's stored augmentation, or a new one (computed, not yet stored)."""
        found = {doc.id: self.augmentation(doc) for doc in docs}
        todo = [doc for doc in docs if found[doc.id] is None]
        if todo:
            found.update((doc.id, aug) for doc, aug in self.workers.augment(todo, apart=True))
        return [found[doc.id] for doc in docs]

    def encode_jobs(self, items: list[tuple[Document, Augmentation]]) -> list[LoRAAdapter | None]:
        """Each document's new adapter, or None when one is stored already (a restart never trains a
        document twice)."""
        todo = [i for i, (doc, _) in enumerate(items) if not self.runtime.adapter_store.has(doc.content_hash)]
        adapters: list[LoRAAdapter | None] = [None] * len(items)
        if todo:
            for j, adapter in self.workers.encode([items[i] for i in todo], apart=True):
                adapters[todo[j]] = adapter
        return adapters

    def recover(self) -> int:
        """On a service's start: documents without a job (added by `prag add`), jobs a crash interrupted,
        and `encoded` documents whose adapter is damaged or gone go back to the queue; returns how many
        jobs were interrupted."""
        self.catalog.ensure_collection(self.collection)
        self.queue.enqueue_unqueued(self.collection)
        self._requeue_lost_adapters()
        return self.queue.requeue_unfinished(self.collection)

    def _requeue_lost_adapters(self) -> None:
        encoded = set(self.queue.ids(self.collection, JobState.ENCODED))
        store = self.runtime.adapter_store
        for doc in self.catalog.documents(self.collection):
            if doc.id in encoded and not store.has(doc.content_hash):
                reason = store.damage(doc.content_hash) or "its adapter is missing"
                log.warning("document %r is queued to be encoded again: %s", doc.id, reason)
                self.mark(doc.id, JobState.QUEUED, reason)

    def reindex(self) -> tuple[BM25Index | None, list[Document]]:
        """Indexes the collection as it is now (a live collection changes under the service)."""
        documents = self.catalog.documents(self.collection)
        index = BM25Index.build(documents) if documents else None
        if index is not None:
            index.save(self.index_dir)
        return index, documents

    def next_jobs(self, limit: int) -> list[Document]:
        """Up to `limit` queued documents, the most retrieved (then the oldest) first, marked `augmenting`."""
        found = [self.catalog.document(self.collection, i) for i in self.queue.queued_first(self.collection, limit)]
        docs = [doc for doc in found if doc is not None]
        for doc in docs:
            self.mark(doc.id, JobState.AUGMENTING)
        return docs

    def mark(self, doc_id: str, status: JobState, reason: str | None = None) -> None:
        self.queue.set_status(self.collection, doc_id, status, reason)

    def still_current(self, doc: Document) -> bool:
        """False when the document was deleted, or replaced by new text (whose job is queued again)."""
        current = self.catalog.document(self.collection, doc.id)
        return current is not None and current.content_hash == doc.content_hash

    # Shared by both.

    def augmentation(self, doc: Document) -> Augmentation | None:
        return self.catalog.get_augmentation(doc.content_hash, self.runtime.augment_key)

    def store_augmentation(self, doc: Document, aug: Augmentation) -> None:
        meta = self.runtime.provenance(augment_config=asdict(self.runtime.augment))
        self.catalog.put_augmentation(doc.content_hash, self.runtime.augment_key, aug, meta)

    def store_adapter(self, doc: Document, aug: Augmentation, adapter: LoRAAdapter) -> None:
        """Raises EncodingError, storing nothing, when the adapter has non-finite values."""
        recipe = self.runtime.settings.recipe
        meta = self.runtime.adapter_meta(recipe, document=doc.id, valid_pairs=aug.valid_pairs)
        self.runtime.adapter_store.save(doc.content_hash, adapter, self.runtime.peft_config(recipe), meta)

    def drop_unused(self, content_hash: str) -> None:
        """Deletes an augmentation and adapter no document, in any collection, is made of any more."""
        if not self.catalog.hash_in_use(content_hash):
            self.catalog.delete_augmentations(content_hash)
            self.runtime.adapter_store.delete(content_hash)


def most_demanded(
    documents: list[Document], counts: Mapping[str, int], encoded: Callable[[Document], bool], budget: int
) -> list[Document]:
    """The `budget` documents not yet encoded that were retrieved most often (ties: the oldest first);
    documents never retrieved are not chosen, and two ids of one content count as one document."""
    order = {doc.id: i for i, doc in enumerate(documents)}
    wanted = [d for d in documents if counts.get(d.id, 0) > 0 and not encoded(d)]
    wanted.sort(key=lambda d: (-counts[d.id], order[d.id]))
    return unique_by_hash(wanted)[:budget]


def unique_by_hash(documents: list[Document]) -> list[Document]:
    """Two ids with the same content share one augmentation and one adapter."""
    seen: dict[str, Document] = {}
    for doc in documents:
        seen.setdefault(doc.content_hash, doc)
    return list(seen.values())
