"""What every command shares: settings from the global options, error handling, exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.exc import OperationalError

from tocsin import bootstrap
from tocsin.cli.output import Format
from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import TocsinError
from tocsin.settings import Settings

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3

CLI_ACTOR = Actor.system(name="cli", via="cli")


@dataclass
class Globals:
    data_dir: Path | None = None
    database_url: str | None = None

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = dict(overrides)
        if self.data_dir is not None:
            values["data_dir"] = self.data_dir
        if self.database_url is not None:
            values["database_url"] = self.database_url
        return Settings(**values)


def globals_of(ctx: typer.Context) -> Globals:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Globals) else Globals()


@contextmanager
def handled(fmt: Format = Format.text) -> Iterator[None]:
    """Map errors to the CLI contract: 1 refused, 3 database unreachable; message on stderr."""
    try:
        yield
    except TocsinError as exc:
        _fail(
            fmt,
            exc.code,
            exc.message,
            [{"field": f.field, "message": f.message} for f in exc.fields],
        )
        raise typer.Exit(EXIT_REFUSED) from None
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        _fail(fmt, "database.unreachable", f"Cannot reach the database: {reason}", [])
        raise typer.Exit(EXIT_UNREACHABLE) from None


def _fail(fmt: Format, code: str, message: str, fields: list[dict[str, str]]) -> None:
    if fmt is Format.json:
        body = {"error": {"code": code, "message": message, "fields": fields}}
        sys.stdout.write(json.dumps(body) + "\n")
    typer.echo(f"error: {message}", err=True)
    for f in fields:
        typer.echo(f"  {f['field']}: {f['message']}", err=True)


@contextmanager
def container(
    ctx: typer.Context, *, upgrade: bool = True, **overrides: Any
) -> Iterator[bootstrap.Container]:
    """A container for one command; migrations run first so a fresh data directory just works."""
    c = bootstrap.build(globals_of(ctx).settings(**overrides), upgrade=upgrade)
    try:
        yield c
    finally:
        c.close()
