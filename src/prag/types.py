"""The nouns of Parametric RAG, shared by every layer. No torch here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum

from prag.errors import InputError


class Mode(str, Enum):
    """Every way prag answers, in the paper's table order (baselines first, then P-RAG and Combine).
    The one list of modes: the CLI's help, the benchmark's methods and the server's schema derive from it."""

    CLOSED = "closed"
    """No passages, no adapters."""
    RAG = "rag"
    """Standard RAG: passages in the prompt."""
    DA_RAG = "da-rag"
    """Standard RAG whose passages also carry each document's augmentations (rewrites and QA pairs):
    P-RAG's training data, in context instead of in the weights."""
    FLARE = "flare"
    """Active retrieval (Jiang et al. 2023): retrieve when a look-ahead sentence has a low-confidence token."""
    DRAGIN = "dragin"
    """Dynamic retrieval (Su et al. 2024): retrieve when a token's uncertainty, weighted by attention and
    meaning, is high, with a query of the tokens the model attends to most."""
    PRAG = "prag"
    """Parametric RAG: the retrieved documents' adapters, no passages."""
    COMBINE = "combine"
    """Both: adapters and passages."""
    AUTO = "auto"
    """Hybrid, for collections that change: retrieved documents with an adapter are injected as
    parameters, those still waiting for one go into the prompt."""

    @property
    def uses_passages(self) -> bool:
        """Puts the question's retrieved documents into the prompt."""
        return self in (Mode.RAG, Mode.COMBINE, Mode.DA_RAG)

    @property
    def never_has_passages(self) -> bool:
        """No passage ever enters the prompt (closed-book, P-RAG), so prompts are short whatever is retrieved."""
        return self in (Mode.CLOSED, Mode.PRAG)

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

    @property
    def benchmarked(self) -> bool:
        """One of the paper's seven methods; `auto` serves a changing collection and has no row there."""
        return self is not Mode.AUTO

    @property
    def served(self) -> bool:
        """Offered by the HTTP service: the paper's four settings and `auto`. The baselines need stored
        augmentations (DA-RAG) or many generation rounds per question (FLARE, DRAGIN)."""
        return self in (*CORE_MODES, Mode.AUTO)

    @classmethod
    def parse(cls, value: "str | Mode") -> "Mode":
        try:
            return cls(value)
        except ValueError:
            raise InputError(f"unknown mode {value!r}; choose one of {', '.join(m.value for m in cls)}") from None


CORE_MODES = (Mode.CLOSED, Mode.RAG, Mode.PRAG, Mode.COMBINE)
"""The paper's four settings, which the demo compares."""

class JobState(str, Enum):
    """Where a document of a live collection is on its way to an adapter (the service's encoding queue)."""

    QUEUED = "queued"
    AUGMENTING = "augmenting"
    ENCODING = "encoding"
    ENCODED = "encoded"
    FAILED = "failed"

    @property
    def unfinished(self) -> bool:
        """A crash can leave a job here: it goes back to the queue on restart."""
        return self in (JobState.AUGMENTING, JobState.ENCODING)

    @property
    def pending(self) -> bool:
        """Waiting for, or in, encoding: counted in the queue's depth."""
        return self in (JobState.QUEUED, JobState.AUGMENTING, JobState.ENCODING)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def document_hash(title: str, text: str) -> str:
    """Identity of what the model learns: the adapter depends on title and text, not on the id. The one
    formula behind adapter keys and the default id of a document given without one."""
    return content_hash(f"{title}\n{text}")


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    title: str = ""

    @property
    def content_hash(self) -> str:
        return document_hash(self.title, self.text)

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
