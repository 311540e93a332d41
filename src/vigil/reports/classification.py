"""The common classification schema is data (data/classification.toml): fields, their values, and the
mappings of Vigil's severity onto England & Wales A/B/C, COPINE and VICS. An organisation extends it
with its own TOML file (VIGIL_CLASSIFICATION_EXTRA): new fields or values, none removed."""

from __future__ import annotations

import os
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path

from vigil.errors import VigilError
from vigil.reports.urls import short


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
    base = tomllib.loads(resources.files("vigil.reports").joinpath("data/classification.toml").read_text())
    extra_path = extra_path or os.environ.get("VIGIL_CLASSIFICATION_EXTRA")
    if not extra_path:
        return base
    try:
        return _merge(base, tomllib.loads(Path(extra_path).read_text()))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise VigilError(f"{extra_path}: cannot read the classification extension: {exc}") from None


def check(labels: dict) -> list[dict]:
    """Problems with a classification: [{"field", "message"}]; empty when valid."""
    fields = schema()["fields"]
    problems = []
    if not isinstance(labels, dict) or not labels:
        return [{"field": "/labels", "message": "must be an object of field: value"}]
    for name, spec in fields.items():
        if spec.get("required") and name not in labels:
            problems.append(
                {"field": f"/labels/{name}", "message": f"missing; one of {', '.join(spec['values'])}"}
            )
    for name, value in labels.items():
        where = "/labels/" + str(name)[:100].replace("~", "~0").replace("/", "~1")  # a JSON pointer
        if name not in fields:
            problems.append({"field": where, "message": f"unknown field; known: {', '.join(fields)}"})
        elif value not in fields[name]["values"]:
            problems.append(
                {
                    "field": where,
                    "message": f"must be one of {', '.join(fields[name]['values'])}, got {short(value)}",
                }
            )
        if len(problems) >= 100:
            break
    return problems


def mapped(labels: dict) -> dict:
    """The severity on the other scales (England & Wales, COPINE, VICS), where it maps."""
    severity = labels.get("severity")
    return {
        scale: table[severity] for scale, table in schema().get("mappings", {}).items() if severity in table
    }
