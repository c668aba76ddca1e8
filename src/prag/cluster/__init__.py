"""`prag build --ray`: augmentation and encoding on Ray actors, storing on the driver.

Each worker is an actor that loads the model once (`worker.ModelWorker`) and takes whole batches: the
augmentation batches and the encoder's batches that one process would form, so the stored adapters are
the same (each document still trains as if alone; only float sums may be reordered). Results come back
to this process, which stores them as `prag build` always does — content-keyed and atomic — so a rerun
after any interruption resumes, and nothing is stored twice.

Imported only for a build that asks for Ray: `import prag` never imports ray.
"""

from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from typing import Any, Iterator

from prag.cluster.pool import WORKER_NEEDS, ActorPool
from prag.cluster.worker import ModelWorker, WorkerIdentity
from prag.config import ClusterConfig
from prag.errors import ClusterError
from prag.lora import LoRAAdapter
from prag.runtime import Runtime
from prag.types import Augmentation, Document

__all__ = ["RayWorkers", "ray_workers"]

INSTALL_HINT = "pip install 'prag[ray]' (or `make ray`)"


@contextmanager
def ray_workers(config: ClusterConfig, runtime: Runtime) -> Iterator["RayWorkers"]:
    """Workers on the cluster `config` names, connected to on first use (a build with nothing to do
    starts nothing); on leaving, the actors are stopped and a Ray this process started is shut down."""
    workers = RayWorkers(config, runtime)
    try:
        yield workers
    finally:
        workers.close()


class RayWorkers:
    """`build.Workers` on a Ray cluster."""

    def __init__(self, config: ClusterConfig, runtime: Runtime):
        self.config = config
        self.runtime = runtime
        self._ray: Any = None
        self._started_ray = False
        self._pool: ActorPool | None = None

    @property
    def parallel(self) -> int:
        return len(self.pool.actors)

    def augment(self, documents: list[Document], apart: bool = False) -> Iterator[tuple[Document, Augmentation]]:
        size = 1 if apart else self.runtime.settings.augment.batch_size
        batches = [documents[start : start + size] for start in range(0, len(documents), size)]
        for b, augmentations in self.pool.run("augment", batches):
            yield from zip(batches[b], augmentations)

    def encode(self, items: list[tuple[Document, Augmentation]], apart: bool = False) -> Iterator[tuple[int, LoRAAdapter]]:
        if apart:
            batches = [[i] for i in range(len(items))]
        else:  # planning only tokenises; one worker does it, so the driver never loads the model
            batches = next(self.pool.run("plan", [items]))[1]
        for b, adapters in self.pool.run("encode", [[items[i] for i in batch] for batch in batches]):
            yield from zip(batches[b], adapters)

    @property
    def pool(self) -> ActorPool:
        if self._pool is None:
            self._connect()
            self._pool = self._start_pool()
        return self._pool

    def start(self) -> None:
        """Connects and starts the workers now, waiting until each has loaded the model: a service
        refuses a cluster that cannot serve it when it starts, not at its first document."""
        self.pool.wait_ready()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        if self._started_ray:
            self._ray.shutdown()

    def _connect(self) -> None:
        # Ray reads these when it starts: no usage reports sent, no dashboard served.
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            import ray
        except ImportError:
            raise ClusterError(f"--ray needs Ray, which is not installed: {INSTALL_HINT}") from None
        self._ray = ray
        if ray.is_initialized():
            return  # a caller's own Ray session (a library user, a test): used as it is, left running
        address = self.config.address
        _require_listening(address)
        local = {"num_cpus": self._local_cpus()} if address == "local" else {}
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level="error", **local)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise ClusterError(f"cannot reach the Ray cluster at {address!r}: {_one_line(e)}") from None
        self._started_ray = True

    def _local_cpus(self) -> int | None:
        """A local Ray gets the CPUs its workers ask for, or the machine's when their number is not given."""
        config = self.config
        return config.workers * config.cpus_per_worker if config.workers else None

    def _start_pool(self) -> ActorPool:
        ray, config, runtime = self._ray, self.config, self.runtime
        actor = ray.remote(ModelWorker).options(num_cpus=config.cpus_per_worker, max_restarts=0, max_task_retries=0)
        # Shared by every actor, restarted ones included: put once into the object store.
        args = [runtime.model_spec, str(runtime.cache), runtime.settings, runtime.start_adapter(), config.cpus_per_worker]
        refs = [ray.put(a) for a in args]
        return ActorPool(ray, lambda: actor.remote(*refs), self._size(), self._check, config)

    def _size(self) -> int:
        if self.config.workers:
            return self.config.workers
        cpus = int(self._ray.cluster_resources().get("CPU", 0))
        if cpus < self.config.cpus_per_worker:
            raise ClusterError(f"the Ray cluster has {cpus} CPU(s), fewer than the {self.config.cpus_per_worker} one worker needs")
        return cpus // self.config.cpus_per_worker

    def _check(self, identity: WorkerIdentity) -> None:
        expected = self.runtime.model_fingerprint
        if identity.fingerprint != expected:
            raise ClusterError(
                f"the Ray worker on {identity.node} (pid {identity.pid}) loaded a different model "
                f"{self.runtime.model_spec!r} (fingerprint {identity.fingerprint}, this build's is {expected}). {WORKER_NEEDS}"
            )


def _require_listening(address: str) -> None:
    """Ray retries an address nothing listens at for minutes; one TCP connection says so at once. Only
    for HOST:PORT (given, or in RAY_ADDRESS for `auto`): Ray checks the other forms itself."""
    if address == "auto":
        address = os.environ.get("RAY_ADDRESS", "")
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "://" in address:
        return
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except OSError as e:
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {e.strerror or e}") from None


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__
