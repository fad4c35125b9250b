"""Real servers for tests: uvicorn for a test's app in its own event loop, and API
processes (`canteen serve`) started, waited for and stopped the same way everywhere."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from canteen_testkit.commands import serve_command

# What an extra API process of a test's cluster must not do: the test's database is
# already migrated and seeded as the test wants it.
CLUSTER_DEFAULTS = {"CANTEEN_AUTO_MIGRATE": "false", "CANTEEN_SEED_DEMO": "false"}


def free_port() -> int:
    """A free port below the kernel's ephemeral range, for a server started later.

    A port the kernel hands out (bind to 0) comes from the ephemeral range, where it can
    be given to an outgoing connection before the server binds it, seconds later
    ("address already in use"); no outgoing connection is given one below that range.
    """
    low = _ephemeral_low()
    while True:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", random.randrange(10000, low) if low > 11000 else 0))
            except OSError:
                continue
            return int(s.getsockname()[1])


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0  # not Linux: the kernel's choice


def wait_http(
    url: str,
    timeout: float = 60.0,
    proc: subprocess.Popen[bytes] | None = None,
    *,
    ok: int = 500,
) -> None:
    """Until `url` answers below `ok` (any answer but a server error, by default)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=2.0).status_code < ok:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer in {timeout:.0f}s")


def stop_process(proc: subprocess.Popen[bytes], *, sig: int = signal.SIGTERM) -> None:
    """Ask politely (`sig`), then kill after 10 s."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """`app` on uvicorn in this event loop, on a free port; yields "127.0.0.1:PORT"."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        lifespan="off",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


class ApiProcess:
    """`canteen serve` as a subprocess on a free port, its output in `log_path`.

    `env` is laid over this process's environment and CLUSTER_DEFAULTS (pass
    `defaults={}` for a first start that migrates and seeds); `drop` removes variables."""

    def __init__(
        self,
        env: Mapping[str, str],
        log_path: Path,
        *,
        defaults: Mapping[str, str] = CLUSTER_DEFAULTS,
        drop: tuple[str, ...] = (),
        cwd: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.log_path = log_path
        full = {**os.environ, **defaults, **env}
        for key in drop:
            full.pop(key, None)
        self._log = open(log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            serve_command(self.port),
            env=full,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
        )

    @property
    def origin(self) -> str:
        return f"http://{self.host}"

    def wait_ready(self, timeout: float = 60, path: str = "/readyz") -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.origin}{path}", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, "API process exited:\n" + self.log_tail()
            assert time.monotonic() < deadline, "API process did not become ready"
            time.sleep(0.2)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self, *, sig: int = signal.SIGTERM, strict: bool = True) -> None:
        """`sig`, then SIGKILL after 15 s; `strict`: a process that had to be killed
        fails the caller (a clean shutdown is part of what cluster tests check)."""
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
                    if strict:
                        raise
        finally:
            self._log.close()


@contextmanager
def api_processes(env: dict[str, str], log_dir: Path, count: int = 2) -> Iterator[list[ApiProcess]]:
    """`count` real API processes (`canteen serve`) with `env`, ready to serve; stopped after."""
    procs: list[ApiProcess] = []
    try:
        for i in range(count):
            procs.append(ApiProcess(env, log_dir / f"api-{i}.log"))
        for proc in procs:
            proc.wait_ready()
        yield procs
    finally:
        for proc in procs:
            proc.stop()
