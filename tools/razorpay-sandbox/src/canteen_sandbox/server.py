"""The sandbox in uvicorn on a background thread (tests, scripts, the SDK's harness)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn
from fastapi import FastAPI

from canteen_sandbox.app import create_sandbox_app
from canteen_sandbox.entities import DEFAULT_KEY_ID, DEFAULT_KEY_SECRET, DEFAULT_WEBHOOK_SECRET
from canteen_sandbox.sandbox import RazorpaySandbox


class SandboxServer:
    """The sandbox in uvicorn on 127.0.0.1 (random port by default) in a background thread.

    with SandboxServer(webhook_url=...) as server:
        gateway = RazorpayGateway(server.key_id, server.key_secret, server.webhook_secret,
                                  base_url=server.base_url, checkout_base_url=server.base_url)
    """

    def __init__(
        self,
        *,
        key_id: str = DEFAULT_KEY_ID,
        key_secret: str = DEFAULT_KEY_SECRET,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        webhook_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        **options: Any,
    ) -> None:
        self.key_id = key_id
        self.key_secret = key_secret
        self.webhook_secret = webhook_secret
        self._webhook_url = webhook_url
        self._host = host
        self._port = port
        self._options = options
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self.app: FastAPI | None = None

    @property
    def sandbox(self) -> RazorpaySandbox:
        if self.app is None:
            raise RuntimeError("sandbox server is not running")
        state: RazorpaySandbox = self.app.state.sandbox
        return state

    def start(self) -> Self:
        if self._server is not None:
            return self
        # Bind first, so the URL (and the app's public_url) is known before serving.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        host, port = sock.getsockname()[:2]
        self.base_url = f"http://{host}:{port}"
        self.app = create_sandbox_app(
            key_id=self.key_id,
            key_secret=self.key_secret,
            webhook_secret=self.webhook_secret,
            webhook_url=self._webhook_url,
            public_url=self.base_url,
            **self._options,
        )
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="on",
            loop="asyncio",
            ws="none",  # not needed; avoids loading the websockets stack
            access_log=False,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="razorpay-sandbox", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError("razorpay sandbox failed to start")
            time.sleep(0.01)
        self._socket, self._server, self._thread = sock, server, thread
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._socket = self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
