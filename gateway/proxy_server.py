"""Entry point: `python -m gateway.proxy_server [--host H] [--port P] [--data-dir DIR]`.

This module wires the routes, the error handlers and the runtime together and
contains no business logic of its own.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from gateway import __version__, passthrough
from gateway.admin_api import router as admin_router
from gateway.admin_auth import AdminGuard
from gateway.dataplane import router as data_router
from gateway.http_errors import install_error_handlers
from gateway.playground import router as playground_router
from gateway.runtime import Runtime
from gateway.settings import Settings, SettingsError, load_settings

logger = logging.getLogger("gateway")


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.open(settings)
        app.state.runtime = runtime
        logger.info(
            "ready on http://%s:%d (OpenAI API at /v1, admin API at /admin); "
            "data folder %s; workbench %s",
            settings.host,
            settings.port,
            settings.data_dir.resolve(),
            settings.workbench_url,
        )
        try:
            yield
        finally:
            await passthrough.close_client()
            runtime.close()

    app = FastAPI(
        title="AI Gateway",
        version=__version__,
        summary="OpenAI-compatible data plane and admin API",
        lifespan=lifespan,
    )
    app.add_middleware(AdminGuard, max_body_bytes=settings.max_body_bytes)
    install_error_handlers(app)
    app.include_router(data_router)
    app.include_router(admin_router)
    app.include_router(playground_router)
    return app


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def main(argv: list[str] | None = None) -> int:
    # Everything the service writes (database, WAL, exports, secrets) is for
    # its owner only.
    os.umask(0o077)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # litellm logs two INFO lines per call; the gateway logs its own line per request.
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        settings = load_settings(argv)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        sock = bind_socket(settings.host, settings.port)
    except OSError as exc:
        print(
            f"error: cannot listen on {settings.host}:{settings.port} "
            f"({exc.strerror}); "
            "pass another --port or stop the process that uses it",
            file=sys.stderr,
        )
        return 2
    port = sock.getsockname()[1]
    settings = settings.model_copy(update={"port": port})
    config = uvicorn.Config(
        create_app(settings),
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
