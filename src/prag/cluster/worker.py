"""What runs on a cluster's nodes: a Ray actor that loads the model once and augments, plans or encodes
one whole batch of documents per call, returning the results to the driver, which alone stores them.

A Ray worker process imports this module to build the actor, so its top imports nothing of the model
stack: transformers is first imported by the constructor, after `configure_process` has made the process
offline (huggingface_hub reads that flag once, on import)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from prag.config import Settings
from prag.types import Augmentation, Document

if TYPE_CHECKING:
    from prag.lora import LoRAAdapter


@dataclass(frozen=True)
class WorkerIdentity:
    """Which model a worker loaded, and where it runs: the driver refuses a worker whose model differs."""

    node: str
    pid: int
    fingerprint: str


class ModelWorker:
    def __init__(self, model: str, cache: str, settings: Settings, start: LoRAAdapter | None, threads: int):
        from prag.process import configure_process

        configure_process()
        import torch

        from prag.augment import Augmenter
        from prag.encode import Encoder
        from prag.runtime import Runtime

        # As many threads as the CPUs Ray reserved for this actor: more would contend with its neighbours.
        torch.set_num_threads(threads)
        # A worker stores nothing, so the runtime's home (adapter and warm-up stores) is never read.
        runtime = Runtime(Path(cache), model, settings, cache=Path(cache))
        self.fingerprint = runtime.model_fingerprint
        self.augmenter = Augmenter(runtime.augment_generator, runtime.augment)
        self.encoder = Encoder(runtime.encoding_generator, settings.recipe, start=start)

    def identity(self) -> WorkerIdentity:
        return WorkerIdentity(socket.gethostname(), os.getpid(), self.fingerprint)

    def augment(self, documents: list[Document]) -> list[Augmentation]:
        """One augmentation batch, as `prag build` in one process forms them (sampled retries draw their
        random numbers per batch, so the batch is what makes the result the same)."""
        return [aug for _, aug in self.augmenter.augment(documents)]

    def plan(self, items: list[tuple[Document, Augmentation]]) -> list[list[int]]:
        """The encoder's batches over all of `items` (tokenising only): the driver sends each to a worker."""
        from prag.encode import plan_batches

        return plan_batches([self.encoder.plan(doc, aug) for doc, aug in items], self.encoder.limits)

    def encode(self, items: list[tuple[Document, Augmentation]]) -> list[LoRAAdapter]:
        """The adapters of one planned batch, in the order of `items`."""
        adapters = dict(self.encoder.encode_many(items))
        return [adapters[i] for i in range(len(items))]
