"""People commands: create users and API tokens, list users and teams."""

from __future__ import annotations

import sys

import typer

from tocsin.cli.context import CLI_ACTOR, container, handled
from tocsin.cli.output import FORMAT_OPTION, Format, emit
from tocsin.people import actions, repo
from tocsin.people.rules import ROLES

user_app = typer.Typer(help="Create and manage people.", no_args_is_help=True)
token_app = typer.Typer(help="Issue API tokens.", no_args_is_help=True)


@user_app.command("create")
def create_user(
    ctx: typer.Context,
    email: str = typer.Option(..., help="Sign-in email, unique."),
    name: str = typer.Option(..., help="Full name as colleagues know it."),
    role: str = typer.Option("responder", help=f"One of: {', '.join(ROLES)}."),
    time_zone: str = typer.Option("UTC", "--time-zone", help="IANA zone, e.g. Europe/London."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (first line)."
    ),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Create a person (e.g. the first admin). Without a password they cannot sign in yet."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with handled(fmt), container(ctx) as c, c.db.transaction() as tx:
        user = actions.create_user(
            tx,
            email=email,
            name=name,
            role=role,
            time_zone=time_zone,
            password=password,
            actor=CLI_ACTOR,
            now=c.clock.now(),
        )
        emit({"id": str(user.id), "email": user.email, "name": user.name, "role": user.role}, fmt)


@token_app.command("create")
def create_token(
    ctx: typer.Context,
    user: str = typer.Option(..., "--user", help="Email of the token's owner."),
    scope: str = typer.Option("read", help="read (GET only) or write."),
    name: str = typer.Option("cli", help="What the token is for, shown in the token list."),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Issue an API token and print it once; only its hash is stored."""
    with handled(fmt), container(ctx) as c, c.db.transaction() as tx:
        owner = repo.get_user_by_email(tx, user)
        raw, token = actions.create_token(
            tx, user_id=owner.id, name=name, scope=scope, actor=CLI_ACTOR, now=c.clock.now()
        )
        if fmt is Format.json:
            emit(
                {"id": str(token.id), "token": raw, "scope": token.scope, "user": owner.email}, fmt
            )
        else:
            typer.echo(raw)
            typer.echo(
                f"({token.scope} token for {owner.email}; shown once, store it now)", err=True
            )


def list_users(ctx: typer.Context, fmt: Format = FORMAT_OPTION) -> None:
    with handled(fmt), container(ctx) as c, c.db.read() as tx:
        rows = [
            {
                "id": str(u.id),
                "email": u.email,
                "name": u.name,
                "role": u.role,
                "time_zone": u.time_zone,
                "active": u.is_active,
                "teams": sorted(m.team.name for m in u.memberships),
            }
            for u in repo.list_users(tx, limit=10_000)
        ]
    if fmt is Format.text:
        rows = [{**row, "teams": ", ".join(row["teams"])} for row in rows]  # type: ignore[arg-type]
    emit(rows, fmt, columns=["email", "name", "role", "time_zone", "teams"])


def list_teams(ctx: typer.Context, fmt: Format = FORMAT_OPTION) -> None:
    with handled(fmt), container(ctx) as c, c.db.read() as tx:
        rows = [
            {
                "id": str(t.id),
                "name": t.name,
                "description": t.description,
                "members": sorted(m.user.email for m in t.members),
                "managers": sorted(m.user.email for m in t.members if m.is_manager),
            }
            for t in repo.list_teams(tx, limit=10_000)
        ]
    if fmt is Format.text:
        text_rows = [
            {"name": r["name"], "members": len(r["members"]), "managers": ", ".join(r["managers"])}
            for r in rows
        ]
        emit(text_rows, fmt)
    else:
        emit(rows, fmt)
