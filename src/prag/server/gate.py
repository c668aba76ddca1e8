"""One model, two cores: answering and background encoding take turns, and answering goes first."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator


class ModelGate:
    """Mutual exclusion over the model. Background work waits while any answer is waiting, and holds
    the gate for one unit (one document's augmentation or encoding) at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self._answers_waiting = 0

    @contextmanager
    def answering(self) -> Iterator[None]:
        with self._changed:
            self._answers_waiting += 1
        self._lock.acquire()
        with self._changed:
            self._answers_waiting -= 1
            self._changed.notify_all()
        try:
            yield
        finally:
            self._release()

    @contextmanager
    def background(self) -> Iterator[None]:
        with self._changed:
            while True:
                self._changed.wait_for(lambda: self._answers_waiting == 0)
                if self._lock.acquire(blocking=False):
                    break
                self._changed.wait(0.05)
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        self._lock.release()
        with self._changed:
            self._changed.notify_all()
