"""Canteen consumer app (Flet): order from the campus canteen and track it live."""

__version__ = "0.2.0"
