"""Load test of `prag serve` on loopback: N concurrent clients × M asks each, against a real server.

Starts the server on a free port over a fresh home with the bundled demo documents (encoded first, so
`auto` answers parametrically), then runs the clients and prints errors, p50/p95/max latency, throughput
and how many questions shared a generation.

    .venv/bin/python bench/serve_load.py --clients 8 --asks 50            # the embedded default model
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from prag.process import configure_process

configure_process()  # a benchmark is a process prag starts

from prag.eval import demo


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(home: Path, model: str, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "prag.cli.main", "--home", str(home), "--model", model, "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("server did not start")


def wait_encoded(url: str, count: int) -> None:
    while httpx.get(f"{url}/healthz").json()["documents"]["encoded"] < count:
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--asks", type=int, default=50)
    parser.add_argument("--model", default="default")
    parser.add_argument("--mode", default="auto")
    args = parser.parse_args()
    documents = [json.loads(line) for line in demo.documents_file().read_text().splitlines() if line.strip()]
    questions = [q.question for q in demo.questions()]
    with tempfile.TemporaryDirectory() as home:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start(Path(home), args.model, port)
        try:
            httpx.post(f"{url}/v1/documents", json={"documents": documents}, timeout=60).raise_for_status()
            started = time.perf_counter()
            wait_encoded(url, len(documents))
            print(f"{len(documents)} documents encoded by the background worker in {time.perf_counter() - started:.0f} s")
            latencies: list[float] = []
            errors: list[str] = []

            def client(n: int) -> None:
                with httpx.Client(timeout=600) as http:
                    for i in range(args.asks):
                        question = questions[(n * args.asks + i) % len(questions)]
                        t = time.perf_counter()
                        response = http.post(f"{url}/v1/ask", json={"question": question, "mode": args.mode})
                        latencies.append(time.perf_counter() - t)
                        if response.status_code != 200:
                            errors.append(f"{response.status_code} {response.text[:100]}")

            started = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(client, range(args.clients)))
            wall = time.perf_counter() - started
            metrics = httpx.get(f"{url}/metrics").text
        finally:
            server.terminate()
            server.wait()
    batches = next(float(l.split()[-1]) for l in metrics.splitlines() if l.startswith("prag_ask_batch_size_count"))
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{args.clients} clients × {args.asks} asks, mode {args.mode}, model {args.model}")
    print(f"errors {len(errors)} of {len(latencies)}" + (f": {errors[:3]}" if errors else ""))
    print(f"latency p50 {cuts[49]:.3f} s, p95 {cuts[94]:.3f} s, max {max(latencies):.3f} s")
    print(f"throughput {len(latencies) / wall:.2f} questions/s; {len(latencies) / batches:.1f} questions per generation on average")


if __name__ == "__main__":
    main()
