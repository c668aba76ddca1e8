"""Prometheus metrics: queue depth, encoded count, request latency, batch sizes."""

from __future__ import annotations

from typing import Callable

from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest

from prag.types import JobState

LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64)


class Metrics:
    def __init__(self, counts: Callable[[], dict[JobState, int]]):
        self.registry = CollectorRegistry()
        documents = Gauge("prag_documents", "Documents of the collection by encoding status", ["status"], registry=self.registry)
        for state in JobState:
            documents.labels(state.value).set_function(lambda s=state: counts()[s])
        depth = Gauge("prag_encoding_queue_depth", "Documents waiting for or in encoding", registry=self.registry)
        depth.set_function(lambda: sum(n for s, n in counts().items() if s.pending))
        self.latency = Histogram(
            "prag_request_seconds", "HTTP request latency", ["method", "route", "status"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.batch = Histogram(
            "prag_ask_batch_size", "Questions answered together in one generation",
            buckets=(1, 2, 4, 8, 16, 32), registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
