"""A real two-node Ray cluster on this machine (`ray start --head` and a second `ray start --address`,
each with one CPU), one worker process killed in the middle of an encoding batch: the build still ends
with every document encoded exactly once. The nodes are stopped at the end, by their process ids."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import ray

from prag import Prag
from prag.config import ClusterConfig

from ..test_build import count_saves
from .conftest import TRAINING, WorkerKiller

START_TIMEOUT_S = 120


@pytest.fixture
def two_nodes(tmp_path):
    port = _free_port()
    env = dict(os.environ)  # with the tests' own Ray token (conftest.py)
    ray_cli = str(Path(sys.executable).with_name("ray"))
    node = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats", "--block"]
    nodes: list[subprocess.Popen] = []
    try:
        head = ["start", "--head", "--port", str(port), "--include-dashboard", "false", *node]
        nodes.append(_start(ray_cli, head, env, tmp_path / "head.log"))
        _wait_for_port(port, nodes[0])
        nodes.append(_start(ray_cli, ["start", "--address", f"127.0.0.1:{port}", *node], env, tmp_path / "worker.log"))
        address = f"127.0.0.1:{port}"
        _wait_for_nodes(address, 2)
        yield address
    finally:
        _stop(nodes)


def test_a_worker_killed_on_a_two_node_cluster_loses_nothing(two_nodes, tiny_model_dir, towns, monkeypatch):
    prag = Prag(model=str(tiny_model_dir), settings=TRAINING)
    prag.add([towns])
    saved = count_saves(monkeypatch)
    killer = WorkerKiller("encode", timeout_s=START_TIMEOUT_S + 120)
    killer.start()
    try:
        report = prag.build(cluster=ClusterConfig(address=two_nodes, workers=2))
    finally:
        killer.stop()
    assert len(killer.killed) == 1, "no worker was killed mid-batch"
    assert (report.augmented, report.encoded, report.failed) == (12, 12, {})
    assert sorted(saved) == sorted({d.content_hash for d in prag.documents()})  # each stored once, none lost
    assert not ray.is_initialized()  # the build disconnected from the cluster it was given


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(ray_cli: str, args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen([ray_cli, *args], env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`ray start --head` exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    pytest.fail(f"the head node did not listen on port {port} within {START_TIMEOUT_S} s")


def _wait_for_nodes(address: str, count: int) -> None:
    ray.init(address=address, logging_level="error", log_to_driver=False)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while sum(n["Alive"] for n in ray.nodes()) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"fewer than {count} Ray nodes alive after {START_TIMEOUT_S} s")
            time.sleep(0.5)
    finally:
        ray.shutdown()


def _stop(nodes: list[subprocess.Popen]) -> None:
    """`ray start --block` stops the processes it started when it is sent SIGTERM; any left after that
    are killed by id. The worker node goes first, then the head."""
    for process in reversed(nodes):
        try:
            children = psutil.Process(process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for child in children:
            if child.is_running():
                child.kill()
