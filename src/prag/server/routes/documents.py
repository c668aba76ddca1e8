"""POST/GET/DELETE /v1/documents."""

# No `from __future__ import annotations`: the request bodies are made per app, and FastAPI must see
# these functions' annotations as the classes themselves, not as names to look up in the module.

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from prag.server.deps import ServiceDep
from prag.server.schemas import MAX_OFFSET, DocumentOut, DocumentPage, DocumentsOut, RequestBodies, problems
from prag.server.security import Writer


def router(bodies: RequestBodies) -> APIRouter:
    router = APIRouter(prefix="/v1/documents", tags=["documents"])
    DocumentsIn = bodies.documents_in

    @router.post("", status_code=202, response_model=DocumentsOut, responses=problems(400, 401, 409, 413, 422, 503))
    def add_documents(body: DocumentsIn, service: ServiceDep, _: Writer) -> DocumentsOut:
        """Add documents: indexed at once, queued for encoding (or `encoded` when already known)."""
        jobs = service.add([service.prag.new_document(d.text, d.title, d.id) for d in body.documents])
        return DocumentsOut(documents=[DocumentOut(id=j.id, status=j.status, reason=j.reason) for j in jobs])

    @router.get("", response_model=DocumentPage, responses=problems(422))
    def list_documents(
        service: ServiceDep,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int, Query(ge=1, le=bodies.max_page)] = bodies.default_page,
    ) -> DocumentPage:
        """Documents in the order they were added, with their status, a page at a time."""
        jobs, counts = service.page(offset, limit)
        documents = [DocumentOut(id=j.id, status=j.status, reason=j.reason) for j in jobs]
        return DocumentPage(documents=documents, offset=offset, limit=limit, counts=counts)

    # Ids are opaque and may hold `/` (`a/b`, sent raw or as `a%2Fb`): the id is the rest of the path.
    @router.get("/{doc_id:path}", response_model=DocumentOut, response_model_exclude_none=True, responses=problems(404, 422))
    def get_document(doc_id: str, service: ServiceDep) -> DocumentOut:
        """One document's status: queued | augmenting | encoding | encoded | failed (with the reason)."""
        job = service.job(doc_id)
        if job is None:
            raise HTTPException(404, f"no document {doc_id!r}")
        return DocumentOut(id=job.id, status=job.status, reason=job.reason)

    @router.delete("/{doc_id:path}", status_code=204, responses=problems(401, 404, 422, 503))
    def delete_document(doc_id: str, service: ServiceDep, _: Writer) -> None:
        """Remove the document, its augmentations, its adapter and its index entry."""
        if not service.delete(doc_id):
            raise HTTPException(404, f"no document {doc_id!r}")

    return router
