"""The storage interface the rest of the backend sees."""

from __future__ import annotations

from typing import Protocol


class Storage(Protocol):
    """A flat key → bytes store whose objects are publicly readable by URL.

    Keys are relative POSIX paths such as ``menu/<item>/<hash>-display.webp``.
    """

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""
        ...

    def url(self, key: str) -> str:
        """Public URL for the object (no I/O)."""
        ...

    async def exists(self, key: str) -> bool: ...


def validate_key(key: str) -> tuple[str, ...]:
    """Return the key's path segments, or raise ValueError for keys that could escape.

    Both backends apply the same rule so a key that works in development also works
    in production, and vice versa.
    """
    if not key:
        raise ValueError("Storage key must not be empty")
    if key.startswith("/") or "\\" in key or (len(key) > 1 and key[1] == ":"):
        raise ValueError(f"Storage key must be a relative POSIX path: {key!r}")
    if "\x00" in key:
        raise ValueError("Storage key must not contain NUL bytes")
    parts = tuple(key.split("/"))
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"Storage key must not contain empty, '.' or '..' segments: {key!r}")
    return parts
