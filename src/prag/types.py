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

    @property
    def uses_passages(self) -> bool:
        return self in (Mode.RAG, Mode.COMBINE)

    @property
    def uses_adapters(self) -> bool:
        return self in (Mode.PRAG, Mode.COMBINE)

    @property
    def retrieves(self) -> bool:
        return self is not Mode.CLOSED


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

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.text,
            "mode": self.mode.value,
            "documents": self.documents,
            "timings": self.timings,
            "batch_size": self.batch_size,
        }
