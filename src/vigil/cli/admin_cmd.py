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
    from vigil.cli.options import open_database
    from vigil.reports.accounts import Accounts

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
    from vigil.cli.options import open_database
    from vigil.reports.accounts import Accounts

    password = _secret("password")
    user_id = Accounts(open_database(db)).create_user(email, org, role, password)
    typer.echo(f"created {role} {email} (id {user_id})")


@app.command("token-create")
def token_create(
    email: str = typer.Argument(...),
    scope: list[str] = typer.Option(
        None, "--scope", help="Repeat for several; default: all the role allows (more is refused)."
    ),
    expires: int = typer.Option(None, "--expires", help="Days until it expires (default: never)."),
    db: str = DB,
) -> None:
    """Create an API token for a user and print it (once: only its hash is stored), then its scopes
    and expiry on standard error (so `TOKEN=$(vigil admin token-create ...)` captures the token alone)."""
    from vigil.cli.options import open_database
    from vigil.reports.accounts import Accounts

    issued = Accounts(open_database(db, create=False)).issue_token(email, scope or None, expires)
    typer.echo(issued.token)
    until = f"{issued.expires_at:%Y-%m-%d %H:%M} UTC" if issued.expires_at else "never"
    typer.echo(f"scopes: {' '.join(issued.scopes)}; expires: {until}", err=True)


@app.command("token-revoke")
def token_revoke(
    given: str = typer.Argument(None, hidden=True, show_default=False),
    db: str = DB,
) -> None:
    """Revoke a token at once. The token is read from standard input (never from the command line,
    where shell history and `ps` would keep it)."""
    from vigil.cli.options import open_database
    from vigil.reports.accounts import Accounts

    if given is not None:  # not echoed: the message must not copy the secret into another log
        raise VigilError(
            "token-revoke reads the token from standard input, not the command line "
            "(e.g. `vigil admin token-revoke < token.txt`); the one given is now in your shell history"
        )
    token = _secret("token")
    Accounts(open_database(db, create=False)).revoke_token(token)
    typer.echo("revoked")


def _secret(what: str) -> str:
    """One line of standard input (a prompt without echo on a terminal)."""
    if sys.stdin.isatty():
        import getpass

        value = getpass.getpass(f"{what}: ")
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise VigilError(f"no {what} on standard input")
    return value
