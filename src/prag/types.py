"""The nouns of Parametric RAG, shared by every layer. No torch here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum


class Mode(str, Enum):
    CLOSED = "closed"
    """No passages, no adapters."""
    RAG = "rag"
    """Standard RAG: passages in the prompt."""
    PRAG = "prag"
    """Parametric RAG: the retrieved documents' adapters, no passages."""
    COMBINE = "combine"
    """Both: adapters and passages."""
    DA_RAG = "da-rag"
    """Standard RAG whose passages also carry each document's augmentations (rewrites and QA pairs):
    P-RAG's training data, in context instead of in the weights."""
    FLARE = "flare"
    """Active retrieval (Jiang et al. 2023): retrieve when a look-ahead sentence has a low-confidence token."""
    AUTO = "auto"
    """Hybrid, for collections that change: retrieved documents with an adapter are injected as
    parameters, those still waiting for one go into the prompt."""
    DRAGIN = "dragin"
    """Dynamic retrieval (Su et al. 2024): retrieve when a token's uncertainty, weighted by attention and
    meaning, is high, with a query of the tokens the model attends to most."""

    @property
    def uses_passages(self) -> bool:
        """Puts the question's retrieved documents into the prompt."""
        return self in (Mode.RAG, Mode.COMBINE, Mode.DA_RAG)

    @property
    def uses_adapters(self) -> bool:
        return self in (Mode.PRAG, Mode.COMBINE)

    @property
    def uses_augmentations(self) -> bool:
        return self is Mode.DA_RAG

    @property
    def retrieves(self) -> bool:
        """Retrieves once, with the question, before generating."""
        return self in (Mode.RAG, Mode.PRAG, Mode.COMBINE, Mode.DA_RAG, Mode.AUTO)

    @property
    def active(self) -> bool:
        """Decides during generation when and what to retrieve."""
        return self in (Mode.FLARE, Mode.DRAGIN)


CORE_MODES = (Mode.CLOSED, Mode.RAG, Mode.PRAG, Mode.COMBINE)
"""The paper's four settings, which the demo compares."""


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    title: str = ""

    @property
    def content_hash(self) -> str:
        """Identity of what the model learns: the adapter depends on title and text, not on the id."""
        return content_hash(f"{self.title}\n{self.text}")

    @property
    def passage(self) -> str:
        return f"{self.title}: {self.text}" if self.title else self.text


@dataclass(frozen=True)
class QAPair:
    question: str
    answer: str


@dataclass(frozen=True)
class Augmentation:
    """A document's augmented data D_i: rewrites and QA pairs, with how generation went."""

    rewrites: tuple[str, ...]
    qa_pairs: tuple[QAPair, ...]
    attempts: int
    """Generation attempts used for the QA pairs (bounded by AugmentConfig.max_attempts)."""

    @property
    def valid_pairs(self) -> int:
        return len(self.qa_pairs)


@dataclass
class Answer:
    question: str
    text: str
    mode: Mode
    documents: list[str] = field(default_factory=list)
    """Retrieved document ids in rank order."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per stage: retrieve, load, merge, generate, total — of the whole batch it was answered in."""
    batch_size: int = 1
    """How many questions were answered together in one generation."""
    raw: str = ""
    """The whole generated continuation, before the answer was extracted from it."""
    queries: list[str] = field(default_factory=list)
    """Retrieval queries issued during generation (active modes)."""
    parametric: list[str] = field(default_factory=list)
    """The retrieved documents injected as adapters (the rest, if any, were in the prompt)."""

    def how(self, doc_id: str) -> str:
        """How a retrieved document was used: `parametric`, `in-context`, or `both` (Combine)."""
        if doc_id not in self.parametric:
            return "in-context"
        return "both" if self.mode is Mode.COMBINE else "parametric"

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.text,
            "mode": self.mode.value,
            "documents": self.documents,
            "timings": self.timings,
            "batch_size": self.batch_size,
            "raw": self.raw,
            "queries": self.queries,
            "parametric": self.parametric,
        }
