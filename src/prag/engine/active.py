"""What FLARE and DRAGIN share: answering sentence by sentence, each question at its own pace, the
questions of a batch generating together."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from bm25s.stopwords import STOPWORDS_EN

from prag.config import AnswerConfig
from prag.engine.prompting import AnswerPrompt
from prag.model.generate import Generator, ScoredText
from prag.text import first_sentence, sentence_done
from prag.types import Document

_STOPWORDS = frozenset(STOPWORDS_EN)


@dataclass
class Trace:
    """One question's answer as it grows, and what was retrieved for it on the way."""

    question: str
    output: str = ""
    passages: list[Document] = field(default_factory=list)
    """The latest retrieval's documents: the prompt of the sentence generated right after it."""
    retrieved: list[str] = field(default_factory=list)
    """Every document id retrieved, first retrieval first."""
    queries: list[str] = field(default_factory=list)
    rounds: int = 0
    done: bool = False

    def accept(self, sentence: str, prompt: AnswerPrompt, config: AnswerConfig) -> None:
        self.output += sentence
        self.rounds += 1
        self.done = not sentence.strip() or prompt.has_answer(self.output) or self.rounds >= config.max_rounds

    def use(self, query: str, documents: list[Document]) -> None:
        self.queries.append(query)
        self.passages = documents
        self.retrieved += [d.id for d in documents if d.id not in self.retrieved]

    @property
    def passage_texts(self) -> list[str] | None:
        return [d.passage for d in self.passages] or None


class ActiveRetrieval:
    """A method that decides while generating when and what to retrieve (FLARE, DRAGIN)."""

    def __init__(
        self,
        generator: Generator,
        prompt: AnswerPrompt,
        retrieve: Callable[[str, int], list[Document]],
        config: AnswerConfig,
    ):
        self.generator = generator
        self.prompt = prompt
        self.retrieve = retrieve
        self.config = config

    def answer_many(self, questions: list[str], top_k: int) -> list[Trace]:
        traces = [Trace(q) for q in questions]
        while active := [t for t in traces if not t.done]:
            self.step(active, top_k)
        return traces

    needs_attention = False
    """Whether `decide` reads the draft's attention (computed only then: it needs eager attention)."""

    def step(self, traces: list[Trace], top_k: int) -> None:
        """One round: each trace drafts its next sentence without passages; where the method decides to
        retrieve, the sentence is generated again with the retrieved passages."""
        prompts = [self.prompt.text(t.question, None, t.output) for t in traces]
        drafts = self.generator.generate_scored(
            prompts, self.config.sentence_tokens, done=sentence_done, with_attention=self.needs_attention
        )
        unsure = []
        for trace, prompt, draft in zip(traces, prompts, drafts):
            sentence = first_sentence(draft.text)
            decision = self.decide(trace, prompt, draft, sentence)
            if decision is None:
                trace.accept(sentence, self.prompt, self.config)
                continue
            query, kept = decision
            trace.output += kept
            trace.use(query, self.retrieve(query, top_k))
            unsure.append(trace)
        if unsure:
            self.continue_with_passages(unsure)

    def decide(self, trace: Trace, prompt: str, draft: ScoredText, sentence: str) -> tuple[str, str] | None:
        """None keeps the drafted `sentence`; otherwise (the retrieval query, the start of the draft kept
        before the sentence is generated on with passages)."""
        raise NotImplementedError

    def continue_with_passages(self, traces: list[Trace]) -> None:
        """Generates each trace's next sentence with its latest retrieval's passages in the prompt. They
        serve this sentence only: later drafts start again without passages."""
        prompts = [self.prompt.text(t.question, t.passage_texts, t.output) for t in traces]
        again = self.generator.generate(prompts, self.config.sentence_tokens, done=sentence_done)
        for trace, text in zip(traces, again):
            trace.accept(first_sentence(text), self.prompt, self.config)


def sentence_length(scored: ScoredText, sentence: str) -> int:
    """How many of the generated tokens make up `sentence`, a prefix of the generated text."""
    length = 0
    for count, piece in enumerate(scored.pieces, start=1):
        length += len(piece)
        if length >= len(sentence):
            return count
    return len(scored.pieces)


def is_significant(piece: str) -> bool:
    """A token that carries meaning: not white space or punctuation alone, not a stop word."""
    word = piece.strip().lower()
    return any(ch.isalnum() for ch in word) and word not in _STOPWORDS
