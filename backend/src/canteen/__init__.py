"""Canteen backend."""

from importlib.metadata import PackageNotFoundError, version

try:
    # The installed distribution's version (backend/pyproject.toml): the one number that
    # `canteen --version`, /healthz and OpenAPI's info.version all report.
    __version__ = version("canteen")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"
