"""Schemathesis against a live server: the OpenAPI document must tell the truth (issue 13).

A real `canteen serve` process (uvicorn) on this run's backend — the embedded default, or
PostgreSQL + Redis with the suite's Celery worker — seeded with the demo canteen. The
schemathesis CLI then runs every phase (examples, coverage, fuzzing, stateful) with every
check, once signed in as a customer and once as an admin, with a bounded number of cases
per operation (backend/tests/contract/schemathesis.toml). Any 5xx, undocumented status,
response off its schema or wrongly accepted/refused request fails the test, and with it
`make test`.

It runs once per `make test`, in the PostgreSQL + Redis pass (the production topology,
where a NUL byte or an out-of-range number reaches a stricter database): ~4 minutes on a
busy 2-core machine. CANTEEN_SCHEMATHESIS=always runs it in the embedded pass too.
CANTEEN_SCHEMATHESIS_EXAMPLES and CANTEEN_SCHEMATHESIS_SEED override the case budget and
the seed (fixed by default, so CI runs the same cases every time).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import API, BACKEND

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres" and os.environ.get("CANTEEN_SCHEMATHESIS") != "always",
    reason="schemathesis runs in the PostgreSQL pass of make test "
    "(CANTEEN_SCHEMATHESIS=always runs it here too)",
)

HERE = Path(__file__).parent
CONFIG = HERE / "schemathesis.toml"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
EXAMPLES = os.environ.get("CANTEEN_SCHEMATHESIS_EXAMPLES", "10")
SEED = os.environ.get("CANTEEN_SCHEMATHESIS_SEED", "20261204")
ADMIN = ("+919000000001", "canteen-admin")  # the demo canteen's manager (canteen.demo.seed)
CUSTOMER_PHONE = "+919876512345"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(
    base_env: dict[str, str], settings: Any, clean: None, celery_worker: Any, tmp_path: Path
) -> Iterator[str]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        **base_env,
        "CANTEEN_SEED_DEMO": "true",
        "CANTEEN_PUBLIC_BASE_URL": base,
    }
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "canteen.cli", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                if proc.poll() is not None:
                    raise RuntimeError("the server exited:\n" + log_path.read_text()[-3000:])
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the server was not ready in 120 s")
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _tokens(base: str) -> dict[str, str]:
    with httpx.Client(base_url=f"{base}{API}", timeout=15) as c:
        r = c.post("/auth/staff-login", json={"phone": ADMIN[0], "password": ADMIN[1]})
        assert r.status_code == 200, r.text
        admin = r.json()["data"]["access_token"]
        r = c.post("/auth/request-otp", json={"phone": CUSTOMER_PHONE})
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 30
        while True:
            sent = c.get("/dev/outbox", params={"channel": "sms", "to": CUSTOMER_PHONE})
            if sent.json()["data"]:
                break
            assert time.monotonic() < deadline, "no OTP SMS reached the dev outbox"
            time.sleep(0.1)
        match = re.search(r"\b(\d{6})\b", sent.json()["data"][0]["body"])
        assert match
        r = c.post("/auth/verify-otp", json={"phone": CUSTOMER_PHONE, "otp": match.group(1)})
        assert r.status_code == 200, r.text
        customer = r.json()["data"]["access_token"]
    return {"customer": customer, "admin": admin}


# A customer gets 401/403 from every staff route, which the admin run covers (and the
# authorization tests check role by role): the customer run spends its budget elsewhere.
STAFF_ONLY = "^/api/v1/(admin|delivery|dev)/"


def _run(
    base: str, token: str, report_dir: Path, extra: list[str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(CONFIG),
            "run",
            f"{base}/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--max-examples",
            EXAMPLES,
            "--seed",
            SEED,
            "--no-color",
            "--report",
            "junit",
            "--report-dir",
            str(report_dir),
            *extra,
        ],
        # Hypothesis keeps its caches in ./.hypothesis otherwise.
        env={**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": str(report_dir / "hypothesis")},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.timeout(1200)
def test_the_api_keeps_its_openapi_contract(live_server: str, tmp_path: Path) -> None:
    tokens = _tokens(live_server)
    failed: list[str] = []
    for role in ("customer", "admin"):
        started = time.monotonic()
        extra = ["--exclude-path-regex", STAFF_ONLY] if role == "customer" else []
        result = _run(live_server, tokens[role], tmp_path / role, extra)
        summary = result.stdout[result.stdout.rfind("SUMMARY") :] or result.stdout[-3000:]
        print(
            f"schemathesis as {role}: exit {result.returncode} in {time.monotonic() - started:.0f} s"
        )
        print(summary)
        if result.returncode != 0:
            failed.append(f"---- as {role} ----\n{result.stdout[-20000:]}\n{result.stderr[-3000:]}")
    assert not failed, "\n".join(failed)
