"""Serving the web app (and optionally the engine) in this process."""

from __future__ import annotations

import gc
from pathlib import Path

import typer
import uvicorn

from tocsin import __version__, bootstrap


def run_server(
    c: bootstrap.Container,
    *,
    host: str,
    port: int,
    engine: bool,
    tls: tuple[Path | None, Path | None] = (None, None),
    banner: str = "",
) -> None:
    """Serve until interrupted; the engine thread stops and releases its leases on the way out."""
    scheme = "https" if tls[0] else "http"
    config = uvicorn.Config(
        bootstrap.create_web_app(c),
        host=host,
        port=port,
        ssl_certfile=str(tls[0]) if tls[0] else None,
        ssl_keyfile=str(tls[1]) if tls[1] else None,
        log_level="warning",
        proxy_headers=True,
    )
    server = uvicorn.Server(config)
    if engine:
        c.runner.start()
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104
    typer.echo(
        f"Tocsin {__version__} listening on {scheme}://{shown}:{port}/ (database: {c.db.dialect})"
    )
    if banner:
        typer.echo(banner)
    # Everything built so far (app, templates, metadata) lives for the whole process: keep
    # it out of the collector's full passes, which otherwise pause busy intake for ~100 ms.
    gc.collect()
    gc.freeze()
    try:
        server.run()
    finally:
        c.close()
