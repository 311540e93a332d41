"""`vigil admin org-create | user-create | token-create | token-revoke`: accounts for `vigil serve`."""

from __future__ import annotations

import sys

import typer

from vigil.cli.options import DB
from vigil.errors import VigilError

app = typer.Typer(help="Organisations, users and API tokens of the report service.", no_args_is_help=True)


@app.command("org-create")
def org_create(
    name: str = typer.Argument(...),
    sector: str = typer.Option(..., "--sector", help="hotline, law_enforcement, industry or ngo."),
    country: str = typer.Option(..., "--country", help="ISO 3166 two-letter code, e.g. NL."),
    db: str = DB,
) -> None:
    """Create an organisation."""
    from vigil.reports.accounts import Accounts
    from vigil.store import open_database

    org_id = Accounts(open_database(db)).create_org(name, sector, country.upper())
    typer.echo(f"created organisation {name!r} (id {org_id})")


@app.command("user-create")
def user_create(
    email: str = typer.Argument(...),
    org: str = typer.Option(..., "--org", help="Organisation name."),
    role: str = typer.Option(..., "--role", help="analyst, supervisor or admin."),
    db: str = DB,
) -> None:
    """Create a user; the password is read from standard input (at least 12 characters)."""
    from vigil.reports.accounts import Accounts
    from vigil.store import open_database

    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("password: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise VigilError("no password on standard input")
    user_id = Accounts(open_database(db)).create_user(email, org, role, password)
    typer.echo(f"created {role} {email} (id {user_id})")


@app.command("token-create")
def token_create(
    email: str = typer.Argument(...),
    scope: list[str] = typer.Option(
        None, "--scope", help="Repeat for several; default: all the role allows."
    ),
    expires: int = typer.Option(None, "--expires", help="Days until it expires (default: never)."),
    db: str = DB,
) -> None:
    """Create an API token for a user and print it (once: only its hash is stored)."""
    from vigil.reports.accounts import Accounts
    from vigil.store import open_database

    typer.echo(Accounts(open_database(db)).create_token(email, scope or None, expires))


@app.command("token-revoke")
def token_revoke(token: str = typer.Argument(...), db: str = DB) -> None:
    """Revoke a token at once."""
    from vigil.reports.accounts import Accounts
    from vigil.store import open_database

    Accounts(open_database(db)).revoke_token(token)
    typer.echo("revoked")
