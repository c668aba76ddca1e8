"""POST/GET/DELETE /v1/documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from prag.server.schemas import LIMITS, DocumentOut, DocumentPage, DocumentsIn, DocumentsOut
from prag.server.security import Writer

router = APIRouter(prefix="/v1/documents", tags=["documents"])


@router.post("", status_code=202, response_model=DocumentsOut)
def add_documents(body: DocumentsIn, request: Request, _: Writer) -> DocumentsOut:
    """Add documents: indexed at once, queued for encoding (or `encoded` when already known)."""
    service = request.app.state.service
    documents = [service.prag.new_document(d.text, d.title, d.id) for d in body.documents]
    states = service.add(documents)
    return DocumentsOut(documents=[DocumentOut(id=s.id, status=s.status, reason=s.reason) for s in states])


@router.get("", response_model=DocumentPage)
def list_documents(
    request: Request,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=LIMITS.max_page)] = 100,
) -> DocumentPage:
    """Documents in the order they were added, with their status, a page at a time."""
    states, counts = request.app.state.service.page(offset, limit)
    return DocumentPage(
        documents=[DocumentOut(id=s.id, status=s.status, reason=s.reason) for s in states],
        offset=offset,
        limit=limit,
        counts=counts,
    )


@router.get("/{doc_id}", response_model=DocumentOut, response_model_exclude_none=True)
def get_document(doc_id: str, request: Request) -> DocumentOut:
    """One document's status: queued | augmenting | encoding | encoded | failed (with the reason)."""
    state = request.app.state.service.state_of(doc_id)
    if state is None:
        raise HTTPException(404, f"no document {doc_id!r}")
    return DocumentOut(id=state.id, status=state.status, reason=state.reason)


@router.delete("/{doc_id}", status_code=204)
def delete_document(doc_id: str, request: Request, _: Writer) -> None:
    """Remove the document, its augmentations, its adapter and its index entry."""
    if not request.app.state.service.delete(doc_id):
        raise HTTPException(404, f"no document {doc_id!r}")
