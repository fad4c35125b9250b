"""Test harness: one suite, two backends.

CANTEEN_TEST_BACKEND=embedded  SQLite file, in-process key-value store and jobs
CANTEEN_TEST_BACKEND=postgres  PostgreSQL + Redis + a real Celery worker process

Both databases are built by the Alembic migrations. Every test starts from empty
tables and an empty Redis database.

The fixtures (`settings`, `container`, `app`, `client`, `razorpay_sandbox`,
`celery_worker`, `private_redis`, ...) come from the workspace's pytest plugin,
canteen_testkit.plugin (tools/testkit); the helpers below are the test kit's, named
here so the suite's modules keep importing them from `conftest`.
"""

from __future__ import annotations

from canteen_testkit.helpers import (
    API,
    assert_error,
    bearer,
    count_rows,
    login_customer,
    login_staff,
    make_staff,
    wait_for_otp,
)
from canteen_testkit.stack import BACKEND, TEST_SECRET, make_settings

__all__ = [
    "API",
    "BACKEND",
    "TEST_SECRET",
    "assert_error",
    "bearer",
    "count_rows",
    "login_customer",
    "login_staff",
    "make_settings",
    "make_staff",
    "wait_for_otp",
]


def pytest_report_header() -> str:
    return f"canteen backend under test: {BACKEND}"
