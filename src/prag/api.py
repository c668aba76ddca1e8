"""The facade: wires stores, model, retriever, augmenter, encoder and engine for one collection.

The CLI and (later) the server import only this module, `config` and `types`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, Protocol

from prag import __version__
from prag.augment import Augmenter
from prag.config import Settings
from prag.encode import Encoder
from prag.engine import Engine
from prag.errors import InputError, NotBuiltError
from prag.eval import demo
from prag.ingest import read_files, read_questions
from prag.model import loader
from prag.model.generate import Generator
from prag.paths import model_cache, prag_home
from prag.retrieve import BM25Index
from prag.retrieve.bm25 import corpus_digest
from prag.store import db as sqlite
from prag.store.adapters import AdapterCache, AdapterStore, peft_config
from prag.store.catalog import Catalog
from prag.store.locks import exclusive
from prag.types import Answer, Document, Mode

COLLECTION_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


class Progress(Protocol):
    """Receives build progress; the CLI shows it as rich progress bars."""

    def stage(self, name: str, total: int) -> Callable[[int], None]: ...


class _Silent:
    def stage(self, name: str, total: int) -> Callable[[int], None]:
        return lambda n=1: None


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

    def build(self, progress: Progress = _Silent(), encode: bool = True) -> BuildReport:
        """Indexes, then augments and encodes every document not yet done; safe to interrupt and rerun."""
        self.catalog.require_collection(self.collection)
        with exclusive(self._collection_dir / "build.lock", f"a build of collection {self.collection!r}"):
            documents = self.documents()
            if not documents:
                raise NotBuiltError(f"collection {self.collection!r} has no documents")
            self._build_index(documents)
            valid = self._augment_missing(documents, progress)
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
            meta = self._provenance(augment_config=asdict(self.settings.augment))
            self.catalog.put_augmentation(doc.content_hash, self._augment_key, aug, meta)
            valid.append(aug.valid_pairs)
            advance(1)
        return valid

    def _encode_missing(self, documents: list[Document], progress: Progress) -> int:
        todo = _unique_by_hash([d for d in documents if not self.adapter_store.has(d.content_hash)])
        advance = progress.stage("encode", len(todo))
        if not todo:
            return 0
        recipe = self.settings.recipe
        config = peft_config(recipe.rank, recipe.alpha, recipe.dropout, recipe.target_modules, str(self.model_path))
        items = [(doc, self.catalog.get_augmentation(doc.content_hash, self._augment_key)) for doc in todo]
        for i, adapter in Encoder(self.encoding_generator, recipe).encode_many(items):
            doc, aug = items[i]
            meta = self._provenance(document=doc.id, recipe_config=asdict(recipe), valid_pairs=aug.valid_pairs)
            self.adapter_store.save(doc.content_hash, adapter, config, meta)
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
        index = BM25Index.load(self._index_dir)
        if index.digest != corpus_digest(documents):
            raise NotBuiltError(f"collection {self.collection!r} changed since its last build: run `prag build`")
        cache = AdapterCache(self.adapter_store, self.settings.answer.adapter_cache_bytes)
        return Engine(self.generator, index, {d.id: d for d in documents}, cache, self.settings.answer)

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
    progress: Progress = _Silent(),
    settings: Settings = Settings(),
) -> list[demo.ModeScore]:
    """Builds the bundled demo collection and scores every mode on its questions."""
    prag = Prag(home, collection="demo", model=model, settings=settings)
    prag.add([demo.documents_file()])
    prag.build(progress)
    items = demo.questions()
    advance = progress.stage("answer", len(items) * len(Mode))
    return demo.score_modes(prag.ask, items, list(Mode), on_answer=lambda: advance(1))
