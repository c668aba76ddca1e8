"""Progress of long jobs on stderr: rich bars on a terminal; in a log (`prag build > log 2>&1`, a batch
job), a line when a stage starts and ends and a count with its ETA at most every `every_s` seconds."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class BarProgress:
    def __init__(self, progress: Progress):
        self.progress = progress

    def stage(self, name: str, total: int) -> Callable[[int], None]:
        task = self.progress.add_task(name, total=total)
        return lambda n=1: self.progress.advance(task, n)


class LogProgress:
    """Plain lines for a reader who sees the output later, e.g. `encode: 12/40 (30%), 2m05s elapsed, ETA 4m52s`."""

    def __init__(self, stream: TextIO, every_s: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.every_s = every_s
        self.clock = clock

    def stage(self, name: str, total: int) -> Callable[[int], None]:
        start = last = self.clock()
        done = 0
        self._line(f"{name}: {total} to do" if total else f"{name}: nothing to do")

        def advance(n: int = 1) -> None:
            nonlocal done, last
            done += n
            now = self.clock()
            if done >= total:
                self._line(f"{name}: {done}/{total} done in {_duration(now - start)}")
            elif now - last >= self.every_s:
                last = now
                self._line(f"{name}: {done}/{total} ({100 * done // total}%), {_eta(start, now, done, total)}")

        return advance

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


def _eta(start: float, now: float, done: int, total: int) -> str:
    elapsed = now - start
    return f"{_duration(elapsed)} elapsed, ETA {_duration(elapsed / done * (total - done))}"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


@contextmanager
def progress_on(console: Console) -> Iterator[BarProgress | LogProgress]:
    """Bars when the console is a terminal, log lines otherwise (rich would hide its bars there)."""
    if not console.is_terminal:
        yield LogProgress(console.file)
        return
    columns = (TextColumn("{task.description:>8}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        yield BarProgress(progress)
