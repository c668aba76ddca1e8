"""What route handlers receive, as FastAPI dependencies: the one service of this app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from prag.server.service import Service


def get_service(request: Request) -> Service:
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(get_service)]
