"""The ``tocsin`` command: a stable, scriptable surface (see DESIGN.md "The CLI")."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType

import typer

from tocsin import __version__, bootstrap
from tocsin.cli import demo as demo_cmd
from tocsin.cli import incidents as incidents_cmd
from tocsin.cli import paging as paging_cmd
from tocsin.cli import people as people_cmd
from tocsin.cli import schedules as schedules_cmd
from tocsin.cli import services as services_cmd
from tocsin.cli.context import Globals, container, globals_of, handled
from tocsin.cli.output import FORMAT_OPTION, Format, emit
from tocsin.cli.server import run_server
from tocsin.db import migrate

app = typer.Typer(
    name="tocsin",
    help="Tocsin: self-hosted incident response. Run `tocsin demo` to try it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema: upgrade and inspect migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(people_cmd.user_app, name="user")
app.add_typer(people_cmd.token_app, name="token")
app.command("users", help="List people.")(people_cmd.list_users)
app.command("teams", help="List teams and their members.")(people_cmd.list_teams)
app.add_typer(services_cmd.service_app, name="service")
app.command("services", help="List services and their integrations.")(services_cmd.list_services)
app.command("schedules", help="List schedules: zones, layers, who is on call, ICS feed.")(
    schedules_cmd.list_schedules
)
app.command("oncall", help="Who is on call now (or --at a time), per schedule.")(
    schedules_cmd.oncall
)
app.command("trigger", help="Open an incident by hand; prints its number.")(incidents_cmd.trigger)
app.command("incidents", help="List incidents, newest first.")(incidents_cmd.list_incidents)
app.command("ack", help="Acknowledge incident N.")(incidents_cmd.ack)
app.command("resolve", help="Resolve incident N.")(incidents_cmd.resolve)
app.command("page", help="Page a person, a schedule's on-call or a team now.")(paging_cmd.page)
app.command("policies", help="List escalation policies, their levels and targets.")(
    paging_cmd.policies
)
app.command("readiness", help="Who or what would keep a page from reaching a person.")(
    paging_cmd.readiness_report
)
app.command("demo")(demo_cmd.demo)


@app.callback()
def root(
    ctx: typer.Context,
    data_dir: Path | None = typer.Option(
        None,
        "--data-dir",
        envvar="TOCSIN_DATA_DIR",
        help="Where the SQLite database, keys and cached roster live (created on first run).",
    ),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        envvar="TOCSIN_DATABASE_URL",
        help="PostgreSQL URL, e.g. postgresql://tocsin@db/tocsin; unset means embedded SQLite.",
    ),
) -> None:
    ctx.obj = Globals(data_dir=data_dir, database_url=database_url)


@app.command()
def version(fmt: Format = FORMAT_OPTION) -> None:
    """Print Tocsin's version."""
    emit({"version": __version__}, fmt) if fmt is Format.json else typer.echo(__version__)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context, fmt: Format = FORMAT_OPTION) -> None:
    """Create or upgrade the schema to the newest revision (safe to run twice)."""
    with handled(fmt), container(ctx, upgrade=True) as c:
        emit({"revision": migrate.current_revision(c.db), "database": c.db.dialect}, fmt)


@db_app.command("current")
def db_current(ctx: typer.Context, fmt: Format = FORMAT_OPTION) -> None:
    """Show the schema revision and whether it is the newest."""
    with handled(fmt), container(ctx, upgrade=False) as c:
        current, head = migrate.current_revision(c.db), migrate.head_revision(c.db)
        emit({"revision": current, "head": head, "up_to_date": current == head}, fmt)


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0 for all)."),
    port: int = typer.Option(8080, min=1, max=65535, help="TCP port."),
    no_engine: bool = typer.Option(
        False, "--no-engine", help="Web only; run `tocsin engine` elsewhere (scaling out)."
    ),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", exists=True, help="PEM certificate."),
    tls_key: Path | None = typer.Option(None, "--tls-key", exists=True, help="PEM private key."),
) -> None:
    """Run the web server, and the engine in the same process unless --no-engine."""
    if (tls_cert is None) != (tls_key is None):
        raise typer.BadParameter("--tls-cert and --tls-key go together.")
    with handled():
        c = bootstrap.build(globals_of(ctx).settings(), upgrade=True)
        run_server(c, host=host, port=port, engine=not no_engine, tls=(tls_cert, tls_key))


@app.command()
def engine(ctx: typer.Context) -> None:
    """Run the engine alone (escalations, delivery, reminders); run two or more for redundancy."""
    with handled():
        c = bootstrap.build(globals_of(ctx).settings(), upgrade=True)

    def _stop(signum: int, frame: FrameType | None) -> None:
        c.runner.stop(timeout=0)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    typer.echo(f"Tocsin engine {c.runner.instance_id} on {c.db.dialect}", err=True)
    try:
        c.runner.run_forever()
    finally:
        c.db.dispose()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
