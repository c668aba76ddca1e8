"""A real `prag serve` on a loopback port, as users run it, for the tests that speak to it over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FILLER = [{"id": f"filler-{i}", "title": f"Filler {i}", "text": f"Filler document number {i} talks about weather in place {i}."} for i in range(4)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, home: Path, model: Path, token_file: Path):
        self.home, self.model, self.token_file = home, model, token_file
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.port = 0

    @classmethod
    def in_folder(cls, folder: Path, model: Path) -> "Server":
        """A server whose home and token file are in `folder`, its writes guarded by `TOKEN`."""
        token_file = folder / "token"
        token_file.write_text(TOKEN + "\n")
        return cls(folder / "server-home", model, token_file)

    def start(self) -> "Server":
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "prag.cli.main", "--home", str(self.home), "--model", str(self.model),
                   "serve", "--port", str(self.port), "--token-file", str(self.token_file)]
        self.process = subprocess.Popen(command, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stderr.read().decode()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("server did not come up")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def get(self, path: str, **kw) -> httpx.Response:
        return httpx.get(self.url + path, timeout=60, **kw)

    def post(self, path: str, **kw) -> httpx.Response:
        return httpx.post(self.url + path, timeout=60, **kw)

    def delete(self, path: str, **kw) -> httpx.Response:
        return httpx.delete(self.url + path, timeout=60, **kw)

    def counts(self) -> dict[str, int]:
        return self.get("/healthz").json()["documents"]

    def wait_encoded(self, ids: list[str], timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = {i: self.get(f"/v1/documents/{i}").json()["status"] for i in ids}
            assert "failed" not in states.values(), states
            if set(states.values()) == {"encoded"}:
                return
            time.sleep(0.3)
        raise AssertionError(f"not encoded in time: {states}")
