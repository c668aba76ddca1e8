"""Retrieve, Update, Generate — for every mode, with per-stage timings."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator

from prag.config import AnswerConfig
from prag.errors import InputError, NotBuiltError
from prag.lora import LoRAAdapter, factors_for_batch
from prag.lora.layer import Factors
from prag.model.generate import Generator
from prag.model.prompts import ANSWER_PREFIX, answer_user_turn
from prag.retrieve import BM25Index
from prag.store.adapters import AdapterCache
from prag.types import Answer, Document, Mode

MAX_QUESTION_CHARS = 2000


class Engine:
    def __init__(
        self,
        generator: Generator,
        index: BM25Index | None,
        documents: dict[str, Document],
        adapters: AdapterCache,
        config: AnswerConfig,
    ):
        self.generator = generator
        self.index = index
        self.documents = documents
        self.adapters = adapters
        self.config = config

    def ask(self, question: str, mode: Mode, top_k: int | None = None) -> Answer:
        return self.ask_many([question], mode, top_k)[0]

    def ask_many(self, questions: list[str], mode: Mode, top_k: int | None = None) -> list[Answer]:
        """Answers a batch in one generation: each question retrieves its own documents and, when the
        mode injects adapters, runs with its own adapter set in the same forward passes. Every answer
        carries the batch's stage timings (the time its caller waited)."""
        questions = [validate_question(q) for q in questions]
        if not questions:
            raise InputError("no questions given")
        top_k = self.config.top_k if top_k is None else top_k
        if top_k < 1:
            raise InputError(f"top_k must be at least 1, got {top_k}")
        timings: dict[str, float] = {}
        with _timed(timings, "total"):
            with _timed(timings, "retrieve"):
                hits = [self.retrieve(q, top_k) if mode.retrieves else [] for q in questions]
            with _timed(timings, "load"):
                adapter_sets = [self.load_adapters(docs) for docs in hits] if mode.uses_adapters else []
            with _timed(timings, "merge"):
                factors = factors_for_batch(adapter_sets) if adapter_sets else None
            with _timed(timings, "generate"):
                passages = [[doc.passage for doc in docs] if mode.uses_passages else None for docs in hits]
                texts = self._generate(questions, passages, factors)
        return [
            Answer(q, text, mode, [doc.id for doc in docs], dict(timings), len(questions))
            for q, text, docs in zip(questions, texts, hits)
        ]

    def retrieve(self, question: str, top_k: int) -> list[Document]:
        """Retrieve: the top-k documents by BM25, in rank order."""
        if self.index is None:
            raise NotBuiltError("the collection has no BM25 index: run `prag build`")
        return [self.documents[doc_id] for doc_id, _ in self.index.search(question, top_k)]

    def preload(self) -> int:
        """Reads every encoded document's adapter into memory (up to the cache's bound), so that no
        question waits on the disk; returns how many are resident."""
        hashes = {doc.content_hash for doc in self.documents.values() if self.adapters.store.has(doc.content_hash)}
        for content_hash in sorted(hashes):
            self.adapters.get(content_hash)
        return len(self.adapters)

    def load_adapters(self, documents: list[Document]) -> list[LoRAAdapter]:
        """The documents' adapters, from memory when cached."""
        return [self._adapter(doc) for doc in documents]

    def _adapter(self, doc: Document) -> LoRAAdapter:
        if not self.adapters.store.has(doc.content_hash):
            raise NotBuiltError(f"document {doc.id!r} has no adapter for this model and recipe: run `prag build`")
        return self.adapters.get(doc.content_hash)

    def _generate(self, questions: list[str], passages: list[list[str] | None], factors: Factors | None) -> list[str]:
        prompts = [self.generator.chat_prompt(answer_user_turn(q, p), ANSWER_PREFIX) for q, p in zip(questions, passages)]
        outputs = self.generator.generate(prompts, self.config.max_new_tokens, factors=factors, done=_has_first_line)
        return [short_answer(output) for output in outputs]


def validate_question(question: str) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InputError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(f"the question has {len(question)} characters; the limit is {MAX_QUESTION_CHARS}")
    return question.strip()


def short_answer(generated: str) -> str:
    """The answer follows "The answer is": keep its first line, without the closing full stop."""
    lines = generated.strip().lstrip(":").strip().splitlines()
    first = lines[0].strip() if lines else ""
    return first[:-1].strip() if first.endswith(".") else first


def _has_first_line(text: str) -> bool:
    """Only the first line becomes the answer, so generation may stop once it is complete."""
    return "\n" in text.lstrip(" :\n")


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = time.perf_counter() - start
