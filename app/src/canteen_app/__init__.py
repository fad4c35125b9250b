"""Canteen consumer app (Flet)."""
