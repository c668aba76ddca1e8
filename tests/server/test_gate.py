"""ModelGate: answering and background work exclude each other, answers go first, background is never
starved once answers stop. Real threads; every wait is bounded so a broken gate fails, never hangs."""

from __future__ import annotations

import threading
import time
from typing import Callable

import pytest

from prag.server.gate import ModelGate

WAIT = 5.0
"""Bound on anything that should happen: a correct gate takes milliseconds."""
QUIET = 0.2
"""How long we watch for something that must not happen."""


class Holder(threading.Thread):
    """Enters the gate one way, records when, and holds it until released."""

    def __init__(self, gate: ModelGate, kind: str, name: str, log: list[str], log_lock: threading.Lock):
        super().__init__(name=name, daemon=True)
        self.gate, self.kind, self.log, self.log_lock = gate, kind, log, log_lock
        self.entered = threading.Event()
        self.release = threading.Event()
        self.left = threading.Event()
        self.timed_out = False

    def run(self) -> None:
        context = self.gate.answering() if self.kind == "answer" else self.gate.background()
        with context:
            with self.log_lock:
                self.log.append(self.name)
            self.entered.set()
            if not self.release.wait(WAIT):
                self.timed_out = True
        self.left.set()

    def finish(self) -> None:
        self.release.set()
        assert self.left.wait(WAIT), f"{self.name} did not leave the gate"
        self.join(WAIT)
        assert not self.is_alive()
        assert not self.timed_out, f"{self.name} was never released by the test"


@pytest.fixture
def make():
    gate = ModelGate()
    log: list[str] = []
    lock = threading.Lock()
    started: list[Holder] = []

    def start(kind: str, name: str) -> Holder:
        holder = Holder(gate, kind, name, log, lock)
        started.append(holder)
        holder.start()
        return holder

    start.gate, start.log = gate, log
    yield start
    for holder in started:  # never leave a thread behind, even when an assertion failed
        holder.release.set()
        holder.join(WAIT)


def wait_until(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.002)
    return condition()


def answers_waiting(gate: ModelGate) -> int:
    # The gate's own count of queued answers: the only way to know an answer is waiting, not just started.
    return gate._answers_waiting


@pytest.mark.parametrize("first, second", [("answer", "background"), ("background", "answer"),
                                           ("answer", "answer"), ("background", "background")])
def test_holders_exclude_each_other(make, first, second):
    a = make(first, "a")
    assert a.entered.wait(WAIT)
    b = make(second, "b")
    assert not b.entered.wait(QUIET), f"{second} entered while {first} held the gate"
    a.finish()
    assert b.entered.wait(WAIT), f"{second} did not get the gate after {first} left"
    b.finish()
    assert make.log == ["a", "b"]


def test_at_most_one_holder_under_contention():
    gate = ModelGate()
    inside = 0
    most = 0
    counter = threading.Lock()
    errors: list[BaseException] = []

    def work(kind: str) -> None:
        nonlocal inside, most
        try:
            for _ in range(20):
                with gate.answering() if kind == "answer" else gate.background():
                    with counter:
                        inside += 1
                        most = max(most, inside)
                    time.sleep(0.0005)
                    with counter:
                        inside -= 1
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in ("answer", "answer", "background", "background")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not [t for t in threads if t.is_alive()], "a thread never got through the gate"
    assert not errors
    assert most == 1


@pytest.mark.parametrize("background_queued_first", [True, False])
def test_a_waiting_answer_goes_before_waiting_background(make, background_queued_first):
    holder = make("background", "holder")
    assert holder.entered.wait(WAIT)
    if background_queued_first:
        second = make("background", "second-background")
        time.sleep(0.05)  # let it reach the gate and start waiting there
        answer = make("answer", "answer")
    else:
        answer = make("answer", "answer")
        assert wait_until(lambda: answers_waiting(make.gate) == 1)
        second = make("background", "second-background")
    assert wait_until(lambda: answers_waiting(make.gate) == 1), "the answer is not waiting for the gate"
    assert not second.entered.wait(QUIET) and not answer.entered.is_set()

    holder.finish()
    assert answer.entered.wait(WAIT), "the answer did not get the gate"
    assert not second.entered.wait(QUIET), "background entered while the answer held the gate"
    answer.finish()
    assert second.entered.wait(WAIT), "background never got the gate after the answer"
    second.finish()
    assert make.log == ["holder", "answer", "second-background"]


def test_background_waits_for_every_queued_answer_then_runs(make):
    first = make("answer", "first-answer")
    assert first.entered.wait(WAIT)
    background = make("background", "background")
    time.sleep(0.05)
    queued = make("answer", "queued-answer")
    assert wait_until(lambda: answers_waiting(make.gate) == 1)

    first.finish()
    assert queued.entered.wait(WAIT)
    assert not background.entered.wait(QUIET)
    queued.finish()  # answers have stopped
    assert background.entered.wait(WAIT), "background starved after the last answer"
    background.finish()
    assert make.log == ["first-answer", "queued-answer", "background"]


def test_background_gets_the_gate_once_a_stream_of_answers_stops():
    gate = ModelGate()
    stop = threading.Event()
    answered = [0, 0]

    def answer_stream(slot: int) -> None:
        while not stop.is_set():
            with gate.answering():
                answered[slot] += 1
                time.sleep(0.002)

    streams = [threading.Thread(target=answer_stream, args=(i,), daemon=True) for i in range(2)]
    for t in streams:
        t.start()
    assert wait_until(lambda: sum(answered) > 5)
    background_done = threading.Event()

    def background() -> None:
        with gate.background():
            background_done.set()

    worker = threading.Thread(target=background, daemon=True)
    worker.start()
    time.sleep(0.1)
    stop.set()
    for t in streams:
        t.join(WAIT)
        assert not t.is_alive()
    assert background_done.wait(WAIT), "background never got the gate after answers stopped"
    worker.join(WAIT)
    assert not worker.is_alive()


@pytest.mark.parametrize("kind", ["answer", "background"])
def test_an_exception_inside_releases_the_gate(kind):
    gate = ModelGate()
    with pytest.raises(RuntimeError):
        with gate.answering() if kind == "answer" else gate.background():
            raise RuntimeError("boom")
    entered = threading.Event()

    def other() -> None:
        with gate.background():
            entered.set()

    thread = threading.Thread(target=other, daemon=True)
    thread.start()
    assert entered.wait(WAIT), "the gate stayed held after an exception"
    thread.join(WAIT)
    with gate.answering():  # and answering gets it too
        pass
