"""Encoding on Ray against one process, side by side in one run, on the same documents and model:

1. `one process` — `prag build` as it runs without Ray, torch with 2 threads;
2. `ray 2x1`     — `prag build --ray --workers 2 --worker-cpus 1`: a local Ray, two actors of one thread.

Each variant builds the same documents from nothing (augmentation and encoding, model loads included)
into a home of its own, in a process of its own. Printed: documents per hour of each and their ratio,
peak memory of each worker (sampled every 0.2 s), the driver's time storing, and a projection from the
measured cost per document to 10^4-10^6 documents on N workers, with the assumptions it rests on.

    .venv/bin/python bench/scale.py [--model default] [--docs 24] [--documents FILE.jsonl] [--home DIR]

`--home` only says where the converted model is (its `models/`, or PRAG_MODEL_CACHE); documents come
from `--documents` (default: the demo collection's 24).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import tempfile
import threading
import time
from pathlib import Path

from prag.process import configure_process

configure_process()  # a benchmark is a process prag starts

from prag.config import ClusterConfig  # noqa: E402
from prag.eval import demo  # noqa: E402
from prag.paths import MODEL_CACHE_ENV, model_cache, prag_home  # noqa: E402

WORKER_TITLE = "ray::ModelWorker"
DOCUMENT_COUNTS = (10**4, 10**5, 10**6)
WORKER_COUNTS = (1, 8, 64, 512)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", default=None)
    parser.add_argument("--model", default="default")
    parser.add_argument("--docs", type=int, default=24)
    parser.add_argument("--documents", default=None, help="JSONL documents (default: the demo collection's)")
    args = parser.parse_args()

    # Every variant's home is new, so that nothing is reused; the converted model is shared.
    os.environ.setdefault(MODEL_CACHE_ENV, str(model_cache(prag_home(args.home))))
    job = {"model": args.model, "docs": args.docs, "documents": args.documents or str(demo.documents_file())}
    context = multiprocessing.get_context("spawn")
    results = {}
    for variant in ("one process", "ray 2x1"):
        with context.Pool(1) as pool:
            results[variant] = r = pool.apply(run_variant, (variant, job))
        print(
            f"{variant:>12}: {r['docs']} documents in {r['seconds']:.1f} s = {3600 * r['docs'] / r['seconds']:.0f} documents/hour; "
            f"peak memory {', '.join(f'{gb:.2f} GB' for gb in r['peak_gb'])} ({r['memory_of']})",
            flush=True,
        )
    alone, ray = results["one process"], results["ray 2x1"]
    print(f"ray 2x1 / one process: {alone['seconds'] / ray['seconds']:.2f}x the documents per hour on this machine ({os.cpu_count()} CPUs)")
    project(ray, workers=2)


def run_variant(variant: str, job: dict) -> dict:
    import torch

    from prag import Prag
    from prag.build import Builder

    torch.set_num_threads(2)
    stored = _time_storing(Builder)
    with tempfile.TemporaryDirectory() as home:
        prag = Prag(home, collection="scale", model=job["model"])
        prag.add([job["documents"]])
        ids = [d.id for d in prag.documents()[: job["docs"]]]
        sampler = _WorkerMemory() if variant.startswith("ray") else None
        start = time.perf_counter()
        if sampler:
            sampler.start()
            report = prag.build(only=ids, cluster=ClusterConfig(workers=2, cpus_per_worker=1))
            sampler.stop()
        else:
            report = prag.build(only=ids)
        seconds = time.perf_counter() - start
        status = prag.status()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    if sampler:
        peaks, of = sampler.peaks_gb(), f"each worker; the driver {own:.2f} GB"
    else:
        peaks, of = [own], "the process"
    return {
        "docs": report.encoded, "seconds": seconds, "peak_gb": peaks, "memory_of": of,
        "store_seconds": stored["seconds"], "adapter_bytes": status.adapter_bytes / max(status.encoded, 1),
    }


def _time_storing(builder: type) -> dict:
    """Wraps the driver's two store steps with a clock: what bounds how many workers one driver can feed."""
    total = {"seconds": 0.0}
    for name in ("store_augmentation", "store_adapter"):
        original = getattr(builder, name)

        def timed(self, *args, _original=original):
            start = time.perf_counter()
            try:
                return _original(self, *args)
            finally:
                total["seconds"] += time.perf_counter() - start

        setattr(builder, name, timed)
    return total


class _WorkerMemory(threading.Thread):
    """Peak resident memory of each Ray worker process (named after its actor), sampled."""

    def __init__(self, every_s: float = 0.2):
        super().__init__(daemon=True)
        self.every_s = every_s
        self.peaks: dict[int, int] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        import psutil

        while not self.stopping.wait(self.every_s):
            for process in psutil.process_iter(["pid", "cmdline", "memory_info"]):
                cmdline = process.info["cmdline"] or [""]
                if cmdline[0].startswith(WORKER_TITLE) and process.info["memory_info"]:
                    pid = process.info["pid"]
                    self.peaks[pid] = max(self.peaks.get(pid, 0), process.info["memory_info"].rss)

    def stop(self) -> None:
        self.stopping.set()
        self.join()

    def peaks_gb(self) -> list[float]:
        return [rss / 2**30 for _, rss in sorted(self.peaks.items())]


def project(ray: dict, workers: int) -> None:
    worker_seconds = ray["seconds"] * workers / ray["docs"]
    store_seconds = ray["store_seconds"] / ray["docs"]
    print(f"\nprojection: {worker_seconds:.1f} worker-seconds per document (augmentation + encoding, measured above)")
    header = "documents".rjust(10) + "".join(f"{n:>10} workers" for n in WORKER_COUNTS)
    print(header)
    for count in DOCUMENT_COUNTS:
        cells = "".join(f"{_duration(count * max(worker_seconds / n, store_seconds)):>18}" for n in WORKER_COUNTS)
        print(f"{count:>10}{cells}")
    feedable = worker_seconds / store_seconds if store_seconds else float("inf")
    print(
        "assumptions: every worker is one CPU thread as fast as this machine's; documents like these in length and "
        "augmentation; workers scale linearly (no shared resource but the driver); the driver stores one document in "
        f"{store_seconds * 1000:.1f} ms, so it can feed about {feedable:.0f} workers before storing is the bound; "
        f"indexing (BM25) not included. Adapters take {ray['adapter_bytes'] / 2**20:.2f} MiB each: "
        + ", ".join(f"{count:.0e} documents {count * ray['adapter_bytes'] / 2**40:.2f} TiB" for count in DOCUMENT_COUNTS)
    )


def _duration(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f} days"
    return f"{seconds / 3600:.1f} h"


if __name__ == "__main__":
    main()
