"""The `vigil` command. Heavy modules (numpy, Pillow, SQLAlchemy) are imported inside commands so
`vigil hash` on a few files starts fast."""

from __future__ import annotations

import os
import sys

import typer

try:  # Typer >= 0.17 vendors Click under typer._click; older Typer uses Click itself
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - depends on the installed Typer
    from click import exceptions as click_exceptions

from vigil.cli import (
    admin_cmd,
    audit_cmd,
    case_cmd,
    exchange_cmd,
    hash_cmd,
    hashset_cmd,
    match_cmd,
    notice_cmd,
    scan_cmd,
    serve_cmd,
)
from vigil.cli.options import settings
from vigil.errors import VigilError
from vigil.safetext import visible
from vigil.settings import prepare_process

app = typer.Typer(
    name="vigil",
    help="Find known material by hash: hash evidence, import hash lists, scan and match; serve reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("hash")(hash_cmd.hash_files)
app.command("scan")(scan_cmd.scan)
app.command("match")(match_cmd.match)
app.add_typer(hashset_cmd.app, name="hashset")
app.add_typer(case_cmd.app, name="case")
app.command("serve")(serve_cmd.serve)
app.add_typer(admin_cmd.app, name="admin")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(exchange_cmd.app, name="exchange")
app.add_typer(notice_cmd.app, name="notices")


def fail(message: str) -> None:
    """One `error:` line on stderr, exit status 2: the contract scripts rely on. Messages quote hostile
    input (file names, set names, hash lines): whitespace runs become one space, every other control
    character is shown escaped, so an error can neither forge lines nor drive the terminal."""
    sys.stderr.write(f"error: {visible(' '.join(message.split()), backslash=False)}\n")
    sys.exit(2)


def _version(value: bool) -> None:
    if value:
        from vigil import __version__

        typer.echo(f"vigil {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Find known material by hash: hash evidence, import hash lists, scan and match; serve reports."""


def run(argv: list[str] | None = None) -> None:
    debug = bool(os.environ.get("VIGIL_DEBUG"))  # a bug shows its traceback (the CLI's own switch)
    try:
        prepare_process(settings())
        code = app(args=argv, standalone_mode=False)
    except click_exceptions.UsageError as exc:
        fail(exc.format_message())
    except click_exceptions.ClickException as exc:
        fail(exc.format_message())
    except typer.Abort:
        fail("interrupted")
    except KeyboardInterrupt:
        fail("interrupted")
    except BrokenPipeError:  # `vigil scan … | head`: the reader has what it wanted; nothing to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the final flush at exit does not fail again
        sys.exit(0)
    except VigilError as exc:
        fail(str(exc))
    except Exception as exc:  # a bug: still one line, not a traceback (VIGIL_DEBUG=1 shows it)
        if debug:
            raise
        text = visible(str(exc), backslash=False)
        sys.stderr.write(f"error: internal error ({type(exc).__name__}: {text}); please report it\n")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    run()
