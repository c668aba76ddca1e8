"""The facade: wires stores, model, retriever, augmenter, encoder and engine for one collection.

The CLI and the server import only this module (and `evaluate`, the benchmark's wiring), `config` and `types`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable

from prag import __version__
from prag.augment import Augmenter
from prag.config import Recipe, Settings
from prag.encode import Encoder, TrainingPlan, training_schedule
from prag.engine import Engine
from prag.errors import InputError, NotBuiltError
from prag.eval import demo
from prag.progress import Progress, SilentProgress
from prag.ingest import make_document, read_files, read_questions
from prag.model import loader
from prag.lora import LoRAAdapter
from prag.model.generate import Generator
from prag.model.prompts import answer_assistant_turn, answer_user_turn
from prag.paths import model_cache, prag_home
from prag.retrieve import BM25Index
from prag.retrieve.bm25 import corpus_digest
from prag.store import db as sqlite
from prag.store.adapters import AdapterCache, AdapterStore, adapter_digest, peft_config
from prag.store.files import write_json_atomic
from prag.store.catalog import Catalog, DocumentState, EncodingQueue
from prag.store.locks import exclusive
from prag.types import CORE_MODES, Answer, Augmentation, Document, Mode, QAPair

COLLECTION_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


@dataclass
class AddReport:
    added: list[str]
    unchanged: list[str]
    notes: list[str] = field(default_factory=list)


@dataclass
class BuildReport:
    documents: int
    augmented: int
    encoded: int
    valid_pairs: list[int]
    """Valid QA pairs per newly augmented document."""


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


def parse_mode(mode: str | Mode) -> Mode:
    try:
        return Mode(mode)
    except ValueError:
        raise InputError(f"unknown mode {mode!r}; choose one of {', '.join(m.value for m in Mode)}") from None


def questions_from_file(path: str | Path) -> list[str]:
    return read_questions(Path(path))


class Prag:
    """One collection, answered by one model with one encoding recipe."""

    def __init__(
        self,
        home: str | Path | None = None,
        collection: str = "default",
        model: str = loader.DEFAULT_MODEL,
        settings: Settings = Settings(),
    ):
        if not collection or set(collection) - COLLECTION_NAME_CHARS or collection.startswith("."):
            raise InputError(f"invalid collection name {collection!r}: use letters, digits, '-', '_' and '.'")
        self.home = prag_home(home)
        self.collection = collection
        self.model_spec = model
        self.settings = settings
        self.catalog = Catalog(sqlite.connect(self.home / "prag.db"))

    # -- documents -----------------------------------------------------------------------------

    def add(self, paths: list[str | Path]) -> AddReport:
        """Adds every document of every file, or nothing if any file has a bad line."""
        if not paths:
            raise InputError("no files given")
        ingested = read_files([Path(p) for p in paths], self.settings.ingest)
        result = self.catalog.add_documents(self.collection, ingested.documents, source=",".join(map(str, paths)))
        return AddReport(result.added, result.unchanged, ingested.notes)

    def documents(self) -> list[Document]:
        return self.catalog.documents(self.collection)

    # -- build ---------------------------------------------------------------------------------

    def add_documents(self, documents: list[Document], source: str) -> AddReport:
        """Adds already-made documents (e.g. a benchmark's paragraphs) in one transaction."""
        result = self.catalog.add_documents(self.collection, documents, source=source)
        return AddReport(result.added, result.unchanged)

    def build(
        self,
        progress: Progress = SilentProgress(),
        encode: bool = True,
        augment: bool = True,
        only: Iterable[str] | None = None,
    ) -> BuildReport:
        """Indexes every document, then augments and encodes those not yet done — all of them, or only
        the ids in `only`. Safe to interrupt and rerun."""
        self.catalog.require_collection(self.collection)
        with exclusive(self._collection_dir / "build.lock", f"a build of collection {self.collection!r}"):
            documents = self.documents()
            if not documents:
                raise NotBuiltError(f"collection {self.collection!r} has no documents")
            self._build_index(documents)
            if only is not None:
                wanted = set(only)
                documents = [d for d in documents if d.id in wanted]
            valid = self._augment_missing(documents, progress) if augment or encode else []
            encoded = self._encode_missing(documents, progress) if encode else 0
        return BuildReport(len(documents), len(valid), encoded, valid)

    def _build_index(self, documents: list[Document]) -> None:
        current = self._index_dir.is_dir() and BM25Index.load(self._index_dir).digest == corpus_digest(documents)
        if not current:
            BM25Index.build(documents).save(self._index_dir)
            self.__dict__.pop("engine", None)

    def _augment_missing(self, documents: list[Document], progress: Progress) -> list[int]:
        done = self.catalog.augmented_hashes(self._augment_key)
        todo = _unique_by_hash([d for d in documents if d.content_hash not in done])
        advance = progress.stage("augment", len(todo))
        valid: list[int] = []
        if not todo:
            return valid  # nothing to do: do not load the model
        for doc, aug in Augmenter(self.generator, self.settings.augment).augment(todo):
            self.store_augmentation(doc, aug)
            valid.append(aug.valid_pairs)
            advance(1)
        return valid

    def _encode_missing(self, documents: list[Document], progress: Progress) -> int:
        todo = _unique_by_hash([d for d in documents if not self.adapter_store.has(d.content_hash)])
        advance = progress.stage("encode", len(todo))
        if not todo:
            return 0
        items = [(doc, self.catalog.get_augmentation(doc.content_hash, self._augment_key)) for doc in todo]
        encoder = Encoder(self.encoding_generator, self.settings.recipe, start=self._start_adapter())
        for i, adapter in encoder.encode_many(items):
            self.store_adapter(*items[i], adapter)
            advance(1)
        return len(todo)

    # -- answering -----------------------------------------------------------------------------

    def ask(self, question: str, mode: str | Mode = Mode.PRAG, top_k: int | None = None) -> Answer:
        return self.engine.ask(question, parse_mode(mode), top_k)

    def ask_many(
        self,
        questions: list[str],
        mode: str | Mode = Mode.PRAG,
        top_k: int | None = None,
        on_batch: Callable[[list[Answer]], None] | None = None,
    ) -> list[Answer]:
        """Answers in batches of `settings.answer.batch_size`, each batch in one generation with
        per-question adapter sets; `on_batch` sees each batch as it finishes."""
        mode = parse_mode(mode)
        if not questions:
            raise InputError("no questions given")
        size = self.settings.answer.batch_size
        answers: list[Answer] = []
        for start in range(0, len(questions), size):
            batch = self.engine.ask_many(questions[start : start + size], mode, top_k)
            answers.extend(batch)
            if on_batch:
                on_batch(batch)
        return answers

    @cached_property
    def engine(self) -> Engine:
        self.catalog.require_collection(self.collection)
        documents = self.documents()
        index = BM25Index.load(self._index_dir) if documents else None
        if index is not None and index.digest != corpus_digest(documents):
            raise NotBuiltError(f"collection {self.collection!r} changed since its last build: run `prag build`")
        cache = AdapterCache(self.adapter_store, self.settings.answer.adapter_cache_bytes)
        return Engine(
            self.generator,
            index,
            {d.id: d for d in documents},
            cache,
            self.settings.answer,
            augmentation=lambda doc: self.catalog.get_augmentation(doc.content_hash, self._augment_key),
        )

    @cached_property
    def closed_book(self) -> Engine:
        """An engine with no collection behind it, for closed-book answers."""
        cache = AdapterCache(self.adapter_store, self.settings.answer.adapter_cache_bytes)
        return Engine(self.generator, None, {}, cache, self.settings.answer)

    # -- a live collection (the HTTP service) -------------------------------------------------

    @cached_property
    def queue(self) -> EncodingQueue:
        return EncodingQueue(self.catalog.db)

    def submit(self, documents: list[Document]) -> list[DocumentState]:
        """Adds documents (all or nothing) and indexes them at once; those without an adapter for this
        model and recipe are queued for the background encoder, the others are `encoded` already."""
        self.catalog.add_documents(self.collection, documents, source="service")
        known = {d.id for d in documents if self.adapter_store.has(d.content_hash)}
        self.queue.enqueue(self.collection, sorted(known), status="encoded")
        self.queue.enqueue(self.collection, [d.id for d in documents if d.id not in known])
        self.refresh_index()
        return [self.queue.state(self.collection, d.id) for d in documents]

    def new_document(self, text: str, title: str = "", doc_id: str | None = None) -> Document:
        """A document from fields given by a client; one over the word limit is refused, not chunked,
        so that its id stays the client's."""
        doc = make_document(text, title=title, doc_id=doc_id, where=f"document {doc_id!r}" if doc_id else "document")
        words, limit = len(doc.text.split()), self.settings.ingest.max_document_words
        if words > limit:
            raise InputError(f"{doc.id!r} has {words} words; the limit is {limit}: split it into several documents")
        return doc

    def delete(self, doc_id: str) -> bool:
        """Removes a document, its index entry and — unless other documents share its content — its
        augmentations and adapter. False when there is no such document."""
        content_hash = self.catalog.delete_document(self.collection, doc_id)
        if content_hash is None:
            return False
        self._drop_unused(content_hash)
        self.refresh_index()
        return True

    def document_state(self, doc_id: str) -> DocumentState | None:
        return self.queue.state(self.collection, doc_id)

    def document_states(self, offset: int, limit: int) -> list[DocumentState]:
        return self.queue.page(self.collection, offset, limit)

    def recover(self) -> int:
        """On start: documents without a job (added by `prag add`) and jobs a crash interrupted go back to
        the queue; returns how many jobs were interrupted."""
        self.catalog.ensure_collection(self.collection)
        self.queue.enqueue_unqueued(self.collection)
        return self.queue.requeue_unfinished(self.collection)

    def refresh_index(self) -> None:
        """Re-indexes the collection and hands the answering engine the new corpus."""
        documents = self.documents()
        index = BM25Index.build(documents) if documents else None
        if index is not None:
            index.save(self._index_dir)
        if "engine" in self.__dict__:
            self.engine.replace_corpus(index, {d.id: d for d in documents})

    def document(self, doc_id: str) -> Document | None:
        return self.catalog.document(self.collection, doc_id)

    def augment_one(self, doc: Document) -> Augmentation:
        """The stored augmentation, or a new one (computed, not yet stored)."""
        stored = self.catalog.get_augmentation(doc.content_hash, self._augment_key)
        return stored or next(Augmenter(self.generator, self.settings.augment).augment([doc]))[1]

    def store_augmentation(self, doc: Document, aug: Augmentation) -> None:
        meta = self._provenance(augment_config=asdict(self.settings.augment))
        self.catalog.put_augmentation(doc.content_hash, self._augment_key, aug, meta)

    def encode_one(self, doc: Document, aug: Augmentation) -> LoRAAdapter | None:
        """A new adapter, or None when one is stored already (a restart never trains a document twice)."""
        if self.adapter_store.has(doc.content_hash):
            return None
        encoder = Encoder(self.encoding_generator, self.settings.recipe, start=self._start_adapter())
        return next(encoder.encode_many([(doc, aug)]))[1]

    def store_adapter(self, doc: Document, aug: Augmentation, adapter: LoRAAdapter) -> None:
        recipe = self.settings.recipe
        config = self._peft_config(recipe)
        meta = self._provenance(document=doc.id, recipe_config=asdict(recipe), valid_pairs=aug.valid_pairs)
        self.adapter_store.save(doc.content_hash, adapter, config, meta)

    def _drop_unused(self, content_hash: str) -> None:
        if not self.catalog.hash_in_use(content_hash):
            self.catalog.delete_augmentations(content_hash)
            self.adapter_store.delete(content_hash)

    # -- warm-up -------------------------------------------------------------------------------

    def train_warmup(self, pairs: list[QAPair], name: str, source: dict) -> str:
        """The paper's warm-up (Table 2): one LoRA trained for one epoch on question → answer pairs with
        no passages, which document adapters can then start from. Returns its digest."""
        if not pairs:
            raise InputError("no question-answer pairs to warm up on")
        recipe = replace(self.settings.recipe, init="random", warmup="", epochs=1)
        generator = self.encoding_generator
        sequences = [
            generator.training_sequence(answer_user_turn(p.question), answer_assistant_turn(p.answer), recipe.loss_on, [])
            for p in pairs
        ]
        plan = TrainingPlan(sequences, training_schedule(len(sequences), recipe))
        adapter = Encoder(generator, recipe).train([plan])[0]
        digest = adapter_digest(adapter)
        config = self._peft_config(recipe)
        meta = self._provenance(warmup=name, pairs=len(pairs), recipe_config=asdict(recipe), **source)
        self._warmups.save(digest, adapter, config, meta)
        write_json_atomic(self._warmup_pointer(name), {"digest": digest, **source})
        return digest

    def trained_warmup(self, name: str, source: dict) -> str | None:
        """The digest of the warm-up LoRA named `name` when it was trained, for this model and recipe,
        on exactly `source`'s questions and is still stored; None when it must be trained."""
        path = self._warmup_pointer(name)
        if not path.is_file():
            return None
        record = json.loads(path.read_text())
        same = all(record.get(key) == value for key, value in source.items())
        return record["digest"] if same and self._warmups.has(record["digest"]) else None

    def warmup_record(self, name: str) -> dict:
        """The digest of the warm-up LoRA named `name` for this model and recipe, and the questions it
        was trained on."""
        path = self._warmup_pointer(name)
        if not path.is_file():
            raise NotBuiltError(
                f"no warm-up LoRA named {name!r} for this model and the {self.settings.recipe.name!r} recipe: "
                "run `prag warmup` first, with the same --model and --recipe"
            )
        return json.loads(path.read_text())

    def warmup_adapter(self, name: str) -> LoRAAdapter:
        """The warm-up LoRA named `name` for this model and recipe."""
        return self._load_warmup(self.warmup_record(name)["digest"])

    def _warmup_pointer(self, name: str) -> Path:
        # Keyed by the recipe the documents will train with: a warm-up trained with another learning rate
        # or loss must not be picked up by a run of this recipe.
        documents_recipe = replace(self.settings.recipe, init="random", warmup="")
        return self._warmups.folder / f"{name}-{documents_recipe.fingerprint()}.json"

    def _start_adapter(self) -> LoRAAdapter | None:
        recipe = self.settings.recipe
        return self._load_warmup(recipe.warmup) if recipe.init == "warmup" else None

    def _load_warmup(self, digest: str) -> LoRAAdapter:
        if not self._warmups.has(digest):
            raise NotBuiltError(f"the warm-up LoRA {digest} is missing: run `prag warmup` again")
        return self._warmups.load(digest)

    def _peft_config(self, recipe: Recipe) -> dict:
        return peft_config(recipe.rank, recipe.alpha, recipe.dropout, recipe.target_modules, str(self.model_path))

    @property
    def _warmups(self) -> AdapterStore:
        return AdapterStore(self.home / "warmups", self.model_fingerprint, "lora")

    # -- status --------------------------------------------------------------------------------

    def status(self) -> Status:
        """Counts for this model and recipe; loads the model's fingerprint but not the model."""
        self.catalog.require_collection(self.collection)
        documents = self.documents()
        hashes = {d.content_hash for d in documents}
        augmented = hashes & self.catalog.augmented_hashes(self._augment_key)
        encoded = {h for h in hashes if self.adapter_store.has(h)}
        return Status(
            collection=self.collection,
            model=self.model_spec,
            recipe=self.settings.recipe.name,
            documents=len(documents),
            augmented=len(augmented),
            encoded=len(encoded),
            adapter_bytes=sum(self.adapter_store.nbytes(h) for h in encoded),
            indexed=(self._index_dir / "ids.json").is_file(),
        )

    # -- wiring --------------------------------------------------------------------------------

    @cached_property
    def model_path(self) -> Path:
        return loader.resolve(self.model_spec, model_cache(self.home))

    @cached_property
    def model_fingerprint(self) -> str:
        return loader.fingerprint(self.model_path, model_cache(self.home))

    @cached_property
    def loaded(self) -> loader.LoadedModel:
        return loader.load(self.model_spec, model_cache(self.home))

    @cached_property
    def generator(self) -> Generator:
        return Generator(self.loaded, self.settings.recipe.target_modules)

    @cached_property
    def encoding_generator(self) -> Generator:
        """The model that trains adapters: the answering model itself, or a copy in the recipe's precision."""
        if self.settings.recipe.precision == "fp32":
            return self.generator
        loaded = loader.load(self.model_spec, model_cache(self.home), self.settings.recipe.precision)
        return Generator(loaded, self.settings.recipe.target_modules)

    @cached_property
    def adapter_store(self) -> AdapterStore:
        return AdapterStore(self.home / "adapters", self.model_fingerprint, self._recipe_key)

    @property
    def _recipe_key(self) -> str:
        return self.settings.recipe.fingerprint()

    @property
    def _augment_key(self) -> str:
        return f"{self.model_fingerprint}-{self.settings.augment.fingerprint()}"

    @property
    def _collection_dir(self) -> Path:
        return self.home / "collections" / self.collection

    @property
    def _index_dir(self) -> Path:
        return self._collection_dir / "bm25"

    def _provenance(self, **extra: object) -> dict:
        return {
            "prag_version": __version__,
            "model": self.model_spec,
            "model_fingerprint": self.model_fingerprint,
            "recipe": self.settings.recipe.name,
            "recipe_hash": self._recipe_key,
            "augment_hash": self.settings.augment.fingerprint(),
            **extra,
        }


def _unique_by_hash(documents: list[Document]) -> list[Document]:
    """Two ids with the same content share one augmentation and one adapter."""
    seen: dict[str, Document] = {}
    for doc in documents:
        seen.setdefault(doc.content_hash, doc)
    return list(seen.values())


def run_demo(
    home: str | Path | None = None,
    model: str = loader.DEFAULT_MODEL,
    progress: Progress = SilentProgress(),
    settings: Settings = Settings(),
) -> list[demo.ModeScore]:
    """Builds the bundled demo collection and scores every mode on its questions."""
    prag = Prag(home, collection="demo", model=model, settings=settings)
    prag.add([demo.documents_file()])
    prag.build(progress)
    items = demo.questions()
    advance = progress.stage("answer", len(items) * len(CORE_MODES))
    return demo.score_modes(prag.ask, items, list(CORE_MODES), on_answer=lambda: advance(1))
