"""CLI output: a table or key/value lines for people, one JSON document for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import typer


class Format(StrEnum):
    text = "text"
    json = "json"


FORMAT_OPTION = typer.Option(
    Format.text, "--format", "-f", help="text for people, json for scripts."
)


def emit(data: Any, fmt: Format, *, columns: Sequence[str] | None = None) -> None:
    """Print ``data``: JSON (one document, nothing else on stdout) or readable text."""
    if fmt is Format.json:
        sys.stdout.write(json.dumps(data, default=str, indent=2) + "\n")
        return
    if isinstance(data, list):
        _table(data, columns or (list(data[0]) if data else []))
    elif isinstance(data, Mapping):
        width = max((len(k) for k in data), default=0)
        for key, value in data.items():
            typer.echo(f"{key.ljust(width)}  {value}")
    else:
        typer.echo(str(data))


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    if not rows:
        typer.echo("(none)")
        return
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    typer.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in cells:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
