"""The driver's side of a build on Ray: actors that each hold the model, one batch in flight per actor,
and a dead actor's batch sent to another.

One batch per actor at a time is what bounds a fault: a worker killed mid-batch loses that batch only.
Ray's own retries (`max_task_retries`) would resend it to the same actor once restarted; here the driver
resends it to whichever worker is free first, replaces the dead one, and gives up after a bounded number
of attempts, so a batch that kills every worker it meets ends the build with a message, not a loop."""

from __future__ import annotations

import logging
from collections import Counter, deque
from typing import Any, Callable, Iterator

from prag.config import ClusterConfig
from prag.errors import ClusterError, PragError

log = logging.getLogger("prag.cluster")


class ActorPool:
    def __init__(self, ray: Any, spawn: Callable[[], Any], size: int, check: Callable[[Any], None], config: ClusterConfig):
        """`spawn()` starts one actor; `check(identity)` raises when a started actor is not fit to work."""
        self.ray = ray
        self.spawn = spawn
        self.check = check
        self.config = config
        self.idle: deque = deque()
        self.starting: dict[Any, Any] = {}
        """`identity()` call in flight -> the actor loading the model."""
        self.actors: list = []
        for _ in range(size):
            self._start()

    def run(self, method: str, tasks: list) -> Iterator[tuple[int, Any]]:
        """(index into `tasks`, what `actor.method(task)` returned), as each finishes, each exactly once."""
        queue, attempts = deque(range(len(tasks))), Counter()
        busy: dict[Any, tuple[Any, int]] = {}
        while queue or busy:
            while queue and self.idle:
                actor, task = self.idle.popleft(), queue.popleft()
                busy[getattr(actor, method).remote(tasks[task])] = (actor, task)
            ref = self._next_done(busy)
            if ref in self.starting:
                self._ready(ref)
                continue
            actor, task = busy.pop(ref)
            try:
                result = self.ray.get(ref)
            except self.ray.exceptions.RayActorError as e:
                attempts[task] += 1
                self._retry(task, len(tasks[task]), attempts[task], e)
                queue.appendleft(task)
                self._replace(actor)
                continue
            except self.ray.exceptions.RayTaskError as e:
                raise _cause(e) from None
            self.idle.append(actor)
            yield task, result

    def wait_ready(self) -> None:
        """Returns once every starting actor has loaded the model (raising as `run` does if one cannot)."""
        while self.starting:
            self._ready(self._next_done({}))

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors.clear()

    def _start(self) -> None:
        actor = self.spawn()
        self.actors.append(actor)
        self.starting[actor.identity.remote()] = actor

    def _next_done(self, busy: dict) -> Any:
        waiting = [*busy, *self.starting]
        if not waiting:
            raise ClusterError("no Ray worker is left to run the build")
        # Only a worker still loading the model can keep the build waiting for ever (a cluster too small
        # to place it): bound that wait, not a batch's training, which may take minutes.
        timeout = None if busy else self.config.start_timeout_s
        done, _ = self.ray.wait(waiting, num_returns=1, timeout=timeout)
        if not done:
            raise ClusterError(
                f"no Ray worker started within {timeout:.0f} s: does the cluster have "
                f"{self.config.cpus_per_worker} free CPU(s) for each worker?"
            )
        return done[0]

    def _ready(self, ref: Any) -> None:
        actor = self.starting.pop(ref)
        try:
            identity = self.ray.get(ref)
        except self.ray.exceptions.RayError as e:
            raise ClusterError(f"a Ray worker could not start: {_last_line(e)}. {WORKER_NEEDS}") from None
        self.check(identity)
        self.idle.append(actor)

    def _retry(self, task: int, size: int, attempt: int, error: Exception) -> None:
        if attempt >= self.config.max_attempts:
            raise ClusterError(f"a batch of {size} document(s) failed on {attempt} Ray workers; the last: {_last_line(error)}")
        log.warning("a Ray worker died during a batch of %d document(s): sending it to another (attempt %d of %d)",
                    size, attempt + 1, self.config.max_attempts)

    def _replace(self, actor: Any) -> None:
        self.actors.remove(actor)
        self.ray.kill(actor)
        self._start()


WORKER_NEEDS = "Every node needs prag installed (pip install 'prag[ray]') and the model at the path the driver uses"


def _cause(error: Exception) -> BaseException:
    """A worker's own PragError (e.g. a model it cannot load) as the error it is; anything else, a bug,
    as Ray reports it, with the worker's traceback."""
    cause = getattr(error, "cause", None)
    return cause if isinstance(cause, PragError) else error


def _last_line(error: Exception) -> str:
    """Ray's messages carry the worker's traceback; the error itself is on the last non-empty line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
