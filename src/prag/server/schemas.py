"""Request and response bodies, made from the limits the server was given: a breach is a 422 naming the
field, and the OpenAPI document states the limits in force."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from prag.config import AnswerConfig, IngestConfig, ServiceConfig
from prag.types import JobState, Mode

AskMode = Enum("AskMode", {m.name: m.value for m in Mode if m.served}, type=str)
"""The modes the service answers in, derived from `Mode`."""


MAX_OFFSET = 2**63 - 1
"""SQLite's largest integer: a larger page offset cannot be bound to the query."""

NOT_BLANK = r"\S"
"""A field that must hold more than spaces; the engine and ingest strip and check again."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """Every 4xx answer: a message, or for a body or parameter that fails its schema, the fields at fault."""

    detail: str | list[FieldError]


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers a route can give, for its `responses=`, so that the OpenAPI document lists them.
    A route with a body can answer 400 (FastAPI's, for a body that is not UTF-8 text) as well as 422."""
    return {status: {"model": Problem, "description": HTTPStatus(status).phrase} for status in statuses}


class DocumentOut(BaseModel):
    id: str
    status: JobState
    reason: str | None = None


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]


class DocumentPage(BaseModel):
    documents: list[DocumentOut]
    offset: int
    limit: int
    counts: dict[JobState, int]
    """Documents of the collection per status."""


class UsedDocument(BaseModel):
    id: str
    how: Literal["parametric", "in-context", "both"]


class Health(BaseModel):
    status: Literal["ok"]
    collection: str
    model: str
    documents: dict[JobState, int]
    """Documents of the collection per status."""


class AskOut(BaseModel):
    answer: str
    mode: str
    documents: list[UsedDocument]
    timings: dict[str, float]
    """Seconds per stage of the batch this question was answered in."""
    batch_size: int


@dataclass(frozen=True)
class RequestBodies:
    """The request models for one server's limits."""

    documents_in: type[BaseModel]
    ask_in: type[BaseModel]
    max_page: int
    default_page: int


@lru_cache
def request_bodies(limits: ServiceConfig, answer: AnswerConfig, ingest: IngestConfig) -> RequestBodies:
    """The request models for the limits given: the service's own, the question limit every face shares,
    and the document bound ingest applies (a client's document over it is refused where a file's is chunked)."""
    class DocumentIn(_Strict):
        id: str | None = Field(
            None, min_length=1, max_length=limits.max_id_chars, pattern=NOT_BLANK, description="Opaque; default: a content hash."
        )
        title: str = Field("", max_length=limits.max_title_chars)
        text: str = Field(min_length=1, max_length=ingest.max_document_chars, pattern=NOT_BLANK)

    class DocumentsIn(_Strict):
        documents: list[DocumentIn] = Field(min_length=1, max_length=limits.max_documents_per_request)

    class AskIn(_Strict):
        question: str = Field(min_length=1, max_length=answer.max_question_chars, pattern=NOT_BLANK)
        mode: AskMode = Field(AskMode.AUTO, strict=False)
        top_k: int = Field(min(answer.top_k, limits.max_top_k), ge=1, le=limits.max_top_k)

    return RequestBodies(DocumentsIn, AskIn, limits.max_page, min(100, limits.max_page))
