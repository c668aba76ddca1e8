"""POST /v1/ask."""

from __future__ import annotations

from fastapi import APIRouter, Request

from prag.server.schemas import AskIn, AskOut, UsedDocument
from prag.types import Mode

router = APIRouter(prefix="/v1", tags=["answers"])


@router.post("/ask", response_model=AskOut)
async def ask(body: AskIn, request: Request) -> AskOut:
    """Answer a question. `auto` injects retrieved documents that have adapters as parameters and puts
    those still waiting for one into the prompt."""
    answer = await request.app.state.service.ask(body.question, Mode(body.mode), body.top_k)
    return AskOut(
        answer=answer.text,
        mode=answer.mode.value,
        documents=[UsedDocument(id=d, how=answer.how(d)) for d in answer.documents],
        timings=answer.timings,
        batch_size=answer.batch_size,
    )
