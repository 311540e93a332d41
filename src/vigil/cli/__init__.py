"""Command-line interface (Typer + Rich): thin, over the same service functions as the API."""
