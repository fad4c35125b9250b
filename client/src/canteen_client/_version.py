"""The SDK's version: the installed distribution's, so it cannot drift from pyproject.toml."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("canteen-client")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0.0.0+unknown"
