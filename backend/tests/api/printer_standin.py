"""A network thermal printer's stand-in: a TCP server on 127.0.0.1 that records the bytes
of every connection (what a printer on port 9100 would have printed)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time


class PrinterStandIn:
    """Runs in a thread, so a Celery worker process can print to it as well as the test's
    own event loop."""

    def __init__(self, port: int = 0) -> None:
        # A given port: the same printer coming back after it was down.
        self._server = socket.create_server(("127.0.0.1", port))
        self.port: int = self._server.getsockname()[1]
        self.tickets: list[bytes] = []  # one per connection, in arrival order
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            if self._closed:
                conn.close()
                return
            with conn:
                conn.settimeout(5)
                data = b""
                while chunk := conn.recv(65536):
                    data += chunk
            with self._lock:
                self.tickets.append(data)

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while len(self.tickets) < count:
            assert time.monotonic() < deadline, f"{len(self.tickets)} tickets, wanted {count}"
            await asyncio.sleep(0.05)
        return list(self.tickets)

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):  # wake the accept() so the thread ends
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        self._thread.join(5)
        self._server.close()
