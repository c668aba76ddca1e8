"""GET /healthz and /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from prag.server.deps import ServiceDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(service: ServiceDep) -> dict:
    """Liveness, with the collection's documents per status."""
    return {"status": "ok", "collection": service.prag.collection, "model": service.prag.model_spec, "documents": service.counts()}


@router.get("/metrics")
def metrics(service: ServiceDep) -> Response:
    """Prometheus text format."""
    return Response(service.metrics.render(), media_type=CONTENT_TYPE_LATEST)
