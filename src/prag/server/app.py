"""The FastAPI application: routes, error mapping, body limit, request metrics, service lifetime."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from prag import __version__
from prag.errors import BusyError, InputError, NotBuiltError, StateError
from prag.server.routes import ask, documents, ops
from prag.server.schemas import request_bodies
from prag.server.security import BodyLimit
from prag.server.service import Service

STATUS_OF = {InputError: 422, NotBuiltError: 409, BusyError: 409, StateError: 503}
"""A subclass answers as its base (`DamagedError` is a `NotBuiltError`); `StateError` is the server's own
state (a read-only `PRAG_HOME`), not the request's fault."""


def create_app(service: Service) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await service.start()
        yield
        await service.stop()

    app = FastAPI(title="prag", version=__version__, summary="Parametric RAG over a live collection", lifespan=lifespan)
    app.state.service = service
    settings = service.prag.settings
    bodies = request_bodies(service.config, settings.answer, settings.ingest)
    for router in (documents.router(bodies), ask.router(bodies), ops.router):
        app.include_router(router)
    for error, status in STATUS_OF.items():
        app.add_exception_handler(error, lambda request, e, status=status: problem(status, str(e)))
    app.add_exception_handler(RequestValidationError, lambda request, e: problem(422, jsonable_encoder(e.errors())))
    app.middleware("http")(_timed)
    app.add_middleware(BodyLimit, max_bytes=service.config.max_body_bytes)
    return app


def problem(status: int, detail: object) -> JSONResponse:
    """An error answer `{"detail": ...}` that can always be written: a request's JSON may carry a lone
    surrogate (`"\\udcff"`), which UTF-8 cannot, and FastAPI's answer to a 422 echoes the input it refuses."""
    return JSONResponse({"detail": _encodable(detail)}, status)


def _encodable(value: object) -> object:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encodable(v) for v in value]
    return value


async def _timed(request: Request, call_next):
    start = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    request.app.state.service.metrics.latency.labels(
        request.method, getattr(route, "path", "unmatched"), str(response.status_code)
    ).observe(time.perf_counter() - start)
    return response
