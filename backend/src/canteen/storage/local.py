"""Storage on the local file system, served by the app under `base_url` in development."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path
from urllib.parse import quote

from canteen.storage.base import validate_key


class LocalStorage:
    def __init__(self, root: Path, base_url: str = "/media") -> None:
        # Resolved once so the containment check below compares real paths.
        self.root = Path(root).resolve()
        self.base_url = base_url.rstrip("/")

    def path(self, key: str) -> Path:
        """The file for `key`; raises ValueError if it would fall outside the root."""
        path = self.root.joinpath(*validate_key(key))
        # Catches symlinks inside the root that point elsewhere.
        if not path.resolve().is_relative_to(self.root):
            raise ValueError(f"Storage key escapes the storage root: {key!r}")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        # content_type is not stored: the static file server derives it from the extension.
        path = self.path(key)
        await asyncio.to_thread(_write_atomically, path, data)

    async def delete(self, key: str) -> None:
        path = self.path(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    def url(self, key: str) -> str:
        return f"{self.base_url}/{quote('/'.join(validate_key(key)))}"

    async def exists(self, key: str) -> bool:
        path = self.path(key)
        return await asyncio.to_thread(path.is_file)


def _write_atomically(path: Path, data: bytes) -> None:
    # A temp file in the same directory keeps os.replace a same-file-system rename, so
    # readers see either the old file or the complete new one, never a partial write.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        # mkstemp creates 0600; media must be readable by whatever serves it.
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
