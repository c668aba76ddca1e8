"""Request and response bodies. Limits come from ServiceConfig; a breach is a 422 naming the field."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from prag.config import ServiceConfig

LIMITS = ServiceConfig()
STATUS = Literal["queued", "augmenting", "encoding", "encoded", "failed"]
ASK_MODES = Literal["closed", "rag", "prag", "combine", "auto"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DocumentIn(_Strict):
    id: str | None = Field(None, min_length=1, max_length=LIMITS.max_id_chars, description="Opaque; default: a content hash.")
    title: str = Field("", max_length=LIMITS.max_title_chars)
    text: str = Field(min_length=1, max_length=LIMITS.max_document_chars)


class DocumentsIn(_Strict):
    documents: list[DocumentIn] = Field(min_length=1, max_length=LIMITS.max_documents_per_request)


class DocumentOut(BaseModel):
    id: str
    status: STATUS
    reason: str | None = None


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]


class DocumentPage(BaseModel):
    documents: list[DocumentOut]
    offset: int
    limit: int
    counts: dict[str, int]
    """Documents of the collection per status."""


class AskIn(_Strict):
    question: str = Field(min_length=1, max_length=LIMITS.max_question_chars)
    mode: ASK_MODES = "auto"
    top_k: int = Field(3, ge=1, le=LIMITS.max_top_k)


class UsedDocument(BaseModel):
    id: str
    how: Literal["parametric", "in-context", "both"]


class AskOut(BaseModel):
    answer: str
    mode: str
    documents: list[UsedDocument]
    timings: dict[str, float]
    """Seconds per stage of the batch this question was answered in."""
    batch_size: int
