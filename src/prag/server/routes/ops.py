"""GET /healthz and /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(request: Request) -> dict:
    """Liveness, with the collection's documents per status."""
    service = request.app.state.service
    return {"status": "ok", "collection": service.prag.collection, "model": service.prag.model_spec, "documents": service.counts()}


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text format."""
    return Response(request.app.state.service.metrics.render(), media_type=CONTENT_TYPE_LATEST)
