"""AskBatcher: concurrent questions share one blocking `answer_many` call per (mode, top_k), bounded by
batch_size; a failure reaches only the callers whose questions cause it, and the batcher keeps serving. The engine is a
recording stand-in here: this is a unit test of the batching, not of answering."""

from __future__ import annotations

import asyncio
import threading

import pytest

from prag.server.batcher import AskBatcher
from prag.types import Answer, Mode

TIMEOUT = 5.0


class FakeEngine:
    """A blocking `answer_many` that records each call; optionally holds the first call until released,
    or fails for one mode."""

    def __init__(self, hold_first: bool = False, fail_mode: Mode | None = None, fail_question: str | None = None):
        self.calls: list[tuple[list[str], Mode, int]] = []
        self.lock = threading.Lock()
        self.hold_first = hold_first
        self.first_started = threading.Event()
        self.release = threading.Event()
        self.fail_mode = fail_mode
        self.fail_question = fail_question
        self.error = RuntimeError("engine exploded")

    def __call__(self, questions: list[str], mode: Mode, top_k: int) -> list[Answer]:
        with self.lock:
            self.calls.append((list(questions), mode, top_k))
            first = len(self.calls) == 1
        if first and self.hold_first:
            self.first_started.set()
            assert self.release.wait(TIMEOUT), "the test never released the first call"
        if mode is self.fail_mode or self.fail_question in questions:
            raise self.error
        return [Answer(question=q, text=f"{mode.value}/{top_k}: {q}", mode=mode, batch_size=len(questions)) for q in questions]


async def with_batcher(engine: FakeEngine, batch_size: int, window_s: float, body):
    batcher = AskBatcher(engine, batch_size=batch_size, window_s=window_s)
    task = asyncio.create_task(batcher.run())
    try:
        return await asyncio.wait_for(body(batcher), TIMEOUT)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def run(engine: FakeEngine, body, batch_size: int = 8, window_s: float = 0.05):
    return asyncio.run(with_batcher(engine, batch_size, window_s, body))


def test_concurrent_asks_share_one_call_per_mode_and_top_k():
    engine = FakeEngine()
    asks = [("q1", Mode.RAG, 3), ("q2", Mode.PRAG, 3), ("q3", Mode.RAG, 3), ("q4", Mode.PRAG, 3), ("q5", Mode.RAG, 2)]

    async def body(batcher):
        return await asyncio.gather(*(batcher.ask(q, m, k) for q, m, k in asks))

    answers = run(engine, body)
    # Every caller gets the answer to its own question, from the call of its group.
    assert [(a.question, a.mode, a.text) for a in answers] == [(q, m, f"{m.value}/{k}: {q}") for q, m, k in asks]
    calls = sorted(engine.calls, key=lambda c: c[0])
    assert calls == [(["q1", "q3"], Mode.RAG, 3), (["q2", "q4"], Mode.PRAG, 3), (["q5"], Mode.RAG, 2)]
    assert [a.batch_size for a in answers] == [2, 2, 2, 2, 1]


def test_two_modes_make_two_calls():
    engine = FakeEngine()

    async def body(batcher):
        return await asyncio.gather(*(batcher.ask(f"q{i}", Mode.AUTO if i % 2 else Mode.CLOSED, 3) for i in range(6)))

    answers = run(engine, body)
    assert len(engine.calls) == 2
    assert {(m, tuple(qs)) for qs, m, _ in engine.calls} == {(Mode.CLOSED, ("q0", "q2", "q4")), (Mode.AUTO, ("q1", "q3", "q5"))}
    assert all(a.question == f"q{i}" for i, a in enumerate(answers))


def test_questions_arriving_during_a_call_form_the_next_batch():
    engine = FakeEngine(hold_first=True)

    async def body(batcher):
        first = asyncio.create_task(batcher.ask("first", Mode.RAG, 3))
        assert await asyncio.to_thread(engine.first_started.wait, TIMEOUT)
        later = [asyncio.create_task(batcher.ask(f"later{i}", Mode.RAG, 3)) for i in range(3)]
        await asyncio.sleep(0.05)  # they wait in the queue while the first call runs
        assert not any(t.done() for t in later) and not first.done()
        engine.release.set()
        return await first, await asyncio.gather(*later)

    first, later = run(engine, body)
    assert engine.calls == [(["first"], Mode.RAG, 3), (["later0", "later1", "later2"], Mode.RAG, 3)]
    assert first.text == "rag/3: first" and [a.question for a in later] == ["later0", "later1", "later2"]


def test_batch_size_bounds_a_call():
    engine = FakeEngine()

    async def body(batcher):
        return await asyncio.gather(*(batcher.ask(f"q{i}", Mode.PRAG, 3) for i in range(5)))

    answers = run(engine, body, batch_size=2)
    assert [len(qs) for qs, _, _ in engine.calls] == [2, 2, 1]
    assert [q for qs, _, _ in engine.calls for q in qs] == [f"q{i}" for i in range(5)]
    assert [a.question for a in answers] == [f"q{i}" for i in range(5)]


def test_an_error_reaches_every_caller_that_causes_it_and_the_batcher_keeps_serving():
    engine = FakeEngine(fail_mode=Mode.RAG)

    async def body(batcher):
        results = await asyncio.gather(
            batcher.ask("r1", Mode.RAG, 3), batcher.ask("c1", Mode.CLOSED, 3), batcher.ask("r2", Mode.RAG, 3),
            return_exceptions=True,
        )
        engine.fail_mode = None
        after = await asyncio.gather(batcher.ask("r3", Mode.RAG, 3), batcher.ask("c2", Mode.CLOSED, 3))
        return results, after

    (r1, c1, r2), after = run(engine, body)
    assert r1 is engine.error and r2 is engine.error
    assert isinstance(c1, Answer) and c1.question == "c1"  # the other group of the same batch is answered
    assert [a.question for a in after] == ["r3", "c2"]
    # The failed group is answered again question by question, so each error is the caller's own.
    assert sorted(tuple(qs) for qs, _, _ in engine.calls) == [("c1",), ("c2",), ("r1",), ("r1", "r2"), ("r2",), ("r3",)]


def test_one_bad_question_fails_alone_and_its_neighbours_are_answered():
    engine = FakeEngine(fail_question="   ")

    async def body(batcher):
        asks = [batcher.ask(q, Mode.AUTO, 3) for q in ("When?", "   ", "Who?", "Where?")]
        return await asyncio.gather(*asks, return_exceptions=True)

    when, blank, who, where = run(engine, body)
    assert blank is engine.error
    assert [a.question for a in (when, who, where)] == ["When?", "Who?", "Where?"]


def test_a_failing_call_does_not_stop_a_lone_later_question():
    engine = FakeEngine(fail_mode=Mode.PRAG)

    async def body(batcher):
        with pytest.raises(RuntimeError, match="engine exploded"):
            await batcher.ask("bad", Mode.PRAG, 1)
        return await batcher.ask("good", Mode.CLOSED, 1)

    assert run(engine, body).text == "closed/1: good"
