"""Canteen's shared test support: one pytest plugin (`canteen_testkit.plugin`, loaded through
the `pytest11` entry point) and the pieces the backend, SDK, app and benchmark harnesses
share: the backend stack (database, Redis, Celery worker), servers, stand-ins for
third-party APIs, a private redis-server, the SSE parser and the test menu.

A development tool of the workspace, not part of the product.
"""
