"""Canteen API client SDK."""
