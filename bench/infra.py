"""Processes for the benchmark: a private Redis, a fresh PostgreSQL database, the API
(`canteen serve`), a Celery worker, the Razorpay sandbox and the ceiling apps; their
command lines are the test kit's (canteen_testkit.commands), as in the test suites.

Everything listens on 127.0.0.1, is started by us, pinned with `sched_setaffinity`
(inherited by children, like `taskset`), and stopped by its own pid.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# The same command lines and free ports as the test suites' harness (the test kit).
from canteen_testkit.commands import celery_worker_command, sandbox_command, serve_command
from canteen_testkit.servers import free_port

__all__ = ["free_port"]

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BIN = Path(PYTHON).parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

# Same uvicorn settings as `canteen serve` (canteen/cli.py `_serve`): auto loop (uvloop)
# and auto HTTP parser (httptools), no uvicorn access log, sans-io WebSockets without
# per-message deflate.
UVICORN = """
import sys, uvicorn
uvicorn.run(sys.argv[1], factory=True, host="127.0.0.1", port=int(sys.argv[2]),
            workers=int(sys.argv[3]), access_log=False, log_config=None,
            ws="websockets-sansio", ws_per_message_deflate=False, log_level="warning")
"""

# Rate limits raised for the load: every simulated student signs in from 127.0.0.1.
LOAD_LIMITS = {
    "CANTEEN_OTP_REQUESTS_PER_HOUR_PER_IP": "1000000",
    "CANTEEN_AUTH_ATTEMPTS_PER_MINUTE_PER_IP": "1000000",
    "CANTEEN_OTP_SENDS_PER_HOUR_PER_PHONE": "1000",
    "CANTEEN_OTP_RESEND_COOLDOWN_SECONDS": "1",
}


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CANTEEN_", "BENCH_"))}
    env.update(extra)
    return env


@contextlib.contextmanager
def no_full_collections() -> Iterator[None]:
    """No full garbage collection in this (the generator's) process meanwhile.

    The generator times every request from its event loop, so a pause of its own counts
    as the servers' latency: in the rush a full collection of what a run keeps (its
    records, every socket's messages) stopped it for up to 200 ms (issue 20). Young
    garbage is still collected; what survived into the oldest generation is collected
    at the end."""
    first, second, third = gc.get_threshold()
    gc.collect()
    gc.set_threshold(first, second, 1_000_000_000)  # full collections: never by count
    try:
        yield
    finally:
        gc.set_threshold(first, second, third)
        gc.collect()


def set_affinity(cpus: Iterable[int] | None) -> None:
    """Pin this process (and what it starts later) to `cpus`, if the machine has them."""
    if cpus is None:
        return
    wanted = {c for c in cpus if c < (os.cpu_count() or 1)}
    if wanted:
        os.sched_setaffinity(0, wanted)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGINT)
        try:
            self.popen.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            pass
        self.popen.terminate()
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()

    def serving_pids(self) -> list[int]:
        """The processes that answer requests: uvicorn's workers when it forked some,
        else the process itself."""
        kids = children(self.pid)
        # uvicorn's multiprocess supervisor also starts a resource tracker; workers are
        # the children that listen (they have our interpreter and more than one thread
        # is not a reliable mark), so take children that hold many fds or are python.
        workers = [k for k in kids if _is_worker(k)]
        return workers or [self.pid]


def _is_worker(pid: int) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"multiprocessing" in cmd and b"resource_tracker" not in cmd


def children(pid: int) -> list[int]:
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                out += [int(x) for x in (task / "children").read_text().split()]
    return out


def start(
    name: str,
    argv: Sequence[str],
    env: dict[str, str],
    log: Path,
    cpus: Iterable[int] | None,
    port: int | None = None,
) -> Proc:
    cpu_set = None if cpus is None else {c for c in cpus if c < (os.cpu_count() or 1)}

    def pin() -> None:
        if cpu_set:
            os.sched_setaffinity(0, cpu_set)

    with log.open("ab") as out:
        popen = subprocess.Popen(  # noqa: S603 - our own interpreter and tools
            list(argv),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
            preexec_fn=pin,
            start_new_session=True,  # a Ctrl-C of the runner is handled by the runner
        )
    return Proc(name, popen, log, port)


def wait_http(proc: Proc, url: str, timeout: float = 60.0, want: int = 200) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited; see {proc.log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - 127.0.0.1
                if r.status == want:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code == want:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{proc.name} did not become ready at {url}; see {proc.log}")
        time.sleep(0.2)


def wait_port(proc: Proc, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if not proc.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{proc.name} did not start; see {proc.log}") from None
            time.sleep(0.1)


# ---- measurements of our processes -----------------------------------------------------


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def total_cpu(pids: Iterable[int]) -> float:
    return sum(cpu_seconds(p) for p in pids)


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its live descendants (a Celery worker's pool)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(current := todo.pop())
        todo.extend(children.get(current, ()))
    return total_cpu(tree)


def cpu_busy_ticks(cpus: Iterable[int]) -> tuple[int, int]:
    """(busy, total) jiffies of these CPUs from /proc/stat: how loaded the cores are,
    whatever runs on them (the API, the jobs, the sandbox, PostgreSQL)."""
    busy = total = 0
    wanted = {f"cpu{c}" for c in cpus}
    with contextlib.suppress(OSError):
        for line in Path("/proc/stat").read_text().splitlines():
            name, *fields = line.split()
            if name in wanted:
                values = [int(v) for v in fields[:8]]
                idle = values[3] + values[4]  # idle + iowait
                total += sum(values)
                busy += sum(values) - idle
    return busy, total


def total_rss_kb(pids: Iterable[int]) -> int:
    return sum(rss_kb(p) for p in pids)


# ---- the pieces --------------------------------------------------------------------------


@contextlib.contextmanager
def private_redis(work: Path, cpus: Iterable[int] | None) -> Iterator[str]:
    """A Redis of our own: pub/sub channels are server-wide (not per database number),
    so on the shared Redis our events would reach other engineers' test servers and
    theirs ours. Falls back to the shared Redis (databases 10/11) if redis-server is
    missing."""
    exe = shutil.which("redis-server")
    if exe is None:
        yield "redis://127.0.0.1:6379"
        return
    port = free_port()
    proc = start(
        "redis",
        [
            exe,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(work),
            "--maxclients",
            "20000",
            "--protected-mode",
            "yes",
        ],
        clean_env({}),
        work / "redis.log",
        cpus,
        port,
    )
    try:
        wait_port(proc, port)
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.stop()


def recreate_database(admin_url: str, name: str) -> str:
    """Drop and create `name`; returns its URL (postgresql://...)."""
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(run())
    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_database(admin_url: str, name: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    with contextlib.suppress(Exception):
        asyncio.run(run())


def lunch_zone(now: datetime | None = None) -> str:
    """A fixed-offset zone where it is between 12:00 and 13:00 now: the demo canteen's
    lunch slot (12:00-15:00) is then being served for the whole bench run."""
    now = now or datetime.now(UTC)
    hours = now.hour + now.minute / 60
    offset = round(12.5 - hours)  # -11 .. +12, inside the Etc zones' -12 .. +14
    # POSIX sign: Etc/GMT-5 is five hours ahead of UTC.
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


def app_env(
    *,
    work: Path,
    database_url: str,
    redis_base: str,
    redis_db: int,
    port: int,
    sandbox_port: int | None,
) -> dict[str, str]:
    env = {
        "CANTEEN_ENV": "development",
        "CANTEEN_DATA_DIR": str(work),
        "CANTEEN_DATABASE_URL": database_url,
        "CANTEEN_REDIS_URL": f"{redis_base}/{redis_db}",
        "CANTEEN_CELERY_BROKER_URL": f"{redis_base}/{redis_db + 1}",
        "CANTEEN_AUTO_MIGRATE": "true",
        "CANTEEN_SEED_DEMO": "true",
        "CANTEEN_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        **LOAD_LIMITS,
    }
    if sandbox_port is not None:
        env["CANTEEN_RAZORPAY_BASE_URL"] = f"http://127.0.0.1:{sandbox_port}"
    return clean_env(env)


def start_api(env: dict[str, str], port: int, workers: int, log: Path, cpus: Iterable[int]) -> Proc:
    proc = start(
        "api",
        serve_command(port, workers=workers),
        env,
        log,
        cpus,
        port,
    )
    wait_http(proc, f"http://127.0.0.1:{port}/readyz", timeout=120)
    if workers > 1:  # every worker up (each answers /readyz once its lifespan ran)
        deadline = time.monotonic() + 60
        while len(proc.serving_pids()) < workers and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
    return proc


def start_celery(env: dict[str, str], log: Path, cpus: Iterable[int]) -> Proc:
    proc = start(
        "celery",
        celery_worker_command(loglevel="WARNING"),
        env,
        log,
        cpus,
    )
    deadline = time.monotonic() + 60
    while b"[queues]" not in log.read_bytes()[-20000:]:  # the banner; `stack` then
        if not proc.alive() or time.monotonic() > deadline:  # checks a job end to end
            raise RuntimeError(f"celery did not start; see {log}")
        time.sleep(0.3)
    return proc


def start_sandbox(
    env: dict[str, str], port: int, webhook_url: str, log: Path, cpus: Iterable[int]
) -> Proc:
    proc = start(
        "sandbox",
        sandbox_command(port, webhook_url=webhook_url),
        env,
        log,
        cpus,
        port,
    )
    wait_port(proc, port)
    return proc


def start_uvicorn_app(
    name: str,
    app: str,
    env: dict[str, str],
    workers: int,
    log: Path,
    cpus: Iterable[int],
) -> Proc:
    """A bench app (a factory) under the same uvicorn settings as `canteen serve`."""
    port = free_port()
    proc = start(name, [PYTHON, "-c", UVICORN, app, str(port), str(workers)], env, log, cpus, port)
    wait_port(proc, port, timeout=60)
    if workers > 1:
        deadline = time.monotonic() + 30
        while len(proc.serving_pids()) < workers and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
    return proc


def loadavg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())
