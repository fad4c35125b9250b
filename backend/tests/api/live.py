"""Real servers: uvicorn for the test's app in its own event loop, or API processes.

The test kit's (canteen_testkit.servers), named here for the suite's modules."""

from __future__ import annotations

from canteen_testkit.servers import ApiProcess, api_processes, free_port, serve

__all__ = ["ApiProcess", "api_processes", "free_port", "serve"]
