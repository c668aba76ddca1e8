"""Concurrent questions answered together: requests that arrive while a batch is being answered form
the next batch (grouped by mode and top-k), each question with its own adapter set."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

from prag.types import Answer, Mode


@dataclass
class _Request:
    question: str
    mode: Mode
    top_k: int
    future: asyncio.Future


class AskBatcher:
    def __init__(self, answer_many: Callable[[list[str], Mode, int], list[Answer]], batch_size: int, window_s: float):
        self.answer_many = answer_many
        """Blocking: runs in a worker thread, so the event loop keeps accepting requests."""
        self.batch_size = batch_size
        self.window_s = window_s
        self.queue: asyncio.Queue[_Request] = asyncio.Queue()

    async def ask(self, question: str, mode: Mode, top_k: int) -> Answer:
        future = asyncio.get_running_loop().create_future()
        await self.queue.put(_Request(question, mode, top_k, future))
        return await future

    async def run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            await asyncio.sleep(self.window_s)  # let concurrent requests join
            while not self.queue.empty() and len(batch) < self.batch_size:
                batch.append(self.queue.get_nowait())
            groups: dict[tuple[Mode, int], list[_Request]] = defaultdict(list)
            for request in batch:
                groups[request.mode, request.top_k].append(request)
            for (mode, top_k), requests in groups.items():
                await self._answer(requests, mode, top_k)

    async def _answer(self, requests: list[_Request], mode: Mode, top_k: int) -> None:
        try:
            answers = await asyncio.to_thread(self.answer_many, [r.question for r in requests], mode, top_k)
            if len(answers) != len(requests):
                raise RuntimeError(f"{len(answers)} answers for {len(requests)} questions")
        except Exception as e:
            if len(requests) > 1:
                # One bad question must not fail its neighbours: each is answered alone, so an error
                # reaches only the request that caused it.
                for request in requests:
                    await self._answer([request], mode, top_k)
                return
            if not requests[0].future.done():  # the route maps it to a status code
                requests[0].future.set_exception(e)
            return
        for request, answer in zip(requests, answers):
            if not request.future.done():
                request.future.set_result(answer)
