"""The real backend and the app as subprocesses, and the API calls tests make around them.

`Backend.start(tmp)` runs `canteen serve` (the test kit's ApiProcess, as the backend
suite's cluster tests do) on a free port with its own data directory
(the embedded default: SQLite, demo menu and accounts, the payment sandbox mounted at
`/sandbox/razorpay`, the dev outbox). `prepare_menu()` adds an all-day time slot as the
admin would (the demo's slots depend on the clock) and puts a few dishes in it, so every
test can order whatever the time; its kitchen has a whole day's minutes in every window
(ROOMY_KITCHEN). The backend, the app's process and the tests' app states all run on the
test kit's clock shift (CLOCK_OFFSET: 10:00 canteen time, as the backend suite), so no test
meets the slot's last minutes before midnight.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from canteen_testkit.servers import ApiProcess, free_port, stop_process, wait_http
from canteen_testkit.stack import clock_offset

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ADMIN = ("+919000000001", "canteen-admin")
KITCHEN = ("+919000000002", "canteen-kitchen")
# Kitchen minutes per window of the all-day slot: the suite's many orders share one backend
# at the real hour, and the default (15 for the demo's one kitchen account) ran out in the
# evening's few remaining windows.
ROOMY_KITCHEN = 24 * 60
# Seconds every clock of the suite runs ahead of real time (the backend's and the app's).
CLOCK_OFFSET = clock_offset()
DEFAULT_DISHES = (
    "Masala Dosa",
    "Masala Chai",
    "Samosa (2 pcs)",
    "Egg Puff",
    "Chicken Roll",
    "Veg Hakka Noodles",
    "Gulab Jamun (2 pcs)",
)


def stop(proc: subprocess.Popen[bytes]) -> None:
    stop_process(proc, sig=signal.SIGINT)


@dataclass
class Backend:
    """`canteen serve` on the embedded default (migrates and seeds the demo on start)."""

    server: ApiProcess
    data_dir: Path

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def log_path(self) -> Path:
        return self.server.log_path

    @property
    def origin(self) -> str:
        return self.server.origin

    @property
    def api(self) -> str:
        return f"{self.origin}/api/v1"

    @classmethod
    def start(cls, tmp: Path) -> Backend:
        data_dir = tmp / "backend-data"
        data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            "CANTEEN_DATA_DIR": str(data_dir),
            "CANTEEN_LOG_LEVEL": "WARNING",
            # Every test signs in from 127.0.0.1: lift the per-IP limits (the per-phone
            # OTP limits, which the tests rely on, stay as shipped).
            "CANTEEN_OTP_REQUESTS_PER_HOUR_PER_IP": "1000",
            "CANTEEN_AUTH_ATTEMPTS_PER_MINUTE_PER_IP": "1000",
            "CANTEEN_CLOCK_OFFSET_SECONDS": repr(CLOCK_OFFSET),
        }
        server = ApiProcess(
            env,
            tmp / "backend.log",
            defaults={},
            drop=("CANTEEN_DATABASE_URL", "CANTEEN_REDIS_URL", "CANTEEN_ENV"),
            cwd=tmp,
        )
        try:
            wait_http(f"{server.origin}/healthz", 90, server.proc)
        except Exception:
            server.stop(sig=signal.SIGINT, strict=False)
            raise RuntimeError(server.log_tail()) from None
        return cls(server, data_dir)

    def stop(self) -> None:
        self.server.stop(sig=signal.SIGINT, strict=False)


@dataclass
class Staff:
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class DemoMenu:
    slot: str
    dishes: dict[str, str] = field(default_factory=dict)  # name -> id (in the all-day slot)
    other_slot_dish: tuple[str, str] | None = None  # a dish not sold in the all-day slot


class Api:
    """Plain HTTP calls the tests make as the admin, the kitchen or a tester."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.http = httpx.Client(base_url=backend.api, timeout=15.0)
        self._staff: dict[tuple[str, str], Staff] = {}

    def close(self) -> None:
        self.http.close()

    def staff(self, who: tuple[str, str]) -> Staff:
        if who not in self._staff:  # access tokens last an hour: longer than the tests
            r = self.http.post("/auth/staff-login", json={"phone": who[0], "password": who[1]})
            r.raise_for_status()
            self._staff[who] = Staff(r.json()["data"]["access_token"])
        return self._staff[who]

    def latest_otp(self, phone: str, *, after: int = 0, timeout: float = 15.0) -> str:
        """The newest code texted to `phone` (waits for message number `after + 1`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.http.get("/dev/outbox", params={"channel": "sms", "to": phone})
            messages = r.json()["data"]
            if len(messages) > after:
                match = re.search(r"\b(\d{6})\b", messages[0]["body"] or "")
                if match:
                    return match.group(1)
            time.sleep(0.2)
        raise TimeoutError(f"no OTP for {phone}")

    def sms_count(self, phone: str) -> int:
        r = self.http.get("/dev/outbox", params={"channel": "sms", "to": phone})
        return len(r.json()["data"])

    def prepare_menu(self, names: tuple[str, ...] = ()) -> DemoMenu:
        """An all-day slot that wins over the demo's (sort order -1), with some dishes."""
        admin = self.staff(ADMIN)
        slots = self.http.get("/admin/time-slots", headers=admin.headers).json()["data"]
        if not any(s["code"] == "allday" for s in slots):
            r = self.http.post(
                "/admin/time-slots",
                headers=admin.headers,
                json={
                    "code": "allday",
                    "label": "All day",
                    "start_time": "00:00:00",
                    "end_time": "23:59:59",
                    "sort_order": -1,
                },
            )
            r.raise_for_status()
        self.set_capacity(ROOMY_KITCHEN)
        items = self.http.get("/admin/menu/items", headers=admin.headers).json()["data"]
        wanted = names or DEFAULT_DISHES
        menu = DemoMenu(slot="allday")
        for item in items:
            if item["name"] in wanted:
                if "allday" not in item["time_slots"]:
                    r = self.http.patch(
                        f"/admin/menu/items/{item['id']}",
                        headers=admin.headers,
                        json={"time_slots": [*item["time_slots"], "allday"]},
                    )
                    r.raise_for_status()
                menu.dishes[item["name"]] = item["id"]
            elif menu.other_slot_dish is None and "allday" not in item["time_slots"]:
                menu.other_slot_dish = (item["name"], item["id"])
        missing = set(wanted) - set(menu.dishes)
        assert not missing, f"the demo menu has no {missing}"
        return menu

    def set_capacity(self, minutes: int | None) -> None:
        """The all-day slot's kitchen minutes per window (None: the staff's default)."""
        r = self.http.put(
            "/admin/kitchen/capacity",
            json={"time_slot": "allday", "minutes_per_window": minutes},
            headers=self.staff(ADMIN).headers,
        )
        r.raise_for_status()

    def set_config(self, **values: Any) -> None:
        admin = self.staff(ADMIN)
        r = self.http.patch("/admin/config", headers=admin.headers, json=values)
        r.raise_for_status()

    def set_available(self, item_id: str, available: bool) -> None:
        kitchen = self.staff(KITCHEN)
        r = self.http.patch(
            f"/admin/menu/items/{item_id}/availability",
            headers=kitchen.headers,
            json={"is_available": available},
        )
        r.raise_for_status()

    def set_status(self, order_id: str, status: str, **extra: Any) -> dict[str, Any]:
        kitchen = self.staff(KITCHEN)
        r = self.http.patch(
            f"/admin/orders/{order_id}/status",
            headers=kitchen.headers,
            json={"status": status, **extra},
        )
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()["data"]
        return data

    def handover(self, order_id: str, pickup_code: str) -> dict[str, Any]:
        kitchen = self.staff(KITCHEN)
        r = self.http.post(
            f"/admin/orders/{order_id}/handover",
            headers=kitchen.headers,
            json={"pickup_code": pickup_code},
        )
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()["data"]
        return data

    def kitchen_order(self, order_id: str) -> dict[str, Any]:
        kitchen = self.staff(KITCHEN)
        r = self.http.get(f"/admin/orders/{order_id}", headers=kitchen.headers)
        r.raise_for_status()
        data: dict[str, Any] = r.json()["data"]
        return data

    def find_orders(self, q: str) -> list[dict[str, Any]]:
        kitchen = self.staff(KITCHEN)
        r = self.http.get("/admin/orders", headers=kitchen.headers, params={"q": q})
        r.raise_for_status()
        data: list[dict[str, Any]] = r.json()["data"]
        return data

    def sandbox_pay(self, gateway_order_id: str, outcome: str = "success") -> dict[str, Any]:
        r = httpx.post(
            f"{self.backend.origin}/sandbox/razorpay/sandbox/pay",
            json={"order_id": gateway_order_id, "outcome": outcome},
            timeout=15.0,
        )
        r.raise_for_status()
        data: dict[str, Any] = r.json()
        return data


@dataclass
class AppProcess:
    port: int
    proc: subprocess.Popen[bytes]
    data_dir: Path
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, tmp: Path, api: str, *, renderer: str | None = None) -> AppProcess:
        port = free_port()
        data_dir = tmp / "app-data"
        env = {
            **os.environ,
            "CANTEEN_APP_LOG_LEVEL": "INFO",
            "CANTEEN_APP_CLOCK_OFFSET_SECONDS": repr(CLOCK_OFFSET),
        }
        if renderer:
            env["FLET_WEB_RENDERER"] = renderer
        log_path = tmp / "app.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [
                    str(BIN / "canteen-app"),
                    "--web",
                    "--port",
                    str(port),
                    "--api",
                    api,
                    "--data-dir",
                    str(data_dir),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=tmp,
            )
        app = cls(port, proc, data_dir, log_path)
        try:
            wait_http(app.url + "/", 60, proc)
        except Exception:
            stop(proc)
            raise RuntimeError(log_path.read_text()[-3000:]) from None
        return app

    def stop(self) -> None:
        stop(self.proc)
