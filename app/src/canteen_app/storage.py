"""Where the app keeps things on the device: a small key-value interface.

- `FileStore`: one JSON file per key under a data directory (web and desktop mode),
  written atomically (temporary file, fsync, rename) so a crash never leaves half a cart.
- `ClientStorage`: Flet's client storage (`SharedPreferences`: the platform's preferences
  on Android/iOS, `localStorage` in a browser), where the app runs on the device itself.
- `MemoryStore`: tests.

`StoreTokenStore` adapts any of them to the SDK's `TokenStore`, for platforms where the
tokens cannot live in a file of ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from canteen_client import Tokens

_KEY = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


def _check_key(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError(f"bad storage key {key!r}")
    return key


@runtime_checkable
class KeyValueStore(Protocol):
    """JSON values by key. A missing or unreadable value reads as None."""

    async def get(self, key: str) -> Any | None: ...

    async def set(self, key: str, value: Any) -> None: ...

    async def remove(self, key: str) -> None: ...


class MemoryStore:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def get(self, key: str) -> Any | None:
        raw = self.values.get(_check_key(key))
        return None if raw is None else json.loads(raw)

    async def set(self, key: str, value: Any) -> None:
        self.values[_check_key(key)] = json.dumps(value)

    async def remove(self, key: str) -> None:
        self.values.pop(_check_key(key), None)


class FileStore:
    """`{directory}/{key}.json`, owner-only, replaced atomically on every write."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        return self.directory / f"{_check_key(key)}.json"

    async def get(self, key: str) -> Any | None:
        return await asyncio.to_thread(self._read, self.path(key))

    async def set(self, key: str, value: Any) -> None:
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        await asyncio.to_thread(self._write, self.path(key), data)

    async def remove(self, key: str) -> None:
        path = self.path(key)
        await asyncio.to_thread(_unlink, path)

    @staticmethod
    def _read(path: Path) -> Any | None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _write(self, path: Path, data: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            _unlink(Path(tmp))
            raise


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


class PreferencesLike(Protocol):
    """The part of `flet.SharedPreferences` the app uses."""

    async def get(self, key: str) -> Any: ...

    async def set(self, key: str, value: Any) -> bool: ...

    async def remove(self, key: str) -> bool: ...


class ClientStorage:
    """Values as JSON strings in Flet's client storage, under `canteen.<key>`."""

    def __init__(self, prefs: PreferencesLike, prefix: str = "canteen.") -> None:
        self.prefs = prefs
        self.prefix = prefix

    async def get(self, key: str) -> Any | None:
        raw = await self.prefs.get(self.prefix + _check_key(key))
        if not isinstance(raw, str):
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    async def set(self, key: str, value: Any) -> None:
        await self.prefs.set(self.prefix + _check_key(key), json.dumps(value))

    async def remove(self, key: str) -> None:
        await self.prefs.remove(self.prefix + _check_key(key))


class StoreTokenStore:
    """The SDK's `TokenStore` on top of a `KeyValueStore` (one key)."""

    def __init__(self, store: KeyValueStore, key: str = "session") -> None:
        self.store = store
        self.key = key

    async def load(self) -> Tokens | None:
        data = await self.store.get(self.key)
        if not isinstance(data, dict):
            return None
        try:
            return Tokens.from_json(data)
        except (KeyError, TypeError, ValueError):
            return None

    async def save(self, tokens: Tokens) -> None:
        await self.store.set(self.key, tokens.to_json())

    async def clear(self) -> None:
        await self.store.remove(self.key)
