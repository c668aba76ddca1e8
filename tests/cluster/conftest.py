"""Ray for the cluster tests: real Ray processes on this machine, none left running after a test.

`ray` is an optional extra; `make setup` installs it from the lock file, so CI runs these tests."""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from ..conftest import FAST

pytest.importorskip("ray")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


@pytest.fixture(scope="session", autouse=True)
def own_ray_token():
    """Ray's token authentication with a token of these tests' own, for every Ray process they start,
    instead of the user's ~/.ray/auth_token (which a first local Ray would otherwise write)."""
    from ray._private.authentication_test_utils import reset_auth_token_state

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_AUTH_MODE", "token")
        patch.setenv("RAY_AUTH_TOKEN", secrets.token_hex(32))
        patch.delenv("RAY_AUTH_TOKEN_PATH", raising=False)
        reset_auth_token_state()  # Ray reads the mode and token once and keeps them
        yield
    reset_auth_token_state()

TRAINING = replace(FAST, recipe=replace(FAST.recipe, epochs=40))
"""Forty steps per document: each encoding batch runs long enough (about a second on the tiny model) for a
test to kill its worker in the middle of it."""


def write_towns(path: Path, count: int = 12) -> Path:
    """`count` invented documents of different lengths, so that the encoder forms several batches."""
    rows = [
        {"id": f"town{i}", "title": f"Town {i}", "text": f"Town {i} lies on the river Arn{i}. " * (1 + i % 4) + f"It was founded in {1800 + i}."}
        for i in range(count)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def towns(tmp_path) -> Path:
    return write_towns(tmp_path / "towns.jsonl")


class WorkerKiller(threading.Thread):
    """Kills (SIGKILL) the first Ray worker process seen running `ModelWorker.<method>`: a worker lost in
    the middle of a batch. Ray names a worker process after the actor method it runs."""

    def __init__(self, method: str, timeout_s: float = 120.0):
        super().__init__(daemon=True)
        self.title = f"ray::ModelWorker.{method}"
        self.deadline = time.monotonic() + timeout_s
        self.killed: list[int] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        import psutil

        while not self.stopping.is_set() and time.monotonic() < self.deadline:
            for process in psutil.process_iter(["pid", "cmdline"]):
                cmdline = process.info["cmdline"] or [""]
                if cmdline[0] == self.title:
                    process.kill()
                    self.killed.append(process.info["pid"])
                    return
            time.sleep(0.005)

    def stop(self) -> None:
        self.stopping.set()
        self.join()
