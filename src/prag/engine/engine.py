"""Retrieve, Update, Generate — the one place that dispatches on mode, with per-stage timings."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator, Protocol

from prag.config import AnswerConfig
from prag.engine.active import Trace
from prag.engine.da_rag import augmented_passage
from prag.engine.dragin import Dragin
from prag.engine.flare import Flare
from prag.engine.prompting import AnswerPrompt
from prag.errors import DamagedError, InputError, NotBuiltError
from prag.ingest import require_unicode
from prag.lora import LoRAAdapter, factors_for_batch
from prag.lora.layer import Factors
from prag.lora.merge import SHARED_SAMPLE, SharedComponent, merged_set, shared_component
from prag.model.generate import Generator
from prag.retrieve import BM25Index
from prag.retrieve.retriever import Retriever
from prag.text import sentence_done
from prag.types import Answer, Augmentation, Document, Mode

StandIns = Callable[[str, list[Document]], list[LoRAAdapter]]
"""Adapters to inject for a question's documents in place of their own (a benchmark's control)."""


class AdapterLookup(Protocol):
    """Where the engine finds documents' adapters (the store's in-memory cache)."""

    def has(self, content_hash: str) -> bool: ...

    def damage(self, content_hash: str) -> str | None:
        """What is wrong with a stored adapter that `has` refuses; None when sound or absent."""
        ...

    def get(self, content_hash: str) -> LoRAAdapter: ...

    def __len__(self) -> int: ...


class Engine:
    def __init__(
        self,
        generator: Generator,
        index: BM25Index | None,
        documents: dict[str, Document],
        adapters: AdapterLookup,
        config: AnswerConfig,
        augmentation: Callable[[Document], Augmentation | None] = lambda doc: None,
        start: LoRAAdapter | None = None,
    ):
        self.generator = generator
        self._corpus = (index, documents, self._retriever_for(index, documents, config))
        self.adapters = adapters
        self.config = config
        self.augmentation = augmentation
        """A document's stored augmentation, for DA-RAG's context."""
        self.start = start
        """The adapter every document's adapter trained from (a warm-up LoRA), for a merge that counts it once."""
        self._shared: SharedComponent | None = None
        self.prompt = AnswerPrompt(generator, config)

    @property
    def index(self) -> BM25Index | None:
        return self._corpus[0]

    @property
    def documents(self) -> dict[str, Document]:
        return self._corpus[1]

    def replace_corpus(self, index: BM25Index | None, documents: dict[str, Document]) -> None:
        """Swaps index, documents and their retriever in one assignment, so a concurrent retrieval sees one
        corpus or the other."""
        self._corpus = (index, documents, self._retriever_for(index, documents, self.config))
        self._shared = None  # estimated again from the new collection when next needed

    def ask(self, question: str, mode: Mode, top_k: int | None = None) -> Answer:
        return self.ask_many([question], mode, top_k)[0]

    def ask_many(self, questions: list[str], mode: Mode, top_k: int | None = None, stand_ins: StandIns | None = None) -> list[Answer]:
        """Answers a batch together. One-shot modes retrieve with the question, then generate once: when
        the mode injects adapters, each question runs with its own adapter set in the same forward passes
        (or, given `stand_ins`, with the adapters it returns for the question and its documents, merged
        as the documents' own would be). Active modes (FLARE, DRAGIN) generate sentence by sentence and
        retrieve when they decide to. Every answer carries the batch's stage timings (the time its caller
        waited)."""
        questions = [validate_question(q, self.config.max_question_chars) for q in questions]
        if not questions:
            raise InputError("no questions given")
        top_k = self._top_k(top_k)
        if mode.active:
            return self._ask_active(questions, mode, top_k)
        timings: dict[str, float] = {}
        with _timed(timings, "total"):
            hits, injected, adapter_sets, factors = self._retrieve_and_update(questions, mode, top_k, stand_ins, timings)
            with _timed(timings, "generate"):
                contexts = [self.context(mode, docs, set(d.id for d in used)) for docs, used in zip(hits, injected)]
                opening = self.prompt.opening
                prompts = [self.prompt.text(q, c, opening) for q, c in zip(questions, contexts)]
                outputs = self.generator.generate(
                    prompts, self.prompt.max_new_tokens, factors=factors, done=self.prompt.is_complete
                )
                outputs = self._stated(questions, contexts, [opening + o for o in outputs], adapter_sets)
        return [
            Answer(
                q, self.prompt.answer(raw), mode, [d.id for d in docs], dict(timings), len(questions), raw,
                parametric=[d.id for d in used],
            )
            for q, raw, docs, used in zip(questions, outputs, hits, injected)
        ]

    def _top_k(self, top_k: int | None) -> int:
        """A request's top-k, the configured one when not given."""
        top_k = self.config.top_k if top_k is None else top_k
        if top_k < 1:
            raise InputError(f"top_k must be at least 1, got {top_k}")
        return top_k

    def _retrieve_and_update(
        self, questions: list[str], mode: Mode, top_k: int, stand_ins: StandIns | None, timings: dict[str, float]
    ) -> tuple[list[list[Document]], list[list[Document]], list[list[LoRAAdapter]], Factors]:
        """Each question's retrieved documents, those the mode injects, their adapters merged as the mode
        merges them (or the `stand_ins`' adapters, merged alike), and those sets as one batch's factors
        ({} when no question injects any: nothing is plugged); times the retrieve, load and merge stages."""
        with _timed(timings, "retrieve"):
            scored = [self.retrieve_scored(q, top_k) if mode.retrieves else [] for q in questions]
            hits = [[doc for doc, _ in found] for found in scored]
            injected = [self.parametric(mode, docs) for docs in hits]
        with _timed(timings, "load"):
            load = stand_ins or (lambda _question, docs: self.load_adapters(docs))
            adapter_sets = [load(q, docs) if docs else [] for q, docs in zip(questions, injected)]
        with _timed(timings, "merge"):
            adapter_sets = [self.merged(mode, a, used, dict(found)) for a, used, found in zip(adapter_sets, injected, scored)]
            factors = factors_for_batch(adapter_sets)
        return hits, injected, adapter_sets, factors

    def answer_logprobs(
        self, question: str, mode: Mode, answers: list[str], top_k: int | None = None, stand_ins: StandIns | None = None
    ) -> list[float]:
        """log p (nats) of each given answer stated at once, with the passages and merged adapters the mode
        would answer the question with, and no reasoning generated first: how strongly the mode holds each
        answer. Cheaper and far less noisy per question than a generated answer's F1, it shows knowledge an
        adapter carries even when too little to change a greedy answer (`bench/answer_likelihood.py`)."""
        question = validate_question(question, self.config.max_question_chars)
        if mode.active:
            raise InputError(f"{mode.value} decides while it generates: its answers cannot be scored without generating")
        top_k = self._top_k(top_k)
        hits, injected, _, factors = self._retrieve_and_update([question], mode, top_k, stand_ins, {})
        return self.stated_logprobs(question, self.context(mode, hits[0], {d.id for d in injected[0]}), factors, answers)

    def stated_logprobs(self, question: str, passages: list[str] | None, factors: Factors | None, answers: list[str]) -> list[float]:
        """log p (nats) of each answer stated at once after the answer prompt with these passages, under
        these adapter factors: `answer_logprobs` once the mode has chosen both, or a caller's own choice."""
        prompt = self.prompt.text(question, passages, self.prompt.answer_lead)
        return self.generator.continuations_logprob(prompt, [f" {a.strip()}" for a in answers], factors)

    def _stated(
        self, questions: list[str], contexts: list[list[str] | None], outputs: list[str], adapter_sets: list[list[LoRAAdapter]]
    ) -> list[str]:
        """The answers, each chain of thought that stopped without stating its answer led on to one
        (`AnswerConfig.elicit`) with its own passages and adapters, in one more batched generation."""
        unstated = [i for i, raw in enumerate(outputs) if self.prompt.unstated(raw)]
        if not unstated:
            return outputs
        sets = [adapter_sets[i] for i in unstated]
        led = [self.prompt.led_to_answer(outputs[i]) for i in unstated]
        prompts = [self.prompt.text(questions[i], contexts[i], lead) for i, lead in zip(unstated, led)]
        tails = self.generator.generate(prompts, self.config.max_new_tokens, factors=factors_for_batch(sets), done=sentence_done)
        stated = list(outputs)
        for i, lead, tail in zip(unstated, led, tails):
            stated[i] = lead + tail
        return stated

    def merged(self, mode: Mode, adapters: list[LoRAAdapter], documents: list[Document], scores: dict[Document, float]) -> list[LoRAAdapter]:
        """The question's adapters as the mode's configured merge combines them (the paper's plain sum by default)."""
        merge = self.config.merge_of(combine=mode is Mode.COMBINE)
        shared = self.shared_component().adapter if merge.shared is not None and adapters else None
        return merged_set(merge, adapters, [scores[doc] for doc in documents], self.start, shared)

    def shared_component(self) -> SharedComponent:
        """What every document's adapter shares, estimated once from the collection's encoded documents (a
        fixed sample: the first `SHARED_SAMPLE` by content hash), and again after the corpus changes."""
        if self._shared is None:
            hashes = sorted({d.content_hash for d in self.documents.values() if self.adapters.has(d.content_hash)})
            if not hashes:
                raise NotBuiltError("a +shared merge estimates the shared part from the encoded documents: none is encoded; run `prag build`")
            self._shared = shared_component([self.adapters.get(h) for h in hashes[:SHARED_SAMPLE]])
        return self._shared

    def parametric(self, mode: Mode, documents: list[Document]) -> list[Document]:
        """The retrieved documents a mode injects as adapters; `auto` takes those that have one."""
        if mode is Mode.AUTO:
            return [doc for doc in documents if self.adapters.has(doc.content_hash)]
        return documents if mode.uses_adapters else []

    def context(self, mode: Mode, documents: list[Document], injected: set[str]) -> list[str] | None:
        """The passages a one-shot mode puts into the prompt; `auto` puts those not injected."""
        if mode.uses_augmentations:
            return [augmented_passage(doc, self.augmentation(doc)) for doc in documents]
        if mode is Mode.AUTO:
            return [doc.passage for doc in documents if doc.id not in injected] or None
        return [doc.passage for doc in documents] if mode.uses_passages else None

    def _ask_active(self, questions: list[str], mode: Mode, top_k: int) -> list[Answer]:
        timings = {"retrieve": 0.0}

        def timed_retrieve(query: str, k: int) -> list[Document]:
            start = time.perf_counter()
            try:
                return self.retrieve(query, k)
            finally:
                timings["retrieve"] += time.perf_counter() - start

        method = Flare if mode is Mode.FLARE else Dragin
        with _timed(timings, "total"):
            traces = method(self.generator, self.prompt, timed_retrieve, self.config).answer_many(questions, top_k)
            # Their drafts are written without passages, and so is the lead on to an unstated answer.
            outputs = self._stated(questions, [None] * len(traces), [t.output for t in traces], [[] for _ in traces])
            for trace, output in zip(traces, outputs):
                trace.output = output
        timings["generate"] = timings["total"] - timings["retrieve"]
        return [self._active_answer(t, mode, timings, len(questions)) for t in traces]

    def _active_answer(self, trace: Trace, mode: Mode, timings: dict[str, float], batch_size: int) -> Answer:
        return Answer(
            trace.question,
            self.prompt.answer(trace.output),
            mode,
            list(trace.retrieved),
            dict(timings),
            batch_size,
            trace.output,
            list(trace.queries),
        )

    def retrieve(self, query: str, top_k: int) -> list[Document]:
        """Retrieve: the top-k documents, in rank order, found as `config.retrieval` says (BM25 by default)."""
        return [doc for doc, _ in self.retrieve_scored(query, top_k)]

    def retrieve_scored(self, query: str, top_k: int) -> list[tuple[Document, float]]:
        """The top-k documents with their retrieval scores, in rank order, found as `config.retrieval` says."""
        _, documents, retriever = self._corpus
        if retriever is None:
            raise NotBuiltError("the collection has no documents indexed: add some (and run `prag build`)")
        return [(documents[doc_id], score) for doc_id, score in retriever.search(query, top_k)]

    @staticmethod
    def _retriever_for(index: BM25Index | None, documents: dict[str, Document], config: AnswerConfig) -> Retriever | None:
        """The corpus's retriever (None while nothing is indexed); its title links are built at first need."""
        return Retriever(index, documents, config.retrieval) if index is not None else None

    def preload(self) -> int:
        """Reads every encoded document's adapter into memory (up to the cache's bound), so that no
        question waits on the disk; returns how many are resident. A damaged adapter is not encoded
        (`has`): it is left for the encoder to replace."""
        hashes = {doc.content_hash for doc in self.documents.values() if self.adapters.has(doc.content_hash)}
        for content_hash in sorted(hashes):
            self.adapters.get(content_hash)
        return len(self.adapters)

    def load_adapters(self, documents: list[Document]) -> list[LoRAAdapter]:
        """The documents' adapters, from memory when cached."""
        return [self._adapter(doc) for doc in documents]

    def _adapter(self, doc: Document) -> LoRAAdapter:
        if not self.adapters.has(doc.content_hash):
            damage = self.adapters.damage(doc.content_hash)
            if damage:
                raise DamagedError(f"document {doc.id!r}: {damage}: run `prag build` to encode it again")
            raise NotBuiltError(f"document {doc.id!r} has no adapter for this model and recipe: run `prag build`")
        return self.adapters.get(doc.content_hash)


def validate_question(question: str, max_chars: int) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InputError("the question is empty")
    require_unicode(question, "the question", "question")  # e.g. a command line's undecodable byte
    if len(question) > max_chars:
        raise InputError(f"the question has {len(question)} characters; the limit is {max_chars}")
    return question.strip()


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = time.perf_counter() - start
