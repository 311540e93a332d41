"""`vigil audit verify`: check the hash chain of the audit log."""

from __future__ import annotations

import typer

from vigil.cli.options import DB
from vigil.errors import VigilError

app = typer.Typer(help="The audit log of every read and write of a report.", no_args_is_help=True)


@app.command("verify")
def verify(db: str = DB) -> None:
    """Recompute the chain; any changed or deleted row is named and the exit status is 2."""
    from vigil.cli.options import open_database
    from vigil.store.audit import verify as verify_chain

    count, problems, last = verify_chain(open_database(db, create=False))
    if problems:
        raise VigilError(f"audit log broken ({len(problems)} problems): " + "; ".join(problems[:10]))
    typer.echo(f"audit log intact: {count:,} entries; last hash {last}")
