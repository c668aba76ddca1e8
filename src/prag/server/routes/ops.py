"""GET /healthz and /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST

from prag.server.deps import ServiceDep
from prag.server.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
def healthz(service: ServiceDep) -> Health:
    """Liveness, with the collection's documents per status."""
    return Health(status="ok", collection=service.prag.collection, model=service.prag.model_spec, documents=service.counts())


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(service: ServiceDep) -> Response:
    """Prometheus text format."""
    return Response(service.metrics.render(), media_type=CONTENT_TYPE_LATEST)
