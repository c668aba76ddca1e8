"""The FastAPI application: routes, error mapping, body limit, request metrics, service lifetime."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from prag import __version__
from prag.errors import BusyError, InputError, NotBuiltError
from prag.server.routes import ask, documents, ops
from prag.server.schemas import request_bodies
from prag.server.security import BodyLimit
from prag.server.service import Service

STATUS_OF = {InputError: 422, NotBuiltError: 409, BusyError: 409}


def create_app(service: Service) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await service.start()
        yield
        await service.stop()

    app = FastAPI(title="prag", version=__version__, summary="Parametric RAG over a live collection", lifespan=lifespan)
    app.state.service = service
    bodies = request_bodies(service.config, service.prag.settings.answer)
    for router in (documents.router(bodies), ask.router(bodies), ops.router):
        app.include_router(router)
    for error, status in STATUS_OF.items():
        app.add_exception_handler(error, lambda request, e, status=status: JSONResponse({"detail": str(e)}, status))
    app.middleware("http")(_timed)
    app.add_middleware(BodyLimit, max_bytes=service.config.max_body_bytes)
    return app


async def _timed(request: Request, call_next):
    start = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    request.app.state.service.metrics.latency.labels(
        request.method, getattr(route, "path", "unmatched"), str(response.status_code)
    ).observe(time.perf_counter() - start)
    return response
