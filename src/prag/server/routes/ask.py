"""POST /v1/ask."""

# No `from __future__ import annotations`: the request bodies are made per app, and FastAPI must see
# these functions' annotations as the classes themselves, not as names to look up in the module.

from fastapi import APIRouter

from prag.server.deps import ServiceDep
from prag.server.schemas import AskOut, RequestBodies, UsedDocument, problems
from prag.types import Mode


def router(bodies: RequestBodies) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["answers"])
    AskIn = bodies.ask_in

    @router.post("/ask", response_model=AskOut, responses=problems(400, 409, 413, 422))
    async def ask(body: AskIn, service: ServiceDep) -> AskOut:
        """Answer a question. `auto` injects retrieved documents that have adapters as parameters and puts
        those still waiting for one into the prompt."""
        answer = await service.ask(body.question, Mode(body.mode.value), body.top_k)
        return AskOut(
            answer=answer.text,
            mode=answer.mode.value,
            documents=[UsedDocument(id=d, how=answer.how(d)) for d in answer.documents],
            timings=answer.timings,
            batch_size=answer.batch_size,
        )

    return router
