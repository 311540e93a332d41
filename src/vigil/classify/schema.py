"""The classification schema as data: report classification fields and values, and the mappings of
Vigil's severity onto England & Wales A/B/C, COPINE and VICS (data/classification.toml). An
organisation extends it with its own TOML file: new fields or values, none removed."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from pathlib import Path

from vigil.errors import VigilError

DATA: dict = tomllib.loads(resources.files("vigil.classify").joinpath("data/classification.toml").read_text())


def _merge(base: dict, extra: dict) -> dict:
    fields = {k: dict(v) for k, v in base["fields"].items()}
    for name, spec in extra.get("fields", {}).items():
        if name in fields:
            fields[name]["values"] = list(dict.fromkeys([*fields[name]["values"], *spec.get("values", [])]))
        else:
            fields[name] = dict(spec)
    return {**base, "fields": fields}


@cache
def schema(extra_path: str | None = None) -> dict:
    """The report classification schema: {"version", "fields", "mappings"}, extended by `extra_path`."""
    base = {k: DATA[k] for k in ("version", "fields", "mappings")}
    if not extra_path:
        return base
    try:
        return _merge(base, tomllib.loads(Path(extra_path).read_text()))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise VigilError(f"{extra_path}: cannot read the classification extension: {exc}") from None


def mapped(labels: dict, extra_path: str | None = None) -> dict:
    """The severity on the other scales (England & Wales, COPINE, VICS), where it maps."""
    severity = labels.get("severity")
    return {
        scale: table[severity]
        for scale, table in schema(extra_path).get("mappings", {}).items()
        if severity in table
    }
