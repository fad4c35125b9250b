"""Where the session's tokens live: a pluggable `TokenStore`.

`MemoryTokenStore` (the default) forgets on exit; `FileTokenStore` keeps them in a JSON
file readable by the owner only, written atomically (a crash never leaves half a file).
Anything with the same three async methods works (a keyring, the OS secure storage).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Tokens:
    """An access/refresh pair. `expires_at`/`refresh_expires_at` are wall-clock epoch
    seconds computed on receipt (informational: the server's answer decides)."""

    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_at: float | None = None
    refresh_expires_at: float | None = None
    user: dict[str, Any] | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tokens:
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            token_type=str(data.get("token_type") or "bearer"),
            expires_at=_float_or_none(data.get("expires_at")),
            refresh_expires_at=_float_or_none(data.get("refresh_expires_at")),
            user=data.get("user") if isinstance(data.get("user"), dict) else None,
        )

    def __repr__(self) -> str:  # never print the secrets
        return f"Tokens(access_token='…', refresh_token='…', expires_at={self.expires_at!r})"


def _float_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


@runtime_checkable
class TokenStore(Protocol):
    async def load(self) -> Tokens | None: ...

    async def save(self, tokens: Tokens) -> None: ...

    async def clear(self) -> None: ...


class MemoryTokenStore:
    """Tokens in memory only (tests, scripts, short-lived processes)."""

    def __init__(self, tokens: Tokens | None = None) -> None:
        self.tokens = tokens

    async def load(self) -> Tokens | None:
        return self.tokens

    async def save(self, tokens: Tokens) -> None:
        self.tokens = tokens

    async def clear(self) -> None:
        self.tokens = None


class FileTokenStore:
    """Tokens in a JSON file with 0600 permissions, replaced atomically on every save.

    The file is written to a temporary file in the same directory (created 0600), flushed
    to disk, then renamed over the old one, so a reader sees the old or the new pair,
    never a torn write. A missing or unreadable file means "signed out".
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    async def load(self) -> Tokens | None:
        return await asyncio.to_thread(self._load)

    async def save(self, tokens: Tokens) -> None:
        await asyncio.to_thread(self._save, tokens)

    async def clear(self) -> None:
        await asyncio.to_thread(self._clear)

    def _load(self) -> Tokens | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return Tokens.from_json(data)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _save(self, tokens: Tokens) -> None:
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        # mkstemp creates the file with mode 0600 (owner only) from the start.
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(tokens.to_json(), handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):  # make the rename durable (POSIX)
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def _clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
