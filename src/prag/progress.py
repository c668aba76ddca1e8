"""How long jobs (build, evaluation) report progress: the CLI draws rich bars, library callers may ignore it."""

from __future__ import annotations

from typing import Callable, Protocol


class Progress(Protocol):
    """Receives progress of long stages; `stage` returns the function to call as items finish."""

    def stage(self, name: str, total: int) -> Callable[[int], None]: ...


class SilentProgress:
    """Progress for library callers that want none."""

    def stage(self, name: str, total: int) -> Callable[[int], None]:
        return lambda n=1: None
