"""The command lines that start the backend's processes, one place for every harness
(the test stack, the app's backend, the benchmarks)."""

from __future__ import annotations

import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def serve_command(port: int, *, workers: int | None = None) -> list[str]:
    """`canteen serve` on `port` (the console script of this environment)."""
    command = [str(BIN / "canteen"), "serve", "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    return command


def celery_worker_command(*extra: str, loglevel: str = "INFO") -> list[str]:
    """A Celery worker on the API's task app: one task at a time, no gossip or mingle
    (they only slow a start on one machine)."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "canteen.worker",
        "worker",
        "--pool=solo",
        f"--loglevel={loglevel}",
        "--without-gossip",
        "--without-mingle",
        *extra,
    ]


def sandbox_command(port: int, *, webhook_url: str | None = None) -> list[str]:
    """The Razorpay sandbox standalone (`python -m canteen_sandbox`)."""
    command = [sys.executable, "-m", "canteen_sandbox", "--port", str(port)]
    if webhook_url is not None:
        command += ["--webhook-url", webhook_url]
    return command
