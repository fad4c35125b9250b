"""Tests of the canteen-client SDK against the real backend.

A package (module names `tests.*`), so its conftest never displaces the backend
suite's top-level `conftest` module when both suites run in one pytest process.
"""
